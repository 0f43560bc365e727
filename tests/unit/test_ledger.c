/*
 * test_ledger.c - unit tests for ledger/ledger.h against a real SQLite file.
 *
 * Every test gets a fresh ledger in a mkstemp-made file under /tmp with the
 * clock fixed at 2026-11-25T02:00:00Z; the file (and its -wal/-shm) is
 * removed afterwards.  Transactions go in as JSON Lines through
 * ledger_post_stream reading from fmemopen.
 *
 * Sign convention (ledger.h): debits positive, credits negative, in minor
 * units.  128-bit values are compared here and printed by this file's own
 * formatter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ledger/ledger.h"

#define NOW "2026-11-25T02:00:00Z"
#define LATER "2026-11-25T03:00:00Z"

/* --- helpers ----------------------------------------------------------- */

static const char *i128_str(amount_minor_t v, char buf[48])
{
	char tmp[48];
	int n = 0, pos = 0;
	unsigned __int128 mag = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;

	do {
		tmp[n++] = (char)('0' + (int)(mag % 10));
		mag /= 10;
	} while (mag);
	if (v < 0)
		buf[pos++] = '-';
	while (n)
		buf[pos++] = tmp[--n];
	buf[pos] = '\0';
	return buf;
}

#define assert_amount_equal(actual, expected)                                 \
	do {                                                                      \
		amount_minor_t a_ = (actual), e_ = (expected);                        \
		if (a_ != e_) {                                                       \
			char sa_[48], se_[48];                                            \
			fail_msg("%s is %s, expected %s", #actual, i128_str(a_, sa_),    \
			         i128_str(e_, se_));                                      \
		}                                                                     \
	} while (0)

/* Fails with the ledger's message when rc is not LG_OK. */
#define assert_lg_ok(rc, err)                                                 \
	do {                                                                      \
		int rc_ = (rc);                                                       \
		if (rc_ != LG_OK)                                                     \
			fail_msg("%s returned %d: %s", #rc, rc_, (err).msg);              \
	} while (0)

/* Expects the error code `want`, set in err too, with a non-empty message. */
#define assert_lg_fails(rc, want, err)                                        \
	do {                                                                      \
		int rc_ = (rc);                                                       \
		if (rc_ != (want))                                                    \
			fail_msg("%s returned %d (%s), expected %d", #rc, rc_,           \
			         (err).msg, (int)(want));                                 \
		assert_int_equal((err).code, (want));                                 \
		assert_true((err).msg[0] != '\0');                                    \
	} while (0)

struct fx {
	char path[64];
	ledger *lg;
};

static void remove_db(const char *path)
{
	char p[96];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-journal", path);
	unlink(p);
}

/*
 * If the process dies mid-test (a sanitizer report, LG_ASSERT), teardown
 * never runs: the SIGABRT handler removes the test's database files so that
 * nothing is left in /tmp.  The paths are made in advance because only
 * async-signal-safe calls may be used there.
 */
static char doomed[4][96];

static void remove_doomed(void)
{
	for (int i = 0; i < 4; i++)
		if (doomed[i][0])
			unlink(doomed[i]);
}

static void on_abort(int sig)
{
	remove_doomed();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* UBSan ends the process with _exit unless abort_on_error is set, and
 * then no handler runs: make abort the default (the environment still
 * overrides it).  Unused outside sanitizer builds. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "abort_on_error=1";
}

static void arm_cleanup(const char *path)
{
	static const char *const suffix[4] = { "", "-wal", "-shm", "-journal" };
	for (int i = 0; i < 4; i++)
		snprintf(doomed[i], sizeof doomed[i], "%s%s", path, suffix[i]);
	signal(SIGABRT, on_abort);
}

static void disarm_cleanup(void)
{
	memset(doomed, 0, sizeof doomed);
}

static const struct {
	const char *code, *type, *asset;
	unsigned flags;
} fixture_accounts[] = {
	{ "assets:bank", "asset", "CNY", 0 },
	{ "assets:cash", "asset", "CNY", 0 },
	{ "assets:usdt", "asset", "USDT", 0 },
	{ "equity:capital", "equity", "CNY", 0 },
	{ "equity:usdt", "equity", "USDT", 0 },
	{ "expenses:fees", "expense", "CNY", 0 },
	{ "income:sales", "income", "CNY", 0 },
	{ "liabilities:wallet:alice", "liability", "CNY", LG_ACCOUNT_NO_OVERDRAFT },
	{ "liabilities:wallet:bob", "liability", "CNY", 0 },
};
#define N_FIXTURE_ACCOUNTS (sizeof fixture_accounts / sizeof fixture_accounts[0])

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	lg_error err;
	int fd;

	if (!fx)
		return -1;
	snprintf(fx->path, sizeof fx->path, "/tmp/clearbook-unit-XXXXXX");
	fd = mkstemp(fx->path);
	if (fd < 0) {
		free(fx);
		return -1;
	}
	close(fd);
	arm_cleanup(fx->path);
	lg_error_init(&err);
	if (ledger_open(fx->path, 1, NOW, &fx->lg, &err) != LG_OK)
		goto fail;
	if (ledger_asset_add(fx->lg, "USDT", 6, &err) != LG_OK)
		goto fail;
	for (size_t i = 0; i < N_FIXTURE_ACCOUNTS; i++)
		if (ledger_account_add(fx->lg, fixture_accounts[i].code,
		                       fixture_accounts[i].type, fixture_accounts[i].asset,
		                       fixture_accounts[i].flags, NULL, &err) != LG_OK)
			goto fail;
	*state = fx;
	return 0;
fail:
	print_error("setup: %s\n", err.msg);
	ledger_close(fx->lg);
	remove_db(fx->path);
	disarm_cleanup();
	free(fx);
	return -1;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	ledger_close(fx->lg);
	remove_db(fx->path);
	disarm_cleanup();
	free(fx);
	return 0;
}

/* What the reject callback saw. */
struct rejects {
	int n;
	long line[16];
	int code[16];
	char msg[16][LG_MSG_MAX];
};

static void on_reject(void *ctx, const lg_error *e)
{
	struct rejects *r = ctx;
	if (r->n < 16) {
		r->line[r->n] = e->line;
		r->code[r->n] = e->code;
		snprintf(r->msg[r->n], sizeof r->msg[0], "%s", e->msg);
	}
	r->n++;
}

/* Posts `text` as a JSON Lines stream. */
static int post_rj(ledger *lg, const char *text, ledger_post_stats *st,
                   struct rejects *rj, lg_error *err)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(in);
	memset(rj, 0, sizeof *rj);
	lg_error_init(err);
	rc = ledger_post_stream(lg, in, st, on_reject, rj, err);
	fclose(in);
	return rc;
}

/* Posts and expects success with `posted` new transactions. */
static void post_ok(ledger *lg, const char *text, long posted)
{
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	int rc = post_rj(lg, text, &st, &rj, &err);

	if (rc != LG_OK)
		fail_msg("posting failed with %d: %s (first reject, line %ld: %s)", rc,
		         err.msg, rj.n ? rj.line[0] : 0L, rj.n ? rj.msg[0] : "-");
	assert_int_equal(rj.n, 0);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.posted, posted);
}

/* Posts a one-line stream and expects it refused with LG_EDATA, the reject
 * callback called once for line 1, and nothing posted. */
static void post_refused(ledger *lg, const char *line)
{
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	int rc = post_rj(lg, line, &st, &rj, &err);

	if (rc != LG_EDATA)
		fail_msg("expected LG_EDATA, got %d (%s) for %s", rc, err.msg, line);
	assert_int_equal(rj.n, 1);
	assert_int_equal(rj.line[0], 1);
	assert_int_equal(rj.code[0], LG_EDATA);
	assert_true(rj.msg[0][0] != '\0');
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.posted, 0);
	assert_int_equal(st.replayed, 0);
}

/* One balance row, looked up through ledger_balances. */
struct bal_q {
	const char *code, *asset;
	int found, is_rollup, scale;
	amount_minor_t posted, pending, available;
};

static int bal_cb(void *ctx, const ledger_balance_row *r)
{
	struct bal_q *q = ctx;
	if (strcmp(r->account, q->code) != 0)
		return 0;
	if (q->asset && strcmp(r->asset, q->asset) != 0)
		return 0;
	q->found++;
	q->is_rollup = r->is_rollup;
	q->scale = r->scale;
	q->posted = r->posted_minor;
	q->pending = r->pending_minor;
	q->available = r->available_minor;
	return 0;
}

static struct bal_q balance_at(ledger *lg, const char *code, const char *asset,
                               const char *at)
{
	struct bal_q q;
	lg_error err;

	memset(&q, 0, sizeof q);
	q.code = code;
	q.asset = asset;
	lg_error_init(&err);
	assert_lg_ok(ledger_balances(lg, code, at, bal_cb, &q, &err), err);
	if (q.found != 1)
		fail_msg("balance of '%s' found %d times", code, q.found);
	return q;
}

static struct bal_q balance(ledger *lg, const char *code)
{
	return balance_at(lg, code, NULL, NULL);
}

static amount_minor_t posted_of(ledger *lg, const char *code)
{
	return balance(lg, code).posted;
}

/* Journal rows, summarised. */
struct jrow {
	char id[LG_ID_MAX + 16];
	char kind[16];
	char ref_id[LG_ID_MAX + 16];
	char date[11];
	char memo[64];
	int n;
	char account[4][64];
	amount_minor_t amount[4];
};
struct jlist {
	int n;
	struct jrow row[64];
};

static int journal_cb(void *ctx, const ledger_tx_row *tx)
{
	struct jlist *l = ctx;
	struct jrow *r;
	if (l->n >= 64)
		return 0;
	r = &l->row[l->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "%s", tx->id);
	snprintf(r->kind, sizeof r->kind, "%s", tx->kind);
	snprintf(r->ref_id, sizeof r->ref_id, "%s", tx->ref_id ? tx->ref_id : "");
	snprintf(r->date, sizeof r->date, "%s", tx->date);
	snprintf(r->memo, sizeof r->memo, "%s", tx->memo);
	r->n = tx->postings_n;
	for (int i = 0; i < tx->postings_n && i < 4; i++) {
		snprintf(r->account[i], sizeof r->account[i], "%s", tx->postings[i].account);
		r->amount[i] = tx->postings[i].amount_minor;
	}
	return 0;
}

static void journal(ledger *lg, struct jlist *l)
{
	lg_error err;
	memset(l, 0, sizeof *l);
	lg_error_init(&err);
	assert_lg_ok(ledger_journal(lg, NULL, NULL, NULL, journal_cb, l, &err), err);
}

static int count_cb(void *ctx, const ledger_tx_row *tx)
{
	(void)tx;
	++*(int *)ctx;
	return 0;
}

static int tx_count(ledger *lg)
{
	lg_error err;
	int n = 0;
	lg_error_init(&err);
	assert_lg_ok(ledger_journal(lg, NULL, NULL, NULL, count_cb, &n, &err), err);
	return n;
}

/* ledger_verify must hold and count `n` transactions. */
static void verify_ok(ledger *lg, long long n)
{
	ledger_verify_result res;
	lg_error err;
	int rc;

	lg_error_init(&err);
	rc = ledger_verify(lg, &res, &err);
	if (rc != LG_OK)
		fail_msg("ledger_verify returned %d: %s / %s", rc, err.msg, res.problem);
	assert_int_equal(res.transactions, n);
	assert_int_equal(res.broken_seq, 0);
	assert_int_equal(strlen(res.head_hex), 64);
}

/* A two-posting CNY transaction line. */
static const char *tx2(char *buf, size_t cap, const char *id, const char *date,
                       const char *dr, const char *cr, const char *amount)
{
	snprintf(buf, cap,
	         "{\"id\":\"%s\",\"date\":\"%s\",\"postings\":["
	         "{\"account\":\"%s\",\"amount\":\"%s\"},"
	         "{\"account\":\"%s\",\"amount\":\"-%s\"}]}\n",
	         id, date, dr, amount, cr, amount);
	return buf;
}

/* Alice's no-overdraft wallet credited 100.00 (bank debited). */
#define FUND_ALICE_100                                                         \
	"{\"id\":\"fund\",\"date\":\"2026-11-25\",\"postings\":["                  \
	"{\"account\":\"assets:bank\",\"amount\":\"100.00\"},"                      \
	"{\"account\":\"liabilities:wallet:alice\",\"amount\":\"-100.00\"}]}\n"

