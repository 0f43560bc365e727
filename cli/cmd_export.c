/*
 * cmd_export.c - the export, keygen and seal commands: signed export
 * directories (camt053, pain001, csv, journal), their verification, Ed25519
 * key pairs and period seals.  The work is in exporters/; this file parses
 * options, owns the export directory and reports.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../exporters/exporters.h"

#define EXPORT_PATH_MAX 4096
#define EXPORT_COMMAND_MAX 2048 /* bytes of the command recorded in a manifest */

static const char export_usage[] =
	"usage: clearbook export camt053 --account A --from D --to D --out DIR --key FILE\n"
	"       clearbook export pain001 (--date D | --from D --to D) --out DIR --key FILE\n"
	"                        [--config FILE.ini] [--debtor-name N] [--debtor-iban I]\n"
	"                        [--debtor-bic B] [--msg-id ID]\n"
	"       clearbook export csv [--from D] [--to D] [--encoding E] --out DIR --key FILE\n"
	"       clearbook export journal [--from D] [--to D] --out DIR --key FILE\n"
	"       clearbook export goaml --config ENTITY.ini [--from D] [--to D]\n"
	"                        [--status open|escalated] [--report-code STR|CTR]\n"
	"                        --out DIR --key FILE\n"
	"       clearbook export verify DIR --pubkey FILE\n"
	"Writes the export into DIR (made if missing; else it must be empty) with\n"
	"MANIFEST.json (every file's name, size and SHA-256, the period, the chain\n"
	"head, the command) and MANIFEST.json.sig, its Ed25519 signature by --key\n"
	"(see keygen). Files: camt053.xml (camt.053.001.08 statement of account A),\n"
	"pain001.xml (pain.001.001.10 merchant payouts; the debtor from --config\n"
	"[debtor] name/iban/bic or the --debtor-* options), journal.csv, balances.csv\n"
	"(at --to) and accounts.csv (UTF-8, or --encoding such as GB18030), or\n"
	"export.journal (hledger/ledger-cli), or goaml.xml (a goAML report of the\n"
	"stored AML alerts; the reporting entity from --config [entity]). --created-at TS sets the creation\n"
	"time; by default it is --now, else the time the last transaction was\n"
	"booked, so that the same ledger always exports the same bytes.\n"
	"verify checks the signature, sizes and hashes and exits 1 naming the\n"
	"first file that does not match. docs/exporters.md describes the formats.\n";

struct export_opts {
	const char *account, *date, *from, *to, *out, *key, *encoding, *config;
	const char *debtor_name, *debtor_iban, *debtor_bic, *msg_id, *created_at;
	const char *pubkey, *status, *report_code;
	exp_goaml_entity *entity;    /* goaml: read before the snapshot */
	exp_goaml_alerts *alerts;
};

/* --- the export directory ------------------------------------------------ */

struct outdir {
	const char *path;
	int created;
	exp_manifest m;
};

