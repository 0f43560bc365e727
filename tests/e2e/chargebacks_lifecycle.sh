#!/bin/sh
# chargebacks_lifecycle.sh - a dispute report drives the postings:
# chargeback (merchant payable to card clearing), the dispute fee once per
# dispute, a won representment reversing the chargeback, a lost one written
# off to the configured account, a retrieval request posting nothing, a
# chargeback on a card top-up debiting the wallet.  Balances are checked,
# a second apply posts nothing, and the report's figures, threshold flags
# and deadlines are the known ones, byte-identical on a second run.
set -eu
T=chargebacks_lifecycle
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:clearing:card,asset,CNY,0
liabilities:merchants:m001:payable,liability,CNY,0
liabilities:merchants:m002:payable,liability,CNY,0
liabilities:wallets:c1,liability,CNY,0
expense:chargebacks,expense,CNY,0
EOF2
expect_exit 0 account import acc.csv
# Nothing staged yet: nothing to post, an empty report.
expect_exit 0 chargebacks apply --date 2026-11-30
expect_exit 0 chargebacks report --from 2026-11-01 --to 2026-11-30 --format json

# sale ID DATE MERCHANT AMOUNT: a card sale paid to the merchant in full.
sale() {
	printf '{"id":"%s","date":"%s","postings":[{"account":"assets:clearing:card","amount":"%s"},{"account":"liabilities:merchants:%s:payable","amount":"-%s"}],"meta":{"channel":"card","merchant":"%s"}}\n' \
		"$1" "$2" "$4" "$3" "$4" "$3"
}
{
	sale ORD-0 2026-10-15 m001 100.00
	sale ORD-1 2026-11-02 m001 1000.00
	sale ORD-2 2026-11-03 m001 500.00
	sale ORD-3 2026-11-04 m002 300.00
	printf '{"id":"TU-1","date":"2026-11-05","postings":[{"account":"assets:clearing:card","amount":"200.00"},{"account":"liabilities:wallets:c1","amount":"-200.00"}],"meta":{"channel":"card","customer":"c1"}}\n'
} >sales.jsonl
expect_exit 0 post sales.jsonl

H="Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Record Date,Record Date TimeZone,Dispute Currency,Dispute Amount,Record Type,Dispute PSP Reference,Dispute Reason,RFI/NoF/CB Scheme Code,RFI/NoF/CB Reason Code,Payment Date,Payment Currency,Payment Amount,Dispute Date,Dispute End Date"
# dl PSP ORDER METHOD DATE AMOUNT TYPE DISPUTE CODE END
dl() {
	printf 'Co,CB_CNY,%s,%s,%s,%s 10:00:00,CET,CNY,%s,%s,%s,Reason,%s,%s,%s 09:00:00,CNY,%s,%s 10:00:00,%s 23:59:59\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$8" "$4" "$5" "$4" "$9"
}
{
	echo "$H"
	dl P1 ORD-1 visa 2026-11-10 1000.00 Chargeback D1 10.4 2026-12-10
	dl P2 ORD-2 mc 2026-11-11 500.00 Chargeback D2 4853 2026-12-11
	dl P3 ORD-3 visa 2026-11-12 300.00 RequestForInformation D3 13.1 2026-12-05
	dl P4 TU-1 visa 2026-11-13 200.00 Chargeback D4 12.6 2026-12-01
	dl P2 ORD-2 mc 2026-11-15 500.00 ChargebackReversed D2 4853 2026-12-15
	dl P1 ORD-1 visa 2026-11-20 1000.00 ChargebackReversed D1 10.4 2026-12-20
	dl P2 ORD-2 mc 2026-11-25 500.00 PreArbitrationLost D2 4853 2026-12-25
} >disputes.csv
expect_exit 0 import --profile-file "$ROOT/importers/profiles/disputes.ini" --channel disputes --account assets:clearing:card disputes.csv

cat >cb.ini <<'EOF2'
[chargebacks]
lost_account = expense:chargebacks
[scheme visa]
fee = 25.00
count_threshold = 1
ratio_bps = 5000
[scheme mastercard]
fee = 20.00
EOF2

# Nothing is booked by 2026-11-09: nothing to post.
expect_exit 0 chargebacks apply --date 2026-11-09 --config cb.ini
out_has "0 line(s): 0 posted" "apply before the disputes"

expect_exit 0 chargebacks apply --date 2026-11-30 --config cb.ini
out_has "7 line(s): 9 posted, 0 replayed, 1 without money, 0 failed" "first apply"

balances
expect_bal liabilities:merchants:m001:payable CNY "-1555.00 0.00 -1555.00"
expect_bal liabilities:merchants:m002:payable CNY "-300.00 0.00 -300.00"
expect_bal liabilities:wallets:c1 CNY "0.00 0.00 0.00"
expect_bal assets:clearing:card CNY "1330.00 0.00 1330.00"
expect_bal expense:chargebacks CNY "525.00 0.00 525.00"

# The postings by id: chargeback, fee, reversal, lost write-off.
for id in cb:D1:chargeback cb:D1:fee cb:D2:chargeback cb:D2:fee \
	cb:D2:lost-prearbitrationlost cb:D4:chargeback cb:D4:fee; do
	[ "$(sqlite3 clearbook.db "SELECT count(*) FROM transactions WHERE id = '$id'")" -eq 1 ] ||
		fail "transaction $id missing"
done
[ "$(sqlite3 clearbook.db "SELECT count(*) FROM transactions t JOIN transactions o ON o.seq = t.ref_seq WHERE t.kind = 'reverse' AND o.id IN ('cb:D1:chargeback', 'cb:D2:chargeback')")" -eq 2 ] ||
	fail "the two won chargebacks are not reversed"
