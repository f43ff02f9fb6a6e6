/* edge_store: the edge role's cached objects, one store per node, shared
 * by its workers. An object is a stored response: its head (the bytes the
 * edge sends before the body, without the per-response fields such as Age
 * and Date), a fixed-size record of the edge's own (meta: times,
 * validators; opaque here) and its body, in blocks that never move once
 * written. It is filled by one worker (the one that fetched it) while any
 * number of readers on any worker stream what is there: request
 * collapsing and streaming while filling.
 *
 * Memory: objects in the index count against memory_bytes; eviction is
 * S3-FIFO (a small probationary FIFO, a main FIFO with a reinsertion bit,
 * a ghost list of recently evicted keys), so one scan of cold objects
 * cannot flush the hot ones. An evicted or replaced object lives on until
 * its last reference is dropped, so a reader never loses bytes it is
 * sending.
 *
 * Disk (optional): a complete object is also written to disk_path, one
 * file per object, written to a temporary name and renamed (a crash leaves
 * an object whole or absent) with a checksum checked when read back; the
 * index of what is on disk is rebuilt at start, so the tier survives a
 * restart. A memory miss that is on disk is read back (on the caller's
 * thread: disk reads are short and rare next to a fetch upstream).
 *
 * Threads: every function may be called from any thread. A FILLING
 * object has one writer, its filler; readers see its bytes with acquire
 * loads, no lock. */
#ifndef PC_NODE_EDGE_STORE_H
#define PC_NODE_EDGE_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct pcd_store;
struct pcd_object;
struct pcd_head;

struct pcd_store_params {
	/* Heads, metas and bodies of indexed objects, with the store's own
	 * bytes per object. Not 0. */
	uint64_t memory_bytes;
	/* Body bytes: a larger object is not kept (it still streams). 0:
	 * memory_bytes. */
	uint64_t max_object_bytes;
	const char *disk_path; /* NULL or "": no disk tier */
	/* Bytes of the files on disk; the oldest written go first. 0: no
	 * limit. */
	uint64_t disk_bytes;
};

/* Opens the store, and the disk tier when there is one (creating the
 * directory, reading the index of what it holds and removing temporary or
 * corrupt files). Returns 0 or -errno. */
int pcd_store_new(const struct pcd_store_params *params, struct pcd_store **out);
/* Only when no other thread uses the store and every object it indexed is
 * finished or aborted. Objects still referenced outlive it (readers may
 * keep streaming); files on disk stay for the next start. */
void pcd_store_free(struct pcd_store *store);

/* ---- finding and publishing ---- */

/* The object under key: from memory, else read back from disk. A
 * reference (pcd_object_unref) or NULL. Counts as an access for eviction. */
struct pcd_object *pcd_store_lookup(struct pcd_store *store, const char *key, size_t key_len);
/* Whether key is held (memory or disk, complete), without loading or
 * counting an access: for ICP. */
bool pcd_store_contains(struct pcd_store *store, const char *key, size_t key_len);
/* The complete object under key in memory, a reference (pcd_object_unref),
 * without loading from disk or counting an access: for ICP, which asks
 * whether it is fresh. NULL when not in memory; then *on_disk says
 * whether the disk tier holds it. */
struct pcd_object *pcd_store_peek(struct pcd_store *store, const char *key, size_t key_len,
                                  bool *on_disk);

/* Request collapsing: the object under key, or, when there is none (or
 * only an ABORTED one), a new FILLING object inserted under key in one
 * step. *created says which: exactly one of any number of concurrent
 * callers gets true and must fill it (or abort it). A reference, or NULL
 * when memory runs out. */
struct pcd_object *pcd_store_begin(struct pcd_store *store, const char *key, size_t key_len,
                                   bool *created);
/* A new FILLING object in no index (a revalidation whose answer may be
 * 304, an uncacheable response streamed to one client). A reference or
 * NULL. */
struct pcd_object *pcd_object_new(void);
/* Puts object under key, replacing what is there in memory and on disk (a
 * refetched stale object); a complete object is written to disk now, a
 * FILLING one when it finishes. The store takes its own reference.
 * Returns 0, -ENOMEM, or -EINVAL when object is indexed under another
 * key (under the same key: 0, nothing changes). */
