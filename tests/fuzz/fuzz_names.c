/*
 * fuzz_names.c - libFuzzer target for name screening: the pinyin
 * romanisation (reports/pinyin.c), the name normaliser and the score
 * (reports/sanctions.c), over names that are any bytes at all (an account's
 * or a transaction's metadata, an SDN list).
 *
 * The first byte picks the output size of the romanisation (1..1024); the
 * rest is the name.  For every input
 *   - the romanisation is terminated inside its buffer, has no trailing
 *     space, counts no more characters without a reading than Han
 *     characters, and counts exactly the Han characters of a well-formed
 *     input (decoded here independently);
 *   - when it was not cut short, the syllables-apart spelling holds no Han
 *     character the table can read, and both spellings are valid UTF-8 for a
 *     valid input;
 *   - the normalised name is terminated, without leading, trailing or double
 *     spaces, its words in sorted order, and normalising an all-ASCII result
 *     again changes nothing;
 *   - a name scores 1000 against itself (0 when it normalises to nothing),
 *     scores are symmetric and within 0..1000;
 *   - screening against a small list gives a score in range, an entry of the
 *     list, and the same answer twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../reports/aml.h"

#define NAME_BYTES_MAX 600

static rpt_sanctions list;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/fuzz_names_sdnXXXXXX";
	int fd = mkstemp(path);
	FILE *fp;
	lg_error err;

	(void)argc;
	(void)argv;
	if (fd < 0)
		abort();
	fp = fdopen(fd, "w");
	fputs("1,\"LI, Fangwei\"\n2,\"ZHANG, Wei\"\n3,\"IVANOV, Sergey\"\n"
	      "4,\"王𪚥\"\n5,\"HASSAN, Ali Mohammed\"\n", fp);
	fclose(fp);
	rpt_sanctions_init(&list);
	lg_error_init(&err);
	if (rpt_sanctions_load(&list, path, &err) != LG_OK || list.n != 5)
		abort();
	unlink(path);
	return 0;
}

/* Length of the well-formed UTF-8 sequence at p and its code point, or 0. */
static size_t utf8_seq(const unsigned char *p, unsigned *cp)
{
	size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] < 0xE0 ? 2 : p[0] >= 0xE0 && p[0] < 0xF0 ? 3
	             : p[0] >= 0xF0 && p[0] < 0xF5 ? 4 : 0;

	if (!len)
		return 0;
	*cp = len == 1 ? p[0] : p[0] & (0xFFu >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3Fu);
	}
	return len;
}

/* Whether s is well-formed (overlong forms aside); counts Han characters
 * and those the table reads. */
static int utf8_valid(const char *s, int *han, int *readable)
{
	const unsigned char *p = (const unsigned char *)s;

	*han = *readable = 0;
	while (*p) {
		unsigned cp;
		size_t len = utf8_seq(p, &cp);
		if (!len)
			return 0;
		if (rpt_pinyin_is_han(cp)) {
			(*han)++;
			*readable += rpt_pinyin_syllable(cp) != NULL;
		}
		p += len;
	}
	return 1;
}

static void check_romanise(const char *name, size_t cap)
{
	char *out = malloc(cap);
	rpt_pinyin_info info;
	int han, readable, valid = utf8_valid(name, &han, &readable);

	for (int join = 0; join <= 1; join++) {
		size_t n;
		int oh, ordable;
		memset(out, 'x', cap);
		rpt_pinyin_romanise(name, join, out, cap, &info);
		n = strnlen(out, cap);
		if (n >= cap)
			abort(); /* terminated inside the buffer */
		if (n && out[n - 1] == ' ')
			abort();
		if (info.missing_n < 0 || info.missing_n > info.han)
			abort();
		if (valid && info.han != han)
			abort();
		/* Uncut (room to spare for every syllable): read characters are gone. */
		if (valid && cap == RPT_PINYIN_TEXT_MAX && strlen(name) * 3 < cap) {
			if (!utf8_valid(out, &oh, &ordable))
				abort();
			if (ordable != 0)
				abort();
		}
	}
	free(out);
}

static void check_normalise(const char *name)
{
	char a[RPT_AML_NAME_MAX], b[RPT_AML_NAME_MAX];
	const char *w, *prev = NULL;
	size_t n, prev_len = 0;
	int ascii = 1;

	rpt_sanctions_normalise(name, a, sizeof a);
	n = strnlen(a, sizeof a);
	if (n >= sizeof a)
		abort();
	if (n && (a[0] == ' ' || a[n - 1] == ' ' || strstr(a, "  ")))
		abort();
	for (w = a; *w; w += strcspn(w, " "), w += *w == ' ') {
		size_t len = strcspn(w, " ");
		if (prev) {
			size_t m = len < prev_len ? len : prev_len;
			int c = memcmp(prev, w, m);
			if (c > 0 || (c == 0 && prev_len > len))
				abort(); /* words sorted */
		}
		prev = w;
		prev_len = len;
	}
	for (size_t i = 0; i < n; i++)
		ascii &= (unsigned char)a[i] < 0x80;
	if (ascii) {
		rpt_sanctions_normalise(a, b, sizeof b);
		if (strcmp(a, b) != 0)
			abort(); /* a fixed point */
	}
	if (rpt_sanctions_score(a, a) != (n ? 1000 : 0))
		abort();
	for (size_t i = 0; i < list.n; i++) {
		int x = rpt_sanctions_score(a, list.norm[i]), y = rpt_sanctions_score(list.norm[i], a);
		if (x != y || x < 0 || x > 1000)
			abort();
	}
}

static void check_screen(const char *name)
{
	static rpt_sanctions_hit h1, h2;

	rpt_sanctions_screen(&list, name, &h1);
	rpt_sanctions_screen(&list, name, &h2);
	if (h1.score < 0 || h1.score > 1000 || h1.best >= list.n)
		abort();
	if (h1.score != h2.score || h1.best != h2.best || strcmp(h1.pinyin, h2.pinyin) != 0)
		abort();
	if (strnlen(h1.pinyin, sizeof h1.pinyin) >= sizeof h1.pinyin)
		abort();
	if (!h1.info.han && h1.pinyin[0])
		abort(); /* no Chinese, no pinyin shown */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[NAME_BYTES_MAX + 1];
	size_t cap;

	if (size < 1)
		return 0;
	cap = 1 + (size_t)data[0] * 4;
	if (data[0] == 0xFF)
		cap = RPT_PINYIN_TEXT_MAX;
	data++;
	size--;
	if (size > NAME_BYTES_MAX)
		size = NAME_BYTES_MAX;
	memcpy(name, data, size);
	name[size] = '\0';
	check_romanise(name, cap);
	check_romanise(name, RPT_PINYIN_TEXT_MAX);
	check_normalise(name);
	check_screen(name);
	return 0;
}
