"""test_api.py SCRATCH_DIR - every endpoint and error of the HTTP front,
against a real server on loopback (driven by tests/e2e/front_api.sh)."""
import json
import os
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frontclient import (Client, Server, apikey_add, cb, check, journal_ids,
                         run, setup_ledger)

D = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
DB = os.path.join(D, "front.db")
CONFIG = os.path.join(D, "front.ini")
S = {}  # the server, clients and keys, filled by test_start


def write_config():
    with open(CONFIG, "w") as f:
        f.write("""# the front's test configuration
# a merchant section before [server]: it still gets the default fee
[merchant mdef]
blocked = false

[server]
default_fee_bps = 200
customers_file = customers.csv
fx_rates_file = rates.csv
default_tier = standard
body_max_bytes = 4096
json_depth_max = 8

[merchant m1]
fee_bps = 150

[merchant m2]
fee_bps = 0

[merchant mblocked]
blocked = true

[tier standard]
amount_max = 500.00
daily_amount_max = 3000.00

[tier low]
amount_max = 50.00
per_minute_max = 2

[tier daily]
daily_amount_max = 10.00

# a limit not writable at CNY's scale: compared exactly, never skipped
[tier odd]
amount_max = 500.505

[points PTS]
currency = CNY
value = 0.01
""")
    with open(os.path.join(D, "customers.csv"), "w") as f:
        f.write("customer,tier,blocked\nc1,standard,0\nc4,low,0\nd1,daily,0\n"
                "o1,odd,0\n"
                "blocked1,standard,1\n")
    with open(os.path.join(D, "rates.csv"), "w") as f:
        f.write("from,to,rate\nUSD,CNY,7.10\n")


def purchase(order, amount, customer="c1", merchant="m1", **extra):
    body = {"order_id": order, "customer": customer, "merchant": merchant,
            "amount": amount, "asset": "CNY"}
    body.update(extra)
    return body


def wallet(resp, account="liabilities:wallets:c1"):
    for w in resp.json["wallets"]:
        if w["account"] == account:
            return w["posted"], w["available"]
    raise AssertionError("no wallet %s in %r" % (account, resp))


def test_start():
    setup_ledger(DB)
    write_config()
    # d1: a customer of the daily tier; closed1: a wallet that is closed
    with open(os.path.join(D, "more.jsonl"), "w") as f:
        f.write(json.dumps({"id": "top-d1", "date": "2026-11-24", "postings": [
            {"account": "assets:bank:cny", "amount": "100.00"},
            {"account": "liabilities:wallets:d1", "amount": "-100.00"}]}) + "\n")
        f.write(json.dumps({"id": "top-o1", "date": "2026-11-24", "postings": [
            {"account": "assets:bank:cny", "amount": "2000.00"},
            {"account": "liabilities:wallets:o1", "amount": "-2000.00"}]}) + "\n")
    cb(DB, "post", os.path.join(D, "more.jsonl"))
    cb(DB, "account", "add", "liabilities:wallets:closed1", "--type", "liability",
       "--asset", "CNY", "--no-overdraft")
    cb(DB, "account", "close", "liabilities:wallets:closed1")
    S["k1"] = apikey_add(DB, "m1")
    S["k2"] = apikey_add(DB, "m2")
    S["kb"] = apikey_add(DB, "mblocked")
    S["kd"] = apikey_add(DB, "mdef")
    S["srv"] = Server(DB, CONFIG)
    S["c1"] = Client(S["srv"].port, *S["k1"])
    S["c2"] = Client(S["srv"].port, *S["k2"])


def test_secret_is_stored_only_encrypted():
    with open(DB, "rb") as f:
        data = f.read()
    for path in (DB + "-wal",):
        if os.path.exists(path):
            with open(path, "rb") as f:
                data += f.read()
    for _, secret in (S["k1"], S["k2"]):
        check(secret.encode() not in data, "a secret is in the database in clear")
        check(secret not in S["srv"].text(), "a secret is in the server's log")


def test_healthz_and_metrics():
    c = S["c1"]
    r = c.get("/healthz", auth=False)
    check(r.status == 200 and r.json == {"status": "ok"}, "healthz: %r" % r)
    r = c.get("/metrics", auth=False)
    check(r.status == 200 and "clearbook_front_requests_total" in r.raw and
          "clearbook_front_commit_batch_size_bucket" in r.raw and
          "clearbook_front_queue_depth" in r.raw, "metrics: %r" % r)
    check(r.headers.get("Content-Type", "").startswith("text/plain"),
          "metrics content type")


