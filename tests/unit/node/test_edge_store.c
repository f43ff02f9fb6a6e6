/* Unit tests of the edge's object store (node/edge_store): collapsing,
 * streaming while filling across threads, abort, replacement under readers,
 * S3-FIFO eviction against a scan, the object size limit, and the disk
 * tier across a reopen (corrupt, temporary and over-limit files). Threads
 * wait by bounded spinning on the store's own published state, never by
 * sleeping. Each disk test works in its own mkdtemp directory, removed at
 * the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/edge_store.h"

enum { SPIN_MAX = 200 * 1000 * 1000 };

struct meta {
	uint64_t stored_at, etag_hash;
};

static struct pcd_store *store_open(uint64_t memory, uint64_t max_object, const char *dir,
                                    uint64_t disk)
{
	struct pcd_store_params p = {.memory_bytes = memory,
	                             .max_object_bytes = max_object,
	                             .disk_path = dir,
	                             .disk_bytes = disk};
	struct pcd_store *s = NULL;
	assert_int_equal(pcd_store_new(&p, &s), 0);
	assert_non_null(s);
	return s;
}

static char pattern(uint64_t i)
{
	return (char)('a' + (i * 7 + i / 251) % 26);
}

/* Appends body bytes [from, to) of the pattern. */
static void fill(struct pcd_object *o, uint64_t from, uint64_t to)
{
	char buf[4096];
	while (from < to) {
		size_t n = to - from < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(from + i);
		assert_int_equal(pcd_object_append(o, buf, n), 0);
		from += n;
	}
}

