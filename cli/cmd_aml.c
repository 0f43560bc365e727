/*
 * cmd_aml.c - the aml command: scan the ledger with the monitoring rules,
 * list alerts, and move an alert through its case queue.
 *
 *   clearbook aml scan --from D --to D [--config FILE]
 *   clearbook aml alerts [--status S] [--format text|csv|json]
 *   clearbook aml set ALERT_ID escalated|dismissed --reason TEXT
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/aml.h"

static const char aml_usage[] =
	"usage: clearbook aml scan --from YYYY-MM-DD --to YYYY-MM-DD [--config FILE]\n"
	"       clearbook aml alerts [--status open|escalated|dismissed] [--format F]\n"
	"       clearbook aml set ALERT_ID escalated|dismissed --reason TEXT\n"
	"Runs the AML monitoring rules (large value, structuring, velocity, rapid\n"
	"movement, fan-in/out, round amounts, dormant reactivation, high-risk\n"
	"jurisdictions, name screening with Chinese names read as pinyin, repeated\n"
	"risk refusals by the HTTP front) over the period and stores new alerts; a\n"
	"re-scan adds none twice.  Alerts keep an append-only status trail.  See\n"
	"docs/aml.md.\n";

static int aml_scan(const cli_ctx *cx, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *config = NULL, *pos[1];
	struct cli_opt opts[] = { { "--from", &from, NULL }, { "--to", &to, NULL },
	                          { "--config", &config, NULL }, { NULL, NULL, NULL } };
	rpt_aml_config cfg;
	rpt_aml_scan_stats stats;
	ledger *lg = NULL;
	lg_error err;
	int rc, n;

	rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, aml_usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!from || !to || !ledger_date_valid(from) || !ledger_date_valid(to)) {
		fprintf(stderr, "clearbook: aml scan needs --from and --to as YYYY-MM-DD\n%s",
		        aml_usage);
		return LG_EUSAGE;
	}
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rpt_aml_config_init(&cfg);
	if (config)
		rc = rpt_aml_config_load(&cfg, lg, config, &err);
	if (!rc)
		rc = rpt_aml_scan(lg, &cfg, from, to, &stats, &err);
	if (rc)
		rc = cli_fail(&err);
	else
		printf("aml scan %s..%s: %ld transaction(s), %ld alert(s), %ld new\n", from,
		       to, stats.transactions, stats.alerts, stats.added);
	ledger_close(lg);
	return rc;
}

static int add_alert_row(void *ctx, const rpt_aml_alert_row *r)
{
	char id[32], score[16];
	const char *cells[12];

	snprintf(id, sizeof id, "%lld", r->id);
	snprintf(score, sizeof score, "%d", r->score);
	cells[0] = id;
	cells[1] = r->day;
	cells[2] = r->rule;
	cells[3] = r->subject;
	cells[4] = r->asset;
	cells[5] = r->amount;
	cells[6] = score;
	cells[7] = r->status;
	cells[8] = r->reason;
	cells[9] = r->detail;
	cells[10] = r->evidence;
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

static int aml_alerts(const cli_ctx *cx, int argc, char **argv)
{
	static const char *const names[] = { "id", "day", "rule", "subject", "asset",
		"amount", "score", "status", "reason", "detail", "evidence" };
	static const unsigned flags[] = { OUT_INTEGER, 0, 0, 0, 0, OUT_NUMERIC,
		OUT_INTEGER, 0, 0, 0, 0 };
	const char *status = NULL, *format = NULL, *pos[1];
	struct cli_opt opts[] = { { "--status", &status, NULL },
	                          { "--format", &format, NULL }, { NULL, NULL, NULL } };
	enum out_format f;
	out_table t;
	ledger *lg = NULL;
	lg_error err;
	int rc, n;

	rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, aml_usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	rc = cli_format(format, &f);
	if (rc)
		return rc;
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	out_table_init(&t, 11, names, flags);
	rc = rpt_aml_alerts(lg, status, add_alert_row, &t, &err);
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

static int aml_set(const cli_ctx *cx, int argc, char **argv)
{
	const char *reason = NULL, *pos[2];
	struct cli_opt opts[] = { { "--reason", &reason, NULL }, { NULL, NULL, NULL } };
	const char *user = getenv("USER");
	ledger *lg = NULL;
	lg_error err;
	long long id;
	char *end;
	int rc, n;

	rc = cli_parse(argc, argv, opts, pos, 2, 2, &n, aml_usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	errno = 0;
	id = strtoll(pos[0], &end, 10);
	if (end == pos[0] || *end || errno || id <= 0) {
		fprintf(stderr, "clearbook: alert id '%s' is not a positive number\n", pos[0]);
		return LG_EUSAGE;
	}
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rc = rpt_aml_set_status(lg, id, pos[1], reason, user && user[0] ? user : "unknown",
	                        &err);
	if (rc)
		rc = cli_fail(&err);
	else
		printf("alert %lld: %s\n", id, pos[1]);
	ledger_close(lg);
	return rc;
}

int cmd_aml(const cli_ctx *cx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(aml_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? LG_EUSAGE : 0;
	}
	if (strcmp(argv[1], "scan") == 0)
		return aml_scan(cx, argc - 1, argv + 1);
	if (strcmp(argv[1], "alerts") == 0)
		return aml_alerts(cx, argc - 1, argv + 1);
	if (strcmp(argv[1], "set") == 0)
		return aml_set(cx, argc - 1, argv + 1);
	fprintf(stderr, "clearbook: aml: unknown subcommand '%s'\n%s", argv[1], aml_usage);
	return LG_EUSAGE;
}
