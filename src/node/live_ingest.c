/* live_ingest: a provider's encoder pushing into the edge (docs/live.md,
 * "Ingest"): the request's key checked; MPEG-TS (POST) read as it comes
 * and cut by the library's segmenter (lib/proto/live_segmenter), each
 * segment sent as live blocks (lib/proto/live_block) — blocks of the open
 * segment as its bytes grow, the rest when it closes — to worker 0, which
 * publishes them on "<provider>/live/<name>/<router id>"; HLS (PUT)
 * segments kept until the playlist (lib/proto/hls) that names them. */
#include <errno.h>
#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base/err.h"
#include "lib/base/hex.h"
#include "lib/proto/hls.h"
#include "lib/proto/http_msg.h"
#include "lib/proto/live_block.h"
#include "lib/proto/live_segmenter.h"
#include "node/edge_client.h"
#include "node/edge_internal.h"
#include "node/live.h"
#include "node/live_internal.h"
#include "node/log.h"
#include "node/overlay.h"

enum {
	TS_PACKET = 188,
	/* A stream that shows no PAT, PMT and random access point within
	 * this many bytes is not one we can segment: 400. */
	FIRST_CUT_MAX = 4 << 20,
	EARLY_PACKETS = 8,      /* pending packets worth a block before the segment closes */
	BLOCK_PACKETS = 512,    /* at most, a block (PC_LIVE_BLOCK_PACKETS_MAX) */
	SEGMENT_MAX = 32 << 20, /* an HLS segment PUT, or a segment the segmenter builds */
	PLAYLIST_MAX = PC_HLS_PLAYLIST_MAX,
	PLAYLIST_SEGS = 256,
};

enum mode {
	MODE_TS,       /* POST: a stream to cut into segments */
	MODE_SEGMENT,  /* PUT of an HLS segment: kept until its playlist comes */
	MODE_PLAYLIST, /* PUT of an HLS playlist: publishes the segments it names */
};

struct live_ingest {
	char channel[LIVE_CHANNEL_MAX + 1];
	enum mode mode;
	char file_key[LIVE_CHANNEL_MAX + 1]; /* MODE_SEGMENT: "<provider>/<file>" */
	char provider[LIVE_CHANNEL_MAX + 1];
	uint8_t *body; /* HLS: the body so far */
	size_t body_len, body_cap;
	bool chunked, done;
	struct pc_http_chunked chunks;
	uint64_t left; /* body bytes still to come (a length) */
	pc_live_seg *seg;
	/* The open segment's blocks sent so far. */
	bool open;
	uint64_t open_seq;
	size_t sent;       /* its bytes sent */
	uint16_t index;    /* its next block's index */
	uint64_t next_seq; /* the segment after the last one closed */
	uint64_t bytes, last_rx_ms;
	bool pulled; /* a cascaded feed's (live_ingest_pull_new), not an encoder's */
	uint8_t block[PC_LIVE_BLOCK_MAX];
};

uint64_t live_ingest_last_rx(const struct live_ingest *in)
{
	return in->last_rx_ms;
}

void live_ingest_free(struct live_ingest *in)
{
	if (in != NULL) {
		free(in->body);
		pc_live_seg_free(in->seg);
	}
	free(in);
}

/* ---- blocks ---- */

/* Sends data[0..len) (whole packets) as blocks of segment seq from block
 * index *index on; flags go on the first (START, RANDOM_ACCESS,
 * DISCONTINUITY) and last (END, END_OF_STREAM, with duration_ms). */
static void send_blocks(struct live_hub *hub, struct live_ingest *in, uint64_t seq, uint16_t *index,
                        const uint8_t *data, size_t len, unsigned first_flags, unsigned last_flags,
                        uint32_t duration_ms)
{
	for (size_t off = 0; off < len;) {
		size_t n = len - off;
		if (n > (size_t)BLOCK_PACKETS * TS_PACKET)
			n = (size_t)BLOCK_PACKETS * TS_PACKET;
		bool last = off + n == len;
		struct pc_live_block b = {
		    .flags = (*index == 0 ? first_flags : 0) | (last ? last_flags : 0),
		    .index = *index,
		    .segment_seq = seq,
		    .duration_ms = last && (last_flags & PC_LIVE_SEG_END) ? duration_ms : 0,
		    .ts = data + off,
		    .ts_len = n,
		};
		if (b.flags & PC_LIVE_SEG_END && b.duration_ms == 0)
			b.duration_ms = 1; /* the codec wants one with SEG_END */
		int w = pc_live_block_encode(&b, in->block, sizeof(in->block));
		if (w > 0)
			live_post_block(hub, in->channel, in->block, (size_t)w);
		else
			live_count(hub, LC_BLOCKS_SHED);
		if (!in->pulled)
			live_note_pushed(hub, in->channel); /* a cascade of the name yields */
		(*index)++;
		off += n;
	}
}

