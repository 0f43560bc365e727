/*
 * cmd_import.c - import channel files into the staging area, and list what
 * was staged: the glue between importers/ (which read files) and the
 * ledger's staging area (which stores them).
 */
#include "cli.h"
#include "../importers/importers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct import_ctx {
	ledger *lg;
	ledger_stage_result res;
	int strict;
	long statuses;
};

static int sink_begin(void *p, const imp_statement *st, lg_error *err)
{
	struct import_ctx *c = p;
	return ledger_stage_statement(c->lg, st, &c->res, err);
}

static int sink_line(void *p, const imp_statement *st, const imp_line *ln,
                     lg_error *err)
{
	struct import_ctx *c = p;
	return ledger_stage_line(c->lg, st, ln, &c->res, err);
}

static int sink_end(void *p, const imp_statement *st, lg_error *err)
{
	struct import_ctx *c = p;
	return ledger_stage_statement_end(c->lg, st, c->strict, &c->res, err);
}

static int sink_status(void *p, const imp_status *s, lg_error *err)
{
	struct import_ctx *c = p;
	return ledger_stage_status(c->lg, s, &c->res, err);
}

static int scale_of(void *p, const char *asset, int *scale)
{
	return ledger_asset_scale(p, asset, scale, NULL);
}

/* Each refused CSV row on stderr as it is found, so that one run names
 * every bad row; the message already starts with FILE:LINE. */
static void print_reject(void *ctx, const lg_error *err)
{
	(void)ctx;
	fprintf(stderr, "clearbook: %s\n", err->msg);
}

/* Breaks are recorded, not refused: say so on stderr as warnings, so that
 * whoever runs the import sees them at once.  The file's breaks are the
 * last ones recorded. */
struct break_warn {
	const char *file;
	long total, skip;
};

static int count_break(void *ctx, const ledger_break_row *r)
{
	(void)r;
	((struct break_warn *)ctx)->total++;
	return 0;
}

static int warn_break(void *ctx, const ledger_break_row *r)
{
	struct break_warn *bw = ctx;
	if (bw->skip-- <= 0)
		fprintf(stderr, "clearbook: warning: %s: %s break: %s\n", bw->file, r->kind,
		        r->detail);
	return 0;
}

static void warn_breaks(ledger *lg, const char *file, long breaks)
{
	struct break_warn bw = { file, 0, 0 };
	if (breaks <= 0 || ledger_breaks_list(lg, count_break, &bw, NULL) != LG_OK)
		return;
	bw.skip = bw.total - breaks;
	ledger_breaks_list(lg, warn_break, &bw, NULL);
}

#define IMPORT_SETS_MAX 8

struct import_opts {
	const char *profile, *profile_file, *account, *channel, *profiles_dir;
	const char *set[IMPORT_SETS_MAX];
	int sets;
	int strict, dry_run;
	imp_profile *csv;         /* NULL for iso20022 */
};

/* Where shipped profiles live: $CLEARBOOK_PROFILES, else the source tree
 * the binary was built in (bin/ or build/VARIANT/ below it), else the
 * installed share directory (bin/../share/clearbook/profiles). */
