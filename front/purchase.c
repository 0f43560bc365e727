/*
 * purchase.c - POST /v1/purchases in the writer thread: the request's
 * checks, the risk rules, points and FX, and the ledger transaction it
 * becomes (front.h lists the accounts).  Runs inside the writer's open
 * group transaction.
 */
#include "writer_int.h"

#include <stdio.h>
#include <string.h>

/* --- purchases ---------------------------------------------------------- */

struct purchase_req {
	front_purchase p;
	int capture;
	long hold_timeout_s;
	const front_merchant *merchant;
	char wallet[LG_CODE_MAX + 1];       /* pays `cash` in p.asset */
	char pay_wallet[LG_CODE_MAX + 1];   /* FX: pays p.pay in p.pay_asset */
	char pts_wallet[LG_CODE_MAX + 1];   /* points: pays p.points */
	amount_minor_t cash, points_value;
	int pay_scale, pts_scale;
};

static int risk_refuse(front_writer *w, front_op *op, const front_purchase *p,
                       const char *code, const char *reason)
{
	char amt[AMOUNT_TEXT_MAX];
	const char *args[8];

	amount_format(p->amount, p->scale, amt, sizeof amt);
	args[0] = w->now_text;
	args[1] = p->merchant;
	args[2] = p->customer;
	args[3] = p->order_id;
	args[4] = p->asset;
	args[5] = amt;
	args[6] = code;
	args[7] = reason;
	if (front_exec(w, "INSERT INTO front_risk_refusals(at, merchant, customer,"
	              " order_id, asset, amount, reason, detail)"
	              " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)", args, 8, -1) != 0)
		return -1;
	front_op_error(op, 422, code, "%s", reason);
	return 1;
}

