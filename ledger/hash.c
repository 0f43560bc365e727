/*
 * hash.c - the canonical byte encoding of a transaction and its SHA-256.
 *
 * This file is the implementation of docs/hash-chain.md; the two must agree
 * byte for byte, because auditors recompute the chain from the document
 * alone (tests/hashcheck.py does exactly that).  OpenSSL is wrapped here.
 */
#include "ledger_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* Longest encoding: fixed fields plus postings; bounded by the input limits. */
#define ENC_CAP (LG_ID_MAX + LG_MEMO_MAX + LG_META_MAX + 512 + \
                 LG_POSTINGS_MAX * (LG_CODE_MAX + LG_ASSET_CODE_MAX + 96))

struct enc {
	unsigned char buf[ENC_CAP];
	size_t len;
	int overflow;
};

/* Writes v in decimal into the end of buf[cap] and returns where it starts;
 * the hot path avoids printf. */
static char *utoa_back(unsigned long long v, char *buf, size_t cap)
{
	char *p = buf + cap;
	do {
		*--p = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v != 0);
	return p;
}

/* Appends one netstring: "<decimal length>:<bytes>,". */
static void enc_bytes(struct enc *e, const char *s, size_t n)
{
	char buf[24];
	char *head = utoa_back(n, buf, sizeof buf - 1);
	size_t h;

	buf[sizeof buf - 1] = ':';
	h = (size_t)(buf + sizeof buf - head);
	if (e->len + h + n + 1 > ENC_CAP) {
		e->overflow = 1;
		return;
	}
	memcpy(e->buf + e->len, head, h);
	e->len += h;
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	e->buf[e->len++] = ',';
}

static void enc_str(struct enc *e, const char *s)
{
	enc_bytes(e, s ? s : "", s ? strlen(s) : 0);
}

static void enc_int(struct enc *e, long long v)
{
	char t[24];
	char *p = utoa_back(v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v,
	                    t, sizeof t);
	if (v < 0)
		*--p = '-';
	enc_bytes(e, p, (size_t)(t + sizeof t - p));
}

static void enc_postings(struct enc *e, const struct lg_tx_view *v)
{
	enc_int(e, v->n);
	for (int i = 0; i < v->n; i++) {
		char amt[AMOUNT_TEXT_MAX];
		size_t n = amount_format_minor(v->amount[i], amt, sizeof amt);
		enc_str(e, v->account[i]);
		enc_str(e, v->asset[i]);
		enc_bytes(e, amt, n);
	}
}

int lg_scratch_new(ledger *lg)
{
	lg->hasher = EVP_MD_CTX_new();
	/* Fetched once: EVP_sha256() on every digest takes a lock each time. */
	lg->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	lg->enc = malloc(sizeof(struct enc));
	lg->json = malloc(sizeof(struct lg_json));
	lg->meta_buf = malloc(LG_META_MAX + 1);
	if (!lg->hasher || !lg->sha256 || !lg->enc || !lg->json || !lg->meta_buf) {
		lg_scratch_free(lg);
		return -1;
	}
	return 0;
}

void lg_scratch_free(ledger *lg)
{
	EVP_MD_CTX_free(lg->hasher);
	EVP_MD_free(lg->sha256);
	lg->sha256 = NULL;
	free(lg->enc);
	free(lg->json);
	free(lg->meta_buf);
	lg->hasher = NULL;
	lg->enc = NULL;
	lg->json = NULL;
	lg->meta_buf = NULL;
}

static int sha256(ledger *lg, const unsigned char *prev, const struct enc *e,
                  unsigned char out[LG_HASH_BYTES])
{
	EVP_MD_CTX *ctx = lg->hasher;
	unsigned int n = 0;

	if (e->overflow)
		return -1;
	if (EVP_DigestInit_ex2(ctx, lg->sha256, NULL) != 1)
		return -1;
	if (prev && EVP_DigestUpdate(ctx, prev, LG_HASH_BYTES) != 1)
		return -1;
	if (EVP_DigestUpdate(ctx, e->buf, e->len) != 1)
		return -1;
	if (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != LG_HASH_BYTES)
		return -1;
	return 0;
}

