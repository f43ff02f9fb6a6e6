/* directory_settings: the "directory" section's keys, and the reading of
 * its entries: each a mapping of entry_items, read where it appears; once
 * the whole file is read (a provider may come after the section),
 * directory_verify ties every name to the provider whose directory host
 * it is under and every target to what it may name, then sorts the
 * entries for look-ups. Every error carries the entry's line. */
#include "lib/proto/directory_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base/err.h"
#include "lib/base/strmap.h"
#include "lib/model/config_reader.h"

const char *const pc_dir_mode_names[] = {"origin", "channel", "cascade", NULL};

/* ---- names, paths, URLs ---- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 §3.3 pchar, '%' aside: unreserved, sub-delims, ':' and '@'. */
static bool is_pchar(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL);
}

bool pc_directory_path_ok(const char *path, size_t len)
{
	if (len == 0)
		return false;
	size_t segment = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || path[i] == '/') {
			const char *s = path + i - segment;
			if (segment == 0 || (segment == 1 && s[0] == '.') ||
			    (segment == 2 && s[0] == '.' && s[1] == '.'))
				return false;
			segment = 0;
			continue;
		}
		if (path[i] == '%') {
			if (i + 2 >= len || !is_hex(path[i + 1]) || !is_hex(path[i + 2]))
				return false;
			i += 2;
			segment += 3;
			continue;
		}
		if (!is_pchar(path[i]))
			return false;
		segment++;
	}
	return true;
}

static bool host_name_ok(const char *host, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? host[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63)
				return false;
			label = 0;
		} else if (is_alnum(c) || c == '-' || c == '_') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static bool addr_ok(const char *text, size_t len)
{
	char copy[64];
	pc_addr addr;
	if (len == 0 || len >= sizeof(copy))
		return false;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return pc_addr_parse(copy, &addr) == PC_OK;
}

int pc_directory_url_split(const char *url, size_t len, unsigned schemes, struct pc_dir_url *out)
{
	static const char *const prefixes[] = {"http://", "rtsp://"};
	size_t at = 0;
	for (unsigned s = 0; s < 2 && at == 0; s++) {
		size_t n = strlen(prefixes[s]);
		if ((schemes >> s & 1) && len > n && strncasecmp(url, prefixes[s], n) == 0)
			at = n;
	}
	if (at == 0 || len > PC_DIR_MAX_TARGET)
		return PC_ESYNTAX;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f || url[i] == '#')
			return PC_ESYNTAX;
	size_t end = at;
	while (end < len && url[end] != '/' && url[end] != '?')
		end++;
	*out = (struct pc_dir_url){.path = url + end, .path_len = (uint32_t)(len - end)};
	if (end < len && url[end] == '?')
		return PC_ESYNTAX; /* a query needs a path before it */
	const char *auth = url + at;
	size_t auth_len = end - at, host_len = auth_len;
	if (memchr(auth, '@', auth_len) != NULL)
		return PC_ESYNTAX; /* user info: credentials do not belong in a directory */
	const char *host = auth;
	const char *colon = NULL;
	if (auth_len > 0 && auth[0] == '[') {
		const char *close = memchr(auth, ']', auth_len);
		if (close == NULL)
			return PC_ESYNTAX;
		host = auth + 1;
		host_len = (size_t)(close - host);
		if (close + 1 < auth + auth_len) {
			if (close[1] != ':')
				return PC_ESYNTAX;
			colon = close + 1;
		}
		if (memchr(host, ':', host_len) == NULL || !addr_ok(host, host_len))
			return PC_ESYNTAX;
		out->host_is_addr = true;
	} else {
		colon = memchr(auth, ':', auth_len);
		if (colon != NULL)
			host_len = (size_t)(colon - auth);
		out->host_is_addr = addr_ok(host, host_len);
		if (!out->host_is_addr && !host_name_ok(host, host_len))
			return PC_ESYNTAX;
	}
	if (colon != NULL) {
		const char *digits = colon + 1;
		size_t n = (size_t)(auth + auth_len - digits);
		uint32_t port = 0;
		for (size_t i = 0; i < n && port <= 65535; i++) {
			if (digits[i] < '0' || digits[i] > '9')
				return PC_ESYNTAX;
			port = port * 10 + (uint32_t)(digits[i] - '0');
		}
		if (n == 0 || port == 0 || port > 65535)
			return PC_ESYNTAX;
		out->port = (uint16_t)port;
	}
	out->host = host;
	out->host_len = (uint32_t)host_len;
	return PC_OK;
}