def test_purchase_posts_and_returns_balances():
    r = S["c1"].post("/v1/purchases", purchase("o-1", "12.34"), "k-o-1")
    check(r.status == 201, "purchase: %r" % r)
    p = r.json["purchase"]
    # 150 bps of 12.34 is 0.1851, rounded half-even to 0.19
    check(p["status"] == "completed" and p["amount"] == "12.34" and
          p["fee"] == "0.19" and p["captured"] == "12.34", "purchase: %r" % r)
    check(wallet(r) == ("987.66", "987.66"), "wallet after purchase: %r" % r)
    check(p["id"] in journal_ids(DB), "the purchase is not in the journal")
    S["p1"] = p["id"]


def test_fees_round_half_even():
    # 150 bps of 1.00 is 0.015 and of 3.00 is 0.045: ties go to the even cent
    for order, amount, fee in (("o-fee1", "1.00", "0.02"), ("o-fee3", "3.00", "0.04"),
                               ("o-fee5", "0.50", "0.01")):
        r = S["c1"].post("/v1/purchases", purchase(order, amount, customer="c2"),
                         "k-" + order)
        check(r.status == 201 and r.json["purchase"]["fee"] == fee,
              "fee of %s: %r" % (amount, r))


def test_default_fee_whatever_the_section_order():
    c = Client(S["srv"].port, *S["kd"])
    r = c.post("/v1/purchases", purchase("o-mdef", "10.00", customer="o1",
                                         merchant="mdef"), "k-o-mdef")
    check(r.status == 201 and r.json["purchase"]["fee"] == "0.20",
          "200 bps default for a merchant configured before [server]: %r" % r)


def test_get_purchase_and_balance():
    r = S["c1"].get("/v1/purchases/" + S["p1"])
    check(r.status == 200 and r.json["purchase"]["order_id"] == "o-1", "get: %r" % r)
    r = S["c2"].get("/v1/purchases/" + S["p1"])
    check(r.status == 403 and r.code() == "not_yours", "other merchant's get: %r" % r)
    r = S["c1"].get("/v1/purchases/pu_0000000000000000")
    check(r.status == 404 and r.code() == "not_found", "unknown purchase: %r" % r)
    r = S["c1"].get("/v1/wallets/c1/balance")
    check(r.status == 200 and r.json["wallets"][0]["posted"] == "987.66",
          "balance: %r" % r)
    r = S["c1"].get("/v1/wallets/c1/balance?asset=USD")
    check(r.status == 200 and r.json["wallets"][0]["posted"] == "100.00",
          "balance with a query string (signed with it): %r" % r)
    # privacy: only the merchants a customer bought from see the wallet, and
    # the refusal does not tell whether the customer exists at all
    r = S["c2"].get("/v1/wallets/c1/balance")
    check(r.status == 403 and r.code() == "not_yours",
          "another merchant's customer's balance: %r" % r)
    nobody = S["c1"].get("/v1/wallets/nobody/balance")
    c3 = S["c1"].get("/v1/wallets/c3/balance")
    check(nobody.status == 403 and nobody.code() == "not_yours" and
          nobody.raw == c3.raw, "unknown customer %r / existing non-customer %r"
          % (nobody, c3))


def test_signature_failures():
    c, body = S["c1"], purchase("o-sig", "1.00")
    r = c.post("/v1/purchases", body, "k-sig", secret="sk_" + "0" * 40)
    check(r.status == 401 and r.code() == "bad_signature", "wrong secret: %r" % r)
    r = c.post("/v1/purchases", body, "k-sig", ts=int(time.time()) - 301)
    check(r.status == 401 and r.code() == "stale_timestamp", "stale: %r" % r)
    r = c.post("/v1/purchases", body, "k-sig", ts=int(time.time()) + 400)
    check(r.status == 401 and r.code() == "stale_timestamp", "future: %r" % r)
    altered = json.dumps(purchase("o-sig", "1000.00")).encode()
    r = c.post("/v1/purchases", body, "k-sig", sign_body=altered)
    check(r.status == 401 and r.code() == "bad_signature", "altered body: %r" % r)
    r = c.post("/v1/purchases", body, "k-sig", key_id="k_ffffffffffffffff")
    check(r.status == 401 and r.code() == "unknown_key", "unknown key: %r" % r)
    r = c.post("/v1/purchases", body, "k-sig", auth=False)
    check(r.status == 401 and r.code() == "missing_auth", "no auth: %r" % r)
    # another merchant's secret under this key id
    r = c.post("/v1/purchases", body, "k-sig", secret=S["k2"][1])
    check(r.status == 401, "another key's secret: %r" % r)
    check("o-sig" not in str(journal_ids(DB)), "a refused request posted")


