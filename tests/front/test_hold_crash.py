"""test_hold_crash.py SCRATCH_DIR - captures, voids and refunds survive
SIGKILL with their idempotency records.

A stream of captures (in full and in part) and voids of holds, and partial
refunds of completed purchases, each under
its own Idempotency-Key, is sent by 16 clients while the server is killed
with SIGKILL again and again; after each kill the server restarts and every
request is sent again, answered or not.  Then:

- every request has one answer: whatever 2xx/4xx answers it got, before or
  after a kill, are byte for byte the same, and the last round (no kill)
  answers each with 200 and the status the request asked for;
- every acknowledged capture is in the journal once, with the amount asked
  for, and its fee once; a void left no commit and a capture no void;
  every refund is there once;
- verify passes, no hold is left open and each wallet equals its top-up
  less what was captured from it.

Before captures and voids joined the group transaction, a kill between
the hold's end and the bookkeeping lost the idempotency record: the retry
then got 422 not_held instead of the first answer.
"""
import http.client
import os
import random
import signal
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frontclient import (Client, Server, apikey_add, cb, check, journal_ids,
                         run, setup_ledger)

D = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
DB = os.path.join(D, "holds.db")
CFG = os.path.join(D, "fee.ini")
THREADS = 16
HOLDS = 240
KILLS = 8
CUSTOMERS = ("c1", "c2", "c3", "c4", "c5")
HOLD_MINOR = 100  # each hold is 1.00 CNY
S = {}


REFUND_MINOR = 30


def plan_for(i):
    """The request for purchase i: (kind, body, minor it takes from the
    wallet in the end).  Purchases i % 4 == 3 are completed and refunded in
    part; the others are holds."""
    k = i % 4
    if k == 0:
        return "capture", None, HOLD_MINOR
    if k == 1:
        part = 1 + (i * 7) % 99
        return "capture", {"amount": "0.%02d" % part}, part
    if k == 2:
        return "void", None, 0
    return "refund", {"amount": "0.%02d" % REFUND_MINOR}, HOLD_MINOR - REFUND_MINOR


def request_of(i):
    kind, body, _ = plan_for(i)
    pid = S["holds"][i]
    if kind == "refund":
        return "/v1/refunds", dict(body, purchase_id=pid)
    return "/v1/purchases/%s/%s" % (pid, kind), body


def test_start():
    setup_ledger(DB)
    with open(CFG, "w") as f:
        f.write("[merchant m1]\nfee_bps = 150\n")
    S["key"] = apikey_add(DB, "m1")
    srv = Server(DB, CFG, name="setup")
    holds = [None] * HOLDS

    def worker(t):
        c = Client(srv.port, *S["key"])
        for i in range(t, HOLDS, THREADS):
            r = c.post("/v1/purchases", {
                "order_id": "h-%d" % i, "customer": CUSTOMERS[i % 5],
                "merchant": "m1", "amount": "1.00", "asset": "CNY",
                "capture": plan_for(i)[0] == "refund"}, "hold-%d" % i)
            check(r.status == 201, "hold %d: %r" % (i, r))
            holds[i] = r.json["purchase"]["id"]
        c.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(srv.stop() == 0, "exit status after the holds")
    check(all(holds), "a hold was not placed")
    S["holds"] = holds
    S["answers"] = {i: [] for i in range(HOLDS)}


def one_round(rnd, kill_after):
    """Sends every request once (in a shuffled order, 16 clients); with
    kill_after, SIGKILLs the server once that many new answers came."""
    srv = Server(DB, CFG, name="round%d" % rnd)
    order = list(range(HOLDS))
    random.Random(rnd).shuffle(order)
    lock = threading.Lock()
    got = [0]

    def worker(t):
        c = Client(srv.port, *S["key"])
        for i in order[t::THREADS]:
            path, body = request_of(i)
            try:
                r = c.post(path, body, "end-%d" % i)
            except (OSError, http.client.HTTPException):
                return  # killed
            with lock:
                S["answers"][i].append((rnd, r.status, r.raw))
                got[0] += 1

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    if kill_after is not None:
        deadline = time.time() + 120
        while got[0] < kill_after and time.time() < deadline:
            time.sleep(0.001)
        srv.stop(signal.SIGKILL)
    for t in threads:
        t.join(timeout=180)
        check(not t.is_alive(), "a client thread hangs")
    if kill_after is None:
        check(srv.stop() == 0, "exit status of the last round")
    return got[0]


