/*
 * pinyin.c - Chinese names to toneless Hanyu Pinyin, for name screening.
 *
 * The customers of a Chinese wallet are named in characters (张伟) while
 * sanctions lists carry romanised names ("ZHANG, Wei").  Screening can only
 * compare the two after romanising the characters; this file does that
 * with the generated table of reports/pinyin/table.c (Unihan kMandarin,
 * first value: see reports/pinyin/SOURCE.md and docs/aml.md), one reading
 * per character.  Context-dependent readings (a surname's own reading,
 * words) are out of its reach, and said so in docs/aml.md.
 */
#include "aml.h"
#include "aml_int.h"
#include "pinyin_int.h"

#include <string.h>

#define RUN_CHARS_MAX 64         /* characters of one run read as one name */

/* Compound (two-character) surnames of the Hundred Family Surnames
 * (百家姓), Simplified and Traditional: the surname of a run beginning with
 * one of them is both characters ("欧阳修" is "ouyang xiu"). */
static const char *const compound_surnames[] = {
	"万俟", "司马", "上官", "欧阳", "夏侯", "诸葛", "闻人", "东方", "赫连", "皇甫",
	"尉迟", "公羊", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠",
	"公孙", "仲孙", "轩辕", "令狐", "钟离", "宇文", "长孙", "慕容", "鲜于", "闾丘",
	"司徒", "司空", "亓官", "司寇", "子车", "颛孙", "端木", "巫马", "公西", "漆雕",
	"乐正", "壤驷", "公良", "拓跋", "夹谷", "宰父", "谷梁", "段干", "百里", "东郭",
	"南门", "呼延", "羊舌", "微生", "梁丘", "左丘", "东门", "西门", "南宫", "第五",
	"萬俟", "司馬", "歐陽", "諸葛", "聞人", "東方", "赫連", "尉遲", "澹臺", "濮陽",
	"單于", "公孫", "仲孫", "軒轅", "鍾離", "長孫", "鮮于", "閭丘", "顓孫", "巫馬",
	"樂正", "壤駟", "夾谷", "穀梁", "東郭", "南門", "東門", "西門", "南宮",
};

int rpt_pinyin_is_han(unsigned cp)
{
	return cp == 0x3007 || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0x20000 && cp <= 0x3FFFD); /* the Supplementary and
	                                          * Tertiary Ideographic Planes */
}

const char *rpt_pinyin_syllable(unsigned cp)
{
	size_t lo = 0, hi = rpt_pinyin_ranges_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rpt_pinyin_ranges[mid].last < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == rpt_pinyin_ranges_n || cp < rpt_pinyin_ranges[lo].first)
		return NULL;
	{
		unsigned at = rpt_pinyin_ranges[lo].at + (cp - rpt_pinyin_ranges[lo].first);
		unsigned short idx;
		RPT_AML_ASSERT(at < rpt_pinyin_readings_n);
		idx = rpt_pinyin_readings[at];
		RPT_AML_ASSERT(idx <= rpt_pinyin_syllables_n);
		return idx ? rpt_pinyin_syllables[idx] : NULL;
	}
}

/* The code point at p and its length in bytes; a byte that begins no
 * well-formed UTF-8 sequence is itself (length 1), never a Han character. */
static size_t utf8_next(const unsigned char *p, unsigned *cp)
{
	size_t len, i;

	if (p[0] < 0xC2 || p[0] > 0xF4) {
		*cp = p[0] < 0x80 ? p[0] : 0xFFFFFFFFu;
		return 1;
	}
	len = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
	*cp = p[0] & (0x7Fu >> len);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*cp = 0xFFFFFFFFu;
			return 1;
		}
		*cp = (*cp << 6) | (p[i] & 0x3Fu);
	}
	return len;
}

struct text {
	char *s;
	size_t n, cap;
	int full;               /* something did not fit: nothing more is added */
};

/* Appends len bytes; once they do not fit, nothing more (the name is cut
 * at a character, never inside one). */
static void put(struct text *t, const void *b, size_t len)
{
	if (t->full || t->n + len + 1 > t->cap) {
		t->full = 1;
		return;
	}
	memcpy(t->s + t->n, b, len);
	t->n += len;
	t->s[t->n] = '\0';
}

static void space(struct text *t)
{
	if (t->n && t->s[t->n - 1] != ' ')
		put(t, " ", 1);
}

/* Characters (all Han) of the run at p, up to RUN_CHARS_MAX. */
static size_t run_chars(const unsigned char *p)
{
	size_t n = 0;
	unsigned cp;

	while (*p && n < RUN_CHARS_MAX) {
		size_t len = utf8_next(p, &cp);
		if (!rpt_pinyin_is_han(cp))
			break;
		p += len;
		n++;
	}
	return n;
}

/* 2 when the run at p (chars long) begins with a compound surname. */
static size_t surname_chars(const unsigned char *p, size_t chars)
{
	if (chars < 3)
		return 1; /* two characters: surname and a one-character given name */
	for (size_t i = 0; i < sizeof compound_surnames / sizeof compound_surnames[0]; i++) {
		size_t len = strlen(compound_surnames[i]);
		if (memcmp(p, compound_surnames[i], len) == 0)
			return 2;
	}
	return 1;
}

static void note_missing(rpt_pinyin_info *info, unsigned cp)
{
	for (int i = 0; i < info->missing_n && i < RPT_PINYIN_MISSING_MAX; i++)
		if (info->missing[i] == cp)
			return; /* named once */
	if (info->missing_n < RPT_PINYIN_MISSING_MAX)
		info->missing[info->missing_n] = cp;
	info->missing_n++;
}

/* One run of Han characters at p, chars long; returns the bytes read. */
static size_t romanise_run(const unsigned char *p, size_t chars, int join_given,
                           struct text *t, rpt_pinyin_info *info)
{
	size_t surname = surname_chars(p, chars), at = 0;
	const char *prev = NULL;

	space(t);
	for (size_t i = 0; i < chars; i++) {
		unsigned cp;
		size_t len = utf8_next(p + at, &cp);
		const char *syl = rpt_pinyin_syllable(cp);

		RPT_AML_ASSERT(rpt_pinyin_is_han(cp));
		/* Apart: every syllable; joined: surname | given name, and a
		 * character without a reading always stands alone. */
		if (i > 0 && (!join_given || i == surname || !syl || !prev))
			space(t);
		if (syl) {
			put(t, syl, strlen(syl));
		} else {
			put(t, p + at, len);
			note_missing(info, cp);
		}
		info->han++;
		prev = syl;
		at += len;
	}
	space(t);
	return at;
}

void rpt_pinyin_romanise(const char *name, int join_given, char *out, size_t cap,
                         rpt_pinyin_info *info)
{
	const unsigned char *p = (const unsigned char *)name;
	rpt_pinyin_info scratch;
	struct text t = { out, 0, cap, 0 };

	if (!info)
		info = &scratch;
	memset(info, 0, sizeof *info);
	if (!cap)
		return;
	out[0] = '\0';
	while (*p) {
		unsigned cp;
		size_t len = utf8_next(p, &cp);
		if (rpt_pinyin_is_han(cp)) {
			p += romanise_run(p, run_chars(p), join_given, &t, info);
			continue;
		}
		if (!(*p == ' ' && t.n && out[t.n - 1] == ' '))
			put(&t, p, len); /* a run's closing space is the name's own */
		p += len;
	}
	while (t.n && out[t.n - 1] == ' ')
		out[--t.n] = '\0';
	RPT_AML_ASSERT(t.n < cap);
}
