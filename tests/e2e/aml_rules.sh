#!/bin/sh
# aml_rules.sh - every AML monitoring rule on a small ledger with known
# answers: for each rule one customer whose activity fires it and one just
# below its threshold that does not; name screening hit and near miss;
# idempotent re-scan; deterministic output; the alert status trail is
# append-only.
set -eu
T=aml_rules
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
{
	echo "code,type,asset,no_overdraft"
	echo "assets:clearing:card,asset,CNY,0"
	echo "assets:clearing:usd,asset,USD,0"
	for c in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 19 20; do
		echo "liabilities:wallets:c$c,liability,CNY,0"
	done
	echo "liabilities:wallets:c17,liability,USD,0"
	echo "liabilities:wallets:c18,liability,USD,0"
	for m in 01 02 03 04 05 06 07 08 09 10; do
		echo "liabilities:merchants:m$m:payable,liability,CNY,0"
	done
} >acc.csv
expect_exit 0 account import acc.csv
# An empty ledger: no alerts, an empty listing.
expect_exit 0 aml alerts --format csv
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30
out_has "0 transaction(s), 0 alert(s), 0 new" "empty scan"
expect_exit 0 account add liabilities:wallets:c15 --type liability --asset CNY \
	--meta '{"name":"Ali Mohammed Hasan"}'
expect_exit 0 account add liabilities:wallets:c16 --type liability --asset CNY \
	--meta '{"name":"Ali Mohamed Hasen"}'

n=0
# tin DATE CUSTOMER AMOUNT [CLEARING]: money into a wallet.
tin() {
	n=$((n + 1))
	printf '{"id":"in-%04d","date":"%s","postings":[{"account":"%s","amount":"%s"},{"account":"liabilities:wallets:%s","amount":"-%s"}]}\n' \
		"$n" "$1" "${4:-assets:clearing:card}" "$3" "$2" "$3"
}
# tout DATE CUSTOMER AMOUNT MERCHANT: a wallet pays a merchant.
tout() {
	n=$((n + 1))
	printf '{"id":"out-%04d","date":"%s","postings":[{"account":"liabilities:wallets:%s","amount":"%s"},{"account":"liabilities:merchants:%s:payable","amount":"-%s"}]}\n' \
		"$n" "$1" "$2" "$3" "$4" "$3"
}
{
	# large value: CNY 50,000 a day fires, 49,999.99 does not; USD 10,000.
	tin 2026-11-10 c01 50000.00
	tin 2026-11-10 c02 49999.99
	tin 2026-11-10 c17 10000.00 assets:clearing:usd
	tin 2026-11-10 c18 9999.99 assets:clearing:usd
	# structuring: three at >= 90% of 50,000 within 7 days fires; at
	# 44,999.99 (under 90%) it does not.
	for d in 03 05 09; do
		tin 2026-11-$d c03 45000.00
		tin 2026-11-$d c04 44999.99
	done
	# velocity: ten days of 100.00 in October make a daily mean of 33.33
	# over 30 days; 5 x that is 166.67: 3 x 55.56 fires, 3 x 55.55 not.
	for d in 15 16 17 18 19 20 21 22 23 24; do
		tin 2026-10-$d c05 100.00
		tin 2026-10-$d c06 100.00
	done
	for k in 1 2 3; do
		tin 2026-11-12 c05 55.56
		tin 2026-11-12 c06 55.55
	done
	# rapid movement: in 20,000 and 90% out the same day fires; 89.99% not.
	tin 2026-11-15 c07 20000.00
	tout 2026-11-15 c07 18000.00 m01
	tin 2026-11-15 c08 20000.00
	tout 2026-11-15 c08 17999.99 m01
	# fan-out: ten merchants in a day fires, nine do not.
	tin 2026-11-16 c09 1000.00
	tin 2026-11-16 c10 1000.00
	for m in 01 02 03 04 05 06 07 08 09 10; do
		tout 2026-11-16 c09 10.01 m$m
		[ "$m" = 10 ] || tout 2026-11-16 c10 10.01 m$m
	done
	# fan-in: refunds from ten merchants in a day fire, from nine do not.
	for m in 01 02 03 04 05 06 07 08 09 10; do
		tin 2026-11-18 c19 10.01 liabilities:merchants:m$m:payable
		[ "$m" = 10 ] || tin 2026-11-18 c20 10.01 liabilities:merchants:m$m:payable
	done
	# round amounts: two multiples of 10,000 a day fire, one does not.
	tin 2026-11-17 c11 10000.00
	tin 2026-11-17 c11 10000.00
	tin 2026-11-17 c12 10000.00
	tin 2026-11-17 c12 9999.99
	# dormant: active in July, silent 142 days, then 6 in a day fires, 5 not.
	tin 2026-07-01 c13 100.00
	tin 2026-07-01 c14 100.00
	for k in 1 2 3 4 5 6; do
		tin 2026-11-20 c13 10.00
		[ "$k" = 6 ] || tin 2026-11-20 c14 10.00
	done
	# name screening: named wallets active in the period, and a name in a
	# transaction's metadata (accents transliterated).
	tin 2026-11-21 c15 1.00
	tin 2026-11-21 c16 1.00
	printf '{"id":"named-1","date":"2026-11-22","postings":[{"account":"assets:clearing:card","amount":"2.00"},{"account":"liabilities:wallets:c01","amount":"-2.00"}],"meta":{"counterparty_name":"J\\u00fcrgen M\\u00fcller"}}\n'
} >tx.jsonl
expect_exit 0 post tx.jsonl

