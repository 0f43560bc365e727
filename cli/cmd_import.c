/*
 * cmd_import.c - import channel files into the staging area, and list what
 * was staged: the glue between importers/ (which read files) and the
 * ledger's staging area (which stores them).
 */
#include "cli.h"
#include "../importers/importers.h"

#include <jansson.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct import_ctx {
	ledger *lg;
	ledger_stage_result res;
	int strict;
	long statuses;
};

static int sink_begin(void *p, const imp_statement *st, lg_error *err)
{
	struct import_ctx *c = p;
	return ledger_stage_statement(c->lg, st, &c->res, err);
}

static int sink_line(void *p, const imp_statement *st, const imp_line *ln,
                     lg_error *err)
{
	struct import_ctx *c = p;
	return ledger_stage_line(c->lg, st, ln, &c->res, err);
}

static int sink_end(void *p, const imp_statement *st, lg_error *err)
{
	struct import_ctx *c = p;
	return ledger_stage_statement_end(c->lg, st, c->strict, &c->res, err);
}

static int sink_status(void *p, const imp_status *s, lg_error *err)
{
	struct import_ctx *c = p;
	return ledger_stage_status(c->lg, s, &c->res, err);
}

static int scale_of(void *p, const char *asset, int *scale)
{
	return ledger_asset_scale(p, asset, scale, NULL);
}

/* Each refused CSV row on stderr as it is found, so that one run names
 * every bad row; the message already starts with FILE:LINE. */
static void print_reject(void *ctx, const lg_error *err)
{
	(void)ctx;
	fprintf(stderr, "clearbook: %s\n", err->msg);
}

/* Breaks are recorded, not refused: say so on stderr as warnings, so that
 * whoever runs the import sees them at once.  The file's breaks are the
 * last ones recorded. */
struct break_warn {
	const char *file;
	long total, skip;
};

static int count_break(void *ctx, const ledger_break_row *r)
{
	(void)r;
	((struct break_warn *)ctx)->total++;
	return 0;
}

static int warn_break(void *ctx, const ledger_break_row *r)
{
	struct break_warn *bw = ctx;
	if (bw->skip-- <= 0)
		fprintf(stderr, "clearbook: warning: %s: %s break: %s\n", bw->file, r->kind,
		        r->detail);
	return 0;
}

static void warn_breaks(ledger *lg, const char *file, long breaks)
{
	struct break_warn bw = { file, 0, 0 };
	if (breaks <= 0 || ledger_breaks_list(lg, count_break, &bw, NULL) != LG_OK)
		return;
	bw.skip = bw.total - breaks;
	ledger_breaks_list(lg, warn_break, &bw, NULL);
}

#define IMPORT_SETS_MAX 8

struct import_opts {
	const char *profile, *profile_file, *account, *channel, *profiles_dir;
	const char *set[IMPORT_SETS_MAX];
	int sets;
	int strict, dry_run;
	imp_profile *csv;         /* NULL for iso20022 */
};

/* Where shipped profiles live: $CLEARBOOK_PROFILES, else the source tree
 * the binary was built in (bin/ or build/VARIANT/ below it), else the
 * installed share directory (bin/../share/clearbook/profiles). */
static void profiles_dir(char *out, size_t cap)
{
	char exe[PATH_MAX], probe[PATH_MAX + 64];
	const char *env = getenv("CLEARBOOK_PROFILES");
	ssize_t n;
	char *slash;

	if (env && env[0]) {
		snprintf(out, cap, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(out, cap, "importers/profiles");
		return;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	/* bin/ and build/VARIANT/ in the source tree, then an installed tree */
	static const char *const up[] = { "/..", "/../.." };
	for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
		snprintf(probe, sizeof probe, "%s%s/importers/profiles/bank-csv.ini", exe, up[i]);
		if (access(probe, R_OK) == 0) {
			snprintf(out, cap, "%s%s/importers/profiles", exe, up[i]);
			return;
		}
	}
	snprintf(out, cap, "%s/../share/clearbook/profiles", exe);
}

static int load_profile(struct import_opts *o)
{
	char dir[PATH_MAX + 64];
	lg_error err;
	int rc;

	lg_error_init(&err);
	if (!o->profile_file && strcmp(o->profile, "iso20022") == 0)
		return 0;
	profiles_dir(dir, sizeof dir);
	rc = imp_profile_load(o->profile_file ? o->profile_file : o->profile,
	                      o->profiles_dir ? o->profiles_dir : dir, &o->csv, &err);
	for (int i = 0; !rc && i < o->sets; i++) {
		char key[128];
		const char *eq = strchr(o->set[i], '=');
		if (!eq || (size_t)(eq - o->set[i]) >= sizeof key) {
			fprintf(stderr, "clearbook: --set '%s' is not SECTION.KEY=VALUE\n", o->set[i]);
			return LG_EUSAGE;
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - o->set[i]), o->set[i]);
		rc = imp_profile_set(o->csv, key, eq + 1, &err);
	}
	if (rc == LG_ENOINPUT && !o->profile_file) {
		fprintf(stderr, "clearbook: import: there is no profile '%s' (see clearbook "
		        "import --help; %s)\n", o->profile, err.msg);
		return LG_EUSAGE;
	}
	if (rc)
		return cli_fail(&err);
	if (!o->channel)
		o->channel = imp_profile_channel(o->csv);
	o->profile = imp_profile_name(o->csv);
	return 0;
}

