/*
 * importers.h - channel files into normalised statement lines: the whole
 * public contract of importers/.
 *
 * A reader parses one file and hands what it finds to a sink, one call per
 * statement, statement line and payment status, in file order.  It never
 * writes anything itself: the caller's sink stages (or, for --dry-run,
 * only counts) and decides whether the file goes in whole or not at all.
 * libxml2 and libcsv types do not leak through this header.
 *
 * Sign convention, as in the ledger: an amount is signed minor units of its
 * asset, positive for money coming into the account the statement is for
 * (CRDT), negative for money going out (DBIT).
 */
#ifndef CLEARBOOK_IMPORTERS_H
#define CLEARBOOK_IMPORTERS_H

#include "../ledger/ledger.h"

#define IMP_FIELD_MAX LG_STMT_FIELD_MAX  /* bytes kept of any one text field */
#define IMP_RAW_MAX LG_STMT_RAW_MAX      /* bytes of the raw-fields JSON of one line */

/* The statement, statement line and payment status types are the ledger's
 * staging types (ledger.h), so that what a reader produces is what the
 * staging area stores, field for field. */
typedef ledger_stmt_statement imp_statement;
typedef ledger_stmt_line imp_line;
typedef ledger_stmt_status imp_status;

typedef struct imp_sink {
	void *ctx;
	int (*statement_begin)(void *ctx, const imp_statement *st, lg_error *err);
	int (*line)(void *ctx, const imp_statement *st, const imp_line *ln,
	            lg_error *err);
	int (*statement_end)(void *ctx, const imp_statement *st, lg_error *err);
	int (*status)(void *ctx, const imp_status *s, lg_error *err);
} imp_sink;

/* Looks up the scale of a currency or token; returns 0 and sets *scale, or
 * non-zero when the asset is unknown. */
typedef int (*imp_scale_fn)(void *ctx, const char *asset, int *scale);

/*
 * Reads an ISO 20022 file (camt.052, camt.053, camt.054 versions .02 to .08
 * and later where the fields did not move; pain.002, including the Swiss
 * SIX namespaces) with libxml2's streaming reader, never resolving entities
 * or loading DTDs or anything from the network.  Calls the sink in file
 * order.  A line's raw_json is [index, "value", ...] pairs whose names
 * are the statement's raw_header (a JSON array that grows as new paths are
 * met: at each line it names every index used so far; -1 is
 * "_truncated"), or a JSON object when the statement has met more names
 * than it keeps.  Errors (LG_EDATA) name the file, line, entry and field;
 * a sink's non-zero return stops the read and is returned.
 */
int imp_iso20022_read(const char *path, imp_scale_fn scale, void *scale_ctx,
                      const imp_sink *sink, lg_error *err);

/* The message type a file declares ("camt.053.001.04"), or an error naming
 * the unsupported type; used to tell messages apart without reading all. */
int imp_iso20022_sniff(const char *path, char *type, size_t type_cap,
                       lg_error *err);


/* --- CSV files, read through profiles (importers/profiles/NAME.ini) ------ */

/* How one channel's CSV export is laid out and what its columns mean;
 * opaque.  Every key is documented in importers/profiles/README.md. */
typedef struct imp_profile imp_profile;

/*
 * Loads a profile: `name_or_path` is a profile name, read from
 * PROFILES_DIR/NAME.ini (profiles_dir NULL: "importers/profiles"), or,
 * when it holds a '/' or ends in ".ini", the path of a profile file
 * (--profile-file).  An unknown key, a bad value or a missing required key
 * is LG_EUSAGE naming the file and line.  On success *out is the caller's,
 * to be given back with imp_profile_free.
 */
int imp_profile_load(const char *name_or_path, const char *profiles_dir,
                     imp_profile **out, lg_error *err);
void imp_profile_free(imp_profile *p);
/* The channel ("bank", "card", "alipay", ...) and name; borrowed. */
const char *imp_profile_channel(const imp_profile *p);
const char *imp_profile_name(const imp_profile *p);
/* Sets one key after loading, as "SECTION.KEY" ("amount.own_address"),
 * with the same checks as in the file (a --set option). */
int imp_profile_set(imp_profile *p, const char *key, const char *value,
                    lg_error *err);

