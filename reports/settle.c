/*
 * settle.c - merchant settlement: the statement of what each merchant was
 * owed over a period and how it was paid (report `settlement`), and the
 * posting of the payouts themselves (rpt_settle, `clearbook settle`).
 *
 * Conventions (docs/reports.md): a merchant M has liabilities:merchants:
 * M:payable (meta name, iban, bic, fee_bps) and may have :reserve.  A sale
 * credits the payable net of fees and credits income:fees:processing, with
 * meta.merchant M.  A payout has meta {"type":"payout","merchant":M,
 * "payout_id":ID}, debits the payable and credits
 * liabilities:payouts:in-transit; a payout the bank rejects (pain.002 RJCT)
 * is reversed by the nightly.  Every figure is a movement of the payable,
 * signed as the merchant sees it (positive: owed more), so that opening
 * plus the figures is the closing balance, checked before printing.
 */
#include "reports_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MERCHANT_PREFIX "liabilities:merchants:"
#define FEE_ACCOUNT "income:fees:processing"
#define IN_TRANSIT_ACCOUNT "liabilities:payouts:in-transit"
#define RPT_MERCHANT_MAX 64       /* bytes of a merchant code */
#define RPT_PAYOUT_ID_MAX 35      /* pain.001 EndToEndId */

enum fig { F_GROSS, F_REFUNDS, F_FEES, F_HELD, F_RELEASED, F_ADJUST, F_PAYOUTS,
	       F_RETURNED, F_N };
static const char *const fig_names[F_N] = {
	"gross_sales", "refunds_reversals", "processing_fees", "reserve_held",
	"reserve_released", "adjustments", "payouts", "payouts_returned",
};

struct merchant {
	char code[RPT_MERCHANT_MAX];
	char *name;
	const struct rpt_acct *payable, *reserve;
	amount_minor_t fig[F_N];
};
struct settlement {
	struct merchant *m;
	size_t n;
};

/* "liabilities:merchants:m001:payable" -> "m001" and "payable". */
static int merchant_split(const char *code, char *merchant, const char **leaf)
{
	const char *p = code + strlen(MERCHANT_PREFIX), *colon;

	if (strncmp(code, MERCHANT_PREFIX, strlen(MERCHANT_PREFIX)) != 0)
		return -1;
	colon = strchr(p, ':');
	if (!colon || colon == p || (size_t)(colon - p) >= RPT_MERCHANT_MAX ||
	    strchr(colon + 1, ':'))
		return -1;
	memcpy(merchant, p, (size_t)(colon - p));
	merchant[colon - p] = '\0';
	*leaf = colon + 1;
	return 0;
}

static struct merchant *merchant_find(struct settlement *s, const char *code)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->m[i].code, code) == 0)
			return &s->m[i];
	return NULL;
}

static char *meta_name(const char *meta)
{
	json_t *j = json_loads(meta, 0, NULL);
	const char *name = j ? json_string_value(json_object_get(j, "name")) : NULL;
	char *out = strdup(name ? name : "");

	json_decref(j);
	return out;
}

static void settlement_release(struct settlement *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->m[i].name);
	free(s->m);
	memset(s, 0, sizeof *s);
}

/* Every merchant, in code order (the accounts come sorted): a transaction
 * is classified knowing all the merchants it touches, whichever one the
 * report is about. */
static int merchants_load(const struct rpt_accts *a, struct settlement *s,
                          lg_error *err)
{
	s->m = calloc(a->n ? a->n : 1, sizeof *s->m);
	if (!s->m)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	for (size_t i = 0; i < a->n; i++) {
		char code[RPT_MERCHANT_MAX];
		const char *leaf;
		struct merchant *m;
		if (merchant_split(a->v[i].code, code, &leaf) != 0)
			continue;
		m = merchant_find(s, code);
		if (!m) {
			m = &s->m[s->n++];
			snprintf(m->code, sizeof m->code, "%s", code);
		}
		if (strcmp(leaf, "payable") == 0) {
			m->payable = &a->v[i];
			free(m->name);
			m->name = meta_name(a->v[i].meta);
			if (!m->name)
				return lg_error_set(err, LG_EINTERNAL, "out of memory");
		} else if (strcmp(leaf, "reserve") == 0) {
			m->reserve = &a->v[i];
		}
	}
	return LG_OK;
}