/* The whole body, copied out through pcd_object_body. */
static char *body_copy(const struct pcd_object *o, uint64_t *len)
{
	*len = pcd_object_filled(o);
	char *out = malloc(*len + 1);
	assert_non_null(out);
	uint64_t off = 0;
	struct iovec iov[8];
	while (off < *len) {
		int n = pcd_object_body(o, off, iov, 8);
		assert_true(n > 0);
		for (int i = 0; i < n; i++) {
			memcpy(out + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
	}
	assert_int_equal(off, *len);
	return out;
}

static void assert_pattern(const struct pcd_object *o, uint64_t len)
{
	uint64_t got;
	char *b = body_copy(o, &got);
	assert_int_equal(got, len);
	for (uint64_t i = 0; i < len; i++)
		if (b[i] != pattern(i))
			fail_msg("byte %llu differs", (unsigned long long)i);
	free(b);
}

/* A complete object under key: head, meta, body_len pattern bytes. */
static void put(struct pcd_store *s, const char *key, const char *head, uint64_t body_len,
                bool reserve)
{
	bool created;
	struct pcd_object *o = pcd_store_begin(s, key, strlen(key), &created);
	assert_non_null(o);
	assert_true(created);
	struct meta m = {.stored_at = body_len, .etag_hash = 42};
	assert_int_equal(pcd_object_set_head(o, head, strlen(head), &m, sizeof(m)), 0);
	if (reserve)
		pcd_object_reserve(o, body_len);
	fill(o, 0, body_len);
	pcd_object_finish(o);
	pcd_object_unref(o);
}

/* ---- collapsing ---- */

static void test_begin_collapses(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(1 << 20, 0, NULL, 0);
	bool c1, c2;
	struct pcd_object *a = pcd_store_begin(s, "h/x", 3, &c1);
	struct pcd_object *b = pcd_store_begin(s, "h/x", 3, &c2);
	assert_true(c1);
	assert_false(c2);
	assert_ptr_equal(a, b);
	assert_int_equal(pcd_object_state(a), PCD_OBJECT_FILLING);
	assert_null(pcd_object_head(a));
	assert_false(pcd_store_contains(s, "h/x", 3)); /* not complete yet */
	bool on_disk = true;
	assert_null(pcd_store_peek(s, "h/x", 3, &on_disk));
	assert_false(on_disk);
	assert_null(pcd_store_lookup(s, "h/y", 3));
	struct pcd_object *c = pcd_store_lookup(s, "h/x", 3);
	assert_ptr_equal(c, a);
	pcd_object_finish(a);
	assert_true(pcd_store_contains(s, "h/x", 3));
	assert_int_equal(pcd_object_state(c), PCD_OBJECT_COMPLETE);
	struct pcd_object *peeked = pcd_store_peek(s, "h/x", 3, &on_disk);
	assert_ptr_equal(peeked, a);
	pcd_object_unref(peeked);
	pcd_object_unref(a);
	pcd_object_unref(b);
	pcd_object_unref(c);
	pcd_store_free(s);
}

enum { BEGIN_THREADS = 8 };

struct begin_race {
	struct pcd_store *store;
	_Atomic int go;
	struct pcd_object *got[BEGIN_THREADS];
	bool created[BEGIN_THREADS];
	int index;
};

static void *begin_thread(void *arg)
{
	struct begin_race *r = arg;
	static _Atomic int next;
	int i = atomic_fetch_add(&next, 1) % BEGIN_THREADS;
	for (long spin = 0; !atomic_load(&r->go) && spin < SPIN_MAX; spin++)
		;
	r->got[i] = pcd_store_begin(r->store, "h/race", 6, &r->created[i]);
	return NULL;
}

static void test_begin_race_creates_once(void **state)
{
	(void)state;
	struct begin_race r = {.store = store_open(1 << 20, 0, NULL, 0)};
	pthread_t t[BEGIN_THREADS];
	for (int i = 0; i < BEGIN_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, begin_thread, &r), 0);
	atomic_store(&r.go, 1);
	for (int i = 0; i < BEGIN_THREADS; i++)
		pthread_join(t[i], NULL);
	int created = 0;
	for (int i = 0; i < BEGIN_THREADS; i++) {
		assert_ptr_equal(r.got[i], r.got[0]);
		created += r.created[i];
	}
	assert_int_equal(created, 1);
	for (int i = 0; i < BEGIN_THREADS; i++)
		pcd_object_unref(r.got[i]);
	pcd_store_free(r.store);
}

/* ---- streaming while filling ---- */

struct stream {
	struct pcd_object *object;
	uint64_t total;
	bool reserve;
	uint64_t reader_end, reader_rounds_with_data;
	bool reader_saw_abort;
	bool abort_at_half;
};

static void *writer_thread(void *arg)
{
	struct stream *st = arg;
	if (st->reserve)
		pcd_object_reserve(st->object, st->total);
	uint64_t off = 0, step = 1;
	while (off < st->total) {
		uint64_t n = step < st->total - off ? step : st->total - off;
		if (st->abort_at_half && off >= st->total / 2) {
			pcd_object_abort(st->object);
			return NULL;
		}
		fill(st->object, off, off + n);
		off += n;
		step = step * 3 % 9001 + 1; /* odd sizes across block edges */
		if (off % 5 == 0)
			sched_yield();
	}
	pcd_object_finish(st->object);
	return NULL;
}

/* Follows the object as a worker would: only bytes below filled, a prefix
 * that only grows, every one the pattern's. */
static void *reader_thread(void *arg)
{
	struct stream *st = arg;
	uint64_t off = 0, last_filled = 0;
	struct iovec iov[4];
	for (long spin = 0; spin < SPIN_MAX; spin++) {
		enum pcd_object_state state = pcd_object_state(st->object);
		uint64_t filled = pcd_object_filled(st->object);
		if (filled < last_filled)
			return (void *)"filled went backwards";
		last_filled = filled;
		int n = pcd_object_body(st->object, off, iov, 4);
		if (n > 0)
			st->reader_rounds_with_data++;
		for (int i = 0; i < n; i++) {
			const char *p = iov[i].iov_base;
			for (size_t j = 0; j < iov[i].iov_len; j++)
				if (p[j] != pattern(off + j))
					return (void *)"wrong byte";
			off += iov[i].iov_len;
		}
		if (off > pcd_object_filled(st->object))
			return (void *)"read past filled";
		if (state == PCD_OBJECT_ABORTED) {
			st->reader_saw_abort = true;
			st->reader_end = off;
			return NULL;
		}
		if (state == PCD_OBJECT_COMPLETE && off == filled) {
			st->reader_end = off;
			return NULL;
		}
		if (n == 0)
			sched_yield();
	}
	return (void *)"reader never saw the end";
}

static void run_stream(struct stream *st)
{
	struct pcd_store *s = store_open(64 << 20, 0, NULL, 0);
	bool created;
	st->object = pcd_store_begin(s, "h/stream", 8, &created);
	assert_true(created);
	pthread_t w, r;
	assert_int_equal(pthread_create(&r, NULL, reader_thread, st), 0);
	assert_int_equal(pthread_create(&w, NULL, writer_thread, st), 0);
	void *why = NULL;
	pthread_join(w, NULL);
	pthread_join(r, &why);
	if (why)
		fail_msg("%s", (const char *)why);
	if (!st->abort_at_half) {
		assert_int_equal(st->reader_end, st->total);
		assert_pattern(st->object, st->total);
		struct pcd_object *again = pcd_store_lookup(s, "h/stream", 8);
		assert_ptr_equal(again, st->object);
		pcd_object_unref(again);
	}
	pcd_object_unref(st->object);
	pcd_store_free(s);
}

static void test_stream_unknown_length(void **state)
{
	(void)state;
	/* several blocks: 64 KiB, then growing */
	struct stream st = {.total = 3 * 1024 * 1024 + 17};
	run_stream(&st);
	assert_true(st.reader_rounds_with_data > 0);
}

static void test_stream_reserved(void **state)
{
	(void)state;
	struct stream st = {.total = 1024 * 1024 + 3, .reserve = true};
	run_stream(&st);
}

static void test_abort_seen_by_readers(void **state)
{
	(void)state;
	struct stream st = {.total = 1024 * 1024, .abort_at_half = true};
	run_stream(&st);
	assert_true(st.reader_saw_abort);
	assert_true(st.reader_end < st.total);
}

static void test_abort_leaves_index(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(1 << 20, 0, NULL, 0);
	bool created;
	struct pcd_object *a = pcd_store_begin(s, "h/a", 3, &created);
	fill(a, 0, 1000);
	pcd_object_abort(a);
	assert_int_equal(pcd_object_state(a), PCD_OBJECT_ABORTED);
	assert_null(pcd_store_lookup(s, "h/a", 3));
	struct pcd_object *b = pcd_store_begin(s, "h/a", 3, &created);
	assert_true(created);
	assert_ptr_not_equal(a, b);
	assert_pattern(a, 1000); /* the aborted one's bytes stay readable by its holders */
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.objects, 1);
	pcd_object_unref(a);
	pcd_object_unref(b);
	pcd_store_free(s);
}

