/* cdsr: the wire codec of client-driven service rendezvous, the patent's §4
 * (docs/cdsr.md is the specification): one UDP request carrying a whole
 * URL, one reply naming the server, how long and for which URLs the answer
 * holds, and predictive hints.
 *
 * Pure: no I/O, no allocation, no globals. Parsers are total over any
 * input (they never read past len) and fill views that point into the
 * caller's buffer; writers never write past out_size. A response is never
 * larger than the request it answers (no amplification): the writer takes
 * the request's length as a limit and drops optional hints, then the whole
 * body, to stay within it. */
#ifndef PC_LIB_CDSR_H
#define PC_LIB_CDSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"

#define PC_CDSR_PORT        2554       /* the patent's §4.4 "well-known UDP port, say 2554" */
#define PC_CDSR_MAGIC       0x43445352 /* "CDSR" */
#define PC_CDSR_VERSION     1          /* the highest (and only) version spoken here */
#define PC_CDSR_REQUEST_MAX 1400       /* one packet on any path: no fragments to split anycast */
#define PC_CDSR_URL_MAX     4096       /* as PC_URL_MAX; the request limit binds first */
#define PC_CDSR_NAME_MAX    255        /* CDN and server names in preferences */
#define PC_CDSR_MAX_AVOID   8          /* as PC_MAX_AVOID */
#define PC_CDSR_MAX_HINTS   16
#define PC_CDSR_PAD_MIN     512 /* clients pad requests to at least this (docs/cdsr.md §5) */
#define PC_CDSR_PAD_BLOCK   128 /* ... and to a multiple of this */

/* Fixed sizes and offsets of version 1 (docs/cdsr.md §3-4). */
#define PC_CDSR_PREFIX_LEN     14 /* magic, version, flags, nonce: the same in every version */
#define PC_CDSR_HEADER_LEN     16 /* a response header: the prefix, status, max version */
#define PC_CDSR_REQUEST_MIN    18 /* header with url_len and opts_len, empty URL */
#define PC_CDSR_OFF_VERSION    4
#define PC_CDSR_OFF_FLAGS      5
#define PC_CDSR_OFF_NONCE      6
#define PC_CDSR_OFF_STATUS     14
#define PC_CDSR_OFF_MAXVERSION 15

/* Flags (byte 5). Unknown bits are sent as zero and ignored. */
enum pc_cdsr_flag {
	PC_CDSR_F_HINTS = 0x01,     /* request: predictive hints wanted */
	PC_CDSR_F_TRUNCATED = 0x40, /* response: hints were left out to fit the request's size */
	PC_CDSR_F_RESPONSE = 0x80,  /* set in every response, never in a request */
};

/* Response status (byte 14). */
enum pc_cdsr_status {
	PC_CDSR_OK = 0,
	PC_CDSR_BAD_REQUEST = 1,         /* malformed request, URL or preference */
	PC_CDSR_UNSUPPORTED_VERSION = 2, /* byte 15 holds the highest version supported */
	PC_CDSR_NO_SUCH_CONTENT = 3,   /* the URL names no configured provider, service or origin */
	PC_CDSR_NOT_AUTHORITATIVE = 4, /* the URL's host is under no CDN this node serves */
	PC_CDSR_NO_SERVER = 5,         /* policy allows no server now */
	PC_CDSR_SIGNATURE_REQUIRED = 6, /* the provider requires a valid signature label */
	PC_CDSR_TOO_SMALL = 7,          /* the answer does not fit the request: pad and retry */
	PC_CDSR_RATE_LIMITED = 8,       /* too many requests from this source: back off */
	PC_CDSR_SERVER_ERROR = 9,       /* the responder failed; try another node later */
	PC_CDSR__STATUS_COUNT,
	PC_CDSR_DROPPED = 0xff, /* not a wire value: no response was sent (counters only) */
};

/* "ok", "bad_request", ... "dropped"; "unknown" for other values. */
const char *pc_cdsr_status_name(unsigned status);

/* Wire values of the server's scheme (not enum pc_scheme's bits). */
enum pc_cdsr_scheme { PC_CDSR_SCHEME_HTTP = 1, PC_CDSR_SCHEME_HTTPS = 2, PC_CDSR_SCHEME_RTSP = 3 };

/* Reuse scope: which other URLs the client may send to the same server
 * while the answer is valid (§4.4: "all future content requests with the
 * same server component name"). */
enum pc_cdsr_reuse {
	PC_CDSR_REUSE_URL = 0,    /* this URL only */
	PC_CDSR_REUSE_HOST = 1,   /* same scheme, host and port */
	PC_CDSR_REUSE_PREFIX = 2, /* URLs starting with reuse_prefix */
};

