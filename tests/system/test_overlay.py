"""The overlay role on loopback: eight peercdnd routers in three CDNs (acme,
beta, gamma of etc/peercdn.yaml, with more nodes) joined by virtual links,
two of them peering links (acme-n3 to beta-n1, beta-n3 to gamma-n1, with an
agreement beta-gamma added to acme-beta). Checks: every link comes up and
every router's routes lead, hop by hop, to every other router, while a
CDN holds no LSA of another CDN's interior routers (only its own and its
peers' borders', whose summaries route the rest); a server
killed (probed by acme-n1's health role) leaves the DNS and HTTP answers of
routers in the other two CDNs (the delay is printed, a generous deadline
asserted) and comes back; a router on a stream's path killed mid-stream,
the subscribers re-join through the new path and their block sequence has
no gap and no duplicate; a forged HELLO (wrong key) and garbage from a fake
neighbour are refused and counted, and the overlay keeps working. Every
process is stopped by PID; every wait is bounded."""
import hashlib
import re
import socket
import struct
import sys
import time

import dns.flags
import dns.message
import dns.query
import pytest

import conftest
from conftest import SOURCE, default_config, free_port
from test_redirect import exchange, get, header

sys.path.insert(0, str(SOURCE / "tests" / "system"))
from test_health import Server  # noqa: E402

DEADLINE = 5.0  # s: far above the target (< 1 s), so a slow machine does not flake
CLIENT = "127.7.0.10"  # AS 700, in no CDN: abc's answers come from acme (OUTSIDE)
ROUTERS = {  # node -> (CDN, AS)
    "acme-n1": ("acme", 100), "acme-n2": ("acme", 100), "acme-n3": ("acme", 100),
    "beta-n1": ("beta", 200), "beta-n2": ("beta", 200), "beta-n3": ("beta", 300),
    "gamma-n1": ("gamma", 600), "gamma-n2": ("gamma", 600),
}
# (a, b, cost): beta-n1 to beta-n3 directly costs more than through beta-n2,
# so the stream goes through beta-n2 until it dies.
LINKS = [
    ("acme-n1", "acme-n2", 10), ("acme-n2", "acme-n3", 10), ("acme-n1", "acme-n3", 10),
    ("acme-n3", "beta-n1", 10),
    ("beta-n1", "beta-n2", 10), ("beta-n2", "beta-n3", 10), ("beta-n1", "beta-n3", 30),
    ("beta-n3", "gamma-n1", 10),
    ("gamma-n1", "gamma-n2", 10),
]
ASKERS = {"acme-n2": "cdn.acme.net", "beta-n2": "cdn.beta.net", "gamma-n2": "cdn.gamma.net"}
STREAM = "acme/test"
SUBSCRIBERS = ["beta-n3", "gamma-n2"]


def fnv1a(name):
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h or 1


def link_key(a, b):
    return hashlib.sha256(f"test-key {min(a, b)} {max(a, b)}".encode()).hexdigest()


def router_configs(server_port):
    base = default_config()
    base["agreements"].append({"name": "beta-gamma", "between": ["beta", "gamma"],
                               "services": ["web", "vod"], "capacity_rps": 1000})
    known = {n["name"] for n in base["nodes"]}
    for i, (name, (cdn, asn)) in enumerate(ROUTERS.items()):
        if name not in known:
            base["nodes"].append({"name": name, "as": asn, "cdns": [cdn],
                                  "addresses": [f"127.9.255.{i + 1}"]})
    for server in base["servers"]:
        server["ports"] = {"http": server_port}
    ports = {name: free_port() for name in ROUTERS}
    configs = {}
    for name in ROUTERS:
        cfg = yaml_copy(base)
        cfg["self"] = name
        cfg["dns"] = {"enabled": False}
        cfg["control"] = {"metrics_port": free_port(), "metrics_listen": "127.0.0.1"}
        neighbours = []
        for a, b, cost in LINKS:
            if name in (a, b):
                other = b if name == a else a
                neighbours.append({"node": other, "address": f"127.0.0.1:{ports[other]}",
                                   "key": link_key(a, b), "cost": cost})
        cfg["overlay"] = {"enabled": True, "listen": ["127.0.0.1"], "port": ports[name],
                          "heartbeat_ms": 50, "dead_ms": 300, "load_every_ms": 500,
                          "neighbours": neighbours}
        if name in ASKERS:
            cfg["dns"] = {"enabled": True, "listen": ["127.0.0.1"], "port": free_port()}
            cfg["http"] = {"enabled": True, "listen": ["127.0.0.1"], "port": free_port()}
        configs[name] = cfg
    configs["acme-n1"]["health"] = {"enabled": True, "mode": "tcp", "interval_ms": 50,
                                    "timeout_ms": 100, "fall": 2, "rise": 2,
                                    "servers": ["acme-s1", "acme-s2"]}
    configs["acme-n1"]["overlay"]["test"] = {"channel": STREAM, "interval_ms": 10}
    for name in SUBSCRIBERS:
        configs[name]["overlay"]["test"] = {"subscribe": [f"{STREAM}@acme-n1"]}
    return configs, ports