def test_other_merchants_purchase_is_forbidden():
    r = S["c2"].post("/v1/purchases", purchase("o-x", "1.00", merchant="m1"), "k-x")
    check(r.status == 403 and r.code() == "not_yours", "buying as m1 with m2's key: %r" % r)
    r = S["c2"].post("/v1/refunds", {"purchase_id": S["p1"]}, "k-x2")
    check(r.status == 403 and r.code() == "not_yours", "refunding m1's purchase: %r" % r)
    r = S["c2"].post("/v1/purchases/%s/void" % S["p1"], None, "k-x3")
    check(r.status == 403 and r.code() == "not_yours", "voiding m1's purchase: %r" % r)


def test_idempotent_replay_and_conflict():
    c = S["c1"]
    r1 = c.post("/v1/purchases", purchase("o-idem", "2.00"), "k-idem")
    r2 = c.post("/v1/purchases", purchase("o-idem", "2.00"), "k-idem")
    check(r1.status == 201 and r2.status == 201 and r1.raw == r2.raw,
          "replay differs: %r / %r" % (r1, r2))
    r3 = c.post("/v1/purchases", purchase("o-idem", "3.00"), "k-idem")
    check(r3.status == 409 and r3.code() == "idempotency_conflict", "conflict: %r" % r3)
    r4 = c.post("/v1/purchases", purchase("o-idem", "2.00"), "k-idem-other")
    check(r4.status == 409 and r4.code() == "order_exists", "same order: %r" % r4)
    r = c.post("/v1/purchases", purchase("o-noidem", "2.00"), None)
    check(r.status == 400 and r.code() == "missing_idempotency_key", "no key: %r" % r)


def test_parallel_retries_have_one_effect():
    before = S["c1"].get("/v1/wallets/c2/balance").json["wallets"][0]["posted"]
    results = []

    def worker():
        c = Client(S["srv"].port, *S["k1"])
        results.append(c.post("/v1/purchases",
                              purchase("o-par", "7.00", customer="c2"), "k-par"))
        c.close()
    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(len(results) == 16 and all(r.status == 201 for r in results),
          "parallel retries: %r" % results)
    check(len(set(r.raw for r in results)) == 1, "parallel retries answered differently")
    after = S["c1"].get("/v1/wallets/c2/balance").json["wallets"][0]["posted"]
    check(before == "995.50" and after == "988.50",
          "parallel retries moved %s -> %s" % (before, after))


def test_bad_bodies():
    c = S["c1"]
    r = c.post("/v1/purchases", "{not json", "k-bad1")
    check(r.status == 400 and r.code() == "malformed_json", "malformed: %r" % r)
    r = c.post("/v1/purchases", "[1,2]", "k-bad2")
    check(r.status == 400 and r.code() == "malformed_json", "not an object: %r" % r)
    deep = '{"a":' * 50 + '1' + '}' * 50
    r = c.post("/v1/purchases", deep, "k-bad3")
    check(r.status == 400 and r.code() == "too_deep", "deep: %r" % r)
    big = json.dumps(purchase("o-big", "1.00", memo="x" * 10000))
    r = c.post("/v1/purchases", big, "k-bad4")
    check(r.status == 413 and r.code() == "body_too_large", "oversize: %r" % r)
    r = c.post("/v1/purchases", purchase("o-bad5", "1.001"), "k-bad5")
    check(r.status == 400 and r.code() == "bad_amount", "3 decimals: %r" % r)
    r = c.post("/v1/purchases", purchase("o-bad6", 1.5), "k-bad6")
    check(r.status == 400, "a JSON number amount: %r" % r)
    r = c.post("/v1/purchases", purchase("o-bad7", "-1.00"), "k-bad7")
    check(r.status == 400 and r.code() == "bad_amount", "negative: %r" % r)
    r = c.post("/v1/purchases", purchase("o-bad8", "1.00", extra="x"), "k-bad8")
    check(r.status == 400 and r.code() == "bad_request", "unknown field: %r" % r)
    r = c.post("/v1/purchases", purchase("o-bad9", "1.00", customer="C1!"), "k-bad9")
    check(r.status == 400, "bad customer id: %r" % r)
    r = c.post("/v1/nothing", {}, "k-bad10")
    check(r.status == 404, "unknown path: %r" % r)
    r = c.get("/v1/purchases")
    check(r.status == 405, "GET of a POST endpoint: %r" % r)


