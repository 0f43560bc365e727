/*
 * main.c - the clearbook command: global options and the command table.
 *
 *   clearbook [--db PATH] [--now TIMESTAMP] COMMAND [ARGS...]
 *
 * Exit statuses follow sysexits: 0 ok, 1 a check found a problem, 64
 * usage, 65 bad data, 66 missing input, 70 internal, 74 I/O, 75 busy.
 */
#include "cli.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static const struct command {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
} commands[] = {
	{ "init", cmd_init, "create the ledger database (no-op if it exists)" },
	{ "asset", cmd_asset, "add and list assets (currencies, tokens, points)" },
	{ "account", cmd_account, "add, import, list and close accounts; templates, aliases" },
	{ "post", cmd_post, "post transactions from a JSON Lines file, all or none" },
	{ "commit", cmd_commit, "post a pending hold in full or in part" },
	{ "void", cmd_void, "release a pending hold" },
	{ "expire", cmd_expire, "release every hold whose time has run out" },
	{ "reverse", cmd_reverse, "post the mirror of a transaction, once" },
	{ "close-period", cmd_close_period, "close a month to further postings" },
	{ "verify", cmd_verify, "recompute the hash chain and every balance" },
	{ "backup", cmd_backup, "a consistent online copy of the ledger" },
	{ "restore", cmd_restore, "restore a backup, only if its chain verifies" },
	{ "balance", cmd_balance, "posted, pending and available balances" },
	{ "journal", cmd_journal, "list transactions with their postings" },
	{ "import", cmd_import, "stage channel files (ISO 20022, CSV) as statement lines" },
	{ "statement", cmd_statement, "list staged statement lines and breaks" },
	{ "reconcile", cmd_reconcile, "match a channel's statement lines to open items" },
	{ "breaks", cmd_breaks, "list reconciliation breaks" },
	{ "match", cmd_match, "match a statement line to open items by hand" },
	{ "unmatch", cmd_unmatch, "undo a match (append-only, with a reason)" },
	{ "nightly", cmd_nightly, "the nightly batch: import, reconcile, report" },
	{ "export", cmd_export, "signed exports: camt053, pain001, csv, journal, goaml" },
	{ "keygen", cmd_keygen, "make an Ed25519 signing key pair" },
	{ "seal", cmd_seal, "verify the signed seal of a closed period" },
	{ "serve", cmd_serve, "the HTTP front for wallet purchases" },
	{ "apikey", cmd_apikey, "add and revoke merchants' API keys" },
	{ "report", cmd_report, "reports: books, statement, reconciliation, settlement" },
	{ "settle", cmd_settle, "post merchant payouts of a date, ready for pain.001" },
	{ "aml", cmd_aml, "AML monitoring: scan, alerts and their case status" },
	{ "chargebacks", cmd_chargebacks, "post disputes from the dispute report; dispute report" },
};

static void usage(FILE *fp)
{
	fputs("usage: clearbook [--db PATH] [--now TIMESTAMP] COMMAND [ARGS...]\n\n"
	      "clearbook is an append-only, hash-chained double-entry ledger.\n\n"
	      "global options:\n"
	      "  --db PATH        ledger database (default $CLEARBOOK_DB or ./clearbook.db)\n"
	      "  --now TIMESTAMP  fix the clock, e.g. 2026-11-25T02:00:00Z\n"
	      "                   (default $CLEARBOOK_NOW, else the system clock)\n"
	      "  --help           this text; COMMAND --help for a command's own\n\n"
	      "commands:\n", fp);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fputs("\nexit status: 0 ok, 1 check failed, 64 usage, 65 bad data or conflict,\n"
	      "66 input missing, 70 internal error, 74 I/O error, 75 busy (try again)\n",
	      fp);
}

int main(int argc, char **argv)
{
	cli_ctx cx;
	int i = 1;

	/* Posting a large file allocates and frees in a steady rhythm; without
	 * these glibc hands memory back to the kernel and faults it in again
	 * thousands of times a second (a third of the run in system time). */
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	mallopt(M_TOP_PAD, 8 << 20);
	mallopt(M_MMAP_THRESHOLD, 8 << 20);

	cx.db_path = getenv("CLEARBOOK_DB");
	if (!cx.db_path || !cx.db_path[0])
		cx.db_path = "clearbook.db";
	cx.now = getenv("CLEARBOOK_NOW");
	if (cx.now && !cx.now[0])
		cx.now = NULL;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--db") == 0 && i + 1 < argc) {
			cx.db_path = argv[++i];
		} else if (strncmp(a, "--db=", 5) == 0) {
			cx.db_path = a + 5;
		} else if (strcmp(a, "--now") == 0 && i + 1 < argc) {
			cx.now = argv[++i];
		} else if (strncmp(a, "--now=", 6) == 0) {
			cx.now = a + 6;
		} else {
			fprintf(stderr, "clearbook: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return LG_EUSAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return LG_EUSAGE;
	}
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			return commands[k].fn(&cx, argc - i, argv + i);
	fprintf(stderr, "clearbook: unknown command '%s' (see clearbook --help)\n", argv[i]);
	return LG_EUSAGE;
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts, const char **pos,
              int pos_min, int pos_max, int *pos_n, const char *usage_text)
{
	int n = 0, only_pos = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *o = NULL;
		const char *eq;
		size_t len;

		if (!only_pos && strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return CLI_HELP;
		}
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (only_pos || strncmp(a, "--", 2) != 0 || strcmp(a, "-") == 0) {
			if (n >= pos_max) {
				fprintf(stderr, "clearbook: unexpected argument '%s'\n%s", a,
				        usage_text);
				return LG_EUSAGE;
			}
			pos[n++] = a;
			continue;
		}
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (int k = 0; opts && opts[k].name; k++)
			if (strlen(opts[k].name) == len && strncmp(opts[k].name, a, len) == 0)
				o = &opts[k];
		if (!o) {
			fprintf(stderr, "clearbook: unknown option '%.*s'\n%s", (int)len, a,
			        usage_text);
			return LG_EUSAGE;
		}
		if (o->flag) {
			if (eq) {
				fprintf(stderr, "clearbook: option '%s' takes no value\n", o->name);
				return LG_EUSAGE;
			}
			*o->flag = 1;
		} else if (eq) {
			*o->value = eq + 1;
		} else if (i + 1 < argc) {
			*o->value = argv[++i];
		} else {
			fprintf(stderr, "clearbook: option '%s' needs a value\n%s", o->name,
			        usage_text);
			return LG_EUSAGE;
		}
	}
	if (n < pos_min) {
		fprintf(stderr, "clearbook: %s: missing argument\n%s", argv[0], usage_text);
		return LG_EUSAGE;
	}
	*pos_n = n;
	return 0;
}

int cli_fail(const lg_error *err)
{
	fprintf(stderr, "clearbook: %s\n", err->msg);
	return err->code ? err->code : LG_EINTERNAL;
}

int cli_open(const cli_ctx *cx, int flags, ledger **out)
{
	lg_error err;

	lg_error_init(&err);
	if (ledger_open(cx->db_path, flags, cx->now, out, &err) != LG_OK)
		return cli_fail(&err);
	return 0;
}

int cli_format(const char *text, enum out_format *out)
{
	if (!text) {
		*out = OUT_TEXT;
		return 0;
	}
	if (out_format_parse(text, out) != 0) {
		fprintf(stderr, "clearbook: --format '%s' is not text, csv or json\n", text);
		return LG_EUSAGE;
	}
	return 0;
}
