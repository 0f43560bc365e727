/*
 * cmd_clearing.c - reconciliation commands: reconcile, breaks, match,
 * unmatch, and the nightly batch with the reports it writes.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../clearing/clearing.h"
#include "../reports/aml.h"
#include "../reports/reports.h"

#define LIST_MAX 64

static int load_config(const char *path, clr_config *cfg)
{
	lg_error err;

	clr_config_init(cfg);
	if (!path)
		return 0;
	lg_error_init(&err);
	if (clr_config_load(cfg, path, &err) != LG_OK)
		return cli_fail(&err);
	return 0;
}

static const char *user_name(void)
{
	const char *u = getenv("USER");
	return u && u[0] ? u : "unknown";
}

static void print_stats(const char *channel, const clr_recon_stats *s)
{
	printf("%s: %ld line(s), %ld open item(s); %ld match(es): reference %ld, "
	       "amount %ld, one-to-many %ld, many-to-one %ld; breaks: %ld line(s), "
	       "%ld item(s), %ld other\n",
	       channel, s->lines, s->items, s->matches, s->matched_by_rule[0],
	       s->matched_by_rule[1], s->matched_by_rule[2], s->matched_by_rule[3],
	       s->line_breaks, s->item_breaks, s->other_breaks);
}

/* Reconciliation reads lines and writes rows on second threads unless
 * CLEARBOOK_THREADS=1 asks for one (the same ledger comes out either way;
 * the tests compare the two). */
static int open_flags_threads(void)
{
	const char *t = getenv("CLEARBOOK_THREADS");
	return t && strcmp(t, "1") == 0 ? 0 : LEDGER_OPEN_THREADS;
}

int cmd_reconcile(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook reconcile --channel C --date YYYY-MM-DD [--config FILE]\n"
		"Matches the channel's staged statement lines (booked on or before the\n"
		"date) against the open items of its clearing account, in four passes:\n"
		"reference, amount and counterparty within the window, one-to-many\n"
		"(batch or payout id, else a bounded subset search), many-to-one.  Each\n"
		"match posts its settlement; what stays open is recorded as a break of\n"
		"the date.  Run again, it changes nothing.  --config names the nightly\n"
		"configuration with the channel's accounts, fees and windows.\n"
		"Lines are read, and settlement and match rows written, on second\n"
		"threads; CLEARBOOK_THREADS=1 does it all on one (same result).\n";
	const char *channel = NULL, *date = NULL, *config = NULL, *pos[1];
	struct cli_opt opts[] = { { "--channel", &channel, NULL }, { "--date", &date, NULL },
	                          { "--config", &config, NULL }, { NULL, NULL, NULL } };
	clr_channel scratch;
	clr_recon_stats stats;
	clr_config cfg;
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!channel || !date) {
		fprintf(stderr, "clearbook: reconcile: --channel and --date are required\n%s",
		        usage);
		return LG_EUSAGE;
	}
	rc = load_config(config, &cfg);
	if (!rc)
		rc = cli_open(cx, open_flags_threads(), &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rc = clr_reconcile(lg, clr_config_channel(&cfg, channel, &scratch), date, &stats,
	                   &err);
	ledger_close(lg);
	if (rc)
		return cli_fail(&err);
	print_stats(channel, &stats);
	return 0;
}

