/*
 * sanctions.c - name screening for AML monitoring: reads a sanctions list
 * in the OFAC SDN CSV layout, normalises names and scores their
 * similarity in integers.
 *
 * Screening engines compare normalised names with an edit distance; ours is
 * Levenshtein over the normalised, token-sorted text, scaled to 0..1000 so
 * that the cut-off is an integer in the configuration.  Chinese names are
 * romanised to pinyin first (pinyin.c).
 */
#include "aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LINE_BYTES_MAX 8192      /* one sdn.csv record */
#define TOKENS_MAX 32            /* words of one name */

void rpt_sanctions_init(rpt_sanctions *s)
{
	memset(s, 0, sizeof *s);
}

void rpt_sanctions_release(rpt_sanctions *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->name[i]);
		free(s->norm[i]);
		free(s->alias_of[i]);
	}
	free(s->alias_of);
	free(s->ent_num);
	free(s->name);
	free(s->norm);
	rpt_sanctions_init(s);
}

/* Latin-1 supplement U+00C0..U+00FF to one ASCII letter; '?' marks the
 * letters written with two (ae, th, ss), ' ' the signs x and ÷. */
static const char latin1[] = "aaaaaa?ceeeeiiiidnooooo ouuuuy??"
                             "aaaaaa?ceeeeiiiidnooooo ouuuuy?y";
/* Latin Extended-A U+0100..U+017F, one ASCII letter each. */
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhh"
                                  "iiiiiiiiiiiijjkkkllllllllllnnnnnnnnnoooo"
                                  "oooorrrrrrssssssssttttttuuuuuuuuuuuuwwyy"
                                  "yzzzzzzs";
_Static_assert(sizeof latin1 == 65, "64 Latin-1 letters");
_Static_assert(sizeof latin_ext_a == 129, "128 Latin Extended-A letters");

/* Appends the ASCII spelling of code point cp (a letter) to buf; returns
 * how many bytes, 0 if it has none here. */
static size_t transliterate(unsigned cp, char *buf)
{
	char c;

	if (cp >= 0xC0 && cp <= 0xFF) {
		c = latin1[cp - 0xC0];
		if (c != '?') {
			buf[0] = c;
			return 1;
		}
		if (cp == 0xC6 || cp == 0xE6)
			memcpy(buf, "ae", 2);
		else if (cp == 0xDE || cp == 0xFE)
			memcpy(buf, "th", 2);
		else
			memcpy(buf, "ss", 2);
		return 2;
	}
	if (cp >= 0x100 && cp <= 0x17F) {
		buf[0] = latin_ext_a[cp - 0x100];
		return 1;
	}
	return 0;
}

/* Cyrillic to Latin by the BGN/PCGN 1947 system for Russian (US Board on
 * Geographic Names and the UK Permanent Committee on Geographical Names),
 * the romanisation the OFAC SDN list spells Russian names in ("Yevgeniy",
 * "Sergey", "Khodorkovskiy").  Lower-case а..я (U+0430..U+044F); the hard
 * and soft signs are dropped (their apostrophes are punctuation to us);
 * е and ё are "ye" at the start of a word, after a vowel, й, ъ or ь, else
 * "e" (ё's diaeresis folded, as the SDN list writes it).  The Ukrainian and
 * Belarusian letters є, і, ї, ґ, ў take one value each (є "ye", ї "yi",
 * BGN/PCGN's word-initial ones; ў folded to "u"), and Ukrainian г, и are
 * read as Russian (g, i) although BGN/PCGN Ukrainian writes h, y: a
 * Ukrainian name may score lower.  Other Cyrillic letters (Serbian,
 * Macedonian) are kept as they are. */
static const char *const cyr_ru[32] = {
	"a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
	"r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
};

/* Lower case of a Cyrillic code point (U+0400..U+04FF), else cp. */
static unsigned cyr_lower(unsigned cp)
{
	if (cp >= 0x410 && cp <= 0x42F)
		return cp + 0x20;
	if (cp >= 0x400 && cp <= 0x40F)
		return cp + 0x50;
	if (cp >= 0x460 && cp <= 0x4FF && !(cp & 1))
		return cp + 1; /* the extended letters pair upper, lower */
	return cp;
}

/* The vowels and signs after which BGN/PCGN writes е as "ye". */
static int cyr_ye_after(unsigned prev)
{
	static const unsigned v[] = { 0x430, 0x435, 0x451, 0x438, 0x43E, 0x443, 0x44B,
		                          0x44D, 0x44E, 0x44F, 0x439, 0x44A, 0x44C, 0x454,
		                          0x456, 0x457 };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (prev == v[i])
			return 1;
	return 0;
}

