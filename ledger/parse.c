/*
 * parse.c - one JSON Lines transaction read from its text alone.
 *
 * Everything here works without the database or the ledger handle, so that
 * `clearbook post` can read and check the next lines on a second thread
 * while the first writes (reader.c): the JSON itself, the known fields, the
 * canonical metadata, the shape of every posting, and the content hash that
 * tells a replay from a conflict.  What needs the ledger -- looking the
 * accounts up, the amounts at their asset's scale, the rules -- is post.c's.
 *
 * The order of the checks is the order of the messages a bad line gets,
 * and post.c keeps it: a posting whose shape is wrong is reported after
 * the postings before it were looked up (lg_parsed.posting_rc).
 */
#include "ledger_int.h"

#include <stdio.h>
#include <string.h>

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int lg_id_reserved(const char *id)
{
	static const char *const suffix[] = { ":commit", ":void", ":expire",
	                                      ":reversal" };
	size_t n = strlen(id);
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		size_t k = strlen(suffix[i]);
		if (n >= k && strcmp(id + n - k, suffix[i]) == 0)
			return 1;
	}
	return 0;
}

static int is_str(const struct lg_json *d, int k)
{
	return k >= 0 && d->node[k].type == LG_J_STRING;
}

/* The first member of obj that is none of the allowed ones, or -1. */
static int unknown_key(const struct lg_json *d, int obj, const char *const *allowed)
{
	for (int k = d->node[obj].child; k >= 0; k = d->node[k].next) {
		int ok = 0;
		for (int a = 0; allowed[a] && !ok; a++)
			ok = strcmp(d->node[k].key, allowed[a]) == 0;
		if (!ok)
			return k;
	}
	return -1;
}

static int read_pending(const struct lg_json *d, struct lg_parsed *out)
{
	int pend = lg_json_get(d, 0, "pending"), tmo = lg_json_get(d, 0, "timeout_s");

	if (pend >= 0 && d->node[pend].type != LG_J_TRUE && d->node[pend].type != LG_J_FALSE)
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': pending: must "
		                    "be true or false", out->id);
	out->kind = pend >= 0 && d->node[pend].type == LG_J_TRUE ? LG_KIND_PENDING
	                                                          : LG_KIND_POSTED;
	if (tmo < 0)
		return LG_OK;
	if (out->kind != LG_KIND_PENDING)
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': timeout_s: only "
		                    "a pending transaction expires", out->id);
	if (d->node[tmo].type != LG_J_INT || d->node[tmo].ival <= 0 ||
	    d->node[tmo].ival > 366LL * 86400)
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': timeout_s: must "
		                    "be a whole number of seconds between 1 and 31622400",
		                    out->id);
	out->timeout_s = d->node[tmo].ival;
	return LG_OK;
}

static int read_header(const struct lg_json *d, struct lg_parsed *out)
{
	static const char *const allowed[] = { "id", "date", "memo", "postings", "meta",
	                                       "pending", "timeout_s", NULL };
	int id = lg_json_get(d, 0, "id"), date = lg_json_get(d, 0, "date");
	int memo = lg_json_get(d, 0, "memo");
	int bad = unknown_key(d, 0, allowed);

	if (bad >= 0)
		return lg_error_set(&out->err, LG_EDATA, "unknown field '%.64s'",
		                    d->node[bad].key);
	if (!is_str(d, id) || d->node[id].len == 0 || d->node[id].len > LG_ID_MAX ||
	    has_control(d->node[id].str))
		return lg_error_set(&out->err, LG_EDATA, "id: missing, empty, longer than "
		                    "128 bytes or holding control characters");
	out->id = d->node[id].str;
	if (lg_id_reserved(out->id))
		return lg_error_set(&out->err, LG_EDATA, "id '%s' ends in a suffix the "
		                    "ledger reserves for the transactions it makes (:commit, "
		                    ":void, :expire, :reversal)", out->id);
	if (!is_str(d, date) || !ledger_date_valid(d->node[date].str))
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': date: missing or "
		                    "not a calendar date YYYY-MM-DD", out->id);
	out->date = d->node[date].str;
	if (memo >= 0 && (!is_str(d, memo) || d->node[memo].len > LG_MEMO_MAX))
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': memo: not a string "
		                    "of at most 1000 bytes", out->id);
	out->memo = memo >= 0 ? d->node[memo].str : "";
	return read_pending(d, out);
}

