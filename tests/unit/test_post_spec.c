/*
 * test_post_spec.c - unit tests for ledger_post_spec and its grouped form
 * (ledger/post_struct.c) against real SQLite files.
 *
 * The promise under test is that a transaction posted from a struct is the
 * transaction the JSON record would have posted: so each test posts the
 * same transactions into two fresh ledgers, one through ledger_post_json
 * and one through the struct path, and compares the chain heads that
 * ledger_verify recomputes (any byte of id, date, memo, metadata or amount
 * that differed would change them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ledger/ledger.h"

#define NOW "2026-11-25T02:00:00Z"
#define TXS_MAX 64

struct db {
	char path[64];
	ledger *lg;
};

static void db_open(struct db *d)
{
	static const char *const acct[][2] = {
		{ "assets:bank", "asset" }, { "assets:clearing:card", "asset" },
		{ "expenses:fees", "expense" }, { "income:sales", "income" },
	};
	lg_error err;
	int fd;

	snprintf(d->path, sizeof d->path, "/tmp/clearbook-spec-XXXXXX");
	fd = mkstemp(d->path);
	assert_true(fd >= 0);
	close(fd);
	lg_error_init(&err);
	if (ledger_open(d->path, 1, NOW, &d->lg, &err) != LG_OK)
		fail_msg("open: %s", err.msg);
	for (size_t i = 0; i < sizeof acct / sizeof acct[0]; i++)
		if (ledger_account_add(d->lg, acct[i][0], acct[i][1], "CNY", 0, NULL, &err))
			fail_msg("account: %s", err.msg);
}

static void db_close(struct db *d)
{
	char p[96];
	ledger_close(d->lg);
	unlink(d->path);
	snprintf(p, sizeof p, "%s-wal", d->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", d->path);
	unlink(p);
}

static void head_of(struct db *d, ledger_verify_result *res)
{
	lg_error err;
	lg_error_init(&err);
	if (ledger_verify(d->lg, res, &err) != LG_OK)
		fail_msg("verify: %s %s", err.msg, res->problem);
}

/* Transaction k of a test night: a settlement-like transaction with a fee
 * every third one, metadata that alternates (unsorted keys, an escape, a
 * non-ASCII character) and a memo. */
struct tx {
	char id[40], memo[64], meta[160], json[1024];
	ledger_posting_spec p[3];
	ledger_tx_spec spec;
};

static void tx_make(struct tx *t, int k)
{
	amount_minor_t gross = 1000 + 37 * k, fee = k % 3 == 0 ? 12 : 0;
	long long g = (long long)gross, f = (long long)fee;

	snprintf(t->id, sizeof t->id, "settle:card:L%d", k + 1);
	snprintf(t->memo, sizeof t->memo, "card settlement (rule %d) \xe2\x82\xac", k % 2);
	if (k % 2)
		snprintf(t->meta, sizeof t->meta, "{\"type\":\"settlement\",\"batch_id\":"
		         "\"B-%d\",\"channel\":\"card\"}", k / 4);
	else
		snprintf(t->meta, sizeof t->meta, "{\"rule\":\"a \\\"quoted\\\" one\","
		         "\"channel\":\"card\"}");
	t->p[0] = (ledger_posting_spec){ "assets:bank", gross - fee };
	t->p[1] = (ledger_posting_spec){ "expenses:fees", fee };
	t->p[2] = (ledger_posting_spec){ "assets:clearing:card", -gross };
	if (fee) {
		t->spec = (ledger_tx_spec){ t->id, "2026-11-24", t->memo, t->meta, t->p, 3 };
		snprintf(t->json, sizeof t->json, "{\"id\":\"%s\",\"date\":\"2026-11-24\","
		         "\"memo\":\"%s\",\"postings\":[{\"account\":\"assets:bank\",\"amount\":"
		         "\"%lld.%02lld\"},{\"account\":\"expenses:fees\",\"amount\":\"0.%02lld\"},"
		         "{\"account\":\"assets:clearing:card\",\"amount\":\"-%lld.%02lld\"}],"
		         "\"meta\":%s}", t->id, t->memo, (g - f) / 100, (g - f) % 100, f,
		         g / 100, g % 100, t->meta);
	} else {
		t->p[1] = t->p[2];
		t->spec = (ledger_tx_spec){ t->id, "2026-11-24", t->memo, t->meta, t->p, 2 };
		snprintf(t->json, sizeof t->json, "{\"id\":\"%s\",\"date\":\"2026-11-24\","
		         "\"memo\":\"%s\",\"postings\":[{\"account\":\"assets:bank\",\"amount\":"
		         "\"%lld.%02lld\"},{\"account\":\"assets:clearing:card\",\"amount\":"
		         "\"-%lld.%02lld\"}],\"meta\":%s}", t->id, t->memo, g / 100, g % 100,
		         g / 100, g % 100, t->meta);
	}
}

