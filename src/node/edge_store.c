/* The edge's object store (see edge_store.h): a chained hash index under
 * one mutex, S3-FIFO eviction over indexed complete objects, bodies in
 * blocks that never move so readers stream without a lock, and a disk tier
 * of one checksummed file per object.
 *
 * Locks: store->lock guards the index, the queues, the ghost table, the
 * disk index and every object's index fields (indexed, key, hnext, queue
 * links, charge, freq). An object's head pointer has its own spinlock. A
 * body has one writer; readers load filled with acquire and read below it.
 * Disk reads and writes run without store->lock; renames and unlinks run
 * under it, so a removal never races a rename into a stale file. */
#include "node/edge_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	BLOCK_MIN = 64 * 1024,       /* first block of a body of unknown length */
	BLOCK_MAX = 4 * 1024 * 1024, /* growth stops here: a tail wastes less than this */
	/* one block of a reserve at most: what a lying Content-Length costs */
	RESERVE_MAX = 16 * 1024 * 1024,
	INDEX_MIN = 1024, /* buckets */
	GHOST_MIN = 1024, /* ghost slots; ghost window in objects, at least */
	GHOST_MAX = 1 << 20,
	FREQ_MAX = 3,
	DISK_HEADER = 40,
	DISK_TRAILER = 8,
	DISK_VERSION = 1,
	DISK_KEY_MAX = 64 * 1024,
	DISK_HEAD_MAX = 1024 * 1024,
	DISK_META_MAX = 64 * 1024,
	DISK_NAME = 16, /* hex of the 64-bit disk hash */
	LOAD_TRIES = 3,
};

static const char disk_magic[8] = {'p', 'c', 'd', 'e', 'd', 'g', 'e', '\n'};
/* Disk file names are hashes under this fixed seed: they must mean the
 * same key after a restart (the index uses a random seed instead, so a
 * client cannot aim keys at one bucket). Changing the hash changes
 * DISK_VERSION. */
static const uint64_t disk_seed = 0x9e3779b97f4a7c15ull;

enum queue { Q_NONE, Q_SMALL, Q_MAIN };

struct block {
	_Atomic(struct block *) next;
	uint64_t start, cap; /* body offset of data[0]; bytes data holds */
	char data[];
};

struct pcd_head {
	_Atomic uint32_t refs;
	uint32_t head_len, meta_len;
	/* meta first, so it is aligned for the edge's struct; head bytes after */
	alignas(max_align_t) unsigned char data[];
};

/* What an object costs (x86-64, glibc): this struct (144 bytes) with its
 * key, a head (16 + meta + head bytes) and, with a reserve, one block (24 +
 * body): three allocations. A cached 1 KiB object with a 37-byte key, a
 * 200-byte head and a 16-byte meta is charged 184 bytes over its payload,
 * 211 with malloc's chunk headers, plus one or two index bucket pointers. */
struct pcd_object {
	_Atomic uint32_t refs;
	_Atomic int state;
	atomic_flag head_lock;
	/* store->lock */
	uint8_t queue, freq;
	uint8_t tag; /* the edge's (its provider), for evictions by tag */
	bool indexed;
	bool on_disk;    /* its file is the current one: no write at finish */
	bool key_inline; /* key points at key_buf, not its own allocation */
	_Atomic uint64_t filled;
	_Atomic(struct block *) first;
	_Atomic uint64_t footprint;        /* bytes allocated for it, the struct included */
	_Atomic(struct pcd_store *) store; /* set when first indexed, never cleared */
	_Atomic uint64_t waiters;
	_Atomic uint32_t marks; /* the edge's */
	struct pcd_head *head;  /* head_lock */
	/* the filler's */
	struct block *tail;
	uint64_t reserve;
	/* store->lock */
	uint64_t hash, charge; /* index hash; bytes counted in store->bytes */
	char *key;
	size_t key_len;
	struct pcd_object *hnext, *qprev, *qnext, *reap_next;
	char key_buf[];
};

struct queue_list {
	struct pcd_object *head, *tail; /* pushed at head, evicted at tail */
	uint64_t bytes, count;
};

struct ghost_slot {
	uint64_t hash, seq;
};

struct disk_entry {
	uint64_t hash; /* disk hash: the file's name */
	uint64_t size; /* file bytes */
	uint64_t seq;  /* age order; also tells a rewritten entry from the one read */
	struct disk_entry *hnext, *older, *newer;
};

struct pcd_store {
	pthread_mutex_t lock;
	uint64_t memory_bytes, max_object_bytes, disk_limit;
	uint64_t seed;
	/* index */
	struct pcd_object **buckets;
	size_t nbuckets;
	uint64_t objects, bytes;
	struct queue_list small, main;
	/* ghost: recently evicted from small, direct-mapped, valid within a
	 * window of the last ghost_window insertions */
	struct ghost_slot *ghost;
	size_t ghost_mask;
	uint64_t ghost_seq;
	/* disk */
	int dir_fd; /* -1: no disk tier */
	struct disk_entry **dbuckets;
	size_t ndbuckets;
	struct disk_entry *oldest, *newest;
	uint64_t disk_objects, disk_bytes, disk_seq;
	struct pcd_store_stats counters; /* the event counts only */
};

/* ---- hashing: a word-at-a-time multiply-fold, streamable ---- */

struct hasher {
	uint64_t h, total;
	unsigned char buf[8];
	unsigned n;
};

static const uint64_t K0 = 0xa0761d6478bd642full, K1 = 0xe7037ed1a0b428dbull,
                      K2 = 0x8ebc6af09c88c6e3ull;

static uint64_t mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void hash_init(struct hasher *s, uint64_t seed)
{
	s->h = seed ^ K0;
	s->total = 0;
	s->n = 0;
}

