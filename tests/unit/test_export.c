/*
 * test_export.c - unit tests for the exporters' building blocks
 * (exporters/exporters_int.h): ISO 20022 amounts, IBAN and BIC checks,
 * UTF-8 limits, dates, the XML writer's escaping and Ed25519 signatures.
 * The exports themselves are tested end to end (tests/e2e/export_*.sh).
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

#include "../../exporters/exporters_int.h"

static const char *iso(amount_minor_t v, int scale, int frac, int *rc)
{
	static char buf[AMOUNT_TEXT_MAX];
	lg_error err;

	lg_error_init(&err);
	buf[0] = '\0';
	*rc = exp_amount_iso(v, scale, frac, 18, buf, sizeof buf, &err);
	return buf;
}

static void amount_iso_prints_magnitude_with_scale_decimals(void **state)
{
	int rc;
	(void)state;
	assert_string_equal(iso(12345, 2, 5, &rc), "123.45");
	assert_int_equal(rc, 0);
	assert_string_equal(iso(-12345, 2, 5, &rc), "123.45");
	assert_string_equal(iso(0, 2, 5, &rc), "0.00");
	assert_string_equal(iso(500000, 0, 5, &rc), "500000");
}

static void amount_iso_drops_only_zeros_beyond_5_decimals(void **state)
{
	int rc;
	(void)state;
	/* 1.500000 USDT (scale 6) fits ISO's 5 decimals as 1.5 */
	assert_string_equal(iso(1500000, 6, 5, &rc), "1.50000");
	assert_int_equal(rc, 0);
	assert_string_equal(iso(1000000, 6, 5, &rc), "1.00000");
	/* 0.000001 cannot be carried: refused, never rounded */
	iso(1, 6, 5, &rc);
	assert_int_equal(rc, LG_EDATA);
	iso(123456789, 18, 5, &rc);
	assert_int_equal(rc, LG_EDATA);
}

static void amount_iso_refuses_19_digits(void **state)
{
	int rc;
	(void)state;
	iso((amount_minor_t)999999999999999999LL, 0, 5, &rc); /* 18 digits */
	assert_int_equal(rc, 0);
	iso((amount_minor_t)999999999999999999LL * 10, 0, 5, &rc);
	assert_int_equal(rc, LG_EDATA);
}

static void iban_check_digits_are_checked(void **state)
{
	(void)state;
	assert_true(exp_iban_valid("DE89370400440532013000"));
	assert_true(exp_iban_valid("GB29NWBK60161331926819"));
	assert_false(exp_iban_valid("DE88370400440532013000")); /* check digits */
	assert_false(exp_iban_valid("DE8937040044053201300!"));
	assert_false(exp_iban_valid("de89370400440532013000"));
	assert_false(exp_iban_valid(""));
}

static void bic_pattern_is_the_schemas(void **state)
{
	(void)state;
	assert_true(exp_bic_valid("COBADEFFXXX"));
	assert_true(exp_bic_valid("NWBKGB2L"));
	assert_false(exp_bic_valid("COBADEFF1"));
	assert_false(exp_bic_valid("COBA1EFFXXX")); /* country must be letters */
	assert_false(exp_bic_valid("cobadeffxxx"));
}

static void utf8_clip_never_cuts_a_character(void **state)
{
	char buf[8];
	(void)state;
	assert_int_equal(exp_utf8_chars("杭州ab"), 4);
	assert_int_equal(exp_utf8_chars("\xe6\x9d"), -1);
	exp_utf8_clip("杭州小笼包", 2, buf, sizeof buf);
	assert_string_equal(buf, "杭州");
	/* 8 bytes hold two 3-byte characters and NUL, not a third */
	exp_utf8_clip("杭州小笼包", 10, buf, sizeof buf);
	assert_string_equal(buf, "杭州");
	exp_utf8_clip("a\nb\tc", 10, buf, sizeof buf);
	assert_string_equal(buf, "a b c");
}

