"""bench/live's driver (run by bench/live.sh, which builds, checks the tree
and prints the summary): the eight routers of tests/system/test_live.py
with edges on six of them, one ffmpeg encoding a test stream once and
teeing it (MPEG-TS to this driver, which POSTs it to the injection point
acme-n1 and stamps every packet it sends; HLS files to a directory nginx
serves), then four phases:

  fanout   overlay bytes the injection point sends (all its links, from
           peercdn_overlay_bytes_total{direction="sent"}) while 1, 2 and 4
           edges behind one branch play the stream
  delay    the time from a TS packet's POST to acme-n1 to its arrival at a
           progressive player at edges 0, 1, 4 and 6 overlay hops away
  load     PLAYERS progressive players, then PLAYERS HLS players, at
           beta-n3; then PLAYERS HLS players at nginx serving the same
           stream's HLS files from disk; CPU-seconds of the server
  kill     progressive players at beta-n3 and gamma-n2 while the relay
           beta-n2 is killed (SIGKILL, or SIGTERM) by PID: the longest silence they see, TS
           continuity errors, and the edges' block_gaps. KILL_SIGNAL=both: a
           clean stop (SIGTERM: the relay says GOODBYE, docs/overlay.md) first,
           then beta-n2 is started again, the stream waits to run through it
           again, and then it is SIGKILLed: the two side by side, results
           term_* and kill_*. PHASES (a comma list of fanout, delay, load,
           kill; all by default) runs only some phases.

Each phase checks that it measured what it says (the mix) and exits 1
otherwise. Lines "result NAME VALUE" are for bench/live.sh. Every process
it starts is stopped by PID in a finally."""
import asyncio
import hashlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT, BUILD, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
PLAYERS = int(os.environ.get("PLAYERS", "50"))
SECS = float(os.environ.get("PHASE_SECS", "20"))
FANOUT_SECS = float(os.environ.get("FANOUT_SECS", "10"))
FLUSH_MS = int(os.environ.get("FLUSH_MS", "0"))  # every edge's edge.live.player_flush_ms
KILL_SIGNAL = os.environ.get("KILL_SIGNAL", "KILL")  # or TERM, or both
if KILL_SIGNAL not in ("KILL", "TERM", "both"):
    sys.exit("KILL_SIGNAL: KILL, TERM or both")
PHASES = set(os.environ.get("PHASES", "fanout,delay,load,kill").split(","))
if not PHASES or PHASES - {"fanout", "delay", "load", "kill"}:
    sys.exit("PHASES: a comma list of fanout, delay, load, kill")
HZ = os.sysconf("SC_CLK_TCK")
os.environ["PEERCDN_BUILD_DIR"] = BUILD
os.environ["PEERCDN_SOURCE_DIR"] = ROOT
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from conftest import Daemon, free_port  # noqa: E402
from test_live import ABC, EDGES, KEY, live_configs  # noqa: E402
from test_overlay import LINKS, links_up  # noqa: E402

MORE_EDGES = {"beta-n1": "127.9.1.5", "gamma-n1": "127.9.1.6"}
HOPS = {"acme-n1": 0, "acme-n2": 1, "beta-n3": 4, "gamma-n2": 6}
TS = 188
MIN_TICKS = 20  # CPU ticks a load run must cost to be a figure


class Fail(Exception):
    pass


def say(*a):
    print(*a, flush=True)


def result(name, value):
    say(f"result {name} {value}")


def check(cond, what):
    if not cond:
        raise Fail(what)


