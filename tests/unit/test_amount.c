/*
 * test_amount.c - unit tests for ledger/amount.h: exact decimal text to
 * 128-bit minor units and back, checked arithmetic, sortable encoding.
 *
 * 128-bit values cannot go through cmocka's integer asserts (uintmax_t), so
 * they are compared here and printed by a formatter of this file's own,
 * independent of amount_format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../../ledger/amount.h"

#define I128_MAX ((amount_minor_t)(((unsigned __int128)1 << 127) - 1))
#define I128_MIN (-I128_MAX - 1)
#define SENTINEL ((amount_minor_t)0x5eed)

/* --- helpers ----------------------------------------------------------- */

/* Reference formatter: plain decimal integer, written independently of
 * amount.c so that it can serve as an oracle. */
static const char *i128_str(amount_minor_t v, char buf[48])
{
	char tmp[48];
	int n = 0, pos = 0;
	unsigned __int128 mag = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;

	do {
		tmp[n++] = (char)('0' + (int)(mag % 10));
		mag /= 10;
	} while (mag);
	if (v < 0)
		buf[pos++] = '-';
	while (n)
		buf[pos++] = tmp[--n];
	buf[pos] = '\0';
	return buf;
}

/* Reference decimal formatter with exactly `scale` decimals. */
static void ref_format(amount_minor_t v, int scale, char *out, size_t cap)
{
	char digits[48], *d = digits;
	size_t len, pos = 0;

	i128_str(v, digits);
	if (*d == '-') {
		out[pos++] = '-';
		d++;
	}
	len = strlen(d);
	if ((int)len <= scale) {
		/* 0.000ddd */
		out[pos++] = '0';
		out[pos++] = '.';
		for (int k = 0; k < scale - (int)len; k++)
			out[pos++] = '0';
		memcpy(out + pos, d, len);
		pos += len;
	} else {
		memcpy(out + pos, d, len - (size_t)scale);
		pos += len - (size_t)scale;
		if (scale > 0) {
			out[pos++] = '.';
			memcpy(out + pos, d + len - scale, (size_t)scale);
			pos += (size_t)scale;
		}
	}
	assert_true(pos < cap);
	out[pos] = '\0';
}

#define assert_amount_equal(actual, expected)                                 \
	do {                                                                      \
		amount_minor_t a_ = (actual), e_ = (expected);                        \
		if (a_ != e_) {                                                       \
			char sa_[48], se_[48];                                            \
			fail_msg("amount %s != expected %s", i128_str(a_, sa_),          \
			         i128_str(e_, se_));                                      \
		}                                                                     \
	} while (0)

/* Parses a NUL-terminated text and expects success with `expected`. */
static void expect_parse(const char *text, int scale, amount_minor_t expected)
{
	amount_minor_t out = SENTINEL;
	char why[128] = "untouched";
	int rc = amount_parse(text, strlen(text), scale, &out, why, sizeof why);

	if (rc != 0)
		fail_msg("amount_parse(\"%s\", scale %d) refused: %s", text, scale, why);
	assert_amount_equal(out, expected);
}

/* Expects a rejection: -1, *out unchanged, a non-empty lower-case reason
 * that does not repeat the text.  Returns the reason for further checks. */
static const char *expect_reject_n(const char *text, size_t len, int scale)
{
	static char why[256];
	amount_minor_t out = SENTINEL;
	int rc;

	memset(why, 0, sizeof why);
	rc = amount_parse(text, len, scale, &out, why, sizeof why);
	if (rc != -1) {
		char s[48];
		fail_msg("amount_parse(\"%.*s\", scale %d) accepted as %s; expected a "
		         "refusal", (int)len, text, scale, i128_str(out, s));
	}
	assert_amount_equal(out, SENTINEL);
	if (why[0] == '\0')
		fail_msg("amount_parse(\"%.*s\", scale %d): empty reason", (int)len, text,
		         scale);
	assert_false(isupper((unsigned char)why[0]));
	if (len >= 4 && memchr(text, '\0', len) == NULL) {
		char copy[256];
		snprintf(copy, sizeof copy, "%.*s", (int)len, text);
		if (strstr(why, copy))
			fail_msg("reason \"%s\" repeats the text", why);
	}
	return why;
}

static const char *expect_reject(const char *text, int scale)
{
	return expect_reject_n(text, strlen(text), scale);
}

/* splitmix64: a deterministic PRNG, so failures reproduce. */
static uint64_t rng_state;
static void rng_seed(uint64_t s)
{
	rng_state = s;
}
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static unsigned rng_below(unsigned n)
{
	return (unsigned)(rng_next() % n);
}

