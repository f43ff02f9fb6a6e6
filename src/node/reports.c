/* The provider-report store (docs/reports.md): a bounded queue the
 * answering threads put records into, and one writer thread that frames
 * them (lib/policy/report_log), appends them to the current segment file,
 * syncs, rotates and ships. Answering threads never wait for the disk:
 * a redirector that blocked on a slow disk would stop answering clients,
 * which costs the provider far more than a lost report line, so a full
 * queue drops and counts instead.
 *
 * Segments are DIR/<20-digit number>.seg, numbered up. At start every kept
 * segment is read once: the newest's torn tail (a frame a crash cut) is
 * truncated and counted, and the highest serial of every origin is
 * remembered, so records received again are stored once and this node's
 * own serials go on rising. */
#include "node/reports.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/err.h"
#include "lib/policy/report.h"
#include "lib/policy/report_log.h"
#include "lib/proto/reports_settings.h"
#include "node/log.h"
#include "node/node.h"

enum {
	SLOT_LINE = 1536, /* a longer line (a huge object name) is dropped */
	BATCH = 256,      /* records per write and sync */
	MAX_ORIGINS = 4096,
};

struct slot {
	uint64_t serial; /* 0: this node's, numbered by the writer */
	uint8_t origin_len;
	uint16_t line_len;
	char origin[PC_REPORT_ORIGIN_MAX];
	char line[SLOT_LINE];
};

/* The highest serial stored of one origin. */
struct mark {
	char name[PC_REPORT_ORIGIN_MAX + 1];
	uint64_t serial;
};

enum counter { C_WRITTEN, C_DROPPED, C_TORN, C_DUPLICATE, C_WRITE_ERROR, C__COUNT };
static const char *const counter_help[C__COUNT][2] = {
    {"written", "Report records written to the store."},
    {"dropped", "Report records dropped: the queue was full or the record too long."},
    {"torn", "Torn segment tails (a record cut by a crash) truncated at open."},
    {"duplicate", "Received report records already stored (same origin and serial)."},
    {"write_errors", "Writes to the store that failed (records lost)."},
};

struct pcd_reports {
	/* Settings, fixed while the store runs (a reload changes them on
	 * restart only). */
	char *dir;
	char origin[PC_REPORT_ORIGIN_MAX + 1];
	size_t origin_len;
	uint64_t segment_bytes;
	uint32_t keep;

	/* The queue: a ring of cap slots under lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct slot *slots;
	uint32_t cap, head, count;
	bool stopping;
	pcd_reports_ship_fn *ship;
	void *ship_arg;

	/* The writer's own. */
	pthread_t thread;
	bool thread_started;
	int fd;
	uint64_t segment; /* number of the open segment */
	uint64_t segment_size;
	uint64_t next_serial;
	struct mark *marks;
	uint32_t n_marks;
	struct slot batch[BATCH];
	uint8_t frames[BATCH * PC_REPORT_FRAME_MAX / 4];
	size_t frames_len;

	_Atomic uint64_t counters[C__COUNT];
};

static void bump(struct pcd_reports *r, enum counter c)
{
	atomic_fetch_add_explicit(&r->counters[c], 1, memory_order_relaxed);
}

/* ---- the queue (any thread) ---- */

