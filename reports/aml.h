/*
 * aml.h - anti-money-laundering transaction monitoring over the ledger:
 * the whole contract of reports/aml.c and reports/sanctions.c.
 *
 * A scan walks the journal, groups the postings on customer wallets
 * (liabilities:wallets:<customer>) by customer, asset and day, and runs
 * the monitoring rules over them with thresholds per asset.  Every alert
 * names its rule, an integer score 0..1000, the subject (customer or
 * account) and the transactions that are its evidence.  Alerts are stored
 * in the ledger's database, append-only: a status change (escalated,
 * dismissed with a reason) is a row of its own, and a re-scan adds no
 * alert whose rule, subject and evidence are already stored.
 *
 * No floating point: amounts are amount_minor_t, ratios per-cent or
 * per-mille integers.  See docs/aml.md for the rules and the INI keys.
 */
#ifndef CLEARBOOK_REPORTS_AML_H
#define CLEARBOOK_REPORTS_AML_H

#include "../ledger/ledger.h"

#define RPT_AML_ASSETS_MAX 32        /* assets with their own thresholds */
#define RPT_AML_PATH_MAX 1024        /* bytes of a file name in the config */
#define RPT_AML_EVIDENCE_MAX 100     /* transactions listed per alert */
#define RPT_AML_NAME_MAX 256         /* bytes of a screened name */
#define RPT_AML_COUNTRIES_MAX 64     /* high-risk jurisdictions listed */

/* Thresholds of one asset as decimal text in its scale (parsed against
 * the ledger's asset when a scan starts); "" or "0" turns the rule off. */
typedef struct rpt_aml_asset {
	char code[LG_ASSET_CODE_MAX];
	char large[AMOUNT_TEXT_MAX];      /* daily total per direction, at or above */
	char rapid_min[AMOUNT_TEXT_MAX];  /* inflow of a day that counts for rapid movement */
	char round_unit[AMOUNT_TEXT_MAX]; /* a non-zero multiple of it is round */
} rpt_aml_asset;

typedef struct rpt_aml_config {
	int assets_n;
	rpt_aml_asset assets[RPT_AML_ASSETS_MAX];
	char wallet_prefix[LG_CODE_MAX];   /* "liabilities:wallets:" */
	int structuring_pct;               /* 90: each at >= 90% of large */
	int structuring_count;             /* 3 such within the window */
	int structuring_window_days;       /* 7 */
	int velocity_baseline_days;        /* 30 trailing days */
	int velocity_factor_pct;           /* 500: day sum > 5 x daily mean */
	int velocity_min_count;            /* 3 transactions on the day */
	int rapid_out_pct;                 /* 90: out >= 90% of in, same day */
	int fan_count;                     /* 10 distinct counterparties a day */
	int round_count;                   /* 2 round amounts a day */
	int dormant_days;                  /* 90 days without activity */
	int dormant_count;                 /* 6 (more than 5) on the waking day */
	/* The front's risk refusals (table front_risk_refusals): a customer
	 * refused refusal_count times or more within refusal_window_days. */
	int refusal_count;                 /* 3; 0: the rule is off */
	int refusal_window_days;           /* 7 */
	/* High-risk jurisdictions, ISO 3166-1 alpha-2 upper case.  A wallet
	 * posting fires when the customer's wallet account or the posting's
	 * counterparty account has one of them as meta "country" (else as the
	 * first two letters of meta "iban").  Default: the FATF call-for-action
	 * list KP IR MM, to be set from FATF's current publication. */
	char high_risk[RPT_AML_COUNTRIES_MAX][3];
	int high_risk_n;                   /* 0: the rule is off */
	int high_risk_score;               /* 0..1000; 800 */
	char sdn_path[RPT_AML_PATH_MAX];   /* OFAC sdn.csv; empty: no screening */
	char alt_path[RPT_AML_PATH_MAX];   /* OFAC alt.csv; empty: alt.csv beside
	                                      sdn.csv if there is one */
	int screening_cutoff;              /* 0..1000; 880 */
} rpt_aml_config;

/* Defaults from docs/aml.md: CNY 50,000 and USD 10,000 large value. */
void rpt_aml_config_init(rpt_aml_config *cfg);
/* Reads an INI file over the defaults ([aml], [asset CODE], [screening]).
 * Amounts are decimal text in the asset's scale, read from the ledger.
 * Errors: LG_EUSAGE for bad keys or values, LG_ENOINPUT for a missing
 * file or unknown asset. */
int rpt_aml_config_load(rpt_aml_config *cfg, ledger *lg, const char *path,
                        lg_error *err);

typedef struct rpt_aml_scan_stats {
	long transactions;   /* in the period */
	long alerts;         /* found by the rules */
	long added;          /* of those, new (not stored before) */
} rpt_aml_scan_stats;

/*
 * Runs every rule over transactions dated from..to (inclusive, YYYY-MM-DD;
 * history before `from` is read for baselines and dormancy) and stores the
 * new alerts in one database transaction.  Output is the same on every
 * run; a second run of the same period adds nothing.
 */
int rpt_aml_scan(ledger *lg, const rpt_aml_config *cfg, const char *from,
                 const char *to, rpt_aml_scan_stats *stats, lg_error *err);

/* One stored alert with its current status; strings borrowed for the
 * duration of the callback. */
typedef struct rpt_aml_alert_row {
	long long id;
	const char *rule, *subject, *asset, *day;
	int score;
	const char *amount;      /* decimal text, the figure the rule tested */
	const char *detail;      /* why, in words */
	const char *evidence;    /* transaction ids, comma-separated */
	const char *status;      /* open escalated dismissed */
	const char *reason;      /* of the latest status change, or "" */
	const char *created_at;
} rpt_aml_alert_row;
typedef int (*rpt_aml_alert_fn)(void *ctx, const rpt_aml_alert_row *row);

