/*
 * json.c - a small, strict JSON reader for transaction lines, and the
 * canonical writer for their metadata.
 *
 * Why not jansson here: posting a million lines spent a quarter of its time
 * allocating and freeing jansson nodes.  This reader parses one line into a
 * node pool owned by the caller, decodes strings in place, and allocates
 * nothing.  It is strict: UTF-8 is validated, duplicate keys, NUL characters,
 * lone surrogates and trailing garbage are refused, nesting is bounded.
 */
#include "ledger_int.h"

#include <string.h>

struct jparser {
	char *p, *end, *start;
	struct lg_json *doc;
	const char *why;
	int depth;
};

static int fail(struct jparser *ps, const char *why)
{
	if (!ps->why)
		ps->why = why;
	return -1;
}

static void skip_ws(struct jparser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	                           *ps->p == '\r'))
		ps->p++;
}

static int new_node(struct jparser *ps, enum lg_jtype t)
{
	struct lg_json *d = ps->doc;
	if (d->n >= LG_JSON_NODES_MAX)
		return fail(ps, "too many values");
	memset(&d->node[d->n], 0, sizeof d->node[0]);
	d->node[d->n].type = t;
	d->node[d->n].next = -1;
	d->node[d->n].child = -1;
	return d->n++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_u16(struct jparser *ps, unsigned *out)
{
	unsigned v = 0;
	if (ps->end - ps->p < 4)
		return fail(ps, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hexval(ps->p[i]);
		if (h < 0)
			return fail(ps, "bad \\u escape");
		v = v * 16 + (unsigned)h;
	}
	ps->p += 4;
	*out = v;
	return 0;
}

static char *put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp;
	int n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;

	if (n == 0 || c > 0xf4 || end - p < n)
		return 0;
	cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Decodes a string in place: the result is never longer than the source.
 * ps->p is just past the opening quote. */
static int parse_string(struct jparser *ps, char **out, size_t *len_out)
{
	char *w = ps->p, *start = ps->p;

	while (ps->p < ps->end) {
		unsigned char c = (unsigned char)*ps->p;
		if (c == '"') {
			ps->p++;
			*out = start;
			*len_out = (size_t)(w - start);
			*w = '\0'; /* safe: w < the closing quote's position + 1 */
			return 0;
		}
		if (c < 0x20)
			return fail(ps, "control character in a string");
		if (c == '\\') {
			unsigned cp;
			if (++ps->p >= ps->end)
				return fail(ps, "unterminated string");
			switch (*ps->p++) {
			case '"': *w++ = '"'; break;
			case '\\': *w++ = '\\'; break;
			case '/': *w++ = '/'; break;
			case 'b': *w++ = '\b'; break;
			case 'f': *w++ = '\f'; break;
			case 'n': *w++ = '\n'; break;
			case 'r': *w++ = '\r'; break;
			case 't': *w++ = '\t'; break;
			case 'u':
				if (read_u16(ps, &cp))
					return -1;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return fail(ps, "lone low surrogate");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					unsigned lo;
					if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
						return fail(ps, "lone high surrogate");
					ps->p += 2;
					if (read_u16(ps, &lo))
						return -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return fail(ps, "bad surrogate pair");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (cp == 0)
					return fail(ps, "\\u0000 is not accepted in strings");
				w = put_utf8(w, cp);
				break;
			default:
				return fail(ps, "bad escape");
			}
			continue;
		}
		if (c >= 0x80) {
			int n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
			if (n == 0)
				return fail(ps, "invalid UTF-8");
			memmove(w, ps->p, (size_t)n);
			w += n;
			ps->p += n;
			continue;
		}
		*w++ = *ps->p++;
	}
	return fail(ps, "unterminated string");
}

static int parse_value(struct jparser *ps);

static int parse_number(struct jparser *ps, int idx)
{
	char *s = ps->p;
	int neg = 0, is_real = 0;
	long long v = 0;
	int overflow = 0;

	if (*ps->p == '-') {
		neg = 1;
		ps->p++;
	}
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return fail(ps, "bad number");
	if (*ps->p == '0' && ps->p + 1 < ps->end && ps->p[1] >= '0' && ps->p[1] <= '9')
		return fail(ps, "leading zero in a number");
	for (; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; ps->p++) {
		int d = *ps->p - '0';
		if (v > (0x7fffffffffffffffLL - d) / 10)
			overflow = 1;
		else
			v = v * 10 + d;
	}
	if (ps->p < ps->end && *ps->p == '.') {
		is_real = 1;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		is_real = 1;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	struct lg_jnode *n = &ps->doc->node[idx];
	n->type = is_real || overflow ? LG_J_REAL : LG_J_INT;
	n->ival = neg ? -v : v;
	n->str = s;
	n->len = (size_t)(ps->p - s);
	return 0;
}

static int parse_container(struct jparser *ps, int idx, int is_object)
{
	char close = is_object ? '}' : ']';
	int last = -1;

	if (++ps->depth > LG_JSON_DEPTH_MAX)
		return fail(ps, "nested too deeply");
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		size_t key_len = 0;
		int child;
		skip_ws(ps);
		if (is_object) {
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a key");
			ps->p++;
			if (parse_string(ps, &key, &key_len))
				return -1;
			for (int k = ps->doc->node[idx].child; k >= 0; k = ps->doc->node[k].next)
				if (ps->doc->node[k].key_len == key_len &&
				    memcmp(ps->doc->node[k].key, key, key_len) == 0)
					return fail(ps, "duplicate key");
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, "expected ':'");
			ps->p++;
		}
		child = parse_value(ps);
		if (child < 0)
			return -1;
		ps->doc->node[child].key = key;
		ps->doc->node[child].key_len = key_len;
		if (last < 0)
			ps->doc->node[idx].child = child;
		else
			ps->doc->node[last].next = child;
		last = child;
		ps->doc->node[idx].count++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			ps->depth--;
			return 0;
		}
		return fail(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int literal(struct jparser *ps, const char *word, enum lg_jtype t)
{
	size_t n = strlen(word);
	int idx;
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "unexpected character");
	ps->p += n;
	idx = new_node(ps, t);
	return idx;
}

/* Returns the node index of the value at ps->p, or -1. */
static int parse_value(struct jparser *ps)
{
	int idx;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of line");
	switch (*ps->p) {
	case '{':
	case '[': {
		int obj = *ps->p == '{';
		ps->p++;
		idx = new_node(ps, obj ? LG_J_OBJECT : LG_J_ARRAY);
		if (idx < 0 || parse_container(ps, idx, obj))
			return -1;
		return idx;
	}
	case '"':
		ps->p++;
		idx = new_node(ps, LG_J_STRING);
		if (idx < 0 || parse_string(ps, &ps->doc->node[idx].str, &ps->doc->node[idx].len))
			return -1;
		return idx;
	case 't':
		return literal(ps, "true", LG_J_TRUE);
	case 'f':
		return literal(ps, "false", LG_J_FALSE);
	case 'n':
		return literal(ps, "null", LG_J_NULL);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
			idx = new_node(ps, LG_J_INT);
			if (idx < 0 || parse_number(ps, idx))
				return -1;
			return idx;
		}
		return fail(ps, "unexpected character");
	}
}

