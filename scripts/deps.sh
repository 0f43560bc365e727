#!/bin/sh
# deps.sh - install the Debian packages clearbook builds and tests with.
# As root it runs apt-get for whatever is missing; otherwise it prints the
# exact command to run and fails.  Nothing is assumed to be installed.
set -eu

PACKAGES="gcc make clang libclang-rt-dev pkg-config python3 sqlite3 libxml2-utils time bc ledger hledger wrk openssl
libsqlite3-dev libxml2-dev libcsv-dev libssl-dev libmicrohttpd-dev
libjansson-dev libinih-dev libcmocka-dev
chromium unicode-data"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run as root: apt-get update && $cmd" >&2
	exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
