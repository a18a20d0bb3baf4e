# Start-up shared by the interop checks (scripts/interop/NN-name.sh), which
# source it; scripts/test.sh runs only scripts/interop/*.sh, so this file is
# never run as a check of its own. A check does:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
#   interop_init litmus                  # say/die prefix, $root, $work, traps
#   have_litmus() { command -v litmus >/dev/null 2>&1; }
#   require have_litmus litmus           # apt-get install when root and missing
#   build_davenport                      # $work/davenport
#   check() { serve "$1" "$2"; ...; stop_server; }
#   for_each_store check                 # embedded store, then PostgreSQL
#
# It needs nothing but bash and Go: the server listens on a port the kernel
# picks, read from its log, and /healthz is probed with bash's /dev/tcp.

# interop_init NAME: from the repository root, with Go on PATH; $work is a
# throwaway directory, removed on exit with every server still running and
# the PostgreSQL schema of for_each_store.
interop_init() {
	interop_name=$1
	cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
	root=$(pwd)
	if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
		PATH=/usr/local/go/bin:$PATH
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/davenport-$interop_name.XXXXXX")
	pids=()
	schema=
	trap interop_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

say() { printf '%s interop: %s\n' "$interop_name" "$*" >&2; }
die() { say "$*"; exit 1; }

interop_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [[ -n "$schema" ]]; then
		pgexec "DROP SCHEMA IF EXISTS $schema CASCADE" || true
	fi
	rm -rf "$work"
}

# require CHECK PACKAGE...: when the command CHECK fails, install the Debian
# PACKAGEs with apt-get if we are root, then CHECK must pass.
require() {
	local check=$1
	shift
	"$check" && return 0
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		say "installing $* with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq --no-install-recommends "$@" >&2
	fi
	"$check" || die "$* not installed (apt-get install $*)"
}

build_davenport() {
	say "building davenport"
	CGO_ENABLED=0 go build -o "$work/davenport" ./cmd/davenport
}

# pgexec SQL runs one statement on DAVENPORT_TEST_DATABASE_URL with the Go
# driver the project already has (no psql needed).
pgexec() {
	go run ./scripts/interop/pgexec "$DAVENPORT_TEST_DATABASE_URL" "$1"
}

# for_each_store FN: FN DATABASE LABEL on a fresh embedded store (label
# sqlite), then, when DAVENPORT_TEST_DATABASE_URL is set (scripts/test.sh
# sets it), on PostgreSQL (label postgres) in a schema of its own that is
# dropped on exit.
for_each_store() {
	local fn=$1 sep='?'
	"$fn" "sqlite:$work/davenport.db" sqlite
	[[ -n "${DAVENPORT_TEST_DATABASE_URL:-}" ]] || return 0
	schema="davenport_${interop_name}_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	pgexec "CREATE SCHEMA $schema"
	[[ "$DAVENPORT_TEST_DATABASE_URL" == *\?* ]] && sep='&'
	"$fn" "${DAVENPORT_TEST_DATABASE_URL}${sep}search_path=$schema" postgres
}

# healthy PORT: /healthz answers 200.
healthy() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	read -r line <&3 || true
	exec 3<&- 3>&-
	[[ "$line" == *" 200 "* ]]
}

# serve DATABASE LABEL: start $work/davenport on DATABASE on a free port of
# 127.0.0.1 and wait until /healthz answers 200. Sets url (no trailing
# slash), spid and slog (the server's log, shown when start-up fails).
serve() {
	local database=$1 label=$2 port=
	slog="$work/server-$label.log"
	"$work/davenport" serve --listen 127.0.0.1:0 --database "$database" --log-level info >"$slog" 2>&1 &
	spid=$!
	pids+=("$spid")
	for _ in $(seq 1 200); do
		if ! kill -0 "$spid" 2>/dev/null; then
			cat "$slog" >&2
			die "davenport ($label) exited during start-up"
		fi
		port=$(sed -n 's/.*msg="davenport listening" addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$slog" | head -n1)
		if [[ -n "$port" ]] && healthy "$port" 2>/dev/null; then
			url="http://127.0.0.1:$port"
			return 0
		fi
		sleep 0.1
	done
	cat "$slog" >&2
	die "davenport ($label) did not become healthy"
}

# stop_server stops the server serve started.
stop_server() {
	local p rest=()
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	for p in "${pids[@]}"; do
		[[ $p == "$spid" ]] || rest+=("$p")
	done
	pids=("${rest[@]}")
	spid=
}
