"""Players of the edge's live streams (issue 12 item 2, docs/live.md
"Players"): beyond ffprobe (test_live.py), hls.js in Debian's headless
Chromium and VLC play what an edge of a peer CDN serves, on test_live.py's
eight routers in three CDNs with ffmpeg pushing its test stream into
acme-n1.

- CORS: beta-n3 lets one page origin read abc's live answers
  (edge.live.cors_origins), gamma-n2 keeps the default (any page). A
  preflight is answered 204 without touching the channel; playlists,
  segments, progressive TS and live refusals carry the fields; a page of
  an origin not listed gets none.
- hls.js: a page served from another origin (python's http.server on
  another loopback address, killed by PID) plays beta-n3's playlist:
  currentTime advances by seconds, decoded frames grow, no fatal error;
  the same page from an origin beta-n3 does not list fails with a CORS
  error.
- VLC (it refuses to run as root: run as nobody with setpriv) plays
  beta-n3's HLS playlist and progressive TS, transcoding what it decoded
  to files whose frames ffprobe counts; ffplay (SDL's dummy drivers) plays
  both too, its showinfo filter logging each frame it decoded.

Every process is stopped by PID (node and its browser, on a timeout, as
the process group node leads), every wait bounded."""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from conftest import SOURCE, free_port
from test_live import (ABC, edge_url, live, live_configs, push, request, start, status,
                       stop, wait_until)

BROWSER_DIR = SOURCE / "tests" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PAGE = "127.9.2.1"  # the origin beta-n3 lets read abc's streams
OTHER_PAGE = "127.9.2.2"  # an origin it does not
KINDS = ("m3u8", "ts")  # HLS, progressive MPEG-TS

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None or
                                shutil.which("ffprobe") is None,
                                reason="ffmpeg/ffprobe not installed (scripts/install-deps.sh)")


def player_configs(page_port):
    configs = live_configs()
    configs["beta-n3"]["edge"]["live"]["cors_origins"] = [f"abc=http://{PAGE}:{page_port}"]
    return configs


