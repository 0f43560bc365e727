/*
 * aml_store.c - the AML configuration (INI) and the alert tables: alerts
 * and their status trail, both append-only like the journal.
 *
 * An alert's key is its rule, subject, asset and evidence; the key is
 * unique, so a re-scan of a period stores nothing twice.  The status of an
 * alert is its latest status row, "open" when it has none.
 */
#include "aml_int.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ledger/ledger_sql.h"

#define INT_KEY_MAX 100000 /* any count, day span or per-cent in the config */

static const char *const schema_sql =
	"CREATE TABLE IF NOT EXISTS aml_alerts(id INTEGER PRIMARY KEY,"
	"  alert_key TEXT NOT NULL UNIQUE, rule TEXT NOT NULL, subject TEXT NOT NULL,"
	"  asset TEXT NOT NULL, day TEXT NOT NULL,"
	"  score INTEGER NOT NULL CHECK(score BETWEEN 0 AND 1000),"
	"  amount TEXT NOT NULL, detail TEXT NOT NULL, evidence TEXT NOT NULL,"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS aml_alert_status(id INTEGER PRIMARY KEY,"
	"  alert_id INTEGER NOT NULL REFERENCES aml_alerts(id),"
	"  status TEXT NOT NULL CHECK(status = 'open' OR status = 'escalated'"
	"  OR status = 'dismissed'), reason TEXT NOT NULL, user TEXT NOT NULL,"
	"  at TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS aml_alert_status_alert ON aml_alert_status(alert_id, id);"
	"CREATE TRIGGER IF NOT EXISTS aml_alerts_no_update BEFORE UPDATE ON aml_alerts"
	" BEGIN SELECT RAISE(ABORT, 'aml_alerts is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS aml_alerts_no_delete BEFORE DELETE ON aml_alerts"
	" BEGIN SELECT RAISE(ABORT, 'aml_alerts is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS aml_alert_status_no_update BEFORE UPDATE ON"
	" aml_alert_status BEGIN SELECT RAISE(ABORT, 'aml_alert_status is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS aml_alert_status_no_delete BEFORE DELETE ON"
	" aml_alert_status BEGIN SELECT RAISE(ABORT, 'aml_alert_status is append-only'); END;";

_Noreturn void rpt_aml_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "clearbook: internal error: %s:%d: assertion '%s' failed\n",
	        file, line, what);
	abort();
}

