/*
 * test_iso20022.c - unit tests for the ISO 20022 XML reader
 * (importers/iso20022.c): the real bank files of ../shared/corpus/, and
 * hand-written documents for the edges (hostile XML, versions, batches,
 * reversals, exact amounts, errors naming file, line, entry and field).
 *
 * A recording sink copies every call so that the tests can look at the
 * whole sequence afterwards; it also checks that every raw_json parses as a
 * JSON object (with jansson, independent of the reader's own writer).
 * 128-bit amounts are compared here and printed with amount_format_minor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../importers/importers.h"

#define REC_STMTS_MAX 8
#define REC_LINES_MAX 64
#define REC_STATUSES_MAX 16
#define PATH_CAP 4096
#define DOC_CAP 65536

/* --- the recording sink -------------------------------------------------- */

struct rec_stmt {
	imp_statement begin, end;
	int ended;
};

struct rec {
	int stmts_n, lines_n, statuses_n;
	int calls;
	int fail_at_call;          /* return LG_EDATA on this call (1-based) */
	struct rec_stmt stmts[REC_STMTS_MAX];
	imp_line lines[REC_LINES_MAX];
	imp_status statuses[REC_STATUSES_MAX];
};

static const char *dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	assert_non_null(d);
	return d;
}

static void stmt_copy(imp_statement *dst, const imp_statement *src)
{
	*dst = *src;
	dst->message_type = dup_or_null(src->message_type);
	dst->msg_id = dup_or_null(src->msg_id);
	dst->statement_id = dup_or_null(src->statement_id);
	dst->account_id = dup_or_null(src->account_id);
	dst->asset = dup_or_null(src->asset);
	dst->from_date = dup_or_null(src->from_date);
	dst->to_date = dup_or_null(src->to_date);
}

static void stmt_release(imp_statement *s)
{
	free((void *)s->message_type);
	free((void *)s->msg_id);
	free((void *)s->statement_id);
	free((void *)s->account_id);
	free((void *)s->asset);
	free((void *)s->from_date);
	free((void *)s->to_date);
}

#define LINE_STRINGS(X)                                                       \
	X(entry_ref) X(booking_date) X(value_date) X(asset) X(counterparty_name) \
	X(counterparty_account) X(end_to_end_id) X(instruction_id)              \
	X(provider_ref) X(uetr) X(remittance) X(tx_code) X(status) X(batch_id)  \
	X(return_reason) X(charges) X(raw_json)

static int rec_fail_now(struct rec *r, lg_error *err)
{
	r->calls++;
	if (r->fail_at_call && r->calls == r->fail_at_call)
		return lg_error_set(err, LG_EDATA, "sink refused call %d", r->calls);
	return 0;
}

static int rec_begin(void *ctx, const imp_statement *st, lg_error *err)
{
	struct rec *r = ctx;

	if (rec_fail_now(r, err))
		return LG_EDATA;
	assert_true(r->stmts_n < REC_STMTS_MAX);
	assert_true(r->stmts_n == 0 || r->stmts[r->stmts_n - 1].ended);
	stmt_copy(&r->stmts[r->stmts_n].begin, st);
	r->stmts_n++;
	return 0;
}

static int rec_end(void *ctx, const imp_statement *st, lg_error *err)
{
	struct rec *r = ctx;
	struct rec_stmt *s;

	if (rec_fail_now(r, err))
		return LG_EDATA;
	assert_true(r->stmts_n > 0);
	s = &r->stmts[r->stmts_n - 1];
	assert_false(s->ended);
	stmt_copy(&s->end, st);
	s->ended = 1;
	return 0;
}

/* A line's raw fields as one JSON object: the reader hands them over as
 * [index, value, ...] pairs against the statement's dictionary of names
 * (st->raw_header, complete up to this line), index -1 marking a cut, a
 * value either its text or the code (lg_raw_field) of the line's field
 * holding that text, put back here; or, when the dictionary was full, as
 * an object already.  Fails the test on a malformed pair list, a code
 * naming an absent field, or a repeated name.  Caller frees. */
static char *raw_object(const imp_statement *st, const imp_line *ln, const char *raw)
{
	json_error_t jerr;
	json_t *doc = json_loads(raw, 0, &jerr), *hdr, *obj;
	char *text;

	if (!doc)
		fail_msg("raw_json is not JSON (%s): %s", jerr.text, raw);
	if (json_is_object(doc)) {
		json_decref(doc);
		doc = json_loads(raw, JSON_REJECT_DUPLICATES, &jerr);
		if (!doc)
			fail_msg("raw_json repeats a name (%s): %s", jerr.text, raw);
		text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(doc);
		return text;
	}
	assert_true(json_is_array(doc) && json_array_size(doc) % 2 == 0);
	assert_non_null(st->raw_header);
	hdr = json_loads(st->raw_header, 0, &jerr);
	if (!hdr)
		fail_msg("raw_header is not JSON (%s): %s", jerr.text, st->raw_header);
	obj = json_object();
	for (size_t i = 0; i < json_array_size(doc); i += 2) {
		json_int_t k = json_integer_value(json_array_get(doc, i));
		const char *name = k < 0 ? "_truncated" :
		                   json_string_value(json_array_get(hdr, (size_t)k));
		assert_true(json_is_integer(json_array_get(doc, i)));
		if (!name)
			fail_msg("raw_json index %lld has no name in %s", (long long)k,
			         st->raw_header);
		json_t *v = json_array_get(doc, i + 1);
		if (json_object_get(obj, name))
			fail_msg("raw_json repeats '%s': %s", name, raw);
		if (json_is_integer(v)) {
			const char *f = ledger_line_field(ln, (int)json_integer_value(v));
			if (!f || !f[0])
				fail_msg("raw_json code %lld names no field of the line: %s",
				         (long long)json_integer_value(v), raw);
			json_object_set_new(obj, name, json_string(f));
		} else {
			json_object_set(obj, name, v);
		}
	}
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	json_decref(hdr);
	json_decref(doc);
	return text;
}

static int rec_line(void *ctx, const imp_statement *st, const imp_line *ln,
                    lg_error *err)
{
	struct rec *r = ctx;
	imp_line *d;
	json_t *doc;
	json_error_t jerr;
	char *obj;

	if (rec_fail_now(r, err))
		return LG_EDATA;
	assert_non_null(st);
	assert_true(r->stmts_n > 0 && !r->stmts[r->stmts_n - 1].ended);
	assert_true(r->lines_n < REC_LINES_MAX);
	assert_non_null(ln->raw_json);
	assert_true(strlen(ln->raw_json) < IMP_RAW_MAX);
	obj = raw_object(st, ln, ln->raw_json);
	doc = json_loads(obj, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		fail_msg("raw fields are not one object (%s): %s", jerr.text, obj);
	assert_true(json_is_object(doc));
	json_decref(doc);
	d = &r->lines[r->lines_n++];
	*d = *ln;
#define X(f) d->f = dup_or_null(ln->f);
	LINE_STRINGS(X)
#undef X
	free((void *)d->raw_json);
	d->raw_json = obj; /* the object the pairs stand for */
	return 0;
}

static int rec_status(void *ctx, const imp_status *s, lg_error *err)
{
	struct rec *r = ctx;
	imp_status *d;

	if (rec_fail_now(r, err))
		return LG_EDATA;
	assert_true(r->statuses_n < REC_STATUSES_MAX);
	d = &r->statuses[r->statuses_n++];
	*d = *s;
	d->message_type = dup_or_null(s->message_type);
	d->msg_id = dup_or_null(s->msg_id);
	d->orig_msg_id = dup_or_null(s->orig_msg_id);
	d->orig_pmt_inf_id = dup_or_null(s->orig_pmt_inf_id);
	d->orig_instr_id = dup_or_null(s->orig_instr_id);
	d->orig_end_to_end_id = dup_or_null(s->orig_end_to_end_id);
	d->status = dup_or_null(s->status);
	d->reason_code = dup_or_null(s->reason_code);
	d->reason_text = dup_or_null(s->reason_text);
	return 0;
}

static void rec_free(struct rec *r)
{
	for (int i = 0; i < r->stmts_n; i++) {
		stmt_release(&r->stmts[i].begin);
		if (r->stmts[i].ended)
			stmt_release(&r->stmts[i].end);
	}
	for (int i = 0; i < r->lines_n; i++) {
#define X(f) free((void *)r->lines[i].f);
		LINE_STRINGS(X)
#undef X
	}
	for (int i = 0; i < r->statuses_n; i++) {
		imp_status *s = &r->statuses[i];
		free((void *)s->message_type);
		free((void *)s->msg_id);
		free((void *)s->orig_msg_id);
		free((void *)s->orig_pmt_inf_id);
		free((void *)s->orig_instr_id);
		free((void *)s->orig_end_to_end_id);
		free((void *)s->status);
		free((void *)s->reason_code);
		free((void *)s->reason_text);
	}
	free(r);
}

/* Small scale table, as the ledger would answer. */
static int test_scale(void *ctx, const char *asset, int *scale)
{
	static const struct { const char *code; int scale; } table[] = {
		{ "CHF", 2 }, { "EUR", 2 }, { "SEK", 2 }, { "JPY", 0 },
		{ "USD", 2 }, { "CNY", 2 },
	};
	(void)ctx;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (strcmp(table[i].code, asset) == 0) {
			*scale = table[i].scale;
			return 0;
		}
	}
	return -1;
}

