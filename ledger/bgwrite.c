/*
 * bgwrite.c - the writer thread of bgwrite.h: a ring of jobs, run in order.
 *
 * The owner and the thread meet on one mutex; a condition variable is only
 * signalled when the other side sleeps on it, so a steady stream of jobs
 * costs a lock and an unlock each, not a wake-up.
 */
#include "bgwrite.h"
#include "ledger_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BG_RING 64 /* jobs queued at most */

struct bg_job {
	lg_bgwrite_fn fn;
	void *arg;
};

struct lg_bgwrite {
	ledger *lg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;          /* work queued, or a job done */
	struct bg_job ring[BG_RING];
	long long submitted;          /* tickets given (the last one's number) */
	long long done;               /* jobs run, in ticket order */
	int owner_waits, writer_waits;
	long long owner_wants;        /* the ticket a waiting owner waits for */
	int stop;
	int failed;
	lg_error err;                 /* the first failed job's */
};

static void *writer_main(void *arg)
{
	lg_bgwrite *w = arg;
	sqlite3_mutex *dbmu = sqlite3_db_mutex(w->lg->db);

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct bg_job job;
		lg_error err;
		int rc;
		while (w->done == w->submitted && !w->stop) {
			w->writer_waits = 1;
			pthread_cond_wait(&w->cond, &w->mu);
			w->writer_waits = 0;
		}
		if (w->done == w->submitted)
			break; /* stopped with nothing left */
		job = w->ring[w->done % BG_RING];
		pthread_mutex_unlock(&w->mu);
		rc = LG_OK;
		lg_error_init(&err);
		if (!w->failed) { /* read unlocked: only this thread writes it */
			sqlite3_mutex_enter(dbmu);
			rc = job.fn(job.arg, &err);
			sqlite3_mutex_leave(dbmu);
		}
		pthread_mutex_lock(&w->mu);
		if (rc && !w->failed) {
			w->failed = 1;
			w->err = err;
		}
		w->done++;
		if (w->owner_waits && (w->done >= w->owner_wants || w->failed))
			pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int lg_bgwrite_start(ledger *lg, lg_bgwrite **out, lg_error *err)
{
	lg_bgwrite *w;

	*out = NULL;
	if (sqlite3_db_mutex(lg->db) == NULL)
		return lg_error_set(err, LG_EUSAGE, "the ledger was opened for one thread "
		                    "(LEDGER_OPEN_THREADS is needed for a writer thread)");
	w = calloc(1, sizeof *w);
	if (!w)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	w->lg = lg;
	lg_error_init(&w->err);
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return lg_error_set(err, LG_EINTERNAL, "cannot make a mutex");
	}
	if (pthread_cond_init(&w->cond, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		return lg_error_set(err, LG_EINTERNAL, "cannot make a condition variable");
	}
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return lg_error_set(err, LG_EINTERNAL, "cannot start the writer thread");
	}
	*out = w;
	return LG_OK;
}

/* With w->mu held: the first failure's error, if any. */
static int failed_locked(lg_bgwrite *w, lg_error *err)
{
	if (!w->failed)
		return LG_OK;
	*err = w->err;
	return w->err.code ? w->err.code : LG_EINTERNAL;
}

int lg_bgwrite_submit(lg_bgwrite *w, lg_bgwrite_fn fn, void *job,
                      long long *ticket_out, lg_error *err)
{
	int rc;

	LG_ASSERT(fn != NULL);
	*ticket_out = 0;
	pthread_mutex_lock(&w->mu);
	while (w->submitted - w->done >= BG_RING && !w->failed) {
		w->owner_waits = 1;
		w->owner_wants = w->submitted - BG_RING / 2; /* half the ring free */
		pthread_cond_wait(&w->cond, &w->mu);
		w->owner_waits = 0;
	}
	rc = failed_locked(w, err);
	if (!rc) {
		w->ring[w->submitted % BG_RING] = (struct bg_job){ fn, job };
		*ticket_out = ++w->submitted;
		if (w->writer_waits)
			pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int lg_bgwrite_wait(lg_bgwrite *w, long long ticket, lg_error *err)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	LG_ASSERT(ticket >= 0 && ticket <= w->submitted);
	while (w->done < ticket && !w->failed) {
		w->owner_waits = 1;
		w->owner_wants = ticket;
		pthread_cond_wait(&w->cond, &w->mu);
		w->owner_waits = 0;
	}
	rc = failed_locked(w, err);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int lg_bgwrite_done(lg_bgwrite *w, long long ticket)
{
	int done;

	pthread_mutex_lock(&w->mu);
	done = w->done >= ticket;
	pthread_mutex_unlock(&w->mu);
	return done;
}

int lg_bgwrite_drain(lg_bgwrite *w, lg_error *err)
{
	long long last;

	pthread_mutex_lock(&w->mu);
	last = w->submitted;
	pthread_mutex_unlock(&w->mu);
	return lg_bgwrite_wait(w, last, err);
}

void lg_bgwrite_stop(lg_bgwrite *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
