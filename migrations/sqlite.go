package migrations

import "embed"

// SQLite holds the embedded store's migrations under the directory "sqlite",
// numbered and named like their PostgreSQL counterparts. Times are INTEGER
// unix microseconds in UTC, the precision of a timestamptz, so a copy between
// the two stores loses nothing.
//
//go:embed sqlite/*.sql
var SQLite embed.FS
