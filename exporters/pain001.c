/*
 * pain001.c - merchant payouts as a customer credit transfer initiation
 * (pain.001.001.10), the file our bank executes.
 *
 * A payout is a transaction with meta {"type":"payout","merchant":M,
 * "payout_id":P} that debits liabilities:merchants:M:payable.  Each becomes
 * one CdtTrfTxInf whose EndToEndId is P: the pain.002 importer and the
 * reconciliation find the payment again by it.  The creditor's name, IBAN
 * and BIC come from the payable account's meta, so that they are recorded
 * once, in the ledger, and not retyped per file.
 */
#include "exporters_int.h"

#include <ini.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../ledger/ledger_sql.h"

#define PAIN_NS "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"
#define PAIN_PAYMENTS_MAX 20000L  /* payments in one file */
#define PAIN_REF_CHARS 35         /* Max35Text */
#define PAIN_NAME_CHARS 140       /* Max140Text */
#define ISO_AMOUNT_FRAC 5
#define ISO_AMOUNT_DIGITS 18
#define ISO_DECIMAL_FRAC 17

struct payment {
	char payout_id[PAIN_REF_CHARS * 4 + 1];
	char merchant[LG_CODE_MAX + 1];
	char date[11];
	char asset[LG_ASSET_CODE_MAX + 1];
	int scale;
	long long seq;
	amount_minor_t amount_minor;
	char memo[PAIN_NAME_CHARS * 4 + 1];
	exp_party cdtr;
};

struct pain_ctx {
	ledger *lg;
	struct payment *v;
	long n, cap;
	lg_error *err;
};

/* --- checks on names ------------------------------------------------------- */

static int name_valid(const char *s)
{
	long n = exp_utf8_chars(s);

	if (n < 1 || n > PAIN_NAME_CHARS)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* --- the debtor --------------------------------------------------------- */

static int ini_debtor(void *user, const char *section, const char *key,
                      const char *value)
{
	exp_party *p = user;

	if (strcmp(section, "debtor") != 0)
		return 1;
	if (strcmp(key, "name") == 0)
		snprintf(p->name, sizeof p->name, "%s", value);
	else if (strcmp(key, "iban") == 0)
		snprintf(p->iban, sizeof p->iban, "%s", value);
	else if (strcmp(key, "bic") == 0)
		snprintf(p->bic, sizeof p->bic, "%s", value);
	else
		return 0;
	return 1;
}

int exp_party_load_ini(const char *path, exp_party *p, lg_error *err)
{
	FILE *fp = fopen(path, "r");
	int line;

	if (!fp)
		return lg_error_set(err, LG_ENOINPUT, "%s: cannot open", path);
	line = ini_parse_file(fp, ini_debtor, p);
	fclose(fp);
	if (line != 0)
		return lg_error_set(err, LG_EDATA, "%s:%d: not 'name', 'iban' or 'bic' "
		                    "in [debtor], or not INI", path, line);
	return LG_OK;
}

static int debtor_check(const exp_party *d, lg_error *err)
{
	if (!name_valid(d->name))
		return lg_error_set(err, LG_EUSAGE, "debtor: 'name' is missing or longer "
		                    "than %d characters (--debtor-name or [debtor] name)",
		                    PAIN_NAME_CHARS);
	if (!exp_iban_valid(d->iban))
		return lg_error_set(err, LG_EUSAGE, "debtor: 'iban' '%s' is missing or not "
		                    "a valid IBAN (--debtor-iban or [debtor] iban)", d->iban);
	if (!exp_bic_valid(d->bic))
		return lg_error_set(err, LG_EUSAGE, "debtor: 'bic' '%s' is missing or not a "
		                    "valid BIC (--debtor-bic or [debtor] bic)", d->bic);
	return LG_OK;
}

/* --- collecting payouts --------------------------------------------------- */

static int reversed(ledger *lg, const char *id, int *out, lg_error *err)
{
	sqlite3 *db = ledger_sqlite(lg);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM transactions t JOIN transactions r"
	                       " ON r.seq = t.ref_seq WHERE t.kind = 'reverse'"
	                       " AND r.id = ?1", -1, &st, NULL) != SQLITE_OK)
		return lg_error_set(err, LG_EIO, "reading reversals: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lg_error_set(err, LG_EIO, "reading reversals: %s", sqlite3_errmsg(db));
	*out = rc == SQLITE_ROW;
	return LG_OK;
}