/* A random 128-bit value whose magnitude has a random bit length, so small,
 * 64-bit-ish and full-width values are all well represented. */
static amount_minor_t rng_i128(void)
{
	unsigned __int128 u = ((unsigned __int128)rng_next() << 64) | rng_next();
	unsigned bits = rng_below(129);

	if (bits < 128)
		u &= ((unsigned __int128)1 << bits) - 1;
	return (amount_minor_t)u;
}

/* --- parsing: accepted forms ------------------------------------------- */

static void amount_parse_accepts_plain_decimal_at_scale_2(void **state)
{
	(void)state;
	expect_parse("1234.56", 2, 123456);
	expect_parse("0.01", 2, 1);
	expect_parse("0", 2, 0);
	expect_parse("7", 2, 700);
}

static void amount_parse_accepts_negative_half_as_minus_50(void **state)
{
	(void)state;
	expect_parse("-0.5", 2, -50);
	expect_parse("-1234.56", 2, -123456);
}

static void amount_parse_accepts_one_wei_at_scale_18(void **state)
{
	(void)state;
	expect_parse("0.000000000000000001", 18, 1);
	expect_parse("-0.000000000000000001", 18, -1);
	expect_parse("1", 18, (amount_minor_t)1000000000000000000LL);
}

static void amount_parse_accepts_trailing_zeros_beyond_scale(void **state)
{
	(void)state;
	expect_parse("1.500", 2, 150);
	expect_parse("1.50000000", 2, 150);
	expect_parse("7.0", 0, 7);
	expect_parse("-3.000", 0, -3);
}

static void amount_parse_accepts_fewer_decimals_than_scale(void **state)
{
	(void)state;
	expect_parse("1.5", 6, 1500000);
	expect_parse("12", 6, 12000000);
}

static void amount_parse_reads_only_len_bytes(void **state)
{
	amount_minor_t out = SENTINEL;
	char why[64];
	(void)state;
	/* "12345" with len 3 is "123"; the rest must not be looked at. */
	assert_int_equal(amount_parse("12345", 3, 0, &out, why, sizeof why), 0);
	assert_amount_equal(out, 123);
	/* Not NUL-terminated at all. */
	{
		const char raw[4] = { '9', '.', '2', '5' };
		assert_int_equal(amount_parse(raw, sizeof raw, 2, &out, why, sizeof why), 0);
		assert_amount_equal(out, 925);
	}
}

static void amount_parse_accepts_negative_zero_as_zero(void **state)
{
	(void)state;
	expect_parse("-0", 2, 0);
	expect_parse("-0.00", 2, 0);
}

/* --- parsing: refusals ------------------------------------------------- */

static void amount_parse_rejects_extra_nonzero_decimal_1_505_at_scale_2(void **state)
{
	const char *why;
	(void)state;
	why = expect_reject("1.505", 2);
	assert_non_null(strstr(why, "scale"));
	expect_reject("1.001", 2);
	expect_reject("0.5", 0);
	expect_reject("1.0000001", 6);
}

static void amount_parse_rejects_19_decimals_at_scale_18(void **state)
{
	const char *why;
	(void)state;
	why = expect_reject("0.0000000000000000001", 18);
	assert_non_null(strstr(why, "scale"));
	expect_reject("1.1234567890123456789", 18);
	/* ...while 19 decimals whose last is 0 are exact. */
	expect_parse("0.0000000000000000010", 18, 1);
}

static void amount_parse_rejects_exponent(void **state)
{
	(void)state;
	expect_reject("1e3", 2);
	expect_reject("1E3", 2);
	expect_reject("1.5e2", 2);
	expect_reject("1e-2", 2);
}

static void amount_parse_rejects_thousands_separators(void **state)
{
	(void)state;
	expect_reject("1,234.00", 2);
	expect_reject("1 234", 2);
	expect_reject("1_234", 2);
	expect_reject("1'234", 2);
	expect_reject("1234,56", 2);
}

static void amount_parse_rejects_empty_text(void **state)
{
	(void)state;
	expect_reject("", 2);
	expect_reject_n("123", 0, 2);
}

static void amount_parse_rejects_leading_plus(void **state)
{
	(void)state;
	expect_reject("+1", 2);
	expect_reject("+0", 2);
}

static void amount_parse_rejects_plus_minus_and_double_minus(void **state)
{
	(void)state;
	expect_reject("+-1", 2);
	expect_reject("--1", 2);
	expect_reject("-+1", 2);
	expect_reject("1-", 2);
	expect_reject("1-2", 2);
}

static void amount_parse_rejects_lone_minus(void **state)
{
	(void)state;
	expect_reject("-", 2);
	expect_reject("-.", 2);
	expect_reject(".", 2);
}

