#!/bin/sh
# append_only.sh - the journal is append-only in the database itself:
# UPDATE and DELETE through the sqlite3 CLI are refused by triggers and the
# data stays as it was; when the triggers are dropped and a row is changed,
# `clearbook verify` exits 1 and names the seq.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=append_only
. "$ROOT/tests/e2e/lib/common.sh"

command -v sqlite3 >/dev/null 2>&1 || fail "the sqlite3 CLI is required"

# state DB: every row of the journal tables, as text.
state() {
	sqlite3 "$1" "SELECT seq, id, kind, ref_seq, date, booked_at, memo, meta, hex(hash) FROM transactions ORDER BY seq;
SELECT tx_seq, idx, account_id, hex(amount) FROM postings ORDER BY tx_seq, idx;"
}
# refused_sql SQL: sqlite3 refuses it, saying append-only; nothing changes.
refused_sql() {
	src=0
	sqlite3 clearbook.db "$1" >sql.out 2>sql.err || src=$?
	[ "$src" -ne 0 ] || fail "sqlite3 accepted: $1"
	grep -qi 'append-only' sql.err || fail "sqlite3 refused '$1' without mentioning append-only: $(cat sql.err)"
	state clearbook.db >state.now
	cmp -s state.before state.now || fail "'$1' was refused but the data changed:
$(diff state.before state.now)"
}
# drop_triggers DB TABLE: drops every trigger on TABLE.
drop_triggers() {
	for trg in $(sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '$2'"); do
		sqlite3 "$1" "DROP TRIGGER $trg"
	done
}
# broken DB SEQ: verify exits 1, names SEQ, and does not say ok.
broken() {
	expect_exit 1 --db "$1" verify
	cat out err >verify.all
	grep -Eq "seq $2([^0-9]|\$)" verify.all || fail "verify of $1 does not name seq $2: $(cat verify.all)"
	grep -q '^ok:' out && fail "verify of $1 says ok: $(cat out)"
	return 0
}

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:cny,asset,CNY,0
equity:capital:cny,equity,CNY,0
liabilities:wallets:c1,liability,CNY,1
liabilities:merchants:m1:payable,liability,CNY,0
EOF2
expect_exit 0 account import acc.csv
cat >tx.jsonl <<'EOF2'
{"id":"cap-1","date":"2026-11-24","memo":"capital","postings":[{"account":"assets:bank:cny","amount":"500.00"},{"account":"equity:capital:cny","amount":"-500.00"}]}
{"id":"top-1","date":"2026-11-24","memo":"top-up","postings":[{"account":"assets:bank:cny","amount":"100.00"},{"account":"liabilities:wallets:c1","amount":"-100.00"}]}
{"id":"ord-1","date":"2026-11-24","memo":"order","postings":[{"account":"liabilities:wallets:c1","amount":"12.34"},{"account":"liabilities:merchants:m1:payable","amount":"-12.34"}]}
EOF2
expect_exit 0 post tx.jsonl
verify_ok 3
cp out verify.before
head=$(sqlite3 clearbook.db "SELECT lower(hex(hash)) FROM transactions ORDER BY seq DESC LIMIT 1")
[ "$(cat out)" = "ok: 3 transactions, chain head $head" ] ||
	fail "verify does not print the stored hash of the last transaction ($head): $(cat out)"
expect_exit 0 journal
cp out journal.before
state clearbook.db >state.before
[ "$(grep -c . state.before)" -eq 9 ] || fail "expected 3 transactions and 6 postings in the database:
$(cat state.before)"

# ---------------------------------------------------------------------------
# 1. The triggers refuse every change to the journal.
refused_sql "UPDATE transactions SET memo = 'x'"
refused_sql "UPDATE transactions SET memo = 'x' WHERE seq = 2"
refused_sql "DELETE FROM transactions WHERE seq = 3"
refused_sql "DELETE FROM postings"
refused_sql "UPDATE postings SET amount = (SELECT amount FROM postings WHERE tx_seq = 1 AND idx = 0) WHERE tx_seq = 3 AND idx = 0"
refused_sql "UPDATE postings SET amount = X'80000000000000000000000000000001'"
# The ledger is untouched.
expect_exit 0 journal
cmp -s journal.before out || fail "the journal changed after refused SQL:
$(cat out)"
expect_exit 0 verify
cmp -s verify.before out || fail "verify changed after refused SQL: $(cat out)"

# ---------------------------------------------------------------------------
# 2. Tampering past the triggers is caught by verify, which names the seq.
snapshot clearbook.db memo.db
drop_triggers memo.db transactions
sqlite3 memo.db "UPDATE transactions SET memo = 'rewritten' WHERE seq = 2"
[ "$(sqlite3 memo.db "SELECT memo FROM transactions WHERE seq = 2")" = rewritten ] || fail "the memo tamper did not take"
broken memo.db 2

snapshot clearbook.db amount.db
drop_triggers amount.db postings
sqlite3 amount.db "UPDATE postings SET amount = (SELECT amount FROM postings WHERE tx_seq = 1 AND idx = 0) WHERE tx_seq = 3 AND idx = 0"
[ "$(sqlite3 amount.db "SELECT count(*) FROM postings WHERE tx_seq = 3 AND amount = (SELECT amount FROM postings WHERE tx_seq = 1 AND idx = 0)")" = 1 ] ||
	fail "the amount tamper did not take"
broken amount.db 3

snapshot clearbook.db date.db
drop_triggers date.db transactions
sqlite3 date.db "UPDATE transactions SET date = '2026-11-23' WHERE seq = 1"
broken date.db 1

# The original still verifies.
expect_exit 0 verify
cmp -s verify.before out || fail "verify of the original changed: $(cat out)"

echo "$T: ok"
