#!/bin/sh
# clearing_migrate.sh - a ledger whose matches are in the tables of old (one
# clearing_matches table of nine text columns, clearing_match_lines and
# clearing_match_items) opens with every match, pair and unmatch as it was:
# the first clearing command moves them into clearing_match_rows and
# clearing_match_sets, `matches list`, `breaks list` and the reconciliation
# report read the same bytes, a re-run of the night changes nothing, and the
# next match takes the next id.
set -eu
T=clearing_migrate
. "$ROOT/tests/e2e/lib/common.sh"

command -v sqlite3 >/dev/null || fail "sqlite3 is needed (a declared dependency)"

night() { # DIR: the sample night of 2026-11-25 on DIR
	"$CLEARBOOK" --db "$1/clearbook.db" nightly --date 2026-11-25 \
		--inbox "$1/inbox/2026-11-25" --outbox "$1/outbox" \
		--config "$ROOT/samples/nightly.ini" >"$1/night.out" 2>"$1/night.err" || true
	no_sanitizer_report "$1/night.err" "nightly on $1"
}
lists() { # DB OUT: what a person reads of the matches and breaks
	{
		"$CLEARBOOK" --db "$1" match list --format csv
		"$CLEARBOOK" --db "$1" breaks list --date 2026-11-25 --format csv
		"$CLEARBOOK" --db "$1" report reconciliation --from 2026-11-01 --to 2026-11-30
	} >"$2" 2>"$2.err" || fail "listing $1: $(cat "$2.err")"
	no_sanitizer_report "$2.err" "listing $1"
}

head_of() { "$CLEARBOOK" --db "$1" verify | sed -n 's/.*chain head \([0-9a-f]*\)$/\1/p'; }

# The sample night, then one match undone and made again by hand, so that
# the trail holds one-to-many matches (pairs), single ones, an unmatch and
# a manual match (a set of its own: another user and reason).
sh "$ROOT/samples/demo.sh" new >demo.out 2>demo.err || fail "demo failed: $(cat demo.err)"
expect_exit 0 --db new/clearbook.db unmatch 2 --reason "wrong customer"
expect_exit 0 --db new/clearbook.db match --channel card --lines 42 \
	--items TU-20261124-00007 --reason "confirmed by phone" --config "$ROOT/samples/nightly.ini"
night new
expect_exit 0 --db new/clearbook.db match list --format csv
tr -d '\r' <out | grep -q ',settle:card:L42\.2,42,TU-20261124-00007,.*,confirmed by phone,' ||
	fail "line 42 not matched by hand: $(cat out)"
n_single=$(sqlite3 new/clearbook.db "SELECT count(*) FROM clearing_match_rows WHERE line_id IS NOT NULL")
n_pairs=$(sqlite3 new/clearbook.db "SELECT count(*) FROM clearing_match_line_pairs")
[ "$n_single" -gt 100 ] && [ "$n_pairs" -gt 0 ] ||
	fail "the sample night should give single matches and pairs: $n_single, $n_pairs"
lists new/clearbook.db new.txt

# The same ledger in the tables of old: what the views show, written into
# tables of the old shape (their DDL as it was), the new ones dropped.
cp -R new old
rm -f old/clearbook.db-wal old/clearbook.db-shm
sqlite3 old/clearbook.db <<'SQL' || fail "building the ledger of old"
BEGIN;
CREATE TABLE m_old AS SELECT * FROM clearing_matches;
CREATE TABLE l_old AS SELECT * FROM clearing_match_lines;
CREATE TABLE i_old AS SELECT * FROM clearing_match_items;
DROP VIEW clearing_matches;
DROP VIEW clearing_match_lines;
DROP VIEW clearing_match_items;
DROP TABLE clearing_match_rows;
DROP TABLE clearing_match_sets;
DROP TABLE clearing_match_line_pairs;
DROP TABLE clearing_match_item_pairs;
CREATE TABLE clearing_matches(id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL, rule TEXT NOT NULL, settlement_id TEXT NOT NULL,
  created_at TEXT NOT NULL, user TEXT NOT NULL, reason TEXT NOT NULL,
  lines TEXT NOT NULL, items TEXT NOT NULL);
CREATE TABLE clearing_match_lines(line_id INTEGER NOT NULL,
  match_id INTEGER NOT NULL REFERENCES clearing_matches(id),
  PRIMARY KEY(line_id, match_id)) WITHOUT ROWID;