static void amount_parse_rejects_leading_point_dot5(void **state)
{
	(void)state;
	expect_reject(".5", 2);
	expect_reject("-.5", 2);
}

static void amount_parse_rejects_trailing_point_5dot(void **state)
{
	(void)state;
	expect_reject("5.", 2);
	expect_reject("5.", 0);
	expect_reject("-5.", 2);
}

static void amount_parse_rejects_leading_and_trailing_space(void **state)
{
	(void)state;
	expect_reject(" 1", 2);
	expect_reject("1 ", 2);
	expect_reject("\t1", 2);
	expect_reject("1\n", 2);
	expect_reject("- 1", 2);
}

static void amount_parse_rejects_hex_0x10(void **state)
{
	(void)state;
	expect_reject("0x10", 0);
	expect_reject("0X10", 0);
}

static void amount_parse_rejects_other_junk(void **state)
{
	(void)state;
	expect_reject("1.2.3", 2);
	expect_reject("1..2", 2);
	expect_reject("abc", 2);
	expect_reject("NaN", 2);
	expect_reject("inf", 2);
	expect_reject("\xd9\xa1", 2);          /* ARABIC-INDIC DIGIT ONE */
	expect_reject("\xef\xbc\x91", 2);      /* FULLWIDTH DIGIT ONE */
	expect_reject_n("1\0" "2", 3, 2);      /* embedded NUL */
	expect_reject_n("1\0", 2, 2);
}

static void amount_parse_rejects_scale_outside_0_to_18(void **state)
{
	(void)state;
	expect_reject("1", 19);
	expect_reject("1", -1);
	expect_reject("1", 1000);
}

static void amount_parse_rejects_text_longer_than_amount_text_max(void **state)
{
	char text[AMOUNT_TEXT_MAX + 2];
	(void)state;
	/* "1." followed by zeros: exact in value, but longer than the limit. */
	memset(text, '0', sizeof text);
	text[0] = '1';
	text[1] = '.';
	text[AMOUNT_TEXT_MAX + 1] = '\0';
	expect_reject(text, 2);
	/* The same shape at exactly the limit is fine. */
	text[AMOUNT_TEXT_MAX] = '\0';
	expect_parse(text, 2, 100);
}

/* --- parsing: the 128-bit edge ------------------------------------------ */

static void amount_parse_accepts_int128_max_at_scale_0(void **state)
{
	(void)state;
	expect_parse("170141183460469231731687303715884105727", 0, I128_MAX);
}

static void amount_parse_rejects_int128_max_plus_1_at_scale_0(void **state)
{
	const char *why;
	(void)state;
	why = expect_reject("170141183460469231731687303715884105728", 0);
	assert_non_null(strstr(why, "range"));
	expect_reject("999999999999999999999999999999999999999", 0);
	expect_reject("1701411834604692317316873037158841057270", 0);
}

static void amount_parse_accepts_negative_int128_max(void **state)
{
	(void)state;
	expect_parse("-170141183460469231731687303715884105727", 0, -I128_MAX);
	expect_parse("-170141183460469231731.687303715884105727", 18, -I128_MAX);
}

static void amount_parse_accepts_int128_max_at_scale_18_with_decimals(void **state)
{
	(void)state;
	expect_parse("170141183460469231731.687303715884105727", 18, I128_MAX);
	/* Trailing zeros after the full 18 decimals change nothing. */
	expect_parse("170141183460469231731.68730371588410572700", 18, I128_MAX);
}

static void amount_parse_rejects_int128_max_plus_1_at_scale_18(void **state)
{
	const char *why;
	(void)state;
	why = expect_reject("170141183460469231731.687303715884105728", 18);
	assert_non_null(strstr(why, "range"));
	/* Overflow that only shows while padding missing decimals. */
	why = expect_reject("170141183460469231732", 18);
	assert_non_null(strstr(why, "range"));
	why = expect_reject("170141183460469231731.7", 18);
	assert_non_null(strstr(why, "range"));
	/* The whole-number part of the maximum plus 17 decimals still fits. */
	expect_parse("170141183460469231731.68730371588410572", 18,
	             I128_MAX - 7);
}

/*
 * The range is symmetric: -(2^127) is refused even though the type holds
 * it (amount_neg of it fails too).  Documented here so that a change is
 * noticed; see also amount_format_prints_int128_min.
 */
static void amount_parse_rejects_int128_min_as_out_of_range(void **state)
{
	(void)state;
	expect_reject("-170141183460469231731687303715884105728", 0);
	expect_reject("-170141183460469231731.687303715884105728", 18);
}

/* --- the reason buffer -------------------------------------------------- */

