#!/bin/sh
# aml_refusals.sh - the front's risk refusals as an input of `aml scan`: a
# real server refuses c1 three purchases over its tier's limit (the rule
# fires: three within seven days) and c2 two (just below: nothing); the
# alert's evidence is the three refusals, and `report aml --detail` shows
# each with its reason, merchant and order.
set -eu
T=aml_refusals
. "$ROOT/tests/e2e/lib/common.sh"

python3 - "$PWD" <<'PY' || fail "see the lines above"
import csv, io, json, os, sqlite3, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "front"))
from frontclient import Client, Server, apikey_add, cb, check, setup_ledger

D = sys.argv[1]
db = os.path.join(D, "front.db")
config = os.path.join(D, "front.ini")
with open(config, "w") as f:
    f.write("[server]\ncustomers_file = customers.csv\ndefault_tier = standard\n"
            "[merchant m1]\nfee_bps = 0\n[tier standard]\namount_max = 50.00\n")
with open(os.path.join(D, "customers.csv"), "w") as f:
    f.write("customer,tier,blocked\nc1,standard,0\nc2,standard,0\n")
setup_ledger(db)
key = apikey_add(db, "m1")
srv = Server(db, config)
try:
    c = Client(srv.port, *key)
    def buy(order, customer, amount):
        body = {"order_id": order, "customer": customer, "merchant": "m1",
                "amount": amount, "asset": "CNY"}
        return c.post("/v1/purchases", body, "k-" + order)
    r = buy("ok-1", "c1", "10.00")
    check(r.status == 201, "a purchase within the limit: %r" % r)
    for i in range(3):
        r = buy("big-c1-%d" % i, "c1", "60.00")
        check(r.status == 422 and r.code() == "risk_limit", "c1 refusal %d: %r" % (i, r))
    for i in range(2):
        r = buy("big-c2-%d" % i, "c2", "60.00")
        check(r.status == 422 and r.code() == "risk_limit", "c2 refusal %d: %r" % (i, r))
    c.close()
finally:
    srv.stop()

con = sqlite3.connect(db)
rows = con.execute("SELECT id, substr(at, 1, 10), customer FROM front_risk_refusals"
                   " ORDER BY id").fetchall()
con.close()
check([r[2] for r in rows] == ["c1", "c1", "c1", "c2", "c2"], "refusals: %r" % rows)
day_from, day_to = min(r[1] for r in rows), max(r[1] for r in rows)
c1_ids = ",".join("refusal:%d" % r[0] for r in rows if r[2] == "c1")

_, out, _ = cb(db, "aml", "scan", "--from", day_from, "--to", day_to)
check("1 alert(s), 1 new" in out, "scan: %r" % out)
_, out, _ = cb(db, "aml", "scan", "--from", day_from, "--to", day_to)
check("1 alert(s), 0 new" in out, "re-scan: %r" % out)
_, out, _ = cb(db, "aml", "alerts", "--format", "csv")
alerts = list(csv.DictReader(io.StringIO(out)))
check(len(alerts) == 1, "alerts: %r" % alerts)
a = alerts[0]
check(a["rule"] == "risk-refusals" and a["subject"] == "c1" and a["score"] == "500",
      "alert: %r" % a)
check(a["evidence"] == c1_ids, "evidence %r, expected %r" % (a["evidence"], c1_ids))
check("3 purchases refused by the front's risk rules within 7 day(s)" in a["detail"] and
      "risk_limit x3" in a["detail"], "detail: %r" % a["detail"])

_, out, _ = cb(db, "report", "aml", "--from", day_from, "--to", day_to,
               "--format", "json", "--detail")
ev = json.loads(out)["evidence"]
check([e["transaction"] for e in ev] == c1_ids.split(","), "evidence rows: %r" % ev)
for e in ev:
    check("refused by the front (risk_limit): 60.00 CNY at merchant m1, order big-c1-"
          in e["account"] and e["debit"] in ("", None) and e["credit"] in ("", None),
          "evidence row: %r" % e)

# One refusal more than the configuration asks: c2's two fire at count 2.
with open(os.path.join(D, "two.ini"), "w") as f:
    f.write("[aml]\nrefusal_count = 2\n")
_, out, _ = cb(db, "aml", "scan", "--from", day_from, "--to", day_to,
               "--config", os.path.join(D, "two.ini"))
check("2 alert(s), 1 new" in out, "scan at count 2: %r" % out)
print("ok   refusals")
PY
echo "ok: $T"