/*
 * Reads a CSV file through `profile`, streaming: the file is decoded to
 * UTF-8 and parsed chunk by chunk, so memory is bounded by the longest row,
 * never by the file.  Calls sink->statement_begin once (message_type
 * "csv:NAME", statement_id the file's base name, account_id NULL, asset
 * the profile's fixed asset or NULL, seq_nb -1, no balances), sink->line
 * once per data row (entry_index the row number from 0, child_index -1,
 * line_no the physical line the row starts on, raw_json the JSON array of
 * the row's cells, whose names are the statement's raw_header, the header
 * as a JSON array), then statement_end with the rows' sum and count.
 * The first bad row stops the read: LG_EDATA naming file, line, column and
 * reason (the caller's sink then stages nothing).  A sink's non-zero return
 * stops the read and is returned.
 */
int imp_csv_read(const char *path, const imp_profile *profile,
                 imp_scale_fn scale, void *scale_ctx, const imp_sink *sink,
                 lg_error *err);

/* Hears of one refused CSV row: err->msg names file, line, column and
 * reason ("t.csv:3: column 2 'Amount': ..."), err->line the line.  err is
 * borrowed for the call only. */
typedef void (*imp_reject_fn)(void *ctx, const lg_error *err);

/*
 * As imp_csv_read, but a bad data row does not stop the read: each one is
 * handed to `reject` (which may be NULL), is never given to sink->line,
 * and the read goes on, so that one run names every bad row.  Once a row
 * has been refused the sink sees no further lines and no statement_end;
 * at the end the file fails with LG_EDATA and the summary "FILE: N rows
 * refused; nothing was staged" (the caller must then stage nothing of
 * the file, as for any error).  After 1000 refused rows the read stops
 * and the summary says so.  Errors that leave nothing sensible to read on
 * from stop at once, as in imp_csv_read, with their own code and message
 * (the count of rows refused before them added): bytes invalid in the
 * encoding, malformed CSV (a stray or unterminated quote), no header or a
 * header without a required column, a line or row over its size limit,
 * I/O errors and a sink's non-zero return.  *rejected_out (may be NULL)
 * is the number of rows refused, whatever the outcome.
 */
int imp_csv_read_all(const char *path, const imp_profile *profile,
                     imp_scale_fn scale, void *scale_ctx, const imp_sink *sink,
                     imp_reject_fn reject, void *reject_ctx, long *rejected_out,
                     lg_error *err);

/* --- feeds posted straight to the ledger ([posting] profiles) ------------- */

/* Whether the profile has a [posting] template (the `orders` profile):
 * its rows are ledger transactions, read with imp_csv_post_all, not
 * statement lines. */
int imp_profile_posts(const imp_profile *p);

/*
 * Hears of one row's transaction: `json` (len bytes, NUL-terminated) is a
 * record in ledger_post_json's format; `ln` is the row as a statement line
 * would see it (its line_no, amount, asset, date, raw_json), borrowed for
 * the call.  Returns 0 (*replayed set when the ledger already held the same
 * transaction), LG_EDATA or LG_ENOINPUT when the ledger refused the record
 * and it left nothing behind (the row is then reported and the read goes
 * on), or any other code to stop the read.
 */
typedef int (*imp_post_fn)(void *ctx, const imp_line *ln, const char *json,
                           size_t len, int *replayed, lg_error *err);

/*
 * Reads a CSV file through a profile with a [posting] template
 * (importers/profiles/README.md): every data row is checked as in
 * imp_csv_read_all, its transaction built from the template and handed to
 * `post` in file order.  Every bad row, whether refused here (a bad cell)
 * or by `post` (an overdraft, an id posted before with other content, an
 * unknown account), goes to `reject` named "FILE:LINE: column N 'HEADER':
 * reason" and the read goes on, so that one run names them all; rows after
 * a refused one are still posted, to be checked, so the caller must then
 * roll everything back: the file fails with LG_EDATA and the summary
 * "FILE: N rows refused; nothing was posted".  *posted_out and
 * *replayed_out (may be NULL) count what `post` accepted.
 */
int imp_csv_post_all(const char *path, const imp_profile *profile,
                     imp_scale_fn scale, void *scale_ctx, imp_post_fn post,
                     void *post_ctx, imp_reject_fn reject, void *reject_ctx,
                     long *rejected_out, long *posted_out, long *replayed_out,
                     lg_error *err);

#endif
