/*
 * accounts.c - assets, accounts, templates, and the per-batch account cache
 * that keeps running balances in memory while a file posts.
 *
 * The cache exists for speed: a million-line file touches the same accounts
 * again and again, and the balances are written back once, at commit.  It
 * lives only inside one database transaction (BEGIN IMMEDIATE), so what it
 * holds is exactly what the database holds for this writer.
 */
#include "ledger_int.h"

#include <fnmatch.h>
#include <string.h>

#define CACHE_BUCKETS_MIN 1024

static size_t hash_code(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int load_templates(ledger *lg, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	lg->templates_n = 0;
	if (sqlite3_prepare_v2(lg->db, "SELECT pattern, type, asset, no_overdraft"
	                       " FROM account_templates ORDER BY length(pattern) DESC, pattern",
	                       -1, &st,
	                       NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading templates");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct lg_template *t;
		if (lg->templates_n >= LG_TEMPLATES_MAX)
			break;
		t = &lg->templates[lg->templates_n++];
		snprintf(t->pattern, sizeof t->pattern, "%s", sqlite3_column_text(st, 0));
		LG_ASSERT(lg_acct_type_parse((const char *)sqlite3_column_text(st, 1),
		                             &t->type) == 0);
		snprintf(t->asset, sizeof t->asset, "%s", sqlite3_column_text(st, 2));
		t->flags = sqlite3_column_int(st, 3) ? LG_ACCOUNT_NO_OVERDRAFT : 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "reading templates");
}

static int load_head(ledger *lg, lg_error *err)
{
	sqlite3_stmt *st = lg_stmt(lg, ST_HEAD);
	int rc;

	if (!st)
		return lg_sql_error(lg, err, "reading the chain head");
	lg->head_seq = 0;
	memset(lg->head_hash, 0, LG_HASH_BYTES);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		lg->head_seq = sqlite3_column_int64(st, 0);
		LG_ASSERT(sqlite3_column_bytes(st, 1) == LG_HASH_BYTES);
		memcpy(lg->head_hash, sqlite3_column_blob(st, 1), LG_HASH_BYTES);
	} else if (rc != SQLITE_DONE) {
		return lg_sql_error(lg, err, "reading the chain head");
	}
	sqlite3_reset(st);
	return LG_OK;
}

static int load_closed_through(ledger *lg, lg_error *err)
{
	sqlite3_stmt *st = NULL;

	lg->closed_through[0] = '\0';
	if (sqlite3_prepare_v2(lg->db, "SELECT max(end_date) FROM period_closes", -1,
	                       &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading closed periods");
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT)
		snprintf(lg->closed_through, sizeof lg->closed_through, "%s",
		         sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return LG_OK;
}

int lg_batch_start(ledger *lg, lg_error *err)
{
	int rc;

	LG_ASSERT(lg->cache == NULL);
	lg->cache_buckets = CACHE_BUCKETS_MIN * 64;
	lg->cache = calloc(lg->cache_buckets, sizeof *lg->cache);
	if (!lg->cache)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	lg->cache_n = 0;
	rc = load_head(lg, err);
	if (!rc)
		rc = load_closed_through(lg, err);
	if (!rc)
		rc = load_templates(lg, err);
	return rc;
}

static void cache_clear(ledger *lg)
{
	for (size_t i = 0; lg->cache && i < lg->cache_buckets; i++) {
		struct lg_acct *a = lg->cache[i], *next;
		for (; a; a = next) {
			next = a->next;
			free(a->code);
			free(a);
		}
		lg->cache[i] = NULL;
	}
	lg->cache_n = 0;
}

void lg_batch_drop(ledger *lg)
{
	cache_clear(lg);
	free(lg->cache);
	lg->cache = NULL;
	lg->cache_buckets = 0;
}

static int balance_put(ledger *lg, const struct lg_acct *a, lg_error *err)
{
	unsigned char b1[AMOUNT_BLOB_BYTES], b2[AMOUNT_BLOB_BYTES], b3[AMOUNT_BLOB_BYTES];
	sqlite3_stmt *st = lg_stmt(lg, ST_BAL_PUT);

	if (!st)
		return lg_sql_error(lg, err, "writing balances");
	LG_ASSERT(a->pending_dr >= 0 && a->pending_cr <= 0);
	amount_encode(a->posted, b1);
	amount_encode(a->pending_dr, b2);
	amount_encode(a->pending_cr, b3);
	sqlite3_bind_int64(st, 1, a->id);
	sqlite3_bind_blob(st, 2, b1, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, b2, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, b3, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return lg_sql_error(lg, err, "writing balances");
	return LG_OK;
}

/* Writes every dirty balance back; the cache stays valid. */
static int cache_write_back(ledger *lg, lg_error *err)
{
	for (size_t i = 0; lg->cache && i < lg->cache_buckets; i++) {
		for (struct lg_acct *a = lg->cache[i]; a; a = a->next) {
			if (!a->dirty)
				continue;
			int rc = balance_put(lg, a, err);
			if (rc)
				return rc;
			a->dirty = 0;
		}
	}
	return LG_OK;
}

int lg_batch_trim(ledger *lg, lg_error *err)
{
	int rc;

	if (lg->cache_n < LG_CACHE_ACCOUNTS_MAX)
		return LG_OK;
	/* Bound memory: write balances back and start the cache afresh. */
	rc = cache_write_back(lg, err);
	if (!rc)
		cache_clear(lg);
	return rc;
}

int lg_batch_flush(ledger *lg, lg_error *err)
{
	int rc = cache_write_back(lg, err);
	lg_batch_drop(lg);
	return rc;
}

amount_minor_t lg_available(const struct lg_acct *a)
{
	/* Holds count against the account only in the direction that reduces
	 * its normal balance; incoming holds are not spendable until posted. */
	return lg_acct_type_sign(a->type) > 0 ? a->posted + a->pending_cr
	                                       : a->posted + a->pending_dr;
}

static int load_account(ledger *lg, const char *code, struct lg_acct **out,
                        lg_error *err)
{
	sqlite3_stmt *st = lg_stmt(lg, ST_ACCT_BY_CODE);
	struct lg_acct *a;
	int rc;

	*out = NULL;
	if (!st)
		return lg_sql_error(lg, err, "reading accounts");
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return LG_OK;
	if (rc != SQLITE_ROW)
		return lg_sql_error(lg, err, "reading accounts");
	a = calloc(1, sizeof *a);
	if (!a || !(a->code = strdup(code))) {
		free(a);
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	}
	a->id = sqlite3_column_int64(st, 0);
	LG_ASSERT(lg_acct_type_parse((const char *)sqlite3_column_text(st, 1), &a->type) == 0);
	snprintf(a->asset, sizeof a->asset, "%s", sqlite3_column_text(st, 2));
	a->scale = sqlite3_column_int(st, 3);
	a->flags = sqlite3_column_int(st, 4) ? LG_ACCOUNT_NO_OVERDRAFT : 0;
	a->closed = sqlite3_column_int(st, 5);
	sqlite3_reset(st);

	st = lg_stmt(lg, ST_BAL_GET);
	if (!st) {
		free(a->code);
		free(a);
		return lg_sql_error(lg, err, "reading balances");
	}
	sqlite3_bind_int64(st, 1, a->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		LG_ASSERT(sqlite3_column_bytes(st, 0) == AMOUNT_BLOB_BYTES);
		a->posted = amount_decode(sqlite3_column_blob(st, 0));
		a->pending_dr = amount_decode(sqlite3_column_blob(st, 1));
		a->pending_cr = amount_decode(sqlite3_column_blob(st, 2));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(a->code);
		free(a);
		return lg_sql_error(lg, err, "reading balances");
	}
	*out = a;
	return LG_OK;
}

static int open_from_template(ledger *lg, const char *code, int *opened,
                              lg_error *err)
{
	*opened = 0;
	for (int i = 0; i < lg->templates_n; i++) {
		const struct lg_template *t = &lg->templates[i];
		if (fnmatch(t->pattern, code, 0) != 0)
			continue;
		int rc = ledger_account_add(lg, code, lg_acct_type_name(t->type),
		                            t->asset, t->flags, NULL, err);
		if (rc)
			return rc;
		*opened = 1;
		return LG_OK;
	}
	return LG_OK;
}

int lg_account_get(ledger *lg, const char *code, struct lg_acct **out,
                   lg_error *err)
{
	size_t b;
	struct lg_acct *a;
	int rc, opened;

	LG_ASSERT(lg->cache != NULL);
	b = hash_code(code) % lg->cache_buckets;
	for (a = lg->cache[b]; a; a = a->next) {
		if (strcmp(a->code, code) == 0) {
			*out = a;
			return LG_OK;
		}
	}
	rc = load_account(lg, code, &a, err);
	if (rc)
		return rc;
	if (!a) {
		rc = open_from_template(lg, code, &opened, err);
		if (rc)
			return rc;
		if (opened)
			rc = load_account(lg, code, &a, err);
		if (rc)
			return rc;
		if (!a) {
			*out = NULL;
			return lg_error_set(err, LG_ENOINPUT, "account '%s' does not exist "
			                    "and matches no template", code);
		}
	}
	a->next = lg->cache[b];
	lg->cache[b] = a;
	lg->cache_n++;
	*out = a;
	return LG_OK;
}

/* --- assets ------------------------------------------------------------ */

int ledger_asset_add(ledger *lg, const char *code, int scale, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, existing;

	if (!lg_asset_code_valid(code))
		return lg_error_set(err, LG_EDATA, "asset code '%s' must be 2-16 upper-case "
		                    "letters or digits, starting with a letter", code);
	if (scale < 0 || scale > AMOUNT_SCALE_MAX)
		return lg_error_set(err, LG_EDATA, "asset '%s': scale %d is outside 0..18",
		                    code, scale);
	if (ledger_asset_scale(lg, code, &existing, NULL) == LG_OK) {
		if (existing == scale)
			return LG_OK; /* idempotent */
		return lg_error_set(err, LG_EDATA, "asset '%s' already exists with scale "
		                    "%d; a scale never changes", code, existing);
	}
	if (sqlite3_prepare_v2(lg->db, "INSERT INTO assets(code, scale, created_at)"
	                       " VALUES(?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "adding asset");
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, scale);
	sqlite3_bind_text(st, 3, lg->now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "adding asset");
	sqlite3_finalize(st);
	return rc;
}

int ledger_asset_scale(ledger *lg, const char *code, int *scale, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT scale FROM assets WHERE code = ?1", -1,
	                       &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading assets");
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*scale = sqlite3_column_int(st, 0);
		rc = LG_OK;
	} else if (rc == SQLITE_DONE) {
		rc = lg_error_set(err, LG_ENOINPUT, "asset '%s' does not exist", code);
	} else {
		rc = lg_sql_error(lg, err, "reading assets");
	}
	sqlite3_finalize(st);
	return rc;
}

int ledger_asset_list(ledger *lg, ledger_asset_fn fn, void *ctx, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT code, scale FROM assets ORDER BY code",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading assets");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int stop = fn(ctx, (const char *)sqlite3_column_text(st, 0),
		              sqlite3_column_int(st, 1));
		if (stop) {
			sqlite3_finalize(st);
			return stop;
		}
	}
	rc = rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "reading assets");
	sqlite3_finalize(st);
	return rc;
}

/* --- accounts ---------------------------------------------------------- */

static int check_account_fields(ledger *lg, const char *code, const char *type,
                                const char *asset, lg_error *err)
{
	enum lg_acct_type t;
	int scale;

	if (!lg_code_valid(code))
		return lg_error_set(err, LG_EDATA, "account code '%s' must be lower-case "
		                    "segments of a-z 0-9 _ . - separated by ':'", code);
	if (lg_acct_type_parse(type, &t) != 0)
		return lg_error_set(err, LG_EDATA, "account '%s': type '%s' is not one of "
		                    "asset, liability, equity, income, expense", code, type);
	if (ledger_asset_scale(lg, asset, &scale, NULL) != LG_OK)
		return lg_error_set(err, LG_EDATA, "account '%s': asset '%s' does not "
		                    "exist (add it with 'clearbook asset add')", code, asset);
	return LG_OK;
}

/* Runs a "does the stored row say the same" query keyed by ?1 with type,
 * asset and flags bound to ?2..?4; *same is 1 when it does. */
static int row_matches(ledger *lg, const char *sql, const char *key,
                       const char *type, const char *asset, unsigned flags,
                       int *same, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*same = 0;
	if (sqlite3_prepare_v2(lg->db, sql, -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading accounts");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, asset, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (flags & LG_ACCOUNT_NO_OVERDRAFT) ? 1 : 0);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*same = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? LG_OK : lg_sql_error(lg, err, "reading accounts");
}

/* Adding an account that exists is a no-op when it is the same account,
 * so that set-up scripts can run twice; anything else is a conflict. */
static int same_account(ledger *lg, const char *code, const char *type,
                        const char *asset, unsigned flags, lg_error *err)
{
	int same, rc = row_matches(lg, "SELECT type = ?2 AND asset = ?3 AND"
	                           " no_overdraft = ?4 AND closed_at IS NULL FROM"
	                           " accounts WHERE code = ?1", code, type, asset,
	                           flags, &same, err);
	if (rc || same)
		return rc;
	return lg_error_set(err, LG_EDATA, "account '%s' already exists with another "
	                    "type, asset or flags, or is closed", code);
}

int ledger_account_add(ledger *lg, const char *code, const char *type,
                       const char *asset, unsigned flags, const char *meta_json,
                       lg_error *err)
{
	sqlite3_stmt *st;
	int rc = check_account_fields(lg, code, type, asset, err);

	if (rc)
		return rc;
	st = lg_stmt(lg, ST_ACCT_INSERT);
	if (!st)
		return lg_sql_error(lg, err, "adding account");
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, asset, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (flags & LG_ACCOUNT_NO_OVERDRAFT) ? 1 : 0);
	sqlite3_bind_text(st, 5, meta_json ? meta_json : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, lg->now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return same_account(lg, code, type, asset, flags, err);
	if (rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "adding account");
	return LG_OK;
}

int ledger_account_close(ledger *lg, const char *code, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "UPDATE accounts SET closed_at = ?2"
	                       " WHERE code = ?1 AND closed_at IS NULL", -1, &st,
	                       NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "closing account");
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lg->now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "closing account");
	if (sqlite3_changes(lg->db) == 1)
		return LG_OK;
	return lg_error_set(err, LG_ENOINPUT, "account '%s' does not exist or is "
	                    "already closed", code);
}

static int walk_accounts(ledger *lg, sqlite3_stmt *st, int with_dates,
                         ledger_account_fn fn, void *ctx, lg_error *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ledger_account_info info;
		info.code = (const char *)sqlite3_column_text(st, 0);
		info.type = (const char *)sqlite3_column_text(st, 1);
		info.asset = (const char *)sqlite3_column_text(st, 2);
		info.scale = sqlite3_column_int(st, 3);
		info.flags = sqlite3_column_int(st, 4) ? LG_ACCOUNT_NO_OVERDRAFT : 0;
		info.meta = with_dates ? (const char *)sqlite3_column_text(st, 5) : "{}";
		info.opened_at = with_dates ? (const char *)sqlite3_column_text(st, 6) : NULL;
		info.closed_at = with_dates ? (const char *)sqlite3_column_text(st, 7) : NULL;
		int stop = fn(ctx, &info);
		if (stop)
			return stop;
	}
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "reading accounts");
}

