/*
 * store.c - the front's own tables in the ledger's database, and the API
 * keys that live in them.  The journal's tables are never written here:
 * money moves only through ledger_post_json and the hold functions.
 *
 * front_risk_refusals is the input the AML report reads for refused
 * purchases: one row per refusal with its reason.
 */
#include "front_int.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static const char *const schema_sql =
	"CREATE TABLE IF NOT EXISTS front_api_keys(key_id TEXT PRIMARY KEY,"
	"  merchant TEXT NOT NULL, secret_sealed BLOB NOT NULL,"
	"  created_at TEXT NOT NULL, revoked_at TEXT);"
	"CREATE TABLE IF NOT EXISTS front_idempotency(merchant TEXT NOT NULL,"
	"  idem_key TEXT NOT NULL, request_sha BLOB NOT NULL, status INTEGER NOT NULL,"
	"  response TEXT NOT NULL, created_at TEXT NOT NULL,"
	"  PRIMARY KEY(merchant, idem_key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS front_purchases(id TEXT PRIMARY KEY,"
	"  merchant TEXT NOT NULL, order_id TEXT NOT NULL, customer TEXT NOT NULL,"
	"  asset TEXT NOT NULL, amount_minor TEXT NOT NULL, fee_minor TEXT NOT NULL,"
	"  status TEXT NOT NULL, captured_minor TEXT NOT NULL,"
	"  refunded_minor TEXT NOT NULL, pay_asset TEXT, pay_minor TEXT,"
	"  points_asset TEXT, points_minor TEXT, points_value_minor TEXT,"
	"  fx_quote_id TEXT, expires_at TEXT,"
	"  created_at TEXT NOT NULL, created_epoch INTEGER NOT NULL,"
	"  UNIQUE(merchant, order_id));"
	"CREATE INDEX IF NOT EXISTS front_purchases_velocity"
	"  ON front_purchases(customer, created_epoch);"
	"CREATE INDEX IF NOT EXISTS front_purchases_customers"
	"  ON front_purchases(merchant, customer);"
	"CREATE INDEX IF NOT EXISTS front_purchases_holds"
	"  ON front_purchases(expires_at) WHERE status = 'held';"
	"CREATE TABLE IF NOT EXISTS front_refunds(id TEXT PRIMARY KEY,"
	"  purchase_id TEXT NOT NULL, amount_minor TEXT NOT NULL,"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS front_fx_quotes(id TEXT PRIMARY KEY,"
	"  merchant TEXT NOT NULL, from_asset TEXT NOT NULL, to_asset TEXT NOT NULL,"
	"  rate TEXT NOT NULL, expires_epoch INTEGER NOT NULL, expires_at TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS front_risk_refusals(id INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL, merchant TEXT NOT NULL, customer TEXT NOT NULL,"
	"  order_id TEXT, asset TEXT, amount TEXT, reason TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS front_risk_refusals_at ON front_risk_refusals(at);"
	/* the record of risk decisions is evidence: append-only */
	"CREATE TRIGGER IF NOT EXISTS front_risk_refusals_no_update BEFORE UPDATE"
	"  ON front_risk_refusals BEGIN"
	"  SELECT RAISE(ABORT, 'front_risk_refusals is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS front_risk_refusals_no_delete BEFORE DELETE"
	"  ON front_risk_refusals BEGIN"
	"  SELECT RAISE(ABORT, 'front_risk_refusals is append-only'); END;";

/* Whether front_risk_refusals has the detail column (tables made before
 * 2026-12-03 have only the code in reason). */
static int has_detail(sqlite3 *db, int *yes)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*yes = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('front_risk_refusals')"
	                       " WHERE name = 'detail'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int front_store_init(ledger *lg, lg_error *err)
{
	sqlite3 *db = ledger_sqlite(lg);
	char *msg = NULL;
	int yes = 0;

	if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg) != SQLITE_OK ||
	    has_detail(db, &yes) != 0 ||
	    (!yes && sqlite3_exec(db, "ALTER TABLE front_risk_refusals ADD COLUMN detail"
	                          " TEXT NOT NULL DEFAULT ''", NULL, NULL, &msg) != SQLITE_OK)) {
		lg_error_set(err, LG_EIO, "creating the front's tables: %s",
		             msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return LG_EIO;
	}
	return LG_OK;
}