def fields(raw):
    """The head of a raw response: {lower-case name: [values]}."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    out = {}
    for line in head:
        name, _, value = line.partition(":")
        out.setdefault(name.strip().lower(), []).append(value.strip())
    return out


def ask(d, method, path, origin=None, extra="", timeout=20):
    o = f"Origin: {origin}\r\n" if origin else ""
    raw = request(d, f"{method} {path} HTTP/1.1\r\nHost: e\r\n{o}{extra}"
                     "Connection: close\r\n\r\n".encode(), timeout=timeout)
    return status(raw), fields(raw), raw


def channel_known(d):
    return any(k.startswith("peercdn_edge_live_channel_") and "abc/live/news" in k
               for k in d.metrics())


def test_live_cors_fields(daemons):
    page_port = free_port(PAGE)
    page = f"http://{PAGE}:{page_port}"
    routers = start(daemons, player_configs(page_port))
    ingest, beta, gamma = routers["acme-n1"], routers["beta-n3"], routers["gamma-n2"]
    playlist = f"/{ABC}/live/news.m3u8"
    # A preflight, before any stream: answered by the edge alone, and the
    # channel is neither made nor subscribed.
    code, f, _ = ask(beta, "OPTIONS", playlist, page,
                     "Access-Control-Request-Method: GET\r\n"
                     "Access-Control-Request-Headers: range\r\n")
    assert code == 204, f
    assert f["access-control-allow-origin"] == [page] and f["vary"] == ["Origin"]
    assert f["access-control-allow-methods"] == ["GET, HEAD, OPTIONS"]
    assert "Range" in f["access-control-allow-headers"][0]
    assert int(f["access-control-max-age"][0]) > 0
    code, f, _ = ask(beta, "OPTIONS", playlist, f"http://{OTHER_PAGE}:1",
                     "Access-Control-Request-Method: GET\r\n")
    assert code == 204 and "access-control-allow-origin" not in f
    assert "access-control-allow-methods" not in f
    code, f, _ = ask(gamma, "OPTIONS", "/cdn.abc.com/news.m3u8", "http://any.example",
                     "Access-Control-Request-Method: GET\r\n")
    assert code == 204 and f["access-control-allow-origin"] == ["*"]
    time.sleep(1.5)  # a tick or so of worker 0: nothing may follow a preflight
    for d in (beta, gamma):
        assert live(d, "subscribes") == 0 and live(d, "playlists") == 0, d.name
        assert not channel_known(d), d.name
    encoder = push(ingest)
    try:
        wait_until(lambda: live(ingest, "blocks_published") > 0, what="blocks published")
        # The playlist: echoed for the listed page, nothing for another,
        # "*" at gamma; every form of answer carries them.
        code, f, raw = ask(beta, "GET", playlist, page)
        assert code == 200, raw[:300]
        assert f["access-control-allow-origin"] == [page] and f["vary"] == ["Origin"]
        body = raw.split(b"\r\n\r\n", 1)[1].decode()
        segment = [line for line in body.splitlines() if line.endswith(".ts")][-1]
        # (Before beta-n3's channel lingers out: linger_ms is 2 s.)
        code, f, raw = ask(beta, "GET", segment, page)
        assert code == 200 and f["content-type"] == ["video/mp2t"], raw[:300]
        assert f["access-control-allow-origin"] == [page]
        code, f, _ = ask(beta, "GET", playlist, f"http://{OTHER_PAGE}:{page_port}")
        assert code == 200 and "access-control-allow-origin" not in f and f["vary"] == ["Origin"]
        code, f, _ = ask(gamma, "GET", playlist, page)
        assert code == 200 and f["access-control-allow-origin"] == ["*"]
        code, f, _ = ask(beta, "HEAD", f"/{ABC}/live/news.ts", page)
        assert code == 200 and f["access-control-allow-origin"] == [page]
        # A refusal a page's player may read (and retry).
        code, f, _ = ask(beta, "GET", f"/{ABC}/live/news/999999.ts", page)
        assert code == 404 and f["access-control-allow-origin"] == [page]
        # ffmpeg and VLC send no Origin: the default's "*" costs them nothing.
        code, f, _ = ask(gamma, "GET", playlist)
        assert code == 200 and f["access-control-allow-origin"] == ["*"]
        # On-demand objects keep their origin's own CORS fields (none here).
        code, f, _ = ask(beta, "GET", f"/{ABC}/nothing-here", page, timeout=10)
        assert "access-control-allow-origin" not in f
    finally:
        stop(encoder)


class PageServer:
    """python's http.server serving tests/browser on address (killed by PID)."""

    def __init__(self, address, port):
        self.origin = f"http://{address}:{port}"
        self.proc = subprocess.Popen(
            ["python3", "-m", "http.server", "--bind", address, str(port),
             "--directory", str(BROWSER_DIR)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((address, port), timeout=1).close()
                return
            except OSError:
                assert self.proc.poll() is None, "the page server exited"
                time.sleep(0.05)
        self.stop()
        raise AssertionError("the page server did not listen")

    def page(self, src):
        return f"{self.origin}/player.html?src={urllib.parse.quote(src, safe='')}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def browser_missing():
    if shutil.which("node") is None:
        return "node not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not installed (Debian's chromium)"
    for module in ("hls.js", "playwright-core"):
        if not (BROWSER_DIR / "node_modules" / module).is_dir():
            return f"tests/browser/node_modules/{module} missing (npm ci in tests/browser)"
    return None


def played(page):
    """(seconds of media played, frames decoded) between the first sample
    that had started and the last."""
    started = [s for s in page["samples"] if s["currentTime"] > 0]
    if not started:
        return 0.0, 0
    first, last = started[0], page["samples"][-1]
    return (last["currentTime"] - first["currentTime"],
            last["totalVideoFrames"] - first["totalVideoFrames"])


def test_hlsjs_plays_in_chromium(daemons):
    missing = browser_missing()
    if missing:
        pytest.skip(f"hls.js in Chromium: {missing} (scripts/install-deps.sh installs it)")
    page_port = free_port(PAGE)
    routers = start(daemons, player_configs(page_port))
    ingest, beta = routers["acme-n1"], routers["beta-n3"]
    servers = []
    encoder = push(ingest)
    try:
        servers = [PageServer(PAGE, page_port), PageServer(OTHER_PAGE, free_port(OTHER_PAGE))]
        wait_until(lambda: live(ingest, "blocks_published") > 0, what="blocks published")
        src = edge_url(beta, f"/{ABC}/live/news.m3u8")
        # The edge's first playlist waits for two segments: have them
        # before the browser's loader starts its clock.
        code, _, raw = ask(beta, "GET", f"/{ABC}/live/news.m3u8")
        assert code == 200, raw[:300]
        # Until 5 s played (a deadline of 30 s), in a session of its own:
        # on a timeout the browser goes with node.
        proc = subprocess.Popen(
            ["node", str(BROWSER_DIR / "play.js"), "5", "30", servers[0].page(src),
             servers[1].page(src)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=BROWSER_DIR,
            start_new_session=True)
        try:
            out, err = proc.communicate(timeout=50)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
            raise
        assert proc.returncode == 0, err[-3000:]
        allowed, denied = json.loads(out)["pages"]
    finally:
        stop(encoder)
        for s in servers:
            s.stop()
    report = allowed["report"]
    print(f"hls.js {report['hls']} in {report['browser']}")
    assert report["supported"] and report["fatal"] is None, (report, allowed["console"])
    seconds, decoded = played(allowed)
    print(f"hls.js played {seconds:.2f} s, {decoded} frames decoded")
    assert seconds >= 5.0 and decoded >= 75, (seconds, decoded, allowed)  # 25 a second
    assert all(s["mediaError"] is None for s in allowed["samples"])
    assert live(beta, "playlists") >= 2 and live(beta, "segment_gets") >= 3
    # The page beta-n3 does not list: the browser keeps the playlist from
    # hls.js, which gives up on the manifest.
    fatal = denied["report"]["fatal"]
    assert fatal is not None and fatal["details"] == "manifestLoadError", denied["report"]
    assert any("CORS policy" in line for line in denied["console"]), denied["console"]
    assert played(denied) == (0.0, 0)


def vlc(url, out, seconds, home):
    """cvlc as nobody (VLC refuses root) plays url for seconds and writes
    what it decoded, re-encoded as MPEG-2 video and MPEG audio, to out."""
    return subprocess.Popen(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         "env", f"HOME={home}", "cvlc", "-q", "--no-video-title-show", f"--run-time={seconds}",
         "--play-and-exit", url, "--sout",
         "#transcode{vcodec=mp2v,vb=800,acodec=mpga,ab=128}"
         f":std{{access=file,mux=ts,dst={out}}}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def ffplay(url, log):
    """ffplay with SDL's dummy video and audio drivers plays url until it
    is stopped (its -t does not end a live stream), after probing 1 s of it
    rather than 5; showinfo logs each frame it decoded into log."""
    with open(log, "w") as err:
        return subprocess.Popen(
            ["ffplay", "-hide_banner", "-analyzeduration", "1000000", "-vf", "showinfo", url],
            stdout=subprocess.DEVNULL, stderr=err,
            env=dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy"))


def decoded_frames(path, stream):
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", stream,
         "-show_entries", "stream=codec_name,nb_read_frames", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=30)
    streams = json.loads(proc.stdout or "{}").get("streams", [])
    return (streams[0]["codec_name"], int(streams[0]["nb_read_frames"])) if streams else (None, 0)


def test_vlc_and_ffplay_play_hls_and_ts(daemons):
    if shutil.which("cvlc") is None or shutil.which("setpriv") is None:
        pytest.skip("VLC: cvlc or setpriv not installed (scripts/install-deps.sh installs vlc-bin)")
    routers = start(daemons, live_configs())
    ingest, beta = routers["acme-n1"], routers["beta-n3"]
    work = pathlib.Path(tempfile.mkdtemp(prefix="peercdn-vlc-"))
    work.chmod(0o777)  # nobody writes its config and the outputs there
    players = []
    encoder = push(ingest)
    try:
        wait_until(lambda: live(ingest, "blocks_published") > 0, what="blocks published")
        code, _, raw = ask(beta, "GET", f"/{ABC}/live/news.m3u8")
        assert code == 200, raw[:300]
        urls = [edge_url(beta, f"/{ABC}/live/news.{kind}") for kind in KINDS]
        players = [vlc(url, work / f"{kind}.ts", 8, work) for url, kind in zip(urls, KINDS)]
        players += [ffplay(url, work / f"ffplay-{kind}.log") for url, kind in zip(urls, KINDS)]
        deadline = time.monotonic() + 40
        for p in players[:2]:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass  # judged by what it wrote; killed below
        for p in players:
            stop(p)  # ffplay after as long as VLC played
        results = {kind: (decoded_frames(work / f"{kind}.ts", "v"),
                          decoded_frames(work / f"{kind}.ts", "a"))
                   for kind in KINDS}
        logs = [p.stderr.read() for p in players[:2]]
        logs += [(work / f"ffplay-{kind}.log").read_text(errors="replace") for kind in KINDS]
    finally:
        for p in players:
            stop(p)
        stop(encoder)
        shutil.rmtree(work, ignore_errors=True)
    print(f"VLC decoded: {results}")
    for (kind, ((vcodec, vframes), (acodec, aframes))), err in zip(results.items(), logs):
        # 25 frames a second: 8 s of playing less VLC's start-up.
        assert vcodec == "mpeg2video" and vframes >= 75, (kind, vframes, err[-2000:])
        assert acodec == "mp2" and aframes >= 50, (kind, aframes, err[-2000:])
    shown = [len(re.findall(r"Parsed_showinfo.*\bn: *\d+ ", log)) for log in logs[2:]]
    print(f"ffplay decoded: {dict(zip(KINDS, shown))}")
    for kind, n, log in zip(KINDS, shown, logs[2:]):
        assert n >= 50, (kind, n, log[-2000:])  # 2 s of 25 frames a second
    assert live(beta, "players") >= 2 and live(beta, "segment_gets") >= 2
