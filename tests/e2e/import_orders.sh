#!/bin/sh
# import_orders.sh - clearbook import --profile orders: an order feed posted
# straight to the ledger through the profile's [posting] template (customer
# wallet debited, merchant payable and fee income credited), the whole file
# or nothing; a dry run posts nothing; re-import of the same file is a no-op;
# an order already posted with the same figures is a replay and with other
# figures a conflict; an overdraft of a no-overdraft wallet, a bad amount and
# cells that would name other accounts are refused naming file, line and
# column, every bad row in one run; a header naming a column twice is
# refused.
set -eu
T=import_orders
. "$ROOT/tests/e2e/lib/common.sh"

fx="$ROOT/tests/fixtures/import"

expect_exit 0 init
expect_exit 0 account add assets:bank:cny --type asset --asset CNY
expect_exit 0 account template add 'liabilities:wallets:*' --type liability --asset CNY --no-overdraft
expect_exit 0 account template add 'liabilities:merchants:*' --type liability --asset CNY
expect_exit 0 account add income:fees:processing --type income --asset CNY
cat >topup.jsonl <<'EOF'
{"id":"topup:c001","date":"2026-11-23","postings":[{"account":"assets:bank:cny","amount":"500.00"},{"account":"liabilities:wallets:c001","amount":"-500.00"}]}
{"id":"topup:c002","date":"2026-11-23","postings":[{"account":"assets:bank:cny","amount":"50.00"},{"account":"liabilities:wallets:c002","amount":"-50.00"}]}
{"id":"topup:c003","date":"2026-11-23","postings":[{"account":"assets:bank:cny","amount":"3000.00"},{"account":"liabilities:wallets:c003","amount":"-3000.00"}]}
EOF
expect_exit 0 post topup.jsonl

# --- a dry run checks every row against the ledger and posts nothing
snap before
expect_exit 0 import --profile orders --dry-run "$fx/orders-20261124.csv"
out_has "dry run, valid: 4 transaction(s) would be posted" "dry run"
unchanged before "a dry run"

# --- the feed posts: wallet debited, payable credited net of the fee
expect_exit 0 import --profile orders "$fx/orders-20261124.csv"
out_has "4 transaction(s) posted, 0 replayed" "orders feed"
balances
expect_bal liabilities:wallets:c001 CNY "-372.00 0.00 -372.00"
expect_bal liabilities:wallets:c002 CNY "-14.50 0.00 -14.50"
expect_bal liabilities:merchants:m001:payable CNY "-153.17 0.00 -153.17"
expect_bal liabilities:merchants:m002:payable CNY "-1978.00 0.00 -1978.00"
expect_bal income:fees:processing CNY "-32.32 0.00 -32.32"
expect_exit 0 journal
grep -q 'order:ORD-20261124-0003' out || fail "order 0003 not posted: $(cat out)"
# a zero fee is no posting (the ledger refuses zero postings)
[ "$(awk '/order:ORD-20261124-0003/ { on = 1; next } on && /^$/ { exit } on' out | grep -c CNY)" -eq 2 ] ||
	fail "a zero fee was posted: $(cat out)"
sqlite3 clearbook.db "SELECT meta FROM transactions WHERE id = 'order:ORD-20261124-0004'" |
	grep -q '"fee":"29.99"' || fail "the row's original fields are not kept with the transaction"
expect_exit 0 verify

# --- the same file again: a no-op that says so
snap posted
expect_exit 0 import --profile orders "$fx/orders-20261124.csv"
out_has "already imported" "re-import"
unchanged posted "re-import"

# --- another export holding an order already posted, same figures: a replay
{
	head -2 "$fx/orders-20261124.csv"
	echo 'ORD-20261125-0001,2026-11-25,c001,m002,10.00,CNY,0.15'
} >overlap.csv
expect_exit 0 import --profile orders overlap.csv
out_has "1 transaction(s) posted, 1 replayed" "overlapping export"
balances
expect_bal liabilities:wallets:c001 CNY "-362.00 0.00 -362.00"

# --- every bad row is named, and the file posts nothing
snap good
{
	echo 'order_id,date,customer,merchant,amount,currency,fee'
	echo 'ORD-20261125-0101,2026-11-25,c003,m001,5.00,CNY,0.05'
	echo 'ORD-20261125-0102,2026-11-25,c002,m001,100.00,CNY,1.00'
	echo 'ORD-20261125-0103,2026-11-25,c001,m001,12.345,CNY,0.10'
	echo 'ORD-20261124-0002,2026-11-24,c002,m001,35.51,CNY,0.53'
	echo 'ORD-20261125-0104,2026-11-25,c001,m1:reserve,1.00,CNY,0.10'
	echo 'ORD-20261125-0105,2026-11-25,c001,m001,1.00,CNY,2.00'
} >bad.csv
expect_exit 65 import --profile orders bad.csv
err_has "bad.csv:3: column 5 'amount': transaction 'order:ORD-20261125-0102' would overdraw 'liabilities:wallets:c002' (no-overdraft) by 85.50 CNY" "overdraft of a no-overdraft wallet"
err_has "bad.csv:4: column 5 'amount': amount '12.345' of CNY (2 decimals)" "bad amount"
err_has "bad.csv:5: column 1 'order_id': transaction 'order:ORD-20261124-0002' conflicts" "conflicting order id"
err_has "bad.csv:6: column 4 'merchant': 'm1:reserve' cannot go into account" "a cell naming another account"
err_has "bad.csv:7: column 7 'fee': amount {amount} - {fee} comes to less than zero" "fee above the amount"
err_has "bad.csv: 5 rows refused; nothing was posted" "summary"
err_lacks "bad.csv:2:" "a good row"
unchanged good "a refused feed"
# refused files are not recorded: fixed, the same name imports
expect_exit 65 import --profile orders bad.csv

# --- a header naming a column twice (or a name kept for unnamed cells):
# the row's fields in the transaction's meta would hold a duplicate key
# that the ledger refuses on every row, and {date} would mean either
# column.  Refused at the header, naming both columns (found by
# tests/fuzz/fuzz_csv.c; seeds regress-orders-*-header).
printf 'order_id,date,customer,merchant,amount,currency,fee,date\nORD-20261125-0201,2026-11-25,c003,m001,5.00,CNY,0.05,2026-11-26\n' >dup.csv
expect_exit 65 import --profile orders dup.csv
err_has "dup.csv:1: columns 2 and 8 have the same header name 'date'" "a repeated header name"
printf 'order_id,date,customer,merchant,amount,currency,fee,#9\nORD-20261125-0202,2026-11-25,c003,m001,5.00,CNY,0.05,x,y\n' >hash.csv
expect_exit 65 import --profile orders hash.csv
err_has "hash.csv:1: column 8: header name '#9' starts with '#'" "a header name kept for unnamed cells"
unchanged good "a feed with an ambiguous header"

# --- a profile whose template names a column the feed lacks
sed 's/{fee}/{commission}/' "$ROOT/importers/profiles/orders.ini" >orders2.ini
expect_exit 65 import --profile-file orders2.ini bad.csv
err_has "no column 'commission'" "template column missing from the header"
sed 's/^credit = income.*//' "$ROOT/importers/profiles/orders.ini" | sed 's/^credit = liab.*//' >orders1.ini
expect_exit 64 import --profile-file orders1.ini bad.csv
err_has "two at least" "a template of one posting"
unchanged good "refused templates"
echo "$T: ok"
