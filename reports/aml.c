/*
 * aml.c - AML transaction monitoring: reads the journal's postings on
 * customer wallets, runs the monitoring rules per customer, asset and day,
 * screens names against a sanctions list and stores the alerts.
 *
 * Rules (docs/aml.md has the thresholds and keys):
 *   large-value          a day's total in one direction at or above the
 *                        asset's threshold (PBoC 2017: single or same-day
 *                        total; FinCEN CTR aggregates a business day)
 *   structuring          several transactions each at >= 90% of the
 *                        threshold within a window, together over it
 *   velocity             a day's total over a multiple of the customer's own
 *                        trailing daily mean
 *   rapid-movement       funds in and out again the same day
 *   fan-in, fan-out      many distinct counterparties in a day
 *   round-amounts        several non-zero multiples of a round unit a day
 *   dormant-reactivation a burst of activity after a long silence
 *   high-risk-jurisdiction  the customer or the counterparty account in a
 *                        listed country (account meta "country" or "iban")
 *   name-screening       account and transaction names against sdn.csv
 *   risk-refusals        a customer refused by the front's risk rules
 *                        again and again (front_risk_refusals)
 * Everything is integer arithmetic; output is sorted, so a scan gives the
 * same alerts in the same order on every run.
 */
#include "aml_int.h"
#include "reports_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ledger/ledger_sql.h"

#define EVENTS_MAX (64L * 1024 * 1024) /* wallet postings held by one scan */
#define ALERTS_MAX (1024L * 1024)      /* alerts found by one scan */
#define DETAIL_MAX 512   /* a name-screening detail quotes four names */
#define DAY_NONE LONG_MIN

/* One posting on a customer wallet. */
struct ev {
	long long seq;
	char *tx_id, *customer, *counterparty; /* owned */
	char asset[LG_ASSET_CODE_MAX];
	char date[11];
	int scale;
	int in;                 /* 1: money into the wallet (a credit) */
	char risk_cc[3];        /* a listed country of the customer or the
	                           counterparty, "" for none */
	char risk_who;          /* 'c' customer, 'p' counterparty */
	long day;
	amount_minor_t amount_minor; /* > 0 */
};

struct alert {
	const char *rule;       /* static */
	char *subject, *evidence, *key; /* owned */
	char asset[LG_ASSET_CODE_MAX];
	char day[11];
	int score;
	char amount[AMOUNT_TEXT_MAX];
	char detail[DETAIL_MAX];
};

/* An account's country (meta "country", else its IBAN's first two
 * letters), for the high-risk jurisdiction rule: sorted by code. */
struct country {
	char *code;
	char cc[3];
};

struct scan {
	const rpt_aml_config *cfg;
	struct country *cty;
	size_t cty_n;
	long from_day, to_day;
	const char *from, *to;
	struct ev *ev;
	size_t n, cap;
	struct alert *al;
	size_t al_n, al_cap;
	long transactions;
	lg_error *err;
};

static amount_minor_t abs_minor(amount_minor_t a)
{
	return a < 0 ? -a : a;
}

/* The counterparty of posting i: the largest posting of the other sign. */
static const char *counterparty(const ledger_tx_row *tx, int i)
{
	const char *best = "";
	amount_minor_t top = 0;
	int sign = tx->postings[i].amount_minor > 0;

	for (int k = 0; k < tx->postings_n; k++) {
		amount_minor_t a = tx->postings[k].amount_minor;
		if (k == i || (a > 0) == sign || abs_minor(a) <= top)
			continue;
		top = abs_minor(a);
		best = tx->postings[k].account;
	}
	return best;
}

static int country_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct country *)elem)->code);
}

/* The account's country if it is a listed high-risk one, else NULL. */
static const char *risky_country(const struct scan *sc, const char *code)
{
	const struct country *c;

	if (!sc->cty_n || !code[0])
		return NULL;
	c = bsearch(code, sc->cty, sc->cty_n, sizeof *sc->cty, country_cmp);
	if (!c)
		return NULL;
	for (int k = 0; k < sc->cfg->high_risk_n; k++)
		if (strcmp(sc->cfg->high_risk[k], c->cc) == 0)
			return c->cc;
	return NULL;
}

static int ev_push(struct scan *sc, const ledger_tx_row *tx, int i)
{
	const ledger_posting_row *p = &tx->postings[i];
	size_t plen = strlen(sc->cfg->wallet_prefix);
	struct ev *e;

	if (sc->n == sc->cap) {
		size_t nc = sc->cap ? sc->cap * 2 : 1024;
		struct ev *grown;
		if (nc > (size_t)EVENTS_MAX)
			return lg_error_set(sc->err, LG_EDATA, "more than %ld wallet postings "
			                    "to scan; scan a shorter period", EVENTS_MAX);
		grown = realloc(sc->ev, nc * sizeof *grown);
		if (!grown)
			return lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
		sc->ev = grown;
		sc->cap = nc;
	}
	e = &sc->ev[sc->n];
	memset(e, 0, sizeof *e);
	e->seq = tx->seq;
	e->tx_id = strdup(tx->id);
	e->customer = strdup(p->account + plen);
	e->counterparty = strdup(counterparty(tx, i));
	sc->n++;
	if (!e->tx_id || !e->customer || !e->counterparty)
		return lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
	snprintf(e->asset, sizeof e->asset, "%s", p->asset);
	snprintf(e->date, sizeof e->date, "%s", tx->date);
	e->scale = p->scale;
	e->in = p->amount_minor < 0;
	e->day = ledger_day_number(tx->date);
	e->amount_minor = abs_minor(p->amount_minor);
	RPT_AML_ASSERT(e->day != DAY_NONE && e->amount_minor > 0);
	{
		const char *cc = risky_country(sc, p->account);
		e->risk_who = 'c';
		if (!cc) {
			cc = risky_country(sc, e->counterparty);
			e->risk_who = 'p';
		}
		snprintf(e->risk_cc, sizeof e->risk_cc, "%s", cc ? cc : "");
	}
	return LG_OK;
}

