/*
 * recon.c - the reconciliation report: how much of each channel's
 * statement lines the clearing module matched, by which rule, and the
 * breaks still standing by age and amount.  It reads the clearing tables
 * with SQL (docs/clearing.md describes them); a ledger that never
 * reconciled has none, and the report says so instead of failing.
 */
#include "reports_int.h"

#include <stdlib.h>
#include <string.h>

#define RPT_CHANNELS_MAX 256
#define RPT_AGEING_ROWS_MAX 4096

static const char *const bucket_names[] = { "0-1", "2-7", "8-30", "over 30" };

static int bucket_of(long age_days)
{
	return age_days <= 1 ? 0 : age_days <= 7 ? 1 : age_days <= 30 ? 2 : 3;
}

/* A break resolves once its line or item is in a match not undone;
 * `late` and `payout-rejected` are facts, never resolved (clearing/store.c
 * reads them the same way). */
#define RESOLVED_SQL                                                            \
	"(b.kind NOT IN ('late', 'payout-rejected') AND ("                          \
	" EXISTS(SELECT 1 FROM clearing_match_lines ml WHERE ml.line_id = b.line_id" \
	"  AND b.line_id > 0 AND NOT EXISTS(SELECT 1 FROM clearing_unmatches u"     \
	"  WHERE u.match_id = ml.match_id))"                                        \
	" OR EXISTS(SELECT 1 FROM clearing_match_items mi WHERE"                    \
	"  mi.item_seq = b.item_seq AND b.item_seq > 0 AND NOT EXISTS(SELECT 1"     \
	"  FROM clearing_unmatches u WHERE u.match_id = mi.match_id))))"

struct chan {
	char name[64];
	long lines, matched, breaks, breaks_open;
};
struct ageing {
	char channel[64], asset[LG_ASSET_CODE_MAX];
	int bucket, scale;
	long breaks, open;
	amount_minor_t amount_minor;
};
struct recon {
	struct chan chan[RPT_CHANNELS_MAX];
	size_t chan_n;
	struct ageing *age;
	size_t age_n;
	long bucket_open[4];
};

static struct chan *chan_get(struct recon *r, const char *name, lg_error *err)
{
	size_t i = 0;

	while (i < r->chan_n && strcmp(r->chan[i].name, name) != 0)
		i++;
	if (i == r->chan_n) {
		if (r->chan_n == RPT_CHANNELS_MAX) {
			lg_error_set(err, LG_EDATA, "more than %d channels", RPT_CHANNELS_MAX);
			return NULL;
		}
		memset(&r->chan[i], 0, sizeof r->chan[i]);
		snprintf(r->chan[i].name, sizeof r->chan[i].name, "%s", name);
		r->chan_n++;
	}
	return &r->chan[i];
}

static int chan_cmp(const void *a, const void *b)
{
	return strcmp(((const struct chan *)a)->name, ((const struct chan *)b)->name);
}

