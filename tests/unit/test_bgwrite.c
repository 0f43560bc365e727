/*
 * test_bgwrite.c - unit tests for ledger/bgwrite.c, the writer thread of
 * the reconciliation: jobs run in the order given, a ticket's wait returns
 * once that job has run, the first failure stops every later job and is
 * what every later call returns, and a ledger opened for one thread is
 * refused.  The jobs here write rows through the ledger's connection, as
 * the real ones do, so that the connection's mutex is exercised too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ledger/bgwrite.h"
#include "../../ledger/ledger_sql.h"

#define JOBS 500 /* several times the ring */

struct fixture {
	char dir[64];
	char path[128];
	ledger *lg;
};

struct job {
	ledger *lg;
	int value;
	int fail;        /* this job fails */
	int *ran;        /* jobs run so far (only the writer thread writes it) */
	int order_ok;    /* ran in order */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	lg_error err;

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_bgwrite.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/l.db", f->dir);
	lg_error_init(&err);
	assert_int_equal(ledger_open(f->path, LEDGER_OPEN_CREATE | LEDGER_OPEN_THREADS,
	                             "2026-11-25T02:00:00Z", &f->lg, &err),
	                 LG_OK);
	assert_int_equal(sqlite3_exec(ledger_sqlite(f->lg), "CREATE TABLE t(v INTEGER)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	ledger_close(f->lg);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int insert_job(void *arg, lg_error *err)
{
	struct job *j = arg;
	sqlite3_stmt *st;
	int rc;

	if (*j->ran != j->value)
		j->order_ok = 0;
	(*j->ran)++;
	if (j->fail)
		return lg_error_set(err, LG_EDATA, "job %d fails", j->value);
	if (sqlite3_prepare_v2(ledger_sqlite(j->lg), "INSERT INTO t(v) VALUES(?1)", -1, &st,
	                       NULL) != SQLITE_OK)
		return lg_error_set(err, LG_EINTERNAL, "prepare");
	sqlite3_bind_int(st, 1, j->value);
	rc = sqlite3_step(st) == SQLITE_DONE ? LG_OK : lg_error_set(err, LG_EINTERNAL, "step");
	sqlite3_finalize(st);
	return rc;
}

static long long count_rows(ledger *lg, const char *sql)
{
	sqlite3_stmt *st;
	long long n = -1;

	assert_int_equal(sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void jobs_run_in_order(void **state)
{
	struct fixture *f = *state;
	static struct job jobs[JOBS];
	long long ticket[JOBS];
	lg_bgwrite *w = NULL;
	lg_error err;
	int ran = 0;

	lg_error_init(&err);
	assert_int_equal(lg_bgwrite_start(f->lg, &w, &err), LG_OK);
	assert_int_equal(ledger_begin(f->lg, &err), LG_OK);
	for (int i = 0; i < JOBS; i++) {
		jobs[i] = (struct job){ f->lg, i, 0, &ran, 1 };
		assert_int_equal(lg_bgwrite_submit(w, insert_job, &jobs[i], &ticket[i], &err),
		                 LG_OK);
		assert_true(ticket[i] == i + 1);
		/* The owner's own calls meanwhile wait for the job in hand. */
		if (i % 50 == 0)
			assert_true(count_rows(f->lg, "SELECT count(*) FROM t") >= 0);
		if (i == JOBS / 2) {
			assert_int_equal(lg_bgwrite_wait(w, ticket[i], &err), LG_OK);
			assert_true(count_rows(f->lg, "SELECT count(*) FROM t") >= i + 1);
		}
	}
	assert_int_equal(lg_bgwrite_drain(w, &err), LG_OK);
	assert_int_equal(ran, JOBS);
	for (int i = 0; i < JOBS; i++)
		assert_true(jobs[i].order_ok);
	assert_int_equal(ledger_commit(f->lg, &err), LG_OK);
	assert_true(count_rows(f->lg, "SELECT count(*) FROM t") == JOBS);
	assert_true(count_rows(f->lg, "SELECT sum(v) FROM t") == (long long)JOBS * (JOBS - 1) / 2);
	lg_bgwrite_stop(w);
}

static void first_failure_stops_the_rest(void **state)
{
	struct fixture *f = *state;
	static struct job jobs[8];
	long long ticket = 0;
	lg_bgwrite *w = NULL;
	lg_error err;
	int ran = 0, rc = LG_OK, submitted = 0;

	lg_error_init(&err);
	assert_int_equal(lg_bgwrite_start(f->lg, &w, &err), LG_OK);
	assert_int_equal(ledger_begin(f->lg, &err), LG_OK);
	for (int i = 0; i < 8 && rc == LG_OK; i++) {
		jobs[i] = (struct job){ f->lg, i, i == 3 || i == 5, &ran, 1 };
		rc = lg_bgwrite_submit(w, insert_job, &jobs[i], &ticket, &err);
		if (rc == LG_OK)
			submitted++;
	}
	/* Either a submit already met the failure, or the drain does. */
	if (rc == LG_OK)
		rc = lg_bgwrite_drain(w, &err);
	assert_int_equal(rc, LG_EDATA);
	assert_non_null(strstr(err.msg, "job 3 fails"));
	/* Later calls keep returning the first failure. */
	lg_error_init(&err);
	assert_int_equal(lg_bgwrite_wait(w, ticket, &err), LG_EDATA);
	assert_non_null(strstr(err.msg, "job 3 fails"));
	assert_int_equal(lg_bgwrite_submit(w, insert_job, &jobs[0], &ticket, &err), LG_EDATA);
	assert_true(submitted >= 4);
	assert_int_equal(ran, 4); /* jobs 0..3; nothing after the failure ran */
	assert_true(count_rows(f->lg, "SELECT count(*) FROM t") == 3);
	ledger_rollback(f->lg);
	assert_true(count_rows(f->lg, "SELECT count(*) FROM t") == 0);
	lg_bgwrite_stop(w);
}

static void one_thread_ledger_is_refused(void **state)
{
	struct fixture *f = *state;
	char path[160];
	lg_bgwrite *w = (lg_bgwrite *)1;
	ledger *one = NULL;
	lg_error err;

	snprintf(path, sizeof path, "%s/one.db", f->dir);
	lg_error_init(&err);
	assert_int_equal(ledger_open(path, LEDGER_OPEN_CREATE, "2026-11-25T02:00:00Z", &one,
	                             &err),
	                 LG_OK);
	assert_false(ledger_threads(one));
	assert_true(ledger_threads(f->lg));
	assert_int_equal(lg_bgwrite_start(one, &w, &err), LG_EUSAGE);
	assert_null(w);
	assert_non_null(strstr(err.msg, "LEDGER_OPEN_THREADS"));
	ledger_close(one);
	lg_bgwrite_stop(NULL); /* a no-op */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(jobs_run_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(first_failure_stops_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(one_thread_ledger_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
