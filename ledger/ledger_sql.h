/*
 * ledger_sql.h - the ledger's SQLite handle, for the sibling modules
 * (clearing/, reports/, exporters/, front/) that keep their own tables in
 * the ledger's database or read the journal with SQL.
 *
 * Contract: callers prepare every statement with bound parameters, never
 * write the journal's tables (transactions, postings, balances, accounts,
 * periods: the ledger's triggers refuse updates and deletes anyway; new
 * transactions go through ledger_post_json), and do their writes between
 * ledger_begin and ledger_commit so that their rows and the postings they
 * cause commit together or not at all.
 */
#ifndef CLEARBOOK_LEDGER_SQL_H
#define CLEARBOOK_LEDGER_SQL_H

#include <sqlite3.h>

#include "ledger.h"

/* Borrowed; valid until ledger_close. */
sqlite3 *ledger_sqlite(ledger *lg);

/*
 * Sets err from the handle's last SQLite error, as the ledger does its own:
 * busy is LG_EBUSY, a full disk, a failed write, a read-only or unopenable
 * database is LG_EIO naming the database file, anything else LG_EINTERNAL.
 * `what` says what was being done.  Returns the code set.
 */
int ledger_sql_error(ledger *lg, lg_error *err, const char *what);

#endif
