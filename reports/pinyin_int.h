/*
 * pinyin_int.h - the generated Hanzi reading table (reports/pinyin/table.c,
 * made by scripts/gen_pinyin.py) as reports/pinyin.c reads it.
 *
 * Code points are grouped in ranges sorted by first code point; the
 * readings of a range are consecutive in rpt_pinyin_readings, starting at
 * its `at`.  A reading is an index into rpt_pinyin_syllables, 0 for a code
 * point without one (a short gap kept inside a range).
 */
#ifndef CLEARBOOK_REPORTS_PINYIN_INT_H
#define CLEARBOOK_REPORTS_PINYIN_INT_H

typedef struct rpt_pinyin_range {
	unsigned first, last;   /* code points, inclusive */
	unsigned at;            /* index of `first`'s reading */
} rpt_pinyin_range;

extern const unsigned rpt_pinyin_syllables_n;
extern const char *const rpt_pinyin_syllables[];   /* [0] is "" */
extern const unsigned rpt_pinyin_ranges_n;
extern const rpt_pinyin_range rpt_pinyin_ranges[];
extern const unsigned rpt_pinyin_readings_n;
extern const unsigned short rpt_pinyin_readings[];

#endif