def test_refusals_by_rules():
    c = S["c1"]
    r = c.post("/v1/purchases", purchase("o-nsf", "450.00", customer="c3"), "k-nsf1")
    check(r.status == 201, "first: %r" % r)
    r = c.post("/v1/purchases", purchase("o-nsf2", "450.00", customer="c3"), "k-nsf2")
    check(r.status == 201, "second: %r" % r)
    r = c.post("/v1/purchases", purchase("o-nsf3", "450.00", customer="c3"), "k-nsf3")
    check(r.status == 422 and r.code() == "insufficient_funds", "overdraft: %r" % r)
    r = c.post("/v1/purchases", purchase("o-risk1", "500.01"), "k-risk1")
    check(r.status == 422 and r.code() == "risk_limit", "tier limit: %r" % r)
    r = c.post("/v1/purchases", purchase("o-odd1", "500.51", customer="o1"), "k-odd1")
    check(r.status == 422 and r.code() == "risk_limit",
          "a limit of 500.505 refuses 500.51 CNY: %r" % r)
    r = c.post("/v1/purchases", purchase("o-odd2", "600.00", customer="o1"), "k-odd2")
    check(r.status == 422 and r.code() == "risk_limit",
          "a limit of 500.505 refuses 600.00 CNY: %r" % r)
    r = c.post("/v1/purchases", purchase("o-odd3", "500.50", customer="o1"), "k-odd3")
    check(r.status == 201, "a limit of 500.505 allows 500.50 CNY: %r" % r)
    r = c.post("/v1/purchases", purchase("o-risk2", "51.00", customer="c4"), "k-risk2")
    check(r.status == 422 and r.code() == "risk_limit", "low tier limit: %r" % r)
    for i in range(2):
        r = c.post("/v1/purchases", purchase("o-vel%d" % i, "1.00", customer="c4"),
                   "k-vel%d" % i)
        check(r.status == 201, "velocity %d: %r" % (i, r))
    r = c.post("/v1/purchases", purchase("o-vel2", "1.00", customer="c4"), "k-vel2")
    check(r.status == 422 and r.code() == "risk_velocity", "velocity: %r" % r)
    r = c.post("/v1/purchases", purchase("o-blk", "1.00", customer="blocked1"), "k-blk")
    check(r.status == 422 and r.code() == "customer_blocked", "blocked: %r" % r)
    cb_ = Client(S["srv"].port, *S["kb"])
    r = cb_.post("/v1/purchases", purchase("o-mblk", "1.00", merchant="mblocked"),
                 "k-mblk")
    check(r.status == 422 and r.code() == "merchant_blocked", "blocked merchant: %r" % r)
    r = c.post("/v1/purchases", purchase("o-day1", "6.00", customer="d1"), "k-day1")
    check(r.status == 201, "within the daily limit: %r" % r)
    r = c.post("/v1/purchases", purchase("o-day2", "4.01", customer="d1"), "k-day2")
    check(r.status == 422 and r.code() == "risk_limit", "daily limit: %r" % r)
    r = c.post("/v1/purchases", purchase("o-day3", "4.00", customer="d1"), "k-day3")
    check(r.status == 201, "up to the daily limit: %r" % r)
    r = c.post("/v1/purchases", purchase("o-closed", "1.00", customer="closed1"),
               "k-closed")
    check(r.status == 422 and r.code() == "account_closed", "closed wallet: %r" % r)
    r = c.post("/v1/purchases", purchase("o-nowallet", "1.00", customer="c9"),
               "k-nowallet")
    check(r.status == 422 and r.code() == "insufficient_funds",
          "a wallet opened by the template, empty: %r" % r)
    con = sqlite3.connect(DB, timeout=60)
    rows = list(con.execute(
        "SELECT merchant, customer, order_id, asset, amount, reason, at"
        " FROM front_risk_refusals ORDER BY id"))
    con.close()
    got = [r_[:6] for r_ in rows]
    check(got == [("m1", "c1", "o-risk1", "CNY", "500.01", "risk_limit"),
                  ("m1", "o1", "o-odd1", "CNY", "500.51", "risk_limit"),
                  ("m1", "o1", "o-odd2", "CNY", "600.00", "risk_limit"),
                  ("m1", "c4", "o-risk2", "CNY", "51.00", "risk_limit"),
                  ("m1", "c4", "o-vel2", "CNY", "1.00", "risk_velocity"),
                  ("m1", "blocked1", "o-blk", "CNY", "1.00", "customer_blocked"),
                  ("mblocked", "c1", "o-mblk", "CNY", "1.00", "merchant_blocked"),
                  ("m1", "d1", "o-day2", "CNY", "4.01", "risk_limit")],
          "risk refusals recorded: %r" % got)
    con = sqlite3.connect(DB, timeout=60)
    detail = dict(con.execute("SELECT order_id, detail FROM front_risk_refusals"))
    con.close()
    check("per-purchase limit" in detail["o-risk1"] and
          "daily limit" in detail["o-day2"] and "last minute" in detail["o-vel2"],
          "a refusal records why, beside its code: %r" % detail)
    check(all(len(r_[6]) == 20 and r_[6].endswith("Z") for r_ in rows),
          "refusal times: %r" % [r_[6] for r_ in rows])
    con = sqlite3.connect(DB, timeout=60)
    for sql in ("UPDATE front_risk_refusals SET reason = 'x'",
                "DELETE FROM front_risk_refusals"):
        try:
            con.execute(sql)
            con.commit()
            raise AssertionError("%s was allowed" % sql)
        except sqlite3.DatabaseError as e:
            check("append-only" in str(e), "%s: %s" % (sql, e))
    con.close()
    # refusals by the ledger (funds, closed) are answers, not risk refusals;
    # nothing refused became a purchase
    con = sqlite3.connect(DB, timeout=60)
    refused = [r_[0] for r_ in con.execute("SELECT order_id FROM front_purchases"
                                          " WHERE order_id IN ('o-risk1','o-day2',"
                                          "'o-closed','o-nsf3','o-blk')")]
    con.close()
    check(not refused, "refused purchases recorded: %r" % refused)