int ledger_account_list(ledger *lg, const char *prefix, ledger_account_fn fn,
                        void *ctx, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT a.code, a.type, a.asset, s.scale,"
	                       " a.no_overdraft, a.meta, a.opened_at, a.closed_at"
	                       " FROM accounts a JOIN assets s ON s.code = a.asset"
	                       " WHERE ?1 IS NULL OR a.code = ?1"
	                       " OR substr(a.code, 1, length(?1) + 1) = ?1 || ':'"
	                       " ORDER BY a.code", -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading accounts");
	if (prefix)
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	rc = walk_accounts(lg, st, 1, fn, ctx, err);
	sqlite3_finalize(st);
	return rc;
}

static int same_template(ledger *lg, const char *pattern, const char *type,
                         const char *asset, unsigned flags, lg_error *err)
{
	int same, rc = row_matches(lg, "SELECT type = ?2 AND asset = ?3 AND"
	                           " no_overdraft = ?4 FROM account_templates"
	                           " WHERE pattern = ?1", pattern, type, asset, flags,
	                           &same, err);
	if (rc || same)
		return rc;
	return lg_error_set(err, LG_EDATA, "template '%s' already exists with another "
	                    "type, asset or flags", pattern);
}

int ledger_template_add(ledger *lg, const char *pattern, const char *type,
                        const char *asset, unsigned flags, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	enum lg_acct_type t;
	int scale, rc;

	if (strlen(pattern) == 0 || strlen(pattern) > LG_CODE_MAX)
		return lg_error_set(err, LG_EDATA, "template pattern '%s' is empty or too "
		                    "long", pattern);
	if (lg_acct_type_parse(type, &t) != 0)
		return lg_error_set(err, LG_EDATA, "template '%s': type '%s' is not one "
		                    "of asset, liability, equity, income, expense",
		                    pattern, type);
	if (ledger_asset_scale(lg, asset, &scale, NULL) != LG_OK)
		return lg_error_set(err, LG_EDATA, "template '%s': asset '%s' does not "
		                    "exist", pattern, asset);
	if (sqlite3_prepare_v2(lg->db, "INSERT INTO account_templates(pattern, type,"
	                       " asset, no_overdraft, created_at) VALUES(?1,?2,?3,?4,?5)",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "adding template");
	sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, asset, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (flags & LG_ACCOUNT_NO_OVERDRAFT) ? 1 : 0);
	sqlite3_bind_text(st, 5, lg->now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return same_template(lg, pattern, type, asset, flags, err);
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "adding template");
}

int ledger_template_list(ledger *lg, ledger_account_fn fn, void *ctx,
                         lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT t.pattern, t.type, t.asset, s.scale,"
	                       " t.no_overdraft FROM account_templates t"
	                       " JOIN assets s ON s.code = t.asset ORDER BY t.pattern",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading templates");
	rc = walk_accounts(lg, st, 0, fn, ctx, err);
	sqlite3_finalize(st);
	return rc;
}
