/*
 * recon.c - reconciliation of one channel: statement lines against the
 * open items of its clearing accounts, in four passes, each match posted as
 * a settlement transaction through the ledger.
 *
 * Everything is loaded into memory once (lines in staging order, items in
 * journal order) and indexed by hash, so a pass costs a lookup per line; the
 * order of lines, items and passes is fixed, so the same data always gives
 * the same matches, the same settlement ids and the same chain head, also
 * when a killed run is resumed (matches commit in batches together with their
 * settlements, and a resumed run no longer sees what was committed).
 */
#include "clearing_int.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../ledger/ledger_sql.h"
#include "../ledger/bgwrite.h"
#include "../ledger/ckpt.h"

const char *const clr_rule_names[5] = { "reference", "amount", "one-to-many",
                                        "many-to-one", "manual" };

#define ACCTS_MAX 8            /* clearing accounts of one channel */
#define ITEM_REFS 3            /* meta references kept per item */
#define LINE_KEYS 4            /* reference fields of a statement line */
#define SETTLE_META_MAX 1024  /* bytes of a settlement's metadata */
#define MATCH_MEMBERS_MAX LG_POSTINGS_MAX /* lines or items in one match */

/* ST_HUGE: an amount beyond amount_abs_max() (10^29 minor units, more
 * than any token's supply even at 18 decimals) takes no part in matching,
 * so that the sums of up to CLR_ARRAY_MAX of them stay inside 128 bits;
 * it is reported as an out-of-range break. */
enum { ST_OPEN, ST_MATCHED, ST_SKIP, ST_HUGE };

static amount_minor_t amount_abs_max(void)
{
	amount_minor_t v = 1;
	for (int i = 0; i < 29; i++)
		v *= 10;
	return v;
}

static int is_huge(amount_minor_t v)
{
	return v > amount_abs_max() || v < -amount_abs_max();
}

struct item {
	long long seq, ref_seq;
	const char *tx_id, *date, *ref[ITEM_REFS], *batch_id, *counterparty;
	amount_minor_t amount_minor;
	long day;
	int acct;
	int state;
	int is_reverse;
	int hint_lines;            /* lines whose reference named this item */
};

struct line {
	long long id, parent_id;
	int is_batch;
	int first_child, next_sibling; /* indices, -1 if none */
	const char *account, *date, *key[LINE_KEYS], *counterparty, *batch_id,
		*remittance, *asset;
	amount_minor_t amount_minor;
	long day;
	int scale;
	int state;
	int ref_item;              /* item a reference named, -1 if none */
	int rematch;               /* earlier matches of this line (undone) */
};

struct acct {
	char code[LG_CODE_MAX + 1];
	char asset[LG_ASSET_CODE_MAX + 1];
	int scale;
	amount_minor_t tolerance_minor;
};

/* Columns dup_repeated keeps the last value of. */
enum { LAST_ITEM_DATE, LAST_LINE_ACCOUNT, LAST_LINE_BOOKED, LAST_LINE_VALUE,
       LAST_LINE_ASSET, LAST_SLOTS };

struct map_ent {
	unsigned hash;
	int idx;
	int next;
	const char *key;
};
struct map {
	int *heads;
	size_t mask;
	struct map_ent *ents;
	size_t n, cap;
};

struct idx_list {
	int *v;
	int n, cap;
};

struct run {
	ledger *lg;
	const clr_channel *ch;
	const char *date;
	long day;
	struct clr_arena arena;
	struct clr_arena line_arena;   /* the lines' strings, when another thread read them */
	struct item *items;
	int items_n, items_cap;
	struct line *lines;
	int lines_n, lines_cap;
	struct acct accts[ACCTS_MAX];
	int accts_n;
	struct map refs, batches, amounts;
	const char *last[LAST_SLOTS];  /* see dup_repeated */
	const char *last_day_date;     /* see day_of */
	long last_day;
	int pending;
	clr_recon_stats *stats;
	lg_error *err;
	ledger_spec_group *group;  /* settlements' journal rows waiting */
	struct clr_rows *rows;     /* match rows waiting to be written */
	lg_bgwrite *bg;            /* writes both of the above, if threads */
	lg_ckpt *ckpt;             /* copies the WAL back beside them, if threads */
	int commits;               /* commits so far */
	sqlite3_stmt *st_break;
	sqlite3_stmt *st_scale;        /* an asset's scale (read_line_row) */
	const char *scale_asset;       /* the asset scale_of_asset is of */
	int scale_of_asset;
	char *text;                /* list text of a match being recorded */
	struct idx_list members;   /* scratch of match_text */
	size_t text_n, text_cap;
	long long *rec_ids;        /* a match's line ids, then its item seqs */
	int rec_ids_cap;
	struct settlement *settlement; /* being built */
	char memo[5][160];         /* a settlement's memo, by rule */
};

/* --- hashing ------------------------------------------------------------ */
static unsigned hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static unsigned hash_str(const char *s)
{
	return hash_bytes(s, strlen(s));
}

static unsigned hash_amount(amount_minor_t v)
{
	return hash_bytes(&v, sizeof v);
}

static int map_init(struct map *m, size_t expect)
{
	size_t size = 16;
	while (size < expect * 2)
		size <<= 1;
	m->heads = malloc(size * sizeof *m->heads);
	m->ents = NULL;
	m->n = m->cap = 0;
	m->mask = size - 1;
	if (!m->heads)
		return -1;
	clr_advise_huge(m->heads, size * sizeof *m->heads);
	memset(m->heads, 0xff, size * sizeof *m->heads);
	return 0;
}

static void map_release(struct map *m)
{
	free(m->heads);
	free(m->ents);
	m->heads = NULL;
	m->ents = NULL;
}

static int map_put(struct map *m, unsigned hash, const char *key, int idx)
{
	size_t b = hash & m->mask;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct map_ent *e = clr_realloc(m->ents, m->cap * sizeof *e, cap * sizeof *e);
		if (!e)
			return -1;
		m->ents = e;
		m->cap = cap;
	}
	CLR_ASSERT(m->n < (size_t)INT_MAX);
	m->ents[m->n] = (struct map_ent){ hash, idx, m->heads[b], key };
	m->heads[b] = (int)m->n++;
	return 0;
}

/* First entry with `hash` (then map_next); -1 when none. */
static int map_first(const struct map *m, unsigned hash)
{
	int e = m->heads[hash & m->mask];
	while (e >= 0 && m->ents[e].hash != hash)
		e = m->ents[e].next;
	return e;
}

static int map_next(const struct map *m, int e)
{
	unsigned hash = m->ents[e].hash;
	e = m->ents[e].next;
	while (e >= 0 && m->ents[e].hash != hash)
		e = m->ents[e].next;
	return e;
}

/* --- loading ------------------------------------------------------------ */
static const char *dup_col(struct run *r, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	if (!t || !t[0])
		return NULL;
	return clr_arena_strndup(&r->arena, (const char *)t,
	                         (size_t)sqlite3_column_bytes(st, col));
}

/* As dup_col, for a column whose value mostly repeats from row to row (a
 * date, an account, an asset): the copy of the last different value is
 * shared, which spares a million rows a million copies.  `slot` names the
 * column's last value in r->last. */
static const char *dup_repeated(struct run *r, sqlite3_stmt *st, int col, int slot)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	const char **last = &r->last[slot];
	if (!t || !t[0])
		return NULL;
	if (!*last || strcmp(*last, t) != 0)
		*last = clr_arena_strndup(&r->arena, t, (size_t)sqlite3_column_bytes(st, col));
	return *last;
}

/* ledger_day_number of a string dup_repeated returned, computed once per
 * distinct value. */
static long day_of(struct run *r, const char *date)
{
	if (!date)
		return LONG_MIN;
	if (date != r->last_day_date) {
		r->last_day_date = date;
		r->last_day = ledger_day_number(date);
	}
	return r->last_day;
}

static int load_account(struct run *r, const char *code)
{
	static const char sql[] =
		"SELECT a.asset, s.scale FROM accounts a JOIN assets s ON s.code = a.asset"
		" WHERE a.code = ?1";
	struct acct *a;
	sqlite3_stmt *st;
	char why[128];
	const char *tol;
	int rc = clr_prepare(r->lg, sql, &st, r->err);

	if (rc)
		return rc;
	if (r->accts_n >= ACCTS_MAX) {
		sqlite3_finalize(st);
		return lg_error_set(r->err, LG_EUSAGE, "channel '%s': more than %d "
		                    "clearing accounts", r->ch->name, ACCTS_MAX);
	}
	a = &r->accts[r->accts_n];
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return lg_error_set(r->err, LG_ENOINPUT, "channel '%s': clearing account "
		                    "'%s' does not exist", r->ch->name, code);
	}
	snprintf(a->code, sizeof a->code, "%s", code);
	snprintf(a->asset, sizeof a->asset, "%s", sqlite3_column_text(st, 0));
	a->scale = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	tol = r->ch->tolerance[0] ? r->ch->tolerance : "0";
	a->tolerance_minor = 0;
	if (amount_parse(tol, strlen(tol), a->scale, &a->tolerance_minor, why,
	                 sizeof why) != 0 || a->tolerance_minor < 0)
		return lg_error_set(r->err, LG_EUSAGE, "channel '%s': tolerance '%s' is "
		                    "not an amount of %s: %s", r->ch->name, tol, a->asset,
		                    a->tolerance_minor < 0 ? "negative" : why);
	r->accts_n++;
	return LG_OK;
}

static struct item *item_new(struct run *r)
{
	if (clr_grow(&r->items, &r->items_cap, r->items_n, sizeof *r->items) != 0)
		return NULL;
	return &r->items[r->items_n++];
}

/* Items of one clearing account: postings of posted, committed and reversing
 * transactions, except this channel's own settlements and their reversals. */
