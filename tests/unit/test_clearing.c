/*
 * test_clearing.c - unit tests for clearing/clearing.h: the configuration
 * reader, and reconciliation through the public API on a real ledger file
 * (items posted with ledger_post_json, lines staged with ledger_stage_*).
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

#include "../../clearing/clearing.h"
#include "../../clearing/clearing_int.h"
#include "../../ledger/ledger_sql.h"

#define NOW "2026-11-25T02:00:00Z"

struct fixture {
	char path[64];
	ledger *lg;
};

static void ok(int rc, const lg_error *err)
{
	if (rc != LG_OK)
		fail_msg("error %d: %s", rc, err->msg);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	lg_error err;
	int fd;

	snprintf(f->path, sizeof f->path, "/tmp/test_clearing_XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	lg_error_init(&err);
	ok(ledger_open(f->path, 1, NOW, &f->lg, &err), &err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char side[80];
	ledger_close(f->lg);
	unlink(f->path);
	snprintf(side, sizeof side, "%s-wal", f->path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", f->path);
	unlink(side);
	free(f);
	return 0;
}

/* --- configuration ------------------------------------------------------ */
static void config_reads_channels_in_order_and_inbox_rules(void **state)
{
	clr_config cfg;
	lg_error err;
	const char *path = "/tmp/test_clearing_cfg.ini";
	(void)state;

	write_file(path,
	           "[inbox bank]\npattern = camt-*.xml\nprofile = iso20022\n"
	           "account = assets:bank:cny\n"
	           "[channel card]\nsettle_to = assets:clearing:bank\nfee_account = "
	           "expense:fees\nfee_bps = 180\ntolerance = 0.01\nwindow_days = 2\n"
	           "settle_days = 0\n"
	           "[channel bank]\nclearing = assets:clearing:bank liabilities:payouts\n"
	           "[inbox card]\npattern = card-*.csv\nprofile = card-settlement\n");
	clr_config_init(&cfg);
	lg_error_init(&err);
	ok(clr_config_load(&cfg, path, &err), &err);
	assert_int_equal(cfg.channels_n, 2);
	assert_string_equal(cfg.channels[0].name, "card");
	assert_string_equal(cfg.channels[0].clearing, "assets:clearing:card");
	assert_string_equal(cfg.channels[0].settle_to, "assets:clearing:bank");
	assert_int_equal(cfg.channels[0].fee_bps, 180);
	assert_string_equal(cfg.channels[0].tolerance, "0.01");
	assert_int_equal(cfg.channels[0].window_days, 2);
	assert_int_equal(cfg.channels[0].settle_days, 0);
	assert_string_equal(cfg.channels[1].clearing,
	                    "assets:clearing:bank liabilities:payouts");
	assert_int_equal(cfg.channels[1].fee_bps, -1);
	assert_int_equal(cfg.rules_n, 2);
	assert_string_equal(cfg.rules[0].pattern, "camt-*.xml");
	assert_string_equal(cfg.rules[0].account, "assets:bank:cny");
	assert_string_equal(cfg.rules[1].profile, "card-settlement");
	unlink(path);
}

static void config_unknown_key_names_file_section_and_key(void **state)
{
	clr_config cfg;
	lg_error err;
	const char *path = "/tmp/test_clearing_bad.ini";
	(void)state;

	write_file(path, "[channel card]\nfee_percent = 1.8\n");
	clr_config_init(&cfg);
	lg_error_init(&err);
	assert_int_equal(clr_config_load(&cfg, path, &err), LG_EUSAGE);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "[channel card] fee_percent: unknown key"));
	write_file(path, "[channel card]\nfee_bps = 10001\n");
	clr_config_init(&cfg);
	assert_int_equal(clr_config_load(&cfg, path, &err), LG_EUSAGE);
	assert_non_null(strstr(err.msg, "'10001' is not a whole number from 0 to 10000"));
	write_file(path, "[inbox x]\nprofile = bank-csv\n");
	clr_config_init(&cfg);
	assert_int_equal(clr_config_load(&cfg, path, &err), LG_EUSAGE);
	assert_non_null(strstr(err.msg, "needs a pattern and a profile"));
	unlink(path);
}