/* A provider's or CDN's name as a channel's first part. */
static bool owner_ok(const char *text, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(text[i]) && text[i] != '-' && text[i] != '_' && text[i] != '.')
			return false;
	return true;
}

bool pc_directory_channel_ok(const char *text, size_t len, size_t *owner_len)
{
	const char *slash = memchr(text, '/', len);
	if (slash == NULL || !owner_ok(text, (size_t)(slash - text)) || len > PC_DIR_MAX_TARGET)
		return false;
	*owner_len = (size_t)(slash - text);
	return pc_directory_path_ok(slash + 1, len - *owner_len - 1);
}

/* ---- reading an entry ---- */

/* name: "<host>/<path>" or a prefix "<host>/<path>/" or "<host>/". */
static void read_name(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_dir_entry *entry = target;
	if (!pc__want_scalar(rd, "a name"))
		return;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd);
	const char *slash = memchr(text, '/', len);
	size_t host_len = slash != NULL ? (size_t)(slash - text) : len;
	bool prefix = len > 0 && text[len - 1] == '/';
	size_t path_len = slash != NULL ? len - host_len - 1 : 0;
	if (prefix && path_len > 0)
		path_len--; /* the prefix's own '/' */
	const char *why = NULL;
	if (slash == NULL)
		why = "<directory host>/<name>";
	else if (len > PC_DIR_MAX_NAME)
		why = "at most 2048 bytes";
	else if (!host_name_ok(text, host_len))
		why = "its host is not a host name";
	else if (path_len > 0 ? !pc_directory_path_ok(slash + 1, path_len) : !prefix)
		why = "its path must be segments of letters, digits, `-._~!$&'()*+,;=:@` or "
		      "%-escapes, none empty, `.` or `..`";
	if (why != NULL) {
		pc__item_error(rd, "name %s: %s", pc__quote_n(rd, text, len), why);
		return;
	}
	char *name = pc__strndup(rd, text, len);
	if (name == NULL)
		return;
	for (size_t i = 0; i < host_len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	entry->name = name;
	entry->name_len = (uint32_t)len;
	entry->host_len = (uint32_t)host_len;
	entry->prefix = prefix;
}

/* origin, channel, cascade (arg: the mode): the target, in its form. */
static void read_target(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	struct pc_dir_entry *entry = target;
	if (!pc__want_scalar(rd, "a URL or channel"))
		return;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd), owner_len;
	struct pc_dir_url url;
	bool ok;
	const char *form;
	switch (item->arg) {
	case PC_DIR_ORIGIN:
		ok = pc_directory_url_split(text, len, PC_DIR_SCHEME_HTTP, &url) == PC_OK;
		form = "an absolute http URL without user info or fragment";
		break;
	case PC_DIR_CHANNEL:
		/* A prefix's channel ends in '/' (entry_done): "foo/live/" or
		 * all of an owner's, "foo/". */
		ok = pc_directory_channel_ok(text, len, &owner_len) ||
		     (len > 1 && text[len - 1] == '/' &&
		      (pc_directory_channel_ok(text, len - 1, &owner_len) ||
		       owner_ok(text, len - 1)));
		form = "<provider or CDN>/<channel name>";
		break;
	default:
		ok = pc_directory_url_split(text, len, PC_DIR_SCHEME_HTTP | PC_DIR_SCHEME_RTSP,
		                            &url) == PC_OK;
		form = "an absolute http or rtsp URL without user info or fragment";
		break;
	}
	if (!ok) {
		pc__item_error(rd, "%s: %s is not %s", rd->key, pc__quote_n(rd, text, len), form);
		return;
	}
	entry->target = pc__strndup(rd, text, len);
	entry->mode = (uint8_t)item->arg;
}

// clang-format off
#define TARGET(k, mode, type_doc, help)                                                            \
	PC_CUSTOM(k, 0, read_target, type_doc, help, .arg = mode)
