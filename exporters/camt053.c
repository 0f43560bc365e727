/*
 * camt053.c - a bank-to-customer statement (camt.053.001.08) of one ledger
 * account for a period: what a bank, or a merchant whose account we hold,
 * reads into its own books.
 *
 * Balances and entries come from the same walk over the account's postings,
 * so that opening + entries = closing holds in the file by construction;
 * the e2e test checks the figures against `clearbook balance --at`.
 */
#include "exporters_int.h"

#include <stdlib.h>
#include <string.h>

#define CAMT_NS "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
#define CAMT_ENTRIES_MAX 1000000L /* entries in one statement */
#define CAMT_REF_CHARS 35         /* Max35Text */
#define CAMT_ACCT_ID_CHARS 34     /* Max34Text */
#define CAMT_NAME_CHARS 70        /* Max70Text */
#define CAMT_INFO_CHARS 500       /* Max500Text */
#define ISO_AMOUNT_FRAC 5         /* ActiveOrHistoricCurrencyAndAmount */
#define ISO_AMOUNT_DIGITS 18
#define ISO_DECIMAL_FRAC 17       /* DecimalNumber */

struct camt_entry {
	char *id, *memo;
	char date[11];
	char kind[8];
	char payout_id[CAMT_REF_CHARS * 4 + 1]; /* "" if none or too long */
	long long seq;
	long order;                             /* walk order: the last sort key */
	amount_minor_t amount_minor;            /* as posted: debit positive */
};

struct camt_ctx {
	const exp_camt053_opts *o;
	const exp_account *acct;
	amount_minor_t opening_minor, closing_minor;
	struct camt_entry *v;
	long n, cap;
	lg_error *err;
};

static void entries_free(struct camt_ctx *c)
{
	for (long i = 0; i < c->n; i++) {
		free(c->v[i].id);
		free(c->v[i].memo);
	}
	free(c->v);
}

static int entry_push(struct camt_ctx *c, const ledger_tx_row *tx, amount_minor_t a)
{
	struct camt_entry *e;
	char pid[LG_META_MAX];

	if (c->n == CAMT_ENTRIES_MAX)
		return lg_error_set(c->err, LG_EDATA, "more than %ld entries: export a "
		                    "shorter period", CAMT_ENTRIES_MAX);
	if (c->n == c->cap) {
		long ncap = c->cap ? c->cap * 2 : 64;
		struct camt_entry *p = realloc(c->v, (size_t)ncap * sizeof *p);
		if (!p)
			return lg_error_set(c->err, LG_EINTERNAL, "out of memory");
		c->v = p;
		c->cap = ncap;
	}
	e = &c->v[c->n];
	memset(e, 0, sizeof *e);
	e->id = strdup(tx->id);
	e->memo = strdup(tx->memo ? tx->memo : "");
	if (!e->id || !e->memo) {
		free(e->id);
		free(e->memo);
		return lg_error_set(c->err, LG_EINTERNAL, "out of memory");
	}
	snprintf(e->date, sizeof e->date, "%s", tx->date);
	snprintf(e->kind, sizeof e->kind, "%s", tx->kind);
	if (exp_meta_str(tx->meta, "payout_id", pid, sizeof pid) == 1 &&
	    exp_utf8_chars(pid) >= 1 && exp_utf8_chars(pid) <= CAMT_REF_CHARS)
		exp_copy(e->payout_id, sizeof e->payout_id, pid);
	e->seq = tx->seq;
	e->order = c->n;
	e->amount_minor = a;
	c->n++;
	return LG_OK;
}

/* Postings on exactly our account (the journal filter also returns those
 * under it); pending holds are not booked and move no booked balance. */
static int camt_tx(void *ctx, const ledger_tx_row *tx)
{
	struct camt_ctx *c = ctx;
	int in_period = strcmp(tx->date, c->o->from) >= 0;

	if (strcmp(tx->kind, "pending") == 0)
		return 0;
	for (int i = 0; i < tx->postings_n; i++) {
		const ledger_posting_row *p = &tx->postings[i];
		int rc;
		if (strcmp(p->account, c->acct->code) != 0)
			continue;
		/* The walk is in booking order, not by date: a back-dated posting
		 * may come after the period's own. */
		if (amount_add(c->closing_minor, p->amount_minor, &c->closing_minor) ||
		    (!in_period && amount_add(c->opening_minor, p->amount_minor,
		                              &c->opening_minor)))
			return lg_error_set(c->err, LG_EDATA, "balance overflows 128 bits");
		if (!in_period)
			continue;
		rc = entry_push(c, tx, p->amount_minor);
		if (rc)
			return rc;
	}
	return 0;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct camt_entry *a = pa, *b = pb;
	int d = strcmp(a->date, b->date);

	if (d)
		return d;
	if (a->seq != b->seq)
		return (a->seq > b->seq) - (a->seq < b->seq);
	return (a->order > b->order) - (a->order < b->order);
}

