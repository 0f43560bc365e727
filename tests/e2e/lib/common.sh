# tests/e2e/lib/common.sh - helpers shared by the end-to-end scripts.
#
# Sourced, never run: tests/run.sh runs only tests/e2e/*.sh, which is why
# this file lives one folder down. A script sets its own name and sources it:
#
#	set -eu
#	T=my_test
#	. "$ROOT/tests/e2e/lib/common.sh"
#
# ROOT and CLEARBOOK come from tests/run.sh (ROOT must be set for the line
# above to find this file at all). Sourcing checks CLEARBOOK, pins the clock
# (CLEARBOOK_NOW) and clears CLEARBOOK_DB, so every command uses
# ./clearbook.db in the scratch directory unless told otherwise.
#
# The clearbook helpers leave stdout in ./out, stderr in ./err and the exit
# status in $rc.

: "${T:?set T to the name of the test before sourcing tests/e2e/lib/common.sh}"

# fail MESSAGE: the test fails, naming itself.
fail() {
	echo "FAIL: $T: $*" >&2
	exit 1
}

: "${CLEARBOOK:?CLEARBOOK must point to the clearbook binary}"
[ -x "$CLEARBOOK" ] || fail "CLEARBOOK=$CLEARBOOK is not executable"
CLEARBOOK_NOW=2026-11-25T02:00:00Z
export CLEARBOOK_NOW
unset CLEARBOOK_DB 2>/dev/null || true

# no_sanitizer_report FILE WHAT: fails if FILE (a clearbook stderr) holds a
# sanitizer report or a failed internal assertion.
no_sanitizer_report() {
	if grep -Eq 'runtime error:|AddressSanitizer|LeakSanitizer|clearbook: internal error' "$1"; then
		fail "$2: sanitizer report or internal error:
$(cat "$1")"
	fi
}
# run ARGS...: runs clearbook; stdout in ./out, stderr in ./err, status in
# $rc.  A sanitizer report or a failed internal assertion fails the test
# whatever the exit status.
run() {
	rc=0
	"$CLEARBOOK" "$@" >out 2>err || rc=$?
	no_sanitizer_report err "clearbook $*"
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

# out_has / out_lacks / err_has / err_lacks TEXT WHAT: ./out or ./err
# contains (or does not contain) the fixed string TEXT.
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
# out_empty / err_empty WHAT: nothing at all on stdout / stderr.
out_empty() { [ ! -s out ] || fail "$1: expected nothing on stdout, got: $(cat out)"; }
err_empty() { [ ! -s err ] || fail "$1: expected nothing on stderr, got: $(cat err)"; }

# verify_ok N: verify exits 0 and prints exactly one line, 'ok: N
# transactions, chain head <64 hex>'.
verify_ok() {
	expect_exit 0 verify
	[ "$(wc -l <out)" -eq 1 ] || fail "verify printed more than one line: $(cat out)"
	grep -Eq "^ok: $1 transactions, chain head [0-9a-f]{64}\$" out ||
		fail "verify: expected 'ok: $1 transactions, chain head <64 hex>', got: $(cat out)"
}

# snap NAME: the journal, kept to compare after a refusal.
snap() {
	expect_exit 0 journal
	cp out "$1.journal"
}
# unchanged NAME WHAT: the journal is byte for byte as at `snap NAME`.
unchanged() {
	expect_exit 0 journal
	cmp -s "$1.journal" out || fail "$2 changed the journal:
before:
$(cat "$1.journal")
after:
$(cat out)"
}

# balances: `balance --format csv` into ./bal.csv (CR stripped).
balances() {
	expect_exit 0 balance --format csv
	tr -d '\r' <out >bal.csv
}
# expect_bal CODE ASSET "POSTED PENDING AVAILABLE": CODE's own row in bal.csv.
expect_bal() {
	got=$(awk -F, -v a="$1" -v s="$2" '$1 == a && $2 == s && $6 != "yes" { print $3, $4, $5 }' bal.csv)
	[ "$got" = "$3" ] || fail "balance of $1 ($2): got '$got', expected '$3'"
}

# tx ID DEBIT CREDIT AMOUNT: a JSON line dated 2026-11-24 debiting DEBIT and
# crediting CREDIT.
tx() {
	printf '{"id":"%s","date":"2026-11-24","postings":[{"account":"%s","amount":"%s"},{"account":"%s","amount":"-%s"}]}\n' \
		"$1" "$2" "$4" "$3" "$4"
}

# snapshot SRC DST: a consistent copy of a (WAL-mode) ledger database, made
# with the sqlite3 CLI.
snapshot() {
	rm -f "$2" "$2-wal" "$2-shm"
	sqlite3 "$1" ".backup '$2'"
	[ -s "$2" ] || fail "could not copy $1 to $2"
}
