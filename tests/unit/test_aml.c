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
		cmocka_unit_test(score_is_1000_for_equal_and_scales_with_distance),
		cmocka_unit_test(sdn_reader_skips_nulls_and_unquotes),
		cmocka_unit_test(sdn_reader_refuses_a_bad_ent_num),
		cmocka_unit_test(config_defaults_follow_the_reference),
		cmocka_unit_test(reason_families_of_visa_and_mastercard),
		cmocka_unit_test(chargeback_defaults_are_the_schemes_programmes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