/* The Latin spelling of Cyrillic cp (lower case) after prev (the previous
 * code point, lower case; 0 at the start of a word), or NULL. */
static const char *cyrillic(unsigned cp, unsigned prev)
{
	if (cp == 0x435 || cp == 0x451)
		return prev == 0 || cyr_ye_after(prev) ? "ye" : "e";
	if (cp >= 0x430 && cp <= 0x44F)
		return cyr_ru[cp - 0x430];
	switch (cp) {
	case 0x454: return "ye"; /* є */
	case 0x456: return "i";  /* і */
	case 0x457: return "yi"; /* ї */
	case 0x491: return "g";  /* ґ */
	case 0x45E: return "u";  /* ў: BGN/PCGN Belarusian ŭ, folded */
	default: return NULL;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits into lower-case words of [a-z0-9] and bytes of other scripts
 * (kept as they are), transliterating Latin letters with accents. */
static size_t words(const char *name, char *flat, size_t cap)
{
	const unsigned char *p = (const unsigned char *)name;
	unsigned prev = 0; /* previous code point of the word, 0 at its start */
	size_t n = 0;

	/* Room for the longest spelling ("shch") and the terminator. */
	while (*p && n + 5 < cap) {
		unsigned cp = *p;
		size_t len = 1, k;
		const char *cy;
		char tr[2];

		if (cp >= 0xC0 && cp < 0xE0 && (p[1] & 0xC0) == 0x80) {
			cp = ((cp & 0x1Fu) << 6) | (p[1] & 0x3Fu);
			len = 2;
		} else if (cp >= 0xE0 && cp < 0xF8) {
			/* Three- and four-byte characters (Chinese among them) have no
			 * spelling here: copied whole, never read as Latin-1. */
			size_t want = cp < 0xF0 ? 3 : 4;
			while (len < want && (p[len] & 0xC0) == 0x80)
				len++;
			if (n + len + 1 >= cap)
				break;
			memcpy(flat + n, p, len);
			n += len;
			prev = 0x800; /* a letter of another script */
			p += len;
			continue;
		}
		if (cp >= 0x400 && cp <= 0x4FF)
			cp = cyr_lower(cp);
		if (cp < 0x80) {
			char c = (char)cp;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			flat[n++] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : ' ';
			if (flat[n - 1] == ' ')
				cp = 0;
		} else if ((cy = cyrillic(cp, prev)) != NULL) {
			k = strlen(cy);
			memcpy(flat + n, cy, k);
			n += k;
		} else if ((k = transliterate(cp, tr)) > 0) {
			memcpy(flat + n, tr, k);
			n += k;
		} else if (cp >= 0x80 && len == 1) {
			flat[n++] = (char)*p; /* another script: kept byte for byte */
		} else {
			memcpy(flat + n, p, len);
			n += len;
		}
		prev = cp;
		p += len;
	}
	flat[n] = '\0';
	return n;
}

void rpt_sanctions_normalise(const char *name, char *out, size_t cap)
{
	char flat[RPT_AML_NAME_MAX * 2], rom[RPT_PINYIN_TEXT_MAX];
	char *tok[TOKENS_MAX], *save = NULL, *w;
	size_t ntok = 0, n = 0;

	if (!cap)
		return;
	/* Chinese first, one syllable a word: a list entry written in
	 * characters meets a name written in characters or in pinyin. */
	rpt_pinyin_romanise(name, 0, rom, sizeof rom, NULL);
	words(rom, flat, sizeof flat);
	for (w = strtok_r(flat, " ", &save); w && ntok < TOKENS_MAX;
	     w = strtok_r(NULL, " ", &save))
		tok[ntok++] = w;
	if (ntok > 1)
		qsort(tok, ntok, sizeof tok[0], cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < ntok; i++) {
		size_t len = strlen(tok[i]);
		if (n + len + 2 > cap)
			break;
		if (n)
			out[n++] = ' ';
		memcpy(out + n, tok[i], len + 1);
		n += len;
	}
}

int rpt_sanctions_score(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), longer;
	size_t prev[RPT_AML_NAME_MAX + 1], cur[RPT_AML_NAME_MAX + 1];

	if (la > RPT_AML_NAME_MAX)
		la = RPT_AML_NAME_MAX;
	if (lb > RPT_AML_NAME_MAX)
		lb = RPT_AML_NAME_MAX;
	longer = la > lb ? la : lb;
	if (longer == 0)
		return 0; /* nothing is not a match for nothing */
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t m = del < ins ? del : ins;
			cur[j] = m < sub ? m : sub;
		}
		memcpy(prev, cur, (lb + 1) * sizeof cur[0]);
	}
	return (int)(1000 - (1000 * prev[lb]) / longer);
}

