/*
 * exporters_int.h - what the exporters' own files share; nothing outside
 * exporters/ includes this.
 */
#ifndef CLEARBOOK_EXPORTERS_INT_H
#define CLEARBOOK_EXPORTERS_INT_H

#include <stdio.h>

#include "exporters.h"

/* Our invariants stay checked in release builds, as the ledger's do. */
#define EXP_ASSERT(cond)                                                     \
	do {                                                                     \
		if (!(cond))                                                         \
			exp_assert_fail(#cond, __FILE__, __LINE__);                      \
	} while (0)
_Noreturn void exp_assert_fail(const char *what, const char *file, int line);

#define EXP_XML_DEPTH_MAX 16
#define EXP_META_VALUE_MAX 1024   /* bytes of one meta value we read */

/* --- a small XML writer: indented, escaped, deterministic --------------- */
typedef struct exp_xml {
	FILE *fp;
	int depth;
	const char *open[EXP_XML_DEPTH_MAX]; /* borrowed element names */
	int bad;                             /* text that XML 1.0 cannot carry */
} exp_xml;
void exp_xml_init(exp_xml *x, FILE *fp);
/* <name attr="value"> with attr NULL for none; names are ours, values
 * are escaped. */
void exp_xml_open(exp_xml *x, const char *name, const char *attr,
                  const char *value);
void exp_xml_close(exp_xml *x);
/* <name attr="value">text</name> on one line. */
void exp_xml_leaf(exp_xml *x, const char *name, const char *attr,
                  const char *value, const char *text);

/* --- text ------------------------------------------------------------- */
/* Copies src into dst (cap bytes), cut if longer: for text already
 * checked to fit. */
void exp_copy(char *dst, size_t cap, const char *src);
/* Characters (code points) in valid UTF-8 `s`; -1 if not valid UTF-8. */
long exp_utf8_chars(const char *s);
/* Copies at most `chars_max` characters of s into buf (cap bytes), never
 * cutting a character; control characters become spaces. */
void exp_utf8_clip(const char *s, long chars_max, char *buf, size_t cap);

/* Formats |value| for an ISO 20022 amount: at most `frac_max` decimals
 * (trailing zeros beyond them dropped) and `digits_max` digits in all.
 * LG_EDATA when the value does not fit. */
int exp_amount_iso(amount_minor_t value, int scale, int frac_max, int digits_max,
                   char *buf, size_t cap, lg_error *err);
/* ISO 13616 IBAN (the schemas' pattern and the mod-97 check digits) and
 * ISO 9362 BIC (BICFIDec2014Identifier): 1 if valid. */
int exp_iban_valid(const char *s);
int exp_bic_valid(const char *s);
/* ISO 4217 shape: three upper-case letters. */
int exp_iso_ccy(const char *asset);

/* The day before "YYYY-MM-DD" into out[11]; -1 if not a date. */
int exp_date_prev(const char *date, char out[11]);

/* --- the ledger ---------------------------------------------------------- */
typedef struct exp_account {
	char code[LG_CODE_MAX + 1];
	char type[16];
	char asset[LG_ASSET_CODE_MAX + 1];
	int scale;
	char meta[LG_META_MAX + 1];
} exp_account;
/* Looks up one account by exact code: LG_ENOINPUT if there is none. */
int exp_account_get(ledger *lg, const char *code, exp_account *out, lg_error *err);
/* +1 when the account is debit-normal (asset, expense), -1 otherwise. */
int exp_account_side(const exp_account *a);
/* A string value of a JSON object's key into buf; 1 if found, 0 if not
 * (or not a string), -1 if the JSON does not parse. */
int exp_meta_str(const char *json, const char *key, char *buf, size_t cap);

/* --- Ed25519 (sign.c, the one place that speaks OpenSSL) --------------- */
int exp_sign(const char *key_path, const unsigned char *msg, size_t len,
             unsigned char sig[EXP_SIG_BYTES], lg_error *err);
/* LG_OK when `sig` is the signature of msg by the public key at pubkey_path,
 * LG_ECHECK when not. */
int exp_verify_sig(const char *pubkey_path, const unsigned char *msg, size_t len,
                   const unsigned char *sig, size_t sig_len, lg_error *err);

/* SHA-256 of bytes as 64 lower-case hex digits; -1 if OpenSSL fails. */
int exp_sha256_hex(const void *data, size_t len, char hex[LG_HASH_HEX]);

/* --- files --------------------------------------------------------------- */
/* Reads a whole file (at most EXP_FILE_BYTES_MAX) into a malloc'd buffer,
 * NUL-terminated, that the caller frees. */
int exp_read_file(const char *path, unsigned char **out, size_t *len,
                  lg_error *err);
/* Writes bytes to path (created or truncated, `mode`), checking every
 * step. */
int exp_write_file(const char *path, const void *data, size_t len, int mode,
                   lg_error *err);

#endif
