/*
 * post.c - appending transactions: the rules every transaction obeys, the
 * hash chain link, balances and holds; and the JSON Lines reader that feeds
 * it a file at a time, all lines or none.
 */
#include "ledger_int.h"

#include <stddef.h>
#include <string.h>

/* --- the rules --------------------------------------------------------- */

static int check_balanced(const struct lg_tx *tx, lg_error *err)
{
	/* Sum per asset; a transaction has few assets, so a small table. */
	const char *asset[LG_POSTINGS_MAX];
	amount_minor_t sum[LG_POSTINGS_MAX];
	int scale[LG_POSTINGS_MAX];
	int n = 0;

	for (int i = 0; i < tx->n; i++) {
		const struct lg_acct *a = tx->p[i].acct;
		int k;
		for (k = 0; k < n && strcmp(asset[k], a->asset) != 0; k++)
			;
		if (k == n) {
			asset[n] = a->asset;
			scale[n] = a->scale;
			sum[n++] = 0;
		}
		if (amount_add(sum[k], tx->p[i].amount, &sum[k]) != 0)
			return lg_error_set(err, LG_EDATA, "transaction '%s': the %s postings "
			                    "overflow 128 bits", tx->id, asset[k]);
	}
	for (int k = 0; k < n; k++) {
		if (sum[k] != 0) {
			char t[AMOUNT_TEXT_MAX];
			amount_format(sum[k], scale[k], t, sizeof t);
			return lg_error_set(err, LG_EDATA, "transaction '%s' does not balance: "
			                    "its %s postings sum to %s, not zero", tx->id,
			                    asset[k], t);
		}
	}
	return LG_OK;
}

static int check_rules(ledger *lg, const struct lg_tx *tx, lg_error *err)
{
	int needs_postings = tx->kind != LG_KIND_VOID && tx->kind != LG_KIND_EXPIRE;

	if (needs_postings && tx->n < 2)
		return lg_error_set(err, LG_EDATA, "transaction '%s' has %d posting%s; "
		                    "at least two are needed", tx->id, tx->n,
		                    tx->n == 1 ? "" : "s");
	if (!needs_postings && tx->n != 0)
		return lg_error_set(err, LG_EINTERNAL, "a %s carries no postings",
		                    lg_kind_name(tx->kind));
	for (int i = 0; i < tx->n; i++) {
		if (tx->p[i].amount == 0)
			return lg_error_set(err, LG_EDATA, "transaction '%s': posting %d to "
			                    "'%s' is zero", tx->id, i + 1, tx->p[i].acct->code);
		if (tx->p[i].acct->closed)
			return lg_error_set(err, LG_EDATA, "transaction '%s': account '%s' is "
			                    "closed", tx->id, tx->p[i].acct->code);
	}
	if (!ledger_date_valid(tx->date))
		return lg_error_set(err, LG_EDATA, "transaction '%s': date '%s' is not a "
		                    "calendar date YYYY-MM-DD", tx->id, tx->date);
	if (lg->closed_through[0] && strcmp(tx->date, lg->closed_through) <= 0)
		return lg_error_set(err, LG_EDATA, "transaction '%s': date %s lies in a "
		                    "closed period (closed through %s)", tx->id, tx->date,
		                    lg->closed_through);
	return check_balanced(tx, err);
}

/* --- balances and holds ------------------------------------------------ */

struct snapshot {
	struct lg_acct *acct;
	amount_minor_t posted, pending_dr, pending_cr;
	int dirty;
};

#define LG_CONSTRAINT (-2) /* internal: the transaction row hit a constraint */

static void snap_take(struct snapshot *s, int *n, struct lg_acct *a)
{
	for (int i = 0; i < *n; i++)
		if (s[i].acct == a)
			return;
	s[*n].acct = a;
	s[*n].posted = a->posted;
	s[*n].pending_dr = a->pending_dr;
	s[*n].pending_cr = a->pending_cr;
	s[*n].dirty = a->dirty;
	(*n)++;
}

static void snap_restore(struct snapshot *s, int n)
{
	for (int i = 0; i < n; i++) {
		s[i].acct->posted = s[i].posted;
		s[i].acct->pending_dr = s[i].pending_dr;
		s[i].acct->pending_cr = s[i].pending_cr;
		s[i].acct->dirty = s[i].dirty;
	}
}

