#!/bin/sh
# reconcile_grouped.sh - settlements reach the ledger in groups (their
# journal rows and the match rows written many to an INSERT before each
# commit): a night of 40 matches gives the ids, match rows and chain that
# one-by-one posting gives; and a transaction posted by hand under a
# settlement's id still makes that match a settlement-refused break (the
# run then posts one by one, since a group would learn of the clash late).
set -eu
T=reconcile_grouped
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:cny,asset,CNY,0
assets:clearing:card,asset,CNY,0
income:sales,income,CNY,0
EOF2
expect_exit 0 account import acc.csv
i=1
: >sales.jsonl
printf 'Date,Description,Amount,Currency,Reference,Counterparty,End To End ID\n' >card.csv
while [ "$i" -le 40 ]; do
	printf '{"id":"P%02d","date":"2026-11-24","postings":[{"account":"assets:clearing:card","amount":"%d.00"},{"account":"income:sales","amount":"-%d.00"}]}\n' \
		"$i" $((i + 10)) $((i + 10)) >>sales.jsonl
	printf '2026-11-24,capture,%d.00,CNY,L%02d,,P%02d\n' $((i + 10)) "$i" "$i" >>card.csv
	i=$((i + 1))
done
expect_exit 0 post sales.jsonl
expect_exit 0 import --profile bank-csv --channel card --account assets:bank:cny card.csv
printf '[channel card]\nwindow_days = 1\nsettle_days = 1\n' >night.ini
cp clearbook.db before.db

# A hand-posted transaction under the id the 17th line's settlement will
# take (in the second group of sixteen): grouped posting would learn of it
# only when that group is written, so the run posts one by one and the
# match becomes a settlement-refused break, as it always did.
printf '{"id":"settle:card:L17","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"1.00"},{"account":"income:sales","amount":"-1.00"}]}\n' >clash.jsonl
expect_exit 0 post clash.jsonl
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
out_has "39 match(es): reference 39" "the other 39 match"
out_has "1 other" "the refused settlement's break"
expect_exit 0 breaks list --date 2026-11-25 --format csv
tr -d '\r' <out | grep 'settlement-refused' | grep -q 'settle:card:L17' ||
	fail "no settlement-refused break naming settle:card:L17: $(cat out)"
verify_ok 80

# Without the clash, all 40 match, each by reference, with ids 1..40 in
# line order and one line and one item row each.
cp before.db clearbook.db
rm -f clearbook.db-wal clearbook.db-shm
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
out_has "40 match(es): reference 40" "forty matches"
got=$(sqlite3 clearbook.db "SELECT group_concat(id || ':' || settlement_id || ':' || lines || ':' || items, ' ') FROM (SELECT * FROM clearing_matches ORDER BY id)")
want=$(i=1; while [ "$i" -le 40 ]; do printf '%d:settle:card:L%d:%d:P%02d ' "$i" "$i" "$i" "$i"; i=$((i + 1)); done)
[ "$got " = "$want" ] || fail "match rows: got '$got', want '$want'"
n=$(sqlite3 clearbook.db "SELECT count(*) FROM clearing_match_lines l JOIN clearing_match_items i USING (match_id)")
[ "$n" = 40 ] || fail "expected 40 line/item row pairs, got $n"
verify_ok 80
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
out_has "0 match(es)" "re-run"
verify_ok 80
echo "ok: $T"