static int read_lines(ledger *lg, const rpt_options *o, struct recon *r,
                      lg_error *err)
{
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT l.channel, count(*), sum(EXISTS(SELECT 1 FROM"
	                     " clearing_match_lines ml WHERE ml.line_id = l.id AND NOT"
	                     " EXISTS(SELECT 1 FROM clearing_unmatches u WHERE u.match_id"
	                     " = ml.match_id))) FROM statement_lines l WHERE l.parent_id"
	                     " IS NULL AND COALESCE(l.booking_date, l.value_date, '')"
	                     " BETWEEN ?1 AND ?2 GROUP BY l.channel ORDER BY l.channel",
	                     &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->to, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct chan *c = chan_get(r, (const char *)sqlite3_column_text(st, 0), err);
		if (!c) {
			rc = err->code;
			goto out;
		}
		c->lines = (long)sqlite3_column_int64(st, 1);
		c->matched = (long)sqlite3_column_int64(st, 2);
		RPT_ASSERT(c->matched >= 0 && c->matched <= c->lines);
	}
	rc = rc == SQLITE_DONE ? LG_OK : rpt_sql_error(lg, err, "reading statement lines");
out:
	sqlite3_finalize(st);
	return rc;
}

static int add_ageing(struct recon *r, const char *channel, int bucket,
                      const char *asset, int scale, amount_minor_t v, int open,
                      lg_error *err)
{
	size_t i = 0;

	while (i < r->age_n && !(r->age[i].bucket == bucket &&
	                         strcmp(r->age[i].channel, channel) == 0 &&
	                         strcmp(r->age[i].asset, asset) == 0))
		i++;
	if (i == r->age_n) {
		if (r->age_n == RPT_AGEING_ROWS_MAX)
			return lg_error_set(err, LG_EDATA, "more than %d ageing rows",
			                    RPT_AGEING_ROWS_MAX);
		memset(&r->age[i], 0, sizeof r->age[i]);
		snprintf(r->age[i].channel, sizeof r->age[i].channel, "%s", channel);
		snprintf(r->age[i].asset, sizeof r->age[i].asset, "%s", asset);
		r->age[i].bucket = bucket;
		r->age[i].scale = scale;
		r->age_n++;
	}
	r->age[i].breaks++;
	r->age[i].open += open;
	if (amount_add(r->age[i].amount_minor, v, &r->age[i].amount_minor) != 0)
		return lg_error_set(err, LG_EDATA, "sum of break amounts overflows");
	return LG_OK;
}

/* The breaks of the period, each (channel, kind, line, item) once: its
 * latest night, with the age it had then.  The latest nights are found in
 * one grouped pass and each is read back through the table's unique index
 * (date, channel, kind, line_id, item_seq); a correlated max() per break
 * instead rescanned the period's breaks for every one of them (35,000
 * breaks of a 1,000,000-line reconciliation: 57 s of CPU). */
static int read_breaks(ledger *lg, const rpt_options *o, struct recon *r,
                       rpt_table *detail, lg_error *err)
{
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT b.date, b.channel, b.kind, b.line_id, b.tx_id,"
	                     " b.amount, COALESCE(b.asset, ''), COALESCE(b.scale, 0),"
	                     " b.age_days, " RESOLVED_SQL ", b.reason FROM (SELECT"
	                     " max(date) AS date, channel, kind, line_id, item_seq FROM"
	                     " clearing_breaks WHERE date BETWEEN ?1 AND ?2 GROUP BY"
	                     " channel, kind, line_id, item_seq) k CROSS JOIN"
	                     " clearing_breaks b ON b.date = k.date AND b.channel ="
	                     " k.channel AND b.kind = k.kind AND b.line_id = k.line_id"
	                     " AND b.item_seq = k.item_seq"
	                     " ORDER BY b.channel, b.age_days, b.kind, b.id", &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->to, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *channel = (const char *)sqlite3_column_text(st, 1);
		const char *asset = (const char *)sqlite3_column_text(st, 6);
		int scale = sqlite3_column_int(st, 7), open = !sqlite3_column_int(st, 9);
		long age = (long)sqlite3_column_int64(st, 8);
		struct chan *c = chan_get(r, channel, err);
		amount_minor_t v;
		if (!c) {
			rc = err->code;
			goto out;
		}
		rc = rpt_col_amount(st, 5, &v, err);
		if (!rc && (scale < 0 || scale > AMOUNT_SCALE_MAX))
			rc = lg_error_set(err, LG_EDATA, "a break has scale %d", scale);
		if (!rc)
			rc = add_ageing(r, channel, bucket_of(age), asset, scale, v, open, err);
		if (rc)
			goto out;
		c->breaks++;
		c->breaks_open += open;
		r->bucket_open[bucket_of(age)] += open;
		if (detail) {
			char amt[AMOUNT_TEXT_MAX], line[24], agetxt[24];
			snprintf(line, sizeof line, "%lld", sqlite3_column_int64(st, 3));
			snprintf(agetxt, sizeof agetxt, "%ld", age);
			const char *row[] = { (const char *)sqlite3_column_text(st, 0), channel,
				              (const char *)sqlite3_column_text(st, 2),
				              sqlite3_column_int64(st, 3) > 0 ? line : "",
				              (const char *)sqlite3_column_text(st, 4),
				              rpt_amt(v, scale, amt), asset, agetxt,
				              bucket_names[bucket_of(age)], open ? "open" : "resolved",
				              (const char *)sqlite3_column_text(st, 10) };
			rc = rpt_table_add(detail, row, err);
			if (rc)
				goto out;
		}
	}
	rc = rc == SQLITE_DONE ? LG_OK : rpt_sql_error(lg, err, "reading breaks");
out:
	sqlite3_finalize(st);
	return rc;
}

