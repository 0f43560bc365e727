/*
 * http.c - the HTTP side of the front: libmicrohttpd, one thread per
 * connection (a request waiting for the group commit blocks only its own
 * thread), request signatures, rate limits, body and depth caps, routing,
 * the read-only endpoints, metrics, and the server's life from start to
 * SIGTERM.  Writes go to the writer thread (writer.c).
 */
#include "front_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READ_POOL_N 4             /* read-only ledger handles */
#define RL_SLOTS 4096             /* token buckets kept */
#define RL_PROBE 8
#define RL_KEY_MAX 64
#define URI_MAX 1024
#define DRAIN_WAIT_MS 60000       /* longest wait for in-flight requests */

/* --- rate limits: token buckets -------------------------------------- */

struct bucket {
	char key[RL_KEY_MAX];
	double tokens;    /* token counts and times, never money */
	double last_s;
};

struct limiter {
	pthread_mutex_t mu;
	struct bucket slot[RL_SLOTS];
};

static double mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t hash_key(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Takes a token for `key`: 0 allowed, else the seconds to wait. */
static long limiter_take(struct limiter *l, const char *key, long rate_per_s,
                         long burst)
{
	size_t h = hash_key(key) % RL_SLOTS;
	struct bucket *b = NULL, *oldest = NULL;
	double now = mono_s();
	long wait_s = 0;

	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < RL_PROBE && !b; i++) {
		struct bucket *s = &l->slot[(h + i) % RL_SLOTS];
		if (strcmp(s->key, key) == 0)
			b = s;
		else if (!oldest || s->last_s < oldest->last_s)
			oldest = s;
	}
	if (!b) {
		/* the least recently used of the probed slots: a full bucket */
		b = oldest;
		snprintf(b->key, sizeof b->key, "%s", key);
		b->tokens = (double)burst;
		b->last_s = now;
	}
	b->tokens += (now - b->last_s) * (double)rate_per_s;
	if (b->tokens > (double)burst)
		b->tokens = (double)burst;
	b->last_s = now;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait_s = (long)((1.0 - b->tokens) / (double)rate_per_s) + 1;
	pthread_mutex_unlock(&l->mu);
	return wait_s;
}

/* --- the server ---------------------------------------------------------- */

struct reader {
	ledger *lg;
	front_db fdb;
};

struct read_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct reader h[READ_POOL_N];
	int free_n;
	struct reader *free_h[READ_POOL_N];
};

struct server {
	front_config cfg;
	unsigned char master[32];
	ledger *lg;               /* the writer's */
	front_writer *writer;
	struct read_pool pool;
	struct limiter *limits;
	front_metrics metrics;
	struct MHD_Daemon *daemon;
	pthread_mutex_t mu;       /* in_flight */
	pthread_cond_t cv;
	long in_flight;
	int stopping;             /* read and set with __atomic: any thread */
};

static int stopping(struct server *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
}

struct request {
	char uri[URI_MAX];
	int uri_too_long;
	char *body;
	size_t len;
	int too_big;
	int seen;         /* the first call of the access handler is past */
	int announced;    /* counted by front_writer_announce */
	double start_s;
	int counted;
};

