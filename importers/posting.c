/*
 * posting.c - posting templates: the [posting] section of a CSV profile,
 * which turns each row of a feed (an order feed, say) into one ledger
 * transaction instead of a statement line.
 *
 * A template is text with {Header Name} references to the row's cells:
 *
 *   id     = order:{order_id}
 *   memo   = order {order_id}
 *   debit  = liabilities:wallets:{customer} {amount}
 *   credit = liabilities:merchants:{merchant}:payable {amount} - {fee}
 *   credit = income:fees:processing {fee}
 *
 * An account is its template with the cells put in; a cell put into an
 * account code must be one plain code segment ([a-z0-9_.-]), so that no
 * cell can name another part of the chart ("m1:reserve").  An amount is a
 * sum or difference of cells, each read exactly at the row asset's scale,
 * and must not be negative; a zero posting is left out (the ledger refuses
 * zero postings; a fee of 0 is common).  Whether the postings balance, the
 * accounts exist and no wallet overdraws is the ledger's to judge.
 *
 * This file builds the transaction's JSON text (ledger_post_json's record
 * format) and never writes anything itself.
 */
#include "importers_int.h"

#include <stdarg.h>
#include <string.h>

#define TPL_AMOUNT_TEXT_MAX 64   /* bytes of one amount cell */

__attribute__((format(printf, 3, 4)))
static int why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

static int add_part(struct imp_tpl *t, size_t off, size_t len, int is_col,
                    int neg, char *why, size_t cap)
{
	if (t->n >= IMP_TPL_PARTS_MAX)
		return why_set(why, cap, "template '%s' has more than %d parts",
		               t->text, IMP_TPL_PARTS_MAX);
	t->part[t->n].off = (unsigned short)off;
	t->part[t->n].len = (unsigned short)len;
	t->part[t->n].is_col = is_col;
	t->part[t->n].neg = neg;
	t->n++;
	return 0;
}

/* The {name} starting at text[i]: its end (the index after '}'). */
static int take_ref(const char *text, size_t i, size_t *end, char *why,
                    size_t cap)
{
	const char *close = strchr(text + i, '}');
	const char *open2 = strchr(text + i + 1, '{');

	if (!close || close == text + i + 1 || (open2 && open2 < close))
		return why_set(why, cap, "template '%s': '{' at byte %zu has no "
		               "column name and '}' after it", text, i + 1);
	*end = (size_t)(close - text) + 1;
	return 0;
}

/* Text and {column} parts. */
static int parse_text(struct imp_tpl *t, char *why, size_t cap)
{
	size_t i = 0, lit = 0, end = 0;

	while (t->text[i] != '\0') {
		if (t->text[i] == '}')
			return why_set(why, cap, "template '%s': '}' at byte %zu closes "
			               "nothing", t->text, i + 1);
		if (t->text[i] != '{') {
			i++;
			continue;
		}
		if (i > lit && add_part(t, lit, i - lit, 0, 0, why, cap) != 0)
			return -1;
		if (take_ref(t->text, i, &end, why, cap) != 0 ||
		    add_part(t, i + 1, end - i - 2, 1, 0, why, cap) != 0)
			return -1;
		i = lit = end;
	}
	if (i > lit && add_part(t, lit, i - lit, 0, 0, why, cap) != 0)
		return -1;
	return 0;
}

/* "{a} + {b} - {c}": references only, each with its sign. */
static int parse_amount(struct imp_tpl *t, char *why, size_t cap)
{
	size_t i = 0, end = 0;
	int neg = 0, want_ref = 1;

	for (;;) {
		while (t->text[i] == ' ' || t->text[i] == '\t')
			i++;
		if (t->text[i] == '\0')
			break;
		if (!want_ref && (t->text[i] == '+' || t->text[i] == '-')) {
			neg = t->text[i++] == '-';
			want_ref = 1;
			continue;
		}
		if (!want_ref || t->text[i] != '{')
			return why_set(why, cap, "amount '%s': expected %s at byte %zu",
			               t->text, want_ref ? "a {column}" : "'+' or '-'",
			               i + 1);
		if (take_ref(t->text, i, &end, why, cap) != 0 ||
		    add_part(t, i + 1, end - i - 2, 1, neg, why, cap) != 0)
			return -1;
		i = end;
		want_ref = 0;
	}
	if (t->n == 0 || want_ref)
		return why_set(why, cap, "amount '%s' must be {column} terms joined "
		               "by '+' or '-'", t->text);
	return 0;
}

int imp_tpl_parse(struct imp_tpl *t, const char *text, int amount, char *why,
                  size_t why_cap)
{
	size_t n = strlen(text);

	IMP_ASSERT(t != NULL && text != NULL);
	memset(t, 0, sizeof *t);
	if (n == 0 || n >= sizeof t->text)
		return why_set(why, why_cap, "template is empty or longer than %zu "
		               "bytes", sizeof t->text - 1);
	memcpy(t->text, text, n + 1);
	return amount ? parse_amount(t, why, why_cap) : parse_text(t, why, why_cap);
}

