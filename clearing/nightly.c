/*
 * nightly.c - the nightly batch: lock, import the inbox, reconcile every
 * channel, apply payment statuses, expire holds, write the reports.
 *
 * Every step is idempotent on its own (a file is recognised by its SHA-256,
 * a match by its lines, a reversal happens once, a break is recorded once),
 * so a night that was killed is simply run again, and a finished night run
 * again changes nothing.  Imports run as child processes of the same binary:
 * an importer that fails, or crashes on a hostile file, cannot take the
 * night down with it, and its message becomes the reason the file was set
 * aside.
 */
#include "clearing_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ledger/ledger_sql.h"

#define PATH_BYTES 4096
#define INBOX_FILES_MAX 10000
#define IMPORT_ARGS_MAX 20
#define REASON_BYTES_MAX 4000

struct night {
	char detail[LG_MSG_MAX];   /* counts of the step that just ran */
	ledger *lg;
	const clr_config *cfg;
	const clr_nightly_opts *o;
	clr_nightly_result *res;
	lg_error *err;
	long long run_id;
	char outdir[PATH_BYTES];
};

static void progress(const struct night *n, const char *fmt, const char *arg)
{
	if (!n->o->progress)
		return;
	fprintf(stderr, "nightly %s: ", n->o->date);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

static int mkdir_p(const char *path, lg_error *err)
{
	char buf[PATH_BYTES];
	size_t len = strlen(path);

	if (len >= sizeof buf)
		return lg_error_set(err, LG_EUSAGE, "path too long: %s", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return lg_error_set(err, LG_EIO, "%s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return lg_error_set(err, LG_EIO, "%s: %s", buf, strerror(errno));
	return LG_OK;
}

/* --- lock and run record ------------------------------------------------ */
static int take_lock(const char *db_path, int *fd_out, lg_error *err)
{
	char path[PATH_BYTES];
	int fd;

	snprintf(path, sizeof path, "%s.nightly.lock", db_path);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0)
		return lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = errno == EWOULDBLOCK;
		close(fd);
		if (busy)
			return lg_error_set(err, LG_EBUSY, "another nightly run is in progress "
			                    "on %s (lock %s held); try again when it ends",
			                    db_path, path);
		return lg_error_set(err, LG_EIO, "%s: %s", path, strerror(errno));
	}
	*fd_out = fd;
	return LG_OK;
}

static int start_run(struct night *n)
{
	static const char resumed_sql[] =
		"SELECT EXISTS(SELECT 1 FROM nightly_runs r WHERE r.date = ?1 AND NOT"
		" EXISTS(SELECT 1 FROM nightly_steps s WHERE s.run_id = r.id"
		" AND s.step = 'night' AND s.event = 'finish'))";
	static const char add_sql[] =
		"INSERT INTO nightly_runs(date, started_at, pid) VALUES(?1, ?2, ?3)";
	sqlite3_stmt *st;
	int rc = clr_prepare(n->lg, resumed_sql, &st, n->err);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, n->o->date, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n->res->resumed = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	rc = clr_prepare(n->lg, add_sql, &st, n->err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, n->o->date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ledger_now(n->lg), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (long long)getpid());
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = clr_sql_error(n->lg, n->err, "recording the nightly run");
	sqlite3_finalize(st);
	if (!rc)
		n->run_id = sqlite3_last_insert_rowid(ledger_sqlite(n->lg));
	return rc;
}

/* --- import ------------------------------------------------------------- */
static int already_imported(struct night *n, const char *path, int *yes)
{
	static const char sql[] = "SELECT 1 FROM import_files WHERE sha256 = ?1";
	char hex[LG_HASH_HEX];
	sqlite3_stmt *st;
	int rc = ledger_file_sha256(path, hex, n->err);

	*yes = 0;
	if (rc)
		return rc;
	rc = clr_prepare(n->lg, sql, &st, n->err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	*yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return LG_OK;
}

/* Runs `clearbook import` on one file; the child's stderr goes to `log`.
 * Returns the child's exit status (or 70 if it died of a signal). */
static int run_import(struct night *n, const clr_inbox_rule *rule, const char *path,
                      const char *log)
{
	const char *argv[IMPORT_ARGS_MAX];
	int argc = 0, status;
	pid_t pid;

	argv[argc++] = n->o->self_exe;
	argv[argc++] = "--db";
	argv[argc++] = n->o->db_path;
	if (n->o->now) {
		argv[argc++] = "--now";
		argv[argc++] = n->o->now;
	}
	argv[argc++] = "import";
	argv[argc++] = "--profile";
	argv[argc++] = rule->profile;
	if (rule->account[0]) {
		argv[argc++] = "--account";
		argv[argc++] = rule->account;
	}
	if (rule->channel[0]) {
		argv[argc++] = "--channel";
		argv[argc++] = rule->channel;
	}
	if (rule->set[0]) {
		argv[argc++] = "--set";
		argv[argc++] = rule->set;
	}
	argv[argc++] = "--";
	argv[argc++] = path;
	argv[argc] = NULL;
	CLR_ASSERT(argc < IMPORT_ARGS_MAX);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return LG_EIO;
	if (pid == 0) {
		int fd = open(log, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		int null = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 2);
		if (null >= 0)
			dup2(null, 1);
		execv(n->o->self_exe, (char *const *)argv);
		_exit(LG_EINTERNAL);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return LG_EINTERNAL;
	return WIFEXITED(status) ? WEXITSTATUS(status) : LG_EINTERNAL;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	size_t got;
	int ok = in && out;

	while (ok && (got = fread(buf, 1, sizeof buf, in)) > 0)
		ok = fwrite(buf, 1, got, out) == got;
	if (in && ferror(in))
		ok = 0;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* Sets a rejected file aside in OUTBOX/DATE/rejected/ with its reason. */
static int reject_file(struct night *n, const char *path, const char *name,
                       const char *reason)
{
	char dir[PATH_BYTES + 16], dest[PATH_BYTES + 300], why[PATH_BYTES + 340];
	FILE *fp;
	int rc;

	snprintf(dir, sizeof dir, "%s/rejected", n->outdir);
	rc = mkdir_p(dir, n->err);
	if (rc)
		return rc;
	snprintf(dest, sizeof dest, "%s/%s", dir, name);
	snprintf(why, sizeof why, "%s/%s.reason.txt", dir, name);
	fp = fopen(why, "w");
	if (!fp)
		return lg_error_set(n->err, LG_EIO, "%s: %s", why, strerror(errno));
	fprintf(fp, "%s\n", reason);
	if (fclose(fp) != 0)
		return lg_error_set(n->err, LG_EIO, "%s: write failed", why);
	if (rename(path, dest) != 0) {
		if (copy_file(path, dest) != 0 || unlink(path) != 0)
			return lg_error_set(n->err, LG_EIO, "cannot move %s to %s", path, dest);
	}
	n->res->files_rejected++;
	fprintf(stderr, "clearbook: nightly: %s rejected, set aside in %s: %s\n", name,
	        dir, reason);
	return LG_OK;
}

/* The importer's messages, without the "clearbook: " each line of them
 * begins with (the night's own message about the file carries one). */
static void read_reason(const char *log, char *out, size_t cap)
{
	static const char prefix[] = "clearbook: ";
	const size_t plen = sizeof prefix - 1;
	FILE *fp = fopen(log, "r");
	size_t got = fp ? fread(out, 1, cap - 1, fp) : 0, w = 0;

	if (fp)
		fclose(fp);
	out[got] = '\0';
	for (size_t i = 0; i < got;) {
		if ((i == 0 || out[i - 1] == '\n') && got - i >= plen &&
		    memcmp(out + i, prefix, plen) == 0)
			i += plen;
		else
			out[w++] = out[i++];
	}
	got = w;
	out[got] = '\0';
	while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == ' '))
		out[--got] = '\0';
	if (!out[0])
		snprintf(out, cap, "the importer failed without a message");
}

static const clr_inbox_rule *rule_for(const clr_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->rules_n; i++)
		if (fnmatch(cfg->rules[i].pattern, name, 0) == 0)
			return &cfg->rules[i];
	return NULL;
}

static int import_one(struct night *n, const char *name)
{
	char path[PATH_BYTES + 256], log[PATH_BYTES + 64], reason[REASON_BYTES_MAX];
	const clr_inbox_rule *rule = rule_for(n->cfg, name);
	int done, status, rc;

	snprintf(path, sizeof path, "%s/%s", n->o->inbox, name);
	n->res->files++;
	if (!rule) {
		snprintf(reason, sizeof reason, "no [inbox] rule of the configuration "
		         "matches the file name '%s'", name);
		return reject_file(n, path, name, reason);
	}
	rc = already_imported(n, path, &done);
	if (rc == LG_EIO || rc == LG_ENOINPUT) {
		snprintf(reason, sizeof reason, "%s", n->err->msg);
		return reject_file(n, path, name, reason);
	}
	if (rc)
		return rc;
	if (done) {
		n->res->files_skipped++;
		return LG_OK;
	}
	progress(n, "importing %s", name);
	snprintf(log, sizeof log, "%s/.import.log", n->outdir);
	status = run_import(n, rule, path, log);
	if (status == 0) {
		unlink(log);
		return LG_OK;
	}
	read_reason(log, reason, sizeof reason);
	unlink(log);
	/* Busy or an I/O failure (a full disk, a read-only database) is the
	 * machine's trouble, not the file's: the night stops and the file stays
	 * in the inbox for the next run.  The parent has just read the file
	 * whole for its hash, so a child's I/O error is the database's. */
	if (status == LG_EBUSY || status == LG_EIO)
		return lg_error_set(n->err, status, "importing %s: %s", name, reason);
	return reject_file(n, path, name, reason);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int count_lines(struct night *n, long *out)
{
	sqlite3_stmt *st;
	int rc = clr_prepare(n->lg, "SELECT count(*) FROM statement_lines", &st, n->err);

	if (rc)
		return rc;
	*out = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return LG_OK;
}

static int step_import(struct night *n)
{
	long before = 0, after = 0;
	int rc0 = count_lines(n, &before);
	DIR *d = rc0 ? NULL : opendir(n->o->inbox);
	char *names[INBOX_FILES_MAX];
	int names_n = 0, rc = LG_OK;
	struct dirent *e;

	if (rc0)
		return rc0;
	if (!d)
		return lg_error_set(n->err, LG_ENOINPUT, "inbox %s: %s", n->o->inbox,
		                    strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char path[PATH_BYTES + 256];
		struct stat sb;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", n->o->inbox, e->d_name);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (names_n >= INBOX_FILES_MAX) {
			rc = lg_error_set(n->err, LG_EUSAGE, "inbox %s: more than %d files",
			                  n->o->inbox, INBOX_FILES_MAX);
			break;
		}
		names[names_n] = strdup(e->d_name);
		if (!names[names_n]) {
			rc = lg_error_set(n->err, LG_EINTERNAL, "out of memory");
			break;
		}
		names_n++;
	}
	closedir(d);
	/* Byte order of names: the same inbox imports in the same order. */
	qsort(names, (size_t)names_n, sizeof *names, cmp_names);
	for (int i = 0; i < names_n && !rc; i++)
		rc = import_one(n, names[i]);
	for (int i = 0; i < names_n; i++)
		free(names[i]);
	if (!rc)
		rc = count_lines(n, &after);
	n->res->lines_staged = after - before;
	snprintf(n->detail, sizeof n->detail, "files %ld, already imported %ld, "
	         "rejected %ld, lines staged %ld", n->res->files, n->res->files_skipped,
	         n->res->files_rejected, n->res->lines_staged);
	return rc;
}

/* --- payment statuses --------------------------------------------------- */
/* A rejected payout as read, before anything is written. */
struct rejected_payout {
	char e2e[LG_ID_MAX + 1], tx_id[LG_ID_MAX + 1], reason[768];
	char asset[LG_ASSET_CODE_MAX + 1];
	long long seq;
	amount_minor_t amount;
	int scale;
};
#define CLR_REJECTED_MAX 100000 /* RJCT statuses handled in one night */

/* Reads every rejected payout first and only then reverses them: a write
 * while the SELECT is still open would try to upgrade its read snapshot,
 * which SQLite refuses at once (busy, no waiting) as soon as another
 * process (the front) has committed since the SELECT began. */
static int read_rejected(ledger *lg, struct rejected_payout **out, long *n_out,
                         lg_error *err)
{
	static const char sql[] =
		"SELECT s.orig_end_to_end_id, s.status, COALESCE(s.reason_code, ''),"
		" COALESCE(s.reason_text, ''), t.id, t.seq, p.amount, a.asset, x.scale"
		" FROM payment_statuses s JOIN transactions t"
		"  ON json_extract(t.meta, '$.payout_id') = s.orig_end_to_end_id"
		"  AND json_extract(t.meta, '$.type') = 'payout'"
		" JOIN postings p ON p.tx_seq = t.seq AND p.idx = 0"
		" JOIN accounts a ON a.id = p.account_id JOIN assets x ON x.code = a.asset"
		" WHERE s.status = 'RJCT' ORDER BY s.id";
	struct rejected_payout *v = NULL;
	sqlite3_stmt *st;
	long n = 0, cap = 0;
	int rc, step;

	*out = NULL;
	*n_out = 0;
	rc = clr_prepare(lg, sql, &st, err);
	if (rc)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 3);
		struct rejected_payout *r;
		if (n == cap) {
			long ncap = cap ? cap * 2 : 16;
			void *p = ncap <= CLR_REJECTED_MAX ? realloc(v, (size_t)ncap * sizeof *v)
			                                   : NULL;
			if (!p) {
				rc = lg_error_set(err, LG_EINTERNAL, "too many rejected payouts "
				                  "(at most %d) or out of memory", CLR_REJECTED_MAX);
				break;
			}
			v = p;
			cap = ncap;
		}
		r = &v[n++];
		snprintf(r->e2e, sizeof r->e2e, "%s", sqlite3_column_text(st, 0));
		snprintf(r->reason, sizeof r->reason, "payout %s rejected by the bank in "
		         "pain.002 (%s%s%s); reversed, the merchant's payable is owed again",
		         r->e2e, sqlite3_column_text(st, 2), text[0] ? ": " : "", text);
		snprintf(r->tx_id, sizeof r->tx_id, "%s", sqlite3_column_text(st, 4));
		r->seq = sqlite3_column_int64(st, 5);
		r->amount = amount_decode(sqlite3_column_blob(st, 6));
		snprintf(r->asset, sizeof r->asset, "%s", sqlite3_column_text(st, 7));
		r->scale = sqlite3_column_int(st, 8);
	}
	if (!rc && step != SQLITE_DONE)
		rc = clr_sql_error(lg, err, "reading payment statuses");
	sqlite3_finalize(st);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return LG_OK;
}

