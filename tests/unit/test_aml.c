/*
 * test_aml.c - unit tests for reports/aml.h (name normalisation and
 * scoring, the sanctions list reader, the configuration defaults) and the
 * reason-code families of reports/chargebacks.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../reports/aml.h"
#include "../../reports/chargebacks.h"
#include "../../front/front_int.h" /* front_store_init: the refusals' own schema */

static void normalise_sorts_words_and_drops_punctuation(void **state)
{
	char a[RPT_AML_NAME_MAX], b[RPT_AML_NAME_MAX];

	(void)state;
	rpt_sanctions_normalise("HASSAN, Ali  Mohammed.", a, sizeof a);
	rpt_sanctions_normalise("ali mohammed hassan", b, sizeof b);
	assert_string_equal(a, "ali hassan mohammed");
	assert_string_equal(a, b);
}

static void normalise_transliterates_latin_accents(void **state)
{
	char a[RPT_AML_NAME_MAX];

	(void)state;
	rpt_sanctions_normalise("J\xc3\xbcrgen M\xc3\xbcller-Stra\xc3\x9f" "e", a, sizeof a);
	assert_string_equal(a, "jurgen muller strasse");
	rpt_sanctions_normalise("\xc5\x81\xc3\xb3" "d\xc5\xba \xc3\x86" "gir", a, sizeof a);
	assert_string_equal(a, "aegir lodz");
}

/* BGN/PCGN Russian: е is "ye" at the start of a word and after a vowel or
 * a sign, щ is "shch", й and ы are "y", the signs are dropped. */
static void normalise_romanises_cyrillic_by_bgn_pcgn(void **state)
{
	char a[RPT_AML_NAME_MAX];

	(void)state;
	rpt_sanctions_normalise("Сергей Евгеньевич Иванов", a, sizeof a);
	assert_string_equal(a, "ivanov sergey yevgenyevich");
	rpt_sanctions_normalise("ЩУКИН Ёлкин Подъезд", a, sizeof a);
	assert_string_equal(a, "podyezd shchukin yelkin");
	rpt_sanctions_normalise("Хрущёв Цыганков Юлия Эмма", a, sizeof a);
	assert_string_equal(a, "emma khrushchev tsygankov yuliya");
	/* Ukrainian letters: one value each. */
	rpt_sanctions_normalise("Їжак Ґудзь Євген", a, sizeof a);
	assert_string_equal(a, "gudz yevgen yizhak");
	/* Chinese is romanised to pinyin (pinyin.c), one syllable a word. */
	rpt_sanctions_normalise("王 伟", a, sizeof a);
	assert_string_equal(a, "wang wei");
}

/* The table is Unihan kMandarin's first value without its tone: both
 * forms of a Simplified/Traditional pair, ü folded to u, a polyphonic
 * character with its customary reading only, Extension A covered, the
 * astral planes not. */
static void pinyin_syllable_is_kmandarin_first_value(void **state)
{
	(void)state;
	assert_string_equal(rpt_pinyin_syllable(0x5F20), "zhang"); /* 张 */
	assert_string_equal(rpt_pinyin_syllable(0x5F35), "zhang"); /* 張 */
	assert_string_equal(rpt_pinyin_syllable(0x4F1F), "wei");   /* 伟 */
	assert_string_equal(rpt_pinyin_syllable(0x5049), "wei");   /* 偉 */
	assert_string_equal(rpt_pinyin_syllable(0x5415), "lu");    /* 吕 lǚ */
	assert_string_equal(rpt_pinyin_syllable(0x957F), "zhang"); /* 长: zhǎng, not cháng */
	assert_string_equal(rpt_pinyin_syllable(0x5355), "dan");   /* 单: dān, not the surname's shàn */
	assert_string_equal(rpt_pinyin_syllable(0x4E00), "yi");    /* the block's first */
	assert_string_equal(rpt_pinyin_syllable(0x4DAE), "yan");   /* 䶮, Extension A */
	assert_null(rpt_pinyin_syllable(0x2A6A5));                 /* 𪚥: Unihan zhé, beyond the table */
	assert_null(rpt_pinyin_syllable(0x9FA6));                  /* no kMandarin in Unihan 15 */
	assert_null(rpt_pinyin_syllable('A'));
	assert_null(rpt_pinyin_syllable(0x4DFF));                  /* a hexagram, between the blocks */
	assert_true(rpt_pinyin_is_han(0x2A6A5));
	assert_false(rpt_pinyin_is_han(0x3042));                   /* hiragana */
}

