#!/bin/sh
# run.sh BUILD_DIR [E2E_NAME...] - run every test against one build
# (release, asan, or tsan through tests/run-threads.sh).
#
# Unit tests: every BUILD_DIR/tests/test_* binary (cmocka).
# End-to-end: every tests/e2e/*.sh (or only the named ones), with CLEARBOOK
# set to BUILD_DIR/clearbook and a fresh scratch directory in TMPDIR_E2E.
# A script passes by exiting 0; a named script that is missing fails.
set -u
build=${1:?usage: tests/run.sh BUILD_DIR [E2E_NAME...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
export CLEARBOOK="$build/clearbook"
export ROOT="$root"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
unset CLEARBOOK_DB CLEARBOOK_NOW
# The shared corpus of real bank files sits beside the checkout
# (../shared/corpus); a clone made elsewhere finds it at its usual place.
if [ -z "${CLEARBOOK_CORPUS:-}" ] && [ ! -d "$root/../shared/corpus" ] &&
	[ -d /work/shared/corpus ]; then
	export CLEARBOOK_CORPUS=/work/shared/corpus
fi
pass=0
fail=0
failed=""

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	if "$t" >"$build/$(basename "$t").log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $(basename "$t")"
		cat "$build/$(basename "$t").log"
	fi
done

if [ "$#" -eq 0 ]; then
	set -- "$root"/tests/e2e/*.sh
else
	for name in "$@"; do
		shift
		set -- "$@" "$root/tests/e2e/$name.sh"
	done
fi
for s in "$@"; do
	name=$(basename "$s" .sh)
	if [ ! -f "$s" ]; then
		fail=$((fail + 1))
		failed="$failed $name(missing)"
		continue
	fi
	scratch=$(mktemp -d)
	if (cd "$scratch" && TMPDIR_E2E="$scratch" sh "$s") >"$scratch.log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "--- $name failed:"
		tail -n 40 "$scratch.log"
	fi
	rm -rf "$scratch" "$scratch.log"
done

echo "tests ($(basename "$build")): $pass passed, $fail failed${failed:+:$failed}"
[ "$fail" -eq 0 ]
