/*
 * doc.c - the report document (tables, charts, notes), the dispatcher from
 * report name to builder, and the helpers every report shares: exact
 * amounts and rates, SQL on the ledger's database, the account table with
 * its period sums.
 */
#include "reports_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../ledger/ledger_sql.h"

const char *const rpt_names[] = {
	"trial-balance", "balance-sheet", "income-statement", "statement",
	"reconciliation", "settlement", "aml", "chargebacks", NULL,
};

static int (*const rpt_builders[])(ledger *, const rpt_options *, rpt_doc *,
                                   lg_error *) = {
	rpt_trial_balance, rpt_balance_sheet, rpt_income_statement, rpt_statement,
	rpt_reconciliation, rpt_settlement, rpt_aml_report, NULL, /* chargebacks */
};

_Noreturn void rpt_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "clearbook: internal error: %s:%d: assertion '%s' failed\n",
	        file, line, what);
	abort();
}

int rpt_format_parse(const char *text, enum rpt_format *out)
{
	static const char *const names[] = { "text", "csv", "json", "html" };

	for (int i = 0; i < 4; i++)
		if (strcmp(text, names[i]) == 0) {
			*out = (enum rpt_format)i;
			return 0;
		}
	return -1;
}

void rpt_doc_init(rpt_doc *doc)
{
	memset(doc, 0, sizeof *doc);
}

void rpt_doc_release(rpt_doc *doc)
{
	for (size_t i = 0; i < doc->tables_n; i++) {
		rpt_table *t = &doc->table[i];
		for (size_t k = 0; k < t->rows * (size_t)t->cols; k++)
			free(t->cells[k]);
		free(t->cells);
	}
	for (size_t i = 0; i < doc->charts_n; i++) {
		free(doc->chart[i].label);
		free(doc->chart[i].value_minor);
		free(doc->chart[i].threshold_minor);
	}
	memset(doc, 0, sizeof *doc);
}

const rpt_table *rpt_doc_table(const rpt_doc *doc, const char *key)
{
	for (size_t i = 0; i < doc->tables_n; i++)
		if (strcmp(doc->table[i].key, key) == 0)
			return &doc->table[i];
	return NULL;
}

const char *rpt_table_cell(const rpt_table *t, size_t row, const char *col)
{
	if (!t || row >= t->rows)
		return NULL;
	for (int c = 0; c < t->cols; c++)
		if (strcmp(t->name[c], col) == 0)
			return t->cells[row * (size_t)t->cols + (size_t)c];
	return NULL;
}

rpt_table *rpt_doc_add_table(rpt_doc *doc, const char *key, const char *title,
                             int cols, const char *const *names,
                             const unsigned *flags)
{
	rpt_table *t;

	RPT_ASSERT(cols > 0 && cols <= RPT_COLS_MAX);
	RPT_ASSERT(doc->tables_n < RPT_TABLES_MAX);
	t = &doc->table[doc->tables_n++];
	memset(t, 0, sizeof *t);
	t->key = key;
	t->title = title;
	t->cols = cols;
	for (int i = 0; i < cols; i++) {
		t->name[i] = names[i];
		t->flags[i] = flags ? flags[i] : 0;
	}
	return t;
}

int rpt_table_add(rpt_table *t, const char *const *cells, lg_error *err)
{
	size_t cols = (size_t)t->cols, need = (t->rows + 1) * cols;

	if (t->rows >= RPT_ROWS_MAX)
		return lg_error_set(err, LG_EDATA, "report table '%s' would pass %u rows",
		                    t->key, RPT_ROWS_MAX);
	if (need > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64 * cols;
		char **p;
		while (ncap < need)
			ncap *= 2;
		p = realloc(t->cells, ncap * sizeof *p);
		if (!p)
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
		t->cells = p;
		t->cap = ncap;
	}
	for (size_t c = 0; c < cols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "");
		if (!s) {
			for (size_t k = 0; k < c; k++)
				free(t->cells[t->rows * cols + k]);
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
		}
		t->cells[t->rows * cols + c] = s;
	}
	t->rows++;
	return LG_OK;
}

