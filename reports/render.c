/*
 * render.c - writing a report document as text, CSV, JSON or HTML.
 *
 * Text and CSV follow the rules of cli/out.c (aligned columns that count
 * East Asian wide characters twice; RFC 4180 with spreadsheet formula
 * injection neutralised in text columns).  They are restated here because
 * reports/ may not call cli/ and a report table has more columns than an
 * out_table holds.  HTML is one self-contained file: inline CSS, inline SVG
 * charts drawn with integer arithmetic, no script, nothing fetched.
 */
#include "reports_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *cell(const rpt_table *t, size_t r, int c)
{
	return t->cells[r * (size_t)t->cols + (size_t)c];
}

/* Terminal columns of a UTF-8 string: wide characters take two. */
static size_t display_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p) {
		unsigned cp = *p;
		int n = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
		for (int i = 1; i < n && p[i]; i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		cp &= n == 3 ? 0xffffu : n == 4 ? 0x1fffffu : 0xffffffffu;
		w += (n >= 3 && ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
		                 (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
		                 (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
		                 (cp >= 0xffe0 && cp <= 0xffe6) || cp >= 0x20000)) ? 2 : 1;
		for (int i = 0; i < n && *p; i++)
			p++;
	}
	return w;
}

static void text_table(const rpt_table *t, FILE *fp)
{
	size_t width[RPT_COLS_MAX];

	for (int c = 0; c < t->cols; c++) {
		width[c] = display_width(t->name[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t w = display_width(cell(t, r, c));
			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		int last = t->cols - 1;
		while (last > 0 && r > 0 && cell(t, r - 1, last)[0] == '\0')
			last--;
		for (int c = 0; c <= last; c++) {
			const char *s = r == 0 ? t->name[c] : cell(t, r - 1, c);
			int pad = (int)(width[c] - display_width(s));
			int numeric = (t->flags[c] & (RPT_NUMERIC | RPT_INTEGER)) != 0;
			if (numeric)
				fprintf(fp, "%*s", pad, "");
			fputs(s, fp);
			if (!numeric && c != last)
				fprintf(fp, "%*s", pad, "");
			fputs(c == last ? "\n" : "  ", fp);
		}
	}
}

static void render_text(const rpt_doc *doc, FILE *fp)
{
	fprintf(fp, "%s%s%s\n", doc->title, doc->account[0] ? ": " : "", doc->account);
	fprintf(fp, "period: %s to %s\n", doc->from, doc->to);
	fprintf(fp, "journal: %lld transactions, head %s\n",
	        doc->head_seq, doc->head_hex[0] ? doc->head_hex : "-");
	for (size_t i = 0; i < doc->tables_n; i++) {
		fprintf(fp, "\n== %s ==\n", doc->table[i].title);
		if (doc->table[i].rows == 0)
			fputs("(none)\n", fp);
		else
			text_table(&doc->table[i], fp);
	}
	for (size_t i = 0; i < doc->notes_n; i++)
		fprintf(fp, "%snote: %s\n", i ? "" : "\n", doc->note[i]);
}

/* One CSV field; text fields that a spreadsheet would run as a formula get
 * a leading apostrophe (OWASP CSV injection). */
static void csv_field(FILE *fp, const char *s, int text)
{
	int neutralise = text && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
	                          s[0] == '@' || s[0] == '\t' || s[0] == '\r');
	int quote = neutralise || strpbrk(s, ",\"\r\n") != NULL;

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

/* Each table as its own header and rows; an empty line between tables. */
static void render_csv(const rpt_doc *doc, FILE *fp)
{
	for (size_t i = 0; i < doc->tables_n; i++) {
		const rpt_table *t = &doc->table[i];
		if (i)
			fputs("\r\n", fp);
		for (int c = 0; c < t->cols; c++) {
			csv_field(fp, t->name[c], 1);
			fputs(c == t->cols - 1 ? "\r\n" : ",", fp);
		}
		for (size_t r = 0; r < t->rows; r++)
			for (int c = 0; c < t->cols; c++) {
				csv_field(fp, cell(t, r, c),
				          !(t->flags[c] & (RPT_NUMERIC | RPT_INTEGER)));
				fputs(c == t->cols - 1 ? "\r\n" : ",", fp);
			}
	}
}

static int render_json(const rpt_doc *doc, FILE *fp, lg_error *err)
{
	json_t *root = json_object(), *notes = json_array(), *charts = json_object();
	int rc = LG_OK;

	json_object_set_new(root, "report", json_string(doc->name));
	json_object_set_new(root, "title", json_string(doc->title));
	json_object_set_new(root, "from", json_string(doc->from));
	json_object_set_new(root, "to", json_string(doc->to));
	if (doc->account[0])
		json_object_set_new(root, "account", json_string(doc->account));
	json_object_set_new(root, "journal_seq", json_integer(doc->head_seq));
	json_object_set_new(root, "journal_head", json_string(doc->head_hex));
	for (size_t i = 0; i < doc->tables_n; i++) {
		const rpt_table *t = &doc->table[i];
		json_t *arr = json_array();
		for (size_t r = 0; r < t->rows; r++) {
			json_t *o = json_object();
			for (int c = 0; c < t->cols; c++) {
				const char *s = cell(t, r, c);
				json_t *v = (t->flags[c] & RPT_INTEGER) && s[0]
				            ? json_integer(strtoll(s, NULL, 10)) : json_string(s);
				json_object_set_new(o, t->name[c], v);
			}
			json_array_append_new(arr, o);
		}
		json_object_set_new(root, t->key, arr);
	}
	for (size_t i = 0; i < doc->charts_n; i++) {
		const rpt_chart *c = &doc->chart[i];
		json_t *arr = json_array();
		for (size_t k = 0; k < c->n; k++) {
			char b[AMOUNT_TEXT_MAX];
			json_t *o = json_object();
			json_object_set_new(o, "label", json_string(c->label[k]));
			json_object_set_new(o, "value", json_string(rpt_amt(c->value_minor[k],
			                                                    c->scale, b)));
			if (c->threshold_minor && c->threshold_minor[k] >= 0)
				json_object_set_new(o, "threshold", json_string(
					rpt_amt(c->threshold_minor[k], c->scale, b)));
			json_array_append_new(arr, o);
		}
		json_object_set_new(charts, c->key, arr);
	}
	json_object_set_new(root, "charts", charts);
	for (size_t i = 0; i < doc->notes_n; i++)
		json_array_append_new(notes, json_string(doc->note[i]));
	json_object_set_new(root, "notes", notes);
	if (json_dumpf(root, fp, JSON_PRESERVE_ORDER | JSON_INDENT(1)) != 0)
		rc = lg_error_set(err, LG_EIO, "writing the report failed");
	else
		fputc('\n', fp);
	json_decref(root);
	return rc;
}

/* --- HTML ----------------------------------------------------------------- */

static void html_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default: fputc(*s, fp);
		}
	}
}

