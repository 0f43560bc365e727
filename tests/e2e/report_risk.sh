#!/bin/sh
# report_risk.sh - `clearbook report aml` and `clearbook report chargebacks`
# on small ledgers with known answers: AML alerts by rule and status with
# score and evidence, the evidence postings summing to the alert's amount;
# chargebacks by stage, reason family, merchant ratio against configured
# thresholds (with the threshold in the chart), deadlines; each figure's
# detail lines; CSV formula injection neutralised; every format twice
# byte-identical; the old `aml alerts` / `chargebacks report` still work.
set -eu
T=report_risk
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:icbc:cny,asset,CNY,0
assets:clearing:card,asset,CNY,0
liabilities:merchants:m001:payable,liability,CNY,0
liabilities:merchants:m002:payable,liability,CNY,0
liabilities:wallets:c1,liability,CNY,0
liabilities:wallets:c2,liability,CNY,0
expense:chargebacks,expense,CNY,0
EOF2
expect_exit 0 account import acc.csv

# --- AML ---------------------------------------------------------------
# No scan yet: an empty report that says so.
expect_exit 0 report aml --from 2026-11-01 --to 2026-11-30
out_has "no AML scan has run" "report aml before a scan"
expect_exit 64 report aml --from 2026-11-01 --to 2026-11-30 --config x.ini

topup() { # ID DATE CUSTOMER AMOUNT
	printf '{"id":"%s","date":"%s","postings":[{"account":"assets:bank:icbc:cny","amount":"%s"},{"account":"liabilities:wallets:%s","amount":"-%s"}]}\n' \
		"$1" "$2" "$4" "$3" "$4"
}
{
	topup T1 2026-11-20 c1 30000.00
	topup T2 2026-11-20 c1 25000.00
	topup T3 2026-11-21 c2 49999.99
	topup T4 2026-11-22 c2 60000.00
} >aml.jsonl
expect_exit 0 post aml.jsonl
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30
expect_exit 0 aml set 2 dismissed --reason "=HYPERLINK(\"http://x\")"

expect_exit 0 report aml --from 2026-11-01 --to 2026-11-30 --format json --detail
cp out aml.json
python3 - <<'EOF' || fail "report aml figures"
import json
from decimal import Decimal as D
d = json.load(open("aml.json"))
al = d["alerts"]
# c1: 55,000.00 in two top-ups on one day; c2: 60,000.00 the next day.
# 49,999.99 alone is under the large-value threshold (50,000.00).
got = [(a["id"], a["rule"], a["subject"], a["amount"], a["score"], a["status"]) for a in al
       if a["rule"] == "large-value"]
assert got == [(1, "large-value", "c1", "55000.00", 550, "open"),
               (2, "large-value", "c2", "60000.00", 600, "dismissed")], got
assert al[0]["evidence"] == "T1,T2", al[0]
rules = {r["rule"]: r for r in d["rules"]}
lv = rules["large-value"]
assert (lv["alerts"], lv["open"], lv["escalated"], lv["dismissed"], lv["score_max"]) == (2, 1, 0, 1, 600), lv
assert sum(r["alerts"] for r in d["rules"]) == len(al)
# The evidence's credits on the customer's wallet sum to the alert's amount.
for a in al:
    if a["rule"] != "large-value":
        continue
    s = sum(D(e["credit"]) for e in d["evidence"] if e["alert"] == a["id"]
            and e["account"] == "liabilities:wallets:" + a["subject"] and e["credit"])
    assert s == D(a["amount"]), (a, s)
assert [c["label"] for c in d["charts"]["alerts_by_rule"]] == [r["rule"] for r in d["rules"]]
EOF
expect_exit 0 report aml --from 2026-11-01 --to 2026-11-30 --format csv
grep -q "'=HYPERLINK" out || fail "report aml csv: the dismissal reason is not neutralised"
! grep -q ',=HYPERLINK\|,"=HYPERLINK' out || fail "report aml csv: a formula left live"
# The period filters by the alert's day.
expect_exit 0 report aml --from 2026-11-21 --to 2026-11-30 --format json
python3 -c "import json,sys; d=json.load(open('out')); sys.exit(0 if [a['subject'] for a in d['alerts']] == ['c2'] else 1)" ||
	fail "report aml --from 2026-11-21 shows alerts of other days"
# The old listing is unchanged.
expect_exit 0 aml alerts --format csv
out_has "large-value,c1" "aml alerts"

