#!/usr/bin/env bash
# Interop check with Debian's python3-caldav (DESIGN.md "Testing"): build
# davenport, serve it on a throwaway embedded store on 127.0.0.1, and run
# scripts/interop/caldav_interop.py against it — then once more against
# PostgreSQL when DAVENPORT_TEST_DATABASE_URL is set (scripts/test.sh sets
# it), on a schema of its own that is dropped afterwards.
#
#   scripts/interop/caldav.sh
#
# Installs python3-caldav with apt-get when it is missing and we are root.
# The start-up is scripts/interop/lib/common.bash's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
interop_init caldav

# Debian's interpreter, not a pyenv or venv one that lacks the package.
PY=/usr/bin/python3
have_caldav() { [[ -x $PY ]] && (cd / && $PY -c 'import caldav') >/dev/null 2>&1; }
require have_caldav python3-caldav
build_davenport

# run_against DATABASE LABEL: start the server, run the Python check, stop
# the server.
run_against() {
	local database=$1 label=$2
	export DAVENPORT_ADMIN_PASSWORD="interop-$RANDOM-$RANDOM"
	serve "$database" "$label"
	# A second user for the scheduling steps (RFC 6638), both with an
	# email address: the calendar user addresses invitations go to.
	local user2="sched$RANDOM" password2="interop-2-$RANDOM-$RANDOM"
	"$work/davenport" user set-email admin "admin-$RANDOM@interop.test" --database "$database" >/dev/null ||
		die "user set-email admin ($label)"
	printf '%s\n' "$password2" | "$work/davenport" user add "$user2" --password-stdin --allow-weak \
		--email "$user2@interop.test" --database "$database" >/dev/null || die "user add $user2 ($label)"
	say "running python3-caldav against $url ($label store)"
	local rc=0
	(cd / && DAVENPORT_URL=$url DAVENPORT_USER=admin DAVENPORT_PASSWORD=$DAVENPORT_ADMIN_PASSWORD \
		DAVENPORT_USER2=$user2 DAVENPORT_PASSWORD2=$password2 \
		$PY "$root/scripts/interop/caldav_interop.py") || rc=$?
	stop_server
	if [[ $rc -ne 0 ]]; then
		say "server log ($label):"
		cat "$slog" >&2
		die "python3-caldav check failed on the $label store"
	fi
}

for_each_store run_against
say "passed"
