/* config_file: reading a config file for the programs (peercdnd,
 * peercdnctl); the library itself only parses buffers. */
#ifndef PC_COMMON_CONFIG_FILE_H
#define PC_COMMON_CONFIG_FILE_H

#include "lib/config.h"

/* Loads path, or the embedded default federation when path is NULL. Every
 * problem, a file that cannot be read included, goes to diag as one line.
 * Returns the model or NULL. */
pc_model *pc_config_load_path(const char *path, pc_config_diag_fn diag, void *diag_ctx);

#endif
