/*
 * group.c - bulk posting writes the rows of several transactions with one
 * multi-row INSERT.
 *
 * A statement per row made SQLite's statement machinery the largest cost
 * of `clearbook post`: measured on a million transactions, writing the same
 * rows sixteen transactions to a statement took a third less time.  The
 * rules, balances and hash chain are unchanged: each transaction is checked
 * and applied as before (lg_apply_unwritten) and only its rows wait, at most
 * LG_GROUP_TX_MAX transactions and LG_GROUP_POSTINGS_MAX postings.
 *
 * The one thing a waiting row cannot know is whether its id is already in
 * the journal (a replay or a conflict): the unique index answers when the
 * group is written.  The transactions' rows go in one statement, which
 * SQLite applies whole or not at all, so on that answer nothing of the
 * group is written; the group then puts back the balances and the chain
 * head it started from and posts its transactions one at a time through
 * lg_append, the path that tells replays from conflicts, in their original
 * order.  The chain therefore comes out byte for byte as if every
 * transaction had been posted alone.
 */
#include "ledger_int.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

#define TX_COLUMNS 11
#define TEXT_CAP (LG_GROUP_TX_MAX * (LG_MEMO_MAX + 1 + LG_META_MAX + 1))
#define POSTING_STMTS 7 /* 64, 32, 16, 8, 4, 2 and 1 rows */

/* An account's balance before the group first touched it. */
struct before {
	struct lg_acct *acct;
	amount_minor_t posted, pending_dr, pending_cr;
	int dirty;
};

struct lg_group {
	ledger *lg;
	int n;                               /* transactions waiting */
	int postings_n;                      /* their postings */
	int cool;                            /* lines to post one by one */
	long long start_seq;                 /* the head before the group */
	unsigned char start_hash[LG_HASH_BYTES];
	struct lg_tx tx[LG_GROUP_TX_MAX];
	long lineno[LG_GROUP_TX_MAX];
	unsigned char content[LG_GROUP_TX_MAX][LG_HASH_BYTES];
	unsigned char hash[LG_GROUP_TX_MAX][LG_HASH_BYTES];
	struct lg_tx_lens lens[LG_GROUP_TX_MAX]; /* but booked_at, set when written */
	struct before before[LG_GROUP_POSTINGS_MAX];
	int before_n;
	char text[TEXT_CAP];                 /* copies of memos and metadata */
	size_t text_used;
	sqlite3_stmt *tx_stmt[LG_GROUP_TX_MAX + 1];  /* by row count */
	sqlite3_stmt *posting_stmt[POSTING_STMTS];   /* 64 >> i rows */
};

int lg_group_new(ledger *lg, struct lg_group **out, lg_error *err)
{
	struct lg_group *g = calloc(1, sizeof *g);

	*out = NULL;
	if (!g)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	g->lg = lg;
	*out = g;
	return LG_OK;
}

void lg_group_free(struct lg_group *g)
{
	if (!g)
		return;
	for (int i = 0; i <= LG_GROUP_TX_MAX; i++)
		sqlite3_finalize(g->tx_stmt[i]);
	for (int i = 0; i < POSTING_STMTS; i++)
		sqlite3_finalize(g->posting_stmt[i]);
	free(g);
}

int lg_group_takes(struct lg_group *g, const struct lg_tx *tx)
{
	if (g->cool > 0) {
		g->cool--;
		return 0;
	}
	return (tx->kind == LG_KIND_POSTED || tx->kind == LG_KIND_PENDING) &&
	       tx->n <= LG_GROUP_POSTINGS_MAX;
}

int lg_group_full(const struct lg_group *g, const struct lg_tx *tx)
{
	return g->n == LG_GROUP_TX_MAX || g->postings_n + tx->n > LG_GROUP_POSTINGS_MAX;
}

/* "INSERT ... VALUES(?,..),(?,..)" of `rows` rows of `cols` parameters. */
static sqlite3_stmt *prepare_rows(ledger *lg, const char *head, int rows, int cols)
{
	char sql[LG_GROUP_POSTINGS_MAX * 2 * TX_COLUMNS + 256];
	size_t len = strlen(head);
	sqlite3_stmt *st = NULL;

	LG_ASSERT(rows >= 1 && len < sizeof sql);
	memcpy(sql, head, len);
	for (int r = 0; r < rows; r++) {
		LG_ASSERT(len + (size_t)cols * 2 + 4 < sizeof sql);
		sql[len++] = r ? ',' : ' ';
		sql[len++] = '(';
		for (int c = 0; c < cols; c++) {
			if (c)
				sql[len++] = ',';
			sql[len++] = '?';
		}
		sql[len++] = ')';
	}
	sql[len] = '\0';
	if (sqlite3_prepare_v3(lg->db, sql, (int)len + 1, SQLITE_PREPARE_PERSISTENT, &st,
	                       NULL) != SQLITE_OK)
		return NULL;
	return st;
}