/* Reads `path` into a fresh recorder; returns the reader's code. */
static int read_file(const char *path, struct rec **out, lg_error *err)
{
	struct rec *r = calloc(1, sizeof *r);
	imp_sink sink = { r, rec_begin, rec_line, rec_end, rec_status };

	assert_non_null(r);
	lg_error_init(err);
	*out = r;
	return imp_iso20022_read(path, test_scale, NULL, &sink, err);
}

/* --- helpers ------------------------------------------------------------- */

static const char *i128_str(amount_minor_t v, char buf[48])
{
	amount_format_minor(v, buf, 48);
	return buf;
}

#define assert_minor(actual, expected)                                        \
	do {                                                                      \
		amount_minor_t a_ = (actual), e_ = (amount_minor_t)(expected);        \
		char ab_[48], eb_[48];                                                \
		if (a_ != e_)                                                         \
			fail_msg("%s is %s, expected %s", #actual, i128_str(a_, ab_),     \
			         i128_str(e_, eb_));                                      \
	} while (0)

#define assert_str(actual, expected)                                          \
	do {                                                                      \
		const char *a_ = (actual), *e_ = (expected);                          \
		if (!a_ || strcmp(a_, e_) != 0)                                       \
			fail_msg("%s is '%s', expected '%s'", #actual,                    \
			         a_ ? a_ : "(null)", e_);                                 \
	} while (0)

#define assert_contains(hay, needle)                                          \
	do {                                                                      \
		const char *h_ = (hay);                                               \
		if (!h_ || !strstr(h_, (needle)))                                     \
			fail_msg("'%s' does not contain '%s'", h_ ? h_ : "(null)",        \
			         (needle));                                               \
	} while (0)

static int is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The corpus: $CLEARBOOK_CORPUS, else ROOT/../shared/corpus with ROOT from
 * $ROOT (tests/run.sh sets it), from __FILE__, or the working directory. */
static int corpus_dir(char *out, size_t cap)
{
	const char *env = getenv("CLEARBOOK_CORPUS");
	const char *root = getenv("ROOT");
	char file_root[PATH_CAP / 4];
	const char *cut;

	if (env && env[0]) {
		snprintf(out, cap, "%s", env);
		return is_dir(out) ? 0 : -1;
	}
	if (root && root[0]) {
		snprintf(out, cap, "%s/../shared/corpus", root);
		if (is_dir(out))
			return 0;
	}
	snprintf(file_root, sizeof file_root, "%s", __FILE__);
	cut = strstr(file_root, "tests/unit/test_iso20022.c");
	if (cut) {
		file_root[cut - file_root] = '\0';
		snprintf(out, cap, "%s../shared/corpus", file_root[0] ? file_root : "");
		if (is_dir(out))
			return 0;
	}
	for (const char *rel = "../shared/corpus"; rel;
	     rel = strcmp(rel, "../shared/corpus") == 0 ? "../../shared/corpus"
	           : strcmp(rel, "../../shared/corpus") == 0 ? "../../../shared/corpus"
	                                                     : NULL) {
		snprintf(out, cap, "%s", rel);
		if (is_dir(out))
			return 0;
	}
	return -1;
}

/* Full path of a corpus file, or skips the test when it is absent. */
#define CORPUS(buf, name)                                                     \
	do {                                                                      \
		char dir_[PATH_CAP / 2];                                                \
		struct stat sb_;                                                      \
		if (corpus_dir(dir_, sizeof dir_) != 0) {                             \
			print_message("corpus not found (set CLEARBOOK_CORPUS); "         \
			              "skipping\n");                                      \
			skip();                                                           \
		}                                                                     \
		snprintf(buf, sizeof buf, "%s/%s", dir_, name);                       \
		if (stat(buf, &sb_) != 0) {                                           \
			print_message("%s absent; skipping\n", buf);                      \
			skip();                                                           \
		}                                                                     \
	} while (0)

#define F_PF053 "camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml"
#define F_052 "200519_camt.052_P_CH2909000000250094239_1110092686_0_2019042416072347.xml"
#define F_ESR "200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179.xml"
#define F_RET "200519_camt054-returns_p_ch2909000000250094239_1109800798_0_2019052023472022.xml"
#define F_PAIN "pain002-epo_p_ch2909000000250094239_1109800799_0_2018032612092784.xml"
#define F_G8 "genkgo_camt053.v8.xml"
#define F_G2 "genkgo_camt053.v2.five.decimals.xml"
#define F_G54 "genkgo_camt054.v8-with-UETR.xml"

