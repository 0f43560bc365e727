/*
 * csv_pass.c - the baseline for the CSV import benchmark: one plain libcsv
 * pass over the file (64 KiB reads, strict quoting, as the importer parses
 * it), counting records and fields and touching every field's bytes, and
 * nothing else: no decoding, no profile, no amounts, no staging.  Prints
 * the elapsed wall time in seconds, then the records and fields counted.
 */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASS_READ_BYTES ((size_t)64 << 10)

struct pass_counts {
	long records, fields;
	unsigned long sum; /* of field bytes: keeps the callbacks from being empty */
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_field(void *s, size_t n, void *ctx)
{
	struct pass_counts *c = ctx;
	const unsigned char *p = s;

	c->fields++;
	c->sum += n ? p[0] + p[n - 1] : 0;
}

static void on_record(int term, void *ctx)
{
	struct pass_counts *c = ctx;

	(void)term;
	c->records++;
}

int main(int argc, char **argv)
{
	static char buf[PASS_READ_BYTES];
	struct pass_counts c = { 0, 0, 0 };
	struct csv_parser cp;
	FILE *fp;
	size_t n;
	double t0;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_csv_pass FILE.csv\n");
		return 64;
	}
	t0 = now_s();
	fp = fopen(argv[1], "rb");
	if (!fp) {
		perror(argv[1]);
		return 66;
	}
	if (csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return 70;
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
		if (csv_parse(&cp, buf, n, on_field, on_record, &c) != n) {
			fprintf(stderr, "bench_csv_pass: %s\n", csv_strerror(csv_error(&cp)));
			return 65;
		}
	}
	if (ferror(fp) || csv_fini(&cp, on_field, on_record, &c) != 0) {
		fprintf(stderr, "bench_csv_pass: read or parse error\n");
		return 65;
	}
	csv_free(&cp);
	fclose(fp);
	printf("%.3f\n%ld\n%ld\n", now_s() - t0, c.records, c.fields);
	/* the checksum is printed to stderr only when asked, never dropped */
	if (getenv("BENCH_CSV_PASS_SUM"))
		fprintf(stderr, "%lu\n", c.sum);
	return 0;
}
