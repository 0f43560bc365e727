/*
 * profile.c - CSV import profiles: INI files (read with libinih) that say
 * how one channel's CSV export is laid out and what its columns mean.
 *
 * Providers reorder, rename and add columns between layouts and years, so a
 * profile maps statement line fields to header names, never to positions;
 * a profile is data, so a new bank is a new .ini file, not new code.  Every
 * key is documented in importers/profiles/README.md.  Loading is strict: an
 * unknown section or key, or a value out of range, refuses the profile
 * naming its line, because a typo silently ignored would import wrong money.
 */
#include "importers_int.h"

#include <ini.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_DIR_DEFAULT "importers/profiles"

const char *const imp_col_names[IMP_COL_COUNT] = {
	"entry_ref", "booking_date", "value_date", "amount", "debit", "credit",
	"direction", "asset", "contract", "from", "to", "counterparty_name",
	"counterparty_account", "end_to_end_id", "instruction_id",
	"provider_ref", "uetr", "remittance", "tx_code", "status", "batch_id",
	"return_reason",
};

struct load_ctx {
	imp_profile *p;
	char why[LG_MSG_MAX];        /* first problem, for the error message */
};

int imp_list_has(const char *list, const char *s, size_t n)
{
	const char *item = list;
	int items = 0;

	IMP_ASSERT(list != NULL && s != NULL);
	while (*item != '\0' && items < IMP_PROFILE_LIST_MAX) {
		const char *bar = strchr(item, '|');
		size_t len = bar ? (size_t)(bar - item) : strlen(item);
		const char *name = item;

		if (len > 0 && name[0] == '?') {
			name++;
			len--;
		}
		if (len == n && memcmp(name, s, n) == 0)
			return 1;
		items++;
		if (!bar)
			break;
		item = bar + 1;
	}
	return 0;
}

/* --- values ---------------------------------------------------------------- */

static int set_text(struct load_ctx *c, char *dst, size_t cap,
                    const char *name, const char *value)
{
	size_t n = strlen(value);

	if (n >= cap) {
		snprintf(c->why, sizeof c->why, "value of '%s' is longer than %zu "
		         "bytes", name, cap - 1);
		return 0;
	}
	memcpy(dst, value, n + 1);
	return 1;
}

static int set_bool(struct load_ctx *c, int *dst, const char *name,
                    const char *value)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
	    strcmp(value, "1") == 0) {
		*dst = 1;
		return 1;
	}
	if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
	    strcmp(value, "0") == 0) {
		*dst = 0;
		return 1;
	}
	snprintf(c->why, sizeof c->why, "'%s' must be true or false, not '%s'",
	         name, value);
	return 0;
}

/* One character, given as itself or by name ("tab", "comma"...). */
static int char_value(const char *value, char *out)
{
	static const char *const names[][2] = {
		{ "comma", "," }, { "semicolon", ";" }, { "tab", "\t" },
		{ "pipe", "|" },  { "space", " " },     { "backtick", "`" },
		{ "quote", "\"" }, { "apostrophe", "'" }, { "none", "" },
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(value, names[i][0]) == 0) {
			*out = names[i][1][0];
			return 1;
		}
	if (strlen(value) == 1 && (unsigned char)value[0] < 0x80) {
		*out = value[0];
		return 1;
	}
	return 0;
}

static int set_char(struct load_ctx *c, char *dst, const char *name,
                    const char *value)
{
	if (char_value(value, dst))
		return 1;
	snprintf(c->why, sizeof c->why, "'%s' must be one ASCII character or a "
	         "name (comma, semicolon, tab, pipe, space...), not '%s'", name,
	         value);
	return 0;
}

/* strip: space-separated characters or names, e.g. "tab backtick space". */
static int set_strip(struct load_ctx *c, const char *value)
{
	char buf[IMP_PROFILE_VALUE_MAX];
	char *save = NULL, *tok;
	size_t n = 0;

	if (!set_text(c, buf, sizeof buf, "strip", value))
		return 0;
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char ch;

		if (!char_value(tok, &ch) || ch == '\0' ||
		    n + 1 >= sizeof c->p->strip) {
			snprintf(c->why, sizeof c->why, "'strip' item '%s' is not one "
			         "ASCII character or a character name", tok);
			return 0;
		}
		c->p->strip[n++] = ch;
	}
	c->p->strip[n] = '\0';
	return 1;
}

/* --- sections ----------------------------------------------------------------- */

