#!/bin/sh
# run-threads.sh BUILD_DIR - the tests of the code that runs on more than
# one thread, against a ThreadSanitizer build (make tsan): the unit tests
# built there (tests/run.sh runs every one in BUILD_DIR/tests), and the
# end-to-end scripts whose commands start threads (post's reader, the
# reconciliation's writer and line reader, the nightly batch that
# reconciles).  A data race fails the run (TSAN_OPTIONS in tests/run.sh).
exec "$(dirname "$0")/run.sh" "${1:?usage: tests/run-threads.sh BUILD_DIR}" \
	reconcile_threads reconcile_grouped reconcile nightly post_reader
