# tests/golden/export/setup.sh - the known ledger every export test starts
# from; sourced by tests/e2e/export_*.sh after tests/e2e/lib/common.sh (it
# uses expect_exit and $ROOT).
#
# CNY, JPY (scale 0) and USDT (scale 6, not ISO 4217); two banks, one with
# an IBAN in its meta; merchants with Chinese and German names, IBANs and
# BICs in their payable accounts' meta, and one (m003) without an IBAN;
# orders, a back-dated October posting, three payouts on 2026-11-25 of
# which one is reversed, a payout on 2026-11-20 to m003, an open hold and a
# partly committed one.  The memo of ord-1001 is a formula with quotes and
# a comma.
export_ledger() {
	expect_exit 0 init
	expect_exit 0 asset add USDT --scale 6
	while read -r code type asset; do
		expect_exit 0 account add "$code" --type "$type" --asset "$asset"
	done <<'ACCOUNTS'
assets:bank:icbc:cny asset CNY
assets:chain:usdt asset USDT
equity:capital:cny equity CNY
equity:capital:jpy equity JPY
equity:capital:usdt equity USDT
income:fees income CNY
liabilities:wallets:c1 liability CNY
liabilities:payouts:in-transit liability CNY
ACCOUNTS
	expect_exit 0 account add assets:bank:mufg:jpy --type asset --asset JPY \
		--meta '{"iban":"GB29NWBK60161331926819","name":"MUFG 東京"}'
	expect_exit 0 account add liabilities:merchants:m001:payable --type liability \
		--asset CNY --meta '{"name":"杭州小笼包店 & Co <总店>","iban":"DE89370400440532013000","bic":"COBADEFFXXX"}'
	expect_exit 0 account add liabilities:merchants:m002:payable --type liability \
		--asset CNY --meta '{"name":"Berlin Döner GmbH","iban":"GB29NWBK60161331926819","bic":"NWBKGB2L"}'
	expect_exit 0 account add liabilities:merchants:m003:payable --type liability \
		--asset CNY --meta '{"name":"上海面馆","bic":"ICBKCNBJSHI"}'
	expect_exit 0 post "$ROOT/tests/golden/export/ledger.jsonl"
	expect_exit 0 reverse po-m002-x --reason "duplicate payout" --date 2026-11-25
	expect_exit 0 commit hold-part --amount 3.00 --date 2026-11-25
	expect_exit 0 keygen key.pem
}
