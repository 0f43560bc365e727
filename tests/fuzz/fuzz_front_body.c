/*
 * fuzz_front_body.c - libFuzzer target for the front's POST request bodies:
 * front_body_parse (the depth cap and the JSON parse the HTTP thread runs,
 * front/http.c) and then what the writer thread runs on the body
 * (front/writer.c run_op): the idempotency check and front_do_purchase,
 * front_do_refund, front_do_quote or front_do_hold_end, against a real
 * ledger with the front's tables, without a network or the writer thread.
 *
 * Input: a byte picking the endpoint (byte % 5: purchases, refunds,
 * fx/quotes, capture, void); for capture and void the first line is the
 * purchase id of the URI; the rest is the body.  In the body and the id,
 * "@P1" stands for a completed CNY purchase, "@P2" an FX purchase paid in
 * USD, "@P3" a purchase paid partly in points, "@Q1" a live FX quote
 * (all made at start), "@H" a hold made for this input alone, so that
 * the fuzzer reaches refunds, FX, points and captures without guessing ids.
 *
 * Every purchase, refund and quote runs in the writer's group transaction
 * and is rolled back afterwards, so that each input sees the same ledger.
 * A capture or void runs in the group transaction too (as the writer now
 * runs it), and that transaction is committed, so those inputs commit,
 * each on its own fresh hold and under their own Idempotency-Key.
 *
 * Properties beyond "no crash, no sanitizer report, no leak, no failed
 * FRONT_ASSERT": every request is answered, never with a 5xx (the ledger
 * is healthy: a 5xx here is a machine error taken for the request's);
 * the answer is a JSON object with error.code exactly when the status is
 * 4xx; a created purchase has the amount asked for and a fee between zero
 * and the amount; a refund never passes what was captured; a capture never
 * passes the hold.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../front/writer_int.h"

#define FUZZ_NOW_TEXT "2026-11-24T12:00:00Z"
#define FUZZ_BODY_MAX 8192   /* bytes after the placeholders are put in */

static char dir[64], db_path[128], cfg_path[128], cust_path[128], rates_path[128];
static ledger *lg;
static front_config cfg;
static front_metrics metrics;
static front_writer *w;
static char id_p1[FRONT_ID_MAX + 1], id_p2[FRONT_ID_MAX + 1], id_p3[FRONT_ID_MAX + 1];
static char id_q1[FRONT_ID_MAX + 1];
static unsigned long serial;

static const char config_text[] =
	"[server]\n"
	"customers_file = customers.csv\n"
	"fx_rates_file = rates.csv\n"
	"default_tier = none\n"
	"body_max_bytes = 4096\n"
	"json_depth_max = 8\n"
	"[merchant m1]\nfee_bps = 150\n"
	"[merchant mblocked]\nblocked = true\n"
	"[tier standard]\namount_max = 500.00\ndaily_amount_max = 3000.00\n"
	"[tier low]\namount_max = 50.00\nper_minute_max = 2\n"
	"[points PTS]\ncurrency = CNY\nvalue = 0.01\n";
static const char customers_text[] =
	"customer,tier,blocked\nc1,standard,0\nc4,low,0\nblocked1,standard,1\n";
static const char rates_text[] = "from,to,rate\nUSD,CNY,7.10\nCNY,USD,0.1408\n";

static void die(const char *what, const lg_error *err)
{
	fprintf(stderr, "fuzz_front_body: %s: %s\n", what, err ? err->msg : "");
	abort();
}

static void cleanup(void)
{
	char p[160];

	if (w) {
		front_db_release(&w->fdb);
		free(w->mirror);
		free(w);
		w = NULL;
	}
	ledger_close(lg);
	front_config_release(&cfg);
	unlink(cfg_path);
	unlink(cust_path);
	unlink(rates_path);
	unlink(db_path);
	snprintf(p, sizeof p, "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db_path);
	unlink(p);
	rmdir(dir);
}

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
		die(path, NULL);
}

