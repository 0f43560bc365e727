/*
 * config.c - the front's configuration: an INI file (libinih) with the
 * server's limits, merchants' fee contracts, risk limits per KYC tier and
 * points, and the two files it names: customers (CSV customer,tier,blocked)
 * and FX rates (CSV from,to,rate).  Everything is read once, at start, into
 * tables sized by named limits.
 */
#include "front_int.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_LINE_MAX 512

struct load_ctx {
	front_config *cfg;
	lg_error *err;
	char customers_file[FRONT_PATH_MAX];
	char rates_file[FRONT_PATH_MAX];
	int failed;
};

static void defaults(front_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->home_asset, sizeof cfg->home_asset, "CNY");
	cfg->queue_max = 8192;
	cfg->batch_max = 1024;
	cfg->body_max_bytes = 16384;
	cfg->json_depth_max = 16;
	cfg->connections_max = 1024;
	cfg->connections_per_addr_max = 256;
	cfg->connection_timeout_s = 30;
	cfg->hold_timeout_s = 7 * 86400;
	cfg->hold_timeout_max_s = 30 * 86400;
	cfg->fx_quote_ttl_s = 60;
	cfg->clock_skew_s = 300;
	cfg->busy_wait_ms = 2000;
	cfg->key_rate_per_s = 5000;
	cfg->key_burst = 10000;
	cfg->addr_rate_per_s = 20000;
	cfg->addr_burst = 40000;
	snprintf(cfg->default_tier, sizeof cfg->default_tier, "default");
}

