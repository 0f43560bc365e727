# bench/lib.sh - what every benchmark script shares (sourced, POSIX sh).
#
# bench_record NAME VALUE UNIT BASELINE_NAME BASELINE_VALUE RATIO SCALE [PEAK_KIB]
#   Appends one JSON object (one line) to the file named by $BENCH_RESULTS,
#   when it is set; bench/all.sh collects these into bench/results.json and
#   bench/results.md.  RATIO is always the baseline's time divided by ours on
#   the same work (higher is better): for a rate, our rate / baseline rate;
#   for a time, baseline seconds / our seconds.  VALUE, BASELINE_VALUE and
#   RATIO are decimal numbers as text (no units); an absent baseline is "-",
#   written as null.  PEAK_KIB is our peak resident memory from
#   /usr/bin/time -v, or omitted.
#
# bench_ratio A B       prints A / B with two decimals (bc), "-" if B is 0
# bench_median V...     prints the median of its numeric arguments

bench_record() {
	[ -n "${BENCH_RESULTS:-}" ] || return 0
	_bn=$1 _bv=$2 _bu=$3 _bbn=$4 _bbv=$5 _br=$6 _bs=$7 _bp=${8:-}
	[ "$_bbn" = "-" ] && _bbn=null || _bbn="\"$_bbn\""
	[ "$_bbv" = "-" ] && _bbv=null
	[ "$_br" = "-" ] && _br=null
	if [ -n "$_bp" ]; then _bp=",\"peak_kib\":$_bp"; fi
	printf '{"name":"%s","value":%s,"unit":"%s","baseline_name":%s,"baseline_value":%s,"ratio":%s,"scale":%s%s}\n' \
		"$_bn" "$_bv" "$_bu" "$_bbn" "$_bbv" "$_br" "$_bs" "$_bp" >>"$BENCH_RESULTS"
}

bench_ratio() {
	if [ "$(echo "$2 == 0" | bc -l)" = 1 ]; then
		echo -
	else
		echo "$1 / $2" | bc -l | awk '{ printf "%.2f", $1 }'
	fi
}

bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
