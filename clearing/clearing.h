/*
 * clearing.h - reconciliation and the nightly batch: the whole contract.
 *
 * What a channel owes us (or we owe it) is what the ledger holds on the
 * channel's clearing account (`assets:clearing:<channel>`): each posting
 * there is an open item until a match settles it.  Staged statement lines
 * of the channel (ledger staging) are matched against open items in four
 * passes (reference; amount, asset and counterparty within a window;
 * one-to-many; many-to-one).  Each match posts one settlement transaction
 * through the ledger, idempotently (its id derives from the matched lines),
 * and records the rule that made it; what stays unmatched becomes a break.
 *
 * All tables live in the ledger's database and are append-only: an unmatch
 * is a new row (and a reversal of the settlement), never an update.
 * Functions return 0 or an lg_status code and fill the caller's lg_error.
 */
#ifndef CLEARBOOK_CLEARING_H
#define CLEARBOOK_CLEARING_H

#include "../ledger/ledger.h"

#define CLR_CHANNELS_MAX 32
#define CLR_INBOX_RULES_MAX 64
#define CLR_NAME_MAX 64
#define CLR_CANDIDATES_MAX 3      /* nearest candidates named per break */
#define CLR_SUBSET_ITEMS_MAX 16   /* open items a subset search considers */
#define CLR_SUBSET_SCAN_MAX 256   /* open items it looks at to find them */
#define CLR_SUBSET_STEPS_MAX 20000 /* bound on one subset search */

/* How one channel settles (section [channel NAME] of the configuration). */
typedef struct clr_channel {
	char name[CLR_NAME_MAX];
	char clearing[LG_CODE_MAX + 1];   /* default assets:clearing:<name> */
	char settle_to[LG_CODE_MAX + 1];  /* "" = the statement line's account */
	char fee_account[LG_CODE_MAX + 1];
	long fee_bps;                     /* contract fee, basis points; -1 none */
	char tolerance[48];               /* decimal text, in the asset's units */
	int window_days;                  /* |line date - item date| allowed */
	int settle_days;                  /* an item is overdue after this */
} clr_channel;

/* A rule of the inbox: files whose name matches `pattern` (fnmatch) are
 * imported with this profile, account, channel and --set options. */
typedef struct clr_inbox_rule {
	char pattern[256];
	char profile[CLR_NAME_MAX];
	char account[LG_CODE_MAX + 1];
	char channel[CLR_NAME_MAX];
	char set[512];                    /* "KEY=VALUE" or "" */
} clr_inbox_rule;

typedef struct clr_config {
	clr_channel channels[CLR_CHANNELS_MAX];  /* in reconciliation order */
	int channels_n;
	clr_inbox_rule rules[CLR_INBOX_RULES_MAX];
	int rules_n;
	char payouts_account[LG_CODE_MAX + 1];   /* payouts awaiting the bank */
} clr_config;

/* Defaults only (no channels, no rules). Cannot fail. */
void clr_config_init(clr_config *cfg);
/* Reads an INI configuration (see samples/nightly.ini); errors name the
 * file, line and key. */
int clr_config_load(clr_config *cfg, const char *path, lg_error *err);
/* The channel's settings: configured, else defaults for `name`.  Borrowed
 * from cfg or written into *scratch. */
const clr_channel *clr_config_channel(const clr_config *cfg, const char *name,
                                      clr_channel *scratch);

/* Creates the clearing tables if missing (idempotent). */
int clr_schema(ledger *lg, lg_error *err);

typedef struct clr_recon_stats {
	long lines;                 /* unmatched statement lines considered */
	long items;                 /* open items considered */
	long matched_by_rule[5];    /* reference, amount, one-to-many,
	                               many-to-one, manual */
	long matches;               /* matches made (settlements posted) */
	long line_breaks, item_breaks, other_breaks;
	amount_minor_t fees_minor;  /* fees posted (sum over assets: count) */
} clr_recon_stats;

extern const char *const clr_rule_names[5];

/*
 * Reconciles one channel as of `date` (YYYY-MM-DD): lines booked on or
 * before it against items dated on or before it.  Matches commit in
 * batches with their settlements, so a killed run resumes where it was.
 * Breaks of `date` are recorded once (a re-run adds nothing).
 */
int clr_reconcile(ledger *lg, const clr_channel *ch, const char *date,
                  clr_recon_stats *stats, lg_error *err);

/* A manual match: statement lines and items (transaction ids) of one
 * channel, settled together with a required reason.  *match_id_out gets the
 * match.  Refuses lines or items already matched. */
