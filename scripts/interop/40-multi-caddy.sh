#!/usr/bin/env bash
# The "multi" profile of docker-compose.yml without Docker (issue 20):
# checks the compose file's profile (parsed with python3-yaml), validates
# deploy/Caddyfile.multi with Caddy, then runs Caddy from Debian's package
# with that very Caddyfile in front of two davenport processes on one
# PostgreSQL schema: requests through Caddy reach both instances, and after
# one is killed with SIGKILL every request through Caddy still succeeds.
#
#   scripts/interop/40-multi-caddy.sh
#
# Prints one line per step, counted by scripts/test.sh:
#   ok    compose profile multi
#   FAIL  caddy fails over (…)
# The PostgreSQL steps need DAVENPORT_TEST_DATABASE_URL (scripts/test.sh
# sets it). Installs caddy, python3-yaml and curl with apt-get when missing
# and we are root. The start-up is scripts/interop/lib/common.bash's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
interop_init multi
PY=/usr/bin/python3

have_tools() {
	command -v caddy >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 &&
		[[ -x $PY ]] && $PY -c 'import yaml' 2>/dev/null
}
require have_tools caddy curl python3 python3-yaml

failures=0
pass() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }

# The compose file: valid YAML, and the profile as docs/scaling.md
# describes it.
if out=$($PY - "$root/docker-compose.yml" <<'PYEOF' 2>&1
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["services"]
one, two, caddy = s["davenport"], s["davenport-2"], s["caddy"]
assert "profiles" not in one, "the first instance must run without the profile"
assert two.get("profiles") == ["multi"] and caddy.get("profiles") == ["multi"], "davenport-2 and caddy belong to the profile multi"
assert two["environment"] == one["environment"], "both instances need the same environment (database, trusted proxies)"
assert two["image"] == one["image"], "davenport-2 runs the image the first builds"
assert "ports" not in two, "davenport-2 is reached through Caddy only"
assert "./deploy/Caddyfile.multi:/etc/caddy/Caddyfile:ro" in caddy["volumes"], caddy["volumes"]
ups = caddy["environment"]["DAVENPORT_UPSTREAMS"].split()
assert ups == ["davenport:8008", "davenport-2:8008"], ups
addr = caddy["networks"]["default"]["ipv4_address"]
assert addr + "/32" in one["environment"]["DAVENPORT_TRUSTED_PROXIES"], "the instances trust Caddy's address"
PYEOF
); then
	pass "compose profile multi"
else
	fail "compose profile multi: $out"
fi

if out=$(DAVENPORT_LISTEN=127.0.0.1:1 DAVENPORT_UPSTREAMS="127.0.0.1:2 127.0.0.1:3" \
	caddy validate --adapter caddyfile --config "$root/deploy/Caddyfile.multi" 2>&1); then
	pass "caddy validate deploy/Caddyfile.multi"
else
	fail "caddy validate deploy/Caddyfile.multi: $out"
fi

if [[ -z "${DAVENPORT_TEST_DATABASE_URL:-}" ]]; then
	say "DAVENPORT_TEST_DATABASE_URL not set: skipping the instances behind Caddy"
	exit $((failures > 0))
fi

build_davenport
schema="davenport_multi_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
pgexec "CREATE SCHEMA $schema"
sep='?'
[[ "$DAVENPORT_TEST_DATABASE_URL" == *\?* ]] && sep='&'
database="${DAVENPORT_TEST_DATABASE_URL}${sep}search_path=$schema"
password="multi-$RANDOM-$RANDOM-$RANDOM"
export DAVENPORT_ADMIN_PASSWORD=$password

serve "$database" one
one_url=$url one_pid=$spid one_log=$slog
serve "$database" two
two_url=$url two_log=$slog

port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
front="http://127.0.0.1:$port"
DAVENPORT_LISTEN="127.0.0.1:$port" DAVENPORT_UPSTREAMS="${one_url#http://} ${two_url#http://}" \
	caddy run --adapter caddyfile --config "$root/deploy/Caddyfile.multi" >"$work/caddy.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
	curl -fs -o /dev/null "$front/healthz" 2>/dev/null && break
	sleep 0.1
done

# through N: N PROPFINDs through Caddy; prints how many were not 207.
through() {
	local bad=0 code
	for _ in $(seq 1 "$1"); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -u "admin:$password" -X PROPFIND -H 'Depth: 0' \
			"$front/dav/calendars/admin/personal/" || true)
		[[ $code == 207 ]] || bad=$((bad + 1))
	done
	echo "$bad"
}

bad=$(through 20)
hits_one=$(grep -c 'method=PROPFIND' "$one_log" || true)
hits_two=$(grep -c 'method=PROPFIND' "$two_log" || true)
if [[ $bad -eq 0 && $hits_one -gt 0 && $hits_two -gt 0 ]]; then
	pass "caddy balances two instances ($hits_one and $hits_two of 20 requests)"
else
	cat "$work/caddy.log" >&2
	fail "caddy balances two instances: $bad of 20 failed; $hits_one and $hits_two reached the instances"
fi

kill -KILL "$one_pid"
wait "$one_pid" 2>/dev/null || true
bad=$(through 20)
if [[ $bad -eq 0 ]]; then
	pass "caddy fails over when an instance is killed (20 of 20 succeeded)"
else
	cat "$work/caddy.log" >&2
	fail "caddy fails over when an instance is killed: $bad of 20 failed"
fi
exit $((failures > 0))