rpt_chart *rpt_doc_add_chart(rpt_doc *doc, const char *key, const char *title,
                             const char *unit, int scale, size_t n, lg_error *err)
{
	rpt_chart *c;

	RPT_ASSERT(doc->charts_n < RPT_CHARTS_MAX);
	RPT_ASSERT(scale >= 0 && scale <= AMOUNT_SCALE_MAX);
	if (n > RPT_CHART_POINTS_MAX)
		n = RPT_CHART_POINTS_MAX;
	c = &doc->chart[doc->charts_n];
	memset(c, 0, sizeof *c);
	c->label = calloc(n ? n : 1, sizeof *c->label);
	c->value_minor = calloc(n ? n : 1, sizeof *c->value_minor);
	if (!c->label || !c->value_minor) {
		free(c->label);
		free(c->value_minor);
		lg_error_set(err, LG_EINTERNAL, "out of memory");
		return NULL;
	}
	doc->charts_n++;
	c->key = key;
	c->title = title;
	snprintf(c->unit, sizeof c->unit, "%s", unit ? unit : "");
	c->scale = scale;
	c->n = n;
	return c;
}

int rpt_chart_thresholds(rpt_chart *c, lg_error *err)
{
	RPT_ASSERT(c->threshold_minor == NULL);
	c->threshold_minor = calloc(c->n ? c->n : 1, sizeof *c->threshold_minor);
	if (!c->threshold_minor)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	for (size_t i = 0; i < c->n; i++)
		c->threshold_minor[i] = -1;
	return LG_OK;
}

void rpt_doc_note(rpt_doc *doc, const char *fmt, ...)
{
	va_list ap;

	if (doc->notes_n >= RPT_NOTES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(doc->note[doc->notes_n++], RPT_NOTE_MAX, fmt, ap);
	va_end(ap);
}

const char *rpt_amt(amount_minor_t v, int scale, char buf[AMOUNT_TEXT_MAX])
{
	amount_format(v, scale, buf, AMOUNT_TEXT_MAX);
	return buf;
}

long long rpt_bps(long long part, long long whole)
{
	long long q, r;

	if (whole <= 0)
		return 0;
	RPT_ASSERT(part >= 0 && part <= whole);
	/* part * 10000 fits: counts are far below 2^49. */
	q = part * 10000 / whole;
	r = part * 10000 % whole;
	if (r * 2 > whole || (r * 2 == whole && (q & 1)))
		q++;
	return q;
}

int rpt_sql_error(ledger *lg, lg_error *err, const char *what)
{
	return lg_error_set(err, LG_EINTERNAL, "%s: %s", what,
	                    sqlite3_errmsg(ledger_sqlite(lg)));
}

int rpt_prepare(ledger *lg, const char *sql, sqlite3_stmt **out, lg_error *err)
{
	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, out, NULL) != SQLITE_OK) {
		*out = NULL;
		return rpt_sql_error(lg, err, "preparing a report query");
	}
	return LG_OK;
}

int rpt_table_exists(ledger *lg, const char *name, int *exists, lg_error *err)
{
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT count(*) FROM sqlite_master WHERE type IN"
	                     " ('table', 'view') AND name = ?1", &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*exists = sqlite3_column_int(st, 0) > 0;
	else
		rc = rpt_sql_error(lg, err, "looking for a table");
	sqlite3_finalize(st);
	return rc;
}

int rpt_col_amount(sqlite3_stmt *st, int col, amount_minor_t *out, lg_error *err)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		*out = 0;
		return LG_OK;
	}
	if (sqlite3_column_bytes(st, col) != AMOUNT_BLOB_BYTES)
		return lg_error_set(err, LG_EDATA, "an amount in the database is not a "
		                    "16-byte value");
	*out = amount_decode(sqlite3_column_blob(st, col));
	return LG_OK;
}

/* --- accounts and their period sums ----------------------------------- */

void rpt_accts_release(struct rpt_accts *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].code);
		free(a->v[i].meta);
	}
	free(a->v);
	free(a->by_id);
	memset(a, 0, sizeof *a);
}

struct rpt_acct *rpt_accts_find(const struct rpt_accts *a, long long id)
{
	if (id < 0 || id > a->id_max || !a->by_id[id])
		return NULL;
	return &a->v[a->by_id[id] - 1];
}

