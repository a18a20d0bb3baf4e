//go:build race

package server_test

// accessModelSteps is TestAccessModel's step count per store: as many as
// without the race detector (issue 15 asks for thousands of steps in CI);
// about 2.5 minutes on PostgreSQL and 6 on the embedded store under -race.
const accessModelSteps = 1000