/* One transaction's postings that concern merchants, gathered. */
#define TX_MERCHANTS_MAX 8
struct tx_acc {
	long long seq;
	char id[LG_ID_MAX], date[11], kind[16], type[32], ref_type[32], merchant[RPT_MERCHANT_MAX];
	amount_minor_t fee_minor;
	const char *only;     /* the merchant the report is about, or NULL */
	size_t n;
	struct { struct merchant *m; amount_minor_t payable_minor, reserve_minor; } p[TX_MERCHANTS_MAX];
};

static int add_fig(struct merchant *m, enum fig f, amount_minor_t v,
                   rpt_table *detail, const struct tx_acc *tx, int scale,
                   lg_error *err)
{
	char amt[AMOUNT_TEXT_MAX];

	if (v == 0)
		return LG_OK;
	if (amount_add(m->fig[f], v, &m->fig[f]) != 0)
		return lg_error_set(err, LG_EDATA, "settlement of '%s' overflows", m->code);
	if (!detail || (tx->only && strcmp(tx->only, m->code) != 0))
		return LG_OK;
	const char *row[] = { m->code, tx->date, tx->id, tx->kind, fig_names[f],
		              rpt_amt(v, scale, amt) };
	return rpt_table_add(detail, row, err);
}

/* Sorts one transaction's movements into the figures (see the file
 * comment); every part of the payable's movement lands in one figure. */
static int classify(struct tx_acc *tx, rpt_table *detail, lg_error *err)
{
	int is_payout = strcmp(tx->type, "payout") == 0 &&
	                strcmp(tx->kind, "reverse") != 0;
	int is_return = strcmp(tx->kind, "reverse") == 0 &&
	                strcmp(tx->ref_type, "payout") == 0;
	int is_refund = !is_return && (strcmp(tx->kind, "reverse") == 0 ||
	                               strcmp(tx->type, "refund") == 0);
	int rc = LG_OK;

	for (size_t i = 0; i < tx->n && !rc; i++) {
		struct merchant *m = tx->p[i].m;
		int scale = m->payable ? m->payable->scale : m->reserve->scale;
		amount_minor_t owed = -tx->p[i].payable_minor, res = tx->p[i].reserve_minor;
		/* The fee belongs to the merchant of a one-merchant sale or refund. */
		amount_minor_t fee = tx->n == 1 && (is_refund || strcmp(tx->merchant,
		                     m->code) == 0) ? tx->fee_minor : 0;
		if (is_payout) {
			rc = add_fig(m, F_PAYOUTS, owed, detail, tx, scale, err);
			continue;
		}
		if (is_return) {
			rc = add_fig(m, F_RETURNED, owed, detail, tx, scale, err);
			continue;
		}
		if (!m->payable) /* a reserve alone: no payable movement to explain */
			continue;
		/* Reserve moved against the payable: held when the reserve grows. */
		rc = add_fig(m, res < 0 ? F_HELD : F_RELEASED, res, detail, tx, scale, err);
		if (!rc)
			rc = add_fig(m, F_FEES, fee, detail, tx, scale, err);
		if (!rc)
			rc = add_fig(m, is_refund ? F_REFUNDS : strcmp(tx->merchant, m->code) == 0
			             ? F_GROSS : F_ADJUST, owed - res - fee, detail, tx, scale, err);
	}
	return rc;
}

/* What each account is to the settlement, by account id: the merchant it
 * belongs to (payable, reserve or another of its accounts), the fee
 * account, or nothing. */
enum acct_role { R_NONE, R_PAYABLE, R_RESERVE, R_MERCHANT_OTHER, R_FEE };
struct roles {
	struct merchant **m;    /* by account id */
	unsigned char *role;    /* enum acct_role, by account id */
	unsigned char *charted; /* code LIKE 'liabilities:merchants:%:payable' */
};