/* A temporary file holding `text`; the name is written to path. */
static void tmp_write(char path[PATH_CAP], const char *text)
{
	int fd;
	size_t n = strlen(text);

	snprintf(path, PATH_CAP, "/tmp/clearbook_iso_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, text, n) == (ssize_t)n);
	close(fd);
}

/* Reads a document given as text. */
static int read_text(const char *text, struct rec **out, lg_error *err)
{
	char path[PATH_CAP];
	int rc;

	tmp_write(path, text);
	rc = read_file(path, out, err);
	unlink(path);
	return rc;
}

/* A camt.053 document of the given version around `entries`, with opening
 * 100.00 CHF and closing `closing`. */
static const char *camt053(char *buf, const char *ver, const char *closing,
                           const char *entries)
{
	snprintf(buf, DOC_CAP,
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.%s\">\n"
	         "<BkToCstmrStmt>\n"
	         "<GrpHdr><MsgId>M1</MsgId></GrpHdr>\n"
	         "<Stmt>\n"
	         "<Id>S1</Id>\n"
	         "<Acct><Id><IBAN>CH00TEST</IBAN></Id><Ccy>CHF</Ccy></Acct>\n"
	         "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>"
	         "<Amt Ccy=\"CHF\">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
	         "<Dt><Dt>2024-01-01</Dt></Dt></Bal>\n"
	         "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>"
	         "<Amt Ccy=\"CHF\">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
	         "<Dt><Dt>2024-01-01</Dt></Dt></Bal>\n"
	         "%s"
	         "</Stmt>\n"
	         "</BkToCstmrStmt>\n"
	         "</Document>\n", ver, closing, entries);
	return buf;
}

/* One entry; `inner` goes after BookgDt/ValDt. */
static const char *ntry(char *buf, size_t cap, const char *amt,
                        const char *ind, const char *sts, const char *inner)
{
	snprintf(buf, cap,
	         "<Ntry>\n"
	         "<Amt Ccy=\"CHF\">%s</Amt>\n"
	         "<CdtDbtInd>%s</CdtDbtInd>\n"
	         "<Sts>%s</Sts>\n"
	         "<BookgDt><Dt>2024-01-02</Dt></BookgDt>\n"
	         "<ValDt><Dt>2024-01-03</Dt></ValDt>\n"
	         "%s"
	         "</Ntry>\n", amt, ind, sts, inner);
	return buf;
}

/* --- the corpus ---------------------------------------------------------- */

static void corpus_postfinance_camt053_v04_five_booked_and_closing_break(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;
	imp_statement *b, *e;
	amount_minor_t sum = 0;

	(void)state;
	CORPUS(path, F_PF053);
	assert_int_equal(read_file(path, &r, &err), 0);
	assert_int_equal(r->stmts_n, 1);
	assert_true(r->stmts[0].ended);
	b = &r->stmts[0].begin;
	e = &r->stmts[0].end;
	assert_str(b->message_type, "camt.053.001.04");
	assert_str(b->msg_id, "20201124375204229003967");
	assert_str(b->statement_id, "20201124375204229003973");
	assert_int_equal(b->seq_nb, 118);
	assert_str(b->account_id, "CH2909000000250094239");
	assert_str(b->asset, "CHF");
	assert_int_equal(b->scale, 2);
	assert_str(b->from_date, "2020-06-24");
	assert_str(b->to_date, "2020-06-24");
	assert_true(b->has_opening && b->has_closing);
	assert_minor(b->opening_minor, 21199319);
	assert_minor(b->closing_minor, 21511221);
	assert_minor(e->booked_sum_minor, 465602);
	assert_int_equal(e->booked_entries, 5);
	/* The file's own break: opening + entries != closing; we only report. */
	assert_true(b->opening_minor + e->booked_sum_minor == 21664921);
	assert_true(b->opening_minor + e->booked_sum_minor != b->closing_minor);

	assert_int_equal(r->lines_n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r->lines[i].entry_index, i);
		assert_int_equal(r->lines[i].child_index, -1);
		assert_false(r->lines[i].is_batch);
		assert_str(r->lines[i].status, "BOOK");
		assert_str(r->lines[i].asset, "CHF");
		assert_str(r->lines[i].booking_date, "2020-11-24");
		sum += r->lines[i].amount_minor;
	}
	assert_minor(sum, 465602);
	assert_minor(r->lines[0].amount_minor, 450);
	assert_str(r->lines[0].entry_ref, "41100000000872849");
	assert_str(r->lines[0].provider_ref, "0758103031480900");
	assert_str(r->lines[0].tx_code, "PMNT/IDDT/PMDD");
	/* DBIT entry whose only TxDtls says CRDT: the entry wins, the oddity
	 * stays in the raw fields. */
	assert_minor(r->lines[1].amount_minor, -7770);
	assert_str(r->lines[1].entry_ref, "0758103031480977");
	assert_contains(r->lines[1].raw_json,
	                "\"NtryDtls/TxDtls/CdtDbtInd\":\"CRDT\"");
	assert_contains(r->lines[1].raw_json, "\"_oddity\":");
	assert_null(strstr(r->lines[0].raw_json, "_oddity"));
	assert_str(r->lines[3].entry_ref, "014295803");
	assert_str(r->lines[3].value_date, "2020-11-25");
	assert_str(r->lines[4].tx_code, "PMNT/RCDT/VCOM");
	assert_minor(r->lines[4].amount_minor, 169222);
	assert_int_equal(r->lines[0].line_no, 77);
	assert_contains(r->lines[2].raw_json, "\"AddtlNtryInf\":\"SAMMELGUTSCHRIFT F\xc3\x9cR KONTO");
	rec_free(r);
}

static void corpus_camt052_v04_two_debits_with_end_to_end_ids(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;

	(void)state;
	CORPUS(path, F_052);
	assert_int_equal(read_file(path, &r, &err), 0);
	assert_int_equal(r->stmts_n, 1);
	assert_str(r->stmts[0].begin.message_type, "camt.052.001.04");
	assert_int_equal(r->stmts[0].begin.seq_nb, 78);
	assert_true(r->stmts[0].begin.has_opening);
	assert_minor(r->stmts[0].begin.opening_minor, 20850919);
	assert_false(r->stmts[0].begin.has_closing); /* ITBD only */
	assert_int_equal(r->lines_n, 2);
	assert_minor(r->lines[0].amount_minor, -10300);
	assert_minor(r->lines[1].amount_minor, -91300);
	assert_minor(r->stmts[0].end.booked_sum_minor, -101600);
	assert_str(r->lines[0].end_to_end_id, "20190423001255000100005");
	assert_str(r->lines[1].end_to_end_id, "20190423001255000100006");
	assert_str(r->lines[0].entry_ref, "074820002ZU1EPZK");
	assert_str(r->lines[0].provider_ref, "074820002ZU1EPZK");
	rec_free(r);
}

static void corpus_camt054_esr_two_batches_six_children_sum_to_entries(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;
	amount_minor_t entries = 0, children = 0;
	int n_entries = 0, n_children = 0;

	(void)state;
	CORPUS(path, F_ESR);
	assert_int_equal(read_file(path, &r, &err), 0);
	assert_int_equal(r->stmts_n, 1);
	assert_str(r->stmts[0].begin.message_type, "camt.054.001.04");
	assert_str(r->stmts[0].begin.asset, "CHF"); /* from the first entry */
	assert_false(r->stmts[0].begin.has_opening);
	assert_int_equal(r->lines_n, 8);
	for (int i = 0; i < r->lines_n; i++) {
		imp_line *l = &r->lines[i];
		if (l->child_index < 0) {
			n_entries++;
			entries += l->amount_minor;
			assert_true(l->is_batch);
			assert_minor(l->batch_difference_minor, 0);
		} else {
			n_children++;
			children += l->amount_minor;
		}
	}
	assert_int_equal(n_entries, 2);
	assert_int_equal(n_children, 6);
	assert_minor(entries, 139000);
	assert_minor(children, 139000);
	assert_minor(r->stmts[0].end.booked_sum_minor, 139000);
	assert_int_equal(r->stmts[0].end.booked_entries, 2);
	/* entry 0: five children in file order */
	assert_int_equal(r->lines[0].children, 5);
	assert_str(r->lines[0].entry_ref, "014295803");
	assert_int_equal(r->lines[1].entry_index, 0);
	assert_int_equal(r->lines[1].child_index, 0);
	assert_minor(r->lines[1].amount_minor, 25000);
	assert_str(r->lines[1].end_to_end_id, "EndToEndId-001-02-02");
	assert_str(r->lines[1].instruction_id, "InstrId-001-02-02");
	assert_str(r->lines[1].provider_ref, "180315CH02ZX5RI3");
	assert_str(r->lines[1].counterparty_name, "Bernasconi Maria");
	assert_str(r->lines[1].counterparty_account, "CH5109000000250092291");
	assert_str(r->lines[1].remittance, "120000000000234478943216899");
	assert_str(r->lines[1].tx_code, "PMNT/RCDT/AUTT");
	assert_str(r->lines[1].entry_ref, "014295803");
	assert_int_equal(r->lines[5].child_index, 4);
	assert_minor(r->lines[5].amount_minor, 46300);
	assert_str(r->lines[5].tx_code, "PMNT/RCDT/DMCT");
	/* entry 1: a Btch with one TxDtls is still a batch; charges read */
	assert_int_equal(r->lines[6].entry_index, 1);
	assert_int_equal(r->lines[6].children, 1);
	assert_minor(r->lines[6].amount_minor, -14700);
	assert_str(r->lines[6].charges, "4.40 CHF");
	assert_int_equal(r->lines[7].child_index, 0);
	assert_minor(r->lines[7].amount_minor, -14700);
	assert_str(r->lines[7].charges, "4.40 CHF");
	assert_str(r->lines[7].tx_code, "PMNT/CNTR/CWDL");
	/* the child's raw fields are its own, the entry's are the entry's */
	assert_null(strstr(r->lines[0].raw_json, "TxDtls"));
	assert_contains(r->lines[0].raw_json, "\"NtryDtls/Btch/NbOfTxs\":\"5\"");
	assert_contains(r->lines[1].raw_json, "\"NtryDtls/TxDtls/Refs/EndToEndId\"");
	assert_null(strstr(r->lines[1].raw_json, "EndToEndId-001-02-01"));
	rec_free(r);
}

