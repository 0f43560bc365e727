/*
 * test_sync.c - unit tests for ledger_defer_sync (ledger/store.c): with
 * commits deferred, a commit does not flush the WAL to disk; turning it off
 * (or closing the ledger) flushes it once, and commits are durable again.
 *
 * What reaches the disk is counted by a VFS that wraps SQLite's default one
 * and counts xSync calls on files whose name ends in "-wal": the flush a
 * synchronous=FULL commit does, and the one ledger_defer_sync(lg, 0) does.
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

#include "../../ledger/ledger.h"
#include "../../ledger/ledger_sql.h"

/* --- a VFS that counts the WAL's syncs ------------------------------------ */
struct count_file {
	sqlite3_file base;   /* first: SQLite sees this */
	int is_wal;
	sqlite3_file *real;  /* the default VFS's file, right after this struct */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs count_vfs;
static sqlite3_io_methods count_methods;
static int wal_syncs; /* a test's counter: the tests run on one thread */

static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct count_file *)f)->real;
}

static int c_close(sqlite3_file *f)
{
	return real_of(f)->pMethods->xClose(real_of(f));
}
static int c_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return real_of(f)->pMethods->xRead(real_of(f), b, n, o);
}
static int c_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return real_of(f)->pMethods->xWrite(real_of(f), b, n, o);
}
static int c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
static int c_sync(sqlite3_file *f, int flags)
{
	if (((struct count_file *)f)->is_wal)
		wal_syncs++;
	return real_of(f)->pMethods->xSync(real_of(f), flags);
}
static int c_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
static int c_lock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xLock(real_of(f), level);
}
static int c_unlock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), level);
}
static int c_check(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
static int c_fcntl(sqlite3_file *f, int op, void *arg)
{
	return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
static int c_sector(sqlite3_file *f)
{
	return real_of(f)->pMethods->xSectorSize(real_of(f));
}
static int c_caps(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
static int c_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return real_of(f)->pMethods->xShmMap(real_of(f), pg, pgsz, extend, pp);
}
static int c_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
static void c_shm_barrier(sqlite3_file *f)
{
	real_of(f)->pMethods->xShmBarrier(real_of(f));
}
static int c_shm_unmap(sqlite3_file *f, int del)
{
	return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}
static int c_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp)
{
	return real_of(f)->pMethods->xFetch(real_of(f), o, n, pp);
}
static int c_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
	return real_of(f)->pMethods->xUnfetch(real_of(f), o, p);
}

static int c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
                  int *out_flags)
{
	struct count_file *cf = (struct count_file *)f;
	size_t len = name ? strlen(name) : 0;
	int rc;

	(void)vfs;
	memset(cf, 0, sizeof *cf);
	cf->real = (sqlite3_file *)(cf + 1);
	cf->is_wal = len > 4 && strcmp(name + len - 4, "-wal") == 0;
	rc = real_vfs->xOpen(real_vfs, name, cf->real, flags, out_flags);
	/* SQLite calls xClose only when pMethods is set: set it only when the
	 * real file opened. */
	if (rc == SQLITE_OK && cf->real->pMethods)
		cf->base.pMethods = &count_methods;
	return rc;
}

static void install_count_vfs(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	assert_non_null(real_vfs);
	count_vfs = *real_vfs;
	count_vfs.zName = "count";
	count_vfs.szOsFile = (int)sizeof(struct count_file) + real_vfs->szOsFile;
	count_vfs.xOpen = c_open;
	count_methods = (sqlite3_io_methods){
		3, c_close, c_read, c_write, c_truncate, c_sync, c_size, c_lock, c_unlock,
		c_check, c_fcntl, c_sector, c_caps, c_shm_map, c_shm_lock, c_shm_barrier,
		c_shm_unmap, c_fetch, c_unfetch
	};
	assert_int_equal(sqlite3_vfs_register(&count_vfs, 1), SQLITE_OK);
}

