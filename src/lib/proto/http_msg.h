/* http_msg: HTTP/1.1 message heads and body framing (RFC 9112), for the
 * edge server's requests from clients and responses from upstreams (origin
 * or parent), and the directory role. Strict where leniency lets two hops
 * disagree on where a message ends (request smuggling, response splitting):
 * bare LF, obsolete line folding, whitespace before a field's colon,
 * control bytes in a field, Content-Length with Transfer-Encoding,
 * differing Content-Lengths, a Transfer-Encoding whose last coding is not
 * chunked (requests), chunk sizes that overflow.
 *
 * A head is parsed in place: every span points into the caller's input,
 * which must stay put while the head is used. No I/O, no allocation, no
 * clock. */
#ifndef PC_LIB_HTTP_MSG_H
#define PC_LIB_HTTP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PC_HTTP_MAX_FIELDS = 100 };

struct pc_http_field {
	const char *name;  /* as received (compare case-insensitively) */
	const char *value; /* leading and trailing whitespace removed */
	uint32_t name_len, value_len;
};

struct pc_http_head {
	/* Request line (requests only). */
	const char *method;
	const char *target;
	uint32_t method_len, target_len;
	/* Status line (responses only). */
	unsigned status;
	const char *reason;
	uint32_t reason_len;
	uint8_t version_minor; /* HTTP/1.<minor>: 0 or 1 */
	unsigned n_fields;
	struct pc_http_field fields[PC_HTTP_MAX_FIELDS];
	size_t head_len; /* bytes of the head, the final CRLF CRLF included */
};

/* Parses the head at the start of in[0..len). Returns the head's length
 * (> 0) when a whole head is there; 0 when it is not complete yet and len
 * is under max; PC_ERANGE when no head ends within max bytes (431 / 502);
 * PC_ESYNTAX for anything malformed (400 / 502), PC_ENOSPC for more than
 * PC_HTTP_MAX_FIELDS fields (431), PC_ENOTSUP for a version other than
 * HTTP/1.0 or 1.1 (505). Empty lines before a request line are skipped
 * (RFC 9112 §2.2) and counted in the length. */
int pc_http_parse_request(const char *in, size_t len, size_t max, struct pc_http_head *out);
int pc_http_parse_response(const char *in, size_t len, size_t max, struct pc_http_head *out);

/* How a message's body is delimited (RFC 9112 §6.3). */
enum pc_http_framing {
	PC_HTTP_BODY_NONE,    /* no body */
	PC_HTTP_BODY_LENGTH,  /* Content-Length bytes (*length) */
	PC_HTTP_BODY_CHUNKED, /* chunked coding: pc_http_chunked */
	PC_HTTP_BODY_CLOSE,   /* until the connection closes (responses only) */
};

/* A request's body: PC_ESYNTAX for an invalid or conflicting
 * Content-Length, Content-Length with Transfer-Encoding, or a
 * Transfer-Encoding not ending in chunked (400); PC_ENOTSUP for a
 * Transfer-Encoding other than chunked (501). */
int pc_http_request_framing(const struct pc_http_head *head, enum pc_http_framing *framing,
                            uint64_t *length);
/* A response's body, given that the request was HEAD or not: 1xx, 204 and
 * 304 and answers to HEAD have none. PC_ESYNTAX as above (a response with
 * both Content-Length and Transfer-Encoding is refused, not repaired:
 * an upstream that sends it is broken or hostile); PC_ENOTSUP for any
 * transfer coding but chunked, which a proxy could not pass on (502). */
int pc_http_response_framing(const struct pc_http_head *head, bool head_request,
                             enum pc_http_framing *framing, uint64_t *length);

/* ---- fields ---- */

/* The first field named name (case-insensitive) at index >= from, or NULL. */
const struct pc_http_field *pc_http_field_find(const struct pc_http_head *head, const char *name,
                                               unsigned from);
/* Whether the comma-separated lists of every field named name contain an
 * element equal to token (case-insensitive, whitespace and empty elements
 * ignored; "no-cache=x" is not "no-cache": walk the list for those). */
bool pc_http_field_has_token(const struct pc_http_head *head, const char *name, const char *token);

/* Walks the elements of the comma-separated lists of every field named
 * name, in order; quoted strings are kept whole (commas inside do not
 * split). Init with pc_http_list_begin. */
struct pc_http_list {
	const struct pc_http_head *head;
	const char *name;
	unsigned field; /* index of the field being read */
	uint32_t pos;   /* offset in its value */
};
void pc_http_list_begin(struct pc_http_list *list, const struct pc_http_head *head,
                        const char *name);
/* The next non-empty element, trimmed; false at the end. */
bool pc_http_list_next(struct pc_http_list *list, const char **item, uint32_t *len);

/* Whether a field is hop-by-hop (RFC 9110 §7.6.1): Connection, Keep-Alive,
 * Proxy-Connection, TE, Transfer-Encoding, Upgrade, Proxy-Authenticate,
 * Proxy-Authorization, Trailer, and every field the head's Connection
 * names. A proxy neither forwards nor stores them. */
bool pc_http_field_is_hop(const struct pc_http_head *head, const struct pc_http_field *field);

/* The reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *pc_http_reason(unsigned status);

/* ---- dates (RFC 9110 §5.6.7) ---- */

/* An HTTP-date (IMF-fixdate, and the obsolete RFC 850 and asctime forms a
 * recipient must accept) as seconds since the epoch; -1 when invalid.
 * Dates before 1970 give 0 (long past). RFC 850's two-digit years 70..99
 * are 19xx, 00..69 20xx. Surrounding whitespace is ignored. */
int64_t pc_http_date_parse(const char *value, size_t len);
/* IMF-fixdate of t into out (30 bytes: 29 and the NUL); t is clamped to
 * 1970..9999. */
enum { PC_HTTP_DATE_SIZE = 30 };
void pc_http_date_format(int64_t t, char out[PC_HTTP_DATE_SIZE]);

/* ---- chunked bodies ---- */

struct pc_http_chunked {
	int state;          /* private */
	uint64_t remaining; /* private: bytes left in the current chunk */
	uint32_t line_len;  /* private: a chunk-size or trailer line's length so far */
};
void pc_http_chunked_init(struct pc_http_chunked *chunked);
/* Decodes in[0..len): consumes framing and at most one run of body bytes
 * per call. *consumed is how many input bytes were used; *data and
 * *data_len a span of body bytes within them (*data_len 0: none this
 * call). Returns 1 when the last chunk and trailers ended (the message is
 * complete: bytes after *consumed belong to the next message), 0 when it
 * needs more input (call again with the rest, then with more), PC_ESYNTAX
 * for a malformed size line, a missing CRLF after data, a size over 2^62,
 * or a chunk-ext or trailer line over 4 KiB. Trailers are read and
 * dropped. */
int pc_http_chunked_feed(struct pc_http_chunked *chunked, const char *in, size_t len,
                         size_t *consumed, const char **data, size_t *data_len);

#endif
