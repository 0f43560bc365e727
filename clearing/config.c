/*
 * config.c - the nightly configuration (samples/nightly.ini is the worked
 * example): channels in reconciliation order and the inbox rules that say
 * how each file is imported.
 *
 *   [channel NAME]  clearing, settle_to, fee_account, fee_bps, tolerance,
 *                   window_days, settle_days
 *   [inbox NAME]    pattern, profile, channel, account, set
 *   [nightly]       payouts_account
 */
#include "clearing_int.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAYS_MAX 366
#define FEE_BPS_MAX 10000

struct load {
	clr_config *cfg;
	lg_error *err;
	const char *path;
	char section[128];        /* the section of the previous key */
};

static void channel_defaults(clr_channel *ch, const char *name)
{
	memset(ch, 0, sizeof *ch);
	snprintf(ch->name, sizeof ch->name, "%s", name);
	snprintf(ch->clearing, sizeof ch->clearing, "assets:clearing:%s", name);
	ch->fee_bps = -1;
	snprintf(ch->tolerance, sizeof ch->tolerance, "0");
	ch->window_days = 3;
	ch->settle_days = 1;
}

void clr_config_init(clr_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->payouts_account, sizeof cfg->payouts_account,
	         "liabilities:payouts:in-transit");
}

const clr_channel *clr_config_channel(const clr_config *cfg, const char *name,
                                      clr_channel *scratch)
{
	for (int i = 0; i < cfg->channels_n; i++)
		if (strcmp(cfg->channels[i].name, name) == 0)
			return &cfg->channels[i];
	channel_defaults(scratch, name);
	return scratch;
}

static int bad(struct load *l, const char *section, const char *key,
               const char *why)
{
	lg_error_set(l->err, LG_EUSAGE, "%s: [%s] %s: %s", l->path, section, key, why);
	return 0;
}

static int copy(struct load *l, const char *section, const char *key, char *dst,
                size_t cap, const char *value)
{
	if (strlen(value) >= cap)
		return bad(l, section, key, "value too long");
	memcpy(dst, value, strlen(value) + 1);
	return 1;
}

static int number(struct load *l, const char *section, const char *key,
                  const char *value, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 0 || v > max) {
		char why[96];
		snprintf(why, sizeof why, "'%s' is not a whole number from 0 to %ld", value,
		         max);
		return bad(l, section, key, why);
	}
	*out = v;
	return 1;
}

static clr_channel *channel_of(struct load *l, const char *name)
{
	clr_config *cfg = l->cfg;
	for (int i = 0; i < cfg->channels_n; i++)
		if (strcmp(cfg->channels[i].name, name) == 0)
			return &cfg->channels[i];
	if (cfg->channels_n >= CLR_CHANNELS_MAX || strlen(name) >= CLR_NAME_MAX)
		return NULL;
	channel_defaults(&cfg->channels[cfg->channels_n], name);
	return &cfg->channels[cfg->channels_n++];
}

static int channel_key(struct load *l, const char *section, clr_channel *ch,
                       const char *key, const char *value)
{
	long v;

	if (strcmp(key, "clearing") == 0)
		return copy(l, section, key, ch->clearing, sizeof ch->clearing, value);
	if (strcmp(key, "settle_to") == 0)
		return copy(l, section, key, ch->settle_to, sizeof ch->settle_to, value);
	if (strcmp(key, "fee_account") == 0)
		return copy(l, section, key, ch->fee_account, sizeof ch->fee_account, value);
	if (strcmp(key, "tolerance") == 0)
		return copy(l, section, key, ch->tolerance, sizeof ch->tolerance, value);
	if (strcmp(key, "fee_bps") == 0) {
		if (!number(l, section, key, value, FEE_BPS_MAX, &v))
			return 0;
		ch->fee_bps = v;
		return 1;
	}
	if (strcmp(key, "window_days") == 0 || strcmp(key, "settle_days") == 0) {
		if (!number(l, section, key, value, DAYS_MAX, &v))
			return 0;
		*(key[0] == 'w' ? &ch->window_days : &ch->settle_days) = (int)v;
		return 1;
	}
	return bad(l, section, key, "unknown key");
}

static int rule_key(struct load *l, const char *section, clr_inbox_rule *r,
                    const char *key, const char *value)
{
	if (strcmp(key, "pattern") == 0)
		return copy(l, section, key, r->pattern, sizeof r->pattern, value);
	if (strcmp(key, "profile") == 0)
		return copy(l, section, key, r->profile, sizeof r->profile, value);
	if (strcmp(key, "channel") == 0)
		return copy(l, section, key, r->channel, sizeof r->channel, value);
	if (strcmp(key, "account") == 0)
		return copy(l, section, key, r->account, sizeof r->account, value);
	if (strcmp(key, "set") == 0)
		return copy(l, section, key, r->set, sizeof r->set, value);
	return bad(l, section, key, "unknown key");
}

static int on_key(void *ctx, const char *section, const char *key, const char *value)
{
	struct load *l = ctx;
	int new_section = strcmp(section, l->section) != 0;

	snprintf(l->section, sizeof l->section, "%s", section);
	if (strncmp(section, "channel ", 8) == 0) {
		clr_channel *ch = channel_of(l, section + 8);
		if (!ch)
			return bad(l, section, key, "too many channels or name too long");
		return channel_key(l, section, ch, key, value);
	}
	if (strncmp(section, "inbox ", 6) == 0) {
		/* Each [inbox NAME] section is one rule, in file order. */
		if (new_section) {
			if (l->cfg->rules_n >= CLR_INBOX_RULES_MAX)
				return bad(l, section, key, "too many inbox rules");
			memset(&l->cfg->rules[l->cfg->rules_n++], 0, sizeof l->cfg->rules[0]);
		}
		return rule_key(l, section, &l->cfg->rules[l->cfg->rules_n - 1], key, value);
	}
	if (strcmp(section, "nightly") == 0 && strcmp(key, "payouts_account") == 0)
		return copy(l, section, key, l->cfg->payouts_account,
		            sizeof l->cfg->payouts_account, value);
	return bad(l, section, key, "unknown section or key");
}

int clr_config_load(clr_config *cfg, const char *path, lg_error *err)
{
	struct load l = { cfg, err, path, "" };
	FILE *fp = fopen(path, "r");
	int rc;

	if (!fp)
		return lg_error_set(err, LG_ENOINPUT, "%s: %s", path, strerror(errno));
	err->code = 0;
	rc = ini_parse_file(fp, on_key, &l);
	fclose(fp);
	if (rc != 0 && err->code == 0)
		return lg_error_set(err, LG_EUSAGE, "%s:%d: not a valid INI line", path,
		                    rc > 0 ? rc : 0);
	if (err->code)
		return err->code;
	for (int i = 0; i < cfg->rules_n; i++)
		if (!cfg->rules[i].pattern[0] || !cfg->rules[i].profile[0])
			return lg_error_set(err, LG_EUSAGE, "%s: inbox rule %d needs a pattern "
			                    "and a profile", path, i + 1);
	return LG_OK;
}