int clr_apply_payment_statuses(ledger *lg, const char *date, long *rejected_out,
                               lg_error *err)
{
	struct rejected_payout *v = NULL;
	long n = 0;
	int rc;

	*rejected_out = 0;
	rc = clr_schema(lg, err);
	if (!rc)
		rc = read_rejected(lg, &v, &n, err);
	for (long i = 0; !rc && i < n; i++) {
		int now = 0;
		rc = clr_reverse_once(lg, v[i].tx_id, v[i].reason, date, &now, err);
		if (!rc)
			rc = clr_break_add(lg, NULL, date, "bank", "payout-rejected", 0, v[i].seq,
			                   v[i].tx_id, v[i].amount, v[i].asset, v[i].scale, 0,
			                   v[i].reason, "", err);
		*rejected_out += now;
	}
	free(v);
	return rc;
}

/* --- the night ---------------------------------------------------------- */
static int step(struct night *n, const char *name, int (*fn)(struct night *))
{
	char detail[LG_MSG_MAX];
	int rc = clr_step_event(n->lg, n->run_id, name, "start", "", n->err);

	if (rc)
		return rc;
	n->detail[0] = '\0';
	rc = fn(n);
	snprintf(detail, sizeof detail, "%s", rc ? n->err->msg : n->detail[0] ? n->detail : "ok");
	/* Which step failed, for the operator: "database: disk I/O error"
	 * alone does not say what the night was doing. */
	if (rc && rc != LG_ECHECK)
		lg_error_set(n->err, rc, "step %s: %s", name, detail);
	if (rc == LG_OK || rc == LG_ECHECK) {
		lg_error e2;
		lg_error_init(&e2);
		int rc2 = clr_step_event(n->lg, n->run_id, name, "finish", detail, &e2);
		if (rc2) {
			*n->err = e2;
			return rc2;
		}
	}
	return rc;
}