/* A hold moving 30.00 from Alice's wallet to sales. */
#define HOLD_ALICE_30(id, extra)                                                \
	"{\"id\":\"" id "\",\"date\":\"2026-11-25\",\"pending\":true" extra        \
	",\"postings\":["                                                          \
	"{\"account\":\"liabilities:wallet:alice\",\"amount\":\"30.00\"},"          \
	"{\"account\":\"income:sales\",\"amount\":\"-30.00\"}]}\n"

/* --- posting ----------------------------------------------------------- */

static void post_balanced_tx_updates_both_balances(void **state)
{
	struct fx *fx = *state;
	struct jlist l;

	post_ok(fx->lg,
	        "{\"id\":\"t1\",\"date\":\"2026-11-25\",\"memo\":\"capital\","
	        "\"postings\":[{\"account\":\"assets:bank\",\"amount\":\"1234.56\"},"
	        "{\"account\":\"equity:capital\",\"amount\":\"-1234.56\"}]}\n",
	        1);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 123456);
	assert_amount_equal(posted_of(fx->lg, "equity:capital"), -123456);
	assert_amount_equal(posted_of(fx->lg, "assets:cash"), 0);
	journal(fx->lg, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.row[0].id, "t1");
	assert_string_equal(l.row[0].kind, "posted");
	assert_string_equal(l.row[0].memo, "capital");
	assert_int_equal(l.row[0].n, 2);
	assert_amount_equal(l.row[0].amount[0], 123456);
	assert_amount_equal(l.row[0].amount[1], -123456);
	verify_ok(fx->lg, 1);
}

static void post_balances_roll_up_under_prefix(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;

	post_ok(fx->lg,
	        "{\"id\":\"t1\",\"date\":\"2026-11-25\",\"postings\":["
	        "{\"account\":\"assets:bank\",\"amount\":\"10.00\"},"
	        "{\"account\":\"assets:cash\",\"amount\":\"2.50\"},"
	        "{\"account\":\"equity:capital\",\"amount\":\"-12.50\"}]}\n",
	        1);
	q = balance_at(fx->lg, "assets", "CNY", NULL);
	assert_true(q.is_rollup);
	assert_amount_equal(q.posted, 1250);
	q = balance(fx->lg, "assets:bank");
	assert_false(q.is_rollup);
	assert_int_equal(q.scale, 2);
}

static void post_refuses_unbalanced_tx_with_edata_and_posts_nothing(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;

	int rc = post_rj(fx->lg,
	                 "{\"id\":\"t1\",\"date\":\"2026-11-25\",\"postings\":["
	                 "{\"account\":\"assets:bank\",\"amount\":\"100.00\"},"
	                 "{\"account\":\"equity:capital\",\"amount\":\"-99.99\"}]}\n",
	                 &st, &rj, &err);
	assert_lg_fails(rc, LG_EDATA, err);
	assert_int_equal(rj.n, 1);
	assert_int_equal(rj.line[0], 1);
	assert_non_null(strstr(rj.msg[0], "balance"));
	assert_int_equal(st.posted, 0);
	assert_int_equal(st.failed, 1);
	assert_int_equal(tx_count(fx->lg), 0);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 0);
	assert_amount_equal(posted_of(fx->lg, "equity:capital"), 0);
	verify_ok(fx->lg, 0);
}

static void post_file_with_one_bad_line_posts_nothing_and_names_the_line(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char a[512], c[512], text[2048];

	/* Line 1 good, line 2 blank, line 3 unbalanced, line 4 good. */
	tx2(a, sizeof a, "good1", "2026-11-25", "assets:bank", "equity:capital", "5.00");
	tx2(c, sizeof c, "good2", "2026-11-25", "assets:cash", "equity:capital", "7.00");
	snprintf(text, sizeof text,
	         "%s\n"
	         "{\"id\":\"bad\",\"date\":\"2026-11-25\",\"postings\":["
	         "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	         "{\"account\":\"equity:capital\",\"amount\":\"-2.00\"}]}\n"
	         "%s",
	         a, c);
	assert_lg_fails(post_rj(fx->lg, text, &st, &rj, &err), LG_EDATA, err);
	assert_int_equal(rj.n, 1);
	assert_int_equal(rj.line[0], 3);
	assert_int_equal(rj.code[0], LG_EDATA);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.posted, 0);
	assert_int_equal(tx_count(fx->lg), 0);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 0);
	assert_amount_equal(posted_of(fx->lg, "assets:cash"), 0);
	assert_amount_equal(posted_of(fx->lg, "equity:capital"), 0);
	verify_ok(fx->lg, 0);
	/* The same good lines alone post. */
	snprintf(text, sizeof text, "%s%s", a, c);
	post_ok(fx->lg, text, 2);
	assert_amount_equal(posted_of(fx->lg, "equity:capital"), -1200);
}

static void post_reports_every_bad_line_of_a_file(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;

	assert_lg_fails(post_rj(fx->lg,
	                        "not json\n"
	                        "{\"id\":\"ok\",\"date\":\"2026-11-25\",\"postings\":["
	                        "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	                        "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n"
	                        "[1,2]\r\n"
	                        "{\"id\":\"x\"}",
	                        &st, &rj, &err),
	                LG_EDATA, err);
	assert_int_equal(rj.n, 3);
	assert_int_equal(rj.line[0], 1);
	assert_int_equal(rj.line[1], 3);
	assert_int_equal(rj.line[2], 4);
	assert_int_equal(st.lines, 4);
	assert_int_equal(st.failed, 3);
	assert_int_equal(st.posted, 0);
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_accepts_mixed_asset_tx_balanced_per_asset(void **state)
{
	struct fx *fx = *state;

	post_ok(fx->lg,
	        "{\"id\":\"fx1\",\"date\":\"2026-11-25\",\"postings\":["
	        "{\"account\":\"assets:bank\",\"amount\":\"700.00\",\"asset\":\"CNY\"},"
	        "{\"account\":\"equity:capital\",\"amount\":\"-700.00\"},"
	        "{\"account\":\"assets:usdt\",\"amount\":\"100.123456\",\"asset\":\"USDT\"},"
	        "{\"account\":\"equity:usdt\",\"amount\":\"-100.123456\"}]}\n",
	        1);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 70000);
	assert_amount_equal(posted_of(fx->lg, "assets:usdt"), 100123456);
	assert_amount_equal(posted_of(fx->lg, "equity:usdt"), -100123456);
	assert_int_equal(balance(fx->lg, "assets:usdt").scale, 6);
	verify_ok(fx->lg, 1);
}

