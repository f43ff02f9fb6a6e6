/* directory: answers from the sorted entries (directory_settings.c) and
 * their parsing back on the edge. A look-up is one binary search for the
 * exact name, then one per '/' of the name for the prefixes it is under,
 * longest first: no allocation but the answer's JSON. */
#include "lib/proto/http_msg.h"
#include "lib/proto/directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "lib/base/err.h"

enum { MAX_ANSWER_BYTES = 65536 };

/* The answer's key that holds each mode's target. */
static const char *const target_keys[PC_DIR__MODES] = {"url", "channel", "feed"};

static int name_cmp(const struct pc_dir_entry *entry, const char *name, size_t len)
{
	size_t n = entry->name_len < len ? entry->name_len : len;
	int c = memcmp(entry->name, name, n);
	if (c != 0)
		return c;
	return entry->name_len < len ? -1 : entry->name_len > len;
}

static const struct pc_dir_entry *search(const struct pc_directory_params *dir, const char *name,
                                         size_t len)
{
	uint32_t lo = 0, hi = dir->n_entries;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(&dir->entries[mid], name, len);
		if (c == 0)
			return &dir->entries[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool pc_directory_name_ok(const char *name, size_t len)
{
	const char *slash = memchr(name, '/', len);
	if (slash == NULL || slash == name || len > PC_DIR_MAX_NAME || slash - name > 253)
		return false;
	for (const char *p = name; p < slash; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return pc_directory_path_ok(slash + 1, len - (size_t)(slash - name) - 1);
}

const struct pc_dir_entry *pc_directory_find(const struct pc_directory_params *dir,
                                             const char *name, size_t len, size_t *rest_len)
{
	char key[PC_DIR_MAX_NAME];
	*rest_len = 0;
	if (dir == NULL || len == 0 || len > sizeof(key))
		return NULL;
	/* Entries hold the host in lower case; the path is compared as is. */
	memcpy(key, name, len);
	for (size_t i = 0; i < len && key[i] != '/'; i++)
		if (key[i] >= 'A' && key[i] <= 'Z')
			key[i] = (char)(key[i] - 'A' + 'a');
	const struct pc_dir_entry *entry = search(dir, key, len);
	if (entry != NULL && !entry->prefix)
		return entry;
	/* A prefix covers the names under it, never itself. */
	for (size_t end = len - 1; end > 0; end--) {
		if (key[end - 1] != '/')
			continue;
		entry = search(dir, key, end);
		if (entry != NULL && entry->prefix) {
			*rest_len = len - end;
			return entry;
		}
	}
	return NULL;
}

/* The JSON text of root appended to out; false when memory ran out. */
static bool append_json(json_t *root, struct pc_buf *out)
{
	if (root == NULL)
		return false;
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return false;
	bool ok = pc_buf_append(out, text, strlen(text)) && pc_buf_append(out, "\n", 1);
	free(text);
	return ok;
}

unsigned pc_directory_answer(const struct pc_directory_params *dir, const char *name, size_t len,
                             struct pc_buf *out, uint32_t *ttl_s)
{
	*ttl_s = 0;
	if (!pc_directory_name_ok(name, len))
		return append_json(json_pack("{s:s}", "error", "malformed name"), out) ? 400 : 0;
	size_t rest_len;
	const struct pc_dir_entry *entry = pc_directory_find(dir, name, len, &rest_len);
	if (entry == NULL)
		return append_json(
		           json_pack("{s:s, s:s%}", "error", "no such name", "name", name, len),
		           out)
		           ? 404
		           : 0;
	/* The target with the rest of the name under a prefix: both checked
	 * (a URL or channel path and a path), so the result is one too. */
	size_t target_len = strlen(entry->target);
	char target[PC_DIR_MAX_TARGET + PC_DIR_MAX_NAME];
	memcpy(target, entry->target, target_len);
	memcpy(target + target_len, name + len - rest_len, rest_len);
	json_t *root = json_pack("{s:s%, s:s, s:s%, s:I}", "name", name, len, "mode",
	                         pc_dir_mode_names[entry->mode], target_keys[entry->mode], target,
	                         target_len + rest_len, "ttl", (json_int_t)entry->ttl_s);
	if (!append_json(root, out))
		return 0;
	*ttl_s = entry->ttl_s;
	return 200;
}

/* ---- HTTP ---- */

/* Status line and fields; body_len bytes of JSON follow (or would, for
 * HEAD). */
static bool append_head(struct pc_buf *out, unsigned status, size_t body_len, long max_age,
                        bool close, const char *date)
{
	bool ok = pc_buf_printf(out, "HTTP/1.1 %u %s\r\n", status, pc_http_reason(status));
	if (date != NULL)
		ok = ok && pc_buf_printf(out, "Date: %s\r\n", date);
	if (status == 405)
		ok = ok && pc_buf_printf(out, "Allow: GET, HEAD\r\n");
	if (max_age >= 0)
		ok = ok && pc_buf_printf(out, "Cache-Control: max-age=%ld\r\n", max_age);
	else
		ok = ok && pc_buf_printf(out, "Cache-Control: no-store\r\n");
	return ok && pc_buf_printf(out,
	                           "Content-Type: application/json\r\n"
	                           "Content-Length: %zu\r\n%s\r\n",
	                           body_len, close ? "Connection: close\r\n" : "");
}

/* Appends head and body (body unless head_only) for a body built in
 * scratch. */
static unsigned finish(struct pc_buf *out, unsigned status, struct pc_buf *body, long max_age,
                       bool close, const char *date, bool head_only)
{
	bool ok = status != 0 && append_head(out, status, body->len, max_age, close, date) &&
	          (head_only || pc_buf_append(out, body->data, body->len));
	pc_buf_free(body);
	return ok ? status : 0;
}

unsigned pc_directory_error(unsigned status, bool close, const char *date, struct pc_buf *out)
{
	struct pc_buf body = {0};
	bool ok = append_json(json_pack("{s:s}", "error", pc_http_reason(status)), &body);
	return finish(out, ok ? status : 0, &body, -1, close, date, false);
}

static bool method_is(const struct pc_dir_request *req, const char *method)
{
	return req->method_len == strlen(method) &&
	       memcmp(req->method, method, req->method_len) == 0;
}

unsigned pc_directory_respond(const struct pc_directory_params *dir,
                              const struct pc_dir_request *req, struct pc_buf *out)
{
	bool head = method_is(req, "HEAD");
	if (!head && !method_is(req, "GET"))
		return pc_directory_error(405, req->close, req->date, out);
	size_t prefix = strlen(PC_DIR_API_PREFIX);
	if (req->target_len <= prefix || memcmp(req->target, PC_DIR_API_PREFIX, prefix) != 0 ||
	    memchr(req->target, '?', req->target_len) != NULL)
		return pc_directory_error(
		    req->target_len > prefix && memcmp(req->target, PC_DIR_API_PREFIX, prefix) == 0
		        ? 400
		        : 404,
		    req->close, req->date, out);
	struct pc_buf body = {0};
	uint32_t ttl;
	unsigned status =
	    pc_directory_answer(dir, req->target + prefix, req->target_len - prefix, &body, &ttl);
	long max_age = status == 200 ? (long)ttl : status == 404 ? PC_DIR_NOT_FOUND_TTL : -1;
	return finish(out, status, &body, max_age, req->close, req->date, head);
}

/* ---- the edge's side ---- */

/* A string member's value into out (size bytes with the NUL); PC_ESYNTAX
 * when missing, not a string or holding a NUL, PC_ERANGE when too long. */
static int get_string(json_t *root, const char *key, char *out, size_t size, size_t *len)
{
	json_t *value = json_object_get(root, key);
	if (!json_is_string(value))
		return PC_ESYNTAX;
	const char *text = json_string_value(value);
	*len = json_string_length(value);
	if (strlen(text) != *len)
		return PC_ESYNTAX;
	if (*len >= size)
		return PC_ERANGE;
	memcpy(out, text, *len + 1);
	return PC_OK;
}

static int parse_root(json_t *root, struct pc_dir_answer *out)
{
	if (!json_is_object(root))
		return PC_ESYNTAX;
	char mode[16];
	size_t len;
	int rc = get_string(root, "mode", mode, sizeof(mode), &len);
	if (rc != PC_OK)
		return PC_ESYNTAX;
	unsigned m = 0;
	while (m < PC_DIR__MODES && strcmp(mode, pc_dir_mode_names[m]) != 0)
		m++;
	if (m == PC_DIR__MODES)
		return PC_ESYNTAX;
	out->mode = (uint8_t)m;
	for (unsigned other = 0; other < PC_DIR__MODES; other++)
		if (other != m && json_object_get(root, target_keys[other]) != NULL)
			return PC_ESYNTAX; /* two ways to serve one name: which one? */

	if ((rc = get_string(root, "name", out->name, sizeof(out->name), &len)) != PC_OK)
		return rc;
	if (!pc_directory_name_ok(out->name, len))
		return PC_ESYNTAX;
	if ((rc = get_string(root, target_keys[m], out->target, sizeof(out->target), &len)) !=
	    PC_OK)
		return rc;
	struct pc_dir_url url;
	size_t owner_len;
	bool form_ok = m == PC_DIR_CHANNEL
	                   ? pc_directory_channel_ok(out->target, len, &owner_len)
	                   : pc_directory_url_split(out->target, len,
	                                            m == PC_DIR_ORIGIN
	                                                ? PC_DIR_SCHEME_HTTP
	                                                : PC_DIR_SCHEME_HTTP | PC_DIR_SCHEME_RTSP,
	                                            &url) == PC_OK;
	if (!form_ok)
		return PC_ESYNTAX;

	json_t *ttl = json_object_get(root, "ttl");
	if (!json_is_integer(ttl))
		return PC_ESYNTAX; /* 60.0 and "60" included: a TTL is a count of seconds */
	json_int_t seconds = json_integer_value(ttl);
	if (seconds < 0 || seconds > PC_DIR_MAX_TTL)
		return PC_ERANGE;
	out->ttl_s = (uint32_t)seconds;
	return PC_OK;
}

int pc_directory_answer_parse(const char *json, size_t len, struct pc_dir_answer *out)
{
	memset(out, 0, sizeof(*out));
	if (json == NULL || len > MAX_ANSWER_BYTES)
		return json == NULL ? PC_EINVAL : PC_ERANGE;
	json_error_t error;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &error);
	if (root == NULL)
		return json_error_code(&error) == json_error_out_of_memory ? PC_ENOMEM : PC_ESYNTAX;
	int rc = parse_root(root, out);
	json_decref(root);
	if (rc != PC_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}
