#!/bin/sh
# export_goaml.sh - the goAML report of AML alerts: a 52,000.00 CNY card
# top-up of a customer with a Chinese name raises a large-value alert,
# which is escalated and exported as an STR (and as a CTR); every header
# field and the transaction's fields checked with xmllint, element order,
# well-formedness, determinism, the signed manifest (verify passes and
# fails after one changed byte), a missing [entity] field (64) and a
# period without alerts (66).
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=export_goaml
. "$ROOT/tests/e2e/lib/common.sh"

# xp FILE XPATH: the string value of XPATH in FILE.
xp() {
	xmllint --xpath "string($2)" "$1"
}
# is FILE XPATH WANT: the value of XPATH in FILE is WANT.
is() {
	got=$(xp "$1" "$2")
	[ "$got" = "$3" ] || fail "$1: $2 is '$got', expected '$3'"
}
# children FILE XPATH: the names of the child elements of XPATH, in order,
# each followed by a space.
children() {
	k=$(xmllint --xpath "count($2/*)" "$1")
	i=1
	while [ "$i" -le "$k" ]; do
		printf '%s ' "$(xmllint --xpath "name($2/*[$i])" "$1")"
		i=$((i + 1))
	done
}
# before FILE A B: element A comes before element B among the children of
# the first transaction.
before() {
	order=$(children "$1" /report/transaction[1] | sed "s/ /  /g")
	case " $order" in
	*" $2 "*" $3 "*) ;;
	*) fail "$1: <$2> does not precede <$3> in the transaction: $order" ;;
	esac
}

expect_exit 0 init
expect_exit 0 keygen key.pem
expect_exit 0 account add assets:clearing:card --type asset --asset CNY
expect_exit 0 account add liabilities:wallets:c01 --type liability --asset CNY \
	--meta '{"name":"张伟 & Co <VIP>"}'
expect_exit 0 account add liabilities:wallets:c02 --type liability --asset CNY
{
	printf '{"id":"tx-topup-1","date":"2026-11-10","memo":"card top-up \\"A\\" & co","postings":[{"account":"assets:clearing:card","amount":"52000.00"},{"account":"liabilities:wallets:c01","amount":"-52000.00"}]}\n'
	printf '{"id":"tx-small-1","date":"2026-11-10","postings":[{"account":"assets:clearing:card","amount":"120.00"},{"account":"liabilities:wallets:c02","amount":"-120.00"}]}\n'
} >tx.jsonl
expect_exit 0 post tx.jsonl
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30
expect_exit 0 aml alerts --format csv
id=$(tr -d '\r' <out | awk -F, '$3 == "large-value" && $4 == "c01" { print $1 }')
[ -n "$id" ] || fail "no large-value alert for c01: $(cat out)"

cat >entity.ini <<'INI'
[entity]
id = 4711
name = Clearbook Payments 清账
first_name = Mei
last_name = Wang
email = mlro@clearbook.example
country = CN
swift = CLBKCNSHXXX
location = Shanghai
INI

# 1. Nothing escalated yet: an STR of escalated alerts finds none (66),
#    and leaves no directory behind.
expect_exit 66 export goaml --config entity.ini --out none --key key.pem
[ ! -e none ] || fail "a failed goaml export left none/ behind"
expect_exit 0 aml set "$id" escalated --reason "top-up far above the customer's profile"

# 2. Missing or bad options.
grep -v '^email' entity.ini >noemail.ini
expect_exit 64 export goaml --config noemail.ini --out x --key key.pem
err_has "'email' is missing" "missing [entity] email"
grep -v '^id' entity.ini >noid.ini
expect_exit 64 export goaml --config noid.ini --out x --key key.pem
err_has "'id' is missing" "missing [entity] id"
expect_exit 64 export goaml --out x --key key.pem
expect_exit 64 export goaml --config entity.ini --report-code XYZ --out x --key key.pem
expect_exit 64 export goaml --config entity.ini --status dismissed --out x --key key.pem
expect_exit 66 export goaml --config entity.ini --from 2026-12-01 --to 2026-12-31 \
	--out x --key key.pem
[ ! -e x ] || fail "a failed goaml export left x/ behind"

# 3. The STR of the escalated alert.
expect_exit 0 export goaml --config entity.ini --from 2026-11-01 --to 2026-11-30 \
	--out str --key key.pem
out_has "goaml.xml" "export goaml"
F=str/goaml.xml
xmllint --noout $F 2>xml.err || fail "$F is not well-formed: $(cat xml.err)"
head -1 $F | grep -q '^<?xml version="1.0" encoding="UTF-8"?>$' ||
	fail "$F lacks the UTF-8 XML declaration"
is $F "/report/rentity_id" "4711"
is $F "/report/submission_code" "E"
is $F "/report/report_code" "STR"
is $F "/report/entity_reference" "CB-STR-$id-$id"
is $F "/report/submission_date" "2026-11-25T02:00:00"
is $F "/report/currency_code_local" "CNY"
is $F "/report/reporting_person/first_name" "Mei"
is $F "/report/reporting_person/last_name" "Wang"
is $F "/report/reporting_person/email" "mlro@clearbook.example"
xp $F "/report/reason" | grep -q "large-value" || fail "reason lacks the rule"
xp $F "/report/reason" | grep -q "top-up far above" ||
	fail "reason lacks the escalation reason"
is $F "count(/report/transaction)" "1"
X=/report/transaction
is $F "$X/transactionnumber" "tx-topup-1"
is $F "$X/internal_ref_number" "1"
is $F "$X/transaction_location" "Shanghai"
is $F "$X/transaction_description" 'card top-up "A" & co'
is $F "$X/date_transaction" "2026-11-10T00:00:00"
is $F "$X/value_date" "2026-11-10T00:00:00"
is $F "$X/transmode_code" "ELECTRONIC"
is $F "$X/amount_local" "52000.00"
# Money comes from our card clearing account (ours: t_from) and goes to
# the customer's wallet (our client: t_to_my_client).
is $F "$X/t_from/from_funds_code" "OTHER"
is $F "$X/t_from/from_account/institution_name" "Clearbook Payments 清账"
is $F "$X/t_from/from_account/swift" "CLBKCNSHXXX"
is $F "$X/t_from/from_account/account" "assets:clearing:card"
is $F "$X/t_from/from_country" "CN"
is $F "$X/t_to_my_client/to_account/account" "liabilities:wallets:c01"
is $F "$X/t_to_my_client/to_account/account_name" "张伟 & Co <VIP>"
is $F "$X/t_to_my_client/to_country" "CN"
grep -q '张伟 &amp; Co &lt;VIP&gt;' $F || fail "$F: the name is not escaped UTF-8"
# Element order of the goAML 4.0 report and transaction.
hdr=$(children $F /report)
[ "$hdr" = "rentity_id submission_code report_code entity_reference submission_date currency_code_local reporting_person reason transaction " ] ||
	fail "$F: header order is '$hdr'"
before $F transactionnumber internal_ref_number
before $F internal_ref_number transaction_location
before $F transaction_description date_transaction
before $F date_transaction value_date
before $F transmode_code amount_local
before $F transactionnumber amount_local
before $F amount_local t_from
before $F t_from t_to_my_client
acct=$(children $F "$X/t_from/from_account")
[ "$acct" = "institution_name swift account currency_code account_name " ] ||
	fail "$F: from_account order is '$acct'"
side=$(children $F "$X/t_to_my_client")
[ "$side" = "to_funds_code to_account to_country " ] ||
	fail "$F: t_to_my_client order is '$side'"

# 4. Signed manifest: verify passes, and fails after one changed byte.
expect_exit 0 export verify str --pubkey key.pem.pub
grep -q '"goaml.xml"' str/MANIFEST.json || fail "manifest lacks goaml.xml"
cp -r str str2
sed -i 's/52000.00/52000.01/' str2/goaml.xml
expect_exit 1 export verify str2 --pubkey key.pem.pub
err_has "goaml.xml" "verify names the changed file"

# 5. Determinism: the same ledger exports the same bytes.
expect_exit 0 export goaml --config entity.ini --from 2026-11-01 --to 2026-11-30 \
	--out again --key key.pem
cmp -s str/goaml.xml again/goaml.xml || fail "two goaml exports differ"
cmp -s str/MANIFEST.json again/MANIFEST.json || fail "two manifests differ"

# 6. CTR of the large-value alert; open alerts only find none now.
expect_exit 0 export goaml --config entity.ini --report-code CTR --out ctr \
	--key key.pem
is ctr/goaml.xml "/report/report_code" "CTR"
is ctr/goaml.xml "/report/transaction/amount_local" "52000.00"
expect_exit 66 export goaml --config entity.ini --status open --out open \
	--key key.pem
echo "ok: $T"