void front_db_init(front_db *d, sqlite3 *db)
{
	memset(d, 0, sizeof *d);
	d->db = db;
}

void front_db_release(front_db *d)
{
	for (int i = 0; i < d->n; i++)
		sqlite3_finalize(d->st[i]);
	d->n = 0;
}

sqlite3_stmt *front_prepare(front_db *d, const char *sql)
{
	sqlite3_stmt *st = NULL;

	for (int i = 0; i < d->n; i++) {
		if (d->sql[i] == sql) {
			sqlite3_reset(d->st[i]);
			sqlite3_clear_bindings(d->st[i]);
			return d->st[i];
		}
	}
	FRONT_ASSERT(d->n < FRONT_STMTS_MAX);
	if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK)
		return NULL;
	d->sql[d->n] = sql;
	d->st[d->n++] = st;
	return st;
}

static int merchant_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= FRONT_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.'))
			return 0;
	return 1;
}

int front_apikey_add(ledger *lg, const char *config_path, const char *merchant,
                     char key_id[FRONT_KEY_ID_MAX + 1],
                     char secret[FRONT_SECRET_MAX + 1], lg_error *err)
{
	front_config cfg;
	unsigned char master[32], sealed[FRONT_SECRET_MAX + FRONT_SEAL_OVERHEAD];
	sqlite3_stmt *st = NULL;
	char hex[65];
	int rc;

	if (!merchant_name_ok(merchant))
		return lg_error_set(err, LG_EUSAGE, "merchant '%.64s' must be 1-63 characters "
		                    "of a-z 0-9 _ - .", merchant);
	rc = front_config_load(&cfg, config_path, err);
	if (!rc)
		rc = front_master_key(&cfg, master, err);
	front_config_release(&cfg);
	if (rc)
		return rc;
	rc = front_store_init(lg, err);
	if (rc)
		goto out;
	if (front_random_hex(hex, 8) != 0) {
		rc = lg_error_set(err, LG_EINTERNAL, "no randomness for the key id");
		goto out;
	}
	snprintf(key_id, FRONT_KEY_ID_MAX + 1, "k_%.16s", hex);
	if (front_random_hex(hex, 20) != 0) {
		rc = lg_error_set(err, LG_EINTERNAL, "no randomness for the secret");
		goto out;
	}
	snprintf(secret, FRONT_SECRET_MAX + 1, "sk_%.40s", hex);
	OPENSSL_cleanse(hex, sizeof hex);
	if (front_seal(master, key_id, secret, strlen(secret), sealed) != 0) {
		rc = lg_error_set(err, LG_EINTERNAL, "sealing the secret failed");
		goto out;
	}
	if (sqlite3_prepare_v2(ledger_sqlite(lg), "INSERT INTO front_api_keys(key_id,"
	                       " merchant, secret_sealed, created_at) VALUES(?1,?2,?3,?4)",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = lg_error_set(err, LG_EIO, "storing the key: %s",
		                  sqlite3_errmsg(ledger_sqlite(lg)));
		goto out;
	}
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, merchant, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sealed, (int)(strlen(secret) + FRONT_SEAL_OVERHEAD),
	                  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ledger_now(lg), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = lg_error_set(err, LG_EIO, "storing the key: %s",
		                  sqlite3_errmsg(ledger_sqlite(lg)));
out:
	sqlite3_finalize(st);
	OPENSSL_cleanse(master, sizeof master);
	if (rc)
		OPENSSL_cleanse(secret, FRONT_SECRET_MAX + 1);
	return rc;
}

int front_apikey_revoke(ledger *lg, const char *key_id, lg_error *err)
{
	sqlite3 *db = ledger_sqlite(lg);
	sqlite3_stmt *st = NULL;
	int rc = front_store_init(lg, err);

	if (rc)
		return rc;
	if (sqlite3_prepare_v2(db, "UPDATE front_api_keys SET revoked_at = ?2"
	                       " WHERE key_id = ?1 AND revoked_at IS NULL", -1, &st,
	                       NULL) != SQLITE_OK)
		return lg_error_set(err, LG_EIO, "revoking: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ledger_now(lg), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = lg_error_set(err, LG_EIO, "revoking: %s", sqlite3_errmsg(db));
	else if (sqlite3_changes(db) == 0)
		rc = lg_error_set(err, LG_ENOINPUT, "no active key '%.64s'", key_id);
	sqlite3_finalize(st);
	return rc;
}

int front_key_lookup(front_db *d, const unsigned char master[32],
                     const char *key_id, front_key *out)
{
	sqlite3_stmt *st = NULL;
	int rc, found = 0;

	if (strlen(key_id) > FRONT_KEY_ID_MAX)
		return 0;
	if (!(st = front_prepare(d, "SELECT merchant, secret_sealed FROM front_api_keys"
	                       " WHERE key_id = ?1 AND revoked_at IS NULL")))
		return -1;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *blob = sqlite3_column_blob(st, 1);
		int n = sqlite3_column_bytes(st, 1);
		snprintf(out->key_id, sizeof out->key_id, "%s", key_id);
		snprintf(out->merchant, sizeof out->merchant, "%s", sqlite3_column_text(st, 0));
		found = n > 0 && front_unseal(master, key_id, blob, (size_t)n, out->secret,
		                              sizeof out->secret) == 0;
		if (!found)
			rc = SQLITE_ERROR; /* a key we cannot open is our problem */
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return found;
}

/* --- purchases and balances ------------------------------------------- */

static amount_minor_t column_minor(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	amount_minor_t v = 0;
	char why[64];

	if (t && amount_parse(t, strlen(t), 0, &v, why, sizeof why) != 0)
		front_assert_fail("front_purchases holds a bad amount", __FILE__, __LINE__);
	return v;
}

static void column_copy(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	snprintf(out, cap, "%s", t ? t : "");
}

int front_customer_of(front_db *d, const char *merchant, const char *customer)
{
	sqlite3_stmt *st = front_prepare(d, "SELECT 1 FROM front_purchases"
	                                 " WHERE merchant = ?1 AND customer = ?2 LIMIT 1");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, merchant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, customer, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int front_purchase_load(front_db *d, const char *id, front_purchase *p)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!(st = front_prepare(d, "SELECT merchant, order_id, customer, asset,"
	                       " amount_minor, fee_minor, status, captured_minor,"
	                       " refunded_minor, pay_asset, pay_minor, points_asset,"
	                       " points_minor, fx_quote_id, expires_at, created_at,"
	                       " created_epoch, (SELECT scale FROM assets WHERE code = asset),"
	                       " points_value_minor"
	                       " FROM front_purchases WHERE id = ?1")))
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(p, 0, sizeof *p);
		snprintf(p->id, sizeof p->id, "%s", id);
		column_copy(st, 0, p->merchant, sizeof p->merchant);
		column_copy(st, 1, p->order_id, sizeof p->order_id);
		column_copy(st, 2, p->customer, sizeof p->customer);
		column_copy(st, 3, p->asset, sizeof p->asset);
		p->amount = column_minor(st, 4);
		p->fee = column_minor(st, 5);
		column_copy(st, 6, p->status, sizeof p->status);
		p->captured = column_minor(st, 7);
		p->refunded = column_minor(st, 8);
		column_copy(st, 9, p->pay_asset, sizeof p->pay_asset);
		p->pay = column_minor(st, 10);
		column_copy(st, 11, p->points_asset, sizeof p->points_asset);
		p->points = column_minor(st, 12);
		column_copy(st, 13, p->fx_quote_id, sizeof p->fx_quote_id);
		column_copy(st, 14, p->expires_at, sizeof p->expires_at);
		column_copy(st, 15, p->created_at, sizeof p->created_at);
		p->created_epoch = sqlite3_column_int64(st, 16);
		p->scale = sqlite3_column_int(st, 17);
		p->points_value = column_minor(st, 18);
		FRONT_ASSERT(p->amount > 0 && p->captured <= p->amount);
		FRONT_ASSERT(p->refunded <= p->captured);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return rc == SQLITE_ROW;
}

static void put_amount(json_t *o, const char *key, amount_minor_t v, int scale)
{
	char t[AMOUNT_TEXT_MAX];
	amount_format(v, scale, t, sizeof t);
	json_object_set_new(o, key, json_string(t));
}

void *front_purchase_json(const front_purchase *p)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string(p->id));
	json_object_set_new(o, "order_id", json_string(p->order_id));
	json_object_set_new(o, "merchant", json_string(p->merchant));
	json_object_set_new(o, "customer", json_string(p->customer));
	json_object_set_new(o, "asset", json_string(p->asset));
	put_amount(o, "amount", p->amount, p->scale);
	put_amount(o, "fee", p->fee, p->scale);
	json_object_set_new(o, "status", json_string(p->status));
	put_amount(o, "captured", p->captured, p->scale);
	put_amount(o, "refunded", p->refunded, p->scale);
	if (p->expires_at[0])
		json_object_set_new(o, "expires_at", json_string(p->expires_at));
	if (p->fx_quote_id[0]) {
		char t[AMOUNT_TEXT_MAX];
		amount_format_minor(p->pay, t, sizeof t);
		json_object_set_new(o, "fx_quote_id", json_string(p->fx_quote_id));
		json_object_set_new(o, "pay_asset", json_string(p->pay_asset));
		json_object_set_new(o, "pay_minor", json_string(t));
	}
	if (p->points_asset[0]) {
		char t[AMOUNT_TEXT_MAX];
		amount_format_minor(p->points, t, sizeof t);
		json_object_set_new(o, "points_asset", json_string(p->points_asset));
		json_object_set_new(o, "points_minor", json_string(t));
	}
	json_object_set_new(o, "created_at", json_string(p->created_at));
	return o;
}

