"""Live streams (issue 12, docs/live.md) on test_overlay.py's eight routers
in three CDNs: stock ffmpeg pushes a lavfi testsrc+sine stream (MPEG-TS
over a chunked POST) into an acme edge (acme-n1); ffprobe reads its frames
from an edge in beta (beta-n3) and one in gamma (gamma-n2), as progressive
MPEG-TS and over HLS, each through its router's subscription to the
channel, and through the directory's `channel` answer for an indirect
name (cdn.abc.com/news); a relay on the path (beta-n2) killed mid-stream, the player at
beta-n3 goes on; foo's live channel is refused at gamma (the beta-gamma
agreement does not cover live). Refusals: a wrong key (403), a body that is
not MPEG-TS (400), a stalled encoder (timed out, the channel ends), a
player that does not read (shed): each counted, nothing else disturbed.
Failover: two encoders push the same channel into acme-n1 and acme-n2; the
first killed, beta-n3's player switches to the second; the first back and
the second's router killed, the edge moves back on the silence.
Per-link counters (blocks_sent/received_total): with players joined before
the encoder, each tree link carries each published block once, the others
none; foo's channel, ingested at beta-n3, never reaches a gamma router.

Every process is stopped by PID (the daemons fixture; ffmpeg and ffprobe
here), every wait bounded."""
import hashlib
import hmac
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import free_port
from test_overlay import LINKS, ROUTERS, links_up, metric, router_configs

DEADLINE = 20.0  # s: generous; a stream's first segments take a second or two
KEY = "acme-live-secret"
ABC = "www.abc.com"
EDGES = {"acme-n1": "127.9.1.1", "acme-n2": "127.9.1.2", "beta-n3": "127.9.1.3",
         "gamma-n2": "127.9.1.4"}

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None or
                                shutil.which("ffprobe") is None,
                                reason="ffmpeg/ffprobe not installed (scripts/install-deps.sh)")


def wait_until(condition, timeout=DEADLINE, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not met in time")


def live(d, event):
    return d.metrics().get(f'peercdn_edge_live_total{{event="{event}"}}', 0.0)


def live_configs(ingest_timeout_ms=2000):
    configs, ports = router_configs(free_port("127.1.200.1"))
    for cfg in configs.values():
        cfg["overlay"].pop("test", None)
        for ag in cfg["agreements"]:
            if ag["name"] == "acme-beta":
                ag["services"] = ["web", "vod", "live"]
        cfg["agreements"].append({"name": "acme-gamma", "between": ["acme", "gamma"],
                                  "services": ["live"], "capacity_rps": 1000})
    for name, address in EDGES.items():
        configs[name]["edge"] = {
            "enabled": True, "listen": [address], "port": free_port(address),
            "live": {"ingest": name.startswith("acme"), "keys": [f"abc={KEY}"],
                     "sources": ["abc=acme-n1,acme-n2"], "ingest_timeout_ms": ingest_timeout_ms,
                     "player_buffer_kb": 64, "linger_ms": 2000, "failover_ms": 2000},
        }
        if name.startswith("gamma"):
            # gamma's progressive players get coalesced writes (each up to
            # 200 ms late); the others each block as it comes: both decode.
            configs[name]["edge"]["live"]["player_flush_ms"] = 200
    # beta-n3 runs a directory: abc's indirect names answer the channel.
    port = free_port(EDGES["beta-n3"])
    configs["beta-n3"]["directory"] = {
        "enabled": True, "listen": [EDGES["beta-n3"]], "port": port,
        "entries": [{"name": "cdn.abc.com/news", "channel": "abc/news"},
                    {"name": "cdn.abc.com/news.m3u8", "channel": "abc/news"}]}
    configs["beta-n3"]["edge"]["directories"] = [f"{EDGES['beta-n3']}:{port}"]
    return configs


def start(daemons, configs):
    routers = {name: daemons(cfg, name=name, node=name) for name, cfg in configs.items()}
    degree = {name: sum(name in (a, b) for a, b, _ in LINKS) for name in ROUTERS}
    for name, d in routers.items():
        wait_until(lambda: links_up(d) == degree[name], what=f"{name}'s links up")
    return routers


def edge_url(d, path):
    e = d.config["edge"]
    return f"http://{e['listen'][0]}:{e['port']}{path}"


def push(d, seconds=60, key=KEY, path=f"/{ABC}/live/news.ts"):
    """ffmpeg -re pushes a testsrc+sine stream to d's edge (killed by PID)."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25",
         "-b:v", "300k", "-c:a", "aac", "-b:a", "64k",
         "-f", "mpegts", "-headers", f"X-Live-Key: {key}\r\n", "-method", "POST",
         edge_url(d, path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def push_hls(d, seconds=60, name="hlsnews"):
    """ffmpeg's HLS muxer PUTs segments and playlists to d's edge."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", "-g", "25", "-b:v", "300k",
         "-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", "1", "-hls_list_size", "5",
         "-method", "PUT", "-headers", f"X-Live-Key: {KEY}\r\n",
         edge_url(d, f"/{ABC}/live/{name}.m3u8")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def frames(url, packets=75, timeout=30):
    """Video frames ffprobe decodes from url in its first packets."""
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-rw_timeout", "10000000", "-read_intervals", f"%+#{packets}",
         "-select_streams", "v", "-show_frames", "-show_entries", "frame=pict_type",
         "-of", "csv=p=0", url],
        capture_output=True, text=True, timeout=timeout)
    return [line for line in proc.stdout.splitlines() if line.strip()], proc.stderr