int rpt_aml_sql_error(ledger *lg, lg_error *err, const char *what)
{
	sqlite3 *db = ledger_sqlite(lg);
	int code = sqlite3_errcode(db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return lg_error_set(err, LG_EBUSY, "%s: the database is busy", what);
	return lg_error_set(err, LG_EINTERNAL, "%s: %s", what, sqlite3_errmsg(db));
}

int rpt_aml_schema(ledger *lg, lg_error *err)
{
	if (sqlite3_exec(ledger_sqlite(lg), schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, err, "creating the aml tables");
	return LG_OK;
}

/* --- configuration ----------------------------------------------------- */

static void asset_set(rpt_aml_asset *a, const char *code, const char *large,
                      const char *rapid, const char *round_unit)
{
	snprintf(a->code, sizeof a->code, "%s", code);
	snprintf(a->large, sizeof a->large, "%s", large);
	snprintf(a->rapid_min, sizeof a->rapid_min, "%s", rapid);
	snprintf(a->round_unit, sizeof a->round_unit, "%s", round_unit);
}

void rpt_aml_config_init(rpt_aml_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	/* PBoC large-value reporting (2017): cash CNY 50,000 or USD 10,000;
	 * FinCEN CTR: cash over USD 10,000. */
	asset_set(&cfg->assets[0], "CNY", "50000", "10000", "10000");
	asset_set(&cfg->assets[1], "USD", "10000", "2000", "1000");
	cfg->assets_n = 2;
	snprintf(cfg->wallet_prefix, sizeof cfg->wallet_prefix, "liabilities:wallets:");
	cfg->structuring_pct = 90;
	cfg->structuring_count = 3;
	cfg->structuring_window_days = 7;
	cfg->velocity_baseline_days = 30;
	cfg->velocity_factor_pct = 500;
	cfg->velocity_min_count = 3;
	cfg->rapid_out_pct = 90;
	cfg->fan_count = 10;
	cfg->round_count = 2;
	cfg->dormant_days = 90;
	cfg->dormant_count = 6;
	cfg->refusal_count = 3;
	cfg->refusal_window_days = 7;
	cfg->screening_cutoff = 880;
	/* FATF "High-Risk Jurisdictions subject to a Call for Action" (the
	 * black list: DPRK, Iran, Myanmar, unchanged since October 2022 as far
	 * as this default knows).  FATF revises its lists three times a year and
	 * the reference we build on names the lists, not their members: this is
	 * a labelled default for [jurisdictions] high_risk to replace. */
	memcpy(cfg->high_risk[0], "KP", 3);
	memcpy(cfg->high_risk[1], "IR", 3);
	memcpy(cfg->high_risk[2], "MM", 3);
	cfg->high_risk_n = 3;
	cfg->high_risk_score = 800;
}


const rpt_aml_asset *rpt_aml_config_asset(const rpt_aml_config *cfg,
                                          const char *code)
{
	for (int i = 0; i < cfg->assets_n; i++)
		if (strcmp(cfg->assets[i].code, code) == 0)
			return &cfg->assets[i];
	return NULL;
}

struct load {
	rpt_aml_config *cfg;
	ledger *lg;
	lg_error *err;
	const char *path;
};

static int bad(struct load *l, const char *section, const char *key,
               const char *why)
{
	lg_error_set(l->err, LG_EUSAGE, "%s: [%s] %s: %s", l->path, section, key, why);
	return 0;
}

static int int_key(struct load *l, const char *s, const char *k, const char *v,
                   int min, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end || errno || n < min || n > INT_KEY_MAX)
		return bad(l, s, k, "not a whole number in range");
	*out = (int)n;
	return 1;
}

/* A list of ISO 3166-1 alpha-2 codes separated by spaces or commas; an
 * empty list turns the rule off. */
static int countries_key(struct load *l, const char *s, const char *k, const char *v)
{
	rpt_aml_config *cfg = l->cfg;
	const char *p = v;

	cfg->high_risk_n = 0;
	while (*p) {
		size_t n;
		p += strspn(p, " ,\t");
		n = strcspn(p, " ,\t");
		if (n == 0)
			break;
		if (n != 2 || p[0] < 'A' || p[0] > 'Z' || p[1] < 'A' || p[1] > 'Z')
			return bad(l, s, k, "not a list of ISO 3166 alpha-2 codes in upper case");
		if (cfg->high_risk_n == RPT_AML_COUNTRIES_MAX)
			return bad(l, s, k, "too many countries");
		memcpy(cfg->high_risk[cfg->high_risk_n], p, 2);
		cfg->high_risk[cfg->high_risk_n++][2] = '\0';
		p += n;
	}
	return 1;
}

static int amount_key(struct load *l, const char *s, const char *code,
                      const char *k, const char *v, char *dst, size_t cap)
{
	amount_minor_t a;
	char why[128];
	int scale;
	lg_error e;

	lg_error_init(&e);
	if (ledger_asset_scale(l->lg, code, &scale, &e) != LG_OK) {
		lg_error_set(l->err, LG_ENOINPUT, "%s: [%s]: asset '%s' is not in the ledger",
		             l->path, s, code);
		return 0;
	}
	if (amount_parse(v, strlen(v), scale, &a, why, sizeof why) != 0 || a < 0)
		return bad(l, s, k, "not a non-negative amount of the asset");
	if (strlen(v) >= cap)
		return bad(l, s, k, "value too long");
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

static rpt_aml_asset *asset_slot(struct load *l, const char *section,
                                 const char *code)
{
	rpt_aml_config *cfg = l->cfg;

	for (int i = 0; i < cfg->assets_n; i++)
		if (strcmp(cfg->assets[i].code, code) == 0)
			return &cfg->assets[i];
	if (cfg->assets_n >= RPT_AML_ASSETS_MAX || strlen(code) >= LG_ASSET_CODE_MAX) {
		bad(l, section, "", "too many assets or asset code too long");
		return NULL;
	}
	asset_set(&cfg->assets[cfg->assets_n], code, "", "", "");
	return &cfg->assets[cfg->assets_n++];
}

static int aml_key(struct load *l, const char *s, const char *k, const char *v)
{
	static const struct {
		const char *name;
		size_t off;
		int min;
	} keys[] = {
		{ "structuring_pct", offsetof(rpt_aml_config, structuring_pct), 1 },
		{ "structuring_count", offsetof(rpt_aml_config, structuring_count), 2 },
		{ "structuring_window_days", offsetof(rpt_aml_config, structuring_window_days), 1 },
		{ "velocity_baseline_days", offsetof(rpt_aml_config, velocity_baseline_days), 1 },
		{ "velocity_factor_pct", offsetof(rpt_aml_config, velocity_factor_pct), 100 },
		{ "velocity_min_count", offsetof(rpt_aml_config, velocity_min_count), 1 },
		{ "rapid_out_pct", offsetof(rpt_aml_config, rapid_out_pct), 1 },
		{ "fan_count", offsetof(rpt_aml_config, fan_count), 2 },
		{ "round_count", offsetof(rpt_aml_config, round_count), 1 },
		{ "dormant_days", offsetof(rpt_aml_config, dormant_days), 1 },
		{ "dormant_count", offsetof(rpt_aml_config, dormant_count), 1 },
		{ "refusal_window_days", offsetof(rpt_aml_config, refusal_window_days), 1 },
	};

	if (strcmp(k, "wallet_prefix") == 0) {
		if (!v[0] || strlen(v) >= sizeof l->cfg->wallet_prefix)
			return bad(l, s, k, "empty or too long");
		memcpy(l->cfg->wallet_prefix, v, strlen(v) + 1);
		return 1;
	}
	if (strcmp(k, "refusal_count") == 0) {
		/* "Repeated": two or more; 0 turns the rule off. */
		if (!int_key(l, s, k, v, 0, &l->cfg->refusal_count))
			return 0;
		return l->cfg->refusal_count != 1 ? 1 : bad(l, s, k, "0 (off) or 2 and more");
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(k, keys[i].name) == 0)
			return int_key(l, s, k, v, keys[i].min,
			               (int *)((char *)l->cfg + keys[i].off));
	return bad(l, s, k, "unknown key");
}

static int handler(void *user, const char *section, const char *key,
                   const char *value)
{
	struct load *l = user;

	if (l->err->code)
		return 0;
	if (strcmp(section, "aml") == 0)
		return aml_key(l, section, key, value);
	if (strcmp(section, "screening") == 0) {
		if (strcmp(key, "sdn") == 0) {
			if (strlen(value) >= sizeof l->cfg->sdn_path)
				return bad(l, section, key, "path too long");
			memcpy(l->cfg->sdn_path, value, strlen(value) + 1);
			return 1;
		}
		if (strcmp(key, "alt") == 0) {
			if (strlen(value) >= sizeof l->cfg->alt_path)
				return bad(l, section, key, "path too long");
			memcpy(l->cfg->alt_path, value, strlen(value) + 1);
			return 1;
		}
		if (strcmp(key, "cutoff") == 0) {
			if (!int_key(l, section, key, value, 1, &l->cfg->screening_cutoff))
				return 0;
			return l->cfg->screening_cutoff <= 1000 ? 1
			       : bad(l, section, key, "a score is 1..1000");
		}
		return bad(l, section, key, "unknown key");
	}
	if (strcmp(section, "jurisdictions") == 0) {
		if (strcmp(key, "high_risk") == 0)
			return countries_key(l, section, key, value);
		if (strcmp(key, "score") == 0) {
			if (!int_key(l, section, key, value, 1, &l->cfg->high_risk_score))
				return 0;
			return l->cfg->high_risk_score <= 1000 ? 1
			       : bad(l, section, key, "a score is 1..1000");
		}
		return bad(l, section, key, "unknown key");
	}
	if (strncmp(section, "asset ", 6) == 0) {
		const char *code = section + 6;
		rpt_aml_asset *a = asset_slot(l, section, code);
		if (!a)
			return 0;
		if (strcmp(key, "large_value") == 0)
			return amount_key(l, section, code, key, value, a->large, sizeof a->large);
		if (strcmp(key, "rapid_min") == 0)
			return amount_key(l, section, code, key, value, a->rapid_min,
			                  sizeof a->rapid_min);
		if (strcmp(key, "round_unit") == 0)
			return amount_key(l, section, code, key, value, a->round_unit,
			                  sizeof a->round_unit);
		return bad(l, section, key, "unknown key");
	}
	return bad(l, section, key, "unknown section");
}

int rpt_aml_config_load(rpt_aml_config *cfg, ledger *lg, const char *path,
                        lg_error *err)
{
	struct load l = { cfg, lg, err, path };
	FILE *fp = fopen(path, "r");
	int rc;

	if (!fp)
		return lg_error_set(err, LG_ENOINPUT, "%s: %s", path, strerror(errno));
	err->code = 0;
	rc = ini_parse_file(fp, handler, &l);
	fclose(fp);
	if (err->code)
		return err->code;
	if (rc != 0)
		return lg_error_set(err, LG_EUSAGE, "%s:%d: not an INI line", path, rc);
	return LG_OK;
}

/* --- alerts ------------------------------------------------------------ */

int rpt_aml_store_alert(ledger *lg, const rpt_aml_new_alert *a, int *added,
                        lg_error *err)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO aml_alerts(alert_key, rule, subject, asset, day,"
		" score, amount, detail, evidence, created_at)"
		" VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)";
	sqlite3 *db = ledger_sqlite(lg);
	sqlite3_stmt *st = NULL;
	int rc = LG_OK;

	RPT_AML_ASSERT(a->score >= 0 && a->score <= 1000);
	RPT_AML_ASSERT(a->key && a->evidence);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, err, "storing an alert");
	sqlite3_bind_text(st, 1, a->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->asset, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->day, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, a->score);
	sqlite3_bind_text(st, 7, a->amount, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, a->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, a->evidence, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, ledger_now(lg), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = rpt_aml_sql_error(lg, err, "storing an alert");
	else
		*added = sqlite3_changes(db) > 0;
	sqlite3_finalize(st);
	return rc;
}

static int alerts_list(ledger *lg, const char *status, rpt_aml_alert_fn fn,
                       void *ctx, lg_error *err)
{
	static const char sql[] =
		"SELECT a.id, a.rule, a.subject, a.asset, a.day, a.score, a.amount,"
		" a.detail, a.evidence, a.created_at,"
		" COALESCE((SELECT s.status FROM aml_alert_status s WHERE s.alert_id = a.id"
		"  ORDER BY s.id DESC LIMIT 1), 'open'),"
		" COALESCE((SELECT s.reason FROM aml_alert_status s WHERE s.alert_id = a.id"
		"  ORDER BY s.id DESC LIMIT 1), '')"
		" FROM aml_alerts a ORDER BY a.id";
	sqlite3_stmt *st = NULL;
	int rc = LG_OK, step;

	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, err, "reading alerts");
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rpt_aml_alert_row r;
		r.id = sqlite3_column_int64(st, 0);
		r.rule = (const char *)sqlite3_column_text(st, 1);
		r.subject = (const char *)sqlite3_column_text(st, 2);
		r.asset = (const char *)sqlite3_column_text(st, 3);
		r.day = (const char *)sqlite3_column_text(st, 4);
		r.score = sqlite3_column_int(st, 5);
		r.amount = (const char *)sqlite3_column_text(st, 6);
		r.detail = (const char *)sqlite3_column_text(st, 7);
		r.evidence = (const char *)sqlite3_column_text(st, 8);
		r.created_at = (const char *)sqlite3_column_text(st, 9);
		r.status = (const char *)sqlite3_column_text(st, 10);
		r.reason = (const char *)sqlite3_column_text(st, 11);
		RPT_AML_ASSERT(r.rule && r.status && r.reason && r.evidence);
		RPT_AML_ASSERT(r.score >= 0 && r.score <= 1000);
		if (status && strcmp(status, r.status) != 0)
			continue;
		rc = fn(ctx, &r);
		if (rc)
			break;
	}
	if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = rpt_aml_sql_error(lg, err, "reading alerts");
	sqlite3_finalize(st);
	return rc;
}

