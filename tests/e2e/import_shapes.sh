#!/bin/sh
# import_shapes.sh - lines are staged 16 to an insert naming only the columns
# some line of the run has (ledger/staging.c, "shapes"; at most four beside
# the one with every column).  A bank CSV whose optional cells are empty at
# random, so that runs need many different column sets, must stage every
# line exactly as the file says: each field its cell, NULL where the cell is
# empty, ids in file order, the same whichever insert staged it.  A second
# file then meets the first's keys in the middle of its runs.
set -eu
T=import_shapes
. "$ROOT/tests/e2e/lib/common.sh"

q() { sqlite3 clearbook.db "$1"; }
expect_exit 0 init
expect_exit 0 account add assets:bank:eur --type asset --asset EUR

# 1,000 rows; each optional cell is empty with a probability that changes
# every 100 rows, so runs of 16 need different column sets (more than
# there are shapes to prepare).
python3 - <<'PY'
import csv, random
rnd = random.Random(20261203)
cols = ["Date", "Value Date", "Amount", "Currency", "Reference", "End To End ID",
        "Description", "Counterparty", "Counterparty Account", "Type", "Status"]
with open("lines.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(cols)
    for i in range(1000):
        p = [0.0, 0.02, 0.1, 0.5, 0.9, 1.0, 0.3, 0.05, 0.7, 0.98][i // 100]
        cell = lambda v: "" if rnd.random() < p else v
        w.writerow(["2026-11-24", cell("2026-11-25"), "%d.%02d" % (i, i % 100), "EUR",
                    "REF-%05d" % i, cell("E2E-%d" % i), cell("pay %d" % i),
                    cell("Name %d" % (i % 7)), cell("DE%020d" % i), cell("TRF"),
                    cell("BOOK")])
PY
expect_exit 0 import --profile bank-csv --account assets:bank:eur lines.csv
out_has "1000 line(s) staged" "the file"

q "SELECT entry_ref, coalesce(value_date, '<null>'), coalesce(end_to_end_id, '<null>'),
	coalesce(remittance, '<null>'), coalesce(counterparty_name, '<null>'),
	coalesce(counterparty_account, '<null>'), coalesce(tx_code, '<null>'),
	coalesce(status, '<null>'), booking_date, asset, line_no, entry_index
	FROM statement_lines ORDER BY id" >staged.txt
python3 - <<'PY' || fail "a staged line differs from its row: $(head -3 diff.txt)"
import csv, sys
rows = list(csv.reader(open("lines.csv", newline="")))[1:]
got = [l.rstrip("\n").split("|") for l in open("staged.txt")]
bad = []
if len(got) != len(rows):
    bad.append("%d lines staged for %d rows" % (len(got), len(rows)))
for i, (r, g) in enumerate(zip(rows, got)):
    n = lambda v: v if v else "<null>"
    want = [r[4], n(r[1]), n(r[5]), n(r[6]), n(r[7]), n(r[8]), n(r[9]), n(r[10]),
            r[0], r[3], str(i + 2), str(i)]
    if g != want:
        bad.append("row %d: want %s got %s" % (i, want, g))
open("diff.txt", "w").write("\n".join(bad))
sys.exit(1 if bad else 0)
PY
[ "$(q "SELECT count(*) FROM statement_lines WHERE id <> entry_index + 1")" -eq 0 ] ||
	fail "ids not in file order"
# Every empty cell really is NULL, not an empty string.
[ "$(q "SELECT count(*) FROM statement_lines WHERE value_date = '' OR end_to_end_id = ''
	OR remittance = '' OR counterparty_name = '' OR tx_code = '' OR status = ''")" -eq 0 ] ||
	fail "an empty cell was staged as an empty string"
[ "$(q "SELECT count(*) FROM statement_lines WHERE value_date IS NULL")" -gt 100 ] &&
[ "$(q "SELECT count(*) FROM statement_lines WHERE value_date IS NOT NULL")" -gt 100 ] ||
	fail "the file does not mix present and empty cells"

# Every 10th row again, among new rows: the known keys fall inside runs.
python3 - <<'PY'
import csv
rows = list(csv.reader(open("lines.csv", newline="")))
with open("again.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(rows[0])
    for i, r in enumerate(rows[1:]):
        if i % 10 == 0:
            w.writerow(r)
        n = list(r)
        n[4] = "NEW-%05d" % i
        w.writerow(n)
PY
expect_exit 0 import --profile bank-csv --account assets:bank:eur again.csv
out_has "1000 line(s) staged, 100 duplicate(s) skipped" "the overlapping file"
[ "$(q "SELECT count(*) FROM statement_lines WHERE entry_ref LIKE 'NEW-%'")" -eq 1000 ] ||
	fail "new rows of the overlapping file"
[ "$(q "SELECT count(DISTINCT entry_ref) FROM statement_lines")" -eq 2000 ] ||
	fail "a key staged twice or lost"
echo "ok: $T"
