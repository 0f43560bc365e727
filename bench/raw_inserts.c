/*
 * raw_inserts.c - the baseline for the posting benchmark: N posting rows
 * (tx_seq, idx, account_id, 16-byte amount) inserted with one prepared
 * statement in one transaction, with the pragmas the ledger uses (WAL,
 * synchronous=FULL).  Prints the elapsed wall time in seconds.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct timespec t0, t1;
	long rows;
	unsigned char amount[16];

	if (argc != 3) {
		fprintf(stderr, "usage: bench_raw DB ROWS\n");
		return 64;
	}
	rows = atol(argv[2]);
	remove(argv[1]);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		return 74;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	             " PRAGMA cache_size=-16384;"
	             "CREATE TABLE postings(tx_seq INTEGER NOT NULL, idx INTEGER NOT NULL,"
	             " account_id INTEGER NOT NULL, amount BLOB NOT NULL);"
	             "BEGIN", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "INSERT INTO postings VALUES(?1, ?2, ?3, ?4)", -1,
	                       &st, NULL) != SQLITE_OK)
		return 70;
	memset(amount, 0, sizeof amount);
	amount[0] = 0x80;
	for (long i = 0; i < rows; i++) {
		amount[15] = (unsigned char)i;
		sqlite3_bind_int64(st, 1, i / 2 + 1);
		sqlite3_bind_int(st, 2, (int)(i % 2));
		sqlite3_bind_int64(st, 3, i % 10000);
		sqlite3_bind_blob(st, 4, amount, 16, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return 70;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) +
	                 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
