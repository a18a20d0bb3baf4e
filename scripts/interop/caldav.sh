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
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi
say() { printf 'caldav interop: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Debian's interpreter, not a pyenv or venv one that lacks the package.
PY=/usr/bin/python3
if ! [[ -x $PY ]] || ! (cd / && $PY -c 'import caldav') >/dev/null 2>&1; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		say "installing python3-caldav with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq python3-caldav >&2
	fi
	(cd / && $PY -c 'import caldav') >/dev/null 2>&1 ||
		die "python3-caldav is not installed (apt-get install python3-caldav)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/davenport-interop.XXXXXX")
pid=
schema=
cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [[ -n "$schema" ]]; then
		psql_exec "DROP SCHEMA IF EXISTS $schema CASCADE" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building davenport"
CGO_ENABLED=0 go build -o "$work/davenport" ./cmd/davenport

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# psql_exec runs one statement on DAVENPORT_TEST_DATABASE_URL with the Go
# driver the project already has (no psql needed).
psql_exec() {
	go run ./scripts/interop/pgexec "$DAVENPORT_TEST_DATABASE_URL" "$1"
}

# run_against DATABASE LABEL: start the server, wait for /healthz, run the
# Python check, stop the server.
run_against() {
	local database=$1 label=$2 port url log
	port=$(free_port)
	url="http://127.0.0.1:$port"
	log="$work/server-$label.log"
	export DAVENPORT_ADMIN_PASSWORD="interop-$RANDOM-$RANDOM"
	"$work/davenport" serve --listen "127.0.0.1:$port" --database "$database" --log-level warn >"$log" 2>&1 &
	pid=$!
	local ok=
	for _ in $(seq 1 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$log" >&2
			die "davenport ($label) exited during start-up"
		fi
		if $PY -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('$url/healthz', timeout=2).status == 200 else 1)" 2>/dev/null; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[[ -n "$ok" ]] || { cat "$log" >&2; die "davenport ($label) did not become healthy at $url"; }
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
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
	if [[ $rc -ne 0 ]]; then
		say "server log ($label):"
		cat "$log" >&2
		die "python3-caldav check failed on the $label store"
	fi
}

run_against "sqlite:$work/davenport.db" sqlite

if [[ -n "${DAVENPORT_TEST_DATABASE_URL:-}" ]]; then
	schema="davenport_interop_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	psql_exec "CREATE SCHEMA $schema"
	sep='?'
	[[ "$DAVENPORT_TEST_DATABASE_URL" == *\?* ]] && sep='&'
	run_against "${DAVENPORT_TEST_DATABASE_URL}${sep}search_path=$schema" postgres
fi
say "passed"