[ "$(sqlite3 clearbook.db "SELECT count(*) FROM transactions WHERE id LIKE 'cb:D3:%'")" -eq 0 ] ||
	fail "a retrieval request posted something"

# Again: nothing new.
snap before
expect_exit 0 chargebacks apply --date 2026-11-30 --config cb.ini
out_has "7 line(s): 0 posted, 6 replayed, 1 without money, 0 failed" "second apply"
unchanged before "a second apply"

# The report.
expect_exit 0 chargebacks report --from 2026-11-01 --to 2026-11-30 --config cb.ini --format csv
tr -d '\r' <out >r1.csv
want() {
	grep -qxF -- "$1" r1.csv || fail "report lacks line '$1':
$(cat r1.csv)"
}
want "stage,retrieval,,CNY,1,300.00,,,,,,"
want "stage,chargeback,,CNY,3,1700.00,,,,,,"
want "stage,won,,CNY,2,1500.00,,,,,,"
want "stage,lost,,CNY,1,500.00,,,,,,"
want "reason,cardholder dispute,mastercard,CNY,1,500.00,,,,,,"
want "reason,consumer dispute,visa,CNY,1,300.00,,,,,,"
want "reason,fraud,visa,CNY,1,1000.00,,,,,,"
want "reason,processing error,visa,CNY,1,200.00,,,,,,"
# m001's Visa ratio: 1 chargeback over 2 card sales in November = 5000 bps,
# at the configured 5000: over.  Mastercard: over October's 1 sale, 10000
# bps, but 1 is under the count of 100: not flagged.
want "merchant,m001,visa,CNY,1,1000.00,2,5000,1 / 5000 bps,over,,card sales 2026-11-01..2026-11-30"
want "merchant,m001,mastercard,CNY,1,500.00,1,10000,100 / 150 bps,,,card sales 2026-10-02..2026-10-31"
want "merchant,self,visa,CNY,1,200.00,1,10000,1 / 5000 bps,over,,card sales 2026-11-01..2026-11-30"
want "deadline,D4,visa,CNY,1,200.00,,,,due,2026-12-01,\"Chargeback, 1 day(s) left\""
want "deadline,D3,visa,CNY,1,300.00,,,,due,2026-12-05,\"RequestForInformation, 5 day(s) left\""
[ "$(grep -c '^deadline,' r1.csv)" -eq 2 ] || fail "won and lost disputes are not due: $(cat r1.csv)"
[ "$(grep -n '^deadline,D4' r1.csv | cut -d: -f1)" -lt "$(grep -n '^deadline,D3' r1.csv | cut -d: -f1)" ] ||
	fail "deadlines are not in date order"

# Two days after D4's deadline it is overdue; D3 still due.
expect_exit 0 chargebacks report --from 2026-11-01 --to 2026-12-03 --config cb.ini --format csv
out_has "deadline,D4,visa,CNY,1,200.00,,,,overdue,2026-12-01,\"Chargeback, -2 day(s) left\"" "overdue"
out_has "deadline,D3,visa,CNY,1,300.00,,,,due,2026-12-05," "still due"

# Just under the ratio threshold: not flagged.
sed 's/ratio_bps = 5000/ratio_bps = 5001/' cb.ini >cb2.ini
expect_exit 0 chargebacks report --from 2026-11-01 --to 2026-11-30 --config cb2.ini --format csv
tr -d '\r' <out | grep -qxF "merchant,m001,visa,CNY,1,1000.00,2,5000,1 / 5001 bps,,,card sales 2026-11-01..2026-11-30" ||
	fail "5000 bps flagged against 5001: $(cat out)"
# Defaults: Visa 100 and 90 bps; one chargeback is under the count.
expect_exit 0 chargebacks report --from 2026-11-01 --to 2026-11-30 --format csv
out_has "merchant,m001,visa,CNY,1,1000.00,2,5000,100 / 90 bps,," "default visa thresholds"
out_lacks ",over," "defaults flag nothing"

# Determinism in every format.
for f in text csv json; do
	expect_exit 0 chargebacks report --from 2026-11-01 --to 2026-11-30 --config cb.ini --format $f
	cp out a.$f
	expect_exit 0 chargebacks report --from 2026-11-01 --to 2026-11-30 --config cb.ini --format $f
	cmp -s out a.$f || fail "report ($f) differs between two runs"
done
python3 -c 'import json,sys; json.load(open("a.json"))' || fail "report JSON does not parse"

# A dispute on a sale the journal does not know: reported, the rest kept.
{
	echo "$H"
	dl P9 ORD-404 visa 2026-11-26 10.00 Chargeback D9 10.4 2026-12-26
} >disputes2.csv
expect_exit 0 import --profile-file "$ROOT/importers/profiles/disputes.ini" --channel disputes --account assets:clearing:card disputes2.csv
expect_exit 65 chargebacks apply --date 2026-11-30 --config cb.ini
err_has "dispute 'D9': the disputed sale 'ORD-404' is not in the journal" "unknown sale"
out_has "8 line(s): 0 posted, 6 replayed, 1 without money, 1 failed" "apply with a bad line"
unchanged before "a failed line"

expect_exit 64 chargebacks apply
expect_exit 64 chargebacks report --from 2026-11-30 --to 2026-11-01
verify_ok "$(sqlite3 clearbook.db 'SELECT count(*) FROM transactions')"
echo "ok: $T"