/* The end of stream alone, after segment seq - 1. */
static void send_eos(struct live_hub *hub, struct live_ingest *in, uint64_t seq)
{
	struct pc_live_block b = {.flags = PC_LIVE_END_OF_STREAM, .segment_seq = seq};
	int w = pc_live_block_encode(&b, in->block, sizeof(in->block));
	if (w > 0)
		live_post_block(hub, in->channel, in->block, (size_t)w);
}

/* A segment closed: what of it was not sent yet goes, ending it. */
static void closed(struct live_hub *hub, struct live_ingest *in, const struct pc_live_segment *sg,
                   unsigned last_flags)
{
	uint16_t index = 0;
	size_t from = 0;
	if (in->open && in->open_seq == sg->seq && in->sent <= sg->len) {
		index = in->index;
		from = in->sent;
	}
	unsigned first = PC_LIVE_SEG_START | (sg->random_access ? PC_LIVE_RANDOM_ACCESS : 0) |
	                 (sg->discontinuity ? PC_LIVE_DISCONTINUITY : 0);
	send_blocks(hub, in, sg->seq, &index, sg->data + from, sg->len - from, first,
	            PC_LIVE_SEG_END | last_flags, sg->duration_ms);
	in->open = false;
	in->next_seq = sg->seq + 1;
}

/* Blocks of the open segment as its sure bytes grow, so progressive
 * players lag the encoder by a block, not a segment. The last packet is
 * kept back: the closing block must hold one. An early start block cannot
 * say what the segmenter says only at the close (random access,
 * discontinuity): it carries neither. */
static void send_early(struct live_hub *hub, struct live_ingest *in)
{
	const uint8_t *data;
	size_t len;
	uint64_t seq;
	pc_live_seg_pending(in->seg, &data, &len, &seq);
	if (len == 0)
		return;
	if (!in->open || in->open_seq != seq) {
		in->open = true;
		in->open_seq = seq;
		in->sent = 0;
		in->index = 0;
	}
	size_t ready = len / TS_PACKET * TS_PACKET;
	if (ready < TS_PACKET || ready - TS_PACKET < in->sent + EARLY_PACKETS * TS_PACKET)
		return;
	ready -= TS_PACKET;
	send_blocks(hub, in, seq, &in->index, data + in->sent, ready - in->sent, PC_LIVE_SEG_START,
	            0, 0);
	in->sent = ready;
}

/* Body bytes of a TS ingest: PC_ESYNTAX or PC_ENOTSUP when they are not
 * a stream we take. */
static int feed_ts(struct live_hub *hub, struct live_ingest *in, const uint8_t *data, size_t len)
{
	in->bytes += len;
	for (;;) {
		size_t used;
		struct pc_live_segment sg;
		int r = pc_live_seg_feed(in->seg, data, len, &used, &sg);
		data += used;
		len -= used;
		if (r == 1) {
			closed(hub, in, &sg, 0);
			continue;
		}
		if (r == PC_ERANGE) { /* dropped (counted by the segmenter); the stream goes on */
			in->open = false;
			continue;
		}
		if (r < 0)
			return r;
		break;
	}
	send_early(hub, in);
	if (pc_live_seg_stats(in->seg)->segments == 0 && !in->open && in->bytes > FIRST_CUT_MAX)
		return PC_ESYNTAX;
	return 0;
}

/* ---- a pulled feed ---- */

static pc_live_seg *ts_segmenter(uint32_t segment_ms)
{
	/* A forced cut (no key frame) at four times the target. */
	struct pc_live_seg_params sp = {
	    .target_ms = segment_ms,
	    .max_ms = segment_ms * 4,
	    .segment_max = SEGMENT_MAX,
	    .first_seq = 1,
	};
	return pc_live_seg_new(&sp);
}

