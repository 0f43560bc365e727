#!/bin/sh
# tests/fuzz/run-short.sh - a short libFuzzer run of every target, for CI.
#
# Runs only when CI=true or FUZZ_SHORT=1 (a developer's `make test` stays
# quick; `make fuzz FUZZ_SECONDS=600` is the long run).  For each
# tests/fuzz/fuzz_NAME.c: builds build/fuzz/fuzz_NAME through make, then
# runs it for FUZZ_SHORT_SECONDS (default 20) seeded from
# tests/fuzz/corpus-NAME/, growing build/fuzz/corpus-NAME/.  Any crash,
# sanitizer report, leak, timeout or out-of-memory fails the script; the
# input that did it is kept as build/fuzz/artifacts/NAME-crash-* (or
# leak-, timeout-, oom-) and the end of the fuzzer's log is printed.
# docs/fuzzing.md lists the targets and what each checks.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SHORT_SECONDS:-20}

if [ "${CI:-}" != "true" ] && [ "${FUZZ_SHORT:-}" != "1" ]; then
	echo "fuzz: skipped (set FUZZ_SHORT=1, or CI=true, for a ${secs} s run of each fuzzer)"
	exit 0
fi
if ! command -v clang > /dev/null 2>&1; then
	echo "fuzz: clang is needed for the libFuzzer targets and is not installed" >&2
	exit 69
fi
case $secs in
''|*[!0-9]*) echo "fuzz: FUZZ_SHORT_SECONDS must be a whole number" >&2; exit 64 ;;
esac

cd "$root"
mkdir -p build/fuzz/artifacts
failed=0
for src in tests/fuzz/fuzz_*.c; do
	name=${src#tests/fuzz/fuzz_}
	name=${name%.c}
	bin=build/fuzz/fuzz_$name
	log=build/fuzz/fuzz_$name.log
	${MAKE:-make} --no-print-directory "$bin"
	mkdir -p "build/fuzz/corpus-$name"
	seeds=
	[ -d "tests/fuzz/corpus-$name" ] && seeds=tests/fuzz/corpus-$name
	echo "fuzz: $name for ${secs} s"
	# -timeout: one input taking 10 s is a hang worth reporting;
	# -rss_limit_mb: well above what any target needs.
	# $seeds is unquoted on purpose: empty means no seed directory.
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$name-" \
		"build/fuzz/corpus-$name" $seeds > "$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1, ft \2/p')
		echo "fuzz: $name ok (${runs:-?} runs${cov:+, $cov})"
	else
		failed=1
		echo "fuzz: $name FAILED; end of $log:" >&2
		grep -v '^#[0-9]' "$log" | tail -n 40 >&2
		ls build/fuzz/artifacts/"$name"-* 2> /dev/null >&2 || true
	fi
done
exit "$failed"
