#!/bin/sh
# cli_basics.sh - the command line itself: --help everywhere, exit statuses
# for usage errors and missing ledgers, init (twice is a no-op), how the
# database path is chosen (--db, $CLEARBOOK_DB, ./clearbook.db), results on
# stdout and errors on stderr.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=cli_basics
. "$ROOT/tests/e2e/lib/common.sh"

no_file() { [ ! -e "$1" ] || fail "$2: $1 was created"; }

# ---------------------------------------------------------------------------
# 1. --help: the global one and every command's exit 0 with the text on
#    stdout; no database is needed or created.
mkdir help && cd help
expect_exit 0 --help
out_has "usage:" "--help"
err_empty "--help"
for c in init asset account post commit void expire reverse close-period \
	verify balance journal; do
	expect_exit 0 "$c" --help
	out_has "usage:" "$c --help"
	out_has "$c" "$c --help"
	err_empty "$c --help"
done
no_file clearbook.db "--help"
cd ..

# ---------------------------------------------------------------------------
# 2. A command on a database that does not exist: 66, a message on stderr,
#    nothing on stdout, and no database created.
mkdir missing && cd missing
printf '%s\n' '{"id":"a","date":"2026-11-24","postings":[{"account":"assets:x","amount":"1.00"},{"account":"assets:y","amount":"-1.00"}]}' >a.jsonl
for args in "verify" "balance" "journal" "post a.jsonl" "commit h1"; do
	# shellcheck disable=SC2086 # word splitting of $args is intended
	expect_exit 66 $args
	out_empty "$args without a ledger"
	[ -s err ] || fail "$args without a ledger: no message on stderr"
	no_file clearbook.db "$args without a ledger"
done
expect_exit 66 --db elsewhere.db verify
no_file elsewhere.db "verify --db elsewhere.db"
CLEARBOOK_DB=env.db
export CLEARBOOK_DB
expect_exit 66 journal
unset CLEARBOOK_DB
no_file env.db "journal with CLEARBOOK_DB=env.db"
cd ..

# ---------------------------------------------------------------------------
# 3. init creates the ledger; twice is a no-op, also on a ledger with data.
mkdir init && cd init
expect_exit 0 init
[ -s clearbook.db ] || fail "init did not create ./clearbook.db"
err_empty "init"
expect_exit 0 verify
out_has "ok: 0 transactions, chain head 0000000000000000000000000000000000000000000000000000000000000000" "verify of an empty ledger"
printf 'code,type,asset,no_overdraft\nassets:bank:cny,asset,CNY,0\nequity:capital,equity,CNY,0\n' >acc.csv
expect_exit 0 account import acc.csv
printf '%s\n' '{"id":"cap-1","date":"2026-11-24","memo":"capital","postings":[{"account":"assets:bank:cny","amount":"10.00"},{"account":"equity:capital","amount":"-10.00"}]}' >cap.jsonl
expect_exit 0 post cap.jsonl
expect_exit 0 journal
cp out journal.before
out_has "cap-1" "journal"
expect_exit 0 verify
cp out verify.before
grep -Eq '^ok: 1 transactions, chain head [0-9a-f]{64}$' out || fail "verify: unexpected output: $(cat out)"
expect_exit 0 init
expect_exit 0 journal
cmp -s out journal.before || fail "init on an existing ledger changed the journal:
$(cat out)"
expect_exit 0 verify
cmp -s out verify.before || fail "init on an existing ledger changed verify: $(cat out), was $(cat verify.before)"

# Results on stdout, problems on stderr.
printf '%s\n' '{"id":"x","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"1.00"},{"account":"equity:capital","amount":"-2.00"}]}' >bad.jsonl
expect_exit 65 post bad.jsonl
out_empty "a refused post"
err_has "clearbook: bad.jsonl:1: " "a refused post"
expect_exit 0 verify
err_empty "verify"
cmp -s out verify.before || fail "a refused post changed verify: $(cat out)"
cd ..

# ---------------------------------------------------------------------------
# 4. Which database: $CLEARBOOK_DB, --db (and --db=PATH) winning over it,
#    and ./clearbook.db by default.
mkdir paths && cd paths
CLEARBOOK_DB=env.db
export CLEARBOOK_DB
expect_exit 0 init
[ -s env.db ] || fail "CLEARBOOK_DB=env.db init did not create env.db"
no_file clearbook.db "CLEARBOOK_DB=env.db init"
expect_exit 0 --db flag.db init
[ -s flag.db ] || fail "--db flag.db init did not create flag.db"
expect_exit 0 account add assets:only:in:env --type asset --asset CNY
unset CLEARBOOK_DB
no_file clearbook.db "commands with CLEARBOOK_DB=env.db"
expect_exit 0 --db env.db account list
out_has "assets:only:in:env" "account list --db env.db"
expect_exit 0 --db=flag.db account list
out_lacks "assets:only:in:env" "account list --db=flag.db"
expect_exit 66 account list
expect_exit 0 init
[ -s clearbook.db ] || fail "init without --db or CLEARBOOK_DB did not create ./clearbook.db"
cd ..

# ---------------------------------------------------------------------------
# 5. Usage errors: 64, nothing on stdout.
cd paths
expect_exit 64
out_empty "no command"
expect_exit 64 no-such-command
err_has "no-such-command" "unknown command"
expect_exit 64 --no-such-option verify
expect_exit 64 balance --format xml
out_empty "balance --format xml"
expect_exit 64 account add assets:x --type asset
# A clock that is not a UTC timestamp is refused before anything is done.
expect_exit_in "64 65" --now yesterday verify
out_empty "--now yesterday"
cd ..

echo "$T: ok"