/* The ledger of tests/front/frontclient.py setup_ledger, plus a hold
 * customer with room for every input's hold. */
static void setup_ledger(void)
{
	static const char *const tops[] = {
		"{\"id\":\"top-c1\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":\"assets:bank:cny\",\"amount\":\"10000.00\"},{\"account\":\"liabilities:wallets:c1\",\"amount\":\"-10000.00\"}]}",
		"{\"id\":\"top-c4\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":\"assets:bank:cny\",\"amount\":\"1000.00\"},{\"account\":\"liabilities:wallets:c4\",\"amount\":\"-1000.00\"}]}",
		"{\"id\":\"top-c1-usd\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":\"assets:bank:usd\",\"amount\":\"1000.00\"},{\"account\":\"liabilities:wallets:c1:usd\",\"amount\":\"-1000.00\"}]}",
		"{\"id\":\"top-c1-pts\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":\"equity:points:issued\",\"amount\":\"100000\"},{\"account\":\"liabilities:wallets:c1:pts\",\"amount\":\"-100000\"}]}",
		"{\"id\":\"top-hc\",\"date\":\"2026-11-24\",\"postings\":[{\"account\":\"assets:bank:cny\",\"amount\":\"1000000000.00\"},{\"account\":\"liabilities:wallets:hc\",\"amount\":\"-1000000000.00\"}]}",
	};
	static const char *const accts[][3] = {
		{ "income:fees:processing", "income", "CNY" },
		{ "equity:trading:cny", "equity", "CNY" },
		{ "equity:trading:usd", "equity", "USD" },
		{ "equity:trading:pts", "equity", "PTS" },
		{ "equity:points:issued", "equity", "PTS" },
		{ "assets:bank:cny", "asset", "CNY" },
		{ "assets:bank:usd", "asset", "USD" },
	};
	lg_error err;
	int replayed;

	lg_error_init(&err);
	if (ledger_open(db_path, 1, FUZZ_NOW_TEXT, &lg, &err) != 0 ||
	    ledger_asset_add(lg, "PTS", 0, &err) != 0 ||
	    ledger_template_add(lg, "liabilities:wallets:*", "liability", "CNY",
	                        LG_ACCOUNT_NO_OVERDRAFT, &err) != 0 ||
	    ledger_template_add(lg, "liabilities:wallets:*:usd", "liability", "USD",
	                        LG_ACCOUNT_NO_OVERDRAFT, &err) != 0 ||
	    ledger_template_add(lg, "liabilities:wallets:*:pts", "liability", "PTS",
	                        LG_ACCOUNT_NO_OVERDRAFT, &err) != 0 ||
	    ledger_template_add(lg, "liabilities:merchants:*:payable", "liability", "CNY",
	                        0, &err) != 0)
		die("setting up the ledger", &err);
	for (size_t i = 0; i < sizeof accts / sizeof accts[0]; i++)
		if (ledger_account_add(lg, accts[i][0], accts[i][1], accts[i][2], 0, NULL,
		                       &err) != 0)
			die("adding an account", &err);
	if (ledger_begin(lg, &err) != 0)
		die("begin", &err);
	for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
		if (ledger_post_json(lg, tops[i], strlen(tops[i]), &replayed, NULL, &err) != 0)
			die("a top-up", &err);
	if (ledger_commit(lg, &err) != 0 || front_store_init(lg, &err) != 0)
		die("commit", &err);
}

/* A writer as front_writer_start makes it, without its thread: the
 * harness runs the writer's steps itself, on a fixed clock. */