static struct reader *pool_take(struct read_pool *p)
{
	struct reader *h;
	pthread_mutex_lock(&p->mu);
	while (p->free_n == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	h = p->free_h[--p->free_n];
	pthread_mutex_unlock(&p->mu);
	return h;
}

static void pool_give(struct read_pool *p, struct reader *h)
{
	pthread_mutex_lock(&p->mu);
	FRONT_ASSERT(p->free_n < READ_POOL_N);
	p->free_h[p->free_n++] = h;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* --- metrics ------------------------------------------------------------ */

static const char *const reason_names[] = {
	"bad_request", "malformed_json", "too_deep", "body_too_large",
	"unauthenticated", "bad_signature", "stale_timestamp", "not_yours",
	"not_found", "idempotency_conflict", "rate_limited", "overloaded",
	"insufficient_funds", "risk", "refused", "other"
};
#define REASONS_N (sizeof reason_names / sizeof reason_names[0])
static const double latency_bounds_s[] = { 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                            0.1, 0.25, 0.5, 1.0, 2.5 };
#define LATENCY_N (sizeof latency_bounds_s / sizeof latency_bounds_s[0])

static size_t reason_index(unsigned status, const char *body)
{
	const char *c = strstr(body, "\"code\":\"");
	char code[48];
	size_t n;

	if (!c)
		return REASONS_N - 1;
	c += 8;
	n = strcspn(c, "\"");
	snprintf(code, sizeof code, "%.*s", (int)(n < 47 ? n : 47), c);
	if (!strncmp(code, "risk_", 5) || !strcmp(code, "customer_blocked") ||
	    !strcmp(code, "merchant_blocked"))
		return 13;
	if (!strcmp(code, "missing_auth") || !strcmp(code, "unknown_key"))
		return 4;
	if (!strcmp(code, "retry") || !strcmp(code, "commit_failed") ||
	    !strcmp(code, "shutting_down"))
		return 11;
	for (size_t i = 0; i < REASONS_N; i++)
		if (!strcmp(code, reason_names[i]))
			return i;
	return status == 422 ? 14 : REASONS_N - 1;
}

static void count_request(front_metrics *m, unsigned status, const char *body,
                          double latency_s)
{
	size_t cls = status >= 100 && status < 600 ? status / 100 - 1 : 5, b = 0;

	while (b < LATENCY_N && latency_s > latency_bounds_s[b])
		b++;
	pthread_mutex_lock(&m->mu);
	m->requests[cls]++;
	if (status >= 400)
		m->rejections[reason_index(status, body)]++;
	m->latency_buckets[b]++;
	m->latency_sum_s += latency_s;
	m->latency_count++;
	pthread_mutex_unlock(&m->mu);
}

static char *metrics_text(front_metrics *m, size_t *len)
{
	static const char *const cls[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "other" };
	static const char *const batch_le[] = { "1", "2", "4", "8", "16", "64", "256",
	                                        "+Inf" };
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	unsigned long long acc = 0;

	if (!buf)
		return NULL;
#define OUT(...) n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
	pthread_mutex_lock(&m->mu);
	OUT("# TYPE clearbook_front_requests_total counter\n");
	for (int i = 0; i < 6; i++)
		OUT("clearbook_front_requests_total{class=\"%s\"} %llu\n", cls[i], m->requests[i]);
	OUT("# TYPE clearbook_front_rejections_total counter\n");
	for (size_t i = 0; i < REASONS_N; i++)
		OUT("clearbook_front_rejections_total{reason=\"%s\"} %llu\n", reason_names[i],
		    m->rejections[i]);
	OUT("# TYPE clearbook_front_request_seconds histogram\n");
	for (size_t i = 0; i <= LATENCY_N; i++) {
		acc += m->latency_buckets[i];
		if (i < LATENCY_N)
			OUT("clearbook_front_request_seconds_bucket{le=\"%g\"} %llu\n",
			    latency_bounds_s[i], acc);
		else
			OUT("clearbook_front_request_seconds_bucket{le=\"+Inf\"} %llu\n", acc);
	}
	OUT("clearbook_front_request_seconds_sum %.6f\n", m->latency_sum_s);
	OUT("clearbook_front_request_seconds_count %llu\n", m->latency_count);
	OUT("# TYPE clearbook_front_queue_depth gauge\nclearbook_front_queue_depth %ld\n",
	    __atomic_load_n(&m->queue_depth, __ATOMIC_RELAXED));
	OUT("# TYPE clearbook_front_commit_batch_size histogram\n");
	acc = 0;
	for (int i = 0; i < 8; i++) {
		acc += m->batch_buckets[i];
		OUT("clearbook_front_commit_batch_size_bucket{le=\"%s\"} %llu\n", batch_le[i], acc);
	}
	OUT("clearbook_front_commit_batch_size_sum %llu\n", m->batched_ops);
	OUT("# TYPE clearbook_front_writer_seconds_total counter\n");
	OUT("clearbook_front_writer_seconds_total{phase=\"requests\"} %.6f\n", m->writer_ops_s);
	OUT("clearbook_front_writer_seconds_total{phase=\"commit\"} %.6f\n", m->writer_commit_s);
	OUT("clearbook_front_commit_batch_size_count %llu\n", m->batches);
	OUT("# TYPE clearbook_front_busy_batches_total counter\n"
	    "clearbook_front_busy_batches_total %llu\n", m->busy_batches);
	pthread_mutex_unlock(&m->mu);
#undef OUT
	FRONT_ASSERT(n < cap);
	*len = n;
	return buf;
}

/* --- answering ------------------------------------------------------------ */

static enum MHD_Result respond(struct server *s, struct MHD_Connection *c,
                               struct request *r, unsigned status, const char *body,
                               const char *type, long retry_after_s)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;
	char t[24];

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	if (retry_after_s > 0) {
		snprintf(t, sizeof t, "%ld", retry_after_s);
		MHD_add_response_header(resp, "Retry-After", t);
	}
	if (stopping(s))
		MHD_add_response_header(resp, "Connection", "close");
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	count_request(&s->metrics, status, body, mono_s() - r->start_s);
	return rc;
}

static enum MHD_Result fail(struct server *s, struct MHD_Connection *c,
                            struct request *r, unsigned status, const char *code,
                            const char *msg, long retry_after_s)
{
	char body[1024];
	front_error_json(body, sizeof body, code, msg);
	return respond(s, c, r, status, body, "application/json", retry_after_s);
}

static enum MHD_Result answer_json(struct server *s, struct MHD_Connection *c,
                                   struct request *r, unsigned status, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	enum MHD_Result rc;

	json_decref(o);
	if (!text)
		return fail(s, c, r, 500, "internal", "out of memory", 0);
	rc = respond(s, c, r, status, text, "application/json", 0);
	free(text);
	return rc;
}

/* --- checks on the way in -------------------------------------------------- */

/* Nesting depth of a JSON text, strings skipped; parsing comes after. */
static long json_depth(const char *s, size_t n)
{
	long depth = 0, max = 0;
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				max = depth;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return max;
}

int front_body_parse(const char *text, size_t len, long depth_max, void **out)
{
	json_error_t jerr;
	json_t *body;

	*out = NULL;
	if (json_depth(text ? text : "", len) > depth_max)
		return 1;
	body = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body || !json_is_object(body)) {
		json_decref(body);
		return 2;
	}
	*out = body;
	return 0;
}