def yaml_copy(obj):
    import copy
    return copy.deepcopy(obj)


def metric(d, name, **labels):
    key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                  if labels else "")
    return d.metrics().get(key, 0.0)


def wait_until(condition, timeout=DEADLINE, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not met in time")


def links_up(d):
    return sum(v for k, v in d.metrics().items() if k.startswith("peercdn_overlay_link_up{"))


def lsas_held(d):
    """The routers whose LSA d holds."""
    return {int(m.group(1)) for key in d.metrics()
            if (m := re.match(r'peercdn_overlay_lsa_held\{origin="(\d+)"\}', key))}


def routes(d):
    out = {}
    for key, value in d.metrics().items():
        m = re.match(r'peercdn_overlay_route_parent\{destination="(\d+)"\}', key)
        if m:
            out[int(m.group(1))] = int(value)
    return out


def dns_names(d, obj):
    domain = ASKERS[d.node]
    q = dns.message.make_query(f"{obj}.web.abc.{domain}", "A", use_edns=0)
    q.flags &= ~dns.flags.RD
    resp = dns.query.udp(q, "127.0.0.1", port=d.config["dns"]["port"], timeout=2,
                         source=CLIENT)
    return {r.address for rrset in resp.answer for r in rrset if hasattr(r, "address")}


def http_names(d, obj):
    raw = exchange(d.config["http"]["port"],
                   get(f"/www.abc.com/{obj}", host=f"abc.{ASKERS[d.node]}",
                       extra=b"Connection: close\r\n"), host="127.0.0.1", source=CLIENT)
    location = header(raw, "Location")
    return {location.split("/")[2].rsplit(":", 1)[0]} if location else set()


def named(d, objects):
    out = set()
    for obj in objects:
        out |= dns_names(d, obj) | http_names(d, obj)
    return out


def blocks(d):
    """The test stream's block numbers a subscriber logged, in order."""
    return [int(s) for s in re.findall(rf"msg=overlay-test-block channel={STREAM} "
                                       r"source=\d+ seq=(\d+)", d.log())]


@pytest.fixture
def overlay(daemons):
    port = free_port("127.1.200.1")
    servers = {"acme-s1": Server("127.1.200.1", port), "acme-s2": Server("127.1.200.2", port)}
    configs, ports = router_configs(port)
    routers = {name: daemons(cfg, name=name, node=name) for name, cfg in configs.items()}
    yield routers, servers, ports
    for s in servers.values():
        s.stop()


def test_overlay(overlay):
    routers, servers, ports = overlay
    ids = {name: fnv1a(name) for name in ROUTERS}

    # Every link up at both ends.
    degree = {name: sum(name in (a, b) for a, b, _ in LINKS) for name in ROUTERS}
    for name, d in routers.items():
        wait_until(lambda: links_up(d) == degree[name], what=f"{name}'s links up")
        assert metric(d, "peercdn_overlay_router_id") == ids[name]

    # Routes agree: from every router, following each router's parent toward
    # every destination reaches it over configured links, without a loop.
    adjacent = {(ids[a], ids[b]) for a, b, _ in LINKS} | {(ids[b], ids[a]) for a, b, _ in LINKS}

    def routes_agree():
        table = {ids[name]: routes(d) for name, d in routers.items()}
        for src in table:
            for dst in table:
                at, hops = src, 0
                while at != dst:
                    nxt = table[at].get(dst)
                    if nxt is None or (at, nxt) not in adjacent or hops > len(table):
                        return False
                    at, hops = nxt, hops + 1
        return True
    wait_until(routes_agree, what="routes agree")
    # The stream's path: beta-n1 reaches acme-n1 through acme-n3.
    assert routes(routers["beta-n3"])[ids["acme-n1"]] == ids["beta-n2"]

    # LSAs filtered at peering links (docs/overlay.md, "Peering"): a CDN
    # holds the LSAs of its own routers and of the border routers it peers
    # with, no other CDN's interior; it still routes to every router (above)
    # through the borders' summaries.
    borders = {"acme": {"beta-n1"}, "beta": {"acme-n3", "gamma-n1"}, "gamma": {"beta-n3"}}
    for name, d in routers.items():
        cdn = ROUTERS[name][0]
        want = {ids[n] for n, (c, _) in ROUTERS.items() if c == cdn} | \
            {ids[n] for n in borders[cdn]}
        wait_until(lambda: lsas_held(d) == want, what=f"{name} holds its CDN's and borders' LSAs")
        assert set(routes(d)) == {ids[n] for n in ROUTERS} - {ids[name]}, name
    for name in ("beta-n1", "beta-n2", "beta-n3"):
        held = lsas_held(routers[name])
        assert ids["acme-n1"] not in held and ids["acme-n2"] not in held, name
        assert ids["gamma-n2"] not in held, name
    for name in ("acme-n3", "beta-n1", "beta-n3", "gamma-n1"):  # borders refuse nothing
        assert all(v == 0 for k, v in routers[name].metrics().items()
                   if k.startswith("peercdn_overlay_rejected_total{") and 'reason="border"' in k)

    # --- a dead server leaves the other CDNs' answers within the deadline ---
    objects = [f"obj{i}" for i in range(6)]
    victim, victim_addr = "acme-s1", "127.1.200.1"
    for asker in ("beta-n2", "gamma-n2"):
        d = routers[asker]
        wait_until(lambda: victim_addr in named(d, [f"o{i}" for i in range(20)]),
                   what=f"{asker} names {victim}")
    servers[victim].kill()
    killed_at = time.monotonic()
    gone = {}
    while time.monotonic() - killed_at < DEADLINE and len(gone) < len(ASKERS):
        for asker in ASKERS:
            if asker not in gone and victim_addr not in named(routers[asker], ["obj0"]):
                gone[asker] = time.monotonic() - killed_at
    print("\nfailover: " + ", ".join(f"{a} {t * 1000:.0f} ms" for a, t in sorted(gone.items())))
    assert set(gone) == set(ASKERS), gone
    for asker in ASKERS:
        assert victim_addr not in named(routers[asker], objects), asker
    for asker in ("beta-n2", "gamma-n2"):
        assert metric(routers[asker], "peercdn_overlay_records_total", result="applied") > 0
        assert f"msg=overlay-server-down server={victim}" in routers[asker].log()

    servers[victim].start()
    back_at = time.monotonic()
    # Objects asked while the server is down stick to another server (the
    # redirectors' affinity), so fresh ones are asked once it is back.
    for asker in ("beta-n2", "gamma-n2"):
        routers[asker].wait_log(f"msg=overlay-server-up server={victim}", timeout=DEADLINE)
    for asker in ("beta-n2", "gamma-n2"):
        assert victim_addr in named(routers[asker], [f"b{i}" for i in range(40)]), asker
    print(f"recovery: {victim} named again {(time.monotonic() - back_at) * 1000:.0f} ms after "
          "its restart")

    # --- a router on the stream's path dies mid-stream ---
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= 20, what=f"{name} receives the stream")
    before = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
    dead = routers["beta-n2"]
    dead.proc.kill()
    dead.proc.wait(timeout=10)
    dead.proc = None  # killed on purpose: the fixture expects no exit status
    dead._log.close()
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= before[name] + 100,
                   what=f"{name} receives the stream after the reroute")
    wait_until(lambda: routes(routers["beta-n3"]).get(ids["acme-n1"]) == ids["beta-n1"],
               what="beta-n3 re-routed")
    for name in SUBSCRIBERS:
        seq = blocks(routers[name])
        assert seq == list(range(seq[0], seq[0] + len(seq))), \
            (name, [(a, b) for a, b in zip(seq, seq[1:]) if b != a + 1][:10])
    # One copy per link: beta-n1 sent each block once toward beta-n3.
    print("stream: " + ", ".join(f"{n} {len(blocks(routers[n]))} blocks" for n in SUBSCRIBERS))

    # --- forged and garbage input ---
    d = routers["acme-n2"]
    target = ("127.0.0.1", ports["acme-n2"])
    rejected_before = metric(d, "peercdn_overlay_rejected_total", neighbour="acme-n1",
                             reason="mac")
    unknown_before = metric(d, "peercdn_overlay_unknown_peers_total")
    # A HELLO claiming to be acme-n1 under a wrong key.
    body = (bytes([4]) + b"acme" + bytes(range(16)) + bytes(16) +
            struct.pack("!III", 3, 200, 1000))
    frame = (b"PO" + bytes([1, 1]) + struct.pack("!HHII", 0, 0, len(body), ids["acme-n1"]) +
             struct.pack("!Q", 0) + body + bytes(16))
    with socket.create_connection(target, timeout=5) as s:
        s.sendall(frame)
        s.settimeout(5)
        assert s.recv(100) == b""  # refused: closed
    # Garbage: not a frame at all; then a frame from a router nobody knows.
    with socket.create_connection(target, timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n" + bytes(100))
        s.settimeout(5)
        assert s.recv(100) == b""
    stranger = frame[:12] + struct.pack("!I", 12345) + frame[16:]
    with socket.create_connection(target, timeout=5) as s:
        s.sendall(stranger)
        s.settimeout(5)
        assert s.recv(100) == b""
    assert metric(d, "peercdn_overlay_rejected_total", neighbour="acme-n1",
                  reason="mac") == rejected_before + 1
    assert metric(d, "peercdn_overlay_unknown_peers_total") >= unknown_before + 1
    assert metric(d, "peercdn_overlay_rejected_total", neighbour="acme-n1", reason="magic") + \
        metric(d, "peercdn_overlay_unknown_peers_total") >= unknown_before + 2
    # The overlay keeps working: the real acme-n1 link stayed up and the
    # stream still flows.
    assert metric(d, "peercdn_overlay_link_up", neighbour="acme-n1",
                  id=str(ids["acme-n1"])) == 1
    n = len(blocks(routers["gamma-n2"]))
    wait_until(lambda: len(blocks(routers["gamma-n2"])) >= n + 20, what="stream after garbage")
