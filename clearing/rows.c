/*
 * rows.c - the rows a reconciliation records per match (clearing_match_rows,
 * the clearing_match_sets they name, and for a match of more than one line
 * or item its pairs), written by multi-row INSERTs.
 *
 * A match used to cost three or more INSERT statements of one row each, and
 * at a million matches SQLite's work per statement (start, halt, reset)
 * weighed more than the rows.  Rows now wait here and go in groups of
 * ROWS_MATCHES_PER_INSERT / ROWS_PAIRS_PER_INSERT per statement; the caller
 * flushes before it commits.  Match ids are given here, in order, from the
 * largest id in the table: the same ids SQLite would have chosen (one more
 * than the largest rowid), so the rows are the same as before.
 *
 * A match of one line and one item (nearly every one) is one row of about
 * fifty bytes: its line and item in the row, no pairs, no text that the
 * view (clearing_matches) can give back.  What matches repeat goes into a
 * set, written once: a new one whenever channel, time, user or reason
 * differ from the last match's.
 */
#include "clearing_int.h"
#include "../ledger/bgwrite.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MATCHES_PER_INSERT 64 /* ROWS_MATCH_COLS parameters each */
#define ROWS_PAIRS_PER_INSERT 256  /* 2 parameters each */
#define ROWS_TEXT_MAX (256u << 20) /* bytes of text waiting (a bound, never near) */
#define ROWS_MATCH_COLS 8 /* id, set_id, rule, settlement_id, lines, items, line_id, item_seq */
#define ROWS_MATCH_TEXT 4 /* rule, settlement_id, lines, items */
#define ROWS_SET_TEXT 4   /* channel, created_at, user, reason */
#define ROWS_HAND_OVER 1024 /* matches to a buffer handed to the writer thread */

struct pending_match {
	long long id, set_id;
	long long line_id, item_seq;     /* 0 when the match has pairs instead */
	size_t text[ROWS_MATCH_TEXT];    /* offsets into the text buffer */
	int text_len[ROWS_MATCH_TEXT];   /* their lengths (not measured again by the writer) */
};
struct pending_set {
	long long id;
	size_t text[ROWS_SET_TEXT];
};
struct pair {
	long long a, b;
};

/* Rows waiting to be written. */
struct rows_buf {
	struct pending_match *m;
	int m_n, m_cap;
	struct pending_set *sets;
	int sets_n, sets_cap;
	struct pair *lines, *items;
	int lines_n, lines_cap, items_n, items_cap;
	char *text;
	size_t text_n, text_cap;
	long long ticket;           /* with a writer thread: the job writing it */
	struct clr_rows *w;         /* the owner's statements */
};

struct clr_rows {
	ledger *lg;
	long long next_id, next_set_id;
	long long set_id;                 /* the last match's set (0: none yet) */
	char *set_text[ROWS_SET_TEXT];    /* its fields (owned) */
	/* buf[cur] fills; with a writer thread (bg) the other one may be
	 * being written meanwhile. */
	struct rows_buf buf[2];
	int cur;
	lg_bgwrite *bg;
	/* [0]: one row, [1]: a full group */
	sqlite3_stmt *st_match[2], *st_line[2], *st_item[2];
	sqlite3_stmt *st_set;
};

