/*
 * cmd_backup.c - backup and restore of the ledger database.
 */
#include "cli.h"

#include <string.h>

int cmd_backup(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook backup FILE\n"
		"Writes a consistent copy of the ledger to FILE (which must not exist)\n"
		"through SQLite's online backup, while other processes go on writing.\n";
	const char *pos[1];
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, NULL, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rc = ledger_backup(lg, pos[0], &err);
	ledger_close(lg);
	if (rc)
		return cli_fail(&err);
	printf("backed up %s to %s\n", cx->db_path, pos[0]);
	return 0;
}

int cmd_restore(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook restore FILE [--replace]\n"
		"Restores the backup FILE as the ledger (--db) only if its hash chain\n"
		"and balances verify; a copy that does not is refused (exit 1) and\n"
		"nothing is written.  The ledger file must not exist unless --replace.\n";
	const char *pos[1];
	int replace = 0;
	struct cli_opt opts[] = { { "--replace", NULL, &replace }, { NULL, NULL, NULL } };
	ledger_verify_result res;
	lg_error err;
	int n, rc = cli_parse(argc, argv, opts, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (strcmp(pos[0], cx->db_path) == 0) {
		fprintf(stderr, "clearbook: restore: %s is the ledger itself\n", pos[0]);
		return LG_EUSAGE;
	}
	lg_error_init(&err);
	rc = ledger_restore(pos[0], cx->db_path, replace, &res, &err);
	if (rc)
		return cli_fail(&err);
	printf("restored %s to %s: %lld transactions, chain head %s\n", pos[0],
	       cx->db_path, res.transactions, res.head_hex);
	return 0;
}
