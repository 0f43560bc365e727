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

struct lg_hasher {
	EVP_MD_CTX *ctx;          /* reusable digest context */
	EVP_MD *md;               /* the fetched SHA-256 implementation */
	struct enc enc;           /* encoding scratch */
};

struct lg_hasher *lg_hasher_new(void)
{
	struct lg_hasher *h = malloc(sizeof *h);

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	/* Fetched once: EVP_sha256() on every digest takes a lock each time. */
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!h->ctx || !h->md) {
		lg_hasher_free(h);
		return NULL;
	}
	return h;
}

void lg_hasher_free(struct lg_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

int lg_scratch_new(ledger *lg)
{
	lg->hs = lg_hasher_new();
	lg->json = malloc(sizeof(struct lg_json));
	lg->meta_buf = malloc(LG_META_MAX + 1);
	if (!lg->hs || !lg->json || !lg->meta_buf) {
		lg_scratch_free(lg);
		return -1;
	}
	return 0;
}

void lg_scratch_free(ledger *lg)
{
	lg_hasher_free(lg->hs);
	free(lg->json);
	free(lg->meta_buf);
	lg->hs = NULL;
	lg->json = NULL;
	lg->meta_buf = NULL;
}

static int sha256(struct lg_hasher *h, const unsigned char *prev,
                  unsigned char out[LG_HASH_BYTES])
{
	unsigned int n = 0;

	if (h->enc.overflow)
		return -1;
	if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1)
		return -1;
	if (prev && EVP_DigestUpdate(h->ctx, prev, LG_HASH_BYTES) != 1)
		return -1;
	if (EVP_DigestUpdate(h->ctx, h->enc.buf, h->enc.len) != 1)
		return -1;
	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != LG_HASH_BYTES)
		return -1;
	return 0;
}

static struct enc *enc_start(struct lg_hasher *h)
{
	h->enc.len = 0;
	h->enc.overflow = 0;
	return &h->enc;
}

int lg_hash_chain(ledger *lg, const unsigned char prev[LG_HASH_BYTES],
                  const struct lg_tx_view *v, unsigned char out[LG_HASH_BYTES])
{
	struct enc *e = enc_start(lg->hs);

	LG_ASSERT(v->seq > 0 && v->n >= 0 && v->n <= LG_POSTINGS_MAX);
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
	return sha256(lg->hs, prev, out);
}

/* The fields both forms of the content hash begin with, after their tag. */
static struct enc *content_head(struct lg_hasher *h, const char *tag, const char *id,
                                const char *kind, long long ref_seq, const char *date,
                                long long timeout_s, const char *memo,
                                const char *meta)
{
	struct enc *e = enc_start(h);

	enc_str(e, tag);
	enc_str(e, id);
	enc_str(e, kind);
	enc_int(e, ref_seq);
	enc_str(e, date);
	enc_int(e, timeout_s);
	enc_str(e, memo);
	enc_str(e, meta);
	return e;
}

int lg_hash_content(struct lg_hasher *h, const struct lg_content *c,
                    unsigned char out[LG_HASH_BYTES])
{
	struct enc *e;

	LG_ASSERT(c->n >= 0 && c->n <= LG_POSTINGS_MAX);
	e = content_head(h, "clearbook-content-v2", c->id, c->kind, c->ref_seq, c->date,
	                 c->timeout_s, c->memo, c->meta);
	enc_int(e, c->n);
	for (int i = 0; i < c->n; i++) {
		LG_ASSERT(c->amount_len[i] > 0);
		enc_str(e, c->account[i]);
		enc_bytes(e, c->amount[i], c->amount_len[i]);
	}
	return sha256(h, NULL, out);
}

int lg_hash_content_tx(ledger *lg, const struct lg_tx *tx,
                       unsigned char out[LG_HASH_BYTES])
{
	struct lg_content c;
	char amt[LG_POSTINGS_MAX][AMOUNT_TEXT_MAX];

	c.id = tx->id;
	c.kind = lg_kind_name(tx->kind);
	c.ref_seq = tx->ref_seq;
	c.date = tx->date;
	c.timeout_s = tx->timeout_s;
	c.memo = tx->memo;
	c.meta = tx->meta;
	c.n = tx->n;
	for (int i = 0; i < tx->n; i++) {
		const struct lg_acct *a = tx->p[i].acct;
		c.account[i] = a->code;
		c.amount[i] = amt[i];
		c.amount_len[i] = amount_format_canonical(tx->p[i].amount, a->scale, amt[i],
		                                          sizeof amt[i]);
	}
	return lg_hash_content(lg->hs, &c, out);
}

int lg_hash_content_v1(ledger *lg, const struct lg_tx_view *v,
                       unsigned char out[LG_HASH_BYTES])
{
	struct enc *e;

	LG_ASSERT(v->n >= 0 && v->n <= LG_POSTINGS_MAX);
	e = content_head(lg->hs, "clearbook-content-v1", v->id, v->kind, v->ref_seq,
	                 v->date, v->timeout_s, v->memo, v->meta);
	enc_postings(e, v);
	return sha256(lg->hs, NULL, out);
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
