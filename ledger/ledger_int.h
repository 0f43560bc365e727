/*
 * ledger_int.h - what the ledger's own files share; nothing outside ledger/
 * includes this.
 */
#ifndef CLEARBOOK_LEDGER_INT_H
#define CLEARBOOK_LEDGER_INT_H

#include <sqlite3.h>
#include <stdlib.h>

#include "ledger.h"

/* Ledger invariants stay checked in release builds: a crash beats
 * committing an unbalanced book. */
#define LG_ASSERT(cond)                                                      \
	do {                                                                     \
		if (!(cond))                                                         \
			lg_assert_fail(#cond, __FILE__, __LINE__);                       \
	} while (0)
_Noreturn void lg_assert_fail(const char *what, const char *file, int line);

#define LG_HASH_BYTES 32
#define LG_TS_MAX 32              /* "2026-11-25T02:00:00Z" and NUL */
#define LG_CACHE_ACCOUNTS_MAX 100000 /* accounts held in memory per batch */
#define LG_TEMPLATES_MAX 256
#define LG_BUSY_TIMEOUT_MS 10000

enum lg_kind { LG_KIND_POSTED, LG_KIND_PENDING, LG_KIND_COMMIT, LG_KIND_VOID,
               LG_KIND_EXPIRE, LG_KIND_REVERSE };
const char *lg_kind_name(enum lg_kind kind);

enum lg_acct_type { LG_T_ASSET, LG_T_LIABILITY, LG_T_EQUITY, LG_T_INCOME,
                    LG_T_EXPENSE };
int lg_acct_type_parse(const char *text, enum lg_acct_type *out);
const char *lg_acct_type_name(enum lg_acct_type t);
/* +1 for debit-normal types (asset, expense), -1 for credit-normal. */
int lg_acct_type_sign(enum lg_acct_type t);

/* An account as the batch sees it, with its running balance. */
struct lg_acct {
	long long id;
	char *code;
	char asset[LG_ASSET_CODE_MAX + 1];
	int scale;
	enum lg_acct_type type;
	unsigned flags;
	int closed;
	int dirty;                 /* balance changed in this batch */
	amount_minor_t posted;
	amount_minor_t pending_dr; /* >= 0: sum of positive held amounts */
	amount_minor_t pending_cr; /* <= 0: sum of negative held amounts */
	struct lg_acct *next;      /* hash chain */
};

struct lg_template {
	char pattern[LG_CODE_MAX + 1];
	char asset[LG_ASSET_CODE_MAX + 1];
	enum lg_acct_type type;
	unsigned flags;
};

enum lg_stmt {
	ST_ACCT_BY_CODE, ST_BAL_GET, ST_BAL_PUT, ST_TX_INSERT, ST_TX_BY_ID,
	ST_POSTING_INSERT, ST_POSTING_INSERT2, ST_POSTINGS_OF, ST_ACCT_INSERT, ST_HEAD,
	ST_STAGE_LINE,
	ST_COUNT
};

struct ledger {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	char now[LG_TS_MAX];      /* fixed clock, UTC */
	char today[11];
	int in_tx;                /* inside ledger_begin */
	int sync_deferred;        /* ledger_defer_sync on: commits not flushed */
	/* Batch state, valid between lg_batch_start and lg_batch_end. */
	long long head_seq;
	unsigned char head_hash[LG_HASH_BYTES];
	char closed_through[11];  /* last closed date, "" if none */
	struct lg_acct **cache;   /* hash table by code */
	size_t cache_buckets;
	size_t cache_n;
	struct lg_template templates[LG_TEMPLATES_MAX];
	int templates_n;
	struct lg_hasher *hs;     /* SHA-256 and its encoding scratch (hash.c) */
	struct lg_json *json;     /* node pool of the line being posted */
	struct {                  /* the file being staged (staging.c) */
		long long file_id;
		long long statement_no;   /* statements of this file so far */
		long long parent_row;     /* row of the last batch entry, 0 if none */
		int parent_duplicate;     /* that entry was a duplicate */
		long long next_id;        /* id of the next line inserted, 0 unknown */
		int batch_cooldown;       /* runs of lines to stage one by one */
		char channel[64];
		char file_account[LG_CODE_MAX + 1];
		char account[LG_CODE_MAX + 1];
		long long scope_id;       /* line_scopes row of channel and account */
	} stage;
	char *meta_buf;           /* canonical metadata of that line */
	struct lg_stage_batch *stage_batch; /* multi-row insert of staging.c */
};

/* A transaction about to be appended. */
struct lg_posting {
	struct lg_acct *acct;
	amount_minor_t amount;
};
struct lg_tx {
	char id[LG_ID_MAX + 16]; /* room for a ":reversal" suffix */
	enum lg_kind kind;
	long long ref_seq;        /* 0 if none */
	char ref_id[LG_ID_MAX + 1];
	char date[11];
	char expires_at[LG_TS_MAX]; /* "" if none */
	long long timeout_s;      /* pending only; 0 = never */
	char *memo;               /* borrowed */
	char *meta;               /* borrowed canonical JSON object */
	int content_known;        /* content holds its lg_hash_content */
	unsigned char content[LG_HASH_BYTES];
	int n;
	struct lg_posting p[LG_POSTINGS_MAX];
};

/* util.c */
int lg_sql_error(ledger *lg, lg_error *err, const char *what);
int lg_timestamp_valid(const char *text);
int lg_timestamp_add(const char *ts, long long seconds, char out[LG_TS_MAX]);
int lg_code_valid(const char *code);
int lg_asset_code_valid(const char *code);
void lg_hex(const unsigned char *bytes, size_t n, char *out);

/* store.c */
int lg_store_open(ledger *lg, const char *path, int open_flags, lg_error *err);
void lg_store_close(ledger *lg);
sqlite3_stmt *lg_stmt(ledger *lg, enum lg_stmt which);
int lg_exec(ledger *lg, const char *sql, lg_error *err);
int lg_register_functions(sqlite3 *db);

/* accounts.c: the batch cache of accounts and balances */
int lg_batch_start(ledger *lg, lg_error *err);
/* Writes dirty balances back and forgets the cache. */
int lg_batch_flush(ledger *lg, lg_error *err);
void lg_batch_drop(ledger *lg);
/* Between transactions only: bounds the cache to LG_CACHE_ACCOUNTS_MAX by
 * writing balances back and forgetting them (account pointers die). */
int lg_batch_trim(ledger *lg, lg_error *err);
/* Finds an account (opening it from a template if one matches).  The
 * pointer stays valid until the next flush; *out NULL + LG_ENOINPUT if
 * unknown. */
int lg_account_get(ledger *lg, const char *code, struct lg_acct **out,
                   lg_error *err);
amount_minor_t lg_available(const struct lg_acct *a);

/* hash.c: the canonical encoding of docs/hash-chain.md and SHA-256. */
struct lg_tx_view {
	long long seq;
	const char *id, *kind, *date, *booked_at, *expires_at, *memo, *meta;
	long long ref_seq;       /* 0 if none */
	long long timeout_s;     /* content hash only */
	int n;
	const char *account[LG_POSTINGS_MAX];
	const char *asset[LG_POSTINGS_MAX];
	amount_minor_t amount[LG_POSTINGS_MAX];
};
/* A SHA-256 context with its encoding scratch; a thread uses its own. */
struct lg_hasher;
struct lg_hasher *lg_hasher_new(void);
void lg_hasher_free(struct lg_hasher *h);
/* Allocates and frees the handle's scratch: hasher, JSON node pool,
 * metadata buffer. */
int lg_scratch_new(ledger *lg);
void lg_scratch_free(ledger *lg);
/* SHA-256(prev || encoding of v); the chain link of docs/hash-chain.md. */
int lg_hash_chain(ledger *lg, const unsigned char prev[LG_HASH_BYTES],
                  const struct lg_tx_view *v, unsigned char out[LG_HASH_BYTES]);
/* What the caller submitted (no seq, clock or chain), compared when the same
 * id comes again.  Amounts in their amount_canonical form and no assets, so
 * that it is known from the text alone, before any account is looked up. */
struct lg_content {
	const char *id, *kind, *date, *memo, *meta;
	long long ref_seq, timeout_s;
	int n;
	const char *account[LG_POSTINGS_MAX];
	const char *amount[LG_POSTINGS_MAX];
	size_t amount_len[LG_POSTINGS_MAX];
};
int lg_hash_content(struct lg_hasher *h, const struct lg_content *c,
                    unsigned char out[LG_HASH_BYTES]);
/* The same of a transaction built in memory. */
int lg_hash_content_tx(ledger *lg, const struct lg_tx *tx,
                       unsigned char out[LG_HASH_BYTES]);
/* The first form (minor units and assets), which journals written before
 * 2026-12-03 hold: a replay of such a transaction is recognised by it. */
int lg_hash_content_v1(ledger *lg, const struct lg_tx_view *v,
                       unsigned char out[LG_HASH_BYTES]);
/* parse.c: a JSON Lines transaction read from its text alone (any thread).
 * Strings point into the line, which the parser decodes in place. */
struct lg_pposting {
	const char *account;
	const char *amount;       /* as written */
	size_t amount_len;
	int has_asset;            /* an "asset" member is present */
	const char *asset;        /* its text, NULL if it is not a string */
};
struct lg_parsed {
	long lineno;
	int rc;                   /* the line's own error (in err), or LG_OK */
	int posting_rc;           /* posting n's shape is wrong (in err): reported
	                           * after postings 0..n-1 are looked up */
	lg_error err;
	const char *id, *date, *memo, *meta;
	enum lg_kind kind;
	long long timeout_s;
	int n;                    /* postings read */
	struct lg_pposting *p;
	int content_known;        /* every amount had the decimal syntax */
	unsigned char content[LG_HASH_BYTES];
};
/* Ids the ledger makes itself end in ":commit", ":void", ":expire" or
 * ":reversal"; an id from outside that looked like one could block a later
 * commit, expiry or reversal, and is refused. */
int lg_id_reserved(const char *id);
/* Reads line[len] (modified in place) into out: its postings into
 * postings[LG_POSTINGS_MAX], canonical metadata into meta_out[LG_META_MAX +
 * 1].  Returns out->rc. */
int lg_parse_line(struct lg_json *doc, struct lg_hasher *hs, char *line, size_t len,
                  char *meta_out, struct lg_pposting *postings, struct lg_parsed *out);

/* reader.c: the lines of a stream read and parsed on a second thread, in
 * blocks handed over in order.  lg_reader_lines waits for the next block
 * and returns its records (NULL after the last); they stay valid until
 * lg_reader_release gives the block back.  lg_reader_failed: after the
 * last block, whether reading failed.  lg_reader_stop stops the thread
 * (even one waiting for input) and frees everything; r may be NULL. */
struct lg_reader;
int lg_reader_start(FILE *in, struct lg_reader **out, lg_error *err);
struct lg_parsed *lg_reader_lines(struct lg_reader *r, int *n);
void lg_reader_release(struct lg_reader *r);
int lg_reader_failed(const struct lg_reader *r);
void lg_reader_stop(struct lg_reader *r);

/* Fills a view of tx (borrowing its strings). */
void lg_tx_view_of(const struct lg_tx *tx, long long seq, const char *booked_at,
                   struct lg_tx_view *v);

/* json.c: a strict, allocation-free JSON reader for one line. */
#define LG_JSON_NODES_MAX 4096
#define LG_JSON_DEPTH_MAX 32
#define LG_JSON_MEMBERS_MAX 256  /* members of one metadata object or array */
enum lg_jtype { LG_J_NULL, LG_J_FALSE, LG_J_TRUE, LG_J_INT, LG_J_REAL,
                LG_J_STRING, LG_J_ARRAY, LG_J_OBJECT };
struct lg_jnode {
	enum lg_jtype type;
	char *str;          /* strings: decoded, NUL-terminated; numbers: source */
	size_t len;
	long long ival;     /* LG_J_INT */
	char *key;          /* member of an object: its decoded key */
	size_t key_len;
	int child, next;    /* first child and next sibling, -1 for none */
	int count;          /* children */
};
struct lg_json {
	int n;
	struct lg_jnode node[LG_JSON_NODES_MAX];
};
/* Parses `text` (modified in place; must stay alive while doc is used) into
 * doc; node 0 is the root.  On failure writes the reason into why. */
int lg_json_parse(struct lg_json *doc, char *text, size_t len, char *why,
                  size_t why_cap);
/* Member `key` of object node obj, or -1. */
int lg_json_get(const struct lg_json *doc, int obj, const char *key);
/* Writes node idx as canonical JSON (sorted keys, compact): 0, -1 if it
 * holds a fractional number, -2 if it does not fit in cap. */
int lg_json_canonical(const struct lg_json *doc, int idx, char *out, size_t cap);

/* query.c */
struct lg_sums {
	amount_minor_t posted, pending_dr, pending_cr;
};
/* Sums every account's postings dated on or before `at` (NULL: all) into
 * *out, indexed by account id (0..*n_out-1); the caller frees *out. */
int lg_recompute(ledger *lg, const char *at, struct lg_sums **out,
                 long long *n_out, lg_error *err);

/* staging.c */
#define LG_STAGE_OCCURRENCES_MAX 10000 /* rows sharing one key in one file */
/* Creates the staging tables where missing (idempotent). */
int lg_staging_schema(ledger *lg, lg_error *err);
/* Frees what staging.c keeps on the handle (its multi-row insert). */
void lg_staging_close(ledger *lg);

/* post.c */
/* Appends tx inside an open batch.  *replayed is set when the same id with
 * the same content is already in the journal. */
int lg_append(ledger *lg, struct lg_tx *tx, int *replayed, lg_error *err);
/* As lg_append, first releasing the held postings `rel` of a hold that
 * this transaction (commit, void, expire) ends. */
int lg_append_release(ledger *lg, struct lg_tx *tx, const struct lg_posting *rel,
                      int rel_n, int *replayed, lg_error *err);

/* The byte lengths of a transaction row's strings, when the caller knows
 * them: measured on the thread that builds a group, they spare the writer
 * thread a strlen of each (a thirteenth of its time in reconcile). */
struct lg_tx_lens {
	int id, date, booked_at, memo, meta;
};

/* Binds one transactions row (seq, id, kind, ref_seq, date, booked_at,
 * expires_at, memo, meta, content_hash, hash) to parameters base+1..base+11
 * of st; the strings are borrowed until the statement runs.  lens gives
 * the lengths of tx->id, tx->date, booked_at, tx->memo and tx->meta (which
 * must then be set), or is NULL to have them measured. */
void lg_bind_tx_row(sqlite3_stmt *st, int base, const struct lg_tx *tx, long long seq,
                    const char *booked_at, const struct lg_tx_lens *lens,
                    const unsigned char content[LG_HASH_BYTES],
                    const unsigned char hash[LG_HASH_BYTES]);

/* The fast path of bulk posting (group.c): checks tx's rules, applies its
 * balances and makes it the head (head_seq + 1, its chain hash) without
 * writing its rows, which the caller must insert before the batch ends or
 * undo.  tx is a posted or pending transaction.  On an error nothing has
 * changed; the caller then posts tx through lg_append, which tells a replay
 * or a conflict from a refusal. */
int lg_apply_unwritten(ledger *lg, struct lg_tx *tx,
                       unsigned char content[LG_HASH_BYTES],
                       unsigned char hash[LG_HASH_BYTES], lg_error *err);

/* group.c: rows of up to LG_GROUP_TX_MAX transactions written by one
 * multi-row INSERT, which costs SQLite a third less than a statement per
 * row.  Used by ledger_post_stream only; the group borrows lg. */
#define LG_GROUP_TX_MAX 16
#define LG_GROUP_POSTINGS_MAX 64
#define LG_GROUP_COOL_LINES 64  /* lines posted one by one after a replay */
struct lg_group;
/* Called from lg_group_flush for each waiting transaction whose outcome
 * turned out other than "posted": `rc` LG_OK with *replayed set, or the
 * refusal in err. */
typedef void (*lg_group_outcome_fn)(void *ctx, long lineno, int rc, int replayed,
                                    lg_error *err);
int lg_group_new(ledger *lg, struct lg_group **out, lg_error *err);
void lg_group_free(struct lg_group *g);
/* 1 if tx may wait in the group now (a posted or pending transaction, no
 * recent replay, room left after a flush); 0: post it through lg_append. */
int lg_group_takes(struct lg_group *g, const struct lg_tx *tx);
/* Whether a flush is due before tx can be added. */
int lg_group_full(const struct lg_group *g, const struct lg_tx *tx);
/* Applies tx as lg_apply_unwritten does and keeps a copy of it (its memo
 * and metadata too) to write at the next flush.  LG_OK: tx counts as posted
 * unless the flush reports otherwise; an error, or LG_GROUP_DECLINED when
 * the flush before it met a replay: nothing changed, post tx alone. */
#define LG_GROUP_DECLINED (-3)
int lg_group_add(struct lg_group *g, struct lg_tx *tx, long lineno, lg_error *err);
/* Writes the waiting rows.  Should the journal refuse them (an id already
 * there), undoes the group's balances and head and posts each transaction
 * through lg_append instead, telling `fn` each outcome that differs.
 * Returns LG_OK or an error that ends the batch. */
int lg_group_flush(struct lg_group *g, lg_group_outcome_fn fn, void *ctx,
                   lg_error *err);
/* Transactions waiting in g. */
int lg_group_size(const struct lg_group *g);
/* The bgwrite.h job of a group handed to a writer thread: writes its rows
 * and empties it, reading nothing of the ledger's batch state (the owner
 * has moved on: its head and balances include the group).  For the same
 * reason a journal that refuses the rows cannot be answered by posting
 * them one by one: that is LG_EINTERNAL naming the group's ids, and the
 * owner rolls back. */
int lg_group_write_job(void *group, lg_error *err);

#endif