static const struct pc_item entry_items[] = {
	PC_CUSTOM("name", PC_ITEM_REQUIRED, read_name, "`<directory host>/<name>`",
	          "under one of a provider's `directories`; ending in `/`, every name under it"),
	TARGET("origin",  PC_DIR_ORIGIN,  "http URL",
	       "the edge fetches this (a prefix's rest appended); its host is one of the "
	       "provider's `origins` or an address"),
	TARGET("channel", PC_DIR_CHANNEL, "`<provider or CDN>/<name>`", "an overlay channel"),
	TARGET("cascade", PC_DIR_CASCADE, "http or rtsp URL", "the provider's feed to cascade"),
	PC_UINT("ttl", pc_dir_entry, ttl_s, 0, PC_DIR_MAX_TTL, 60, "s",
	        "how long edges may keep the answer"),
	PC_END,
};
// clang-format on

/* Exactly one way to serve; a prefix's target ends in '/' so that the
 * rest of a name appended to it stays a path. */
static bool entry_done(struct pc_reader *rd, const yaml_mark_t *start, uint64_t seen,
                       const struct pc_dir_entry *entry)
{
	unsigned modes = 0;
	for (unsigned m = 0; m < PC_DIR__MODES; m++) {
		for (unsigned k = 0; entry_items[k].key != NULL; k++)
			if (entry_items[k].read == read_target && entry_items[k].arg == m)
				modes += seen >> k & 1;
	}
	if (modes != 1) {
		pc__error_at(rd, start, "%s: needs exactly one of origin, channel, cascade",
		             rd->label);
		return false;
	}
	if (entry->name == NULL || entry->target == NULL)
		return false; /* reported */
	bool slash = entry->target[strlen(entry->target) - 1] == '/';
	if (entry->prefix && !slash) {
		pc__error_at(rd, start, "%s: the %s of a prefix must end in '/'", rd->label,
		             pc_dir_mode_names[entry->mode]);
		return false;
	}
	if (!entry->prefix && slash && entry->mode == PC_DIR_CHANNEL) {
		pc__error_at(rd, start, "%s: only a prefix's channel ends in '/'", rd->label);
		return false;
	}
	return true;
}

/* entries: a list of mappings of entry_items. */
static void read_entries(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	struct pc_directory_params *dir = target;
	if (rd->pass == 1 || !pc__begin_list(rd)) {
		pc__skip_node(rd);
		return;
	}
	char outer[sizeof(rd->label)];
	memcpy(outer, rd->label, sizeof(outer));
	struct pc_vec entries = {0};
	uint32_t listed = 0;
	while (pc__next_item(rd, &listed, PC_DIR_MAX_ENTRIES)) {
		struct pc_dir_entry entry = {.provider = PC_NONE};
		pc_schema_apply_defaults(item->items, &entry);
		yaml_mark_t start = rd->ev.start_mark;
		entry.line = (uint32_t)start.line + 1;
		entry.column = (uint32_t)start.column + 1;
		snprintf(rd->label, sizeof(rd->label), "directory entry #%u", listed);
		uint64_t seen = 0;
		if (!pc__walk_map(rd, item->items, &entry, &seen) ||
		    !entry_done(rd, &start, seen, &entry))
			continue;
		struct pc_dir_entry *slot = pc__vec_push(rd, &entries, sizeof(entry));
		if (slot != NULL)
			*slot = entry;
	}
	memcpy(rd->label, outer, sizeof(outer));
	if (entries.n > 0) {
		struct pc_dir_entry *kept = pc__alloc(rd, entries.n * sizeof(*kept));
		if (kept != NULL) {
			memcpy(kept, entries.data, entries.n * sizeof(*kept));
			dir->entries = kept;
			dir->n_entries = (uint32_t)entries.n;
		}
	}
	free(entries.data);
}

// clang-format off
static const struct pc_item directory_items[] = {
	PC_STREAM_ROLE("directory", PC_DIR_PORT),
	PC_STREAM_LIMITS("request line and headers: 431"),
	PC__ITEM("entries", LIST, .items = entry_items, .read = read_entries,
	         .help = "the names the directory answers (docs/directory.md)"),
	PC_END,
};
// clang-format on

/* ---- against the whole file ---- */

static int entry_cmp(const void *a, const void *b)
{
	const struct pc_dir_entry *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);
	if (c != 0)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	/* Equal names: the first in the file first, so it is the one kept. */
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Each directory host names one provider (the loader checked that); a
 * map of them makes the check of every entry a look-up. */
static pc_strmap *directory_hosts(const pc_model *m, pc_arena *arena)
{
	size_t n = 0;
	for (uint32_t p = 0; p < m->n_providers; p++)
		n += m->providers[p].n_directory_hosts;
	pc_strmap *map = pc_strmap_new(arena, n ? n : 1);
	for (uint32_t p = 0; map != NULL && p < m->n_providers; p++)
		for (uint32_t h = 0; h < m->providers[p].n_directory_hosts; h++) {
			const char *host = m->providers[p].directory_hosts[h];
			pc_strmap_put(map, host, strlen(host), p);
		}
	return map;
}

