#!/bin/sh
# export_formats.sh - every export of a known ledger (tests/golden/export/)
# checked field by field: camt053 (balances, entries, directions, IBAN or
# account code, Chinese names escaped, read back by our own camt importer
# with --strict), pain001 (one payment per unreversed payout, EndToEndId =
# payout_id, creditor from the account meta, errors naming the merchant and
# the field), csv (the same bytes as `journal`/`balance --format csv`,
# formulas neutralised, GB18030 round trip through iconv) and journal
# (`hledger balance` and ledger-cli give exactly `clearbook balance`,
# whole and for a period).  Every XML validates against the official XSD; camt053 and
# pain001 also equal golden files.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=export_formats
. "$ROOT/tests/e2e/lib/common.sh"
. "$ROOT/tests/golden/export/setup.sh"

XSD="$ROOT/exporters/xsd"
GOLDEN="$ROOT/tests/golden/export"

# xsd FILE SCHEMA: FILE is valid against exporters/xsd/SCHEMA.
xsd() {
	xmllint --noout --schema "$XSD/$2" "$1" 2>xsd.err ||
		fail "$1 is not valid against $2: $(cat xsd.err)"
}
# xp FILE XPATH: the string value of XPATH in FILE, namespaces ignored.
xp() {
	sed 's/ xmlns="[^"]*"//' "$1" >nons.xml
	xmllint --xpath "string($2)" nons.xml
}
# is FILE XPATH WANT: the value of XPATH in FILE is WANT.
is() {
	got=$(xp "$1" "$2")
	[ "$got" = "$3" ] || fail "$1: $2 is '$got', expected '$3'"
}
# golden_cmp FILE NAME: FILE equals tests/golden/export/NAME byte for byte.
golden_cmp() {
	if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$1" "$GOLDEN/$2"
		return 0
	fi
	cmp -s "$1" "$GOLDEN/$2" || fail "$1 differs from tests/golden/export/$2:
$(diff "$GOLDEN/$2" "$1" | head -40)"
}

export_ledger

# ---------------------------------------------------------------------------
# 1. camt053 of our CNY bank account for November: the back-dated October
#    posting is in the opening balance, not an entry.
expect_exit 0 export camt053 --account assets:bank:icbc:cny --from 2026-11-01 \
	--to 2026-11-30 --out bank --key key.pem
out_has "camt053.xml" "export camt053"
F=bank/camt053.xml
xsd $F camt.053.001.08.xsd
S=/Document/BkToCstmrStmt/Stmt
is $F "/Document/BkToCstmrStmt/GrpHdr/CreDtTm" "2026-11-25T02:00:00Z"
is $F "$S/Acct/Id/Othr/Id" "assets:bank:icbc:cny"
is $F "$S/Acct/Ccy" "CNY"
is $F "$S/FrToDt/FrDtTm" "2026-11-01T00:00:00Z"
is $F "$S/Bal[1]/Tp/CdOrPrtry/Cd" "OPBD"
is $F "$S/Bal[1]/Amt" "10050.00"
is $F "$S/Bal[1]/Amt/@Ccy" "CNY"
is $F "$S/Bal[1]/CdtDbtInd" "CRDT"
is $F "$S/Bal[1]/Dt/Dt" "2026-11-01"
is $F "$S/Bal[2]/Tp/CdOrPrtry/Cd" "CLBD"
is $F "$S/Bal[2]/Amt" "10850.00"
is $F "$S/Bal[2]/Dt/Dt" "2026-11-30"
is $F "count($S/Ntry)" "1"
is $F "$S/Ntry/NtryRef" "top-c1"
is $F "$S/Ntry/AcctSvcrRef" "top-c1"
is $F "$S/Ntry/Amt" "800.00"
is $F "$S/Ntry/CdtDbtInd" "CRDT"
is $F "$S/Ntry/Sts/Cd" "BOOK"
is $F "$S/Ntry/BookgDt/Dt" "2026-11-02"
is $F "$S/Ntry/ValDt/Dt" "2026-11-02"
is $F "$S/TxsSummry/TtlNtries/NbOfNtries" "1"
# The closing balance is the ledger's own figure at the end of the period.
expect_exit 0 balance assets:bank:icbc:cny --at 2026-11-30 --format csv
grep -q '^assets:bank:icbc:cny,CNY,10850.00,' out || fail "balance --at disagrees: $(cat out)"
# Our own camt importer reads the statement back, and with --strict refuses
# it unless opening + entries = closing.
snapshot clearbook.db copy.db
expect_exit 0 --db copy.db import --profile iso20022 --strict \
	--account assets:bank:icbc:cny $F
