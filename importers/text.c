/*
 * text.c - the text decoder: a channel file in its declared encoding into
 * validated UTF-8, chunk by chunk, through glibc's iconv.
 *
 * Channel exports come in GBK, GB18030, UTF-16 and the Latin code pages.
 * Everything after this file sees UTF-8 only.  A byte sequence that is not
 * valid in the source encoding is an error naming the line and the byte
 * offset in the file: nothing is ever replaced or skipped silently, because
 * a mangled name or reference would reconcile against the wrong thing.
 * Memory is bounded by the chunk sizes, never by the file.  This is the
 * only user of iconv in the project.
 */
#include "importers_int.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEXT_CARRY_MAX 16        /* bytes of a sequence split across reads */
#define TEXT_BOM_MAX 3           /* longest byte order mark we look for */

struct imp_text {
	int fd;
	iconv_t cd;
	const char *path;            /* borrowed from the caller */
	char from[IMP_ENCODING_MAX]; /* iconv name of the source encoding */
	unsigned char in[IMP_TEXT_CHUNK_BYTES + TEXT_CARRY_MAX];
	size_t in_pos, in_len;
	long long in_off;            /* file offset of in[0] */
	long lines;                  /* newlines handed out so far */
	int eof;
	int started;                 /* BOM looked at */
	int utf8;                    /* UTF-8 source: validated, not converted */
};

_Noreturn void imp_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "clearbook: internal error: assertion '%s' failed at "
	        "%s:%d\n", what, file, line);
	abort();
}

