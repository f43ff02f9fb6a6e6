"""The cascade (issue 12 item 1, docs/live.md "The cascade"): a provider
serves its own live HLS (ffmpeg's HLS muxer with a sliding window, written
to files a python HTTP server in this process serves, counting the
requests); acme-n1, an injection point of abc's CDN, pulls a feed only
while somebody on the overlay subscribes to its stream, and only the feed
the provider's directory answers `cascade` with; it injects it as a pushed
stream would be; beta-n3's edge plays it (ffprobe decodes frames) over HLS
and progressive MPEG-TS.

- The directory on the injection point itself (acme-n1 holds the entries):
  nothing fetched before a player; played at acme-n1 itself and at
  beta-n3; a malformed feed and one that
  stops changing counted (cascade_failed, cascade_stalls) while watched;
  SIGHUP with the feed's URL changed moves the pull to the new server, and a
  bad reload keeps the old config and the pull.
- The directory on another node (beta-n3's, asked by acme-n1 through
  edge.directories): nothing fetched and cascade_started 0 without a
  player; a player arrives, the feed is pulled and played; the player
  leaves, the pull stops (the server's count stops growing); a stream the
  directory does not answer `cascade` for is refused, counted, nothing
  fetched; an encoder pushing the same stream into acme-n1 takes the
  channel (the pull stops and comes back when the encoder goes); SIGTERM
  while pulling stops cleanly.

Every process is stopped by PID (the daemons fixture; ffmpeg here), the
HTTP server is shut down, every wait bounded."""
import collections
import contextlib
import http.server
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import free_port
from test_live import (ABC, EDGES, edge_url, frames, live, live_configs, push,  # noqa: F401
                       pytestmark, start, stop, wait_until)

PROVIDER = "127.0.0.1"
QUIET = 3.0  # s: how long "nothing happens" is watched for


def provider_feed(root, seconds=150):
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


