/*
 * query.c - reading the ledger: balances with roll-ups, the journal, and
 * verify, which recomputes the hash chain and every stored balance.
 */
#include "ledger_int.h"

#include <string.h>

/* --- balances ---------------------------------------------------------- */

struct bal_entry {
	char *code;          /* owned */
	const char *asset;   /* points into the entry's own asset buffer */
	char asset_buf[LG_ASSET_CODE_MAX + 1];
	int scale;
	int is_rollup;
	amount_minor_t posted, pending, available;
};

struct bal_list {
	struct bal_entry *v;
	size_t n, cap;
};

/* Account codes sort as a tree: ':' before every other character. */
static int code_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = *a == ':' ? 1 : (unsigned char)*a;
		int cb = *b == ':' ? 1 : (unsigned char)*b;
		if (ca != cb || ca == 0)
			return ca - cb;
	}
}

static int entry_cmp(const void *x, const void *y)
{
	const struct bal_entry *a = x, *b = y;
	int c = code_cmp(a->code, b->code);
	return c ? c : strcmp(a->asset_buf, b->asset_buf);
}

static int bal_push(struct bal_list *l, const char *code, size_t code_len,
                    const char *asset, int scale, int rollup, amount_minor_t posted,
                    amount_minor_t pending, amount_minor_t available)
{
	struct bal_entry *e;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		void *p = realloc(l->v, ncap * sizeof *l->v);
		if (!p)
			return -1;
		l->v = p;
		l->cap = ncap;
	}
	e = &l->v[l->n];
	e->code = strndup(code, code_len);
	if (!e->code)
		return -1;
	snprintf(e->asset_buf, sizeof e->asset_buf, "%s", asset);
	e->scale = scale;
	e->is_rollup = rollup;
	e->posted = posted;
	e->pending = pending;
	e->available = available;
	l->n++;
	return 0;
}

static void bal_free(struct bal_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].code);
	free(l->v);
}

/* Adds an account and one roll-up entry per ancestor at or below prefix. */
static int bal_add_account(struct bal_list *l, size_t prefix_len,
                           const struct lg_acct *a)
{
	amount_minor_t pending = a->pending_dr + a->pending_cr;
	amount_minor_t avail = lg_available(a);
	size_t len = strlen(a->code);

	for (size_t i = 0; i < len; i++) {
		if (a->code[i] != ':' || i < prefix_len)
			continue;
		if (bal_push(l, a->code, i, a->asset, a->scale, 1, a->posted, pending, avail))
			return -1;
	}
	return bal_push(l, a->code, len, a->asset, a->scale, 0, a->posted, pending, avail);
}

static const char *const bal_now_sql =
	"SELECT a.code, a.asset, s.scale, a.type, b.posted, b.pending_dr, b.pending_cr"
	" FROM accounts a JOIN assets s ON s.code = a.asset"
	" LEFT JOIN balances b ON b.account_id = a.id"
	" WHERE ?1 IS NULL OR a.code = ?1 OR substr(a.code, 1, length(?1) + 1) = ?1 || ':'";

/* Accounts alone, for balances recomputed from the postings. */
static const char *const bal_accounts_sql =
	"SELECT a.code, a.asset, s.scale, a.type, a.id"
	" FROM accounts a JOIN assets s ON s.code = a.asset"
	" WHERE ?1 IS NULL OR a.code = ?1 OR substr(a.code, 1, length(?1) + 1) = ?1 || ':'";

static amount_minor_t col_amount(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) != SQLITE_BLOB)
		return 0;
	LG_ASSERT(sqlite3_column_bytes(st, col) == AMOUNT_BLOB_BYTES);
	return amount_decode(sqlite3_column_blob(st, col));
}

static int collect_balances(ledger *lg, const char *prefix, const char *at,
                            struct bal_list *l, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	struct lg_sums *sums = NULL;
	long long sums_n = 0;
	size_t prefix_len = prefix ? strlen(prefix) : 0;
	int rc;

	if (at) {
		rc = lg_recompute(lg, at, &sums, &sums_n, err);
		if (rc)
			return rc;
	}
	if (sqlite3_prepare_v2(lg->db, at ? bal_accounts_sql : bal_now_sql, -1, &st,
	                       NULL) != SQLITE_OK) {
		free(sums);
		return lg_sql_error(lg, err, "reading balances");
	}
	if (prefix)
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct lg_acct a;
		memset(&a, 0, sizeof a);
		a.code = (char *)sqlite3_column_text(st, 0);
		snprintf(a.asset, sizeof a.asset, "%s", sqlite3_column_text(st, 1));
		a.scale = sqlite3_column_int(st, 2);
		LG_ASSERT(lg_acct_type_parse((const char *)sqlite3_column_text(st, 3),
		                             &a.type) == 0);
		if (at) {
			long long id = sqlite3_column_int64(st, 4);
			if (id >= 0 && id < sums_n) {
				a.posted = sums[id].posted;
				a.pending_dr = sums[id].pending_dr;
				a.pending_cr = sums[id].pending_cr;
			}
		} else {
			a.posted = col_amount(st, 4);
			a.pending_dr = col_amount(st, 5);
			a.pending_cr = col_amount(st, 6);
		}
		if (bal_add_account(l, prefix_len, &a) != 0) {
			rc = -1;
			break;
		}
	}
	sqlite3_finalize(st);
	free(sums);
	if (rc == -1)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "reading balances");
}

