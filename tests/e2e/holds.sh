#!/bin/sh
# holds.sh - two-phase transactions: "pending":true holds amounts (they
# reduce `available`), commit in full or in part (the remainder released),
# void, expire by timeout; each hold ends exactly once.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=holds

fail() {
	echo "FAIL: $T: $*" >&2
	exit 1
}

: "${CLEARBOOK:?CLEARBOOK must point to the clearbook binary}"
: "${ROOT:?ROOT must point to the repository root}"
[ -x "$CLEARBOOK" ] || fail "CLEARBOOK=$CLEARBOOK is not executable"
CLEARBOOK_NOW=2026-11-25T02:00:00Z
export CLEARBOOK_NOW
unset CLEARBOOK_DB 2>/dev/null || true

# run ARGS...: runs clearbook; stdout in ./out, stderr in ./err, status in
# $rc.  A sanitizer report or a failed internal assertion fails the test
# whatever the exit status.
run() {
	rc=0
	"$CLEARBOOK" "$@" >out 2>err || rc=$?
	if grep -Eq 'runtime error:|AddressSanitizer|LeakSanitizer|clearbook: internal error' err; then
		fail "clearbook $*: sanitizer report or internal error:
$(cat err)"
	fi
}
# expect_exit CODE ARGS...: runs clearbook and checks its exit status.
expect_exit() {
	want=$1
	shift
	run "$@"
	[ "$rc" -eq "$want" ] || fail "clearbook $*: exit status $rc, expected $want
  stdout: $(cat out)
  stderr: $(cat err)"
}
# expect_exit_in "CODES" ARGS...: the status is one of CODES (where the spec
# leaves the choice between two statuses open).
expect_exit_in() {
	want=$1
	shift
	run "$@"
	case " $want " in
	*" $rc "*) ;;
	*) fail "clearbook $*: exit status $rc, expected one of: $want
  stdout: $(cat out)
  stderr: $(cat err)" ;;
	esac
}
out_has() {
	grep -Fq -- "$1" out || fail "$2: stdout lacks '$1':
$(cat out)"
}
out_lacks() {
	! grep -Fq -- "$1" out || fail "$2: stdout should not contain '$1':
$(cat out)"
}
err_has() {
	grep -Fq -- "$1" err || fail "$2: stderr lacks '$1':
$(cat err)"
}
err_lacks() {
	! grep -Fq -- "$1" err || fail "$2: stderr should not contain '$1':
$(cat err)"
}
out_empty() { [ ! -s out ] || fail "$1: expected nothing on stdout, got: $(cat out)"; }
err_empty() { [ ! -s err ] || fail "$1: expected nothing on stderr, got: $(cat err)"; }
# verify_ok N: verify exits 0 and reports N transactions.
verify_ok() {
	expect_exit 0 verify
	grep -Eq "^ok: $1 transactions, chain head [0-9a-f]{64}\$" out ||
		fail "verify: expected 'ok: $1 transactions, chain head <64 hex>', got: $(cat out)"
}
balances() {
	expect_exit 0 balance --format csv
	tr -d '\r' <out >bal.csv
}
# expect_bal CODE ASSET "POSTED PENDING AVAILABLE": CODE's own row in bal.csv.
expect_bal() {
	got=$(awk -F, -v a="$1" -v s="$2" '$1 == a && $2 == s && $6 != "yes" { print $3, $4, $5 }' bal.csv)
	[ "$got" = "$3" ] || fail "balance of $1 ($2): got '$got', expected '$3'"
}

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