/* Unihan 15.0 gives kMandarin to 20,901 of the 20,992 code points of CJK
 * Unified Ideographs U+4E00..U+9FFF (the rest are late additions and
 * multi-syllable unit characters such as 兙): the table must have them all. */
static void pinyin_table_covers_the_unified_block(void **state)
{
	unsigned read = 0;

	(void)state;
	for (unsigned cp = 0x4E00; cp <= 0x9FFF; cp++)
		if (rpt_pinyin_syllable(cp))
			read++;
	assert_int_equal(read, 20901);
	assert_null(rpt_pinyin_syllable(0x5159)); /* 兙, "shike" */
}

static void pinyin_romanise_keeps_surname_first(void **state)
{
	char a[RPT_PINYIN_TEXT_MAX];
	rpt_pinyin_info info;

	(void)state;
	rpt_pinyin_romanise("李方伟", 0, a, sizeof a, &info);
	assert_string_equal(a, "li fang wei");
	assert_int_equal(info.han, 3);
	assert_int_equal(info.missing_n, 0);
	rpt_pinyin_romanise("李方伟", 1, a, sizeof a, &info);
	assert_string_equal(a, "li fangwei");
	/* A compound surname is one word, both characters. */
	rpt_pinyin_romanise("欧阳修", 1, a, sizeof a, NULL);
	assert_string_equal(a, "ouyang xiu");
	rpt_pinyin_romanise("歐陽修", 1, a, sizeof a, NULL);
	assert_string_equal(a, "ouyang xiu");
	rpt_pinyin_romanise("司马相如", 1, a, sizeof a, NULL);
	assert_string_equal(a, "sima xiangru");
	/* Two characters: surname and a one-character given name. */
	rpt_pinyin_romanise("东方", 1, a, sizeof a, NULL);
	assert_string_equal(a, "dong fang");
	/* Latin around the characters is kept; runs are set off by spaces. */
	rpt_pinyin_romanise("Mr.张伟(CEO)", 1, a, sizeof a, &info);
	assert_string_equal(a, "Mr. zhang wei (CEO)");
	assert_int_equal(info.han, 2);
	rpt_pinyin_romanise("王 哲", 1, a, sizeof a, NULL);
	assert_string_equal(a, "wang zhe");
	rpt_pinyin_romanise("John Smith", 1, a, sizeof a, &info);
	assert_string_equal(a, "John Smith");
	assert_int_equal(info.han, 0);
}

/* A character the table lacks stays as written, a word of its own, and
 * is named; a name of nothing but such characters, and broken UTF-8, are
 * handled without a crash. */
