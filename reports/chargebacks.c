/*
 * chargebacks.c - card disputes: posts what the dispute report says moved
 * (chargeback, fee, won reversal, lost write-off) and reports disputes by
 * stage, reason-code family, merchant ratio and deadline.
 *
 * The ledger is the only writer of the journal: postings go through
 * ledger_post_json and ledger_reverse, with ids derived from the dispute id
 * and stage so that a second run is a replay.
 */
#include "chargebacks.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ledger/ledger_sql.h"

#define LINES_MAX (1024L * 1024)   /* dispute lines read by one run */
#define REF_MAX 128                /* bytes of a dispute id, order id, code */
#define JSON_MAX 4096              /* one posted transaction */
#define DAY_NONE LONG_MIN

_Noreturn static void cb_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "clearbook: internal error: %s:%d: assertion '%s' failed\n",
	        file, line, what);
	abort();
}
#define CB_ASSERT(c) ((c) ? (void)0 : cb_assert_fail(#c, __FILE__, __LINE__))

/* --- configuration ----------------------------------------------------- */

static const char *const scheme_names[RPT_CB_SCHEMES] = { "visa", "mastercard",
                                                          "amex", "other" };

void rpt_cb_config_init(rpt_cb_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->channel, sizeof cfg->channel, "disputes");
	snprintf(cfg->clearing_account, sizeof cfg->clearing_account, "assets:clearing:card");
	snprintf(cfg->fee_account, sizeof cfg->fee_account, "assets:clearing:card");
	snprintf(cfg->own_fee_account, sizeof cfg->own_fee_account, "expense:chargebacks");
	snprintf(cfg->lost_account, sizeof cfg->lost_account, "merchant");
	cfg->deadline_days = 30;
	for (int i = 0; i < RPT_CB_SCHEMES; i++) {
		cfg->schemes[i].name = scheme_names[i];
		snprintf(cfg->schemes[i].fee, sizeof cfg->schemes[i].fee, "15.00");
	}
	/* Visa's dispute monitoring (VDMP standard): 100 and 0.9% a month;
	 * Mastercard's Excessive Chargeback Merchant: 100 and 1.5%. */
	cfg->schemes[0].count_threshold = 100;
	cfg->schemes[0].ratio_bps = 90;
	cfg->schemes[1].count_threshold = 100;
	cfg->schemes[1].ratio_bps = 150;
}

struct load {
	rpt_cb_config *cfg;
	lg_error *err;
	const char *path;
};

static int bad(struct load *l, const char *s, const char *k, const char *why)
{
	lg_error_set(l->err, LG_EUSAGE, "%s: [%s] %s: %s", l->path, s, k, why);
	return 0;
}

static int text_key(struct load *l, const char *s, const char *k, const char *v,
                    char *dst, size_t cap)
{
	if (!v[0] || strlen(v) >= cap)
		return bad(l, s, k, "empty or too long");
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

static int long_key(struct load *l, const char *s, const char *k, const char *v,
                    long max, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end || errno || n < 0 || n > max)
		return bad(l, s, k, "not a whole number in range");
	*out = n;
	return 1;
}

static int scheme_key(struct load *l, const char *s, rpt_cb_scheme *sc,
                      const char *k, const char *v)
{
	if (strcmp(k, "fee") == 0) {
		char why[64];
		amount_minor_t a;
		/* Checked against the asset's scale when posting; here only that it
		 * is a non-negative decimal. */
		if (amount_parse(v, strlen(v), AMOUNT_SCALE_MAX, &a, why, sizeof why) || a < 0)
			return bad(l, s, k, "not a non-negative decimal amount");
		return text_key(l, s, k, v, sc->fee, sizeof sc->fee);
	}
	if (strcmp(k, "count_threshold") == 0)
		return long_key(l, s, k, v, 1000000000L, &sc->count_threshold);
	if (strcmp(k, "ratio_bps") == 0)
		return long_key(l, s, k, v, 10000, &sc->ratio_bps);
	return bad(l, s, k, "unknown key");
}

static int handler(void *user, const char *s, const char *k, const char *v)
{
	struct load *l = user;
	rpt_cb_config *cfg = l->cfg;

	if (l->err->code)
		return 0;
	if (strcmp(s, "chargebacks") == 0) {
		long days;
		if (strcmp(k, "channel") == 0)
			return text_key(l, s, k, v, cfg->channel, sizeof cfg->channel);
		if (strcmp(k, "clearing_account") == 0)
			return text_key(l, s, k, v, cfg->clearing_account, sizeof cfg->clearing_account);
		if (strcmp(k, "fee_account") == 0)
			return text_key(l, s, k, v, cfg->fee_account, sizeof cfg->fee_account);
		if (strcmp(k, "own_fee_account") == 0)
			return text_key(l, s, k, v, cfg->own_fee_account, sizeof cfg->own_fee_account);
		if (strcmp(k, "lost_account") == 0)
			return text_key(l, s, k, v, cfg->lost_account, sizeof cfg->lost_account);
		if (strcmp(k, "deadline_days") == 0) {
			if (!long_key(l, s, k, v, 3660, &days))
				return 0;
			cfg->deadline_days = (int)days;
			return 1;
		}
		return bad(l, s, k, "unknown key");
	}
	if (strncmp(s, "scheme ", 7) == 0) {
		for (int i = 0; i < RPT_CB_SCHEMES; i++)
			if (strcmp(s + 7, cfg->schemes[i].name) == 0)
				return scheme_key(l, s, &cfg->schemes[i], k, v);
		return bad(l, s, k, "scheme is not visa, mastercard, amex or other");
	}
	return bad(l, s, k, "unknown section");
}