def request(d, raw, read=True, timeout=10):
    e = d.config["edge"]
    with socket.create_connection((e["listen"][0], e["port"]), timeout=timeout) as s:
        s.sendall(raw)
        if not read:
            return b""
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def status(raw):
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else None


def segments(d):
    return d.metrics().get('peercdn_edge_live_channel_segments{channel="abc/live/news"}', 0.0)


def test_live_plays_in_peer_cdns(daemons):
    routers = start(daemons, live_configs())
    ingest, beta, gamma = routers["acme-n1"], routers["beta-n3"], routers["gamma-n2"]
    encoder = push(ingest)
    try:
        wait_until(lambda: live(ingest, "blocks_published") > 0, what="blocks published")
        # Progressive MPEG-TS and HLS, in beta and in gamma.
        for d in (beta, gamma):
            got, err = frames(edge_url(d, f"/{ABC}/live/news.ts"))
            assert len(got) >= 25 and "I" in got, (d.name, err)
            got, err = frames(edge_url(d, f"/{ABC}/live/news.m3u8"))
            assert len(got) >= 25 and "I" in got, (d.name, err)
            assert live(d, "subscribes") >= 1 and live(d, "segments") >= 2
            assert live(d, "not_covered") == 0
        # An indirect name the directory answers with the channel.
        got, err = frames(edge_url(beta, "/cdn.abc.com/news"))
        assert len(got) >= 25, err
        got, err = frames(edge_url(beta, "/cdn.abc.com/news.m3u8"))
        assert len(got) >= 25, err
        # foo's channels may not be delivered into gamma: refused at the edge.
        raw = request(gamma, f"GET /www.foo.com/live/x.ts HTTP/1.1\r\nHost: e\r\n"
                             "Connection: close\r\n\r\n".encode())
        assert status(raw) == 403 and live(gamma, "not_covered") == 1
        # Gamma's players are gone: after the linger its router leaves the
        # channel (and the branch is pruned).
        wait_until(lambda: live(gamma, "unsubscribes") >= 1, what="gamma leaves the channel")
        wait_until(lambda: segments(gamma) == 0, what="gamma forgets the channel")
        # A relay on the stream's path dies mid-stream: the player goes on.
        e = beta.config["edge"]
        with socket.create_connection((e["listen"][0], e["port"]), timeout=10) as s:
            s.sendall(f"GET /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n\r\n".encode())
            first = s.recv(65536)
            assert status(first) == 200 and b"video/mp2t" in first
            routers["beta-n2"].stop()
            deadline, got = time.monotonic() + DEADLINE, 0
            while got < 200_000 and time.monotonic() < deadline:
                chunk = s.recv(65536)
                assert chunk, "the stream ended"
                got += len(chunk)
            assert got >= 200_000
        got, err = frames(edge_url(beta, f"/{ABC}/live/news.ts"))
        assert len(got) >= 25, err
        # Every edge's block sequence had no gap and no duplicate, across
        # the reroute too.
        for d in (beta, gamma):
            assert live(d, "blocks_received") > 0 and live(d, "block_gaps") == 0, d.name
    finally:
        stop(encoder)
    assert live(ingest, "ingest_started") == 1
    wait_until(lambda: live(ingest, "ingest_ended") == 1, what="the ingest ended")
    assert live(ingest, "blocks_shed") == 0


