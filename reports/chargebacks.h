/*
 * chargebacks.h - card disputes: the postings a dispute report drives and
 * the chargeback report.  The whole contract of reports/chargebacks.c.
 *
 * Dispute lines are staged by the importer (profile "disputes") on a
 * channel (default "disputes"): entry_ref is the dispute id, end_to_end_id
 * the merchant reference (the id of the sale's transaction), status the
 * record type (stage), return_reason the reason code, value_date the
 * dispute's deadline.  docs/chargebacks.md has the postings and the keys.
 */
#ifndef CLEARBOOK_REPORTS_CHARGEBACKS_H
#define CLEARBOOK_REPORTS_CHARGEBACKS_H

#include "../ledger/ledger.h"

#define RPT_CB_SCHEMES 4   /* visa, mastercard, amex, other */

typedef struct rpt_cb_scheme {
	const char *name;            /* static: "visa" ... */
	char fee[AMOUNT_TEXT_MAX];   /* dispute fee, decimal in the dispute's asset */
	long count_threshold;        /* monitoring programme: disputes a month */
	long ratio_bps;              /* and ratio, basis points; 0: no programme */
} rpt_cb_scheme;

typedef struct rpt_cb_config {
	char channel[64];                 /* staging channel of dispute lines */
	char clearing_account[LG_CODE_MAX];   /* credited by a chargeback */
	char fee_account[LG_CODE_MAX];        /* credited with the dispute fee */
	char own_fee_account[LG_CODE_MAX];    /* debited with the fee of our own sales */
	char lost_account[LG_CODE_MAX];       /* "merchant" or an account code */
	int deadline_days;                    /* horizon of "coming due" */
	rpt_cb_scheme schemes[RPT_CB_SCHEMES];
} rpt_cb_config;

/* Defaults: Visa 100 disputes and 90 bps a month, Mastercard 100 and 150
 * bps; fee 15.00 per dispute; lost disputes charged to the merchant. */
void rpt_cb_config_init(rpt_cb_config *cfg);
/* Reads an INI file ([chargebacks], [scheme NAME]) over the defaults;
 * LG_EUSAGE for bad keys or values, LG_ENOINPUT for a missing file. */
int rpt_cb_config_load(rpt_cb_config *cfg, const char *path, lg_error *err);

typedef struct rpt_cb_apply_stats {
	long lines;       /* dispute lines booked on or before the date */
	long posted;      /* transactions newly posted (reversals included) */
	long replayed;    /* already posted before: no-ops */
	long no_money;    /* retrievals, defences: nothing to post */
	long failed;      /* refused (reported through the callback) */
} rpt_cb_apply_stats;

/* Called for each line that could not be posted, with why. */
typedef void (*rpt_cb_problem_fn)(void *ctx, const char *dispute_id,
                                  const lg_error *err);

/*
 * Posts the staged dispute lines booked on or before `date`, in booking
 * order: a chargeback debits the party of the sale (the merchant's payable,
 * or the wallet a card top-up credited) and credits card clearing; the
 * dispute fee once per dispute; a won stage reverses the posting it undoes;
 * a lost stage (SecondChargeback, PreArbitrationLost) is charged to the
 * lost account.  Transaction ids are "cb:DISPUTE:STAGE", so running it
 * again posts nothing new.  Returns LG_OK, or LG_EDATA when some lines
 * failed (each reported, the others posted).
 */
int rpt_cb_apply(ledger *lg, const rpt_cb_config *cfg, const char *date,
                 rpt_cb_apply_stats *stats, rpt_cb_problem_fn problem,
                 void *ctx, lg_error *err);

/* One row of the chargeback report; strings borrowed, "" when empty. */
typedef struct rpt_cb_row {
	const char *section;     /* stage, reason, merchant, deadline */
	const char *key;         /* stage, reason family, merchant or dispute id */
	const char *scheme, *asset;
	long count;
	const char *amount;      /* decimal text */
	long transactions;       /* merchant: card sales in the ratio's base, else -1 */
	long ratio_bps;          /* merchant: chargebacks / sales, else -1 */
	const char *threshold;   /* "100 / 90 bps" */
	const char *flag;        /* "over", "due", "overdue" or "" */
	const char *deadline;
	const char *detail;
} rpt_cb_row;
typedef int (*rpt_cb_row_fn)(void *ctx, const rpt_cb_row *row);

/*
 * The chargeback report over lines booked from..to: disputes by stage, by
 * reason-code family, per merchant and scheme with the chargeback ratio
 * against the scheme's programme, and open disputes whose deadline falls
 * within deadline_days after `to` (or has passed).  Rows come in a fixed
 * order, the same on every run.
 */
int rpt_cb_report(ledger *lg, const rpt_cb_config *cfg, const char *from,
                  const char *to, rpt_cb_row_fn fn, void *ctx, lg_error *err);

/* One staged dispute line of the period, for the transactions behind the
 * report's figures; strings borrowed for the callback. */
typedef struct rpt_cb_line_row {
	const char *dispute, *date, *stage, *record_type, *scheme;
	const char *reason_code, *reason_family;
	const char *merchant;    /* "mNNN", "self" or "unknown" */
	const char *order;       /* the disputed sale's transaction id */
	const char *asset, *amount, *deadline;
	int first_in_period;     /* counted once in the reason figures */
} rpt_cb_line_row;
typedef int (*rpt_cb_line_fn)(void *ctx, const rpt_cb_line_row *row);

/*
 * Every dispute line booked from..to in booking order: the lines that the
 * stage figures sum, the first chargebacks the merchant figures count and
 * the first lines the reason figures count.  Read-only.
 */
int rpt_cb_lines(ledger *lg, const rpt_cb_config *cfg, const char *from,
                 const char *to, rpt_cb_line_fn fn, void *ctx, lg_error *err);

/* The reason-code family: "fraud", "authorisation", "processing error",
 * "consumer dispute" (Visa 10-13), Mastercard's "fraud", "authorisation",
 * "point-of-interaction error", "cardholder dispute"; else "other". */
const char *rpt_cb_reason_family(const char *scheme, const char *code);

#endif
