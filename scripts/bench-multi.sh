#!/usr/bin/env bash
# Several Davenport instances on one PostgreSQL (issue 20, docs/scaling.md):
# davbench's mixed load (the soak's mix: 30% GET, 20% PUT, 15% narrow
# calendar-query, 10% PROPFIND, 10% multiget, 10% addressbook-query, 5% full
# sync) against 1, 2 and 4 instances on one throwaway cluster, connections
# spread over them by davbench --spread; then what a user costs the
# database: rows and bytes per user, WAL per PUT (pg_current_wal_lsn before
# and after), connections per instance.
#
#   scripts/bench-multi.sh
#
# Knobs (environment):
#   BENCH_INSTANCES="1 2 4"  instance counts
#   BENCH_N=1000             events and vCards seeded (each count starts afresh)
#   BENCH_DURATION=60s       mixed load per instance count
#   BENCH_CONCURRENCY=8      requests in flight
#   BENCH_OUT=DIR            JSON and logs (default /tmp/davenport-multi-YYYYmmdd-HHMMSS, kept)
#
# Prints the machine's load average with every figure: on a shared machine
# the figures say what the instances do relative to each other at that
# moment, not what the hardware can do.
set -euo pipefail

die() { echo "bench-multi.sh: $*" >&2; exit 1; }
say() { echo "bench-multi.sh: $*" >&2; }

