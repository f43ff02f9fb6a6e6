#!/usr/bin/env python3
"""bench/control.sh's driver: real peercdnd routers on loopback, started,
measured and stopped (by PID) here. One scenario per call:

  overlay.py PEERCDND FEDERATION WORKDIR failover TRIALS
  overlay.py PEERCDND FEDERATION WORKDIR chain BLOCKS BLOCK_BYTES SECONDS GBPS
  overlay.py PEERCDND FEDERATION WORKDIR fanout BLOCKS
  overlay.py PEERCDND FEDERATION WORKDIR relay BLOCK_BYTES MBYTES [log]

Prints "result KEY VALUE" lines for the script's summary and "check ..."
lines for what was verified; exits 1 (with "FAIL: ...") when a run measured
the wrong thing: a lost or doubled block, a refused record, a trial whose
server was never named before its death."""
import copy
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
import urllib.request

import yaml

PEERCDND, FEDERATION, WORK, SCENARIO = sys.argv[1:5]
ARGS = sys.argv[5:]
CLIENT = "127.7.0.10"  # AS 700, in no CDN: abc's answers come from acme (OUTSIDE)
PROCS = []  # every process started here, killed by PID at exit
STREAM = "acme/test"


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def free_port(host="127.0.0.1"):
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((host, 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind((host, port))
            except OSError:
                continue
            return port
    fail("no free port")


def fnv1a(name):
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h or 1


def link_key(a, b):
    return hashlib.sha256(f"bench-key {min(a, b)} {max(a, b)}".encode()).hexdigest()


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    fail(f"{what}: not within {timeout} s")


class Router:
    def __init__(self, name, config):
        self.name, self.config = name, config
        self.path = os.path.join(WORK, f"{name}.yaml")
        self.log_path = os.path.join(WORK, f"{name}.log")
        self.metrics_url = f"http://127.0.0.1:{config['control']['metrics_port']}/metrics"
        self.proc = None

    def write(self):
        with open(self.path, "w") as f:
            yaml.safe_dump(self.config, f, sort_keys=False)

    def start(self):
        self.write()
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([PEERCDND, "-c", self.path, "-n", self.name],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)

    def started(self):
        if self.proc.poll() is not None:
            fail(f"{self.name} exited: {self.log()[-2000:]}")
        return "msg=started" in self.log()

    def reload(self):
        self.write()
        self.proc.send_signal(signal.SIGHUP)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def metrics(self):
        out = {}
        for _ in range(100):  # bounded: the metrics listener may still be starting
            try:
                with urllib.request.urlopen(self.metrics_url, timeout=5) as r:
                    text = r.read().decode()
                break
            except OSError:
                time.sleep(0.05)
        else:
            fail(f"{self.name}: no metrics at {self.metrics_url}")
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def metric_sum(self, prefix, *needles):
        return sum(v for k, v in self.metrics().items()
                   if k.startswith(prefix) and all(n in k for n in needles))

    def cpu_s(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def blocks(self):
        """(seq, bytes, sent ns, arrival ns) of every test block this router logged."""
        out = []
        for m in re.finditer(rf"msg=overlay-test-block channel={STREAM} source=\d+ seq=(\d+) "
                             r"payload=\S* bytes=(\d+) sent_ns=(\d+) age_ns=(\d+)", self.log()):
            seq, size, sent, age = map(int, m.groups())
            out.append((seq, size, sent, sent + age))
        return out


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            p.terminate()
    for p in PROCS:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def overlay_configs(routers, links, base=None):
    """routers: name -> (cdn, as); links: (a, b, cost). Configs with the
    overlay on, redirectors off, one worker each."""
    base = copy.deepcopy(base or yaml.safe_load(open(FEDERATION)))
    for role in ("dns", "http", "rtsp", "cdsr"):
        base[role] = {"enabled": False}
    known = {n["name"] for n in base["nodes"]}
    for i, (name, (cdn, asn)) in enumerate(routers.items()):
        if name not in known:
            base["nodes"].append({"name": name, "as": asn, "cdns": [cdn],
                                  "addresses": [f"127.9.{i // 250}.{i % 250 + 1}"]})
    ports = {name: free_port() for name in routers}
    out = {}
    for name in routers:
        cfg = copy.deepcopy(base)
        cfg["self"] = name
        cfg["dns"] = {"enabled": False, "workers": 1}
        cfg["control"] = {"metrics_port": free_port(), "metrics_listen": "127.0.0.1"}
        neighbours = [{"node": b if name == a else a,
                       "address": f"127.0.0.1:{ports[b if name == a else a]}",
                       "key": link_key(a, b), "cost": cost}
                      for a, b, cost in links if name in (a, b)]
        cfg["overlay"] = {"enabled": True, "listen": ["127.0.0.1"], "port": ports[name],
                          "heartbeat_ms": 50, "dead_ms": 300, "load_every_ms": 500,
                          "neighbours": neighbours}
        out[name] = cfg
    return out


def start_routers(configs, links):
    routers = {name: Router(name, cfg) for name, cfg in configs.items()}
    for r in routers.values():
        r.start()
    for r in routers.values():
        wait_until(r.started, 30, f"{r.name} starts")
    degree = {n: sum(n in (a, b) for a, b, _ in links) for n in routers}
    for r in routers.values():
        wait_until(lambda: r.metric_sum("peercdn_overlay_link_up{") == degree[r.name], 30,
                   f"{r.name}'s links up")
    ids = {n: fnv1a(n) for n in routers}
    for r in routers.values():
        want = {str(ids[n]) for n in routers if n != r.name}
        wait_until(lambda: want <= {m.group(1) for m in re.finditer(
            r'route_parent\{destination="(\d+)"\}', "\n".join(r.metrics()))}, 30,
            f"{r.name} routes to every router")
    return routers


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


# ---- failover ------------------------------------------------------------------------

class Origin:
    """tests/system/origin_server.py on one server's address; killed with SIGKILL."""

    def __init__(self, address, port):
        self.address, self.port, self.proc = address, port, None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "tests/system/origin_server.py", "--address", self.address,
             "--port", str(self.port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        PROCS.append(self.proc)
        line = self.proc.stdout.readline()
        if not line.startswith("ready http://"):
            fail(f"origin {self.address} did not start: {line!r}")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        at = time.monotonic()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        return at


def dns_query(port, qname):
    """The A addresses of one DNS answer (raw UDP, no recursion)."""
    qid = int.from_bytes(os.urandom(2), "big")
    q = qid.to_bytes(2, "big") + b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in qname.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00\x00\x01\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((CLIENT, 0))
        s.settimeout(2)
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(4096)
    an = int.from_bytes(r[6:8], "big")
    at = 12 + len(q) - 12  # past the question (echoed as sent)
    out = set()
    for _ in range(an):
        while r[at] != 0 and r[at] < 0xC0:
            at += r[at] + 1
        at += 2 if r[at] >= 0xC0 else 1
        rtype, rdlen = int.from_bytes(r[at:at + 2], "big"), int.from_bytes(r[at + 8:at + 10], "big")
        if rtype == 1 and rdlen == 4:
            out.add(socket.inet_ntoa(r[at + 10:at + 14]))
        at += 10 + rdlen
    return out


def http_query(port, host, path):
    """The host a 302's Location names (raw HTTP/1.1, one connection)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((CLIENT, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    m = re.search(rb"\r\nLocation: *http://([^/:\r]+)", data, re.I)
    return {m.group(1).decode()} if m else set()


def cdsr_query(port, url):
    """The server address of one CDSR answer (docs/cdsr.md: a version-1
    request, no options, padded to 512 bytes as clients do; status OK)."""
    nonce = os.urandom(8)
    req = b"CDSR" + bytes([1, 0]) + nonce + len(url).to_bytes(2, "big") + url.encode()
    req += b"\0\0"
    req += bytes(max(0, 512 - len(req)))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((CLIENT, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        s.send(req)
        r = s.recv(2048)
    if r[:4] != b"CDSR" or not r[5] & 0x80 or r[6:14] != nonce or r[14] != 0 or r[27] != 4:
        return set()
    return {socket.inet_ntoa(r[30:34])}


ASKERS = {"acme-n2": "cdn.acme.net", "beta-n2": "cdn.beta.net", "gamma-n2": "cdn.gamma.net"}
PROTOS = ("dns", "http", "cdsr")


def ask(r, proto, obj):
    domain = ASKERS[r.name]
    if proto == "dns":
        return dns_query(r.config["dns"]["port"], f"{obj}.web.abc.{domain}")
    if proto == "cdsr":
        return cdsr_query(r.config["cdsr"]["port"], f"http://abc.{domain}/www.abc.com/{obj}")
    return http_query(r.config["http"]["port"], f"abc.{domain}", f"/www.abc.com/{obj}")


def failover(trials):
    routers_def = {
        "acme-n1": ("acme", 100), "acme-n2": ("acme", 100), "acme-n3": ("acme", 100),
        "beta-n1": ("beta", 200), "beta-n2": ("beta", 200), "beta-n3": ("beta", 300),
        "gamma-n1": ("gamma", 600), "gamma-n2": ("gamma", 600)}
    links = [("acme-n1", "acme-n2", 10), ("acme-n2", "acme-n3", 10), ("acme-n1", "acme-n3", 10),
             ("acme-n3", "beta-n1", 10), ("beta-n1", "beta-n2", 10), ("beta-n2", "beta-n3", 10),
             ("beta-n1", "beta-n3", 30), ("beta-n3", "gamma-n1", 10), ("gamma-n1", "gamma-n2", 10)]
    base = yaml.safe_load(open(FEDERATION))
    base["agreements"].append({"name": "beta-gamma", "between": ["beta", "gamma"],
                               "services": ["web", "vod"]})
    port = free_port("127.1.200.1")
    for s in base["servers"]:
        s["ports"] = {"http": port}
    configs = overlay_configs(routers_def, links, base)
    for name in ASKERS:
        configs[name]["dns"] = {"enabled": True, "listen": ["127.0.0.1"], "port": free_port(),
                                "workers": 1}
        configs[name]["http"] = {"enabled": True, "listen": ["127.0.0.1"], "port": free_port()}
        configs[name]["cdsr"] = {"enabled": True, "listen": ["127.0.0.1"], "port": free_port()}
    configs["acme-n1"]["health"] = {"enabled": True, "mode": "tcp", "interval_ms": 50,
                                    "timeout_ms": 100, "fall": 2, "rise": 2,
                                    "servers": ["acme-s1", "acme-s2"]}
    victim, victim_addr = "acme-s1", "127.1.200.1"
    origins = {"acme-s1": Origin("127.1.200.1", port), "acme-s2": Origin("127.1.200.2", port)}
    routers = start_routers(configs, links)
    print(f"check failover: 8 routers up, routes converged; probes on acme-n1 (tcp every 50 ms, "
          f"fall 2), LOAD records over the overlay to {', '.join(ASKERS)}", flush=True)
    delays = {proto: [] for proto in PROTOS}
    per = {}
    for trial in range(trials):
        # Objects whose answers name the victim, per asker and protocol.
        watch = {}
        for name in ASKERS:
            for proto in PROTOS:
                objs = []
                deadline = time.monotonic() + 10
                i = 0
                while len(objs) < 3 and time.monotonic() < deadline:
                    obj = f"t{trial}-{proto}-{i}"
                    i += 1
                    if victim_addr in ask(routers[name], proto, obj):
                        objs.append(obj)
                if not objs:
                    fail(f"trial {trial}: {name} {proto} never names {victim} before its death")
                watch[(name, proto)] = objs
        last_named = {k: None for k in watch}
        answers = {k: 0 for k in watch}
        stop = threading.Event()
        killed = {}

        def loop(key):
            r, proto = routers[key[0]], key[1]
            i = 0
            while not stop.is_set():
                obj = watch[key][i % len(watch[key])]
                i += 1
                try:
                    names = ask(r, proto, obj)
                except OSError:
                    continue
                t = time.monotonic()
                answers[key] += 1
                if victim_addr in names:
                    last_named[key] = t
        threads = [threading.Thread(target=loop, args=(k,)) for k in watch]
        for t in threads:
            t.start()
        time.sleep(0.2)
        killed_at = origins[victim].kill()
        time.sleep(2.0)  # the window: an answer naming it later than this fails the trial
        stop.set()
        for t in threads:
            t.join()
        for key, t in last_named.items():
            if t is None:
                fail(f"trial {trial}: {key} never named {victim} in the loop")
            d = max(0.0, t - killed_at) * 1000
            if d > 1900:
                fail(f"trial {trial}: {key} still named {victim} {d:.0f} ms after its death")
            delays[key[1]].append(d)
            per.setdefault(key, []).append(d)
        n_answers = sum(answers.values())
        origins[victim].start()
        for name in ASKERS:
            wait_until(lambda: f"msg=overlay-server-up server={victim} " in
                       routers[name].log().split("msg=overlay-server-down")[-1], 10,
                       f"{name} takes {victim} back")
        time.sleep(0.3)
        worst = max(max(v) for v in per.values())
        last = max(max(delays[p][-len(ASKERS):]) for p in PROTOS)
        print(f"trial {trial + 1}: last answer naming {victim} at {last:.0f} ms "
              f"(worst so far {worst:.0f}); {n_answers} answers in the window", flush=True)
    for proto in PROTOS:
        v = delays[proto]
        print(f"result failover_{proto}_p50_ms {statistics.median(v):.0f}")
        print(f"result failover_{proto}_p99_ms {pct(v, 99):.0f}")
        print(f"result failover_{proto}_max_ms {max(v):.0f}")
    allv = [d for proto in PROTOS for d in delays[proto]]
    print(f"result failover_p50_ms {statistics.median(allv):.0f}")
    print(f"result failover_p99_ms {pct(allv, 99):.0f}")
    print(f"result failover_samples {len(allv)}")
    for (name, proto), v in sorted(per.items()):
        print(f"check failover {name} {proto}: p50 {statistics.median(v):.0f} ms, "
              f"max {max(v):.0f} ms over {len(v)} trials")


# ---- a chain of five routers ------------------------------------------------------------

def chain(blocks, block_bytes, seconds, offered_gbps):
    names = [f"acme-c{i}" for i in range(1, 6)]
    links = [(names[i], names[i + 1], 10) for i in range(4)]
    configs = overlay_configs({n: ("acme", 100) for n in names}, links)
    for cfg in configs.values():  # as in relay(): a starved router must not flap
        cfg["overlay"].update({"heartbeat_ms": 100, "dead_ms": 1500})
    for n in names[1:]:
        configs[n]["overlay"]["test"] = {"subscribe": [f"{STREAM}@{names[0]}"]}
    routers = start_routers(configs, links)
    src = routers[names[0]]
    time.sleep(1.0)  # the subscribers' JOINs reach the source
    # 1. Latency: 1 KiB blocks, 50 a second, the chain otherwise idle.
    src.config["overlay"]["test"] = {"channel": STREAM, "interval_ms": 20, "block_bytes": 1024,
                                     "count": blocks}
    src.reload()
    last = routers[names[-1]]
    wait_until(lambda: any(b[0] == blocks for b in last.blocks()), 60, "latency blocks arrive")
    arrivals = {n: {b[0]: b[3] for b in routers[n].blocks()} for n in names[1:]}
    hops = []
    for i in range(1, 4):
        a, b = arrivals[names[i]], arrivals[names[i + 1]]
        hops += [b[s] - a[s] for s in range(1, blocks + 1) if s in a and s in b]
    first_hop = [b[3] - b[2] for b in routers[names[1]].blocks()]
    print(f"result hop_p50_us {statistics.median(hops) / 1000:.1f}")
    print(f"result hop_p99_us {pct(hops, 99) / 1000:.1f}")
    print(f"check latency: {len(hops)} hop samples (router 2->3, 3->4, 4->5; {blocks} blocks "
          f"of 1 KiB, 50 a second); publish->router 2 p50 "
          f"{statistics.median(first_hop) / 1000:.1f} us, p99 {pct(first_hop, 99) / 1000:.1f} us",
          flush=True)
    # 2. Throughput: large blocks at the offered rate (bursts every 20 ms
    # tick; flow control holds the source while a link is full, so an
    # offer above what the chain carries is delivered at what it carries).
    burst = max(1, round(offered_gbps * 1e9 / 8 * 0.020 / block_bytes))
    total = blocks + burst * max(1, int(seconds * 50))
    cpu0 = {n: routers[n].cpu_s() for n in names}
    t0 = time.monotonic()
    src.config["overlay"]["test"] = {"channel": STREAM, "interval_ms": 20,
                                     "block_bytes": block_bytes, "burst": burst, "count": total}
    src.reload()
    wait_until(lambda: any(b[0] == total for b in last.blocks()), 120, "throughput blocks arrive")
    wall = time.monotonic() - t0
    for n in names[1:]:
        seqs = [b[0] for b in routers[n].blocks()]
        if seqs != list(range(1, total + 1)):
            bad = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1][:5]
            fail(f"{n}: block sequence has gaps or duplicates: {bad} ({len(seqs)} of {total})")
    print(f"check chain: every subscriber got blocks 1..{total} once, in order")
    for i in range(4):
        sent = routers[names[i]].metric_sum("peercdn_overlay_blocks_sent_total",
                                            f'neighbour="{names[i + 1]}"', 'kind="content"')
        if sent != total:
            fail(f"{names[i]} sent {sent:.0f} blocks to {names[i + 1]}, not {total}")
    print(f"check chain: each link carried each block once ({total} blocks per link)")
    mine = [b for b in last.blocks() if b[0] > blocks]
    span = (mine[-1][3] - mine[0][3]) / 1e9
    gbps = sum(b[1] for b in mine[1:]) * 8 / span / 1e9
    cpu = {n: routers[n].cpu_s() - cpu0[n] for n in names}
    print(f"result relay_gbps {gbps:.2f}")
    print(f"result relay_blocks {len(mine)}")
    print(f"result relay_block_bytes {block_bytes}")
    print(f"result relay_offered_gbps {burst * block_bytes * 8 * 50 / 1e9:.2f}")
    print(f"check throughput: {len(mine)} blocks of {block_bytes} bytes through 5 routers in "
          f"{span:.2f} s ({wall:.1f} s wall); CPU s: " +
          ", ".join(f"{n} {cpu[n]:.2f}" for n in names), flush=True)
    relay_cpu = statistics.median(cpu[n] for n in names[1:4])
    per_core = sum(b[1] for b in mine) * 8 / relay_cpu / 1e9 if relay_cpu > 0 else 0
    print(f"result relay_gbps_per_cpu {per_core:.2f}")
    # 3. Control records: the source publishes LOAD records (1000 a block)
    # as fast as its links drain; every router applies them.
    src.config["overlay"]["test"] = {"channel": STREAM, "interval_ms": 20,
                                     "load_records": 1000, "burst": 20}
    recv = routers[names[1]]
    a0 = recv.metric_sum("peercdn_overlay_records_total", 'result="applied"')
    bad0 = recv.metric_sum("peercdn_overlay_records_total", 'result="refused"')
    c0, t0 = recv.cpu_s(), time.monotonic()
    src.reload()
    time.sleep(5)
    a1 = recv.metric_sum("peercdn_overlay_records_total", 'result="applied"')
    bad1 = recv.metric_sum("peercdn_overlay_records_total", 'result="refused"')
    c1, t1 = recv.cpu_s(), time.monotonic()
    src.config["overlay"].pop("test")
    src.reload()
    if a1 - a0 < 1000:
        fail(f"{recv.name} applied {a1 - a0:.0f} LOAD records in 5 s")
    if bad1 != bad0:
        fail(f"{recv.name} refused {bad1 - bad0:.0f} bench LOAD records")
    rate = (a1 - a0) / (t1 - t0)
    print(f"result records_per_s {rate:.0f}")
    print(f"result records_per_cpu_s {(a1 - a0) / max(c1 - c0, 1e-9):.0f}")
    print(f"check records: {recv.name} applied {a1 - a0:.0f} LOAD records in {t1 - t0:.1f} s "
          f"(none refused) and forwarded them, CPU {100 * (c1 - c0) / (t1 - t0):.0f} %")


def relay(block_bytes, mbytes, log_relay=False):
    """One relay's cost per byte: source -> relay -> sink, only the sink
    subscribing (so the relay does nothing but relay: no block is logged
    there), the source publishing as fast as flow control lets it.
    CPU-seconds of the relay per GB relayed (utime + stime from
    /proc/PID/stat, 10 ms ticks), and the rate the sink received."""
    names = ["acme-r1", "acme-r2", "acme-r3"]
    links = [(names[0], names[1], 10), (names[1], names[2], 10)]
    configs = overlay_configs({n: ("acme", 100) for n in names}, links)
    for cfg in configs.values():
        # A throughput run, not a failover one: a router starved for 300 ms
        # by the rest of a busy machine must not flap its links (a re-join
        # past the window is a gap, and the run fails).
        cfg["overlay"].update({"heartbeat_ms": 100, "dead_ms": 1500})
    configs[names[2]]["overlay"]["test"] = {"subscribe": [f"{STREAM}@{names[0]}"]}
    if log_relay:  # what the chain's relays do: log every block too
        configs[names[1]]["overlay"]["test"] = {"subscribe": [f"{STREAM}@{names[0]}"]}
    routers = start_routers(configs, links)
    src, mid, sink = (routers[n] for n in names)
    time.sleep(1.0)  # the sink's JOIN reaches the source
    total = max(1, int(mbytes * 1e6 / block_bytes))
    burst = max(1, int(10e9 / 8 / 50 / block_bytes))  # 10 Gbit/s offered: flow control paces
    cpu0 = {n: routers[n].cpu_s() for n in names}
    src.config["overlay"]["test"] = {"channel": STREAM, "interval_ms": 20,
                                     "block_bytes": block_bytes, "burst": burst, "count": total}
    src.reload()
    wait_until(lambda: any(b[0] == total for b in sink.blocks()), 600, "relay blocks arrive")
    cpu = {n: routers[n].cpu_s() - cpu0[n] for n in names}
    got = sink.blocks()
    seqs = [b[0] for b in got]
    if seqs != list(range(1, total + 1)):
        fail(f"sink: block sequence has gaps or duplicates ({len(seqs)} of {total})")
    nbytes = sum(b[1] for b in got)
    span = (got[-1][3] - got[0][3]) / 1e9
    print(f"result relay1_gbps {nbytes * 8 / span / 1e9:.2f}")
    print(f"result relay1_cpu_s_per_gb {cpu[names[1]] / (nbytes / 1e9):.3f}")
    print(f"result relay1_gbps_per_cpu {nbytes * 8 / 1e9 / max(cpu[names[1]], 1e-9):.2f}")
    print(f"check relay: {total} blocks of {block_bytes} bytes once, in order; {span:.2f} s; "
          f"CPU s: " + ", ".join(f"{n} {cpu[n]:.2f}" for n in names), flush=True)


# ---- fan-out --------------------------------------------------------------------------

def fanout(blocks):
    """source -> hub -> 4 relays -> 4 leaves each; N subscribing leaves."""
    names = {"acme-src": ("acme", 100), "acme-hub": ("acme", 100)}
    links = [("acme-src", "acme-hub", 10)]
    leaves = []
    for r in range(4):
        names[f"acme-r{r}"] = ("acme", 100)
        links.append(("acme-hub", f"acme-r{r}", 10))
        for leaf in range(4):
            names[f"acme-r{r}l{leaf}"] = ("acme", 100)
            links.append((f"acme-r{r}", f"acme-r{r}l{leaf}", 10))
            leaves.append(f"acme-r{r}l{leaf}")
    results = {}
    for n in (1, 4, 16):
        subs = [leaves[i * (16 // n)] for i in range(n)] if n < 16 else leaves
        if True:
            configs = overlay_configs(names, links)
            for s in subs:
                configs[s]["overlay"]["test"] = {"subscribe": [f"{STREAM}@acme-src"]}
            routers = start_routers(configs, links)
            time.sleep(1.0)
            src = routers["acme-src"]
            b0 = src.metric_sum("peercdn_overlay_bytes_total", 'direction="sent"')
            k0 = sum(r.metric_sum("peercdn_overlay_blocks_sent_total", 'kind="content"')
                     for r in routers.values())
            src.config["overlay"]["test"] = {"channel": STREAM, "interval_ms": 20,
                                             "block_bytes": 1024, "burst": 10, "count": blocks}
            src.reload()
            for s in subs:
                wait_until(lambda: any(b[0] == blocks for b in routers[s].blocks()), 60,
                           f"{s} receives the stream")
                seqs = [b[0] for b in routers[s].blocks()]
                if seqs != list(range(1, blocks + 1)):
                    fail(f"fan-out N={n}: {s} got {len(seqs)} blocks, not 1..{blocks} once")
            b1 = src.metric_sum("peercdn_overlay_bytes_total", 'direction="sent"')
            k1 = sum(r.metric_sum("peercdn_overlay_blocks_sent_total", 'kind="content"')
                     for r in routers.values())
            # Nothing on branches without subscribers.
            # (content blocks sent to them by any router: the control
            # groups' channels, LOAD records among them, reach every router)
            def content_in(r):
                return sum(o.metric_sum("peercdn_overlay_blocks_sent_total",
                                        f'neighbour="{r}"', 'kind="content"')
                           for o in routers.values())
            quiet = [r for r in routers if r not in ("acme-src", "acme-hub") and not any(
                sub.startswith(r) for sub in subs) and content_in(r) > 0]
            if quiet:
                fail(f"fan-out N={n}: routers without subscribers below got blocks: {quiet}")
            src_blocks = src.metric_sum("peercdn_overlay_blocks_sent_total", 'kind="content"')
            results[n] = (b1 - b0, src_blocks, k1 - k0)
            print(f"check fanout N={n}: every subscriber got blocks 1..{blocks} once; the source "
                  f"sent {src_blocks:.0f} blocks ({b1 - b0:.0f} bytes, heartbeats included); "
                  f"{k1 - k0:.0f} block copies on all links of the tree", flush=True)
            stop_all()
            PROCS.clear()
    single = results[1][0]
    for n, (b, sb, links_total) in results.items():
        print(f"result fanout_{n}_source_bytes {b:.0f}")
        print(f"result fanout_{n}_unicast_bytes {n * single:.0f}")
        print(f"result fanout_{n}_tree_copies {links_total:.0f}")
        print(f"result fanout_{n}_unicast_copies {n * 3 * blocks}")
    print(f"result fanout_16_saving {16 * single / results[16][0]:.2f}")


try:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if SCENARIO == "failover":
        failover(int(ARGS[0]))
    elif SCENARIO == "chain":
        chain(int(ARGS[0]), int(ARGS[1]), float(ARGS[2]), float(ARGS[3]))
    elif SCENARIO == "fanout":
        fanout(int(ARGS[0]))
    elif SCENARIO == "relay":
        relay(int(ARGS[0]), float(ARGS[1]), len(ARGS) > 2 and ARGS[2] == "log")
    else:
        fail(f"unknown scenario {SCENARIO}")
finally:
    stop_all()
