/*
 * out.c - printing result tables as aligned text, CSV and JSON.
 */
#include "out.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int out_format_parse(const char *text, enum out_format *out)
{
	if (strcmp(text, "text") == 0)
		*out = OUT_TEXT;
	else if (strcmp(text, "csv") == 0)
		*out = OUT_CSV;
	else if (strcmp(text, "json") == 0)
		*out = OUT_JSON;
	else
		return -1;
	return 0;
}

void out_table_init(out_table *t, int cols, const char *const *names,
                    const unsigned *flags)
{
	memset(t, 0, sizeof *t);
	t->cols = cols < OUT_COLS_MAX ? cols : OUT_COLS_MAX;
	for (int i = 0; i < t->cols; i++) {
		t->name[i] = names[i];
		t->flags[i] = flags ? flags[i] : 0;
	}
}

int out_table_add(out_table *t, const char *const *cells)
{
	size_t need = (t->rows + 1) * (size_t)t->cols;

	if (need > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64 * (size_t)t->cols;
		while (ncap < need)
			ncap *= 2;
		char **p = realloc(t->cells, ncap * sizeof *p);
		if (!p)
			return -1;
		t->cells = p;
		t->cap = ncap;
	}
	for (int c = 0; c < t->cols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "");
		if (!s) {
			for (int k = 0; k < c; k++)
				free(t->cells[t->rows * (size_t)t->cols + (size_t)k]);
			return -1;
		}
		t->cells[t->rows * (size_t)t->cols + (size_t)c] = s;
	}
	t->rows++;
	return 0;
}

void out_table_release(out_table *t)
{
	for (size_t i = 0; i < t->rows * (size_t)t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

void out_csv_field(FILE *fp, const char *s, int text)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	int neutralise = text && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
	                          s[0] == '@' || s[0] == '\t' || s[0] == '\r');

	if (neutralise)
		quote = 1;
	if (quote)
		fputc('"', fp);
	if (neutralise)
		fputc('\'', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	if (quote)
		fputc('"', fp);
}

/* Terminal columns a UTF-8 string takes: East Asian wide characters take
 * two, so that tables with Chinese names stay aligned. */
static size_t display_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned cp = *p;
		int n = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
		for (int i = 1; i < n && p[i]; i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		if (n == 3)
			cp &= 0xffff;
		else if (n == 4)
			cp &= 0x1fffff;
		w += (n >= 3 && ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
		                 (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
		                 (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
		                 (cp >= 0xffe0 && cp <= 0xffe6) || cp >= 0x20000)) ? 2 : 1;
		for (int i = 0; i < n && *p; i++)
			p++;
	}
	return w;
}

static const char *cell(const out_table *t, size_t r, int c)
{
	return t->cells[r * (size_t)t->cols + (size_t)c];
}

static void print_text(const out_table *t, FILE *fp)
{
	size_t width[OUT_COLS_MAX];

	for (int c = 0; c < t->cols; c++) {
		width[c] = display_width(t->name[c]);
		for (size_t r = 0; r < t->rows; r++)
			if (display_width(cell(t, r, c)) > width[c])
				width[c] = display_width(cell(t, r, c));
	}
	for (size_t r = 0; r <= t->rows; r++) {
		/* Trailing empty cells print nothing: no trailing spaces. */
		int last = t->cols - 1;
		while (last > 0 && r > 0 && cell(t, r - 1, last)[0] == '\0')
			last--;
		for (int c = 0; c <= last; c++) {
			const char *s = r == 0 ? t->name[c] : cell(t, r - 1, c);
			size_t pad = width[c] - display_width(s);
			int numeric = (t->flags[c] & (OUT_NUMERIC | OUT_INTEGER)) != 0;
			if (numeric)
				fprintf(fp, "%*s", (int)pad, "");
			fputs(s, fp);
			if (!numeric && c != last)
				fprintf(fp, "%*s", (int)pad, "");
			fputs(c == last ? "\n" : "  ", fp);
		}
	}
}

static void print_csv(const out_table *t, FILE *fp)
{
	for (int c = 0; c < t->cols; c++) {
		out_csv_field(fp, t->name[c], 1);
		fputs(c == t->cols - 1 ? "\r\n" : ",", fp);
	}
	for (size_t r = 0; r < t->rows; r++) {
		for (int c = 0; c < t->cols; c++) {
			out_csv_field(fp, cell(t, r, c), !(t->flags[c] & (OUT_NUMERIC | OUT_INTEGER)));
			fputs(c == t->cols - 1 ? "\r\n" : ",", fp);
		}
	}
}

static void print_json(const out_table *t, FILE *fp)
{
	fputs("[", fp);
	for (size_t r = 0; r < t->rows; r++) {
		json_t *o = json_object();
		for (int c = 0; c < t->cols; c++) {
			const char *s = cell(t, r, c);
			json_t *v = (t->flags[c] & OUT_INTEGER) && s[0]
			            ? json_integer(strtoll(s, NULL, 10)) : json_string(s);
			json_object_set_new(o, t->name[c], v);
		}
		char *text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
		fprintf(fp, "%s\n  %s", r ? "," : "", text ? text : "null");
		free(text);
		json_decref(o);
	}
	fputs(t->rows ? "\n]\n" : "]\n", fp);
}

void out_table_print(const out_table *t, enum out_format f, FILE *fp)
{
	if (f == OUT_CSV)
		print_csv(t, fp);
	else if (f == OUT_JSON)
		print_json(t, fp);
	else
		print_text(t, fp);
}