int rpt_sanctions_best(const rpt_sanctions *s, const char *name, size_t *best)
{
	char norm[RPT_AML_NAME_MAX];
	int top = -1;

	rpt_sanctions_normalise(name, norm, sizeof norm);
	for (size_t i = 0; i < s->n; i++) {
		int sc = rpt_sanctions_score(norm, s->norm[i]);
		if (sc > top) {
			top = sc;
			*best = i;
		}
	}
	return top;
}

void rpt_sanctions_screen(const rpt_sanctions *s, const char *name,
                          rpt_sanctions_hit *hit)
{
	char split[RPT_PINYIN_TEXT_MAX], norm_joined[RPT_AML_NAME_MAX];
	char norm_split[RPT_AML_NAME_MAX];
	int from_split = 0;

	memset(hit, 0, sizeof *hit);
	rpt_pinyin_romanise(name, 1, hit->pinyin, sizeof hit->pinyin, &hit->info);
	if (hit->info.han == 0) {
		hit->pinyin[0] = '\0';
		hit->score = rpt_sanctions_best(s, name, &hit->best);
		return;
	}
	/* Both spellings: "li fangwei" meets "LI, Fangwei" and "Fangwei LI",
	 * "li fang wei" meets "LI, Fang Wei". */
	rpt_pinyin_romanise(name, 0, split, sizeof split, NULL);
	rpt_sanctions_normalise(hit->pinyin, norm_joined, sizeof norm_joined);
	rpt_sanctions_normalise(split, norm_split, sizeof norm_split);
	hit->score = -1;
	for (size_t i = 0; i < s->n; i++) {
		int sj = rpt_sanctions_score(norm_joined, s->norm[i]);
		int ss = rpt_sanctions_score(norm_split, s->norm[i]);
		if (sj > hit->score) {
			hit->score = sj;
			hit->best = i;
			from_split = 0;
		}
		if (ss > hit->score) {
			hit->score = ss;
			hit->best = i;
			from_split = 1;
		}
	}
	if (from_split)
		memcpy(hit->pinyin, split, sizeof split);
}

/* The next CSV field of line at *p (RFC 4180 quoting) into out. */
static void field(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	size_t n = 0;
	int quoted = *s == '"';

	if (quoted)
		s++;
	while (*s && *s != '\n' && *s != '\r') {
		if (quoted && *s == '"' && s[1] == '"') {
			s++;
		} else if (quoted && *s == '"') {
			quoted = 0;
			s++;
			continue;
		} else if (!quoted && *s == ',') {
			break;
		}
		if (n + 1 < cap)
			out[n++] = *s;
		s++;
	}
	out[n] = '\0';
	*p = *s == ',' ? s + 1 : s;
}

static int add(rpt_sanctions *s, size_t *cap, long ent, const char *name,
               const char *alias_of)
{
	char norm[RPT_AML_NAME_MAX];

	if (s->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		long *e = realloc(s->ent_num, nc * sizeof *e);
		char **nm, **no;
		if (!e)
			return -1;
		s->ent_num = e;
		nm = realloc(s->name, nc * sizeof *nm);
		if (!nm)
			return -1;
		s->name = nm;
		no = realloc(s->norm, nc * sizeof *no);
		if (!no)
			return -1;
		s->norm = no;
		no = realloc(s->alias_of, nc * sizeof *no);
		if (!no)
			return -1;
		s->alias_of = no;
		*cap = nc;
	}
	rpt_sanctions_normalise(name, norm, sizeof norm);
	s->name[s->n] = strdup(name);
	s->norm[s->n] = strdup(norm);
	s->alias_of[s->n] = alias_of ? strdup(alias_of) : NULL;
	s->ent_num[s->n] = ent;
	s->n++;
	if (alias_of && !s->alias_of[s->n - 1])
		return -1;
	return s->name[s->n - 1] && s->norm[s->n - 1] ? 0 : -1;
}