/* Posts n transactions through the JSON path in one database transaction. */
static void post_all_json(struct db *d, int n)
{
	lg_error err;
	lg_error_init(&err);
	assert_int_equal(ledger_begin(d->lg, &err), LG_OK);
	for (int k = 0; k < n; k++) {
		struct tx t;
		int replayed = 1;
		tx_make(&t, k);
		if (ledger_post_json(d->lg, t.json, strlen(t.json), &replayed, NULL, &err))
			fail_msg("json %d: %s", k, err.msg);
		assert_int_equal(replayed, 0);
	}
	assert_int_equal(ledger_commit(d->lg, &err), LG_OK);
}

static void spec_posts_the_chain_head_of_the_same_json_records(void **state)
{
	struct db a, b;
	ledger_verify_result ha, hb;
	lg_error err;
	long long seq = 0;

	(void)state;
	db_open(&a);
	db_open(&b);
	post_all_json(&a, 7);
	lg_error_init(&err);
	assert_int_equal(ledger_begin(b.lg, &err), LG_OK);
	for (int k = 0; k < 7; k++) {
		struct tx t;
		int replayed = 1;
		tx_make(&t, k);
		if (ledger_post_spec(b.lg, &t.spec, &replayed, &seq, &err))
			fail_msg("spec %d: %s", k, err.msg);
		assert_int_equal(replayed, 0);
		assert_int_equal(seq, k + 1);
	}
	assert_int_equal(ledger_commit(b.lg, &err), LG_OK);
	head_of(&a, &ha);
	head_of(&b, &hb);
	assert_int_equal(ha.transactions, 7);
	assert_int_equal(hb.transactions, 7);
	assert_string_equal(ha.head_hex, hb.head_hex);
	db_close(&a);
	db_close(&b);
}

static void grouped_spec_posts_the_chain_head_of_the_same_json_records(void **state)
{
	struct db a, b;
	ledger_verify_result ha, hb;
	ledger_spec_group *g = NULL;
	lg_error err;

	(void)state;
	db_open(&a);
	db_open(&b);
	post_all_json(&a, 40); /* more than two groups of 16 */
	lg_error_init(&err);
	assert_int_equal(ledger_spec_group_new(b.lg, &g, &err), LG_OK);
	assert_int_equal(ledger_begin(b.lg, &err), LG_OK);
	for (int k = 0; k < 40; k++) {
		struct tx t;
		int replayed = 1;
		tx_make(&t, k);
		if (ledger_post_spec_grouped(g, &t.spec, &replayed, &err))
			fail_msg("grouped %d: %s", k, err.msg);
		assert_int_equal(replayed, 0);
	}
	assert_int_equal(ledger_spec_group_flush(g, &err), LG_OK);
	assert_int_equal(ledger_commit(b.lg, &err), LG_OK);
	ledger_spec_group_free(g);
	head_of(&a, &ha);
	head_of(&b, &hb);
	assert_int_equal(hb.transactions, 40);
	assert_string_equal(ha.head_hex, hb.head_hex);
	db_close(&a);
	db_close(&b);
}