/* A copy of s in the group's text; *len_out is its length. */
static char *keep_text(struct lg_group *g, const char *s, int *len_out)
{
	size_t n = strlen(s) + 1;
	char *p = g->text + g->text_used;

	LG_ASSERT(g->text_used + n <= TEXT_CAP && n - 1 <= INT_MAX);
	memcpy(p, s, n);
	g->text_used += n;
	*len_out = (int)(n - 1);
	return p;
}

/* Remembers the balance of every account tx touches that the group has
 * not touched before, so that a refused group can be undone. */
static void note_before(struct lg_group *g, const struct lg_tx *tx)
{
	for (int i = 0; i < tx->n; i++) {
		struct lg_acct *a = tx->p[i].acct;
		int k;
		for (k = 0; k < g->before_n && g->before[k].acct != a; k++)
			;
		if (k < g->before_n)
			continue;
		LG_ASSERT(g->before_n < LG_GROUP_POSTINGS_MAX);
		g->before[k].acct = a;
		g->before[k].posted = a->posted;
		g->before[k].pending_dr = a->pending_dr;
		g->before[k].pending_cr = a->pending_cr;
		g->before[k].dirty = a->dirty;
		g->before_n++;
	}
}

int lg_group_add(struct lg_group *g, struct lg_tx *tx, long lineno, lg_error *err)
{
	ledger *lg = g->lg;
	struct lg_tx *kept;
	int before_n = g->before_n, rc;

	LG_ASSERT(!lg_group_full(g, tx));
	if (g->cool > 0)
		return LG_GROUP_DECLINED; /* a flush just met a replay */
	if (g->n == 0) {
		g->start_seq = lg->head_seq;
		memcpy(g->start_hash, lg->head_hash, LG_HASH_BYTES);
	}
	note_before(g, tx);
	rc = lg_apply_unwritten(lg, tx, g->content[g->n], g->hash[g->n], err);
	if (rc) {
		g->before_n = before_n; /* nothing changed: forget the new ones */
		return rc;
	}
	kept = &g->tx[g->n];
	memcpy(kept, tx, offsetof(struct lg_tx, p));
	memcpy(kept->p, tx->p, (size_t)tx->n * sizeof tx->p[0]);
	kept->memo = keep_text(g, tx->memo ? tx->memo : "", &g->lens[g->n].memo);
	kept->meta = keep_text(g, tx->meta ? tx->meta : "{}", &g->lens[g->n].meta);
	g->lens[g->n].id = (int)strlen(kept->id);
	g->lens[g->n].date = (int)strlen(kept->date);
	g->lineno[g->n] = lineno;
	g->postings_n += tx->n;
	g->n++;
	LG_ASSERT(lg->head_seq == g->start_seq + g->n);
	return LG_OK;
}

/* One statement for every transaction row: SQLite applies it whole or not
 * at all.  LG_OK, 1 when a constraint refused it, or an error. */
