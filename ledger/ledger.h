/*
 * ledger.h - the append-only double-entry ledger: the whole public contract.
 *
 * The ledger is the only writer of the journal.  Every transaction balances
 * per asset, is hash-chained to the one before it and is never updated or
 * deleted: corrections are reversing transactions.  The store is SQLite, but
 * no SQLite type leaks through this header.
 *
 * Sign convention: debits are positive, credits negative, in minor units of
 * the account's asset.  All functions return 0 (LG_OK) or an exit-status
 * style error code and fill the caller's lg_error.
 */
#ifndef CLEARBOOK_LEDGER_H
#define CLEARBOOK_LEDGER_H

#include <stdio.h>

#include "amount.h"

/* Error codes double as process exit statuses (sysexits). */
enum lg_status {
	LG_OK = 0,
	LG_ECHECK = 1,     /* a check found a problem (verify) */
	LG_EUSAGE = 64,    /* the caller used us wrongly */
	LG_EDATA = 65,     /* bad input data, conflicts, rule violations */
	LG_ENOINPUT = 66,  /* input missing: file, account, transaction */
	LG_EINTERNAL = 70, /* our bug or the store's */
	LG_EIO = 74,       /* reading or writing failed */
	LG_EBUSY = 75      /* another process holds the database: try again */
};

#define LG_MSG_MAX 512
#define LG_ID_MAX 128          /* bytes in a transaction id */
#define LG_CODE_MAX 200        /* bytes in an account code */
#define LG_ASSET_CODE_MAX 16   /* bytes in an asset code */
#define LG_MEMO_MAX 1000       /* bytes in a memo */
#define LG_META_MAX 8000       /* bytes of canonical metadata JSON */
#define LG_POSTINGS_MAX 64     /* postings in one transaction */
#define LG_LINE_MAX (64 * 1024) /* bytes in one JSON Lines record */
#define LG_HASH_HEX 65         /* 64 hex digits and NUL */

/* Primary message (lower case, no final full stop); `line` is the input line
 * the error belongs to, or 0. */
typedef struct lg_error {
	int code;
	long line;
	char msg[LG_MSG_MAX];
} lg_error;

