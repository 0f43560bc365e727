/*
 * journal.c - the ledger in hledger/ledger-cli journal syntax, so that an
 * auditor can check our figures with tools we did not write: `hledger -f
 * export.journal balance` must give exactly `clearbook balance`.
 *
 * Only booked transactions are written as transactions; a pending hold moves
 * no posted balance, so it appears as a comment, as do the void and expiry
 * records that end holds.  With a start date, one opening-balances
 * transaction carries every account's balance at the end of the day before;
 * it balances per asset because every transaction before it did.
 */
#include "exporters_int.h"

#include <stdlib.h>
#include <string.h>

#define JNL_ACCOUNTS_MAX 1000000L /* accounts in one export */
#define JNL_DESC_CHARS 200        /* characters of a memo kept as description */

struct jnl_acct {
	char *code;
	char asset[LG_ASSET_CODE_MAX + 1];
	int scale;
	char type;                 /* hledger account type: A L E R X */
	char *name;                /* from the meta, or NULL */
	amount_minor_t opening_minor;
};

struct jnl_ctx {
	struct jnl_acct *v;
	long n, cap;
	const char *from;
	FILE *out;
	lg_error *err;
};

static void accts_free(struct jnl_ctx *c)
{
	for (long i = 0; i < c->n; i++) {
		free(c->v[i].code);
		free(c->v[i].name);
	}
	free(c->v);
}

static char type_letter(const char *type)
{
	return strcmp(type, "asset") == 0 ? 'A' : strcmp(type, "liability") == 0 ? 'L'
	       : strcmp(type, "equity") == 0 ? 'E' : strcmp(type, "income") == 0 ? 'R'
	       : 'X';
}

static int acct_add(void *ctx, const ledger_account_info *a)
{
	struct jnl_ctx *c = ctx;
	char name[EXP_META_VALUE_MAX];
	struct jnl_acct *e;

	if (c->n == JNL_ACCOUNTS_MAX)
		return lg_error_set(c->err, LG_EDATA, "more than %ld accounts",
		                    JNL_ACCOUNTS_MAX);
	if (c->n == c->cap) {
		long ncap = c->cap ? c->cap * 2 : 64;
		struct jnl_acct *p = realloc(c->v, (size_t)ncap * sizeof *p);
		if (!p)
			return lg_error_set(c->err, LG_EINTERNAL, "out of memory");
		c->v = p;
		c->cap = ncap;
	}
	e = &c->v[c->n];
	memset(e, 0, sizeof *e);
	if (exp_meta_str(a->meta ? a->meta : "{}", "name", name, sizeof name) != 1)
		name[0] = '\0';
	e->code = strdup(a->code);
	e->name = name[0] ? strdup(name) : NULL;
	if (!e->code || (name[0] && !e->name)) {
		free(e->code);
		free(e->name);
		return lg_error_set(c->err, LG_EINTERNAL, "out of memory");
	}
	snprintf(e->asset, sizeof e->asset, "%s", a->asset);
	e->scale = a->scale;
	e->type = type_letter(a->type);
	c->n++;
	return 0;
}

static int acct_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct jnl_acct *)pa)->code,
	              ((const struct jnl_acct *)pb)->code);
}

static struct jnl_acct *acct_find(struct jnl_ctx *c, const char *code)
{
	struct jnl_acct key;

	key.code = (char *)code;
	return bsearch(&key, c->v, (size_t)c->n, sizeof *c->v, acct_cmp);
}

/* A commodity symbol: bare when letters only, else quoted (hledger and
 * ledger-cli both read digits in a bare symbol as part of the number). */