static int rows_prepare(struct clr_rows *w, lg_error *err)
{
	static const char matches_head[] =
		"INSERT INTO clearing_match_rows(id, set_id, rule, settlement_id, lines,"
		" items, line_id, item_seq) VALUES";
	static const char *const head[3] = {
		matches_head, "INSERT INTO clearing_match_line_pairs(match_id, line_id) VALUES",
		"INSERT INTO clearing_match_item_pairs(match_id, item_seq) VALUES"
	};
	sqlite3_stmt **st[3] = { w->st_match, w->st_line, w->st_item };
	int per[3] = { ROWS_MATCHES_PER_INSERT, ROWS_PAIRS_PER_INSERT,
	               ROWS_PAIRS_PER_INSERT };
	int cols[3] = { ROWS_MATCH_COLS, 2, 2 };
	char sql[4096];

	for (int t = 0; t < 3; t++) {
		for (int full = 0; full < 2; full++) {
			size_t pos = (size_t)snprintf(sql, sizeof sql, "%s", head[t]);
			int rows = full ? per[t] : 1;
			for (int r = 0; r < rows; r++) {
				pos += (size_t)snprintf(sql + pos, sizeof sql - pos, "%s(?", r ? "," : "");
				for (int c = 1; c < cols[t]; c++)
					pos += (size_t)snprintf(sql + pos, sizeof sql - pos, ",?");
				pos += (size_t)snprintf(sql + pos, sizeof sql - pos, ")");
			}
			CLR_ASSERT(pos < sizeof sql);
			int rc = clr_prepare(w->lg, sql, &st[t][full], err);
			if (rc)
				return rc;
		}
	}
	return clr_prepare(w->lg, "INSERT INTO clearing_match_sets(id, channel,"
	                   " created_at, user, reason) VALUES(?1, ?2, ?3, ?4, ?5)",
	                   &w->st_set, err);
}

/* One more than the largest id sql reads. */
static int next_id_of(ledger *lg, const char *sql, long long *out, lg_error *err)
{
	int rc = clr_query_int64(lg, sql, out, "reading matches", err);

	if (!rc)
		(*out)++;
	/* SQLite would pick a random free rowid past the largest one; a
	 * table that full is not a reconciliation's. */
	if (!rc && *out >= LLONG_MAX - CLR_ARRAY_MAX)
		rc = lg_error_set(err, LG_EINTERNAL, "clearing matches: ids exhausted");
	return rc;
}

int clr_rows_new(ledger *lg, struct clr_rows **out, lg_error *err)
{
	struct clr_rows *w = calloc(1, sizeof *w);
	int rc;

	*out = NULL;
	if (!w)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	w->lg = lg;
	w->buf[0].w = w->buf[1].w = w;
	rc = next_id_of(lg, "SELECT COALESCE(MAX(id), 0) FROM clearing_match_rows",
	                &w->next_id, err);
	if (!rc)
		rc = next_id_of(lg, "SELECT COALESCE(MAX(id), 0) FROM clearing_match_sets",
		                &w->next_set_id, err);
	if (!rc)
		rc = rows_prepare(w, err);
	if (rc) {
		clr_rows_free(w);
		return rc;
	}
	*out = w;
	return LG_OK;
}

void clr_rows_free(struct clr_rows *w)
{
	if (!w)
		return;
	for (int i = 0; i < 2; i++) {
		sqlite3_finalize(w->st_match[i]);
		sqlite3_finalize(w->st_line[i]);
		sqlite3_finalize(w->st_item[i]);
	}
	sqlite3_finalize(w->st_set);
	if (w->bg) {
		lg_error ignored;
		lg_error_init(&ignored);
		(void)lg_bgwrite_drain(w->bg, &ignored); /* no job may outlive its buffer */
	}
	for (int i = 0; i < 2; i++) {
		free(w->buf[i].m);
		free(w->buf[i].sets);
		free(w->buf[i].lines);
		free(w->buf[i].items);
		free(w->buf[i].text);
	}
	for (int c = 0; c < ROWS_SET_TEXT; c++)
		free(w->set_text[c]);
	free(w);
}

/* Copies s (of s_len bytes) and its NUL into the text buffer; its offset
 * into *off. */
static int text_put(struct rows_buf *w, const char *s, size_t s_len, size_t *off)
{
	size_t len = s_len + 1;

	if (w->text_n + len > w->text_cap) {
		size_t cap = w->text_cap ? w->text_cap : 65536;
		char *p;
		while (cap < w->text_n + len)
			cap *= 2;
		if (cap > ROWS_TEXT_MAX)
			return -1;
		p = realloc(w->text, cap);
		if (!p)
			return -1;
		w->text = p;
		w->text_cap = cap;
	}
	memcpy(w->text + w->text_n, s, len);
	*off = w->text_n;
	w->text_n += len;
	return 0;
}

