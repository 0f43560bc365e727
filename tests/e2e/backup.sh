#!/bin/sh
# backup.sh - `clearbook backup` takes a consistent online copy while another
# process keeps posting; `clearbook restore` refuses a copy whose chain does
# not verify and restores one that does.
set -eu
T=backup
. "$ROOT/tests/e2e/lib/common.sh"

expect_exit 0 init
cat >acc.csv <<'EOF2'
code,type,asset,no_overdraft
assets:bank:cny,asset,CNY,0
income:sales,income,CNY,0
EOF2
expect_exit 0 account import acc.csv

# A writer posts 40 files of 50 transactions while backups are taken.
i=0
while [ $i -lt 40 ]; do
	j=0
	while [ $j -lt 50 ]; do
		tx "s-$i-$j" assets:bank:cny income:sales 1.00
		j=$((j + 1))
	done >"batch-$i.jsonl"
	i=$((i + 1))
done
(
	i=0
	while [ $i -lt 40 ]; do
		"$CLEARBOOK" post "batch-$i.jsonl" >/dev/null 2>>writer.err || echo "post $i failed" >>writer.err
		i=$((i + 1))
	done
) &
writer=$!
n=0
while kill -0 "$writer" 2>/dev/null && [ $n -lt 5 ]; do
	n=$((n + 1))
	expect_exit 0 backup "copy-$n.db"
	out_has "backed up" "backup $n"
	# Each copy is a whole ledger on its own: the chain and balances verify.
	CLEARBOOK_DB="copy-$n.db" expect_exit 0 verify
	sleep 0.2
done
wait "$writer"
[ ! -s writer.err ] || fail "the writer failed during backups: $(cat writer.err)"
[ "$n" -ge 1 ] || fail "no backup was taken while the writer ran"
verify_ok 2000

expect_exit 0 backup final.db
expect_exit 64 backup final.db
err_has "already exists" "backup over an existing file"

# A tampered copy (a memo rewritten behind the triggers' back) is refused.
cp final.db tampered.db
sqlite3 tampered.db "DROP TRIGGER tx_no_update; UPDATE transactions SET memo = 'x' WHERE seq = 7"
CLEARBOOK_DB=restored.db expect_exit 1 restore tampered.db
err_has "does not verify" "restore of a tampered copy"
[ ! -e restored.db ] || fail "a refused restore wrote restored.db"

# A good copy restores and verifies; an existing ledger needs --replace.
CLEARBOOK_DB=restored.db expect_exit 0 restore final.db
out_has "2000 transactions" "restore"
CLEARBOOK_DB=restored.db verify_ok 2000
CLEARBOOK_DB=restored.db expect_exit 64 restore final.db
CLEARBOOK_DB=restored.db expect_exit 0 restore final.db --replace
exit 0