static int on_tx(void *ctx, const ledger_tx_row *tx)
{
	struct scan *sc = ctx;
	size_t plen = strlen(sc->cfg->wallet_prefix);

	/* Holds move nothing until committed; reversals and voids undo. */
	if (strcmp(tx->kind, "posted") != 0 && strcmp(tx->kind, "commit") != 0)
		return 0;
	if (strcmp(tx->date, sc->from) >= 0)
		sc->transactions++;
	for (int i = 0; i < tx->postings_n; i++) {
		const ledger_posting_row *p = &tx->postings[i];
		if (p->amount_minor == 0 || strncmp(p->account, sc->cfg->wallet_prefix, plen) != 0 ||
		    !p->account[plen])
			continue;
		if (ev_push(sc, tx, i))
			return sc->err->code;
	}
	return 0;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	int c = strcmp(x->customer, y->customer);

	if (c)
		return c;
	c = strcmp(x->asset, y->asset);
	if (c)
		return c;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* min(1000, 500 x value / threshold): 500 at the threshold, 1000 at twice. */
static int score_of(amount_minor_t value, amount_minor_t threshold)
{
	amount_minor_t s;

	if (threshold <= 0)
		return 1000;
	s = value / threshold * 500 + (value % threshold) * 500 / threshold;
	return s > 1000 ? 1000 : (int)s;
}

static char *join_evidence(const struct scan *sc, const size_t *idx, size_t n)
{
	size_t cap = 64, len = 0, listed = 0;
	char *s = malloc(cap);
	const char *last = NULL;

	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *id = sc->ev[idx[i]].tx_id;
		size_t l = strlen(id);
		if (last && strcmp(last, id) == 0)
			continue;
		if (listed == RPT_AML_EVIDENCE_MAX)
			break;
		if (len + l + 2 > cap) {
			char *g;
			cap = (len + l + 2) * 2;
			g = realloc(s, cap);
			if (!g) {
				free(s);
				return NULL;
			}
			s = g;
		}
		if (len)
			s[len++] = ',';
		memcpy(s + len, id, l + 1);
		len += l;
		last = id;
		listed++;
	}
	return s;
}

static int alert_add(struct scan *sc, const char *rule, const char *subject,
                     const char *asset, const char *day, int score,
                     const char *amount, const char *detail, char *evidence)
{
	struct alert *a;
	size_t klen;

	if (!evidence)
		return lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
	if (sc->al_n == sc->al_cap) {
		size_t nc = sc->al_cap ? sc->al_cap * 2 : 64;
		struct alert *g;
		if (nc > (size_t)ALERTS_MAX) {
			free(evidence);
			return lg_error_set(sc->err, LG_EDATA, "more than %ld alerts in one "
			                    "scan; raise the thresholds", ALERTS_MAX);
		}
		g = realloc(sc->al, nc * sizeof *g);
		if (!g) {
			free(evidence);
			return lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
		}
		sc->al = g;
		sc->al_cap = nc;
	}
	RPT_AML_ASSERT(score >= 0 && score <= 1000);
	a = &sc->al[sc->al_n++];
	memset(a, 0, sizeof *a);
	a->rule = rule;
	a->evidence = evidence;
	a->subject = strdup(subject);
	snprintf(a->asset, sizeof a->asset, "%s", asset);
	snprintf(a->day, sizeof a->day, "%s", day);
	a->score = score;
	snprintf(a->amount, sizeof a->amount, "%s", amount);
	snprintf(a->detail, sizeof a->detail, "%s", detail);
	klen = strlen(rule) + strlen(subject) + strlen(asset) + strlen(evidence) + 4;
	a->key = malloc(klen);
	if (!a->subject || !a->key)
		return lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
	snprintf(a->key, klen, "%s|%s|%s|%s", rule, subject, asset, evidence);
	return LG_OK;
}

/* Thresholds of one asset in minor units; 0 when off. */
struct limits {
	amount_minor_t large, rapid_min, round_unit;
	int scale;
};

static int parse_limit(const char *text, int scale, amount_minor_t *out)
{
	char why[128];

	*out = 0;
	if (!text[0])
		return 0;
	return amount_parse(text, strlen(text), scale, out, why, sizeof why);
}

static int limits_of(struct scan *sc, const char *asset, int scale, struct limits *l)
{
	const rpt_aml_asset *a = rpt_aml_config_asset(sc->cfg, asset);

	memset(l, 0, sizeof *l);
	l->scale = scale;
	if (!a)
		return LG_OK;
	if (parse_limit(a->large, scale, &l->large) || parse_limit(a->rapid_min, scale,
	    &l->rapid_min) || parse_limit(a->round_unit, scale, &l->round_unit))
		return lg_error_set(sc->err, LG_EUSAGE, "a threshold of asset '%s' has more "
		                    "decimals than the asset", asset);
	return LG_OK;
}