static void hash_update(struct hasher *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	s->total += len;
	if (s->n) {
		while (len && s->n < 8) {
			s->buf[s->n++] = *p++;
			len--;
		}
		if (s->n < 8)
			return;
		s->h = mum(s->h ^ get64(s->buf), K1);
		s->n = 0;
	}
	for (; len >= 8; p += 8, len -= 8)
		s->h = mum(s->h ^ get64(p), K1);
	memcpy(s->buf, p, len);
	s->n = (unsigned)len;
}

static uint64_t hash_final(const struct hasher *s)
{
	unsigned char last[8] = {0};
	memcpy(last, s->buf, s->n);
	uint64_t h = mum(s->h ^ get64(last), K1);
	return mum(h ^ s->total, K2);
}

static uint64_t hash_bytes(uint64_t seed, const void *data, size_t len)
{
	struct hasher s;
	hash_init(&s, seed);
	hash_update(&s, data, len);
	return hash_final(&s);
}

/* ---- heads ---- */

static size_t head_alloc_size(size_t head_len, size_t meta_len)
{
	return sizeof(struct pcd_head) + meta_len + head_len;
}

static struct pcd_head *head_new(const char *head, size_t head_len, const void *meta,
                                 size_t meta_len)
{
	if (head_len > UINT32_MAX || meta_len > UINT32_MAX)
		return NULL;
	struct pcd_head *h = malloc(head_alloc_size(head_len, meta_len));
	if (!h)
		return NULL;
	atomic_init(&h->refs, 1);
	h->head_len = (uint32_t)head_len;
	h->meta_len = (uint32_t)meta_len;
	if (meta_len)
		memcpy(h->data, meta, meta_len);
	if (head_len)
		memcpy(h->data + meta_len, head, head_len);
	return h;
}

const char *pcd_head_bytes(const struct pcd_head *head, size_t *len)
{
	*len = head->head_len;
	return (const char *)head->data + head->meta_len;
}

const void *pcd_head_meta(const struct pcd_head *head, size_t *len)
{
	*len = head->meta_len;
	return head->data;
}

void pcd_head_unref(struct pcd_head *head)
{
	if (head && atomic_fetch_sub_explicit(&head->refs, 1, memory_order_acq_rel) == 1)
		free(head);
}

static void head_lock(struct pcd_object *o)
{
	while (atomic_flag_test_and_set_explicit(&o->head_lock, memory_order_acquire))
		;
}

static void head_unlock(struct pcd_object *o)
{
	atomic_flag_clear_explicit(&o->head_lock, memory_order_release);
}

struct pcd_head *pcd_object_head(struct pcd_object *object)
{
	head_lock(object);
	struct pcd_head *h = object->head;
	if (h)
		atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
	head_unlock(object);
	return h;
}

/* ---- objects ---- */

static struct pcd_object *object_alloc(const char *key, size_t key_len)
{
	struct pcd_object *o = calloc(1, sizeof(*o) + key_len);
	if (!o)
		return NULL;
	atomic_init(&o->refs, 1);
	atomic_init(&o->state, PCD_OBJECT_FILLING);
	atomic_flag_clear(&o->head_lock);
	atomic_init(&o->footprint, sizeof(*o) + key_len);
	if (key) {
		memcpy(o->key_buf, key, key_len);
		o->key = o->key_buf;
		o->key_len = key_len;
		o->key_inline = true;
	}
	return o;
}

struct pcd_object *pcd_object_new(void)
{
	return object_alloc(NULL, 0);
}

void pcd_object_ref(struct pcd_object *object)
{
	atomic_fetch_add_explicit(&object->refs, 1, memory_order_relaxed);
}

void pcd_object_unref(struct pcd_object *object)
{
	if (!object || atomic_fetch_sub_explicit(&object->refs, 1, memory_order_acq_rel) != 1)
		return;
	struct block *b = atomic_load_explicit(&object->first, memory_order_relaxed);
	while (b) {
		struct block *next = atomic_load_explicit(&b->next, memory_order_relaxed);
		free(b);
		b = next;
	}
	pcd_head_unref(object->head);
	if (!object->key_inline)
		free(object->key);
	free(object);
}

enum pcd_object_state pcd_object_state(const struct pcd_object *object)
{
	return atomic_load_explicit(&object->state, memory_order_acquire);
}

uint64_t pcd_object_filled(const struct pcd_object *object)
{
	return atomic_load_explicit(&object->filled, memory_order_acquire);
}

void pcd_object_set_tag(struct pcd_object *object, uint8_t tag)
{
	object->tag = tag < PCD_STORE_TAGS ? tag : PCD_STORE_TAGS - 1;
}

_Atomic uint32_t *pcd_object_marks(struct pcd_object *object)
{
	return &object->marks;
}

_Atomic uint64_t *pcd_object_waiters(struct pcd_object *object)
{
	return &object->waiters;
}

int pcd_object_body(const struct pcd_object *object, uint64_t offset, struct iovec *iov, int max)
{
	uint64_t filled = atomic_load_explicit(&object->filled, memory_order_acquire);
	if (offset >= filled || max <= 0)
		return 0;
	/* Every block below filled was published (release) before filled was. */
	struct block *b = atomic_load_explicit(&object->first, memory_order_acquire);
	while (b && offset >= b->start + b->cap)
		b = atomic_load_explicit(&b->next, memory_order_acquire);
	int n = 0;
	while (b && n < max && offset < filled) {
		uint64_t end = b->start + b->cap < filled ? b->start + b->cap : filled;
		iov[n].iov_base = b->data + (offset - b->start);
		iov[n].iov_len = (size_t)(end - offset);
		n++;
		offset = end;
		if (offset < filled)
			b = atomic_load_explicit(&b->next, memory_order_acquire);
	}
	return n;
}

/* ---- the index (store->lock held) ---- */

