/*
 * cmd_report.c - `clearbook report NAME` and `clearbook settle`: option
 * parsing and output files around the reports module (reports/reports.h).
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/reports.h"

static const char report_usage[] =
	"usage: clearbook report NAME [ACCOUNT] [--from DATE] [--to DATE]\n"
	"                        [--format text|csv|json|html] [--out FILE] [--detail]\n"
	"                        [--config FILE]\n"
	"  NAME: trial-balance, balance-sheet, income-statement, statement ACCOUNT,\n"
	"        reconciliation, settlement [MERCHANT], aml (stored alerts: run\n"
	"        clearbook aml scan first), chargebacks\n"
	"  --from, --to  the period, inclusive (default: from the first transaction\n"
	"                to the date of the clock); a balance sheet is at --to\n"
	"  --out FILE    write there instead of standard output (replaced whole)\n"
	"  --detail      add the transactions behind each figure\n"
	"  --config FILE chargebacks: scheme thresholds and accounts (docs/chargebacks.md)\n";

static const char settle_usage[] =
	"usage: clearbook settle --date DATE\n"
	"  posts each merchant's payable owed at the end of DATE as a payout\n"
	"  PO-YYYYMMDD-MERCHANT to liabilities:payouts:in-transit, ready for\n"
	"  clearbook export pain001; a second run for the same date is a replay\n";

/* Writes to a temporary file beside FILE and renames it over FILE, so a
 * failed run never leaves half a report where the last good one was. */
static int write_out(const rpt_doc *doc, enum rpt_format f, const char *path)
{
	char tmp[4096];
	lg_error err;
	FILE *fp;
	int rc;

	lg_error_init(&err);
	if (!path) {
		rc = rpt_render(doc, f, stdout, &err);
		return rc ? cli_fail(&err) : 0;
	}
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		fprintf(stderr, "clearbook: --out '%s': path too long\n", path);
		return LG_EUSAGE;
	}
	fp = fopen(tmp, "w");
	if (!fp) {
		fprintf(stderr, "clearbook: cannot write '%s'\n", tmp);
		return LG_EIO;
	}
	rc = rpt_render(doc, f, fp, &err);
	if (rc == LG_EIO)
		rc = lg_error_set(&err, LG_EIO, "writing '%s' failed: %s", tmp, strerror(errno));
	if (fclose(fp) != 0 && !rc)
		rc = lg_error_set(&err, LG_EIO, "writing '%s' failed: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path) != 0)
		rc = lg_error_set(&err, LG_EIO, "cannot rename '%s' to '%s'", tmp, path);
	if (rc) {
		remove(tmp);
		return cli_fail(&err);
	}
	return 0;
}

int cmd_report(const cli_ctx *cx, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *format = NULL, *out = NULL, *config = NULL;
	const char *pos[2] = { NULL, NULL };
	int detail = 0, pos_n = 0, rc;
	const struct cli_opt opts[] = {
		{ "--from", &from, NULL }, { "--to", &to, NULL },
		{ "--format", &format, NULL }, { "--out", &out, NULL },
		{ "--detail", NULL, &detail }, { "--config", &config, NULL },
		{ NULL, NULL, NULL },
	};
	enum rpt_format f = RPT_TEXT;
	rpt_options o;
	ledger *lg = NULL;
	lg_error err;
	rpt_doc doc;

	rc = cli_parse(argc, argv, opts, pos, 1, 2, &pos_n, report_usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (format && rpt_format_parse(format, &f) != 0) {
		fprintf(stderr, "clearbook: --format '%s' is not text, csv, json or html\n",
		        format);
		return LG_EUSAGE;
	}
	if (strcmp(pos[0], "statement") == 0 && pos_n != 2) {
		fprintf(stderr, "clearbook: report statement: name the account\n%s",
		        report_usage);
		return LG_EUSAGE;
	}
	memset(&o, 0, sizeof o);
	o.name = pos[0];
	o.account = pos[1];
	o.from = from;
	o.to = to;
	o.detail = detail;
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rpt_doc_init(&doc);
	rc = rpt_run_config(lg, &o, config, &doc, &err);
	if (rc)
		rc = cli_fail(&err);
	else
		rc = write_out(&doc, f, out);
	rpt_doc_release(&doc);
	ledger_close(lg);
	return rc;
}

int cmd_settle(const cli_ctx *cx, int argc, char **argv)
{
	const char *date = NULL;
	const char *pos[1];
	int pos_n = 0, rc;
	const struct cli_opt opts[] = { { "--date", &date, NULL }, { NULL, NULL, NULL } };
	rpt_settle_result res;
	ledger *lg = NULL;
	lg_error err;

	rc = cli_parse(argc, argv, opts, pos, 0, 0, &pos_n, settle_usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!date) {
		fprintf(stderr, "clearbook: settle: --date is required\n%s", settle_usage);
		return LG_EUSAGE;
	}
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rc = rpt_settle(lg, date, &res, &err);
	if (rc)
		rc = cli_fail(&err);
	else
		printf("settle %s: %ld merchant(s), %ld payout(s) posted, %ld replayed "
		       "(already posted), %ld with nothing owed\n", date, res.merchants,
		       res.posted, res.replayed, res.nothing_owed);
	ledger_close(lg);
	return rc;
}