static void put_commodity(FILE *fp, const char *asset)
{
	int bare = asset[0] != '\0';

	for (const char *p = asset; *p; p++)
		bare &= (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z');
	fprintf(fp, bare ? "%s" : "\"%s\"", asset);
}

static void put_amount(FILE *fp, amount_minor_t v, const char *asset, int scale)
{
	char buf[AMOUNT_TEXT_MAX];

	amount_format(v, scale, buf, sizeof buf);
	fputs(buf, fp);
	fputc(' ', fp);
	put_commodity(fp, asset);
}

static void write_directives(struct jnl_ctx *c)
{
	char clip[EXP_META_VALUE_MAX];

	/* Each asset once, with its scale as the display precision. */
	for (long i = 0; i < c->n; i++) {
		int seen = 0;
		for (long j = 0; j < i && !seen; j++)
			seen = strcmp(c->v[j].asset, c->v[i].asset) == 0;
		if (seen)
			continue;
		/* hledger wants a decimal mark in a format ("0."), which ledger-cli
		 * refuses; an asset without decimals gets no directive, and both
		 * read its whole-number amounts as they are. */
		if (c->v[i].scale == 0) {
			fputs("; commodity ", c->out);
			put_commodity(c->out, c->v[i].asset);
			fputs(": no decimals\n", c->out);
			continue;
		}
		fputs("commodity ", c->out);
		put_commodity(c->out, c->v[i].asset);
		fprintf(c->out, "\n    format 0.%.*s ", c->v[i].scale,
		        "000000000000000000");
		put_commodity(c->out, c->v[i].asset);
		fputc('\n', c->out);
	}
	fputc('\n', c->out);
	for (long i = 0; i < c->n; i++) {
		fprintf(c->out, "account %s  ; type:%c\n", c->v[i].code, c->v[i].type);
		if (c->v[i].name) {
			exp_utf8_clip(c->v[i].name, JNL_DESC_CHARS, clip, sizeof clip);
			fprintf(c->out, "    ; name: %s\n", clip);
		}
	}
	fputc('\n', c->out);
}

/* Sums postings dated before `from` into each account's opening balance. */
static int opening_tx(void *ctx, const ledger_tx_row *tx)
{
	struct jnl_ctx *c = ctx;

	if (strcmp(tx->kind, "pending") == 0)
		return 0;
	for (int i = 0; i < tx->postings_n; i++) {
		struct jnl_acct *a = acct_find(c, tx->postings[i].account);
		EXP_ASSERT(a != NULL);
		if (amount_add(a->opening_minor, tx->postings[i].amount_minor,
		               &a->opening_minor))
			return lg_error_set(c->err, LG_EDATA, "balance of %s overflows",
			                    a->code);
	}
	return 0;
}

static void write_opening(struct jnl_ctx *c)
{
	int any = 0;

	for (long i = 0; i < c->n; i++)
		any |= c->v[i].opening_minor != 0;
	if (!any)
		return;
	fprintf(c->out, "%s * opening balances\n    ; balances at the end of the day "
	        "before %s\n", c->from, c->from);
	for (long i = 0; i < c->n; i++) {
		if (c->v[i].opening_minor == 0)
			continue;
		fprintf(c->out, "    %s  ", c->v[i].code);
		put_amount(c->out, c->v[i].opening_minor, c->v[i].asset, c->v[i].scale);
		fputc('\n', c->out);
	}
	fputc('\n', c->out);
}

static int write_tx(void *ctx, const ledger_tx_row *tx)
{
	struct jnl_ctx *c = ctx;
	char desc[JNL_DESC_CHARS * 4 + 1], id[LG_ID_MAX * 4 + 1];

	exp_utf8_clip(tx->id, LG_ID_MAX, id, sizeof id);
	if (strcmp(tx->kind, "pending") == 0 || tx->postings_n == 0) {
		fprintf(c->out, "; %s %s %s%s%s: not booked, no posted balance moves\n\n",
		        tx->date, tx->kind, id, tx->ref_id ? " of " : "",
		        tx->ref_id ? tx->ref_id : "");
		return 0;
	}
	exp_utf8_clip(tx->memo ? tx->memo : "", JNL_DESC_CHARS, desc, sizeof desc);
	fprintf(c->out, "%s * %s\n", tx->date, desc);
	fprintf(c->out, "    ; id: %s\n    ; seq: %lld\n    ; kind: %s\n", id, tx->seq,
	        tx->kind);
	if (tx->ref_id)
		fprintf(c->out, "    ; ref: %s\n", tx->ref_id);
	fprintf(c->out, "    ; hash: %s\n", tx->hash_hex);
	for (int i = 0; i < tx->postings_n; i++) {
		const ledger_posting_row *p = &tx->postings[i];
		fprintf(c->out, "    %s  ", p->account);
		put_amount(c->out, p->amount_minor, p->asset, p->scale);
		fputc('\n', c->out);
	}
	fputc('\n', c->out);
	return 0;
}

int exp_journal_write(ledger *lg, const char *from, const char *to, FILE *out,
                      lg_error *err)
{
	struct jnl_ctx c;
	char prev[11];
	int rc;

	memset(&c, 0, sizeof c);
	c.from = from;
	c.out = out;
	c.err = err;
	if ((from && !ledger_date_valid(from)) || (to && !ledger_date_valid(to)) ||
	    (from && to && strcmp(from, to) > 0))
		return lg_error_set(err, LG_EUSAGE, "--from and --to must be dates "
		                    "YYYY-MM-DD, from not after to");
	rc = ledger_account_list(lg, NULL, acct_add, &c, err);
	if (rc)
		goto out;
	if (c.n > 1)
		qsort(c.v, (size_t)c.n, sizeof *c.v, acct_cmp);
	fprintf(out, "; clearbook journal export, %s to %s\n; amounts: debits "
	        "positive, credits negative\n\n", from ? from : "the beginning",
	        to ? to : "the end");
	write_directives(&c);
	if (from) {
		EXP_ASSERT(exp_date_prev(from, prev) == 0);
		rc = ledger_journal(lg, NULL, prev, NULL, opening_tx, &c, err);
		if (rc)
			goto out;
		write_opening(&c);
	}
	rc = ledger_journal(lg, from, to, NULL, write_tx, &c, err);
out:
	accts_free(&c);
	return rc;
}
