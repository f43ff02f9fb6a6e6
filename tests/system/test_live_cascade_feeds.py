"""The cascade's feed formats (issue 12 item 1, docs/live.md "The
cascade"): a provider's RTSP server (GStreamer's, media_server.py, sending
H.264 and AAC over RTP) and a provider's HTTP server that answers chunked.
acme-n1 holds the directory whose `cascade` entries name the feeds, pulls
them and injects them as a pushed stream; beta-n3's edge, asking acme-n1's
directory, plays them (ffprobe decodes frames).

- RTSP: played over HLS and progressive TS with both streams; a server that
  answers garbage and one that never answers are counted as failed
  (cascade_failed) and disturb nothing; the server falling silent
  mid-stream (SIGSTOP) is a stall (cascade_stalls) and the channel's
  stream ends, and when it wakes the feed is pulled again as a new
  stream; the server killed mid-stream is a stall too; the pull is tried
  again; SIGTERM while a pull waits on the silent server stops the node
  cleanly.
- Chunked: playlists and segments in uneven chunks with extensions and a
  trailer are pulled and played; a malformed chunk is a failed fetch.

Each feed is watched by a player while it is expected to be pulled, so the
tests hold whether the injection point pulls from start-up or only while
somebody watches. Every process is stopped by PID (the daemons fixture,
ffmpeg and the RTSP server here), the servers in this process are closed,
every wait bounded."""
import contextlib
import functools
import http.server
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import conftest
from conftest import free_port
from test_live import (EDGES, edge_url, live, live_configs, pytestmark,  # noqa: F401
                       start, stop, wait_until)
from test_live_cascade import FeedServer, plays, provider_feed

PROVIDER = "127.0.0.1"


@contextlib.contextmanager
def watching(d, path):
    """A progressive player at d's edge, read on a thread until the block
    ends (or the edge closes it)."""
    e = d.config["edge"]
    s = socket.create_connection((e["listen"][0], e["port"]), timeout=10)
    s.settimeout(0.5)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: e\r\n\r\n".encode())
    done = threading.Event()

    def reader():
        while not done.is_set():
            try:
                if not s.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join(timeout=10)
        s.close()


def directory_configs(entries):
    """test_live's routers; acme-n1 holds the directory with entries, which
    beta-n3's edge asks."""
    configs = live_configs()
    for name in EDGES:
        # A pull started by a player's arrival: no failover meanwhile.
        configs[name]["edge"]["live"]["failover_ms"] = 10000
    dport = free_port(EDGES["acme-n1"])
    configs["acme-n1"]["directory"] = {
        "enabled": True, "listen": [EDGES["acme-n1"]], "port": dport, "entries": entries}
    configs["beta-n3"]["edge"]["directories"] = [f"{EDGES['acme-n1']}:{dport}"]
    return configs


class Misbehaving:
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
        pytest.fail(f"the GStreamer RTSP server did not start: {line!r}")
    return proc


def codecs(url, timeout=30):
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-rw_timeout", "10000000", "-show_entries",
         "stream=codec_name", "-of", "csv=p=0", url],
        capture_output=True, text=True, timeout=timeout)
    return set(proc.stdout.split()), proc.stderr


