#!/bin/sh
# front_hold_crash.sh - captures, voids and refunds under repeated SIGKILL: every
# request, answered or not, gets one answer and has one effect on retry;
# every acknowledged capture is in the journal once.
# The client is tests/front/test_hold_crash.py (python3, standard library).
set -eu
T=front_hold_crash
. "$ROOT/tests/e2e/lib/common.sh"

command -v python3 >/dev/null || fail "python3 is needed (a declared dependency)"
python3 "$ROOT/tests/front/test_hold_crash.py" "$PWD" || fail "see the lines above"
