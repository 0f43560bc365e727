"""test_two_writers.py SCRATCH_DIR - the front server and the batch jobs
writing the same database at once (issue 8, faults).

- A writer that keeps the database locked beyond the bound: `clearbook
  post` waits, then exits 75 with a clear message and writes nothing; the
  front answers 503 `retry` (with Retry-After) and commits nothing, and
  the same request under the same Idempotency-Key succeeds once the lock
  is gone.
- The front under load from 8 clients while `clearbook post` posts 3,000
  transactions in three files and `clearbook nightly` runs the night of a
  generated 3,000-transaction sample world on the same database: then
  verify passes; every purchase answered 201 is in the journal and every
  purchase row was answered 201 (nothing committed unanswered, nothing
  answered uncommitted); every CLI posting is there (a run that exited 75
  is run again); the night finds the same breaks and matches as the same
  night run alone; the wallets, the merchant's payable and the CLI's
  accounts add up.
"""
import http.client
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frontclient import (CLEARBOOK, Client, Server, apikey_add, check, env,
                         journal_ids, run, TestFailure)

D = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
ROOT = os.environ.get("ROOT", os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))
NIGHT_NOW = "2026-11-25T02:00:00Z"
FRONT_CUSTOMERS = ["f%d" % i for i in range(1, 9)]
TOPUP_MINOR = 1000000  # 10,000.00 CNY each
POST_FILES, POST_PER_FILE = 3, 1000
THREADS = 8
S = {}