def blocks(d, neighbour, direction):
    """Content blocks d sent to, or received from, neighbour (per link)."""
    return metric(d, f"peercdn_overlay_blocks_{direction}_total", neighbour=neighbour,
                  kind="content")


def link_counts(routers):
    """(sender, receiver) -> (blocks sender sent, blocks receiver received)
    on every link in both directions."""
    out = {}
    for a, b, _ in LINKS:
        for x, y in ((a, b), (b, a)):
            out[(x, y)] = (blocks(routers[x], y, "sent"), blocks(routers[y], x, "received"))
    return out


def settled(read, settle=1.0, timeout=DEADLINE):
    """read()'s value once it has not changed for `settle` seconds (bounded)."""
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = read()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= settle:
            return now
    raise AssertionError(f"never settled: {last}")


class Player:
    """A progressive MPEG-TS player that reads everything its edge sends
    until the stream ends or it is closed (so it is never shed)."""

    def __init__(self, d, path):
        e = d.config["edge"]
        self.sock = socket.create_connection((e["listen"][0], e["port"]), timeout=10)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: e\r\n\r\n".encode())
        self.received = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        self.sock.settimeout(1.0)
        while not self.done.is_set():
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            self.received += len(chunk)

    def close(self):
        self.done.set()
        self.thread.join(timeout=10)
        self.sock.close()


# abc's channel from acme-n1 to beta-n3 and gamma-n2 (test_overlay's costs:
# through beta-n2, not the direct beta-n1 - beta-n3 link).
TREE = [("acme-n1", "acme-n3"), ("acme-n3", "beta-n1"), ("beta-n1", "beta-n2"),
        ("beta-n2", "beta-n3"), ("beta-n3", "gamma-n1"), ("gamma-n1", "gamma-n2")]


def test_live_each_block_once_per_link(daemons):
    """Issue 12 item 6: with players at beta-n3 and gamma-n2 joined before
    the encoder starts, every link of the delivery tree carries each block
    the source published exactly once (sent on the link = received by the
    neighbour = published), and every other link (acme-n2's, the direct
    beta-n1 - beta-n3 link, every link upstream) carries none."""
    routers = start(daemons, live_configs())
    ingest, beta, gamma = routers["acme-n1"], routers["beta-n3"], routers["gamma-n2"]
    assert all(v == (0, 0) for v in link_counts(routers).values())
    joins = {n: (lambda d=routers[n]: metric(d, "peercdn_overlay_channel_total", event="joins"))
             for n in ("acme-n1", "beta-n3", "gamma-n1")}
    before = {n: settled(read) for n, read in joins.items()}
    players = [Player(beta, f"/{ABC}/live/news.ts"), Player(gamma, f"/{ABC}/live/news.ts")]
    encoder = None
    try:
        # The tree is joined up to the source (acme-n1 took a JOIN from
        # acme-n3), and gamma's branch onto it at beta-n3.
        for n, read in joins.items():
            wait_until(lambda: read() > before[n], what=f"{n} took the channel's JOIN")
        encoder = push(ingest, seconds=8)
        assert encoder.wait(timeout=60) == 0, encoder.stderr.read()
        wait_until(lambda: live(ingest, "ingest_ended") == 1, what="the ingest ended")
        published = live(ingest, "blocks_published")
        assert published > 0 and live(ingest, "blocks_shed") == 0
        counts = settled(lambda: link_counts(routers))
    finally:
        if encoder is not None:
            stop(encoder)
        for p in players:
            p.close()
    assert all(p.received > 0 for p in players)
    for link, (sent, received) in counts.items():
        want = published if link in TREE else 0
        assert (sent, received) == (want, want), (link, sent, received, published)
    for d in (beta, gamma):
        assert live(d, "blocks_received") == published and live(d, "block_gaps") == 0, d.name


