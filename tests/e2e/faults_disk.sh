#!/bin/sh
# faults_disk.sh - no room to write: `post`, `import` (camt.053, CSV),
# `nightly`, `backup`, `export` and `report --out` under a file size limit
# (ulimit -f, SIGXFSZ ignored so that a write past it fails with EFBIG), and
# on a full filesystem (a small tmpfs, when this process may mount one).
# Each exits 74 with a message naming the file it could not write; nothing is
# half-written: the ledger opens, verifies and passes SQLite's integrity
# check, its journal, balances and staged lines are as before the command
# (for the nightly: every imported file whole and the rest still in the
# inbox), no partial output file is left, and the same command with room
# again gives what an untroubled run gives.  docs/faults.md has the details.
set -eu
T=faults_disk
. "$ROOT/tests/e2e/lib/common.sh"

# limited KIB ARGS...: clearbook ARGS with files limited to KIB KiB (dash's
# ulimit -f counts 512-byte blocks); out/err/rc as `run`.
limited() {
	kib=$1
	shift
	rc=0
	sh -c 'trap "" XFSZ; ulimit -f "$0"; exec "$@"' $((kib * 2)) "$CLEARBOOK" "$@" \
		>out 2>err || rc=$?
	no_sanitizer_report err "clearbook $* (limited to $kib KiB)"
}
# io_error WHAT NAME: the command just run exited 74 and its message names
# NAME (the file it could not write).
io_error() {
	[ "$rc" -eq 74 ] || fail "$1: exit $rc, expected 74 (I/O error): $(cat err)"
	grep -Fq -- "$2" err || fail "$1: the message does not name '$2': $(cat err)"
}
kib_of() { echo $((($(wc -c <"$1") + 1023) / 1024)); }
# state DB NAME: chain head, journal, balances, staged lines and breaks.
state() {
	{
		expect_exit 0 --db "$1" verify
		cat out
		expect_exit 0 --db "$1" journal --format csv
		cat out
		expect_exit 0 --db "$1" balance --format csv
		cat out
		expect_exit 0 --db "$1" statement list --format csv
		cat out
		expect_exit 0 --db "$1" statement breaks --format csv
		cat out
	} >"$2.state"
}
# intact DB BEFORE WHAT: the ledger opens, verifies, passes the integrity
# check and holds exactly the state saved as BEFORE.
intact() {
	ic=$(sqlite3 "$1" 'PRAGMA integrity_check' 2>&1) || fail "$3: sqlite3 cannot open $1: $ic"
	[ "$ic" = ok ] || fail "$3: integrity_check: $ic"
	state "$1" now
	cmp -s "$2.state" now.state || fail "$3 changed the ledger:
$(diff "$2.state" now.state | head -20)"
}
fresh() { # DB: a copy of the loaded world
	rm -f "$1" "$1-wal" "$1-shm"
	cp base/clearbook.db "$1"
}

# --- the world -------------------------------------------------------------
"$ROOT/samples/gen" --scale 3000 --out world >/dev/null 2>gen.err ||
	fail "samples/gen: $(cat gen.err)"
SAMPLES=world sh "$ROOT/samples/demo.sh" base --load-only >load.out 2>&1 ||
	fail "loading the world: $(cat load.out)"
expect_exit 0 --db base/clearbook.db account add assets:bank:eur --type asset --asset EUR
state base/clearbook.db base
db_kib=$(kib_of base/clearbook.db)
# Top-ups only (one wallet each), so none is refused for want of funds.
sh "$ROOT/bench/gen_tx.sh" 20000 20000 >tx.jsonl
"$ROOT/bench/gen_camt053.sh" 5000 >camt.xml
awk 'BEGIN {
	print "Date,Description,Amount,Currency,Reference,Counterparty,Counterparty Account"
	for (i = 1; i <= 30000; i++)
		printf "2026-11-24,Payment %d,%s%d.%02d,EUR,BNK-%09d,Customer %d,DE89370400440532%06d\n",
			i, (i % 3 ? "" : "-"), i % 5000, i % 100, i, i % 997, i % 1000000
}' >bank.csv
"$CLEARBOOK" keygen ops.key >/dev/null 2>&1 || fail "keygen"