static void corpus_camt054_return_carries_end_to_end_id_and_ac01(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;

	(void)state;
	CORPUS(path, F_RET);
	assert_int_equal(read_file(path, &r, &err), 0);
	assert_int_equal(r->lines_n, 2); /* a Btch entry and its one child */
	assert_minor(r->lines[0].amount_minor, 40000);
	assert_true(r->lines[0].is_batch);
	assert_minor(r->lines[0].batch_difference_minor, 0);
	assert_minor(r->lines[1].amount_minor, 40000);
	assert_str(r->lines[1].end_to_end_id, "EndToEndId-004-01-01");
	assert_str(r->lines[1].return_reason, "AC01");
	assert_str(r->lines[1].remittance, "Kontouebertrag");
	assert_str(r->lines[1].tx_code, "PMNT/ICDT/RRTN");
	assert_minor(r->stmts[0].end.booked_sum_minor, 40000);
	assert_int_equal(r->stmts[0].end.booked_entries, 1);
	rec_free(r);
}

static void corpus_pain002_six_namespace_rejected_ac01(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;
	imp_status *s;

	(void)state;
	CORPUS(path, F_PAIN);
	assert_int_equal(read_file(path, &r, &err), 0);
	assert_int_equal(r->stmts_n, 0);
	assert_int_equal(r->lines_n, 0);
	assert_int_equal(r->statuses_n, 1);
	s = &r->statuses[0];
	assert_str(s->message_type, "pain.002.001.03");
	assert_str(s->msg_id, "20180326375204011678275");
	assert_str(s->orig_msg_id, "MsgId-006");
	assert_str(s->orig_pmt_inf_id, "PmtInfId-006-01");
	assert_str(s->orig_instr_id, "InstrId-006-01-01");
	assert_str(s->orig_end_to_end_id, "EndToEndId-006-01-01");
	assert_str(s->status, "RJCT");
	assert_str(s->reason_code, "AC01");
	assert_str(s->reason_text, "1301813;Konto ung\xc3\xbcltig");
	assert_int_equal(s->line_no, 2);
	rec_free(r);
}

static void corpus_genkgo_camt053_v08_sts_cd_and_pty_nm(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;
	imp_line *l;

	(void)state;
	CORPUS(path, F_G8);
	assert_int_equal(read_file(path, &r, &err), 0);
	assert_int_equal(r->stmts_n, 1);
	assert_str(r->stmts[0].begin.message_type, "camt.053.001.08");
	assert_str(r->stmts[0].begin.account_id, "NL26VAYB8060476890"); /* Othr/Id */
	assert_str(r->stmts[0].begin.asset, "EUR");
	assert_str(r->stmts[0].begin.from_date, "2007-10-18");
	assert_int_equal(r->stmts[0].begin.seq_nb, 12312);
	assert_true(r->stmts[0].begin.has_opening);
	assert_minor(r->stmts[0].begin.opening_minor, 1815);
	/* the fixture's CLBD is in SEK: not comparable, left out */
	assert_false(r->stmts[0].begin.has_closing);
	assert_int_equal(r->lines_n, 1);
	l = &r->lines[0];
	assert_str(l->status, "BOOK");                 /* Sts/Cd */
	assert_str(l->counterparty_name, "NAME NAME");  /* Dbtr/Pty/Nm */
	assert_str(l->counterparty_account, "NL56AGDH9619008421");
	assert_str(l->booking_date, "2014-12-31");      /* from DtTm */
	assert_str(l->value_date, "2015-01-02");
	assert_minor(l->amount_minor, 885);
	assert_str(l->asset, "EUR");
	assert_str(l->end_to_end_id, "MUELL/FINP/RA12345");
	assert_str(l->remittance, "4654654654654654");
	assert_str(l->tx_code, "PMNT/RCDT/BOOK");
	assert_str(l->entry_ref, "AAAASESS-FP-CN_98765/01");
	assert_false(l->reversal);
	assert_minor(r->stmts[0].end.booked_sum_minor, 885);
	assert_contains(l->raw_json, "\"NtryDtls/TxDtls/Amt@Ccy\":\"SEK\"");
	assert_contains(l->raw_json, "\"NtryDtls/TxDtls/RltdPties/Dbtr/Pty/PstlAdr/AdrLine[2]\":\"2000 ANTWERPEN\"");
	rec_free(r);
}

static void corpus_genkgo_camt053_v02_five_decimals_exact(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;

	(void)state;
	CORPUS(path, F_G2);
	assert_int_equal(read_file(path, &r, &err), 0);
	assert_int_equal(r->stmts_n, 1);
	assert_str(r->stmts[0].begin.message_type, "camt.053.001.02");
	assert_minor(r->stmts[0].begin.opening_minor, 1815);  /* 18.150 */
	assert_minor(r->stmts[0].begin.closing_minor, 2705);  /* 27.050 */
	assert_int_equal(r->lines_n, 1);
	assert_minor(r->lines[0].amount_minor, 885);          /* 8.850 */
	assert_str(r->lines[0].tx_code, "544");               /* Prtry/Cd */
	assert_str(r->lines[0].remittance, "Transaction Description");
	assert_str(r->lines[0].end_to_end_id, "000000001");
	/* a credit: the counterparty is the debtor, absent here */
	assert_null(r->lines[0].counterparty_name);
	assert_minor(r->stmts[0].end.booked_sum_minor, 885);
	/* the fixture's own figures: 18.15 + 8.85 = 27.00, closing says 27.05 */
	assert_true(r->stmts[0].begin.opening_minor + r->stmts[0].end.booked_sum_minor
	            == 2700);
	rec_free(r);
}

static void corpus_genkgo_camt054_v08_uetr_and_integer_sek(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;

	(void)state;
	CORPUS(path, F_G54);
	assert_int_equal(read_file(path, &r, &err), 0);
	assert_int_equal(r->stmts_n, 1);
	assert_str(r->stmts[0].begin.message_type, "camt.054.001.08");
	assert_str(r->stmts[0].begin.asset, "SEK");
	assert_int_equal(r->lines_n, 1);
	assert_minor(r->lines[0].amount_minor, -20000000);
	assert_str(r->lines[0].uetr, "255ae394-9965-4438-ac86-f406feada396");
	assert_str(r->lines[0].status, "BOOK");
	assert_null(r->lines[0].tx_code); /* empty BkTxCd */
	assert_minor(r->stmts[0].end.booked_sum_minor, -20000000);
	rec_free(r);
}

static void sniff_names_each_corpus_message_type(void **state)
{
	static const char *const files[][2] = {
		{ F_PF053, "camt.053.001.04" }, { F_052, "camt.052.001.04" },
		{ F_ESR, "camt.054.001.04" }, { F_RET, "camt.054.001.04" },
		{ F_PAIN, "pain.002.001.03" }, { F_G8, "camt.053.001.08" },
		{ F_G2, "camt.053.001.02" }, { F_G54, "camt.054.001.08" },
	};
	char path[PATH_CAP], type[64];
	lg_error err;

	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		CORPUS(path, files[i][0]);
		lg_error_init(&err);
		assert_int_equal(imp_iso20022_sniff(path, type, sizeof type, &err), 0);
		assert_str(type, files[i][1]);
	}
}

/* --- hostile XML --------------------------------------------------------- */

static void xxe_external_entity_refused_before_any_sink_call(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], path[PATH_CAP], type[64];

	(void)state;
	snprintf(doc, sizeof doc,
	         "<?xml version=\"1.0\"?>\n"
	         "<!DOCTYPE Document [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
	         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\">"
	         "<BkToCstmrStmt><Stmt><Id>&xxe;</Id>"
	         "<Ntry><Amt Ccy=\"CHF\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
	         "<Sts>BOOK</Sts><AddtlNtryInf>&xxe;</AddtlNtryInf></Ntry>"
	         "</Stmt></BkToCstmrStmt></Document>\n");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_int_equal(err.code, LG_EDATA);
	assert_contains(err.msg, "DTD");
	assert_int_equal(r->calls, 0);
	assert_null(strstr(err.msg, "root:"));
	rec_free(r);
	/* sniffing refuses it too */
	tmp_write(path, doc);
	lg_error_init(&err);
	assert_int_equal(imp_iso20022_sniff(path, type, sizeof type, &err), LG_EDATA);
	assert_contains(err.msg, "DTD");
	unlink(path);
}

