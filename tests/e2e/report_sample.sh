#!/bin/sh
# report_sample.sh - the reports on the sample night (samples/demo.sh):
# reconciliation match rates per channel and rule and the breaks by age
# and amount (samples/EXPECTED.md's six breaks), then a later night that
# ages two of them past 30 days; the merchant settlement with Lotus Travel's
# payout rejected in pain.002 and reversed; `settle` posting each merchant's
# payable once (a second run replays), ready for the pain.001 exporter.
set -eu
T=report_sample
. "$ROOT/tests/e2e/lib/common.sh"

sh "$ROOT/samples/demo.sh" demo >demo.out 2>demo.err || fail "demo failed: $(cat demo.err)"
no_sanitizer_report demo.err "samples/demo.sh"
CLEARBOOK_DB=$PWD/demo/clearbook.db
export CLEARBOOK_DB

csv() { # ARGS...: report in CSV into ./r.csv (CR stripped)
	expect_exit 0 report "$@" --format csv
	tr -d '\r' <out >r.csv
}
has() { # LINE WHAT
	grep -qxF -- "$1" r.csv || fail "$2: no line '$1' in:
$(cat r.csv)"
}

# --- reconciliation --------------------------------------------------------
csv reconciliation --from 2026-11-24 --to 2026-11-25
has "card,73,72,1,98.63,3,3" "card match rate"
has "bank,6,4,2,66.67,3,3" "bank match rate"
has "alipay,40,40,0,100.00,0,0" "alipay match rate"
has "wechat,49,49,0,100.00,0,0" "wechat match rate"
has "bank,one-to-many,4,4,66.67" "bank rule"
has "card,reference,72,72,98.63" "card rule"
# EXPECTED.md: bank 46357.47 + 11703.68 + 5000.00; card 246.43 + 456.00 + 292.76
has "bank,0-1,CNY,3,3,63061.15" "bank ageing"
has "card,0-1,CNY,3,3,995.19" "card ageing"
# The match rates recomputed from the clearing tables, independently.
python3 - demo/clearbook.db r.csv <<'PY' || fail "match rates differ from a recomputation"
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = list(csv.reader(open(sys.argv[2], encoding="utf-8")))
got = {r[0]: r for r in rows[1:rows.index([])]}
for ch, lines, matched in db.execute(
        "SELECT channel, count(*), sum(id IN (SELECT line_id FROM clearing_match_lines"
        " WHERE match_id NOT IN (SELECT match_id FROM clearing_unmatches)))"
        " FROM statement_lines WHERE parent_id IS NULL AND"
        " COALESCE(booking_date, value_date) BETWEEN '2026-11-24' AND '2026-11-25'"
        " GROUP BY channel"):
    bps = (matched * 10000 * 2 + lines) // (2 * lines)  # half up; no ties here
    want = "%d.%02d" % (bps // 100, bps % 100)
    assert got[ch][1] == str(lines) and got[ch][2] == str(matched), (ch, got[ch])
    assert got[ch][4] == want, (ch, got[ch], want)
PY
# The nightly's own summary agrees.
grep -q "^card  *73  *72 " demo/outbox/2026-11-25/reconciliation.txt || fail "nightly summary"

# A night 35 days later: the card break of TU-20261124-00010 is counted
# once, at its latest age (36 days, over 30), not once per night.
cp demo/clearbook.db late.db
CLEARBOOK_NOW=2026-12-30T02:00:00Z "$CLEARBOOK" --db late.db reconcile --channel card \
	--date 2026-12-30 >/dev/null 2>late.err || fail "late reconcile: $(cat late.err)"
CLEARBOOK_DB=$PWD/late.db csv reconciliation --from 2026-11-24 --to 2026-12-30 --detail
has "card,over 30,CNY,2,2,539.19" "card breaks over 30 days"
has "card,0-1,CNY,2,2,702.43" "card breaks of the first night"
[ "$(grep -c ',TU-20261124-00010,' r.csv)" -eq 1 ] || fail "the unsettled break counted twice: $(cat r.csv)"

# --- settlement ------------------------------------------------------------
csv settlement --from 2026-11-24 --to 2026-11-25
has "m003,Lotus Travel Ltd,CNY,11703.68,6418.58,0.00,-160.46,0.00,0.00,0.00,-11703.68,11703.68,17961.80,0.00" "m003 settlement"
has "m001,上海云杉咖啡有限公司,CNY,9234.56,8799.28,0.00,-132.00,0.00,0.00,0.00,-9234.56,0.00,8667.28,0.00" "m001 settlement"
has "m003,PO-20261124-m003,2026-11-24,11703.68,CNY,RJCT,AC04,yes" "m003 rejected payout"
has "m001,PO-20261124-m001,2026-11-24,9234.56,CNY,ACSC,,no" "m001 payout"
# Net payable is each payable's balance (an independent reading).
expect_exit 0 balance --format csv
tr -d '\r' <out >bal.csv
grep -q '^liabilities:merchants:m003:payable,CNY,-17961.80,' bal.csv || fail "m003 balance: $(grep m003 bal.csv)"
grep '^m002,' r.csv >m002.all
csv settlement m002 --from 2026-11-24 --to 2026-11-25
[ "$(grep -c '^m00' r.csv)" -eq 2 ] || fail "settlement m002 shows other merchants: $(cat r.csv)"
grep '^m002,' r.csv | cmp -s - m002.all || fail "m002 alone differs from m002 among all: $(cat r.csv)"
expect_exit 66 report settlement m999

# --- settle ----------------------------------------------------------------
snap before
expect_exit 0 settle --date 2026-11-25
out_has "4 payout(s) posted, 0 replayed" "first settle"
snap settled
expect_exit 0 settle --date 2026-11-25
out_has "0 payout(s) posted, 4 replayed" "second settle"
unchanged settled "a second settle"
balances
expect_bal liabilities:merchants:m003:payable CNY "0.00 0.00 0.00"
expect_bal liabilities:merchants:m001:payable CNY "0.00 0.00 0.00"
expect_bal liabilities:payouts:in-transit CNY "-38884.50 0.00 -38884.50"
expect_exit 0 journal --format json
grep -q '"payout_id":"PO-20261125-m003"' out || fail "payout meta: $(grep PO-20261125-m003 out)"
csv settlement --from 2026-11-25 --to 2026-11-25
has "m003,PO-20261125-m003,2026-11-25,17961.80,CNY,none yet,,no" "new m003 payout"
expect_exit 0 verify

# pain.001 exports exactly what settle posted.  (The sample merchants'
# IBANs are placeholders the exporter refuses, so a small ledger here.)
CLEARBOOK_DB=$PWD/pay.db
expect_exit 0 init
expect_exit 0 account add assets:clearing:card --type asset --asset CNY
expect_exit 0 account add liabilities:payouts:in-transit --type liability --asset CNY
expect_exit 0 account add liabilities:merchants:m7:payable --type liability --asset CNY \
	--meta '{"name":"杭州西湖茶社","iban":"DE89370400440532013000","bic":"COBADEFFXXX"}'
expect_exit 0 account add liabilities:merchants:m8:payable --type liability --asset CNY \
	--meta '{"name":"Empty Shop","iban":"GB29NWBK60161331926819","bic":"NWBKGB2L"}'
tx S1 assets:clearing:card liabilities:merchants:m7:payable 123.45 >s.jsonl
expect_exit 0 post s.jsonl
expect_exit 0 settle --date 2026-11-24
out_has "1 payout(s) posted, 0 replayed (already posted), 1 with nothing owed" "small settle"
expect_exit 0 keygen key.pem
expect_exit 0 export pain001 --date 2026-11-24 --out pay --key key.pem \
	--debtor-name "Clearbook Ltd" --debtor-iban DE02120300000000202051 --debtor-bic BYLADEM1001
grep -q "<EndToEndId>PO-20261124-m7</EndToEndId>" pay/pain001.xml || fail "pain001 lacks m7: $(cat pay/pain001.xml)"
grep -q ">123.45<" pay/pain001.xml || fail "pain001 lacks 123.45"
[ "$(grep -c '<EndToEndId>' pay/pain001.xml)" -eq 1 ] || fail "pain001: $(grep EndToEndId pay/pain001.xml)"
verify_ok 2
