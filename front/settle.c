/*
 * settle.c - the write requests after a purchase, in the writer thread:
 * refunds (never more than was captured), FX quotes, and the end of a hold
 * (capture in full or in part, void).  Each runs inside the group
 * transaction like a purchase: the hold's end in the ledger, the fee, the
 * purchase's new status and the idempotency record commit together.
 */
#include "writer_int.h"

#include <stdio.h>
#include <string.h>

/* --- refunds ------------------------------------------------------------ */

int front_purchase_update(front_writer *w, const front_purchase *p)
{
	char capd[AMOUNT_TEXT_MAX], refd[AMOUNT_TEXT_MAX], fee[AMOUNT_TEXT_MAX];
	const char *args[5];

	front_minor_text(p->captured, capd, sizeof capd);
	front_minor_text(p->refunded, refd, sizeof refd);
	front_minor_text(p->fee, fee, sizeof fee);
	args[0] = p->id;
	args[1] = p->status;
	args[2] = capd;
	args[3] = refd;
	args[4] = fee;
	return front_exec(w, "UPDATE front_purchases SET status = ?2, captured_minor = ?3,"
	                 " refunded_minor = ?4, fee_minor = ?5 WHERE id = ?1", args, 5, -1);
}

/* Loads the purchase a request names: 0 ok, 1 answered (404/403), -1 error. */
int front_target_purchase(front_writer *w, front_op *op, const char *id,
                           front_purchase *p)
{
	int rc = front_purchase_load(&w->fdb, id, p);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		front_op_error(op, 404, "not_found", "purchase '%.40s' does not exist", id);
		return 1;
	}
	if (strcmp(p->merchant, op->merchant) != 0) {
		front_op_error(op, 403, "not_yours", "purchase '%.40s' belongs to another merchant",
		         id);
		return 1;
	}
	return 0;
}

/* The part of `total` (paid in another asset) that a refund of `amt` gives
 * back: the refund's share of the purchase, with the rounding carried from
 * refund to refund so that all of them give back exactly `total`. */
static int share(const front_purchase *p, amount_minor_t total, amount_minor_t amt,
                 amount_minor_t *out)
{
	amount_minor_t before, after;

	if (front_muldiv(p->refunded, total, p->amount, &before) != 0 ||
	    front_muldiv(p->refunded + amt, total, p->amount, &after) != 0)
		return -1;
	*out = after - before;
	FRONT_ASSERT(*out >= 0 && *out <= total);
	return 0;
}

struct refund {
	char id[FRONT_ID_MAX + 1];
	amount_minor_t amt;
	int n;                                 /* wallets given back to */
	char wallet[2][LG_CODE_MAX + 1];
	amount_minor_t back[2];
};

static void wallet_of(front_writer *w, const front_purchase *p, const char *asset,
                      char *out, size_t cap)
{
	char base[LG_CODE_MAX + 1];
	snprintf(base, sizeof base, "liabilities:wallets:%s", p->customer);
	front_account_for(w->cfg, base, asset, out, cap);
}

/* The refund's transaction: the merchant's payable gives the amount back;
 * an FX or points purchase returns its share of the other asset through the
 * trading accounts, as the purchase came in.  The fee is kept. */
