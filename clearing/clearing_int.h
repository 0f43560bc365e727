/*
 * clearing_int.h - what the clearing module's files share.
 */
#ifndef CLEARBOOK_CLEARING_INT_H
#define CLEARBOOK_CLEARING_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "clearing.h"

#define CLR_ASSERT(cond)                                                      \
	do {                                                                      \
		if (!(cond))                                                          \
			clr_assert_fail(#cond, __FILE__, __LINE__);                       \
	} while (0)
_Noreturn void clr_assert_fail(const char *what, const char *file, int line);

#define CLR_ARENA_CHUNK_BYTES (8 << 20) /* whole 2 MiB pages (clr_advise_huge) */
#define CLR_MATCHES_PER_COMMIT 50000 /* matches committed together */
/* With a checkpointer thread (reconcile, nightly): commits whose WAL frames
 * pile up before one waits for their checkpoint and the WAL restarts. */
#define CLR_COMMITS_PER_WAL 4

/* Strings of one reconciliation run, freed together. */
struct clr_arena {
	struct clr_chunk *head;
};
void clr_arena_init(struct clr_arena *a);
void clr_arena_release(struct clr_arena *a);
/* Copies `len` bytes and a NUL; NULL on out of memory.  NULL text gives NULL. */
const char *clr_arena_strndup(struct clr_arena *a, const char *text, size_t len);
void *clr_arena_alloc(struct clr_arena *a, size_t bytes);

/* Grows the array *pp of *cap elements of `elem_bytes` so that index
 * `need` fits (doubling, at most CLR_ARRAY_MAX elements).  0, or -1 when out
 * of memory or past the bound (*pp and *cap unchanged). */
#define CLR_ARRAY_MAX (1 << 28)
int clr_grow(void *pp, int *cap, int need, size_t elem_bytes);

/* Asks the kernel for 2 MiB pages under the whole 2 MiB spans of a block of
 * `bytes` at p, when it is CLR_HUGE_MIN_BYTES or more: a reconciliation's
 * items, lines, maps and strings run to hundreds of MiB, read at random;
 * with 4 KiB pages a seventh of its CPU went to faulting them in.  Only
 * advice: nothing changes if the kernel says no. */
#define CLR_HUGE_MIN_BYTES (4u << 20)
void clr_advise_huge(void *p, size_t bytes);
/* realloc(p, new_bytes) of a block of old_bytes; a block of
 * CLR_HUGE_MIN_BYTES or more is moved into a new one advised so before
 * the copy touches it (realloc's own copy would fault it in 4 KiB pages).
 * NULL when out of memory, p then unchanged. */
void *clr_realloc(void *p, size_t old_bytes, size_t new_bytes);

/* Prepares `sql` on the ledger's database; on failure fills err. */
int clr_prepare(ledger *lg, const char *sql, sqlite3_stmt **out, lg_error *err);
int clr_sql_error(ledger *lg, lg_error *err, const char *what);


/* Records a break of `date` once (later identical calls are no-ops).  With
 * `cache`, the prepared statement is kept there for the next call (the
 * caller finalizes it). */
int clr_break_add(ledger *lg, sqlite3_stmt **cache, const char *date,
                  const char *channel, const char *kind, long long line_id,
                  long long item_seq, const char *tx_id, amount_minor_t amount,
                  const char *asset, int scale, long age_days, const char *reason,
                  const char *candidates, lg_error *err);

/* Reverses transaction `id` unless it already is (then a no-op);
 * *reversed_now says which. */
int clr_reverse_once(ledger *lg, const char *id, const char *reason,
                     const char *date, int *reversed_now, lg_error *err);

/* Runs one step of the nightly record (append-only events). */
int clr_step_event(ledger *lg, long long run_id, const char *step,
                   const char *event, const char *detail, lg_error *err);

/* The first column of sql's first row (sql has no parameters); an error
 * names `what`. */
int clr_query_int64(ledger *lg, const char *sql, long long *out, const char *what,
                    lg_error *err);

/* rows.c: a run's match rows, written by multi-row INSERTs.  Ids are
 * given in order from one past the table's largest; rows wait until
 * clr_rows_flush, which the owner calls before committing (and which
 * empties the wait on an error too: the owner then rolls back). */
struct clr_rows;
int clr_rows_new(ledger *lg, struct clr_rows **out, lg_error *err);
void clr_rows_free(struct clr_rows *w);
/* One match to record: its fields (copied) and its lines (every one,
 * children too) and items.  lines and items are its text for reading; a
 * match of one line and one item does not need them (NULL) and records
 * neither pairs nor text. */
struct clr_match_rec {
	const char *channel, *rule, *settlement_id, *created_at, *user, *reason;
	const char *lines, *items;
	const long long *line_ids;
	int lines_n;
	const long long *item_seqs;
	int items_n;
};
/* Records *rec; its id into *match_id_out. */
int clr_rows_match(struct clr_rows *w, const struct clr_match_rec *rec,
                   long long *match_id_out, lg_error *err);
int clr_rows_flush(struct clr_rows *w, lg_error *err);
/* From now on full buffers of rows are written by bg's thread while the
 * next ones fill; clr_rows_flush drains bg.  bg outlives w. */
typedef struct lg_bgwrite lg_bgwrite;
int clr_rows_threads(struct clr_rows *w, lg_bgwrite *bg);

#endif