# --- a file size limit: post, import ---------------------------------------
# Room for the ledger as it is and 256 KiB more, far less than the work needs.
lim=$((db_kib + 256))
fresh d.db
limited "$lim" --db d.db post tx.jsonl
io_error "post past the limit" d.db
intact d.db base "post past the limit"
expect_exit 0 --db d.db post tx.jsonl
out_has "20000 posted" "post with room again"
# (The limit holds for each file: the write-ahead log too may grow to it.)
fresh i.db
limited "$lim" --db i.db import --profile iso20022 --account assets:bank:icbc:cny camt.xml
io_error "camt.053 import past the limit" i.db
err_has "nothing was staged" "camt.053 import past the limit"
limited "$lim" --db i.db import --profile bank-csv --account assets:bank:eur bank.csv
io_error "CSV import past the limit" i.db
intact i.db base "camt.053 and CSV imports past the limit"
expect_exit 0 --db i.db import --profile iso20022 --account assets:bank:icbc:cny camt.xml
expect_exit 0 --db i.db import --profile bank-csv --account assets:bank:eur bank.csv
out_has "30000 line(s) staged" "CSV import with room again"

# --- a file size limit: backup, export, report -------------------------------
limited $((db_kib / 2)) --db base/clearbook.db backup copy.db
io_error "backup past the limit" copy.db
[ ! -e copy.db ] || fail "a failed backup left copy.db behind"
intact base/clearbook.db base "backup past the limit"
limited 64 --db d.db export csv --out exp --key ops.key
io_error "export past the limit" exp/
[ ! -e exp ] || fail "a failed export left exp/ behind: $(ls exp)"
limited 64 --db d.db report trial-balance --format html --out tb.html
io_error "report --out past the limit" tb.html
[ ! -e tb.html ] && [ ! -e tb.html.tmp ] || fail "a failed report left a file behind: $(ls tb.html*)"

# --- a file size limit: the nightly at several points ----------------------
cat >night <<EOF
#!/bin/sh
exec "$CLEARBOOK" --db "\$1/clearbook.db" nightly --date 2026-11-25 \\
	--inbox "\$1/inbox/2026-11-25" --outbox "\$1/outbox" --config "$ROOT/samples/nightly.ini"
