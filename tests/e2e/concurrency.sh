#!/bin/sh
# concurrency.sh - two processes racing on one ledger: an overdraft from two
# concurrent `post`s must be impossible (exactly one succeeds, the other
# exits 65, or 75 if busy), and of two concurrent commits (or a commit and
# a void) of one hold exactly one succeeds. Ten rounds of the first, six of
# the second.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=concurrency
. "$ROOT/tests/e2e/lib/common.sh"

ROUNDS=10      # overdraft races, one wallet each
HOLD_ROUNDS=6  # hold races, one hold each

# race LABEL "ARGS A" "ARGS B": starts both clearbook commands at once in the
# background, waits for both; sets $ra and $rb. Exactly one must succeed and
# the other must exit 65 (refused) or 75 (busy).
race() {
	label=$1
	# shellcheck disable=SC2086 # word splitting of the argument lists is intended
	"$CLEARBOOK" $2 >a.out 2>a.err &
	pa=$!
	# shellcheck disable=SC2086
	"$CLEARBOOK" $3 >b.out 2>b.err &
	pb=$!
	ra=0
	wait "$pa" || ra=$?
	rb=0
	wait "$pb" || rb=$?
	for e in a.err b.err; do
		no_sanitizer_report "$e" "$label"
	done
	case "$ra $rb" in
	"0 65" | "0 75" | "65 0" | "75 0") ;;
	*) fail "$label: exit statuses $ra and $rb; expected exactly one 0 and one 65 (or 75)
  A ($2): $(cat a.out a.err)
  B ($3): $(cat b.out b.err)" ;;
	esac
}

expect_exit 0 init
{
	echo "code,type,asset,no_overdraft"
	echo "assets:bank:cny,asset,CNY,0"
	echo "liabilities:merchants:m1:payable,liability,CNY,0"
	echo "liabilities:wallets:h,liability,CNY,1"
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		echo "liabilities:wallets:w$r,liability,CNY,1"
		r=$((r + 1))
	done
} >acc.csv
expect_exit 0 account import acc.csv
{
	echo '{"id":"top-h","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"1000.00"},{"account":"liabilities:wallets:h","amount":"-1000.00"}]}'
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		printf '{"id":"top-w%d","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"100.00"},{"account":"liabilities:wallets:w%d","amount":"-100.00"}]}\n' "$r" "$r"
		r=$((r + 1))
	done
	r=1
	while [ "$r" -le "$HOLD_ROUNDS" ]; do
		printf '{"id":"hold-%d","date":"2026-11-25","postings":[{"account":"liabilities:wallets:h","amount":"10.00"},{"account":"liabilities:merchants:m1:payable","amount":"-10.00"}],"pending":true,"timeout_s":3600}\n' "$r"
		r=$((r + 1))
	done
} >setup.jsonl
expect_exit 0 post setup.jsonl
setup_n=$((1 + ROUNDS + HOLD_ROUNDS))
verify_ok "$setup_n"

# ---------------------------------------------------------------------------
# 1. Two processes each spend 60.00 of a no-overdraft wallet holding 100.00.
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for k in a b; do
		printf '{"id":"spend-%d-%s","date":"2026-11-25","postings":[{"account":"liabilities:wallets:w%d","amount":"60.00"},{"account":"assets:bank:cny","amount":"-60.00"}]}\n' "$r" "$k" "$r" >"spend-$r-$k.jsonl"
	done
	race "overdraft round $r" "post spend-$r-a.jsonl" "post spend-$r-b.jsonl"
	r=$((r + 1))
done
# Every wallet paid out exactly once: 100.00 - 60.00, never below zero.
balances
r=1
while [ "$r" -le "$ROUNDS" ]; do
	expect_bal "liabilities:wallets:w$r" CNY "-40.00 0.00 -40.00"
	r=$((r + 1))
done
verify_ok $((setup_n + ROUNDS))

# ---------------------------------------------------------------------------
# 2. Two processes end the same hold: commit and commit (odd rounds), commit
#    and void (even rounds).
commits=0
r=1
while [ "$r" -le "$HOLD_ROUNDS" ]; do
	if [ $((r % 2)) -eq 1 ]; then
		race "commit/commit round $r" "commit hold-$r" "commit hold-$r"
		commits=$((commits + 1))
	else
		race "commit/void round $r" "commit hold-$r" "void hold-$r"
		if [ "$ra" -eq 0 ]; then
			commits=$((commits + 1))
		fi
	fi
	r=$((r + 1))
done
expect_exit 0 journal --format csv
n=$(tr -d '\r' <out | awk -F, 'NR > 1 && ($3 == "commit" || $3 == "void") && !seen[$1]++' | wc -l)
[ "$n" -eq "$HOLD_ROUNDS" ] || fail "expected $HOLD_ROUNDS commits and voids in the journal, found $n:
$(cat out)"
balances
h_posted=$((1000 - 10 * commits))
expect_bal liabilities:wallets:h CNY "-$h_posted.00 0.00 -$h_posted.00"
expect_bal liabilities:merchants:m1:payable CNY "-$((10 * commits)).00 0.00 -$((10 * commits)).00"
verify_ok $((setup_n + ROUNDS + HOLD_ROUNDS))

echo "$T: ok"
