/*
 * floor_inserts.c - the schema floor for the posting benchmark: what SQLite
 * alone costs to write clearbook's rows.  Into a ledger made by
 * `clearbook init` (so the real tables, indexes, constraints and triggers),
 * it inserts N transaction rows and 2*N posting rows with the statements
 * the ledger itself uses, in one transaction, with the ledger's pragmas, and
 * no parsing, checking or hashing.  Prints the elapsed seconds.
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

static int insert_tx(sqlite3_stmt *tx, sqlite3_stmt *pp, long i)
{
	unsigned char hash[32], amount[16];
	char id[32];

	memset(hash, (int)(i & 0xff), sizeof hash);
	memset(amount, 0, sizeof amount);
	amount[0] = 0x80;
	amount[15] = (unsigned char)(i & 0xff);
	snprintf(id, sizeof id, "t%ld", i);
	sqlite3_bind_int64(tx, 1, i);
	sqlite3_bind_text(tx, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(tx, 3, "posted", -1, SQLITE_STATIC);
	sqlite3_bind_text(tx, 5, "2026-11-24", -1, SQLITE_STATIC);
	sqlite3_bind_text(tx, 6, "2026-11-25T02:00:00Z", -1, SQLITE_STATIC);
	sqlite3_bind_text(tx, 8, "order", -1, SQLITE_STATIC);
	sqlite3_bind_text(tx, 9, "{}", -1, SQLITE_STATIC);
	sqlite3_bind_blob(tx, 10, hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(tx, 11, hash, 32, SQLITE_STATIC);
	if (sqlite3_step(tx) != SQLITE_DONE)
		return -1;
	sqlite3_reset(tx);
	sqlite3_bind_int64(pp, 1, i);
	sqlite3_bind_int(pp, 2, 0);
	sqlite3_bind_int64(pp, 3, 1 + i % 10000);
	sqlite3_bind_blob(pp, 4, amount, 16, SQLITE_STATIC);
	sqlite3_bind_int(pp, 5, 1);
	sqlite3_bind_int64(pp, 6, 1 + (i * 7) % 10000);
	sqlite3_bind_blob(pp, 7, amount, 16, SQLITE_STATIC);
	if (sqlite3_step(pp) != SQLITE_DONE)
		return -1;
	sqlite3_reset(pp);
	return 0;
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *tx = NULL, *pp = NULL;
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
	t0 = now_s();
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	             " PRAGMA cache_size=-32768; BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "INSERT INTO transactions(seq, id, kind, ref_seq, date,"
	                       " booked_at, expires_at, memo, meta, content_hash, hash)"
	                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	                       -1, &tx, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO postings(tx_seq, idx, account_id, amount)"
	                       " VALUES(?1, ?2, ?3, ?4), (?1, ?5, ?6, ?7)", -1, &pp,
	                       NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_floor: %s\n", sqlite3_errmsg(db));
		return 70;
	}
	for (long i = 1; i <= n; i++) {
		if (insert_tx(tx, pp, i) != 0) {
			fprintf(stderr, "bench_floor: %s\n", sqlite3_errmsg(db));
			return 70;
		}
	}
	sqlite3_finalize(tx);
	sqlite3_finalize(pp);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	printf("%.3f\n", now_s() - t0);
	return 0;
}