def test_live_not_covered_never_enters_peer_cdn(daemons):
    """Issue 12 item 6: foo's live channel, ingested in its primary CDN
    (beta-n3, gamma's peering neighbour), is asked for at a gamma edge; the
    beta-gamma agreement does not cover live, so the edge answers 403 and
    no gamma router receives a single block (per-link counters of content
    blocks arrived, counted before any check), while the channel runs."""
    configs = live_configs()
    for cfg in configs.values():
        if "edge" in cfg:
            cfg["edge"]["live"]["keys"].append(f"foo={KEY}")
            cfg["edge"]["live"]["sources"].append("foo=beta-n3")
    configs["beta-n3"]["edge"]["live"]["ingest"] = True
    routers = start(daemons, configs)
    beta, gamma = routers["beta-n3"], routers["gamma-n2"]
    foo = "/www.foo.com/live/x.ts"
    encoder = push(beta, path=foo)
    try:
        wait_until(lambda: live(beta, "blocks_published") > 0, what="foo's blocks published")
        got, err = frames(edge_url(beta, foo))  # the channel plays in beta
        assert len(got) >= 25, err
        for path in (foo, "/www.foo.com/live/x.m3u8"):
            raw = request(gamma, f"GET {path} HTTP/1.1\r\nHost: e\r\n"
                                 "Connection: close\r\n\r\n".encode())
            assert status(raw) == 403, raw
        assert live(gamma, "not_covered") == 2
        # Let the channel run on for 100 more blocks: none of them reaches
        # gamma, on any link.
        mark = live(beta, "blocks_published")
        wait_until(lambda: live(beta, "blocks_published") >= mark + 100, what="foo runs on")
        assert encoder.poll() is None
    finally:
        stop(encoder)
    for n in ("gamma-n1", "gamma-n2"):
        for a, b, _ in LINKS:
            if n in (a, b):
                other = b if n == a else a
                assert blocks(routers[n], other, "received") == 0, (n, other)
    assert blocks(beta, "gamma-n1", "sent") == 0
    assert live(gamma, "blocks_received") == 0 and live(gamma, "subscribes") == 0
    assert live(beta, "ingest_started") == 1 and live(beta, "blocks_shed") == 0


