/* health: hysteresis of probe results and the HTTP probe's status line
 * (see health.h). */
#include "lib/proto/health.h"

#include <stdio.h>
#include <string.h>

void pc_health_track_init(struct pc_health_track *track)
{
	*track = (struct pc_health_track){.up = true, .run = 0};
}

enum pc_health_change pc_health_track_feed(struct pc_health_track *track, bool ok, uint32_t fall,
                                           uint32_t rise)
{
	if (ok == track->up) {
		track->run = 0;
		return PC_HEALTH_SAME;
	}
	uint32_t need = track->up ? fall : rise;
	if (need == 0)
		need = 1;
	if (track->run < UINT32_MAX)
		track->run++;
	if (track->run < need)
		return PC_HEALTH_SAME;
	track->up = ok;
	track->run = 0;
	return ok ? PC_HEALTH_WENT_UP : PC_HEALTH_WENT_DOWN;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9112 §4: status-line = HTTP-version SP status-code SP [reason-phrase];
 * HTTP-version = "HTTP/" DIGIT "." DIGIT. Only major version 1. */
enum pc_health_status pc_health_status_parse(const uint8_t *in, size_t len, uint16_t *status)
{
	static const char prefix[] = "HTTP/1.";
	for (size_t i = 0; i < len && i < PC_HEALTH_STATUS_NEED; i++) {
		uint8_t c = in[i];
		bool good;
		if (i < sizeof(prefix) - 1)
			good = c == (uint8_t)prefix[i];
		else if (i == 7)
			good = is_digit(c);
		else if (i == 8)
			good = c == ' ';
		else
			good = is_digit(c);
		if (!good)
			return PC_HEALTH_STATUS_BAD;
	}
	if (len < PC_HEALTH_STATUS_NEED)
		return PC_HEALTH_STATUS_MORE;
	uint16_t code = (uint16_t)((in[9] - '0') * 100 + (in[10] - '0') * 10 + (in[11] - '0'));
	/* RFC 9110 §15: a status code is three digits, 100..599 in use. */
	if (code < 100 || code > 599)
		return PC_HEALTH_STATUS_BAD;
	*status = code;
	return PC_HEALTH_STATUS_OK;
}

bool pc_health_status_up(uint16_t status)
{
	return status < 500;
}

size_t pc_health_request(const char *path, const char *host, char *out, size_t size)
{
	if (path == NULL || host == NULL || path[0] != '/' || size == 0)
		return 0;
	for (const char *p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	for (const char *p = host; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	int n = snprintf(out, size,
	                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: peercdn-health\r\n"
	                 "Connection: close\r\n\r\n",
	                 path, host);
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}
