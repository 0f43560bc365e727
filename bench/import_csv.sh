#!/bin/sh
# bench/import_csv.sh - staging a large bank CSV through the bank-csv
# profile: rows per second and peak memory against the issue's targets (at
# least 500,000 rows/s, under 64 MiB).  N rows: BENCH_CSV_N, else BENCH_N,
# else SCALE, else 1,000,000.
#
#   baseline  build/release/bench_csv_pass: one plain libcsv pass over the
#             same file (bench/csv_pass.c), the floor of merely parsing it
#   import    clearbook import --profile bank-csv into a fresh ledger:
#             decode, parse, check, stage every row and commit, durably
#
# Runs shorter than 5 s are repeated (BENCH_RUNS, default 5, baseline and
# import interleaved) and the medians taken.  Wall time, CPU time (user +
# system) and peak memory come from /usr/bin/time -v.  The figure is
# recorded through bench/lib.sh as csv_import (rows/s) beside libcsv_pass
# (rows/s over the same file), ratio = libcsv's time / ours.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
n=${BENCH_CSV_N:-${BENCH_N:-${SCALE:-1000000}}}
dir=${BENCH_DIR:-$root/out/bench}
cb=$root/bin/clearbook
pass=$root/build/release/bench_csv_pass
csv=$dir/bank-$n.csv
db=$dir/import-csv.db
export CLEARBOOK_NOW=2026-11-25T02:00:00Z
mkdir -p "$dir"

[ -x "$pass" ] || {
	echo "bench/import_csv.sh: $pass missing (make build/release/bench_csv_pass)" >&2
	exit 69
}
if [ ! -f "$csv" ]; then
	awk -v n="$n" 'BEGIN {
		print "Date,Description,Amount,Currency,Reference,Counterparty,Counterparty Account"
		for (i = 1; i <= n; i++)
			printf "2026-11-24,Payment %d,%s%d.%02d,EUR,BNK-%09d,Customer %d,DE89370400440532%06d\n", i, (i % 3 ? "" : "-"), i % 5000, i % 100, i, i % 997, i % 1000000
	}' > "$csv.tmp"
	mv "$csv.tmp" "$csv"
fi

# timed OUT CMD...: runs CMD under /usr/bin/time -v, stdout to OUT.out;
# sets t_wall (seconds, from the clock: time's own is in 10 ms steps),
# t_cpu (user + system seconds) and t_peak (KiB).
timed() {
	_o=$1
	shift
	_t0=$(date +%s.%N)
	/usr/bin/time -v -o "$_o.time" "$@" > "$_o.out"
	_t1=$(date +%s.%N)
	t_wall=$(echo "$_t1 - $_t0" | bc -l | awk '{ printf "%.3f", $1 }')
	t_cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 }
		END { printf "%.3f", u + s }' "$_o.time")
	t_peak=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$_o.time")
}

fresh_ledger() {
	rm -f "$db" "$db"-*
	"$cb" --db "$db" init > /dev/null
	"$cb" --db "$db" account add assets:bank:eur --type asset --asset EUR > /dev/null
}

cat "$csv" > /dev/null
runs=1 i=0 base_w="" base_c="" imp_w="" imp_c="" peak=0
while [ "$i" -lt "$runs" ]; do
	timed "$dir/csv-pass" "$pass" "$csv"
	[ "$(sed -n 2p "$dir/csv-pass.out")" -eq $((n + 1)) ] || {
		echo "bench/import_csv.sh: libcsv counted $(sed -n 2p "$dir/csv-pass.out") records, not $((n + 1))" >&2
		exit 70
	}
	base_w="$base_w $t_wall" base_c="$base_c $t_cpu"
	fresh_ledger
	timed "$dir/import-csv" "$cb" --db "$db" import --profile bank-csv \
		--account assets:bank:eur "$csv"
	grep -q ", $n line(s) staged" "$dir/import-csv.out" || {
		echo "bench/import_csv.sh: not every row staged: $(cat "$dir/import-csv.out")" >&2
		exit 70
	}
	imp_w="$imp_w $t_wall" imp_c="$imp_c $t_cpu"
	[ "$t_peak" -gt "$peak" ] && peak=$t_peak
	if [ "$i" -eq 0 ] && [ "$(echo "$t_wall < 5" | bc)" = 1 ]; then
		runs=${BENCH_RUNS:-5}
	fi
	i=$((i + 1))
done
# shellcheck disable=SC2086
{
	base_s=$(bench_median $base_w) base_cpu=$(bench_median $base_c)
	s=$(bench_median $imp_w) cpu=$(bench_median $imp_c)
}
rps=$(echo "$n / $s" | bc -l | awk '{ printf "%d", $1 }')
base_rps=$(echo "$n / $base_s" | bc -l | awk '{ printf "%d", $1 }')
ratio=$(bench_ratio "$base_s" "$s")
bench_record csv_import "$rps" rows/s libcsv_pass "$base_rps" "$ratio" "$n" "$peak"

verdict() { if [ "$1" = 1 ]; then echo "meets"; else echo "MISSES"; fi; }
cat <<REPORT
clearbook import bench: bank CSV, $n rows, $(du -m "$csv" | cut -f1) MiB ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), median of $runs)
  baseline: libcsv pass over the file           ${base_s} s (CPU ${base_cpu} s)   $base_rps rows/s
  clearbook import --profile bank-csv           ${s} s (CPU ${cpu} s)   $rps rows/s   peak ${peak} KiB   (${ratio}x of libcsv's speed)
    rows per second                             (target >= 500000: $(verdict "$(echo "$rps >= 500000" | bc)"))
    peak memory                                 (target < 65536 KiB: $(verdict "$(echo "$peak < 65536" | bc)"))
REPORT
