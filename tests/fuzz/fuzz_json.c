/*
 * fuzz_json.c - libFuzzer target for the transaction line reader
 * (ledger/json.c) and the canonical metadata writer.
 *
 * Properties checked beyond "no crash, no sanitizer report": a document
 * that parses writes canonically or refuses with -1/-2, and canonical
 * output parses again and writes to the same bytes (idempotence).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ledger/ledger_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lg_json doc, doc2;
	static char out[LG_META_MAX + 1], out2[LG_META_MAX + 1];
	char why[160];
	char *text;

	if (size > LG_LINE_MAX)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lg_json_parse(&doc, text, size, why, sizeof why) == 0) {
		int rc = lg_json_canonical(&doc, 0, out, sizeof out);
		if (rc == 0) {
			size_t n = strlen(out);
			char *copy = malloc(n + 1);
			if (!copy)
				abort();
			memcpy(copy, out, n + 1);
			if (lg_json_parse(&doc2, copy, n, why, sizeof why) != 0)
				abort(); /* canonical output must parse */
			if (lg_json_canonical(&doc2, 0, out2, sizeof out2) != 0 ||
			    strcmp(out, out2) != 0)
				abort(); /* and be a fixed point */
			free(copy);
		} else if (rc != -1 && rc != -2) {
			abort();
		}
	}
	free(text);
	return 0;
}
