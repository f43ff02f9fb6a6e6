"""The cascade (issue 12 item 1, docs/live.md "The cascade"): a provider
serves its own live HLS (ffmpeg's HLS muxer with a sliding window, written
to files a python http.server serves); acme-n1, an injection point of abc's
CDN, holds the directory whose `cascade` entries name those feeds, pulls
the live one and injects it as a pushed stream would be; beta-n3's edge,
asking acme-n1's directory, plays it (ffprobe decodes frames) over HLS and
progressive MPEG-TS. A feed whose playlist is malformed and one that stops
changing are counted (cascade_failed, cascade_stalls), and nothing else is
disturbed: the live feed still plays and the daemon runs.

Every process is stopped by PID (the daemons fixture; ffmpeg and the
server here), every wait bounded."""
import functools
import http.server
import pathlib
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import free_port
from test_live import (EDGES, edge_url, frames, live, live_configs, pytestmark,  # noqa: F401
                       start, stop, wait_until)

PROVIDER = "127.0.0.1"


def provider_feed(root, seconds=90):
    """ffmpeg writes a live HLS window (1 s segments, 5 listed) to root/tv."""
    (root / "tv").mkdir()
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-b:v", "300k",
         "-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", "1", "-hls_list_size", "5",
         "-hls_flags", "delete_segments+temp_file", str(root / "tv" / "index.m3u8")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def provider_server(root, port):
    return subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", PROVIDER, "--directory", str(root),
         str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def freeze(live_dir, to):
    """Copies live_dir's playlist and its segments to `to` (tried again
    when ffmpeg deletes a segment between the two reads)."""
    for _ in range(10):
        text = (live_dir / "index.m3u8").read_text()
        try:
            for line in text.splitlines():
                if line and not line.startswith("#"):
                    (to / line).write_bytes((live_dir / line).read_bytes())
        except FileNotFoundError:
            continue
        (to / "index.m3u8").write_text(text)
        return
    raise AssertionError("no stable copy of the live window")


def test_cascade_pulls_and_plays(daemons, tmp_path):
    root = tmp_path / "provider"
    root.mkdir()
    # A malformed playlist; a stalled one is made below from the live one.
    (root / "bad").mkdir()
    (root / "bad" / "index.m3u8").write_text("#EXTM3U\n#EXTINF:x,\nbad0.ts\n")
    (root / "stuck").mkdir()
    port = free_port(PROVIDER)
    feed_url = f"http://{PROVIDER}:{port}"
    server = provider_server(root, port)
    encoder = provider_feed(root)
    try:
        configs = live_configs()
        dport = free_port(EDGES["acme-n1"])
        configs["acme-n1"]["directory"] = {
            "enabled": True, "listen": [EDGES["acme-n1"]], "port": dport,
            "entries": [{"name": "cdn.abc.com/tv.m3u8", "cascade": f"{feed_url}/tv/index.m3u8"},
                        {"name": "cdn.abc.com/tv", "cascade": f"{feed_url}/tv/index.m3u8"},
                        {"name": "cdn.abc.com/bad", "cascade": f"{feed_url}/bad/index.m3u8"},
                        {"name": "cdn.abc.com/stuck",
                         "cascade": f"{feed_url}/stuck/index.m3u8"}]}
        configs["beta-n3"]["edge"]["directories"] = [f"{EDGES['acme-n1']}:{dport}"]
        routers = start(daemons, configs)
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        wait_until(lambda: live(inject, "cascade_segments") >= 2, what="the feed pulled")
        for path in ("/cdn.abc.com/tv.m3u8", "/cdn.abc.com/tv"):
            got, err = [], ""
            for _ in range(3):  # bounded: the first request joins the channel
                got, err = frames(edge_url(beta, path))
                if "I" in got:
                    break
            assert "I" in got, (path, err)
        # the malformed feed: counted, retried, never injected
        wait_until(lambda: live(inject, "cascade_failed") >= 2, what="the bad feed counted")
        # a feed that stops changing: a copy of the live window, frozen
        freeze(root / "tv", root / "stuck")
        wait_until(lambda: live(inject, "cascade_stalls") >= 1, timeout=30,
                   what="the stalled feed counted")
        # nothing else disturbed
        got, err = frames(edge_url(beta, "/cdn.abc.com/tv.m3u8"))
        assert "I" in got, err
        assert inject.proc.poll() is None and beta.proc.poll() is None
    finally:
        stop(encoder)
        stop(server)


