#!/bin/sh
# bench/run.sh - posting and balance benchmarks, each beside a baseline
# measured in the same run on the same machine, so the ratios hold on a
# noisy box.  BENCH_N transactions (default 1,000,000), two postings each.
#
#   baseline  raw prepared SQLite inserts of the same 2*N posting rows, one
#             transaction, WAL + synchronous=FULL (build/release/bench_raw)
#   floor     SQLite alone writing clearbook's rows (N transactions, 2*N
#             postings) into a fresh ledger's real schema, nothing else: the
#             part of the ratio that parsing, checking and hashing cannot touch
#   post      clearbook post of N JSON Lines, durably, hash-chained
#   replay    the same file again: every line an idempotent replay
#   balance   full balance listing and one account, over the posted ledger
#   verify    recompute the whole chain and every balance
#   ledger    ledger-cli reading and balancing the same transactions (the
#             speed the issue compares against), when ledger is installed
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-${SCALE:-1000000}}
. "$root/bench/lib.sh"
dir=${BENCH_DIR:-$root/out/bench}
cb=$root/bin/clearbook
raw=$root/build/release/bench_raw
export CLEARBOOK_NOW=2026-11-25T02:00:00Z
export CLEARBOOK_DB="$dir/bench.db"
mkdir -p "$dir"
rm -f "$dir"/bench.db* "$dir"/raw.db*

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l | awk '{ printf "%.3f", $1 }'; }
peak_kb() { sed -n 's/^peak_kb=//p' "$1"; }

if [ ! -f "$dir/tx-$n.jsonl" ]; then
	"$root/bench/gen_tx.sh" "$n" > "$dir/tx-$n.jsonl"
fi
"$cb" init > /dev/null
"$cb" account add assets:bank:icbc:cny --type asset --asset CNY
"$cb" account template add 'liabilities:wallets:*' --type liability --asset CNY --no-overdraft
"$cb" account template add 'liabilities:merchants:*:payable' --type liability --asset CNY

raw_s=$("$raw" "$dir/raw.db" $((2 * n)))
rm -f "$dir"/floor.db*
"$cb" --db "$dir/floor.db" init > /dev/null
floor_s=$("$root/build/release/bench_floor" "$dir/floor.db" "$n")
floor_ratio=$(echo "$floor_s / $raw_s" | bc -l | awk '{ printf "%.2f", $1 }')

t0=$(now)
/usr/bin/time -f 'peak_kb=%M' -o "$dir/post.time" "$cb" post "$dir/tx-$n.jsonl" > /dev/null
t1=$(now)
post_s=$(elapsed "$t0" "$t1")

t0=$(now)
/usr/bin/time -f 'peak_kb=%M' -o "$dir/replay.time" "$cb" post "$dir/tx-$n.jsonl" > /dev/null
t1=$(now)
replay_s=$(elapsed "$t0" "$t1")

t0=$(now); "$cb" balance > /dev/null; t1=$(now)
bal_all_s=$(elapsed "$t0" "$t1")
t0=$(now); "$cb" balance liabilities:wallets:c1 > /dev/null; t1=$(now)
bal_one_s=$(elapsed "$t0" "$t1")
t0=$(now); "$cb" verify > /dev/null; t1=$(now)
verify_s=$(elapsed "$t0" "$t1")

ledger_line="ledger-cli not installed (apt-get install ledger)"
if command -v ledger > /dev/null 2>&1; then
	[ -f "$dir/tx-$n.ledger" ] || "$root/bench/gen_tx.sh" "$n" 10000 ledger > "$dir/tx-$n.ledger"
	t0=$(now)
	/usr/bin/time -f 'peak_kb=%M' -o "$dir/ledger.time" ledger -f "$dir/tx-$n.ledger" balance > /dev/null
	t1=$(now)
	ledger_s=$(elapsed "$t0" "$t1")
	ledger_tps=$(echo "$n / $ledger_s" | bc -l | awk '{ printf "%d", $1 }')
	ledger_line="$ledger_s s   $ledger_tps tx/s   peak $(peak_kb "$dir/ledger.time") KiB"
fi

tps=$(echo "$n / $post_s" | bc -l | awk '{ printf "%d", $1 }')
ratio=$(echo "$post_s / $raw_s" | bc -l | awk '{ printf "%.2f", $1 }')
peak=$(peak_kb "$dir/post.time")
peak_replay=$(peak_kb "$dir/replay.time")
accounts=$("$cb" account list --format csv | tail -n +2 | wc -l)

verdict() { if [ "$1" = 1 ]; then echo "meets"; else echo "MISSES"; fi; }
cat <<REPORT
clearbook bench: $n transactions, $((2 * n)) postings, $accounts accounts ($(nproc) cores)
  baseline raw SQLite inserts of $((2 * n)) rows   ${raw_s} s
  schema floor: SQLite writing our rows alone   ${floor_s} s   (${floor_ratio}x baseline)
  clearbook post (durable, hash-chained)        ${post_s} s   $tps tx/s   peak ${peak} KiB
    ratio to baseline                           ${ratio}x   (target <= 4x: $(verdict "$(echo "$ratio <= 4" | bc)"))
    throughput                                  (target >= 100000 tx/s: $(verdict "$(echo "$tps >= 100000" | bc)"))
    peak memory                                 (target < 65536 KiB: $(verdict "$(echo "$peak < 65536" | bc)"))
  ledger-cli balance of the same transactions  $ledger_line
  clearbook post again (all replays)            ${replay_s} s   peak ${peak_replay} KiB
  clearbook balance (all accounts)              ${bal_all_s} s   (target < 0.1 s: $(verdict "$(echo "$bal_all_s < 0.1" | bc)"))
  clearbook balance liabilities:wallets:c1      ${bal_one_s} s
  clearbook verify (chain and balances)         ${verify_s} s
REPORT
# The recorded figures (bench/all.sh gathers them): ratios are the
# baseline's time over ours on the same work, higher is better.
raw_tps=$(echo "$n / $raw_s" | bc -l | awk '{ printf "%d", $1 }')
bench_record post_tps "$tps" tx/s raw_sqlite_inserts "$raw_tps" "$(bench_ratio "$raw_s" "$post_s")" "$n" "$peak"
floor_tps=$(echo "$n / $floor_s" | bc -l | awk '{ printf "%d", $1 }')
bench_record post_schema_floor_tps "$floor_tps" tx/s raw_sqlite_inserts "$raw_tps" "$(bench_ratio "$raw_s" "$floor_s")" "$n"
if [ -n "${ledger_s:-}" ]; then
	bench_record post_vs_ledger_cli "$tps" tx/s ledger_cli_balance "$ledger_tps" "$(bench_ratio "$ledger_s" "$post_s")" "$n" "$peak"
fi
bench_record balance_s "$bal_all_s" s - - - "$n"
bench_record verify_s "$verify_s" s - - - "$n"