static int rules_table(ledger *lg, const rpt_options *o, const struct recon *r,
                       rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = { "channel", "rule", "matches", "lines",
		                                     "share_of_lines_pct" };
	static const unsigned flags[] = { 0, 0, RPT_INTEGER, RPT_INTEGER, RPT_NUMERIC };
	rpt_table *t = rpt_doc_add_table(doc, "rules", "Matched lines by rule", 5,
	                                 names, flags);
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT l.channel, m.rule, count(DISTINCT m.id),"
	                     " count(DISTINCT l.id) FROM statement_lines l JOIN"
	                     " clearing_match_lines ml ON ml.line_id = l.id JOIN"
	                     " clearing_matches m ON m.id = ml.match_id WHERE l.parent_id"
	                     " IS NULL AND COALESCE(l.booking_date, l.value_date, '')"
	                     " BETWEEN ?1 AND ?2 AND NOT EXISTS(SELECT 1 FROM"
	                     " clearing_unmatches u WHERE u.match_id = m.id)"
	                     " GROUP BY l.channel, m.rule ORDER BY l.channel, m.rule",
	                     &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->to, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *channel = (const char *)sqlite3_column_text(st, 0);
		long long lines = sqlite3_column_int64(st, 3), total = 0;
		char m[24], l[24], pct[AMOUNT_TEXT_MAX];
		for (size_t i = 0; i < r->chan_n; i++)
			if (strcmp(r->chan[i].name, channel) == 0)
				total = r->chan[i].lines;
		if (lines > total) /* a match counted twice would be our bug */
			lines = total;
		snprintf(m, sizeof m, "%lld", sqlite3_column_int64(st, 2));
		snprintf(l, sizeof l, "%lld", lines);
		const char *row[] = { channel, (const char *)sqlite3_column_text(st, 1), m, l,
			              rpt_amt(rpt_bps(lines, total), 2, pct) };
		rc = rpt_table_add(t, row, err);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? LG_OK : rpt_sql_error(lg, err, "reading matches");
out:
	sqlite3_finalize(st);
	return rc;
}

static int channels_table(struct recon *r, rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = { "channel", "lines", "matched", "unmatched",
		                                     "match_rate_pct", "breaks", "breaks_open" };
	static const unsigned flags[] = { 0, RPT_INTEGER, RPT_INTEGER, RPT_INTEGER,
		                              RPT_NUMERIC, RPT_INTEGER, RPT_INTEGER };
	rpt_table *t = rpt_doc_add_table(doc, "channels", "Match rate per channel", 7,
	                                 names, flags);
	rpt_chart *c;
	int rc = LG_OK;

	qsort(r->chan, r->chan_n, sizeof r->chan[0], chan_cmp);
	c = rpt_doc_add_chart(doc, "match_rate", "Match rate per channel", "%", 2,
	                      r->chan_n, err);
	if (!c)
		return err->code;
	for (size_t i = 0; i < r->chan_n && !rc; i++) {
		const struct chan *ch = &r->chan[i];
		char n[4][24], pct[AMOUNT_TEXT_MAX];
		long long bps = rpt_bps(ch->matched, ch->lines);
		snprintf(n[0], sizeof n[0], "%ld", ch->lines);
		snprintf(n[1], sizeof n[1], "%ld", ch->matched);
		snprintf(n[2], sizeof n[2], "%ld", ch->lines - ch->matched);
		snprintf(n[3], sizeof n[3], "%ld", ch->breaks);
		char open[24];
		snprintf(open, sizeof open, "%ld", ch->breaks_open);
		const char *row[] = { ch->name, n[0], n[1], n[2], rpt_amt(bps, 2, pct),
			              n[3], open };
		rc = rpt_table_add(t, row, err);
		if (i < c->n) {
			snprintf(c->label[i], sizeof c->label[i], "%s", ch->name);
			c->value_minor[i] = bps;
		}
	}
	return rc;
}

static int ageing_table(const struct recon *r, rpt_doc *doc, lg_error *err)
{
	static const char *const names[] = { "channel", "age_days", "asset", "breaks",
		                                     "open", "amount" };
	static const unsigned flags[] = { 0, 0, 0, RPT_INTEGER, RPT_INTEGER, RPT_NUMERIC };
	rpt_table *t = rpt_doc_add_table(doc, "ageing", "Breaks by age", 6, names, flags);
	rpt_chart *c = rpt_doc_add_chart(doc, "break_ageing", "Open breaks by age in days",
	                                 "", 0, 4, err);
	int rc = LG_OK;

	if (!c)
		return err->code;
	for (int b = 0; b < 4; b++) {
		snprintf(c->label[b], sizeof c->label[b], "%s", bucket_names[b]);
		c->value_minor[b] = r->bucket_open[b];
	}
	/* Rows come in channel then age order: the query sorted them so. */
	for (size_t i = 0; i < r->age_n && !rc; i++) {
		const struct ageing *a = &r->age[i];
		char n[2][24], amt[AMOUNT_TEXT_MAX];
		snprintf(n[0], sizeof n[0], "%ld", a->breaks);
		snprintf(n[1], sizeof n[1], "%ld", a->open);
		const char *row[] = { a->channel, bucket_names[a->bucket], a->asset, n[0],
			              n[1], rpt_amt(a->amount_minor, a->scale, amt) };
		rc = rpt_table_add(t, row, err);
	}
	return rc;
}

/* --detail: each top-level line of the period with the match that holds
 * it now (none: unmatched), so the lines and matched counts per channel and
 * the lines per rule can be counted from it. */