root=$(cd "$(dirname "$0")/.." && pwd)
instances=${BENCH_INSTANCES:-1 2 4}
n=${BENCH_N:-1000}
duration=${BENCH_DURATION:-60s}
concurrency=${BENCH_CONCURRENCY:-8}
out=${BENCH_OUT:-/tmp/davenport-multi-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
work=$(mktemp -d /tmp/davenport-multi-work.XXXXXX)
chmod 755 "$work" # the cluster runs as the postgres user when we are root
pids=()
pg_dir="$work/pg"

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[[ -d "$pg_dir" ]] && "$root/scripts/pg.sh" stop "$pg_dir" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

say "building"
(cd "$root" && CGO_ENABLED=0 go build -o "$work/davenport" ./cmd/davenport && go build -o "$work/davbench" ./cmd/davbench)
base=$("$root/scripts/pg.sh" start "$pg_dir")
psql_q() { psql -X -q -t -A -d "$1" -c "$2"; }
password="bench-$RANDOM-$RANDOM-$RANDOM"

# start_instance DSN LOG: a davenport serve on a free port (set in $port)
# of 127.0.0.1, once /healthz answers.
start_instance() {
	port=$(free_port)
	DAVENPORT_ADMIN_PASSWORD=$password "$work/davenport" serve --listen "127.0.0.1:$port" --database "$1" \
		--log-level warn >"$2" 2>&1 &
	pids+=("$!")
	for _ in $(seq 1 300); do
		curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
		sleep 0.1
	done
	die "davenport did not become healthy (see $2)"
}

printf '%-9s %8s %8s %8s %7s %-16s %-16s %s\n' instances ops/s p50_ms p99_ms errors load_before load_after pg_conns | tee "$out/summary.txt"
for k in $instances; do
	db="multi$k"
	psql_q "$base" "CREATE DATABASE $db" >/dev/null
	dsn="${base%/*}/$db?sslmode=disable"
	urls=()
	for i in $(seq 1 "$k"); do
		start_instance "$dsn" "$out/server-$k-$i.log"
		urls+=("127.0.0.1:$port")
	done
	spread=$(IFS=,; echo "${urls[*]}")
	# Connections while loaded: sampled half-way through.
	(sleep "$(( ${duration%s} / 2 + 20 ))"; psql_q "$base" "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'" >"$work/conns-$k") &
	sampler=$!
	before=$(loadavg)
	DAVBENCH_PASSWORD=$password "$work/davbench" soak --url "http://${urls[0]}/" --spread "$spread" --n "$n" \
		--concurrency "$concurrency" --duration "$duration" --interval "$duration" --label "$k instances" \
		--json "$out/soak-$k.json" >"$out/soak-$k.txt" 2>"$out/soak-$k.log" ||
		true # one window: the soak's verdict (which compares windows) fails; only its figures are used
	after=$(loadavg)
	wait "$sampler" || true
	python3 - "$out/soak-$k.json" "$k" "$before" "$after" "$(cat "$work/conns-$k" 2>/dev/null || echo '?')" <<-'PY' | tee -a "$out/summary.txt"
		import json, sys
		r = json.load(open(sys.argv[1]))
		ops = sum(w["ops"] for w in r["windows"]); errs = sum(w["errors"] for w in r["windows"])
		w = r["windows"][0]
		print("%-9s %8.1f %8.1f %8.1f %7d %-16s %-16s %s" % (sys.argv[2], w["ops_per_sec"], w["p50_ms"], w["p99_ms"], errs, sys.argv[3], sys.argv[4], sys.argv[5]))
	PY
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
done

# What one user costs, on a database of its own: N events and N vCards
# seeded and kept, then PUTs measured one at a time by WAL position.
say "rows, bytes and WAL per user"
db=peruser
psql_q "$base" "CREATE DATABASE $db" >/dev/null
dsn="${base%/*}/$db?sslmode=disable"
start_instance "$dsn" "$out/server-peruser.log"
DAVBENCH_PASSWORD=$password "$work/davbench" --url "http://127.0.0.1:$port/" --n "$n" --workloads get,addressbook-query --duration 1s \
	--keep --json "$out/peruser.json" >"$out/peruser.txt" 2>&1
psql_q "$dsn" "ANALYZE" >/dev/null
{
	echo "rows and bytes (tables with rows) after seeding $n events and $n vCards for one user:"
	psql -X -d "$dsn" -c "SELECT * FROM (SELECT table_name AS table,
			(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', table_name), false, true, '')))[1]::text::bigint AS rows,
			pg_size_pretty(pg_total_relation_size(table_name::regclass)) AS total_size
		FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE') t
		WHERE rows > 0 ORDER BY rows DESC"
	psql -X -d "$dsn" -c "SELECT pg_size_pretty(pg_database_size(current_database())) AS database_size"
} | tee "$out/peruser-rows.txt"

cal=$(psql_q "$dsn" "SELECT name FROM collections WHERE kind = 'calendar' AND name LIKE 'davbench%' LIMIT 1")
wal_per() { # LABEL COUNT METHOD: WAL bytes per request of COUNT requests
	local label=$1 count=$2 start end
	start=$(psql_q "$dsn" "SELECT pg_current_wal_insert_lsn()")
	for i in $(seq 1 "$count"); do
		body="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:wal-$label-$((i % 50))\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260310T100000Z\r\nDURATION:PT1H\r\nSUMMARY:WAL probe $i with a summary of ordinary length\r\nDESCRIPTION:revision $i\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		name="wal-$label-$((i % 50)).ics"
		[[ $label == create ]] && name="wal-$label-$i.ics" && body=${body//UID:wal-create-$((i % 50))/UID:wal-create-$i}
		printf '%b' "$body" | curl -fs -o /dev/null -u "admin:$password" -X PUT -H 'Content-Type: text/calendar' \
			--data-binary @- "http://127.0.0.1:$port/dav/calendars/admin/$cal/$name"
	done
	end=$(psql_q "$dsn" "SELECT pg_current_wal_insert_lsn()")
	psql_q "$dsn" "SELECT '$label: ' || $count || ' PUTs, ' || pg_size_pretty(pg_wal_lsn_diff('$end', '$start')) || ' of WAL, ' || round(pg_wal_lsn_diff('$end', '$start') / $count) || ' bytes per PUT'"
}
{
	echo "WAL per PUT (history on, the default; one client, so nothing else writes):"
	wal_per create 500
	wal_per update 50 >/dev/null # creates the 50 items the next run updates
	wal_per update 500
	echo "connections: pgxpool's default pool_max_conns is max(4, CPUs) = $(python3 -c 'import os; print(max(4, os.cpu_count()))') per instance, plus 1 listener (LISTEN davenport_credentials)"
	psql -X -d "$base" -c "SELECT datname, application_name, count(*) FROM pg_stat_activity WHERE datname = '$db' GROUP BY 1, 2"
} | tee "$out/wal.txt"
say "results in $out"
