//go:build race

package server_test

// accessModelSteps is TestAccessModel's step count per store. The race
// detector makes the embedded SQLite several times slower, so fewer steps
// keep the test near a minute per store in CI.
const accessModelSteps = 200