def clearbook(db, *args, now=NIGHT_NOW, ok=True):
    e = env()
    if now:
        e["CLEARBOOK_NOW"] = now
    p = subprocess.run([CLEARBOOK, "--db", db] + list(args), env=e,
                       capture_output=True, text=True)
    check("runtime error:" not in p.stderr and "Sanitizer" not in p.stderr and
          "internal error" not in p.stderr,
          "clearbook %s: sanitizer report:\n%s" % (" ".join(args), p.stderr))
    if ok and p.returncode != 0:
        raise TestFailure("clearbook %s: exit %d\n%s%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


def line(id_, debit, credit, minor):
    amt = "%d.%02d" % (minor // 100, minor % 100)
    return ('{"id":"%s","date":"2026-11-24","postings":[{"account":"%s",'
            '"amount":"%s"},{"account":"%s","amount":"-%s"}]}' % (
                id_, debit, amt, credit, amt))


def night(dirname, db):
    """The night of 2026-11-25 on db with dirname's copy of the inbox;
    exit status, stderr."""
    inbox = os.path.join(dirname, "inbox", "2026-11-25")
    if not os.path.isdir(inbox):
        shutil.copytree(os.path.join(S["world"], "inbox", "2026-11-25"), inbox)
    rc, _, err = clearbook(db, "nightly", "--date", "2026-11-25", "--inbox", inbox,
                           "--outbox", os.path.join(dirname, "outbox"), "--config",
                           os.path.join(ROOT, "samples", "nightly.ini"), ok=False)
    return rc, err


def balances(db):
    _, out, _ = clearbook(db, "balance", "--format", "csv")
    rows = {}
    lines = out.splitlines()
    head = lines[0].split(",")
    for l in lines[1:]:
        f = dict(zip(head, l.split(",")))
        if not f.get("rollup"):
            rows[(f["account"], f["asset"])] = f["posted"]
    return rows


def minor(text):
    neg = text.startswith("-")
    a, _, b = text.lstrip("-").partition(".")
    v = int(a) * 100 + int((b + "00")[:2])
    return -v if neg else v


def test_start():
    """A generated world of 3,000 transactions, loaded; one copy runs the
    night alone (the reference), the other gets the front's customers."""
    S["world"] = os.path.join(D, "world")
    subprocess.run([os.path.join(ROOT, "samples", "gen"), "--scale", "3000",
                    "--out", S["world"]], check=True, capture_output=True)
    base = os.path.join(D, "base")
    e = env()
    e["SAMPLES"] = S["world"]
    e["CLEARBOOK"] = CLEARBOOK
    p = subprocess.run(["sh", os.path.join(ROOT, "samples", "demo.sh"), base,
                        "--load-only"], env=e, capture_output=True, text=True)
    check(p.returncode == 0, "loading the world: %s" % p.stderr)
    ref, live = os.path.join(D, "ref"), os.path.join(D, "live")
    for d in (ref, live):
        os.makedirs(d)
        con = sqlite3.connect(os.path.join(base, "clearbook.db"))
        con.execute("VACUUM INTO ?", (os.path.join(d, "clearbook.db"),))
        con.close()
    S["ref"], S["live"] = ref, live
    S["ref_db"], S["db"] = (os.path.join(ref, "clearbook.db"),
                           os.path.join(live, "clearbook.db"))
    rc, err = night(ref, S["ref_db"])
    S["ref_rc"] = rc
    check(rc in (0, 1), "the reference night: exit %d\n%s" % (rc, err))
    db = S["db"]
    clearbook(db, "account", "add", "assets:suspense:tw", "--type", "asset",
              "--asset", "CNY")
    clearbook(db, "account", "template", "add", "liabilities:tw:*", "--type",
              "liability", "--asset", "CNY")
    tops = os.path.join(D, "topups.jsonl")
    with open(tops, "w") as f:
        for c in FRONT_CUSTOMERS:
            f.write(line("tw-top-" + c, "assets:suspense:tw",
                         "liabilities:wallets:" + c, TOPUP_MINOR) + "\n")
    clearbook(db, "post", tops)
    S["key"] = apikey_add(db, "m001")
    S["cfg"] = os.path.join(D, "front.ini")
    with open(S["cfg"], "w") as f:
        f.write("[server]\nbusy_wait_ms = 500\n")
    S["before"] = balances(db)


def hold_lock(db, seconds, marker):
    """A sqlite3 process that takes the write lock and keeps it."""
    script = "BEGIN IMMEDIATE;\n.output %s\n.print locked\n.output stdout\n" \
             ".shell sleep %d\nROLLBACK;\n" % (marker, seconds)
    p = subprocess.Popen(["sqlite3", db], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    p.stdin.write(script)
    p.stdin.close()
    deadline = time.time() + 30
    while not os.path.exists(marker) and time.time() < deadline:
        time.sleep(0.02)
    check(os.path.exists(marker), "sqlite3 did not take the lock")
    return p


def test_a_lock_held_beyond_the_bound():
    db = S["db"]
    f = os.path.join(D, "locked.jsonl")
    with open(f, "w") as out:
        out.write(line("tw-locked", "assets:suspense:tw", "liabilities:tw:locked",
                       100) + "\n")
    srv = Server(db, S["cfg"], name="locked")
    c = Client(srv.port, *S["key"])
    body = {"order_id": "locked-1", "customer": "f1", "merchant": "m001",
            "amount": "0.01", "asset": "CNY"}
    heads = journal_ids(db)
    holder = hold_lock(db, 14, os.path.join(D, "locked.marker"))
    try:
        t0 = time.time()
        rc, out, err = clearbook(db, "post", f, ok=False)
        waited = time.time() - t0
        check(rc == 75, "post under a held lock: exit %d\n%s%s" % (rc, out, err))
        check("database is busy" in err and "try again" in err,
              "post under a held lock said: %r" % err)
        check(waited >= 5, "post gave up after %.1f s: no bounded wait" % waited)
        t0 = time.time()
        r = c.post("/v1/purchases", body, "idem-locked-1")
        check(r.status == 503 and r.code() == "retry" and "Retry-After" in r.headers,
              "a purchase under a held lock: %r %r" % (r, r.headers))
        check(time.time() - t0 < 5, "the front waited %.1f s, beyond its bound"
              % (time.time() - t0))
    finally:
        holder.wait(timeout=60)
    check(journal_ids(db) == heads, "something was written under the lock")
    r = c.post("/v1/purchases", body, "idem-locked-1")
    check(r.status == 201, "the retry after the lock: %r" % r)
    S["locked_purchase"] = r.json["purchase"]["id"]
    check(srv.stop() == 0, "serve exit status")
    clearbook(db, "post", f)
    check("tw-locked" in journal_ids(db), "the re-run post is not in the journal")
    _, out, _ = clearbook(db, "verify")
    check(out.startswith("ok: "), "verify: %s" % out)


class Load:
    """THREADS clients buying 0.01 from the front's customers until told
    to stop; a 503 is retried under the same Idempotency-Key."""

    def __init__(self, port):
        self.acked, self.statuses = {}, {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.worker, args=(i,))
                        for i in range(THREADS)]
        self.port = port
        for t in self.threads:
            t.start()

    def worker(self, i):
        c = Client(self.port, *S["key"])
        n = 0
        while not self.stop.is_set():
            order = "tw-%d-%d" % (i, n)
            body = {"order_id": order, "customer": FRONT_CUSTOMERS[i],
                    "merchant": "m001", "amount": "0.01", "asset": "CNY"}
            for _ in range(200):
                r = c.post("/v1/purchases", body, "idem-" + order)
                with self.lock:
                    self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
                if r.status != 503:
                    break
                time.sleep(0.02)
            check(r.status == 201, "purchase %s: %r" % (order, r))
            with self.lock:
                self.acked[r.json["purchase"]["id"]] = FRONT_CUSTOMERS[i]
            n += 1

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=300)
            check(not t.is_alive(), "a client thread hangs")


def test_front_post_and_nightly_at_once():
    db = S["db"]
    files = []
    for k in range(POST_FILES):
        path = os.path.join(D, "post%d.jsonl" % k)
        with open(path, "w") as f:
            for j in range(POST_PER_FILE):
                f.write(line("tw-%d-%d" % (k, j), "assets:suspense:tw",
                             "liabilities:tw:s%d" % (j % 50), 100) + "\n")
        files.append(path)
    srv = Server(db, S["cfg"], name="load")
    load = Load(srv.port)
    results = {}

    def poster():
        for path in files:
            for attempt in range(5):
                rc, _, err = clearbook(db, "post", path, ok=False)
                results.setdefault("post", []).append(rc)
                if rc != 75:
                    break
                check("database is busy" in err, "post exit 75 said: %r" % err)
            check(rc == 0, "post %s: exit %d\n%s" % (path, rc, err))

    def nightly():
        for attempt in range(5):
            rc, err = night(S["live"], db)
            results.setdefault("night", []).append(rc)
            if rc != 75:
                break
        results["night_err"] = err

    time.sleep(0.5)
    jobs = [threading.Thread(target=poster), threading.Thread(target=nightly)]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join(timeout=600)
        check(not j.is_alive(), "a batch job hangs")
    time.sleep(0.5)
    load.join()
    metrics = Client(srv.port).get("/metrics", auth=False).raw
    check(srv.stop() == 0, "serve exit status:\n" + srv.text())
    check(results["night"][-1] == S["ref_rc"], "the night: exits %r, alone %d\n%s" % (
        results["night"], S["ref_rc"], results["night_err"]))
    busy = [l for l in metrics.splitlines() if l.startswith("clearbook_front_busy")]
    print("     %d purchases acknowledged; answers %r; post exits %r, nightly "
          "exits %r; %s" % (len(load.acked), load.statuses, results["post"],
                            results["night"], busy))
    S["acked"] = load.acked


def test_nothing_is_lost():
    db = S["db"]
    _, out, _ = clearbook(db, "verify")
    check(out.startswith("ok: "), "verify: %s" % out)
    ids = journal_ids(db)
    lost = [p for p in S["acked"] if p not in ids]
    check(not lost, "acknowledged but not in the journal: %r" % lost[:5])
    missing = [k for k in range(POST_FILES) for j in range(POST_PER_FILE)
               if "tw-%d-%d" % (k, j) not in ids]
    check(not missing, "%d CLI postings missing" % len(missing))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=60)
    rows = dict(con.execute("SELECT id, customer FROM front_purchases WHERE"
                            " order_id LIKE 'tw-%'"))
    con.close()
    check(set(rows) == set(S["acked"]),
          "purchase rows %d, acknowledged %d: committed but unanswered or the"
          " other way round" % (len(rows), len(S["acked"])))
    for d in ("breaks.csv", "matches.csv"):
        a = open(os.path.join(S["ref"], "outbox", "2026-11-25", d), "rb").read()
        b = open(os.path.join(S["live"], "outbox", "2026-11-25", d), "rb").read()
        check(a == b, "the night's %s differs from the night run alone" % d)