int pcd_store_insert(struct pcd_store *store, const char *key, size_t key_len,
                     struct pcd_object *object);
/* Removes key from memory and disk (invalidation by an unsafe method, a
 * response that must not be stored); when only is not NULL, only if the
 * object under key is that one. */
void pcd_store_remove(struct pcd_store *store, const char *key, size_t key_len,
                      const struct pcd_object *only);

/* ---- an object ---- */

enum pcd_object_state {
	PCD_OBJECT_FILLING,  /* head may be absent yet; body growing */
	PCD_OBJECT_COMPLETE, /* every byte is there */
	PCD_OBJECT_ABORTED,  /* the fill failed: readers must abort, never end cleanly */
};

void pcd_object_ref(struct pcd_object *object);
void pcd_object_unref(struct pcd_object *object); /* NULL is fine */

/* Sets or replaces (a 304's updated fields) the head and meta, copied.
 * Readers holding the previous head keep it. Replacing the head of a
 * complete indexed object rewrites its file on disk. Returns 0 or
 * -ENOMEM. */
int pcd_object_set_head(struct pcd_object *object, const char *head, size_t head_len,
                        const void *meta, size_t meta_len);
/* The current head, a reference (pcd_head_unref), or NULL while a FILLING
 * object has none yet. */
struct pcd_head *pcd_object_head(struct pcd_object *object);
const char *pcd_head_bytes(const struct pcd_head *head, size_t *len);
const void *pcd_head_meta(const struct pcd_head *head, size_t *len);
void pcd_head_unref(struct pcd_head *head); /* NULL is fine */

/* The filler only. A hint that the body will be total bytes (Content-
 * Length), so it is kept in one block (up to 16 MiB a block). Over
 * max_object_bytes, the object leaves the index now. */
void pcd_object_reserve(struct pcd_object *object, uint64_t total);
/* The filler only: appends body bytes (copied once, into the object's
 * blocks) and publishes them. Returns 0 or -ENOMEM. Past max_object_bytes
 * the object leaves the index (it still streams to its readers). */
int pcd_object_append(struct pcd_object *object, const char *data, size_t len);
/* The filler only: every byte is there. The store accounts its size,
 * evicts what must go, and writes it to disk when it is indexed (on the
 * caller's thread: one file, no fsync). */
void pcd_object_finish(struct pcd_object *object);
/* The filler only: the fill failed; the object leaves the index and its
 * readers see ABORTED. */
void pcd_object_abort(struct pcd_object *object);

enum pcd_object_state pcd_object_state(const struct pcd_object *object);
/* Body bytes there now (acquire: every one of them may be read). */
uint64_t pcd_object_filled(const struct pcd_object *object);
/* Body bytes from offset, up to what is filled, as at most max iovecs
 * pointing into the object's blocks; valid while a reference is held.
 * Returns how many iovecs were written (0: none from offset yet). */
int pcd_object_body(const struct pcd_object *object, uint64_t offset, struct iovec *iov, int max);

/* A word of the edge's, never read by the store: which workers wait for
 * more of a FILLING object (a bit per worker), so the filler can wake
 * them. */
_Atomic uint64_t *pcd_object_waiters(struct pcd_object *object);
/* Another word of the edge's (a background revalidation in flight). */
_Atomic uint32_t *pcd_object_marks(struct pcd_object *object);

/* ---- counters, for /metrics ---- */

/* A small number of the edge's (its provider's index, the last one for
 * the rest), kept with an object so evictions can be counted by it. Set
 * before the object is indexed, by its filler. */
enum { PCD_STORE_TAGS = 65 };
void pcd_object_set_tag(struct pcd_object *object, uint8_t tag);

struct pcd_store_stats {
	uint64_t objects, bytes;           /* in memory, indexed */
	uint64_t disk_objects, disk_bytes; /* on disk */
	uint64_t evictions, disk_evictions, disk_reads, disk_writes, disk_errors;
	uint64_t evictions_by_tag[PCD_STORE_TAGS];
};
void pcd_store_stats(struct pcd_store *store, struct pcd_store_stats *out);

#endif