int clr_match_manual(ledger *lg, const clr_channel *ch, const long long *line_ids,
                     int lines_n, const char *const *tx_ids, int items_n,
                     const char *reason, const char *user, long long *match_id_out,
                     lg_error *err);
/* Undoes a match: reverses its settlement and records why; its lines and
 * items are open again. */
int clr_unmatch(ledger *lg, long long match_id, const char *reason,
                const char *user, lg_error *err);

/* Applies pain.002 statuses: each rejected payout (by end-to-end id =
 * payout_id of a payout transaction) is reversed, once, and recorded as a
 * break of `date`.  *rejected_out counts payouts reversed by this call. */
int clr_apply_payment_statuses(ledger *lg, const char *date, long *rejected_out,
                               lg_error *err);

typedef struct clr_break_row {
	long long id;
	const char *date, *channel, *kind;
	long long line_id;          /* 0 if none */
	const char *tx_id;          /* NULL if none */
	const char *amount;         /* decimal text with its asset's scale */
	const char *asset;
	long age_days;
	const char *reason;
	const char *candidates;     /* nearest candidates, "" if none */
	int resolved;               /* since matched by hand or later */
} clr_break_row;
typedef int (*clr_break_fn)(void *ctx, const clr_break_row *row);
/* Walks breaks of `date` (NULL: the latest date that has breaks) and
 * `channel` (NULL: all) in a stable order. */
int clr_breaks_list(ledger *lg, const char *date, const char *channel,
                    clr_break_fn fn, void *ctx, lg_error *err);

typedef struct clr_match_row {
	long long id;
	const char *channel, *rule, *settlement_id, *created_at, *user, *reason;
	const char *lines;          /* statement line ids, comma separated */
	const char *items;          /* transaction ids, comma separated */
	int undone;
} clr_match_row;
typedef int (*clr_match_fn)(void *ctx, const clr_match_row *row);
int clr_matches_list(ledger *lg, const char *channel, clr_match_fn fn, void *ctx,
                     lg_error *err);

/* A channel's state as of a date, from the database alone (so that a
 * re-run reports the same figures). */
typedef struct clr_summary {
	long lines;                  /* top-level lines booked on or before date */
	long lines_matched;          /* of which in a match not undone */
	long matches_by_rule[5];
	long breaks;                 /* breaks of the date */
	long breaks_open;            /* not since resolved */
} clr_summary;
int clr_channel_summary(ledger *lg, const char *channel, const char *date,
                        clr_summary *out, lg_error *err);

/* --- the nightly batch -------------------------------------------------- */
typedef struct clr_nightly_opts {
	const char *date;           /* the night, YYYY-MM-DD */
	const char *inbox;          /* folder of the day's channel files */
	const char *outbox;         /* reports go to OUTBOX/DATE/ */
	const char *db_path;        /* for the import subprocesses */
	const char *self_exe;       /* the clearbook binary (imports run in it) */
	const char *now;            /* fixed clock or NULL */
	int progress;               /* progress lines on stderr */
	/* Writes the night's reports into `outdir` (the caller owns formats:
	 * reports are not clearing's business); *breaks_out gets how many
	 * breaks the night has.  NULL: no reports. */
	int (*write_reports)(void *ctx, ledger *lg, const char *date,
	                     const char *outdir, long *breaks_out, lg_error *err);
	void *reports_ctx;
	/* Monitoring after reconciliation (the caller's: AML lives in reports/),
	 * recorded as step "monitoring"; it writes a one-line summary into
	 * `detail`.  NULL: none. */
	int (*monitor)(void *ctx, ledger *lg, const char *date, char *detail,
	               size_t detail_cap, lg_error *err);
} clr_nightly_opts;

typedef struct clr_nightly_result {
	long files, files_skipped, files_rejected;
	long lines_staged;
	clr_recon_stats recon;
	long payouts_rejected;
	long holds_expired;
	long breaks;
	int resumed;                /* an earlier run of this night did not finish */
} clr_nightly_result;

/*
 * Runs the night: takes the nightly lock (LG_EBUSY if another holds it),
 * imports the inbox, reconciles every configured channel in order, applies
 * payment statuses, expires holds and writes the reports.  Each run and step
 * is recorded.  Returns LG_OK, or LG_ECHECK when files were rejected (the
 * rest of the night still ran), or an error.
 */
int clr_nightly(ledger *lg, const clr_config *cfg, const clr_nightly_opts *o,
                clr_nightly_result *res, lg_error *err);

#endif