static void amount_parse_truncates_reason_to_why_cap(void **state)
{
	amount_minor_t out = SENTINEL;
	char why[8];
	(void)state;
	memset(why, 'X', sizeof why);
	assert_int_equal(amount_parse("1e3", 3, 2, &out, why, sizeof why), -1);
	assert_true(memchr(why, '\0', sizeof why) != NULL);
	assert_true(strlen(why) > 0 && strlen(why) < sizeof why);
	assert_amount_equal(out, SENTINEL);
}

static void amount_parse_accepts_null_why(void **state)
{
	amount_minor_t out = SENTINEL;
	(void)state;
	assert_int_equal(amount_parse("1e3", 3, 2, &out, NULL, 0), -1);
	assert_amount_equal(out, SENTINEL);
	assert_int_equal(amount_parse("1.25", 4, 2, &out, NULL, 0), 0);
	assert_amount_equal(out, 125);
}

/* --- formatting --------------------------------------------------------- */

static void expect_format(amount_minor_t v, int scale, const char *expected)
{
	char buf[AMOUNT_TEXT_MAX];
	size_t n;

	memset(buf, 'X', sizeof buf);
	n = amount_format(v, scale, buf, sizeof buf);
	assert_string_equal(buf, expected);
	assert_int_equal(n, strlen(expected));
}

static void amount_format_prints_exactly_scale_decimals(void **state)
{
	(void)state;
	expect_format(1230, 2, "12.30");
	expect_format(-5, 2, "-0.05");
	expect_format(1, 6, "0.000001");
	expect_format(7, 0, "7");
	expect_format(-1, 18, "-0.000000000000000001");
	expect_format(0, 2, "0.00");
	expect_format(0, 0, "0");
	expect_format(100, 2, "1.00");
	expect_format(-123456, 2, "-1234.56");
	expect_format(1000000, 6, "1.000000");
}

static void amount_format_prints_int128_extremes(void **state)
{
	(void)state;
	expect_format(I128_MAX, 0, "170141183460469231731687303715884105727");
	expect_format(-I128_MAX, 0, "-170141183460469231731687303715884105727");
	expect_format(I128_MAX, 18, "170141183460469231731.687303715884105727");
	expect_format(-I128_MAX, 18, "-170141183460469231731.687303715884105727");
}

static void amount_format_prints_int128_min(void **state)
{
	(void)state;
	expect_format(I128_MIN, 0, "-170141183460469231731687303715884105728");
	expect_format(I128_MIN, 18, "-170141183460469231731.687303715884105728");
}

static void amount_format_minor_prints_plain_integer(void **state)
{
	char buf[AMOUNT_TEXT_MAX];
	(void)state;
	assert_int_equal(amount_format_minor(-1234, buf, sizeof buf), 5);
	assert_string_equal(buf, "-1234");
	amount_format_minor(0, buf, sizeof buf);
	assert_string_equal(buf, "0");
	amount_format_minor(I128_MAX, buf, sizeof buf);
	assert_string_equal(buf, "170141183460469231731687303715884105727");
}

/* Property: for random values and scales 0..18, amount_format agrees with
 * the reference formatter, and amount_parse gives the value back. */
static void amount_format_then_parse_round_trips_random_values(void **state)
{
	(void)state;
	rng_seed(20261125);
	for (int i = 0; i < 200000; i++) {
		amount_minor_t v = rng_i128(), back = SENTINEL;
		int scale = (int)rng_below(AMOUNT_SCALE_MAX + 1);
		char got[AMOUNT_TEXT_MAX], want[AMOUNT_TEXT_MAX], why[128];
		size_t n;

		if (v == I128_MIN)
			continue; /* outside the parser's symmetric range */
		n = amount_format(v, scale, got, sizeof got);
		ref_format(v, scale, want, sizeof want);
		if (strcmp(got, want) != 0 || n != strlen(want))
			fail_msg("iteration %d: amount_format(scale %d) gave \"%s\", "
			         "expected \"%s\"", i, scale, got, want);
		if (amount_parse(got, n, scale, &back, why, sizeof why) != 0)
			fail_msg("iteration %d: \"%s\" at scale %d refused: %s", i, got,
			         scale, why);
		if (back != v) {
			char a[48], b[48];
			fail_msg("iteration %d: \"%s\" at scale %d parsed as %s, not %s", i,
			         got, scale, i128_str(back, a), i128_str(v, b));
		}
	}
}