/* ---- replacing ---- */

static void test_replace_keeps_old_readers(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(1 << 20, 0, NULL, 0);
	put(s, "h/r", "HTTP/1.1 200 OK\r\n\r\n", 5000, true);
	struct pcd_object *old = pcd_store_lookup(s, "h/r", 3);
	struct iovec iov[2];
	assert_int_equal(pcd_object_body(old, 0, iov, 2), 1);
	struct pcd_object *fresh = pcd_object_new();
	assert_int_equal(pcd_object_append(fresh, "NEW", 3), 0);
	pcd_object_finish(fresh);
	assert_int_equal(pcd_store_insert(s, "h/r", 3, fresh), 0);
	assert_int_equal(pcd_store_insert(s, "h/r", 3, fresh), 0); /* already there */
	assert_int_equal(pcd_store_insert(s, "h/other", 7, fresh), -EINVAL);
	struct pcd_object *now = pcd_store_lookup(s, "h/r", 3);
	assert_ptr_equal(now, fresh);
	assert_int_equal(pcd_object_filled(now), 3);
	/* the old object lives on for its reader, bytes in place */
	assert_int_equal(iov[0].iov_len, 5000);
	for (size_t i = 0; i < 5000; i++)
		assert_int_equal(((char *)iov[0].iov_base)[i], pattern(i));
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.objects, 1);
	pcd_object_unref(old);
	pcd_object_unref(now);
	pcd_object_unref(fresh);
	pcd_store_free(s);
}

static void test_head_replace_under_reader(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(1 << 20, 0, NULL, 0);
	put(s, "h/h", "HTTP/1.1 200 OK\r\nETag: \"1\"\r\n\r\n", 10, false);
	struct pcd_object *o = pcd_store_lookup(s, "h/h", 3);
	struct pcd_head *h1 = pcd_object_head(o);
	assert_non_null(h1);
	struct meta m2 = {.stored_at = 99, .etag_hash = 2};
	const char *t2 = "HTTP/1.1 200 OK\r\nETag: \"2\"\r\n\r\n";
	assert_int_equal(pcd_object_set_head(o, t2, strlen(t2), &m2, sizeof(m2)), 0);
	size_t len;
	const char *b1 = pcd_head_bytes(h1, &len);
	assert_int_equal(len, strlen(t2));
	assert_memory_equal(b1, "HTTP/1.1 200 OK\r\nETag: \"1\"\r\n\r\n", len);
	const struct meta *m1 = pcd_head_meta(h1, &len);
	assert_int_equal(len, sizeof(*m1));
	assert_int_equal(m1->etag_hash, 42);
	assert_int_equal((uintptr_t)m1 % _Alignof(struct meta), 0);
	struct pcd_head *h2 = pcd_object_head(o);
	assert_ptr_not_equal(h1, h2);
	assert_memory_equal(pcd_head_bytes(h2, &len), t2, strlen(t2));
	assert_int_equal(((const struct meta *)pcd_head_meta(h2, &len))->etag_hash, 2);
	pcd_head_unref(h1);
	pcd_head_unref(h2);
	pcd_object_unref(o);
	pcd_store_free(s);
}

