/*
 * cmd_write.c - the commands that change the ledger: init, asset, account,
 * post, commit, void, expire, reverse, close-period.
 */
#include "cli.h"

#include "../exporters/exporters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Runs a parsed command body against an open ledger and closes it. */
#define WITH_LEDGER(cx, create, lg, body)                                    \
	do {                                                                     \
		int rc_ = cli_open((cx), (create), &(lg));                          \
		if (rc_)                                                             \
			return rc_;                                                      \
		rc_ = (body);                                                        \
		ledger_close(lg);                                                    \
		return rc_;                                                          \
	} while (0)

static int done(int rc, const lg_error *err)
{
	return rc ? cli_fail(err) : 0;
}

int cmd_init(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook init\n"
		"Creates the ledger database (--db) with ISO 4217 currencies preloaded.\n"
		"Running it on an existing ledger changes nothing.\n";
	const char *pos[1];
	int n, rc = cli_parse(argc, argv, NULL, pos, 0, 0, &n, usage);
	ledger *lg;

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	rc = cli_open(cx, 1, &lg);
	if (rc)
		return rc;
	printf("ledger %s ready\n", cx->db_path);
	ledger_close(lg);
	return 0;
}

/* --- asset ------------------------------------------------------------- */

static int print_asset(void *ctx, const char *code, int scale)
{
	char buf[16];
	snprintf(buf, sizeof buf, "%d", scale);
	const char *cells[] = { code, buf };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

static int asset_list(ledger *lg, enum out_format f)
{
	static const char *const names[] = { "asset", "scale" };
	static const unsigned flags[] = { 0, OUT_INTEGER };
	out_table t;
	lg_error err;
	int rc;

	lg_error_init(&err);
	out_table_init(&t, 2, names, flags);
	rc = ledger_asset_list(lg, print_asset, &t, &err);
	if (!rc)
		out_table_print(&t, f, stdout);
	out_table_release(&t);
	return done(rc, &err);
}

int cmd_asset(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook asset add CODE --scale N\n"
		"       clearbook asset list [--format text|csv|json]\n"
		"An asset has a code (CNY, USDT) and a scale: its number of decimals,\n"
		"0..18. ISO 4217 currencies are preloaded. A scale never changes.\n";
	const char *scale = NULL, *format = NULL, *pos[2];
	struct cli_opt opts[] = { { "--scale", &scale, NULL },
	                          { "--format", &format, NULL }, { NULL, NULL, NULL } };
	enum out_format f;
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 1, 2, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	lg_error_init(&err);
	if (strcmp(pos[0], "list") == 0 && n == 1) {
		if (cli_format(format, &f))
			return LG_EUSAGE;
		WITH_LEDGER(cx, 0, lg, asset_list(lg, f));
	}
	if (strcmp(pos[0], "add") == 0 && n == 2 && scale) {
		char *end;
		errno = 0;
		long s = strtol(scale, &end, 10);
		if (errno || *end || end == scale || s < 0 || s > AMOUNT_SCALE_MAX) {
			fprintf(stderr, "clearbook: --scale '%s' is not a whole number 0..18\n",
			        scale);
			return LG_EUSAGE;
		}
		WITH_LEDGER(cx, 0, lg, done(ledger_asset_add(lg, pos[1], (int)s, &err), &err));
	}
	fputs(usage, stderr);
	return LG_EUSAGE;
}

/* --- account ----------------------------------------------------------- */

static int account_row(void *ctx, const ledger_account_info *a)
{
	const char *cells[] = { a->code, a->type, a->asset,
	                        (a->flags & LG_ACCOUNT_NO_OVERDRAFT) ? "no-overdraft" : "",
	                        a->opened_at ? a->opened_at : "",
	                        a->closed_at ? a->closed_at : "" };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

static int account_list(ledger *lg, const char *prefix, int templates,
                        enum out_format f)
{
	static const char *const names[] = { "account", "type", "asset", "flags",
	                                      "opened_at", "closed_at" };
	static const char *const tnames[] = { "pattern", "type", "asset", "flags" };
	out_table t;
	lg_error err;
	int rc;

	lg_error_init(&err);
	out_table_init(&t, templates ? 4 : 6, templates ? tnames : names, NULL);
	rc = templates ? ledger_template_list(lg, account_row, &t, &err)
	               : ledger_account_list(lg, prefix, account_row, &t, &err);
	if (!rc)
		out_table_print(&t, f, stdout);
	out_table_release(&t);
	return done(rc, &err);
}

/* Splits a CSV line of plain fields (account files need no quoting). */
static int split_fields(char *line, char **field, int max)
{
	int n = 0;
	for (char *p = line;; ) {
		if (n == max)
			return -1;
		field[n++] = p;
		p = strchr(p, ',');
		if (!p)
			return n;
		*p++ = '\0';
	}
}

static int import_line(ledger *lg, char *line, lg_error *err)
{
	char *f[5];
	int n;
	unsigned flags = 0;

	if (strchr(line, '"'))
		return lg_error_set(err, LG_EDATA, "quoted fields are not accepted in "
		                    "account files");
	n = split_fields(line, f, 5);
	if (n < 3 || n > 4)
		return lg_error_set(err, LG_EDATA, "expected code,type,asset[,no_overdraft]");
	if (n == 4 && f[3][0]) {
		if (strcmp(f[3], "1") == 0 || strcmp(f[3], "yes") == 0 ||
		    strcmp(f[3], "no-overdraft") == 0)
			flags = LG_ACCOUNT_NO_OVERDRAFT;
		else if (strcmp(f[3], "0") && strcmp(f[3], "no"))
			return lg_error_set(err, LG_EDATA, "no_overdraft: '%s' is not 0/1/yes/no",
			                    f[3]);
	}
	return ledger_account_add(lg, f[0], f[1], f[2], flags, NULL, err);
}

static int account_import(ledger *lg, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	long lineno = 0, added = 0, failed = 0;
	lg_error err;
	int rc;

	lg_error_init(&err);
	if (!fp) {
		fprintf(stderr, "clearbook: %s: %s\n", path, strerror(errno));
		return errno == ENOENT ? LG_ENOINPUT : LG_EIO;
	}
	rc = ledger_begin(lg, &err);
	if (rc) {
		fclose(fp);
		return cli_fail(&err);
	}
	while ((got = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (got == 0 || (lineno == 1 && strncmp(line, "code,", 5) == 0))
			continue;
		rc = import_line(lg, line, &err);
		if (rc) {
			fprintf(stderr, "clearbook: %s:%ld: %s\n", path, lineno, err.msg);
			failed++;
			if (rc != LG_EDATA && rc != LG_ENOINPUT)
				break;
		} else {
			added++;
		}
	}
	free(line);
	fclose(fp);
	if (failed) {
		ledger_rollback(lg);
		fprintf(stderr, "clearbook: %s: %ld line(s) refused; no account was added\n",
		        path, failed);
		return rc && rc != LG_ENOINPUT ? rc : LG_EDATA;
	}
	rc = ledger_commit(lg, &err);
	if (rc)
		return cli_fail(&err);
	printf("%ld accounts added from %s\n", added, path);
	return 0;
}

int cmd_account(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook account add CODE --type TYPE --asset ASSET [--no-overdraft]\n"
		"                                  [--meta JSON]\n"
		"       clearbook account import FILE.csv   (code,type,asset[,no_overdraft])\n"
		"       clearbook account list [PREFIX] [--format text|csv|json]\n"
		"       clearbook account close CODE\n"
		"       clearbook account template add PATTERN --type TYPE --asset ASSET\n"
		"                                  [--no-overdraft]\n"
		"       clearbook account template list [--format text|csv|json]\n"
		"       clearbook account alias add EXTERNAL_ID CODE\n"
		"TYPE is asset, liability, equity, income or expense. Codes are lower-case\n"
		"segments joined by ':' (assets:bank:icbc:cny). A template (a glob such as\n"
		"'liabilities:wallets:*') opens matching accounts on first use. An alias\n"
		"maps an IBAN or provider account id in imported files to an account.\n";
	const char *type = NULL, *asset = NULL, *meta = NULL, *format = NULL, *pos[4];
	int no_od = 0;
	struct cli_opt opts[] = { { "--type", &type, NULL }, { "--asset", &asset, NULL },
	                          { "--meta", &meta, NULL }, { "--format", &format, NULL },
	                          { "--no-overdraft", NULL, &no_od }, { NULL, NULL, NULL } };
	enum out_format f;
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 1, 4, &n, usage);
	unsigned flags;

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	lg_error_init(&err);
	flags = no_od ? LG_ACCOUNT_NO_OVERDRAFT : 0;
	if (cli_format(format, &f))
		return LG_EUSAGE;
	if (strcmp(pos[0], "add") == 0 && n == 2 && type && asset)
		WITH_LEDGER(cx, 0, lg, done(ledger_account_add(lg, pos[1], type, asset, flags,
		                                               meta, &err), &err));
	if (strcmp(pos[0], "import") == 0 && n == 2)
		WITH_LEDGER(cx, 0, lg, account_import(lg, pos[1]));
	if (strcmp(pos[0], "list") == 0 && n <= 2)
		WITH_LEDGER(cx, 0, lg, account_list(lg, n == 2 ? pos[1] : NULL, 0, f));
	if (strcmp(pos[0], "close") == 0 && n == 2)
		WITH_LEDGER(cx, 0, lg, done(ledger_account_close(lg, pos[1], &err), &err));
	if (strcmp(pos[0], "template") == 0 && n == 3 && strcmp(pos[1], "add") == 0 &&
	    type && asset)
		WITH_LEDGER(cx, 0, lg, done(ledger_template_add(lg, pos[2], type, asset,
		                                                flags, &err), &err));
	if (strcmp(pos[0], "alias") == 0 && n == 4 && strcmp(pos[1], "add") == 0)
		WITH_LEDGER(cx, 0, lg, done(ledger_alias_add(lg, pos[2], pos[3], &err), &err));
	if (strcmp(pos[0], "template") == 0 && n == 2 && strcmp(pos[1], "list") == 0)
		WITH_LEDGER(cx, 0, lg, account_list(lg, NULL, 1, f));
	fputs(usage, stderr);
	return LG_EUSAGE;
}

/* --- post -------------------------------------------------------------- */

/* A file with a systematic fault would print a line per record; the first
 * ones say what is wrong, the count says how much. */
#define REJECTS_SHOWN_MAX 100

struct reject_ctx {
	const char *name;
	long shown;
};

static void print_reject(void *p, const lg_error *err)
{
	struct reject_ctx *rc = p;
	if (rc->shown++ < REJECTS_SHOWN_MAX)
		fprintf(stderr, "clearbook: %s:%ld: %s\n", rc->name, err->line, err->msg);
	else if (rc->shown == REJECTS_SHOWN_MAX + 1)
		fprintf(stderr, "clearbook: %s: more refused lines follow; only the "
		        "first %d are shown\n", rc->name, REJECTS_SHOWN_MAX);
}

static int post_file(ledger *lg, const char *path)
{
	struct reject_ctx rctx = { strcmp(path, "-") == 0 ? "<stdin>" : path, 0 };
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	ledger_post_stats stats;
	lg_error err;
	int rc;

	lg_error_init(&err);
	if (!fp) {
		fprintf(stderr, "clearbook: %s: %s\n", path, strerror(errno));
		return errno == ENOENT ? LG_ENOINPUT : LG_EIO;
	}
	rc = ledger_post_stream(lg, fp, &stats, print_reject, &rctx, &err);
	if (fp != stdin)
		fclose(fp);
	if (rc) {
		fprintf(stderr, "clearbook: %s: %s\n", rctx.name, err.msg);
		return rc;
	}
	printf("%s: %ld posted, %ld replayed (already posted, unchanged)\n", rctx.name,
	       stats.posted, stats.replayed);
	return 0;
}

int cmd_post(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook post FILE|-\n"
		"Posts a JSON Lines file, one transaction per line, in one database\n"
		"transaction: every line or none. Each line:\n"
		"  {\"id\":\"ord-1\",\"date\":\"2026-11-24\",\"memo\":\"...\",\n"
		"   \"postings\":[{\"account\":\"liabilities:wallets:c1\",\"amount\":\"12.34\"},\n"
		"               {\"account\":\"liabilities:merchants:m1:payable\",\"amount\":\"-12.34\"}],\n"
		"   \"meta\":{...}, \"pending\":false, \"timeout_s\":900}\n"
		"Debits are positive, credits negative; amounts are decimal strings in the\n"
		"account's asset. The id is the idempotency key: the same id and content\n"
		"again is a replay (no-op); the same id with other content is a conflict.\n"
		"\"pending\":true places a hold (see commit, void, expire).\n";
	const char *pos[1];
	ledger *lg;
	int n, rc = cli_parse(argc, argv, NULL, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	WITH_LEDGER(cx, 0, lg, post_file(lg, pos[0]));
}

/* --- holds, reversals, periods ----------------------------------------- */

int cmd_commit(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook commit ID [--amount X] [--date YYYY-MM-DD]\n"
		"Posts the pending hold ID in full, or X of it (two-posting holds); the\n"
		"remainder is released. A hold ends once: committed, voided or expired.\n";
	const char *amount = NULL, *date = NULL, *pos[1];
	struct cli_opt opts[] = { { "--amount", &amount, NULL }, { "--date", &date, NULL },
	                          { NULL, NULL, NULL } };
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	lg_error_init(&err);
	WITH_LEDGER(cx, 0, lg, done(ledger_hold_commit(lg, pos[0], amount, date, &err), &err));
}

int cmd_void(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook void ID [--date YYYY-MM-DD]\n"
		"Releases the pending hold ID without posting it.\n";
	const char *date = NULL, *pos[1];
	struct cli_opt opts[] = { { "--date", &date, NULL }, { NULL, NULL, NULL } };
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	lg_error_init(&err);
	WITH_LEDGER(cx, 0, lg, done(ledger_hold_void(lg, pos[0], date, &err), &err));
}

static int expire_run(ledger *lg)
{
	lg_error err;
	long count = 0;
	int rc;

	lg_error_init(&err);
	rc = ledger_hold_expire(lg, &count, &err);
	if (rc)
		return cli_fail(&err);
	printf("%ld hold(s) expired\n", count);
	return 0;
}

int cmd_expire(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook expire\n"
		"Releases every pending hold whose timeout has passed (by --now).\n";
	const char *pos[1];
	ledger *lg;
	int n, rc = cli_parse(argc, argv, NULL, pos, 0, 0, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	WITH_LEDGER(cx, 0, lg, expire_run(lg));
}

int cmd_reverse(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook reverse ID --reason TEXT [--date YYYY-MM-DD]\n"
		"Posts the mirror of transaction ID as 'ID:reversal', linked to it.\n"
		"A transaction is reversed at most once.\n";
	const char *reason = NULL, *date = NULL, *pos[1];
	struct cli_opt opts[] = { { "--reason", &reason, NULL }, { "--date", &date, NULL },
	                          { NULL, NULL, NULL } };
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	lg_error_init(&err);
	WITH_LEDGER(cx, 0, lg, done(ledger_reverse(lg, pos[0], reason, date, &err), &err));
}

int cmd_close_period(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook close-period YYYY-MM [--key FILE [--seal-dir DIR]]\n"
		"Records every account's closing balance and the chain head; postings\n"
		"dated in or before the month are refused from then on. With --key, also\n"
		"writes the period's seal DIR/seal-YYYY-MM.json (DIR made if missing;\n"
		"default '.'): the chain head and every closing balance, signed with that\n"
		"Ed25519 key (see keygen) in DIR/seal-YYYY-MM.json.sig. `clearbook seal\n"
		"verify` checks it (docs/exporters.md).\n";
	const char *key = NULL, *dir = ".", *pos[1];
	struct cli_opt opts[] = { { "--key", &key, NULL }, { "--seal-dir", &dir, NULL },
	                          { NULL, NULL, NULL } };
	char path[4096];
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	lg_error_init(&err);
	/* A key that cannot sign is found before the period is closed. */
	if (key && exp_key_check(key, &err) != LG_OK)
		return cli_fail(&err);
	if (key && mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "clearbook: --seal-dir %s: %s\n", dir, strerror(errno));
		return LG_EIO;
	}
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	rc = ledger_close_period(lg, pos[0], &err);
	if (rc == LG_OK && key) {
		rc = exp_seal_write(lg, pos[0], key, dir, path, sizeof path, &err);
		if (rc)
			fprintf(stderr, "clearbook: period %s is closed, but its seal was not "
			        "written; run 'clearbook seal write %s --key FILE'\n", pos[0],
			        pos[0]);
		else
			printf("sealed %s: %s\n", pos[0], path);
	}
	ledger_close(lg);
	return done(rc, &err);
}
