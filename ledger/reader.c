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
 * wait for input that may never come, a pipe or a terminal: a stream with a
 * file descriptor is read with read(2) after poll(2) on it and on a pipe the
 * writer writes to when it stops.  A stream without one (fmemopen) cannot
 * block and is read with fread.
 */
#include "ledger_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READER_BLOCKS 3
#define READER_LINES 256
#define READER_POSTINGS 1024
/* Room for the longest line, its metadata, and a block's usual fill. */
#define READER_TEXT (4 * (LG_LINE_MAX + LG_META_MAX + 2))
#define READER_CHUNK (64 * 1024)

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
	int fd;                             /* fileno(in), -1 if none */
	int wake[2];                        /* written to when the writer stops */
	/* The thread's own. */
	struct lg_json *json;
	struct lg_hasher *hs;
	char chunk[READER_CHUNK];           /* read, not yet split into lines */
	size_t chunk_pos, chunk_len;
	int eof;
	long lineno;
};

/* Refills the chunk: 1 data, 0 end of input, -1 read error, -2 stopped. */
static int refill(struct lg_reader *r)
{
	ssize_t got;

	r->chunk_pos = r->chunk_len = 0;
	if (r->fd < 0) {
		size_t n = fread(r->chunk, 1, sizeof r->chunk, r->in);
		r->chunk_len = n;
		if (n > 0)
			return 1;
		return ferror(r->in) ? -1 : 0;
	}
	for (;;) {
		struct pollfd p[2] = { { r->fd, POLLIN, 0 }, { r->wake[0], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			return -2;
		got = read(r->fd, r->chunk, sizeof r->chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		r->chunk_len = (size_t)got;
		return got > 0 ? 1 : 0;
	}
}

/* The next line into out[LG_LINE_MAX + 1] without its newline: 1 a line
 * (*len bytes, or *too_long and nothing kept), 0 end of input, -1 read
 * error, -2 stopped. */
static int next_line(struct lg_reader *r, char *out, size_t *len, int *too_long)
{
	size_t n = 0;
	int any = 0;

	*too_long = 0;
	for (;;) {
		char *start, *nl;
		size_t avail, take;
		if (r->chunk_pos == r->chunk_len) {
			int rc = r->eof ? 0 : refill(r);
			if (rc == 0) {
				r->eof = 1;
				*len = n;
				return any ? 1 : 0; /* a last line without a newline */
			}
			if (rc < 0)
				return rc;
		}
		any = 1;
		start = r->chunk + r->chunk_pos;
		avail = r->chunk_len - r->chunk_pos;
		nl = memchr(start, '\n', avail);
		take = nl ? (size_t)(nl - start) : avail;
		if (!*too_long && n + take <= LG_LINE_MAX + 1) {
			memcpy(out + n, start, take);
			n += take;
		} else {
			*too_long = 1;
		}
		r->chunk_pos += take + (nl != NULL);
		if (nl) {
			*len = n;
			return 1;
		}
	}
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
	b->n = 0;
	b->post_n = 0;
	b->text_used = 0;
	b->last = 0;
	while (block_has_room(b)) {
		struct lg_parsed *rec;
		char *text = b->text + b->text_used;
		size_t len;
		int too_long, rc = next_line(r, text, &len, &too_long);

		if (rc <= 0) {
			b->last = 1;
			r->io_error = rc == -1;
			return;
		}
		r->lineno++;
		while (!too_long && len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
			len--;
		if (!too_long && len == 0)
			continue;
		rec = &b->rec[b->n++];
		rec->lineno = r->lineno;
		if (too_long || len > LG_LINE_MAX) {
			rec->posting_rc = LG_OK;
			rec->n = 0;
			rec->rc = lg_error_set(&rec->err, LG_EDATA, "line longer than %d bytes",
			                       LG_LINE_MAX);
			continue;
		}
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
	if (r->wake[0] >= 0)
		close(r->wake[0]);
	if (r->wake[1] >= 0)
		close(r->wake[1]);
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
	r->fd = fileno(in);
	r->wake[0] = r->wake[1] = -1;
	ok = (r->json = malloc(sizeof *r->json)) != NULL && (r->hs = lg_hasher_new()) != NULL;
	if (ok && pipe(r->wake) != 0) {
		r->wake[0] = r->wake[1] = -1;
		reader_free(r);
		return lg_error_set(err, LG_EINTERNAL, "cannot make a pipe: %s",
		                    strerror(errno));
	}
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
	/* It may wait for input that never comes. */
	while (write(r->wake[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mu);
	reader_free(r);
}