/* Reference parser, written from amount.h's contract alone. */
static int ref_parse(const char *s, size_t len, int scale, amount_minor_t *out)
{
	size_t i = 0, int_start, int_end, frac_start = 0, frac_end = 0;
	unsigned __int128 acc = 0;
	int neg = 0;

	if (len == 0 || len > AMOUNT_TEXT_MAX)
		return -1;
	if (s[0] == '-') {
		neg = 1;
		i = 1;
	}
	int_start = i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	int_end = i;
	if (int_end == int_start)
		return -1;
	if (i < len && s[i] == '.') {
		frac_start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		frac_end = i;
		if (frac_end == frac_start)
			return -1;
	}
	if (i != len)
		return -1;
	for (size_t k = frac_start + (size_t)scale; k < frac_end; k++)
		if (s[k] != '0')
			return -1;
	for (size_t k = int_start; k < int_end; k++)
		if (__builtin_mul_overflow(acc, 10, &acc) ||
		    __builtin_add_overflow(acc, (unsigned)(s[k] - '0'), &acc))
			return -1;
	for (int k = 0; k < scale; k++) {
		unsigned d = 0;
		if (frac_start + (size_t)k < frac_end)
			d = (unsigned)(s[frac_start + (size_t)k] - '0');
		if (__builtin_mul_overflow(acc, 10, &acc) ||
		    __builtin_add_overflow(acc, d, &acc))
			return -1;
	}
	if (acc > (unsigned __int128)I128_MAX)
		return -1;
	*out = neg ? -(amount_minor_t)acc : (amount_minor_t)acc;
	return 0;
}

/* Random text built mostly from valid pieces, with the occasional bad
 * character, and lengths that straddle the 128-bit edge. */
static size_t random_amount_text(char *buf, size_t cap)
{
	static const char junk[] = " +-.,eEx_\t";
	size_t n = 0;
	unsigned int_digits = 1 + rng_below(rng_below(4) == 0 ? 45 : 22);
	unsigned frac_digits = rng_below(3) == 0 ? 0 : rng_below(24);

	if (rng_below(3) == 0)
		buf[n++] = '-';
	for (unsigned k = 0; k < int_digits && n < cap - 1; k++)
		buf[n++] = (char)('0' + (k == 0 && rng_below(2) ? 1 : rng_below(10)));
	if (frac_digits || rng_below(20) == 0) {
		if (n < cap - 1)
			buf[n++] = '.';
		for (unsigned k = 0; k < frac_digits && n < cap - 1; k++)
			/* zeros are common, to exercise "trailing zeros beyond scale" */
			buf[n++] = (char)('0' + (rng_below(3) == 0 ? 0 : rng_below(10)));
	}
	if (rng_below(10) == 0 && n > 0)
		buf[rng_below((unsigned)n)] = junk[rng_below(sizeof junk - 1)];
	buf[n] = '\0';
	return n;
}

/* Property: amount_parse agrees with the reference parser on random text,
 * both on whether to accept and on the value. */
static void amount_parse_agrees_with_reference_on_random_text(void **state)
{
	int accepted = 0, refused = 0;
	(void)state;
	rng_seed(0xc1ea4b00c);
	for (int i = 0; i < 200000; i++) {
		char text[96], why[128];
		size_t len = random_amount_text(text, sizeof text);
		int scale = (int)rng_below(AMOUNT_SCALE_MAX + 1);
		amount_minor_t got = SENTINEL, want = SENTINEL;
		int rc = amount_parse(text, len, scale, &got, why, sizeof why);
		int ref = ref_parse(text, len, scale, &want);

		if (rc != ref)
			fail_msg("\"%s\" at scale %d: amount_parse %s, reference %s", text,
			         scale, rc ? "refused" : "accepted",
			         ref ? "refused" : "accepted");
		if (rc == 0) {
			accepted++;
			if (got != want) {
				char a[48], b[48];
				fail_msg("\"%s\" at scale %d: %s, expected %s", text, scale,
				         i128_str(got, a), i128_str(want, b));
			}
		} else {
			refused++;
			assert_amount_equal(got, SENTINEL);
			if (why[0] == '\0')
				fail_msg("\"%s\" at scale %d: refused without a reason", text,
				         scale);
		}
	}
	/* The generator must exercise both sides. */
	assert_true(accepted > 10000);
	assert_true(refused > 10000);
}

/* --- the scale-free form (content hashes) ------------------------------- */

static void expect_canonical(const char *text, const char *expected)
{
	char buf[AMOUNT_TEXT_MAX];
	size_t n = amount_canonical(text, strlen(text), buf, sizeof buf);
	if (expected == NULL) {
		if (n != 0)
			fail_msg("\"%s\": expected no canonical form, got \"%s\"", text, buf);
		return;
	}
	if (n == 0 || strcmp(buf, expected) != 0 || strlen(buf) != n)
		fail_msg("\"%s\": canonical \"%s\", expected \"%s\"", text,
		         n ? buf : "(none)", expected);
}

