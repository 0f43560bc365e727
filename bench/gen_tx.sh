#!/bin/sh
# gen_tx.sh N [CUSTOMERS] - N two-posting transactions as JSON Lines on stdout:
# wallet top-ups from the bank and purchases paid from those wallets, spread
# over CUSTOMERS wallets (default 10000). Deterministic.
n=${1:?usage: gen_tx.sh N [CUSTOMERS]}
customers=${2:-10000}
awk -v n="$n" -v c="$customers" 'BEGIN {
	for (i = 1; i <= n; i++) {
		w = (i * 7919) % c
		if (int((i - 1) / c) % 4 == 0)
			printf "{\"id\":\"t%d\",\"date\":\"2026-11-24\",\"memo\":\"top-up\",\"postings\":[{\"account\":\"assets:bank:icbc:cny\",\"amount\":\"%d.%02d\"},{\"account\":\"liabilities:wallets:c%d\",\"amount\":\"-%d.%02d\"}]}\n", i, 100 + i % 50, i % 100, w, 100 + i % 50, i % 100
		else
			printf "{\"id\":\"t%d\",\"date\":\"2026-11-24\",\"memo\":\"order\",\"postings\":[{\"account\":\"liabilities:wallets:c%d\",\"amount\":\"%d.%02d\"},{\"account\":\"liabilities:merchants:m%d:payable\",\"amount\":\"-%d.%02d\"}]}\n", i, w, 1 + i % 20, i % 100, i % 10, 1 + i % 20, i % 100
	}
}'
