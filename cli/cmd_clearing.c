/* cmd_clearing.c - placeholder until the module lands. */
#include "cli.h"

int cmd_reconcile(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

int cmd_breaks(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

int cmd_match(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

int cmd_unmatch(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

int cmd_nightly(const cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	(void)argc;
	fprintf(stderr, "clearbook: %s: not built yet\n", argv[0]);
	return LG_EINTERNAL;
}

