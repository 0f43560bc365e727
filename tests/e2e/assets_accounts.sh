#!/bin/sh
# assets_accounts.sh - assets (ISO 4217 preloaded with real exponents, added
# tokens and points, each scale enforced on amounts) and accounts (add, list,
# import all or nothing, close, templates that open accounts on first use).
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=assets_accounts
. "$ROOT/tests/e2e/lib/common.sh"

# accounts: `account list --format csv` into ./acc.csv (CR stripped).
accounts() {
	expect_exit 0 account list --format csv
	tr -d '\r' <out >acc.csv
}

expect_exit 0 init

# ---------------------------------------------------------------------------
# 1. ISO 4217 preloaded with the real exponents; added assets.
expect_exit 0 asset list --format csv
tr -d '\r' <out >assets.csv
for pair in CNY,2 JPY,0 KWD,3 BHD,3 USD,2 EUR,2; do
	grep -qx "$pair" assets.csv || fail "asset list lacks '$pair':
$(cat assets.csv)"
done
expect_exit 0 asset add USDT --scale 6
expect_exit 0 asset add DAI --scale 18
expect_exit 0 asset add POINTS --scale 0
expect_exit 0 asset list
for pair in "USDT 6" "DAI 18" "POINTS 0" "CNY 2" "JPY 0"; do
	# shellcheck disable=SC2086 # split "CODE SCALE"
	set -- $pair
	grep -Eq "^$1 +$2\$" out || fail "asset list lacks $1 with scale $2:
$(cat out)"
done
# A scale never changes.
expect_exit 65 asset add USDT --scale 2
expect_exit_in "64 65" asset add BIG --scale 19
expect_exit 0 asset list --format csv
tr -d '\r' <out | grep -qx 'USDT,6' || fail "a refused asset add changed USDT: $(cat out)"
grep -q '^BIG,' out && fail "a refused asset was added: $(cat out)"

# ---------------------------------------------------------------------------
# 2. account add and list; duplicates and bad definitions refused.
expect_exit 0 account add assets:bank:cny --type asset --asset CNY
expect_exit 0 account add liabilities:wallets:c1 --type liability --asset CNY --no-overdraft
expect_exit 0 account add expenses:bank --type expense --asset CNY
# An existing code with another definition is a conflict. (The same
# definition again is not checked: the spec does not say.)
expect_exit 65 account add assets:bank:cny --type liability --asset JPY
expect_exit_in "64 65" account add assets:other --type bogus --asset CNY
expect_exit_in "65 66" account add assets:other --type asset --asset NOPE
expect_exit 64 account add assets:other --type asset
accounts
[ "$(wc -l <acc.csv)" -eq 4 ] || fail "expected a header and 3 accounts:
$(cat acc.csv)"
grep -q '^assets:bank:cny,asset,CNY,' acc.csv || fail "account list: assets:bank:cny: $(cat acc.csv)"
grep -q '^liabilities:wallets:c1,liability,CNY,.*overdraft' acc.csv ||
	fail "account list does not show liabilities:wallets:c1 as a no-overdraft CNY liability: $(cat acc.csv)"
grep '^assets:bank:cny,' acc.csv | grep -q overdraft &&
	fail "account list marks assets:bank:cny no-overdraft: $(cat acc.csv)"
expect_exit 0 account list liabilities
out_has "liabilities:wallets:c1" "account list liabilities"
out_lacks "assets:bank:cny" "account list liabilities"

# ---------------------------------------------------------------------------
# 3. account import: all or nothing, every bad line named FILE:LINE.
cat >good.csv <<'EOF2'
code,type,asset,no_overdraft
equity:capital:cny,equity,CNY,0
income:fees,income,CNY,
liabilities:imported:w,liability,CNY,1
assets:s:jpy,asset,JPY,0
equity:s:jpy,equity,JPY,0
assets:s:kwd,asset,KWD,0
equity:s:kwd,equity,KWD,0
assets:s:bhd,asset,BHD,0
equity:s:bhd,equity,BHD,0
assets:s:usdt,asset,USDT,0
equity:s:usdt,equity,USDT,0
assets:s:dai,asset,DAI,0
equity:s:dai,equity,DAI,0
assets:s:points,asset,POINTS,0
equity:s:points,equity,POINTS,0
EOF2
expect_exit 0 account import good.csv
accounts
[ "$(wc -l <acc.csv)" -eq 19 ] || fail "expected 18 accounts after the import:
$(cat acc.csv)"
grep -q '^liabilities:imported:w,liability,CNY,.*overdraft' acc.csv ||
	fail "import: liabilities:imported:w missing or not no-overdraft: $(cat acc.csv)"
grep -q '^assets:s:dai,asset,DAI,' acc.csv || fail "import: assets:s:dai missing: $(cat acc.csv)"
grep '^equity:capital:cny,' acc.csv | grep -q overdraft &&
	fail "import: equity:capital:cny (no_overdraft 0) marked no-overdraft"
