/* log: one line per event on stderr, "ts=... level=... msg=... key=value",
 * which journald stores as is and grep and awk can take apart. Values with
 * spaces or quotes are quoted by the caller's format (use %s only for
 * trusted words; pc_log_quote for anything from the network). */
#ifndef PC_NODE_LOG_H
#define PC_NODE_LOG_H

#include <stddef.h>

enum pc_log_level { PC_LOG_DEBUG, PC_LOG_INFO, PC_LOG_WARNING, PC_LOG_ERROR };

void pc_log_set_level(enum pc_log_level level);
/* msg is a short fixed event name ("started", "reload-rejected"); fmt adds
 * key=value pairs. */
void pc_log(enum pc_log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes text as a double-quoted value with ", \ and control bytes escaped. */
const char *pc_log_quote(const char *text, char *buf, size_t size);

#endif
