// Package storetest is the behavioural suite of the store.Store contract
// (package store). Every backend runs it from its own tests:
//
//	func TestStore(t *testing.T) { storetest.Run(t, testdb.Postgres) }
//
// Each subtest gets a fresh store from newStore, so tests can count users or
// prune tombstones without seeing each other. The suite checks behaviour only
// through the Store interface; it never looks at a backend's tables.
//
// Imports: store only: the suite sees a backend through the store.Store interface alone. Test code
// of the backends imports it, never production code.
package storetest