static int refund_tx(front_writer *w, const front_purchase *p, struct refund *rf,
                     char *buf, size_t cap)
{
	char payable[LG_CODE_MAX + 1], base[LG_CODE_MAX + 1];
	char tr_a[LG_CODE_MAX + 1], tr_b[LG_CODE_MAX + 1];
	amount_minor_t other = 0, value = 0;
	int n, rc = 0, scale = 0;
	size_t len;

	snprintf(base, sizeof base, "liabilities:merchants:%s:payable", p->merchant);
	front_account_for(w->cfg, base, p->asset, payable, sizeof payable);
	n = snprintf(buf, cap, "{\"id\":\"%s\",\"date\":\"%.10s\",\"memo\":\"refund of "
	             "%s\",\"meta\":{\"front\":\"refund\",\"purchase\":\"%s\"},"
	             "\"postings\":[", rf->id, w->now_text, p->id, p->id);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	len = (size_t)n;
	rc |= front_add_posting(buf, cap, &len, payable, rf->amt, p->scale);
	rf->n = 0;
	if (p->pay_asset[0] || p->points_asset[0]) {
		const char *asset = p->pay_asset[0] ? p->pay_asset : p->points_asset;
		if (front_asset_scale(w, asset, &scale) != 0 ||
		    share(p, p->pay_asset[0] ? p->pay : p->points, rf->amt, &other) != 0 ||
		    (p->points_asset[0] && share(p, p->points_value, rf->amt, &value) != 0))
			return -1;
		if (p->pay_asset[0])
			value = rf->amt; /* FX: all of it came through the trading accounts */
		front_trading_account(p->asset, tr_a, sizeof tr_a);
		front_trading_account(asset, tr_b, sizeof tr_b);
		rc |= front_add_posting(buf, cap, &len, tr_a, -value, p->scale);
		rc |= front_add_posting(buf, cap, &len, tr_b, other, scale);
		wallet_of(w, p, asset, rf->wallet[rf->n], sizeof rf->wallet[0]);
		rf->back[rf->n] = other;
		rc |= front_add_posting(buf, cap, &len, rf->wallet[rf->n++], -other, scale);
	}
	if (rf->amt - value > 0) {
		wallet_of(w, p, p->asset, rf->wallet[rf->n], sizeof rf->wallet[0]);
		rf->back[rf->n] = rf->amt - value;
		rc |= front_add_posting(buf, cap, &len, rf->wallet[rf->n++], -(rf->amt - value),
		                        p->scale);
	}
	if (rc || len + 3 >= cap)
		return -1;
	memcpy(buf + len, "]}", 3);
	return 0;
}

/* Checks a refund request: 0 go on (rf->amt set), 1 answered, -1 error. */
static int refund_check(front_writer *w, front_op *op, front_purchase *p,
                        struct refund *rf)
{
	static const char *const allowed[] = { "purchase_id", "amount", NULL };
	const char *pid = front_jstr(op->body, "purchase_id");
	const char *amount = front_jstr(op->body, "amount");
	amount_minor_t left;
	char why[128];
	int rc, scale;

	if (front_unknown_field(op->body, allowed) || !pid ||
	    !front_name_ok(pid, FRONT_ID_MAX + 1, 0) ||
	    (json_object_get(op->body, "amount") && !amount)) {
		front_op_error(op, 400, "bad_request", "a refund needs purchase_id and "
		               "optionally amount (a decimal string); no other fields");
		return 1;
	}
	rc = front_target_purchase(w, op, pid, p);
	if (rc)
		return rc;
	if (strcmp(p->status, "completed") != 0 && strcmp(p->status, "captured") != 0) {
		front_op_error(op, 422, "not_captured", "purchase '%s' is %s: only captured "
		               "money can be refunded", p->id, p->status);
		return 1;
	}
	left = p->captured - p->refunded;
	rf->amt = left;
	if (amount && front_parse_amount(w, amount, p->asset, &scale, &rf->amt, why,
	                                 sizeof why)) {
		front_op_error(op, 400, "bad_amount", "amount '%.64s': %s", amount, why);
		return 1;
	}
	if (rf->amt > left || rf->amt <= 0) {
		amount_format(left, p->scale, why, sizeof why);
		front_op_error(op, 422, "refund_exceeds_capture", "at most %s %s of purchase "
		               "'%s' can still be refunded", why, p->asset, p->id);
		return 1;
	}
	return 0;
}

void front_do_refund(front_writer *w, front_op *op)
{
	char tx[TX_JSON_MAX], amt_text[AMOUNT_TEXT_MAX], refd[AMOUNT_TEXT_MAX];
	const char *wallets[2];
	struct refund rf;
	front_purchase p;
	int rc = refund_check(w, op, &p, &rf);

	if (rc < 0)
		goto fail;
	if (rc)
		goto done;
	if (front_new_id(w, "rf", rf.id, sizeof rf.id) != 0 ||
	    refund_tx(w, &p, &rf, tx, sizeof tx) != 0)
		goto fail;
	for (int i = 0; i < rf.n; i++)
		if (!front_mirror_get(w, rf.wallet[i])) /* before the posting moves it */
			goto fail;
	rc = front_post_tx(w, op, tx);
	if (rc < 0)
		return;
	if (rc)
		goto done;
	p.refunded += rf.amt;
	front_minor_text(rf.amt, refd, sizeof refd);
	const char *args[4] = { rf.id, p.id, refd, w->now_text };
	if (front_purchase_update(w, &p) != 0 ||
	    front_exec(w, "INSERT INTO front_refunds(id, purchase_id, amount_minor,"
	               " created_at) VALUES(?1,?2,?3,?4)", args, 4, -1) != 0)
		goto fail;
	for (int i = 0; i < rf.n; i++) {
		front_balance *b = front_mirror_get(w, rf.wallet[i]);
		FRONT_ASSERT(b != NULL);
		b->posted += rf.back[i];
		b->available += rf.back[i];
		wallets[i] = rf.wallet[i];
	}
	amount_format(rf.amt, p.scale, amt_text, sizeof amt_text);
	json_t *o = json_object(), *arr = json_array();
	json_object_set_new(o, "refund", json_pack("{s:s,s:s,s:s,s:s}", "id", rf.id,
	                    "purchase_id", p.id, "amount", amt_text, "asset", p.asset));
	json_object_set_new(o, "purchase", front_purchase_json(&p));
	for (int i = 0; i < rf.n; i++)
		json_array_append_new(arr, front_balance_json(front_mirror_get(w, wallets[i])));
	json_object_set_new(o, "wallets", arr);
	front_op_json(op, 201, o);
done:
	front_finish(w, op);
	return;
fail:
	front_abort_tx(w, op, "a database step of a refund failed");
}