EOF
chmod +x night
nfresh() { # DIR
	rm -rf "$1"
	mkdir -p "$1"
	cp base/clearbook.db "$1/"
	cp -r world/inbox "$1/"
}
nfresh nref
./night nref >nref.out 2>nref.err || fail "the untroubled night: $(cat nref.err)"
state nref/clearbook.db nref
inbox_n=$(ls world/inbox/2026-11-25 | wc -l)
# whole_files DIR: every file the troubled night staged is staged whole, line
# for line as in the untroubled night (same order, so the same lines).
whole_files() {
	bad=$(sqlite3 "$1/clearbook.db" "ATTACH 'nref/clearbook.db' AS r;
		SELECT f.name FROM import_files f JOIN r.import_files g ON g.sha256 = f.sha256
		WHERE (SELECT count(*) FROM statement_lines WHERE file_id = f.id) !=
		      (SELECT count(*) FROM r.statement_lines WHERE file_id = g.id)")
	[ -z "$bad" ] || fail "$2: files staged in part: $bad"
}
# Limits from no room at all to nearly what the night needs (the growth of
# the untroubled night's ledger), so that the writes fail in different
# steps: importing, reconciling, expiring holds, monitoring, recording.  Up
# to half the growth the night must fail; beyond, it may also just fit.
growth=$(($(kib_of nref/clearbook.db) - db_kib))
failed=0
for pct in 0 1 5 20 50 80 88 90 92 95; do
	extra=$((growth * pct / 100))
	what="nightly limited to ledger + $extra KiB ($pct% of its growth)"
	nfresh ns
	rc=0
	sh -c 'trap "" XFSZ; ulimit -f "$0"; exec "$@"' $(((db_kib + extra) * 2)) ./night ns \
		>ns.out 2>ns.err || rc=$?
	no_sanitizer_report ns.err "$what"
	if [ "$rc" -eq 0 ] && [ "$pct" -gt 50 ]; then
		echo "$what: fitted"
		state ns/clearbook.db now
		cmp -s nref.state now.state || fail "$what: exit 0 but not the untroubled night"
		continue
	fi
	[ "$rc" -eq 74 ] || fail "$what: exit $rc, expected 74: $(cat ns.err)"
	failed=$((failed + 1))
	grep -q 'clearbook\.db\|\.tmp' ns.err || fail "$what: the message names no file: $(cat ns.err)"
	# The files not imported are still in the inbox: none was set aside.
	[ ! -d ns/outbox/2026-11-25/rejected ] ||
		fail "$what: files set aside as rejected: $(ls ns/outbox/2026-11-25/rejected)"
	[ "$(ls ns/inbox/2026-11-25 | wc -l)" -eq "$inbox_n" ] || fail "$what: inbox files went missing"
	ic=$(sqlite3 ns/clearbook.db 'PRAGMA integrity_check' 2>&1) || fail "$what: sqlite3: $ic"
	[ "$ic" = ok ] || fail "$what: integrity_check: $ic"
	expect_exit 0 --db ns/clearbook.db verify
	whole_files ns "$what"
	echo "$what: exit 74: $(tail -n 1 ns.err)"
	./night ns >ns.out 2>ns.err || fail "$what, then with room: $(cat ns.err)"
	state ns/clearbook.db now
	cmp -s nref.state now.state || fail "$what, then with room: not the untroubled night:
$(diff nref.state now.state | head -20)"
	diff -r nref/outbox ns/outbox >/dev/null || fail "$what, then with room: reports differ"
done
[ "$failed" -ge 6 ] || fail "only $failed of the limited nights ran out of room"

# --- a full filesystem (tmpfs), where mounting is permitted ----------------
mkdir -p full
if ! mount -t tmpfs -o size=$(((db_kib + 256) * 1024)) tmpfs full 2>mount.err; then
	echo "faults_disk: SKIPPED the full-filesystem part: cannot mount a tmpfs here ($(cat mount.err))"
	exit 0
fi
trap 'umount "$TMPDIR_E2E/full" 2>/dev/null || umount -l "$TMPDIR_E2E/full" 2>/dev/null || true' EXIT
cp base/clearbook.db full/
expect_exit 74 --db full/clearbook.db post tx.jsonl
io_error "post on a full disk" full/clearbook.db
err_has "full" "post on a full disk"
intact full/clearbook.db base "post on a full disk"
expect_exit 74 --db full/clearbook.db import --profile iso20022 --account assets:bank:icbc:cny camt.xml
io_error "camt.053 import on a full disk" full/clearbook.db
expect_exit 74 --db full/clearbook.db import --profile bank-csv --account assets:bank:eur bank.csv
io_error "CSV import on a full disk" full/clearbook.db
intact full/clearbook.db base "imports on a full disk"
# A copy onto the full disk: nothing left there.
expect_exit 0 --db d.db backup d-copy.db
[ "$(kib_of d-copy.db)" -gt $((db_kib + 256)) ] || fail "the posted ledger is too small to fill the disk"
expect_exit 74 --db d.db backup full/copy.db
io_error "backup onto a full disk" full/copy.db
[ ! -e full/copy.db ] || fail "a failed backup left full/copy.db behind"
# The nightly with its ledger on the full disk: it stops, the inbox stays.
mkdir -p fn
cp -r world/inbox fn/
rc=0
"$CLEARBOOK" --db full/clearbook.db nightly --date 2026-11-25 --inbox fn/inbox/2026-11-25 \
	--outbox fn/outbox --config "$ROOT/samples/nightly.ini" >fn.out 2>err || rc=$?
no_sanitizer_report err "nightly on a full disk"
io_error "nightly on a full disk" full/clearbook.db
[ ! -d fn/outbox/2026-11-25/rejected ] || fail "nightly on a full disk set files aside: $(ls fn/outbox/2026-11-25/rejected)"
[ "$(ls fn/inbox/2026-11-25 | wc -l)" -eq "$inbox_n" ] || fail "nightly on a full disk: inbox files went missing"
expect_exit 0 --db full/clearbook.db verify
# The nightly with its reports on a full disk: no half-written report, and
# with room again the same bytes as the untroubled night.
rm -f full/clearbook.db full/clearbook.db-wal full/clearbook.db-shm
head -c $(((db_kib + 240) * 1024)) /dev/zero >full/filler 2>/dev/null || true
nfresh no
rc=0
"$CLEARBOOK" --db no/clearbook.db nightly --date 2026-11-25 --inbox no/inbox/2026-11-25 \
	--outbox full/outbox --config "$ROOT/samples/nightly.ini" >no.out 2>err || rc=$?
no_sanitizer_report err "nightly reports on a full disk"
io_error "nightly reports on a full disk" full/outbox/2026-11-25/
find full/outbox -name '*.tmp' | grep -q . && fail "half-written reports left: $(find full/outbox -name '*.tmp')"
rm -f full/filler
"$CLEARBOOK" --db no/clearbook.db nightly --date 2026-11-25 --inbox no/inbox/2026-11-25 \
	--outbox full/outbox --config "$ROOT/samples/nightly.ini" >no.out 2>no.err ||
	fail "nightly reports with room again: $(cat no.err)"
diff -r nref/outbox full/outbox >/dev/null || fail "reports written with room again differ: $(diff -r nref/outbox full/outbox | head -5)"
echo "faults_disk: the full-filesystem part ran (tmpfs of $((db_kib + 256)) KiB)"
exit 0
