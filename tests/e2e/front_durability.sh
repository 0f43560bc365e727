#!/bin/sh
# front_durability.sh - the HTTP front under load: SIGTERM drains and exits
# 0; after SIGKILL every purchase that got a 2xx is in the ledger, verify
# passes and the wallets agree with the purchases; the server restarts.
# The client is tests/front/test_durability.py (python3, standard library).
set -eu
T=front_durability
. "$ROOT/tests/e2e/lib/common.sh"

command -v python3 >/dev/null || fail "python3 is needed (a declared dependency)"
python3 "$ROOT/tests/front/test_durability.py" "$PWD" || fail "see the lines above"
