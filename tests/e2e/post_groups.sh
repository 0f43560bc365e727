#!/bin/sh
# post_groups.sh - `clearbook post` writes the rows of up to 16 transactions
# with one statement (ledger/group.c).  Whatever the grouping, the outcome
# must be exactly that of posting each line alone: the same chain head, the
# same replays counted, conflicts and refusals named by their own line and
# reported in line order, and nothing posted when any line is refused.
set -eu
T=post_groups
. "$ROOT/tests/e2e/lib/common.sh"

tx() { # ID AMOUNT [ACCOUNT]
	printf '{"id":"%s","date":"2026-11-24","memo":"m %s","postings":[{"account":"%s","amount":"%s"},{"account":"liabilities:wallets:c1","amount":"-%s"}],"meta":{"n":"%s"}}\n' \
		"$1" "$1" "${3:-assets:bank:cny}" "$2" "$2" "$1"
}
od() { # ID AMOUNT: the wallet pays AMOUNT out
	printf '{"id":"%s","date":"2026-11-24","postings":[{"account":"liabilities:wallets:c1","amount":"%s"},{"account":"expenses:x","amount":"-%s"}]}\n' "$1" "$2" "$2"
}
setup() {
	rm -f clearbook.db clearbook.db-wal clearbook.db-shm
	expect_exit 0 init
	expect_exit 0 account add assets:bank:cny --type asset --asset CNY
	expect_exit 0 account add liabilities:wallets:c1 --type liability --asset CNY --no-overdraft
	expect_exit 0 account add expenses:x --type expense --asset CNY
}
head_of() { "$CLEARBOOK" verify | sed -n 's/.*chain head //p'; }

# 1. A: 40 transactions.  B: 50, of which lines 3, 20 and 41 repeat A's lines
#    exactly (replays inside a group).  Posted as files, and line by line.
i=1; : >a.jsonl; while [ $i -le 40 ]; do tx "a$i" "$i.00" >>a.jsonl; i=$((i + 1)); done
i=1; : >b.jsonl
while [ $i -le 50 ]; do
	case $i in 3) tx a7 7.00 ;; 20) tx a19 19.00 ;; 41) tx a40 40.00 ;; *) tx "b$i" "1.$i" ;; esac >>b.jsonl
	i=$((i + 1))
done
setup
expect_exit 0 post a.jsonl
expect_exit 0 post b.jsonl
out_has "47 posted, 3 replayed" "a file with three replays among new lines"
grouped=$(head_of)
setup
for f in a.jsonl b.jsonl; do
	while IFS= read -r l; do printf '%s\n' "$l" >one.jsonl; expect_exit 0 post one.jsonl; done <"$f"
done
alone=$(head_of)
[ -n "$grouped" ] && [ "$grouped" = "$alone" ] ||
	fail "grouped posting ended on chain head '$grouped', line by line on '$alone'"
python3 "$ROOT/tests/hashcheck.py" clearbook.db >/dev/null || fail "hashcheck disagrees"

# 2. Everything again: every line a replay, nothing changes.
expect_exit 0 post a.jsonl
out_has "0 posted, 40 replayed" "a file of replays"
[ "$(head_of)" = "$alone" ] || fail "a file of replays moved the chain head"

# 3. A conflict (line 5: a known id, other content) and a refusal two lines
#    later (line 7: overdraft): both named, in line order; nothing posted.
setup
expect_exit 0 post a.jsonl
before=$(head_of)
{ tx c1 1.00; tx c2 1.00; tx c3 1.00; tx c4 1.00; tx a5 5.01; tx c6 1.00
  od c7 999999.00; tx c8 1.00; } >c.jsonl
expect_exit 65 post c.jsonl
err_has "c.jsonl:5:" "the conflict's line"
err_has "c.jsonl:7:" "the overdraft's line"
l5=$(grep -n 'c.jsonl:5:' err | head -1 | cut -d: -f1)
l7=$(grep -n 'c.jsonl:7:' err | head -1 | cut -d: -f1)
[ "$l5" -lt "$l7" ] || fail "line 5 must be reported before line 7:
$(cat err)"
grep 'c.jsonl:5:' err | grep -q conflict || fail "line 5 is a conflict: $(cat err)"
[ "$(head_of)" = "$before" ] || fail "a refused file changed the journal"

# 4. 200 lines of which line 150 overdraws: named, nothing posted.
i=1; : >d.jsonl
while [ $i -le 200 ]; do
	if [ $i -eq 150 ]; then od d$i 5000.00; else tx d$i 0.01; fi >>d.jsonl
	i=$((i + 1))
done
expect_exit 65 post d.jsonl
err_has "d.jsonl:150:" "the overdraft deep in a file"
[ "$(grep -c 'd.jsonl:[0-9]*:' err)" -eq 1 ] || fail "only line 150 is refused: $(cat err)"
[ "$(head_of)" = "$before" ] || fail "a refused file changed the journal"
echo "ok: $T"
