#!/usr/bin/env bash
# Side-by-side benchmark: Davenport on its embedded store, Davenport on
# PostgreSQL, Radicale and Cyrus httpd, driven by cmd/davbench with the same
# workloads, then the ratios Davenport/Radicale (issue 7: ≥ 20×) and
# Davenport/Cyrus (issue 21: ≥ 5×). See docs/performance.md.
#
#   scripts/bench.sh                  N = 1,000 and 10,000 for all three (~20 min)
#   BENCH_BIG=1 scripts/bench.sh      also N = 100,000 for Davenport alone (+~30 min)
#   scripts/bench.sh soak             Davenport on each store under davbench's mixed
#                                     load for BENCH_SOAK_DURATION (60 s), with the
#                                     server's p99, RSS, goroutines and files per window
#                                     and a verdict (docs/performance.md, "Soak")
#
# Knobs (environment):
#   BENCH_SIZES="1000 10000"     N for every server
#   BENCH_BIG=0                  1: also BENCH_BIG_N for Davenport, and the flatness check
#   BENCH_BIG_N=100000
#   BENCH_TARGETS="radicale cyrus sqlite postgres"   which servers to run
#   BENCH_DURATION=10s           time per workload (requests in flight finish)
#   BENCH_CONCURRENCY=8          concurrent requests
#   BENCH_SEED=1                 data generator seed
#   BENCH_TIMEOUT=60s            a request unanswered after this counts as failed (timed
#                                out); clients give up sooner (DAVx5 after about 45 s)
#   BENCH_RADICALE_SEED_TIME=90s Radicale's PUT seeding is O(N) per item (every new
#                                UID is checked against all items), so after this
#                                long the rest is stored by one whole-collection PUT
#   BENCH_WORKLOADS=all          davbench --workloads (free-busy is opt-in: Radicale lacks it)
#   BENCH_SQLITE_SYNCHRONOUS=normal  the embedded store's --sqlite-synchronous; normal
#                                matches Radicale under eatmydata and the bench cluster's
#                                fsync=off (Davenport's own default is full)
#   BENCH_DAVENPORT=PATH         benchmark this davenport binary instead of building one
#                                (a before/after comparison: build the old commit first)
#   BENCH_SOAK_DURATION=60s      soak: length of the load (the documented run is 10m)
#   BENCH_SOAK_INTERVAL=10s      soak: length of a window (1m for the 10-minute run)
#   BENCH_OUT=DIR                results: JSON, tables, ratios, server logs
#                                (default /tmp/davenport-bench-YYYYmmdd-HHMMSS, kept)
#
# Needs Go; installs Debian's radicale, cyrus-imapd, cyrus-caldav, sasl2-bin
# (and eatmydata) when missing and run as root (Cyrus needs root: its master
# process switches to the cyrus user); PostgreSQL comes from scripts/pg.sh. Every server listens on 127.0.0.1
# only, is stopped by its PID, and its data lives in a temporary directory
# removed on exit, also on Ctrl-C.
set -euo pipefail

die() { echo "bench.sh: $*" >&2; exit 1; }
say() { echo "bench.sh: $*" >&2; }

root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-compare}
case "$mode" in
compare | soak) ;;
*) die "usage: bench.sh [soak]" ;;
esac
sizes=${BENCH_SIZES:-1000 10000}
big=${BENCH_BIG:-0}
big_n=${BENCH_BIG_N:-100000}
targets=${BENCH_TARGETS:-radicale cyrus sqlite postgres}
if [[ "$mode" == soak ]]; then
	targets=${BENCH_TARGETS:-sqlite postgres}
	[[ " $targets " != *" radicale "* && " $targets " != *" cyrus "* ]] ||
		die "the soak runs Davenport only: leave radicale and cyrus out of BENCH_TARGETS"
