/*
 * fuzz_ini.c - libFuzzer target for the INI readers (libinih) a user's file
 * reaches:
 *   0  a CSV profile given as a file (import --profile-file): imp_profile_load
 *   1  the nightly configuration (nightly --config): clr_config_load
 *   2  the front's configuration (serve --config): front_config_load, with
 *      the customers and FX rates files it names
 * The first byte picks the reader (byte % 3).  The rest is split at lines
 * "@@": the INI file, then customers.csv, then rates.csv, all written into
 * one private temporary folder (the front resolves the two files against
 * the configuration's folder).
 *
 * Properties beyond "no crash, no sanitizer report, no leak": a refusal
 * has a code and a message; a profile that loads has a name and a channel
 * and loads again the same; a nightly configuration has named, distinct
 * channels within the limits and every inbox rule has a pattern and a
 * profile; in a front configuration every customer and rate is found by
 * the lookups the server uses, with its own settings (one entry per
 * customer id and per rate pair, whatever the file says), and every points
 * asset has a currency and a value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../clearing/clearing.h"
#include "../../front/front_int.h"
#include "../../importers/importers.h"

#define FUZZ_INI_INPUT_MAX ((size_t)1 << 16)
#define FUZZ_PATH_MAX 128

static char dir[64];
static char ini_path[FUZZ_PATH_MAX], cust_path[FUZZ_PATH_MAX], rates_path[FUZZ_PATH_MAX];

static void cleanup(void)
{
	unlink(ini_path);
	unlink(cust_path);
	unlink(rates_path);
	rmdir(dir);
}

static void setup_once(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof dir, "/tmp/fuzz_ini.%ld.XXXXXX", (long)getpid());
	if (!mkdtemp(dir))
		abort();
	/* ".ini": imp_profile_load takes it for a path, not a profile name */
	snprintf(ini_path, sizeof ini_path, "%s/config.ini", dir);
	snprintf(cust_path, sizeof cust_path, "%s/customers.csv", dir);
	snprintf(rates_path, sizeof rates_path, "%s/rates.csv", dir);
	atexit(cleanup);
}

static void put(const char *path, const uint8_t *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(p, 1, n, fp) != n || fclose(fp) != 0)
		abort();
}

/* The next part of [*at, end) up to a line "@@" (or the end). */
static void part(const uint8_t *data, size_t size, size_t *at, const char *path)
{
	const uint8_t *s = data + *at, *e = data + size, *m;
	size_t n = (size_t)(e - s);

	m = n >= 4 ? memmem(s, n, "\n@@\n", 4) : NULL;
	if (m) {
		put(path, s, (size_t)(m - s) + 1);
		*at += (size_t)(m - s) + 4;
	} else {
		put(path, s, n);
		*at = size;
	}
}

static void refused_ok(int rc, const lg_error *err)
{
	if (rc != 0 && (err->code == 0 || err->msg[0] == '\0'))
		abort();
}

static void fuzz_profile(void)
{
	imp_profile *p = NULL, *q = NULL;
	lg_error err;
	int rc;

	lg_error_init(&err);
	rc = imp_profile_load(ini_path, NULL, &p, &err);
	refused_ok(rc, &err);
	if (rc != 0)
		return;
	if (!p || !imp_profile_name(p) || !imp_profile_name(p)[0] ||
	    !imp_profile_channel(p) || !imp_profile_channel(p)[0])
		abort();
	lg_error_init(&err);
	if (imp_profile_load(ini_path, NULL, &q, &err) != 0 ||
	    strcmp(imp_profile_name(p), imp_profile_name(q)) != 0 ||
	    strcmp(imp_profile_channel(p), imp_profile_channel(q)) != 0 ||
	    imp_profile_posts(p) != imp_profile_posts(q))
		abort(); /* the same file loads the same */
	imp_profile_free(q);
	imp_profile_free(p);
}

static void fuzz_nightly(void)
{
	static clr_config cfg;
	lg_error err;
	int rc;

	clr_config_init(&cfg);
	lg_error_init(&err);
	rc = clr_config_load(&cfg, ini_path, &err);
	refused_ok(rc, &err);
	if (rc != 0)
		return;
	if (cfg.channels_n < 0 || cfg.channels_n > CLR_CHANNELS_MAX || cfg.rules_n < 0 ||
	    cfg.rules_n > CLR_INBOX_RULES_MAX || !cfg.payouts_account[0])
		abort();
	for (int i = 0; i < cfg.channels_n; i++) {
		clr_channel scratch;
		if (!cfg.channels[i].name[0] ||
		    clr_config_channel(&cfg, cfg.channels[i].name, &scratch) != &cfg.channels[i])
			abort(); /* named, and the first of its name */
		if (cfg.channels[i].fee_bps < -1 || cfg.channels[i].window_days < 0 ||
		    cfg.channels[i].settle_days < 0)
			abort();
	}
	for (int i = 0; i < cfg.rules_n; i++)
		if (!cfg.rules[i].pattern[0] || !cfg.rules[i].profile[0])
			abort();
}

static void fuzz_front(void)
{
	static front_config cfg;
	lg_error err;
	int rc;

	lg_error_init(&err);
	rc = front_config_load(&cfg, ini_path, &err);
	refused_ok(rc, &err);
	if (rc == 0) {
		for (long i = 0; i < cfg.customers_n; i++) {
			const front_customer *c = &cfg.customers[i];
			const front_customer *f = front_config_customer(&cfg, c->id);
			if (!f || strcmp(f->tier, c->tier) != 0 || f->blocked != c->blocked)
				abort(); /* the server would see other settings */
		}
		for (int i = 0; i < cfg.rates_n; i++) {
			const front_rate *r = &cfg.rates[i];
			const front_rate *f = front_config_rate(&cfg, r->from, r->to);
			front_rate_num num;
			if (!f || strcmp(f->rate, r->rate) != 0 || front_rate_parse(r->rate, &num) != 0)
				abort();
		}
		for (int i = 0; i < cfg.points_n; i++) {
			front_rate_num num;
			if (!cfg.points[i].currency[0] ||
			    front_rate_parse(cfg.points[i].value, &num) != 0)
				abort();
		}
		if (cfg.merchants_n > FRONT_MERCHANTS_MAX || cfg.tiers_n > FRONT_TIERS_MAX)
			abort();
	}
	front_config_release(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 1;

	if (size < 1 || size > FUZZ_INI_INPUT_MAX)
		return 0;
	setup_once();
	part(data, size, &at, ini_path);
	part(data, size, &at, cust_path);
	part(data, size, &at, rates_path);
	switch (data[0] % 3) {
	case 0: fuzz_profile(); break;
	case 1: fuzz_nightly(); break;
	default: fuzz_front(); break;
	}
	return 0;
}
