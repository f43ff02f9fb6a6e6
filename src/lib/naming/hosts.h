/* hosts: a table of a model's configured names — CDN domains, provider and
 * service labels — built once per config generation, so that a host name
 * (a DNS query name, a URL's host) finds its zone, customer and service in
 * a few hash probes instead of the suffix walk and label look-ups of
 * pc_name_parse.
 *
 * A redirector's URL host is nearly always a plain "<customer>.<domain>" or
 * "<service>.<customer>.<domain>": those are keys of their own, holding the
 * walk's answer taken at build time.
 *
 * Results are exactly pc_model_cdn_for_name's and pc_name_parse's for every
 * input: a name the table cannot settle on its own (a signature or an "e-"
 * label, a service that is not the label left of the customer, a byte
 * outside letters, digits, '-' and '_', an empty label) goes through those
 * functions. Immutable after pc_hosts_new: any number of threads may read
 * one table. */
#ifndef PC_LIB_HOSTS_H
#define PC_LIB_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"
#include "lib/naming/naming.h"

typedef struct pc_hosts pc_hosts;

/* Builds the table of model's names. The table keeps a pointer to model,
 * which must outlive it (both belong to one generation). Returns PC_OK or
 * PC_ENOMEM; PC_EINVAL for NULL arguments. */
int pc_hosts_new(const pc_model *model, pc_hosts **out);
void pc_hosts_free(pc_hosts *hosts); /* NULL is fine */

/* A plain name — labels of 1-63 letters, digits, '-' and '_' — split and
 * lower-cased once for the look-ups below. */
#define PC_HOST_LABELS_MAX (PC_NAME_MAX / 2 + 1)
struct pc_host_name {
	/* lower case, dots between labels, NUL-terminated; 7 bytes of slack
	 * so that a label can be read a whole word at a time */
	char text[PC_NAME_MAX + 8];
	size_t len;
	size_t n; /* labels */
	uint8_t start[PC_HOST_LABELS_MAX], label_len[PC_HOST_LABELS_MAX];
};

/* Splits a name in presentation form (no trailing dot). False when it is
 * not a plain one (out is then undefined). */
bool pc_host_name_split(const char *name, size_t len, struct pc_host_name *out);

/* Reads a DNS wire name without compression pointers from wire (at most
 * max bytes): false when it is the root, not plain, or runs past max;
 * else *wire_len is its length in wire form. */
bool pc_host_name_from_wire(const uint8_t *wire, size_t max, struct pc_host_name *out,
                            size_t *wire_len);

/* pc__name_parse(model, name->text, ...) on a split name, also giving what
 * pc_model_cdn_for_name gives for it whatever the result: *zone (PC_NONE:
 * none) and *codepoint_len. */
int pc_hosts_split_parse(const pc_hosts *hosts, const struct pc_host_name *name, bool need_service,
                         pc_name *out, uint32_t *zone, size_t *codepoint_len);

/* pc_model_cdn_for_name(model, name, len, codepoint_len). */
uint32_t pc_hosts_zone(const pc_hosts *hosts, const char *name, size_t len, size_t *codepoint_len);

/* pc_name_parse(model, name, len, out). */
int pc_hosts_name_parse(const pc_hosts *hosts, const char *name, size_t len, pc_name *out);

/* Library-internal: pc__name_parse(model, name, len, need_service, out)
 * (a URL's host names no service: need_service false). */
int pc__hosts_name_parse(const pc_hosts *hosts, const char *name, size_t len, bool need_service,
                         pc_name *out);

/* Library-internal: pc__name_parse(model, host, len, false, out) for a
 * URL's host — a plain "[<service>.]<customer>.<domain>" (any case) in one
 * probe of the whole host, anything else as pc__hosts_name_parse. */
int pc__hosts_url_name(const pc_hosts *hosts, const char *host, size_t len, pc_name *out);

/* Library-internal: a URL's first path segment, host (len bytes, any
 * case), among provider's content hosts: the host as configured, lower
 * case (len bytes, and at least 8 readable), with *form PC_URL_ORIGIN when
 * it is one of the provider's origin hosts, else PC_URL_DIRECTORY when one
 * of its directory hosts (compared as strncasecmp would); NULL when
 * neither. */
const char *pc__hosts_content_host(const pc_hosts *hosts, uint32_t provider, const char *host,
                                   size_t len, enum pc_url_form *form);

#endif