static int break_row(void *ctx, const clr_break_row *r)
{
	char id[24], line[24], age[24];
	snprintf(id, sizeof id, "%lld", r->id);
	snprintf(line, sizeof line, "%lld", r->line_id);
	snprintf(age, sizeof age, "%ld", r->age_days);
	const char *cells[] = { id, r->date, r->channel, r->kind,
	                        r->line_id ? line : "", r->tx_id ? r->tx_id : "",
	                        r->amount, r->asset ? r->asset : "", age,
	                        r->resolved ? "resolved" : "open", r->reason,
	                        r->candidates };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

static void breaks_table(out_table *t)
{
	static const char *const names[] = { "id", "date", "channel", "kind", "line",
	                                      "transaction", "amount", "asset",
	                                      "age_days", "status", "reason",
	                                      "candidates" };
	static const unsigned flags[] = { OUT_INTEGER, 0, 0, 0, OUT_INTEGER, 0,
	                                  OUT_NUMERIC, 0, OUT_INTEGER, 0, 0, 0 };
	out_table_init(t, 12, names, flags);
}

static int match_row(void *ctx, const clr_match_row *r)
{
	char id[24];
	snprintf(id, sizeof id, "%lld", r->id);
	const char *cells[] = { id, r->channel, r->rule, r->settlement_id, r->lines,
	                        r->items, r->user, r->reason, r->created_at,
	                        r->undone ? "undone" : "" };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

static void matches_table(out_table *t)
{
	static const char *const names[] = { "id", "channel", "rule", "settlement",
	                                      "lines", "transactions", "user", "reason",
	                                      "created_at", "undone" };
	static const unsigned flags[] = { OUT_INTEGER, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	out_table_init(t, 10, names, flags);
}

enum listing { LIST_BREAKS, LIST_MATCHES };

/* `breaks list` and `match list`: options, the table, the format. */
static int list_command(const cli_ctx *cx, int argc, char **argv, const char *usage,
                        enum listing what)
{
	const char *date = NULL, *channel = NULL, *format = NULL, *pos[1];
	struct cli_opt opts[] = { { "--channel", &channel, NULL },
	                          { "--format", &format, NULL },
	                          { what == LIST_BREAKS ? "--date" : NULL, &date, NULL },
	                          { NULL, NULL, NULL } };
	enum out_format f;
	out_table t;
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	rc = cli_format(format, &f);
	if (!rc)
		rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	if (what == LIST_BREAKS)
		breaks_table(&t);
	else
		matches_table(&t);
	rc = clr_schema(lg, &err);
	if (!rc && what == LIST_BREAKS)
		rc = clr_breaks_list(lg, date, channel, break_row, &t, &err);
	else if (!rc)
		rc = clr_matches_list(lg, channel, match_row, &t, &err);
	ledger_close(lg);
	if (!rc)
		out_table_print(&t, f, stdout);
	out_table_release(&t);
	return rc ? cli_fail(&err) : 0;
}

static int breaks_list(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook breaks list [--date YYYY-MM-DD] [--channel C]\n"
		"                             [--format text|csv|json]\n"
		"Lists the reconciliation breaks of a night (default: the latest): kind\n"
		"(unknown, duplicate, fee, amount, unsettled, late, payout-rejected,\n"
		"settlement-refused), the line or transaction, amount, age in days,\n"
		"whether it was resolved since, the reason and the nearest candidates.\n";
	return list_command(cx, argc, argv, usage, LIST_BREAKS);
}

int cmd_breaks(const cli_ctx *cx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return breaks_list(cx, argc - 1, argv + 1);
	return breaks_list(cx, argc, argv);
}

static int match_list(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook match list [--channel C] [--format text|csv|json]\n"
		"Lists every match with its rule, settlement, lines and transactions,\n"
		"who made it and why, and whether it was undone.\n";
	return list_command(cx, argc, argv, usage, LIST_MATCHES);
}

/* Splits a comma-separated list in place. */
static int split_list(char *text, char **out, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n >= max)
			return -1;
		out[n++] = tok;
	}
	return n;
}

int cmd_match(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook match --channel C --lines ID[,ID...] --items TX[,TX...]\n"
		"                       --reason TEXT [--config FILE]\n"
		"       clearbook match list [--channel C] [--format text|csv|json]\n"
		"Matches statement lines to open items (transaction ids) by hand and\n"
		"posts the settlement; a difference goes to the channel's fee account.\n"
		"The reason is required and recorded with the user ($USER).\n";
	const char *channel = NULL, *lines = NULL, *items = NULL, *reason = NULL,
		*config = NULL, *pos[1];
	struct cli_opt opts[] = { { "--channel", &channel, NULL }, { "--lines", &lines, NULL },
	                          { "--items", &items, NULL }, { "--reason", &reason, NULL },
	                          { "--config", &config, NULL }, { NULL, NULL, NULL } };
	char lbuf[4096], ibuf[8192], *lv[LIST_MAX], *iv[LIST_MAX];
	long long line_ids[LIST_MAX], match_id = 0;
	clr_channel scratch;
	clr_config cfg;
	lg_error err;
	ledger *lg;
	int n, ln, in_, rc;

	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return match_list(cx, argc - 1, argv + 1);
	rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!channel || !lines || !items || !reason || !reason[0]) {
		fprintf(stderr, "clearbook: match: --channel, --lines, --items and --reason "
		        "are required\n%s", usage);
		return LG_EUSAGE;
	}
	snprintf(lbuf, sizeof lbuf, "%s", lines);
	snprintf(ibuf, sizeof ibuf, "%s", items);
	ln = split_list(lbuf, lv, LIST_MAX);
	in_ = split_list(ibuf, iv, LIST_MAX);
	if (ln <= 0 || in_ <= 0) {
		fprintf(stderr, "clearbook: match: 1 to %d lines and items\n", LIST_MAX);
		return LG_EUSAGE;
	}
	for (int i = 0; i < ln; i++) {
		char *end;
		errno = 0;
		line_ids[i] = strtoll(lv[i], &end, 10);
		if (errno || *end || line_ids[i] <= 0) {
			fprintf(stderr, "clearbook: match: --lines: '%s' is not a line id\n", lv[i]);
			return LG_EUSAGE;
		}
	}
	rc = load_config(config, &cfg);
	if (!rc)
		rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rc = clr_match_manual(lg, clr_config_channel(&cfg, channel, &scratch), line_ids, ln,
	                      (const char *const *)iv, in_, reason, user_name(), &match_id,
	                      &err);
	ledger_close(lg);
	if (rc)
		return cli_fail(&err);
	printf("match %lld: %d line(s), %d item(s) settled by hand\n", match_id, ln, in_);
	return 0;
}