void lg_error_init(lg_error *err);
/* Sets code and message (printf-style) and returns code. */
int lg_error_set(lg_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef struct ledger ledger; /* opaque handle, one per process */

/*
 * Opens the database at `path`.  With `create`, makes it and its schema if it
 * does not exist (and is a no-op on an existing ledger); without, a missing
 * file is LG_ENOINPUT.  `now_utc` fixes the clock ("2026-11-25T02:00:00Z");
 * NULL reads the system clock once, here.  On success *out is the caller's,
 * to be given back with ledger_close.
 */
int ledger_open(const char *path, int create, const char *now_utc, ledger **out,
                lg_error *err);
void ledger_close(ledger *lg);

/* The fixed clock of this handle ("2026-11-25T02:00:00Z"); borrowed. */
const char *ledger_now(const ledger *lg);

/* --- assets ------------------------------------------------------------ */
int ledger_asset_add(ledger *lg, const char *code, int scale, lg_error *err);
/* Looks up an asset's scale; LG_ENOINPUT if unknown. */
int ledger_asset_scale(ledger *lg, const char *code, int *scale, lg_error *err);
typedef int (*ledger_asset_fn)(void *ctx, const char *code, int scale);
/* Calls fn for each asset in code order; a non-zero return from fn stops
 * the walk and is returned. */
int ledger_asset_list(ledger *lg, ledger_asset_fn fn, void *ctx, lg_error *err);

/* --- accounts ---------------------------------------------------------- */
#define LG_ACCOUNT_NO_OVERDRAFT 1u

typedef struct ledger_account_info {
	const char *code;
	const char *type;    /* asset liability equity income expense */
	const char *asset;
	int scale;
	unsigned flags;
	const char *meta;    /* JSON object text */
	const char *opened_at;
	const char *closed_at; /* NULL while open */
} ledger_account_info;

/* Adds an account.  `meta_json` may be NULL.  Codes are lower-case
 * segments of [a-z0-9_.-] separated by ':'. */
int ledger_account_add(ledger *lg, const char *code, const char *type,
                       const char *asset, unsigned flags, const char *meta_json,
                       lg_error *err);
/* Closes an account; a closed account refuses postings. */
int ledger_account_close(ledger *lg, const char *code, lg_error *err);
typedef int (*ledger_account_fn)(void *ctx, const ledger_account_info *acct);
/* Walks accounts whose code equals or lies under `prefix` (NULL: all). */
int ledger_account_list(ledger *lg, const char *prefix, ledger_account_fn fn,
                        void *ctx, lg_error *err);
/* Adds a template: accounts matching the glob `pattern` (fnmatch) are
 * opened on first use with this type, asset and flags. */
int ledger_template_add(ledger *lg, const char *pattern, const char *type,
                        const char *asset, unsigned flags, lg_error *err);
int ledger_template_list(ledger *lg, ledger_account_fn fn, void *ctx,
                         lg_error *err);

/* Groups several writes into one database transaction: all or none. */
int ledger_begin(ledger *lg, lg_error *err);
int ledger_commit(ledger *lg, lg_error *err);
void ledger_rollback(ledger *lg);

/* --- posting ----------------------------------------------------------- */
typedef struct ledger_post_stats {
	long lines;    /* records read */
	long posted;   /* new transactions */
	long replayed; /* same id, same content: no-op */
	long failed;   /* refused records */
} ledger_post_stats;

/* Called once per refused record; err->line holds the line number. */
typedef void (*ledger_reject_fn)(void *ctx, const lg_error *err);

/*
 * Posts a JSON Lines stream, one transaction per line, in one database
 * transaction: all lines or none.  Every bad line is reported through
 * `reject` (with its line number) and the whole stream is then rolled back
 * and LG_EDATA returned.  `in` is borrowed.
 */
int ledger_post_stream(ledger *lg, FILE *in, ledger_post_stats *stats,
                       ledger_reject_fn reject, void *ctx, lg_error *err);

/* --- two-phase holds, reversals, periods ------------------------------- */
/* Posts a hold in full (amount_text NULL) or in part (two-posting holds);
 * the remainder is released.  `date` NULL means today. */
int ledger_hold_commit(ledger *lg, const char *id, const char *amount_text,
                       const char *date, lg_error *err);
int ledger_hold_void(ledger *lg, const char *id, const char *date, lg_error *err);
/* Releases every hold whose expiry has passed; *count_out gets how many. */
int ledger_hold_expire(ledger *lg, long *count_out, lg_error *err);
/* Posts the mirror of transaction `id`, linked to it; at most once. */
int ledger_reverse(ledger *lg, const char *id, const char *reason,
                   const char *date, lg_error *err);
/* Closes the month "YYYY-MM": records closing balances and the chain head;
 * later postings dated in it are refused. */
int ledger_close_period(ledger *lg, const char *period, lg_error *err);

/* --- reading ----------------------------------------------------------- */
typedef struct ledger_balance_row {
	const char *account; /* account code or roll-up prefix */
	const char *asset;
	int scale;
	int is_rollup;       /* a prefix node that sums a subtree */
	amount_minor_t posted_minor;
	amount_minor_t pending_minor;   /* net of open holds */
	amount_minor_t available_minor; /* posted less holds that reduce it */
} ledger_balance_row;
typedef int (*ledger_balance_fn)(void *ctx, const ledger_balance_row *row);
/* Walks balances under `prefix` (NULL: all) as of `at_date` (NULL: now),
 * roll-ups included, in code then asset order. */
int ledger_balances(ledger *lg, const char *prefix, const char *at_date,
                    ledger_balance_fn fn, void *ctx, lg_error *err);

typedef struct ledger_posting_row {
	const char *account;
	const char *asset;
	int scale;
	amount_minor_t amount_minor;
} ledger_posting_row;

typedef struct ledger_tx_row {
	long long seq;
	const char *id;
	const char *kind;    /* posted pending commit void expire reverse */
	const char *ref_id;  /* the transaction a commit/void/expire/reverse ends */
	const char *date;
	const char *booked_at;
	const char *expires_at; /* pending holds only, else NULL */
	const char *memo;
	const char *meta;
	const char *hash_hex;
	int postings_n;
	const ledger_posting_row *postings;
} ledger_tx_row;
typedef int (*ledger_tx_fn)(void *ctx, const ledger_tx_row *tx);
/* Walks the journal in sequence order, filtered by date range (inclusive,
 * NULL: open) and by account (transactions touching it). */
int ledger_journal(ledger *lg, const char *from, const char *to,
                   const char *account, ledger_tx_fn fn, void *ctx,
                   lg_error *err);

typedef struct ledger_verify_result {
	long long transactions;
	char head_hex[LG_HASH_HEX];
	long long broken_seq;      /* 0 when the chain holds */
	char problem[LG_MSG_MAX];  /* what is wrong, when something is */
} ledger_verify_result;
/* Recomputes the hash chain and every stored balance.  Returns LG_OK when
 * everything holds, LG_ECHECK naming the first problem, or another error. */
int ledger_verify(ledger *lg, ledger_verify_result *res, lg_error *err);

/* Validates "YYYY-MM-DD" as a real calendar date. */
int ledger_date_valid(const char *text);

#endif
