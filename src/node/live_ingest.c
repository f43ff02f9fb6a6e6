/* live_ingest: a provider's encoder pushing MPEG-TS into the edge
 * (docs/live.md, "Ingest"): the request's key checked, the body (chunked,
 * as ffmpeg's -method POST sends it, or with a length) read as it comes,
 * each TS packet checked, the stream cut into segments at the first video
 * random access point segment_ms after the last cut, each segment led by
 * the PAT and PMT, and handed to worker 0 as live blocks
 * (live_internal.h) to publish on "<provider>/live/<name>".
 *
 * The TS reading here is the least a segmenter needs (sync, PAT, PMT, the
 * random access indicator, PES PTS); lib/proto/mpegts (issue 12's format
 * work) is to replace it. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base/err.h"
#include "lib/base/hex.h"
#include "lib/proto/http_msg.h"
#include "node/edge_client.h"
#include "node/edge_internal.h"
#include "node/live.h"
#include "node/live_internal.h"
#include "node/log.h"
#include "node/overlay.h"

enum {
	TS_PACKET = 188,
	NO_PID = -1,
	/* A stream that shows no PAT, PMT and random access point within
	 * this many bytes is not one we can segment: 400. */
	FIRST_CUT_MAX = 4 << 20,
	FLUSH_BYTES = 8 * TS_PACKET, /* a partial block goes out at the end of a read */
	KEY_MAX = 256,
};

enum mode {
	MODE_TS,       /* POST: a stream to cut into segments */
	MODE_SEGMENT,  /* PUT of an HLS segment: kept until its playlist comes */
	MODE_PLAYLIST, /* PUT of an HLS playlist: publishes the segments it names */
};

enum {
	SEGMENT_MAX = 32 << 20, /* an HLS segment PUT */
	PLAYLIST_MAX = 256 << 10,
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
	uint8_t pkt[TS_PACKET];
	size_t pkt_len;
	uint8_t pat[TS_PACKET], pmt[TS_PACKET];
	bool have_pat, have_pmt;
	int pmt_pid, video_pid, first_pid;
	bool seg_open, seg_pts_ok;
	uint64_t seg_number, seg_pts, seg_start_ms;
	uint32_t segment_ms;
	uint8_t block[LIVE_BLOCK_MAX];
	size_t block_len;
	uint8_t block_flags;
	uint64_t bytes, last_rx_ms;
};

uint64_t live_ingest_last_rx(const struct live_ingest *in)
{
	return in->last_rx_ms;
}

void live_ingest_free(struct live_ingest *in)
{
	if (in != NULL)
		free(in->body);
	free(in);
}

/* ---- blocks ---- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void flush(struct live_hub *hub, struct live_ingest *in, uint8_t flags, uint32_t duration)
{
	flags |= in->block_flags;
	if (in->block_len == LIVE_BLOCK_HEAD && flags == 0)
		return;
	uint8_t *h = in->block;
	memset(h, 0, LIVE_BLOCK_HEAD);
	h[0] = 1;
	h[1] = flags;
	put32(h + 4, duration);
	put32(h + 8, (uint32_t)(in->seg_number >> 32));
	put32(h + 12, (uint32_t)in->seg_number);
	live_post_block(hub, in->channel, in->block, in->block_len);
	in->block_len = LIVE_BLOCK_HEAD;
	in->block_flags = 0;
}

static void append(struct live_hub *hub, struct live_ingest *in, const uint8_t *pkt)
{
	if (in->block_len + TS_PACKET > LIVE_BLOCK_MAX)
		flush(hub, in, 0, 0);
	memcpy(in->block + in->block_len, pkt, TS_PACKET);
	in->block_len += TS_PACKET;
}

static uint32_t seg_duration(const struct live_ingest *in, bool pts_ok, uint64_t pts, uint64_t now)
{
	if (pts_ok && in->seg_pts_ok) {
		uint64_t d = (pts - in->seg_pts) & ((UINT64_C(1) << 33) - 1); /* 33-bit wrap */
		return (uint32_t)(d / 90);
	}
	return (uint32_t)(now - in->seg_start_ms);
}

static void start_segment(struct live_hub *hub, struct live_ingest *in, bool pts_ok, uint64_t pts,
                          uint64_t now)
{
	if (in->seg_open)
		flush(hub, in, LIVE_F_END, seg_duration(in, pts_ok, pts, now));
	in->seg_open = true;
	in->seg_number++;
	in->seg_pts = pts;
	in->seg_pts_ok = pts_ok;
	in->seg_start_ms = now;
	in->block_flags = LIVE_F_START;
	/* A player may start here: the tables first. */
	append(hub, in, in->pat);
	append(hub, in, in->pmt);
}

