#!/usr/bin/env bash
# Interop check of `davenport import --from` against real servers (issue 17):
# Radicale and Xandikos from Debian's packages, started on 127.0.0.1 with
# throwaway storage, seeded over HTTP with calendars (a recurring event with
# a time zone, an override and an EXDATE; an all-day yearly event; a name
# with a space; tasks; 100 more events) and an address book (a photo, vCard
# 3 and 4 birthdays, an Apple-style group), then imported into Davenport on
# the embedded store and on PostgreSQL (when DAVENPORT_TEST_DATABASE_URL is
# set). scripts/interop/import_peer.py then compares every item byte for byte
# under the same name and every collection property, and a second import
# must change nothing.
#
#   scripts/interop/20-import.sh
#
# Installs radicale and xandikos with apt-get when missing and we are root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi
say() { printf 'import interop: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
PY=/usr/bin/python3

need=()
command -v radicale >/dev/null 2>&1 || need+=(radicale)
command -v xandikos >/dev/null 2>&1 || need+=(xandikos)
[[ -x $PY ]] || need+=(python3)
if [[ ${#need[@]} -gt 0 ]]; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		say "installing ${need[*]} with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
	fi
	for p in radicale xandikos; do
		command -v $p >/dev/null 2>&1 || die "$p is not installed (apt-get install $p)"
	done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/davenport-import-interop.XXXXXX")
pids=()
schema=
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
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

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL LOG PID: wait until URL answers at all (any status).
wait_http() {
	for _ in $(seq 1 150); do
		kill -0 "$3" 2>/dev/null || { cat "$2" >&2; die "server for $1 exited during start-up"; }
		if curl -s -o /dev/null "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	cat "$2" >&2
	die "no answer at $1"
}

bulk=100
rpass="radicale-$RANDOM-$RANDOM"

# Radicale, with a password (plain htpasswd), storage in $work.
rport=$(free_port)
mkdir -p "$work/radicale"
printf 'alice:%s\n' "$rpass" >"$work/radicale.users"
cat >"$work/radicale.conf" <<CONF
[server]
hosts = 127.0.0.1:$rport
[auth]
type = htpasswd
htpasswd_filename = $work/radicale.users
htpasswd_encryption = plain
[rights]
type = owner_only
[storage]
filesystem_folder = $work/radicale
[logging]
level = warning
CONF
(cd / && exec radicale --config "$work/radicale.conf") >"$work/radicale.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$rport/" "$work/radicale.log" "${pids[-1]}"
say "radicale $(radicale --version 2>/dev/null) on port $rport: seeding"
(cd / && $PY "$root/scripts/interop/import_peer.py" seed "http://127.0.0.1:$rport" /alice/ /alice/ alice "$rpass" $bulk)

# Xandikos (no authentication of its own), storage in $work.
xport=$(free_port)
(cd / && exec xandikos -d "$work/xandikos" --defaults -l 127.0.0.1 -p "$xport") >"$work/xandikos.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$xport/" "$work/xandikos.log" "${pids[-1]}"
say "xandikos on port $xport: seeding"
(cd / && $PY "$root/scripts/interop/import_peer.py" seed "http://127.0.0.1:$xport" /user/calendars/ /user/contacts/ user x $bulk)

failed=0
# run_against DATABASE LABEL: import from both peers into users of
# DATABASE, serve it, compare, import again.
run_against() {
	local db=$1 label=$2 port url log out rc spid
	for u in rad xan; do
		printf '%s-password-1\n' "$u" | "$work/davenport" user add "$u" --password-stdin --database "$db" >/dev/null
	done
	for peer in radicale xandikos; do
		local u from rec
		if [[ $peer == radicale ]]; then
			u=rad from="http://127.0.0.1:$rport/" rec="$rpass"
		else
			u=xan from="http://127.0.0.1:$xport/" rec=""
		fi
		rc=0
		out=$(printf '%s\n' "$rec" | "$work/davenport" import --from "$from" --user $u --remote-user "${peer/radicale/alice}" \
			--password-stdin --database "$db" 2>"$work/import.err") || rc=$?
		printf '%s\n' "$out" | sed "s/^/  [$peer → $label] /" >&2
		if [[ $rc -ne 0 ]]; then
			cat "$work/import.err" >&2
			echo "FAIL  $peer → $label: davenport import exited $rc"
			failed=$((failed + 1))
		else
			echo "ok    $peer → $label: davenport import ran clean ($(grep -o '^calendar bulk.*' <<<"$out" | grep -o '[0-9]* items/s') from the bulk calendar)"
		fi
		if grep -q "$rpass" <<<"$out$(cat "$work/import.err")"; then
			echo "FAIL  $peer → $label: the remote password was printed"
			failed=$((failed + 1))
		fi
	done

	port=$(free_port)
	url="http://127.0.0.1:$port"
	log="$work/server-$label.log"
	"$work/davenport" serve --listen "127.0.0.1:$port" --database "$db" --log-level warn >"$log" 2>&1 &
	spid=$!
	pids+=($spid)
	wait_http "$url/healthz" "$log" $spid
	(cd / && $PY "$root/scripts/interop/import_peer.py" check "http://127.0.0.1:$rport" /alice/ /alice/ alice "$rpass" \
		"$url" rad rad-password-1 "radicale → $label") || failed=$((failed + 1))
	(cd / && $PY "$root/scripts/interop/import_peer.py" check "http://127.0.0.1:$xport" /user/calendars/ /user/contacts/ user x \
		"$url" xan xan-password-1 "xandikos → $label") || failed=$((failed + 1))
	kill $spid 2>/dev/null || true
	wait $spid 2>/dev/null || true

	# Resumable and idempotent: a second run writes nothing.
	for peer in radicale xandikos; do
		local u=rad from="http://127.0.0.1:$rport/" rec="$rpass"
		[[ $peer == xandikos ]] && u=xan from="http://127.0.0.1:$xport/" rec=""
		out=$(printf '%s\n' "$rec" | "$work/davenport" import --from "$from" --user $u --remote-user "${peer/radicale/alice}" \
			--password-stdin --database "$db" 2>&1) || true
		if grep -q "collections: 0 items created, 0 updated, [0-9]* unchanged, 0 rejected" <<<"$out"; then
			echo "ok    $peer → $label: a second import changes nothing"
		else
			printf '%s\n' "$out" >&2
			echo "FAIL  $peer → $label: a second import changed something"
			failed=$((failed + 1))
		fi
	done
}

run_against "sqlite:$work/davenport.db" sqlite
if [[ -n "${DAVENPORT_TEST_DATABASE_URL:-}" ]]; then
	schema="davenport_import_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	go run ./scripts/interop/pgexec "$DAVENPORT_TEST_DATABASE_URL" "CREATE SCHEMA $schema"
	sep='?'
	[[ "$DAVENPORT_TEST_DATABASE_URL" == *\?* ]] && sep='&'
	run_against "${DAVENPORT_TEST_DATABASE_URL}${sep}search_path=$schema" postgres
fi
[[ $failed -eq 0 ]] || die "$failed checks failed"
say "passed"
