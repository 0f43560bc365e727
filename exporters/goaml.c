/*
 * goaml.c - suspicious (STR) and large-value (CTR) transaction reports from
 * the stored AML alerts in the UNODC goAML XML layout that financial
 * intelligence units take.
 *
 * No official goAML XSD is at hand: element names and their order follow
 * the goAML 4.0 schema as far as the reference (reports.md, "Regulator
 * formats") gives it, and docs/exporters.md says which parts are filled.
 * A transaction's money goes from its first debit posting to its first
 * credit posting; customer wallets are our clients (t_from_my_client,
 * t_to_my_client), any other account is ours (t_from, t_to).
 */
#include "exporters_int.h"

#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/aml.h"

#define GOAML_ALERTS_MAX 10000L     /* alerts in one report */
#define GOAML_TX_MAX 100000L        /* evidence transactions in one report */
#define GOAML_REASON_MAX 4000       /* characters of <reason> (goAML: 4000) */
#define GOAML_TEXT_MAX 1024         /* bytes of one copied text field */
#define GOAML_WALLETS "liabilities:wallets:"

struct galert {
	long long id;
	char rule[64], subject[LG_CODE_MAX + 1], asset[LG_ASSET_CODE_MAX + 1];
	char day[11], amount[AMOUNT_TEXT_MAX];
	char detail[GOAML_TEXT_MAX], reason[GOAML_TEXT_MAX];
};

struct gtx {
	char id[LG_CODE_MAX + 1];       /* the evidence id; found when seq > 0 */
	long long seq;
	char date[11];
	char memo[GOAML_TEXT_MAX];
	char from[LG_CODE_MAX + 1], to[LG_CODE_MAX + 1];
	char asset[LG_ASSET_CODE_MAX + 1];
	int scale;
	amount_minor_t amount_minor;
};

struct exp_goaml_alerts {
	const exp_goaml_opts *o;
	const char *rule;               /* "large-value" for CTR, else NULL */
	struct galert *a;
	long a_n, a_cap;
	struct gtx *t;
	long t_n, t_cap;
	lg_error *err;
};

/* --- the reporting entity ------------------------------------------------- */

static int ini_entity(void *user, const char *section, const char *key,
                      const char *value)
{
	exp_goaml_entity *e = user;
	struct { const char *k; char *v; } f[] = {
		{ "id", e->id }, { "name", e->name }, { "first_name", e->first_name },
		{ "last_name", e->last_name }, { "email", e->email },
		{ "country", e->country }, { "swift", e->swift },
		{ "currency", e->currency }, { "location", e->location },
		{ "transmode_code", e->transmode_code }, { "funds_code", e->funds_code } };

	if (strcmp(section, "entity") != 0)
		return 1;
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (strcmp(key, f[i].k) == 0) {
			snprintf(f[i].v, EXP_GOAML_FIELD_MAX, "%s", value);
			return 1;
		}
	return 0;
}

int exp_goaml_entity_load(const char *path, exp_goaml_entity *e, lg_error *err)
{
	FILE *fp = fopen(path, "r");
	const char *req[] = { "id", "name", "first_name", "last_name", "email",
	                      "country" };
	const char *val[] = { e->id, e->name, e->first_name, e->last_name, e->email,
	                      e->country };
	int line;

	if (!fp)
		return lg_error_set(err, LG_ENOINPUT, "%s: cannot open", path);
	line = ini_parse_file(fp, ini_entity, e);
	fclose(fp);
	if (line != 0)
		return lg_error_set(err, LG_EDATA, "%s:%d: unknown key in [entity], or "
		                    "not INI", path, line);
	for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
		if (!val[i][0] || exp_utf8_chars(val[i]) < 1)
			return lg_error_set(err, LG_EUSAGE, "%s: [entity] '%s' is missing "
			                    "(goAML reporting entity)", path, req[i]);
	return LG_OK;
}

/* --- collecting alerts and their evidence ----------------------------------- */

