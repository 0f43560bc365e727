/*
 * store.c - the clearing module's tables, helpers over the ledger's SQLite
 * handle, the break record and the string arena.
 *
 * Every table is append-only (triggers refuse UPDATE and DELETE), like the
 * journal: an unmatch is a row of its own, a resolved break stays recorded.
 */
#include "clearing_int.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../ledger/ledger_sql.h"

static const char *const schema_sql =
	/* A match is a row of clearing_match_rows; what every match of a run
	 * repeats (channel, time, user, reason) is a row of clearing_match_sets
	 * it names.  settlement_id is unique because it is a journal
	 * transaction id and a match is recorded only with a settlement newly
	 * posted (recon.c refuses a replayed one); no index is spent on it.
	 * A match of one line and one item (nearly all of them) keeps both in
	 * its own row (line_id, item_seq); any other lists its lines and items
	 * as text for reading and has a pair per line and per item, keyed by
	 * line and by item, as the single ones are by two partial indexes (how
	 * the passes, the break list and the reports ask).  The views below
	 * give every match and pair alike, under the names and columns of the
	 * tables they replace; a lookup by line or item through them reaches
	 * both indexes. */
	"CREATE TABLE IF NOT EXISTS clearing_match_sets(id INTEGER PRIMARY KEY,"
	"  channel TEXT NOT NULL, created_at TEXT NOT NULL, user TEXT NOT NULL,"
	"  reason TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS clearing_match_rows(id INTEGER PRIMARY KEY,"
	"  set_id INTEGER NOT NULL REFERENCES clearing_match_sets(id),"
	"  rule TEXT NOT NULL, settlement_id TEXT NOT NULL, lines TEXT NOT NULL,"
	"  items TEXT NOT NULL, line_id INTEGER, item_seq INTEGER,"
	"  CHECK((line_id IS NULL) = (item_seq IS NULL)));"
	"CREATE INDEX IF NOT EXISTS clearing_match_rows_line ON clearing_match_rows(line_id)"
	"  WHERE line_id IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS clearing_match_rows_item ON clearing_match_rows(item_seq)"
	"  WHERE item_seq IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS clearing_match_line_pairs(line_id INTEGER NOT NULL,"
	"  match_id INTEGER NOT NULL REFERENCES clearing_match_rows(id),"
	"  PRIMARY KEY(line_id, match_id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS clearing_match_item_pairs(item_seq INTEGER NOT NULL,"
	"  match_id INTEGER NOT NULL REFERENCES clearing_match_rows(id),"
	"  PRIMARY KEY(item_seq, match_id)) WITHOUT ROWID;"
	"CREATE VIEW IF NOT EXISTS clearing_matches(id, channel, rule, settlement_id,"
	"  created_at, user, reason, lines, items) AS SELECT r.id, s.channel, r.rule,"
	"  r.settlement_id, s.created_at, s.user, s.reason,"
	"  CASE WHEN r.line_id IS NULL THEN r.lines ELSE CAST(r.line_id AS TEXT) END,"
	"  CASE WHEN r.item_seq IS NULL THEN r.items"
	"   ELSE (SELECT t.id FROM transactions t WHERE t.seq = r.item_seq) END"
	"  FROM clearing_match_rows r JOIN clearing_match_sets s ON s.id = r.set_id;"
	"CREATE VIEW IF NOT EXISTS clearing_match_lines(line_id, match_id) AS"
	"  SELECT line_id, match_id FROM clearing_match_line_pairs UNION ALL"
	"  SELECT line_id, id FROM clearing_match_rows WHERE line_id IS NOT NULL;"
	"CREATE VIEW IF NOT EXISTS clearing_match_items(item_seq, match_id) AS"
	"  SELECT item_seq, match_id FROM clearing_match_item_pairs UNION ALL"
	"  SELECT item_seq, id FROM clearing_match_rows WHERE item_seq IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS clearing_unmatches(match_id INTEGER PRIMARY KEY"
	"  REFERENCES clearing_match_rows(id), reversal_id TEXT NOT NULL,"
	"  created_at TEXT NOT NULL, user TEXT NOT NULL, reason TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS clearing_breaks(id INTEGER PRIMARY KEY,"
	"  date TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL,"
	"  line_id INTEGER NOT NULL, item_seq INTEGER NOT NULL, tx_id TEXT,"
	"  amount BLOB, asset TEXT, scale INTEGER, age_days INTEGER NOT NULL,"
	"  reason TEXT NOT NULL, candidates TEXT NOT NULL,"
	"  UNIQUE(date, channel, kind, line_id, item_seq));"
	"CREATE TABLE IF NOT EXISTS nightly_runs(id INTEGER PRIMARY KEY,"
	"  date TEXT NOT NULL, started_at TEXT NOT NULL, pid INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS nightly_steps(id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES nightly_runs(id), step TEXT NOT NULL,"
	"  event TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL);";

