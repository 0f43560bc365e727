#!/bin/sh
# import_csv.sh - clearbook import with the CSV profiles: every shipped
# profile on its sample file, exact amounts, Chinese text intact from GBK,
# re-import as a no-op, repeated references within one file kept, overlaps
# across files kept once, a bad row staging nothing, every bad row of a file
# named in one run, and the corpus CSV
# files (skipped with a message where ../shared/corpus is absent).
set -eu
T=import_csv
. "$ROOT/tests/e2e/lib/common.sh"

inbox="$ROOT/tests/fixtures/import"
corpus=${CLEARBOOK_CORPUS:-$ROOT/../shared/corpus}

expect_exit 0 init
expect_exit 0 asset add USDT --scale 6
expect_exit 0 asset add DAI --scale 18
for a in bank:eur:EUR clearing:card:EUR clearing:alipay:CNY clearing:wechat:CNY chain:hot:USDT; do
	code=assets:$(echo "$a" | cut -d: -f1,2)
	expect_exit 0 account add "$code" --type asset --asset "$(echo "$a" | cut -d: -f3)"
done

# staged NAME: the staged lines, CSV without the header and CRs
staged() {
	expect_exit 0 statement list --format csv
	tr -d '\r' <out | tail -n +2 >staged.csv
}

expect_exit 0 import --profile bank-csv --account assets:bank:eur "$inbox/bank-statement-20261124.csv"
out_has "3 line(s) staged" "bank-csv"
staged
grep -q ',assets:bank:eur,2026-11-24,1250.00,EUR,,BNK-20261124-0001,' staged.csv ||
	fail "bank-csv credit not staged exactly: $(cat staged.csv)"
grep -q ',-3400.55,EUR,' staged.csv || fail "bank-csv debit not staged: $(cat staged.csv)"
# statement list shows each line's original fields: in JSON as an object
# with the file and line, with --raw as text or CSV; every cell as read.
expect_exit 0 statement list --format json
python3 - "$inbox/bank-statement-20261124.csv" out <<'PY' || fail "statement list --format json: raw fields differ from the file: $(cat out)"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
header, body = rows[0], rows[1:]
got = json.load(open(sys.argv[2]))
assert len(got) == len(body), (len(got), len(body))
for i, (g, r) in enumerate(zip(got, body)):
    want = {h: v for h, v in zip(header, r) if h or v}
    assert g["raw"] == want, (g["raw"], want)
    assert g["file"].endswith("bank-statement-20261124.csv"), g["file"]
    assert g["line"] == i + 2, (g["line"], i)
    assert isinstance(g["id"], int) and g["channel"] == "bank", g
PY
expect_exit 0 statement list --raw --format csv
tr -d '\r' <out >raw.csv
head -1 raw.csv | grep -qx 'id,file,line,raw' || fail "statement list --raw header: $(head -1 raw.csv)"
grep -q 'BNK-20261124-0001' raw.csv || fail "statement list --raw lacks the reference: $(cat raw.csv)"
expect_exit 0 statement list --raw
out_has '"Amount":"-3400.55"' "statement list --raw (text) shows the amount as written"

expect_exit 0 import --profile card-settlement --account assets:clearing:card "$inbox/card-settlement-batch-412.csv"
out_has "line(s) staged" "card-settlement"

expect_exit 0 import --profile alipay-merchant --account assets:clearing:alipay "$inbox/2088012345678901_20261124_业务明细.csv"
out_has "3 line(s) staged" "alipay merchant bill (GBK)"
staged
grep -q ',198.00,CNY,' staged.csv || fail "alipay sale not staged: $(cat staged.csv)"
grep -q ',-198.00,CNY,' staged.csv || fail "alipay refund not staged negative: $(cat staged.csv)"
sqlite3 clearbook.db "SELECT raw FROM statement_lines_raw" | grep -q "年费会员（12个月）" ||
	fail "Chinese text from the GBK file is not intact in UTF-8"

expect_exit 0 import --profile wechat-merchant --account assets:clearing:wechat "$inbox/wechatpay-merchant-1900000109-20261124.csv"
out_has "line(s) staged" "wechat merchant bill"