fi
soak_duration=${BENCH_SOAK_DURATION:-60s}
soak_interval=${BENCH_SOAK_INTERVAL:-10s}
duration=${BENCH_DURATION:-10s}
concurrency=${BENCH_CONCURRENCY:-8}
seed=${BENCH_SEED:-1}
timeout=${BENCH_TIMEOUT:-60s}
radicale_seed_time=${BENCH_RADICALE_SEED_TIME:-90s}
workloads=${BENCH_WORKLOADS:-all}
prebuilt=${BENCH_DAVENPORT:-}
out=${BENCH_OUT:-/tmp/davenport-bench-$(date +%Y%m%d-%H%M%S)}

work=$(mktemp -d /tmp/davenport-bench-work.XXXXXX)
chmod 755 "$work" # the PostgreSQL cluster below runs as the postgres user
server_pid=""
bench_pid=""
pg_dir=""

# stop_pid PID SIGNAL SECONDS: signal a child, give it SECONDS to exit, then
# SIGKILL (a server stuck in a graceful shutdown must not hold the run).
stop_pid() {
	local pid=$1 sig=$2 secs=$3 i
	if kill -0 "$pid" 2>/dev/null; then
		kill "-$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < secs * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	# davbench first: on SIGTERM it removes its collections and exits.
	if [[ -n "$bench_pid" ]]; then stop_pid "$bench_pid" TERM 20; fi
	if [[ -n "$server_pid" ]]; then stop_pid "$server_pid" TERM 20; fi
	if [[ -n "$pg_dir" ]]; then
		"$root/scripts/pg.sh" stop "$pg_dir" || true
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

has_target() { [[ " $targets " == *" $1 "* ]]; }

# --- tools ------------------------------------------------------------------

mkdir -p "$out"
say "results in $out"
if [[ -n "$prebuilt" ]]; then
	cp "$prebuilt" "$work/davenport" || die "cannot copy $prebuilt"
	(cd "$root" && go build -o "$work/davbench" ./cmd/davbench) || die "build failed"
else
	(cd "$root" && go build -o "$work/davenport" ./cmd/davenport && go build -o "$work/davbench" ./cmd/davbench) ||
		die "build failed"
fi

cyrus_bin=/usr/lib/cyrus/bin
if has_target cyrus; then
	if [[ ! -x $cyrus_bin/master || ! -x $cyrus_bin/httpd ]] || ! command -v saslpasswd2 >/dev/null 2>&1; then
		if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
			say "installing cyrus-imapd, cyrus-caldav and sasl2-bin with apt-get"
			export DEBIAN_FRONTEND=noninteractive
			apt-get update >&2
			apt-get install -y --no-install-recommends cyrus-imapd cyrus-caldav sasl2-bin eatmydata >&2 ||
				apt-get install -y --no-install-recommends cyrus-imapd cyrus-caldav sasl2-bin >&2 || true
		fi
	fi
	[[ -x $cyrus_bin/master && -x $cyrus_bin/httpd ]] && command -v saslpasswd2 >/dev/null 2>&1 ||
		die "cyrus is not installed (apt-get install cyrus-imapd cyrus-caldav sasl2-bin), or leave it out of BENCH_TARGETS"
	[[ $(id -u) -eq 0 ]] || die "cyrus runs as the cyrus user and needs root to start, or leave it out of BENCH_TARGETS"
fi

eatmydata=""
if has_target radicale; then
	if ! command -v radicale >/dev/null 2>&1 || ! command -v eatmydata >/dev/null 2>&1; then
		if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
			say "installing radicale and eatmydata with apt-get"
			export DEBIAN_FRONTEND=noninteractive
			apt-get update >&2
			apt-get install -y --no-install-recommends radicale eatmydata >&2 ||
				apt-get install -y --no-install-recommends radicale >&2 || true
		fi
	fi
	command -v radicale >/dev/null 2>&1 || die "radicale is not installed (apt-get install radicale), or leave it out of BENCH_TARGETS"
fi
if has_target radicale || has_target cyrus; then
	# Radicale and Cyrus fsync every write and have no setting to stop it;
	# Davenport's embedded store runs here with synchronous=NORMAL
	# (BENCH_SQLITE_SYNCHRONOUS) and the bench cluster with fsync=off.
	# eatmydata levels that field.
	if command -v eatmydata >/dev/null 2>&1; then
		eatmydata=eatmydata
	else
		say "eatmydata missing: Radicale and Cyrus run with fsync on every write"
	fi
fi

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "nproc: $(nproc)"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
	echo "kernel: $(uname -sr)"
	echo "go: $(go version)"
	if has_target radicale; then echo "radicale: $(radicale --version 2>&1)${eatmydata:+ (under eatmydata)}"; fi
	if has_target cyrus; then
		echo "cyrus: $(dpkg-query -W -f '${Version}' cyrus-imapd 2>/dev/null || echo unknown)${eatmydata:+ (under eatmydata)}"
	fi
	if [[ "$mode" == soak ]]; then
		echo "soak: $soak_duration, windows of $soak_interval; N: ${BENCH_SOAK_N:-1000}; concurrency: $concurrency; seed: $seed; timeout: $timeout; sqlite synchronous: ${BENCH_SQLITE_SYNCHRONOUS:-normal}"
	else
		echo "sizes: $sizes; big: $big ($big_n); duration: $duration; concurrency: $concurrency; seed: $seed; timeout: $timeout"
	fi
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt" >&2

# --- servers ----------------------------------------------------------------

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		port_in_use "$p" || { echo "$p"; return 0; }
	done
	die "no free port"
}