static void profiles_dir(char *out, size_t cap)
{
	char exe[PATH_MAX], probe[PATH_MAX + 64];
	const char *env = getenv("CLEARBOOK_PROFILES");
	ssize_t n;
	char *slash;

	if (env && env[0]) {
		snprintf(out, cap, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(out, cap, "importers/profiles");
		return;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	/* bin/ and build/VARIANT/ in the source tree, then an installed tree */
	static const char *const up[] = { "/..", "/../.." };
	for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
		snprintf(probe, sizeof probe, "%s%s/importers/profiles/bank-csv.ini", exe, up[i]);
		if (access(probe, R_OK) == 0) {
			snprintf(out, cap, "%s%s/importers/profiles", exe, up[i]);
			return;
		}
	}
	snprintf(out, cap, "%s/../share/clearbook/profiles", exe);
}

static int load_profile(struct import_opts *o)
{
	char dir[PATH_MAX + 64];
	lg_error err;
	int rc;

	lg_error_init(&err);
	if (!o->profile_file && strcmp(o->profile, "iso20022") == 0)
		return 0;
	profiles_dir(dir, sizeof dir);
	rc = imp_profile_load(o->profile_file ? o->profile_file : o->profile,
	                      o->profiles_dir ? o->profiles_dir : dir, &o->csv, &err);
	for (int i = 0; !rc && i < o->sets; i++) {
		char key[128];
		const char *eq = strchr(o->set[i], '=');
		if (!eq || (size_t)(eq - o->set[i]) >= sizeof key) {
			fprintf(stderr, "clearbook: --set '%s' is not SECTION.KEY=VALUE\n", o->set[i]);
			return LG_EUSAGE;
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - o->set[i]), o->set[i]);
		rc = imp_profile_set(o->csv, key, eq + 1, &err);
	}
	if (rc == LG_ENOINPUT && !o->profile_file) {
		fprintf(stderr, "clearbook: import: there is no profile '%s' (see clearbook "
		        "import --help; %s)\n", o->profile, err.msg);
		return LG_EUSAGE;
	}
	if (rc)
		return cli_fail(&err);
	if (!o->channel)
		o->channel = imp_profile_channel(o->csv);
	o->profile = imp_profile_name(o->csv);
	return 0;
}

/* A feed posted straight to the ledger ([posting] profiles): each row is
 * one transaction, inside the file's database transaction. */
static int post_row(void *ctx, const imp_line *ln, const char *json, size_t len,
                    int *replayed, lg_error *err)
{
	(void)ln;
	return ledger_post_json(ctx, json, len, replayed, NULL, err);
}

/* Posts one file whose staging (the SHA-256 record) has begun: all rows
 * or, at the first refusal anywhere in the file, nothing. */
static int post_file(ledger *lg, const struct import_opts *o, const char *path)
{
	long refused = 0, posted = 0, replayed = 0;
	lg_error err;
	int rc;

	lg_error_init(&err);
	rc = imp_csv_post_all(path, o->csv, scale_of, lg, post_row, lg, print_reject,
	                      NULL, &refused, &posted, &replayed, &err);
	if (rc) {
		ledger_stage_end(lg, 0, NULL);
		fprintf(stderr, "clearbook: %s\n", err.msg);
		if (refused == 0)
			fprintf(stderr, "clearbook: %s: nothing was posted\n", path);
		return rc;
	}
	rc = ledger_stage_end(lg, !o->dry_run, &err);
	if (rc)
		return cli_fail(&err);
	printf("%s: %s%ld transaction(s) %s, %ld replayed (already posted)\n", path,
	       o->dry_run ? "dry run, valid: " : "", posted,
	       o->dry_run ? "would be posted" : "posted", replayed);
	return 0;
}

static int import_one(ledger *lg, const struct import_opts *o, const char *path)
{
	struct import_ctx c;
	imp_sink sink = { &c, sink_begin, sink_line, sink_end, sink_status };
	ledger_stage_file f;
	char sha[LG_HASH_HEX];
	lg_error err;
	long refused = 0;
	int rc;

	memset(&c, 0, sizeof c);
	c.lg = lg;
	c.strict = o->strict;
	lg_error_init(&err);
	rc = ledger_file_sha256(path, sha, &err);
	if (rc)
		return cli_fail(&err);
	f.sha256_hex = sha;
	f.name = path;
	f.profile = o->profile;
	f.channel = o->channel;
	f.account = o->account;
	rc = ledger_stage_begin(lg, &f, &c.res, &err);
	if (rc)
		return cli_fail(&err);
	if (c.res.already_imported) {
		printf("%s: already imported (same SHA-256 %.12s...), nothing to do\n",
		       path, sha);
		return 0;
	}
	if (o->csv && imp_profile_posts(o->csv))
		return post_file(lg, o, path);
	rc = o->csv ? imp_csv_read_all(path, o->csv, scale_of, lg, &sink,
	                               print_reject, NULL, &refused, &err)
	            : imp_iso20022_read(path, scale_of, lg, &sink, &err);
	if (rc) {
		ledger_stage_end(lg, 0, NULL);
		fprintf(stderr, "clearbook: %s\n", err.msg);
		/* With rows refused, the reader's final message says it already. */
		if (refused == 0)
			fprintf(stderr, "clearbook: %s: nothing was staged\n", path);
		return rc;
	}
	if (o->dry_run)
		warn_breaks(lg, path, c.res.breaks);
	rc = ledger_stage_end(lg, !o->dry_run, &err);
	if (rc)
		return cli_fail(&err);
	if (!o->dry_run)
		warn_breaks(lg, path, c.res.breaks);
	printf("%s: %s%ld statement(s), %ld line(s) %s, %ld duplicate(s) skipped, "
	       "%ld payment status(es), %ld break(s)\n", path,
	       o->dry_run ? "dry run, valid: " : "", c.res.statements, c.res.lines,
	       o->dry_run ? "would be staged" : "staged", c.res.duplicates,
	       c.res.statuses, c.res.breaks);
	return 0;
}