int rpt_aml_alerts(ledger *lg, const char *status, rpt_aml_alert_fn fn,
                   void *ctx, lg_error *err)
{
	int rc;

	if (status && strcmp(status, "open") != 0 && strcmp(status, "escalated") != 0 &&
	    strcmp(status, "dismissed") != 0)
		return lg_error_set(err, LG_EUSAGE, "status '%s' is not open, escalated "
		                    "or dismissed", status);
	rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	rc = rpt_aml_schema(lg, err);
	if (!rc)
		rc = ledger_commit(lg, err);
	else
		ledger_rollback(lg);
	if (rc)
		return rc;
	return alerts_list(lg, status, fn, ctx, err);
}

static int current_status(ledger *lg, long long id, char *out, size_t cap,
                          lg_error *err)
{
	static const char sql[] =
		"SELECT COALESCE((SELECT s.status FROM aml_alert_status s"
		" WHERE s.alert_id = a.id ORDER BY s.id DESC LIMIT 1), 'open')"
		" FROM aml_alerts a WHERE a.id = ?1";
	sqlite3_stmt *st = NULL;
	int rc = LG_OK, step;

	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, err, "reading an alert");
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (step == SQLITE_DONE)
		rc = lg_error_set(err, LG_ENOINPUT, "alert %lld does not exist", id);
	else
		rc = rpt_aml_sql_error(lg, err, "reading an alert");
	sqlite3_finalize(st);
	return rc;
}

