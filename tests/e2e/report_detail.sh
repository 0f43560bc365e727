#!/bin/sh
# report_detail.sh - --detail on every report of the sample night: each
# figure's detail lines add up to the figure (trial balance debits and
# credits per account, balance sheet balances with what was brought
# forward, income statement movements, the statement's debits and credits,
# every settlement figure per merchant, reconciliation lines and matches
# per channel and rule), and --detail changes no figure.  The sums are
# recomputed here in Python from the JSON, in exact decimals.
set -eu
T=report_detail
. "$ROOT/tests/e2e/lib/common.sh"

sh "$ROOT/samples/demo.sh" demo >demo.out 2>demo.err || fail "demo failed: $(cat demo.err)"
no_sanitizer_report demo.err "samples/demo.sh"
CLEARBOOK_DB=$PWD/demo/clearbook.db
export CLEARBOOK_DB

# The period starts after the first day so that something is brought
# forward.
P="--from 2026-11-24 --to 2026-11-25"
for r in trial-balance balance-sheet income-statement "statement assets:clearing:card" \
	reconciliation settlement; do
	f=$(echo "$r" | tr ' :' '__')
	# shellcheck disable=SC2086
	expect_exit 0 report $r $P --format json --detail
	cp out "$f.detail.json"
	# shellcheck disable=SC2086
	expect_exit 0 report $r $P --format json
	cp out "$f.json"
done

cat >check.py <<'EOF'
import json, sys
from decimal import Decimal as D
from collections import defaultdict

bad = []
def check(what, got, want):
    if got != want:
        bad.append(f"{what}: detail sums to {got}, the figure is {want}")

def load(name):
    return json.load(open(name + ".detail.json")), json.load(open(name + ".json"))

def amt(s):
    return D(s) if s else D(0)

def same_figures(name, with_detail, without):
    # --detail adds tables; every table of the plain report is unchanged.
    for k, v in without.items():
        if with_detail.get(k) != v:
            bad.append(f"{name}: --detail changed '{k}'")

# Trial balance: per account, the postings' debits and credits.
d, p = load("trial-balance"); same_figures("trial-balance", d, p)
dr, cr = defaultdict(D), defaultdict(D)
for r in d["detail"]:
    dr[r["account"]] += amt(r["debit"]); cr[r["account"]] += amt(r["credit"])
assert d["accounts"], "trial balance has no accounts"
for a in d["accounts"]:
    check(f"trial-balance {a['account']} debits", dr[a["account"]], D(a["debits"]))
    check(f"trial-balance {a['account']} credits", cr[a["account"]], D(a["credits"]))

# Balance sheet: brought forward plus the period's postings = the balance
# (shown debit-positive for assets, credit-positive for the others);
# retained earnings = what income and expense accounts hold.
d, p = load("balance-sheet"); same_figures("balance-sheet", d, p)
net = defaultdict(D); sec = {}; asset = {}
bf = 0
for r in d["detail"]:
    net[r["account"]] += amt(r["debit"]) - amt(r["credit"])
    sec[r["account"]] = r["section"]; asset[r["account"]] = r["asset"]
    bf += r["transaction"] == "brought forward" and amt(r["debit"] or r["credit"]) != 0
assert bf > 0, "nothing was brought forward: the test period is wrong"
for l in d["lines"]:
    shown = net[l["account"]] if l["section"] == "asset" else -net[l["account"]]
    check(f"balance-sheet {l['account']}", shown, D(l["balance"]))
for t in d["totals"]:
    re = -sum(v for a, v in net.items()
              if sec[a] == "retained_earnings" and asset[a] == t["asset"])
    check(f"balance-sheet retained earnings {t['asset']}", re, D(t["retained_earnings"]))

# Income statement: the income and expense postings per account.
d, p = load("income-statement"); same_figures("income-statement", d, p)
net = defaultdict(D)
for r in d["detail"]:
    net[r["account"]] += amt(r["debit"]) - amt(r["credit"])
assert d["lines"], "income statement has no lines"
for l in d["lines"]:
    shown = net[l["account"]] if l["section"] == "expense" else -net[l["account"]]
    check(f"income-statement {l['account']}", shown, D(l["amount"]))

# Statement: its lines are the debits and credits; the counterparts of
# each line's transaction balance it (two-posting or not).
d, p = load("statement_assets_clearing_card"); same_figures("statement", d, p)
s = d["summary"][0]
check("statement debits", sum(amt(l["debit"]) for l in d["lines"]), D(s["debits"]))
check("statement credits", sum(amt(l["credit"]) for l in d["lines"]), D(s["credits"]))
mine = defaultdict(D); other = defaultdict(D)
for l in d["lines"]:
    mine[l["transaction"]] += amt(l["debit"]) - amt(l["credit"])
for c in d["counterparts"]:
    other[c["transaction"]] += amt(c["debit"]) - amt(c["credit"])
assert d["counterparts"], "statement has no counterparts"
for tx, v in mine.items():
    check(f"statement counterparts of {tx}", -other[tx], v)

# Settlement: each figure per merchant is the sum of its detail rows.
d, p = load("settlement"); same_figures("settlement", d, p)
fig = defaultdict(D)
for r in d["detail"]:
    fig[(r["merchant"], r["figure"])] += D(r["amount"])
figures = {"gross_sales", "refunds_reversals", "processing_fees", "reserve_held",
           "reserve_released", "adjustments", "payouts", "payouts_returned"}
n = 0
for m in d["merchants"]:
    for f in figures & set(m):
        check(f"settlement {m['merchant']} {f}", fig[(m["merchant"], f)], D(m[f])); n += 1
assert n > 0, "settlement has no figures"

# Reconciliation: lines and matched lines per channel, lines per rule.
d, p = load("reconciliation"); same_figures("reconciliation", d, p)
lines = defaultdict(int); matched = defaultdict(int); rule = defaultdict(int)
for l in d["lines"]:
    lines[l["channel"]] += 1
    if l["match"] != "":
        matched[l["channel"]] += 1
        rule[(l["channel"], l["rule"])] += 1
assert d["channels"], "reconciliation has no channels"
for c in d["channels"]:
    check(f"reconciliation {c['channel']} lines", lines[c["channel"]], c["lines"])
    check(f"reconciliation {c['channel']} matched", matched[c["channel"]], c["matched"])
for r in d["rules"]:
    check(f"reconciliation {r['channel']} {r['rule']}", rule[(r["channel"], r["rule"])], r["lines"])

if bad:
    print("\n".join(bad)); sys.exit(1)
EOF
python3 check.py || fail "a figure differs from the sum of its detail lines"

# The check can fail: one cent more on one detail line is caught.
python3 - <<'EOF'
import json
from decimal import Decimal as D
d = json.load(open("trial-balance.detail.json"))
r = next(r for r in d["detail"] if r["debit"])
r["debit"] = str(D(r["debit"]) + D("0.01"))
json.dump(d, open("trial-balance.detail.json", "w"))
EOF
! python3 check.py >check.out 2>&1 || fail "the detail check accepts a changed figure"
grep -q "trial-balance .* debits" check.out || fail "the changed figure is not named: $(cat check.out)"
echo "ok: $T"
