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
 * Captures and voids go through ledger_hold_commit/void, which open their
 * own database transaction: the writer commits what it holds first, runs
 * the hold's end, then records the rest (fee, purchase status, the
 * idempotency record) in the next group transaction.  A crash between the
 * two is repaired at start by recover_holds, from the journal.
 *
 * The ledger's balances are written back only at commit, so the balances
 * each response carries come from a per-transaction mirror: read from the
 * database on a wallet's first touch, then moved by exactly the amounts
 * this writer posts.
 */
#include "front_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIRROR_SLOTS 8192     /* wallets touched in one transaction, max */
#define MIRROR_FILL_MAX 4096  /* commit early beyond this many */
#define TX_JSON_MAX 4096      /* bytes of one ledger transaction we build */
#define EXPIRE_EVERY_S 1

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
	int stopping;
	pthread_t thread;
	ledger *lg;
	sqlite3 *db;
	front_db fdb;            /* the writer's prepared statements */
	const front_config *cfg;
	front_metrics *m;
	/* owned by the writer thread alone */
	int in_tx;
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

static void op_error(front_op *op, unsigned status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void op_error(front_op *op, unsigned status, const char *code,
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

static void op_json(front_op *op, unsigned status, json_t *o)
{
	size_t n = o ? json_dumpb(o, op->response, sizeof op->response - 1,
	                          JSON_COMPACT) : 0;
	if (n == 0 || n >= sizeof op->response) {
		op_error(op, 500, "internal", "the response could not be built");
	} else {
		op->response[n] = '\0';
		op->status = status;
	}
	json_decref(o);
}

static int name_ok(const char *s, size_t max, int upper_ok)
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

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Fields other than `allowed` are refused: a typo must not go unnoticed. */
static const char *unknown_field(json_t *o, const char *const *allowed)
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

static void minor_text(amount_minor_t v, char *buf, size_t cap)
{
	amount_format_minor(v, buf, cap);
}

static int asset_scale(front_writer *w, const char *asset, int *scale)
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

static int parse_amount(front_writer *w, const char *text, const char *asset,
                        int *scale, amount_minor_t *out, char *why, size_t cap)
{
	if (asset_scale(w, asset, scale) != 0) {
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

static int exec_stmt(front_writer *w, const char *sql, const char *const *args,
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
static int new_id(front_writer *w, const char *prefix, char *out, size_t cap)
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
static front_balance *mirror_get(front_writer *w, const char *code)
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

static int ensure_tx(front_writer *w)
{
	lg_error err;

	if (w->in_tx)
		return 0;
	lg_error_init(&err);
	if (ledger_begin(w->lg, &err) != 0) {
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

static void flush(front_writer *w)
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
			op_error(w->pending[i], 503, "commit_failed", "the database could not "
			         "commit; nothing was done, try again");
	}
	batch_metrics(w, w->pending_n);
	w->in_tx = 0;
	w->pending_n = 0;
	mirror_clear(w);
}

/* A machine error inside the transaction: roll back, everything in it is
 * refused with a 503 (nothing of it happened). */
static void abort_tx(front_writer *w, front_op *op, const char *what)
{
	fprintf(stderr, "clearbook: serve: %s; rolling back a batch\n", what);
	if (w->in_tx)
		ledger_rollback(w->lg);
	for (long i = 0; i < w->pending_n; i++)
		op_error(w->pending[i], 503, "retry", "the batch failed; nothing was done, "
		         "try again");
	if (op)
		op_error(op, 503, "retry", "the batch failed; nothing was done, try again");
	w->in_tx = 0;
	w->pending_n = 0;
	mirror_clear(w);
}

/* --- idempotency ------------------------------------------------------- */

/* 1: answered from the record (replay or conflict); 0: new; -1 error. */
static int idem_check(front_writer *w, front_op *op)
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
			op_error(op, 409, "idempotency_conflict", "Idempotency-Key '%.128s' was "
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
static void finish(front_writer *w, front_op *op)
{
	FRONT_ASSERT(w->in_tx);
	FRONT_ASSERT(op->status >= 200);
	FRONT_ASSERT(w->pending_n < (long)(sizeof w->pending / sizeof w->pending[0]));
	if (op->status < 500 && idem_put(w, op) != 0) {
		abort_tx(w, op, "recording an idempotency key failed");
		return;
	}
	w->pending[w->pending_n++] = op;
}

/* Maps a ledger refusal to a stable code. */
static void ledger_refusal(front_op *op, const lg_error *err)
{
	const char *code = strstr(err->msg, "would overdraw") ? "insufficient_funds"
	                   : strstr(err->msg, "is closed") ? "account_closed"
	                   : strstr(err->msg, "does not exist") ? "no_such_account"
	                   : strstr(err->msg, "expired") ? "hold_expired"
	                   : "refused";
	op_error(op, 422, code, "%s", err->msg);
}

/* Posts one transaction line.  0 posted; 1 refused (op answered 422);
 * -1 machine error (the batch was rolled back). */
static int post(front_writer *w, front_op *op, const char *json)
{
	lg_error err;
	int replayed = 0, rc;

	lg_error_init(&err);
	rc = ledger_post_json(w->lg, json, strlen(json), &replayed, NULL, &err);
	if (rc == LG_EDATA || rc == LG_ENOINPUT) {
		ledger_refusal(op, &err);
		return 1;
	}
	if (rc) {
		abort_tx(w, op, err.msg);
		return -1;
	}
	FRONT_ASSERT(!replayed); /* our ids are fresh random ones */
	return 0;
}

/* --- purchases ---------------------------------------------------------- */

struct purchase_req {
	front_purchase p;
	int capture;
	long hold_timeout_s;
	const front_merchant *merchant;
	char wallet[LG_CODE_MAX + 1];       /* pays `cash` in p.asset */
	char pay_wallet[LG_CODE_MAX + 1];   /* FX: pays p.pay in p.pay_asset */
	char pts_wallet[LG_CODE_MAX + 1];   /* points: pays p.points */
	amount_minor_t cash, points_value;
	int pay_scale, pts_scale;
};

static int risk_refuse(front_writer *w, front_op *op, const front_purchase *p,
                       const char *code, const char *reason)
{
	char amt[AMOUNT_TEXT_MAX];
	const char *args[7];

	amount_format(p->amount, p->scale, amt, sizeof amt);
	args[0] = w->now_text;
	args[1] = p->merchant;
	args[2] = p->customer;
	args[3] = p->order_id;
	args[4] = p->asset;
	args[5] = amt;
	args[6] = code;
	if (exec_stmt(w, "INSERT INTO front_risk_refusals(at, merchant, customer,"
	              " order_id, asset, amount, reason) VALUES(?1,?2,?3,?4,?5,?6,?7)",
	              args, 7, -1) != 0)
		return -1;
	op_error(op, 422, code, "%s", reason);
	return 1;
}

/* Sum and count of the customer's purchases in p's asset since `since`. */
static int velocity(front_writer *w, const front_purchase *p, long long since,
                    long long minute_since, amount_minor_t *sum, long *minute_n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*sum = 0;
	*minute_n = 0;
	if (!(st = front_prepare(&w->fdb, "SELECT amount_minor, created_epoch FROM"
	                       " front_purchases WHERE customer = ?1 AND created_epoch >= ?2"
	                       " AND asset = ?3 AND status <> 'voided' AND status <> 'expired'")))
		return -1;
	sqlite3_bind_text(st, 1, p->customer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_text(st, 3, p->asset, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		amount_minor_t v;
		char why[64];
		if (!t || amount_parse(t, strlen(t), 0, &v, why, sizeof why) != 0 ||
		    amount_add(*sum, v, sum) != 0) {
			rc = SQLITE_ERROR;
			break;
		}
		if (sqlite3_column_int64(st, 1) >= minute_since)
			(*minute_n)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Risk rules before posting: 0 pass, 1 refused (answered), -1 error. */
static int risk_check(front_writer *w, front_op *op, const struct purchase_req *r)
{
	const front_purchase *p = &r->p;
	const front_customer *c = front_config_customer(w->cfg, p->customer);
	const front_tier *t = front_config_tier(w->cfg, c ? c->tier : w->cfg->default_tier);
	amount_minor_t max, sum;
	char why[64];
	long minute_n;

	if (r->merchant && r->merchant->blocked)
		return risk_refuse(w, op, p, "merchant_blocked", "the merchant is blocked");
	if (c && c->blocked)
		return risk_refuse(w, op, p, "customer_blocked", "the customer is blocked");
	if (!t)
		return 0;
	if (t->amount_max[0] &&
	    amount_parse(t->amount_max, strlen(t->amount_max), p->scale, &max, why,
	                 sizeof why) == 0 && p->amount > max)
		return risk_refuse(w, op, p, "risk_limit", "the amount is above the "
		                   "customer's per-purchase limit");
	if (!t->daily_amount_max[0] && t->per_minute_max <= 0)
		return 0;
	if (velocity(w, p, (long long)w->now - 86400, (long long)w->now - 60, &sum,
	             &minute_n) != 0)
		return -1;
	if (t->per_minute_max > 0 && minute_n >= t->per_minute_max)
		return risk_refuse(w, op, p, "risk_velocity", "too many purchases by this "
		                   "customer in the last minute");
	if (t->daily_amount_max[0] &&
	    amount_parse(t->daily_amount_max, strlen(t->daily_amount_max), p->scale, &max,
	                 why, sizeof why) == 0 &&
	    (amount_add(sum, p->amount, &sum) != 0 || sum > max))
		return risk_refuse(w, op, p, "risk_limit", "the customer's purchases of "
		                   "the last 24 hours would pass the daily limit");
	return 0;
}

static int load_quote(front_writer *w, front_op *op, const char *id,
                      struct purchase_req *r, front_rate_num *rate)
{
	sqlite3_stmt *st = NULL;
	int rc, res = 0;

	if (!(st = front_prepare(&w->fdb, "SELECT merchant, from_asset, to_asset, rate,"
	                       " expires_epoch FROM front_fx_quotes WHERE id = ?1")))
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		op_error(op, 404, "no_such_quote", "FX quote '%.40s' does not exist", id);
		res = 1;
	} else if (rc == SQLITE_ROW) {
		if (strcmp((const char *)sqlite3_column_text(st, 0), op->merchant) != 0) {
			op_error(op, 403, "not_yours", "FX quote '%.40s' belongs to another "
			         "merchant", id);
			res = 1;
		} else if (strcmp((const char *)sqlite3_column_text(st, 2), r->p.asset) != 0) {
			op_error(op, 400, "quote_mismatch", "FX quote '%.40s' is not a quote "
			         "into %s", id, r->p.asset);
			res = 1;
		} else if (sqlite3_column_int64(st, 4) < (long long)w->now) {
			op_error(op, 422, "quote_expired", "FX quote '%.40s' has expired", id);
			res = 1;
		} else {
			snprintf(r->p.pay_asset, sizeof r->p.pay_asset, "%s",
			         sqlite3_column_text(st, 1));
			if (front_rate_parse((const char *)sqlite3_column_text(st, 3), rate) != 0)
				res = -1;
		}
	} else {
		res = -1;
	}
	sqlite3_reset(st);
	return res;
}

/* FX: the customer pays amount / rate in the quote's `from` asset. */
static int apply_fx(front_writer *w, front_op *op, const char *quote_id,
                    struct purchase_req *r)
{
	front_rate_num rate;
	char base[LG_CODE_MAX + 1];
	lg_error err;
	int rc;

	snprintf(r->p.fx_quote_id, sizeof r->p.fx_quote_id, "%s", quote_id);
	rc = load_quote(w, op, quote_id, r, &rate);
	if (rc)
		return rc;
	lg_error_init(&err);
	if (asset_scale(w, r->p.pay_asset, &r->pay_scale) != 0 ||
	    front_convert(r->p.amount, r->p.scale, rate, 1, r->pay_scale, &r->p.pay) != 0 ||
	    r->p.pay <= 0) {
		op_error(op, 422, "fx_refused", "the amount cannot be converted at the "
		         "quote's rate");
		return 1;
	}
	snprintf(base, sizeof base, "liabilities:wallets:%s", r->p.customer);
	front_account_for(w->cfg, base, r->p.pay_asset, r->pay_wallet, sizeof r->pay_wallet);
	r->cash = 0;
	return 0;
}

static int apply_points(front_writer *w, front_op *op, json_t *pts,
                        struct purchase_req *r)
{
	static const char *const allowed[] = { "asset", "amount", NULL };
	const char *asset = jstr(pts, "asset"), *amount = jstr(pts, "amount");
	const front_points *cfg;
	front_rate_num value;
	char why[128], base[LG_CODE_MAX + 1];

	if (!json_is_object(pts) || unknown_field(pts, allowed) || !asset || !amount) {
		op_error(op, 400, "bad_request", "points: must be {\"asset\":..,\"amount\":..}");
		return 1;
	}
	cfg = front_config_points(w->cfg, asset);
	if (!cfg || strcmp(cfg->currency, r->p.asset) != 0) {
		op_error(op, 400, "bad_request", "points: '%.16s' are not points worth %s",
		         asset, r->p.asset);
		return 1;
	}
	if (parse_amount(w, amount, asset, &r->pts_scale, &r->p.points, why,
	                 sizeof why) != 0) {
		op_error(op, 400, "bad_amount", "points.amount: %s", why);
		return 1;
	}
	FRONT_ASSERT(front_rate_parse(cfg->value, &value) == 0);
	if (front_convert(r->p.points, r->pts_scale, value, 0, r->p.scale,
	                  &r->points_value) != 0 || r->points_value > r->p.amount) {
		op_error(op, 422, "points_exceed_amount", "the points are worth more than "
		         "the amount");
		return 1;
	}
	snprintf(r->p.points_asset, sizeof r->p.points_asset, "%s", asset);
	snprintf(base, sizeof base, "liabilities:wallets:%s", r->p.customer);
	front_account_for(w->cfg, base, asset, r->pts_wallet, sizeof r->pts_wallet);
	r->cash = r->p.amount - r->points_value;
	return 0;
}

/* Validates the body into r: 0 ok, 1 answered (4xx). */
static int purchase_parse(front_writer *w, front_op *op, struct purchase_req *r)
{
	static const char *const allowed[] = { "order_id", "customer", "merchant",
		"amount", "asset", "capture", "hold_timeout_s", "points", "fx_quote_id", NULL };
	json_t *b = op->body, *cap = json_object_get(b, "capture");
	json_t *tmo = json_object_get(b, "hold_timeout_s");
	const char *order = jstr(b, "order_id"), *cust = jstr(b, "customer");
	const char *merch = jstr(b, "merchant"), *amount = jstr(b, "amount");
	const char *asset = jstr(b, "asset"), *bad = unknown_field(b, allowed);
	char why[128], base[LG_CODE_MAX + 1];

	memset(r, 0, sizeof *r);
	if (bad) {
		op_error(op, 400, "bad_request", "unknown field '%.64s'", bad);
		return 1;
	}
	if (!order || !name_ok(order, FRONT_ORDER_ID_MAX + 1, 1) || !cust ||
	    !name_ok(cust, FRONT_NAME_MAX, 0) || !merch || !amount || !asset ||
	    (cap && !json_is_boolean(cap)) || (tmo && !json_is_integer(tmo))) {
		op_error(op, 400, "bad_request", "a purchase needs order_id (A-Z a-z 0-9 _ - "
		         "., at most 64), customer (a-z 0-9 _ - .), merchant, amount and "
		         "asset as strings; capture a boolean, hold_timeout_s an integer");
		return 1;
	}
	if (strcmp(merch, op->merchant) != 0) {
		op_error(op, 403, "not_yours", "this key belongs to merchant '%s'",
		         op->merchant);
		return 1;
	}
	snprintf(r->p.order_id, sizeof r->p.order_id, "%s", order);
	snprintf(r->p.customer, sizeof r->p.customer, "%s", cust);
	snprintf(r->p.merchant, sizeof r->p.merchant, "%s", merch);
	if (strlen(asset) > LG_ASSET_CODE_MAX ||
	    parse_amount(w, amount, asset, &r->p.scale, &r->p.amount, why, sizeof why)) {
		op_error(op, 400, "bad_amount", "amount '%.64s': %s", amount, why);
		return 1;
	}
	snprintf(r->p.asset, sizeof r->p.asset, "%s", asset);
	r->capture = cap ? json_is_true(cap) : 1;
	r->hold_timeout_s = tmo ? (long)json_integer_value(tmo) : w->cfg->hold_timeout_s;
	if (r->hold_timeout_s < 1 || r->hold_timeout_s > w->cfg->hold_timeout_max_s) {
		op_error(op, 400, "bad_request", "hold_timeout_s must lie in 1..%ld",
		         w->cfg->hold_timeout_max_s);
		return 1;
	}
	r->merchant = front_config_merchant(w->cfg, merch);
	snprintf(base, sizeof base, "liabilities:wallets:%s", cust);
	front_account_for(w->cfg, base, asset, r->wallet, sizeof r->wallet);
	r->cash = r->p.amount;
	if ((json_object_get(b, "points") || jstr(b, "fx_quote_id")) && !r->capture) {
		op_error(op, 400, "bad_request", "a hold is paid from the wallet alone: "
		         "no points or FX");
		return 1;
	}
	if (json_object_get(b, "points") && json_object_get(b, "fx_quote_id")) {
		op_error(op, 400, "bad_request", "points and FX cannot be combined");
		return 1;
	}
	if (json_object_get(b, "fx_quote_id")) {
		const char *q = jstr(b, "fx_quote_id");
		if (!q || !name_ok(q, FRONT_ID_MAX + 1, 0)) {
			op_error(op, 400, "bad_request", "fx_quote_id: not a quote id");
			return 1;
		}
		return apply_fx(w, op, q, r);
	}
	if (json_object_get(b, "points"))
		return apply_points(w, op, json_object_get(b, "points"), r);
	return 0;
}

static int add_posting(char *buf, size_t cap, size_t *len, const char *acct,
                       amount_minor_t v, int scale)
{
	char t[AMOUNT_TEXT_MAX];
	int n;

	if (v == 0)
		return 0;
	amount_format(v, scale, t, sizeof t);
	n = snprintf(buf + *len, cap - *len, "%s{\"account\":\"%s\",\"amount\":\"%s\"}",
	             buf[*len - 1] == '[' ? "" : ",", acct, t);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/* equity:trading:<asset in lower case>: balances a purchase per asset. */
static void trading_account(const char *asset, char *out, size_t cap)
{
	snprintf(out, cap, "equity:trading:%s", asset);
	for (char *c = out + strlen("equity:trading:"); *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

/* The ledger transaction of a purchase (see front.h for the accounts). */
static int purchase_tx(front_writer *w, const struct purchase_req *r, char *buf,
                       size_t cap)
{
	const front_purchase *p = &r->p;
	char payable[LG_CODE_MAX + 1], fees[LG_CODE_MAX + 1], base[LG_CODE_MAX + 1];
	char tr_a[LG_CODE_MAX + 1], tr_b[LG_CODE_MAX + 1], hold_text[48] = "";
	size_t len;
	int n, hold = !r->capture, rc = 0;

	snprintf(base, sizeof base, "liabilities:merchants:%s:payable", p->merchant);
	front_account_for(w->cfg, base, p->asset, payable, sizeof payable);
	front_account_for(w->cfg, "income:fees:processing", p->asset, fees, sizeof fees);
	if (hold)
		snprintf(hold_text, sizeof hold_text, "\"pending\":true,\"timeout_s\":%ld,",
		         r->hold_timeout_s);
	n = snprintf(buf, cap, "{\"id\":\"%s\",\"date\":\"%.10s\",\"memo\":\"purchase %s "
	             "order %s\",%s\"meta\":{\"front\":\"purchase\",\"customer\":\"%s\"},"
	             "\"postings\":[", p->id, w->now_text, p->merchant, p->order_id,
	             hold_text, p->customer);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	len = (size_t)n;
	rc |= add_posting(buf, cap, &len, r->wallet, r->cash, p->scale);
	trading_account(p->asset, tr_b, sizeof tr_b);
	if (p->pay_asset[0]) {
		trading_account(p->pay_asset, tr_a, sizeof tr_a);
		rc |= add_posting(buf, cap, &len, r->pay_wallet, p->pay, r->pay_scale);
		rc |= add_posting(buf, cap, &len, tr_a, -p->pay, r->pay_scale);
		rc |= add_posting(buf, cap, &len, tr_b, p->amount, p->scale);
	}
	if (p->points_asset[0]) {
		trading_account(p->points_asset, tr_a, sizeof tr_a);
		rc |= add_posting(buf, cap, &len, r->pts_wallet, p->points, r->pts_scale);
		rc |= add_posting(buf, cap, &len, tr_a, -p->points, r->pts_scale);
		rc |= add_posting(buf, cap, &len, tr_b, r->points_value, p->scale);
	}
	/* A hold is two postings (the ledger commits two-posting holds in
	 * part); its fee is taken at capture. */
	rc |= add_posting(buf, cap, &len, payable, -(p->amount - (hold ? 0 : p->fee)),
	                  p->scale);
	if (!hold)
		rc |= add_posting(buf, cap, &len, fees, -p->fee, p->scale);
	if (rc || len + 3 >= cap)
		return -1;
	memcpy(buf + len, "]}", 3);
	return 0;
}

static int purchase_insert(front_writer *w, const front_purchase *p)
{
	sqlite3_stmt *st = NULL;
	char amt[AMOUNT_TEXT_MAX], fee[AMOUNT_TEXT_MAX], capd[AMOUNT_TEXT_MAX];
	char pay[AMOUNT_TEXT_MAX], pts[AMOUNT_TEXT_MAX];
	int rc;

	if (!(st = front_prepare(&w->fdb, "INSERT INTO front_purchases(id, merchant,"
	                       " order_id, customer, asset, amount_minor, fee_minor, status,"
	                       " captured_minor, refunded_minor, pay_asset, pay_minor,"
	                       " points_asset, points_minor, fx_quote_id, expires_at,"
	                       " created_at, created_epoch) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,"
	                       "?9,'0',?10,?11,?12,?13,?14,?15,?16,?17)")))
		return -1;
	minor_text(p->amount, amt, sizeof amt);
	minor_text(p->fee, fee, sizeof fee);
	minor_text(p->captured, capd, sizeof capd);
	minor_text(p->pay, pay, sizeof pay);
	minor_text(p->points, pts, sizeof pts);
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->merchant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->order_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->customer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->asset, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, amt, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, fee, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, p->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, capd, -1, SQLITE_STATIC);
	if (p->pay_asset[0]) {
		sqlite3_bind_text(st, 10, p->pay_asset, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, pay, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 14, p->fx_quote_id, -1, SQLITE_STATIC);
	}
	if (p->points_asset[0]) {
		sqlite3_bind_text(st, 12, p->points_asset, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, pts, -1, SQLITE_STATIC);
	}
	if (p->expires_at[0])
		sqlite3_bind_text(st, 15, p->expires_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, p->created_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 17, p->created_epoch);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int order_exists(front_writer *w, const front_purchase *p)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!(st = front_prepare(&w->fdb, "SELECT 1 FROM front_purchases WHERE merchant = ?1"
	                       " AND order_id = ?2")))
		return -1;
	sqlite3_bind_text(st, 1, p->merchant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->order_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void timestamp_after(time_t t, long s, char *out, size_t cap)
{
	time_t e = t + s;
	struct tm tm;
	gmtime_r(&e, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Answers with the purchase and the wallets it moved (mirror balances). */
static void answer_purchase(front_writer *w, front_op *op, unsigned status,
                            const front_purchase *p, const char *const *wallets,
                            int n)
{
	json_t *o = json_object(), *arr = json_array();

	json_object_set_new(o, "purchase", front_purchase_json(p));
	for (int i = 0; i < n; i++) {
		front_balance *b = wallets[i] && wallets[i][0] ? mirror_get(w, wallets[i]) : NULL;
		if (b)
			json_array_append_new(arr, front_balance_json(b));
	}
	json_object_set_new(o, "wallets", arr);
	op_json(op, status, o);
}

static void do_purchase(front_writer *w, front_op *op)
{
	struct purchase_req r;
	char tx[TX_JSON_MAX];
	const char *wallets[3];
	front_balance *b;
	int rc;

	if (purchase_parse(w, op, &r))
		goto done;
	rc = order_exists(w, &r.p);
	if (rc < 0)
		goto fail;
	if (rc) {
		op_error(op, 409, "order_exists", "order '%s' of merchant '%s' was already "
		         "purchased (under another Idempotency-Key)", r.p.order_id,
		         r.p.merchant);
		goto done;
	}
	rc = risk_check(w, op, &r);
	if (rc < 0)
		goto fail;
	if (rc)
		goto done;
	if (new_id(w, "pu", r.p.id, sizeof r.p.id) != 0)
		goto fail;
	if (r.capture && front_fee_minor(r.p.amount, r.merchant ? r.merchant->fee_bps
	                                 : w->cfg->default_fee_bps, &r.p.fee) != 0)
		goto fail;
	snprintf(r.p.status, sizeof r.p.status, "%s", r.capture ? "completed" : "held");
	r.p.captured = r.capture ? r.p.amount : 0;
	snprintf(r.p.created_at, sizeof r.p.created_at, "%s", w->now_text);
	r.p.created_epoch = (long long)w->now;
	if (!r.capture)
		timestamp_after(w->now, r.hold_timeout_s, r.p.expires_at,
		                sizeof r.p.expires_at);
	/* read the balances before the posting moves them */
	wallets[0] = r.cash ? r.wallet : NULL;
	wallets[1] = r.pay_wallet;
	wallets[2] = r.pts_wallet;
	for (int i = 0; i < 3; i++)
		if (wallets[i] && wallets[i][0] && !mirror_get(w, wallets[i]))
			goto fail;
	if (purchase_tx(w, &r, tx, sizeof tx) != 0) {
		op_error(op, 400, "bad_request", "the purchase does not fit a transaction");
		goto done;
	}
	rc = post(w, op, tx);
	if (rc < 0)
		return;
	if (rc)
		goto done;
	if (purchase_insert(w, &r.p) != 0)
		goto fail;
	if (wallets[0]) {
		b = mirror_get(w, wallets[0]);
		FRONT_ASSERT(b != NULL); /* read before the posting */
		b->available -= r.cash;
		if (r.capture)
			b->posted -= r.cash;
	}
	if (r.pay_wallet[0]) {
		b = mirror_get(w, r.pay_wallet);
		FRONT_ASSERT(b != NULL);
		b->posted -= r.p.pay;
		b->available -= r.p.pay;
	}
	if (r.pts_wallet[0]) {
		b = mirror_get(w, r.pts_wallet);
		FRONT_ASSERT(b != NULL);
		b->posted -= r.p.points;
		b->available -= r.p.points;
	}
	answer_purchase(w, op, 201, &r.p, wallets, 3);
done:
	finish(w, op);
	return;
fail:
	abort_tx(w, op, "a database step of a purchase failed");
}

/* --- refunds ------------------------------------------------------------ */

static int purchase_update(front_writer *w, const front_purchase *p)
{
	char capd[AMOUNT_TEXT_MAX], refd[AMOUNT_TEXT_MAX], fee[AMOUNT_TEXT_MAX];
	const char *args[5];

	minor_text(p->captured, capd, sizeof capd);
	minor_text(p->refunded, refd, sizeof refd);
	minor_text(p->fee, fee, sizeof fee);
	args[0] = p->id;
	args[1] = p->status;
	args[2] = capd;
	args[3] = refd;
	args[4] = fee;
	return exec_stmt(w, "UPDATE front_purchases SET status = ?2, captured_minor = ?3,"
	                 " refunded_minor = ?4, fee_minor = ?5 WHERE id = ?1", args, 5, -1);
}

/* Loads the purchase a request names: 0 ok, 1 answered (404/403), -1 error. */
static int target_purchase(front_writer *w, front_op *op, const char *id,
                           front_purchase *p)
{
	int rc = front_purchase_load(&w->fdb, id, p);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		op_error(op, 404, "not_found", "purchase '%.40s' does not exist", id);
		return 1;
	}
	if (strcmp(p->merchant, op->merchant) != 0) {
		op_error(op, 403, "not_yours", "purchase '%.40s' belongs to another merchant",
		         id);
		return 1;
	}
	return 0;
}

static void do_refund(front_writer *w, front_op *op)
{
	static const char *const allowed[] = { "purchase_id", "amount", NULL };
	const char *pid = jstr(op->body, "purchase_id"), *amount = jstr(op->body, "amount");
	const char *bad = unknown_field(op->body, allowed);
	char tx[TX_JSON_MAX], id[FRONT_ID_MAX + 1], why[128];
	char wallet[LG_CODE_MAX + 1], payable[LG_CODE_MAX + 1], base[LG_CODE_MAX + 1];
	char amt_text[AMOUNT_TEXT_MAX], refd[AMOUNT_TEXT_MAX];
	front_purchase p;
	front_balance *b;
	amount_minor_t amt, left;
	int rc, scale;

	if (bad || !pid || !name_ok(pid, FRONT_ID_MAX + 1, 0) ||
	    (json_object_get(op->body, "amount") && !amount)) {
		op_error(op, 400, "bad_request", "a refund needs purchase_id and optionally "
		         "amount (a decimal string); no other fields");
		goto done;
	}
	rc = target_purchase(w, op, pid, &p);
	if (rc < 0)
		goto fail;
	if (rc)
		goto done;
	if (strcmp(p.status, "completed") != 0 && strcmp(p.status, "captured") != 0) {
		op_error(op, 422, "not_captured", "purchase '%s' is %s: only captured money "
		         "can be refunded", p.id, p.status);
		goto done;
	}
	if (p.pay_asset[0] || p.points_asset[0]) {
		op_error(op, 422, "unsupported", "refunds of FX and points purchases are "
		         "not supported yet");
		goto done;
	}
	left = p.captured - p.refunded;
	amt = left;
	if (amount && parse_amount(w, amount, p.asset, &scale, &amt, why, sizeof why)) {
		op_error(op, 400, "bad_amount", "amount '%.64s': %s", amount, why);
		goto done;
	}
	if (amt > left || amt <= 0) {
		amount_format(left, p.scale, why, sizeof why);
		op_error(op, 422, "refund_exceeds_capture", "at most %s %s of purchase '%s' "
		         "can still be refunded", why, p.asset, p.id);
		goto done;
	}
	if (new_id(w, "rf", id, sizeof id) != 0)
		goto fail;
	snprintf(base, sizeof base, "liabilities:wallets:%s", p.customer);
	front_account_for(w->cfg, base, p.asset, wallet, sizeof wallet);
	snprintf(base, sizeof base, "liabilities:merchants:%s:payable", p.merchant);
	front_account_for(w->cfg, base, p.asset, payable, sizeof payable);
	amount_format(amt, p.scale, amt_text, sizeof amt_text);
	/* The processing fee is kept: the merchant's payable bears the refund. */
	snprintf(tx, sizeof tx, "{\"id\":\"%s\",\"date\":\"%.10s\",\"memo\":\"refund of "
	         "%s\",\"meta\":{\"front\":\"refund\",\"purchase\":\"%s\"},\"postings\":["
	         "{\"account\":\"%s\",\"amount\":\"%s\"},{\"account\":\"%s\",\"amount\":"
	         "\"-%s\"}]}", id, w->now_text, p.id, p.id, payable, amt_text, wallet,
	         amt_text);
	if (!mirror_get(w, wallet))
		goto fail;
	rc = post(w, op, tx);
	if (rc < 0)
		return;
	if (rc)
		goto done;
	p.refunded += amt;
	minor_text(amt, refd, sizeof refd);
	{
		const char *args[4] = { id, p.id, refd, w->now_text };
		if (purchase_update(w, &p) != 0 ||
		    exec_stmt(w, "INSERT INTO front_refunds(id, purchase_id, amount_minor,"
		              " created_at) VALUES(?1,?2,?3,?4)", args, 4, -1) != 0)
			goto fail;
	}
	b = mirror_get(w, wallet);
	FRONT_ASSERT(b != NULL);
	b->posted += amt;
	b->available += amt;
	{
		json_t *o = json_object(), *arr = json_array();
		json_object_set_new(o, "refund", json_pack("{s:s,s:s,s:s,s:s}", "id", id,
		                    "purchase_id", p.id, "amount", amt_text, "asset", p.asset));
		json_object_set_new(o, "purchase", front_purchase_json(&p));
		json_array_append_new(arr, front_balance_json(b));
		json_object_set_new(o, "wallets", arr);
		op_json(op, 201, o);
	}
done:
	finish(w, op);
	return;
fail:
	abort_tx(w, op, "a database step of a refund failed");
}

/* --- FX quotes ---------------------------------------------------------- */

static void do_quote(front_writer *w, front_op *op)
{
	static const char *const allowed[] = { "from", "to", NULL };
	const char *from = jstr(op->body, "from"), *to = jstr(op->body, "to");
	const front_rate *rate;
	char id[FRONT_ID_MAX + 1], expires[32];
	const char *args[6];

	if (unknown_field(op->body, allowed) || !from || !to) {
		op_error(op, 400, "bad_request", "a quote needs from and to (asset codes)");
		goto done;
	}
	rate = front_config_rate(w->cfg, from, to);
	if (!rate) {
		op_error(op, 422, "no_rate", "no rate from %.16s to %.16s", from, to);
		goto done;
	}
	if (new_id(w, "fx", id, sizeof id) != 0)
		goto fail;
	timestamp_after(w->now, w->cfg->fx_quote_ttl_s, expires, sizeof expires);
	args[0] = id;
	args[1] = op->merchant;
	args[2] = rate->from;
	args[3] = rate->to;
	args[4] = rate->rate;
	args[5] = expires;
	if (exec_stmt(w, "INSERT INTO front_fx_quotes(id, merchant, from_asset, to_asset,"
	              " rate, expires_at, expires_epoch) VALUES(?1,?2,?3,?4,?5,?6,?7)",
	              args, 6, (long long)w->now + w->cfg->fx_quote_ttl_s) != 0)
		goto fail;
	op_json(op, 201, json_pack("{s:{s:s,s:s,s:s,s:s,s:s}}", "quote", "id", id,
	                           "from", rate->from, "to", rate->to, "rate", rate->rate,
	                           "expires_at", expires));
done:
	finish(w, op);
	return;
fail:
	abort_tx(w, op, "storing a quote failed");
}

/* --- captures and voids ------------------------------------------------- */

/* The fee and bookkeeping after a hold ended; inside a group transaction. */
static int settle_capture(front_writer *w, front_purchase *p, amount_minor_t captured)
{
	const front_merchant *m = front_config_merchant(w->cfg, p->merchant);
	char tx[TX_JSON_MAX], payable[LG_CODE_MAX + 1], fees[LG_CODE_MAX + 1];
	char base[LG_CODE_MAX + 1], t[AMOUNT_TEXT_MAX];
	lg_error err;
	int replayed;

	p->captured = captured;
	snprintf(p->status, sizeof p->status, "captured");
	if (front_fee_minor(captured, m ? m->fee_bps : w->cfg->default_fee_bps,
	                    &p->fee) != 0)
		return -1;
	if (p->fee > 0) {
		snprintf(base, sizeof base, "liabilities:merchants:%s:payable", p->merchant);
		front_account_for(w->cfg, base, p->asset, payable, sizeof payable);
		front_account_for(w->cfg, "income:fees:processing", p->asset, fees,
		                  sizeof fees);
		amount_format(p->fee, p->scale, t, sizeof t);
		snprintf(tx, sizeof tx, "{\"id\":\"%s:fee\",\"date\":\"%.10s\",\"memo\":"
		         "\"processing fee\",\"meta\":{\"front\":\"fee\",\"purchase\":\"%s\"},"
		         "\"postings\":[{\"account\":\"%s\",\"amount\":\"%s\"},{\"account\":"
		         "\"%s\",\"amount\":\"-%s\"}]}", p->id, w->now_text, p->id, payable, t,
		         fees, t);
		lg_error_init(&err);
		/* a replay (the id is fixed) is fine: recovery may run it twice */
		if (ledger_post_json(w->lg, tx, strlen(tx), &replayed, NULL, &err) != 0) {
			fprintf(stderr, "clearbook: serve: fee of %s: %s\n", p->id, err.msg);
			return -1;
		}
	}
	return purchase_update(w, p);
}

/* Checks a capture or void against the purchase, outside any transaction
 * (the writer is the only one to change purchases): 0 go on, 1 answered,
 * -1 error. */
static int hold_end_check(front_writer *w, front_op *op, front_purchase *p,
                          amount_minor_t *amt)
{
	static const char *const allowed[] = { "amount", NULL };
	const char *amount = op->body ? jstr(op->body, "amount") : NULL;
	int rc, scale, capture = op->kind == FRONT_OP_CAPTURE;
	char why[128];

	if (op->body && (unknown_field(op->body, allowed) ||
	                 (!capture && json_object_get(op->body, "amount")) ||
	                 (json_object_get(op->body, "amount") && !amount))) {
		op_error(op, 400, "bad_request", capture ? "a capture takes only amount (a "
		         "decimal string)" : "a void takes no fields");
		return 1;
	}
	rc = target_purchase(w, op, op->target, p);
	if (rc)
		return rc;
	if (strcmp(p->status, "held") != 0) {
		op_error(op, 422, strcmp(p->status, "expired") == 0 ? "hold_expired"
		         : "not_held", "purchase '%s' is %s, not held", p->id, p->status);
		return 1;
	}
	*amt = p->amount;
	if (capture && amount &&
	    parse_amount(w, amount, p->asset, &scale, amt, why, sizeof why) != 0) {
		op_error(op, 400, "bad_amount", "amount '%.64s': %s", amount, why);
		return 1;
	}
	if (*amt > p->amount) {
		amount_format(p->amount, p->scale, why, sizeof why);
		op_error(op, 422, "exceeds_hold", "at most the %s %s held can be captured",
		         why, p->asset);
		return 1;
	}
	return 0;
}

static void do_hold_end(front_writer *w, front_op *op)
{
	char wallet[LG_CODE_MAX + 1], base[LG_CODE_MAX + 1], text[AMOUNT_TEXT_MAX];
	const char *wallets[1] = { wallet };
	front_purchase p;
	amount_minor_t amt = 0;
	lg_error err;
	int rc, capture = op->kind == FRONT_OP_CAPTURE;

	flush(w); /* the hold's end is a database transaction of its own */
	rc = idem_check(w, op);
	if (rc)
		goto answered;
	rc = hold_end_check(w, op, &p, &amt);
	if (rc)
		goto answered;
	amount_format(amt, p.scale, text, sizeof text);
	lg_error_init(&err);
	rc = capture ? ledger_hold_commit(w->lg, p.id, text, NULL, &err)
	             : ledger_hold_void(w->lg, p.id, NULL, &err);
	if (rc && rc != LG_EDATA && rc != LG_ENOINPUT) {
		fprintf(stderr, "clearbook: serve: %s\n", err.msg);
		op_error(op, 503, "retry", "the hold could not be ended; try again");
		return;
	}
	if (ensure_tx(w) != 0) {
		/* the hold ended; recover_holds finishes the bookkeeping at start */
		op_error(op, 503, "retry", "the database is not available; try again");
		return;
	}
	if (rc) {
		ledger_refusal(op, &err);
		finish(w, op);
		return;
	}
	snprintf(base, sizeof base, "liabilities:wallets:%s", p.customer);
	front_account_for(w->cfg, base, p.asset, wallet, sizeof wallet);
	if (capture) {
		rc = settle_capture(w, &p, amt);
	} else {
		snprintf(p.status, sizeof p.status, "voided");
		rc = purchase_update(w, &p);
	}
	if (rc) {
		abort_tx(w, op, "a database step of a capture or void failed");
		return;
	}
	/* the hold's own transaction committed: the balances table is current */
	answer_purchase(w, op, 200, &p, wallets, 1);
	finish(w, op);
	return;
answered:
	if (rc < 0) {
		op_error(op, 503, "retry", "the database is not available; try again");
		return;
	}
	if (op->status >= 500 || op->status == 0)
		return;
	/* a 4xx is recorded under its key, like any other answer */
	if (ensure_tx(w) != 0) {
		op_error(op, 503, "retry", "the database is not available; try again");
		return;
	}
	if (idem_check(w, op) == 0)
		finish(w, op);
	else
		w->pending[w->pending_n++] = op;
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
		fprintf(stderr, "clearbook: serve: expiring holds: %s\n", err.msg);
		return;
	}
	if (n == 0 || ensure_tx(w) != 0)
		return;
	if (exec_stmt(w, "UPDATE front_purchases SET status = 'expired' WHERE"
	              " status = 'held' AND expires_at <= ?1", args, 1, -1) != 0)
		abort_tx(w, NULL, "marking expired holds failed");
	flush(w);
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
	if (ensure_tx(w) != 0)
		return lg_error_set(err, LG_EIO, "cannot begin a transaction");
	for (int i = 0; i < n; i++) {
		front_purchase p;
		amount_minor_t amt;
		if (front_purchase_load(&w->fdb, ids[i], &p) != 1)
			goto fail;
		if (strcmp(kinds[i], "commit") == 0) {
			if (committed_amount(w, p.id, &amt) != 0 || settle_capture(w, &p, amt) != 0)
				goto fail;
		} else {
			snprintf(p.status, sizeof p.status, "%s",
			         strcmp(kinds[i], "void") == 0 ? "voided" : "expired");
			if (purchase_update(w, &p) != 0)
				goto fail;
		}
		fprintf(stderr, "clearbook: serve: recovered purchase %s (%s)\n", p.id, kinds[i]);
	}
	flush(w);
	return LG_OK;
fail:
	abort_tx(w, NULL, "recovering holds failed");
	return lg_error_set(err, LG_EIO, "recovering holds failed");
}

/* --- the thread and the queue ----------------------------------------- */

static void run_op(front_writer *w, front_op *op)
{
	if (op->kind == FRONT_OP_CAPTURE || op->kind == FRONT_OP_VOID) {
		do_hold_end(w, op);
		return;
	}
	if (w->mirror_n > MIRROR_FILL_MAX)
		flush(w);
	if (ensure_tx(w) != 0) {
		op_error(op, 503, "retry", "the database is not available; try again");
		return;
	}
	int rc = idem_check(w, op);
	if (rc < 0) {
		abort_tx(w, op, "reading idempotency records failed");
		return;
	}
	if (rc) {
		w->pending[w->pending_n++] = op;
		return;
	}
	switch (op->kind) {
	case FRONT_OP_PURCHASE: do_purchase(w, op); break;
	case FRONT_OP_REFUND: do_refund(w, op); break;
	case FRONT_OP_QUOTE: do_quote(w, op); break;
	default: front_assert_fail("unknown op", __FILE__, __LINE__);
	}
}

static void run_batch(front_writer *w, front_op *list)
{
	double start_s = mono_s();

	for (front_op *op = list; op; op = op->next) {
		op->status = 0;
		run_op(w, op);
		if (op->status == 0)
			op_error(op, 500, "internal", "the request was not answered");
	}
	pthread_mutex_lock(&w->m->mu);
	w->m->writer_ops_s += mono_s() - start_s;
	pthread_mutex_unlock(&w->m->mu);
	flush(w);
}

/* With the lock held: waits a little for requests already on their way,
 * when there are some, so that they share the next commit. */
static void linger(front_writer *w)
{
	struct timespec until;

	if (!w->head || w->announced <= 0 || w->stopping)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += FRONT_LINGER_US * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (w->announced > 0 && w->depth < w->cfg->batch_max && !w->stopping)
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
		w->m->queue_depth = w->depth;
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
	w->m->queue_depth = w->depth;
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
