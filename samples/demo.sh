#!/bin/sh
# demo.sh OUTDIR - the main job on the sample world, into OUTDIR.
#
# Until the nightly clearing batch exists, the main job sets up the sample
# ledger in OUTDIR/clearbook.db (assets, chart of accounts, wallet
# templates, the day's transactions), releases expired holds, stages the
# next morning's ISO 20022 bank files from samples/inbox/, and prints the
# balances, the staged statement lines and the verification of the hash
# chain.  Run again on the same folder it changes nothing: every step is
# idempotent (a file already imported is recognised by its SHA-256).
set -eu
out=${1:?usage: samples/demo.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
cb=${CLEARBOOK:-$here/../bin/clearbook}
# The demo's clock is fixed: the morning after the sample day, so that runs
# are reproducible.
export CLEARBOOK_NOW=${CLEARBOOK_NOW:-2026-11-25T02:00:00Z}
export CLEARBOOK_DB="$out/clearbook.db"
mkdir -p "$out"

"$cb" init
"$cb" asset add USDT --scale 6
"$cb" account import "$here/world/accounts.csv"
"$cb" account template add 'liabilities:wallets:*' --type liability --asset CNY --no-overdraft
"$cb" account template add 'liabilities:wallets:*:usdt' --type liability --asset USDT --no-overdraft
"$cb" post "$here/world/day-2026-11-24.jsonl"
"$cb" expire
"$cb" account alias add 6222020200001234567 assets:bank:icbc:cny
"$cb" asset add DAI --scale 18
"$cb" import --profile iso20022 "$here"/inbox/2026-11-25/*.xml
"$cb" import --profile alipay-merchant --account assets:clearing:alipay \
	"$here"/inbox/2026-11-25/2088012345678901_20261124_*.csv
"$cb" import --profile wechat-merchant --account assets:clearing:wechat \
	"$here"/inbox/2026-11-25/wechatpay-merchant-*.csv
"$cb" import --profile chain-transfers --account assets:chain:usdt-hot \
	--set amount.own_address=0x7e2f3a9c61d84b0e5f1a2c3d4e5f60718293a4b5 \
	"$here"/inbox/2026-11-25/chain-transfers-0x7e2f-*.csv
"$cb" balance --format csv > "$out/balances.csv"
"$cb" journal --format json > "$out/journal.json"
echo
echo "== balances (roll-ups and accounts outside customer wallets) =="
"$cb" balance | grep -v ':wallets:c'
echo
echo "== customer wallets: $(grep -c ':wallets:c' "$out/balances.csv") rows in $out/balances.csv =="
"$cb" balance liabilities:wallets | head -n 6
echo
echo "== staged statement lines (channel files of 2026-11-25) =="
"$cb" statement list
echo
echo "== staging breaks =="
"$cb" statement breaks
echo
echo "== verify =="
"$cb" verify