/* The rules over one day of one customer and asset: events [ds, de). */
struct day_ctx {
	size_t ds, de;
	long prev_day;                 /* last active day before, or DAY_NONE */
	amount_minor_t baseline_minor; /* sum over the trailing baseline days */
	const struct limits *lim;
	size_t *idx;                   /* scratch, at least de - ds */
};

static void fmt(amount_minor_t v, int scale, char *buf)
{
	amount_format(v, scale, buf, AMOUNT_TEXT_MAX);
}

static int rule_large(struct scan *sc, const struct day_ctx *d)
{
	const struct ev *e0 = &sc->ev[d->ds];

	for (int in = 0; in <= 1 && d->lim->large > 0; in++) {
		amount_minor_t sum = 0;
		size_t n = 0;
		char a[AMOUNT_TEXT_MAX], t[AMOUNT_TEXT_MAX], detail[DETAIL_MAX];
		for (size_t i = d->ds; i < d->de; i++)
			if (sc->ev[i].in == in) {
				sum += sc->ev[i].amount_minor;
				d->idx[n++] = i;
			}
		if (sum < d->lim->large)
			continue;
		fmt(sum, d->lim->scale, a);
		fmt(d->lim->large, d->lim->scale, t);
		snprintf(detail, sizeof detail, "%s %s %s in %zu transaction(s) on the day; "
		         "threshold %s", in ? "in" : "out", a, e0->asset, n, t);
		if (alert_add(sc, "large-value", e0->customer, e0->asset, e0->date,
		              score_of(sum, d->lim->large), a, detail,
		              join_evidence(sc, d->idx, n)))
			return sc->err->code;
	}
	return LG_OK;
}