/* Makes the directories above `path` that are missing (mkdir -p). */
static int mkdir_parents(const char *path)
{
	char buf[EXPORT_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (size_t i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		buf[i] = '/';
	}
	return 0;
}

/* DIR is created, or must be an empty directory: an export never mixes
 * with, or overwrites, another. */
static int outdir_open(struct outdir *d, const char *path)
{
	DIR *dp;
	struct dirent *e;

	d->path = path;
	if (mkdir_parents(path) != 0) {
		fprintf(stderr, "clearbook: %s: %s\n", path, strerror(errno));
		return LG_EIO;
	}
	if (mkdir(path, 0755) == 0) {
		d->created = 1;
		return 0;
	}
	if (errno != EEXIST) {
		fprintf(stderr, "clearbook: %s: %s\n", path, strerror(errno));
		return LG_EIO;
	}
	dp = opendir(path);
	if (!dp) {
		fprintf(stderr, "clearbook: %s: %s\n", path, strerror(errno));
		return LG_EIO;
	}
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			break;
	closedir(dp);
	if (e) {
		fprintf(stderr, "clearbook: --out %s is not empty; an export goes into a "
		        "new or empty directory\n", path);
		return LG_EUSAGE;
	}
	return 0;
}

/* Removes what this run wrote: a failed export leaves nothing behind. */
static void outdir_discard(struct outdir *d)
{
	char p[EXPORT_PATH_MAX];

	for (int i = 0; i < d->m.files_n; i++) {
		snprintf(p, sizeof p, "%s/%s", d->path, d->m.files[i]);
		unlink(p);
	}
	snprintf(p, sizeof p, "%s/MANIFEST.json", d->path);
	unlink(p);
	snprintf(p, sizeof p, "%s/MANIFEST.json.sig", d->path);
	unlink(p);
	if (d->created)
		rmdir(d->path);
}

typedef int (*file_fn)(ledger *lg, const void *opts, FILE *out, lg_error *err);

/* Writes DIR/name through fn and records it for the manifest. */
static int outdir_file(struct outdir *d, const char *name, ledger *lg, file_fn fn,
                       const void *opts, lg_error *err)
{
	char path[EXPORT_PATH_MAX];
	FILE *fp;
	int rc;

	if (d->m.files_n >= EXP_FILES_MAX)
		return lg_error_set(err, LG_EINTERNAL, "too many files in one export");
	snprintf(path, sizeof path, "%s/%s", d->path, name);
	fp = fopen(path, "wx");
	if (!fp)
		return lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
	snprintf(d->m.files[d->m.files_n++], EXP_NAME_MAX, "%s", name);
	rc = fn(lg, opts, fp, err);
	/* The writers do not know the file's name; a full disk is named here. */
	if (rc == LG_EIO)
		rc = lg_error_set(err, LG_EIO, "%s: write failed: %s", path, strerror(errno));
	if (fclose(fp) != 0 && rc == LG_OK)
		rc = lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
	return rc;
}

/* --- the exporters as file_fn --------------------------------------------- */

static int f_camt053(ledger *lg, const void *o, FILE *out, lg_error *err)
{
	return exp_camt053_write(lg, o, out, err);
}

static int f_pain001(ledger *lg, const void *o, FILE *out, lg_error *err)
{
	long n = 0;
	return exp_pain001_write(lg, o, out, &n, err);
}

static int f_csv_journal(ledger *lg, const void *o, FILE *out, lg_error *err)
{
	return exp_csv_journal_write(lg, o, out, err);
}

static int f_csv_balances(ledger *lg, const void *o, FILE *out, lg_error *err)
{
	return exp_csv_balances_write(lg, o, out, err);
}

static int f_csv_accounts(ledger *lg, const void *o, FILE *out, lg_error *err)
{
	return exp_csv_accounts_write(lg, o, out, err);
}

static int f_goaml(ledger *lg, const void *o, FILE *out, lg_error *err)
{
	return exp_goaml_write(lg, o, out, err);
}

struct jnl_opts {
	const char *from, *to;
};

static int f_journal(ledger *lg, const void *o, FILE *out, lg_error *err)
{
	const struct jnl_opts *j = o;
	return exp_journal_write(lg, j->from, j->to, out, err);
}

/* --- running one export ---------------------------------------------------- */

/* Appends " word", single-quoted for a POSIX shell when it holds anything
 * but plain characters, so that the recorded command can be run again.
 * Returns the bytes it would take (snprintf style). */
static size_t shell_word(char *buf, size_t cap, const char *w)
{
	size_t o = 0;
	int plain = w[0] != '\0' &&
	            strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                      "0123456789_./:=@%+,-") == strlen(w);

	if (plain)
		return (size_t)snprintf(buf, cap, " %s", w);
	o += (size_t)snprintf(buf, cap, " '");
	for (; *w && o < cap; w++)
		o += (size_t)snprintf(buf + o, cap - o, *w == '\'' ? "'\\''" : "%c", *w);
	if (o < cap)
		o += (size_t)snprintf(buf + o, cap - o, "'");
	return o;
}

/* The command as recorded in the manifest: argv without where the files go
 * and which key signed them, so that two exports of the same ledger state
 * have identical manifests. */
static void command_text(int argc, char **argv, char *buf, size_t cap)
{
	size_t o = (size_t)snprintf(buf, cap, "clearbook export");

	for (int i = 1; i < argc && o < cap; i++) {
		if (strcmp(argv[i], "--out") == 0 || strcmp(argv[i], "--key") == 0) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--out=", 6) == 0 || strncmp(argv[i], "--key=", 6) == 0)
			continue;
		o += shell_word(buf + o, cap - o, argv[i]);
	}
}