static void setup_writer(void)
{
	struct tm tm;
	lg_error err;

	w = calloc(1, sizeof *w);
	if (!w || !(w->mirror = calloc(MIRROR_SLOTS, sizeof *w->mirror)))
		die("out of memory", NULL);
	w->lg = lg;
	w->db = ledger_sqlite(lg);
	front_db_init(&w->fdb, w->db);
	w->cfg = &cfg;
	w->m = &metrics;
	pthread_mutex_init(&metrics.mu, NULL);
	memset(&tm, 0, sizeof tm);
	if (!strptime(FUZZ_NOW_TEXT, "%Y-%m-%dT%H:%M:%SZ", &tm))
		die("the clock", NULL);
	w->now = timegm(&tm);
	w->last_expire = w->now;
	snprintf(w->now_text, sizeof w->now_text, "%s", FUZZ_NOW_TEXT);
	lg_error_init(&err);
	if (ledger_set_now(lg, w->now_text, &err) != 0)
		die("the clock", &err);
}

static void mirror_reset(void)
{
	for (long i = 0; i < w->mirror_n; i++)
		w->mirror[w->mirror_used[i]].used = 0;
	w->mirror_n = 0;
}

/* Undoes the open group transaction: the next input sees the same ledger. */
static void roll_back(void)
{
	if (w->in_tx)
		ledger_rollback(w->lg);
	w->in_tx = 0;
	w->pending_n = 0;
	mirror_reset();
}

/* Runs one op as the writer's run_op does (the thread's loop is not
 * needed: one op, one batch). */
static void run(front_op *op)
{
	int rc;

	op->status = 0;
	if (front_ensure_tx(w) != 0)
		die("begin", NULL);
	rc = front_idem_check(w, op);
	if (rc < 0)
		die("the idempotency check", NULL);
	if (rc) {
		w->pending[w->pending_n++] = op;
		return;
	}
	switch (op->kind) {
	case FRONT_OP_PURCHASE: front_do_purchase(w, op); break;
	case FRONT_OP_REFUND: front_do_refund(w, op); break;
	case FRONT_OP_QUOTE: front_do_quote(w, op); break;
	/* captures and voids join the group transaction like the rest, so
	 * they roll back with the input too */
	case FRONT_OP_CAPTURE:
	case FRONT_OP_VOID: front_do_hold_end(w, op); break;
	default: abort();
	}
}

static void op_init(front_op *op, enum front_op_kind kind, const char *target,
                    const char *body, size_t len)
{
	char idem[32];

	memset(op, 0, sizeof *op);
	op->kind = kind;
	snprintf(op->merchant, sizeof op->merchant, "m1");
	/* a fresh key each time: the committed inputs keep theirs */
	snprintf(idem, sizeof idem, "fz-%lu", ++serial);
	snprintf(op->idem_key, sizeof op->idem_key, "%s", idem);
	snprintf(op->target, sizeof op->target, "%s", target);
	front_sha256(body, len, op->request_sha);
}

/* Runs a request of the setup and commits it; its answer's `field`.`id`
 * goes into out. */
static void setup_request(enum front_op_kind kind, const char *body,
                          const char *field, char *out, size_t cap)
{
	front_op op;
	json_t *resp;
	json_error_t jerr;
	const char *id;

	op_init(&op, kind, "", body, strlen(body));
	op.body = json_loads(body, 0, &jerr);
	if (!op.body)
		die("a setup body", NULL);
	run(&op);
	front_flush(w);
	resp = json_loads(op.response, 0, &jerr);
	id = json_string_value(json_object_get(json_object_get(resp, field), "id"));
	if (op.status != 201 || !id || strlen(id) >= cap) {
		fprintf(stderr, "fuzz_front_body: setup %s: %u %s\n", body, op.status,
		        op.response);
		abort();
	}
	snprintf(out, cap, "%s", id);
	json_decref(resp);
	json_decref(op.body);
}