static void config_channel_defaults_for_an_unconfigured_channel(void **state)
{
	clr_config cfg;
	clr_channel scratch;
	const clr_channel *ch;
	(void)state;

	clr_config_init(&cfg);
	ch = clr_config_channel(&cfg, "wechat", &scratch);
	assert_string_equal(ch->clearing, "assets:clearing:wechat");
	assert_int_equal(ch->fee_bps, -1);
	assert_string_equal(ch->settle_to, "");
	assert_string_equal(cfg.payouts_account, "liabilities:payouts:in-transit");
}

/* --- reconciliation through the API -------------------------------------- */
static void post(ledger *lg, const char *json)
{
	lg_error err;
	int replayed;
	lg_error_init(&err);
	ok(ledger_begin(lg, &err), &err);
	ok(ledger_post_json(lg, json, strlen(json), &replayed, NULL, &err), &err);
	ok(ledger_commit(lg, &err), &err);
}

/* Stages lines (end-to-end id, amount in minor units) of channel card. */
static void stage(ledger *lg, const char *sha, const char *const *e2e,
                  const amount_minor_t *amount_minor, int n)
{
	ledger_stage_file file = { sha, "card.csv", "test", "card", "assets:bank:cny" };
	ledger_stmt_statement st;
	ledger_stage_result res;
	lg_error err;

	memset(&st, 0, sizeof st);
	st.seq_nb = -1;
	st.asset = "CNY";
	st.scale = 2;
	lg_error_init(&err);
	ok(ledger_stage_begin(lg, &file, &res, &err), &err);
	ok(ledger_stage_statement(lg, &st, &res, &err), &err);
	for (int i = 0; i < n; i++) {
		ledger_stmt_line ln;
		char ref[32];
		memset(&ln, 0, sizeof ln);
		snprintf(ref, sizeof ref, "L%d", i);
		ln.entry_index = i;
		ln.child_index = -1;
		ln.entry_ref = ref;
		ln.booking_date = "2026-11-24";
		ln.amount_minor = amount_minor[i];
		ln.asset = "CNY";
		ln.end_to_end_id = e2e[i];
		ln.raw_json = "{}";
		ln.line_no = i + 2;
		ok(ledger_stage_line(lg, &st, &ln, &res, &err), &err);
	}
	ok(ledger_stage_statement_end(lg, &st, 0, &res, &err), &err);
	ok(ledger_stage_end(lg, 1, &err), &err);
}

static void setup_card(ledger *lg)
{
	lg_error err;
	lg_error_init(&err);
	ok(ledger_account_add(lg, "assets:bank:cny", "asset", "CNY", 0, NULL, &err), &err);
	ok(ledger_account_add(lg, "assets:clearing:card", "asset", "CNY", 0, NULL, &err),
	   &err);
	ok(ledger_account_add(lg, "expense:fees:card", "expense", "CNY", 0, NULL, &err),
	   &err);
	ok(ledger_account_add(lg, "income:sales", "income", "CNY", 0, NULL, &err), &err);
	post(lg, "{\"id\":\"a\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":"
	         "\"assets:clearing:card\",\"amount\":\"125.00\"},{\"account\":"
	         "\"income:sales\",\"amount\":\"-125.00\"}]}");
	post(lg, "{\"id\":\"b\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":"
	         "\"assets:clearing:card\",\"amount\":\"125.00\"},{\"account\":"
	         "\"income:sales\",\"amount\":\"-125.00\"}]}");
}

static clr_channel card_channel(void)
{
	clr_config cfg;
	clr_channel scratch, ch;
	clr_config_init(&cfg);
	ch = *clr_config_channel(&cfg, "card", &scratch);
	snprintf(ch.fee_account, sizeof ch.fee_account, "expense:fees:card");
	ch.fee_bps = 180;
	snprintf(ch.tolerance, sizeof ch.tolerance, "0");
	return ch;
}

