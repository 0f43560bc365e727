#!/bin/sh
# bench/import.sh - ISO 20022 import benchmark, beside a baseline measured
# in the same run on the same machine, so the ratio holds on a noisy box.
# N entries in one camt.053.001.08 statement made by bench/gen_camt053.sh
# (single and batch entries, CRDT and DBIT, balances that add up); N is
# BENCH_CAMT_N, else BENCH_N, else SCALE, else 1,000,000.
#
#   baseline  xmllint --stream --noout over the same file: libxml2's
#             streaming reader alone, the floor for any reader built on it
#   import    clearbook import --profile iso20022 into a fresh ledger:
#             read, check, stage every line and commit, durably
#
# Runs shorter than 5 s are repeated (BENCH_RUNS, default 5, baseline and
# import interleaved) and the medians taken.  Wall time, CPU time (user +
# system) and peak memory come from /usr/bin/time -v.  The figure is
# recorded through bench/lib.sh as camt_import (entries/s) beside
# xmllint_stream (entries/s on the same file), ratio = xmllint's time / ours.
#
# Targets (the issue): import speed >= 50% of the baseline's (the ratio
# baseline seconds / import seconds >= 0.50) and peak memory < 64 MiB.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
n=${BENCH_CAMT_N:-${BENCH_N:-${SCALE:-1000000}}}
dir=${BENCH_DIR:-$root/out/bench}
cb=$root/bin/clearbook
file=$dir/camt053-$n.xml
db=$dir/import.db
export CLEARBOOK_NOW=2026-11-25T02:00:00Z
mkdir -p "$dir"

command -v xmllint > /dev/null 2>&1 || {
	echo "bench/import.sh: xmllint not installed (apt-get install libxml2-utils)" >&2
	exit 69
}
if [ ! -s "$file" ]; then
	"$root/bench/gen_camt053.sh" "$n" > "$file.tmp"
	mv "$file.tmp" "$file"
fi
size_b=$(wc -c < "$file")
size_mib=$(echo "$size_b / 1048576" | bc -l | awk '{ printf "%.1f", $1 }')

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
	"$cb" --db "$db" account add assets:bank:icbc:cny --type asset --asset CNY > /dev/null
}

# Warm the page cache so that neither run pays for the first read.
cat "$file" > /dev/null

runs=1 i=0 base_w="" base_c="" imp_w="" imp_c="" peak=0 base_peak=0
while [ "$i" -lt "$runs" ]; do
	timed "$dir/xmllint" xmllint --stream --noout "$file"
	base_w="$base_w $t_wall" base_c="$base_c $t_cpu" base_peak=$t_peak
	fresh_ledger
	timed "$dir/import" "$cb" --db "$db" import --profile iso20022 \
		--account assets:bank:icbc:cny "$file"
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
	import_s=$(bench_median $imp_w) import_cpu=$(bench_median $imp_c)
}

lines=$(sed -n 's/.*statement(s), \([0-9]*\) line(s) staged.*/\1/p' "$dir/import.out")
eps=$(echo "$n / $import_s" | bc -l | awk '{ printf "%d", $1 }')
base_eps=$(echo "$n / $base_s" | bc -l | awk '{ printf "%d", $1 }')
mibps=$(echo "$size_b / 1048576 / $import_s" | bc -l | awk '{ printf "%.1f", $1 }')
base_mibps=$(echo "$size_b / 1048576 / $base_s" | bc -l | awk '{ printf "%.1f", $1 }')
ratio=$(bench_ratio "$base_s" "$import_s")
ratio_cpu=$(bench_ratio "$base_cpu" "$import_cpu")
bench_record camt_import "$eps" entries/s xmllint_stream "$base_eps" "$ratio" "$n" "$peak"

verdict() { if [ "$1" = 1 ]; then echo "meets"; else echo "MISSES"; fi; }
cat <<REPORT
clearbook import bench: camt.053.001.08, $n entries, ${lines:-?} statement lines, $size_mib MiB ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), median of $runs)
  baseline xmllint --stream --noout             ${base_s} s (CPU ${base_cpu} s)   $base_mibps MiB/s   $base_eps entries/s   peak ${base_peak} KiB
  clearbook import --profile iso20022           ${import_s} s (CPU ${import_cpu} s)   $mibps MiB/s   $eps entries/s   peak ${peak} KiB
    speed relative to baseline                  ${ratio}x wall, ${ratio_cpu}x CPU   (target >= 0.50x: $(verdict "$(echo "$ratio >= 0.5" | bc)"))
    peak memory                                 (target < 65536 KiB: $(verdict "$(echo "$peak < 65536" | bc)"))
REPORT