static int write_transactions(struct lg_group *g, lg_error *err)
{
	ledger *lg = g->lg;
	sqlite3_stmt *st = g->tx_stmt[g->n];
	int rc, booked_at_len;

	if (!st) {
		st = prepare_rows(lg, "INSERT INTO transactions(seq, id, kind, ref_seq, date,"
		                  " booked_at, expires_at, memo, meta, content_hash, hash)"
		                  " VALUES", g->n, TX_COLUMNS);
		if (!st)
			return lg_sql_error(lg, err, "preparing the journal insert");
		g->tx_stmt[g->n] = st;
	}
	booked_at_len = (int)strlen(lg->now);
	for (int i = 0; i < g->n; i++) {
		g->lens[i].booked_at = booked_at_len;
		lg_bind_tx_row(st, i * TX_COLUMNS, &g->tx[i], g->start_seq + 1 + i, lg->now,
		               &g->lens[i], g->content[i], g->hash[i]);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return 1;
	if (rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "writing the journal");
	return LG_OK;
}

/* The postings, 64, 32, ... 1 rows to a statement; they cannot collide,
 * their transactions' rows being in. */
static int write_postings(struct lg_group *g, lg_error *err)
{
	unsigned char blob[LG_GROUP_POSTINGS_MAX][AMOUNT_BLOB_BYTES];
	int t = 0, p = 0, done = 0, b = 0;

	for (int i = 0; i < POSTING_STMTS; i++) {
		int rows = LG_GROUP_POSTINGS_MAX >> i;
		sqlite3_stmt *st;
		if (g->postings_n - done < rows)
			continue;
		st = g->posting_stmt[i];
		if (!st) {
			st = prepare_rows(g->lg, "INSERT INTO postings(tx_seq, idx, account_id,"
			                  " amount) VALUES", rows, 4);
			if (!st)
				return lg_sql_error(g->lg, err, "preparing the postings insert");
			g->posting_stmt[i] = st;
		}
		for (int r = 0; r < rows; r++, done++, b++) {
			const struct lg_tx *tx;
			while (p == g->tx[t].n) {
				t++;
				p = 0;
			}
			tx = &g->tx[t];
			amount_encode(tx->p[p].amount, blob[b]);
			sqlite3_bind_int64(st, 4 * r + 1, g->start_seq + 1 + t);
			sqlite3_bind_int(st, 4 * r + 2, p);
			sqlite3_bind_int64(st, 4 * r + 3, tx->p[p].acct->id);
			sqlite3_bind_blob(st, 4 * r + 4, blob[b], AMOUNT_BLOB_BYTES, SQLITE_STATIC);
			p++;
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return lg_sql_error(g->lg, err, "writing postings");
		}
		sqlite3_reset(st);
		i--; /* the same size may fit again */
	}
	LG_ASSERT(done == g->postings_n);
	return LG_OK;
}

static void forget(struct lg_group *g)
{
	g->n = 0;
	g->postings_n = 0;
	g->before_n = 0;
	g->text_used = 0;
}

/* The journal refused the group: back to where it started, then each
 * transaction alone. */
static int post_one_by_one(struct lg_group *g, lg_group_outcome_fn fn, void *ctx,
                           lg_error *err)
{
	ledger *lg = g->lg;
	int rc = LG_OK;

	for (int k = 0; k < g->before_n; k++) {
		struct before *b = &g->before[k];
		b->acct->posted = b->posted;
		b->acct->pending_dr = b->pending_dr;
		b->acct->pending_cr = b->pending_cr;
		b->acct->dirty = b->dirty;
	}
	lg->head_seq = g->start_seq;
	memcpy(lg->head_hash, g->start_hash, LG_HASH_BYTES);
	for (int i = 0; i < g->n; i++) {
		int replayed = 0;
		rc = lg_append(lg, &g->tx[i], &replayed, err);
		if (rc == LG_OK && !replayed)
			continue;
		err->line = g->lineno[i];
		fn(ctx, g->lineno[i], rc, replayed, err);
		if (rc != LG_OK && rc != LG_EDATA && rc != LG_ENOINPUT)
			break; /* the batch ends */
		rc = LG_OK;
	}
	g->cool = LG_GROUP_COOL_LINES;
	return rc;
}

int lg_group_flush(struct lg_group *g, lg_group_outcome_fn fn, void *ctx,
                   lg_error *err)
{
	int rc;

	if (g->n == 0)
		return LG_OK;
	LG_ASSERT(g->lg->in_tx && g->lg->head_seq == g->start_seq + g->n);
	rc = write_transactions(g, err);
	if (rc == 1)
		rc = post_one_by_one(g, fn, ctx, err);
	else if (rc == LG_OK)
		rc = write_postings(g, err);
	forget(g);
	return rc;
}

int lg_group_size(const struct lg_group *g)
{
	return g->n;
}

int lg_group_write_job(void *group, lg_error *err)
{
	struct lg_group *g = group;
	int rc;

	LG_ASSERT(g->n > 0 && g->cool == 0);
	rc = write_transactions(g, err);
	if (rc == 1)
		rc = lg_error_set(err, LG_EINTERNAL, "a transaction of '%s' .. '%s' was "
		                  "already in the journal (found when its group was "
		                  "written)", g->tx[0].id, g->tx[g->n - 1].id);
	else if (rc == LG_OK)
		rc = write_postings(g, err);
	forget(g);
	return rc;
}
