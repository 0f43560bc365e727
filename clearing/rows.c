/*
 * rows.c - the rows a reconciliation records per match (clearing_matches,
 * clearing_match_lines, clearing_match_items), written by multi-row INSERTs.
 *
 * A match used to cost three or more INSERT statements of one row each, and
 * at a million matches SQLite's work per statement (start, halt, reset)
 * weighed more than the rows.  Rows now wait here and go in groups of
 * ROWS_MATCHES_PER_INSERT / ROWS_PAIRS_PER_INSERT per statement; the caller
 * flushes before it commits.  Match ids are given here, in order, from the
 * largest id in the table: the same ids SQLite would have chosen (one more
 * than the largest rowid), so the rows are the same as before.
 */
#include "clearing_int.h"
#include "../ledger/bgwrite.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MATCHES_PER_INSERT 64 /* 9 parameters each */
#define ROWS_PAIRS_PER_INSERT 256  /* 2 parameters each */
#define ROWS_TEXT_MAX (256u << 20) /* bytes of text waiting (a bound, never near) */
#define ROWS_MATCH_COLS 9
#define ROWS_HAND_OVER 1024 /* matches to a buffer handed to the writer thread */

struct pending_match {
	long long id;
	size_t text[ROWS_MATCH_COLS - 1]; /* offsets into the text buffer */
};
struct pair {
	long long a, b;
};

/* Rows waiting to be written. */
struct rows_buf {
	struct pending_match *m;
	int m_n, m_cap;
	struct pair *lines, *items;
	int lines_n, lines_cap, items_n, items_cap;
	char *text;
	size_t text_n, text_cap;
	long long ticket;           /* with a writer thread: the job writing it */
	struct clr_rows *w;         /* the owner's statements */
};

struct clr_rows {
	ledger *lg;
	long long next_id;
	/* buf[cur] fills; with a writer thread (bg) the other one may be
	 * being written meanwhile. */
	struct rows_buf buf[2];
	int cur;
	lg_bgwrite *bg;
	/* [0]: one row, [1]: a full group */
	sqlite3_stmt *st_match[2], *st_line[2], *st_item[2];
};

static int rows_prepare(struct clr_rows *w, lg_error *err)
{
	static const char matches_head[] =
		"INSERT INTO clearing_matches(id, channel, rule, settlement_id, created_at,"
		" user, reason, lines, items) VALUES";
	static const char *const head[3] = {
		matches_head, "INSERT INTO clearing_match_lines(match_id, line_id) VALUES",
		"INSERT INTO clearing_match_items(match_id, item_seq) VALUES"
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
	return LG_OK;
}

int clr_rows_new(ledger *lg, struct clr_rows **out, lg_error *err)
{
	struct clr_rows *w = calloc(1, sizeof *w);
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if (!w)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	w->lg = lg;
	w->buf[0].w = w->buf[1].w = w;
	rc = clr_prepare(lg, "SELECT COALESCE(MAX(id), 0) FROM clearing_matches", &st, err);
	if (!rc) {
		if (sqlite3_step(st) == SQLITE_ROW)
			w->next_id = sqlite3_column_int64(st, 0) + 1;
		else
			rc = clr_sql_error(lg, err, "reading matches");
		sqlite3_finalize(st);
	}
	/* SQLite would pick a random free rowid past the largest one; a
	 * table that full is not a reconciliation's. */
	if (!rc && w->next_id >= LLONG_MAX - CLR_ARRAY_MAX)
		rc = lg_error_set(err, LG_EINTERNAL, "clearing_matches: ids exhausted");
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
	if (w->bg) {
		lg_error ignored;
		lg_error_init(&ignored);
		(void)lg_bgwrite_drain(w->bg, &ignored); /* no job may outlive its buffer */
	}
	for (int i = 0; i < 2; i++) {
		free(w->buf[i].m);
		free(w->buf[i].lines);
		free(w->buf[i].items);
		free(w->buf[i].text);
	}
	free(w);
}

/* Copies s and its NUL into the text buffer; its offset into *off. */
static int text_put(struct rows_buf *w, const char *s, size_t *off)
{
	size_t len = strlen(s) + 1;

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

	if (b->m_n == 0 && b->lines_n == 0 && b->items_n == 0)
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

int clr_rows_match(struct clr_rows *w, const char *const fields[8],
                   long long *match_id_out, lg_error *err)
{
	struct rows_buf *b = &w->buf[w->cur];
	struct pending_match *m;

	if (w->bg && b->m_n >= ROWS_HAND_OVER) {
		int rc = hand_over(w, err);
		if (rc)
			return rc;
		b = &w->buf[w->cur];
	}
	if (clr_grow(&b->m, &b->m_cap, b->m_n, sizeof *b->m) != 0)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	m = &b->m[b->m_n];
	for (int c = 0; c < ROWS_MATCH_COLS - 1; c++) {
		CLR_ASSERT(fields[c] != NULL);
		if (text_put(b, fields[c], &m->text[c]) != 0)
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
	}
	m->id = w->next_id++;
	b->m_n++;
	*match_id_out = m->id;
	return LG_OK;
}

static int pair_add(struct pair **v, int *n, int *cap, long long a, long long b)
{
	if (clr_grow(v, cap, *n, sizeof **v) != 0)
		return -1;
	(*v)[(*n)++] = (struct pair){ a, b };
	return 0;
}

int clr_rows_line(struct clr_rows *w, long long match_id, long long line_id,
                  lg_error *err)
{
	struct rows_buf *b = &w->buf[w->cur];

	CLR_ASSERT(match_id > 0 && match_id < w->next_id);
	if (pair_add(&b->lines, &b->lines_n, &b->lines_cap, match_id, line_id) != 0)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	return LG_OK;
}

int clr_rows_item(struct clr_rows *w, long long match_id, long long item_seq,
                  lg_error *err)
{
	struct rows_buf *b = &w->buf[w->cur];

	CLR_ASSERT(match_id > 0 && match_id < w->next_id);
	if (pair_add(&b->items, &b->items_n, &b->items_cap, match_id, item_seq) != 0)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
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
			for (int c = 0; c < ROWS_MATCH_COLS - 1; c++)
				sqlite3_bind_text(st, base + 2 + c, b->text + m->text[c], -1,
				                  SQLITE_STATIC);
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
	int rc = flush_matches(w, b, err);

	if (!rc)
		rc = flush_pairs(w, w->st_line, b->lines, b->lines_n, err);
	if (!rc)
		rc = flush_pairs(w, w->st_item, b->items, b->items_n, err);
	b->m_n = b->lines_n = b->items_n = 0;
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