static void *grow(void *v, long *cap, long n, size_t size, long max, lg_error *err,
                  const char *what)
{
	void *nv;
	long ncap;

	if (n < *cap)
		return v;
	if (n >= max) {
		lg_error_set(err, LG_EDATA, "more than %ld %s in one goAML report: "
		             "export a shorter period", max, what);
		return NULL;
	}
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > max)
		ncap = max;
	nv = realloc(v, (size_t)ncap * size);
	if (!nv) {
		lg_error_set(err, LG_EINTERNAL, "out of memory");
		return NULL;
	}
	*cap = ncap;
	return nv;
}

/* Adds evidence id `id` (len bytes) once. */
static int tx_want(struct exp_goaml_alerts *c, const char *id, size_t len)
{
	struct gtx *t;

	if (len == 0 || len > LG_CODE_MAX)
		return lg_error_set(c->err, LG_EDATA, "an alert's evidence id is empty "
		                    "or too long");
	for (long i = 0; i < c->t_n; i++)
		if (strlen(c->t[i].id) == len && memcmp(c->t[i].id, id, len) == 0)
			return LG_OK;
	t = grow(c->t, &c->t_cap, c->t_n, sizeof *t, GOAML_TX_MAX, c->err,
	         "transactions");
	if (!t)
		return c->err->code;
	c->t = t;
	memset(&t[c->t_n], 0, sizeof *t);
	memcpy(t[c->t_n].id, id, len);
	c->t_n++;
	return LG_OK;
}

static int alert_row(void *ctx, const rpt_aml_alert_row *r)
{
	struct exp_goaml_alerts *c = ctx;
	struct galert *a;
	const char *p, *q;
	int rc;

	if ((c->o->from && strcmp(r->day, c->o->from) < 0) ||
	    (c->o->to && strcmp(r->day, c->o->to) > 0) ||
	    (c->rule && strcmp(r->rule, c->rule) != 0))
		return 0;
	a = grow(c->a, &c->a_cap, c->a_n, sizeof *a, GOAML_ALERTS_MAX, c->err, "alerts");
	if (!a)
		return c->err->code;
	c->a = a;
	a = &c->a[c->a_n++];
	memset(a, 0, sizeof *a);
	a->id = r->id;
	exp_copy(a->rule, sizeof a->rule, r->rule);
	exp_copy(a->subject, sizeof a->subject, r->subject);
	exp_copy(a->asset, sizeof a->asset, r->asset);
	exp_copy(a->day, sizeof a->day, r->day);
	exp_copy(a->amount, sizeof a->amount, r->amount);
	exp_utf8_clip(r->detail ? r->detail : "", 250, a->detail, sizeof a->detail);
	exp_utf8_clip(r->reason ? r->reason : "", 250, a->reason, sizeof a->reason);
	for (p = r->evidence ? r->evidence : ""; *p; p = *q ? q + 1 : q) {
		q = strchr(p, ',');
		if (!q)
			q = p + strlen(p);
		rc = tx_want(c, p, (size_t)(q - p));
		if (rc)
			return rc;
	}
	return 0;
}

/* Fills the evidence transactions from the journal: the first debit is
 * where the money comes from, the first credit where it goes. */
static int journal_row(void *ctx, const ledger_tx_row *tx)
{
	struct exp_goaml_alerts *c = ctx;
	struct gtx *t = NULL;

	for (long i = 0; i < c->t_n && !t; i++)
		if (strcmp(c->t[i].id, tx->id) == 0 && c->t[i].seq == 0)
			t = &c->t[i];
	if (!t)
		return 0;
	t->seq = tx->seq;
	exp_copy(t->date, sizeof t->date, tx->date);
	exp_utf8_clip(tx->memo && tx->memo[0] ? tx->memo : tx->id, 250, t->memo,
	              sizeof t->memo);
	for (int i = 0; i < tx->postings_n; i++) {
		const ledger_posting_row *q = &tx->postings[i];
		if (q->amount_minor > 0) {
			if (!t->from[0])
				exp_copy(t->from, sizeof t->from, q->account);
			if (t->asset[0] && strcmp(t->asset, q->asset) != 0)
				return lg_error_set(c->err, LG_EDATA, "transaction '%s' moves "
				                    "more than one asset; goAML amount_local needs "
				                    "one", tx->id);
			exp_copy(t->asset, sizeof t->asset, q->asset);
			t->scale = q->scale;
			if (amount_add(t->amount_minor, q->amount_minor, &t->amount_minor))
				return lg_error_set(c->err, LG_EDATA, "transaction '%s' overflows",
				                    tx->id);
		} else if (q->amount_minor < 0 && !t->to[0]) {
			exp_copy(t->to, sizeof t->to, q->account);
		}
	}
	return 0;
}

