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
 * Opens the database at `path`.  `flags` is 0 or a sum of:
 *   LEDGER_OPEN_CREATE   make the file and its schema if it does not exist
 *                        (a no-op on an existing ledger); without it a
 *                        missing file is LG_ENOINPUT;
 *   LEDGER_OPEN_THREADS  SQLite's serialized mode, for a second thread
 *                        (bgwrite.h); every call then takes a mutex, so
 *                        only commands that use one ask for it.
 *   `now_utc` fixes the clock ("2026-11-25T02:00:00Z");
 * NULL reads the system clock once, here.  On success *out is the caller's,
 * to be given back with ledger_close.
 */
#define LEDGER_OPEN_CREATE 1
#define LEDGER_OPEN_THREADS 2
int ledger_open(const char *path, int flags, const char *now_utc, ledger **out,
                lg_error *err);
void ledger_close(ledger *lg);

/* The fixed clock of this handle ("2026-11-25T02:00:00Z"); borrowed. */
const char *ledger_now(const ledger *lg);
/* Moves the clock: `now_utc`, or the system clock when NULL.  For
 * long-running processes (the HTTP front), between transactions. */
int ledger_set_now(ledger *lg, const char *now_utc, lg_error *err);

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

/*
 * A long batch job (a night's reconciliation) commits every so many rows
 * to bound its memory and WAL; what it promises is its end, not each step.
 * ledger_defer_sync(lg, 1, err), between transactions: later commits reach
 * the operating system but are not each flushed to disk (SQLite's
 * synchronous=NORMAL in WAL mode).  A crash of the process loses nothing;
 * a power loss may take back the last such commits, each whole, never a
 * part of one, and the job run again redoes them.  ledger_defer_sync(lg,
 * 0, err) flushes the WAL to disk, after which every deferred commit is
 * as durable as an ordinary one, and makes commits durable again;
 * ledger_close does the same.  LG_EUSAGE inside a transaction.
 */
int ledger_defer_sync(ledger *lg, int on, lg_error *err);

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
 * and LG_EDATA returned.  `in` is borrowed; a second thread reads it, from
 * its file descriptor when it has one (so nothing may have been read from
 * it through the FILE before), else through the FILE (fmemopen).
 */
int ledger_post_stream(ledger *lg, FILE *in, ledger_post_stats *stats,
                       ledger_reject_fn reject, void *ctx, lg_error *err);

/*
 * Posts one transaction given as a JSON object in the JSON Lines record
 * format (`json` need not be NUL-terminated; it is not modified).  Must be
 * called between ledger_begin and ledger_commit.  On LG_EDATA/LG_ENOINPUT
 * the record left nothing behind and the database transaction can go on
 * with other records; on any other error the caller must roll back.
 * *replayed is set when the same id with the same content was already
 * posted (a no-op); *seq_out, if not NULL, gets the journal sequence of
 * the new or replayed transaction.
 */
int ledger_post_json(ledger *lg, const char *json, size_t len, int *replayed,
                     long long *seq_out, lg_error *err);

/* --- two-phase holds, reversals, periods ------------------------------- */
/* Posts a hold in full (amount_text NULL) or in part (two-posting holds);
 * the remainder is released.  `date` NULL means today. */
int ledger_hold_commit(ledger *lg, const char *id, const char *amount_text,
                       const char *date, lg_error *err);
int ledger_hold_void(ledger *lg, const char *id, const char *date, lg_error *err);
/*
 * The same two inside the caller's database transaction: must be called
 * between ledger_begin and ledger_commit, so that what the caller writes
 * beside the hold's end commits with it or not at all.  On LG_EDATA or
 * LG_ENOINPUT (no such hold, already ended, expired, too much) nothing was
 * written and the transaction can go on; on any other error the caller
 * must roll back.
 */
int ledger_hold_commit_in_tx(ledger *lg, const char *id, const char *amount_text,
                             const char *date, lg_error *err);
int ledger_hold_void_in_tx(ledger *lg, const char *id, const char *date,
                           lg_error *err);
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

/* --- backup and restore ------------------------------------------------ */
/* Writes a consistent copy of the ledger to `path` (which must not exist)
 * while other processes may go on writing; a failed copy leaves no file. */
int ledger_backup(ledger *lg, const char *path, lg_error *err);
/* Restores the copy at `from_path` into `to_path` only if the copy's chain
 * and balances verify (LG_ECHECK naming the problem otherwise, nothing
 * written).  `to_path` must not exist unless `replace`.  *res gets the
 * copy's verification. */
