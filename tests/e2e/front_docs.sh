#!/bin/sh
# front_docs.sh - the signature example in docs/api.md is right: openssl
# dgst reproduces its body hash and signature; and a request signed the same
# way with openssl, sent with curl, is accepted by a real server.
set -eu
T=front_docs
. "$ROOT/tests/e2e/lib/common.sh"

doc="$ROOT/docs/api.md"
field() { sed -n "s/^$1: *//p" "$doc" | head -n 1; }
secret=$(field secret)
method=$(field method)
path=$(field path)
ts=$(field timestamp)
body=$(field body)
body_sha=$(field body_sha256)
sig=$(field signature)
[ -n "$secret" ] && [ -n "$body" ] && [ -n "$sig" ] || fail "no worked example in docs/api.md"

got=$(printf '%s' "$body" | openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$got" = "$body_sha" ] || fail "body_sha256 in docs/api.md is $body_sha; openssl says $got"
got=$(printf '%s\n%s\n%s\n%s' "$method" "$path" "$ts" "$body_sha" |
	openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
[ "$got" = "$sig" ] || fail "signature in docs/api.md is $sig; openssl says $got"

# The same recipe against a real server.
export CLEARBOOK_MASTER_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
expect_exit 0 init
expect_exit 0 account template add 'liabilities:wallets:*' --type liability --asset CNY --no-overdraft
expect_exit 0 account add assets:bank:cny --type asset --asset CNY
expect_exit 0 account add liabilities:merchants:m1:payable --type liability --asset CNY
expect_exit 0 account add income:fees:processing --type income --asset CNY
tx top-c1 assets:bank:cny liabilities:wallets:c1 50.00 >top.jsonl
expect_exit 0 post top.jsonl
expect_exit 0 apikey add m1
key_id=$(sed -n 's/^key_id=//p' out)
secret=$(sed -n 's/^secret=//p' out)
[ "$(wc -l <out)" -eq 2 ] || fail "apikey add printed more than two lines"

# The log exists before the server opens it, so the first look for its
# port cannot fail.
: >serve.log
"$CLEARBOOK" serve --listen 127.0.0.1:0 2>serve.log &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
port=
i=0
while [ -z "$port" ] && [ $i -lt 1200 ]; do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' serve.log)
	[ -n "$port" ] || sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || fail "serve did not start: $(cat serve.log)"

# a purchase signed as the worked example signs it (a merchant reads the
# wallets of its own customers only)
body='{"order_id":"o-1","customer":"c1","merchant":"m1","amount":"1.00","asset":"CNY"}'
ts=$(date +%s)
hash=$(printf '%s' "$body" | openssl dgst -sha256 -r | cut -d' ' -f1)
sig=$(printf 'POST\n/v1/purchases\n%s\n%s' "$ts" "$hash" |
	openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -sS --max-time 120 "http://127.0.0.1:$port/v1/purchases" -H 'Content-Type: application/json' \
	-H "X-Key-Id: $key_id" -H "X-Timestamp: $ts" -H "X-Signature: $sig" \
	-H 'Idempotency-Key: o-1-try' --data-binary "$body" >buy.json ||
	fail "curl failed: $(cat serve.log)"
grep -q '"status":"completed"' buy.json || fail "signed POST: $(cat buy.json)"

path=/v1/wallets/c1/balance
empty=$(printf '' | openssl dgst -sha256 -r | cut -d' ' -f1)
sig=$(printf 'GET\n%s\n%s\n%s' "$path" "$ts" "$empty" |
	openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -sS --max-time 120 "http://127.0.0.1:$port$path" -H "X-Key-Id: $key_id" \
	-H "X-Timestamp: $ts" -H "X-Signature: $sig" >resp.json ||
	fail "curl failed: $(cat serve.log)"
grep -q '"posted":"49.00"' resp.json || fail "signed GET: $(cat resp.json)"

kill -TERM $pid
rc=0
wait $pid || rc=$?
trap - EXIT
[ "$rc" -eq 0 ] || fail "serve exited $rc after SIGTERM: $(cat serve.log)"
no_sanitizer_report serve.log "serve"
