/*
 * util.c - errors, names, dates and small validators the ledger shares.
 */
#include "ledger_int.h"
#include "ledger_sql.h"

#include <limits.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void lg_error_init(lg_error *err)
{
	err->code = LG_OK;
	err->line = 0;
	err->msg[0] = '\0';
}

int lg_error_set(lg_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

_Noreturn void lg_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "clearbook: internal error: assertion '%s' failed at %s:%d\n",
	        what, file, line);
	abort();
}

/* The storage failures a caller can do something about (free space, lift a
 * limit, make the file writable) are I/O errors, exit 74; the message names
 * the database file and what the system said, so the operator knows which
 * disk is full and why. */
static int sql_io_failure(int rc)
{
	return rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_READONLY ||
	       rc == SQLITE_CANTOPEN || rc == SQLITE_PERM;
}

int lg_sql_error(ledger *lg, lg_error *err, const char *what)
{
	int rc = sqlite3_errcode(lg->db);
	int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? LG_EBUSY
	           : sql_io_failure(rc)                        ? LG_EIO
	                                                        : LG_EINTERNAL;
	if (rc == SQLITE_NOTADB)
		return lg_error_set(err, LG_EDATA, "%s: not an SQLite database (%s)", what,
		                    sqlite3_errmsg(lg->db));
	if (code == LG_EBUSY)
		return lg_error_set(err, code, "database is busy (another process is "
		                    "writing); try again");
	if (code == LG_EIO) {
		const char *path = sqlite3_db_filename(lg->db, "main");
		int sys = sqlite3_system_errno(lg->db);
		if (!path || !path[0])
			path = "the database";
		/* A WAL database needs its -wal and -shm files beside it, even to
		 * be read; the system's errno then names a file that is missing
		 * only because it could not be made. */
		if (rc == SQLITE_CANTOPEN)
			return lg_error_set(err, code, "%s: cannot open %s or create its -wal "
			                    "and -shm files beside it (is the file or its "
			                    "directory read-only?)", what, path);
		if (rc == SQLITE_READONLY)
			return lg_error_set(err, code, "%s: %s is read-only (%s); nothing was "
			                    "written", what, path, sqlite3_errmsg(lg->db));
		/* SQLite reports ENOSPC as FULL but any other failed write (EFBIG
		 * past a file size limit, EDQUOT) as a bare IOERR_WRITE. */
		if (!sys && sqlite3_extended_errcode(lg->db) == SQLITE_IOERR_WRITE)
			return lg_error_set(err, code, "%s: %s (%s: a write failed: disk "
			                    "full, quota or file size limit)", what,
			                    sqlite3_errmsg(lg->db), path);
		return lg_error_set(err, code, "%s: %s (%s%s%s)", what,
		                    sqlite3_errmsg(lg->db), path, sys ? ": " : "",
		                    sys ? strerror(sys) : "");
	}
	return lg_error_set(err, code, "%s: %s", what, sqlite3_errmsg(lg->db));
}

int ledger_sql_error(ledger *lg, lg_error *err, const char *what)
{
	return lg_sql_error(lg, err, what);
}

static const char *const kind_names[] = {
	"posted", "pending", "commit", "void", "expire", "reverse"
};

const char *lg_kind_name(enum lg_kind kind)
{
	LG_ASSERT((int)kind >= 0 && (int)kind < 6);
	return kind_names[kind];
}

static const char *const type_names[] = {
	"asset", "liability", "equity", "income", "expense"
};

int lg_acct_type_parse(const char *text, enum lg_acct_type *out)
{
	for (int i = 0; i < 5; i++) {
		if (strcmp(text, type_names[i]) == 0) {
			*out = (enum lg_acct_type)i;
			return 0;
		}
	}
	return -1;
}

const char *lg_acct_type_name(enum lg_acct_type t)
{
	LG_ASSERT((int)t >= 0 && (int)t < 5);
	return type_names[t];
}

int lg_acct_type_sign(enum lg_acct_type t)
{
	return (t == LG_T_ASSET || t == LG_T_EXPENSE) ? 1 : -1;
}

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int ledger_date_valid(const char *t)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, leap;

	if (!t || strlen(t) != 10 || t[4] != '-' || t[7] != '-')
		return 0;
	if (!digits(t, 4) || !digits(t + 5, 2) || !digits(t + 8, 2))
		return 0;
	y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
	m = (t[5] - '0') * 10 + (t[6] - '0');
	d = (t[8] - '0') * 10 + (t[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* "YYYY-MM-DDTHH:MM:SSZ", UTC only, so that text order is time order. */
int lg_timestamp_valid(const char *t)
{
	char date[11];

	if (!t || strlen(t) != 20 || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
	    t[19] != 'Z')
		return 0;
	memcpy(date, t, 10);
	date[10] = '\0';
	if (!ledger_date_valid(date) || !digits(t + 11, 2) || !digits(t + 14, 2) ||
	    !digits(t + 17, 2))
		return 0;
	return (t[11] - '0') * 10 + (t[12] - '0') < 24 &&
	       (t[14] - '0') * 10 + (t[15] - '0') < 60 &&
	       (t[17] - '0') * 10 + (t[18] - '0') < 60;
}

int lg_timestamp_add(const char *ts, long long seconds, char out[LG_TS_MAX])
{
	struct tm tm;
	time_t t;

	if (!lg_timestamp_valid(ts))
		return -1;
	memset(&tm, 0, sizeof tm);
	if (!strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	t = timegm(&tm);
	if (seconds < 0 || seconds > 100LL * 366 * 86400)
		return -1;
	t += (time_t)seconds;
	if (!gmtime_r(&t, &tm))
		return -1;
	return strftime(out, LG_TS_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 20 ? 0 : -1;
}

/* Lower-case segments of [a-z0-9_.-], separated by single ':'. */
int lg_code_valid(const char *code)
{
	size_t n = strlen(code), seg = 0;

	if (n == 0 || n > LG_CODE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = code[i];
		if (c == ':') {
			if (seg == 0)
				return 0;
			seg = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.'))
			return 0;
		seg++;
	}
	return seg > 0;
}

/* Upper-case letters and digits, starting with a letter: "CNY", "USDT". */
int lg_asset_code_valid(const char *code)
{
	size_t n = strlen(code);

	if (n < 2 || n > LG_ASSET_CODE_MAX || code[0] < 'A' || code[0] > 'Z')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= '0' && code[i] <= '9')))
			return 0;
	return 1;
}

void lg_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char hexd[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[bytes[i] >> 4];
		out[2 * i + 1] = hexd[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Howard Hinnant's days_from_civil. */
long ledger_day_number(const char *date)
{
	long y, m, d, era, yoe, doy, doe;

	if (!date || !ledger_date_valid(date))
		return LONG_MIN;
	y = strtol(date, NULL, 10);
	m = strtol(date + 5, NULL, 10);
	d = strtol(date + 8, NULL, 10);
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}