def test_hold_partial_capture_and_refunds():
    c = S["c1"]
    r = c.post("/v1/purchases", purchase("o-hold", "100.00", customer="c5",
                                         capture=False), "k-hold")
    check(r.status == 201 and r.json["purchase"]["status"] == "held", "hold: %r" % r)
    check(wallet(r, "liabilities:wallets:c5") == ("1000.00", "900.00"),
          "hold balances: %r" % r)
    pid = r.json["purchase"]["id"]
    r = c.post("/v1/refunds", {"purchase_id": pid}, "k-hold-rf0")
    check(r.status == 422 and r.code() == "not_captured", "refund of a hold: %r" % r)
    r = c.post("/v1/purchases/%s/capture" % pid, {"amount": "100.01"}, "k-hold-c0")
    check(r.status == 422 and r.code() == "exceeds_hold", "over-capture: %r" % r)
    r = c.post("/v1/purchases/%s/capture" % pid, {"amount": "60.00"}, "k-hold-c1")
    check(r.status == 200 and r.json["purchase"]["status"] == "captured" and
          r.json["purchase"]["captured"] == "60.00" and
          r.json["purchase"]["fee"] == "0.90", "partial capture: %r" % r)
    check(wallet(r, "liabilities:wallets:c5") == ("940.00", "940.00"),
          "capture balances: %r" % r)
    r2 = c.post("/v1/purchases/%s/capture" % pid, {"amount": "60.00"}, "k-hold-c1")
    check(r2.raw == r.raw, "capture replay differs: %r" % r2)
    r = c.post("/v1/purchases/%s/capture" % pid, {"amount": "10.00"}, "k-hold-c2")
    check(r.status == 422 and r.code() == "not_held", "second capture: %r" % r)
    r = c.post("/v1/refunds", {"purchase_id": pid, "amount": "25.00"}, "k-hold-rf1")
    check(r.status == 201 and r.json["purchase"]["refunded"] == "25.00", "refund: %r" % r)
    check(wallet(r, "liabilities:wallets:c5") == ("965.00", "965.00"),
          "refund balances: %r" % r)
    r = c.post("/v1/refunds", {"purchase_id": pid, "amount": "35.01"}, "k-hold-rf2")
    check(r.status == 422 and r.code() == "refund_exceeds_capture",
          "refund beyond capture: %r" % r)
    r = c.post("/v1/refunds", {"purchase_id": pid}, "k-hold-rf3")
    check(r.status == 201 and r.json["refund"]["amount"] == "35.00",
          "refund of the rest: %r" % r)
    r = c.post("/v1/refunds", {"purchase_id": pid, "amount": "0.01"}, "k-hold-rf4")
    check(r.status == 422, "refund after the whole capture: %r" % r)


