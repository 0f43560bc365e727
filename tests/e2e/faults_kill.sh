#!/bin/sh
# faults_kill.sh - SIGKILL at pseudo-random points of `post`, `import`
# (camt.053 and CSV) and `nightly`, repeated.  After every kill the database
# opens, `verify` passes and SQLite's integrity check says ok; the work is
# whole or absent (a posted file, a staged file); run again to completion it
# ends on exactly the state of an uninterrupted run: the same chain head, the
# same balances, the same staged statement lines, the same breaks.
#
# The kill points are drawn from a seeded generator as fractions (2%-100%) of
# the uninterrupted run's own duration, measured in the same run, so they fall
# inside the work on a fast or a loaded machine.  The seed and every delay are
# printed; FAULTS_SEED=S reproduces a run.  FAULTS_KILLS=N kills each command
# N times (default 3); FAULTS_SCALE=K multiplies the sizes.  The ASan build
# (detected from $CLEARBOOK's path) runs a smaller world.  docs/faults.md
# has the details.
set -eu
T=faults_kill
. "$ROOT/tests/e2e/lib/common.sh"

kills=${FAULTS_KILLS:-3}
scale=${FAULTS_SCALE:-1}
seed=${FAULTS_SEED:-$(date +%s)}
seed=$((seed % 2147483648))
case $CLEARBOOK in
*/asan/*) n_tx=35000 n_camt=10000 n_csv=70000 n_world=6000 ;;
*) n_tx=150000 n_camt=50000 n_csv=300000 n_world=20000 ;;
esac
n_tx=$((n_tx * scale)) n_camt=$((n_camt * scale)) n_csv=$((n_csv * scale))
n_world=$((n_world * scale))
echo "faults_kill: seed $seed (FAULTS_SEED=$seed reproduces), $kills kill(s) per command;" \
	"post $n_tx tx, camt $n_camt entries, csv $n_csv rows, nightly world $n_world"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
rng=$seed
# next_delay T_MS: $delay_ms, between 2% and 100% of T_MS (an LCG, so the
# same seed gives the same fractions); the first kill of each command
# ($i = 1) falls in the first half, surely inside the work.
next_delay() {
	rng=$(((rng * 1103515245 + 12345) % 2147483648))
	span=99
	[ "$i" -eq 1 ] && span=49
	delay_ms=$(($1 * (2 + (rng / 65536) % span) / 100))
}
# kill_at MS LOG CMD...: runs CMD in a session of its own and kills the whole
# session (children too) with SIGKILL MS milliseconds later; $alive is 1 if
# it was still running then.
kill_at() {
	ms=$1 log=$2
	shift 2
	setsid "$@" >"$log" 2>&1 &
	pid=$!
	sleep "$(secs "$ms")"
	alive=0
	st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
	[ -n "$st" ] && [ "$st" != Z ] && alive=1
	kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
# timed LOG CMD...: runs CMD to completion (it must exit 0); $took_ms.
timed() {
	log=$1
	shift
	t0=$(now_ms)
	"$@" >"$log" 2>&1 || fail "$* failed: $(cat "$log")"
	took_ms=$(($(now_ms) - t0))
	no_sanitizer_report "$log" "$*"
}
# sound DB WHAT: after a kill the ledger opens and verifies (its transaction
# count in $ntx) and SQLite finds the file intact; $hot is 1 if the kill left
# a non-empty write-ahead log behind (it died while writing).
sound() {
	hot=0
	[ -s "$1-wal" ] && hot=1
	expect_exit 0 --db "$1" verify
	ntx=$(sed -n 's/^ok: \([0-9]*\) transactions.*/\1/p' out)
	[ -n "$ntx" ] || fail "$2: verify said: $(cat out)"
	ic=$(sqlite3 "$1" 'PRAGMA integrity_check' 2>&1) || fail "$2: sqlite3 cannot open $1: $ic"
	[ "$ic" = ok ] || fail "$2: integrity_check: $ic"
}
head_of() {
	expect_exit 0 --db "$1" verify
	sed -n 's/.*chain head \([0-9a-f]*\)$/\1/p' out
}
# state DB NAME: what must equal the uninterrupted run: chain head, balances,
# staged statement lines and breaks, into NAME.state.
state() {
	{
		head_of "$1"
		expect_exit 0 --db "$1" balance --format csv
		cat out
		expect_exit 0 --db "$1" statement list --format csv
		cat out
		expect_exit 0 --db "$1" statement breaks --format csv
		cat out
	} >"$2.state"
}
same_state() { # DB WHAT
	state "$1" got
	cmp -s ref.state got.state || fail "$2: state differs from the uninterrupted run:
$(diff ref.state got.state | head -20)"
}
report() { # WHAT INTERRUPTED HOT
	echo "$1: $kills kill(s), $2 interrupted the work, $3 left a write-ahead log behind"
	[ "$2" -ge 1 ] || fail "$1: no kill interrupted the work (all came after it ended)"
}

