/*
 * reader.c - `clearbook post` reads and parses its input on a second thread.
 *
 * Parsing a line (JSON, canonical metadata, the content hash) needs nothing
 * of the database, so while the writing thread checks, hashes and inserts
 * the lines of one block, this thread fills the next: a ring of
 * READER_BLOCKS blocks of up to READER_LINES lines, handed over in file
 * order under one mutex.  A block keeps the text of its lines, which the
 * parser decoded in place, so the parsed strings live until the writer
 * gives the block back.
 *
 * Stopping early (the writer met an error that ends the batch) must not
 * wait for input that may never come, a pipe or a terminal: the thread can
 * be cancelled only while it waits inside getline, where it holds nothing.
 */
#include "ledger_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define READER_BLOCKS 3
#define READER_LINES 256
#define READER_POSTINGS 1024
/* Room for the longest line, its metadata, and a block's usual fill. */
#define READER_TEXT (4 * (LG_LINE_MAX + LG_META_MAX + 2))

struct lg_block {
	int n;                              /* records */
	struct lg_parsed rec[READER_LINES];
	struct lg_pposting post[READER_POSTINGS];
	int post_n;
	char text[READER_TEXT];             /* the lines and their metadata */
	size_t text_used;
	int last;                           /* the input ends after this block */
};

struct lg_reader {
	FILE *in;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct lg_block *block[READER_BLOCKS];
	int filled[READER_BLOCKS];          /* 1: ready for the writer */
	int next_fill, next_take;
	int stop;                           /* the writer is going */
	int io_error;                       /* reading the input failed */
	int ended;                          /* the last block was taken */
	/* The thread's own. */
	struct lg_json *json;
	struct lg_hasher *hs;
	char *line;
	size_t cap;
	long lineno;
};

/* getline, the only place the thread may be cancelled. */
static ssize_t read_line(struct lg_reader *r)
{
	int old;
	ssize_t got;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	got = getline(&r->line, &r->cap, r->in);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return got;
}

static int block_has_room(const struct lg_block *b)
{
	return b->n < READER_LINES &&
	       b->post_n + LG_POSTINGS_MAX <= READER_POSTINGS &&
	       b->text_used + LG_LINE_MAX + LG_META_MAX + 2 <= READER_TEXT;
}

/* Reads lines into b until it is full or the input ends. */
static void fill(struct lg_reader *r, struct lg_block *b)
{
	ssize_t got;

	b->n = 0;
	b->post_n = 0;
	b->text_used = 0;
	b->last = 0;
	while (block_has_room(b)) {
		struct lg_parsed *rec;
		size_t len;
		char *text;

		got = read_line(r);
		if (got < 0) {
			b->last = 1;
			r->io_error = ferror(r->in) != 0;
			return;
		}
		len = (size_t)got;
		r->lineno++;
		while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		rec = &b->rec[b->n++];
		rec->lineno = r->lineno;
		if (len > LG_LINE_MAX) {
			rec->posting_rc = LG_OK;
			rec->n = 0;
			rec->rc = lg_error_set(&rec->err, LG_EDATA, "line longer than %d bytes",
			                       LG_LINE_MAX);
			continue;
		}
		text = b->text + b->text_used;
		memcpy(text, r->line, len);
		text[len] = '\0';
		lg_parse_line(r->json, r->hs, text, len, text + len + 1, &b->post[b->post_n],
		              rec);
		b->post_n += rec->n;
		b->text_used += len + 1;
		if (rec->rc == LG_OK && rec->meta == text + len + 1)
			b->text_used += strlen(rec->meta) + 1;
	}
}

static void *run(void *arg)
{
	struct lg_reader *r = arg;
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	for (;;) {
		struct lg_block *b;
		int i;

		pthread_mutex_lock(&r->mu);
		i = r->next_fill;
		while (!r->stop && r->filled[i])
			pthread_cond_wait(&r->cond, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		b = r->block[i];
		pthread_mutex_unlock(&r->mu);

		fill(r, b);

		pthread_mutex_lock(&r->mu);
		r->filled[i] = 1;
		r->next_fill = (i + 1) % READER_BLOCKS;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->mu);
		if (b->last)
			return NULL;
	}
}

static void reader_free(struct lg_reader *r)
{
	for (int i = 0; i < READER_BLOCKS; i++)
		free(r->block[i]);
	free(r->json);
	lg_hasher_free(r->hs);
	free(r->line);
	free(r);
}

int lg_reader_start(FILE *in, struct lg_reader **out, lg_error *err)
{
	struct lg_reader *r = calloc(1, sizeof *r);
	int ok;

	*out = NULL;
	if (!r)
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	r->in = in;
	ok = (r->json = malloc(sizeof *r->json)) != NULL && (r->hs = lg_hasher_new()) != NULL;
	for (int i = 0; ok && i < READER_BLOCKS; i++)
		ok = (r->block[i] = malloc(sizeof *r->block[i])) != NULL;
	if (!ok) {
		reader_free(r);
		return lg_error_set(err, LG_EINTERNAL, "out of memory");
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (pthread_create(&r->thread, NULL, run, r) != 0) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->mu);
		reader_free(r);
		return lg_error_set(err, LG_EINTERNAL, "cannot start the reading thread");
	}
	r->started = 1;
	*out = r;
	return LG_OK;
}

struct lg_parsed *lg_reader_lines(struct lg_reader *r, int *n)
{
	struct lg_block *b;
	int i;

	*n = 0;
	if (r->ended)
		return NULL;
	pthread_mutex_lock(&r->mu);
	i = r->next_take;
	while (!r->filled[i])
		pthread_cond_wait(&r->cond, &r->mu);
	b = r->block[i];
	pthread_mutex_unlock(&r->mu);
	r->ended = b->last;
	*n = b->n;
	return b->rec;
}

void lg_reader_release(struct lg_reader *r)
{
	int i = r->next_take;

	pthread_mutex_lock(&r->mu);
	LG_ASSERT(r->filled[i]);
	r->filled[i] = 0;
	r->next_take = (i + 1) % READER_BLOCKS;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

int lg_reader_failed(const struct lg_reader *r)
{
	LG_ASSERT(r->ended);
	return r->io_error;
}

void lg_reader_stop(struct lg_reader *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
	if (!r->ended)
		pthread_cancel(r->thread); /* it may wait for input that never comes */
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mu);
	reader_free(r);
}
