/*
 * fuzz_front_sig.c - libFuzzer target for the front's request
 * authentication (front/http.c): front_auth_timestamp (X-Timestamp) and
 * front_auth_signature (X-Signature over METHOD, URI, TIMESTAMP and the
 * body's SHA-256, HMAC-SHA256 under the key's secret, compared in constant
 * time), the two checks the server runs on every request after looking up
 * X-Key-Id.
 *
 * Input: a flags byte, then METHOD \n URI \n TIMESTAMP \n SIGNATURE \n BODY
 * (the body is the rest, any bytes).  Flag bit 0 replaces the signature
 * by the right one, bit 1 then changes one of its characters (position
 * and value from the next bytes), bit 2 makes the timestamp the fixed
 * clock plus a signed offset taken from the timestamp field's first byte,
 * so that both the accepting and the refusing paths are reached.
 *
 * Properties: each check agrees with an independent oracle written here
 * from docs/api.md: the timestamp is decimal seconds (strtoll's grammar:
 * leading white space and one sign allowed), at most 12 characters, within
 * the skew of the clock; the signature is accepted exactly when it equals
 * the lower-case hex HMAC computed here with OpenSSL's one-shot HMAC.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../front/front_int.h"

#define FUZZ_NOW_S 1764000000LL  /* 2025-11-24T16:00:00Z, fixed */
#define FUZZ_SKEW_S 300L
#define FUZZ_FIELD_MAX 2048

static const char fuzz_secret[] =
	"5c0b9a1e7d3f42c68e1b0a9d7c6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f";

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The signature as docs/api.md defines it. */
static void oracle_sig(const char *method, const char *uri, const char *ts,
                       const uint8_t *body, size_t body_len, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH], mac[EVP_MAX_MD_SIZE];
	char body_hex[65], *msg;
	unsigned mac_len = 0;
	size_t n = strlen(method) + strlen(uri) + strlen(ts) + 64 + 4;
	int m;

	SHA256(body, body_len, d);
	hex(d, sizeof d, body_hex);
	msg = malloc(n);
	if (!msg)
		abort();
	m = snprintf(msg, n, "%s\n%s\n%s\n%s", method, uri, ts, body_hex);
	if (m < 0 || (size_t)m >= n ||
	    !HMAC(EVP_sha256(), fuzz_secret, (int)strlen(fuzz_secret),
	          (const unsigned char *)msg, (size_t)m, mac, &mac_len) ||
	    mac_len != 32)
		abort();
	hex(mac, 32, out);
	free(msg);
}

/* X-Timestamp as docs/api.md and the code's strtoll use it. */
static int oracle_ts(const char *ts)
{
	const char *p = ts;
	long long v = 0;
	int neg = 0, digits = 0;

	if (strlen(ts) > 12)
		return -1;
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		v = v * 10 + (*p - '0'); /* at most 12 digits: no overflow */
	if (!digits || *p)
		return -1;
	if (neg)
		v = -v;
	return llabs(v - FUZZ_NOW_S) <= FUZZ_SKEW_S ? 0 : -1;
}

/* Copies the next '\n'-terminated field of data into out (NUL-terminated;
 * a NUL inside ends the string as a C header value would). */
static size_t field(const uint8_t *data, size_t size, size_t at, char *out)
{
	size_t n = 0;

	while (at < size && data[at] != '\n') {
		if (n < FUZZ_FIELD_MAX - 1)
			out[n++] = (char)data[at];
		at++;
	}
	out[n] = '\0';
	return at < size ? at + 1 : at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char method[FUZZ_FIELD_MAX], uri[FUZZ_FIELD_MAX], ts[FUZZ_FIELD_MAX],
		sig[FUZZ_FIELD_MAX];
	char want[65];
	uint8_t flags;
	size_t at = 1;
	int rc;

	if (size < 1)
		return 0;
	flags = data[0];
	at = field(data, size, at, method);
	at = field(data, size, at, uri);
	at = field(data, size, at, ts);
	at = field(data, size, at, sig);
	/* the rest is the body: data + at, size - at bytes */

	if (flags & 4) {
		/* an offset of -512..+508 s around the clock */
		long off = ((long)(unsigned char)ts[0] - 128) * 4;
		snprintf(ts, sizeof ts, "%lld", FUZZ_NOW_S + off);
	}
	rc = front_auth_timestamp(ts, FUZZ_NOW_S, FUZZ_SKEW_S);
	if (rc != oracle_ts(ts))
		abort();

	oracle_sig(method, uri, ts, data + at, size - at, want);
	if (flags & 1) {
		memcpy(sig, want, sizeof want);
		if ((flags & 2) && at < size) {
			size_t pos = data[at] % 64;
			char c = (char)data[size - 1];
			sig[pos] = c == sig[pos] ? (char)(c ^ 1) : c;
		}
	}
	rc = front_auth_signature(fuzz_secret, method, uri, ts, (const char *)data + at,
	                          size - at, sig);
	if (rc != (strcmp(sig, want) == 0 ? 0 : -1))
		abort(); /* accepted exactly when it is the right signature */
	if ((flags & 3) == 1 && rc != 0)
		abort();
	if ((flags & 3) == 3 && at < size && rc == 0)
		abort(); /* one character changed must be refused */
	return 0;
}
