/* naming: the content distribution naming system of the patent's §3.1.4 and
 * §3.2 (grammar in docs/naming.md).
 *
 * DNS names: <codepoint>.<cdn-domain>, where the codepoint's labels are
 * classified as service ("web", "tv" … from config), customer (a configured
 * provider), signature ("s-" + base32 truncated HMAC-SHA256), encrypted
 * codepoint ("e-" + base32 AEAD blob, possibly spread over several labels)
 * or object (anything else; objects are never configured one by one).
 *
 * URLs: scheme://<customer>[.<codepoint>].<cdn-domain>/<host>/<rest>, where
 * <host> is one of the provider's configured origins (origin embedded in
 * the path) or directories (directory indirection).
 *
 * Parsing never allocates and never crashes on any input; results point
 * into the caller's input or into the result struct itself. Nothing here
 * keeps state: every function may run on any thread over a shared model.
 * Signatures and encryption use libsodium: the program must call
 * sodium_init() once before the first pc_name_* or pc_url_* call. */
#ifndef PC_LIB_NAMING_H
#define PC_LIB_NAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"

#define PC_NAME_MAX   255 /* presentation form, without the trailing dot */
#define PC_SIG_PREFIX "s-"
#define PC_ENC_PREFIX "e-"
#define PC_SIG_BYTES  10   /* truncated HMAC-SHA256: 80 bits, 16 base32 chars */
#define PC_URL_MAX    4096 /* longest URL pc_url_parse accepts (PC_ERANGE) */

enum pc_sig_state {
	PC_SIG_ABSENT, /* no signature label */
	PC_SIG_VALID,
	PC_SIG_INVALID,
};

typedef struct pc_name {
	uint32_t cdn, provider, service; /* PC_NONE where absent */
	enum pc_sig_state signature;
	bool encrypted; /* the codepoint came from an "e-" label */
	/* Object: the unclassified labels joined by dots, lower case, in
	 * their original order ("ad102"); empty when there are none. */
	char object[PC_NAME_MAX + 1];
	uint32_t object_len;
} pc_name;

/* Parses a DNS name in presentation form (dots between labels, an optional
 * trailing dot, no escapes). Fails with PC_ESYNTAX (empty label, label over
 * 63, name over 255, a byte outside letters, digits, '-' and '_', an "s-"
 * label that is not the leftmost, "e-" labels that are not adjacent),
 * PC_ENOZONE, PC_ENOCUSTOMER, PC_ENOSERVICE, PC_EDECRYPT, PC_EINVAL (NULL
 * model or out). On failure *out is left partly filled: use only the
 * return code.
 * A bad signature is not an error here: it is reported in out->signature
 * and the caller (DNS role) applies the provider's policy; see
 * pc_name_signature_ok(). */
int pc_name_parse(const pc_model *model, const char *name, size_t len, pc_name *out);

/* Library-internal (url.c): pc_name_parse, except that with need_service
 * false a codepoint without a service label leaves out->service at PC_NONE
 * (instead of the default service or PC_ENOSERVICE), so a URL's scheme can
 * imply the service. */
int pc__name_parse(const pc_model *model, const char *name, size_t len, bool need_service,
                   pc_name *out);

/* True when the provider's policy admits the name: signature valid, or
 * absent and the provider does not require one. */
bool pc_name_signature_ok(const pc_model *model, const pc_name *name);

enum pc_url_form {
	PC_URL_ORIGIN,    /* http://foo.cdn.acme.net/www.foo.com/index.html */
	PC_URL_DIRECTORY, /* http://foo.cdn.acme.net/cdn.foo.com/Channel12 */
};

typedef struct pc_url {
	enum pc_scheme scheme;
	uint16_t port; /* explicit port, or 0 */
	enum pc_url_form form;
	/* From the host: cdn, provider, service, signature; object is the
	 * content host (lower case) and path: "www.foo.com/index.html". */
	pc_name name;
	/* Spans of the input (not NUL-terminated); a span absent from the
	 * URL has length 0 (query: NULL when there is no '?'). */
	const char *host; /* without the port */
	uint32_t host_len;
	const char *content_host; /* www.foo.com / cdn.foo.com */
	uint32_t content_host_len;
	const char *path; /* after the content host, with its '/'; may be empty */
	uint32_t path_len;
	const char *query; /* after '?', without it; fragment dropped */
	uint32_t query_len;
} pc_url;

/* Parses an absolute URL (http, https, rtsp). The service comes from a
 * codepoint label in the host, else from the first service whose schemes
 * include the URL's scheme, else the default service. The object is the
 * content host and path ("www.foo.com/index.html"). Fails with PC_ESYNTAX,
 * PC_ENOZONE, PC_ENOCUSTOMER, PC_ENOSERVICE, PC_ENOORIGIN (the first path
 * segment is none of the provider's origins or directories: the CDN must not
 * become an open proxy), PC_ERANGE (URL over PC_URL_MAX, or content host and
 * path together over PC_NAME_MAX, the size of pc_name.object). Every byte
 * must be one RFC 3986 allows, every '%' must start a %XX escape, and no
 * path segment may be "." or ".."; the fragment is dropped. The host's
 * codepoint may carry the customer, a service and a signature but no
 * object labels (PC_ESYNTAX): the object is in the path. */
int pc_url_parse(const pc_model *model, const char *url, size_t len, pc_url *out);

/* Library-internal: pc_url_parse with the host's name read from hosts
 * (lib/naming/hosts.h, the generation's table; NULL: the name walk). The
 * result is the same either way. */
struct pc_hosts;
int pc__url_parse_hosts(const pc_model *model, const struct pc_hosts *hosts, const char *url,
                        size_t len, pc_url *out);

/* Library-internal: pc_url_parse reading the URL a byte at a time, as on
 * a machine without SSE2; for the tests to compare the two against. */
int pc__url_parse_reference(const pc_model *model, const char *url, size_t len, pc_url *out);

/* Name generation for providers (the CLI's `peercdnctl name`). Builds
 * "<object>.<service>.<customer>.<domain>", optionally encrypting the
 * object and service labels into "e-" labels (needs the provider's
 * encrypt key) and then adding an "s-" signature label in front (needs its
 * sign key). nonce: 8 random bytes for encryption (the caller supplies
 * them, so the library stays free of I/O; NULL when not encrypting). The
 * object is one or more labels as pc_name_parse accepts them, none starting
 * with "s-" or "e-" (PC_ESYNTAX); it is written lower case. Writes a
 * NUL-terminated name; returns its length or PC_EINVAL (bad index, missing
 * key or nonce), PC_ERANGE (the name would exceed PC_NAME_MAX), PC_ESPACE
 * (out_size too small). */
int pc_name_make(const pc_model *model, uint32_t provider, uint32_t cdn, uint32_t service,
                 const char *object, bool sign, bool encrypt, const uint8_t nonce[8], char *out,
                 size_t out_size);

#endif
