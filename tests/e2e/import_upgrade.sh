#!/bin/sh
# import_upgrade.sh - a ledger an older build made, whose statement lines are
# a table named statement_lines with the channel and account on every line,
# is upgraded once on open: the lines move into staged_lines under their
# scope (line_scopes), statement_lines becomes a view that shows every line
# exactly as before (ids, fields, raw fields), the dedupe keys still find
# the lines of an overlapping file, and the staging area stays append-only.
set -eu
T=import_upgrade
. "$ROOT/tests/e2e/lib/common.sh"

inbox="$ROOT/tests/fixtures/import"
q() { sqlite3 clearbook.db "$1"; }

expect_exit 0 init
expect_exit 0 account add assets:bank:eur --type asset --asset EUR
expect_exit 0 account add assets:bank:icbc:cny --type asset --asset CNY
expect_exit 0 account add assets:clearing:card --type asset --asset EUR
expect_exit 0 import --profile bank-csv --account assets:bank:eur "$inbox/bank-statement-20261124.csv"
expect_exit 0 import --profile iso20022 --account assets:bank:icbc:cny "$inbox/icbc-camt053-20261124.xml"
expect_exit 0 import --profile card-settlement --account assets:clearing:card "$inbox/card-settlement-batch-412.csv"

# This build: one scope per channel and account, none per line.
[ "$(q "SELECT type FROM sqlite_schema WHERE name = 'statement_lines'")" = view ] ||
	fail "statement_lines is not a view on a new ledger"
[ "$(q "SELECT count(*) FROM line_scopes")" -eq 3 ] ||
	fail "not one scope per channel and account: $(q "SELECT * FROM line_scopes")"
[ "$(q "SELECT count(*) FROM staged_lines")" -gt 10 ] || fail "too few lines staged"
expect_exit 0 statement list --format json
cp out before.json
q "SELECT * FROM statement_lines ORDER BY id" >before.txt
q "SELECT * FROM statement_lines_raw ORDER BY id" >before-raw.txt

# The layout of the build before (1177f67): the lines as a table.
sqlite3 clearbook.db <<'SQL'
BEGIN;
CREATE TABLE old_lines AS SELECT * FROM statement_lines;
DROP VIEW statement_lines_raw;
DROP VIEW statement_lines;
DROP TABLE staged_lines;
DROP TABLE line_scopes;
CREATE TABLE statement_lines(id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL REFERENCES import_files(id),
  statement_no INTEGER NOT NULL, channel TEXT NOT NULL,
  account TEXT NOT NULL, dedupe_key TEXT NOT NULL, entry_ref TEXT,
  parent_id INTEGER REFERENCES statement_lines(id), is_batch INTEGER NOT NULL,
  children INTEGER NOT NULL, batch_difference BLOB, booking_date TEXT,
  value_date TEXT, amount BLOB NOT NULL, asset TEXT NOT NULL,
  counterparty_name TEXT, counterparty_account TEXT, end_to_end_id TEXT,
  instruction_id TEXT, provider_ref TEXT, uetr TEXT, remittance TEXT,
  tx_code TEXT, status TEXT, batch_id TEXT, return_reason TEXT,
  reversal INTEGER NOT NULL, charges TEXT, entry_index INTEGER,
  child_index INTEGER, line_no INTEGER, raw TEXT NOT NULL);
INSERT INTO statement_lines SELECT * FROM old_lines;
DROP TABLE old_lines;
CREATE UNIQUE INDEX statement_lines_ref
  ON statement_lines(dedupe_key, account, channel) WHERE dedupe_key <> '';
CREATE TRIGGER lines_append_only BEFORE UPDATE ON statement_lines
  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;
CREATE TRIGGER lines_no_delete BEFORE DELETE ON statement_lines
  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;
CREATE VIEW statement_lines_raw(id, raw) AS SELECT l.id, l.raw FROM statement_lines l;
COMMIT;
SQL
[ "$(q "SELECT type FROM sqlite_schema WHERE name = 'statement_lines'")" = table ] ||
	fail "the old layout was not rebuilt"
[ "$(q "SELECT count(*) FROM statement_lines")" -eq "$(wc -l <before.txt)" ] ||
	fail "the old layout lost lines"

# Opening it (a read) upgrades it; every line reads back the same.
expect_exit 0 statement list --format json
cmp -s before.json out || fail "statement list differs after the upgrade: $(diff before.json out | head -20)"
[ "$(q "SELECT type FROM sqlite_schema WHERE name = 'statement_lines'")" = view ] ||
	fail "statement_lines is still a table after the upgrade"
[ "$(q "SELECT count(*) FROM sqlite_schema WHERE name IN ('statement_lines_ref',"\
" 'staged_lines_ref', 'staged_lines_append_only', 'lines_append_only')")" -eq 3 ] ||
	fail "indexes and triggers after the upgrade: $(q "SELECT name FROM sqlite_schema")"
q "SELECT * FROM statement_lines ORDER BY id" >after.txt
cmp -s before.txt after.txt || fail "statement_lines differs after the upgrade: $(diff before.txt after.txt | head -10)"
q "SELECT * FROM statement_lines_raw ORDER BY id" >after-raw.txt
cmp -s before-raw.txt after-raw.txt || fail "raw fields differ after the upgrade: $(diff before-raw.txt after-raw.txt | head -10)"
[ "$(q "SELECT count(*) FROM line_scopes")" -eq 3 ] || fail "scopes after the upgrade: $(q "SELECT * FROM line_scopes")"
expect_exit 0 statement list --format json
cmp -s before.json out || fail "a second open changed what is listed"

# The moved keys still meet their lines: the same rows in another file are
# duplicates, a new row is staged under the next id.
lines=$(q "SELECT count(*) FROM statement_lines")
last=$(q "SELECT max(id) FROM statement_lines")
{ cat "$inbox/bank-statement-20261124.csv"; echo "2026-11-25,Late fee,-5.00,EUR,BNK-UPGRADE-1,Bank,"; } >overlap.csv
expect_exit 0 import --profile bank-csv --account assets:bank:eur overlap.csv
out_has "1 line(s) staged, 3 duplicate(s) skipped" "overlapping file after the upgrade"
[ "$(q "SELECT id || ' ' || account || ' ' || channel FROM statement_lines WHERE entry_ref = 'BNK-UPGRADE-1'")" = "$((last + 1)) assets:bank:eur bank" ] ||
	fail "the new line: $(q "SELECT * FROM statement_lines WHERE entry_ref = 'BNK-UPGRADE-1'")"
[ "$(q "SELECT count(*) FROM statement_lines")" -eq $((lines + 1)) ] || fail "line count after the overlap"

# Append-only, through the view and underneath it.
for sql in "UPDATE statement_lines SET amount = x'00'" "DELETE FROM statement_lines" \
	"UPDATE staged_lines SET scope_id = 2" "DELETE FROM staged_lines" \
	"UPDATE line_scopes SET account = 'x'" "DELETE FROM line_scopes"; do
	q "$sql" 2>sqlerr && fail "allowed: $sql"
	grep -q "append-only" sqlerr || fail "$sql refused without naming append-only: $(cat sqlerr)"
done
[ "$(q "SELECT count(*) FROM statement_lines")" -eq $((lines + 1)) ] || fail "lines changed by refused statements"
echo "ok: $T"
