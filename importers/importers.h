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
 * order.  Errors (LG_EDATA) name the file, line, entry and field; a sink's
 * non-zero return stops the read and is returned.
 */
int imp_iso20022_read(const char *path, imp_scale_fn scale, void *scale_ctx,
                      const imp_sink *sink, lg_error *err);

/* The message type a file declares ("camt.053.001.04"), or an error naming
 * the unsupported type; used to tell messages apart without reading all. */
int imp_iso20022_sniff(const char *path, char *type, size_t type_cap,
                       lg_error *err);

#endif
