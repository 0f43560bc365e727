#!/bin/sh
# demo.sh OUTDIR [--load-only] - the main job on the sample world, into OUTDIR.
#
# Loads the sample world (samples/world/: chart of accounts, merchants with
# their bank details, the opening balances and the day of 2026-11-24) into
# OUTDIR/clearbook.db, then runs the night of 2026-11-25 over a copy of
# samples/inbox/2026-11-25/ with samples/nightly.ini: import every channel
# file, apply the pain.002 payout statuses, reconcile every channel, expire
# holds, write the reports to OUTDIR/outbox/2026-11-25/.  It ends by printing
# the breaks (samples/EXPECTED.md says which they must be) and where the
# reports are.  Run again on the same folder it changes nothing: every step
# is idempotent and the reports come out byte-identical.
#
# --load-only stops after loading the world (the tests then run the night
# themselves); SAMPLES=DIR takes the world and inbox from DIR (a world made
# by samples/gen --out DIR) instead of samples/.
set -eu
out=${1:?usage: samples/demo.sh OUTDIR [--load-only]}
here=$(cd "$(dirname "$0")" && pwd)
src=${SAMPLES:-$here}
cb=${CLEARBOOK:-$here/../bin/clearbook}
export CLEARBOOK_DB="$out/clearbook.db"
mkdir -p "$out"

# The day is loaded with the clock at its end, the night runs at 02:00 the
# next morning: fixed clocks make every run reproducible.
export CLEARBOOK_NOW=2026-11-24T23:00:00Z
"$cb" init >/dev/null
"$cb" asset add USDT --scale 6 >/dev/null
"$cb" account import "$src/world/accounts.csv" >/dev/null
"$cb" account template add 'liabilities:wallets:*' --type liability --asset CNY --no-overdraft >/dev/null
"$cb" account template add 'liabilities:wallets:*:usdt' --type liability --asset USDT --no-overdraft >/dev/null
tail -n +2 "$src/world/merchants.csv" | while IFS=, read -r code name iban bic bps; do
	"$cb" account add "liabilities:merchants:$code:payable" --type liability --asset CNY \
		--meta "{\"name\":\"$name\",\"iban\":\"$iban\",\"bic\":\"$bic\",\"fee_bps\":$bps}" >/dev/null
done
"$cb" account alias add 6222020200001234567 assets:bank:icbc:cny >/dev/null
"$cb" post "$src/world/transactions.jsonl"
[ "${2:-}" = --load-only ] && exit 0

# The nightly moves rejected files out of its inbox: work on a copy.
mkdir -p "$out/inbox/2026-11-25"
cp -p "$src"/inbox/2026-11-25/* "$out/inbox/2026-11-25/" 2>/dev/null || true
export CLEARBOOK_NOW=2026-11-25T02:00:00Z
status=0
"$cb" nightly --date 2026-11-25 --inbox "$out/inbox/2026-11-25" \
	--outbox "$out/outbox" --config "$here/nightly.ini" || status=$?
echo
echo "== reconciliation, 2026-11-25 =="
cat "$out/outbox/2026-11-25/reconciliation.txt"
echo
echo "== breaks of the night (samples/EXPECTED.md lists what they must be) =="
"$cb" breaks list --date 2026-11-25
echo
"$cb" verify
echo
echo "reports: $out/outbox/2026-11-25/"
exit "$status"
