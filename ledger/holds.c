/*
 * holds.c - the transactions that end or mirror other transactions: hold
 * commit, void and expiry, reversals; and closing a period.
 *
 * Each runs in its own database transaction (the hold's commit and void
 * also have variants that run inside the caller's).  The database's unique
 * indexes (tx_hold_end, tx_reversal) make "exactly once" hold even when two
 * processes race: BEGIN IMMEDIATE serialises them, the index refuses the
 * second.
 */
#include "ledger_int.h"

#include <jansson.h>
#include <string.h>

struct stored_tx {
	long long seq;
	char kind[16];
	char date[11];
	char expires_at[LG_TS_MAX];
	int n;
	struct lg_posting p[LG_POSTINGS_MAX];
};

static int load_postings(ledger *lg, struct stored_tx *t, lg_error *err)
{
	sqlite3_stmt *st = lg_stmt(lg, ST_POSTINGS_OF);
	char codes[LG_POSTINGS_MAX][LG_CODE_MAX + 1];
	int rc, n = 0;

	if (!st)
		return lg_sql_error(lg, err, "reading postings");
	sqlite3_bind_int64(st, 1, t->seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		LG_ASSERT(n < LG_POSTINGS_MAX);
		LG_ASSERT(sqlite3_column_bytes(st, 1) == AMOUNT_BLOB_BYTES);
		snprintf(codes[n], sizeof codes[n], "%s", sqlite3_column_text(st, 0));
		t->p[n].amount = amount_decode(sqlite3_column_blob(st, 1));
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "reading postings");
	/* Resolve accounts after the statement is done: lg_account_get reuses
	 * other prepared statements. */
	for (int i = 0; i < n; i++) {
		rc = lg_account_get(lg, codes[i], &t->p[i].acct, err);
		if (rc)
			return rc;
	}
	t->n = n;
	return LG_OK;
}

/* Loads transaction `id`; LG_ENOINPUT if there is none. */
static int load_tx(ledger *lg, const char *id, struct stored_tx *t, lg_error *err)
{
	sqlite3_stmt *st = lg_stmt(lg, ST_TX_BY_ID);
	int rc;

	if (!st)
		return lg_sql_error(lg, err, "reading the journal");
	memset(t, 0, sizeof *t);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t->seq = sqlite3_column_int64(st, 0);
		snprintf(t->kind, sizeof t->kind, "%s", sqlite3_column_text(st, 1));
		snprintf(t->date, sizeof t->date, "%s", sqlite3_column_text(st, 3));
		if (sqlite3_column_type(st, 4) == SQLITE_TEXT)
			snprintf(t->expires_at, sizeof t->expires_at, "%s",
			         sqlite3_column_text(st, 4));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return lg_error_set(err, LG_ENOINPUT, "transaction '%s' does not exist", id);
	if (rc != SQLITE_ROW)
		return lg_sql_error(lg, err, "reading the journal");
	return load_postings(lg, t, err);
}

