/*
 * risk.c - the two risk reports of `clearbook report`: AML alerts (what
 * `clearbook aml scan` stored) and chargebacks (the staged dispute report),
 * as documents like the books, so they get text, CSV, JSON and HTML with
 * charts, --detail and --out the same way.
 *
 * Both are read-only: the AML report reads the alert tables and never
 * scans (a scan writes alerts); the chargeback report reads the staged
 * dispute lines and the journal through reports/chargebacks.h.
 */
#include "reports_int.h"

#include <stdlib.h>
#include <string.h>

#include "chargebacks.h"

#define RULES_MAX 32       /* distinct AML rules in one report */
#define MERCHANT_BARS_MAX 64 /* merchants drawn in the ratio chart */

/* --- AML ------------------------------------------------------------------ */

struct rule_sum {
	char rule[48];
	long open, escalated, dismissed;
	int score_max;
};

static int rule_count(struct rule_sum *r, size_t *n, const char *rule,
                      const char *status, int score, lg_error *err)
{
	size_t i = 0;

	while (i < *n && strcmp(r[i].rule, rule) != 0)
		i++;
	if (i == *n) {
		if (*n == RULES_MAX)
			return lg_error_set(err, LG_EDATA, "more than %d AML rules", RULES_MAX);
		memset(&r[i], 0, sizeof r[i]);
		snprintf(r[i].rule, sizeof r[i].rule, "%s", rule);
		(*n)++;
	}
	if (strcmp(status, "escalated") == 0)
		r[i].escalated++;
	else if (strcmp(status, "dismissed") == 0)
		r[i].dismissed++;
	else
		r[i].open++;
	if (score > r[i].score_max)
		r[i].score_max = score;
	return LG_OK;
}

/* The postings of one evidence transaction, `len` bytes of `id`. */
static int aml_evidence_tx(ledger *lg, sqlite3_stmt *st, rpt_table *t,
                           const char *alert_id, const char *id, size_t len,
                           lg_error *err)
{
	int step = SQLITE_DONE, rc = LG_OK;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, (int)len, SQLITE_TRANSIENT);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		char dr[AMOUNT_TEXT_MAX] = "", cr[AMOUNT_TEXT_MAX] = "";
		amount_minor_t v;
		rc = rpt_col_amount(st, 5, &v, err);
		if (rc)
			return rc;
		if (v >= 0)
			rpt_amt(v, sqlite3_column_int(st, 4), dr);
		else
			rpt_amt(-v, sqlite3_column_int(st, 4), cr);
		const char *row[] = { alert_id, (const char *)sqlite3_column_text(st, 0),
			              (const char *)sqlite3_column_text(st, 1),
			              (const char *)sqlite3_column_text(st, 2),
			              (const char *)sqlite3_column_text(st, 3), dr, cr };
		rc = rpt_table_add(t, row, err);
	}
	if (!rc && step != SQLITE_DONE)
		rc = rpt_sql_error(lg, err, "reading an alert's evidence");
	return rc;
}

#define REFUSAL_PREFIX "refusal:"

/* One front risk refusal named as evidence ("refusal:ID", the risk-refusals
 * rule): a row with what was refused and why; nothing was posted, so
 * debit and credit stay empty. */