/* Profile names to iconv names; NULL for an encoding we do not accept. */
static const char *iconv_name(const char *enc)
{
	static const char *const map[][2] = {
		{ "utf-8", "UTF-8" },           { "utf8", "UTF-8" },
		{ "utf-16", "UTF-16LE" },       { "utf-16le", "UTF-16LE" },
		{ "utf-16be", "UTF-16BE" },     { "gbk", "GBK" },
		{ "gb18030", "GB18030" },       { "iso-8859-1", "ISO-8859-1" },
		{ "latin1", "ISO-8859-1" },     { "windows-1252", "WINDOWS-1252" },
		{ "cp1252", "WINDOWS-1252" },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(enc, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static int text_fill(imp_text *t, lg_error *err)
{
	size_t keep = t->in_len - t->in_pos;
	ssize_t n;

	IMP_ASSERT(keep <= TEXT_CARRY_MAX);
	memmove(t->in, t->in + t->in_pos, keep);
	t->in_off += (long long)t->in_pos;
	t->in_pos = 0;
	t->in_len = keep;
	do {
		n = read(t->fd, t->in + keep, IMP_TEXT_CHUNK_BYTES);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return lg_error_set(err, LG_EIO, "%s: cannot read: %s", t->path,
		                    strerror(errno));
	if (n == 0)
		t->eof = 1;
	t->in_len = keep + (size_t)n;
	return 0;
}

/* A byte order mark wins over the declared encoding: it cannot be anything
 * else at the start of a text file. */
static int text_start(imp_text *t, lg_error *err)
{
	const unsigned char *b = t->in;
	const char *to = t->from;
	int rc;

	while (!t->eof && t->in_len < TEXT_BOM_MAX) {
		rc = text_fill(t, err);
		if (rc != 0)
			return rc;
	}
	if (t->in_len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		to = "UTF-8";
		t->in_pos = 3;
	} else if (t->in_len >= 2 && b[0] == 0xFF && b[1] == 0xFE) {
		to = "UTF-16LE";
		t->in_pos = 2;
	} else if (t->in_len >= 2 && b[0] == 0xFE && b[1] == 0xFF) {
		to = "UTF-16BE";
		t->in_pos = 2;
	}
	if (to != t->from)
		snprintf(t->from, sizeof t->from, "%s", to);
	t->utf8 = strcmp(t->from, "UTF-8") == 0;
	if (t->utf8) {
		t->started = 1;
		return 0;
	}
	t->cd = iconv_open("UTF-8", t->from);
	if (t->cd == (iconv_t)-1)
		return lg_error_set(err, LG_EINTERNAL, "%s: iconv cannot convert "
		                    "from %s: %s", t->path, t->from, strerror(errno));
	t->started = 1;
	return 0;
}

int imp_text_open(const char *path, const char *encoding, imp_text **out,
                  lg_error *err)
{
	const char *name = iconv_name(encoding);
	struct stat sb;
	imp_text *t;

	IMP_ASSERT(path != NULL && encoding != NULL && out != NULL);
	*out = NULL;
	if (!name)
		return lg_error_set(err, LG_EUSAGE, "encoding '%s' is not supported",
		                    encoding);
	t = calloc(1, sizeof *t);
	if (!t)
		return lg_error_set(err, LG_EINTERNAL, "%s: out of memory", path);
	t->cd = (iconv_t)-1;
	t->path = path;
	snprintf(t->from, sizeof t->from, "%s", name);
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;
		free(t);
		if (e == ENOENT || e == ENOTDIR)
			return lg_error_set(err, LG_ENOINPUT, "%s: no such file", path);
		return lg_error_set(err, LG_EIO, "%s: cannot open: %s", path,
		                    strerror(e));
	}
	if (fstat(t->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		imp_text_free(t);
		return lg_error_set(err, LG_ENOINPUT, "%s: not a regular file", path);
	}
	*out = t;
	return 0;
}

static long count_newlines(const char *s, size_t n)
{
	const char *end = s + n;
	long c = 0;

	while (s < end && (s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		c++;
		s++;
	}
	return c;
}

static int text_bad(imp_text *t, const char *buf, size_t produced,
                    const char *what, lg_error *err)
{
	long line = t->lines + count_newlines(buf, produced) + 1;
	long long off = t->in_off + (long long)t->in_pos;

	lg_error_set(err, LG_EDATA, "%s:%ld: %s %s at byte offset %lld",
	             t->path, line, what, t->from, off);
	if (err)
		err->line = line;
	return LG_EDATA;
}

/* Length of the valid UTF-8 sequence at s (n bytes available): 1..4, 0 if
 * it is cut short by n, -1 if it is invalid.  As strict as iconv: no
 * overlong forms, no surrogates, nothing beyond U+10FFFF (RFC 3629). */
static int utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	int len;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return -1;
	len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return 0;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF))
			return -1;
	}
	return len;
}

/*
 * UTF-8 in, UTF-8 out: validated and copied without iconv, which would
 * decode every byte to UCS-4 and back (a tenth of a CSV import's time).
 * Returns like iconv: 0 when the input ran out, E2BIG when buf is full,
 * EINVAL for a sequence cut by the end of the input, EILSEQ for an invalid
 * one; in_pos stops at the sequence that could not be taken.
 */
static int utf8_copy(imp_text *t, char *buf, size_t cap, size_t *produced)
{
	const unsigned char *in = t->in;
	size_t i = t->in_pos, end = t->in_len, o = *produced;
	int rc = 0;

	while (i < end) {
		int len;
		/* ASCII runs, eight bytes at a time */
		while (i + 8 <= end && o + 8 <= cap) {
			uint64_t w;
			memcpy(&w, in + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			memcpy(buf + o, &w, 8);
			i += 8;
			o += 8;
		}
		if (i >= end)
			break;
		len = utf8_seq(in + i, end - i);
		if (len <= 0) {
			rc = len == 0 ? EINVAL : EILSEQ;
			break;
		}
		if (o + (size_t)len > cap) {
			rc = E2BIG;
			break;
		}
		memcpy(buf + o, in + i, (size_t)len);
		i += (size_t)len;
		o += (size_t)len;
	}
	t->in_pos = i;
	*produced = o;
	return rc;
}

int imp_text_read(imp_text *t, char *buf, size_t cap, size_t *got,
                  lg_error *err)
{
	size_t produced = 0;
	int rc;

	IMP_ASSERT(t != NULL && buf != NULL && got != NULL);
	IMP_ASSERT(cap >= IMP_TEXT_OUT_BYTES);
	*got = 0;
	if (!t->started) {
		rc = text_start(t, err);
		if (rc != 0)
			return rc;
	}
	for (;;) {
		char *inp, *outp;
		size_t inleft, outleft, r;

		if (t->in_pos == t->in_len && !t->eof) {
			rc = text_fill(t, err);
			if (rc != 0)
				return rc;
			continue;
		}
		inp = (char *)t->in + t->in_pos;
		inleft = t->in_len - t->in_pos;
		if (inleft == 0)
			break; /* end of file */
		outp = buf + produced;
		outleft = cap - produced;
		if (t->utf8) {
			errno = utf8_copy(t, buf, cap, &produced);
			r = errno ? (size_t)-1 : 0;
		} else {
			r = iconv(t->cd, &inp, &inleft, &outp, &outleft);
			t->in_pos = (size_t)((unsigned char *)inp - t->in);
			produced = (size_t)(outp - buf);
		}
		if (r != (size_t)-1) {
			if (produced > 0)
				break;
			continue;
		}
		if (errno == E2BIG) {
			IMP_ASSERT(produced > 0);
			break;
		}
		if (errno == EILSEQ)
			return text_bad(t, buf, produced, "invalid byte sequence for",
			                err);
		if (errno != EINVAL)
			return lg_error_set(err, LG_EINTERNAL, "%s: iconv: %s", t->path,
			                    strerror(errno));
		/* A sequence cut by the end of the buffer: read on, or fail at the
		 * end of the file. */
		if (t->eof)
			return text_bad(t, buf, produced, "truncated byte sequence of",
			                err);
		if (produced > 0)
			break;
		rc = text_fill(t, err);
		if (rc != 0)
			return rc;
	}
	if (memchr(buf, '\0', produced))
		return text_bad(t, buf, (size_t)((char *)memchr(buf, '\0', produced)
		                - buf), "NUL character in", err);
	t->lines += count_newlines(buf, produced);
	*got = produced;
	return 0;
}

const char *imp_text_encoding(const imp_text *t)
{
	return t->from;
}

void imp_text_free(imp_text *t)
{
	if (!t)
		return;
	if (t->cd != (iconv_t)-1)
		iconv_close(t->cd);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}