/* --- FX quotes ---------------------------------------------------------- */

void front_do_quote(front_writer *w, front_op *op)
{
	static const char *const allowed[] = { "from", "to", NULL };
	const char *from = front_jstr(op->body, "from"), *to = front_jstr(op->body, "to");
	const front_rate *rate;
	char id[FRONT_ID_MAX + 1], expires[32];
	const char *args[6];

	if (front_unknown_field(op->body, allowed) || !from || !to) {
		front_op_error(op, 400, "bad_request", "a quote needs from and to (asset codes)");
		goto done;
	}
	rate = front_config_rate(w->cfg, from, to);
	if (!rate) {
		front_op_error(op, 422, "no_rate", "no rate from %.16s to %.16s", from, to);
		goto done;
	}
	if (front_new_id(w, "fx", id, sizeof id) != 0)
		goto fail;
	front_timestamp_after(w->now, w->cfg->fx_quote_ttl_s, expires, sizeof expires);
	args[0] = id;
	args[1] = op->merchant;
	args[2] = rate->from;
	args[3] = rate->to;
	args[4] = rate->rate;
	args[5] = expires;
	if (front_exec(w, "INSERT INTO front_fx_quotes(id, merchant, from_asset, to_asset,"
	              " rate, expires_at, expires_epoch) VALUES(?1,?2,?3,?4,?5,?6,?7)",
	              args, 6, (long long)w->now + w->cfg->fx_quote_ttl_s) != 0)
		goto fail;
	front_op_json(op, 201, json_pack("{s:{s:s,s:s,s:s,s:s,s:s}}", "quote", "id", id,
	                           "from", rate->from, "to", rate->to, "rate", rate->rate,
	                           "expires_at", expires));
done:
	front_finish(w, op);
	return;
fail:
	front_abort_tx(w, op, "storing a quote failed");
}

/* --- captures and voids ------------------------------------------------- */

/* The fee and bookkeeping after a hold ended; inside a group transaction. */
int front_settle_capture(front_writer *w, front_purchase *p, amount_minor_t captured)
{
	const front_merchant *m = front_config_merchant(w->cfg, p->merchant);
	char tx[TX_JSON_MAX], payable[LG_CODE_MAX + 1], fees[LG_CODE_MAX + 1];
	char base[LG_CODE_MAX + 1], t[AMOUNT_TEXT_MAX];
	lg_error err;
	int replayed;

	p->captured = captured;
	snprintf(p->status, sizeof p->status, "captured");
	if (front_fee_minor(captured, m ? m->fee_bps : w->cfg->default_fee_bps,
	                    &p->fee) != 0)
		return -1;
	if (p->fee > 0) {
		snprintf(base, sizeof base, "liabilities:merchants:%s:payable", p->merchant);
		front_account_for(w->cfg, base, p->asset, payable, sizeof payable);
		front_account_for(w->cfg, "income:fees:processing", p->asset, fees,
		                  sizeof fees);
		amount_format(p->fee, p->scale, t, sizeof t);
		snprintf(tx, sizeof tx, "{\"id\":\"%s:fee\",\"date\":\"%.10s\",\"memo\":"
		         "\"processing fee\",\"meta\":{\"front\":\"fee\",\"purchase\":\"%s\"},"
		         "\"postings\":[{\"account\":\"%s\",\"amount\":\"%s\"},{\"account\":"
		         "\"%s\",\"amount\":\"-%s\"}]}", p->id, w->now_text, p->id, payable, t,
		         fees, t);
		lg_error_init(&err);
		/* a replay (the id is fixed) is fine: recovery may run it twice */
		if (ledger_post_json(w->lg, tx, strlen(tx), &replayed, NULL, &err) != 0) {
			fprintf(stderr, "clearbook: serve: fee of %s: %s\n", p->id, err.msg);
			return -1;
		}
	}
	return front_purchase_update(w, p);
}