static int buf_write_job(void *job, lg_error *err);

/* With a writer thread: the filling buffer goes to it once it holds
 * ROWS_HAND_OVER matches (their lines and items are added right after the
 * match, so they travel with it), and the other one fills once written. */
static int hand_over(struct clr_rows *w, lg_error *err)
{
	struct rows_buf *b = &w->buf[w->cur];
	int rc;

	if (b->m_n == 0 && b->sets_n == 0 && b->lines_n == 0 && b->items_n == 0)
		return LG_OK;
	rc = lg_bgwrite_submit(w->bg, buf_write_job, b, &b->ticket, err);
	if (rc)
		return rc;
	w->cur ^= 1;
	return lg_bgwrite_wait(w->bg, w->buf[w->cur].ticket, err);
}

int clr_rows_threads(struct clr_rows *w, lg_bgwrite *bg)
{
	CLR_ASSERT(w->bg == NULL && bg != NULL);
	w->bg = bg;
	return LG_OK;
}

static int pair_add(struct pair **v, int *n, int *cap, long long a, long long b)
{
	if (clr_grow(v, cap, *n, sizeof **v) != 0)
		return -1;
	(*v)[(*n)++] = (struct pair){ a, b };
	return 0;
}

/* The set of a match with these fields: the last one, or a new one
 * waiting in b.  0, or -1 out of memory. */
static int set_of(struct clr_rows *w, struct rows_buf *b, const char *const f[ROWS_SET_TEXT])
{
	struct pending_set *ps;
	int same = w->set_id > 0;

	for (int c = 0; c < ROWS_SET_TEXT && same; c++)
		same = strcmp(w->set_text[c], f[c]) == 0;
	if (same)
		return 0;
	if (clr_grow(&b->sets, &b->sets_cap, b->sets_n, sizeof *b->sets) != 0)
		return -1;
	ps = &b->sets[b->sets_n];
	for (int c = 0; c < ROWS_SET_TEXT; c++) {
		char *copy = strdup(f[c]);
		if (!copy || text_put(b, f[c], strlen(f[c]), &ps->text[c]) != 0) {
			free(copy);
			return -1;
		}
		free(w->set_text[c]);
		w->set_text[c] = copy;
	}
	ps->id = w->set_id = w->next_set_id++;
	b->sets_n++;
	return 0;
}

int clr_rows_match(struct clr_rows *w, const struct clr_match_rec *rec,
                   long long *match_id_out, lg_error *err)
{
	struct rows_buf *b = &w->buf[w->cur];
	struct pending_match *m;
	const char *set_f[ROWS_SET_TEXT] = { rec->channel, rec->created_at, rec->user,
		                                 rec->reason };
	int single = rec->lines_n == 1 && rec->items_n == 1;
	const char *text[ROWS_MATCH_TEXT] = { rec->rule, rec->settlement_id,
		                                  single ? "" : rec->lines,
		                                  single ? "" : rec->items };

	CLR_ASSERT(rec->lines_n > 0 && rec->items_n > 0);
	if (w->bg && b->m_n >= ROWS_HAND_OVER) {
		int rc = hand_over(w, err);
		if (rc)
			return rc;
		b = &w->buf[w->cur];
	}
	if (clr_grow(&b->m, &b->m_cap, b->m_n, sizeof *b->m) != 0 ||
	    set_of(w, b, set_f) != 0)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	m = &b->m[b->m_n];
	for (int c = 0; c < ROWS_MATCH_TEXT; c++) {
		CLR_ASSERT(text[c] != NULL);
		size_t len = strlen(text[c]);
		CLR_ASSERT(len <= INT_MAX);
		if (text_put(b, text[c], len, &m->text[c]) != 0)
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
		m->text_len[c] = (int)len;
	}
	m->id = w->next_id++;
	m->set_id = w->set_id;
	m->line_id = single ? rec->line_ids[0] : 0;
	m->item_seq = single ? rec->item_seqs[0] : 0;
	CLR_ASSERT(!single || (m->line_id > 0 && m->item_seq > 0));
	for (int i = 0; i < rec->lines_n && !single; i++)
		if (pair_add(&b->lines, &b->lines_n, &b->lines_cap, m->id, rec->line_ids[i]) != 0)
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
	for (int i = 0; i < rec->items_n && !single; i++)
		if (pair_add(&b->items, &b->items_n, &b->items_cap, m->id, rec->item_seqs[i]) != 0)
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
	b->m_n++;
	*match_id_out = m->id;
	return LG_OK;
}