int imp_tpl_parse_posting(struct imp_post_tpl *post, const char *text,
                          char *why, size_t why_cap)
{
	char acct[IMP_PROFILE_VALUE_MAX];
	size_t i = 0;
	int depth = 0;

	/* The account ends at the first blank outside a {column}. */
	while (text[i] != '\0' && (depth > 0 || (text[i] != ' ' && text[i] != '\t'))) {
		depth += text[i] == '{' ? 1 : text[i] == '}' ? -1 : 0;
		i++;
	}
	if (i == 0 || text[i] == '\0' || i >= sizeof acct)
		return why_set(why, why_cap, "posting '%s' must be \"ACCOUNT AMOUNT\", "
		               "e.g. \"liabilities:wallets:{customer} {amount}\"", text);
	memcpy(acct, text, i);
	acct[i] = '\0';
	if (imp_tpl_parse(&post->account, acct, 0, why, why_cap) != 0)
		return -1;
	while (text[i] == ' ' || text[i] == '\t')
		i++;
	return imp_tpl_parse(&post->amount, text + i, 1, why, why_cap);
}

/* --- binding to a header --------------------------------------------------- */

static int bind_one(const struct imp_tpl *t, const struct imp_row_view *hdr,
                    int *cols, char *why, size_t cap)
{
	for (int k = 0; k < t->n; k++) {
		const struct imp_tpl_part *p = &t->part[k];
		cols[k] = -1;
		if (!p->is_col)
			continue;
		for (int i = 0; i < hdr->n && cols[k] < 0; i++)
			if (hdr->len[i] == p->len &&
			    memcmp(hdr->cell[i], t->text + p->off, p->len) == 0)
				cols[k] = i;
		if (cols[k] < 0)
			return why_set(why, cap, "the header has no column '%.*s' for "
			               "the posting template '%s'", (int)p->len,
			               t->text + p->off, t->text);
	}
	return 0;
}

int imp_template_bind(const struct imp_template *t, const struct imp_row_view *hdr,
                      struct imp_template_cols *cols, char *why, size_t why_cap)
{
	IMP_ASSERT(t->present && t->n > 0);
	if (bind_one(&t->id, hdr, cols->id, why, why_cap) != 0 ||
	    bind_one(&t->memo, hdr, cols->memo, why, why_cap) != 0)
		return -1;
	for (int i = 0; i < t->n; i++)
		if (bind_one(&t->p[i].account, hdr, cols->account[i], why, why_cap) != 0 ||
		    bind_one(&t->p[i].amount, hdr, cols->amount[i], why, why_cap) != 0)
			return -1;
	return 0;
}

int imp_template_col(const struct imp_template *t, const struct imp_template_cols *cols,
                     int posting)
{
	const struct imp_tpl *tp = posting >= 0 && posting < t->n ? &t->p[posting].account
	                                                          : &t->id;
	const int *c = posting >= 0 && posting < t->n ? cols->account[posting] : cols->id;

	for (int k = 0; k < tp->n; k++)
		if (tp->part[k].is_col)
			return c[k];
	return -1;
}

/* --- one row ----------------------------------------------------------------- */

struct jbuf {
	struct imp_template_out *o;
	int full;
};

static void put(struct jbuf *b, const char *s, size_t n)
{
	if (b->full || b->o->len + n + 1 > b->o->cap) {
		b->full = 1;
		return;
	}
	memcpy(b->o->json + b->o->len, s, n);
	b->o->len += n;
	b->o->json[b->o->len] = '\0';
}

static void put_str(struct jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			put(b, esc, 2);
		} else if (c < 0x20) {
			put(b, esc, 6);
		} else {
			put(b, s + i, 1);
		}
	}
	put(b, "\"", 1);
}

static int account_segment_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

/* The template with the row's cells put in, as a JSON string.  For an
 * account every cell must be one code segment. */
static int put_expanded(struct jbuf *b, const struct imp_tpl *t, const int *cols,
                        const struct imp_row_view *row, int account, int *bad_col,
                        char *why, size_t cap)
{
	char text[LG_CODE_MAX + LG_MEMO_MAX + 1];
	size_t len = 0;

	for (int k = 0; k < t->n; k++) {
		const struct imp_tpl_part *p = &t->part[k];
		const char *s = t->text + p->off;
		size_t n = p->len;
		if (p->is_col) {
			IMP_ASSERT(cols[k] >= 0);
			s = cols[k] < row->n ? row->cell[cols[k]] : "";
			n = cols[k] < row->n ? row->len[cols[k]] : 0;
			if (account && !account_segment_ok(s, n)) {
				*bad_col = cols[k];
				return why_set(why, cap, "'%.*s' cannot go into account '%s': "
				               "it must be one segment of a-z 0-9 _ . -", (int)n,
				               s, t->text);
			}
		}
		if (len + n >= sizeof text) {
			*bad_col = p->is_col ? cols[k] : -1;
			return why_set(why, cap, "'%s' is longer than %zu bytes once "
			               "filled in", t->text, sizeof text - 1);
		}
		memcpy(text + len, s, n);
		len += n;
	}
	put_str(b, text, len);
	return 0;
}