static int load_items(struct run *r, int acct)
{
	static const char sql[] =
		/* '{}' is the canonical "no metadata": the CASEs spare the JSON
		 * functions (and reversals' lookups) the rows that need none. */
		"SELECT t.seq, t.id, t.kind, t.ref_seq, t.date, p.amount,"
		" CASE WHEN t.meta <> '{}' THEN json_extract(t.meta, '$.order_id') END,"
		" CASE WHEN t.meta <> '{}' THEN json_extract(t.meta, '$.payout_id') END,"
		" CASE WHEN t.meta <> '{}' THEN json_extract(t.meta, '$.reference') END,"
		" CASE WHEN t.meta <> '{}' THEN json_extract(t.meta, '$.batch_id') END,"
		" CASE WHEN t.meta <> '{}' THEN json_extract(t.meta, '$.counterparty') END,"
		" CASE WHEN t.meta <> '{}' THEN json_extract(t.meta, '$.type') = 'settlement'"
		"  AND json_extract(t.meta, '$.channel') = ?3 END,"
		" CASE WHEN t.kind = 'reverse' THEN (SELECT json_extract(o.meta, '$.type')"
		"  = 'settlement' AND json_extract(o.meta, '$.channel') = ?3"
		"  FROM transactions o WHERE o.seq = t.ref_seq) END"
		" FROM accounts a JOIN postings p ON p.account_id = a.id"
		" JOIN transactions t ON t.seq = p.tx_seq"
		" WHERE a.code = ?1 AND t.date <= ?2"
		"  AND (t.kind = 'posted' OR t.kind = 'commit' OR t.kind = 'reverse')"
		" ORDER BY t.seq, p.idx";
	sqlite3_stmt *st;
	sqlite3_mutex *dbmu = sqlite3_db_mutex(ledger_sqlite(r->lg));
	int rc = clr_prepare(r->lg, sql, &st, r->err), step;

	if (rc)
		return rc;
	/* A handle opened for threads (LEDGER_OPEN_THREADS) locks its mutex in
	 * every sqlite3_column_* call: a sixth of this loop's time over a
	 * million rows.  Held here once, the calls' own locks are a recursive
	 * mutex's owner check.  NULL (no threads) makes both calls no-ops. */
	sqlite3_mutex_enter(dbmu);
	sqlite3_bind_text(st, 1, r->accts[acct].code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->ch->name, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct item *it;
		if (sqlite3_column_int(st, 11) || sqlite3_column_int(st, 12))
			continue;
		if (sqlite3_column_bytes(st, 5) != AMOUNT_BLOB_BYTES) {
			rc = lg_error_set(r->err, LG_EINTERNAL, "posting amount is not 16 bytes");
			break;
		}
		it = item_new(r);
		if (!it) {
			rc = lg_error_set(r->err, LG_EINTERNAL, "out of memory");
			break;
		}
		memset(it, 0, sizeof *it);
		it->seq = sqlite3_column_int64(st, 0);
		it->tx_id = dup_col(r, st, 1);
		it->is_reverse = strcmp((const char *)sqlite3_column_text(st, 2),
		                        "reverse") == 0;
		it->ref_seq = sqlite3_column_int64(st, 3);
		it->date = dup_repeated(r, st, 4, LAST_ITEM_DATE);
		it->amount_minor = amount_decode(sqlite3_column_blob(st, 5));
		for (int k = 0; k < ITEM_REFS; k++)
			it->ref[k] = dup_col(r, st, 6 + k);
		it->batch_id = dup_col(r, st, 9);
		it->counterparty = dup_col(r, st, 10);
		it->day = day_of(r, it->date);
		it->acct = acct;
		it->state = is_huge(it->amount_minor) ? ST_HUGE : ST_OPEN;
		if (!it->tx_id || !it->date) {
			rc = lg_error_set(r->err, LG_EINTERNAL, "out of memory");
			break;
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = clr_sql_error(r->lg, r->err, "reading open items");
	sqlite3_finalize(st);
	sqlite3_mutex_leave(dbmu);
	return rc;
}

static int cmp_seq(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Sorted ids from a one-column query with ?1 = channel. */
static int load_ids(struct run *r, const char *sql, long long **out, int *n_out)
{
	sqlite3_stmt *st;
	long long *ids = NULL;
	int n = 0, cap = 0, step, rc = clr_prepare(r->lg, sql, &st, r->err);

	*out = NULL;
	*n_out = 0;
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, r->ch->name, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (clr_grow(&ids, &cap, n, sizeof *ids) != 0) {
			rc = lg_error_set(r->err, LG_EINTERNAL, "out of memory");
			break;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	if (!rc && step != SQLITE_DONE)
		rc = clr_sql_error(r->lg, r->err, "reading matches");
	sqlite3_finalize(st);
	if (rc) {
		free(ids);
		return rc;
	}
	if (n > 1)
		qsort(ids, (size_t)n, sizeof *ids, cmp_seq);
	*out = ids;
	*n_out = n;
	return LG_OK;
}

static int has_id(const long long *ids, int n, long long id)
{
	return n > 0 && bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_seq) != NULL;
}

static int cmp_item_seq(const void *key, const void *elem)
{
	long long k = *(const long long *)key, s = ((const struct item *)elem)->seq;
	return (k > s) - (k < s);
}

static int cmp_item_seq_sort(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->seq != y->seq)
		return (x->seq > y->seq) - (x->seq < y->seq);
	return (x->acct > y->acct) - (x->acct < y->acct);
}

static int items_sorted(const struct run *r)
{
	for (int i = 1; i < r->items_n; i++)
		if (cmp_item_seq_sort(&r->items[i - 1], &r->items[i]) > 0)
			return 0;
	return 1;
}

/* Marks matched items, and cancels a reversal with the open item it
 * reverses (a payment reversed before it settled is nothing to settle). */
static int mark_items(struct run *r)
{
	static const char sql[] =
		"SELECT mi.item_seq FROM clearing_match_items mi JOIN clearing_matches m"
		" ON m.id = mi.match_id WHERE m.channel = ?1 AND NOT EXISTS(SELECT 1"
		" FROM clearing_unmatches u WHERE u.match_id = m.id)";
	long long *ids;
	int n, rc;

	/* Items come per account in seq order; merge them into one order (with
	 * one account they are in it already, and sorting a million items of
	 * a hundred bytes was a tenth of the loading). */
	if (!items_sorted(r))
		qsort(r->items, (size_t)r->items_n, sizeof *r->items, cmp_item_seq_sort);
	rc = load_ids(r, sql, &ids, &n);
	if (rc)
		return rc;
	for (int i = 0; i < r->items_n; i++) {
		struct item *it = &r->items[i];
		if (has_id(ids, n, it->seq))
			it->state = ST_MATCHED;
	}
	free(ids);
	for (int i = 0; i < r->items_n; i++) {
		struct item *it = &r->items[i], *orig;
		if (!it->is_reverse || it->state != ST_OPEN)
			continue;
		orig = bsearch(&it->ref_seq, r->items, (size_t)r->items_n, sizeof *r->items,
		               cmp_item_seq);
		if (orig && orig->state == ST_OPEN && orig->acct == it->acct) {
			orig->state = ST_SKIP;
			it->state = ST_SKIP;
		}
	}
	return LG_OK;
}

static struct line *line_new(struct run *r)
{
	if (clr_grow(&r->lines, &r->lines_cap, r->lines_n, sizeof *r->lines) != 0)
		return NULL;
	return &r->lines[r->lines_n++];
}

static int cmp_line_id(const void *key, const void *elem)
{
	long long k = *(const long long *)key, s = ((const struct line *)elem)->id;
	return (k > s) - (k < s);
}

static int count_id(const long long *ids, int n, long long id)
{
	int c = 0;
	const long long *p = n > 0 ? bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_seq)
	                           : NULL;
	if (!p)
		return 0;
	while (p > ids && p[-1] == id)
		p--;
	for (; p < ids + n && *p == id; p++)
		c++;
	return c;
}

static int read_line_row(struct run *r, sqlite3_stmt *st, struct line *l)
{
	const char *status;
	int step;

	memset(l, 0, sizeof *l);
	l->id = sqlite3_column_int64(st, 0);
	l->parent_id = sqlite3_column_int64(st, 1);
	l->is_batch = sqlite3_column_int(st, 2);
	l->first_child = l->next_sibling = l->ref_item = -1;
	l->account = dup_repeated(r, st, 3, LAST_LINE_ACCOUNT);
	l->date = dup_repeated(r, st, 4, LAST_LINE_BOOKED);
	if (!l->date)
		l->date = dup_repeated(r, st, 5, LAST_LINE_VALUE);
	if (sqlite3_column_bytes(st, 6) != AMOUNT_BLOB_BYTES)
		return lg_error_set(r->err, LG_EINTERNAL, "statement line %lld: amount is "
		                    "not 16 bytes", l->id);
	l->amount_minor = amount_decode(sqlite3_column_blob(st, 6));
	l->asset = dup_repeated(r, st, 7, LAST_LINE_ASSET);
	if (l->asset && l->asset != r->scale_asset) {
		/* Asked once per run of lines in the same asset, not joined per
		 * line: the join was a seventh of reading a million lines. */
		sqlite3_bind_text(r->st_scale, 1, l->asset, -1, SQLITE_STATIC);
		step = sqlite3_step(r->st_scale);
		r->scale_of_asset = step == SQLITE_ROW ? sqlite3_column_int(r->st_scale, 0) : -1;
		sqlite3_reset(r->st_scale);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return clr_sql_error(r->lg, r->err, "reading assets");
		r->scale_asset = l->asset;
	}
	l->scale = l->asset ? r->scale_of_asset : -1;
	for (int k = 0; k < LINE_KEYS; k++)
		l->key[k] = dup_col(r, st, 9 + k);
	l->counterparty = dup_col(r, st, 13);
	l->batch_id = dup_col(r, st, 14);
	l->remittance = dup_col(r, st, 15);
	status = (const char *)sqlite3_column_text(st, 16);
	l->day = day_of(r, l->date);
	l->state = ST_OPEN;
	/* Pending and information-only entries are not money that moved; a
	 * zero line (a neutral row kept for audit) settles nothing. */
	if ((status && (strcmp(status, "PDNG") == 0 || strcmp(status, "INFO") == 0)) ||
	    l->amount_minor == 0 || l->scale < 0 || !l->asset || !l->account)
		l->state = ST_SKIP;
	else if (is_huge(l->amount_minor))
		l->state = ST_HUGE;
	return LG_OK;
}

static int load_lines(struct run *r)
{
	static const char sql[] =
		"SELECT l.id, COALESCE(l.parent_id, 0), l.is_batch, l.account,"
		" l.booking_date, l.value_date, l.amount, l.asset, NULL,"
		" l.end_to_end_id, l.instruction_id, l.provider_ref, l.entry_ref,"
		" l.counterparty_name, l.batch_id, l.remittance, l.status"
		" FROM statement_lines l"
		" WHERE l.channel = ?1 AND COALESCE(l.booking_date, l.value_date, '') <= ?2"
		" ORDER BY l.id";
	static const char active_sql[] =
		"SELECT ml.line_id FROM clearing_match_lines ml JOIN clearing_matches m"
		" ON m.id = ml.match_id WHERE m.channel = ?1 AND NOT EXISTS(SELECT 1"
		" FROM clearing_unmatches u WHERE u.match_id = m.id)";
	static const char all_sql[] =
		"SELECT ml.line_id FROM clearing_match_lines ml JOIN clearing_matches m"
		" ON m.id = ml.match_id WHERE m.channel = ?1";
	long long *active = NULL, *all = NULL;
	int active_n = 0, all_n = 0, step;
	sqlite3_stmt *st = NULL;
	int rc = load_ids(r, active_sql, &active, &active_n);

	if (!rc)
		rc = load_ids(r, all_sql, &all, &all_n);
	if (!rc)
		rc = clr_prepare(r->lg, sql, &st, r->err);
	if (!rc)
		rc = clr_prepare(r->lg, "SELECT scale FROM assets WHERE code = ?1",
		                 &r->st_scale, r->err);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, r->ch->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->date, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct line *l = line_new(r);
		if (!l) {
			rc = lg_error_set(r->err, LG_EINTERNAL, "out of memory");
			goto out;
		}
		rc = read_line_row(r, st, l);
		if (rc)
			goto out;
		if (has_id(active, active_n, l->id))
			l->state = ST_MATCHED;
		l->rematch = count_id(all, all_n, l->id);
		if (l->parent_id > 0) {
			/* Children follow their batch entry; link them to it. */
			struct line *p = bsearch(&l->parent_id, r->lines, (size_t)r->lines_n - 1,
			                         sizeof *r->lines, cmp_line_id);
			if (!p) {
				l->state = ST_SKIP;
				continue;
			}
			l->next_sibling = p->first_child;
			p->first_child = r->lines_n - 1;
		}
	}
	if (step != SQLITE_DONE)
		rc = clr_sql_error(r->lg, r->err, "reading statement lines");
out:
	sqlite3_finalize(st);
	free(active);
	free(all);
	return rc;
}