int rpt_cb_config_load(rpt_cb_config *cfg, const char *path, lg_error *err)
{
	struct load l = { cfg, err, path };
	FILE *fp = fopen(path, "r");
	int rc;

	if (!fp)
		return lg_error_set(err, LG_ENOINPUT, "%s: %s", path, strerror(errno));
	err->code = 0;
	rc = ini_parse_file(fp, handler, &l);
	fclose(fp);
	if (err->code)
		return err->code;
	if (rc != 0)
		return lg_error_set(err, LG_EUSAGE, "%s:%d: not an INI line", path, rc);
	return LG_OK;
}

/* --- dispute lines ----------------------------------------------------- */

enum stage { ST_RETRIEVAL, ST_CHARGEBACK, ST_REPRESENTMENT, ST_PREARB,
             ST_ARBITRATION, ST_WON, ST_LOST, ST_OTHER, ST_COUNT };
static const char *const stage_names[ST_COUNT] = { "retrieval", "chargeback",
	"representment", "pre-arbitration", "arbitration", "won", "lost", "other" };

/* Adyen's record types (importers/profiles/disputes.ini) to stages. */
static enum stage stage_of(const char *record_type)
{
	static const struct { const char *type; enum stage st; } map[] = {
		{ "RequestForInformation", ST_RETRIEVAL },
		{ "NotificationOfFraud", ST_RETRIEVAL },
		{ "Chargeback", ST_CHARGEBACK },
		{ "InformationSupplied", ST_REPRESENTMENT },
		{ "DisputeDefended", ST_REPRESENTMENT },
		{ "SecondChargeback", ST_PREARB },
		{ "PreArbitration", ST_PREARB },
		{ "Arbitration", ST_ARBITRATION },
		{ "ChargebackReversed", ST_WON },
		{ "SecondChargebackReversed", ST_WON },
		{ "PreArbitrationWon", ST_WON },
		{ "ArbitrationWon", ST_WON },
		{ "PreArbitrationLost", ST_LOST },
		{ "ArbitrationLost", ST_LOST },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].type, record_type) == 0)
			return map[i].st;
	return ST_OTHER;
}

struct line {
	long long id;
	char dispute[REF_MAX], order[REF_MAX], type[REF_MAX], reason[REF_MAX];
	char date[11], deadline[11];
	char asset[LG_ASSET_CODE_MAX];
	const char *scheme;          /* static */
	int scale;
	enum stage st;
	int is_last;                 /* the dispute's latest line (report) */
	int is_first_in_period;      /* its first line booked in the period */
	amount_minor_t amount_minor; /* > 0: the disputed amount */
};

struct lines {
	struct line *v;
	size_t n, cap;
};

