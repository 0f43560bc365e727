#!/usr/bin/env python3
"""clearcheck.py DB - an independent, slower recomputation of what
reconciliation claims, written from docs/clearing.md, not from the C code.

For every match not undone:
  * each statement line and each item is in at most one such match;
  * its settlement transaction exists, balances, and posts
      settle_to      + the sum of the match's top-level lines,
      fee account    + the difference (if any),
      clearing accts - the sum of the items' postings on them;
  * the sum of the items' postings on the clearing accounts equals the lines'
    sum plus the fee.
Exits 1 naming the first match that does not hold; prints a one-line summary.
"""
import sqlite3
import sys


def amount(blob):
    """16-byte big-endian two's complement with the sign bit flipped."""
    return int.from_bytes(blob, "big") ^ (1 << 127) if len(blob) == 16 else None


def signed(u):
    return u - (1 << 128) if u >= (1 << 127) else u


def main(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    undone = {r[0] for r in db.execute("SELECT match_id FROM clearing_unmatches")}
    matches = db.execute(
        "SELECT id, settlement_id FROM clearing_matches ORDER BY id").fetchall()
    seen_lines, seen_items = {}, {}
    checked = 0
    for match_id, settlement in matches:
        if match_id in undone:
            continue
        lines = [r[0] for r in db.execute(
            "SELECT line_id FROM clearing_match_lines WHERE match_id = ?", (match_id,))]
        items = [r[0] for r in db.execute(
            "SELECT item_seq FROM clearing_match_items WHERE match_id = ?", (match_id,))]
        for line in lines:
            if line in seen_lines:
                fail(f"line {line} is in matches {seen_lines[line]} and {match_id}")
            seen_lines[line] = match_id
        for item in items:
            if item in seen_items:
                fail(f"item seq {item} is in matches {seen_items[item]} and {match_id}")
            seen_items[item] = match_id
        if not lines or not items:
            fail(f"match {match_id} has no lines or no items")
        line_sum = sum(signed(amount(r[0])) for r in db.execute(
            "SELECT amount FROM statement_lines WHERE parent_id IS NULL AND id IN (%s)"
            % ",".join("?" * len(lines)), lines))
        tx = db.execute("SELECT seq FROM transactions WHERE id = ?", (settlement,)).fetchone()
        if not tx:
            fail(f"match {match_id}: settlement {settlement} is not in the journal")
        postings = [(r[0], signed(amount(r[1]))) for r in db.execute(
            "SELECT a.code, p.amount FROM postings p JOIN accounts a ON a.id = p.account_id"
            " WHERE p.tx_seq = ? ORDER BY p.idx", (tx[0],))]
        if sum(v for _, v in postings) != 0:
            fail(f"match {match_id}: settlement {settlement} does not balance")
        if postings[0][1] != line_sum:
            fail(f"match {match_id}: settlement posts {postings[0][1]} to {postings[0][0]},"
                 f" the lines sum to {line_sum}")
        item_postings = {}
        for item in items:
            for code, v in db.execute(
                    "SELECT a.code, p.amount FROM postings p JOIN accounts a"
                    " ON a.id = p.account_id WHERE p.tx_seq = ?", (item,)):
                item_postings[code] = item_postings.get(code, 0) + signed(amount(v))
        rest = postings[1:]
        cleared = {}
        for code, v in rest:
            if code in item_postings:
                cleared[code] = cleared.get(code, 0) - v
        fee = sum(v for code, v in rest if code not in item_postings)
        if not cleared:
            fail(f"match {match_id}: settlement {settlement} clears no item's account")
        for code, v in cleared.items():
            if item_postings[code] != v:
                fail(f"match {match_id}: items post {item_postings[code]} on {code},"
                     f" the settlement clears {v}")
        if line_sum + fee != sum(cleared.values()):
            fail(f"match {match_id}: lines {line_sum} + fee {fee} !="
                 f" items {sum(cleared.values())}")
        checked += 1
    print(f"ok: {checked} matches, {len(seen_lines)} lines, {len(seen_items)} items")


def fail(msg):
    print(f"clearcheck: {msg}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1])