static void amount_canonical_strips_leading_and_trailing_zeros(void **state)
{
	(void)state;
	expect_canonical("0150.500", "150.5");
	expect_canonical("1.500", "1.5");
	expect_canonical("1.50", "1.5");
	expect_canonical("12.30", "12.3");
	expect_canonical("7", "7");
	expect_canonical("700", "700");
	expect_canonical("700.000", "700");
	expect_canonical("-0.05", "-0.05");
	expect_canonical("-000.0500", "-0.05");
	expect_canonical("0.000000000000000001", "0.000000000000000001");
	expect_canonical("0", "0");
	expect_canonical("-0", "0");
	expect_canonical("-0.00", "0");
	expect_canonical("000", "0");
}

static void amount_canonical_refuses_what_amount_parse_refuses(void **state)
{
	(void)state;
	expect_canonical("", NULL);
	expect_canonical("-", NULL);
	expect_canonical("+1", NULL);
	expect_canonical(".5", NULL);
	expect_canonical("5.", NULL);
	expect_canonical("1e3", NULL);
	expect_canonical("1,000", NULL);
	expect_canonical(" 1", NULL);
	expect_canonical("1 ", NULL);
	expect_canonical("--1", NULL);
	expect_canonical("1.2.3", NULL);
}

/* Property: whatever parses at a scale has the canonical form of its value
 * at that scale, so the content hash made from the text before the account
 * is known equals the one made from the value afterwards. */
static void amount_canonical_equals_canonical_format_of_parsed_value(void **state)
{
	int checked = 0;
	(void)state;
	rng_seed(0xca70);
	for (int i = 0; i < 200000; i++) {
		char text[96], why[128], a[AMOUNT_TEXT_MAX], b[AMOUNT_TEXT_MAX];
		size_t len = random_amount_text(text, sizeof text);
		int scale = (int)rng_below(AMOUNT_SCALE_MAX + 1);
		amount_minor_t v;
		size_t na, nb;

		if (amount_parse(text, len, scale, &v, why, sizeof why) != 0)
			continue;
		na = amount_canonical(text, len, a, sizeof a);
		nb = amount_format_canonical(v, scale, b, sizeof b);
		if (na == 0 || na != nb || strcmp(a, b) != 0)
			fail_msg("\"%s\" at scale %d: canonical \"%s\", of the value \"%s\"",
			         text, scale, na ? a : "(none)", b);
		checked++;
	}
	assert_true(checked > 10000);
}

/* --- checked arithmetic ------------------------------------------------- */

static void amount_add_adds_and_sub_subtracts(void **state)
{
	amount_minor_t r = SENTINEL;
	(void)state;
	assert_int_equal(amount_add(150, -50, &r), 0);
	assert_amount_equal(r, 100);
	assert_int_equal(amount_sub(150, 200, &r), 0);
	assert_amount_equal(r, -50);
	assert_int_equal(amount_add(I128_MAX, -I128_MAX, &r), 0);
	assert_amount_equal(r, 0);
	assert_int_equal(amount_add(I128_MAX - 1, 1, &r), 0);
	assert_amount_equal(r, I128_MAX);
	/* the range is symmetric: -2^127 has no text form and counts as
	 * overflow, so r stays as it was */
	assert_int_equal(amount_sub(-I128_MAX, 1, &r), -1);
	assert_amount_equal(r, I128_MAX);
	assert_int_equal(amount_add(-I128_MAX, -1, &r), -1);
	assert_amount_equal(r, I128_MAX);
}

static void amount_add_overflow_fails_and_leaves_out_unchanged(void **state)
{
	amount_minor_t r = SENTINEL;
	(void)state;
	assert_int_equal(amount_add(I128_MAX, 1, &r), -1);
	assert_amount_equal(r, SENTINEL);
	assert_int_equal(amount_add(I128_MIN, -1, &r), -1);
	assert_amount_equal(r, SENTINEL);
	assert_int_equal(amount_add(I128_MAX, I128_MAX, &r), -1);
	assert_amount_equal(r, SENTINEL);
	assert_int_equal(amount_add(I128_MIN, I128_MIN, &r), -1);
	assert_amount_equal(r, SENTINEL);
}

static void amount_sub_overflow_fails_and_leaves_out_unchanged(void **state)
{
	amount_minor_t r = SENTINEL;
	(void)state;
	assert_int_equal(amount_sub(I128_MIN, 1, &r), -1);
	assert_amount_equal(r, SENTINEL);
	assert_int_equal(amount_sub(I128_MAX, -1, &r), -1);
	assert_amount_equal(r, SENTINEL);
	assert_int_equal(amount_sub(0, I128_MIN, &r), -1);
	assert_amount_equal(r, SENTINEL);
}

