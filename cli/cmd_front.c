/*
 * cmd_front.c - the commands of the HTTP front: serve, and apikey add and
 * revoke.  The work is in front/; these parse options and report.
 */
#include "cli.h"

#include <openssl/crypto.h>
#include <string.h>

#include "../front/front.h"

int cmd_serve(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook serve --listen HOST:PORT [--config FILE]\n"
		"Serves the wallet purchase API (docs/api.md) on HOST:PORT (an IPv4\n"
		"address; port 0 picks a free one, named on stderr). The master key\n"
		"comes from CLEARBOOK_MASTER_KEY or the configuration. SIGTERM stops\n"
		"accepting, commits and answers what was accepted, and exits 0.\n"
		"The server keeps the system clock: --now does not apply.\n";
	const char *listen = NULL, *config = NULL, *pos[1];
	struct cli_opt opts[] = { { "--listen", &listen, NULL },
	                          { "--config", &config, NULL }, { NULL, NULL, NULL } };
	front_options o;
	lg_error err;
	int n, rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!listen) {
		fputs(usage, stderr);
		return LG_EUSAGE;
	}
	lg_error_init(&err);
	o.db_path = cx->db_path;
	o.listen = listen;
	o.config_path = config;
	rc = front_serve(&o, &err);
	return rc ? cli_fail(&err) : 0;
}

int cmd_apikey(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook apikey add MERCHANT [--config FILE]\n"
		"       clearbook apikey revoke KEY_ID\n"
		"add prints key_id=... and secret=... on two lines; the secret is shown\n"
		"only this once and stored only encrypted (AES-256-GCM) under the master\n"
		"key (CLEARBOOK_MASTER_KEY, else master_key in the configuration).\n"
		"revoke ends a key at once.\n";
	const char *config = NULL, *pos[2];
	struct cli_opt opts[] = { { "--config", &config, NULL }, { NULL, NULL, NULL } };
	char key_id[FRONT_KEY_ID_MAX + 1], secret[FRONT_SECRET_MAX + 1];
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 2, 2, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (strcmp(pos[0], "add") != 0 && strcmp(pos[0], "revoke") != 0) {
		fputs(usage, stderr);
		return LG_EUSAGE;
	}
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	if (strcmp(pos[0], "add") == 0) {
		rc = front_apikey_add(lg, config, pos[1], key_id, secret, &err);
		if (!rc)
			printf("key_id=%s\nsecret=%s\n", key_id, secret);
		OPENSSL_cleanse(secret, sizeof secret);
	} else {
		rc = front_apikey_revoke(lg, pos[1], &err);
		if (!rc)
			printf("revoked %s\n", pos[1]);
	}
	ledger_close(lg);
	return rc ? cli_fail(&err) : 0;
}
