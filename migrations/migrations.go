// Package migrations embeds Davenport's database schema as golang-migrate
// numbered files, one directory per dialect (postgres/, sqlite/), side by
// side so each logical change lands in both. Released files are never
// edited; a change is a new pair of up/down files.
package migrations

import "embed"

// Postgres holds the PostgreSQL migrations under the directory "postgres".
//
//go:embed postgres/*.sql
var Postgres embed.FS