/* A feed posted straight to the ledger ([posting] profiles): each row is
 * one transaction, inside the file's database transaction. */
static int post_row(void *ctx, const imp_line *ln, const char *json, size_t len,
                    int *replayed, lg_error *err)
{
	(void)ln;
	return ledger_post_json(ctx, json, len, replayed, NULL, err);
}

/* Posts one file whose staging (the SHA-256 record) has begun: all rows
 * or, at the first refusal anywhere in the file, nothing. */
static int post_file(ledger *lg, const struct import_opts *o, const char *path)
{
	long refused = 0, posted = 0, replayed = 0;
	lg_error err;
	int rc;

	lg_error_init(&err);
	rc = imp_csv_post_all(path, o->csv, scale_of, lg, post_row, lg, print_reject,
	                      NULL, &refused, &posted, &replayed, &err);
	if (rc) {
		ledger_stage_end(lg, 0, NULL);
		fprintf(stderr, "clearbook: %s\n", err.msg);
		if (refused == 0)
			fprintf(stderr, "clearbook: %s: nothing was posted\n", path);
		return rc;
	}
	rc = ledger_stage_end(lg, !o->dry_run, &err);
	if (rc)
		return cli_fail(&err);
	printf("%s: %s%ld transaction(s) %s, %ld replayed (already posted)\n", path,
	       o->dry_run ? "dry run, valid: " : "", posted,
	       o->dry_run ? "would be posted" : "posted", replayed);
	return 0;
}


/* --- the reader and the stager, side by side -----------------------------
 *
 * Reading a file (decoding, parsing, checking every field) and staging it
 * (one SQLite row per line) each take about half of an import, so they run
 * on two threads: the reader's sink copies what it hears into blocks, and
 * this thread stages the blocks in file order.  Only this thread touches
 * the ledger.  Memory is bounded: PIPE_BLOCKS blocks of PIPE_BLOCK_BYTES.
 */
#define PIPE_BLOCK_BYTES ((size_t)1 << 20)
#define PIPE_BLOCKS 3
#define PIPE_RUN_LINES 256               /* lines handed to the ledger at once */
#define ASSETS_MAX 4096           /* assets the reader can look up */

enum pipe_kind { PIPE_BEGIN, PIPE_LINE, PIPE_END, PIPE_STATUS };

/* The string members of each record kind, copied into the block. */
static const size_t stmt_strs[] = {
	offsetof(imp_statement, message_type), offsetof(imp_statement, msg_id),
	offsetof(imp_statement, statement_id), offsetof(imp_statement, account_id),
	offsetof(imp_statement, asset), offsetof(imp_statement, from_date),
	offsetof(imp_statement, to_date), offsetof(imp_statement, raw_header),
};
static const size_t line_strs[] = {
	offsetof(imp_line, entry_ref), offsetof(imp_line, booking_date),
	offsetof(imp_line, value_date), offsetof(imp_line, asset),
	offsetof(imp_line, counterparty_name), offsetof(imp_line, counterparty_account),
	offsetof(imp_line, end_to_end_id), offsetof(imp_line, instruction_id),
	offsetof(imp_line, provider_ref), offsetof(imp_line, uetr),
	offsetof(imp_line, remittance), offsetof(imp_line, tx_code),
	offsetof(imp_line, status), offsetof(imp_line, batch_id),
	offsetof(imp_line, return_reason), offsetof(imp_line, charges),
	offsetof(imp_line, raw_json),
};
static const size_t status_strs[] = {
	offsetof(imp_status, message_type), offsetof(imp_status, msg_id),
	offsetof(imp_status, orig_msg_id), offsetof(imp_status, orig_pmt_inf_id),
	offsetof(imp_status, orig_instr_id), offsetof(imp_status, orig_end_to_end_id),
	offsetof(imp_status, status), offsetof(imp_status, reason_code),
	offsetof(imp_status, reason_text),
};

