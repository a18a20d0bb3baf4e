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
#   scripts/interop/30-import.sh
#
# Installs radicale and xandikos with apt-get when missing and we are root.
# The start-up is scripts/interop/lib/common.bash's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
interop_init import
PY=/usr/bin/python3

have_peers() { command -v radicale >/dev/null 2>&1 && command -v xandikos >/dev/null 2>&1 && [[ -x $PY ]]; }
require have_peers radicale xandikos python3
build_davenport

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

# import_from PEER DATABASE: davenport import from radicale (as alice, into
# rad) or xandikos (as user, into xan).
import_from() {
	local u=rad from="http://127.0.0.1:$rport/" ruser=alice rec="$rpass"
	[[ $1 == xandikos ]] && u=xan from="http://127.0.0.1:$xport/" ruser=xandikos rec=""
	printf '%s\n' "$rec" | "$work/davenport" import --from "$from" --user $u --remote-user $ruser \
		--password-stdin --database "$2"
}

failed=0
# run_against DATABASE LABEL: import from both peers into users of
# DATABASE, serve it, compare, import again.
run_against() {
	local db=$1 label=$2 out rc
	for u in rad xan; do
		printf '%s-password-1\n' "$u" | "$work/davenport" user add "$u" --password-stdin --database "$db" >/dev/null
	done
	for peer in radicale xandikos; do
		rc=0
		out=$(import_from $peer "$db" 2>"$work/import.err") || rc=$?
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

	serve "$db" "$label"
	(cd / && $PY "$root/scripts/interop/import_peer.py" check "http://127.0.0.1:$rport" /alice/ /alice/ alice "$rpass" \
		"$url" rad rad-password-1 "radicale → $label") || failed=$((failed + 1))
	(cd / && $PY "$root/scripts/interop/import_peer.py" check "http://127.0.0.1:$xport" /user/calendars/ /user/contacts/ user x \
		"$url" xan xan-password-1 "xandikos → $label") || failed=$((failed + 1))
	stop_server

	# Resumable and idempotent: a second run writes nothing.
	for peer in radicale xandikos; do
		out=$(import_from $peer "$db" 2>&1) || true
		if grep -q "collections: 0 items created, 0 updated, [0-9]* unchanged, 0 rejected" <<<"$out"; then
			echo "ok    $peer → $label: a second import changes nothing"
		else
			printf '%s\n' "$out" >&2
			echo "FAIL  $peer → $label: a second import changed something"
			failed=$((failed + 1))
		fi
	done
}

for_each_store run_against
[[ $failed -eq 0 ]] || die "$failed checks failed"
say "passed"
