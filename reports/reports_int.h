/*
 * reports_int.h - what the reports module's files share: the document
 * builders, the account table every book report starts from, SQL helpers.
 */
#ifndef CLEARBOOK_REPORTS_INT_H
#define CLEARBOOK_REPORTS_INT_H

#include <sqlite3.h>

#include "reports.h"

#define RPT_ASSERT(cond)                                                      \
	do {                                                                      \
		if (!(cond))                                                          \
			rpt_assert_fail(#cond, __FILE__, __LINE__);                       \
	} while (0)
_Noreturn void rpt_assert_fail(const char *what, const char *file, int line);

/* Adds a table to the document; NULL when RPT_TABLES_MAX are there (our
 * bug: each report knows how many tables it makes). */
rpt_table *rpt_doc_add_table(rpt_doc *doc, const char *key, const char *title,
                             int cols, const char *const *names,
                             const unsigned *flags);
/* Appends a row of t->cols strings (copied; NULL prints empty). */
int rpt_table_add(rpt_table *t, const char *const *cells, lg_error *err);
/* Adds a chart of `n` points (labels and values zeroed), keeping room for
 * at most RPT_CHART_POINTS_MAX. */
rpt_chart *rpt_doc_add_chart(rpt_doc *doc, const char *key, const char *title,
                             const char *unit, int scale, size_t n,
                             lg_error *err);
/* Gives chart `c` a threshold per bar, all "none" (-1) to start with. */
int rpt_chart_thresholds(rpt_chart *c, lg_error *err);
/* Adds a note (printf-style); silently keeps the first RPT_NOTES_MAX. */
void rpt_doc_note(rpt_doc *doc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Formats an amount for a cell: caller's buffer of AMOUNT_TEXT_MAX. */
const char *rpt_amt(amount_minor_t v, int scale, char buf[AMOUNT_TEXT_MAX]);
/* Basis points of part over whole, rounded half-even, 0 when whole is 0. */
long long rpt_bps(long long part, long long whole);

int rpt_prepare(ledger *lg, const char *sql, sqlite3_stmt **out, lg_error *err);
int rpt_sql_error(ledger *lg, lg_error *err, const char *what);
/* 1 when table (or view) `name` exists in the ledger's database:
 * statement_lines is a view over staged_lines. */
int rpt_table_exists(ledger *lg, const char *name, int *exists, lg_error *err);
/* Reads a 16-byte amount column; LG_EDATA if it is not one. */
int rpt_col_amount(sqlite3_stmt *st, int col, amount_minor_t *out, lg_error *err);

/* One account with its sums over the report's period. */
struct rpt_acct {
	long long id;
	char *code, *meta;
	char type[16];
	char asset[LG_ASSET_CODE_MAX];
	int scale;
	amount_minor_t opening_minor; /* postings dated before `from` */
	amount_minor_t debit_minor;   /* debits dated from..to, positive */
	amount_minor_t credit_minor;  /* credits dated from..to, negative */
	long postings;                /* dated from..to */
};
struct rpt_accts {
	struct rpt_acct *v;
	size_t n;
	size_t *by_id;   /* account id -> index + 1; 0 for none */
	long long id_max;
};
/* Loads every account (code order) with its posted sums: postings of
 * transactions other than pending holds, dated up to `to`. */
int rpt_accts_load(ledger *lg, const char *from, const char *to,
                   struct rpt_accts *a, lg_error *err);
void rpt_accts_release(struct rpt_accts *a);
struct rpt_acct *rpt_accts_find(const struct rpt_accts *a, long long id);

/* The reports, one per file. */
int rpt_trial_balance(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err);
int rpt_balance_sheet(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err);
int rpt_income_statement(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err);
int rpt_statement(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err);
int rpt_reconciliation(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err);
int rpt_settlement(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err);
int rpt_aml_report(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err);
int rpt_chargebacks_report(ledger *lg, const rpt_options *o, const char *config,
                           rpt_doc *doc, lg_error *err);

/* A daily chart from a query returning (date, value blob or integer) rows
 * in date order; blob values are decoded amounts, integers are counts. */
int rpt_daily_chart(ledger *lg, rpt_doc *doc, const char *key, const char *title,
                    const char *unit, int scale, sqlite3_stmt *st, lg_error *err);

#endif
