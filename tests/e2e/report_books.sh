#!/bin/sh
# report_books.sh - the book reports through the command line on a small
# ledger whose figures are known: trial balance (totals equal, JSON
# total_debits/total_credits), balance sheet, income statement, account
# statement; byte-identical output in every format; --out; CSV formula
# neutralisation and Chinese names; usage errors.  The text of the trial
# balance is compared with a golden file.
set -eu
T=report_books
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
expect_exit 0 account add assets:bank --type asset --asset CNY
expect_exit 0 account add assets:clearing:card --type asset --asset CNY
expect_exit 0 account add liabilities:merchants:m1:payable --type liability --asset CNY \
	--meta '{"name":"北京测试书店"}'
expect_exit 0 account add liabilities:merchants:m2:payable --type liability --asset CNY \
	--meta '{"name":"=cmd|calc"}'
expect_exit 0 account add income:fees:processing --type income --asset CNY
expect_exit 0 account add expense:fees:bank --type expense --asset CNY
expect_exit 0 account add equity:opening --type equity --asset CNY
cat >tx.jsonl <<'J'
{"id":"T1","date":"2026-11-01","postings":[{"account":"assets:bank","amount":"1000.00"},{"account":"equity:opening","amount":"-1000.00"}]}
{"id":"T2","date":"2026-11-02","postings":[{"account":"assets:clearing:card","amount":"100.00"},{"account":"liabilities:merchants:m1:payable","amount":"-98.00"},{"account":"income:fees:processing","amount":"-2.00"}],"meta":{"merchant":"m1"}}
{"id":"T3","date":"2026-11-03","postings":[{"account":"expense:fees:bank","amount":"5.00"},{"account":"assets:bank","amount":"-5.00"}]}
{"id":"T4","date":"2026-11-04","postings":[{"account":"assets:clearing:card","amount":"300.00"},{"account":"liabilities:merchants:m2:payable","amount":"-297.00"},{"account":"income:fees:processing","amount":"-3.00"}],"meta":{"merchant":"m2"}}
J
expect_exit 0 post tx.jsonl

# Trial balance: debits 1000 + 100 + 5 + 300 = 1405 = credits.
expect_exit 0 report trial-balance --from 2026-11-01 --to 2026-11-04
golden=$ROOT/tests/golden/report/trial_balance.txt
if [ "${UPDATE_GOLDEN:-}" = 1 ]; then cp out "$golden"; fi
cmp -s out "$golden" || fail "trial balance differs from $golden:
$(diff "$golden" out)"
expect_exit 0 report trial-balance --from 2026-11-01 --to 2026-11-04 --format json
python3 - out <<'PY' || fail "trial balance JSON: $(cat out)"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
t = {r["asset"]: r for r in d["totals"]}
assert t["CNY"]["total_debits"] == "1405.00", t
assert t["CNY"]["total_credits"] == "1405.00", t
assert t["CNY"]["balanced"] == "yes"
acc = {r["account"]: r for r in d["accounts"]}
assert acc["assets:bank"]["closing"] == "995.00"
assert acc["income:fees:processing"]["credits"] == "5.00"
# An independent sum of the rows gives the totals.
from decimal import Decimal
assert sum(Decimal(r["debits"]) for r in d["accounts"]) == Decimal("1405.00")
assert sum(Decimal(r["closing"]) for r in d["accounts"]) == 0
PY
# From the 3rd, T1 and T2 are the opening balances.
expect_exit 0 report trial-balance --from 2026-11-03 --to 2026-11-04 --format csv
tr -d '\r' <out >tb.csv
grep -q '^assets:bank,asset,CNY,1000.00,0.00,5.00,995.00$' tb.csv || fail "opening: $(cat tb.csv)"
grep -q '^CNY,305.00,305.00,0.00,0.00,yes$' tb.csv || fail "totals from the 3rd: $(cat tb.csv)"