/* Every clearing table is append-only, like the journal. */
#define APPEND_ONLY(t)                                                         \
	"CREATE TRIGGER IF NOT EXISTS " t "_no_update BEFORE UPDATE ON " t          \
	" BEGIN SELECT RAISE(ABORT, '" t " is append-only'); END;"                \
	"CREATE TRIGGER IF NOT EXISTS " t "_no_delete BEFORE DELETE ON " t          \
	" BEGIN SELECT RAISE(ABORT, '" t " is append-only'); END;"

static const char *const triggers_sql =
	APPEND_ONLY("clearing_match_sets")
	APPEND_ONLY("clearing_match_rows")
	APPEND_ONLY("clearing_match_line_pairs")
	APPEND_ONLY("clearing_match_item_pairs")
	APPEND_ONLY("clearing_unmatches")
	APPEND_ONLY("clearing_breaks")
	APPEND_ONLY("nightly_runs")
	APPEND_ONLY("nightly_steps");

_Noreturn void clr_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "clearbook: internal error: %s:%d: assertion '%s' failed\n",
	        file, line, what);
	abort();
}

int clr_sql_error(ledger *lg, lg_error *err, const char *what)
{
	sqlite3 *db = ledger_sqlite(lg);
	int code = sqlite3_errcode(db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return lg_error_set(err, LG_EBUSY, "%s: the database is busy", what);
	/* The ledger names the database file and the system's reason. */
	if (code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_READONLY ||
	    code == SQLITE_CANTOPEN || code == SQLITE_PERM)
		return ledger_sql_error(lg, err, what);
	return lg_error_set(err, LG_EINTERNAL, "%s: %s", what, sqlite3_errmsg(db));
}

int clr_prepare(ledger *lg, const char *sql, sqlite3_stmt **out, lg_error *err)
{
	*out = NULL;
	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, out, NULL) != SQLITE_OK)
		return clr_sql_error(lg, err, "preparing a clearing query");
	return LG_OK;
}

/* A ledger reconciled before clearing_match_sets had one table of matches
 * (clearing_matches) and two of pairs.  The pairs are renamed to what they
 * are now, the tables of now created (schema_sql: the view named like the
 * old table waits), each match copied into them, unchanged as the view
 * shows it, and the old table dropped; all or nothing. */
static const char *const migrate_rename_sql =
	"ALTER TABLE clearing_match_lines RENAME TO clearing_match_line_pairs;"
	"ALTER TABLE clearing_match_items RENAME TO clearing_match_item_pairs;";
static const char *const migrate_copy_sql =
	"INSERT INTO clearing_match_sets(channel, created_at, user, reason)"
	"  SELECT channel, created_at, user, reason FROM clearing_matches"
	"  GROUP BY channel, created_at, user, reason ORDER BY min(id);"
	"INSERT INTO clearing_match_rows(id, set_id, rule, settlement_id, lines, items)"
	"  SELECT m.id, s.id, m.rule, m.settlement_id, m.lines, m.items"
	"  FROM clearing_matches m JOIN clearing_match_sets s ON s.channel = m.channel"
	"  AND s.created_at = m.created_at AND s.user = m.user AND s.reason = m.reason"
	"  ORDER BY m.id;"
	"DROP TABLE clearing_matches;";

int clr_query_int64(ledger *lg, const char *sql, long long *out, const char *what,
                    lg_error *err)
{
	sqlite3_stmt *st;
	int rc = clr_prepare(lg, sql, &st, err);

	if (rc)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rc = clr_sql_error(lg, err, what);
	sqlite3_finalize(st);
	return rc;
}

