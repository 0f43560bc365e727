#!/bin/sh
# export_seal.sh - `close-period YYYY-MM --key FILE --seal-dir DIR` writes a
# signed seal of the period (chain head at closing, every account's closing
# balance, canonical JSON); `seal verify` checks it offline and, with --db,
# against the ledger: it fails (exit 1) when the seal, its signature, the
# close record, the closing balances or the postings of the period were
# changed, or when it is checked against another ledger.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=export_seal
. "$ROOT/tests/e2e/lib/common.sh"
. "$ROOT/tests/golden/export/setup.sh"

# js FILE EXPR: true (exit 0) when the Python expression EXPR holds for j,
# the JSON in FILE (python3 is in scripts/deps.sh).
js() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"
}
# have_openssl: the openssl command is there for the cross-checks made
# with it (libssl-dev, which the build needs, does not bring it).
have_openssl() { command -v openssl >/dev/null 2>&1; }

export_ledger
expect_exit 0 keygen other.pem

# ---------------------------------------------------------------------------
# 1. A key that cannot sign is refused before anything is closed.
expect_exit 66 close-period 2026-10 --key no-such.pem
expect_exit 0 journal --to 2026-10-31
dated='{"id":"oct-ok","date":"2026-10-31","postings":[{"account":"assets:bank:icbc:cny","amount":"1.00"},{"account":"equity:capital:cny","amount":"-1.00"}]}'
echo "$dated" >oct.jsonl
expect_exit 0 post oct.jsonl
# (still open: the refused close left it so)

# ---------------------------------------------------------------------------
# 2. The seal: what it holds.
snapshot clearbook.db pre.db
expect_exit 0 close-period 2026-10 --key key.pem --seal-dir seals
out_has "seals/seal-2026-10.json" "close-period --key"
S=seals/seal-2026-10.json
[ -s $S ] && [ "$(wc -c <$S.sig)" -eq 64 ] || fail "no seal or no 64-byte signature"
expect_exit 0 verify
head=$(sed -n 's/^ok: .* chain head \([0-9a-f]*\)$/\1/p' out)
js $S "j['format'] == 'clearbook-period-seal-v1' and j['period'] == '2026-10'
	and j['end_date'] == '2026-10-31' and j['head_hash'] == '$head'
	and j['head_seq'] == 18 and j['closed_at'] == '2026-11-25T02:00:00Z'" ||
	fail "seal fields wrong (head $head): $(cat $S)"
# Every account, with its balance at the end of October (the back-dated
# late-oct posting and oct-ok included).
expect_exit 0 balance --at 2026-10-31 --format csv
tr -d '\r' <out | awk -F, 'NR > 1 && $6 != "yes" { print $1, $2, $3 }' >want.txt
python3 -c 'import json, sys
for b in json.load(open(sys.argv[1], encoding="utf-8"))["balances"]:
    print(b["account"], b["asset"], b["posted"])' $S >got.txt
