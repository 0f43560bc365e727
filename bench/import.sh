#!/bin/sh
# bench/import.sh - ISO 20022 import benchmark, beside a baseline measured
# in the same run on the same machine, so the ratio holds on a noisy box.
# BENCH_CAMT_N entries (default 1,000,000) in one camt.053.001.08 statement
# made by bench/gen_camt053.sh (single and batch entries, CRDT and DBIT,
# balances that add up).
#
#   baseline  xmllint --stream --noout over the same file: libxml2's
#             streaming reader alone, the floor for any reader built on it
#   import    clearbook import --profile iso20022 into a fresh ledger:
#             read, check, stage every line and commit, durably
#
# Targets (the issue): import speed >= 50% of the baseline's (the ratio
# baseline seconds / import seconds >= 0.50) and peak memory < 64 MiB.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_CAMT_N:-1000000}
dir=${BENCH_DIR:-$root/out/bench}
cb=$root/bin/clearbook
file=$dir/camt053-$n.xml
db=$dir/import.db
export CLEARBOOK_NOW=2026-11-25T02:00:00Z
mkdir -p "$dir"
rm -f "$db" "$db"-*

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l | awk '{ printf "%.3f", $1 }'; }
peak_kb() { sed -n 's/^peak_kb=//p' "$1"; }

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

"$cb" --db "$db" init > /dev/null
"$cb" --db "$db" account add assets:bank:icbc:cny --type asset --asset CNY > /dev/null

# Warm the page cache so that neither run pays for the first read.
cat "$file" > /dev/null

t0=$(now)
/usr/bin/time -f 'peak_kb=%M' -o "$dir/xmllint.time" xmllint --stream --noout "$file"
t1=$(now)
base_s=$(elapsed "$t0" "$t1")

t0=$(now)
/usr/bin/time -f 'peak_kb=%M' -o "$dir/import.time" "$cb" --db "$db" import \
	--profile iso20022 --account assets:bank:icbc:cny "$file" > "$dir/import.out"
t1=$(now)
import_s=$(elapsed "$t0" "$t1")

lines=$(sed -n 's/.*statement(s), \([0-9]*\) line(s) staged.*/\1/p' "$dir/import.out")
eps=$(echo "$n / $import_s" | bc -l | awk '{ printf "%d", $1 }')
mibps=$(echo "$size_b / 1048576 / $import_s" | bc -l | awk '{ printf "%.1f", $1 }')
base_mibps=$(echo "$size_b / 1048576 / $base_s" | bc -l | awk '{ printf "%.1f", $1 }')
ratio=$(echo "$base_s / $import_s" | bc -l | awk '{ printf "%.2f", $1 }')
peak=$(peak_kb "$dir/import.time")
base_peak=$(peak_kb "$dir/xmllint.time")

verdict() { if [ "$1" = 1 ]; then echo "meets"; else echo "MISSES"; fi; }
cat <<REPORT
clearbook import bench: camt.053.001.08, $n entries, ${lines:-?} statement lines, $size_mib MiB ($(nproc) cores)
  baseline xmllint --stream --noout             ${base_s} s   $base_mibps MiB/s   peak ${base_peak} KiB
  clearbook import --profile iso20022           ${import_s} s   $mibps MiB/s   $eps entries/s   peak ${peak} KiB
    speed relative to baseline                  ${ratio}x   (target >= 0.50x: $(verdict "$(echo "$ratio >= 0.5" | bc)"))
    peak memory                                 (target < 65536 KiB: $(verdict "$(echo "$peak < 65536" | bc)"))
REPORT
