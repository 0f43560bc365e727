#!/bin/sh
# export_integrity.sh - signed manifests and determinism: keygen writes a
# 0600 Ed25519 PEM key and FILE.pub; every export directory carries
# MANIFEST.json (names, sizes, SHA-256, period, chain head, command) and its
# signature, which the openssl command checks too (when installed); `export verify` passes,
# then fails (exit 1, naming the file) after one byte of any file, of the
# manifest or of the signature changes, a file goes missing or one is
# added, or another key is used; exporting twice gives the same bytes.
#
# Run by tests/run.sh with cwd in a fresh scratch directory, CLEARBOOK set to
# the binary and ROOT to the repository root.
set -eu
T=export_integrity
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

# ---------------------------------------------------------------------------
# 1. keygen
[ "$(stat -c %a key.pem)" = 600 ] || fail "key.pem has mode $(stat -c %a key.pem)"
grep -q 'BEGIN PRIVATE KEY' key.pem || fail "key.pem is not a PEM private key"
grep -q 'BEGIN PUBLIC KEY' key.pem.pub || fail "key.pem.pub is not a PEM public key"
if have_openssl; then
	openssl pkey -in key.pem -noout -text 2>/dev/null | grep -q 'ED25519' ||
		fail "key.pem is not Ed25519"
fi
cp key.pem key.keep
expect_exit 74 keygen key.pem
cmp -s key.pem key.keep || fail "keygen overwrote an existing key"
expect_exit 0 keygen other.pem

# ---------------------------------------------------------------------------
# 2. the manifest: what it records, checked by us and by openssl.
expect_exit 0 export csv --from 2026-11-01 --to 2026-11-30 --out a --key key.pem
expect_exit 0 verify
head=$(sed -n 's/^ok: .* chain head \([0-9a-f]*\)$/\1/p' out)
M=a/MANIFEST.json
[ -s $M ] && [ -s $M.sig ] || fail "no manifest or signature in a/"
[ "$(wc -c <$M.sig)" -eq 64 ] || fail "the signature is not 64 bytes"
for f in journal.csv balances.csv accounts.csv; do
	sum=$(sha256sum a/$f | cut -d' ' -f1)
	size=$(wc -c <a/$f)
	js $M "[e for e in j['files'] if e == {'name': '$f', 'sha256': '$sum', 'size_bytes': $size}]" ||
		fail "$M does not record $f ($size bytes, $sum): $(cat $M)"
done
js $M "j['ledger'] == {'chain_head': '$head', 'transactions': 17}
	and j['period'] == {'from': '2026-11-01', 'to': '2026-11-30'}
	and j['export'] == 'csv' and j['created_at'] == '2026-11-25T02:00:00Z'
	and j['format'] == 'clearbook-export-manifest-v1'
	and j['command'] == 'clearbook export csv --from 2026-11-01 --to 2026-11-30'
	and len(j['files']) == 3" || fail "manifest fields wrong: $(cat $M)"
if have_openssl; then
	openssl pkeyutl -verify -pubin -inkey key.pem.pub -rawin -in $M -sigfile $M.sig \
		>ossl.out 2>&1 || fail "openssl does not verify the signature: $(cat ossl.out)"
fi
expect_exit 0 export verify a --pubkey key.pem.pub
out_has "ok" "export verify"

# ---------------------------------------------------------------------------
# 3. one changed byte anywhere fails verification, naming the file.
# flip FILE OFFSET: changes the byte at OFFSET (keeps the size).
flip() {
	cp "$1" flip.orig
	byte=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "\\$(printf '%03o' $(( (byte + 1) % 256 )))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
	cmp -s "$1" flip.orig && fail "flip did not change $1"
	return 0
}
restore() { cp flip.orig "$1"; }
for f in journal.csv balances.csv accounts.csv MANIFEST.json MANIFEST.json.sig; do
	for at in 0 7; do
		flip a/$f $at
		expect_exit 1 export verify a --pubkey key.pem.pub
		case $f in
		MANIFEST.json.sig) err_has "MANIFEST.json: the signature does not match" "a byte of $f" ;;
		*) err_has "$f:" "a byte of $f" ;;
		esac
		restore a/$f
	done
