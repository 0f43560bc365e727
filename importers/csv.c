/*
 * csv.c - the CSV reader: a channel's CSV export, read through a profile
 * (profile.c), into statement lines for the caller's sink.
 *
 * Card processors, wallets, banks and chain explorers export CSV in as many
 * shapes as there are exporters: preambles of varying length, footers,
 * padded cells, backtick- or tab-guarded ids, currency symbols, trailing
 * commas, legacy encodings.  The profile says what to expect; this file is
 * the only place that reads CSV and the only user of libcsv.
 *
 * How it reads: the text decoder (text.c) turns the file into validated
 * UTF-8 chunk by chunk; the chunks are cut into physical lines so that
 * preamble and footer lines can be recognised (and skipped) without ever
 * being parsed as CSV, and so that every row knows the line it starts on;
 * from the header on, lines are fed to libcsv in strict mode.  Memory is
 * bounded by the longest line and row (CSV_LINE_MAX, CSV_ROW_MAX), never by
 * the file.
 *
 * Errors: a bad data row is refused with LG_EDATA naming the file, the
 * line, the column (number and header name) and the reason.  imp_csv_read
 * stops at the first; imp_csv_read_all reports each one through the
 * caller's hook and reads on, so that whoever fixes the export sees every
 * problem in one run, then fails the file.  Errors that leave nothing
 * sensible to read on from (encoding, CSV structure, the header, I/O, the
 * limits) stop at once either way.  Nothing is half-read: the caller's
 * sink stages the file whole or not at all.
 * Amounts never pass through a floating type: the cell's text goes to
 * amount_parse at the asset's scale, and extra precision is refused.
 */
#include "importers_int.h"

#include <csv.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* --- limits -------------------------------------------------------------- */

#define CSV_LINE_MAX ((size_t)1 << 20)   /* bytes of one physical line */
#define CSV_ROW_MAX ((size_t)4 << 20)    /* bytes of one record, all lines */
#define CSV_FIELDS_MAX 512               /* cells in one record */
#define CSV_ROWS_MAX 100000000L          /* data rows in one file */
#define CSV_PREAMBLE_MAX 10000L          /* lines searched for the header */
#define CSV_TYPE_MAX (IMP_PROFILE_NAME_MAX + 8) /* "csv:" and the name */
#define CSV_DATE_MAX 11                  /* "YYYY-MM-DD" and NUL */
#define CSV_JSON_RESERVE 32              /* kept free for the closing marker */
#define CSV_KEY_MAX 16                   /* "#N" keys for unnamed columns */
#define CSV_REFUSED_MAX 1000L            /* bad rows reported before giving up */

enum csv_phase { CSV_PREAMBLE, CSV_DATA, CSV_FOOTER };

/* The cells of one record, as libcsv hands them over (NUL-terminated). */
struct csv_cells {
	char *buf;                  /* CSV_ROW_MAX bytes */
	size_t len;
	size_t off[CSV_FIELDS_MAX];
	size_t n_bytes[CSV_FIELDS_MAX];
	int n;
	int too_many;
};

struct csv_rd {
	const char *path, *base;
	const imp_profile *pf;
	imp_scale_fn scale;
	void *scale_ctx;
	const imp_sink *sink;
	lg_error *err;
	int rc;                     /* first error raised inside a callback */

	/* Refused rows.  While a row is being checked (in_row), csv_fail
	 * writes to row_err and leaves rc alone: take_row decides whether the
	 * read goes on. */
	int all;                    /* report every bad row, not just the first */
	imp_reject_fn reject;
	void *reject_ctx;
	int in_row;
	lg_error row_err;
	long refused;
	int capped;                 /* stopped at CSV_REFUSED_MAX */

	struct csv_parser cp;
	enum csv_phase phase;
	long line;                  /* physical line being read, from 1 */
	long rec_line;              /* line the current record starts on */
	size_t rec_bytes;
	int row_open;               /* a record continues on the next line */
	int row_ended;              /* the line fed last ended a record */

	struct csv_cells cur;
	struct csv_cells hdr;       /* header names, stripped */
	int have_header;
	int col[IMP_COL_COUNT];     /* header index per field, -1 absent */

	imp_statement st;
	char msg_type[CSV_TYPE_MAX];
	int begun;
	long rows;
	amount_minor_t sum;
	char from_date[CSV_DATE_MAX], to_date[CSV_DATE_MAX];

	char scale_asset[LG_ASSET_CODE_MAX + 1]; /* one-entry scale cache */
	int scale_value;

	/* Buffers of the line being built. */
	char fld[IMP_COL_COUNT][IMP_FIELD_MAX];
	char bdate[CSV_DATE_MAX], vdate[CSV_DATE_MAX];
	char asset[LG_ASSET_CODE_MAX + 1];
	char raw[IMP_RAW_MAX];
	char raw_header[IMP_RAW_MAX];

	/* Profiles with a [posting] template: each row becomes a transaction
	 * handed to post (posting.c builds it). */
	imp_post_fn post;
	void *post_ctx;
	long posted, replayed;
	struct imp_template_cols tcols;
	const char *vcell[CSV_FIELDS_MAX];
	size_t vlen[CSV_FIELDS_MAX];
	char tx_json[LG_LINE_MAX + 1];
};

/* --- errors -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int csv_fail(struct csv_rd *rd, long line, const char *fmt, ...)
{
	lg_error *e = rd->in_row ? &rd->row_err : rd->err;
	char msg[LG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	lg_error_set(e, LG_EDATA, "%s:%ld: %s", rd->path, line, msg);
	if (e)
		e->line = line;
	/* A bad row is take_row's to judge; anything else ends the read. */
	if (!rd->in_row && rd->rc == 0)
		rd->rc = LG_EDATA;
	return LG_EDATA;
}

/* "FILE:LINE: column N 'HEADER': message" for a cell of the current row. */
__attribute__((format(printf, 3, 4)))
static int col_fail(struct csv_rd *rd, int idx, const char *fmt, ...)
{
	char msg[LG_MSG_MAX];
	const char *name = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (idx < 0)
		return csv_fail(rd, rd->rec_line, "%s", msg);
	if (idx < rd->hdr.n)
		name = rd->hdr.buf + rd->hdr.off[idx];
	return csv_fail(rd, rd->rec_line, "column %d '%s': %s", idx + 1, name,
	                msg);
}

/* --- cells --------------------------------------------------------------- */

static int in_strip(const imp_profile *pf, char c)
{
	return c == ' ' || c == '\t' || c == '\r' ||
	       (c != '\0' && strchr(pf->strip, c) != NULL);
}

/* Trims the profile's strip characters (and blanks) from both ends. */
static const char *strip_cell(const imp_profile *pf, const char *s, size_t *n)
{
	size_t len = *n;

	while (len > 0 && in_strip(pf, s[0])) {
		s++;
		len--;
	}
	while (len > 0 && in_strip(pf, s[len - 1]))
		len--;
	*n = len;
	return s;
}

/* The stripped cell of field `f` in the current row; NULL when the column
 * is absent from the header or the cell is missing. */
