#!/bin/sh
# import_batches.sh - files long enough that lines are staged several to
# one insert (runs of 16): the outcome must be the one of staging them one
# by one.  Overlapping files keep each line once, whether the duplicates
# start inside a run or not; a key repeated within one file across runs is
# kept every time (KEY#n); a batch entry's children, in the same run as
# their entry or the next, name it as their parent; a bad line in a later
# run stages nothing of the file.
set -eu
T=import_batches
. "$ROOT/tests/e2e/lib/common.sh"

q() { sqlite3 clearbook.db "$1"; }

expect_exit 0 init
expect_exit 0 account add assets:bank:eur --type asset --asset EUR
expect_exit 0 account add assets:bank:icbc:cny --type asset --asset CNY

# bank CSV rows FIRST..LAST, reference R<i>
rows() {
	echo "Date,Description,Amount,Currency,Reference,Counterparty,Counterparty Account"
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
		printf "2026-11-24,Payment %d,%d.%02d,EUR,R%05d,Customer %d,DE89370400440532%06d\n",
			i, i % 900, i % 100, i, i % 7, i }'
}

rows 1 100 > a.csv
expect_exit 0 import --profile bank-csv --account assets:bank:eur a.csv
out_has "100 line(s) staged, 0 duplicate(s)" "100 rows"

# 37..150: 64 rows seen before, starting mid-run, then 50 new ones
rows 37 150 > b.csv
expect_exit 0 import --profile bank-csv --account assets:bank:eur b.csv
out_has "50 line(s) staged, 64 duplicate(s)" "overlap starting inside a run"
[ "$(q "SELECT count(*) FROM statement_lines")" -eq 150 ] || fail "not 150 lines staged"
[ "$(q "SELECT count(DISTINCT entry_ref) FROM statement_lines")" -eq 150 ] ||
	fail "a reference staged twice or lost"
[ "$(q "SELECT min(entry_ref) || ' ' || max(entry_ref) FROM statement_lines l
	JOIN import_files f ON f.id = l.file_id WHERE f.name = 'b.csv'")" = "R00101 R00150" ] ||
	fail "b.csv staged other rows than its new ones"
[ "$(q "SELECT count(*) FROM statement_lines WHERE id <> entry_index + 1 AND file_id = 1")" -eq 0 ] ||
	fail "ids of a.csv are not its rows in order"

# the same row 40 times in one file: 40 lines (keys KEY, KEY#2 .. KEY#40);
# the same rows in another file with one new row: only that one is new
{ rows 500 500; for i in $(seq 2 40); do rows 500 500 | tail -1; done; } > c.csv
expect_exit 0 import --profile bank-csv --account assets:bank:eur c.csv
out_has "40 line(s) staged, 0 duplicate(s)" "a key repeated across runs in one file"
{ cat c.csv; rows 501 501 | tail -1; } > d.csv
expect_exit 0 import --profile bank-csv --account assets:bank:eur d.csv
out_has "1 line(s) staged, 40 duplicate(s)" "the repeats met again, the new row kept"

# a bad amount on row 70 (a later run): nothing of the file is staged
{ rows 1000 1068; echo "2026-11-24,Bad,12.3.4,EUR,R09999,X,Y"; rows 1070 1100 | tail -n +2; } > e.csv
expect_exit 65 import --profile bank-csv --account assets:bank:eur e.csv
[ "$(q "SELECT count(*) FROM statement_lines WHERE entry_ref >= 'R01000'")" -eq 0 ] ||
	fail "a refused file left lines behind"

# camt.053 with batch entries every 5th entry (2-5 children): each child
# names the batch entry of its own entry as its parent, and their number
# is the entry's children
"$ROOT/bench/gen_camt053.sh" 120 > s.xml
expect_exit 0 import --profile iso20022 --account assets:bank:icbc:cny s.xml
total=$(q "SELECT count(*) FROM statement_lines l JOIN import_files f ON f.id = l.file_id
	WHERE f.name = 's.xml'")
kids=$(q "SELECT count(*) FROM statement_lines WHERE parent_id IS NOT NULL")
good=$(q "SELECT count(*) FROM statement_lines c JOIN statement_lines p ON p.id = c.parent_id
	WHERE p.is_batch = 1 AND p.entry_index = c.entry_index AND p.file_id = c.file_id
	AND p.child_index = -1")
[ "$kids" -gt 40 ] && [ "$kids" -eq "$good" ] ||
	fail "children do not name their batch entry: $good of $kids"
[ "$(q "SELECT count(*) FROM statement_lines p WHERE is_batch = 1 AND children <>
	(SELECT count(*) FROM statement_lines c WHERE c.parent_id = p.id)")" -eq 0 ] ||
	fail "a batch entry's children are not all staged under it"
out_has "$total line(s) staged" "camt lines counted"

# the first 120 entries again, in a longer file: duplicates, their
# children skipped with them, the new entries and their children kept
"$ROOT/bench/gen_camt053.sh" 200 > t.xml
expect_exit 0 import --profile iso20022 --account assets:bank:icbc:cny t.xml
out_has "$total duplicate(s)" "the overlapping camt's entries and children met again"
[ "$(q "SELECT count(*) FROM statement_lines c JOIN statement_lines p ON p.id = c.parent_id
	WHERE p.entry_index = c.entry_index AND p.file_id = c.file_id AND p.is_batch = 1")" -eq \
	"$(q "SELECT count(*) FROM statement_lines WHERE parent_id IS NOT NULL")" ] ||
	fail "after the overlap, children do not name their batch entry"
[ "$(q "SELECT min(entry_index) FROM statement_lines l JOIN import_files f ON f.id = l.file_id
	WHERE f.name = 't.xml'")" -eq 120 ] || fail "t.xml staged entries seen before"
echo "$T: ok"