static void cpy(char *dst, size_t cap, const unsigned char *src)
{
	snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

/* The scheme from the payment method, else from the reason code's shape. */
static const char *scheme_of(const char *method, const char *reason)
{
	if (strncmp(method, "visa", 4) == 0)
		return "visa";
	if (strncmp(method, "mc", 2) == 0 || strncmp(method, "mastercard", 10) == 0 ||
	    strncmp(method, "maestro", 7) == 0)
		return "mastercard";
	if (strncmp(method, "amex", 4) == 0)
		return "amex";
	if (strchr(reason, '.'))
		return "visa";
	if (strncmp(reason, "48", 2) == 0)
		return "mastercard";
	return "other";
}

static int lines_push(struct lines *ls, const struct line *ln, lg_error *err)
{
	if (ls->n == ls->cap) {
		size_t nc = ls->cap ? ls->cap * 2 : 64;
		struct line *g;
		if (nc > (size_t)LINES_MAX)
			return lg_error_set(err, LG_EDATA, "more than %ld dispute lines", LINES_MAX);
		g = realloc(ls->v, nc * sizeof *g);
		if (!g)
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
		ls->v = g;
		ls->cap = nc;
	}
	ls->v[ls->n++] = *ln;
	return LG_OK;
}

static int sql_fail(ledger *lg, lg_error *err, const char *what)
{
	return lg_error_set(err, LG_EINTERNAL, "%s: %s", what,
	                    sqlite3_errmsg(ledger_sqlite(lg)));
}

/* Every line of the channel booked on or before `to`, in booking order. */
static int lines_load(ledger *lg, const char *channel, const char *to,
                      struct lines *ls, lg_error *err)
{
	static const char sql[] =
		"SELECT l.id, l.entry_ref, l.booking_date, l.value_date, l.amount, l.asset,"
		" a.scale, l.end_to_end_id, l.status, COALESCE(l.return_reason, l.tx_code),"
		" json_extract(r.raw, '$.\"Payment Method\"'),"
		" json_extract(r.raw, '$.\"Dispute Amount\"')"
		" FROM statement_lines l JOIN assets a ON a.code = l.asset"
		" LEFT JOIN statement_lines_raw r ON r.id = l.id"
		" WHERE l.channel = ?1 AND l.booking_date <= ?2 AND l.is_batch = 0"
		" ORDER BY l.booking_date, l.id";
	sqlite3_stmt *st = NULL;
	int step, rc = LG_OK;

	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK) {
		/* No import yet: the staging tables do not exist. */
		if (strstr(sqlite3_errmsg(ledger_sqlite(lg)), "no such table"))
			return LG_OK;
		return sql_fail(lg, err, "reading dispute lines");
	}
	sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct line ln;
		const unsigned char *raw_amount = sqlite3_column_text(st, 11);
		char why[64], method[32];
		memset(&ln, 0, sizeof ln);
		ln.id = sqlite3_column_int64(st, 0);
		cpy(ln.dispute, sizeof ln.dispute, sqlite3_column_text(st, 1));
		cpy(ln.date, sizeof ln.date, sqlite3_column_text(st, 2));
		cpy(ln.deadline, sizeof ln.deadline, sqlite3_column_text(st, 3));
		CB_ASSERT(sqlite3_column_bytes(st, 4) == AMOUNT_BLOB_BYTES);
		ln.amount_minor = amount_decode(sqlite3_column_blob(st, 4));
		if (ln.amount_minor < 0)
			ln.amount_minor = -ln.amount_minor;
		cpy(ln.asset, sizeof ln.asset, sqlite3_column_text(st, 5));
		ln.scale = sqlite3_column_int(st, 6);
		cpy(ln.order, sizeof ln.order, sqlite3_column_text(st, 7));
		cpy(ln.type, sizeof ln.type, sqlite3_column_text(st, 8));
		cpy(ln.reason, sizeof ln.reason, sqlite3_column_text(st, 9));
		cpy(method, sizeof method, sqlite3_column_text(st, 10));
		/* A retrieval request moves nothing and is staged at 0: the report
		 * still shows what is disputed. */
		if (ln.amount_minor == 0 && raw_amount &&
		    amount_parse((const char *)raw_amount, strlen((const char *)raw_amount),
		                 ln.scale, &ln.amount_minor, why, sizeof why) != 0)
			ln.amount_minor = 0;
		if (ln.amount_minor < 0)
			ln.amount_minor = -ln.amount_minor;
		ln.scheme = scheme_of(method, ln.reason);
		ln.st = stage_of(ln.type);
		rc = lines_push(ls, &ln, err);
	}
	if (!rc && step != SQLITE_DONE)
		rc = sql_fail(lg, err, "reading dispute lines");
	sqlite3_finalize(st);
	return rc;
}

/* The account the sale credited: the merchant's payable, else the wallet a
 * card top-up credited.  *merchant gets "mNNN" or "self" (our own sale). */
static int party_of(ledger *lg, const char *order, char *account, size_t cap,
                    char *merchant, size_t mcap, lg_error *err)
{
	static const char sql[] =
		"SELECT a.code FROM transactions t JOIN postings p ON p.tx_seq = t.seq"
		" JOIN accounts a ON a.id = p.account_id WHERE t.id = ?1"
		" AND (a.code LIKE 'liabilities:merchants:%:payable'"
		" OR a.code LIKE 'liabilities:wallets:%')"
		" ORDER BY a.code LIKE 'liabilities:merchants:%' DESC, p.idx LIMIT 1";
	sqlite3_stmt *st = NULL;
	int step, rc = LG_OK;

	account[0] = merchant[0] = '\0';
	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(lg, err, "finding a disputed sale");
	sqlite3_bind_text(st, 1, order, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		snprintf(account, cap, "%s", code);
		if (strncmp(code, "liabilities:merchants:", 22) == 0)
			snprintf(merchant, mcap, "%.*s", (int)strcspn(code + 22, ":"), code + 22);
		else
			snprintf(merchant, mcap, "self");
	} else if (step == SQLITE_DONE) {
		rc = lg_error_set(err, LG_EDATA, "the disputed sale '%s' is not in the "
		                  "journal", order);
	} else {
		rc = sql_fail(lg, err, "finding a disputed sale");
	}
	sqlite3_finalize(st);
	return rc;
}

/* --- postings ---------------------------------------------------------- */

static const rpt_cb_scheme *scheme_cfg(const rpt_cb_config *cfg, const char *name)
{
	for (int i = 0; i < RPT_CB_SCHEMES; i++)
		if (strcmp(cfg->schemes[i].name, name) == 0)
			return &cfg->schemes[i];
	return &cfg->schemes[RPT_CB_SCHEMES - 1];
}

/* JSON string body of s (quotes and backslashes escaped, controls dropped). */
static void json_str(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s && n + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		if ((unsigned char)*s >= 0x20)
			out[n++] = *s;
	}
	out[n] = '\0';
}