def test_live_refusals(daemons):
    routers = start(daemons, live_configs(ingest_timeout_ms=1000))
    ingest, beta = routers["acme-n1"], routers["beta-n3"]
    head = f"POST /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n"
    # A wrong key, no key, a wrong key in the query, an expired signature:
    # 403, counted.
    for target, extra in ((f"/{ABC}/live/news.ts", "X-Live-Key: wrong\r\n"),
                          (f"/{ABC}/live/news.ts", ""), (f"/{ABC}/live/news.ts?key=x", "")):
        raw = request(ingest, (f"POST {target} HTTP/1.1\r\nHost: e\r\n" + extra +
                               "Content-Length: 188\r\n\r\n").encode() + b"\x47" + b"\xff" * 187)
        assert status(raw) == 403, raw
    raw = request(ingest, (f"POST /{ABC}/live/news.ts?expires=1&sig={'0' * 64} HTTP/1.1\r\n"
                           "Host: e\r\nContent-Length: 0\r\n\r\n").encode())
    assert status(raw) == 403
    assert live(ingest, "ingest_forbidden") == 4
    # A good signature passes (and the empty stream is then 400, not 403).
    expires = int(time.time()) + 60
    msg = f"www.abc.com/live/news.ts?expires={expires}".encode()
    sig = hmac.new(KEY.encode(), msg, hashlib.sha256).hexdigest()
    raw = request(ingest, (f"POST /{ABC}/live/news.ts?expires={expires}&sig={sig} HTTP/1.1\r\n"
                           "Host: e\r\nContent-Length: 0\r\n\r\n").encode())
    assert status(raw) == 400, raw
    assert live(ingest, "ingest_forbidden") == 4 and live(ingest, "ingest_started") == 1
    # Not MPEG-TS: 400, counted.
    raw = request(ingest, (head + f"X-Live-Key: {KEY}\r\nContent-Length: 1880\r\n\r\n").encode()
                  + b"GET / HTTP/1.1\r\n" * 117 + b"xxxx" + b"\0" * 4)
    assert status(raw) == 400, raw
    assert live(ingest, "ingest_malformed") == 2
    # Not at an injection point of abc's CDN: beta's edge does not ingest.
    raw = request(beta, (head + f"X-Live-Key: {KEY}\r\nContent-Length: 0\r\n\r\n").encode())
    assert status(raw) == 404
    # A stalled encoder: the connection times out, counted.
    e = ingest.config["edge"]
    with socket.create_connection((e["listen"][0], e["port"]), timeout=10) as s:
        s.sendall((head + f"X-Live-Key: {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
        wait_until(lambda: live(ingest, "ingest_timeouts") == 1, what="the stall timed out")
        s.settimeout(10)
        try:
            rest = s.recv(65536)
        except ConnectionResetError:
            rest = b""
        assert rest == b"", rest  # cut, not answered
    # The real stream still goes in and out; a player that reads nothing is
    # shed once 64 KiB wait for it, and the others play on.
    encoder = push(ingest)
    try:
        wait_until(lambda: segments(beta) >= 1 or live(beta, "players") == 0, what="ready")
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect((beta.config["edge"]["listen"][0], beta.config["edge"]["port"]))
        slow.sendall(f"GET /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n\r\n".encode())
        wait_until(lambda: live(beta, "players_shed") >= 1, timeout=60, what="the slow player shed")
        slow.close()
        got, err = frames(edge_url(beta, f"/{ABC}/live/news.ts"))
        assert len(got) >= 25, err
    finally:
        stop(encoder)
    assert ingest.proc.poll() is None and beta.proc.poll() is None


def test_live_hls_ingest(daemons):
    routers = start(daemons, live_configs())
    ingest, beta = routers["acme-n2"], routers["beta-n3"]
    head = f"PUT /{ABC}/live/bad.m3u8 HTTP/1.1\r\nHost: e\r\nX-Live-Key: {KEY}\r\n"
    # A malformed playlist and a segment that is not MPEG-TS: 400, counted.
    body = b"#EXTM3U\n#EXTINF:x,\nbad0.ts\n"
    raw = request(ingest, (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    assert status(raw) == 400, raw
    raw = request(ingest, (head.replace("bad.m3u8", "bad0.ts") +
                           "Content-Length: 188\r\n\r\n").encode() + b"\0" * 188)
    assert status(raw) == 400, raw
    assert live(ingest, "ingest_malformed") == 2
    encoder = push_hls(ingest)
    try:
        wait_until(lambda: live(ingest, "hls_playlists_in") >= 2, what="playlists PUT")
        got, err = frames(edge_url(beta, f"/{ABC}/live/hlsnews.m3u8"))
        assert len(got) >= 25 and "I" in got, err
        got, err = frames(edge_url(beta, f"/{ABC}/live/hlsnews.ts"))
        assert len(got) >= 25, err
        assert live(ingest, "hls_missing") == 0 and live(beta, "block_gaps") == 0
    finally:
        stop(encoder)


def test_live_failover_to_second_injection_point(daemons):
    routers = start(daemons, live_configs())
    first, second, beta = routers["acme-n1"], routers["acme-n2"], routers["beta-n3"]
    encoders = [push(first), push(second)]
    try:
        wait_until(lambda: live(first, "blocks_published") > 0 and
                   live(second, "blocks_published") > 0, what="both publish")
        got, err = frames(edge_url(beta, f"/{ABC}/live/news.ts"))
        assert len(got) >= 25, err
        source = 'peercdn_edge_live_channel_source{channel="abc/live/news"}'
        primary = beta.metrics()[source]
        e = beta.config["edge"]
        with socket.create_connection((e["listen"][0], e["port"]), timeout=10) as s:
            s.sendall(f"GET /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n\r\n".encode())
            assert status(s.recv(65536)) == 200
            stop(encoders[0])  # the primary's encoder dies: its channel ends
            wait_until(lambda: live(beta, "failovers") >= 1, what="failover")
            assert beta.metrics()[source] not in (0, primary)
            deadline, got_bytes = time.monotonic() + DEADLINE, 0
            while got_bytes < 100_000 and time.monotonic() < deadline:
                chunk = s.recv(65536)
                assert chunk, "the stream ended"
                got_bytes += len(chunk)
        got, err = frames(edge_url(beta, f"/{ABC}/live/news.ts"))
        assert len(got) >= 25, err
        # The first encoder comes back; the second injection point's router
        # dies: its channel goes silent and the edge moves back.
        encoders.append(push(first))
        wait_until(lambda: live(first, "ingest_started") == 2, what="the first back")
        with socket.create_connection((e["listen"][0], e["port"]), timeout=10) as s:
            s.sendall(f"GET /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n\r\n".encode())
            assert status(s.recv(65536)) == 200
            second.stop()
            deadline, got_bytes = time.monotonic() + DEADLINE, 0
            while live(beta, "failovers") < 2 and time.monotonic() < deadline:
                chunk = s.recv(65536)  # a player reading: the channel stays wanted
                assert chunk, "the stream ended"
            assert live(beta, "failovers") >= 2, "no failover on silence"
            assert beta.metrics()[source] == primary
            # Its router said GOODBYE: the overlay routed around it and the
            # edge moved on the lost route, not after failover_ms of silence.
            assert re.search(r"msg=live-failover channel=\S+ from=\d+ to=\d+ why=unrouted",
                             beta.log()), beta.log()[-3000:]
            while got_bytes < 100_000 and time.monotonic() < deadline:
                chunk = s.recv(65536)
                assert chunk, "the stream ended"
                got_bytes += len(chunk)
        assert live(beta, "block_gaps") == 0
    finally:
        for enc in encoders:
            stop(enc)


def test_live_provider_past_the_64th(daemons):
    """The edge keeps per-provider counters for 64 providers (the rest share
    a slot); a live request of the 75th must still be that provider's: its
    key, its CORS policy, its stream."""
    configs = live_configs()
    cfg = configs["acme-n1"]
    dummies = [{"name": f"p{i}", "primary": ["acme"], "grade": "bronze",
                "origins": [f"www.p{i}.example"]} for i in range(70)]
    cfg["providers"] = dummies + cfg["providers"]
    ingest = daemons(cfg, name="acme-n1", node="acme-n1")
    # The right key passes (an empty stream is then 400, not 403).
    raw = request(ingest, (f"POST /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n"
                           f"X-Live-Key: {KEY}\r\nContent-Length: 0\r\n"
                           "Connection: close\r\n\r\n").encode())
    assert status(raw) == 400, raw
    assert live(ingest, "ingest_forbidden") == 0 and live(ingest, "ingest_started") == 1
    # A preflight is abc's, answered.
    raw = request(ingest, (f"OPTIONS /{ABC}/live/news.m3u8 HTTP/1.1\r\nHost: e\r\n"
                           "Origin: http://page.example\r\n"
                           "Access-Control-Request-Method: GET\r\n"
                           "Connection: close\r\n\r\n").encode())
    assert status(raw) == 204, raw
