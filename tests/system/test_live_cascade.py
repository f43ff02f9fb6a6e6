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
import subprocess
import sys

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
