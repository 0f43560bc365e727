#!/bin/sh
# idempotency.sh - the transaction id is the idempotency key: the same id
# with the same content again is a replay (exit 0, no new transaction), the
# same id with other content is a conflict (exit 65, nothing posted).
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=idempotency
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:cny,asset,CNY,0
liabilities:wallets:c1,liability,CNY,1
liabilities:merchants:m1:payable,liability,CNY,0
liabilities:wallets:c2,liability,CNY,0
EOF2
expect_exit 0 account import acc.csv

# ---------------------------------------------------------------------------
# 1. A file posted twice: the second time every line is a replay.
cat >orders.jsonl <<'EOF2'
{"id":"top-1","date":"2026-11-24","memo":"top-up","postings":[{"account":"assets:bank:cny","amount":"100.00"},{"account":"liabilities:wallets:c1","amount":"-100.00"}]}
{"id":"ord-1","date":"2026-11-24","memo":"order 1","postings":[{"account":"liabilities:wallets:c1","amount":"12.34"},{"account":"liabilities:merchants:m1:payable","amount":"-12.34"}],"meta":{"order":"1","shop":"m1"}}
{"id":"hold-1","date":"2026-11-25","memo":"auth","postings":[{"account":"liabilities:wallets:c1","amount":"20.00"},{"account":"liabilities:merchants:m1:payable","amount":"-20.00"}],"pending":true,"timeout_s":600}
EOF2
expect_exit 0 post orders.jsonl
verify_ok 3
cp out verify.3
snap three
expect_exit 0 post orders.jsonl
unchanged three "posting the same file again"
expect_exit 0 verify
cmp -s out verify.3 || fail "a replay changed verify: $(cat out), was $(cat verify.3)"

# The same content written differently is still a replay: trailing zeros,
# another key order in the object and in meta, spacing, pending:false spelt
# out.
cat >same.jsonl <<'EOF2'
{"date":"2026-11-24","id":"ord-1","postings":[{"amount":"12.340","account":"liabilities:wallets:c1"},{"account":"liabilities:merchants:m1:payable","amount":"-12.34"}],"memo":"order 1","meta":{"shop":"m1","order":"1"},"pending":false}
{ "id" : "top-1", "date" : "2026-11-24", "memo" : "top-up", "postings" : [ {"account":"assets:bank:cny","amount":"100"}, {"account":"liabilities:wallets:c1","amount":"-100.0"} ] }
EOF2
expect_exit 0 post same.jsonl
unchanged three "replaying the same content written differently"

# ---------------------------------------------------------------------------
# 2. Same id, other content: a conflict, each line reported; the new line in
#    the same file is not posted either.
cat >conflict.jsonl <<'EOF2'
{"id":"ord-1","date":"2026-11-24","memo":"order 1","postings":[{"account":"liabilities:wallets:c1","amount":"12.35"},{"account":"liabilities:merchants:m1:payable","amount":"-12.35"}],"meta":{"order":"1","shop":"m1"}}
{"id":"ord-1","date":"2026-11-24","memo":"order one","postings":[{"account":"liabilities:wallets:c1","amount":"12.34"},{"account":"liabilities:merchants:m1:payable","amount":"-12.34"}],"meta":{"order":"1","shop":"m1"}}
{"id":"ord-1","date":"2026-11-23","memo":"order 1","postings":[{"account":"liabilities:wallets:c1","amount":"12.34"},{"account":"liabilities:merchants:m1:payable","amount":"-12.34"}],"meta":{"order":"1","shop":"m1"}}
{"id":"ord-1","date":"2026-11-24","memo":"order 1","postings":[{"account":"liabilities:wallets:c1","amount":"12.34"},{"account":"liabilities:merchants:m1:payable","amount":"-12.34"}],"meta":{"order":"2","shop":"m1"}}
{"id":"ord-1","date":"2026-11-24","memo":"order 1","postings":[{"account":"liabilities:merchants:m1:payable","amount":"-12.34"},{"account":"assets:bank:cny","amount":"12.34"}],"meta":{"order":"1","shop":"m1"}}
{"id":"top-1","date":"2026-11-24","memo":"top-up","postings":[{"account":"assets:bank:cny","amount":"100.00"},{"account":"liabilities:wallets:c1","amount":"-100.00"}],"pending":true}
{"id":"hold-1","date":"2026-11-25","memo":"auth","postings":[{"account":"liabilities:wallets:c1","amount":"20.00"},{"account":"liabilities:merchants:m1:payable","amount":"-20.00"}],"pending":true,"timeout_s":900}
{"id":"new-1","date":"2026-11-24","memo":"new","postings":[{"account":"assets:bank:cny","amount":"1.00"},{"account":"liabilities:wallets:c1","amount":"-1.00"}]}
EOF2
expect_exit 65 post conflict.jsonl
for i in 1 2 3 4 5 6 7; do
	err_has "clearbook: conflict.jsonl:$i: " "conflicting line $i"