static int gtx_cmp(const void *pa, const void *pb)
{
	const struct gtx *a = pa, *b = pb;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* --- writing -------------------------------------------------------------- */

/* "YYYY-MM-DDTHH:MM:SSZ" or a date into goAML's xs:dateTime without zone. */
static void goaml_datetime(const char *t, char out[EXP_TS_MAX])
{
	if (strlen(t) == 10)
		snprintf(out, EXP_TS_MAX, "%sT00:00:00", t);
	else
		snprintf(out, EXP_TS_MAX, "%.19s", t);
}

static void write_reason(exp_xml *x, const struct exp_goaml_alerts *c)
{
	char buf[GOAML_REASON_MAX * 4 + 1], clip[GOAML_REASON_MAX * 4 + 1];
	size_t o = 0;

	buf[0] = '\0';
	for (long i = 0; i < c->a_n && o < sizeof buf; i++) {
		const struct galert *a = &c->a[i];
		int n = snprintf(buf + o, sizeof buf - o, "%salert %lld %s: %s %s %s on %s: "
		                 "%s%s%s", i ? "; " : "", a->id, a->rule, a->subject,
		                 a->asset, a->amount, a->day, a->detail,
		                 a->reason[0] ? "; status reason: " : "", a->reason);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	/* goAML 4.0: reason is a string of at most 4000 characters. */
	exp_utf8_clip(buf, GOAML_REASON_MAX, clip, sizeof clip);
	exp_xml_leaf(x, "reason", NULL, NULL, clip);
}

/* from_account / to_account: goAML 4.0 t_account order institution_name,
 * institution_code | swift, branch, account, currency_code, account_name. */
static int write_account(exp_xml *x, ledger *lg, const char *el, const char *code,
                         const char *asset, const exp_goaml_entity *e,
                         lg_error *err)
{
	exp_account acc;
	char name[EXP_META_VALUE_MAX];
	int rc = exp_account_get(lg, code, &acc, err);

	if (rc)
		return rc;
	if (exp_meta_str(acc.meta, "name", name, sizeof name) != 1 || !name[0])
		exp_copy(name, sizeof name, strncmp(code, GOAML_WALLETS,
		         strlen(GOAML_WALLETS)) == 0 ? code + strlen(GOAML_WALLETS) : code);
	exp_xml_open(x, el, NULL, NULL);
	exp_xml_leaf(x, "institution_name", NULL, NULL, e->name);
	if (e->swift[0])
		exp_xml_leaf(x, "swift", NULL, NULL, e->swift);
	else
		exp_xml_leaf(x, "institution_code", NULL, NULL, e->id);
	exp_xml_leaf(x, "account", NULL, NULL, code);
	exp_xml_leaf(x, "currency_code", NULL, NULL, asset);
	exp_xml_leaf(x, "account_name", NULL, NULL, name);
	exp_xml_close(x);
	return LG_OK;
}

/* t_from_my_client / t_from (dir "from") or t_to_my_client / t_to ("to"). */
static int write_side(exp_xml *x, ledger *lg, const char *dir, const char *code,
                      const char *asset, const exp_goaml_entity *e, lg_error *err)
{
	int client = strncmp(code, GOAML_WALLETS, strlen(GOAML_WALLETS)) == 0;
	char el[32], funds[32], acct[32], country[32];
	int rc;

	snprintf(el, sizeof el, "t_%s%s", dir, client ? "_my_client" : "");
	snprintf(funds, sizeof funds, "%s_funds_code", dir);
	snprintf(acct, sizeof acct, "%s_account", dir);
	snprintf(country, sizeof country, "%s_country", dir);
	exp_xml_open(x, el, NULL, NULL);
	exp_xml_leaf(x, funds, NULL, NULL, e->funds_code[0] ? e->funds_code : "OTHER");
	rc = write_account(x, lg, acct, code, asset, e, err);
	exp_xml_leaf(x, country, NULL, NULL, e->country);
	exp_xml_close(x);
	return rc;
}

static int write_tx(exp_xml *x, ledger *lg, const struct gtx *t,
                    const exp_goaml_entity *e, lg_error *err)
{
	char buf[AMOUNT_TEXT_MAX], seq[32], dt[EXP_TS_MAX];
	int rc;

	EXP_ASSERT(t->seq > 0 && t->amount_minor > 0);
	amount_format(t->amount_minor, t->scale, buf, sizeof buf);
	snprintf(seq, sizeof seq, "%lld", t->seq);
	goaml_datetime(t->date, dt);
	exp_xml_open(x, "transaction", NULL, NULL);
	exp_xml_leaf(x, "transactionnumber", NULL, NULL, t->id);
	exp_xml_leaf(x, "internal_ref_number", NULL, NULL, seq);
	if (e->location[0])
		exp_xml_leaf(x, "transaction_location", NULL, NULL, e->location);
	exp_xml_leaf(x, "transaction_description", NULL, NULL, t->memo);
	exp_xml_leaf(x, "date_transaction", NULL, NULL, dt);
	exp_xml_leaf(x, "value_date", NULL, NULL, dt);
	exp_xml_leaf(x, "transmode_code", NULL, NULL,
	             e->transmode_code[0] ? e->transmode_code : "ELECTRONIC");
	exp_xml_leaf(x, "amount_local", NULL, NULL, buf);
	rc = write_side(x, lg, "from", t->from, t->asset, e, err);
	if (!rc)
		rc = write_side(x, lg, "to", t->to, t->asset, e, err);
	exp_xml_close(x);
	return rc;
}

static int write_report(exp_xml *x, ledger *lg, const struct exp_goaml_alerts *c,
                        const char *code, const char *ccy, lg_error *err)
{
	const exp_goaml_entity *e = c->o->entity;
	char ref[128], dt[EXP_TS_MAX];
	int rc = LG_OK;

	snprintf(ref, sizeof ref, "CB-%s-%lld-%lld", code, c->a[0].id,
	         c->a[c->a_n - 1].id);
	goaml_datetime(c->o->created_at, dt);
	exp_xml_open(x, "report", NULL, NULL);
	exp_xml_leaf(x, "rentity_id", NULL, NULL, e->id);
	exp_xml_leaf(x, "submission_code", NULL, NULL, "E");
	exp_xml_leaf(x, "report_code", NULL, NULL, code);
	exp_xml_leaf(x, "entity_reference", NULL, NULL, ref);
	exp_xml_leaf(x, "submission_date", NULL, NULL, dt);
	exp_xml_leaf(x, "currency_code_local", NULL, NULL, ccy);
	exp_xml_open(x, "reporting_person", NULL, NULL);
	exp_xml_leaf(x, "first_name", NULL, NULL, e->first_name);
	exp_xml_leaf(x, "last_name", NULL, NULL, e->last_name);
	exp_xml_leaf(x, "email", NULL, NULL, e->email);
	exp_xml_close(x);
	write_reason(x, c);
	for (long i = 0; i < c->t_n && !rc; i++)
		rc = write_tx(x, lg, &c->t[i], e, err);
	exp_xml_close(x);
	return rc;
}

/* The local currency: configured, else the one asset of the alerts; every
 * evidence transaction must be in it (goAML amount_local). */
static int local_ccy(const struct exp_goaml_alerts *c, char *ccy, size_t cap, lg_error *err)
{
	exp_copy(ccy, cap, c->o->entity->currency[0] ? c->o->entity->currency
	                                              : c->a[0].asset);
	if (!exp_iso_ccy(ccy))
		return lg_error_set(err, LG_EDATA, "local currency '%s' is not an ISO 4217 "
		                    "code ([entity] currency)", ccy);
	for (long i = 0; i < c->t_n; i++) {
		if (c->t[i].seq == 0)
			return lg_error_set(err, LG_EDATA, "evidence transaction '%s' is not "
			                    "in the journal", c->t[i].id);
		if (strcmp(c->t[i].asset, ccy) != 0 || !c->t[i].from[0] || !c->t[i].to[0])
			return lg_error_set(err, LG_EDATA, "evidence transaction '%s' is in "
			                    "'%s', not the local currency %s, or has no debit "
			                    "and credit", c->t[i].id, c->t[i].asset, ccy);
	}
	return LG_OK;
}

int exp_goaml_alerts_load(ledger *lg, const exp_goaml_opts *o,
                          exp_goaml_alerts **out, lg_error *err)
{
	const char *status = o->status ? o->status : "escalated";
	const char *code = o->report_code ? o->report_code : "STR";
	exp_goaml_alerts *c;
	int rc;

	*out = NULL;
	if (strcmp(status, "escalated") != 0 && strcmp(status, "open") != 0)
		return lg_error_set(err, LG_EUSAGE, "--status must be open or escalated");
	if (strcmp(code, "STR") != 0 && strcmp(code, "CTR") != 0)
		return lg_error_set(err, LG_EUSAGE, "--report-code must be STR or CTR");
	c = calloc(1, sizeof *c);
	if (!c)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	c->o = o;
	c->err = err;
	if (strcmp(code, "CTR") == 0)
		c->rule = "large-value";
	rc = rpt_aml_alerts(lg, status, alert_row, c, err);
	if (!rc && c->a_n == 0)
		rc = lg_error_set(err, LG_ENOINPUT, "no %s AML alerts%s dated %s to %s",
		                  status, c->rule ? " of rule large-value" : "",
		                  o->from ? o->from : "the start", o->to ? o->to : "now");
	if (rc) {
		exp_goaml_alerts_free(c);
		return rc;
	}
	c->o = NULL;
	c->err = NULL;
	*out = c;
	return LG_OK;
}

void exp_goaml_alerts_free(exp_goaml_alerts *a)
{
	if (!a)
		return;
	free(a->a);
	free(a->t);
	free(a);
}

int exp_goaml_write(ledger *lg, const exp_goaml_opts *o, FILE *out, lg_error *err)
{
	const char *code = o->report_code ? o->report_code : "STR";
	exp_goaml_alerts *c = o->alerts;
	char ccy[EXP_GOAML_FIELD_MAX];
	exp_xml x;
	int rc;

	EXP_ASSERT(c && c->a_n > 0 && o->entity && o->created_at);
	c->o = o;
	c->err = err;
	for (long i = 0; i < c->t_n; i++) {
		char id[LG_CODE_MAX + 1];
		exp_copy(id, sizeof id, c->t[i].id);
		memset(&c->t[i], 0, sizeof c->t[i]);
		exp_copy(c->t[i].id, sizeof c->t[i].id, id);
	}
	rc = ledger_journal(lg, NULL, NULL, NULL, journal_row, c, err);
	if (!rc)
		rc = local_ccy(c, ccy, sizeof ccy, err);
	if (rc)
		return rc;
	qsort(c->t, (size_t)c->t_n, sizeof *c->t, gtx_cmp);
	exp_xml_init(&x, out);
	rc = write_report(&x, lg, c, code, ccy, err);
	EXP_ASSERT(rc || x.depth == 0);
	if (!rc && x.bad)
		rc = lg_error_set(err, LG_EDATA, "a name or memo holds control characters "
		                  "that XML cannot carry");
	return rc;
}