class FeedServer:
    """The provider's streaming server: python's http.server over root on a
    thread of the test, counting the GETs by path."""

    def __init__(self, root):
        self.port = free_port(PROVIDER)
        self.url = f"http://{PROVIDER}:{self.port}"
        counts, lock = collections.Counter(), threading.Lock()
        self.counts, self.lock = counts, lock

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                with lock:
                    counts[self.path] += 1
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((PROVIDER, self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def requests(self, prefix="/", suffix=""):
        with self.lock:
            return sum(n for p, n in self.counts.items()
                       if p.startswith(prefix) and p.endswith(suffix))

    def playlists(self, prefix="/"):
        return self.requests(prefix, ".m3u8")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@contextlib.contextmanager
def watching(d, path):
    """A progressive player at d's edge, read on a thread until the block
    ends; yields the byte count so far (a list of one)."""
    e = d.config["edge"]
    s = socket.create_connection((e["listen"][0], e["port"]), timeout=10)
    s.settimeout(0.5)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: e\r\n\r\n".encode())
    done, got = threading.Event(), [0]

    def reader():
        while not done.is_set():
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            got[0] += len(chunk)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        yield got
    finally:
        done.set()
        t.join(timeout=10)
        s.close()


def quiet(condition_value, what):
    """Watches a value for QUIET seconds: it must not change."""
    before = condition_value()
    deadline = time.monotonic() + QUIET
    while time.monotonic() < deadline:
        assert condition_value() == before, what
        time.sleep(0.1)
    return before


def cascade_configs():
    configs = live_configs()
    for name in EDGES:
        # A cold pull starts within a tick or two: no failover meanwhile.
        configs[name]["edge"]["live"]["failover_ms"] = 10000
    return configs


def plays(d, path):
    got, err = [], ""
    for _ in range(3):  # bounded: the first request joins the channel
        got, err = frames(edge_url(d, path))
        if "I" in got:
            break
    assert "I" in got, (path, err)


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
    server, moved = FeedServer(root), FeedServer(root)
    encoder = provider_feed(root)
    try:
        configs = cascade_configs()
        dport = free_port(EDGES["acme-n1"])
        url = server.url
        configs["acme-n1"]["directory"] = {
            "enabled": True, "listen": [EDGES["acme-n1"]], "port": dport,
            "entries": [{"name": "cdn.abc.com/tv.m3u8", "cascade": f"{url}/tv/index.m3u8"},
                        {"name": "cdn.abc.com/tv", "cascade": f"{url}/tv/index.m3u8"},
                        {"name": "cdn.abc.com/bad", "cascade": f"{url}/bad/index.m3u8"},
                        {"name": "cdn.abc.com/stuck", "cascade": f"{url}/stuck/index.m3u8"}]}
        configs["beta-n3"]["edge"]["directories"] = [f"{EDGES['acme-n1']}:{dport}"]
        routers = start(daemons, configs)
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        # Nobody watches: nothing is fetched.
        quiet(server.requests, "fetched with nobody watching")
        assert server.requests() == 0 and live(inject, "cascade_started") == 0
        # A player at the injection point itself watches too (its router's
        # own subscription), in the CDN form of the stream's URL.
        with watching(inject, f"/{ABC}/live/tv.ts") as got:
            wait_until(lambda: got[0] > 50_000, what="played at the injection point")
        assert live(inject, "cascade_started") == 1
        for path in ("/cdn.abc.com/tv.m3u8", "/cdn.abc.com/tv"):
            plays(beta, path)
        assert live(inject, "cascade_started") >= 1 and live(inject, "cascade_segments") >= 2
        # the malformed feed, while watched: counted, retried, never injected
        with watching(beta, "/cdn.abc.com/bad"):
            wait_until(lambda: live(inject, "cascade_failed") >= 2, what="the bad feed counted")
        # a feed that stops changing: a copy of the live window, frozen
        freeze(root / "tv", root / "stuck")
        with watching(beta, "/cdn.abc.com/stuck"):
            wait_until(lambda: live(inject, "cascade_stalls") >= 1, timeout=30,
                       what="the stalled feed counted")

        # SIGHUP with tv's feed moved to another server, while watched: the
        # pull moves there; a bad reload then keeps the config and the pull.
        with watching(beta, "/cdn.abc.com/tv") as got:
            wait_until(lambda: server.playlists("/tv/") > 0 and got[0] > 0,
                       what="tv pulled again")
            started = live(inject, "cascade_started")
            for e in configs["acme-n1"]["directory"]["entries"]:
                e["cascade"] = e["cascade"].replace(server.url, moved.url)
            inject.write_config()
            inject.signal(signal.SIGHUP)
            inject.wait_log("msg=reloaded")
            wait_until(lambda: moved.playlists("/tv/") >= 2, what="pulled from the new server")
            assert live(inject, "cascade_started") >= started + 1
            wait_until(lambda: live(inject, "cascade_stopped") >= started,
                       what="the old pull stopped")
            quiet(lambda: server.playlists("/tv/"), "the old server still asked")
            inject.write_config("directory: [unclosed\n")
            inject.signal(signal.SIGHUP)
            inject.wait_log("msg=reload-rejected")
            now_started, before = live(inject, "cascade_started"), moved.playlists("/tv/")
            wait_until(lambda: moved.playlists("/tv/") >= before + 2,
                       what="the pull goes on after a bad reload")
            assert live(inject, "cascade_started") == now_started
            seen = got[0]
            wait_until(lambda: got[0] > seen, what="the player goes on")
        # nothing else disturbed
        got, err = frames(edge_url(beta, "/cdn.abc.com/tv.m3u8"))
        assert "I" in got, err
        assert inject.proc.poll() is None and beta.proc.poll() is None
        assert live(inject, "cascade_full") == 0
    finally:
        stop(encoder)
        server.close()
        moved.close()


def test_cascade_with_directory_elsewhere_pulls_only_while_watched(daemons, tmp_path):
    root = tmp_path / "provider"
    root.mkdir()
    server = FeedServer(root)
    encoder = provider_feed(root)
    try:
        configs = cascade_configs()
        # beta-n3's directory (test_live's, with the news channel) also
        # answers tv as a cascade; acme-n1 holds no entries and asks it.
        directory = configs["beta-n3"]["directory"]
        feed = f"{server.url}/tv/index.m3u8"
        directory["entries"] += [{"name": "cdn.abc.com/tv.m3u8", "cascade": feed, "ttl": 1},
                                 {"name": "cdn.abc.com/tv", "cascade": feed, "ttl": 1}]
        configs["acme-n1"]["edge"]["directories"] = [f"{EDGES['beta-n3']}:{directory['port']}"]
        routers = start(daemons, configs)
        inject, beta = routers["acme-n1"], routers["beta-n3"]
        quiet(server.requests, "fetched with nobody watching")
        assert server.requests() == 0 and live(inject, "cascade_started") == 0

        # A stream the directory answers no `cascade` for: a player at
        # beta-n3 joins its channel at acme-n1, which asks, is refused,
        # counts it and fetches nothing.
        with watching(beta, "/www.abc.com/live/nosuch.ts"):
            wait_until(lambda: live(inject, "cascade_refused") >= 1, what="nosuch refused")
        assert server.requests() == 0 and live(inject, "cascade_started") == 0

        # A player arrives: pulled, played.
        plays(beta, "/cdn.abc.com/tv.m3u8")
        assert live(inject, "cascade_started") == 1 and server.playlists("/tv/") > 0
        # It leaves: after the lingers (beta's, then acme-n1's) the pull
        # stops and the provider's server is asked nothing more.
        wait_until(lambda: live(inject, "cascade_stopped") >= 1, timeout=30,
                   what="the pull stopped")
        quiet(server.requests, "fetched after the player left")
        # A new player starts it again.
        plays(beta, "/cdn.abc.com/tv")
        assert live(inject, "cascade_started") == 2

        def pulling():
            return live(inject, "cascade_started") - live(inject, "cascade_stopped")

        # An encoder pushes the same stream into acme-n1 while the feed is
        # pulled: the encoder's stream is the channel's, the pull stops and
        # the player goes on with the pushed stream; the encoder gone, the
        # pull comes back.
        with watching(beta, "/cdn.abc.com/tv") as got:
            wait_until(lambda: pulling() == 1, what="pulled for the player")
            started = live(inject, "cascade_started")
            pusher = push(inject, seconds=60, path=f"/{ABC}/live/tv.ts")
            try:
                wait_until(lambda: pulling() == 0, what="the pull yields to the encoder")
                inject.wait_log("msg=live-cascade-pushed")
                seen = got[0]
                wait_until(lambda: got[0] > seen + 50_000, what="the pushed stream played")
                quiet(server.requests, "fetched while an encoder pushes")
            finally:
                stop(pusher)
            wait_until(lambda: pulling() == 1 and live(inject, "cascade_started") > started,
                       what="the pull back after the encoder")
            seen = got[0]
            wait_until(lambda: got[0] > seen + 50_000, what="the feed played again")
        assert live(inject, "cascade_full") == 0
        # SIGTERM while a feed is pulled: every thread stopped, a clean
        # exit (the daemons fixture checks the code and the sanitizers).
        with watching(beta, "/cdn.abc.com/tv"):
            wait_until(lambda: pulling() == 1, what="pulled for the player")
            assert inject.stop() == 0
    finally:
        stop(encoder)
        server.close()
