#include "node/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static _Atomic int min_level = PCD_LOG_INFO;

void pcd_log_set_level(enum pcd_log_level level)
{
	atomic_store(&min_level, (int)level);
}

void pcd_log(enum pcd_log_level level, const char *msg, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warning", "error"};
	if ((int)level < atomic_load_explicit(&min_level, memory_order_relaxed))
		return;
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char line[2048];
	int n =
	    snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=%s",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	             ts.tv_nsec / 1000000, names[level], msg);
	if (fmt != NULL && fmt[0] != '\0' && n > 0 && (size_t)n < sizeof(line) - 1) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* One write per line, so lines of different threads never interleave. */
	fprintf(stderr, "%s\n", line);
}

const char *pcd_log_quote(const char *text, char *buf, size_t size)
{
	size_t n = 0;
	if (size < 3)
		return "\"\"";
	buf[n++] = '"';
	for (const char *p = text; *p != '\0' && n + 5 < size; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", ch);
		} else {
			buf[n++] = (char)ch;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}