static const char *cell(struct csv_rd *rd, enum imp_col f, size_t *n)
{
	int i = rd->col[f];

	*n = 0;
	if (i < 0 || i >= rd->cur.n)
		return NULL;
	*n = rd->cur.n_bytes[i];
	return strip_cell(rd->pf, rd->cur.buf + rd->cur.off[i], n);
}

/* Copies a text field, cut at a character boundary to IMP_FIELD_MAX. */
static const char *text_field(struct csv_rd *rd, enum imp_col f)
{
	size_t n;
	const char *s = cell(rd, f, &n);
	char *dst = rd->fld[f];

	if (!s || n == 0)
		return NULL;
	if (n >= IMP_FIELD_MAX) {
		n = IMP_FIELD_MAX - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return dst;
}

static void cells_reset(struct csv_cells *c)
{
	c->len = 0;
	c->n = 0;
	c->too_many = 0;
}

static int cells_add(struct csv_cells *c, const char *s, size_t n)
{
	if (c->n >= CSV_FIELDS_MAX || c->len + n + 1 > CSV_ROW_MAX) {
		c->too_many = 1;
		return -1;
	}
	memcpy(c->buf + c->len, s, n);
	c->buf[c->len + n] = '\0';
	c->off[c->n] = c->len;
	c->n_bytes[c->n] = n;
	c->len += n + 1;
	c->n++;
	return 0;
}

/* --- dates --------------------------------------------------------------- */

static int take_digits(const char *s, size_t n, size_t *j, int min, int max,
                       int *out)
{
	int v = 0, k = 0;

	while (k < max && *j < n && s[*j] >= '0' && s[*j] <= '9') {
		v = v * 10 + (s[*j] - '0');
		(*j)++;
		k++;
	}
	if (k < min)
		return -1;
	*out = v;
	return 0;
}

/* One strftime-like pattern against the whole text: %Y %y %m %d %H %M %S,
 * %* (the rest is ignored), %% and literal characters. */
static int date_match(const char *fmt, size_t flen, const char *s, size_t n,
                      char out[CSV_DATE_MAX])
{
	int y = -1, m = -1, d = -1, v;
	size_t i, j = 0;

	for (i = 0; i < flen; i++) {
		if (fmt[i] != '%' || i + 1 == flen) {
			if (j >= n || s[j] != fmt[i])
				return -1;
			j++;
			continue;
		}
		switch (fmt[++i]) {
		case 'Y': if (take_digits(s, n, &j, 4, 4, &y)) return -1; break;
		case 'y': if (take_digits(s, n, &j, 2, 2, &v)) return -1;
		          y = 2000 + v; break;
		case 'm': if (take_digits(s, n, &j, 1, 2, &m)) return -1; break;
		case 'd': if (take_digits(s, n, &j, 1, 2, &d)) return -1; break;
		case 'H': case 'M': case 'S':
			if (take_digits(s, n, &j, 1, 2, &v) || v > 60) return -1;
			break;
		case '*': j = n; break;
		default:
			if (j >= n || s[j] != fmt[i]) return -1;
			j++;
		}
	}
	if (j != n || y < 0 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	snprintf(out, CSV_DATE_MAX, "%04d-%02d-%02d", y, m, d);
	return ledger_date_valid(out) ? 0 : -1;
}

static int date_field(struct csv_rd *rd, enum imp_col f, char *out,
                      const char **res)
{
	const char *list = rd->pf->date_formats;
	const char *item = list;
	size_t n;
	const char *s = cell(rd, f, &n);
	int k;

	*res = NULL;
	if (!s || n == 0)
		return 0;
	for (k = 0; *item != '\0' && k < IMP_PROFILE_LIST_MAX; k++) {
		const char *bar = strchr(item, '|');
		size_t len = bar ? (size_t)(bar - item) : strlen(item);

		if (date_match(item, len, s, n, out) == 0) {
			*res = out;
			return 0;
		}
		if (!bar)
			break;
		item = bar + 1;
	}
	return col_fail(rd, rd->col[f], "date '%.*s' matches none of the formats "
	                "'%s'", (int)n, s, list);
}

/* --- assets and amounts -------------------------------------------------- */

static int scale_of(struct csv_rd *rd, const char *asset, int *scale)
{
	int s = -1;

	if (rd->scale_asset[0] != '\0' && strcmp(rd->scale_asset, asset) == 0) {
		*scale = rd->scale_value;
		return 0;
	}
	if (!rd->scale || rd->scale(rd->scale_ctx, asset, &s) != 0 || s < 0 ||
	    s > AMOUNT_SCALE_MAX)
		return -1;
	snprintf(rd->scale_asset, sizeof rd->scale_asset, "%s", asset);
	rd->scale_value = s;
	*scale = s;
	return 0;
}

static const char *asset_map(const imp_profile *pf, const char *key,
                             size_t n, int contract)
{
	int i;

	for (i = 0; i < pf->assets_n; i++) {
		const struct imp_asset_map *m = &pf->assets[i];

		if (m->contract == contract && strlen(m->key) == n &&
		    memcmp(m->key, key, n) == 0)
			return m->asset;
	}
	return NULL;
}

/* The row's asset code: the contract or the symbol through [assets], else
 * the cell as it is (unless asset_map_only), else the fixed asset. */
static int row_asset(struct csv_rd *rd, int *scale)
{
	const imp_profile *pf = rd->pf;
	const char *mapped = NULL, *sym, *con;
	size_t sn, cn;
	int idx = rd->col[IMP_COL_ASSET];

	sym = cell(rd, IMP_COL_ASSET, &sn);
	con = cell(rd, IMP_COL_CONTRACT, &cn);
	if (con && cn > 0)
		mapped = asset_map(pf, con, cn, 1);
	if (!mapped && sym && sn > 0)
		mapped = asset_map(pf, sym, sn, 0);
	if (!mapped && sym && sn > 0) {
		if (pf->asset_map_only)
			return col_fail(rd, idx, "unknown asset '%.*s': not in the "
			                "profile's [assets]", (int)sn, sym);
		if (sn > LG_ASSET_CODE_MAX)
			return col_fail(rd, idx, "unknown asset '%.*s': longer than %d "
			                "bytes and not in the profile's [assets]",
			                (int)sn, sym, LG_ASSET_CODE_MAX);
		memcpy(rd->asset, sym, sn);
		rd->asset[sn] = '\0';
	} else if (mapped) {
		snprintf(rd->asset, sizeof rd->asset, "%s", mapped);
	} else if (pf->asset[0] != '\0') {
		snprintf(rd->asset, sizeof rd->asset, "%s", pf->asset);
	} else {
		return col_fail(rd, idx, "no asset: the cell is empty and the "
		                "profile fixes none");
	}
	if (scale_of(rd, rd->asset, scale) != 0)
		return col_fail(rd, idx >= 0 ? idx : rd->col[IMP_COL_AMOUNT],
		                "unknown asset '%s'", rd->asset);
	return 0;
}

/* Drops a currency symbol (one of currency_symbol_strip's alternatives)
 * found at the front of `s`. */
static size_t symbol_len(const imp_profile *pf, const char *s, size_t n)
{
	const char *item = pf->currency_symbol_strip;
	int k;

	for (k = 0; *item != '\0' && k < IMP_PROFILE_LIST_MAX; k++) {
		const char *bar = strchr(item, '|');
		size_t len = bar ? (size_t)(bar - item) : strlen(item);

		if (len > 0 && len <= n && memcmp(s, item, len) == 0)
			return len;
		if (!bar)
			break;
		item = bar + 1;
	}
	return 0;
}

#define CSV_EXPONENT_MAX 40  /* |e| accepted in "1.9E-4" */

/* Rewrites "[-]D[.D]E[+-]N" in buf as plain decimal text by moving the
 * point: exact, no floating type.  Returns -1 if it is not that shape. */
static int unexponent(char *buf, size_t cap, size_t *len)
{
	char digits[AMOUNT_TEXT_MAX], out[AMOUNT_TEXT_MAX];
	char *e = strpbrk(buf, "eE"), *end = NULL;
	size_t i, nd = 0, k = 0;
	long ex, point = -1;
	int neg = buf[0] == '-';

	if (!e)
		return 0;
	ex = strtol(e + 1, &end, 10);
	if (end == e + 1 || *end != '\0' || ex > CSV_EXPONENT_MAX ||
	    ex < -CSV_EXPONENT_MAX)
		return -1;
	for (i = (size_t)neg; buf + i < e; i++) {
		if (buf[i] == '.' && point < 0)
			point = (long)nd;
		else if (buf[i] >= '0' && buf[i] <= '9' && nd + 1 < sizeof digits)
			digits[nd++] = buf[i];
		else
			return -1;
	}
	if (nd == 0)
		return -1;
	point = (point < 0 ? (long)nd : point) + ex;
	if (neg)
		out[k++] = '-';
	if (point <= 0) {
		out[k++] = '0';
		out[k++] = '.';
		for (; point < 0 && k + 1 < sizeof out; point++)
			out[k++] = '0';
		point = 0;
	}
	for (i = 0; i < nd || (long)i < point; i++) {
		if (k + 2 >= sizeof out)
			return -1;
		if ((long)i == point && i > 0)
			out[k++] = '.';
		out[k++] = i < nd ? digits[i] : '0';
	}
	if (k >= cap)
		return -1;
	memcpy(buf, out, k);
	buf[k] = '\0';
	*len = k;
	return 0;
}

/* Parses the amount cell of field `f`: symbols, blanks and the thousands
 * separator dropped, then exact decimal text at `scale`.  An empty cell is
 * *empty = 1 and zero. */
static int amount_cell(struct csv_rd *rd, enum imp_col f, int scale,
                       amount_minor_t *out, int *empty)
{
	char buf[AMOUNT_TEXT_MAX], why[128];
	size_t n, i, k = 0, sym;
	const char *s = cell(rd, f, &n);
	int neg = 0;

	*out = 0;
	*empty = 1;
	if (!s || n == 0)
		return 0;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		s++;
		n--;
	}
	sym = symbol_len(rd->pf, s, n);
	s += sym;
	n -= sym;
	if (neg)
		buf[k++] = '-';
	for (i = 0; i < n; i++) {
		if (s[i] == ' ' || (rd->pf->thousands_sep && s[i] == rd->pf->thousands_sep))
			continue;
		if (k + 1 >= sizeof buf)
			return col_fail(rd, rd->col[f], "amount is longer than %d "
			                "characters", AMOUNT_TEXT_MAX - 1);
		buf[k++] = s[i];
	}
	buf[k] = '\0';
	if (rd->pf->allow_exponent && unexponent(buf, sizeof buf, &k) != 0)
		return col_fail(rd, rd->col[f], "amount '%s' is not a decimal "
		                "number", buf);
	if (rd->pf->base_units && strchr(buf, '.'))
		return col_fail(rd, rd->col[f], "amount '%s' is not a whole number "
		                "of base units", buf);
	if (amount_parse(buf, k, rd->pf->base_units ? 0 : scale, out, why,
	                 sizeof why) != 0)
		return col_fail(rd, rd->col[f], "amount '%s' of %s (%d decimals): %s",
		                buf, rd->asset, scale, why);
	*empty = 0;
	return 0;
}

static int direction_sign(struct csv_rd *rd, int *sign)
{
	const imp_profile *pf = rd->pf;
	size_t n;
	const char *s = cell(rd, IMP_COL_DIRECTION, &n);

	if (!s)
		s = "";
	if (imp_list_has(pf->direction_in, s, n))
		*sign = 1;
	else if (imp_list_has(pf->direction_out, s, n))
		*sign = -1;
	else if (imp_list_has(pf->direction_neutral, s, n))
		*sign = 0;
	else
		return col_fail(rd, rd->col[IMP_COL_DIRECTION], "direction '%.*s' is "
		                "none of in '%s', out '%s', neutral '%s'", (int)n, s,
		                pf->direction_in, pf->direction_out,
		                pf->direction_neutral);
	return 0;
}

static int from_to_sign(struct csv_rd *rd, int *sign)
{
	const char *own = rd->pf->own_address;
	size_t fn, tn;
	const char *from = cell(rd, IMP_COL_FROM, &fn);
	const char *to = cell(rd, IMP_COL_TO, &tn);
	int out, in;

	if (own[0] == '\0')
		return csv_fail(rd, rd->rec_line, "profile '%s' needs "
		                "amount.own_address, the address the export is for",
		                rd->pf->name);
	out = from && imp_list_has(own, from, fn);
	in = to && imp_list_has(own, to, tn);
	if (!out && !in)
		return col_fail(rd, rd->col[IMP_COL_FROM], "neither sender '%.*s' "
		                "nor receiver '%.*s' is own_address", (int)fn,
		                from ? from : "", (int)tn, to ? to : "");
	*sign = in - out;
	return 0;
}

static int row_amount(struct csv_rd *rd, int scale, amount_minor_t *out)
{
	amount_minor_t a = 0, b = 0, r = 0;
	int e1 = 1, e2 = 1, sign = 1, rc;

	if (rd->pf->mode == IMP_AMOUNT_DEBIT_CREDIT) {
		rc = amount_cell(rd, IMP_COL_CREDIT, scale, &a, &e1);
		if (rc == 0)
			rc = amount_cell(rd, IMP_COL_DEBIT, scale, &b, &e2);
		if (rc != 0)
			return rc;
		if (e1 && e2)
			return col_fail(rd, rd->col[IMP_COL_CREDIT], "neither credit "
			                "nor debit holds an amount");
		if (amount_sub(a, b, &r) != 0)
			return col_fail(rd, rd->col[IMP_COL_CREDIT], "amount overflows");
	} else {
		rc = amount_cell(rd, IMP_COL_AMOUNT, scale, &a, &e1);
		if (rc == 0 && e1)
			rc = col_fail(rd, rd->col[IMP_COL_AMOUNT], "amount is empty");
		if (rc == 0 && rd->pf->mode == IMP_AMOUNT_DIRECTION)
			rc = direction_sign(rd, &sign);
		if (rc == 0 && rd->pf->mode == IMP_AMOUNT_FROM_TO)
			rc = from_to_sign(rd, &sign);
		if (rc != 0)
			return rc;
		if (sign == 0)
			r = 0;
		else if (sign < 0 ? amount_neg(a, &r) != 0 : (r = a, 0))
			return col_fail(rd, rd->col[IMP_COL_AMOUNT], "amount overflows");
	}
	if (rd->pf->negate && amount_neg(r, &r) != 0)
		return col_fail(rd, rd->col[IMP_COL_AMOUNT], "amount overflows");
	*out = r;
	return 0;
}

/* --- raw fields ---------------------------------------------------------- */

struct csv_json {
	char *buf;
	size_t cap, len;
	int full;
};

static int json_byte(struct csv_json *j, char c)
{
	if (j->len + 1 >= j->cap - CSV_JSON_RESERVE)
		return -1;
	j->buf[j->len++] = c;
	return 0;
}

/* Needs an escape in a JSON string. */
static int json_special(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

static int json_string(struct csv_json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;
	int rc = json_byte(j, '"');

	while (i < n && rc == 0) {
		size_t run = i;
		unsigned char c;

		/* Copy plain runs at once: this runs for every cell of a file. */
		while (run < n && !json_special((unsigned char)s[run]))
			run++;
		if (run > i) {
			if (j->len + (run - i) + 1 >= j->cap - CSV_JSON_RESERVE)
				return -1;
			memcpy(j->buf + j->len, s + i, run - i);
			j->len += run - i;
			i = run;
			continue;
		}
		c = (unsigned char)s[i++];
		if (c == '"' || c == '\\')
			rc = json_byte(j, '\\') || json_byte(j, (char)c);
		else if (c == '\n')
			rc = json_byte(j, '\\') || json_byte(j, 'n');
		else if (c == '\t')
			rc = json_byte(j, '\\') || json_byte(j, 't');
		else if (c == '\r')
			rc = json_byte(j, '\\') || json_byte(j, 'r');
		else
			rc = json_byte(j, '\\') || json_byte(j, 'u') ||
			     json_byte(j, '0') || json_byte(j, '0') ||
			     json_byte(j, hex[c >> 4]) || json_byte(j, hex[c & 15]);
	}
	return rc || json_byte(j, '"');
}

/* Which of a line's fields each profile column can feed, by code. */
static const struct {
	enum imp_col col;
	int code;
} raw_fields[] = {
	{ IMP_COL_ENTRY_REF, LG_RAW_ENTRY_REF },
	{ IMP_COL_BOOKING_DATE, LG_RAW_BOOKING_DATE },
	{ IMP_COL_VALUE_DATE, LG_RAW_VALUE_DATE },
	{ IMP_COL_ASSET, LG_RAW_ASSET },
	{ IMP_COL_COUNTERPARTY_NAME, LG_RAW_COUNTERPARTY_NAME },
	{ IMP_COL_COUNTERPARTY_ACCOUNT, LG_RAW_COUNTERPARTY_ACCOUNT },
	{ IMP_COL_FROM, LG_RAW_COUNTERPARTY_ACCOUNT },
	{ IMP_COL_TO, LG_RAW_COUNTERPARTY_ACCOUNT },
	{ IMP_COL_END_TO_END_ID, LG_RAW_END_TO_END_ID },
	{ IMP_COL_INSTRUCTION_ID, LG_RAW_INSTRUCTION_ID },
	{ IMP_COL_PROVIDER_REF, LG_RAW_PROVIDER_REF },
	{ IMP_COL_UETR, LG_RAW_UETR },
	{ IMP_COL_REMITTANCE, LG_RAW_REMITTANCE },
	{ IMP_COL_TX_CODE, LG_RAW_TX_CODE },
	{ IMP_COL_STATUS, LG_RAW_STATUS },
	{ IMP_COL_BATCH_ID, LG_RAW_BATCH_ID },
	{ IMP_COL_RETURN_REASON, LG_RAW_RETURN_REASON },
};

/* For each of the first n cells, the code of the line field that holds
 * exactly its text, else 0: the cell is then stored as that code, its
 * text once, in the field. */
static void cell_codes(const struct csv_cells *c, int n, const int *col,
                       const imp_line *ln, unsigned char *code)
{
	memset(code, 0, (size_t)n);
	for (size_t k = 0; k < sizeof raw_fields / sizeof raw_fields[0]; k++) {
		int i = col[raw_fields[k].col];
		const char *v;
		size_t len;

		if (i < 0 || i >= n || code[i])
			continue;
		v = ledger_line_field(ln, raw_fields[k].code);
		len = c->n_bytes[i];
		if (v && memcmp(v, c->buf + c->off[i], len) == 0 && v[len] == '\0')
			code[i] = (unsigned char)raw_fields[k].code;
	}
}

/* The cells of `c` (the first `n`) as a JSON array of strings, into buf.
 * With a line (and the profile's columns), the array starts with null and
 * a cell whose text is one of the line's fields is that field's code
 * (ledger.h, enum lg_raw_field): staged lines keep their cells this way,
 * beside the header kept once (ledger_stmt_statement.raw_header), so that
 * neither a column name nor a value already in a field is written twice.
 * An array too big for cap keeps the cells that fit and ends with
 * {"#truncated":true}. */
static const char *cells_json(const struct csv_cells *c, int n, const int *col,
                              const imp_line *ln, char *buf, size_t cap)
{
	struct csv_json j = { buf, cap, 1, 0 };
	unsigned char code[CSV_FIELDS_MAX];
	int i;

	IMP_ASSERT(cap > 2 * CSV_JSON_RESERVE && n <= CSV_FIELDS_MAX);
	buf[0] = '[';
	if (ln) {
		memcpy(buf + 1, "null", 4);
		j.len = 5;
		cell_codes(c, n, col, ln, code);
	} else {
		memset(code, 0, (size_t)n);
	}
	for (i = 0; i < n && !j.full; i++) {
		const char *cs = c->buf + c->off[i];
		size_t mark = j.len;

		if (j.len > 1 && json_byte(&j, ',') != 0)
			j.full = 1;
		else if (code[i] >= 10 && json_byte(&j, (char)('0' + code[i] / 10)) != 0)
			j.full = 1;
		else if (code[i] && json_byte(&j, (char)('0' + code[i] % 10)) != 0)
			j.full = 1;
		else if (!code[i] && json_string(&j, cs, c->n_bytes[i]) != 0)
			j.full = 1;
		if (j.full)
			j.len = mark;
	}
	IMP_ASSERT(j.len + CSV_JSON_RESERVE <= j.cap);
	if (j.full)
		j.len += (size_t)snprintf(buf + j.len, j.cap - j.len, "%s",
		                          j.len > 1 ? ",{\"#truncated\":true}]" :
		                          "{\"#truncated\":true}]");
	else
		buf[j.len++] = ']';
	buf[j.len] = '\0';
	return buf;
}

/* The row's cells as staged: beyond the header only up to the last
 * non-empty cell (a trailing comma adds nothing). */
static const char *row_cells(struct csv_rd *rd, const imp_line *ln)
{
	int n = rd->cur.n;

	while (n > rd->hdr.n && rd->cur.n_bytes[n - 1] == 0)
		n--;
	return cells_json(&rd->cur, n, rd->col, ln, rd->raw, sizeof rd->raw);
}

/* The row's header-to-cell pairs, cells as they stand in the file.  A row
 * too big for IMP_RAW_MAX keeps the pairs that fit and says so. */
static const char *row_json(struct csv_rd *rd)
{
	struct csv_json j = { rd->raw, sizeof rd->raw, 1, 0 };
	int i;

	rd->raw[0] = '{';
	for (i = 0; i < rd->cur.n && !j.full; i++) {
		const char *v = rd->cur.buf + rd->cur.off[i];
		size_t vn = rd->cur.n_bytes[i], mark = j.len;
		char key[CSV_KEY_MAX];
		const char *k = key;

		if (i < rd->hdr.n && rd->hdr.n_bytes[i] > 0)
			k = rd->hdr.buf + rd->hdr.off[i];
		else if (vn == 0)
			continue;
		else
			snprintf(key, sizeof key, "#%d", i + 1);
		if ((j.len > 1 && json_byte(&j, ',') != 0) ||
		    json_string(&j, k, strlen(k)) != 0 || json_byte(&j, ':') != 0 ||
		    json_string(&j, v, vn) != 0) {
			j.len = mark;
			j.full = 1;
		}
	}
	IMP_ASSERT(j.len + CSV_JSON_RESERVE <= j.cap);
	if (j.full)
		j.len += (size_t)snprintf(rd->raw + j.len, j.cap - j.len, "%s",
		                          j.len > 1 ? ",\"#truncated\":true}" :
		                          "\"#truncated\":true}");
	else
		rd->raw[j.len++] = '}';
	rd->raw[j.len] = '\0';
	return rd->raw;
}

/* --- the header ---------------------------------------------------------- */

/* Finds the header index for one [columns] entry: the first alternative
 * present wins; a leading '?' makes the column optional. */
static int find_column(struct csv_rd *rd, enum imp_col f)
{
	const char *spec = rd->pf->columns[f];
	int optional = spec[0] == '?';
	int i;

	rd->col[f] = -1;
	if (spec[0] == '\0')
		return 0;
	for (i = 0; i < rd->hdr.n; i++)
		if (imp_list_has(spec, rd->hdr.buf + rd->hdr.off[i],
		                 rd->hdr.n_bytes[i])) {
			rd->col[f] = i;
			return 0;
		}
	if (optional)
		return 0;
	return csv_fail(rd, rd->rec_line, "the header has no column '%s' for "
	                "field '%s' (profile '%s')", spec, imp_col_names[f],
	                rd->pf->name);
}

static int sink_begin(struct csv_rd *rd)
{
	imp_statement *st = &rd->st;
	int scale = -1;

	snprintf(rd->msg_type, sizeof rd->msg_type, "csv:%s", rd->pf->name);
	st->message_type = rd->msg_type;
	st->statement_id = rd->base;
	st->seq_nb = -1;
	st->scale = -1;
	st->line_no = rd->rec_line;
	st->raw_header = cells_json(&rd->hdr, rd->hdr.n, NULL, NULL, rd->raw_header,
	                            sizeof rd->raw_header);
	if (rd->pf->asset[0] != '\0') {
		if (scale_of(rd, rd->pf->asset, &scale) != 0)
			return csv_fail(rd, rd->rec_line, "unknown asset '%s' (the "
			                "profile's fixed asset)", rd->pf->asset);
		st->asset = rd->pf->asset;
		st->scale = scale;
	}
	rd->begun = 1;
	if (!rd->sink->statement_begin)
		return 0;
	return rd->sink->statement_begin(rd->sink->ctx, st, rd->err);
}

/*
 * A posting profile names the row's cells by their header in the
 * transaction's meta (row_json) and in its templates: two columns of one
 * name would give a JSON object with a duplicate key, which the ledger
 * refuses on every row, and a template reference that means either.  Names
 * starting with '#' are kept for cells without a header ("#7",
 * "#truncated").  Found by tests/fuzz/fuzz_csv.c.
 */
static int header_names_unique(struct csv_rd *rd)
{
	for (int i = 0; i < rd->hdr.n; i++) {
		const char *a = rd->hdr.buf + rd->hdr.off[i];
		size_t an = rd->hdr.n_bytes[i];

		if (an > 0 && a[0] == '#')
			return csv_fail(rd, rd->rec_line, "column %d: header name '%.*s' "
			                "starts with '#', kept for cells without a header",
			                i + 1, (int)an, a);
		for (int j = 0; j < i && an > 0; j++)
			if (rd->hdr.n_bytes[j] == an &&
			    memcmp(rd->hdr.buf + rd->hdr.off[j], a, an) == 0)
				return csv_fail(rd, rd->rec_line, "columns %d and %d have the "
				                "same header name '%.*s'", j + 1, i + 1,
				                (int)an, a);
	}
	return 0;
}

static int take_header(struct csv_rd *rd)
{
	int i, rc;

	cells_reset(&rd->hdr);
	for (i = 0; i < rd->cur.n; i++) {
		size_t n = rd->cur.n_bytes[i];
		const char *s = strip_cell(rd->pf, rd->cur.buf + rd->cur.off[i], &n);

		if (cells_add(&rd->hdr, s, n) != 0)
			return csv_fail(rd, rd->rec_line, "header has more than %d "
			                "columns", CSV_FIELDS_MAX);
	}
	for (i = 0; i < IMP_COL_COUNT; i++) {
		rc = find_column(rd, (enum imp_col)i);
		if (rc != 0)
			return rc;
	}
	if (rd->post) {
		char why[LG_MSG_MAX];
		struct imp_row_view v = { rd->vcell, rd->vlen, rd->hdr.n };

		rc = header_names_unique(rd);
		if (rc != 0)
			return rc;

		for (i = 0; i < rd->hdr.n; i++) {
			rd->vcell[i] = rd->hdr.buf + rd->hdr.off[i];
			rd->vlen[i] = rd->hdr.n_bytes[i];
		}
		if (imp_template_bind(&rd->pf->post, &v, &rd->tcols, why, sizeof why) != 0)
			return csv_fail(rd, rd->rec_line, "%s (profile '%s')", why,
			                rd->pf->name);
	}
	rd->have_header = 1;
	return sink_begin(rd);
}

/* --- rows ---------------------------------------------------------------- */

/* Extra cells beyond the header must be empty (a trailing comma); fewer
 * cells than the header is a broken row.  An all-empty row is skipped. */
static int row_shape(struct csv_rd *rd, int *skip)
{
	int i, blank = 1;

	for (i = 0; i < rd->cur.n; i++) {
		size_t n = rd->cur.n_bytes[i];

		strip_cell(rd->pf, rd->cur.buf + rd->cur.off[i], &n);
		if (n == 0)
			continue;
		blank = 0;
		if (i >= rd->hdr.n)
			return csv_fail(rd, rd->rec_line, "column %d: cell '%s' beyond "
			                "the header's %d columns", i + 1,
			                rd->cur.buf + rd->cur.off[i], rd->hdr.n);
	}
	*skip = blank;
	if (!blank && rd->cur.n < rd->hdr.n)
		return csv_fail(rd, rd->rec_line, "row has %d fields, the header %d "
		                "(column %d '%s' is missing)", rd->cur.n, rd->hdr.n,
		                rd->cur.n + 1, rd->hdr.buf + rd->hdr.off[rd->cur.n]);
	return 0;
}

static void track_dates(struct csv_rd *rd, const char *d)
{
	if (!d)
		return;
	if (rd->from_date[0] == '\0' || strcmp(d, rd->from_date) < 0)
		snprintf(rd->from_date, sizeof rd->from_date, "%s", d);
	if (rd->to_date[0] == '\0' || strcmp(d, rd->to_date) > 0)
		snprintf(rd->to_date, sizeof rd->to_date, "%s", d);
}

/* Checks one data row and fills *ln but for its place in the file.  A bad
 * row is LG_EDATA with the reason in rd->row_err (the caller sets in_row);
 * an all-blank row is *skip = 1. */
static int row_build(struct csv_rd *rd, imp_line *ln, int *skip)
{
	int scale = -1, rc;

	if (rd->cur.too_many)
		return csv_fail(rd, rd->rec_line, "column %d: row has more than %d "
		                "fields or %zu bytes", rd->cur.n + 1, CSV_FIELDS_MAX,
		                CSV_ROW_MAX);
	rc = row_shape(rd, skip);
	if (rc != 0 || *skip)
		return rc;
	memset(ln, 0, sizeof *ln);
	rc = row_asset(rd, &scale);
	if (rc == 0)
		rc = row_amount(rd, scale, &ln->amount_minor);
	if (rc == 0)
		rc = date_field(rd, IMP_COL_BOOKING_DATE, rd->bdate, &ln->booking_date);
	if (rc == 0)
		rc = date_field(rd, IMP_COL_VALUE_DATE, rd->vdate, &ln->value_date);
	if (rc != 0)
		return rc;
	ln->asset = rd->asset;
	ln->entry_ref = text_field(rd, IMP_COL_ENTRY_REF);
	ln->counterparty_name = text_field(rd, IMP_COL_COUNTERPARTY_NAME);
	ln->counterparty_account = text_field(rd, IMP_COL_COUNTERPARTY_ACCOUNT);
	if (!ln->counterparty_account && rd->pf->mode == IMP_AMOUNT_FROM_TO)
		ln->counterparty_account = text_field(rd, ln->amount_minor < 0 ?
		                                      IMP_COL_TO : IMP_COL_FROM);
	ln->end_to_end_id = text_field(rd, IMP_COL_END_TO_END_ID);
	ln->instruction_id = text_field(rd, IMP_COL_INSTRUCTION_ID);
	ln->provider_ref = text_field(rd, IMP_COL_PROVIDER_REF);
	ln->uetr = text_field(rd, IMP_COL_UETR);
	ln->remittance = text_field(rd, IMP_COL_REMITTANCE);
	ln->tx_code = text_field(rd, IMP_COL_TX_CODE);
	ln->status = text_field(rd, IMP_COL_STATUS);
	ln->batch_id = text_field(rd, IMP_COL_BATCH_ID);
	ln->return_reason = text_field(rd, IMP_COL_RETURN_REASON);
	return 0;
}

/* A row failed its checks (the reason is in rd->row_err).  Reading on
 * after it is worth it only when every bad row is wanted, and only up to
 * CSV_REFUSED_MAX of them: an export that is wrong throughout says so in
 * its first thousand rows, and reading millions more would only cost time. */
static int row_refused(struct csv_rd *rd)
{
	IMP_ASSERT(rd->row_err.code == LG_EDATA);
	rd->refused++;
	if (!rd->all) {
		if (rd->err)
			*rd->err = rd->row_err;
		rd->rc = LG_EDATA;
		return LG_EDATA;
	}
	if (rd->reject)
		rd->reject(rd->reject_ctx, &rd->row_err);
	if (rd->refused >= CSV_REFUSED_MAX) {
		rd->capped = 1;
		rd->rc = LG_EDATA;
		return LG_EDATA;
	}
	return 0;
}


/* The header index to name a ledger refusal by: the account column of the
 * posting it names, the id's column for a conflict, else the amount's. */
static int refusal_col(struct csv_rd *rd, const struct imp_template_out *o,
                       const char *msg)
{
	const char *p = strstr(msg, "postings[");
	int k;

	if (p && sscanf(p, "postings[%d]", &k) == 1 && k >= 0 && k < o->postings)
		return imp_template_col(&rd->pf->post, &rd->tcols, o->from[k]);
	if (strstr(msg, "conflicts with") || strncmp(msg, "id", 2) == 0)
		return imp_template_col(&rd->pf->post, &rd->tcols, -1);
	return rd->col[IMP_COL_AMOUNT];
}

/* A checked row of a [posting] profile: its transaction, to the ledger.  A
 * refusal, ours or the ledger's, is a refused row like any other. */
static int take_posting(struct csv_rd *rd, const imp_line *ln)
{
	struct imp_row_view v = { rd->vcell, rd->vlen, rd->cur.n };
	struct imp_template_out o = { rd->tx_json, sizeof rd->tx_json, 0, 0, { 0 } };
	char why[LG_MSG_MAX];
	lg_error perr;
	int bad = -1, replayed = 0, scale = -1, rc;

	for (int i = 0; i < rd->cur.n; i++) {
		rd->vlen[i] = rd->cur.n_bytes[i];
		rd->vcell[i] = strip_cell(rd->pf, rd->cur.buf + rd->cur.off[i], &rd->vlen[i]);
	}
	rc = scale_of(rd, ln->asset, &scale);
	IMP_ASSERT(rc == 0); /* row_asset checked it */
	lg_error_init(&rd->row_err);
	rd->in_row = 1;
	if (!ln->booking_date)
		rc = col_fail(rd, rd->col[IMP_COL_BOOKING_DATE], "the date is empty");
	else if (imp_template_row(&rd->pf->post, &rd->tcols, &v, ln->booking_date,
	                          ln->asset, scale, ln->raw_json, &o, &bad, why,
	                          sizeof why) != 0)
		rc = col_fail(rd, bad, "%s", why);
	rd->in_row = 0;
	if (rc != 0)
		return row_refused(rd);
	lg_error_init(&perr);
	rc = rd->post(rd->post_ctx, ln, o.json, o.len, &replayed, &perr);
	if (rc == LG_EDATA || rc == LG_ENOINPUT) {
		lg_error_init(&rd->row_err);
		rd->in_row = 1;
		col_fail(rd, refusal_col(rd, &o, perr.msg), "%s", perr.msg);
		rd->in_row = 0;
		return row_refused(rd);
	}
	if (rc != 0) {
		if (rd->err)
			*rd->err = perr;
		rd->rc = rc;
		return rc;
	}
	if (replayed)
		rd->replayed++;
	else
		rd->posted++;
	return 0;
}

static int take_row(struct csv_rd *rd)
{
	imp_line ln;
	int skip = 0, rc;

	lg_error_init(&rd->row_err);
	rd->in_row = 1;
	rc = row_build(rd, &ln, &skip);
	rd->in_row = 0;
	if (rc != 0)
		return row_refused(rd);
	if (skip)
		return 0;
	if (rd->rows >= CSV_ROWS_MAX)
		return csv_fail(rd, rd->rec_line, "more than %ld rows", CSV_ROWS_MAX);
	if (amount_add(rd->sum, ln.amount_minor, &rd->sum) != 0)
		return csv_fail(rd, rd->rec_line, "sum of the rows overflows");
	ln.entry_index = rd->rows;
	ln.child_index = -1;
	ln.line_no = rd->rec_line;
	/* A posted row keeps its fields as an object in the transaction's
	 * metadata; a staged one as cells beside the header. */
	ln.raw_json = rd->post ? row_json(rd) : row_cells(rd, &ln);
	track_dates(rd, ln.booking_date);
	rd->rows++;
	IMP_ASSERT(rd->begun && (ln.raw_json[0] == '{' || ln.raw_json[0] == '['));
	if (rd->post)
		return take_posting(rd, &ln);
	/* Once a row is refused the file will not be staged: the sink sees no
	 * more lines, and the rest is only checked. */
	if (rd->refused > 0 || !rd->sink->line)
		return 0;
	return rd->sink->line(rd->sink->ctx, &rd->st, &ln, rd->err);
}

/* --- libcsv callbacks ---------------------------------------------------- */

static void on_field(void *s, size_t n, void *data)
{
	struct csv_rd *rd = data;

	if (rd->rc != 0 || rd->cur.too_many)
		return;
	/* Too many cells is this row's fault, not the file's: cells_add marks
	 * the row and take_row refuses it.  A header is checked in on_record. */
	(void)cells_add(&rd->cur, s ? s : "", s ? n : 0);
}

static void on_record(int term, void *data)
{
	struct csv_rd *rd = data;
	int rc;

	(void)term;
	rd->row_ended = 1;
	if (rd->rc == 0 && !rd->have_header && rd->cur.too_many)
		csv_fail(rd, rd->rec_line, "header has more than %d columns or %zu "
		         "bytes", CSV_FIELDS_MAX, CSV_ROW_MAX);
	if (rd->rc == 0) {
		rc = rd->have_header ? take_row(rd) : take_header(rd);
		if (rc != 0 && rd->rc == 0)
			rd->rc = rc;
	}
	cells_reset(&rd->cur);
}

/* --- lines --------------------------------------------------------------- */

static int starts_with_any(const char *list, const char *s, size_t n)
{
	const char *item = list;
	int k;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	for (k = 0; *item != '\0' && k < IMP_PROFILE_LIST_MAX; k++) {
		const char *bar = strchr(item, '|');
		size_t len = bar ? (size_t)(bar - item) : strlen(item);

		if (len > 0 && len <= n && memcmp(s, item, len) == 0)
			return 1;
		if (!bar)
			break;
		item = bar + 1;
	}
	return 0;
}

static int contains_any(const char *list, const char *s, size_t n)
{
	const char *item = list;
	int k;

	for (k = 0; *item != '\0' && k < IMP_PROFILE_LIST_MAX; k++) {
		const char *bar = strchr(item, '|');
		size_t len = bar ? (size_t)(bar - item) : strlen(item);

		if (len > 0 && memmem(s, n, item, len) != NULL)
			return 1;
		if (!bar)
			break;
		item = bar + 1;
	}
	return 0;
}

static int is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

static int parse_fail(struct csv_rd *rd)
{
	int col = rd->cur.n + 1;

	if (rd->rc != 0)
		return rd->rc;
	return csv_fail(rd, rd->line, "column %d: malformed CSV: a quote inside "
	                "an unquoted field or text after a closing quote (%s)",
	                col, csv_strerror(csv_error(&rd->cp)));
}

/* One physical line, with its '\n' unless it is the last of the file. */
static int feed_line(struct csv_rd *rd, const char *s, size_t n)
{
	const imp_profile *pf = rd->pf;
	size_t used;

	rd->line++;
	if (rd->phase == CSV_PREAMBLE) {
		if (pf->skip_lines >= 0 ? rd->line <= pf->skip_lines :
		    !contains_any(pf->header_match, s, n)) {
			if (rd->line >= CSV_PREAMBLE_MAX)
				return csv_fail(rd, rd->line, "no header line within %ld "
				                "lines (header_match '%s')",
				                CSV_PREAMBLE_MAX, pf->header_match);
			return 0;
		}
		rd->phase = CSV_DATA;
	}
	if (rd->phase == CSV_FOOTER)
		return 0;
	if (!rd->row_open) {
		if (is_blank(s, n))
			return 0;
		if (rd->have_header && pf->footer_prefix[0] != '\0' &&
		    starts_with_any(pf->footer_prefix, s, n)) {
			rd->phase = CSV_FOOTER;
			return 0;
		}
		rd->rec_line = rd->line;
		rd->rec_bytes = 0;
	}
	rd->rec_bytes += n;
	if (rd->rec_bytes > CSV_ROW_MAX)
		return csv_fail(rd, rd->rec_line, "row longer than %zu bytes (an "
		                "unterminated quote?)", CSV_ROW_MAX);
	rd->row_ended = 0;
	used = csv_parse(&rd->cp, s, n, on_field, on_record, rd);
	if (rd->rc != 0 || used != n)
		return parse_fail(rd);
	rd->row_open = !rd->row_ended || rd->cp.pstate != 0;
	return 0;
}

static int feed_end(struct csv_rd *rd)
{
	if (rd->phase == CSV_PREAMBLE || !rd->have_header) {
		if (rd->rc != 0)
			return rd->rc;
		if (rd->pf->skip_lines >= 0)
			return csv_fail(rd, rd->line, "no header line after skipping %ld "
			                "lines", rd->pf->skip_lines);
		return csv_fail(rd, rd->line, "no header line (header_match '%s')",
		                rd->pf->header_match);
	}
	/* libcsv checks this itself only in strict mode. */
	if (rd->row_open && rd->cp.quoted)
		return csv_fail(rd, rd->rec_line, "column %d: unterminated quoted "
		                "field in the row starting on this line",
		                rd->cur.n + 1);
	if (csv_fini(&rd->cp, on_field, on_record, rd) != 0) {
		if (rd->rc != 0)
			return rd->rc;
		return csv_fail(rd, rd->rec_line, "column %d: unterminated quoted "
		                "field in the row starting on this line",
		                rd->cur.n + 1);
	}
	return rd->rc;
}

/* Cuts decoded text into physical lines, carrying a partial line over. */
static int feed_text(struct csv_rd *rd, char *lb, size_t *lb_len,
                     const char *s, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t take = nl ? (size_t)(nl - s) + 1 : n;
		int rc;

		if (*lb_len + take > CSV_LINE_MAX)
			return csv_fail(rd, rd->line + 1, "line longer than %zu bytes",
			                CSV_LINE_MAX);
		memcpy(lb + *lb_len, s, take);
		*lb_len += take;
		s += take;
		n -= take;
		if (!nl)
			break;
		rc = feed_line(rd, lb, *lb_len);
		*lb_len = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int sink_end(struct csv_rd *rd)
{
	rd->st.booked_sum_minor = rd->sum;
	rd->st.booked_entries = rd->rows;
	rd->st.from_date = rd->from_date[0] ? rd->from_date : NULL;
	rd->st.to_date = rd->to_date[0] ? rd->to_date : NULL;
	if (!rd->sink->statement_end)
		return 0;
	return rd->sink->statement_end(rd->sink->ctx, &rd->st, rd->err);
}

/* The final error of a file with refused rows (each one already went
 * through the reject hook): how many, and that none of it goes in.  An
 * error that stopped the read (rc, not the cap) keeps its own code and
 * message, with the count added, so that it is not lost behind it. */
static int refused_summary(struct csv_rd *rd, int rc)
{
	char first[LG_MSG_MAX];
	const char *rows = rd->refused == 1 ? "row" : "rows";
	const char *done = rd->post ? "posted" : "staged";

	IMP_ASSERT(rd->all && rd->refused > 0);
	if (rc == 0 || rd->capped) {
		if (rd->capped)
			lg_error_set(rd->err, LG_EDATA, "%s: %ld %s refused, reading "
			             "stopped at line %ld (at most %ld are reported); "
			             "nothing was %s", rd->path, rd->refused, rows,
			             rd->rec_line, CSV_REFUSED_MAX, done);
		else
			lg_error_set(rd->err, LG_EDATA, "%s: %ld %s refused; nothing "
			             "was %s", rd->path, rd->refused, rows, done);
		if (rd->err)
			rd->err->line = 0;
		return LG_EDATA;
	}
	if (rd->err) {
		snprintf(first, sizeof first, "%s", rd->err->msg);
		lg_error_set(rd->err, rc, "%s (after %ld %s refused); nothing was "
		             "%s", first, rd->refused, rows, done);
	}
	return rc;
}

static int csv_walk(struct csv_rd *rd, imp_text *t)
{
	char *chunk = malloc(IMP_TEXT_OUT_BYTES);
	char *lb = malloc(CSV_LINE_MAX);
	size_t got = 0, lb_len = 0;
	int rc;

	if (!chunk || !lb) {
		rc = lg_error_set(rd->err, LG_EINTERNAL, "%s: out of memory",
		                  rd->path);
		goto out;
	}
	for (;;) {
		rc = imp_text_read(t, chunk, IMP_TEXT_OUT_BYTES, &got, rd->err);
		if (rc != 0 || got == 0)
			break;
		rc = feed_text(rd, lb, &lb_len, chunk, got);
		if (rc != 0)
			break;
	}
	if (rc == 0 && lb_len > 0)
		rc = feed_line(rd, lb, lb_len);
	if (rc == 0)
		rc = feed_end(rd);
	if (rd->all && rd->refused > 0)
		rc = refused_summary(rd, rc);
	else if (rc == 0)
		rc = sink_end(rd);
out:
	free(lb);
	free(chunk);
	return rc;
}

/* What one read is asked for: the file, how to read it, where rows go and
 * whether every bad row is wanted (all) or only the first. */
struct csv_req {
	const char *path;
	const imp_profile *pf;
	imp_scale_fn scale;
	void *scale_ctx;
	const imp_sink *sink;
	int all;
	imp_reject_fn reject;
	void *reject_ctx;
	imp_post_fn post;           /* NULL: rows are statement lines */
	void *post_ctx;
	long posted, replayed;      /* out: what post accepted */
};

static int csv_read(struct csv_req *q, long *refused_out, lg_error *err)
{
	struct csv_rd *rd = NULL;
	imp_text *t = NULL;
	int rc, i;

	IMP_ASSERT(q->path != NULL && q->pf != NULL && q->sink != NULL);
	*refused_out = 0;
	rc = imp_text_open(q->path, q->pf->encoding, &t, err);
	if (rc != 0)
		goto out;
	rd = calloc(1, sizeof *rd);
	if (rd) {
		rd->cur.buf = malloc(CSV_ROW_MAX);
		rd->hdr.buf = malloc(CSV_ROW_MAX);
	}
	if (!rd || !rd->cur.buf || !rd->hdr.buf ||
	    csv_init(&rd->cp, (unsigned char)((q->pf->lenient_quotes ? 0 :
	             CSV_STRICT | CSV_STRICT_FINI) | CSV_APPEND_NULL)) != 0) {
		rc = lg_error_set(err, LG_EINTERNAL, "%s: out of memory", q->path);
		goto out;
	}
	csv_set_delim(&rd->cp, (unsigned char)q->pf->delimiter);
	csv_set_quote(&rd->cp, (unsigned char)q->pf->quote);
	rd->path = q->path;
	rd->base = strrchr(q->path, '/') ? strrchr(q->path, '/') + 1 : q->path;
	rd->pf = q->pf;
	rd->scale = q->scale;
	rd->scale_ctx = q->scale_ctx;
	rd->sink = q->sink;
	rd->err = err;
	rd->all = q->all;
	rd->reject = q->reject;
	rd->reject_ctx = q->reject_ctx;
	rd->post = q->post;
	rd->post_ctx = q->post_ctx;
	IMP_ASSERT(!rd->post || rd->pf->post.present);
	for (i = 0; i < IMP_COL_COUNT; i++)
		rd->col[i] = -1;
	rc = csv_walk(rd, t);
	*refused_out = rd->refused;
	q->posted = rd->posted;
	q->replayed = rd->replayed;
	IMP_ASSERT(rd->refused == 0 || rc != 0);
	csv_free(&rd->cp);
out:
	if (rd) {
		free(rd->hdr.buf);
		free(rd->cur.buf);
		free(rd);
	}
	imp_text_free(t);
	return rc;
}

int imp_csv_read(const char *path, const imp_profile *profile,
                 imp_scale_fn scale, void *scale_ctx, const imp_sink *sink,
                 lg_error *err)
{
	struct csv_req q = { path, profile, scale, scale_ctx, sink, 0, NULL,
	                     NULL, NULL, NULL, 0, 0 };
	long refused = 0;

	return csv_read(&q, &refused, err);
}

int imp_csv_read_all(const char *path, const imp_profile *profile,
                     imp_scale_fn scale, void *scale_ctx, const imp_sink *sink,
                     imp_reject_fn reject, void *reject_ctx, long *rejected_out,
                     lg_error *err)
{
	struct csv_req q = { path, profile, scale, scale_ctx, sink, 1, reject,
	                     reject_ctx, NULL, NULL, 0, 0 };
	long refused = 0;
	int rc = csv_read(&q, &refused, err);

	if (rejected_out)
		*rejected_out = refused;
	return rc;
}

int imp_csv_post_all(const char *path, const imp_profile *profile,
                     imp_scale_fn scale, void *scale_ctx, imp_post_fn post,
                     void *post_ctx, imp_reject_fn reject, void *reject_ctx,
                     long *rejected_out, long *posted_out, long *replayed_out,
                     lg_error *err)
{
	static const imp_sink no_lines = { NULL, NULL, NULL, NULL, NULL };
	struct csv_req q = { path, profile, scale, scale_ctx, &no_lines, 1, reject,
	                     reject_ctx, post, post_ctx, 0, 0 };
	long refused = 0;
	int rc;

	IMP_ASSERT(post != NULL);
	if (!profile->post.present)
		return lg_error_set(err, LG_EUSAGE, "profile '%s' has no [posting] "
		                    "template", profile->name);
	rc = csv_read(&q, &refused, err);
	if (rejected_out)
		*rejected_out = refused;
	if (posted_out)
		*posted_out = q.posted;
	if (replayed_out)
		*replayed_out = q.replayed;
	return rc;
}