/* Option (TLV) types; each message kind has its own number space. */
enum pc_cdsr_request_option {
	PC_CDSR_OPT_PREFER_CDN = 1, /* CDN name */
	PC_CDSR_OPT_AVOID_NAME = 2, /* server name */
	PC_CDSR_OPT_AVOID_ADDR = 3, /* server address: 4 or 16 bytes */
	PC_CDSR_OPT_FAMILY = 4,     /* 1 byte: 4 or 6 (0 = any) */
};
enum pc_cdsr_response_option {
	PC_CDSR_OPT_REUSE_PREFIX = 1, /* URL prefix for PC_CDSR_REUSE_PREFIX */
	PC_CDSR_OPT_HINT_DOMAIN = 2,  /* hosts under this domain are served by CDSR */
	PC_CDSR_OPT_HINT_PREFIX = 3,  /* URLs starting with this are served by CDSR */
};

struct pc_cdsr_avoid {
	const char *name; /* NULL for an address */
	uint16_t name_len;
	pc_addr addr; /* family PC_AF_NONE for a name */
};

/* A request. Parsing fills it with spans of the datagram; a client fills
 * it to write one. */
struct pc_cdsr_request {
	uint8_t version; /* PC_CDSR_VERSION to write */
	uint8_t flags;   /* enum pc_cdsr_flag */
	uint64_t nonce;
	const char *url; /* not NUL-terminated */
	uint16_t url_len;
	const char *prefer_cdn; /* NULL for none */
	uint16_t prefer_cdn_len;
	struct pc_cdsr_avoid avoid[PC_CDSR_MAX_AVOID]; /* parsed: only [0, n_avoid) is set */
	uint32_t n_avoid;
	uint8_t family; /* PC_AF_INET / PC_AF_INET6 wanted; PC_AF_NONE = any */
	/* Set by parsing only. */
	bool header_ok; /* prefix read, magic right, no response flag: an error may be sent */
	size_t len;     /* the datagram's length, padding included */
};

struct pc_cdsr_hint {
	uint8_t kind; /* PC_CDSR_OPT_HINT_DOMAIN or PC_CDSR_OPT_HINT_PREFIX */
	const char *text;
	uint16_t len;
};

/* A response. The body fields (validity ... hints) are used only with
 * status OK. */
struct pc_cdsr_response {
	uint8_t version;     /* PC_CDSR_VERSION */
	uint8_t max_version; /* parsed: byte 15; ignored when writing (PC_CDSR_VERSION) */
	uint8_t flags;       /* parsed; ignored when writing (RESPONSE, TRUNCATED computed) */
	uint8_t status;      /* enum pc_cdsr_status */
	uint64_t nonce;
	uint32_t validity_s;   /* seconds the answer may be used; 0 = this once */
	uint32_t reason_flags; /* enum pc_decision_flag bits */
	uint8_t branch;        /* enum pc_branch */
	uint8_t reuse;         /* enum pc_cdsr_reuse */
	uint8_t scheme;        /* enum pc_cdsr_scheme */
	uint16_t port;
	pc_addr server;
	const char *reuse_prefix; /* for PC_CDSR_REUSE_PREFIX */
	uint16_t reuse_prefix_len;
	struct pc_cdsr_hint hints[PC_CDSR_MAX_HINTS];
	uint32_t n_hints;
};

/* Parses a request datagram. Returns PC_OK, or:
 * PC_ESYNTAX  malformed (too short, bad magic, response flag, options that
 *             overrun, a duplicate PREFER_CDN or FAMILY, a bad family or
 *             address length, an empty URL or name, trailing option bytes);
 * PC_ERANGE   a version other than PC_CDSR_VERSION (out->version says
 *             which), a datagram over PC_CDSR_REQUEST_MAX, or a URL, name
 *             or avoid list over its limit;
 * PC_EINVAL   NULL wire (with len > 0) or out.
 * Whatever the result, out->header_ok tells whether the prefix was a
 * request's, so that an error can be answered with out->nonce; when it is
 * false the datagram must be dropped. Unknown options are skipped. */
int pc_cdsr_request_parse(const uint8_t *wire, size_t len, struct pc_cdsr_request *out);

/* Writes a request (for clients), padded with zero bytes to pad_to when
 * that is longer than the request itself (0: no padding). Returns the
 * length written, or PC_ERANGE (a field over its limit, or the result over
 * PC_CDSR_REQUEST_MAX), PC_ESPACE (out_size too small), PC_EINVAL (bad
 * version, family, avoid entry, or NULL pointers). */
