/*
 * test_reader.c - unit tests for ledger/reader.c, the thread that reads and
 * parses `clearbook post`'s input, through its internal contract in
 * ledger/ledger_int.h.
 *
 * The property no end-to-end test can reach: a writer that stops early (an
 * I/O error ends the batch) must not wait for the rest of a pipe whose
 * other end stays open.  An alarm fails the test if lg_reader_stop hangs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../ledger/ledger_int.h"

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "test_reader: lg_reader_stop hung on an open pipe\n";
	if (write(2, msg, sizeof msg - 1) < 0)
		_exit(2);
	_exit(1);
}

static void write_lines(int fd, int from, int to)
{
	char line[256];
	for (int i = from; i <= to; i++) {
		int n = snprintf(line, sizeof line, "{\"id\":\"t%d\",\"date\":\"2026-11-24\","
		                 "\"postings\":[{\"account\":\"a\",\"amount\":\"%d.5\"},"
		                 "{\"account\":\"b\",\"amount\":\"-%d.50\"}]}\n", i, i, i);
		assert_true(write(fd, line, (size_t)n) == n);
	}
}

static void stop_does_not_wait_for_an_open_pipe(void **state)
{
	int fds[2], n;
	struct lg_reader *r = NULL;
	struct lg_parsed *lines;
	lg_error err;
	FILE *in;

	(void)state;
	lg_error_init(&err);
	assert_int_equal(pipe(fds), 0);
	write_lines(fds[1], 1, 300); /* one full block and part of the next */
	in = fdopen(fds[0], "r");
	assert_non_null(in);
	assert_int_equal(lg_reader_start(in, &r, &err), LG_OK);
	lines = lg_reader_lines(r, &n);
	assert_non_null(lines);
	assert_int_equal(n, 256);
	assert_int_equal(lines[0].lineno, 1);
	assert_int_equal(lines[255].lineno, 256);
	assert_int_equal(lines[255].rc, LG_OK);
	assert_string_equal(lines[255].id, "t256");
	lg_reader_release(r);
	/* The thread now waits in getline for line 301, which never comes. */
	usleep(100 * 1000);
	signal(SIGALRM, on_alarm);
	alarm(10);
	lg_reader_stop(r);
	alarm(0);
	fclose(in);
	close(fds[1]);
}

static void lines_keep_their_numbers_across_blank_lines_and_blocks(void **state)
{
	int n, seen = 0;
	struct lg_reader *r = NULL;
	struct lg_parsed *lines;
	lg_error err;
	FILE *in = tmpfile();

	(void)state;
	lg_error_init(&err);
	assert_non_null(in);
	write_lines(fileno(in), 1, 200);
	assert_true(write(fileno(in), "\n\r\n", 3) == 3);      /* lines 201, 202 */
	write_lines(fileno(in), 203, 600);
	assert_int_equal(lseek(fileno(in), 0, SEEK_SET), 0);
	assert_int_equal(lg_reader_start(in, &r, &err), LG_OK);
	while ((lines = lg_reader_lines(r, &n)) != NULL) {
		for (int i = 0; i < n; i++) {
			char id[32];
			long want = seen < 200 ? seen + 1 : seen + 3;
			assert_int_equal(lines[i].lineno, want);
			assert_int_equal(lines[i].rc, LG_OK);
			assert_int_equal(lines[i].n, 2);
			assert_true(lines[i].content_known);
			snprintf(id, sizeof id, "t%ld", want);
			assert_string_equal(lines[i].id, id);
			seen++;
		}
		lg_reader_release(r);
	}
	assert_int_equal(seen, 598);
	assert_int_equal(lg_reader_failed(r), 0);
	lg_reader_stop(r);
	fclose(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stop_does_not_wait_for_an_open_pipe),
		cmocka_unit_test(lines_keep_their_numbers_across_blank_lines_and_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
