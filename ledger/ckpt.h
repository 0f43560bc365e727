/*
 * ckpt.h - a thread that checkpoints a ledger's write-ahead log on a
 * handle of its own, so that a long run of commits (the reconciliation
 * commits every CLR_MATCHES_PER_COMMIT matches) does not stop to copy each
 * one into the database file and wait for the disk.
 *
 * Left to itself SQLite checkpoints inside the COMMIT that crosses a
 * thousand WAL pages: on the committing thread, with its writer thread
 * idle (it was drained for the commit).  While a checkpointer runs, the
 * ledger's own handle never checkpoints by itself; the owner asks for one
 * after a commit and goes on.  Durability is unchanged: a commit is in the
 * WAL (synchronous=FULL) before it returns, whoever copies it later.
 *
 * The WAL starts again from its beginning only when a write transaction
 * begins with every frame copied back; a checkpoint always in flight would
 * let it grow for the whole run.  The owner therefore waits for one now
 * and then (lg_ckpt_wait) before its next BEGIN.
 *
 * Ownership: the caller owns the lg_ckpt and stops it before closing lg.
 * A checkpoint that fails (other than being busy) fails every later wait.
 */
#ifndef CLEARBOOK_CKPT_H
#define CLEARBOOK_CKPT_H

#include "ledger.h"

typedef struct lg_ckpt lg_ckpt;

/* Opens a second handle on lg's file and starts the thread; turns off the
 * automatic checkpoints of lg's own handle.  *out is NULL (and LG_OK) for
 * a ledger that is not a WAL file on disk (an in-memory one). */
int lg_ckpt_start(ledger *lg, lg_ckpt **out, lg_error *err);

/* Asks for a checkpoint of everything committed so far; does not wait.
 * NULL: no-op. */
void lg_ckpt_request(lg_ckpt *c);

/* Waits until every checkpoint asked for has run: LG_OK, or the first
 * failed one's error.  NULL: LG_OK. */
int lg_ckpt_wait(lg_ckpt *c, lg_error *err);

/* Waits for the one running, ends the thread, closes its handle, gives
 * lg's handle back its automatic checkpoints, frees c (NULL: no-op). */
void lg_ckpt_stop(lg_ckpt *c);

#endif
