/*
 * csvexp.c - the journal, the balances and the chart of accounts as RFC 4180
 * CSV, in UTF-8 or, for recipients whose tools expect it, another encoding
 * (GB18030 for Chinese spreadsheet users).
 *
 * Fields go through the command line's CSV writer (exp_csv_field_fn), the
 * one place that quotes and neutralises formulas.  A file is built in
 * UTF-8 in memory and converted whole through iconv; this is the only
 * encoder in the project (the importers' iconv use decodes).  A character
 * the target encoding cannot carry is an error, never a '?'.
 */
#include "exporters_int.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_ENCODING_MAX 32 /* bytes in an encoding name */

static int utf8_name(const char *enc)
{
	return !enc || strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
}

static int encoding_name_ok(const char *enc)
{
	size_t n = strlen(enc);

	if (n == 0 || n >= CSV_ENCODING_MAX)
		return 0;
	return strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                   "0123456789-_") == n;
}

int exp_encoding_check(const char *encoding, lg_error *err)
{
	iconv_t cd;

	if (utf8_name(encoding))
		return LG_OK;
	if (!encoding_name_ok(encoding))
		return lg_error_set(err, LG_EUSAGE, "--encoding '%s' is not an encoding "
		                    "name", encoding);
	cd = iconv_open(encoding, "UTF-8");
	if (cd == (iconv_t)-1)
		return lg_error_set(err, LG_EUSAGE, "--encoding '%s': iconv does not know "
		                    "it", encoding);
	iconv_close(cd);
	return LG_OK;
}

/* Converts UTF-8 text to `enc` and writes it to out. */
static int write_encoded(const char *text, size_t len, const char *enc, FILE *out,
                         lg_error *err)
{
	char buf[16384];
	char *in = (char *)text;
	size_t in_left = len;
	iconv_t cd;
	int rc = LG_OK;

	if (utf8_name(enc))
		return fwrite(text, 1, len, out) == len ? LG_OK
		       : lg_error_set(err, LG_EIO, "write error");
	rc = exp_encoding_check(enc, err);
	if (rc)
		return rc;
	cd = iconv_open(enc, "UTF-8");
	EXP_ASSERT(cd != (iconv_t)-1);
	/* Each round converts at least one character or fails; the last one,
	 * with no input, flushes any shift state. */
	for (int flush = 0; rc == LG_OK && !flush;) {
		char *o = buf;
		size_t o_left = sizeof buf, r;
		int e;
		flush = in_left == 0;
		r = flush ? iconv(cd, NULL, NULL, &o, &o_left)
		          : iconv(cd, &in, &in_left, &o, &o_left);
		e = errno;
		if (fwrite(buf, 1, sizeof buf - o_left, out) != sizeof buf - o_left)
			rc = lg_error_set(err, LG_EIO, "write error");
		else if (r == (size_t)-1 && e != E2BIG)
			rc = lg_error_set(err, LG_EDATA, "byte %zu: a character that %s cannot "
			                  "carry (or not UTF-8)", len - in_left, enc);
	}
	iconv_close(cd);
	return rc;
}

/* Runs `body` into a UTF-8 memory stream, then converts it to out. */
typedef int (*csv_body_fn)(ledger *lg, const exp_csv_opts *o, FILE *mem,
                           lg_error *err);

static int csv_file(ledger *lg, const exp_csv_opts *o, csv_body_fn body, FILE *out,
                    lg_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int rc;

	EXP_ASSERT(o->field != NULL);
	if (!mem)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	rc = body(lg, o, mem, err);
	if (fclose(mem) != 0 && rc == LG_OK)
		rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
	if (rc == LG_OK && len > EXP_FILE_BYTES_MAX)
		rc = lg_error_set(err, LG_EDATA, "the CSV would exceed %zu bytes",
		                  EXP_FILE_BYTES_MAX);
	if (rc == LG_OK)
		rc = write_encoded(text, len, o->encoding, out, err);
	free(text);
	return rc;
}

static void csv_row(const exp_csv_opts *o, FILE *fp, const char *const *cells,
                    const int *text, int n)
{
	for (int c = 0; c < n; c++) {
		o->field(fp, cells[c], text[c]);
		fputs(c == n - 1 ? "\r\n" : ",", fp);
	}
}