/* The creditor from the payable account's meta; every missing or malformed
 * detail is an error naming the merchant and the field. */
static int creditor_load(ledger *lg, struct payment *p, const char *code,
                         lg_error *err)
{
	exp_account a;
	char v[EXP_META_VALUE_MAX];
	int rc = exp_account_get(lg, code, &a, err);

	if (rc)
		return rc;
	if (exp_meta_str(a.meta, "name", v, sizeof v) != 1 || !name_valid(v))
		return lg_error_set(err, LG_EDATA, "merchant '%s': 'name' in the meta of %s "
		                    "is missing or not 1..%d characters", p->merchant, code,
		                    PAIN_NAME_CHARS);
	exp_copy(p->cdtr.name, sizeof p->cdtr.name, v);
	if (exp_meta_str(a.meta, "iban", v, sizeof v) != 1 || !exp_iban_valid(v))
		return lg_error_set(err, LG_EDATA, "merchant '%s': 'iban' in the meta of %s "
		                    "is missing or not a valid IBAN", p->merchant, code);
	exp_copy(p->cdtr.iban, sizeof p->cdtr.iban, v);
	if (exp_meta_str(a.meta, "bic", v, sizeof v) != 1 || !exp_bic_valid(v))
		return lg_error_set(err, LG_EDATA, "merchant '%s': 'bic' in the meta of %s "
		                    "is missing or not a valid BIC", p->merchant, code);
	exp_copy(p->cdtr.bic, sizeof p->cdtr.bic, v);
	return LG_OK;
}

static struct payment *payment_new(struct pain_ctx *c)
{
	if (c->n == PAIN_PAYMENTS_MAX) {
		lg_error_set(c->err, LG_EDATA, "more than %ld payouts in one file: export "
		             "a shorter period", PAIN_PAYMENTS_MAX);
		return NULL;
	}
	if (c->n == c->cap) {
		long ncap = c->cap ? c->cap * 2 : 16;
		struct payment *v = realloc(c->v, (size_t)ncap * sizeof *v);
		if (!v) {
			lg_error_set(c->err, LG_EINTERNAL, "out of memory");
			return NULL;
		}
		c->v = v;
		c->cap = ncap;
	}
	memset(&c->v[c->n], 0, sizeof c->v[c->n]);
	return &c->v[c->n];
}

