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