def test_cascade_rtsp(daemons):
    port = free_port(PROVIDER)
    server = media_server(port)
    bad = Misbehaving()
    try:
        feed = f"rtsp://{PROVIDER}:{port}/tv"
        configs = directory_configs([
            {"name": "cdn.abc.com/tv", "cascade": feed},
            {"name": "cdn.abc.com/tv.m3u8", "cascade": feed},
            {"name": "cdn.abc.com/junk", "cascade": bad.url(bad.garbage, "/junk")},
            {"name": "cdn.abc.com/mute", "cascade": bad.url(bad.silent, "/mute")}])
        routers = start(daemons, configs)
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        with watching(beta, "/cdn.abc.com/tv"):
            wait_until(lambda: live(inject, "cascade_segments") >= 2,
                       what="the rtsp feed pulled")
            for path in ("/cdn.abc.com/tv.m3u8", "/cdn.abc.com/tv"):
                plays(beta, path)
            # both streams copied, not just the picture
            names, err = codecs(edge_url(beta, "/cdn.abc.com/tv"))
            assert {"h264", "aac"} <= names, (names, err)
            # garbage and silence: failures counted (the silent one after
            # its 3 s timeout), retried, nothing injected from them
            with watching(beta, "/cdn.abc.com/junk"), watching(beta, "/cdn.abc.com/mute"):
                wait_until(lambda: 'stream=mute what="rtsp session: silent' in inject.log(),
                           what="the silent server's failure logged")
                wait_until(lambda: live(inject, "cascade_failed") >= 3,
                           what="the bad feeds counted")
            assert 'stream=junk what="rtsp session' in inject.log(), inject.log()[-3000:]
            assert live(inject, "cascade_stalls") == 0
            plays(beta, "/cdn.abc.com/tv.m3u8")
            # the provider's server falls silent mid-stream (stopped): after
            # 3 s a stall, the stream ends; it wakes up: pulled again, a new
            # stream on the channel
            ended, started = live(inject, "ingest_ended"), live(inject, "ingest_started")
            os.kill(server.pid, signal.SIGSTOP)
            try:
                wait_until(lambda: live(inject, "cascade_stalls") >= 1, what="the silence a stall")
                wait_until(lambda: live(inject, "ingest_ended") > ended, what="the stream ended")
                assert 'stream=tv why="reading: silent for 3000 ms"' in inject.log()
            finally:
                os.kill(server.pid, signal.SIGCONT)
            wait_until(lambda: live(inject, "ingest_started") > started, what="pulled again")
            plays(beta, "/cdn.abc.com/tv.m3u8")
            # the provider's server vanishes mid-stream: a stall, the
            # stream ends
            ended = live(inject, "ingest_ended")
            stop(server)
            wait_until(lambda: live(inject, "cascade_stalls") >= 2, what="the stall counted")
            wait_until(lambda: live(inject, "ingest_ended") > ended, what="the stream ended")
            assert 'stream=tv why="the session ended' in inject.log()
        # ...and, watched again, its pull is tried again (and fails) while
        # the daemons run
        with watching(beta, "/cdn.abc.com/tv"):
            failed = live(inject, "cascade_failed")
            wait_until(lambda: live(inject, "cascade_failed") > failed, what="the pull retried")
        assert inject.proc.poll() is None and beta.proc.poll() is None
        # SIGTERM while a pull waits on the silent server: the node exits
        # cleanly (Daemon.stop fails the test on a timeout or a bad code)
        with watching(beta, "/cdn.abc.com/mute"):
            held = len(bad.held)
            wait_until(lambda: len(bad.held) > held, what="a pull waiting on the silent server")
            assert inject.stop() == 0, inject.log()[-3000:]
    finally:
        stop(server)
        bad.close()


class Redirecting:
    """An RTSP server that answers every request "302" to an rtsps:// URL
    (which libavformat would open over TLS) on a second listener, which
    records every connection made to it. Threads in this process; close()
    stops them."""

    def __init__(self):
        self.server = socket.create_server((PROVIDER, 0))
        self.target = socket.create_server((PROVIDER, 0))
        self.target_hits = []
        self.answered = 0
        self.closing = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self._serve, self._record)]
        for t in self.threads:
            t.start()

    def url(self, path):
        return f"rtsp://{PROVIDER}:{self.server.getsockname()[1]}{path}"

    def _serve(self):
        self.server.settimeout(0.2)
        location = f"rtsps://{PROVIDER}:{self.target.getsockname()[1]}/moved"
        while not self.closing.is_set():
            try:
                conn, _ = self.server.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(3)
                try:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        request += chunk
                    cseq = b"1"
                    for line in request.split(b"\r\n"):
                        if line.lower().startswith(b"cseq:"):
                            cseq = line.split(b":", 1)[1].strip()
                    conn.sendall(b"RTSP/1.0 302 Moved\r\nCSeq: " + cseq +
                                 f"\r\nLocation: {location}\r\n\r\n".encode())
                    self.answered += 1
                    conn.recv(1)  # the client closes, or the 3 s end it
                except OSError:
                    pass

    def _record(self):
        self.target.settimeout(0.2)
        while not self.closing.is_set():
            try:
                conn, _ = self.target.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.target_hits.append(conn.recv(16))
                except OSError as e:
                    self.target_hits.append(repr(e))

    def close(self):
        self.closing.set()
        for t in self.threads:
            t.join(timeout=5)
        self.server.close()
        self.target.close()


