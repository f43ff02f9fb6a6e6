/* hls: HLS media playlists (RFC 8216): a strict parser for live ingest,
 * where an encoder PUTs its playlist and segments (or a cascaded feed is
 * pulled), and the writer of the edge's live sliding-window playlist
 * (docs/live.md).
 *
 * The parser takes a media playlist of MPEG-TS segments with the tags
 * EXTM3U, EXT-X-VERSION, EXT-X-TARGETDURATION, EXT-X-MEDIA-SEQUENCE,
 * EXT-X-DISCONTINUITY-SEQUENCE, EXTINF, EXT-X-DISCONTINUITY,
 * EXT-X-ENDLIST, EXT-X-PLAYLIST-TYPE, EXT-X-PROGRAM-DATE-TIME and
 * EXT-X-INDEPENDENT-SEGMENTS; other EXT-X tags are ignored (§4.1) but for
 * those that would change what a segment is (encryption, byte ranges,
 * fMP4 maps), and a master playlist's, which are refused. Segment URIs
 * must be relative paths: [A-Za-z0-9._~-] segments joined by '/', none
 * empty, "." or "..", at most PC_HLS_URI_MAX bytes.
 *
 * Pure: no I/O, no allocation. Parsed URIs point into the caller's text. */
#ifndef PC_LIB_HLS_H
#define PC_LIB_HLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_HLS_URI_MAX      255
#define PC_HLS_PLAYLIST_MAX 65536   /* bytes of a playlist we parse */
#define PC_HLS_DURATION_MAX 3600000 /* ms: a longer EXTINF or target is refused */

struct pc_hls_segment {
	const char *uri; /* not NUL-terminated */
	size_t uri_len;
	uint32_t duration_ms; /* EXTINF, rounded to the nearest ms */
	uint64_t seq;         /* media sequence number */
	bool discontinuity;   /* EXT-X-DISCONTINUITY before it */
};

struct pc_hls_playlist {
	unsigned version;         /* EXT-X-VERSION, 1 when absent */
	uint32_t target_duration; /* s */
	uint64_t media_sequence;  /* of the first segment */
	uint64_t discontinuity_sequence;
	bool endlist;
	size_t n_segments; /* all of them; at most segs_cap are stored */
};

/* Where and why a playlist was refused. */
struct pc_hls_fault {
	unsigned line;   /* 1-based, 0 when the fault is not a line's */
	const char *why; /* static */
};

/* Parses text[0..len) (a media playlist) into *pl and segs[0..segs_cap).
 * Returns 0, PC_ESYNTAX (malformed: fault says where and why), PC_ENOTSUP
 * (a master playlist, encryption, byte ranges, fMP4), PC_ENOSPC (more
 * segments than segs_cap) or PC_ERANGE (longer than PC_HLS_PLAYLIST_MAX).
 * fault may be NULL. */
int pc_hls_parse(const char *text, size_t len, struct pc_hls_playlist *pl,
                 struct pc_hls_segment *segs, size_t segs_cap, struct pc_hls_fault *fault);

/* True if uri[0..len) is a segment URI the parser takes. */
bool pc_hls_uri_ok(const char *uri, size_t len);

/* The edge's live playlist over segs[0..n) (oldest first, consecutive
 * sequence numbers), of which the last window are listed. */
struct pc_hls_live {
	const struct pc_hls_segment *segs;
	size_t n;
	size_t window;                   /* segments listed, the most recent; 0: all */
	uint32_t target_min;             /* s: EXT-X-TARGETDURATION at least this, so it
	                                  * stays the same across reloads (§4.3.3.1) */
	uint64_t discontinuity_sequence; /* of segs[0] (§4.3.3.3) */
	bool ended;                      /* the stream ended: EXT-X-ENDLIST */
	/* Written before every listed URI, NULL or "" for none: an absolute
	 * path ending in '/', as "/<origin host>/live/", for a playlist that a
	 * player may have reached through another URL (a directory name) and
	 * so cannot resolve relative URIs against. '/', then URI segments
	 * each followed by '/'; at most PC_HLS_URI_MAX bytes. */
	const char *uri_prefix;
};

/* Writes the playlist (version 3; target duration the ceiling of the
 * longest listed segment in seconds, at least target_min; media sequence
 * of the first listed; discontinuity sequence counting the discontinuities
 * that slid out of the window; EXTINF with three decimals; each URI after
 * uri_prefix; no ENDLIST while live) to out[0..cap). Returns its length,
 * PC_ESPACE when cap is too small, or PC_EINVAL (no segment, a URI the
 * parser would refuse, a malformed uri_prefix, a duration over
 * PC_HLS_DURATION_MAX, sequence numbers not consecutive). */
int pc_hls_write_live(const struct pc_hls_live *live, char *out, size_t cap);

#endif
