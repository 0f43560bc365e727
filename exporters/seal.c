/*
 * seal.c - the signed seal of a closed period: the chain head recorded at
 * closing and every account's closing balance, as canonical JSON signed
 * with Ed25519.
 *
 * An auditor holding the public key proves offline that the seal is ours;
 * against a ledger, that the period was not rewritten: the close record,
 * the hash chain up to the recorded head, the recorded closing balances and
 * the balances recomputed from the postings must all agree with the seal.
 * Anyone able to rewrite the database can recompute every hash, but cannot
 * sign a new seal.
 */
#include "exporters_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../ledger/ledger_sql.h"

#define SEAL_FORMAT "clearbook-period-seal-v1"
#define SEAL_PATH_MAX 4096
#define SEAL_ACCOUNTS_MAX 1000000L

static int sql_fail(ledger *lg, lg_error *err, const char *what)
{
	return lg_error_set(err, LG_EIO, "%s: %s", what,
	                    sqlite3_errmsg(ledger_sqlite(lg)));
}

/* The close record of `period` as a JSON object (period, end_date,
 * closed_at, head_seq, head_hash); LG_ENOINPUT if it is not closed. */
static int close_record(ledger *lg, const char *period, json_t **out, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if (sqlite3_prepare_v2(ledger_sqlite(lg), "SELECT end_date, closed_at, head_seq,"
	                       " lower(hex(head_hash)) FROM period_closes WHERE period = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(lg, err, "reading the period close");
	sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 3);
		*out = json_pack("{s:s,s:s,s:s,s:I,s:s}", "period", period,
		                 "end_date", (const char *)sqlite3_column_text(st, 0),
		                 "closed_at", (const char *)sqlite3_column_text(st, 1),
		                 "head_seq", (json_int_t)sqlite3_column_int64(st, 2),
		                 "head_hash", h && h[0] ? h :
		                 "0000000000000000000000000000000000000000000000000000000000000000");
		rc = *out ? LG_OK : lg_error_set(err, LG_EINTERNAL, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = lg_error_set(err, LG_ENOINPUT, "period %s is not closed", period);
	} else {
		rc = sql_fail(lg, err, "reading the period close");
	}
	sqlite3_finalize(st);
	return rc;
}

/* The closing balances the ledger recorded, by account code. */
static int close_balances(ledger *lg, const char *period, json_t **out, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if (!arr)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	if (sqlite3_prepare_v2(ledger_sqlite(lg), "SELECT a.code, a.asset, s.scale, b.posted"
	                       " FROM period_close_balances b JOIN accounts a"
	                       " ON a.id = b.account_id JOIN assets s ON s.code = a.asset"
	                       " WHERE b.period = ?1 ORDER BY a.code", -1, &st,
	                       NULL) != SQLITE_OK) {
		json_decref(arr);
		return sql_fail(lg, err, "reading closing balances");
	}
	sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char dec[AMOUNT_TEXT_MAX], minor[AMOUNT_TEXT_MAX];
		amount_minor_t v;
		EXP_ASSERT(sqlite3_column_bytes(st, 3) == AMOUNT_BLOB_BYTES);
		v = amount_decode(sqlite3_column_blob(st, 3));
		amount_format(v, sqlite3_column_int(st, 2), dec, sizeof dec);
		amount_format_minor(v, minor, sizeof minor);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}",
		                      "account", (const char *)sqlite3_column_text(st, 0),
		                      "asset", (const char *)sqlite3_column_text(st, 1),
		                      "posted", dec, "posted_minor", minor));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return sql_fail(lg, err, "reading closing balances");
	}
	*out = arr;
	return LG_OK;
}

/* Canonical text: keys sorted, no whitespace, UTF-8 as is, one final
 * newline.  The caller frees it. */
static char *canonical(json_t *root)
{
	char *t = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS), *t2;
	size_t len;

	if (!t)
		return NULL;
	len = strlen(t);
	t2 = realloc(t, len + 2);
	if (!t2) {
		free(t);
		return NULL;
	}
	memcpy(t2 + len, "\n", 2);
	return t2;
}

