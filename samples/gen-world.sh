#!/bin/sh
# gen-world.sh [CUSTOMERS] - writes the small sample world of a wallet
# operator into samples/world/: its chart of accounts (accounts.csv) and one
# day of wallet top-ups, purchases, a card pre-authorisation and a refund
# (day-2026-11-24.jsonl).  Deterministic: the same arguments give the same
# bytes.  (The nightly clearing issue replaces this with samples/gen.)
set -eu
customers=${1:-200}
dir=$(cd "$(dirname "$0")" && pwd)/world
mkdir -p "$dir"

cat > "$dir/accounts.csv" <<'CSV'
code,type,asset,no_overdraft
assets:bank:icbc:cny,asset,CNY,0
assets:bank:hsbc:usd,asset,USD,0
assets:clearing:card,asset,CNY,0
assets:clearing:alipay,asset,CNY,0
assets:clearing:wechat,asset,CNY,0
assets:clearing:ecny,asset,CNY,0
assets:clearing:usdt,asset,USDT,0
assets:chain:usdt-hot,asset,USDT,0
liabilities:merchants:m001:payable,liability,CNY,0
liabilities:merchants:m001:reserve,liability,CNY,0
liabilities:merchants:m002:payable,liability,CNY,0
liabilities:merchants:m002:reserve,liability,CNY,0
liabilities:merchants:m003:payable,liability,CNY,0
liabilities:merchants:m003:reserve,liability,CNY,0
liabilities:payouts:in-transit,liability,CNY,0
income:fees:processing,income,CNY,0
expense:chargebacks,expense,CNY,0
expense:fees:card-network,expense,CNY,0
equity:fx:cny,equity,CNY,0
equity:fx:usdt,equity,USDT,0
CSV

awk -v c="$customers" 'BEGIN {
	chan[0] = "card"; chan[1] = "alipay"; chan[2] = "wechat"; chan[3] = "ecny"
	# fee in basis points per merchant: m001 0.6%, m002 1.0%, m003 0.38%
	bps[1] = 60; bps[2] = 100; bps[3] = 38
	seed = 20261124
	n = 0
	for (i = 1; i <= c; i++) {
		seed = (seed * 69069 + 1) % 4294967296
		amt = 5000 + seed % 95000          # 50.00 .. 999.99 CNY, in fen
		ch = chan[i % 4]
		printf "{\"id\":\"topup-%05d\",\"date\":\"2026-11-24\",\"memo\":\"wallet top-up via %s\",\"postings\":[{\"account\":\"assets:clearing:%s\",\"amount\":\"%d.%02d\"},{\"account\":\"liabilities:wallets:c%04d\",\"amount\":\"-%d.%02d\"}],\"meta\":{\"channel\":\"%s\",\"customer\":\"c%04d\"}}\n", i, ch, ch, amt / 100, amt % 100, i, amt / 100, amt % 100, ch, i
		bal[i] = amt
	}
	for (k = 1; k <= c * 2; k++) {
		seed = (seed * 69069 + 1) % 4294967296
		i = 1 + seed % c
		m = 1 + int(seed / 7) % 3
		price = 100 + int(seed / 11) % 20000  # 1.00 .. 200.99 CNY
		if (price > bal[i])
			continue
		bal[i] -= price
		fee = int((price * bps[m] + 5000) / 10000)   # half-up to the fen
		net = price - fee
		n++
		printf "{\"id\":\"ord-%06d\",\"date\":\"2026-11-24\",\"memo\":\"order %06d at m%03d\",\"postings\":[{\"account\":\"liabilities:wallets:c%04d\",\"amount\":\"%d.%02d\"},{\"account\":\"liabilities:merchants:m%03d:payable\",\"amount\":\"-%d.%02d\"},{\"account\":\"income:fees:processing\",\"amount\":\"-%d.%02d\"}],\"meta\":{\"customer\":\"c%04d\",\"merchant\":\"m%03d\",\"order\":\"%06d\"}}\n", n, n, m, i, price / 100, price % 100, m, net / 100, net % 100, fee / 100, fee % 100, i, m, n
	}
	# a USDT deposit on chain into a stablecoin wallet (6 decimals)
	printf "{\"id\":\"usdt-dep-0001\",\"date\":\"2026-11-24\",\"memo\":\"USDT deposit, tx 0x9f3c\",\"postings\":[{\"account\":\"assets:clearing:usdt\",\"amount\":\"250.125000\"},{\"account\":\"liabilities:wallets:c0001:usdt\",\"amount\":\"-250.125\"}],\"meta\":{\"chain\":\"tron\",\"customer\":\"c0001\"}}\n"
	# a card pre-authorisation held on a wallet, captured tomorrow
	printf "{\"id\":\"preauth-0001\",\"date\":\"2026-11-24\",\"memo\":\"hotel pre-authorisation at m002\",\"pending\":true,\"timeout_s\":604800,\"postings\":[{\"account\":\"liabilities:wallets:c0002\",\"amount\":\"30.00\"},{\"account\":\"liabilities:merchants:m002:payable\",\"amount\":\"-30.00\"}],\"meta\":{\"customer\":\"c0002\",\"merchant\":\"m002\"}}\n"
}' > "$dir/day-2026-11-24.jsonl"