static int aml_evidence_refusal(ledger *lg, sqlite3_stmt **st, rpt_table *t,
                                const char *alert_id, const char *id, size_t len,
                                lg_error *err)
{
	char ref[64], what[256];
	long long rid;
	int step, rc = LG_OK;

	if (!*st) {
		rc = rpt_prepare(lg, "SELECT substr(at, 1, 10), merchant, COALESCE(order_id, ''),"
		                 " COALESCE(asset, ''), COALESCE(amount, ''), reason FROM"
		                 " front_risk_refusals WHERE id = ?1", st, err);
		if (rc)
			return rc;
	}
	snprintf(ref, sizeof ref, "%.*s", (int)len, id);
	rid = strtoll(ref + strlen(REFUSAL_PREFIX), NULL, 10);
	sqlite3_reset(*st);
	sqlite3_bind_int64(*st, 1, rid);
	step = sqlite3_step(*st);
	if (step == SQLITE_ROW) {
		snprintf(what, sizeof what, "refused by the front (%s): %s %s at merchant %s, "
		         "order %s; nothing posted", (const char *)sqlite3_column_text(*st, 5),
		         (const char *)sqlite3_column_text(*st, 4),
		         (const char *)sqlite3_column_text(*st, 3),
		         (const char *)sqlite3_column_text(*st, 1),
		         (const char *)sqlite3_column_text(*st, 2));
		const char *row[] = { alert_id, (const char *)sqlite3_column_text(*st, 0), ref,
			              what, (const char *)sqlite3_column_text(*st, 3), "", "" };
		rc = rpt_table_add(t, row, err);
	} else if (step != SQLITE_DONE) {
		rc = rpt_sql_error(lg, err, "reading an alert's evidence");
	}
	return rc;
}

/* The postings of each evidence transaction of one alert, in the order the
 * alert lists them (journal order); a front refusal as one row. */
static int aml_evidence(ledger *lg, rpt_table *t, const char *alert_id,
                        const char *evidence, lg_error *err)
{
	sqlite3_stmt *st, *ref = NULL;
	const char *p = evidence;
	int rc = rpt_prepare(lg, "SELECT t.date, t.id, a.code, a.asset, s.scale, p.amount"
	                     " FROM transactions t JOIN postings p ON p.tx_seq = t.seq"
	                     " JOIN accounts a ON a.id = p.account_id JOIN assets s ON"
	                     " s.code = a.asset WHERE t.id = ?1 ORDER BY p.idx", &st, err);

	if (rc)
		return rc;
	RPT_ASSERT(evidence != NULL);
	while (*p && !rc) {
		size_t len = strcspn(p, ",");
		if (len > strlen(REFUSAL_PREFIX) &&
		    strncmp(p, REFUSAL_PREFIX, strlen(REFUSAL_PREFIX)) == 0)
			rc = aml_evidence_refusal(lg, &ref, t, alert_id, p, len, err);
		else
			rc = aml_evidence_tx(lg, st, t, alert_id, p, len, err);
		p += len;
		if (*p == ',')
			p++;
	}
	sqlite3_finalize(ref);
	sqlite3_finalize(st);
	return rc;
}

static int aml_rule_table(rpt_doc *doc, const struct rule_sum *r, size_t n,
                          lg_error *err)
{
	static const char *const names[] = { "rule", "alerts", "open", "escalated",
		                                     "dismissed", "score_max" };
	static const unsigned flags[] = { 0, RPT_INTEGER, RPT_INTEGER, RPT_INTEGER,
		                              RPT_INTEGER, RPT_INTEGER };
	rpt_table *t = rpt_doc_add_table(doc, "rules", "Alerts by rule and status", 6,
	                                 names, flags);
	rpt_chart *c = NULL;
	int rc = LG_OK;

	if (n) {
		c = rpt_doc_add_chart(doc, "alerts_by_rule", "Alerts by rule", "", 0, n, err);
		if (!c)
			return err->code;
	}

	for (size_t i = 0; i < n && !rc; i++) {
		char b[5][24];
		long all = r[i].open + r[i].escalated + r[i].dismissed;
		snprintf(b[0], sizeof b[0], "%ld", all);
		snprintf(b[1], sizeof b[1], "%ld", r[i].open);
		snprintf(b[2], sizeof b[2], "%ld", r[i].escalated);
		snprintf(b[3], sizeof b[3], "%ld", r[i].dismissed);
		snprintf(b[4], sizeof b[4], "%d", r[i].score_max);
		const char *row[] = { r[i].rule, b[0], b[1], b[2], b[3], b[4] };
		rc = rpt_table_add(t, row, err);
		if (c && i < c->n) {
			snprintf(c->label[i], sizeof c->label[i], "%s", r[i].rule);
			c->value_minor[i] = all;
		}
	}
	return rc;
}

