#!/bin/sh
# reconcile.sh - the four passes of `clearbook reconcile`, fees within and
# beyond the contract's tolerance, breaks, the manual match trail (match,
# unmatch, with required reasons, append-only) and idempotent re-runs.
set -eu
T=reconcile
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:icbc:cny,asset,CNY,0
assets:clearing:card,asset,CNY,0
expense:fees:card,expense,CNY,0
income:sales,income,CNY,0
EOF2
expect_exit 0 account import acc.csv
sale() { # ID AMOUNT [META]
	printf '{"id":"%s","date":"2026-11-24","postings":[{"account":"assets:clearing:card","amount":"%s"},{"account":"income:sales","amount":"-%s"}],"meta":{%s}}\n' \
		"$1" "$2" "$2" "${3:-}"
}
{
	sale ref-1 100.00 '"order_id":"ORD-1"'   # by reference, fee 1.80 exact
	sale ref-2 200.00 '"order_id":"ORD-2"'   # by reference, fee 3.61: within 0.01
	sale amt-1 50.00 '"counterparty":"ACME"' # by amount and counterparty
	sale amt-2 50.00 '"counterparty":"BETA"' # same amount, other counterparty
	sale sub-1 30.00                          # one-to-many by subset
	sale sub-2 20.00
	sale bat-1 11.00 '"batch_id":"B-77"'      # one-to-many by batch id
	sale bat-2 22.00 '"batch_id":"B-77"'
	sale part 80.00 '"order_id":"ORD-5"'      # many-to-one: two partial credits
	sale fee-x 300.00 '"order_id":"ORD-9"'    # the fee is beyond the contract
	sale open-1 7.00                          # never settled
} >sales.jsonl
expect_exit 0 post sales.jsonl
cat >card.csv <<'EOF2'
Date,Description,Amount,Currency,Reference,Counterparty,End To End ID
2026-11-24,capture,98.20,CNY,C1,,ORD-1
2026-11-24,capture,196.39,CNY,C2,,ORD-2
2026-11-24,capture,50.00,CNY,C3,BETA,
2026-11-24,capture,50.00,CNY,C4,ACME,
2026-11-24,two captures,50.00,CNY,C5,,
2026-11-24,batch,33.00,CNY,C6,,B-77
2026-11-24,part 1,30.00,CNY,C7,,ORD-5
2026-11-24,part 2,50.00,CNY,C8,,ORD-5
2026-11-24,capture,280.00,CNY,C9,,ORD-9
2026-11-24,no idea,123.00,CNY,C10,,
EOF2
expect_exit 0 import --profile bank-csv --channel card --account assets:bank:icbc:cny card.csv
cat >night.ini <<'EOF2'
[channel card]
fee_account = expense:fees:card
fee_bps = 180
tolerance = 0.01
window_days = 2
settle_days = 1
EOF2

expect_exit 64 reconcile --channel card
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
out_has "card: 10 line(s), 11 open item(s); 7 match(es): reference 2, amount 2, one-to-many 2, many-to-one 1; breaks: 2 line(s), 1 item(s)" "reconcile summary"
expect_exit 0 match list --format csv
tr -d '\r' <out | python3 -c 'import csv,sys
for r in csv.reader(sys.stdin): print(r[2], r[4], r[5], sep="|")' >matches.txt
cat >want.txt <<'EOF2'
rule|lines|transactions
reference|1|ref-1
reference|2|ref-2
amount|3|amt-2
amount|4|amt-1
one-to-many|5|sub-1,sub-2
one-to-many|6|bat-1,bat-2
many-to-one|7,8|part
EOF2
diff want.txt matches.txt >/dev/null || fail "matches differ:
$(diff want.txt matches.txt)"

# The settlements: bank cash against the clearing account, the fee to the
# fee account (1.80 + 3.61, within 0.01 of the contract 3.60).
balances
expect_bal assets:clearing:card CNY "307.00 0.00 307.00"
expect_bal expense:fees:card CNY "5.41 0.00 5.41"
expect_bal assets:bank:icbc:cny CNY "557.59 0.00 557.59"
expect_exit 0 journal
out_has "settle:card:L1" "settlement id of line 1"
verify_ok 18