static int step_reconcile(struct night *n)
{
	for (int i = 0; i < n->cfg->channels_n; i++) {
		const clr_channel *ch = &n->cfg->channels[i];
		clr_recon_stats s;
		int rc;
		progress(n, "reconciling %s", ch->name);
		rc = clr_reconcile(n->lg, ch, n->o->date, &s, n->err);
		if (rc)
			return rc;
		for (int k = 0; k < 5; k++)
			n->res->recon.matched_by_rule[k] += s.matched_by_rule[k];
		n->res->recon.lines += s.lines;
		n->res->recon.items += s.items;
		n->res->recon.matches += s.matches;
		n->res->recon.line_breaks += s.line_breaks;
		n->res->recon.item_breaks += s.item_breaks;
		n->res->recon.other_breaks += s.other_breaks;
	}
	snprintf(n->detail, sizeof n->detail, "matches %ld (reference %ld, amount %ld, "
	         "one-to-many %ld, many-to-one %ld), breaks %ld",
	         n->res->recon.matches, n->res->recon.matched_by_rule[0],
	         n->res->recon.matched_by_rule[1], n->res->recon.matched_by_rule[2],
	         n->res->recon.matched_by_rule[3],
	         n->res->recon.line_breaks + n->res->recon.item_breaks +
	         n->res->recon.other_breaks);
	return LG_OK;
}