def wait_until(cond, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise Fail(f"{what}: not in {timeout:.0f} s")


def cpu_s(pid, tree=False):
    pids = [pid]
    if tree:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                pids += [int(p) for p in f.read().split()]
    total = 0
    for p in pids:
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / HZ


def live(d, event):
    return d.metrics().get(f'peercdn_edge_live_total{{event="{event}"}}', 0.0)


def sent_bytes(d):
    """Overlay bytes d sent, per neighbour and in all."""
    per = {}
    for k, v in d.metrics().items():
        if k.startswith("peercdn_overlay_bytes_total{") and 'direction="sent"' in k:
            per[re.search(r'neighbour="([^"]*)"', k).group(1)] = v
    return per, sum(per.values())


def edge_addr(d):
    e = d.config["edge"]
    return e["listen"][0], e["port"]


# ---- the encoder and the stamping pusher -------------------------------------------


class Pusher:
    """ffmpeg encodes once; its MPEG-TS goes through here to acme-n1 (a
    chunked POST), each packet's send time kept by its hash; its HLS goes
    to hls_dir for nginx."""

    def __init__(self, d, hls_dir):
        self.sent = {}  # packet hash -> monotonic time sent (first)
        self.dups = set()
        self.bytes = 0
        self.lock = threading.Lock()
        self.ffmpeg = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
             "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
             "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
             "-tune", "zerolatency", "-g", "25", "-b:v", "300k", "-c:a", "aac", "-b:a", "64k",
             "-f", "tee",
             f"[f=mpegts]pipe:1|[f=hls:hls_time=1:hls_list_size=6:hls_flags=delete_segments]"
             f"{hls_dir}/news.m3u8"],
            stdout=subprocess.PIPE, stderr=open(os.path.join(WORK, "ffmpeg.log"), "w"))
        self.sock = socket.create_connection(edge_addr(d), timeout=30)
        self.sock.sendall(f"POST /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n"
                          f"X-Live-Key: {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        buf = b""
        try:
            while True:
                data = self.ffmpeg.stdout.read1(65536)
                if not data:
                    return
                buf += data
                n = len(buf) // TS * TS
                if not n:
                    continue
                out, buf = buf[:n], buf[n:]
                now = time.monotonic()
                with self.lock:
                    for i in range(0, n, TS):
                        h = hashlib.blake2b(out[i:i + TS], digest_size=8).digest()
                        if h in self.sent:
                            self.dups.add(h)
                        else:
                            self.sent[h] = now
                    self.bytes += n
                self.sock.sendall(b"%x\r\n" % n + out + b"\r\n")
        except OSError:
            return

    def stop(self):
        if self.ffmpeg.poll() is None:
            self.ffmpeg.kill()
        self.ffmpeg.wait(timeout=10)
        self.sock.close()


# ---- progressive readers in threads (fan-out, delay, kill) ------------------------------


class Reader:
    """A progressive player at one edge, in a thread: counts bytes, the
    longest silence between reads, TS continuity errors, and each packet's
    arrival time (by hash) when stamps is set."""

    def __init__(self, d, stamps=False):
        self.name, self.stamps = d.name, stamps
        self.arrived = {}
        self.bytes, self.cc_errors, self.max_gap, self.status = 0, 0, 0.0, None
        self.gap_at = 0.0
        self.reads = []  # when each read returned bytes (monotonic s)
        self.stopped = False
        self.sock = socket.create_connection(edge_addr(d), timeout=30)
        self.sock.sendall(f"GET /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n\r\n".encode())
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        buf, head, last, cc = b"", True, None, {}
        try:
            while not self.stopped:
                data = self.sock.recv(65536)
                now = time.monotonic()
                if not data:
                    return
                if last is not None and now - last > self.max_gap:
                    self.max_gap, self.gap_at = now - last, last
                last = now
                self.reads.append(now)
                buf += data
                if head:
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    self.status = int(buf.split(b" ", 2)[1])
                    buf, head = buf[end + 4:], False
                n = len(buf) // TS * TS
                for i in range(0, n, TS):
                    p = buf[i:i + TS]
                    pid = (p[1] & 0x1F) << 8 | p[2]
                    if p[3] & 0x10 and pid not in (0, 0x1FFF):
                        c = p[3] & 0x0F
                        prev = cc.get(pid)
                        if prev is not None and c not in ((prev + 1) & 15, prev) and \
                                not (len(p) > 5 and p[3] & 0x20 and p[4] and p[5] & 0x80):
                            self.cc_errors += 1
                        cc[pid] = c
                    if self.stamps:
                        self.arrived.setdefault(hashlib.blake2b(p, digest_size=8).digest(), now)
                self.bytes += n
                buf = buf[n:]
        except OSError:
            return

    def silence_over(self, lo, hi):
        """The longest interval between two reads that overlaps [lo, hi]:
        the silence a player saw around an event at lo."""
        reads = self.reads
        return max((b - a for a, b in zip(reads, reads[1:]) if b > lo and a < hi), default=0.0)

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=10)


