/*
 * util.c - what every exporter needs: a consistent read of the ledger, the
 * chain head, account lookups, an escaping XML writer, exact ISO 20022
 * amounts, UTF-8 text limits and whole-file I/O.
 *
 * The XML writer is ours rather than libxml2's: exports must be byte for
 * byte the same from run to run, and a few dozen lines that escape every
 * character we write are easier to hold to that than a library's defaults.
 */
#include "exporters_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../ledger/ledger_sql.h"

_Noreturn void exp_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "clearbook: internal error: assertion '%s' failed at %s:%d\n",
	        what, file, line);
	abort();
}

/* --- snapshot and head ---------------------------------------------------- */

int exp_snapshot_begin(ledger *lg, lg_error *err)
{
	sqlite3 *db = ledger_sqlite(lg);

	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return lg_error_set(err, LG_EIO, "cannot start a read of the ledger: %s",
		                    sqlite3_errmsg(db));
	return LG_OK;
}

void exp_snapshot_end(ledger *lg)
{
	sqlite3_exec(ledger_sqlite(lg), "COMMIT", NULL, NULL, NULL);
}

int exp_ledger_head(ledger *lg, exp_head *out, lg_error *err)
{
	sqlite3 *db = ledger_sqlite(lg);
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	memset(out->hash_hex, '0', 64);
	if (sqlite3_prepare_v2(db, "SELECT seq, hash, booked_at FROM transactions"
	                       " ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return lg_error_set(err, LG_EIO, "reading the chain head: %s",
		                    sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_blob(st, 1);
		static const char hex[] = "0123456789abcdef";
		if (sqlite3_column_bytes(st, 1) != 32 || !h) {
			sqlite3_finalize(st);
			return lg_error_set(err, LG_EDATA, "the head transaction has no hash");
		}
		out->seq = sqlite3_column_int64(st, 0);
		for (int i = 0; i < 32; i++) {
			out->hash_hex[2 * i] = hex[h[i] >> 4];
			out->hash_hex[2 * i + 1] = hex[h[i] & 15];
		}
		snprintf(out->booked_at, sizeof out->booked_at, "%s",
		         (const char *)sqlite3_column_text(st, 2));
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	EXP_ASSERT(strlen(out->hash_hex) == 64);
	if (rc != SQLITE_DONE)
		return lg_error_set(err, LG_EIO, "reading the chain head: %s",
		                    sqlite3_errmsg(db));
	return LG_OK;
}

/* --- accounts ------------------------------------------------------------- */

struct acct_find {
	const char *code;
	exp_account *out;
	int found;
};

static int acct_find_fn(void *ctx, const ledger_account_info *a)
{
	struct acct_find *f = ctx;

	if (strcmp(a->code, f->code) != 0)
		return 0;
	snprintf(f->out->code, sizeof f->out->code, "%s", a->code);
	snprintf(f->out->type, sizeof f->out->type, "%s", a->type);
	snprintf(f->out->asset, sizeof f->out->asset, "%s", a->asset);
	snprintf(f->out->meta, sizeof f->out->meta, "%s", a->meta ? a->meta : "{}");
	f->out->scale = a->scale;
	f->found = 1;
	return 0;
}

int exp_account_get(ledger *lg, const char *code, exp_account *out, lg_error *err)
{
	struct acct_find f = { code, out, 0 };
	int rc;

	memset(out, 0, sizeof *out);
	rc = ledger_account_list(lg, code, acct_find_fn, &f, err);
	if (rc)
		return rc;
	if (!f.found)
		return lg_error_set(err, LG_ENOINPUT, "account '%s' does not exist", code);
	return LG_OK;
}

int exp_account_side(const exp_account *a)
{
	return strcmp(a->type, "asset") == 0 || strcmp(a->type, "expense") == 0 ? 1 : -1;
}

int exp_meta_str(const char *json, const char *key, char *buf, size_t cap)
{
	json_error_t jerr;
	json_t *o = json_loads(json, 0, &jerr), *v;
	int found = 0;

	if (!o)
		return -1;
	v = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (v && json_is_string(v)) {
		snprintf(buf, cap, "%s", json_string_value(v));
		found = 1;
	}
	json_decref(o);
	return found;
}

/* --- XML ------------------------------------------------------------------ */

void exp_xml_init(exp_xml *x, FILE *fp)
{
	memset(x, 0, sizeof *x);
	x->fp = fp;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
}

/* XML 1.0 allows tab, newline and carriage return of the C0 controls; a
 * control character elsewhere marks the document bad (the caller refuses
 * it) rather than being dropped silently. */
static void xml_escaped(exp_xml *x, const char *s, int attr)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", x->fp); break;
		case '<': fputs("&lt;", x->fp); break;
		case '>': fputs("&gt;", x->fp); break;
		case '"': fputs(attr ? "&quot;" : "\"", x->fp); break;
		case '\t': case '\n': case '\r':
			fprintf(x->fp, "&#%d;", *p);
			break;
		default:
			if (*p < 0x20)
				x->bad = 1;
			else
				fputc(*p, x->fp);
		}
	}
}