static int on_profile(struct load_ctx *c, const char *name, const char *value)
{
	imp_profile *p = c->p;

	if (strcmp(name, "name") == 0)
		return set_text(c, p->name, sizeof p->name, name, value);
	if (strcmp(name, "channel") == 0)
		return set_text(c, p->channel, sizeof p->channel, name, value);
	if (strcmp(name, "encoding") == 0)
		return set_text(c, p->encoding, sizeof p->encoding, name, value);
	if (strcmp(name, "delimiter") == 0)
		return set_char(c, &p->delimiter, name, value);
	if (strcmp(name, "quote") == 0)
		return set_char(c, &p->quote, name, value);
	if (strcmp(name, "header_match") == 0)
		return set_text(c, p->header_match, sizeof p->header_match, name,
		                value);
	if (strcmp(name, "footer_prefix") == 0)
		return set_text(c, p->footer_prefix, sizeof p->footer_prefix, name,
		                value);
	if (strcmp(name, "strip") == 0)
		return set_strip(c, value);
	if (strcmp(name, "lenient_quotes") == 0)
		return set_bool(c, &p->lenient_quotes, name, value);
	if (strcmp(name, "skip_lines_before_header") == 0) {
		char *end = NULL;
		long v;

		errno = 0;
		v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < 0 ||
		    v > 100000) {
			snprintf(c->why, sizeof c->why, "'%s' must be a number of "
			         "lines from 0 to 100000, not '%s'", name, value);
			return 0;
		}
		p->skip_lines = v;
		return 1;
	}
	snprintf(c->why, sizeof c->why, "unknown key '%s' in [profile]", name);
	return 0;
}

static int on_amount(struct load_ctx *c, const char *name, const char *value)
{
	imp_profile *p = c->p;

	if (strcmp(name, "mode") == 0) {
		if (strcmp(value, "signed") == 0)
			p->mode = IMP_AMOUNT_SIGNED;
		else if (strcmp(value, "debit_credit") == 0)
			p->mode = IMP_AMOUNT_DEBIT_CREDIT;
		else if (strcmp(value, "amount_direction") == 0)
			p->mode = IMP_AMOUNT_DIRECTION;
		else if (strcmp(value, "from_to") == 0)
			p->mode = IMP_AMOUNT_FROM_TO;
		else {
			snprintf(c->why, sizeof c->why, "'mode' must be signed, "
			         "debit_credit, amount_direction or from_to, not '%s'",
			         value);
			return 0;
		}
		return 1;
	}
	if (strcmp(name, "direction_in") == 0)
		return set_text(c, p->direction_in, sizeof p->direction_in, name,
		                value);
	if (strcmp(name, "direction_out") == 0)
		return set_text(c, p->direction_out, sizeof p->direction_out, name,
		                value);
	if (strcmp(name, "direction_neutral") == 0)
		return set_text(c, p->direction_neutral, sizeof p->direction_neutral,
		                name, value);
	if (strcmp(name, "currency_symbol_strip") == 0)
		return set_text(c, p->currency_symbol_strip,
		                sizeof p->currency_symbol_strip, name, value);
	if (strcmp(name, "thousands_separator") == 0)
		return set_char(c, &p->thousands_sep, name, value);
	if (strcmp(name, "base_units") == 0)
		return set_bool(c, &p->base_units, name, value);
	if (strcmp(name, "negate") == 0)
		return set_bool(c, &p->negate, name, value);
	if (strcmp(name, "allow_exponent") == 0)
		return set_bool(c, &p->allow_exponent, name, value);
	if (strcmp(name, "asset_map_only") == 0)
		return set_bool(c, &p->asset_map_only, name, value);
	if (strcmp(name, "asset") == 0)
		return set_text(c, p->asset, sizeof p->asset, name, value);
	if (strcmp(name, "own_address") == 0)
		return set_text(c, p->own_address, sizeof p->own_address, name,
		                value);
	snprintf(c->why, sizeof c->why, "unknown key '%s' in [amount]", name);
	return 0;
}

static int on_columns(struct load_ctx *c, const char *name, const char *value)
{
	int i;

	for (i = 0; i < IMP_COL_COUNT; i++)
		if (strcmp(name, imp_col_names[i]) == 0)
			return set_text(c, c->p->columns[i], sizeof c->p->columns[i],
			                name, value);
	snprintf(c->why, sizeof c->why, "unknown field '%s' in [columns]", name);
	return 0;
}

static int on_asset(struct load_ctx *c, const char *name, const char *value,
                    int contract)
{
	imp_profile *p = c->p;
	struct imp_asset_map *m;

	if (p->assets_n >= IMP_PROFILE_ASSETS_MAX) {
		snprintf(c->why, sizeof c->why, "more than %d entries in [assets]",
		         IMP_PROFILE_ASSETS_MAX);
		return 0;
	}
	m = &p->assets[p->assets_n];
	m->contract = contract;
	if (!set_text(c, m->key, sizeof m->key, name, name) ||
	    !set_text(c, m->asset, sizeof m->asset, name, value))
		return 0;
	p->assets_n++;
	return 1;
}

