/*
 * ckpt.c - the checkpointer thread of ckpt.h.
 *
 * Requests are numbered; the thread runs one PASSIVE checkpoint for every
 * batch of requests it finds waiting (one checkpoint covers everything
 * committed before it starts), then marks them all done.
 */
#include "ckpt.h"
#include "ledger_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* SQLite's own default, given back to the ledger's handle at the end. */
#define LG_WAL_AUTOCHECKPOINT_PAGES 1000

struct lg_ckpt {
	ledger *lg;
	sqlite3 *db;               /* this thread's handle on the same file */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;       /* a request, or a checkpoint done */
	long long asked, done;     /* requests made; requests served */
	int stop;
	int failed;
	lg_error err;              /* the first failed checkpoint's */
};

static void *ckpt_main(void *arg)
{
	lg_ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		long long target;
		int rc;
		while (c->done == c->asked && !c->stop)
			pthread_cond_wait(&c->cond, &c->mu);
		if (c->done == c->asked)
			break;
		target = c->asked;
		pthread_mutex_unlock(&c->mu);
		/* PASSIVE: copies what no reader still needs, never waits for
		 * one, and never blocks the writer. */
		rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		                               NULL, NULL);
		pthread_mutex_lock(&c->mu);
		/* Busy is another process's checkpoint in progress: the next
		 * request covers what this one would have copied. */
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && !c->failed) {
			c->failed = 1;
			lg_error_set(&c->err, LG_EIO, "%s: checkpointing the write-ahead "
			             "log: %s", sqlite3_db_filename(c->db, "main"),
			             sqlite3_errmsg(c->db));
		}
		c->done = target;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int lg_ckpt_start(ledger *lg, lg_ckpt **out, lg_error *err)
{
	const char *path = sqlite3_db_filename(lg->db, "main");
	lg_ckpt *c;

	*out = NULL;
	if (!path || !path[0])
		return LG_OK; /* in memory: no file to copy into */
	c = calloc(1, sizeof *c);
	if (!c)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	c->lg = lg;
	lg_error_init(&c->err);
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		lg_error_set(err, LG_EIO, "%s: cannot open a second handle: %s", path,
		             c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		free(c);
		return err->code;
	}
	/* The checkpoint syncs the WAL before copying and the database after,
	 * as the ledger's own handle would (synchronous=FULL, store.c). */
	if (sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK) {
		lg_error_set(err, LG_EIO, "%s: %s", path, sqlite3_errmsg(c->db));
		sqlite3_close(c->db);
		free(c);
		return err->code;
	}
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		sqlite3_close(c->db);
		free(c);
		return lg_error_set(err, LG_EINTERNAL, "cannot make a mutex");
	}
	if (pthread_cond_init(&c->cond, NULL) != 0) {
		pthread_mutex_destroy(&c->mu);
		sqlite3_close(c->db);
		free(c);
		return lg_error_set(err, LG_EINTERNAL, "cannot make a condition variable");
	}
	if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->mu);
		sqlite3_close(c->db);
		free(c);
		return lg_error_set(err, LG_EINTERNAL, "cannot start the checkpointer thread");
	}
	sqlite3_wal_autocheckpoint(lg->db, 0);
	*out = c;
	return LG_OK;
}

void lg_ckpt_request(lg_ckpt *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->asked++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
}

int lg_ckpt_wait(lg_ckpt *c, lg_error *err)
{
	int rc = LG_OK;

	if (!c)
		return LG_OK;
	pthread_mutex_lock(&c->mu);
	while (c->done < c->asked)
		pthread_cond_wait(&c->cond, &c->mu);
	if (c->failed) {
		*err = c->err;
		rc = c->err.code ? c->err.code : LG_EIO;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void lg_ckpt_stop(lg_ckpt *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	sqlite3_wal_autocheckpoint(c->lg->db, LG_WAL_AUTOCHECKPOINT_PAGES);
	free(c);
}
