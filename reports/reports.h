/*
 * reports.h - reports over the ledger for finance teams and auditors: the
 * whole public contract of the reports module.
 *
 * A report is built in two steps.  rpt_run reads the ledger (and, for the
 * reconciliation report, the clearing tables) into an rpt_doc: a few named
 * tables of strings, charts and notes, every figure an exact decimal from
 * amount_format.  rpt_render then writes the document as aligned text,
 * RFC 4180 CSV, stable JSON or one self-contained HTML file.  Nothing reads
 * the clock: the same ledger and options give the same bytes.
 *
 * rpt_settle is the one writer here: it posts merchant payouts, through
 * ledger_post_json, in the convention the pain.001 exporter reads.
 *
 * All functions return 0 (LG_OK) or an lg_status code and fill the caller's
 * lg_error.
 */
#ifndef CLEARBOOK_REPORTS_H
#define CLEARBOOK_REPORTS_H

#include <stddef.h>
#include <stdio.h>

#include "../ledger/ledger.h"

enum rpt_format { RPT_TEXT, RPT_CSV, RPT_JSON, RPT_HTML };

/* Parses "text", "csv", "json" or "html"; -1 otherwise. */
int rpt_format_parse(const char *text, enum rpt_format *out);

#define RPT_COLS_MAX 16
#define RPT_TABLES_MAX 8
#define RPT_CHARTS_MAX 4
#define RPT_NOTES_MAX 16
#define RPT_NOTE_MAX 512            /* bytes in one note */
#define RPT_ROWS_MAX 50000000u      /* rows in one table */
#define RPT_CHART_POINTS_MAX 400    /* bars in one chart: the latest are kept */
#define RPT_LABEL_MAX 48            /* bytes of a chart label */

#define RPT_NUMERIC 1u /* right-aligned, not formula-neutralised, JSON string */
#define RPT_INTEGER 2u /* right-aligned, JSON number */

/* One table: `key` names it in JSON, `title` heads it in text and HTML.
 * Key, title and column names are borrowed (string literals); cells are
 * owned copies. */
typedef struct rpt_table {
	const char *key;
	const char *title;
	int cols;
	const char *name[RPT_COLS_MAX];
	unsigned flags[RPT_COLS_MAX];
	char **cells; /* rows * cols */
	size_t rows, cap;
} rpt_table;

/* A bar chart of non-negative values of one scale ("12.30" at scale 2);
 * a rate in basis points is a value at scale 2 with unit "%".  A chart may
 * carry a threshold per bar (threshold_minor, same scale; NULL: none), drawn
 * as a line across the bar: a ratio against the limit it must stay under. */
typedef struct rpt_chart {
	const char *key;   /* borrowed */
	const char *title; /* borrowed */
	char unit[LG_ASSET_CODE_MAX];
	int scale;
	size_t n;
	char (*label)[RPT_LABEL_MAX];
	amount_minor_t *value_minor;
	amount_minor_t *threshold_minor; /* n values or NULL; < 0: none for that bar */
} rpt_chart;

typedef struct rpt_doc {
	char name[32];       /* "trial-balance" */
	const char *title;   /* borrowed */
	char from[11], to[11];
	char account[LG_CODE_MAX];
	long long head_seq;  /* the journal the report read: its last sequence */
	char head_hex[LG_HASH_HEX];
	size_t tables_n, charts_n, notes_n;
	rpt_table table[RPT_TABLES_MAX];
	rpt_chart chart[RPT_CHARTS_MAX];
	char note[RPT_NOTES_MAX][RPT_NOTE_MAX];
} rpt_doc;

void rpt_doc_init(rpt_doc *doc);
void rpt_doc_release(rpt_doc *doc);
/* The table with `key`, or NULL; borrowed. */
const rpt_table *rpt_doc_table(const rpt_doc *doc, const char *key);
/* The cell of `row` in column `col` (by name), or NULL; borrowed. */
const char *rpt_table_cell(const rpt_table *t, size_t row, const char *col);

typedef struct rpt_options {
	const char *name;    /* trial-balance balance-sheet income-statement
	                        statement reconciliation settlement aml
	                        chargebacks */
	const char *from;    /* "YYYY-MM-DD"; NULL: from the first transaction */
	const char *to;      /* "YYYY-MM-DD"; NULL: the ledger clock's date */
	const char *account; /* statement: the account; settlement: a merchant
	                        code ("m001") to report on alone, or NULL */
	int detail;          /* add the transactions behind each figure */
} rpt_options;

/* The report names, NULL-terminated; borrowed. */
extern const char *const rpt_names[];

/*
 * Builds report o->name into `doc` (initialised by the caller, released by
 * the caller with rpt_doc_release whatever the result).  Read-only.
 * LG_EUSAGE for an unknown report or bad dates, LG_ENOINPUT for an unknown
 * account.
 */
int rpt_run(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err);

/* rpt_run with a configuration file: for "chargebacks" the INI of
 * docs/chargebacks.md (scheme thresholds, channel), NULL for the defaults;
 * the other reports take none (LG_EUSAGE if one is given).  LG_ENOINPUT
 * for a missing file, LG_EUSAGE for a bad key. */
int rpt_run_config(ledger *lg, const rpt_options *o, const char *config,
                   rpt_doc *doc, lg_error *err);

/* Writes `doc` in format `f` to `fp` (borrowed).  LG_EIO if writing fails. */
int rpt_render(const rpt_doc *doc, enum rpt_format f, FILE *fp, lg_error *err);

typedef struct rpt_settle_result {
	long merchants;      /* payable accounts looked at */
	long posted;         /* payouts posted now */
	long replayed;       /* payout id of that date already in the journal */
	long nothing_owed;   /* payable zero or owed by the merchant */
} rpt_settle_result;

/*
 * Posts, for each merchant payable account (liabilities:merchants:M:payable)
 * whose balance at the end of `date` is owed to the merchant, a payout
 * transaction of that date: id and meta.payout_id "PO-YYYYMMDD-M", meta
 * {"type":"payout","merchant":M}, debiting the payable and crediting
 * liabilities:payouts:in-transit.  A payout id already in the journal is a
 * replay and posts nothing, so a second run changes nothing.  All payouts
 * of one run commit together or not at all.
 */
int rpt_settle(ledger *lg, const char *date, rpt_settle_result *res,
               lg_error *err);

#endif