static void spec_refuses_what_the_json_reader_refuses_and_writes_nothing(void **state)
{
	static const ledger_posting_spec unbalanced[2] = { { "assets:bank", 100 },
	                                                   { "income:sales", -99 } };
	static const ledger_posting_spec unknown[2] = { { "assets:nope", 100 },
	                                                { "income:sales", -100 } };
	static const ledger_posting_spec ok[2] = { { "assets:bank", 100 },
	                                           { "income:sales", -100 } };
	const ledger_tx_spec bad[] = {
		{ "t1", "2026-11-24", NULL, NULL, unbalanced, 2 },
		{ "t2", "2026-11-24", NULL, NULL, unknown, 2 },
		{ "t3:reversal", "2026-11-24", NULL, NULL, ok, 2 },
		{ "t4", "2026-02-30", NULL, NULL, ok, 2 },
		{ "t\x01", "2026-11-24", NULL, NULL, ok, 2 },
		{ "t6", "2026-11-24", "bad \xff utf-8", NULL, ok, 2 },
		{ "t7", "2026-11-24", NULL, "[1]", ok, 2 },
		{ "t8", "2026-11-24", NULL, "{\"x\":1.5}", ok, 2 },
		{ "t9", "2026-11-24", NULL, NULL, ok, 1 },
	};
	/* What each refusal must name, as the JSON reader's does. */
	static const char *const says[] = { "does not balance", "assets:nope",
	                                    "reserves", "date", "id:", "memo",
	                                    "object", "not exact", "two are needed" };
	ledger_verify_result h;
	struct db d;
	lg_error err;

	(void)state;
	assert_int_equal(sizeof says / sizeof says[0], sizeof bad / sizeof bad[0]);
	db_open(&d);
	lg_error_init(&err);
	assert_int_equal(ledger_begin(d.lg, &err), LG_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int replayed = 0, rc = ledger_post_spec(d.lg, &bad[i], &replayed, NULL, &err);
		if (rc != LG_EDATA)
			fail_msg("case %zu returned %d (%s), expected a refusal", i, rc, err.msg);
		if (!strstr(err.msg, says[i]))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, says[i]);
	}
	assert_int_equal(ledger_commit(d.lg, &err), LG_OK);
	head_of(&d, &h);
	assert_int_equal(h.transactions, 0);
	db_close(&d);
}

static void grouped_refusal_is_told_at_once_and_spares_the_waiting_rows(void **state)
{
	static const ledger_posting_spec unbalanced[2] = { { "assets:bank", 100 },
	                                                   { "income:sales", -99 } };
	const ledger_tx_spec bad = { "bad", "2026-11-24", NULL, NULL, unbalanced, 2 };
	ledger_spec_group *g = NULL;
	ledger_verify_result h;
	struct db d;
	lg_error err;
	int replayed = 0;

	(void)state;
	db_open(&d);
	lg_error_init(&err);
	assert_int_equal(ledger_spec_group_new(d.lg, &g, &err), LG_OK);
	assert_int_equal(ledger_begin(d.lg, &err), LG_OK);
	for (int k = 0; k < 3; k++) {
		struct tx t;
		tx_make(&t, k);
		assert_int_equal(ledger_post_spec_grouped(g, &t.spec, &replayed, &err), LG_OK);
	}
	assert_int_equal(ledger_post_spec_grouped(g, &bad, &replayed, &err), LG_EDATA);
	assert_non_null(strstr(err.msg, "does not balance"));
	assert_int_equal(ledger_spec_group_flush(g, &err), LG_OK);
	assert_int_equal(ledger_commit(d.lg, &err), LG_OK);
	ledger_spec_group_free(g);
	head_of(&d, &h);
	assert_int_equal(h.transactions, 3);
	db_close(&d);
}

static void grouped_id_already_in_the_journal_stops_at_the_flush(void **state)
{
	ledger_spec_group *g = NULL;
	ledger_verify_result before, after;
	struct db d;
	struct tx t;
	lg_error err;
	int replayed = 0;

	(void)state;
	db_open(&d);
	post_all_json(&d, 2);
	head_of(&d, &before);
	lg_error_init(&err);
	assert_int_equal(ledger_spec_group_new(d.lg, &g, &err), LG_OK);
	assert_int_equal(ledger_begin(d.lg, &err), LG_OK);
	tx_make(&t, 1); /* already posted: a replay only the journal can tell */
	assert_int_equal(ledger_post_spec_grouped(g, &t.spec, &replayed, &err), LG_OK);
	assert_int_equal(ledger_spec_group_flush(g, &err), LG_EINTERNAL);
	assert_non_null(strstr(err.msg, "settle:card:L2"));
	ledger_rollback(d.lg);
	ledger_spec_group_free(g);
	head_of(&d, &after);
	assert_int_equal(after.transactions, 2);
	assert_string_equal(before.head_hex, after.head_hex);
	db_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_posts_the_chain_head_of_the_same_json_records),
		cmocka_unit_test(grouped_spec_posts_the_chain_head_of_the_same_json_records),
		cmocka_unit_test(spec_refuses_what_the_json_reader_refuses_and_writes_nothing),
		cmocka_unit_test(grouped_refusal_is_told_at_once_and_spares_the_waiting_rows),
		cmocka_unit_test(grouped_id_already_in_the_journal_stops_at_the_flush),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
