/* directory: the directory's answers (docs/directory.md) — how a name
 * under a provider's directory host is served — on both sides: the
 * directory role writes them (pc_directory_respond, from the "directory"
 * section's entries), the edge reads them back (pc_directory_answer_parse)
 * and keeps each for its TTL. JSON through jansson (docs/dependencies.md).
 *
 * No I/O, no clock: the caller moves the bytes and gives the date. */
#ifndef PC_LIB_DIRECTORY_H
#define PC_LIB_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/buf.h"
#include "lib/proto/directory_settings.h"

/* The API's one path: GET /v1/names/<directory host>/<name...>. */
#define PC_DIR_API_PREFIX "/v1/names/"

/* The entry that serves name ("<host>/<path>", the host in any case): the
 * entry of that exact name, else the longest prefix entry name is under;
 * *rest_len gets the bytes of name after the prefix (0 for an exact
 * match), which are appended to the target. Returns NULL when none serves
 * it. name must have passed pc_directory_name_ok. */
const struct pc_dir_entry *pc_directory_find(const struct pc_directory_params *dir,
                                             const char *name, size_t len, size_t *rest_len);

/* Whether name is "<host name>/<path>" (pc_directory_path_ok) and at most
 * PC_DIR_MAX_NAME bytes: what may be asked for at all (else 400). */
bool pc_directory_name_ok(const char *name, size_t len);

/* The JSON of the answer for name: 200 with the entry's mode, target (a
 * prefix's rest appended) and TTL, 404 for a name no entry serves, 400
 * for a malformed name. Appends the body to out and returns the status,
 * with *ttl_s the entry's TTL (0 unless 200); 0 when memory ran out. */
unsigned pc_directory_answer(const struct pc_directory_params *dir, const char *name, size_t len,
                             struct pc_buf *out, uint32_t *ttl_s);

/* One request of the HTTP API, already parsed: its method, its target (a
 * path, origin form), and what the connection does after it. */
struct pc_dir_request {
	const char *method, *target;
	size_t method_len, target_len;
	bool close; /* the response ends the connection: "Connection: close" */
	/* The Date field (IMF-fixdate), or NULL for none (no clock). */
	const char *date;
};

/* The whole response to req appended to out (status line, fields, body
 * unless HEAD): 200 and 404 from pc_directory_answer with Cache-Control
 * (max-age=<ttl>; 404s max-age=<ttl of a 404>), 400 for a target that is
 * not /v1/names/<name> (a query included), 405 with Allow for a method
 * other than GET and HEAD. Returns the status, 0 when memory ran out (out
 * may then hold part of it). */
unsigned pc_directory_respond(const struct pc_directory_params *dir,
                              const struct pc_dir_request *req, struct pc_buf *out);

/* An error response of the API (400, 413, 414, 431, 505, ...) with a JSON
 * body {"error": "<reason phrase>"}; close says "Connection: close".
 * Returns status, 0 when memory ran out. */
unsigned pc_directory_error(unsigned status, bool close, const char *date, struct pc_buf *out);

/* How long a 404 may be cached (s): a name added to the config shows up
 * soon after a reload. */
enum { PC_DIR_NOT_FOUND_TTL = 10 };

/* ---- the edge's side ---- */

struct pc_dir_answer {
	uint8_t mode;   /* enum pc_dir_mode */
	uint32_t ttl_s; /* 0..PC_DIR_MAX_TTL */
	char name[PC_DIR_MAX_NAME + 1];
	char target[PC_DIR_MAX_TARGET + 1]; /* the URL, channel or feed, checked for its form */
};

/* Parses a 200 answer's body (json, len bytes, need not be NUL-terminated)
 * strictly: one JSON object, no duplicate key, "name" a name
 * (pc_directory_name_ok), "mode" one of pc_dir_mode_names, the mode's key
 * ("url", "channel" or "feed") a string in the mode's form
 * (directory_settings.h) and no other mode's key, "ttl" an integer
 * 0..PC_DIR_MAX_TTL. Other keys are ignored (later versions may add some).
 * Returns 0, PC_ESYNTAX (not JSON, a type, a field missing or malformed),
 * PC_ERANGE (a TTL out of range, a string too long, len over 64 KiB) or
 * PC_ENOMEM. */
int pc_directory_answer_parse(const char *json, size_t len, struct pc_dir_answer *out);

#endif
