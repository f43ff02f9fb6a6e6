/* live_rtsp: see live_rtsp.h.
 *
 * libavformat reads the RTSP session (demuxer "rtsp", interleaved over the
 * RTSP connection: no UDP ports to open or lose packets on) and writes
 * the same packets through its MPEG-TS muxer into an AVIOContext whose
 * write callback is the sink. An interrupt callback bounds every blocking
 * call by a deadline and by the caller's stop flag, so a silent server
 * costs at most LIVE_RTSP_TIMEOUT_MS and a stop is seen within libav's
 * poll slice (100 ms). */
#include "node/live_rtsp.h"

#include <libavformat/avformat.h>
#include <libavutil/time.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/base/err.h"
#include "node/log.h"

enum {
	TS_PACKET = 188,
	AVIO_BUFFER = 188 * 64, /* flushed after every media packet anyway */
	ANALYZE_US = 1000000,   /* of stream probed before the first packet out */
};

/* libav's last warning or error on this thread: the why of a failure
 * (av_strerror alone says "Invalid data" for a garbage reply). */
static _Thread_local char last_line[LIVE_RTSP_WHY_MAX];

struct pull {
	const atomic_bool *stop;
	int64_t deadline_us; /* av_gettime_relative() */
	bool timed_out;      /* the deadline interrupted a call */
	const struct live_rtsp_sink *sink;
	uint8_t partial[TS_PACKET]; /* a packet split across two writes */
	size_t partial_len;
};

/* text into out[0..cap), cut short when it is longer. */
static void copy_cut(char *out, size_t cap, const char *text)
{
	size_t n = strnlen(text, cap - 1);
	memcpy(out, text, n);
	out[n] = '\0';
}

/* Quotes, backslashes and control bytes become spaces: the text goes in
 * a quoted log value. Trailing spaces go. */
static void plain(char *s)
{
	size_t n = 0;
	for (char *p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
		n = *p != ' ' ? (size_t)(p - s) + 1 : n;
	}
	s[n] = '\0';
}

/* libav logs at its warning level and worse reach the node's log as debug
 * events (a feed failing every second would otherwise flood it; the
 * cascade logs the failure once, with the last of these lines). */
static void av_log_to_node(void *avcl, int level, const char *fmt, va_list vl)
{
	if (level > AV_LOG_WARNING)
		return;
	char line[256];
	int prefix = 1;
	va_list copy;
	va_copy(copy, vl);
	av_log_format_line2(avcl, level, fmt, copy, line, sizeof(line), &prefix);
	va_end(copy);
	plain(line);
	if (line[0] == '\0')
		return;
	copy_cut(last_line, sizeof(last_line), line);
	pcd_log(PCD_LOG_DEBUG, "libav", "level=%d text=\"%s\"", level, line);
}

static pthread_once_t libav_once = PTHREAD_ONCE_INIT;

static void libav_init(void)
{
	av_log_set_level(AV_LOG_WARNING);
	av_log_set_callback(av_log_to_node);
	avformat_network_init();
}

static int interrupted(void *arg)
{
	struct pull *p = arg;
	if (atomic_load(p->stop))
		return 1;
	p->timed_out = av_gettime_relative() > p->deadline_us;
	return p->timed_out;
}

static void arm(struct pull *p)
{
	p->deadline_us = av_gettime_relative() + (int64_t)LIVE_RTSP_TIMEOUT_MS * 1000;
}

/* The muxer's output: handed on in whole packets. */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
static int write_ts(void *arg, const uint8_t *buf, int size)
#else
static int write_ts(void *arg, uint8_t *buf, int size)
#endif
{
	struct pull *p = arg;
	size_t len = (size_t)size;
	if (p->partial_len > 0) {
		size_t take = TS_PACKET - p->partial_len < len ? TS_PACKET - p->partial_len : len;
		memcpy(p->partial + p->partial_len, buf, take);
		p->partial_len += take;
		buf += take;
		len -= take;
		if (p->partial_len < TS_PACKET)
			return size;
		p->sink->ts(p->sink->ctx, p->partial, TS_PACKET);
		p->partial_len = 0;
	}
	size_t whole = len - len % TS_PACKET;
	if (whole > 0)
		p->sink->ts(p->sink->ctx, buf, whole);
	memcpy(p->partial, buf + whole, len - whole);
	p->partial_len = len - whole;
	return size;
}

