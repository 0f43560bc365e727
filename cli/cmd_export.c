/* cmd_export.c - placeholder until the module lands. */
#include "cli.h"

int cmd_export(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

int cmd_keygen(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

int cmd_seal(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

