/*
 * books.c - the books: trial balance, balance sheet, income statement and
 * the statement of one account.  Each reads the posted journal (every
 * transaction but pending holds) once, sums per account in exact minor
 * units and checks the double-entry identities before it prints them.
 */
#include "reports_int.h"

#include <stdlib.h>
#include <string.h>

/* Per-asset totals; a ledger has few assets. */
#define RPT_ASSETS_MAX 64
struct asset_sum {
	char asset[LG_ASSET_CODE_MAX];
	int scale;
	amount_minor_t v[6];
};
struct asset_sums {
	struct asset_sum s[RPT_ASSETS_MAX];
	size_t n;
};

static struct asset_sum *asset_sum_get(struct asset_sums *a, const char *asset,
                                       int scale, lg_error *err)
{
	size_t i = 0;

	while (i < a->n && strcmp(a->s[i].asset, asset) != 0)
		i++;
	if (i == a->n) {
		if (a->n == RPT_ASSETS_MAX) {
			lg_error_set(err, LG_EDATA, "more than %d assets in one report",
			             RPT_ASSETS_MAX);
			return NULL;
		}
		memset(&a->s[i], 0, sizeof a->s[i]);
		snprintf(a->s[i].asset, sizeof a->s[i].asset, "%s", asset);
		a->s[i].scale = scale;
		a->n++;
	}
	return &a->s[i];
}

static int sum_add(amount_minor_t *acc, amount_minor_t v, lg_error *err)
{
	if (amount_add(*acc, v, acc) != 0)
		return lg_error_set(err, LG_EDATA, "a report total overflows");
	return LG_OK;
}

/* Opening plus the period's debits and credits. */
static amount_minor_t closing_of(const struct rpt_acct *x)
{
	/* Each part is a sum the ledger's own balance already held without
	 * overflow, so their sum fits too. */
	return x->opening_minor + x->debit_minor + x->credit_minor;
}

/* Adds the rows of a detail query (four text columns, the asset's scale,
 * the amount) to t, the amount split into debit and credit; st is the
 * caller's and stays so. */
static int detail_rows(ledger *lg, sqlite3_stmt *st, rpt_table *t, lg_error *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char dr[AMOUNT_TEXT_MAX] = "", cr[AMOUNT_TEXT_MAX] = "";
		amount_minor_t v;
		int scale = sqlite3_column_int(st, 4);
		rc = rpt_col_amount(st, 5, &v, err);
		if (rc)
			return rc;
		if (v >= 0)
			rpt_amt(v, scale, dr);
		else
			rpt_amt(-v, scale, cr);
		const char *row[] = { (const char *)sqlite3_column_text(st, 0),
			              (const char *)sqlite3_column_text(st, 1),
			              (const char *)sqlite3_column_text(st, 2),
			              (const char *)sqlite3_column_text(st, 3), dr, cr };
		rc = rpt_table_add(t, row, err);
		if (rc)
			return rc;
	}
	return rc == SQLITE_DONE ? LG_OK : rpt_sql_error(lg, err, "reading postings");
}

/* The postings behind the figures, for --detail. */
static int detail_postings(ledger *lg, const rpt_options *o, rpt_doc *doc,
                           int pl_only, lg_error *err)
{
	static const char *const names[] = { "date", "transaction", "account", "asset",
		                                     "debit", "credit" };
	static const unsigned flags[] = { 0, 0, 0, 0, RPT_NUMERIC, RPT_NUMERIC };
	rpt_table *t = rpt_doc_add_table(doc, "detail", "Postings behind the figures",
	                                 6, names, flags);
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT t.date, t.id, a.code, a.asset, s.scale, p.amount"
	                     " FROM transactions t JOIN postings p ON p.tx_seq = t.seq"
	                     " JOIN accounts a ON a.id = p.account_id JOIN assets s ON"
	                     " s.code = a.asset WHERE t.kind != 'pending' AND t.date"
	                     " BETWEEN ?1 AND ?2 AND (?3 = 0 OR a.type = 'income' OR"
	                     " a.type = 'expense')"
	                     " ORDER BY t.date, t.seq, p.idx", &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->to, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, pl_only);
	rc = detail_rows(lg, st, t, err);
	sqlite3_finalize(st);
	return rc;
}

