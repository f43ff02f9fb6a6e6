/* live_rtsp: one pull of an rtsp:// cascade feed (docs/live.md, "The
 * cascade"), remuxed to MPEG-TS for the cascade's segmenter. A provider's
 * RTSP server sends H.264/H.265 and AAC over RTP, not MPEG-TS: libavformat
 * is the RTSP/RTP/SDP client, the depacketisers and the TS muxer (docs/
 * dependencies.md says why). Streams are copied, never transcoded.
 *
 * Blocking, for the cascade's feed thread; the only module that includes
 * libav headers. */
#ifndef PC_NODE_LIVE_RTSP_H
#define PC_NODE_LIVE_RTSP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the TS goes; both on the pulling thread. */
struct live_rtsp_sink {
	void *ctx;
	/* Whole 188-byte packets, PAT and PMT repeated, a media packet's worth
	 * at a time (no waiting for a buffer to fill). */
	void (*ts)(void *ctx, const uint8_t *data, size_t len);
	/* A video key frame was read (each group of pictures; for a stream
	 * without video, each second of it). */
	void (*keyframe)(void *ctx);
};

enum {
	LIVE_RTSP_TIMEOUT_MS = 3000, /* a connect, a reply, or silence mid-stream */
	LIVE_RTSP_WHY_MAX = 160,
};

/* Pulls url (RTSP interleaved over TCP) into sink until *stop is set, the
 * server ends the session, or it is silent for LIVE_RTSP_TIMEOUT_MS.
 * Returns 0 when told to stop, else PC_EIO (no session, or it ended or
 * stalled), PC_ENOTSUP (no stream the TS muxer takes), PC_ENOMEM; why
 * (LIVE_RTSP_WHY_MAX bytes) gets a sentence of what failed, free of quotes
 * and control bytes. Every libav object is freed before it returns. */
int live_rtsp_pull(const char *url, const atomic_bool *stop, const struct live_rtsp_sink *sink,
                   char *why);

#endif