/* Adds `amount` to the posted (pending == 0) or held side of an account. */
static int apply_one(struct lg_acct *a, amount_minor_t amount, int pending)
{
	amount_minor_t *slot = !pending ? &a->posted
	                       : amount > 0 ? &a->pending_dr : &a->pending_cr;
	a->dirty = 1;
	return amount_add(*slot, amount, slot);
}

/* Applies releases and postings, then checks no-overdraft accounts.  The
 * caller's snapshot records every touched balance; on failure they are
 * already restored. */
static int apply_balances(const struct lg_tx *tx, const struct lg_posting *rel,
                          int rel_n, struct snapshot *snap, int *sn_out,
                          lg_error *err)
{
	int sn = 0, pending = tx->kind == LG_KIND_PENDING;

	for (int i = 0; i < rel_n; i++)
		snap_take(snap, &sn, rel[i].acct);
	for (int i = 0; i < tx->n; i++)
		snap_take(snap, &sn, tx->p[i].acct);
	*sn_out = sn;
	for (int i = 0; i < rel_n; i++) {
		/* releasing a hold: take the held amount back off its side */
		struct lg_acct *a = rel[i].acct;
		amount_minor_t *slot = rel[i].amount > 0 ? &a->pending_dr : &a->pending_cr;
		a->dirty = 1;
		if (amount_sub(*slot, rel[i].amount, slot) != 0)
			goto overflow;
		LG_ASSERT(a->pending_dr >= 0 && a->pending_cr <= 0);
	}
	for (int i = 0; i < tx->n; i++)
		if (apply_one(tx->p[i].acct, tx->p[i].amount, pending) != 0)
			goto overflow;
	for (int i = 0; i < sn; i++) {
		struct lg_acct *a = snap[i].acct;
		int sign = lg_acct_type_sign(a->type);
		amount_minor_t before, after;
		if (!(a->flags & LG_ACCOUNT_NO_OVERDRAFT))
			continue;
		after = lg_available(a) * sign;
		before = (sign > 0 ? snap[i].posted + snap[i].pending_cr
		                   : snap[i].posted + snap[i].pending_dr) * sign;
		if (after < 0 && after < before) {
			char t[AMOUNT_TEXT_MAX];
			amount_format(-after, a->scale, t, sizeof t);
			snap_restore(snap, sn);
			return lg_error_set(err, LG_EDATA, "transaction '%s' would overdraw "
			                    "'%s' (no-overdraft) by %s %s", tx->id, a->code, t,
			                    a->asset);
		}
	}
	return LG_OK;
overflow:
	snap_restore(snap, sn);
	return lg_error_set(err, LG_EDATA, "transaction '%s': a balance would "
	                    "overflow 128 bits", tx->id);
}

/* --- appending --------------------------------------------------------- */

/* Looks up an existing id: *seq_out 0 if absent. */
static int find_id(ledger *lg, const char *id, long long *seq_out,
                   unsigned char content[LG_HASH_BYTES], lg_error *err)
{
	sqlite3_stmt *st = lg_stmt(lg, ST_TX_BY_ID);
	int rc;

	if (!st)
		return lg_sql_error(lg, err, "reading the journal");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*seq_out = 0;
	if (rc == SQLITE_ROW) {
		*seq_out = sqlite3_column_int64(st, 0);
		LG_ASSERT(sqlite3_column_bytes(st, 2) == LG_HASH_BYTES);
		memcpy(content, sqlite3_column_blob(st, 2), LG_HASH_BYTES);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "reading the journal");
	return LG_OK;
}