static void pinyin_romanise_names_what_it_lacks(void **state)
{
	char a[RPT_PINYIN_TEXT_MAX], n[RPT_AML_NAME_MAX];
	rpt_pinyin_info info;

	(void)state;
	rpt_pinyin_romanise("王𪚥明", 1, a, sizeof a, &info);
	assert_string_equal(a, "wang 𪚥 ming");
	assert_int_equal(info.han, 3);
	assert_int_equal(info.missing_n, 1);
	assert_int_equal(info.missing[0], 0x2A6A5);
	rpt_pinyin_romanise("𪚥𪚥", 0, a, sizeof a, &info);
	assert_string_equal(a, "𪚥 𪚥");
	assert_int_equal(info.missing_n, 1); /* named once */
	rpt_pinyin_romanise("\xe5\xbc\xa0\xe4\xbc", 0, a, sizeof a, &info); /* 张 + a cut 伟 */
	assert_string_equal(a, "zhang \xe4\xbc");
	rpt_sanctions_normalise("李\xe4\xbc方", n, sizeof n);
	assert_string_equal(n, "fang li \xe4\xbc");
	/* A long name is cut at a syllable, never inside one, and terminated. */
	{
		char small[8];
		rpt_pinyin_romanise("张伟张伟", 0, small, sizeof small, NULL);
		assert_string_equal(small, "zhang"); /* the trailing space trimmed */
	}
}

/* Screening with known scores: 1000 - 1000 x distance / longer length
 * over the normalised, token-sorted names. */
static void screen_scores_chinese_names_against_pinyin_entries(void **state)
{
	char path[] = "/tmp/test_aml_sdnXXXXXX";
	int fd = mkstemp(path);
	FILE *fp;
	rpt_sanctions s;
	rpt_sanctions_hit h, h2;
	lg_error err;

	(void)state;
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("60001,\"LI, Fangwei\"\n60002,\"ZHANG, Wei\"\n60005,\"CHEN, Jian Guo\"\n", fp);
	fclose(fp);
	rpt_sanctions_init(&s);
	lg_error_init(&err);
	assert_int_equal(rpt_sanctions_load(&s, path, &err), LG_OK);
	rpt_sanctions_screen(&s, "李方伟", &h);
	assert_int_equal(h.score, 1000);
	assert_int_equal(s.ent_num[h.best], 60001);
	assert_string_equal(h.pinyin, "li fangwei");
	/* Traditional and Simplified agree. */
	rpt_sanctions_screen(&s, "李方偉", &h2);
	assert_int_equal(h2.score, 1000);
	assert_string_equal(h2.pinyin, "li fangwei");
	rpt_sanctions_screen(&s, "張偉", &h);
	assert_int_equal(h.score, 1000);
	assert_int_equal(s.ent_num[h.best], 60002);
	/* The syllables-apart spelling wins where the list writes them so. */
	rpt_sanctions_screen(&s, "陈建国", &h);
	assert_int_equal(h.score, 1000);
	assert_string_equal(h.pinyin, "chen jian guo");
	/* Near misses: "fangwei lu" is one letter off (900); "fang li" lacks
	 * three letters of ten (700); another surname, "fangwei wang", 667. */
	rpt_sanctions_screen(&s, "吕方伟", &h);
	assert_int_equal(h.score, 900);
	rpt_sanctions_screen(&s, "李方", &h);
	assert_int_equal(h.score, 700);
	rpt_sanctions_screen(&s, "王方伟", &h);
	assert_int_equal(h.score, 667);
	/* A name without Chinese is screened as before, with no pinyin. */
	rpt_sanctions_screen(&s, "Fangwei Li", &h);
	assert_int_equal(h.score, 1000);
	assert_string_equal(h.pinyin, "");
	assert_int_equal(h.info.han, 0);
	/* The same name, the same answer. */
	rpt_sanctions_screen(&s, "李方偉", &h);
	assert_memory_equal(&h, &h2, sizeof h);
	rpt_sanctions_release(&s);
	unlink(path);
}

/* --- risk-refusals: the front's refusals as an input of the scan --------- */

struct alerts_seen {
	int n;
	char rule[8][32], subject[8][32], day[8][11], evidence[8][128];
	int score[8];
};

static int collect(void *ctx, const rpt_aml_alert_row *row)
{
	struct alerts_seen *a = ctx;

	if (a->n < 8) {
		snprintf(a->rule[a->n], sizeof a->rule[0], "%s", row->rule);
		snprintf(a->subject[a->n], sizeof a->subject[0], "%s", row->subject);
		snprintf(a->day[a->n], sizeof a->day[0], "%s", row->day);
		snprintf(a->evidence[a->n], sizeof a->evidence[0], "%s", row->evidence);
		a->score[a->n] = row->score;
	}
	a->n++;
	return 0;
}