# Balance sheet at the 4th: assets 995 + 400 = 1395; liabilities 98 + 297;
# equity 1000; earnings 5 - 5 = 0.
expect_exit 0 report balance-sheet --to 2026-11-04 --format csv
tr -d '\r' <out >bs.csv
grep -q '^CNY,1395.00,395.00,1000.00,0.00,1395.00,0.00$' bs.csv || fail "balance sheet: $(cat bs.csv)"
# Before the bank fee: earnings 2.00.
expect_exit 0 report balance-sheet --to 2026-11-02 --format csv
tr -d '\r' <out >bs2.csv
grep -q '^CNY,1100.00,98.00,1000.00,2.00,1100.00,0.00$' bs2.csv || fail "balance sheet on the 2nd: $(cat bs2.csv)"

# Income statement: income 5, expenses 5, net 0; on the 4th alone net 3.
expect_exit 0 report income-statement --from 2026-11-01 --to 2026-11-04 --format csv
tr -d '\r' <out >is.csv
grep -q '^CNY,5.00,5.00,0.00$' is.csv || fail "income statement: $(cat is.csv)"
expect_exit 0 report income-statement --from 2026-11-04 --to 2026-11-04 --format csv
tr -d '\r' <out >is4.csv
grep -q '^CNY,3.00,0.00,3.00$' is4.csv || fail "income statement of the 4th: $(cat is4.csv)"

# Statement of the bank from the 2nd: opening 1000, one debit of 5, closing 995.
expect_exit 0 report statement assets:bank --from 2026-11-02 --to 2026-11-04 --format csv
tr -d '\r' <out >st.csv
grep -q '^assets:bank,CNY,1000.00,0.00,5.00,995.00,1$' st.csv || fail "statement: $(cat st.csv)"
grep -q '^2026-11-03,T3,posted,,,5.00,995.00$' st.csv || fail "statement line: $(cat st.csv)"
expect_exit 66 report statement assets:nope
expect_exit 64 report statement

# CSV: a merchant name that a spreadsheet would run is neutralised; the
# Chinese name passes through as UTF-8; negative amounts stay numbers.
expect_exit 0 report settlement --from 2026-11-01 --to 2026-11-04 --format csv
grep -q "^m2,\"'=cmd|calc\",CNY," out || fail "formula not neutralised: $(cat out)"
grep -q '^m1,北京测试书店,CNY,0.00,100.00,0.00,-2.00,' out || fail "m1 settlement: $(cat out)"

# Determinism: every report in every format twice, byte for byte; --out
# writes the same bytes as standard output.
for r in trial-balance balance-sheet income-statement "statement assets:bank" \
	reconciliation settlement; do
	for f in text csv json html; do
		# shellcheck disable=SC2086
		expect_exit 0 report $r --from 2026-11-01 --to 2026-11-04 --format $f --detail
		cp out a
		# shellcheck disable=SC2086
		expect_exit 0 report $r --from 2026-11-01 --to 2026-11-04 --format $f --detail \
			--out file.$f
		out_empty "report $r --out"
		cmp -s a file.$f || fail "report $r --format $f: --out differs from stdout"
		# shellcheck disable=SC2086
		expect_exit 0 report $r --from 2026-11-01 --to 2026-11-04 --format $f --detail
		cmp -s a out || fail "report $r --format $f is not deterministic"
	done
done

# The ledger that never reconciled: the report says so and succeeds.
expect_exit 0 report reconciliation --from 2026-11-01 --to 2026-11-04
out_has "never been reconciled" "reconciliation without clearing tables"

# Usage errors.
expect_exit 64 report nope
expect_exit 64 report trial-balance --format xml
expect_exit 64 report trial-balance --from 2026-11-31
expect_exit 64 report trial-balance --from 2026-11-05 --to 2026-11-01
expect_exit 64 settle
expect_exit 64 settle --date 2026-02-30
# settle is all or none: without liabilities:payouts:in-transit the first
# payout fails and neither merchant's payout stays posted.
snap pre_settle
expect_exit_in "65 66" settle --date 2026-11-04
err_has "in-transit" "settle without the in-transit account"
unchanged pre_settle "a failed settle"
verify_ok 4
