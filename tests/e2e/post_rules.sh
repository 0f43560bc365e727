#!/bin/sh
# post_rules.sh - `clearbook post`: the JSON Lines format, every rule a
# transaction obeys (two or more postings, none zero, exact amounts within
# the asset's scale, each asset summing to zero, no overdraft), and the
# whole file in one database transaction: all lines or none, EVERY bad line
# reported as FILE:LINE, exit 65, the journal unchanged.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=post_rules
. "$ROOT/tests/e2e/lib/common.sh"

# refused FILE LINES...: post FILE exits 65, reports every listed line as
# 'clearbook: FILE:LINE: ', and no other line.
refused() {
	f=$1
	shift
	expect_exit 65 post "$f"
	out_empty "post $f (refused)"
	n=$(wc -l <"$f")
	i=1
	while [ "$i" -le "$n" ]; do
		case " $* " in
		*" $i "*) err_has "clearbook: $f:$i: " "post $f: bad line $i" ;;
		*) err_lacks "$f:$i:" "post $f: good line $i" ;;
		esac
		i=$((i + 1))
	done
}

expect_exit 0 init
expect_exit 0 asset add USDT --scale 6
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:cny,asset,CNY,0
equity:capital:cny,equity,CNY,0
liabilities:wallets:c1,liability,CNY,1
liabilities:wallets:c2,liability,CNY,0
liabilities:merchants:m1:payable,liability,CNY,0
assets:chain:usdt,asset,USDT,0
liabilities:wallets:c1:usdt,liability,USDT,1
equity:fx:cny,equity,CNY,0
equity:fx:usdt,equity,USDT,0
EOF2
expect_exit 0 account import acc.csv

# ---------------------------------------------------------------------------
# 1. Funding, then the issue's own example line; "1.500" CNY is 1.50.
{
	tx cap-1 assets:bank:cny equity:capital:cny 1000.00
	tx top-c1 assets:bank:cny liabilities:wallets:c1 100.00
	tx usdt-in assets:chain:usdt liabilities:wallets:c1:usdt 50
} >fund.jsonl
expect_exit 0 post fund.jsonl
cat >spec.jsonl <<'EOF2'
{"id":"ord-1001","date":"2026-11-24","memo":"...","postings":[{"account":"liabilities:wallets:c1","amount":"12.34"},{"account":"liabilities:merchants:m1:payable","amount":"-12.34"}],"meta":{"order":"1001"}}
{"id":"ord-1002","date":"2026-11-24","memo":"trailing zero","postings":[{"account":"liabilities:wallets:c1","amount":"1.500"},{"account":"liabilities:merchants:m1:payable","amount":"-1.5"}]}
EOF2
expect_exit 0 post spec.jsonl
expect_exit 0 journal --format csv
tr -d '\r' <out >j.csv
grep -q '^5,ord-1002,.*,liabilities:wallets:c1,CNY,1\.50$' j.csv ||
	fail "ord-1002's '1.500' is not journaled as 1.50:
$(cat j.csv)"
grep -q '^4,ord-1001,.*,liabilities:merchants:m1:payable,CNY,-12\.34$' j.csv ||
	fail "ord-1001 is not journaled as posted:
$(cat j.csv)"
balances
expect_bal liabilities:wallets:c1 CNY "-86.16 0.00 -86.16"
expect_bal liabilities:merchants:m1:payable CNY "-13.84 0.00 -13.84"
expect_bal assets:bank:cny CNY "1100.00 0.00 1100.00"

snap base

# ---------------------------------------------------------------------------
# 2. Malformed amounts: every line refused and reported, nothing posted.
: >amounts.jsonl
for a in 1.505 1e3 1,000.00 +5 "" .5 5. " 5" "5 " 1.5.0 0x10 --5 NaN "１"; do
	printf '{"id":"amt","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"%s"},{"account":"equity:capital:cny","amount":"-1.00"}]}\n' "$a" >>amounts.jsonl
done
# A JSON number is not an exact amount either.
printf '%s\n' '{"id":"num","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":5},{"account":"equity:capital:cny","amount":"-5"}]}' >>amounts.jsonl
refused amounts.jsonl 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
unchanged base "a file of malformed amounts"