done
err_lacks "conflict.jsonl:8:" "the new line 8"
unchanged three "a file of conflicts"
# A single conflicting line alone: 65 as well.
sed -n 1p conflict.jsonl >one-conflict.jsonl
expect_exit 65 post one-conflict.jsonl
err_has "one-conflict.jsonl:1:" "a lone conflict"
unchanged three "a lone conflict"

# ---------------------------------------------------------------------------
# 3. Inside one file: the same line twice posts once; the same id with
#    other content on a later line is a conflict.
cat >twice.jsonl <<'EOF2'
{"id":"fee-1","date":"2026-11-24","memo":"fee","postings":[{"account":"liabilities:wallets:c1","amount":"1.00"},{"account":"assets:bank:cny","amount":"-1.00"}]}
{"id":"fee-1","date":"2026-11-24","memo":"fee","postings":[{"account":"liabilities:wallets:c1","amount":"1.00"},{"account":"assets:bank:cny","amount":"-1.00"}]}
EOF2
expect_exit 0 post twice.jsonl
verify_ok 4
cat >twice-bad.jsonl <<'EOF2'
{"id":"fee-2","date":"2026-11-24","memo":"fee","postings":[{"account":"liabilities:wallets:c1","amount":"1.00"},{"account":"assets:bank:cny","amount":"-1.00"}]}
{"id":"fee-2","date":"2026-11-24","memo":"fee","postings":[{"account":"liabilities:wallets:c1","amount":"2.00"},{"account":"assets:bank:cny","amount":"-2.00"}]}
EOF2
expect_exit 65 post twice-bad.jsonl
err_has "twice-bad.jsonl:2:" "a conflict within one file"
verify_ok 4

# ---------------------------------------------------------------------------
# 4. A replay is a replay even when the transaction could not be posted
#    again today: c1 holds 100 - 12.34 - 1 = 86.66 with 20.00 held, so
#    spending 60.00 again would overdraw it.
cat >spend.jsonl <<'EOF2'
{"id":"spend-60","date":"2026-11-25","memo":"spend","postings":[{"account":"liabilities:wallets:c1","amount":"60.00"},{"account":"assets:bank:cny","amount":"-60.00"}]}
EOF2
expect_exit 0 post spend.jsonl
snap five
expect_exit 0 post spend.jsonl
unchanged five "replaying a spend the wallet could no longer afford"
# A hold replayed after it was committed does not hold again.
expect_exit 0 commit hold-1
balances
expect_bal liabilities:wallets:c1 CNY "-6.66 0.00 -6.66"
snap six
expect_exit 0 post orders.jsonl
unchanged six "replaying a committed hold"
balances
expect_bal liabilities:wallets:c1 CNY "-6.66 0.00 -6.66"
verify_ok 6

# ---------------------------------------------------------------------------
# 5. A replay stays a replay after the period of its date is closed, or an
#    account it touches is closed: nothing new is posted, so nothing is
#    posted into the closed period or to the closed account.
cat >late-a.jsonl <<'EOF2'
{"id":"oct-1","date":"2026-10-15","memo":"october","postings":[{"account":"assets:bank:cny","amount":"1.00"},{"account":"liabilities:wallets:c1","amount":"-1.00"}]}
EOF2
cat >late-b.jsonl <<'EOF2'
{"id":"c2-1","date":"2026-11-24","memo":"c2","postings":[{"account":"assets:bank:cny","amount":"2.00"},{"account":"liabilities:wallets:c2","amount":"-2.00"}]}
EOF2
cat late-a.jsonl late-b.jsonl >late.jsonl
expect_exit 0 post late.jsonl
expect_exit 0 close-period 2026-10
expect_exit 0 account close liabilities:wallets:c2
snap seven
expect_exit 0 post late-a.jsonl
expect_exit 0 post late-b.jsonl
unchanged seven "replays after close-period and account close"
verify_ok 8
# Other content under those ids is still a conflict.
sed 's/"1.00"/"1.50"/; s/"-1.00"/"-1.50"/' late-a.jsonl >late-a2.jsonl
expect_exit 65 post late-a2.jsonl
verify_ok 8

echo "$T: ok"
