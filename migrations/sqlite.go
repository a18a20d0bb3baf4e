package migrations

import "embed"

// SQLite holds the embedded store's migrations under the directory "sqlite".
// Each logical change lands in both dialects, but the numbers diverge where
// one dialect needs a step the other does not (SQLite's R*Tree span index,
// 000008, has no PostgreSQL file), so a change has a number of its own in each
// directory: match them by name, not by number. Times are INTEGER
// unix microseconds in UTC, the precision of a timestamptz, so a copy between
// the two stores loses nothing.
//
//go:embed sqlite/*.sql
var SQLite embed.FS