static void client_key(struct MHD_Connection *c, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			          ip, sizeof ip);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			          ip, sizeof ip);
	}
	snprintf(out, cap, "addr:%s", ip);
}

int front_auth_timestamp(const char *ts, long long now_s, long skew_s)
{
	long long t;
	char *end;

	errno = 0;
	t = strtoll(ts, &end, 10);
	if (errno || end == ts || *end || strlen(ts) > 12 || llabs(t - now_s) > skew_s)
		return -1;
	return 0;
}

int front_auth_signature(const char *secret, const char *method, const char *uri,
                         const char *ts, const char *body, size_t body_len,
                         const char *sig)
{
	char body_hex[65], want[65], *msg;
	size_t n;
	int ok;

	front_sha256_hex(body ? body : "", body_len, body_hex);
	n = strlen(method) + strlen(uri) + strlen(ts) + 64 + 4;
	msg = malloc(n);
	if (!msg)
		return -2;
	snprintf(msg, n, "%s\n%s\n%s\n%s", method, uri, ts, body_hex);
	front_hmac_hex(secret, strlen(secret), msg, strlen(msg), want);
	ok = strlen(sig) == 64 && front_equal_ct(want, sig, 64);
	OPENSSL_cleanse(want, sizeof want);
	free(msg);
	return ok ? 0 : -1;
}

struct auth {
	front_key key;
	int status;        /* 0 ok, else the HTTP status to answer */
	const char *code, *msg;
};

/* Checks X-Key-Id, X-Timestamp and X-Signature over METHOD, PATH (with
 * the query), TIMESTAMP and the SHA-256 of the body. */