/* CRDT when the amount moves the account towards its holder: money in
 * for a debit-normal account (our bank account, as the bank reports it),
 * a credit for a credit-normal one (a merchant's account, as we report it
 * to the merchant).  A zero balance is CRDT. */
static const char *cdt_dbt(const exp_account *a, amount_minor_t v)
{
	int side = exp_account_side(a);

	if (v == 0)
		return "CRDT";
	return (side > 0) == (v > 0) ? "CRDT" : "DBIT";
}

static int write_amount(exp_xml *x, const char *name, const char *ccy,
                        amount_minor_t v, int scale, lg_error *err)
{
	char buf[AMOUNT_TEXT_MAX];
	int rc = exp_amount_iso(v, scale, ISO_AMOUNT_FRAC, ISO_AMOUNT_DIGITS, buf,
	                        sizeof buf, err);

	if (rc == LG_OK)
		exp_xml_leaf(x, name, ccy ? "Ccy" : NULL, ccy, buf);
	return rc;
}

static int write_balance(exp_xml *x, const exp_account *a, const char *code,
                         amount_minor_t v, const char *date, lg_error *err)
{
	int rc;

	exp_xml_open(x, "Bal", NULL, NULL);
	exp_xml_open(x, "Tp", NULL, NULL);
	exp_xml_open(x, "CdOrPrtry", NULL, NULL);
	exp_xml_leaf(x, "Cd", NULL, NULL, code);
	exp_xml_close(x);
	exp_xml_close(x);
	rc = write_amount(x, "Amt", a->asset, v, a->scale, err);
	exp_xml_leaf(x, "CdtDbtInd", NULL, NULL, cdt_dbt(a, v));
	exp_xml_open(x, "Dt", NULL, NULL);
	exp_xml_leaf(x, "Dt", NULL, NULL, date);
	exp_xml_close(x);
	exp_xml_close(x);
	return rc;
}

static int write_account(exp_xml *x, const exp_account *a, lg_error *err)
{
	char iban[LG_META_MAX], name[LG_META_MAX], clip[CAMT_NAME_CHARS * 4 + 1];
	char hex[LG_HASH_HEX], id[CAMT_ACCT_ID_CHARS + 1];

	exp_xml_open(x, "Acct", NULL, NULL);
	exp_xml_open(x, "Id", NULL, NULL);
	if (exp_meta_str(a->meta, "iban", iban, sizeof iban) == 1 && iban[0]) {
		if (!exp_iban_valid(iban))
			return lg_error_set(err, LG_EDATA, "account '%s': 'iban' in its meta is "
			                    "not a valid IBAN", a->code);
		exp_xml_leaf(x, "IBAN", NULL, NULL, iban);
	} else {
		/* Max34Text: a longer code is named by its hash, and in full in Nm. */
		if (strlen(a->code) <= CAMT_ACCT_ID_CHARS) {
			exp_copy(id, sizeof id, a->code);
		} else {
			EXP_ASSERT(exp_sha256_hex(a->code, strlen(a->code), hex) == 0);
			snprintf(id, sizeof id, "sha256:%.27s", hex);
		}
		exp_xml_open(x, "Othr", NULL, NULL);
		exp_xml_leaf(x, "Id", NULL, NULL, id);
		exp_xml_close(x);
	}
	exp_xml_close(x);
	exp_xml_leaf(x, "Ccy", NULL, NULL, a->asset);
	if (exp_meta_str(a->meta, "name", name, sizeof name) != 1 || !name[0])
		snprintf(name, sizeof name, "%s", a->code);
	exp_utf8_clip(name, CAMT_NAME_CHARS, clip, sizeof clip);
	exp_xml_leaf(x, "Nm", NULL, NULL, clip);
	exp_xml_close(x);
	return LG_OK;
}