def test_kills_during_captures_voids_and_refunds():
    rng = random.Random(7)
    interrupted = 0
    for rnd in range(KILLS):
        n = one_round(rnd, rng.randint(3, HOLDS // KILLS))
        interrupted += n < HOLDS
        _, out, _ = cb(DB, "verify")
        check(out.startswith("ok: "), "verify after kill %d: %s" % (rnd, out))
    check(interrupted >= KILLS // 2, "only %d of %d kills interrupted a round"
          % (interrupted, KILLS))
    one_round(KILLS, None)


def test_every_request_has_one_answer():
    for i in range(HOLDS):
        path, _, minor = plan_for(i)
        answers = [a for a in S["answers"][i] if a[1] < 500]
        check(answers and answers[-1][0] == KILLS,
              "request %d: no answer in the last round: %r" % (i, S["answers"][i]))
        first = answers[0]
        for a in answers[1:]:
            check(a[1:] == first[1:], "request %d answered differently:\n"
                  "round %d: %d %s\nround %d: %d %s" % (
                      i, first[0], first[1], first[2][:300], a[0], a[1],
                      a[2][:300]))
        check(first[1] == (201 if path == "refund" else 200),
              "request %d: %d %s" % (i, first[1], first[2][:300]))
        want = {"capture": "captured", "void": "voided", "refund": "completed"}[path]
        check('"status":"%s"' % want in first[2], "request %d: %s" % (i, first[2]))
        if path == "refund":
            check('"refunded":"0.%02d"' % REFUND_MINOR in first[2],
                  "request %d refunded other than asked: %s" % (i, first[2]))
        if path == "capture":
            check('"captured":"%d.%02d"' % (minor // 100, minor % 100) in first[2],
                  "request %d captured other than %d: %s" % (i, minor, first[2]))


def test_the_journal_holds_each_end_once():
    ids = journal_ids(DB)
    con = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=60)
    try:
        for i, pid in enumerate(S["holds"]):
            path, _, minor = plan_for(i)
            if path == "refund":
                n = con.execute("SELECT count(*) FROM front_refunds WHERE"
                                " purchase_id = ?", (pid,)).fetchone()[0]
                rows = con.execute("SELECT count(*) FROM transactions WHERE"
                                   " json_extract(meta, '$.purchase') = ? AND"
                                   " json_extract(meta, '$.front') = 'refund'",
                                   (pid,)).fetchone()[0]
                check(n == 1 and rows == 1, "purchase %s: %d refund rows, %d refund "
                      "transactions" % (pid, n, rows))
                row = con.execute("SELECT status, refunded_minor FROM front_purchases"
                                  " WHERE id = ?", (pid,)).fetchone()
                check(row == ("completed", str(REFUND_MINOR)), "purchase %s: %r"
                      % (pid, row))
                continue
            ends = con.execute(
                "SELECT e.id, e.kind FROM transactions e JOIN transactions h"
                " ON e.ref_seq = h.seq WHERE h.id = ?", (pid,)).fetchall()
            kind = "commit" if path == "capture" else "void"
            check(ends == [(pid + ":" + kind, kind)],
                  "hold %s ended by %r, not one %s" % (pid, ends, kind))
            fee_ids = con.execute("SELECT count(*) FROM transactions WHERE id = ?",
                                  (pid + ":fee",)).fetchone()[0]
            fee = (minor * 150 + 5000) // 10000  # half-even is exact here
            check(fee_ids == (1 if fee else 0),
                  "hold %s has %d fee transactions" % (pid, fee_ids))
            row = con.execute("SELECT status, captured_minor FROM front_purchases"
                              " WHERE id = ?", (pid,)).fetchone()
            check(row == ("captured" if minor else "voided", str(minor)),
                  "purchase %s: %r" % (pid, row))
        captured = {c: 0 for c in CUSTOMERS}
        for i in range(HOLDS):
            captured[CUSTOMERS[i % 5]] += plan_for(i)[2]
    finally:
        con.close()
    _, out, _ = cb(DB, "verify")
    check(out.startswith("ok: "), "verify: %s" % out)
    _, out, _ = cb(DB, "balance", "liabilities:wallets", "--format", "csv")
    lines = out.splitlines()
    head = lines[0].split(",")
    seen = set()
    for line in lines[1:]:
        f = dict(zip(head, line.split(",")))
        acct = f.get("account", "")
        if (not acct.startswith("liabilities:wallets:c") or acct.count(":") != 2
                or f.get("asset") != "CNY" or f.get("rollup")):
            continue
        seen.add(acct)
        c = acct.rsplit(":", 1)[1]
        want = 100000 - captured[c]
        text = "-%d.%02d" % (want // 100, want % 100)
        check(f.get("posted") == text, "wallet %s: %r, want posted %s" % (c, f, text))
        if "available" in f:
            check(f["available"] == text, "wallet %s has a hold left: %r" % (c, f))
    check(len(seen) == len(CUSTOMERS), "wallets seen: %r" % seen)
    check(sum(1 for i in ids if i.endswith(":commit")) ==
          sum(1 for i in range(HOLDS) if plan_for(i)[0] == "capture"),
          "commits in the journal other than the captures asked for")


run([test_start, test_kills_during_captures_voids_and_refunds,
     test_every_request_has_one_answer, test_the_journal_holds_each_end_once])
