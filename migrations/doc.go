// Package migrations embeds Davenport's database schema as golang-migrate
// numbered files, one directory per dialect (postgres/, sqlite/), side by
// side so each logical change lands in both (with its own number in each:
// the sequences have diverged). Released files are never
// edited; a change is a new pair of up/down files.
//
// Imports: embed only; store/postgres and store/sqlite read the files.
package migrations