static int accts_read(ledger *lg, struct rpt_accts *a, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = rpt_prepare(lg, "SELECT a.id, a.code, a.type, a.asset, s.scale, a.meta"
	                     " FROM accounts a JOIN assets s ON s.code = a.asset"
	                     " ORDER BY a.code", &st, err), step;

	if (rc)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct rpt_acct *x;
		if (a->n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			void *p = realloc(a->v, ncap * sizeof *a->v);
			if (!p) {
				rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
				goto out;
			}
			a->v = p;
			cap = ncap;
		}
		x = &a->v[a->n];
		memset(x, 0, sizeof *x);
		x->id = sqlite3_column_int64(st, 0);
		x->code = strdup((const char *)sqlite3_column_text(st, 1));
		x->meta = strdup((const char *)sqlite3_column_text(st, 5));
		a->n++;
		if (!x->code || !x->meta) {
			rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
			goto out;
		}
		snprintf(x->type, sizeof x->type, "%s", sqlite3_column_text(st, 2));
		snprintf(x->asset, sizeof x->asset, "%s", sqlite3_column_text(st, 3));
		x->scale = sqlite3_column_int(st, 4);
		RPT_ASSERT(x->id >= 0);
		RPT_ASSERT(x->scale >= 0 && x->scale <= AMOUNT_SCALE_MAX);
		if (x->id > a->id_max)
			a->id_max = x->id;
	}
	if (step != SQLITE_DONE)
		rc = rpt_sql_error(lg, err, "reading accounts");
out:
	sqlite3_finalize(st);
	return rc;
}

int rpt_accts_load(ledger *lg, const char *from, const char *to,
                   struct rpt_accts *a, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(a, 0, sizeof *a);
	rc = accts_read(lg, a, err);
	if (rc)
		goto out;
	a->by_id = calloc((size_t)a->id_max + 1, sizeof *a->by_id);
	if (!a->by_id) {
		rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < a->n; i++)
		a->by_id[a->v[i].id] = i + 1;
	/* Pending holds are not posted; everything else is (as ledger_balances
	 * counts it).  One pass: a million transactions read in about a second. */
	rc = rpt_prepare(lg, "SELECT p.account_id, p.amount, t.date >= ?1 FROM"
	                 " transactions t JOIN postings p ON p.tx_seq = t.seq"
	                 " WHERE t.kind != 'pending' AND t.date <= ?2", &st, err);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rpt_acct *x = rpt_accts_find(a, sqlite3_column_int64(st, 0));
		amount_minor_t v;
		int in_period = sqlite3_column_int(st, 2), bad;
		if (!x) {
			rc = lg_error_set(err, LG_EDATA, "a posting names no account");
			goto out;
		}
		rc = rpt_col_amount(st, 1, &v, err);
		if (rc)
			goto out;
		if (!in_period)
			bad = amount_add(x->opening_minor, v, &x->opening_minor);
		else if (v >= 0)
			bad = amount_add(x->debit_minor, v, &x->debit_minor);
		else
			bad = amount_add(x->credit_minor, v, &x->credit_minor);
		x->postings += in_period;
		if (bad) {
			rc = lg_error_set(err, LG_EDATA, "sum of '%s' overflows", x->code);
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? LG_OK : rpt_sql_error(lg, err, "reading postings");
out:
	sqlite3_finalize(st);
	return rc;
}

/* --- charts ------------------------------------------------------------ */

int rpt_daily_chart(ledger *lg, rpt_doc *doc, const char *key, const char *title,
                    const char *unit, int scale, sqlite3_stmt *st, lg_error *err)
{
	char (*day)[11] = NULL;
	amount_minor_t *val = NULL;
	size_t n = 0, cap = 0;
	rpt_chart *c;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 0);
		amount_minor_t v = sqlite3_column_int64(st, 1);
		if (!d)
			continue;
		if (sqlite3_column_type(st, 1) == SQLITE_BLOB) {
			rc = rpt_col_amount(st, 1, &v, err);
			if (rc)
				goto out;
			if (v < 0)
				v = -v;
		}
		if (!n || strcmp(day[n - 1], d) != 0) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				void *p1 = realloc(day, ncap * sizeof *day);
				if (p1)
					day = p1;
				void *p2 = p1 ? realloc(val, ncap * sizeof *val) : NULL;
				if (!p1 || !p2) {
					rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
					goto out;
				}
				val = p2;
				cap = ncap;
			}
			snprintf(day[n], sizeof day[n], "%.10s", d);
			val[n++] = 0;
		}
		if (amount_add(val[n - 1], v, &val[n - 1]) != 0) {
			rc = lg_error_set(err, LG_EDATA, "daily sum overflows");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = rpt_sql_error(lg, err, "reading daily figures");
		goto out;
	}
	rc = LG_OK;
	if (n == 0)
		goto out;
	c = rpt_doc_add_chart(doc, key, title, unit, scale, n, err);
	if (!c) {
		rc = err->code;
		goto out;
	}
	/* The latest days when there are more than a chart holds. */
	for (size_t i = 0; i < c->n; i++) {
		size_t k = n - c->n + i;
		snprintf(c->label[i], sizeof c->label[i], "%s", day[k]);
		c->value_minor[i] = val[k];
	}
