#!/usr/bin/env bash
# Davenport's test command (the README's, and what .ci/run calls):
#
#   scripts/test.sh
#
# 1. PostgreSQL: uses DAVENPORT_TEST_DATABASE_URL when set, else starts a
#    throwaway cluster with scripts/pg.sh and removes it on exit. The store
#    tests give every test its own schema in that database.
# 2. gofmt (any unformatted file fails), go vet, and the Go tests with the
#    race detector in shuffled order. DAVENPORT_REQUIRE_DB=1 makes a missing
#    database a failure: PostgreSQL tests never skip here.
# 3. Interop checks against real clients (hook below).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi

step() { printf '==> %s\n' "$*" >&2; }

pgdir=
cleanup() {
	if [[ -n "$pgdir" ]]; then
		step "stopping PostgreSQL"
		scripts/pg.sh stop "$pgdir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "${DAVENPORT_TEST_DATABASE_URL:-}" ]]; then
	step "starting a throwaway PostgreSQL cluster"
	pgdir=$(mktemp -d "${TMPDIR:-/tmp}/davenport-pg.XXXXXX")
	DAVENPORT_TEST_DATABASE_URL=$(scripts/pg.sh start "$pgdir")
	export DAVENPORT_TEST_DATABASE_URL
	step "PostgreSQL at $DAVENPORT_TEST_DATABASE_URL"
fi
export DAVENPORT_REQUIRE_DB=1

step "gofmt"
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
	echo "gofmt: these files need formatting (run gofmt -w):" >&2
	echo "$unformatted" >&2
	exit 1
fi

step "go vet"
go vet ./...

step "go test"
go test -race -shuffle=on -count=1 ./...

# --- interop checks ---------------------------------------------------------
# HOOK: checks against real peers (python3-caldav, litmus; DESIGN.md
# "Testing") go here, as executable scripts/interop/*.sh run in name order.
# Each gets DAVENPORT_TEST_DATABASE_URL in its environment and fails the run
# with a non-zero exit.
for check in scripts/interop/*.sh; do
	[[ -e "$check" ]] || continue
	step "interop: $check"
	"$check"
done

step "all checks passed"