static void post_refuses_mixed_asset_tx_unbalanced_in_one_asset(void **state)
{
	struct fx *fx = *state;

	/* CNY balances, USDT is off by one micro-unit. */
	post_refused(fx->lg,
	             "{\"id\":\"fx1\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"700.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-700.00\"},"
	             "{\"account\":\"assets:usdt\",\"amount\":\"100.000001\"},"
	             "{\"account\":\"equity:usdt\",\"amount\":\"-100.00\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 0);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 0);
}

static void post_refuses_assets_that_only_cancel_across_assets(void **state)
{
	struct fx *fx = *state;

	/* 1.00 CNY is 100 minor units and so is 0.000100 USDT: equal and
	 * opposite in minor units, but each asset alone is unbalanced. */
	post_refused(fx->lg,
	             "{\"id\":\"x\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:usdt\",\"amount\":\"-0.000100\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_refuses_single_posting(void **state)
{
	struct fx *fx = *state;

	post_refused(fx->lg,
	             "{\"id\":\"one\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"0.01\"}]}\n");
	post_refused(fx->lg, "{\"id\":\"none\",\"date\":\"2026-11-25\",\"postings\":[]}\n");
	post_refused(fx->lg, "{\"id\":\"missing\",\"date\":\"2026-11-25\"}\n");
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_refuses_zero_posting(void **state)
{
	struct fx *fx = *state;

	post_refused(fx->lg,
	             "{\"id\":\"z\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"assets:cash\",\"amount\":\"0.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	/* All-zero transactions balance trivially, and are still refused. */
	post_refused(fx->lg,
	             "{\"id\":\"z2\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"-0\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"0\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_refuses_posting_asset_differing_from_account_asset(void **state)
{
	struct fx *fx = *state;

	post_refused(fx->lg,
	             "{\"id\":\"a\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\",\"asset\":\"USD\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\",\"asset\":\"USD\"}]}\n");
	/* Asset codes are case-sensitive. */
	post_refused(fx->lg,
	             "{\"id\":\"b\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\",\"asset\":\"cny\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	/* Not a string. */
	post_refused(fx->lg,
	             "{\"id\":\"c\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\",\"asset\":null},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_refuses_more_decimals_than_account_asset_scale(void **state)
{
	struct fx *fx = *state;

	post_refused(fx->lg,
	             "{\"id\":\"d\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.005\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.005\"}]}\n");
	post_refused(fx->lg,
	             "{\"id\":\"u\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:usdt\",\"amount\":\"1.0000001\"},"
	             "{\"account\":\"equity:usdt\",\"amount\":\"-1.0000001\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_accepts_trailing_zeros_beyond_asset_scale(void **state)
{
	struct fx *fx = *state;

	post_ok(fx->lg,
	        "{\"id\":\"tz\",\"date\":\"2026-11-25\",\"postings\":["
	        "{\"account\":\"assets:bank\",\"amount\":\"1.500\"},"
	        "{\"account\":\"equity:capital\",\"amount\":\"-1.5\"}]}\n",
	        1);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 150);
	assert_amount_equal(posted_of(fx->lg, "equity:capital"), -150);
}

static void post_refuses_amount_given_as_json_number(void **state)
{
	struct fx *fx = *state;

	post_refused(fx->lg,
	             "{\"id\":\"n\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":1.5},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.50\"}]}\n");
	post_refused(fx->lg,
	             "{\"id\":\"i\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":100},"
	             "{\"account\":\"equity:capital\",\"amount\":-100}]}\n");
	post_refused(fx->lg,
	             "{\"id\":\"e\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1e2\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-100\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_refuses_unknown_account(void **state)
{
	struct fx *fx = *state;

	post_refused(fx->lg,
	             "{\"id\":\"u\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:nowhere\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 0);
	assert_amount_equal(posted_of(fx->lg, "equity:capital"), 0);
}

static void post_refuses_bad_header_fields(void **state)
{
	struct fx *fx = *state;

	/* Not a calendar date. */
	post_refused(fx->lg,
	             "{\"id\":\"d\",\"date\":\"2026-02-29\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	/* Unknown field. */
	post_refused(fx->lg,
	             "{\"id\":\"f\",\"date\":\"2026-11-25\",\"colour\":\"red\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	/* Empty id. */
	post_refused(fx->lg,
	             "{\"id\":\"\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	/* Duplicate key. */
	post_refused(fx->lg,
	             "{\"id\":\"a\",\"id\":\"b\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	/* timeout_s on a transaction that is not pending. */
	post_refused(fx->lg,
	             "{\"id\":\"t\",\"date\":\"2026-11-25\",\"timeout_s\":60,\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	/* Fractional number in meta. */
	post_refused(fx->lg,
	             "{\"id\":\"m\",\"date\":\"2026-11-25\",\"meta\":{\"rate\":7.1},\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_skips_blank_lines_and_accepts_crlf(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;

	assert_lg_ok(post_rj(fx->lg,
	                     "\n\r\n"
	                     "{\"id\":\"c\",\"date\":\"2026-11-25\",\"postings\":["
	                     "{\"account\":\"assets:bank\",\"amount\":\"3.00\"},"
	                     "{\"account\":\"equity:capital\",\"amount\":\"-3.00\"}]}\r\n"
	                     "\n",
	                     &st, &rj, &err),
	             err);
	assert_int_equal(st.lines, 1);
	assert_int_equal(st.posted, 1);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 300);
}

/* --- templates and closed accounts -------------------------------------- */

static void template_opens_account_on_first_use(void **state)
{
	struct fx *fx = *state;
	lg_error err;
	struct bal_q q;

	lg_error_init(&err);
	assert_lg_ok(ledger_template_add(fx->lg, "liabilities:customer:*", "liability",
	                                 "CNY", LG_ACCOUNT_NO_OVERDRAFT, &err),
	             err);
	post_ok(fx->lg,
	        "{\"id\":\"c1\",\"date\":\"2026-11-25\",\"postings\":["
	        "{\"account\":\"assets:bank\",\"amount\":\"50.00\"},"
	        "{\"account\":\"liabilities:customer:c42\",\"amount\":\"-50.00\"}]}\n",
	        1);
	q = balance(fx->lg, "liabilities:customer:c42");
	assert_amount_equal(q.posted, -5000);
	assert_int_equal(q.scale, 2);
	/* The opened account carries the template's no-overdraft flag. */
	post_refused(fx->lg,
	             "{\"id\":\"c2\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"liabilities:customer:c42\",\"amount\":\"50.01\"},"
	             "{\"account\":\"assets:bank\",\"amount\":\"-50.01\"}]}\n");
	/* A code outside the pattern is still unknown. */
	post_refused(fx->lg,
	             "{\"id\":\"c3\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"liabilities:vendor:v1\",\"amount\":\"-1.00\"}]}\n");
	verify_ok(fx->lg, 1);
}

struct acct_seen {
	const char *code;
	int found;
	unsigned flags;
	char type[16];
};

static int acct_cb(void *ctx, const ledger_account_info *a)
{
	struct acct_seen *s = ctx;
	if (strcmp(a->code, s->code) == 0) {
		s->found++;
		s->flags = a->flags;
		snprintf(s->type, sizeof s->type, "%s", a->type);
	}
	return 0;
}

static int account_exists(ledger *lg, const char *code, struct acct_seen *s)
{
	lg_error err;
	memset(s, 0, sizeof *s);
	s->code = code;
	lg_error_init(&err);
	assert_lg_ok(ledger_account_list(lg, NULL, acct_cb, s, &err), err);
	return s->found;
}

static void template_account_is_not_opened_when_the_file_is_refused(void **state)
{
	struct fx *fx = *state;
	struct acct_seen s;
	lg_error err;

	lg_error_init(&err);
	assert_lg_ok(ledger_template_add(fx->lg, "liabilities:customer:*", "liability",
	                                 "CNY", LG_ACCOUNT_NO_OVERDRAFT, &err),
	             err);
	post_refused(fx->lg,
	             "{\"id\":\"c1\",\"date\":\"2026-11-25\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"50.00\"},"
	             "{\"account\":\"liabilities:customer:c42\",\"amount\":\"-49.00\"}]}\n");
	assert_int_equal(account_exists(fx->lg, "liabilities:customer:c42", &s), 0);
	/* Posting properly opens it, with the template's type and flags. */
	post_ok(fx->lg,
	        "{\"id\":\"c1\",\"date\":\"2026-11-25\",\"postings\":["
	        "{\"account\":\"assets:bank\",\"amount\":\"50.00\"},"
	        "{\"account\":\"liabilities:customer:c42\",\"amount\":\"-50.00\"}]}\n",
	        1);
	assert_int_equal(account_exists(fx->lg, "liabilities:customer:c42", &s), 1);
	assert_string_equal(s.type, "liability");
	assert_int_equal(s.flags, LG_ACCOUNT_NO_OVERDRAFT);
}

static void closed_account_refuses_postings(void **state)
{
	struct fx *fx = *state;
	lg_error err;
	char line[512];

	post_ok(fx->lg, tx2(line, sizeof line, "t1", "2026-11-25", "assets:cash",
	                    "equity:capital", "1.00"),
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_account_close(fx->lg, "assets:cash", &err), err);
	post_refused(fx->lg, tx2(line, sizeof line, "t2", "2026-11-25", "assets:cash",
	                         "equity:capital", "1.00"));
	post_refused(fx->lg, tx2(line, sizeof line, "t3", "2026-11-25", "equity:capital",
	                         "assets:cash", "1.00"));
	assert_amount_equal(posted_of(fx->lg, "assets:cash"), 100);
	/* Closing twice, or an unknown account, is LG_ENOINPUT. */
	lg_error_init(&err);
	assert_lg_fails(ledger_account_close(fx->lg, "assets:cash", &err), LG_ENOINPUT, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_account_close(fx->lg, "assets:nowhere", &err), LG_ENOINPUT, err);
	verify_ok(fx->lg, 1);
}

/* --- idempotency -------------------------------------------------------- */

static void post_same_id_same_content_replays(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char line[512];

	tx2(line, sizeof line, "t1", "2026-11-25", "assets:bank", "equity:capital", "9.99");
	post_ok(fx->lg, line, 1);
	assert_lg_ok(post_rj(fx->lg, line, &st, &rj, &err), err);
	assert_int_equal(st.replayed, 1);
	assert_int_equal(st.posted, 0);
	assert_int_equal(st.failed, 0);
	assert_int_equal(tx_count(fx->lg), 1);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 999);
	verify_ok(fx->lg, 1);
}

static void post_replay_ignores_json_key_order_and_equivalent_amounts(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;

	post_ok(fx->lg,
	        "{\"id\":\"t1\",\"date\":\"2026-11-25\",\"meta\":{\"a\":1,\"b\":\"x\"},"
	        "\"postings\":[{\"account\":\"assets:bank\",\"amount\":\"9.90\"},"
	        "{\"account\":\"equity:capital\",\"amount\":\"-9.90\"}]}\n",
	        1);
	assert_lg_ok(post_rj(fx->lg,
	                     "{\"postings\":[{\"amount\":\"9.9\",\"account\":\"assets:bank\"},"
	                     "{\"account\":\"equity:capital\",\"amount\":\"-9.900\"}],"
	                     "\"meta\":{\"b\":\"x\",\"a\":1},\"date\":\"2026-11-25\",\"id\":\"t1\"}\n",
	                     &st, &rj, &err),
	             err);
	assert_int_equal(st.replayed, 1);
	assert_int_equal(st.posted, 0);
	assert_int_equal(tx_count(fx->lg), 1);
}

static void post_replay_inside_one_file_counts_once(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char line[512], text[1100];

	tx2(line, sizeof line, "t1", "2026-11-25", "assets:bank", "equity:capital", "1.00");
	snprintf(text, sizeof text, "%s%s", line, line);
	assert_lg_ok(post_rj(fx->lg, text, &st, &rj, &err), err);
	assert_int_equal(st.posted, 1);
	assert_int_equal(st.replayed, 1);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 100);
}

static void post_same_id_different_content_is_a_conflict(void **state)
{
	struct fx *fx = *state;
	char line[512];

	post_ok(fx->lg, tx2(line, sizeof line, "t1", "2026-11-25", "assets:bank",
	                    "equity:capital", "10.00"),
	        1);
	/* Different amount. */
	post_refused(fx->lg, tx2(line, sizeof line, "t1", "2026-11-25", "assets:bank",
	                         "equity:capital", "10.01"));
	/* Different date. */
	post_refused(fx->lg, tx2(line, sizeof line, "t1", "2026-11-24", "assets:bank",
	                         "equity:capital", "10.00"));
	/* Different memo. */
	post_refused(fx->lg,
	             "{\"id\":\"t1\",\"date\":\"2026-11-25\",\"memo\":\"m\",\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"10.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-10.00\"}]}\n");
	/* Same postings as a hold. */
	post_refused(fx->lg,
	             "{\"id\":\"t1\",\"date\":\"2026-11-25\",\"pending\":true,\"postings\":["
	             "{\"account\":\"assets:bank\",\"amount\":\"10.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-10.00\"}]}\n");
	assert_int_equal(tx_count(fx->lg), 1);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 1000);
	verify_ok(fx->lg, 1);
}

static void post_replay_is_a_no_op_even_when_it_would_now_overdraw(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char spend[512];

	post_ok(fx->lg, FUND_ALICE_100, 1);
	tx2(spend, sizeof spend, "spend60", "2026-11-25", "liabilities:wallet:alice",
	    "income:sales", "60.00");
	post_ok(fx->lg, spend, 1);
	/* Applied again, 60.00 would overdraw the 40.00 left; as a replay it
	 * must be recognised and change nothing. */
	assert_lg_ok(post_rj(fx->lg, spend, &st, &rj, &err), err);
	assert_int_equal(st.replayed, 1);
	assert_int_equal(st.posted, 0);
	assert_int_equal(rj.n, 0);
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:alice"), -4000);
	assert_amount_equal(posted_of(fx->lg, "income:sales"), -6000);
	assert_int_equal(tx_count(fx->lg), 2);
	verify_ok(fx->lg, 2);
}

static void post_replay_of_a_hold_does_not_hold_twice(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	struct bal_q q;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ",\"timeout_s\":600"), 1);
	assert_lg_ok(post_rj(fx->lg, HOLD_ALICE_30("h1", ",\"timeout_s\":600"), &st, &rj,
	                     &err),
	             err);
	assert_int_equal(st.replayed, 1);
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.pending, 3000);
	/* A different timeout is different content. */
	post_refused(fx->lg, HOLD_ALICE_30("h1", ",\"timeout_s\":601"));
	verify_ok(fx->lg, 2);
}

/* --- JSON details ------------------------------------------------------ */

static int memo_cb(void *ctx, const ledger_tx_row *tx)
{
	char **out = ctx;
	out[0] = strdup(tx->memo);
	out[1] = strdup(tx->meta);
	return 0;
}

static void post_stores_escaped_unicode_memo_decoded(void **state)
{
	struct fx *fx = *state;
	char *got[2] = { NULL, NULL };
	lg_error err;

	post_ok(fx->lg,
	        "{\"id\":\"u\",\"date\":\"2026-11-25\","
	        "\"memo\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \xe4\xb8\xad\","
	        "\"postings\":[{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	        "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n",
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_journal(fx->lg, NULL, NULL, NULL, memo_cb, got, &err), err);
	assert_non_null(got[0]);
	assert_string_equal(got[0], "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ \xe4\xb8\xad");
	assert_string_equal(got[1], "{}");
	free(got[0]);
	free(got[1]);
	verify_ok(fx->lg, 1);
}

static void post_stores_meta_with_sorted_keys_and_no_spaces(void **state)
{
	struct fx *fx = *state;
	char *got[2] = { NULL, NULL };
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;

	post_ok(fx->lg,
	        "{\"id\":\"m\",\"date\":\"2026-11-25\","
	        "\"meta\":{ \"b\" : 1 , \"a\" : { \"d\" : [ 1 , \"x\" , true ] , \"c\" : null } },"
	        "\"postings\":[{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	        "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n",
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_journal(fx->lg, NULL, NULL, NULL, memo_cb, got, &err), err);
	assert_non_null(got[1]);
	assert_string_equal(got[1], "{\"a\":{\"c\":null,\"d\":[1,\"x\",true]},\"b\":1}");
	free(got[0]);
	free(got[1]);
	/* The canonical form makes the reordered line a replay. */
	assert_lg_ok(post_rj(fx->lg,
	                     "{\"id\":\"m\",\"date\":\"2026-11-25\","
	                     "\"meta\":{\"a\":{\"c\":null,\"d\":[1,\"x\",true]},\"b\":1},"
	                     "\"postings\":[{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	                     "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n",
	                     &st, &rj, &err),
	             err);
	assert_int_equal(st.replayed, 1);
	/* Array order is content: a different order is a conflict. */
	post_refused(fx->lg,
	             "{\"id\":\"m\",\"date\":\"2026-11-25\","
	             "\"meta\":{\"a\":{\"c\":null,\"d\":[\"x\",1,true]},\"b\":1},"
	             "\"postings\":[{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
	             "{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}\n");
}

#define GOOD_POSTINGS                                                          \
	"\"postings\":[{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"          \
	"{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]"

static void post_refuses_malformed_json_lines(void **state)
{
	static const char *const bad[] = {
		/* trailing garbage and trailing commas */
		"{\"id\":\"a\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "} x",
		"{\"id\":\"a\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}{}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\"," GOOD_POSTINGS ",}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"postings\":["
		"{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
		"{\"account\":\"equity:capital\",\"amount\":\"-1.00\"},]}",
		/* unterminated */
		"{\"id\":\"a\",\"date\":\"2026-11-25\"," GOOD_POSTINGS,
		"{\"id\":\"a",
		/* strings */
		"{\"id\":\"a\\ud800\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"a\\udc00\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"a\\u0000b\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"a\\u0001\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"a\\tb\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"a\tb\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"\xff\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"\xc0\xaf\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"\xed\xa0\x80\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"a\\x\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":'a',\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		/* duplicate key, also when spelled with an escape */
		"{\"id\":\"a\",\"i\\u0064\":\"b\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		/* wrong types */
		"{\"id\":1,\"date\":\"2026-11-25\"," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":20261125," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"memo\":5," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":\"yes\"," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"meta\":[]," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"postings\":{}}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"postings\":[\"x\",\"y\"]}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"postings\":["
		"{\"account\":\"assets:bank\",\"amount\":\"1.00\",\"note\":\"n\"},"
		"{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"postings\":["
		"{\"account\":5,\"amount\":\"1.00\"},"
		"{\"account\":\"equity:capital\",\"amount\":\"-1.00\"}]}",
		/* timeouts that are not whole seconds in range */
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":true,\"timeout_s\":6e2," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":true,\"timeout_s\":600.0," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":true,\"timeout_s\":0," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":true,\"timeout_s\":-5," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":true,\"timeout_s\":31622401," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":true,\"timeout_s\":0600," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":true,\"timeout_s\":99999999999999999999," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"pending\":true,\"timeout_s\":\"600\"," GOOD_POSTINGS "}",
		/* inexact metadata */
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"meta\":{\"x\":[{\"y\":0.1}]}," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"meta\":{\"x\":1e3}," GOOD_POSTINGS "}",
		"{\"id\":\"a\",\"date\":\"2026-11-25\",\"meta\":{\"x\":123456789012345678901234567890}," GOOD_POSTINGS "}",
		/* not an object at all */
		"[]", "\"x\"", "null", "42", "   ", "{",
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ledger_post_stats st;
		struct rejects rj;
		lg_error err;
		int rc = post_rj(fx->lg, bad[i], &st, &rj, &err);
		if (rc != LG_EDATA || rj.n != 1 || rj.line[0] != 1 || rj.msg[0][0] == '\0')
			fail_msg("line %zu accepted or misreported (rc %d, %d rejects): %s", i,
			         rc, rj.n, bad[i]);
	}
	assert_int_equal(tx_count(fx->lg), 0);
	verify_ok(fx->lg, 0);
}

static void post_refuses_meta_nested_too_deep_or_too_big(void **state)
{
	struct fx *fx = *state;
	char *line = malloc(LG_LINE_MAX + 64);
	size_t n;

	assert_non_null(line);
	/* 40 levels of arrays inside meta. */
	n = (size_t)snprintf(line, (LG_LINE_MAX + 64), "{\"id\":\"d\",\"date\":\"2026-11-25\",\"meta\":{\"x\":");
	for (int i = 0; i < 40; i++)
		line[n++] = '[';
	for (int i = 0; i < 40; i++)
		line[n++] = ']';
	n += (size_t)snprintf(line + n, (LG_LINE_MAX + 64) - n, "}," GOOD_POSTINGS "}\n");
	post_refused(fx->lg, line);
	/* 5000 values: more than the reader's node pool. */
	n = (size_t)snprintf(line, (LG_LINE_MAX + 64), "{\"id\":\"v\",\"date\":\"2026-11-25\",\"meta\":{\"x\":[");
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(line + n, (LG_LINE_MAX + 64) - n, i ? ",0" : "0");
	n += (size_t)snprintf(line + n, (LG_LINE_MAX + 64) - n, "]}," GOOD_POSTINGS "}\n");
	post_refused(fx->lg, line);
	/* Canonical meta over 8000 bytes. */
	n = (size_t)snprintf(line, (LG_LINE_MAX + 64), "{\"id\":\"big\",\"date\":\"2026-11-25\",\"meta\":{\"x\":\"");
	memset(line + n, 'a', 8100);
	n += 8100;
	n += (size_t)snprintf(line + n, (LG_LINE_MAX + 64) - n, "\"}," GOOD_POSTINGS "}\n");
	post_refused(fx->lg, line);
	/* A line over 64 KiB. */
	n = (size_t)snprintf(line, (LG_LINE_MAX + 64), "{\"id\":\"long\",\"date\":\"2026-11-25\",\"memo\":\"");
	memset(line + n, 'a', LG_LINE_MAX);
	n += LG_LINE_MAX;
	n += (size_t)snprintf(line + n, (LG_LINE_MAX + 64) - n, "\"}\n");
	post_refused(fx->lg, line);
	free(line);
	assert_int_equal(tx_count(fx->lg), 0);
}

static void post_accepts_meta_of_exactly_8000_bytes(void **state)
{
	struct fx *fx = *state;
	char *line = malloc(LG_LINE_MAX);
	size_t n;

	assert_non_null(line);
	/* {"x":"aaa..."} is 8 bytes of punctuation and key plus the a's. */
	n = (size_t)snprintf(line, (LG_LINE_MAX), "{\"id\":\"max\",\"date\":\"2026-11-25\",\"meta\":{\"x\":\"");
	memset(line + n, 'a', LG_META_MAX - 8);
	n += LG_META_MAX - 8;
	n += (size_t)snprintf(line + n, (LG_LINE_MAX) - n, "\"}," GOOD_POSTINGS "}\n");
	post_ok(fx->lg, line, 1);
	/* One more byte is too many. */
	n = (size_t)snprintf(line, (LG_LINE_MAX), "{\"id\":\"max1\",\"date\":\"2026-11-25\",\"meta\":{\"x\":\"");
	memset(line + n, 'a', LG_META_MAX - 7);
	n += LG_META_MAX - 7;
	n += (size_t)snprintf(line + n, (LG_LINE_MAX) - n, "\"}," GOOD_POSTINGS "}\n");
	post_refused(fx->lg, line);
	free(line);
	verify_ok(fx->lg, 1);
}

static void post_accepts_id_of_128_bytes_and_refuses_129(void **state)
{
	struct fx *fx = *state;
	char id[LG_ID_MAX + 2], line[1024];

	memset(id, 'x', sizeof id);
	id[LG_ID_MAX] = '\0';
	snprintf(line, sizeof line, "{\"id\":\"%s\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}\n",
	         id);
	post_ok(fx->lg, line, 1);
	id[LG_ID_MAX] = 'x';
	id[LG_ID_MAX + 1] = '\0';
	snprintf(line, sizeof line, "{\"id\":\"%s\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}\n",
	         id);
	post_refused(fx->lg, line);
	/* The 128-byte id can still be reversed: its ":reversal" id fits. */
	id[LG_ID_MAX] = '\0';
	lg_error err;
	lg_error_init(&err);
	assert_lg_ok(ledger_reverse(fx->lg, id, "long id", NULL, &err), err);
	verify_ok(fx->lg, 2);
}

/* Regression tests of bugs found by this file and since fixed. */

/* A retry of a transaction already in the journal stays a no-op once its
 * month is closed ("same id, same content: no-op"). */
static void post_replay_after_its_period_closed_is_still_a_no_op(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char line[512];
	int rc;

	tx2(line, sizeof line, "oct", "2026-10-30", "assets:bank", "equity:capital", "5.00");
	post_ok(fx->lg, line, 1);
	lg_error_init(&err);
	assert_lg_ok(ledger_close_period(fx->lg, "2026-10", &err), err);
	rc = post_rj(fx->lg, line, &st, &rj, &err);
	if (rc != LG_OK)
		fail_msg("replay refused with %d: %s", rc, rj.n ? rj.msg[0] : err.msg);
	assert_int_equal(st.replayed, 1);
	assert_int_equal(tx_count(fx->lg), 1);
}

/* The same, once an account the transaction touched is closed. */
static void post_replay_after_account_closed_is_still_a_no_op(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char line[512];
	int rc;

	tx2(line, sizeof line, "t1", "2026-11-25", "assets:cash", "equity:capital", "5.00");
	post_ok(fx->lg, line, 1);
	lg_error_init(&err);
	assert_lg_ok(ledger_account_close(fx->lg, "assets:cash", &err), err);
	rc = post_rj(fx->lg, line, &st, &rj, &err);
	if (rc != LG_OK)
		fail_msg("replay refused with %d: %s", rc, rj.n ? rj.msg[0] : err.msg);
	assert_int_equal(st.replayed, 1);
	assert_int_equal(tx_count(fx->lg), 1);
}

/* Ids of the transactions the ledger makes itself ("<id>:reversal",
 * "<id>:commit", "<id>:void", "<id>:expire") are reserved: an input id
 * ending so is refused, so it can never make t1 impossible to reverse. */
static void reverse_is_not_blocked_by_an_input_id_equal_to_its_reversal_id(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char line[512];
	int rc;

	post_ok(fx->lg, tx2(line, sizeof line, "t1", "2026-11-25", "assets:bank",
	                    "income:sales", "5.00"),
	        1);
	assert_lg_fails(post_rj(fx->lg, tx2(line, sizeof line, "t1:reversal", "2026-11-25",
	                                    "assets:cash", "income:sales", "1.00"),
	                        &st, &rj, &err),
	                LG_EDATA, err);
	assert_int_equal(rj.n, 1);
	assert_non_null(strstr(rj.msg[0], "reserves"));
	lg_error_init(&err);
	rc = ledger_reverse(fx->lg, "t1", "wrong customer", NULL, &err);
	if (rc != LG_OK)
		fail_msg("ledger_reverse(t1) returned %d: %s", rc, err.msg);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 0);
}

/* The same reservation on "<hold>:expire": an input id ending so is
 * refused, so the expiry sweep can never be blocked by one. */
static void hold_expire_sweep_is_not_blocked_by_an_input_id_ending_in_expire(void **state)
{
	struct fx *fx = *state;
	ledger *later = NULL;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char line[512];
	long n = -1;
	int rc;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ",\"timeout_s\":600"), 1);
	post_ok(fx->lg, HOLD_ALICE_30("h2", ",\"timeout_s\":600"), 1);
	assert_lg_fails(post_rj(fx->lg, tx2(line, sizeof line, "h1:expire", "2026-11-25",
	                                    "assets:cash", "income:sales", "1.00"),
	                        &st, &rj, &err),
	                LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_ok(ledger_open(fx->path, 0, LATER, &later, &err), err);
	rc = ledger_hold_expire(later, &n, &err);
	ledger_close(later);
	if (rc != LG_OK)
		fail_msg("ledger_hold_expire returned %d: %s", rc, err.msg);
	assert_int_equal(n, 2);
}

/* A meta object of more than LG_JSON_MEMBERS_MAX (256) members is refused
 * naming the member limit, not as "fractional or huge numbers". */
static void post_refuses_meta_of_300_members_naming_the_member_limit(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char line[8192];
	size_t n;

	n = (size_t)snprintf(line, sizeof line, "{\"id\":\"m\",\"date\":\"2026-11-25\",\"meta\":{");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(line + n, sizeof line - n, "%s\"k%03d\":1", i ? "," : "", i);
	snprintf(line + n, sizeof line - n, "}," GOOD_POSTINGS "}\n");
	assert_lg_fails(post_rj(fx->lg, line, &st, &rj, &err), LG_EDATA, err);
	assert_int_equal(rj.n, 1);
	if (strstr(rj.msg[0], "fractional") || !strstr(rj.msg[0], "members"))
		fail_msg("misleading reason: %s", rj.msg[0]);
}

/* --- no-overdraft --------------------------------------------------------- */

static void no_overdraft_wallet_refuses_debit_of_150_after_credit_of_100(void **state)
{
	struct fx *fx = *state;
	char line[512];

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_refused(fx->lg, tx2(line, sizeof line, "spend150", "2026-11-25",
	                         "liabilities:wallet:alice", "income:sales", "150.00"));
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:alice"), -10000);
	/* Spending exactly the balance is fine, one cent more is not. */
	post_refused(fx->lg, tx2(line, sizeof line, "spend100.01", "2026-11-25",
	                         "liabilities:wallet:alice", "income:sales", "100.01"));
	post_ok(fx->lg, tx2(line, sizeof line, "spend100", "2026-11-25",
	                    "liabilities:wallet:alice", "income:sales", "100.00"),
	        1);
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:alice"), 0);
	/* Bob's wallet has no flag and may go negative. */
	post_ok(fx->lg, tx2(line, sizeof line, "bob", "2026-11-25",
	                    "liabilities:wallet:bob", "income:sales", "5.00"),
	        1);
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:bob"), 500);
	verify_ok(fx->lg, 3);
}

static void no_overdraft_is_checked_after_every_line_of_a_file(void **state)
{
	struct fx *fx = *state;
	ledger_post_stats st;
	struct rejects rj;
	lg_error err;
	char a[512], b[512], text[1100];

	/* Spend first, fund second: the spend overdraws when it is applied. */
	tx2(a, sizeof a, "spend", "2026-11-25", "liabilities:wallet:alice",
	    "income:sales", "50.00");
	snprintf(b, sizeof b, "%s", FUND_ALICE_100);
	snprintf(text, sizeof text, "%s%s", a, b);
	assert_lg_fails(post_rj(fx->lg, text, &st, &rj, &err), LG_EDATA, err);
	assert_int_equal(rj.n, 1);
	assert_int_equal(rj.line[0], 1);
	assert_int_equal(tx_count(fx->lg), 0);
	/* In the other order the file posts. */
	snprintf(text, sizeof text, "%s%s", b, a);
	post_ok(fx->lg, text, 2);
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:alice"), -5000);
}

static void no_overdraft_counts_pending_holds_against_available(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;
	char line[512];

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg,
	        "{\"id\":\"h80\",\"date\":\"2026-11-25\",\"pending\":true,\"postings\":["
	        "{\"account\":\"liabilities:wallet:alice\",\"amount\":\"80.00\"},"
	        "{\"account\":\"income:sales\",\"amount\":\"-80.00\"}]}\n",
	        1);
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.posted, -10000);
	assert_amount_equal(q.pending, 8000);
	assert_amount_equal(q.available, -2000);
	/* 30.00 posted would fit the posted balance but not what is available. */
	post_refused(fx->lg, tx2(line, sizeof line, "spend30", "2026-11-25",
	                         "liabilities:wallet:alice", "income:sales", "30.00"));
	/* A second hold is held to the same rule. */
	post_refused(fx->lg,
	             "{\"id\":\"h30\",\"date\":\"2026-11-25\",\"pending\":true,\"postings\":["
	             "{\"account\":\"liabilities:wallet:alice\",\"amount\":\"30.00\"},"
	             "{\"account\":\"income:sales\",\"amount\":\"-30.00\"}]}\n");
	post_ok(fx->lg, tx2(line, sizeof line, "spend20", "2026-11-25",
	                    "liabilities:wallet:alice", "income:sales", "20.00"),
	        1);
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.posted, -8000);
	assert_amount_equal(q.available, 0);
	verify_ok(fx->lg, 3);
}

static void no_overdraft_ignores_incoming_holds_until_posted(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;
	char line[512];

	/* A hold crediting Alice does not make the money spendable yet. */
	post_ok(fx->lg,
	        "{\"id\":\"in\",\"date\":\"2026-11-25\",\"pending\":true,\"postings\":["
	        "{\"account\":\"assets:bank\",\"amount\":\"40.00\"},"
	        "{\"account\":\"liabilities:wallet:alice\",\"amount\":\"-40.00\"}]}\n",
	        1);
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.pending, -4000);
	assert_amount_equal(q.available, 0);
	post_refused(fx->lg, tx2(line, sizeof line, "spend", "2026-11-25",
	                         "liabilities:wallet:alice", "income:sales", "1.00"));
	/* Once committed it is. */
	lg_error err;
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_commit(fx->lg, "in", NULL, NULL, &err), err);
	post_ok(fx->lg, tx2(line, sizeof line, "spend", "2026-11-25",
	                    "liabilities:wallet:alice", "income:sales", "1.00"),
	        1);
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:alice"), -3900);
	verify_ok(fx->lg, 3);
}

/* --- two-phase holds ------------------------------------------------------ */

static void hold_partial_commit_posts_20_and_releases_the_rest(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;
	struct jlist l;
	lg_error err;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ""), 1);
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.posted, -10000);
	assert_amount_equal(q.pending, 3000);
	assert_amount_equal(q.available, -7000);
	q = balance(fx->lg, "income:sales");
	assert_amount_equal(q.posted, 0);
	assert_amount_equal(q.pending, -3000);

	lg_error_init(&err);
	assert_lg_ok(ledger_hold_commit(fx->lg, "h1", "20.00", NULL, &err), err);
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.posted, -8000);
	assert_amount_equal(q.pending, 0);
	assert_amount_equal(q.available, -8000);
	q = balance(fx->lg, "income:sales");
	assert_amount_equal(q.posted, -2000);
	assert_amount_equal(q.pending, 0);

	journal(fx->lg, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.row[1].kind, "pending");
	assert_string_equal(l.row[2].kind, "commit");
	assert_string_equal(l.row[2].ref_id, "h1");
	assert_int_equal(l.row[2].n, 2);
	assert_string_equal(l.row[2].account[0], "liabilities:wallet:alice");
	assert_amount_equal(l.row[2].amount[0], 2000);
	assert_amount_equal(l.row[2].amount[1], -2000);
	verify_ok(fx->lg, 3);

	/* The hold has ended: neither the rest nor a void can follow. */
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", "10.00", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_void(fx->lg, "h1", NULL, &err), LG_EDATA, err);
	verify_ok(fx->lg, 3);
}