out:
	free(day);
	free(val);
	return rc;
}

/* --- running a report ---------------------------------------------------- */

static int journal_head(ledger *lg, rpt_doc *doc, lg_error *err)
{
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT seq, hash FROM transactions ORDER BY seq DESC"
	                     " LIMIT 1", &st, err);

	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_blob(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		doc->head_seq = sqlite3_column_int64(st, 0);
		for (int i = 0; h && i < len && i < 32; i++)
			snprintf(doc->head_hex + 2 * i, 3, "%02x", h[i]);
		rc = LG_OK;
	} else if (rc == SQLITE_DONE) {
		rc = LG_OK;
	} else {
		rc = rpt_sql_error(lg, err, "reading the journal head");
	}
	sqlite3_finalize(st);
	return rc;
}

/* The date of the first transaction, or `to` in an empty journal: the
 * default start of a period. */
static int first_date(ledger *lg, const char *to, char out[11], lg_error *err)
{
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT min(date) FROM transactions", &st, err);
	const char *d;

	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = rpt_sql_error(lg, err, "reading the first date");
	} else {
		d = (const char *)sqlite3_column_text(st, 0);
		snprintf(out, 11, "%s", d && ledger_date_valid(d) && strcmp(d, to) < 0 ? d : to);
	}
	sqlite3_finalize(st);
	return rc;
}

int rpt_run(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err)
{
	return rpt_run_config(lg, o, NULL, doc, err);
}

static int run_config(ledger *lg, const rpt_options *o, const char *config,
                      rpt_doc *doc, lg_error *err)
{
	rpt_options opt = *o;
	char today[11], first[11];
	int rc;

	snprintf(today, sizeof today, "%.10s", ledger_now(lg));
	if (!opt.to)
		opt.to = today;
	if (!opt.from) {
		rc = first_date(lg, opt.to, first, err);
		if (rc)
			return rc;
		opt.from = first;
	}
	if (!ledger_date_valid(opt.from))
		return lg_error_set(err, LG_EUSAGE, "--from '%s' is not a date YYYY-MM-DD",
		                    opt.from);
	if (!ledger_date_valid(opt.to))
		return lg_error_set(err, LG_EUSAGE, "--to '%s' is not a date YYYY-MM-DD",
		                    opt.to);
	if (strcmp(opt.from, opt.to) > 0)
		return lg_error_set(err, LG_EUSAGE, "--from %s is after --to %s", opt.from,
		                    opt.to);
	for (size_t i = 0; rpt_names[i]; i++) {
		if (strcmp(rpt_names[i], o->name) != 0)
			continue;
		snprintf(doc->name, sizeof doc->name, "%s", o->name);
		snprintf(doc->from, sizeof doc->from, "%s", opt.from);
		snprintf(doc->to, sizeof doc->to, "%s", opt.to);
		if (opt.account)
			snprintf(doc->account, sizeof doc->account, "%s", opt.account);
		rc = journal_head(lg, doc, err);
		if (rc)
			return rc;
		/* Only the chargeback report has a configuration of its own. */
		if (!rpt_builders[i])
			return rpt_chargebacks_report(lg, &opt, config, doc, err);
		if (config)
			return lg_error_set(err, LG_EUSAGE, "report %s takes no --config",
			                    o->name);
		return rpt_builders[i](lg, &opt, doc, err);
	}
	return lg_error_set(err, LG_EUSAGE, "unknown report '%s'", o->name);
}

/*
 * A report reads the ledger in several statements (its chain head, the
 * accounts, then the postings); another process posting meanwhile (the
 * front during a nightly) could add an account and its postings between
 * two of them, and the report would meet a posting of an account it never
 * read, or count postings past the head it names.  One read transaction
 * makes every statement see the same ledger.  Inside a caller's own
 * transaction the report reads that one.
 */
int rpt_run_config(ledger *lg, const rpt_options *o, const char *config,
                   rpt_doc *doc, lg_error *err)
{
	sqlite3 *db = ledger_sqlite(lg);
	int own = sqlite3_get_autocommit(db), rc;

	if (own && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return rpt_sql_error(lg, err, "starting the report's read");
	rc = run_config(lg, o, config, doc, err);
	if (own)
		(void)sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	return rc;
}
