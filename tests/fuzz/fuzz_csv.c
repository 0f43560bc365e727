/*
 * fuzz_csv.c - libFuzzer target for the CSV profile reader (importers/csv.c
 * with importers/text.c and, for the orders feed, importers/posting.c),
 * through the public calls of importers/importers.h.
 *
 * The first input byte picks one of the shipped profiles of
 * importers/profiles/ (byte % PROFILES_N) and the reading call
 * ((byte / PROFILES_N) % 2: 0 imp_csv_read, 1 imp_csv_read_all; the orders
 * profile always goes through imp_csv_post_all); the rest is the file.
 *
 * Properties checked beyond "no crash, no sanitizer report, no leak":
 *   - the sink is called in order: one statement_begin, lines, one
 *     statement_end, never a payment status;
 *   - every line has its cells as a JSON array named by the statement's
 *     raw_header (a posted row: a JSON object), an asset, a booking date
 *     YYYY-MM-DD when its cell is not empty (a posted row always has
 *     one), entry_index counting rows from 0 and line_no never going
 *     back (a bare CR ends a record inside one physical line, so two rows
 *     can share a line number: docs/fuzzing.md);
 *   - statement_end's count and sum are those of the lines handed over;
 *   - a refusal has a code and a message; imp_csv_read_all fails whenever
 *     it refused a row, and a successful read refused none;
 *   - every transaction the orders template builds is JSON whose postings
 *     sum to zero at the row asset's scale, with the id the template says.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../importers/importers.h"

#define FUZZ_CSV_INPUT_MAX ((size_t)1 << 20)

/* Every profile shipped in importers/profiles/; `orders` posts. */
static const char *const profile_names[] = {
	"bank-csv", "card-settlement", "alipay", "alipay-merchant", "wechat",
	"wechat-merchant", "chain-transfers", "disputes", "orders",
};
#define PROFILES_N (sizeof profile_names / sizeof profile_names[0])
#define PROFILE_CHAIN 6
#define PROFILE_ORDERS 8

struct fuzz_state {
	int open, ended;
	long lines, last_line_no;
	amount_minor_t sum;
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
	if (!imp_profile_posts(profiles[PROFILE_ORDERS]))
		abort();
	/* chain-transfers needs the wallet the export is for */
	lg_error_init(&err);
	if (imp_profile_set(profiles[PROFILE_CHAIN], "amount.own_address",
	                    "0x7e2f3a9c61d84b0e5f1a2c3d4e5f60718293a4b5", &err) != 0)
		abort();
	atexit(fuzz_cleanup);
}

