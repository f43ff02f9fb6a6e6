/* buf: a growable byte buffer with one owner, for responses that are
 * written in pieces (HTTP and RTSP redirectors). */
#ifndef PC_LIB_BUF_H
#define PC_LIB_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct pc_buf {
	char *data;
	size_t len, cap;
};

/* Appends len bytes; false when memory runs out (the buffer is unchanged). */
bool pc_buf_append(struct pc_buf *buf, const void *bytes, size_t len);
/* Room for extra more bytes at data + len, len unchanged: for a writer
 * that encodes in place and then adds what it wrote to len. False when
 * memory runs out (the buffer is unchanged). */
bool pc_buf_reserve(struct pc_buf *buf, size_t extra);
/* Appends formatted text (no NUL kept); false when memory runs out. */
bool pc_buf_printf(struct pc_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void pc_buf_consume(struct pc_buf *buf, size_t n);
void pc_buf_free(struct pc_buf *buf);

#endif
