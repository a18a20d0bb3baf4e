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
# are root. Needs nothing else but Go and bash; the start-up is
# scripts/interop/lib/common.bash's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
interop_init litmus

suites=(basic copymove props locks)

have_litmus() { command -v litmus >/dev/null 2>&1; }
require have_litmus litmus
build_davenport

failures=0
user=litmus-user
password="litmus-$RANDOM-$RANDOM-$RANDOM"

# run_against DATABASE LABEL: make the user, start the server, run each
# suite, stop the server.
run_against() {
	local database=$1 label=$2 dav
	printf '%s\n' "$password" | "$work/davenport" user add "$user" --password-stdin --database "$database" >/dev/null ||
		die "could not add the user ($label)"
	serve "$database" "$label"
	dav="$url/dav/files/$user/"
	for suite in "${suites[@]}"; do
		local out="$work/$suite-$label.out" rc=0
		say "running litmus $suite against $dav ($label store)"
		(cd "$work" && TESTS=$suite litmus "$dav" "$user" "$password") >"$out" 2>&1 || rc=$?
		cat "$out" >&2
		report "$suite" "$label" "$out" "$rc"
	done
	stop_server
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

for_each_store run_against

[[ $failures -eq 0 ]] || die "$failures suite run(s) failed"
