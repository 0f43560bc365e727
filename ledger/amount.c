/*
 * amount.c - decimal text to 128-bit minor units and back, exactly.
 *
 * Every money figure in clearbook passes through here.  The parser is strict
 * on purpose: a bank file that says "1,234.5" or "1e3" is wrong input to be
 * refused with a reason, not something to be guessed at.
 */
#include "amount.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define AMOUNT_MAX_U ((unsigned __int128)(((unsigned __int128)1 << 127) - 1))

static void set_why(char *why, size_t cap, const char *msg)
{
	if (why && cap > 0)
		snprintf(why, cap, "%s", msg);
}

/* Appends one decimal digit to *acc, refusing to pass AMOUNT_MAX_U. */
static int push_digit(unsigned __int128 *acc, unsigned digit)
{
	assert(digit <= 9);
	if (*acc > (AMOUNT_MAX_U - digit) / 10)
		return -1;
	*acc = *acc * 10 + digit;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int amount_parse(const char *text, size_t len, int scale, amount_minor_t *out,
                 char *why, size_t why_cap)
{
	size_t i = 0;
	int negative = 0;
	unsigned __int128 acc = 0;
	int int_digits = 0, frac_digits = 0;

	assert(text != NULL && out != NULL);
	if (scale < 0 || scale > AMOUNT_SCALE_MAX) {
		set_why(why, why_cap, "asset scale out of range");
		return -1;
	}
	if (len == 0) {
		set_why(why, why_cap, "empty amount");
		return -1;
	}
	if (len > AMOUNT_TEXT_MAX) {
		set_why(why, why_cap, "amount text too long");
		return -1;
	}
	if (text[0] == '-') {
		negative = 1;
		i = 1;
	} else if (text[0] == '+') {
		set_why(why, why_cap, "a leading '+' is not accepted");
		return -1;
	}
	for (; i < len && is_digit(text[i]); i++, int_digits++) {
		if (push_digit(&acc, (unsigned)(text[i] - '0')) != 0) {
			set_why(why, why_cap, "amount exceeds the 128-bit range");
			return -1;
		}
	}
	if (int_digits == 0) {
		set_why(why, why_cap, "amount must start with a digit (after an optional '-')");
		return -1;
	}
	if (i < len && text[i] == '.') {
		i++;
		for (; i < len && is_digit(text[i]); i++, frac_digits++) {
			unsigned d = (unsigned)(text[i] - '0');
			if (frac_digits >= scale) {
				if (d != 0) {
					char msg[96];
					snprintf(msg, sizeof msg,
					         "more decimals than the asset's scale of %d", scale);
					set_why(why, why_cap, msg);
					return -1;
				}
				continue; /* trailing zero beyond the scale: exact */
			}
			if (push_digit(&acc, d) != 0) {
				set_why(why, why_cap, "amount exceeds the 128-bit range");
				return -1;
			}
		}
		if (frac_digits == 0) {
			set_why(why, why_cap, "a decimal point must be followed by digits");
			return -1;
		}
	}
	if (i != len) {
		char msg[96];
		snprintf(msg, sizeof msg, "unexpected character '%c' at position %zu",
		         text[i], i + 1);
		set_why(why, why_cap, msg);
		return -1;
	}
	for (int k = frac_digits < scale ? frac_digits : scale; k < scale; k++) {
		if (push_digit(&acc, 0) != 0) {
			set_why(why, why_cap, "amount exceeds the 128-bit range");
			return -1;
		}
	}
	assert(acc <= AMOUNT_MAX_U);
	*out = negative ? -(amount_minor_t)acc : (amount_minor_t)acc;
	return 0;
}

size_t amount_format(amount_minor_t value, int scale, char *buf, size_t cap)
{
	char digits[48];
	size_t n = 0, pos = 0;
	unsigned __int128 mag;

	assert(buf != NULL && cap >= AMOUNT_TEXT_MAX);
	assert(scale >= 0 && scale <= AMOUNT_SCALE_MAX);
	mag = value < 0 ? (unsigned __int128)0 - (unsigned __int128)value
	                : (unsigned __int128)value;
	/* 128-bit division is a library call; most amounts fit in 64 bits. */
	while (mag > UINT64_MAX) {
		digits[n++] = (char)('0' + (int)(mag % 10));
		mag /= 10;
	}
	for (uint64_t m64 = (uint64_t)mag;;) {
		digits[n++] = (char)('0' + (int)(m64 % 10));
		m64 /= 10;
		if (m64 == 0)
			break;
	}
	while (n < (size_t)scale + 1)
		digits[n++] = '0'; /* pad so there is a units digit */
	if (value < 0)
		buf[pos++] = '-';
	while (n > 0) {
		if (n == (size_t)scale && scale > 0)
			buf[pos++] = '.';
		buf[pos++] = digits[--n];
	}
	buf[pos] = '\0';
	assert(pos < cap);
	return pos;
}

size_t amount_canonical(const char *text, size_t len, char *buf, size_t cap)
{
	size_t i = 0, int_start, int_end, frac_start = 0, frac_end = 0, pos = 0;
	int negative = 0, zero;

	assert(text != NULL && buf != NULL && cap >= AMOUNT_TEXT_MAX);
	if (len == 0 || len > AMOUNT_TEXT_MAX)
		return 0;
	if (text[0] == '-') {
		negative = 1;
		i = 1;
	}
	int_start = i;
	while (i < len && is_digit(text[i]))
		i++;
	int_end = i;
	if (int_end == int_start)
		return 0;
	if (i < len && text[i] == '.') {
		frac_start = ++i;
		while (i < len && is_digit(text[i]))
			i++;
		frac_end = i;
		if (frac_end == frac_start)
			return 0;
	}
	if (i != len)
		return 0;
	while (int_start + 1 < int_end && text[int_start] == '0')
		int_start++;
	while (frac_end > frac_start && text[frac_end - 1] == '0')
		frac_end--;
	zero = int_end - int_start == 1 && text[int_start] == '0' && frac_end == frac_start;
	if (negative && !zero)
		buf[pos++] = '-';
	memcpy(buf + pos, text + int_start, int_end - int_start);
	pos += int_end - int_start;
	if (frac_end > frac_start) {
		buf[pos++] = '.';
		memcpy(buf + pos, text + frac_start, frac_end - frac_start);
		pos += frac_end - frac_start;
	}
	buf[pos] = '\0';
	assert(pos < cap);
	return pos;
}

size_t amount_format_canonical(amount_minor_t value, int scale, char *buf, size_t cap)
{
	size_t n = amount_format(value, scale, buf, cap);

	if (scale == 0)
		return n;
	while (buf[n - 1] == '0')
		n--;
	if (buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	return n;
}

size_t amount_format_minor(amount_minor_t value, char *buf, size_t cap)
{
	return amount_format(value, 0, buf, cap);
}

/* The range is symmetric, -(2^127 - 1) .. 2^127 - 1: the one value
 * beyond, -2^127, has no positive counterpart and no text amount_parse
 * accepts, so arithmetic that reaches it is an overflow too. */
static int in_range(amount_minor_t v)
{
	return v != -(amount_minor_t)AMOUNT_MAX_U - 1;
}

int amount_add(amount_minor_t a, amount_minor_t b, amount_minor_t *out)
{
	amount_minor_t r;
	if (__builtin_add_overflow(a, b, &r) || !in_range(r))
		return -1;
	*out = r;
	return 0;
}

int amount_sub(amount_minor_t a, amount_minor_t b, amount_minor_t *out)
{
	amount_minor_t r;
	if (__builtin_sub_overflow(a, b, &r) || !in_range(r))
		return -1;
	*out = r;
	return 0;
}

int amount_neg(amount_minor_t a, amount_minor_t *out)
{
	return amount_sub(0, a, out);
}

void amount_encode(amount_minor_t value, unsigned char out[AMOUNT_BLOB_BYTES])
{
	unsigned __int128 u = (unsigned __int128)value ^ ((unsigned __int128)1 << 127);
	for (int i = AMOUNT_BLOB_BYTES - 1; i >= 0; i--) {
		out[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
}

amount_minor_t amount_decode(const unsigned char in[AMOUNT_BLOB_BYTES])
{
	unsigned __int128 u = 0;
	for (int i = 0; i < AMOUNT_BLOB_BYTES; i++)
		u = (u << 8) | in[i];
	u ^= (unsigned __int128)1 << 127;
	return (amount_minor_t)u;
}
