/*
 * manifest.c - MANIFEST.json and its Ed25519 signature: whoever receives an
 * export directory can prove it is whole and unchanged, and which ledger
 * state (chain head) it came from.
 *
 * The signature covers the manifest's exact bytes; the manifest covers every
 * file's size and SHA-256.  Verification names the first thing that does
 * not match: the signature, a listed file, or a file that is not listed.
 */
#include "exporters_int.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MANIFEST_NAME "MANIFEST.json"
#define MANIFEST_SIG_NAME "MANIFEST.json.sig"
#define MANIFEST_FORMAT "clearbook-export-manifest-v1"
#define PATH_MAX_BYTES 4096
#define DIR_ENTRIES_MAX 1024 /* files looked at in an export directory */

static int join(char *buf, const char *dir, const char *name, lg_error *err)
{
	if (snprintf(buf, PATH_MAX_BYTES, "%s/%s", dir, name) >= PATH_MAX_BYTES)
		return lg_error_set(err, LG_EUSAGE, "path too long: %s/%s", dir, name);
	return LG_OK;
}

static json_t *file_entry(const char *dir, const char *name, lg_error *err)
{
	char path[PATH_MAX_BYTES], hex[LG_HASH_HEX];
	struct stat sb;

	if (join(path, dir, name, err))
		return NULL;
	if (stat(path, &sb) != 0) {
		lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (ledger_file_sha256(path, hex, err) != LG_OK)
		return NULL;
	return json_pack("{s:s,s:I,s:s}", "name", name, "size_bytes",
	                 (json_int_t)sb.st_size, "sha256", hex);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int exp_manifest_write(const char *dir, const exp_manifest *m, const char *key_path,
                       lg_error *err)
{
	char path[PATH_MAX_BYTES];
	unsigned char sig[EXP_SIG_BYTES];
	json_t *root = NULL, *files = json_array();
	char *text = NULL;
	int rc = LG_OK;

	EXP_ASSERT(m->files_n >= 0 && m->files_n <= EXP_FILES_MAX);
	for (int i = 0; i < m->files_n && files; i++) {
		json_t *e = file_entry(dir, m->files[i], err);
		if (!e) {
			rc = err->code ? err->code : LG_EINTERNAL;
			goto out;
		}
		json_array_append_new(files, e);
	}
	root = json_pack("{s:s,s:s,s:s,s:s,s:{s:o,s:o},s:{s:I,s:s},s:O}",
	                 "format", MANIFEST_FORMAT, "export", m->export_name,
	                 "command", m->command, "created_at", m->created_at,
	                 "period", "from", str_or_null(m->from), "to", str_or_null(m->to),
	                 "ledger", "transactions", (json_int_t)m->head.seq,
	                 "chain_head", m->head.hash_hex, "files", files);
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (!text) {
		rc = lg_error_set(err, LG_EINTERNAL, "cannot build the manifest");
		goto out;
	}
	{
		size_t len = strlen(text);
		char *t2 = realloc(text, len + 2);
		if (!t2) {
			rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
			goto out;
		}
		text = t2;
		memcpy(text + len, "\n", 2);
	}
	rc = join(path, dir, MANIFEST_NAME, err);
	if (!rc)
		rc = exp_write_file(path, text, strlen(text), 0644, err);
	if (!rc)
		rc = exp_sign(key_path, (const unsigned char *)text, strlen(text), sig, err);
	if (!rc)
		rc = join(path, dir, MANIFEST_SIG_NAME, err);
	if (!rc)
		rc = exp_write_file(path, sig, sizeof sig, 0644, err);
out:
	free(text);
	json_decref(files);
	json_decref(root);
	return rc;
}

/* --- verify ------------------------------------------------------------------ */

static int name_safe(const char *n)
{
	return n[0] && strchr(n, '/') == NULL && strcmp(n, ".") != 0 &&
	       strcmp(n, "..") != 0 && strcmp(n, MANIFEST_NAME) != 0 &&
	       strcmp(n, MANIFEST_SIG_NAME) != 0 && strlen(n) < EXP_NAME_MAX;
}

static int check_file(const char *dir, json_t *e, lg_error *err)
{
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *want = json_string_value(json_object_get(e, "sha256"));
	json_t *size = json_object_get(e, "size_bytes");
	char path[PATH_MAX_BYTES], hex[LG_HASH_HEX];
	struct stat sb;
	int rc;

	if (!name || !want || !json_is_integer(size) || !name_safe(name))
		return lg_error_set(err, LG_ECHECK, "%s: an entry is malformed", MANIFEST_NAME);
	rc = join(path, dir, name, err);
	if (rc)
		return rc;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return lg_error_set(err, LG_ECHECK, "%s: missing", name);
	if ((json_int_t)sb.st_size != json_integer_value(size))
		return lg_error_set(err, LG_ECHECK, "%s: size %lld bytes, the manifest says "
		                    "%lld", name, (long long)sb.st_size,
		                    (long long)json_integer_value(size));
	rc = ledger_file_sha256(path, hex, err);
	if (rc)
		return rc;
	if (strcmp(hex, want) != 0)
		return lg_error_set(err, LG_ECHECK, "%s: SHA-256 %s, the manifest says %s",
		                    name, hex, want);
	return LG_OK;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry of the directory must be listed (or be the manifest). */
static int check_extra(const char *dir, json_t *files, lg_error *err)
{
	char *names[DIR_ENTRIES_MAX];
	size_t n = 0, i;
	struct dirent *d;
	DIR *dp = opendir(dir);
	int rc = LG_OK;

	if (!dp)
		return lg_error_set(err, LG_EIO, "%s: %s", dir, strerror(errno));
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (n == DIR_ENTRIES_MAX) {
			rc = lg_error_set(err, LG_ECHECK, "%s: more than %d files, which no "
			                  "export has", dir, DIR_ENTRIES_MAX);
			break;
		}
		names[n] = strdup(d->d_name);
		if (!names[n]) {
			rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
			break;
		}
		n++;
	}
	closedir(dp);
	qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n && rc == LG_OK; i++) {
		int listed = strcmp(names[i], MANIFEST_NAME) == 0 ||
		             strcmp(names[i], MANIFEST_SIG_NAME) == 0;
		for (size_t k = 0; k < json_array_size(files) && !listed; k++) {
			const char *nm = json_string_value(
				json_object_get(json_array_get(files, k), "name"));
			listed = nm && strcmp(nm, names[i]) == 0;
		}
		if (!listed)
			rc = lg_error_set(err, LG_ECHECK, "%s: not in the manifest", names[i]);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

int exp_manifest_verify(const char *dir, const char *pubkey_path, lg_error *err)
{
	char path[PATH_MAX_BYTES];
	unsigned char *text = NULL, *sig = NULL;
	size_t len = 0, sig_len = 0;
	json_error_t jerr;
	json_t *root = NULL, *files;
	int rc;

	rc = join(path, dir, MANIFEST_NAME, err);
	if (!rc)
		rc = exp_read_file(path, &text, &len, err);
	if (rc)
		goto out;
	rc = join(path, dir, MANIFEST_SIG_NAME, err);
	if (!rc && exp_read_file(path, &sig, &sig_len, err) != LG_OK)
		rc = lg_error_set(err, LG_ECHECK, "%s: missing or unreadable",
		                  MANIFEST_SIG_NAME);
	if (!rc)
		rc = exp_verify_sig(pubkey_path, text, len, sig, sig_len, err);
	if (rc == LG_ECHECK && strstr(err->msg, "signature does not match"))
		lg_error_set(err, LG_ECHECK, "%s: the signature does not match (the manifest "
		             "or its signature was changed, or another key signed it)",
		             MANIFEST_NAME);
	if (rc)
		goto out;
	root = json_loadb((const char *)text, len, 0, &jerr);
	files = root ? json_object_get(root, "files") : NULL;
	if (!json_is_array(files) || !json_is_string(json_object_get(root, "format")) ||
	    strcmp(json_string_value(json_object_get(root, "format")), MANIFEST_FORMAT)) {
		rc = lg_error_set(err, LG_ECHECK, "%s: not a clearbook export manifest",
		                  MANIFEST_NAME);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(files) && !rc; i++)
		rc = check_file(dir, json_array_get(files, i), err);
	if (!rc)
		rc = check_extra(dir, files, err);
out:
	json_decref(root);
	free(text);
	free(sig);
	return rc;
}
