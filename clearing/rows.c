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

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MATCHES_PER_INSERT 64 /* 9 parameters each */
#define ROWS_PAIRS_PER_INSERT 256  /* 2 parameters each */
#define ROWS_TEXT_MAX (256u << 20) /* bytes of text waiting (a bound, never near) */
#define ROWS_MATCH_COLS 9

struct pending_match {
	long long id;
	size_t text[ROWS_MATCH_COLS - 1]; /* offsets into the text buffer */
};
struct pair {
	long long a, b;
};

struct clr_rows {
	ledger *lg;
	long long next_id;
	struct pending_match *m;
	int m_n, m_cap;
	struct pair *lines, *items;
	int lines_n, lines_cap, items_n, items_cap;
	char *text;
	size_t text_n, text_cap;
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
	free(w->m);
	free(w->lines);
	free(w->items);
	free(w->text);
	free(w);
}

/* Copies s and its NUL into the text buffer; its offset into *off. */
static int text_put(struct clr_rows *w, const char *s, size_t *off)
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

int clr_rows_match(struct clr_rows *w, const char *const fields[8],
                   long long *match_id_out, lg_error *err)
{
	struct pending_match *m;

	if (clr_grow(&w->m, &w->m_cap, w->m_n, sizeof *w->m) != 0)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	m = &w->m[w->m_n];
	for (int c = 0; c < ROWS_MATCH_COLS - 1; c++) {
		CLR_ASSERT(fields[c] != NULL);
		if (text_put(w, fields[c], &m->text[c]) != 0)
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
	}
	m->id = w->next_id++;
	w->m_n++;
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
	CLR_ASSERT(match_id > 0 && match_id < w->next_id);
	if (pair_add(&w->lines, &w->lines_n, &w->lines_cap, match_id, line_id) != 0)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	return LG_OK;
}

int clr_rows_item(struct clr_rows *w, long long match_id, long long item_seq,
                  lg_error *err)
{
	CLR_ASSERT(match_id > 0 && match_id < w->next_id);
	if (pair_add(&w->items, &w->items_n, &w->items_cap, match_id, item_seq) != 0)
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

static int flush_matches(struct clr_rows *w, lg_error *err)
{
	int i = 0, rc = LG_OK;

	while (i < w->m_n && !rc) {
		int full = w->m_n - i >= ROWS_MATCHES_PER_INSERT;
		int rows = full ? ROWS_MATCHES_PER_INSERT : 1;
		sqlite3_stmt *st = w->st_match[full];
		for (int r = 0; r < rows; r++, i++) {
			const struct pending_match *m = &w->m[i];
			int base = r * ROWS_MATCH_COLS;
			sqlite3_bind_int64(st, base + 1, m->id);
			for (int c = 0; c < ROWS_MATCH_COLS - 1; c++)
				sqlite3_bind_text(st, base + 2 + c, w->text + m->text[c], -1,
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

int clr_rows_flush(struct clr_rows *w, lg_error *err)
{
	int rc = flush_matches(w, err);

	if (!rc)
		rc = flush_pairs(w, w->st_line, w->lines, w->lines_n, err);
	if (!rc)
		rc = flush_pairs(w, w->st_item, w->items, w->items_n, err);
	/* On an error the caller rolls back; what waited is dropped either way. */
	w->m_n = w->lines_n = w->items_n = 0;
	w->text_n = 0;
	return rc;
}