static void refuse(ledger *lg, const char *at, const char *customer, const char *reason)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(ledger_sqlite(lg), "INSERT INTO"
	                 " front_risk_refusals(at, merchant, customer, order_id, asset,"
	                 " amount, reason) VALUES(?1, 'm1', ?2, 'o', 'CNY', '500.01', ?3)",
	                 -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, customer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Three refusals within 7 days fire (500); three spanning 8 days, or two
 * in one day, do not; six in a day score 1000; a window reaching back
 * before the period counts the refusals there; a re-scan adds nothing;
 * refusal_count = 0 turns the rule off. */
static void refusals_fire_at_three_within_seven_days(void **state)
{
	char path[] = "/tmp/test_aml_refXXXXXX";
	int fd = mkstemp(path);
	ledger *lg = NULL;
	lg_error err;
	rpt_aml_config cfg;
	rpt_aml_scan_stats stats;
	struct alerts_seen a;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	lg_error_init(&err);
	assert_int_equal(ledger_open(path, 1, "2026-11-30T12:00:00Z", &lg, &err), LG_OK);
	rpt_aml_config_init(&cfg);
	assert_int_equal(cfg.refusal_count, 3);
	assert_int_equal(cfg.refusal_window_days, 7);
	/* Without the front's table the rule reads nothing and fails nothing. */
	assert_int_equal(rpt_aml_scan(lg, &cfg, "2026-11-01", "2026-11-30", &stats, &err), LG_OK);
	assert_int_equal(stats.alerts, 0);
	assert_int_equal(front_store_init(lg, &err), LG_OK);
	refuse(lg, "2026-11-10T09:00:00Z", "c1", "risk_limit");     /* 1 */
	refuse(lg, "2026-11-12T09:00:00Z", "c1", "risk_velocity");  /* 2 */
	refuse(lg, "2026-11-16T23:59:59Z", "c1", "risk_limit");     /* 3: day 6 of 7 */
	refuse(lg, "2026-11-10T09:00:00Z", "c2", "risk_limit");     /* 4 */
	refuse(lg, "2026-11-12T09:00:00Z", "c2", "risk_limit");     /* 5 */
	refuse(lg, "2026-11-17T00:00:00Z", "c2", "risk_limit");     /* 6: day 8, too late */
	refuse(lg, "2026-11-20T08:00:00Z", "c3", "customer_blocked");
	refuse(lg, "2026-11-20T09:00:00Z", "c3", "customer_blocked");
	for (int i = 0; i < 6; i++)
		refuse(lg, "2026-11-21T10:00:00Z", "c4", "risk_limit");  /* 9..14 */
	refuse(lg, "2026-10-30T10:00:00Z", "c5", "risk_limit");     /* 15: before the period */
	refuse(lg, "2026-11-01T10:00:00Z", "c5", "risk_limit");     /* 16 */
	refuse(lg, "2026-11-02T10:00:00Z", "c5", "risk_limit");     /* 17 */
	refuse(lg, "2026-12-01T10:00:00Z", "c6", "risk_limit");     /* after the period */
	refuse(lg, "2026-12-01T11:00:00Z", "c6", "risk_limit");
	refuse(lg, "2026-12-01T12:00:00Z", "c6", "risk_limit");
	assert_int_equal(rpt_aml_scan(lg, &cfg, "2026-11-01", "2026-11-30", &stats, &err), LG_OK);
	assert_int_equal(stats.alerts, 3);
	assert_int_equal(stats.added, 3);
	memset(&a, 0, sizeof a);
	assert_int_equal(rpt_aml_alerts(lg, NULL, collect, &a, &err), LG_OK);
	assert_int_equal(a.n, 3);
	/* Ids in (day, rule, subject) order. */
	assert_string_equal(a.subject[0], "c5");
	assert_string_equal(a.day[0], "2026-11-02");
	assert_string_equal(a.evidence[0], "refusal:15,refusal:16,refusal:17");
	assert_int_equal(a.score[0], 500);
	assert_string_equal(a.rule[1], "risk-refusals");
	assert_string_equal(a.subject[1], "c1");
	assert_string_equal(a.day[1], "2026-11-16");
	assert_string_equal(a.evidence[1], "refusal:1,refusal:2,refusal:3");
	assert_int_equal(a.score[1], 500);
	assert_string_equal(a.subject[2], "c4");
	assert_int_equal(a.score[2], 1000);
	assert_string_equal(a.evidence[2], "refusal:9,refusal:10,refusal:11,refusal:12,"
	                    "refusal:13,refusal:14");
	/* The same period again: nothing new. */
	assert_int_equal(rpt_aml_scan(lg, &cfg, "2026-11-01", "2026-11-30", &stats, &err), LG_OK);
	assert_int_equal(stats.alerts, 3);
	assert_int_equal(stats.added, 0);
	/* Two are enough when the configuration says so: c2 and c3 fire too. */
	cfg.refusal_count = 2;
	assert_int_equal(rpt_aml_scan(lg, &cfg, "2026-11-01", "2026-11-30", &stats, &err), LG_OK);
	/* c2 by 4 and 5 (6 alone in the next window), c3 by its two; c1, c4 and
	 * c5 as before, with the same evidence: not added again. */
	assert_int_equal(stats.alerts, 5);
	assert_int_equal(stats.added, 2);
	cfg.refusal_count = 0;
	assert_int_equal(rpt_aml_scan(lg, &cfg, "2026-11-01", "2026-11-30", &stats, &err), LG_OK);
	assert_int_equal(stats.alerts, 0);
	ledger_close(lg);
	unlink(path);
	{
		char side[64];
		snprintf(side, sizeof side, "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", path);
		unlink(side);
	}
}

/* The three ways a list writes the same Chinese name each meet it. */
static void screen_meets_every_order_and_split_of_a_pinyin_entry(void **state)
{
	static const char *const entries[] = { "\"Li Fangwei\"", "\"LI, Fang Wei\"",
		                                   "\"Fangwei LI\"", "\"FANG-WEI, Li\"" };

	(void)state;
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
		char path[] = "/tmp/test_aml_sdnXXXXXX";
		int fd = mkstemp(path);
		FILE *fp;
		rpt_sanctions s;
		rpt_sanctions_hit h;
		lg_error err;

		assert_true(fd >= 0);
		fp = fdopen(fd, "w");
		fprintf(fp, "7,%s\n", entries[i]);
		fclose(fp);
		rpt_sanctions_init(&s);
		lg_error_init(&err);
		assert_int_equal(rpt_sanctions_load(&s, path, &err), LG_OK);
		rpt_sanctions_screen(&s, "李方伟", &h);
		assert_int_equal(h.score, 1000);
		rpt_sanctions_release(&s);
		unlink(path);
	}
}

