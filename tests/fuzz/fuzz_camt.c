/*
 * fuzz_camt.c - libFuzzer target for the ISO 20022 reader
 * (importers/iso20022.c): camt.052/053/054 and pain.002.
 *
 * The reader takes a path (it opens the file itself, so that libxml2 never
 * sees a URI), so each input is written to one per-process temporary file,
 * made once and rewritten in place for every run.
 *
 * Properties checked beyond "no crash, no sanitizer report, no leak":
 *   - the sink sees statements properly nested: lines only between a
 *     statement_begin and its statement_end, no statement left open after
 *     a successful read, statuses never inside a statement;
 *   - every line carries raw_json, [index, value] pairs (or an object once
 *     the statement's dictionary is full) with the statement's raw_header
 *     naming them, and an asset that is the statement's whenever the
 *     statement has one;
 *   - statement_end's booked count and sum are those of the entry lines
 *     (child_index -1) with status BOOK handed over in the statement, and
 *     a batch entry is followed by exactly its children, numbered from 0;
 *   - a failed read returns a non-zero code and a non-empty message;
 *   - sniffing succeeds on every file that reads, and names a message type.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../importers/importers.h"

/* Bytes of input tried; larger inputs teach nothing a small one cannot. */
#define FUZZ_CAMT_INPUT_MAX ((size_t)1 << 20)

struct fuzz_counts {
	long begins, lines, ends, statuses;
	int open;                /* inside a statement */
	/* of the open statement: booked entries seen, their sum, and the
	 * children still owed by the last batch entry */
	long booked;
	amount_minor_t booked_sum;
	long children_due, child_next;
};

static char fuzz_path[64];
static int fuzz_fd = -1;

static void fuzz_cleanup(void)
{
	if (fuzz_fd >= 0)
		close(fuzz_fd);
	if (fuzz_path[0])
		unlink(fuzz_path);
}

/* Makes the temporary file on first use; aborts if it cannot (the harness
 * is broken, not the input). */
static void fuzz_file_once(void)
{
	if (fuzz_fd >= 0)
		return;
	snprintf(fuzz_path, sizeof fuzz_path, "/tmp/fuzz_camt.%ld.XXXXXX",
	         (long)getpid());
	fuzz_fd = mkstemp(fuzz_path);
	if (fuzz_fd < 0) {
		perror("fuzz_camt: mkstemp");
		abort();
	}
	atexit(fuzz_cleanup);
}

static void fuzz_write(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(fuzz_fd, 0) != 0) {
		perror("fuzz_camt: ftruncate");
		abort();
	}
	while (done < size) {
		ssize_t n = pwrite(fuzz_fd, data + done, size - done, (off_t)done);
		if (n <= 0) {
			perror("fuzz_camt: pwrite");
			abort();
		}
		done += (size_t)n;
	}
}

static int fuzz_scale(void *ctx, const char *asset, int *scale)
{
	static const struct { const char *code; int scale; } table[] = {
		{ "CHF", 2 }, { "EUR", 2 }, { "SEK", 2 }, { "USD", 2 },
		{ "CNY", 2 }, { "JPY", 0 },
	};

	(void)ctx;
	if (!asset)
		abort();
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (strcmp(asset, table[i].code) == 0) {
			*scale = table[i].scale;
			return 0;
		}
	}
	return 1;
}

static int on_begin(void *ctx, const imp_statement *st, lg_error *err)
{
	struct fuzz_counts *c = ctx;

	(void)err;
	if (c->open || !st || !st->message_type)
		abort();
	if (st->asset && (st->scale < 0 || st->scale > AMOUNT_SCALE_MAX))
		abort();
	c->open = 1;
	c->begins++;
	c->booked = 0;
	c->booked_sum = 0;
	c->children_due = 0;
	return 0;
}

static int on_line(void *ctx, const imp_statement *st, const imp_line *ln,
                   lg_error *err)
{
	struct fuzz_counts *c = ctx;

	(void)err;
	if (!c->open || !st || !ln || !ln->raw_json ||
	    (ln->raw_json[0] != '[' && ln->raw_json[0] != '{') ||
	    !st->raw_header || st->raw_header[0] != '[')
		abort();
	if (strlen(ln->raw_json) >= IMP_RAW_MAX)
		abort();
	if (!ln->asset || (st->asset && strcmp(st->asset, ln->asset) != 0))
		abort();
	if (ln->child_index < -1 || (ln->is_batch && ln->children < 1))
		abort();
	if (ln->child_index >= 0) {
		if (c->children_due <= 0 || ln->child_index != c->child_next)
			abort(); /* a child outside its batch, or out of order */
		c->children_due--;
		c->child_next++;
	} else {
		if (c->children_due != 0)
			abort(); /* a batch entry lost children */
		c->children_due = ln->is_batch ? ln->children : 0;
		c->child_next = 0;
		if (ln->status && strcmp(ln->status, "BOOK") == 0) {
			c->booked++;
			if (__builtin_add_overflow(c->booked_sum, ln->amount_minor, &c->booked_sum))
				abort(); /* the reader refuses a sum out of range */
		}
	}
	c->lines++;
	return 0;
}

static int on_end(void *ctx, const imp_statement *st, lg_error *err)
{
	struct fuzz_counts *c = ctx;

	(void)err;
	if (!c->open || !st || st->booked_entries != c->booked ||
	    st->booked_sum_minor != c->booked_sum || c->children_due != 0)
		abort();
	c->open = 0;
	c->ends++;
	return 0;
}

static int on_status(void *ctx, const imp_status *s, lg_error *err)
{
	struct fuzz_counts *c = ctx;

	(void)err;
	if (c->open || !s || !s->message_type)
		abort();
	c->statuses++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_counts c;
	imp_sink sink = { &c, on_begin, on_line, on_end, on_status };
	char type[64];
	lg_error err, serr;
	int rc, src;

	if (size > FUZZ_CAMT_INPUT_MAX)
		return 0;
	fuzz_file_once();
	fuzz_write(data, size);

	memset(&c, 0, sizeof c);
	lg_error_init(&err);
	rc = imp_iso20022_read(fuzz_path, fuzz_scale, NULL, &sink, &err);
	if (rc != 0) {
		if (err.code == 0 || err.msg[0] == '\0')
			abort(); /* a refusal must say why */
	} else if (c.open || c.begins != c.ends) {
		abort(); /* a statement left open after a successful read */
	}

	lg_error_init(&serr);
	src = imp_iso20022_sniff(fuzz_path, type, sizeof type, &serr);
	if (src == 0 && type[0] == '\0')
		abort();
	if (rc == 0 && src != 0)
		abort(); /* whatever reads must sniff */
	return 0;
}