static int roles_load(const struct rpt_accts *a, struct settlement *s,
                      struct roles *r, lg_error *err)
{
	size_t n = (size_t)a->id_max + 1, plen = strlen(MERCHANT_PREFIX);

	r->m = calloc(n, sizeof *r->m);
	r->role = calloc(n, 1);
	r->charted = calloc(n, 1);
	if (!r->m || !r->role || !r->charted)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	for (size_t i = 0; i < a->n; i++) {
		const char *code = a->v[i].code, *leaf;
		char mcode[RPT_MERCHANT_MAX];
		size_t id = (size_t)a->v[i].id, len = strlen(code);
		struct merchant *m;
		RPT_ASSERT(id < n);
		r->charted[id] = len >= plen + 8 && strncmp(code, MERCHANT_PREFIX, plen) == 0 &&
		                 strcmp(code + len - 8, ":payable") == 0;
		if (strcmp(code, FEE_ACCOUNT) == 0) {
			r->role[id] = R_FEE;
			continue;
		}
		if (merchant_split(code, mcode, &leaf) != 0 || !(m = merchant_find(s, mcode)))
			continue;
		r->m[id] = m;
		r->role[id] = strcmp(leaf, "payable") == 0 ? R_PAYABLE
		              : strcmp(leaf, "reserve") == 0 ? R_RESERVE : R_MERCHANT_OTHER;
	}
	return LG_OK;
}

static void roles_release(struct roles *r)
{
	free(r->m);
	free(r->role);
	free(r->charted);
}

/* Merchant sales per day, net of fees: the payable credits of sales
 * (meta merchant, no meta type, not a reversal), gathered while scanning. */
struct day_sum {
	char date[11];
	amount_minor_t v;
};
struct days {
	struct day_sum *d;
	size_t n, cap;
};

static int days_add(struct days *ds, const char *date, amount_minor_t v, lg_error *err)
{
	size_t lo = 0, hi = ds->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ds->d[mid].date, date) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ds->n || strcmp(ds->d[lo].date, date) != 0) {
		if (ds->n == ds->cap) {
			size_t nc = ds->cap ? ds->cap * 2 : 64;
			struct day_sum *g = realloc(ds->d, nc * sizeof *g);
			if (!g)
				return lg_error_set(err, LG_EINTERNAL, "out of memory");
			ds->d = g;
			ds->cap = nc;
		}
		memmove(&ds->d[lo + 1], &ds->d[lo], (ds->n - lo) * sizeof *ds->d);
		snprintf(ds->d[lo].date, sizeof ds->d[lo].date, "%.10s", date);
		ds->d[lo].v = 0;
		ds->n++;
	}
	if (amount_add(ds->d[lo].v, v < 0 ? -v : v, &ds->d[lo].v) != 0)
		return lg_error_set(err, LG_EDATA, "daily sum overflows");
	return LG_OK;
}

static int days_chart(const struct days *ds, rpt_doc *doc, lg_error *err)
{
	rpt_chart *c;

	if (ds->n == 0)
		return LG_OK;
	c = rpt_doc_add_chart(doc, "daily_volume", "Merchant sales per day, net of fees",
	                      "", 2, ds->n, err);
	if (!c)
		return err->code;
	/* The latest days when there are more than a chart holds. */
	for (size_t i = 0; i < c->n; i++) {
		const struct day_sum *d = &ds->d[ds->n - c->n + i];
		snprintf(c->label[i], sizeof c->label[i], "%s", d->date);
		c->value_minor[i] = d->v;
	}
	return LG_OK;
}