static int seal_build(ledger *lg, const char *period, char **text_out, lg_error *err)
{
	json_t *rec = NULL, *bals = NULL;
	int rc;

	*text_out = NULL;
	rc = close_record(lg, period, &rec, err);
	if (!rc)
		rc = close_balances(lg, period, &bals, err);
	if (rc)
		goto out;
	json_object_set_new(rec, "format", json_string(SEAL_FORMAT));
	json_object_set(rec, "balances", bals);
	*text_out = canonical(rec);
	if (!*text_out)
		rc = lg_error_set(err, LG_EINTERNAL, "cannot build the seal");
out:
	json_decref(rec);
	json_decref(bals);
	return rc;
}

int exp_seal_write(ledger *lg, const char *period, const char *key_path,
                   const char *dir, char *path_out, size_t path_cap, lg_error *err)
{
	char path[SEAL_PATH_MAX];
	unsigned char sig[EXP_SIG_BYTES];
	char *text = NULL;
	int rc;

	if (snprintf(path, sizeof path, "%s/seal-%s.json", dir, period) >=
	    (int)sizeof path - 4)
		return lg_error_set(err, LG_EUSAGE, "seal directory path too long");
	rc = exp_snapshot_begin(lg, err);
	if (rc)
		return rc;
	rc = seal_build(lg, period, &text, err);
	exp_snapshot_end(lg);
	if (!rc)
		rc = exp_sign(key_path, (const unsigned char *)text, strlen(text), sig, err);
	if (!rc)
		rc = exp_write_file(path, text, strlen(text), 0644, err);
	if (!rc) {
		char sig_path[SEAL_PATH_MAX + 8];
		snprintf(path_out, path_cap, "%s", path);
		snprintf(sig_path, sizeof sig_path, "%s.sig", path);
		rc = exp_write_file(sig_path, sig, sizeof sig, 0644, err);
	}
	free(text);
	return rc;
}

/* --- verify ------------------------------------------------------------------ */

struct sum_ctx {
	const char *end_date;
	json_t *bals;                   /* the seal's array, sorted by account */
	amount_minor_t *sum;            /* one per seal entry */
	char bad[LG_CODE_MAX + 1];      /* a posting on an account not sealed */
	lg_error *err;
};