static void setup_once(void)
{
	lg_error err;

	if (lg)
		return;
	snprintf(dir, sizeof dir, "/tmp/fuzz_front_body.%ld.XXXXXX", (long)getpid());
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(db_path, sizeof db_path, "%s/front.db", dir);
	snprintf(cfg_path, sizeof cfg_path, "%s/front.ini", dir);
	snprintf(cust_path, sizeof cust_path, "%s/customers.csv", dir);
	snprintf(rates_path, sizeof rates_path, "%s/rates.csv", dir);
	put(cfg_path, config_text);
	put(cust_path, customers_text);
	put(rates_path, rates_text);
	atexit(cleanup);
	lg_error_init(&err);
	if (front_config_load(&cfg, cfg_path, &err) != 0)
		die("the configuration", &err);
	setup_ledger();
	setup_writer();
	setup_request(FRONT_OP_PURCHASE, "{\"order_id\":\"setup-1\",\"customer\":\"c1\","
	              "\"merchant\":\"m1\",\"amount\":\"100.00\",\"asset\":\"CNY\"}",
	              "purchase", id_p1, sizeof id_p1);
	setup_request(FRONT_OP_QUOTE, "{\"from\":\"USD\",\"to\":\"CNY\"}", "quote", id_q1,
	              sizeof id_q1);
	{
		char body[256];
		snprintf(body, sizeof body, "{\"order_id\":\"setup-2\",\"customer\":\"c1\","
		         "\"merchant\":\"m1\",\"amount\":\"71.00\",\"asset\":\"CNY\","
		         "\"fx_quote_id\":\"%s\"}", id_q1);
		setup_request(FRONT_OP_PURCHASE, body, "purchase", id_p2, sizeof id_p2);
	}
	setup_request(FRONT_OP_PURCHASE, "{\"order_id\":\"setup-3\",\"customer\":\"c1\","
	              "\"merchant\":\"m1\",\"amount\":\"30.00\",\"asset\":\"CNY\","
	              "\"points\":{\"asset\":\"PTS\",\"amount\":\"1234\"}}",
	              "purchase", id_p3, sizeof id_p3);
}

/* A fresh hold of 10.00 CNY for customer hc, committed. */
static void make_hold(char *out, size_t cap)
{
	char body[256];

	snprintf(body, sizeof body, "{\"order_id\":\"hold-%lu\",\"customer\":\"hc\","
	         "\"merchant\":\"m1\",\"amount\":\"10.00\",\"asset\":\"CNY\","
	         "\"capture\":false}", serial + 1);
	setup_request(FRONT_OP_PURCHASE, body, "purchase", out, cap);
}

/* Copies src (n bytes) into dst with the placeholders put in; 0 ok, -1
 * too long. */
static int expand(const char *src, size_t n, const char *hold, char *dst, size_t cap,
                  size_t *len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; ) {
		const char *rep = NULL;
		size_t skip = 0;
		if (src[i] == '@' && i + 1 < n) {
			if (src[i + 1] == 'H') {
				rep = hold;
				skip = 2;
			} else if (i + 2 < n && (src[i + 1] == 'P' || src[i + 1] == 'Q')) {
				char k = src[i + 2];
				rep = src[i + 1] == 'Q' ? (k == '1' ? id_q1 : NULL)
				      : k == '1' ? id_p1 : k == '2' ? id_p2 : k == '3' ? id_p3 : NULL;
				skip = 3;
			}
		}
		if (rep) {
			size_t rn = strlen(rep);
			if (o + rn >= cap)
				return -1;
			memcpy(dst + o, rep, rn);
			o += rn;
			i += skip;
		} else {
			if (o + 1 >= cap)
				return -1;
			dst[o++] = src[i++];
		}
	}
	dst[o] = '\0';
	*len = o;
	return 0;
}

static amount_minor_t amount_of(json_t *o, const char *key, const char *asset)
{
	const char *t = json_string_value(json_object_get(o, key));
	amount_minor_t v;
	char why[128];
	int scale;

	if (!t || front_asset_scale(w, asset, &scale) != 0 ||
	    amount_parse(t, strlen(t), scale, &v, why, sizeof why) != 0)
		abort();
	return v;
}