/* One posting row of the scan: sorted into the transaction being built. */
static int scan_posting(struct tx_acc *tx, const struct roles *r, long long account,
                        amount_minor_t v, struct days *ds, int sale, lg_error *err)
{
	struct merchant *m = r->m[account];
	size_t k = 0;

	if (sale && r->charted[account]) {
		int rc = days_add(ds, tx->date, v, err);
		if (rc)
			return rc;
	}
	if (r->role[account] == R_FEE) {
		tx->fee_minor += v;
		return LG_OK;
	}
	if (!m)
		return LG_OK;
	while (k < tx->n && tx->p[k].m != m)
		k++;
	if (k == tx->n) {
		if (tx->n == TX_MERCHANTS_MAX)
			return lg_error_set(err, LG_EDATA, "transaction '%s' touches more than "
			                    "%d merchants", tx->id, TX_MERCHANTS_MAX);
		tx->p[tx->n++].m = m;
	}
	if (r->role[account] == R_PAYABLE)
		tx->p[k].payable_minor += v;
	else if (r->role[account] == R_RESERVE)
		tx->p[k].reserve_minor += v;
	return LG_OK;
}

/* Two statements walked together in journal order: the transactions (meta
 * read once each) and their postings (no JSON at all).  One joined query
 * would parse a transaction's metadata once per posting: three times the
 * work at a million transactions. */
static int scan(ledger *lg, const rpt_options *o, const struct rpt_accts *a,
                struct settlement *s, rpt_table *detail, rpt_doc *doc, lg_error *err)
{
	sqlite3_stmt *tst = NULL, *pst = NULL;
	struct roles r = { NULL, NULL, NULL };
	struct days ds = { NULL, 0, 0 };
	struct tx_acc tx;
	int rc = roles_load(a, s, &r, err), pstep = SQLITE_DONE, tstep;

