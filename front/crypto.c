/*
 * crypto.c - the front's one door to OpenSSL: SHA-256, HMAC-SHA256 for
 * request signatures, constant-time comparison, random ids and the
 * AES-256-GCM sealing of API secrets under the master key.
 */
#include "front_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void front_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "clearbook: internal error: assertion '%s' failed at %s:%d\n",
	        what, file, line);
	abort();
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void front_sha256(const void *data, size_t len, unsigned char out[32])
{
	SHA256(data, len, out);
}

void front_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	SHA256(data, len, md);
	to_hex(md, 32, out);
}

void front_hmac_hex(const void *key, size_t key_len, const void *msg, size_t len,
                    char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;

	FRONT_ASSERT(key_len <= INT32_MAX);
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, len, md, &md_len) ||
	    md_len != 32) {
		/* A failed HMAC must never compare equal to anything. */
		memset(out, 'x', 64);
		out[64] = '\0';
		return;
	}
	to_hex(md, 32, out);
}

int front_equal_ct(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int front_random_hex(char *out, size_t bytes)
{
	unsigned char b[64];

	FRONT_ASSERT(bytes <= sizeof b);
	if (RAND_bytes(b, (int)bytes) != 1)
		return -1;
	to_hex(b, bytes, out);
	return 0;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int front_hex_decode(const char *hex, unsigned char *out, size_t out_len)
{
	if (strlen(hex) != 2 * out_len)
		return -1;
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_val(hex[2 * i]), lo = hex_val(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int front_seal(const unsigned char key[32], const char *aad, const void *plain,
               size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, rc = -1;

	if (!c || len > 1024 || RAND_bytes(out, 12) != 1)
		goto out;
	if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(c, out + 12, &n, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(c, out + 12 + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + len) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int front_unseal(const unsigned char key[32], const char *aad,
                 const unsigned char *sealed, size_t sealed_len, char *plain,
                 size_t plain_cap)
{
	EVP_CIPHER_CTX *c = NULL;
	size_t len;
	int n = 0, rc = -1;

	if (sealed_len < FRONT_SEAL_OVERHEAD || sealed_len - FRONT_SEAL_OVERHEAD >= plain_cap)
		return -1;
	len = sealed_len - FRONT_SEAL_OVERHEAD;
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -1;
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, sealed) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(c, (unsigned char *)plain, &n, sealed + 12, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16,
	                        (void *)(sealed + 12 + len)) != 1 ||
	    EVP_DecryptFinal_ex(c, (unsigned char *)plain + n, &n) != 1)
		goto out;
	plain[len] = '\0';
	rc = 0;
out:
	if (rc)
		OPENSSL_cleanse(plain, plain_cap);
	EVP_CIPHER_CTX_free(c);
	return rc;
}
