#!/bin/sh
# run-threads.sh BUILD_DIR - the tests of the code that runs on more than
# one thread, against a ThreadSanitizer build (make tsan): the unit tests
# built there, and the end-to-end scripts whose commands start threads
# (post's reader, the reconciliation's writer and line reader, the nightly
# batch that reconciles).  A data race fails the run.
set -u
build=${1:?usage: tests/run-threads.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
export CLEARBOOK="$build/clearbook"
export ROOT="$root"
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
unset CLEARBOOK_DB CLEARBOOK_NOW
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

for name in reconcile_threads reconcile_grouped reconcile nightly post_reader; do
	s="$root/tests/e2e/$name.sh"
	[ -f "$s" ] || { fail=$((fail + 1)); failed="$failed $name(missing)"; continue; }
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

echo "tests ($(basename "$build"), threads): $pass passed, $fail failed${failed:+:$failed}"
[ "$fail" -eq 0 ]