struct pipe_rec {            /* a record's head; the struct and its strings follow */
	int kind;
	size_t size;             /* bytes of the whole record, aligned */
};

struct pipe_block {
	char *buf;
	size_t len;
};

struct asset_scale {
	char code[LG_ASSET_CODE_MAX + 1];
	int scale;
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pipe_block block[PIPE_BLOCKS];
	int head, filled;        /* oldest filled block, and how many */
	int fill;                /* the block the reader writes */
	int done;                /* the reader has finished */
	atomic_int stop;         /* staging failed: the reader gives up */
	/* the file's hash, checked between blocks */
	ledger *lg;
	const ledger_stage_file *f;
	struct sha_job *sha;
	/* the reader's side */
	const struct import_opts *o;
	const char *path;
	struct asset_scale *assets;
	int assets_n;
	int read_rc;
	long refused;
	lg_error read_err;
};

/* The file's SHA-256, computed on a thread of its own while the file is
 * read and staged: hashing a large file first would add its whole time. */
struct sha_job {
	const char *path;
	pthread_t th;
	atomic_int done;
	int rc;
	lg_error err;
	char hex[LG_HASH_HEX];
	int checked;              /* given to the staging */
};

static void *sha_thread(void *arg)
{
	struct sha_job *j = arg;

	lg_error_init(&j->err);
	j->rc = ledger_file_sha256(j->path, j->hex, &j->err);
	atomic_store(&j->done, 1);
	return NULL;
}

/* Gives the staging the file's SHA-256 once it is known (wait: block until
 * it is).  A file imported before sets c->res.already_imported. */
static int sha_check(ledger *lg, const ledger_stage_file *f, struct sha_job *j,
                     struct import_ctx *c, int wait, lg_error *err)
{
	if (j->checked || (!wait && !atomic_load(&j->done)))
		return 0;
	pthread_join(j->th, NULL);
	j->checked = 1;
	if (j->rc) {
		if (err)
			*err = j->err;
		return j->rc;
	}
	return ledger_stage_file_hash(lg, f, j->hex, &c->res, err);
}

static int pipe_scale(void *ctx, const char *asset, int *scale)
{
	const struct pipe *p = ctx;
	int lo = 0, hi = p->assets_n - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = strcmp(asset, p->assets[mid].code);
		if (c == 0) {
			*scale = p->assets[mid].scale;
			return 0;
		}
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return 1;
}

/* The ledger's assets, in code order, for the reader to look up without
 * touching the database from its thread. */
static int keep_asset(void *ctx, const char *code, int scale)
{
	struct pipe *p = ctx;
	if (p->assets_n >= ASSETS_MAX || strlen(code) > LG_ASSET_CODE_MAX)
		return LG_EDATA;
	snprintf(p->assets[p->assets_n].code, sizeof p->assets[0].code, "%s", code);
	p->assets[p->assets_n++].scale = scale;
	return 0;
}

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15; /* amount_minor_t is 16-byte aligned */
}

/* Hands the block being filled to the stager and waits for an empty one. */
static void pipe_hand_over(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->filled++;
	pthread_cond_broadcast(&p->cv);
	while (p->filled >= PIPE_BLOCKS - 1 && !atomic_load(&p->stop))
		pthread_cond_wait(&p->cv, &p->mu);
	p->fill = (p->head + p->filled) % PIPE_BLOCKS;
	p->block[p->fill].len = 0;
	pthread_mutex_unlock(&p->mu);
}

/* Copies a record (struct `obj` of `n` bytes whose string members sit at
 * `strs`) into the block being filled; strings become offsets from the
 * record's start, 0 for NULL. */