int cmd_import(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook import (--profile NAME | --profile-file FILE)\n"
		"                        [--account CODE] [--channel C] [--set S.KEY=VALUE]\n"
		"                        [--strict] [--dry-run] FILE...\n"
		"Stages channel files as statement lines for reconciliation, each file\n"
		"whole or not at all; the same file again (same SHA-256) is a no-op and\n"
		"an entry already staged from another file is kept once.\n"
		"Profiles: iso20022 (camt.052, camt.053, camt.054 .001.02-.08 and later;\n"
		"pain.002, told apart by namespace); CSV profiles under\n"
		"importers/profiles/: bank-csv, card-settlement, alipay, alipay-merchant,\n"
		"wechat, wechat-merchant, chain-transfers, disputes (see its README);\n"
		"orders posts each row of an order feed to the ledger as a transaction\n"
		"through its [posting] template instead of staging it.\n"
		"  --profile-file FILE  a CSV profile of your own (INI)\n"
		"  --set S.KEY=VALUE    override a profile key, e.g. --set\n"
		"                       amount.own_address=0x7e2f... for chain-transfers\n"
		"  --account CODE  ledger account the file is for, where the file's own\n"
		"                  account id has no alias (clearbook account alias add)\n"
		"  --channel C     channel name (default: the profile's; bank for XML)\n"
		"  --strict        refuse a statement whose opening balance plus booked\n"
		"                  entries is not its closing balance (else: a break)\n"
		"  --dry-run       read and check everything, stage nothing\n";
	struct import_opts o;
	const char *set = NULL;
	const char *pos[CLI_POSITIONAL_MAX];
	ledger *lg;
	int n, worst = 0, rc;

	memset(&o, 0, sizeof o);
	struct cli_opt opts[] = { { "--profile", &o.profile, NULL },
	                          { "--profile-file", &o.profile_file, NULL },
	                          { "--profiles-dir", &o.profiles_dir, NULL },
	                          { "--account", &o.account, NULL },
	                          { "--channel", &o.channel, NULL },
	                          { "--set", &set, NULL },
	                          { "--strict", NULL, &o.strict },
	                          { "--dry-run", NULL, &o.dry_run }, { NULL, NULL, NULL } };
	/* --set may repeat: collect each occurrence before the generic parse. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (o.sets >= IMPORT_SETS_MAX)
			break;
		if (strcmp(argv[i], "--set") == 0 && i + 1 < argc)
			o.set[o.sets++] = argv[++i];
		else if (strncmp(argv[i], "--set=", 6) == 0)
			o.set[o.sets++] = argv[i] + 6;
	}
	rc = cli_parse(argc, argv, opts, pos, 1, CLI_POSITIONAL_MAX, &n, usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!o.profile && !o.profile_file) {
		fprintf(stderr, "clearbook: import: --profile NAME or --profile-file FILE is "
		        "needed\n%s", usage);
		return LG_EUSAGE;
	}
	if (!o.profile)
		o.profile = "custom";
	rc = load_profile(&o);
	if (rc)
		return rc;
	if (!o.channel)
		o.channel = "bank";
	rc = cli_open(cx, 0, &lg);
	if (rc) {
		imp_profile_free(o.csv);
		return rc;
	}
	for (int i = 0; i < n; i++) {
		rc = import_one(lg, &o, pos[i]);
		if (rc && !worst)
			worst = rc;
	}
	ledger_close(lg);
	imp_profile_free(o.csv);
	return worst;
}

/* --- statement list / breaks ------------------------------------------- */

static int staged_row(void *ctx, const ledger_staged_row *r)
{
	char id[32], parent[32], amt[AMOUNT_TEXT_MAX], line[32];
	snprintf(id, sizeof id, "%lld", r->id);
	snprintf(parent, sizeof parent, "%lld", r->parent_id);
	snprintf(line, sizeof line, "%ld", r->line_no);
	if (r->scale >= 0)
		amount_format(r->amount_minor, r->scale, amt, sizeof amt);
	else
		amount_format_minor(r->amount_minor, amt, sizeof amt);
	const char *cells[] = { id, r->channel, r->account, r->booking_date, amt,
	                        r->asset, r->status, r->entry_ref, r->end_to_end_id,
	                        r->counterparty_name, r->parent_id ? parent : "",
	                        r->is_batch ? "batch" : r->reversal ? "reversal" : "" };
	(void)line;
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

static int break_row(void *ctx, const ledger_break_row *r)
{
	char id[32];
	snprintf(id, sizeof id, "%lld", r->id);
	const char *cells[] = { id, r->kind, r->account, r->statement_id, r->file_name,
	                        r->detail };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

int cmd_statement(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook statement list [--channel C] [--date YYYY-MM-DD]\n"
		"                                [--format text|csv|json]\n"
		"       clearbook statement breaks [--format text|csv|json]\n"
		"Lists staged statement lines (a batch's children name their parent),\n"
		"or the breaks found while staging: balances that do not add up,\n"
		"sequence gaps and overlaps, openings that differ from the previous\n"
		"closing, statements imported twice.\n";
	static const char *const names[] = { "id", "channel", "account", "booked",
	                                     "amount", "asset", "status", "entry_ref",
	                                     "end_to_end_id", "counterparty", "parent",
	                                     "flags" };
	static const unsigned flags[] = { OUT_INTEGER, 0, 0, 0, OUT_NUMERIC, 0, 0, 0, 0,
	                                  0, OUT_INTEGER, 0 };
	static const char *const bnames[] = { "id", "kind", "account", "statement",
	                                      "file", "detail" };
	static const unsigned bflags[] = { OUT_INTEGER, 0, 0, 0, 0, 0 };
	const char *channel = NULL, *date = NULL, *format = NULL, *pos[1];
	struct cli_opt opts[] = { { "--channel", &channel, NULL }, { "--date", &date, NULL },
	                          { "--format", &format, NULL }, { NULL, NULL, NULL } };
	enum out_format f;
	out_table t;
	lg_error err;
	ledger *lg;
	int n, breaks, rc = cli_parse(argc, argv, opts, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	breaks = strcmp(pos[0], "breaks") == 0;
	if ((!breaks && strcmp(pos[0], "list") != 0) || cli_format(format, &f)) {
		fputs(usage, stderr);
		return LG_EUSAGE;
	}
	if (date && !ledger_date_valid(date)) {
		fprintf(stderr, "clearbook: --date '%s' is not YYYY-MM-DD\n", date);
		return LG_EUSAGE;
	}
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	if (breaks) {
		out_table_init(&t, 6, bnames, bflags);
		rc = ledger_breaks_list(lg, break_row, &t, &err);
	} else {
		out_table_init(&t, 12, names, flags);
		rc = ledger_staged_list(lg, channel, date, staged_row, &t, &err);
	}
	if (!rc)
		out_table_print(&t, f, stdout);
	out_table_release(&t);
	ledger_close(lg);
	return rc ? cli_fail(&err) : 0;
}