static void date_prev_crosses_months_and_leap_days(void **state)
{
	char d[11];
	(void)state;
	assert_int_equal(exp_date_prev("2026-03-01", d), 0);
	assert_string_equal(d, "2026-02-28");
	assert_int_equal(exp_date_prev("2024-03-01", d), 0);
	assert_string_equal(d, "2024-02-29");
	assert_int_equal(exp_date_prev("2026-01-01", d), 0);
	assert_string_equal(d, "2025-12-31");
	assert_int_equal(exp_date_prev("2026-02-30", d), -1);
}

static void xml_writer_escapes_text_and_attributes(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	exp_xml x;
	(void)state;

	assert_non_null(fp);
	exp_xml_init(&x, fp);
	exp_xml_open(&x, "A", "k", "\"<&>\"");
	exp_xml_leaf(&x, "B", NULL, NULL, "杭州 & <Co> \"x\"");
	exp_xml_close(&x);
	fclose(fp);
	assert_false(x.bad);
	assert_string_equal(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                    "<A k=\"&quot;&lt;&amp;&gt;&quot;\">\n"
	                    "  <B>杭州 &amp; &lt;Co&gt; \"x\"</B>\n"
	                    "</A>\n");
	free(text);
}

static void xml_writer_flags_control_characters(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	exp_xml x;
	(void)state;

	exp_xml_init(&x, fp);
	exp_xml_leaf(&x, "B", NULL, NULL, "a\x01z");
	fclose(fp);
	assert_true(x.bad);
	free(text);
}

static void ed25519_signs_and_rejects_a_changed_byte(void **state)
{
	char dir[] = "/tmp/test_export_XXXXXX", key[64], pub[64];
	unsigned char sig[EXP_SIG_BYTES];
	unsigned char msg[] = "MANIFEST bytes";
	lg_error err;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof key, "%s/k", dir);
	snprintf(pub, sizeof pub, "%s/k.pub", dir);
	lg_error_init(&err);
	assert_int_equal(exp_keygen(key, &err), LG_OK);
	assert_int_equal(exp_keygen(key, &err), LG_EIO); /* never overwritten */
	assert_int_equal(exp_key_check(key, &err), LG_OK);
	assert_int_equal(exp_sign(key, msg, sizeof msg - 1, sig, &err), LG_OK);
	assert_int_equal(exp_verify_sig(pub, msg, sizeof msg - 1, sig, sizeof sig, &err),
	                 LG_OK);
	msg[0] ^= 1;
	assert_int_equal(exp_verify_sig(pub, msg, sizeof msg - 1, sig, sizeof sig, &err),
	                 LG_ECHECK);
	msg[0] ^= 1;
	sig[10] ^= 1;
	assert_int_equal(exp_verify_sig(pub, msg, sizeof msg - 1, sig, sizeof sig, &err),
	                 LG_ECHECK);
	assert_int_equal(exp_verify_sig(pub, msg, sizeof msg - 1, sig, 63, &err),
	                 LG_ECHECK);
	/* a public key is not a private key */
	assert_int_equal(exp_key_check(pub, &err), LG_EDATA);
	unlink(key);
	unlink(pub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(amount_iso_prints_magnitude_with_scale_decimals),
		cmocka_unit_test(amount_iso_drops_only_zeros_beyond_5_decimals),
		cmocka_unit_test(amount_iso_refuses_19_digits),
		cmocka_unit_test(iban_check_digits_are_checked),
		cmocka_unit_test(bic_pattern_is_the_schemas),
		cmocka_unit_test(utf8_clip_never_cuts_a_character),
		cmocka_unit_test(date_prev_crosses_months_and_leap_days),
		cmocka_unit_test(xml_writer_escapes_text_and_attributes),
		cmocka_unit_test(xml_writer_flags_control_characters),
		cmocka_unit_test(ed25519_signs_and_rejects_a_changed_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