static int insert_status(ledger *lg, long long id, const char *status,
                         const char *reason, const char *user, lg_error *err)
{
	static const char sql[] =
		"INSERT INTO aml_alert_status(alert_id, status, reason, user, at)"
		" VALUES(?1,?2,?3,?4,?5)";
	sqlite3_stmt *st = NULL;
	int rc = LG_OK;

	if (sqlite3_prepare_v2(ledger_sqlite(lg), sql, -1, &st, NULL) != SQLITE_OK)
		return rpt_aml_sql_error(lg, err, "recording a status");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason ? reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ledger_now(lg), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = rpt_aml_sql_error(lg, err, "recording a status");
	sqlite3_finalize(st);
	return rc;
}

int rpt_aml_set_status(ledger *lg, long long id, const char *status,
                       const char *reason, const char *user, lg_error *err)
{
	char now_status[16];
	int rc;

	if (strcmp(status, "escalated") != 0 && strcmp(status, "dismissed") != 0)
		return lg_error_set(err, LG_EUSAGE, "status '%s' is not escalated or "
		                    "dismissed", status);
	if (strcmp(status, "dismissed") == 0 && (!reason || !reason[0]))
		return lg_error_set(err, LG_EUSAGE, "a dismissal needs a reason (--reason)");
	if (reason && strlen(reason) > LG_MEMO_MAX)
		return lg_error_set(err, LG_EUSAGE, "the reason is longer than %d bytes",
		                    LG_MEMO_MAX);
	rc = ledger_begin(lg, err);
	if (rc)
		return rc;
	rc = rpt_aml_schema(lg, err);
	if (!rc)
		rc = current_status(lg, id, now_status, sizeof now_status, err);
	if (!rc && strcmp(now_status, status) == 0)
		rc = lg_error_set(err, LG_EDATA, "alert %lld is already %s", id, status);
	if (!rc && strcmp(now_status, "dismissed") == 0)
		rc = lg_error_set(err, LG_EDATA, "alert %lld is dismissed; it stays so", id);
	if (!rc)
		rc = insert_status(lg, id, status, reason, user, err);
	if (rc) {
		ledger_rollback(lg);
		return rc;
	}
	return ledger_commit(lg, err);
}