/* Walks alerts in id order, those with current `status` only (NULL: all). */
int rpt_aml_alerts(ledger *lg, const char *status, rpt_aml_alert_fn fn,
                   void *ctx, lg_error *err);

/*
 * Records a status change of alert `id` to "escalated" or "dismissed" as a
 * new row.  A dismissal needs a reason.  LG_ENOINPUT for an unknown alert,
 * LG_EDATA when it already has that status, LG_EUSAGE for a bad status.
 */
int rpt_aml_set_status(ledger *lg, long long id, const char *status,
                       const char *reason, const char *user, lg_error *err);

/* --- name screening (sanctions.c) -------------------------------------- */
#define RPT_SANCTIONS_MAX 100000     /* entries read from one list */

typedef struct rpt_sanctions {
	size_t n;
	long *ent_num;          /* OFAC entity number */
	char **name;            /* as listed */
	char **norm;            /* normalised, tokens sorted */
	char **alias_of;        /* an alias (alt.csv): the entry's SDN name, or
	                           NULL for an SDN name itself */
} rpt_sanctions;

void rpt_sanctions_init(rpt_sanctions *s);
void rpt_sanctions_release(rpt_sanctions *s);
/* Reads an OFAC sdn.csv (no header row, quoted fields, "-0-" for null):
 * column 1 ent_num, column 2 the name. */
int rpt_sanctions_load(rpt_sanctions *s, const char *path, lg_error *err);
/* Adds the aliases of an OFAC alt.csv (no header row: ent_num, alt_num,
 * alt_type, alt_name, alt_remarks), each screened like an SDN name and
 * reported with the SDN name of its ent_num; load sdn.csv first.  An alias
 * whose ent_num is not in the list is refused (LG_EDATA, file and line). */
int rpt_sanctions_load_alt(rpt_sanctions *s, const char *path, lg_error *err);

/* Normalises a name into out (cap bytes): Chinese characters to toneless
 * pinyin, one syllable a word (rpt_pinyin_romanise, split), Latin letters
 * with accents to plain ASCII, Cyrillic romanised by BGN/PCGN (Russian;
 * "Евгений" gives "yevgeniy" as the SDN list spells it), lower case,
 * punctuation to spaces, whitespace collapsed, tokens sorted so that
 * "SMITH, John" and "john smith" agree.  Other scripts, and Chinese
 * characters the table has no reading for, are kept as they are. */
void rpt_sanctions_normalise(const char *name, char *out, size_t cap);
/* Similarity 0..1000 of two normalised names: 1000 - 1000 x Levenshtein
 * distance / length of the longer, in integers. */
int rpt_sanctions_score(const char *a_norm, const char *b_norm);
/* The best-scoring entry for `name` (normalised inside): its index in
 * *best and its score returned; -1 when the list is empty. */
int rpt_sanctions_best(const rpt_sanctions *s, const char *name, size_t *best);

/* --- Chinese names (pinyin.c) ------------------------------------------ */
#define RPT_PINYIN_MISSING_MAX 8     /* characters without a reading named */
#define RPT_PINYIN_TEXT_MAX 1024     /* bytes of a romanised name */

/* What romanising one name met. */
typedef struct rpt_pinyin_info {
	int han;                             /* Chinese characters in the name */
	int missing_n;                       /* of those, without a reading */
	unsigned missing[RPT_PINYIN_MISSING_MAX]; /* the first of them */
} rpt_pinyin_info;

/* The toneless Hanyu Pinyin syllable of Han character cp ("zhang" for
 * U+5F20 and U+5F35), or NULL when the table has none.  The table is
 * Unihan's kMandarin, first value (the most customary reading), for the
 * ideographs of the Basic Multilingual Plane; a polyphonic character always
 * gets that reading ("zhang" for 长, never "chang").  Static storage. */
const char *rpt_pinyin_syllable(unsigned cp);
/* Whether cp is a CJK ideograph (any Unified block, the compatibility
 * ideographs, U+3007), read or not. */
int rpt_pinyin_is_han(unsigned cp);

/*
 * Copies name into out (cap bytes, always terminated) with each run of
 * Chinese characters replaced by its pinyin, set off by spaces, everything
 * else kept byte for byte.  Chinese names are written surname first: the
 * first character of a run (the first two when they are a compound surname
 * of the Hundred Family Surnames, 欧阳, 司马, ..., in runs of three or more)
 * is the surname.  join_given 0 writes one syllable a word ("li fang wei");
 * 1 writes the surname and the given name as one word each ("li fangwei"),
 * the way passports and the SDN list spell Chinese names.  A character
 * without a reading is kept as written, as a word of its own, and named in
 * *info (which may be NULL).
 */
void rpt_pinyin_romanise(const char *name, int join_given, char *out, size_t cap,
                         rpt_pinyin_info *info);

/* The outcome of screening one name against a list. */
typedef struct rpt_sanctions_hit {
	int score;                           /* 0..1000, -1: empty list */
	size_t best;                         /* index of the entry in the list */
	char pinyin[RPT_PINYIN_TEXT_MAX];    /* the romanised form that scored,
	                                        "" when the name has no Chinese */
	rpt_pinyin_info info;
} rpt_sanctions_hit;

/* As rpt_sanctions_best, for names with Chinese characters too: a name
 * with them is scored in both pinyin spellings (syllables apart, given name
 * joined) and the better one is kept, the given-name spelling on a tie. */
void rpt_sanctions_screen(const rpt_sanctions *s, const char *name,
                          rpt_sanctions_hit *hit);

#endif