cp acc.csv acc.before
# Lines 3 and 5 are bad (unknown type, unknown asset), line 6 redefines an
# existing account; lines 2 and 4 alone would be fine.
cat >bad.csv <<'EOF2'
code,type,asset,no_overdraft
assets:new:one,asset,CNY,0
assets:new:two,bogus,CNY,0
assets:new:three,asset,JPY,1
assets:new:four,asset,NOPE,0
assets:bank:cny,liability,CNY,0
EOF2
expect_exit 65 account import bad.csv
err_has "bad.csv:3:" "import of bad.csv"
err_has "bad.csv:5:" "import of bad.csv"
err_has "bad.csv:6:" "import of bad.csv"
err_lacks "bad.csv:2:" "import of bad.csv"
err_lacks "bad.csv:4:" "import of bad.csv"
expect_exit 66 account import no-such-file.csv
accounts
cmp -s acc.before acc.csv || fail "a refused import changed the accounts:
$(cat acc.csv)"

# ---------------------------------------------------------------------------
# 4. Scales: each asset's exponent bounds the decimals of its amounts;
#    trailing zeros past the scale are exact and accepted.
{
	tx g1 assets:s:jpy equity:s:jpy 5000
	tx g2 assets:s:jpy equity:s:jpy 7.0
	tx g3 assets:s:kwd equity:s:kwd 1.234
	tx g4 assets:s:bhd equity:s:bhd 0.001
	tx g5 assets:s:usdt equity:s:usdt 0.000001
	tx g6 assets:s:dai equity:s:dai 0.000000000000000001
	tx g7 assets:s:dai equity:s:dai 123456789.123456789012345678
	tx g8 assets:s:points equity:s:points 42
	tx g9 assets:bank:cny equity:capital:cny 1000.00
} >good.jsonl
expect_exit 0 post good.jsonl
{
	tx b1 assets:s:jpy equity:s:jpy 5000.5
	tx b2 assets:s:kwd equity:s:kwd 1.2345
	tx b3 assets:s:bhd equity:s:bhd 0.0001
	tx b4 assets:s:usdt equity:s:usdt 0.0000001
	tx b5 assets:s:dai equity:s:dai 0.0000000000000000001
	tx b6 assets:s:points equity:s:points 0.5
	tx b7 assets:bank:cny equity:capital:cny 0.001
} >bad.jsonl
expect_exit 65 post bad.jsonl
for i in 1 2 3 4 5 6 7; do
	err_has "bad.jsonl:$i:" "amounts with more decimals than the scale"
done
balances
expect_bal assets:s:jpy JPY "5007 0 5007"
expect_bal assets:s:kwd KWD "1.234 0.000 1.234"
expect_bal assets:s:bhd BHD "0.001 0.000 0.001"
expect_bal assets:s:usdt USDT "0.000001 0.000000 0.000001"
expect_bal assets:s:dai DAI "123456789.123456789012345679 0.000000000000000000 123456789.123456789012345679"
expect_bal equity:s:dai DAI "-123456789.123456789012345679 0.000000000000000000 -123456789.123456789012345679"
expect_bal assets:s:points POINTS "42 0 42"
expect_bal assets:bank:cny CNY "1000.00 0.00 1000.00"

# ---------------------------------------------------------------------------
# 5. account close: a closed account refuses postings, other accounts work.
expect_exit 0 account close expenses:bank
accounts
grep '^expenses:bank,' acc.csv | grep -q ',2026-11-25T02:00:00Z$' ||
	fail "account list does not show expenses:bank closed: $(cat acc.csv)"
{
	tx fee-1 expenses:bank assets:bank:cny 1.00
	tx fee-2 assets:bank:cny expenses:bank 1.00
} >closed.jsonl
expect_exit 65 post closed.jsonl
err_has "closed.jsonl:1:" "debit to a closed account"
err_has "closed.jsonl:2:" "credit to a closed account"
verify_ok 9
tx fee-3 assets:bank:cny income:fees 1.00 >fee3.jsonl
expect_exit 0 post fee3.jsonl

# No-overdraft from the import is enforced.
tx ovd liabilities:imported:w assets:bank:cny 0.01 >ovd.jsonl
expect_exit 65 post ovd.jsonl

# ---------------------------------------------------------------------------
# 6. Templates open accounts on first use, with the template's type, asset
#    and no-overdraft flag.
expect_exit 0 account template add 'liabilities:wallets:*' --type liability --asset CNY --no-overdraft
expect_exit 65 account template add 'liabilities:wallets:*' --type liability --asset CNY
tx top-c7 assets:bank:cny liabilities:wallets:c7 100.00 >top7.jsonl
expect_exit 0 post top7.jsonl
accounts
grep -q '^liabilities:wallets:c7,liability,CNY,.*overdraft' acc.csv ||
	fail "the template did not open liabilities:wallets:c7 as a no-overdraft CNY liability: $(cat acc.csv)"
# The opened account is no-overdraft; a refused file opens no account.
{
	tx spend-c7 liabilities:wallets:c7 assets:bank:cny 100.01
	tx spend-c8 liabilities:wallets:c8 assets:bank:cny 1.00
	tx nope assets:bank:cny liabilities:merchants:m9 1.00
} >spend.jsonl
expect_exit 65 post spend.jsonl
err_has "spend.jsonl:1:" "overdrawing a template-opened account"
err_has "spend.jsonl:2:" "overdrawing a new template account"
err_has "spend.jsonl:3:" "an account matching no template"
accounts
grep -q '^liabilities:wallets:c8,' acc.csv && fail "a refused file opened liabilities:wallets:c8: $(cat acc.csv)"
balances
expect_bal liabilities:wallets:c7 CNY "-100.00 0.00 -100.00"
expect_bal assets:bank:cny CNY "1101.00 0.00 1101.00"
verify_ok 11

echo "$T: ok"