static int tx_count_chart(ledger *lg, const rpt_options *o, rpt_doc *doc,
                          lg_error *err)
{
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT date, count(*) FROM transactions WHERE kind !="
	                     " 'pending' AND date BETWEEN ?1 AND ?2 GROUP BY date"
	                     " ORDER BY date", &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->to, -1, SQLITE_STATIC);
	rc = rpt_daily_chart(lg, doc, "daily_volume", "Transactions per day", "", 0,
	                     st, err);
	sqlite3_finalize(st);
	return rc;
}

/* --- trial balance ---------------------------------------------------- */

int rpt_trial_balance(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = { "account", "type", "asset", "opening",
		                                     "debits", "credits", "closing" };
	static const unsigned flags[] = { 0, 0, 0, RPT_NUMERIC, RPT_NUMERIC,
		                              RPT_NUMERIC, RPT_NUMERIC };
	static const char *const tnames[] = { "asset", "total_debits", "total_credits",
		                                      "opening_sum", "closing_sum", "balanced" };
	static const unsigned tflags[] = { 0, RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC,
		                               RPT_NUMERIC, 0 };
	struct rpt_accts a;
	struct asset_sums tot = { .n = 0 };
	rpt_table *t, *tt;
	int rc;

	doc->title = "Trial balance";
	rc = rpt_accts_load(lg, o->from, o->to, &a, err);
	if (rc)
		goto out;
	t = rpt_doc_add_table(doc, "accounts", "Accounts", 7, names, flags);
	tt = rpt_doc_add_table(doc, "totals", "Totals per asset", 6, tnames, tflags);
	for (size_t i = 0; i < a.n; i++) {
		const struct rpt_acct *x = &a.v[i];
		char b[4][AMOUNT_TEXT_MAX];
		struct asset_sum *s;
		if (x->postings == 0 && x->opening_minor == 0)
			continue;
		s = asset_sum_get(&tot, x->asset, x->scale, err);
		if (!s) {
			rc = err->code;
			goto out;
		}
		/* v: debits, credits, opening, closing */
		rc = sum_add(&s->v[0], x->debit_minor, err);
		if (!rc)
			rc = sum_add(&s->v[1], x->credit_minor, err);
		if (!rc)
			rc = sum_add(&s->v[2], x->opening_minor, err);
		if (!rc)
			rc = sum_add(&s->v[3], closing_of(x), err);
		if (rc)
			goto out;
		const char *row[] = { x->code, x->type, x->asset,
			              rpt_amt(x->opening_minor, x->scale, b[0]),
			              rpt_amt(x->debit_minor, x->scale, b[1]),
			              rpt_amt(-x->credit_minor, x->scale, b[2]),
			              rpt_amt(closing_of(x), x->scale, b[3]) };
		rc = rpt_table_add(t, row, err);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < tot.n; i++) {
		const struct asset_sum *s = &tot.s[i];
		char b[4][AMOUNT_TEXT_MAX];
		int balanced = s->v[0] == -s->v[1] && s->v[2] == 0 && s->v[3] == 0;
		const char *row[] = { s->asset, rpt_amt(s->v[0], s->scale, b[0]),
			              rpt_amt(-s->v[1], s->scale, b[1]),
			              rpt_amt(s->v[2], s->scale, b[2]),
			              rpt_amt(s->v[3], s->scale, b[3]), balanced ? "yes" : "no" };
		if (!balanced)
			rpt_doc_note(doc, "%s does not balance: the journal is damaged "
			             "(run clearbook verify)", s->asset);
		rc = rpt_table_add(tt, row, err);
		if (rc)
			goto out;
	}
	rc = tx_count_chart(lg, o, doc, err);
	if (!rc && o->detail)
		rc = detail_postings(lg, o, doc, 0, err);
out:
	rpt_accts_release(&a);
	return rc;
}