# --- post: one large JSON Lines file, one database transaction -----------
expect_exit 0 --db post-base.db init
expect_exit 0 --db post-base.db account add assets:bank:icbc:cny --type asset --asset CNY
expect_exit 0 --db post-base.db account template add 'liabilities:*' --type liability --asset CNY
sh "$ROOT/bench/gen_tx.sh" "$n_tx" 2000 >tx.jsonl
cp post-base.db ref.db
timed ref.log "$CLEARBOOK" --db ref.db post tx.jsonl
t_ref=$took_ms
state ref.db ref
interrupted=0 hots=0 i=0
while [ $i -lt "$kills" ]; do
	i=$((i + 1))
	next_delay "$t_ref"
	echo "post: kill $i at ${delay_ms} ms of ${t_ref} ms"
	rm -f k.db k.db-wal k.db-shm
	cp post-base.db k.db
	kill_at "$delay_ms" kill.log "$CLEARBOOK" --db k.db post tx.jsonl
	sound k.db "post killed at ${delay_ms} ms"
	hots=$((hots + hot))
	# One file is one transaction: all of it or nothing.
	case $ntx in
	0) interrupted=$((interrupted + 1)) ;;
	"$n_tx") ;;
	*) fail "post killed at ${delay_ms} ms: $ntx of $n_tx transactions in the journal" ;;
	esac
	expect_exit 0 --db k.db post tx.jsonl
	same_state k.db "post killed at ${delay_ms} ms, run again"
done
report post "$interrupted" "$hots"
rm -f ref.db* k.db* tx.jsonl

# --- import: a large camt.053, then a large bank CSV -----------------------
expect_exit 0 --db imp-base.db init
expect_exit 0 --db imp-base.db account add assets:bank:icbc:cny --type asset --asset CNY
expect_exit 0 --db imp-base.db account add assets:bank:eur --type asset --asset EUR
"$ROOT/bench/gen_camt053.sh" "$n_camt" >camt.xml
awk -v n="$n_csv" 'BEGIN {
	print "Date,Description,Amount,Currency,Reference,Counterparty,Counterparty Account"
	for (i = 1; i <= n; i++)
		printf "2026-11-24,Payment %d,%s%d.%02d,EUR,BNK-%09d,Customer %d,DE89370400440532%06d\n",
			i, (i % 3 ? "" : "-"), i % 5000, i % 100, i, i % 997, i % 1000000
}' >bank.csv
staged() { # DB: statement lines staged
	sqlite3 "$1" 'SELECT count(*) FROM statement_lines'
}
import_kills() { # NAME FILE IMPORT-ARGS...
	name=$1 file=$2
	shift 2
	rm -f ref.db*
	cp imp-base.db ref.db
	timed ref.log "$CLEARBOOK" --db ref.db import "$@" "$file"
	t_ref=$took_ms
	state ref.db ref
	lines=$(staged ref.db)
	[ "$lines" -gt 0 ] || fail "$name: the uninterrupted import staged nothing"
	interrupted=0 hots=0 i=0
	while [ $i -lt "$kills" ]; do
		i=$((i + 1))
		next_delay "$t_ref"
		echo "$name: kill $i at ${delay_ms} ms of ${t_ref} ms"
		rm -f k.db k.db-wal k.db-shm
		cp imp-base.db k.db
		kill_at "$delay_ms" kill.log "$CLEARBOOK" --db k.db import "$@" "$file"
		sound k.db "$name killed at ${delay_ms} ms"
		hots=$((hots + hot))
		got=$(staged k.db)
		files=$(sqlite3 k.db 'SELECT count(*) FROM import_files')
		# A file stages whole or not at all, with its file record.
		if [ "$got" -eq 0 ] && [ "$files" -eq 0 ]; then
			interrupted=$((interrupted + 1))
		elif [ "$got" -ne "$lines" ] || [ "$files" -ne 1 ]; then
			fail "$name killed at ${delay_ms} ms: $got of $lines lines, $files file record(s)"
		fi
		expect_exit 0 --db k.db import "$@" "$file"
		same_state k.db "$name killed at ${delay_ms} ms, run again"
	done
	report "$name" "$interrupted" "$hots"
}
import_kills "import camt.053" camt.xml --profile iso20022 --account assets:bank:icbc:cny
import_kills "import csv" bank.csv --profile bank-csv --account assets:bank:eur
rm -f ref.db* k.db* imp-base.db camt.xml bank.csv

