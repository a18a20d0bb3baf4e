#!/usr/bin/env bash
# The standard WebDAV test suite, litmus (Debian package litmus), against
# the files home (/dav/files/{user}/, README "Plain WebDAV folders"): build
# davenport, serve it on 127.0.0.1 on a throwaway embedded store, make a
# user, and run the suites basic, copymove, props and locks under
# /dav/files/litmus-user/ (litmus works in a litmus/ folder of its own
# there) — then the same on PostgreSQL when DAVENPORT_TEST_DATABASE_URL is
# set (scripts/test.sh sets it), on a schema of its own that is dropped
# afterwards.
#
#   scripts/interop/20-litmus.sh
#
# Prints one line per suite and store, counted by scripts/test.sh:
#   ok    litmus basic sqlite (16 passed)
#   FAIL  litmus locks postgres (…)
# A suite passes when no test failed and none was skipped; warnings are
# shown on the line. Installs litmus with apt-get when it is missing and we
# are root. Needs nothing else but Go and bash.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi
say() { printf 'litmus interop: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

suites=(basic copymove props locks)

if ! command -v litmus >/dev/null 2>&1; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		say "installing litmus with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq litmus >&2
	fi
	command -v litmus >/dev/null 2>&1 || die "litmus is not installed (apt-get install litmus)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/davenport-litmus.XXXXXX")
pid=
schema=
cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [[ -n "$schema" ]]; then
		go run ./scripts/interop/pgexec "$DAVENPORT_TEST_DATABASE_URL" "DROP SCHEMA IF EXISTS $schema CASCADE" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building davenport"
CGO_ENABLED=0 go build -o "$work/davenport" ./cmd/davenport

failures=0
user=litmus-user
password="litmus-$RANDOM-$RANDOM-$RANDOM"

# healthy PORT: /healthz answers 200 (bash's /dev/tcp; no curl needed).
healthy() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	read -r line <&3 || true
	exec 3<&- 3>&-
	[[ "$line" == *" 200 "* ]]
}

# run_against DATABASE LABEL: make the user, start the server on a free
# port, run each suite, stop the server.
run_against() {
	local database=$1 label=$2 port= url
	local log="$work/server-$label.log"
	printf '%s\n' "$password" | "$work/davenport" user add "$user" --password-stdin --database "$database" >/dev/null ||
		die "could not add the user ($label)"
	"$work/davenport" serve --listen 127.0.0.1:0 --database "$database" --log-level info >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 1 200); do
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$log" >&2
			die "davenport ($label) exited during start-up"
		fi
		port=$(sed -n 's/.*msg="davenport listening" addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
		if [[ -n "$port" ]] && healthy "$port" 2>/dev/null; then
			break
		fi
		port=
		sleep 0.1
	done
	[[ -n "$port" ]] || { cat "$log" >&2; die "davenport ($label) did not become healthy"; }
	url="http://127.0.0.1:$port/dav/files/$user/"
	for suite in "${suites[@]}"; do
		local out="$work/$suite-$label.out" rc=0
		say "running litmus $suite against $url ($label store)"
		(cd "$work" && TESTS=$suite litmus "$url" "$user" "$password") >"$out" 2>&1 || rc=$?
		cat "$out" >&2
		report "$suite" "$label" "$out" "$rc"
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
}

# report SUITE STORE OUTPUT RC prints the suite's ok or FAIL line from
# litmus's summary ("of 16 tests run: 16 passed, 0 failed. 100.0%") and
# its count of skipped tests and warnings.
report() {
	local suite=$1 label=$2 out=$3 rc=$4 summary passed failed skipped warnings note
	summary=$(grep -a "summary for \`$suite'" "$out" | tail -n1 || true)
	passed=$(sed -n 's/.* \([0-9]*\) passed.*/\1/p' <<<"$summary")
	failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$summary")
	skipped=$(grep -a -o '[0-9]* tests\{0,1\} w[ae][sr]e\{0,1\} skipped' "$out" | grep -o '^[0-9]*' | tail -n1 || true)
	warnings=$(grep -a -o '[0-9]* warnings\{0,1\} w[ae][sr]e\{0,1\} issued' "$out" | grep -o '^[0-9]*' | tail -n1 || true)
	note="${passed:-0} passed, ${failed:-?} failed"
	[[ -n "$skipped" ]] && note+=", $skipped skipped"
	[[ -n "$warnings" ]] && note+=", $warnings warning(s): $(grep -a 'WARNING:' "$out" | sed 's/.*WARNING: //' | sort -u | paste -sd ';' -)"
	if [[ -n "$summary" && "$failed" == 0 && -z "$skipped" && "$rc" -eq 0 ]]; then
		printf 'ok    litmus %s %s (%s)\n' "$suite" "$label" "$note"
	else
		printf 'FAIL  litmus %s %s (%s)\n' "$suite" "$label" "$note"
		failures=$((failures + 1))
	fi
}

run_against "sqlite:$work/davenport.db" sqlite

if [[ -n "${DAVENPORT_TEST_DATABASE_URL:-}" ]]; then
	schema="davenport_litmus_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	go run ./scripts/interop/pgexec "$DAVENPORT_TEST_DATABASE_URL" "CREATE SCHEMA $schema"
	sep='?'
	[[ "$DAVENPORT_TEST_DATABASE_URL" == *\?* ]] && sep='&'
	run_against "${DAVENPORT_TEST_DATABASE_URL}${sep}search_path=$schema" postgres
fi

[[ $failures -eq 0 ]] || die "$failures suite run(s) failed"
