/*
 * cli.h - what the clearbook command's files share: option parsing, the
 * global context and the command functions.
 */
#ifndef CLEARBOOK_CLI_H
#define CLEARBOOK_CLI_H

#include "../ledger/ledger.h"
#include "out.h"

#define CLI_POSITIONAL_MAX 16

/* Set up by main from global options and the environment. */
typedef struct cli_ctx {
	const char *db_path;
	const char *now;   /* NULL: the system clock */
} cli_ctx;

struct cli_opt {
	const char *name;      /* "--format" */
	const char **value;    /* set for options taking a value */
	int *flag;             /* set to 1 for flags */
};

/*
 * Parses argv[1..] (argv[0] is the command word) against opts; positional
 * arguments go to pos[]; exactly pos_min..pos_max of them are accepted.
 * Returns 0, CLI_HELP when --help was given (usage printed), or LG_EUSAGE
 * after printing what is wrong and the usage.
 */
#define CLI_HELP (-1)
int cli_parse(int argc, char **argv, const struct cli_opt *opts, const char **pos,
              int pos_min, int pos_max, int *pos_n, const char *usage);

/* Prints "clearbook: msg" and returns err->code. */
int cli_fail(const lg_error *err);
/* Opens the ledger named by the context; prints the error itself. */
int cli_open(const cli_ctx *cx, int flags, ledger **out); /* LEDGER_OPEN_* */
/* Parses --format (NULL: text). */
int cli_format(const char *text, enum out_format *out);

typedef int (*cli_cmd_fn)(const cli_ctx *cx, int argc, char **argv);

int cmd_init(const cli_ctx *cx, int argc, char **argv);
int cmd_asset(const cli_ctx *cx, int argc, char **argv);
int cmd_account(const cli_ctx *cx, int argc, char **argv);
int cmd_post(const cli_ctx *cx, int argc, char **argv);
int cmd_commit(const cli_ctx *cx, int argc, char **argv);
int cmd_void(const cli_ctx *cx, int argc, char **argv);
int cmd_expire(const cli_ctx *cx, int argc, char **argv);
int cmd_reverse(const cli_ctx *cx, int argc, char **argv);
int cmd_close_period(const cli_ctx *cx, int argc, char **argv);
int cmd_verify(const cli_ctx *cx, int argc, char **argv);
int cmd_balance(const cli_ctx *cx, int argc, char **argv);
int cmd_journal(const cli_ctx *cx, int argc, char **argv);
int cmd_import(const cli_ctx *cx, int argc, char **argv);
int cmd_statement(const cli_ctx *cx, int argc, char **argv);
/* cmd_backup.c */
int cmd_backup(const cli_ctx *cx, int argc, char **argv);
int cmd_restore(const cli_ctx *cx, int argc, char **argv);
/* cmd_clearing.c */
int cmd_reconcile(const cli_ctx *cx, int argc, char **argv);
int cmd_breaks(const cli_ctx *cx, int argc, char **argv);
int cmd_match(const cli_ctx *cx, int argc, char **argv);
int cmd_unmatch(const cli_ctx *cx, int argc, char **argv);
int cmd_nightly(const cli_ctx *cx, int argc, char **argv);
/* cmd_export.c */
int cmd_export(const cli_ctx *cx, int argc, char **argv);
int cmd_keygen(const cli_ctx *cx, int argc, char **argv);
int cmd_seal(const cli_ctx *cx, int argc, char **argv);
/* cmd_front.c */
int cmd_serve(const cli_ctx *cx, int argc, char **argv);
int cmd_apikey(const cli_ctx *cx, int argc, char **argv);
/* cmd_report.c */
int cmd_report(const cli_ctx *cx, int argc, char **argv);
int cmd_settle(const cli_ctx *cx, int argc, char **argv);
/* cmd_aml.c */
int cmd_aml(const cli_ctx *cx, int argc, char **argv);
/* cmd_chargebacks.c */
int cmd_chargebacks(const cli_ctx *cx, int argc, char **argv);

#endif