out_has "1 line(s) staged" "importing our camt053"
out_has "0 break(s)" "importing our camt053"

# A merchant's account, as we report it to the merchant: credits to the
# payable are CRDT, the payout a DBIT with its EndToEndId; the Chinese name
# with & and <> escaped; the account's IBAN; a partly committed hold
# booked as its commit.
expect_exit 0 export camt053 --account liabilities:merchants:m001:payable \
	--from 2026-11-01 --to 2026-11-30 --out m001 --key key.pem
F=m001/camt053.xml
xsd $F camt.053.001.08.xsd
grep -Fq '<Nm>杭州小笼包店 &amp; Co &lt;总店&gt;</Nm>' $F || fail "the merchant name is not in $F as UTF-8, escaped"
is $F "$S/Acct/Nm" "杭州小笼包店 & Co <总店>"
is $F "$S/Acct/Id/IBAN" "DE89370400440532013000"
is $F "$S/Bal[1]/Amt" "0.00"
is $F "$S/Bal[2]/Amt" "3.00"
is $F "$S/Bal[2]/CdtDbtInd" "CRDT"
is $F "count($S/Ntry)" "3"
is $F "$S/Ntry[1]/NtryRef" "ord-1001"
is $F "$S/Ntry[1]/CdtDbtInd" "CRDT"
is $F "$S/Ntry[1]/Amt" "118.00"
is $F "$S/Ntry[1]/AddtlNtryInf" '=1+1 "小笼包", 2 baskets'
is $F "$S/Ntry[2]/NtryRef" "po-m001"
is $F "$S/Ntry[2]/CdtDbtInd" "DBIT"
is $F "$S/Ntry[2]/NtryDtls/TxDtls/Refs/EndToEndId" "PO-20261125-m001"
is $F "$S/Ntry[3]/NtryRef" "hold-part:commit"
is $F "$S/Ntry[3]/Amt" "3.00"
is $F "$S/Ntry[3]/BkTxCd/Prtry/Cd" "commit"
is $F "$S/TxsSummry/TtlCdtNtries/Sum" "121.00"
is $F "$S/TxsSummry/TtlDbtNtries/Sum" "118.00"
is $F "$S/TxsSummry/TtlNtries/TtlNetNtry/Amt" "3.00"
golden_cmp $F camt053-m001.xml

# JPY (no decimals), IBAN from the meta.
expect_exit 0 export camt053 --account assets:bank:mufg:jpy --from 2026-11-01 \
	--to 2026-11-30 --out jpy --key key.pem
F=jpy/camt053.xml
xsd $F camt.053.001.08.xsd
is $F "$S/Acct/Id/IBAN" "GB29NWBK60161331926819"
is $F "$S/Bal[1]/Amt" "500000"
is $F "$S/Bal[2]/Amt" "498500"
is $F "$S/Ntry/Amt" "1500"
is $F "$S/Ntry/CdtDbtInd" "DBIT"

# Refusals leave no directory behind.
expect_exit 65 export camt053 --account assets:chain:usdt --from 2026-11-01 \
	--to 2026-11-30 --out usdt --key key.pem
err_has "USDT" "camt053 of a USDT account"
[ ! -e usdt ] || fail "a refused export left usdt/ behind"
expect_exit 66 export camt053 --account assets:bank:nope --from 2026-11-01 \
	--to 2026-11-30 --out nope --key key.pem
expect_exit 64 export camt053 --account assets:bank:icbc:cny --from 2026-11-01 \
	--out nope --key key.pem
expect_exit 64 export camt053 --account assets:bank:icbc:cny --from 2026-11-30 \
	--to 2026-11-01 --out nope --key key.pem
expect_exit 64 export camt053 --account assets:bank:icbc:cny --from 2026-11-01 \
	--to 2026-11-30 --out bank --key key.pem
err_has "not empty" "export into a used directory"

# ---------------------------------------------------------------------------
# 2. pain001: the payouts of 2026-11-25, the reversed one left out; the
#    debtor from an INI file.
cat >debtor.ini <<'INI'
[debtor]
name = Clearbook 支付 Ltd
iban = DE02120300000000202051
bic = BYLADEM1001
INI
expect_exit 0 export pain001 --date 2026-11-25 --config debtor.ini --out pay \
	--key key.pem
