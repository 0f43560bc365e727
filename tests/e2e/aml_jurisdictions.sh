#!/bin/sh
# aml_jurisdictions.sh - the high-risk jurisdiction rule: a wallet whose
# account names a listed country (meta "country"), or a counterparty
# account that does (meta "country", else its IBAN's country), fires; a
# country not on the list, an account without one and a malformed one do
# not; the list is configurable (replaced, emptied, refused when it is not
# ISO 3166 alpha-2), the score too.
set -eu
T=aml_jurisdictions
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
expect_exit 0 account add assets:clearing:card --type asset --asset CNY
# c1 in Iran (on the default list), c2 in Iraq (not on it), c3 without a
# country, c4 with a country that is not an ISO code shape.
expect_exit 0 account add liabilities:wallets:c1 --type liability --asset CNY --meta '{"country":"IR"}'
expect_exit 0 account add liabilities:wallets:c2 --type liability --asset CNY --meta '{"country":"IQ"}'
expect_exit 0 account add liabilities:wallets:c3 --type liability --asset CNY
expect_exit 0 account add liabilities:wallets:c4 --type liability --asset CNY --meta '{"country":"Iran"}'
# Merchants: m1 banks in Iran (IBAN IR..., no country key), m2 names
# Myanmar in lower case, m3 is in Germany.
expect_exit 0 account add liabilities:merchants:m1:payable --type liability --asset CNY \
	--meta '{"name":"Tehran Trading","iban":"IR062960000000100324200001"}'
expect_exit 0 account add liabilities:merchants:m2:payable --type liability --asset CNY --meta '{"country":"mm"}'
expect_exit 0 account add liabilities:merchants:m3:payable --type liability --asset CNY \
	--meta '{"iban":"DE89370400440532013000"}'

tx() { # ID DATE DEBIT CREDIT AMOUNT
	printf '{"id":"%s","date":"%s","postings":[{"account":"%s","amount":"%s"},{"account":"%s","amount":"-%s"}]}\n' \
		"$1" "$2" "$3" "$5" "$4" "$5"
}
{
	tx IN1 2026-11-10 assets:clearing:card liabilities:wallets:c1 100.00
	tx IN2 2026-11-10 assets:clearing:card liabilities:wallets:c2 100.00
	tx IN3 2026-11-10 assets:clearing:card liabilities:wallets:c3 500.00
	tx IN4 2026-11-10 assets:clearing:card liabilities:wallets:c4 100.00
	tx P1 2026-11-11 liabilities:wallets:c3 liabilities:merchants:m1:payable 120.00
	tx P2 2026-11-11 liabilities:wallets:c3 liabilities:merchants:m3:payable 80.00
	tx P3 2026-11-12 liabilities:wallets:c3 liabilities:merchants:m2:payable 30.00
	tx P4 2026-11-12 liabilities:wallets:c3 liabilities:merchants:m3:payable 20.00
	tx P5 2026-11-13 liabilities:wallets:c2 liabilities:merchants:m3:payable 10.00
} >tx.jsonl
expect_exit 0 post tx.jsonl
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30
expect_exit 0 aml alerts --format csv
python3 -c 'import csv, sys
for r in csv.DictReader(open("out", newline="")):
    if r["rule"] == "high-risk-jurisdiction":
        print(",".join(r[k] for k in ("day", "rule", "subject", "asset", "amount", "score", "evidence")))' >got.csv
cat >want.csv <<'EOF'
2026-11-10,high-risk-jurisdiction,c1,CNY,100.00,800,IN1
2026-11-11,high-risk-jurisdiction,c3,CNY,120.00,800,P1
2026-11-12,high-risk-jurisdiction,c3,CNY,30.00,800,P3
EOF
diff want.csv got.csv >diff.out || fail "default list (KP IR MM): $(cat diff.out)"
grep -q 'customer c1 in IR' out || fail "the alert does not say why: $(grep c1 out)"
grep -q 'counterparty liabilities:merchants:m1:payable in IR' out ||
	fail "the IBAN's country is not named: $(grep P1 out)"
# A re-scan adds nothing.
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30
out_has ", 0 new" "re-scan"

# A configured list replaces the default: Iraq only, another score.
cat >iq.ini <<'EOF'
[jurisdictions]
high_risk = IQ
score = 650
EOF
rm -f clearbook.db*
expect_exit 0 init
# Rebuild the same accounts and transactions.
expect_exit 0 account add assets:clearing:card --type asset --asset CNY
expect_exit 0 account add liabilities:wallets:c1 --type liability --asset CNY --meta '{"country":"IR"}'
expect_exit 0 account add liabilities:wallets:c2 --type liability --asset CNY --meta '{"country":"IQ"}'
expect_exit 0 account add liabilities:wallets:c3 --type liability --asset CNY
expect_exit 0 account add liabilities:wallets:c4 --type liability --asset CNY --meta '{"country":"Iran"}'
expect_exit 0 account add liabilities:merchants:m1:payable --type liability --asset CNY \
	--meta '{"name":"Tehran Trading","iban":"IR062960000000100324200001"}'
expect_exit 0 account add liabilities:merchants:m2:payable --type liability --asset CNY --meta '{"country":"mm"}'
expect_exit 0 account add liabilities:merchants:m3:payable --type liability --asset CNY \
	--meta '{"iban":"DE89370400440532013000"}'
expect_exit 0 post tx.jsonl
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config iq.ini
expect_exit 0 aml alerts --format csv
python3 -c 'import csv, sys
for r in csv.DictReader(open("out", newline="")):
    if r["rule"] == "high-risk-jurisdiction":
        print(",".join(r[k] for k in ("day", "rule", "subject", "asset", "amount", "score", "evidence")))' >got.csv
cat >want.csv <<'EOF'
2026-11-10,high-risk-jurisdiction,c2,CNY,100.00,650,IN2
2026-11-13,high-risk-jurisdiction,c2,CNY,10.00,650,P5
EOF
diff want.csv got.csv >diff.out || fail "high_risk = IQ: $(cat diff.out)"

# An empty list turns the rule off.
printf '[jurisdictions]\nhigh_risk =\n' >off.ini
rm -f clearbook.db*
expect_exit 0 init
expect_exit 0 account add assets:clearing:card --type asset --asset CNY
expect_exit 0 account add liabilities:wallets:c1 --type liability --asset CNY --meta '{"country":"IR"}'
tx IN1 2026-11-10 assets:clearing:card liabilities:wallets:c1 100.00 >one.jsonl
expect_exit 0 post one.jsonl
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config off.ini
out_has "0 alert(s)" "empty high_risk list"

# Not ISO 3166 alpha-2 in upper case: refused, naming the key.
for v in IRN ir "I1"; do
	printf '[jurisdictions]\nhigh_risk = KP %s\n' "$v" >bad.ini
	expect_exit 64 aml scan --from 2026-11-01 --to 2026-11-30 --config bad.ini
	grep -q "high_risk" err || fail "bad list '$v': error does not name the key: $(cat err)"
done
printf '[jurisdictions]\nscore = 1001\n' >bad.ini
expect_exit 64 aml scan --from 2026-11-01 --to 2026-11-30 --config bad.ini
echo "ok: $T"