static int set_long(const char *value, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int set_bool(const char *value, int *out)
{
	if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes"))
		*out = 1;
	else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int copy(char *dst, size_t cap, const char *src)
{
	if (strlen(src) >= cap)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int server_key(struct load_ctx *lc, const char *name, const char *value)
{
	front_config *c = lc->cfg;
	static const struct { const char *name; size_t off; long lo, hi; } longs[] = {
		{ "queue_max", offsetof(front_config, queue_max), 1, 1000000 },
		{ "batch_max", offsetof(front_config, batch_max), 1, 100000 },
		{ "body_max_bytes", offsetof(front_config, body_max_bytes), 256, 1 << 20 },
		{ "json_depth_max", offsetof(front_config, json_depth_max), 2, 64 },
		{ "connections_max", offsetof(front_config, connections_max), 1, 65536 },
		{ "connections_per_addr_max", offsetof(front_config, connections_per_addr_max),
		  1, 65536 },
		{ "connection_timeout_s", offsetof(front_config, connection_timeout_s), 1, 3600 },
		{ "hold_timeout_s", offsetof(front_config, hold_timeout_s), 1, 366L * 86400 },
		{ "hold_timeout_max_s", offsetof(front_config, hold_timeout_max_s), 1, 366L * 86400 },
		{ "fx_quote_ttl_s", offsetof(front_config, fx_quote_ttl_s), 1, 86400 },
		{ "clock_skew_s", offsetof(front_config, clock_skew_s), 1, 3600 },
		{ "busy_wait_ms", offsetof(front_config, busy_wait_ms), 0, 60000 },
	};
	long v;

	for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
		if (strcmp(name, longs[i].name) == 0) {
			if (set_long(value, longs[i].lo, longs[i].hi, &v))
				return -1;
			*(long *)((char *)c + longs[i].off) = v;
			return 0;
		}
	}
	if (!strcmp(name, "home_asset"))
		return copy(c->home_asset, sizeof c->home_asset, value);
	if (!strcmp(name, "master_key"))
		return copy(c->master_key_hex, sizeof c->master_key_hex, value);
	if (!strcmp(name, "default_tier"))
		return copy(c->default_tier, sizeof c->default_tier, value);
	if (!strcmp(name, "customers_file"))
		return copy(lc->customers_file, sizeof lc->customers_file, value);
	if (!strcmp(name, "fx_rates_file"))
		return copy(lc->rates_file, sizeof lc->rates_file, value);
	if (!strcmp(name, "default_fee_bps")) {
		if (set_long(value, 0, 10000, &v))
			return -1;
		c->default_fee_bps = (unsigned)v;
		return 0;
	}
	return -1;
}

static int rate_key(front_config *c, const char *name, const char *value)
{
	long *slot = !strcmp(name, "key_per_s") ? &c->key_rate_per_s
	             : !strcmp(name, "key_burst") ? &c->key_burst
	             : !strcmp(name, "addr_per_s") ? &c->addr_rate_per_s
	             : !strcmp(name, "addr_burst") ? &c->addr_burst : NULL;
	return slot ? set_long(value, 1, 100000000, slot) : -1;
}

static front_merchant *merchant_slot(front_config *c, const char *name)
{
	for (int i = 0; i < c->merchants_n; i++)
		if (!strcmp(c->merchants[i].name, name))
			return &c->merchants[i];
	if (c->merchants_n >= FRONT_MERCHANTS_MAX || strlen(name) >= FRONT_NAME_MAX)
		return NULL;
	front_merchant *m = &c->merchants[c->merchants_n++];
	snprintf(m->name, sizeof m->name, "%s", name);
	m->fee_bps = FRONT_FEE_UNSET; /* the default, wherever [server] sets it */
	return m;
}

static front_tier *tier_slot(front_config *c, const char *name)
{
	for (int i = 0; i < c->tiers_n; i++)
		if (!strcmp(c->tiers[i].name, name))
			return &c->tiers[i];
	if (c->tiers_n >= FRONT_TIERS_MAX || strlen(name) >= FRONT_NAME_MAX)
		return NULL;
	front_tier *t = &c->tiers[c->tiers_n++];
	snprintf(t->name, sizeof t->name, "%s", name);
	return t;
}

static front_points *points_slot(front_config *c, const char *asset)
{
	for (int i = 0; i < c->points_n; i++)
		if (!strcmp(c->points[i].asset, asset))
			return &c->points[i];
	if (c->points_n >= FRONT_POINTS_MAX || strlen(asset) > LG_ASSET_CODE_MAX)
		return NULL;
	front_points *p = &c->points[c->points_n++];
	snprintf(p->asset, sizeof p->asset, "%s", asset);
	return p;
}

static int decimal_ok(const char *v)
{
	front_rate_num r;
	return front_rate_parse(v, &r) == 0;
}

/* A risk limit: a decimal of at most 18 places, not negative, compared
 * exactly with purchases of any asset. */
static int limit_ok(const char *v)
{
	amount_minor_t limit;
	char why[64];
	return amount_parse(v, strlen(v), AMOUNT_SCALE_MAX, &limit, why, sizeof why) == 0 &&
	       limit >= 0;
}

static int section_key(front_config *c, const char *section, const char *name,
                       const char *value)
{
	long v;

	if (!strncmp(section, "merchant ", 9)) {
		front_merchant *m = merchant_slot(c, section + 9);
		if (!m)
			return -1;
		if (!strcmp(name, "fee_bps")) {
			if (set_long(value, 0, 10000, &v))
				return -1;
			m->fee_bps = (unsigned)v;
			return 0;
		}
		return !strcmp(name, "blocked") ? set_bool(value, &m->blocked) : -1;
	}
	if (!strncmp(section, "tier ", 5)) {
		front_tier *t = tier_slot(c, section + 5);
		if (!t)
			return -1;
		if (!strcmp(name, "amount_max"))
			return limit_ok(value) ? copy(t->amount_max, sizeof t->amount_max, value) : -1;
		if (!strcmp(name, "daily_amount_max"))
			return limit_ok(value) ? copy(t->daily_amount_max,
			                                sizeof t->daily_amount_max, value) : -1;
		return !strcmp(name, "per_minute_max") ? set_long(value, 0, 1000000,
		                                                  &t->per_minute_max) : -1;
	}
	if (!strncmp(section, "points ", 7)) {
		front_points *p = points_slot(c, section + 7);
		if (!p)
			return -1;
		if (!strcmp(name, "currency"))
			return copy(p->currency, sizeof p->currency, value);
		if (!strcmp(name, "value"))
			return decimal_ok(value) ? copy(p->value, sizeof p->value, value) : -1;
		return -1;
	}
	return -1;
}

static int on_ini(void *user, const char *section, const char *name,
                  const char *value)
{
	struct load_ctx *lc = user;
	int rc;

	if (!strcmp(section, "server"))
		rc = server_key(lc, name, value);
	else if (!strcmp(section, "rate_limit"))
		rc = rate_key(lc->cfg, name, value);
	else
		rc = section_key(lc->cfg, section, name, value);
	if (rc && !lc->failed) {
		lc->failed = 1;
		/* never echo the value: it may be the master key */
		lg_error_set(lc->err, LG_EDATA, "[%.64s] %.64s: unknown setting or bad "
		             "value", section, name);
	}
	return rc == 0;
}

/* Resolves `file` against the configuration's folder. */
static void resolve(const char *config_path, const char *file, char *out, size_t cap)
{
	const char *slash = strrchr(config_path, '/');
	if (file[0] == '/' || !slash)
		snprintf(out, cap, "%s", file);
	else
		snprintf(out, cap, "%.*s/%s", (int)(slash - config_path), config_path, file);
}

static int cust_cmp(const void *a, const void *b)
{
	return strcmp(((const front_customer *)a)->id, ((const front_customer *)b)->id);
}

/* Splits a CSV line of plain fields (no quoting: ids and codes only). */
static int split(char *line, char **f, int n_max)
{
	int n = 0;
	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line; n < n_max; ) {
		f[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

static int load_customers(front_config *c, const char *path, lg_error *err)
{
	FILE *fp = fopen(path, "r");
	char line[CSV_LINE_MAX], *f[3];
	long lineno = 0, cap = 0;
	int rc = LG_OK;

	if (!fp)
		return lg_error_set(err, LG_ENOINPUT, "%s: cannot open the customers file", path);
	while (fgets(line, sizeof line, fp)) {
		lineno++;
		int n = split(line, f, 3);
		if (lineno == 1 && !strcmp(f[0], "customer"))
			continue;
		if (n == 1 && !f[0][0])
			continue;
		if (n < 2 || strlen(f[0]) >= FRONT_NAME_MAX || strlen(f[1]) >= FRONT_NAME_MAX ||
		    c->customers_n >= FRONT_CUSTOMERS_MAX) {
			rc = lg_error_set(err, LG_EDATA, "%s:%ld: expected customer,tier[,blocked]",
			                  path, lineno);
			break;
		}
		if (c->customers_n == cap) {
			long ncap = cap ? cap * 2 : 256;
			void *p = realloc(c->customers, (size_t)ncap * sizeof *c->customers);
			if (!p) {
				rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
				break;
			}
			c->customers = p;
			cap = ncap;
		}
		front_customer *cu = &c->customers[c->customers_n++];
		memset(cu, 0, sizeof *cu);
		snprintf(cu->id, sizeof cu->id, "%s", f[0]);
		snprintf(cu->tier, sizeof cu->tier, "%s", f[1]);
		if (n == 3 && set_bool(f[2], &cu->blocked) != 0) {
			rc = lg_error_set(err, LG_EDATA, "%s:%ld: blocked must be 0 or 1", path,
			                  lineno);
			break;
		}
	}
	fclose(fp);
	if (!rc && c->customers_n > 0)
		qsort(c->customers, (size_t)c->customers_n, sizeof *c->customers, cust_cmp);
	/* A customer listed twice (say once blocked, once not) would be found
	 * as either entry: refused, not guessed at (found by fuzz_ini). */
	for (long i = 1; !rc && i < c->customers_n; i++)
		if (cust_cmp(&c->customers[i - 1], &c->customers[i]) == 0)
			rc = lg_error_set(err, LG_EDATA, "%s: customer '%s' is listed twice", path,
			                  c->customers[i].id);
	return rc;
}

static int load_rates(front_config *c, const char *path, lg_error *err)
{
	FILE *fp = fopen(path, "r");
	char line[CSV_LINE_MAX], *f[3];
	long lineno = 0;
	int rc = LG_OK;

	if (!fp)
		return lg_error_set(err, LG_ENOINPUT, "%s: cannot open the FX rates file", path);
	while (fgets(line, sizeof line, fp)) {
		lineno++;
		int n = split(line, f, 3);
		if ((lineno == 1 && !strcmp(f[0], "from")) || (n == 1 && !f[0][0]))
			continue;
		if (n != 3 || c->rates_n >= FRONT_RATES_MAX || !decimal_ok(f[2]) ||
		    strlen(f[0]) > LG_ASSET_CODE_MAX || strlen(f[1]) > LG_ASSET_CODE_MAX ||
		    strlen(f[2]) >= FRONT_RATE_TEXT_MAX) {
			rc = lg_error_set(err, LG_EDATA, "%s:%ld: expected from,to,rate with a "
			                  "positive decimal rate", path, lineno);
			break;
		}
		for (int k = 0; k < c->rates_n; k++)
			if (!strcmp(c->rates[k].from, f[0]) && !strcmp(c->rates[k].to, f[1]))
				rc = lg_error_set(err, LG_EDATA, "%s:%ld: a second rate from %s to %s",
				                  path, lineno, f[0], f[1]);
		if (rc)
			break;
		front_rate *r = &c->rates[c->rates_n++];
		snprintf(r->from, sizeof r->from, "%s", f[0]);
		snprintf(r->to, sizeof r->to, "%s", f[1]);
		snprintf(r->rate, sizeof r->rate, "%s", f[2]);
	}
	fclose(fp);
	return rc;
}

int front_config_load(front_config *cfg, const char *path, lg_error *err)
{
	struct load_ctx lc;
	char file[FRONT_PATH_MAX * 2];
	int rc;

	defaults(cfg);
	if (!path)
		return LG_OK;
	memset(&lc, 0, sizeof lc);
	lc.cfg = cfg;
	lc.err = err;
	rc = ini_parse(path, on_ini, &lc);
	if (rc < 0)
		return lg_error_set(err, LG_ENOINPUT, "%s: cannot read the configuration", path);
	if (lc.failed || rc > 0) {
		if (!lc.failed)
			lg_error_set(err, LG_EDATA, "%s:%d: not an INI line", path, rc);
		else
			err->line = rc;
		return LG_EDATA;
	}
	for (int i = 0; i < cfg->merchants_n; i++)
		if (cfg->merchants[i].fee_bps == FRONT_FEE_UNSET)
			cfg->merchants[i].fee_bps = cfg->default_fee_bps;
	for (int i = 0; i < cfg->points_n; i++)
		if (!cfg->points[i].currency[0] || !cfg->points[i].value[0])
			return lg_error_set(err, LG_EDATA, "%s: [points %s] needs currency and "
			                    "value", path, cfg->points[i].asset);
	if (lc.customers_file[0]) {
		resolve(path, lc.customers_file, file, sizeof file);
		rc = load_customers(cfg, file, err);
		if (rc)
			return rc;
	}
	if (lc.rates_file[0]) {
		resolve(path, lc.rates_file, file, sizeof file);
		rc = load_rates(cfg, file, err);
	}
	return rc;
}

void front_config_release(front_config *cfg)
{
	free(cfg->customers);
	cfg->customers = NULL;
	cfg->customers_n = 0;
	memset(cfg->master_key_hex, 0, sizeof cfg->master_key_hex);
}

int front_master_key(const front_config *cfg, unsigned char key[32], lg_error *err)
{
	const char *hex = getenv("CLEARBOOK_MASTER_KEY");

	if (!hex || !hex[0])
		hex = cfg->master_key_hex;
	if (!hex[0])
		return lg_error_set(err, LG_EUSAGE, "no master key: set CLEARBOOK_MASTER_KEY "
		                    "or master_key in the configuration (64 hex digits)");
	if (front_hex_decode(hex, key, 32) != 0)
		return lg_error_set(err, LG_EUSAGE, "the master key must be 64 hex digits");
	return LG_OK;
}

const front_merchant *front_config_merchant(const front_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->merchants_n; i++)
		if (!strcmp(cfg->merchants[i].name, name))
			return &cfg->merchants[i];
	return NULL;
}

const front_customer *front_config_customer(const front_config *cfg, const char *id)
{
	front_customer key;

	if (cfg->customers_n == 0 || strlen(id) >= FRONT_NAME_MAX)
		return NULL;
	snprintf(key.id, sizeof key.id, "%s", id);
	return bsearch(&key, cfg->customers, (size_t)cfg->customers_n,
	               sizeof *cfg->customers, cust_cmp);
}

const front_tier *front_config_tier(const front_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->tiers_n; i++)
		if (!strcmp(cfg->tiers[i].name, name))
			return &cfg->tiers[i];
	return NULL;
}

const front_rate *front_config_rate(const front_config *cfg, const char *from,
                                    const char *to)
{
	for (int i = 0; i < cfg->rates_n; i++)
		if (!strcmp(cfg->rates[i].from, from) && !strcmp(cfg->rates[i].to, to))
			return &cfg->rates[i];
	return NULL;
}

const front_points *front_config_points(const front_config *cfg, const char *asset)
{
	for (int i = 0; i < cfg->points_n; i++)
		if (!strcmp(cfg->points[i].asset, asset))
			return &cfg->points[i];
	return NULL;
}