/* Checks a capture or void against the purchase, inside the group
 * transaction (the writer is the only one to change purchases): 0 go on,
 * 1 answered, -1 error. */
static int hold_end_check(front_writer *w, front_op *op, front_purchase *p,
                          amount_minor_t *amt)
{
	static const char *const allowed[] = { "amount", NULL };
	const char *amount = op->body ? front_jstr(op->body, "amount") : NULL;
	int rc, scale, capture = op->kind == FRONT_OP_CAPTURE;
	char why[128];

	if (op->body && (front_unknown_field(op->body, allowed) ||
	                 (!capture && json_object_get(op->body, "amount")) ||
	                 (json_object_get(op->body, "amount") && !amount))) {
		front_op_error(op, 400, "bad_request", capture ? "a capture takes only amount (a "
		         "decimal string)" : "a void takes no fields");
		return 1;
	}
	rc = front_target_purchase(w, op, op->target, p);
	if (rc)
		return rc;
	if (strcmp(p->status, "held") != 0) {
		front_op_error(op, 422, strcmp(p->status, "expired") == 0 ? "hold_expired"
		         : "not_held", "purchase '%s' is %s, not held", p->id, p->status);
		return 1;
	}
	*amt = p->amount;
	if (capture && amount &&
	    front_parse_amount(w, amount, p->asset, &scale, amt, why, sizeof why) != 0) {
		front_op_error(op, 400, "bad_amount", "amount '%.64s': %s", amount, why);
		return 1;
	}
	if (*amt > p->amount) {
		amount_format(p->amount, p->scale, why, sizeof why);
		front_op_error(op, 422, "exceeds_hold", "at most the %s %s held can be captured",
		         why, p->asset);
		return 1;
	}
	return 0;
}

void front_do_hold_end(front_writer *w, front_op *op)
{
	char wallet[LG_CODE_MAX + 1], base[LG_CODE_MAX + 1], text[AMOUNT_TEXT_MAX];
	const char *wallets[1] = { wallet };
	front_purchase p;
	front_balance *b;
	amount_minor_t amt = 0;
	lg_error err;
	int rc, capture = op->kind == FRONT_OP_CAPTURE;

	rc = hold_end_check(w, op, &p, &amt);
	if (rc < 0)
		goto fail;
	if (rc)
		goto done;
	snprintf(base, sizeof base, "liabilities:wallets:%s", p.customer);
	front_account_for(w->cfg, base, p.asset, wallet, sizeof wallet);
	if (!front_mirror_get(w, wallet)) /* before the hold's end moves it */
		goto fail;
	amount_format(amt, p.scale, text, sizeof text);
	lg_error_init(&err);
	rc = capture ? ledger_hold_commit_in_tx(w->lg, p.id, text, NULL, &err)
	             : ledger_hold_void_in_tx(w->lg, p.id, NULL, &err);
	if (rc == LG_EDATA || rc == LG_ENOINPUT) {
		front_ledger_refusal(op, &err);
		goto done;
	}
	if (rc) {
		front_abort_tx(w, op, err.msg);
		return;
	}
	if (capture) {
		rc = front_settle_capture(w, &p, amt);
	} else {
		snprintf(p.status, sizeof p.status, "voided");
		rc = front_purchase_update(w, &p);
	}
	if (rc)
		goto fail;
	/* The hold lowered `available` by all of it; its end gives back what
	 * was not captured and posts what was. */
	b = front_mirror_get(w, wallet);
	FRONT_ASSERT(b != NULL); /* read before the hold's end */
	b->posted -= capture ? amt : 0;
	b->available += p.amount - (capture ? amt : 0);
	front_answer_purchase(w, op, 200, &p, wallets, 1);
done:
	front_finish(w, op);
	return;
fail:
	front_abort_tx(w, op, "a database step of a capture or void failed");
}
