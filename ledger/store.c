/*
 * store.c - the SQLite store: schema, append-only triggers, prepared
 * statements, 128-bit SQL functions and the handle's lifecycle.
 *
 * SQLite is wrapped here and in the other ledger/ files only; its types
 * never appear in ledger.h.  Amounts are stored as 16-byte sortable blobs
 * (amount.h), so application-defined functions do the arithmetic in SQL.
 */
#include "bgwrite.h"
#include "ledger_int.h"
#include "ledger_sql.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LG_SCHEMA_VERSION "1"

static const char *const schema_sql =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE assets(code TEXT PRIMARY KEY, scale INTEGER NOT NULL"
	"  CHECK(scale BETWEEN 0 AND 18), created_at TEXT NOT NULL);"
	"CREATE TABLE accounts(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE,"
	"  type TEXT NOT NULL CHECK(type IN ('asset','liability','equity','income','expense')),"
	"  asset TEXT NOT NULL REFERENCES assets(code),"
	"  no_overdraft INTEGER NOT NULL DEFAULT 0 CHECK(no_overdraft IN (0,1)),"
	"  meta TEXT NOT NULL DEFAULT '{}', opened_at TEXT NOT NULL, closed_at TEXT);"
	"CREATE TABLE account_templates(pattern TEXT PRIMARY KEY, type TEXT NOT NULL,"
	"  asset TEXT NOT NULL REFERENCES assets(code), no_overdraft INTEGER NOT NULL,"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE transactions(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK(kind = 'posted' OR kind = 'pending' OR kind = 'commit'"
	"  OR kind = 'void' OR kind = 'expire' OR kind = 'reverse'),"
	"  ref_seq INTEGER REFERENCES transactions(seq), date TEXT NOT NULL,"
	"  booked_at TEXT NOT NULL, expires_at TEXT, memo TEXT NOT NULL,"
	"  meta TEXT NOT NULL, content_hash BLOB NOT NULL, hash BLOB NOT NULL);"
	/* A hold ends exactly once and a transaction is reversed at most once:
	 * the database itself refuses the second attempt, whatever races.
	 * Conditions on every inserted row are written with OR, never IN: an
	 * IN list there builds a temporary b-tree per row (3.40), which made
	 * posting ten times slower. */
	"CREATE UNIQUE INDEX tx_hold_end ON transactions(ref_seq)"
	"  WHERE kind = 'commit' OR kind = 'void' OR kind = 'expire';"
	"CREATE UNIQUE INDEX tx_reversal ON transactions(ref_seq) WHERE kind = 'reverse';"
	"CREATE INDEX tx_expiry ON transactions(expires_at) WHERE kind = 'pending';"
	"CREATE TABLE postings(tx_seq INTEGER NOT NULL REFERENCES transactions(seq),"
	"  idx INTEGER NOT NULL, account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  amount BLOB NOT NULL CHECK(length(amount) = 16),"
	"  PRIMARY KEY(tx_seq, idx)) WITHOUT ROWID;"
	"CREATE TABLE balances(account_id INTEGER PRIMARY KEY REFERENCES accounts(id),"
	"  posted BLOB NOT NULL, pending_dr BLOB NOT NULL, pending_cr BLOB NOT NULL);"
	"CREATE TABLE period_closes(period TEXT PRIMARY KEY, end_date TEXT NOT NULL,"
	"  closed_at TEXT NOT NULL, head_seq INTEGER NOT NULL, head_hash BLOB);"
	"CREATE TABLE period_close_balances(period TEXT NOT NULL"
	"  REFERENCES period_closes(period), account_id INTEGER NOT NULL,"
	"  posted BLOB NOT NULL, PRIMARY KEY(period, account_id)) WITHOUT ROWID;"
	/* The journal is append-only: the database refuses changes. */
	"CREATE TRIGGER tx_no_update BEFORE UPDATE ON transactions BEGIN"
	"  SELECT RAISE(ABORT, 'the journal is append-only: transactions cannot be updated'); END;"
	"CREATE TRIGGER tx_no_delete BEFORE DELETE ON transactions BEGIN"
	"  SELECT RAISE(ABORT, 'the journal is append-only: transactions cannot be deleted'); END;"
	"CREATE TRIGGER posting_no_update BEFORE UPDATE ON postings BEGIN"
	"  SELECT RAISE(ABORT, 'the journal is append-only: postings cannot be updated'); END;"
	"CREATE TRIGGER posting_no_delete BEFORE DELETE ON postings BEGIN"
	"  SELECT RAISE(ABORT, 'the journal is append-only: postings cannot be deleted'); END;"
	"CREATE TRIGGER close_no_update BEFORE UPDATE ON period_closes BEGIN"
	"  SELECT RAISE(ABORT, 'closed periods cannot be changed'); END;"
	"CREATE TRIGGER close_no_delete BEFORE DELETE ON period_closes BEGIN"
	"  SELECT RAISE(ABORT, 'closed periods cannot be reopened'); END;"
	"CREATE TRIGGER closebal_no_update BEFORE UPDATE ON period_close_balances BEGIN"
	"  SELECT RAISE(ABORT, 'closing balances cannot be changed'); END;"
	"CREATE TRIGGER closebal_no_delete BEFORE DELETE ON period_close_balances BEGIN"
	"  SELECT RAISE(ABORT, 'closing balances cannot be deleted'); END;"
	"CREATE TRIGGER account_no_delete BEFORE DELETE ON accounts BEGIN"
	"  SELECT RAISE(ABORT, 'accounts cannot be deleted; close them'); END;"
	"CREATE TRIGGER account_update_close_only BEFORE UPDATE ON accounts"
	"  WHEN OLD.closed_at IS NOT NULL OR NEW.closed_at IS NULL OR NEW.code IS NOT OLD.code"
	"  OR NEW.type IS NOT OLD.type OR NEW.asset IS NOT OLD.asset OR NEW.id IS NOT OLD.id"
	"  OR NEW.no_overdraft IS NOT OLD.no_overdraft OR NEW.meta IS NOT OLD.meta BEGIN"
	"  SELECT RAISE(ABORT, 'an account can only be closed, once'); END;"
	"CREATE TRIGGER asset_no_update BEFORE UPDATE ON assets BEGIN"
	"  SELECT RAISE(ABORT, 'an asset cannot be changed'); END;"
	"CREATE TRIGGER asset_no_delete BEFORE DELETE ON assets BEGIN"
	"  SELECT RAISE(ABORT, 'an asset cannot be deleted'); END;";

/* ISO 4217 currencies with their real minor-unit exponents. */
static const struct { const char *code; int scale; } iso4217[] = {
	{ "AED", 2 }, { "AUD", 2 }, { "BHD", 3 }, { "BRL", 2 }, { "CAD", 2 },
	{ "CHF", 2 }, { "CLF", 4 }, { "CLP", 0 }, { "CNY", 2 }, { "CZK", 2 },
	{ "DKK", 2 }, { "EUR", 2 }, { "GBP", 2 }, { "HKD", 2 }, { "HUF", 2 },
	{ "IDR", 2 }, { "ILS", 2 }, { "INR", 2 }, { "IQD", 3 }, { "ISK", 0 },
	{ "JOD", 3 }, { "JPY", 0 }, { "KRW", 0 }, { "KWD", 3 }, { "LYD", 3 },
	{ "MOP", 2 }, { "MXN", 2 }, { "MYR", 2 }, { "NOK", 2 }, { "NZD", 2 },
	{ "OMR", 3 }, { "PHP", 2 }, { "PLN", 2 }, { "RUB", 2 }, { "SAR", 2 },
	{ "SEK", 2 }, { "SGD", 2 }, { "THB", 2 }, { "TND", 3 }, { "TRY", 2 },
	{ "TWD", 2 }, { "UGX", 0 }, { "USD", 2 }, { "VND", 0 }, { "XAF", 0 },
	{ "XOF", 0 }, { "ZAR", 2 },
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_ACCT_BY_CODE] = "SELECT a.id, a.type, a.asset, s.scale, a.no_overdraft,"
	                    " a.closed_at IS NOT NULL FROM accounts a"
	                    " JOIN assets s ON s.code = a.asset WHERE a.code = ?1",
	[ST_BAL_GET] = "SELECT posted, pending_dr, pending_cr FROM balances"
	               " WHERE account_id = ?1",
	[ST_BAL_PUT] = "INSERT INTO balances(account_id, posted, pending_dr, pending_cr)"
	               " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(account_id) DO UPDATE SET"
	               " posted = excluded.posted, pending_dr = excluded.pending_dr,"
	               " pending_cr = excluded.pending_cr",
	[ST_TX_INSERT] = "INSERT INTO transactions(seq, id, kind, ref_seq, date,"
	                 " booked_at, expires_at, memo, meta, content_hash, hash)"
	                 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_TX_BY_ID] = "SELECT seq, kind, content_hash, date, expires_at, memo"
	                " FROM transactions WHERE id = ?1",
	[ST_POSTING_INSERT] = "INSERT INTO postings(tx_seq, idx, account_id, amount)"
	                      " VALUES(?1, ?2, ?3, ?4)",
	[ST_POSTING_INSERT2] = "INSERT INTO postings(tx_seq, idx, account_id, amount)"
	                       " VALUES(?1, ?2, ?3, ?4), (?1, ?5, ?6, ?7)",
	[ST_POSTINGS_OF] = "SELECT a.code, p.amount FROM postings p"
	                   " JOIN accounts a ON a.id = p.account_id"
	                   " WHERE p.tx_seq = ?1 ORDER BY p.idx",
	[ST_ACCT_INSERT] = "INSERT INTO accounts(code, type, asset, no_overdraft,"
	                   " meta, opened_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_HEAD] = "SELECT seq, hash FROM transactions ORDER BY seq DESC LIMIT 1",
	[ST_STAGE_LINE] = "INSERT INTO staged_lines(file_id, statement_no, channel, scope_id, dedupe_key, entry_ref, parent_id, is_batch, children, booking_date, value_date, amount, asset, counterparty_name, counterparty_account, end_to_end_id, instruction_id, provider_ref, uetr, remittance, tx_code, status, batch_id, return_reason, reversal, charges, entry_index, child_index, line_no, raw, batch_difference) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?30,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?31)",
};

sqlite3_stmt *lg_stmt(ledger *lg, enum lg_stmt which)
{
	LG_ASSERT(which < ST_COUNT);
	if (!lg->st[which]) {
		if (sqlite3_prepare_v3(lg->db, stmt_sql[which], -1,
		                       SQLITE_PREPARE_PERSISTENT, &lg->st[which],
		                       NULL) != SQLITE_OK)
			return NULL;
	}
	sqlite3_reset(lg->st[which]);
	sqlite3_clear_bindings(lg->st[which]);
	return lg->st[which];
}

int lg_exec(ledger *lg, const char *sql, lg_error *err)
{
	/* Only constant SQL passes here; values always go through bindings. */
	if (sqlite3_exec(lg->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "database");
	return LG_OK;
}

static int create_schema(ledger *lg, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = lg_exec(lg, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	rc = lg_exec(lg, schema_sql, err);
	if (rc)
		goto out;
	if (sqlite3_prepare_v2(lg->db, "INSERT INTO meta(key, value) VALUES"
	                       "('schema_version', ?1), ('created_at', ?2)", -1, &st,
	                       NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, LG_SCHEMA_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lg->now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(lg->db, "INSERT INTO assets(code, scale, created_at)"
	                       " VALUES(?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	for (size_t i = 0; i < sizeof iso4217 / sizeof iso4217[0]; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, iso4217[i].code, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, iso4217[i].scale);
		sqlite3_bind_text(st, 3, lg->now, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = lg_exec(lg, "COMMIT", err);
	if (rc)
		goto out;
	return LG_OK;
sqlfail:
	rc = lg_sql_error(lg, err, "creating the schema");
out:
	sqlite3_finalize(st);
	sqlite3_exec(lg->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int schema_exists(ledger *lg, int *exists, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT count(*) FROM sqlite_schema WHERE"
	                       " type = 'table' AND name = 'transactions'", -1, &st,
	                       NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "opening the database");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return lg_sql_error(lg, err, "opening the database");
	}
	*exists = sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return LG_OK;
}

/* A multi-row INSERT inside a transaction keeps a statement journal: the
 * first image of every page the statement changes, to undo the statement
 * alone should a later row fail.  SQLite spills it to a temporary file past
 * 64 KiB, which the 16 KiB pages of a group's tables reach at once; that
 * file cost a reconciliation a fifth of its system time.  Below this bound
 * it stays in memory (it is emptied after each statement). */
#define LG_STMT_JOURNAL_MEMORY_BYTES (4 << 20)

/* SQLite's process-wide settings, made once before it initialises (they
 * are ignored after; and sqlite3_config may not run beside other SQLite
 * calls, which a second handle opened on a thread would do): no global
 * allocation statistics, which cost a mutex on every malloc, and the
 * statement journal in memory. */
static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;

static void configure_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, LG_STMT_JOURNAL_MEMORY_BYTES);
}

int lg_store_open(ledger *lg, const char *path, int open_flags, lg_error *err)
{
	/* One handle per process, used from one thread (no SQLite mutexes)
	 * unless the caller runs a writer thread beside it. */
	int create = (open_flags & LEDGER_OPEN_CREATE) != 0;
	int flags = SQLITE_OPEN_READWRITE |
	            (open_flags & LEDGER_OPEN_THREADS ? SQLITE_OPEN_FULLMUTEX
	                                              : SQLITE_OPEN_NOMUTEX) |
	            (create ? SQLITE_OPEN_CREATE : 0);
	int exists = 0, rc;

	(void)pthread_once(&sqlite_configured, configure_sqlite);
	if (!create && access(path, F_OK) != 0)
		return lg_error_set(err, LG_ENOINPUT, "%s: no ledger database here "
		                    "(run 'clearbook init' first)", path);
	if (sqlite3_open_v2(path, &lg->db, flags, NULL) != SQLITE_OK) {
		rc = lg_error_set(err, LG_EIO, "%s: cannot open database: %s", path,
		                  lg->db ? sqlite3_errmsg(lg->db) : "out of memory");
		return rc;
	}
	sqlite3_extended_result_codes(lg->db, 0);
	/* A larger lookaside serves the cursors and records of each insert
	 * without going to malloc. */
	sqlite3_db_config(lg->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 512, 1024);
	sqlite3_busy_timeout(lg->db, LG_BUSY_TIMEOUT_MS);
	/* WAL with synchronous=FULL: a committed transaction survives power
	 * loss; readers never block the writer.  Foreign keys are declared for
	 * readers of the schema but not enforced: the ledger is the only writer,
	 * takes every id it writes from rows it has just read or inserted in the
	 * same transaction, and enforcement costs a tenth of posting speed.
	 * A new ledger gets 16 KiB pages (an existing one keeps its own): a
	 * million staged CSV rows went in 16% faster than with 4 KiB pages in
	 * the same minutes, with posting and reconciliation no slower. */
	rc = lg_exec(lg, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL;"
	             " PRAGMA synchronous=FULL; PRAGMA cache_size=-32768;", err);
	if (rc)
		return rc;
	if (lg_register_functions(lg->db) != SQLITE_OK)
		return lg_sql_error(lg, err, "registering SQL functions");
	rc = schema_exists(lg, &exists, err);
	if (rc)
		return rc;
	if (!exists) {
		if (!create)
			return lg_error_set(err, LG_ENOINPUT, "%s: not a clearbook ledger "
			                    "(run 'clearbook init' first)", path);
		rc = create_schema(lg, err);
		if (rc)
			return rc;
	}
	/* Tables added after the first schema are created where missing, so
	 * older ledgers open unchanged. */
	return lg_staging_schema(lg, err);
}

void lg_store_close(ledger *lg)
{
	lg_staging_close(lg);
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(lg->st[i]);
		lg->st[i] = NULL;
	}
	sqlite3_close(lg->db);
	lg->db = NULL;
}

/* --- handle ------------------------------------------------------------ */

int ledger_open(const char *path, int flags, const char *now_utc, ledger **out,
                lg_error *err)
{
	ledger *lg;
	int rc;

	lg = calloc(1, sizeof *lg);
	if (!lg)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	rc = ledger_set_now(lg, now_utc, err);
	if (rc) {
		free(lg);
		return rc;
	}
	if (lg_scratch_new(lg) != 0) {
		free(lg);
		return lg_error_set(err, LG_EINTERNAL, "cannot set up SHA-256");
	}
	LG_ASSERT((flags & ~(LEDGER_OPEN_CREATE | LEDGER_OPEN_THREADS)) == 0);
	rc = lg_store_open(lg, path, flags, err);
	if (rc) {
		ledger_close(lg);
		return rc;
	}
	*out = lg;
	return LG_OK;
}

int ledger_threads(const ledger *lg)
{
	return lg->db != NULL && sqlite3_db_mutex(lg->db) != NULL;
}

void ledger_close(ledger *lg)
{
	if (!lg)
		return;
	if (lg->in_tx)
		ledger_rollback(lg);
	if (lg->sync_deferred) {
		lg_error ignored;
		lg_error_init(&ignored);
		/* Nobody is left to hear of a failure: SQLite's own close
		 * checkpoints (and syncs) the WAL too, where it can. */
		(void)ledger_defer_sync(lg, 0, &ignored);
	}
	lg_batch_drop(lg);
	lg_store_close(lg);
	lg_scratch_free(lg);
	free(lg);
}

int ledger_set_now(ledger *lg, const char *now_utc, lg_error *err)
{
	if (now_utc) {
		if (!lg_timestamp_valid(now_utc))
			return lg_error_set(err, LG_EUSAGE, "clock '%s' is not a UTC "
			                    "timestamp like 2026-11-25T02:00:00Z", now_utc);
		snprintf(lg->now, sizeof lg->now, "%s", now_utc);
	} else {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(lg->now, sizeof lg->now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	memcpy(lg->today, lg->now, 10);
	lg->today[10] = '\0';
	return LG_OK;
}

sqlite3 *ledger_sqlite(ledger *lg)
{
	return lg->db;
}

const char *ledger_now(const ledger *lg)
{
	return lg->now;
}

int ledger_begin(ledger *lg, lg_error *err)
{
	int rc;

	LG_ASSERT(!lg->in_tx);
	rc = lg_exec(lg, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	lg->in_tx = 1;
	rc = lg_batch_start(lg, err);
	if (rc)
		ledger_rollback(lg);
	return rc;
}

int ledger_commit(ledger *lg, lg_error *err)
{
	int rc;

	LG_ASSERT(lg->in_tx);
	rc = lg_batch_flush(lg, err);
	if (rc) {
		ledger_rollback(lg);
		return rc;
	}
	rc = lg_exec(lg, "COMMIT", err);
	if (rc) {
		ledger_rollback(lg);
		return rc;
	}
	lg->in_tx = 0;
	return LG_OK;
}

/* Flushes the WAL file with SQLite's own sync method: what a commit under
 * synchronous=FULL does after writing its frames, so that every frame
 * written so far, of every deferred commit, is on disk. */
static int sync_wal(ledger *lg, lg_error *err)
{
	sqlite3_file *wal = NULL;
	int rc = sqlite3_file_control(lg->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);

	if (rc != SQLITE_OK)
		return lg_sql_error(lg, err, "finding the WAL to flush it");
	/* No WAL open: nothing was written since the last checkpoint that
	 * synced the database file itself. */
	if (!wal || !wal->pMethods)
		return LG_OK;
	if (wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK)
		return lg_error_set(err, LG_EIO, "flushing the WAL to disk failed");
	return LG_OK;
}

int ledger_defer_sync(ledger *lg, int on, lg_error *err)
{
	int rc;

	if (lg->in_tx)
		return lg_error_set(err, LG_EUSAGE, "commits can be deferred or made "
		                    "durable only between transactions");
	if (on) {
		rc = lg_exec(lg, "PRAGMA synchronous=NORMAL", err);
		if (!rc)
			lg->sync_deferred = 1;
		return rc;
	}
	if (!lg->sync_deferred)
		return LG_OK;
	rc = lg_exec(lg, "PRAGMA synchronous=FULL", err);
	if (!rc)
		rc = sync_wal(lg, err);
	if (!rc)
		lg->sync_deferred = 0;
	return rc;
}

void ledger_rollback(ledger *lg)
{
	if (!lg->in_tx)
		return;
	lg_batch_drop(lg);
	sqlite3_exec(lg->db, "ROLLBACK", NULL, NULL, NULL);
	lg->in_tx = 0;
}

/* --- SQL functions over 16-byte amounts -------------------------------- */

static int arg_amount(sqlite3_value *v, amount_minor_t *out)
{
	if (sqlite3_value_type(v) != SQLITE_BLOB || sqlite3_value_bytes(v) != AMOUNT_BLOB_BYTES)
		return -1;
	*out = amount_decode(sqlite3_value_blob(v));
	return 0;
}

static void result_amount(sqlite3_context *ctx, amount_minor_t v)
{
	unsigned char b[AMOUNT_BLOB_BYTES];
	amount_encode(v, b);
	sqlite3_result_blob(ctx, b, AMOUNT_BLOB_BYTES, SQLITE_TRANSIENT);
}

/* SQLite's aggregate context is only 8-byte aligned: the running total is
 * kept in its sortable byte encoding, never as an __int128 in place. */
struct sum_state {
	unsigned char total[AMOUNT_BLOB_BYTES];
	int started;
	int overflow;
};

static void sum_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sum_state *s = sqlite3_aggregate_context(ctx, sizeof *s);
	amount_minor_t v, total = 0;

	(void)argc;
	if (!s || sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	if (arg_amount(argv[0], &v) != 0) {
		s->overflow = 1;
		return;
	}
	if (s->started)
		total = amount_decode(s->total);
	if (amount_add(total, v, &total) != 0)
		s->overflow = 1;
	amount_encode(total, s->total);
	s->started = 1;
}

static void sum_final(sqlite3_context *ctx)
{
	struct sum_state *s = sqlite3_aggregate_context(ctx, 0);

	if (s && s->overflow) {
		sqlite3_result_error(ctx, "amount_sum: not a 16-byte amount, or overflow "
		                     "past 128 bits", -1);
		return;
	}
	result_amount(ctx, s && s->started ? amount_decode(s->total) : 0);
}

/* amount_text(blob, scale): exact decimal text. */
static void fn_text(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	amount_minor_t v;
	char buf[AMOUNT_TEXT_MAX];
	int scale = sqlite3_value_int(argv[1]);

	(void)argc;
	if (arg_amount(argv[0], &v) != 0 || scale < 0 || scale > AMOUNT_SCALE_MAX) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, buf, (int)amount_format(v, scale, buf, sizeof buf),
	                    SQLITE_TRANSIENT);
}

/* amount_minor(blob): integer of minor units as text. */
static void fn_minor(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	amount_minor_t v;
	char buf[AMOUNT_TEXT_MAX];

	(void)argc;
	if (arg_amount(argv[0], &v) != 0) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, buf, (int)amount_format_minor(v, buf, sizeof buf),
	                    SQLITE_TRANSIENT);
}

/* amount_sign(blob): -1, 0 or 1. */
static void fn_sign(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	amount_minor_t v;

	(void)argc;
	if (arg_amount(argv[0], &v) != 0) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int(ctx, v < 0 ? -1 : v > 0);
}

int lg_register_functions(sqlite3 *db)
{
	int f = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	int rc = sqlite3_create_function(db, "amount_sum", 1, f, NULL, NULL,
	                                 sum_step, sum_final);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "amount_text", 2, f, NULL, fn_text, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "amount_minor", 1, f, NULL, fn_minor, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "amount_sign", 1, f, NULL, fn_sign, NULL, NULL);
	return rc;
}