static void hold_full_commit_posts_the_held_amounts(void **state)
{
	struct fx *fx = *state;
	lg_error err;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ""), 1);
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_commit(fx->lg, "h1", NULL, "2026-11-25", &err), err);
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:alice"), -7000);
	assert_amount_equal(posted_of(fx->lg, "income:sales"), -3000);
	assert_amount_equal(balance(fx->lg, "income:sales").pending, 0);
	verify_ok(fx->lg, 3);
}

static void hold_commit_refuses_more_than_held(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;
	lg_error err;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ""), 1);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", "30.01", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", "0.00", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", "-5.00", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", "1.001", NULL, &err), LG_EDATA, err);
	/* Nothing changed, and the hold is still open. */
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.posted, -10000);
	assert_amount_equal(q.pending, 3000);
	assert_int_equal(tx_count(fx->lg), 2);
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_commit(fx->lg, "h1", "30.00", NULL, &err), err);
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:alice"), -7000);
	verify_ok(fx->lg, 3);
}

/* The in-transaction ends commit or roll back with the caller's work; a
 * refusal leaves nothing behind and the transaction goes on. */
static void hold_end_in_tx_joins_the_callers_transaction(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;
	lg_error err;
	int replayed;
	static const char other[] =
		"{\"id\":\"after\",\"date\":\"2026-11-25\",\"postings\":["
		"{\"account\":\"assets:bank\",\"amount\":\"1.00\"},"
		"{\"account\":\"income:sales\",\"amount\":\"-1.00\"}]}";

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ""), 1);
	post_ok(fx->lg, HOLD_ALICE_30("h2", ""), 1);
	/* rolled back: the hold is still open */
	lg_error_init(&err);
	assert_lg_ok(ledger_begin(fx->lg, &err), err);
	assert_lg_ok(ledger_hold_commit_in_tx(fx->lg, "h1", "20.00", NULL, &err), err);
	ledger_rollback(fx->lg);
	assert_int_equal(tx_count(fx->lg), 3);
	assert_amount_equal(balance(fx->lg, "liabilities:wallet:alice").pending, 6000);
	/* committed with other work; refusals in between change nothing */
	lg_error_init(&err);
	assert_lg_ok(ledger_begin(fx->lg, &err), err);
	assert_lg_ok(ledger_hold_commit_in_tx(fx->lg, "h1", "20.00", NULL, &err), err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_void_in_tx(fx->lg, "h1", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit_in_tx(fx->lg, "h2", "30.01", NULL, &err),
	                LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_void_in_tx(fx->lg, "nope", NULL, &err), LG_ENOINPUT,
	                err);
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_void_in_tx(fx->lg, "h2", NULL, &err), err);
	assert_lg_ok(ledger_post_json(fx->lg, other, strlen(other), &replayed, NULL, &err),
	             err);
	assert_lg_ok(ledger_commit(fx->lg, &err), err);
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.posted, -8000);
	assert_amount_equal(q.pending, 0);
	assert_amount_equal(posted_of(fx->lg, "income:sales"), -2100);
	verify_ok(fx->lg, 6);
	/* ended once: the plain calls refuse too */
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", NULL, NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h2", NULL, NULL, &err), LG_EDATA, err);
}

