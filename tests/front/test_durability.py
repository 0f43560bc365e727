"""test_durability.py SCRATCH_DIR - what the front acknowledged survives:
SIGTERM drains (stops accepting, commits and answers what it accepted,
exits 0); SIGKILL under load loses no acknowledged purchase; the ledger
verifies and the wallets agree with the purchases afterwards."""
import http.client
import os
import signal
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frontclient import (Client, Server, apikey_add, cb, check, journal_ids,
                         run, setup_ledger)

D = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
DB = os.path.join(D, "front.db")
THREADS = 16
CUSTOMERS = ("c1", "c2", "c3", "c4", "c5")
S = {}


class Load:
    """THREADS clients posting 0.01 purchases until told to stop or the
    server goes away; keeps every acknowledged purchase id."""

    def __init__(self, port, key, tag):
        self.port, self.key, self.tag = port, key, tag
        self.acked = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.other = []
        self.threads = [threading.Thread(target=self.worker, args=(i,))
                        for i in range(THREADS)]
        for t in self.threads:
            t.start()

    def worker(self, i):
        c = Client(self.port, *self.key)
        n = 0
        while not self.stop.is_set():
            order = "%s-%d-%d" % (self.tag, i, n)
            n += 1
            body = {"order_id": order, "customer": CUSTOMERS[n % 5],
                    "merchant": "m1", "amount": "0.01", "asset": "CNY"}
            try:
                r = c.post("/v1/purchases", body, "idem-" + order)
            except (OSError, http.client.HTTPException):
                return  # the server went away
            with self.lock:
                if r.status == 201:
                    self.acked[r.json["purchase"]["id"]] = body["customer"]
                else:
                    self.other.append(r.status)
            if r.status == 503:
                return

    def count(self):
        with self.lock:
            return len(self.acked)

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=180)
            check(not t.is_alive(), "a client thread hangs")


def wait_for(load, n, timeout_s=120):
    deadline = time.time() + timeout_s
    while load.count() < n and time.time() < deadline:
        time.sleep(0.05)
    check(load.count() >= n, "only %d purchases acknowledged" % load.count())


def check_books():
    _, out, _ = cb(DB, "verify")
    check(out.startswith("ok: "), "verify: %s" % out)
    con = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=60)
    spent = {c: 0 for c in CUSTOMERS}
    for cust, amount in con.execute("SELECT customer, amount_minor FROM "
                                    "front_purchases WHERE status = 'completed'"):
        spent[cust] += int(amount)
    con.close()
    _, out, _ = cb(DB, "balance", "liabilities:wallets", "--format", "csv")
    posted = {}
    for line in out.splitlines()[1:]:
        f = line.split(",")
        if f[0].startswith("liabilities:wallets:c") and f[1] == "CNY":
            posted[f[0].rsplit(":", 1)[1]] = f[2]
    for c in CUSTOMERS:
        want = 100000 - spent[c]
        check(posted[c] == "-%d.%02d" % (want // 100, want % 100),
              "wallet %s is %s; its purchases imply -%d minor" % (c, posted[c], want))


def test_start():
    setup_ledger(DB)
    S["key"] = apikey_add(DB, "m1")


def test_sigterm_drains_and_exits_0():
    srv = Server(DB, name="term")
    load = Load(srv.port, S["key"], "t")
    wait_for(load, 100)
    rc = srv.stop(signal.SIGTERM)
    load.join()
    check(rc == 0, "serve exited %d after SIGTERM:\n%s" % (rc, srv.text()))
    check("draining" in srv.text(), "no drain in the log:\n" + srv.text())
    ids = journal_ids(DB)
    lost = [p for p in load.acked if p not in ids]
    check(not lost, "acknowledged but not in the journal: %r" % lost[:5])
    check(all(s in (503,) for s in load.other),
          "answers other than 201 and 503: %r" % load.other[:10])
    check_books()
    print("     %d acknowledged before SIGTERM" % len(load.acked))


def test_sigkill_under_load_loses_nothing_acknowledged():
    srv = Server(DB, name="kill")
    load = Load(srv.port, S["key"], "k")
    wait_for(load, 200)
    srv.stop(signal.SIGKILL)
    load.join()
    ids = journal_ids(DB)
    lost = [p for p in load.acked if p not in ids]
    check(not lost, "acknowledged but lost by SIGKILL: %r" % lost[:5])
    con = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=60)
    rows = set(r[0] for r in con.execute("SELECT id FROM front_purchases"))
    con.close()
    check(all(p in rows for p in load.acked), "acknowledged but no purchase row")
    check_books()
    print("     %d acknowledged before SIGKILL" % len(load.acked))


def test_restart_after_kill_serves():
    srv = Server(DB, name="again")
    try:
        c = Client(srv.port, *S["key"])
        r = c.post("/v1/purchases", {"order_id": "after", "customer": "c1",
                                     "merchant": "m1", "amount": "0.01",
                                     "asset": "CNY"}, "idem-after")
        check(r.status == 201, "after restart: %r" % r)
        # a replay of a purchase acknowledged before the kill is a replay
        r = c.post("/v1/purchases", {"order_id": "k-0-0", "customer": "c1",
                                     "merchant": "m1", "amount": "0.01",
                                     "asset": "CNY"}, "idem-k-0-0")
        check(r.status in (201, 409), "replay after restart: %r" % r)
    finally:
        check(srv.stop() == 0, "exit status after restart")
    check_books()


def test_capture_interrupted_after_the_hold_is_finished_at_start():
    """A capture whose hold ended in the journal but whose bookkeeping (fee,
    status) did not commit: simulated by committing the hold with the CLI
    while the server is down."""
    cfg = os.path.join(D, "fee.ini")
    with open(cfg, "w") as f:
        f.write("[merchant m1]\nfee_bps = 150\n")
    srv = Server(DB, cfg, name="hold")
    c = Client(srv.port, *S["key"])
    r = c.post("/v1/purchases", {"order_id": "rec-1", "customer": "c3",
                                 "merchant": "m1", "amount": "10.00",
                                 "asset": "CNY", "capture": False}, "idem-rec-1")
    check(r.status == 201, "hold: %r" % r)
    pid = r.json["purchase"]["id"]
    check(srv.stop() == 0, "exit status")
    cb(DB, "commit", pid, "--amount", "4.00")
    srv = Server(DB, cfg, name="hold2")
    try:
        check("recovered purchase %s (commit)" % pid in srv.text(),
              "no recovery in the log:\n" + srv.text())
        r = Client(srv.port, *S["key"]).get("/v1/purchases/" + pid)
        check(r.status == 200 and r.json["purchase"]["status"] == "captured" and
              r.json["purchase"]["captured"] == "4.00" and
              r.json["purchase"]["fee"] == "0.06", "after recovery: %r" % r)
    finally:
        check(srv.stop() == 0, "exit status after recovery")
    ids = journal_ids(DB)
    check(pid + ":commit" in ids and pid + ":fee" in ids,
          "the hold's commit or fee is not in the journal")
    _, out, _ = cb(DB, "verify")
    check(out.startswith("ok: "), "verify after recovery: %s" % out)


run([test_start, test_sigterm_drains_and_exits_0,
     test_sigkill_under_load_loses_nothing_acknowledged,
     test_restart_after_kill_serves,
     test_capture_interrupted_after_the_hold_is_finished_at_start])
