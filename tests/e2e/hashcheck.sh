#!/bin/sh
# hashcheck.sh - `clearbook verify` must agree with tests/hashcheck.py, an
# independent checker written from docs/hash-chain.md alone: same output on
# an intact ledger, and both must name the same broken seq after tampering.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=hashcheck
. "$ROOT/tests/e2e/lib/common.sh"

command -v python3 >/dev/null 2>&1 || fail "python3 is required"
command -v sqlite3 >/dev/null 2>&1 || fail "the sqlite3 CLI is required"
CHECKER="$ROOT/tests/hashcheck.py"
DOC="$ROOT/docs/hash-chain.md"
[ -f "$CHECKER" ] || fail "missing $CHECKER"
[ -f "$DOC" ] || fail "missing $DOC"

cb() { "$CLEARBOOK" "$@"; }
hc() { python3 "$CHECKER" "$@"; }

# agree DB LABEL: verify and the checker both exit 0 and print the same line.
agree() {
	rc=0; cb --db "$1" verify >"$2.verify.out" 2>"$2.verify.err" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$2.verify.err" >&2; fail "$2: clearbook verify exited $rc"; }
	sum_before=$(cksum <"$1")
	rc=0; hc "$1" >"$2.hc.out" 2>"$2.hc.err" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$2.hc.err" >&2; fail "$2: hashcheck.py exited $rc"; }
	[ "$(cksum <"$1")" = "$sum_before" ] || fail "$2: hashcheck.py modified the database"
	[ "$(wc -l <"$2.verify.out" | tr -d ' ')" = 1 ] ||
		fail "$2: verify printed other than one line: $(cat "$2.verify.out")"
	grep -Eq '^ok: [0-9]+ transactions, chain head [0-9a-f]{64}$' "$2.verify.out" ||
		fail "$2: unexpected verify output: $(cat "$2.verify.out")"
	cmp -s "$2.verify.out" "$2.hc.out" ||
		fail "$2: verify and hashcheck.py disagree:
  verify:    $(cat "$2.verify.out")
  hashcheck: $(cat "$2.hc.out")"
}

# both_broken DB LABEL SEQ: both exit 1 and both name 'broken at seq SEQ:'.
both_broken() {
	rc=0; cb --db "$1" verify >"$2.verify.out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "$2: clearbook verify exited $rc, want 1: $(cat "$2.verify.out")"
	grep -q "broken at seq $3:" "$2.verify.out" ||
		fail "$2: clearbook verify does not name seq $3: $(cat "$2.verify.out")"
	rc=0; hc "$1" >"$2.hc.out" 2>"$2.hc.err" || rc=$?
	[ "$rc" -eq 1 ] || fail "$2: hashcheck.py exited $rc, want 1: $(cat "$2.hc.out" "$2.hc.err")"
	[ ! -s "$2.hc.out" ] || fail "$2: hashcheck.py printed to stdout on failure: $(cat "$2.hc.out")"
	grep -q "^broken at seq $3: " "$2.hc.err" ||
		fail "$2: hashcheck.py does not name seq $3: $(cat "$2.hc.err")"
}

# ---------------------------------------------------------------------------
# 1. The worked example of docs/hash-chain.md, exactly.
cb --db ex.db init >/dev/null
cb --db ex.db account add assets:bank:icbc:cny --type asset --asset CNY >/dev/null
cb --db ex.db account add liabilities:wallets:c1 --type liability --asset CNY >/dev/null
cat >ex.jsonl <<'EOF'
{"id":"top-1","date":"2026-11-24","memo":"top-up","postings":[{"account":"assets:bank:icbc:cny","amount":"100.00"},{"account":"liabilities:wallets:c1","amount":"-100.00"}],"meta":{}}
EOF
cb --db ex.db post ex.jsonl >/dev/null
agree ex.db example
grep -q '^ok: 1 transactions, ' example.hc.out || fail "example: want 1 transaction: $(cat example.hc.out)"