static int payout_tx(void *ctx, const ledger_tx_row *tx)
{
	struct pain_ctx *c = ctx;
	char type[64] = "", code[LG_CODE_MAX + 64];
	struct payment *p;
	int is_rev = 0, found = 0, rc;

	if (strcmp(tx->kind, "posted") != 0 && strcmp(tx->kind, "commit") != 0)
		return 0;
	if (exp_meta_str(tx->meta, "type", type, sizeof type) != 1 ||
	    strcmp(type, "payout") != 0)
		return 0;
	rc = reversed(c->lg, tx->id, &is_rev, c->err);
	if (rc || is_rev)
		return rc;
	p = payment_new(c);
	if (!p)
		return c->err->code;
	if (exp_meta_str(tx->meta, "merchant", p->merchant, sizeof p->merchant) != 1 ||
	    !p->merchant[0])
		return lg_error_set(c->err, LG_EDATA, "payout '%s': meta has no 'merchant'",
		                    tx->id);
	if (exp_meta_str(tx->meta, "payout_id", p->payout_id, sizeof p->payout_id) != 1 ||
	    exp_utf8_chars(p->payout_id) < 1 || exp_utf8_chars(p->payout_id) > PAIN_REF_CHARS)
		return lg_error_set(c->err, LG_EDATA, "merchant '%s': payout '%s': "
		                    "'payout_id' is missing or not 1..%d characters",
		                    p->merchant, tx->id, PAIN_REF_CHARS);
	snprintf(code, sizeof code, "liabilities:merchants:%s:payable", p->merchant);
	for (int i = 0; i < tx->postings_n; i++) {
		const ledger_posting_row *q = &tx->postings[i];
		if (strcmp(q->account, code) != 0 || q->amount_minor <= 0)
			continue;
		if (amount_add(p->amount_minor, q->amount_minor, &p->amount_minor))
			return lg_error_set(c->err, LG_EDATA, "payout '%s' overflows", tx->id);
		snprintf(p->asset, sizeof p->asset, "%s", q->asset);
		p->scale = q->scale;
		found = 1;
	}
	if (!found)
		return lg_error_set(c->err, LG_EDATA, "merchant '%s': payout '%s' debits "
		                    "nothing to %s", p->merchant, tx->id, code);
	if (!exp_iso_ccy(p->asset))
		return lg_error_set(c->err, LG_EDATA, "merchant '%s': payout '%s' is in %s, "
		                    "not an ISO 4217 currency", p->merchant, tx->id, p->asset);
	snprintf(p->date, sizeof p->date, "%s", tx->date);
	exp_utf8_clip(tx->memo && tx->memo[0] ? tx->memo : p->payout_id, PAIN_NAME_CHARS,
	              p->memo, sizeof p->memo);
	p->seq = tx->seq;
	rc = creditor_load(c->lg, p, code, c->err);
	if (rc)
		return rc;
	c->n++;
	return 0;
}

static int payment_cmp(const void *pa, const void *pb)
{
	const struct payment *a = pa, *b = pb;
	int d = strcmp(a->date, b->date);

	if (!d)
		d = strcmp(a->asset, b->asset);
	if (!d)
		d = (a->seq > b->seq) - (a->seq < b->seq);
	return d;
}

/* --- writing -------------------------------------------------------------- */

/* Adds v (at `scale`) to *sum (at *sum_scale), widening the sum's scale if
 * needed so that currencies of different exponents add exactly. */
static int sum_add(amount_minor_t *sum, int *sum_scale, amount_minor_t v, int scale)
{
	while (*sum_scale < scale) {
		if (__builtin_mul_overflow(*sum, 10, sum))
			return -1;
		(*sum_scale)++;
	}
	for (int s = scale; s < *sum_scale; s++)
		if (__builtin_mul_overflow(v, 10, &v))
			return -1;
	return amount_add(*sum, v, sum);
}

static int write_ctrl(exp_xml *x, const struct payment *v, long n, lg_error *err)
{
	amount_minor_t sum = 0;
	int scale = 0, rc;
	char buf[AMOUNT_TEXT_MAX], nb[32];

	for (long i = 0; i < n; i++)
		if (sum_add(&sum, &scale, v[i].amount_minor, v[i].scale))
			return lg_error_set(err, LG_EDATA, "the control sum overflows");
	snprintf(nb, sizeof nb, "%ld", n);
	exp_xml_leaf(x, "NbOfTxs", NULL, NULL, nb);
	rc = exp_amount_iso(sum, scale, ISO_DECIMAL_FRAC, ISO_AMOUNT_DIGITS, buf,
	                    sizeof buf, err);
	if (rc == LG_OK)
		exp_xml_leaf(x, "CtrlSum", NULL, NULL, buf);
	return rc;
}