static void alt_reader_adds_aliases_of_known_entries(void **state)
{
	char sdn[] = "/tmp/test_aml_sdnXXXXXX", alt[] = "/tmp/test_aml_altXXXXXX";
	int fs = mkstemp(sdn), fa = mkstemp(alt);
	FILE *fp;
	rpt_sanctions s;
	lg_error err;
	size_t best = 99;

	(void)state;
	assert_true(fs >= 0 && fa >= 0);
	fp = fdopen(fs, "w");
	fputs("7,\"SMITH, John\",\"individual\"\n3,\"IVANOV, Sergey\",\"individual\"\n", fp);
	fclose(fp);
	fp = fdopen(fa, "w");
	fputs("3,1,\"aka\",\"VANYA\",-0-\n7,2,\"aka\",-0-,-0-\n", fp);
	fclose(fp);
	rpt_sanctions_init(&s);
	lg_error_init(&err);
	assert_int_equal(rpt_sanctions_load(&s, sdn, &err), LG_OK);
	assert_int_equal(rpt_sanctions_load_alt(&s, alt, &err), LG_OK);
	assert_int_equal(s.n, 3); /* the null alias is skipped */
	assert_int_equal(rpt_sanctions_best(&s, "Vanya", &best), 1000);
	assert_int_equal(s.ent_num[best], 3);
	assert_string_equal(s.alias_of[best], "IVANOV, Sergey");
	assert_null(s.alias_of[0]);
	/* An alias of an entry the list does not have. */
	fp = fopen(alt, "w");
	fputs("3,1,\"aka\",\"VANYA\",-0-\n8,2,\"aka\",\"X\",-0-\n", fp);
	fclose(fp);
	assert_int_equal(rpt_sanctions_load_alt(&s, alt, &err), LG_EDATA);
	assert_non_null(strstr(err.msg, ":2:"));
	rpt_sanctions_release(&s);
	unlink(sdn);
	unlink(alt);
}

