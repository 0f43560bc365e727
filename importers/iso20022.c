/*
 * iso20022.c - the ISO 20022 XML reader: camt.052 reports, camt.053
 * statements and camt.054 notifications into statement lines; pain.002
 * payment status reports into payment statuses.
 *
 * Bank files are the outside truth that clearing reconciles against, and
 * they arrive in many versions and dialects of one standard.  This file is
 * the only place that knows their layout and the only user of libxml2.
 *
 * How it reads: libxml2's streaming xmlTextReader walks the file once,
 * keeping a stack of element local names, so prefixes, envelopes with an
 * application header and bank-specific namespaces do not matter; only the
 * Document element's namespace is looked at, to tell the message type.
 * Statement fields are kept as they pass.  The leaves of one Ntry are
 * buffered (with hard caps) because an entry's line has to say whether it is
 * a batch and by how much its children differ from it, which is known only
 * at the entry's end tag.  Memory is therefore bounded by the largest entry,
 * never by the file.
 *
 * Safety: entities are never substituted, no DTD is loaded, nothing is
 * fetched from the network, and a document with a document type declaration
 * or an entity reference is refused outright (billion laughs, XXE).  The
 * file is opened by us and handed over as a descriptor, so libxml2 never
 * interprets the path as a URI nor decompresses it behind our back.
 */
#include "importers.h"

#include <libxml/xmlreader.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- limits -------------------------------------------------------------- */

#define ISO_DEPTH_MAX 64                 /* open elements, envelope included */
#define ISO_PATH_MAX 1024                /* bytes of the joined local names */
#define ISO_ENTRY_TEXT_MAX ((size_t)32 << 20) /* bytes buffered for one Ntry */
#define ISO_ENTRY_LEAVES_MAX ((size_t)1 << 20) /* leaves buffered for one Ntry */
#define ISO_INTERN_SLOTS 1024            /* hash slots for an entry's paths */
#define ISO_INTERN_MAX 768               /* distinct paths shared per entry */
#define ISO_CHILDREN_MAX ((size_t)100000)     /* TxDtls of one entry */
#define ISO_ENTRIES_MAX 50000000L        /* entries in one file */
#define ISO_STATEMENTS_MAX 1000000L      /* Stmt/Rpt/Ntfctn in one file */
#define ISO_STATUSES_MAX 50000000L       /* pain.002 statuses in one file */
#define ISO_NODES_MAX 2000000000L        /* reader nodes in one file */
#define ISO_CCY_MAX 16                   /* bytes of a Ccy attribute */
#define ISO_TYPE_MAX 32                  /* "camt.053.001.04" and slack */
#define ISO_DATE_MAX 11                  /* "YYYY-MM-DD" and NUL */
#define ISO_CODE_MAX 64                  /* bytes of an indicator or code */
#define ISO_JSON_RESERVE 32              /* kept free for the closing marker */
#define ISO_XML_ERR_MAX 256              /* bytes kept of libxml2's message */
#define ISO_NONE UINT32_MAX              /* no string offset */
#define ISO_NO_VIEW (-2L)                /* a lookup that finds nothing */
#define ISO_DICT_KEYS_MAX 2048           /* raw-field names per statement */
#define ISO_DICT_SLOTS 4096              /* hash slots for them */
#define ISO_DICT_TEXT_MAX ((size_t)128 << 10) /* bytes of those names */
#define ISO_DICT_JSON_MAX ((size_t)256 << 10) /* bytes of their JSON array */

/* Always on, as in the ledger: an assertion failing means our code is
 * wrong, and a crash beats handing a wrong line to the caller. */
#define ISO_ASSERT(cond)                                                     \
	do {                                                                     \
		if (!(cond))                                                         \
			iso_assert_fail(#cond, __FILE__, __LINE__);                      \
	} while (0)

static _Noreturn void iso_assert_fail(const char *what, const char *file,
                                      int line)
{
	fprintf(stderr, "clearbook: internal error: assertion '%s' failed at "
	        "%s:%d\n", what, file, line);
	abort();
}

/* --- types --------------------------------------------------------------- */

enum iso_kind { ISO_CAMT, ISO_PAIN002 };

/* A supported message family: its root element and, for camt, the element
 * that holds one statement, report or notification. */
struct iso_family {
	const char *prefix;     /* "camt.053" */
	enum iso_kind kind;
	const char *root;       /* "BkToCstmrStmt" */
	const char *container;  /* "Stmt" */
	int version_min;        /* oldest .001.NN read */
};

static const struct iso_family iso_families[] = {
	{ "camt.052", ISO_CAMT, "BkToCstmrAcctRpt", "Rpt", 2 },
	{ "camt.053", ISO_CAMT, "BkToCstmrStmt", "Stmt", 2 },
	{ "camt.054", ISO_CAMT, "BkToCstmrDbtCdtNtfctn", "Ntfctn", 2 },
	{ "pain.002", ISO_PAIN002, "CstmrPmtStsRpt", NULL, 3 },
};

/* A growable buffer with a hard cap (curl's dynbuf idea). */
struct iso_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max_bytes;
};

/* One text-only element of an Ntry, buffered until the entry ends. */
struct iso_leaf {
	uint32_t path;    /* arena offset: local names relative to Ntry */
	uint32_t text;    /* arena offset: trimmed text */
	uint32_t ccy;     /* arena offset of the Ccy attribute, or ISO_NONE */
	int32_t tx;       /* index of its TxDtls, -1 for the entry itself */
	long line;        /* of the leaf's start tag */
	int truncated;    /* text was longer than IMP_FIELD_MAX - 1 bytes */
};

/* One TxDtls of the buffered entry. */
struct iso_tx {
	amount_minor_t amount_minor; /* signed; set for batch children */
	size_t first, end;           /* its leaves: [first, end) */
	long line;
	int sign;                    /* +1 CRDT, -1 DBIT; set for children */
};

/* Paths repeat in every TxDtls of a batch; each distinct one is stored
 * once per entry.  Slots hold arena offset + 1, 0 when empty. */
struct iso_intern {
	uint32_t slot[ISO_INTERN_SLOTS];
	uint16_t used[ISO_INTERN_MAX];
	size_t n;
};

/* The Ntry being read. */
struct iso_ntry {
	struct iso_intern paths;
	struct iso_buf arena;   /* NUL-terminated strings */
	struct iso_buf leaves;  /* struct iso_leaf[] */
	struct iso_buf txs;     /* struct iso_tx[] */
	long index;             /* entry_index */
	long line;
	int level;              /* depth of the Ntry element, -1 outside */
	int tx_level;           /* depth of the open TxDtls, -1 outside */
	long tx_open;           /* index of the open TxDtls, -1 outside */
	int has_btch;           /* NtryDtls/Btch seen */
};

/* A balance as read, parsed once the statement's asset is known. */
struct iso_bal {
	int seen;
	char code[ISO_CODE_MAX];
	char amt[AMOUNT_TEXT_MAX + 1];
	char ccy[ISO_CCY_MAX];
	char ind[ISO_CODE_MAX];
	long line;
};

/* The Stmt/Rpt/Ntfctn being read. */
struct iso_stmt {
	int level;              /* depth of the container element, -1 outside */
	int bal_level;          /* depth of the open Bal, -1 outside */
	int begun;              /* statement_begin called */
	long index;             /* 0-based, for messages */
	char id[IMP_FIELD_MAX];
	char account[IMP_FIELD_MAX];
	char acct_ccy[ISO_CCY_MAX];
	char asset[ISO_CCY_MAX];
	char from[ISO_DATE_MAX], to[ISO_DATE_MAX];
	long long seq_nb;
	struct iso_bal cur, opbd, prcd, clbd;
	imp_statement pub;      /* what the sink sees; strings point above */
};

/* pain.002 state: the group, the payment information block and the
 * transaction being read.  Fields are "" when absent. */
struct iso_pain_sts {
	char sts[ISO_CODE_MAX];
	char rsn[ISO_CODE_MAX];
	char info[IMP_FIELD_MAX];
};

struct iso_pain {
	int grp_level, pmt_level, tx_level;
	long pmt_blocks;        /* OrgnlPmtInfAndSts seen */
	long pmt_txs;           /* TxInfAndSts in the open block */
	long statuses;          /* emitted */
	long pmt_line, tx_line;
	char orig_msg_id[IMP_FIELD_MAX];
	char pmt_id[IMP_FIELD_MAX];
	char instr_id[IMP_FIELD_MAX];
	char e2e_id[IMP_FIELD_MAX];
	struct iso_pain_sts grp, pmt, tx;
};

/* Text built for one statement line. */
struct iso_line_bufs {
	char booking[ISO_DATE_MAX], value[ISO_DATE_MAX];
	char tx_code[IMP_FIELD_MAX];
	char remittance[IMP_FIELD_MAX];
	char charges[IMP_FIELD_MAX];
	char oddity[IMP_FIELD_MAX];
	char key[ISO_PATH_MAX + 32];
	char raw[IMP_RAW_MAX];
};

struct iso_frame {
	size_t off;             /* where the element's name starts in path */
	int has_child;
	long line;
};

/* The raw-field names of the statement being read, each stored once:
 * a line's raw fields are pairs of a name's index and its value, and the
 * statement carries the names as a JSON array (imp_statement.raw_header),
 * so that the paths are not written again for every line. */
struct iso_dict {
	uint32_t slot[ISO_DICT_SLOTS];    /* name index + 1, 0 when empty */
	uint32_t off[ISO_DICT_KEYS_MAX];  /* where each name starts in text */
	size_t n;
	char text[ISO_DICT_TEXT_MAX];
	size_t text_len;
	char json[ISO_DICT_JSON_MAX];     /* ["name", ...] */
	size_t json_len;
	/* A path's index by its arena offset in the current entry, which is
	 * the same for every TxDtls of a batch: valid while gen matches. */
	struct { uint32_t off, gen; long idx; } cache[256];
	uint32_t gen;
};

/* The whole reader state: one per call, on the heap, nothing global. */
struct iso_rd {
	const char *path;
	imp_scale_fn scale;
	void *scale_ctx;
	const imp_sink *sink;
	lg_error *err;
	xmlTextReaderPtr xr;
	int fd;                    /* the file, read through in[] */
	char *in;
	size_t in_pos, in_len;

	/* libxml2's first error or warning-free failure */
	int xml_err_set;
	long xml_err_line;
	char xml_err[ISO_XML_ERR_MAX];

	/* element stack and the text of the current element */
	struct iso_frame stack[ISO_DEPTH_MAX];
	int depth;
	char pathbuf[ISO_PATH_MAX];
	size_t path_len;
	char text[IMP_FIELD_MAX];
	size_t text_len;
	int text_truncated;
	char ccy[ISO_CCY_MAX];
	int ccy_too_long;

	/* message */
	int doc_level;          /* depth of Document, -1 outside */
	int doc_seen;
	const struct iso_family *fam;
	char msg_type[ISO_TYPE_MAX];
	char msg_id[IMP_FIELD_MAX];
	long entries;
	long statements;

	/* one-entry cache of the scale callback */
	char scale_ccy[ISO_CCY_MAX];
	int scale_cached;

	struct iso_stmt st;
	struct iso_ntry nt;
	struct iso_pain pn;
	struct iso_line_bufs lb;
	struct iso_dict *dict;  /* allocated at the first statement: large */
};

/* What an entry says about itself, shared by its line and its children. */
struct iso_entry {
	long index;
	long line;
	const char *ccy;
	int scale;
	amount_minor_t amount_minor;  /* signed */
	int sign;                     /* +1 CRDT, -1 DBIT */
	int reversal;
	int booked;
	const char *status;
	const char *entry_ref;
	const char *batch_id;
	const char *booking_date;
	const char *value_date;
	const char *tx_code;          /* the entry's own BkTxCd */
	long children;                /* TxDtls */
	int is_batch;
	amount_minor_t batch_difference_minor;
	char booking[ISO_DATE_MAX], value[ISO_DATE_MAX];
	char tx_code_buf[IMP_FIELD_MAX];
};