static void amount_neg_of_int128_min_fails(void **state)
{
	amount_minor_t r = SENTINEL;
	(void)state;
	assert_int_equal(amount_neg(I128_MIN, &r), -1);
	assert_amount_equal(r, SENTINEL);
}

static void amount_neg_negates_up_to_int128_max(void **state)
{
	amount_minor_t r = SENTINEL;
	(void)state;
	assert_int_equal(amount_neg(I128_MAX, &r), 0);
	assert_amount_equal(r, -I128_MAX);
	assert_int_equal(amount_neg(-I128_MAX, &r), 0);
	assert_amount_equal(r, I128_MAX);
	assert_int_equal(amount_neg(0, &r), 0);
	assert_amount_equal(r, 0);
	assert_int_equal(amount_neg(-5, &r), 0);
	assert_amount_equal(r, 5);
}

/* Property: checked add/sub agree with wide arithmetic done by hand. */
static void amount_add_sub_agree_with_overflow_reference(void **state)
{
	(void)state;
	rng_seed(42);
	for (int i = 0; i < 100000; i++) {
		amount_minor_t a = rng_i128(), b = rng_i128(), r = SENTINEL, s = SENTINEL;
		/* Reference: the sum overflows iff both operands share a sign and
		 * the wrapped result does not. */
		amount_minor_t wrap_add = (amount_minor_t)((unsigned __int128)a + (unsigned __int128)b);
		amount_minor_t wrap_sub = (amount_minor_t)((unsigned __int128)a - (unsigned __int128)b);
		int add_ovf = (a < 0) == (b < 0) && (wrap_add < 0) != (a < 0);
		int sub_ovf = (a < 0) != (b < 0) && (wrap_sub < 0) != (a < 0);

		assert_int_equal(amount_add(a, b, &r), add_ovf ? -1 : 0);
		assert_amount_equal(r, add_ovf ? SENTINEL : wrap_add);
		assert_int_equal(amount_sub(a, b, &s), sub_ovf ? -1 : 0);
		assert_amount_equal(s, sub_ovf ? SENTINEL : wrap_sub);
	}
}

/* --- the sortable encoding ---------------------------------------------- */

static void amount_encode_matches_documented_example(void **state)
{
	/* docs/hash-chain.md: 12.34 CNY = 1234 minor units. */
	static const unsigned char want[AMOUNT_BLOB_BYTES] = {
		0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0xd2
	};
	unsigned char b[AMOUNT_BLOB_BYTES];
	(void)state;
	amount_encode(1234, b);
	assert_memory_equal(b, want, sizeof want);
	assert_amount_equal(amount_decode(want), 1234);
}

static void amount_encode_of_extremes(void **state)
{
	unsigned char b[AMOUNT_BLOB_BYTES], want[AMOUNT_BLOB_BYTES];
	(void)state;
	amount_encode(I128_MIN, b);
	memset(want, 0, sizeof want);
	assert_memory_equal(b, want, sizeof want);
	amount_encode(I128_MAX, b);
	memset(want, 0xff, sizeof want);
	assert_memory_equal(b, want, sizeof want);
	amount_encode(0, b);
	memset(want, 0, sizeof want);
	want[0] = 0x80;
	assert_memory_equal(b, want, sizeof want);
	amount_encode(-1, b);
	memset(want, 0xff, sizeof want);
	want[0] = 0x7f;
	assert_memory_equal(b, want, sizeof want);
	assert_amount_equal(amount_decode(b), -1);
}

static int sign_of(int x)
{
	return (x > 0) - (x < 0);
}

/* Property: decode(encode(v)) == v, and memcmp order of encodings is the
 * numeric order of the values. */
