/*
 * fuzz_csv.c - libFuzzer target for the CSV profile reader (importers/csv.c
 * with importers/text.c): the first input byte picks a shipped profile, the
 * rest is the file.  Whatever the bytes, the reader must either call the
 * sink in order (begin, lines, end) or refuse with a coded, non-empty
 * error; sanitizers catch the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../importers/importers.h"

#define FUZZ_CSV_INPUT_MAX ((size_t)1 << 20)

static const char *const profile_names[] = {
	"bank-csv", "card-settlement", "alipay", "alipay-merchant", "wechat",
	"wechat-merchant", "chain-transfers", "disputes",
};
#define PROFILES_N (sizeof profile_names / sizeof profile_names[0])

struct fuzz_state {
	int open;
	long lines;
};

static char fuzz_path[64];
static imp_profile *profiles[PROFILES_N];

static void fuzz_cleanup(void)
{
	if (fuzz_path[0])
		unlink(fuzz_path);
	for (size_t i = 0; i < PROFILES_N; i++)
		imp_profile_free(profiles[i]);
}

static const char *profiles_dir(void)
{
	const char *d = getenv("CLEARBOOK_PROFILES");
	return d && d[0] ? d : "importers/profiles";
}

/* Loads every profile once; aborts when the shipped ones are not found,
 * because a harness that tests nothing must not look green. */
static void setup_once(void)
{
	lg_error err;
	int fd;

	if (fuzz_path[0])
		return;
	snprintf(fuzz_path, sizeof fuzz_path, "/tmp/fuzz_csv.%ld.XXXXXX", (long)getpid());
	fd = mkstemp(fuzz_path);
	if (fd < 0)
		abort();
	close(fd);
	for (size_t i = 0; i < PROFILES_N; i++) {
		lg_error_init(&err);
		if (imp_profile_load(profile_names[i], profiles_dir(), &profiles[i], &err) != 0) {
			fprintf(stderr, "fuzz_csv: %s (run from the repository root or set "
			        "CLEARBOOK_PROFILES)\n", err.msg);
			abort();
		}
	}
	/* chain-transfers needs the wallet the export is for */
	lg_error_init(&err);
	if (imp_profile_set(profiles[6], "amount.own_address",
	                    "0x7e2f3a9c61d84b0e5f1a2c3d4e5f60718293a4b5", &err) != 0)
		abort();
	atexit(fuzz_cleanup);
}

static int scale(void *ctx, const char *asset, int *out)
{
	(void)ctx;
	if (!strcmp(asset, "JPY")) {
		*out = 0;
		return 0;
	}
	if (!strcmp(asset, "USDT") || !strcmp(asset, "USDC")) {
		*out = 6;
		return 0;
	}
	if (!strcmp(asset, "DAI")) {
		*out = 18;
		return 0;
	}
	if (!strcmp(asset, "CNY") || !strcmp(asset, "EUR") || !strcmp(asset, "USD")) {
		*out = 2;
		return 0;
	}
	return -1;
}

static int on_begin(void *ctx, const imp_statement *st, lg_error *err)
{
	struct fuzz_state *s = ctx;
	(void)st;
	(void)err;
	if (s->open)
		abort();
	s->open = 1;
	return 0;
}

static int on_line(void *ctx, const imp_statement *st, const imp_line *ln, lg_error *err)
{
	struct fuzz_state *s = ctx;
	(void)err;
	/* cells as a JSON array, their names the statement's raw_header */
	if (!s->open || !ln->raw_json || ln->raw_json[0] != '[' || !ln->asset ||
	    !st->raw_header || st->raw_header[0] != '[')
		abort();
	s->lines++;
	return 0;
}

static int on_end(void *ctx, const imp_statement *st, lg_error *err)
{
	struct fuzz_state *s = ctx;
	(void)err;
	if (!s->open || st->booked_entries != s->lines)
		abort();
	s->open = 0;
	return 0;
}

static int on_status(void *ctx, const imp_status *st, lg_error *err)
{
	(void)ctx;
	(void)st;
	(void)err;
	abort(); /* CSV never reports payment statuses */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state s = { 0, 0 };
	imp_sink sink = { &s, on_begin, on_line, on_end, on_status };
	lg_error err;
	FILE *fp;
	int rc;

	if (size < 1 || size > FUZZ_CSV_INPUT_MAX)
		return 0;
	setup_once();
	fp = fopen(fuzz_path, "wb");
	if (!fp || fwrite(data + 1, 1, size - 1, fp) != size - 1 || fclose(fp) != 0)
		abort();
	lg_error_init(&err);
	rc = imp_csv_read(fuzz_path, profiles[data[0] % PROFILES_N], scale, NULL, &sink, &err);
	if (rc != 0 && (err.code == 0 || err.msg[0] == '\0'))
		abort(); /* a refusal must say why */
	if (rc == 0 && s.open)
		abort(); /* a successful read ends what it began */
	return 0;
}