static int pipe_put(struct pipe *p, int kind, const void *obj, size_t n,
                    const size_t *strs, size_t nstrs, lg_error *err)
{
	size_t size = align16(sizeof(struct pipe_rec)) + align16(n);
	struct pipe_block *b;
	struct pipe_rec *r;
	char *base;

	if (atomic_load_explicit(&p->stop, memory_order_relaxed))
		return lg_error_set(err, LG_EDATA, "staging stopped");
	for (size_t i = 0; i < nstrs; i++) {
		const char *s = *(const char *const *)((const char *)obj + strs[i]);
		if (s)
			size += strlen(s) + 1;
	}
	size = align16(size);
	if (size > PIPE_BLOCK_BYTES)
		return lg_error_set(err, LG_EDATA, "%s: a record of %zu bytes is too big",
		                    p->path, size);
	if (p->block[p->fill].len + size > PIPE_BLOCK_BYTES)
		pipe_hand_over(p);
	b = &p->block[p->fill];
	base = b->buf + b->len;
	r = (struct pipe_rec *)(void *)base;
	r->kind = kind;
	r->size = size;
	{
		char *copy = base + align16(sizeof *r);
		size_t at = align16(sizeof *r) + align16(n);
		memcpy(copy, obj, n);
		for (size_t i = 0; i < nstrs; i++) {
			const char *s = *(const char *const *)((const char *)obj + strs[i]);
			uintptr_t off = 0;
			if (s) {
				size_t len = strlen(s) + 1;
				memcpy(base + at, s, len);
				off = at;
				at += len;
			}
			memcpy(copy + strs[i], &off, sizeof off);
		}
	}
	b->len += size;
	return 0;
}

static int pipe_begin(void *ctx, const imp_statement *st, lg_error *err)
{
	return pipe_put(ctx, PIPE_BEGIN, st, sizeof *st, stmt_strs,
	                sizeof stmt_strs / sizeof stmt_strs[0], err);
}

static int pipe_line(void *ctx, const imp_statement *st, const imp_line *ln,
                     lg_error *err)
{
	(void)st; /* staging a line needs only the line */
	return pipe_put(ctx, PIPE_LINE, ln, sizeof *ln, line_strs,
	                sizeof line_strs / sizeof line_strs[0], err);
}

static int pipe_end(void *ctx, const imp_statement *st, lg_error *err)
{
	return pipe_put(ctx, PIPE_END, st, sizeof *st, stmt_strs,
	                sizeof stmt_strs / sizeof stmt_strs[0], err);
}

static int pipe_status(void *ctx, const imp_status *s, lg_error *err)
{
	return pipe_put(ctx, PIPE_STATUS, s, sizeof *s, status_strs,
	                sizeof status_strs / sizeof status_strs[0], err);
}

