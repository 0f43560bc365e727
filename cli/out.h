/*
 * out.h - result tables for the terminal, CSV and JSON.
 *
 * Commands fill a table of strings and print it in the format the user
 * asked for.  Text is aligned; CSV is RFC 4180 with spreadsheet formula
 * injection neutralised in text columns; JSON is an array of objects whose
 * keys are the column names, amounts as exact decimal strings.
 */
#ifndef CLEARBOOK_OUT_H
#define CLEARBOOK_OUT_H

#include <stdio.h>

enum out_format { OUT_TEXT, OUT_CSV, OUT_JSON };

/* Parses "text", "csv" or "json"; -1 otherwise. */
int out_format_parse(const char *text, enum out_format *out);

#define OUT_COLS_MAX 12
#define OUT_NUMERIC 1u /* right-aligned; not formula-neutralised; JSON string */
#define OUT_INTEGER 2u /* JSON number */

typedef struct out_table {
	int cols;
	const char *name[OUT_COLS_MAX];
	unsigned flags[OUT_COLS_MAX];
	char **cells;    /* rows * cols owned strings */
	size_t rows, cap;
} out_table;

void out_table_init(out_table *t, int cols, const char *const *names,
                    const unsigned *flags);
/* Appends a row of `cols` strings (copied); NULL cells print empty.
 * Returns -1 when out of memory. */
int out_table_add(out_table *t, const char *const *cells);
void out_table_print(const out_table *t, enum out_format f, FILE *fp);
void out_table_release(out_table *t);

/* Writes one CSV field; `text` fields starting with = + - @ TAB or CR get
 * a leading apostrophe so spreadsheets do not run them. */
void out_csv_field(FILE *fp, const char *s, int text);

#endif