int ledger_restore(const char *from_path, const char *to_path, int replace,
                   ledger_verify_result *res, lg_error *err);

/* --- staging: statement lines from channel files ---------------------- */
/*
 * Importers (importers/) read channel files into these; the ledger stores
 * them in its staging area, append-only like the journal, for clearing to
 * reconcile.  Sign: positive is money into the account the statement is
 * for (CRDT), negative money out (DBIT), in minor units of `asset`.
 * Strings are borrowed for the duration of a call; absent fields are NULL.
 */
#define LG_STMT_FIELD_MAX 1024   /* bytes kept of any one text field */
#define LG_STMT_RAW_MAX 16384    /* bytes of the raw-fields JSON of one line */
/* The SQL view statement_lines_raw(id, raw) gives every staged line's
 * original fields as one JSON object, whatever the reader stored. */

/* A line's original field whose text is exactly one of the line's own
 * fields is not stored twice: in raw_json its value is one of these codes
 * (a JSON integer) instead of a string, and statement_lines_raw (and
 * ledger_staged_list) put the field's text back.  The codes are stored:
 * never renumber them. */
enum lg_raw_field {
	LG_RAW_ENTRY_REF = 1, LG_RAW_BOOKING_DATE, LG_RAW_VALUE_DATE, LG_RAW_ASSET,
	LG_RAW_COUNTERPARTY_NAME, LG_RAW_COUNTERPARTY_ACCOUNT, LG_RAW_END_TO_END_ID,
	LG_RAW_INSTRUCTION_ID, LG_RAW_PROVIDER_REF, LG_RAW_UETR, LG_RAW_REMITTANCE,
	LG_RAW_TX_CODE, LG_RAW_STATUS, LG_RAW_BATCH_ID, LG_RAW_RETURN_REASON,
	LG_RAW_FIELDS_END
};

/* A statement, report or notification (camt.053 Stmt, camt.052 Rpt,
 * camt.054 Ntfctn).  Strings are borrowed for the duration of the call;
 * absent fields are NULL. */
typedef struct ledger_stmt_statement {
	const char *message_type;   /* "camt.053.001.04" */
	const char *msg_id;         /* GrpHdr/MsgId */
	const char *statement_id;   /* Stmt/Id */
	long long seq_nb;           /* ElctrncSeqNb, -1 if absent */
	const char *account_id;     /* Acct/Id/IBAN or Acct/Id/Othr/Id */
	const char *asset;          /* Acct/Ccy, or the opening balance's Ccy */
	int scale;                  /* of asset; -1 if the asset is unknown */
	const char *from_date;      /* FrToDt, YYYY-MM-DD */
	const char *to_date;
	int has_opening, has_closing;
	amount_minor_t opening_minor; /* OPBD (or PRCD), signed */
	amount_minor_t closing_minor; /* CLBD, signed */
	/* Filled for statement_end: sum of booked entries and their count. */
	amount_minor_t booked_sum_minor;
	long booked_entries;
	long line_no;               /* line of the statement's start tag */
	/* CSV files: the header row as a JSON array of strings, stored once
	 * with the statement; each line's raw_json is then null followed by
	 * its cells in header order, each a string or an lg_raw_field code
	 * (statement_lines_raw pairs them up).  XML: the paths met, to which
	 * each line's [index, value] pairs point; NULL where each line's
	 * raw_json is a JSON object of its own. */
	const char *raw_header;
} ledger_stmt_statement;

/* One statement line: an entry (Ntry), or a child (TxDtls) of a batch
 * entry.  A batch entry with several TxDtls is one line with is_batch set,
 * followed by its children, whose parent_entry is the batch's entry_index. */