void lg_bind_tx_row(sqlite3_stmt *st, int base, const struct lg_tx *tx, long long seq,
                    const char *booked_at, const struct lg_tx_lens *lens,
                    const unsigned char content[LG_HASH_BYTES],
                    const unsigned char hash[LG_HASH_BYTES])
{
	LG_ASSERT(!lens || (tx->memo && tx->meta));
	sqlite3_bind_int64(st, base + 1, seq);
	sqlite3_bind_text(st, base + 2, tx->id, lens ? lens->id : -1, SQLITE_STATIC);
	sqlite3_bind_text(st, base + 3, lg_kind_name(tx->kind), -1, SQLITE_STATIC);
	if (tx->ref_seq > 0)
		sqlite3_bind_int64(st, base + 4, tx->ref_seq);
	else
		sqlite3_bind_null(st, base + 4);
	sqlite3_bind_text(st, base + 5, tx->date, lens ? lens->date : -1, SQLITE_STATIC);
	sqlite3_bind_text(st, base + 6, booked_at, lens ? lens->booked_at : -1, SQLITE_STATIC);
	if (tx->expires_at[0])
		sqlite3_bind_text(st, base + 7, tx->expires_at, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, base + 7);
	if (lens) {
		sqlite3_bind_text(st, base + 8, tx->memo, lens->memo, SQLITE_STATIC);
		sqlite3_bind_text(st, base + 9, tx->meta, lens->meta, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, base + 8, tx->memo ? tx->memo : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, base + 9, tx->meta ? tx->meta : "{}", -1, SQLITE_STATIC);
	}
	sqlite3_bind_blob(st, base + 10, content, LG_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, base + 11, hash, LG_HASH_BYTES, SQLITE_STATIC);
}