static void authenticate(struct server *s, struct MHD_Connection *c,
                         const char *method, struct request *r, struct auth *a)
{
	const char *kid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Key-Id");
	const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Timestamp");
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Signature");
	struct reader *h;
	int found, rc;

	memset(a, 0, sizeof *a);
	a->status = 401;
	if (!kid || !ts || !sig) {
		a->code = "missing_auth";
		a->msg = "X-Key-Id, X-Timestamp and X-Signature are required";
		return;
	}
	if (front_auth_timestamp(ts, (long long)time(NULL), s->cfg.clock_skew_s) != 0) {
		a->code = "stale_timestamp";
		a->msg = "X-Timestamp must be Unix seconds within 300 s of the server's clock";
		return;
	}
	h = pool_take(&s->pool);
	found = front_key_lookup(&h->fdb, s->master, kid, &a->key);
	pool_give(&s->pool, h);
	if (found < 0) {
		a->status = 503;
		a->code = "retry";
		a->msg = "the key store is not available; try again";
		return;
	}
	if (!found) {
		a->code = "unknown_key";
		a->msg = "no active API key with this X-Key-Id";
		return;
	}
	rc = front_auth_signature(a->key.secret, method, r->uri, ts, r->body, r->len, sig);
	if (rc == -2) {
		a->status = 500;
		a->code = "internal";
		a->msg = "out of memory";
		goto out;
	}
	if (rc != 0) {
		a->code = "bad_signature";
		a->msg = "X-Signature does not match the request";
		goto out;
	}
	a->status = 0;
out:
	OPENSSL_cleanse(a->key.secret, sizeof a->key.secret);
}

/* --- routes --------------------------------------------------------------- */

/* Splits "/v1/purchases/ID/capture" and the like; returns the op kind,
 * -1 for the GET of one purchase, -2 for a wallet balance, -3 unknown. */
static int route(const char *path, char *id, size_t cap, const char **tail)
{
	const char *p;
	size_t n;

	*tail = "";
	if (!strcmp(path, "/v1/purchases"))
		return FRONT_OP_PURCHASE;
	if (!strcmp(path, "/v1/refunds"))
		return FRONT_OP_REFUND;
	if (!strcmp(path, "/v1/fx/quotes"))
		return FRONT_OP_QUOTE;
	if (!strncmp(path, "/v1/purchases/", 14)) {
		p = path + 14;
		n = strcspn(p, "/");
		if (n == 0 || n >= cap)
			return -3;
		snprintf(id, cap, "%.*s", (int)n, p);
		*tail = p + n;
		if (!**tail)
			return -1;
		if (!strcmp(*tail, "/capture"))
			return FRONT_OP_CAPTURE;
		if (!strcmp(*tail, "/void"))
			return FRONT_OP_VOID;
		return -3;
	}
	if (!strncmp(path, "/v1/wallets/", 12)) {
		p = path + 12;
		n = strcspn(p, "/");
		if (n == 0 || n >= cap || strcmp(p + n, "/balance") != 0)
			return -3;
		snprintf(id, cap, "%.*s", (int)n, p);
		return -2;
	}
	return -3;
}

static enum MHD_Result get_purchase(struct server *s, struct MHD_Connection *c,
                                    struct request *r, const front_key *k,
                                    const char *id)
{
	front_purchase p;
	struct reader *h = pool_take(&s->pool);
	int found = front_purchase_load(&h->fdb, id, &p);

	pool_give(&s->pool, h);
	if (found < 0)
		return fail(s, c, r, 503, "retry", "the database is busy; try again", 1);
	if (!found)
		return fail(s, c, r, 404, "not_found", "no such purchase", 0);
	if (strcmp(p.merchant, k->merchant) != 0)
		return fail(s, c, r, 403, "not_yours", "the purchase belongs to another "
		            "merchant", 0);
	return answer_json(s, c, r, 200, json_pack("{s:o}", "purchase",
	                                           front_purchase_json(&p)));
}