/* [posting]: id, memo, then debit/credit postings in order. */
static int on_posting(struct load_ctx *c, const char *name, const char *value)
{
	struct imp_template *t = &c->p->post;

	t->present = 1;
	if (strcmp(name, "id") == 0)
		return imp_tpl_parse(&t->id, value, 0, c->why, sizeof c->why) == 0;
	if (strcmp(name, "memo") == 0)
		return imp_tpl_parse(&t->memo, value, 0, c->why, sizeof c->why) == 0;
	if (strcmp(name, "debit") == 0 || strcmp(name, "credit") == 0) {
		if (t->n >= IMP_POST_MAX) {
			snprintf(c->why, sizeof c->why, "more than %d postings in "
			         "[posting]", IMP_POST_MAX);
			return 0;
		}
		t->p[t->n].credit = name[0] == 'c';
		if (imp_tpl_parse_posting(&t->p[t->n], value, c->why, sizeof c->why) != 0)
			return 0;
		t->n++;
		return 1;
	}
	snprintf(c->why, sizeof c->why, "unknown key '%s' in [posting] (id, memo, "
	         "debit, credit)", name);
	return 0;
}

static int on_pair(void *user, const char *section, const char *name,
                   const char *value)
{
	struct load_ctx *c = user;

	if (c->why[0] != '\0')
		return 0; /* report the first problem only */
	if (strcmp(section, "profile") == 0)
		return on_profile(c, name, value);
	if (strcmp(section, "columns") == 0)
		return on_columns(c, name, value);
	if (strcmp(section, "amount") == 0)
		return on_amount(c, name, value);
	if (strcmp(section, "assets") == 0)
		return on_asset(c, name, value, 0);
	if (strcmp(section, "contracts") == 0)
		return on_asset(c, name, value, 1);
	if (strcmp(section, "posting") == 0)
		return on_posting(c, name, value);
	if (strcmp(section, "dates") == 0 && strcmp(name, "format") == 0)
		return set_text(c, c->p->date_formats, sizeof c->p->date_formats,
		                name, value);
	snprintf(c->why, sizeof c->why, "unknown key '%s' in [%s]", name, section);
	return 0;
}

/* --- checks ------------------------------------------------------------------- */

static const char *profile_problem(const imp_profile *p)
{
	const char *const *need = NULL;
	static const char *const signed_needs[] = { "amount", NULL };
	static const char *const dc_needs[] = { "debit", "credit", NULL };
	static const char *const dir_needs[] = { "amount", "direction", NULL };
	static const char *const ft_needs[] = { "amount", "from", "to", NULL };
	int i;

	switch (p->mode) {
	case IMP_AMOUNT_SIGNED: need = signed_needs; break;
	case IMP_AMOUNT_DEBIT_CREDIT: need = dc_needs; break;
	case IMP_AMOUNT_DIRECTION: need = dir_needs; break;
	case IMP_AMOUNT_FROM_TO: need = ft_needs; break;
	}
	IMP_ASSERT(need != NULL);
	for (; *need; need++)
		for (i = 0; i < IMP_COL_COUNT; i++)
			if (strcmp(imp_col_names[i], *need) == 0 &&
			    p->columns[i][0] == '\0')
				return *need;
	if (p->mode == IMP_AMOUNT_DIRECTION &&
	    (p->direction_in[0] == '\0' || p->direction_out[0] == '\0'))
		return "direction_in/direction_out";
	if (p->asset[0] == '\0' && p->columns[IMP_COL_ASSET][0] == '\0')
		return "asset (a column or a fixed [amount] asset)";
	if ((p->columns[IMP_COL_BOOKING_DATE][0] != '\0' ||
	     p->columns[IMP_COL_VALUE_DATE][0] != '\0') &&
	    p->date_formats[0] == '\0')
		return "[dates] format";
	if (p->skip_lines < 0 && p->header_match[0] == '\0')
		return "header_match or skip_lines_before_header";
	if (p->delimiter == '\0')
		return "delimiter";
	/* A transaction needs an id, a date and at least two postings. */
	if (p->post.present && p->post.id.n == 0)
		return "[posting] id";
	if (p->post.present && p->post.n < 2)
		return "[posting] debit and credit postings (two at least)";
	if (p->post.present && p->columns[IMP_COL_BOOKING_DATE][0] == '\0')
		return "booking_date (the transactions' date)";
	return NULL;
}

