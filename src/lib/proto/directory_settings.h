/* directory_settings: the "directory" section (docs/config.md,
 * docs/directory.md): the directory role's listener and limits, and its
 * table of names. A name is `<directory host>/<path>` under one of a
 * provider's `directories:` (the patent's §3.3 indirect CDN URL,
 * http://foo.cdn.acme.net/cdn.foo.com/Channel12), and says how its content
 * is served: fetched from an origin URL, joined as an overlay channel, or
 * taken from a provider's cascaded feed. */
#ifndef PC_LIB_DIRECTORY_SETTINGS_H
#define PC_LIB_DIRECTORY_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/proto/stream_settings.h"

enum {
	PC_DIR_PORT = 8070,
	PC_DIR_MAX_TTL = 86400,       /* s: an answer is cached a day at most */
	PC_DIR_MAX_NAME = 2048,       /* bytes of a name, host and path */
	PC_DIR_MAX_TARGET = 4096,     /* bytes of a URL or channel, a prefix's rest included */
	PC_DIR_MAX_ENTRIES = 1 << 20, /* entries of one config */
};

/* How a name is served; the answer's "mode". */
enum pc_dir_mode {
	PC_DIR_ORIGIN,  /* the edge fetches target, an absolute http URL */
	PC_DIR_CHANNEL, /* target is an overlay channel, "<provider or CDN>/<name>" */
	PC_DIR_CASCADE, /* target is a provider's feed, an http or rtsp URL */
	PC_DIR__MODES,
};
/* "origin", "channel", "cascade"; NULL-terminated. */
extern const char *const pc_dir_mode_names[];

struct pc_dir_entry {
	const char *name;   /* "cdn.foo.com/Channel12": host lower-cased, path as written */
	const char *target; /* by mode; a prefix's ends in '/' */
	uint32_t name_len;
	uint32_t host_len;     /* of name, up to the first '/' */
	uint32_t ttl_s;        /* how long an answer may be cached */
	uint32_t provider;     /* whose directory host the name is under */
	uint8_t mode;          /* enum pc_dir_mode */
	bool prefix;           /* name ends in '/': it covers every name under it */
	uint32_t line, column; /* where it is in the config, for messages */
};

struct pc_directory_params {
	/* First, so the TCP roles' keys (PC_STREAM_*) fill it in place; its
	 * redirect_status is unused. */
	struct pc_stream_params stream;
	/* Sorted by name (bytes), so an exact name and each prefix of a
	 * name are found by binary search (pc_directory_find). */
	const struct pc_dir_entry *entries;
	uint32_t n_entries;
};

extern const struct pc_section pc_directory_section;

/* The settings of a config loaded with the section, or NULL. */
const struct pc_directory_params *pc_directory_settings(const pc_config *config);

/* ---- the rules a name and a target follow, shared with the answers ---- */

/* Whether path (after the host's '/', without a prefix's last '/') is
 * one a name may hold: segments of RFC 3986 pchar ('%' with two hex
 * digits), none empty, "." or "..", so what is appended to an origin URL
 * cannot climb out of the prefix. */
bool pc_directory_path_ok(const char *path, size_t len);

/* The parts of an absolute URL a directory hands out:
 * <scheme>://<host>[:<port>]<path>, path empty or starting with '/'. */
struct pc_dir_url {
	const char *host; /* an IPv6 literal without its brackets */
	const char *path;
	uint32_t host_len, path_len;
	uint16_t port; /* 0: the scheme's default */
	bool host_is_addr;
};
/* Splits url (len bytes) when its scheme is one of schemes (bit 0: http,
 * bit 1: rtsp) and it has no user info, no fragment, no space or control
 * byte, a host name or address, and a port of 1..65535. Returns 0 or
 * PC_ESYNTAX. */
enum { PC_DIR_SCHEME_HTTP = 1, PC_DIR_SCHEME_RTSP = 2 };
int pc_directory_url_split(const char *url, size_t len, unsigned schemes, struct pc_dir_url *out);

/* Whether text is a channel, "<provider or CDN>/<name>": a first part of
 * 1..63 letters, digits or hyphens, then a path (pc_directory_path_ok).
 * *owner_len gets the first part's length. */
bool pc_directory_channel_ok(const char *text, size_t len, size_t *owner_len);

#endif