/* ---- TS ---- */

/* The section of a PSI packet's payload (after its pointer field), and
 * its length up to the CRC; false when it does not fit the packet. */
static bool section(const uint8_t *pl, size_t pl_len, const uint8_t **s, size_t *len)
{
	if (pl_len < 1 || (size_t)pl[0] + 1 + 3 > pl_len)
		return false;
	*s = pl + 1 + pl[0];
	size_t room = pl_len - 1 - pl[0];
	size_t sec_len = (size_t)((*s)[1] & 0x0f) << 8 | (*s)[2];
	if (sec_len + 3 > room || sec_len < 9)
		return false;
	*len = 3 + sec_len - 4;
	return true;
}

static bool is_video(uint8_t stream_type)
{
	return stream_type == 0x01 || stream_type == 0x02 || stream_type == 0x10 ||
	       stream_type == 0x1b || stream_type == 0x24 || stream_type == 0x42;
}

static void read_pat(struct live_ingest *in, const uint8_t *pl, size_t pl_len)
{
	const uint8_t *s;
	size_t len;
	if (!section(pl, pl_len, &s, &len) || s[0] != 0x00)
		return;
	for (size_t i = 8; i + 4 <= len; i += 4) {
		unsigned program = (unsigned)s[i] << 8 | s[i + 1];
		if (program != 0) {
			in->pmt_pid = (int)(((unsigned)s[i + 2] & 0x1f) << 8 | s[i + 3]);
			return;
		}
	}
}

static void read_pmt(struct live_ingest *in, const uint8_t *pl, size_t pl_len)
{
	const uint8_t *s;
	size_t len;
	if (!section(pl, pl_len, &s, &len) || s[0] != 0x02 || len < 12)
		return;
	size_t i = 12 + ((size_t)(s[10] & 0x0f) << 8 | s[11]);
	in->video_pid = in->first_pid = NO_PID;
	while (i + 5 <= len) {
		int pid = (int)(((unsigned)s[i + 1] & 0x1f) << 8 | s[i + 2]);
		if (in->first_pid == NO_PID)
			in->first_pid = pid;
		if (in->video_pid == NO_PID && is_video(s[i]))
			in->video_pid = pid;
		i += 5 + ((size_t)(s[i + 3] & 0x0f) << 8 | s[i + 4]);
	}
}

/* The PTS of a PES header at pl, in 90 kHz units. */
static bool pes_pts(const uint8_t *pl, size_t len, uint64_t *pts)
{
	if (len < 14 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1 || !(pl[7] & 0x80))
		return false;
	*pts = (uint64_t)(pl[9] >> 1 & 7) << 30 | (uint64_t)pl[10] << 22 |
	       (uint64_t)(pl[11] >> 1) << 15 | (uint64_t)pl[12] << 7 | (uint64_t)(pl[13] >> 1);
	return true;
}

/* One packet: PC_ESYNTAX when it is not MPEG-TS. */
static int packet(struct live_hub *hub, struct live_ingest *in, const uint8_t *p, uint64_t now)
{
	if (p[0] != 0x47)
		return PC_ESYNTAX;
	int pid = (int)(((unsigned)p[1] & 0x1f) << 8 | p[2]);
	bool pusi = p[1] & 0x40;
	unsigned afc = p[3] >> 4 & 3;
	if (afc == 0)
		return PC_ESYNTAX; /* reserved */
	size_t off = 4;
	bool rai = false;
	if (afc & 2) {
		if (p[4] > 183)
			return PC_ESYNTAX;
		rai = p[4] > 0 && (p[5] & 0x40);
		off = 5 + (size_t)p[4];
	}
	const uint8_t *pl = p + off;
	size_t pl_len = (afc & 1) ? TS_PACKET - off : 0;
	if (pid == 0 && pusi) {
		memcpy(in->pat, p, TS_PACKET);
		in->have_pat = true;
		read_pat(in, pl, pl_len);
	} else if (pid == in->pmt_pid && pusi) {
		memcpy(in->pmt, p, TS_PACKET);
		read_pmt(in, pl, pl_len);
		in->have_pmt = in->first_pid != NO_PID;
	}
	int key_pid = in->video_pid != NO_PID ? in->video_pid : in->first_pid;
	if (pid == key_pid && pid != NO_PID && pusi && rai && in->have_pat && in->have_pmt) {
		uint64_t pts = 0;
		bool pts_ok = pes_pts(pl, pl_len, &pts);
		if (!in->seg_open || seg_duration(in, pts_ok, pts, now) >= in->segment_ms)
			start_segment(hub, in, pts_ok, pts, now);
	}
	if (in->seg_open)
		append(hub, in, p);
	return 0;
}

