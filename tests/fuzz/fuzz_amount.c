/*
 * fuzz_amount.c - libFuzzer target for amount_parse and amount_format.
 *
 * The first byte picks the scale (0..18); the rest is the text.  Whatever
 * parses must format back to text that parses to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ledger/amount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	amount_minor_t v, w;
	char why[128], buf[AMOUNT_TEXT_MAX];
	int scale;
	size_t n;

	if (size < 1)
		return 0;
	scale = data[0] % (AMOUNT_SCALE_MAX + 1);
	if (amount_parse((const char *)data + 1, size - 1, scale, &v, why, sizeof why) != 0)
		return 0;
	n = amount_format(v, scale, buf, sizeof buf);
	if (amount_parse(buf, n, scale, &w, why, sizeof why) != 0 || w != v)
		abort();
	return 0;
}
