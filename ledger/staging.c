/*
 * staging.c - the staging area: statement lines, statements, payment
 * statuses and breaks that importers read from channel files, stored for
 * clearing to reconcile.
 *
 * Like the journal it is append-only (triggers refuse UPDATE and DELETE) and
 * a file goes in whole or not at all: one database transaction per file.
 * The same file again (same SHA-256) is a no-op; the same entry arriving in
 * two files is stored once, keyed on channel, account and the entry's own
 * reference.
 */
#include "ledger_int.h"

#include <string.h>

static const char *const staging_sql =
	"CREATE TABLE IF NOT EXISTS account_aliases(external_id TEXT PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id), created_at TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS import_files(id INTEGER PRIMARY KEY,"
	"  sha256 TEXT NOT NULL UNIQUE, name TEXT NOT NULL, profile TEXT NOT NULL,"
	"  channel TEXT NOT NULL, imported_at TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS statements(id INTEGER PRIMARY KEY,"
	"  file_id INTEGER NOT NULL REFERENCES import_files(id), statement_no INTEGER"
	"  NOT NULL, channel TEXT NOT NULL,"
	"  account TEXT NOT NULL, message_type TEXT, msg_id TEXT, statement_id TEXT,"
	"  seq_nb INTEGER, asset TEXT, from_date TEXT, to_date TEXT, opening BLOB,"
	"  closing BLOB, booked_sum BLOB, booked_entries INTEGER, line_no INTEGER,"
	"  raw_header TEXT);"
	"CREATE TABLE IF NOT EXISTS line_scopes(id INTEGER PRIMARY KEY,"
	"  channel TEXT NOT NULL, account TEXT NOT NULL, UNIQUE(channel, account));"
	"CREATE TABLE IF NOT EXISTS staged_lines(id INTEGER PRIMARY KEY,"
	"  file_id INTEGER NOT NULL REFERENCES import_files(id),"
	"  statement_no INTEGER NOT NULL, channel TEXT NOT NULL,"
	"  scope_id INTEGER NOT NULL REFERENCES line_scopes(id),"
	"  dedupe_key TEXT NOT NULL, entry_ref TEXT,"
	"  parent_id INTEGER REFERENCES staged_lines(id), is_batch INTEGER NOT NULL,"
	"  children INTEGER NOT NULL, batch_difference BLOB, booking_date TEXT,"
	"  value_date TEXT, amount BLOB NOT NULL, asset TEXT NOT NULL,"
	"  counterparty_name TEXT, counterparty_account TEXT, end_to_end_id TEXT,"
	"  instruction_id TEXT, provider_ref TEXT, uetr TEXT, remittance TEXT,"
	"  tx_code TEXT, status TEXT, batch_id TEXT, return_reason TEXT,"
	"  reversal INTEGER NOT NULL, charges TEXT, entry_index INTEGER,"
	"  child_index INTEGER, line_no INTEGER, raw TEXT NOT NULL);"
	"DROP INDEX IF EXISTS statement_lines_dedupe;"
	"CREATE TABLE IF NOT EXISTS payment_statuses(id INTEGER PRIMARY KEY,"
	"  file_id INTEGER NOT NULL REFERENCES import_files(id), message_type TEXT,"
	"  msg_id TEXT, orig_msg_id TEXT, orig_pmt_inf_id TEXT, orig_instr_id TEXT,"
	"  orig_end_to_end_id TEXT, status TEXT NOT NULL, reason_code TEXT,"
	"  reason_text TEXT, line_no INTEGER);"
	"CREATE TABLE IF NOT EXISTS staging_breaks(id INTEGER PRIMARY KEY,"
	"  file_id INTEGER NOT NULL REFERENCES import_files(id), kind TEXT NOT NULL,"
	"  account TEXT, statement_id TEXT, detail TEXT NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS import_files_append_only BEFORE UPDATE ON import_files"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS import_files_no_delete BEFORE DELETE ON import_files"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS statements_append_only BEFORE UPDATE ON statements"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS statements_no_delete BEFORE DELETE ON statements"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS staged_lines_append_only BEFORE UPDATE ON staged_lines"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS staged_lines_no_delete BEFORE DELETE ON staged_lines"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS scopes_append_only BEFORE UPDATE ON line_scopes"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS scopes_no_delete BEFORE DELETE ON line_scopes"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS statuses_append_only BEFORE UPDATE ON payment_statuses"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS statuses_no_delete BEFORE DELETE ON payment_statuses"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS breaks_append_only BEFORE UPDATE ON staging_breaks"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS breaks_no_delete BEFORE DELETE ON staging_breaks"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;";

/* The original fields of every line as one JSON object.  Lines store them
 * compactly beside names kept once with their statement (raw_header), so
 * that staging a line does not write every name again: a CSV line as null
 * and then its cells in header order, an XML line as [index, value, ...]
 * pairs into the statement's list of paths (index -1: "_truncated").  A
 * value that is the same text as one of the line's own fields is stored as
 * that field's lg_raw_field code.  Lines staged before (arrays of cells
 * without the leading null, objects) are shown as they are stored. */
/* The text of a line's field by its lg_raw_field code, in SQL. */
#define RAW_FIELD_SQL(v)                                                       \
	"CASE " v " WHEN 1 THEN l.entry_ref WHEN 2 THEN l.booking_date WHEN 3 THEN"  \
	" l.value_date WHEN 4 THEN l.asset WHEN 5 THEN l.counterparty_name WHEN 6"   \
	" THEN l.counterparty_account WHEN 7 THEN l.end_to_end_id WHEN 8 THEN"       \
	" l.instruction_id WHEN 9 THEN l.provider_ref WHEN 10 THEN l.uetr WHEN 11"   \
	" THEN l.remittance WHEN 12 THEN l.tx_code WHEN 13 THEN l.status WHEN 14"    \
	" THEN l.batch_id WHEN 15 THEN l.return_reason END"
#define RAW_VALUE_SQL(t, v)                                                    \
	"CASE WHEN " t " = 'integer' THEN " RAW_FIELD_SQL(v) " ELSE " v " END"
#define RAW_OBJECT_SQL                                                         \
	"CASE WHEN s.raw_header IS NULL OR json_type(l.raw) <> 'array' THEN l.raw"   \
	" WHEN json_type(l.raw, '$[0]') = 'integer' THEN coalesce((SELECT"           \
	"  json_group_object(CASE WHEN k.value < 0 THEN '_truncated' ELSE"          \
	"  json_extract(s.raw_header, '$[' || k.value || ']') END, "                \
	RAW_VALUE_SQL("v.type", "v.value") ") FROM"                                  \
	"  json_each(l.raw) k JOIN json_each(l.raw) v ON v.key = k.key + 1 WHERE"  \
	"  k.key % 2 = 0), '{}')"                                                   \
	" WHEN json_type(l.raw, '$[0]') = 'null' THEN coalesce((SELECT"             \
	"  json_group_object(coalesce(nullif(h.value, ''), '#' || c.key),"          \
	RAW_VALUE_SQL("c.type", "c.value") ") FROM json_each(l.raw) c LEFT JOIN"     \
	"  json_each(s.raw_header) h ON h.key = c.key - 1 WHERE c.key > 0 AND"      \
	"  c.type IN ('text', 'integer') AND (coalesce(h.value, '') <> '' OR"       \
	"  c.value <> '')), '{}')"                                                  \
	" ELSE coalesce((SELECT json_group_object(coalesce(nullif(h.value, ''),"    \
	"  '#' || (c.key + 1)), c.value) FROM json_each(l.raw) c LEFT JOIN"         \
	"  json_each(s.raw_header) h ON h.key = c.key WHERE c.type = 'text' AND"    \
	"  (coalesce(h.value, '') <> '' OR c.value <> '')), '{}') END"