/* Posts one two-posting transaction: debit `dr`, credit `cr`. */
static int post_one(ledger *lg, const struct line *ln, const char *id_suffix,
                    const char *memo, const char *dr, const char *cr,
                    amount_minor_t amount, const char *merchant,
                    rpt_cb_apply_stats *stats, lg_error *err)
{
	char json[JSON_MAX], amt[AMOUNT_TEXT_MAX], d[REF_MAX * 2], o[REF_MAX * 2];
	char r[REF_MAX * 2];
	int replayed = 0, n, rc;

	CB_ASSERT(amount > 0);
	amount_format(amount, ln->scale, amt, sizeof amt);
	json_str(d, sizeof d, ln->dispute);
	json_str(o, sizeof o, ln->order);
	json_str(r, sizeof r, ln->reason);
	n = snprintf(json, sizeof json,
	             "{\"id\":\"cb:%s:%s\",\"date\":\"%s\",\"memo\":\"%s\","
	             "\"postings\":[{\"account\":\"%s\",\"amount\":\"%s\"},"
	             "{\"account\":\"%s\",\"amount\":\"-%s\"}],"
	             "\"meta\":{\"type\":\"dispute\",\"dispute\":\"%s\",\"stage\":\"%s\","
	             "\"order\":\"%s\",\"merchant\":\"%s\",\"scheme\":\"%s\","
	             "\"reason_code\":\"%s\"}}",
	             d, id_suffix, ln->date, memo, dr, amt, cr, amt, d, ln->type, o,
	             merchant, ln->scheme, r);
	if (n < 0 || (size_t)n >= sizeof json)
		return lg_error_set(err, LG_EDATA, "dispute '%s': transaction too long",
		                    ln->dispute);
	rc = ledger_post_json(lg, json, (size_t)n, &replayed, NULL, err);
	if (!rc) {
		if (replayed)
			stats->replayed++;
		else
			stats->posted++;
	}
	return rc;
}

static int tx_state(ledger *lg, const char *id, long long *seq, int *reversed,
                    lg_error *err);

static int post_fee(ledger *lg, const rpt_cb_config *cfg, const struct line *ln,
                    const char *party, const char *merchant,
                    rpt_cb_apply_stats *stats, lg_error *err)
{
	const rpt_cb_scheme *sc = scheme_cfg(cfg, ln->scheme);
	amount_minor_t fee;
	char why[64];

	if (amount_parse(sc->fee, strlen(sc->fee), ln->scale, &fee, why, sizeof why))
		return lg_error_set(err, LG_EUSAGE, "the %s dispute fee '%s' has more "
		                    "decimals than %s", sc->name, sc->fee, ln->asset);
	if (fee == 0)
		return LG_OK;
	{
		char id[REF_MAX + 16];
		long long seq;
		int reversed, rc;
		snprintf(id, sizeof id, "cb:%s:fee", ln->dispute);
		rc = tx_state(lg, id, &seq, &reversed, err);
		if (rc || seq)
			return rc; /* charged at the dispute's first money stage */
	}
	/* The fee is charged whatever the outcome, once per dispute; on our own
	 * sales (wallet top-ups) it is our expense. */
	return post_one(lg, ln, "fee", "dispute fee",
	                strcmp(merchant, "self") == 0 ? cfg->own_fee_account : party,
	                cfg->fee_account, fee, merchant, stats, err);
}

/* Whether transaction `id` exists (*seq) and is reversed. */
static int tx_state(ledger *lg, const char *id, long long *seq, int *reversed,
                    lg_error *err)
{
	static const char sql[] =
		"SELECT t.seq, EXISTS(SELECT 1 FROM transactions r WHERE r.ref_seq = t.seq"
		" AND r.kind = 'reverse') FROM transactions t WHERE t.id = ?1";
	sqlite3_stmt *st = NULL;
	int step, rc = LG_OK;

	*seq = 0;
	*reversed = 0;
	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(lg, err, "reading a dispute posting");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*reversed = sqlite3_column_int(st, 1);
	} else if (step != SQLITE_DONE) {
		rc = sql_fail(lg, err, "reading a dispute posting");
	}
	sqlite3_finalize(st);
	return rc;
}

/* A won stage reverses the money-out posting it undoes: the second
 * chargeback's for SecondChargebackReversed, else the latest of the
 * dispute's (second chargeback, then first). */
static int apply_won(ledger *lg, const struct line *ln, rpt_cb_apply_stats *stats,
                     lg_error *err)
{
	char first[REF_MAX + 32], second[REF_MAX + 32], reason[2 * REF_MAX + 32];
	const char *target = NULL;
	long long seq1, seq2;
	int rev1, rev2, rc;

	snprintf(first, sizeof first, "cb:%s:chargeback", ln->dispute);
	snprintf(second, sizeof second, "cb:%s:lost-secondchargeback", ln->dispute);
	rc = tx_state(lg, first, &seq1, &rev1, err);
	if (!rc)
		rc = tx_state(lg, second, &seq2, &rev2, err);
	if (rc)
		return rc;
	if (strcmp(ln->type, "ChargebackReversed") == 0)
		target = seq1 ? first : NULL;
	else
		target = seq2 ? second : seq1 ? first : NULL;
	if (!target)
		return lg_error_set(err, LG_EDATA, "dispute '%s': %s but no chargeback "
		                    "was posted to reverse", ln->dispute, ln->type);
	if ((target == first && rev1) || (target == second && rev2)) {
		stats->replayed++;
		return LG_OK;
	}
	snprintf(reason, sizeof reason, "dispute %s won: %s", ln->dispute, ln->type);
	rc = ledger_reverse(lg, target, reason, ln->date, err);
	if (!rc)
		stats->posted++;
	return rc;
}

