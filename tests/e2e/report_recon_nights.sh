#!/bin/sh
# report_recon_nights.sh - the reconciliation report counts a break that
# stood on several nights once, at the age of its latest night within the
# period: an unknown line and an unsettled item reconciled on 2, 5 and 12
# November fall in 0-1, 2-7 or 8-30 days by the period's end, never twice.
set -eu
T=report_recon_nights
. "$ROOT/tests/e2e/lib/common.sh"

printf 'code,type,asset,no_overdraft\nassets:clearing:card,asset,CNY,0\nassets:bank:cny,asset,CNY,0\nincome:sales,income,CNY,0\n' >accounts.csv
expect_exit 0 init
expect_exit 0 account import accounts.csv
cat >tx.jsonl <<'TX'
{"id":"P1","date":"2026-11-01","postings":[{"account":"assets:clearing:card","amount":"10.00"},{"account":"income:sales","amount":"-10.00"}]}
{"id":"P2","date":"2026-11-01","postings":[{"account":"assets:clearing:card","amount":"20.00"},{"account":"income:sales","amount":"-20.00"}]}
TX
expect_exit 0 post tx.jsonl
printf 'Date,Description,Amount,Currency,Reference,Counterparty,End To End ID\n2026-11-01,capture,20.00,CNY,L1,,P2\n2026-11-01,unknown,33.00,CNY,L2,,NOPE\n' >card.csv
expect_exit 0 import --profile bank-csv --channel card --account assets:bank:cny card.csv
printf '[channel card]\nwindow_days = 1\nsettle_days = 1\n' >recon.ini
for d in 2026-11-02 2026-11-05 2026-11-12; do
	expect_exit 0 reconcile --channel card --date "$d" --config recon.ini
done

for to in 2026-11-02 2026-11-05 2026-11-30; do
	expect_exit 0 report reconciliation --from 2026-11-01 --to "$to" --format json --detail
	cp out "recon-$to.json"
done
python3 - <<'PY' || fail "breaks across nights"
import json
def load(to):
    return json.load(open(f"recon-{to}.json"))
for to, bucket, age in (("2026-11-02", "0-1", "1"), ("2026-11-05", "2-7", "4"),
                        ("2026-11-30", "8-30", "11")):
    d = load(to)
    ch = d["channels"]
    assert len(ch) == 1 and ch[0]["breaks"] == 2 and ch[0]["breaks_open"] == 2, (to, ch)
    assert ch[0]["lines"] == 2 and ch[0]["matched"] == 1, (to, ch)
    ag = d["ageing"]
    assert [(a["age_days"], a["breaks"], a["amount"]) for a in ag] == [(bucket, 2, "43.00")], (to, ag)
    br = d["breaks"]
    assert sorted((b["kind"], str(b["age_days"]), b["amount"]) for b in br) == \
        [("unknown", age, "33.00"), ("unsettled", age, "10.00")], (to, br)
PY
echo "ok: $T"