static void billion_laughs_refused_quickly(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP];
	size_t n;

	(void)state;
	n = (size_t)snprintf(doc, sizeof doc,
	                     "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	                     " <!ENTITY lol \"lol\">\n");
	for (int i = 1; i <= 9; i++) {
		n += (size_t)snprintf(doc + n, sizeof doc - n, " <!ENTITY lol%d \"", i);
		for (int k = 0; k < 10; k++)
			n += (size_t)snprintf(doc + n, sizeof doc - n, "&lol%.0d;", i - 1);
		n += (size_t)snprintf(doc + n, sizeof doc - n, "\">\n");
	}
	snprintf(doc + n, sizeof doc - n,
	         "]>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\">"
	         "<BkToCstmrStmt><Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt>"
	         "</Document>\n");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_int_equal(r->calls, 0);
	rec_free(r);
}

static void dtd_without_entities_refused(void **state)
{
	struct rec *r;
	lg_error err;

	(void)state;
	assert_int_equal(read_text(
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE Document SYSTEM \"http://example.com/camt.dtd\">\n"
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\">"
		"<BkToCstmrStmt/></Document>\n", &r, &err), LG_EDATA);
	assert_contains(err.msg, "document type declaration (DTD) is refused");
	assert_int_equal(r->calls, 0);
	rec_free(r);
}

static void undeclared_entity_reference_refused(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e[2048];

	(void)state;
	camt053(doc, "04", "101.00", ntry(e, sizeof e, "1.00", "CRDT", "BOOK",
	        "<AddtlNtryInf>a &foo; b</AddtlNtryInf>\n"));
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "foo");
	assert_int_equal(r->lines_n, 0);
	rec_free(r);
}

static void malformed_xml_error_names_file_and_line(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	lg_error err;

	(void)state;
	tmp_write(path,
	          "<?xml version=\"1.0\"?>\n"
	          "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\">\n"
	          "<BkToCstmrStmt>\n"
	          "<GrpHdr>\n"
	          "<MsgId>M1</MsgId>\n"
	          "</GrpHdr>\n"
	          "<Stmt><Id>S1</Idd></Stmt>\n"
	          "</BkToCstmrStmt>\n"
	          "</Document>\n");
	assert_int_equal(read_file(path, &r, &err), LG_EDATA);
	assert_contains(err.msg, path);
	assert_contains(err.msg, ":7:");
	assert_contains(err.msg, "malformed XML");
	assert_int_equal(err.line, 7);
	unlink(path);
	rec_free(r);
}

static void nesting_deeper_than_limit_refused(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP];
	size_t n;

	(void)state;
	n = (size_t)snprintf(doc, sizeof doc, "<Document xmlns=\"urn:iso:std:iso:"
	                     "20022:tech:xsd:camt.053.001.04\"><BkToCstmrStmt>"
	                     "<Stmt><Ntry><AddtlNtryInf>");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(doc + n, sizeof doc - n, "<a>");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(doc + n, sizeof doc - n, "</a>");
	snprintf(doc + n, sizeof doc - n, "</AddtlNtryInf></Ntry></Stmt>"
	         "</BkToCstmrStmt></Document>");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "nested deeper");
	rec_free(r);
}

/* --- message types ------------------------------------------------------- */

static void camt086_refused_by_name(void **state)
{
	char path[PATH_CAP], type[64];
	struct rec *r;
	lg_error err;

	(void)state;
	tmp_write(path, "<?xml version=\"1.0\"?>\n"
	          "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.086.001.02\">"
	          "<BkSvcsBllgStmt/></Document>\n");
	assert_int_equal(read_file(path, &r, &err), LG_EDATA);
	assert_contains(err.msg, "camt.086.001.02 is not supported");
	assert_int_equal(r->calls, 0);
	lg_error_init(&err);
	assert_int_equal(imp_iso20022_sniff(path, type, sizeof type, &err), LG_EDATA);
	assert_contains(err.msg, "camt.086.001.02 is not supported");
	unlink(path);
	rec_free(r);
}

static void camt053_v01_and_pain002_v02_refused_too_old(void **state)
{
	struct rec *r;
	lg_error err;

	(void)state;
	assert_int_equal(read_text(
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.01\">"
		"<BkToCstmrStmt/></Document>", &r, &err), LG_EDATA);
	assert_contains(err.msg, "camt.053.001.01 is not supported");
	rec_free(r);
	assert_int_equal(read_text(
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.02\">"
		"<CstmrPmtStsRpt/></Document>", &r, &err), LG_EDATA);
	assert_contains(err.msg, "pain.002.001.02 is not supported");
	rec_free(r);
}

static void document_without_namespace_refused(void **state)
{
	struct rec *r;
	lg_error err;

	(void)state;
	assert_int_equal(read_text("<Document><BkToCstmrStmt/></Document>", &r,
	                           &err), LG_EDATA);
	assert_contains(err.msg, "no namespace");
	rec_free(r);
	assert_int_equal(read_text("<Foo xmlns=\"urn:x\"/>", &r, &err), LG_EDATA);
	assert_contains(err.msg, "no ISO 20022 Document element");
	rec_free(r);
}

static void root_not_matching_namespace_refused(void **state)
{
	struct rec *r;
	lg_error err;

	(void)state;
	assert_int_equal(read_text(
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\">\n"
		"<BkToCstmrDbtCdtNtfctn/></Document>", &r, &err), LG_EDATA);
	assert_contains(err.msg, "'BkToCstmrDbtCdtNtfctn' is not the root of a "
	                "camt.053.001.04 message");
	assert_contains(err.msg, ":2:");
	rec_free(r);
}

static void prefixed_namespaces_in_apphdr_envelope_accepted(void **state)
{
	struct rec *r;
	lg_error err;
	char path[PATH_CAP], type[64];
	const char *doc =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<env:BizMsg xmlns:env=\"urn:example:envelope\">\n"
		" <h:AppHdr xmlns:h=\"urn:iso:std:iso:20022:tech:xsd:head.001.001.02\">\n"
		"  <h:MsgDefIdr>camt.053.001.08</h:MsgDefIdr>\n"
		"  <h:BizMsgIdr>B1</h:BizMsgIdr>\n"
		" </h:AppHdr>\n"
		" <c:Document xmlns:c=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">\n"
		"  <c:BkToCstmrStmt>\n"
		"   <c:GrpHdr><c:MsgId>ENV-1</c:MsgId></c:GrpHdr>\n"
		"   <c:Stmt>\n"
		"    <c:Id>S-ENV</c:Id>\n"
		"    <c:Acct><c:Id><c:IBAN>DE00ENV</c:IBAN></c:Id><c:Ccy>EUR</c:Ccy></c:Acct>\n"
		"    <c:Ntry>\n"
		"     <c:Amt Ccy=\"EUR\">12.30</c:Amt>\n"
		"     <c:CdtDbtInd>DBIT</c:CdtDbtInd>\n"
		"     <c:Sts><c:Cd>BOOK</c:Cd></c:Sts>\n"
		"     <c:BookgDt><c:Dt>2024-02-01</c:Dt></c:BookgDt>\n"
		"     <c:NtryDtls><c:TxDtls>\n"
		"      <c:Refs><c:EndToEndId>E2E-ENV</c:EndToEndId></c:Refs>\n"
		"      <c:RltdPties><c:Cdtr><c:Pty><c:Nm>Shop &amp; Co</c:Nm></c:Pty></c:Cdtr>\n"
		"       <c:CdtrAcct><c:Id><c:Othr><c:Id>ACC-9</c:Id></c:Othr></c:Id></c:CdtrAcct>\n"
		"      </c:RltdPties>\n"
		"     </c:TxDtls></c:NtryDtls>\n"
		"    </c:Ntry>\n"
		"   </c:Stmt>\n"
		"  </c:BkToCstmrStmt>\n"
		" </c:Document>\n"
		"</env:BizMsg>\n";

	(void)state;
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(r->stmts_n, 1);
	assert_str(r->stmts[0].begin.message_type, "camt.053.001.08");
	assert_str(r->stmts[0].begin.msg_id, "ENV-1");
	assert_str(r->stmts[0].begin.account_id, "DE00ENV");
	assert_int_equal(r->lines_n, 1);
	assert_minor(r->lines[0].amount_minor, -1230);
	assert_str(r->lines[0].end_to_end_id, "E2E-ENV");
	/* a debit: the counterparty is the creditor */
	assert_str(r->lines[0].counterparty_name, "Shop & Co");
	assert_str(r->lines[0].counterparty_account, "ACC-9");
	assert_int_equal(r->lines[0].line_no, 13);
	rec_free(r);
	tmp_write(path, doc);
	lg_error_init(&err);
	assert_int_equal(imp_iso20022_sniff(path, type, sizeof type, &err), 0);
	assert_str(type, "camt.053.001.08");
	unlink(path);
}