int cmd_unmatch(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook unmatch MATCH_ID --reason TEXT\n"
		"Undoes a match: reverses its settlement and records who and why; the\n"
		"lines and items are open again.  Nothing is deleted.\n";
	const char *reason = NULL, *pos[1];
	struct cli_opt opts[] = { { "--reason", &reason, NULL }, { NULL, NULL, NULL } };
	long long id;
	char *end;
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	errno = 0;
	id = strtoll(pos[0], &end, 10);
	if (errno || *end || id <= 0 || !reason || !reason[0]) {
		fprintf(stderr, "clearbook: unmatch: a match id and --reason are required\n%s",
		        usage);
		return LG_EUSAGE;
	}
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rc = clr_unmatch(lg, id, reason, user_name(), &err);
	ledger_close(lg);
	if (rc)
		return cli_fail(&err);
	printf("match %lld undone; its settlement is reversed\n", id);
	return 0;
}

/* --- nightly reports ---------------------------------------------------- */
struct report_ctx {
	const clr_config *cfg;
};

/* Finishes a file written to TMP: flushed, synced, closed and renamed to
 * PATH.  On any failure (rc already set, or a full disk, a file size limit)
 * TMP is removed, so a failed night leaves no half-written file behind and
 * the last good PATH stays as it was. */
static int finish_tmp(FILE *fp, const char *tmp, const char *path, int rc,
                      lg_error *err)
{
	int bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
	int e = errno;

	if (fclose(fp) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (!rc && bad)
		rc = lg_error_set(err, LG_EIO, "%s: write failed: %s", tmp, strerror(e));
	if (!rc && rename(tmp, path) != 0)
		rc = lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

/* Writes a table to DIR/NAME atomically (a temporary file renamed). */
static int write_table(const char *dir, const char *name, const out_table *t,
                       enum out_format f, lg_error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fp = fopen(tmp, "w");
	if (!fp)
		return lg_error_set(err, LG_EIO, "%s: %s", tmp, strerror(errno));
	out_table_print(t, f, fp);
	return finish_tmp(fp, tmp, path, LG_OK, err);
}

/* Writes report `name` as of `date` to DIR/NAME.EXT atomically. */
static int write_report(ledger *lg, const char *dir, const char *name,
                        const char *date, enum rpt_format f, const char *ext,
                        lg_error *err)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 72];
	rpt_options o = { name, NULL, date, NULL, 0 };
	rpt_doc doc;
	FILE *fp;
	int rc;

	snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	rpt_doc_init(&doc);
	rc = rpt_run(lg, &o, &doc, err);
	fp = rc ? NULL : fopen(tmp, "w");
	if (!rc && !fp)
		rc = lg_error_set(err, LG_EIO, "%s: %s", tmp, strerror(errno));
	if (!rc) {
		rc = rpt_render(&doc, f, fp, err);
		/* The renderer does not know the file's name. */
		if (rc == LG_EIO)
			rc = lg_error_set(err, LG_EIO, "%s: write failed: %s", tmp,
			                  strerror(errno));
	}
	if (fp)
		rc = finish_tmp(fp, tmp, path, rc, err);
	rpt_doc_release(&doc);
	return rc;
}

/* The books as of the night, for finance and the auditors: each report as
 * a self-contained HTML page and in a machine-readable format. */