# chain transfers need the wallet the export is for
expect_exit 65 import --profile chain-transfers --account assets:chain:hot "$inbox/chain-transfers-0x7e2f-20261124.csv"
err_has "own_address" "chain-transfers without the wallet address"
expect_exit 0 import --profile chain-transfers --set amount.own_address=0x7e2f3a9c61d84b0e5f1a2c3d4e5f60718293a4b5 \
	--account assets:chain:hot "$inbox/chain-transfers-0x7e2f-20261124.csv"
staged
grep -q ',2500.125000,USDT,' staged.csv || fail "USDT transfer not exact at 6 decimals: $(cat staged.csv)"
grep -q ',-1.234567890123456789,DAI,' staged.csv || fail "18-decimal DAI not exact: $(cat staged.csv)"
grep -q ',0.000000000000000001,DAI,' staged.csv || fail "1 wei of DAI not exact: $(cat staged.csv)"

expect_exit 0 import --profile disputes --account assets:clearing:card "$inbox/disputes-20261124.csv"
out_has "3 line(s) staged" "disputes"

# the same file again: a no-op that says so
staged
cp staged.csv before.csv
expect_exit 0 import --profile bank-csv --account assets:bank:eur "$inbox/bank-statement-20261124.csv"
out_has "already imported" "re-import"
# an overlapping export (same rows, one more) keeps the old rows once
{ cat "$inbox/bank-statement-20261124.csv"; echo '2026-11-24,Late credit,10.00,EUR,BNK-20261124-0004,,'; } >overlap.csv
expect_exit 0 import --profile bank-csv --account assets:bank:eur overlap.csv
out_has "1 line(s) staged, 3 duplicate(s) skipped" "overlapping export"

# a bad row stages nothing and names file, line and column
{ head -2 "$inbox/bank-statement-20261124.csv"; echo '2026-11-25,Bad,12.345,EUR,BNK-20261125-0009,,'; } >bad.csv
staged
cp staged.csv before.csv
expect_exit 65 import --profile bank-csv --account assets:bank:eur bad.csv
err_has "bad.csv:3" "bad row names its line"
staged
cmp -s before.csv staged.csv || fail "a refused file staged something"

# every bad row is named, not just the first, and the file stages nothing
{
	head -2 "$inbox/bank-statement-20261124.csv"
	echo '2026-11-25,Bad amount,12.345,EUR,BNK-20261125-0010,,'
	echo '2026-11-25,Good,1.00,EUR,BNK-20261125-0011,,'
	echo '2026-13-01,Bad date,2.00,EUR,BNK-20261125-0012,,'
	echo '2026-11-25,Good too,3.00,EUR,BNK-20261125-0013,,'
} >bad2.csv
expect_exit 65 import --profile bank-csv --account assets:bank:eur bad2.csv
err_has "bad2.csv:3: column 3 'Amount'" "first bad row names its line and column"
err_has "bad2.csv:5: column 1 'Date'" "second bad row names its line and column"
err_has "bad2.csv: 2 rows refused; nothing was staged" "summary of the refused rows"
staged
cmp -s before.csv staged.csv || fail "a file with two bad rows staged something"

# --- the shared corpus (real exports)
if [ ! -d "$corpus" ]; then
	echo "$T: $corpus is absent; skipping the corpus files"
	exit 0
fi
expect_exit 0 import --profile alipay --account assets:clearing:alipay "$corpus/debsig_example-alipay-records.csv"
out_has "10 line(s) staged" "alipay personal bill (GB18030)"
expect_exit 0 import --profile wechat --account assets:clearing:wechat "$corpus/debsig_example-wechat-records.csv"
out_has "27 line(s) staged, 0 duplicate(s)" "wechat personal bill: repeated ids are distinct rows"
expect_exit 0 import --profile card-settlement --account assets:clearing:card "$corpus/adyen_settlement_detail_report_batch_238.csv"
out_has "3 line(s) staged" "adyen settlement batch 238"
echo "$T: ok"
