#!/bin/sh
# reconcile_threads.sh - a reconciliation on second threads (lines read
# through a handle of their own, settlement and match rows written by a
# writer thread while matching goes on) leaves the ledger byte for byte as
# one thread does (CLEARBOOK_THREADS=1): the same journal and chain head, the
# same match, line, item and break rows, the same summary.
#
# The world is large enough for the writer's ring of groups to wrap a
# dozen times and for the match rows to be handed over in several buffers
# (3,000 payments), and mixes what the thread meets on the way: matches by
# reference (some short by the contract's fee, posted to the fee account),
# by amount and counterparty, batches, late settlements (a break recorded
# from the matching thread while rows are being written), and breaks.
set -eu
T=reconcile_threads
. "$ROOT/tests/e2e/lib/common.sh"

n=3000
expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:cny,asset,CNY,0
assets:clearing:card,asset,CNY,0
income:sales,income,CNY,0
expense:fees:card,expense,CNY,0
EOF2
expect_exit 0 account import acc.csv
awk -v n="$n" 'BEGIN {
	x = 4242
	print "Date,Description,Amount,Currency,Reference,Counterparty,End To End ID" > "card.csv"
	for (i = 1; i <= n; i++) {
		x = (x * 16807) % 2147483647
		c = 1000 + x % 99000; k = i % 100; meta = ""; d = "2026-11-24"
		if (k >= 90 && k < 95) meta = sprintf("\"counterparty\":\"CP%d\"", i)
		if (k >= 95 && k < 98) meta = sprintf("\"batch_id\":\"BATCH-%d\"", int(i / 100))
		if (k == 7) d = "2026-11-21"
		printf "{\"id\":\"P%05d\",\"date\":\"%s\",\"postings\":[{\"account\":\"assets:clearing:card\",\"amount\":\"%d.%02d\"},{\"account\":\"income:sales\",\"amount\":\"-%d.%02d\"}],\"meta\":{%s}}\n", \
			i, d, int(c / 100), c % 100, int(c / 100), c % 100, meta > "sales.jsonl"
		net = c
		if (k % 10 == 3) net = c - int((c * 180 + 5000) / 10000)
		if (k < 90)
			printf "2026-11-24,capture,%d.%02d,CNY,L%05d,,P%05d\n", int(net / 100), net % 100, i, i > "card.csv"
		else if (k < 95)
			printf "2026-11-24,capture,%d.%02d,CNY,L%05d,CP%d,\n", int(c / 100), c % 100, i, i > "card.csv"
		else if (k < 98) {
			bsum += c
			if (k == 97) {
				printf "2026-11-24,batch,%d.%02d,CNY,L%05d,,BATCH-%d\n", int(bsum / 100), bsum % 100, i, int(i / 100) > "card.csv"
				bsum = 0
			}
		} else
			printf "2026-11-24,unknown,%d.%02d,CNY,L%05d,,NOPE-%d\n", int((c + 7) / 100), (c + 7) % 100, i, i > "card.csv"
	}
}'
expect_exit 0 post sales.jsonl
expect_exit 0 import --profile bank-csv --channel card --account assets:bank:cny card.csv
cat >night.ini <<'EOF2'
[channel card]
fee_account = expense:fees:card
fee_bps = 180
tolerance = 0.01
window_days = 1
settle_days = 1
EOF2
cp clearbook.db world.db

# The rows of every table a reconciliation writes, in a stable order.
rows() {
	sqlite3 "$1" "SELECT seq, id, kind, date, booked_at, memo, meta, hex(content_hash), hex(hash) FROM transactions ORDER BY seq;
		SELECT tx_seq, idx, account_id, hex(amount) FROM postings ORDER BY tx_seq, idx;
		SELECT * FROM clearing_matches ORDER BY id;
		SELECT * FROM clearing_match_lines ORDER BY match_id, line_id;
		SELECT * FROM clearing_match_items ORDER BY match_id, item_seq;
		SELECT * FROM clearing_match_sets ORDER BY id;
		SELECT * FROM clearing_match_rows ORDER BY id;
		SELECT * FROM clearing_match_line_pairs ORDER BY match_id, line_id;
		SELECT * FROM clearing_match_item_pairs ORDER BY match_id, item_seq;
		SELECT * FROM clearing_breaks ORDER BY 1;
		SELECT account_id, hex(posted), hex(pending_dr), hex(pending_cr) FROM balances ORDER BY 1;"
}

CLEARBOOK_THREADS=1
export CLEARBOOK_THREADS
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
unset CLEARBOOK_THREADS
cp out one.out
expect_exit 0 verify
grep -q '^ok: ' out || fail "verify: $(cat out)"
cp out one.verify
rows clearbook.db >one.rows

cp world.db clearbook.db
rm -f clearbook.db-wal clearbook.db-shm
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
cmp -s out one.out || fail "summaries differ: $(cat one.out) / $(cat out)"
# What the world must have exercised, or the comparison proves little.
for want in "reference" "amount" "one-to-many"; do
	grep -q "$want [1-9]" out || fail "no match by $want in: $(cat out)"
done
grep -q "breaks: [1-9][0-9]* line(s)" out || fail "no line breaks in: $(cat out)"
expect_exit 0 verify
cmp -s out one.verify || fail "chain heads differ: $(cat one.verify) / $(cat out)"
rows clearbook.db >two.rows
cmp -s one.rows two.rows || fail "rows differ: $(diff one.rows two.rows | head -5)"
fees=$(sqlite3 clearbook.db "SELECT count(*) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.code = 'expense:fees:card'")
[ "$fees" -gt 0 ] || fail "no fee was posted"
late=$(sqlite3 clearbook.db "SELECT count(*) FROM clearing_breaks WHERE reason LIKE '%day(s) after%'")
[ "$late" -gt 0 ] || fail "no late settlement was recorded"

# Run again on threads: nothing changes.
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
out_has "0 match(es)" "re-run"
rows clearbook.db >three.rows
cmp -s two.rows three.rows || fail "a re-run changed rows"
echo "ok: $T"