/* --- journal.csv ------------------------------------------------------------ */

struct row_ctx {
	const exp_csv_opts *o;
	FILE *fp;
};

static int journal_row(void *ctx, const ledger_tx_row *tx)
{
	static const int text[] = { 0, 1, 1, 1, 1, 1, 1, 1, 1, 0 };
	struct row_ctx *r = ctx;

	for (int i = 0; i < tx->postings_n || (i == 0 && tx->postings_n == 0); i++) {
		const ledger_posting_row *p = tx->postings_n ? &tx->postings[i] : NULL;
		char seq[32], amt[AMOUNT_TEXT_MAX] = "";
		snprintf(seq, sizeof seq, "%lld", tx->seq);
		if (p)
			amount_format(p->amount_minor, p->scale, amt, sizeof amt);
		const char *cells[] = { seq, tx->id, tx->kind, tx->ref_id ? tx->ref_id : "",
		                        tx->date, tx->booked_at, tx->memo,
		                        p ? p->account : "", p ? p->asset : "", amt };
		csv_row(r->o, r->fp, cells, text, 10);
	}
	return 0;
}

static int journal_body(ledger *lg, const exp_csv_opts *o, FILE *mem, lg_error *err)
{
	struct row_ctx r = { o, mem };

	fputs("seq,id,kind,ref,date,booked_at,memo,account,asset,amount\r\n", mem);
	return ledger_journal(lg, o->from, o->to, NULL, journal_row, &r, err);
}

int exp_csv_journal_write(ledger *lg, const exp_csv_opts *o, FILE *out, lg_error *err)
{
	return csv_file(lg, o, journal_body, out, err);
}

/* --- balances.csv ----------------------------------------------------------- */

static int balance_row(void *ctx, const ledger_balance_row *b)
{
	static const int text[] = { 1, 1, 0, 0, 0, 1 };
	struct row_ctx *r = ctx;
	char posted[AMOUNT_TEXT_MAX], pending[AMOUNT_TEXT_MAX], avail[AMOUNT_TEXT_MAX];

	amount_format(b->posted_minor, b->scale, posted, sizeof posted);
	amount_format(b->pending_minor, b->scale, pending, sizeof pending);
	amount_format(b->available_minor, b->scale, avail, sizeof avail);
	const char *cells[] = { b->account, b->asset, posted, pending, avail,
	                        b->is_rollup ? "yes" : "" };
	csv_row(r->o, r->fp, cells, text, 6);
	return 0;
}

static int balances_body(ledger *lg, const exp_csv_opts *o, FILE *mem, lg_error *err)
{
	struct row_ctx r = { o, mem };

	fputs("account,asset,posted,pending,available,rollup\r\n", mem);
	return ledger_balances(lg, NULL, o->to, balance_row, &r, err);
}

int exp_csv_balances_write(ledger *lg, const exp_csv_opts *o, FILE *out,
                           lg_error *err)
{
	return csv_file(lg, o, balances_body, out, err);
}

/* --- accounts.csv ----------------------------------------------------------- */

static int account_row(void *ctx, const ledger_account_info *a)
{
	static const int text[] = { 1, 1, 1, 1, 1, 1 };
	struct row_ctx *r = ctx;
	char name[EXP_META_VALUE_MAX] = "";

	if (exp_meta_str(a->meta ? a->meta : "{}", "name", name, sizeof name) != 1)
		name[0] = '\0';
	const char *cells[] = { a->code, a->type, a->asset, name,
	                        a->opened_at ? a->opened_at : "",
	                        a->closed_at ? a->closed_at : "" };
	csv_row(r->o, r->fp, cells, text, 6);
	return 0;
}

static int accounts_body(ledger *lg, const exp_csv_opts *o, FILE *mem, lg_error *err)
{
	struct row_ctx r = { o, mem };

	fputs("account,type,asset,name,opened_at,closed_at\r\n", mem);
	return ledger_account_list(lg, NULL, account_row, &r, err);
}

int exp_csv_accounts_write(ledger *lg, const exp_csv_opts *o, FILE *out,
                           lg_error *err)
{
	return csv_file(lg, o, accounts_body, out, err);
}