static int rule_rapid(struct scan *sc, const struct day_ctx *d)
{
	const struct ev *e0 = &sc->ev[d->ds];
	amount_minor_t in = 0, out = 0;
	char a[AMOUNT_TEXT_MAX], b[AMOUNT_TEXT_MAX], detail[DETAIL_MAX];
	size_t n = 0;

	if (d->lim->rapid_min <= 0)
		return LG_OK;
	for (size_t i = d->ds; i < d->de; i++) {
		if (sc->ev[i].in)
			in += sc->ev[i].amount_minor;
		else
			out += sc->ev[i].amount_minor;
		d->idx[n++] = i;
	}
	if (in < d->lim->rapid_min || out * 100 < in * sc->cfg->rapid_out_pct)
		return LG_OK;
	fmt(in, d->lim->scale, a);
	fmt(out, d->lim->scale, b);
	snprintf(detail, sizeof detail, "in %s and out %s %s the same day (%d%% out)", a, b,
	         e0->asset, (int)(out * 100 / in));
	return alert_add(sc, "rapid-movement", e0->customer, e0->asset, e0->date,
	                 (int)(out >= in ? 1000 : out * 1000 / in), b, detail,
	                 join_evidence(sc, d->idx, n));
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int rule_fan(struct scan *sc, const struct day_ctx *d)
{
	const struct ev *e0 = &sc->ev[d->ds];
	size_t cnt = d->de - d->ds;
	const char **names = malloc(cnt * sizeof *names);
	int rc = LG_OK;

	if (!names)
		return lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
	for (int in = 0; in <= 1 && !rc; in++) {
		size_t n = 0, distinct = 0;
		char detail[DETAIL_MAX];
		for (size_t i = d->ds; i < d->de; i++)
			if (sc->ev[i].in == in) {
				names[n] = sc->ev[i].counterparty;
				d->idx[n++] = i;
			}
		if (n > 1)
			qsort(names, n, sizeof *names, cmp_strp);
		for (size_t i = 0; i < n; i++)
			distinct += i == 0 || strcmp(names[i], names[i - 1]) != 0;
		if (distinct < (size_t)sc->cfg->fan_count)
			continue;
		snprintf(detail, sizeof detail, "%zu distinct counterparties %s in a day",
		         distinct, in ? "paying in" : "paid out");
		rc = alert_add(sc, in ? "fan-in" : "fan-out", e0->customer, e0->asset,
		               e0->date, score_of((amount_minor_t)distinct,
		               sc->cfg->fan_count), "", detail, join_evidence(sc, d->idx, n));
	}
	free(names);
	return rc;
}

static int rule_round(struct scan *sc, const struct day_ctx *d)
{
	const struct ev *e0 = &sc->ev[d->ds];
	char u[AMOUNT_TEXT_MAX], detail[DETAIL_MAX];
	size_t n = 0;

	if (d->lim->round_unit <= 0)
		return LG_OK;
	for (size_t i = d->ds; i < d->de; i++)
		if (sc->ev[i].amount_minor % d->lim->round_unit == 0)
			d->idx[n++] = i;
	if (n < (size_t)sc->cfg->round_count)
		return LG_OK;
	fmt(d->lim->round_unit, d->lim->scale, u);
	snprintf(detail, sizeof detail, "%zu transaction(s) in whole multiples of %s %s "
	         "on the day", n, u, e0->asset);
	return alert_add(sc, "round-amounts", e0->customer, e0->asset, e0->date,
	                 score_of((amount_minor_t)n, sc->cfg->round_count), "", detail,
	                 join_evidence(sc, d->idx, n));
}

static int rule_velocity(struct scan *sc, const struct day_ctx *d)
{
	const struct ev *e0 = &sc->ev[d->ds];
	const rpt_aml_config *cfg = sc->cfg;
	amount_minor_t sum = 0, limit;
	char a[AMOUNT_TEXT_MAX], m[AMOUNT_TEXT_MAX], detail[DETAIL_MAX];
	size_t n = 0;

	for (size_t i = d->ds; i < d->de; i++) {
		sum += sc->ev[i].amount_minor;
		d->idx[n++] = i;
	}
	/* No history, no baseline: a new customer is not a spike of itself. */
	if (d->baseline_minor <= 0 || n < (size_t)cfg->velocity_min_count)
		return LG_OK;
	/* day sum > factor x (baseline / days), multiplied out: no division. */
	if (sum * cfg->velocity_baseline_days * 100 <= d->baseline_minor * cfg->velocity_factor_pct)
		return LG_OK;
	limit = d->baseline_minor * cfg->velocity_factor_pct / 100;
	fmt(sum, d->lim->scale, a);
	fmt(d->baseline_minor / cfg->velocity_baseline_days, d->lim->scale, m);
	snprintf(detail, sizeof detail, "%s %s in %zu transactions on the day against a "
	         "trailing %d-day daily mean of %s (factor %d%%)", a, e0->asset, n,
	         cfg->velocity_baseline_days, m, cfg->velocity_factor_pct);
	return alert_add(sc, "velocity", e0->customer, e0->asset, e0->date,
	                 score_of(sum * cfg->velocity_baseline_days, limit), a, detail,
	                 join_evidence(sc, d->idx, n));
}

static int rule_dormant(struct scan *sc, const struct day_ctx *d)
{
	const struct ev *e0 = &sc->ev[d->ds];
	char detail[DETAIL_MAX];
	size_t n = d->de - d->ds;

	if (d->prev_day == DAY_NONE || e0->day - d->prev_day < sc->cfg->dormant_days ||
	    n < (size_t)sc->cfg->dormant_count)
		return LG_OK;
	for (size_t i = 0; i < n; i++)
		d->idx[i] = d->ds + i;
	snprintf(detail, sizeof detail, "%zu transactions after %ld days without activity",
	         n, e0->day - d->prev_day);
	return alert_add(sc, "dormant-reactivation", e0->customer, e0->asset, e0->date,
	                 score_of((amount_minor_t)n, sc->cfg->dormant_count), "", detail,
	                 join_evidence(sc, d->idx, n));
}

/* Structuring over one customer and asset, events [a, b), one direction:
 * greedy windows from the earliest near-threshold transaction. */
static int rule_structuring(struct scan *sc, size_t a, size_t b, int in,
                            const struct limits *lim, size_t *idx)
{
	const rpt_aml_config *cfg = sc->cfg;
	size_t n = 0, i = 0;

	if (lim->large <= 0)
		return LG_OK;
	for (size_t k = a; k < b; k++)
		if (sc->ev[k].in == in && sc->ev[k].amount_minor < lim->large &&
		    sc->ev[k].amount_minor * 100 >= lim->large * cfg->structuring_pct)
			idx[n++] = k;
	while (i < n) {
		size_t j = i;
		amount_minor_t sum = 0;
		const struct ev *last;
		char s[AMOUNT_TEXT_MAX], t[AMOUNT_TEXT_MAX], detail[DETAIL_MAX];

		while (j < n && sc->ev[idx[j]].day - sc->ev[idx[i]].day < cfg->structuring_window_days)
			sum += sc->ev[idx[j++]].amount_minor;
		last = &sc->ev[idx[j - 1]];
		if (j - i < (size_t)cfg->structuring_count || sum <= lim->large) {
			i++;
			continue;
		}
		if (last->day >= sc->from_day && last->day <= sc->to_day) {
			fmt(sum, lim->scale, s);
			fmt(lim->large, lim->scale, t);
			snprintf(detail, sizeof detail, "%zu transactions %s, each at %d%% or more "
			         "of %s but under it, within %d day(s): together %s %s", j - i,
			         in ? "in" : "out", cfg->structuring_pct, t,
			         cfg->structuring_window_days, s, last->asset);
			if (alert_add(sc, "structuring", last->customer, last->asset, last->date,
			              score_of(sum, lim->large), s, detail,
			              join_evidence(sc, idx + i, j - i)))
				return sc->err->code;
		}
		i = j;
	}
	return LG_OK;
}

/* FATF high-risk jurisdictions: the day's transactions in which the
 * customer's own wallet or the counterparty account is in a listed
 * country. */
static int rule_jurisdiction(struct scan *sc, const struct day_ctx *d)
{
	const struct ev *e0 = &sc->ev[d->ds], *first = NULL;
	amount_minor_t sum = 0;
	char a[AMOUNT_TEXT_MAX], detail[DETAIL_MAX];
	size_t n = 0;

	for (size_t i = d->ds; i < d->de; i++)
		if (sc->ev[i].risk_cc[0]) {
			if (!first)
				first = &sc->ev[i];
			sum += sc->ev[i].amount_minor;
			d->idx[n++] = i;
		}
	if (n == 0)
		return LG_OK;
	fmt(sum, d->lim->scale, a);
	snprintf(detail, sizeof detail, "%zu transaction(s), %s %s, with a high-risk "
	         "jurisdiction: %s %.48s in %s", n, a, e0->asset,
	         first->risk_who == 'c' ? "customer" : "counterparty",
	         first->risk_who == 'c' ? first->customer : first->counterparty,
	         first->risk_cc);
	return alert_add(sc, "high-risk-jurisdiction", e0->customer, e0->asset, e0->date,
	                 sc->cfg->high_risk_score, a, detail, join_evidence(sc, d->idx, n));
}

static int day_rules(struct scan *sc, const struct day_ctx *d)
{
	int rc = rule_large(sc, d);

	if (!rc && sc->cty_n)
		rc = rule_jurisdiction(sc, d);
	if (!rc)
		rc = rule_rapid(sc, d);
	if (!rc)
		rc = rule_velocity(sc, d);
	if (!rc)
		rc = rule_fan(sc, d);
	if (!rc)
		rc = rule_round(sc, d);
	if (!rc)
		rc = rule_dormant(sc, d);
	return rc;
}

/* All rules over one customer and asset: events [a, b), sorted by day. */
static int group_rules(struct scan *sc, size_t a, size_t b)
{
	struct limits lim;
	struct day_ctx d;
	size_t *idx = malloc((b - a) * sizeof *idx), lo = a;
	amount_minor_t window = 0;
	int rc;

	if (!idx)
		return lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
	rc = limits_of(sc, sc->ev[a].asset, sc->ev[a].scale, &lim);
	for (size_t ds = a; ds < b && !rc;) {
		size_t de = ds;
		long day = sc->ev[ds].day;
		while (de < b && sc->ev[de].day == day)
			de++;
		/* The trailing baseline: days [day - baseline_days, day). */
		while (lo < ds && sc->ev[lo].day < day - sc->cfg->velocity_baseline_days)
			window -= sc->ev[lo++].amount_minor;
		if (day >= sc->from_day && day <= sc->to_day) {
			d.ds = ds;
			d.de = de;
			d.prev_day = ds > a ? sc->ev[ds - 1].day : DAY_NONE;
			d.baseline_minor = window;
			d.lim = &lim;
			d.idx = idx;
			rc = day_rules(sc, &d);
		}
		for (size_t i = ds; i < de; i++)
			window += sc->ev[i].amount_minor;
		ds = de;
	}
	for (int in = 0; in <= 1 && !rc; in++)
		rc = rule_structuring(sc, a, b, in, &lim, idx);
	free(idx);
	return rc;
}

static int alert_cmp(const void *x, const void *y)
{
	const struct alert *a = x, *b = y;
	int c = strcmp(a->day, b->day);

	if (!c)
		c = strcmp(a->rule, b->rule);
	if (!c)
		c = strcmp(a->subject, b->subject);
	if (!c)
		c = strcmp(a->key, b->key);
	return c;
}

static int store_all(ledger *lg, struct scan *sc, rpt_aml_scan_stats *stats)
{
	int rc = ledger_begin(lg, sc->err);

	if (rc)
		return rc;
	rc = rpt_aml_schema(lg, sc->err);
	for (size_t i = 0; i < sc->al_n && !rc; i++) {
		const struct alert *a = &sc->al[i];
		rpt_aml_new_alert na = { a->key, a->rule, a->subject, a->asset, a->day,
		                         a->score, a->amount, a->detail, a->evidence };
		int added = 0;
		rc = rpt_aml_store_alert(lg, &na, &added, sc->err);
		stats->added += added;
	}
	if (rc) {
		ledger_rollback(lg);
		return rc;
	}
	return ledger_commit(lg, sc->err);
}

static void scan_release(struct scan *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->ev[i].tx_id);
		free(sc->ev[i].customer);
		free(sc->ev[i].counterparty);
	}
	for (size_t i = 0; i < sc->al_n; i++) {
		free(sc->al[i].subject);
		free(sc->al[i].evidence);
		free(sc->al[i].key);
	}
	for (size_t i = 0; i < sc->cty_n; i++)
		free(sc->cty[i].code);
	free(sc->cty);
	free(sc->ev);
	free(sc->al);
}

