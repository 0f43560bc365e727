/*
 * amount.h - exact money: signed 128-bit integers of minor units.
 *
 * An amount never passes through a floating type.  Decimal text goes straight
 * to minor units of an asset whose scale (0..18 decimals) the caller supplies,
 * and back.  Anything that does not parse exactly is refused with a reason;
 * nothing is ever rounded.
 */
#ifndef CLEARBOOK_AMOUNT_H
#define CLEARBOOK_AMOUNT_H

#include <stddef.h>
#include <stdint.h>

typedef __int128 amount_minor_t;

/* Largest scale an asset may have (18-decimal tokens). */
#define AMOUNT_SCALE_MAX 18
/* Longest decimal text we accept: sign, 39 digits, point, slack. */
#define AMOUNT_TEXT_MAX 64
/* Bytes of the sortable binary encoding used in the database. */
#define AMOUNT_BLOB_BYTES 16

/*
 * Parses decimal text such as "1234.56", "-0.5" or "1.500" into minor units
 * of an asset with `scale` decimals.  Accepted: an optional leading '-',
 * digits, optionally one '.' followed by digits.  Trailing zeros beyond the
 * scale are accepted ("1.500" at scale 2 is 150); any other extra decimal is
 * refused.  Refused too: empty text, '+', exponents, separators, spaces,
 * leading or trailing '.', and values beyond the 128-bit range.
 *
 * `text` need not be NUL-terminated; `len` bytes are read.  On success writes
 * *out and returns 0.  On failure leaves *out unchanged, writes a lower-case
 * reason (without the text itself) into `why` (at most `why_cap` bytes) and
 * returns -1.
 */
int amount_parse(const char *text, size_t len, int scale, amount_minor_t *out,
                 char *why, size_t why_cap);

/*
 * Formats `value` with exactly `scale` decimals ("12.30", "-0.000001", "7").
 * Writes a NUL-terminated string into buf (cap >= AMOUNT_TEXT_MAX is always
 * enough) and returns its length.
 */
size_t amount_format(amount_minor_t value, int scale, char *buf, size_t cap);

/*
 * The scale-free form of a decimal amount: no leading zeros before the
 * units digit, no trailing zeros after the point, no point when nothing
 * follows it, and no sign on zero ("0150.500" -> "150.5", "-0.00" -> "0").
 * Two texts that parse at a scale to the same value have the same form, and
 * it equals amount_format_canonical of that value at that scale.
 *
 * amount_canonical writes the form of text[len] into buf (cap >=
 * AMOUNT_TEXT_MAX) and returns its length, or returns 0 when the text is
 * not of amount_parse's syntax (amount_parse then says why).
 * amount_format_canonical writes the form of value at scale.
 */
size_t amount_canonical(const char *text, size_t len, char *buf, size_t cap);
size_t amount_format_canonical(amount_minor_t value, int scale, char *buf, size_t cap);

/* Formats `value` as a plain integer of minor units ("-1234"). */
size_t amount_format_minor(amount_minor_t value, char *buf, size_t cap);

/* Checked arithmetic: return 0 and write *out, or -1 on overflow leaving
 * *out unchanged. */
int amount_add(amount_minor_t a, amount_minor_t b, amount_minor_t *out);
int amount_sub(amount_minor_t a, amount_minor_t b, amount_minor_t *out);
int amount_neg(amount_minor_t a, amount_minor_t *out);

/*
 * Sortable binary encoding: 16 bytes, big-endian two's complement with the
 * sign bit flipped, so that memcmp order is numeric order.  An auditor
 * decodes it as int.from_bytes(b, "big") - 2**127.
 */
void amount_encode(amount_minor_t value, unsigned char out[AMOUNT_BLOB_BYTES]);
amount_minor_t amount_decode(const unsigned char in[AMOUNT_BLOB_BYTES]);

#endif