class _Misbehaving:
    """Two RTSP servers that are not: one answers every connection with
    garbage and closes it, one accepts and never answers. Threads in this
    process; close() stops them."""

    def __init__(self):
        self.garbage = socket.create_server((PROVIDER, 0))
        self.silent = socket.create_server((PROVIDER, 0))
        self.held = []
        self.closing = threading.Event()
        self.threads = [threading.Thread(target=self._serve, args=(s,), daemon=True)
                        for s in (self.garbage, self.silent)]
        for t in self.threads:
            t.start()

    def url(self, server, path):
        return f"rtsp://{PROVIDER}:{server.getsockname()[1]}{path}"

    def _serve(self, server):
        server.settimeout(0.2)
        while not self.closing.is_set():
            try:
                conn, _ = server.accept()
            except (socket.timeout, OSError):
                continue
            if server is self.silent:
                self.held.append(conn)  # read nothing, answer nothing
                continue
            with conn:
                try:
                    conn.sendall(b"SPAM/9.9 \x00\xff not rtsp at all\r\n\r\n" * 4)
                except OSError:
                    pass

    def close(self):
        self.closing.set()
        for t in self.threads:
            t.join(timeout=5)
        for s in [self.garbage, self.silent] + self.held:
            s.close()


def media_server(port):
    """GStreamer's RTSP server with H.264 and AAC on /tv, killed by PID."""
    proc = subprocess.Popen(
        [sys.executable, str(pathlib.Path(__file__).parent / "media_server.py"),
         "--address", PROVIDER, "--port", str(port), "--mount", "/tv", "--audio"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not line.startswith("ready"):
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    if not line.startswith("ready"):
        stop(proc)
        pytest.skip(f"the GStreamer RTSP server did not start: {line!r}")
    return proc


def codecs(url, timeout=30):
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-rw_timeout", "10000000", "-show_entries",
         "stream=codec_name", "-of", "csv=p=0", url],
        capture_output=True, text=True, timeout=timeout)
    return set(proc.stdout.split()), proc.stderr


def test_cascade_rtsp(daemons):
    """An rtsp:// feed (H.264 + AAC over RTP, interleaved in the RTSP
    connection) remuxed to MPEG-TS and injected; a server that answers
    garbage and one that never answers are counted as failed and disturb
    nothing; the server killed mid-stream is a stall and the channel's
    stream ends; SIGTERM stops the node while a pull waits on the silent
    server."""
    port = free_port(PROVIDER)
    server = media_server(port)
    bad = _Misbehaving()
    try:
        configs = live_configs()
        dport = free_port(EDGES["acme-n1"])
        configs["acme-n1"]["directory"] = {
            "enabled": True, "listen": [EDGES["acme-n1"]], "port": dport,
            "entries": [{"name": "cdn.abc.com/tv", "cascade": f"rtsp://{PROVIDER}:{port}/tv"},
                        {"name": "cdn.abc.com/tv.m3u8",
                         "cascade": f"rtsp://{PROVIDER}:{port}/tv"},
                        {"name": "cdn.abc.com/junk", "cascade": bad.url(bad.garbage, "/junk")},
                        {"name": "cdn.abc.com/mute", "cascade": bad.url(bad.silent, "/mute")}]}
        configs["beta-n3"]["edge"]["directories"] = [f"{EDGES['acme-n1']}:{dport}"]
        routers = start(daemons, configs)
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        wait_until(lambda: live(inject, "cascade_segments") >= 2, what="the rtsp feed pulled")
        for path in ("/cdn.abc.com/tv.m3u8", "/cdn.abc.com/tv"):
            got, err = [], ""
            for _ in range(3):  # bounded: the first request joins the channel
                got, err = frames(edge_url(beta, path))
                if "I" in got:
                    break
            assert "I" in got, (path, err)
        # both streams copied, not just the picture
        names, err = codecs(edge_url(beta, "/cdn.abc.com/tv"))
        assert {"h264", "aac"} <= names, (names, err)
        # garbage and silence: failures counted (the silent one after its
        # 3 s timeout), retried, nothing injected from them
        wait_until(lambda: live(inject, "cascade_failed") >= 3, what="the bad feeds counted")
        assert 'stream=junk what="rtsp session' in inject.log(), inject.log()[-3000:]
        assert 'stream=mute what="rtsp session' in inject.log(), inject.log()[-3000:]
        assert live(inject, "cascade_stalls") == 0
        got, err = frames(edge_url(beta, "/cdn.abc.com/tv.m3u8"))
        assert "I" in got, err
        # the provider's server vanishes mid-stream: a stall, the stream ends
        ended = live(inject, "ingest_ended")
        stop(server)
        wait_until(lambda: live(inject, "cascade_stalls") >= 1, what="the stall counted")
        wait_until(lambda: live(inject, "ingest_ended") > ended, what="the stream ended")
        assert "live-cascade-stalled" in inject.log()
        # ...and its pull goes on failing (retried each second) while the
        # daemons run
        failed = live(inject, "cascade_failed")
        wait_until(lambda: live(inject, "cascade_failed") > failed, what="the pull retried")
        assert inject.proc.poll() is None and beta.proc.poll() is None
        # SIGTERM while a pull waits on the silent server: the node exits
        # cleanly (Daemon.stop fails the test on a timeout or a bad code)
        assert inject.stop() == 0, inject.log()[-3000:]
    finally:
        stop(server)
        bad.close()