typedef struct ledger_stmt_line {
	long entry_index;           /* 0-based index of the entry in the file */
	long child_index;           /* -1 for an entry, 0.. for its children */
	int is_batch;               /* an entry whose children follow */
	long children;              /* number of children of a batch entry */
	/* For a batch: children's sum minus the entry, recorded not refused. */
	amount_minor_t batch_difference_minor;
	const char *entry_ref;      /* NtryRef, else AcctSvcrRef: the dedupe key */
	const char *booking_date;   /* YYYY-MM-DD */
	const char *value_date;
	amount_minor_t amount_minor;
	const char *asset;
	const char *counterparty_name;
	const char *counterparty_account;
	const char *end_to_end_id;
	const char *instruction_id;
	const char *provider_ref;   /* AcctSvcrRef (entry or transaction) */
	const char *uetr;
	const char *remittance;     /* Ustrd lines joined by "; ", or Strd ref */
	const char *tx_code;        /* "PMNT/RCDT/ESCT" or the proprietary code */
	const char *status;         /* BOOK, PDNG, INFO */
	const char *batch_id;       /* Btch/PmtInfId or MsgId */
	const char *return_reason;  /* RtrInf/Rsn/Cd */
	int reversal;               /* RvslInd true */
	const char *charges;        /* charges as "AMOUNT CCY" list, or NULL */
	long line_no;               /* line of the Ntry / TxDtls start tag */
	/* Every field read: a JSON object, or for CSV the array of the row's
	 * cells (see raw_header). */
	const char *raw_json;
} ledger_stmt_line;

/* The text of field `code` (enum lg_raw_field) of a line, NULL when absent
 * or for an unknown code; borrowed from ln. */
const char *ledger_line_field(const ledger_stmt_line *ln, int code);

/* One transaction status of a pain.002 payment status report. */
typedef struct ledger_stmt_status {
	const char *message_type;   /* "pain.002.001.03" */
	const char *msg_id;
	const char *orig_msg_id;
	const char *orig_pmt_inf_id;
	const char *orig_instr_id;
	const char *orig_end_to_end_id;
	const char *status;         /* TxSts, else PmtInfSts, else GrpSts */
	const char *reason_code;
	const char *reason_text;
	long line_no;
} ledger_stmt_status;

/* One staged file, imported whole or not at all. */
typedef struct ledger_stage_file {
	/* Of the file's bytes: the re-import key.  NULL: not known yet (it is
	 * being computed while the file is read); ledger_stage_file_hash must
	 * then give it before ledger_stage_end keeps anything. */
	const char *sha256_hex;
	const char *name;         /* as given on the command line */
	const char *profile;      /* "iso20022", "bank-csv", ... */
	const char *channel;      /* "bank", "card", "alipay", ... */
	const char *account;      /* ledger account the file is for, or NULL */
} ledger_stage_file;

typedef struct ledger_stage_result {
	int already_imported;     /* same SHA-256 seen before: nothing staged */
	long statements, lines, duplicates, statuses, breaks;
} ledger_stage_result;

/*
 * Opens the staging of one file: begins a database transaction.  If the
 * file's SHA-256 was imported before, sets res->already_imported and ends
 * (nothing to do, no transaction left open).
 */
int ledger_stage_begin(ledger *lg, const ledger_stage_file *f,
                       ledger_stage_result *res, lg_error *err);
/* For a staging begun without the file's SHA-256: records the file under
 * it.  If that SHA-256 was imported before, sets res->already_imported and
 * the caller must end the staging with `keep` 0 (nothing to do). */
int ledger_stage_file_hash(ledger *lg, const ledger_stage_file *f,
                           const char *sha256_hex, ledger_stage_result *res,
                           lg_error *err);
/* Resolves the ledger account of a statement: its account id through the
 * alias table, else the file's --account.  Stores the statement. */
int ledger_stage_statement(ledger *lg, const ledger_stmt_statement *st,
                           ledger_stage_result *res, lg_error *err);
/* Stores a line of the current statement; a line whose (channel, account,
 * entry reference) is already staged, from this file or another, is counted
 * as a duplicate and not stored again. */
int ledger_stage_line(ledger *lg, const ledger_stmt_statement *st,
                      const ledger_stmt_line *ln, ledger_stage_result *res,
                      lg_error *err);
/* As ledger_stage_line for n consecutive lines of the current statement,
 * in order, with the same outcome; cheaper per line (several rows to one
 * insert).  The lines and their strings are borrowed for the call. */
int ledger_stage_lines(ledger *lg, const ledger_stmt_statement *st,
                       const ledger_stmt_line *const *lines, size_t n,
                       ledger_stage_result *res, lg_error *err);
/* Closes the current statement: checks opening + booked entries against
 * closing and the continuity with the account's previous statement,
 * recording breaks.  With `strict`, a balance break is an error instead. */
int ledger_stage_statement_end(ledger *lg, const ledger_stmt_statement *st,
                               int strict, ledger_stage_result *res,
                               lg_error *err);
/* Stores a payment status (pain.002). */
int ledger_stage_status(ledger *lg, const ledger_stmt_status *s,
                        ledger_stage_result *res, lg_error *err);
/* Commits the file's staging, or with `keep` 0 rolls it back (dry run,
 * or an error). */