static int enqueue(struct pcd_reports *r, uint64_t serial, const char *origin, size_t origin_len,
                   const char *line, size_t line_len)
{
	if (line_len == 0 || line_len > SLOT_LINE || origin_len > PC_REPORT_ORIGIN_MAX) {
		bump(r, C_DROPPED);
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	if (r->count == r->cap || r->stopping) {
		pthread_mutex_unlock(&r->lock);
		bump(r, C_DROPPED);
		return -ENOSPC;
	}
	struct slot *s = &r->slots[(r->head + r->count) % r->cap];
	s->serial = serial;
	s->origin_len = (uint8_t)origin_len;
	memcpy(s->origin, origin, origin_len);
	s->line_len = (uint16_t)line_len;
	memcpy(s->line, line, line_len);
	if (r->count++ == 0)
		pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void pcd_reports_decision(void *arg, const struct pc_answer_ctx *ctx, const pc_request *req,
                          const pc_decision *decision)
{
	struct pcd_reports *r = arg;
	char line[PC_REPORT_LINE_MAX + 1];
	int n = pc_report_format(ctx->model, req, decision, ctx->now_ms, line, sizeof(line));
	if (n <= 0) {
		bump(r, C_DROPPED);
		return;
	}
	enqueue(r, 0, r->origin, r->origin_len, line, (size_t)n);
}

int pcd_reports_receive(struct pcd_reports *r, const char *origin, size_t origin_len,
                        uint64_t serial, const char *line, size_t line_len)
{
	if (r == NULL || origin == NULL || line == NULL || origin_len == 0 || serial == 0)
		return -EINVAL;
	return enqueue(r, serial, origin, origin_len, line, line_len);
}

void pcd_reports_set_shipper(struct pcd_reports *r, pcd_reports_ship_fn *ship, void *arg)
{
	pthread_mutex_lock(&r->lock);
	r->ship = ship;
	r->ship_arg = arg;
	pthread_mutex_unlock(&r->lock);
}

/* ---- origins seen (writer thread, and start before it) ---- */

static struct mark *mark_of(struct pcd_reports *r, const char *origin, size_t len, bool add)
{
	for (uint32_t i = 0; i < r->n_marks; i++)
		if (strlen(r->marks[i].name) == len && memcmp(r->marks[i].name, origin, len) == 0)
			return &r->marks[i];
	if (!add || r->n_marks == MAX_ORIGINS)
		return NULL;
	struct mark *m = &r->marks[r->n_marks++];
	memcpy(m->name, origin, len);
	m->name[len] = '\0';
	m->serial = 0;
	return m;
}

/* ---- segment files ---- */

static int segment_path(const struct pcd_reports *r, uint64_t number, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%020" PRIu64 ".seg", r->dir, number);
	return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The segment numbers in the directory, oldest first, into *out (malloc'd). */
static int list_segments(const char *dir, uint64_t **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return -errno;
	size_t n = 0, cap = 0;
	uint64_t *numbers = NULL;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		if (strlen(name) != 24 || strcmp(name + 20, ".seg") != 0)
			continue;
		uint64_t v = 0;
		bool ok = true;
		for (int i = 0; i < 20 && ok; i++) {
			ok = name[i] >= '0' && name[i] <= '9';
			v = v * 10 + (uint64_t)(name[i] - '0');
		}
		if (!ok)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *more = realloc(numbers, cap * sizeof(*numbers));
			if (more == NULL) {
				free(numbers);
				closedir(d);
				return -ENOMEM;
			}
			numbers = more;
		}
		numbers[n++] = v;
	}
	closedir(d);
	if (n > 0) /* qsort's base may not be NULL, even for no element */
		qsort(numbers, n, sizeof(*numbers), compare_u64);
	*out = numbers;
	*n_out = n;
	return 0;
}

/* Reads one segment: every record's origin and serial into the marks; for
 * the newest (last), a torn tail is cut off. */
static int scan_segment(struct pcd_reports *r, uint64_t number, bool last)
{
	char path[4096];
	int err = segment_path(r, number, path, sizeof(path));
	if (err != 0)
		return err;
	int fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	size_t size = (size_t)st.st_size;
	void *data = NULL;
	if (size > 0) {
		data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (data == MAP_FAILED) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	struct pc_report_reader reader;
	pc_report_reader_init(&reader, data, size);
	struct pc_report_record rec;
	while (pc_report_reader_next(&reader, &rec) == PC_OK) {
		struct mark *m = mark_of(r, rec.origin, rec.origin_len, true);
		if (m != NULL && rec.serial > m->serial)
			m->serial = rec.serial;
	}
	if (data != NULL)
		munmap(data, size);
	if (last && reader.good_end < size) {
		/* A crash cut the last write: whole records stay, the rest goes. */
		if (ftruncate(fd, (off_t)reader.good_end) != 0 || fdatasync(fd) != 0) {
			err = -errno;
			close(fd);
			return err;
		}
		bump(r, C_TORN);
		pcd_log(PCD_LOG_WARNING, "reports-torn-tail",
		        "segment=%" PRIu64 " kept=%zu cut=%zu", number, reader.good_end,
		        size - reader.good_end);
	}
	close(fd);
	return 0;
}

static void sync_dir(const struct pcd_reports *r)
{
	int fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Opens segment number for appending (created when new). */
static int open_segment(struct pcd_reports *r, uint64_t number)
{
	char path[4096];
	int err = segment_path(r, number, path, sizeof(path));
	if (err != 0)
		return err;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->segment = number;
	r->segment_size = (uint64_t)st.st_size;
	sync_dir(r); /* the new name survives a power cut with its records */
	return 0;
}

/* Deletes the oldest segments beyond keep. */
static void prune_segments(struct pcd_reports *r)
{
	uint64_t *numbers;
	size_t n;
	if (list_segments(r->dir, &numbers, &n) != 0)
		return;
	for (size_t i = 0; i + r->keep < n; i++) {
		char path[4096];
		if (numbers[i] != r->segment &&
		    segment_path(r, numbers[i], path, sizeof(path)) == 0)
			unlink(path);
	}
	free(numbers);
}

/* mkdir -p */
static int make_dir(const char *dir)
{
	char path[4096];
	size_t len = strlen(dir);
	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return -errno;
		path[i] = c;
	}
	return 0;
}

/* ---- the writer thread ---- */

/* Writes the framed batch to the open segment; on a failure the segment
 * is cut back to where it was, so no half frame stays behind. */
static bool flush_frames(struct pcd_reports *r, unsigned records)
{
	if (r->frames_len == 0)
		return true;
	size_t done = 0;
	while (done < r->frames_len) {
		ssize_t n = write(r->fd, r->frames + done, r->frames_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	bool ok = done == r->frames_len && fdatasync(r->fd) == 0;
	if (!ok) {
		if (ftruncate(r->fd, (off_t)r->segment_size) != 0)
			pcd_log(PCD_LOG_ERROR, "reports-truncate-failed", "errno=%d", errno);
		bump(r, C_WRITE_ERROR);
		atomic_fetch_add_explicit(&r->counters[C_DROPPED], records, memory_order_relaxed);
		pcd_log(PCD_LOG_ERROR, "reports-write-failed", "segment=%" PRIu64 " records=%u",
		        r->segment, records);
	} else {
		r->segment_size += r->frames_len;
		atomic_fetch_add_explicit(&r->counters[C_WRITTEN], records, memory_order_relaxed);
	}
	r->frames_len = 0;
	return ok;
}

static void write_batch(struct pcd_reports *r, unsigned n, pcd_reports_ship_fn *ship,
                        void *ship_arg)
{
	unsigned framed = 0;
	bool written[BATCH] = {false};
	unsigned first_unflushed = 0;
	for (unsigned i = 0; i < n; i++) {
		struct slot *s = &r->batch[i];
		struct mark *m = mark_of(r, s->origin, s->origin_len, true);
		if (s->serial == 0) {
			s->serial = r->next_serial++;
		} else if (m != NULL && s->serial <= m->serial) {
			bump(r, C_DUPLICATE);
			continue;
		}
		if (m != NULL && s->serial > m->serial)
			m->serial = s->serial;
		struct pc_report_record rec = {s->origin, s->origin_len, s->serial, s->line,
		                               s->line_len};
		uint8_t frame[PC_REPORT_FRAME_MAX];
		int len = pc_report_frame_write(&rec, frame, sizeof(frame));
		if (len < 0) {
			bump(r, C_DROPPED);
			continue;
		}
		/* The segment is full: what is framed goes into it, the rest
		 * into the next. */
		if (r->segment_size + r->frames_len + (size_t)len > r->segment_bytes &&
		    r->segment_size + r->frames_len > 0) {
			bool ok = flush_frames(r, framed);
			for (unsigned j = first_unflushed; j < i; j++)
				written[j] = written[j] && ok;
			first_unflushed = i;
			framed = 0;
			if (open_segment(r, r->segment + 1) == 0)
				prune_segments(r);
		}
		memcpy(r->frames + r->frames_len, frame, (size_t)len);
		r->frames_len += (size_t)len;
		written[i] = true;
		framed++;
		if (r->frames_len + PC_REPORT_FRAME_MAX > sizeof(r->frames)) {
			bool ok = flush_frames(r, framed);
			for (unsigned j = first_unflushed; j <= i; j++)
				written[j] = written[j] && ok;
			first_unflushed = i + 1;
			framed = 0;
		}
	}
	bool ok = flush_frames(r, framed);
	for (unsigned j = first_unflushed; j < n; j++)
		written[j] = written[j] && ok;
	if (ship == NULL)
		return;
	for (unsigned i = 0; i < n; i++) {
		const struct slot *s = &r->batch[i];
		if (written[i] && s->origin_len == r->origin_len &&
		    memcmp(s->origin, r->origin, r->origin_len) == 0)
			ship(ship_arg, s->origin, s->origin_len, s->serial, s->line, s->line_len);
	}
}

static void *writer_main(void *arg)
{
	struct pcd_reports *r = arg;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->count == 0 && !r->stopping)
			pthread_cond_wait(&r->wake, &r->lock);
		if (r->count == 0)
			break; /* stopping, and everything queued is written */
		unsigned n = r->count < BATCH ? r->count : BATCH;
		for (unsigned i = 0; i < n; i++) {
			const struct slot *s = &r->slots[(r->head + i) % r->cap];
			/* Only the used part of the line is copied. */
			memcpy(&r->batch[i], s, offsetof(struct slot, line) + s->line_len);
		}
		r->head = (r->head + n) % r->cap;
		r->count -= n;
		pcd_reports_ship_fn *ship = r->ship;
		void *ship_arg = r->ship_arg;
		pthread_mutex_unlock(&r->lock);
		write_batch(r, n, ship, ship_arg);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* ---- the room ---- */

static void store_free(struct pcd_reports *r)
{
	if (r == NULL)
		return;
	if (r->thread_started) {
		pthread_mutex_lock(&r->lock);
		r->stopping = true;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	if (r->fd >= 0)
		close(r->fd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	free(r->slots);
	free(r->marks);
	free(r->dir);
	free(r);
}

static int store_open(struct pcd_reports *r, uint64_t now_ms)
{
	int err = make_dir(r->dir);
	if (err != 0)
		return err;
	uint64_t *numbers;
	size_t n;
	err = list_segments(r->dir, &numbers, &n);
	if (err != 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++)
		err = scan_segment(r, numbers[i], i + 1 == n);
	uint64_t newest = n > 0 ? numbers[n - 1] : 1;
	free(numbers);
	if (err != 0)
		return err;
	/* Serials go on from the highest stored, and from the clock (ms << 12)
	 * when the store was emptied, so a primary that has this node's old
	 * records never takes a new one for a repeat. */
	struct mark *self = mark_of(r, r->origin, r->origin_len, true);
	uint64_t stored = self != NULL ? self->serial : 0;
	uint64_t clock = now_ms << 12;
	r->next_serial = stored + 1 > clock ? stored + 1 : clock;
	return open_segment(r, newest);
}

static int reports_start(struct pcd_room *room)
{
	const struct pcd_generation *gen = pcd_node_generation(room->node);
	const struct pc_reports_params *params = pcd_room_settings(room, gen);
	struct pcd_reports *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	r->fd = -1;
	r->dir = strdup(params->path);
	r->cap = params->queue_records;
	r->slots = calloc(r->cap, sizeof(*r->slots));
	r->marks = calloc(MAX_ORIGINS, sizeof(*r->marks));
	r->segment_bytes = (uint64_t)params->segment_mb << 20;
	r->keep = params->keep_segments;
	/* The origin is the node's name in the federation. */
	const pc_model *model = gen->model;
	const char *name =
	    model->self_node < model->n_nodes ? model->nodes[model->self_node].name : "node";
	r->origin_len = strnlen(name, PC_REPORT_ORIGIN_MAX);
	memcpy(r->origin, name, r->origin_len);
	int err = r->dir == NULL || r->slots == NULL || r->marks == NULL ? -ENOMEM : 0;
	if (err == 0)
		err = store_open(r, pcd_now_ms());
	if (err == 0) {
		err = -pthread_create(&r->thread, NULL, writer_main, r);
		r->thread_started = err == 0;
	}
	if (err != 0) {
		pcd_log(PCD_LOG_ERROR, "reports-open-failed", "path=%s error=\"%s\"", params->path,
		        pc_strerror(err));
		store_free(r);
		return err;
	}
	pcd_log(PCD_LOG_INFO, "reports-open",
	        "path=%s segment=%" PRIu64 " size=%" PRIu64 " next_serial=%" PRIu64, r->dir,
	        r->segment, r->segment_size, r->next_serial);
	room->shared = r;
	room->node->reports = r;
	room->node->report = pcd_reports_decision;
	return 0;
}

/* After every worker closed: what is queued is written, then the store
 * closes. */
static void reports_stop(struct pcd_room *room)
{
	room->node->reports = NULL;
	room->node->report = NULL;
	store_free(room->shared);
	room->shared = NULL;
}

static struct pcd_listen reports_listen(const void *settings)
{
	static const struct pc_addr_list none = {0};
	const struct pc_reports_params *reports = settings;
	return (struct pcd_listen){reports->enabled, 0, &none};
}

/* The store is opened once: a new path or size applies on restart. */
static bool reports_needs_restart(const void *old_settings, const void *new_settings)
{
	const struct pc_reports_params *a = old_settings, *b = new_settings;
	return strcmp(a->path, b->path) != 0 || a->segment_mb != b->segment_mb ||
	       a->keep_segments != b->keep_segments || a->queue_records != b->queue_records;
}

static int reports_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	(void)room, (void)worker, (void)state;
	return 0; /* the answering roles reach the store through node->reports */
}

static void reports_close(const struct pcd_room *room, void *state)
{
	(void)room, (void)state;
}

static void reports_metrics(const struct pcd_room *room, FILE *out)
{
	struct pcd_reports *r = room->shared;
	if (r == NULL)
		return;
	for (int c = 0; c < C__COUNT; c++)
		fprintf(out,
		        "# HELP peercdn_reports_%s_total %s\n# TYPE peercdn_reports_%s_total "
		        "counter\npeercdn_reports_%s_total %llu\n",
		        counter_help[c][0], counter_help[c][1], counter_help[c][0],
		        counter_help[c][0],
		        (unsigned long long)atomic_load_explicit(&r->counters[c],
		                                                 memory_order_relaxed));
	pthread_mutex_lock(&r->lock);
	unsigned long long queued = r->count;
	pthread_mutex_unlock(&r->lock);
	fprintf(out,
	        "# HELP peercdn_reports_queued Report records waiting for the writer.\n"
	        "# TYPE peercdn_reports_queued gauge\npeercdn_reports_queued %llu\n",
	        queued);
}

const struct pcd_role pcd_role_reports = {
    .name = "reports",
    .settings = &pc_reports_section,
    .listen = reports_listen,
    .needs_restart = reports_needs_restart,
    .start = reports_start,
    .stop = reports_stop,
    .state_size = sizeof(int),
    .open = reports_open,
    .close = reports_close,
    .metrics = reports_metrics,
};
