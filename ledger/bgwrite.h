/*
 * bgwrite.h - a second thread that runs a ledger's writes (jobs) in the
 * order they were handed over, while the caller's thread goes on deciding
 * what to write next.
 *
 * The reconciliation decides a match, builds and hashes its settlement, and
 * then spends as long again in SQLite writing the rows; the two halves
 * overlap on two cores when the rows are written here.  The ledger must have
 * been opened with LEDGER_OPEN_THREADS (SQLite's serialized mode): a job
 * holds the connection's mutex from its first call to its last, so a call
 * the owner makes meanwhile (an account looked up, a break recorded) waits
 * for the job to end and never lands inside it.  Jobs run inside the
 * owner's open transaction; the owner commits only after
 * lg_bgwrite_drain.
 *
 * Ownership: a job's memory is the submitter's, and stays untouched by it
 * until lg_bgwrite_wait says that job has run.  The first job that fails
 * stops the thread from running any later one; every later submit, wait
 * and drain returns that error, and the owner rolls back.
 */
#ifndef CLEARBOOK_BGWRITE_H
#define CLEARBOOK_BGWRITE_H

#include "ledger.h"

typedef struct lg_bgwrite lg_bgwrite;

/* A job: LG_OK or an error set in err (run on the writer's thread, with
 * the connection's mutex held). */
typedef int (*lg_bgwrite_fn)(void *job, lg_error *err);

/* Starts the thread.  LG_EUSAGE when the ledger was not opened with
 * LEDGER_OPEN_THREADS.  *out is the caller's, for lg_bgwrite_stop. */
int lg_bgwrite_start(ledger *lg, lg_bgwrite **out, lg_error *err);

/* Queues fn(job); *ticket_out names it for lg_bgwrite_wait.  Waits while
 * the queue is full.  An error is an earlier job's (fn is not queued). */
int lg_bgwrite_submit(lg_bgwrite *w, lg_bgwrite_fn fn, void *job,
                      long long *ticket_out, lg_error *err);

/* Waits until the job of `ticket` (0: none) has run: LG_OK, or the first
 * failed job's error. */
int lg_bgwrite_wait(lg_bgwrite *w, long long ticket, lg_error *err);

/* Whether the job of `ticket` has run (without waiting). */
int lg_bgwrite_done(lg_bgwrite *w, long long ticket);

/* Waits until every queued job has run; as lg_bgwrite_wait. */
int lg_bgwrite_drain(lg_bgwrite *w, lg_error *err);

/* Lets queued jobs run, ends the thread and frees w (NULL: no-op). */
void lg_bgwrite_stop(lg_bgwrite *w);

/* From now on q's full groups are written by bg's thread, while the next
 * ones fill (a ring of them); ledger_spec_group_flush hands over the one
 * being filled and drains bg.  A replay or conflict met by a group written
 * there is LG_EINTERNAL (see ledger_post_spec_grouped).  q must be empty;
 * bg must outlive q (ledger_spec_group_free drains it). */
int ledger_spec_group_threads(ledger_spec_group *q, lg_bgwrite *bg, lg_error *err);

/* Whether lg was opened with LEDGER_OPEN_THREADS. */
int ledger_threads(const ledger *lg);


#endif
