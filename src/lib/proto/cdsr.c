/* See cdsr.h and docs/cdsr.md. Every read goes through a cursor that
 * checks the bytes left first, so no input can make a parser read past its
 * length; every write checks the space left the same way. */
#include "lib/proto/cdsr.h"

#include <string.h>

#include "lib/base/err.h"
#include "lib/model/netmap.h"

const char *pc_cdsr_status_name(unsigned status)
{
	static const char *const names[PC_CDSR__STATUS_COUNT] = {
	    [PC_CDSR_OK] = "ok",
	    [PC_CDSR_BAD_REQUEST] = "bad_request",
	    [PC_CDSR_UNSUPPORTED_VERSION] = "unsupported_version",
	    [PC_CDSR_NO_SUCH_CONTENT] = "no_such_content",
	    [PC_CDSR_NOT_AUTHORITATIVE] = "not_authoritative",
	    [PC_CDSR_NO_SERVER] = "no_server",
	    [PC_CDSR_SIGNATURE_REQUIRED] = "signature_required",
	    [PC_CDSR_TOO_SMALL] = "too_small",
	    [PC_CDSR_RATE_LIMITED] = "rate_limited",
	    [PC_CDSR_SERVER_ERROR] = "server_error",
	};
	if (status == PC_CDSR_DROPPED)
		return "dropped";
	return status < PC_CDSR__STATUS_COUNT ? names[status] : "unknown";
}

/* Reading. */

struct reader {
	const uint8_t *p;
	size_t left;
};

static bool get_u8(struct reader *r, uint8_t *v)
{
	if (r->left < 1)
		return false;
	*v = r->p[0];
	r->p++;
	r->left--;
	return true;
}

static bool get_u16(struct reader *r, uint16_t *v)
{
	if (r->left < 2)
		return false;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return true;
}

static bool get_u32(struct reader *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return true;
}