static int detail_lines(ledger *lg, const rpt_options *o, rpt_doc *doc,
                        lg_error *err)
{
	static const char *const names[] = { "channel", "line", "date", "amount",
		                                     "asset", "match", "rule", "settlement" };
	static const unsigned flags[] = { 0, RPT_INTEGER, 0, RPT_NUMERIC, 0,
		                              RPT_INTEGER, 0, 0 };
	rpt_table *t = rpt_doc_add_table(doc, "lines", "Statement lines behind the "
	                                 "match rates", 8, names, flags);
	sqlite3_stmt *st;
	int rc = rpt_prepare(lg, "SELECT l.channel, l.id, COALESCE(l.booking_date,"
	                     " l.value_date, ''), l.amount, s.scale, l.asset, m.id, m.rule,"
	                     " m.settlement_id FROM statement_lines l JOIN assets s ON"
	                     " s.code = l.asset LEFT JOIN clearing_matches m ON m.id ="
	                     " (SELECT min(ml.match_id) FROM clearing_match_lines ml WHERE"
	                     " ml.line_id = l.id AND NOT EXISTS(SELECT 1 FROM"
	                     " clearing_unmatches u WHERE u.match_id = ml.match_id))"
	                     " WHERE l.parent_id IS NULL AND COALESCE(l.booking_date,"
	                     " l.value_date, '') BETWEEN ?1 AND ?2 ORDER BY l.channel, l.id",
	                     &st, err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, o->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->to, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char amt[AMOUNT_TEXT_MAX];
		amount_minor_t v;
		rc = rpt_col_amount(st, 3, &v, err);
		if (rc)
			goto out;
		const char *row[] = { (const char *)sqlite3_column_text(st, 0),
			              (const char *)sqlite3_column_text(st, 1),
			              (const char *)sqlite3_column_text(st, 2),
			              rpt_amt(v, sqlite3_column_int(st, 4), amt),
			              (const char *)sqlite3_column_text(st, 5),
			              (const char *)sqlite3_column_text(st, 6),
			              (const char *)sqlite3_column_text(st, 7),
			              (const char *)sqlite3_column_text(st, 8) };
		rc = rpt_table_add(t, row, err);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? LG_OK : rpt_sql_error(lg, err, "reading statement lines");
out:
	sqlite3_finalize(st);
	return rc;
}

int rpt_reconciliation(ledger *lg, const rpt_options *o, rpt_doc *doc,
                       lg_error *err)
{
	static const char *const dnames[] = { "date", "channel", "kind", "line",
		                                      "transaction", "amount", "asset",
		                                      "age_days", "bucket", "status", "reason" };
	static const unsigned dflags[] = { 0, 0, 0, RPT_INTEGER, 0, RPT_NUMERIC, 0,
		                               RPT_INTEGER, 0, 0, 0 };
	struct recon *r = calloc(1, sizeof *r);
	int rc, have_lines = 0, have_clearing = 0;
	rpt_table *detail = NULL;

	doc->title = "Reconciliation";
	if (!r)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	r->age = calloc(RPT_AGEING_ROWS_MAX, sizeof *r->age);
	if (!r->age) {
		rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
		goto out;
	}
	rc = rpt_table_exists(lg, "statement_lines", &have_lines, err);
	if (!rc)
		rc = rpt_table_exists(lg, "clearing_breaks", &have_clearing, err);
	if (rc)
		goto out;
	if (!have_lines || !have_clearing) {
		rpt_doc_note(doc, "this ledger has never been reconciled: there are no "
		             "clearing tables (run clearbook reconcile or nightly)");
		rc = channels_table(r, doc, err);
		if (!rc)
			rc = ageing_table(r, doc, err);
		goto out;
	}
	if (o->detail)
		detail = rpt_doc_add_table(doc, "breaks", "Breaks", 11, dnames, dflags);
	rc = read_lines(lg, o, r, err);
	if (!rc)
		rc = read_breaks(lg, o, r, detail, err);
	if (!rc)
		rc = channels_table(r, doc, err);
	if (!rc)
		rc = rules_table(lg, o, r, doc, err);
	if (!rc)
		rc = ageing_table(r, doc, err);
	if (!rc && r->chan_n == 0)
		rpt_doc_note(doc, "no statement lines and no breaks from %s to %s",
		             o->from, o->to);
	if (!rc && detail) {
		/* The detail was filled first but reads best last. */
		rpt_table d = doc->table[0];
		memmove(&doc->table[0], &doc->table[1],
		        (doc->tables_n - 1) * sizeof doc->table[0]);
		doc->table[doc->tables_n - 1] = d;
		rc = detail_lines(lg, o, doc, err);
	}
out:
	if (r)
		free(r->age);
	free(r);
	return rc;
}