/* --- balance sheet and income statement ------------------------------- */

/* The transactions behind a balance at --to, for --detail: what the account
 * held before --from (one "brought forward" line, the figure of an earlier
 * report) and each posting from --from to --to, so an account's lines sum
 * to its balance in the ledger's sign (debit positive). */
static int detail_balances(ledger *lg, const rpt_options *o, rpt_doc *doc,
                           const struct rpt_accts *at_to, lg_error *err)
{
	static const char *const names[] = { "section", "account", "asset", "date",
		                                     "transaction", "debit", "credit" };
	static const unsigned flags[] = { 0, 0, 0, 0, 0, RPT_NUMERIC, RPT_NUMERIC };
	static const char *const sections[] = { "asset", "liability", "equity",
		                                        "income", "expense" };
	rpt_table *t = rpt_doc_add_table(doc, "detail", "Transactions behind the "
	                                 "balances", 7, names, flags);
	struct rpt_accts bf;
	sqlite3_stmt *st = NULL;
	int rc = rpt_accts_load(lg, o->from, o->to, &bf, err);

	if (!rc)
		rc = rpt_prepare(lg, "SELECT t.date, t.id, p.amount FROM postings p JOIN"
		                 " transactions t ON t.seq = p.tx_seq WHERE p.account_id = ?1"
		                 " AND t.kind != 'pending' AND t.date BETWEEN ?2 AND ?3"
		                 " ORDER BY t.date, t.seq, p.idx", &st, err);
	RPT_ASSERT(rc || bf.n == at_to->n);
	for (int sec = 0; sec < 5 && !rc; sec++) {
		for (size_t i = 0; i < at_to->n && !rc; i++) {
			const struct rpt_acct *x = &at_to->v[i], *b = &bf.v[i];
			char dr[AMOUNT_TEXT_MAX], cr[AMOUNT_TEXT_MAX];
			int step;
			/* The accounts the balance sheet shows or sums, nothing else. */
			if (strcmp(x->type, sections[sec]) != 0 || closing_of(x) == 0)
				continue;
			RPT_ASSERT(b->id == x->id);
			dr[0] = cr[0] = '\0';
			if (b->opening_minor >= 0)
				rpt_amt(b->opening_minor, x->scale, dr);
			else
				rpt_amt(-b->opening_minor, x->scale, cr);
			const char *row[] = { sec < 3 ? sections[sec] : "retained_earnings",
				              x->code, x->asset, "", "brought forward", dr, cr };
			rc = rpt_table_add(t, row, err);
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, x->id);
			sqlite3_bind_text(st, 2, o->from, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, o->to, -1, SQLITE_STATIC);
			while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
				amount_minor_t v;
				rc = rpt_col_amount(st, 2, &v, err);
				if (rc)
					break;
				dr[0] = cr[0] = '\0';
				if (v >= 0)
					rpt_amt(v, x->scale, dr);
				else
					rpt_amt(-v, x->scale, cr);
				row[3] = (const char *)sqlite3_column_text(st, 0);
				row[4] = (const char *)sqlite3_column_text(st, 1);
				rc = rpt_table_add(t, row, err);
				row[3] = row[4] = NULL;
			}
			if (!rc && step != SQLITE_DONE)
				rc = rpt_sql_error(lg, err, "reading postings");
		}
	}
	sqlite3_finalize(st);
	rpt_accts_release(&bf);
	return rc;
}

/* Presentation sign: assets and expenses are shown debit-positive, the
 * other types credit-positive, as a reader of the statements expects. */
static amount_minor_t shown(const struct rpt_acct *x, amount_minor_t v)
{
	return strcmp(x->type, "asset") == 0 || strcmp(x->type, "expense") == 0 ? v : -v;
}

