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
# 3. The web UI's browser tests drive Debian's chromium; when it is missing
#    and we are root, it is installed with apt-get (as PostgreSQL is), and
#    DAVENPORT_REQUIRE_BROWSER=1 makes a missing browser a failure. They
#    check every page with axe-core, which scripts/axe.sh fetches from npm.
#    The LDAP tests start Debian's slapd, installed the same way, and
#    DAVENPORT_REQUIRE_SLAPD=1 makes a missing slapd a failure.
# 4. Interop checks against real clients (hook below).
# 5. One closing line, "N passed, M failed", counting every Go test and
#    subtest (scripts/testsum reads go test -json) and every interop step.
#    A gofmt or vet failure stops the run at once; a failing test does not:
#    the interop checks still run, and the exit status is 1.
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

# need PACKAGE TESTS PROGRAM...: installs the Debian package with apt-get
# when none of the programs is found and we are root. A failed install (a
# mirror down) must not end the run before any test: those tests then fail,
# naming what is missing.
need() {
	local pkg=$1 tests=$2 p
	shift 2
	for p in "$@"; do
		if command -v "$p" >/dev/null 2>&1 || [[ -x $p ]]; then
			return 0
		fi
	done
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		step "installing $pkg for the $tests tests"
		export DEBIAN_FRONTEND=noninteractive
		{ apt-get update >&2 && apt-get install -y --no-install-recommends "$pkg" >&2; } ||
			echo "test.sh: apt-get could not install $pkg; the $tests tests will fail" >&2
	else
		echo "test.sh: no $pkg and cannot install it (not root); the $tests tests will fail" >&2
	fi
}
need chromium browser chromium chromium-browser
export DAVENPORT_REQUIRE_BROWSER=1
# The LDAP tests start their own slapd (internal/slapdtest: a private
# configuration and database on a loopback port, nothing system-wide).
# Installing the package also configures and starts a system slapd, which
# the tests never use.
need slapd LDAP slapd /usr/sbin/slapd
export DAVENPORT_REQUIRE_SLAPD=1
# The browser tests check every page with axe-core, fetched from npm (never
# committed). A failure here is not fatal yet: the browser test then fails
# loudly, naming the cause, as DAVENPORT_REQUIRE_BROWSER=1 asks.
if axe=$(scripts/axe.sh); then
	export DAVENPORT_AXE=$axe
fi

passed=0
failed=0
# finish stops PostgreSQL first, so that the count is the run's last line.
finish() {
	cleanup
	pgdir=
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]]
}

step "gofmt"
# The repository's Go files, as `make lint` checks them: not those under
# ignored directories (.tmp/, data/, a module cache kept in the tree). A file
# gofmt cannot parse fails here too, with the count line, not by set -e.
# Outside a git checkout (an unpacked archive), every Go file.
go_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -co --exclude-standard -z '*.go'
	else
		find . -name '*.go' -print0
	fi
}
if ! unformatted=$(go_files | xargs -0 -r gofmt -l) || [[ -n "$unformatted" ]]; then
	echo "gofmt: these files need formatting (run gofmt -w):" >&2
	echo "$unformatted" >&2
	failed=1
	finish || exit 1
fi

step "go vet"
if ! go vet ./...; then
	failed=1
	finish || exit 1
fi

step "go test"
counts=$(mktemp "${TMPDIR:-/tmp}/davenport-counts.XXXXXX")
go build -o "$counts.testsum" ./scripts/testsum
go test -json -race -shuffle=on -count=1 -timeout 30m ./... 2>&1 | "$counts.testsum" -counts "$counts" || true
read -r p f _ <"$counts" || { p=0; f=1; }
rm -f "$counts" "$counts.testsum"
passed=$((passed + p))
failed=$((failed + f))

# --- interop checks ---------------------------------------------------------
# HOOK: checks against real peers (python3-caldav, litmus; DESIGN.md
# "Testing") go here, as executable scripts/interop/*.sh run in name order.
# Each gets DAVENPORT_TEST_DATABASE_URL in its environment and fails the run
# with a non-zero exit. Each line it prints that starts with "ok    " counts
# as a passed step and each "FAIL  " line as a failed one; a check that
# exits non-zero without a "FAIL  " line counts as one failure. Their shared
# start-up (build, serve on each store, cleanup) is scripts/interop/lib/
# common.bash, which they source: only *.sh in scripts/interop/ run here.
for check in scripts/interop/*.sh; do
	[[ -e "$check" ]] || continue
	step "interop: $check"
	log=$(mktemp "${TMPDIR:-/tmp}/davenport-interop-log.XXXXXX")
	set +e
	"$check" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	p=$(grep -c '^ok    ' "$log" || true)
	f=$(grep -c '^FAIL  ' "$log" || true)
	rm -f "$log"
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done

if [[ $failed -eq 0 ]]; then
	step "all checks passed"
fi
finish
