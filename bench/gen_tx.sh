#!/bin/sh
# gen_tx.sh N [CUSTOMERS] [FORMAT] - N two-posting transactions on stdout:
# wallet top-ups from the bank and purchases paid from those wallets, spread
# over CUSTOMERS wallets (default 10000).  FORMAT is jsonl (clearbook, the
# default) or ledger (the same transactions in ledger-cli journal syntax,
# for the baseline).  Deterministic.
n=${1:?usage: gen_tx.sh N [CUSTOMERS] [jsonl|ledger]}
customers=${2:-10000}
format=${3:-jsonl}
awk -v n="$n" -v c="$customers" -v fmt="$format" '
function tx(id, memo, a1, a2, amt) {
	if (fmt == "ledger")
		printf "2026-11-24 %s %s\n    %s  CNY %s\n    %s  CNY -%s\n\n", id, memo, a1, amt, a2, amt
	else
		printf "{\"id\":\"%s\",\"date\":\"2026-11-24\",\"memo\":\"%s\",\"postings\":[{\"account\":\"%s\",\"amount\":\"%s\"},{\"account\":\"%s\",\"amount\":\"-%s\"}]}\n", id, memo, a1, amt, a2, amt
}
BEGIN {
	for (i = 1; i <= n; i++) {
		w = (i * 7919) % c
		if (int((i - 1) / c) % 4 == 0)
			tx("t" i, "top-up", "assets:bank:icbc:cny", "liabilities:wallets:c" w, sprintf("%d.%02d", 100 + i % 50, i % 100))
		else
			tx("t" i, "order", "liabilities:wallets:c" w, "liabilities:merchants:m" (i % 10) ":payable", sprintf("%d.%02d", 1 + i % 20, i % 100))
	}
}'