static int created_at_valid(const char *t)
{
	char date[11];

	if (strlen(t) != 20 || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z')
		return 0;
	memcpy(date, t, 10);
	date[10] = '\0';
	return ledger_date_valid(date);
}

static int export_files(const char *name, const struct export_opts *eo, ledger *lg,
                        struct outdir *d, lg_error *err)
{
	exp_camt053_opts co = { eo->account, eo->from, eo->to, d->m.created_at };
	exp_csv_opts so = { eo->from, eo->to, eo->encoding, out_csv_field };
	struct jnl_opts jo = { eo->from, eo->to };
	exp_party debtor;
	exp_pain001_opts po = { eo->from, eo->to, d->m.created_at, eo->msg_id, &debtor };
	exp_goaml_opts go = { eo->from, eo->to, eo->status, eo->report_code,
	                      d->m.created_at, eo->entity, eo->alerts };
	int rc;

	if (strcmp(name, "goaml") == 0)
		return outdir_file(d, "goaml.xml", lg, f_goaml, &go, err);
	if (strcmp(name, "camt053") == 0)
		return outdir_file(d, "camt053.xml", lg, f_camt053, &co, err);
	if (strcmp(name, "pain001") == 0) {
		memset(&debtor, 0, sizeof debtor);
		if (eo->config && (rc = exp_party_load_ini(eo->config, &debtor, err)) != 0)
			return rc;
		if (eo->debtor_name)
			snprintf(debtor.name, sizeof debtor.name, "%s", eo->debtor_name);
		if (eo->debtor_iban)
			snprintf(debtor.iban, sizeof debtor.iban, "%s", eo->debtor_iban);
		if (eo->debtor_bic)
			snprintf(debtor.bic, sizeof debtor.bic, "%s", eo->debtor_bic);
		return outdir_file(d, "pain001.xml", lg, f_pain001, &po, err);
	}
	if (strcmp(name, "csv") == 0) {
		rc = exp_encoding_check(eo->encoding, err);
		if (!rc)
			rc = outdir_file(d, "journal.csv", lg, f_csv_journal, &so, err);
		if (!rc)
			rc = outdir_file(d, "balances.csv", lg, f_csv_balances, &so, err);
		if (!rc)
			rc = outdir_file(d, "accounts.csv", lg, f_csv_accounts, &so, err);
		return rc;
	}
	return outdir_file(d, "export.journal", lg, f_journal, &jo, err);
}

/* Options each export needs, checked before anything is opened. */
static int export_check(const char *name, struct export_opts *eo)
{
	if (strcmp(name, "camt053") != 0 && strcmp(name, "goaml") != 0 && strcmp(name, "pain001") != 0 &&
	    strcmp(name, "csv") != 0 && strcmp(name, "journal") != 0) {
		fprintf(stderr, "clearbook: export: unknown export '%s'\n%s", name,
		        export_usage);
		return LG_EUSAGE;
	}
	if (!eo->out || !eo->key) {
		fprintf(stderr, "clearbook: export %s: --out DIR and --key FILE are "
		        "required\n", name);
		return LG_EUSAGE;
	}
	if (eo->date) {
		if (eo->from || eo->to) {
			fputs("clearbook: export: --date or --from/--to, not both\n", stderr);
			return LG_EUSAGE;
		}
		eo->from = eo->to = eo->date;
	}
	if ((strcmp(name, "camt053") == 0 && (!eo->account || !eo->from || !eo->to)) ||
	    (strcmp(name, "pain001") == 0 && (!eo->from || !eo->to))) {
		fprintf(stderr, "clearbook: export %s: %s\n", name,
		        name[0] == 'c' ? "--account, --from and --to are required"
		                       : "--date or --from and --to are required");
		return LG_EUSAGE;
	}
	if ((eo->from && !ledger_date_valid(eo->from)) ||
	    (eo->to && !ledger_date_valid(eo->to)) ||
	    (eo->from && eo->to && strcmp(eo->from, eo->to) > 0)) {
		fputs("clearbook: export: dates are YYYY-MM-DD, --from not after --to\n",
		      stderr);
		return LG_EUSAGE;
	}
	if (strcmp(name, "goaml") == 0 && !eo->config) {
		fputs("clearbook: export goaml: --config ENTITY.ini with [entity] is "
		      "required\n", stderr);
		return LG_EUSAGE;
	}
	if ((eo->status && strcmp(name, "goaml") != 0) ||
	    (eo->status && strcmp(eo->status, "open") != 0 &&
	     strcmp(eo->status, "escalated") != 0)) {
		fputs("clearbook: export: --status open|escalated is for goaml only\n",
		      stderr);
		return LG_EUSAGE;
	}
	if ((eo->report_code && strcmp(name, "goaml") != 0) ||
	    (eo->report_code && strcmp(eo->report_code, "STR") != 0 &&
	     strcmp(eo->report_code, "CTR") != 0)) {
		fputs("clearbook: export: --report-code STR|CTR is for goaml only\n",
		      stderr);
		return LG_EUSAGE;
	}
	if (eo->created_at && !created_at_valid(eo->created_at)) {
		fprintf(stderr, "clearbook: --created-at '%s' is not YYYY-MM-DDTHH:MM:SSZ\n",
		        eo->created_at);
		return LG_EUSAGE;
	}
	return 0;
}

/* goaml reads its entity and alerts before the snapshot opens: reading
 * alerts may create their tables, which a read snapshot cannot. */
static int goaml_prepare(ledger *lg, struct export_opts *eo, lg_error *err)
{
	static exp_goaml_entity entity;
	exp_goaml_opts go = { eo->from, eo->to, eo->status, eo->report_code, NULL,
	                      &entity, NULL };
	int rc;

	memset(&entity, 0, sizeof entity);
	rc = exp_goaml_entity_load(eo->config, &entity, err);
	if (!rc)
		rc = exp_goaml_alerts_load(lg, &go, &eo->alerts, err);
	if (!rc)
		eo->entity = &entity;
	return rc;
}

static int export_run(const cli_ctx *cx, const char *name, struct export_opts *eo,
                      const char *command)
{
	struct outdir d;
	lg_error err;
	ledger *lg = NULL;
	int rc, snap = 0;

	memset(&d, 0, sizeof d);
	lg_error_init(&err);
	rc = exp_key_check(eo->key, &err);
	if (rc)
		return cli_fail(&err);
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	if (strcmp(name, "goaml") == 0) {
		rc = goaml_prepare(lg, eo, &err);
		if (rc) {
			rc = cli_fail(&err);
			goto out;
		}
	}
	rc = outdir_open(&d, eo->out);
	if (rc)
		goto out;
	rc = exp_snapshot_begin(lg, &err);
	snap = rc == 0;
	if (!rc)
		rc = exp_ledger_head(lg, &d.m.head, &err);
	if (rc)
		goto fail;
	d.m.export_name = name;
	d.m.command = command;
	d.m.from = eo->from;
	d.m.to = eo->to;
	d.m.created_at = eo->created_at ? eo->created_at : cx->now ? cx->now
	                 : d.m.head.booked_at[0] ? d.m.head.booked_at : ledger_now(lg);
	rc = export_files(name, eo, lg, &d, &err);
	exp_snapshot_end(lg);
	snap = 0;
	if (!rc)
		rc = exp_manifest_write(d.path, &d.m, eo->key, &err);
	if (rc)
		goto fail;
	printf("exported %s to %s:", name, d.path);
	for (int i = 0; i < d.m.files_n; i++)
		printf(" %s", d.m.files[i]);
	printf(" (chain head %s, %lld transactions)\n", d.m.head.hash_hex, d.m.head.seq);
	goto out;
fail:
	if (snap)
		exp_snapshot_end(lg);
	outdir_discard(&d);
	rc = cli_fail(&err);
out:
	exp_goaml_alerts_free(eo->alerts);
	eo->alerts = NULL;
	ledger_close(lg);
	return rc;
}

static int export_verify(const char *dir, const char *pubkey)
{
	lg_error err;
	int rc;

	if (!pubkey) {
		fputs("clearbook: export verify: --pubkey FILE is required\n", stderr);
		return LG_EUSAGE;
	}
	lg_error_init(&err);
	rc = exp_manifest_verify(dir, pubkey, &err);
	if (rc == LG_ECHECK) {
		fprintf(stderr, "clearbook: export verify: %s: %s\n", dir, err.msg);
		return rc;
	}
	if (rc)
		return cli_fail(&err);
	printf("ok: %s: signature, sizes and SHA-256 of every file match\n", dir);
	return 0;
}

int cmd_export(const cli_ctx *cx, int argc, char **argv)
{
	struct export_opts eo;
	const char *pos[2];
	char command[EXPORT_COMMAND_MAX];
	int n, rc;

	memset(&eo, 0, sizeof eo);
	struct cli_opt opts[] = {
		{ "--account", &eo.account, NULL }, { "--date", &eo.date, NULL },
		{ "--from", &eo.from, NULL }, { "--to", &eo.to, NULL },
		{ "--out", &eo.out, NULL }, { "--key", &eo.key, NULL },
		{ "--encoding", &eo.encoding, NULL }, { "--config", &eo.config, NULL },
		{ "--debtor-name", &eo.debtor_name, NULL },
		{ "--debtor-iban", &eo.debtor_iban, NULL },
		{ "--debtor-bic", &eo.debtor_bic, NULL }, { "--msg-id", &eo.msg_id, NULL },
		{ "--created-at", &eo.created_at, NULL }, { "--pubkey", &eo.pubkey, NULL },
		{ "--status", &eo.status, NULL },
		{ "--report-code", &eo.report_code, NULL },
		{ NULL, NULL, NULL } };

	rc = cli_parse(argc, argv, opts, pos, 1, 2, &n, export_usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (strcmp(pos[0], "verify") == 0) {
		if (n != 2) {
			fputs(export_usage, stderr);
			return LG_EUSAGE;
		}
		return export_verify(pos[1], eo.pubkey);
	}
	if (n != 1) {
		fputs(export_usage, stderr);
		return LG_EUSAGE;
	}
	rc = export_check(pos[0], &eo);
	if (rc)
		return rc;
	command_text(argc, argv, command, sizeof command);
	return export_run(cx, pos[0], &eo, command);
}

/* --- keygen ---------------------------------------------------------------- */

int cmd_keygen(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook keygen FILE\n"
		"Writes a new Ed25519 private key to FILE (PEM, mode 0600) and its public\n"
		"key to FILE.pub (PEM). An existing file is never overwritten. Give\n"
		"FILE.pub to whoever checks exports (export verify) and seals (seal verify).\n";
	const char *pos[1];
	lg_error err;
	int n, rc = cli_parse(argc, argv, NULL, pos, 1, 1, &n, usage);

	(void)cx;
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	lg_error_init(&err);
	rc = exp_keygen(pos[0], &err);
	if (rc)
		return cli_fail(&err);
	printf("wrote %s (private, mode 0600) and %s.pub\n", pos[0], pos[0]);
	return 0;
}

/* --- seal ------------------------------------------------------------------ */

int cmd_seal(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook seal verify SEALFILE --pubkey FILE [--db LEDGER]\n"
		"       clearbook seal write YYYY-MM --key FILE [--seal-dir DIR]\n"
		"verify checks the Ed25519 signature of a period seal (SEALFILE.sig) and,\n"
		"with --db, that the ledger's close of that period, its hash chain and its\n"
		"balances at the period's end still match: exit 0, or 1 naming the first\n"
		"difference. write (re)writes the seal of an already closed period\n"
		"(close-period --key writes it at closing) into DIR (default '.').\n";
	const char *pubkey = NULL, *db = NULL, *key = NULL, *dir = ".", *pos[2];
	struct cli_opt opts[] = { { "--pubkey", &pubkey, NULL }, { "--db", &db, NULL },
	                          { "--key", &key, NULL }, { "--seal-dir", &dir, NULL },
	                          { NULL, NULL, NULL } };
	char path[EXPORT_PATH_MAX];
	lg_error err;
	ledger *lg = NULL;
	int n, rc = cli_parse(argc, argv, opts, pos, 2, 2, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	lg_error_init(&err);
	if (strcmp(pos[0], "write") == 0 && key) {
		rc = exp_key_check(key, &err);
		if (rc)
			return cli_fail(&err);
		rc = cli_open(cx, 0, &lg);
		if (rc)
			return rc;
		rc = exp_seal_write(lg, pos[1], key, dir, path, sizeof path, &err);
		ledger_close(lg);
		if (rc)
			return cli_fail(&err);
		printf("sealed %s: %s\n", pos[1], path);
		return 0;
	}
	if (strcmp(pos[0], "verify") != 0 || !pubkey) {
		fputs(usage, stderr);
		return LG_EUSAGE;
	}
	if (db) {
		cli_ctx c2 = *cx;
		c2.db_path = db;
		rc = cli_open(&c2, 0, &lg);
		if (rc)
			return rc;
	}
	rc = exp_seal_verify(pos[1], pubkey, lg, &err);
	if (lg)
		ledger_close(lg);
	if (rc == LG_ECHECK) {
		fprintf(stderr, "clearbook: seal verify: %s\n", err.msg);
		return rc;
	}
	if (rc)
		return cli_fail(&err);
	printf("ok: %s: signature matches%s\n", pos[1],
	       db ? "; the ledger's close, chain and balances match the seal" : "");
	return 0;
}