/* A money-moving stage in one database transaction with its fee. */
static int apply_out(ledger *lg, const rpt_cb_config *cfg, const struct line *ln,
                     rpt_cb_apply_stats *stats, lg_error *err)
{
	char party[LG_CODE_MAX], merchant[REF_MAX], suffix[REF_MAX + 8];
	const char *dr;
	int rc = party_of(lg, ln->order, party, sizeof party, merchant, sizeof merchant, err);

	if (rc)
		return rc;
	if (ln->amount_minor <= 0)
		return lg_error_set(err, LG_EDATA, "dispute '%s': %s of no amount",
		                    ln->dispute, ln->type);
	rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	if (ln->st == ST_CHARGEBACK) {
		rc = post_one(lg, ln, "chargeback", "chargeback", party,
		              cfg->clearing_account, ln->amount_minor, merchant, stats, err);
	} else {
		char lower[REF_MAX];
		size_t i;
		for (i = 0; ln->type[i] && i + 1 < sizeof lower; i++)
			lower[i] = (char)(ln->type[i] >= 'A' && ln->type[i] <= 'Z'
			                  ? ln->type[i] - 'A' + 'a' : ln->type[i]);
		lower[i] = '\0';
		snprintf(suffix, sizeof suffix, "lost-%s", lower);
		dr = strcmp(cfg->lost_account, "merchant") == 0 ? party : cfg->lost_account;
		rc = post_one(lg, ln, suffix, "dispute lost", dr, cfg->clearing_account,
		              ln->amount_minor, merchant, stats, err);
	}
	if (!rc)
		rc = post_fee(lg, cfg, ln, party, merchant, stats, err);
	if (rc) {
		ledger_rollback(lg);
		return rc;
	}
	return ledger_commit(lg, err);
}

static int apply_line(ledger *lg, const rpt_cb_config *cfg, const struct line *ln,
                      rpt_cb_apply_stats *stats, lg_error *err)
{
	/* SecondChargeback takes the money again after a won representment;
	 * PreArbitrationLost likewise: both are "lost" postings. */
	int out = ln->st == ST_CHARGEBACK || strcmp(ln->type, "SecondChargeback") == 0 ||
	          ln->st == ST_LOST;

	if (out)
		return apply_out(lg, cfg, ln, stats, err);
	if (ln->st == ST_WON)
		return apply_won(lg, ln, stats, err);
	stats->no_money++;
	return LG_OK;
}

int rpt_cb_apply(ledger *lg, const rpt_cb_config *cfg, const char *date,
                 rpt_cb_apply_stats *stats, rpt_cb_problem_fn problem,
                 void *ctx, lg_error *err)
{
	struct lines ls = { NULL, 0, 0 };
	int rc;

	memset(stats, 0, sizeof *stats);
	if (!date || !ledger_date_valid(date))
		return lg_error_set(err, LG_EUSAGE, "date '%s' is not YYYY-MM-DD",
		                    date ? date : "");
	rc = lines_load(lg, cfg->channel, date, &ls, err);
	for (size_t i = 0; i < ls.n && !rc; i++) {
		lg_error e;
		int r;
		lg_error_init(&e);
		stats->lines++;
		r = apply_line(lg, cfg, &ls.v[i], stats, &e);
		if (r == LG_EDATA || r == LG_ENOINPUT || r == LG_EUSAGE) {
			stats->failed++;
			if (problem)
				problem(ctx, ls.v[i].dispute, &e);
		} else if (r) {
			*err = e;
			rc = r;
		}
	}
	free(ls.v);
	if (!rc && stats->failed)
		rc = lg_error_set(err, LG_EDATA, "%ld dispute line(s) could not be posted",
		                  stats->failed);
	return rc;
}

/* --- the report -------------------------------------------------------- */

const char *rpt_cb_reason_family(const char *scheme, const char *code)
{
	/* Visa's dispute categories: 10 fraud, 11 authorisation, 12 processing
	 * errors, 13 consumer disputes. */
	if (strcmp(scheme, "visa") == 0) {
		if (strncmp(code, "10.", 3) == 0 || strcmp(code, "10") == 0)
			return "fraud";
		if (strncmp(code, "11.", 3) == 0 || strcmp(code, "11") == 0)
			return "authorisation";
		if (strncmp(code, "12.", 3) == 0 || strcmp(code, "12") == 0)
			return "processing error";
		if (strncmp(code, "13.", 3) == 0 || strcmp(code, "13") == 0)
			return "consumer dispute";
		return "other";
	}
	if (strcmp(scheme, "mastercard") == 0) {
		static const struct { const char *code, *family; } mc[] = {
			{ "4837", "fraud" }, { "4840", "fraud" }, { "4849", "fraud" },
			{ "4863", "fraud" }, { "4870", "fraud" }, { "4871", "fraud" },
			{ "4807", "authorisation" }, { "4808", "authorisation" },
			{ "4812", "authorisation" },
			{ "4831", "point-of-interaction error" },
			{ "4834", "point-of-interaction error" },
			{ "4842", "point-of-interaction error" },
			{ "4846", "point-of-interaction error" },
			{ "4841", "cardholder dispute" }, { "4853", "cardholder dispute" },
			{ "4854", "cardholder dispute" }, { "4855", "cardholder dispute" },
			{ "4859", "cardholder dispute" }, { "4860", "cardholder dispute" },
		};
		for (size_t i = 0; i < sizeof mc / sizeof mc[0]; i++)
			if (strcmp(code, mc[i].code) == 0)
				return mc[i].family;
	}
	return "other";
}

