#!/bin/sh
# import_iso20022.sh - clearbook import --profile iso20022: staging camt.053
# and pain.002 files whole or not at all, re-import as a no-op, duplicates
# across files kept once, balance breaks (and --strict), account aliases,
# XXE and billion-laughs files refused, and every XML file of the shared
# corpus (skipped with a message where ../shared/corpus is absent).
set -eu
T=import_iso20022
. "$ROOT/tests/e2e/lib/common.sh"

inbox="$ROOT/tests/fixtures/import"
corpus=${CLEARBOOK_CORPUS:-$ROOT/../shared/corpus}

expect_exit 0 init
expect_exit 0 account add assets:bank:icbc:cny --type asset --asset CNY
expect_exit 0 account add assets:bank:postfinance:chf --type asset --asset CHF

# --- a statement whose account has no alias and no --account is refused
expect_exit 65 import --profile iso20022 "$inbox/icbc-camt053-20261124.xml"
err_has "6222020200001234567" "unmapped account"
err_has "nothing was staged" "unmapped account"
expect_exit 0 statement list --format csv
[ "$(tr -d '\r' <out | wc -l)" -eq 1 ] || fail "a refused file staged lines: $(cat out)"

# --- with an alias the statement stages: 4 entries, the batch's 2 children
expect_exit 0 account alias add 6222020200001234567 assets:bank:icbc:cny
expect_exit 0 account alias add 6222020200001234567 assets:bank:icbc:cny
expect_exit 65 account alias add 6222020200001234567 assets:bank:postfinance:chf
# a dry run reads and checks everything and stages nothing
expect_exit 0 import --profile iso20022 --dry-run "$inbox/icbc-camt053-20261124.xml"
out_has "dry run, valid: 1 statement(s), 6 line(s)" "dry run"
expect_exit 0 statement list --format csv
[ "$(tr -d '\r' <out | wc -l)" -eq 1 ] || fail "a dry run staged lines: $(cat out)"
expect_exit 0 import --profile iso20022 "$inbox/icbc-camt053-20261124.xml"
out_has "1 statement(s), 6 line(s) staged, 0 duplicate(s)" "icbc camt.053"
out_has "0 break(s)" "icbc camt.053 balances add up"
expect_exit 0 statement list --format json
python3 - out <<'PY' || fail "statement list --format json: raw camt fields missing: $(cat out)"
import json, sys
got = json.load(open(sys.argv[1]))
assert len(got) == 6, len(got)
e = [g for g in got if g["entry_ref"] == "ICBC20261124000101"][0]
assert e["raw"]["Amt"] == "30317.16" and e["raw"]["Amt@Ccy"] == "CNY", e["raw"]
assert e["file"].endswith("icbc-camt053-20261124.xml") and e["line"] > 1, e
assert all(isinstance(g["raw"], dict) and g["raw"] for g in got)
PY
expect_exit 0 statement list --format csv
tr -d '\r' <out >lines.csv
grep -q '^.*,bank,assets:bank:icbc:cny,2026-11-24,30317.16,CNY,BOOK,ICBC20261124000101,CARD-PAYOUT-20261124-01,UnionPay Merchant Services,' lines.csv ||
	fail "card payout credit not staged as expected: $(cat lines.csv)"
grep -q ',-2135.18,CNY,BOOK,ICBC20261124000102,.*,batch$' lines.csv ||
	fail "batch debit not staged as a batch: $(cat lines.csv)"
grep -q ',-1200.00,CNY,.*,PO-20261123-m001,山城小面馆,' lines.csv ||
	fail "batch child with Chinese creditor name not staged: $(cat lines.csv)"
grep -q ',270.36,CNY,BOOK,ICBC20261124000103,PO-20261122-m002,.*,reversal$' lines.csv ||
	fail "reversal not flagged: $(cat lines.csv)"
grep -q ',500.00,CNY,PDNG,ICBC20261124000104,' lines.csv ||
	fail "pending entry not staged with its status: $(cat lines.csv)"

# --- the same file again is a no-op that says so
expect_exit 0 import --profile iso20022 "$inbox/icbc-camt053-20261124.xml"
out_has "already imported" "re-import"
expect_exit 0 statement list --format csv
tr -d '\r' <out | cmp -s - lines.csv || fail "re-import changed the staging area"

# --- the same entries in another file (another export) are kept once
sed 's/ICBC-STMT-20261124-0001/ICBC-STMT-20261124-0001-R/' \
	"$inbox/icbc-camt053-20261124.xml" >reexport.xml
expect_exit 0 import --profile iso20022 reexport.xml
out_has "0 line(s) staged, 6 duplicate(s) skipped" "overlapping export"

# --- a closing balance that does not add up: a break, or refused if --strict
sed 's/1278452.34/1278452.35/' "$inbox/icbc-camt053-20261124.xml" |
	sed 's/ICBC20261124000/ICBC20261125000/; s/<ElctrncSeqNb>328/<ElctrncSeqNb>329/' >broken.xml