static void *pipe_reader(void *arg)
{
	struct pipe *p = arg;
	imp_sink sink = { p, pipe_begin, pipe_line, pipe_end, pipe_status };

	lg_error_init(&p->read_err);
	p->read_rc = p->o->csv ? imp_csv_read_all(p->path, p->o->csv, pipe_scale, p,
	                                          &sink, print_reject, NULL,
	                                          &p->refused, &p->read_err)
	                       : imp_iso20022_read(p->path, pipe_scale, p, &sink,
	                                           &p->read_err);
	pthread_mutex_lock(&p->mu);
	p->filled++; /* the last block, however full */
	p->done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Turns a record's offsets back into pointers into the block. */
static void *pipe_fix(struct pipe_rec *r, const size_t *strs, size_t nstrs)
{
	char *base = (char *)r, *obj = base + align16(sizeof *r);
	for (size_t i = 0; i < nstrs; i++) {
		uintptr_t off;
		const char *s;
		memcpy(&off, obj + strs[i], sizeof off);
		s = off ? base + off : NULL;
		memcpy(obj + strs[i], &s, sizeof s);
	}
	return obj;
}

static int stage_record(struct import_ctx *c, struct pipe_rec *r, lg_error *err)
{
	switch (r->kind) {
	case PIPE_BEGIN:
		return sink_begin(c, pipe_fix(r, stmt_strs, sizeof stmt_strs /
		                  sizeof stmt_strs[0]), err);
	case PIPE_LINE:
		return sink_line(c, NULL, pipe_fix(r, line_strs, sizeof line_strs /
		                 sizeof line_strs[0]), err);
	case PIPE_END:
		return sink_end(c, pipe_fix(r, stmt_strs, sizeof stmt_strs /
		                sizeof stmt_strs[0]), err);
	default:
		return sink_status(c, pipe_fix(r, status_strs, sizeof status_strs /
		                   sizeof status_strs[0]), err);
	}
}

/* Stages one block in order; runs of lines go to the ledger together
 * (several rows to one insert), while their records are alive. */
static int stage_block(struct import_ctx *c, struct pipe_block *b, lg_error *err)
{
	const imp_line *run[PIPE_RUN_LINES];
	size_t n = 0;
	int rc = 0;

	for (size_t at = 0; at < b->len && rc == 0;) {
		struct pipe_rec *r = (struct pipe_rec *)(void *)(b->buf + at);
		at += r->size;
		if (r->kind == PIPE_LINE) {
			run[n++] = pipe_fix(r, line_strs, sizeof line_strs / sizeof line_strs[0]);
			if (n < PIPE_RUN_LINES)
				continue;
		}
		if (n > 0)
			rc = ledger_stage_lines(c->lg, NULL, run, n, &c->res, err);
		if (rc == 0 && r->kind != PIPE_LINE)
			rc = stage_record(c, r, err);
		n = 0;
	}
	if (rc == 0 && n > 0)
		rc = ledger_stage_lines(c->lg, NULL, run, n, &c->res, err);
	return rc;
}

/* Stages what the reader sends until it is done; the first staging error
 * stops the reader and is returned in err. */
static int pipe_stage(struct pipe *p, struct import_ctx *c, lg_error *err)
{
	int rc = 0;

	for (;;) {
		struct pipe_block *b;
		int last;

		pthread_mutex_lock(&p->mu);
		while (p->filled == 0 && !p->done)
			pthread_cond_wait(&p->cv, &p->mu);
		last = p->done && p->filled <= 1;
		if (p->filled == 0) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		b = &p->block[p->head];
		pthread_mutex_unlock(&p->mu);
		rc = stage_block(c, b, err);
		/* A file imported before is known as soon as its hash is: stop. */
		if (rc == 0)
			rc = sha_check(p->lg, p->f, p->sha, c, 0, err);
		if (rc == 0 && c->res.already_imported)
			rc = -1;
		if (rc)
			atomic_store(&p->stop, 1);
		pthread_mutex_lock(&p->mu);
		p->head = (p->head + 1) % PIPE_BLOCKS;
		p->filled--;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (last)
			break;
	}
	return rc;
}

static void pipe_release(struct pipe *p)
{
	for (int i = 0; i < PIPE_BLOCKS; i++)
		free(p->block[i].buf);
	free(p->assets);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

/* Reads `path` on a second thread and stages it on this one.  Returns the
 * first error (staging's before the reader's: it is earlier in the file),
 * with *refused the CSV rows the reader refused. */
static int read_and_stage(ledger *lg, const struct import_opts *o, const char *path,
                          const ledger_stage_file *f, struct sha_job *sha,
                          struct import_ctx *c, long *refused, lg_error *err)
{
	struct pipe p;
	pthread_t th;
	lg_error serr;
	int rc;

	memset(&p, 0, sizeof p);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	p.o = o;
	p.path = path;
	p.lg = lg;
	p.f = f;
	p.sha = sha;
	p.assets = calloc(ASSETS_MAX, sizeof *p.assets);
	rc = p.assets ? 0 : lg_error_set(err, LG_EINTERNAL, "out of memory");
	for (int i = 0; !rc && i < PIPE_BLOCKS; i++) {
		p.block[i].buf = malloc(PIPE_BLOCK_BYTES);
		if (!p.block[i].buf)
			rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
	}
	if (!rc)
		rc = ledger_asset_list(lg, keep_asset, &p, err);
	if (!rc && pthread_create(&th, NULL, pipe_reader, &p) != 0)
		rc = lg_error_set(err, LG_EINTERNAL, "cannot start the reader thread");
	if (rc) {
		pipe_release(&p);
		return rc;
	}
	lg_error_init(&serr);
	rc = pipe_stage(&p, c, &serr);
	pthread_join(th, NULL);
	*refused = p.refused;
	if (rc == -1) /* already imported: not an error */
		rc = 0;
	else if (rc)
		*err = serr;
	else if (p.read_rc) {
		rc = p.read_rc;
		*err = p.read_err;
	}
	pipe_release(&p);
	return rc;
}

/* Posting feeds hash their (small) file first; staged files are hashed
 * while they are read. */
static int import_posted(ledger *lg, const struct import_opts *o, const char *path)
{
	struct import_ctx c;
	ledger_stage_file f;
	char sha[LG_HASH_HEX];
	lg_error err;
	int rc;

	memset(&c, 0, sizeof c);
	lg_error_init(&err);
	rc = ledger_file_sha256(path, sha, &err);
	if (rc)
		return cli_fail(&err);
	f.sha256_hex = sha;
	f.name = path;
	f.profile = o->profile;
	f.channel = o->channel;
	f.account = o->account;
	rc = ledger_stage_begin(lg, &f, &c.res, &err);
	if (rc)
		return cli_fail(&err);
	if (c.res.already_imported) {
		printf("%s: already imported (same SHA-256 %.12s...), nothing to do\n",
		       path, sha);
		return 0;
	}
	return post_file(lg, o, path);
}

static int import_one(ledger *lg, const struct import_opts *o, const char *path)
{
	struct import_ctx c;
	struct sha_job sha;
	ledger_stage_file f;
	lg_error err;
	long refused = 0;
	int rc;

	if (o->csv && imp_profile_posts(o->csv))
		return import_posted(lg, o, path);
	memset(&c, 0, sizeof c);
	memset(&sha, 0, sizeof sha);
	c.lg = lg;
	c.strict = o->strict;
	lg_error_init(&err);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "clearbook: %s: cannot read: %s\n", path, strerror(errno));
		return errno == ENOENT ? LG_ENOINPUT : LG_EIO;
	}
	f.sha256_hex = NULL; /* computed alongside, given before the end */
	f.name = path;
	f.profile = o->profile;
	f.channel = o->channel;
	f.account = o->account;
	rc = ledger_stage_begin(lg, &f, &c.res, &err);
	if (rc)
		return cli_fail(&err);
	sha.path = path;
	if (pthread_create(&sha.th, NULL, sha_thread, &sha) != 0) {
		ledger_stage_end(lg, 0, NULL);
		fprintf(stderr, "clearbook: %s: cannot start the hashing thread\n", path);
		return LG_EINTERNAL;
	}
	rc = read_and_stage(lg, o, path, &f, &sha, &c, &refused, &err);
	if (!sha.checked) {
		int hrc = sha_check(lg, &f, &sha, &c, 1, rc ? NULL : &err);
		if (!rc)
			rc = hrc;
	}
	if (c.res.already_imported) {
		ledger_stage_end(lg, 0, NULL);
		printf("%s: already imported (same SHA-256 %.12s...), nothing to do\n",
		       path, sha.hex);
		return 0;
	}
	if (rc) {
		ledger_stage_end(lg, 0, NULL);
		fprintf(stderr, "clearbook: %s\n", err.msg);
		/* With rows refused, the reader's final message says it already. */
		if (refused == 0)
			fprintf(stderr, "clearbook: %s: nothing was staged\n", path);
		return rc;
	}
	if (o->dry_run)
		warn_breaks(lg, path, c.res.breaks);
	rc = ledger_stage_end(lg, !o->dry_run, &err);
	if (rc) {
		/* The commit failed (a full disk): the file is rolled back whole. */
		fprintf(stderr, "clearbook: %s: %s\nclearbook: %s: nothing was staged\n",
		        path, err.msg, path);
		return rc;
	}
	if (!o->dry_run)
		warn_breaks(lg, path, c.res.breaks);
	printf("%s: %s%ld statement(s), %ld line(s) %s, %ld duplicate(s) skipped, "
	       "%ld payment status(es), %ld break(s)\n", path,
	       o->dry_run ? "dry run, valid: " : "", c.res.statements, c.res.lines,
	       o->dry_run ? "would be staged" : "staged", c.res.duplicates,
	       c.res.statuses, c.res.breaks);
	return 0;
}