cat >aml.ini <<EOF2
[screening]
sdn = $ROOT/tests/fixtures/aml/sdn.csv
cutoff = 880
EOF2

expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config aml.ini
out_has "alert(s)" "scan summary"
expect_exit 0 aml alerts --format csv
tr -d '\r' <out >alerts.csv
cp alerts.csv alerts1.csv

# has RULE SUBJECT / lacks RULE SUBJECT: an alert of the rule for the subject.
has() {
	awk -F, -v r="$1" -v s="$2" '$3 == r && $4 == s { f = 1 } END { exit !f }' alerts.csv ||
		fail "no $1 alert for $2:
$(cat alerts.csv)"
}
lacks() {
	! awk -F, -v r="$1" -v s="$2" '$3 == r && $4 == s { f = 1 } END { exit !f }' alerts.csv ||
		fail "unexpected $1 alert for $2:
$(cat alerts.csv)"
}
has large-value c01
lacks large-value c02
has large-value c17
lacks large-value c18
has structuring c03
lacks structuring c04
has velocity c05
lacks velocity c06
has rapid-movement c07
lacks rapid-movement c08
has fan-out c09
lacks fan-out c10
has fan-in c19
lacks fan-in c20
has round-amounts c11
lacks round-amounts c12
has dormant-reactivation c13
lacks dormant-reactivation c14
has name-screening liabilities:wallets:c15
lacks name-screening liabilities:wallets:c16
has name-screening "Jürgen Müller"

# The evidence of the structuring alert is its three transactions, and the
# large-value alert scores 500 at the threshold exactly.
grep -q '^[0-9]*,2026-11-09,structuring,c03,CNY,135000.00,' alerts.csv ||
	fail "structuring alert figures: $(grep structuring alerts.csv)"
awk -F, '$3 == "large-value" && $4 == "c01" && $7 == 500 { f = 1 } END { exit !f }' alerts.csv ||
	fail "large-value score at the threshold should be 500: $(grep c01 alerts.csv)"