cmp -s want.txt got.txt || fail "sealed balances differ from balance --at 2026-10-31:
$(diff want.txt got.txt)"
grep -q '^assets:bank:icbc:cny CNY 10051.00$' got.txt || fail "icbc not 10051.00: $(cat got.txt)"
# Canonical JSON: one line, sorted keys, no spaces outside strings.
[ "$(wc -l <$S)" -eq 1 ] || fail "the seal is not one line"
python3 -c 'import json, sys
t = open(sys.argv[1], encoding="utf-8").read()
c = json.dumps(json.loads(t), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
sys.exit(0 if c + "\n" == t else 1)' $S || fail "the seal is not canonical (sorted, compact) JSON"
if have_openssl; then
	openssl pkeyutl -verify -pubin -inkey key.pem.pub -rawin -in $S -sigfile $S.sig \
		>ossl.out 2>&1 || fail "openssl does not verify the seal: $(cat ossl.out)"
fi

# ---------------------------------------------------------------------------
# 3. Offline and against the ledger.
expect_exit 0 seal verify $S --pubkey key.pem.pub
expect_exit 0 seal verify $S --pubkey key.pem.pub --db clearbook.db
out_has "match the seal" "seal verify --db"
expect_exit 1 seal verify $S --pubkey other.pem.pub
err_has "signature does not match" "seal verify with another key"
# One changed byte of the seal or its signature.
cp $S seal.keep
sed 's/"10051.00"/"10052.00"/' seal.keep >$S
expect_exit 1 seal verify $S --pubkey key.pem.pub
err_has "signature does not match" "a changed seal"
cp seal.keep $S
cp $S.sig sig.keep
printf '\001' | dd of=$S.sig bs=1 seek=5 conv=notrunc 2>/dev/null
expect_exit 1 seal verify $S --pubkey key.pem.pub
cp sig.keep $S.sig
rm $S.sig
expect_exit 1 seal verify $S --pubkey key.pem.pub
cp sig.keep $S.sig
expect_exit 0 seal verify $S --pubkey key.pem.pub --db clearbook.db
# seal write rewrites the same bytes for an already closed period; a
# period that is not closed has no seal.
mkdir again
expect_exit 0 seal write 2026-10 --key key.pem --seal-dir again
cmp -s again/seal-2026-10.json $S || fail "seal write differs from the seal at closing"
cmp -s again/seal-2026-10.json.sig $S.sig || fail "seal write: another signature"
expect_exit 66 seal write 2026-11 --key key.pem --seal-dir again

# ---------------------------------------------------------------------------
# 4. Against a changed ledger.
# A closing balance rewritten behind the ledger's back (triggers dropped).
snapshot clearbook.db t1.db
sqlite3 t1.db "DROP TRIGGER closebal_no_update;
	UPDATE period_close_balances SET posted = (SELECT posted FROM period_close_balances
	  p2 WHERE p2.period = '2026-10' AND p2.account_id = (SELECT id FROM accounts
	  WHERE code = 'equity:capital:cny')) WHERE period = '2026-10' AND account_id =
	  (SELECT id FROM accounts WHERE code = 'assets:bank:icbc:cny');"
expect_exit 1 seal verify $S --pubkey key.pem.pub --db t1.db
err_has "differ from the seal" "a rewritten closing balance"
# A posting amount of October rewritten: the chain no longer verifies.
snapshot clearbook.db t2.db
sqlite3 t2.db "DROP TRIGGER posting_no_update; UPDATE postings SET amount =
	(SELECT amount FROM postings WHERE tx_seq = 1 AND idx = 1) WHERE tx_seq = 1 AND idx = 0;"
expect_exit 1 seal verify $S --pubkey key.pem.pub --db t2.db
err_has "chain does not verify" "a rewritten posting"
# A back-dated October posting slipped in after the close: in a copy of
# the ledger from before the close, post it (the chain stays valid) and
# then copy the close record and closing balances in.  Only the balances
# recomputed from the postings show it.
echo '{"id":"oct-late","date":"2026-10-15","postings":[{"account":"assets:bank:icbc:cny","amount":"5.00"},{"account":"equity:capital:cny","amount":"-5.00"}]}' >late.jsonl
expect_exit 0 --db pre.db post late.jsonl
sqlite3 pre.db "ATTACH 'clearbook.db' AS s;
	INSERT INTO period_closes SELECT * FROM s.period_closes;
	INSERT INTO period_close_balances SELECT * FROM s.period_close_balances;"
expect_exit 0 --db pre.db verify
expect_exit 1 seal verify $S --pubkey key.pem.pub --db pre.db
err_has "account assets:bank:icbc:cny: the postings up to 2026-10-31" "a back-dated posting"
# The same ledger rebuilt without oct-ok and closed with the same key: a
# valid seal of another October, and ours does not fit it.
rm -f clearbook.db clearbook.db-wal clearbook.db-shm
mv key.pem key.keep
mv key.pem.pub key.keep.pub
export_ledger
rm key.pem key.pem.pub
mv key.keep key.pem
mv key.keep.pub key.pem.pub
expect_exit 0 close-period 2026-10 --key key.pem --seal-dir other
expect_exit 1 seal verify $S --pubkey key.pem.pub --db clearbook.db
err_has "2026-10" "a seal checked against another ledger"
expect_exit 0 seal verify other/seal-2026-10.json --pubkey key.pem.pub --db clearbook.db
expect_exit 66 seal verify $S --pubkey key.pem.pub --db no-such.db