def test_parallel_capture_retries_have_one_effect():
    c = S["c1"]
    r = c.post("/v1/purchases", purchase("o-pcap", "10.00", customer="c3",
                                         capture=False), "k-pcap")
    pid = r.json["purchase"]["id"]
    r = c.post("/v1/purchases", purchase("o-pcap2", "10.00", customer="c3",
                                         capture=False), "k-pcap2")
    pid2 = r.json["purchase"]["id"]
    results = []
    lock = threading.Lock()

    def worker(path, body, idem):
        cl = Client(S["srv"].port, *S["k1"])
        resp = cl.post(path, body, idem)
        cl.close()
        with lock:
            results.append((idem, resp))
    threads = [threading.Thread(target=worker, args=(
        "/v1/purchases/%s/capture" % pid, {"amount": "4.00"}, "k-pcap-c"))
        for _ in range(12)]
    # other keys racing for the second hold: one capture or void wins
    threads += [threading.Thread(target=worker, args=(
        "/v1/purchases/%s/%s" % (pid2, "capture" if i % 2 else "void"), None,
        "k-pcap2-%d" % i)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    same = [r_ for k, r_ in results if k == "k-pcap-c"]
    check(len(same) == 12 and all(r_.status == 200 for r_ in same) and
          len(set(r_.raw for r_ in same)) == 1, "parallel capture retries: %r" % same)
    others = [r_ for k, r_ in results if k != "k-pcap-c"]
    won = [r_ for r_ in others if r_.status == 200]
    check(len(won) == 1 and all(r_.status == 422 and r_.code() == "not_held"
                                for r_ in others if r_.status != 200),
          "racing ends of one hold: %r" % others)
    con = sqlite3.connect(DB, timeout=60)
    ends = con.execute("SELECT count(*) FROM transactions WHERE id IN (?,?,?,?)",
                       (pid + ":commit", pid + ":void", pid2 + ":commit",
                        pid2 + ":void")).fetchone()[0]
    con.close()
    check(ends == 2, "%d hold ends in the journal for two holds" % ends)
    r = c.get("/v1/wallets/c3/balance")
    check(r.json["wallets"][0]["posted"] == r.json["wallets"][0]["available"],
          "a hold is left: %r" % r)


def test_void():
    c = S["c1"]
    r = c.post("/v1/purchases", purchase("o-void", "30.00", customer="c5",
                                         capture=False), "k-void")
    pid = r.json["purchase"]["id"]
    check(wallet(r, "liabilities:wallets:c5") == ("1000.00", "970.00"),
          "void hold: %r" % r)
    r = c.post("/v1/purchases/%s/void" % pid, None, "k-void-v")
    check(r.status == 200 and r.json["purchase"]["status"] == "voided" and
          wallet(r, "liabilities:wallets:c5") == ("1000.00", "1000.00"), "void: %r" % r)
    r = c.post("/v1/purchases/%s/capture" % pid, None, "k-void-c")
    check(r.status == 422 and r.code() == "not_held", "capture after void: %r" % r)


def test_hold_expiry():
    c = S["c1"]
    r = c.post("/v1/purchases", purchase("o-exp", "5.00", customer="c5",
                                         capture=False, hold_timeout_s=1), "k-exp")
    check(r.status == 201, "short hold: %r" % r)
    pid = r.json["purchase"]["id"]
    deadline = time.time() + 90
    status = None
    while time.time() < deadline:
        status = c.get("/v1/purchases/" + pid).json["purchase"]["status"]
        if status == "expired":
            break
        time.sleep(0.5)
    check(status == "expired", "the hold did not expire: %s" % status)
    r = c.post("/v1/purchases/%s/capture" % pid, None, "k-exp-c")
    check(r.status == 422 and r.code() == "hold_expired", "capture after expiry: %r" % r)
    r = c.get("/v1/wallets/c5/balance")
    check(r.json["wallets"][0]["available"] == "1000.00", "expiry released: %r" % r)


def test_points_and_fx():
    c = S["c1"]
    r = c.post("/v1/purchases", purchase("o-pts", "20.00", points={
        "asset": "PTS", "amount": "500"}), "k-pts")
    check(r.status == 201, "points purchase: %r" % r)
    # 500 points at 0.01 pay 5.00; the wallet pays 15.00
    check(wallet(r, "liabilities:wallets:c1:pts") == ("500", "500"),
          "points wallet: %r" % r)
    check(wallet(r)[0] == "970.66", "cash part: %r" % r)
    pts_id = r.json["purchase"]["id"]
    r = c.post("/v1/purchases", purchase("o-pts2", "1.00", points={
        "asset": "PTS", "amount": "200"}), "k-pts2")
    check(r.status == 422 and r.code() == "points_exceed_amount", "too many points: %r" % r)
    q = c.post("/v1/fx/quotes", {"from": "USD", "to": "CNY"}, "k-q1")
    check(q.status == 201 and q.json["quote"]["rate"] == "7.10", "quote: %r" % q)
    qid = q.json["quote"]["id"]
    r = S["c2"].post("/v1/purchases", purchase("o-fx-other", "7.10", merchant="m2",
                                               fx_quote_id=qid), "k-fx0")
    check(r.status == 403, "another merchant's quote: %r" % r)
    r = c.post("/v1/purchases", purchase("o-fx", "71.00", fx_quote_id=qid), "k-fx1")
    check(r.status == 201 and r.json["purchase"]["pay_asset"] == "USD", "fx: %r" % r)
    check(wallet(r, "liabilities:wallets:c1:usd") == ("90.00", "90.00"),
          "fx wallet: %r" % r)
    fx_id = r.json["purchase"]["id"]
    r = c.post("/v1/fx/quotes", {"from": "EUR", "to": "CNY"}, "k-q2")
    check(r.status == 422 and r.code() == "no_rate", "no rate: %r" % r)
    # refunds give back each asset's share, as the purchase came in
    r = c.post("/v1/refunds", {"purchase_id": fx_id, "amount": "35.50"}, "k-fxr1")
    check(r.status == 201 and wallet(r, "liabilities:wallets:c1:usd") ==
          ("95.00", "95.00"), "half an FX refund: %r" % r)
    r = c.post("/v1/refunds", {"purchase_id": fx_id}, "k-fxr2")
    check(r.status == 201 and wallet(r, "liabilities:wallets:c1:usd") ==
          ("100.00", "100.00"), "the rest of an FX refund: %r" % r)
    r = c.post("/v1/refunds", {"purchase_id": pts_id, "amount": "10.00"}, "k-ptr1")
    # half of 20.00: 250 points (worth 2.50) and 7.50 in cash
    check(r.status == 201 and wallet(r, "liabilities:wallets:c1:pts") ==
          ("750", "750") and wallet(r)[0] == "978.16", "half a points refund: %r" % r)
    r = c.post("/v1/refunds", {"purchase_id": pts_id, "amount": "10.01"}, "k-ptr2")
    check(r.status == 422 and r.code() == "refund_exceeds_capture", "too much: %r" % r)


def test_revoke_ends_a_key_at_once():
    kid, secret = apikey_add(DB, "m2")
    c = Client(S["srv"].port, kid, secret)
    r = c.post("/v1/purchases", purchase("o-m2", "1.00", customer="c2",
                                         merchant="m2"), "k-m2")
    check(r.status == 201, "m2's purchase: %r" % r)
    r = c.get("/v1/wallets/c2/balance")
    check(r.status == 200, "new key, its own customer's wallet: %r" % r)
    _, out, _ = cb(DB, "apikey", "revoke", kid)
    r = c.get("/v1/wallets/c1/balance")
    check(r.status == 401 and r.code() == "unknown_key", "revoked key: %r" % r)
    rc, _, _ = cb(DB, "apikey", "revoke", kid, ok=False)
    check(rc == 66, "revoking twice: exit %d" % rc)


def test_stop_and_verify():
    rc = S["srv"].stop()
    check(rc == 0, "serve exited %d" % rc)
    _, out, _ = cb(DB, "verify")
    check(out.startswith("ok: "), "verify: %s" % out)
    # every wallet move the front made matches its purchases and refunds
    con = sqlite3.connect(DB, timeout=60)
    n = con.execute("SELECT count(*) FROM front_purchases").fetchone()[0]
    con.close()
    check(n > 10, "purchases recorded: %d" % n)


def test_full_queue_sheds_load():
    cfg = os.path.join(D, "small.ini")
    with open(cfg, "w") as f:
        f.write("[server]\nqueue_max = 1\n")
    srv = Server(DB, cfg, name="small")
    statuses = []
    lock = threading.Lock()

    def worker(round_, i):
        c = Client(srv.port, *S["k2"])
        r = c.post("/v1/purchases", purchase("o-shed-%d-%d" % (round_, i), "0.01",
                                             customer="c2", merchant="m2"),
                   "k-shed-%d-%d" % (round_, i))
        c.close()
        with lock:
            statuses.append((r.status, r.code(), r.headers.get("Retry-After")))
    try:
        for round_ in range(40):
            threads = [threading.Thread(target=worker, args=(round_, i))
                       for i in range(32)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if any(s[0] == 503 for s in statuses):
                break
        shed = [s for s in statuses if s[0] == 503]
        check(shed, "a queue of one never shed load in %d requests" % len(statuses))
        check(all(s[1] == "overloaded" and s[2] for s in shed), "503s: %r" % shed[:3])
        check(all(s[0] in (201, 503) for s in statuses), "answers: %r" % statuses)
    finally:
        check(srv.stop() == 0, "small-queue server exit status")
    _, out, _ = cb(DB, "verify")
    check(out.startswith("ok: "), "verify after shedding: %s" % out)


def test_rate_limit():
    cfg = os.path.join(D, "tight.ini")
    with open(cfg, "w") as f:
        f.write("[rate_limit]\nkey_per_s = 1\nkey_burst = 3\n")
    srv = Server(DB, cfg, name="tight")
    try:
        c = Client(srv.port, *S["k1"])
        got = [c.get("/v1/wallets/c1/balance") for _ in range(6)]
        limited = [r for r in got if r.status == 429]
        check(limited and limited[0].code() == "rate_limited",
              "no 429 in %r" % got)
        ra = limited[0].headers.get("Retry-After")
        check(ra is not None and ra.isdigit() and int(ra) >= 1,
              "Retry-After: %r" % limited[0].headers)
        # another key has its own bucket
        r = Client(srv.port, *S["k2"]).get("/v1/wallets/c2/balance")
        check(r.status == 200, "another key: %r" % r)
    finally:
        check(srv.stop() == 0, "tight server exit status")


def test_quote_errors_and_expiry():
    cfg = os.path.join(D, "shortfx.ini")
    with open(cfg, "w") as f:
        f.write("[server]\nfx_rates_file = rates.csv\nfx_quote_ttl_s = 1\n")
    srv = Server(DB, cfg, name="shortfx")
    try:
        c = Client(srv.port, *S["k1"])
        r = c.post("/v1/purchases", purchase("o-q0", "7.10",
                                             fx_quote_id="fx_000000000000000000"),
                   "k-qs-unknown")
        check(r.status == 404 and r.code() == "no_such_quote", "unknown quote: %r" % r)
        q = c.post("/v1/fx/quotes", {"from": "USD", "to": "CNY"}, "k-qs1")
        check(q.status == 201, "quote: %r" % q)
        qid = q.json["quote"]["id"]
        body = purchase("o-q1", "1.00", fx_quote_id=qid)
        body["asset"] = "USD"
        r = c.post("/v1/purchases", body, "k-qs-mismatch")
        check(r.status == 400 and r.code() == "quote_mismatch", "USD into USD: %r" % r)
        time.sleep(2.2)
        r = c.post("/v1/purchases", purchase("o-q2", "7.10", fx_quote_id=qid), "k-qs-late")
        check(r.status == 422 and r.code() == "quote_expired", "expired quote: %r" % r)
    finally:
        check(srv.stop() == 0, "short-quote server exit status")


def test_rate_limit_per_address():
    cfg = os.path.join(D, "addr.ini")
    with open(cfg, "w") as f:
        f.write("[rate_limit]\naddr_per_s = 1\naddr_burst = 3\n")
    srv = Server(DB, cfg, name="addr")
    try:
        clients = [Client(srv.port, *S["k1"]), Client(srv.port, *S["k2"])]
        got = [clients[i % 2].get("/v1/purchases/" + S["p1"]) for i in range(8)]
        check([r.status for r in got[:3]] == [200, 403, 200],
              "within the address's burst: %r" % got[:3])
        limited = [r for r in got if r.status == 429]
        check(len(limited) >= 4 and all(r.code() == "rate_limited" and
                                        r.headers.get("Retry-After") for r in limited),
              "two keys from one address share its bucket: %r" % got)
    finally:
        check(srv.stop() == 0, "address-limited server exit status")


def test_connections_per_address_are_capped():
    import socket
    cfg = os.path.join(D, "conns.ini")
    with open(cfg, "w") as f:
        f.write("[server]\nconnections_per_addr_max = 2\n")
    srv = Server(DB, cfg, name="conns")
    held = []
    try:
        for _ in range(2):
            held.append(socket.create_connection(("127.0.0.1", srv.port), timeout=30))
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        try:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            data = extra.recv(4096)
        except OSError:
            data = b""
        extra.close()
        check(data == b"", "a third connection from one address was served: %r" % data)
        for h in held:
            h.close()
        held = []
        time.sleep(0.3)
        r = Client(srv.port).get("/healthz", auth=False)
        check(r.status == 200, "after the others closed: %r" % r)
    finally:
        for h in held:
            h.close()
        check(srv.stop() == 0, "connection-capped server exit status")


run([test_start, test_secret_is_stored_only_encrypted, test_healthz_and_metrics,
     test_purchase_posts_and_returns_balances, test_fees_round_half_even,
     test_default_fee_whatever_the_section_order,
     test_get_purchase_and_balance,
     test_signature_failures, test_other_merchants_purchase_is_forbidden,
     test_idempotent_replay_and_conflict, test_parallel_retries_have_one_effect,
     test_bad_bodies, test_refusals_by_rules, test_hold_partial_capture_and_refunds,
     test_parallel_capture_retries_have_one_effect,
     test_void, test_hold_expiry, test_points_and_fx, test_revoke_ends_a_key_at_once,
     test_stop_and_verify, test_full_queue_sheds_load, test_rate_limit,
     test_rate_limit_per_address, test_quote_errors_and_expiry,
     test_connections_per_address_are_capped])