def test_cascade_rtsp_redirect_to_another_protocol_refused(daemons):
    """The feed's input accepts the rtsp and tcp protocols only (a8db324):
    a server that redirects the session to rtsps:// (TLS, which libavformat
    follows unasked) makes the pull fail, counted and logged, and nothing
    connects to the redirect's target. Without the whitelist libavformat
    opens it and sends a TLS ClientHello there."""
    moved = Redirecting()
    try:
        configs = directory_configs([{"name": "cdn.abc.com/moved", "cascade": moved.url("/m")}])
        routers = start(daemons, configs)
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        with watching(beta, "/cdn.abc.com/moved"):
            wait_until(lambda: moved.answered >= 2 or moved.target_hits,
                       what="the pull redirected, twice")
            assert moved.target_hits == [], moved.target_hits  # b"\x16\x03...": TLS
            wait_until(lambda: live(inject, "cascade_failed") >= 2,
                       what="the redirected pull failed, twice")
        log = inject.log()
        assert 'stream=moved what="rtsp session' in log, log[-3000:]
        assert "whitelist" in log, log[-3000:]
        assert moved.target_hits == [], moved.target_hits
        assert live(inject, "ingest_started") == 0
        assert inject.proc.poll() is None
    finally:
        moved.close()


RESOLVER = "127.77.0.53"  # a name server that reads queries and never answers


