// Package testdb gives tests a fresh, migrated store of each backend: a
// throwaway PostgreSQL schema (from DAVENPORT_TEST_DATABASE_URL) and a
// temporary embedded database. Both are removed when the test ends.
//
// Imports: store, store/postgres and store/sqlite. Only tests import it.
package testdb
