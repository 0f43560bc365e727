/*
 * front_int.h - what the front's files share: the configuration, the crypto
 * helpers (the one place OpenSSL is called), the front's tables, the writer
 * queue and the metrics.  Private to front/.
 */
#ifndef CLEARBOOK_FRONT_INT_H
#define CLEARBOOK_FRONT_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../ledger/ledger_sql.h"
#include "front.h"

/* Stays on in release builds: a crash beats a wrong answer about money. */
#define FRONT_ASSERT(c)                                                       \
	do {                                                                      \
		if (!(c))                                                             \
			front_assert_fail(#c, __FILE__, __LINE__);                       \
	} while (0)
_Noreturn void front_assert_fail(const char *what, const char *file, int line);

/* --- limits ------------------------------------------------------------- */
#define FRONT_NAME_MAX 64          /* bytes of a merchant, customer, tier name */
#define FRONT_MERCHANTS_MAX 256
#define FRONT_TIERS_MAX 16
#define FRONT_RATES_MAX 256
#define FRONT_POINTS_MAX 8
#define FRONT_CUSTOMERS_MAX 1000000
#define FRONT_RATE_TEXT_MAX 40     /* "7.123456" */
#define FRONT_IDEM_KEY_MAX 128     /* bytes of an Idempotency-Key */
#define FRONT_ORDER_ID_MAX 64
#define FRONT_RESPONSE_MAX 4096    /* bytes of one JSON response */
#define FRONT_ID_MAX 40            /* our ids: "pu_" + 32 hex */
#define FRONT_PATH_MAX 512

/* --- configuration (config.c) ------------------------------------------ */
typedef struct front_merchant {
	char name[FRONT_NAME_MAX];
	unsigned fee_bps;  /* basis points of the captured amount */
#define FRONT_FEE_UNSET 0xffffffffu /* while loading: not in its section */
	int blocked;
} front_merchant;

typedef struct front_tier {
	char name[FRONT_NAME_MAX];
	char amount_max[AMOUNT_TEXT_MAX];       /* per purchase; "" = no limit */
	char daily_amount_max[AMOUNT_TEXT_MAX]; /* per 24 h; "" = no limit */
	long per_minute_max;                    /* purchases per 60 s; 0 = none */
} front_tier;

typedef struct front_customer {
	char id[FRONT_NAME_MAX];
	char tier[FRONT_NAME_MAX];
	int blocked;
} front_customer;

typedef struct front_rate {
	char from[LG_ASSET_CODE_MAX + 1], to[LG_ASSET_CODE_MAX + 1];
	char rate[FRONT_RATE_TEXT_MAX];  /* units of `to` per unit of `from` */
} front_rate;

typedef struct front_points {
	char asset[LG_ASSET_CODE_MAX + 1];     /* "PTS" */
	char currency[LG_ASSET_CODE_MAX + 1];  /* what a point is worth in */
	char value[FRONT_RATE_TEXT_MAX];       /* currency units per point */
} front_points;

typedef struct front_config {
	char home_asset[LG_ASSET_CODE_MAX + 1];
	char master_key_hex[FRONT_MASTER_KEY_HEX + 1];
	long queue_max, batch_max;
	long body_max_bytes, json_depth_max;
	long connections_max, connections_per_addr_max, connection_timeout_s;
	long hold_timeout_s, hold_timeout_max_s, fx_quote_ttl_s;
	long clock_skew_s;
	long busy_wait_ms;  /* longest wait for another writer's lock, per batch */
	long key_rate_per_s, key_burst, addr_rate_per_s, addr_burst;
	unsigned default_fee_bps;
	char default_tier[FRONT_NAME_MAX];
	int merchants_n, tiers_n, rates_n, points_n;
	front_merchant merchants[FRONT_MERCHANTS_MAX];
	front_tier tiers[FRONT_TIERS_MAX];
	front_rate rates[FRONT_RATES_MAX];
	front_points points[FRONT_POINTS_MAX];
	long customers_n;
	front_customer *customers; /* sorted by id; owned */
} front_config;

/* Fills defaults, then reads `path` (NULL: defaults only) and the files it
 * names.  Caller releases with front_config_release. */
int front_config_load(front_config *cfg, const char *path, lg_error *err);
void front_config_release(front_config *cfg);
/* The master key from CLEARBOOK_MASTER_KEY, else the configuration. */
int front_master_key(const front_config *cfg, unsigned char key[32], lg_error *err);
const front_merchant *front_config_merchant(const front_config *cfg, const char *name);
const front_customer *front_config_customer(const front_config *cfg, const char *id);
const front_tier *front_config_tier(const front_config *cfg, const char *name);
const front_rate *front_config_rate(const front_config *cfg, const char *from,
                                    const char *to);
const front_points *front_config_points(const front_config *cfg, const char *asset);

/* --- crypto (crypto.c) ------------------------------------------------- */
void front_sha256_hex(const void *data, size_t len, char out[65]);
void front_sha256(const void *data, size_t len, unsigned char out[32]);
void front_hmac_hex(const void *key, size_t key_len, const void *msg, size_t len,
                    char out[65]);
/* Constant-time equality of two equal-length byte strings. */
int front_equal_ct(const void *a, const void *b, size_t len);
int front_random_hex(char *out, size_t bytes); /* 2*bytes hex + NUL */
int front_hex_decode(const char *hex, unsigned char *out, size_t out_len);
#define FRONT_SEAL_OVERHEAD 28 /* 12-byte IV and 16-byte tag */
/* AES-256-GCM: out gets IV | ciphertext | tag (len + 28 bytes); `aad` binds
 * the ciphertext to its key id. */
int front_seal(const unsigned char key[32], const char *aad, const void *plain,
               size_t len, unsigned char *out);
int front_unseal(const unsigned char key[32], const char *aad,
                 const unsigned char *sealed, size_t sealed_len, char *plain,
                 size_t plain_cap);

/* --- exact rates (money.c) --------------------------------------------- */
/* A decimal rate as mantissa and scale: "7.1234" is 71234, 4. */
typedef struct front_rate_num {
	amount_minor_t mant;
	int scale;
} front_rate_num;
int front_rate_parse(const char *text, front_rate_num *out);
/*
 * x (minor units at from_scale) times num/den, to minor units at to_scale,
 * rounded half-even (the one rounding rule of the front).  -1 on overflow.
 */
int front_convert(amount_minor_t x, int from_scale, front_rate_num mul,
                  int divide, int to_scale, amount_minor_t *out);
/* x * a / b for x, a >= 0 and b > 0, rounded half-even; -1 on overflow. */
int front_muldiv(amount_minor_t x, amount_minor_t a, amount_minor_t b,
                 amount_minor_t *out);
/* Fee in basis points, rounded half-even. */
int front_fee_minor(amount_minor_t amount, unsigned bps, amount_minor_t *out);

/* --- tables (store.c) --------------------------------------------------- */
int front_store_init(ledger *lg, lg_error *err);

/* Prepared statements of one connection, each prepared once and reused:
 * preparing costs more than running most of ours.  Keyed by the address of
 * the SQL text, so callers pass string literals. */
#define FRONT_STMTS_MAX 32
typedef struct front_db {
	sqlite3 *db;  /* borrowed */
	int n;
	const char *sql[FRONT_STMTS_MAX];
	sqlite3_stmt *st[FRONT_STMTS_MAX];
} front_db;
void front_db_init(front_db *d, sqlite3 *db);
void front_db_release(front_db *d);
/* The statement for `sql`, reset with no bindings; NULL on error (the
 * message is sqlite3_errmsg(d->db)).  Borrowed: the caller resets it when
 * done so that no read transaction stays open. */
sqlite3_stmt *front_prepare(front_db *d, const char *sql);

typedef struct front_key {
	char key_id[FRONT_KEY_ID_MAX + 1];
	char merchant[FRONT_NAME_MAX];
	char secret[FRONT_SECRET_MAX + 1];
} front_key;
/* Looks up an active key; 1 found, 0 absent or revoked, -1 error. */
int front_key_lookup(front_db *d, const unsigned char master[32],
                     const char *key_id, front_key *out);

/* A purchase as stored in front_purchases; amounts in minor units. */
typedef struct front_purchase {
	char id[FRONT_ID_MAX + 1];
	char merchant[FRONT_NAME_MAX], order_id[FRONT_ORDER_ID_MAX + 1];
	char customer[FRONT_NAME_MAX];
	char asset[LG_ASSET_CODE_MAX + 1];
	int scale;
	amount_minor_t amount, fee, captured, refunded;
	char status[16];        /* completed held captured voided expired */
	char pay_asset[LG_ASSET_CODE_MAX + 1];    /* FX: the wallet's asset, or "" */
	amount_minor_t pay;
	char points_asset[LG_ASSET_CODE_MAX + 1]; /* points used, or "" */
	amount_minor_t points;
	amount_minor_t points_value; /* what the points paid, in `asset` */
	char fx_quote_id[FRONT_ID_MAX + 1];
	char expires_at[32];    /* holds only, else "" */
	char created_at[32];
	long long created_epoch;
} front_purchase;
/* 1 found, 0 absent, -1 error. */
int front_purchase_load(front_db *d, const char *id, front_purchase *out);
/* Whether `customer` has bought from `merchant` (any purchase the front
 * recorded, held or refunded included): 1 yes, 0 no, -1 error.  A merchant
 * sees the wallets of its own customers only. */
int front_customer_of(front_db *d, const char *merchant, const char *customer);
/* A new JSON object (caller owns) describing the purchase. */
void *front_purchase_json(const front_purchase *p);
/* A wallet's balance as the customer sees it (credit balance positive):
 * 1 found, 0 no such account, -1 error. */
typedef struct front_balance {
	char account[LG_CODE_MAX + 1];
	char asset[LG_ASSET_CODE_MAX + 1];
	int scale;
	amount_minor_t posted, available;
} front_balance;
int front_balance_read(front_db *d, const char *account, front_balance *out);
void *front_balance_json(const front_balance *b);
/* The account code of `base` in `asset`: `base` itself for the home asset,
 * else base:<asset in lower case>. */
void front_account_for(const front_config *cfg, const char *base, const char *asset,
                       char *out, size_t cap);

/* --- request checks (http.c), pure functions of their arguments -------- */
/*
 * A POST body: 0 and *out a new JSON object (json_t *, caller owns);
 * 1 nested deeper than depth_max (checked before parsing); 2 not one JSON
 * object (malformed, duplicate keys, another type).  `text` may be NULL
 * when len is 0.
 */
int front_body_parse(const char *text, size_t len, long depth_max, void **out);
/* X-Timestamp: 0 when it is decimal Unix seconds (at most 12 characters)
 * within skew_s of now_s, else -1. */
int front_auth_timestamp(const char *ts, long long now_s, long skew_s);
/*
 * X-Signature: 0 when `sig` is the lower-case hex HMAC-SHA256 under
 * `secret` of "METHOD\nURI\nTIMESTAMP\nSHA256-HEX(BODY)" (compared in
 * constant time), -1 when not, -2 out of memory.  Strings borrowed; `body`
 * may be NULL when body_len is 0.
 */
int front_auth_signature(const char *secret, const char *method, const char *uri,
                         const char *ts, const char *body, size_t body_len,
                         const char *sig);

/* --- metrics (http.c) ------------------------------------------------- */
typedef struct front_metrics {
	pthread_mutex_t mu;
	unsigned long long requests[6];     /* by status class 1xx..5xx, other */
	unsigned long long rejections[16];  /* by reason, see front_reason */
	unsigned long long latency_buckets[12];
	double latency_sum_s;               /* latency, never money */
	unsigned long long latency_count;
	unsigned long long batches, batched_ops;
	unsigned long long batch_buckets[8];
	long queue_depth;
	double writer_ops_s, writer_commit_s; /* where the writer's time goes */
	unsigned long long busy_batches;    /* batches refused: another writer */
} front_metrics;

/* --- the writer (writer.c) ---------------------------------------------- */
enum front_op_kind {
	FRONT_OP_PURCHASE, FRONT_OP_CAPTURE, FRONT_OP_VOID, FRONT_OP_REFUND,
	FRONT_OP_QUOTE
};

/* One request waiting for the writer.  The HTTP thread owns it; the writer
 * fills status and response and sets done under the queue's lock. */
typedef struct front_op {
	enum front_op_kind kind;
	char merchant[FRONT_NAME_MAX];
	char idem_key[FRONT_IDEM_KEY_MAX + 1];
	unsigned char request_sha[32];
	char target[FRONT_ID_MAX + 1];  /* purchase id of capture/void */
	void *body;                     /* json_t *, borrowed */
	int done;
	unsigned status;
	char response[FRONT_RESPONSE_MAX];
	struct front_op *next;
} front_op;

typedef struct front_writer front_writer;
int front_writer_start(front_writer **out, ledger *lg, const front_config *cfg,
                       front_metrics *m, lg_error *err);
/* Queues `op` and waits for its answer; 0, or -1 when the queue is full
 * or the writer stops (the caller answers 503).  `announced`: the request
 * was counted by front_writer_announce, and no longer is. */
int front_writer_submit(front_writer *w, front_op *op, int announced);
/*
 * +1: a write request is on its way (its headers are in, the body and the
 * checks still to come); -1: it will not come after all.  The writer
 * lingers up to FRONT_LINGER_US for announced requests before it starts a
 * batch, so that one commit serves them too.
 */
void front_writer_announce(front_writer *w, int delta);
#define FRONT_LINGER_US 2000
/* Drains the queue, commits, stops the thread and frees the writer. */
void front_writer_stop(front_writer *w);

/* Builds {"error":{"code":..,"message":..}} into buf. */
void front_error_json(char *buf, size_t cap, const char *code, const char *msg);

#endif