struct agg {            /* one figure: a count and an amount */
	char key[REF_MAX], scheme[16], asset[LG_ASSET_CODE_MAX];
	int scale;
	long count;
	amount_minor_t amount_minor;
};

struct aggs {
	struct agg *v;
	size_t n, cap;
};

static int agg_add(struct aggs *a, const char *key, const char *scheme,
                   const struct line *ln, lg_error *err)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, key) == 0 && strcmp(a->v[i].scheme, scheme) == 0 &&
		    strcmp(a->v[i].asset, ln->asset) == 0) {
			a->v[i].count++;
			if (amount_add(a->v[i].amount_minor, ln->amount_minor, &a->v[i].amount_minor))
				return lg_error_set(err, LG_EDATA, "dispute amounts overflow");
			return LG_OK;
		}
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		struct agg *g;
		if (nc > (size_t)LINES_MAX)
			return lg_error_set(err, LG_EDATA, "too many report rows");
		g = realloc(a->v, nc * sizeof *g);
		if (!g)
			return lg_error_set(err, LG_EINTERNAL, "out of memory");
		a->v = g;
		a->cap = nc;
	}
	memset(&a->v[a->n], 0, sizeof a->v[a->n]);
	snprintf(a->v[a->n].key, sizeof a->v[a->n].key, "%s", key);
	snprintf(a->v[a->n].scheme, sizeof a->v[a->n].scheme, "%s", scheme);
	snprintf(a->v[a->n].asset, sizeof a->v[a->n].asset, "%s", ln->asset);
	a->v[a->n].scale = ln->scale;
	a->v[a->n].count = 1;
	a->v[a->n].amount_minor = ln->amount_minor;
	a->n++;
	return LG_OK;
}

static int agg_cmp(const void *x, const void *y)
{
	const struct agg *a = x, *b = y;
	int c = strcmp(a->key, b->key);

	if (!c)
		c = strcmp(a->scheme, b->scheme);
	if (!c)
		c = strcmp(a->asset, b->asset);
	return c;
}

static void row_init(rpt_cb_row *r, const char *section)
{
	memset(r, 0, sizeof *r);
	r->section = section;
	r->key = r->scheme = r->asset = r->amount = r->threshold = r->flag = "";
	r->deadline = r->detail = "";
	r->transactions = -1;
	r->ratio_bps = -1;
}

/* Card sales of a merchant ("self": card sales without a merchant) in a
 * period: the base of the chargeback ratio. */
static int card_sales(ledger *lg, const char *merchant, const char *from,
                      const char *to, long *out, lg_error *err)
{
	static const char sql[] =
		"SELECT count(*) FROM transactions WHERE date BETWEEN ?1 AND ?2"
		" AND kind = 'posted' AND json_extract(meta, '$.channel') = 'card'"
		" AND (json_extract(meta, '$.merchant') = ?3"
		"  OR (?3 = 'self' AND json_extract(meta, '$.merchant') IS NULL))";
	sqlite3_stmt *st = NULL;
	int rc = LG_OK;

	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(lg, err, "counting card sales");
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, merchant, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	else
		rc = sql_fail(lg, err, "counting card sales");
	sqlite3_finalize(st);
	return rc;
}

static void civil(long z, char out[11])
{
	long era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	{
		char tmp[64];
		snprintf(tmp, sizeof tmp, "%04ld-%02ld-%02ld", y % 10000, m % 100, d % 100);
		memcpy(out, tmp, 10);
		out[10] = '\0';
	}
}

static int emit_aggs(struct aggs *a, const char *section, rpt_cb_row_fn fn, void *ctx)
{
	if (a->n > 1)
		qsort(a->v, a->n, sizeof *a->v, agg_cmp);
	for (size_t i = 0; i < a->n; i++) {
		char amt[AMOUNT_TEXT_MAX];
		rpt_cb_row r;
		int rc;
		row_init(&r, section);
		amount_format(a->v[i].amount_minor, a->v[i].scale, amt, sizeof amt);
		r.key = a->v[i].key;
		r.scheme = a->v[i].scheme;
		r.asset = a->v[i].asset;
		r.count = a->v[i].count;
		r.amount = amt;
		rc = fn(ctx, &r);
		if (rc)
			return rc;
	}
	return LG_OK;
}

static int emit_stages(const struct lines *ls, const char *from, const char *to,
                       rpt_cb_row_fn fn, void *ctx, lg_error *err)
{
	struct aggs a = { NULL, 0, 0 };
	int rc = LG_OK;

	for (size_t i = 0; i < ls->n && !rc; i++) {
		const struct line *ln = &ls->v[i];
		char key[32];
		if (strcmp(ln->date, from) < 0 || strcmp(ln->date, to) > 0)
			continue;
		/* The stage's position keeps the lifecycle order in the sort. */
		snprintf(key, sizeof key, "%d %s", (int)ln->st, stage_names[ln->st]);
		rc = agg_add(&a, key, "", ln, err);
	}
	if (!rc) {
		if (a.n > 1)
			qsort(a.v, a.n, sizeof *a.v, agg_cmp);
		for (size_t i = 0; i < a.n; i++)
			memmove(a.v[i].key, strchr(a.v[i].key, ' ') + 1,
			        strlen(strchr(a.v[i].key, ' ') + 1) + 1);
		/* Already sorted by lifecycle; emit without re-sorting. */
		for (size_t i = 0; i < a.n && !rc; i++) {
			char amt[AMOUNT_TEXT_MAX];
			rpt_cb_row r;
			row_init(&r, "stage");
			amount_format(a.v[i].amount_minor, a.v[i].scale, amt, sizeof amt);
			r.key = a.v[i].key;
			r.asset = a.v[i].asset;
			r.count = a.v[i].count;
			r.amount = amt;
			rc = fn(ctx, &r);
		}
	}
	free(a.v);
	return rc;
}

