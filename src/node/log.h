/* log: one line per event on stderr, "ts=... level=... msg=... key=value",
 * which journald stores as is and grep and awk can take apart. Values with
 * spaces or quotes are quoted by the caller's format (use %s only for
 * trusted words; pcd_log_quote for anything from the network). */
#ifndef PC_NODE_LOG_H
#define PC_NODE_LOG_H

#include <stddef.h>

enum pcd_log_level { PCD_LOG_DEBUG, PCD_LOG_INFO, PCD_LOG_WARNING, PCD_LOG_ERROR };

void pcd_log_set_level(enum pcd_log_level level);
/* msg is a short fixed event name ("started", "reload-rejected"); fmt adds
 * key=value pairs. */
void pcd_log(enum pcd_log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes text as a double-quoted value with ", \ and control bytes escaped. */
const char *pcd_log_quote(const char *text, char *buf, size_t size);

#endif