int ledger_stage_end(ledger *lg, int keep, lg_error *err);

/* Maps an external account id (an IBAN, a provider account id) to a ledger
 * account, for statements that name their account. */
int ledger_alias_add(ledger *lg, const char *external_id, const char *account,
                     lg_error *err);

typedef struct ledger_staged_row {
	long long id;
	const char *channel, *account, *statement_id, *entry_ref;
	const char *booking_date, *value_date;
	amount_minor_t amount_minor;
	const char *asset;
	int scale;
	const char *counterparty_name, *end_to_end_id, *provider_ref;
	const char *remittance, *status, *batch_id;
	long long parent_id;      /* 0 for entries */
	int is_batch, reversal;
	const char *file_name;
	long line_no;
	const char *raw;          /* the original fields, a JSON object */
} ledger_staged_row;
typedef int (*ledger_staged_fn)(void *ctx, const ledger_staged_row *row);
/* Walks staged lines in staging order, filtered by channel and booking
 * date (NULL: all). */
int ledger_staged_list(ledger *lg, const char *channel, const char *date,
                       ledger_staged_fn fn, void *ctx, lg_error *err);

typedef struct ledger_break_row {
	long long id;
	const char *kind;         /* balance, sequence, opening, duplicate-statement */
	const char *account;
	const char *statement_id;
	const char *detail;
	const char *file_name;
} ledger_break_row;
typedef int (*ledger_break_fn)(void *ctx, const ledger_break_row *row);
int ledger_breaks_list(ledger *lg, ledger_break_fn fn, void *ctx, lg_error *err);

/* SHA-256 of a file's bytes, as 64 lower-case hex digits. */
int ledger_file_sha256(const char *path, char hex[LG_HASH_HEX], lg_error *err);

/* Validates "YYYY-MM-DD" as a real calendar date. */
int ledger_date_valid(const char *text);
/* Days since 1970-01-01 of a valid "YYYY-MM-DD" (exact integer calendar
 * arithmetic); LONG_MIN for NULL or anything that is not a date. */
long ledger_day_number(const char *date);

/* --- posting from a struct (post_struct.c) ------------------------------ */
/* One posting of a transaction built in memory: `account` is an account
 * code (borrowed), the amount in minor units of that account's asset. */
typedef struct ledger_posting_spec {
	const char *account;
	amount_minor_t amount_minor;
} ledger_posting_spec;
/* A posted (not pending) transaction built in memory; every string is
 * borrowed for the call.  `memo` and `meta_json` (a JSON object, written
 * to the journal in canonical form) may be NULL. */
typedef struct ledger_tx_spec {
	const char *id, *date, *memo, *meta_json;
	const ledger_posting_spec *postings;
	int postings_n;
} ledger_tx_spec;
/*
 * Posts `spec` as ledger_post_json posts the same transaction written as a
 * JSON record: the same checks, rules, journal bytes and chain hash, and
 * the same contract (between ledger_begin and ledger_commit; on
 * LG_EDATA/LG_ENOINPUT nothing was written and the database transaction can
 * go on; *replayed and *seq_out as there), without writing and parsing the
 * JSON text.
 */
int ledger_post_spec(ledger *lg, const ledger_tx_spec *spec, int *replayed,
                     long long *seq_out, lg_error *err);

/*
 * The same, with the journal rows of up to 16 new transactions written
 * together by one multi-row INSERT (as `clearbook post` does), which costs
 * SQLite a third less.  Rules, balances and the chain head apply at once,
 * so a refusal (LG_EDATA/LG_ENOINPUT: nothing changed) or a replay
 * (*replayed) is told here as ledger_post_spec tells it.  The one thing a
 * waiting row learns late is that its id is already in the journal: the
 * flush that meets it (ledger_spec_group_flush, or a later
 * ledger_post_spec_grouped) returns LG_EINTERNAL naming the transaction,
 * and the caller must roll back.  Call ledger_spec_group_flush before
 * ledger_commit and before reading the journal.  The group borrows lg.
 */
typedef struct ledger_spec_group ledger_spec_group;
int ledger_spec_group_new(ledger *lg, ledger_spec_group **out, lg_error *err);
void ledger_spec_group_free(ledger_spec_group *q);
int ledger_post_spec_grouped(ledger_spec_group *q, const ledger_tx_spec *spec,
                             int *replayed, lg_error *err);
int ledger_spec_group_flush(ledger_spec_group *q, lg_error *err);

#endif
