/*
 * post_struct.c - posting one transaction given as a struct instead of a
 * JSON record.
 *
 * Callers that build transactions in memory (the reconciliation posts one
 * settlement per match, a million a night at scale) paid for writing a JSON
 * text and the ledger parsing it back.  This path fills the same struct
 * lg_tx the JSON reader fills and hands it to the same lg_append: the rules,
 * balances, hash chain and journal rows are post.c's, not a copy.  Only the
 * checks the JSON reader makes on the record's fields are made here again,
 * so that a transaction refused one way is refused the other way too, and
 * one accepted gives the same journal bytes.
 */
#include "bgwrite.h"
#include "ledger_int.h"

#include <stddef.h>
#include <string.h>

/* Bytes of meta_json accepted before canonicalisation (the canonical form
 * is at most LG_META_MAX; a caller's spacing may add a little). */
#define PS_META_TEXT_MAX (2 * LG_META_MAX)

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0; the
 * JSON reader accepts the same sequences (RFC 3629). */
static int utf8_seq(const unsigned char *p)
{
	unsigned c = p[0], cp;
	int n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;

	if (n == 0)
		return 0;
	cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* What a JSON string can carry: valid UTF-8; with `no_control`, no control
 * characters either (an id). */
static int text_ok(const char *s, int no_control)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p >= 0x80) {
			int n = utf8_seq(p);
			if (n == 0)
				return 0;
			p += n;
			continue;
		}
		if (no_control && (*p < 0x20 || *p == 0x7f))
			return 0;
		p++;
	}
	return 1;
}

static int spec_header(const ledger_tx_spec *spec, struct lg_tx *tx, lg_error *err)
{
	size_t n = spec->id ? strlen(spec->id) : 0;

	if (n == 0 || n > LG_ID_MAX || !text_ok(spec->id, 1))
		return lg_error_set(err, LG_EDATA, "id: missing, empty, longer than 128 "
		                    "bytes or holding control characters");
	memcpy(tx->id, spec->id, n + 1);
	if (lg_id_reserved(tx->id))
		return lg_error_set(err, LG_EDATA, "id '%s' ends in a suffix the ledger "
		                    "reserves for the transactions it makes (:commit, "
		                    ":void, :expire, :reversal)", tx->id);
	if (!spec->date || !ledger_date_valid(spec->date))
		return lg_error_set(err, LG_EDATA, "transaction '%s': date: missing or not "
		                    "a calendar date YYYY-MM-DD", tx->id);
	memcpy(tx->date, spec->date, 11);
	if (spec->memo && (strlen(spec->memo) > LG_MEMO_MAX || !text_ok(spec->memo, 0)))
		return lg_error_set(err, LG_EDATA, "transaction '%s': memo: not a string of "
		                    "at most 1000 bytes", tx->id);
	tx->memo = (char *)(spec->memo ? spec->memo : "");
	tx->kind = LG_KIND_POSTED;
	return LG_OK;
}

/* The metadata in the journal's canonical form, through the JSON reader's
 * own writer (so that the bytes, and the hash, equal a JSON record's). */
static int spec_meta(ledger *lg, const ledger_tx_spec *spec, struct lg_tx *tx,
                     lg_error *err)
{
	char text[PS_META_TEXT_MAX + 1], why[160];
	size_t len;
	int rc;

	tx->meta = "{}";
	if (!spec->meta_json)
		return LG_OK;
	len = strlen(spec->meta_json);
	if (len > PS_META_TEXT_MAX)
		return lg_error_set(err, LG_EDATA, "transaction '%s': meta: larger than %d "
		                    "bytes, or an object or array of more than %d members",
		                    tx->id, LG_META_MAX, LG_JSON_MEMBERS_MAX);
	memcpy(text, spec->meta_json, len + 1);
	if (lg_json_parse(lg->json, text, len, why, sizeof why) != 0)
		return lg_error_set(err, LG_EDATA, "transaction '%s': meta: %s", tx->id, why);
	if (lg->json->node[0].type != LG_J_OBJECT)
		return lg_error_set(err, LG_EDATA, "transaction '%s': meta: must be an "
		                    "object", tx->id);
	rc = lg_json_canonical(lg->json, 0, lg->meta_buf, LG_META_MAX + 1);
	if (rc == -1)
		return lg_error_set(err, LG_EDATA, "transaction '%s': meta: fractional or "
		                    "huge numbers are not exact; write them as strings", tx->id);
	if (rc != 0)
		return lg_error_set(err, LG_EDATA, "transaction '%s': meta: larger than %d "
		                    "bytes, or an object or array of more than %d members",
		                    tx->id, LG_META_MAX, LG_JSON_MEMBERS_MAX);
	tx->meta = lg->meta_buf;
	return LG_OK;
}