int rpt_sanctions_load(rpt_sanctions *s, const char *path, lg_error *err)
{
	char line[LINE_BYTES_MAX], ent[64], name[RPT_AML_NAME_MAX];
	size_t cap = s->n;
	long line_no = 0;
	int rc = LG_OK;
	FILE *fp = fopen(path, "r");

	if (!fp)
		return lg_error_set(err, errno == ENOENT ? LG_ENOINPUT : LG_EIO,
		                    "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, fp)) {
		const char *p = line;
		char *end;
		long e;

		line_no++;
		if (s->n >= RPT_SANCTIONS_MAX) {
			rc = lg_error_set(err, LG_EDATA, "%s: more than %d entries", path,
			                  RPT_SANCTIONS_MAX);
			goto out;
		}
		field(&p, ent, sizeof ent);
		field(&p, name, sizeof name);
		if (!ent[0] && !name[0])
			continue; /* blank line; the list ends with a control-Z line */
		errno = 0;
		e = strtol(ent, &end, 10);
		if (end == ent || *end || errno) {
			if ((unsigned char)ent[0] == 0x1A)
				continue;
			rc = lg_error_set(err, LG_EDATA, "%s:%ld: ent_num '%s' is not a number",
			                  path, line_no, ent);
			goto out;
		}
		if (!name[0] || strcmp(name, "-0-") == 0)
			continue;
		if (add(s, &cap, e, name, NULL) != 0) {
			rc = lg_error_set(err, LG_EINTERNAL, "out of memory");
			goto out;
		}
	}
	if (ferror(fp))
		rc = lg_error_set(err, LG_EIO, "%s: read error", path);
out:
	fclose(fp);
	return rc;
}

/* The SDN (not alias) entry with ent_num `ent`, or -1. */
static long primary_of(const rpt_sanctions *s, size_t sdn_n, const size_t *by_ent,
                       long ent)
{
	size_t lo = 0, hi = sdn_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->ent_num[by_ent[mid]] < ent)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sdn_n && s->ent_num[by_ent[lo]] == ent ? (long)by_ent[lo] : -1;
}

static const rpt_sanctions *sort_list; /* qsort has no context argument */

static int cmp_ent(const void *a, const void *b)
{
	long x = sort_list->ent_num[*(const size_t *)a];
	long y = sort_list->ent_num[*(const size_t *)b];

	return x < y ? -1 : x > y;
}

/* One alt.csv record: ent_num, alt_num, alt_type, alt_name, remarks. */
static int alt_line(rpt_sanctions *s, size_t *cap, size_t sdn_n, const size_t *by_ent,
                    const char *line, const char *path, long line_no, lg_error *err)
{
	char ent[64], num[64], type[64], name[RPT_AML_NAME_MAX], *end;
	const char *p = line;
	long e, primary;

	field(&p, ent, sizeof ent);
	field(&p, num, sizeof num);
	field(&p, type, sizeof type);
	field(&p, name, sizeof name);
	if (!ent[0] && !name[0])
		return LG_OK;
	errno = 0;
	e = strtol(ent, &end, 10);
	if (end == ent || *end || errno) {
		if ((unsigned char)ent[0] == 0x1A)
			return LG_OK; /* the list's closing control-Z */
		return lg_error_set(err, LG_EDATA, "%s:%ld: ent_num '%s' is not a number",
		                    path, line_no, ent);
	}
	if (!name[0] || strcmp(name, "-0-") == 0)
		return LG_OK;
	primary = primary_of(s, sdn_n, by_ent, e);
	if (primary < 0)
		return lg_error_set(err, LG_EDATA, "%s:%ld: alias '%s' names ent_num %ld, "
		                    "which the SDN list does not have", path, line_no, name, e);
	if (s->n >= RPT_SANCTIONS_MAX)
		return lg_error_set(err, LG_EDATA, "%s: more than %d entries", path,
		                    RPT_SANCTIONS_MAX);
	if (add(s, cap, e, name, s->name[primary]) != 0)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	return LG_OK;
}

int rpt_sanctions_load_alt(rpt_sanctions *s, const char *path, lg_error *err)
{
	char line[LINE_BYTES_MAX];
	size_t sdn_n = s->n, cap = s->n, *by_ent = malloc((s->n + 1) * sizeof *by_ent);
	long line_no = 0;
	int rc = LG_OK;
	FILE *fp;

	if (!by_ent)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	for (size_t i = 0; i < sdn_n; i++)
		by_ent[i] = i;
	sort_list = s;
	if (sdn_n > 1)
		qsort(by_ent, sdn_n, sizeof *by_ent, cmp_ent);
	sort_list = NULL;
	fp = fopen(path, "r");
	if (!fp) {
		rc = lg_error_set(err, errno == ENOENT ? LG_ENOINPUT : LG_EIO, "%s: %s", path,
		                  strerror(errno));
		goto out;
	}
	/* add() grows the arrays from their current size: the SDN entries were
	 * read with their own capacity, so start from what is there. */
	while (!rc && fgets(line, sizeof line, fp)) {
		line_no++;
		rc = alt_line(s, &cap, sdn_n, by_ent, line, path, line_no, err);
	}
	if (!rc && ferror(fp))
		rc = lg_error_set(err, LG_EIO, "%s: read error", path);
	fclose(fp);
out:
	free(by_ent);
	return rc;
}