static int scale(void *ctx, const char *asset, int *out)
{
	(void)ctx;
	if (!asset)
		abort();
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

static int date_ok(const char *d)
{
	if (!d || strlen(d) != 10 || d[4] != '-' || d[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
			return 0;
	return 1;
}

/* The checks every row shares: a staged row's cells are a JSON array
 * (named by raw_header), a posted row's a JSON object of its own. */
static void check_line(struct fuzz_state *s, const imp_line *ln, char open)
{
	if (!ln->raw_json || ln->raw_json[0] != open || !ln->asset ||
	    (ln->booking_date && !date_ok(ln->booking_date)) ||
	    (open == '{' && !ln->booking_date) || ln->child_index != -1 ||
	    ln->line_no < s->last_line_no || ln->line_no < 1) {
		fprintf(stderr, "fuzz_csv: bad line: raw %.40s asset %s date %s child %ld "
		        "line_no %ld after %ld\n", ln->raw_json ? ln->raw_json : "(null)",
		        ln->asset ? ln->asset : "(null)",
		        ln->booking_date ? ln->booking_date : "(null)", ln->child_index,
		        ln->line_no, s->last_line_no);
		abort();
	}
	s->last_line_no = ln->line_no;
}

static int on_begin(void *ctx, const imp_statement *st, lg_error *err)
{
	struct fuzz_state *s = ctx;
	(void)err;
	if (s->open || s->ended || !st->message_type ||
	    strncmp(st->message_type, "csv:", 4) != 0)
		abort();
	s->open = 1;
	return 0;
}

static int on_line(void *ctx, const imp_statement *st, const imp_line *ln, lg_error *err)
{
	struct fuzz_state *s = ctx;
	(void)err;
	/* cells as a JSON array, their names the statement's raw_header */
	if (!s->open || !st->raw_header || st->raw_header[0] != '[' ||
	    ln->entry_index != s->lines)
		abort();
	check_line(s, ln, '[');
	if (__builtin_add_overflow(s->sum, ln->amount_minor, &s->sum))
		abort(); /* the reader must have refused a sum out of range */
	s->lines++;
	return 0;
}

static int on_end(void *ctx, const imp_statement *st, lg_error *err)
{
	struct fuzz_state *s = ctx;
	(void)err;
	if (!s->open || st->booked_entries != s->lines || st->booked_sum_minor != s->sum)
		abort();
	s->open = 0;
	s->ended = 1;
	return 0;
}

static int on_status(void *ctx, const imp_status *st, lg_error *err)
{
	(void)ctx;
	(void)st;
	(void)err;
	abort(); /* CSV never reports payment statuses */
}

static void on_reject(void *ctx, const lg_error *err)
{
	(void)ctx;
	if (err->code == 0 || err->msg[0] == '\0')
		abort();
}

/* The orders template's transaction: JSON, postings summing to zero. */
static int on_post(void *ctx, const imp_line *ln, const char *json, size_t len,
                   int *replayed, lg_error *err)
{
	struct fuzz_state *s = ctx;
	json_error_t jerr;
	json_t *tx, *postings, *p;
	amount_minor_t sum = 0, v;
	const char *id;
	char why[128];
	size_t i;
	int sc;

	(void)err;
	if (strlen(json) != len)
		abort();
	check_line(s, ln, '{');
	tx = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	postings = json_object_get(tx, "postings");
	id = json_string_value(json_object_get(tx, "id"));
	if (getenv("FUZZ_CSV_VERBOSE")) fprintf(stderr, "post: %s\n", json);
	if (!tx || !json_is_array(postings) || !id || strncmp(id, "order:", 6) != 0 ||
	    scale(NULL, ln->asset, &sc) != 0)
		abort();
	json_array_foreach(postings, i, p) {
		const char *a = json_string_value(json_object_get(p, "amount"));
		if (!a || !json_string_value(json_object_get(p, "account")) ||
		    amount_parse(a, strlen(a), sc, &v, why, sizeof why) != 0 || v == 0 ||
		    __builtin_add_overflow(sum, v, &sum))
			abort();
	}
	if (sum != 0)
		abort(); /* the shipped template balances every row */
	json_decref(tx);
	s->lines++;
	*replayed = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state s;
	imp_sink sink = { &s, on_begin, on_line, on_end, on_status };
	const imp_profile *prof;
	lg_error err;
	long rejected = -1, posted = -1, replayed = -1;
	size_t which;
	FILE *fp;
	int rc, all;

	if (size < 1 || size > FUZZ_CSV_INPUT_MAX)
		return 0;
	setup_once();
	fp = fopen(fuzz_path, "wb");
	if (!fp || fwrite(data + 1, 1, size - 1, fp) != size - 1 || fclose(fp) != 0)
		abort();
	which = data[0] % PROFILES_N;
	all = (data[0] / PROFILES_N) % 2;
	prof = profiles[which];
	memset(&s, 0, sizeof s);
	s.last_line_no = 0;
	lg_error_init(&err);
	if (which == PROFILE_ORDERS) {
		rc = imp_csv_post_all(fuzz_path, prof, scale, NULL, on_post, &s, on_reject,
		                      NULL, &rejected, &posted, &replayed, &err);
		if (rejected < 0 || posted != s.lines || replayed != 0 ||
		    (rejected > 0 && rc == 0))
			abort();
	} else if (all) {
		rc = imp_csv_read_all(fuzz_path, prof, scale, NULL, &sink, on_reject, NULL,
		                      &rejected, &err);
		if (rejected < 0 || (rejected > 0 && rc == 0) || (rc == 0 && !s.ended))
			abort();
	} else {
		rc = imp_csv_read(fuzz_path, prof, scale, NULL, &sink, &err);
		if (rc == 0 && !s.ended)
			abort(); /* a successful read ends what it began */
	}
	if (rc != 0 && (err.code == 0 || err.msg[0] == '\0'))
		abort(); /* a refusal must say why */
	if (getenv("FUZZ_CSV_VERBOSE"))
		fprintf(stderr, "fuzz_csv: %s%s rc %d lines %ld rejected %ld: %s\n",
		        profile_names[which], all ? " (all)" : "", rc, s.lines, rejected,
		        rc ? err.msg : "ok");
	return 0;
}