/* Body bytes: whole packets, the rest kept for the next read. */
static int feed_ts(struct live_hub *hub, struct live_ingest *in, const uint8_t *data, size_t len,
                   uint64_t now)
{
	in->bytes += len;
	while (len > 0) {
		size_t n = TS_PACKET - in->pkt_len;
		if (n > len)
			n = len;
		memcpy(in->pkt + in->pkt_len, data, n);
		in->pkt_len += n;
		data += n;
		len -= n;
		if (in->pkt_len < TS_PACKET)
			break;
		in->pkt_len = 0;
		int err = packet(hub, in, in->pkt, now);
		if (err != 0)
			return err;
	}
	if (!in->seg_open && in->bytes > FIRST_CUT_MAX)
		return PC_ESYNTAX;
	return 0;
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
	uint32_t provider = (uint32_t)(c->counters - c->ew->providers);
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
	in->pmt_pid = in->video_pid = in->first_pid = NO_PID;
	in->segment_ms = params->live_segment_ms;
	in->block_len = LIVE_BLOCK_HEAD;
	in->last_rx_ms = pcd_mono_ms();
	c->keep_alive = false; /* one stream a connection */
	c->result = EDGE_PASS;
	if (mode == MODE_TS) {
		live_count(hub, LC_INGEST_STARTED);
		pcd_log(PCD_LOG_INFO, "live-ingest", "channel=%s", in->channel);
	} else {
		in->done = true; /* a file, not a stream: no end of stream when it goes */
	}
	pcd_conn_set_state(c->conn, PCD_CONN_IDLE);
}