static enum MHD_Result get_balance(struct server *s, struct MHD_Connection *c,
                                   struct request *r, const front_key *k,
                                   const char *customer)
{
	const char *asset = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "asset");
	char base[LG_CODE_MAX + 1], code[LG_CODE_MAX + 1];
	front_balance b;
	struct reader *h;
	int found;

	for (const char *q = customer; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_' ||
		      *q == '-' || *q == '.'))
			return fail(s, c, r, 400, "bad_request", "not a customer id", 0);
	if (asset && (strlen(asset) == 0 || strlen(asset) > LG_ASSET_CODE_MAX))
		return fail(s, c, r, 400, "bad_request", "asset: not an asset code", 0);
	snprintf(base, sizeof base, "liabilities:wallets:%s", customer);
	front_account_for(&s->cfg, base, asset ? asset : s->cfg.home_asset, code,
	                  sizeof code);
	h = pool_take(&s->pool);
	/* Privacy: a wallet's balance is for the merchants the customer bought
	 * from.  Asked before the wallet is looked up, so that the answer tells
	 * nobody else whether the customer exists. */
	found = front_customer_of(&h->fdb, k->merchant, customer);
	if (found == 1)
		found = front_balance_read(&h->fdb, code, &b);
	else if (found == 0)
		found = -2;
	pool_give(&s->pool, h);
	if (found == -2)
		return fail(s, c, r, 403, "not_yours", "customer has no purchase with this "
		            "merchant", 0);
	if (found < 0)
		return fail(s, c, r, 503, "retry", "the database is busy; try again", 1);
	if (!found)
		return fail(s, c, r, 404, "not_found", "no such wallet", 0);
	return answer_json(s, c, r, 200, json_pack("{s:s,s:[o]}", "customer", customer,
	                                           "wallets", front_balance_json(&b)));
}

static enum MHD_Result post_op(struct server *s, struct MHD_Connection *c,
                               struct request *r, const front_key *k, int kind,
                               const char *id)
{
	const char *idem = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                               "Idempotency-Key");
	front_op *op = NULL;
	json_t *body = NULL;
	enum MHD_Result rc;
	size_t n = idem ? strlen(idem) : 0;
	int rc_submit;

	for (size_t i = 0; i < n; i++)
		if (idem[i] < 0x21 || idem[i] > 0x7e)
			n = 0;
	if (n == 0 || n > FRONT_IDEM_KEY_MAX)
		return fail(s, c, r, 400, "missing_idempotency_key", "every POST needs an "
		            "Idempotency-Key of 1 to 128 printable characters", 0);
	if (r->len > 0 || (kind != FRONT_OP_CAPTURE && kind != FRONT_OP_VOID)) {
		switch (front_body_parse(r->body, r->len, s->cfg.json_depth_max,
		                         (void **)&body)) {
		case 0:
			break;
		case 1:
			return fail(s, c, r, 400, "too_deep", "the JSON body is nested too deeply",
			            0);
		default:
			return fail(s, c, r, 400, "malformed_json", "the body must be a JSON "
			            "object", 0);
		}
	}
	op = calloc(1, sizeof *op);
	if (!op) {
		json_decref(body);
		return fail(s, c, r, 500, "internal", "out of memory", 0);
	}
	op->kind = (enum front_op_kind)kind;
	op->body = body;
	snprintf(op->merchant, sizeof op->merchant, "%s", k->merchant);
	snprintf(op->idem_key, sizeof op->idem_key, "%s", idem);
	snprintf(op->target, sizeof op->target, "%s", id);
	{
		size_t mlen = strlen(r->uri) + r->len + 8;
		char *m = malloc(mlen);
		if (!m) {
			json_decref(body);
			free(op);
			return fail(s, c, r, 500, "internal", "out of memory", 0);
		}
		int h = snprintf(m, mlen, "POST\n%s\n", r->uri);
		memcpy(m + h, r->body ? r->body : "", r->len);
		front_sha256(m, (size_t)h + r->len, op->request_sha);
		free(m);
	}
	rc_submit = front_writer_submit(s->writer, op, r->announced);
	r->announced = 0;
	if (rc_submit != 0)
		rc = fail(s, c, r, 503, "overloaded", "the commit queue is full; try again",
		          1);
	else
		rc = respond(s, c, r, op->status, op->response, "application/json",
		             op->status == 503 ? 1 : 0);
	json_decref(body);
	free(op);
	return rc;
}

static enum MHD_Result dispatch(struct server *s, struct MHD_Connection *c,
                                const char *url, const char *method,
                                struct request *r)
{
	char addr[RL_KEY_MAX], key[RL_KEY_MAX], id[FRONT_ID_MAX + 1] = "";
	const char *tail;
	int is_get = !strcmp(method, "GET"), is_post = !strcmp(method, "POST"), kind;
	long wait_s;
	struct auth a;

