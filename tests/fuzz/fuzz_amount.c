/*
 * fuzz_amount.c - libFuzzer target for ledger/amount.c: amount_parse,
 * amount_format, amount_format_minor, the sortable blob encoding and the
 * checked arithmetic.
 *
 * The first byte picks the scale (0..18); the rest is the text.  Whatever
 * parses must
 *   - format to exactly `scale` decimals, and that text parse back to the
 *     same value (round trip, exact);
 *   - format as plain minor units that parse at scale 0 to the same value;
 *   - parse at scale + 1 to ten times the value (one more decimal place is
 *     one more power of ten, never a rounding), unless that overflows;
 *   - encode to a blob that decodes to the value and sorts against zero's
 *     blob as the value's sign says;
 *   - negate and add back to zero, with no overflow hidden (the range is
 *     symmetric, so every parsed value has a negation);
 *   - have the scale-free form of its value (amount_canonical of the text
 *     equals amount_format_canonical of the value), which content hashes
 *     rely on.
 * A refusal must give a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ledger/amount.h"

/* The one 128-bit value outside the symmetric range. */
#define AMOUNT_MIN_BEYOND (-(amount_minor_t)(((unsigned __int128)1 << 127) - 1) - 1)

static void check_format(amount_minor_t v, int scale)
{
	char buf[AMOUNT_TEXT_MAX], why[128];
	amount_minor_t w;
	const char *dot;
	size_t n;

	n = amount_format(v, scale, buf, sizeof buf);
	if (n == 0 || n >= sizeof buf || strlen(buf) != n)
		abort();
	dot = strchr(buf, '.');
	if (scale == 0 ? dot != NULL : (!dot || strlen(dot + 1) != (size_t)scale))
		abort(); /* exactly `scale` decimals */
	if (amount_parse(buf, n, scale, &w, why, sizeof why) != 0 || w != v)
		abort(); /* format -> parse is the identity */

	n = amount_format_minor(v, buf, sizeof buf);
	if (n == 0 || amount_parse(buf, n, 0, &w, why, sizeof why) != 0 || w != v)
		abort();
}

static void check_blob(amount_minor_t v)
{
	unsigned char b[AMOUNT_BLOB_BYTES], z[AMOUNT_BLOB_BYTES];
	int c;

	amount_encode(v, b);
	amount_encode(0, z);
	if (amount_decode(b) != v)
		abort();
	c = memcmp(b, z, sizeof b);
	if ((v > 0 && c <= 0) || (v < 0 && c >= 0) || (v == 0 && c != 0))
		abort(); /* memcmp order is numeric order */
}

static void check_arith(amount_minor_t v)
{
	amount_minor_t n = 1, s = 1;

	if (amount_neg(v, &n) != 0 || amount_add(v, n, &s) != 0 || s != 0)
		abort();
	if (amount_sub(v, v, &s) != 0 || s != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	amount_minor_t v, w = 0, keep;
	char why[128];
	const char *text;
	int scale;

	if (size < 1)
		return 0;
	scale = data[0] % (AMOUNT_SCALE_MAX + 1);
	text = (const char *)data + 1;
	why[0] = '\0';
	if (amount_parse(text, size - 1, scale, &v, why, sizeof why) != 0) {
		if (why[0] == '\0')
			abort(); /* a refusal says why */
		return 0;
	}
	check_format(v, scale);
	{
		char a[AMOUNT_TEXT_MAX], b[AMOUNT_TEXT_MAX];
		size_t na = amount_canonical(text, size - 1, a, sizeof a);
		size_t nb = amount_format_canonical(v, scale, b, sizeof b);
		if (na == 0 || na != nb || memcmp(a, b, na) != 0)
			abort();
	}
	check_blob(v);
	check_arith(v);
	if (scale < AMOUNT_SCALE_MAX) {
		keep = w;
		if (amount_parse(text, size - 1, scale + 1, &w, why, sizeof why) == 0) {
			if (w / 10 != v || w % 10 != 0)
				abort(); /* one more decimal is exactly ten times */
		} else {
			amount_minor_t t;
			if (w != keep)
				abort(); /* a refusal leaves *out unchanged */
			if (!__builtin_mul_overflow(v, (amount_minor_t)10, &t) &&
			    t != AMOUNT_MIN_BEYOND)
				abort(); /* refused only because ten times is out of range */
		}
	}
	return 0;
}
