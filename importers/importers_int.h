/*
 * importers_int.h - what the CSV reader (csv.c), the profile loader
 * (profile.c) and the text decoder (text.c) share inside importers/.
 * Nothing here leaves the module: iconv, libcsv and libinih types stay in
 * their .c files.
 */
#ifndef CLEARBOOK_IMPORTERS_INT_H
#define CLEARBOOK_IMPORTERS_INT_H

#include "importers.h"

#include <stddef.h>

/* Always on, as in the ledger: an assertion failing means our code is
 * wrong, never that the input is. */
#define IMP_ASSERT(cond)                                                     \
	do {                                                                     \
		if (!(cond))                                                         \
			imp_assert_fail(#cond, __FILE__, __LINE__);                      \
	} while (0)

_Noreturn void imp_assert_fail(const char *what, const char *file, int line);

/* --- limits -------------------------------------------------------------- */

#define IMP_PROFILE_NAME_MAX 64     /* bytes of a profile name */
#define IMP_PROFILE_VALUE_MAX 512   /* bytes of one profile value */
#define IMP_PROFILE_ASSETS_MAX 128  /* entries of an [assets] table */
#define IMP_PROFILE_LIST_MAX 8      /* '|'-separated alternatives in a value */
#define IMP_PATH_MAX 4096           /* bytes of a profile path */
#define IMP_TEXT_CHUNK_BYTES 65536  /* raw bytes read from the file at once */
#define IMP_TEXT_OUT_BYTES (4 * IMP_TEXT_CHUNK_BYTES + 16) /* decoded chunk */
#define IMP_ENCODING_MAX 32         /* bytes of an encoding name */

/* --- the profile ----------------------------------------------------------- */

/* Statement line fields a [columns] entry may map; the order is the order
 * of imp_col_names in profile.c. */
enum imp_col {
	IMP_COL_ENTRY_REF,
	IMP_COL_BOOKING_DATE,
	IMP_COL_VALUE_DATE,
	IMP_COL_AMOUNT,
	IMP_COL_DEBIT,
	IMP_COL_CREDIT,
	IMP_COL_DIRECTION,
	IMP_COL_ASSET,
	IMP_COL_CONTRACT,
	IMP_COL_FROM,
	IMP_COL_TO,
	IMP_COL_COUNTERPARTY_NAME,
	IMP_COL_COUNTERPARTY_ACCOUNT,
	IMP_COL_END_TO_END_ID,
	IMP_COL_INSTRUCTION_ID,
	IMP_COL_PROVIDER_REF,
	IMP_COL_UETR,
	IMP_COL_REMITTANCE,
	IMP_COL_TX_CODE,
	IMP_COL_STATUS,
	IMP_COL_BATCH_ID,
	IMP_COL_RETURN_REASON,
	IMP_COL_COUNT
};

enum imp_amount_mode {
	IMP_AMOUNT_SIGNED,         /* one signed column */
	IMP_AMOUNT_DEBIT_CREDIT,   /* credit minus debit */
	IMP_AMOUNT_DIRECTION,      /* unsigned amount and an in/out column */
	IMP_AMOUNT_FROM_TO         /* unsigned amount; sign from own_address */
};

/* --- posting templates ([posting] of a profile: posting.c) ----------------- */

#define IMP_POST_MAX 16         /* postings in a profile's template */
#define IMP_TPL_PARTS_MAX 16    /* literal and {column} parts of one template */

/* One template: literal text and {Header Name} references, as written.  In
 * an amount expression the parts are only references, each added (neg 0)
 * or subtracted (neg 1). */
struct imp_tpl_part {
	unsigned short off, len;    /* in text: the literal, or the header name */
	int is_col;
	int neg;
};
struct imp_tpl {
	char text[IMP_PROFILE_VALUE_MAX];
	int n;
	struct imp_tpl_part part[IMP_TPL_PARTS_MAX];
};
struct imp_post_tpl {
	int credit;                 /* 1: the amount is posted negative */
	struct imp_tpl account, amount;
};
struct imp_template {
	int present;                /* the profile has a [posting] section */
	struct imp_tpl id, memo;
	int n;
	struct imp_post_tpl p[IMP_POST_MAX];
};

/* Parses one [posting] value into t: an id or memo (amount 0), or a
 * "debit"/"credit" value "ACCOUNT AMOUNT" (post, its account and amount
 * expression).  0, or -1 with the reason in why. */
int imp_tpl_parse(struct imp_tpl *t, const char *text, int amount, char *why,
                  size_t why_cap);
int imp_tpl_parse_posting(struct imp_post_tpl *post, const char *text,
                          char *why, size_t why_cap);

/* The header index of every {column} of a template, bound once per file. */
struct imp_template_cols {
	int id[IMP_TPL_PARTS_MAX], memo[IMP_TPL_PARTS_MAX];
	int account[IMP_POST_MAX][IMP_TPL_PARTS_MAX];
	int amount[IMP_POST_MAX][IMP_TPL_PARTS_MAX];
};

/* The cells of one row, stripped, by header index; borrowed. */
struct imp_row_view {
	const char *const *cell;
	const size_t *len;
	int n;
};

/* Binds t's {column} names to the header `hdr` (n names).  0, or -1 with
 * why naming the first name the header lacks. */
int imp_template_bind(const struct imp_template *t, const struct imp_row_view *hdr,
                      struct imp_template_cols *cols, char *why, size_t why_cap);

/* What imp_template_row built: the transaction as one JSON object, and for
 * each of its postings the template posting it came from (zero amounts are
 * left out: the ledger refuses them). */
struct imp_template_out {
	char *json;                 /* caller's buffer of cap bytes */
	size_t cap, len;
	int postings;
	int from[IMP_POST_MAX];
};

/* Expands t for one row: id, date (YYYY-MM-DD), memo, postings in `asset`
 * at `scale` (debits positive, credits negative) and meta {"fields": raw}
 * where raw is the row's header-to-cell JSON object.  A bad cell is -1
 * with *bad_col its header index and the reason in why. */
int imp_template_row(const struct imp_template *t, const struct imp_template_cols *cols,
                     const struct imp_row_view *row, const char *date,
                     const char *asset, int scale, const char *raw,
                     struct imp_template_out *out, int *bad_col, char *why,
                     size_t why_cap);

/* The header index a ledger refusal of the row is best named by: the first
 * column of posting i's account (i >= 0), else of the id. */
int imp_template_col(const struct imp_template *t, const struct imp_template_cols *cols,
                     int posting);

struct imp_asset_map {
	char key[IMP_FIELD_MAX / 8];     /* a symbol, or a contract address */
	int contract;                    /* from [contracts] */
	char asset[LG_ASSET_CODE_MAX + 1];
};

struct imp_profile {
	char name[IMP_PROFILE_NAME_MAX];
	char channel[IMP_PROFILE_NAME_MAX];
	char encoding[IMP_ENCODING_MAX];
	char delimiter;
	char quote;
	long skip_lines;                      /* -1: use header_match */
	char header_match[IMP_PROFILE_VALUE_MAX]; /* '|' alternatives */
	char footer_prefix[IMP_PROFILE_VALUE_MAX]; /* '|' alternatives */
	char strip[32];                       /* bytes stripped from cell ends */
	/* Header names per field, '|' alternatives, a leading '?' when the
	 * column may be absent; empty when not mapped. */
	char columns[IMP_COL_COUNT][IMP_PROFILE_VALUE_MAX];
	enum imp_amount_mode mode;
	char direction_in[IMP_PROFILE_VALUE_MAX];
	char direction_out[IMP_PROFILE_VALUE_MAX];
	char direction_neutral[IMP_PROFILE_VALUE_MAX];
	char currency_symbol_strip[IMP_PROFILE_VALUE_MAX];
	char thousands_sep;                   /* 0: none */
	int base_units;
	int negate;                           /* flip the sign of every line */
	char asset[LG_ASSET_CODE_MAX + 1];    /* fixed asset, or empty */
	char own_address[IMP_PROFILE_VALUE_MAX];
	char date_formats[IMP_PROFILE_VALUE_MAX]; /* '|' alternatives */
	int assets_n;
	struct imp_asset_map assets[IMP_PROFILE_ASSETS_MAX];
	int asset_map_only;                   /* unmapped asset: error */
	int allow_exponent;                   /* "1.9E-4": shifted exactly */
	int lenient_quotes;                   /* a quote inside a bare cell is text */
	struct imp_template post;             /* [posting]: rows go to the ledger */
};

extern const char *const imp_col_names[IMP_COL_COUNT];

/* Splits `list` at '|' into at most IMP_PROFILE_LIST_MAX items; returns
 * 1 if `s` (length n) equals one of them.  Leading '?' markers are not
 * part of an item. */
int imp_list_has(const char *list, const char *s, size_t n);

/* --- the text decoder ------------------------------------------------------ */

typedef struct imp_text imp_text;

/*
 * Opens `path` for decoding from `encoding` (an imp_profile encoding name:
 * utf-8, utf-16, utf-16le, utf-16be, gbk, gb18030, iso-8859-1,
 * windows-1252).  A UTF-8 or UTF-16 byte order mark at the start wins over
 * the declared encoding and is dropped.  On success *out is the caller's,
 * to be given back with imp_text_free.
 */
int imp_text_open(const char *path, const char *encoding, imp_text **out,
                  lg_error *err);

/*
 * Decodes the next chunk into buf (cap >= IMP_TEXT_OUT_BYTES) as UTF-8,
 * validated; *got is 0 at the end of the file.  An invalid or truncated
 * byte sequence is LG_EDATA naming the line and the byte offset in the file.
 */
int imp_text_read(imp_text *t, char *buf, size_t cap, size_t *got,
                  lg_error *err);

/* The encoding actually used ("UTF-16LE" after a BOM); borrowed. */
const char *imp_text_encoding(const imp_text *t);

void imp_text_free(imp_text *t);

#endif