static void amount_encoding_round_trips_and_sorts_numerically(void **state)
{
	static const amount_minor_t edges[] = { 0, 1, -1, 255, 256, -256, -257,
	                                        I128_MAX, I128_MIN, I128_MAX - 1,
	                                        I128_MIN + 1 };
	const size_t n_edges = sizeof edges / sizeof edges[0];
	(void)state;
	rng_seed(7);
	for (int i = 0; i < 200000; i++) {
		amount_minor_t a = i < (int)(n_edges * n_edges) ? edges[i % n_edges] : rng_i128();
		amount_minor_t b = i < (int)(n_edges * n_edges) ? edges[i / n_edges] : rng_i128();
		unsigned char ea[AMOUNT_BLOB_BYTES], eb[AMOUNT_BLOB_BYTES];
		int want, got;

		/* Near neighbours are where a sloppy encoding would go wrong. */
		if (rng_below(8) == 0 && a > I128_MIN + 2 && a < I128_MAX - 2)
			b = a + (rng_below(2) ? 1 : -1) * (amount_minor_t)rng_below(3);
		amount_encode(a, ea);
		amount_encode(b, eb);
		assert_amount_equal(amount_decode(ea), a);
		assert_amount_equal(amount_decode(eb), b);
		want = (a > b) - (a < b);
		got = sign_of(memcmp(ea, eb, AMOUNT_BLOB_BYTES));
		if (want != got) {
			char sa[48], sb[48];
			fail_msg("memcmp order %d but numeric order %d for %s vs %s", got,
			         want, i128_str(a, sa), i128_str(b, sb));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(amount_parse_accepts_plain_decimal_at_scale_2),
		cmocka_unit_test(amount_parse_accepts_negative_half_as_minus_50),
		cmocka_unit_test(amount_parse_accepts_one_wei_at_scale_18),
		cmocka_unit_test(amount_parse_accepts_trailing_zeros_beyond_scale),
		cmocka_unit_test(amount_parse_accepts_fewer_decimals_than_scale),
		cmocka_unit_test(amount_parse_reads_only_len_bytes),
		cmocka_unit_test(amount_parse_accepts_negative_zero_as_zero),
		cmocka_unit_test(amount_parse_rejects_extra_nonzero_decimal_1_505_at_scale_2),
		cmocka_unit_test(amount_parse_rejects_19_decimals_at_scale_18),
		cmocka_unit_test(amount_parse_rejects_exponent),
		cmocka_unit_test(amount_parse_rejects_thousands_separators),
		cmocka_unit_test(amount_parse_rejects_empty_text),
		cmocka_unit_test(amount_parse_rejects_leading_plus),
		cmocka_unit_test(amount_parse_rejects_plus_minus_and_double_minus),
		cmocka_unit_test(amount_parse_rejects_lone_minus),
		cmocka_unit_test(amount_parse_rejects_leading_point_dot5),
		cmocka_unit_test(amount_parse_rejects_trailing_point_5dot),
		cmocka_unit_test(amount_parse_rejects_leading_and_trailing_space),
		cmocka_unit_test(amount_parse_rejects_hex_0x10),
		cmocka_unit_test(amount_parse_rejects_other_junk),
		cmocka_unit_test(amount_parse_rejects_scale_outside_0_to_18),
		cmocka_unit_test(amount_parse_rejects_text_longer_than_amount_text_max),
		cmocka_unit_test(amount_parse_accepts_int128_max_at_scale_0),
		cmocka_unit_test(amount_parse_rejects_int128_max_plus_1_at_scale_0),
		cmocka_unit_test(amount_parse_accepts_negative_int128_max),
		cmocka_unit_test(amount_parse_accepts_int128_max_at_scale_18_with_decimals),
		cmocka_unit_test(amount_parse_rejects_int128_max_plus_1_at_scale_18),
		cmocka_unit_test(amount_parse_rejects_int128_min_as_out_of_range),
		cmocka_unit_test(amount_parse_truncates_reason_to_why_cap),
		cmocka_unit_test(amount_parse_accepts_null_why),
		cmocka_unit_test(amount_format_prints_exactly_scale_decimals),
		cmocka_unit_test(amount_format_prints_int128_extremes),
		cmocka_unit_test(amount_format_prints_int128_min),
		cmocka_unit_test(amount_format_minor_prints_plain_integer),
		cmocka_unit_test(amount_format_then_parse_round_trips_random_values),
		cmocka_unit_test(amount_parse_agrees_with_reference_on_random_text),
		cmocka_unit_test(amount_canonical_strips_leading_and_trailing_zeros),
		cmocka_unit_test(amount_canonical_refuses_what_amount_parse_refuses),
		cmocka_unit_test(amount_canonical_equals_canonical_format_of_parsed_value),
		cmocka_unit_test(amount_add_adds_and_sub_subtracts),
		cmocka_unit_test(amount_add_overflow_fails_and_leaves_out_unchanged),
		cmocka_unit_test(amount_sub_overflow_fails_and_leaves_out_unchanged),
		cmocka_unit_test(amount_neg_of_int128_min_fails),
		cmocka_unit_test(amount_neg_negates_up_to_int128_max),
		cmocka_unit_test(amount_add_sub_agree_with_overflow_reference),
		cmocka_unit_test(amount_encode_matches_documented_example),
		cmocka_unit_test(amount_encode_of_extremes),
		cmocka_unit_test(amount_encoding_round_trips_and_sorts_numerically),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
