#!/bin/sh
# holds.sh - two-phase transactions: "pending":true holds amounts (they
# reduce `available`), commit in full or in part (the remainder released),
# void, expire by timeout; each hold ends exactly once.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=holds
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:cny,asset,CNY,0
liabilities:wallets:c1,liability,CNY,1
liabilities:wallets:c2,liability,CNY,1
liabilities:merchants:m1:payable,liability,CNY,0
EOF2
expect_exit 0 account import acc.csv

# Booked at 02:00:00Z, so a 600 s timeout runs out at 02:10:00Z.
cat >holds.jsonl <<'EOF2'
{"id":"top-c1","date":"2026-11-24","memo":"top-up","postings":[{"account":"assets:bank:cny","amount":"100.00"},{"account":"liabilities:wallets:c1","amount":"-100.00"}]}
{"id":"top-c2","date":"2026-11-24","memo":"top-up","postings":[{"account":"assets:bank:cny","amount":"50.00"},{"account":"liabilities:wallets:c2","amount":"-50.00"}]}
{"id":"h-part","date":"2026-11-25","memo":"to commit in part","postings":[{"account":"liabilities:wallets:c1","amount":"30.00"},{"account":"liabilities:merchants:m1:payable","amount":"-30.00"}],"pending":true,"timeout_s":600}
{"id":"h-full","date":"2026-11-25","memo":"to commit in full","postings":[{"account":"liabilities:wallets:c1","amount":"10.00"},{"account":"liabilities:merchants:m1:payable","amount":"-10.00"}],"pending":true,"timeout_s":600}
{"id":"h-void","date":"2026-11-25","memo":"to void","postings":[{"account":"liabilities:wallets:c1","amount":"5.00"},{"account":"liabilities:merchants:m1:payable","amount":"-5.00"}],"pending":true,"timeout_s":600}
{"id":"h-exp","date":"2026-11-25","memo":"to expire","postings":[{"account":"liabilities:wallets:c2","amount":"20.00"},{"account":"liabilities:merchants:m1:payable","amount":"-20.00"}],"pending":true,"timeout_s":600}
{"id":"h-open","date":"2026-11-25","memo":"no timeout","postings":[{"account":"liabilities:wallets:c2","amount":"4.00"},{"account":"liabilities:merchants:m1:payable","amount":"-4.00"}],"pending":true}
EOF2
expect_exit 0 post holds.jsonl

# ---------------------------------------------------------------------------
# 1. Holds leave `posted` alone and reduce `available`.
balances
expect_bal liabilities:wallets:c1 CNY "-100.00 45.00 -55.00"
expect_bal liabilities:wallets:c2 CNY "-50.00 24.00 -26.00"
expect_bal liabilities:merchants:m1:payable CNY "0.00 -69.00 0.00"
expect_bal assets:bank:cny CNY "150.00 0.00 150.00"
# No overdraft counts the holds: c1 may spend or hold 55.00 more, not 55.01.
cat >over.jsonl <<'EOF2'
{"id":"spend-1","date":"2026-11-25","postings":[{"account":"liabilities:wallets:c1","amount":"55.01"},{"account":"assets:bank:cny","amount":"-55.01"}]}
{"id":"h-over","date":"2026-11-25","postings":[{"account":"liabilities:wallets:c1","amount":"55.01"},{"account":"liabilities:merchants:m1:payable","amount":"-55.01"}],"pending":true,"timeout_s":600}
EOF2
expect_exit 65 post over.jsonl
err_has "over.jsonl:1:" "spending into held money"
err_has "over.jsonl:2:" "holding more than is available"
verify_ok 7

# ---------------------------------------------------------------------------
# 2. Partial commit: 12.50 of 30.00 posted, 17.50 released; not more than
#    held, not twice.
expect_exit 65 commit h-part --amount 30.01
expect_exit_in "64 65" commit h-part --amount 0
expect_exit 0 commit h-part --amount 12.50
balances
expect_bal liabilities:wallets:c1 CNY "-87.50 15.00 -72.50"
expect_bal liabilities:merchants:m1:payable CNY "-12.50 -39.00 -12.50"
expect_exit 65 commit h-part
expect_exit 65 void h-part

# Full commit, once.
expect_exit 0 commit h-full
expect_exit 65 commit h-full

# Void, once; a voided hold cannot be committed.
expect_exit 0 void h-void
expect_exit 65 void h-void
expect_exit 65 commit h-void
balances
expect_bal liabilities:wallets:c1 CNY "-77.50 0.00 -77.50"
expect_bal liabilities:merchants:m1:payable CNY "-22.50 -24.00 -22.50"
verify_ok 10

# ---------------------------------------------------------------------------
# 3. Expiry: nothing has run out at 02:05; at 03:00 h-exp has, h-open (no
#    timeout) has not. An expired hold can be neither committed nor voided.
expect_exit 0 --now 2026-11-25T02:05:00Z expire
verify_ok 10
CLEARBOOK_NOW=2026-11-25T03:00:00Z
expect_exit 0 expire
balances
expect_bal liabilities:wallets:c2 CNY "-50.00 4.00 -46.00"
expect_bal liabilities:merchants:m1:payable CNY "-22.50 -4.00 -22.50"
expect_exit 65 commit h-exp
expect_exit 65 void h-exp
expect_exit 0 expire
verify_ok 11
# shellcheck disable=SC2034 # exported by lib/common.sh
CLEARBOOK_NOW=2026-11-25T02:00:00Z

# Not holds at all.
expect_exit 65 commit top-c1
expect_exit_in "65 66" commit no-such-hold

# ---------------------------------------------------------------------------
# 4. The journal tells the story, and the ledger verifies.
expect_exit 0 journal --format csv
tr -d '\r' <out >j.csv
awk -F, 'NR > 1 && !seen[$1]++ { printf "%s %s %s|", $2, $3, $4 }' j.csv >kinds
want="top-c1 posted |top-c2 posted |h-part pending |h-full pending |h-void pending |h-exp pending |h-open pending |h-part:commit commit h-part|h-full:commit commit h-full|h-void:void void h-void|h-exp:expire expire h-exp|"
[ "$(cat kinds)" = "$want" ] || fail "journal: unexpected transactions:
got:  $(cat kinds)
want: $want"
grep -q '^8,h-part:commit,commit,h-part,.*,liabilities:wallets:c1,CNY,12\.50$' j.csv ||
	fail "the partial commit is not journaled as 12.50: $(cat j.csv)"
balances
expect_bal liabilities:wallets:c1 CNY "-77.50 0.00 -77.50"
expect_bal liabilities:wallets:c2 CNY "-50.00 4.00 -46.00"
expect_bal assets:bank:cny CNY "150.00 0.00 150.00"
verify_ok 11

echo "$T: ok"