class _ChunkedHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with Transfer-Encoding: chunked in uneven chunks (as
    nginx or a CDN origin may), and /broken/ with a malformed chunk."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = pathlib.Path(self.translate_path(self.path))
        broken = self.path.startswith("/broken/")
        try:
            body = b"#EXTM3U\n" if broken else path.read_bytes()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        if broken:
            self.wfile.write(b"8\r\n#EXTM3U\nzz\r\nnot a size\r\n0\r\n\r\n")
            return
        sizes, off = [1, 7, 188, 4096, 1000], 0
        while off < len(body):
            n = sizes[off % len(sizes)]
            self.wfile.write(b"%x;ext=1\r\n" % len(body[off:off + n]) + body[off:off + n] + b"\r\n")
            off += n
        self.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")
        self.close_connection = True


def test_cascade_chunked(daemons, tmp_path):
    """The provider's HTTP server answers playlists and segments chunked:
    the feed is pulled and plays; a malformed chunk is a failed fetch."""
    root = tmp_path / "provider"
    root.mkdir()
    handler = functools.partial(_ChunkedHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer((PROVIDER, 0), handler)
    feed_url = f"http://{PROVIDER}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    encoder = provider_feed(root)
    try:
        configs = live_configs()
        dport = free_port(EDGES["acme-n1"])
        configs["acme-n1"]["directory"] = {
            "enabled": True, "listen": [EDGES["acme-n1"]], "port": dport,
            "entries": [{"name": "cdn.abc.com/tv.m3u8", "cascade": f"{feed_url}/tv/index.m3u8"},
                        {"name": "cdn.abc.com/broken",
                         "cascade": f"{feed_url}/broken/index.m3u8"}]}
        configs["beta-n3"]["edge"]["directories"] = [f"{EDGES['acme-n1']}:{dport}"]
        routers = start(daemons, configs)
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        wait_until(lambda: live(inject, "cascade_segments") >= 2, what="the chunked feed pulled")
        got, err = [], ""
        for _ in range(3):  # bounded: the first request joins the channel
            got, err = frames(edge_url(beta, "/cdn.abc.com/tv.m3u8"))
            if "I" in got:
                break
        assert "I" in got, err
        wait_until(lambda: live(inject, "cascade_failed") >= 2, what="the malformed chunk counted")
        # the decoder's refusal (a parse error would name its fault)
        assert 'stream=broken what="playlist" err="malformed input"' in inject.log(), \
            inject.log()[-3000:]
        assert inject.proc.poll() is None and beta.proc.poll() is None
    finally:
        stop(encoder)
        server.shutdown()
        server.server_close()