# wait_listening PORT: until something accepts on it, while the server lives.
wait_listening() {
	local port=$1
	for _ in $(seq 1 600); do
		port_in_use "$port" && return 0
		kill -0 "$server_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

# start_server TARGET DIR: sets server_pid and port.
start_server() {
	local target=$1 dir=$2
	mkdir -p "$dir"
	port=$(free_port)
	case "$target" in
	sqlite | postgres)
		local db="$dir/davenport.db"
		if [[ "$target" == postgres ]]; then
			pg_dir="$dir/pg"
			db=$("$root/scripts/pg.sh" start "$pg_dir")
		fi
		# Through the environment, so an older binary (BENCH_DAVENPORT)
		# that lacks the flag still starts. The soak reads the goroutine
		# count from the profiler.
		debug_port=$(free_port)
		DAVENPORT_DEBUG_LISTEN=127.0.0.1:$debug_port \
			DAVENPORT_SQLITE_SYNCHRONOUS=${BENCH_SQLITE_SYNCHRONOUS:-normal} \
			DAVENPORT_ADMIN_PASSWORD=$password "$work/davenport" serve --listen "127.0.0.1:$port" \
			--database "$db" --log-level warn >"$dir/server.log" 2>&1 &
		server_pid=$!
		;;
	radicale)
		printf 'admin:%s\n' "$password" >"$dir/users"
		cat >"$dir/config" <<-EOF
			[server]
			hosts = 127.0.0.1:$port
			max_connections = $((2 * concurrency))
			ssl = False
			[auth]
			type = htpasswd
			htpasswd_filename = $dir/users
			htpasswd_encryption = plain
			delay = 0
			[rights]
			type = owner_only
			[storage]
			type = multifilesystem
			filesystem_folder = $dir/collections
			[web]
			type = none
			[logging]
			level = warning
		EOF
		# Debian's /etc/radicale/config is read first; this file overrides
		# every option that matters. eatmydata execs, so $! is Radicale.
		$eatmydata radicale --config "$dir/config" >"$dir/server.log" 2>&1 &
		server_pid=$!
		;;
	cyrus)
		start_cyrus "$dir"
		;;
	esac
	wait_listening "$port" || { tail -n 20 "$dir/server.log" >&2; die "$target did not start"; }
}

