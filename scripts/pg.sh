#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests.
#
#   scripts/pg.sh start DIR   initdb + start a cluster in the empty or missing
#                             directory DIR; prints its connection URL
#   scripts/pg.sh stop DIR    stop that cluster and remove DIR
#   scripts/pg.sh halt DIR    stop that cluster (a fast shutdown: sessions are
#                             ended), keeping DIR: a database restart for the
#                             fault tests
#   scripts/pg.sh resume DIR  start a halted cluster again, on the same port
#
# The cluster listens on 127.0.0.1 (a free port) and on a unix socket in DIR,
# trusts local connections, and trades durability for speed (fsync off). It
# uses the machine's PostgreSQL binaries: initdb/pg_ctl from PATH, else the
# newest /usr/lib/postgresql/*/bin; when they are missing and we are root on a
# Debian-like system, the postgresql package is installed first. initdb refuses
# to run as root, so as root the cluster runs as the postgres user.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

find_bindir() {
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
		echo "$d"
		return 0
	fi
	return 1
}

install_postgres() {
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		die "no PostgreSQL binaries (initdb, pg_ctl) found; install PostgreSQL or set DAVENPORT_TEST_DATABASE_URL"
	fi
	echo "pg.sh: installing PostgreSQL with apt-get" >&2
	# The package may create and start its own "main" cluster on 5432; ours
	# runs on its own port and directory, so that cluster is never used.
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends postgresql >&2
}

# as_owner runs a command as the cluster owner: postgres when we are root.
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u postgres -- "$@"
		else
			su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
		fi
	else
		"$@"
	fi
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
	local dir=$1 bin
	bin=$(find_bindir) || { install_postgres; bin=$(find_bindir) || die "PostgreSQL binaries still missing after install"; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user to own the cluster"
		chown postgres: "$dir"
	fi
	chmod 700 "$dir"
	mkdir "$dir/sock" 2>/dev/null || as_owner mkdir "$dir/sock"
	[[ $(id -u) -ne 0 ]] || chown postgres: "$dir/sock"

	as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C \
		--no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die "initdb failed"; }

	echo "$bin" >"$dir/bindir"
	local port try
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 40000))
		port_in_use "$port" && continue
		if pg_start "$dir" "$port"; then
			echo "$port" >"$dir/port"
			echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			return 0
		fi
		tail -n 5 "$dir/server.log" >&2 || true
	done
	die "could not start PostgreSQL (see $dir/server.log)"
}

# pg_start DIR PORT: start the cluster in DIR on PORT.
pg_start() {
	local dir=$1 port=$2
	as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null
}

halt() {
	local dir=$1
	[[ -f "$dir/port" && -f "$dir/bindir" ]] || die "$dir is not a cluster started by pg.sh start"
	as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

resume() {
	local dir=$1
	[[ -f "$dir/port" && -f "$dir/bindir" ]] || die "$dir is not a cluster started by pg.sh start"
	pg_start "$dir" "$(cat "$dir/port")" || { tail -n 5 "$dir/server.log" >&2; die "could not start PostgreSQL again (see $dir/server.log)"; }
}

stop() {
	local dir=$1 bin
	[[ -d "$dir" ]] || return 0
	if [[ -f "$dir/data/postmaster.pid" ]]; then
		bin=$(cat "$dir/bindir" 2>/dev/null || find_bindir || true)
		as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) [[ $# -eq 2 ]] || die "usage: pg.sh start DIR"; start "$2" ;;
stop) [[ $# -eq 2 ]] || die "usage: pg.sh stop DIR"; stop "$2" ;;
halt) [[ $# -eq 2 ]] || die "usage: pg.sh halt DIR"; halt "$(cd "$2" && pwd)" ;;
resume) [[ $# -eq 2 ]] || die "usage: pg.sh resume DIR"; resume "$(cd "$2" && pwd)" ;;
*) die "usage: pg.sh start|stop|halt|resume DIR" ;;
esac