static int run_stmt(struct clr_rows *w, sqlite3_stmt *st, lg_error *err)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? LG_OK
	                                         : clr_sql_error(w->lg, err, "recording a match");
	sqlite3_reset(st);
	return rc;
}

static int flush_matches(struct clr_rows *w, const struct rows_buf *b, lg_error *err)
{
	int i = 0, rc = LG_OK;

	while (i < b->m_n && !rc) {
		int full = b->m_n - i >= ROWS_MATCHES_PER_INSERT;
		int rows = full ? ROWS_MATCHES_PER_INSERT : 1;
		sqlite3_stmt *st = w->st_match[full];
		for (int r = 0; r < rows; r++, i++) {
			const struct pending_match *m = &b->m[i];
			int base = r * ROWS_MATCH_COLS;
			sqlite3_bind_int64(st, base + 1, m->id);
			sqlite3_bind_int64(st, base + 2, m->set_id);
			for (int c = 0; c < ROWS_MATCH_TEXT; c++)
				sqlite3_bind_text(st, base + 3 + c, b->text + m->text[c],
				                  m->text_len[c], SQLITE_STATIC);
			if (m->line_id > 0) {
				sqlite3_bind_int64(st, base + 7, m->line_id);
				sqlite3_bind_int64(st, base + 8, m->item_seq);
			} else {
				sqlite3_bind_null(st, base + 7);
				sqlite3_bind_null(st, base + 8);
			}
		}
		rc = run_stmt(w, st, err);
	}
	return rc;
}

static int flush_pairs(struct clr_rows *w, sqlite3_stmt *const st2[2],
                       const struct pair *v, int n, lg_error *err)
{
	int i = 0, rc = LG_OK;

	while (i < n && !rc) {
		int full = n - i >= ROWS_PAIRS_PER_INSERT;
		int rows = full ? ROWS_PAIRS_PER_INSERT : 1;
		sqlite3_stmt *st = st2[full];
		for (int r = 0; r < rows; r++, i++) {
			sqlite3_bind_int64(st, 2 * r + 1, v[i].a);
			sqlite3_bind_int64(st, 2 * r + 2, v[i].b);
		}
		rc = run_stmt(w, st, err);
	}
	return rc;
}

/* Writes b's rows and empties it, on an error too (the owner then rolls
 * back); on the writer thread when there is one. */
static int buf_write_job(void *job, lg_error *err)
{
	struct rows_buf *b = job;
	struct clr_rows *w = b->w;
	int rc = LG_OK;

	for (int i = 0; i < b->sets_n && !rc; i++) {
		sqlite3_bind_int64(w->st_set, 1, b->sets[i].id);
		for (int c = 0; c < ROWS_SET_TEXT; c++)
			sqlite3_bind_text(w->st_set, 2 + c, b->text + b->sets[i].text[c], -1,
			                  SQLITE_STATIC);
		rc = run_stmt(w, w->st_set, err);
	}
	if (!rc)
		rc = flush_matches(w, b, err);

	if (!rc)
		rc = flush_pairs(w, w->st_line, b->lines, b->lines_n, err);
	if (!rc)
		rc = flush_pairs(w, w->st_item, b->items, b->items_n, err);
	b->m_n = b->sets_n = b->lines_n = b->items_n = 0;
	b->text_n = 0;
	return rc;
}

int clr_rows_flush(struct clr_rows *w, lg_error *err)
{
	int rc;

	if (!w->bg)
		return buf_write_job(&w->buf[w->cur], err);
	rc = hand_over(w, err);
	return rc ? rc : lg_bgwrite_drain(w->bg, err);
}