int rpt_balance_sheet(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = { "section", "account", "asset", "balance" };
	static const unsigned flags[] = { 0, 0, 0, RPT_NUMERIC };
	static const char *const tnames[] = { "asset", "assets", "liabilities", "equity",
		                                      "retained_earnings",
		                                      "liabilities_and_equity", "difference" };
	static const unsigned tflags[] = { 0, RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC,
		                               RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC };
	static const char *const sections[] = { "asset", "liability", "equity" };
	struct rpt_accts a;
	struct asset_sums tot = { .n = 0 };
	rpt_table *t, *tt;
	int rc;

	doc->title = "Balance sheet";
	/* A balance sheet is at a date: everything up to --to, with the
	 * period's income and expenses as retained earnings. */
	rc = rpt_accts_load(lg, o->to, o->to, &a, err);
	if (rc)
		goto out;
	t = rpt_doc_add_table(doc, "lines", "Balances", 4, names, flags);
	tt = rpt_doc_add_table(doc, "totals", "Totals per asset", 7, tnames, tflags);
	for (int sec = 0; sec < 4; sec++) {
		for (size_t i = 0; i < a.n; i++) {
			const struct rpt_acct *x = &a.v[i];
			amount_minor_t c = closing_of(x);
			char b[AMOUNT_TEXT_MAX];
			int is_pl = strcmp(x->type, "income") == 0 ||
			            strcmp(x->type, "expense") == 0;
			struct asset_sum *s;
			/* Accounts at zero are left out, as on a printed balance sheet. */
			if ((sec < 3 && strcmp(x->type, sections[sec]) != 0) ||
			    (sec == 3 && !is_pl) || c == 0)
				continue;
			s = asset_sum_get(&tot, x->asset, x->scale, err);
			if (!s) {
				rc = err->code;
				goto out;
			}
			/* v: assets, liabilities, equity, retained earnings */
			rc = sum_add(&s->v[sec], sec == 0 ? c : -c, err);
			if (rc)
				goto out;
			if (sec == 3)
				continue;
			const char *row[] = { sections[sec], x->code, x->asset,
				              rpt_amt(shown(x, c), x->scale, b) };
			rc = rpt_table_add(t, row, err);
			if (rc)
				goto out;
		}
	}
	for (size_t i = 0; i < tot.n; i++) {
		const struct asset_sum *s = &tot.s[i];
		char b[6][AMOUNT_TEXT_MAX];
		amount_minor_t le = s->v[1] + s->v[2] + s->v[3];
		const char *row[] = { s->asset, rpt_amt(s->v[0], s->scale, b[0]),
			              rpt_amt(s->v[1], s->scale, b[1]),
			              rpt_amt(s->v[2], s->scale, b[2]),
			              rpt_amt(s->v[3], s->scale, b[3]),
			              rpt_amt(le, s->scale, b[4]),
			              rpt_amt(s->v[0] - le, s->scale, b[5]) };
		if (s->v[0] != le)
			rpt_doc_note(doc, "%s: assets differ from liabilities and equity: "
			             "the journal is damaged (run clearbook verify)", s->asset);
		rc = rpt_table_add(tt, row, err);
		if (rc)
			goto out;
	}
	if (o->detail)
		rc = detail_balances(lg, o, doc, &a, err);
out:
	rpt_accts_release(&a);
	return rc;
}