	if (is_get && !strcmp(url, "/healthz"))
		return respond(s, c, r, 200, "{\"status\":\"ok\"}", "application/json", 0);
	if (is_get && !strcmp(url, "/metrics")) {
		size_t n;
		char *text = metrics_text(&s->metrics, &n);
		enum MHD_Result rc = text ? respond(s, c, r, 200, text,
		                                    "text/plain; version=0.0.4", 0)
		                          : MHD_NO;
		free(text);
		return rc;
	}
	if (stopping(s))
		return fail(s, c, r, 503, "shutting_down", "the server is stopping", 1);
	client_key(c, addr, sizeof addr);
	wait_s = limiter_take(s->limits, addr, s->cfg.addr_rate_per_s, s->cfg.addr_burst);
	if (wait_s)
		return fail(s, c, r, 429, "rate_limited", "too many requests from this "
		            "address", wait_s);
	if (r->uri_too_long)
		return fail(s, c, r, 400, "bad_request", "the URI is too long", 0);
	if (r->too_big)
		return fail(s, c, r, 413, "body_too_large", "the body is larger than the "
		            "server accepts", 0);
	kind = route(url, id, sizeof id, &tail);
	if (kind == -3)
		return fail(s, c, r, 404, "not_found", "no such endpoint", 0);
	if ((kind >= 0 && !is_post) || (kind < 0 && !is_get))
		return fail(s, c, r, 405, "method_not_allowed", "wrong method for this "
		            "endpoint", 0);
	authenticate(s, c, method, r, &a);
	if (a.status)
		return fail(s, c, r, (unsigned)a.status, a.code, a.msg, a.status == 503);
	snprintf(key, sizeof key, "key:%s", a.key.key_id);
	wait_s = limiter_take(s->limits, key, s->cfg.key_rate_per_s, s->cfg.key_burst);
	if (wait_s)
		return fail(s, c, r, 429, "rate_limited", "too many requests with this key",
		            wait_s);
	if (kind == -1)
		return get_purchase(s, c, r, &a.key, id);
	if (kind == -2)
		return get_balance(s, c, r, &a.key, id);
	return post_op(s, c, r, &a.key, kind, id);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct server *s = cls;
	struct request *r = calloc(1, sizeof *r);

	(void)c;
	if (!r)
		return NULL;
	r->start_s = mono_s();
	if (strlen(uri) >= sizeof r->uri)
		r->uri_too_long = 1;
	else
		snprintf(r->uri, sizeof r->uri, "%s", uri);
	pthread_mutex_lock(&s->mu);
	s->in_flight++;
	r->counted = 1;
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct request *r = *con_cls;

	(void)c;
	(void)toe;
	if (!r)
		return;
	if (r->announced)
		front_writer_announce(s->writer, -1);
	if (r->counted) {
		pthread_mutex_lock(&s->mu);
		s->in_flight--;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	struct request *r = *con_cls;
	size_t max = (size_t)s->cfg.body_max_bytes;
	enum MHD_Result rc;

	(void)version;
	if (!r)
		return MHD_NO; /* out of memory in on_uri */
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->too_big || r->len + n > max) {
			r->too_big = 1;
			free(r->body);
			r->body = NULL;
			return MHD_YES;
		}
		if (!r->body && !(r->body = malloc(max))) {
			r->too_big = 1;
			return MHD_YES;
		}
		memcpy(r->body + r->len, upload_data, n);
		r->len += n;
		return MHD_YES;
	}
	if (!r->seen) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             "Content-Length");
		r->seen = 1;
		if (!strcmp(method, "POST") && !stopping(s)) {
			/* the writer may wait a moment for this one */
			front_writer_announce(s->writer, 1);
			r->announced = 1;
		}
		if (!cl || strtoull(cl, NULL, 10) <= max)
			return MHD_YES; /* the body, if any, comes next */
		/* refuse before reading a body we would throw away */
		r->too_big = 1;
	}
	rc = dispatch(s, c, url, method, r);
	if (r->announced) {
		/* answered without the writer */
		front_writer_announce(s->writer, -1);
		r->announced = 0;
	}
	return rc;
}

/* --- start and stop ------------------------------------------------------- */