static void xml_start(exp_xml *x, const char *name, const char *attr,
                      const char *value)
{
	fprintf(x->fp, "%*s<%s", 2 * x->depth, "", name);
	if (attr) {
		fprintf(x->fp, " %s=\"", attr);
		xml_escaped(x, value, 1);
		fputc('"', x->fp);
	}
	fputc('>', x->fp);
}

void exp_xml_open(exp_xml *x, const char *name, const char *attr, const char *value)
{
	EXP_ASSERT(x->depth < EXP_XML_DEPTH_MAX);
	xml_start(x, name, attr, value);
	fputc('\n', x->fp);
	x->open[x->depth++] = name;
}

void exp_xml_close(exp_xml *x)
{
	EXP_ASSERT(x->depth > 0);
	x->depth--;
	fprintf(x->fp, "%*s</%s>\n", 2 * x->depth, "", x->open[x->depth]);
}

void exp_xml_leaf(exp_xml *x, const char *name, const char *attr,
                  const char *value, const char *text)
{
	xml_start(x, name, attr, value);
	xml_escaped(x, text, 0);
	fprintf(x->fp, "</%s>\n", name);
}

/* --- text ----------------------------------------------------------------- */

/* Length of the UTF-8 sequence at p, 0 if it is not a valid one. */
static int utf8_seq(const unsigned char *p)
{
	int n;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07u;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void exp_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	EXP_ASSERT(cap > 0);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

long exp_utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		int k = utf8_seq(p);
		if (k == 0)
			return -1;
		p += k;
		n++;
	}
	return n;
}

void exp_utf8_clip(const char *s, long chars_max, char *buf, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	long n = 0;

	EXP_ASSERT(cap > 0);
	while (*p && n < chars_max) {
		int k = utf8_seq(p);
		if (k == 0 || o + (size_t)k >= cap)
			break;
		if (k == 1 && (*p < 0x20 || *p == 0x7f))
			buf[o++] = ' ';
		else
			memcpy(buf + o, p, (size_t)k), o += (size_t)k;
		p += k;
		n++;
	}
	buf[o] = '\0';
}

int exp_amount_iso(amount_minor_t value, int scale, int frac_max, int digits_max,
                   char *buf, size_t cap, lg_error *err)
{
	char text[AMOUNT_TEXT_MAX];
	amount_minor_t mag;
	size_t len;
	char *dot;
	int digits = 0;

	if (amount_neg(value, &mag) != 0)
		return lg_error_set(err, LG_EDATA, "an amount does not fit ISO 20022");
	if (value > 0)
		mag = value;
	len = amount_format(mag, scale, text, sizeof text);
	dot = strchr(text, '.');
	if (dot) {
		/* Drop trailing zeros beyond what the schema allows, never others. */
		while (len > 0 && (size_t)(text + len - 1 - dot) > (size_t)frac_max &&
		       text[len - 1] == '0')
			text[--len] = '\0';
		if ((size_t)(text + len - 1 - dot) > (size_t)frac_max)
			return lg_error_set(err, LG_EDATA, "amount %s has more than %d "
			                    "decimals, which ISO 20022 cannot carry", text,
			                    frac_max);
		if (dot == text + len - 1)
			text[--len] = '\0';
	}
	for (const char *p = text; *p; p++)
		digits += *p >= '0' && *p <= '9';
	if (digits > digits_max)
		return lg_error_set(err, LG_EDATA, "amount %s has more than %d digits, "
		                    "which ISO 20022 cannot carry", text, digits_max);
	if (strlen(text) >= cap)
		return lg_error_set(err, LG_EINTERNAL, "amount buffer too small");
	memcpy(buf, text, strlen(text) + 1);
	return LG_OK;
}