struct live_ingest *live_ingest_pull_new(const char *channel, uint32_t segment_ms)
{
	struct live_ingest *in = calloc(1, sizeof(*in));
	if (in == NULL)
		return NULL;
	snprintf(in->channel, sizeof(in->channel), "%s", channel);
	in->mode = MODE_TS;
	in->pulled = true;
	in->seg = ts_segmenter(segment_ms);
	if (in->seg == NULL) {
		free(in);
		return NULL;
	}
	return in;
}

int live_ingest_pull_feed(struct live_hub *hub, struct live_ingest *in, const uint8_t *data,
                          size_t len)
{
	in->last_rx_ms = pcd_mono_ms();
	return feed_ts(hub, in, data, len);
}

/* ---- the request ---- */

/* The value of a query parameter of the target, or NULL. */
static const char *query_param(const struct pc_http_head *req, const char *name, size_t *len)
{
	const char *q = memchr(req->target, '?', req->target_len);
	if (q == NULL)
		return NULL;
	const char *end = req->target + req->target_len;
	size_t n = strlen(name);
	for (const char *p = q + 1; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp != NULL ? amp : end;
		if ((size_t)(stop - p) > n && memcmp(p, name, n) == 0 && p[n] == '=') {
			*len = (size_t)(stop - p) - n - 1;
			return p + n + 1;
		}
		p = stop + 1;
	}
	return NULL;
}

static const char *provider_key(const struct pc_edge_params *params, const char *provider)
{
	size_t n = strlen(provider);
	for (uint32_t i = 0; i < params->live_keys_text.count; i++) {
		const char *text = params->live_keys_text.items[i];
		if (strncmp(text, provider, n) == 0 && text[n] == '=')
			return text + n + 1;
	}
	return NULL;
}

static bool same(const char *a, size_t a_len, const char *b, size_t b_len)
{
	return a_len == b_len && a_len > 0 && sodium_memcmp(a, b, a_len) == 0;
}

/* The request carries the provider's key: X-Live-Key, ?key=, or
 * ?expires=<unix s>&sig=<hex HMAC-SHA256(key, "<host><path>?expires=<e>")>
 * not yet expired (docs/live.md, "Ingest"). */