/* ---- memory and eviction ---- */

static void test_s3fifo_keeps_hot_through_scan(void **state)
{
	(void)state;
	const uint64_t memory = 1 << 20;
	struct pcd_store *s = store_open(memory, 0, NULL, 0);
	put(s, "h/hot", "HTTP/1.1 200 OK\r\n\r\n", 4096, true);
	char key[32];
	struct pcd_store_stats st;
	for (int i = 0; i < 2000; i++) { /* 8 MiB of cold objects, each seen once */
		snprintf(key, sizeof(key), "h/cold/%d", i);
		put(s, key, "HTTP/1.1 200 OK\r\n\r\n", 4096, true);
		pcd_store_stats(s, &st);
		assert_true(st.bytes <= memory);
		if (i % 20 == 0) {
			struct pcd_object *hot = pcd_store_lookup(s, "h/hot", 5);
			if (!hot)
				fail_msg("the hot object was evicted after %d cold ones", i);
			pcd_object_unref(hot);
		}
	}
	assert_true(st.evictions >= 1700);
	assert_true(pcd_store_contains(s, "h/hot", 5));
	assert_false(pcd_store_contains(s, "h/cold/0", 8));
	assert_true(pcd_store_contains(s, "h/cold/1999", 11));
	pcd_store_free(s);
}

static void test_eviction_spares_readers(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(64 * 1024, 0, NULL, 0);
	/* held by a client (the filler's reference), never looked up again */
	bool created;
	struct pcd_object *held = pcd_store_begin(s, "h/first", 7, &created);
	pcd_object_reserve(held, 30000);
	fill(held, 0, 30000);
	pcd_object_finish(held);
	put(s, "h/second", "HTTP/1.1 200 OK\r\n\r\n", 30000, true);
	put(s, "h/third", "HTTP/1.1 200 OK\r\n\r\n", 30000, true);
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.evictions, 1);
	assert_true(st.bytes <= 64 * 1024);
	assert_false(pcd_store_contains(s, "h/first", 7));
	assert_true(pcd_store_contains(s, "h/third", 7));
	assert_pattern(held, 30000);
	pcd_object_unref(held);
	pcd_store_free(s);
}

static void test_filling_not_evicted(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(64 * 1024, 0, NULL, 0);
	bool created;
	struct pcd_object *o = pcd_store_begin(s, "h/big", 5, &created);
	pcd_object_reserve(o, 50000);
	fill(o, 0, 40000);
	put(s, "h/small", "HTTP/1.1 200 OK\r\n\r\n", 30000, true); /* over the limit now */
	struct pcd_object *again = pcd_store_lookup(s, "h/big", 5);
	assert_ptr_equal(again, o); /* the filling one stays; the complete one went */
	assert_false(pcd_store_contains(s, "h/small", 7));
	fill(o, 40000, 50000);
	pcd_object_finish(o);
	assert_true(pcd_store_contains(s, "h/big", 5));
	pcd_object_unref(again);
	pcd_object_unref(o);
	pcd_store_free(s);
}