F=pay/pain001.xml
xsd $F pain.001.001.10.xsd
P=/Document/CstmrCdtTrfInitn
is $F "$P/GrpHdr/MsgId" "CBP-20261125-20261125"
is $F "$P/GrpHdr/CreDtTm" "2026-11-25T02:00:00Z"
is $F "$P/GrpHdr/NbOfTxs" "2"
is $F "$P/GrpHdr/CtrlSum" "158.00"
is $F "$P/GrpHdr/InitgPty/Nm" "Clearbook 支付 Ltd"
is $F "count($P/PmtInf)" "1"
is $F "$P/PmtInf/PmtMtd" "TRF"
is $F "$P/PmtInf/ReqdExctnDt/Dt" "2026-11-25"
is $F "$P/PmtInf/DbtrAcct/Id/IBAN" "DE02120300000000202051"
is $F "$P/PmtInf/DbtrAgt/FinInstnId/BICFI" "BYLADEM1001"
T1="$P/PmtInf/CdtTrfTxInf[1]"
T2="$P/PmtInf/CdtTrfTxInf[2]"
is $F "count($P/PmtInf/CdtTrfTxInf)" "2"
is $F "$T1/PmtId/EndToEndId" "PO-20261125-m001"
is $F "$T1/Amt/InstdAmt" "118.00"
is $F "$T1/Amt/InstdAmt/@Ccy" "CNY"
is $F "$T1/Cdtr/Nm" "杭州小笼包店 & Co <总店>"
is $F "$T1/CdtrAcct/Id/IBAN" "DE89370400440532013000"
is $F "$T1/CdtrAgt/FinInstnId/BICFI" "COBADEFFXXX"
is $F "$T1/RmtInf/Ustrd" "payout 杭州小笼包店"
is $F "$T2/PmtId/EndToEndId" "PO-20261125-m002"
is $F "$T2/Amt/InstdAmt" "40.00"
is $F "$T2/Cdtr/Nm" "Berlin Döner GmbH"
grep -q 'PO-20261125-m002-x' $F && fail "the reversed payout was exported"
golden_cmp $F pain001-20261125.xml
# The same debtor from options gives the same file.
expect_exit 0 export pain001 --from 2026-11-25 --to 2026-11-25 \
	--debtor-name "Clearbook 支付 Ltd" --debtor-iban DE02120300000000202051 \
	--debtor-bic BYLADEM1001 --out pay2 --key key.pem
cmp -s pay/pain001.xml pay2/pain001.xml || fail "debtor from options differs from --config"

# m003 has no IBAN: exit 65 naming the merchant and the field, nothing left.
expect_exit 65 export pain001 --date 2026-11-20 --config debtor.ini --out bad \
	--key key.pem
err_has "merchant 'm003'" "pain001 without an IBAN"
err_has "'iban'" "pain001 without an IBAN"
[ ! -e bad ] || fail "a refused pain001 left bad/ behind"
expect_exit 66 export pain001 --date 2026-11-01 --config debtor.ini --out none \
	--key key.pem
err_has "no payouts" "pain001 of a day without payouts"
expect_exit 64 export pain001 --date 2026-11-25 --out nodebtor --key key.pem
err_has "debtor" "pain001 without a debtor"
expect_exit 64 export pain001 --date 2026-11-25 --config debtor.ini \
	--debtor-iban DE00120300000000202051 --out badiban --key key.pem
err_has "iban" "pain001 with a debtor IBAN whose check digits are wrong"

# ---------------------------------------------------------------------------
# 3. csv: the same bytes as the journal and balance commands print.
expect_exit 0 export csv --out csv --key key.pem
expect_exit 0 journal --format csv
cmp -s out csv/journal.csv || fail "journal.csv differs from journal --format csv"
expect_exit 0 balance --format csv
cmp -s out csv/balances.csv || fail "balances.csv differs from balance --format csv"
grep -Fq ',"'"'"'=1+1 ""小笼包"", 2 baskets",' csv/journal.csv ||
	fail "the formula memo is not neutralised and quoted: $(grep ord-1001 csv/journal.csv)"
grep -Fq 'liabilities:merchants:m001:payable,liability,CNY,杭州小笼包店 & Co <总店>,' \
	csv/accounts.csv || fail "accounts.csv lacks the Chinese name: $(cat csv/accounts.csv)"
expect_exit 0 export csv --to 2026-10-31 --out csvoct --key key.pem
expect_exit 0 balance --at 2026-10-31 --format csv
cmp -s out csvoct/balances.csv || fail "balances.csv --to differs from balance --at"
expect_exit 0 journal --to 2026-10-31 --format csv
cmp -s out csvoct/journal.csv || fail "journal.csv --to differs from journal --to"