static int migrate(ledger *lg, lg_error *err)
{
	sqlite3 *db = ledger_sqlite(lg);
	const char *const steps[] = { migrate_rename_sql, schema_sql, migrate_copy_sql };
	int rc = LG_OK;

	if (sqlite3_exec(db, "SAVEPOINT clr_migrate", NULL, NULL, NULL) != SQLITE_OK)
		return clr_sql_error(lg, err, "moving the matches to clearing_match_rows");
	for (size_t i = 0; i < sizeof steps / sizeof *steps && !rc; i++)
		if (sqlite3_exec(db, steps[i], NULL, NULL, NULL) != SQLITE_OK)
			rc = clr_sql_error(lg, err, "moving the matches to clearing_match_rows");
	if (rc)
		sqlite3_exec(db, "ROLLBACK TO clr_migrate", NULL, NULL, NULL);
	sqlite3_exec(db, "RELEASE clr_migrate", NULL, NULL, NULL);
	return rc;
}

int clr_schema(ledger *lg, lg_error *err)
{
	sqlite3 *db = ledger_sqlite(lg);
	long long legacy = 0;
	/* clearing_matches a table, not the view: the tables of old (migrate). */
	int rc = clr_query_int64(lg, "SELECT count(*) FROM sqlite_master WHERE"
	                         " type = 'table' AND name = 'clearing_matches'", &legacy,
	                         "reading the schema", err);

	if (rc)
		return rc;
	/* Read-only, the old tables answer every query as the new views do. */
	if (legacy && sqlite3_db_readonly(db, "main") == 1)
		return LG_OK;
	if (legacy) {
		rc = migrate(lg, err);
		if (rc)
			return rc;
	}
	if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		return clr_sql_error(lg, err, "creating the clearing tables");
	if (sqlite3_exec(db, triggers_sql, NULL, NULL, NULL) != SQLITE_OK)
		return clr_sql_error(lg, err, "creating the clearing triggers");
	return LG_OK;
}

