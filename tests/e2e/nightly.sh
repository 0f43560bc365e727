#!/bin/sh
# nightly.sh - the nightly batch on the sample world: exactly the breaks of
# samples/EXPECTED.md, a re-run that changes nothing and writes the same
# bytes, the one-nightly-at-a-time lock, a rejected inbox file, and nights
# killed with SIGKILL at several points that end, when run again, with the
# same chain head as an uninterrupted night.
set -eu
T=nightly
. "$ROOT/tests/e2e/lib/common.sh"

night() { # DIR [extra args]: the night of 2026-11-25 on DIR's copy of the inbox
	d=$1
	shift
	"$CLEARBOOK" --db "$d/clearbook.db" nightly --date 2026-11-25 \
		--inbox "$d/inbox/2026-11-25" --outbox "$d/outbox" \
		--config "$ROOT/samples/nightly.ini" "$@"
}
head_of() {
	"$CLEARBOOK" --db "$1/clearbook.db" verify | sed -n 's/.*chain head \([0-9a-f]*\)$/\1/p'
}

# --- the demo: the breaks are exactly those of samples/EXPECTED.md --------
sh "$ROOT/samples/demo.sh" demo >demo.out 2>demo.err || fail "demo failed: $(cat demo.err)"
no_sanitizer_report demo.err "samples/demo.sh"
grep -q "reports: demo/outbox/2026-11-25/" demo.out || fail "demo does not say where its reports are"
python3 - "$ROOT/samples/EXPECTED.md" demo/outbox/2026-11-25/breaks.csv <<'PY' || fail "breaks differ from samples/EXPECTED.md"
import csv, sys
want = set()
for line in open(sys.argv[1], encoding="utf-8"):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if line.startswith("|") and len(cells) == 5 and cells[0] not in ("channel", "---"):
        want.add(tuple(cells[:4]))
got = {(r["channel"], r["kind"], r["transaction"], r["amount"])
       for r in csv.DictReader(open(sys.argv[2], encoding="utf-8", newline=""))}
if len(want) != 6 or want != got:
    print("expected:", sorted(want), "\ngot:", sorted(got), file=sys.stderr)
    sys.exit(1)
PY
grep -q "^card  *73  *72  *72 " demo/outbox/2026-11-25/reconciliation.txt ||
	fail "card reconciliation: $(cat demo/outbox/2026-11-25/reconciliation.txt)"
h1=$(head_of demo)
[ -n "$h1" ] || fail "no chain head"
# Every step of the night is recorded with its counts, AML monitoring too.
for step in import payment-statuses reconcile expire-holds monitoring reports; do
	[ "$(sqlite3 demo/clearbook.db "SELECT count(*) FROM nightly_steps WHERE step = '$step' AND event = 'finish'")" -ge 1 ] ||
		fail "step $step not recorded as finished"
done
sqlite3 demo/clearbook.db "SELECT detail FROM nightly_steps WHERE step = 'monitoring' AND event = 'finish'" |
	grep -q "^aml 2026-11-24..2026-11-25: 450 transactions, 1 alerts" || fail "monitoring step detail"
# The planted AML case of samples/EXPECTED.md, and only it.
CLEARBOOK_DB=demo/clearbook.db expect_exit 0 aml alerts --format csv
[ "$(tr -d '\r' <out | tail -n +2 | wc -l)" -eq 1 ] || fail "AML alerts: $(cat out)"
tr -d '\r' <out | grep -q ',large-value,c0042,CNY,52000.00,.*TU-20261124-99999' || fail "AML alert: $(cat out)"
sqlite3 demo/clearbook.db "SELECT detail FROM nightly_steps WHERE step = 'reconcile' AND event = 'finish'" |
	grep -q "^matches 205 (reference 201, amount 0, one-to-many 4, many-to-one 0), breaks 5" ||
	fail "reconcile step detail: $(sqlite3 demo/clearbook.db "SELECT detail FROM nightly_steps WHERE step = 'reconcile'")"
# An independent recomputation of every match and settlement.
python3 "$ROOT/tests/clearcheck.py" demo/clearbook.db >check.out 2>check.err ||
	fail "clearcheck: $(cat check.err)"

# --- a re-run changes nothing and writes byte-identical reports ----------
for f in trial-balance.html trial-balance.csv settlement.html settlement.csv \
	reconciliation.html reconciliation.json aml.html aml.json chargebacks.html \
	chargebacks.csv; do
	[ -s "demo/outbox/2026-11-25/books/$f" ] || fail "the night wrote no books/$f"
done
python3 - demo/outbox/2026-11-25/books/aml.json <<'PY' || fail "books/aml.json lacks the night's one alert"
import json, sys
d = json.load(open(sys.argv[1]))
a = d["alerts"]
assert len(a) == 1 and a[0]["rule"] == "large-value" and a[0]["subject"] == "c0042", a
assert a[0]["evidence"] == "TU-20261124-99999", a
PY
grep -q '^8836112401000102,mastercard,CNY,1091.18,2026-12-09,due,' \
	demo/outbox/2026-11-25/books/chargebacks.csv ||
	fail "books/chargebacks.csv lacks the sample's chargeback and its deadline"
grep -q '^retrieval,CNY,1,1909.64' demo/outbox/2026-11-25/books/chargebacks.csv ||
	fail "books/chargebacks.csv lacks the sample's retrieval request"