CREATE TABLE clearing_match_items(item_seq INTEGER NOT NULL,
  match_id INTEGER NOT NULL REFERENCES clearing_matches(id),
  PRIMARY KEY(item_seq, match_id)) WITHOUT ROWID;
INSERT INTO clearing_matches SELECT * FROM m_old ORDER BY id;
INSERT INTO clearing_match_lines SELECT * FROM l_old;
INSERT INTO clearing_match_items SELECT * FROM i_old;
DROP TABLE m_old; DROP TABLE l_old; DROP TABLE i_old;
CREATE TRIGGER clearing_matches_no_update BEFORE UPDATE ON clearing_matches
 BEGIN SELECT RAISE(ABORT, 'clearing_matches is append-only'); END;
CREATE TRIGGER clearing_matches_no_delete BEFORE DELETE ON clearing_matches
 BEGIN SELECT RAISE(ABORT, 'clearing_matches is append-only'); END;
CREATE TRIGGER clearing_match_lines_no_update BEFORE UPDATE ON clearing_match_lines
 BEGIN SELECT RAISE(ABORT, 'clearing_match_lines is append-only'); END;
CREATE TRIGGER clearing_match_lines_no_delete BEFORE DELETE ON clearing_match_lines
 BEGIN SELECT RAISE(ABORT, 'clearing_match_lines is append-only'); END;
COMMIT;
SQL
[ "$(sqlite3 old/clearbook.db "SELECT type FROM sqlite_master WHERE name = 'clearing_matches'")" = table ] ||
	fail "the ledger of old has no clearing_matches table"

# The first command moves the matches; every list reads as before.
lists old/clearbook.db old.txt
cmp -s new.txt old.txt || fail "the moved matches read differently: $(diff new.txt old.txt | head -20)"
[ "$(sqlite3 old/clearbook.db "SELECT type FROM sqlite_master WHERE name = 'clearing_matches'")" = view ] ||
	fail "clearing_matches is not the view after the move"
for t in clearing_match_rows clearing_match_sets clearing_match_line_pairs clearing_match_item_pairs; do
	[ "$(sqlite3 old/clearbook.db "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '$t'")" = 1 ] ||
		fail "$t missing after the move"
done
moved=$(sqlite3 old/clearbook.db "SELECT count(*) FROM clearing_match_rows WHERE line_id IS NULL")
total=$(sqlite3 new/clearbook.db "SELECT count(*) FROM clearing_matches")
[ "$moved" = "$total" ] || fail "moved $moved matches, the ledger had $total"
# The pairs kept their guard; the moved table's rows are guarded too.
sqlite3 old/clearbook.db "DELETE FROM clearing_match_line_pairs" 2>err && fail "DELETE of moved pairs allowed"
grep -q "append-only" err || fail "no append-only refusal from the moved pairs: $(cat err)"
sqlite3 old/clearbook.db "DELETE FROM clearing_match_rows" 2>err && fail "DELETE of moved rows allowed"
grep -q "append-only" err || fail "no append-only refusal from the moved rows: $(cat err)"

# A second command finds nothing to move; the night run again changes
# nothing; a match undone and made again on both ledgers takes the same
# next id and settlement on each, and the two ledgers stay the same.
lists old/clearbook.db old2.txt
cmp -s old.txt old2.txt || fail "a second read differs: $(diff old.txt old2.txt | head)"
head_before=$(head_of old/clearbook.db)
night old
[ -n "$head_before" ] && [ "$head_before" = "$(head_of old/clearbook.db)" ] ||
	fail "the night run again on the moved ledger changed it"
for d in new old; do
	expect_exit 0 --db "$d/clearbook.db" unmatch 3 --reason "wrong customer"
	night "$d"
	lists "$d/clearbook.db" "$d.after.txt"
done
cmp -s new.after.txt old.after.txt || fail "the ledgers parted: $(diff new.after.txt old.after.txt | head -20)"
grep -q ',settle:card:L43\.2,43,' old.after.txt || fail "line 43 not matched again: $(cat old.after.txt)"
[ "$(head_of new/clearbook.db)" = "$(head_of old/clearbook.db)" ] || fail "the chain heads parted"
python3 "$ROOT/tests/clearcheck.py" old/clearbook.db >check.out 2>check.err ||
	fail "clearcheck on the moved ledger: $(cat check.err)"
exit 0