int clr_break_add(ledger *lg, sqlite3_stmt **cache, const char *date,
                  const char *channel, const char *kind, long long line_id,
                  long long item_seq, const char *tx_id, amount_minor_t amount,
                  const char *asset, int scale, long age_days, const char *reason,
                  const char *candidates, lg_error *err)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO clearing_breaks(date, channel, kind, line_id,"
		" item_seq, tx_id, amount, asset, scale, age_days, reason, candidates)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	unsigned char blob[AMOUNT_BLOB_BYTES];
	sqlite3_stmt *st = cache ? *cache : NULL;
	int rc = st ? LG_OK : clr_prepare(lg, sql, &st, err);

	if (rc)
		return rc;
	if (cache)
		*cache = st;
	CLR_ASSERT(line_id > 0 || item_seq > 0 || tx_id != NULL);
	amount_encode(amount, blob);
	sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, line_id);
	sqlite3_bind_int64(st, 5, item_seq);
	if (tx_id)
		sqlite3_bind_text(st, 6, tx_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, blob, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
	if (asset)
		sqlite3_bind_text(st, 8, asset, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, scale);
	sqlite3_bind_int64(st, 10, age_days);
	sqlite3_bind_text(st, 11, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, candidates ? candidates : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = clr_sql_error(lg, err, "recording a break");
	if (cache) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	return rc;
}

int clr_breaks_list(ledger *lg, const char *date, const char *channel,
                    clr_break_fn fn, void *ctx, lg_error *err)
{
	/* A break is resolved once its line or item is in a match that was not
	 * undone. */
	static const char sql[] =
		"SELECT b.id, b.date, b.channel, b.kind, b.line_id, b.tx_id, b.amount,"
		" b.asset, b.scale, b.age_days, b.reason, b.candidates,"
		" (b.kind NOT IN ('late', 'payout-rejected') AND ("
		"  EXISTS(SELECT 1 FROM clearing_match_lines ml WHERE ml.line_id = b.line_id"
		"   AND b.line_id > 0 AND NOT EXISTS(SELECT 1 FROM clearing_unmatches u"
		"   WHERE u.match_id = ml.match_id))"
		"  OR EXISTS(SELECT 1 FROM clearing_match_items mi WHERE"
		"   mi.item_seq = b.item_seq AND b.item_seq > 0 AND NOT EXISTS(SELECT 1"
		"   FROM clearing_unmatches u WHERE u.match_id = mi.match_id))))"
		" FROM clearing_breaks b"
		" WHERE b.date = COALESCE(?1, (SELECT max(date) FROM clearing_breaks))"
		"  AND (?2 IS NULL OR b.channel = ?2)"
		" ORDER BY b.channel, b.kind, b.line_id, b.item_seq";
	sqlite3_stmt *st;
	int rc = clr_prepare(lg, sql, &st, err), step;

	if (rc)
		return rc;
	if (date)
		sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
	if (channel)
		sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		clr_break_row r;
		char amount[AMOUNT_TEXT_MAX];
		amount[0] = '\0';
		memset(&r, 0, sizeof r);
		r.id = sqlite3_column_int64(st, 0);
		r.date = (const char *)sqlite3_column_text(st, 1);
		r.channel = (const char *)sqlite3_column_text(st, 2);
		r.kind = (const char *)sqlite3_column_text(st, 3);
		r.line_id = sqlite3_column_int64(st, 4);
		r.tx_id = (const char *)sqlite3_column_text(st, 5);
		if (sqlite3_column_bytes(st, 6) == AMOUNT_BLOB_BYTES)
			amount_format(amount_decode(sqlite3_column_blob(st, 6)),
			              sqlite3_column_int(st, 8), amount, sizeof amount);
		r.amount = amount;
		r.asset = (const char *)sqlite3_column_text(st, 7);
		r.age_days = (long)sqlite3_column_int64(st, 9);
		r.reason = (const char *)sqlite3_column_text(st, 10);
		r.candidates = (const char *)sqlite3_column_text(st, 11);
		r.resolved = sqlite3_column_int(st, 12);
		rc = fn(ctx, &r);
		if (rc)
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = clr_sql_error(lg, err, "reading breaks");
	sqlite3_finalize(st);
	return rc;
}

int clr_matches_list(ledger *lg, const char *channel, clr_match_fn fn, void *ctx,
                     lg_error *err)
{
	static const char sql[] =
		"SELECT m.id, m.channel, m.rule, m.settlement_id, m.created_at, m.user,"
		" m.reason, m.lines, m.items, EXISTS(SELECT 1 FROM clearing_unmatches u WHERE u.match_id = m.id)"
		" FROM clearing_matches m WHERE (?1 IS NULL OR m.channel = ?1)"
		" ORDER BY m.id";
	sqlite3_stmt *st;
	int rc = clr_prepare(lg, sql, &st, err), step;

	if (rc)
		return rc;
	if (channel)
		sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		clr_match_row r;
		r.id = sqlite3_column_int64(st, 0);
		r.channel = (const char *)sqlite3_column_text(st, 1);
		r.rule = (const char *)sqlite3_column_text(st, 2);
		r.settlement_id = (const char *)sqlite3_column_text(st, 3);
		r.created_at = (const char *)sqlite3_column_text(st, 4);
		r.user = (const char *)sqlite3_column_text(st, 5);
		r.reason = (const char *)sqlite3_column_text(st, 6);
		r.lines = (const char *)sqlite3_column_text(st, 7);
		r.items = (const char *)sqlite3_column_text(st, 8);
		r.undone = sqlite3_column_int(st, 9);
		rc = fn(ctx, &r);
		if (rc)
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = clr_sql_error(lg, err, "reading matches");
	sqlite3_finalize(st);
	return rc;
}

int clr_step_event(ledger *lg, long long run_id, const char *step,
                   const char *event, const char *detail, lg_error *err)
{
	static const char sql[] =
		"INSERT INTO nightly_steps(run_id, step, event, at, detail)"
		" VALUES(?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *st;
	int rc = clr_prepare(lg, sql, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, step, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ledger_now(lg), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = clr_sql_error(lg, err, "recording a nightly step");
	sqlite3_finalize(st);
	return rc;
}

void clr_advise_huge(void *p, size_t bytes)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t from, to;

	if (!p || bytes < CLR_HUGE_MIN_BYTES)
		return;
	from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	to = ((uintptr_t)p + bytes) & ~(huge - 1);
#ifdef MADV_HUGEPAGE
	if (to > from)
		(void)madvise((void *)from, to - from, MADV_HUGEPAGE);
#else
	(void)from;
	(void)to;
#endif
}

void *clr_realloc(void *p, size_t old_bytes, size_t new_bytes)
{
	void *q;

	if (new_bytes < CLR_HUGE_MIN_BYTES)
		return realloc(p, new_bytes);
	q = malloc(new_bytes);
	if (!q)
		return NULL;
	clr_advise_huge(q, new_bytes);
	if (p)
		memcpy(q, p, old_bytes < new_bytes ? old_bytes : new_bytes);
	free(p);
	return q;
}

int clr_grow(void *pp, int *cap, int need, size_t elem_bytes)
{
	void **p = pp;
	int n = *cap ? *cap : 256;
	void *q;

	if (need < *cap)
		return 0;
	if (need >= CLR_ARRAY_MAX)
		return -1;
	while (n <= need)
		n *= 2;
	if (n > CLR_ARRAY_MAX)
		n = CLR_ARRAY_MAX;
	q = clr_realloc(*p, (size_t)*cap * elem_bytes, (size_t)n * elem_bytes);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* --- arena -------------------------------------------------------------- */
struct clr_chunk {
	struct clr_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

void clr_arena_init(struct clr_arena *a)
{
	a->head = NULL;
}

void clr_arena_release(struct clr_arena *a)
{
	struct clr_chunk *c = a->head;
	while (c) {
		struct clr_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

void *clr_arena_alloc(struct clr_arena *a, size_t bytes)
{
	struct clr_chunk *c = a->head;
	size_t need = (bytes + 15) & ~(size_t)15;

	if (!c || c->cap - c->used < need) {
		size_t cap = need > CLR_ARENA_CHUNK_BYTES ? need : CLR_ARENA_CHUNK_BYTES;
		c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		clr_advise_huge(c, sizeof *c + cap);
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	c->used += need;
	return c->data + c->used - need;
}

const char *clr_arena_strndup(struct clr_arena *a, const char *text, size_t len)
{
	char *p;

	if (!text)
		return NULL;
	p = clr_arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	memcpy(p, text, len);
	p[len] = '\0';
	return p;
}

static int count_query(ledger *lg, const char *sql, const char *a, const char *b,
                       const char *c, long *out, lg_error *err)
{
	sqlite3_stmt *st;
	int rc = clr_prepare(lg, sql, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (c)
		sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	else
		rc = clr_sql_error(lg, err, "counting");
	sqlite3_finalize(st);
	return rc;
}

static int count_break_cb(void *ctx, const clr_break_row *r)
{
	clr_summary *s = ctx;
	s->breaks++;
	s->breaks_open += !r->resolved;
	return 0;
}

int clr_channel_summary(ledger *lg, const char *channel, const char *date,
                        clr_summary *out, lg_error *err)
{
	static const char lines_sql[] =
		"SELECT count(*) FROM statement_lines WHERE channel = ?1 AND parent_id IS"
		" NULL AND COALESCE(booking_date, value_date, '') <= ?2";
	static const char matched_sql[] =
		"SELECT count(*) FROM statement_lines l WHERE l.channel = ?1 AND"
		" l.parent_id IS NULL AND COALESCE(l.booking_date, l.value_date, '') <= ?2"
		" AND EXISTS(SELECT 1 FROM clearing_match_lines ml WHERE ml.line_id = l.id"
		" AND NOT EXISTS(SELECT 1 FROM clearing_unmatches u WHERE"
		" u.match_id = ml.match_id))";
	static const char rule_sql[] =
		"SELECT count(*) FROM clearing_matches m WHERE m.channel = ?1 AND"
		" substr(m.created_at, 1, 10) <= ?2 AND m.rule = ?3 AND NOT EXISTS(SELECT 1"
		" FROM clearing_unmatches u WHERE u.match_id = m.id)";
	int rc;

	memset(out, 0, sizeof *out);
	rc = clr_schema(lg, err);
	if (!rc)
		rc = count_query(lg, lines_sql, channel, date, NULL, &out->lines, err);
	if (!rc)
		rc = count_query(lg, matched_sql, channel, date, NULL, &out->lines_matched,
		                 err);
	for (int k = 0; k < 5 && !rc; k++)
		rc = count_query(lg, rule_sql, channel, date, clr_rule_names[k],
		                 &out->matches_by_rule[k], err);
	if (!rc)
		rc = clr_breaks_list(lg, date, channel, count_break_cb, out, err);
	return rc;
}
