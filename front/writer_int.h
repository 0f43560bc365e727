/*
 * writer_int.h - what the writer's files share (writer.c: the queue, the
 * thread, group commit, idempotency, the balance mirror, expiry and
 * recovery; purchase.c; settle.c).  Everything here runs in the writer
 * thread only, except the queue fields guarded by `mu`.
 */
#ifndef CLEARBOOK_FRONT_WRITER_INT_H
#define CLEARBOOK_FRONT_WRITER_INT_H

#include <jansson.h>
#include <time.h>

#include "front_int.h"

#define MIRROR_SLOTS 8192     /* wallets touched in one transaction, max */
#define MIRROR_FILL_MAX 4096  /* commit early beyond this many */
#define TX_JSON_MAX 4096      /* bytes of one ledger transaction we build */
#define EXPIRE_EVERY_S 1
/* Waiting for another process's write lock: SQLite's own busy handler
 * waits up to BUSY_STEP_MS per attempt; between attempts the writer sleeps
 * BUSY_BACKOFF_MIN_MS, doubling up to BUSY_BACKOFF_MAX_MS, until the
 * configuration's busy_wait_ms has passed. */
#define BUSY_STEP_MS 50
#define BUSY_BACKOFF_MIN_MS 5
#define BUSY_BACKOFF_MAX_MS 200

struct mirror_slot {
	char code[LG_CODE_MAX + 1];
	front_balance bal;
	int used;
};

struct front_writer {
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	front_op *head, *tail;
	long depth;
	long announced;            /* write requests on their way to the queue */
	long batch_n;              /* requests in the batch being handled */
	long peak_cur, peak_prev;  /* most requests outstanding at once, this
	                              second and the one before */
	time_t peak_second;
	int stopping;
	pthread_t thread;
	ledger *lg;
	sqlite3 *db;
	front_db fdb;            /* the writer's prepared statements */
	const front_config *cfg;
	front_metrics *m;
	/* owned by the writer thread alone */
	int in_tx;
	int busy_batch;            /* the lock stayed taken: fail the batch fast */
	front_op *pending[2 * 100000 + 16]; /* ops of the open transaction */
	long pending_n;
	struct mirror_slot *mirror;
	long mirror_n;
	int mirror_used[MIRROR_SLOTS]; /* slots to clear at the next commit */
	time_t now;
	char now_text[32];
	time_t last_expire;
	/* asset scales never change (the ledger refuses it): kept once read */
	unsigned id_counter;
	int assets_n;
	struct { char code[LG_ASSET_CODE_MAX + 1]; int scale; } assets[64];
};

/* --- answers ------------------------------------------------------------- */
void front_op_error(front_op *op, unsigned status, const char *code,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Answers with `o` (consumed). */
void front_op_json(front_op *op, unsigned status, json_t *o);
/* Records the answer under its Idempotency-Key with the open transaction
 * and keeps the op to answer at commit. */
void front_finish(front_writer *w, front_op *op);
/* 1: answered from an earlier record (replay or conflict); 0 new; -1 error. */
int front_idem_check(front_writer *w, front_op *op);
void front_ledger_refusal(front_op *op, const lg_error *err);

/* --- request fields ------------------------------------------------------- */
int front_name_ok(const char *s, size_t max, int upper_ok);
const char *front_jstr(json_t *o, const char *key);
const char *front_unknown_field(json_t *o, const char *const *allowed);
void front_minor_text(amount_minor_t v, char *buf, size_t cap);
int front_asset_scale(front_writer *w, const char *asset, int *scale);
/* Parses a positive amount of `asset`; on failure `why` says why. */
int front_parse_amount(front_writer *w, const char *text, const char *asset,
                       int *scale, amount_minor_t *out, char *why, size_t cap);
int front_new_id(front_writer *w, const char *prefix, char *out, size_t cap);
void front_timestamp_after(time_t t, long s, char *out, size_t cap);

/* --- the database ---------------------------------------------------------- */
/* Runs `sql` (a string literal) with n text arguments and, when i64 >= 0,
 * that integer as argument n+1: 0 done, -1 error. */
int front_exec(front_writer *w, const char *sql, const char *const *args, int n,
               long long i64);
int front_ensure_tx(front_writer *w);
void front_flush(front_writer *w);
void front_abort_tx(front_writer *w, front_op *op, const char *what);
/* 0 posted; 1 refused (op answered 422); -1 machine error (rolled back). */
int front_post_tx(front_writer *w, front_op *op, const char *json);
/* The balance of a wallet as of this point of the open transaction. */
front_balance *front_mirror_get(front_writer *w, const char *code);
int front_purchase_update(front_writer *w, const front_purchase *p);
/* 0 ok, 1 answered (404/403), -1 error. */
int front_target_purchase(front_writer *w, front_op *op, const char *id,
                          front_purchase *p);
void front_answer_purchase(front_writer *w, front_op *op, unsigned status,
                           const front_purchase *p, const char *const *wallets,
                           int n);
int front_settle_capture(front_writer *w, front_purchase *p, amount_minor_t captured);

/* Appends a posting of v (skipped when zero) to a "postings":[ list. */
int front_add_posting(char *buf, size_t cap, size_t *len, const char *acct,
                      amount_minor_t v, int scale);
/* equity:trading:<asset in lower case>: balances a purchase per asset. */
void front_trading_account(const char *asset, char *out, size_t cap);

/* --- the requests ----------------------------------------------------------- */
void front_do_purchase(front_writer *w, front_op *op);
void front_do_refund(front_writer *w, front_op *op);
void front_do_quote(front_writer *w, front_op *op);
void front_do_hold_end(front_writer *w, front_op *op);

#endif
