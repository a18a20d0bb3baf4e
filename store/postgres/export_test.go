package postgres

// The query builders, for the plan tests of package postgres_test.
var (
	ListQuery       = listQuery
	ChangesQuery    = changesQuery
	GetObjectsQuery = getObjectsQuery
)