# ---------------------------------------------------------------------------
# 3. The rules, one broken per line.
cat >rules.jsonl <<'EOF2'
{"id":"r1","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"5.00"}]}
{"id":"r2","date":"2026-11-24","postings":[]}
{"id":"r3","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"0.00"},{"account":"equity:capital:cny","amount":"0"}]}
{"id":"r4","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"5.00"},{"account":"equity:capital:cny","amount":"-5.00"},{"account":"liabilities:wallets:c2","amount":"-0.00"}]}
{"id":"r5","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"5.00"},{"account":"equity:capital:cny","amount":"-4.99"}]}
{"id":"r6","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"1.00"},{"account":"assets:chain:usdt","amount":"-1.00"}]}
{"id":"r7","date":"2026-11-24","postings":[{"account":"liabilities:wallets:c1","amount":"10.00"},{"account":"equity:fx:cny","amount":"-10.00"},{"account":"equity:fx:usdt","amount":"1"},{"account":"liabilities:wallets:c1:usdt","amount":"-0.999999"}]}
{"id":"r8","date":"2026-02-30","postings":[{"account":"assets:bank:cny","amount":"5.00"},{"account":"equity:capital:cny","amount":"-5.00"}]}
{"id":"r9","date":"24/11/2026","postings":[{"account":"assets:bank:cny","amount":"5.00"},{"account":"equity:capital:cny","amount":"-5.00"}]}
{"id":"r10","date":"2026-11-24","postings":[{"account":"assets:no:such","amount":"5.00"},{"account":"equity:capital:cny","amount":"-5.00"}]}
{"date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"5.00"},{"account":"equity:capital:cny","amount":"-5.00"}]}
{"id":"r12","date":"2026-11-24"}
{"id":"r13","date":"2026-11-24","postings":[{"account":"liabilities:wallets:c1","amount":"86.17"},{"account":"assets:bank:cny","amount":"-86.17"}]}
this is not JSON
{"id":"r15","date":"2026-11-24","postings":[{"account":"liabilities:wallets:c1:usdt","amount":"50.000001"},{"account":"assets:chain:usdt","amount":"-50.000001"}]}
EOF2
refused rules.jsonl 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
unchanged base "a file breaking every rule"

# ---------------------------------------------------------------------------
# 4. Good and bad lines mixed: lines 2 and 4 bad, both reported, and none of
#    the good lines 1, 3, 5 posted.
{
	tx mix-1 assets:bank:cny equity:capital:cny 1.00
	tx mix-2 assets:bank:cny equity:capital:cny 1.505
	tx mix-3 assets:bank:cny equity:capital:cny 3.00
	tx mix-4 liabilities:wallets:c1 assets:bank:cny 500.00
	tx mix-5 assets:bank:cny equity:capital:cny 5.00
} >mixed.jsonl
refused mixed.jsonl 2 4
unchanged base "a file with bad lines 2 and 4"
# A line made bad only by an earlier bad line is reported too: the top-up
# on line 1 is refused, so the spend on line 2 overdraws.
{
	tx top-bad assets:bank:cny liabilities:wallets:c1 1000.001
	tx spend-big liabilities:wallets:c1 assets:bank:cny 1000.00
} >chain.jsonl
refused chain.jsonl 1 2
unchanged base "a refused top-up and spend"

# A missing file: 66, nothing changes.
expect_exit 66 post no-such-file.jsonl
out_empty "post no-such-file.jsonl"
unchanged base "posting a missing file"

# ---------------------------------------------------------------------------
# 5. Standard input.
tx stdin-1 assets:bank:cny equity:capital:cny 2.00 >stdin-good.jsonl
expect_exit 0 post - <stdin-good.jsonl
{
	tx stdin-2 assets:bank:cny equity:capital:cny 2.00
	tx stdin-3 assets:bank:cny equity:capital:cny 2.001
} >stdin-bad.jsonl
expect_exit 65 post - <stdin-bad.jsonl
err_has ":2: " "a bad line 2 on stdin"
err_lacks ":1: " "a good line 1 on stdin"
verify_ok 6

# ---------------------------------------------------------------------------
# 6. Several assets in one transaction: allowed when each asset balances.
cat >fx.jsonl <<'EOF2'
{"id":"fx-1","date":"2026-11-24","memo":"c1 buys USDT","postings":[{"account":"liabilities:wallets:c1","amount":"72.00"},{"account":"equity:fx:cny","amount":"-72.00"},{"account":"equity:fx:usdt","amount":"10.5"},{"account":"liabilities:wallets:c1:usdt","amount":"-10.500000"}]}
EOF2
expect_exit 0 post fx.jsonl
balances
expect_bal liabilities:wallets:c1 CNY "-14.16 0.00 -14.16"
expect_bal equity:fx:cny CNY "-72.00 0.00 -72.00"
expect_bal equity:fx:usdt USDT "10.500000 0.000000 10.500000"
expect_bal liabilities:wallets:c1:usdt USDT "-60.500000 0.000000 -60.500000"

# ---------------------------------------------------------------------------
# 7. No overdraft: a no-overdraft wallet may reach zero, never below; other
#    accounts may; lines of one file see the balances of the lines before.
tx spend-all liabilities:wallets:c1 assets:bank:cny 14.16 >spend-all.jsonl
expect_exit 0 post spend-all.jsonl
tx spend-cent liabilities:wallets:c1 assets:bank:cny 0.01 >spend-cent.jsonl
refused spend-cent.jsonl 1
tx c2-over liabilities:wallets:c2 assets:bank:cny 5.00 >c2.jsonl
expect_exit 0 post c2.jsonl
{
	tx top-again assets:bank:cny liabilities:wallets:c1 20.00
	tx spend-again liabilities:wallets:c1 assets:bank:cny 20.00
} >again.jsonl
expect_exit 0 post again.jsonl
balances
expect_bal liabilities:wallets:c1 CNY "0.00 0.00 0.00"
expect_bal liabilities:wallets:c2 CNY "5.00 0.00 5.00"
expect_bal assets:bank:cny CNY "1082.84 0.00 1082.84"
verify_ok 11

echo "$T: ok"