static void score_is_1000_for_equal_and_scales_with_distance(void **state)
{
	(void)state;
	assert_int_equal(rpt_sanctions_score("ali hassan mohammed", "ali hassan mohammed"), 1000);
	/* one edit in 19 letters: 1000 - 1000 / 19 = 948 (integer division) */
	assert_int_equal(rpt_sanctions_score("ali hasan mohammed", "ali hassan mohammed"), 948);
	/* three edits: 843, under the default cut-off 880 */
	assert_int_equal(rpt_sanctions_score("ali hasen mohamed", "ali hassan mohammed"), 843);
	assert_int_equal(rpt_sanctions_score("", ""), 0);
	assert_int_equal(rpt_sanctions_score("abc", "xyz"), 0);
}

static void sdn_reader_skips_nulls_and_unquotes(void **state)
{
	char path[] = "/tmp/test_aml_sdnXXXXXX";
	int fd = mkstemp(path);
	FILE *fp;
	rpt_sanctions s;
	lg_error err;
	size_t best = 99;

	(void)state;
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("1,\"ACME \"\"EAST\"\" LLC\",\"-0-\",\"IRAN\"\n"
	      "2,-0-,individual\n"
	      "3,\"SMITH, John\",\"individual\",\"SDGT\"\n", fp);
	fclose(fp);
	rpt_sanctions_init(&s);
	lg_error_init(&err);
	assert_int_equal(rpt_sanctions_load(&s, path, &err), LG_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.name[0], "ACME \"EAST\" LLC");
	assert_int_equal(rpt_sanctions_best(&s, "John Smith", &best), 1000);
	assert_int_equal(best, 1);
	assert_int_equal(s.ent_num[best], 3);
	rpt_sanctions_release(&s);
	unlink(path);
}

static void sdn_reader_refuses_a_bad_ent_num(void **state)
{
	char path[] = "/tmp/test_aml_sdnXXXXXX";
	int fd = mkstemp(path);
	FILE *fp;
	rpt_sanctions s;
	lg_error err;

	(void)state;
	fp = fdopen(fd, "w");
	fputs("x1,\"NAME\"\n", fp);
	fclose(fp);
	rpt_sanctions_init(&s);
	lg_error_init(&err);
	assert_int_equal(rpt_sanctions_load(&s, path, &err), LG_EDATA);
	assert_non_null(strstr(err.msg, "ent_num"));
	rpt_sanctions_release(&s);
	unlink(path);
}