def test_balances_add_up():
    ref, before, now = balances(S["ref_db"]), S["before"], balances(S["db"])
    spent = {c: 0 for c in FRONT_CUSTOMERS}
    for c in S["acked"].values():
        spent[c] += 1
    spent["f1"] += 1  # the purchase made after the lock
    for c in FRONT_CUSTOMERS:
        key = ("liabilities:wallets:" + c, "CNY")
        check(minor(now[key]) == -(TOPUP_MINOR - spent[c]),
              "wallet %s: %s, its purchases imply %d" % (c, now[key], spent[c]))
    pay = ("liabilities:merchants:m001:payable", "CNY")
    total = sum(spent.values())
    check(minor(now[pay]) == minor(ref[pay]) - total,
          "m001 payable %s; alone %s, less %d purchases" % (now[pay], ref[pay], total))
    sinks = sum(minor(v) for (a, _), v in now.items() if a.startswith("liabilities:tw:"))
    check(sinks == -(POST_FILES * POST_PER_FILE * 100 + 100),
          "the CLI's postings add up to %d" % sinks)
    touched = {pay, ("assets:suspense:tw", "CNY")}
    for (a, s), v in ref.items():
        if (a, s) in touched:
            continue
        check(now.get((a, s)) == v, "%s %s: %s, alone %s" % (a, s, now.get((a, s)), v))
    check(before, "no balances before")


run([test_start, test_a_lock_held_beyond_the_bound,
     test_front_post_and_nightly_at_once, test_nothing_is_lost,
     test_balances_add_up])
