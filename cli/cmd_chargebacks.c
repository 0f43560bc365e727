/*
 * cmd_chargebacks.c - the chargebacks command: post what the staged
 * dispute report moved, and report disputes.
 *
 *   clearbook chargebacks apply --date D [--config FILE]
 *   clearbook chargebacks report --from D --to D [--config FILE] [--format F]
 */
#include "cli.h"

#include <string.h>

#include "../reports/chargebacks.h"

static const char cb_usage[] =
	"usage: clearbook chargebacks apply --date YYYY-MM-DD [--config FILE]\n"
	"       clearbook chargebacks report --from YYYY-MM-DD --to YYYY-MM-DD\n"
	"                                    [--config FILE] [--format text|csv|json]\n"
	"apply posts the staged dispute lines (channel 'disputes') booked on or\n"
	"before the date: chargeback (merchant payable to card clearing), dispute\n"
	"fee, won reversal, lost write-off; again, it posts nothing new.\n"
	"report lists disputes by stage, reason-code family, merchant ratio\n"
	"against the schemes' thresholds, and deadlines coming due.\n"
	"See docs/chargebacks.md.\n";

static int load(const char *path, rpt_cb_config *cfg)
{
	lg_error err;

	rpt_cb_config_init(cfg);
	if (!path)
		return 0;
	lg_error_init(&err);
	if (rpt_cb_config_load(cfg, path, &err) != LG_OK)
		return cli_fail(&err);
	return 0;
}

static void problem(void *ctx, const char *dispute, const lg_error *err)
{
	(void)ctx;
	fprintf(stderr, "clearbook: dispute '%s': %s\n", dispute, err->msg);
}

static int cb_apply(const cli_ctx *cx, int argc, char **argv)
{
	const char *date = NULL, *config = NULL, *pos[1];
	struct cli_opt opts[] = { { "--date", &date, NULL }, { "--config", &config, NULL },
	                          { NULL, NULL, NULL } };
	rpt_cb_apply_stats st;
	rpt_cb_config cfg;
	ledger *lg = NULL;
	lg_error err;
	int rc, n;

	rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, cb_usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!date || !ledger_date_valid(date)) {
		fprintf(stderr, "clearbook: chargebacks apply needs --date YYYY-MM-DD\n%s",
		        cb_usage);
		return LG_EUSAGE;
	}
	rc = load(config, &cfg);
	if (rc)
		return rc;
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rc = rpt_cb_apply(lg, &cfg, date, &st, problem, NULL, &err);
	printf("chargebacks %s: %ld line(s): %ld posted, %ld replayed, %ld without "
	       "money, %ld failed\n", date, st.lines, st.posted, st.replayed, st.no_money,
	       st.failed);
	if (rc)
		rc = cli_fail(&err);
	ledger_close(lg);
	return rc;
}

static int add_row(void *ctx, const rpt_cb_row *r)
{
	char count[32], tx[32], ratio[32];
	const char *cells[12];

	snprintf(count, sizeof count, "%ld", r->count);
	snprintf(tx, sizeof tx, "%ld", r->transactions);
	snprintf(ratio, sizeof ratio, "%ld", r->ratio_bps);
	cells[0] = r->section;
	cells[1] = r->key;
	cells[2] = r->scheme;
	cells[3] = r->asset;
	cells[4] = count;
	cells[5] = r->amount;
	cells[6] = r->transactions >= 0 ? tx : "";
	cells[7] = r->ratio_bps >= 0 ? ratio : "";
	cells[8] = r->threshold;
	cells[9] = r->flag;
	cells[10] = r->deadline;
	cells[11] = r->detail;
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

static int cb_report(const cli_ctx *cx, int argc, char **argv)
{
	static const char *const names[] = { "section", "key", "scheme", "asset",
		"count", "amount", "transactions", "ratio_bps", "threshold", "flag",
		"deadline", "detail" };
	static const unsigned flags[] = { 0, 0, 0, 0, OUT_NUMERIC | OUT_INTEGER,
		OUT_NUMERIC, OUT_NUMERIC, OUT_NUMERIC, 0, 0, 0, 0 };
	const char *from = NULL, *to = NULL, *config = NULL, *format = NULL, *pos[1];
	struct cli_opt opts[] = { { "--from", &from, NULL }, { "--to", &to, NULL },
	                          { "--config", &config, NULL },
	                          { "--format", &format, NULL }, { NULL, NULL, NULL } };
	enum out_format f;
	rpt_cb_config cfg;
	out_table t;
	ledger *lg = NULL;
	lg_error err;
	int rc, n;

	rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, cb_usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!from || !to) {
		fprintf(stderr, "clearbook: chargebacks report needs --from and --to\n%s",
		        cb_usage);
		return LG_EUSAGE;
	}
	rc = cli_format(format, &f);
	if (!rc)
		rc = load(config, &cfg);
	if (rc)
		return rc;
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	out_table_init(&t, 12, names, flags);
	rc = rpt_cb_report(lg, &cfg, from, to, add_row, &t, &err);
	if (rc == LG_EINTERNAL && !err.msg[0])
		lg_error_set(&err, LG_EINTERNAL, "out of memory");
	if (rc)
		rc = cli_fail(&err);
	else
		out_table_print(&t, f, stdout);
	out_table_release(&t);
	ledger_close(lg);
	return rc;
}

int cmd_chargebacks(const cli_ctx *cx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(cb_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? LG_EUSAGE : 0;
	}
	if (strcmp(argv[1], "apply") == 0)
		return cb_apply(cx, argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cb_report(cx, argc - 1, argv + 1);
	fprintf(stderr, "clearbook: chargebacks: unknown subcommand '%s'\n%s", argv[1],
	        cb_usage);
	return LG_EUSAGE;
}