static void profile_defaults(imp_profile *p)
{
	memset(p, 0, sizeof *p);
	snprintf(p->encoding, sizeof p->encoding, "utf-8");
	p->delimiter = ',';
	p->quote = '"';
	p->skip_lines = -1;
	p->mode = IMP_AMOUNT_SIGNED;
}

static int resolve_path(const char *name_or_path, const char *dir,
                        char *path, size_t cap, lg_error *err)
{
	size_t n = strlen(name_or_path);
	const char *s;

	if (strchr(name_or_path, '/') ||
	    (n > 4 && strcmp(name_or_path + n - 4, ".ini") == 0)) {
		if (n >= cap)
			return lg_error_set(err, LG_EUSAGE, "profile path is too long");
		memcpy(path, name_or_path, n + 1);
		return 0;
	}
	if (n == 0 || n >= IMP_PROFILE_NAME_MAX)
		return lg_error_set(err, LG_EUSAGE, "profile name '%s' is empty or "
		                    "too long", name_or_path);
	for (s = name_or_path; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return lg_error_set(err, LG_EUSAGE, "profile name '%s' may hold "
			                    "only a-z, 0-9, '-' and '_'", name_or_path);
	if ((size_t)snprintf(path, cap, "%s/%s.ini", dir ? dir :
	                     PROFILE_DIR_DEFAULT, name_or_path) >= cap)
		return lg_error_set(err, LG_EUSAGE, "profile path is too long");
	return 0;
}

/* The file's base name without ".ini": the default profile name. */
static void default_name(imp_profile *p, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
		n -= 4;
	if (n >= sizeof p->name)
		n = sizeof p->name - 1;
	memcpy(p->name, base, n);
	p->name[n] = '\0';
}

int imp_profile_load(const char *name_or_path, const char *profiles_dir,
                     imp_profile **out, lg_error *err)
{
	char path[IMP_PATH_MAX];
	struct load_ctx c;
	const char *problem;
	imp_profile *p = NULL;
	FILE *f = NULL;
	int rc, line;

	IMP_ASSERT(name_or_path != NULL && out != NULL);
	*out = NULL;
	rc = resolve_path(name_or_path, profiles_dir, path, sizeof path, err);
	if (rc != 0)
		goto out;
	f = fopen(path, "r");
	if (!f) {
		rc = lg_error_set(err, errno == ENOENT ? LG_ENOINPUT : LG_EIO,
		                  "profile '%s': cannot open %s: %s", name_or_path,
		                  path, strerror(errno));
		goto out;
	}
	p = malloc(sizeof *p);
	if (!p) {
		rc = lg_error_set(err, LG_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	profile_defaults(p);
	memset(&c, 0, sizeof c);
	c.p = p;
	line = ini_parse_file(f, on_pair, &c);
	if (line != 0) {
		rc = lg_error_set(err, LG_EUSAGE, "%s:%d: %s", path, line,
		                  c.why[0] ? c.why : "not an INI line");
		goto out;
	}
	if (p->name[0] == '\0')
		default_name(p, path);
	if (p->channel[0] == '\0')
		snprintf(p->channel, sizeof p->channel, "%s", p->name);
	problem = profile_problem(p);
	if (problem) {
		rc = lg_error_set(err, LG_EUSAGE, "%s: profile '%s' does not set %s",
		                  path, p->name, problem);
		goto out;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	free(p);
	if (f)
		fclose(f);
	return rc;
}

int imp_profile_set(imp_profile *p, const char *key, const char *value,
                    lg_error *err)
{
	char section[IMP_PROFILE_NAME_MAX];
	const char *dot;
	struct load_ctx c;

	IMP_ASSERT(p != NULL && key != NULL && value != NULL);
	dot = strchr(key, '.');
	if (!dot || (size_t)(dot - key) >= sizeof section)
		return lg_error_set(err, LG_EUSAGE, "profile setting '%s' is not "
		                    "SECTION.KEY", key);
	memcpy(section, key, (size_t)(dot - key));
	section[dot - key] = '\0';
	memset(&c, 0, sizeof c);
	c.p = p;
	if (!on_pair(&c, section, dot + 1, value))
		return lg_error_set(err, LG_EUSAGE, "profile '%s': %s", p->name,
		                    c.why);
	return 0;
}

void imp_profile_free(imp_profile *p)
{
	free(p);
}

const char *imp_profile_channel(const imp_profile *p)
{
	IMP_ASSERT(p != NULL);
	return p->channel;
}

int imp_profile_posts(const imp_profile *p)
{
	IMP_ASSERT(p != NULL);
	return p->post.present;
}

const char *imp_profile_name(const imp_profile *p)
{
	IMP_ASSERT(p != NULL);
	return p->name;
}