int rpt_income_statement(ledger *lg, const rpt_options *o, rpt_doc *doc,
                         lg_error *err)
{
	static const char *const names[] = { "section", "account", "asset", "amount" };
	static const unsigned flags[] = { 0, 0, 0, RPT_NUMERIC };
	static const char *const tnames[] = { "asset", "income", "expenses",
		                                      "net_income" };
	static const unsigned tflags[] = { 0, RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC };
	static const char *const sections[] = { "income", "expense" };
	struct rpt_accts a;
	struct asset_sums tot = { .n = 0 };
	rpt_table *t, *tt;
	int rc;

	doc->title = "Income statement";
	rc = rpt_accts_load(lg, o->from, o->to, &a, err);
	if (rc)
		goto out;
	t = rpt_doc_add_table(doc, "lines", "Income and expenses", 4, names, flags);
	tt = rpt_doc_add_table(doc, "totals", "Totals per asset", 4, tnames, tflags);
	for (int sec = 0; sec < 2; sec++) {
		for (size_t i = 0; i < a.n; i++) {
			const struct rpt_acct *x = &a.v[i];
			amount_minor_t m = x->debit_minor + x->credit_minor;
			char b[AMOUNT_TEXT_MAX];
			struct asset_sum *s;
			if (strcmp(x->type, sections[sec]) != 0 || x->postings == 0)
				continue;
			s = asset_sum_get(&tot, x->asset, x->scale, err);
			if (!s) {
				rc = err->code;
				goto out;
			}
			rc = sum_add(&s->v[sec], shown(x, m), err);
			if (rc)
				goto out;
			const char *row[] = { sections[sec], x->code, x->asset,
				              rpt_amt(shown(x, m), x->scale, b) };
			rc = rpt_table_add(t, row, err);
			if (rc)
				goto out;
		}
	}
	for (size_t i = 0; i < tot.n; i++) {
		const struct asset_sum *s = &tot.s[i];
		char b[3][AMOUNT_TEXT_MAX];
		const char *row[] = { s->asset, rpt_amt(s->v[0], s->scale, b[0]),
			              rpt_amt(s->v[1], s->scale, b[1]),
			              rpt_amt(s->v[0] - s->v[1], s->scale, b[2]) };
		rc = rpt_table_add(tt, row, err);
		if (rc)
			goto out;
	}
	if (o->detail)
		rc = detail_postings(lg, o, doc, 1, err);
out:
	rpt_accts_release(&a);
	return rc;
}

/* --- account statement ------------------------------------------------- */

static int account_lookup(ledger *lg, const char *code, long long *id, char *asset,
                          int *scale, lg_error *err)
{
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT a.id, a.asset, s.scale FROM accounts a JOIN"
	                     " assets s ON s.code = a.asset WHERE a.code = ?1", &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		snprintf(asset, LG_ASSET_CODE_MAX, "%s", sqlite3_column_text(st, 1));
		*scale = sqlite3_column_int(st, 2);
		rc = LG_OK;
	} else if (rc == SQLITE_DONE) {
		rc = lg_error_set(err, LG_ENOINPUT, "no account '%s'", code);
	} else {
		rc = rpt_sql_error(lg, err, "looking up the account");
	}
	sqlite3_finalize(st);
	return rc;
}

/* The statement's lines are the postings behind its debits and credits;
 * --detail adds where each line's money came from or went: the other
 * postings of the same transactions. */
static int detail_counterparts(ledger *lg, const rpt_options *o, long long id,
                               rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = { "date", "transaction", "account", "asset",
		                                     "debit", "credit" };
	static const unsigned flags[] = { 0, 0, 0, 0, RPT_NUMERIC, RPT_NUMERIC };
	rpt_table *t = rpt_doc_add_table(doc, "counterparts", "The other postings of "
	                                 "each line's transaction", 6, names, flags);
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT t.date, t.id, a.code, a.asset, s.scale, q.amount"
	                     " FROM transactions t JOIN postings q ON q.tx_seq = t.seq"
	                     " JOIN accounts a ON a.id = q.account_id JOIN assets s ON"
	                     " s.code = a.asset WHERE t.kind != 'pending' AND t.date"
	                     " BETWEEN ?2 AND ?3 AND q.account_id != ?1 AND t.seq IN"
	                     " (SELECT p.tx_seq FROM postings p WHERE p.account_id = ?1)"
	                     " ORDER BY t.date, t.seq, q.idx", &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->to, -1, SQLITE_STATIC);
	rc = detail_rows(lg, st, t, err);
	sqlite3_finalize(st);
	return rc;
}