/* Name screening: account names (meta "name") of accounts active in the
 * period, and names in transactions' metadata. */
static int screen(ledger *lg, struct scan *sc);

/* Repeated refusals by the front's risk rules, from front_risk_refusals. */
static int refusals(ledger *lg, struct scan *sc);

/* The accounts that name a country, for the high-risk jurisdiction rule;
 * nothing is read when the rule is off. */
static int countries_load(ledger *lg, struct scan *sc)
{
	static const char sql[] =
		"SELECT code, upper(COALESCE(json_extract(meta, '$.country'),"
		" substr(json_extract(meta, '$.iban'), 1, 2))) FROM accounts"
		" WHERE json_valid(meta) AND (json_type(meta, '$.country') = 'text'"
		" OR json_type(meta, '$.iban') = 'text') ORDER BY code";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int step, rc = LG_OK;

	if (sc->cfg->high_risk_n == 0)
		return LG_OK;
	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, sc->err, "reading account countries");
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		const char *cc = (const char *)sqlite3_column_text(st, 1);
		/* Only ISO 3166 alpha-2 shapes; anything else names no country. */
		if (!cc || strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' ||
		    cc[1] > 'Z')
			continue;
		if (sc->cty_n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct country *g = realloc(sc->cty, nc * sizeof *g);
			if (!g) {
				rc = lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
				break;
			}
			sc->cty = g;
			cap = nc;
		}
		sc->cty[sc->cty_n].code = strdup(code);
		memcpy(sc->cty[sc->cty_n].cc, cc, 3);
		if (!sc->cty[sc->cty_n++].code)
			rc = lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
	}
	if (!rc && step != SQLITE_DONE)
		rc = rpt_aml_sql_error(lg, sc->err, "reading account countries");
	sqlite3_finalize(st);
	return rc;
}