# ---- asyncio players (load) ----------------------------------------------------------------


async def http_get(reader, writer, path, host="e"):
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    check(m is not None, f"GET {path}: no Content-Length")
    body = await reader.readexactly(int(m.group(1)))
    return status, body


class Tally:
    def __init__(self):
        self.bytes = self.segments = self.stalls = self.errors = self.playlists = 0
        self.started = 0
        self.statuses = {}


async def hls_player(addr, playlist, tally, until):
    """Polls the playlist every half target duration, starts three segments
    from the end and fetches each new segment once; a stall is the playback
    clock (started at the first segment) passing the media fetched."""
    r, w = await asyncio.open_connection(*addr)
    done, media, play0 = set(), 0.0, None
    base = playlist.rsplit("/", 1)[0]
    tally.started += 1
    try:
        while time.monotonic() < until:
            st, body = await http_get(r, w, playlist)
            tally.playlists += 1
            tally.statuses[st] = tally.statuses.get(st, 0) + 1
            if st != 200:
                tally.errors += 1
                await asyncio.sleep(0.5)
                continue
            lines = body.decode().splitlines()
            target = float(next(x.split(":")[1] for x in lines if x.startswith("#EXT-X-TARGETDURATION")))
            seq = int(next((x.split(":")[1] for x in lines if x.startswith("#EXT-X-MEDIA-SEQUENCE")), "0"))
            segs, dur = [], None
            for x in lines:
                if x.startswith("#EXTINF:"):
                    dur = float(x[8:].split(",")[0])
                elif x and not x.startswith("#"):
                    segs.append((seq, dur, x))
                    seq += 1
            if not done:
                segs = segs[-3:]
            for n, d, uri in segs:
                if n in done:
                    continue
                if d is None:
                    d = target
                path = uri if uri.startswith("/") else f"{base}/{uri}"
                st, seg = await http_get(r, w, path)
                tally.statuses[st] = tally.statuses.get(st, 0) + 1
                if st != 200:
                    tally.errors += 1
                    continue
                done.add(n)
                tally.bytes += len(seg)
                tally.segments += 1
                now = time.monotonic()
                if play0 is None:
                    play0 = now
                elif now - play0 > media:
                    tally.stalls += 1
                    play0 = now - media  # playback resumes from here
                media += d
            await asyncio.sleep(target / 2)
    finally:
        w.close()