static void say(const struct pull *p, char *why, const char *stage, int averr)
{
	char text[AV_ERROR_MAX_STRING_SIZE], all[512];
	av_strerror(averr, text, sizeof(text));
	if (p->timed_out)
		snprintf(all, sizeof(all), "%s: silent for %d ms", stage, LIVE_RTSP_TIMEOUT_MS);
	else if (last_line[0] != '\0')
		snprintf(all, sizeof(all), "%s: %s (%s)", stage, text, last_line);
	else
		snprintf(all, sizeof(all), "%s: %s", stage, text);
	plain(all);
	copy_cut(why, LIVE_RTSP_WHY_MAX, all);
}

/* The input: the session set up, its streams probed. */
static int open_input(const char *url, struct pull *p, AVFormatContext **in, char *why)
{
	*in = avformat_alloc_context();
	if (*in == NULL)
		return PC_ENOMEM;
	(*in)->interrupt_callback = (AVIOInterruptCB){interrupted, p};
	AVDictionary *opts = NULL;
	char timeout[24];
	snprintf(timeout, sizeof(timeout), "%d", LIVE_RTSP_TIMEOUT_MS * 1000); /* us */
	av_dict_set(&opts, "rtsp_transport", "tcp", 0);
	/* The socket I/O timeout: "stimeout" until libavformat 59 renamed it. */
	av_dict_set(&opts, LIBAVFORMAT_VERSION_MAJOR >= 59 ? "timeout" : "stimeout", timeout, 0);
	av_dict_set(&opts, "allowed_media_types", "video+audio", 0);
	/* A feed is RTSP interleaved on its TCP connection: nothing the server
	 * says (a redirect, an SDP naming other transports) may make the
	 * daemon open a file, an HTTP URL or another protocol. */
	av_dict_set(&opts, "protocol_whitelist", "rtsp,tcp", 0);
	av_dict_set_int(&opts, "analyzeduration", ANALYZE_US, 0);
	arm(p);
	int r = avformat_open_input(in, url, NULL, &opts); /* frees *in on failure */
	av_dict_free(&opts);
	if (r < 0) {
		say(p, why, "rtsp session", r);
		return PC_EIO;
	}
	arm(p);
	r = avformat_find_stream_info(*in, NULL);
	if (r < 0) {
		say(p, why, "probing the streams", r);
		return PC_EIO;
	}
	return 0;
}

/* The output: each audio and video stream of in copied, map[i] the
 * output stream of in's stream i or -1. */
static int open_output(AVFormatContext *in, struct pull *p, AVFormatContext **out, int *map,
                       bool *has_video, char *why)
{
	int r = avformat_alloc_output_context2(out, NULL, "mpegts", NULL);
	if (r < 0 || *out == NULL)
		return PC_ENOMEM;
	int n = 0;
	*has_video = false;
	for (unsigned i = 0; i < in->nb_streams; i++) {
		const AVCodecParameters *par = in->streams[i]->codecpar;
		map[i] = -1;
		if (par->codec_type != AVMEDIA_TYPE_VIDEO && par->codec_type != AVMEDIA_TYPE_AUDIO)
			continue;
		AVStream *os = avformat_new_stream(*out, NULL);
		if (os == NULL || avcodec_parameters_copy(os->codecpar, par) < 0)
			return PC_ENOMEM;
		os->codecpar->codec_tag = 0;
		os->time_base = in->streams[i]->time_base;
		*has_video |= par->codec_type == AVMEDIA_TYPE_VIDEO;
		map[i] = n++;
	}
	if (n == 0) {
		snprintf(why, LIVE_RTSP_WHY_MAX, "no audio or video stream");
		return PC_ENOTSUP;
	}
	uint8_t *buffer = av_malloc(AVIO_BUFFER);
	if (buffer == NULL)
		return PC_ENOMEM;
	(*out)->pb = avio_alloc_context(buffer, AVIO_BUFFER, 1, p, NULL, write_ts, NULL);
	if ((*out)->pb == NULL) {
		av_free(buffer);
		return PC_ENOMEM;
	}
	/* Each media packet goes out as it is muxed: no waiting for 12 KiB
	 * of a 100 kbit/s stream. */
	(*out)->flush_packets = 1;
	r = avformat_write_header(*out, NULL);
	if (r < 0) {
		say(p, why, "a stream the MPEG-TS muxer does not take", r);
		return PC_ENOTSUP;
	}
	return 0;
}

