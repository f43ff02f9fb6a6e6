/* config: loads a YAML federation description (docs/config.md) into a
 * pc_config: the federation model plus the settings of every daemon
 * section (dns, http, ...) the caller hands in. All or nothing: on any
 * error no config is returned, and every problem found is reported, each
 * as "FILE:LINE:COL: message".
 * No I/O besides what the caller hands in: the loader reads a buffer; the
 * CLI and daemon read the file (config_file.c). */
#ifndef PC_LIB_CONFIG_H
#define PC_LIB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"
#include "lib/model/schema.h"

/* Receives one diagnostic line (no trailing newline). */
typedef void (*pc_config_diag_fn)(void *ctx, const char *message);

struct pc_config_options {
	const char *source;    /* file name for diagnostics; NULL: "<config>" */
	const char *self_node; /* the node this is (peercdnd -n); NULL: the config's `self` */
	uint32_t load_time_s;  /* Unix seconds: the default dns.soa_serial; 0: none */
	/* The daemon sections the file may hold, NULL-terminated
	 * (pc_role_sections in lib/proto/sections.h); NULL: none. The names of
	 * those with anycast set are the keys of cdns[].anycast. */
	const struct pc_section *const *sections;
};

/* One load: the model and each section's settings, all in one arena. */
typedef struct pc_config pc_config;

/* Parses text (len bytes, need not be NUL-terminated). On success *out
 * owns the loaded config (free it with pc_config_free; it owns the model
 * and the settings) and 0 is returned; otherwise PC_ECONFIG (or PC_ENOMEM)
 * and every error went to diag (which may be NULL). opts may be NULL. */
int pc_config_load(const char *text, size_t len, const struct pc_config_options *opts,
                   pc_config_diag_fn diag, void *diag_ctx, pc_config **out);

/* Reads and loads the file at path (pc_file_read), or the embedded default
 * federation when path is NULL (opts->source is then ignored). Every
 * problem, a file that cannot be read included, goes to diag as one line.
 * Returns 0 or a negative code like pc_config_load. */
int pc_config_load_path(const char *path, const struct pc_config_options *opts,
                        pc_config_diag_fn diag, void *diag_ctx, pc_config **out);

void pc_config_free(pc_config *config); /* NULL is fine */

/* The federation; lives as long as the config. */
const pc_model *pc_config_model(const pc_config *config);

/* The settings struct a section was loaded into (its section->size bytes,
 * defaults filled in), or NULL when section was not among the load's. */
const void *pc_config_settings(const pc_config *config, const struct pc_section *section);

/* The embedded default federation (etc/peercdn.yaml). */
extern const char pc_default_config_yaml[];
extern const size_t pc_default_config_yaml_len;
#define PC_DEFAULT_CONFIG_NAME "<embedded default>"

#endif