static const char *const raw_view_sql =
	"CREATE VIEW IF NOT EXISTS statement_lines_raw(id, raw) AS"
	" SELECT l.id, " RAW_OBJECT_SQL
	" FROM staged_lines l LEFT JOIN statements s ON s.file_id = l.file_id"
	" AND s.statement_no = l.statement_no";

const char *ledger_line_field(const ledger_stmt_line *ln, int code)
{
	switch (code) {
	case LG_RAW_ENTRY_REF: return ln->entry_ref;
	case LG_RAW_BOOKING_DATE: return ln->booking_date;
	case LG_RAW_VALUE_DATE: return ln->value_date;
	case LG_RAW_ASSET: return ln->asset;
	case LG_RAW_COUNTERPARTY_NAME: return ln->counterparty_name;
	case LG_RAW_COUNTERPARTY_ACCOUNT: return ln->counterparty_account;
	case LG_RAW_END_TO_END_ID: return ln->end_to_end_id;
	case LG_RAW_INSTRUCTION_ID: return ln->instruction_id;
	case LG_RAW_PROVIDER_REF: return ln->provider_ref;
	case LG_RAW_UETR: return ln->uetr;
	case LG_RAW_REMITTANCE: return ln->remittance;
	case LG_RAW_TX_CODE: return ln->tx_code;
	case LG_RAW_STATUS: return ln->status;
	case LG_RAW_BATCH_ID: return ln->batch_id;
	case LG_RAW_RETURN_REASON: return ln->return_reason;
	default: return NULL;
	}
}

/* A ledger made before raw_header existed gets the column. */
static int add_raw_header(ledger *lg, lg_error *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(lg->db, "SELECT raw_header FROM statements LIMIT 0", -1,
	                       &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return LG_OK;
	}
	return lg_exec(lg, "ALTER TABLE statements ADD COLUMN raw_header TEXT", err);
}

/* The view as this build defines it: a ledger whose view an older build
 * made gets it replaced (only then, so that opening a ledger writes
 * nothing). */
static int raw_view(ledger *lg, lg_error *err)
{
	static const char prefix[] = "CREATE VIEW IF NOT EXISTS ";
	sqlite3_stmt *st = NULL;
	int rc, same = 0;

	if (sqlite3_prepare_v2(lg->db, "SELECT sql FROM sqlite_schema WHERE type = 'view'"
	                       " AND name = 'statement_lines_raw'", -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading the schema");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		/* SQLite keeps the statement without "IF NOT EXISTS". */
		const char *sql = (const char *)sqlite3_column_text(st, 0);
		same = sql && strncmp(sql, "CREATE VIEW ", 12) == 0 &&
		       strcmp(sql + 12, raw_view_sql + sizeof prefix - 1) == 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "reading the schema");
	if (same)
		return LG_OK;
	if (rc == SQLITE_ROW)
		rc = lg_exec(lg, "DROP VIEW IF EXISTS statement_lines_raw", err);
	else
		rc = LG_OK;
	return rc ? rc : lg_exec(lg, raw_view_sql, err);
}

/*
 * The dedupe index: unique on the entry's own key first (it tells rows
 * apart at once), then the line's scope (its channel and account as one
 * number, the same for a whole file), and only over lines that have a
 * key: an entry with a reference.  A child of a batch is staged with its
 * entry, whose key covers it, and a line without a reference is unique to
 * its file; both have the empty key and no index entry.
 */
static const char *const key_index_sql =
	"CREATE UNIQUE INDEX IF NOT EXISTS staged_lines_ref"
	"  ON staged_lines(dedupe_key, scope_id) WHERE dedupe_key <> ''";

/*
 * statement_lines, the staged lines as every reader sees them: one row per
 * line with its channel and account as text.  Physically a line keeps its
 * account (and the dedupe index both) as the number of its scope in
 * line_scopes, which holds each channel and account once; that made a
 * line of a bank CSV about 19 bytes shorter and its index entry 18, the
 * bytes the staging of a large file spends most of its time writing
 * (twice: the WAL, then the checkpoint).  The channel stays on the line,
 * since every reader filters by it.  A LEFT JOIN on the scope's key (there
 * always is one) keeps the lines the outer loop of any query and lets
 * SQLite leave the scope out where the account is not read.  The view
 * refuses UPDATE and DELETE as the tables do.
 */
static const char *const lines_view_sql =
	"CREATE VIEW IF NOT EXISTS statement_lines(id, file_id, statement_no, channel,"
	"  account, dedupe_key, entry_ref, parent_id, is_batch, children,"
	"  batch_difference, booking_date, value_date, amount, asset,"
	"  counterparty_name, counterparty_account, end_to_end_id, instruction_id,"
	"  provider_ref, uetr, remittance, tx_code, status, batch_id, return_reason,"
	"  reversal, charges, entry_index, child_index, line_no, raw) AS"
	" SELECT l.id, l.file_id, l.statement_no, l.channel, c.account, l.dedupe_key,"
	"  l.entry_ref, l.parent_id, l.is_batch, l.children, l.batch_difference,"
	"  l.booking_date, l.value_date, l.amount, l.asset, l.counterparty_name,"
	"  l.counterparty_account, l.end_to_end_id, l.instruction_id, l.provider_ref,"
	"  l.uetr, l.remittance, l.tx_code, l.status, l.batch_id, l.return_reason,"
	"  l.reversal, l.charges, l.entry_index, l.child_index, l.line_no, l.raw"
	" FROM staged_lines l LEFT JOIN line_scopes c ON c.id = l.scope_id;"
	"CREATE TRIGGER IF NOT EXISTS lines_append_only INSTEAD OF UPDATE ON statement_lines"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS lines_no_delete INSTEAD OF DELETE ON statement_lines"
	"  BEGIN SELECT RAISE(ABORT, 'the staging area is append-only'); END;";

/* The columns an older build's statement_lines table shares with
 * staged_lines, in the order of staged_lines (scope_id apart). */
#define LINE_COLS_BEFORE_SCOPE "id, file_id, statement_no, channel"
#define LINE_COLS_AFTER_SCOPE                                                  \
	"dedupe_key, entry_ref, parent_id, is_batch, children, batch_difference,"    \
	" booking_date, value_date, amount, asset, counterparty_name,"               \
	" counterparty_account, end_to_end_id, instruction_id, provider_ref, uetr,"  \
	" remittance, tx_code, status, batch_id, return_reason, reversal, charges,"  \
	" entry_index, child_index, line_no, raw"

static const char *const migrate_lines_sql =
	"BEGIN IMMEDIATE;"
	"INSERT INTO line_scopes(channel, account) SELECT DISTINCT channel, account"
	"  FROM statement_lines ORDER BY channel, account;"
	"INSERT INTO staged_lines(" LINE_COLS_BEFORE_SCOPE ", scope_id, "
	LINE_COLS_AFTER_SCOPE ") SELECT " LINE_COLS_BEFORE_SCOPE ", (SELECT c.id FROM"
	"  line_scopes c WHERE c.channel = l.channel AND c.account = l.account), "
	LINE_COLS_AFTER_SCOPE " FROM statement_lines l ORDER BY id;"
	"DROP VIEW IF EXISTS statement_lines_raw;"
	"DROP TABLE statement_lines;"
	"COMMIT;";

/* A ledger an older build made keeps its lines in a table named
 * statement_lines (and their account on every line): they move, once and
 * whole, into staged_lines, and the view takes the table's name.  Every
 * id stays, so clearing's references to lines still hold. */
static int migrate_lines(ledger *lg, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, old;

	if (sqlite3_prepare_v2(lg->db, "SELECT 1 FROM sqlite_schema WHERE type = 'table'"
	                       " AND name = 'statement_lines'", -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading the schema");
	rc = sqlite3_step(st);
	old = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "reading the schema");
	if (!old)
		return LG_OK;
	rc = lg_exec(lg, migrate_lines_sql, err);
	if (rc)
		sqlite3_exec(lg->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int lg_staging_schema(ledger *lg, lg_error *err)
{
	int rc = lg_exec(lg, staging_sql, err);

	if (!rc)
		rc = add_raw_header(lg, err);
	if (!rc)
		rc = migrate_lines(lg, err);
	if (!rc)
		rc = lg_exec(lg, key_index_sql, err);
	if (!rc)
		rc = lg_exec(lg, lines_view_sql, err);
	return rc ? rc : raw_view(lg, err);
}

/* Binds text or NULL. */
static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* For the staged-line insert, whose parameters lg_stmt has just cleared to
 * NULL: text that stays alive until the step is bound without a copy, and
 * an absent field is left NULL.  This runs for every line of a file. */
static void bind_static(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static void bind_amount(sqlite3_stmt *st, int i, amount_minor_t v)
{
	unsigned char b[AMOUNT_BLOB_BYTES];
	amount_encode(v, b);
	sqlite3_bind_blob(st, i, b, AMOUNT_BLOB_BYTES, SQLITE_TRANSIENT);
}

static int step_done(ledger *lg, sqlite3_stmt *st, const char *what, lg_error *err)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, what);
}

static int record_break(ledger *lg, const char *kind, const char *statement_id,
                        const char *detail, ledger_stage_result *res, lg_error *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(lg->db, "INSERT INTO staging_breaks(file_id, kind,"
	                       " account, statement_id, detail) VALUES(?1,?2,?3,?4,?5)",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "recording a break");
	sqlite3_bind_int64(st, 1, lg->stage.file_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	bind_opt(st, 3, lg->stage.account[0] ? lg->stage.account : NULL);
	bind_opt(st, 4, statement_id);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_TRANSIENT);
	res->breaks++;
	return step_done(lg, st, "recording a break", err);
}

/* The file's row in import_files, under the id its lines already use. */
static int record_file(ledger *lg, const ledger_stage_file *f, const char *sha,
                       lg_error *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(lg->db, "INSERT INTO import_files(id, sha256, name,"
	                       " profile, channel, imported_at) VALUES(?6,?1,?2,?3,?4,?5)",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "recording the file");
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, lg->now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, lg->stage.file_id);
	return step_done(lg, st, "recording the file", err);
}

/* 1 when a file with this SHA-256 was imported before. */
static int sha_seen(ledger *lg, const char *sha, int *seen, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT id FROM import_files WHERE sha256 = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading imported files");
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	*seen = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? LG_OK
	                                             : lg_sql_error(lg, err, "reading imported files");
}

/* The id the file will be recorded under: the next one, taken inside the
 * write transaction, so no other writer can take it meanwhile. */
static int next_file_id(ledger *lg, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT coalesce(max(id), 0) + 1 FROM import_files",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading imported files");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		lg->stage.file_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? LG_OK : lg_sql_error(lg, err, "reading imported files");
}

int ledger_stage_begin(ledger *lg, const ledger_stage_file *f,
                       ledger_stage_result *res, lg_error *err)
{
	int rc, seen = 0;

	memset(res, 0, sizeof *res);
	memset(&lg->stage, 0, sizeof lg->stage);
	LG_ASSERT(!f->sha256_hex || strlen(f->sha256_hex) == 64);
	rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	if (f->sha256_hex)
		rc = sha_seen(lg, f->sha256_hex, &seen, err);
	if (!rc && seen) {
		res->already_imported = 1;
		ledger_rollback(lg);
		return LG_OK;
	}
	if (!rc)
		rc = next_file_id(lg, err);
	if (!rc && f->sha256_hex)
		rc = record_file(lg, f, f->sha256_hex, err);
	if (rc)
		goto fail;
	LG_ASSERT(lg->stage.file_id > 0);
	snprintf(lg->stage.channel, sizeof lg->stage.channel, "%s", f->channel);
	snprintf(lg->stage.file_account, sizeof lg->stage.file_account, "%s",
	         f->account ? f->account : "");
	return LG_OK;
fail:
	ledger_rollback(lg);
	return rc;
}

int ledger_stage_file_hash(ledger *lg, const ledger_stage_file *f,
                           const char *sha256_hex, ledger_stage_result *res,
                           lg_error *err)
{
	int rc, seen = 0;

	LG_ASSERT(lg->in_tx && lg->stage.file_id > 0 && !f->sha256_hex);
	LG_ASSERT(sha256_hex && strlen(sha256_hex) == 64);
	rc = sha_seen(lg, sha256_hex, &seen, err);
	if (!rc && seen)
		res->already_imported = 1;
	if (!rc && !seen)
		rc = record_file(lg, f, sha256_hex, err);
	return rc;
}

int ledger_stage_end(ledger *lg, int keep, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!lg->in_tx)
		return LG_OK;
	if (!keep) {
		ledger_rollback(lg);
		return LG_OK;
	}
	/* A staging begun without the file's SHA-256 keeps nothing until it
	 * was given: the re-import key must be there. */
	if (sqlite3_prepare_v2(lg->db, "SELECT 1 FROM import_files WHERE id = ?1", -1,
	                       &st, NULL) != SQLITE_OK) {
		ledger_rollback(lg);
		return lg_sql_error(lg, err, "reading imported files");
	}
	sqlite3_bind_int64(st, 1, lg->stage.file_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = lg_sql_error(lg, err, "reading imported files");
		ledger_rollback(lg);
		return rc;
	}
	if (rc != SQLITE_ROW) {
		ledger_rollback(lg);
		return lg_error_set(err, LG_EINTERNAL, "the staged file's SHA-256 was "
		                    "never given; nothing was staged");
	}
	return ledger_commit(lg, err);
}