int pc_cdsr_request_write(const struct pc_cdsr_request *req, size_t pad_to, uint8_t *out,
                          size_t out_size);

/* The length a client should pad a request of natural length len to:
 * at least PC_CDSR_PAD_MIN, a multiple of PC_CDSR_PAD_BLOCK, at most
 * PC_CDSR_REQUEST_MAX (and never less than len). */
size_t pc_cdsr_pad_length(size_t len);

/* Writes a response within limit bytes (the request's length) and
 * out_size. With status OK: the header and body, then as many hints as
 * fit, in order (TRUNCATED set when one was left out); a reuse prefix that
 * does not fit turns the scope into PC_CDSR_REUSE_URL; when even the body
 * does not fit, a TOO_SMALL header instead. Other statuses are a header
 * only. Returns the length written; the status actually sent is
 * out[PC_CDSR_OFF_STATUS]. Returns PC_ESPACE when not even a header fits
 * (the request must be dropped), PC_EINVAL for a bad family, scheme,
 * status or hint. */
int pc_cdsr_response_write(const struct pc_cdsr_response *resp, size_t limit, uint8_t *out,
                           size_t out_size);

/* An OK response written in place, for a responder that makes its hint
 * texts straight into the datagram instead of collecting them in a
 * pc_cdsr_response first (the same bytes pc_cdsr_response_write writes;
 * it is built on these). Fields are the writer's own. */
struct pc_cdsr_ok_writer {
	uint8_t *out;
	size_t room;    /* min(limit, out_size) */
	size_t used;    /* bytes written */
	size_t opts_at; /* where opts_len goes */
	bool too_small; /* the body did not fit: a TOO_SMALL header was written */
	bool truncated; /* an option did not fit: it and every later one left out */
};

/* Writes the header and body of an OK response from resp (its hints are
 * not read; its reuse prefix is written, or the scope narrowed to
 * PC_CDSR_REUSE_URL when it does not fit) within limit and out_size.
 * When even the body does not fit, a TOO_SMALL header is written instead
 * and every option is refused. Returns PC_OK, PC_ESPACE (not even a
 * header fits: drop the request) or PC_EINVAL (bad family, scheme or
 * reuse). */
int pc_cdsr_ok_begin(struct pc_cdsr_ok_writer *w, const struct pc_cdsr_response *resp, size_t limit,
                     uint8_t *out, size_t out_size);

/* Adds an option of len bytes (at most UINT16_MAX) and returns where its
 * value goes, for the caller to fill with exactly len bytes; or NULL when
 * it does not fit: the response is then TRUNCATED and every later option
 * is refused too, as hints are kept in order. */
uint8_t *pc_cdsr_ok_option(struct pc_cdsr_ok_writer *w, uint16_t type, size_t len);

/* Appends len bytes of options already in wire form when all of them fit;
 * false, with nothing written, when they do not (the caller then adds
 * them one by one, keeping those that fit) or an option was refused. */
bool pc_cdsr_ok_options(struct pc_cdsr_ok_writer *w, const uint8_t *options, size_t len);

/* pc_cdsr_ok_options for a caller that writes the len bytes of options in
 * wire form itself: where they go, or NULL, with nothing reserved, when
 * they do not all fit. */
uint8_t *pc_cdsr_ok_reserve(struct pc_cdsr_ok_writer *w, size_t len);

/* Writes opts_len and the TRUNCATED flag; returns the response's length. */
size_t pc_cdsr_ok_end(struct pc_cdsr_ok_writer *w);

/* Writes an error header (status other than OK) answering the raw request
 * datagram, within its length: what a responder sends for a request it
 * will not parse further (RATE_LIMITED) or could not (BAD_REQUEST,
 * UNSUPPORTED_VERSION). Returns PC_CDSR_HEADER_LEN, or PC_ESYNTAX when
 * the datagram is not a request to answer (drop it), PC_ESPACE, PC_EINVAL. */
int pc_cdsr_error_write(const uint8_t *request, size_t len, uint8_t status, uint8_t *out,
                        size_t out_size);

/* Parses a response (for clients). Returns PC_OK, PC_ESYNTAX (too short,
 * bad magic, no response flag, bad family or scheme, options that overrun
 * or bytes after them, a REUSE_PREFIX scope without its option), PC_ERANGE
 * (more than PC_CDSR_MAX_HINTS hints; a version other than
 * PC_CDSR_VERSION with status other than UNSUPPORTED_VERSION), PC_EINVAL.
 * The client must also check that out->nonce is the one it sent. Unknown
 * options are skipped. */
int pc_cdsr_response_parse(const uint8_t *wire, size_t len, struct pc_cdsr_response *out);

#endif
