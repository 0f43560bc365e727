/*
 * sign.c - Ed25519 keys and signatures through OpenSSL 3's EVP API: the one
 * place in exporters/ that speaks OpenSSL.
 *
 * Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public), so that
 * an auditor checks a signature with nothing but the openssl command:
 *   openssl pkeyutl -verify -pubin -inkey key.pub -rawin \
 *       -in MANIFEST.json -sigfile MANIFEST.json.sig
 * Ed25519 signs the message itself (no separate digest), so every signed
 * file is read whole.
 */
#include "exporters_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXP_PUB_SUFFIX ".pub"

/* Loads a PEM key (private or public) and checks it is Ed25519.  The
 * caller frees *out with EVP_PKEY_free. */
static int load_key(const char *path, int private_key, EVP_PKEY **out, lg_error *err)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	*out = NULL;
	if (!fp)
		return lg_error_set(err, errno == ENOENT ? LG_ENOINPUT : LG_EIO,
		                    "key %s: %s", path, strerror(errno));
	k = private_key ? PEM_read_PrivateKey(fp, NULL, NULL, NULL)
	                : PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	ERR_clear_error();
	if (!k)
		return lg_error_set(err, LG_EDATA, "key %s: not a PEM %s key", path,
		                    private_key ? "private" : "public");
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return lg_error_set(err, LG_EDATA, "key %s: not an Ed25519 key", path);
	}
	*out = k;
	return LG_OK;
}

int exp_key_check(const char *path, lg_error *err)
{
	EVP_PKEY *k = NULL;
	int rc = load_key(path, 1, &k, err);

	EVP_PKEY_free(k);
	return rc;
}

/* Writes a PEM key to a new file (refused if it exists) with `mode`. */
static int write_pem(const char *path, EVP_PKEY *k, int private_key, mode_t mode,
                     lg_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *fp;
	int ok;

	if (fd < 0)
		return lg_error_set(err, LG_EIO, "%s: %s%s", path, strerror(errno),
		                    errno == EEXIST ? " (a key is never overwritten)" : "");
	fp = fdopen(fd, "w");
	if (!fp) {
		close(fd);
		return lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
	}
	ok = private_key ? PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL)
	                 : PEM_write_PUBKEY(fp, k);
	ok = fclose(fp) == 0 && ok == 1;
	ERR_clear_error();
	if (!ok)
		return lg_error_set(err, LG_EIO, "%s: cannot write the key", path);
	return LG_OK;
}

int exp_keygen(const char *path, lg_error *err)
{
	char pub[4096];
	EVP_PKEY *k = NULL;
	int rc;

	if (snprintf(pub, sizeof pub, "%s" EXP_PUB_SUFFIX, path) >= (int)sizeof pub)
		return lg_error_set(err, LG_EUSAGE, "key path too long");
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k) {
		ERR_clear_error();
		return lg_error_set(err, LG_EINTERNAL, "cannot generate an Ed25519 key");
	}
	rc = write_pem(path, k, 1, 0600, err);
	if (rc == LG_OK) {
		rc = write_pem(pub, k, 0, 0644, err);
		if (rc)
			unlink(path); /* half a key pair is no key pair */
	}
	EVP_PKEY_free(k);
	return rc;
}

int exp_sign(const char *key_path, const unsigned char *msg, size_t len,
             unsigned char sig[EXP_SIG_BYTES], lg_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	size_t sig_len = EXP_SIG_BYTES;
	int rc = load_key(key_path, 1, &k, err);

	if (rc)
		return rc;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, msg, len) != 1) {
		rc = lg_error_set(err, LG_EINTERNAL, "Ed25519 signing failed");
		goto out;
	}
	EXP_ASSERT(sig_len == EXP_SIG_BYTES);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return rc;
}

int exp_verify_sig(const char *pubkey_path, const unsigned char *msg, size_t len,
                   const unsigned char *sig, size_t sig_len, lg_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	int rc = load_key(pubkey_path, 0, &k, err), ok;

	if (rc)
		return rc;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) != 1) {
		rc = lg_error_set(err, LG_EINTERNAL, "Ed25519 verification failed to start");
		goto out;
	}
	ok = sig_len == EXP_SIG_BYTES && EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	rc = ok ? LG_OK : lg_error_set(err, LG_ECHECK, "signature does not match");
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return rc;
}

int exp_sha256_hex(const void *data, size_t len, char hex[LG_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		ERR_clear_error();
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}
