/*
 * test_reports.c - unit tests for reports/reports.h on a small ledger whose
 * every figure is known: trial balance, balance sheet, income statement,
 * account statement, merchant settlement (sale, refund by reversal, reserve,
 * payouts posted by rpt_settle, a payout rejected in pain.002 and reversed),
 * the reconciliation report on a ledger that never reconciled, and the
 * renderers (determinism, CSV formula neutralisation, self-contained HTML).
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

#include "../../reports/reports.h"
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

static void post(ledger *lg, const char *json)
{
	lg_error err;
	int replayed = 0;

	lg_error_init(&err);
	ok(ledger_begin(lg, &err), &err);
	ok(ledger_post_json(lg, json, strlen(json), &replayed, NULL, &err), &err);
	ok(ledger_commit(lg, &err), &err);
}

/* The small world: one opening, sales of two merchants, a refund (a
 * reversal of a sale), a reserve hold, a bank fee. */
static void world(ledger *lg)
{
	lg_error err;

	lg_error_init(&err);
	ok(ledger_account_add(lg, "assets:bank", "asset", "CNY", 0, NULL, &err), &err);
	ok(ledger_account_add(lg, "assets:clearing:card", "asset", "CNY", 0, NULL, &err), &err);
	ok(ledger_account_add(lg, "liabilities:merchants:m1:payable", "liability", "CNY", 0,
	                      "{\"name\":\"上海测试咖啡\",\"fee_bps\":200}", &err), &err);
	ok(ledger_account_add(lg, "liabilities:merchants:m1:reserve", "liability", "CNY", 0,
	                      NULL, &err), &err);
	ok(ledger_account_add(lg, "liabilities:merchants:m2:payable", "liability", "CNY", 0,
	                      "{\"name\":\"=HYPERLINK(\\\"http://x\\\")\"}", &err), &err);
	ok(ledger_account_add(lg, "liabilities:payouts:in-transit", "liability", "CNY", 0,
	                      NULL, &err), &err);
	ok(ledger_account_add(lg, "income:fees:processing", "income", "CNY", 0, NULL, &err), &err);
	ok(ledger_account_add(lg, "expense:fees:bank", "expense", "CNY", 0, NULL, &err), &err);
	ok(ledger_account_add(lg, "equity:opening", "equity", "CNY", 0, NULL, &err), &err);
	post(lg, "{\"id\":\"T1\",\"date\":\"2026-11-01\",\"postings\":["
	         "{\"account\":\"assets:bank\",\"amount\":\"1000.00\"},"
	         "{\"account\":\"equity:opening\",\"amount\":\"-1000.00\"}]}");
	post(lg, "{\"id\":\"T2\",\"date\":\"2026-11-02\",\"postings\":["
	         "{\"account\":\"assets:clearing:card\",\"amount\":\"100.00\"},"
	         "{\"account\":\"liabilities:merchants:m1:payable\",\"amount\":\"-98.00\"},"
	         "{\"account\":\"income:fees:processing\",\"amount\":\"-2.00\"}],"
	         "\"meta\":{\"merchant\":\"m1\"}}");
	post(lg, "{\"id\":\"T3\",\"date\":\"2026-11-03\",\"postings\":["
	         "{\"account\":\"assets:clearing:card\",\"amount\":\"50.00\"},"
	         "{\"account\":\"liabilities:merchants:m1:payable\",\"amount\":\"-49.00\"},"
	         "{\"account\":\"income:fees:processing\",\"amount\":\"-1.00\"}],"
	         "\"meta\":{\"merchant\":\"m1\"}}");
	ok(ledger_reverse(lg, "T3", "refund", "2026-11-03", &err), &err);
	post(lg, "{\"id\":\"T5\",\"date\":\"2026-11-04\",\"postings\":["
	         "{\"account\":\"liabilities:merchants:m1:payable\",\"amount\":\"10.00\"},"
	         "{\"account\":\"liabilities:merchants:m1:reserve\",\"amount\":\"-10.00\"}],"
	         "\"meta\":{\"type\":\"reserve\",\"merchant\":\"m1\"}}");
	post(lg, "{\"id\":\"T6\",\"date\":\"2026-11-04\",\"postings\":["
	         "{\"account\":\"expense:fees:bank\",\"amount\":\"5.00\"},"
	         "{\"account\":\"assets:bank\",\"amount\":\"-5.00\"}]}");
	post(lg, "{\"id\":\"T7\",\"date\":\"2026-11-05\",\"postings\":["
	         "{\"account\":\"assets:clearing:card\",\"amount\":\"200.00\"},"
	         "{\"account\":\"liabilities:merchants:m2:payable\",\"amount\":\"-196.00\"},"
	         "{\"account\":\"income:fees:processing\",\"amount\":\"-4.00\"}],"
	         "\"meta\":{\"merchant\":\"m2\"}}");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	lg_error err;
	int fd;

	snprintf(f->path, sizeof f->path, "/tmp/test_reports_XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	lg_error_init(&err);
	ok(ledger_open(f->path, 1, NOW, &f->lg, &err), &err);
	world(f->lg);
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

static void run(ledger *lg, const char *name, const char *from, const char *to,
                const char *account, rpt_doc *doc)
{
	rpt_options o = { name, from, to, account, 0 };
	lg_error err;

	lg_error_init(&err);
	rpt_doc_init(doc);
	ok(rpt_run(lg, &o, doc, &err), &err);
}

/* The row of table `key` whose column `col` equals `val`; fails if none. */
static size_t row_where(const rpt_doc *doc, const char *key, const char *col,
                        const char *val)
{
	const rpt_table *t = rpt_doc_table(doc, key);

	assert_non_null(t);
	for (size_t r = 0; r < t->rows; r++)
		if (strcmp(rpt_table_cell(t, r, col), val) == 0)
			return r;
	fail_msg("table %s has no row with %s = %s", key, col, val);
	return 0;
}

static void expect(const rpt_doc *doc, const char *key, const char *col,
                   const char *val, const char *want_col, const char *want)
{
	size_t r = row_where(doc, key, col, val);
	assert_string_equal(rpt_table_cell(rpt_doc_table(doc, key), r, want_col), want);
}

static char *render(const rpt_doc *doc, enum rpt_format f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	lg_error err;

	assert_non_null(fp);
	lg_error_init(&err);
	ok(rpt_render(doc, f, fp, &err), &err);
	fclose(fp);
	return buf;
}

static void trial_balance_totals_are_equal_and_known(void **state)
{
	struct fixture *f = *state;
	rpt_doc doc;

	run(f->lg, "trial-balance", "2026-11-01", "2026-11-05", NULL, &doc);
	/* 1000 + 100 + 50 + 50 (the refund) + 10 + 5 + 200 */
	expect(&doc, "totals", "asset", "CNY", "total_debits", "1415.00");
	expect(&doc, "totals", "asset", "CNY", "total_credits", "1415.00");
	expect(&doc, "totals", "asset", "CNY", "closing_sum", "0.00");
	expect(&doc, "totals", "asset", "CNY", "balanced", "yes");
	expect(&doc, "accounts", "account", "assets:clearing:card", "closing", "300.00");
	expect(&doc, "accounts", "account", "assets:clearing:card", "credits", "50.00");
	rpt_doc_release(&doc);
	/* From the 3rd: T1 and T2 make the opening balances. */
	run(f->lg, "trial-balance", "2026-11-03", "2026-11-05", NULL, &doc);
	expect(&doc, "accounts", "account", "assets:bank", "opening", "1000.00");
	expect(&doc, "accounts", "account", "liabilities:merchants:m1:payable", "opening",
	       "-98.00");
	expect(&doc, "totals", "asset", "CNY", "total_debits", "315.00");
	expect(&doc, "totals", "asset", "CNY", "opening_sum", "0.00");
	rpt_doc_release(&doc);
}

static void balance_sheet_balances_with_retained_earnings(void **state)
{
	struct fixture *f = *state;
	rpt_doc doc;

	run(f->lg, "balance-sheet", NULL, "2026-11-05", NULL, &doc);
	expect(&doc, "totals", "asset", "CNY", "assets", "1295.00");
	expect(&doc, "totals", "asset", "CNY", "liabilities", "294.00");
	expect(&doc, "totals", "asset", "CNY", "equity", "1000.00");
	expect(&doc, "totals", "asset", "CNY", "retained_earnings", "1.00");
	expect(&doc, "totals", "asset", "CNY", "difference", "0.00");
	expect(&doc, "lines", "account", "liabilities:merchants:m1:payable", "balance",
	       "88.00");
	rpt_doc_release(&doc);
}

static void income_statement_nets_a_refunded_fee(void **state)
{
	struct fixture *f = *state;
	rpt_doc doc;

	run(f->lg, "income-statement", "2026-11-01", "2026-11-05", NULL, &doc);
	expect(&doc, "totals", "asset", "CNY", "income", "6.00");
	expect(&doc, "totals", "asset", "CNY", "expenses", "5.00");
	expect(&doc, "totals", "asset", "CNY", "net_income", "1.00");
	rpt_doc_release(&doc);
	/* Only the 5th: the m2 sale's fee, no expense. */
	run(f->lg, "income-statement", "2026-11-05", "2026-11-05", NULL, &doc);
	expect(&doc, "totals", "asset", "CNY", "net_income", "4.00");
	rpt_doc_release(&doc);
}

static void statement_has_opening_lines_and_closing(void **state)
{
	struct fixture *f = *state;
	const rpt_table *t;
	rpt_doc doc;
	lg_error err;
	rpt_options o = { "statement", "2026-11-03", "2026-11-05", "nope:account", 0 };

	run(f->lg, "statement", "2026-11-03", "2026-11-05",
	    "liabilities:merchants:m1:payable", &doc);
	expect(&doc, "summary", "asset", "CNY", "opening", "-98.00");
	expect(&doc, "summary", "asset", "CNY", "debits", "59.00");
	expect(&doc, "summary", "asset", "CNY", "credits", "49.00");
	expect(&doc, "summary", "asset", "CNY", "closing", "-88.00");
	t = rpt_doc_table(&doc, "lines");
	assert_int_equal(t->rows, 3);
	assert_string_equal(rpt_table_cell(t, 1, "kind"), "reverse");
	assert_string_equal(rpt_table_cell(t, 2, "balance"), "-88.00");
	rpt_doc_release(&doc);
	lg_error_init(&err);
	rpt_doc_init(&doc);
	assert_int_equal(rpt_run(f->lg, &o, &doc, &err), LG_ENOINPUT);
	rpt_doc_release(&doc);
}

static void settlement_figures_add_up_per_merchant(void **state)
{
	struct fixture *f = *state;
	rpt_doc doc;

	run(f->lg, "settlement", "2026-11-01", "2026-11-05", NULL, &doc);
	expect(&doc, "merchants", "merchant", "m1", "name", "上海测试咖啡");
	expect(&doc, "merchants", "merchant", "m1", "gross_sales", "150.00");
	expect(&doc, "merchants", "merchant", "m1", "refunds_reversals", "-50.00");
	expect(&doc, "merchants", "merchant", "m1", "processing_fees", "-2.00");
	expect(&doc, "merchants", "merchant", "m1", "reserve_held", "-10.00");
	expect(&doc, "merchants", "merchant", "m1", "net_payable", "88.00");
	expect(&doc, "merchants", "merchant", "m1", "reserve_balance", "10.00");
	expect(&doc, "merchants", "merchant", "m2", "gross_sales", "200.00");
	expect(&doc, "merchants", "merchant", "m2", "processing_fees", "-4.00");
	expect(&doc, "merchants", "merchant", "m2", "net_payable", "196.00");
	rpt_doc_release(&doc);
}

static void settle_posts_payouts_once_and_a_rejection_is_owed_again(void **state)
{
	struct fixture *f = *state;
	rpt_settle_result res;
	ledger_stage_file file = { "0000000000000000000000000000000000000000000000000000000000000000", "pain002.xml", "iso20022", "bank", NULL };
	ledger_stmt_status st = { "pain.002.001.03", "M1", "PAIN001-1", NULL, NULL,
		                      "PO-20261105-m2", "RJCT", "AC04", "Closed account", 1 };
	ledger_stage_result sres;
	rpt_doc doc;
	lg_error err;

	lg_error_init(&err);
	ok(rpt_settle(f->lg, "2026-11-05", &res, &err), &err);
	assert_int_equal(res.posted, 2);
	assert_int_equal(res.replayed, 0);
	ok(rpt_settle(f->lg, "2026-11-05", &res, &err), &err);
	assert_int_equal(res.posted, 0);
	assert_int_equal(res.replayed, 2);
	run(f->lg, "settlement", "2026-11-01", "2026-11-05", NULL, &doc);
	expect(&doc, "merchants", "merchant", "m1", "payouts", "-88.00");
	expect(&doc, "merchants", "merchant", "m1", "net_payable", "0.00");
	expect(&doc, "payouts", "payout_id", "PO-20261105-m1", "amount", "88.00");
	expect(&doc, "payouts", "payout_id", "PO-20261105-m2", "pain002_status", "none yet");
	rpt_doc_release(&doc);

	/* The bank rejects m2's payout; the nightly would reverse it. */
	memset(&sres, 0, sizeof sres);
	ok(ledger_stage_begin(f->lg, &file, &sres, &err), &err);
	ok(ledger_stage_status(f->lg, &st, &sres, &err), &err);
	ok(ledger_stage_end(f->lg, 1, &err), &err);
	ok(ledger_reverse(f->lg, "PO-20261105-m2", "rejected AC04", "2026-11-06", &err), &err);
	run(f->lg, "settlement", "2026-11-05", "2026-11-06", "m2", &doc);
	expect(&doc, "merchants", "merchant", "m2", "opening", "0.00");
	expect(&doc, "merchants", "merchant", "m2", "payouts", "-196.00");
	expect(&doc, "merchants", "merchant", "m2", "payouts_returned", "196.00");
	expect(&doc, "merchants", "merchant", "m2", "net_payable", "196.00");
	expect(&doc, "payouts", "payout_id", "PO-20261105-m2", "pain002_status", "RJCT");
	expect(&doc, "payouts", "payout_id", "PO-20261105-m2", "reason", "AC04");
	expect(&doc, "payouts", "payout_id", "PO-20261105-m2", "reversed", "yes");
	assert_int_equal(rpt_doc_table(&doc, "merchants")->rows, 1);
	rpt_doc_release(&doc);
	/* The next day's run pays it again, under the next day's id. */
	ok(rpt_settle(f->lg, "2026-11-06", &res, &err), &err);
	assert_int_equal(res.posted, 1);
	assert_int_equal(res.nothing_owed, 1);
}

static void reconciliation_of_a_ledger_never_reconciled_says_so(void **state)
{
	struct fixture *f = *state;
	rpt_doc doc;

	run(f->lg, "reconciliation", "2026-11-01", "2026-11-05", NULL, &doc);
	assert_int_equal(doc.notes_n, 1);
	assert_non_null(strstr(doc.note[0], "never been reconciled"));
	assert_int_equal(rpt_doc_table(&doc, "channels")->rows, 0);
	rpt_doc_release(&doc);
}

static void renderers_are_deterministic_and_csv_is_neutralised(void **state)
{
	struct fixture *f = *state;
	rpt_doc a, b;

	run(f->lg, "settlement", "2026-11-01", "2026-11-05", NULL, &a);
	run(f->lg, "settlement", "2026-11-01", "2026-11-05", NULL, &b);
	for (int k = RPT_TEXT; k <= RPT_HTML; k++) {
		char *x = render(&a, (enum rpt_format)k), *y = render(&b, (enum rpt_format)k);
		assert_string_equal(x, y);
		if (k == RPT_CSV) {
			assert_non_null(strstr(x, "\"'=HYPERLINK(\"\"http://x\"\")\""));
			/* Negative amounts are numbers, not formulas: no apostrophe. */
			assert_non_null(strstr(x, ",-50.00,"));
		}
		if (k == RPT_HTML) {
			assert_non_null(strstr(x, "<svg"));
			assert_null(strstr(x, "<script"));
			assert_null(strstr(x, " src="));
			assert_non_null(strstr(x, "=HYPERLINK(&quot;http://x&quot;)"));
		}
		if (k == RPT_TEXT)
			assert_non_null(strstr(x, "上海测试咖啡"));
		free(x);
		free(y);
	}
	rpt_doc_release(&a);
	rpt_doc_release(&b);
}

static void json_has_total_debits_and_credits_per_asset(void **state)
{
	struct fixture *f = *state;
	rpt_doc doc;
	char *x;

	run(f->lg, "trial-balance", "2026-11-01", "2026-11-05", NULL, &doc);
	x = render(&doc, RPT_JSON);
	assert_non_null(strstr(x, "\"total_debits\": \"1415.00\""));
	assert_non_null(strstr(x, "\"total_credits\": \"1415.00\""));
	free(x);
	rpt_doc_release(&doc);
}

static void run_refuses_bad_dates_and_unknown_reports(void **state)
{
	struct fixture *f = *state;
	rpt_options o = { "trial-balance", "2026-11-31", "2026-12-01", NULL, 0 };
	rpt_doc doc;
	lg_error err;

	lg_error_init(&err);
	rpt_doc_init(&doc);
	assert_int_equal(rpt_run(f->lg, &o, &doc, &err), LG_EUSAGE);
	o.from = "2026-12-02";
	assert_int_equal(rpt_run(f->lg, &o, &doc, &err), LG_EUSAGE);
	o.from = NULL;
	o.name = "nosuch";
	assert_int_equal(rpt_run(f->lg, &o, &doc, &err), LG_EUSAGE);
	/* Only the chargeback report reads a configuration. */
	o.name = "trial-balance";
	assert_int_equal(rpt_run_config(f->lg, &o, "cb.ini", &doc, &err), LG_EUSAGE);
	rpt_doc_release(&doc);
	o.name = "chargebacks";
	assert_int_equal(rpt_run_config(f->lg, &o, "/nonexistent/cb.ini", &doc, &err),
	                 LG_ENOINPUT);
	rpt_doc_release(&doc);
	/* Without staged disputes or a scan: empty tables and a note, no error. */
	assert_int_equal(rpt_run(f->lg, &o, &doc, &err), LG_OK);
	assert_non_null(rpt_doc_table(&doc, "merchants"));
	assert_int_equal(rpt_doc_table(&doc, "merchants")->rows, 0);
	assert_true(doc.notes_n >= 1);
	rpt_doc_release(&doc);
	o.name = "aml";
	assert_int_equal(rpt_run(f->lg, &o, &doc, &err), LG_OK);
	assert_int_equal(rpt_doc_table(&doc, "alerts")->rows, 0);
	assert_non_null(strstr(doc.note[0], "no AML scan"));
	assert_int_equal(rpt_settle(f->lg, "2026-13-01", &(rpt_settle_result){ 0 }, &err),
	                 LG_EUSAGE);
	rpt_doc_release(&doc);
}

/*
 * Another process posts while a report reads (the front during a nightly):
 * just before the report reads the postings, a second handle opens a new
 * account and posts to it.  The report must read one ledger throughout,
 * the one before that posting: without its read transaction it met a
 * posting of an account it had not read ("a posting names no account").
 */
struct meddler {
	const char *path;
	int done;
};

static int meddle(unsigned type, void *ctx, void *stmt, void *x)
{
	struct meddler *m = ctx;
	const char *sql = sqlite3_sql(stmt);
	ledger *other = NULL;
	lg_error err;

	(void)type;
	(void)x;
	if (m->done || !sql || !strstr(sql, "JOIN postings"))
		return 0;
	m->done = 1;
	lg_error_init(&err);
	ok(ledger_open(m->path, 0, NOW, &other, &err), &err);
	ok(ledger_account_add(other, "assets:wallet:late", "asset", "CNY", 0, NULL, &err), &err);
	post(other, "{\"id\":\"LATE\",\"date\":\"2026-11-05\",\"postings\":["
	            "{\"account\":\"assets:wallet:late\",\"amount\":\"7.00\"},"
	            "{\"account\":\"assets:bank\",\"amount\":\"-7.00\"}]}");
	ledger_close(other);
	return 0;
}

static void report_reads_one_ledger_while_another_posts(void **state)
{
	struct fixture *f = *state;
	struct meddler m = { f->path, 0 };
	rpt_doc doc;
	char *json;

	sqlite3_trace_v2(ledger_sqlite(f->lg), SQLITE_TRACE_STMT, meddle, &m);
	run(f->lg, "trial-balance", "2026-11-01", "2026-11-30", NULL, &doc);
	sqlite3_trace_v2(ledger_sqlite(f->lg), 0, NULL, NULL);
	assert_true(m.done); /* the posting did land mid-report */
	expect(&doc, "totals", "asset", "CNY", "total_debits", "1415.00");
	expect(&doc, "totals", "asset", "CNY", "balanced", "yes");
	json = render(&doc, RPT_JSON);
	assert_null(strstr(json, "assets:wallet:late"));
	free(json);
	rpt_doc_release(&doc);
	/* The next report sees it. */
	run(f->lg, "trial-balance", "2026-11-01", "2026-11-30", NULL, &doc);
	expect(&doc, "accounts", "account", "assets:wallet:late", "closing", "7.00");
	rpt_doc_release(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(trial_balance_totals_are_equal_and_known, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(report_reads_one_ledger_while_another_posts, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(balance_sheet_balances_with_retained_earnings,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(income_statement_nets_a_refunded_fee, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(statement_has_opening_lines_and_closing, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(settlement_figures_add_up_per_merchant, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(
			settle_posts_payouts_once_and_a_rejection_is_owed_again, setup, teardown),
		cmocka_unit_test_setup_teardown(reconciliation_of_a_ledger_never_reconciled_says_so,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(renderers_are_deterministic_and_csv_is_neutralised,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(json_has_total_debits_and_credits_per_asset, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(run_refuses_bad_dates_and_unknown_reports, setup,
		                                teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