/* Ids of the holds that a commit, void or expire dated on or before `at`
 * (NULL: ever) ended, sorted. */
static int ended_holds(ledger *lg, const char *at, long long **out, size_t *n_out,
                       lg_error *err)
{
	sqlite3_stmt *st = NULL;
	long long *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT ref_seq FROM transactions WHERE kind IN"
	                       " ('commit','void','expire') AND (?1 IS NULL OR date <= ?1)"
	                       " ORDER BY ref_seq", -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading holds");
	if (at)
		sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			long long *p = realloc(v, ncap * sizeof *v);
			if (!p) {
				free(v);
				sqlite3_finalize(st);
				return lg_error_set(err, LG_EINTERNAL, "out of memory");
			}
			v = p;
			cap = ncap;
		}
		v[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return lg_sql_error(lg, err, "reading holds");
	}
	*out = v;
	*n_out = n;
	return LG_OK;
}

static int seq_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static int sums_add(struct lg_sums *s, amount_minor_t amount, int pending, int ended)
{
	if (!pending)
		return amount_add(s->posted, amount, &s->posted);
	if (ended)
		return 0;
	return amount > 0 ? amount_add(s->pending_dr, amount, &s->pending_dr)
	                  : amount_add(s->pending_cr, amount, &s->pending_cr);
}

/*
 * One pass over every posting, summed per account id in memory.  The
 * postings table is keyed by transaction, not by account: keeping an
 * account index up to date made posting a million transactions thrash the
 * page cache, while one scan answers every per-account question at once.
 */
int lg_recompute(ledger *lg, const char *at, struct lg_sums **out,
                 long long *n_out, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	struct lg_sums *sums = NULL;
	long long *ended = NULL, n = 0;
	size_t ended_n = 0;
	int rc;

	*out = NULL;
	*n_out = 0;
	rc = ended_holds(lg, at, &ended, &ended_n, err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(lg->db, "SELECT coalesce(max(id), 0) + 1 FROM accounts",
	                       -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		rc = lg_sql_error(lg, err, "reading accounts");
		goto out;
	}
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	sums = calloc((size_t)n, sizeof *sums);
	if (!sums) {
		rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(lg->db, "SELECT p.account_id, p.amount, t.kind = 'pending',"
	                       " t.seq FROM transactions t JOIN postings p ON p.tx_seq = t.seq"
	                       " WHERE ?1 IS NULL OR t.date <= ?1", -1, &st, NULL) != SQLITE_OK) {
		rc = lg_sql_error(lg, err, "reading postings");
		goto out;
	}
	if (at)
		sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 3);
		int pending = sqlite3_column_int(st, 2);
		int is_ended = pending && ended_n > 0 &&
		               bsearch(&seq, ended, ended_n, sizeof *ended, seq_cmp);
		if (id < 0 || id >= n || sqlite3_column_bytes(st, 1) != AMOUNT_BLOB_BYTES) {
			rc = lg_error_set(err, LG_EDATA, "posting of seq %lld names no account "
			                  "or holds no 16-byte amount", seq);
			goto out;
		}
		if (sums_add(&sums[id], amount_decode(sqlite3_column_blob(st, 1)), pending,
		             is_ended)) {
			rc = lg_error_set(err, LG_EDATA, "a balance overflows 128 bits");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = lg_sql_error(lg, err, "reading postings");
		goto out;
	}
	*out = sums;
	*n_out = n;
	sums = NULL;
	rc = LG_OK;
out:
	sqlite3_finalize(st);
	free(ended);
	free(sums);
	return rc;
}

