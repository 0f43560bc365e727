#!/bin/sh
# bench/import_csv.sh - staging a large bank CSV (BENCH_CSV_N rows, default
# 1,000,000) through the bank-csv profile: rows per second and peak memory
# against the issue's targets (at least 500,000 rows/s, under 64 MiB), with
# `wc -l` over the same file as the floor of merely reading it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_CSV_N:-1000000}
dir=${BENCH_DIR:-$root/out/bench}
cb=$root/bin/clearbook
csv=$dir/bank-$n.csv
export CLEARBOOK_NOW=2026-11-25T02:00:00Z
export CLEARBOOK_DB="$dir/import-csv.db"
mkdir -p "$dir"
rm -f "$dir"/import-csv.db*

if [ ! -f "$csv" ]; then
	awk -v n="$n" 'BEGIN {
		print "Date,Description,Amount,Currency,Reference,Counterparty,Counterparty Account"
		for (i = 1; i <= n; i++)
			printf "2026-11-24,Payment %d,%s%d.%02d,EUR,BNK-%09d,Customer %d,DE89370400440532%06d\n", i, (i % 3 ? "" : "-"), i % 5000, i % 100, i, i % 997, i % 1000000
	}' > "$csv"
fi
"$cb" init > /dev/null
"$cb" account add assets:bank:eur --type asset --asset EUR

now() { date +%s.%N; }
t0=$(now); wc -l "$csv" > /dev/null; t1=$(now)
wc_s=$(echo "$t1 - $t0" | bc -l | awk '{ printf "%.3f", $1 }')
t0=$(now)
/usr/bin/time -f 'peak_kb=%M' -o "$dir/import-csv.time" \
	"$cb" import --profile bank-csv --account assets:bank:eur "$csv" > /dev/null
t1=$(now)
s=$(echo "$t1 - $t0" | bc -l | awk '{ printf "%.3f", $1 }')
rps=$(echo "$n / $s" | bc -l | awk '{ printf "%d", $1 }')
peak=$(sed -n 's/^peak_kb=//p' "$dir/import-csv.time")
verdict() { if [ "$1" = 1 ]; then echo "meets"; else echo "MISSES"; fi; }
cat <<REPORT
clearbook import bench: bank CSV, $n rows, $(du -m "$csv" | cut -f1) MiB ($(nproc) cores)
  floor: wc -l over the file                    ${wc_s} s
  clearbook import --profile bank-csv           ${s} s   $rps rows/s   peak ${peak} KiB
    rows per second                             (target >= 500000: $(verdict "$(echo "$rps >= 500000" | bc)"))
    peak memory                                 (target < 65536 KiB: $(verdict "$(echo "$peak < 65536" | bc)"))
REPORT