static void hold_commit_after_void_refused(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;
	struct jlist l;
	lg_error err;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ""), 1);
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_void(fx->lg, "h1", NULL, &err), err);
	q = balance(fx->lg, "liabilities:wallet:alice");
	assert_amount_equal(q.posted, -10000);
	assert_amount_equal(q.pending, 0);
	assert_amount_equal(q.available, -10000);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", NULL, NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", "1.00", NULL, &err), LG_EDATA, err);
	journal(fx->lg, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.row[2].kind, "void");
	assert_string_equal(l.row[2].ref_id, "h1");
	assert_int_equal(l.row[2].n, 0);
	assert_amount_equal(posted_of(fx->lg, "income:sales"), 0);
	verify_ok(fx->lg, 3);
}

static void hold_void_twice_refused(void **state)
{
	struct fx *fx = *state;
	lg_error err;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ""), 1);
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_void(fx->lg, "h1", NULL, &err), err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_void(fx->lg, "h1", NULL, &err), LG_EDATA, err);
	assert_int_equal(tx_count(fx->lg), 3);
	verify_ok(fx->lg, 3);
}

static void hold_end_of_unknown_or_non_hold_refused(void **state)
{
	struct fx *fx = *state;
	lg_error err;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_void(fx->lg, "nosuch", NULL, &err), LG_ENOINPUT, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "nosuch", NULL, NULL, &err),
	                LG_ENOINPUT, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "fund", NULL, NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_void(fx->lg, "fund", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_void(fx->lg, "fund", "2026-13-01", &err), LG_EUSAGE, err);
	assert_int_equal(tx_count(fx->lg), 1);
}

static void hold_expires_under_a_later_clock_then_commit_refused(void **state)
{
	struct fx *fx = *state;
	ledger *later = NULL;
	struct bal_q q;
	struct jlist l;
	lg_error err;
	long n = -1;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ",\"timeout_s\":600"), 1);
	post_ok(fx->lg, HOLD_ALICE_30("h2", ",\"timeout_s\":7200"), 1);
	post_ok(fx->lg, HOLD_ALICE_30("h3", ""), 1);

	/* Under the original clock nothing has expired yet. */
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_expire(fx->lg, &n, &err), err);
	assert_int_equal(n, 0);

	lg_error_init(&err);
	assert_lg_ok(ledger_open(fx->path, 1, LATER, &later, &err), err);
	assert_string_equal(ledger_now(later), LATER);
	/* Past its expiry a hold cannot be committed even before the sweep. */
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(later, "h1", NULL, NULL, &err), LG_EDATA, err);
	n = -1;
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_expire(later, &n, &err), err);
	assert_int_equal(n, 1); /* h1 only: h2 lasts two hours, h3 forever */
	n = -1;
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_expire(later, &n, &err), err);
	assert_int_equal(n, 0);

	/* Refused through either handle. */
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h1", NULL, NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(later, "h1", "1.00", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_void(later, "h1", NULL, &err), LG_EDATA, err);

	q = balance(later, "liabilities:wallet:alice");
	assert_amount_equal(q.posted, -10000);
	assert_amount_equal(q.pending, 6000);
	journal(later, &l);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.row[4].kind, "expire");
	assert_string_equal(l.row[4].ref_id, "h1");
	verify_ok(later, 5);
	ledger_close(later);

	/* h2 is still good under the original clock. */
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_commit(fx->lg, "h2", NULL, NULL, &err), err);
	verify_ok(fx->lg, 6);
}

/* --- reversals and periods ------------------------------------------------ */

static void reverse_posts_mirror_and_second_reversal_refused(void **state)
{
	struct fx *fx = *state;
	struct jlist l;
	lg_error err;
	char line[512];

	post_ok(fx->lg, tx2(line, sizeof line, "t1", "2026-11-25", "assets:bank",
	                    "income:sales", "12.34"),
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_reverse(fx->lg, "t1", "keyed twice", NULL, &err), err);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 0);
	assert_amount_equal(posted_of(fx->lg, "income:sales"), 0);
	journal(fx->lg, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.row[1].kind, "reverse");
	assert_string_equal(l.row[1].ref_id, "t1");
	assert_string_equal(l.row[1].memo, "keyed twice");
	assert_int_equal(l.row[1].n, 2);
	assert_string_equal(l.row[1].account[0], "assets:bank");
	assert_amount_equal(l.row[1].amount[0], -1234);
	assert_string_equal(l.row[1].account[1], "income:sales");
	assert_amount_equal(l.row[1].amount[1], 1234);

	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, "t1", "again", NULL, &err), LG_EDATA, err);
	/* A reversal is not itself reversed. */
	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, l.row[1].id, "undo", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, "nosuch", "x", NULL, &err), LG_ENOINPUT, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, "t1", "", NULL, &err), LG_EUSAGE, err);
	assert_int_equal(tx_count(fx->lg), 2);
	verify_ok(fx->lg, 2);
}

