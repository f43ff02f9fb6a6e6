/* See overlay_msg.h and docs/overlay.md. Every field is big-endian. The
 * decoders read through a cursor that fails once and stays failed, so a
 * body ending inside a field is caught in one place; every name, count and
 * range is then checked before the view is handed out. */
#include "lib/proto/overlay_msg.h"

#include <string.h>

#include <sodium.h>

#include "lib/base/err.h"

#define OPT_PAD         0x0000 /* padding: skipped, not counted */
#define OPT_CRITICAL    0x8000 /* an unknown option with this bit rejects the frame */
#define REC_HEAD_LEN    4
#define REC_BODY_MAX    65535
#define PREFIX_WIRE_LEN 18
#define REPORT_LINE_MAX 4096

static const char KDF_LABEL[] = "peercdn-ovl-1";

const char *pc_ovl_type_name(unsigned type)
{
	static const char *const names[PC_OVL_TYPE__COUNT] = {
	    [PC_OVL_HELLO] = "hello", [PC_OVL_HEARTBEAT] = "heartbeat",
	    [PC_OVL_LSA] = "lsa",     [PC_OVL_LSA_ACK] = "lsa_ack",
	    [PC_OVL_JOIN] = "join",   [PC_OVL_PRUNE] = "prune",
	    [PC_OVL_DATA] = "data",   [PC_OVL_GOODBYE] = "goodbye",
	};
	return type > 0 && type < PC_OVL_TYPE__COUNT ? names[type] : "unknown";
}

const char *pc_ovl_fault_name(unsigned fault)
{
	static const char *const names[PC_OVL_FAULT__COUNT] = {
	    [PC_OVL_FAULT_NONE] = "none",     [PC_OVL_FAULT_SHORT] = "short",
	    [PC_OVL_FAULT_MAGIC] = "magic",   [PC_OVL_FAULT_VERSION] = "version",
	    [PC_OVL_FAULT_LENGTH] = "length", [PC_OVL_FAULT_TYPE] = "type",
	    [PC_OVL_FAULT_NAME] = "name",     [PC_OVL_FAULT_COUNT] = "count",
	    [PC_OVL_FAULT_FIELD] = "field",   [PC_OVL_FAULT_OPTION] = "option",
	    [PC_OVL_FAULT_MAC] = "mac",       [PC_OVL_FAULT_SEQ] = "seq",
	    [PC_OVL_FAULT_SENDER] = "sender", [PC_OVL_FAULT_STATE] = "state",
	};
	return fault < PC_OVL_FAULT__COUNT ? names[fault] : "unknown";
}

const char *pc_ovl_record_name(unsigned type)
{
	static const char *const names[PC_OVL_REC__COUNT] = {
	    [PC_OVL_REC_LOAD] = "load",       [PC_OVL_REC_POLICY] = "policy",
	    [PC_OVL_REC_REPLICA] = "replica", [PC_OVL_REC_RESOURCE] = "resource",
	    [PC_OVL_REC_REPORT] = "report",   [PC_OVL_REC_DRAIN] = "drain",
	};
	return type > 0 && type < PC_OVL_REC__COUNT ? names[type] : "unknown";
}

/* ---- names ---- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool pc_ovl_name_ok(const char *p, size_t len)
{
	if (p == NULL || len == 0 || len > PC_OVL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(p[i]))
			return false;
	return true;
}

/* RFC 3986 §3.3's pchar but '%' (checked with its two hex digits). */
static bool pchar(char c)
{
	return name_char(c) || c == '~' || c == '!' || c == '$' || c == '&' || c == '\'' ||
	       c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=' ||
	       c == ':' || c == '@';
}

static bool hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The part after the owner: what the directory accepts as a channel's
 * name (pc_directory_channel_ok), so every directory entry's channel can
 * be joined: '/'-separated segments, none empty, "." or "..". */
static bool channel_path_ok(const char *p, size_t len)
{
	size_t segment = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || p[i] == '/') {
			const char *s = p + i - segment;
			if (segment == 0 || (segment == 1 && s[0] == '.') ||
			    (segment == 2 && s[0] == '.' && s[1] == '.'))
				return false;
			segment = 0;
		} else if (p[i] == '%') {
			if (len - i < 3 || !hex_digit(p[i + 1]) || !hex_digit(p[i + 2]))
				return false;
			i += 2;
			segment += 3;
		} else if (pchar(p[i])) {
			segment++;
		} else {
			return false;
		}
	}
	return true;
}

bool pc_ovl_channel_ok(const char *p, size_t len)
{
	if (p == NULL || len == 0 || len > PC_OVL_CHANNEL_MAX)
		return false;
	const char *slash = memchr(p, '/', len);
	if (slash == NULL)
		return false;
	size_t owner = (size_t)(slash - p);
	return pc_ovl_name_ok(p, owner) && channel_path_ok(slash + 1, len - owner - 1);
}