static void test_over_max_leaves_index(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(4 << 20, 100000, NULL, 0);
	bool created;
	struct pcd_object *o = pcd_store_begin(s, "h/huge", 6, &created);
	struct pcd_object *reader = pcd_store_lookup(s, "h/huge", 6);
	assert_ptr_equal(reader, o);
	fill(o, 0, 100000); /* at the limit: still indexed */
	struct pcd_object *probe = pcd_store_lookup(s, "h/huge", 6);
	assert_ptr_equal(probe, o);
	pcd_object_unref(probe);
	fill(o, 100000, 100001); /* crossed */
	assert_null(pcd_store_lookup(s, "h/huge", 6));
	fill(o, 100001, 300000);
	pcd_object_finish(o);
	assert_int_equal(pcd_object_state(reader), PCD_OBJECT_COMPLETE);
	assert_pattern(reader, 300000);
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.bytes, 0);

	/* a Content-Length over the limit leaves before it is charged */
	struct pcd_object *r = pcd_store_begin(s, "h/huge", 6, &created);
	assert_true(created);
	pcd_object_reserve(r, 200000);
	assert_false(pcd_store_contains(s, "h/huge", 6));
	assert_null(pcd_store_lookup(s, "h/huge", 6));
	pcd_object_abort(r);
	pcd_object_unref(r);
	/* an inserted object over the limit replaces the old one with nothing */
	put(s, "h/ins", "HTTP/1.1 200 OK\r\n\r\n", 1000, true);
	r = pcd_object_new();
	fill(r, 0, 100001);
	pcd_object_finish(r);
	assert_int_equal(pcd_store_insert(s, "h/ins", 5, r), 0);
	assert_false(pcd_store_contains(s, "h/ins", 5));
	pcd_object_unref(r);
	pcd_object_unref(reader);
	pcd_object_unref(o);
	pcd_store_free(s);
}

static void test_remove(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(1 << 20, 0, NULL, 0);
	put(s, "h/rm", "HTTP/1.1 200 OK\r\n\r\n", 100, false);
	struct pcd_object *o = pcd_store_lookup(s, "h/rm", 4);
	struct pcd_object *other = pcd_object_new();
	pcd_store_remove(s, "h/rm", 4, other); /* not that one: stays */
	assert_true(pcd_store_contains(s, "h/rm", 4));
	pcd_store_remove(s, "h/rm", 4, o);
	assert_false(pcd_store_contains(s, "h/rm", 4));
	assert_pattern(o, 100);
	put(s, "h/rm", "HTTP/1.1 200 OK\r\n\r\n", 100, false);
	pcd_store_remove(s, "h/rm", 4, NULL);
	assert_null(pcd_store_lookup(s, "h/rm", 4));
	pcd_store_remove(s, "h/none", 6, NULL);
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.bytes, 0);
	pcd_object_unref(other);
	pcd_object_unref(o);
	pcd_store_free(s);
}

/* What a cached 1 KiB object costs beyond its key, head, meta and body. */
static void test_overhead_per_small_object(void **state)
{
	(void)state;
	struct pcd_store *s = store_open(64 << 20, 0, NULL, 0);
	const char *key = "www.example.com/static/img/logo-1.png"; /* 37 bytes */
	char head[201];
	memset(head, 'h', 200);
	head[200] = '\0';
	put(s, key, head, 1024, true);
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	uint64_t payload = strlen(key) + 200 + sizeof(struct meta) + 1024;
	uint64_t overhead = st.bytes - payload;
	print_message("edge_store: a 1 KiB object is charged %llu bytes, %llu over its "
	              "key, head, meta and body (3 allocations)\n",
	              (unsigned long long)st.bytes, (unsigned long long)overhead);
	assert_true(overhead <= 256);
	/* without a reserve, a body of unknown length takes a 64 KiB block */
	bool created;
	struct pcd_object *o = pcd_store_begin(s, "h/chunked", 9, &created);
	fill(o, 0, 1024);
	pcd_object_finish(o);
	pcd_object_unref(o);
	struct pcd_store_stats st2;
	pcd_store_stats(s, &st2);
	assert_true(st2.bytes - st.bytes >= 64 * 1024);
	pcd_store_free(s);
}

/* ---- disk ---- */

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	char path[512];
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_int_equal(unlink(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}

/* Files in dir; the name of the last 16-character one in *name. */
static int count_files(const char *dir, char name[32])
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (name && strlen(e->d_name) == 16)
			strcpy(name, e->d_name);
	}
	closedir(d);
	return n;
}

static char *temp_dir(char buf[64])
{
	strcpy(buf, "/tmp/test_edge_store.XXXXXX");
	assert_non_null(mkdtemp(buf));
	return buf;
}