/* --- fees --------------------------------------------------------------- */
/* n / 10000 rounded half to even (the contract's fee on a gross amount). */
static amount_minor_t div_bps_half_even(amount_minor_t n)
{
	amount_minor_t q = n / 10000, rem = n % 10000;
	amount_minor_t twice = rem < 0 ? -2 * rem : 2 * rem;
	if (twice > 10000 || (twice == 10000 && (q % 2) != 0))
		q += n < 0 ? -1 : 1;
	return q;
}

static amount_minor_t abs_minor(amount_minor_t v)
{
	return v < 0 ? -v : v;
}

/*
 * May lines worth `lines_minor` settle items worth `items_minor`?  Exactly,
 * or less the contract fee (fee_bps of the gross) within the tolerance, or
 * with no contract within the tolerance alone; a difference needs a fee
 * account to go to.  *expected_out gets the contract fee.
 */
static int fee_ok(const struct run *r, const struct acct *a, amount_minor_t items_minor,
                  amount_minor_t lines_minor, amount_minor_t *expected_out)
{
	amount_minor_t diff, expected = 0, gross_bps;

	*expected_out = 0;
	if (amount_sub(items_minor, lines_minor, &diff) != 0)
		return 0;
	if (diff == 0)
		return 1;
	if (!r->ch->fee_account[0])
		return 0;
	if (r->ch->fee_bps >= 0) {
		if (__builtin_mul_overflow(items_minor, (amount_minor_t)r->ch->fee_bps,
		                           &gross_bps))
			return 0;
		expected = div_bps_half_even(gross_bps);
	}
	*expected_out = expected;
	return abs_minor(diff - expected) <= a->tolerance_minor;
}


static int list_push(struct idx_list *s, int v)
{
	if (clr_grow(&s->v, &s->cap, s->n, sizeof *s->v) != 0)
		return -1;
	s->v[s->n++] = v;
	return 0;
}

static int list_has(const struct idx_list *s, int v)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return 1;
	return 0;
}

/* --- matching ----------------------------------------------------------- */
static void json_str(char *buf, size_t cap, size_t *pos, const char *s)
{
	size_t p = *pos;
	if (p + 2 >= cap)
		return;
	buf[p++] = '"';
	for (; s && *s && p + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[p++] = '\\';
			buf[p++] = (char)c;
		} else if (c < 0x20) {
			p += (size_t)snprintf(buf + p, cap - p, "\\u%04x", c);
		} else {
			buf[p++] = (char)c;
		}
	}
	buf[p++] = '"';
	buf[p] = '\0';
	*pos = p;
}

static void json_raw(char *buf, size_t cap, size_t *pos, const char *s)
{
	size_t n = strlen(s);
	if (*pos + n >= cap)
		n = cap - 1 - *pos; /* cut short: the caller sees it full */
	memcpy(buf + *pos, s, n);
	*pos += n;
	buf[*pos] = '\0';
}

struct match {
	int rule;
	const int *lines;          /* top-level line indices */
	int lines_n;
	const int *items;
	int items_n;
	const char *user, *reason; /* NULL for automatic matches */
	long long match_id;        /* out */
};

/* A settlement being built: the transaction handed to the ledger and the
 * text it borrows. */
struct settlement {
	char id[LG_ID_MAX];
	char meta[SETTLE_META_MAX];
	int meta_ok, meta_rule;    /* what meta was built for (settlement_meta) */
	const char *meta_batch, *meta_date;
	ledger_posting_spec p[2 + ACCTS_MAX];
	ledger_tx_spec tx;
};

/* Builds the settlement transaction of a match into *s; 0, or -1 when its
 * metadata does not fit. */
/* Decimal digits of v >= 0 into out (NUL-terminated); their count. */
static size_t fmt_id(long long v, char out[24])
{
	char tmp[24];
	size_t n = 0, k = 0;

	CLR_ASSERT(v >= 0);
	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	while (n)
		out[k++] = tmp[--n];
	out[k] = '\0';
	return k;
}

/* The settlement's metadata, rebuilt only when what it says changes (a
 * night's settlements mostly share their batch text and rule). */
static int settlement_meta(struct run *r, const struct match *m, const struct line *l0,
                           struct settlement *s)
{
	const char *date = l0->date ? l0->date : r->date;
	char batch[LG_ID_MAX];
	size_t pos = 0, cap = sizeof s->meta;
	char *j = s->meta;

	if (s->meta_ok && s->meta_rule == m->rule && s->meta_batch == l0->batch_id &&
	    (l0->batch_id || s->meta_date == date))
		return 0;
	s->meta_ok = 0;
	if (l0->batch_id)
		snprintf(batch, sizeof batch, "%s", l0->batch_id);
	else
		snprintf(batch, sizeof batch, "%s:%s", r->ch->name, date);
	/* Keys in canonical (sorted) order, as the journal keeps them. */
	json_raw(j, cap, &pos, "{\"batch_id\":");
	json_str(j, cap, &pos, batch);
	json_raw(j, cap, &pos, ",\"channel\":");
	json_str(j, cap, &pos, r->ch->name);
	json_raw(j, cap, &pos, ",\"rule\":");
	json_str(j, cap, &pos, clr_rule_names[m->rule]);
	json_raw(j, cap, &pos, ",\"type\":\"settlement\"}");
	if (pos + 1 >= cap)
		return -1;
	s->meta_ok = 1;
	s->meta_rule = m->rule;
	s->meta_batch = l0->batch_id;
	s->meta_date = date;
	return 0;
}

/* Builds the settlement transaction of a match into *s; 0, or -1 when its
 * metadata does not fit. */
static int build_settlement(struct run *r, const struct match *m, struct settlement *s,
                            amount_minor_t fee_minor)
{
	const struct line *l0 = &r->lines[m->lines[0]];
	const char *settle_to = r->ch->settle_to[0] ? r->ch->settle_to : l0->account;
	amount_minor_t lines_minor = 0;
	int n = 0;

	if (l0->rematch > 0) {
		snprintf(s->id, sizeof s->id, "settle:%s:L%lld.%d", r->ch->name, l0->id,
		         l0->rematch + 1);
	} else {
		/* "settle:CHANNEL:L" + the line id, without snprintf per match. */
		size_t k = strlen(r->ch->name) + 9;
		char digits[24];
		size_t dn = fmt_id(l0->id, digits);
		if (k + dn < sizeof s->id) {
			memcpy(s->id, "settle:", 7);
			memcpy(s->id + 7, r->ch->name, k - 9);
			memcpy(s->id + k - 2, ":L", 2);
			memcpy(s->id + k, digits, dn + 1);
		} else {
			snprintf(s->id, sizeof s->id, "settle:%s:L%lld", r->ch->name, l0->id);
		}
	}
	for (int i = 0; i < m->lines_n; i++)
		lines_minor += r->lines[m->lines[i]].amount_minor;
	s->p[n++] = (ledger_posting_spec){ settle_to, lines_minor };
	if (fee_minor != 0)
		s->p[n++] = (ledger_posting_spec){ r->ch->fee_account, fee_minor };
	for (int a = 0; a < r->accts_n; a++) {
		amount_minor_t sum = 0;
		int any = 0;
		for (int i = 0; i < m->items_n; i++)
			if (r->items[m->items[i]].acct == a) {
				sum += r->items[m->items[i]].amount_minor;
				any = 1;
			}
		if (any)
			s->p[n++] = (ledger_posting_spec){ r->accts[a].code, -sum };
	}
	CLR_ASSERT(n >= 2 && n <= (int)(sizeof s->p / sizeof *s->p));
	s->tx = (ledger_tx_spec){ s->id, l0->day != LONG_MIN ? l0->date : r->date,
	                          r->memo[m->rule], s->meta, s->p, n };
	return settlement_meta(r, m, l0, s);
}

