"""frontclient.py - a small client of the clearbook HTTP front for the tests.

Standard library only.  Server starts `clearbook serve` on a free port
(port 0: the server names the port it got on stderr); Client signs requests
as docs/api.md says:

    X-Signature = hex(HMAC-SHA256(secret,
                  METHOD "\\n" PATH "\\n" TIMESTAMP "\\n" hex(SHA-256(body))))
"""
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

MASTER_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
CLEARBOOK = os.environ.get("CLEARBOOK", "clearbook")
START_TIMEOUT_S = 120  # an ASan build on a loaded machine starts slowly
CALL_TIMEOUT_S = 120


class TestFailure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def env():
    e = dict(os.environ)
    e["CLEARBOOK_MASTER_KEY"] = MASTER_KEY
    e.pop("CLEARBOOK_NOW", None)
    return e


def cb(db, *args, ok=True):
    """Runs clearbook; returns (status, stdout, stderr)."""
    p = subprocess.run([CLEARBOOK, "--db", db] + list(args), env=env(),
                       capture_output=True, text=True)
    for stream in (p.stderr,):
        check(not re.search(r"runtime error:|AddressSanitizer|LeakSanitizer|"
                            r"internal error", stream),
              "clearbook %s: sanitizer report:\n%s" % (" ".join(args), stream))
    if ok and p.returncode != 0:
        raise TestFailure("clearbook %s: exit %d\n%s%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


def apikey_add(db, merchant):
    _, out, _ = cb(db, "apikey", "add", merchant)
    lines = out.splitlines()
    check(len(lines) == 2 and lines[0].startswith("key_id=") and
          lines[1].startswith("secret="), "apikey add printed: %r" % out)
    return lines[0][len("key_id="):], lines[1][len("secret="):]


def setup_ledger(db):
    """A ledger with wallet templates, trading accounts and topped-up
    wallets: c1..c5 hold 1000.00 CNY, c1 also 100.00 USD and 1000 PTS."""
    cb(db, "init")
    cb(db, "asset", "add", "PTS", "--scale", "0")
    for pattern, asset in (("liabilities:wallets:*", "CNY"),
                           ("liabilities:wallets:*:usd", "USD"),
                           ("liabilities:wallets:*:pts", "PTS")):
        cb(db, "account", "template", "add", pattern, "--type", "liability",
           "--asset", asset, "--no-overdraft")
    cb(db, "account", "template", "add", "liabilities:merchants:*:payable",
       "--type", "liability", "--asset", "CNY")
    for code, typ, asset in (("income:fees:processing", "income", "CNY"),
                             ("equity:trading:cny", "equity", "CNY"),
                             ("equity:trading:usd", "equity", "USD"),
                             ("equity:trading:pts", "equity", "PTS"),
                             ("equity:points:issued", "equity", "PTS"),
                             ("assets:bank:cny", "asset", "CNY"),
                             ("assets:bank:usd", "asset", "USD")):
        cb(db, "account", "add", code, "--type", typ, "--asset", asset)
    lines = []
    for c in ("c1", "c2", "c3", "c4", "c5", "blocked1"):
        lines.append(tx("top-" + c, "assets:bank:cny",
                        "liabilities:wallets:" + c, "1000.00"))
    lines.append(tx("top-c1-usd", "assets:bank:usd",
                    "liabilities:wallets:c1:usd", "100.00"))
    lines.append(tx("top-c1-pts", "equity:points:issued",
                    "liabilities:wallets:c1:pts", "1000"))
    path = db + ".topups.jsonl"
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    cb(db, "post", path)


def tx(id_, debit, credit, amount):
    return json.dumps({"id": id_, "date": "2026-11-24", "postings": [
        {"account": debit, "amount": amount},
        {"account": credit, "amount": "-" + amount}]})


class Server:
    def __init__(self, db, config=None, name="serve"):
        self.db = db
        self.log = "%s.%s.log" % (db, name)
        args = [CLEARBOOK, "--db", db, "serve", "--listen", "127.0.0.1:0"]
        if config:
            args += ["--config", config]
        self.errf = open(self.log, "w")
        self.proc = subprocess.Popen(args, env=env(), stdout=self.errf,
                                     stderr=self.errf)
        self.port = None
        deadline = time.time() + START_TIMEOUT_S
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise TestFailure("serve exited %d:\n%s" % (
                    self.proc.returncode, self.text()))
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.text())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        check(self.port, "serve did not start:\n" + self.text())

    def text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout_s=120):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise TestFailure("serve did not stop after signal %d:\n%s" % (
                sig, self.text()))
        self.errf.close()
        if sig != signal.SIGKILL:
            check(not re.search(r"runtime error:|AddressSanitizer|"
                                r"LeakSanitizer|internal error", self.text()),
                  "serve: sanitizer report:\n" + self.text())
        return rc


def sign(secret, method, path, ts, body):
    msg = "%s\n%s\n%s\n%s" % (method, path, ts,
                              hashlib.sha256(body).hexdigest())
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def code(self):
        return (self.json or {}).get("error", {}).get("code")

    def __repr__(self):
        return "%d %s" % (self.status, self.raw[:400])


class Client:
    def __init__(self, port, key_id=None, secret=None):
        self.port = port
        self.key_id = key_id
        self.secret = secret
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=CALL_TIMEOUT_S)
        return self.conn

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def call(self, method, path, body=None, idem=None, sign_body=None,
             ts=None, secret=None, key_id=None, headers=None, auth=True):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        body = body or b""
        h = {}
        if auth:
            ts = str(int(time.time())) if ts is None else str(ts)
            signed = body if sign_body is None else sign_body
            h["X-Key-Id"] = key_id or self.key_id
            h["X-Timestamp"] = ts
            h["X-Signature"] = sign(secret or self.secret, method, path, ts, signed)
        if idem is not None:
            h["Idempotency-Key"] = idem
        if body or method == "POST":
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in range(2):
            try:
                c = self._conn()
                c.request(method, path, body=body if method == "POST" else None,
                          headers=h)
                r = c.getresponse()
                data = r.read().decode()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return Response(r.status, dict(r.getheaders()), data)
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError):
                # a kept-alive connection the server closed: once more
                self.close()
                if attempt == 1:
                    raise

    def post(self, path, body, idem, **kw):
        return self.call("POST", path, body, idem=idem, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)


def journal_ids(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=60)
    try:
        return set(r[0] for r in con.execute("SELECT id FROM transactions"))
    finally:
        con.close()


def run(tests):
    """Runs test functions in order; exits 1 on the first failure."""
    for t in tests:
        start = time.time()
        try:
            t()
        except TestFailure as e:
            print("FAIL: %s: %s" % (t.__name__, e), file=sys.stderr)
            sys.exit(1)
        print("ok   %s (%.1f s)" % (t.__name__, time.time() - start))