static void test_disk_survives_reopen(void **state)
{
	(void)state;
	char tmp[64], dir[96], path[160];
	temp_dir(tmp);
	snprintf(dir, sizeof(dir), "%s/cache/objects", tmp); /* created by the store */
	struct pcd_store *s = store_open(1 << 20, 0, dir, 0);
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n";
	put(s, "www.foo.com/index.html", head, 200000, false);
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.disk_writes, 1);
	assert_int_equal(st.disk_objects, 1);
	assert_true(st.disk_bytes > 200000);
	pcd_store_free(s);

	snprintf(path, sizeof(path), "%s/0123456789abcdef.7.tmp", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "partial", 7), 7);
	close(fd);
	assert_int_equal(count_files(dir, NULL), 2);

	s = store_open(1 << 20, 0, dir, 0);
	assert_int_equal(count_files(dir, NULL), 1); /* the .tmp is gone */
	assert_true(pcd_store_contains(s, "www.foo.com/index.html", 22));
	assert_false(pcd_store_contains(s, "www.bar.com/index.html", 22));
	/* peeking reads no file: only says it is on disk */
	bool on_disk = false;
	assert_null(pcd_store_peek(s, "www.foo.com/index.html", 22, &on_disk));
	assert_true(on_disk);
	assert_null(pcd_store_peek(s, "www.bar.com/index.html", 22, &on_disk));
	assert_false(on_disk);
	struct pcd_object *o = pcd_store_lookup(s, "www.foo.com/index.html", 22);
	assert_non_null(o);
	assert_int_equal(pcd_object_state(o), PCD_OBJECT_COMPLETE);
	assert_pattern(o, 200000);
	struct pcd_head *h = pcd_object_head(o);
	size_t len;
	assert_memory_equal(pcd_head_bytes(h, &len), head, strlen(head));
	assert_int_equal(len, strlen(head));
	const struct meta *m = pcd_head_meta(h, &len);
	assert_int_equal(len, sizeof(*m));
	assert_int_equal(m->stored_at, 200000);
	assert_int_equal(m->etag_hash, 42);
	pcd_head_unref(h);
	/* once read back it is in memory: a second lookup reads no file */
	struct pcd_object *again = pcd_store_lookup(s, "www.foo.com/index.html", 22);
	assert_ptr_equal(again, o);
	struct pcd_object *peeked = pcd_store_peek(s, "www.foo.com/index.html", 22, &on_disk);
	assert_ptr_equal(peeked, o);
	assert_false(on_disk);
	pcd_object_unref(peeked);
	pcd_store_stats(s, &st);
	assert_int_equal(st.disk_reads, 1);
	assert_int_equal(st.disk_writes, 0); /* not written again */
	assert_int_equal(st.disk_errors, 0);
	pcd_object_unref(again);
	pcd_object_unref(o);

	/* a removal takes the file too */
	pcd_store_remove(s, "www.foo.com/index.html", 22, NULL);
	assert_int_equal(count_files(dir, NULL), 0);
	pcd_store_free(s);
	s = store_open(1 << 20, 0, dir, 0);
	assert_false(pcd_store_contains(s, "www.foo.com/index.html", 22));
	pcd_store_free(s);
	rm_tree(dir);
	snprintf(path, sizeof(path), "%s/cache", tmp);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(tmp), 0);
}

static void flip_byte(const char *dir, const char *name, off_t at)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	char c;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void test_disk_corrupt_file_removed(void **state)
{
	(void)state;
	char dir[64], name[32];
	temp_dir(dir);
	struct pcd_store *s = store_open(1 << 20, 0, dir, 0);
	put(s, "h/body", "HTTP/1.1 200 OK\r\n\r\n", 5000, true);
	pcd_store_free(s);
	assert_int_equal(count_files(dir, name), 1);
	flip_byte(dir, name, 2000); /* inside the body: found at read-back */

	s = store_open(1 << 20, 0, dir, 0);
	assert_true(pcd_store_contains(s, "h/body", 6)); /* its header is whole */
	assert_null(pcd_store_lookup(s, "h/body", 6));
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.disk_errors, 1);
	assert_int_equal(st.disk_objects, 0);
	assert_int_equal(count_files(dir, NULL), 0);
	assert_false(pcd_store_contains(s, "h/body", 6));

	/* a corrupt header is found at open */
	put(s, "h/head", "HTTP/1.1 200 OK\r\n\r\n", 100, true);
	pcd_store_free(s);
	assert_int_equal(count_files(dir, name), 1);
	flip_byte(dir, name, 1); /* the magic */
	s = store_open(1 << 20, 0, dir, 0);
	pcd_store_stats(s, &st);
	assert_int_equal(st.disk_errors, 1);
	assert_int_equal(count_files(dir, NULL), 0);
	assert_false(pcd_store_contains(s, "h/head", 6));
	pcd_store_free(s);
	rm_tree(dir);
}