/* Sum and count of the customer's purchases in p's asset since `since`. */
static int velocity(front_writer *w, const front_purchase *p, long long since,
                    long long minute_since, amount_minor_t *sum, long *minute_n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*sum = 0;
	*minute_n = 0;
	if (!(st = front_prepare(&w->fdb, "SELECT amount_minor, created_epoch FROM"
	                       " front_purchases WHERE customer = ?1 AND created_epoch >= ?2"
	                       " AND asset = ?3 AND status <> 'voided' AND status <> 'expired'")))
		return -1;
	sqlite3_bind_text(st, 1, p->customer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_text(st, 3, p->asset, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		amount_minor_t v;
		char why[64];
		if (!t || amount_parse(t, strlen(t), 0, &v, why, sizeof why) != 0 ||
		    amount_add(*sum, v, sum) != 0) {
			rc = SQLITE_ERROR;
			break;
		}
		if (sqlite3_column_int64(st, 1) >= minute_since)
			(*minute_n)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Whether amount (minor units at scale) is above limit_text, a decimal
 * that need not be writable at that scale ("500.50" for a JPY purchase):
 * both are compared at scale 18, exactly.  An amount too large to scale
 * is above any limit, so a limit is never skipped. */
static int above_limit(amount_minor_t amount, int scale, const char *limit_text)
{
	amount_minor_t limit = 0, scaled = amount;
	char why[64];
	int parsed = amount_parse(limit_text, strlen(limit_text), AMOUNT_SCALE_MAX, &limit,
	                          why, sizeof why) == 0;

	FRONT_ASSERT(scale >= 0 && scale <= AMOUNT_SCALE_MAX);
	FRONT_ASSERT(parsed); /* checked when the configuration was loaded */
	for (int k = scale; k < AMOUNT_SCALE_MAX; k++)
		if (__builtin_mul_overflow(scaled, (amount_minor_t)10, &scaled))
			return 1;
	return scaled > limit;
}

/* Risk rules before posting: 0 pass, 1 refused (answered), -1 error. */
static int risk_check(front_writer *w, front_op *op, const struct purchase_req *r)
{
	const front_purchase *p = &r->p;
	const front_customer *c = front_config_customer(w->cfg, p->customer);
	const front_tier *t = front_config_tier(w->cfg, c ? c->tier : w->cfg->default_tier);
	amount_minor_t sum;
	long minute_n;

	if (r->merchant && r->merchant->blocked)
		return risk_refuse(w, op, p, "merchant_blocked", "the merchant is blocked");
	if (c && c->blocked)
		return risk_refuse(w, op, p, "customer_blocked", "the customer is blocked");
	if (!t)
		return 0;
	if (t->amount_max[0] && above_limit(p->amount, p->scale, t->amount_max))
		return risk_refuse(w, op, p, "risk_limit", "the amount is above the "
		                   "customer's per-purchase limit");
	if (!t->daily_amount_max[0] && t->per_minute_max <= 0)
		return 0;
	if (velocity(w, p, (long long)w->now - 86400, (long long)w->now - 60, &sum,
	             &minute_n) != 0)
		return -1;
	if (t->per_minute_max > 0 && minute_n >= t->per_minute_max)
		return risk_refuse(w, op, p, "risk_velocity", "too many purchases by this "
		                   "customer in the last minute");
	if (t->daily_amount_max[0] &&
	    (amount_add(sum, p->amount, &sum) != 0 ||
	     above_limit(sum, p->scale, t->daily_amount_max)))
		return risk_refuse(w, op, p, "risk_limit", "the customer's purchases of "
		                   "the last 24 hours would pass the daily limit");
	return 0;
}

static int load_quote(front_writer *w, front_op *op, const char *id,
                      struct purchase_req *r, front_rate_num *rate)
{
	sqlite3_stmt *st = NULL;
	int rc, res = 0;

	if (!(st = front_prepare(&w->fdb, "SELECT merchant, from_asset, to_asset, rate,"
	                       " expires_epoch FROM front_fx_quotes WHERE id = ?1")))
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		front_op_error(op, 404, "no_such_quote", "FX quote '%.40s' does not exist", id);
		res = 1;
	} else if (rc == SQLITE_ROW) {
		if (strcmp((const char *)sqlite3_column_text(st, 0), op->merchant) != 0) {
			front_op_error(op, 403, "not_yours", "FX quote '%.40s' belongs to another "
			         "merchant", id);
			res = 1;
		} else if (strcmp((const char *)sqlite3_column_text(st, 2), r->p.asset) != 0) {
			front_op_error(op, 400, "quote_mismatch", "FX quote '%.40s' is not a quote "
			         "into %s", id, r->p.asset);
			res = 1;
		} else if (sqlite3_column_int64(st, 4) < (long long)w->now) {
			front_op_error(op, 422, "quote_expired", "FX quote '%.40s' has expired", id);
			res = 1;
		} else {
			snprintf(r->p.pay_asset, sizeof r->p.pay_asset, "%s",
			         sqlite3_column_text(st, 1));
			if (front_rate_parse((const char *)sqlite3_column_text(st, 3), rate) != 0)
				res = -1;
		}
	} else {
		res = -1;
	}
	sqlite3_reset(st);
	return res;
}

/* FX: the customer pays amount / rate in the quote's `from` asset. */
static int apply_fx(front_writer *w, front_op *op, const char *quote_id,
                    struct purchase_req *r)
{
	front_rate_num rate;
	char base[LG_CODE_MAX + 1];
	lg_error err;
	int rc;

	snprintf(r->p.fx_quote_id, sizeof r->p.fx_quote_id, "%s", quote_id);
	rc = load_quote(w, op, quote_id, r, &rate);
	if (rc)
		return rc;
	lg_error_init(&err);
	if (front_asset_scale(w, r->p.pay_asset, &r->pay_scale) != 0 ||
	    front_convert(r->p.amount, r->p.scale, rate, 1, r->pay_scale, &r->p.pay) != 0 ||
	    r->p.pay <= 0) {
		front_op_error(op, 422, "fx_refused", "the amount cannot be converted at the "
		         "quote's rate");
		return 1;
	}
	snprintf(base, sizeof base, "liabilities:wallets:%s", r->p.customer);
	front_account_for(w->cfg, base, r->p.pay_asset, r->pay_wallet, sizeof r->pay_wallet);
	r->cash = 0;
	return 0;
}

static int apply_points(front_writer *w, front_op *op, json_t *pts,
                        struct purchase_req *r)
{
	static const char *const allowed[] = { "asset", "amount", NULL };
	const char *asset = front_jstr(pts, "asset"), *amount = front_jstr(pts, "amount");
	const front_points *cfg;
	front_rate_num value;
	char why[128], base[LG_CODE_MAX + 1];

	if (!json_is_object(pts) || front_unknown_field(pts, allowed) || !asset || !amount) {
		front_op_error(op, 400, "bad_request", "points: must be {\"asset\":..,\"amount\":..}");
		return 1;
	}
	cfg = front_config_points(w->cfg, asset);
	if (!cfg || strcmp(cfg->currency, r->p.asset) != 0) {
		front_op_error(op, 400, "bad_request", "points: '%.16s' are not points worth %s",
		         asset, r->p.asset);
		return 1;
	}
	if (front_parse_amount(w, amount, asset, &r->pts_scale, &r->p.points, why,
	                 sizeof why) != 0) {
		front_op_error(op, 400, "bad_amount", "points.amount: %s", why);
		return 1;
	}
	FRONT_ASSERT(front_rate_parse(cfg->value, &value) == 0);
	if (front_convert(r->p.points, r->pts_scale, value, 0, r->p.scale,
	                  &r->points_value) != 0 || r->points_value > r->p.amount) {
		front_op_error(op, 422, "points_exceed_amount", "the points are worth more than "
		         "the amount");
		return 1;
	}
	snprintf(r->p.points_asset, sizeof r->p.points_asset, "%s", asset);
	snprintf(base, sizeof base, "liabilities:wallets:%s", r->p.customer);
	front_account_for(w->cfg, base, asset, r->pts_wallet, sizeof r->pts_wallet);
	r->cash = r->p.amount - r->points_value;
	r->p.points_value = r->points_value;
	return 0;
}

/* Validates the body into r: 0 ok, 1 answered (4xx). */
static int purchase_parse(front_writer *w, front_op *op, struct purchase_req *r)
{
	static const char *const allowed[] = { "order_id", "customer", "merchant",
		"amount", "asset", "capture", "hold_timeout_s", "points", "fx_quote_id", NULL };
	json_t *b = op->body, *cap = json_object_get(b, "capture");
	json_t *tmo = json_object_get(b, "hold_timeout_s");
	const char *order = front_jstr(b, "order_id"), *cust = front_jstr(b, "customer");
	const char *merch = front_jstr(b, "merchant"), *amount = front_jstr(b, "amount");
	const char *asset = front_jstr(b, "asset"), *bad = front_unknown_field(b, allowed);
	char why[128], base[LG_CODE_MAX + 1];

	memset(r, 0, sizeof *r);
	if (bad) {
		front_op_error(op, 400, "bad_request", "unknown field '%.64s'", bad);
		return 1;
	}
	if (!order || !front_name_ok(order, FRONT_ORDER_ID_MAX + 1, 1) || !cust ||
	    !front_name_ok(cust, FRONT_NAME_MAX, 0) || !merch || !amount || !asset ||
	    (cap && !json_is_boolean(cap)) || (tmo && !json_is_integer(tmo))) {
		front_op_error(op, 400, "bad_request", "a purchase needs order_id (A-Z a-z 0-9 _ - "
		         "., at most 64), customer (a-z 0-9 _ - .), merchant, amount and "
		         "asset as strings; capture a boolean, hold_timeout_s an integer");
		return 1;
	}
	if (strcmp(merch, op->merchant) != 0) {
		front_op_error(op, 403, "not_yours", "this key belongs to merchant '%s'",
		         op->merchant);
		return 1;
	}
	snprintf(r->p.order_id, sizeof r->p.order_id, "%s", order);
	snprintf(r->p.customer, sizeof r->p.customer, "%s", cust);
	snprintf(r->p.merchant, sizeof r->p.merchant, "%s", merch);
	if (strlen(asset) > LG_ASSET_CODE_MAX ||
	    front_parse_amount(w, amount, asset, &r->p.scale, &r->p.amount, why, sizeof why)) {
		front_op_error(op, 400, "bad_amount", "amount '%.64s': %s", amount, why);
		return 1;
	}
	snprintf(r->p.asset, sizeof r->p.asset, "%s", asset);
	r->capture = cap ? json_is_true(cap) : 1;
	r->hold_timeout_s = tmo ? (long)json_integer_value(tmo) : w->cfg->hold_timeout_s;
	if (r->hold_timeout_s < 1 || r->hold_timeout_s > w->cfg->hold_timeout_max_s) {
		front_op_error(op, 400, "bad_request", "hold_timeout_s must lie in 1..%ld",
		         w->cfg->hold_timeout_max_s);
		return 1;
	}
	r->merchant = front_config_merchant(w->cfg, merch);
	snprintf(base, sizeof base, "liabilities:wallets:%s", cust);
	front_account_for(w->cfg, base, asset, r->wallet, sizeof r->wallet);
	r->cash = r->p.amount;
	if ((json_object_get(b, "points") || front_jstr(b, "fx_quote_id")) && !r->capture) {
		front_op_error(op, 400, "bad_request", "a hold is paid from the wallet alone: "
		         "no points or FX");
		return 1;
	}
	if (json_object_get(b, "points") && json_object_get(b, "fx_quote_id")) {
		front_op_error(op, 400, "bad_request", "points and FX cannot be combined");
		return 1;
	}
	if (json_object_get(b, "fx_quote_id")) {
		const char *q = front_jstr(b, "fx_quote_id");
		if (!q || !front_name_ok(q, FRONT_ID_MAX + 1, 0)) {
			front_op_error(op, 400, "bad_request", "fx_quote_id: not a quote id");
			return 1;
		}
		return apply_fx(w, op, q, r);
	}
	if (json_object_get(b, "points"))
		return apply_points(w, op, json_object_get(b, "points"), r);
	return 0;
}

int front_add_posting(char *buf, size_t cap, size_t *len, const char *acct,
                       amount_minor_t v, int scale)
{
	char t[AMOUNT_TEXT_MAX];
	int n;

	if (v == 0)
		return 0;
	amount_format(v, scale, t, sizeof t);
	n = snprintf(buf + *len, cap - *len, "%s{\"account\":\"%s\",\"amount\":\"%s\"}",
	             buf[*len - 1] == '[' ? "" : ",", acct, t);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/* equity:trading:<asset in lower case>: balances a purchase per asset. */
void front_trading_account(const char *asset, char *out, size_t cap)
{
	snprintf(out, cap, "equity:trading:%s", asset);
	for (char *c = out + strlen("equity:trading:"); *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

/* The ledger transaction of a purchase (see front.h for the accounts). */
static int purchase_tx(front_writer *w, const struct purchase_req *r, char *buf,
                       size_t cap)
{
	const front_purchase *p = &r->p;
	char payable[LG_CODE_MAX + 1], fees[LG_CODE_MAX + 1], base[LG_CODE_MAX + 1];
	char tr_a[LG_CODE_MAX + 1], tr_b[LG_CODE_MAX + 1], hold_text[48] = "";
	size_t len;
	int n, hold = !r->capture, rc = 0;

	snprintf(base, sizeof base, "liabilities:merchants:%s:payable", p->merchant);
	front_account_for(w->cfg, base, p->asset, payable, sizeof payable);
	front_account_for(w->cfg, "income:fees:processing", p->asset, fees, sizeof fees);
	if (hold)
		snprintf(hold_text, sizeof hold_text, "\"pending\":true,\"timeout_s\":%ld,",
		         r->hold_timeout_s);
	n = snprintf(buf, cap, "{\"id\":\"%s\",\"date\":\"%.10s\",\"memo\":\"purchase %s "
	             "order %s\",%s\"meta\":{\"front\":\"purchase\",\"customer\":\"%s\"},"
	             "\"postings\":[", p->id, w->now_text, p->merchant, p->order_id,
	             hold_text, p->customer);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	len = (size_t)n;
	rc |= front_add_posting(buf, cap, &len, r->wallet, r->cash, p->scale);
	front_trading_account(p->asset, tr_b, sizeof tr_b);
	if (p->pay_asset[0]) {
		front_trading_account(p->pay_asset, tr_a, sizeof tr_a);
		rc |= front_add_posting(buf, cap, &len, r->pay_wallet, p->pay, r->pay_scale);
		rc |= front_add_posting(buf, cap, &len, tr_a, -p->pay, r->pay_scale);
		rc |= front_add_posting(buf, cap, &len, tr_b, p->amount, p->scale);
	}
	if (p->points_asset[0]) {
		front_trading_account(p->points_asset, tr_a, sizeof tr_a);
		rc |= front_add_posting(buf, cap, &len, r->pts_wallet, p->points, r->pts_scale);
		rc |= front_add_posting(buf, cap, &len, tr_a, -p->points, r->pts_scale);
		rc |= front_add_posting(buf, cap, &len, tr_b, r->points_value, p->scale);
	}
	/* A hold is two postings (the ledger commits two-posting holds in
	 * part); its fee is taken at capture. */
	rc |= front_add_posting(buf, cap, &len, payable, -(p->amount - (hold ? 0 : p->fee)),
	                  p->scale);
	if (!hold)
		rc |= front_add_posting(buf, cap, &len, fees, -p->fee, p->scale);
	if (rc || len + 3 >= cap)
		return -1;
	memcpy(buf + len, "]}", 3);
	return 0;
}

static int purchase_insert(front_writer *w, const front_purchase *p)
{
	sqlite3_stmt *st = NULL;
	char amt[AMOUNT_TEXT_MAX], fee[AMOUNT_TEXT_MAX], capd[AMOUNT_TEXT_MAX];
	char pay[AMOUNT_TEXT_MAX], pts[AMOUNT_TEXT_MAX], ptv[AMOUNT_TEXT_MAX];
	int rc;

	if (!(st = front_prepare(&w->fdb, "INSERT INTO front_purchases(id, merchant,"
	                       " order_id, customer, asset, amount_minor, fee_minor, status,"
	                       " captured_minor, refunded_minor, pay_asset, pay_minor,"
	                       " points_asset, points_minor, fx_quote_id, expires_at,"
	                       " created_at, created_epoch, points_value_minor)"
	                       " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,"
	                       "?9,'0',?10,?11,?12,?13,?14,?15,?16,?17,?18)")))
		return -1;
	front_minor_text(p->amount, amt, sizeof amt);
	front_minor_text(p->fee, fee, sizeof fee);
	front_minor_text(p->captured, capd, sizeof capd);
	front_minor_text(p->pay, pay, sizeof pay);
	front_minor_text(p->points, pts, sizeof pts);
	front_minor_text(p->points_value, ptv, sizeof ptv);
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->merchant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->order_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->customer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->asset, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, amt, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, fee, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, p->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, capd, -1, SQLITE_STATIC);
	if (p->pay_asset[0]) {
		sqlite3_bind_text(st, 10, p->pay_asset, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, pay, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 14, p->fx_quote_id, -1, SQLITE_STATIC);
	}
	if (p->points_asset[0]) {
		sqlite3_bind_text(st, 12, p->points_asset, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, pts, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 18, ptv, -1, SQLITE_STATIC);
	}
	if (p->expires_at[0])
		sqlite3_bind_text(st, 15, p->expires_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, p->created_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 17, p->created_epoch);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int order_exists(front_writer *w, const front_purchase *p)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!(st = front_prepare(&w->fdb, "SELECT 1 FROM front_purchases WHERE merchant = ?1"
	                       " AND order_id = ?2")))
		return -1;
	sqlite3_bind_text(st, 1, p->merchant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->order_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

void front_do_purchase(front_writer *w, front_op *op)
{
	struct purchase_req r;
	char tx[TX_JSON_MAX];
	const char *wallets[3];
	front_balance *b;
	int rc;

	if (purchase_parse(w, op, &r))
		goto done;
	rc = order_exists(w, &r.p);
	if (rc < 0)
		goto fail;
	if (rc) {
		front_op_error(op, 409, "order_exists", "order '%s' of merchant '%s' was already "
		         "purchased (under another Idempotency-Key)", r.p.order_id,
		         r.p.merchant);
		goto done;
	}
	rc = risk_check(w, op, &r);
	if (rc < 0)
		goto fail;
	if (rc)
		goto done;
	if (front_new_id(w, "pu", r.p.id, sizeof r.p.id) != 0)
		goto fail;
	if (r.capture && front_fee_minor(r.p.amount, r.merchant ? r.merchant->fee_bps
	                                 : w->cfg->default_fee_bps, &r.p.fee) != 0)
		goto fail;
	snprintf(r.p.status, sizeof r.p.status, "%s", r.capture ? "completed" : "held");
	r.p.captured = r.capture ? r.p.amount : 0;
	snprintf(r.p.created_at, sizeof r.p.created_at, "%s", w->now_text);
	r.p.created_epoch = (long long)w->now;
	if (!r.capture)
		front_timestamp_after(w->now, r.hold_timeout_s, r.p.expires_at,
		                sizeof r.p.expires_at);
	/* read the balances before the posting moves them */
	wallets[0] = r.cash ? r.wallet : NULL;
	wallets[1] = r.pay_wallet;
	wallets[2] = r.pts_wallet;
	for (int i = 0; i < 3; i++)
		if (wallets[i] && wallets[i][0] && !front_mirror_get(w, wallets[i]))
			goto fail;
	if (purchase_tx(w, &r, tx, sizeof tx) != 0) {
		front_op_error(op, 400, "bad_request", "the purchase does not fit a transaction");
		goto done;
	}
	rc = front_post_tx(w, op, tx);
	if (rc < 0)
		return;
	if (rc)
		goto done;
	if (purchase_insert(w, &r.p) != 0)
		goto fail;
	if (wallets[0]) {
		b = front_mirror_get(w, wallets[0]);
		FRONT_ASSERT(b != NULL); /* read before the posting */
		b->available -= r.cash;
		if (r.capture)
			b->posted -= r.cash;
	}
	if (r.pay_wallet[0]) {
		b = front_mirror_get(w, r.pay_wallet);
		FRONT_ASSERT(b != NULL);
		b->posted -= r.p.pay;
		b->available -= r.p.pay;
	}
	if (r.pts_wallet[0]) {
		b = front_mirror_get(w, r.pts_wallet);
		FRONT_ASSERT(b != NULL);
		b->posted -= r.p.points;
		b->available -= r.p.points;
	}
	front_answer_purchase(w, op, 201, &r.p, wallets, 3);
done:
	front_finish(w, op);
	return;
fail:
	front_abort_tx(w, op, "a database step of a purchase failed");
}