int ledger_balances(ledger *lg, const char *prefix, const char *at_date,
                    ledger_balance_fn fn, void *ctx, lg_error *err)
{
	struct bal_list l = { NULL, 0, 0 };
	size_t i, j;
	int rc;

	if (at_date && !ledger_date_valid(at_date))
		return lg_error_set(err, LG_EUSAGE, "date '%s' is not YYYY-MM-DD", at_date);
	rc = collect_balances(lg, prefix, at_date, &l, err);
	if (rc)
		goto out;
	if (l.n > 0)
		qsort(l.v, l.n, sizeof *l.v, entry_cmp);
	/* Merge equal (code, asset) entries: roll-ups sum their subtree. */
	for (i = 0; i < l.n; i = j) {
		ledger_balance_row row;
		struct bal_entry *e = &l.v[i];
		row.account = e->code;
		row.asset = e->asset_buf;
		row.scale = e->scale;
		row.is_rollup = e->is_rollup;
		row.posted_minor = e->posted;
		row.pending_minor = e->pending;
		row.available_minor = e->available;
		for (j = i + 1; j < l.n && entry_cmp(e, &l.v[j]) == 0; j++) {
			row.is_rollup |= l.v[j].is_rollup;
			if (amount_add(row.posted_minor, l.v[j].posted, &row.posted_minor) ||
			    amount_add(row.pending_minor, l.v[j].pending, &row.pending_minor) ||
			    amount_add(row.available_minor, l.v[j].available,
			               &row.available_minor)) {
				rc = lg_error_set(err, LG_EDATA, "roll-up '%s' overflows 128 bits",
				                  e->code);
				goto out;
			}
		}
		rc = fn(ctx, &row);
		if (rc)
			goto out;
	}
out:
	bal_free(&l);
	return rc;
}

/* --- journal and verify share one row reader ---------------------------- */

struct jtx {
	long long seq, ref_seq;
	char id[LG_ID_MAX + 17];
	char kind[16];
	char ref_id[LG_ID_MAX + 17];
	char date[11];
	char booked_at[LG_TS_MAX];
	char expires_at[LG_TS_MAX];
	int has_expiry, has_ref;
	char memo[LG_MEMO_MAX + 1];
	char meta[LG_META_MAX + 1];
	unsigned char hash[LG_HASH_BYTES];
	int n;
	char account[LG_POSTINGS_MAX][LG_CODE_MAX + 1];
	char asset[LG_POSTINGS_MAX][LG_ASSET_CODE_MAX + 1];
	int scale[LG_POSTINGS_MAX];
	amount_minor_t amount[LG_POSTINGS_MAX];
};

#define JCOLS "t.seq, t.id, t.kind, t.ref_seq, r.id, t.date, t.booked_at," \
              " t.expires_at, t.memo, t.meta, t.hash, a.code, a.asset, s.scale," \
              " p.amount"
#define JFROM " FROM transactions t LEFT JOIN transactions r ON r.seq = t.ref_seq" \
              " LEFT JOIN postings p ON p.tx_seq = t.seq" \
              " LEFT JOIN accounts a ON a.id = p.account_id" \
              " LEFT JOIN assets s ON s.code = a.asset"