grep -q "Lotus Travel Ltd" demo/outbox/2026-11-25/books/settlement.csv || fail "settlement names no merchant"
cp -r demo/outbox/2026-11-25 snap1
sh "$ROOT/samples/demo.sh" demo >demo2.out 2>demo2.err || fail "demo re-run failed: $(cat demo2.err)"
grep -q "0 match(es)\|matched this run: 0 " demo2.out || fail "re-run matched again: $(cat demo2.out)"
diff -r snap1 demo/outbox/2026-11-25 >/dev/null || fail "re-run changed the reports: $(diff -r snap1 demo/outbox/2026-11-25 | head -5)"
[ "$(head_of demo)" = "$h1" ] || fail "re-run changed the chain head"
CLEARBOOK_DB=demo/clearbook.db expect_exit 0 breaks list --date 2026-11-25 --format csv
[ "$(tr -d '\r' <out | grep -c ',2026-11-25,')" -eq 6 ] || fail "re-run added breaks: $(cat out)"

# --- one nightly at a time ----------------------------------------------
flock demo/clearbook.db.nightly.lock sleep 30 &
holder=$!
sleep 1
rc=0
night demo >lock.out 2>lock.err || rc=$?
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
[ "$rc" -eq 75 ] || fail "second nightly: exit $rc, expected 75: $(cat lock.err)"
grep -q "another nightly run is in progress" lock.err || fail "lock message: $(cat lock.err)"

# --- a rejected file is set aside, the rest of the night goes on ---------
mkdir -p rej/inbox/2026-11-25
sh "$ROOT/samples/demo.sh" rej --load-only >/dev/null 2>&1 || fail "load for rejection test"
cp "$ROOT"/samples/inbox/2026-11-25/* rej/inbox/2026-11-25/
printf '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>' \
	>rej/inbox/2026-11-25/icbc-camt053-20261124-broken.xml
echo "nothing we know" >rej/inbox/2026-11-25/mystery.txt
rc=0
CLEARBOOK_NOW=2026-11-25T02:00:00Z night rej >rej.out 2>rej.err || rc=$?
no_sanitizer_report rej.err "nightly with rejected files"
[ "$rc" -eq 1 ] || fail "nightly with a bad file: exit $rc, expected 1: $(cat rej.err)"
for f in icbc-camt053-20261124-broken.xml mystery.txt; do
	[ -f "rej/outbox/2026-11-25/rejected/$f" ] || fail "$f not set aside"
	[ -s "rej/outbox/2026-11-25/rejected/$f.reason.txt" ] || fail "$f has no reason"
	[ ! -e "rej/inbox/2026-11-25/$f" ] || fail "$f still in the inbox"
done
grep -q "icbc-camt053-20261124-broken.xml" rej/outbox/2026-11-25/rejected/icbc-camt053-20261124-broken.xml.reason.txt ||
	fail "reason does not name the file: $(cat rej/outbox/2026-11-25/rejected/*.reason.txt)"
grep -q "no \[inbox\] rule" rej/outbox/2026-11-25/rejected/mystery.txt.reason.txt || fail "mystery reason"
# the importer's own "clearbook: " prefix is not repeated inside the night's
! grep -q "clearbook: " rej/outbox/2026-11-25/rejected/icbc-camt053-20261124-broken.xml.reason.txt ||
	fail "the reason repeats the prefix: $(cat rej/outbox/2026-11-25/rejected/icbc-camt053-20261124-broken.xml.reason.txt)"
! grep -q "rejected, set aside in .*: clearbook: " rej.err ||
	fail "the night's message repeats the prefix: $(cat rej.err)"
grep -q "2 rejected" rej.out || fail "summary: $(cat rej.out)"
[ "$(head_of rej)" = "$h1" ] || fail "the rest of the night did not run as usual"

# --- killed at several points, resumed: the same chain head --------------
"$ROOT/samples/gen" --scale 3000 --out big 2>/dev/null
SAMPLES=big sh "$ROOT/samples/demo.sh" base --load-only >/dev/null 2>&1 || fail "load big world"
mkdir -p ref && cp base/clearbook.db ref/ && cp -r big/inbox ref/
CLEARBOOK_NOW=2026-11-25T02:00:00Z night ref >/dev/null 2>ref.err || fail "uninterrupted night: $(cat ref.err)"
href=$(head_of ref)
python3 "$ROOT/tests/clearcheck.py" ref/clearbook.db >/dev/null 2>check.err ||
	fail "clearcheck on the big world: $(cat check.err)"
for delay in 0.05 0.2 0.4 0.7 1.0 1.5; do
	k=kill-$delay
	mkdir -p "$k" && cp base/clearbook.db "$k/" && cp -r big/inbox "$k/"
	CLEARBOOK_NOW=2026-11-25T02:00:00Z setsid "$CLEARBOOK" --db "$k/clearbook.db" nightly \
		--date 2026-11-25 --inbox "$k/inbox/2026-11-25" --outbox "$k/outbox" \
		--config "$ROOT/samples/nightly.ini" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	CLEARBOOK_NOW=2026-11-25T02:00:00Z night "$k" >"$k.out" 2>"$k.err" ||
		fail "resumed night after kill at ${delay}s: $(cat "$k.err")"
	[ "$(head_of "$k")" = "$href" ] || fail "kill at ${delay}s: chain head differs from the uninterrupted night"
	cmp -s ref/outbox/2026-11-25/breaks.csv "$k/outbox/2026-11-25/breaks.csv" ||
		fail "kill at ${delay}s: breaks differ"
done
# The kills must have interrupted nights, not only missed finished ones.
[ "$(cat kill-*.out | grep -c '(resumed)')" -ge 2 ] ||
	fail "fewer than two kills interrupted a night: $(cat kill-*.out)"
exit 0
