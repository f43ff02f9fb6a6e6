/* redirect_hosts: the names of a model's plain URL hosts, parsed once at
 * load. A redirector's URL host is nearly always "<customer>.<CDN
 * domain>" or "<service>.<customer>.<CDN domain>"; the name walk
 * (pc__name_parse: labels split, the CDN by domain suffix, customer and
 * service looked up) costs about a thousand instructions per answer, a
 * look-up here about a tenth of that. Hosts that are not in the table
 * (signed or encrypted codepoints, object labels, anything unusual) are
 * walked as before: the table only remembers what the walk answered.
 * Immutable after pc_redirect_hosts_new: any number of threads may read. */
#ifndef PC_LIB_REDIRECT_HOSTS_H
#define PC_LIB_REDIRECT_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/model/model.h"
#include "lib/naming/naming.h"

typedef struct pc_redirect_hosts pc_redirect_hosts;

/* The table of model's plain hosts; it keeps no pointer into model. Returns
 * PC_OK or PC_ENOMEM; *out is freed with pc_redirect_hosts_free. */
int pc_redirect_hosts_new(const pc_model *model, pc_redirect_hosts **out);
void pc_redirect_hosts_free(pc_redirect_hosts *hosts); /* NULL is fine */

/* A pc_url_host_fn (arg: the table, NULL for none): fills out as
 * pc__name_parse(model, host, host_len, false, out) would, when host (any
 * ASCII case) is in the table. */
bool pc_redirect_hosts_find(const void *hosts, const char *host, size_t host_len, pc_name *out);

#endif