#define SVG_W 760
#define SVG_H 240
#define SVG_PLOT_H 170
#define SVG_LEFT 60
#define SVG_TOP 20
#define SVG_BAR_MAX 80 /* px a bar and its gap take at most */

/* A bar chart: bar heights are value * plot height / maximum, in integers;
 * each bar carries its exact value in a <title> for the reader. */
static void html_chart(const rpt_chart *c, FILE *fp)
{
	amount_minor_t max = 0;
	char b[AMOUNT_TEXT_MAX];
	long slot;

	for (size_t i = 0; i < c->n; i++) {
		if (c->value_minor[i] > max)
			max = c->value_minor[i];
		/* A threshold above every bar must still be drawn inside the plot. */
		if (c->threshold_minor && c->threshold_minor[i] > max)
			max = c->threshold_minor[i];
	}
	slot = c->n ? (SVG_W - SVG_LEFT - 10) / (long)c->n : 1;
	if (slot < 1)
		slot = 1;
	if (slot > SVG_BAR_MAX)
		slot = SVG_BAR_MAX;
	fprintf(fp, "<figure class=\"chart\" id=\"chart-%s\"><figcaption>", c->key);
	html_text(fp, c->title);
	if (c->unit[0]) {
		fputs(" (", fp);
		html_text(fp, c->unit);
		fputs(")", fp);
	}
	fprintf(fp, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	        "class=\"chart-svg\" data-chart=\"%s\" width=\"%d\" height=\"%d\" "
	        "viewBox=\"0 0 %d %d\" role=\"img\">\n", c->key, SVG_W, SVG_H, SVG_W, SVG_H);
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
	        SVG_LEFT, SVG_TOP + SVG_PLOT_H, SVG_W - 5, SVG_TOP + SVG_PLOT_H);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">%s</text>\n",
	        SVG_LEFT - 4, SVG_TOP + 8, rpt_amt(max, c->scale, b));
	fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">0</text>\n",
	        SVG_LEFT - 4, SVG_TOP + SVG_PLOT_H);
	for (size_t i = 0; i < c->n; i++) {
		long h = max > 0 ? (long)(c->value_minor[i] * SVG_PLOT_H / max) : 0;
		long x = SVG_LEFT + 4 + (long)i * slot, w = slot > 3 ? slot - 2 : slot;
		fprintf(fp, "<rect class=\"bar\" x=\"%ld\" y=\"%ld\" width=\"%ld\" "
		        "height=\"%ld\"><title>", x, SVG_TOP + SVG_PLOT_H - h, w, h);
		html_text(fp, c->label[i]);
		fprintf(fp, ": %s</title></rect>\n", rpt_amt(c->value_minor[i], c->scale, b));
		if (c->threshold_minor && c->threshold_minor[i] >= 0) {
			long ty = SVG_TOP + SVG_PLOT_H -
			          (max > 0 ? (long)(c->threshold_minor[i] * SVG_PLOT_H / max) : 0);
			fprintf(fp, "<line class=\"threshold\" x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" "
			        "y2=\"%ld\"><title>threshold ", x - 1, ty, x + w + 1, ty);
			html_text(fp, c->label[i]);
			fprintf(fp, ": %s</title></line>\n",
			        rpt_amt(c->threshold_minor[i], c->scale, b));
		}
		/* Label every bar when they are few, else the first and last. */
		if (c->n <= 12 || i == 0 || i + 1 == c->n) {
			fprintf(fp, "<text class=\"label\" x=\"%ld\" y=\"%d\" text-anchor=\"%s\">",
			        x + w / 2, SVG_TOP + SVG_PLOT_H + 16,
			        c->n <= 12 ? "middle" : i == 0 ? "start" : "end");
			html_text(fp, c->label[i]);
			fputs("</text>\n", fp);
		}
	}
	fputs("</svg></figure>\n", fp);
}

