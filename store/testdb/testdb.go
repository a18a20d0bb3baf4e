package testdb

import (
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// Backend names a store implementation and how to make a fresh one.
type Backend struct {
	Name string
	New  func(t testing.TB) store.Store
}

// Backends lists every store implementation, PostgreSQL first.
func Backends() []Backend {
	return []Backend{
		{Name: "postgres", New: Postgres},
		{Name: "sqlite", New: SQLite},
	}
}

// Each runs f as a subtest once per backend, each with a fresh store.
func Each(t *testing.T, f func(t *testing.T, s store.Store)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f(t, b.New(t))
		})
	}
}

// EachBench runs f as a sub-benchmark once per backend, each with a fresh
// store, as Each does tests.
func EachBench(b *testing.B, f func(b *testing.B, s store.Store)) {
	b.Helper()
	for _, be := range Backends() {
		b.Run(be.Name, func(b *testing.B) {
			f(b, be.New(b))
		})
	}
}