async def ts_player(addr, tally, until):
    r, w = await asyncio.open_connection(*addr)
    tally.started += 1
    try:
        w.write(f"GET /{ABC}/live/news.ts HTTP/1.1\r\nHost: e\r\n\r\n".encode())
        head = await r.readuntil(b"\r\n\r\n")
        st = int(head.split(b" ", 2)[1])
        tally.statuses[st] = tally.statuses.get(st, 0) + 1
        if st != 200:
            tally.errors += 1
            return
        last = None
        while time.monotonic() < until:
            try:
                data = await asyncio.wait_for(r.read(65536), timeout=max(0.1, until - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if not data:
                tally.errors += 1
                return
            now = time.monotonic()
            if last is not None and now - last > 1.0:
                tally.stalls += 1
            last = now
            tally.bytes += len(data)
    finally:
        w.close()


def load(kind, addr, path, pid, tree):
    """PLAYERS players of kind for SECS; returns (tally, cpu-s, secs)."""
    tally = Tally()

    async def main():
        until = time.monotonic() + SECS
        if kind == "ts":
            tasks = [ts_player(addr, tally, until) for _ in range(PLAYERS)]
        else:
            tasks = [hls_player(addr, path, tally, until) for _ in range(PLAYERS)]
        await asyncio.gather(*tasks)

    c0, t0 = cpu_s(pid, tree), time.monotonic()
    asyncio.run(main())
    c1, t1 = cpu_s(pid, tree), time.monotonic()
    return tally, c1 - c0, t1 - t0


# ---- the run ------------------------------------------------------------------------------


def main():
    configs = live_configs(ingest_timeout_ms=5000)
    for name, address in MORE_EDGES.items():
        e = dict(configs["beta-n3"]["edge"])
        e["listen"], e["port"] = [address], free_port(address)
        e["live"] = dict(e["live"], ingest=False)
        configs[name]["edge"] = e
    for cfg in configs.values():
        if "edge" in cfg:
            cfg["edge"]["access_log"] = ""
            cfg["edge"]["live"]["player_buffer_kb"] = 1024
            cfg["edge"]["live"]["player_flush_ms"] = FLUSH_MS
    routers, started = {}, []
    nginx = pusher = None
    readers = []
    try:
        for name, cfg in configs.items():
            d = Daemon(WORK, cfg, name=name, node=name)
            started.append(d)
            routers[name] = d.start()
        degree = {n: sum(n in (a, b) for a, b, _ in LINKS) for n in routers}
        for n, d in routers.items():
            wait_until(lambda: links_up(d) == degree[n], f"{n}'s links up")
        hls_dir = os.path.join(WORK, "nginx", "hls")
        os.makedirs(os.path.join(WORK, "nginx", "tmp"), exist_ok=True)
        os.makedirs(hls_dir, exist_ok=True)
        inj = routers["acme-n1"]
        pusher = Pusher(inj, hls_dir)
        wait_until(lambda: live(inj, "blocks_published") > 0, "acme-n1 publishes blocks")
        say(f"stream: ffmpeg pid {pusher.ffmpeg.pid} pushing to acme-n1, blocks published")

        # -- fanout: 1, 2, 4 edges behind acme-n3 ------------------------------------------
        order = ["beta-n3", "gamma-n2", "beta-n1", "gamma-n1"]
        others = [n for n in routers if "edge" in configs[n] and n not in order and n != "acme-n1"]
        for count in (1, 2, 4) if "fanout" in PHASES else ():
            while len(readers) < count:
                readers.append(Reader(routers[order[len(readers)]]))
            for rd in readers:
                wait_until(lambda: rd.bytes > 0, f"fanout: {rd.name}'s player gets bytes")
            time.sleep(2)  # the tree settles: every subscription is on
            got0 = {rd.name: live(routers[rd.name], "blocks_received") for rd in readers}
            idle0 = {n: live(routers[n], "blocks_received") for n in others}
            (n0, s0), i0, t0 = sent_bytes(inj), pusher.bytes, time.monotonic()
            time.sleep(FANOUT_SECS)
            (n1, s1), i1, t1 = sent_bytes(inj), pusher.bytes, time.monotonic()
            links = ", ".join(f"{n} {(n1[n] - n0.get(n, 0)) / (t1 - t0) / 1000:.1f}"
                              for n in sorted(n1))
            for rd in readers:
                got = live(routers[rd.name], "blocks_received") - got0[rd.name]
                check(got > 0, f"fanout {count}: {rd.name} received no block")
            for n in others:
                check(live(routers[n], "blocks_received") == idle0[n],
                      f"fanout {count}: {n} received blocks but was not playing")
            rate, ing = (s1 - s0) / (t1 - t0), (i1 - i0) / (t1 - t0)
            say(f"fanout {count} edge(s) {','.join(r.name for r in readers)}: injection point sends"
                f" {rate / 1000:.1f} kB/s on its links for {ing / 1000:.1f} kB/s ingested"
                f" ({rate / ing:.2f} x; kB/s per neighbour: {links})")
            result(f"fanout_{count}", f"{rate / ing:.3f}")
        for rd in readers:
            rd.stop()
        readers = []

        # -- delay: a packet's POST to its arrival at edges 0, 1, 4, 6 hops away ---------------
        if "delay" in PHASES:
            delay_phase(routers, pusher)

        # -- load: PLAYERS at beta-n3 (progressive, HLS), then at nginx (HLS) --------------------
        beta = routers["beta-n3"]
        if "load" in PHASES:
            nginx = load_phase(routers, pusher)

        # -- kill: a relay on the path dies under two players ---------------------------------------
        if "kill" in PHASES:
            for sig in (("TERM", "KILL") if KILL_SIGNAL == "both" else (KILL_SIGNAL,)):
                if routers["beta-n2"].proc.poll() is not None:  # stopped by the last round
                    routers["beta-n2"].start()
                    wait_until(lambda: links_up(routers["beta-n2"]) == degree["beta-n2"],
                               "kill: beta-n2's links up again")
                kill_phase(routers, pusher, beta, sig)
        return 0
    except Fail as e:
        say(f"FAIL: {e}")
        return 1
    finally:
        for rd in readers:
            rd.stop()
        if pusher:
            pusher.stop()
        if nginx:
            nginx.send_signal(signal.SIGTERM)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait(timeout=10)
        for d in started:
            try:
                d.stop()
            except AssertionError as e:
                say(f"stop: {e}"[:500])


def delay_phase(routers, pusher):
    """A packet's POST to its arrival at edges 0, 1, 4, 6 hops away."""
    readers = []
    try:
        readers = [Reader(routers[n], stamps=True) for n in HOPS]
        for rd in readers:
            wait_until(lambda: rd.bytes > 0, f"delay: {rd.name}'s player gets bytes")
        # The hop counts hold if the stream takes the path they assume: each
        # of these links must carry it (at least half the bytes ingested).
        path = [("acme-n1", "acme-n2"), ("acme-n1", "acme-n3"), ("acme-n3", "beta-n1"),
                ("beta-n1", "beta-n2"), ("beta-n2", "beta-n3"), ("beta-n3", "gamma-n1"),
                ("gamma-n1", "gamma-n2")]
        l0, i0 = {a: sent_bytes(routers[a])[0] for a, _ in path}, pusher.bytes
        time.sleep(SECS)
        l1, i1 = {a: sent_bytes(routers[a])[0] for a, _ in path}, pusher.bytes
        for a, b in path:
            carried = l1[a].get(b, 0) - l0[a].get(b, 0)
            check(carried >= (i1 - i0) / 2,
                  f"delay: {a} sent {b} {carried:.0f} bytes for {i1 - i0} ingested: the stream"
                  " does not take the path the hop counts assume")
        for rd in readers:
            rd.stop()
        with pusher.lock:
            sent = {h: t for h, t in pusher.sent.items() if h not in pusher.dups}
        medians = {}
        for rd in readers:
            delays = sorted(rd.arrived[h] - t for h, t in sent.items() if h in rd.arrived)
            check(rd.status == 200 and len(delays) > 100,
                  f"delay: {rd.name}: {len(delays)} stamped packets matched (status {rd.status})")
            med = statistics.median(delays) * 1000
            p95 = delays[int(len(delays) * 0.95)] * 1000
            medians[rd.name] = med
            say(f"delay {rd.name} ({HOPS[rd.name]} hops): {len(delays)} packets,"
                f" median {med:.1f} ms, p95 {p95:.1f} ms after their POST to acme-n1")
            result(f"delay_{HOPS[rd.name]}hop_ms", f"{med:.1f}")
        per_hop = (medians["gamma-n2"] - medians["acme-n2"]) / (HOPS["gamma-n2"] - HOPS["acme-n2"])
        say(f"delay per overlay hop (6 hops minus 1 hop, over 5): {per_hop:.2f} ms")
        result("delay_per_hop_ms", f"{per_hop:.2f}")
        readers = []
        time.sleep(3)  # acme-n1, acme-n2 linger and leave
    finally:
        for rd in readers:
            rd.stop()


def load_phase(routers, pusher):
    """PLAYERS at beta-n3 (progressive, HLS), then at nginx (HLS). Returns
    nginx's Popen, for main's finally to stop."""
    beta = routers["beta-n3"]
    hls_dir = os.path.join(WORK, "nginx", "hls")
    readers, nginx = [], None
    try:
        keep = Reader(beta)  # keeps beta-n3 subscribed between phases
        readers = [keep]
        wait_until(lambda: keep.bytes > 0, "beta-n3 plays")
        c0 = cpu_s(beta.proc.pid)
        time.sleep(min(SECS, 5))
        idle = (cpu_s(beta.proc.pid) - c0) / min(SECS, 5)
        say(f"load: beta-n3 subscribed, one player: {idle:.4f} CPU-s/s")
        port = free_port()
        conf = os.path.join(WORK, "nginx", "nginx.conf")
        with open(os.path.join(ROOT, "bench", "live", "nginx.conf.in")) as f:
            text = f.read().replace("@DIR@", os.path.join(WORK, "nginx")).replace("@PORT@", str(port))
        with open(conf, "w") as f:
            f.write(text)
        nginx = subprocess.Popen(["nginx", "-p", os.path.join(WORK, "nginx"), "-e",
                                  os.path.join(WORK, "nginx", "error.log"), "-c", conf,
                                  "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        wait_until(lambda: os.path.exists(os.path.join(hls_dir, "news.m3u8")), "ffmpeg writes HLS")

        def nginx_up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_until(nginx_up, "nginx listens")
        baddr = edge_addr(beta)
        per = {}
        for label, addr, path, pid, tree in (
                ("peercdn_ts", baddr, None, beta.proc.pid, False),
                ("peercdn_hls", baddr, f"/{ABC}/live/news.m3u8", beta.proc.pid, False),
                ("nginx_hls", ("127.0.0.1", port), "/hls/news.m3u8", nginx.pid, True)):
            p0 = live(beta, "players")
            g0 = live(beta, "segment_gets")
            tally, cpu, secs = load("ts" if label.endswith("ts") else "hls", addr, path, pid, tree)
            bad = {s: n for s, n in tally.statuses.items() if s != 200}
            check(tally.started == PLAYERS and not bad and tally.errors == 0,
                  f"{label}: {tally.started} players started, errors {tally.errors}, non-200 {bad}")
            check(tally.bytes > 0, f"{label}: no bytes")
            if label == "peercdn_ts":
                check(live(beta, "players") - p0 == PLAYERS,
                      f"{label}: beta-n3 counted {live(beta, 'players') - p0} players for {PLAYERS}")
            if label == "peercdn_hls":
                check(tally.segments >= PLAYERS and live(beta, "segment_gets") - g0 == tally.segments,
                      f"{label}: beta-n3 counted {live(beta, 'segment_gets') - g0} segment GETs"
                      f" for {tally.segments} fetched")
            if label == "nginx_hls":
                check(tally.segments >= PLAYERS, f"{label}: {tally.segments} segments for {PLAYERS} players")
            ps = PLAYERS * secs
            cpu_pps = cpu / ps  # CPU-s per player per second of stream
            net = max(cpu - (idle * secs if label.startswith("peercdn") else 0.0), 1e-9) / ps
            per[label] = cpu_pps
            say(f"load {label}: {PLAYERS} players x {secs:.1f} s: {tally.bytes / secs * 8 / 1e6:.2f} Mbit/s,"
                f" {tally.segments} segments, {tally.playlists} playlists, stalls {tally.stalls};"
                f" server {cpu:.3f} CPU-s = {cpu_pps * 1e3:.4f} ms per player-second"
                f" (net of the subscription with one player: {net * 1e3:.4f})")
            if cpu * HZ < MIN_TICKS:  # too few ticks to say anything: not a figure
                say(f"load {label}: {cpu * HZ:.0f} CPU ticks, under {MIN_TICKS}: players per core"
                    " not measured (more PLAYERS or PHASE_SECS)")
                per[label] = None
                result(f"{label}_players_per_core", "n/a")
            else:
                result(f"{label}_players_per_core", f"{1 / cpu_pps:.0f}")
            result(f"{label}_stalls", tally.stalls)
        if per["nginx_hls"] and per["peercdn_hls"]:
            result("players_per_core_ratio", f"{per['nginx_hls'] / per['peercdn_hls']:.3f}")
        else:
            result("players_per_core_ratio", "n/a")
        keep.stop()
        readers = []
        return nginx
    except BaseException:
        if nginx:
            nginx.kill()
            nginx.wait(timeout=10)
        raise
    finally:
        for rd in readers:
            rd.stop()


def kill_phase(routers, pusher, beta, sig):
    """A relay on the path dies under two players: by SIGKILL (no goodbye),
    or a clean stop by SIGTERM (its GOODBYE). Results kill_* or term_*."""
    tag = "kill" if sig == "KILL" else "term"
    readers = []
    try:
        gamma = routers["gamma-n2"]
        readers = [Reader(beta), Reader(gamma)]
        for rd in readers:
            wait_until(lambda: rd.bytes > 0, f"{tag}: {rd.name} plays")
        for rd in readers:
            rd.max_gap = 0.0
        relay = routers["beta-n2"]
        (r0, _), i0 = sent_bytes(relay), pusher.bytes
        time.sleep(3)
        (r1, _), i1 = sent_bytes(relay), pusher.bytes
        relayed = r1.get("beta-n3", 0) - r0.get("beta-n3", 0)
        check(relayed >= (i1 - i0) / 2,
              f"{tag}: beta-n2 sent beta-n3 {relayed:.0f} bytes for {i1 - i0} ingested: not on the path")
        say(f"{tag}: beta-n2 relays the stream to beta-n3 ({relayed / 3000:.1f} kB/s)")
        gaps0 = {d.name: live(d, "block_gaps") for d in (beta, gamma)}
        before = {rd.name: rd.max_gap for rd in readers}
        for rd in readers:
            rd.max_gap = 0.0
        t_kill = time.monotonic()
        if sig == "TERM":
            relay.stop()  # a clean stop: GOODBYE, then at most overlay.stop_grace_ms
        else:
            relay.proc.kill()  # it dies, no goodbye
            relay.proc.wait(timeout=10)
            relay._log.close()
        exited_ms = (time.monotonic() - t_kill) * 1000
        left = re.search(r"msg=overlay-left reason=(\S+) ms=(\d+)", relay.log())
        say(f"{tag}: beta-n2 killed (SIG{sig}, pid {relay.proc.pid}), gone {exited_ms:.0f} ms later"
            + (f" (overlay-left {left.group(1)} after {left.group(2)} ms)" if left and sig == "TERM" else "")
            + f"; longest silence in the 3 s before it:"
            f" {', '.join(f'{n} {g * 1000:.0f} ms' for n, g in before.items())}")
        result(f"{tag}_relay_exit_ms", f"{exited_ms:.0f}")
        b0 = {rd.name: rd.bytes for rd in readers}
        time.sleep(max(SECS / 2, 5))
        for rd in readers:
            rd.stop()
            check(rd.bytes > b0[rd.name], f"{tag}: {rd.name}'s player got nothing after the kill")
            gaps = live(routers[rd.name], "block_gaps") - gaps0[rd.name]
            # The silence the stop itself caused: the longest interval that
            # overlaps the second after the signal (the rest is the stream's
            # own rhythm, which the longest silence over the phase includes).
            at_stop = rd.silence_over(t_kill, t_kill + 1.0)
            say(f"{tag} {rd.name}: longest silence after the kill {rd.max_gap * 1000:.0f} ms"
                f" (from {(rd.gap_at - t_kill) * 1000:+.0f} ms of the kill), in the second after"
                f" it {at_stop * 1000:.0f} ms, TS continuity errors {rd.cc_errors},"
                f" block_gaps {gaps:.0f}, {rd.bytes - b0[rd.name]} bytes after the kill")
            result(f"{tag}_{rd.name}_silence_ms", f"{rd.max_gap * 1000:.0f}")
            result(f"{tag}_{rd.name}_silence_at_stop_ms", f"{at_stop * 1000:.0f}")
            result(f"{tag}_{rd.name}_cc_errors", rd.cc_errors)
            result(f"{tag}_{rd.name}_block_gaps", f"{gaps:.0f}")
        readers = []
    finally:
        for rd in readers:
            rd.stop()


# bench/lib.sh stops this driver with SIGTERM: exit through main's finally,
# which stops what it started.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
sys.exit(main())
