/*
 * backup.c - online backup and verified restore of a ledger database,
 * through SQLite's backup API.
 *
 * A backup copies every page in one step while holding a read transaction,
 * so it is a consistent snapshot even while other processes write (WAL).
 * A restore opens the copy as a ledger and refuses it unless its hash chain
 * and balances verify; only then are its pages copied into place.
 */
#include "ledger_int.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKUP_BUSY_RETRIES 500   /* 500 x 20 ms: ten seconds */
#define BACKUP_BUSY_SLEEP_MS 20

static int copy_pages(sqlite3 *from, sqlite3 *to, const char *what, lg_error *err)
{
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
	int rc, tries = 0;

	if (!b)
		return lg_error_set(err, LG_EIO, "%s: %s", what, sqlite3_errmsg(to));
	do {
		/* -1: all pages in one step, one consistent read snapshot. */
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(BACKUP_BUSY_SLEEP_MS);
	} while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++tries < BACKUP_BUSY_RETRIES);
	sqlite3_backup_finish(b);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return lg_error_set(err, LG_EBUSY, "%s: the database stayed busy", what);
	if (rc != SQLITE_DONE)
		return lg_error_set(err, LG_EIO, "%s: %s", what, sqlite3_errstr(rc));
	return LG_OK;
}

static int open_target(const char *path, int must_be_new, sqlite3 **out, lg_error *err)
{
	struct stat sb;

	*out = NULL;
	if (must_be_new && stat(path, &sb) == 0)
		return lg_error_set(err, LG_EUSAGE, "%s already exists; nothing was written",
		                    path);
	if (sqlite3_open_v2(path, out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		int rc = lg_error_set(err, LG_EIO, "%s: %s", path,
		                      *out ? sqlite3_errmsg(*out) : "cannot open");
		sqlite3_close(*out);
		*out = NULL;
		return rc;
	}
	sqlite3_busy_timeout(*out, LG_BUSY_TIMEOUT_MS);
	return LG_OK;
}

int ledger_backup(ledger *lg, const char *path, lg_error *err)
{
	sqlite3 *dst;
	int rc;

	LG_ASSERT(!lg->in_tx);
	rc = open_target(path, 1, &dst, err);
	if (rc)
		return rc;
	rc = copy_pages(lg->db, dst, path, err);
	if (sqlite3_close(dst) != SQLITE_OK && !rc)
		rc = lg_error_set(err, LG_EIO, "%s: closing failed", path);
	if (rc)
		unlink(path);
	return rc;
}

int ledger_restore(const char *from_path, const char *to_path, int replace,
                   ledger_verify_result *res, lg_error *err)
{
	ledger *src = NULL;
	sqlite3 *dst = NULL;
	int rc;

	memset(res, 0, sizeof *res);
	rc = ledger_open(from_path, 0, NULL, &src, err);
	if (rc)
		return rc;
	rc = ledger_verify(src, res, err);
	if (rc == LG_ECHECK) {
		rc = lg_error_set(err, LG_ECHECK, "%s does not verify (%s%s): nothing was "
		                  "restored", from_path, res->problem,
		                  res->broken_seq ? ", see clearbook verify" : "");
		goto out;
	}
	if (rc)
		goto out;
	rc = open_target(to_path, !replace, &dst, err);
	if (!rc)
		rc = copy_pages(src->db, dst, to_path, err);
	if (dst && sqlite3_close(dst) != SQLITE_OK && !rc)
		rc = lg_error_set(err, LG_EIO, "%s: closing failed", to_path);
out:
	ledger_close(src);
	return rc;
}