void live_ingest_finish(struct live_hub *hub, struct live_ingest *in)
{
	if (in->done)
		return;
	in->done = true;
	uint64_t now = pcd_mono_ms();
	if (in->seg_open)
		flush(hub, in, LIVE_F_END, (uint32_t)(now - in->seg_start_ms));
	in->seg_open = false;
	if (in->seg_number > 0) /* something was published: its end too */
		flush(hub, in, LIVE_F_EOS, 0);
	live_count(hub, LC_INGEST_ENDED);
	pcd_log(PCD_LOG_INFO, "live-ingest-ended", "channel=%s bytes=%" PRIu64 " segments=%" PRIu64,
	        in->channel, in->bytes, in->seg_number);
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

static int feed(struct live_hub *hub, struct live_ingest *in, const uint8_t *data, size_t len,
                uint64_t now)
{
	if (in->mode == MODE_TS)
		return feed_ts(hub, in, data, len, now);
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

/* Publishes one whole segment as blocks: START on the first, END (with
 * its duration) on the last. */
static void publish_segment(struct live_hub *hub, const char *channel, const uint8_t *data,
                            size_t len, uint32_t duration_ms, uint64_t number)
{
	enum { PER_BLOCK = (LIVE_BLOCK_MAX - LIVE_BLOCK_HEAD) / TS_PACKET * TS_PACKET };
	uint8_t *block = malloc(LIVE_BLOCK_MAX);
	if (block == NULL) {
		live_count(hub, LC_BLOCKS_SHED);
		return;
	}
	for (size_t off = 0; off < len;) {
		size_t n = len - off < PER_BLOCK ? len - off : PER_BLOCK;
		memset(block, 0, LIVE_BLOCK_HEAD);
		block[0] = 1;
		block[1] =
		    (uint8_t)((off == 0 ? LIVE_F_START : 0) | (off + n == len ? LIVE_F_END : 0));
		if (off + n == len)
			put32(block + 4, duration_ms);
		put32(block + 8, (uint32_t)(number >> 32));
		put32(block + 12, (uint32_t)number);
		memcpy(block + LIVE_BLOCK_HEAD, data + off, n);
		live_post_block(hub, channel, block, LIVE_BLOCK_HEAD + n);
		off += n;
	}
	free(block);
}

/* "#EXTINF:<seconds>[.<fraction>]," -> ms; false when malformed. */
static bool extinf_ms(const char *p, size_t len, uint32_t *ms)
{
	uint64_t whole = 0, frac = 0, scale = 1000;
	size_t i = 0;
	if (i == len || p[i] < '0' || p[i] > '9')
		return false;
	while (i < len && p[i] >= '0' && p[i] <= '9' && whole < 1000000)
		whole = whole * 10 + (uint64_t)(p[i++] - '0');
	if (i < len && p[i] == '.')
		for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(p[i] - '0') * scale;
			}
	if (i == len || p[i] != ',' || whole >= 1000000)
		return false;
	*ms = (uint32_t)(whole * 1000 + frac);
	return true;
}

/* A playlist PUT whole: the segments it names after the last published go
 * out in order (RFC 8216 §4.3.2.2: a segment's number is the media
 * sequence plus its position); #EXT-X-ENDLIST ends the stream. */
static void hls_playlist_done(struct edge_client *c)
{
	struct live_hub *hub = live_hub_of(c);
	struct live_ingest *in = c->live->in;
	const char *text = (const char *)in->body, *end = text + in->body_len;
	if (in->body_len < 7 || memcmp(text, "#EXTM3U", 7) != 0) {
		done(c, 400, "not an M3U8 playlist");
		return;
	}
	struct entry {
		const char *uri;
		size_t uri_len;
		uint32_t ms;
	} segs[64];
	unsigned n = 0;
	uint64_t media_seq = 0;
	bool ended = false, want_uri = false, ok = true;
	uint32_t ms = 0;
	for (const char *line = text; ok && line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *stop = nl != NULL ? nl : end;
		size_t len = (size_t)(stop - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > 22 && memcmp(line, "#EXT-X-MEDIA-SEQUENCE:", 22) == 0) {
			media_seq = 0;
			for (size_t i = 22; i < len && ok; i++) {
				ok =
				    line[i] >= '0' && line[i] <= '9' && media_seq < UINT64_MAX / 10;
				media_seq = media_seq * 10 + (uint64_t)(line[i] - '0');
			}
		} else if (len > 8 && memcmp(line, "#EXTINF:", 8) == 0) {
			ok = !want_uri && extinf_ms(line + 8, len - 8, &ms);
			want_uri = true;
		} else if (len == 14 && memcmp(line, "#EXT-X-ENDLIST", 14) == 0) {
			ended = true;
		} else if (len > 0 && line[0] != '#') {
			ok = want_uri;
			if (ok && n < sizeof(segs) / sizeof(segs[0]))
				segs[n++] = (struct entry){line, len, ms};
			want_uri = false;
		}
		line = stop + 1;
	}
	if (!ok || want_uri) {
		done(c, 400, "a malformed M3U8 playlist");
		return;
	}
	live_count(hub, LC_HLS_PLAYLISTS_IN);
	/* In order: a segment named but not here yet (its PUT, on another
	 * connection, may finish after the playlist's) stops the run, and the
	 * next playlist takes it up; one that left the list unseen is lost. */
	uint64_t from = live_hls_next(hub, in->channel);
	if (from != 0 && from < media_seq) /* 0: a stream not seen yet */
		for (uint64_t k = from; k < media_seq; k++)
			live_count(hub, LC_HLS_MISSING);
	uint64_t next = from > media_seq ? from : media_seq;
	for (unsigned i = 0; i < n; i++) {
		uint64_t number = media_seq + i;
		if (number < next)
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
		publish_segment(hub, in->channel, data, len, segs[i].ms, number + 1);
		free(data);
		next = number + 1;
	}
	live_hls_set_next(hub, in->channel, next);
	if (ended) {
		uint8_t eos[LIVE_BLOCK_HEAD] = {1, LIVE_F_EOS};
		live_post_block(hub, in->channel, eos, sizeof(eos));
	}
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
				err = feed(hub, in, (const uint8_t *)data, data_len, now);
			end = r == 1;
			if (n == 0 && r == 0)
				break;
		}
	} else {
		size_t n = len < in->left ? len : (size_t)in->left;
		err = feed(hub, in, bytes, n, now);
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
	else if (end && !in->seg_open)
		done(c, 400, "no PAT, PMT and random access point in the stream");
	else if (end)
		done(c, 200, "stream ended");
	else if (in->block_len - LIVE_BLOCK_HEAD >= FLUSH_BYTES)
		flush(hub, in, 0, 0);
	c->in_input = false;
	return err != 0 ? len : used;
}
