/*
 * post.c - appending transactions: the rules every transaction obeys, the
 * hash chain link, balances and holds; and the JSON Lines reader that feeds
 * it a file at a time, all lines or none.
 */
#include "ledger_int.h"

#include <jansson.h>
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

/* Applies releases and postings, then checks no-overdraft accounts.  On any
 * failure every touched balance is restored. */
static int apply_balances(const struct lg_tx *tx, const struct lg_posting *rel,
                          int rel_n, lg_error *err)
{
	struct snapshot snap[2 * LG_POSTINGS_MAX];
	int sn = 0, pending = tx->kind == LG_KIND_PENDING;

	for (int i = 0; i < rel_n; i++)
		snap_take(snap, &sn, rel[i].acct);
	for (int i = 0; i < tx->n; i++)
		snap_take(snap, &sn, tx->p[i].acct);
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

static int insert_rows(ledger *lg, const struct lg_tx *tx, long long seq,
                       const unsigned char content[LG_HASH_BYTES],
                       const unsigned char hash[LG_HASH_BYTES], lg_error *err)
{
	sqlite3_stmt *st = lg_stmt(lg, ST_TX_INSERT);

	if (!st)
		return lg_sql_error(lg, err, "writing the journal");
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, tx->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lg_kind_name(tx->kind), -1, SQLITE_STATIC);
	if (tx->ref_seq > 0)
		sqlite3_bind_int64(st, 4, tx->ref_seq);
	sqlite3_bind_text(st, 5, tx->date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, lg->now, -1, SQLITE_STATIC);
	if (tx->expires_at[0])
		sqlite3_bind_text(st, 7, tx->expires_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, tx->memo ? tx->memo : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, tx->meta ? tx->meta : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, content, LG_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 11, hash, LG_HASH_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return lg_sql_error(lg, err, "writing the journal");
	for (int i = 0; i < tx->n; i++) {
		unsigned char b[AMOUNT_BLOB_BYTES];
		st = lg_stmt(lg, ST_POSTING_INSERT);
		if (!st)
			return lg_sql_error(lg, err, "writing postings");
		amount_encode(tx->p[i].amount, b);
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int(st, 2, i);
		sqlite3_bind_int64(st, 3, tx->p[i].acct->id);
		sqlite3_bind_blob(st, 4, b, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return lg_sql_error(lg, err, "writing postings");
	}
	return LG_OK;
}

int lg_append_release(ledger *lg, struct lg_tx *tx, const struct lg_posting *rel,
                      int rel_n, int *replayed, lg_error *err)
{
	struct lg_tx_view v;
	unsigned char content[LG_HASH_BYTES], old[LG_HASH_BYTES], hash[LG_HASH_BYTES];
	long long seq, existing;
	int rc;

	LG_ASSERT(lg->in_tx && lg->cache != NULL);
	*replayed = 0;
	rc = check_rules(lg, tx, err);
	if (rc)
		return rc;
	seq = lg->head_seq + 1;
	lg_tx_view_of(tx, seq, lg->now, &v);
	if (lg_hash_content(lg, &v, content) != 0)
		return lg_error_set(err, LG_EINTERNAL, "SHA-256 failed");
	rc = find_id(lg, tx->id, &existing, old, err);
	if (rc)
		return rc;
	if (existing) {
		if (memcmp(old, content, LG_HASH_BYTES) != 0)
			return lg_error_set(err, LG_EDATA, "transaction '%s' conflicts with "
			                    "the one already posted as seq %lld under the "
			                    "same id", tx->id, existing);
		*replayed = 1;
		return LG_OK;
	}
	rc = apply_balances(tx, rel, rel_n, err);
	if (rc)
		return rc;
	if (lg_hash_chain(lg, lg->head_hash, &v, hash) != 0)
		return lg_error_set(err, LG_EINTERNAL, "SHA-256 failed");
	rc = insert_rows(lg, tx, seq, content, hash, err);
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

/* --- JSON Lines -------------------------------------------------------- */

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Metadata must stay exact too: fractional numbers are refused. */
static int meta_has_real(json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_real(v))
		return 1;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			if (meta_has_real(x))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (meta_has_real(x))
				return 1;
	}
	return 0;
}

static int parse_posting(ledger *lg, json_t *p, int i, struct lg_tx *tx,
                         lg_error *err)
{
	char idx[32], why[128];
	json_t *acct = json_object_get(p, "account");
	json_t *amt = json_object_get(p, "amount");
	json_t *asset = json_object_get(p, "asset");
	struct lg_acct *a = NULL;
	const char *k;
	json_t *x;
	int rc;

	snprintf(idx, sizeof idx, "postings[%d]", i);
	if (!json_is_object(p))
		return lg_error_set(err, LG_EDATA, "%s: must be an object", idx);
	json_object_foreach(p, k, x)
		if (strcmp(k, "account") && strcmp(k, "amount") && strcmp(k, "asset"))
			return lg_error_set(err, LG_EDATA, "%s: unknown field '%s'", idx, k);
	if (!json_is_string(acct))
		return lg_error_set(err, LG_EDATA, "%s.account: missing or not a string", idx);
	if (!json_is_string(amt))
		return lg_error_set(err, LG_EDATA, "%s.amount: missing or not a decimal string (numbers in "
		           "JSON are not exact)", idx);
	rc = lg_account_get(lg, json_string_value(acct), &a, err);
	if (rc) {
		char m[LG_MSG_MAX];
		snprintf(m, sizeof m, "%s", err->msg);
		return lg_error_set(err, rc == LG_ENOINPUT ? LG_EDATA : rc, "%s.account: %s",
		                    idx, m);
	}
	if (asset && (!json_is_string(asset) || strcmp(json_string_value(asset), a->asset)))
		return lg_error_set(err, LG_EDATA, "%s.asset: '%s' is not the asset of "
		                    "account '%s' (%s)", idx,
		                    json_is_string(asset) ? json_string_value(asset) : "?",
		                    a->code, a->asset);
	if (amount_parse(json_string_value(amt), json_string_length(amt), a->scale,
	                 &tx->p[i].amount, why, sizeof why) != 0)
		return lg_error_set(err, LG_EDATA, "%s.amount: '%.64s' is not an exact %s "
		                    "amount: %s", idx, json_string_value(amt), a->asset, why);
	tx->p[i].acct = a;
	return LG_OK;
}

static int parse_header(json_t *root, struct lg_tx *tx, lg_error *err)
{
	json_t *id = json_object_get(root, "id"), *date = json_object_get(root, "date");
	json_t *memo = json_object_get(root, "memo"), *pend = json_object_get(root, "pending");
	json_t *tmo = json_object_get(root, "timeout_s");
	const char *k;
	json_t *x;

	json_object_foreach(root, k, x)
		if (strcmp(k, "id") && strcmp(k, "date") && strcmp(k, "memo") &&
		    strcmp(k, "postings") && strcmp(k, "meta") && strcmp(k, "pending") &&
		    strcmp(k, "timeout_s"))
			return lg_error_set(err, LG_EDATA, "unknown field '%s'", k);
	if (!json_is_string(id) || json_string_length(id) == 0 ||
	    json_string_length(id) > LG_ID_MAX || has_control(json_string_value(id)))
		return lg_error_set(err, LG_EDATA, "id: missing, empty, longer than 128 bytes or holding "
		           "control characters");
	snprintf(tx->id, sizeof tx->id, "%s", json_string_value(id));
	if (!json_is_string(date) || !ledger_date_valid(json_string_value(date)))
		return lg_error_set(err, LG_EDATA, "transaction '%s': date: missing or not a calendar date "
		           "YYYY-MM-DD", tx->id);
	snprintf(tx->date, sizeof tx->date, "%s", json_string_value(date));
	if (memo && (!json_is_string(memo) || json_string_length(memo) > LG_MEMO_MAX))
		return lg_error_set(err, LG_EDATA, "transaction '%s': memo: not a string of at most 1000 "
		           "bytes", tx->id);
	tx->memo = memo ? (char *)json_string_value(memo) : "";
	if (pend && !json_is_boolean(pend))
		return lg_error_set(err, LG_EDATA, "transaction '%s': pending: must be true or false", tx->id);
	tx->kind = json_is_true(pend) ? LG_KIND_PENDING : LG_KIND_POSTED;
	if (tmo) {
		if (tx->kind != LG_KIND_PENDING)
			return lg_error_set(err, LG_EDATA, "transaction '%s': timeout_s: only a pending "
			           "transaction expires", tx->id);
		if (!json_is_integer(tmo) || json_integer_value(tmo) <= 0 ||
		    json_integer_value(tmo) > 366LL * 86400)
			return lg_error_set(err, LG_EDATA, "transaction '%s': timeout_s: must be a whole number "
			           "of seconds between 1 and 31622400", tx->id);
		tx->timeout_s = json_integer_value(tmo);
	}
	return LG_OK;
}

/* Parses one line into tx.  *meta_out is the caller's to free. */
static int parse_line(ledger *lg, const char *line, size_t len, struct lg_tx *tx,
                      json_t **root_out, char **meta_out, lg_error *err)
{
	json_error_t jerr;
	json_t *root, *postings, *meta;
	int rc;

	memset(tx, 0, offsetof(struct lg_tx, p));
	*meta_out = NULL;
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	*root_out = root;
	if (!root)
		return lg_error_set(err, LG_EDATA, "not valid JSON: %s (column %d)",
		                    jerr.text, jerr.column);
	if (!json_is_object(root))
		return lg_error_set(err, LG_EDATA, "a transaction must be a JSON object");
	rc = parse_header(root, tx, err);
	if (rc)
		return rc;
	meta = json_object_get(root, "meta");
	if (meta && (!json_is_object(meta) || meta_has_real(meta)))
		return lg_error_set(err, LG_EDATA, "transaction '%s': meta: must be an object without "
		           "fractional numbers (write them as strings)", tx->id);
	*meta_out = meta ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (meta && (!*meta_out || strlen(*meta_out) > LG_META_MAX))
		return lg_error_set(err, LG_EDATA, "transaction '%s': meta: larger than 8000 bytes", tx->id);
	tx->meta = *meta_out ? *meta_out : "{}";
	postings = json_object_get(root, "postings");
	if (!json_is_array(postings))
		return lg_error_set(err, LG_EDATA, "transaction '%s': postings: missing or not an array", tx->id);
	if (json_array_size(postings) > LG_POSTINGS_MAX)
		return lg_error_set(err, LG_EDATA, "transaction '%s': more than 64 postings", tx->id);
	tx->n = (int)json_array_size(postings);
	for (int i = 0; i < tx->n; i++) {
		rc = parse_posting(lg, json_array_get(postings, (size_t)i), i, tx, err);
		if (rc) {
			char m[LG_MSG_MAX];
			snprintf(m, sizeof m, "%s", err->msg);
			return lg_error_set(err, rc, "transaction '%s': %s", tx->id, m);
		}
	}
	if (tx->kind == LG_KIND_PENDING && tx->timeout_s > 0 &&
	    lg_timestamp_add(lg->now, tx->timeout_s, tx->expires_at) != 0)
		return lg_error_set(err, LG_EINTERNAL, "cannot compute the hold's expiry");
	return LG_OK;
}

/* Errors that say something about the line, as opposed to the machine. */
static int is_data_error(int code)
{
	return code == LG_EDATA || code == LG_ENOINPUT;
}

static int post_line(ledger *lg, const char *line, size_t len,
                     ledger_post_stats *stats, lg_error *err)
{
	struct lg_tx txbuf;
	struct lg_tx *tx = &txbuf;
	json_t *root = NULL;
	char *meta = NULL;
	int replayed = 0;
	int rc = lg_batch_trim(lg, err);

	if (!rc)
		rc = parse_line(lg, line, len, tx, &root, &meta, err);
	if (!rc)
		rc = lg_append(lg, tx, &replayed, err);
	if (!rc) {
		if (replayed)
			stats->replayed++;
		else
			stats->posted++;
	}
	free(meta);
	json_decref(root);
	return rc;
}

int ledger_post_stream(ledger *lg, FILE *in, ledger_post_stats *stats,
                       ledger_reject_fn reject, void *ctx, lg_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	long lineno = 0;
	int rc;

	memset(stats, 0, sizeof *stats);
	rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	while ((got = getline(&line, &cap, in)) >= 0) {
		size_t len = (size_t)got;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		stats->lines++;
		if (len > LG_LINE_MAX) {
			lg_error_set(err, LG_EDATA, "line longer than %d bytes", LG_LINE_MAX);
			rc = LG_EDATA;
		} else {
			rc = post_line(lg, line, len, stats, err);
		}
		if (rc) {
			err->line = lineno;
			stats->failed++;
			if (reject)
				reject(ctx, err);
			if (!is_data_error(rc))
				goto fail;
		}
	}
	if (ferror(in)) {
		rc = lg_error_set(err, LG_EIO, "reading input failed");
		goto fail;
	}
	if (stats->failed > 0) {
		rc = lg_error_set(err, LG_EDATA, "%ld of %ld transactions refused; nothing "
		                  "was posted", stats->failed, stats->lines);
		err->line = 0;
		goto fail;
	}
	free(line);
	return ledger_commit(lg, err);
fail:
	free(line);
	ledger_rollback(lg);
	stats->posted = 0;
	stats->replayed = 0;
	return rc;
}
