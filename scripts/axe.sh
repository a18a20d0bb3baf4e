#!/usr/bin/env bash
# Prints the path of axe-core's axe.min.js for the browser tests' accessibility
# check (server/web_browser_test.go), installing the pinned version from npm
# into a cache directory when it is not there yet. axe-core's source is never
# committed: it is fetched, like Chromium and PostgreSQL, by the test tooling.
#
#   scripts/axe.sh    # prints e.g. ~/.cache/davenport/axe-core-4.14.1/node_modules/axe-core/axe.min.js
#
# When npm is missing and we are root, it is installed with apt-get (as
# test.sh does for chromium). Exits non-zero, saying why, when neither works.
set -euo pipefail

version=4.14.1
cache=${DAVENPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/davenport}
dir=$cache/axe-core-$version
js=$dir/node_modules/axe-core/axe.min.js

if [[ -s "$js" ]]; then
	echo "$js"
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		echo "axe.sh: installing npm for axe-core" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update >&2
		apt-get install -y --no-install-recommends npm >&2
	else
		echo "axe.sh: no npm on PATH and cannot install it (not root): cannot fetch axe-core" >&2
		exit 1
	fi
fi
mkdir -p "$dir"
tmp=$(mktemp -d "$cache/axe-core-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "axe.sh: fetching axe-core $version with npm" >&2
npm install --prefix "$tmp" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "axe-core@$version" >&2
[[ -s "$tmp/node_modules/axe-core/axe.min.js" ]] || { echo "axe.sh: npm did not install axe-core" >&2; exit 1; }
rm -rf "$dir/node_modules"
mv "$tmp/node_modules" "$dir/node_modules"
echo "$js"