static int nightly_books(ledger *lg, const char *date, const char *outdir,
                         lg_error *err)
{
	static const struct { const char *name, *ext; enum rpt_format f; } books[] = {
		{ "trial-balance", "html", RPT_HTML }, { "trial-balance", "csv", RPT_CSV },
		{ "settlement", "html", RPT_HTML }, { "settlement", "csv", RPT_CSV },
		{ "reconciliation", "html", RPT_HTML }, { "reconciliation", "json", RPT_JSON },
		{ "aml", "html", RPT_HTML }, { "aml", "json", RPT_JSON },
		{ "chargebacks", "html", RPT_HTML }, { "chargebacks", "csv", RPT_CSV },
	};
	char dir[PATH_MAX];
	int rc = LG_OK;

	snprintf(dir, sizeof dir, "%s/books", outdir);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return lg_error_set(err, LG_EIO, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < sizeof books / sizeof *books && !rc; i++)
		rc = write_report(lg, dir, books[i].name, date, books[i].f, books[i].ext, err);
	return rc;
}

static int balance_cell_row(void *ctx, const ledger_balance_row *r)
{
	char posted[AMOUNT_TEXT_MAX], pending[AMOUNT_TEXT_MAX], avail[AMOUNT_TEXT_MAX];
	if (r->is_rollup)
		return 0;
	amount_format(r->posted_minor, r->scale, posted, sizeof posted);
	amount_format(r->pending_minor, r->scale, pending, sizeof pending);
	amount_format(r->available_minor, r->scale, avail, sizeof avail);
	const char *cells[] = { r->account, r->asset, posted, pending, avail };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

static int summary_table(ledger *lg, const clr_config *cfg, const char *date,
                         out_table *t, lg_error *err)
{
	static const char *const names[] = { "channel", "lines", "matched", "reference",
	                                      "amount", "one_to_many", "many_to_one",
	                                      "manual", "breaks", "breaks_open" };
	static const unsigned flags[] = { 0, OUT_INTEGER, OUT_INTEGER, OUT_INTEGER,
	                                  OUT_INTEGER, OUT_INTEGER, OUT_INTEGER,
	                                  OUT_INTEGER, OUT_INTEGER, OUT_INTEGER };
	out_table_init(t, 10, names, flags);
	for (int i = 0; i < cfg->channels_n; i++) {
		clr_summary s;
		char v[9][24];
		int rc = clr_channel_summary(lg, cfg->channels[i].name, date, &s, err);
		if (rc)
			return rc;
		long nums[9] = { s.lines, s.lines_matched, s.matches_by_rule[0],
		                 s.matches_by_rule[1], s.matches_by_rule[2],
		                 s.matches_by_rule[3], s.matches_by_rule[4], s.breaks,
		                 s.breaks_open };
		for (int k = 0; k < 9; k++)
			snprintf(v[k], sizeof v[k], "%ld", nums[k]);
		const char *cells[] = { cfg->channels[i].name, v[0], v[1], v[2], v[3],
		                        v[4], v[5], v[6], v[7], v[8] };
		if (out_table_add(t, cells))
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
	}
	return LG_OK;
}

static int count_breaks(void *ctx, const clr_break_row *r)
{
	(void)r;
	(*(long *)ctx)++;
	return 0;
}

/* The night's breaks by kind, and their amounts per asset. */
#define TALLY_MAX 16
struct tally {
	ledger *lg;
	const char *kind[TALLY_MAX];
	long kind_n[TALLY_MAX];
	int kinds;
	char asset[TALLY_MAX][LG_ASSET_CODE_MAX + 1];
	int scale[TALLY_MAX];
	amount_minor_t sum_minor[TALLY_MAX];
	int assets;
	char kinds_text[TALLY_MAX][32];
};

static int tally_break(void *ctx, const clr_break_row *r)
{
	struct tally *t = ctx;
	amount_minor_t v;
	int k, a, scale;
	char why[64];
	lg_error err;

	for (k = 0; k < t->kinds && strcmp(t->kinds_text[k], r->kind) != 0; k++)
		;
	if (k == t->kinds && k < TALLY_MAX) {
		snprintf(t->kinds_text[k], sizeof t->kinds_text[k], "%s", r->kind);
		t->kind[k] = t->kinds_text[k];
		t->kinds++;
	}
	if (k < TALLY_MAX)
		t->kind_n[k]++;
	lg_error_init(&err);
	if (!r->asset || ledger_asset_scale(t->lg, r->asset, &scale, &err) != 0 ||
	    amount_parse(r->amount, strlen(r->amount), scale, &v, why, sizeof why) != 0)
		return 0;
	for (a = 0; a < t->assets && strcmp(t->asset[a], r->asset) != 0; a++)
		;
	if (a == t->assets) {
		if (a >= TALLY_MAX)
			return 0;
		snprintf(t->asset[a], sizeof t->asset[a], "%s", r->asset);
		t->scale[a] = scale;
		t->sum_minor[a] = 0;
		t->assets++;
	}
	if (amount_add(t->sum_minor[a], v < 0 ? -v : v, &t->sum_minor[a]) != 0)
		return LG_EDATA;
	return 0;
}

static void print_tally(ledger *lg, const char *date)
{
	struct tally t;
	lg_error err;

	memset(&t, 0, sizeof t);
	t.lg = lg;
	lg_error_init(&err);
	if (clr_breaks_list(lg, date, NULL, tally_break, &t, &err) != 0)
		return;
	printf("  breaks by kind:");
	for (int k = 0; k < t.kinds; k++)
		printf("%s %s %ld", k ? "," : "", t.kind[k], t.kind_n[k]);
	printf("%s\n  amounts in breaks:", t.kinds ? "" : " none");
	for (int a = 0; a < t.assets; a++) {
		char text[AMOUNT_TEXT_MAX];
		amount_format(t.sum_minor[a], t.scale[a], text, sizeof text);
		printf("%s %s %s", a ? "," : "", text, t.asset[a]);
	}
	printf("%s\n", t.assets ? "" : " none");
}

/* The night's reports, each from the database alone: a re-run writes the
 * same bytes. */
static int nightly_reports(void *ctx, ledger *lg, const char *date,
                           const char *outdir, long *breaks_out, lg_error *err)
{
	static const char *const bal_names[] = { "account", "asset", "posted", "pending",
	                                          "available" };
	static const unsigned bal_flags[] = { 0, 0, OUT_NUMERIC, OUT_NUMERIC, OUT_NUMERIC };
	const struct report_ctx *rc_ = ctx;
	out_table t;
	int rc;

	*breaks_out = 0;
	rc = summary_table(lg, rc_->cfg, date, &t, err);
	if (!rc)
		rc = write_table(outdir, "reconciliation.txt", &t, OUT_TEXT, err);
	if (!rc)
		rc = write_table(outdir, "reconciliation.json", &t, OUT_JSON, err);
	out_table_release(&t);
	breaks_table(&t);
	if (!rc)
		rc = clr_breaks_list(lg, date, NULL, break_row, &t, err);
	if (!rc)
		rc = write_table(outdir, "breaks.txt", &t, OUT_TEXT, err);
	if (!rc)
		rc = write_table(outdir, "breaks.csv", &t, OUT_CSV, err);
	if (!rc)
		rc = write_table(outdir, "breaks.json", &t, OUT_JSON, err);
	out_table_release(&t);
	if (!rc)
		rc = clr_breaks_list(lg, date, NULL, count_breaks, breaks_out, err);
	matches_table(&t);
	if (!rc)
		rc = clr_matches_list(lg, NULL, match_row, &t, err);
	if (!rc)
		rc = write_table(outdir, "matches.csv", &t, OUT_CSV, err);
	out_table_release(&t);
	out_table_init(&t, 5, bal_names, bal_flags);
	if (!rc)
		rc = ledger_balances(lg, NULL, date, balance_cell_row, &t, err);
	if (!rc)
		rc = write_table(outdir, "balances.csv", &t, OUT_CSV, err);
	out_table_release(&t);
	if (!rc)
		rc = nightly_books(lg, date, outdir, err);
	return rc;
}

/* AML monitoring of the night: the business day before it and the night's
 * own date, with the default rules (docs/aml.md); alerts are stored once. */
static int nightly_aml(void *ctx, ledger *lg, const char *date, char *detail,
                       size_t detail_cap, lg_error *err)
{
	rpt_aml_config cfg;
	rpt_aml_scan_stats st;
	char from[11];
	struct tm tm;
	time_t t;
	int rc;

	(void)ctx;
	memset(&tm, 0, sizeof tm);
	if (!strptime(date, "%Y-%m-%d", &tm))
		return lg_error_set(err, LG_EUSAGE, "date '%s' is not YYYY-MM-DD", date);
	t = timegm(&tm) - 24 * 60 * 60;
	gmtime_r(&t, &tm);
	strftime(from, sizeof from, "%Y-%m-%d", &tm);
	rpt_aml_config_init(&cfg);
	rc = rpt_aml_scan(lg, &cfg, from, date, &st, err);
	if (!rc)
		snprintf(detail, detail_cap, "aml %s..%s: %ld transactions, %ld alerts, "
		         "%ld new", from, date, st.transactions, st.alerts, st.added);
	return rc;
}

int cmd_nightly(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook nightly --date YYYY-MM-DD --inbox DIR --outbox DIR\n"
		"                         [--config FILE] [--quiet]\n"
		"The nightly batch: imports every file of the inbox (the configuration's\n"
		"[inbox] rules map file names to profiles, channels and accounts; a file\n"
		"that fails is moved to OUTBOX/DATE/rejected/ with its reason), applies\n"
		"pain.002 payment statuses (a rejected payout is reversed), reconciles\n"
		"every configured channel in order, expires holds, runs the AML rules\n"
		"over the day before and the night (clearbook aml alerts), and writes the\n"
		"reports to OUTBOX/DATE/: reconciliation.txt/.json, breaks.txt/.csv/\n"
		".json, matches.csv, balances.csv, and the books in OUTBOX/DATE/books/\n"
		"(trial-balance and settlement .html and .csv, reconciliation .html\n"
		"and .json, aml .html and .json, chargebacks .html and .csv: see\n"
		"clearbook report).  One nightly at a time (exit 75); a re-run or a run\n"
		"after a crash finishes the night without changing what was done.\n"
		"Exit 1 when a file was rejected.  CLEARBOOK_THREADS=1: as reconcile.\n";
	const char *date = NULL, *inbox = NULL, *outbox = NULL, *config = NULL, *pos[1];
	int quiet = 0;
	struct cli_opt opts[] = { { "--date", &date, NULL }, { "--inbox", &inbox, NULL },
	                          { "--outbox", &outbox, NULL }, { "--config", &config, NULL },
	                          { "--quiet", NULL, &quiet }, { NULL, NULL, NULL } };
	char exe[PATH_MAX];
	clr_nightly_opts o;
	clr_nightly_result res;
	struct report_ctx rctx;
	clr_config cfg;
	lg_error err;
	ledger *lg;
	ssize_t len;
	int n, rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!date || !inbox || !outbox) {
		fprintf(stderr, "clearbook: nightly: --date, --inbox and --outbox are "
		        "required\n%s", usage);
		return LG_EUSAGE;
	}
	len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len <= 0) {
		fprintf(stderr, "clearbook: nightly: cannot find my own executable\n");
		return LG_EINTERNAL;
	}
	exe[len] = '\0';
	rc = load_config(config, &cfg);
	if (!rc)
		rc = cli_open(cx, open_flags_threads(), &lg);
	if (rc)
		return rc;
	rctx.cfg = &cfg;
	memset(&o, 0, sizeof o);
	o.date = date;
	o.inbox = inbox;
	o.outbox = outbox;
	o.db_path = cx->db_path;
	o.self_exe = exe;
	o.now = cx->now;
	o.progress = !quiet && isatty(2);
	o.write_reports = nightly_reports;
	o.reports_ctx = &rctx;
	o.monitor = nightly_aml;
	lg_error_init(&err);
	rc = clr_nightly(lg, &cfg, &o, &res, &err);
	if (rc && rc != LG_ECHECK) {
		ledger_close(lg);
		return cli_fail(&err);
	}
	printf("nightly %s%s: %ld file(s) (%ld already imported, %ld rejected), "
	       "%ld statement line(s) staged\n", date, res.resumed ? " (resumed)" : "",
	       res.files, res.files_skipped, res.files_rejected, res.lines_staged);
	printf("  matched this run: %ld (reference %ld, amount %ld, one-to-many %ld, "
	       "many-to-one %ld)\n", res.recon.matches, res.recon.matched_by_rule[0],
	       res.recon.matched_by_rule[1], res.recon.matched_by_rule[2],
	       res.recon.matched_by_rule[3]);
	printf("  payouts rejected: %ld, holds expired: %ld, breaks of the night: %ld\n",
	       res.payouts_rejected, res.holds_expired, res.breaks);
	print_tally(lg, date);
	ledger_close(lg);
	printf("  reports: %s/%s/\n", outbox, date);
	return rc;
}