/* --- fixture ---------------------------------------------------------------- */
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
	snprintf(f->dir, sizeof f->dir, "/tmp/test_sync.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/l.db", f->dir);
	lg_error_init(&err);
	assert_int_equal(ledger_open(f->path, LEDGER_OPEN_CREATE, "2026-11-25T02:00:00Z",
	                             &f->lg, &err),
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

static void commit_row(ledger *lg, int v)
{
	char sql[64];
	lg_error err;

	lg_error_init(&err);
	assert_int_equal(ledger_begin(lg, &err), LG_OK);
	snprintf(sql, sizeof sql, "INSERT INTO t VALUES(%d)", v);
	assert_int_equal(sqlite3_exec(ledger_sqlite(lg), sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ledger_commit(lg, &err), LG_OK);
}

static int synchronous(ledger *lg)
{
	sqlite3_stmt *st;
	int v;

	assert_int_equal(sqlite3_prepare_v2(ledger_sqlite(lg), "PRAGMA synchronous", -1, &st,
	                                    NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* --- tests ------------------------------------------------------------------ */
static void a_durable_commit_flushes_the_wal(void **state)
{
	struct fixture *f = *state;

	commit_row(f->lg, 0); /* the WAL's first frames, and its header */
	wal_syncs = 0;
	for (int i = 1; i <= 5; i++)
		commit_row(f->lg, i);
	assert_int_equal(synchronous(f->lg), 2);
	assert_int_equal(wal_syncs, 5);
}

static void deferred_commits_are_flushed_once_at_the_end(void **state)
{
	struct fixture *f = *state;
	lg_error err;

	lg_error_init(&err);
	commit_row(f->lg, 0);
	assert_int_equal(ledger_defer_sync(f->lg, 1, &err), LG_OK);
	assert_int_equal(synchronous(f->lg), 1);
	wal_syncs = 0;
	for (int i = 1; i <= 5; i++)
		commit_row(f->lg, i);
	assert_int_equal(wal_syncs, 0);
	assert_int_equal(ledger_defer_sync(f->lg, 0, &err), LG_OK);
	assert_int_equal(wal_syncs, 1);
	assert_int_equal(synchronous(f->lg), 2);
	/* Durable again: each commit flushes. */
	commit_row(f->lg, 6);
	assert_int_equal(wal_syncs, 2);
	/* Off when already off: nothing to flush. */
	assert_int_equal(ledger_defer_sync(f->lg, 0, &err), LG_OK);
	assert_int_equal(wal_syncs, 2);
}

static void not_inside_a_transaction(void **state)
{
	struct fixture *f = *state;
	lg_error err;

	lg_error_init(&err);
	assert_int_equal(ledger_begin(f->lg, &err), LG_OK);
	assert_int_equal(ledger_defer_sync(f->lg, 1, &err), LG_EUSAGE);
	assert_non_null(strstr(err.msg, "between transactions"));
	assert_int_equal(ledger_defer_sync(f->lg, 0, &err), LG_EUSAGE);
	ledger_rollback(f->lg);
	assert_int_equal(synchronous(f->lg), 2);
}

/* Closing with commits still deferred flushes them.  A second connection
 * stays open, so that SQLite's own close does not checkpoint (and sync) the
 * WAL: the one sync counted is the ledger's. */
static void closing_flushes_deferred_commits(void **state)
{
	struct fixture *f = *state;
	sqlite3 *other;
	lg_error err;

	lg_error_init(&err);
	commit_row(f->lg, 0);
	assert_int_equal(sqlite3_open_v2(f->path, &other, SQLITE_OPEN_READWRITE, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "SELECT count(*) FROM t", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(ledger_defer_sync(f->lg, 1, &err), LG_OK);
	commit_row(f->lg, 1);
	wal_syncs = 0;
	ledger_close(f->lg);
	f->lg = NULL;
	assert_int_equal(wal_syncs, 1);
	sqlite3_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_durable_commit_flushes_the_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(deferred_commits_are_flushed_once_at_the_end, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(not_inside_a_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(closing_flushes_deferred_commits, setup, teardown),
	};
	install_count_vfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
