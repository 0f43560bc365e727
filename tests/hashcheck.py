#!/usr/bin/env python3
"""Independent checker of a clearbook ledger's hash chain.

Written from docs/hash-chain.md alone (not from the ledger's C sources), so
that it is an independent second implementation of what an auditor would do:

    python3 tests/hashcheck.py DB

On success prints exactly

    ok: N transactions, chain head <64 lower-case hex>

and exits 0.  On the first problem prints

    broken at seq N: <reason>

to stderr and exits 1.  Problems that do not belong to one transaction
are reported against the nearest seq: a closed period against its head_seq,
a stored balance against the last transaction posting to that account (0 if
none), naming the account in the reason.  A database that cannot be opened
or read is reported as "hashcheck: DB: <error>" with exit status 2.

Checks, all from the document:
  * seq runs 1..N without gaps;
  * every transaction's stored hash equals
        SHA-256(previous hash || canonical netstring encoding);
  * every stored balance (posted, pending_dr, pending_cr) equals the sum of
    the postings per the document's rules;
  * every closed period's (head_seq, head_hash) still matches the chain.

The database is opened read-only (URI mode=ro); text is read as raw bytes,
so the encoding uses the bytes exactly as stored.
"""

import argparse
import hashlib
import os
import sqlite3
import sys
import urllib.parse

DOMAIN = b"clearbook-tx-v1"
ZERO_HASH = bytes(32)
BIAS = 2 ** 127
HOLD_ENDERS = (b"commit", b"void", b"expire")


class Broken(Exception):
    """A check failed; seq is the transaction named in the report."""

    def __init__(self, seq, reason):
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def netstring(b):
    return str(len(b)).encode("ascii") + b":" + b + b","


def dec(n):
    # Decimal ASCII, leading '-' when negative, no leading zeros / '+' / spaces.
    return str(int(n)).encode("ascii")


def decode_amount(blob, seq, what):
    """16 bytes, big-endian, sign bit flipped: value = int(big) - 2**127."""
    if not isinstance(blob, bytes) or len(blob) != 16:
        raise Broken(seq, "%s is not a 16-byte amount" % what)
    return int.from_bytes(blob, "big") - BIAS


def text(v, seq, field, nullable=False):
    """A stored text field as raw bytes (empty for NULL when nullable)."""
    if v is None:
        if nullable:
            return b""
        raise Broken(seq, "%s is NULL" % field)
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):  # not reached with text_factory=bytes
        return v.encode("utf-8")
    raise Broken(seq, "%s is not text" % field)


def open_ro(path):
    if not os.path.isfile(path):
        raise FileNotFoundError("no such database file")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    conn.text_factory = bytes
    return conn


def load_accounts(conn):
    accounts = {}
    for aid, code, asset in conn.execute("SELECT id, code, asset FROM accounts"):
        accounts[aid] = (code, asset)
    return accounts


def load_postings(conn, seq):
    return conn.execute(
        "SELECT idx, account_id, amount FROM postings"
        " WHERE tx_seq = ? ORDER BY idx", (seq,)).fetchall()


def encode_tx(row, postings, accounts):
    (seq, tid, kind, ref_seq, date, booked_at, expires_at, memo, meta) = row
    out = [netstring(DOMAIN), netstring(dec(seq))]
    out.append(netstring(text(tid, seq, "id")))
    out.append(netstring(text(kind, seq, "kind")))
    if ref_seq is None:
        out.append(netstring(b""))
    elif isinstance(ref_seq, int):
        out.append(netstring(dec(ref_seq)))
    else:
        raise Broken(seq, "ref_seq is not an integer")
    out.append(netstring(text(date, seq, "date")))
    out.append(netstring(text(booked_at, seq, "booked_at")))
    out.append(netstring(text(expires_at, seq, "expires_at", nullable=True)))
    out.append(netstring(text(memo, seq, "memo")))
    out.append(netstring(text(meta, seq, "meta")))
    out.append(netstring(dec(len(postings))))
    for i, (idx, aid, amount) in enumerate(postings):
        if idx != i:
            raise Broken(seq, "posting indexes are not 0..%d (found idx %r)"
                         % (len(postings) - 1, idx))
        if aid not in accounts:
            raise Broken(seq, "posting %d names unknown account id %r"
                         % (i, aid))
        code, asset = accounts[aid]
        value = decode_amount(amount, seq, "posting %d amount" % i)
        out.append(netstring(text(code, seq, "account code")))
        out.append(netstring(text(asset, seq, "account asset")))
        out.append(netstring(dec(value)))
    return b"".join(out)