int cmd_import(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook import (--profile NAME | --profile-file FILE)\n"
		"                        [--account CODE] [--channel C] [--set S.KEY=VALUE]\n"
		"                        [--strict] [--dry-run] FILE...\n"
		"Stages channel files as statement lines for reconciliation, each file\n"
		"whole or not at all; the same file again (same SHA-256) is a no-op and\n"
		"an entry already staged from another file is kept once.\n"
		"Profiles: iso20022 (camt.052, camt.053, camt.054 .001.02-.08 and later;\n"
		"pain.002, told apart by namespace); CSV profiles under\n"
		"importers/profiles/: bank-csv, card-settlement, alipay, alipay-merchant,\n"
		"wechat, wechat-merchant, chain-transfers, disputes (see its README);\n"
		"orders posts each row of an order feed to the ledger as a transaction\n"
		"through its [posting] template instead of staging it.\n"
		"  --profile-file FILE  a CSV profile of your own (INI)\n"
		"  --set S.KEY=VALUE    override a profile key, e.g. --set\n"
		"                       amount.own_address=0x7e2f... for chain-transfers\n"
		"  --account CODE  ledger account the file is for, where the file's own\n"
		"                  account id has no alias (clearbook account alias add)\n"
		"  --channel C     channel name (default: the profile's; bank for XML)\n"
		"  --strict        refuse a statement whose opening balance plus booked\n"
		"                  entries is not its closing balance (else: a break)\n"
		"  --dry-run       read and check everything, stage nothing\n";
	struct import_opts o;
	const char *set = NULL;
	const char *pos[CLI_POSITIONAL_MAX];
	ledger *lg;
	int n, worst = 0, rc;

	memset(&o, 0, sizeof o);
	struct cli_opt opts[] = { { "--profile", &o.profile, NULL },
	                          { "--profile-file", &o.profile_file, NULL },
	                          { "--profiles-dir", &o.profiles_dir, NULL },
	                          { "--account", &o.account, NULL },
	                          { "--channel", &o.channel, NULL },
	                          { "--set", &set, NULL },
	                          { "--strict", NULL, &o.strict },
	                          { "--dry-run", NULL, &o.dry_run }, { NULL, NULL, NULL } };
	/* --set may repeat: collect each occurrence before the generic parse. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (o.sets >= IMPORT_SETS_MAX)
			break;
		if (strcmp(argv[i], "--set") == 0 && i + 1 < argc)
			o.set[o.sets++] = argv[++i];
		else if (strncmp(argv[i], "--set=", 6) == 0)
			o.set[o.sets++] = argv[i] + 6;
	}
	rc = cli_parse(argc, argv, opts, pos, 1, CLI_POSITIONAL_MAX, &n, usage);
	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (!o.profile && !o.profile_file) {
		fprintf(stderr, "clearbook: import: --profile NAME or --profile-file FILE is "
		        "needed\n%s", usage);
		return LG_EUSAGE;
	}
	if (!o.profile)
		o.profile = "custom";
	rc = load_profile(&o);
	if (rc)
		return rc;
	if (!o.channel)
		o.channel = "bank";
	rc = cli_open(cx, 0, &lg);
	if (rc) {
		imp_profile_free(o.csv);
		return rc;
	}
	for (int i = 0; i < n; i++) {
		rc = import_one(lg, &o, pos[i]);
		if (rc && !worst)
			worst = rc;
	}
	ledger_close(lg);
	imp_profile_free(o.csv);
	return worst;
}

/* --- statement list / breaks ------------------------------------------- */

/* The cells of a staged line as the table shows them; amt is the caller's. */
static void staged_cells(const ledger_staged_row *r, char id[32], char parent[32],
                         char amt[AMOUNT_TEXT_MAX], const char *cells[12])
{
	snprintf(id, 32, "%lld", r->id);
	snprintf(parent, 32, "%lld", r->parent_id);
	if (r->scale >= 0)
		amount_format(r->amount_minor, r->scale, amt, AMOUNT_TEXT_MAX);
	else
		amount_format_minor(r->amount_minor, amt, AMOUNT_TEXT_MAX);
	const char *c[] = { id, r->channel, r->account, r->booking_date, amt,
	                    r->asset, r->status, r->entry_ref, r->end_to_end_id,
	                    r->counterparty_name, r->parent_id ? parent : "",
	                    r->is_batch ? "batch" : r->reversal ? "reversal" : "" };
	memcpy(cells, c, sizeof c);
}

static int staged_row(void *ctx, const ledger_staged_row *r)
{
	char id[32], parent[32], amt[AMOUNT_TEXT_MAX];
	const char *cells[12];

	staged_cells(r, id, parent, amt, cells);
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

/* --raw in text or CSV: each line's provenance and original fields, the
 * JSON object statement_lines_raw gives. */
static int staged_raw_row(void *ctx, const ledger_staged_row *r)
{
	char id[32], line[32];

	snprintf(id, sizeof id, "%lld", r->id);
	snprintf(line, sizeof line, "%ld", r->line_no);
	const char *cells[] = { id, r->file_name, line, r->raw };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

struct staged_json {
	const char *const *names;
	const unsigned *flags;
	long rows;
};

/* JSON: the table's columns, then the line's file, line number and
 * original fields (as an object), one object a line, streamed. */
static int staged_json_row(void *ctx, const ledger_staged_row *r)
{
	struct staged_json *sj = ctx;
	char id[32], parent[32], amt[AMOUNT_TEXT_MAX];
	const char *cells[12];
	json_t *o = json_object(), *raw;
	char *text;

	if (!o)
		return LG_EINTERNAL;
	staged_cells(r, id, parent, amt, cells);
	for (int c = 0; c < 12; c++) {
		const char *v = cells[c] ? cells[c] : "";
		json_object_set_new(o, sj->names[c], (sj->flags[c] & OUT_INTEGER) && v[0]
		                    ? json_integer(strtoll(v, NULL, 10)) : json_string(v));
	}
	json_object_set_new(o, "file", json_string(r->file_name ? r->file_name : ""));
	json_object_set_new(o, "line", json_integer(r->line_no));
	raw = r->raw ? json_loads(r->raw, JSON_DECODE_ANY, NULL) : NULL;
	json_object_set_new(o, "raw", raw ? raw : json_string(r->raw ? r->raw : ""));
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(o);
	if (!text)
		return LG_EINTERNAL;
	printf("%s\n  %s", sj->rows++ ? "," : "", text);
	free(text);
	return 0;
}

static int break_row(void *ctx, const ledger_break_row *r)
{
	char id[32];
	snprintf(id, sizeof id, "%lld", r->id);
	const char *cells[] = { id, r->kind, r->account, r->statement_id, r->file_name,
	                        r->detail };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

int cmd_statement(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook statement list [--channel C] [--date YYYY-MM-DD]\n"
		"                                [--format text|csv|json] [--raw]\n"
		"       clearbook statement breaks [--format text|csv|json]\n"
		"Lists staged statement lines (a batch's children name their parent),\n"
		"or the breaks found while staging: balances that do not add up,\n"
		"sequence gaps and overlaps, openings that differ from the previous\n"
		"closing, statements imported twice.  JSON gives each line's file, line\n"
		"number and original fields (\"raw\", as read from the file); --raw shows\n"
		"those alone (id, file, line, raw) as text or CSV.\n";
	static const char *const names[] = { "id", "channel", "account", "booked",
	                                     "amount", "asset", "status", "entry_ref",
	                                     "end_to_end_id", "counterparty", "parent",
	                                     "flags" };
	static const unsigned flags[] = { OUT_INTEGER, 0, 0, 0, OUT_NUMERIC, 0, 0, 0, 0,
	                                  0, OUT_INTEGER, 0 };
	static const char *const bnames[] = { "id", "kind", "account", "statement",
	                                      "file", "detail" };
	static const unsigned bflags[] = { OUT_INTEGER, 0, 0, 0, 0, 0 };
	static const char *const rnames[] = { "id", "file", "line", "raw" };
	static const unsigned rflags[] = { OUT_INTEGER, 0, OUT_INTEGER, 0 };
	const char *channel = NULL, *date = NULL, *format = NULL, *pos[1];
	int raw = 0;
	struct cli_opt opts[] = { { "--channel", &channel, NULL }, { "--date", &date, NULL },
	                          { "--format", &format, NULL }, { "--raw", NULL, &raw },
	                          { NULL, NULL, NULL } };
	enum out_format f;
	out_table t;
	lg_error err;
	ledger *lg;
	int n, breaks, rc = cli_parse(argc, argv, opts, pos, 1, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	breaks = strcmp(pos[0], "breaks") == 0;
	if ((!breaks && strcmp(pos[0], "list") != 0) || cli_format(format, &f)) {
		fputs(usage, stderr);
		return LG_EUSAGE;
	}
	if (date && !ledger_date_valid(date)) {
		fprintf(stderr, "clearbook: --date '%s' is not YYYY-MM-DD\n", date);
		return LG_EUSAGE;
	}
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	if (!breaks && f == OUT_JSON) {
		struct staged_json sj = { names, flags, 0 };
		out_table_init(&t, 12, names, flags);
		fputs("[", stdout);
		rc = ledger_staged_list(lg, channel, date, staged_json_row, &sj, &err);
		fputs(sj.rows ? "\n]\n" : "]\n", stdout);
	} else if (breaks) {
		out_table_init(&t, 6, bnames, bflags);
		rc = ledger_breaks_list(lg, break_row, &t, &err);
	} else if (raw) {
		out_table_init(&t, 4, rnames, rflags);
		rc = ledger_staged_list(lg, channel, date, staged_raw_row, &t, &err);
	} else {
		out_table_init(&t, 12, names, flags);
		rc = ledger_staged_list(lg, channel, date, staged_row, &t, &err);
	}
	if (!rc && (breaks || f != OUT_JSON))
		out_table_print(&t, f, stdout);
	out_table_release(&t);
	ledger_close(lg);
	return rc ? cli_fail(&err) : 0;
}