/* pain.001 v10 IBAN2007Identifier plus the ISO 13616 mod-97 check digits. */
int exp_iban_valid(const char *s)
{
	size_t len = strlen(s);
	unsigned rem = 0;

	if (len < 5 || len > 34)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		int up = ch >= 'A' && ch <= 'Z', dig = ch >= '0' && ch <= '9';
		if ((i < 2 && !up) || (i >= 2 && i < 4 && !dig) ||
		    (i >= 4 && !up && !dig && !(ch >= 'a' && ch <= 'z')))
			return 0;
	}
	for (size_t k = 0; k < len; k++) {
		char ch = s[(k + 4) % len];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (ch >= 'A' && ch <= 'Z')
			rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
		else
			rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
	}
	return rem == 1;
}

/* BICFIDec2014Identifier: [A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})? */
int exp_bic_valid(const char *s)
{
	size_t len = strlen(s);

	if (len != 8 && len != 11)
		return 0;
	for (size_t i = 0; i < len; i++) {
		int up = s[i] >= 'A' && s[i] <= 'Z', dig = s[i] >= '0' && s[i] <= '9';
		if ((i >= 4 && i < 6) ? !up : !(up || dig))
			return 0;
	}
	return 1;
}

int exp_iso_ccy(const char *asset)
{
	return strlen(asset) == 3 && asset[0] >= 'A' && asset[0] <= 'Z' &&
	       asset[1] >= 'A' && asset[1] <= 'Z' && asset[2] >= 'A' && asset[2] <= 'Z';
}

int exp_date_prev(const char *date, char out[11])
{
	struct tm tm;
	time_t t;

	if (!ledger_date_valid(date))
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = atoi(date) - 1900;
	tm.tm_mon = atoi(date + 5) - 1;
	tm.tm_mday = atoi(date + 8) - 1;
	tm.tm_hour = 12;
	t = timegm(&tm);
	if (t == (time_t)-1 || !gmtime_r(&t, &tm))
		return -1;
	if (strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		return -1;
	return 0;
}

/* --- files ---------------------------------------------------------------- */

int exp_read_file(const char *path, unsigned char **out, size_t *len, lg_error *err)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL;
	long size;
	int rc = LG_OK;

	*out = NULL;
	*len = 0;
	if (!fp)
		return lg_error_set(err, errno == ENOENT ? LG_ENOINPUT : LG_EIO, "%s: %s",
		                    path, strerror(errno));
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		rc = lg_error_set(err, LG_EIO, "%s: cannot read", path);
		goto out;
	}
	if ((size_t)size > EXP_FILE_BYTES_MAX) {
		rc = lg_error_set(err, LG_EDATA, "%s: larger than %zu bytes", path,
		                  EXP_FILE_BYTES_MAX);
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
		goto out;
	}
	if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
		rc = lg_error_set(err, LG_EIO, "%s: read error", path);
		goto out;
	}
	buf[size] = '\0';
	*out = buf;
	*len = (size_t)size;
	buf = NULL;
out:
	free(buf);
	fclose(fp);
	return rc;
}

int exp_write_file(const char *path, const void *data, size_t len, int mode,
                   lg_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const char *p = data;
	size_t done = 0;

	if (fd < 0)
		return lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;
			close(fd);
			return lg_error_set(err, LG_EIO, "%s: %s", path, strerror(e));
		}
		done += (size_t)n;
	}
	if (close(fd) != 0)
		return lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
	return LG_OK;
}