int lg_json_parse(struct lg_json *doc, char *text, size_t len, char *why,
                  size_t why_cap)
{
	struct jparser ps = { text, text + len, text, doc, NULL, 0 };
	int root;

	doc->n = 0;
	root = parse_value(&ps);
	if (root >= 0) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			root = fail(&ps, "text after the value");
	}
	if (root < 0) {
		snprintf(why, why_cap, "not valid JSON: %s at column %ld", ps.why,
		         (long)(ps.p - ps.start) + 1);
		return -1;
	}
	LG_ASSERT(root == 0);
	return 0;
}

int lg_json_get(const struct lg_json *doc, int obj, const char *key)
{
	size_t n = strlen(key);
	LG_ASSERT(obj >= 0 && obj < doc->n && doc->node[obj].type == LG_J_OBJECT);
	for (int k = doc->node[obj].child; k >= 0; k = doc->node[k].next)
		if (doc->node[k].key_len == n && memcmp(doc->node[k].key, key, n) == 0)
			return k;
	return -1;
}

/* --- canonical writer ---------------------------------------------------- */

struct jwriter {
	char *buf;
	size_t len, cap;
	int overflow;
};

static void wr(struct jwriter *w, const char *s, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		w->overflow = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void wr_string(struct jwriter *w, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t run = 0;

	wr(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
		                  : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
		if (!esc && c >= 0x20)
			continue;
		wr(w, s + run, i - run);
		run = i + 1;
		if (esc) {
			wr(w, esc, 2);
		} else {
			char u[6] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15] };
			wr(w, u, 6);
		}
	}
	wr(w, s + run, n - run);
	wr(w, "\"", 1);
}

static int key_cmp(const struct lg_jnode *a, const struct lg_jnode *b)
{
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, n);
	return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static int write_value(struct jwriter *w, const struct lg_json *doc, int idx, int depth)
{
	const struct lg_jnode *n = &doc->node[idx];
	int order[LG_JSON_MEMBERS_MAX];
	int count = 0;

	LG_ASSERT(depth <= LG_JSON_DEPTH_MAX);
	switch (n->type) {
	case LG_J_NULL: wr(w, "null", 4); return 0;
	case LG_J_TRUE: wr(w, "true", 4); return 0;
	case LG_J_FALSE: wr(w, "false", 5); return 0;
	case LG_J_INT: wr(w, n->str, n->len); return 0;
	case LG_J_REAL: return -1; /* metadata stays exact */
	case LG_J_STRING: wr_string(w, n->str, n->len); return 0;
	case LG_J_ARRAY:
	case LG_J_OBJECT:
		break;
	}
	for (int k = n->child; k >= 0; k = doc->node[k].next) {
		if (count >= LG_JSON_MEMBERS_MAX)
			return -2;
		order[count++] = k;
	}
	if (n->type == LG_J_OBJECT) {
		/* insertion sort: objects in metadata are small */
		for (int i = 1; i < count; i++)
			for (int j = i; j > 0 && key_cmp(&doc->node[order[j - 1]],
			                                  &doc->node[order[j]]) > 0; j--) {
				int t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
	}
	wr(w, n->type == LG_J_OBJECT ? "{" : "[", 1);
	for (int i = 0; i < count; i++) {
		const struct lg_jnode *c = &doc->node[order[i]];
		if (i)
			wr(w, ",", 1);
		if (n->type == LG_J_OBJECT) {
			wr_string(w, c->key, c->key_len);
			wr(w, ":", 1);
		}
		int rc = write_value(w, doc, order[i], depth + 1);
		if (rc)
			return rc;
	}
	wr(w, n->type == LG_J_OBJECT ? "}" : "]", 1);
	return 0;
}

int lg_json_canonical(const struct lg_json *doc, int idx, char *out, size_t cap)
{
	struct jwriter w = { out, 0, cap, 0 };

	LG_ASSERT(cap > 0);
	out[0] = '\0';
	int rc = write_value(&w, doc, idx, 0);
	if (rc != 0)
		return rc;
	return w.overflow ? -2 : 0;
}
