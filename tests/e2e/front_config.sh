#!/bin/sh
# front_config.sh - the server refuses a configuration whose customers file
# names a customer twice, or whose rates file gives a pair two rates: either
# entry could be found at run time, so a customer listed as blocked could be
# served (found by fuzz_ini).  A clean configuration starts.
set -eu
T=front_config
. "$ROOT/tests/e2e/lib/common.sh"
export CLEARBOOK_MASTER_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
expect_exit 0 init
# serve_refused INI: the server must refuse INI at once (a server that
# starts instead is stopped after 10 s, and the test fails).
serve_refused() {
	rc=0
	timeout 10 "$CLEARBOOK" serve --listen 127.0.0.1:0 --config "$1" >out 2>err || rc=$?
	no_sanitizer_report err "serve --config $1"
	[ "$rc" -eq 65 ] || fail "serve --config $1: exit $rc, expected 65: $(cat err)"
}

printf '[server]\ncustomers_file = customers.csv\n' >front.ini
printf 'customer,tier,blocked\nc1,default,1\nc2,default,0\nc1,default,0\n' >customers.csv
serve_refused front.ini
err_has "customer 'c1' is listed twice" "a customer listed twice"

printf '[server]\nfx_rates_file = rates.csv\n' >front2.ini
printf 'from,to,rate\nUSD,CNY,7.1\nUSD,CNY,7.3\n' >rates.csv
serve_refused front2.ini
err_has "a second rate from USD to CNY" "a pair with two rates"

# A ledger whose refusals table predates the detail column gets it when the
# server starts; the rows already there are kept.
rm -f old.db old.db-wal old.db-shm
expect_exit 0 --db old.db init
sqlite3 old.db "CREATE TABLE front_risk_refusals(id INTEGER PRIMARY KEY, at TEXT NOT NULL,
  merchant TEXT NOT NULL, customer TEXT NOT NULL, order_id TEXT, asset TEXT, amount TEXT,
  reason TEXT NOT NULL);
  INSERT INTO front_risk_refusals(at, merchant, customer, order_id, asset, amount, reason)
  VALUES('2026-11-24T10:00:00Z', 'm1', 'c1', 'o1', 'CNY', '600.00', 'risk_limit');"
rc=0
timeout 3 "$CLEARBOOK" --db old.db serve --listen 127.0.0.1:0 >out 2>err || rc=$?
no_sanitizer_report err "serve on an older refusals table"
[ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || fail "serve on an older refusals table: exit $rc: $(cat err)"
[ "$(sqlite3 old.db "SELECT count(*) FROM pragma_table_info('front_risk_refusals') WHERE name = 'detail'")" = 1 ] ||
	fail "the refusals table did not get its detail column"
[ "$(sqlite3 old.db "SELECT order_id || ':' || reason || ':' || detail FROM front_risk_refusals")" = "o1:risk_limit:" ] ||
	fail "the refusal recorded before the upgrade changed"
echo "ok: $T"