static bool authorised(const struct edge_client *c, const char *key)
{
	size_t key_len = strlen(key);
	const struct pc_http_field *f = pc_http_field_find(c->req, "x-live-key", 0);
	if (f != NULL)
		return same(f->value, f->value_len, key, key_len);
	size_t len;
	const char *v = query_param(c->req, "key", &len);
	if (v != NULL)
		return same(v, len, key, key_len);
	size_t exp_len, sig_len;
	const char *exp = query_param(c->req, "expires", &exp_len);
	const char *sig = query_param(c->req, "sig", &sig_len);
	if (exp == NULL || sig == NULL || exp_len == 0 || exp_len > 20 ||
	    sig_len != 2 * crypto_auth_hmacsha256_BYTES)
		return false;
	uint64_t expires = 0;
	for (size_t i = 0; i < exp_len; i++) {
		if (exp[i] < '0' || exp[i] > '9')
			return false;
		expires = expires * 10 + (uint64_t)(exp[i] - '0');
	}
	if (expires < pcd_now_ms() / 1000)
		return false;
	const char *q = memchr(c->key, '?', c->key_len);
	size_t base = q != NULL ? (size_t)(q - c->key) : c->key_len;
	char msg[EDGE_KEY_MAX + 40];
	int n =
	    snprintf(msg, sizeof(msg), "%.*s?expires=%.*s", (int)base, c->key, (int)exp_len, exp);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return false;
	uint8_t mac[crypto_auth_hmacsha256_BYTES], want[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const uint8_t *)key, key_len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)msg, (size_t)n);
	crypto_auth_hmacsha256_final(&st, mac);
	for (size_t i = 0; i < sizeof(want); i++) {
		int hi = pc_hex_digit(sig[2 * i]), lo = pc_hex_digit(sig[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		want[i] = (uint8_t)(hi << 4 | lo);
	}
	return sodium_memcmp(mac, want, sizeof(mac)) == 0;
}

static bool ends_with(const char *p, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n > k && memcmp(p + n - k, suffix, k) == 0;
}

/* "/live/<name>[.ts|.m3u8]" -> the name (<name> with suffix kept: the
 * file, for an HLS segment); false when it is not one. */
static bool ingest_name(const struct edge_client *c, enum mode mode, const char **name, size_t *len)
{
	const char *p = c->path + 6;
	size_t n = c->path_len - 6;
	const char *q = memchr(p, '?', n);
	if (q != NULL)
		n = (size_t)(q - p);
	if (mode == MODE_TS && ends_with(p, n, ".ts"))
		n -= 3;
	else if (mode == MODE_PLAYLIST)
		n -= 5;
	for (size_t i = 0; i < n; i++)
		if (mode == MODE_SEGMENT && p[i] == '.')
			continue;
		else if (!(p[i] == '-' || p[i] == '_' || (p[i] >= 'a' && p[i] <= 'z') ||
		           (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
			return false;
	*name = p;
	*len = n;
	return n > 0 && n <= LIVE_NAME_MAX;
}

static void refuse(struct edge_client *c, enum live_counter counter, unsigned status,
                   const char *why)
{
	live_count(live_hub_of(c), counter);
	c->keep_alive = false; /* its body is not read: nothing after it can be */
	pcd_log(PCD_LOG_INFO, "live-ingest-refused", "status=%u why=\"%s\"", status, why);
	edge_client_respond(c, status, why);
}

void live_ingest_begin(struct edge_client *c, bool chunked, uint64_t body_len)
{
	struct live_hub *hub = live_hub_of(c);
	const struct pc_edge_params *params = edge_params(c->ew);
	const pc_model *m = pcd_node_generation(c->ew->room->node)->model;
	uint32_t provider = c->provider;
	const char *name;
	size_t name_len;
	if (hub == NULL || !params->live_ingest || provider >= m->n_providers) {
		refuse(c, LC_NOT_FOUND, 404, "live ingest is off on this edge");
		return;
	}
	/* POST: MPEG-TS; PUT: HLS (docs/live.md, "Ingest"). */
	const char *q = memchr(c->path, '?', c->path_len);
	size_t path_len = q != NULL ? (size_t)(q - c->path) : c->path_len;
	enum mode mode = !edge_method_is(c->req, "PUT")          ? MODE_TS
	                 : ends_with(c->path, path_len, ".m3u8") ? MODE_PLAYLIST
	                                                         : MODE_SEGMENT;
	if (!ingest_name(c, mode, &name, &name_len)) {
		refuse(c, LC_INGEST_MALFORMED, 400, "not /<origin host>/live/<name>[.ts]");
		return;
	}
	const char *key = provider_key(params, m->providers[provider].name);
	if (key == NULL || !authorised(c, key)) {
		refuse(c, LC_INGEST_FORBIDDEN, 403, "no valid live ingest key");
		return;
	}
	/* An injection point is in one of the provider's primary CDNs. */
	bool primary = false;
	const struct pc_index_list *prim = &m->providers[provider].primary_cdns;
	if (m->self_node < m->n_nodes) {
		const struct pc_index_list *cdns = &m->nodes[m->self_node].cdns;
		for (uint32_t i = 0; i < cdns->count; i++)
			for (uint32_t j = 0; j < prim->count; j++)
				primary |= cdns->items[i] == prim->items[j];
	}
	if (!primary) {
		refuse(c, LC_INGEST_FORBIDDEN, 403, "not an injection point of the provider's CDN");
		return;
	}
	struct live_ingest *in = calloc(1, sizeof(*in));
	struct live_conn *lc = in != NULL ? live_conn_new(c, LIVE_INGEST) : NULL;
	if (lc == NULL) {
		free(in);
		edge_client_respond(c, 503, "out of memory");
		return;
	}
	lc->in = in;
	/* A channel name has one source on the overlay: a redundant encoder's
	 * stream at another injection point is another channel. */
	snprintf(in->channel, sizeof(in->channel), "%s/live/%.*s/%08" PRIx32,
	         m->providers[provider].name, (int)name_len, name,
	         pcd_overlay_self(c->ew->room->node));
	in->mode = mode;
	snprintf(in->provider, sizeof(in->provider), "%s", m->providers[provider].name);
	if (snprintf(in->file_key, sizeof(in->file_key), "%s/%.*s", in->provider, (int)name_len,
	             name) >= (int)sizeof(in->file_key)) {
		in->done = true;
		live_client_free(c);
		refuse(c, LC_INGEST_MALFORMED, 400, "a name too long");
		return;
	}
	in->chunked = chunked;
	pc_http_chunked_init(&in->chunks);
	in->left = body_len;
	in->last_rx_ms = pcd_mono_ms();
	if (mode == MODE_TS) {
		in->seg = ts_segmenter(params->live_segment_ms);
		if (in->seg == NULL) {
			in->done = true;
			live_client_free(c);
			edge_client_respond(c, 503, "out of memory");
			return;
		}
	}
	c->keep_alive = false; /* one stream a connection */
	c->result = EDGE_PASS;
	if (mode == MODE_TS) {
		live_count(hub, LC_INGEST_STARTED);
		pcd_log(PCD_LOG_INFO, "live-ingest", "channel=%s", in->channel);
	} else {
		in->done = true; /* a file, not a stream: no end of stream when it goes */
	}
	pcd_conn_set_state(c->conn, PCD_CONN_IDLE);
	if (!chunked && body_len == 0) { /* no body will come to end it: judge it now */
		live_input(c, NULL, 0);
		c->in_input = true; /* still in the client's input callback */
	}
}

void live_ingest_finish(struct live_hub *hub, struct live_ingest *in)
{
	if (in->done)
		return;
	in->done = true;
	struct pc_live_segment sg;
	int r = in->seg != NULL ? pc_live_seg_finish(in->seg, &sg) : 0;
	if (r == 1)
		closed(hub, in, &sg, PC_LIVE_END_OF_STREAM);
	else if (in->next_seq > 0 || in->open) /* something was published: its end too */
		send_eos(hub, in, in->open ? in->open_seq : in->next_seq);
	live_count(hub, LC_INGEST_ENDED);
	pcd_log(PCD_LOG_INFO, "live-ingest-ended", "channel=%s bytes=%" PRIu64 " segments=%" PRIu64,
	        in->channel, in->bytes, in->seg ? pc_live_seg_stats(in->seg)->segments : 0);
}

/* The ingest is over: ended (answered 200) or failed (400). */
static void done(struct edge_client *c, unsigned status, const char *why)
{
	struct live_hub *hub = live_hub_of(c);
	struct live_conn *lc = c->live;
	if (status >= 400)
		live_count(hub, LC_INGEST_MALFORMED);
	live_ingest_finish(hub, lc->in);
	live_client_free(c);
	c->keep_alive = false;
	edge_client_respond(c, status, why);
}

/* ---- HLS ingest ---- */

static int feed(struct live_hub *hub, struct live_ingest *in, const uint8_t *data, size_t len)
{
	if (len == 0)
		return 0;
	if (in->mode == MODE_TS)
		return feed_ts(hub, in, data, len);
	size_t max = in->mode == MODE_SEGMENT ? SEGMENT_MAX : PLAYLIST_MAX;
	if (in->body_len + len > max)
		return PC_ERANGE;
	if (in->body_len + len > in->body_cap) {
		size_t cap = in->body_cap ? in->body_cap : 65536;
		while (cap < in->body_len + len)
			cap *= 2;
		uint8_t *p = realloc(in->body, cap);
		if (p == NULL)
			return PC_ERANGE;
		in->body = p;
		in->body_cap = cap;
	}
	memcpy(in->body + in->body_len, data, len);
	in->body_len += len;
	in->bytes += len;
	return 0;
}

/* A segment PUT whole: every packet checked, then kept for its playlist. */
static void hls_segment_done(struct edge_client *c)
{
	struct live_hub *hub = live_hub_of(c);
	struct live_ingest *in = c->live->in;
	bool ok = in->body_len > 0 && in->body_len % TS_PACKET == 0;
	for (size_t i = 0; ok && i < in->body_len; i += TS_PACKET)
		ok = in->body[i] == 0x47;
	if (!ok) {
		done(c, 400, "an HLS segment that is not MPEG-TS");
		return;
	}
	live_hls_store(hub, in->file_key, in->body, in->body_len);
	in->body = NULL;
	live_count(hub, LC_HLS_SEGMENTS_IN);
	done(c, 201, "segment kept");
}

/* A playlist PUT whole (lib/proto/hls): the segments it names after the
 * last published go out in order, each as blocks with its EXTINF
 * duration. The first one not PUT yet stops the run (its PUT, on another
 * connection, may finish after the playlist's) and the next playlist takes
 * it up; one that left the list unseen is counted missing.
 * #EXT-X-ENDLIST ends the stream. */
static void hls_playlist_done(struct edge_client *c)
{
	struct live_hub *hub = live_hub_of(c);
	struct live_ingest *in = c->live->in;
	static_assert(PLAYLIST_SEGS * sizeof(struct pc_hls_segment) < 32768, "stack");
	struct pc_hls_segment segs[PLAYLIST_SEGS];
	struct pc_hls_playlist pl;
	struct pc_hls_fault fault = {0};
	int err = in->body_len == 0 ? PC_ESYNTAX
	                            : pc_hls_parse((const char *)in->body, in->body_len, &pl, segs,
	                                           PLAYLIST_SEGS, &fault);
	if (err != 0) {
		pcd_log(PCD_LOG_INFO, "live-playlist-refused", "line=%u why=\"%s\"", fault.line,
		        fault.why ? fault.why : pc_strerror(err));
		done(c, 400, "a malformed or unsupported HLS playlist");
		return;
	}
	live_count(hub, LC_HLS_PLAYLISTS_IN);
	uint64_t from = live_hls_next(hub, in->channel);
	if (from != 0 && from < pl.media_sequence) /* 0: a stream not seen yet */
		for (uint64_t k = from; k < pl.media_sequence; k++)
			live_count(hub, LC_HLS_MISSING);
	uint64_t next = from > pl.media_sequence ? from : pl.media_sequence;
	for (size_t i = 0; i < pl.n_segments; i++) {
		if (segs[i].seq < next)
			continue; /* published from an earlier playlist */
		/* The URI's last segment is the file PUT next to the playlist. */
		const char *file = segs[i].uri;
		size_t file_len = segs[i].uri_len;
		for (size_t k = 0; k < segs[i].uri_len; k++)
			if (segs[i].uri[k] == '/') {
				file = segs[i].uri + k + 1;
				file_len = segs[i].uri_len - k - 1;
			}
		char key[LIVE_CHANNEL_MAX + 1];
		int kn = snprintf(key, sizeof(key), "%s/%.*s", in->provider, (int)file_len, file);
		size_t len;
		uint8_t *data =
		    kn > 0 && (size_t)kn < sizeof(key) ? live_hls_take(hub, key, &len) : NULL;
		if (data == NULL)
			break;
		uint16_t index = 0;
		bool last = pl.endlist && i + 1 == pl.n_segments;
		send_blocks(hub, in, segs[i].seq + 1, &index, data, len,
		            PC_LIVE_SEG_START | PC_LIVE_RANDOM_ACCESS |
		                (segs[i].discontinuity ? PC_LIVE_DISCONTINUITY : 0),
		            PC_LIVE_SEG_END | (last ? PC_LIVE_END_OF_STREAM : 0),
		            segs[i].duration_ms);
		free(data);
		next = segs[i].seq + 1;
	}
	live_hls_set_next(hub, in->channel, next);
	if (pl.endlist && next != pl.media_sequence + pl.n_segments)
		send_eos(hub, in, next + 1); /* ended without its last segments */
	done(c, 201, "playlist read");
}

size_t live_input(struct edge_client *c, const uint8_t *bytes, size_t len)
{
	struct live_hub *hub = live_hub_of(c);
	struct live_ingest *in = c->live->in;
	uint64_t now = pcd_mono_ms();
	in->last_rx_ms = now;
	c->in_input = true;
	size_t used = 0;
	int err = 0;
	bool end = false;
	if (in->chunked) {
		while (used < len && err == 0 && !end) {
			size_t n, data_len;
			const char *data;
			int r = pc_http_chunked_feed(&in->chunks, (const char *)bytes + used,
			                             len - used, &n, &data, &data_len);
			if (r < 0) {
				err = r;
				break;
			}
			used += n;
			if (data_len > 0)
				err = feed(hub, in, (const uint8_t *)data, data_len);
			end = r == 1;
			if (n == 0 && r == 0)
				break;
		}
	} else {
		size_t n = len < in->left ? len : (size_t)in->left;
		err = feed(hub, in, bytes, n);
		used = n;
		in->left -= n;
		end = in->left == 0;
	}
	if (err == PC_ERANGE)
		done(c, 413, "an HLS segment or playlist over what the edge keeps");
	else if (err != 0)
		done(c, 400, "the body is not an MPEG-TS stream this edge can segment");
	else if (end && in->mode == MODE_SEGMENT)
		hls_segment_done(c);
	else if (end && in->mode == MODE_PLAYLIST)
		hls_playlist_done(c);
	else if (end && pc_live_seg_stats(in->seg)->segments == 0 && !in->open)
		done(c, 400, "no PAT, PMT and random access point in the stream");
	else if (end)
		done(c, 200, "stream ended");
	c->in_input = false;
	return err != 0 ? len : used;
}
