/*
 * fuzz_json.c - libFuzzer target for JSON Lines postings: the transaction
 * line reader and canonical metadata writer (ledger/json.c), then the
 * whole posting of the line (ledger_post_json: parse, accounts and
 * templates, balance, overdraft, holds, idempotency, the hash chain) into a
 * real ledger, rolled back after each input so that every input sees the
 * same books.
 *
 * Properties checked beyond "no crash, no sanitizer report, no leak, no
 * failed LG_ASSERT":
 *   - a document that parses writes canonically or refuses with -1/-2, and
 *     canonical output parses again and writes to the same bytes;
 *   - ledger_post_json accepts, or refuses with LG_EDATA or LG_ENOINPUT and
 *     a message (any other code is a machine error the input caused);
 *   - what posted posts again in the same transaction as a replay with the
 *     same journal sequence (same id, same content), and leaves the chain
 *     head where it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ledger/ledger_int.h"

static char dir[64], db_path[128];
static ledger *lg;

static void cleanup(void)
{
	char p[160];

	ledger_close(lg);
	unlink(db_path);
	snprintf(p, sizeof p, "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db_path);
	unlink(p);
	rmdir(dir);
}

static void die(const char *what, const lg_error *err)
{
	fprintf(stderr, "fuzz_json: %s: %s\n", what, err ? err->msg : "");
	abort();
}

/* A chart that the sample world's lines post into (samples/world), one
 * template per type, a no-overdraft wallet tree, and a few assets of
 * other scales. */
static void setup_once(void)
{
	static const char *const tpl[][3] = {
		{ "assets:*", "asset", "CNY" },
		{ "liabilities:wallets:*", "liability", "CNY" },
		{ "liabilities:*", "liability", "CNY" },
		{ "equity:*", "equity", "CNY" },
		{ "income:*", "income", "CNY" },
		{ "expenses:*", "expense", "CNY" },
		{ "usd:*", "asset", "USD" },
		{ "jpy:*", "asset", "JPY" },
		{ "tok:*", "asset", "ETH18" },
	};
	const char *top = "{\"id\":\"top\",\"date\":\"2026-11-23\",\"postings\":["
		"{\"account\":\"assets:bank:icbc:cny\",\"amount\":\"1000000.00\"},"
		"{\"account\":\"equity:opening\",\"amount\":\"-1000000.00\"}]}";
	/* the wallet the sample's hold is on (samples/world line 243) */
	const char *wallet = "{\"id\":\"top-c0073\",\"date\":\"2026-11-23\",\"postings\":["
		"{\"account\":\"assets:bank:icbc:cny\",\"amount\":\"5000.00\"},"
		"{\"account\":\"liabilities:wallets:c0073\",\"amount\":\"-5000.00\"}]}";
	lg_error err;
	int replayed;

	if (lg)
		return;
	snprintf(dir, sizeof dir, "/tmp/fuzz_json.%ld.XXXXXX", (long)getpid());
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(db_path, sizeof db_path, "%s/ledger.db", dir);
	lg_error_init(&err);
	if (ledger_open(db_path, 1, "2026-11-25T02:00:00Z", &lg, &err) != 0 ||
	    ledger_asset_add(lg, "ETH18", 18, &err) != 0)
		die("opening the ledger", &err);
	atexit(cleanup);
	for (size_t i = 0; i < sizeof tpl / sizeof tpl[0]; i++)
		if (ledger_template_add(lg, tpl[i][0], tpl[i][1], tpl[i][2],
		                        i == 1 ? LG_ACCOUNT_NO_OVERDRAFT : 0, &err) != 0)
			die("a template", &err);
	if (ledger_begin(lg, &err) != 0 ||
	    ledger_post_json(lg, top, strlen(top), &replayed, NULL, &err) != 0 ||
	    ledger_post_json(lg, wallet, strlen(wallet), &replayed, NULL, &err) != 0 ||
	    ledger_commit(lg, &err) != 0)
		die("the opening balance", &err);
}

static void check_canonical(const char *text, size_t size)
{
	static struct lg_json doc, doc2;
	static char out[LG_META_MAX + 1], out2[LG_META_MAX + 1];
	char why[160];
	char *mine = malloc(size + 1);

	if (!mine)
		abort();
	memcpy(mine, text, size + 1);
	if (lg_json_parse(&doc, mine, size, why, sizeof why) == 0) {
		int rc = lg_json_canonical(&doc, 0, out, sizeof out);
		if (rc == 0) {
			size_t n = strlen(out);
			char *copy = malloc(n + 1);
			if (!copy)
				abort();
			memcpy(copy, out, n + 1);
			if (lg_json_parse(&doc2, copy, n, why, sizeof why) != 0)
				abort(); /* canonical output must parse */
			if (lg_json_canonical(&doc2, 0, out2, sizeof out2) != 0 ||
			    strcmp(out, out2) != 0)
				abort(); /* and be a fixed point */
			free(copy);
		} else if (rc != -1 && rc != -2) {
			abort();
		}
	}
	free(mine);
}

static void check_post(const char *text, size_t size)
{
	lg_error err;
	long long seq = -1, seq2 = -1, head;
	int replayed = -1, rc;

	lg_error_init(&err);
	if (ledger_begin(lg, &err) != 0)
		die("begin", &err);
	rc = ledger_post_json(lg, text, size, &replayed, &seq, &err);
	if (getenv("FUZZ_JSON_VERBOSE"))
		fprintf(stderr, "fuzz_json: post %d seq %lld: %s\n", rc, seq, rc ? err.msg : "ok");
	if (rc != 0) {
		if ((rc != LG_EDATA && rc != LG_ENOINPUT) || err.msg[0] == '\0') {
			fprintf(stderr, "fuzz_json: post returned %d: %s\n", rc, err.msg);
			abort();
		}
	} else if (!replayed) { /* a replay: one of the setup's lines */
		if (seq < 1)
			abort();
		head = lg->head_seq;
		lg_error_init(&err);
		if (ledger_post_json(lg, text, size, &replayed, &seq2, &err) != 0 ||
		    !replayed || seq2 != seq || lg->head_seq != head) {
			fprintf(stderr, "fuzz_json: the same line again: %s\n", err.msg);
			abort(); /* same id, same content: a replay of the same entry */
		}
	}
	ledger_rollback(lg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size > LG_LINE_MAX)
		return 0;
	setup_once();
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_canonical(text, size);
	check_post(text, size);
	free(text);
	return 0;
}