/* Names what already ended or reversed `seq`, or "" when nothing has. */
static int find_end(ledger *lg, long long seq, const char *kinds_sql,
                    char *kind_out, size_t cap, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	kind_out[0] = '\0';
	if (sqlite3_prepare_v2(lg->db, kinds_sql, -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading the journal");
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(kind_out, cap, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "reading the journal");
	return LG_OK;
}

static const char *const end_sql =
	"SELECT kind FROM transactions WHERE ref_seq = ?1"
	" AND kind IN ('commit', 'void', 'expire')";

static const char *ended_word(const char *kind)
{
	return strcmp(kind, "commit") == 0 ? "committed"
	       : strcmp(kind, "void") == 0 ? "voided" : "expired";
}

/* Loads a hold that may still be ended. */
static int open_hold(ledger *lg, const char *id, struct stored_tx *h,
                     int allow_expired, lg_error *err)
{
	char ended[16];
	int rc = load_tx(lg, id, h, err);

	if (rc)
		return rc;
	if (strcmp(h->kind, "pending") != 0)
		return lg_error_set(err, LG_EDATA, "transaction '%s' is not a hold "
		                    "(it is %s)", id, h->kind);
	rc = find_end(lg, h->seq, end_sql, ended, sizeof ended, err);
	if (rc)
		return rc;
	if (ended[0])
		return lg_error_set(err, LG_EDATA, "hold '%s' was already %s", id,
		                    ended_word(ended));
	if (!allow_expired && h->expires_at[0] && strcmp(h->expires_at, lg->now) <= 0)
		return lg_error_set(err, LG_EDATA, "hold '%s' expired at %s", id,
		                    h->expires_at);
	return LG_OK;
}

static void init_end_tx(ledger *lg, struct lg_tx *tx, const char *id,
                        const char *suffix, enum lg_kind kind, long long ref,
                        const char *date)
{
	memset(tx, 0, sizeof *tx);
	snprintf(tx->id, sizeof tx->id, "%s:%s", id, suffix);
	tx->kind = kind;
	tx->ref_seq = ref;
	snprintf(tx->date, sizeof tx->date, "%s", date ? date : lg->today);
	tx->memo = "";
	tx->meta = "{}";
}

/* Sets the partial amounts of a two-posting hold. */
static int partial_amounts(const char *id, const struct stored_tx *h,
                           const char *amount_text, struct lg_tx *tx,
                           lg_error *err)
{
	char why[128], held[AMOUNT_TEXT_MAX];
	amount_minor_t x;
	int pos = h->p[0].amount > 0 ? 0 : 1;
	const struct lg_acct *a = h->p[pos].acct;

	if (h->n != 2)
		return lg_error_set(err, LG_EDATA, "hold '%s' has %d postings; a partial "
		                    "commit needs exactly two", id, h->n);
	if (amount_parse(amount_text, strlen(amount_text), a->scale, &x, why,
	                 sizeof why) != 0)
		return lg_error_set(err, LG_EDATA, "amount '%s' is not an exact %s amount: "
		                    "%s", amount_text, a->asset, why);
	amount_format(h->p[pos].amount, a->scale, held, sizeof held);
	if (x <= 0)
		return lg_error_set(err, LG_EDATA, "amount '%s' must be positive",
		                    amount_text);
	if (x > h->p[pos].amount)
		return lg_error_set(err, LG_EDATA, "committing %s exceeds the %s %s held "
		                    "by '%s'", amount_text, held, a->asset, id);
	tx->p[pos].amount = x;
	tx->p[1 - pos].amount = -x;
	return LG_OK;
}

/*
 * The end of a hold inside the caller's database transaction, so that the
 * caller's own records of it (the front's purchase status and idempotency
 * answer) commit or vanish together with it.  Refusals (LG_EDATA,
 * LG_ENOINPUT) leave nothing behind, as in ledger_post_json: open_hold and
 * partial_amounts only read, and lg_append_release restores the balances it
 * moved before it refuses.
 */
static int hold_end_in_tx(ledger *lg, const char *id, const char *amount_text,
                          const char *date, enum lg_kind kind, lg_error *err)
{
	struct stored_tx h;
	struct lg_tx tx;
	long long head = lg->head_seq;
	int replayed, rc;

	LG_ASSERT(lg->in_tx);
	if (date && !ledger_date_valid(date))
		return lg_error_set(err, LG_EUSAGE, "date '%s' is not YYYY-MM-DD", date);
	rc = lg_batch_trim(lg, err);
	if (!rc)
		rc = open_hold(lg, id, &h, 0, err);
	if (rc)
		return rc;
	init_end_tx(lg, &tx, id, lg_kind_name(kind), kind, h.seq, date);
	if (kind == LG_KIND_COMMIT) {
		tx.n = h.n;
		memcpy(tx.p, h.p, sizeof(struct lg_posting) * (size_t)h.n);
		if (amount_text)
			rc = partial_amounts(id, &h, amount_text, &tx, err);
		if (rc)
			return rc;
	}
	rc = lg_append_release(lg, &tx, h.p, h.n, &replayed, err);
	/* open_hold saw no end, so a replay here would mean a broken index */
	LG_ASSERT(rc || (!replayed && lg->head_seq == head + 1));
	return rc;
}

static int run_hold_end(ledger *lg, const char *id, const char *amount_text,
                        const char *date, enum lg_kind kind, lg_error *err)
{
	int rc = ledger_begin(lg, err);

	if (rc)
		return rc;
	rc = hold_end_in_tx(lg, id, amount_text, date, kind, err);
	if (rc) {
		ledger_rollback(lg);
		return rc;
	}
	return ledger_commit(lg, err);
}

int ledger_hold_commit(ledger *lg, const char *id, const char *amount_text,
                       const char *date, lg_error *err)
{
	return run_hold_end(lg, id, amount_text, date, LG_KIND_COMMIT, err);
}

int ledger_hold_commit_in_tx(ledger *lg, const char *id, const char *amount_text,
                             const char *date, lg_error *err)
{
	return hold_end_in_tx(lg, id, amount_text, date, LG_KIND_COMMIT, err);
}

int ledger_hold_void_in_tx(ledger *lg, const char *id, const char *date,
                           lg_error *err)
{
	return hold_end_in_tx(lg, id, NULL, date, LG_KIND_VOID, err);
}

int ledger_hold_void(ledger *lg, const char *id, const char *date, lg_error *err)
{
	return run_hold_end(lg, id, NULL, date, LG_KIND_VOID, err);
}

int ledger_hold_expire(ledger *lg, long *count_out, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	char (*ids)[LG_ID_MAX + 1] = NULL;
	long n = 0, cap = 0;
	int rc;

	*count_out = 0;
	rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(lg->db, "SELECT t.id FROM transactions t WHERE"
	                       " t.kind = 'pending' AND t.expires_at <= ?1 AND NOT EXISTS"
	                       " (SELECT 1 FROM transactions e WHERE e.ref_seq = t.seq"
	                       " AND e.kind IN ('commit','void','expire')) ORDER BY t.seq",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = lg_sql_error(lg, err, "reading holds");
		goto out;
	}
	sqlite3_bind_text(st, 1, lg->now, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			long ncap = cap ? cap * 2 : 64;
			void *p = realloc(ids, (size_t)ncap * sizeof *ids);
			if (!p) {
				rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
				goto out;
			}
			ids = p;
			cap = ncap;
		}
		snprintf(ids[n++], sizeof ids[0], "%s", sqlite3_column_text(st, 0));
	}
	if (rc != SQLITE_DONE) {
		rc = lg_sql_error(lg, err, "reading holds");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (long i = 0; i < n; i++) {
		struct stored_tx h;
		struct lg_tx tx;
		int replayed;
		rc = lg_batch_trim(lg, err);
		if (!rc)
			rc = open_hold(lg, ids[i], &h, 1, err);
		if (rc)
			goto out;
		init_end_tx(lg, &tx, ids[i], "expire", LG_KIND_EXPIRE, h.seq, NULL);
		rc = lg_append_release(lg, &tx, h.p, h.n, &replayed, err);
		if (rc)
			goto out;
	}
	free(ids);
	*count_out = n;
	return ledger_commit(lg, err);
out:
	sqlite3_finalize(st);
	free(ids);
	ledger_rollback(lg);
	return rc;
}

/* --- reversal ---------------------------------------------------------- */

static int reversible(const char *id, const struct stored_tx *t, lg_error *err)
{
	if (strcmp(t->kind, "pending") == 0)
		return lg_error_set(err, LG_EDATA, "'%s' is a hold: void it instead of "
		                    "reversing it", id);
	if (strcmp(t->kind, "reverse") == 0)
		return lg_error_set(err, LG_EDATA, "'%s' is itself a reversal; post the "
		                    "transaction again instead", id);
	if (t->n == 0)
		return lg_error_set(err, LG_EDATA, "'%s' (%s) moved no money and cannot "
		                    "be reversed", id, t->kind);
	return LG_OK;
}

int ledger_reverse(ledger *lg, const char *id, const char *reason,
                   const char *date, lg_error *err)
{
	struct stored_tx t;
	struct lg_tx tx;
	json_t *meta = NULL;
	char *meta_text = NULL, ended[16];
	int replayed, rc;

	if (!reason || !reason[0] || strlen(reason) > LG_MEMO_MAX)
		return lg_error_set(err, LG_EUSAGE, "a reversal needs a reason (--reason "
		                    "TEXT, at most 1000 bytes)");
	if (date && !ledger_date_valid(date))
		return lg_error_set(err, LG_EUSAGE, "date '%s' is not YYYY-MM-DD", date);
	rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	rc = load_tx(lg, id, &t, err);
	if (!rc)
		rc = reversible(id, &t, err);
	if (!rc)
		rc = find_end(lg, t.seq, "SELECT id FROM transactions WHERE ref_seq = ?1"
		              " AND kind = 'reverse'", ended, sizeof ended, err);
	if (rc)
		goto out;
	if (ended[0]) {
		rc = lg_error_set(err, LG_EDATA, "transaction '%s' is already reversed", id);
		goto out;
	}
	init_end_tx(lg, &tx, id, "reversal", LG_KIND_REVERSE, t.seq, date);
	meta = json_pack("{s:s}", "reverses", id);
	meta_text = meta ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!meta_text) {
		rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
		goto out;
	}
	tx.memo = (char *)reason;
	tx.meta = meta_text;
	tx.n = t.n;
	for (int i = 0; i < t.n; i++) {
		tx.p[i].acct = t.p[i].acct;
		if (amount_neg(t.p[i].amount, &tx.p[i].amount) != 0) {
			rc = lg_error_set(err, LG_EDATA, "'%s': a posting cannot be negated", id);
			goto out;
		}
	}
	rc = lg_append(lg, &tx, &replayed, err);
	if (rc)
		goto out;
	free(meta_text);
	json_decref(meta);
	return ledger_commit(lg, err);
out:
	free(meta_text);
	json_decref(meta);
	ledger_rollback(lg);
	return rc;
}

/* --- periods ----------------------------------------------------------- */

static int period_end(const char *period, char end[11])
{
	static const char *const last[] = { "31", "28", "31", "30", "31", "30",
	                                    "31", "31", "30", "31", "30", "31" };
	char probe[11];
	int m;

	if (strlen(period) != 7 || period[4] != '-')
		return -1;
	snprintf(probe, sizeof probe, "%s-01", period);
	if (!ledger_date_valid(probe))
		return -1;
	m = (period[5] - '0') * 10 + (period[6] - '0');
	snprintf(end, 11, "%.7s-%s", period, last[m - 1]);
	if (m == 2) {
		snprintf(probe, sizeof probe, "%.7s-29", period);
		if (ledger_date_valid(probe))
			memcpy(end, probe, 11);
	}
	return 0;
}

static int insert_close_balances(ledger *lg, const char *period, const char *end,
                                 lg_error *err)
{
	sqlite3_stmt *st = NULL;
	struct lg_sums *sums = NULL;
	long long n = 0;
	int rc = lg_recompute(lg, end, &sums, &n, err);

	if (rc)
		return rc;
	if (sqlite3_prepare_v2(lg->db, "INSERT INTO period_close_balances(period,"
	                       " account_id, posted) VALUES(?1, ?2, ?3)", -1, &st,
	                       NULL) != SQLITE_OK) {
		free(sums);
		return lg_sql_error(lg, err, "recording closing balances");
	}
	/* every account that exists, zero balances included */
	for (long long id = 1; id < n && rc == LG_OK; id++) {
		unsigned char b[AMOUNT_BLOB_BYTES];
		amount_encode(sums[id].posted, b);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_blob(st, 3, b, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = lg_sql_error(lg, err, "recording closing balances");
	}
	sqlite3_finalize(st);
	free(sums);
	return rc;
}

static int insert_close(ledger *lg, const char *period, const char *end,
                        lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "INSERT INTO period_closes(period, end_date,"
	                       " closed_at, head_seq, head_hash) VALUES(?1,?2,?3,?4,?5)",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "closing the period");
	sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lg->now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, lg->head_seq);
	sqlite3_bind_blob(st, 5, lg->head_hash, LG_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "closing the period");
	return insert_close_balances(lg, period, end, err);
}

int ledger_close_period(ledger *lg, const char *period, lg_error *err)
{
	char end[11];
	int rc;

	if (period_end(period, end) != 0)
		return lg_error_set(err, LG_EUSAGE, "period '%s' is not a month YYYY-MM",
		                    period);
	if (strcmp(end, lg->today) >= 0)
		return lg_error_set(err, LG_EDATA, "period %s has not ended yet (today is "
		                    "%s)", period, lg->today);
	rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	if (lg->closed_through[0] && strcmp(end, lg->closed_through) <= 0) {
		rc = lg_error_set(err, LG_EDATA, "period %s is already closed (the books "
		                  "are closed through %s)", period, lg->closed_through);
		goto out;
	}
	rc = insert_close(lg, period, end, err);
	if (rc)
		goto out;
	return ledger_commit(lg, err);
out:
	ledger_rollback(lg);
	return rc;
}
