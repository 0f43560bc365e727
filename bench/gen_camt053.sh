#!/bin/sh
# gen_camt053.sh N - one camt.053.001.08 statement with N entries on stdout,
# for the ISO 20022 import benchmark (bench/import.sh).  Deterministic: the
# same N gives the same bytes.
#
# The mix, by entry number i (1..N):
#   i % 10 == 0   batch debit: a payout run, 2-5 TxDtls under one Btch
#   i % 10 == 5   batch credit: a card settlement, 2-4 TxDtls under one Btch
#   i % 3 == 0    single debit with one TxDtls
#   otherwise     single credit with one TxDtls
# Every 1000th entry is pending (PDNG) and does not move the booked balance.
# A batch entry's amount is the sum of its TxDtls.  The closing balance is
# the opening balance plus every booked entry, and TxsSummry carries the
# counts and sums, so the statement reconciles as a real one would.
# Amounts are integer minor units (fen) throughout; awk's doubles are exact
# far beyond what N = 10^7 can reach.
n=${1:?usage: gen_camt053.sh N}
case $n in
''|*[!0-9]*) echo "gen_camt053.sh: N must be a whole number" >&2; exit 64 ;;
esac
awk -v n="$n" '
function money(c,   u) {
	if (c < 0)
		c = -c
	u = int(c / 100)
	return sprintf("%.0f.%02d", u, c - u * 100)
}
function kind(i) {
	if (i % 10 == 0) return "BD"
	if (i % 10 == 5) return "BC"
	if (i % 3 == 0) return "SD"
	return "SC"
}
function children(i, k) {
	if (k == "BD") return 2 + i % 4
	if (k == "BC") return 2 + i % 3
	return 1
}
function child_cents(i, j) { return 100 + ((i * 31 + j * 7) * 7919) % 300000 }
function single_cents(i, k) {
	if (k == "SC") return 1000 + (i * 7919) % 2000000
	return 500 + (i * 104729) % 500000
}
function entry_cents(i, k,   j, m, s) {
	if (k == "SC" || k == "SD")
		return single_cents(i, k)
	m = children(i, k)
	s = 0
	for (j = 1; j <= m; j++)
		s += child_cents(i, j)
	return s
}
function booked(i) { return i % 1000 != 0 }
function bal(code, c) {
	printf "      <Bal>\n        <Tp><CdOrPrtry><Cd>%s</Cd></CdOrPrtry></Tp>\n", code
	printf "        <Amt Ccy=\"CNY\">%s</Amt>\n", money(c)
	printf "        <CdtDbtInd>%s</CdtDbtInd>\n", (c < 0 ? "DBIT" : "CRDT")
	printf "        <Dt><Dt>2026-11-24</Dt></Dt>\n      </Bal>\n"
}
function txdtls(i, j, c, ind, credit) {
	printf "          <TxDtls>\n"
	printf "            <Refs><AcctSvcrRef>ICBC-TX-%d-%d</AcctSvcrRef><EndToEndId>%s-%d-%d</EndToEndId></Refs>\n", i, j, credit ? "CS" : "PO", i, j
	printf "            <Amt Ccy=\"CNY\">%s</Amt>\n            <CdtDbtInd>%s</CdtDbtInd>\n", money(c), ind
	if (credit)
		printf "            <RltdPties><Dbtr><Pty><Nm>Customer %d</Nm></Pty></Dbtr><DbtrAcct><Id><Othr><Id>62220%010d</Id></Othr></Id></DbtrAcct></RltdPties>\n", (i * 7 + j) % 100000, (i * 13 + j) % 1000000000
	else
		printf "            <RltdPties><Cdtr><Pty><Nm>Merchant %d</Nm></Pty></Cdtr><CdtrAcct><Id><Othr><Id>62170%010d</Id></Othr></Id></CdtrAcct></RltdPties>\n", (i + j) % 10000, (i * 17 + j) % 1000000000
	printf "            <RmtInf><Ustrd>%s %d/%d</Ustrd></RmtInf>\n          </TxDtls>\n", credit ? "order" : "payout", i, j
}
function entry(i,   k, c, m, j, ind, credit, dom) {
	k = kind(i)
	c = entry_cents(i, k)
	credit = (k == "SC" || k == "BC")
	ind = credit ? "CRDT" : "DBIT"
	dom = credit ? "RCDT" : "ICDT"
	printf "      <Ntry>\n        <NtryRef>ICBC%010d</NtryRef>\n", i
	printf "        <Amt Ccy=\"CNY\">%s</Amt>\n        <CdtDbtInd>%s</CdtDbtInd>\n", money(c), ind
	printf "        <Sts><Cd>%s</Cd></Sts>\n", booked(i) ? "BOOK" : "PDNG"
	printf "        <BookgDt><Dt>2026-11-24</Dt></BookgDt>\n        <ValDt><Dt>2026-11-24</Dt></ValDt>\n"
	printf "        <AcctSvcrRef>ICBC-AS-%d</AcctSvcrRef>\n", i
	printf "        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>%s</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\n", dom
	printf "        <NtryDtls>\n"
	if (k == "SC" || k == "SD") {
		txdtls(i, 1, c, ind, credit)
	} else {
		m = children(i, k)
		printf "          <Btch><PmtInfId>%s-%d</PmtInfId><NbOfTxs>%d</NbOfTxs><TtlAmt Ccy=\"CNY\">%s</TtlAmt><CdtDbtInd>%s</CdtDbtInd></Btch>\n", credit ? "SETTLE" : "PAYOUT", i, m, money(c), ind
		for (j = 1; j <= m; j++)
			txdtls(i, j, child_cents(i, j), ind, credit)
	}
	printf "        </NtryDtls>\n      </Ntry>\n"
}
BEGIN {
	opening = 100000000000          # 1,000,000,000.00 CNY
	ncdt = ndbt = scdt = sdbt = 0
	net = 0
	for (i = 1; i <= n; i++) {
		k = kind(i)
		c = entry_cents(i, k)
		if (k == "SC" || k == "BC") {
			ncdt++; scdt += c
			if (booked(i)) net += c
		} else {
			ndbt++; sdbt += c
			if (booked(i)) net -= c
		}
	}
	closing = opening + net
	print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	print "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">"
	print "  <BkToCstmrStmt>"
	print "    <GrpHdr>"
	printf "      <MsgId>BENCH-STMT-%d</MsgId>\n", n
	print "      <CreDtTm>2026-11-25T01:10:00+08:00</CreDtTm>"
	print "    </GrpHdr>"
	print "    <Stmt>"
	printf "      <Id>6222020200001234567-20261124-%d</Id>\n", n
	print "      <ElctrncSeqNb>1</ElctrncSeqNb>"
	print "      <CreDtTm>2026-11-25T01:10:00+08:00</CreDtTm>"
	print "      <FrToDt><FrDtTm>2026-11-24T00:00:00+08:00</FrDtTm><ToDtTm>2026-11-24T23:59:59+08:00</ToDtTm></FrToDt>"
	print "      <Acct><Id><Othr><Id>6222020200001234567</Id></Othr></Id><Ccy>CNY</Ccy><Nm>Clearbook Wallet Operator Ltd - settlement</Nm></Acct>"
	bal("OPBD", opening)
	bal("CLBD", closing)
	print "      <TxsSummry>"
	printf "        <TtlNtries><NbOfNtries>%d</NbOfNtries><Sum>%s</Sum><TtlNetNtry><Amt>%s</Amt><CdtDbtInd>%s</CdtDbtInd></TtlNetNtry></TtlNtries>\n", n, money(scdt + sdbt), money(scdt - sdbt), (scdt >= sdbt ? "CRDT" : "DBIT")
	printf "        <TtlCdtNtries><NbOfNtries>%d</NbOfNtries><Sum>%s</Sum></TtlCdtNtries>\n", ncdt, money(scdt)
	printf "        <TtlDbtNtries><NbOfNtries>%d</NbOfNtries><Sum>%s</Sum></TtlDbtNtries>\n", ndbt, money(sdbt)
	print "      </TxsSummry>"
	for (i = 1; i <= n; i++)
		entry(i)
	print "    </Stmt>"
	print "  </BkToCstmrStmt>"
	print "</Document>"
}'