static void html_table(const rpt_table *t, FILE *fp)
{
	fprintf(fp, "<section id=\"%s\"><h2>", t->key);
	html_text(fp, t->title);
	fputs("</h2>\n", fp);
	if (t->rows == 0) {
		fputs("<p class=\"none\">(none)</p></section>\n", fp);
		return;
	}
	fputs("<table>\n<thead><tr>", fp);
	for (int c = 0; c < t->cols; c++) {
		fputs(t->flags[c] ? "<th class=\"num\">" : "<th>", fp);
		html_text(fp, t->name[c]);
		fputs("</th>", fp);
	}
	fputs("</tr></thead>\n<tbody>\n", fp);
	for (size_t r = 0; r < t->rows; r++) {
		fputs("<tr>", fp);
		for (int c = 0; c < t->cols; c++) {
			fputs(t->flags[c] ? "<td class=\"num\">" : "<td>", fp);
			html_text(fp, cell(t, r, c));
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</tbody></table></section>\n", fp);
}

static const char html_css[] =
	/* Chinese merchant names need a CJK face; name the usual ones. */
	"body{font-family:system-ui,'Noto Sans CJK SC','Source Han Sans SC',"
	"'PingFang SC','Microsoft YaHei',sans-serif;margin:2em;color:#111}"
	"h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.5em}"
	".meta{color:#444;font-size:.9em}table{border-collapse:collapse;font-size:.85em}"
	"th,td{border:1px solid #bbb;padding:2px 6px;text-align:left}"
	"th{background:#eee}td.num,th.num{text-align:right;"
	"font-variant-numeric:tabular-nums;white-space:nowrap}"
	"figure.chart{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}"
	".bar{fill:#3b6ea5}.threshold{stroke:#c0392b;stroke-width:3;"
	"stroke-dasharray:6 3}.axis{stroke:#333}.tick,.label{font-size:10px;fill:#333}"
	".note{background:#fff4d6;border-left:4px solid #e0a800;padding:.3em .6em}"
	"@page{size:A4 landscape;margin:1cm}"
	"@media print{body{margin:0}table{font-size:.7em}section,figure{break-inside:avoid}"
	"thead{display:table-header-group}.bar{fill:#555}}";

static void render_html(const rpt_doc *doc, FILE *fp)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<title>", fp);
	html_text(fp, doc->title);
	fprintf(fp, " %s to %s</title>\n<style>%s</style>\n</head>\n<body>\n<h1>",
	        doc->from, doc->to, html_css);
	html_text(fp, doc->title);
	if (doc->account[0]) {
		fputs(": ", fp);
		html_text(fp, doc->account);
	}
	fprintf(fp, "</h1>\n<p class=\"meta\">Period %s to %s. Journal: %lld "
	        "transactions, head <code>%s</code>.</p>\n", doc->from, doc->to,
	        doc->head_seq, doc->head_hex[0] ? doc->head_hex : "-");
	for (size_t i = 0; i < doc->notes_n; i++) {
		fputs("<p class=\"note\">", fp);
		html_text(fp, doc->note[i]);
		fputs("</p>\n", fp);
	}
	for (size_t i = 0; i < doc->charts_n; i++)
		html_chart(&doc->chart[i], fp);
	for (size_t i = 0; i < doc->tables_n; i++)
		html_table(&doc->table[i], fp);
	fputs("</body>\n</html>\n", fp);
}

int rpt_render(const rpt_doc *doc, enum rpt_format f, FILE *fp, lg_error *err)
{
	int rc = LG_OK;

	RPT_ASSERT(doc->title != NULL);
	RPT_ASSERT(doc->tables_n <= RPT_TABLES_MAX);
	switch (f) {
	case RPT_TEXT: render_text(doc, fp); break;
	case RPT_CSV: render_csv(doc, fp); break;
	case RPT_JSON: rc = render_json(doc, fp, err); break;
	case RPT_HTML: render_html(doc, fp); break;
	}
	if (!rc && (fflush(fp) != 0 || ferror(fp)))
		rc = lg_error_set(err, LG_EIO, "writing the report failed");
	return rc;
}