/* Sums for TxsSummry; |amounts| and the net in the holder's direction. */
static int write_summary(exp_xml *x, const struct camt_ctx *c, lg_error *err)
{
	amount_minor_t sum = 0, cdt = 0, dbt = 0, net = 0;
	long n_cdt = 0, n_dbt = 0;
	char buf[AMOUNT_TEXT_MAX], nb[32];
	int side = exp_account_side(c->acct), rc = LG_OK;
	const exp_account *a = c->acct;

	for (long i = 0; i < c->n; i++) {
		amount_minor_t v = c->v[i].amount_minor, mag = v < 0 ? -v : v;
		int is_cdt = strcmp(cdt_dbt(a, v), "CRDT") == 0;
		if (amount_add(sum, mag, &sum) ||
		    amount_add(is_cdt ? cdt : dbt, mag, is_cdt ? &cdt : &dbt) ||
		    amount_add(net, side > 0 ? v : -v, &net))
			return lg_error_set(err, LG_EDATA, "statement totals overflow");
		if (is_cdt)
			n_cdt++;
		else
			n_dbt++;
	}
	exp_xml_open(x, "TxsSummry", NULL, NULL);
	exp_xml_open(x, "TtlNtries", NULL, NULL);
	snprintf(nb, sizeof nb, "%ld", c->n);
	exp_xml_leaf(x, "NbOfNtries", NULL, NULL, nb);
	rc = exp_amount_iso(sum, a->scale, ISO_DECIMAL_FRAC, ISO_AMOUNT_DIGITS, buf,
	                    sizeof buf, err);
	exp_xml_leaf(x, "Sum", NULL, NULL, buf);
	exp_xml_open(x, "TtlNetNtry", NULL, NULL);
	if (!rc)
		rc = exp_amount_iso(net, a->scale, ISO_DECIMAL_FRAC, ISO_AMOUNT_DIGITS,
		                    buf, sizeof buf, err);
	exp_xml_leaf(x, "Amt", NULL, NULL, buf);
	exp_xml_leaf(x, "CdtDbtInd", NULL, NULL, net >= 0 ? "CRDT" : "DBIT");
	exp_xml_close(x);
	exp_xml_close(x);
	for (int k = 0; k < 2 && !rc; k++) {
		exp_xml_open(x, k == 0 ? "TtlCdtNtries" : "TtlDbtNtries", NULL, NULL);
		snprintf(nb, sizeof nb, "%ld", k == 0 ? n_cdt : n_dbt);
		exp_xml_leaf(x, "NbOfNtries", NULL, NULL, nb);
		rc = exp_amount_iso(k == 0 ? cdt : dbt, a->scale, ISO_DECIMAL_FRAC,
		                    ISO_AMOUNT_DIGITS, buf, sizeof buf, err);
		exp_xml_leaf(x, "Sum", NULL, NULL, buf);
		exp_xml_close(x);
	}
	exp_xml_close(x);
	return rc;
}

static int write_entry(exp_xml *x, const exp_account *a, const struct camt_entry *e,
                       lg_error *err)
{
	char ref[64], info[CAMT_INFO_CHARS * 4 + 1], text[LG_ID_MAX + LG_MEMO_MAX + 4];
	int id_fits = exp_utf8_chars(e->id) >= 1 && exp_utf8_chars(e->id) <= CAMT_REF_CHARS;
	const char *dir = cdt_dbt(a, e->amount_minor);
	int rc;

	/* NtryRef and AcctSvcrRef are Max35Text: a longer id is referred to by
	 * its sequence number and given in full in AddtlNtryInf. */
	if (!id_fits)
		snprintf(ref, sizeof ref, "seq-%lld", e->seq);
	exp_xml_open(x, "Ntry", NULL, NULL);
	exp_xml_leaf(x, "NtryRef", NULL, NULL, id_fits ? e->id : ref);
	rc = write_amount(x, "Amt", a->asset, e->amount_minor, a->scale, err);
	exp_xml_leaf(x, "CdtDbtInd", NULL, NULL, dir);
	if (strcmp(e->kind, "reverse") == 0)
		exp_xml_leaf(x, "RvslInd", NULL, NULL, "true");
	/* camt.053 v08: Sts became a choice of Cd or Prtry. */
	exp_xml_open(x, "Sts", NULL, NULL);
	exp_xml_leaf(x, "Cd", NULL, NULL, "BOOK");
	exp_xml_close(x);
	exp_xml_open(x, "BookgDt", NULL, NULL);
	exp_xml_leaf(x, "Dt", NULL, NULL, e->date);
	exp_xml_close(x);
	exp_xml_open(x, "ValDt", NULL, NULL);
	exp_xml_leaf(x, "Dt", NULL, NULL, e->date);
	exp_xml_close(x);
	exp_xml_leaf(x, "AcctSvcrRef", NULL, NULL, id_fits ? e->id : ref);
	exp_xml_open(x, "BkTxCd", NULL, NULL);
	exp_xml_open(x, "Prtry", NULL, NULL);
	exp_xml_leaf(x, "Cd", NULL, NULL, e->kind);
	exp_xml_leaf(x, "Issr", NULL, NULL, "clearbook");
	exp_xml_close(x);
	exp_xml_close(x);
	if (e->payout_id[0]) {
		exp_xml_open(x, "NtryDtls", NULL, NULL);
		exp_xml_open(x, "TxDtls", NULL, NULL);
		exp_xml_open(x, "Refs", NULL, NULL);
		exp_xml_leaf(x, "EndToEndId", NULL, NULL, e->payout_id);
		exp_xml_close(x);
		if (!rc)
			rc = write_amount(x, "Amt", a->asset, e->amount_minor, a->scale, err);
		exp_xml_leaf(x, "CdtDbtInd", NULL, NULL, dir);
		exp_xml_close(x);
		exp_xml_close(x);
	}
	snprintf(text, sizeof text, "%s%s%s", id_fits ? "" : e->id,
	         !id_fits && e->memo[0] ? " " : "", e->memo);
	exp_utf8_clip(text, CAMT_INFO_CHARS, info, sizeof info);
	if (info[0] && strspn(info, " ") != strlen(info))
		exp_xml_leaf(x, "AddtlNtryInf", NULL, NULL, info);
	exp_xml_close(x);
	return rc;
}