/* Disputes by reason family: each dispute once, at its first line in the
 * period. */
static int emit_reasons(const struct lines *ls, const char *to,
                        rpt_cb_row_fn fn, void *ctx, lg_error *err)
{
	struct aggs a = { NULL, 0, 0 };
	int rc = LG_OK;

	for (size_t i = 0; i < ls->n && !rc; i++) {
		const struct line *ln = &ls->v[i];
		if (strcmp(ln->date, to) > 0 || !ln->is_first_in_period)
			continue;
		rc = agg_add(&a, rpt_cb_reason_family(ln->scheme, ln->reason),
		             ln->scheme, ln, err);
	}
	if (!rc)
		rc = emit_aggs(&a, "reason", fn, ctx);
	free(a.v);
	return rc;
}

static int emit_merchants(ledger *lg, const rpt_cb_config *cfg,
                          const struct lines *ls, const char *from, const char *to,
                          rpt_cb_row_fn fn, void *ctx, lg_error *err)
{
	struct aggs a = { NULL, 0, 0 };
	long span = ledger_day_number(to) - ledger_day_number(from) + 1;
	char prev_from[11], prev_to[11];
	int rc = LG_OK;

	civil(ledger_day_number(from) - span, prev_from);
	civil(ledger_day_number(from) - 1, prev_to);
	for (size_t i = 0; i < ls->n && !rc; i++) {
		const struct line *ln = &ls->v[i];
		char party[LG_CODE_MAX], merchant[REF_MAX];
		lg_error e;
		if (ln->st != ST_CHARGEBACK || strcmp(ln->date, from) < 0 ||
		    strcmp(ln->date, to) > 0)
			continue;
		lg_error_init(&e);
		if (party_of(lg, ln->order, party, sizeof party, merchant, sizeof merchant, &e))
			snprintf(merchant, sizeof merchant, "unknown");
		rc = agg_add(&a, merchant, ln->scheme, ln, err);
	}
	if (!rc)
		if (a.n > 1)
			qsort(a.v, a.n, sizeof *a.v, agg_cmp);
	for (size_t i = 0; i < a.n && !rc; i++) {
		const rpt_cb_scheme *sc = scheme_cfg(cfg, a.v[i].scheme);
		/* Mastercard: this month's chargebacks over last month's sales;
		 * Visa and the others: over the same period's. */
		int prev = strcmp(sc->name, "mastercard") == 0;
		char amt[AMOUNT_TEXT_MAX], thr[64], detail[128];
		long sales = 0;
		rpt_cb_row r;
		rc = card_sales(lg, a.v[i].key, prev ? prev_from : from, prev ? prev_to : to,
		                &sales, err);
		if (rc)
			break;
		row_init(&r, "merchant");
		amount_format(a.v[i].amount_minor, a.v[i].scale, amt, sizeof amt);
		r.key = a.v[i].key;
		r.scheme = a.v[i].scheme;
		r.asset = a.v[i].asset;
		r.count = a.v[i].count;
		r.amount = amt;
		r.transactions = sales;
		r.ratio_bps = sales > 0 ? a.v[i].count * 10000 / sales : -1;
		snprintf(detail, sizeof detail, "card sales %s..%s", prev ? prev_from : from,
		         prev ? prev_to : to);
		r.detail = detail;
		if (sc->ratio_bps > 0) {
			snprintf(thr, sizeof thr, "%ld / %ld bps", sc->count_threshold,
			         sc->ratio_bps);
			r.threshold = thr;
			/* The programmes need both: the count and the ratio. */
			if (a.v[i].count >= sc->count_threshold &&
			    (sales == 0 || r.ratio_bps >= sc->ratio_bps))
				r.flag = "over";
		}
		rc = fn(ctx, &r);
	}
	free(a.v);
	return rc;
}

static int cmp_deadline(const void *x, const void *y)
{
	const struct line *a = *(const struct line *const *)x;
	const struct line *b = *(const struct line *const *)y;
	int c = strcmp(a->deadline, b->deadline);

	return c ? c : strcmp(a->dispute, b->dispute);
}

/* Open disputes (latest stage not won or lost) with a deadline passed or
 * within deadline_days after `to`. */