# --- chargebacks ---------------------------------------------------------
sale() { # ID DATE MERCHANT AMOUNT
	printf '{"id":"%s","date":"%s","postings":[{"account":"assets:clearing:card","amount":"%s"},{"account":"liabilities:merchants:%s:payable","amount":"-%s"}],"meta":{"channel":"card","merchant":"%s"}}\n' \
		"$1" "$2" "$4" "$3" "$4" "$3"
}
{
	sale ORD-0 2026-10-15 m001 100.00
	sale ORD-1 2026-11-02 m001 1000.00
	sale ORD-2 2026-11-03 m001 500.00
	sale ORD-3 2026-11-04 m002 300.00
	sale ORD-4 2026-11-05 m002 300.00
	sale ORD-5 2026-11-06 m002 300.00
	sale ORD-6 2026-11-07 m002 300.00
} >sales.jsonl
expect_exit 0 post sales.jsonl
H="Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Record Date,Record Date TimeZone,Dispute Currency,Dispute Amount,Record Type,Dispute PSP Reference,Dispute Reason,RFI/NoF/CB Scheme Code,RFI/NoF/CB Reason Code,Payment Date,Payment Currency,Payment Amount,Dispute Date,Dispute End Date"
dl() { # PSP ORDER METHOD DATE AMOUNT TYPE DISPUTE CODE END
	printf 'Co,CB_CNY,%s,%s,%s,%s 10:00:00,CET,CNY,%s,%s,%s,Reason,%s,%s,%s 09:00:00,CNY,%s,%s 10:00:00,%s 23:59:59\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$8" "$4" "$5" "$4" "$9"
}
{
	echo "$H"
	dl P1 ORD-1 visa 2026-11-10 1000.00 Chargeback D1 10.4 2026-12-10
	dl P2 ORD-2 mc 2026-11-11 500.00 Chargeback D2 4853 2026-12-11
	dl P3 ORD-3 visa 2026-11-12 300.00 Chargeback D3 13.1 2026-12-05
	dl P4 ORD-4 visa 2026-11-13 300.00 RequestForInformation =1+2 13.1 2026-12-01
	dl P2 ORD-2 mc 2026-11-25 500.00 ChargebackReversed D2 4853 2026-12-25
} >disputes.csv
expect_exit 0 import --profile-file "$ROOT/importers/profiles/disputes.ini" --channel disputes --account assets:clearing:card disputes.csv
# Visa: 1 dispute and 50% (m001: 1 of 2 sales) is over; m002 (1 of 4
# sales, 2500 bps) is just under 2501 bps.
cat >cb.ini <<'EOF2'
[scheme visa]
count_threshold = 1
ratio_bps = 2501
[scheme mastercard]
count_threshold = 1
ratio_bps = 150
EOF2
expect_exit 66 report chargebacks --from 2026-11-01 --to 2026-11-30 --config nosuch.ini
expect_exit 0 report chargebacks --from 2026-11-01 --to 2026-11-30 --config cb.ini \
	--format json --detail
cp out cb.json
python3 - <<'EOF' || fail "report chargebacks figures"
import json
from decimal import Decimal as D
from collections import defaultdict
d = json.load(open("cb.json"))
st = {(s["stage"], s["asset"]): (s["count"], s["amount"]) for s in d["stages"]}
assert st == {("retrieval", "CNY"): (1, "300.00"), ("chargeback", "CNY"): (3, "1800.00"),
              ("won", "CNY"): (1, "500.00")}, st
m = {(r["merchant"], r["scheme"]): r for r in d["merchants"]}
v1, v2, mc = m[("m001", "visa")], m[("m002", "visa")], m[("m001", "mastercard")]
assert (v1["chargebacks"], v1["card_sales"], v1["ratio_bps"], v1["ratio_pct"], v1["flag"]) == (1, 2, 5000, "50.00", "over"), v1
assert (v2["chargebacks"], v2["card_sales"], v2["ratio_bps"], v2["flag"]) == (1, 4, 2500, ""), v2
assert v2["ratio_threshold_bps"] == 2501 and v2["count_threshold"] == 1, v2
# Mastercard divides by the previous period's sales (ORD-0 in October).
assert (mc["card_sales"], mc["ratio_bps"], mc["flag"]) == (1, 10000, "over"), mc
reasons = {(r["scheme"], r["family"]): r["disputes"] for r in d["reasons"]}
assert reasons == {("visa", "fraud"): 1, ("mastercard", "cardholder dispute"): 1,
                   ("visa", "consumer dispute"): 2}, reasons
dl = [(x["dispute"], x["flag"]) for x in d["deadlines"]]
assert dl == [("=1+2", "due"), ("D3", "due"), ("D1", "due")], dl
# Detail: the lines sum to the stage figures; the first chargebacks per
# merchant and scheme are the merchant figures.
s = defaultdict(D); n = defaultdict(int); cbs = defaultdict(int)
for l in d["lines"]:
    s[l["stage"]] += D(l["amount"]); n[l["stage"]] += 1
    if l["stage"] == "chargeback":
        cbs[(l["merchant"], l["scheme"])] += 1
for (stage, _), (count, amount) in st.items():
    assert (n[stage], s[stage]) == (count, D(amount)), stage
for k, r in m.items():
    assert cbs[k] == r["chargebacks"], k
# The ratio chart: one bar per merchant and scheme, each with its threshold.
ch = {c["label"]: c for c in d["charts"]["chargeback_ratio"]}
assert ch["m001 visa"] == {"label": "m001 visa", "value": "50.00", "threshold": "25.01"}, ch
assert ch["m001 mastercard"]["threshold"] == "1.50", ch
assert [c["label"] for c in d["charts"]["disputes_by_stage"]] == ["retrieval", "chargeback", "won"]
EOF
expect_exit 0 report chargebacks --from 2026-11-01 --to 2026-11-30 --config cb.ini --format csv --detail
grep -q "^\"'=1+2\"," out || fail "report chargebacks csv: dispute '=1+2' is not neutralised: $(grep 1+2 out)"
expect_exit 0 report chargebacks --from 2026-11-01 --to 2026-11-30 --config cb.ini --format html
grep -q 'class="threshold"' out || fail "report chargebacks html: no threshold drawn"
# The old command still reports the same ratio.
expect_exit 0 chargebacks report --from 2026-11-01 --to 2026-11-30 --config cb.ini --format csv
out_has "merchant,m001,visa,CNY,1,1000.00,2,5000" "chargebacks report"

# --- determinism: every format, with and without detail, twice -----------
for r in "aml" "chargebacks --config cb.ini"; do
	for f in text csv json html; do
		for dt in "" --detail; do
			# shellcheck disable=SC2086
			expect_exit 0 report $r --from 2026-11-01 --to 2026-11-30 --format $f $dt --out a.$f
			# shellcheck disable=SC2086
			expect_exit 0 report $r --from 2026-11-01 --to 2026-11-30 --format $f $dt --out b.$f
			cmp -s a.$f b.$f || fail "report $r --format $f $dt differs between two runs"
		done
	done
done
echo "ok: $T"