/* The posting's amount: its terms summed exactly; never negative. */
static int posting_amount(const struct imp_tpl *t, const int *cols,
                          const struct imp_row_view *row, int scale,
                          amount_minor_t *out, int *bad_col, char *why, size_t cap)
{
	char why2[128];
	amount_minor_t sum = 0, v = 0;
	int last = -1;

	for (int k = 0; k < t->n; k++) {
		const char *s = cols[k] < row->n ? row->cell[cols[k]] : "";
		size_t n = cols[k] < row->n ? row->len[cols[k]] : 0;
		*bad_col = cols[k];
		if (n == 0 || n >= TPL_AMOUNT_TEXT_MAX)
			return why_set(why, cap, "amount '%.*s' is empty or longer than %d "
			               "characters", (int)n, s, TPL_AMOUNT_TEXT_MAX - 1);
		if (amount_parse(s, n, scale, &v, why2, sizeof why2) != 0)
			return why_set(why, cap, "amount '%.*s' (%d decimals): %s", (int)n,
			               s, scale, why2);
		if (v < 0)
			return why_set(why, cap, "amount '%.*s' is negative", (int)n, s);
		if ((t->part[k].neg ? amount_sub(sum, v, &sum) : amount_add(sum, v, &sum)) != 0)
			return why_set(why, cap, "amount '%s' overflows", t->text);
		last = cols[k];
	}
	if (sum < 0) {
		*bad_col = last;
		return why_set(why, cap, "amount %s comes to less than zero", t->text);
	}
	*out = sum;
	return 0;
}

static int put_postings(struct jbuf *b, const struct imp_template *t,
                        const struct imp_template_cols *cols,
                        const struct imp_row_view *row, const char *asset, int scale,
                        int *bad_col, char *why, size_t cap)
{
	char amt[AMOUNT_TEXT_MAX];

	put(b, ",\"postings\":[", 13);
	b->o->postings = 0;
	for (int i = 0; i < t->n; i++) {
		amount_minor_t v = 0;
		if (posting_amount(&t->p[i].amount, cols->amount[i], row, scale, &v,
		                   bad_col, why, cap) != 0)
			return -1;
		if (v == 0)
			continue;
		if (t->p[i].credit)
			v = -v; /* cannot overflow: v came from a non-negative sum */
		put(b, b->o->postings ? ",{\"account\":" : "{\"account\":",
		    b->o->postings ? 12 : 11);
		if (put_expanded(b, &t->p[i].account, cols->account[i], row, 1, bad_col,
		                 why, cap) != 0)
			return -1;
		amount_format(v, scale, amt, sizeof amt);
		put(b, ",\"amount\":\"", 11);
		put(b, amt, strlen(amt));
		put(b, "\",\"asset\":", 10);
		put_str(b, asset, strlen(asset));
		put(b, "}", 1);
		b->o->from[b->o->postings++] = i;
	}
	put(b, "]", 1);
	return 0;
}

int imp_template_row(const struct imp_template *t, const struct imp_template_cols *cols,
                     const struct imp_row_view *row, const char *date,
                     const char *asset, int scale, const char *raw,
                     struct imp_template_out *out, int *bad_col, char *why,
                     size_t why_cap)
{
	struct jbuf b = { out, 0 };

	IMP_ASSERT(t->present && date != NULL && asset != NULL && raw != NULL);
	IMP_ASSERT(out->cap > 0 && raw[0] == '{');
	*bad_col = -1;
	out->len = 0;
	put(&b, "{\"id\":", 6);
	if (put_expanded(&b, &t->id, cols->id, row, 0, bad_col, why, why_cap) != 0)
		return -1;
	put(&b, ",\"date\":", 8);
	put_str(&b, date, strlen(date));
	if (t->memo.n > 0) {
		put(&b, ",\"memo\":", 8);
		if (put_expanded(&b, &t->memo, cols->memo, row, 0, bad_col, why,
		                 why_cap) != 0)
			return -1;
	}
	if (put_postings(&b, t, cols, row, asset, scale, bad_col, why, why_cap) != 0)
		return -1;
	put(&b, ",\"meta\":{\"fields\":", 18);
	put(&b, raw, strlen(raw));
	put(&b, "}}", 2);
	if (b.full)
		return why_set(why, why_cap, "the transaction is longer than %zu bytes",
		               out->cap - 1);
	IMP_ASSERT(out->json[0] == '{' && out->json[out->len - 1] == '}');
	return 0;
}