enum iso_line_mode { LN_ENTRY, LN_BATCH, LN_CHILD };

static int iso_open(const char *path, int *fd_out, lg_error *err);
static struct iso_rd *rd_new(const char *path, imp_scale_fn scale,
                             void *scale_ctx, const imp_sink *sink,
                             lg_error *err);
static void rd_free(struct iso_rd *rd);
static int rd_reader(struct iso_rd *rd, int fd);
static int iso_walk(struct iso_rd *rd, int sniff_only);

/* --- public entry points ------------------------------------------------- */

int imp_iso20022_read(const char *path, imp_scale_fn scale, void *scale_ctx,
                      const imp_sink *sink, lg_error *err)
{
	struct iso_rd *rd = NULL;
	int fd = -1;
	int rc;

	ISO_ASSERT(path != NULL && scale != NULL && sink != NULL);
	rc = iso_open(path, &fd, err);
	if (rc != 0)
		goto out;
	rd = rd_new(path, scale, scale_ctx, sink, err);
	if (!rd) {
		rc = lg_error_set(err, LG_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	rc = rd_reader(rd, fd);
	if (rc != 0)
		goto out;
	rc = iso_walk(rd, 0);
out:
	rd_free(rd);
	if (fd >= 0)
		close(fd);
	return rc;
}

int imp_iso20022_sniff(const char *path, char *type, size_t type_cap,
                       lg_error *err)
{
	struct iso_rd *rd = NULL;
	int fd = -1;
	int rc;

	ISO_ASSERT(path != NULL && type != NULL);
	if (type_cap < ISO_TYPE_MAX)
		return lg_error_set(err, LG_EUSAGE, "%s: type buffer of %zu bytes is "
		                    "too small", path, type_cap);
	type[0] = '\0';
	rc = iso_open(path, &fd, err);
	if (rc != 0)
		goto out;
	rd = rd_new(path, NULL, NULL, NULL, err);
	if (!rd) {
		rc = lg_error_set(err, LG_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	rc = rd_reader(rd, fd);
	if (rc != 0)
		goto out;
	rc = iso_walk(rd, 1);
	if (rc != 0)
		goto out;
	ISO_ASSERT(rd->doc_seen && rd->msg_type[0] != '\0');
	snprintf(type, type_cap, "%s", rd->msg_type);
out:
	rd_free(rd);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* --- errors -------------------------------------------------------------- */

/* "FILE:LINE: message"; sets err->line.  Returns code. */
__attribute__((format(printf, 4, 5)))
static int iso_fail(struct iso_rd *rd, int code, long line, const char *fmt,
                    ...)
{
	char msg[LG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	lg_error_set(rd->err, code, "%s:%ld: %s", rd->path, line, msg);
	if (rd->err)
		rd->err->line = line;
	return code;
}

/* "FILE:LINE: entry N: field 'F': message" (or statement N, status N):
 * everything a reader of the error needs to find the spot. */
__attribute__((format(printf, 6, 7)))
static int field_fail(struct iso_rd *rd, long line, const char *unit,
                      long index, const char *field, const char *fmt, ...)
{
	char msg[LG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return iso_fail(rd, LG_EDATA, line, "%s %ld: field '%s': %s", unit, index,
	                field, msg);
}

/* libxml2 reports here instead of on stderr; the first error is kept and
 * refuses the file (warnings are ignored). */
static void iso_xml_error(void *arg, xmlErrorPtr e)
{
	struct iso_rd *rd = arg;
	size_t n;

	if (!e || e->level < XML_ERR_ERROR || rd->xml_err_set)
		return;
	rd->xml_err_set = 1;
	rd->xml_err_line = e->line;
	snprintf(rd->xml_err, sizeof rd->xml_err, "%s",
	         e->message ? e->message : "unknown error");
	n = strlen(rd->xml_err);
	while (n > 0 && (rd->xml_err[n - 1] == '\n' || rd->xml_err[n - 1] == ' '))
		rd->xml_err[--n] = '\0';
	/* Messages start upper case; ours are lower case throughout. */
	if (rd->xml_err[0] >= 'A' && rd->xml_err[0] <= 'Z' &&
	    !(rd->xml_err[1] >= 'A' && rd->xml_err[1] <= 'Z'))
		rd->xml_err[0] = (char)(rd->xml_err[0] - 'A' + 'a');
}

static int xml_fail(struct iso_rd *rd)
{
	long line = rd->xml_err_line;

	if (line <= 0)
		line = xmlTextReaderGetParserLineNumber(rd->xr);
	if (rd->xml_err_set)
		return iso_fail(rd, LG_EDATA, line, "malformed XML: %s", rd->xml_err);
	return iso_fail(rd, LG_EDATA, line, "malformed XML");
}

/* --- opening ------------------------------------------------------------- */

static int iso_open(const char *path, int *fd_out, lg_error *err)
{
	struct stat sb;
	int fd;

	*fd_out = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return lg_error_set(err, LG_ENOINPUT, "%s: no such file", path);
		return lg_error_set(err, LG_EIO, "%s: cannot open: %s", path,
		                    strerror(errno));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return lg_error_set(err, LG_ENOINPUT, "%s: not a regular file", path);
	}
	*fd_out = fd;
	return 0;
}

static void buf_init(struct iso_buf *b, size_t max_bytes)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max_bytes = max_bytes;
}

static struct iso_rd *rd_new(const char *path, imp_scale_fn scale,
                             void *scale_ctx, const imp_sink *sink,
                             lg_error *err)
{
	struct iso_rd *rd = calloc(1, sizeof *rd);

	if (!rd)
		return NULL;
	rd->path = path;
	rd->scale = scale;
	rd->scale_ctx = scale_ctx;
	rd->sink = sink;
	rd->err = err;
	rd->doc_level = -1;
	rd->st.level = -1;
	rd->st.bal_level = -1;
	rd->nt.level = -1;
	rd->nt.tx_level = -1;
	rd->nt.tx_open = -1;
	rd->pn.grp_level = -1;
	rd->pn.pmt_level = -1;
	rd->pn.tx_level = -1;
	buf_init(&rd->nt.arena, ISO_ENTRY_TEXT_MAX);
	buf_init(&rd->nt.leaves, ISO_ENTRY_LEAVES_MAX * sizeof(struct iso_leaf));
	buf_init(&rd->nt.txs, ISO_CHILDREN_MAX * sizeof(struct iso_tx));
	return rd;
}

static void rd_free(struct iso_rd *rd)
{
	if (!rd)
		return;
	if (rd->xr)
		xmlFreeTextReader(rd->xr);
	free(rd->in);
	free(rd->nt.txs.data);
	free(rd->nt.leaves.data);
	free(rd->nt.arena.data);
	free(rd->dict);
	free(rd);
}

/* XML_PARSE_NOENT, DTDLOAD, DTDATTR and DTDVALID stay off: entities are
 * never substituted and no external subset is ever read. */
/* libxml2's reader asks for 4 KB at a time; a read(2) each was a
 * quarter of a million system calls on the reading thread for a 1 GB
 * file.  This hands it the file from a larger buffer. */
#define ISO_READ_BYTES (256 * 1024)

static int rd_input(void *ctx, char *buf, int len)
{
	struct iso_rd *rd = ctx;
	size_t n;

	if (len <= 0)
		return 0;
	if (rd->in_pos == rd->in_len) {
		ssize_t got;
		do
			got = read(rd->fd, rd->in, ISO_READ_BYTES);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return -1;
		rd->in_pos = 0;
		rd->in_len = (size_t)got;
		if (got == 0)
			return 0;
	}
	n = rd->in_len - rd->in_pos;
	if (n > (size_t)len)
		n = (size_t)len;
	memcpy(buf, rd->in + rd->in_pos, n);
	rd->in_pos += n;
	return (int)n;
}

static int rd_reader(struct iso_rd *rd, int fd)
{
	rd->fd = fd;
	rd->in_pos = rd->in_len = 0;
	rd->in = malloc(ISO_READ_BYTES);
	if (!rd->in)
		return iso_fail(rd, LG_EINTERNAL, 0, "out of memory");
	rd->xr = xmlReaderForIO(rd_input, NULL, rd, rd->path, NULL,
	                        XML_PARSE_NONET | XML_PARSE_BIG_LINES);
	if (!rd->xr)
		return iso_fail(rd, LG_EIO, 0, "cannot start the XML reader");
	xmlTextReaderSetStructuredErrorHandler(rd->xr, iso_xml_error, rd);
	return 0;
}

/* --- small helpers ------------------------------------------------------- */

/* Appends n bytes; -1 (buffer unchanged) beyond the cap or out of memory. */
static int buf_add(struct iso_buf *b, const void *p, size_t n)
{
	size_t need, cap;
	char *grown;

	ISO_ASSERT(b->len <= b->max_bytes);
	if (n > b->max_bytes - b->len)
		return -1;
	need = b->len + n;
	if (need > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < need)
			cap = cap > b->max_bytes / 2 ? b->max_bytes : cap * 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return -1;
		b->data = grown;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len = need;
	return 0;
}

static int is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Bytes of s[0..n) that end on a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t len)
{
	if (n >= len)
		return len;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Appends `s` to a NUL-terminated buffer, after `sep` when the buffer is
 * not empty, truncating on a UTF-8 boundary at the cap. */
static void join_text(char *dst, size_t cap, const char *sep, const char *s)
{
	size_t len = strlen(dst);
	size_t room, n;

	ISO_ASSERT(len < cap);
	if (len > 0) {
		n = strlen(sep);
		if (n >= cap - len)
			return;
		memcpy(dst + len, sep, n);
		len += n;
	}
	room = cap - 1 - len;
	n = utf8_cut(s, room, strlen(s));
	memcpy(dst + len, s, n);
	dst[len + n] = '\0';
}

static int str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* +1 for CRDT, -1 for DBIT, 0 for anything else. */
static int ind_sign(const char *s)
{
	if (str_eq(s, "CRDT"))
		return 1;
	if (str_eq(s, "DBIT"))
		return -1;
	return 0;
}

/* ISO 20022 Dt ("2020-11-24") or DtTm ("2020-11-24T13:15:00+01:00") to
 * YYYY-MM-DD; the bank's local date is kept, no time zone is applied. */
static int iso_date(const char *text, char out[ISO_DATE_MAX])
{
	size_t n = strlen(text);

	if (n < 10 || (n > 10 && text[10] != 'T'))
		return -1;
	memcpy(out, text, 10);
	out[10] = '\0';
	return ledger_date_valid(out) ? 0 : -1;
}

/* Finds "xxxx.nnn.nnn.nn" in a namespace URI: the ISO URN
 * (urn:iso:std:iso:20022:tech:xsd:camt.053.001.04) and SIX's
 * (http://www.six-interbank-clearing.com/de/pain.002.001.03.ch.02.xsd). */
static int type_from_ns(const char *ns, char *out, size_t cap)
{
	size_t n = strlen(ns);

	ISO_ASSERT(cap > 15);
	for (size_t i = 0; i + 15 <= n; i++) {
		const char *p = ns + i;
		int ok = 1;

		for (size_t k = 0; k < 15 && ok; k++) {
			char c = p[k];
			if (k < 4)
				ok = c >= 'a' && c <= 'z';
			else if (k == 4 || k == 8 || k == 12)
				ok = c == '.';
			else
				ok = c >= '0' && c <= '9';
		}
		if (!ok || (i > 0 && p[-1] >= 'a' && p[-1] <= 'z') ||
		    (i + 15 < n && p[15] >= '0' && p[15] <= '9'))
			continue;
		memcpy(out, p, 15);
		out[15] = '\0';
		return 0;
	}
	return -1;
}

/* The family of a supported message type, or NULL. */
static const struct iso_family *family_of(const char *type)
{
	int version;

	if (strlen(type) != 15 || strncmp(type + 8, ".001.", 5) != 0)
		return NULL;
	version = (type[13] - '0') * 10 + (type[14] - '0');
	for (size_t i = 0; i < sizeof iso_families / sizeof iso_families[0]; i++) {
		const struct iso_family *f = &iso_families[i];
		if (strncmp(type, f->prefix, 8) == 0 && version >= f->version_min)
			return f;
	}
	return NULL;
}

/* The scale of a currency through the caller's callback. */
static int ccy_scale(struct iso_rd *rd, const char *ccy, int *scale)
{
	int s = -1;

	if (rd->scale_cached && strcmp(rd->scale_ccy, ccy) == 0) {
		*scale = rd->scale_cached - 1;
		return 0;
	}
	if (!rd->scale || rd->scale(rd->scale_ctx, ccy, &s) != 0 || s < 0 ||
	    s > AMOUNT_SCALE_MAX)
		return -1;
	snprintf(rd->scale_ccy, sizeof rd->scale_ccy, "%s", ccy);
	rd->scale_cached = s + 1;
	*scale = s;
	return 0;
}

/* --- sink calls ---------------------------------------------------------- */

static int sink_begin(struct iso_rd *rd)
{
	if (!rd->sink->statement_begin)
		return 0;
	return rd->sink->statement_begin(rd->sink->ctx, &rd->st.pub, rd->err);
}

static int sink_line(struct iso_rd *rd, const imp_line *ln)
{
	ISO_ASSERT(rd->st.begun);
	ISO_ASSERT(ln->raw_json != NULL &&
	           (ln->raw_json[0] == '[' || ln->raw_json[0] == '{'));
	if (!rd->sink->line)
		return 0;
	return rd->sink->line(rd->sink->ctx, &rd->st.pub, ln, rd->err);
}

static int sink_end(struct iso_rd *rd)
{
	if (!rd->sink->statement_end)
		return 0;
	return rd->sink->statement_end(rd->sink->ctx, &rd->st.pub, rd->err);
}

static int sink_status(struct iso_rd *rd, const imp_status *s)
{
	if (!rd->sink->status)
		return 0;
	return rd->sink->status(rd->sink->ctx, s, rd->err);
}

/* --- the element stack --------------------------------------------------- */

static int path_push(struct iso_rd *rd, const char *name, long line)
{
	size_t n = strlen(name);
	size_t off = rd->path_len + (rd->depth > 0 ? 1 : 0);

	if (rd->depth >= ISO_DEPTH_MAX || off + n >= sizeof rd->pathbuf)
		return iso_fail(rd, LG_EDATA, line, "elements nested deeper than %d "
		                "levels (or %d bytes of names) are refused",
		                ISO_DEPTH_MAX, ISO_PATH_MAX);
	if (rd->depth > 0) {
		rd->pathbuf[rd->path_len] = '/';
		rd->stack[rd->depth - 1].has_child = 1;
	}
	memcpy(rd->pathbuf + off, name, n);
	rd->path_len = off + n;
	rd->pathbuf[rd->path_len] = '\0';
	rd->stack[rd->depth].off = off;
	rd->stack[rd->depth].has_child = 0;
	rd->stack[rd->depth].line = line;
	rd->depth++;
	return 0;
}

static void path_pop(struct iso_rd *rd)
{
	ISO_ASSERT(rd->depth > 0);
	rd->depth--;
	rd->path_len = rd->stack[rd->depth].off - (rd->depth > 0 ? 1 : 0);
	rd->pathbuf[rd->path_len] = '\0';
}

/* The path of the current element relative to the element at `level`. */
static const char *path_below(const struct iso_rd *rd, int level)
{
	ISO_ASSERT(level >= 0 && level + 1 < rd->depth);
	return rd->pathbuf + rd->stack[level + 1].off;
}

/* Whether the open element at `level` has this local name. */
static int level_is(const struct iso_rd *rd, int level, const char *name)
{
	size_t start, end;

	ISO_ASSERT(level >= 0 && level < rd->depth);
	start = rd->stack[level].off;
	end = level + 1 < rd->depth ? rd->stack[level + 1].off - 1 : rd->path_len;
	return strlen(name) == end - start &&
	       memcmp(rd->pathbuf + start, name, end - start) == 0;
}

/* Copies the current leaf text into a fixed field, refusing what does not
 * fit: identifiers, codes and amounts are never cut short. */
static int take_key(struct iso_rd *rd, char *dst, size_t cap, long line,
                    const char *unit, long index, const char *field)
{
	if (rd->text_truncated || rd->text_len >= cap)
		return field_fail(rd, line, unit, index, field,
		                  "longer than %zu bytes", cap - 1);
	memcpy(dst, rd->text, rd->text_len + 1);
	return 0;
}

/* --- camt: the statement level ------------------------------------------- */

static void bal_reset(struct iso_bal *b)
{
	memset(b, 0, sizeof *b);
}

static int stmt_start(struct iso_rd *rd, int level, long line)
{
	struct iso_stmt *st = &rd->st;

	if (rd->statements >= ISO_STATEMENTS_MAX)
		return iso_fail(rd, LG_EDATA, line, "more than %ld statements in one "
		                "file", ISO_STATEMENTS_MAX);
	memset(st, 0, sizeof *st);
	st->level = level;
	st->bal_level = -1;
	st->index = rd->statements++;
	st->seq_nb = -1;
	st->pub.line_no = line;
	return 0;
}

static int stmt_leaf(struct iso_rd *rd, const char *rel, long line)
{
	struct iso_stmt *st = &rd->st;
	long si = st->index;

	if (strcmp(rel, "Id") == 0)
		return take_key(rd, st->id, sizeof st->id, line, "statement", si, rel);
	if (strcmp(rel, "Acct/Id/IBAN") == 0 || strcmp(rel, "Acct/Id/Othr/Id") == 0)
		return take_key(rd, st->account, sizeof st->account, line, "statement",
		                si, rel);
	if (strcmp(rel, "Acct/Ccy") == 0)
		return take_key(rd, st->acct_ccy, sizeof st->acct_ccy, line,
		                "statement", si, rel);
	if (strcmp(rel, "ElctrncSeqNb") == 0) {
		long long v = 0;
		if (rd->text_len == 0 || rd->text_len > 18)
			return field_fail(rd, line, "statement", si, rel,
			                  "'%.40s' is not a sequence number", rd->text);
		for (size_t i = 0; i < rd->text_len; i++) {
			if (rd->text[i] < '0' || rd->text[i] > '9')
				return field_fail(rd, line, "statement", si, rel,
				                  "'%.40s' is not a sequence number", rd->text);
			v = v * 10 + (rd->text[i] - '0');
		}
		st->seq_nb = v;
		return 0;
	}
	if (strcmp(rel, "FrToDt/FrDtTm") == 0 || strcmp(rel, "FrToDt/ToDtTm") == 0) {
		char *dst = rel[7] == 'F' ? st->from : st->to;
		if (rd->text_truncated || iso_date(rd->text, dst) != 0)
			return field_fail(rd, line, "statement", si, rel,
			                  "'%.40s' is not a date or date-time", rd->text);
	}
	return 0;
}

static int bal_leaf(struct iso_rd *rd, const char *rel, long line)
{
	struct iso_bal *b = &rd->st.cur;
	long si = rd->st.index;

	if (strcmp(rel, "Tp/CdOrPrtry/Cd") == 0 ||
	    strcmp(rel, "Tp/CdOrPrtry/Prtry") == 0)
		return take_key(rd, b->code, sizeof b->code, line, "statement", si,
		                "Bal/Tp/CdOrPrtry");
	if (strcmp(rel, "CdtDbtInd") == 0)
		return take_key(rd, b->ind, sizeof b->ind, line, "statement", si,
		                "Bal/CdtDbtInd");
	if (strcmp(rel, "Amt") == 0) {
		b->line = line;
		if (rd->ccy_too_long)
			return field_fail(rd, line, "statement", si, "Bal/Amt",
			                  "currency code longer than %d bytes",
			                  ISO_CCY_MAX - 1);
		snprintf(b->ccy, sizeof b->ccy, "%s", rd->ccy);
		return take_key(rd, b->amt, sizeof b->amt, line, "statement", si,
		                "Bal/Amt");
	}
	return 0;
}

/* camt.053: OPBD opens and CLBD closes the booked balance; some banks send
 * PRCD (previously closed booked) instead of OPBD.  The first of each
 * counts. */
static void bal_end(struct iso_rd *rd)
{
	struct iso_stmt *st = &rd->st;
	struct iso_bal *slot = NULL;

	if (strcmp(st->cur.code, "OPBD") == 0)
		slot = &st->opbd;
	else if (strcmp(st->cur.code, "PRCD") == 0)
		slot = &st->prcd;
	else if (strcmp(st->cur.code, "CLBD") == 0)
		slot = &st->clbd;
	if (slot && !slot->seen) {
		*slot = st->cur;
		slot->seen = 1;
	}
	st->bal_level = -1;
}

/* A balance in minor units of the statement's asset, signed by its
 * CdtDbtInd. */
static int bal_amount(struct iso_rd *rd, const struct iso_bal *b, int scale,
                      amount_minor_t *out)
{
	char why[128];
	amount_minor_t v = 0;
	int sign = ind_sign(b->ind);

	if (b->amt[0] == '-' || amount_parse(b->amt, strlen(b->amt), scale, &v,
	                                     why, sizeof why) != 0)
		return field_fail(rd, b->line, "statement", rd->st.index, "Bal/Amt",
		                  "'%s' %s: %s", b->amt, b->ccy,
		                  b->amt[0] == '-' ? "a negative amount (the sign "
		                  "belongs in CdtDbtInd)" : why);
	if (sign == 0 && !(b->ind[0] == '\0' && v == 0))
		return field_fail(rd, b->line, "statement", rd->st.index,
		                  "Bal/CdtDbtInd", "'%s' is not CRDT or DBIT", b->ind);
	*out = sign < 0 ? -v : v;
	return 0;
}

/* Fixes the statement's asset and balances and tells the sink.  Called at
 * the first entry (balances precede entries in every version) or at the
 * statement's end when it has none.  The asset is Acct/Ccy, else the
 * opening balance's, else the closing balance's, else (notifications carry
 * no balances) the first entry's.  A balance in another currency cannot be
 * compared with the entries and is left out. */
static int stmt_begin(struct iso_rd *rd, const char *entry_ccy, long line)
{
	struct iso_stmt *st = &rd->st;
	const struct iso_bal *open = st->opbd.seen ? &st->opbd
	                             : st->prcd.seen ? &st->prcd : NULL;
	const char *asset = st->acct_ccy;
	const char *field = "Acct/Ccy";
	int scale = -1;
	int rc;

	ISO_ASSERT(!st->begun && st->level >= 0);
	if (!asset[0] && open) {
		asset = open->ccy;
		field = "Bal/Amt";
		line = open->line;
	} else if (!asset[0] && st->clbd.seen) {
		asset = st->clbd.ccy;
		field = "Bal/Amt";
		line = st->clbd.line;
	} else if (!asset[0] && entry_ccy) {
		asset = entry_ccy;
		field = "Ntry/Amt";
	}
	snprintf(st->asset, sizeof st->asset, "%s", asset);
	if (st->asset[0] && ccy_scale(rd, st->asset, &scale) != 0)
		return field_fail(rd, line, "statement", st->index, field,
		                  "unknown currency '%s'", st->asset);
	if (open && strcmp(open->ccy, st->asset) == 0) {
		rc = bal_amount(rd, open, scale, &st->pub.opening_minor);
		if (rc != 0)
			return rc;
		st->pub.has_opening = 1;
	}
	if (st->clbd.seen && strcmp(st->clbd.ccy, st->asset) == 0) {
		rc = bal_amount(rd, &st->clbd, scale, &st->pub.closing_minor);
		if (rc != 0)
			return rc;
		st->pub.has_closing = 1;
	}
	st->pub.message_type = rd->msg_type;
	st->pub.msg_id = rd->msg_id[0] ? rd->msg_id : NULL;
	st->pub.statement_id = st->id[0] ? st->id : NULL;
	st->pub.seq_nb = st->seq_nb;
	st->pub.account_id = st->account[0] ? st->account : NULL;
	st->pub.asset = st->asset[0] ? st->asset : NULL;
	st->pub.scale = scale;
	st->pub.from_date = st->from[0] ? st->from : NULL;
	st->pub.to_date = st->to[0] ? st->to : NULL;
	st->pub.booked_sum_minor = 0;
	st->pub.booked_entries = 0;
	if (!rd->dict) {
		/* Not zeroed whole (it is mostly text buffers): a read of a small
		 * file should not pay for clearing 400 KiB. */
		rd->dict = malloc(sizeof *rd->dict);
		if (!rd->dict)
			return iso_fail(rd, LG_EINTERNAL, line, "out of memory");
		memset(rd->dict->cache, 0, sizeof rd->dict->cache);
		rd->dict->gen = 0;
	}
	memset(rd->dict->slot, 0, sizeof rd->dict->slot);
	rd->dict->n = 0;
	rd->dict->text_len = 0;
	rd->dict->gen++;
	memcpy(rd->dict->json, "[]", 3);
	rd->dict->json_len = 2;
	st->pub.raw_header = rd->dict->json;
	st->begun = 1;
	return sink_begin(rd);
}

static int stmt_end(struct iso_rd *rd, long line)
{
	int rc = 0;

	if (!rd->st.begun)
		rc = stmt_begin(rd, NULL, line);
	if (rc == 0)
		rc = sink_end(rd);
	rd->st.level = -1;
	return rc;
}

/* --- camt: buffering one entry ------------------------------------------- */

static size_t nt_count(const struct iso_ntry *nt)
{
	return nt->leaves.len / sizeof(struct iso_leaf);
}

static const struct iso_leaf *nt_leaf(const struct iso_ntry *nt, size_t i)
{
	ISO_ASSERT(i < nt_count(nt));
	return (const struct iso_leaf *)(const void *)nt->leaves.data + i;
}

static long nt_txs(const struct iso_ntry *nt)
{
	return (long)(nt->txs.len / sizeof(struct iso_tx));
}

static struct iso_tx *nt_tx(struct iso_ntry *nt, long k)
{
	ISO_ASSERT(k >= 0 && k < nt_txs(nt));
	return (struct iso_tx *)(void *)nt->txs.data + k;
}

static const char *nt_str(const struct iso_ntry *nt, uint32_t off)
{
	if (off == ISO_NONE)
		return NULL;
	ISO_ASSERT(off < nt->arena.len);
	return nt->arena.data + off;
}

/* Leaves inside TxDtls are stored relative to the Ntry; this is the part
 * relative to the TxDtls. */
#define ISO_TX_PREFIX "NtryDtls/TxDtls/"
#define ISO_TX_PREFIX_LEN (sizeof ISO_TX_PREFIX - 1)

static const char *leaf_rel(const struct iso_ntry *nt, const struct iso_leaf *lf)
{
	const char *p = nt_str(nt, lf->path);
	return lf->tx >= 0 ? p + ISO_TX_PREFIX_LEN : p;
}

static int arena_str(struct iso_ntry *nt, const char *s, size_t n,
                     uint32_t *off)
{
	/* The cap keeps every offset below ISO_NONE. */
	_Static_assert(ISO_ENTRY_TEXT_MAX < 0x80000000u, "arena offsets are 31-bit");
	*off = (uint32_t)nt->arena.len;
	if (buf_add(&nt->arena, s, n) != 0 || buf_add(&nt->arena, "", 1) != 0)
		return -1;
	return 0;
}

/* arena_str for a path, stored once per entry (FNV-1a, linear probing);
 * when the table is full further paths are simply stored again. */
static int arena_path(struct iso_ntry *nt, const char *s, uint32_t *off)
{
	struct iso_intern *in = &nt->paths;
	uint32_t h = 2166136261u;
	size_t i;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 16777619u;
	i = h & (ISO_INTERN_SLOTS - 1);
	for (size_t probes = 0; probes < ISO_INTERN_SLOTS && in->slot[i]; probes++) {
		if (strcmp(nt->arena.data + in->slot[i] - 1, s) == 0) {
			*off = in->slot[i] - 1;
			return 0;
		}
		i = (i + 1) & (ISO_INTERN_SLOTS - 1);
	}
	if (arena_str(nt, s, strlen(s), off) != 0)
		return -1;
	if (in->n < ISO_INTERN_MAX && !in->slot[i]) {
		in->slot[i] = *off + 1;
		in->used[in->n++] = (uint16_t)i;
	}
	return 0;
}

static int ntry_start(struct iso_rd *rd, int level, long line)
{
	struct iso_ntry *nt = &rd->nt;

	if (rd->entries >= ISO_ENTRIES_MAX)
		return iso_fail(rd, LG_EDATA, line, "more than %ld entries in one file",
		                ISO_ENTRIES_MAX);
	for (size_t i = 0; i < nt->paths.n; i++)
		nt->paths.slot[nt->paths.used[i]] = 0;
	nt->paths.n = 0;
	nt->arena.len = 0;
	nt->leaves.len = 0;
	nt->txs.len = 0;
	if (rd->dict)
		rd->dict->gen++; /* arena offsets start again: the path cache is stale */
	nt->index = rd->entries++;
	nt->line = line;
	nt->level = level;
	nt->tx_level = -1;
	nt->tx_open = -1;
	nt->has_btch = 0;
	return 0;
}

static int tx_start(struct iso_rd *rd, int level, long line)
{
	struct iso_ntry *nt = &rd->nt;
	struct iso_tx tx;

	memset(&tx, 0, sizeof tx);
	tx.line = line;
	tx.first = nt_count(nt);
	tx.end = tx.first;
	if (buf_add(&nt->txs, &tx, sizeof tx) != 0)
		return field_fail(rd, line, "entry", nt->index, "NtryDtls/TxDtls",
		                  "more than %zu transaction details (or out of memory)",
		                  ISO_CHILDREN_MAX);
	nt->tx_open = nt_txs(nt) - 1;
	nt->tx_level = level;
	return 0;
}

static int ntry_leaf(struct iso_rd *rd, const char *rel, long line)
{
	struct iso_ntry *nt = &rd->nt;
	struct iso_leaf lf;

	memset(&lf, 0, sizeof lf);
	lf.line = line;
	lf.tx = (int32_t)nt->tx_open;
	lf.truncated = rd->text_truncated;
	lf.ccy = ISO_NONE;
	ISO_ASSERT(lf.tx < 0 || strncmp(rel, ISO_TX_PREFIX, ISO_TX_PREFIX_LEN) == 0);
	if (rd->ccy_too_long)
		return field_fail(rd, line, "entry", nt->index, rel,
		                  "currency code longer than %d bytes", ISO_CCY_MAX - 1);
	if (arena_path(nt, rel, &lf.path) != 0 ||
	    arena_str(nt, rd->text, rd->text_len, &lf.text) != 0 ||
	    (rd->ccy[0] && arena_str(nt, rd->ccy, strlen(rd->ccy), &lf.ccy) != 0) ||
	    buf_add(&nt->leaves, &lf, sizeof lf) != 0)
		return field_fail(rd, line, "entry", nt->index, rel,
		                  "entry larger than %zu bytes or %zu fields (or out of "
		                  "memory)", ISO_ENTRY_TEXT_MAX, ISO_ENTRY_LEAVES_MAX);
	if (lf.tx >= 0)
		nt_tx(nt, lf.tx)->end = nt_count(nt);
	return 0;
}

/* The first leaf at `rel` in a view: a TxDtls index, -1 for the entry's own
 * leaves, ISO_NO_VIEW for nothing. */
/* The interned offset of the path prefix+rel: 1 and *off when some leaf of
 * the entry has it, 0 when none has (certain only while the intern table
 * has not overflowed). */
static int intern_find(const struct iso_ntry *nt, const char *prefix,
                       const char *rel, uint32_t *off)
{
	const struct iso_intern *in = &nt->paths;
	size_t plen = strlen(prefix), i;
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)prefix; *p; p++)
		h = (h ^ *p) * 16777619u;
	for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
		h = (h ^ *p) * 16777619u;
	i = h & (ISO_INTERN_SLOTS - 1);
	for (size_t probes = 0; probes < ISO_INTERN_SLOTS && in->slot[i]; probes++) {
		const char *have = nt->arena.data + in->slot[i] - 1;
		if (strncmp(have, prefix, plen) == 0 && strcmp(have + plen, rel) == 0) {
			*off = in->slot[i] - 1;
			return 1;
		}
		i = (i + 1) & (ISO_INTERN_SLOTS - 1);
	}
	return 0;
}

static const struct iso_leaf *nt_find(struct iso_ntry *nt, long view,
                                      const char *rel)
{
	size_t from = 0, to = nt_count(nt);
	int exact = nt->paths.n < ISO_INTERN_MAX;
	uint32_t off = ISO_NONE;

	if (view == ISO_NO_VIEW)
		return NULL;
	if (view >= 0) {
		from = nt_tx(nt, view)->first;
		to = nt_tx(nt, view)->end;
	}
	/* Paths are interned per entry, so a path no leaf has is known at
	 * once and the leaves are compared by offset, not by string. */
	if (exact && !intern_find(nt, view >= 0 ? ISO_TX_PREFIX : "", rel, &off))
		return NULL;
	for (size_t i = from; i < to; i++) {
		const struct iso_leaf *lf = nt_leaf(nt, i);
		if (lf->tx == view && (exact ? lf->path == off
		                             : strcmp(leaf_rel(nt, lf), rel) == 0))
			return lf;
	}
	return NULL;
}

/* The text of a leaf used as an identifier or code: NULL when absent or
 * empty, an error when it was too long to keep whole. */
static int leaf_key(struct iso_rd *rd, const struct iso_leaf *lf,
                    const char **out)
{
	*out = NULL;
	if (!lf)
		return 0;
	if (lf->truncated)
		return field_fail(rd, lf->line, "entry", rd->nt.index,
		                  nt_str(&rd->nt, lf->path), "longer than %d bytes",
		                  IMP_FIELD_MAX - 1);
	*out = nt_str(&rd->nt, lf->text);
	if (!(*out)[0])
		*out = NULL;
	return 0;
}

/* leaf_key of the first of two views that has the field. */
static int find_key(struct iso_rd *rd, long view1, const char *rel1,
                    long view2, const char *rel2, const char **out)
{
	const struct iso_leaf *lf = nt_find(&rd->nt, view1, rel1);

	if (!lf && rel2)
		lf = nt_find(&rd->nt, view2, rel2);
	return leaf_key(rd, lf, out);
}

/* Free text (names): NULL when absent or empty, cut at the cap. */
static const char *find_text(struct iso_ntry *nt, long view, const char *rel)
{
	const struct iso_leaf *lf = nt_find(nt, view, rel);
	const char *s = lf ? nt_str(nt, lf->text) : NULL;

	return s && s[0] ? s : NULL;
}

/* An amount leaf in minor units of its Ccy (unsigned). */
static int leaf_amount(struct iso_rd *rd, const struct iso_leaf *lf,
                       amount_minor_t *out, const char **ccy_out, int *scale_out)
{
	const char *field = nt_str(&rd->nt, lf->path);
	const char *text = nt_str(&rd->nt, lf->text);
	const char *ccy = nt_str(&rd->nt, lf->ccy);
	char why[128];
	int scale;

	if (!ccy || !ccy[0])
		return field_fail(rd, lf->line, "entry", rd->nt.index, field,
		                  "amount '%.40s' has no Ccy", text);
	if (ccy_scale(rd, ccy, &scale) != 0)
		return field_fail(rd, lf->line, "entry", rd->nt.index, field,
		                  "unknown currency '%s'", ccy);
	if (text[0] == '-')
		return field_fail(rd, lf->line, "entry", rd->nt.index, field,
		                  "'%.40s' is negative; the sign belongs in CdtDbtInd",
		                  text);
	if (lf->truncated || amount_parse(text, strlen(text), scale, out, why,
	                                  sizeof why) != 0)
		return field_fail(rd, lf->line, "entry", rd->nt.index, field,
		                  "'%.40s' %s: %s", text, ccy,
		                  lf->truncated ? "too long" : why);
	*ccy_out = ccy;
	if (scale_out)
		*scale_out = scale;
	return 0;
}

/* --- camt: turning an entry into lines ----------------------------------- */

/* Dt or DtTm of BookgDt / ValDt as YYYY-MM-DD. */
static int entry_date(struct iso_rd *rd, int value_date, char out[ISO_DATE_MAX],
                      const char **res)
{
	/* Constant paths: this runs twice for every entry. */
	const char *rel = value_date ? "ValDt/Dt" : "BookgDt/Dt";
	const struct iso_leaf *lf;

	*res = NULL;
	lf = nt_find(&rd->nt, -1, rel);
	if (!lf) {
		rel = value_date ? "ValDt/DtTm" : "BookgDt/DtTm";
		lf = nt_find(&rd->nt, -1, rel);
	}
	if (!lf)
		return 0;
	if (lf->truncated || iso_date(nt_str(&rd->nt, lf->text), out) != 0)
		return field_fail(rd, lf->line, "entry", rd->nt.index, rel,
		                  "'%.40s' is not a date or date-time",
		                  nt_str(&rd->nt, lf->text));
	*res = out;
	return 0;
}

/* "PMNT/RCDT/ESCT" from BkTxCd/Domn, else BkTxCd/Prtry/Cd. */
static int tx_code(struct iso_rd *rd, long view, char *out, size_t cap,
                   const char **res)
{
	const char *d = NULL, *f = NULL, *s = NULL, *p = NULL;
	int rc = find_key(rd, view, "BkTxCd/Domn/Cd", ISO_NO_VIEW, NULL, &d);

	if (rc == 0)
		rc = find_key(rd, view, "BkTxCd/Domn/Fmly/Cd", ISO_NO_VIEW, NULL, &f);
	if (rc == 0)
		rc = find_key(rd, view, "BkTxCd/Domn/Fmly/SubFmlyCd", ISO_NO_VIEW,
		              NULL, &s);
	if (rc == 0)
		rc = find_key(rd, view, "BkTxCd/Prtry/Cd", ISO_NO_VIEW, NULL, &p);
	if (rc != 0)
		return rc;
	out[0] = '\0';
	*res = NULL;
	if (d) {
		join_text(out, cap, "/", d);
		if (f)
			join_text(out, cap, "/", f);
		if (s)
			join_text(out, cap, "/", s);
		*res = out;
	} else if (p) {
		*res = p;
	}
	return 0;
}

/* An indicator leaf as +1/-1; `dflt` when the leaf is absent. */
static int leaf_sign(struct iso_rd *rd, const struct iso_leaf *lf, int dflt,
                     int *sign)
{
	const char *s;
	int rc = leaf_key(rd, lf, &s);

	if (rc != 0)
		return rc;
	if (!lf) {
		*sign = dflt;
		return 0;
	}
	*sign = ind_sign(s);
	if (*sign == 0)
		return field_fail(rd, lf->line, "entry", rd->nt.index,
		                  nt_str(&rd->nt, lf->path), "'%.20s' is not CRDT or "
		                  "DBIT", s ? s : "");
	return 0;
}

/* The entry's amount, sign, status and identity. */
static int entry_facts(struct iso_rd *rd, struct iso_entry *e)
{
	struct iso_ntry *nt = &rd->nt;
	const struct iso_leaf *amt = nt_find(nt, -1, "Amt");
	const struct iso_leaf *ind = nt_find(nt, -1, "CdtDbtInd");
	const char *rv = NULL;
	amount_minor_t v;
	int rc;

	memset(e, 0, sizeof *e);
	e->index = nt->index;
	e->line = nt->line;
	if (!amt)
		return field_fail(rd, nt->line, "entry", nt->index, "Amt", "missing");
	if (!ind)
		return field_fail(rd, nt->line, "entry", nt->index, "CdtDbtInd",
		                  "missing");
	rc = leaf_amount(rd, amt, &v, &e->ccy, &e->scale);
	if (rc == 0)
		rc = leaf_sign(rd, ind, 0, &e->sign);
	/* camt.053 up to v06: Sts is text; v08: Sts became a choice (Cd/Prtry). */
	if (rc == 0)
		rc = find_key(rd, -1, "Sts", -1, "Sts/Cd", &e->status);
	if (rc == 0 && !e->status)
		rc = find_key(rd, -1, "Sts/Prtry", ISO_NO_VIEW, NULL, &e->status);
	if (rc == 0)
		rc = find_key(rd, -1, "NtryRef", -1, "AcctSvcrRef", &e->entry_ref);
	if (rc == 0)
		rc = find_key(rd, -1, "NtryDtls/Btch/PmtInfId", -1,
		              "NtryDtls/Btch/MsgId", &e->batch_id);
	if (rc == 0)
		rc = find_key(rd, -1, "RvslInd", ISO_NO_VIEW, NULL, &rv);
	if (rc == 0)
		rc = entry_date(rd, 0, e->booking, &e->booking_date);
	if (rc == 0)
		rc = entry_date(rd, 1, e->value, &e->value_date);
	if (rc == 0)
		rc = tx_code(rd, -1, e->tx_code_buf, sizeof e->tx_code_buf, &e->tx_code);
	if (rc != 0)
		return rc;
	if (rv && (strcmp(rv, "true") == 0 || strcmp(rv, "1") == 0))
		e->reversal = 1;
	else if (rv && strcmp(rv, "false") != 0 && strcmp(rv, "0") != 0)
		return field_fail(rd, nt_find(nt, -1, "RvslInd")->line, "entry",
		                  nt->index, "RvslInd", "'%.20s' is not a boolean", rv);
	e->amount_minor = e->sign < 0 ? -v : v;
	e->booked = str_eq(e->status, "BOOK");
	e->children = nt_txs(nt);
	/* A Btch element makes an entry a batch even with one TxDtls (Swiss
	 * ESR/ASR collective bookings); without any TxDtls there is nothing
	 * to follow it. */
	e->is_batch = e->children > 1 || (nt->has_btch && e->children == 1);
	return 0;
}

/* Amounts of the children of a batch and their difference to the entry.
 * camt v03+: TxDtls/Amt with its own CdtDbtInd; v02: AmtDtls/TxAmt/Amt.
 * A child without an indicator takes the entry's. */
static int batch_sum(struct iso_rd *rd, struct iso_entry *e)
{
	struct iso_ntry *nt = &rd->nt;
	amount_minor_t sum = 0;

	for (long k = 0; k < e->children; k++) {
		struct iso_tx *tx = nt_tx(nt, k);
		const struct iso_leaf *amt = nt_find(nt, k, "Amt");
		const char *ccy;
		amount_minor_t v;
		int sign, rc;

		if (!amt)
			amt = nt_find(nt, k, "AmtDtls/TxAmt/Amt");
		if (!amt)
			return field_fail(rd, tx->line, "entry", e->index,
			                  ISO_TX_PREFIX "Amt", "transaction %ld of a batch "
			                  "has no amount", k);
		rc = leaf_amount(rd, amt, &v, &ccy, NULL);
		if (rc == 0)
			rc = leaf_sign(rd, nt_find(nt, k, "CdtDbtInd"), e->sign, &sign);
		if (rc != 0)
			return rc;
		if (strcmp(ccy, e->ccy) != 0)
			return field_fail(rd, amt->line, "entry", e->index,
			                  nt_str(nt, amt->path), "currency '%s' differs "
			                  "from the entry's '%s'", ccy, e->ccy);
		tx->amount_minor = sign < 0 ? -v : v;
		tx->sign = sign;
		if (amount_add(sum, tx->amount_minor, &sum) != 0)
			return field_fail(rd, amt->line, "entry", e->index,
			                  nt_str(nt, amt->path), "sum of the batch "
			                  "overflows");
	}
	if (amount_sub(sum, e->amount_minor, &e->batch_difference_minor) != 0)
		return field_fail(rd, e->line, "entry", e->index, "Amt",
		                  "batch difference overflows");
	return 0;
}

/* Every leaf at `rel` in a view, joined by "; " (RmtInf/Ustrd repeats). */
static const char *join_all(struct iso_ntry *nt, long view, const char *rel,
                            char *out, size_t cap)
{
	size_t from = 0, to = nt_count(nt);

	out[0] = '\0';
	if (view == ISO_NO_VIEW)
		return NULL;
	if (view >= 0) {
		from = nt_tx(nt, view)->first;
		to = nt_tx(nt, view)->end;
	}
	for (size_t i = from; i < to; i++) {
		const struct iso_leaf *lf = nt_leaf(nt, i);
		const char *t = nt_str(nt, lf->text);
		if (lf->tx == view && t[0] && strcmp(leaf_rel(nt, lf), rel) == 0)
			join_text(out, cap, "; ", t);
	}
	return out[0] ? out : NULL;
}

/* Charges as "4.40 CHF; 1.00 CHF": v04+ Chrgs/Rcrd/Amt, v02 Chrgs/Amt,
 * else the v04+ total Chrgs/TtlChrgsAndTaxAmt. */
static int charges(struct iso_rd *rd, long view, char *out, size_t cap,
                   const char **res)
{
	static const char *const paths[] = {
		"Chrgs/Rcrd/Amt", "Chrgs/Amt", "Chrgs/TtlChrgsAndTaxAmt"
	};
	struct iso_ntry *nt = &rd->nt;
	size_t from = 0, to = nt_count(nt);

	out[0] = '\0';
	*res = NULL;
	if (view == ISO_NO_VIEW)
		return 0;
	if (view >= 0) {
		from = nt_tx(nt, view)->first;
		to = nt_tx(nt, view)->end;
	}
	for (size_t p = 0; p < 3 && !out[0]; p++) {
		for (size_t i = from; i < to; i++) {
			const struct iso_leaf *lf = nt_leaf(nt, i);
			char num[AMOUNT_TEXT_MAX], item[AMOUNT_TEXT_MAX + ISO_CCY_MAX + 2];
			amount_minor_t v;
			const char *ccy;
			int scale, rc;

			if (lf->tx != view || strcmp(leaf_rel(nt, lf), paths[p]) != 0)
				continue;
			rc = leaf_amount(rd, lf, &v, &ccy, &scale);
			if (rc != 0)
				return rc;
			amount_format(v, scale, num, sizeof num);
			snprintf(item, sizeof item, "%s %s", num, ccy);
			join_text(out, cap, "; ", item);
		}
	}
	*res = out[0] ? out : NULL;
	return 0;
}

/* The counterparty: the debtor of a credit, the creditor of a debit.
 * camt.053 RvslInd: a reversal is booked the other way round but carries
 * the parties of the original, so the roles flip with it.  Names: v02-v06
 * Dbtr/Nm, v08 Dbtr/Pty/Nm. */
static int counterparty(struct iso_rd *rd, long view, int credit,
                        imp_line *ln)
{
	struct iso_ntry *nt = &rd->nt;

	/* Constant paths: this runs for every line. */
	ln->counterparty_name = find_text(nt, view, credit ? "RltdPties/Dbtr/Nm"
	                                                   : "RltdPties/Cdtr/Nm");
	if (!ln->counterparty_name)
		ln->counterparty_name = find_text(nt, view, credit ? "RltdPties/Dbtr/Pty/Nm"
		                                                   : "RltdPties/Cdtr/Pty/Nm");
	return find_key(rd, view, credit ? "RltdPties/DbtrAcct/Id/IBAN"
	                                 : "RltdPties/CdtrAcct/Id/IBAN",
	                view, credit ? "RltdPties/DbtrAcct/Id/Othr/Id"
	                             : "RltdPties/CdtrAcct/Id/Othr/Id",
	                &ln->counterparty_account);
}

/* raw_json: every leaf of the line as "path": "text" in document order,
 * paths relative to the Ntry, a repeated path suffixed "[2]", "[3]"...,
 * an amount's currency as "path@Ccy".  Bounded by IMP_RAW_MAX; what does
 * not fit is dropped and "_truncated": true says so. */
struct iso_json {
	char *buf;
	size_t cap;
	size_t len;
	int full;
};

static int json_byte(struct iso_json *j, char c)
{
	if (j->len + 1 + ISO_JSON_RESERVE >= j->cap)
		return -1;
	j->buf[j->len++] = c;
	return 0;
}

static int json_string(struct iso_json *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	if (json_byte(j, '"') != 0)
		return -1;
	while (*p) {
		const unsigned char *run = p;
		int rc = 0;

		/* Plain runs are copied at once: every field of every line
		 * passes here. */
		while (*run >= 0x20 && *run != '"' && *run != '\\')
			run++;
		if (run > p) {
			size_t n = (size_t)(run - p);
			if (j->len + n + 1 + ISO_JSON_RESERVE >= j->cap)
				return -1;
			memcpy(j->buf + j->len, p, n);
			j->len += n;
			p = run;
			continue;
		}
		if (*p == '"' || *p == '\\') {
			rc = json_byte(j, '\\') || json_byte(j, (char)*p);
		} else if (*p == '\n') {
			rc = json_byte(j, '\\') || json_byte(j, 'n');
		} else if (*p == '\t') {
			rc = json_byte(j, '\\') || json_byte(j, 't');
		} else if (*p == '\r') {
			rc = json_byte(j, '\\') || json_byte(j, 'r');
		} else {
			rc = json_byte(j, '\\') || json_byte(j, 'u') ||
			     json_byte(j, '0') || json_byte(j, '0') ||
			     json_byte(j, hex[*p >> 4]) || json_byte(j, hex[*p & 15]);
		}
		if (rc != 0)
			return -1;
		p++;
	}
	return json_byte(j, '"');
}

/* Appends text that needs no escaping (digits). */
static int json_string_raw(struct iso_json *j, const char *s)
{
	for (; *s; s++)
		if (json_byte(j, *s) != 0)
			return -1;
	return 0;
}

static void json_member(struct iso_json *j, const char *key, const char *val)
{
	size_t save = j->len;

	if (j->full)
		return;
	if ((j->len > 1 && json_byte(j, ',') != 0) || json_string(j, key) != 0 ||
	    json_byte(j, ':') != 0 || json_string(j, val) != 0) {
		j->len = save;
		j->full = 1;
	}
}

static int leaf_in(const struct iso_leaf *lf, enum iso_line_mode mode, long k)
{
	if (mode == LN_ENTRY)
		return 1;
	if (mode == LN_BATCH)
		return lf->tx == -1;
	return lf->tx == k;
}

/* The index of raw-field name `key` in the statement's dictionary, added
 * (and appended to its JSON array) when new; -1 when the dictionary is
 * full, and the line then keeps its fields as an object. */
static long dict_index(struct iso_rd *rd, const char *key)
{
	struct iso_dict *d = rd->dict;
	size_t n = strlen(key), i;
	uint32_t h = 2166136261u;

	for (size_t c = 0; c < n; c++)
		h = (h ^ (unsigned char)key[c]) * 16777619u;
	i = h & (ISO_DICT_SLOTS - 1);
	while (d->slot[i]) {
		if (strcmp(d->text + d->off[d->slot[i] - 1], key) == 0)
			return (long)d->slot[i] - 1;
		i = (i + 1) & (ISO_DICT_SLOTS - 1);
	}
	if (d->n >= ISO_DICT_KEYS_MAX || d->text_len + n + 1 > sizeof d->text)
		return -1;
	{
		struct iso_json j = { d->json, sizeof d->json, d->json_len - 1, 0 };
		if ((d->n > 0 && json_byte(&j, ',') != 0) || json_string(&j, key) != 0 ||
		    json_byte(&j, ']') != 0)
			return -1; /* the array is left as it was: ']' not yet moved */
		d->json_len = j.len;
		d->json[d->json_len] = '\0';
	}
	d->off[d->n] = (uint32_t)d->text_len;
	memcpy(d->text + d->text_len, key, n + 1);
	d->text_len += n + 1;
	d->slot[i] = (uint32_t)++d->n;
	return (long)d->n - 1;
}

/* The line's own fields by lg_raw_field code, for raw_member. */
struct iso_fields {
	const char *f[LG_RAW_FIELDS_END];
	uint64_t first[4];        /* the first bytes of the fields' texts */
};

static void fields_of(const imp_line *ln, struct iso_fields *fl)
{
	memset(fl->first, 0, sizeof fl->first);
	fl->f[0] = NULL;
	for (int c = 1; c < LG_RAW_FIELDS_END; c++) {
		unsigned char b;
		fl->f[c] = ledger_line_field(ln, c);
		if (!fl->f[c])
			continue;
		b = (unsigned char)fl->f[c][0];
		fl->first[b >> 6] |= (uint64_t)1 << (b & 63);
	}
}

/* The code of the line field whose text is exactly val, else 0.  Most
 * fields point at the very text of their leaf, so pointers are compared
 * first. */
static int field_code(const struct iso_fields *fl, const char *val)
{
	if (!fl || !val[0])
		return 0;
	unsigned char b = (unsigned char)val[0];

	if (!(fl->first[b >> 6] & (uint64_t)1 << (b & 63)))
		return 0; /* no field begins with val's first byte */
	for (int c = 1; c < LG_RAW_FIELDS_END; c++)
		if (fl->f[c] == val)
			return c;
	for (int c = 1; c < LG_RAW_FIELDS_END; c++)
		if (fl->f[c] && fl->f[c][0] == val[0] && strcmp(fl->f[c], val) == 0)
			return c;
	return 0;
}

/* One raw field: "index,value" into a pair array, or "key:value" into an
 * object (pairs 0), each after a comma but the first.  In a pair array a
 * value that is the text of one of the line's own fields (fl) is that
 * field's code (ledger.h, enum lg_raw_field): it is stored once. */
static void raw_member(struct iso_rd *rd, struct iso_json *j, int pairs,
                       const struct iso_fields *fl, const char *key,
                       uint32_t path_off, const char *val)
{
	int code;
	char num[24];
	size_t save = j->len;
	long idx;

	if (j->full)
		return;
	if (!pairs) {
		json_member(j, key, val);
		return;
	}
	if (path_off != ISO_NONE) {
		/* key is the entry's interned path at path_off */
		struct iso_dict *d = rd->dict;
		size_t c = (path_off * 2654435761u) >> 24 & 255;
		if (d->cache[c].gen == d->gen && d->cache[c].off == path_off) {
			idx = d->cache[c].idx;
		} else {
			idx = dict_index(rd, key);
			d->cache[c].off = path_off;
			d->cache[c].gen = d->gen;
			d->cache[c].idx = idx;
		}
	} else {
		idx = dict_index(rd, key);
	}
	if (idx < 0) {
		j->full = 2; /* the dictionary is full: start again as an object */
		return;
	}
	{
		/* by hand: snprintf costs hundreds of instructions, for every field */
		size_t nd = 0;
		char rev[24];
		unsigned long v = (unsigned long)idx;
		do {
			rev[nd++] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		for (size_t q = 0; q < nd; q++)
			num[q] = rev[nd - 1 - q];
		num[nd] = '\0';
	}
	code = field_code(fl, val);
	if ((j->len > 1 && json_byte(j, ',') != 0) ||
	    json_byte(j, num[0]) != 0 || (num[1] && json_string_raw(j, num + 1) != 0) ||
	    json_byte(j, ',') != 0 ||
	    (code >= 10 && json_byte(j, (char)('0' + code / 10)) != 0) ||
	    (code > 0 && json_byte(j, (char)('0' + code % 10)) != 0) ||
	    (code == 0 && json_string(j, val) != 0)) {
		j->len = save;
		j->full = 1;
	}
}

#define RAW_SEEN_BITS 7
#define RAW_SEEN_SLOTS (1 << RAW_SEEN_BITS)

static void raw_fields(struct iso_rd *rd, struct iso_json *j, int pairs,
                       const struct iso_fields *fl, enum iso_line_mode mode,
                       long k, const char *oddity)
{
	struct iso_ntry *nt = &rd->nt;
	size_t from = 0, to = nt_count(nt);
	/* How often each path was met so far in this line: "Ustrd", then
	 * "Ustrd[2]"...  By interned offset in a small table while it has room;
	 * counted by comparing with every earlier leaf otherwise. */
	struct { uint32_t path, n; } seen_tab[RAW_SEEN_SLOTS];
	int seen_used = 0, by_table = nt->paths.n < ISO_INTERN_MAX;

	if (mode == LN_CHILD) {
		from = nt_tx(nt, k)->first;
		to = nt_tx(nt, k)->end;
	}
	if (by_table)
		memset(seen_tab, 0xff, sizeof seen_tab);
	for (size_t i = from; i < to && !j->full; i++) {
		const struct iso_leaf *lf = nt_leaf(nt, i);
		const char *path = nt_str(nt, lf->path), *key = path;
		long seen = 0;

		if (!leaf_in(lf, mode, k))
			continue;
		if (by_table) {
			uint32_t e = (lf->path * 2654435761u) >> (32 - RAW_SEEN_BITS);
			while (seen_tab[e].path != ISO_NONE && seen_tab[e].path != lf->path)
				e = (e + 1) & (RAW_SEEN_SLOTS - 1);
			if (seen_tab[e].path == ISO_NONE) {
				if (seen_used >= RAW_SEEN_SLOTS / 2) {
					by_table = 0; /* full enough: count the slow way */
				} else {
					seen_tab[e].path = lf->path;
					seen_tab[e].n = 0;
					seen_used++;
				}
			}
			if (by_table)
				seen = (long)seen_tab[e].n++;
		}
		/* Interned paths are equal exactly when their offsets are; once
		 * the intern table is full, strings must be compared. */
		for (size_t h = from; !by_table && h < i; h++) {
			const struct iso_leaf *prev = nt_leaf(nt, h);
			if (leaf_in(prev, mode, k) && (prev->path == lf->path ||
			    (nt->paths.n >= ISO_INTERN_MAX &&
			     strcmp(nt_str(nt, prev->path), path) == 0)))
				seen++;
		}
		if (seen > 0) {
			snprintf(rd->lb.key, sizeof rd->lb.key, "%s[%ld]", path, seen + 1);
			key = rd->lb.key;
		}
		raw_member(rd, j, pairs, fl, key, key == path && nt->paths.n <
		           ISO_INTERN_MAX ? lf->path : ISO_NONE, nt_str(nt, lf->text));
		if (lf->ccy != ISO_NONE) {
			/* key may already be lb.key: append in place */
			size_t n = strlen(key), room = sizeof rd->lb.key - sizeof "@Ccy";
			if (n > room)
				n = room;
			if (key != rd->lb.key)
				memcpy(rd->lb.key, key, n);
			memcpy(rd->lb.key + n, "@Ccy", sizeof "@Ccy");
			/* offsets stay below 2^31 (ISO_ENTRY_TEXT_MAX): the top bit
			 * tells the path's "@Ccy" name apart in the cache */
			raw_member(rd, j, pairs, fl, rd->lb.key, key == path && nt->paths.n <
			           ISO_INTERN_MAX ? lf->path | 0x80000000u : ISO_NONE,
			           nt_str(nt, lf->ccy));
		}
	}
	if (oddity)
		raw_member(rd, j, pairs, NULL, "_oddity", ISO_NONE, oddity);
}

/* The line's raw fields: [index, value, ...] against the statement's
 * dictionary, a value "text" or the code of the line's field that holds
 * it, or, when the dictionary is full, {"path": "value", ...}. */
static const char *raw_json(struct iso_rd *rd, const imp_line *ln,
                            enum iso_line_mode mode, long k, const char *oddity)
{
	struct iso_json j = { rd->lb.raw, sizeof rd->lb.raw, 0, 0 };
	int pairs = rd->st.begun;
	struct iso_fields fl;

	fields_of(ln, &fl);
	j.buf[j.len++] = pairs ? '[' : '{';
	raw_fields(rd, &j, pairs, &fl, mode, k, oddity);
	if (j.full == 2) {
		pairs = 0;
		j.len = 0;
		j.full = 0;
		j.buf[j.len++] = '{';
		raw_fields(rd, &j, pairs, NULL, mode, k, oddity);
	}
	/* ISO_JSON_RESERVE keeps room for the marker and the closing bracket. */
	if (j.full) {
		const char *mark = pairs ? ",-1,true" : ",\"_truncated\":true";
		size_t n = strlen(mark) - (j.len > 1 ? 0 : 1);
		memcpy(j.buf + j.len, mark + (j.len > 1 ? 0 : 1), n);
		j.len += n;
	}
	j.buf[j.len++] = pairs ? ']' : '}';
	ISO_ASSERT(j.len < j.cap);
	j.buf[j.len] = '\0';
	return j.buf;
}

/* Fills one line.  LN_ENTRY: an entry that is no batch, with the fields of
 * its single TxDtls if it has one; LN_BATCH: a batch entry, its own fields
 * only; LN_CHILD: TxDtls k of a batch, falling back on the entry for what
 * a transaction does not repeat (dates, status, bank transaction code).
 * Lookups stay within the line's own leaves, so a batch costs linear time. */
static int line_fill(struct iso_rd *rd, const struct iso_entry *e,
                     enum iso_line_mode mode, long k, imp_line *ln)
{
	struct iso_ntry *nt = &rd->nt;
	struct iso_line_bufs *lb = &rd->lb;
	long txv = mode == LN_CHILD ? k
	           : (mode == LN_ENTRY && e->children == 1) ? 0 : ISO_NO_VIEW;
	int sign = mode == LN_CHILD ? nt_tx(nt, k)->sign : e->sign;
	int rc;

	ISO_ASSERT(sign == 1 || sign == -1);
	memset(ln, 0, sizeof *ln);
	ln->entry_index = e->index;
	ln->child_index = mode == LN_CHILD ? k : -1;
	ln->is_batch = mode == LN_BATCH;
	ln->children = mode == LN_BATCH ? e->children : 0;
	ln->batch_difference_minor = mode == LN_BATCH ? e->batch_difference_minor : 0;
	ln->entry_ref = e->entry_ref;
	ln->booking_date = e->booking_date;
	ln->value_date = e->value_date;
	ln->amount_minor = mode == LN_CHILD ? nt_tx(nt, k)->amount_minor
	                                    : e->amount_minor;
	ln->asset = e->ccy;
	ln->status = e->status;
	ln->batch_id = e->batch_id;
	ln->reversal = e->reversal;
	ln->line_no = mode == LN_CHILD ? nt_tx(nt, k)->line : e->line;
	rc = counterparty(rd, txv, (sign > 0) != e->reversal, ln);
	if (rc == 0)
		rc = find_key(rd, txv, "Refs/EndToEndId", ISO_NO_VIEW, NULL,
		              &ln->end_to_end_id);
	if (rc == 0)
		rc = find_key(rd, txv, "Refs/InstrId", ISO_NO_VIEW, NULL,
		              &ln->instruction_id);
	if (rc == 0)
		rc = find_key(rd, txv, "Refs/UETR", ISO_NO_VIEW, NULL, &ln->uetr);
	if (rc == 0)
		rc = find_key(rd, txv, "RtrInf/Rsn/Cd", txv, "RtrInf/Rsn/Prtry",
		              &ln->return_reason);
	if (rc == 0 && mode == LN_CHILD)
		rc = find_key(rd, k, "Refs/AcctSvcrRef", ISO_NO_VIEW, NULL,
		              &ln->provider_ref);
	else if (rc == 0)
		rc = find_key(rd, -1, "AcctSvcrRef", txv, "Refs/AcctSvcrRef",
		              &ln->provider_ref);
	ln->tx_code = e->tx_code;
	if (rc == 0 && (mode == LN_CHILD || !e->tx_code)) {
		rc = tx_code(rd, txv, lb->tx_code, sizeof lb->tx_code, &ln->tx_code);
		if (!ln->tx_code)
			ln->tx_code = e->tx_code;
	}
	if (rc == 0)
		rc = charges(rd, mode == LN_CHILD ? k : -1, lb->charges,
		             sizeof lb->charges, &ln->charges);
	if (rc == 0 && !ln->charges && mode == LN_ENTRY)
		rc = charges(rd, txv, lb->charges, sizeof lb->charges, &ln->charges);
	if (rc != 0)
		return rc;
	ln->remittance = join_all(nt, txv, "RmtInf/Ustrd", lb->remittance,
	                          sizeof lb->remittance);
	if (!ln->remittance)
		ln->remittance = join_all(nt, txv, "RmtInf/Strd/CdtrRefInf/Ref",
		                          lb->remittance, sizeof lb->remittance);
	ln->raw_json = raw_json(rd, ln, mode, k, mode == LN_ENTRY && lb->oddity[0]
	                                         ? lb->oddity : NULL);
	return 0;
}

/* An entry with one TxDtls whose indicator contradicts the entry's: the
 * entry's wins (it is what moved the balance); the oddity is kept. */
static int single_oddity(struct iso_rd *rd, const struct iso_entry *e)
{
	const struct iso_leaf *ind;
	const char *s;
	int rc;

	rd->lb.oddity[0] = '\0';
	if (e->is_batch || e->children != 1)
		return 0;
	ind = nt_find(&rd->nt, 0, "CdtDbtInd");
	rc = leaf_key(rd, ind, &s);
	if (rc != 0 || !s || ind_sign(s) == e->sign)
		return rc;
	snprintf(rd->lb.oddity, sizeof rd->lb.oddity, "TxDtls/CdtDbtInd '%.20s' "
	         "contradicts the entry's '%s'; the entry's is used", s,
	         e->sign > 0 ? "CRDT" : "DBIT");
	return 0;
}

static int ntry_end(struct iso_rd *rd)
{
	struct iso_stmt *st = &rd->st;
	struct iso_entry e;
	imp_line ln;
	int rc;

	rd->nt.level = -1;
	rc = entry_facts(rd, &e);
	if (rc == 0 && e.is_batch)
		rc = batch_sum(rd, &e);
	if (rc == 0)
		rc = single_oddity(rd, &e);
	if (rc == 0 && !st->begun)
		rc = stmt_begin(rd, e.ccy, e.line);
	if (rc != 0)
		return rc;
	if (st->asset[0] && strcmp(st->asset, e.ccy) != 0)
		return field_fail(rd, nt_find(&rd->nt, -1, "Amt")->line, "entry",
		                  e.index, "Amt", "currency '%s' differs from the "
		                  "statement's '%s'", e.ccy, st->asset);
	/* Only booked entries move the booked balance; INFO and PDNG do not. */
	if (e.booked) {
		if (amount_add(st->pub.booked_sum_minor, e.amount_minor,
		               &st->pub.booked_sum_minor) != 0)
			return field_fail(rd, e.line, "entry", e.index, "Amt",
			                  "sum of the statement overflows");
		st->pub.booked_entries++;
	}
	rc = line_fill(rd, &e, e.is_batch ? LN_BATCH : LN_ENTRY, -1, &ln);
	if (rc == 0)
		rc = sink_line(rd, &ln);
	for (long k = 0; rc == 0 && e.is_batch && k < e.children; k++) {
		rc = line_fill(rd, &e, LN_CHILD, k, &ln);
		if (rc == 0)
			rc = sink_line(rd, &ln);
	}
	return rc;
}

/* --- pain.002 ------------------------------------------------------------ */

static void sts_reset(struct iso_pain_sts *s)
{
	s->sts[0] = '\0';
	s->rsn[0] = '\0';
	s->info[0] = '\0';
}

/* Status, reason and text of a *Sts block: StsRsnInf may repeat; the first
 * reason code counts and every AddtlInf is kept. */
static int sts_leaf(struct iso_rd *rd, struct iso_pain_sts *s, const char *rel,
                    const char *sts_name, long line)
{
	long idx = rd->pn.statuses;

	if (strcmp(rel, sts_name) == 0)
		return take_key(rd, s->sts, sizeof s->sts, line, "status", idx, rel);
	if ((strcmp(rel, "StsRsnInf/Rsn/Cd") == 0 ||
	     strcmp(rel, "StsRsnInf/Rsn/Prtry") == 0) && !s->rsn[0])
		return take_key(rd, s->rsn, sizeof s->rsn, line, "status", idx, rel);
	if (strcmp(rel, "StsRsnInf/AddtlInf") == 0 && rd->text_len > 0)
		join_text(s->info, sizeof s->info, "; ", rd->text);
	return 0;
}

static int pain_leaf(struct iso_rd *rd, int level, long line)
{
	struct iso_pain *pn = &rd->pn;
	long idx = pn->statuses;
	const char *rel;

	if (pn->tx_level >= 0 && level > pn->tx_level) {
		rel = path_below(rd, pn->tx_level);
		if (strcmp(rel, "OrgnlInstrId") == 0)
			return take_key(rd, pn->instr_id, sizeof pn->instr_id, line,
			                "status", idx, rel);
		if (strcmp(rel, "OrgnlEndToEndId") == 0)
			return take_key(rd, pn->e2e_id, sizeof pn->e2e_id, line, "status",
			                idx, rel);
		return sts_leaf(rd, &pn->tx, rel, "TxSts", line);
	}
	if (pn->pmt_level >= 0 && level > pn->pmt_level) {
		rel = path_below(rd, pn->pmt_level);
		if (strcmp(rel, "OrgnlPmtInfId") == 0)
			return take_key(rd, pn->pmt_id, sizeof pn->pmt_id, line, "status",
			                idx, rel);
		return sts_leaf(rd, &pn->pmt, rel, "PmtInfSts", line);
	}
	if (pn->grp_level >= 0 && level > pn->grp_level) {
		rel = path_below(rd, pn->grp_level);
		if (strcmp(rel, "OrgnlMsgId") == 0)
			return take_key(rd, pn->orig_msg_id, sizeof pn->orig_msg_id, line,
			                "status", idx, rel);
		return sts_leaf(rd, &pn->grp, rel, "GrpSts", line);
	}
	return 0;
}

/* One status.  The transaction's status wins, else its payment
 * information's, else the group's; the reason goes with the status. */
static int pain_emit(struct iso_rd *rd, int with_tx, int with_pmt, long line)
{
	struct iso_pain *pn = &rd->pn;
	const struct iso_pain_sts *src[3];
	const struct iso_pain_sts *use = NULL;
	imp_status s;
	int n = 0;

	if (pn->statuses >= ISO_STATUSES_MAX)
		return iso_fail(rd, LG_EDATA, line, "more than %ld statuses in one file",
		                ISO_STATUSES_MAX);
	if (with_tx)
		src[n++] = &pn->tx;
	if (with_pmt)
		src[n++] = &pn->pmt;
	src[n++] = &pn->grp;
	for (int i = 0; i < n && !use; i++)
		if (src[i]->sts[0])
			use = src[i];
	if (!use)
		use = src[0];
	memset(&s, 0, sizeof s);
	s.message_type = rd->msg_type;
	s.msg_id = rd->msg_id[0] ? rd->msg_id : NULL;
	s.orig_msg_id = pn->orig_msg_id[0] ? pn->orig_msg_id : NULL;
	s.orig_pmt_inf_id = with_pmt && pn->pmt_id[0] ? pn->pmt_id : NULL;
	s.orig_instr_id = with_tx && pn->instr_id[0] ? pn->instr_id : NULL;
	s.orig_end_to_end_id = with_tx && pn->e2e_id[0] ? pn->e2e_id : NULL;
	s.status = use->sts[0] ? use->sts : NULL;
	s.reason_code = use->rsn[0] ? use->rsn : NULL;
	s.reason_text = use->info[0] ? use->info : NULL;
	s.line_no = line;
	pn->statuses++;
	return sink_status(rd, &s);
}

static int pain_start(struct iso_rd *rd, const char *name, int level, long line)
{
	struct iso_pain *pn = &rd->pn;
	int rel = level - rd->doc_level;

	if (rel == 2 && strcmp(name, "OrgnlGrpInfAndSts") == 0) {
		pn->grp_level = level;
	} else if (rel == 2 && strcmp(name, "OrgnlPmtInfAndSts") == 0) {
		pn->pmt_level = level;
		pn->pmt_line = line;
		pn->pmt_txs = 0;
		pn->pmt_blocks++;
		pn->pmt_id[0] = '\0';
		sts_reset(&pn->pmt);
	} else if (pn->pmt_level >= 0 && level == pn->pmt_level + 1 &&
	           strcmp(name, "TxInfAndSts") == 0) {
		pn->tx_level = level;
		pn->tx_line = line;
		pn->pmt_txs++;
		pn->instr_id[0] = '\0';
		pn->e2e_id[0] = '\0';
		sts_reset(&pn->tx);
	}
	return 0;
}

static int pain_end(struct iso_rd *rd, int level, long line)
{
	struct iso_pain *pn = &rd->pn;

	if (level == pn->tx_level) {
		pn->tx_level = -1;
		return pain_emit(rd, 1, 1, pn->tx_line);
	}
	if (level == pn->pmt_level) {
		pn->pmt_level = -1;
		/* pain.002: a payment information block without TxInfAndSts has
		 * its status at block level only. */
		return pn->pmt_txs == 0 ? pain_emit(rd, 0, 1, pn->pmt_line) : 0;
	}
	if (level == pn->grp_level)
		pn->grp_level = -1;
	if (level == rd->doc_level && pn->pmt_blocks == 0 && pn->statuses == 0)
		return pain_emit(rd, 0, 0, line);
	return 0;
}

/* --- dispatch ------------------------------------------------------------ */

/* The Document element: its namespace names the message type. */
static int doc_start(struct iso_rd *rd, int level, long line)
{
	const char *ns = (const char *)xmlTextReaderConstNamespaceUri(rd->xr);

	if (rd->doc_seen)
		return iso_fail(rd, LG_EDATA, line, "more than one Document element");
	if (!ns || !ns[0])
		return iso_fail(rd, LG_EDATA, line, "the Document element has no "
		                "namespace, so its message type is unknown");
	if (type_from_ns(ns, rd->msg_type, sizeof rd->msg_type) != 0)
		return iso_fail(rd, LG_EDATA, line, "namespace '%.200s' names no ISO "
		                "20022 message", ns);
	rd->fam = family_of(rd->msg_type);
	if (!rd->fam)
		return iso_fail(rd, LG_EDATA, line, "%s is not supported (camt.052, "
		                "camt.053 and camt.054 from .001.02 and pain.002 from "
		                ".001.03 are)", rd->msg_type);
	rd->doc_level = level;
	rd->doc_seen = 1;
	return 0;
}

static int camt_start(struct iso_rd *rd, const char *name, int level, long line)
{
	struct iso_stmt *st = &rd->st;
	struct iso_ntry *nt = &rd->nt;

	if (level - rd->doc_level == 2 && strcmp(name, rd->fam->container) == 0)
		return stmt_start(rd, level, line);
	if (st->level < 0)
		return 0;
	if (level == st->level + 1 && strcmp(name, "Bal") == 0) {
		bal_reset(&st->cur);
		st->bal_level = level;
		st->cur.line = line;
		return 0;
	}
	if (level == st->level + 1 && strcmp(name, "Ntry") == 0)
		return ntry_start(rd, level, line);
	if (nt->level >= 0 && level == nt->level + 2 &&
	    level_is(rd, level - 1, "NtryDtls")) {
		if (strcmp(name, "TxDtls") == 0)
			return tx_start(rd, level, line);
		if (strcmp(name, "Btch") == 0)
			nt->has_btch = 1;
	}
	return 0;
}

static int on_start(struct iso_rd *rd, const char *name, int level, long line)
{
	if (rd->doc_level < 0) {
		/* Envelopes and application headers (head.001 AppHdr) around the
		 * Document are passed over. */
		if (strcmp(name, "Document") != 0)
			return 0;
		return doc_start(rd, level, line);
	}
	if (level - rd->doc_level == 1) {
		if (strcmp(name, rd->fam->root) != 0)
			return iso_fail(rd, LG_EDATA, line, "'%.100s' is not the root of "
			                "a %s message ('%s' is)", name, rd->msg_type,
			                rd->fam->root);
		return 0;
	}
	if (rd->fam->kind == ISO_PAIN002)
		return pain_start(rd, name, level, line);
	return camt_start(rd, name, level, line);
}

static int on_leaf(struct iso_rd *rd, int level, long line)
{
	struct iso_stmt *st = &rd->st;

	if (rd->doc_level < 0 || level <= rd->doc_level + 1)
		return 0;
	if (strcmp(path_below(rd, rd->doc_level + 1), "GrpHdr/MsgId") == 0)
		return take_key(rd, rd->msg_id, sizeof rd->msg_id, line, "message", 0,
		                "GrpHdr/MsgId");
	if (rd->fam->kind == ISO_PAIN002)
		return pain_leaf(rd, level, line);
	if (rd->nt.level >= 0 && level > rd->nt.level) {
		/* An empty <TxDtls/> closes as a leaf of its own: it opened a
		 * transaction and carries no field (found by fuzz_camt). */
		if (rd->nt.tx_open >= 0 && level == rd->nt.tx_level)
			return 0;
		return ntry_leaf(rd, path_below(rd, rd->nt.level), line);
	}
	if (st->bal_level >= 0 && level > st->bal_level)
		return bal_leaf(rd, path_below(rd, st->bal_level), line);
	if (st->level >= 0 && level > st->level)
		return stmt_leaf(rd, path_below(rd, st->level), line);
	return 0;
}

static int on_end(struct iso_rd *rd, int level, long line)
{
	struct iso_stmt *st = &rd->st;
	struct iso_ntry *nt = &rd->nt;
	int rc = 0;

	if (rd->doc_level < 0)
		return 0;
	if (rd->fam->kind == ISO_PAIN002) {
		rc = pain_end(rd, level, line);
	} else if (level == nt->level) {
		rc = ntry_end(rd);
	} else if (level == nt->tx_level) {
		nt->tx_level = -1;
		nt->tx_open = -1;
	} else if (level == st->bal_level) {
		bal_end(rd);
	} else if (level == st->level) {
		rc = stmt_end(rd, line);
	}
	if (level == rd->doc_level)
		rd->doc_level = -1;
	return rc;
}

/* --- the reader loop ----------------------------------------------------- */

static long node_line(struct iso_rd *rd)
{
	xmlNodePtr node = xmlTextReaderCurrentNode(rd->xr);
	long line = node ? xmlGetLineNo(node) : -1;

	return line > 0 ? line : xmlTextReaderGetParserLineNumber(rd->xr);
}

/* Keeps the element's text up to IMP_FIELD_MAX - 1 bytes, cut on a UTF-8
 * boundary; comments may split it into several nodes. */
static void on_text(struct iso_rd *rd)
{
	const char *v = (const char *)xmlTextReaderConstValue(rd->xr);
	size_t n, room;

	if (!v || rd->text_truncated)
		return;
	n = strlen(v);
	room = sizeof rd->text - 1 - rd->text_len;
	if (n > room) {
		n = utf8_cut(v, room, n);
		rd->text_truncated = 1;
	}
	memcpy(rd->text + rd->text_len, v, n);
	rd->text_len += n;
	rd->text[rd->text_len] = '\0';
}

static void text_trim(struct iso_rd *rd)
{
	size_t a = 0, b = rd->text_len;

	while (a < b && is_xml_space(rd->text[a]))
		a++;
	while (b > a && is_xml_space(rd->text[b - 1]))
		b--;
	memmove(rd->text, rd->text + a, b - a);
	rd->text_len = b - a;
	rd->text[rd->text_len] = '\0';
}

static int on_close(struct iso_rd *rd)
{
	int level = rd->depth - 1;
	long line = rd->stack[level].line;
	int rc = 0;

	ISO_ASSERT(level >= 0);
	if (!rd->stack[level].has_child) {
		text_trim(rd);
		rc = on_leaf(rd, level, line);
	}
	if (rc == 0)
		rc = on_end(rd, level, line);
	path_pop(rd);
	return rc;
}

static int on_element(struct iso_rd *rd)
{
	const char *name = (const char *)xmlTextReaderConstLocalName(rd->xr);
	int empty = xmlTextReaderIsEmptyElement(rd->xr);
	long line = node_line(rd);
	int rc;

	if (!name)
		return iso_fail(rd, LG_EINTERNAL, line, "element without a name");
	rc = path_push(rd, name, line);
	if (rc != 0)
		return rc;
	rd->text_len = 0;
	rd->text[0] = '\0';
	rd->text_truncated = 0;
	rd->ccy[0] = '\0';
	rd->ccy_too_long = 0;
	if (xmlTextReaderHasAttributes(rd->xr) == 1) {
		xmlChar *c = xmlTextReaderGetAttribute(rd->xr, BAD_CAST "Ccy");
		if (c) {
			if (strlen((const char *)c) >= sizeof rd->ccy)
				rd->ccy_too_long = 1;
			else
				snprintf(rd->ccy, sizeof rd->ccy, "%s", (const char *)c);
			xmlFree(c);
		}
	}
	rc = on_start(rd, name, rd->depth - 1, line);
	if (rc == 0 && empty == 1)
		rc = on_close(rd);
	return rc;
}

/* The reader's node type.  A text node is text: xmlTextReaderNodeType
 * would first ask whether it is blank and then look for xml:space on every
 * ancestor of each blank node between elements (a twentieth of the reading
 * thread), to tell significant from insignificant whitespace; the element's
 * text is trimmed anyway, and blanks between a leaf's other text are its
 * text.  Elements still need the reader, which alone knows an end. */
static int node_type(struct iso_rd *rd)
{
	xmlNodePtr cur = xmlTextReaderCurrentNode(rd->xr);

	if (cur && (cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE))
		return XML_READER_TYPE_TEXT;
	return xmlTextReaderNodeType(rd->xr);
}

static int iso_walk(struct iso_rd *rd, int sniff_only)
{
	for (long nodes = 0;; nodes++) {
		int r, rc = 0;

		if (nodes >= ISO_NODES_MAX)
			return iso_fail(rd, LG_EDATA, node_line(rd), "more than %ld XML "
			                "nodes", ISO_NODES_MAX);
		r = xmlTextReaderRead(rd->xr);
		if (r < 0 || rd->xml_err_set)
			return xml_fail(rd);
		if (r == 0)
			break;
		switch (node_type(rd)) {
		case XML_READER_TYPE_ELEMENT:
			rc = on_element(rd);
			break;
		case XML_READER_TYPE_END_ELEMENT:
			rc = on_close(rd);
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
			on_text(rd);
			break;
		case XML_READER_TYPE_DOCUMENT_TYPE:
			/* A DTD can declare entities that expand without bound or read
			 * local files; no bank file needs one. */
			return iso_fail(rd, LG_EDATA, node_line(rd), "a document type "
			                "declaration (DTD) is refused");
		case XML_READER_TYPE_ENTITY_REFERENCE:
		case XML_READER_TYPE_ENTITY:
			return iso_fail(rd, LG_EDATA, node_line(rd), "entity reference "
			                "'&%.60s;' is refused",
			                (const char *)xmlTextReaderConstName(rd->xr));
		default:
			break; /* comments, processing instructions, whitespace */
		}
		if (rc != 0)
			return rc;
		if (sniff_only && rd->doc_seen)
			return 0;
	}
	if (!rd->doc_seen)
		return iso_fail(rd, LG_EDATA, xmlTextReaderGetParserLineNumber(rd->xr),
		                "no ISO 20022 Document element");
	ISO_ASSERT(rd->depth == 0);
	return 0;
}