static void reverse_of_a_hold_refused(void **state)
{
	struct fx *fx = *state;
	lg_error err;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ""), 1);
	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, "h1", "no", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_void(fx->lg, "h1", NULL, &err), err);
	/* A void moved no money. */
	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, "h1:void", "no", NULL, &err), LG_EDATA, err);
	assert_int_equal(tx_count(fx->lg), 3);
}

static void reverse_refused_when_it_would_overdraw(void **state)
{
	struct fx *fx = *state;
	lg_error err;
	char line[512];

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, tx2(line, sizeof line, "spend", "2026-11-25",
	                    "liabilities:wallet:alice", "income:sales", "60.00"),
	        1);
	/* Reversing the funding would leave Alice at -60.00. */
	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, "fund", "bounced", NULL, &err), LG_EDATA, err);
	assert_amount_equal(posted_of(fx->lg, "liabilities:wallet:alice"), -4000);
	assert_int_equal(tx_count(fx->lg), 2);
	verify_ok(fx->lg, 2);
}

static void close_period_2026_10_refuses_oct_31_and_accepts_nov_1(void **state)
{
	struct fx *fx = *state;
	ledger *again = NULL;
	lg_error err;
	char line[512];

	post_ok(fx->lg, tx2(line, sizeof line, "oct", "2026-10-15", "assets:bank",
	                    "equity:capital", "1.00"),
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_close_period(fx->lg, "2026-10", &err), err);
	post_refused(fx->lg, tx2(line, sizeof line, "late", "2026-10-31", "assets:bank",
	                         "equity:capital", "2.00"));
	post_refused(fx->lg, tx2(line, sizeof line, "older", "2025-01-01", "assets:bank",
	                         "equity:capital", "2.00"));
	post_ok(fx->lg, tx2(line, sizeof line, "nov", "2026-11-01", "assets:bank",
	                    "equity:capital", "3.00"),
	        1);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 400);
	/* A reversal dated in the closed month is refused too. */
	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, "oct", "late fix", "2026-10-31", &err),
	                LG_EDATA, err);
	/* Closing it again, or a month not over, is refused. */
	lg_error_init(&err);
	assert_lg_fails(ledger_close_period(fx->lg, "2026-10", &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_close_period(fx->lg, "2026-09", &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_close_period(fx->lg, "2026-11", &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_close_period(fx->lg, "2026-13", &err), LG_EUSAGE, err);
	/* The close is in the database, not in the handle. */
	lg_error_init(&err);
	assert_lg_ok(ledger_open(fx->path, 0, NOW, &again, &err), err);
	post_refused(again, tx2(line, sizeof line, "late2", "2026-10-31", "assets:bank",
	                        "equity:capital", "2.00"));
	ledger_close(again);
	verify_ok(fx->lg, 2);
}

/* --- verify and opening -------------------------------------------------- */

static void verify_returns_ok_with_transaction_count(void **state)
{
	struct fx *fx = *state;
	ledger_verify_result res;
	lg_error err;
	char line[512], head1[LG_HASH_HEX];

	lg_error_init(&err);
	assert_lg_ok(ledger_verify(fx->lg, &res, &err), err);
	assert_int_equal(res.transactions, 0);
	assert_string_equal(res.head_hex,
	                    "0000000000000000000000000000000000000000000000000000000000000000");
	post_ok(fx->lg, tx2(line, sizeof line, "a", "2026-11-25", "assets:bank",
	                    "equity:capital", "1.00"),
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_verify(fx->lg, &res, &err), err);
	assert_int_equal(res.transactions, 1);
	snprintf(head1, sizeof head1, "%s", res.head_hex);
	post_ok(fx->lg, tx2(line, sizeof line, "b", "2026-11-25", "assets:bank",
	                    "equity:capital", "1.00"),
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_verify(fx->lg, &res, &err), err);
	assert_int_equal(res.transactions, 2);
	assert_int_equal(res.broken_seq, 0);
	assert_string_not_equal(res.head_hex, head1);
}

static void open_without_create_of_missing_file_is_enoinput(void **state)
{
	struct fx *fx = *state;
	ledger *lg = NULL;
	lg_error err;
	char path[96];

	snprintf(path, sizeof path, "%s-missing", fx->path);
	lg_error_init(&err);
	assert_lg_fails(ledger_open(path, 0, NOW, &lg, &err), LG_ENOINPUT, err);
	assert_null(lg);
	assert_int_equal(access(path, F_OK), -1);
	lg_error_init(&err);
	assert_lg_fails(ledger_open(fx->path, 1, "2026-11-25 02:00:00", &lg, &err),
	                LG_EUSAGE, err);
	assert_null(lg);
}

static void asset_scale_is_fixed_once_added(void **state)
{
	struct fx *fx = *state;
	lg_error err;
	int scale = -1;

	lg_error_init(&err);
	assert_lg_ok(ledger_asset_add(fx->lg, "USDT", 6, &err), err); /* idempotent */
	lg_error_init(&err);
	assert_lg_fails(ledger_asset_add(fx->lg, "USDT", 8, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_ok(ledger_asset_scale(fx->lg, "USDT", &scale, &err), err);
	assert_int_equal(scale, 6);
	lg_error_init(&err);
	assert_lg_ok(ledger_asset_scale(fx->lg, "JPY", &scale, &err), err);
	assert_int_equal(scale, 0);
	lg_error_init(&err);
	assert_lg_fails(ledger_asset_scale(fx->lg, "XXX", &scale, &err), LG_ENOINPUT, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_asset_add(fx->lg, "ETH", 19, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_asset_add(fx->lg, "eth", 18, &err), LG_EDATA, err);
}

/* --- reading: as-of balances, journal filters, listings ------------------ */

/*
 * ledger_verify, as-of balances and period closes recompute sums from the
 * postings; here the sums need more than 64 bits.  Runs first: a fault in
 * the recomputation shows up against a test named for it.
 */
static void verify_and_as_of_balances_recompute_sums_past_64_bits(void **state)
{
	struct fx *fx = *state;
	ledger_verify_result res;
	lg_error err;
	char line[512];

	post_ok(fx->lg, tx2(line, sizeof line, "a", "2026-10-10", "assets:bank",
	                    "equity:capital", "170141183460469231731687303715884105.72"),
	        1);
	post_ok(fx->lg, tx2(line, sizeof line, "b", "2026-11-10", "equity:capital",
	                    "assets:bank", "0.72"),
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_verify(fx->lg, &res, &err), err);
	assert_int_equal(res.transactions, 2);
	assert_amount_equal(balance_at(fx->lg, "assets:bank", NULL, "2026-10-31").posted,
	                    /* 17014118346046923173168730371588410572 */
	                    (amount_minor_t)17014118346046923173ULL * 1000000000000000000ULL +
	                        168730371588410572ULL);
	lg_error_init(&err);
	assert_lg_ok(ledger_close_period(fx->lg, "2026-10", &err), err);
	verify_ok(fx->lg, 2);
}

/* The recomputation looks holds up among the ended ones; here there are
 * none ended at all, only one open. */
static void verify_counts_an_open_hold_when_no_hold_has_ended(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ""), 1);
	verify_ok(fx->lg, 2);
	q = balance_at(fx->lg, "liabilities:wallet:alice", NULL, "2026-11-25");
	assert_amount_equal(q.posted, -10000);
	assert_amount_equal(q.pending, 3000);
}

static void balances_as_of_a_date_count_only_what_was_dated_by_then(void **state)
{
	struct fx *fx = *state;
	struct bal_q q;
	lg_error err;
	char line[512];

	post_ok(fx->lg, tx2(line, sizeof line, "d1", "2026-11-01", "assets:bank",
	                    "equity:capital", "10.00"),
	        1);
	post_ok(fx->lg, tx2(line, sizeof line, "d20", "2026-11-20", "assets:bank",
	                    "equity:capital", "5.00"),
	        1);
	post_ok(fx->lg,
	        "{\"id\":\"h\",\"date\":\"2026-11-05\",\"pending\":true,\"postings\":["
	        "{\"account\":\"assets:cash\",\"amount\":\"1.00\"},"
	        "{\"account\":\"assets:bank\",\"amount\":\"-1.00\"}]}\n",
	        1);
	assert_amount_equal(balance_at(fx->lg, "assets:bank", NULL, "2026-10-31").posted, 0);
	assert_amount_equal(balance_at(fx->lg, "assets:bank", NULL, "2026-11-01").posted, 1000);
	q = balance_at(fx->lg, "assets:bank", NULL, "2026-11-19");
	assert_amount_equal(q.posted, 1000);
	assert_amount_equal(q.pending, -100);
	assert_amount_equal(q.available, 900);
	q = balance_at(fx->lg, "assets:bank", NULL, "2026-11-04");
	assert_amount_equal(q.pending, 0);
	assert_amount_equal(balance_at(fx->lg, "assets:bank", NULL, "2026-11-20").posted, 1500);
	/* Voided today: the hold no longer counts as of today, still does
	 * as of the 19th. */
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_void(fx->lg, "h", NULL, &err), err);
	assert_amount_equal(balance_at(fx->lg, "assets:bank", NULL, "2026-11-25").pending, 0);
	assert_amount_equal(balance_at(fx->lg, "assets:bank", NULL, "2026-11-19").pending, -100);
	assert_amount_equal(balance(fx->lg, "assets:bank").pending, 0);
	lg_error_init(&err);
	assert_lg_fails(ledger_balances(fx->lg, NULL, "2026-11-31", bal_cb, &q, &err),
	                LG_EUSAGE, err);
}

struct rows {
	int n;
	char account[16][64];
	int rollup[16];
	amount_minor_t posted[16];
};

static int rows_cb(void *ctx, const ledger_balance_row *r)
{
	struct rows *rs = ctx;
	if (rs->n < 16) {
		snprintf(rs->account[rs->n], sizeof rs->account[0], "%s", r->account);
		rs->rollup[rs->n] = r->is_rollup;
		rs->posted[rs->n] = r->posted_minor;
	}
	rs->n++;
	return 0;
}

static void balances_under_a_prefix_roll_up_that_prefix_only(void **state)
{
	struct fx *fx = *state;
	struct rows rs;
	lg_error err;
	char line[512];

	post_ok(fx->lg, tx2(line, sizeof line, "a", "2026-11-25", "assets:bank",
	                    "liabilities:wallet:alice", "3.00"),
	        1);
	post_ok(fx->lg, tx2(line, sizeof line, "b", "2026-11-25", "assets:bank",
	                    "liabilities:wallet:bob", "4.00"),
	        1);
	memset(&rs, 0, sizeof rs);
	lg_error_init(&err);
	assert_lg_ok(ledger_balances(fx->lg, "liabilities:wallet", NULL, rows_cb, &rs, &err),
	             err);
	assert_int_equal(rs.n, 3);
	assert_string_equal(rs.account[0], "liabilities:wallet");
	assert_true(rs.rollup[0]);
	assert_amount_equal(rs.posted[0], -700);
	assert_string_equal(rs.account[1], "liabilities:wallet:alice");
	assert_false(rs.rollup[1]);
	assert_amount_equal(rs.posted[1], -300);
	assert_string_equal(rs.account[2], "liabilities:wallet:bob");
	assert_amount_equal(rs.posted[2], -400);
	/* A prefix is a whole segment: "liabilities:wal" matches nothing. */
	memset(&rs, 0, sizeof rs);
	assert_lg_ok(ledger_balances(fx->lg, "liabilities:wal", NULL, rows_cb, &rs, &err),
	             err);
	assert_int_equal(rs.n, 0);
}

static void journal_filters_by_date_range_and_account(void **state)
{
	struct fx *fx = *state;
	struct jlist l;
	lg_error err;
	char line[512];

	post_ok(fx->lg, tx2(line, sizeof line, "n1", "2026-11-01", "assets:bank",
	                    "equity:capital", "1.00"),
	        1);
	post_ok(fx->lg, tx2(line, sizeof line, "n2", "2026-11-02", "assets:cash",
	                    "equity:capital", "1.00"),
	        1);
	post_ok(fx->lg, tx2(line, sizeof line, "n3", "2026-11-03", "assets:bank",
	                    "income:sales", "1.00"),
	        1);
	memset(&l, 0, sizeof l);
	lg_error_init(&err);
	assert_lg_ok(ledger_journal(fx->lg, "2026-11-02", "2026-11-03", NULL, journal_cb, &l,
	                            &err),
	             err);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.row[0].id, "n2");
	assert_string_equal(l.row[1].id, "n3");
	/* Filtering by account still yields every posting of a transaction. */
	memset(&l, 0, sizeof l);
	assert_lg_ok(ledger_journal(fx->lg, NULL, NULL, "assets:bank", journal_cb, &l, &err),
	             err);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.row[0].id, "n1");
	assert_int_equal(l.row[0].n, 2);
	assert_string_equal(l.row[1].id, "n3");
	memset(&l, 0, sizeof l);
	assert_lg_ok(ledger_journal(fx->lg, NULL, NULL, "assets", journal_cb, &l, &err), err);
	assert_int_equal(l.n, 3);
	lg_error_init(&err);
	assert_lg_fails(ledger_journal(fx->lg, "2026-11", NULL, NULL, journal_cb, &l, &err),
	                LG_EUSAGE, err);
}

