#!/bin/sh
# two_writers.sh - the front server, `clearbook post` and `clearbook
# nightly` writing the same database at once: no lost postings, SQLITE_BUSY
# met with bounded waits (the front answers 503 retry, the CLI exits 75
# and writes nothing when a lock is held beyond the bound).
# The driver is tests/front/test_two_writers.py (python3, standard library).
set -eu
T=two_writers
. "$ROOT/tests/e2e/lib/common.sh"

command -v python3 >/dev/null || fail "python3 is needed (a declared dependency)"
command -v sqlite3 >/dev/null || fail "sqlite3 is needed (a declared dependency)"
python3 "$ROOT/tests/front/test_two_writers.py" "$PWD" || fail "see the lines above"
