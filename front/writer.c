/*
 * writer.c - the one thread that writes the ledger, and the queue that
 * feeds it.
 *
 * HTTP threads queue requests (front_op) and wait.  The writer takes every
 * waiting request (up to batch_max), opens one database transaction, posts
 * each request's transaction with ledger_post_json (a refused record
 * leaves nothing behind, so the others go on), writes the front's rows
 * beside them, commits once and only then answers them all: group commit,
 * so that one fsync serves a whole batch and throughput grows with load.
 *
 * Captures and voids join the group transaction too, through
 * ledger_hold_commit_in_tx/void_in_tx: the hold's end, the fee, the
 * purchase's status and the idempotency record commit together, so a retry
 * after a crash finds either all of them or none.  Expiry still ends holds
 * in a ledger transaction of its own; a crash before the purchases are
 * marked (or a hold ended by hand with the CLI) is repaired at start by
 * recover_holds, from the journal.
 *
 * The ledger's balances are written back only at commit, so the balances
 * each response carries come from a per-transaction mirror: read from the
 * database on a wallet's first touch, then moved by exactly the amounts
 * this writer posts.
 */
#include "writer_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- small helpers ------------------------------------------------------ */

void front_error_json(char *buf, size_t cap, const char *code, const char *msg)
{
	json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	size_t n = o ? json_dumpb(o, buf, cap - 1, JSON_COMPACT) : 0;

	if (n == 0 || n >= cap)
		n = (size_t)snprintf(buf, cap, "{\"error\":{\"code\":\"internal\","
		                     "\"message\":\"response too large\"}}");
	buf[n] = '\0';
	json_decref(o);
}

void front_op_error(front_op *op, unsigned status, const char *code,
                    const char *fmt, ...)
{
	char msg[LG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	op->status = status;
	front_error_json(op->response, sizeof op->response, code, msg);
}

void front_op_json(front_op *op, unsigned status, json_t *o)
{
	size_t n = o ? json_dumpb(o, op->response, sizeof op->response - 1,
	                          JSON_COMPACT) : 0;
	if (n == 0 || n >= sizeof op->response) {
		front_op_error(op, 500, "internal", "the response could not be built");
	} else {
		op->response[n] = '\0';
		op->status = status;
	}
	json_decref(o);
}

int front_name_ok(const char *s, size_t max, int upper_ok)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max)
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.' || (upper_ok && c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

const char *front_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Fields other than `allowed` are refused: a typo must not go unnoticed. */
const char *front_unknown_field(json_t *o, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		int ok = 0;
		(void)v;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok)
			return key;
	}
	return NULL;
}

void front_minor_text(amount_minor_t v, char *buf, size_t cap)
{
	amount_format_minor(v, buf, cap);
}

int front_asset_scale(front_writer *w, const char *asset, int *scale)
{
	lg_error err;

	for (int i = 0; i < w->assets_n; i++) {
		if (strcmp(w->assets[i].code, asset) == 0) {
			*scale = w->assets[i].scale;
			return 0;
		}
	}
	lg_error_init(&err);
	if (strlen(asset) > LG_ASSET_CODE_MAX ||
	    ledger_asset_scale(w->lg, asset, scale, &err) != 0)
		return -1;
	if (w->assets_n < 64) {
		snprintf(w->assets[w->assets_n].code, sizeof w->assets[0].code, "%s", asset);
		w->assets[w->assets_n++].scale = *scale;
	}
	return 0;
}

int front_parse_amount(front_writer *w, const char *text, const char *asset,
                        int *scale, amount_minor_t *out, char *why, size_t cap)
{
	if (front_asset_scale(w, asset, scale) != 0) {
		snprintf(why, cap, "asset '%.16s' is not known", asset);
		return -1;
	}
	if (amount_parse(text, strlen(text), *scale, out, why, cap) != 0)
		return -1;
	if (*out <= 0) {
		snprintf(why, cap, "must be positive");
		return -1;
	}
	return 0;
}