/* 125.00 at 180 bps is exactly 2.25: the net 122.75 settles with zero
 * tolerance, 122.74 (a fee of 2.26) is a fee break. */
/* The handle's PRAGMA synchronous: 2 is FULL, each commit flushed. */
static int synchronous_of(ledger *lg)
{
	sqlite3_stmt *st;
	int v;

	assert_int_equal(sqlite3_prepare_v2(ledger_sqlite(lg), "PRAGMA synchronous", -1, &st,
	                                    NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void reconcile_fee_rounds_half_to_even_within_zero_tolerance(void **state)
{
	struct fixture *f = *state;
	const char *e2e[] = { "a", "b" };
	amount_minor_t amounts[] = { 12500 - 225, 12500 - 226 }; /* exact fee; a cent more */
	clr_channel ch = card_channel();
	clr_recon_stats s;
	lg_error err;

	setup_card(f->lg);
	stage(f->lg, "0000000000000000000000000000000000000000000000000000000000000001",
	      e2e, amounts, 2);
	lg_error_init(&err);
	ok(clr_reconcile(f->lg, &ch, "2026-11-25", &s, &err), &err);
	assert_int_equal(s.matches, 1);
	assert_int_equal(s.matched_by_rule[0], 1);
	assert_int_equal(s.line_breaks, 1); /* b: fee 2.26 against 2.25 */
	assert_true(s.fees_minor == 225);
	/* A second run finds nothing new. */
	ok(clr_reconcile(f->lg, &ch, "2026-11-25", &s, &err), &err);
	assert_int_equal(s.matches, 0);
	/* Its commits were deferred (ledger_defer_sync); the handle's later
	 * commits are durable again. */
	assert_int_equal(synchronous_of(f->lg), 2);
	/* So after a run that failed. */
	assert_int_equal(clr_reconcile(f->lg, &ch, "2026-13-01", &s, &err), LG_EUSAGE);
	assert_int_equal(synchronous_of(f->lg), 2);
}

static void reconcile_half_cent_fee_rounds_to_even(void **state)
{
	struct fixture *f = *state;
	lg_error err;
	const char *e2e[] = { "h1", "h2" };
	/* 12.50 at 180 bps is 22.5 minor units: half to even gives 22; 13.50
	 * gives 24.3 -> 24; so the nets 12.28 and 13.26 settle exactly. */
	amount_minor_t amounts[] = { 1250 - 22, 1350 - 24 };
	clr_channel ch = card_channel();
	clr_recon_stats s;

	setup_card(f->lg);
	post(f->lg, "{\"id\":\"h1\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":"
	            "\"assets:clearing:card\",\"amount\":\"12.50\"},{\"account\":"
	            "\"income:sales\",\"amount\":\"-12.50\"}]}");
	post(f->lg, "{\"id\":\"h2\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":"
	            "\"assets:clearing:card\",\"amount\":\"13.50\"},{\"account\":"
	            "\"income:sales\",\"amount\":\"-13.50\"}]}");
	stage(f->lg, "0000000000000000000000000000000000000000000000000000000000000002",
	      e2e, amounts, 2);
	lg_error_init(&err);
	ok(clr_reconcile(f->lg, &ch, "2026-11-25", &s, &err), &err);
	assert_int_equal(s.matches, 2);
	assert_true(s.fees_minor == 22 + 24);
}

/* Lines far beyond any real amount stay out of the sums (which then cannot
 * overflow) and are reported. */
static void reconcile_reports_amounts_out_of_range(void **state)
{
	struct fixture *f = *state;
	/* Two partial credits naming one item: summed, 2 x 9e37 would overflow. */
	const char *e2e[] = { "a", "a", "x" };
	amount_minor_t huge = (amount_minor_t)9;
	clr_channel ch = card_channel();
	clr_recon_stats s;
	lg_error err;

	for (int i = 0; i < 37; i++)
		huge *= 10;
	amount_minor_t amounts[] = { huge, huge, 12500 - 225 };
	setup_card(f->lg);
	stage(f->lg, "0000000000000000000000000000000000000000000000000000000000000003",
	      e2e, amounts, 3);
	lg_error_init(&err);
	ok(clr_reconcile(f->lg, &ch, "2026-11-25", &s, &err), &err);
	assert_int_equal(s.matches, 0); /* "x" names nothing */
	assert_int_equal(s.other_breaks, 2);
}

static void manual_match_needs_a_reason(void **state)
{
	struct fixture *f = *state;
	clr_channel ch = card_channel();
	long long line = 1, id = 0;
	const char *items[] = { "a" };
	lg_error err;

	setup_card(f->lg);
	lg_error_init(&err);
	assert_int_equal(clr_match_manual(f->lg, &ch, &line, 1, items, 1, "", "me", &id,
	                                  &err), LG_EUSAGE);
	assert_int_equal(clr_unmatch(f->lg, 1, NULL, "me", &err), LG_EUSAGE);
}

static void reconcile_rejects_a_bad_date_and_a_missing_account(void **state)
{
	struct fixture *f = *state;
	clr_channel ch = card_channel();
	clr_recon_stats s;
	lg_error err;

	lg_error_init(&err);
	assert_int_equal(clr_reconcile(f->lg, &ch, "2026-13-01", &s, &err), LG_EUSAGE);
	assert_int_equal(clr_reconcile(f->lg, &ch, "2026-11-25", &s, &err), LG_ENOINPUT);
	assert_non_null(strstr(err.msg, "fee account 'expense:fees:card' does not exist"));
	setup_card(f->lg);
	snprintf(ch.settle_to, sizeof ch.settle_to, "assets:clearing:nowhere");
	assert_int_equal(clr_reconcile(f->lg, &ch, "2026-11-25", &s, &err), LG_ENOINPUT);
	assert_non_null(strstr(err.msg, "settle_to account 'assets:clearing:nowhere' "
	                                "does not exist"));
}

/* Arrays grown past CLR_HUGE_MIN_BYTES move to a new block (clr_realloc):
 * every element written before a growth reads back after it. */
static void grown_arrays_keep_their_elements(void **state)
{
	long long *v = NULL;
	int cap = 0, n = 0;
	unsigned char *b;

	(void)state;
	for (; n < 3 * 1000 * 1000; n++) { /* 24 MB: crosses the bound thrice over */
		assert_int_equal(clr_grow(&v, &cap, n, sizeof *v), 0);
		v[n] = (long long)n * 7919;
	}
	assert_true(cap > n);
	for (int i = 0; i < n; i++)
		if (v[i] != (long long)i * 7919)
			fail_msg("element %d lost in a growth", i);
	free(v);
	/* Below the bound, across it, and shrinking back under it. */
	b = clr_realloc(NULL, 0, 100);
	assert_non_null(b);
	memset(b, 0xab, 100);
	b = clr_realloc(b, 100, CLR_HUGE_MIN_BYTES + 1);
	assert_non_null(b);
	for (int i = 0; i < 100; i++)
		assert_int_equal(b[i], 0xab);
	b = clr_realloc(b, CLR_HUGE_MIN_BYTES + 1, 50);
	assert_non_null(b);
	for (int i = 0; i < 50; i++)
		assert_int_equal(b[i], 0xab);
	free(b);
	clr_advise_huge(NULL, CLR_HUGE_MIN_BYTES); /* a no-op */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_reads_channels_in_order_and_inbox_rules),
		cmocka_unit_test(config_unknown_key_names_file_section_and_key),
		cmocka_unit_test(config_channel_defaults_for_an_unconfigured_channel),
		cmocka_unit_test(grown_arrays_keep_their_elements),
		cmocka_unit_test_setup_teardown(reconcile_fee_rounds_half_to_even_within_zero_tolerance,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile_half_cent_fee_rounds_to_even, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(reconcile_reports_amounts_out_of_range, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(manual_match_needs_a_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile_rejects_a_bad_date_and_a_missing_account,
		                                setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