static bool get_u64(struct reader *r, uint64_t *v)
{
	uint32_t hi, lo;
	if (r->left < 8 || !get_u32(r, &hi) || !get_u32(r, &lo))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

static bool get_span(struct reader *r, size_t len, const uint8_t **span)
{
	if (r->left < len)
		return false;
	*span = r->p;
	r->p += len;
	r->left -= len;
	return true;
}

/* An option: type, length, value. */
static bool get_option(struct reader *r, uint16_t *type, uint16_t *len, const uint8_t **value)
{
	return get_u16(r, type) && get_u16(r, len) && get_span(r, *len, value);
}

/* Writing. */

struct writer {
	uint8_t *p;
	size_t left;
};

static bool put_u8(struct writer *w, uint8_t v)
{
	if (w->left < 1)
		return false;
	*w->p++ = v;
	w->left--;
	return true;
}

static bool put_u16(struct writer *w, uint16_t v)
{
	return w->left >= 2 && put_u8(w, (uint8_t)(v >> 8)) && put_u8(w, (uint8_t)v);
}

static bool put_u32(struct writer *w, uint32_t v)
{
	return w->left >= 4 && put_u16(w, (uint16_t)(v >> 16)) && put_u16(w, (uint16_t)v);
}

static bool put_u64(struct writer *w, uint64_t v)
{
	return w->left >= 8 && put_u32(w, (uint32_t)(v >> 32)) && put_u32(w, (uint32_t)v);
}

static bool put_bytes(struct writer *w, const void *data, size_t len)
{
	if (w->left < len)
		return false;
	if (len > 0)
		memcpy(w->p, data, len);
	w->p += len;
	w->left -= len;
	return true;
}

static bool put_option(struct writer *w, uint16_t type, const void *value, size_t len)
{
	return len <= UINT16_MAX && w->left >= 4 + len && put_u16(w, type) &&
	       put_u16(w, (uint16_t)len) && put_bytes(w, value, len);
}

static size_t addr_len(uint8_t family)
{
	return family == PC_AF_INET ? 4 : family == PC_AF_INET6 ? 16 : 0;
}

/* The invariant prefix of every version: magic, version, flags, nonce. */
static bool get_prefix(struct reader *r, uint8_t *version, uint8_t *flags, uint64_t *nonce)
{
	uint32_t magic;
	return get_u32(r, &magic) && magic == PC_CDSR_MAGIC && get_u8(r, version) &&
	       get_u8(r, flags) && get_u64(r, nonce);
}

/* Requests. */

static int request_option(struct pc_cdsr_request *out, uint16_t type, uint16_t len,
                          const uint8_t *value, bool *seen_family)
{
	switch (type) {
	case PC_CDSR_OPT_PREFER_CDN:
		if (out->prefer_cdn != NULL || len == 0)
			return PC_ESYNTAX;
		if (len > PC_CDSR_NAME_MAX)
			return PC_ERANGE;
		out->prefer_cdn = (const char *)value;
		out->prefer_cdn_len = len;
		return PC_OK;
	case PC_CDSR_OPT_AVOID_NAME:
	case PC_CDSR_OPT_AVOID_ADDR: {
		if (out->n_avoid >= PC_CDSR_MAX_AVOID)
			return PC_ERANGE;
		struct pc_cdsr_avoid *avoid = &out->avoid[out->n_avoid];
		memset(avoid, 0, sizeof(*avoid));
		if (type == PC_CDSR_OPT_AVOID_NAME) {
			if (len == 0)
				return PC_ESYNTAX;
			if (len > PC_CDSR_NAME_MAX)
				return PC_ERANGE;
			avoid->name = (const char *)value;
			avoid->name_len = len;
		} else {
			if (len != 4 && len != 16)
				return PC_ESYNTAX;
			avoid->addr.family = len == 4 ? PC_AF_INET : PC_AF_INET6;
			memcpy(avoid->addr.bytes, value, len);
		}
		out->n_avoid++;
		return PC_OK;
	}
	case PC_CDSR_OPT_FAMILY:
		if (*seen_family || len != 1)
			return PC_ESYNTAX;
		if (value[0] != PC_AF_NONE && value[0] != PC_AF_INET && value[0] != PC_AF_INET6)
			return PC_ESYNTAX;
		*seen_family = true;
		out->family = value[0];
		return PC_OK;
	default:
		return PC_OK; /* unknown: skipped (docs/cdsr.md §6) */
	}
}

int pc_cdsr_request_parse(const uint8_t *wire, size_t len, struct pc_cdsr_request *out)
{
	if (out == NULL)
		return PC_EINVAL;
	/* Every field but avoid[], whose entries are set as they are read
	 * (n_avoid of them): the struct is mostly that array. */
	out->version = out->flags = out->family = 0;
	out->nonce = 0;
	out->url = out->prefer_cdn = NULL;
	out->url_len = out->prefer_cdn_len = 0;
	out->n_avoid = 0;
	out->header_ok = false;
	if (wire == NULL && len > 0)
		return PC_EINVAL;
	out->len = len;
	struct reader r = {wire, len};
	uint16_t url_len, opts_len;
	const uint8_t *url, *opts;
	if (len >= PC_CDSR_REQUEST_MIN) {
		/* The fixed part, prefix and url_len, at its offsets under one
		 * bounds check: what the cursor reads, in the same order. */
		uint32_t magic;
		uint64_t nonce;
		memcpy(&magic, wire, 4);
		if (__builtin_bswap32(magic) != PC_CDSR_MAGIC)
			return PC_ESYNTAX;
		out->version = wire[PC_CDSR_OFF_VERSION];
		out->flags = wire[PC_CDSR_OFF_FLAGS];
		memcpy(&nonce, wire + PC_CDSR_OFF_NONCE, 8);
		out->nonce = __builtin_bswap64(nonce);
		r.p += 16;
		r.left -= 16;
	} else if (!get_prefix(&r, &out->version, &out->flags, &out->nonce)) {
		return PC_ESYNTAX;
	}
	if (out->flags & PC_CDSR_F_RESPONSE)
		return PC_ESYNTAX;
	out->header_ok = true;
	if (out->version != PC_CDSR_VERSION)
		return PC_ERANGE;
	if (len > PC_CDSR_REQUEST_MAX)
		return PC_ERANGE;

	if (len >= PC_CDSR_REQUEST_MIN)
		url_len = (uint16_t)(wire[14] << 8 | wire[15]);
	else if (!get_u16(&r, &url_len))
		return PC_ESYNTAX;
	if (!get_span(&r, url_len, &url))
		return PC_ESYNTAX;
	if (url_len == 0)
		return PC_ESYNTAX;
	if (url_len > PC_CDSR_URL_MAX)
		return PC_ERANGE;
	out->url = (const char *)url;
	out->url_len = url_len;
	if (!get_u16(&r, &opts_len) || !get_span(&r, opts_len, &opts))
		return PC_ESYNTAX;
	/* What is left is padding: its bytes are ignored. */
	struct reader o = {opts, opts_len};
	bool seen_family = false;
	while (o.left > 0) {
		uint16_t type, value_len;
		const uint8_t *value;
		if (!get_option(&o, &type, &value_len, &value))
			return PC_ESYNTAX;
		int rc = request_option(out, type, value_len, value, &seen_family);
		if (rc != PC_OK)
			return rc;
	}
	return PC_OK;
}

size_t pc_cdsr_pad_length(size_t len)
{
	size_t padded = len < PC_CDSR_PAD_MIN ? PC_CDSR_PAD_MIN : len;
	padded = (padded + PC_CDSR_PAD_BLOCK - 1) / PC_CDSR_PAD_BLOCK * PC_CDSR_PAD_BLOCK;
	if (padded > PC_CDSR_REQUEST_MAX)
		padded = PC_CDSR_REQUEST_MAX;
	return padded < len ? len : padded;
}

static size_t request_options_len(const struct pc_cdsr_request *req)
{
	size_t n = 0;
	if (req->prefer_cdn != NULL)
		n += 4 + (size_t)req->prefer_cdn_len;
	for (uint32_t i = 0; i < req->n_avoid; i++)
		n += 4 + (req->avoid[i].name != NULL ? (size_t)req->avoid[i].name_len
		                                     : addr_len(req->avoid[i].addr.family));
	if (req->family != PC_AF_NONE)
		n += 5;
	return n;
}

int pc_cdsr_request_write(const struct pc_cdsr_request *req, size_t pad_to, uint8_t *out,
                          size_t out_size)
{
	if (req == NULL || out == NULL || req->version != PC_CDSR_VERSION ||
	    (req->url == NULL && req->url_len > 0) || req->n_avoid > PC_CDSR_MAX_AVOID)
		return PC_EINVAL;
	if (req->family != PC_AF_NONE && req->family != PC_AF_INET && req->family != PC_AF_INET6)
		return PC_EINVAL;
	if (req->url_len == 0 || (req->prefer_cdn != NULL && req->prefer_cdn_len == 0))
		return PC_EINVAL;
	if (req->url_len > PC_CDSR_URL_MAX || req->prefer_cdn_len > PC_CDSR_NAME_MAX)
		return PC_ERANGE;
	for (uint32_t i = 0; i < req->n_avoid; i++) {
		const struct pc_cdsr_avoid *avoid = &req->avoid[i];
		if (avoid->name != NULL ? avoid->name_len == 0 : addr_len(avoid->addr.family) == 0)
			return PC_EINVAL;
		if (avoid->name != NULL && avoid->name_len > PC_CDSR_NAME_MAX)
			return PC_ERANGE;
	}
	size_t opts_len = request_options_len(req);
	size_t len = PC_CDSR_REQUEST_MIN + (size_t)req->url_len + opts_len;
	if (pad_to > len)
		len = pad_to;
	if (len > PC_CDSR_REQUEST_MAX)
		return PC_ERANGE;
	if (len > out_size)
		return PC_ESPACE;

	struct writer w = {out, out_size};
	bool ok = put_u32(&w, PC_CDSR_MAGIC) && put_u8(&w, req->version) &&
	          put_u8(&w, req->flags & (uint8_t)~PC_CDSR_F_RESPONSE) &&
	          put_u64(&w, req->nonce) && put_u16(&w, req->url_len) &&
	          put_bytes(&w, req->url, req->url_len) && put_u16(&w, (uint16_t)opts_len);
	if (ok && req->prefer_cdn != NULL)
		ok = put_option(&w, PC_CDSR_OPT_PREFER_CDN, req->prefer_cdn, req->prefer_cdn_len);
	for (uint32_t i = 0; ok && i < req->n_avoid; i++) {
		const struct pc_cdsr_avoid *avoid = &req->avoid[i];
		if (avoid->name != NULL)
			ok = put_option(&w, PC_CDSR_OPT_AVOID_NAME, avoid->name, avoid->name_len);
		else
			ok = put_option(&w, PC_CDSR_OPT_AVOID_ADDR, avoid->addr.bytes,
			                addr_len(avoid->addr.family));
	}
	if (ok && req->family != PC_AF_NONE)
		ok = put_option(&w, PC_CDSR_OPT_FAMILY, &req->family, 1);
	if (!ok)
		return PC_ESPACE;
	size_t written = out_size - w.left;
	memset(w.p, 0, len - written); /* padding */
	return (int)len;
}

/* Responses. */

/* Big-endian stores, each one swap and one store rather than a store
 * per byte: an answer writes a dozen of them. */
static void be16(uint8_t *p, uint16_t v)
{
	v = __builtin_bswap16(v);
	memcpy(p, &v, 2);
}

static void be32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static void be64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

/* The caller has checked that PC_CDSR_HEADER_LEN bytes fit. */
static void header_at(uint8_t *out, uint8_t version, uint64_t nonce, uint8_t status)
{
	be32(out, PC_CDSR_MAGIC);
	out[PC_CDSR_OFF_VERSION] = version;
	out[PC_CDSR_OFF_FLAGS] = PC_CDSR_F_RESPONSE;
	be64(out + PC_CDSR_OFF_NONCE, nonce);
	out[PC_CDSR_OFF_STATUS] = status;
	out[PC_CDSR_OFF_MAXVERSION] = PC_CDSR_VERSION;
}

/* The fixed body of an OK answer: validity ... address, and opts_len. */
static size_t body_len(const pc_addr *server)
{
	return 14 + addr_len(server->family) + 2;
}

int pc_cdsr_ok_begin(struct pc_cdsr_ok_writer *w, const struct pc_cdsr_response *resp, size_t limit,
                     uint8_t *out, size_t out_size)
{
	if (w == NULL || resp == NULL || out == NULL || resp->version == 0)
		return PC_EINVAL;
	size_t room = limit < out_size ? limit : out_size;
	if (room < PC_CDSR_HEADER_LEN)
		return PC_ESPACE;
	size_t alen = addr_len(resp->server.family);
	if (alen == 0 || resp->scheme < PC_CDSR_SCHEME_HTTP || resp->scheme > PC_CDSR_SCHEME_RTSP ||
	    resp->reuse > PC_CDSR_REUSE_PREFIX ||
	    (resp->reuse == PC_CDSR_REUSE_PREFIX && resp->reuse_prefix == NULL &&
	     resp->reuse_prefix_len > 0))
		return PC_EINVAL;
	*w = (struct pc_cdsr_ok_writer){.out = out, .room = room};
	size_t fixed = PC_CDSR_HEADER_LEN + body_len(&resp->server);
	if (room < fixed) {
		header_at(out, resp->version, resp->nonce, PC_CDSR_TOO_SMALL);
		w->used = PC_CDSR_HEADER_LEN;
		w->too_small = true;
		return PC_OK;
	}
	uint8_t reuse = resp->reuse;
	size_t prefix_len = resp->reuse_prefix_len;
	if (reuse == PC_CDSR_REUSE_PREFIX && 4 + prefix_len > room - fixed)
		reuse = PC_CDSR_REUSE_URL; /* narrower is always safe */
	header_at(out, resp->version, resp->nonce, PC_CDSR_OK);
	uint8_t *body = out + PC_CDSR_HEADER_LEN;
	be32(body, resp->validity_s);
	be32(body + 4, resp->reason_flags);
	body[8] = resp->branch;
	body[9] = reuse;
	body[10] = resp->scheme;
	body[11] = resp->server.family;
	be16(body + 12, resp->port);
	if (alen == 4) /* a constant length: two moves, not a call */
		memcpy(body + 14, resp->server.bytes, 4);
	else
		memcpy(body + 14, resp->server.bytes, 16);
	w->opts_at = fixed - 2;
	w->used = fixed;
	if (reuse == PC_CDSR_REUSE_PREFIX) {
		uint8_t *value = pc_cdsr_ok_option(w, PC_CDSR_OPT_REUSE_PREFIX, prefix_len);
		if (prefix_len > 0)
			memcpy(value, resp->reuse_prefix, prefix_len);
	}
	return PC_OK;
}

uint8_t *pc_cdsr_ok_option(struct pc_cdsr_ok_writer *w, uint16_t type, size_t len)
{
	if (w->too_small || w->truncated || len > UINT16_MAX)
		return NULL;
	if (4 + len > w->room - w->used) {
		w->truncated = true; /* and no later option either: they go in order */
		return NULL;
	}
	uint8_t *p = w->out + w->used;
	be16(p, type);
	be16(p + 2, (uint16_t)len);
	w->used += 4 + len;
	return p + 4;
}

uint8_t *pc_cdsr_ok_reserve(struct pc_cdsr_ok_writer *w, size_t len)
{
	if (w->too_small || w->truncated || len > w->room - w->used)
		return NULL;
	uint8_t *p = w->out + w->used;
	w->used += len;
	return p;
}

bool pc_cdsr_ok_options(struct pc_cdsr_ok_writer *w, const uint8_t *options, size_t len)
{
	uint8_t *p = pc_cdsr_ok_reserve(w, len);
	if (p == NULL)
		return false;
	memcpy(p, options, len);
	return true;
}

size_t pc_cdsr_ok_end(struct pc_cdsr_ok_writer *w)
{
	if (!w->too_small) {
		be16(w->out + w->opts_at, (uint16_t)(w->used - w->opts_at - 2));
		if (w->truncated)
			w->out[PC_CDSR_OFF_FLAGS] |= PC_CDSR_F_TRUNCATED;
	}
	return w->used;
}

int pc_cdsr_response_write(const struct pc_cdsr_response *resp, size_t limit, uint8_t *out,
                           size_t out_size)
{
	if (resp == NULL || out == NULL || resp->version == 0 ||
	    resp->status >= PC_CDSR__STATUS_COUNT)
		return PC_EINVAL;
	size_t room = limit < out_size ? limit : out_size;
	if (room < PC_CDSR_HEADER_LEN)
		return PC_ESPACE;
	if (resp->status != PC_CDSR_OK) {
		header_at(out, resp->version, resp->nonce, resp->status);
		return PC_CDSR_HEADER_LEN;
	}
	if (resp->n_hints > PC_CDSR_MAX_HINTS)
		return PC_EINVAL;
	for (uint32_t i = 0; i < resp->n_hints; i++) {
		const struct pc_cdsr_hint *hint = &resp->hints[i];
		if ((hint->kind != PC_CDSR_OPT_HINT_DOMAIN &&
		     hint->kind != PC_CDSR_OPT_HINT_PREFIX) ||
		    (hint->text == NULL && hint->len > 0))
			return PC_EINVAL;
	}
	struct pc_cdsr_ok_writer w;
	int rc = pc_cdsr_ok_begin(&w, resp, limit, out, out_size);
	if (rc != PC_OK)
		return rc;
	for (uint32_t i = 0; i < resp->n_hints; i++) {
		uint8_t *value = pc_cdsr_ok_option(&w, resp->hints[i].kind, resp->hints[i].len);
		if (value == NULL)
			break;
		if (resp->hints[i].len > 0)
			memcpy(value, resp->hints[i].text, resp->hints[i].len);
	}
	return (int)pc_cdsr_ok_end(&w);
}

int pc_cdsr_error_write(const uint8_t *request, size_t len, uint8_t status, uint8_t *out,
                        size_t out_size)
{
	if ((request == NULL && len > 0) || out == NULL || status == PC_CDSR_OK ||
	    status >= PC_CDSR__STATUS_COUNT)
		return PC_EINVAL;
	struct reader r = {request, len};
	uint8_t version, flags;
	uint64_t nonce;
	if (!get_prefix(&r, &version, &flags, &nonce) || (flags & PC_CDSR_F_RESPONSE))
		return PC_ESYNTAX;
	struct pc_cdsr_response resp = {
	    .version = version == PC_CDSR_VERSION ? version : PC_CDSR_VERSION,
	    .status = status,
	    .nonce = nonce,
	};
	return pc_cdsr_response_write(&resp, len, out, out_size);
}

static int response_option(struct pc_cdsr_response *out, uint16_t type, uint16_t len,
                           const uint8_t *value)
{
	switch (type) {
	case PC_CDSR_OPT_REUSE_PREFIX:
		if (out->reuse_prefix != NULL)
			return PC_ESYNTAX;
		out->reuse_prefix = (const char *)value;
		out->reuse_prefix_len = len;
		return PC_OK;
	case PC_CDSR_OPT_HINT_DOMAIN:
	case PC_CDSR_OPT_HINT_PREFIX:
		if (out->n_hints >= PC_CDSR_MAX_HINTS)
			return PC_ERANGE;
		out->hints[out->n_hints++] = (struct pc_cdsr_hint){
		    .kind = (uint8_t)type, .text = (const char *)value, .len = len};
		return PC_OK;
	default:
		return PC_OK;
	}
}

int pc_cdsr_response_parse(const uint8_t *wire, size_t len, struct pc_cdsr_response *out)
{
	if (out == NULL)
		return PC_EINVAL;
	memset(out, 0, sizeof(*out));
	if (wire == NULL && len > 0)
		return PC_EINVAL;
	struct reader r = {wire, len};
	if (!get_prefix(&r, &out->version, &out->flags, &out->nonce) ||
	    !(out->flags & PC_CDSR_F_RESPONSE) || !get_u8(&r, &out->status) ||
	    !get_u8(&r, &out->max_version))
		return PC_ESYNTAX;
	/* The header is the same in every version, so a version error from a
	 * newer responder is still understood. */
	if (out->status == PC_CDSR_UNSUPPORTED_VERSION)
		return r.left == 0 ? PC_OK : PC_ESYNTAX;
	if (out->version != PC_CDSR_VERSION)
		return PC_ERANGE;
	if (out->status != PC_CDSR_OK)
		return r.left == 0 ? PC_OK : PC_ESYNTAX;

	uint16_t port, opts_len;
	const uint8_t *address, *opts;
	if (!get_u32(&r, &out->validity_s) || !get_u32(&r, &out->reason_flags) ||
	    !get_u8(&r, &out->branch) || !get_u8(&r, &out->reuse) || !get_u8(&r, &out->scheme) ||
	    !get_u8(&r, &out->server.family) || !get_u16(&r, &port))
		return PC_ESYNTAX;
	out->port = port;
	size_t alen = addr_len(out->server.family);
	if (alen == 0 || out->scheme < PC_CDSR_SCHEME_HTTP || out->scheme > PC_CDSR_SCHEME_RTSP ||
	    out->reuse > PC_CDSR_REUSE_PREFIX || !get_span(&r, alen, &address))
		return PC_ESYNTAX;
	memcpy(out->server.bytes, address, alen);
	if (!get_u16(&r, &opts_len) || !get_span(&r, opts_len, &opts) || r.left != 0)
		return PC_ESYNTAX;
	struct reader o = {opts, opts_len};
	while (o.left > 0) {
		uint16_t type, value_len;
		const uint8_t *value;
		if (!get_option(&o, &type, &value_len, &value))
			return PC_ESYNTAX;
		int rc = response_option(out, type, value_len, value);
		if (rc != PC_OK)
			return rc;
	}
	if (out->reuse == PC_CDSR_REUSE_PREFIX && out->reuse_prefix == NULL)
		return PC_ESYNTAX;
	return PC_OK;
}