static int spec_postings(ledger *lg, const ledger_tx_spec *spec, struct lg_tx *tx,
                         lg_error *err)
{
	if (spec->postings_n < 0 || spec->postings_n > LG_POSTINGS_MAX)
		return lg_error_set(err, LG_EDATA, "transaction '%s': more than %d postings",
		                    tx->id, LG_POSTINGS_MAX);
	LG_ASSERT(spec->postings_n == 0 || spec->postings != NULL);
	tx->n = 0;
	for (int i = 0; i < spec->postings_n; i++) {
		const ledger_posting_spec *p = &spec->postings[i];
		struct lg_acct *a = NULL;
		int rc = p->account ? lg_account_get(lg, p->account, &a, err)
		                    : lg_error_set(err, LG_ENOINPUT, "missing");
		if (rc) {
			char m[LG_MSG_MAX];
			snprintf(m, sizeof m, "%s", err->msg);
			return lg_error_set(err, rc == LG_ENOINPUT ? LG_EDATA : rc,
			                    "transaction '%s': postings[%d].account: %s", tx->id,
			                    i, m);
		}
		LG_ASSERT(a != NULL);
		tx->p[i].acct = a;
		tx->p[i].amount = p->amount_minor;
		tx->n++;
	}
	return LG_OK;
}

/* The canonical form of the last metadata text canonicalised: callers
 * posting many transactions mostly repeat the same metadata (a night's
 * settlements of one channel and rule), and parsing it again each time
 * gives the same bytes. */
struct meta_cache {
	int valid;
	char in[PS_META_TEXT_MAX + 1];
	char out[LG_META_MAX + 1];
};

/* Fills tx from spec: the checks the JSON reader makes on a record.  With
 * `cache`, tx->meta may point into it (valid until the next call). */
static int spec_to_tx(ledger *lg, const ledger_tx_spec *spec, struct lg_tx *tx,
                      struct meta_cache *cache, lg_error *err)
{
	int rc;

	memset(tx, 0, offsetof(struct lg_tx, p));
	rc = spec_header(spec, tx, err);
	if (!rc && cache && cache->valid && spec->meta_json &&
	    strcmp(cache->in, spec->meta_json) == 0) {
		tx->meta = cache->out;
	} else if (!rc) {
		rc = spec_meta(lg, spec, tx, err);
		if (!rc && cache && spec->meta_json &&
		    strlen(spec->meta_json) <= PS_META_TEXT_MAX) {
			memcpy(cache->in, spec->meta_json, strlen(spec->meta_json) + 1);
			memcpy(cache->out, tx->meta, strlen(tx->meta) + 1);
			cache->valid = 1;
			tx->meta = cache->out;
		}
	}
	if (!rc)
		rc = spec_postings(lg, spec, tx, err);
	return rc;
}

static int seq_of_replay(ledger *lg, const char *id, long long *seq_out, lg_error *err)
{
	sqlite3_stmt *st = lg_stmt(lg, ST_TX_BY_ID);

	if (!st)
		return lg_sql_error(lg, err, "reading the journal");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	*seq_out = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (*seq_out == 0)
		return lg_sql_error(lg, err, "reading the journal");
	return LG_OK;
}

int ledger_post_spec(ledger *lg, const ledger_tx_spec *spec, int *replayed,
                     long long *seq_out, lg_error *err)
{
	struct lg_tx txbuf;
	int rc;

	LG_ASSERT(lg->in_tx);
	LG_ASSERT(spec != NULL);
	*replayed = 0;
	rc = lg_batch_trim(lg, err);
	if (!rc)
		rc = spec_to_tx(lg, spec, &txbuf, NULL, err);
	if (!rc)
		rc = lg_append(lg, &txbuf, replayed, err);
	if (!rc && seq_out) {
		/* A replay's seq is not the head's; ask the journal. */
		if (*replayed)
			rc = seq_of_replay(lg, txbuf.id, seq_out, err);
		else
			*seq_out = lg->head_seq;
	}
	return rc;
}

/* --- grouped ------------------------------------------------------------ */
#define SPEC_RING 8 /* groups in turn, with a writer thread */

struct ledger_spec_group {
	ledger *lg;
	struct lg_group *g;        /* the group being filled */
	/* With a writer thread: g is ring[cur]; a full group goes to the
	 * thread and the next one, once written (ticket), is filled. */
	lg_bgwrite *bg;
	struct lg_group *ring[SPEC_RING];
	long long ticket[SPEC_RING];
	int cur;
	long count;                /* transactions handed to the group so far */
	/* Ids of the waiting transactions, by count % LG_GROUP_TX_MAX (a group
	 * holds at most that many consecutive ones). */
	char id[LG_GROUP_TX_MAX][LG_ID_MAX + 1];
	int late;                  /* a flush met a replay or a conflict */
	struct meta_cache meta;
	lg_error late_err;
};

int ledger_spec_group_new(ledger *lg, ledger_spec_group **out, lg_error *err)
{
	ledger_spec_group *q = calloc(1, sizeof *q);
	int rc;

	*out = NULL;
	if (!q)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	q->lg = lg;
	rc = lg_group_new(lg, &q->g, err);
	if (rc) {
		free(q);
		return rc;
	}
	lg_error_init(&q->late_err);
	*out = q;
	return LG_OK;
}

