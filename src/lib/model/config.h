/* config: loads a YAML federation description (docs/config.md) into a
 * pc_model. All or nothing: on any error no model is returned, and every
 * problem found is reported, each as "FILE:LINE:COL: message".
 * No I/O besides what the caller hands in: the loader reads a buffer; the
 * CLI and daemon read the file. */
#ifndef PC_LIB_CONFIG_H
#define PC_LIB_CONFIG_H

#include <stddef.h>

#include "lib/model/model.h"

/* Receives one diagnostic line (no trailing newline). */
typedef void (*pc_config_diag_fn)(void *ctx, const char *message);

/* Parses text (len bytes, need not be NUL-terminated). source names the
 * file in diagnostics. On success *out owns a finished model (free it with
 * pc_model_free) and 0 is returned; otherwise PC_ECONFIG (or PC_ENOMEM)
 * and every error went to diag (which may be NULL). */
int pc_config_load(const char *text, size_t len, const char *source, pc_config_diag_fn diag,
                   void *diag_ctx, pc_model **out);

/* Reads and loads the file at path (pc_file_read), or the embedded default
 * federation when path is NULL. Every problem, a file that cannot be read
 * included, goes to diag as one line. Returns the model or NULL. */
pc_model *pc_config_load_path(const char *path, pc_config_diag_fn diag, void *diag_ctx);

/* The embedded default federation (etc/peercdn.yaml). */
extern const char pc_default_config_yaml[];
extern const size_t pc_default_config_yaml_len;
#define PC_DEFAULT_CONFIG_NAME "<embedded default>"

#endif
