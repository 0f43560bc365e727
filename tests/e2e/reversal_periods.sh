#!/bin/sh
# reversal_periods.sh - `reverse ID --reason TEXT` posts the mirror as
# 'ID:reversal', once; `close-period YYYY-MM` refuses postings dated in the
# closed month and accepts later ones.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=reversal_periods
. "$ROOT/tests/e2e/lib/common.sh"

# dated_tx ID DATE DEBIT CREDIT AMOUNT: a JSON line dated DATE, with ID as
# its memo, debiting DEBIT and crediting CREDIT.
dated_tx() {
	printf '{"id":"%s","date":"%s","memo":"%s","postings":[{"account":"%s","amount":"%s"},{"account":"%s","amount":"-%s"}]}\n' \
		"$1" "$2" "$1" "$3" "$5" "$4" "$5"
}

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:cny,asset,CNY,0
equity:capital:cny,equity,CNY,0
income:fees,income,CNY,0
liabilities:wallets:c1,liability,CNY,1
liabilities:merchants:m1:payable,liability,CNY,0
EOF2
expect_exit 0 account import acc.csv
{
	dated_tx cap-1 2026-10-10 assets:bank:cny equity:capital:cny 500.00
	dated_tx top-c1 2026-10-12 assets:bank:cny liabilities:wallets:c1 100.00
	dated_tx ord-1 2026-11-24 liabilities:wallets:c1 liabilities:merchants:m1:payable 12.34
	dated_tx fee-1 2026-11-24 liabilities:wallets:c1 income:fees 1.00
} >setup.jsonl
expect_exit 0 post setup.jsonl

# ---------------------------------------------------------------------------
# 1. reverse: the mirror, as 'ID:reversal', linked to ID, with the reason.
expect_exit 0 reverse ord-1 --reason "customer refund"
expect_exit 0 journal --format csv
tr -d '\r' <out >j.csv
grep '^5,' j.csv >rev.csv || fail "no seq 5 after the reversal:
$(cat j.csv)"
[ "$(wc -l <rev.csv)" -eq 2 ] || fail "the reversal should have 2 postings: $(cat rev.csv)"
grep -q '^5,ord-1:reversal,reverse,ord-1,[0-9-]*,[^,]*,customer refund,liabilities:wallets:c1,CNY,-12\.34$' rev.csv ||
	fail "the reversal does not credit c1 12.34: $(cat rev.csv)"
grep -q '^5,ord-1:reversal,reverse,ord-1,[0-9-]*,[^,]*,customer refund,liabilities:merchants:m1:payable,CNY,12\.34$' rev.csv ||
	fail "the reversal does not debit the payable 12.34: $(cat rev.csv)"
balances
expect_bal liabilities:wallets:c1 CNY "-99.00 0.00 -99.00"
expect_bal liabilities:merchants:m1:payable CNY "0.00 0.00 0.00"

# Once only; a reason is required; an unknown id is refused.
snap reversed
expect_exit 65 reverse ord-1 --reason "again"
expect_exit 64 reverse fee-1
expect_exit_in "65 66" reverse no-such-id --reason "why"
unchanged reversed "refused reversals"

# ---------------------------------------------------------------------------
# 2. close-period 2026-10: postings dated in October are refused, November
#    ones accepted.
expect_exit 0 close-period 2026-10
verify_ok 5
dated_tx oct-15 2026-10-15 assets:bank:cny equity:capital:cny 1.00 >oct15.jsonl
expect_exit 65 post oct15.jsonl
err_has "oct15.jsonl:1:" "a posting dated 2026-10-15"
dated_tx oct-31 2026-10-31 assets:bank:cny equity:capital:cny 1.00 >oct31.jsonl
expect_exit 65 post oct31.jsonl
cat >oct-hold.jsonl <<'EOF2'
{"id":"oct-hold","date":"2026-10-20","postings":[{"account":"liabilities:wallets:c1","amount":"1.00"},{"account":"liabilities:merchants:m1:payable","amount":"-1.00"}],"pending":true,"timeout_s":600}
EOF2
expect_exit 65 post oct-hold.jsonl
# Commits, voids and reversals dated in the closed month are refused too.
cat >hold.jsonl <<'EOF2'
{"id":"nov-hold","date":"2026-11-25","postings":[{"account":"liabilities:wallets:c1","amount":"2.00"},{"account":"liabilities:merchants:m1:payable","amount":"-2.00"}],"pending":true,"timeout_s":600}
EOF2
expect_exit 0 post hold.jsonl
snap held
expect_exit 65 commit nov-hold --date 2026-10-20
expect_exit 65 void nov-hold --date 2026-10-20
expect_exit 65 reverse fee-1 --reason "late" --date 2026-10-20
unchanged held "commit, void and reverse dated in a closed period"
expect_exit 0 commit nov-hold --date 2026-11-25
dated_tx nov-01 2026-11-01 assets:bank:cny equity:capital:cny 1.00 >nov01.jsonl
expect_exit 0 post nov01.jsonl

# Closing the same month again, or the month not yet over, is refused.
expect_exit 65 close-period 2026-10
expect_exit_in "64 65" close-period 2026-11
expect_exit_in "64 65" close-period 2026-13
balances
expect_bal assets:bank:cny CNY "601.00 0.00 601.00"
expect_bal liabilities:wallets:c1 CNY "-97.00 0.00 -97.00"
expect_bal liabilities:merchants:m1:payable CNY "-2.00 0.00 -2.00"
verify_ok 8

echo "$T: ok"