static void account_add_refuses_bad_codes_and_conflicting_duplicates(void **state)
{
	static const char *const bad_codes[] = {
		"Assets:bank", "assets::bank", ":assets", "assets:", "", "assets bank",
		"assets/bank", "assets:b\xc3\xa4nk",
	};
	struct fx *fx = *state;
	lg_error err;
	struct acct_seen s;

	for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
		lg_error_init(&err);
		if (ledger_account_add(fx->lg, bad_codes[i], "asset", "CNY", 0, NULL, &err) !=
		    LG_EDATA)
			fail_msg("account code '%s' accepted", bad_codes[i]);
	}
	lg_error_init(&err);
	assert_lg_fails(ledger_account_add(fx->lg, "assets:x", "wallet", "CNY", 0, NULL, &err),
	                LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_account_add(fx->lg, "assets:x", "asset", "XYZ", 0, NULL, &err),
	                LG_EDATA, err);
	/* The same account again is a no-op; a different one under the same
	 * code is a conflict, and so is re-adding a closed one. */
	lg_error_init(&err);
	assert_lg_ok(ledger_account_add(fx->lg, "assets:bank", "asset", "CNY", 0, NULL, &err),
	             err);
	assert_int_equal(account_exists(fx->lg, "assets:bank", &s), 1);
	lg_error_init(&err);
	assert_lg_fails(ledger_account_add(fx->lg, "assets:bank", "expense", "CNY", 0, NULL, &err),
	                LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_account_add(fx->lg, "assets:bank", "asset", "USD", 0, NULL, &err),
	                LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_fails(ledger_account_add(fx->lg, "assets:bank", "asset", "CNY",
	                                   LG_ACCOUNT_NO_OVERDRAFT, NULL, &err),
	                LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_ok(ledger_account_close(fx->lg, "assets:cash", &err), err);
	lg_error_init(&err);
	assert_lg_fails(ledger_account_add(fx->lg, "assets:cash", "asset", "CNY", 0, NULL, &err),
	                LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_ok(ledger_account_add(fx->lg, "assets:a-b_c.d:0", "asset", "JPY", 0,
	                                "{\"k\":1}", &err),
	             err);
	assert_int_equal(account_exists(fx->lg, "assets:a-b_c.d:0", &s), 1);
	assert_string_equal(s.type, "asset");
}

static void post_accepts_64_postings_and_refuses_65(void **state)
{
	struct fx *fx = *state;
	lg_error err;
	struct jlist l;
	char *line = malloc(16384);
	size_t n;

	assert_non_null(line);
	lg_error_init(&err);
	assert_lg_ok(ledger_template_add(fx->lg, "assets:t:*", "asset", "CNY", 0, &err), err);
	assert_lg_ok(ledger_template_add(fx->lg, "equity:t:*", "equity", "CNY", 0, &err), err);
	for (int total = 64; total <= 65; total++) {
		n = (size_t)snprintf(line, (16384), "{\"id\":\"many%d\",\"date\":\"2026-11-25\",\"postings\":[",
		                    total);
		for (int i = 0; i < total; i++) {
			/* 65 postings: the last one is a zero-sum pair split in three */
			const char *amt = i % 2 ? "-0.01" : "0.01";
			if (total == 65 && i == 64)
				amt = "0.01";
			if (total == 65 && i == 63)
				amt = "-0.02";
			n += (size_t)snprintf(line + n, (16384) - n, "%s{\"account\":\"%s:t:a%02d\",\"amount\":\"%s\"}",
			                     i ? "," : "", i % 2 ? "equity" : "assets", i, amt);
		}
		snprintf(line + n, (16384) - n, "]}\n");
		if (total == 64)
			post_ok(fx->lg, line, 1);
		else
			post_refused(fx->lg, line);
	}
	free(line);
	journal(fx->lg, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.row[0].n, 64);
	assert_amount_equal(posted_of(fx->lg, "assets:t:a00"), 1);
	assert_amount_equal(posted_of(fx->lg, "equity:t:a63"), -1);
	verify_ok(fx->lg, 1);
}

static void post_accepts_memo_of_1000_bytes_and_refuses_1001(void **state)
{
	struct fx *fx = *state;
	char line[2048], memo[LG_MEMO_MAX + 2];
	char *got[2] = { NULL, NULL };
	lg_error err;

	memset(memo, 'm', sizeof memo);
	memo[LG_MEMO_MAX] = '\0';
	snprintf(line, sizeof line, "{\"id\":\"m\",\"date\":\"2026-11-25\",\"memo\":\"%s\","
	         GOOD_POSTINGS "}\n", memo);
	post_ok(fx->lg, line, 1);
	lg_error_init(&err);
	assert_lg_ok(ledger_journal(fx->lg, NULL, NULL, NULL, memo_cb, got, &err), err);
	assert_int_equal(strlen(got[0]), LG_MEMO_MAX);
	free(got[0]);
	free(got[1]);
	memo[LG_MEMO_MAX] = 'm';
	memo[LG_MEMO_MAX + 1] = '\0';
	snprintf(line, sizeof line, "{\"id\":\"m2\",\"date\":\"2026-11-25\",\"memo\":\"%s\","
	         GOOD_POSTINGS "}\n", memo);
	post_refused(fx->lg, line);
	/* A reversal reason of 1000 bytes is the reversal's memo. */
	memo[LG_MEMO_MAX] = '\0';
	lg_error_init(&err);
	assert_lg_ok(ledger_reverse(fx->lg, "m", memo, NULL, &err), err);
	memo[LG_MEMO_MAX] = 'm';
	post_ok(fx->lg, "{\"id\":\"z\",\"date\":\"2026-11-25\"," GOOD_POSTINGS "}\n", 1);
	lg_error_init(&err);
	assert_lg_fails(ledger_reverse(fx->lg, "z", memo, NULL, &err), LG_EUSAGE, err);
	verify_ok(fx->lg, 3);
}

static void hold_partial_commit_of_a_three_posting_hold_refused(void **state)
{
	struct fx *fx = *state;
	lg_error err;

	post_ok(fx->lg,
	        "{\"id\":\"h3\",\"date\":\"2026-11-25\",\"pending\":true,\"postings\":["
	        "{\"account\":\"assets:bank\",\"amount\":\"3.00\"},"
	        "{\"account\":\"assets:cash\",\"amount\":\"-1.00\"},"
	        "{\"account\":\"income:sales\",\"amount\":\"-2.00\"}]}\n",
	        1);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h3", "1.00", NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_commit(fx->lg, "h3", NULL, NULL, &err), err);
	assert_amount_equal(posted_of(fx->lg, "assets:bank"), 300);
	assert_amount_equal(posted_of(fx->lg, "assets:cash"), -100);
	assert_amount_equal(posted_of(fx->lg, "income:sales"), -200);
	verify_ok(fx->lg, 2);
}

static void hold_expires_exactly_at_its_expiry_second(void **state)
{
	struct fx *fx = *state;
	ledger *before = NULL, *at = NULL;
	lg_error err;
	long n = -1;

	post_ok(fx->lg, FUND_ALICE_100, 1);
	post_ok(fx->lg, HOLD_ALICE_30("h1", ",\"timeout_s\":3600"), 1);
	lg_error_init(&err);
	assert_lg_ok(ledger_open(fx->path, 0, "2026-11-25T02:59:59Z", &before, &err), err);
	assert_lg_ok(ledger_hold_expire(before, &n, &err), err);
	assert_int_equal(n, 0);
	ledger_close(before);
	assert_lg_ok(ledger_open(fx->path, 0, "2026-11-25T03:00:00Z", &at, &err), err);
	n = -1;
	assert_lg_ok(ledger_hold_expire(at, &n, &err), err);
	assert_int_equal(n, 1);
	assert_amount_equal(balance(at, "liabilities:wallet:alice").pending, 0);
	ledger_close(at);
	verify_ok(fx->lg, 3);
}

static void hold_on_a_since_closed_account_can_be_voided_not_committed(void **state)
{
	struct fx *fx = *state;
	lg_error err;

	post_ok(fx->lg,
	        "{\"id\":\"h\",\"date\":\"2026-11-25\",\"pending\":true,\"postings\":["
	        "{\"account\":\"assets:cash\",\"amount\":\"1.00\"},"
	        "{\"account\":\"assets:bank\",\"amount\":\"-1.00\"}]}\n",
	        1);
	lg_error_init(&err);
	assert_lg_ok(ledger_account_close(fx->lg, "assets:cash", &err), err);
	lg_error_init(&err);
	assert_lg_fails(ledger_hold_commit(fx->lg, "h", NULL, NULL, &err), LG_EDATA, err);
	lg_error_init(&err);
	assert_lg_ok(ledger_hold_void(fx->lg, "h", NULL, &err), err);
	assert_amount_equal(balance(fx->lg, "assets:cash").pending, 0);
	assert_amount_equal(balance(fx->lg, "assets:bank").pending, 0);
	verify_ok(fx->lg, 2);
}

/* --- property: random balanced batches ---------------------------------- */

static uint64_t rng_state;
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static unsigned rng_below(unsigned n)
{
	return (unsigned)(rng_next() % n);
}

/* A non-zero amount of random magnitude: cents up to ~10^27 minor units,
 * so that sums leave 64 bits behind. */
static amount_minor_t rng_amount(void)
{
	amount_minor_t v;
	switch (rng_below(4)) {
	case 0:
		v = 1 + (amount_minor_t)rng_below(1000);
		break;
	case 1:
		v = 1 + (amount_minor_t)(rng_next() >> 20);
		break;
	case 2:
		v = 1 + (amount_minor_t)(rng_next() >> 1);
		break;
	default:
		v = (amount_minor_t)(rng_next() >> 1) * 1000000000 + 1 +
		    (amount_minor_t)rng_below(999);
		break;
	}
	return rng_below(2) ? v : -v;
}

/* Decimal text of v at `scale`, sometimes with trailing zeros beyond it. */
static void amount_text(amount_minor_t v, int scale, char *out, size_t cap)
{
	char digits[48], *d = digits;
	size_t len, pos = 0;

	i128_str(v, digits);
	if (*d == '-') {
		out[pos++] = '-';
		d++;
	}
	len = strlen(d);
	if ((int)len <= scale) {
		out[pos++] = '0';
		out[pos++] = '.';
		for (int k = 0; k < scale - (int)len; k++)
			out[pos++] = '0';
		memcpy(out + pos, d, len);
		pos += len;
	} else {
		memcpy(out + pos, d, len - (size_t)scale);
		pos += len - (size_t)scale;
		if (scale > 0) {
			out[pos++] = '.';
			memcpy(out + pos, d + len - scale, (size_t)scale);
			pos += (size_t)scale;
		}
	}
	if (rng_below(5) == 0) {
		if (scale == 0)
			out[pos++] = '.';
		out[pos++] = '0';
		out[pos++] = '0';
	}
	assert_true(pos < cap);
	out[pos] = '\0';
}

static const struct {
	const char *code, *asset;
	int scale;
} prop_accounts[] = {
	{ "assets:bank", "CNY", 2 },     { "assets:cash", "CNY", 2 },
	{ "equity:capital", "CNY", 2 },  { "expenses:fees", "CNY", 2 },
	{ "income:sales", "CNY", 2 },    { "liabilities:wallet:bob", "CNY", 2 },
	{ "assets:usdt", "USDT", 6 },    { "equity:usdt", "USDT", 6 },
};
#define N_PROP (sizeof prop_accounts / sizeof prop_accounts[0])

/* Appends to `buf` the postings of one asset group that sums to zero. */
static void add_group(char *buf, size_t cap, const char *asset, int *first,
                      amount_minor_t expect_delta[N_PROP], int unbalanced)
{
	size_t idx[N_PROP], n_idx = 0;
	amount_minor_t amt[6], sum = 0;
	unsigned k = 2 + rng_below(4);

	for (size_t i = 0; i < N_PROP; i++)
		if (strcmp(prop_accounts[i].asset, asset) == 0)
			idx[n_idx++] = i;
	for (;;) {
		sum = 0;
		for (unsigned i = 0; i + 1 < k; i++) {
			amt[i] = rng_amount();
			sum += amt[i];
		}
		if (sum != 0)
			break;
	}
	amt[k - 1] = -sum + (unbalanced ? 1 : 0);
	if (amt[k - 1] == 0)
		amt[k - 1] = 2; /* unbalanced either way, never zero */
	for (unsigned i = 0; i < k; i++) {
		/* repeats of one account inside a transaction are allowed */
		size_t a = idx[rng_below((unsigned)n_idx)];
		char text[80];
		size_t len = strlen(buf);
		amount_text(amt[i], prop_accounts[a].scale, text, sizeof text);
		if (rng_below(3) == 0) /* the optional, redundant "asset" field */
			snprintf(buf + len, cap - len,
			         "%s{\"account\":\"%s\",\"amount\":\"%s\",\"asset\":\"%s\"}",
			         *first ? "" : ",", prop_accounts[a].code, text, asset);
		else
			snprintf(buf + len, cap - len, "%s{\"account\":\"%s\",\"amount\":\"%s\"}",
			         *first ? "" : ",", prop_accounts[a].code, text);
		*first = 0;
		expect_delta[a] += amt[i];
	}
}

struct prop_bal {
	amount_minor_t posted[N_PROP];
	int seen[N_PROP];
	amount_minor_t rollup_cny_assets;
	int seen_rollup;
};

static int prop_bal_cb(void *ctx, const ledger_balance_row *r)
{
	struct prop_bal *p = ctx;
	if (r->is_rollup) {
		if (strcmp(r->account, "assets") == 0 && strcmp(r->asset, "CNY") == 0) {
			p->rollup_cny_assets = r->posted_minor;
			p->seen_rollup++;
		}
		return 0;
	}
	for (size_t i = 0; i < N_PROP; i++) {
		if (strcmp(r->account, prop_accounts[i].code) == 0) {
			assert_string_equal(r->asset, prop_accounts[i].asset);
			assert_int_equal(r->scale, prop_accounts[i].scale);
			assert_amount_equal(r->pending_minor, 0);
			p->posted[i] = r->posted_minor;
			p->seen[i]++;
		}
	}
	return 0;
}

#define TEXT_CAP (256 * 1024)

/* Appends src to the NUL-terminated dst of cap bytes; fails the test
 * rather than truncate. */
static void append(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(dst), m = strlen(src);
	assert_true(n + m < cap);
	memcpy(dst + n, src, m + 1);
}

static void random_balanced_batches_keep_balances_equal_to_posted_sums(void **state)
{
	struct fx *fx = *state;
	amount_minor_t expected[N_PROP] = { 0 };
	long long n_tx = 0;
	int refused_batches = 0, replays = 0;
	char *text = malloc(TEXT_CAP);
	char *line = malloc(8 * 1024);
	char last_line[8 * 1024] = "";

	assert_non_null(text);
	assert_non_null(line);
	rng_state = 0x5eed2026;
	for (int batch = 0; batch < 60; batch++) {
		amount_minor_t delta[N_PROP] = { 0 };
		unsigned lines = 1 + rng_below(8);
		int bad_at = rng_below(6) == 0 ? (int)rng_below(lines) : -1;
		int replay_at = last_line[0] && rng_below(4) == 0 ? (int)rng_below(lines) : -1;
		long fresh = 0;
		ledger_post_stats st;
		struct rejects rj;
		lg_error err;
		int rc;

		if (replay_at == bad_at)
			replay_at = -1;
		text[0] = '\0';
		for (unsigned l = 0; l < lines; l++) {
			int first = 1;
			if ((int)l == replay_at) {
				/* Same id, same content as an earlier line: a no-op. */
				append(text, TEXT_CAP, last_line);
				continue;
			}
			snprintf(line, 8 * 1024,
			         "{\"id\":\"p%d-%u\",\"date\":\"2026-11-%02u\",\"postings\":[",
			         batch, l, 1 + rng_below(25));
			switch (rng_below(3)) {
			case 0:
				add_group(line, 8 * 1024, "USDT", &first, delta, (int)l == bad_at);
				break;
			case 1: /* mixed: both assets, each balanced on its own */
				add_group(line, 8 * 1024, "CNY", &first, delta, (int)l == bad_at);
				add_group(line, 8 * 1024, "USDT", &first, delta, 0);
				break;
			default:
				add_group(line, 8 * 1024, "CNY", &first, delta, (int)l == bad_at);
				break;
			}
			append(line, 8 * 1024, "]}\n");
			append(text, TEXT_CAP, line);
			fresh++;
		}
		rc = post_rj(fx->lg, text, &st, &rj, &err);
		if (bad_at >= 0) {
			if (rc != LG_EDATA)
				fail_msg("batch %d: unbalanced line %d accepted (rc %d)", batch,
				         bad_at + 1, rc);
			assert_int_equal(rj.n, 1);
			assert_int_equal(rj.line[0], bad_at + 1);
			assert_int_equal(st.posted, 0);
			refused_batches++;
		} else {
			if (rc != LG_OK)
				fail_msg("batch %d refused (%d): %s / %s", batch, rc, err.msg,
				         rj.n ? rj.msg[0] : "-");
			assert_int_equal(st.posted, fresh);
			assert_int_equal(st.replayed, replay_at >= 0 ? 1 : 0);
			replays += replay_at >= 0;
			for (size_t i = 0; i < N_PROP; i++)
				expected[i] += delta[i];
			n_tx += fresh;
			/* Remember one line of this batch for a later replay. */
			{
				char *nl = strchr(text, '\n');
				size_t len = (size_t)(nl - text) + 1;
				if (len < sizeof last_line) {
					memcpy(last_line, text, len);
					last_line[len] = '\0';
				}
			}
		}

		{
			struct prop_bal got;
			amount_minor_t want_rollup = 0;
			memset(&got, 0, sizeof got);
			lg_error_init(&err);
			assert_lg_ok(ledger_balances(fx->lg, NULL, NULL, prop_bal_cb, &got, &err),
			             err);
			for (size_t i = 0; i < N_PROP; i++) {
				assert_int_equal(got.seen[i], 1);
				if (got.posted[i] != expected[i]) {
					char a[48], b[48];
					fail_msg("batch %d: %s is %s, postings sum to %s", batch,
					         prop_accounts[i].code, i128_str(got.posted[i], a),
					         i128_str(expected[i], b));
				}
				if (strncmp(prop_accounts[i].code, "assets:", 7) == 0 &&
				    strcmp(prop_accounts[i].asset, "CNY") == 0)
					want_rollup += expected[i];
			}
			assert_int_equal(got.seen_rollup, 1);
			assert_amount_equal(got.rollup_cny_assets, want_rollup);
		}
		verify_ok(fx->lg, n_tx);
	}
	/* Every asset's accounts still sum to zero in total. */
	{
		amount_minor_t cny = 0, usdt = 0;
		for (size_t i = 0; i < N_PROP; i++) {
			if (strcmp(prop_accounts[i].asset, "CNY") == 0)
				cny += expected[i];
			else
				usdt += expected[i];
		}
		assert_amount_equal(cny, 0);
		assert_amount_equal(usdt, 0);
	}
	assert_int_equal(tx_count(fx->lg), n_tx);
	/* The generator exercised what it meant to. */
	assert_true(refused_batches > 0);
	assert_true(replays > 0);
	assert_true(n_tx > 100);
	free(text);
	free(line);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static void day_number_counts_days_across_years_and_leap_days(void **state)
{
	(void)state;
	assert_int_equal(ledger_day_number("1970-01-01"), 0);
	assert_int_equal(ledger_day_number("1969-12-31"), -1);
	assert_int_equal(ledger_day_number("2026-11-25"), 20782);
	assert_int_equal(ledger_day_number("2024-03-01") - ledger_day_number("2024-02-28"), 2);
	assert_true(ledger_day_number("2026-02-29") == LONG_MIN);
	assert_true(ledger_day_number("2026-11-5") == LONG_MIN);
	assert_true(ledger_day_number(NULL) == LONG_MIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(day_number_counts_days_across_years_and_leap_days),
		T(verify_and_as_of_balances_recompute_sums_past_64_bits),
		T(verify_counts_an_open_hold_when_no_hold_has_ended),
		T(post_balanced_tx_updates_both_balances),
		T(post_balances_roll_up_under_prefix),
		T(post_refuses_unbalanced_tx_with_edata_and_posts_nothing),
		T(post_file_with_one_bad_line_posts_nothing_and_names_the_line),
		T(post_reports_every_bad_line_of_a_file),
		T(post_accepts_mixed_asset_tx_balanced_per_asset),
		T(post_refuses_mixed_asset_tx_unbalanced_in_one_asset),
		T(post_refuses_assets_that_only_cancel_across_assets),
		T(post_refuses_single_posting),
		T(post_refuses_zero_posting),
		T(post_refuses_posting_asset_differing_from_account_asset),
		T(post_refuses_more_decimals_than_account_asset_scale),
		T(post_accepts_trailing_zeros_beyond_asset_scale),
		T(post_refuses_amount_given_as_json_number),
		T(post_refuses_unknown_account),
		T(post_refuses_bad_header_fields),
		T(post_skips_blank_lines_and_accepts_crlf),
		T(template_opens_account_on_first_use),
		T(template_account_is_not_opened_when_the_file_is_refused),
		T(closed_account_refuses_postings),
		T(post_same_id_same_content_replays),
		T(post_replay_ignores_json_key_order_and_equivalent_amounts),
		T(post_replay_inside_one_file_counts_once),
		T(post_same_id_different_content_is_a_conflict),
		T(post_replay_is_a_no_op_even_when_it_would_now_overdraw),
		T(post_replay_after_its_period_closed_is_still_a_no_op),
		T(post_replay_after_account_closed_is_still_a_no_op),
		T(reverse_is_not_blocked_by_an_input_id_equal_to_its_reversal_id),
		T(hold_expire_sweep_is_not_blocked_by_an_input_id_ending_in_expire),
		T(post_refuses_meta_of_300_members_naming_the_member_limit),
		T(post_replay_of_a_hold_does_not_hold_twice),
		T(post_stores_escaped_unicode_memo_decoded),
		T(post_stores_meta_with_sorted_keys_and_no_spaces),
		T(post_refuses_malformed_json_lines),
		T(post_refuses_meta_nested_too_deep_or_too_big),
		T(post_accepts_meta_of_exactly_8000_bytes),
		T(post_accepts_id_of_128_bytes_and_refuses_129),
		T(no_overdraft_wallet_refuses_debit_of_150_after_credit_of_100),
		T(no_overdraft_is_checked_after_every_line_of_a_file),
		T(no_overdraft_counts_pending_holds_against_available),
		T(no_overdraft_ignores_incoming_holds_until_posted),
		T(hold_partial_commit_posts_20_and_releases_the_rest),
		T(hold_full_commit_posts_the_held_amounts),
		T(hold_commit_refuses_more_than_held),
		T(hold_commit_after_void_refused),
		T(hold_end_in_tx_joins_the_callers_transaction),
		T(hold_void_twice_refused),
		T(hold_end_of_unknown_or_non_hold_refused),
		T(hold_expires_under_a_later_clock_then_commit_refused),
		T(reverse_posts_mirror_and_second_reversal_refused),
		T(reverse_of_a_hold_refused),
		T(reverse_refused_when_it_would_overdraw),
		T(close_period_2026_10_refuses_oct_31_and_accepts_nov_1),
		T(verify_returns_ok_with_transaction_count),
		T(open_without_create_of_missing_file_is_enoinput),
		T(asset_scale_is_fixed_once_added),
		T(balances_as_of_a_date_count_only_what_was_dated_by_then),
		T(balances_under_a_prefix_roll_up_that_prefix_only),
		T(journal_filters_by_date_range_and_account),
		T(account_add_refuses_bad_codes_and_conflicting_duplicates),
		T(post_accepts_64_postings_and_refuses_65),
		T(post_accepts_memo_of_1000_bytes_and_refuses_1001),
		T(hold_partial_commit_of_a_three_posting_hold_refused),
		T(hold_expires_exactly_at_its_expiry_second),
		T(hold_on_a_since_closed_account_can_be_voided_not_committed),
		T(random_balanced_batches_keep_balances_equal_to_posted_sums),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