static long seal_index(json_t *bals, const char *code)
{
	size_t lo = 0, hi = json_array_size(bals);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *c = json_string_value(json_object_get(json_array_get(bals, mid),
		                                                  "account"));
		int d = strcmp(c ? c : "", code);
		if (d == 0)
			return (long)mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int sum_tx(void *ctx, const ledger_tx_row *tx)
{
	struct sum_ctx *s = ctx;

	if (strcmp(tx->kind, "pending") == 0)
		return 0;
	for (int i = 0; i < tx->postings_n; i++) {
		long k = seal_index(s->bals, tx->postings[i].account);
		if (k < 0) {
			if (!s->bad[0])
				snprintf(s->bad, sizeof s->bad, "%s", tx->postings[i].account);
			continue;
		}
		if (amount_add(s->sum[k], tx->postings[i].amount_minor, &s->sum[k]))
			return lg_error_set(s->err, LG_EDATA, "a balance overflows");
	}
	return 0;
}

/* The balances recomputed from the postings dated up to the period's end
 * must equal the sealed ones: a back-dated posting shows here. */
static int check_recomputed(ledger *lg, json_t *seal, lg_error *err)
{
	struct sum_ctx s;
	const char *end = json_string_value(json_object_get(seal, "end_date"));
	int rc;

	memset(&s, 0, sizeof s);
	s.bals = json_object_get(seal, "balances");
	s.err = err;
	if (!end || !json_is_array(s.bals) ||
	    json_array_size(s.bals) > (size_t)SEAL_ACCOUNTS_MAX)
		return lg_error_set(err, LG_ECHECK, "the seal is malformed");
	s.sum = calloc(json_array_size(s.bals) + 1, sizeof *s.sum);
	if (!s.sum)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	rc = ledger_journal(lg, NULL, end, NULL, sum_tx, &s, err);
	if (!rc && s.bad[0])
		rc = lg_error_set(err, LG_ECHECK, "account %s has postings dated in the "
		                  "sealed period but is not in the seal", s.bad);
	for (size_t i = 0; !rc && i < json_array_size(s.bals); i++) {
		json_t *e = json_array_get(s.bals, i);
		const char *want = json_string_value(json_object_get(e, "posted_minor"));
		char got[AMOUNT_TEXT_MAX];
		amount_format_minor(s.sum[i], got, sizeof got);
		if (!want || strcmp(want, got) != 0)
			rc = lg_error_set(err, LG_ECHECK, "account %s: the postings up to %s "
			                  "sum to %s minor units, the seal says %s",
			                  json_string_value(json_object_get(e, "account")), end,
			                  got, want ? want : "nothing");
	}
	free(s.sum);
	return rc;
}

static int check_ledger(ledger *lg, json_t *seal, const char *text, lg_error *err)
{
	const char *period = json_string_value(json_object_get(seal, "period"));
	ledger_verify_result vr;
	char *now = NULL;
	int rc;

	if (!period)
		return lg_error_set(err, LG_ECHECK, "the seal names no period");
	rc = ledger_verify(lg, &vr, err);
	if (rc == LG_ECHECK)
		return lg_error_set(err, LG_ECHECK, "the ledger's chain does not verify: %s",
		                    vr.problem);
	if (rc)
		return rc;
	rc = exp_snapshot_begin(lg, err);
	if (rc)
		return rc;
	rc = seal_build(lg, period, &now, err);
	if (rc == LG_ENOINPUT)
		rc = lg_error_set(err, LG_ECHECK, "period %s is not closed in this ledger",
		                  period);
	/* The close record and closing balances, rebuilt the same way, must give
	 * the sealed bytes exactly. */
	if (!rc && strcmp(now, text) != 0)
		rc = lg_error_set(err, LG_ECHECK, "period %s: the ledger's close record or "
		                  "closing balances differ from the seal", period);
	if (!rc)
		rc = check_recomputed(lg, seal, err);
	exp_snapshot_end(lg);
	free(now);
	return rc;
}

int exp_seal_verify(const char *seal_path, const char *pubkey_path, ledger *lg,
                    lg_error *err)
{
	char sig_path[SEAL_PATH_MAX];
	unsigned char *text = NULL, *sig = NULL;
	size_t len = 0, sig_len = 0;
	json_error_t jerr;
	json_t *seal = NULL;
	const char *fmt;
	int rc;

	if (snprintf(sig_path, sizeof sig_path, "%s.sig", seal_path) >= (int)sizeof sig_path)
		return lg_error_set(err, LG_EUSAGE, "seal path too long");
	rc = exp_read_file(seal_path, &text, &len, err);
	if (rc)
		goto out;
	if (exp_read_file(sig_path, &sig, &sig_len, err) != LG_OK) {
		rc = lg_error_set(err, LG_ECHECK, "%s: missing or unreadable", sig_path);
		goto out;
	}
	rc = exp_verify_sig(pubkey_path, text, len, sig, sig_len, err);
	if (rc == LG_ECHECK)
		lg_error_set(err, LG_ECHECK, "%s: the signature does not match (the seal or "
		             "its signature was changed, or another key signed it)", seal_path);
	if (rc)
		goto out;
	seal = json_loadb((const char *)text, len, 0, &jerr);
	fmt = seal ? json_string_value(json_object_get(seal, "format")) : NULL;
	if (!fmt || strcmp(fmt, SEAL_FORMAT) != 0) {
		rc = lg_error_set(err, LG_ECHECK, "%s: not a clearbook period seal", seal_path);
		goto out;
	}
	if (lg)
		rc = check_ledger(lg, seal, (const char *)text, err);
out:
	json_decref(seal);
	free(text);
	free(sig);
	return rc;
}