static void config_defaults_follow_the_reference(void **state)
{
	rpt_aml_config cfg;

	(void)state;
	rpt_aml_config_init(&cfg);
	assert_int_equal(cfg.assets_n, 2);
	assert_string_equal(cfg.assets[0].code, "CNY");
	assert_string_equal(cfg.assets[0].large, "50000");
	/* The labelled FATF call-for-action default. */
	assert_int_equal(cfg.high_risk_n, 3);
	assert_string_equal(cfg.high_risk[0], "KP");
	assert_string_equal(cfg.high_risk[1], "IR");
	assert_string_equal(cfg.high_risk[2], "MM");
	assert_int_equal(cfg.high_risk_score, 800);
	assert_string_equal(cfg.assets[1].code, "USD");
	assert_string_equal(cfg.assets[1].large, "10000");
	assert_int_equal(cfg.structuring_pct, 90);
	assert_int_equal(cfg.dormant_days, 90);
	assert_int_equal(cfg.dormant_count, 6);
}

static void reason_families_of_visa_and_mastercard(void **state)
{
	(void)state;
	assert_string_equal(rpt_cb_reason_family("visa", "10.4"), "fraud");
	assert_string_equal(rpt_cb_reason_family("visa", "11.3"), "authorisation");
	assert_string_equal(rpt_cb_reason_family("visa", "12.6.1"), "processing error");
	assert_string_equal(rpt_cb_reason_family("visa", "13.1"), "consumer dispute");
	assert_string_equal(rpt_cb_reason_family("visa", "14.1"), "other");
	assert_string_equal(rpt_cb_reason_family("mastercard", "4837"), "fraud");
	assert_string_equal(rpt_cb_reason_family("mastercard", "4808"), "authorisation");
	assert_string_equal(rpt_cb_reason_family("mastercard", "4834"), "point-of-interaction error");
	assert_string_equal(rpt_cb_reason_family("mastercard", "4853"), "cardholder dispute");
	assert_string_equal(rpt_cb_reason_family("mastercard", "9999"), "other");
}

static void chargeback_defaults_are_the_schemes_programmes(void **state)
{
	rpt_cb_config cfg;

	(void)state;
	rpt_cb_config_init(&cfg);
	assert_string_equal(cfg.schemes[0].name, "visa");
	assert_int_equal(cfg.schemes[0].count_threshold, 100);
	assert_int_equal(cfg.schemes[0].ratio_bps, 90);
	assert_string_equal(cfg.schemes[1].name, "mastercard");
	assert_int_equal(cfg.schemes[1].count_threshold, 100);
	assert_int_equal(cfg.schemes[1].ratio_bps, 150);
	assert_string_equal(cfg.lost_account, "merchant");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(normalise_sorts_words_and_drops_punctuation),
		cmocka_unit_test(normalise_transliterates_latin_accents),
		cmocka_unit_test(normalise_romanises_cyrillic_by_bgn_pcgn),
		cmocka_unit_test(pinyin_syllable_is_kmandarin_first_value),
		cmocka_unit_test(pinyin_table_covers_the_unified_block),
		cmocka_unit_test(pinyin_romanise_keeps_surname_first),
		cmocka_unit_test(pinyin_romanise_names_what_it_lacks),
		cmocka_unit_test(screen_scores_chinese_names_against_pinyin_entries),
		cmocka_unit_test(screen_meets_every_order_and_split_of_a_pinyin_entry),
		cmocka_unit_test(refusals_fire_at_three_within_seven_days),
		cmocka_unit_test(alt_reader_adds_aliases_of_known_entries),
		cmocka_unit_test(score_is_1000_for_equal_and_scales_with_distance),
		cmocka_unit_test(sdn_reader_skips_nulls_and_unquotes),
		cmocka_unit_test(sdn_reader_refuses_a_bad_ent_num),
		cmocka_unit_test(config_defaults_follow_the_reference),
		cmocka_unit_test(reason_families_of_visa_and_mastercard),
		cmocka_unit_test(chargeback_defaults_are_the_schemes_programmes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