int lg_hash_chain(ledger *lg, const unsigned char prev[LG_HASH_BYTES],
                  const struct lg_tx_view *v, unsigned char out[LG_HASH_BYTES])
{
	struct enc *e = lg->enc;

	LG_ASSERT(v->seq > 0 && v->n >= 0 && v->n <= LG_POSTINGS_MAX);
	e->len = 0;
	e->overflow = 0;
	enc_str(e, "clearbook-tx-v1");
	enc_int(e, v->seq);
	enc_str(e, v->id);
	enc_str(e, v->kind);
	if (v->ref_seq > 0)
		enc_int(e, v->ref_seq);
	else
		enc_str(e, "");
	enc_str(e, v->date);
	enc_str(e, v->booked_at);
	enc_str(e, v->expires_at);
	enc_str(e, v->memo);
	enc_str(e, v->meta);
	enc_postings(e, v);
	return sha256(lg, prev, e, out);
}

int lg_hash_content(ledger *lg, const struct lg_tx_view *v,
                    unsigned char out[LG_HASH_BYTES])
{
	struct enc *e = lg->enc;

	LG_ASSERT(v->n >= 0 && v->n <= LG_POSTINGS_MAX);
	e->len = 0;
	e->overflow = 0;
	enc_str(e, "clearbook-content-v1");
	enc_str(e, v->id);
	enc_str(e, v->kind);
	enc_int(e, v->ref_seq);
	enc_str(e, v->date);
	enc_int(e, v->timeout_s);
	enc_str(e, v->memo);
	enc_str(e, v->meta);
	enc_postings(e, v);
	return sha256(lg, NULL, e, out);
}

void lg_tx_view_of(const struct lg_tx *tx, long long seq, const char *booked_at,
                   struct lg_tx_view *v)
{
	v->seq = seq;
	v->id = tx->id;
	v->kind = lg_kind_name(tx->kind);
	v->date = tx->date;
	v->booked_at = booked_at;
	v->expires_at = tx->expires_at;
	v->memo = tx->memo;
	v->meta = tx->meta;
	v->ref_seq = tx->ref_seq;
	v->timeout_s = tx->timeout_s;
	v->n = tx->n;
	for (int i = 0; i < tx->n; i++) {
		v->account[i] = tx->p[i].acct->code;
		v->asset[i] = tx->p[i].acct->asset;
		v->amount[i] = tx->p[i].amount;
	}
}

int ledger_file_sha256(const char *path, char hex[LG_HASH_HEX], lg_error *err)
{
	unsigned char buf[1 << 16], md[LG_HASH_BYTES];
	EVP_MD_CTX *ctx = NULL;
	unsigned int n = 0;
	FILE *fp = fopen(path, "rb");
	size_t got;
	int rc = LG_OK;

	if (!fp)
		return lg_error_set(err, errno == ENOENT ? LG_ENOINPUT : LG_EIO, "%s: %s",
		                    path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) != 1) {
		rc = lg_error_set(err, LG_EINTERNAL, "cannot set up SHA-256");
		goto out;
	}
	while ((got = fread(buf, 1, sizeof buf, fp)) > 0) {
		if (EVP_DigestUpdate(ctx, buf, got) != 1) {
			rc = lg_error_set(err, LG_EINTERNAL, "SHA-256 failed");
			goto out;
		}
	}
	if (ferror(fp)) {
		rc = lg_error_set(err, LG_EIO, "%s: read error", path);
		goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != LG_HASH_BYTES) {
		rc = lg_error_set(err, LG_EINTERNAL, "SHA-256 failed");
		goto out;
	}
	lg_hex(md, LG_HASH_BYTES, hex);
out:
	EVP_MD_CTX_free(ctx);
	fclose(fp);
	return rc;
}