# start_cyrus DIR: Cyrus httpd (CalDAV and CardDAV) on $port, with its own
# configuration, spool and SASL database in DIR, the user admin, and an
# IMAP service on another loopback port only to create admin's mailbox
# (Cyrus keeps calendars and address books as mailboxes under the user's).
# master daemonizes; server_pid is its PID from the pid file, and SIGTERM
# to it stops every service. The PIDs davbench watches are master's only:
# the work is done by its httpd children, so the idle wait before each
# workload and the peak RSS do not cover Cyrus.
start_cyrus() {
	local dir=$1 imap_port i
	imap_port=$(free_port)
	mkdir -p "$dir"/{conf,spool,proc,lock,socket,sieve}
	cat >"$dir/imapd.conf" <<-EOF
		configdirectory: $dir/conf
		proc_path: $dir/proc
		mboxname_lockpath: $dir/lock
		defaultpartition: default
		partition-default: $dir/spool
		sievedir: $dir/sieve
		lmtpsocket: $dir/socket/lmtp
		idlesocket: $dir/socket/idle
		notifysocket: $dir/socket/notify
		altnamespace: no
		unixhierarchysep: no
		httpmodules: caldav carddav
		httpallowcompress: no
		allowplaintext: yes
		admins: cyrus
		sasl_pwcheck_method: auxprop
		sasl_auxprop_plugin: sasldb
		sasl_sasldb_path: $dir/sasldb2
		sasl_mech_list: PLAIN
		syslog_prefix: cyrus-bench
	EOF
	cat >"$dir/cyrus.conf" <<-EOF
		START {
		  recover cmd="$cyrus_bin/ctl_cyrusdb -C $dir/imapd.conf -r"
		}
		SERVICES {
		  imap cmd="$cyrus_bin/imapd -C $dir/imapd.conf" listen="127.0.0.1:$imap_port" prefork=0 maxchild=4
		  http cmd="$cyrus_bin/httpd -C $dir/imapd.conf" listen="127.0.0.1:$port" prefork=$concurrency maxchild=$((4 * concurrency))
		}
		EVENTS {
		}
	EOF
	local u
	for u in admin cyrus; do
		printf '%s' "$password" | saslpasswd2 -p -f "$dir/sasldb2" -c "$u"
	done
	chown -R cyrus:mail "$dir"
	$eatmydata "$cyrus_bin/master" -C "$dir/imapd.conf" -M "$dir/cyrus.conf" -p "$dir/master.pid" \
		-L "$dir/server.log" </dev/null >>"$dir/master.out" 2>&1 &
	for ((i = 0; i < 100; i++)); do
		[[ -s "$dir/master.pid" ]] && break
		sleep 0.1
	done
	server_pid=$(cat "$dir/master.pid" 2>/dev/null) || die "cyrus did not start: $(tail -n 5 "$dir/master.out")"
	wait_listening "$imap_port" || die "cyrus imapd did not start"
	# IMAP by hand (RFC 9051): log in as the admin, create user.admin.
	local reply
	reply=$(
		exec 3<>"/dev/tcp/127.0.0.1/$imap_port"
		printf 'a LOGIN cyrus %s\r\nb CREATE user.admin\r\nc LOGOUT\r\n' "$password" >&3
		timeout 10 cat <&3
	)
	[[ "$reply" == *"b OK"* ]] || die "cyrus: creating user.admin failed: $reply"
}

stop_server() {
	if [[ -n "$server_pid" ]]; then
		stop_pid "$server_pid" TERM 20
		server_pid=""
	fi
	if [[ -n "$pg_dir" ]]; then
		"$root/scripts/pg.sh" stop "$pg_dir"
		pg_dir=""
	fi
}

label_of() {
	case "$1" in
	sqlite) echo davenport-sqlite ;;
	postgres) echo davenport-postgres ;;
	*) echo "$1" ;;
	esac
}