/* --- amounts ------------------------------------------------------------- */

static void nonzero_digit_beyond_scale_refused_naming_entry_and_field(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e1[2048], e2[2048], both[4096];

	(void)state;
	ntry(e1, sizeof e1, "1.00", "CRDT", "BOOK", "");
	ntry(e2, sizeof e2, "1.005", "CRDT", "BOOK", "");
	snprintf(both, sizeof both, "%s%s", e1, e2);
	camt053(doc, "04", "102.00", both);
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, ":18: entry 1: field 'Amt': '1.005' CHF");
	assert_contains(err.msg, "more decimals than the asset's scale of 2");
	assert_int_equal(err.line, 18);
	rec_free(r);
}

static void trailing_zeros_beyond_scale_accepted_jpy_scale_zero(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e[2048];

	(void)state;
	camt053(doc, "04", "100.00", ntry(e, sizeof e, "12.34000", "CRDT", "INFO", ""));
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_minor(r->lines[0].amount_minor, 1234);
	rec_free(r);
	/* JPY has no decimals: "2700" is 2700, "2700.0" too, "2700.5" is not */
	snprintf(doc, sizeof doc,
	         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.04\">"
	         "<BkToCstmrDbtCdtNtfctn><Ntfctn><Id>N</Id>"
	         "<Ntry><Amt Ccy=\"JPY\">2700.0</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
	         "<Sts>BOOK</Sts></Ntry>"
	         "<Ntry><Amt Ccy=\"JPY\">2700.5</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
	         "<Sts>BOOK</Sts></Ntry>"
	         "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_int_equal(r->lines_n, 1);
	assert_minor(r->lines[0].amount_minor, -2700);
	assert_contains(err.msg, "entry 1: field 'Amt'");
	rec_free(r);
}

static void negative_and_malformed_amounts_refused(void **state)
{
	static const char *const bad[] = { "-1.00", "1,00", "1e3", "", " . " };
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e[2048];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		camt053(doc, "04", "100.00", ntry(e, sizeof e, bad[i], "CRDT", "BOOK", ""));
		assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
		assert_contains(err.msg, "entry 0: field 'Amt'");
		assert_int_equal(r->lines_n, 0);
		rec_free(r);
	}
}

static void unknown_currency_refused_naming_it(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP];

	(void)state;
	snprintf(doc, sizeof doc,
	         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">"
	         "<BkToCstmrDbtCdtNtfctn><Ntfctn><Id>N</Id>\n"
	         "<Ntry><Amt Ccy=\"XAU\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
	         "<Sts><Cd>BOOK</Cd></Sts></Ntry>"
	         "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, ":2: entry 0: field 'Amt': unknown currency 'XAU'");
	assert_int_equal(r->calls, 0);
	rec_free(r);
	/* the account's currency is checked when the statement begins */
	snprintf(doc, sizeof doc,
	         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
	         "<BkToCstmrStmt><Stmt><Id>S</Id>"
	         "<Acct><Id><IBAN>X</IBAN></Id><Ccy>ZZZ</Ccy></Acct>"
	         "</Stmt></BkToCstmrStmt></Document>");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "statement 0: field 'Acct/Ccy': unknown currency 'ZZZ'");
	rec_free(r);
}

static void entry_in_other_currency_than_statement_refused(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP];

	(void)state;
	camt053(doc, "04", "100.00",
	        "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
	        "<Sts>BOOK</Sts></Ntry>\n");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "entry 0: field 'Amt': currency 'EUR' differs "
	                "from the statement's 'CHF'");
	rec_free(r);
}

/* --- batches, reversals, status ------------------------------------------ */

static void batch_children_not_summing_record_difference(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e[4096];

	(void)state;
	ntry(e, sizeof e, "100.00", "CRDT", "BOOK",
	     "<NtryDtls>\n"
	     "<Btch><PmtInfId>PI-7</PmtInfId><NbOfTxs>3</NbOfTxs></Btch>\n"
	     "<TxDtls><Refs><EndToEndId>A</EndToEndId></Refs>"
	     "<Amt Ccy=\"CHF\">60.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>\n"
	     "<TxDtls><Refs><EndToEndId>B</EndToEndId></Refs>"
	     "<Amt Ccy=\"CHF\">45.00</Amt></TxDtls>\n"       /* takes CRDT */
	     "<TxDtls><Refs><EndToEndId>C</EndToEndId></Refs>"
	     "<Amt Ccy=\"CHF\">2.50</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls>\n"
	     "</NtryDtls>\n");
	camt053(doc, "04", "200.00", e);
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(r->lines_n, 4);
	assert_true(r->lines[0].is_batch);
	assert_int_equal(r->lines[0].children, 3);
	/* 60 + 45 - 2.50 = 102.50; minus the entry's 100.00 */
	assert_minor(r->lines[0].batch_difference_minor, 250);
	assert_str(r->lines[0].batch_id, "PI-7");
	assert_minor(r->lines[1].amount_minor, 6000);
	assert_minor(r->lines[2].amount_minor, 4500);
	assert_minor(r->lines[3].amount_minor, -250);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(r->lines[i].child_index, i - 1);
		assert_int_equal(r->lines[i].entry_index, 0);
		assert_str(r->lines[i].batch_id, "PI-7");
		assert_str(r->lines[i].booking_date, "2024-01-02");
		assert_str(r->lines[i].status, "BOOK");
	}
	assert_str(r->lines[3].end_to_end_id, "C");
	assert_int_equal(r->lines[1].line_no, 18);
	assert_minor(r->stmts[0].end.booked_sum_minor, 10000);
	rec_free(r);
}

static void v02_batch_child_amount_from_amtdtls_txamt(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e[4096];

	(void)state;
	ntry(e, sizeof e, "30.00", "DBIT", "BOOK",
	     "<NtryDtls>"
	     "<TxDtls><AmtDtls><TxAmt><Amt Ccy=\"CHF\">10.00</Amt></TxAmt></AmtDtls>"
	     "<RltdPties><Cdtr><Nm>One</Nm></Cdtr></RltdPties></TxDtls>"
	     "<TxDtls><AmtDtls><TxAmt><Amt Ccy=\"CHF\">20.00</Amt></TxAmt></AmtDtls>"
	     "<RltdPties><Cdtr><Nm>Two</Nm></Cdtr></RltdPties></TxDtls>"
	     "</NtryDtls>\n");
	camt053(doc, "02", "70.00", e);
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(r->lines_n, 3);
	assert_minor(r->lines[0].batch_difference_minor, 0);
	assert_minor(r->lines[1].amount_minor, -1000);
	assert_minor(r->lines[2].amount_minor, -2000);
	assert_str(r->lines[2].counterparty_name, "Two");
	rec_free(r);
}

static void batch_child_without_amount_refused(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e[4096];

	(void)state;
	ntry(e, sizeof e, "30.00", "DBIT", "BOOK",
	     "<NtryDtls>"
	     "<TxDtls><Amt Ccy=\"CHF\">30.00</Amt></TxDtls>\n"
	     "<TxDtls><Refs><EndToEndId>X</EndToEndId></Refs></TxDtls>"
	     "</NtryDtls>\n");
	camt053(doc, "04", "70.00", e);
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "entry 0: field 'NtryDtls/TxDtls/Amt'");
	assert_contains(err.msg, "transaction 1");
	rec_free(r);
}

