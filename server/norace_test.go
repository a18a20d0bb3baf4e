//go:build !race

package server_test

// accessModelSteps is TestAccessModel's step count per store.
const accessModelSteps = 1000