done
expect_exit 0 export verify a --pubkey key.pem.pub
# A byte appended (size), a file removed, a file added.
cp a/journal.csv keep.csv
printf 'x' >>a/journal.csv
expect_exit 1 export verify a --pubkey key.pem.pub
err_has "journal.csv: size" "a byte appended to journal.csv"
mv keep.csv a/journal.csv
mv a/balances.csv keep.csv
expect_exit 1 export verify a --pubkey key.pem.pub
err_has "balances.csv: missing" "balances.csv removed"
mv keep.csv a/balances.csv
echo extra >a/extra.txt
expect_exit 1 export verify a --pubkey key.pem.pub
err_has "extra.txt: not in the manifest" "a file added"
rm a/extra.txt
rm a/MANIFEST.json.sig
expect_exit 1 export verify a --pubkey key.pem.pub
err_has "MANIFEST.json.sig" "the signature removed"
# Another key did not sign it.
expect_exit 0 export journal --out b --key key.pem
expect_exit 0 export verify b --pubkey key.pem.pub
expect_exit 1 export verify b --pubkey other.pem.pub
err_has "signature does not match" "verify with another key"
expect_exit 66 export verify b --pubkey no-such.pub
expect_exit 66 export verify nowhere --pubkey key.pem.pub
expect_exit 64 export verify b
# A manifest re-signed by another key does not pass either.
if have_openssl; then
	openssl pkeyutl -sign -inkey other.pem -rawin -in b/MANIFEST.json -out b/MANIFEST.json.sig
	expect_exit 1 export verify b --pubkey key.pem.pub
fi
# Exports refuse a key that is missing or not Ed25519.
expect_exit 66 export journal --out c --key no-such.pem
expect_exit 65 export journal --out c --key key.pem.pub
if have_openssl; then
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.pem 2>/dev/null
	expect_exit 65 export journal --out c --key rsa.pem
	err_has "not an Ed25519 key" "an RSA key"
fi
[ ! -e c ] || fail "a refused export left c/ behind"

# ---------------------------------------------------------------------------
# 4. determinism: every export twice, into other directories, the same
#    bytes (signatures included: Ed25519 is deterministic), also without
#    --now (the creation time is then the last booking time).
cat >debtor.ini <<'INI'
[debtor]
name = Clearbook 支付 Ltd
iban = DE02120300000000202051
bic = BYLADEM1001
INI
for run in 1 2; do
	expect_exit 0 export camt053 --account liabilities:merchants:m001:payable \
		--from 2026-11-01 --to 2026-11-30 --out d$run/camt --key key.pem
	expect_exit 0 export pain001 --date 2026-11-25 --config debtor.ini \
		--out d$run/pain --key key.pem
	expect_exit 0 export csv --encoding GB18030 --out d$run/csv --key key.pem
	expect_exit 0 export journal --from 2026-11-01 --out d$run/jnl --key key.pem
	CLEARBOOK_NOW= expect_exit 0 export journal --out d$run/nonow --key key.pem
done
# (dash keeps an assignment made before a function call: pin the clock again)
CLEARBOOK_NOW=2026-11-25T02:00:00Z
export CLEARBOOK_NOW
diff -r d1 d2 >det.diff || fail "two exports of the same ledger differ: $(cat det.diff)"
[ "$(find d1 -type f | wc -l)" -eq 17 ] || fail "expected 17 files: $(find d1 -type f)"
js d1/nonow/MANIFEST.json "j['created_at'] == '2026-11-25T02:00:00Z'" ||
	fail "without --now the creation time is not the last booking time: $(cat d1/nonow/MANIFEST.json)"
for d in camt pain csv jnl nonow; do
	expect_exit 0 export verify d1/$d --pubkey key.pem.pub
done
# --created-at overrides, and is recorded.
expect_exit 0 export journal --created-at 2026-12-01T08:00:00Z --out e --key key.pem
js e/MANIFEST.json "j['created_at'] == '2026-12-01T08:00:00Z'" ||
	fail "--created-at not in the manifest"
expect_exit 64 export journal --created-at yesterday --out f --key key.pem
# The manifest records the chain head at export time: a new posting changes
# it, and the old export still verifies.
tx late-1 assets:bank:icbc:cny equity:capital:cny 1.00 >late.jsonl
expect_exit 0 post late.jsonl
expect_exit 0 export journal --from 2026-11-01 --out d3 --key key.pem
cmp -s d1/jnl/MANIFEST.json d3/MANIFEST.json && fail "the manifest ignores a new transaction"
js d3/MANIFEST.json "j['ledger']['transactions'] == 18" || fail "transactions not 18"
expect_exit 0 export verify d1/jnl --pubkey key.pem.pub

# ---------------------------------------------------------------------------
# 5. One snapshot: while another process posts, the chain head in the
#    manifest is the last transaction in the exported journal.
i=0
while [ $i -lt 60 ]; do
	tx "bg-$i" assets:bank:icbc:cny equity:capital:cny 1.00
	i=$((i + 1))
done >bg.jsonl
(
	split -l 1 bg.jsonl bgpart.
	for f in bgpart.*; do "$CLEARBOOK" post "$f" >/dev/null 2>&1 || true; done
) &
bg=$!
for k in 1 2 3 4; do
	expect_exit 0 export csv --out snap$k --key key.pem
	last=$(tr -d '\r' <snap$k/journal.csv | awk -F, 'NR > 1 { s = $1 } END { print s }')
	js snap$k/MANIFEST.json "j['ledger']['transactions'] == $last" ||
		fail "export $k: the manifest's head is not the journal's last seq $last: $(cat snap$k/MANIFEST.json)"
done
wait $bg