static void write_party_acct(exp_xml *x, const char *party, const char *acct,
                             const char *agent, const exp_party *p)
{
	exp_xml_open(x, party, NULL, NULL);
	exp_xml_leaf(x, "Nm", NULL, NULL, p->name);
	exp_xml_close(x);
	exp_xml_open(x, acct, NULL, NULL);
	exp_xml_open(x, "Id", NULL, NULL);
	exp_xml_leaf(x, "IBAN", NULL, NULL, p->iban);
	exp_xml_close(x);
	exp_xml_close(x);
	if (agent) {
		exp_xml_open(x, agent, NULL, NULL);
		exp_xml_open(x, "FinInstnId", NULL, NULL);
		exp_xml_leaf(x, "BICFI", NULL, NULL, p->bic);
		exp_xml_close(x);
		exp_xml_close(x);
	}
}

static int write_payment(exp_xml *x, const struct payment *p, lg_error *err)
{
	char buf[AMOUNT_TEXT_MAX];
	int rc;

	exp_xml_open(x, "CdtTrfTxInf", NULL, NULL);
	exp_xml_open(x, "PmtId", NULL, NULL);
	exp_xml_leaf(x, "InstrId", NULL, NULL, p->payout_id);
	exp_xml_leaf(x, "EndToEndId", NULL, NULL, p->payout_id);
	exp_xml_close(x);
	exp_xml_open(x, "Amt", NULL, NULL);
	rc = exp_amount_iso(p->amount_minor, p->scale, ISO_AMOUNT_FRAC, ISO_AMOUNT_DIGITS,
	                    buf, sizeof buf, err);
	exp_xml_leaf(x, "InstdAmt", "Ccy", p->asset, buf);
	exp_xml_close(x);
	/* pain.001 v10 order: CdtrAgt, Cdtr, CdtrAcct. */
	exp_xml_open(x, "CdtrAgt", NULL, NULL);
	exp_xml_open(x, "FinInstnId", NULL, NULL);
	exp_xml_leaf(x, "BICFI", NULL, NULL, p->cdtr.bic);
	exp_xml_close(x);
	exp_xml_close(x);
	write_party_acct(x, "Cdtr", "CdtrAcct", NULL, &p->cdtr);
	exp_xml_open(x, "RmtInf", NULL, NULL);
	exp_xml_leaf(x, "Ustrd", NULL, NULL, p->memo);
	exp_xml_close(x);
	exp_xml_close(x);
	return rc;
}

/* One PmtInf per execution date and currency: v[0..n) share both. */
static int write_group(exp_xml *x, const exp_pain001_opts *o, const char *msg_hex,
                       const struct payment *v, long n, lg_error *err)
{
	char id[64];
	int rc;

	snprintf(id, sizeof id, "PI-%.4s%.2s%.2s-%s-%.8s", v[0].date, v[0].date + 5,
	         v[0].date + 8, v[0].asset, msg_hex);
	exp_xml_open(x, "PmtInf", NULL, NULL);
	exp_xml_leaf(x, "PmtInfId", NULL, NULL, id);
	exp_xml_leaf(x, "PmtMtd", NULL, NULL, "TRF");
	exp_xml_leaf(x, "BtchBookg", NULL, NULL, "false");
	rc = write_ctrl(x, v, n, err);
	/* pain.001 v09+: ReqdExctnDt is a choice of Dt and DtTm. */
	exp_xml_open(x, "ReqdExctnDt", NULL, NULL);
	exp_xml_leaf(x, "Dt", NULL, NULL, v[0].date);
	exp_xml_close(x);
	write_party_acct(x, "Dbtr", "DbtrAcct", "DbtrAgt", o->debtor);
	for (long i = 0; i < n && !rc; i++)
		rc = write_payment(x, &v[i], err);
	exp_xml_close(x);
	return rc;
}

static int write_document(exp_xml *x, const exp_pain001_opts *o, const char *msg_id,
                          struct pain_ctx *c, lg_error *err)
{
	char hex[LG_HASH_HEX];
	int rc;

