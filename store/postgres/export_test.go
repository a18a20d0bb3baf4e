package postgres

import "context"

// The query builders, for the plan tests of package postgres_test.
var (
	ListQuery       = listQuery
	ChangesQuery    = changesQuery
	GetObjectsQuery = getObjectsQuery
	SearchQuery     = searchQuery
)

// BackendPID is the server process of one of the store's connections; with
// pool_max_conns=1 in the URL, of the only one.
func BackendPID(s *Store) (int, error) {
	var pid int
	err := s.pool.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid)
	return pid, err
}

// ListenerName is the application_name of WatchCredentials' connection.
var ListenerName = listenerName