int front_exec(front_writer *w, const char *sql, const char *const *args,
                     int n, long long i64)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!(st = front_prepare(&w->fdb, sql)))
		return -1;
	for (int i = 0; i < n; i++)
		if (args[i])
			sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
	if (i64 >= 0)
		sqlite3_bind_int64(st, n + 1, i64);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * A new id: prefix, milliseconds since 1970, a counter and 16 random bits,
 * in hex ("pu_019ab3c5d2e10007f3a9").  Ids that grow with time append to
 * the end of the unique indexes (the journal's and ours) instead of
 * dirtying a random page each: fewer pages per commit.
 */
int front_new_id(front_writer *w, const char *prefix, char *out, size_t cap)
{
	struct timespec t;
	char rnd[5];
	unsigned long long ms;

	if (front_random_hex(rnd, 2) != 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &t);
	ms = (unsigned long long)t.tv_sec * 1000u + (unsigned long long)t.tv_nsec / 1000000u;
	w->id_counter = (w->id_counter + 1) & 0xffffu;
	snprintf(out, cap, "%s_%012llx%04x%s", prefix, ms, w->id_counter, rnd);
	return 0;
}

/* --- the balance mirror ------------------------------------------------ */

static size_t hash_code(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void mirror_clear(front_writer *w)
{
	for (long i = 0; i < w->mirror_n; i++)
		w->mirror[w->mirror_used[i]].used = 0;
	w->mirror_n = 0;
}

/* The balance of `code` as of this point of the open transaction; NULL
 * when the database cannot be read. */
front_balance *front_mirror_get(front_writer *w, const char *code)
{
	size_t i = hash_code(code) % MIRROR_SLOTS;

	FRONT_ASSERT(w->mirror_n < MIRROR_SLOTS - 1);
	for (; w->mirror[i].used; i = (i + 1) % MIRROR_SLOTS)
		if (strcmp(w->mirror[i].code, code) == 0)
			return &w->mirror[i].bal;
	struct mirror_slot *s = &w->mirror[i];
	int found = front_balance_read(&w->fdb, code, &s->bal);
	if (found < 0)
		return NULL;
	if (!found) {
		memset(&s->bal, 0, sizeof s->bal);
		snprintf(s->bal.account, sizeof s->bal.account, "%s", code);
	}
	snprintf(s->code, sizeof s->code, "%s", code);
	s->used = 1;
	w->mirror_used[w->mirror_n++] = (int)i;
	return &s->bal;
}

/* --- transactions ----------------------------------------------------- */

static double mono_s(void);

/*
 * Opens the group transaction.  Another process (the nightly job,
 * `clearbook post`) may hold the database's write lock: then the writer
 * tries again with a growing pause, for busy_wait_ms at most, and gives up
 * for the rest of the batch, whose requests are answered 503 `retry`.
 * Nothing is written before the lock is ours, so giving up loses nothing.
 */
int front_ensure_tx(front_writer *w)
{
	lg_error err;
	long pause_ms = BUSY_BACKOFF_MIN_MS;
	double until_s = mono_s() + (double)w->cfg->busy_wait_ms / 1000.0;
	int rc, tries = 0;

	if (w->in_tx)
		return 0;
	if (w->busy_batch)
		return -1;
	for (;;) {
		lg_error_init(&err);
		rc = ledger_begin(w->lg, &err);
		tries++;
		if (rc != LG_EBUSY || mono_s() >= until_s)
			break;
		struct timespec ts = { 0, pause_ms * 1000000L };
		nanosleep(&ts, NULL);
		pause_ms = pause_ms * 2 > BUSY_BACKOFF_MAX_MS ? BUSY_BACKOFF_MAX_MS : pause_ms * 2;
	}
	if (rc == LG_EBUSY) {
		w->busy_batch = 1;
		pthread_mutex_lock(&w->m->mu);
		w->m->busy_batches++;
		pthread_mutex_unlock(&w->m->mu);
		fprintf(stderr, "clearbook: serve: another process held the database for "
		        "%ld ms (%d tries); this batch is answered 503 retry\n",
		        w->cfg->busy_wait_ms, tries);
		return -1;
	}
	if (rc) {
		fprintf(stderr, "clearbook: serve: %s\n", err.msg);
		return -1;
	}
	w->in_tx = 1;
	return 0;
}

static void batch_metrics(front_writer *w, long n)
{
	static const long bounds[] = { 1, 2, 4, 8, 16, 64, 256 };
	int b = 0;

	while (b < 7 && n > bounds[b])
		b++;
	pthread_mutex_lock(&w->m->mu);
	w->m->batches++;
	w->m->batched_ops += (unsigned long long)n;
	w->m->batch_buckets[b]++;
	pthread_mutex_unlock(&w->m->mu);
}

/* Everything answered so far becomes final: commits, or on failure turns
 * every answer of the transaction into a 503. */
static double mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void front_flush(front_writer *w)
{
	lg_error err;
	double start_s;
	int rc;

	if (!w->in_tx)
		return;
	lg_error_init(&err);
	start_s = mono_s();
	rc = ledger_commit(w->lg, &err);
	pthread_mutex_lock(&w->m->mu);
	w->m->writer_commit_s += mono_s() - start_s;
	pthread_mutex_unlock(&w->m->mu);
	if (rc != 0) {
		fprintf(stderr, "clearbook: serve: commit failed: %s\n", err.msg);
		for (long i = 0; i < w->pending_n; i++)
			front_op_error(w->pending[i], 503, "commit_failed", "the database could not "
			         "commit; nothing was done, try again");
	}
	batch_metrics(w, w->pending_n);
	w->in_tx = 0;
	w->pending_n = 0;
	mirror_clear(w);
}

/* A machine error inside the transaction: roll back, everything in it is
 * refused with a 503 (nothing of it happened). */
void front_abort_tx(front_writer *w, front_op *op, const char *what)
{
	fprintf(stderr, "clearbook: serve: %s; rolling back a batch\n", what);
	if (w->in_tx)
		ledger_rollback(w->lg);
	for (long i = 0; i < w->pending_n; i++)
		front_op_error(w->pending[i], 503, "retry", "the batch failed; nothing was done, "
		         "try again");
	if (op)
		front_op_error(op, 503, "retry", "the batch failed; nothing was done, try again");
	w->in_tx = 0;
	w->pending_n = 0;
	mirror_clear(w);
}

/* --- idempotency ------------------------------------------------------- */

/* 1: answered from the record (replay or conflict); 0: new; -1 error. */
int front_idem_check(front_writer *w, front_op *op)
{
	sqlite3_stmt *st = NULL;
	int rc, answered = 0;

	if (!(st = front_prepare(&w->fdb, "SELECT request_sha, status, response FROM"
	                       " front_idempotency WHERE merchant = ?1 AND idem_key = ?2")))
		return -1;
	sqlite3_bind_text(st, 1, op->merchant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->idem_key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		answered = 1;
		if (sqlite3_column_bytes(st, 0) == 32 &&
		    memcmp(sqlite3_column_blob(st, 0), op->request_sha, 32) == 0) {
			op->status = (unsigned)sqlite3_column_int(st, 1);
			snprintf(op->response, sizeof op->response, "%s",
			         sqlite3_column_text(st, 2));
		} else {
			front_op_error(op, 409, "idempotency_conflict", "Idempotency-Key '%.128s' was "
			         "used before with another request", op->idem_key);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return answered;
}

static int idem_put(front_writer *w, front_op *op)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!(st = front_prepare(&w->fdb, "INSERT INTO front_idempotency(merchant, idem_key,"
	                       " request_sha, status, response, created_at)"
	                       " VALUES(?1,?2,?3,?4,?5,?6)")))
		return -1;
	sqlite3_bind_text(st, 1, op->merchant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->idem_key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, op->request_sha, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)op->status);
	sqlite3_bind_text(st, 5, op->response, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, w->now_text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Records the answer with the transaction and keeps the op to answer at
 * commit.  Errors that are not the request's fault (5xx) are not recorded:
 * a retry should try again. */
void front_finish(front_writer *w, front_op *op)
{
	FRONT_ASSERT(w->in_tx);
	FRONT_ASSERT(op->status >= 200);
	FRONT_ASSERT(w->pending_n < (long)(sizeof w->pending / sizeof w->pending[0]));
	if (op->status < 500 && idem_put(w, op) != 0) {
		front_abort_tx(w, op, "recording an idempotency key failed");
		return;
	}
	w->pending[w->pending_n++] = op;
}

/* Maps a ledger refusal to a stable code. */
void front_ledger_refusal(front_op *op, const lg_error *err)
{
	const char *code = strstr(err->msg, "would overdraw") ? "insufficient_funds"
	                   : strstr(err->msg, "is closed") ? "account_closed"
	                   : strstr(err->msg, "does not exist") ? "no_such_account"
	                   : strstr(err->msg, "expired") ? "hold_expired"
	                   : "refused";
	front_op_error(op, 422, code, "%s", err->msg);
}

/* Posts one transaction line.  0 posted; 1 refused (op answered 422);
 * -1 machine error (the batch was rolled back). */
int front_post_tx(front_writer *w, front_op *op, const char *json)
{
	lg_error err;
	int replayed = 0, rc;

	lg_error_init(&err);
	rc = ledger_post_json(w->lg, json, strlen(json), &replayed, NULL, &err);
	if (rc == LG_EDATA || rc == LG_ENOINPUT) {
		front_ledger_refusal(op, &err);
		return 1;
	}
	if (rc) {
		front_abort_tx(w, op, err.msg);
		return -1;
	}
	FRONT_ASSERT(!replayed); /* our ids are fresh random ones */
	return 0;
}

void front_timestamp_after(time_t t, long s, char *out, size_t cap)
{
	time_t e = t + s;
	struct tm tm;
	gmtime_r(&e, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Answers with the purchase and the wallets it moved (mirror balances). */
void front_answer_purchase(front_writer *w, front_op *op, unsigned status,
                            const front_purchase *p, const char *const *wallets,
                            int n)
{
	json_t *o = json_object(), *arr = json_array();

	json_object_set_new(o, "purchase", front_purchase_json(p));
	for (int i = 0; i < n; i++) {
		front_balance *b = wallets[i] && wallets[i][0] ? front_mirror_get(w, wallets[i]) : NULL;
		if (b)
			json_array_append_new(arr, front_balance_json(b));
	}
	json_object_set_new(o, "wallets", arr);
	front_op_json(op, status, o);
}

/* --- expiry and recovery -------------------------------------------------- */

static void set_clock(front_writer *w)
{
	lg_error err;
	struct tm tm;

	lg_error_init(&err);
	w->now = time(NULL);
	gmtime_r(&w->now, &tm);
	strftime(w->now_text, sizeof w->now_text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	FRONT_ASSERT(ledger_set_now(w->lg, w->now_text, &err) == 0);
}

static void expire_holds(front_writer *w)
{
	lg_error err;
	long n = 0;
	const char *args[1] = { w->now_text };

	FRONT_ASSERT(!w->in_tx);
	w->last_expire = w->now;
	lg_error_init(&err);
	if (ledger_hold_expire(w->lg, &n, &err) != 0) {
		/* another writer holds the lock: the next second tries again */
		if (err.code != LG_EBUSY)
			fprintf(stderr, "clearbook: serve: expiring holds: %s\n", err.msg);
		return;
	}
	if (n == 0 || front_ensure_tx(w) != 0)
		return;
	if (front_exec(w, "UPDATE front_purchases SET status = 'expired' WHERE"
	              " status = 'held' AND expires_at <= ?1", args, 1, -1) != 0)
		front_abort_tx(w, NULL, "marking expired holds failed");
	front_flush(w);
}

/* The amount a hold's commit moved out of the wallet (its debit). */
static int committed_amount(front_writer *w, const char *id, amount_minor_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = 0;
	if (!(st = front_prepare(&w->fdb, "SELECT p.amount FROM transactions t JOIN postings p"
	                       " ON p.tx_seq = t.seq WHERE t.id = ?1 || ':commit'")))
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		amount_minor_t v = amount_decode(sqlite3_column_blob(st, 0));
		if (v > 0)
			*out = v;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * A capture or void whose hold ended in the journal but whose bookkeeping
 * did not commit (the process died between the two): finish it now, from
 * what the journal says.
 */
static int recover_holds(front_writer *w, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	char ids[256][FRONT_ID_MAX + 1], kinds[256][16];
	int n = 0, rc;

	if (!(st = front_prepare(&w->fdb, "SELECT p.id, e.kind FROM front_purchases p"
	                       " JOIN transactions h ON h.id = p.id JOIN transactions e"
	                       " ON e.ref_seq = h.seq AND e.kind IN ('commit','void','expire')"
	                       " WHERE p.status = 'held' LIMIT 256")))
		return lg_error_set(err, LG_EIO, "reading holds: %s", sqlite3_errmsg(w->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 256) {
		snprintf(ids[n], sizeof ids[n], "%s", sqlite3_column_text(st, 0));
		snprintf(kinds[n], sizeof kinds[n], "%s", sqlite3_column_text(st, 1));
		n++;
	}
	sqlite3_reset(st);
	if (n == 0)
		return LG_OK;
	if (front_ensure_tx(w) != 0)
		return lg_error_set(err, LG_EIO, "cannot begin a transaction");
	for (int i = 0; i < n; i++) {
		front_purchase p;
		amount_minor_t amt;
		if (front_purchase_load(&w->fdb, ids[i], &p) != 1)
			goto fail;
		if (strcmp(kinds[i], "commit") == 0) {
			if (committed_amount(w, p.id, &amt) != 0 || front_settle_capture(w, &p, amt) != 0)
				goto fail;
		} else {
			snprintf(p.status, sizeof p.status, "%s",
			         strcmp(kinds[i], "void") == 0 ? "voided" : "expired");
			if (front_purchase_update(w, &p) != 0)
				goto fail;
		}
		fprintf(stderr, "clearbook: serve: recovered purchase %s (%s)\n", p.id, kinds[i]);
	}
	front_flush(w);
	return LG_OK;
fail:
	front_abort_tx(w, NULL, "recovering holds failed");
	return lg_error_set(err, LG_EIO, "recovering holds failed");
}

/* --- the thread and the queue ----------------------------------------- */

static void run_op(front_writer *w, front_op *op)
{
	if (w->mirror_n > MIRROR_FILL_MAX)
		front_flush(w);
	if (front_ensure_tx(w) != 0) {
		front_op_error(op, 503, "retry", "the database is not available; try again");
		return;
	}
	int rc = front_idem_check(w, op);
	if (rc < 0) {
		front_abort_tx(w, op, "reading idempotency records failed");
		return;
	}
	if (rc) {
		w->pending[w->pending_n++] = op;
		return;
	}
	switch (op->kind) {
	case FRONT_OP_PURCHASE: front_do_purchase(w, op); break;
	case FRONT_OP_REFUND: front_do_refund(w, op); break;
	case FRONT_OP_QUOTE: front_do_quote(w, op); break;
	case FRONT_OP_CAPTURE:
	case FRONT_OP_VOID: front_do_hold_end(w, op); break;
	default: front_assert_fail("unknown op", __FILE__, __LINE__);
	}
}

static void run_batch(front_writer *w, front_op *list)
{
	double start_s = mono_s();

	w->busy_batch = 0;

	for (front_op *op = list; op; op = op->next) {
		op->status = 0;
		run_op(w, op);
		if (op->status == 0)
			front_op_error(op, 500, "internal", "the request was not answered");
	}
	pthread_mutex_lock(&w->m->mu);
	w->m->writer_ops_s += mono_s() - start_s;
	pthread_mutex_unlock(&w->m->mu);
	front_flush(w);
}

/*
 * With the lock held: waits a little (FRONT_LINGER_US at most) before a
 * batch for the requests that are on their way: those announced (headers
 * in, body and checks to come), and under steady load those just answered
 * and about to come back, judged by how many were outstanding at once in
 * the last second or two.  Without the second rule clients settle into two
 * waves that commit in turn, each paying a whole commit; one wave pays
 * half as much.  A lone request never waits: nothing else is expected.
 */
static long expected(const front_writer *w)
{
	long peak = w->peak_cur > w->peak_prev ? w->peak_cur : w->peak_prev;
	return peak * 9 / 10;
}

static void linger(front_writer *w)
{
	struct timespec until;

	if (!w->head || w->stopping ||
	    (w->announced <= 0 && w->depth >= expected(w)))
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += FRONT_LINGER_US * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while ((w->announced > 0 || w->depth < expected(w)) &&
	       w->depth < w->cfg->batch_max && !w->stopping)
		if (pthread_cond_timedwait(&w->cv_work, &w->mu, &until) != 0)
			break;
}

void front_writer_announce(front_writer *w, int delta)
{
	pthread_mutex_lock(&w->mu);
	w->announced += delta;
	FRONT_ASSERT(w->announced >= 0);
	if (delta < 0)
		pthread_cond_signal(&w->cv_work);
	pthread_mutex_unlock(&w->mu);
}

static void *writer_main(void *arg)
{
	front_writer *w = arg;

	for (;;) {
		front_op *list = NULL, **tail = &list;
		long n = 0;
		struct timespec until;

		pthread_mutex_lock(&w->mu);
		if (!w->head && !w->stopping) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += EXPIRE_EVERY_S;
			pthread_cond_timedwait(&w->cv_work, &w->mu, &until);
		}
		linger(w);
		while (w->head && n < w->cfg->batch_max) {
			front_op *op = w->head;
			w->head = op->next;
			op->next = NULL;
			*tail = op;
			tail = &op->next;
			n++;
		}
		if (!w->head)
			w->tail = NULL;
		w->depth -= n;
		w->batch_n = n;
		__atomic_store_n(&w->m->queue_depth, w->depth, __ATOMIC_RELAXED);
		int stop = w->stopping && !list && !w->head;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		set_clock(w);
		if (w->now - w->last_expire >= EXPIRE_EVERY_S)
			expire_holds(w);
		if (!list)
			continue;
		run_batch(w, list);
		pthread_mutex_lock(&w->mu);
		for (front_op *op = list, *next; op; op = next) {
			next = op->next;
			op->done = 1;
		}
		w->batch_n = 0;
		if (w->now != w->peak_second) {
			w->peak_prev = w->now == w->peak_second + 1 ? w->peak_cur : 0;
			w->peak_cur = 0;
			w->peak_second = w->now;
		}
		pthread_cond_broadcast(&w->cv_done);
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

int front_writer_start(front_writer **out, ledger *lg, const front_config *cfg,
                       front_metrics *m, lg_error *err)
{
	front_writer *w = calloc(1, sizeof *w);
	int rc;

	*out = NULL;
	if (!w || !(w->mirror = calloc(MIRROR_SLOTS, sizeof *w->mirror))) {
		free(w);
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	}
	FRONT_ASSERT(cfg->batch_max <= 100000);
	w->lg = lg;
	w->db = ledger_sqlite(lg);
	front_db_init(&w->fdb, w->db);
	w->cfg = cfg;
	w->m = m;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv_work, NULL);
	pthread_cond_init(&w->cv_done, NULL);
	/* SQLite's busy handler waits one step; front_ensure_tx does the rest */
	sqlite3_busy_timeout(w->db, BUSY_STEP_MS);
	set_clock(w);
	rc = recover_holds(w, err);
	if (!rc) {
		expire_holds(w);
		if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
			rc = lg_error_set(err, LG_EINTERNAL, "cannot start the writer thread");
	}
	if (rc) {
		front_db_release(&w->fdb);
		free(w->mirror);
		free(w);
		return rc;
	}
	*out = w;
	return LG_OK;
}

int front_writer_submit(front_writer *w, front_op *op, int announced)
{
	pthread_mutex_lock(&w->mu);
	if (announced) {
		w->announced--;
		FRONT_ASSERT(w->announced >= 0);
	}
	if (w->stopping || w->depth >= w->cfg->queue_max) {
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	op->done = 0;
	op->next = NULL;
	if (w->tail)
		w->tail->next = op;
	else
		w->head = op;
	w->tail = op;
	w->depth++;
	if (w->depth + w->batch_n > w->peak_cur)
		w->peak_cur = w->depth + w->batch_n;
	__atomic_store_n(&w->m->queue_depth, w->depth, __ATOMIC_RELAXED);
	pthread_cond_signal(&w->cv_work);
	while (!op->done)
		pthread_cond_wait(&w->cv_done, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void front_writer_stop(front_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->cv_work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	FRONT_ASSERT(!w->in_tx && !w->head);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv_work);
	pthread_cond_destroy(&w->cv_done);
	front_db_release(&w->fdb);
	free(w->mirror);
	free(w);
}
