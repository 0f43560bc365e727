#!/bin/sh
# bench/reconcile.sh - reconciling BENCH_RECON_N statement lines (default
# 1,000,000, or SCALE) against as many open items, beside the baseline the
# issue names: importing the same lines, timed in the same run.  Target: the
# reconciliation takes at most 3 times the import, under 60 s, peak memory
# under 1 GiB.
#
# The world: N card payments on assets:clearing:card; the card file has a
# line per payment naming it by reference (90%), by amount and counterparty
# only (5%), one line per batch of three payments naming the batch (3% of the
# payments), and 2% of the payments never settle while as many lines name
# nothing we know (breaks, each costing a bounded subset search).
#
# CLEARBOOK=BINARY times another build (say, main's) on the same world, so
# that a change is measured against its baseline in the same run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_RECON_N:-${SCALE:-1000000}}
dir=${BENCH_DIR:-$root/out/bench}
cb=${CLEARBOOK:-$root/bin/clearbook}
. "$root/bench/lib.sh"
export CLEARBOOK_NOW=2026-11-25T02:00:00Z
export CLEARBOOK_DB="$dir/recon.db"
mkdir -p "$dir"
rm -f "$dir"/recon.db*
items=$dir/recon-items-$n.jsonl
lines=$dir/recon-lines-$n.csv

if [ ! -f "$lines" ]; then
	awk -v n="$n" -v items="$items" -v lines="$lines" 'BEGIN {
		x = 12345
		print "Date,Description,Amount,Currency,Reference,Counterparty,End To End ID" > lines
		for (i = 1; i <= n; i++) {
			x = (x * 16807) % 2147483647
			c = 100 + x % 99900; k = i % 100; meta = ""
			if (k >= 90 && k < 95) meta = sprintf("\"counterparty\":\"CP%d\"", i)
			if (k >= 95 && k < 98) meta = sprintf("\"batch_id\":\"BATCH-%d\"", int(i / 100))
			printf "{\"id\":\"P%07d\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":\"assets:clearing:card\",\"amount\":\"%d.%02d\"},{\"account\":\"income:sales\",\"amount\":\"-%d.%02d\"}],\"meta\":{%s}}\n", \
				i, int(c / 100), c % 100, int(c / 100), c % 100, meta > items
			if (k < 90)
				printf "2026-11-24,capture,%d.%02d,CNY,L%07d,,P%07d\n", int(c / 100), c % 100, i, i > lines
			else if (k < 95)
				printf "2026-11-24,capture,%d.%02d,CNY,L%07d,CP%d,\n", int(c / 100), c % 100, i, i > lines
			else if (k < 98) {
				bsum += c
				if (k == 97) {
					printf "2026-11-24,batch,%d.%02d,CNY,L%07d,,BATCH-%d\n", int(bsum / 100), bsum % 100, i, int(i / 100) > lines
					bsum = 0
				}
			} else
				printf "2026-11-24,unknown,%d.%02d,CNY,L%07d,,NOPE-%d\n", int((c + 7) / 100), (c + 7) % 100, i, i > lines
		}
	}'
fi
"$cb" init > /dev/null
printf 'code,type,asset,no_overdraft\nassets:clearing:card,asset,CNY,0\nassets:bank:cny,asset,CNY,0\nincome:sales,income,CNY,0\n' > "$dir/recon-accounts.csv"
"$cb" account import "$dir/recon-accounts.csv" > /dev/null
"$cb" post "$items" > /dev/null
printf '[channel card]\nwindow_days = 1\nsettle_days = 1\n' > "$dir/recon.ini"
rows=$(($(wc -l < "$lines") - 1))

now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -f 'peak_kb=%M cpu=%U+%S' -o "$dir/recon-import.time" \
	"$cb" import --profile bank-csv --channel card --account assets:bank:cny "$lines" > /dev/null
t1=$(now)
imp_s=$(echo "$t1 - $t0" | bc -l | awk '{ printf "%.3f", $1 }')
t0=$(now)
/usr/bin/time -f 'peak_kb=%M cpu=%U+%S' -o "$dir/recon.time" \
	"$cb" reconcile --channel card --date 2026-11-25 --config "$dir/recon.ini" > "$dir/recon.out"
t1=$(now)
rec_s=$(echo "$t1 - $t0" | bc -l | awk '{ printf "%.3f", $1 }')
peak=$(sed -n 's/^peak_kb=\([0-9]*\).*/\1/p' "$dir/recon.time")
# CPU seconds (user + system) too: on a loaded machine wall time says more
# about the neighbours than about us.
imp_cpu=$(sed -n 's/.*cpu=\(.*\)/\1/p' "$dir/recon-import.time" | bc -l | awk '{ printf "%.3f", $1 }')
rec_cpu=$(sed -n 's/.*cpu=\(.*\)/\1/p' "$dir/recon.time" | bc -l | awk '{ printf "%.3f", $1 }')
ratio=$(echo "$rec_s / $imp_s" | bc -l | awk '{ printf "%.2f", $1 }')
cpu_ratio=$(echo "$rec_cpu / $imp_cpu" | bc -l | awk '{ printf "%.2f", $1 }')
lps=$(echo "$rows / $rec_s" | bc -l | awk '{ printf "%d", $1 }')
ok_ratio=$(echo "$ratio <= 3" | bc -l)
ok_time=$(echo "$rec_s < 60" | bc -l)
ok_mem=$( [ "$peak" -lt 1048576 ] && echo 1 || echo 0)
verdict() { if [ "$1" = 1 ]; then echo "meets"; else echo "MISSES"; fi; }
cat <<REPORT
clearbook reconcile bench: $rows statement lines against $n open items ($(nproc) cores)
  baseline: import of the same lines            ${imp_s} s  (CPU ${imp_cpu} s)
  reconcile (4 passes, settlements, breaks)     ${rec_s} s  (CPU ${rec_cpu} s; $lps lines/s)
  reconcile / import                            ${ratio}x wall, ${cpu_ratio}x CPU  (target <= 3x: $(verdict "$ok_ratio"))
  under 60 s: $(verdict "$ok_time"); peak memory $((peak / 1024)) MiB (target < 1024 MiB: $(verdict "$ok_mem"))
  $(cat "$dir/recon.out")
REPORT
imp_lps=$(echo "$rows / $imp_s" | bc -l | awk '{ printf "%d", $1 }')
bench_record reconcile "$lps" lines/s import_same_lines "$imp_lps" "$(bench_ratio "$imp_s" "$rec_s")" "$n" "$peak"
