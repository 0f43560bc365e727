#!/bin/sh
# post_reader.sh - `clearbook post` reads and parses its input on a second
# thread (ledger/reader.c) in blocks of up to 256 lines, and makes content
# hashes from the text before any account is looked up (ledger/parse.c).
# Neither may change what posting does:
#   - a journal written before content hashes took their present form
#     (tests/fixtures/ledger/v1.db, written by 1177f67 from v1.jsonl) still
#     sees the same lines as replays, and other content under its ids as
#     conflicts;
#   - amounts written differently but equal ("1.5", "1.500", "01.50") are
#     the same content; a different value under the same id is a conflict;
#   - a pipe posts exactly what the file posts; refusals across block
#     boundaries are named by their own line numbers, in order, counting
#     blank lines; CRLF endings; a line longer than 64 KiB amid others;
# (That the writer, stopping on an error, does not wait for the rest of a
# pipe that stays open is tests/unit/test_reader.c's.)
set -eu
T=post_reader
. "$ROOT/tests/e2e/lib/common.sh"

fx=$ROOT/tests/fixtures/ledger
head_of() { "$CLEARBOOK" --db "$1" verify | sed -n 's/.*chain head //p'; }

# --- 1. a journal with content hashes of the first form -------------------
cp "$fx/v1.db" old.db
before=$(head_of old.db)
expect_exit 0 --db old.db post "$fx/v1.jsonl"
out_has "0 posted, 4 replayed" "the same lines on a journal of the first form"
[ "$(head_of old.db)" = "$before" ] || fail "replays changed the chain head"
sed 's/"-25.000001"}]}$/"-25.000001"}],"meta":{"x":"1"}}/' "$fx/v1.jsonl" | sed -n 2p >changed.jsonl
grep -q '"x":"1"' changed.jsonl || fail "could not build the changed line"
expect_exit 65 --db old.db post changed.jsonl
err_has "transaction 'v1-usdt' conflicts with the one already posted as seq 2" \
	"other content under an id of the first form"
# the amounts written another way are still the same content
sed 's/"1000.500"/"01000.5"/; s/"-1000.50"/"-1000.5000"/' "$fx/v1.jsonl" | sed -n 1p >same.jsonl
expect_exit 0 --db old.db post same.jsonl
out_has "0 posted, 1 replayed" "equal amounts written otherwise, first form"

# --- 2. equal amounts are the same content; another value is a conflict ---
setup() {
	rm -f "$1" "$1-wal" "$1-shm"
	expect_exit 0 --db "$1" init
	expect_exit 0 --db "$1" account add assets:bank:cny --type asset --asset CNY
	expect_exit 0 --db "$1" account template add 'liabilities:wallets:*' --type liability --asset CNY
}
setup a.db
printf '%s\n' '{"id":"e1","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"1.5"},{"account":"liabilities:wallets:c1","amount":"-1.5"}]}' >e1.jsonl
printf '%s\n' '{"id":"e1","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"01.500"},{"account":"liabilities:wallets:c1","amount":"-1.50","asset":"CNY"}]}' >e1b.jsonl
printf '%s\n' '{"id":"e1","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"1.51"},{"account":"liabilities:wallets:c1","amount":"-1.51"}]}' >e1c.jsonl
expect_exit 0 --db a.db post e1.jsonl
expect_exit 0 --db a.db post e1b.jsonl
out_has "0 posted, 1 replayed" "1.5 and 01.500 are the same amount"
expect_exit 65 --db a.db post e1c.jsonl
err_has "conflicts with the one already posted" "1.51 under the same id"

# --- 3. a pipe posts what the file posts; refusals across blocks ----------
i=1
: >big.jsonl
while [ $i -le 3000 ]; do
	printf '{"id":"b%d","date":"2026-11-24","postings":[{"account":"assets:bank:cny","amount":"%d.%02d"},{"account":"liabilities:wallets:c%d","amount":"-%d.%02d"}]}\r\n' \
		$i $i $((i % 100)) $((i % 97)) $i $((i % 100)) >>big.jsonl
	[ $((i % 500)) -eq 0 ] && printf '\n' >>big.jsonl # blank lines count
	i=$((i + 1))
done
setup f.db
expect_exit 0 --db f.db post big.jsonl
out_has "3000 posted, 0 replayed" "3000 CRLF lines with blank lines"
setup p.db
rc=0
"$CLEARBOOK" --db p.db post - <big.jsonl >out 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "post - from stdin: exit $rc: $(cat err)"
[ "$(head_of p.db)" = "$(head_of f.db)" ] || fail "stdin and file gave different chain heads"
setup p2.db
rc=0
cat big.jsonl | "$CLEARBOOK" --db p2.db post - >out 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "post - from a pipe: exit $rc: $(cat err)"
[ "$(head_of p2.db)" = "$(head_of f.db)" ] || fail "a pipe and the file gave different chain heads"

# refusals on lines 2 (shape), 300 and 301 (after a block of 256), 1000 and
# 2999; a 70 KiB line at 1500.  Line numbers count the blank lines.
awk 'NR == 2 { print "{\"id\":\"x2\",\"date\":\"2026-11-24\",\"postings\":[1,2]}"; next }
     NR == 300 { sub(/"amount":"[0-9.]*"/, "\"amount\":\"1.234\""); print; next }
     NR == 301 { sub(/assets:bank:cny/, "assets:nowhere"); print; next }
     NR == 1000 { print "{\"id\":\"x1000\",\"date\":\"2026-13-01\",\"postings\":[]}"; next }
     NR == 1500 { s = "xxxxxxxxxxxxxxxx"; while (length(s) < 71680) s = s s; print s; next }
     NR == 2999 { print "not json"; next }
     { print }' big.jsonl >bad.jsonl
setup g.db
expect_exit 65 --db g.db post bad.jsonl
n=$(grep -c 'bad.jsonl:[0-9]' err || true)
[ "$n" -eq 6 ] || fail "expected 6 refusals, got $n: $(cat err)"
grep -o 'bad.jsonl:[0-9][0-9]*' err | cut -d: -f2 | tr '\n' ' ' >lines
[ "$(cat lines)" = "2 300 301 1000 1500 2999 " ] || fail "refusals named lines $(cat lines)"
err_has "bad.jsonl:2: transaction 'x2': postings[0]: must be an object" "shape error"
err_has "bad.jsonl:300: transaction 'b300': postings[0].amount: '1.234' is not an exact CNY amount" "scale error after a block"
err_has "bad.jsonl:301: transaction 'b301': postings[0].account: account 'assets:nowhere' does not exist" "account error"
err_has "bad.jsonl:1500: line longer than 65536 bytes" "a long line amid others"
expect_exit 0 --db g.db verify
out_has "ok: 0 transactions" "nothing posted from a file with refusals"

echo "ok: $T"