static int read_meta(const struct lg_json *d, char *meta_out, struct lg_parsed *out)
{
	int meta = lg_json_get(d, 0, "meta"), rc;

	out->meta = "{}";
	if (meta < 0)
		return LG_OK;
	if (d->node[meta].type != LG_J_OBJECT)
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': meta: must be an "
		                    "object", out->id);
	rc = lg_json_canonical(d, meta, meta_out, LG_META_MAX + 1);
	if (rc == -1)
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': meta: fractional "
		                    "or huge numbers are not exact; write them as strings",
		                    out->id);
	if (rc != 0)
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': meta: larger than "
		                    "%d bytes, or an object or array of more than %d members",
		                    out->id, LG_META_MAX, LG_JSON_MEMBERS_MAX);
	out->meta = meta_out;
	return LG_OK;
}

/* The shape of posting i (node p); an error is the transaction's. */
static int read_posting(const struct lg_json *d, int p, int i, struct lg_parsed *out,
                        struct lg_pposting *pp)
{
	static const char *const allowed[] = { "account", "amount", "asset", NULL };
	int acct, amt, asset, bad;

	if (d->node[p].type != LG_J_OBJECT)
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': postings[%d]: "
		                    "must be an object", out->id, i);
	bad = unknown_key(d, p, allowed);
	if (bad >= 0)
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': postings[%d]: "
		                    "unknown field '%.64s'", out->id, i, d->node[bad].key);
	acct = lg_json_get(d, p, "account");
	amt = lg_json_get(d, p, "amount");
	asset = lg_json_get(d, p, "asset");
	if (!is_str(d, acct))
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': postings[%d]."
		                    "account: missing or not a string", out->id, i);
	if (!is_str(d, amt))
		return lg_error_set(&out->err, LG_EDATA, "transaction '%s': postings[%d]."
		                    "amount: missing or not a decimal string (numbers in "
		                    "JSON are not exact)", out->id, i);
	pp->account = d->node[acct].str;
	pp->amount = d->node[amt].str;
	pp->amount_len = d->node[amt].len;
	pp->has_asset = asset >= 0;
	pp->asset = is_str(d, asset) ? d->node[asset].str : NULL;
	return LG_OK;
}

/* The content hash, when every amount is of the decimal syntax; otherwise
 * the line will be refused or its hash made after the accounts are known. */
static void content_of(struct lg_hasher *hs, struct lg_parsed *out)
{
	struct lg_content c;
	char amt[LG_POSTINGS_MAX][AMOUNT_TEXT_MAX];

	c.id = out->id;
	c.kind = lg_kind_name(out->kind);
	c.ref_seq = 0;
	c.date = out->date;
	c.timeout_s = out->timeout_s;
	c.memo = out->memo;
	c.meta = out->meta;
	c.n = out->n;
	for (int i = 0; i < out->n; i++) {
		c.account[i] = out->p[i].account;
		c.amount[i] = amt[i];
		c.amount_len[i] = amount_canonical(out->p[i].amount, out->p[i].amount_len,
		                                   amt[i], sizeof amt[i]);
		if (c.amount_len[i] == 0)
			return;
	}
	out->content_known = lg_hash_content(hs, &c, out->content) == 0;
}

int lg_parse_line(struct lg_json *doc, struct lg_hasher *hs, char *line, size_t len,
                  char *meta_out, struct lg_pposting *postings, struct lg_parsed *out)
{
	char why[160];
	int arr;

	out->rc = LG_OK;
	out->posting_rc = LG_OK;
	out->id = out->date = NULL;
	out->memo = "";
	out->meta = "{}";
	out->kind = LG_KIND_POSTED;
	out->timeout_s = 0;
	out->n = 0;
	out->p = postings;
	out->content_known = 0;
	if (lg_json_parse(doc, line, len, why, sizeof why) != 0) {
		out->rc = lg_error_set(&out->err, LG_EDATA, "%s", why);
		return out->rc;
	}
	if (doc->node[0].type != LG_J_OBJECT) {
		out->rc = lg_error_set(&out->err, LG_EDATA, "a transaction must be a JSON "
		                       "object");
		return out->rc;
	}
	out->rc = read_header(doc, out);
	if (!out->rc)
		out->rc = read_meta(doc, meta_out, out);
	if (out->rc)
		return out->rc;
	arr = lg_json_get(doc, 0, "postings");
	if (arr < 0 || doc->node[arr].type != LG_J_ARRAY)
		out->rc = lg_error_set(&out->err, LG_EDATA, "transaction '%s': postings: "
		                       "missing or not an array", out->id);
	else if (doc->node[arr].count > LG_POSTINGS_MAX)
		out->rc = lg_error_set(&out->err, LG_EDATA, "transaction '%s': more than %d "
		                       "postings", out->id, LG_POSTINGS_MAX);
	if (out->rc)
		return out->rc;
	for (int k = doc->node[arr].child; k >= 0; k = doc->node[k].next) {
		out->posting_rc = read_posting(doc, k, out->n, out, &postings[out->n]);
		if (out->posting_rc)
			return LG_OK; /* the postings before it are looked up first */
		out->n++;
	}
	content_of(hs, out);
	return LG_OK;
}
