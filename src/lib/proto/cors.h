/* cors: CORS for the edge's live answers (the Fetch standard's "CORS
 * protocol", https://fetch.spec.whatwg.org/#http-cors-protocol): which
 * pages may read a provider's playlists, segments and progressive streams
 * (a browser player such as hls.js fetches them from a page of another
 * origin), and the fields of an answer and of a preflight. The policy is
 * per provider, edge.live.cors_origins ("<provider>=<origin>[,<origin>...]"):
 * a provider without an entry is readable from any page. No I/O. */
#ifndef PC_LIB_CORS_H
#define PC_LIB_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/base/buf.h"
#include "lib/model/schema.h"

/* What an answer tells the browser. */
enum pc_cors_allow {
	PC_CORS_ANY,    /* "Access-Control-Allow-Origin: *" */
	PC_CORS_ORIGIN, /* the request's Origin echoed, and "Vary: Origin" */
	PC_CORS_DENY,   /* no allow field (the page may not read it), "Vary: Origin" */
};

/* The policy of provider (its name) in list (edge.live.cors_origins) for a
 * request whose Origin field is origin[0..origin_len) (NULL: none, as from
 * ffmpeg or VLC). A provider with no entry, or with "*" in one, is ANY;
 * else an Origin the provider lists (compared without regard to case, as
 * scheme and host are) is ORIGIN, and anything else DENY. */
enum pc_cors_allow pc_cors_allow(const struct pc_text_list *list, const char *provider,
                                 const char *origin, size_t origin_len);

/* Appends the CORS fields of an answer under allow, each ending "\r\n";
 * origin is the request's, echoed for ORIGIN. False when memory runs
 * out. */
bool pc_cors_write(struct pc_buf *out, enum pc_cors_allow allow, const char *origin,
                   size_t origin_len);

/* Appends the fields of a preflight's 204 answer (an OPTIONS request with
 * Access-Control-Request-Method): those of pc_cors_write and, unless
 * DENY, the methods (GET, HEAD, OPTIONS), the request fields a player may
 * add (Range, and the cache's conditionals) and how long the browser may
 * keep the answer. */
bool pc_cors_write_preflight(struct pc_buf *out, enum pc_cors_allow allow, const char *origin,
                             size_t origin_len);

/* The check of one edge.live.cors_origins string: NULL when it is
 * PROVIDER=ORIGIN[,ORIGIN...], each ORIGIN "*" or a serialized origin
 * ("http" or "https", "://", a host, an optional ":port", nothing after);
 * else why not. */
const char *pc_cors_check(const char *text);

#endif