	if (!rc)
		rc = rpt_prepare(lg, "SELECT t.seq, t.id, t.date, t.kind,"
		                 " COALESCE(json_extract(t.meta, '$.type'), ''),"
		                 " COALESCE((SELECT json_extract(r.meta, '$.type') FROM"
		                 " transactions r WHERE r.seq = t.ref_seq), ''),"
		                 " COALESCE(json_extract(t.meta, '$.merchant'), ''),"
		                 " json_extract(t.meta, '$.type') IS NULL"
		                 " FROM transactions t WHERE t.kind != 'pending'"
		                 " AND t.date BETWEEN ?1 AND ?2 ORDER BY t.seq", &tst, err);
	if (!rc)
		rc = rpt_prepare(lg, "SELECT p.tx_seq, p.account_id, p.amount FROM"
		                 " transactions t JOIN postings p ON p.tx_seq = t.seq"
		                 " WHERE t.kind != 'pending' AND t.date BETWEEN ?1 AND ?2"
		                 " ORDER BY t.seq, p.idx", &pst, err);
	if (rc)
		goto out;
	sqlite3_bind_text(tst, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(tst, 2, o->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(pst, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(pst, 2, o->to, -1, SQLITE_STATIC);
	pstep = sqlite3_step(pst);
	while ((tstep = sqlite3_step(tst)) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(tst, 0);
		int sale;
		memset(&tx, 0, sizeof tx);
		tx.only = o->account;
		tx.seq = seq;
		snprintf(tx.id, sizeof tx.id, "%s", sqlite3_column_text(tst, 1));
		snprintf(tx.date, sizeof tx.date, "%s", sqlite3_column_text(tst, 2));
		snprintf(tx.kind, sizeof tx.kind, "%s", sqlite3_column_text(tst, 3));
		snprintf(tx.type, sizeof tx.type, "%s", sqlite3_column_text(tst, 4));
		snprintf(tx.ref_type, sizeof tx.ref_type, "%s", sqlite3_column_text(tst, 5));
		snprintf(tx.merchant, sizeof tx.merchant, "%s", sqlite3_column_text(tst, 6));
		sale = strcmp(tx.kind, "reverse") != 0 && tx.merchant[0] &&
		       sqlite3_column_int(tst, 7) && (!o->account ||
		       strcmp(o->account, tx.merchant) == 0);
		/* Both statements read the same transactions in the same order. */
		RPT_ASSERT(pstep != SQLITE_ROW || sqlite3_column_int64(pst, 0) >= seq);
		for (; pstep == SQLITE_ROW && sqlite3_column_int64(pst, 0) == seq;
		     pstep = sqlite3_step(pst)) {
			long long account = sqlite3_column_int64(pst, 1);
			amount_minor_t v;
			if (account < 0 || account > a->id_max) {
				rc = lg_error_set(err, LG_EDATA, "a posting names no account");
				goto out;
			}
			rc = rpt_col_amount(pst, 2, &v, err);
			if (!rc)
				rc = scan_posting(&tx, &r, account, v, &ds, sale, err);
			if (rc)
				goto out;
		}
		if (tx.n && (rc = classify(&tx, detail, err)) != LG_OK)
			goto out;
	}
	if (tstep != SQLITE_DONE || (pstep != SQLITE_DONE && pstep != SQLITE_ROW)) {
		rc = rpt_sql_error(lg, err, "reading merchant postings");
		goto out;
	}
	RPT_ASSERT(pstep == SQLITE_DONE);
	rc = days_chart(&ds, doc, err);
out:
	sqlite3_finalize(tst);
	sqlite3_finalize(pst);
	roles_release(&r);
	free(ds.d);
	return rc;
}

static int payouts_table(ledger *lg, const rpt_options *o, rpt_doc *doc,
                         lg_error *err)
{
	static const char *const names[] = { "merchant", "payout_id", "date", "amount",
		                                     "asset", "pain002_status", "reason",
		                                     "reversed" };
	static const unsigned flags[] = { 0, 0, 0, RPT_NUMERIC, 0, 0, 0, 0 };
	rpt_table *t = rpt_doc_add_table(doc, "payouts", "Payouts and their pain.002 "
	                                 "status", 8, names, flags);
	int have_statuses = 0;
	sqlite3_stmt *st = NULL;
	int rc = rpt_table_exists(lg, "payment_statuses", &have_statuses, err);

	if (rc)
		return rc;
	/* The latest status the bank sent for the payout's end-to-end id. */
	rc = rpt_prepare(lg, have_statuses ?
	                 "SELECT json_extract(t.meta, '$.merchant'), t.id, t.date, p.amount,"
	                 " a.asset, s.scale, (SELECT ps.status FROM payment_statuses ps WHERE"
	                 " ps.orig_end_to_end_id = json_extract(t.meta, '$.payout_id')"
	                 " ORDER BY ps.id DESC LIMIT 1), (SELECT COALESCE(ps.reason_code, '')"
	                 " FROM payment_statuses ps WHERE ps.orig_end_to_end_id ="
	                 " json_extract(t.meta, '$.payout_id') ORDER BY ps.id DESC LIMIT 1),"
	                 " EXISTS(SELECT 1 FROM transactions v WHERE v.ref_seq = t.seq AND"
	                 " v.kind = 'reverse'), a.code FROM transactions t JOIN postings p ON"
	                 " p.tx_seq = t.seq JOIN accounts a ON a.id = p.account_id JOIN"
	                 " assets s ON s.code = a.asset WHERE t.kind != 'pending' AND"
	                 " t.kind != 'reverse' AND json_extract(t.meta, '$.type') = 'payout'"
	                 " AND t.date BETWEEN ?1 AND ?2 AND a.code LIKE"
	                 " 'liabilities:merchants:%:payable' AND (?3 IS NULL OR"
	                 " json_extract(t.meta, '$.merchant') = ?3) ORDER BY 1, t.date, t.seq"
	                 :
	                 "SELECT json_extract(t.meta, '$.merchant'), t.id, t.date, p.amount,"
	                 " a.asset, s.scale, NULL, '', EXISTS(SELECT 1 FROM transactions v"
	                 " WHERE v.ref_seq = t.seq AND v.kind = 'reverse'), a.code FROM"
	                 " transactions t JOIN postings p ON p.tx_seq = t.seq JOIN accounts a"
	                 " ON a.id = p.account_id JOIN assets s ON s.code = a.asset WHERE"
	                 " t.kind != 'pending' AND t.kind != 'reverse' AND"
	                 " json_extract(t.meta, '$.type') = 'payout' AND t.date BETWEEN ?1"
	                 " AND ?2 AND a.code LIKE 'liabilities:merchants:%:payable' AND"
	                 " (?3 IS NULL OR json_extract(t.meta, '$.merchant') = ?3)"
	                 " ORDER BY 1, t.date, t.seq", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->to, -1, SQLITE_STATIC);
	if (o->account)
		sqlite3_bind_text(st, 3, o->account, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char amt[AMOUNT_TEXT_MAX];
		amount_minor_t v;
		const char *status = (const char *)sqlite3_column_text(st, 6);
		rc = rpt_col_amount(st, 3, &v, err);
		if (rc)
			goto out;
		const char *row[] = { (const char *)sqlite3_column_text(st, 0),
			              (const char *)sqlite3_column_text(st, 1),
			              (const char *)sqlite3_column_text(st, 2),
			              rpt_amt(v, sqlite3_column_int(st, 5), amt),
			              (const char *)sqlite3_column_text(st, 4),
			              status ? status : "none yet",
			              (const char *)sqlite3_column_text(st, 7),
			              sqlite3_column_int(st, 8) ? "yes" : "no" };
		rc = rpt_table_add(t, row, err);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? LG_OK : rpt_sql_error(lg, err, "reading payouts");
out:
	sqlite3_finalize(st);
	return rc;
}

int rpt_settlement(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = {
		"merchant", "name", "asset", "opening", "gross_sales", "refunds_reversals",
		"processing_fees", "reserve_held", "reserve_released", "adjustments",
		"payouts", "payouts_returned", "net_payable", "reserve_balance" };
	static const unsigned flags[] = { 0, 0, 0, RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC,
		RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC,
		RPT_NUMERIC, RPT_NUMERIC, RPT_NUMERIC };
	static const char *const dnames[] = { "merchant", "date", "transaction", "kind",
		                                      "figure", "amount" };
	static const unsigned dflags[] = { 0, 0, 0, 0, 0, RPT_NUMERIC };
	struct rpt_accts a;
	struct settlement s = { NULL, 0 };
	rpt_table *t, *detail = NULL;
	int rc;

	doc->title = "Merchant settlement";
	rc = rpt_accts_load(lg, o->from, o->to, &a, err);
	if (!rc)
		rc = merchants_load(&a, &s, err);
	if (!rc && o->account && !merchant_find(&s, o->account))
		rc = lg_error_set(err, LG_ENOINPUT, "no merchant '%s'", o->account);
	if (rc)
		goto out;
	t = rpt_doc_add_table(doc, "merchants", "Settlement per merchant", 14, names, flags);
	rc = payouts_table(lg, o, doc, err);
	if (!rc && o->detail)
		detail = rpt_doc_add_table(doc, "detail", "Transactions behind the figures",
		                           6, dnames, dflags);
	if (!rc)
		rc = scan(lg, o, &a, &s, detail, doc, err);
	for (size_t i = 0; i < s.n && !rc; i++) {
		struct merchant *m = &s.m[i];
		const struct rpt_acct *p = m->payable;
		char b[F_N + 3][AMOUNT_TEXT_MAX];
		amount_minor_t open, close, sum;
		if (!p || (o->account && strcmp(o->account, m->code) != 0))
			continue;
		open = -p->opening_minor;
		close = -(p->opening_minor + p->debit_minor + p->credit_minor);
		sum = open;
		for (int f = 0; f < F_N; f++)
			sum += m->fig[f];
		/* Every posting to the payable was sorted into one figure. */
		RPT_ASSERT(sum == close);
		if (p->postings == 0 && open == 0)
			continue;
		amount_minor_t rbal = m->reserve ? -(m->reserve->opening_minor +
		                      m->reserve->debit_minor + m->reserve->credit_minor) : 0;
		const char *row[14] = { m->code, m->name, p->asset,
			                rpt_amt(open, p->scale, b[0]) };
		for (int f = 0; f < F_N; f++)
			row[4 + f] = rpt_amt(m->fig[f], p->scale, b[1 + f]);
		row[12] = rpt_amt(close, p->scale, b[F_N + 1]);
		row[13] = rpt_amt(rbal, p->scale, b[F_N + 2]);
		rc = rpt_table_add(t, row, err);
	}
out:
	settlement_release(&s);
	rpt_accts_release(&a);
	return rc;
}

/* --- posting payouts ----------------------------------------------------- */

static int tx_exists(ledger *lg, const char *id, int *exists, lg_error *err)
{
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT 1 FROM transactions WHERE id = ?1", &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? LG_OK
	     : rpt_sql_error(lg, err, "looking up a payout");
	sqlite3_finalize(st);
	return rc;
}

static int post_payout(ledger *lg, const char *date, const struct merchant *m,
                       const char *payout_id, amount_minor_t owed, lg_error *err)
{
	char amt[AMOUNT_TEXT_MAX], neg[AMOUNT_TEXT_MAX], memo[LG_MEMO_MAX];
	json_t *tx, *postings;
	char *text;
	int replayed = 0, rc;

	RPT_ASSERT(owed > 0);
	snprintf(memo, sizeof memo, "merchant payout %s", m->name && m->name[0] ? m->name
	         : m->code);
	postings = json_pack("[{s:s,s:s},{s:s,s:s}]",
	                     "account", m->payable->code,
	                     "amount", rpt_amt(owed, m->payable->scale, amt),
	                     "account", IN_TRANSIT_ACCOUNT,
	                     "amount", rpt_amt(-owed, m->payable->scale, neg));
	tx = json_pack("{s:s,s:s,s:s,s:o,s:{s:s,s:s,s:s}}", "id", payout_id, "date", date,
	               "memo", memo, "postings", postings, "meta", "type", "payout",
	               "merchant", m->code, "payout_id", payout_id);
	text = tx ? json_dumps(tx, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(tx);
	if (!text)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	rc = ledger_post_json(lg, text, strlen(text), &replayed, NULL, err);
	free(text);
	RPT_ASSERT(rc || !replayed); /* tx_exists said it was new */
	return rc;
}

int rpt_settle(ledger *lg, const char *date, rpt_settle_result *res, lg_error *err)
{
	struct rpt_accts a;
	struct settlement s = { NULL, 0 };
	int rc;

	memset(res, 0, sizeof *res);
	if (!date || !ledger_date_valid(date))
		return lg_error_set(err, LG_EUSAGE, "--date '%s' is not a date YYYY-MM-DD",
		                    date ? date : "");
	rc = rpt_accts_load(lg, date, date, &a, err);
	if (!rc)
		rc = merchants_load(&a, &s, err);
	if (!rc)
		rc = ledger_begin(lg, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < s.n && !rc; i++) {
		const struct merchant *m = &s.m[i];
		const struct rpt_acct *p = m->payable;
		char id[96];
		int exists = 0;
		if (!p)
			continue;
		res->merchants++;
		/* The balance at the end of the day, owed to the merchant when the
		 * liability has a credit balance. */
		amount_minor_t owed = -(p->opening_minor + p->debit_minor + p->credit_minor);
		snprintf(id, sizeof id, "PO-%.4s%.2s%.2s-%s", date, date + 5, date + 8, m->code);
		if (strlen(id) > RPT_PAYOUT_ID_MAX) {
			rc = lg_error_set(err, LG_EDATA, "payout id '%s' is longer than %d "
			                  "characters (pain.001 EndToEndId)", id, RPT_PAYOUT_ID_MAX);
			break;
		}
		rc = tx_exists(lg, id, &exists, err);
		if (rc)
			break;
		if (exists) {
			res->replayed++;
			continue;
		}
		if (owed <= 0) {
			res->nothing_owed++;
			continue;
		}
		rc = post_payout(lg, date, m, id, owed, err);
		if (!rc)
			res->posted++;
	}
	if (!rc)
		rc = ledger_commit(lg, err);
	else
		ledger_rollback(lg);
out:
	settlement_release(&s);
	rpt_accts_release(&a);
	return rc;
}
