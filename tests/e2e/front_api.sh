#!/bin/sh
# front_api.sh - the HTTP front against a real server on loopback: every
# endpoint and error, signatures, another merchant's purchase, idempotent
# retries in parallel, holds, partial capture, void, expiry, refunds, points
# and FX, risk refusals, rate limits, oversize and deeply nested bodies.
# The client is tests/front/test_api.py (python3, standard library only).
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=front_api
. "$ROOT/tests/e2e/lib/common.sh"

command -v python3 >/dev/null || fail "python3 is needed (a declared dependency)"
python3 "$ROOT/tests/front/test_api.py" "$PWD" || fail "see the lines above"