# GB18030: converted back with iconv, every file equals the UTF-8 export;
# the name is there in GB18030 bytes.
expect_exit 0 export csv --encoding GB18030 --out gb --key key.pem
for f in journal.csv balances.csv accounts.csv; do
	iconv -f GB18030 -t UTF-8 "gb/$f" >back.csv || fail "gb/$f is not GB18030"
	cmp -s back.csv "csv/$f" || fail "gb/$f does not convert back to csv/$f"
done
printf '杭州小笼包店' | iconv -f UTF-8 -t GB18030 >name.gb
grep -Fq -f name.gb gb/accounts.csv || fail "gb/accounts.csv lacks the name in GB18030"
grep -Fq '杭州' gb/accounts.csv && fail "gb/accounts.csv still holds UTF-8"
expect_exit 65 export csv --encoding ASCII --out ascii --key key.pem
[ ! -e ascii ] || fail "a refused csv export left ascii/ behind"
expect_exit 64 export csv --encoding NO-SUCH-ENCODING --out x --key key.pem

# ---------------------------------------------------------------------------
# 4. journal: hledger's (and ledger-cli's) balances are ours, for every
#    account.
# ours [--at D]: non-zero own balances as "account amount asset", trailing
# zeros dropped; theirs FILE: the same from hledger.
norm() {
	awk '{ n = $2; if (n ~ /\./) { sub(/0+$/, "", n); sub(/\.$/, "", n) }
	       if (n != "0" && n != "-0") print $1, n, $3 }' | sort
}
ours() {
	expect_exit 0 balance --format csv "$@"
	tr -d '\r' <out | awk -F, 'NR > 1 && $6 != "yes" { print $1, $3, $2 }' | norm
}
theirs() {
	hledger -f "$1" balance --flat --no-total -O csv >h.csv 2>h.err ||
		fail "hledger cannot read $1: $(cat h.err)"
	tr -d '"\r' <h.csv | awk -F, 'NR > 1 { split($2, a, " "); print $1, a[1], a[2] }' |
		sed 's/ \([A-Z]*\)$/ \1/' | norm
}
expect_exit 0 export journal --out jnl --key key.pem
grep -Fq '; name: 杭州小笼包店 & Co <总店>' jnl/export.journal ||
	fail "export.journal lacks the Chinese name"
grep -q '^; 2026-11-25 pending hold-open' jnl/export.journal ||
	fail "the open hold is not a comment in export.journal"
ours >ours.txt
theirs jnl/export.journal >theirs.txt
[ "$(wc -l <ours.txt)" -ge 8 ] || fail "too few balances compared: $(cat ours.txt)"
cmp -s ours.txt theirs.txt || fail "hledger balance differs from clearbook balance:
$(diff ours.txt theirs.txt)"
# ledger-cli reads the same file to the same figures.
ledger -f jnl/export.journal balance --flat --no-total \
	--balance-format '%(account) %(display_total)\n' >l.txt 2>l.err ||
	fail "ledger-cli cannot read export.journal: $(cat l.err)"
norm <l.txt >ledger.txt
cmp -s ours.txt ledger.txt || fail "ledger-cli balance differs from clearbook balance:
$(diff ours.txt ledger.txt)"
grep -q '^assets:chain:usdt 1.5 "*USDT"*$' theirs.txt || fail "USDT not read by hledger: $(cat theirs.txt)"

# A period: the opening balances carry October into November.
expect_exit 0 export journal --from 2026-11-01 --to 2026-11-30 --out jnlnov --key key.pem
grep -q '^2026-11-01 \* opening balances' jnlnov/export.journal ||
	fail "no opening balances in the November journal"
grep -q 'late-oct' jnlnov/export.journal && fail "an October transaction is in the November journal"
ours --at 2026-11-30 >ours.txt
theirs jnlnov/export.journal >theirs.txt
cmp -s ours.txt theirs.txt || fail "hledger (November) differs from balance --at:
$(diff ours.txt theirs.txt)"
ledger -f jnlnov/export.journal balance --flat --no-total \
	--balance-format '%(account) %(display_total)\n' >l.txt 2>l.err ||
	fail "ledger-cli cannot read the November journal: $(cat l.err)"
norm <l.txt >ledger.txt
cmp -s ours.txt ledger.txt || fail "ledger-cli (November) differs from balance --at:
$(diff ours.txt ledger.txt)"