int front_balance_read(front_db *d, const char *account, front_balance *b)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!(st = front_prepare(d, "SELECT a.asset, s.scale, b.posted, b.pending_dr"
	                       " FROM accounts a JOIN assets s ON s.code = a.asset"
	                       " LEFT JOIN balances b ON b.account_id = a.id"
	                       " WHERE a.code = ?1")))
		return -1;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		amount_minor_t posted = 0, pending_dr = 0;
		memset(b, 0, sizeof *b);
		snprintf(b->account, sizeof b->account, "%s", account);
		column_copy(st, 0, b->asset, sizeof b->asset);
		b->scale = sqlite3_column_int(st, 1);
		if (sqlite3_column_type(st, 2) == SQLITE_BLOB) {
			FRONT_ASSERT(sqlite3_column_bytes(st, 2) == AMOUNT_BLOB_BYTES);
			FRONT_ASSERT(sqlite3_column_bytes(st, 3) == AMOUNT_BLOB_BYTES);
			posted = amount_decode(sqlite3_column_blob(st, 2));
			pending_dr = amount_decode(sqlite3_column_blob(st, 3));
		}
		/* A wallet is a liability: the customer's money is its credit
		 * balance, and outgoing holds (debits) reduce what is available. */
		b->posted = -posted;
		b->available = -(posted + pending_dr);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return rc == SQLITE_ROW;
}

void *front_balance_json(const front_balance *b)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "account", json_string(b->account));
	json_object_set_new(o, "asset", json_string(b->asset));
	put_amount(o, "posted", b->posted, b->scale);
	put_amount(o, "available", b->available, b->scale);
	return o;
}

void front_account_for(const front_config *cfg, const char *base, const char *asset,
                       char *out, size_t cap)
{
	size_t n;

	if (strcmp(asset, cfg->home_asset) == 0) {
		snprintf(out, cap, "%s", base);
		return;
	}
	snprintf(out, cap, "%s:%s", base, asset);
	n = strlen(base) + 1;
	for (char *c = out + (n < cap ? n : cap - 1); *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}