/* Appends text to the run's growable list buffer; -1 when out of memory. */
static int list_text(struct run *r, const char *text)
{
	size_t len = strlen(text);
	if (r->text_n + len + 2 > r->text_cap) {
		size_t cap = r->text_cap ? r->text_cap * 2 : 4096;
		char *p;
		while (cap < r->text_n + len + 2)
			cap *= 2;
		p = realloc(r->text, cap);
		if (!p)
			return -1;
		r->text = p;
		r->text_cap = cap;
	}
	if (r->text_n > 0)
		r->text[r->text_n++] = ',';
	memcpy(r->text + r->text_n, text, len + 1);
	r->text_n += len;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* The match's line ids (children included) or item ids, in ascending
 * order, comma separated, into r->text. */
static int match_text(struct run *r, const struct match *m, int of_items)
{
	struct idx_list *v = &r->members; /* kept between calls: no malloc each */
	int rc = 0;

	r->text_n = 0;
	v->n = 0;
	if (list_text(r, "") != 0)
		return -1;
	for (int i = 0; i < (of_items ? m->items_n : m->lines_n) && !rc; i++) {
		if (of_items) {
			rc = list_push(v, m->items[i]);
			continue;
		}
		rc = list_push(v, m->lines[i]);
		for (int c = r->lines[m->lines[i]].first_child; c >= 0 && !rc;
		     c = r->lines[c].next_sibling)
			rc = list_push(v, c);
	}
	if (v->n > 1)
		qsort(v->v, (size_t)v->n, sizeof *v->v, cmp_int);
	for (int i = 0; i < v->n && !rc; i++) {
		char id[24];
		if (of_items)
			rc = list_text(r, r->items[v->v[i]].tx_id);
		else {
			fmt_id(r->lines[v->v[i]].id, id);
			rc = list_text(r, id);
		}
	}
	return rc;
}

/* Appends id to r->rec_ids at *n; -1 when out of memory. */
static int rec_id_push(struct run *r, int *n, long long id)
{
	if (clr_grow(&r->rec_ids, &r->rec_ids_cap, *n + 1, sizeof *r->rec_ids) != 0)
		return -1;
	r->rec_ids[(*n)++] = id;
	return 0;
}

static int insert_match_rows(struct run *r, const struct match *m,
                             const char *settlement_id, long long *match_id)
{
	struct clr_match_rec rec;
	char *lines_text = NULL;
	int n = 0, rc;

	CLR_ASSERT(m->lines_n > 0 && m->items_n > 0);
	/* Line ids (children too), then item seqs. */
	for (int i = 0; i < m->lines_n; i++) {
		const struct line *l = &r->lines[m->lines[i]];
		if (rec_id_push(r, &n, l->id) != 0)
			return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
		for (int c = l->first_child; c >= 0; c = r->lines[c].next_sibling)
			if (rec_id_push(r, &n, r->lines[c].id) != 0)
				return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
	}
	rec = (struct clr_match_rec){ r->ch->name, clr_rule_names[m->rule], settlement_id,
		                          ledger_now(r->lg), m->user ? m->user : "clearbook",
		                          m->reason ? m->reason : "automatic", NULL, NULL,
		                          NULL, n, NULL, m->items_n };
	for (int i = 0, k = n; i < m->items_n; i++)
		if (rec_id_push(r, &k, r->items[m->items[i]].seq) != 0)
			return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
	rec.line_ids = r->rec_ids;
	rec.item_seqs = r->rec_ids + n;
	if (n > 1 || m->items_n > 1) {
		if (match_text(r, m, 0) != 0)
			return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
		/* The items' text goes into the same buffer: keep the lines' apart. */
		lines_text = strdup(r->text);
		if (!lines_text || match_text(r, m, 1) != 0) {
			free(lines_text);
			return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
		}
		rec.lines = lines_text;
		rec.items = r->text;
	}
	rc = clr_rows_match(r->rows, &rec, match_id, r->err);
	free(lines_text);
	return rc;
}

/* Writes the waiting settlements and match rows and commits what the run
 * has done so far. */
static int run_commit(struct run *r)
{
	int rc = r->group ? ledger_spec_group_flush(r->group, r->err) : LG_OK;
	if (!rc)
		rc = clr_rows_flush(r->rows, r->err);
	if (!rc)
		rc = ledger_commit(r->lg, r->err);
	/* The checkpoint of what was just committed runs beside the next
	 * matches; now and then the next transaction waits for it, so that it
	 * starts the WAL again from its beginning (ckpt.h). */
	if (!rc && r->ckpt) {
		lg_ckpt_request(r->ckpt);
		if (++r->commits % CLR_COMMITS_PER_WAL == 0)
			rc = lg_ckpt_wait(r->ckpt, r->err);
	}
	return rc;
}

static void set_line_state(struct run *r, int idx, int state)
{
	r->lines[idx].state = state;
	for (int c = r->lines[idx].first_child; c >= 0; c = r->lines[c].next_sibling)
		r->lines[c].state = state;
}

static int late_breaks(struct run *r, const struct match *m)
{
	const struct line *l0 = &r->lines[m->lines[0]];
	int rc = LG_OK;

	for (int i = 0; i < m->items_n && !rc; i++) {
		const struct item *it = &r->items[m->items[i]];
		const struct acct *a = &r->accts[it->acct];
		char reason[256];
		long days;
		if (l0->day == LONG_MIN || it->day == LONG_MIN)
			continue;
		days = l0->day - it->day;
		if (days <= r->ch->settle_days)
			continue;
		r->stats->other_breaks++;
		snprintf(reason, sizeof reason, "settled on %s by line %lld, %ld day(s) after "
		         "its payment of %s (expected within %d)", l0->date, l0->id, days,
		         it->date, r->ch->settle_days);
		rc = clr_break_add(r->lg, &r->st_break, r->date, r->ch->name, "late", l0->id, it->seq,
		                   it->tx_id, it->amount_minor, a->asset, a->scale, days,
		                   reason, "", r->err);
	}
	return rc;
}

/*
 * Posts a match's settlement and records it.  A settlement the ledger
 * refuses (a closed account or period) becomes a break and the lines stay
 * out of later passes.  Commits every CLR_MATCHES_PER_COMMIT matches.
 */
static int make_match(struct run *r, struct match *m, amount_minor_t fee_minor)
{
	struct settlement *s = r->settlement;
	lg_error e2;
	int replayed = 0, rc;

	CLR_ASSERT(m->lines_n > 0 && m->items_n > 0);
	if (build_settlement(r, m, s, fee_minor) != 0)
		return lg_error_set(r->err, LG_EDATA, "channel '%s': the settlement of "
		                    "line %lld is too large for one transaction",
		                    r->ch->name, r->lines[m->lines[0]].id);
	lg_error_init(&e2);
	if (r->group)
		rc = ledger_post_spec_grouped(r->group, &s->tx, &replayed, &e2);
	else
		rc = ledger_post_spec(r->lg, &s->tx, &replayed, NULL, &e2);
	if (rc == LG_EDATA || rc == LG_ENOINPUT) {
		const struct line *l0 = &r->lines[m->lines[0]];
		for (int i = 0; i < m->lines_n; i++)
			set_line_state(r, m->lines[i], ST_SKIP);
		r->stats->other_breaks++;
		return clr_break_add(r->lg, &r->st_break, r->date, r->ch->name, "settlement-refused",
		                     l0->id, r->items[m->items[0]].seq, NULL,
		                     l0->amount_minor, l0->asset, l0->scale,
		                     l0->day == LONG_MIN ? 0 : r->day - l0->day, e2.msg, "",
		                     r->err);
	}
	if (rc) {
		*r->err = e2;
		return rc;
	}
	/* A settlement id names the lines it settles and how often they were
	 * matched before; finding it already posted means the match records
	 * and the journal disagree. */
	if (replayed)
		return lg_error_set(r->err, LG_EINTERNAL, "settlement '%s' is already in the "
		                    "journal but its match is not recorded", s->id);
	rc = insert_match_rows(r, m, s->id, &m->match_id);
	if (!rc && m->rule != 4)
		rc = late_breaks(r, m);
	if (rc)
		return rc;
	for (int i = 0; i < m->lines_n; i++)
		set_line_state(r, m->lines[i], ST_MATCHED);
	for (int i = 0; i < m->items_n; i++)
		r->items[m->items[i]].state = ST_MATCHED;
	r->stats->matches++;
	r->stats->matched_by_rule[m->rule]++;
	r->stats->fees_minor += fee_minor;
	if (++r->pending >= CLR_MATCHES_PER_COMMIT) {
		r->pending = 0;
		rc = run_commit(r);
		if (!rc)
			rc = ledger_begin(r->lg, r->err);
	}
	return rc;
}

/* --- passes ------------------------------------------------------------- */
static int same_asset(const struct run *r, const struct line *l, const struct item *it)
{
	return strcmp(r->accts[it->acct].asset, l->asset) == 0;
}

static int is_top(const struct line *l)
{
	return l->parent_id == 0 && l->state == ST_OPEN;
}

/* The open item a reference of the line names, or -1. */
static int find_by_reference(const struct run *r, const struct line *l)
{
	for (int k = 0; k < LINE_KEYS; k++) {
		if (!l->key[k])
			continue;
		for (int e = map_first(&r->refs, hash_str(l->key[k])); e >= 0;
		     e = map_next(&r->refs, e)) {
			const struct item *it = &r->items[r->refs.ents[e].idx];
			if (it->state == ST_OPEN && strcmp(r->refs.ents[e].key, l->key[k]) == 0 &&
			    same_asset(r, l, it))
				return r->refs.ents[e].idx;
		}
	}
	return -1;
}

static int pass_reference(struct run *r)
{
	for (int i = 0; i < r->lines_n; i++) {
		struct line *l = &r->lines[i];
		amount_minor_t expected;
		int it;
		if (!is_top(l) || l->is_batch)
			continue;
		it = find_by_reference(r, l);
		if (it < 0)
			continue;
		if (fee_ok(r, &r->accts[r->items[it].acct], r->items[it].amount_minor,
		           l->amount_minor, &expected)) {
			struct match m = { 0, &i, 1, &it, 1, NULL, NULL, 0 };
			int rc = make_match(r, &m, r->items[it].amount_minor - l->amount_minor);
			if (rc)
				return rc;
		} else {
			l->ref_item = it;
			r->items[it].hint_lines++;
		}
	}
	return LG_OK;
}

static int counterparty_fits(const struct line *l, const struct item *it)
{
	if (!l->counterparty || !it->counterparty)
		return 1;
	return strcasecmp(l->counterparty, it->counterparty) == 0;
}

/* The items still open after the reference pass, by amount.  Built then,
 * not with the other maps: most items are matched by reference by now, and
 * a map of every item sent each line of the amount pass through ten matched
 * items of its amount, each a cache miss.  The candidates' order does not
 * matter: pass_amount picks the best by a total order. */
static int map_open_amounts(struct run *r)
{
	struct idx_list open = { 0 };
	int rc = 0;

	for (int i = 0; i < r->items_n && !rc; i++) {
		const struct item *it = &r->items[i];
		if (it->state == ST_OPEN && !it->batch_id && it->day != LONG_MIN)
			rc = list_push(&open, i);
	}
	if (!rc)
		rc = map_init(&r->amounts, (size_t)open.n);
	for (int k = 0; k < open.n && !rc; k++)
		rc = map_put(&r->amounts, hash_amount(r->items[open.v[k]].amount_minor), NULL,
		             open.v[k]);
	free(open.v);
	return rc ? lg_error_set(r->err, LG_EINTERNAL, "out of memory") : LG_OK;
}

static int pass_amount(struct run *r)
{
	int rc = map_open_amounts(r);

	if (rc)
		return rc;
	for (int i = 0; i < r->lines_n; i++) {
		struct line *l = &r->lines[i];
		int best = -1, best_cp = 0;
		long best_gap = LONG_MAX;
		/* A line that names an item by reference is that item's (a partial
		 * credit, or a fee break), not a candidate for another. */
		if (!is_top(l) || l->is_batch || l->day == LONG_MIN || l->ref_item >= 0)
			continue;
		for (int e = map_first(&r->amounts, hash_amount(l->amount_minor)); e >= 0;
		     e = map_next(&r->amounts, e)) {
			int idx = r->amounts.ents[e].idx;
			const struct item *it = &r->items[idx];
			long gap;
			int cp;
			/* Items of a batch settle with their batch, not one by one. */
			if (it->state != ST_OPEN || it->amount_minor != l->amount_minor ||
			    !same_asset(r, l, it) || !counterparty_fits(l, it) ||
			    it->day == LONG_MIN || it->batch_id)
				continue;
			gap = labs(l->day - it->day);
			if (gap > r->ch->window_days)
				continue;
			/* The same counterparty on both sides beats an item that has
			 * none; then the nearest date; then the earliest item. */
			cp = l->counterparty && it->counterparty;
			if (best < 0 || cp > best_cp ||
			    (cp == best_cp && (gap < best_gap || (gap == best_gap && idx < best)))) {
				best = idx;
				best_gap = gap;
				best_cp = cp;
			}
		}
		if (best >= 0) {
			struct match m = { 1, &i, 1, &best, 1, NULL, NULL, 0 };
			rc = make_match(r, &m, 0);
			if (rc)
				return rc;
		}
	}
	return LG_OK;
}

/* The items a batch entry's children name, one each; 0 items if any child
 * names none. */
static int batch_children_items(struct run *r, const struct line *l,
                                struct idx_list *set)
{
	set->n = 0;
	for (int c = l->first_child; c >= 0; c = r->lines[c].next_sibling) {
		int it = find_by_reference(r, &r->lines[c]);
		if (it < 0 || list_has(set, it)) {
			set->n = 0;
			return 0;
		}
		if (list_push(set, it) != 0)
			return -1;
	}
	return 0;
}

/* Open items whose batch id equals one of the line's references. */
static int batch_id_items(struct run *r, const struct line *l, struct idx_list *set)
{
	const char *keys[LINE_KEYS + 2] = { l->batch_id, l->key[0], l->key[1],
	                                    l->key[2], l->key[3], l->remittance };
	set->n = 0;
	for (size_t k = 0; k < sizeof keys / sizeof *keys && set->n == 0; k++) {
		if (!keys[k])
			continue;
		for (int e = map_first(&r->batches, hash_str(keys[k])); e >= 0;
		     e = map_next(&r->batches, e)) {
			int idx = r->batches.ents[e].idx;
			if (r->items[idx].state == ST_OPEN &&
			    strcmp(r->batches.ents[e].key, keys[k]) == 0 &&
			    same_asset(r, l, &r->items[idx]) && list_push(set, idx) != 0)
				return -1;
		}
	}
	/* Map chains run newest first; settle in journal order. */
	for (int a = 0, b = set->n - 1; a < b; a++, b--) {
		int t = set->v[a];
		set->v[a] = set->v[b];
		set->v[b] = t;
	}
	return 0;
}

struct subset {
	const struct run *r;
	const struct acct *a;
	const int *cand;           /* largest first */
	int cand_n;
	amount_minor_t target_minor, cap_minor;
	long steps;
	int pick[CLR_SUBSET_ITEMS_MAX], pick_n;
};

/* Depth-first over the candidates, largest first, skipping any that would
 * take the sum past the cap; bounded by CLR_SUBSET_STEPS_MAX steps. */
static int subset_dfs(struct subset *s, int from, amount_minor_t sum)
{
	amount_minor_t expected;
	if (s->pick_n >= 2 && fee_ok(s->r, s->a, sum, s->target_minor, &expected))
		return 1;
	for (int i = from; i < s->cand_n; i++) {
		amount_minor_t next = sum + s->r->items[s->cand[i]].amount_minor;
		if (++s->steps > CLR_SUBSET_STEPS_MAX)
			return 0;
		if (abs_minor(next) > s->cap_minor)
			continue;
		s->pick[s->pick_n++] = s->cand[i];
		if (subset_dfs(s, i + 1, next))
			return 1;
		s->pick_n--;
	}
	return 0;
}

/* Open items sorted by asset, then size, then journal order: a subset
 * search looks only at items no larger than its line. */
static int cmp_open(const void *a, const void *b, void *ctx)
{
	const struct run *r = ctx;
	const struct item *x = &r->items[*(const int *)a], *y = &r->items[*(const int *)b];
	int c = strcmp(r->accts[x->acct].asset, r->accts[y->acct].asset);
	amount_minor_t ax = abs_minor(x->amount_minor), ay = abs_minor(y->amount_minor);
	if (c)
		return c;
	if (ax != ay)
		return (ax > ay) - (ax < ay);
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* First index of `open` whose item is in another asset or larger than
 * cap (the upper bound for `asset`, `cap`). */
static int open_upper(const struct run *r, const int *open, int n, const char *asset,
                      amount_minor_t cap)
{
	int lo = 0, hi = n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		const struct item *it = &r->items[open[mid]];
		int c = strcmp(r->accts[it->acct].asset, asset);
		if (c < 0 || (c == 0 && abs_minor(it->amount_minor) <= cap))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int subset_search(struct run *r, const struct line *l, const int *open_items,
                         int open_n, struct idx_list *set)
{
	int cand[CLR_SUBSET_ITEMS_MAX], cand_n = 0, scanned = 0;
	struct subset s;
	amount_minor_t cap_minor = abs_minor(l->amount_minor);

	set->n = 0;
	if (l->day == LONG_MIN)
		return 0;
	/* Fees are a small part of the gross: allow items up to a tenth more. */
	cap_minor += cap_minor / 10;
	for (int i = open_upper(r, open_items, open_n, l->asset, cap_minor) - 1;
	     i >= 0 && cand_n < CLR_SUBSET_ITEMS_MAX && scanned < CLR_SUBSET_SCAN_MAX;
	     i--, scanned++) {
		const struct item *it = &r->items[open_items[i]];
		if (strcmp(r->accts[it->acct].asset, l->asset) != 0)
			break;
		if (it->state != ST_OPEN || it->day == LONG_MIN ||
		    labs(l->day - it->day) > r->ch->window_days ||
		    (it->amount_minor < 0) != (l->amount_minor < 0))
			continue;
		cand[cand_n++] = open_items[i];
	}
	if (cand_n < 2)
		return 0;
	memset(&s, 0, sizeof s);
	s.r = r;
	s.a = &r->accts[r->items[cand[0]].acct];
	s.cand = cand;
	s.cand_n = cand_n;
	s.target_minor = l->amount_minor;
	s.cap_minor = cap_minor;
	if (!subset_dfs(&s, 0, 0))
		return 0;
	for (int i = 0; i < s.pick_n; i++)
		if (list_push(set, s.pick[i]) != 0)
			return -1;
	return 0;
}

static int pass_one_to_many(struct run *r)
{
	struct idx_list set = { 0 }, open = { 0 };
	int rc = LG_OK;

	for (int i = 0; i < r->items_n; i++)
		if (r->items[i].state == ST_OPEN && list_push(&open, i) != 0)
			goto oom;
	if (open.n > 1)
		qsort_r(open.v, (size_t)open.n, sizeof *open.v, cmp_open, r);
	for (int i = 0; i < r->lines_n && !rc; i++) {
		struct line *l = &r->lines[i];
		amount_minor_t sum = 0, expected;
		if (!is_top(l) || l->ref_item >= 0)
			continue;
		if (l->is_batch && batch_children_items(r, l, &set) != 0)
			goto oom;
		if ((!l->is_batch || set.n == 0) && batch_id_items(r, l, &set) != 0)
			goto oom;
		for (int k = 0; k < set.n; k++)
			sum += r->items[set.v[k]].amount_minor;
		if (set.n == 0 ||
		    !fee_ok(r, &r->accts[r->items[set.v[0]].acct], sum, l->amount_minor,
		            &expected)) {
			if (subset_search(r, l, open.v, open.n, &set) != 0)
				goto oom;
			sum = 0;
			for (int k = 0; k < set.n; k++)
				sum += r->items[set.v[k]].amount_minor;
		}
		if (set.n > 0) {
			struct match m = { 2, &i, 1, set.v, set.n, NULL, NULL, 0 };
			rc = make_match(r, &m, sum - l->amount_minor);
		}
	}
	free(set.v);
	free(open.v);
	return rc;
oom:
	free(set.v);
	free(open.v);
	return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
}

/* Partial credits: several lines whose references name one item. */
static int pass_many_to_one(struct run *r)
{
	struct idx_list group = { 0 };
	int rc = LG_OK;

	for (int i = 0; i < r->lines_n && !rc; i++) {
		const struct line *l = &r->lines[i];
		int it = l->ref_item;
		amount_minor_t sum = 0, expected;
		if (!is_top(l) || it < 0 || r->items[it].state != ST_OPEN ||
		    r->items[it].hint_lines < 2)
			continue;
		group.n = 0;
		for (int k = i; k < r->lines_n; k++)
			if (is_top(&r->lines[k]) && r->lines[k].ref_item == it) {
				if (list_push(&group, k) != 0) {
					free(group.v);
					return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
				}
				sum += r->lines[k].amount_minor;
			}
		if (group.n >= 2 &&
		    fee_ok(r, &r->accts[r->items[it].acct], r->items[it].amount_minor, sum,
		           &expected)) {
			struct match m = { 3, group.v, group.n, &it, 1, NULL, NULL, 0 };
			rc = make_match(r, &m, r->items[it].amount_minor - sum);
		}
	}
	free(group.v);
	return rc;
}

/* --- breaks ------------------------------------------------------------- */
static int cmp_item_amount(const void *a, const void *b, void *ctx)
{
	const struct item *items = ctx;
	amount_minor_t x = items[*(const int *)a].amount_minor;
	amount_minor_t y = items[*(const int *)b].amount_minor;
	if (x != y)
		return (x > y) - (x < y);
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static int cmp_line_amount(const void *a, const void *b, void *ctx)
{
	const struct line *lines = ctx;
	amount_minor_t x = lines[*(const int *)a].amount_minor;
	amount_minor_t y = lines[*(const int *)b].amount_minor;
	if (x != y)
		return (x > y) - (x < y);
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Up to CLR_CANDIDATES_MAX entries of `sorted` (by amount) nearest to
 * `target`, accepted by `fits`, written as text. */
static void nearest(const struct run *r, const int *sorted, int n, int of_items,
                    amount_minor_t target, const char *asset, char *out, size_t cap)
{
	int lo = 0, hi = n, found = 0;
	size_t pos = 0;

	out[0] = '\0';
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		amount_minor_t v = of_items ? r->items[sorted[mid]].amount_minor
		                            : r->lines[sorted[mid]].amount_minor;
		if (v < target)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int left = lo - 1, right = lo; found < CLR_CANDIDATES_MAX &&
	     (left >= 0 || right < n);) {
		int pick;
		amount_minor_t dl = 0, dr = 0;
		if (left >= 0)
			dl = target - (of_items ? r->items[sorted[left]].amount_minor
			                        : r->lines[sorted[left]].amount_minor);
		if (right < n)
			dr = (of_items ? r->items[sorted[right]].amount_minor
			               : r->lines[sorted[right]].amount_minor) - target;
		if (left >= 0 && (right >= n || dl <= dr))
			pick = sorted[left--];
		else
			pick = sorted[right++];
		char amount[AMOUNT_TEXT_MAX];
		int w;
		if (of_items) {
			const struct item *it = &r->items[pick];
			const struct acct *a = &r->accts[it->acct];
			if (strcmp(a->asset, asset) != 0)
				continue;
			amount_format(it->amount_minor, a->scale, amount, sizeof amount);
			w = snprintf(out + pos, cap - pos, "%s%s %s %s", found ? "; " : "",
			             it->tx_id, amount, it->date);
		} else {
			const struct line *l = &r->lines[pick];
			if (strcmp(l->asset, asset) != 0)
				continue;
			amount_format(l->amount_minor, l->scale, amount, sizeof amount);
			w = snprintf(out + pos, cap - pos, "%sline %lld %s %s", found ? "; " : "",
			             l->id, amount, l->date ? l->date : "-");
		}
		if (w < 0 || (size_t)w >= cap - pos)
			break;
		pos += (size_t)w;
		found++;
	}
}

static int same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Another line of the same amount, date, counterparty and remittance. */
static long long duplicate_of(const struct run *r, const struct map *by_amount,
                              int idx)
{
	const struct line *l = &r->lines[idx];
	long long best = 0;
	for (int e = map_first(by_amount, hash_amount(l->amount_minor)); e >= 0;
	     e = map_next(by_amount, e)) {
		const struct line *o = &r->lines[by_amount->ents[e].idx];
		if (o == l || o->amount_minor != l->amount_minor || !same_text(o->asset, l->asset) ||
		    !same_text(o->date, l->date) ||
		    !same_text(o->counterparty, l->counterparty) ||
		    !same_text(o->remittance, l->remittance) || o->id > l->id)
			continue;
		if (!best || o->id < best)
			best = o->id;
	}
	return best;
}

static int line_break(struct run *r, const struct map *by_amount, int i,
                      const int *open_items, int open_n)
{
	const struct line *l = &r->lines[i];
	const char *kind = "unknown";
	char reason[512], cands[512], amount[AMOUNT_TEXT_MAX];
	long long dup = duplicate_of(r, by_amount, i);

	nearest(r, open_items, open_n, 1, l->amount_minor, l->asset, cands, sizeof cands);
	if (l->ref_item >= 0 && r->items[l->ref_item].state == ST_OPEN) {
		const struct item *it = &r->items[l->ref_item];
		const struct acct *a = &r->accts[it->acct];
		amount_minor_t expected;
		char gross[AMOUNT_TEXT_MAX], fee[AMOUNT_TEXT_MAX], want[AMOUNT_TEXT_MAX];
		fee_ok(r, a, it->amount_minor, l->amount_minor, &expected);
		amount_format(it->amount_minor, a->scale, gross, sizeof gross);
		amount_format(it->amount_minor - l->amount_minor, a->scale, fee, sizeof fee);
		amount_format(expected, a->scale, want, sizeof want);
		kind = r->ch->fee_bps >= 0 ? "fee" : "amount";
		snprintf(reason, sizeof reason, "references %s of %s %s but the difference "
		         "%s differs from the %s %s (tolerance from the channel's contract)",
		         it->tx_id, gross, a->asset, fee,
		         r->ch->fee_bps >= 0 ? "contract fee" : "expected", want);
	} else if (dup) {
		kind = "duplicate";
		snprintf(reason, sizeof reason, "same amount, date, counterparty and text as "
		         "line %lld: booked twice?", dup);
	} else {
		amount_format(l->amount_minor, l->scale, amount, sizeof amount);
		snprintf(reason, sizeof reason, "no open item on %s matches %s %s by "
		         "reference, by amount within %d days or as a batch",
		         r->ch->clearing, amount, l->asset, r->ch->window_days);
	}
	r->stats->line_breaks++;
	if (l->ref_item >= 0 && r->items[l->ref_item].state == ST_OPEN)
		return clr_break_add(r->lg, &r->st_break, r->date, r->ch->name, kind, l->id,
		                     r->items[l->ref_item].seq, r->items[l->ref_item].tx_id,
		                     l->amount_minor, l->asset, l->scale,
		                     l->day == LONG_MIN ? 0 : r->day - l->day, reason, cands,
		                     r->err);
	return clr_break_add(r->lg, &r->st_break, r->date, r->ch->name, kind, l->id, 0, NULL,
	                     l->amount_minor, l->asset, l->scale,
	                     l->day == LONG_MIN ? 0 : r->day - l->day, reason, cands,
	                     r->err);
}

static int item_break(struct run *r, int i, const int *open_lines, int open_n)
{
	const struct item *it = &r->items[i];
	const struct acct *a = &r->accts[it->acct];
	char reason[512], cands[512];
	long age = r->day - it->day;

	/* An item a line names by reference is that line's break (fee or amount
	 * differs), not a second one. */
	if (it->day == LONG_MIN || age < r->ch->settle_days || it->hint_lines > 0)
		return LG_OK;
	nearest(r, open_lines, open_n, 0, it->amount_minor, a->asset, cands, sizeof cands);
	snprintf(reason, sizeof reason, "%s of %s on %s not settled: expected within %d "
	         "day(s), now %ld day(s) old", it->tx_id, it->date, a->code,
	         r->ch->settle_days, age);
	r->stats->item_breaks++;
	return clr_break_add(r->lg, &r->st_break, r->date, r->ch->name, "unsettled", 0, it->seq,
	                     it->tx_id, it->amount_minor, a->asset, a->scale, age, reason,
	                     cands, r->err);
}

static int huge_break(struct run *r, long long line_id, long long item_seq,
                      const char *tx_id, amount_minor_t amount, const char *asset,
                      int scale)
{
	r->stats->other_breaks++;
	return clr_break_add(r->lg, &r->st_break, r->date, r->ch->name, "out-of-range",
	                     line_id, item_seq, tx_id, amount, asset, scale, 0,
	                     "amount beyond 10^29 minor units: not reconciled "
	                     "automatically", "", r->err);
}

static int record_breaks(struct run *r)
{
	struct idx_list items = { 0 }, lines = { 0 };
	struct map break_amounts = { 0 }, by_amount = { 0 };
	int rc = LG_OK;

	for (int i = 0; i < r->items_n; i++)
		if (r->items[i].state == ST_OPEN && list_push(&items, i) != 0)
			goto oom;
	for (int i = 0; i < r->lines_n; i++)
		if (is_top(&r->lines[i]) && list_push(&lines, i) != 0)
			goto oom;
	if (items.n > 1)
		qsort_r(items.v, (size_t)items.n, sizeof *items.v, cmp_item_amount, r->items);
	if (lines.n > 1)
		qsort_r(lines.v, (size_t)lines.n, sizeof *lines.v, cmp_line_amount, r->lines);
	/* A break line's duplicate has its amount: only lines of the amounts
	 * of break lines go into by_amount, found through a map of those few
	 * amounts, which stays in the cache while every line is looked up. */
	if (map_init(&break_amounts, (size_t)lines.n) != 0 ||
	    map_init(&by_amount, (size_t)lines.n * 2) != 0)
		goto oom;
	for (int k = 0; k < lines.n; k++)
		if (map_put(&break_amounts, hash_amount(r->lines[lines.v[k]].amount_minor), NULL,
		            lines.v[k]) != 0)
			goto oom;
	for (int i = 0; i < r->lines_n; i++) {
		const struct line *l = &r->lines[i];
		unsigned h;
		int e;
		if (l->parent_id != 0 || l->state == ST_SKIP)
			continue;
		h = hash_amount(l->amount_minor);
		for (e = map_first(&break_amounts, h); e >= 0; e = map_next(&break_amounts, e))
			if (r->lines[break_amounts.ents[e].idx].amount_minor == l->amount_minor)
				break;
		if (e >= 0 && map_put(&by_amount, h, NULL, i) != 0)
			goto oom;
	}
	for (int i = 0; i < r->lines_n && !rc; i++)
		if (is_top(&r->lines[i]))
			rc = line_break(r, &by_amount, i, items.v, items.n);
	for (int i = 0; i < r->lines_n && !rc; i++)
		if (r->lines[i].state == ST_HUGE && r->lines[i].parent_id == 0)
			rc = huge_break(r, r->lines[i].id, 0, NULL, r->lines[i].amount_minor,
			                r->lines[i].asset, r->lines[i].scale);
	for (int i = 0; i < r->items_n && !rc; i++)
		if (r->items[i].state == ST_HUGE)
			rc = huge_break(r, 0, r->items[i].seq, r->items[i].tx_id,
			                r->items[i].amount_minor, r->accts[r->items[i].acct].asset,
			                r->accts[r->items[i].acct].scale);
	for (int i = 0; i < r->items_n && !rc; i++)
		if (r->items[i].state == ST_OPEN)
			rc = item_break(r, i, lines.v, lines.n);
	map_release(&break_amounts);
	map_release(&by_amount);
	free(items.v);
	free(lines.v);
	return rc;
oom:
	map_release(&break_amounts);
	map_release(&by_amount);
	free(items.v);
	free(lines.v);
	return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
}

/* --- the run ------------------------------------------------------------ */
/* The open items by batch id (build_maps). */
static int map_batches(struct run *r)
{
	for (int i = 0; i < r->items_n; i++) {
		const struct item *it = &r->items[i];
		if (it->state != ST_OPEN)
			continue;
		if (it->batch_id &&
		    map_put(&r->batches, hash_str(it->batch_id), it->batch_id, i) != 0)
			return -1;
	}
	return 0;
}

struct maps_job {
	struct run *r;
	int rc;
};

static void *maps_job_main(void *arg)
{
	struct maps_job *j = arg;
	j->rc = map_batches(j->r);
	return NULL;
}

/* The open items by reference and by batch id (by amount: map_open_amounts).
 * With threads, the second map is built on a second thread while this one
 * builds the first: each only reads the items and writes its own map. */
static int build_maps(struct run *r)
{
	struct maps_job job = { r, 0 };
	pthread_t thread;
	int threaded = 0, rc = 0;

	if (map_init(&r->refs, (size_t)r->items_n * 2) != 0 ||
	    map_init(&r->batches, (size_t)r->items_n) != 0)
		return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
	if (ledger_threads(r->lg))
		threaded = pthread_create(&thread, NULL, maps_job_main, &job) == 0;
	for (int i = 0; i < r->items_n && !rc; i++) {
		const struct item *it = &r->items[i];
		if (it->state != ST_OPEN)
			continue;
		if (map_put(&r->refs, hash_str(it->tx_id), it->tx_id, i) != 0)
			rc = -1;
		for (int k = 0; k < ITEM_REFS && !rc; k++)
			if (it->ref[k] && strcmp(it->ref[k], it->tx_id) != 0 &&
			    map_put(&r->refs, hash_str(it->ref[k]), it->ref[k], i) != 0)
				rc = -1;
	}
	if (threaded)
		pthread_join(thread, NULL); /* on every path: no thread outlives this */
	else
		job.rc = map_batches(r);
	if (rc || job.rc)
		return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
	return LG_OK;
}

static void run_release(struct run *r)
{
	clr_rows_free(r->rows);
	ledger_spec_group_free(r->group);
	lg_bgwrite_stop(r->bg); /* after its jobs' owners, which drain it */
	lg_ckpt_stop(r->ckpt);  /* the last commit's checkpoint done */
	sqlite3_finalize(r->st_break);
	sqlite3_finalize(r->st_scale);
	map_release(&r->refs);
	map_release(&r->batches);
	map_release(&r->amounts);
	free(r->items);
	free(r->lines);
	free(r->settlement);
	free(r->text);
	free(r->rec_ids);
	free(r->members.v);
	clr_arena_release(&r->arena);
	clr_arena_release(&r->line_arena);
}

/* Loads accounts, items and lines inside the caller's ledger transaction. */
/* A configured account that does not exist would turn every match into a
 * refused settlement: say so once instead. */
static int account_exists(struct run *r, const char *what, const char *code)
{
	sqlite3_stmt *st;
	int rc = clr_prepare(r->lg, "SELECT 1 FROM accounts WHERE code = ?1", &st, r->err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = lg_error_set(r->err, LG_ENOINPUT, "channel '%s': %s account '%s' does "
		                  "not exist", r->ch->name, what, code);
	sqlite3_finalize(st);
	return rc;
}

/*
 * How many transactions under this channel's settlement ids
 * ("settle:CHANNEL:...") are neither a settlement of its matches nor the
 * reversal of an unmatch: one posted by hand, say.  Grouped posting learns
 * of such an id only when the group is written, too late to make the match
 * a settlement-refused break; so with any, settlements are posted one by
 * one.  (A channel whose name extends this one's with ':' counts here too:
 * the slow path is the safe one.)
 */
static int settle_ids_foreign(struct run *r, long long *foreign)
{
	static const char sql[] =
		"SELECT (SELECT count(*) FROM transactions WHERE id >= ?1 AND id < ?2)"
		" - (SELECT count(*) FROM clearing_matches WHERE channel = ?3)"
		" - (SELECT count(*) FROM clearing_unmatches u JOIN clearing_matches m"
		"    ON m.id = u.match_id WHERE m.channel = ?3)";
	char lo[LG_ID_MAX], hi[LG_ID_MAX];
	sqlite3_stmt *st;
	int rc = clr_prepare(r->lg, sql, &st, r->err);

	*foreign = 1;
	if (rc)
		return rc;
	snprintf(lo, sizeof lo, "settle:%s:", r->ch->name);
	snprintf(hi, sizeof hi, "settle:%s;", r->ch->name); /* ';' follows ':' */
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->ch->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*foreign = sqlite3_column_int64(st, 0);
	else
		rc = clr_sql_error(r->lg, r->err, "reading settlement ids");
	sqlite3_finalize(st);
	return rc;
}

/*
 * The lines are read on a second thread, through a ledger handle of its
 * own, while this one reads the items: the two reads were a quarter of a
 * night at a million lines, and neither needs the other.  The handle reads
 * what this one does: this one has begun its write transaction (so no one
 * else commits) and writes nothing until the lines are in.
 */
struct lines_job {
	struct run sub;            /* the lines' own run (handle, arena, caches) */
	lg_error err;
	int rc;
	char path[4096];
	char now[32];
	pthread_t thread;
};

static void *lines_job_main(void *arg)
{
	struct lines_job *j = arg;

	j->rc = ledger_open(j->path, 0, j->now, &j->sub.lg, &j->err);
	if (!j->rc)
		j->rc = load_lines(&j->sub);
	sqlite3_finalize(j->sub.st_scale);
	j->sub.st_scale = NULL;
	ledger_close(j->sub.lg);
	j->sub.lg = NULL;
	return NULL;
}

/* Starts reading the lines on a second thread: 1 started, 0 not (no
 * threads, no file: read them here), -1 error. */
static int lines_job_start(struct run *r, struct lines_job **out)
{
	const char *path = sqlite3_db_filename(ledger_sqlite(r->lg), "main");
	struct lines_job *j;

	*out = NULL;
	if (!ledger_threads(r->lg) || !path || !path[0] ||
	    strlen(path) >= sizeof j->path)
		return 0;
	j = calloc(1, sizeof *j);
	if (!j) {
		lg_error_set(r->err, LG_EINTERNAL, "out of memory");
		return -1;
	}
	memcpy(j->path, path, strlen(path) + 1);
	snprintf(j->now, sizeof j->now, "%s", ledger_now(r->lg));
	j->sub.ch = r->ch;
	j->sub.date = r->date;
	j->sub.day = r->day;
	j->sub.err = &j->err;
	clr_arena_init(&j->sub.arena);
	lg_error_init(&j->err);
	if (pthread_create(&j->thread, NULL, lines_job_main, j) != 0) {
		free(j);
		lg_error_set(r->err, LG_EINTERNAL, "cannot start a thread to read lines");
		return -1;
	}
	*out = j;
	return 1;
}

/* Waits for the lines and takes them (on success) into r; frees j. */
static int lines_job_end(struct run *r, struct lines_job *j)
{
	int rc;

	pthread_join(j->thread, NULL);
	rc = j->rc;
	if (rc) {
		*r->err = j->err;
		free(j->sub.lines);
		clr_arena_release(&j->sub.arena);
	} else {
		CLR_ASSERT(r->lines == NULL);
		r->lines = j->sub.lines;
		r->lines_n = j->sub.lines_n;
		r->lines_cap = j->sub.lines_cap;
		r->line_arena = j->sub.arena;
	}
	free(j);
	return rc;
}

static int run_load(struct run *r)
{
	long long foreign = 1;
	char list[sizeof r->ch->clearing];
	char *save = NULL;
	struct lines_job *lj = NULL;
	int rc;

	r->settlement = calloc(1, sizeof *r->settlement);
	if (!r->settlement)
		return lg_error_set(r->err, LG_EINTERNAL, "out of memory");
	if (lines_job_start(r, &lj) < 0)
		return r->err->code;
	for (int k = 0; k < 5; k++)
		snprintf(r->memo[k], sizeof r->memo[k], "%s settlement (%s)", r->ch->name,
		         clr_rule_names[k]);
	rc = r->ch->settle_to[0] ? account_exists(r, "settle_to", r->ch->settle_to) : 0;
	if (!rc && r->ch->fee_account[0])
		rc = account_exists(r, "fee", r->ch->fee_account);
	snprintf(list, sizeof list, "%s", r->ch->clearing);
	for (char *tok = strtok_r(list, " ,", &save); !rc && tok;
	     tok = strtok_r(NULL, " ,", &save)) {
		rc = load_account(r, tok);
		if (!rc)
			rc = load_items(r, r->accts_n - 1);
	}
	if (!rc && r->accts_n == 0)
		rc = lg_error_set(r->err, LG_EUSAGE, "channel '%s' has no clearing account",
		                  r->ch->name);
	if (!rc)
		rc = mark_items(r);
	if (lj) {
		/* Joined on every path: no thread outlives the run. */
		lg_error mine = *r->err;
		int rc2 = lines_job_end(r, lj);
		if (rc) {
			*r->err = mine;
			return rc;
		}
		rc = rc2;
	} else if (!rc) {
		rc = load_lines(r);
	}
	if (!rc)
		rc = build_maps(r);
	if (!rc)
		rc = clr_rows_new(r->lg, &r->rows, r->err);
	if (!rc)
		rc = settle_ids_foreign(r, &foreign);
	if (!rc && foreign == 0)
		rc = ledger_spec_group_new(r->lg, &r->group, r->err);
	/* A second thread writes the settlements' and matches' rows while
	 * this one matches and hashes: the two halves took as long each. */
	if (!rc && r->group && ledger_threads(r->lg)) {
		rc = lg_bgwrite_start(r->lg, &r->bg, r->err);
		if (!rc)
			rc = ledger_spec_group_threads(r->group, r->bg, r->err);
		if (!rc)
			rc = clr_rows_threads(r->rows, r->bg);
		if (!rc)
			rc = lg_ckpt_start(r->lg, &r->ckpt, r->err);
	}
	return rc;
}

/* Rolls the open transaction back once no job of the writer thread is
 * left to run in it. */
static void run_rollback(struct run *r)
{
	if (r->bg) {
		lg_error ignored;
		lg_error_init(&ignored);
		(void)lg_bgwrite_drain(r->bg, &ignored);
	}
	ledger_rollback(r->lg);
}

static int run_start(struct run *r, ledger *lg, const clr_channel *ch,
                     const char *date, clr_recon_stats *stats, lg_error *err)
{
	int rc;

	memset(r, 0, sizeof *r);
	memset(stats, 0, sizeof *stats);
	r->lg = lg;
	r->ch = ch;
	r->date = date;
	r->day = ledger_day_number(date);
	r->stats = stats;
	r->err = err;
	clr_arena_init(&r->arena);
	clr_arena_init(&r->line_arena);
	if (r->day == LONG_MIN)
		return lg_error_set(err, LG_EUSAGE, "date '%s' is not a date like 2026-11-25",
		                    date);
	rc = clr_schema(lg, err);
	if (!rc)
		rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	rc = run_load(r);
	if (rc) {
		run_rollback(r);
		return rc;
	}
	for (int i = 0; i < r->lines_n; i++)
		stats->lines += is_top(&r->lines[i]);
	for (int i = 0; i < r->items_n; i++)
		stats->items += r->items[i].state == ST_OPEN;
	return LG_OK;
}

/* Ends a reconciliation: what it committed is made durable, on success and
 * on failure alike (ledger_defer_sync); the run's own error comes first. */
static int run_end(struct run *r, ledger *lg, int rc)
{
	lg_error mine;
	int rc2;

	run_release(r);
	lg_error_init(&mine);
	rc2 = ledger_defer_sync(lg, 0, &mine);
	if (!rc && rc2)
		*r->err = mine;
	return rc ? rc : rc2;
}

int clr_reconcile(ledger *lg, const clr_channel *ch, const char *date,
                  clr_recon_stats *stats, lg_error *err)
{
	struct run r;
	int rc;

	/* The run commits every CLR_MATCHES_PER_COMMIT matches to bound its
	 * WAL; those commits are progress, not promises (a crashed night runs
	 * again to the same end), so only the run's end is flushed to disk.
	 * Waiting for the disk at each commit kept the writer thread idle for
	 * a tenth of the run. */
	rc = ledger_defer_sync(lg, 1, err);
	if (rc)
		return rc;
	rc = run_start(&r, lg, ch, date, stats, err);
	if (rc)
		return run_end(&r, lg, rc);
	rc = pass_reference(&r);
	if (!rc)
		rc = pass_amount(&r);
	if (!rc)
		rc = pass_one_to_many(&r);
	if (!rc)
		rc = pass_many_to_one(&r);
	if (!rc)
		rc = record_breaks(&r);
	if (!rc)
		rc = run_commit(&r);
	else
		run_rollback(&r);
	return run_end(&r, lg, rc);
}


/* --- by hand ------------------------------------------------------------ */
static int find_line(const struct run *r, long long id)
{
	for (int i = 0; i < r->lines_n; i++)
		if (r->lines[i].id == id)
			return i;
	return -1;
}

static int find_item(const struct run *r, const char *tx_id)
{
	for (int i = 0; i < r->items_n; i++)
		if (strcmp(r->items[i].tx_id, tx_id) == 0)
			return i;
	return -1;
}

static int manual_pick(struct run *r, const long long *line_ids, int lines_n,
                       const char *const *tx_ids, int items_n, int *li, int *ii)
{
	for (int k = 0; k < lines_n; k++) {
		int i = find_line(r, line_ids[k]);
		if (i < 0)
			return lg_error_set(r->err, LG_ENOINPUT, "statement line %lld is not a "
			                    "line of channel '%s' dated on or before %s",
			                    line_ids[k], r->ch->name, r->date);
		if (r->lines[i].parent_id != 0)
			return lg_error_set(r->err, LG_EDATA, "statement line %lld is part of "
			                    "batch line %lld: match the batch", line_ids[k],
			                    r->lines[i].parent_id);
		if (r->lines[i].state == ST_MATCHED)
			return lg_error_set(r->err, LG_EDATA, "statement line %lld is already "
			                    "matched", line_ids[k]);
		li[k] = i;
	}
	for (int k = 0; k < items_n; k++) {
		int i = find_item(r, tx_ids[k]);
		if (i < 0)
			return lg_error_set(r->err, LG_ENOINPUT, "transaction '%s' has no open "
			                    "item on %s", tx_ids[k], r->ch->clearing);
		if (r->items[i].state != ST_OPEN)
			return lg_error_set(r->err, LG_EDATA, "transaction '%s' is already "
			                    "matched", tx_ids[k]);
		if (strcmp(r->accts[r->items[i].acct].asset, r->lines[li[0]].asset) != 0)
			return lg_error_set(r->err, LG_EDATA, "transaction '%s' is in %s, the "
			                    "lines in %s", tx_ids[k], r->accts[r->items[i].acct].asset,
			                    r->lines[li[0]].asset);
		ii[k] = i;
	}
	return LG_OK;
}

int clr_match_manual(ledger *lg, const clr_channel *ch, const long long *line_ids,
                     int lines_n, const char *const *tx_ids, int items_n,
                     const char *reason, const char *user, long long *match_id_out,
                     lg_error *err)
{
	int li[MATCH_MEMBERS_MAX], ii[MATCH_MEMBERS_MAX];
	amount_minor_t lines_minor = 0, items_minor = 0;
	clr_recon_stats stats;
	char today[11];
	struct run r;
	int rc;

	if (lines_n < 1 || items_n < 1 || lines_n > MATCH_MEMBERS_MAX ||
	    items_n > MATCH_MEMBERS_MAX)
		return lg_error_set(err, LG_EUSAGE, "a match needs 1 to %d lines and items",
		                    MATCH_MEMBERS_MAX);
	if (!reason || !reason[0])
		return lg_error_set(err, LG_EUSAGE, "a manual match needs a reason");
	snprintf(today, sizeof today, "%.10s", ledger_now(lg));
	rc = run_start(&r, lg, ch, today, &stats, err);
	if (rc) {
		run_release(&r);
		return rc;
	}
	rc = manual_pick(&r, line_ids, lines_n, tx_ids, items_n, li, ii);
	for (int k = 0; !rc && k < lines_n; k++)
		lines_minor += r.lines[li[k]].amount_minor;
	for (int k = 0; !rc && k < items_n; k++)
		items_minor += r.items[ii[k]].amount_minor;
	if (!rc && items_minor != lines_minor && !ch->fee_account[0])
		rc = lg_error_set(err, LG_EDATA, "lines and items differ and channel '%s' "
		                  "has no fee account for the difference", ch->name);
	if (!rc) {
		struct match m = { 4, li, lines_n, ii, items_n, user, reason, 0 };
		rc = make_match(&r, &m, items_minor - lines_minor);
		if (!rc && stats.matches != 1)
			rc = lg_error_set(err, LG_EDATA, "the ledger refused the settlement; "
			                  "see clearbook breaks list");
		*match_id_out = m.match_id;
	}
	if (!rc)
		rc = run_commit(&r);
	else
		run_rollback(&r);
	return run_end(&r, lg, rc);
}

/* Whether transaction `id` exists (*exists) and has a reversal (*reversed). */
static int tx_state(ledger *lg, const char *id, int *exists, int *reversed,
                    lg_error *err)
{
	static const char sql[] =
		"SELECT EXISTS(SELECT 1 FROM transactions r WHERE r.ref_seq = t.seq"
		" AND r.kind = 'reverse') FROM transactions t WHERE t.id = ?1";
	sqlite3_stmt *st;
	int rc = clr_prepare(lg, sql, &st, err), step;

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	*exists = step == SQLITE_ROW;
	*reversed = *exists && sqlite3_column_int(st, 0);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = clr_sql_error(lg, err, "reading the journal");
	sqlite3_finalize(st);
	return rc;
}

int clr_reverse_once(ledger *lg, const char *id, const char *reason,
                     const char *date, int *reversed_now, lg_error *err)
{
	int exists, reversed, rc = tx_state(lg, id, &exists, &reversed, err);

	*reversed_now = 0;
	if (rc)
		return rc;
	if (!exists)
		return lg_error_set(err, LG_ENOINPUT, "transaction '%s' does not exist", id);
	if (reversed)
		return LG_OK;
	rc = ledger_reverse(lg, id, reason, date, err);
	if (!rc)
		*reversed_now = 1;
	return rc;
}

int clr_unmatch(ledger *lg, long long match_id, const char *reason,
                const char *user, lg_error *err)
{
	static const char find_sql[] =
		"SELECT m.settlement_id, EXISTS(SELECT 1 FROM clearing_unmatches u"
		" WHERE u.match_id = m.id) FROM clearing_matches m WHERE m.id = ?1";
	static const char add_sql[] =
		"INSERT INTO clearing_unmatches(match_id, reversal_id, created_at, user,"
		" reason) VALUES(?1, ?2, ?3, ?4, ?5)";
	char settlement[LG_ID_MAX + 16], reversal[LG_ID_MAX + 32];
	sqlite3_stmt *st = NULL;
	int rc, step, undone, now;

	if (!reason || !reason[0])
		return lg_error_set(err, LG_EUSAGE, "an unmatch needs a reason");
	rc = clr_schema(lg, err);
	if (!rc)
		rc = clr_prepare(lg, find_sql, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, match_id);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (step != SQLITE_DONE)
			return clr_sql_error(lg, err, "reading matches");
		return lg_error_set(err, LG_ENOINPUT, "match %lld does not exist", match_id);
	}
	snprintf(settlement, sizeof settlement, "%s", sqlite3_column_text(st, 0));
	undone = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	if (undone)
		return lg_error_set(err, LG_EDATA, "match %lld is already undone", match_id);
	/* The reversal commits first; if we die before the record below, the
	 * next unmatch of the same match finds it reversed and records it. */
	rc = clr_reverse_once(lg, settlement, reason, NULL, &now, err);
	if (rc)
		return rc;
	snprintf(reversal, sizeof reversal, "%s:reversal", settlement);
	rc = clr_prepare(lg, add_sql, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, match_id);
	sqlite3_bind_text(st, 2, reversal, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ledger_now(lg), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, user ? user : "clearbook", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = clr_sql_error(lg, err, "recording the unmatch");
	sqlite3_finalize(st);
	return rc;
}