static int rule_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rule_sum *)a)->rule, ((const struct rule_sum *)b)->rule);
}

int rpt_aml_report(ledger *lg, const rpt_options *o, rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = { "id", "day", "rule", "subject", "asset",
		"amount", "score", "status", "reason", "detail", "evidence" };
	static const unsigned flags[] = { RPT_INTEGER, 0, 0, 0, 0, RPT_NUMERIC,
		RPT_INTEGER, 0, 0, 0, 0 };
	static const char *const enames[] = { "alert", "date", "transaction", "account",
		                                      "asset", "debit", "credit" };
	static const unsigned eflags[] = { RPT_INTEGER, 0, 0, 0, 0, RPT_NUMERIC,
		                               RPT_NUMERIC };
	struct rule_sum rules[RULES_MAX];
	size_t rules_n = 0;
	sqlite3_stmt *st = NULL;
	rpt_table *t, *ev = NULL;
	int exists = 0, rc;

	doc->title = "AML alerts";
	rc = rpt_table_exists(lg, "aml_alert_status", &exists, err);
	if (rc)
		return rc;
	if (!exists) {
		rc = aml_rule_table(doc, rules, 0, err);
		rpt_doc_add_table(doc, "alerts", "Alerts", 11, names, flags);
		rpt_doc_note(doc, "no AML scan has run on this ledger (clearbook aml scan)");
		return rc;
	}
	rc = rpt_prepare(lg, "SELECT a.id, a.day, a.rule, a.subject, a.asset, a.amount,"
	                 " a.score, COALESCE(s.status, 'open'), COALESCE(s.reason, ''),"
	                 " a.detail, a.evidence FROM aml_alerts a LEFT JOIN aml_alert_status s"
	                 " ON s.id = (SELECT max(x.id) FROM aml_alert_status x"
	                 " WHERE x.alert_id = a.id) WHERE a.day BETWEEN ?1 AND ?2"
	                 " ORDER BY a.id", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->to, -1, SQLITE_STATIC);
	t = rpt_doc_add_table(doc, "alerts", "Alerts", 11, names, flags);
	if (o->detail)
		ev = rpt_doc_add_table(doc, "evidence", "Evidence: the postings of each "
		                       "alert's transactions", 7, enames, eflags);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *row[11];
		for (int c = 0; c < 11; c++)
			row[c] = (const char *)sqlite3_column_text(st, c);
		rc = rule_count(rules, &rules_n, row[2], row[7], sqlite3_column_int(st, 6), err);
		if (!rc)
			rc = rpt_table_add(t, row, err);
		if (!rc && ev)
			rc = aml_evidence(lg, ev, row[0], row[10], err);
		if (rc)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = rpt_sql_error(lg, err, "reading AML alerts");
		goto out;
	}
	if (rules_n > 1)
		qsort(rules, rules_n, sizeof *rules, rule_cmp);
	rc = aml_rule_table(doc, rules, rules_n, err);
	if (!rc) {
		/* The summary reads first: move it before the alerts. */
		size_t k = doc->tables_n - 1;
		rpt_table sum = doc->table[k];
		memmove(&doc->table[1], &doc->table[0], k * sizeof doc->table[0]);
		doc->table[0] = sum;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* --- chargebacks ------------------------------------------------------- */

struct cb_build {
	rpt_doc *doc;
	const rpt_cb_config *cfg;
	rpt_table *stages, *reasons, *merchants, *deadlines, *lines;
	/* merchant ratio bars, filled while rows arrive */
	size_t bars;
	char label[MERCHANT_BARS_MAX][RPT_LABEL_MAX];
	amount_minor_t ratio[MERCHANT_BARS_MAX], limit[MERCHANT_BARS_MAX];
	size_t stage_n;
	char stage_label[16][RPT_LABEL_MAX];
	amount_minor_t stage_count[16];
	lg_error *err;
};

static long scheme_limit(const rpt_cb_config *cfg, const char *scheme, long *count)
{
	for (int i = 0; i < RPT_CB_SCHEMES; i++)
		if (strcmp(cfg->schemes[i].name, scheme) == 0) {
			*count = cfg->schemes[i].count_threshold;
			return cfg->schemes[i].ratio_bps;
		}
	*count = 0;
	return 0;
}

static int cb_row(void *ctx, const rpt_cb_row *r)
{
	struct cb_build *b = ctx;
	char cnt[24], tx[24], bps[24], pct[AMOUNT_TEXT_MAX], thr_n[24], thr_b[24];

	snprintf(cnt, sizeof cnt, "%ld", r->count);
	if (strcmp(r->section, "stage") == 0) {
		const char *row[] = { r->key, r->asset, cnt, r->amount };
		if (b->stage_n < 16) {
			snprintf(b->stage_label[b->stage_n], RPT_LABEL_MAX, "%s", r->key);
			b->stage_count[b->stage_n++] = r->count;
		}
		return rpt_table_add(b->stages, row, b->err);
	}
	if (strcmp(r->section, "reason") == 0) {
		const char *row[] = { r->scheme, r->key, r->asset, cnt, r->amount };
		return rpt_table_add(b->reasons, row, b->err);
	}
	if (strcmp(r->section, "merchant") == 0) {
		long count_thr = 0, ratio_thr = scheme_limit(b->cfg, r->scheme, &count_thr);
		snprintf(tx, sizeof tx, "%ld", r->transactions);
		snprintf(bps, sizeof bps, "%ld", r->ratio_bps);
		rpt_amt(r->ratio_bps, 2, pct);
		snprintf(thr_n, sizeof thr_n, "%ld", count_thr);
		snprintf(thr_b, sizeof thr_b, "%ld", ratio_thr);
		const char *row[] = { r->key, r->scheme, r->asset, cnt, r->amount, tx,
			              r->ratio_bps >= 0 ? bps : "",
			              r->ratio_bps >= 0 ? pct : "",
			              ratio_thr > 0 ? thr_n : "", ratio_thr > 0 ? thr_b : "",
			              r->flag, r->detail };
		if (b->bars < MERCHANT_BARS_MAX) {
			snprintf(b->label[b->bars], RPT_LABEL_MAX, "%s %s", r->key, r->scheme);
			b->ratio[b->bars] = r->ratio_bps > 0 ? r->ratio_bps : 0;
			b->limit[b->bars] = ratio_thr > 0 ? ratio_thr : -1;
			b->bars++;
		}
		return rpt_table_add(b->merchants, row, b->err);
	}
	if (strcmp(r->section, "deadline") == 0) {
		const char *row[] = { r->key, r->scheme, r->asset, r->amount, r->deadline,
			              r->flag, r->detail };
		return rpt_table_add(b->deadlines, row, b->err);
	}
	return lg_error_set(b->err, LG_EINTERNAL, "chargeback report section '%s'",
	                    r->section);
}

static int cb_line(void *ctx, const rpt_cb_line_row *r)
{
	struct cb_build *b = ctx;
	const char *row[] = { r->date, r->dispute, r->stage, r->record_type, r->scheme,
		              r->reason_code, r->reason_family, r->merchant, r->order,
		              r->asset, r->amount, r->deadline,
		              r->first_in_period ? "yes" : "no" };

	return rpt_table_add(b->lines, row, b->err);
}

static void cb_tables(struct cb_build *b, int detail)
{
	static const char *const sn[] = { "stage", "asset", "count", "amount" };
	static const unsigned sf[] = { 0, 0, RPT_INTEGER, RPT_NUMERIC };
	static const char *const rn[] = { "scheme", "family", "asset", "disputes",
		                                  "amount" };
	static const unsigned rf[] = { 0, 0, 0, RPT_INTEGER, RPT_NUMERIC };
	static const char *const mn[] = { "merchant", "scheme", "asset", "chargebacks",
		"amount", "card_sales", "ratio_bps", "ratio_pct", "count_threshold",
		"ratio_threshold_bps", "flag", "base" };
	static const unsigned mf[] = { 0, 0, 0, RPT_INTEGER, RPT_NUMERIC, RPT_INTEGER,
		RPT_INTEGER, RPT_NUMERIC, RPT_INTEGER, RPT_INTEGER, 0, 0 };
	static const char *const dn[] = { "dispute", "scheme", "asset", "amount",
		                                  "deadline", "flag", "detail" };
	static const unsigned df[] = { 0, 0, 0, RPT_NUMERIC, 0, 0, 0 };
	static const char *const ln[] = { "date", "dispute", "stage", "record_type",
		"scheme", "reason_code", "family", "merchant", "order", "asset", "amount",
		"deadline", "first_in_period" };
	static const unsigned lf[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, RPT_NUMERIC, 0, 0 };

	b->stages = rpt_doc_add_table(b->doc, "stages", "Dispute lines by stage", 4, sn, sf);
	b->reasons = rpt_doc_add_table(b->doc, "reasons", "Disputes by reason-code "
	                               "family", 5, rn, rf);
	b->merchants = rpt_doc_add_table(b->doc, "merchants", "Chargeback ratio per "
	                                 "merchant against the scheme's programme", 12,
	                                 mn, mf);
	b->deadlines = rpt_doc_add_table(b->doc, "deadlines", "Deadlines coming due",
	                                 7, dn, df);
	if (detail)
		b->lines = rpt_doc_add_table(b->doc, "lines", "Dispute lines behind the "
		                             "figures", 13, ln, lf);
}

static int cb_charts(struct cb_build *b)
{
	rpt_chart *c;
	int rc;

	if (b->bars) {
		c = rpt_doc_add_chart(b->doc, "chargeback_ratio", "Chargeback ratio per "
		                      "merchant and scheme, against the programme's "
		                      "threshold", "%", 2, b->bars, b->err);
		if (!c)
			return b->err->code;
		rc = rpt_chart_thresholds(c, b->err);
		if (rc)
			return rc;
		for (size_t i = 0; i < c->n; i++) {
			snprintf(c->label[i], sizeof c->label[i], "%s", b->label[i]);
			c->value_minor[i] = b->ratio[i];
			c->threshold_minor[i] = b->limit[i];
		}
	}
	if (b->stage_n) {
		c = rpt_doc_add_chart(b->doc, "disputes_by_stage", "Dispute lines by stage",
		                      "", 0, b->stage_n, b->err);
		if (!c)
			return b->err->code;
		for (size_t i = 0; i < c->n; i++) {
			snprintf(c->label[i], sizeof c->label[i], "%s", b->stage_label[i]);
			c->value_minor[i] = b->stage_count[i];
		}
	}
	return LG_OK;
}

int rpt_chargebacks_report(ledger *lg, const rpt_options *o, const char *config,
                           rpt_doc *doc, lg_error *err)
{
	struct cb_build *b = calloc(1, sizeof *b);
	rpt_cb_config cfg;
	int rc;

	doc->title = "Chargebacks";
	if (!b)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	rpt_cb_config_init(&cfg);
	rc = config ? rpt_cb_config_load(&cfg, config, err) : LG_OK;
	if (rc)
		goto out;
	b->doc = doc;
	b->cfg = &cfg;
	b->err = err;
	cb_tables(b, o->detail);
	rc = rpt_cb_report(lg, &cfg, o->from, o->to, cb_row, b, err);
	if (!rc && b->lines)
		rc = rpt_cb_lines(lg, &cfg, o->from, o->to, cb_line, b, err);
	if (!rc)
		rc = cb_charts(b);
	if (!rc && b->stages->rows == 0)
		rpt_doc_note(doc, "no dispute lines on channel '%s' booked in the period",
		             cfg.channel);
	if (!rc)
		rpt_doc_note(doc, "ratio: first chargebacks x 10000 / card sales, rounded "
		             "down; Mastercard over the previous period of the same length; "
		             "'over' when the count and the ratio reach the programme");
out:
	free(b);
	return rc;
}