/* Copies packets until a stop, the end, a silence or an error. */
static int copy(AVFormatContext *in, AVFormatContext *out, struct pull *p, const int *map,
                unsigned n_map, bool has_video, char *why)
{
	AVPacket *pkt = av_packet_alloc();
	int64_t *last_dts = av_malloc_array(out->nb_streams, sizeof(*last_dts));
	int64_t next_tick = AV_NOPTS_VALUE; /* without video: the next keyframe call, us */
	int err = pkt != NULL && last_dts != NULL ? 0 : PC_ENOMEM;
	for (unsigned i = 0; err == 0 && i < out->nb_streams; i++)
		last_dts[i] = AV_NOPTS_VALUE;
	while (err == 0) {
		arm(p);
		int r = av_read_frame(in, pkt);
		if (r < 0) {
			if (!atomic_load(p->stop)) {
				say(p, why, r == AVERROR_EOF ? "the session ended" : "reading", r);
				err = PC_EIO;
			}
			break;
		}
		/* map covers the streams open_output saw: a demuxer may add
		 * streams later (AVFMTCTX_NOHEADER), and those are not copied. */
		int o = (unsigned)pkt->stream_index < n_map ? map[pkt->stream_index] : -1;
		if (o < 0) {
			av_packet_unref(pkt);
			continue;
		}
		const AVStream *is = in->streams[pkt->stream_index];
		if (is->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    (pkt->flags & AV_PKT_FLAG_KEY)) {
			p->sink->keyframe(p->sink->ctx);
		} else if (!has_video) {
			int64_t now = av_gettime_relative();
			if (next_tick == AV_NOPTS_VALUE || now >= next_tick) {
				next_tick = now + 1000000;
				p->sink->keyframe(p->sink->ctx);
			}
		}
		av_packet_rescale_ts(pkt, is->time_base, out->streams[o]->time_base);
		if (pkt->dts == AV_NOPTS_VALUE)
			pkt->dts = pkt->pts;
		/* libav's RTP depacketiser can hand over a stream's first packet
		 * (often its first key frame) before it has a timestamp; its
		 * streams start at 0, so that is where it goes rather than
		 * dropping a group of pictures. */
		if (pkt->dts == AV_NOPTS_VALUE)
			pkt->dts = last_dts[o] != AV_NOPTS_VALUE ? last_dts[o] + 1 : 0;
		if (pkt->pts == AV_NOPTS_VALUE)
			pkt->pts = pkt->dts;
		/* RTP timestamps can step back when the first RTCP sender report
		 * syncs the streams; the muxer refuses that, so nudge as ffmpeg
		 * does. */
		if (last_dts[o] != AV_NOPTS_VALUE && pkt->dts <= last_dts[o]) {
			int64_t shift = last_dts[o] + 1 - pkt->dts;
			pkt->dts += shift;
			if (pkt->pts != AV_NOPTS_VALUE)
				pkt->pts += shift;
		}
		if (pkt->pts < pkt->dts)
			pkt->pts = pkt->dts;
		last_dts[o] = pkt->dts;
		pkt->stream_index = o;
		pkt->pos = -1;
		r = av_write_frame(out, pkt);
		av_packet_unref(pkt);
		if (r < 0) {
			say(p, why, "muxing", r);
			err = PC_EIO;
		}
	}
	av_free(last_dts);
	av_packet_free(&pkt);
	return err;
}

int live_rtsp_pull(const char *url, const atomic_bool *stop, const struct live_rtsp_sink *sink,
                   char *why)
{
	pthread_once(&libav_once, libav_init);
	struct pull p = {.stop = stop, .sink = sink};
	AVFormatContext *in = NULL, *out = NULL;
	int *map = NULL;
	unsigned n_map = 0; /* in's streams when map was made */
	bool has_video = false;
	last_line[0] = '\0';
	snprintf(why, LIVE_RTSP_WHY_MAX, "out of memory");
	int err = open_input(url, &p, &in, why);
	if (err == 0) {
		n_map = in->nb_streams;
		map = av_malloc_array(n_map + 1, sizeof(*map));
		err = map != NULL ? 0 : PC_ENOMEM;
	}
	if (err == 0)
		err = open_output(in, &p, &out, map, &has_video, why);
	if (err == 0)
		err = copy(in, out, &p, map, n_map, has_video, why);
	if (atomic_load(stop))
		err = 0;
	/* No trailer: what the muxer still holds belongs to a stream that has
	 * ended either way. Freeing the context runs the muxer's deinit. */
	if (out != NULL) {
		AVIOContext *pb = out->pb;
		avformat_free_context(out);
		if (pb != NULL)
			av_freep(&pb->buffer);
		avio_context_free(&pb);
	}
	avformat_close_input(&in);
	av_free(map);
	return err;
}