static int parse_listen(const char *text, struct sockaddr_in *sa, lg_error *err)
{
	const char *colon = strrchr(text, ':');
	char host[64];
	long port;
	char *end;

	memset(sa, 0, sizeof *sa);
	if (!colon || (size_t)(colon - text) >= sizeof host)
		return lg_error_set(err, LG_EUSAGE, "--listen '%s' is not HOST:PORT", text);
	snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return lg_error_set(err, LG_EUSAGE, "--listen '%s': bad port", text);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return lg_error_set(err, LG_EUSAGE, "--listen '%s': the host must be an "
		                    "IPv4 address", text);
	return LG_OK;
}

static int open_pool(struct server *s, const char *db, lg_error *err)
{
	pthread_mutex_init(&s->pool.mu, NULL);
	pthread_cond_init(&s->pool.cv, NULL);
	for (int i = 0; i < READ_POOL_N; i++) {
		int rc = ledger_open(db, 0, NULL, &s->pool.h[i].lg, err);
		if (rc)
			return rc;
		front_db_init(&s->pool.h[i].fdb, ledger_sqlite(s->pool.h[i].lg));
		s->pool.free_h[s->pool.free_n++] = &s->pool.h[i];
	}
	return LG_OK;
}

static void close_pool(struct server *s)
{
	for (int i = 0; i < READ_POOL_N; i++) {
		if (!s->pool.h[i].lg)
			continue;
		front_db_release(&s->pool.h[i].fdb);
		ledger_close(s->pool.h[i].lg);
	}
	pthread_mutex_destroy(&s->pool.mu);
	pthread_cond_destroy(&s->pool.cv);
}

static int start_daemon(struct server *s, const front_options *opt, lg_error *err)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	int rc = parse_listen(opt->listen, &sa, err);

	if (rc)
		return rc;
	s->daemon = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_POLL | MHD_USE_ITC,
		0, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.connections_max,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg.connections_per_addr_max,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.connection_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_END);
	if (!s->daemon)
		return lg_error_set(err, LG_EIO, "cannot listen on %s", opt->listen);
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	/* Tests pass port 0 and read the real one from this line. */
	fprintf(stderr, "clearbook: serve: listening on %s:%u\n",
	        inet_ntoa(sa.sin_addr), info ? (unsigned)info->port : 0u);
	return LG_OK;
}

/* Stop accepting, let every accepted request be committed and answered,
 * then stop the writer (which drains its queue). */
static void drain(struct server *s)
{
	struct timespec until;

	MHD_quiesce_daemon(s->daemon);
	pthread_mutex_lock(&s->mu);
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DRAIN_WAIT_MS / 1000;
	while (s->in_flight > 0)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->mu);
	MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
	front_writer_stop(s->writer);
	s->writer = NULL;
}

int front_serve(const front_options *opt, lg_error *err)
{
	struct server *s = calloc(1, sizeof *s);
	sigset_t set;
	int rc, sig = 0;

	if (!s || !(s->limits = calloc(1, sizeof *s->limits))) {
		free(s);
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->metrics.mu, NULL);
	pthread_mutex_init(&s->limits->mu, NULL);
	/* Every thread inherits this mask; the main thread waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = front_config_load(&s->cfg, opt->config_path, err);
	if (!rc)
		rc = front_master_key(&s->cfg, s->master, err);
	if (!rc)
		rc = ledger_open(opt->db_path, 0, NULL, &s->lg, err);
	if (!rc)
		rc = front_store_init(s->lg, err);
	if (!rc)
		rc = open_pool(s, opt->db_path, err);
	if (!rc)
		rc = front_writer_start(&s->writer, s->lg, &s->cfg, &s->metrics, err);
	if (!rc)
		rc = start_daemon(s, opt, err);
	if (!rc) {
		sigwait(&set, &sig);
		fprintf(stderr, "clearbook: serve: %s: draining\n",
		        sig == SIGTERM ? "SIGTERM" : "SIGINT");
		drain(s);
		fprintf(stderr, "clearbook: serve: stopped\n");
	}
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	front_writer_stop(s->writer);
	if (s->pool.h[0].lg)
		close_pool(s);
	ledger_close(s->lg);
	OPENSSL_cleanse(s->master, sizeof s->master);
	front_config_release(&s->cfg);
	free(s->limits);
	free(s);
	return rc;
}