static int insert_rows(ledger *lg, const struct lg_tx *tx, long long seq,
                       const unsigned char content[LG_HASH_BYTES],
                       const unsigned char hash[LG_HASH_BYTES], lg_error *err)
{
	sqlite3_stmt *st = lg_stmt(lg, ST_TX_INSERT);
	int rc;

	if (!st)
		return lg_sql_error(lg, err, "writing the journal");
	lg_bind_tx_row(st, 0, tx, seq, lg->now, NULL, content, hash);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		sqlite3_reset(st);
		return LG_CONSTRAINT;
	}
	if (rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "writing the journal");
	/* Postings go in pairs, one statement for two rows: most transactions
	 * have exactly two and this halves the statements executed. */
	for (int i = 0; i < tx->n; i += 2) {
		unsigned char b1[AMOUNT_BLOB_BYTES], b2[AMOUNT_BLOB_BYTES];
		int pair = i + 1 < tx->n;
		st = lg_stmt(lg, pair ? ST_POSTING_INSERT2 : ST_POSTING_INSERT);
		if (!st)
			return lg_sql_error(lg, err, "writing postings");
		amount_encode(tx->p[i].amount, b1);
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int(st, 2, i);
		sqlite3_bind_int64(st, 3, tx->p[i].acct->id);
		sqlite3_bind_blob(st, 4, b1, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
		if (pair) {
			amount_encode(tx->p[i + 1].amount, b2);
			sqlite3_bind_int(st, 5, i + 1);
			sqlite3_bind_int64(st, 6, tx->p[i + 1].acct->id);
			sqlite3_bind_blob(st, 7, b2, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			return lg_sql_error(lg, err, "writing postings");
	}
	return LG_OK;
}

/* The id is already in the journal: the same content is a replay, other
 * content a conflict. */
static int replay_or_conflict(ledger *lg, const struct lg_tx *tx,
                              const unsigned char content[LG_HASH_BYTES],
                              int *found, int *replayed, lg_error *err)
{
	unsigned char old[LG_HASH_BYTES];
	long long existing;
	int rc = find_id(lg, tx->id, &existing, old, err);

	*found = existing != 0;
	if (rc || !existing)
		return rc;
	if (memcmp(old, content, LG_HASH_BYTES) != 0) {
		/* Journals written before content hashes took their present form
		 * hold the first form: the same content there is a replay too. */
		struct lg_tx_view v;
		unsigned char v1[LG_HASH_BYTES];
		lg_tx_view_of(tx, 0, lg->now, &v);
		if (lg_hash_content_v1(lg, &v, v1) != 0)
			return lg_error_set(err, LG_EINTERNAL, "SHA-256 failed");
		if (memcmp(old, v1, LG_HASH_BYTES) == 0) {
			*replayed = 1;
			return LG_OK;
		}
		return lg_error_set(err, LG_EDATA, "transaction '%s' conflicts with the one "
		                    "already posted as seq %lld under the same id", tx->id,
		                    existing);
	}
	*replayed = 1;
	return LG_OK;
}

/* The content hash of tx: made with the line when it was read, else now. */
static int content_of(ledger *lg, const struct lg_tx *tx,
                      unsigned char content[LG_HASH_BYTES])
{
	if (tx->content_known) {
		memcpy(content, tx->content, LG_HASH_BYTES);
		return 0;
	}
	return lg_hash_content_tx(lg, tx, content);
}

/*
 * The fast path inserts first and asks questions later: a new id (the usual
 * case) costs no lookup.  Balances are applied before the insert so that a
 * refused overdraft leaves no row behind; when the insert meets the unique
 * id, or the balance check fails, the id is looked up to tell a replay or a
 * conflict from a real refusal.
 */
int lg_append_release(ledger *lg, struct lg_tx *tx, const struct lg_posting *rel,
                      int rel_n, int *replayed, lg_error *err)
{
	struct snapshot snap[2 * LG_POSTINGS_MAX];
	struct lg_tx_view v;
	unsigned char content[LG_HASH_BYTES], hash[LG_HASH_BYTES];
	long long seq;
	int rc, sn = 0, found = 0;

	LG_ASSERT(lg->in_tx && lg->cache != NULL);
	*replayed = 0;
	seq = lg->head_seq + 1;
	lg_tx_view_of(tx, seq, lg->now, &v);
	if (content_of(lg, tx, content) != 0)
		return lg_error_set(err, LG_EINTERNAL, "SHA-256 failed");
	/* A replay of what was posted before its period or an account closed,
	 * or before it overdrew, is still a replay: rules refuse only what
	 * would be new. */
	rc = check_rules(lg, tx, err);
	if (!rc)
		rc = apply_balances(tx, rel, rel_n, snap, &sn, err);
	if (rc && rc != LG_EDATA)
		return rc;
	if (rc) {
		lg_error saved = *err;
		int rc2 = replay_or_conflict(lg, tx, content, &found, replayed, err);
		if (rc2 || found)
			return rc2;
		*err = saved;
		return rc;
	}
	if (lg_hash_chain(lg, lg->head_hash, &v, hash) != 0) {
		snap_restore(snap, sn);
		return lg_error_set(err, LG_EINTERNAL, "SHA-256 failed");
	}
	rc = insert_rows(lg, tx, seq, content, hash, err);
	if (rc == LG_CONSTRAINT) {
		snap_restore(snap, sn);
		rc = replay_or_conflict(lg, tx, content, &found, replayed, err);
		if (!rc && !found)
			rc = lg_error_set(err, LG_EDATA, "transaction '%s' refused by the "
			                  "journal's constraints (a hold ends once, a "
			                  "transaction is reversed once)", tx->id);
		return rc;
	}
	if (rc)
		return rc; /* the caller rolls the whole batch back */
	lg->head_seq = seq;
	memcpy(lg->head_hash, hash, LG_HASH_BYTES);
	return LG_OK;
}

int lg_append(ledger *lg, struct lg_tx *tx, int *replayed, lg_error *err)
{
	return lg_append_release(lg, tx, NULL, 0, replayed, err);
}

int lg_apply_unwritten(ledger *lg, struct lg_tx *tx,
                       unsigned char content[LG_HASH_BYTES],
                       unsigned char hash[LG_HASH_BYTES], lg_error *err)
{
	struct snapshot snap[2 * LG_POSTINGS_MAX];
	struct lg_tx_view v;
	int rc, sn = 0;

	LG_ASSERT(lg->in_tx && lg->cache != NULL);
	LG_ASSERT(tx->kind == LG_KIND_POSTED || tx->kind == LG_KIND_PENDING);
	rc = check_rules(lg, tx, err);
	if (!rc)
		rc = apply_balances(tx, NULL, 0, snap, &sn, err);
	if (rc)
		return rc; /* balances are as they were */
	lg_tx_view_of(tx, lg->head_seq + 1, lg->now, &v);
	if (content_of(lg, tx, content) != 0 ||
	    lg_hash_chain(lg, lg->head_hash, &v, hash) != 0) {
		snap_restore(snap, sn);
		return lg_error_set(err, LG_EINTERNAL, "SHA-256 failed");
	}
	lg->head_seq++;
	memcpy(lg->head_hash, hash, LG_HASH_BYTES);
	return LG_OK;
}

/* --- JSON Lines -------------------------------------------------------- */

/* Posting i of a parsed line: its account (opened from a template when
 * one matches), the asset it names, and its amount at the asset's scale. */
static int resolve_posting(ledger *lg, const struct lg_parsed *pl, int i,
                           struct lg_tx *tx, lg_error *err)
{
	const struct lg_pposting *pp = &pl->p[i];
	char why[128];
	struct lg_acct *a = NULL;
	int rc;

	rc = lg_account_get(lg, pp->account, &a, err);
	if (rc) {
		char m[LG_MSG_MAX];
		snprintf(m, sizeof m, "%s", err->msg);
		return lg_error_set(err, rc == LG_ENOINPUT ? LG_EDATA : rc, "postings[%d]."
		                    "account: %s", i, m);
	}
	if (pp->has_asset && (!pp->asset || strcmp(pp->asset, a->asset) != 0))
		return lg_error_set(err, LG_EDATA, "postings[%d].asset: '%.16s' is not the "
		                    "asset of account '%s' (%s)", i, pp->asset ? pp->asset : "?",
		                    a->code, a->asset);
	if (amount_parse(pp->amount, pp->amount_len, a->scale, &tx->p[i].amount, why,
	                 sizeof why) != 0)
		return lg_error_set(err, LG_EDATA, "postings[%d].amount: '%.64s' is not an "
		                    "exact %s amount: %s", i, pp->amount, a->asset, why);
	tx->p[i].acct = a;
	return LG_OK;
}

/* The transaction of a parsed line, its accounts looked up.  An error is
 * the line's; tx borrows the line's strings. */
static int tx_of_parsed(ledger *lg, const struct lg_parsed *pl, struct lg_tx *tx,
                        lg_error *err)
{
	memset(tx, 0, offsetof(struct lg_tx, p));
	if (pl->rc) {
		*err = pl->err;
		return pl->rc;
	}
	LG_ASSERT(strlen(pl->id) <= LG_ID_MAX && strlen(pl->date) == 10);
	memcpy(tx->id, pl->id, strlen(pl->id) + 1);
	memcpy(tx->date, pl->date, 11);
	tx->kind = pl->kind;
	tx->timeout_s = pl->timeout_s;
	tx->memo = (char *)pl->memo;
	tx->meta = (char *)pl->meta;
	for (int i = 0; i < pl->n; i++) {
		int rc = resolve_posting(lg, pl, i, tx, err);
		if (rc) {
			char m[LG_MSG_MAX];
			snprintf(m, sizeof m, "%s", err->msg);
			return lg_error_set(err, rc, "transaction '%s': %s", tx->id, m);
		}
	}
	tx->n = pl->n;
	if (pl->posting_rc) {
		*err = pl->err;
		return pl->posting_rc;
	}
	if (tx->kind == LG_KIND_PENDING && tx->timeout_s > 0 &&
	    lg_timestamp_add(lg->now, tx->timeout_s, tx->expires_at) != 0)
		return lg_error_set(err, LG_EINTERNAL, "cannot compute the hold's expiry");
	tx->content_known = pl->content_known;
	memcpy(tx->content, pl->content, LG_HASH_BYTES);
	return LG_OK;
}

/* Errors that say something about the line, as opposed to the machine. */
static int is_data_error(int code)
{
	return code == LG_EDATA || code == LG_ENOINPUT;
}

/* What the stream reports of the lines it posts. */
struct stream {
	ledger_post_stats *stats;
	ledger_reject_fn reject;
	void *ctx;
};

/* A line that waited in a group turned out a replay or refused. */
static void group_outcome(void *ctx, long lineno, int rc, int replayed, lg_error *err)
{
	struct stream *s = ctx;

	(void)lineno;
	s->stats->posted--;
	if (rc == LG_OK && replayed) {
		s->stats->replayed++;
		return;
	}
	s->stats->failed++;
	if (s->reject)
		s->reject(s->ctx, err);
}

/* Posts one line, through the group when it can wait there.  An error is
 * the line's own; every earlier line's outcome has been reported first. */
static int post_line(ledger *lg, struct lg_group *g, const struct lg_parsed *pl,
                     struct stream *s, lg_error *err)
{
	struct lg_tx txbuf;
	struct lg_tx *tx = &txbuf;
	int replayed = 0, rc = LG_OK;

	/* The cache is about to be emptied: waiting rows point into it. */
	if (lg->cache_n >= LG_CACHE_ACCOUNTS_MAX)
		rc = lg_group_flush(g, group_outcome, s, err);
	if (!rc)
		rc = lg_batch_trim(lg, err);
	if (!rc)
		rc = tx_of_parsed(lg, pl, tx, err);
	if (!rc && lg_group_takes(g, tx)) {
		if (lg_group_full(g, tx))
			rc = lg_group_flush(g, group_outcome, s, err);
		if (!rc && lg_group_add(g, tx, pl->lineno, err) == LG_OK) {
			s->stats->posted++;
			return LG_OK;
		}
	}
	if (rc) {
		lg_error saved = *err;
		int rc2 = lg_group_flush(g, group_outcome, s, err);
		if (rc2)
			return rc2; /* the batch ends on the earlier line's error */
		*err = saved;
		return rc;
	}
	/* Not for the group, or refused by its fast path: alone, after the
	 * lines before it. */
	rc = lg_group_flush(g, group_outcome, s, err);
	if (!rc)
		rc = lg_append(lg, tx, &replayed, err);
	if (!rc) {
		if (replayed)
			s->stats->replayed++;
		else
			s->stats->posted++;
	}
	return rc;
}

int ledger_post_stream(ledger *lg, FILE *in, ledger_post_stats *stats,
                       ledger_reject_fn reject, void *ctx, lg_error *err)
{
	struct stream s = { stats, reject, ctx };
	struct lg_group *g = NULL;
	struct lg_reader *r = NULL;
	struct lg_parsed *lines;
	int rc, n;

	memset(stats, 0, sizeof *stats);
	rc = lg_group_new(lg, &g, err);
	if (rc)
		return rc;
	rc = ledger_begin(lg, err);
	if (rc) {
		lg_group_free(g);
		return rc;
	}
	rc = lg_reader_start(in, &r, err);
	if (rc)
		goto fail;
	while ((lines = lg_reader_lines(r, &n)) != NULL) {
		for (int i = 0; i < n; i++) {
			stats->lines++;
			rc = post_line(lg, g, &lines[i], &s, err);
			if (rc) {
				err->line = lines[i].lineno;
				stats->failed++;
				if (reject)
					reject(ctx, err);
				if (!is_data_error(rc))
					goto fail;
			}
		}
		lg_reader_release(r);
	}
	if (lg_reader_failed(r)) {
		rc = lg_error_set(err, LG_EIO, "reading input failed");
		goto fail;
	}
	lg_reader_stop(r);
	r = NULL;
	rc = lg_group_flush(g, group_outcome, &s, err);
	if (rc)
		goto fail;
	if (stats->failed > 0) {
		rc = lg_error_set(err, LG_EDATA, "%ld of %ld transactions refused; nothing "
		                  "was posted", stats->failed, stats->lines);
		err->line = 0;
		goto fail;
	}
	lg_group_free(g);
	return ledger_commit(lg, err);
fail:
	lg_reader_stop(r);
	lg_group_free(g);
	ledger_rollback(lg);
	stats->posted = 0;
	stats->replayed = 0;
	return rc;
}

int ledger_post_json(ledger *lg, const char *json, size_t len, int *replayed,
                     long long *seq_out, lg_error *err)
{
	struct lg_tx txbuf;
	char *copy;
	int rc;

	LG_ASSERT(lg->in_tx);
	*replayed = 0;
	if (len > LG_LINE_MAX)
		return lg_error_set(err, LG_EDATA, "transaction longer than %d bytes",
		                    LG_LINE_MAX);
	/* The parser works in place and the transaction borrows from it. */
	copy = malloc(len + 1);
	if (!copy)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	memcpy(copy, json, len);
	copy[len] = '\0';
	rc = lg_batch_trim(lg, err);
	if (!rc) {
		struct lg_pposting postings[LG_POSTINGS_MAX];
		struct lg_parsed pl;
		lg_parse_line(lg->json, lg->hs, copy, len, lg->meta_buf, postings, &pl);
		rc = tx_of_parsed(lg, &pl, &txbuf, err);
	}
	if (!rc)
		rc = lg_append(lg, &txbuf, replayed, err);
	if (!rc && seq_out) {
		unsigned char content[LG_HASH_BYTES];
		if (*replayed)
			rc = find_id(lg, txbuf.id, seq_out, content, err);
		else
			*seq_out = lg->head_seq;
	}
	free(copy);
	return rc;
}