expect_exit 65 import --profile iso20022 --strict broken.xml
err_has "1278452.34" "strict balance break names the computed closing"
err_has "1278452.35" "strict balance break names the stated closing"
expect_exit 0 import --profile iso20022 broken.xml
err_has "warning" "balance break warns"
expect_exit 0 statement breaks --format csv
grep -q '^[0-9]*,balance,assets:bank:icbc:cny,' out || fail "no balance break listed: $(cat out)"

# --- the staging area is append-only
sqlite3 clearbook.db "UPDATE statement_lines SET amount = x'00'" 2>sqlerr && fail "UPDATE of a staged line was allowed"
grep -q "append-only" sqlerr || fail "UPDATE refused without naming append-only: $(cat sqlerr)"

# --- pain.002: payment statuses of our payouts
expect_exit 0 import --profile iso20022 "$inbox/payouts-pain002-20261124.xml"
out_has "3 payment status(es)" "pain.002"
[ "$(sqlite3 clearbook.db "SELECT status || ' ' || coalesce(reason_code,'') FROM payment_statuses WHERE orig_end_to_end_id = 'PO-20261123-m002'")" = "RJCT AC04" ] ||
	fail "pain.002 rejection not staged with its reason"

# --- unsafe XML is refused and stages nothing
cat >xxe.xml <<'XML'
<?xml version="1.0"?>
<!DOCTYPE Document [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>&xxe;</MsgId></GrpHdr></BkToCstmrStmt></Document>
XML
expect_exit 65 import --profile iso20022 --account assets:bank:icbc:cny xxe.xml
err_lacks "root:" "xxe"
cat >laughs.xml <<'XML'
<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>&lol9;</MsgId></GrpHdr></BkToCstmrStmt></Document>
XML
expect_exit 65 import --profile iso20022 --account assets:bank:icbc:cny laughs.xml
printf '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.086.001.02"><X/></Document>\n' >camt086.xml
expect_exit 65 import --profile iso20022 --account assets:bank:icbc:cny camt086.xml
err_has "camt.086" "unsupported message named"
expect_exit 64 import --profile nosuch "$inbox/icbc-camt053-20261124.xml"

# --- the shared corpus (real bank files)
if [ ! -d "$corpus" ]; then
	echo "$T: $corpus is absent; skipping the corpus files"
	exit 0
fi
pf=assets:bank:postfinance:chf
expect_exit 0 import --profile iso20022 --account $pf "$corpus"/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml
out_has "1 statement(s), 5 line(s) staged" "postfinance camt.053"
out_has "1 break(s)" "postfinance camt.053 balance break"
err_has "216649.21" "postfinance break names opening + entries"
err_has "215112.21" "postfinance break names the closing balance"
expect_exit 0 import --profile iso20022 --account $pf "$corpus"/200519_camt.052_P_CH2909000000250094239_1110092686_0_2019042416072347.xml
out_has "2 line(s) staged" "camt.052"
expect_exit 0 import --profile iso20022 --account $pf "$corpus"/200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179.xml
out_has "8 line(s) staged" "camt.054 batch credits: 2 entries and 6 children"
expect_exit 0 import --profile iso20022 --account $pf "$corpus"/200519_camt054-returns_p_ch2909000000250094239_1109800798_0_2019052023472022.xml
out_has "2 line(s) staged" "camt.054 return: a batch of one (Btch) and its child"
[ "$(sqlite3 clearbook.db "SELECT return_reason FROM statement_lines WHERE end_to_end_id = 'EndToEndId-004-01-01'")" = "AC01" ] ||
	fail "camt.054 return reason AC01 not staged"
expect_exit 0 import --profile iso20022 --account $pf "$corpus"/pain002-epo_p_ch2909000000250094239_1109800799_0_2018032612092784.xml
[ "$(sqlite3 clearbook.db "SELECT status || ' ' || coalesce(reason_code,'') FROM payment_statuses WHERE orig_end_to_end_id = 'EndToEndId-006-01-01'")" = "RJCT AC01" ] ||
	fail "SIX pain.002 rejection not staged"
expect_exit 0 account add assets:bank:eur --type asset --asset EUR
expect_exit 0 account add assets:bank:sek --type asset --asset SEK
expect_exit 0 import --profile iso20022 --account assets:bank:eur "$corpus"/genkgo_camt053.v8.xml
expect_exit 0 import --profile iso20022 --account assets:bank:eur "$corpus"/genkgo_camt053.v2.five.decimals.xml
expect_exit 0 statement list --format csv
grep -q ',8.85,EUR,' out || fail "8.850 EUR not staged as exactly 8.85: $(cat out)"
expect_exit 0 import --profile iso20022 --account assets:bank:sek "$corpus"/genkgo_camt054.v8-with-UETR.xml
expect_exit 0 statement list --format csv
grep -q ',-200000.00,SEK,' out || fail "-200000 SEK not staged: $(cat out)"
echo "$T: ok"