static bool line_ok(const char *p, size_t len)
{
	if (len == 0 || len > REPORT_LINE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static bool prefix_ok(const struct pc_ovl_prefix *pfx)
{
	size_t bytes;
	if (pfx->family == 4)
		bytes = 4;
	else if (pfx->family == 6)
		bytes = 16;
	else
		return false;
	if (pfx->len > bytes * 8)
		return false;
	/* every bit past len is zero, IPv4's unused twelve bytes too */
	for (size_t bit = pfx->len; bit < 128; bit++)
		if (pfx->bytes[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/* ---- big-endian writer ---- */

struct writer {
	uint8_t *p;
	size_t size, len;
	bool over;
};

static uint8_t *w_take(struct writer *w, size_t n)
{
	if (w->over || w->size - w->len < n) {
		w->over = true;
		return NULL;
	}
	uint8_t *at = w->p + w->len;
	w->len += n;
	return at;
}

static void w_u8(struct writer *w, uint8_t v)
{
	uint8_t *at = w_take(w, 1);
	if (at)
		at[0] = v;
}

static void put_be(uint8_t *at, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		at[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void w_be(struct writer *w, uint64_t v, size_t n)
{
	uint8_t *at = w_take(w, n);
	if (at)
		put_be(at, v, n);
}

static void w_bytes(struct writer *w, const void *src, size_t n)
{
	uint8_t *at = w_take(w, n);
	if (at && n)
		memcpy(at, src, n);
}

static void w_str8(struct writer *w, struct pc_ovl_str s)
{
	w_u8(w, (uint8_t)s.len);
	w_bytes(w, s.p, s.len);
}

/* ---- big-endian reader ---- */

struct reader {
	const uint8_t *p;
	size_t len, off;
	bool short_;
};

static const uint8_t *r_take(struct reader *r, size_t n)
{
	if (r->short_ || r->len - r->off < n) {
		r->short_ = true;
		return NULL;
	}
	const uint8_t *at = r->p + r->off;
	r->off += n;
	return at;
}

static uint64_t get_be(const uint8_t *at, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | at[i];
	return v;
}

static uint64_t r_be(struct reader *r, size_t n)
{
	const uint8_t *at = r_take(r, n);
	return at ? get_be(at, n) : 0;
}

static struct pc_ovl_str r_str(struct reader *r, size_t len_bytes)
{
	size_t n = (size_t)r_be(r, len_bytes);
	const uint8_t *at = r_take(r, n);
	return (struct pc_ovl_str){at ? (const char *)at : NULL, at ? n : 0};
}

/* ---- accessors ---- */

struct pc_ovl_lsa_link pc_ovl_lsa_link_at(const struct pc_ovl_lsa *lsa, size_t i)
{
	if (lsa->wire_links != NULL) {
		const uint8_t *at = lsa->wire_links + 8 * i;
		return (struct pc_ovl_lsa_link){(uint32_t)get_be(at, 4),
		                                (uint32_t)get_be(at + 4, 4)};
	}
	return lsa->links[i];
}

struct pc_ovl_ack_entry pc_ovl_ack_at(const struct pc_ovl_lsa_ack *ack, size_t i)
{
	if (ack->wire_entries != NULL) {
		const uint8_t *at = ack->wire_entries + 8 * i;
		return (struct pc_ovl_ack_entry){(uint32_t)get_be(at, 4),
		                                 (uint32_t)get_be(at + 4, 4)};
	}
	return ack->entries[i];
}

struct pc_ovl_str pc_ovl_resource_service_at(const struct pc_ovl_resource *res, size_t i)
{
	if (res->wire_services == NULL)
		return res->services[i];
	/* decoding proved every service whole, so the walk cannot run off */
	const uint8_t *at = res->wire_services;
	for (size_t k = 0; k < i; k++)
		at += 1 + at[0];
	return (struct pc_ovl_str){(const char *)at + 1, at[0]};
}

struct pc_ovl_prefix pc_ovl_resource_prefix_at(const struct pc_ovl_resource *res, size_t i)
{
	if (res->wire_prefixes == NULL)
		return res->prefixes[i];
	const uint8_t *at = res->wire_prefixes + PREFIX_WIRE_LEN * i;
	struct pc_ovl_prefix pfx = {.family = at[0], .len = at[1]};
	memcpy(pfx.bytes, at + 2, 16);
	return pfx;
}

/* ---- frames ---- */

long pc_ovl_frame_find(const uint8_t *buf, size_t len)
{
	if (buf == NULL && len > 0)
		return PC_EINVAL;
	/* judge the magic and version as soon as their bytes are in */
	if (len >= 1 && buf[0] != PC_OVL_MAGIC0)
		return PC_ESYNTAX;
	if (len >= 2 && buf[1] != PC_OVL_MAGIC1)
		return PC_ESYNTAX;
	if (len >= 3 && buf[PC_OVL_OFF_VERSION] != PC_OVL_VERSION)
		return PC_ENOTSUP;
	if (len < PC_OVL_OFF_LENGTH + 4)
		return 0;
	uint64_t body = get_be(buf + PC_OVL_OFF_LENGTH, 4);
	if (body > PC_OVL_BODY_MAX)
		return PC_ERANGE;
	size_t whole = PC_OVL_HEADER_LEN + (size_t)body + PC_OVL_MAC_LEN;
	return len >= whole ? (long)whole : 0;
}

static bool msg_names_ok(const struct pc_ovl_msg *m)
{
	switch (m->type) {
	case PC_OVL_HELLO:
		return pc_ovl_name_ok(m->u.hello.cdn.p, m->u.hello.cdn.len);
	case PC_OVL_LSA:
		return pc_ovl_name_ok(m->u.lsa.cdn.p, m->u.lsa.cdn.len);
	case PC_OVL_JOIN:
	case PC_OVL_PRUNE:
		return pc_ovl_channel_ok(m->u.join.channel.p, m->u.join.channel.len);
	case PC_OVL_DATA:
		return pc_ovl_channel_ok(m->u.data.channel.p, m->u.data.channel.len);
	default:
		return true;
	}
}

static void write_body(const struct pc_ovl_msg *m, struct writer *w)
{
	switch (m->type) {
	case PC_OVL_HELLO: {
		const struct pc_ovl_hello *h = &m->u.hello;
		w_str8(w, h->cdn);
		w_bytes(w, h->nonce, PC_OVL_NONCE_LEN);
		w_bytes(w, h->peer_nonce, PC_OVL_NONCE_LEN);
		w_be(w, h->capabilities, 4);
		w_be(w, h->heartbeat_ms, 4);
		w_be(w, h->dead_ms, 4);
		break;
	}
	case PC_OVL_HEARTBEAT:
		w_be(w, m->u.heartbeat.sent_at, 8);
		w_be(w, m->u.heartbeat.echo, 8);
		break;
	case PC_OVL_LSA: {
		const struct pc_ovl_lsa *l = &m->u.lsa;
		w_be(w, l->origin, 4);
		w_be(w, l->seq, 4);
		w_be(w, l->age, 2);
		w_be(w, l->count, 2);
		w_str8(w, l->cdn);
		for (size_t i = 0; i < l->count; i++) {
			struct pc_ovl_lsa_link link = pc_ovl_lsa_link_at(l, i);
			w_be(w, link.neighbour, 4);
			w_be(w, link.cost, 4);
		}
		break;
	}
	case PC_OVL_LSA_ACK:
		w_be(w, m->u.ack.count, 2);
		for (size_t i = 0; i < m->u.ack.count; i++) {
			struct pc_ovl_ack_entry e = pc_ovl_ack_at(&m->u.ack, i);
			w_be(w, e.origin, 4);
			w_be(w, e.seq, 4);
		}
		break;
	case PC_OVL_JOIN:
	case PC_OVL_PRUNE:
		w_be(w, m->u.join.source, 4);
		w_be(w, m->u.join.epoch, 8);    /* PRUNE: sent 0, ignored */
		w_be(w, m->u.join.last_seq, 8); /* PRUNE: sent 0, ignored */
		w_str8(w, m->u.join.channel);
		break;
	case PC_OVL_DATA:
		w_be(w, m->u.data.source, 4);
		w_be(w, m->u.data.epoch, 8);
		w_be(w, m->u.data.block_seq, 8);
		w_str8(w, m->u.data.channel);
		w_be(w, m->u.data.payload_len, 4);
		w_bytes(w, m->u.data.payload, m->u.data.payload_len);
		break;
	case PC_OVL_GOODBYE:
		w_be(w, m->u.goodbye.grace_ms, 4);
		break;
	default:
		break;
	}
}

static bool msg_counts_ok(const struct pc_ovl_msg *m)
{
	switch (m->type) {
	case PC_OVL_LSA:
		return m->u.lsa.count <= PC_OVL_LSA_LINKS_MAX &&
		       (m->u.lsa.count == 0 || m->u.lsa.links != NULL ||
		        m->u.lsa.wire_links != NULL);
	case PC_OVL_LSA_ACK:
		return m->u.ack.count >= 1 && m->u.ack.count <= PC_OVL_ACK_MAX &&
		       (m->u.ack.entries != NULL || m->u.ack.wire_entries != NULL);
	case PC_OVL_DATA:
		return m->u.data.payload_len <= PC_OVL_BODY_MAX &&
		       (m->u.data.payload_len == 0 || m->u.data.payload != NULL);
	default:
		return true;
	}
}

/* What pc_ovl_decode would refuse as out of range, refused before it is
 * sent. */
static bool msg_fields_ok(const struct pc_ovl_msg *m)
{
	if (m->sender == 0)
		return false;
	switch (m->type) {
	case PC_OVL_HELLO:
		return m->u.hello.heartbeat_ms > 0 && m->u.hello.dead_ms > m->u.hello.heartbeat_ms;
	case PC_OVL_LSA:
		if (m->u.lsa.origin == 0 || m->u.lsa.seq == 0 || m->u.lsa.age > PC_OVL_MAX_AGE)
			return false;
		for (size_t i = 0; i < m->u.lsa.count; i++) {
			struct pc_ovl_lsa_link link = pc_ovl_lsa_link_at(&m->u.lsa, i);
			if (link.neighbour == 0 || link.neighbour == m->u.lsa.origin ||
			    link.cost == 0)
				return false;
		}
		return true;
	case PC_OVL_JOIN:
	case PC_OVL_PRUNE:
		return m->u.join.source != 0;
	case PC_OVL_DATA:
		return m->u.data.source != 0 && m->u.data.block_seq != 0;
	default:
		return true;
	}
}

int pc_ovl_encode(const struct pc_ovl_msg *msg, uint8_t *out, size_t out_size)
{
	if (msg == NULL || (out == NULL && out_size > 0))
		return PC_EINVAL;
	if (msg->type == 0 || msg->type >= PC_OVL_TYPE__COUNT || !msg_names_ok(msg))
		return PC_EINVAL;
	if (!msg_counts_ok(msg))
		return PC_ERANGE;
	if (!msg_fields_ok(msg))
		return PC_EINVAL;
	struct writer w = {out, out_size, 0, false};
	w_u8(&w, PC_OVL_MAGIC0);
	w_u8(&w, PC_OVL_MAGIC1);
	w_u8(&w, PC_OVL_VERSION);
	w_u8(&w, msg->type);
	w_be(&w, msg->flags, 2);
	w_be(&w, 0, 2); /* reserved */
	w_be(&w, 0, 4); /* length, below */
	w_be(&w, msg->sender, 4);
	w_be(&w, msg->seq, 8);
	write_body(msg, &w);
	if (w.over)
		return PC_ESPACE;
	size_t body = w.len - PC_OVL_HEADER_LEN;
	if (body > PC_OVL_BODY_MAX)
		return PC_ERANGE;
	uint8_t *mac = w_take(&w, PC_OVL_MAC_LEN);
	if (mac == NULL)
		return PC_ESPACE;
	memset(mac, 0, PC_OVL_MAC_LEN);
	put_be(out + PC_OVL_OFF_LENGTH, body, 4);
	return (int)w.len;
}

static int fail(uint8_t *fault, uint8_t why, int code)
{
	*fault = why;
	return code;
}

/* The options after a body's fields: type, length, value, to the end. */
static int read_options(struct reader *r, struct pc_ovl_msg *out)
{
	while (!r->short_ && r->off < r->len) {
		uint16_t type = (uint16_t)r_be(r, 2);
		uint16_t len = (uint16_t)r_be(r, 2);
		if (r_take(r, len) == NULL)
			return fail(&out->fault, PC_OVL_FAULT_OPTION, PC_ESYNTAX);
		if (type == OPT_PAD)
			continue;
		if (type & OPT_CRITICAL)
			return fail(&out->fault, PC_OVL_FAULT_OPTION, PC_ESYNTAX);
		out->unknown_options++;
	}
	return PC_OK;
}

static int decode_body(struct reader *r, struct pc_ovl_msg *out)
{
	switch (out->type) {
	case PC_OVL_HELLO: {
		struct pc_ovl_hello *h = &out->u.hello;
		h->cdn = r_str(r, 1);
		const uint8_t *nonce = r_take(r, PC_OVL_NONCE_LEN);
		const uint8_t *peer = r_take(r, PC_OVL_NONCE_LEN);
		h->capabilities = (uint32_t)r_be(r, 4);
		h->heartbeat_ms = (uint32_t)r_be(r, 4);
		h->dead_ms = (uint32_t)r_be(r, 4);
		if (r->short_)
			break;
		memcpy(h->nonce, nonce, PC_OVL_NONCE_LEN);
		memcpy(h->peer_nonce, peer, PC_OVL_NONCE_LEN);
		if (!pc_ovl_name_ok(h->cdn.p, h->cdn.len))
			return fail(&out->fault, PC_OVL_FAULT_NAME, PC_ESYNTAX);
		if (h->heartbeat_ms == 0 || h->dead_ms <= h->heartbeat_ms)
			return fail(&out->fault, PC_OVL_FAULT_FIELD, PC_ERANGE);
		break;
	}
	case PC_OVL_HEARTBEAT:
		out->u.heartbeat.sent_at = r_be(r, 8);
		out->u.heartbeat.echo = r_be(r, 8);
		break;
	case PC_OVL_LSA: {
		struct pc_ovl_lsa *l = &out->u.lsa;
		l->origin = (uint32_t)r_be(r, 4);
		l->seq = (uint32_t)r_be(r, 4);
		l->age = (uint16_t)r_be(r, 2);
		l->count = (uint16_t)r_be(r, 2);
		l->cdn = r_str(r, 1);
		if (r->short_)
			break;
		if (l->count > PC_OVL_LSA_LINKS_MAX)
			return fail(&out->fault, PC_OVL_FAULT_COUNT, PC_ERANGE);
		l->wire_links = r_take(r, 8 * (size_t)l->count);
		if (r->short_)
			break;
		if (!pc_ovl_name_ok(l->cdn.p, l->cdn.len))
			return fail(&out->fault, PC_OVL_FAULT_NAME, PC_ESYNTAX);
		if (l->origin == 0 || l->seq == 0 || l->age > PC_OVL_MAX_AGE)
			return fail(&out->fault, PC_OVL_FAULT_FIELD, PC_ERANGE);
		for (size_t i = 0; i < l->count; i++) {
			struct pc_ovl_lsa_link link = pc_ovl_lsa_link_at(l, i);
			if (link.neighbour == 0 || link.neighbour == l->origin || link.cost == 0)
				return fail(&out->fault, PC_OVL_FAULT_FIELD, PC_ERANGE);
		}
		break;
	}
	case PC_OVL_LSA_ACK: {
		struct pc_ovl_lsa_ack *a = &out->u.ack;
		a->count = (uint16_t)r_be(r, 2);
		if (r->short_)
			break;
		if (a->count == 0 || a->count > PC_OVL_ACK_MAX)
			return fail(&out->fault, PC_OVL_FAULT_COUNT, PC_ERANGE);
		a->wire_entries = r_take(r, 8 * (size_t)a->count);
		break;
	}
	case PC_OVL_JOIN:
	case PC_OVL_PRUNE: {
		struct pc_ovl_join *j = &out->u.join;
		j->source = (uint32_t)r_be(r, 4);
		j->epoch = r_be(r, 8);
		j->last_seq = r_be(r, 8);
		j->channel = r_str(r, 1);
		if (r->short_)
			break;
		if (!pc_ovl_channel_ok(j->channel.p, j->channel.len))
			return fail(&out->fault, PC_OVL_FAULT_NAME, PC_ESYNTAX);
		if (j->source == 0)
			return fail(&out->fault, PC_OVL_FAULT_FIELD, PC_ERANGE);
		break;
	}
	case PC_OVL_DATA: {
		struct pc_ovl_data *d = &out->u.data;
		d->source = (uint32_t)r_be(r, 4);
		d->epoch = r_be(r, 8);
		d->block_seq = r_be(r, 8);
		d->channel = r_str(r, 1);
		d->payload_len = (size_t)r_be(r, 4);
		d->payload = r_take(r, d->payload_len);
		if (r->short_) {
			d->payload_len = 0;
			break;
		}
		if (!pc_ovl_channel_ok(d->channel.p, d->channel.len))
			return fail(&out->fault, PC_OVL_FAULT_NAME, PC_ESYNTAX);
		if (d->source == 0 || d->block_seq == 0)
			return fail(&out->fault, PC_OVL_FAULT_FIELD, PC_ERANGE);
		break;
	}
	case PC_OVL_GOODBYE:
		out->u.goodbye.grace_ms = (uint32_t)r_be(r, 4);
		break;
	default:
		return fail(&out->fault, PC_OVL_FAULT_TYPE, PC_ENOTSUP);
	}
	if (r->short_)
		return fail(&out->fault, PC_OVL_FAULT_SHORT, PC_ESYNTAX);
	return read_options(r, out);
}

int pc_ovl_decode(const uint8_t *frame, size_t len, struct pc_ovl_msg *out)
{
	if (out == NULL)
		return PC_EINVAL;
	memset(out, 0, sizeof(*out));
	if (frame == NULL && len > 0)
		return PC_EINVAL;
	if (len < PC_OVL_HEADER_LEN)
		return fail(&out->fault, PC_OVL_FAULT_SHORT, PC_ESYNTAX);
	if (frame[0] != PC_OVL_MAGIC0 || frame[1] != PC_OVL_MAGIC1)
		return fail(&out->fault, PC_OVL_FAULT_MAGIC, PC_ESYNTAX);
	if (frame[PC_OVL_OFF_VERSION] != PC_OVL_VERSION)
		return fail(&out->fault, PC_OVL_FAULT_VERSION, PC_ENOTSUP);
	out->type = frame[PC_OVL_OFF_TYPE];
	out->flags = (uint16_t)get_be(frame + PC_OVL_OFF_FLAGS, 2);
	out->sender = (uint32_t)get_be(frame + PC_OVL_OFF_SENDER, 4);
	out->seq = get_be(frame + PC_OVL_OFF_SEQ, 8);
	uint64_t body = get_be(frame + PC_OVL_OFF_LENGTH, 4);
	if (body > PC_OVL_BODY_MAX || len != PC_OVL_HEADER_LEN + body + PC_OVL_MAC_LEN)
		return fail(&out->fault, PC_OVL_FAULT_LENGTH, PC_ESYNTAX);
	if (out->sender == 0)
		return fail(&out->fault, PC_OVL_FAULT_FIELD, PC_ERANGE);
	struct reader r = {frame + PC_OVL_HEADER_LEN, (size_t)body, 0, false};
	return decode_body(&r, out);
}

/* The tag of the frame's first n bytes (header and body) under key
 * (docs/overlay.md, "Authentication"). A HELLO (seq 0, the link key):
 * keyed BLAKE2b-128. Every other frame (seq >= 1, a direction key that
 * never sees a seq twice): Poly1305 under a one-time key, the first 32
 * bytes of ChaCha20 under the direction key with the seq as nonce, as
 * RFC 8439 §2.6 does for its AEAD: several times cheaper per byte than an
 * HMAC, which a relay pays twice for every byte it forwards. */
static void frame_tag(const uint8_t key[PC_OVL_KEY_LEN], const uint8_t *frame, size_t n,
                      uint8_t tag[PC_OVL_MAC_LEN])
{
	uint64_t seq = get_be(frame + PC_OVL_OFF_SEQ, 8);
	if (seq == 0) {
		crypto_generichash(tag, PC_OVL_MAC_LEN, frame, n, key, PC_OVL_KEY_LEN);
		return;
	}
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
	put_be(nonce + 4, seq, 8);
	uint8_t one_time[crypto_onetimeauth_poly1305_KEYBYTES];
	crypto_stream_chacha20_ietf(one_time, sizeof(one_time), nonce, key);
	crypto_onetimeauth_poly1305(tag, frame, n, one_time);
	sodium_memzero(one_time, sizeof(one_time));
}

void pc_ovl_mac_set(const uint8_t key[PC_OVL_KEY_LEN], uint8_t *frame, size_t len)
{
	if (len < PC_OVL_FRAME_MIN)
		return;
	frame_tag(key, frame, len - PC_OVL_MAC_LEN, frame + len - PC_OVL_MAC_LEN);
}

bool pc_ovl_mac_ok(const uint8_t key[PC_OVL_KEY_LEN], const uint8_t *frame, size_t len)
{
	if (frame == NULL || len < PC_OVL_FRAME_MIN)
		return false;
	uint8_t tag[PC_OVL_MAC_LEN];
	frame_tag(key, frame, len - PC_OVL_MAC_LEN, tag);
	return crypto_verify_16(tag, frame + len - PC_OVL_MAC_LEN) == 0;
}

/* ---- the session ---- */

/* The key of one direction: BLAKE2b-256 keyed with the link key over the
 * label, the sending router's id, its nonce and then the receiver's, so
 * the two directions and every session have keys of their own. */
static void direction_key(uint8_t out[PC_OVL_KEY_LEN], const uint8_t link_key[PC_OVL_KEY_LEN],
                          uint32_t sender, const uint8_t sender_nonce[PC_OVL_NONCE_LEN],
                          const uint8_t receiver_nonce[PC_OVL_NONCE_LEN])
{
	uint8_t in[sizeof(KDF_LABEL) - 1 + 4 + 2 * PC_OVL_NONCE_LEN];
	size_t n = sizeof(KDF_LABEL) - 1;
	memcpy(in, KDF_LABEL, n);
	put_be(in + n, sender, 4);
	memcpy(in + n + 4, sender_nonce, PC_OVL_NONCE_LEN);
	memcpy(in + n + 4 + PC_OVL_NONCE_LEN, receiver_nonce, PC_OVL_NONCE_LEN);
	crypto_generichash(out, PC_OVL_KEY_LEN, in, sizeof(in), link_key, PC_OVL_KEY_LEN);
}

void pc_ovl_link_init(struct pc_ovl_link *link, const uint8_t key[PC_OVL_KEY_LEN], uint32_t self,
                      uint32_t peer, const uint8_t nonce[PC_OVL_NONCE_LEN])
{
	memset(link, 0, sizeof(*link));
	memcpy(link->link_key, key, PC_OVL_KEY_LEN);
	memcpy(link->nonce, nonce, PC_OVL_NONCE_LEN);
	link->self = self;
	link->peer = peer;
	link->hello_owed = true;
}

void pc_ovl_link_wipe(struct pc_ovl_link *link)
{
	sodium_memzero(link, sizeof(*link));
}

bool pc_ovl_link_up(const struct pc_ovl_link *link)
{
	return link->heard && link->echoed;
}

bool pc_ovl_link_hello_owed(const struct pc_ovl_link *link)
{
	return link->hello_owed;
}

int pc_ovl_link_write(struct pc_ovl_link *link, struct pc_ovl_msg *msg, uint8_t *out,
                      size_t out_size)
{
	if (link == NULL || msg == NULL)
		return PC_EINVAL;
	const uint8_t *key;
	msg->sender = link->self;
	if (msg->type == PC_OVL_HELLO) {
		memcpy(msg->u.hello.nonce, link->nonce, PC_OVL_NONCE_LEN);
		if (link->heard)
			memcpy(msg->u.hello.peer_nonce, link->peer_nonce, PC_OVL_NONCE_LEN);
		else
			memset(msg->u.hello.peer_nonce, 0, PC_OVL_NONCE_LEN);
		msg->seq = 0;
		key = link->link_key;
	} else {
		if (!link->heard)
			return PC_EINVAL;
		msg->seq = link->send_seq + 1;
		key = link->send_key;
	}
	int n = pc_ovl_encode(msg, out, out_size);
	if (n < 0)
		return n;
	pc_ovl_mac_set(key, out, (size_t)n);
	if (msg->type == PC_OVL_HELLO)
		link->hello_owed = false;
	else
		link->send_seq = msg->seq;
	return n;
}

static bool nonce_zero(const uint8_t nonce[PC_OVL_NONCE_LEN])
{
	uint8_t zero[PC_OVL_NONCE_LEN] = {0};
	return sodium_memcmp(nonce, zero, PC_OVL_NONCE_LEN) == 0;
}

/* A HELLO whose MAC verified: the first gives the peer's nonce and the
 * keys; later ones must repeat it (one session per connection). */
static int take_hello(struct pc_ovl_link *link, struct pc_ovl_msg *msg)
{
	const struct pc_ovl_hello *h = &msg->u.hello;
	bool echoes = sodium_memcmp(h->peer_nonce, link->nonce, PC_OVL_NONCE_LEN) == 0;
	if (msg->seq != 0 || nonce_zero(h->nonce) || (!echoes && !nonce_zero(h->peer_nonce)))
		return fail(&msg->fault, PC_OVL_FAULT_STATE, PC_EBADSIG);
	if (link->heard) {
		if (sodium_memcmp(h->nonce, link->peer_nonce, PC_OVL_NONCE_LEN) != 0)
			return fail(&msg->fault, PC_OVL_FAULT_STATE, PC_EBADSIG);
	} else {
		memcpy(link->peer_nonce, h->nonce, PC_OVL_NONCE_LEN);
		direction_key(link->send_key, link->link_key, link->self, link->nonce,
		              link->peer_nonce);
		direction_key(link->recv_key, link->link_key, link->peer, link->peer_nonce,
		              link->nonce);
		link->heard = true;
	}
	if (echoes)
		link->echoed = true;
	else
		link->hello_owed = true;
	return PC_OK;
}

int pc_ovl_link_read(struct pc_ovl_link *link, const uint8_t *frame, size_t len,
                     struct pc_ovl_msg *out)
{
	if (link == NULL || out == NULL)
		return PC_EINVAL;
	memset(out, 0, sizeof(*out));
	if (frame == NULL && len > 0)
		return PC_EINVAL;
	if (pc_ovl_frame_find(frame, len) != (long)len || len < PC_OVL_FRAME_MIN) {
		/* not exactly one frame: let decode say which fault */
		int rc = pc_ovl_decode(frame, len, out);
		return rc < 0 ? rc : fail(&out->fault, PC_OVL_FAULT_LENGTH, PC_ESYNTAX);
	}
	uint8_t type = frame[PC_OVL_OFF_TYPE];
	uint32_t sender = (uint32_t)get_be(frame + PC_OVL_OFF_SENDER, 4);
	uint64_t seq = get_be(frame + PC_OVL_OFF_SEQ, 8);
	if (sender != link->peer)
		return fail(&out->fault, PC_OVL_FAULT_SENDER, PC_EBADSIG);
	if (type == PC_OVL_HELLO) {
		if (!pc_ovl_mac_ok(link->link_key, frame, len))
			return fail(&out->fault, PC_OVL_FAULT_MAC, PC_EBADSIG);
		int rc = pc_ovl_decode(frame, len, out);
		return rc < 0 ? rc : take_hello(link, out);
	}
	if (!link->heard)
		return fail(&out->fault, PC_OVL_FAULT_STATE, PC_EBADSIG);
	if (!pc_ovl_mac_ok(link->recv_key, frame, len))
		return fail(&out->fault, PC_OVL_FAULT_MAC, PC_EBADSIG);
	if (seq != link->recv_seq + 1)
		return fail(&out->fault, PC_OVL_FAULT_SEQ, PC_EBADSIG);
	/* authentic and in order: the sequence is consumed whatever the body
	 * holds, and the peer has proved it holds this session's key */
	link->recv_seq = seq;
	link->echoed = true;
	return pc_ovl_decode(frame, len, out);
}

/* ---- control records ---- */

static bool record_ok(const struct pc_ovl_record *rec)
{
	switch (rec->type) {
	case PC_OVL_REC_LOAD:
		return pc_ovl_name_ok(rec->u.load.server.p, rec->u.load.server.len) &&
		       rec->u.load.health <= PC_OVL_UP;
	case PC_OVL_REC_POLICY: {
		const struct pc_ovl_policy *p = &rec->u.policy;
		return p->version > 0 && p->offset <= p->total &&
		       p->chunk_len <= p->total - p->offset &&
		       (p->chunk_len == 0 || p->chunk != NULL);
	}
	case PC_OVL_REC_REPLICA:
		return pc_ovl_name_ok(rec->u.replica.server.p, rec->u.replica.server.len) &&
		       rec->u.replica.op <= PC_OVL_REPLICA_DROP;
	case PC_OVL_REC_RESOURCE: {
		const struct pc_ovl_resource *res = &rec->u.resource;
		if (!pc_ovl_name_ok(res->cdn.p, res->cdn.len) ||
		    !pc_ovl_name_ok(res->peer.p, res->peer.len))
			return false;
		if ((res->service_count > 0 && res->services == NULL &&
		     res->wire_services == NULL) ||
		    (res->prefix_count > 0 && res->prefixes == NULL && res->wire_prefixes == NULL))
			return false;
		for (size_t i = 0; i < res->service_count && i < PC_OVL_SERVICES_MAX; i++) {
			struct pc_ovl_str s = pc_ovl_resource_service_at(res, i);
			if (!pc_ovl_name_ok(s.p, s.len))
				return false;
		}
		for (size_t i = 0; i < res->prefix_count && i < PC_OVL_PREFIXES_MAX; i++) {
			struct pc_ovl_prefix pfx = pc_ovl_resource_prefix_at(res, i);
			if (!prefix_ok(&pfx))
				return false;
		}
		return true;
	}
	case PC_OVL_REC_REPORT: {
		const struct pc_ovl_report *r = &rec->u.report;
		return r->origin != 0 && r->serial != 0 &&
		       pc_ovl_name_ok(r->provider.p, r->provider.len) &&
		       (r->agreement.len == 0 ||
		        pc_ovl_name_ok(r->agreement.p, r->agreement.len)) &&
		       r->line.p != NULL && line_ok(r->line.p, r->line.len);
	}
	case PC_OVL_REC_DRAIN:
		return rec->u.drain.version > 0 && rec->u.drain.drained <= 1 &&
		       pc_ovl_name_ok(rec->u.drain.server.p, rec->u.drain.server.len);
	default:
		return false;
	}
}

int pc_ovl_record_encode(const struct pc_ovl_record *rec, uint8_t *out, size_t out_size)
{
	if (rec == NULL || (out == NULL && out_size > 0))
		return PC_EINVAL;
	if (rec->type == PC_OVL_REC_RESOURCE &&
	    (rec->u.resource.service_count > PC_OVL_SERVICES_MAX ||
	     rec->u.resource.prefix_count > PC_OVL_PREFIXES_MAX))
		return PC_ERANGE;
	if (rec->type == PC_OVL_REC_POLICY && rec->u.policy.chunk_len > REC_BODY_MAX)
		return PC_ERANGE;
	if (!record_ok(rec))
		return PC_EINVAL;
	struct writer w = {out, out_size, 0, false};
	w_u8(&w, rec->type);
	w_u8(&w, 0); /* reserved */
	w_be(&w, 0, 2);
	switch (rec->type) {
	case PC_OVL_REC_LOAD:
		w_be(&w, rec->u.load.load, 4);
		w_be(&w, rec->u.load.capacity, 4);
		w_be(&w, rec->u.load.time_ms, 8);
		w_u8(&w, rec->u.load.health);
		w_str8(&w, rec->u.load.server);
		break;
	case PC_OVL_REC_POLICY:
		w_be(&w, rec->u.policy.version, 8);
		w_bytes(&w, rec->u.policy.hash, 32);
		w_be(&w, rec->u.policy.total, 4);
		w_be(&w, rec->u.policy.offset, 4);
		w_be(&w, rec->u.policy.chunk_len, 2);
		w_bytes(&w, rec->u.policy.chunk, rec->u.policy.chunk_len);
		break;
	case PC_OVL_REC_REPLICA:
		w_be(&w, rec->u.replica.key, 8);
		w_be(&w, rec->u.replica.time_ms, 8);
		w_u8(&w, rec->u.replica.op);
		w_str8(&w, rec->u.replica.server);
		break;
	case PC_OVL_REC_RESOURCE: {
		const struct pc_ovl_resource *res = &rec->u.resource;
		w_be(&w, res->capacity, 8);
		w_be(&w, res->time_ms, 8);
		w_str8(&w, res->cdn);
		w_str8(&w, res->peer);
		w_u8(&w, res->service_count);
		for (size_t i = 0; i < res->service_count; i++)
			w_str8(&w, pc_ovl_resource_service_at(res, i));
		w_be(&w, res->prefix_count, 2);
		for (size_t i = 0; i < res->prefix_count; i++) {
			struct pc_ovl_prefix pfx = pc_ovl_resource_prefix_at(res, i);
			w_u8(&w, pfx.family);
			w_u8(&w, pfx.len);
			w_bytes(&w, pfx.bytes, 16);
		}
		break;
	}
	case PC_OVL_REC_REPORT:
		w_be(&w, rec->u.report.origin, 4);
		w_be(&w, rec->u.report.serial, 8);
		w_str8(&w, rec->u.report.provider);
		w_str8(&w, rec->u.report.agreement);
		w_be(&w, rec->u.report.line.len, 2);
		w_bytes(&w, rec->u.report.line.p, rec->u.report.line.len);
		break;
	case PC_OVL_REC_DRAIN:
		w_be(&w, rec->u.drain.version, 8);
		w_u8(&w, rec->u.drain.drained);
		w_str8(&w, rec->u.drain.server);
		break;
	}
	if (w.over)
		return PC_ESPACE;
	size_t body = w.len - REC_HEAD_LEN;
	if (body > REC_BODY_MAX)
		return PC_ERANGE;
	put_be(out + 2, body, 2);
	return (int)w.len;
}

static int decode_record_body(struct reader *r, struct pc_ovl_record *out)
{
	switch (out->type) {
	case PC_OVL_REC_LOAD: {
		struct pc_ovl_load *l = &out->u.load;
		l->load = (uint32_t)r_be(r, 4);
		l->capacity = (uint32_t)r_be(r, 4);
		l->time_ms = r_be(r, 8);
		l->health = (uint8_t)r_be(r, 1);
		l->server = r_str(r, 1);
		break;
	}
	case PC_OVL_REC_POLICY: {
		struct pc_ovl_policy *p = &out->u.policy;
		p->version = r_be(r, 8);
		const uint8_t *hash = r_take(r, 32);
		p->total = (uint32_t)r_be(r, 4);
		p->offset = (uint32_t)r_be(r, 4);
		p->chunk_len = (size_t)r_be(r, 2);
		p->chunk = r_take(r, p->chunk_len);
		if (hash)
			memcpy(p->hash, hash, 32);
		break;
	}
	case PC_OVL_REC_REPLICA: {
		struct pc_ovl_replica *rep = &out->u.replica;
		rep->key = r_be(r, 8);
		rep->time_ms = r_be(r, 8);
		rep->op = (uint8_t)r_be(r, 1);
		rep->server = r_str(r, 1);
		break;
	}
	case PC_OVL_REC_RESOURCE: {
		struct pc_ovl_resource *res = &out->u.resource;
		res->capacity = r_be(r, 8);
		res->time_ms = r_be(r, 8);
		res->cdn = r_str(r, 1);
		res->peer = r_str(r, 1);
		res->service_count = (uint8_t)r_be(r, 1);
		if (r->short_)
			break;
		if (res->service_count > PC_OVL_SERVICES_MAX)
			return fail(&out->fault, PC_OVL_FAULT_COUNT, PC_ERANGE);
		res->wire_services = r->p + r->off;
		for (size_t i = 0; i < res->service_count; i++)
			(void)r_str(r, 1);
		res->prefix_count = (uint16_t)r_be(r, 2);
		if (r->short_)
			break;
		if (res->prefix_count > PC_OVL_PREFIXES_MAX)
			return fail(&out->fault, PC_OVL_FAULT_COUNT, PC_ERANGE);
		res->wire_prefixes = r_take(r, PREFIX_WIRE_LEN * (size_t)res->prefix_count);
		break;
	}
	case PC_OVL_REC_REPORT: {
		struct pc_ovl_report *rep = &out->u.report;
		rep->origin = (uint32_t)r_be(r, 4);
		rep->serial = r_be(r, 8);
		rep->provider = r_str(r, 1);
		rep->agreement = r_str(r, 1);
		rep->line = r_str(r, 2);
		break;
	}
	case PC_OVL_REC_DRAIN: {
		struct pc_ovl_drain *d = &out->u.drain;
		d->version = r_be(r, 8);
		d->drained = (uint8_t)r_be(r, 1);
		d->server = r_str(r, 1);
		break;
	}
	default:
		return fail(&out->fault, PC_OVL_FAULT_TYPE, PC_ENOTSUP);
	}
	if (r->short_)
		return fail(&out->fault, PC_OVL_FAULT_SHORT, PC_ESYNTAX);
	if (!record_ok(out)) {
		bool names = out->type != PC_OVL_REC_POLICY;
		/* tell a bad name from a bad number for the counters */
		if (out->type == PC_OVL_REC_LOAD && out->u.load.health > PC_OVL_UP)
			names = false;
		if (out->type == PC_OVL_REC_REPLICA && out->u.replica.op > PC_OVL_REPLICA_DROP)
			names = false;
		if (out->type == PC_OVL_REC_REPORT &&
		    (out->u.report.origin == 0 || out->u.report.serial == 0))
			names = false;
		if (out->type == PC_OVL_REC_DRAIN &&
		    (out->u.drain.version == 0 || out->u.drain.drained > 1))
			names = false;
		if (out->type == PC_OVL_REC_RESOURCE) {
			const struct pc_ovl_resource *res = &out->u.resource;
			for (size_t i = 0; i < res->prefix_count; i++) {
				struct pc_ovl_prefix pfx = pc_ovl_resource_prefix_at(res, i);
				if (!prefix_ok(&pfx))
					names = false;
			}
		}
		return names ? fail(&out->fault, PC_OVL_FAULT_NAME, PC_ESYNTAX)
		             : fail(&out->fault, PC_OVL_FAULT_FIELD, PC_ERANGE);
	}
	/* bytes after the known fields are a later version's: ignored */
	return PC_OK;
}

int pc_ovl_record_decode(const uint8_t *p, size_t len, struct pc_ovl_record *out, size_t *used)
{
	if (out == NULL || used == NULL)
		return PC_EINVAL;
	memset(out, 0, sizeof(*out));
	*used = 0;
	if (p == NULL && len > 0)
		return PC_EINVAL;
	if (len < REC_HEAD_LEN)
		return fail(&out->fault, PC_OVL_FAULT_SHORT, PC_ESYNTAX);
	size_t body = (size_t)get_be(p + 2, 2);
	if (body > len - REC_HEAD_LEN)
		return fail(&out->fault, PC_OVL_FAULT_LENGTH, PC_ESYNTAX);
	*used = REC_HEAD_LEN + body;
	out->type = p[0];
	struct reader r = {p + REC_HEAD_LEN, body, 0, false};
	return decode_record_body(&r, out);
}
