/* hosts: a table of a model's configured names — CDN domains, provider and
 * service labels — built once per config generation, so that a host name
 * (a DNS query name, a URL's host) finds its zone, customer and service in
 * a few hash probes instead of the suffix walk and label look-ups of
 * pc_name_parse.
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

/* pc_model_cdn_for_name(model, name, len, codepoint_len). */
uint32_t pc_hosts_zone(const pc_hosts *hosts, const char *name, size_t len, size_t *codepoint_len);

/* pc_name_parse(model, name, len, out). */
int pc_hosts_name_parse(const pc_hosts *hosts, const char *name, size_t len, pc_name *out);

/* Library-internal: pc__name_parse(model, name, len, need_service, out)
 * (a URL's host names no service: need_service false). */
int pc__hosts_name_parse(const pc_hosts *hosts, const char *name, size_t len, bool need_service,
                         pc_name *out);

#endif
