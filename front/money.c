/*
 * money.c - exact rates, conversions and fees for the front.  Rates are
 * decimals kept as integer mantissa and scale; every rounding the front
 * does goes through div_half_even, the one rounding rule (banker's
 * rounding, half to even), so that an auditor can redo any figure.
 */
#include "front_int.h"

#include <string.h>

static int mul_checked(amount_minor_t a, amount_minor_t b, amount_minor_t *out)
{
	return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}

static int pow10_checked(int n, amount_minor_t *out)
{
	amount_minor_t v = 1;
	for (int i = 0; i < n; i++)
		if (mul_checked(v, 10, &v) != 0)
			return -1;
	*out = v;
	return 0;
}

/* num / den for num >= 0, den > 0, rounded half to even. */
static amount_minor_t div_half_even(amount_minor_t num, amount_minor_t den)
{
	amount_minor_t q = num / den, r = num % den;

	FRONT_ASSERT(num >= 0 && den > 0);
	if (r * 2 > den || (r * 2 == den && (q % 2) != 0))
		q++;
	return q;
}

int front_rate_parse(const char *text, front_rate_num *out)
{
	const char *dot = strchr(text, '.');
	int scale = dot ? (int)strlen(dot + 1) : 0;
	char why[64];
	amount_minor_t m;

	if (scale > AMOUNT_SCALE_MAX || text[0] == '-')
		return -1;
	if (amount_parse(text, strlen(text), scale, &m, why, sizeof why) != 0 || m <= 0)
		return -1;
	out->mant = m;
	out->scale = scale;
	return 0;
}

int front_convert(amount_minor_t x, int from_scale, front_rate_num rate,
                  int divide, int to_scale, amount_minor_t *out)
{
	amount_minor_t p_to, p_from, p_rate, num, den, ax = x < 0 ? -x : x;

	FRONT_ASSERT(rate.mant > 0);
	if (pow10_checked(to_scale, &p_to) || pow10_checked(from_scale, &p_from) ||
	    pow10_checked(rate.scale, &p_rate))
		return -1;
	/* x * rate: x * mant * 10^to / (10^rate_scale * 10^from);
	 * x / rate: x * 10^rate_scale * 10^to / (mant * 10^from). */
	if (mul_checked(ax, divide ? p_rate : rate.mant, &num) ||
	    mul_checked(num, p_to, &num) ||
	    mul_checked(divide ? rate.mant : p_rate, p_from, &den))
		return -1;
	num = div_half_even(num, den);
	*out = x < 0 ? -num : num;
	return 0;
}

int front_muldiv(amount_minor_t x, amount_minor_t a, amount_minor_t b,
                 amount_minor_t *out)
{
	amount_minor_t num;

	if (x < 0 || a < 0 || b <= 0 || mul_checked(x, a, &num))
		return -1;
	*out = div_half_even(num, b);
	return 0;
}

int front_fee_minor(amount_minor_t amount, unsigned bps, amount_minor_t *out)
{
	amount_minor_t num;

	FRONT_ASSERT(bps <= 10000);
	if (amount < 0 || mul_checked(amount, (amount_minor_t)bps, &num))
		return -1;
	*out = div_half_even(num, 10000);
	FRONT_ASSERT(*out >= 0 && *out <= amount);
	return 0;
}