static void test_disk_bytes_oldest_first(void **state)
{
	(void)state;
	char dir[64], key[16];
	temp_dir(dir);
	/* each file is a little over 10000 bytes: three fit */
	struct pcd_store *s = store_open(1 << 20, 0, dir, 35000);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "h/%d", i);
		put(s, key, "HTTP/1.1 200 OK\r\n\r\n", 10000, true);
	}
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.disk_objects, 3);
	assert_int_equal(st.disk_evictions, 2);
	assert_true(st.disk_bytes <= 35000);
	assert_int_equal(count_files(dir, NULL), 3);
	pcd_store_free(s);

	s = store_open(1 << 20, 0, dir, 35000);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "h/%d", i);
		assert_int_equal(pcd_store_contains(s, key, strlen(key)), i >= 2);
	}
	pcd_store_free(s);
	/* a smaller limit at open trims to it, oldest first */
	s = store_open(1 << 20, 0, dir, 25000);
	assert_false(pcd_store_contains(s, "h/2", 3));
	assert_true(pcd_store_contains(s, "h/4", 3));
	pcd_store_free(s);
	rm_tree(dir);
}

/* An inserted complete object is written at once; a 304's new head
 * replaces the file, so the next start sees the updated fields. */
static void test_disk_insert_and_head_rewrite(void **state)
{
	(void)state;
	char dir[64];
	temp_dir(dir);
	struct pcd_store *s = store_open(1 << 20, 0, dir, 0);
	struct pcd_object *o = pcd_object_new();
	struct meta m = {.stored_at = 1};
	assert_int_equal(pcd_object_set_head(o, "H1", 2, &m, sizeof(m)), 0);
	fill(o, 0, 3000);
	pcd_object_finish(o);
	struct pcd_store_stats st;
	pcd_store_stats(s, &st);
	assert_int_equal(st.disk_writes, 0); /* in no index: not written */
	assert_int_equal(pcd_store_insert(s, "h/ins", 5, o), 0);
	pcd_store_stats(s, &st);
	assert_int_equal(st.disk_writes, 1);
	m.stored_at = 2;
	assert_int_equal(pcd_object_set_head(o, "H2-updated", 10, &m, sizeof(m)), 0);
	pcd_store_stats(s, &st);
	assert_int_equal(st.disk_writes, 2);
	assert_int_equal(st.disk_objects, 1);
	assert_int_equal(count_files(dir, NULL), 1);
	pcd_object_unref(o);
	pcd_store_free(s);

	s = store_open(1 << 20, 0, dir, 0);
	o = pcd_store_lookup(s, "h/ins", 5);
	assert_non_null(o);
	struct pcd_head *h = pcd_object_head(o);
	size_t len;
	assert_memory_equal(pcd_head_bytes(h, &len), "H2-updated", 10);
	assert_int_equal(len, 10);
	assert_int_equal(((const struct meta *)pcd_head_meta(h, &len))->stored_at, 2);
	assert_pattern(o, 3000);
	pcd_head_unref(h);
	pcd_object_unref(o);
	pcd_store_free(s);
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_begin_collapses),
	    cmocka_unit_test(test_begin_race_creates_once),
	    cmocka_unit_test(test_stream_unknown_length),
	    cmocka_unit_test(test_stream_reserved),
	    cmocka_unit_test(test_abort_seen_by_readers),
	    cmocka_unit_test(test_abort_leaves_index),
	    cmocka_unit_test(test_replace_keeps_old_readers),
	    cmocka_unit_test(test_head_replace_under_reader),
	    cmocka_unit_test(test_s3fifo_keeps_hot_through_scan),
	    cmocka_unit_test(test_eviction_spares_readers),
	    cmocka_unit_test(test_filling_not_evicted),
	    cmocka_unit_test(test_over_max_leaves_index),
	    cmocka_unit_test(test_remove),
	    cmocka_unit_test(test_overhead_per_small_object),
	    cmocka_unit_test(test_disk_survives_reopen),
	    cmocka_unit_test(test_disk_corrupt_file_removed),
	    cmocka_unit_test(test_disk_bytes_oldest_first),
	    cmocka_unit_test(test_disk_insert_and_head_rewrite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
