/* health: the pure parts of the health role's probes (docs/health.md):
 * the hysteresis that turns probe results into a server's up or down
 * (rise successes in a row mark a down server up, fall failures in a row
 * mark an up server down), and the reading of an HTTP probe's status
 * line. No I/O and no clock: the daemon (node/health.c) dials, times and
 * feeds the results in. */
#ifndef PC_LIB_HEALTH_H
#define PC_LIB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One server's verdict and the run of results that may change it. */
struct pc_health_track {
	bool up;      /* the verdict; a new track is up, as the live state starts */
	uint32_t run; /* results in a row against the verdict */
};

/* What one result did to a track. */
enum pc_health_change {
	PC_HEALTH_SAME, /* the verdict stands */
	PC_HEALTH_WENT_DOWN,
	PC_HEALTH_WENT_UP,
};

/* A track that starts up. */
void pc_health_track_init(struct pc_health_track *track);

/* Feeds one probe result (ok: the server answered as a live one does)
 * into track. fall and rise are the results in a row that flip the
 * verdict (0 counts as 1). A result that agrees with the verdict resets
 * the run, so a flapping server keeps its verdict. */
enum pc_health_change pc_health_track_feed(struct pc_health_track *track, bool ok, uint32_t fall,
                                           uint32_t rise);

/* Reading an HTTP/1.x response's status line, "HTTP/1.1 200 OK\r\n",
 * from its first len bytes as they arrive. */
enum pc_health_status {
	PC_HEALTH_STATUS_MORE, /* no verdict yet: read more */
	PC_HEALTH_STATUS_OK,   /* *status is the code (100..599) */
	PC_HEALTH_STATUS_BAD,  /* not an HTTP/1.x status line */
};

/* The longest status line start a probe needs ("HTTP/1.1 200"): a
 * reader may stop once it has this many bytes. */
enum { PC_HEALTH_STATUS_NEED = 12 };

enum pc_health_status pc_health_status_parse(const uint8_t *in, size_t len, uint16_t *status);

/* Whether an HTTP probe's status says the server is up: a server that
 * answers anything but a server error (5xx) is serving. */
bool pc_health_status_up(uint16_t status);

/* Writes the probe's request, "GET <path> HTTP/1.1" with Host (host, as
 * given: an address with its port), Connection: close and a User-Agent,
 * into out (size bytes, NUL-terminated). Returns its length, or 0 when it
 * does not fit or path is not a plain origin-form path (it must start
 * with '/' and hold no control characters or spaces). */
size_t pc_health_request(const char *path, const char *host, char *out, size_t size);

#endif