static void reversal_flag_read_and_counterparty_roles_flip(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e[4096];

	(void)state;
	/* A returned credit: booked DBIT, RvslInd true, the parties of the
	 * original credit, so the counterparty is still the debtor. */
	snprintf(e, sizeof e,
	         "<Ntry><Amt Ccy=\"CHF\">25.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
	         "<RvslInd>true</RvslInd><Sts>BOOK</Sts>"
	         "<BookgDt><Dt>2024-01-02</Dt></BookgDt>"
	         "<NtryDtls><TxDtls><RltdPties>"
	         "<Dbtr><Nm>Payer</Nm></Dbtr><Cdtr><Nm>Us</Nm></Cdtr>"
	         "</RltdPties></TxDtls></NtryDtls></Ntry>\n"
	         "<Ntry><Amt Ccy=\"CHF\">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
	         "<RvslInd>false</RvslInd><Sts>BOOK</Sts></Ntry>\n");
	camt053(doc, "04", "80.00", e);
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(r->lines_n, 2);
	assert_true(r->lines[0].reversal);
	assert_minor(r->lines[0].amount_minor, -2500);
	assert_str(r->lines[0].counterparty_name, "Payer");
	assert_false(r->lines[1].reversal);
	assert_minor(r->stmts[0].end.booked_sum_minor, -2000);
	rec_free(r);
	camt053(doc, "04", "80.00",
	        "<Ntry><Amt Ccy=\"CHF\">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
	        "<RvslInd>yes</RvslInd><Sts>BOOK</Sts></Ntry>\n");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "field 'RvslInd'");
	rec_free(r);
}

static void info_and_pending_entries_excluded_from_booked_sum(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], a[1024], b[1024], c[1024], all[4096];

	(void)state;
	ntry(a, sizeof a, "10.00", "CRDT", "BOOK", "");
	ntry(b, sizeof b, "500.00", "DBIT", "INFO", "");
	ntry(c, sizeof c, "7.00", "CRDT", "PDNG", "");
	snprintf(all, sizeof all, "%s%s%s", a, b, c);
	camt053(doc, "04", "110.00", all);
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(r->lines_n, 3);
	assert_str(r->lines[1].status, "INFO");
	assert_minor(r->lines[1].amount_minor, -50000);
	assert_minor(r->stmts[0].end.booked_sum_minor, 1000);
	assert_int_equal(r->stmts[0].end.booked_entries, 1);
	rec_free(r);
}

static void several_statements_in_one_file_each_begin_and_end(void **state)
{
	struct rec *r;
	lg_error err;
	const char *doc =
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\">"
		"<BkToCstmrStmt><GrpHdr><MsgId>G</MsgId></GrpHdr>"
		"<Stmt><Id>A</Id><ElctrncSeqNb>1</ElctrncSeqNb>"
		"<Acct><Id><IBAN>I1</IBAN></Id><Ccy>CHF</Ccy></Acct>"
		"<Ntry><Amt Ccy=\"CHF\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
		"<Sts>BOOK</Sts></Ntry></Stmt>"
		"<Stmt><Id>B</Id>"
		"<Acct><Id><IBAN>I2</IBAN></Id><Ccy>EUR</Ccy></Acct></Stmt>"
		"<Stmt><Id>C</Id>"
		"<Acct><Id><IBAN>I3</IBAN></Id><Ccy>USD</Ccy></Acct>"
		"<Ntry><Amt Ccy=\"USD\">3.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
		"<Sts>BOOK</Sts></Ntry></Stmt>"
		"</BkToCstmrStmt></Document>";

	(void)state;
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(r->stmts_n, 3);
	assert_str(r->stmts[0].begin.statement_id, "A");
	assert_int_equal(r->stmts[0].begin.seq_nb, 1);
	assert_str(r->stmts[1].begin.asset, "EUR");
	assert_int_equal(r->stmts[1].begin.seq_nb, -1);
	assert_int_equal(r->stmts[1].end.booked_entries, 0);
	assert_str(r->stmts[2].end.account_id, "I3");
	assert_int_equal(r->lines_n, 2);
	assert_int_equal(r->lines[1].entry_index, 1); /* counted across the file */
	assert_minor(r->stmts[2].end.booked_sum_minor, -300);
	rec_free(r);
}

static void pain002_without_tx_reports_group_or_block_status(void **state)
{
	struct rec *r;
	lg_error err;

	(void)state;
	assert_int_equal(read_text(
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\">"
		"<CstmrPmtStsRpt><GrpHdr><MsgId>R1</MsgId></GrpHdr>"
		"<OrgnlGrpInfAndSts><OrgnlMsgId>O1</OrgnlMsgId><GrpSts>ACCP</GrpSts>"
		"</OrgnlGrpInfAndSts></CstmrPmtStsRpt></Document>", &r, &err), 0);
	assert_int_equal(r->statuses_n, 1);
	assert_str(r->statuses[0].message_type, "pain.002.001.10");
	assert_str(r->statuses[0].status, "ACCP");
	assert_str(r->statuses[0].orig_msg_id, "O1");
	assert_null(r->statuses[0].orig_end_to_end_id);
	rec_free(r);
	assert_int_equal(read_text(
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03\">"
		"<CstmrPmtStsRpt><GrpHdr><MsgId>R2</MsgId></GrpHdr>"
		"<OrgnlGrpInfAndSts><OrgnlMsgId>O2</OrgnlMsgId></OrgnlGrpInfAndSts>"
		"<OrgnlPmtInfAndSts><OrgnlPmtInfId>P1</OrgnlPmtInfId>"
		"<PmtInfSts>RJCT</PmtInfSts><StsRsnInf><Rsn><Cd>AM04</Cd></Rsn>"
		"<AddtlInf>one</AddtlInf><AddtlInf>two</AddtlInf></StsRsnInf>"
		"</OrgnlPmtInfAndSts>"
		"<OrgnlPmtInfAndSts><OrgnlPmtInfId>P2</OrgnlPmtInfId>"
		"<PmtInfSts>ACSC</PmtInfSts>"
		"<TxInfAndSts><OrgnlEndToEndId>E1</OrgnlEndToEndId></TxInfAndSts>"
		"</OrgnlPmtInfAndSts>"
		"</CstmrPmtStsRpt></Document>", &r, &err), 0);
	assert_int_equal(r->statuses_n, 2);
	assert_str(r->statuses[0].orig_pmt_inf_id, "P1");
	assert_str(r->statuses[0].status, "RJCT");
	assert_str(r->statuses[0].reason_code, "AM04");
	assert_str(r->statuses[0].reason_text, "one; two");
	assert_str(r->statuses[1].orig_end_to_end_id, "E1");
	assert_str(r->statuses[1].status, "ACSC"); /* inherited from the block */
	assert_str(r->statuses[1].orig_pmt_inf_id, "P2");
	rec_free(r);
}

/* --- fields, raw_json, bounds -------------------------------------------- */

static void raw_json_escapes_and_numbers_repeated_paths(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP], e[4096];

	(void)state;
	ntry(e, sizeof e, "1.00", "CRDT", "BOOK",
	     "<NtryDtls><TxDtls><RmtInf>"
	     "<Ustrd>say \"hi\" \\ ok</Ustrd>"
	     "<Ustrd>line&#10;two&#9;tab&#13;</Ustrd>"
	     "<Ustrd><![CDATA[<cdata> & more]]></Ustrd>"
	     "<Ustrd>a<!-- split -->b</Ustrd>"
	     "</RmtInf></TxDtls></NtryDtls>\r\n"
	     "<AddtlNtryInf>Z\xc3\xbcrich</AddtlNtryInf>\r\n");
	camt053(doc, "04", "101.00", e);
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(r->lines_n, 1);
	assert_str(r->lines[0].remittance,
	           "say \"hi\" \\ ok; line\ntwo\ttab; <cdata> & more; ab");
	assert_contains(r->lines[0].raw_json,
	                "\"NtryDtls/TxDtls/RmtInf/Ustrd\":\"say \\\"hi\\\" \\\\ ok\"");
	assert_contains(r->lines[0].raw_json,
	                "\"NtryDtls/TxDtls/RmtInf/Ustrd[2]\":\"line\\ntwo\\ttab\"");
	assert_contains(r->lines[0].raw_json, "\"NtryDtls/TxDtls/RmtInf/Ustrd[4]\":\"ab\"");
	assert_contains(r->lines[0].raw_json, "\"Amt\":\"1.00\",\"Amt@Ccy\":\"CHF\"");
	assert_contains(r->lines[0].raw_json, "\"AddtlNtryInf\":\"Z\xc3\xbcrich\"");
	/* document order */
	assert_true(strstr(r->lines[0].raw_json, "\"Amt\"") <
	            strstr(r->lines[0].raw_json, "\"AddtlNtryInf\""));
	rec_free(r);
}