	EXP_ASSERT(exp_sha256_hex(msg_id, strlen(msg_id), hex) == 0);
	exp_xml_open(x, "Document", "xmlns", PAIN_NS);
	exp_xml_open(x, "CstmrCdtTrfInitn", NULL, NULL);
	exp_xml_open(x, "GrpHdr", NULL, NULL);
	exp_xml_leaf(x, "MsgId", NULL, NULL, msg_id);
	exp_xml_leaf(x, "CreDtTm", NULL, NULL, o->created_at);
	rc = write_ctrl(x, c->v, c->n, err);
	exp_xml_open(x, "InitgPty", NULL, NULL);
	exp_xml_leaf(x, "Nm", NULL, NULL, o->debtor->name);
	exp_xml_close(x);
	exp_xml_close(x);
	for (long i = 0, j; i < c->n && !rc; i = j) {
		for (j = i + 1; j < c->n && strcmp(c->v[j].date, c->v[i].date) == 0 &&
		                strcmp(c->v[j].asset, c->v[i].asset) == 0; j++)
			;
		rc = write_group(x, o, hex, &c->v[i], j - i, err);
	}
	exp_xml_close(x);
	exp_xml_close(x);
	return rc;
}

static int duplicate_ids(const struct pain_ctx *c, lg_error *err)
{
	for (long i = 0; i < c->n; i++)
		for (long j = i + 1; j < c->n; j++)
			if (strcmp(c->v[i].payout_id, c->v[j].payout_id) == 0)
				return lg_error_set(err, LG_EDATA, "merchant '%s': payout_id '%s' "
				                    "is used twice (EndToEndId must be unique)",
				                    c->v[j].merchant, c->v[j].payout_id);
	return LG_OK;
}

int exp_pain001_write(ledger *lg, const exp_pain001_opts *o, FILE *out,
                      long *payments_out, lg_error *err)
{
	struct pain_ctx c;
	char msg_id[64];
	exp_xml x;
	int rc;

	*payments_out = 0;
	memset(&c, 0, sizeof c);
	if (!ledger_date_valid(o->from) || !ledger_date_valid(o->to) ||
	    strcmp(o->from, o->to) > 0)
		return lg_error_set(err, LG_EUSAGE, "--date, or --from and --to, must be "
		                    "dates YYYY-MM-DD, from not after to");
	if (o->msg_id && (exp_utf8_chars(o->msg_id) < 1 ||
	                  exp_utf8_chars(o->msg_id) > PAIN_REF_CHARS))
		return lg_error_set(err, LG_EUSAGE, "--msg-id must be 1..%d characters",
		                    PAIN_REF_CHARS);
	rc = debtor_check(o->debtor, err);
	if (rc)
		return rc;
	if (o->msg_id)
		snprintf(msg_id, sizeof msg_id, "%s", o->msg_id);
	else
		snprintf(msg_id, sizeof msg_id, "CBP-%.4s%.2s%.2s-%.4s%.2s%.2s", o->from,
		         o->from + 5, o->from + 8, o->to, o->to + 5, o->to + 8);
	c.lg = lg;
	c.err = err;
	rc = ledger_journal(lg, o->from, o->to, NULL, payout_tx, &c, err);
	if (!rc && c.n == 0)
		rc = lg_error_set(err, LG_ENOINPUT, "no payouts dated %s to %s", o->from,
		                  o->to);
	if (!rc)
		rc = duplicate_ids(&c, err);
	if (rc)
		goto out;
	qsort(c.v, (size_t)c.n, sizeof *c.v, payment_cmp);
	exp_xml_init(&x, out);
	rc = write_document(&x, o, msg_id, &c, err);
	EXP_ASSERT(rc || x.depth == 0);
	if (!rc && x.bad)
		rc = lg_error_set(err, LG_EDATA, "a name or memo holds control characters "
		                  "that XML cannot carry");
	*payments_out = rc ? 0 : c.n;
out:
	free(c.v);
	return rc;
}
