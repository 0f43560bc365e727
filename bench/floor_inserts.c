/*
 * floor_inserts.c - the schema floor for the posting benchmark: what SQLite
 * alone costs to write clearbook's rows.  Into a ledger made by
 * `clearbook init` (so the real tables, indexes, constraints and triggers),
 * it inserts N transaction rows and 2*N posting rows the way the ledger
 * writes them (ledger/group.c: the rows of 16 transactions to one
 * multi-row INSERT, their 32 postings to another), in one transaction,
 * with the ledger's pragmas, and no parsing, checking or hashing.  Prints
 * the elapsed seconds.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#define GROUP 16 /* transactions to a statement, as LG_GROUP_TX_MAX */

/* Binds transaction i as row r of the transaction and postings statements. */
static void bind_tx(sqlite3_stmt *tx, sqlite3_stmt *pp, int r, long i,
                    unsigned char hash[GROUP][32], unsigned char amount[GROUP][16],
                    char id[GROUP][32])
{
	int t = 11 * r, p = 8 * r;

	memset(hash[r], (int)(i & 0xff), 32);
	memset(amount[r], 0, 16);
	amount[r][0] = 0x80;
	amount[r][15] = (unsigned char)(i & 0xff);
	snprintf(id[r], 32, "t%ld", i);
	sqlite3_bind_int64(tx, t + 1, i);
	sqlite3_bind_text(tx, t + 2, id[r], -1, SQLITE_STATIC);
	sqlite3_bind_text(tx, t + 3, "posted", -1, SQLITE_STATIC);
	sqlite3_bind_null(tx, t + 4);
	sqlite3_bind_text(tx, t + 5, "2026-11-24", -1, SQLITE_STATIC);
	sqlite3_bind_text(tx, t + 6, "2026-11-25T02:00:00Z", -1, SQLITE_STATIC);
	sqlite3_bind_null(tx, t + 7);
	sqlite3_bind_text(tx, t + 8, "order", -1, SQLITE_STATIC);
	sqlite3_bind_text(tx, t + 9, "{}", -1, SQLITE_STATIC);
	sqlite3_bind_blob(tx, t + 10, hash[r], 32, SQLITE_STATIC);
	sqlite3_bind_blob(tx, t + 11, hash[r], 32, SQLITE_STATIC);
	sqlite3_bind_int64(pp, p + 1, i);
	sqlite3_bind_int(pp, p + 2, 0);
	sqlite3_bind_int64(pp, p + 3, 1 + i % 10000);
	sqlite3_bind_blob(pp, p + 4, amount[r], 16, SQLITE_STATIC);
	sqlite3_bind_int64(pp, p + 5, i);
	sqlite3_bind_int(pp, p + 6, 1);
	sqlite3_bind_int64(pp, p + 7, 1 + (i * 7) % 10000);
	sqlite3_bind_blob(pp, p + 8, amount[r], 16, SQLITE_STATIC);
}

/* "INSERT ... VALUES(?,..),(?,..)": rows of cols parameters. */
static sqlite3_stmt *prepare_rows(sqlite3 *db, const char *head, int rows, int cols)
{
	char sql[8192];
	size_t len = strlen(head);
	sqlite3_stmt *st = NULL;

	memcpy(sql, head, len);
	for (int r = 0; r < rows; r++) {
		sql[len++] = r ? ',' : ' ';
		sql[len++] = '(';
		for (int c = 0; c < cols; c++) {
			if (c)
				sql[len++] = ',';
			sql[len++] = '?';
		}
		sql[len++] = ')';
	}
	sql[len] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

/* Prepared statements by row count. */
struct stmts {
	sqlite3_stmt *tx[GROUP + 1], *pp[GROUP + 1];
};

/* Writes transactions from..to (at most GROUP) with statements of that many
 * rows. */
static int insert_group(sqlite3 *db, struct stmts *st, long from, long to)
{
	static const char tx_head[] = "INSERT INTO transactions(seq, id, kind, ref_seq,"
		" date, booked_at, expires_at, memo, meta, content_hash, hash) VALUES";
	static const char pp_head[] = "INSERT INTO postings(tx_seq, idx, account_id,"
		" amount) VALUES";
	unsigned char hash[GROUP][32], amount[GROUP][16];
	char id[GROUP][32];
	int rows = (int)(to - from + 1), rc;

	if (!st->tx[rows]) {
		st->tx[rows] = prepare_rows(db, tx_head, rows, 11);
		st->pp[rows] = prepare_rows(db, pp_head, 2 * rows, 4);
		if (!st->tx[rows] || !st->pp[rows])
			return -1;
	}
	for (int r = 0; r < rows; r++)
		bind_tx(st->tx[rows], st->pp[rows], r, from + r, hash, amount, id);
	rc = sqlite3_step(st->tx[rows]) == SQLITE_DONE &&
	     sqlite3_step(st->pp[rows]) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st->tx[rows]);
	sqlite3_reset(st->pp[rows]);
	return rc;
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	struct stmts st;
	long n;
	double t0;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_floor LEDGER_DB N\n");
		return 64;
	}
	n = atol(argv[2]);
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK)
		return 74;
	memset(&st, 0, sizeof st);
	t0 = now_s();
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	             " PRAGMA cache_size=-32768; BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (long i = 1; i <= n; i += GROUP) {
		if (insert_group(db, &st, i, i + GROUP - 1 <= n ? i + GROUP - 1 : n) != 0) {
			fprintf(stderr, "bench_floor: %s\n", sqlite3_errmsg(db));
			return 70;
		}
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	for (int r = 0; r <= GROUP; r++) {
		sqlite3_finalize(st.tx[r]);
		sqlite3_finalize(st.pp[r]);
	}
	sqlite3_close(db);
	printf("%.3f\n", now_s() - t0);
	return 0;
}