ev=$(awk -F, '$3 == "structuring" && $4 == "c03"' alerts.csv | grep -o '"in-[0-9,in-]*"')
[ "$(echo "$ev" | tr ',' '\n' | wc -l)" -eq 3 ] || fail "structuring evidence: $ev"
grep 'name-screening,liabilities:wallets:c15' alerts.csv | grep -q 'SDN entry 12345' ||
	fail "screening detail names the SDN entry"

# A re-scan of the same period adds nothing, and prints the same.
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config aml.ini
out_has ", 0 new" "re-scan"
expect_exit 0 aml alerts --format csv
tr -d '\r' <out | cmp -s - alerts1.csv || fail "re-scan changed the alerts"

# Determinism: the same ledger scanned afresh gives byte-identical alerts
# in every format.
snapshot clearbook.db fresh.db
for f in text csv json; do
	expect_exit 0 aml alerts --format $f
	cp out a.$f
done
sqlite3 fresh.db "SELECT 1" >/dev/null
rm -f fresh2.db
cp tx.jsonl tx2.jsonl
mkdir -p again && cd again
expect_exit 0 init
expect_exit 0 account import ../acc.csv
expect_exit 0 account add liabilities:wallets:c15 --type liability --asset CNY \
	--meta '{"name":"Ali Mohammed Hasan"}'
expect_exit 0 account add liabilities:wallets:c16 --type liability --asset CNY \
	--meta '{"name":"Ali Mohamed Hasen"}'
expect_exit 0 post ../tx.jsonl
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config ../aml.ini
for f in text csv json; do
	expect_exit 0 aml alerts --format $f
	cmp -s out ../a.$f || fail "alerts ($f) differ between two identical ledgers"
done
cd ..

# Status trail: escalate, then dismiss with a reason; changes are rows.
id=$(awk -F, '$3 == "large-value" && $4 == "c01" { print $1 }' alerts.csv)
expect_exit 64 aml set "$id" dismissed
err_has "reason" "dismissal without reason"
expect_exit 0 aml set "$id" escalated --reason "large cash top-up, ask for source of funds"
expect_exit 65 aml set "$id" escalated --reason again
expect_exit 0 aml alerts --status escalated --format csv
out_has ",c01,CNY,50000.00,500,escalated," "escalated list"
expect_exit 0 aml set "$id" dismissed --reason "salary documented"
expect_exit 0 aml alerts --status dismissed --format csv
out_has "dismissed,salary documented" "dismissed list"
expect_exit 0 aml alerts --status escalated --format csv
out_lacks ",c01," "no longer escalated"
expect_exit 66 aml set 999999 escalated --reason x
expect_exit 64 aml set "$id" closed --reason x
[ "$(sqlite3 clearbook.db "SELECT count(*) FROM aml_alert_status WHERE alert_id = $id")" -eq 2 ] ||
	fail "two status rows expected"

# The tables refuse UPDATE and DELETE.
for sql in "UPDATE aml_alerts SET score = 0" "DELETE FROM aml_alerts" \
	"UPDATE aml_alert_status SET status = 'open'" "DELETE FROM aml_alert_status"; do
	if sqlite3 clearbook.db "$sql" 2>sqlerr; then
		fail "sqlite3 accepted: $sql"
	fi
	grep -q "append-only" sqlerr || fail "$sql: $(cat sqlerr)"
done

# Configuration: a lower CNY threshold makes c02 fire on a new scan.
cat >low.ini <<'EOF2'
[asset CNY]
large_value = 49999.99
EOF2
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config low.ini
expect_exit 0 aml alerts --format csv
tr -d '\r' <out >alerts.csv
has large-value c02
cat >bad.ini <<'EOF2'
[asset CNY]
large_value = 1.001
EOF2
expect_exit 64 aml scan --from 2026-11-01 --to 2026-11-30 --config bad.ini
expect_exit 64 aml scan --from 2026-11-30 --to 2026-11-01
verify_ok "$(sqlite3 clearbook.db 'SELECT count(*) FROM transactions')"
echo "ok: $T"