static int step_statuses(struct night *n)
{
	int rc = clr_apply_payment_statuses(n->lg, n->o->date,
	                                    &n->res->payouts_rejected, n->err);
	snprintf(n->detail, sizeof n->detail, "payouts reversed %ld",
	         n->res->payouts_rejected);
	return rc;
}

static int step_expire(struct night *n)
{
	int rc = ledger_hold_expire(n->lg, &n->res->holds_expired, n->err);
	snprintf(n->detail, sizeof n->detail, "holds expired %ld", n->res->holds_expired);
	return rc;
}

static int step_monitor(struct night *n)
{
	if (!n->o->monitor)
		return LG_OK;
	progress(n, "monitoring %s", n->o->date);
	return n->o->monitor(n->o->reports_ctx, n->lg, n->o->date, n->detail,
	                     sizeof n->detail, n->err);
}

static int step_reports(struct night *n)
{
	if (!n->o->write_reports)
		return LG_OK;
	progress(n, "writing reports to %s", n->outdir);
	return n->o->write_reports(n->o->reports_ctx, n->lg, n->o->date, n->outdir,
	                           &n->res->breaks, n->err);
}

int clr_nightly(ledger *lg, const clr_config *cfg, const clr_nightly_opts *o,
                clr_nightly_result *res, lg_error *err)
{
	struct night n = { "", lg, cfg, o, res, err, 0, "" };
	int lock_fd = -1, rc;

	memset(res, 0, sizeof *res);
	if (ledger_day_number(o->date) == LONG_MIN)
		return lg_error_set(err, LG_EUSAGE, "--date '%s' is not YYYY-MM-DD", o->date);
	if (snprintf(n.outdir, sizeof n.outdir, "%s/%s", o->outbox, o->date) >=
	    (int)sizeof n.outdir)
		return lg_error_set(err, LG_EUSAGE, "outbox path too long");
	rc = take_lock(o->db_path, &lock_fd, err);
	if (rc)
		return rc;
	rc = mkdir_p(n.outdir, err);
	if (!rc)
		rc = clr_schema(lg, err);
	if (!rc)
		rc = start_run(&n);
	if (!rc)
		rc = clr_step_event(lg, n.run_id, "night", "start", o->date, err);
	if (!rc)
		rc = step(&n, "import", step_import);
	if (!rc)
		rc = step(&n, "payment-statuses", step_statuses);
	if (!rc)
		rc = step(&n, "reconcile", step_reconcile);
	if (!rc)
		rc = step(&n, "expire-holds", step_expire);
	if (!rc)
		rc = step(&n, "monitoring", step_monitor);
	if (!rc)
		rc = step(&n, "reports", step_reports);
	if (!rc)
		rc = clr_step_event(lg, n.run_id, "night", "finish",
		                    res->files_rejected ? "files rejected" : "ok", err);
	close(lock_fd);
	if (!rc && res->files_rejected > 0)
		return LG_ECHECK;
	return rc;
}
