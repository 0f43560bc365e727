#!/bin/sh
# aml_pinyin.sh - name screening of Chinese names: customers named in
# characters (Simplified or Traditional) meet SDN entries written in pinyin,
# surname first or last, given name joined or apart; near misses score what
# the Levenshtein rule says and raise nothing; a character the table lacks
# is kept as written and named in the alert; the alerts are byte-identical
# on two ledgers; and the committed table is what scripts/gen_pinyin.py
# makes from Unihan.
set -eu
T=aml_pinyin
. "$ROOT/tests/e2e/lib/common.sh"

L=$ROOT/tests/fixtures/aml/lists-zh
world() {
	expect_exit 0 init
	expect_exit 0 account add assets:clearing:card --type asset --asset CNY
	i=0
	: >tx.jsonl
	# customer, name; the comment is the expected outcome (cut-off 880)
	while read -r c name; do
		i=$((i + 1))
		expect_exit 0 account add "liabilities:wallets:$c" --type liability --asset CNY \
			--meta "{\"name\":\"$name\"}"
		printf '{"id":"IN%d","date":"2026-11-10","postings":[{"account":"assets:clearing:card","amount":"1.00"},{"account":"liabilities:wallets:%s","amount":"-1.00"}]}\n' "$i" "$c" >>tx.jsonl
	done <<'NAMES'
c01 李方伟
c02 李方偉
c03 张伟
c04 張偉
c05 欧阳修
c06 吕方伟
c07 李方
c08 王方伟
c09 王𪚥
c10 陈建国
NAMES
	expect_exit 0 post tx.jsonl
}
world
printf '[screening]\nsdn = %s/sdn.csv\n' "$L" >aml.ini
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config aml.ini
expect_exit 0 aml alerts --format csv
python3 - <<'PY' || fail "pinyin screening"
import csv
rows = {r["subject"].rsplit(":", 1)[1]: r for r in csv.DictReader(open("out", newline=""))
        if r["rule"] == "name-screening"}
def hit(c, score, text):
    r = rows.get(c)
    assert r, f"{c}: no hit in {sorted(rows)}"
    assert int(r["score"]) == score, (c, r["score"], r["detail"])
    assert text in r["detail"], (c, r["detail"])
# Simplified and Traditional, given name joined as the list writes it.
hit("c01", 1000, "name '李方伟' (pinyin 'li fangwei') scores 1000 against SDN entry 60001 'LI, Fangwei'")
hit("c02", 1000, "name '李方偉' (pinyin 'li fangwei') scores 1000 against SDN entry 60001")
hit("c03", 1000, "(pinyin 'zhang wei') scores 1000 against SDN entry 60002 'ZHANG, Wei'")
hit("c04", 1000, "name '張偉' (pinyin 'zhang wei') scores 1000 against SDN entry 60002")
# A compound surname.
hit("c05", 1000, "(pinyin 'ouyang xiu') scores 1000 against SDN entry 60003 'OUYANG, Xiu'")
# One letter off in ten: 900, over the cut-off.
hit("c06", 900, "(pinyin 'lu fangwei') scores 900 against SDN entry 60001")
# A character the table lacks: kept as written, named, and the alias in
# characters still meets it.
hit("c09", 1000, "name '王𪚥' (pinyin 'wang 𪚥'; no reading for U+2A6A5, kept as written) "
    "scores 1000 against alias '王𪚥' of SDN entry 60004 'WANG, Zhe'")
# The syllables-apart spelling, as the list writes this one.
hit("c10", 1000, "(pinyin 'chen jian guo') scores 1000 against SDN entry 60005 'CHEN, Jian Guo'")
# Near misses: 700 ('fang li' against 'fangwei li') and 667 ('fangwei wang').
for c in ("c07", "c08"):
    assert c not in rows, rows[c]
assert len(rows) == 8, sorted(rows)
PY

# The near misses' scores, seen with a cut-off below them.
printf '[screening]\nsdn = %s/sdn.csv\ncutoff = 600\n' "$L" >low.ini
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config low.ini
out_has "2 new" "the near misses at cut-off 600"
expect_exit 0 aml alerts --format csv
grep -q "name '李方' (pinyin 'li fang') scores 700 against SDN entry 60001" out ||
	fail "李方 does not score 700: $(grep 李方 out)"
grep -q "name '王方伟' (pinyin 'wang fangwei') scores 667 against SDN entry 60001" out ||
	fail "王方伟 does not score 667: $(grep 王方伟 out)"

# Determinism: another ledger, the same scans, the same bytes.
expect_exit 0 aml alerts --format json
cp out first.json
mkdir second
cd second
world
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config ../aml.ini
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config ../low.ini
expect_exit 0 aml alerts --format json
cmp -s out ../first.json || fail "alerts differ between two identical ledgers"
cd ..

# The committed table is what the generator makes from Unihan.
U=/usr/share/unicode/Unihan_Readings.txt.bz2
[ -f "$U" ] || fail "$U missing: scripts/deps.sh installs unicode-data"
python3 "$ROOT/scripts/gen_pinyin.py" "$U" >table.c || fail "gen_pinyin.py failed"
cmp -s table.c "$ROOT/reports/pinyin/table.c" ||
	fail "reports/pinyin/table.c is not what scripts/gen_pinyin.py makes"
echo "ok: $T"