static int emit_deadlines(const rpt_cb_config *cfg, const struct lines *ls,
                          const char *to, rpt_cb_row_fn fn, void *ctx, lg_error *err)
{
	const struct line **open = calloc(ls->n + 1, sizeof *open);
	long today = ledger_day_number(to);
	size_t n = 0;
	int rc = LG_OK;

	if (!open)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	for (size_t i = 0; i < ls->n; i++) {
		const struct line *ln = &ls->v[i];
		if (!ln->is_last || ln->st == ST_WON || ln->st == ST_LOST || ln->st == ST_OTHER ||
		    ledger_day_number(ln->deadline) == DAY_NONE ||
		    ledger_day_number(ln->deadline) - today > cfg->deadline_days)
			continue;
		open[n++] = ln;
	}
	if (n > 1)
		qsort(open, n, sizeof *open, cmp_deadline);
	for (size_t i = 0; i < n && !rc; i++) {
		char amt[AMOUNT_TEXT_MAX], detail[REF_MAX + 64];
		long left = ledger_day_number(open[i]->deadline) - today;
		rpt_cb_row r;
		row_init(&r, "deadline");
		amount_format(open[i]->amount_minor, open[i]->scale, amt, sizeof amt);
		snprintf(detail, sizeof detail, "%s, %ld day(s) left", open[i]->type, left);
		r.key = open[i]->dispute;
		r.scheme = open[i]->scheme;
		r.asset = open[i]->asset;
		r.count = 1;
		r.amount = amt;
		r.deadline = open[i]->deadline;
		r.flag = left < 0 ? "overdue" : "due";
		r.detail = detail;
		rc = fn(ctx, &r);
	}
	free(open);
	return rc;
}

static const struct lines *sort_lines; /* qsort has no context argument */

static int cmp_by_dispute(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = strcmp(sort_lines->v[a].dispute, sort_lines->v[b].dispute);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

/* Marks each dispute's latest line and its first line in the period, in
 * O(n log n): lines sorted by dispute, booking order kept within one. */
static int mark_lines(struct lines *ls, const char *from, lg_error *err)
{
	size_t *idx = malloc((ls->n + 1) * sizeof *idx);

	if (!idx)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	for (size_t i = 0; i < ls->n; i++)
		idx[i] = i;
	sort_lines = ls;
	if (ls->n > 1)
		qsort(idx, ls->n, sizeof *idx, cmp_by_dispute);
	sort_lines = NULL;
	for (size_t i = 0; i < ls->n;) {
		size_t j = i;
		int first_done = 0;
		while (j < ls->n && strcmp(ls->v[idx[j]].dispute, ls->v[idx[i]].dispute) == 0) {
			struct line *ln = &ls->v[idx[j]];
			if (!first_done && strcmp(ln->date, from) >= 0) {
				ln->is_first_in_period = 1;
				first_done = 1;
			}
			j++;
		}
		CB_ASSERT(j > i);
		ls->v[idx[j - 1]].is_last = 1;
		i = j;
	}
	free(idx);
	return LG_OK;
}

int rpt_cb_report(ledger *lg, const rpt_cb_config *cfg, const char *from,
                  const char *to, rpt_cb_row_fn fn, void *ctx, lg_error *err)
{
	struct lines ls = { NULL, 0, 0 };
	int rc;

	if (!from || !to || !ledger_date_valid(from) || !ledger_date_valid(to) ||
	    strcmp(from, to) > 0)
		return lg_error_set(err, LG_EUSAGE, "the period is not two dates in order");
	rc = lines_load(lg, cfg->channel, to, &ls, err);
	if (!rc)
		rc = mark_lines(&ls, from, err);
	if (!rc)
		rc = emit_stages(&ls, from, to, fn, ctx, err);
	if (!rc)
		rc = emit_reasons(&ls, to, fn, ctx, err);
	if (!rc)
		rc = emit_merchants(lg, cfg, &ls, from, to, fn, ctx, err);
	if (!rc)
		rc = emit_deadlines(cfg, &ls, to, fn, ctx, err);
	free(ls.v);
	return rc;
}

int rpt_cb_lines(ledger *lg, const rpt_cb_config *cfg, const char *from,
                 const char *to, rpt_cb_line_fn fn, void *ctx, lg_error *err)
{
	struct lines ls = { NULL, 0, 0 };
	int rc;

	if (!from || !to || !ledger_date_valid(from) || !ledger_date_valid(to) ||
	    strcmp(from, to) > 0)
		return lg_error_set(err, LG_EUSAGE, "the period is not two dates in order");
	rc = lines_load(lg, cfg->channel, to, &ls, err);
	if (!rc)
		rc = mark_lines(&ls, from, err);
	for (size_t i = 0; i < ls.n && !rc; i++) {
		const struct line *ln = &ls.v[i];
		char party[LG_CODE_MAX], merchant[REF_MAX], amt[AMOUNT_TEXT_MAX];
		rpt_cb_line_row r;
		lg_error e;
		if (strcmp(ln->date, from) < 0)
			continue;
		lg_error_init(&e);
		/* The same attribution as the merchant figures. */
		if (party_of(lg, ln->order, party, sizeof party, merchant, sizeof merchant, &e))
			snprintf(merchant, sizeof merchant, "unknown");
		amount_format(ln->amount_minor, ln->scale, amt, sizeof amt);
		r.dispute = ln->dispute;
		r.date = ln->date;
		r.stage = stage_names[ln->st];
		r.record_type = ln->type;
		r.scheme = ln->scheme;
		r.reason_code = ln->reason;
		r.reason_family = rpt_cb_reason_family(ln->scheme, ln->reason);
		r.merchant = merchant;
		r.order = ln->order;
		r.asset = ln->asset;
		r.amount = amt;
		r.deadline = ln->deadline;
		r.first_in_period = ln->is_first_in_period;
		rc = fn(ctx, &r);
	}
	free(ls.v);
	return rc;
}