# The document's encoding string must hash (after 32 zero bytes) to the head.
n=$(grep -c '^15:clearbook-tx-v1,' "$DOC" || true)
[ "$n" = 1 ] || fail "expected exactly one example encoding line in $DOC, found $n"
grep '^15:clearbook-tx-v1,' "$DOC" | tr -d '\n' >example.enc
doc_hash=$(python3 -c 'import sys, hashlib
sys.stdout.write(hashlib.sha256(bytes(32) + sys.stdin.buffer.read()).hexdigest())' <example.enc)
ex_head=$(sed 's/.*chain head //' example.hc.out)
[ "$doc_hash" = "$ex_head" ] ||
	fail "the document's example encoding hashes to $doc_hash, but the example ledger's head is $ex_head"
stored=$(sqlite3 ex.db "SELECT lower(hex(hash)) FROM transactions WHERE seq = 1")
[ "$stored" = "$doc_hash" ] || fail "example: stored hash $stored != document's $doc_hash"

# ---------------------------------------------------------------------------
# 2. A ledger exercising every kind of transaction.
cb --db l.db init >/dev/null
cb --db l.db account add assets:bank:icbc:cny --type asset --asset CNY >/dev/null
cb --db l.db account add liabilities:wallets:c1 --type liability --asset CNY >/dev/null
cb --db l.db asset add USDT --scale 6 >/dev/null
cb --db l.db account add assets:chain:usdt --type asset --asset USDT >/dev/null
cb --db l.db account add liabilities:wallets:c1:usdt --type liability --asset USDT >/dev/null

# seq 1..3 posted, 4..7 pending holds.
cat >tx.jsonl <<'EOF'
{"id":"top-1","date":"2026-11-24","memo":"top-up","postings":[{"account":"assets:bank:icbc:cny","amount":"100.00"},{"account":"liabilities:wallets:c1","amount":"-100.00"}]}
{"id":"ord-1","date":"2026-11-24","memo":"订单 «café», \"quoted\"\nsecond line","postings":[{"account":"liabilities:wallets:c1","amount":"12.34"},{"account":"assets:bank:icbc:cny","amount":"-12.34"}],"meta":{"k":"v","n":3,"nested":{"a":[1,2],"s":"é,\""}}}
{"id":"usdt-1","date":"2026-11-24","memo":"","postings":[{"account":"assets:chain:usdt","amount":"1.000001"},{"account":"liabilities:wallets:c1:usdt","amount":"-1.000001"}],"meta":{"chain":"tron"}}
{"id":"hold-1","date":"2026-11-25","memo":"hold to commit in part","postings":[{"account":"liabilities:wallets:c1","amount":"20.00"},{"account":"assets:bank:icbc:cny","amount":"-20.00"}],"pending":true,"timeout_s":600}
{"id":"hold-2","date":"2026-11-25","memo":"hold to void","postings":[{"account":"liabilities:wallets:c1:usdt","amount":"0.5"},{"account":"assets:chain:usdt","amount":"-0.5"}],"pending":true,"timeout_s":600,"meta":{"reason":"withdrawal"}}
{"id":"hold-3","date":"2026-11-25","memo":"hold to expire","postings":[{"account":"liabilities:wallets:c1","amount":"1.00"},{"account":"assets:bank:icbc:cny","amount":"-1.00"}],"pending":true,"timeout_s":600}
{"id":"hold-4","date":"2026-11-25","memo":"hold left open","postings":[{"account":"liabilities:wallets:c1","amount":"2.50"},{"account":"assets:bank:icbc:cny","amount":"-2.50"}],"pending":true,"timeout_s":86400}
EOF
cb --db l.db post tx.jsonl >/dev/null
cb --db l.db commit hold-1 --amount 7.50 >/dev/null           # seq 8
cb --db l.db void hold-2 >/dev/null                           # seq 9
cb --db l.db reverse ord-1 --reason 'refund, "dup" – 重复' >/dev/null  # seq 10
cb --db l.db --now 2026-11-25T03:00:00Z expire >/dev/null     # seq 11 (hold-3)

# Make sure the ledger holds what this test claims to exercise.
kinds=$(sqlite3 l.db "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM transactions ORDER BY seq)")
[ "$kinds" = "posted posted posted pending pending pending pending commit void reverse expire" ] ||
	fail "unexpected transaction kinds: $kinds"
[ "$(sqlite3 l.db "SELECT instr(memo, char(10)) > 0 AND instr(memo, '\"') > 0 AND instr(memo, ',') > 0 AND length(CAST(memo AS BLOB)) > length(memo) FROM transactions WHERE seq = 2")" = 1 ] ||
	fail "seq 2's memo lacks the newline, quote, comma or non-ASCII text it was posted with"
[ "$(sqlite3 l.db "SELECT count(*) FROM balances WHERE hex(pending_dr) <> '80000000000000000000000000000000'")" -ge 1 ] ||
	fail "no account has a pending debit (hold-4 should be open)"
[ "$(sqlite3 l.db "SELECT count(*) FROM postings WHERE tx_seq = 8")" = 2 ] ||
	fail "the partial commit (seq 8) should have two postings"

agree l.db ledger
grep -q '^ok: 11 transactions, ' ledger.hc.out || fail "ledger: want 11 transactions: $(cat ledger.hc.out)"
[ "$(sqlite3 l.db "SELECT lower(hex(hash)) FROM transactions WHERE seq = 11")" = "$(sed 's/.*chain head //' ledger.hc.out)" ] ||
	fail "ledger: printed head is not the stored hash of seq 11"

# A closed period records the head; both must still agree.
snapshot l.db closed.db
cb --db closed.db close-period 2026-10 >/dev/null
agree closed.db closed

# ---------------------------------------------------------------------------
# 3. Tampering.

# 3a. One posting's amount in seq 2.
snapshot l.db t1.db
sqlite3 t1.db "DROP TRIGGER posting_no_update;
UPDATE postings SET amount = X'80000000000000000000000000000001' WHERE tx_seq = 2 AND idx = 0;"
[ "$(sqlite3 t1.db "SELECT hex(amount) FROM postings WHERE tx_seq = 2 AND idx = 0")" = 80000000000000000000000000000001 ] ||
	fail "tamper 1 did not take"
both_broken t1.db amount 2

# 3b. The memo of seq 3.
snapshot l.db t2.db
sqlite3 t2.db "DROP TRIGGER tx_no_update;
UPDATE transactions SET memo = 'rewritten' WHERE seq = 3;"
[ "$(sqlite3 t2.db "SELECT memo FROM transactions WHERE seq = 3")" = rewritten ] ||
	fail "tamper 2 did not take"
both_broken t2.db memo 3

# 3c. A closed period's recorded head (the chain itself is intact).
snapshot closed.db t3.db
sqlite3 t3.db "DROP TRIGGER close_no_update;
UPDATE period_closes SET head_hash = zeroblob(32) WHERE period = '2026-10';"
both_broken t3.db period 11

# 3d. A stored balance that no longer matches its postings: both exit 1.
snapshot l.db t4.db
sqlite3 t4.db "UPDATE balances SET posted = X'80000000000000000000000000000000'
WHERE account_id = (SELECT id FROM accounts WHERE code = 'assets:chain:usdt');"
rc=0; cb --db t4.db verify >balance.verify.out 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "balance: clearbook verify exited $rc, want 1: $(cat balance.verify.out)"
rc=0; hc t4.db >balance.hc.out 2>balance.hc.err || rc=$?
[ "$rc" -eq 1 ] || fail "balance: hashcheck.py exited $rc, want 1"
grep -q 'assets:chain:usdt' balance.hc.err || fail "balance: hashcheck.py does not name the account: $(cat balance.hc.err)"

# 3e. A pending hold's balance (open hold-4 counts; ended holds do not).
snapshot l.db t5.db
sqlite3 t5.db "UPDATE balances SET pending_cr = X'80000000000000000000000000000000'
WHERE account_id = (SELECT id FROM accounts WHERE code = 'assets:bank:icbc:cny');"
rc=0; cb --db t5.db verify >pending.verify.out 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "pending: clearbook verify exited $rc, want 1: $(cat pending.verify.out)"
rc=0; hc t5.db >pending.hc.out 2>pending.hc.err || rc=$?
[ "$rc" -eq 1 ] || fail "pending: hashcheck.py exited $rc, want 1"

# 3f. A missing transaction (a gap in seq): remove seq 5 and its postings;
#     both must fail, and the checker must name seq 5.
snapshot l.db t6.db
sqlite3 t6.db "DROP TRIGGER tx_no_delete; DROP TRIGGER posting_no_delete;
DELETE FROM postings WHERE tx_seq = 5; DELETE FROM transactions WHERE seq = 5;"
rc=0; cb --db t6.db verify >gap.verify.out 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "gap: clearbook verify exited $rc, want 1: $(cat gap.verify.out)"
rc=0; hc t6.db >gap.hc.out 2>gap.hc.err || rc=$?
[ "$rc" -eq 1 ] || fail "gap: hashcheck.py exited $rc, want 1"
grep -q '^broken at seq 5: ' gap.hc.err || fail "gap: hashcheck.py does not name seq 5: $(cat gap.hc.err)"

# The untouched ledger still verifies.
agree l.db ledger-again
cmp -s ledger.hc.out ledger-again.hc.out || fail "the chain head of l.db changed"

echo "$T: ok"
