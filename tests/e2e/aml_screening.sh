#!/bin/sh
# aml_screening.sh - name screening beyond the SDN names themselves: the
# aliases of alt.csv (read from beside sdn.csv, or from the configured
# file), and Cyrillic names romanised (BGN/PCGN) so that a name written in
# Cyrillic matches its SDN Latin entry; a near miss in Cyrillic does not
# hit; an alias naming no SDN entry and a missing alias file are refused.
set -eu
T=aml_screening
. "$ROOT/tests/e2e/lib/common.sh"

L=$ROOT/tests/fixtures/aml/lists
expect_exit 0 init
expect_exit 0 account add assets:clearing:card --type asset --asset CNY
named() { # CUSTOMER NAME
	expect_exit 0 account add "liabilities:wallets:$1" --type liability --asset CNY \
		--meta "{\"name\":\"$2\"}"
}
named c1 "Сергей Евгеньевич Иванов"  # IVANOV, Sergey Yevgenyevich
named c2 "ЕЛЕНА ПЕТРОВА"             # PETROVA, Yelena (upper case)
named c3 "Abu Khalid"                # alias of HASSAN, Ali Mohammed
named c4 "Sergei Ivanov"             # alias IVANOV, Sergei
named c5 "Сергей Иванович Петров"    # near nobody: must not hit
named c6 "Елена Смирнова"            # fka SMIRNOVA, Yelena, in Cyrillic
i=0
for c in c1 c2 c3 c4 c5 c6; do
	i=$((i + 1))
	printf '{"id":"IN%d","date":"2026-11-10","postings":[{"account":"assets:clearing:card","amount":"1.00"},{"account":"liabilities:wallets:%s","amount":"-1.00"}]}\n' "$i" "$c"
done >tx.jsonl
expect_exit 0 post tx.jsonl

# alt.csv beside sdn.csv is read without being named.
printf '[screening]\nsdn = %s/sdn.csv\n' "$L" >aml.ini
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config aml.ini
expect_exit 0 aml alerts --format csv
python3 - <<'EOF' || fail "screening hits"
import csv
rows = {r["subject"]: r for r in csv.DictReader(open("out", newline=""))
        if r["rule"] == "name-screening"}
def hit(c, score, text):
    r = rows.get("liabilities:wallets:" + c)
    assert r, f"{c}: no hit in {sorted(rows)}"
    assert int(r["score"]) == score, (c, r["score"])
    assert text in r["detail"], (c, r["detail"])
hit("c1", 1000, "SDN entry 50001 'IVANOV, Sergey Yevgenyevich'")
hit("c2", 1000, "SDN entry 50002 'PETROVA, Yelena'")
hit("c3", 1000, "alias 'ABU KHALID' of SDN entry 12345 'HASSAN, Ali Mohammed'")
hit("c4", 1000, "alias 'IVANOV, Sergei' of SDN entry 50001")
hit("c6", 1000, "alias 'SMIRNOVA, Yelena' of SDN entry 50002")
assert "liabilities:wallets:c5" not in rows, rows["liabilities:wallets:c5"]
EOF

# Without aliases (an alias file that has none) the alias names do not hit.
: >empty-alt.csv
printf '[screening]\nsdn = %s/sdn.csv\nalt = %s/empty-alt.csv\n' "$L" "$PWD" >noalt.ini
rm -f clearbook.db*
expect_exit 0 init
expect_exit 0 account add assets:clearing:card --type asset --asset CNY
named c3 "Abu Khalid"
printf '{"id":"IN3","date":"2026-11-10","postings":[{"account":"assets:clearing:card","amount":"1.00"},{"account":"liabilities:wallets:c3","amount":"-1.00"}]}\n' >one.jsonl
expect_exit 0 post one.jsonl
expect_exit 0 aml scan --from 2026-11-01 --to 2026-11-30 --config noalt.ini
out_has "0 alert(s)" "an alias without alt.csv"

# An alias of an ent_num the SDN list lacks: refused with file and line.
printf '12345,902,"aka","ABU KHALID",-0-\n99999,904,"aka","NOBODY",-0-\n' >bad-alt.csv
printf '[screening]\nsdn = %s/sdn.csv\nalt = %s/bad-alt.csv\n' "$L" "$PWD" >bad.ini
expect_exit 65 aml scan --from 2026-11-01 --to 2026-11-30 --config bad.ini
grep -q "bad-alt.csv:2: .*99999" err || fail "bad alias not named: $(cat err)"
# A configured alias file that is missing.
printf '[screening]\nsdn = %s/sdn.csv\nalt = %s/nosuch.csv\n' "$L" "$PWD" >missing.ini
expect_exit 66 aml scan --from 2026-11-01 --to 2026-11-30 --config missing.ini
echo "ok: $T"