static void text_col(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* Starts a new transaction from the current row. */
static void jtx_head(sqlite3_stmt *st, struct jtx *t)
{
	t->seq = sqlite3_column_int64(st, 0);
	text_col(st, 1, t->id, sizeof t->id);
	text_col(st, 2, t->kind, sizeof t->kind);
	t->has_ref = sqlite3_column_type(st, 3) != SQLITE_NULL;
	t->ref_seq = t->has_ref ? sqlite3_column_int64(st, 3) : 0;
	text_col(st, 4, t->ref_id, sizeof t->ref_id);
	text_col(st, 5, t->date, sizeof t->date);
	text_col(st, 6, t->booked_at, sizeof t->booked_at);
	t->has_expiry = sqlite3_column_type(st, 7) != SQLITE_NULL;
	text_col(st, 7, t->expires_at, sizeof t->expires_at);
	text_col(st, 8, t->memo, sizeof t->memo);
	text_col(st, 9, t->meta, sizeof t->meta);
	memset(t->hash, 0, LG_HASH_BYTES);
	if (sqlite3_column_bytes(st, 10) == LG_HASH_BYTES)
		memcpy(t->hash, sqlite3_column_blob(st, 10), LG_HASH_BYTES);
	t->n = 0;
}

/* Adds the current row's posting, if it has one; -1 past the bound. */
static int jtx_posting(sqlite3_stmt *st, struct jtx *t)
{
	if (sqlite3_column_type(st, 14) == SQLITE_NULL)
		return 0;
	if (t->n >= LG_POSTINGS_MAX)
		return -1;
	text_col(st, 11, t->account[t->n], sizeof t->account[0]);
	text_col(st, 12, t->asset[t->n], sizeof t->asset[0]);
	t->scale[t->n] = sqlite3_column_int(st, 13);
	t->amount[t->n] = sqlite3_column_bytes(st, 14) == AMOUNT_BLOB_BYTES
	                  ? amount_decode(sqlite3_column_blob(st, 14)) : 0;
	t->n++;
	return 0;
}

typedef int (*jtx_fn)(void *ctx, const struct jtx *t);

/* Steps a JCOLS query ordered by seq, idx and calls fn once per
 * transaction. */
static int jtx_walk(ledger *lg, sqlite3_stmt *st, jtx_fn fn, void *ctx,
                    lg_error *err)
{
	struct jtx *t = malloc(sizeof *t);
	int have = 0, rc;

	if (!t)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		if (!have || seq != t->seq) {
			if (have && (rc = fn(ctx, t)) != 0)
				goto out;
			jtx_head(st, t);
			have = 1;
		}
		if (jtx_posting(st, t) != 0) {
			rc = lg_error_set(err, LG_EDATA, "transaction seq %lld has more than "
			                  "%d postings", seq, LG_POSTINGS_MAX);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = lg_sql_error(lg, err, "reading the journal");
		goto out;
	}
	rc = have ? fn(ctx, t) : LG_OK;
out:
	free(t);
	return rc;
}

struct journal_ctx {
	ledger_tx_fn fn;
	void *ctx;
};

static int journal_emit(void *p, const struct jtx *t)
{
	struct journal_ctx *jc = p;
	ledger_posting_row rows[LG_POSTINGS_MAX];
	ledger_tx_row tx;
	char hex[LG_HASH_HEX];

	for (int i = 0; i < t->n; i++) {
		rows[i].account = t->account[i];
		rows[i].asset = t->asset[i];
		rows[i].scale = t->scale[i];
		rows[i].amount_minor = t->amount[i];
	}
	lg_hex(t->hash, LG_HASH_BYTES, hex);
	tx.seq = t->seq;
	tx.id = t->id;
	tx.kind = t->kind;
	tx.ref_id = t->has_ref ? t->ref_id : NULL;
	tx.date = t->date;
	tx.booked_at = t->booked_at;
	tx.expires_at = t->has_expiry ? t->expires_at : NULL;
	tx.memo = t->memo;
	tx.meta = t->meta;
	tx.hash_hex = hex;
	tx.postings_n = t->n;
	tx.postings = rows;
	return jc->fn(jc->ctx, &tx);
}

int ledger_journal(ledger *lg, const char *from, const char *to,
                   const char *account, ledger_tx_fn fn, void *ctx,
                   lg_error *err)
{
	struct journal_ctx jc = { fn, ctx };
	sqlite3_stmt *st = NULL;
	int rc;

	if ((from && !ledger_date_valid(from)) || (to && !ledger_date_valid(to)))
		return lg_error_set(err, LG_EUSAGE, "--from and --to take dates YYYY-MM-DD");
	if (sqlite3_prepare_v2(lg->db, "SELECT " JCOLS JFROM
	                       " WHERE (?1 IS NULL OR t.date >= ?1)"
	                       " AND (?2 IS NULL OR t.date <= ?2)"
	                       " AND (?3 IS NULL OR t.seq IN (SELECT p2.tx_seq FROM"
	                       " postings p2 JOIN accounts a2 ON a2.id = p2.account_id"
	                       " WHERE a2.code = ?3"
	                       " OR substr(a2.code, 1, length(?3) + 1) = ?3 || ':'))"
	                       " ORDER BY t.seq, p.idx", -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading the journal");
	if (from)
		sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	if (to)
		sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	if (account)
		sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
	rc = jtx_walk(lg, st, journal_emit, &jc, err);
	sqlite3_finalize(st);
	return rc;
}

/* --- verify ------------------------------------------------------------ */

struct verify_ctx {
	ledger *lg;
	ledger_verify_result *res;
	unsigned char prev[LG_HASH_BYTES];
};

static int verify_one(void *p, const struct jtx *t)
{
	struct verify_ctx *vc = p;
	ledger_verify_result *res = vc->res;
	struct lg_tx_view v;
	unsigned char h[LG_HASH_BYTES];

	if (t->seq != res->transactions + 1) {
		res->broken_seq = res->transactions + 1;
		snprintf(res->problem, sizeof res->problem, "sequence gap: seq %lld is "
		         "followed by seq %lld", res->transactions, t->seq);
		return LG_ECHECK;
	}
	memset(&v, 0, sizeof v);
	v.seq = t->seq;
	v.id = t->id;
	v.kind = t->kind;
	v.ref_seq = t->ref_seq;
	v.date = t->date;
	v.booked_at = t->booked_at;
	v.expires_at = t->expires_at;
	v.memo = t->memo;
	v.meta = t->meta;
	v.n = t->n;
	for (int i = 0; i < t->n; i++) {
		v.account[i] = t->account[i];
		v.asset[i] = t->asset[i];
		v.amount[i] = t->amount[i];
	}
	if (lg_hash_chain(vc->lg, vc->prev, &v, h) != 0 ||
	    memcmp(h, t->hash, LG_HASH_BYTES) != 0) {
		res->broken_seq = t->seq;
		snprintf(res->problem, sizeof res->problem, "seq %lld ('%s'): stored hash "
		         "does not match its content and the previous hash", t->seq, t->id);
		return LG_ECHECK;
	}
	memcpy(vc->prev, h, LG_HASH_BYTES);
	res->transactions = t->seq;
	return LG_OK;
}

/* Stored balances against a recomputation from the postings. */
static int verify_balances(ledger *lg, ledger_verify_result *res, lg_error *err)
{
	static const char *const what[] = { "posted", "held debit", "held credit" };
	sqlite3_stmt *st = NULL;
	struct lg_sums *sums = NULL;
	long long n = 0;
	int rc = lg_recompute(lg, NULL, &sums, &n, err);

	if (rc)
		return rc;
	if (sqlite3_prepare_v2(lg->db, "SELECT a.code, s.scale, b.posted, b.pending_dr,"
	                       " b.pending_cr, a.id FROM accounts a JOIN assets s"
	                       " ON s.code = a.asset LEFT JOIN balances b"
	                       " ON b.account_id = a.id ORDER BY a.code", -1, &st,
	                       NULL) != SQLITE_OK) {
		free(sums);
		return lg_sql_error(lg, err, "recomputing balances");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 5);
		struct lg_sums zero = { 0, 0, 0 };
		const struct lg_sums *x = id >= 0 && id < n ? &sums[id] : &zero;
		amount_minor_t actual[3] = { x->posted, x->pending_dr, x->pending_cr };
		for (int k = 0; k < 3; k++) {
			amount_minor_t stored = col_amount(st, 2 + k);
			char a[AMOUNT_TEXT_MAX], b[AMOUNT_TEXT_MAX];
			if (stored == actual[k])
				continue;
			amount_format(stored, sqlite3_column_int(st, 1), a, sizeof a);
			amount_format(actual[k], sqlite3_column_int(st, 1), b, sizeof b);
			snprintf(res->problem, sizeof res->problem, "account '%s': stored %s "
			         "balance %s but its postings sum to %s",
			         sqlite3_column_text(st, 0), what[k], a, b);
			sqlite3_finalize(st);
			free(sums);
			return LG_ECHECK;
		}
	}
	sqlite3_finalize(st);
	free(sums);
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "recomputing balances");
}

/* Each closed period recorded the chain head: it must still be the hash
 * at that sequence number. */
static int verify_closes(ledger *lg, ledger_verify_result *res, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT c.period, c.head_seq FROM period_closes c"
	                       " LEFT JOIN transactions t ON t.seq = c.head_seq"
	                       " WHERE c.head_seq > 0 AND (t.hash IS NULL"
	                       " OR t.hash <> c.head_hash) ORDER BY c.period LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading closed periods");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		res->broken_seq = sqlite3_column_int64(st, 1);
		snprintf(res->problem, sizeof res->problem, "period %s was closed at chain "
		         "head seq %lld, whose hash has since changed",
		         sqlite3_column_text(st, 0), res->broken_seq);
		sqlite3_finalize(st);
		return LG_ECHECK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "reading closed periods");
}

int ledger_verify(ledger *lg, ledger_verify_result *res, lg_error *err)
{
	struct verify_ctx vc;
	sqlite3_stmt *st = NULL;
	int rc;

	memset(res, 0, sizeof *res);
	memset(&vc, 0, sizeof vc);
	vc.lg = lg;
	vc.res = res;
	/* One read transaction: a consistent snapshot even while others post. */
	rc = lg_exec(lg, "BEGIN", err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(lg->db, "SELECT " JCOLS JFROM " ORDER BY t.seq, p.idx",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = lg_sql_error(lg, err, "reading the journal");
		goto out;
	}
	rc = jtx_walk(lg, st, verify_one, &vc, err);
	sqlite3_finalize(st);
	lg_hex(vc.prev, LG_HASH_BYTES, res->head_hex);
	if (!rc)
		rc = verify_balances(lg, res, err);
	if (!rc)
		rc = verify_closes(lg, res, err);
out:
	sqlite3_exec(lg->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}