# bench TARGET N: one fresh server, one davbench run.
bench() {
	local target=$1 n=$2 label
	label=$(label_of "$target")
	local dir="$work/$label-$n"
	say "== $label, N=$n"
	start_server "$target" "$dir"
	local extra=()
	if [[ "$target" == radicale ]]; then
		extra=(--seed-timeout "$radicale_seed_time" --fill collection-put)
	fi
	local rc=0
	# In the background so that a signal reaches the trap at once, not
	# after the workload in progress.
	DAVBENCH_PASSWORD=$password "$work/davbench" --url "http://127.0.0.1:$port/" --user admin \
		--n "$n" --concurrency "$concurrency" --duration "$duration" --seed "$seed" --timeout "$timeout" \
		--workloads "$workloads" --pid "$server_pid" --label "$label" --json "$out/$label-n$n.json" "${extra[@]}" \
		>"$out/$label-n$n.txt" 2>"$out/$label-n$n.log" &
	bench_pid=$!
	wait "$bench_pid" || rc=$?
	bench_pid=""
	cat "$out/$label-n$n.txt"
	cp "$dir/server.log" "$out/$label-n$n.server.log" 2>/dev/null || true
	stop_server
	[[ $rc -eq 0 ]] || { tail -n 20 "$out/$label-n$n.log" >&2; say "davbench failed against $label at N=$n (exit $rc)"; }
	return 0
}

# soak TARGET: one fresh server, one davbench soak.
soak() {
	local target=$1 label
	label=$(label_of "$target")-soak
	local dir="$work/$label"
	say "== $label, $soak_duration"
	start_server "$target" "$dir"
	local rc=0
	DAVBENCH_PASSWORD=$password "$work/davbench" soak --url "http://127.0.0.1:$port/" --user admin \
		--n "${BENCH_SOAK_N:-1000}" --concurrency "$concurrency" --duration "$soak_duration" --interval "$soak_interval" \
		--seed "$seed" --timeout "$timeout" --pid "$server_pid" --debug-url "http://127.0.0.1:$debug_port" \
		--label "$label" --json "$out/$label.json" >"$out/$label.txt" 2>"$out/$label.log" &
	bench_pid=$!
	wait "$bench_pid" || rc=$?
	bench_pid=""
	cat "$out/$label.txt"
	cp "$dir/server.log" "$out/$label.server.log" 2>/dev/null || true
	stop_server
	[[ $rc -eq 0 ]] || { tail -n 20 "$out/$label.log" >&2; say "soak failed against $label (exit $rc)"; soak_failed=1; }
	return 0
}

# --- runs -------------------------------------------------------------------

start=$(date +%s)
if [[ "$mode" == soak ]]; then
	soak_failed=0
	for t in sqlite postgres; do
		if has_target "$t"; then soak "$t"; fi
	done
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
	say "done in $(($(date +%s) - start)) s; results in $out"
	exit "$soak_failed"
fi
for n in $sizes; do
	for t in radicale cyrus sqlite postgres; do
		if has_target "$t"; then bench "$t" "$n"; fi
	done
	cands=()
	for t in sqlite postgres; do
		f="$out/$(label_of "$t")-n$n.json"
		if has_target "$t" && [[ -f "$f" ]]; then cands+=("$f"); fi
	done
	if [[ ${#cands[@]} -gt 0 ]] && has_target radicale && [[ -f "$out/radicale-n$n.json" ]]; then
		"$work/davbench" compare "$out/radicale-n$n.json" "${cands[@]}" | tee "$out/ratios-n$n.txt"
	fi
	# Issue 21: ≥ 5× Cyrus, the fastest peer.
	if [[ ${#cands[@]} -gt 0 ]] && has_target cyrus && [[ -f "$out/cyrus-n$n.json" ]]; then
		"$work/davbench" compare --target 5 "$out/cyrus-n$n.json" "${cands[@]}" | tee "$out/ratios-cyrus-n$n.txt"
	fi
done

if [[ "$big" == 1 ]]; then
	small=$(echo "$sizes" | tr ' ' '\n' | sort -n | head -n 1)
	for t in sqlite postgres; do
		has_target "$t" || continue
		bench "$t" "$big_n"
		label=$(label_of "$t")
		if [[ -f "$out/$label-n$small.json" && -f "$out/$label-n$big_n.json" ]]; then
			"$work/davbench" flat "$out/$label-n$small.json" "$out/$label-n$big_n.json" | tee "$out/flat-$label.txt"
		fi
	done
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
say "done in $(($(date +%s) - start)) s; results in $out"