static struct pcd_object *find_locked(struct pcd_store *s, const char *key, size_t key_len,
                                      uint64_t hash)
{
	for (struct pcd_object *o = s->buckets[hash & (s->nbuckets - 1)]; o; o = o->hnext)
		if (o->hash == hash && o->key_len == key_len && !memcmp(o->key, key, key_len))
			return o;
	return NULL;
}

static void grow_index(struct pcd_store *s)
{
	size_t n = s->nbuckets * 2;
	struct pcd_object **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct pcd_object *o = s->buckets[i];
		while (o) {
			struct pcd_object *next = o->hnext;
			o->hnext = b[o->hash & (n - 1)];
			b[o->hash & (n - 1)] = o;
			o = next;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

static struct queue_list *queue_of(struct pcd_store *s, struct pcd_object *o)
{
	return o->queue == Q_SMALL ? &s->small : o->queue == Q_MAIN ? &s->main : NULL;
}

static void queue_push(struct pcd_store *s, struct pcd_object *o, enum queue which)
{
	o->queue = (uint8_t)which;
	struct queue_list *q = queue_of(s, o);
	o->qprev = NULL;
	o->qnext = q->head;
	if (q->head)
		q->head->qprev = o;
	else
		q->tail = o;
	q->head = o;
	q->bytes += o->charge;
	q->count++;
}

static void queue_unlink(struct pcd_store *s, struct pcd_object *o)
{
	struct queue_list *q = queue_of(s, o);
	if (!q)
		return;
	if (o->qprev)
		o->qprev->qnext = o->qnext;
	else
		q->head = o->qnext;
	if (o->qnext)
		o->qnext->qprev = o->qprev;
	else
		q->tail = o->qprev;
	o->qprev = o->qnext = NULL;
	q->bytes -= o->charge;
	q->count--;
	o->queue = Q_NONE;
}

static struct ghost_slot *ghost_slot(struct pcd_store *s, uint64_t hash)
{
	return &s->ghost[(hash ^ hash >> 29) & s->ghost_mask];
}

/* The paper's ghost holds as many keys as the main queue holds objects. */
static bool ghost_take(struct pcd_store *s, uint64_t hash)
{
	struct ghost_slot *g = ghost_slot(s, hash);
	uint64_t window = s->main.count > GHOST_MIN ? s->main.count : GHOST_MIN;
	if (g->seq == 0 || g->hash != hash || s->ghost_seq - g->seq >= window)
		return false;
	g->seq = 0;
	return true;
}

static void ghost_add(struct pcd_store *s, uint64_t hash)
{
	struct ghost_slot *g = ghost_slot(s, hash);
	g->hash = hash;
	g->seq = ++s->ghost_seq;
}

/* Takes o out of the index; the index's reference goes on *reap, dropped
 * by the caller after unlocking. */
static void unindex(struct pcd_store *s, struct pcd_object *o, struct pcd_object **reap)
{
	struct pcd_object **p = &s->buckets[o->hash & (s->nbuckets - 1)];
	while (*p != o)
		p = &(*p)->hnext;
	*p = o->hnext;
	o->hnext = NULL;
	queue_unlink(s, o);
	s->bytes -= o->charge;
	s->objects--;
	o->charge = 0;
	o->indexed = false;
	o->reap_next = *reap;
	*reap = o;
}

static void reap_all(struct pcd_object *reap)
{
	while (reap) {
		struct pcd_object *next = reap->reap_next;
		pcd_object_unref(reap);
		reap = next;
	}
}

/* S3-FIFO (Yang et al., SOSP 2023): new objects enter the small FIFO; one
 * that was used again while there moves to main, the rest leave (their
 * key to the ghost, so a quick return enters main directly). Main is a
 * FIFO that gives an object with its frequency bits set another round. */
static void evict_locked(struct pcd_store *s, struct pcd_object **reap)
{
	while (s->bytes > s->memory_bytes) {
		if (s->small.tail && (s->small.bytes > s->memory_bytes / 10 || !s->main.tail)) {
			struct pcd_object *o = s->small.tail;
			queue_unlink(s, o);
			if (o->freq > 0) {
				o->freq = 0;
				queue_push(s, o, Q_MAIN);
			} else {
				ghost_add(s, o->hash);
				s->counters.evictions_by_tag[o->tag]++;
				unindex(s, o, reap);
				s->counters.evictions++;
			}
		} else if (s->main.tail) {
			struct pcd_object *o = s->main.tail;
			queue_unlink(s, o);
			if (o->freq > 0) {
				o->freq--;
				queue_push(s, o, Q_MAIN);
			} else {
				s->counters.evictions_by_tag[o->tag]++;
				unindex(s, o, reap);
				s->counters.evictions++;
			}
		} else {
			return; /* only FILLING objects: they are not evictable */
		}
	}
}

static void recharge_locked(struct pcd_store *s, struct pcd_object *o)
{
	uint64_t now = atomic_load_explicit(&o->footprint, memory_order_relaxed);
	struct queue_list *q = queue_of(s, o);
	s->bytes = s->bytes - o->charge + now;
	if (q)
		q->bytes = q->bytes - o->charge + now;
	o->charge = now;
}

/* A complete indexed object joins the eviction queues. */
static void enqueue_locked(struct pcd_store *s, struct pcd_object *o)
{
	if (o->queue != Q_NONE)
		return;
	queue_push(s, o, ghost_take(s, o->hash) ? Q_MAIN : Q_SMALL);
}

static void index_locked(struct pcd_store *s, struct pcd_object *o, struct pcd_object **reap)
{
	if (s->objects >= s->nbuckets)
		grow_index(s);
	size_t b = o->hash & (s->nbuckets - 1);
	o->hnext = s->buckets[b];
	s->buckets[b] = o;
	o->indexed = true;
	o->freq = 0;
	o->charge = 0;
	s->objects++;
	atomic_store_explicit(&o->store, s, memory_order_release);
	pcd_object_ref(o);
	recharge_locked(s, o);
	if (pcd_object_state(o) == PCD_OBJECT_COMPLETE)
		enqueue_locked(s, o);
	evict_locked(s, reap);
}

static void touch_locked(struct pcd_object *o)
{
	if (o->freq < FREQ_MAX)
		o->freq++;
}

/* ---- the disk index (store->lock held) ---- */

static void disk_name(char name[DISK_NAME + 1], uint64_t hash)
{
	snprintf(name, DISK_NAME + 1, "%016llx", (unsigned long long)hash);
}

static struct disk_entry *disk_find(struct pcd_store *s, uint64_t hash)
{
	if (s->dir_fd < 0)
		return NULL;
	for (struct disk_entry *d = s->dbuckets[hash & (s->ndbuckets - 1)]; d; d = d->hnext)
		if (d->hash == hash)
			return d;
	return NULL;
}

static void disk_grow(struct pcd_store *s)
{
	size_t n = s->ndbuckets * 2;
	struct disk_entry **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < s->ndbuckets; i++) {
		struct disk_entry *d = s->dbuckets[i];
		while (d) {
			struct disk_entry *next = d->hnext;
			d->hnext = b[d->hash & (n - 1)];
			b[d->hash & (n - 1)] = d;
			d = next;
		}
	}
	free(s->dbuckets);
	s->dbuckets = b;
	s->ndbuckets = n;
}

/* Appends an entry as the newest; false when memory runs out. */
static bool disk_add(struct pcd_store *s, uint64_t hash, uint64_t size)
{
	struct disk_entry *d = calloc(1, sizeof(*d));
	if (!d)
		return false;
	if (s->disk_objects >= s->ndbuckets)
		disk_grow(s);
	d->hash = hash;
	d->size = size;
	d->seq = ++s->disk_seq;
	d->hnext = s->dbuckets[hash & (s->ndbuckets - 1)];
	s->dbuckets[hash & (s->ndbuckets - 1)] = d;
	d->older = s->newest;
	if (s->newest)
		s->newest->newer = d;
	else
		s->oldest = d;
	s->newest = d;
	s->disk_objects++;
	s->disk_bytes += size;
	return true;
}

/* Forgets an entry and, when unlink_file, deletes its file. */
static void disk_drop(struct pcd_store *s, struct disk_entry *d, bool unlink_file)
{
	struct disk_entry **p = &s->dbuckets[d->hash & (s->ndbuckets - 1)];
	while (*p != d)
		p = &(*p)->hnext;
	*p = d->hnext;
	if (d->older)
		d->older->newer = d->newer;
	else
		s->oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		s->newest = d->older;
	s->disk_objects--;
	s->disk_bytes -= d->size;
	if (unlink_file) {
		char name[DISK_NAME + 1];
		disk_name(name, d->hash);
		unlinkat(s->dir_fd, name, 0);
	}
	free(d);
}

static void disk_evict(struct pcd_store *s)
{
	while (s->disk_limit && s->disk_bytes > s->disk_limit && s->oldest) {
		disk_drop(s, s->oldest, true);
		s->counters.disk_evictions++;
	}
}

/* The disk entry of key, gone from the index and the directory. */
static void disk_remove_key(struct pcd_store *s, const char *key, size_t key_len)
{
	if (s->dir_fd < 0)
		return;
	struct disk_entry *d = disk_find(s, hash_bytes(disk_seed, key, key_len));
	if (d)
		disk_drop(s, d, true);
}

/* ---- the disk files ----
 * A file: magic (8), version, key, head and meta lengths (4 each), body
 * length and write sequence (8 each), all little-endian; key, meta, head
 * and body bytes; the hash of every byte before it (8). */

static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n > IOV_MAX ? IOV_MAX : n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Writes the file's bytes to fd; returns its size or -errno. */
static int64_t write_object(int fd, struct pcd_object *o, const struct pcd_head *h, uint64_t seq)
{
	unsigned char header[DISK_HEADER], trailer[DISK_TRAILER];
	uint64_t body_len = pcd_object_filled(o);
	memcpy(header, disk_magic, 8);
	put32(header + 8, DISK_VERSION);
	put32(header + 12, (uint32_t)o->key_len);
	put32(header + 16, h->head_len);
	put32(header + 20, h->meta_len);
	put64(header + 24, body_len);
	put64(header + 32, seq);
	struct hasher sum;
	hash_init(&sum, disk_seed);
	hash_update(&sum, header, sizeof(header));
	hash_update(&sum, o->key, o->key_len);
	hash_update(&sum, h->data, (size_t)h->meta_len + h->head_len);
	struct iovec iov[64];
	iov[0] = (struct iovec){header, sizeof(header)};
	iov[1] = (struct iovec){o->key, o->key_len};
	iov[2] = (struct iovec){(void *)h->data, (size_t)h->meta_len + h->head_len};
	int rc = write_all(fd, iov, 3);
	for (uint64_t off = 0; rc == 0 && off < body_len;) {
		int n = pcd_object_body(o, off, iov, 64);
		if (n == 0)
			return -EIO;
		for (int i = 0; i < n; i++) {
			hash_update(&sum, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		rc = write_all(fd, iov, n);
	}
	if (rc < 0)
		return rc;
	put64(trailer, hash_final(&sum));
	iov[0] = (struct iovec){trailer, sizeof(trailer)};
	rc = write_all(fd, iov, 1);
	return rc < 0 ? rc
	              : (int64_t)(DISK_HEADER + o->key_len + h->meta_len + h->head_len + body_len +
	                          DISK_TRAILER);
}

/* Writes a complete object's file, if it is still indexed when the file
 * is whole. No fsync: a power cut may leave a renamed file short or
 * zeroed, which its checksum catches at read-back (the object is fetched
 * again); flushing every fill would make the filler wait for the disk. */
static void disk_write(struct pcd_store *s, struct pcd_object *o)
{
	struct pcd_head *h = pcd_object_head(o);
	if (!h)
		return;
	pthread_mutex_lock(&s->lock);
	bool go = o->indexed;
	uint64_t seq = ++s->disk_seq;
	pthread_mutex_unlock(&s->lock);
	/* o->key is fixed while o is indexed or being written by its filler */
	uint64_t dhash = hash_bytes(disk_seed, o->key, o->key_len);
	char name[DISK_NAME + 1], tmp[DISK_NAME + 32];
	disk_name(name, dhash);
	snprintf(tmp, sizeof(tmp), "%s.%llu.tmp", name, (unsigned long long)seq);
	int fd = go ? openat(s->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
	int64_t size = fd >= 0 ? write_object(fd, o, h, seq) : -1;
	if (fd >= 0 && close(fd) != 0)
		size = -1;
	pcd_head_unref(h);
	pthread_mutex_lock(&s->lock);
	if (size > 0 && o->indexed && (!s->disk_limit || (uint64_t)size <= s->disk_limit) &&
	    renameat(s->dir_fd, tmp, s->dir_fd, name) == 0) {
		struct disk_entry *old = disk_find(s, dhash);
		if (old)
			disk_drop(s, old, false);
		if (disk_add(s, dhash, (uint64_t)size)) {
			o->on_disk = true;
			s->counters.disk_writes++;
		} else {
			unlinkat(s->dir_fd, name, 0);
		}
		disk_evict(s);
	} else if (fd >= 0) {
		unlinkat(s->dir_fd, tmp, 0);
		if (size <= 0)
			s->counters.disk_errors++;
	} else if (go) {
		s->counters.disk_errors++;
	}
	pthread_mutex_unlock(&s->lock);
}

static bool read_at(int fd, void *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t r = pread(fd, buf, len, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		buf = (char *)buf + r;
		len -= (size_t)r;
		off += r;
	}
	return true;
}

struct disk_header {
	uint32_t key_len, head_len, meta_len;
	uint64_t body_len;
	uint64_t seq; /* write order, across restarts */
};

/* The header of an open file, checked against its size. */
static bool read_header(int fd, struct disk_header *out)
{
	unsigned char header[DISK_HEADER];
	struct stat st;
	if (fstat(fd, &st) != 0 || !read_at(fd, header, sizeof(header), 0) ||
	    memcmp(header, disk_magic, 8) != 0 || get32(header + 8) != DISK_VERSION)
		return false;
	out->key_len = get32(header + 12);
	out->head_len = get32(header + 16);
	out->meta_len = get32(header + 20);
	out->body_len = get64(header + 24);
	out->seq = get64(header + 32);
	if (out->key_len > DISK_KEY_MAX || out->head_len > DISK_HEAD_MAX ||
	    out->meta_len > DISK_META_MAX || out->body_len > (uint64_t)st.st_size)
		return false;
	return (uint64_t)st.st_size == DISK_HEADER + (uint64_t)out->key_len + out->head_len +
	                                   out->meta_len + out->body_len + DISK_TRAILER;
}

/* Reads the file of key back as a complete object (not indexed), or NULL
 * when it is missing, unreadable, corrupt or another key's. */
static struct pcd_object *disk_load(struct pcd_store *s, const char *key, size_t key_len,
                                    uint64_t dhash)
{
	char name[DISK_NAME + 1];
	disk_name(name, dhash);
	int fd = openat(s->dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct disk_header dh;
	struct pcd_object *o = NULL;
	struct pcd_head *h = NULL;
	struct block *b = NULL;
	unsigned char header[DISK_HEADER], trailer[DISK_TRAILER];
	if (!read_header(fd, &dh) || dh.key_len != key_len)
		goto fail;
	o = object_alloc(key, key_len);
	h = malloc(head_alloc_size(dh.head_len, dh.meta_len));
	b = dh.body_len ? malloc(sizeof(*b) + dh.body_len) : NULL;
	char *file_key = key_len ? malloc(key_len) : NULL;
	off_t off = DISK_HEADER;
	bool ok =
	    o && h && (b || !dh.body_len) && (file_key || !key_len) &&
	    read_at(fd, header, sizeof(header), 0) &&
	    (!key_len || (read_at(fd, file_key, key_len, off) && !memcmp(file_key, key, key_len)));
	free(file_key);
	off += (off_t)key_len;
	size_t hm = (size_t)dh.meta_len + dh.head_len;
	ok = ok && read_at(fd, h->data, hm, off);
	off += (off_t)hm;
	ok = ok && read_at(fd, b ? b->data : NULL, dh.body_len, off);
	off += (off_t)dh.body_len;
	ok = ok && read_at(fd, trailer, sizeof(trailer), off);
	if (!ok)
		goto fail;
	struct hasher sum;
	hash_init(&sum, disk_seed);
	hash_update(&sum, header, sizeof(header));
	hash_update(&sum, key, key_len);
	hash_update(&sum, h->data, hm);
	if (b)
		hash_update(&sum, b->data, dh.body_len);
	if (hash_final(&sum) != get64(trailer))
		goto fail;
	close(fd);
	atomic_init(&h->refs, 1);
	h->head_len = dh.head_len;
	h->meta_len = dh.meta_len;
	o->head = h;
	uint64_t footprint = sizeof(*o) + key_len + head_alloc_size(dh.head_len, dh.meta_len);
	if (b) {
		atomic_init(&b->next, NULL);
		b->start = 0;
		b->cap = dh.body_len;
		atomic_init(&o->first, b);
		o->tail = b;
		footprint += sizeof(*b) + dh.body_len;
	}
	atomic_init(&o->footprint, footprint);
	atomic_init(&o->filled, dh.body_len);
	atomic_init(&o->state, PCD_OBJECT_COMPLETE);
	o->on_disk = true;
	return o;
fail:
	close(fd);
	free(b);
	free(h);
	free(o);
	return NULL;
}

/* ---- finding and publishing ---- */

/* lookup and begin: the object under key, from memory or disk; when there
 * is none and created is not NULL, a new FILLING one. */
static struct pcd_object *get(struct pcd_store *s, const char *key, size_t key_len, bool *created)
{
	uint64_t hash = hash_bytes(s->seed, key, key_len), dhash = 0;
	struct pcd_object *loaded = NULL, *fresh = NULL, *reap = NULL;
	if (created)
		*created = false;
	uint64_t loaded_seq = 0;
	for (int loads = 0;;) {
		pthread_mutex_lock(&s->lock);
		struct pcd_object *o = find_locked(s, key, key_len, hash);
		if (o && pcd_object_state(o) != PCD_OBJECT_ABORTED) {
			touch_locked(o);
			pcd_object_ref(o);
			pthread_mutex_unlock(&s->lock);
			pcd_object_unref(loaded);
			pcd_object_unref(fresh);
			return o;
		}
		if (s->dir_fd >= 0 && !dhash)
			dhash = hash_bytes(disk_seed, key, key_len);
		struct disk_entry *d = disk_find(s, dhash);
		if (loaded && d && d->seq == loaded_seq) {
			/* still the file we read: publish it */
			if (o)
				unindex(s, o, &reap);
			loaded->hash = hash;
			index_locked(s, loaded, &reap);
			s->counters.disk_reads++;
			pthread_mutex_unlock(&s->lock);
			pcd_object_unref(fresh);
			reap_all(reap);
			return loaded;
		}
		pcd_object_unref(loaded);
		loaded = NULL;
		if (d && loads++ < LOAD_TRIES) {
			uint64_t seq = d->seq;
			pthread_mutex_unlock(&s->lock);
			loaded = disk_load(s, key, key_len, dhash);
			if (loaded) {
				loaded_seq = seq;
				continue;
			}
			pthread_mutex_lock(&s->lock);
			d = disk_find(s, dhash);
			if (d && d->seq == seq) {
				disk_drop(s, d, true);
				s->counters.disk_errors++;
			}
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		if (!created) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		if (!fresh) {
			/* allocated only on a miss, outside the lock; then look again */
			pthread_mutex_unlock(&s->lock);
			fresh = object_alloc(key, key_len);
			if (!fresh)
				return NULL;
			fresh->hash = hash;
			continue;
		}
		if (o)
			unindex(s, o, &reap);
		index_locked(s, fresh, &reap);
		pthread_mutex_unlock(&s->lock);
		reap_all(reap);
		*created = true;
		return fresh;
	}
}

struct pcd_object *pcd_store_lookup(struct pcd_store *store, const char *key, size_t key_len)
{
	return get(store, key, key_len, NULL);
}

struct pcd_object *pcd_store_begin(struct pcd_store *store, const char *key, size_t key_len,
                                   bool *created)
{
	return get(store, key, key_len, created);
}

bool pcd_store_contains(struct pcd_store *store, const char *key, size_t key_len)
{
	uint64_t hash = hash_bytes(store->seed, key, key_len);
	uint64_t dhash = store->dir_fd >= 0 ? hash_bytes(disk_seed, key, key_len) : 0;
	pthread_mutex_lock(&store->lock);
	struct pcd_object *o = find_locked(store, key, key_len, hash);
	bool held = (o && pcd_object_state(o) == PCD_OBJECT_COMPLETE) || disk_find(store, dhash);
	pthread_mutex_unlock(&store->lock);
	return held;
}

struct pcd_object *pcd_store_peek(struct pcd_store *store, const char *key, size_t key_len,
                                  bool *on_disk)
{
	uint64_t hash = hash_bytes(store->seed, key, key_len);
	uint64_t dhash = store->dir_fd >= 0 ? hash_bytes(disk_seed, key, key_len) : 0;
	pthread_mutex_lock(&store->lock);
	struct pcd_object *o = find_locked(store, key, key_len, hash);
	if (o && pcd_object_state(o) == PCD_OBJECT_COMPLETE)
		pcd_object_ref(o);
	else
		o = NULL;
	*on_disk = o == NULL && disk_find(store, dhash) != NULL;
	pthread_mutex_unlock(&store->lock);
	return o;
}

int pcd_store_insert(struct pcd_store *store, const char *key, size_t key_len,
                     struct pcd_object *object)
{
	char *copy = malloc(key_len ? key_len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, key, key_len);
	uint64_t hash = hash_bytes(store->seed, key, key_len);
	struct pcd_object *reap = NULL;
	pthread_mutex_lock(&store->lock);
	if (object->indexed) {
		bool same = object->key_len == key_len && !memcmp(object->key, key, key_len) &&
		            atomic_load_explicit(&object->store, memory_order_relaxed) == store;
		pthread_mutex_unlock(&store->lock);
		free(copy);
		return same ? 0 : -EINVAL;
	}
	if (!object->key_inline)
		free(object->key);
	object->key = copy;
	object->key_len = key_len;
	object->key_inline = false;
	object->hash = hash;
	object->on_disk = false;
	struct pcd_object *old = find_locked(store, key, key_len, hash);
	if (old)
		unindex(store, old, &reap);
	disk_remove_key(store, key, key_len);
	/* what the store would drop at once replaces the old one with nothing */
	if (pcd_object_filled(object) <= store->max_object_bytes &&
	    pcd_object_state(object) != PCD_OBJECT_ABORTED)
		index_locked(store, object, &reap);
	bool write = store->dir_fd >= 0 && object->indexed &&
	             pcd_object_state(object) == PCD_OBJECT_COMPLETE;
	pthread_mutex_unlock(&store->lock);
	reap_all(reap);
	if (write)
		disk_write(store, object);
	return 0;
}

void pcd_store_remove(struct pcd_store *store, const char *key, size_t key_len,
                      const struct pcd_object *only)
{
	uint64_t hash = hash_bytes(store->seed, key, key_len);
	struct pcd_object *reap = NULL;
	pthread_mutex_lock(&store->lock);
	struct pcd_object *o = find_locked(store, key, key_len, hash);
	if (!only || o == only) {
		if (o)
			unindex(store, o, &reap);
		disk_remove_key(store, key, key_len);
	}
	pthread_mutex_unlock(&store->lock);
	reap_all(reap);
}

/* ---- filling ---- */

/* Runs fn on the store of an indexed object, under its lock. */
static void with_store(struct pcd_object *o,
                       void (*fn)(struct pcd_store *, struct pcd_object *, struct pcd_object **))
{
	struct pcd_store *s = atomic_load_explicit(&o->store, memory_order_acquire);
	if (!s)
		return;
	struct pcd_object *reap = NULL;
	pthread_mutex_lock(&s->lock);
	if (o->indexed)
		fn(s, o, &reap);
	pthread_mutex_unlock(&s->lock);
	reap_all(reap);
}

static void grew(struct pcd_store *s, struct pcd_object *o, struct pcd_object **reap)
{
	recharge_locked(s, o);
	if (pcd_object_filled(o) > s->max_object_bytes)
		unindex(s, o, reap);
	else
		evict_locked(s, reap);
}

static void leave(struct pcd_store *s, struct pcd_object *o, struct pcd_object **reap)
{
	unindex(s, o, reap);
}

int pcd_object_set_head(struct pcd_object *object, const char *head, size_t head_len,
                        const void *meta, size_t meta_len)
{
	struct pcd_head *h = head_new(head, head_len, meta, meta_len);
	if (!h)
		return -ENOMEM;
	head_lock(object);
	struct pcd_head *old = object->head;
	object->head = h;
	head_unlock(object);
	uint64_t size = head_alloc_size(head_len, meta_len);
	uint64_t old_size = old ? head_alloc_size(old->head_len, old->meta_len) : 0;
	atomic_fetch_add_explicit(&object->footprint, size - old_size, memory_order_relaxed);
	pcd_head_unref(old);
	struct pcd_store *s = atomic_load_explicit(&object->store, memory_order_acquire);
	if (!s)
		return 0;
	struct pcd_object *reap = NULL;
	pthread_mutex_lock(&s->lock);
	bool rewrite = false;
	if (object->indexed) {
		recharge_locked(s, object);
		evict_locked(s, &reap);
		/* a 304's new fields must survive a restart too */
		rewrite = s->dir_fd >= 0 && object->indexed &&
		          pcd_object_state(object) == PCD_OBJECT_COMPLETE;
	}
	pthread_mutex_unlock(&s->lock);
	reap_all(reap);
	if (rewrite)
		disk_write(s, object);
	return 0;
}

void pcd_object_reserve(struct pcd_object *object, uint64_t total)
{
	object->reserve = total;
	/* it will cross the limit: leave now, before its block is charged */
	struct pcd_store *s = atomic_load_explicit(&object->store, memory_order_acquire);
	if (s && total > s->max_object_bytes)
		with_store(object, leave);
}

static struct block *block_new(struct pcd_object *o, uint64_t filled)
{
	uint64_t cap;
	if (o->reserve > filled) {
		cap = o->reserve - filled;
		if (cap > RESERVE_MAX)
			cap = RESERVE_MAX;
	} else {
		cap = filled / 8;
		cap = cap < BLOCK_MIN ? BLOCK_MIN : cap > BLOCK_MAX ? BLOCK_MAX : cap;
	}
	struct block *b = malloc(sizeof(*b) + cap);
	if (!b)
		return NULL;
	atomic_init(&b->next, NULL);
	b->start = filled;
	b->cap = cap;
	return b;
}

int pcd_object_append(struct pcd_object *object, const char *data, size_t len)
{
	uint64_t filled = atomic_load_explicit(&object->filled, memory_order_relaxed);
	bool grown = false;
	int rc = 0;
	while (len) {
		struct block *b = object->tail;
		if (!b || filled == b->start + b->cap) {
			struct block *nb = block_new(object, filled);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			atomic_fetch_add_explicit(&object->footprint, sizeof(*nb) + nb->cap,
			                          memory_order_relaxed);
			if (b)
				atomic_store_explicit(&b->next, nb, memory_order_release);
			else
				atomic_store_explicit(&object->first, nb, memory_order_release);
			object->tail = b = nb;
			grown = true;
		}
		uint64_t room = b->start + b->cap - filled;
		size_t n = len < room ? len : (size_t)room;
		memcpy(b->data + (filled - b->start), data, n);
		filled += n;
		data += n;
		len -= n;
	}
	uint64_t before = atomic_load_explicit(&object->filled, memory_order_relaxed);
	atomic_store_explicit(&object->filled, filled, memory_order_release);
	struct pcd_store *s = atomic_load_explicit(&object->store, memory_order_acquire);
	if (s && (grown || (before <= s->max_object_bytes && filled > s->max_object_bytes)))
		with_store(object, grew);
	return rc;
}

static void finished(struct pcd_store *s, struct pcd_object *o, struct pcd_object **reap)
{
	if (pcd_object_filled(o) > s->max_object_bytes) {
		unindex(s, o, reap);
		return;
	}
	recharge_locked(s, o);
	enqueue_locked(s, o);
	evict_locked(s, reap);
}

void pcd_object_finish(struct pcd_object *object)
{
	atomic_store_explicit(&object->state, PCD_OBJECT_COMPLETE, memory_order_release);
	with_store(object, finished);
	struct pcd_store *s = atomic_load_explicit(&object->store, memory_order_acquire);
	if (!s || s->dir_fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	bool write = object->indexed && !object->on_disk;
	pthread_mutex_unlock(&s->lock);
	if (write)
		disk_write(s, object);
}

void pcd_object_abort(struct pcd_object *object)
{
	atomic_store_explicit(&object->state, PCD_OBJECT_ABORTED, memory_order_release);
	with_store(object, leave);
}

/* ---- the store ---- */

static int mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = c;
	}
	return 0;
}

static bool is_object_name(const char *name, uint64_t *hash)
{
	if (strlen(name) != DISK_NAME)
		return false;
	uint64_t v = 0;
	for (int i = 0; i < DISK_NAME; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*hash = v;
	return true;
}

struct scanned {
	uint64_t hash, size, seq;
};

static int by_seq(const void *a, const void *b)
{
	const struct scanned *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A file whose header is whole and names its own key; the body's checksum
 * waits for the read-back. */
static bool scan_file(struct pcd_store *s, const char *name, uint64_t hash, struct scanned *out)
{
	int fd = openat(s->dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct disk_header dh;
	struct stat st;
	char *key = NULL;
	bool ok = read_header(fd, &dh) && fstat(fd, &st) == 0 &&
	          (key = malloc(dh.key_len ? dh.key_len : 1)) &&
	          read_at(fd, key, dh.key_len, DISK_HEADER) &&
	          hash_bytes(disk_seed, key, dh.key_len) == hash;
	if (ok) {
		out->hash = hash;
		out->size = (uint64_t)st.st_size;
		out->seq = dh.seq;
	}
	free(key);
	close(fd);
	return ok;
}

static int disk_open(struct pcd_store *s, const char *path)
{
	int rc = mkdirs(path);
	if (rc < 0)
		return rc;
	s->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0)
		return -errno;
	s->ndbuckets = INDEX_MIN;
	s->dbuckets = calloc(s->ndbuckets, sizeof(*s->dbuckets));
	int dfd = dup(s->dir_fd);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!s->dbuckets || !dir) {
		if (dfd >= 0)
			close(dfd);
		return s->dbuckets ? -errno : -ENOMEM;
	}
	struct scanned *found = NULL;
	size_t n = 0, cap = 0;
	rc = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		size_t len = strlen(e->d_name);
		uint64_t hash;
		if (len > 4 && !strcmp(e->d_name + len - 4, ".tmp")) {
			unlinkat(s->dir_fd, e->d_name, 0); /* a write a crash cut short */
			continue;
		}
		if (!is_object_name(e->d_name, &hash))
			continue; /* not ours */
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			struct scanned *more = realloc(found, cap * sizeof(*found));
			if (!more) {
				rc = -ENOMEM;
				break;
			}
			found = more;
		}
		if (scan_file(s, e->d_name, hash, &found[n])) {
			n++;
		} else {
			unlinkat(s->dir_fd, e->d_name, 0);
			s->counters.disk_errors++;
		}
	}
	closedir(dir);
	if (rc == 0) {
		if (n)
			qsort(found, n, sizeof(*found), by_seq);
		/* later writes sort after every file found (file times are too
		 * coarse to order writes a microsecond apart) */
		s->disk_seq = n ? found[n - 1].seq : 0;
		for (size_t i = 0; i < n && rc == 0; i++)
			if (!disk_add(s, found[i].hash, found[i].size))
				rc = -ENOMEM;
		disk_evict(s);
	}
	free(found);
	return rc;
}

int pcd_store_new(const struct pcd_store_params *params, struct pcd_store **out)
{
	*out = NULL;
	if (!params->memory_bytes)
		return -EINVAL;
	struct pcd_store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dir_fd = -1;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return -ENOMEM;
	}
	s->memory_bytes = params->memory_bytes;
	s->max_object_bytes =
	    params->max_object_bytes ? params->max_object_bytes : params->memory_bytes;
	s->disk_limit = params->disk_bytes;
	if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) != sizeof(s->seed))
		s->seed = (uint64_t)(uintptr_t)s ^ K2;
	s->nbuckets = INDEX_MIN;
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	/* about one ghost slot per 8 KiB of memory: the main queue's objects */
	size_t ghost = GHOST_MIN;
	while (ghost < GHOST_MAX && ghost * 8192 < params->memory_bytes)
		ghost *= 2;
	s->ghost = calloc(ghost, sizeof(*s->ghost));
	s->ghost_mask = ghost - 1;
	int rc = s->buckets && s->ghost ? 0 : -ENOMEM;
	if (rc == 0 && params->disk_path && params->disk_path[0])
		rc = disk_open(s, params->disk_path);
	if (rc < 0) {
		pcd_store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void pcd_store_free(struct pcd_store *store)
{
	if (!store)
		return;
	struct pcd_object *reap = NULL;
	for (size_t i = 0; store->buckets && i < store->nbuckets; i++)
		while (store->buckets[i])
			unindex(store, store->buckets[i], &reap);
	reap_all(reap);
	while (store->oldest)
		disk_drop(store, store->oldest, false);
	if (store->dir_fd >= 0)
		close(store->dir_fd);
	pthread_mutex_destroy(&store->lock);
	free(store->dbuckets);
	free(store->buckets);
	free(store->ghost);
	free(store);
}

void pcd_store_stats(struct pcd_store *store, struct pcd_store_stats *out)
{
	pthread_mutex_lock(&store->lock);
	*out = store->counters;
	out->objects = store->objects;
	out->bytes = store->bytes;
	out->disk_objects = store->disk_objects;
	out->disk_bytes = store->disk_bytes;
	pthread_mutex_unlock(&store->lock);
}