@pytest.fixture
def hung_resolver(tmp_path, monkeypatch):
    """acme-n1 started in a mount namespace of its own (`unshare -m`, root
    only) whose /etc/resolv.conf names RESOLVER, a UDP socket here that
    records each query's name and never answers: the daemon's getaddrinfo
    for any name waits out glibc's timeouts (15 s, twice). Yields the list
    of names asked."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m refused (needs root): {probe.stderr.decode().strip()}")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {RESOLVER}\noptions timeout:15 attempts:2\n")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((RESOLVER, 53))
    sock.settimeout(0.2)
    asked = []
    closing = threading.Event()

    def read():
        while not closing.is_set():
            try:
                query = sock.recv(4096)
            except (socket.timeout, OSError):
                continue
            labels, at = [], 12
            while at < len(query) and query[at] != 0:
                labels.append(query[at + 1:at + 1 + query[at]].decode("ascii", "replace"))
                at += 1 + query[at]
            asked.append(".".join(labels))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    plain = conftest.Daemon.command

    def command(self):
        args = plain(self)
        if self.name != "acme-n1":
            return args
        return ["unshare", "-m", "sh", "-c",
                f'mount --bind {resolv} /etc/resolv.conf && exec "$0" "$@"', *args]

    monkeypatch.setattr(conftest.Daemon, "command", command)
    try:
        yield asked
    finally:
        closing.set()
        thread.join(timeout=5)
        sock.close()


def test_cascade_feed_name_that_never_resolves(daemons, hung_resolver):
    """A feed whose host name the resolver never answers: each attempt is
    given up on after the feed's 3 s I/O timeout (counted as a failed
    fetch, logged) instead of glibc's 30 s, and the node stops at once on
    SIGTERM while a look-up hangs (worker 0 joins the feed's thread)."""
    configs = directory_configs([{"name": "cdn.abc.com/hang",
                                  "cascade": "http://feed.hang.test:8080/hang/live.m3u8"}])
    routers = start(daemons, configs)
    inject, beta = routers["acme-n1"], routers["beta-n3"]
    with watching(beta, "/cdn.abc.com/hang"):
        wait_until(lambda: any(n.startswith("feed.hang.test") for n in hung_resolver),
                   what="the feed's name asked")
        wait_until(lambda: live(inject, "cascade_failed") >= 1, timeout=10,
                   what="the look-up given up on (not after glibc's 30 s)")
        assert 'stream=hang what="playlist' in inject.log(), inject.log()[-3000:]
        # tried again, the same look-up still hanging: given up on again
        wait_until(lambda: live(inject, "cascade_failed") >= 2, timeout=10,
                   what="the second attempt given up on")
        started = time.monotonic()
        assert inject.stop(timeout=10) == 0, inject.log()[-3000:]
        assert time.monotonic() - started < 8


class ChunkedHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with Transfer-Encoding: chunked in uneven chunks (as
    nginx or a CDN origin may), and /broken/ with a malformed chunk."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        broken = self.path.startswith("/broken/")
        try:
            body = b"" if broken else pathlib.Path(self.translate_path(self.path)).read_bytes()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if broken:
            self.wfile.write(b"8\r\n#EXTM3U\nzz\r\nnot a size\r\n0\r\n\r\n")
            return
        sizes, off = [1, 7, 188, 4096, 1000], 0
        while off < len(body):
            piece = body[off:off + sizes[off % len(sizes)]]
            self.wfile.write(b"%x;ext=1\r\n" % len(piece) + piece + b"\r\n")
            off += len(piece)
        self.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")


def test_cascade_chunked(daemons, tmp_path):
    root = tmp_path / "provider"
    root.mkdir()
    handler = functools.partial(ChunkedHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer((PROVIDER, 0), handler)
    server.daemon_threads = True
    url = f"http://{PROVIDER}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    encoder = provider_feed(root)
    try:
        configs = directory_configs([
            {"name": "cdn.abc.com/tv.m3u8", "cascade": f"{url}/tv/index.m3u8"},
            {"name": "cdn.abc.com/tv", "cascade": f"{url}/tv/index.m3u8"},
            {"name": "cdn.abc.com/broken", "cascade": f"{url}/broken/index.m3u8"}])
        routers = start(daemons, configs)
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        with watching(beta, "/cdn.abc.com/tv"):
            wait_until(lambda: live(inject, "cascade_segments") >= 2,
                       what="the chunked feed pulled")
            plays(beta, "/cdn.abc.com/tv.m3u8")
        with watching(beta, "/cdn.abc.com/broken"):
            wait_until(lambda: live(inject, "cascade_failed") >= 2,
                       what="the malformed chunk counted")
        # the decoder's refusal (a parse error would name its fault)
        assert 'stream=broken what="playlist" err="malformed input"' in inject.log(), \
            inject.log()[-3000:]
        assert inject.proc.poll() is None and beta.proc.poll() is None
    finally:
        stop(encoder)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_cascade_reload_renumbering_providers_keeps_one_pull(daemons, tmp_path):
    """A SIGHUP at the injection point that lists the providers in another
    order (abc no longer first: other indices in the new generation) is no
    change for a stream it pulls: the same pull goes on, none is started
    beside it into the same channel, none is stopped (the stream's end
    would reach its players)."""
    root = tmp_path / "provider"
    root.mkdir()
    server = FeedServer(root)
    encoder = provider_feed(root)
    try:
        feed = f"{server.url}/tv/index.m3u8"
        routers = start(daemons, directory_configs([
            {"name": "cdn.abc.com/tv", "cascade": feed},
            {"name": "cdn.abc.com/tv.m3u8", "cascade": feed}]))
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        with watching(beta, "/cdn.abc.com/tv"):
            wait_until(lambda: live(inject, "cascade_segments") >= 2, what="pulled for the player")
            providers = inject.config["providers"]
            assert providers[0]["name"] == "abc" and len(providers) > 1
            providers.append(providers.pop(0))
            inject.write_config()
            inject.signal(signal.SIGHUP)
            inject.wait_log("msg=reloaded")
            # Past a tick and the linger (2 s) of a second entry's first pull.
            segments = live(inject, "cascade_segments")
            wait_until(lambda: live(inject, "cascade_segments") >= segments + 5, timeout=30,
                       what="the pull goes on after the reload")
            assert (live(inject, "cascade_started"), live(inject, "cascade_stopped")) == (1, 0)
        plays(beta, "/cdn.abc.com/tv.m3u8")
    finally:
        stop(encoder)
        server.close()
