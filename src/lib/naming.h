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
 * into the caller's input or into the result struct itself. */
#ifndef PC_LIB_NAMING_H
#define PC_LIB_NAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model.h"

#define PC_NAME_MAX 255 /* presentation form, without the trailing dot */
#define PC_SIG_PREFIX "s-"
#define PC_ENC_PREFIX "e-"
#define PC_SIG_BYTES 10 /* truncated HMAC-SHA256: 80 bits, 16 base32 chars */

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
 * 63, name over 255, a byte outside letters, digits, '-' and '_'),
 * PC_ENOZONE, PC_ENOCUSTOMER, PC_ENOSERVICE, PC_EDECRYPT.
 * A bad signature is not an error here: it is reported in out->signature
 * and the caller (DNS role) applies the provider's policy; see
 * pc_name_signature_ok(). */
int pc_name_parse(const pc_model *model, const char *name, size_t len, pc_name *out);

/* True when the provider's policy admits the name: signature valid, or
 * absent and the provider does not require one. */
bool pc_name_signature_ok(const pc_model *model, const pc_name *name);

enum pc_url_form {
	PC_URL_ORIGIN, /* http://foo.cdn.acme.net/www.foo.com/index.html */
	PC_URL_DIRECTORY, /* http://foo.cdn.acme.net/cdn.foo.com/Channel12 */
};

typedef struct pc_url {
	enum pc_scheme scheme;
	uint16_t port; /* explicit port, or 0 */
	enum pc_url_form form;
	pc_name name; /* from the host: cdn, provider, service, signature */
	const char *host; uint32_t host_len; /* points into the input */
	const char *content_host; uint32_t content_host_len; /* www.foo.com / cdn.foo.com */
	const char *path; uint32_t path_len; /* after the content host, with its '/'; may be empty */
	const char *query; uint32_t query_len; /* after '?', without it */
} pc_url;

/* Parses an absolute URL (http, https, rtsp). The service comes from a
 * codepoint label in the host, else from the first service whose schemes
 * include the URL's scheme, else the default service. The object is the
 * content host and path ("www.foo.com/index.html"). Fails with PC_ESYNTAX,
 * PC_ENOZONE, PC_ENOCUSTOMER, PC_ENOSERVICE, PC_ENOORIGIN (the first path
 * segment is none of the provider's origins or directories: the CDN must not
 * become an open proxy). */
int pc_url_parse(const pc_model *model, const char *url, size_t len, pc_url *out);

/* Name generation for providers (the CLI's `peercdnctl name`). Builds
 * "<object>.<service>.<customer>.<domain>", optionally encrypting the
 * object and service labels into "e-" labels (needs the provider's
 * encrypt key) and then adding an "s-" signature label in front (needs its
 * sign key). nonce: 8 random bytes for encryption (the caller supplies
 * them, so the library stays free of I/O). Writes a NUL-terminated name;
 * returns its length or a PC_E* code. */
int pc_name_make(const pc_model *model, uint32_t provider, uint32_t cdn, uint32_t service,
                 const char *object, bool sign, bool encrypt, const uint8_t nonce[8],
                 char *out, size_t out_size);

#endif