static int write_statement(exp_xml *x, const struct camt_ctx *c, lg_error *err)
{
	const exp_account *a = c->acct;
	char hex[LG_HASH_HEX], msg_id[40], from_ts[EXP_TS_MAX], to_ts[EXP_TS_MAX];
	char from8[9], to8[9];
	int rc;

	EXP_ASSERT(exp_sha256_hex(a->code, strlen(a->code), hex) == 0);
	snprintf(from8, sizeof from8, "%.4s%.2s%.2s", c->o->from, c->o->from + 5,
	         c->o->from + 8);
	snprintf(to8, sizeof to8, "%.4s%.2s%.2s", c->o->to, c->o->to + 5, c->o->to + 8);
	snprintf(msg_id, sizeof msg_id, "CB053-%s-%s-%.8s", from8, to8, hex);
	snprintf(from_ts, sizeof from_ts, "%sT00:00:00Z", c->o->from);
	snprintf(to_ts, sizeof to_ts, "%sT23:59:59Z", c->o->to);
	exp_xml_open(x, "Document", "xmlns", CAMT_NS);
	exp_xml_open(x, "BkToCstmrStmt", NULL, NULL);
	exp_xml_open(x, "GrpHdr", NULL, NULL);
	exp_xml_leaf(x, "MsgId", NULL, NULL, msg_id);
	exp_xml_leaf(x, "CreDtTm", NULL, NULL, c->o->created_at);
	exp_xml_close(x);
	exp_xml_open(x, "Stmt", NULL, NULL);
	exp_xml_leaf(x, "Id", NULL, NULL, msg_id);
	exp_xml_leaf(x, "CreDtTm", NULL, NULL, c->o->created_at);
	exp_xml_open(x, "FrToDt", NULL, NULL);
	exp_xml_leaf(x, "FrDtTm", NULL, NULL, from_ts);
	exp_xml_leaf(x, "ToDtTm", NULL, NULL, to_ts);
	exp_xml_close(x);
	rc = write_account(x, a, err);
	if (!rc)
		rc = write_balance(x, a, "OPBD", c->opening_minor, c->o->from, err);
	if (!rc)
		rc = write_balance(x, a, "CLBD", c->closing_minor, c->o->to, err);
	if (!rc)
		rc = write_summary(x, c, err);
	for (long i = 0; i < c->n && !rc; i++)
		rc = write_entry(x, a, &c->v[i], err);
	exp_xml_close(x);
	exp_xml_close(x);
	exp_xml_close(x);
	return rc;
}

int exp_camt053_write(ledger *lg, const exp_camt053_opts *o, FILE *out,
                      lg_error *err)
{
	struct camt_ctx c;
	exp_account acct;
	exp_xml x;
	int rc;

	memset(&c, 0, sizeof c);
	if (!ledger_date_valid(o->from) || !ledger_date_valid(o->to) ||
	    strcmp(o->from, o->to) > 0)
		return lg_error_set(err, LG_EUSAGE, "--from and --to must be dates "
		                    "YYYY-MM-DD, from not after to");
	rc = exp_account_get(lg, o->account, &acct, err);
	if (rc)
		return rc;
	if (!exp_iso_ccy(acct.asset))
		return lg_error_set(err, LG_EDATA, "account '%s' is in %s, not an ISO 4217 "
		                    "currency: camt.053 cannot carry it", acct.code,
		                    acct.asset);
	c.o = o;
	c.acct = &acct;
	c.err = err;
	rc = ledger_journal(lg, NULL, o->to, o->account, camt_tx, &c, err);
	if (rc)
		goto out;
	/* Entries by booking date, then booking order: a statement reads by date. */
	if (c.n > 1)
		qsort(c.v, (size_t)c.n, sizeof *c.v, entry_cmp);
	exp_xml_init(&x, out);
	rc = write_statement(&x, &c, err);
	EXP_ASSERT(rc || x.depth == 0);
	if (!rc && x.bad)
		rc = lg_error_set(err, LG_EDATA, "a memo or name of account '%s' holds "
		                  "control characters that XML cannot carry", acct.code);
out:
	entries_free(&c);
	return rc;
}