int rpt_statement(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = { "date", "transaction", "kind", "memo",
		                                     "debit", "credit", "balance" };
	static const unsigned flags[] = { 0, 0, 0, 0, RPT_NUMERIC, RPT_NUMERIC,
		                              RPT_NUMERIC };
	static const char *const snames[] = { "account", "asset", "opening", "debits",
		                                      "credits", "closing", "lines" };
	static const unsigned sflags[] = { 0, 0, RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC,
		                               RPT_NUMERIC, RPT_INTEGER };
	char asset[LG_ASSET_CODE_MAX], b[5][AMOUNT_TEXT_MAX], nlines[24];
	amount_minor_t opening = 0, bal, dr = 0, cr = 0;
	sqlite3_stmt *st = NULL;
	long long id = 0;
	long lines = 0;
	int scale = 0, rc;
	rpt_table *sum, *t;

	doc->title = "Account statement";
	if (!o->account)
		return lg_error_set(err, LG_EUSAGE, "statement: name the account");
	rc = account_lookup(lg, o->account, &id, asset, &scale, err);
	if (rc)
		return rc;
	sum = rpt_doc_add_table(doc, "summary", "Summary", 7, snames, sflags);
	t = rpt_doc_add_table(doc, "lines", "Lines", 7, names, flags);
	rc = rpt_prepare(lg, "SELECT t.date, t.id, t.kind, t.memo, p.amount, t.date >= ?2"
	                 " FROM postings p JOIN transactions t ON t.seq = p.tx_seq"
	                 " WHERE p.account_id = ?1 AND t.kind != 'pending' AND t.date <= ?3"
	                 " ORDER BY t.date >= ?2, t.date, t.seq, p.idx", &st, err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->to, -1, SQLITE_STATIC);
	bal = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		amount_minor_t v;
		int in_period = sqlite3_column_int(st, 5);
		rc = rpt_col_amount(st, 4, &v, err);
		if (!rc && (amount_add(bal, v, &bal) != 0 ||
		            amount_add(v >= 0 ? dr : cr, in_period ? v : 0,
		                       v >= 0 ? &dr : &cr) != 0))
			rc = lg_error_set(err, LG_EDATA, "balance of '%s' overflows", o->account);
		if (rc)
			goto out;
		if (!in_period) {
			opening = bal;
			continue;
		}
		lines++;
		const char *row[] = { (const char *)sqlite3_column_text(st, 0),
			              (const char *)sqlite3_column_text(st, 1),
			              (const char *)sqlite3_column_text(st, 2),
			              (const char *)sqlite3_column_text(st, 3),
			              v >= 0 ? rpt_amt(v, scale, b[0]) : "",
			              v < 0 ? rpt_amt(-v, scale, b[1]) : "",
			              rpt_amt(bal, scale, b[2]) };
		rc = rpt_table_add(t, row, err);
		if (rc)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = rpt_sql_error(lg, err, "reading the account's postings");
		goto out;
	}
	RPT_ASSERT(opening + dr + cr == bal);
	snprintf(nlines, sizeof nlines, "%ld", lines);
	{
		const char *row[] = { o->account, asset, rpt_amt(opening, scale, b[0]),
			              rpt_amt(dr, scale, b[1]), rpt_amt(-cr, scale, b[2]),
			              rpt_amt(bal, scale, b[3]), nlines };
		rc = rpt_table_add(sum, row, err);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc)
		goto out;
	rc = rpt_prepare(lg, "SELECT t.date, p.amount FROM postings p JOIN transactions t"
	                 " ON t.seq = p.tx_seq WHERE p.account_id = ?1 AND t.kind !="
	                 " 'pending' AND t.date BETWEEN ?2 AND ?3 ORDER BY t.date", &st, err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->to, -1, SQLITE_STATIC);
	rc = rpt_daily_chart(lg, doc, "daily_turnover", "Turnover per day (debits and "
	                     "credits)", asset, scale, st, err);
	if (!rc && o->detail)
		rc = detail_counterparts(lg, o, id, doc, err);
out:
	sqlite3_finalize(st);
	return rc;
}