# Breaks: the fee beyond the contract names the item and both fees; the
# unknown line and the unsettled item name their nearest candidates.
expect_exit 0 breaks list --date 2026-11-25 --format csv
tr -d '\r' <out >breaks.csv
grep -q '^[0-9]*,2026-11-25,card,fee,9,fee-x,280.00,CNY,1,open,references fee-x of 300.00 CNY but the difference 20.00 differs from the contract fee 5.40' breaks.csv ||
	fail "fee break: $(cat breaks.csv)"
grep -q ',card,unknown,10,,123.00,CNY,1,open,"no open item' breaks.csv || fail "unknown break: $(cat breaks.csv)"
grep -q ',card,unsettled,,open-1,7.00,CNY,1,open,".*line 10 123.00' breaks.csv ||
	fail "unsettled break: $(cat breaks.csv)"
[ "$(grep -c ',card,' breaks.csv)" -eq 3 ] || fail "expected 3 breaks: $(cat breaks.csv)"

# A re-run changes nothing: no posting, no new break.
snap before
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
out_has "0 match(es)" "re-run"
unchanged before "a re-run"
expect_exit 0 breaks list --date 2026-11-25 --format csv
[ "$(tr -d '\r' <out | grep -c ',card,')" -eq 3 ] || fail "re-run added breaks: $(cat out)"

# By hand: a reason is required; the match settles the difference to the
# fee account and resolves both breaks.
expect_exit 64 match --channel card --lines 10 --items open-1
expect_exit 65 match --channel card --lines 1 --items open-1 --reason "already matched line" --config night.ini
err_has "statement line 1 is already matched" "matching a matched line"
USER=auditor expect_exit 0 match --channel card --lines 10 --items open-1 --reason "customer overpaid; refund follows" --config night.ini
out_has "settled by hand" "manual match"
expect_exit 0 match list --format csv
tr -d '\r' <out | grep -q ',card,manual,settle:card:L10,10,open-1,auditor,customer overpaid; refund follows,' ||
	fail "manual match trail: $(cat out)"
expect_exit 0 breaks list --date 2026-11-25 --format csv
tr -d '\r' <out | grep -q ',card,unknown,10,.*,resolved,' || fail "break not resolved: $(cat out)"

# Undo a match: the settlement is reversed, the lines are open again, and a
# new run matches them again under a new settlement id.
expect_exit 64 unmatch 7
expect_exit 66 unmatch 99 --reason "no such match"
expect_exit 0 unmatch 7 --reason "partial credits belong to another order"
expect_exit 65 unmatch 7 --reason "twice"
err_has "already undone" "unmatch twice"
expect_exit 0 journal
out_has "settle:card:L7:reversal" "reversal of the undone settlement"
expect_exit 0 reconcile --channel card --date 2026-11-25 --config night.ini
out_has "many-to-one 1" "re-match after unmatch"
expect_exit 0 journal
out_has "settle:card:L7.2" "new settlement id after unmatch"
verify_ok 21
python3 "$ROOT/tests/clearcheck.py" clearbook.db >check.out 2>check.err ||
	fail "clearcheck: $(cat check.err)"
grep -q "^ok: 8 matches" check.out || fail "clearcheck: $(cat check.out)"

# The trail is append-only in the database too.
# clearing_matches is a view over clearing_match_rows and _sets: SQLite
# refuses to change a view; each table under it refuses by its trigger.
sqlite3 clearbook.db "UPDATE clearing_matches SET reason = 'x'" 2>err && fail "UPDATE of clearing_matches allowed"
sqlite3 clearbook.db "UPDATE clearing_match_sets SET reason = 'x'" 2>err && fail "UPDATE of clearing_match_sets allowed"
grep -q "append-only" err || fail "no append-only refusal: $(cat err)"
sqlite3 clearbook.db "UPDATE clearing_match_rows SET rule = 'x'" 2>err && fail "UPDATE of clearing_match_rows allowed"
grep -q "append-only" err || fail "no append-only refusal: $(cat err)"
for t in clearing_match_rows clearing_match_line_pairs clearing_match_item_pairs; do
	sqlite3 clearbook.db "DELETE FROM $t" 2>err && fail "DELETE of $t allowed"
	grep -q "append-only" err || fail "no append-only refusal from $t: $(cat err)"
done
sqlite3 clearbook.db "DELETE FROM clearing_unmatches" 2>err && fail "DELETE of clearing_unmatches allowed"
sqlite3 clearbook.db "DELETE FROM clearing_breaks" 2>err && fail "DELETE of clearing_breaks allowed"
exit 0