# --- nightly: imports as child processes, reconciliation, reports ----------
"$ROOT/samples/gen" --scale "$n_world" --out world >/dev/null 2>gen.err ||
	fail "samples/gen: $(cat gen.err)"
SAMPLES=world sh "$ROOT/samples/demo.sh" base --load-only >load.out 2>&1 ||
	fail "loading the world: $(cat load.out)"
# ./night DIR: the night of 2026-11-25 on DIR's ledger and inbox copy, as a
# program of its own (so that kill_at's setsid can run it).
cat >night <<EOF
#!/bin/sh
exec "$CLEARBOOK" --db "\$1/clearbook.db" nightly --date 2026-11-25 \\
	--inbox "\$1/inbox/2026-11-25" --outbox "\$1/outbox" --config "$ROOT/samples/nightly.ini"
EOF
chmod +x night
fresh() { # DIR: the loaded world and a copy of its inbox
	rm -rf "$1"
	mkdir -p "$1"
	cp base/clearbook.db "$1/"
	cp -r world/inbox "$1/"
}
fresh nref
timed nref.log ./night nref
t_ref=$took_ms
state nref/clearbook.db ref
cp nref/outbox/2026-11-25/breaks.csv ref.breaks
cp nref/outbox/2026-11-25/matches.csv ref.matches
interrupted=0 hots=0 i=0
while [ $i -lt "$kills" ]; do
	i=$((i + 1))
	next_delay "$t_ref"
	echo "nightly: kill $i at ${delay_ms} ms of ${t_ref} ms"
	fresh nk
	kill_at "$delay_ms" kill.log ./night nk
	sound nk/clearbook.db "nightly killed at ${delay_ms} ms"
	hots=$((hots + hot))
	rc=0
	./night nk >nk.out 2>nk.err || rc=$?
	no_sanitizer_report nk.err "nightly run again"
	[ "$rc" -eq 0 ] || fail "nightly run again after a kill at ${delay_ms} ms: exit $rc: $(cat nk.err)"
	grep -q '(resumed)' nk.out && interrupted=$((interrupted + 1))
	[ ! -d nk/outbox/2026-11-25/rejected ] ||
		fail "nightly killed at ${delay_ms} ms: files rejected on the re-run: $(ls nk/outbox/2026-11-25/rejected)"
	same_state nk/clearbook.db "nightly killed at ${delay_ms} ms, run again"
	cmp -s ref.breaks nk/outbox/2026-11-25/breaks.csv ||
		fail "nightly killed at ${delay_ms} ms: breaks.csv differs"
	cmp -s ref.matches nk/outbox/2026-11-25/matches.csv ||
		fail "nightly killed at ${delay_ms} ms: matches.csv differs"
done
report nightly "$interrupted" "$hots"
exit 0
