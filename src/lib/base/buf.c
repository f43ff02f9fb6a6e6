#include "lib/base/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pc_buf_reserve(struct pc_buf *buf, size_t extra)
{
	if (buf->cap - buf->len >= extra)
		return true;
	size_t cap = buf->cap ? buf->cap : 512;
	while (cap - buf->len < extra) {
		if (cap > SIZE_MAX / 2)
			return false;
		cap *= 2;
	}
	char *data = realloc(buf->data, cap);
	if (data == NULL)
		return false;
	buf->data = data;
	buf->cap = cap;
	return true;
}

bool pc_buf_append(struct pc_buf *buf, const void *bytes, size_t len)
{
	if (len == 0)
		return true;
	if (!pc_buf_reserve(buf, len))
		return false;
	memcpy(buf->data + buf->len, bytes, len);
	buf->len += len;
	return true;
}

bool pc_buf_printf(struct pc_buf *buf, const char *fmt, ...)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t room = buf->cap - buf->len;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(room ? buf->data + buf->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return false;
		if ((size_t)n < room) {
			buf->len += (size_t)n;
			return true;
		}
		if (!pc_buf_reserve(buf, (size_t)n + 1))
			return false;
	}
	return false;
}

void pc_buf_consume(struct pc_buf *buf, size_t n)
{
	if (n >= buf->len) {
		buf->len = 0;
		return;
	}
	memmove(buf->data, buf->data + n, buf->len - n);
	buf->len -= n;
}

void pc_buf_free(struct pc_buf *buf)
{
	free(buf->data);
	*buf = (struct pc_buf){0};
}
