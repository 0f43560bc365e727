/* cmd_front.c - placeholder until the module lands. */
#include "cli.h"

int cmd_serve(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

int cmd_apikey(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