void ledger_spec_group_free(ledger_spec_group *q)
{
	if (!q)
		return;
	if (q->bg) {
		lg_error ignored;
		lg_error_init(&ignored);
		(void)lg_bgwrite_drain(q->bg, &ignored); /* no job may outlive its group */
		for (int i = 0; i < SPEC_RING; i++)
			lg_group_free(q->ring[i]);
	} else {
		lg_group_free(q->g);
	}
	free(q);
}

int ledger_spec_group_threads(ledger_spec_group *q, lg_bgwrite *bg, lg_error *err)
{
	LG_ASSERT(q->bg == NULL && bg != NULL);
	LG_ASSERT(lg_group_size(q->g) == 0);
	q->ring[0] = q->g;
	for (int i = 1; i < SPEC_RING; i++) {
		int rc = lg_group_new(q->lg, &q->ring[i], err);
		if (rc) {
			while (--i > 0)
				lg_group_free(q->ring[i]);
			return rc;
		}
	}
	q->bg = bg;
	q->cur = 0;
	return LG_OK;
}

/* With a writer thread: the group being filled goes to it, and the next
 * one in the ring is filled once the thread has written it. */
static int hand_over(ledger_spec_group *q, lg_error *err)
{
	int rc;

	if (lg_group_size(q->g) == 0)
		return LG_OK;
	rc = lg_bgwrite_submit(q->bg, lg_group_write_job, q->g, &q->ticket[q->cur], err);
	if (rc)
		return rc;
	q->cur = (q->cur + 1) % SPEC_RING;
	if (!lg_bgwrite_done(q->bg, q->ticket[q->cur])) {
		/* The thread is behind: wait until half the ring is free, so
		 * that it wakes this one once per half a ring, not per group. */
		long long far = q->ticket[(q->cur + SPEC_RING / 2 - 1) % SPEC_RING];
		rc = lg_bgwrite_wait(q->bg, far > q->ticket[q->cur] ? far : q->ticket[q->cur],
		                     err);
	} else {
		rc = lg_bgwrite_wait(q->bg, q->ticket[q->cur], err); /* no wait: an earlier failure */
	}
	q->g = q->ring[q->cur];
	LG_ASSERT(rc || lg_group_size(q->g) == 0);
	return rc;
}

/* A waiting transaction was not simply posted: the first such outcome is
 * kept and the flush reports it. */
static void late_outcome(void *ctx, long lineno, int rc, int replayed, lg_error *err)
{
	ledger_spec_group *q = ctx;
	const char *id = q->id[lineno % LG_GROUP_TX_MAX];

	if (q->late)
		return;
	q->late = 1;
	if (rc == LG_OK && replayed)
		lg_error_set(&q->late_err, LG_EINTERNAL, "transaction '%s' was already in "
		             "the journal (found when its group was written)", id);
	else
		lg_error_set(&q->late_err, LG_EINTERNAL, "transaction '%s' was refused when "
		             "its group was written: %s", id, err->msg);
}

int ledger_spec_group_flush(ledger_spec_group *q, lg_error *err)
{
	int rc;

	if (q->bg) {
		rc = hand_over(q, err);
		return rc ? rc : lg_bgwrite_drain(q->bg, err);
	}
	rc = lg_group_flush(q->g, late_outcome, q, err);

	if (!rc && q->late) {
		*err = q->late_err;
		rc = err->code;
	}
	q->late = 0;
	return rc;
}

int ledger_post_spec_grouped(ledger_spec_group *q, const ledger_tx_spec *spec,
                             int *replayed, lg_error *err)
{
	ledger *lg = q->lg;
	struct lg_tx txbuf;
	int rc = LG_OK;

	LG_ASSERT(lg->in_tx);
	LG_ASSERT(spec != NULL);
	*replayed = 0;
	/* The cache is about to be emptied: waiting rows point into it. */
	if (lg->cache_n >= LG_CACHE_ACCOUNTS_MAX)
		rc = ledger_spec_group_flush(q, err);
	if (!rc)
		rc = lg_batch_trim(lg, err);
	if (rc)
		return rc == LG_EDATA || rc == LG_ENOINPUT ? LG_EINTERNAL : rc;
	rc = spec_to_tx(lg, spec, &txbuf, &q->meta, err);
	if (rc)
		return rc; /* nothing changed; what waits still waits */
	if (lg_group_takes(q->g, &txbuf)) {
		if (lg_group_full(q->g, &txbuf))
			rc = q->bg ? hand_over(q, err) : ledger_spec_group_flush(q, err);
		if (rc)
			return rc == LG_EDATA || rc == LG_ENOINPUT ? LG_EINTERNAL : rc;
		q->count++;
		if (lg_group_add(q->g, &txbuf, q->count, err) == LG_OK) {
			memcpy(q->id[q->count % LG_GROUP_TX_MAX], txbuf.id, strlen(txbuf.id) + 1);
			return LG_OK;
		}
	}
	/* Not for the group, or refused by its fast path: alone, after the
	 * transactions before it, which tells a replay or conflict from a
	 * refusal. */
	rc = ledger_spec_group_flush(q, err);
	if (rc)
		return rc == LG_EDATA || rc == LG_ENOINPUT ? LG_EINTERNAL : rc;
	return lg_append(lg, &txbuf, replayed, err);
}
