/*
 * test_ckpt.c - unit tests for ledger/ckpt.c, the checkpointer thread of
 * the reconciliation: while it runs the ledger's own handle leaves its
 * commits in the WAL; a request and a wait copy them into the database
 * file; waiting before the next transaction keeps the WAL from growing;
 * stopping gives the handle its automatic checkpoints back.
 *
 * Whether rows reached the database file is read from a copy of that file
 * alone, without its WAL: what a checkpoint has not copied is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../ledger/ckpt.h"
#include "../../ledger/ledger_sql.h"

#define ROWS_PER_COMMIT 2000 /* about 250 pages of 16 KiB: over none of SQLite's limits */

struct fixture {
	char dir[64];
	char path[128];
	ledger *lg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	lg_error err;

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_ckpt.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/l.db", f->dir);
	lg_error_init(&err);
	assert_int_equal(ledger_open(f->path, LEDGER_OPEN_CREATE | LEDGER_OPEN_THREADS,
	                             "2026-11-25T02:00:00Z", &f->lg, &err),
	                 LG_OK);
	assert_int_equal(sqlite3_exec(ledger_sqlite(f->lg),
	                              "CREATE TABLE t(v INTEGER, pad TEXT)", NULL, NULL, NULL),
	                 SQLITE_OK);
	/* Start from an empty WAL, everything so far in the file. */
	assert_int_equal(sqlite3_wal_checkpoint_v2(ledger_sqlite(f->lg), NULL,
	                                           SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
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

/* One transaction of ROWS_PER_COMMIT rows through the ledger's handle. */
static void commit_rows(struct fixture *f, int round)
{
	sqlite3 *db = ledger_sqlite(f->lg);
	sqlite3_stmt *st;
	lg_error err;

	lg_error_init(&err);
	assert_int_equal(ledger_begin(f->lg, &err), LG_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?1, printf('%.100c', 'x'))",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	for (int i = 0; i < ROWS_PER_COMMIT; i++) {
		sqlite3_bind_int(st, 1, round * ROWS_PER_COMMIT + i);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	assert_int_equal(ledger_commit(f->lg, &err), LG_OK);
}

/* Rows of t in the database file alone (a copy of it, without the WAL). */
static long long rows_in_file(struct fixture *f)
{
	char copy[160], cmd[1024];
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n;

	snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
	snprintf(cmd, sizeof cmd, "rm -f %s %s-wal %s-shm && cp %s %s", copy, copy, copy,
	         f->path, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static long long wal_bytes(struct fixture *f)
{
	char wal[160];
	struct stat sb;

	snprintf(wal, sizeof wal, "%s-wal", f->path);
	return stat(wal, &sb) == 0 ? (long long)sb.st_size : 0;
}

static int autocheckpoint_pages(struct fixture *f)
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_prepare_v2(ledger_sqlite(f->lg), "PRAGMA wal_autocheckpoint",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Commits stay in the WAL until asked for; a request and a wait copy
 * every one of them into the file. */
static void commits_reach_the_file_when_asked(void **state)
{
	struct fixture *f = *state;
	lg_ckpt *c = NULL;
	lg_error err;

	lg_error_init(&err);
	assert_int_equal(lg_ckpt_start(f->lg, &c, &err), LG_OK);
	assert_non_null(c);
	assert_int_equal(autocheckpoint_pages(f), 0);
	for (int round = 0; round < 4; round++)
		commit_rows(f, round); /* 1,000 pages: SQLite alone would copy them */
	assert_int_equal(rows_in_file(f), 0);
	lg_ckpt_request(c);
	assert_int_equal(lg_ckpt_wait(c, &err), LG_OK);
	assert_int_equal(rows_in_file(f), 4 * ROWS_PER_COMMIT);
	/* A checkpoint asked for after the last commit covers it. */
	commit_rows(f, 4);
	lg_ckpt_request(c);
	lg_ckpt_request(c);
	assert_int_equal(lg_ckpt_wait(c, &err), LG_OK);
	assert_int_equal(rows_in_file(f), 5 * ROWS_PER_COMMIT);
	lg_ckpt_stop(c);
	assert_int_equal(autocheckpoint_pages(f), 1000);
}

/* Waiting for the checkpoint before the next transaction starts the WAL
 * again from its beginning: twenty commits leave it the size of one. */
static void waiting_keeps_the_wal_small(void **state)
{
	struct fixture *f = *state;
	lg_ckpt *c = NULL;
	lg_error err;
	long long first = 0;

	lg_error_init(&err);
	assert_int_equal(lg_ckpt_start(f->lg, &c, &err), LG_OK);
	for (int round = 0; round < 20; round++) {
		commit_rows(f, round);
		lg_ckpt_request(c);
		assert_int_equal(lg_ckpt_wait(c, &err), LG_OK);
		if (round == 0)
			first = wal_bytes(f);
	}
	assert_true(first > 0);
	assert_true(wal_bytes(f) <= first + 4 * 16384);
	assert_int_equal(rows_in_file(f), 20 * ROWS_PER_COMMIT);
	lg_ckpt_stop(c);
}

/* Requests made while commits go on, as the reconciliation makes them:
 * nothing is lost and the rows all end in the file. */
static void requests_beside_commits(void **state)
{
	struct fixture *f = *state;
	lg_ckpt *c = NULL;
	lg_error err;

	lg_error_init(&err);
	assert_int_equal(lg_ckpt_start(f->lg, &c, &err), LG_OK);
	for (int round = 0; round < 12; round++) {
		commit_rows(f, round);
		lg_ckpt_request(c);
		if (round % 4 == 3)
			assert_int_equal(lg_ckpt_wait(c, &err), LG_OK);
	}
	assert_int_equal(lg_ckpt_wait(c, &err), LG_OK);
	assert_int_equal(rows_in_file(f), 12 * ROWS_PER_COMMIT);
	lg_ckpt_stop(c);
	lg_ckpt_stop(NULL);
	lg_ckpt_request(NULL);
	assert_int_equal(lg_ckpt_wait(NULL, &err), LG_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(commits_reach_the_file_when_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(waiting_keeps_the_wal_small, setup, teardown),
		cmocka_unit_test_setup_teardown(requests_beside_commits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