static void raw_json_bounded_with_truncation_marker(void **state)
{
	struct rec *r;
	lg_error err;
	char *doc = malloc(DOC_CAP * 4), *inner = malloc(DOC_CAP * 2);
	size_t n = 0;

	(void)state;
	assert_non_null(doc);
	assert_non_null(inner);
	n += (size_t)snprintf(inner + n, DOC_CAP * 2 - n, "<NtryDtls><TxDtls><RmtInf>");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(inner + n, DOC_CAP * 2 - n,
		                      "<Ustrd>%0100d</Ustrd>", i);
	snprintf(inner + n, DOC_CAP * 2 - n, "</RmtInf></TxDtls></NtryDtls>");
	snprintf(doc, DOC_CAP * 4,
	         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\">"
	         "<BkToCstmrStmt><Stmt><Id>S</Id><Acct><Ccy>CHF</Ccy></Acct>"
	         "<Ntry><Amt Ccy=\"CHF\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
	         "<Sts>BOOK</Sts>%s</Ntry></Stmt></BkToCstmrStmt></Document>", inner);
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(r->lines_n, 1);
	/* rec_line checked the reader's raw_json against IMP_RAW_MAX; here
	 * raw_json is the object its pairs stand for, names spelt out. */
	assert_contains(r->lines[0].raw_json, ",\"_truncated\":true}");
	/* the remittance is cut at IMP_FIELD_MAX, not refused: free text */
	assert_true(strlen(r->lines[0].remittance) == IMP_FIELD_MAX - 1);
	rec_free(r);
	free(inner);
	free(doc);
}

static void overlong_reference_refused_overlong_name_cut(void **state)
{
	struct rec *r;
	lg_error err;
	char *doc = malloc(DOC_CAP), *e = malloc(DOC_CAP), *big = malloc(2000);
	char *n = malloc(DOC_CAP);

	(void)state;
	memset(big, 'x', 1500);
	big[1500] = '\0';
	snprintf(e, DOC_CAP, "<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>%s</Nm></Dbtr>"
	         "</RltdPties></TxDtls></NtryDtls>\n", big);
	camt053(doc, "04", "101.00", ntry(n, DOC_CAP, "1.00", "CRDT", "BOOK", e));
	assert_int_equal(read_text(doc, &r, &err), 0);
	assert_int_equal(strlen(r->lines[0].counterparty_name), IMP_FIELD_MAX - 1);
	rec_free(r);
	snprintf(e, DOC_CAP, "<NtryDtls><TxDtls><Refs><EndToEndId>%s</EndToEndId>"
	         "</Refs></TxDtls></NtryDtls>\n", big);
	camt053(doc, "04", "101.00", ntry(n, DOC_CAP, "1.00", "CRDT", "BOOK", e));
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "entry 0: field 'NtryDtls/TxDtls/Refs/EndToEndId': "
	                "longer than 1023 bytes");
	rec_free(r);
	free(big);
	free(n);
	free(e);
	free(doc);
}

static void bad_date_and_indicator_refused_naming_field(void **state)
{
	struct rec *r;
	lg_error err;
	char doc[DOC_CAP];

	(void)state;
	camt053(doc, "04", "100.00",
	        "<Ntry><Amt Ccy=\"CHF\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
	        "<Sts>BOOK</Sts><BookgDt><Dt>2024-02-30</Dt></BookgDt></Ntry>\n");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "entry 0: field 'BookgDt/Dt': '2024-02-30'");
	rec_free(r);
	camt053(doc, "04", "100.00",
	        "<Ntry><Amt Ccy=\"CHF\">1.00</Amt><CdtDbtInd>CRED</CdtDbtInd>"
	        "<Sts>BOOK</Sts></Ntry>\n");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "entry 0: field 'CdtDbtInd': 'CRED' is not CRDT or DBIT");
	rec_free(r);
	camt053(doc, "04", "100.00",
	        "<Ntry><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>\n");
	assert_int_equal(read_text(doc, &r, &err), LG_EDATA);
	assert_contains(err.msg, "entry 0: field 'Amt': missing");
	rec_free(r);
}

static void missing_file_is_enoinput(void **state)
{
	struct rec *r;
	lg_error err;
	char type[64];

	(void)state;
	assert_int_equal(read_file("/nonexistent/clearbook/camt.xml", &r, &err),
	                 LG_ENOINPUT);
	assert_contains(err.msg, "/nonexistent/clearbook/camt.xml");
	rec_free(r);
	lg_error_init(&err);
	assert_int_equal(imp_iso20022_sniff("/nonexistent/x.xml", type, sizeof type,
	                                    &err), LG_ENOINPUT);
}

static void sink_error_stops_the_read_and_is_returned(void **state)
{
	char path[PATH_CAP];
	struct rec *r;
	imp_sink sink;
	lg_error err;

	(void)state;
	CORPUS(path, F_PF053); /* may skip: allocate nothing before it */
	r = calloc(1, sizeof *r);
	assert_non_null(r);
	sink = (imp_sink){ r, rec_begin, rec_line, rec_end, rec_status };
	r->fail_at_call = 3; /* begin, line 0, then line 1 refuses */
	lg_error_init(&err);
	assert_int_equal(imp_iso20022_read(path, test_scale, NULL, &sink, &err),
	                 LG_EDATA);
	assert_str(err.msg, "sink refused call 3");
	assert_int_equal(r->calls, 3);
	assert_int_equal(r->lines_n, 1);
	rec_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corpus_postfinance_camt053_v04_five_booked_and_closing_break),
		cmocka_unit_test(corpus_camt052_v04_two_debits_with_end_to_end_ids),
		cmocka_unit_test(corpus_camt054_esr_two_batches_six_children_sum_to_entries),
		cmocka_unit_test(corpus_camt054_return_carries_end_to_end_id_and_ac01),
		cmocka_unit_test(corpus_pain002_six_namespace_rejected_ac01),
		cmocka_unit_test(corpus_genkgo_camt053_v08_sts_cd_and_pty_nm),
		cmocka_unit_test(corpus_genkgo_camt053_v02_five_decimals_exact),
		cmocka_unit_test(corpus_genkgo_camt054_v08_uetr_and_integer_sek),
		cmocka_unit_test(sniff_names_each_corpus_message_type),
		cmocka_unit_test(xxe_external_entity_refused_before_any_sink_call),
		cmocka_unit_test(billion_laughs_refused_quickly),
		cmocka_unit_test(dtd_without_entities_refused),
		cmocka_unit_test(undeclared_entity_reference_refused),
		cmocka_unit_test(malformed_xml_error_names_file_and_line),
		cmocka_unit_test(nesting_deeper_than_limit_refused),
		cmocka_unit_test(camt086_refused_by_name),
		cmocka_unit_test(camt053_v01_and_pain002_v02_refused_too_old),
		cmocka_unit_test(document_without_namespace_refused),
		cmocka_unit_test(root_not_matching_namespace_refused),
		cmocka_unit_test(prefixed_namespaces_in_apphdr_envelope_accepted),
		cmocka_unit_test(nonzero_digit_beyond_scale_refused_naming_entry_and_field),
		cmocka_unit_test(trailing_zeros_beyond_scale_accepted_jpy_scale_zero),
		cmocka_unit_test(negative_and_malformed_amounts_refused),
		cmocka_unit_test(unknown_currency_refused_naming_it),
		cmocka_unit_test(entry_in_other_currency_than_statement_refused),
		cmocka_unit_test(batch_children_not_summing_record_difference),
		cmocka_unit_test(v02_batch_child_amount_from_amtdtls_txamt),
		cmocka_unit_test(batch_child_without_amount_refused),
		cmocka_unit_test(reversal_flag_read_and_counterparty_roles_flip),
		cmocka_unit_test(info_and_pending_entries_excluded_from_booked_sum),
		cmocka_unit_test(several_statements_in_one_file_each_begin_and_end),
		cmocka_unit_test(pain002_without_tx_reports_group_or_block_status),
		cmocka_unit_test(raw_json_escapes_and_numbers_repeated_paths),
		cmocka_unit_test(raw_json_bounded_with_truncation_marker),
		cmocka_unit_test(overlong_reference_refused_overlong_name_cut),
		cmocka_unit_test(bad_date_and_indicator_refused_naming_field),
		cmocka_unit_test(missing_file_is_enoinput),
		cmocka_unit_test(sink_error_stops_the_read_and_is_returned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