def check(conn):
    """Returns (count, head_hash); raises Broken on the first problem."""
    accounts = load_accounts(conn)
    rows = conn.execute(
        "SELECT seq, id, kind, ref_seq, date, booked_at, expires_at, memo,"
        " meta, hash FROM transactions ORDER BY seq").fetchall()

    prev = ZERO_HASH
    hashes = {0: ZERO_HASH}
    kinds = {}
    expected = 1
    for r in rows:
        seq = r[0]
        if not isinstance(seq, int) or seq != expected:
            raise Broken(expected, "sequence gap: expected seq %d, found %r"
                         % (expected, seq))
        postings = load_postings(conn, seq)
        enc = encode_tx(r[:9], postings, accounts)
        h = hashlib.sha256(prev + enc).digest()
        stored = r[9]
        if not isinstance(stored, bytes) or len(stored) != 32:
            raise Broken(seq, "stored hash is not 32 bytes")
        if stored != h:
            raise Broken(seq, "hash mismatch: stored %s, recomputed %s"
                         % (stored.hex(), h.hex()))
        hashes[seq] = h
        kinds[seq] = (text(r[2], seq, "kind"), r[3])
        prev = h
        expected += 1
    n = expected - 1

    # Postings that belong to no transaction.
    for (tx_seq,) in conn.execute(
            "SELECT DISTINCT tx_seq FROM postings ORDER BY tx_seq"):
        if tx_seq not in kinds:
            raise Broken(tx_seq, "postings for a transaction that does not exist")

    check_balances(conn, kinds)
    check_periods(conn, hashes, n)
    return n, prev


def check_balances(conn, kinds):
    # Holds ended by a commit, void or expire.
    ended = set()
    for seq, (kind, ref) in kinds.items():
        if kind in HOLD_ENDERS and ref is not None:
            ended.add(ref)

    sums = {}  # account_id -> [posted, pending_dr, pending_cr]
    last_seq = {}  # account_id -> last seq touching it, for the report
    for tx_seq, aid, amount in conn.execute(
            "SELECT tx_seq, account_id, amount FROM postings"
            " ORDER BY tx_seq, idx"):
        v = decode_amount(amount, tx_seq, "posting amount")
        s = sums.setdefault(aid, [0, 0, 0])
        last_seq[aid] = tx_seq
        kind = kinds[tx_seq][0]
        if kind != b"pending":
            s[0] += v
        elif tx_seq not in ended:
            if v > 0:
                s[1] += v
            elif v < 0:
                s[2] += v

    stored_ids = set()
    for aid, posted, pdr, pcr in conn.execute(
            "SELECT account_id, posted, pending_dr, pending_cr FROM balances"
            " ORDER BY account_id"):
        stored_ids.add(aid)
        seq = last_seq.get(aid, 0)
        want = sums.get(aid, [0, 0, 0])
        got = [decode_amount(posted, seq, "balance posted"),
               decode_amount(pdr, seq, "balance pending_dr"),
               decode_amount(pcr, seq, "balance pending_cr")]
        for name, g, w in zip(("posted", "pending_dr", "pending_cr"), got, want):
            if g != w:
                raise Broken(seq, "balance %s of account %s is %d, but its postings"
                             " (last at seq %d) sum to %d minor units"
                             % (name, account_name(conn, aid), g, seq, w))
    for aid in sorted(sums):
        if aid not in stored_ids and any(sums[aid]):
            raise Broken(last_seq[aid], "account %s has postings but no stored balance"
                         % account_name(conn, aid))


def account_name(conn, aid):
    row = conn.execute("SELECT code FROM accounts WHERE id = ?", (aid,)).fetchone()
    if row is None or row[0] is None:
        return "id %r" % (aid,)
    code = row[0]
    return code.decode("utf-8", "replace") if isinstance(code, bytes) else str(code)


def check_periods(conn, hashes, n):
    try:
        rows = conn.execute(
            "SELECT period, head_seq, head_hash FROM period_closes"
            " ORDER BY head_seq").fetchall()
    except sqlite3.OperationalError:
        return  # no period_closes table: nothing closed
    for period, head_seq, head_hash in rows:
        p = period.decode("utf-8", "replace") if isinstance(period, bytes) else period
        if not isinstance(head_seq, int) or head_seq < 0 or head_seq > n:
            raise Broken(head_seq if isinstance(head_seq, int) else 0,
                         "closed period %s names head_seq %r beyond the chain"
                         % (p, head_seq))
        if head_seq == 0 and head_hash is None:
            continue  # closed on an empty ledger
        if head_hash != hashes[head_seq]:
            got = head_hash.hex() if isinstance(head_hash, bytes) else repr(head_hash)
            raise Broken(head_seq, "closed period %s recorded head %s, chain has %s"
                         % (p, got, hashes[head_seq].hex()))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Recompute a clearbook ledger's hash chain from "
                    "docs/hash-chain.md and check its balances.")
    ap.add_argument("db", metavar="DB", help="ledger database (opened read-only)")
    args = ap.parse_args(argv)
    try:
        conn = open_ro(args.db)
        n, head = check(conn)
    except Broken as e:
        print("broken at seq %d: %s" % (e.seq, e.reason), file=sys.stderr)
        return 1
    except (sqlite3.Error, OSError) as e:
        print("hashcheck: %s: %s" % (args.db, e), file=sys.stderr)
        return 2
    print("ok: %d transactions, chain head %s" % (n, head.hex()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