static bool is_origin_of(const struct pc_provider *provider, const struct pc_dir_url *url)
{
	for (uint32_t h = 0; h < provider->n_origin_hosts; h++) {
		const char *host = provider->origin_hosts[h];
		if (strlen(host) == url->host_len &&
		    strncasecmp(host, url->host, url->host_len) == 0)
			return true;
	}
	return false;
}

static bool names_owner(const pc_model *m, const char *owner, size_t len)
{
	for (uint32_t p = 0; p < m->n_providers; p++)
		if (m->providers[p].name != NULL && strlen(m->providers[p].name) == len &&
		    memcmp(m->providers[p].name, owner, len) == 0)
			return true;
	for (uint32_t c = 0; c < m->n_cdns; c++)
		if (m->cdns[c].name != NULL && strlen(m->cdns[c].name) == len &&
		    memcmp(m->cdns[c].name, owner, len) == 0)
			return true;
	return false;
}

static void verify_entry(const struct pc_section_env *env, const pc_strmap *hosts,
                         struct pc_dir_entry *entry)
{
	const pc_model *m = env->model;
	if (!pc_strmap_get(hosts, entry->name, entry->host_len, &entry->provider)) {
		entry->provider = PC_NONE;
		pc_section_error(env, entry->line, entry->column,
		                 "directory entry \"%.*s\": %.*s is no provider's directory host",
		                 (int)(entry->name_len > 200 ? 200 : entry->name_len), entry->name,
		                 (int)entry->host_len, entry->name);
		return;
	}
	const struct pc_provider *provider = &m->providers[entry->provider];
	struct pc_dir_url url;
	size_t owner_len;
	size_t len = strlen(entry->target);
	if (entry->mode == PC_DIR_ORIGIN &&
	    pc_directory_url_split(entry->target, len, PC_DIR_SCHEME_HTTP, &url) == PC_OK &&
	    !url.host_is_addr && !is_origin_of(provider, &url))
		pc_section_error(env, entry->line, entry->column,
		                 "directory entry \"%.200s\": origin host %.*s is not one of "
		                 "provider \"%s\"'s origins (nor an address)",
		                 entry->name, (int)url.host_len, url.host, provider->name);
	owner_len = (size_t)(strchr(entry->target, '/') - entry->target);
	if (entry->mode == PC_DIR_CHANNEL && !names_owner(m, entry->target, owner_len))
		pc_section_error(
		    env, entry->line, entry->column,
		    "directory entry \"%.200s\": channel owner \"%.*s\" is no provider "
		    "or CDN",
		    entry->name, (int)owner_len, entry->target);
}

static void directory_verify(void *settings, const struct pc_section_env *env)
{
	struct pc_directory_params *dir = settings;
	if (dir->n_entries == 0)
		return;
	struct pc_dir_entry *entries = (struct pc_dir_entry *)dir->entries;
	pc_arena *scratch = pc_arena_new();
	pc_strmap *hosts = scratch != NULL ? directory_hosts(env->model, scratch) : NULL;
	if (hosts == NULL) {
		pc_arena_free(scratch);
		pc_section_error(env, 0, 0, "directory: out of memory");
		return;
	}
	for (uint32_t i = 0; i < dir->n_entries; i++)
		verify_entry(env, hosts, &entries[i]);
	pc_arena_free(scratch);
	if (dir->n_entries > 0)
		qsort(entries, dir->n_entries, sizeof(*entries), entry_cmp);
	for (uint32_t i = 1; i < dir->n_entries; i++)
		if (entries[i].name_len == entries[i - 1].name_len &&
		    memcmp(entries[i].name, entries[i - 1].name, entries[i].name_len) == 0)
			pc_section_error(
			    env, entries[i].line, entries[i].column,
			    "directory entry \"%.200s\": duplicate name (first at line "
			    "%u)",
			    entries[i].name, entries[i - 1].line);
}

const struct pc_section pc_directory_section =
    PC_SETTINGS("directory", pc_directory_params, directory_items, true,
                "the directory role of this node (docs/directory.md)", .verify = directory_verify);

const struct pc_directory_params *pc_directory_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_directory_section);
}