int rpt_aml_scan(ledger *lg, const rpt_aml_config *cfg, const char *from,
                 const char *to, rpt_aml_scan_stats *stats, lg_error *err)
{
	struct scan sc;
	int rc;

	memset(stats, 0, sizeof *stats);
	memset(&sc, 0, sizeof sc);
	sc.cfg = cfg;
	sc.err = err;
	sc.from = from;
	sc.to = to;
	sc.from_day = ledger_day_number(from);
	sc.to_day = ledger_day_number(to);
	if (sc.from_day == DAY_NONE || sc.to_day == DAY_NONE || sc.from_day > sc.to_day)
		return lg_error_set(err, LG_EUSAGE, "the period '%s'..'%s' is not two dates "
		                    "in order", from ? from : "", to ? to : "");
	rc = countries_load(lg, &sc);
	if (!rc)
		rc = ledger_journal(lg, NULL, to, NULL, on_tx, &sc, err);
	if (rc)
		goto out;
	if (sc.n > 1)
		qsort(sc.ev, sc.n, sizeof *sc.ev, ev_cmp);
	for (size_t a = 0; a < sc.n && !rc;) {
		size_t b = a + 1;
		while (b < sc.n && strcmp(sc.ev[b].customer, sc.ev[a].customer) == 0 &&
		       strcmp(sc.ev[b].asset, sc.ev[a].asset) == 0)
			b++;
		rc = group_rules(&sc, a, b);
		a = b;
	}
	if (!rc && cfg->refusal_count > 0)
		rc = refusals(lg, &sc);
	if (!rc && cfg->sdn_path[0])
		rc = screen(lg, &sc);
	if (rc)
		goto out;
	if (sc.al_n > 1)
		qsort(sc.al, sc.al_n, sizeof *sc.al, alert_cmp);
	stats->transactions = sc.transactions;
	stats->alerts = (long)sc.al_n;
	rc = store_all(lg, &sc, stats);
out:
	scan_release(&sc);
	return rc;
}

/* --- name screening ---------------------------------------------------- */

/* Bytes of s, at most max, that end on a character boundary: a quoted
 * name cut short stays valid UTF-8. */
static int utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return (int)n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

#define NAME_QUOTED_MAX 64       /* bytes of a name quoted in a detail */

/* "(pinyin 'li fangwei')", with the characters it lacks, or "". */
static void pinyin_note(const rpt_sanctions_hit *h, char *out, size_t cap)
{
	size_t n;

	out[0] = '\0';
	if (!h->info.han)
		return;
	n = (size_t)snprintf(out, cap, " (pinyin '%.*s'", utf8_cut(h->pinyin, NAME_QUOTED_MAX),
	                     h->pinyin);
	for (int i = 0; i < h->info.missing_n && i < RPT_PINYIN_MISSING_MAX && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%sU+%04X", i ? " " : "; no reading for ",
		                      h->info.missing[i]);
	if (h->info.missing_n && n < cap)
		n += (size_t)snprintf(out + n, cap - n, ", kept as written");
	if (n < cap)
		snprintf(out + n, cap - n, ")");
}

static int screen_hit(struct scan *sc, const rpt_sanctions *list,
                      const char *subject, const char *name, const char *day,
                      char *evidence)
{
	rpt_sanctions_hit h;
	char detail[DETAIL_MAX], py[160];
	size_t best;
	int nl = utf8_cut(name, NAME_QUOTED_MAX);

	rpt_sanctions_screen(list, name, &h);
	if (h.score < sc->cfg->screening_cutoff) {
		free(evidence);
		return LG_OK;
	}
	best = h.best;
	pinyin_note(&h, py, sizeof py);
	if (list->alias_of[best])
		snprintf(detail, sizeof detail, "name '%.*s'%s scores %d against alias "
		         "'%.*s' of SDN entry %ld '%.*s' (cut-off %d)", nl, name, py, h.score,
		         utf8_cut(list->name[best], NAME_QUOTED_MAX), list->name[best],
		         list->ent_num[best], utf8_cut(list->alias_of[best], NAME_QUOTED_MAX),
		         list->alias_of[best], sc->cfg->screening_cutoff);
	else
		snprintf(detail, sizeof detail, "name '%.*s'%s scores %d against SDN entry "
		         "%ld '%.*s' (cut-off %d)", nl, name, py, h.score, list->ent_num[best],
		         utf8_cut(list->name[best], NAME_QUOTED_MAX), list->name[best],
		         sc->cfg->screening_cutoff);
	return alert_add(sc, "name-screening", subject, "", day, h.score, "",
	                 detail, evidence);
}

/* Transactions of account `code` in the period, comma-joined; the date of
 * the first in *day. */
static int account_evidence(ledger *lg, struct scan *sc, const char *code,
                            char **out, char *day)
{
	static const char sql[] =
		"SELECT t.id, t.date FROM transactions t JOIN postings p ON p.tx_seq = t.seq"
		" JOIN accounts a ON a.id = p.account_id WHERE a.code = ?1"
		" AND t.date BETWEEN ?2 AND ?3 ORDER BY t.seq LIMIT ?4";
	sqlite3_stmt *st = NULL;
	size_t len = 0, cap = 0;
	char *s = NULL;
	int step, rc = LG_OK;

	*out = NULL;
	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, sc->err, "screening names");
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sc->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sc->to, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, RPT_AML_EVIDENCE_MAX);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		size_t l = strlen(id);
		if (!s)
			snprintf(day, 11, "%s", (const char *)sqlite3_column_text(st, 1));
		if (len + l + 2 > cap) {
			char *g;
			cap = (len + l + 2) * 2;
			g = realloc(s, cap);
			if (!g) {
				rc = lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
				break;
			}
			s = g;
		}
		if (len)
			s[len++] = ',';
		memcpy(s + len, id, l + 1);
		len += l;
	}
	if (!rc && step != SQLITE_DONE)
		rc = rpt_aml_sql_error(lg, sc->err, "screening names");
	sqlite3_finalize(st);
	if (rc)
		free(s);
	else
		*out = s;
	return rc;
}

