#!/bin/sh
# faults_readonly.sh - a ledger that cannot be written.  Every writing
# command (post, asset/account add, reverse, close-period, expire, import,
# reconcile, nightly, settle, restore over it) exits 74 with a message that
# names the database and says it is read-only, and changes nothing (the file
# is byte for byte the same, the nightly's inbox is whole); the reading
# commands (verify, balance, journal, statement list, a report, backup) work
# when SQLite can still open the file, or fail clearly with 74.
#
# Two ways to make it read-only, each skipped with a message where this
# process cannot do it:
#   immutable file   chattr +i on the database (root ignores mode bits, not
#                    the immutable flag); the directory stays writable, so
#                    SQLite can make its -wal/-shm files and reads work.
#                    Without root, chmod 0444 does the same.
#   read-only fs     a tmpfs remounted read-only: not even the -wal/-shm
#                    files can be made, so reads fail too, clearly.
set -eu
T=faults_readonly
. "$ROOT/tests/e2e/lib/common.sh"

cleanup() {
	chattr -i "$TMPDIR_E2E/imm/clearbook.db" 2>/dev/null || true
	chmod -R u+w "$TMPDIR_E2E/imm" 2>/dev/null || true
	umount "$TMPDIR_E2E/rofs" 2>/dev/null || umount -l "$TMPDIR_E2E/rofs" 2>/dev/null || true
}
trap cleanup EXIT

"$ROOT/samples/gen" --scale 300 --out world >/dev/null 2>gen.err || fail "samples/gen: $(cat gen.err)"
SAMPLES=world sh "$ROOT/samples/demo.sh" base --load-only >load.out 2>&1 ||
	fail "loading the world: $(cat load.out)"
expect_exit 0 --db base/clearbook.db account add assets:bank:eur --type asset --asset EUR
expect_exit 0 --db base/clearbook.db backup good.db
sh "$ROOT/bench/gen_tx.sh" 200 200 >tx.jsonl
"$ROOT/bench/gen_camt053.sh" 100 >camt.xml
printf 'Date,Description,Amount,Currency,Reference,Counterparty,Counterparty Account\n2026-11-24,Payment 1,10.00,EUR,BNK-1,Customer 1,DE89370400440532013000\n' >bank.csv
tx_id=$(sqlite3 base/clearbook.db "SELECT id FROM transactions ORDER BY seq LIMIT 1")
[ -n "$tx_id" ] || fail "the world has no transaction"

# reads DB: what the reading commands print on a writable copy, into
# reads.want; on DB, into reads.got ($reads_rc: 0, or 74 when one failed).
reads() {
	reads_rc=0
	: >"$2"
	for c in "verify" "balance --format csv" "journal --format csv" \
		"statement list --format csv" "report trial-balance --format csv"; do
		# shellcheck disable=SC2086
		run --db "$1" $c
		case $rc in
		0) cat out >>"$2" ;;
		74) reads_rc=74
			grep -q 'read-only' err || fail "clearbook $c on a read-only ledger: unclear failure: $(cat err)" ;;
		*) fail "clearbook $c on a read-only ledger: exit $rc: $(cat err)" ;;
		esac
	done
}
reads base/clearbook.db reads.want
cksum <base/clearbook.db >base.sum

# writes DIR WHAT: every writing command on DIR/clearbook.db exits 74 naming
# the database as read-only, and the file does not change.
writes() {
	db=$1/clearbook.db
	for c in "post tx.jsonl" \
		"asset add PTS --scale 0" \
		"account add assets:bank:new --type asset --asset CNY" \
		"reverse $tx_id --reason test" \
		"close-period 2026-10" \
		"expire" \
		"import --profile iso20022 --account assets:bank:icbc:cny camt.xml" \
		"import --profile bank-csv --account assets:bank:eur bank.csv" \
		"reconcile --channel bank --date 2026-11-25 --config $ROOT/samples/nightly.ini" \
		"settle --date 2026-11-25"; do
		# shellcheck disable=SC2086
		run --db "$db" $c
		[ "$rc" -eq 74 ] || fail "$2: clearbook $c: exit $rc, expected 74: $(cat err)"
		grep -q 'read-only' err || fail "$2: clearbook $c: the message does not say read-only: $(cat err)"
		grep -Fq "$db" err || fail "$2: clearbook $c: the message does not name $db: $(cat err)"
	done
	rm -rf ninbox nout
	cp -r world/inbox ninbox
	run --db "$db" nightly --date 2026-11-25 --inbox ninbox/2026-11-25 --outbox nout \
		--config "$ROOT/samples/nightly.ini"
	[ "$rc" -eq 74 ] || fail "$2: nightly: exit $rc, expected 74: $(cat err)"
	grep -q 'read-only' err || fail "$2: nightly: the message does not say read-only: $(cat err)"
	[ ! -d nout/2026-11-25/rejected ] || fail "$2: nightly set files aside: $(ls nout/2026-11-25/rejected)"
	diff -r world/inbox ninbox >/dev/null || fail "$2: nightly changed its inbox"
	run --db "$db" restore good.db --replace
	[ "$rc" -eq 74 ] || fail "$2: restore over it: exit $rc, expected 74: $(cat err)"
	cksum <"$db" | cmp -s - base.sum || fail "$2: the read-only database changed"
}

# --- an immutable database file --------------------------------------------
mkdir -p imm
cp base/clearbook.db imm/
if chattr +i imm/clearbook.db 2>/dev/null; then
	how="chattr +i"
elif [ "$(id -u)" -ne 0 ]; then
	chmod 0444 imm/clearbook.db
	how="chmod 0444"
else
	how=""
	echo "faults_readonly: SKIPPED the read-only file: chattr +i is not supported here"
fi
if [ -n "$how" ]; then
	writes imm "read-only file ($how)"
	reads imm/clearbook.db reads.got
	[ "$reads_rc" -eq 0 ] || fail "read-only file ($how): a reading command failed"
	cmp -s reads.want reads.got || fail "read-only file ($how): reads differ from a writable copy:
$(diff reads.want reads.got | head -10)"
	expect_exit 0 --db imm/clearbook.db backup imm-copy.db
	expect_exit 0 --db imm-copy.db verify
	echo "faults_readonly: read-only file ($how): writes exit 74, reads work"
fi

# --- a read-only filesystem ---------------------------------------------------
mkdir -p rofs
if mount -t tmpfs -o size=16m tmpfs rofs 2>mount.err; then
	cp base/clearbook.db rofs/
	mount -o remount,ro rofs 2>mount.err || fail "cannot remount the tmpfs read-only: $(cat mount.err)"
	touch rofs/probe 2>/dev/null && fail "the remounted tmpfs is writable"
	writes rofs "read-only filesystem"
	reads rofs/clearbook.db reads.got
	if [ "$reads_rc" -eq 0 ]; then
		cmp -s reads.want reads.got || fail "read-only filesystem: reads differ from a writable copy"
		echo "faults_readonly: read-only filesystem: writes exit 74, reads work"
	else
		echo "faults_readonly: read-only filesystem: writes exit 74, reads fail clearly (exit 74)"
	fi
else
	echo "faults_readonly: SKIPPED the read-only filesystem: cannot mount a tmpfs here ($(cat mount.err))"
fi
exit 0