/* Adding the same alias again is a no-op, so set-up scripts can rerun. */
static int same_alias(ledger *lg, const char *external_id, const char *account,
                      lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, same = 0;

	if (sqlite3_prepare_v2(lg->db, "SELECT a.code = ?2 FROM account_aliases x JOIN"
	                       " accounts a ON a.id = x.account_id WHERE x.external_id = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading aliases");
	sqlite3_bind_text(st, 1, external_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		same = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return lg_sql_error(lg, err, "reading aliases");
	return same ? LG_OK : lg_error_set(err, LG_EDATA, "alias '%s' already maps to "
	                                   "another account", external_id);
}

int ledger_alias_add(ledger *lg, const char *external_id, const char *account,
                     lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!external_id[0] || strlen(external_id) > LG_CODE_MAX)
		return lg_error_set(err, LG_EUSAGE, "an alias is 1 to %d bytes", LG_CODE_MAX);
	if (sqlite3_prepare_v2(lg->db, "INSERT INTO account_aliases(external_id,"
	                       " account_id, created_at) SELECT ?1, id, ?3 FROM accounts"
	                       " WHERE code = ?2", -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "adding an alias");
	sqlite3_bind_text(st, 1, external_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lg->now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return same_alias(lg, external_id, account, err);
	if (rc != SQLITE_DONE)
		return lg_sql_error(lg, err, "adding an alias");
	if (sqlite3_changes(lg->db) != 1)
		return lg_error_set(err, LG_ENOINPUT, "account '%s' does not exist", account);
	return LG_OK;
}

/* The ledger account a statement is for: its alias, else the file's. */
static int resolve_account(ledger *lg, const ledger_stmt_statement *s, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	lg->stage.account[0] = '\0';
	if (s->account_id) {
		if (sqlite3_prepare_v2(lg->db, "SELECT a.code FROM account_aliases x JOIN"
		                       " accounts a ON a.id = x.account_id WHERE"
		                       " x.external_id = ?1", -1, &st, NULL) != SQLITE_OK)
			return lg_sql_error(lg, err, "reading aliases");
		sqlite3_bind_text(st, 1, s->account_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			snprintf(lg->stage.account, sizeof lg->stage.account, "%s",
			         sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return lg_sql_error(lg, err, "reading aliases");
	}
	if (!lg->stage.account[0])
		snprintf(lg->stage.account, sizeof lg->stage.account, "%s",
		         lg->stage.file_account);
	if (!lg->stage.account[0])
		return lg_error_set(err, LG_EDATA, "statement '%s' is for account '%s', which "
		                    "maps to no ledger account: pass --account CODE or add "
		                    "an alias (clearbook account alias add ID CODE)",
		                    s->statement_id ? s->statement_id : "?",
		                    s->account_id ? s->account_id : "(none)");
	return LG_OK;
}

/* The scope of the statement's lines: the line_scopes row of its channel
 * and account, added the first time they meet (inside the file's
 * transaction, so a file that fails leaves none). */
static int resolve_scope(ledger *lg, lg_error *err)
{
	static const char *const sql[2] = {
		"SELECT id FROM line_scopes WHERE channel = ?1 AND account = ?2",
		"INSERT INTO line_scopes(channel, account) VALUES(?1, ?2)",
	};
	int rc = SQLITE_DONE;

	LG_ASSERT(lg->stage.channel[0] && lg->stage.account[0]);
	lg->stage.scope_id = 0;
	for (int i = 0; i < 2 && lg->stage.scope_id == 0; i++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(lg->db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return lg_sql_error(lg, err, "reading line scopes");
		sqlite3_bind_text(st, 1, lg->stage.channel, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, lg->stage.account, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			lg->stage.scope_id = sqlite3_column_int64(st, 0);
		else if (rc == SQLITE_DONE && i == 1)
			lg->stage.scope_id = sqlite3_last_insert_rowid(lg->db);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return lg_sql_error(lg, err, "recording a line scope");
	}
	LG_ASSERT(lg->stage.scope_id > 0);
	return LG_OK;
}

/* Another file already staged this statement (same message and statement
 * id): a duplicate, recorded as such. */
static int check_duplicate_statement(ledger *lg, const ledger_stmt_statement *s,
                                     ledger_stage_result *res, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	char detail[LG_MSG_MAX];
	int rc;

	if (!s->msg_id || !s->statement_id)
		return LG_OK;
	if (sqlite3_prepare_v2(lg->db, "SELECT f.name FROM statements s JOIN import_files f"
	                       " ON f.id = s.file_id WHERE s.msg_id = ?1 AND"
	                       " s.statement_id = ?2 AND s.file_id <> ?3 LIMIT 1", -1, &st,
	                       NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading statements");
	sqlite3_bind_text(st, 1, s->msg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->statement_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, lg->stage.file_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(detail, sizeof detail, "statement '%.100s' of message '%.100s' was "
		         "already imported from %.200s", s->statement_id, s->msg_id,
		         sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return record_break(lg, "duplicate-statement", s->statement_id, detail, res, err);
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "reading statements");
}

int ledger_stage_statement(ledger *lg, const ledger_stmt_statement *s,
                           ledger_stage_result *res, lg_error *err)
{
	int rc;

	LG_ASSERT(lg->in_tx && lg->stage.file_id > 0);
	rc = resolve_account(lg, s, err);
	if (!rc)
		rc = resolve_scope(lg, err);
	if (!rc)
		rc = check_duplicate_statement(lg, s, res, err);
	if (rc)
		return rc;
	/* The statement's row is written at its end, with its totals: the
	 * staging area is never updated. */
	lg->stage.statement_no++;
	lg->stage.parent_row = 0;
	lg->stage.parent_duplicate = 0;
	res->statements++;
	return LG_OK;
}

/*
 * The dedupe key of an entry: its own reference (the account servicer's
 * reference first, it is the one banks keep unique; NtryRef repeats in some
 * banks' files, e.g. PostFinance's ESR participant number), with its
 * booking date and amount, so that a reused reference never makes a
 * different entry vanish as a "duplicate".  A line without a reference,
 * and a child of a batch (staged with its entry), has none: the empty key.
 */
static const char *line_ref(const ledger_stmt_line *ln)
{
	return ln->provider_ref && ln->provider_ref[0] ? ln->provider_ref
	       : ln->entry_ref && ln->entry_ref[0] ? ln->entry_ref : NULL;
}

/* Appends s (at most max bytes of it) to out at *len, keeping room for the
 * NUL; the key is cut, never overrun. */
static void key_put(char *out, size_t cap, size_t *len, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

static void dedupe_key(const ledger_stmt_line *ln, const char *ref, char *out,
                       size_t cap)
{
	char amt[AMOUNT_TEXT_MAX];
	size_t len = 0;

	LG_ASSERT(cap > 2 * LG_STMT_FIELD_MAX && ref && ref[0] && ln->child_index < 0);
	/* Built by hand, not with snprintf: this runs once per staged line. */
	out[0] = '\0';
	amount_format_minor(ln->amount_minor, amt, sizeof amt);
	key_put(out, cap, &len, ref, 1024);
	key_put(out, cap, &len, "|", 1);
	key_put(out, cap, &len, ln->booking_date ? ln->booking_date : "", 16);
	key_put(out, cap, &len, "|", 1);
	key_put(out, cap, &len, amt, sizeof amt);
}

/* The line's own fields into the insert's parameters o+1.. (o: the row's
 * first parameter less one); amt and diff are the caller's, alive until
 * the insert is stepped. */
static void bind_line_fields(sqlite3_stmt *st, int o, const ledger_stmt_line *ln,
                             unsigned char amt[AMOUNT_BLOB_BYTES],
                             unsigned char diff[AMOUNT_BLOB_BYTES])
{
	bind_static(st, o + 6, ln->entry_ref);
	bind_static(st, o + 9, ln->booking_date);
	bind_static(st, o + 10, ln->value_date);
	amount_encode(ln->amount_minor, amt);
	sqlite3_bind_blob(st, o + 11, amt, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
	bind_static(st, o + 12, ln->asset);
	bind_static(st, o + 13, ln->counterparty_name);
	bind_static(st, o + 14, ln->counterparty_account);
	bind_static(st, o + 15, ln->end_to_end_id);
	bind_static(st, o + 16, ln->instruction_id);
	bind_static(st, o + 17, ln->provider_ref);
	bind_static(st, o + 18, ln->uetr);
	bind_static(st, o + 19, ln->remittance);
	bind_static(st, o + 20, ln->tx_code);
	bind_static(st, o + 21, ln->status);
	bind_static(st, o + 22, ln->batch_id);
	bind_static(st, o + 23, ln->return_reason);
	sqlite3_bind_int(st, o + 24, ln->reversal ? 1 : 0);
	bind_static(st, o + 25, ln->charges);
	sqlite3_bind_int64(st, o + 26, ln->entry_index);
	sqlite3_bind_int64(st, o + 27, ln->child_index);
	sqlite3_bind_int64(st, o + 28, ln->line_no);
	bind_static(st, o + 29, ln->raw_json ? ln->raw_json : "{}");
	sqlite3_bind_int(st, o + 8, ln->is_batch ? 1 : 0);
	sqlite3_bind_int64(st, o + 30, ln->children);
	if (ln->is_batch) {
		amount_encode(ln->batch_difference_minor, diff);
		sqlite3_bind_blob(st, o + 31, diff, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
	}
}

/* Which file staged the line with this key (in this file's channel and
 * account), 0 if none. */
static int key_owner(ledger *lg, const char *key, long long *file_id, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*file_id = 0;
	LG_ASSERT(key[0] && lg->stage.scope_id > 0);
	if (sqlite3_prepare_v2(lg->db, "SELECT file_id FROM staged_lines WHERE"
	                       " dedupe_key = ?1 AND scope_id = ?2 AND dedupe_key <> ''",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading staged lines");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, lg->stage.scope_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*file_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? LG_OK
	                                             : lg_sql_error(lg, err, "reading staged lines");
}

/* Steps the bound insert under key `base`: the same key twice in one file
 * is two rows (exports repeat scrubbed or batch-level references), the
 * n-th occurrence keyed "KEY#n", so that the same rows in an overlapping
 * export still meet their twins.  *dup: another file staged it. */
static int insert_keyed(ledger *lg, sqlite3_stmt *st, const char *base, int *dup,
                        lg_error *err)
{
	char key[2 * LG_STMT_FIELD_MAX + 200];
	int rc;

	*dup = 0;
	for (int occ = 1; occ <= LG_STAGE_OCCURRENCES_MAX; occ++) {
		long long owner = 0;
		if (occ == 1)
			memcpy(key, base, strlen(base) + 1);
		else
			snprintf(key, sizeof key, "%.2200s#%d", base, occ);
		sqlite3_bind_text(st, 5, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT) {
			rc = lg_sql_error(lg, err, "staging a line");
			sqlite3_reset(st);
			return rc;
		}
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return LG_OK;
		rc = key_owner(lg, key, &owner, err);
		if (rc)
			return rc;
		if (owner != lg->stage.file_id) {
			*dup = 1; /* staged from another file: a duplicate */
			return LG_OK;
		}
	}
	return lg_error_set(err, LG_EDATA, "more than %d lines of one file share the key "
	                    "'%.200s'", LG_STAGE_OCCURRENCES_MAX, base);
}

int ledger_stage_line(ledger *lg, const ledger_stmt_statement *s,
                      const ledger_stmt_line *ln, ledger_stage_result *res,
                      lg_error *err)
{
	char base[2 * LG_STMT_FIELD_MAX + 160];
	unsigned char amt[AMOUNT_BLOB_BYTES], diff[AMOUNT_BLOB_BYTES];
	const char *ref = ln->child_index < 0 ? line_ref(ln) : NULL;
	sqlite3_stmt *st = NULL;
	int rc, dup = 0;

	(void)s;
	LG_ASSERT(lg->in_tx && lg->stage.account[0]);
	if (!ln->asset || !ln->asset[0])
		return lg_error_set(err, LG_EDATA, "entry %ld has no currency", ln->entry_index);
	if (ln->child_index >= 0 && lg->stage.parent_duplicate) {
		res->duplicates++;
		return LG_OK; /* its batch entry is already staged, children too */
	}
	st = lg_stmt(lg, ST_STAGE_LINE);
	if (!st)
		return lg_sql_error(lg, err, "staging a line");
	sqlite3_bind_int64(st, 1, lg->stage.file_id);
	sqlite3_bind_int64(st, 2, lg->stage.statement_no);
	sqlite3_bind_text(st, 3, lg->stage.channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, lg->stage.scope_id);
	if (ln->child_index >= 0 && lg->stage.parent_row > 0)
		sqlite3_bind_int64(st, 7, lg->stage.parent_row);
	bind_line_fields(st, 0, ln, amt, diff);
	if (ref) {
		dedupe_key(ln, ref, base, sizeof base);
		rc = insert_keyed(lg, st, base, &dup, err);
	} else {
		sqlite3_bind_text(st, 5, "", 0, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? LG_OK
		     : lg_sql_error(lg, err, "staging a line");
		sqlite3_reset(st);
	}
	if (rc)
		return rc;
	if (ln->child_index < 0) {
		lg->stage.parent_duplicate = dup;
		lg->stage.parent_row = dup ? 0 : sqlite3_last_insert_rowid(lg->db);
	}
	lg->stage.next_id = 0; /* the row took the next id, if any */
	if (dup)
		res->duplicates++;
	else
		res->lines++;
	return LG_OK;
}

/* --- several lines to one insert ------------------------------------- */

#define STAGE_BATCH_ROWS 16   /* lines to one multi-row insert */
#define STAGE_ROW_PARAMS 31   /* parameters of one row, as ST_STAGE_LINE's */
/* Parameters 1 to 4 (file_id, statement_no, channel, scope_id) are the
 * same for every line of a statement: each row of the multi-row insert
 * names the first row's, bound once per insert instead of once per row. */
#define STAGE_SHARED_PARAMS 4
#define STAGE_KEY_MAX (2 * LG_STMT_FIELD_MAX + 160)
#define STAGE_COOLDOWN_RUNS 4 /* runs staged one by one after a key was met */
#define STAGE_SHAPES_MAX 4    /* column sets prepared per handle, beside all */

/*
 * A shape: the multi-row insert for the columns a run of lines has.  A
 * bank CSV leaves twelve of the 31 columns NULL on every line (no value
 * date, end-to-end id, batch, ...); an insert that names only the columns
 * some line of the run has spends nothing on the others (no parameter to
 * clear, bind, load and copy per row), and SQLite stores NULL for them, as
 * before.  `cols` has bit k set for parameter k (1..31) of ST_STAGE_LINE's
 * numbering; a run whose columns fit no prepared shape uses the one with
 * every column, so at most STAGE_SHAPES_MAX + 1 are ever prepared.
 */
struct lg_stage_shape {
	sqlite3_stmt *st;
	uint32_t cols;
	int row_params;           /* parameters of one row beyond the shared */
	int param_of[STAGE_ROW_PARAMS + 1]; /* k -> its index within a row, 0 none */
};

/* The shapes and the keys and amounts a run's rows point at until its
 * insert is stepped. */
struct lg_stage_batch {
	struct lg_stage_shape shape[STAGE_SHAPES_MAX + 1]; /* [0]: every column */
	int shapes;
	char key[STAGE_BATCH_ROWS][STAGE_KEY_MAX];
	unsigned char amt[STAGE_BATCH_ROWS][AMOUNT_BLOB_BYTES];
	unsigned char diff[STAGE_BATCH_ROWS][AMOUNT_BLOB_BYTES];
};

/* The columns of ST_STAGE_LINE (store.c) in its order, and the parameter
 * each takes within a row, as there. */
static const char *const stage_cols[STAGE_ROW_PARAMS] = {
	"file_id", "statement_no", "channel", "scope_id", "dedupe_key", "entry_ref",
	"parent_id", "is_batch", "children", "booking_date", "value_date", "amount",
	"asset", "counterparty_name", "counterparty_account", "end_to_end_id",
	"instruction_id", "provider_ref", "uetr", "remittance", "tx_code", "status",
	"batch_id", "return_reason", "reversal", "charges", "entry_index",
	"child_index", "line_no", "raw", "batch_difference"
};
static const int stage_row_params[STAGE_ROW_PARAMS] = { 1, 2, 3, 4, 5, 6, 7, 8,
	30, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
	28, 29, 31 };
#define STAGE_ALL_COLS 0xfffffffeu /* bits 1..31 */
_Static_assert(STAGE_ROW_PARAMS == 31, "a shape has a bit for each of 31 parameters");

/* The text of optional text parameter k of a line, NULL if it has none
 * (or k is not one of them). */
static const char *line_text_param(const ledger_stmt_line *ln, int k)
{
	switch (k) {
	case 6: return ln->entry_ref;
	case 9: return ln->booking_date;
	case 10: return ln->value_date;
	case 13: return ln->counterparty_name;
	case 14: return ln->counterparty_account;
	case 15: return ln->end_to_end_id;
	case 16: return ln->instruction_id;
	case 17: return ln->provider_ref;
	case 18: return ln->uetr;
	case 19: return ln->remittance;
	case 20: return ln->tx_code;
	case 21: return ln->status;
	case 22: return ln->batch_id;
	case 23: return ln->return_reason;
	case 25: return ln->charges;
	default: return NULL;
	}
}

/* The parameters (bits, ST_STAGE_LINE's numbering) a line gives a value. */
static uint32_t line_cols(const ledger_stmt_line *ln)
{
	/* shared, key, is_batch, amount, asset, reversal, indexes, raw, children */
	uint32_t cols = 0x3eu | 1u << 8 | 1u << 11 | 1u << 12 | 1u << 24 | 1u << 26 |
	                1u << 27 | 1u << 28 | 1u << 29 | 1u << 30;

	/* as line_text_param, spelt out: this runs for every line */
	cols |= (uint32_t)!!ln->entry_ref << 6 | (uint32_t)!!ln->booking_date << 9 |
	        (uint32_t)!!ln->value_date << 10 | (uint32_t)!!ln->counterparty_name << 13 |
	        (uint32_t)!!ln->counterparty_account << 14 |
	        (uint32_t)!!ln->end_to_end_id << 15 | (uint32_t)!!ln->instruction_id << 16 |
	        (uint32_t)!!ln->provider_ref << 17 | (uint32_t)!!ln->uetr << 18 |
	        (uint32_t)!!ln->remittance << 19 | (uint32_t)!!ln->tx_code << 20 |
	        (uint32_t)!!ln->status << 21 | (uint32_t)!!ln->batch_id << 22 |
	        (uint32_t)!!ln->return_reason << 23 | (uint32_t)!!ln->charges << 25;
	if (ln->child_index >= 0)
		cols |= 1u << 7;
	if (ln->is_batch)
		cols |= 1u << 31;
	return cols;
}

static void stage_batch_free(struct lg_stage_batch *b)
{
	for (int i = 0; i < b->shapes; i++)
		sqlite3_finalize(b->shape[i].st);
	free(b);
}

void lg_staging_close(ledger *lg)
{
	if (!lg->stage_batch)
		return;
	stage_batch_free(lg->stage_batch);
	lg->stage_batch = NULL;
}

/* Prepares the insert of STAGE_BATCH_ROWS rows of the columns in `cols`:
 * each row names the shared parameters 1..4 and then its own, numbered
 * consecutively row after row. */
static int shape_prepare(ledger *lg, struct lg_stage_shape *sh, uint32_t cols)
{
	size_t cap = 64 + STAGE_ROW_PARAMS * 24 + STAGE_BATCH_ROWS * STAGE_ROW_PARAMS * 8;
	char *sql = malloc(cap);
	size_t len;
	int n = 0, rc;

	if (!sql)
		return -1;
	memset(sh, 0, sizeof *sh);
	sh->cols = cols;
	len = (size_t)snprintf(sql, cap, "INSERT INTO staged_lines(");
	for (int c = 0; c < STAGE_ROW_PARAMS; c++) {
		int k = stage_row_params[c];
		if (!(cols & 1u << k))
			continue;
		len += (size_t)snprintf(sql + len, cap - len, "%s%s", c ? "," : "",
		                        stage_cols[c]);
		if (k > STAGE_SHARED_PARAMS)
			sh->param_of[k] = ++n;
	}
	sh->row_params = n;
	len += (size_t)snprintf(sql + len, cap - len, ") VALUES");
	for (int r = 0; r < STAGE_BATCH_ROWS; r++) {
		int first = 1;
		for (int c = 0; c < STAGE_ROW_PARAMS; c++) {
			int k = stage_row_params[c];
			if (!(cols & 1u << k))
				continue;
			len += (size_t)snprintf(sql + len, cap - len, "%s?%d",
			                        first ? (r ? ",(" : "(") : ",",
			                        k <= STAGE_SHARED_PARAMS ? k
			                        : STAGE_SHARED_PARAMS + r * n + sh->param_of[k]);
			first = 0;
		}
		len += (size_t)snprintf(sql + len, cap - len, ")");
	}
	LG_ASSERT(len < cap && n > 0);
	rc = sqlite3_prepare_v3(lg->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &sh->st, NULL);
	free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

/* The insert for a run needing the columns in `cols`, reset:
 * a prepared shape that has them all, else a new one while there is room,
 * else the one with every column. */
static struct lg_stage_shape *stage_shape(ledger *lg, uint32_t cols)
{
	struct lg_stage_batch *b = lg->stage_batch;
	struct lg_stage_shape *sh = NULL;

	if (!b) {
		b = calloc(1, sizeof *b);
		if (!b)
			return NULL;
		if (shape_prepare(lg, &b->shape[0], STAGE_ALL_COLS) != 0) {
			free(b);
			return NULL;
		}
		b->shapes = 1;
		lg->stage_batch = b;
	}
	for (int i = 1; i < b->shapes && !sh; i++)
		if ((b->shape[i].cols & cols) == cols)
			sh = &b->shape[i];
	if (!sh && b->shapes <= STAGE_SHAPES_MAX) {
		if (shape_prepare(lg, &b->shape[b->shapes], cols) != 0)
			return NULL;
		sh = &b->shape[b->shapes++];
	}
	if (!sh)
		sh = &b->shape[0];
	sqlite3_reset(sh->st); /* shape_bind_row binds every parameter */
	return sh;
}

/* Binds row i of a shape for line ln (its key, amount and difference
 * buffers stay alive until the insert is stepped). */
static void shape_bind_row(const struct lg_stage_shape *sh, int i,
                           const ledger_stmt_line *ln, uint32_t cols, const char *key,
                           long long parent, unsigned char amt[AMOUNT_BLOB_BYTES],
                           unsigned char diff[AMOUNT_BLOB_BYTES])
{
	sqlite3_stmt *st = sh->st;
	int o = STAGE_SHARED_PARAMS + i * sh->row_params;

	LG_ASSERT((sh->cols & cols) == cols);
	LG_ASSERT(sh->param_of[5] == 1 && sh->param_of[30] > 0 && sh->param_of[29] > 0);
	sqlite3_bind_text(st, o + sh->param_of[5], key, -1, SQLITE_STATIC);
	/* Every parameter of the shape is bound (NULL where this line has no
	 * value), so the insert is never cleared as a whole. */
	for (int k = 6; k <= 25; k++) {
		if (!sh->param_of[k] || k == 7 || k == 8 || k == 11 || k == 12 || k == 24)
			continue;
		if (cols & 1u << k)
			sqlite3_bind_text(st, o + sh->param_of[k], line_text_param(ln, k), -1,
			                  SQLITE_STATIC);
		else
			sqlite3_bind_null(st, o + sh->param_of[k]);
	}
	if (ln->child_index >= 0)
		sqlite3_bind_int64(st, o + sh->param_of[7], parent);
	else if (sh->param_of[7])
		sqlite3_bind_null(st, o + sh->param_of[7]);
	sqlite3_bind_int(st, o + sh->param_of[8], ln->is_batch ? 1 : 0);
	amount_encode(ln->amount_minor, amt);
	sqlite3_bind_blob(st, o + sh->param_of[11], amt, AMOUNT_BLOB_BYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, o + sh->param_of[12], ln->asset, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, o + sh->param_of[24], ln->reversal ? 1 : 0);
	sqlite3_bind_int64(st, o + sh->param_of[26], ln->entry_index);
	sqlite3_bind_int64(st, o + sh->param_of[27], ln->child_index);
	sqlite3_bind_int64(st, o + sh->param_of[28], ln->line_no);
	sqlite3_bind_text(st, o + sh->param_of[29], ln->raw_json ? ln->raw_json : "{}", -1,
	                  SQLITE_STATIC);
	sqlite3_bind_int64(st, o + sh->param_of[30], ln->children);
	if (ln->is_batch) {
		amount_encode(ln->batch_difference_minor, diff);
		sqlite3_bind_blob(st, o + sh->param_of[31], diff, AMOUNT_BLOB_BYTES,
		                  SQLITE_STATIC);
	} else if (sh->param_of[31]) {
		sqlite3_bind_null(st, o + sh->param_of[31]);
	}
}

/* The id the next staged line gets: one past the largest, as SQLite gives
 * a new row (no AUTOINCREMENT; checked after every insert), inside the
 * file's write transaction, so no other writer takes it.  Inserting
 * without an id keeps SQLite's append path; knowing it lets a child name
 * its batch entry inserted in the same statement. */
static int next_line_id(ledger *lg, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (lg->stage.next_id > 0)
		return LG_OK;
	if (sqlite3_prepare_v2(lg->db, "SELECT coalesce(max(id), 0) + 1 FROM staged_lines",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading staged lines");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		lg->stage.next_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? LG_OK : lg_sql_error(lg, err, "reading staged lines");
}

/*
 * STAGE_BATCH_ROWS lines as one insert.  When a line's key is
 * met (a duplicate, or a repeat within the file) the insert fails whole and
 * leaves nothing (the statement is rolled back): *done is then 0 and the
 * caller stages the lines one by one, which sorts them out.
 */
static int stage_batch_try(ledger *lg, const ledger_stmt_line *const *lines,
                           int *done, ledger_stage_result *res, lg_error *err)
{
	struct lg_stage_batch *b;
	struct lg_stage_shape *sh;
	long long parent = lg->stage.parent_row, id;
	uint32_t cols = 0, line_col[STAGE_BATCH_ROWS];
	int rc, tops = 0;

	*done = 0;
	for (int i = 0; i < STAGE_BATCH_ROWS; i++) {
		const ledger_stmt_line *ln = lines[i];
		/* the one-by-one path reports these, or skips the children */
		if (!ln->asset || !ln->asset[0] ||
		    (ln->child_index >= 0 && (tops == 0 ? lg->stage.parent_duplicate ||
		                              parent <= 0 : 0)))
			return LG_OK;
		tops += ln->child_index < 0;
		line_col[i] = line_cols(ln);
		cols |= line_col[i];
	}
	rc = next_line_id(lg, err);
	if (rc)
		return rc;
	sh = stage_shape(lg, cols);
	if (!sh)
		return lg_sql_error(lg, err, "staging lines");
	b = lg->stage_batch;
	sqlite3_bind_int64(sh->st, 1, lg->stage.file_id);
	sqlite3_bind_int64(sh->st, 2, lg->stage.statement_no);
	sqlite3_bind_text(sh->st, 3, lg->stage.channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(sh->st, 4, lg->stage.scope_id);
	id = lg->stage.next_id;
	for (int i = 0; i < STAGE_BATCH_ROWS; i++) {
		const ledger_stmt_line *ln = lines[i];
		const char *ref = ln->child_index < 0 ? line_ref(ln) : NULL;

		if (ref)
			dedupe_key(ln, ref, b->key[i], sizeof b->key[i]);
		else
			b->key[i][0] = '\0';
		shape_bind_row(sh, i, ln, line_col[i], b->key[i], parent, b->amt[i], b->diff[i]);
		if (ln->child_index < 0)
			parent = id + i;
	}
	rc = sqlite3_step(sh->st);
	if (rc == SQLITE_CONSTRAINT) {
		sqlite3_reset(sh->st);
		return LG_OK;
	}
	if (rc != SQLITE_DONE || sqlite3_changes(lg->db) != STAGE_BATCH_ROWS) {
		rc = lg_sql_error(lg, err, "staging lines");
		sqlite3_reset(sh->st);
		return rc;
	}
	sqlite3_reset(sh->st);
	if (sqlite3_last_insert_rowid(lg->db) != id + STAGE_BATCH_ROWS - 1)
		return lg_error_set(err, LG_EINTERNAL, "staged lines did not get the ids "
		                    "expected (%lld..); nothing was staged", id);
	lg->stage.next_id = id + STAGE_BATCH_ROWS;
	lg->stage.parent_row = parent;
	if (tops > 0)
		lg->stage.parent_duplicate = 0;
	res->lines += STAGE_BATCH_ROWS;
	*done = 1;
	return LG_OK;
}

int ledger_stage_lines(ledger *lg, const ledger_stmt_statement *s,
                       const ledger_stmt_line *const *lines, size_t n,
                       ledger_stage_result *res, lg_error *err)
{
	size_t i = 0;
	int rc = LG_OK;

	LG_ASSERT(lg->in_tx && lg->stage.account[0]);
	while (i < n && !rc) {
		size_t run = n - i < STAGE_BATCH_ROWS ? n - i : STAGE_BATCH_ROWS;
		int done = 0;

		if (run == STAGE_BATCH_ROWS && lg->stage.batch_cooldown == 0) {
			rc = stage_batch_try(lg, lines + i, &done, res, err);
			if (!rc && !done)
				lg->stage.batch_cooldown = STAGE_COOLDOWN_RUNS;
		} else if (lg->stage.batch_cooldown > 0 && run == STAGE_BATCH_ROWS) {
			lg->stage.batch_cooldown--;
		}
		for (size_t k = 0; !rc && !done && k < run; k++)
			rc = ledger_stage_line(lg, s, lines[i + k], res, err);
		i += run;
	}
	return rc;
}

static void fmt_amount(amount_minor_t v, int scale, char *buf, size_t cap)
{
	if (scale < 0)
		amount_format_minor(v, buf, cap);
	else
		amount_format(v, scale, buf, cap);
}

/* opening + booked entries must equal closing. */
static int check_balance(ledger *lg, const ledger_stmt_statement *s, int strict,
                         ledger_stage_result *res, lg_error *err)
{
	char o[AMOUNT_TEXT_MAX], b[AMOUNT_TEXT_MAX], e[AMOUNT_TEXT_MAX];
	char c[AMOUNT_TEXT_MAX], detail[LG_MSG_MAX];
	amount_minor_t expected;

	if (!s->has_opening || !s->has_closing)
		return LG_OK;
	if (amount_add(s->opening_minor, s->booked_sum_minor, &expected) != 0)
		return lg_error_set(err, LG_EDATA, "statement '%s': balances overflow",
		                    s->statement_id ? s->statement_id : "?");
	if (expected == s->closing_minor)
		return LG_OK;
	fmt_amount(s->opening_minor, s->scale, o, sizeof o);
	fmt_amount(s->booked_sum_minor, s->scale, b, sizeof b);
	fmt_amount(expected, s->scale, e, sizeof e);
	fmt_amount(s->closing_minor, s->scale, c, sizeof c);
	snprintf(detail, sizeof detail, "statement '%.100s': opening balance %s + booked "
	         "entries %s = %s %s, but the closing booked balance is %s %s",
	         s->statement_id ? s->statement_id : "?", o, b, e,
	         s->asset ? s->asset : "", c, s->asset ? s->asset : "");
	if (strict)
		return lg_error_set(err, LG_EDATA, "%s (refused under --strict)", detail);
	return record_break(lg, "balance", s->statement_id, detail, res, err);
}

/* A camt.053 statement follows the account's previous one: the next
 * electronic sequence number, and an opening equal to its closing. */
static int check_continuity(ledger *lg, const ledger_stmt_statement *s,
                            ledger_stage_result *res, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	char detail[LG_MSG_MAX], prev_id[128];
	long long prev_seq = -1;
	amount_minor_t prev_close = 0;
	int rc, has_close = 0;

	if (!s->message_type || strncmp(s->message_type, "camt.053", 8) != 0)
		return LG_OK;
	if (sqlite3_prepare_v2(lg->db, "SELECT statement_id, seq_nb, closing FROM statements"
	                       " WHERE channel = ?1 AND account = ?2 AND asset IS ?3 AND"
	                       " message_type LIKE 'camt.053%' ORDER BY id DESC LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading statements");
	sqlite3_bind_text(st, 1, lg->stage.channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lg->stage.account, -1, SQLITE_STATIC);
	bind_opt(st, 3, s->asset);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(prev_id, sizeof prev_id, "%s", sqlite3_column_text(st, 0)
		         ? (const char *)sqlite3_column_text(st, 0) : "?");
		prev_seq = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1
		           : sqlite3_column_int64(st, 1);
		has_close = sqlite3_column_bytes(st, 2) == AMOUNT_BLOB_BYTES;
		if (has_close)
			prev_close = amount_decode(sqlite3_column_blob(st, 2));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return LG_OK; /* the account's first statement */
	if (rc != SQLITE_ROW)
		return lg_sql_error(lg, err, "reading statements");
	if (prev_seq >= 0 && s->seq_nb >= 0 && s->seq_nb != prev_seq + 1) {
		snprintf(detail, sizeof detail, "statement '%.100s' has sequence number %lld but "
		         "the previous statement '%.100s' had %lld: %s", s->statement_id ?
		         s->statement_id : "?", s->seq_nb, prev_id, prev_seq,
		         s->seq_nb <= prev_seq ? "an overlap" : "a gap");
		rc = record_break(lg, "sequence", s->statement_id, detail, res, err);
		if (rc)
			return rc;
	}
	if (has_close && s->has_opening && s->opening_minor != prev_close) {
		char a[AMOUNT_TEXT_MAX], b[AMOUNT_TEXT_MAX];
		fmt_amount(s->opening_minor, s->scale, a, sizeof a);
		fmt_amount(prev_close, s->scale, b, sizeof b);
		snprintf(detail, sizeof detail, "statement '%.100s' opens at %s but the previous "
		         "statement '%.100s' closed at %s", s->statement_id ? s->statement_id
		         : "?", a, prev_id, b);
		return record_break(lg, "opening", s->statement_id, detail, res, err);
	}
	return LG_OK;
}

int ledger_stage_statement_end(ledger *lg, const ledger_stmt_statement *s,
                               int strict, ledger_stage_result *res,
                               lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	LG_ASSERT(lg->in_tx && lg->stage.account[0]);
	rc = check_balance(lg, s, strict, res, err);
	if (!rc)
		rc = check_continuity(lg, s, res, err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(lg->db, "INSERT INTO statements(statement_no, file_id, channel,"
	                       " account, message_type, msg_id, statement_id, seq_nb, asset,"
	                       " from_date, to_date, opening, closing, booked_sum,"
	                       " booked_entries, line_no, raw_header) VALUES(?14,?1,?2,?3,?4,"
	                       "?5,?6,?7,?8,?9,?10,?11,?12,?13,?15,?16,?17)", -1, &st, NULL)
	    != SQLITE_OK)
		return lg_sql_error(lg, err, "staging a statement");
	sqlite3_bind_int64(st, 1, lg->stage.file_id);
	sqlite3_bind_text(st, 2, lg->stage.channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lg->stage.account, -1, SQLITE_STATIC);
	bind_opt(st, 4, s->message_type);
	bind_opt(st, 5, s->msg_id);
	bind_opt(st, 6, s->statement_id);
	if (s->seq_nb >= 0)
		sqlite3_bind_int64(st, 7, s->seq_nb);
	bind_opt(st, 8, s->asset);
	bind_opt(st, 9, s->from_date);
	bind_opt(st, 10, s->to_date);
	if (s->has_opening)
		bind_amount(st, 11, s->opening_minor);
	if (s->has_closing)
		bind_amount(st, 12, s->closing_minor);
	bind_amount(st, 13, s->booked_sum_minor);
	sqlite3_bind_int64(st, 14, lg->stage.statement_no);
	sqlite3_bind_int64(st, 15, s->booked_entries);
	sqlite3_bind_int64(st, 16, s->line_no);
	bind_opt(st, 17, s->raw_header);
	return step_done(lg, st, "staging a statement", err);
}

int ledger_stage_status(ledger *lg, const ledger_stmt_status *s,
                        ledger_stage_result *res, lg_error *err)
{
	sqlite3_stmt *st = NULL;

	LG_ASSERT(lg->in_tx && lg->stage.file_id > 0);
	if (!s->status || !s->status[0])
		return lg_error_set(err, LG_EDATA, "payment status at line %ld has no status "
		                    "code", s->line_no);
	if (sqlite3_prepare_v2(lg->db, "INSERT INTO payment_statuses(file_id,"
	                       " message_type, msg_id, orig_msg_id, orig_pmt_inf_id,"
	                       " orig_instr_id, orig_end_to_end_id, status, reason_code,"
	                       " reason_text, line_no) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
	                       "?10,?11)", -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "staging a payment status");
	sqlite3_bind_int64(st, 1, lg->stage.file_id);
	bind_opt(st, 2, s->message_type);
	bind_opt(st, 3, s->msg_id);
	bind_opt(st, 4, s->orig_msg_id);
	bind_opt(st, 5, s->orig_pmt_inf_id);
	bind_opt(st, 6, s->orig_instr_id);
	bind_opt(st, 7, s->orig_end_to_end_id);
	bind_opt(st, 8, s->status);
	bind_opt(st, 9, s->reason_code);
	bind_opt(st, 10, s->reason_text);
	sqlite3_bind_int64(st, 11, s->line_no);
	res->statuses++;
	return step_done(lg, st, "staging a payment status", err);
}

/* --- reading ------------------------------------------------------------ */

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int ledger_staged_list(ledger *lg, const char *channel, const char *date,
                       ledger_staged_fn fn, void *ctx, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT l.id, l.channel, l.account, s.statement_id,"
	                       " l.entry_ref, l.booking_date, l.value_date, l.amount, l.asset,"
	                       " coalesce(a.scale, -1), l.counterparty_name, l.end_to_end_id,"
	                       " l.provider_ref, l.remittance, l.status, l.batch_id,"
	                       " coalesce(l.parent_id, 0), l.is_batch, l.reversal, f.name,"
	                       " l.line_no, " RAW_OBJECT_SQL " FROM statement_lines l JOIN"
	                       " import_files f ON f.id = l.file_id LEFT JOIN statements s"
	                       " ON s.file_id = l.file_id AND s.statement_no = l.statement_no"
	                       " LEFT JOIN assets a ON a.code = l.asset"
	                       " WHERE (?1 IS NULL OR l.channel = ?1)"
	                       " AND (?2 IS NULL OR l.booking_date = ?2) ORDER BY l.id",
	                       -1, &st, NULL) != SQLITE_OK)
		return lg_sql_error(lg, err, "reading staged lines");
	bind_opt(st, 1, channel);
	bind_opt(st, 2, date);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ledger_staged_row r;
		r.id = sqlite3_column_int64(st, 0);
		r.channel = col_text(st, 1);
		r.account = col_text(st, 2);
		r.statement_id = col_text(st, 3);
		r.entry_ref = col_text(st, 4);
		r.booking_date = col_text(st, 5);
		r.value_date = col_text(st, 6);
		LG_ASSERT(sqlite3_column_bytes(st, 7) == AMOUNT_BLOB_BYTES);
		r.amount_minor = amount_decode(sqlite3_column_blob(st, 7));
		r.asset = col_text(st, 8);
		r.scale = sqlite3_column_int(st, 9);
		r.counterparty_name = col_text(st, 10);
		r.end_to_end_id = col_text(st, 11);
		r.provider_ref = col_text(st, 12);
		r.remittance = col_text(st, 13);
		r.status = col_text(st, 14);
		r.batch_id = col_text(st, 15);
		r.parent_id = sqlite3_column_int64(st, 16);
		r.is_batch = sqlite3_column_int(st, 17);
		r.reversal = sqlite3_column_int(st, 18);
		r.file_name = col_text(st, 19);
		r.line_no = (long)sqlite3_column_int64(st, 20);
		r.raw = col_text(st, 21);
		rc = fn(ctx, &r);
		if (rc) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "reading staged lines");
}

int ledger_breaks_list(ledger *lg, ledger_break_fn fn, void *ctx, lg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(lg->db, "SELECT b.id, b.kind, b.account, b.statement_id,"
	                       " b.detail, f.name FROM staging_breaks b JOIN import_files f"
	                       " ON f.id = b.file_id ORDER BY b.id", -1, &st, NULL)
	    != SQLITE_OK)
		return lg_sql_error(lg, err, "reading breaks");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ledger_break_row r;
		r.id = sqlite3_column_int64(st, 0);
		r.kind = col_text(st, 1);
		r.account = col_text(st, 2);
		r.statement_id = col_text(st, 3);
		r.detail = col_text(st, 4);
		r.file_name = col_text(st, 5);
		rc = fn(ctx, &r);
		if (rc) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? LG_OK : lg_sql_error(lg, err, "reading breaks");
}