/* The answer: never a 5xx; an error exactly when 4xx; figures that hold. */
static void check_answer(const front_op *op, json_t *body)
{
	json_error_t jerr;
	json_t *resp = json_loads(op->response, 0, &jerr), *err, *p;
	const char *asset;

	if (getenv("FUZZ_FRONT_VERBOSE"))
		fprintf(stderr, "fuzz_front_body: %u %.300s\n", op->status, op->response);
	if (op->status < 200 || op->status >= 500 || !json_is_object(resp)) {
		fprintf(stderr, "fuzz_front_body: answer %u %s\n", op->status, op->response);
		abort();
	}
	err = json_object_get(resp, "error");
	if ((op->status >= 400) != (err != NULL) ||
	    (err && !json_string_value(json_object_get(err, "code"))))
		abort();
	p = json_object_get(resp, "purchase");
	asset = json_string_value(json_object_get(p, "asset"));
	if (op->status < 300 && op->kind != FRONT_OP_QUOTE) {
		amount_minor_t amount, fee, captured, refunded;
		if (!p || !asset)
			abort();
		amount = amount_of(p, "amount", asset);
		fee = amount_of(p, "fee", asset);
		captured = amount_of(p, "captured", asset);
		refunded = amount_of(p, "refunded", asset);
		if (fee < 0 || fee > amount || captured < 0 || captured > amount ||
		    refunded < 0 || refunded > captured)
			abort();
		if (op->kind == FRONT_OP_PURCHASE &&
		    amount != amount_of(body, "amount", asset))
			abort(); /* the purchase is for the amount asked */
		if (op->kind == FRONT_OP_REFUND &&
		    amount_of(json_object_get(resp, "refund"), "amount", asset) > captured)
			abort();
	}
	json_decref(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum front_op_kind kinds[] = { FRONT_OP_PURCHASE, FRONT_OP_REFUND,
		FRONT_OP_QUOTE, FRONT_OP_CAPTURE, FRONT_OP_VOID };
	static char text[FUZZ_BODY_MAX], target_raw[FRONT_ID_MAX + 8];
	char hold[FRONT_ID_MAX + 1] = "", target[FRONT_ID_MAX + 1] = "";
	const char *src;
	size_t n, len = 0, tlen = 0, at = 1;
	enum front_op_kind kind;
	front_op op;
	void *body = NULL;
	int hold_end;

	if (size < 1 || size > 4096 + FRONT_ID_MAX + 8)
		return 0;
	setup_once();
	kind = kinds[data[0] % 5];
	hold_end = kind == FRONT_OP_CAPTURE || kind == FRONT_OP_VOID;
	if (hold_end) {
		/* the URI's purchase id: route() takes up to FRONT_ID_MAX bytes
		 * before a '/' */
		while (at < size && data[at] != '\n' && data[at] != '/' && data[at] &&
		       tlen < sizeof target_raw - 1)
			target_raw[tlen++] = (char)data[at++];
		target_raw[tlen] = '\0';
		if (at < size && data[at] != '\n')
			return 0; /* not one path segment: route() answers 404 */
		at++;
	}
	src = (const char *)data + (at < size ? at : size);
	n = at < size ? size - at : 0;
	if (memmem(src, n, "@H", 2) || strstr(target_raw, "@H"))
		make_hold(hold, sizeof hold);
	if (hold_end && (expand(target_raw, tlen, hold, target, sizeof target, &tlen) != 0 ||
	                 tlen == 0))
		return 0; /* route() answers 404 */
	if (expand(src, n, hold, text, sizeof text, &len) != 0 ||
	    len > (size_t)cfg.body_max_bytes)
		return 0; /* the server answers 413 before reading on */
	if (len > 0 || !hold_end) {
		if (front_body_parse(text, len, cfg.json_depth_max, &body) != 0)
			return 0; /* answered 400 by the HTTP thread */
		if (!json_is_object((json_t *)body))
			abort();
	}
	op_init(&op, kind, target, text, len);
	op.body = body;
	run(&op);
	check_answer(&op, body);
	if (hold_end)
		front_flush(w); /* its hold ended for good: keep the books whole */
	else
		roll_back();
	json_decref(body);
	return 0;
}