static int screen_accounts(ledger *lg, struct scan *sc, const rpt_sanctions *list)
{
	static const char sql[] =
		"SELECT code, json_extract(meta, '$.name') FROM accounts"
		" WHERE json_type(meta, '$.name') = 'text' ORDER BY code";
	sqlite3_stmt *st = NULL;
	int step = SQLITE_DONE, rc = LG_OK;

	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, sc->err, "screening names");
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		char day[11] = "", *ev = NULL;
		rc = account_evidence(lg, sc, code, &ev, day);
		if (rc || !ev)
			continue; /* not active in the period: screened when it is */
		rc = screen_hit(sc, list, code, name, day, ev);
	}
	if (!rc && step != SQLITE_DONE)
		rc = rpt_aml_sql_error(lg, sc->err, "screening names");
	sqlite3_finalize(st);
	return rc;
}

static int screen_transactions(ledger *lg, struct scan *sc, const rpt_sanctions *list)
{
	static const char sql[] =
		"SELECT t.id, t.date, j.value FROM transactions t, json_each(t.meta) j"
		" WHERE t.date BETWEEN ?1 AND ?2 AND j.type = 'text' AND (j.key = 'name'"
		" OR j.key = 'counterparty_name' OR j.key = 'payer_name'"
		" OR j.key = 'payee_name') ORDER BY t.seq, j.key";
	sqlite3_stmt *st = NULL;
	int step, rc = LG_OK;

	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, sc->err, "screening names");
	sqlite3_bind_text(st, 1, sc->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sc->to, -1, SQLITE_STATIC);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *date = (const char *)sqlite3_column_text(st, 1);
		const char *name = (const char *)sqlite3_column_text(st, 2);
		char *ev = strdup(id);
		if (!ev) {
			rc = lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
			break;
		}
		rc = screen_hit(sc, list, name, name, date, ev);
	}
	if (!rc && step != SQLITE_DONE)
		rc = rpt_aml_sql_error(lg, sc->err, "screening names");
	sqlite3_finalize(st);
	return rc;
}

/* OFAC publishes alt.csv beside sdn.csv: the configured alias file, else
 * the one in the same folder as sdn.csv when there is one. */
static int load_aliases(rpt_sanctions *list, struct scan *sc)
{
	char path[RPT_AML_PATH_MAX + 16];
	const char *slash;
	FILE *fp;

	if (sc->cfg->alt_path[0])
		return rpt_sanctions_load_alt(list, sc->cfg->alt_path, sc->err);
	slash = strrchr(sc->cfg->sdn_path, '/');
	snprintf(path, sizeof path, "%.*salt.csv",
	         slash ? (int)(slash - sc->cfg->sdn_path + 1) : 0, sc->cfg->sdn_path);
	fp = fopen(path, "r");
	if (!fp)
		return LG_OK;
	fclose(fp);
	return rpt_sanctions_load_alt(list, path, sc->err);
}

static int screen(ledger *lg, struct scan *sc)
{
	rpt_sanctions list;
	int rc;

	rpt_sanctions_init(&list);
	rc = rpt_sanctions_load(&list, sc->cfg->sdn_path, sc->err);
	if (!rc)
		rc = load_aliases(&list, sc);
	if (!rc)
		rc = screen_accounts(lg, sc, &list);
	if (!rc)
		rc = screen_transactions(lg, sc, &list);
	rpt_sanctions_release(&list);
	return rc;
}

/* --- front risk refusals ----------------------------------------------- */

#define REFUSALS_MAX (1024L * 1024)   /* refusals read by one scan */
#define REASONS_LISTED_MAX 4          /* distinct reasons named in a detail */

/* One row of front_risk_refusals; strings owned. */
struct refusal {
	long long id;
	long day;
	char date[11];
	char *customer, *reason;
};

static int refusal_cmp(const void *a, const void *b)
{
	const struct refusal *x = a, *y = b;
	int c = strcmp(x->customer, y->customer);

	if (c)
		return c;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* "refusal:ID" for each refusal of [i, j), comma-joined: the evidence of
 * an alert whose facts are front decisions, not journal transactions. */
static char *refusal_evidence(const struct refusal *r, size_t i, size_t j)
{
	size_t cap, len = 0;
	char *s;

	if (j - i > RPT_AML_EVIDENCE_MAX)
		j = i + RPT_AML_EVIDENCE_MAX;
	cap = (j - i) * 32 + 1;
	s = malloc(cap);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t k = i; k < j; k++)
		len += (size_t)snprintf(s + len, cap - len, "%srefusal:%lld", k > i ? "," : "",
		                        r[k].id);
	RPT_AML_ASSERT(len < cap);
	return s;
}

/* "risk_limit x2, risk_velocity x1": the reasons of [i, j) in order of
 * first appearance. */
static void refusal_reasons(const struct refusal *r, size_t i, size_t j, char *out,
                            size_t cap)
{
	const char *seen[REASONS_LISTED_MAX];
	size_t seen_n = 0, n = 0;

	out[0] = '\0';
	for (size_t k = i; k < j && seen_n < REASONS_LISTED_MAX; k++) {
		size_t c = 0, dup = 0;
		for (size_t m = 0; m < seen_n; m++)
			dup |= strcmp(seen[m], r[k].reason) == 0;
		if (dup)
			continue;
		seen[seen_n++] = r[k].reason;
		for (size_t m = i; m < j; m++)
			c += strcmp(r[m].reason, r[k].reason) == 0;
		if (n < cap)
			n += (size_t)snprintf(out + n, cap - n, "%s%.32s x%zu", n ? ", " : "",
			                      r[k].reason, c);
	}
}

/* One customer's refusals [a, b), sorted by day: windows taken greedily
 * from the earliest refusal, as for structuring; a window with
 * refusal_count or more fires, dated on its last refusal. */
static int refusal_windows(struct scan *sc, const struct refusal *r, size_t a, size_t b)
{
	const rpt_aml_config *cfg = sc->cfg;
	size_t i = a;

	while (i < b) {
		size_t j = i;
		char detail[DETAIL_MAX], reasons[160];
		const struct refusal *last;

		while (j < b && r[j].day - r[i].day < cfg->refusal_window_days)
			j++;
		if (j - i < (size_t)cfg->refusal_count) {
			i++;
			continue;
		}
		last = &r[j - 1];
		if (last->day >= sc->from_day && last->day <= sc->to_day) {
			refusal_reasons(r, i, j, reasons, sizeof reasons);
			snprintf(detail, sizeof detail, "%zu purchases refused by the front's risk "
			         "rules within %d day(s), %s..%s (%s); %d or more fire", j - i,
			         cfg->refusal_window_days, r[i].date, last->date, reasons,
			         cfg->refusal_count);
			if (alert_add(sc, "risk-refusals", last->customer, "", last->date,
			              score_of((amount_minor_t)(j - i), cfg->refusal_count), "",
			              detail, refusal_evidence(r, i, j)))
				return sc->err->code;
		}
		i = j;
	}
	return LG_OK;
}

/* Reads the refusals that can fall in a window ending in the period. */
static int refusals_load(ledger *lg, struct scan *sc, struct refusal **out, size_t *n)
{
	static const char sql[] =
		"SELECT id, substr(at, 1, 10), customer, reason FROM front_risk_refusals"
		" WHERE at >= date(?1, ?3) AND at < date(?2, '+1 day') ORDER BY id";
	sqlite3_stmt *st = NULL;
	struct refusal *r = NULL;
	size_t cap = 0;
	char back[32];
	int step, rc = LG_OK;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, sc->err, "reading front risk refusals");
	snprintf(back, sizeof back, "-%d days", sc->cfg->refusal_window_days - 1);
	sqlite3_bind_text(st, 1, sc->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sc->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, back, -1, SQLITE_TRANSIENT);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *date = (const char *)sqlite3_column_text(st, 1);
		struct refusal *e;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct refusal *g = nc > (size_t)REFUSALS_MAX ? NULL : realloc(r, nc * sizeof *g);
			if (!g) {
				rc = lg_error_set(sc->err, nc > (size_t)REFUSALS_MAX ? LG_EDATA
				                  : LG_EINTERNAL, "more than %ld front risk refusals "
				                  "or out of memory", REFUSALS_MAX);
				break;
			}
			r = g;
			cap = nc;
		}
		e = &r[*n];
		e->id = sqlite3_column_int64(st, 0);
		e->day = ledger_day_number(date ? date : "");
		snprintf(e->date, sizeof e->date, "%s", date ? date : "");
		/* NOT NULL in the front's schema; "" keeps a foreign row harmless. */
		e->customer = strdup(sqlite3_column_text(st, 2)
		                     ? (const char *)sqlite3_column_text(st, 2) : "");
		e->reason = strdup(sqlite3_column_text(st, 3)
		                   ? (const char *)sqlite3_column_text(st, 3) : "");
		(*n)++;
		if (!e->customer || !e->reason)
			rc = lg_error_set(sc->err, LG_EINTERNAL, "out of memory");
		else if (e->day == DAY_NONE)
			rc = lg_error_set(sc->err, LG_EDATA, "front risk refusal %lld: time '%s' "
			                  "is not a date", e->id, date ? date : "");
	}
	if (!rc && step != SQLITE_DONE)
		rc = rpt_aml_sql_error(lg, sc->err, "reading front risk refusals");
	sqlite3_finalize(st);
	*out = r;
	return rc;
}

static int refusals(ledger *lg, struct scan *sc)
{
	struct refusal *r = NULL;
	size_t n = 0;
	int have = 0, rc;

	rc = rpt_table_exists(lg, "front_risk_refusals", &have, sc->err);
	if (rc || !have)
		return rc; /* a ledger the front never served has none */
	rc = refusals_load(lg, sc, &r, &n);
	if (!rc && n > 1)
		qsort(r, n, sizeof *r, refusal_cmp);
	for (size_t a = 0; a < n && !rc;) {
		size_t b = a + 1;
		while (b < n && strcmp(r[b].customer, r[a].customer) == 0)
			b++;
		rc = refusal_windows(sc, r, a, b);
		a = b;
	}
	for (size_t i = 0; i < n; i++) {
		free(r[i].customer);
		free(r[i].reason);
	}
	free(r);
	return rc;
}
