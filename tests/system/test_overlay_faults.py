"""The overlay under faults, on the eight routers of test_overlay.py (three
CDNs, two peering links), with a test stream from acme-n1 to beta-n3 and
gamma-n2 and no health role (so the only blocks on the links are the
stream's, and the per-link counters count them alone).

- A link cut mid-stream, no router killed: the beta-n2 — beta-n3 link runs
  through a TCP relay in this file, which the test cuts (both connections
  closed, new ones closed at once) and later restores. beta-n3 re-joins
  through beta-n1, then back through beta-n2; every subscriber's block
  sequence has no gap and no duplicate; beta-n2, left without a
  subscriber below it, is pruned.
- The per-link counters (peercdn_overlay_blocks_sent_total) once the stream
  is stopped (a reload without `overlay.test.channel`): no link carried
  more blocks than the source published, no router counted a duplicate,
  the unchanged links of the tree carried exactly what their child got, and
  acme-n2, off the tree, carried nothing.
- A hostile neighbour inside an established session: a fake router in
  Python that holds the link key, completes the HELLO exchange, derives
  the session keys (docs/overlay.md, "Authentication") and then sends a
  malformed body, an out-of-order frame, a replayed frame, a forged MAC,
  an unknown type, and a flood of LSAs and heartbeats. Each is refused and
  counted by reason; the session stays up; the stream goes on. A second
  fake claiming a CDN with no agreement is refused its JOIN and DATA
  (reason="policy"), and an LSA it sends that is not its own (reason=
  "border": only a neighbour's own LSA crosses a peering link).
- Flow control (docs/overlay.md, "Flow control"), with a stream of 16 KiB
  blocks faster than a stopped reader drains: a subscriber stopped with
  SIGSTOP for two seconds fills its parent's link, which holds reading up
  the tree to the source; after SIGCONT every subscriber's sequence has no
  gap and no duplicate and no link was cut. Then a fake neighbour of
  beta-n2 joins the stream and stops reading while it keeps sending
  heartbeats: beta-n2 cuts it after slow_link_ms (reason="slow") and the
  real subscribers go on, with no gap, no duplicate and no link cut.

Every process is stopped by PID; every wait is bounded."""
import hashlib
import os
import select
import signal
import socket
import struct
import threading
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.poly1305 import Poly1305

from conftest import free_port
from test_overlay import (DEADLINE, LINKS, ROUTERS, STREAM, SUBSCRIBERS, blocks, fnv1a,
                          link_key, links_up, metric, routes, router_configs, wait_until)

CUT = ("beta-n2", "beta-n3")  # the link the relay carries
FAKE_ID = 4000000000          # above beta-n2's id: the fake dials beta-n2
STRANGER_ID = 4100000000      # above gamma-n1's id: dials gamma-n1, CDN "nowhere"
FAKE_KEY = hashlib.sha256(b"test-key fake").hexdigest()
STRANGER_KEY = hashlib.sha256(b"test-key stranger").hexdigest()


class Relay:
    """A TCP relay on loopback that can be cut (every connection closed,
    new ones closed at once) and restored."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.cut_now = False
        self.pairs = []
        self.lock = threading.Lock()
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                a, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_now:
                a.close()
                continue
            try:
                b = socket.create_connection(self.target, timeout=2)
            except OSError:
                a.close()
                continue
            with self.lock:
                self.pairs.append((a, b))
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        socks = [a, b]
        try:
            while True:
                ready, _, _ = select.select(socks, [], [], 0.2)
                if self.cut_now or self.stopping:
                    break
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()

    def cut(self):
        self.cut_now = True
        with self.lock:
            for a, b in self.pairs:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            self.pairs = []

    def restore(self):
        self.cut_now = False

    def stop(self):
        self.stopping = True
        self.cut()
        self.listener.close()


MAC_LEN = 16


def mac(key, data):
    """docs/overlay.md, "Authentication": keyed BLAKE2b-128 for a HELLO (seq
    0, the link key); else Poly1305 under the one-time key that ChaCha20
    (IETF, block counter 0, nonce 00 00 00 00 || seq) makes from the key."""
    seq = struct.unpack("!Q", data[16:24])[0]
    if seq == 0:
        return hashlib.blake2b(data, digest_size=16, key=key).digest()
    nonce = bytes(8) + struct.pack("!Q", seq)  # cryptography's: counter, then nonce
    one_time = Cipher(algorithms.ChaCha20(key, nonce), mode=None).encryptor().update(bytes(32))
    return Poly1305.generate_tag(one_time, data)


def str8(b):
    return bytes([len(b)]) + b


class FakeRouter:
    """One end of a virtual link, dialled from Python: HELLO under the
    link key, then frames under this session's key for our direction, with
    our own sequence numbers. A thread drains what the router sends and
    another keeps the link alive with heartbeats."""

    def __init__(self, port, router_id, peer_id, key_hex, cdn):
        self.id, self.peer, self.cdn = router_id, peer_id, cdn.encode()
        self.link_key = bytes.fromhex(key_hex)
        self.nonce = os.urandom(16)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.lock = threading.Lock()
        self.seq = 0
        self.sent = []  # every frame we sent, for replay
        self.stopping = False
        self.closed = False
        self.reading = True  # False: a slow reader, heartbeats still going
        self.send_key = None
        self._send_raw(self.frame(1, self.hello_body(bytes(16)), key=self.link_key, seq=0))
        peer_nonce = self._read_hello()
        self.send_key = self.derive(self.id, self.nonce, peer_nonce)
        threading.Thread(target=self._drain, daemon=True).start()
        self.heartbeat()  # the accepting end is UP on our first frame under the keys
        threading.Thread(target=self._beat, daemon=True).start()

    def hello_body(self, peer_nonce):
        return str8(self.cdn) + self.nonce + peer_nonce + struct.pack("!III", 3, 50, 1000)

    def derive(self, sender, sender_nonce, receiver_nonce):
        return hashlib.blake2b(b"peercdn-ovl-1" + struct.pack("!I", sender) + sender_nonce +
                               receiver_nonce, digest_size=32, key=self.link_key).digest()

    def frame(self, ftype, body, key=None, seq=None, flags=0):
        head = (b"PO" + bytes([1, ftype]) + struct.pack("!HHII", flags, 0, len(body), self.id) +
                struct.pack("!Q", self.seq if seq is None else seq))
        return head + body + mac(key or self.send_key, head + body)

    def _read_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise AssertionError("the router closed the link")
            out += chunk
        return out

    def _read_hello(self):
        head = self._read_exact(24)
        length = struct.unpack("!I", head[8:12])[0]
        rest = self._read_exact(length + MAC_LEN)
        body = head + rest[:length]
        assert head[3] == 1, "the router's first frame is its HELLO"
        assert mac(self.link_key, body) == rest[length:], "its HELLO verifies under the key"
        cdn_len = body[24]
        nonce = body[25 + cdn_len:41 + cdn_len]
        echoed = body[41 + cdn_len:57 + cdn_len]
        assert echoed == self.nonce, "its HELLO echoes our nonce"
        return nonce

    def _send_raw(self, data):
        self.sock.sendall(data)

    def send(self, ftype, body, flags=0):
        """A well-formed frame with the next sequence number."""
        with self.lock:
            self.seq += 1
            f = self.frame(ftype, body, flags=flags)
            self.sent.append(f)
            self._send_raw(f)
            return f

    def send_skipping(self, ftype, body):
        """A frame one sequence number ahead of the next: out of order."""
        with self.lock:
            self._send_raw(self.frame(ftype, body, seq=self.seq + 2))

    def send_forged(self, ftype, body):
        """The next sequence number, the MAC of another key."""
        with self.lock:
            f = bytearray(self.frame(ftype, body, seq=self.seq + 1))
            f[-1] ^= 1
            self._send_raw(bytes(f))

    def send_bad(self, data):
        with self.lock:
            self._send_raw(data)

    def heartbeat(self):
        self.send(2, struct.pack("!QQ", int(time.monotonic() * 1000), 0))

    def _beat(self):
        while not self.stopping:
            try:
                self.heartbeat()
            except OSError:
                return
            time.sleep(0.04)

    def _drain(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            if not self.reading:
                time.sleep(0.05)
                continue
            try:
                if not self.sock.recv(1 << 16):
                    self.closed = True
                    return
            except socket.timeout:
                continue
            except OSError:
                self.closed = True
                return

    def close(self):
        self.stopping = True
        time.sleep(0.1)
        self.sock.close()


def lsa_body(origin, seq, cdn, links):
    return (struct.pack("!IIHH", origin, seq, 0, len(links)) + str8(cdn) +
            b"".join(struct.pack("!II", n, c) for n, c in links))


def join_body(source, channel, last=0, epoch=0):
    return struct.pack("!IQQ", source, epoch, last) + str8(channel)


def data_body(source, seq, channel, payload, epoch=1):
    return (struct.pack("!IQQ", source, epoch, seq) + str8(channel) +
            struct.pack("!I", len(payload)) + payload)


def sent(d, neighbour):
    """Content blocks sent to neighbour (the control groups' apart)."""
    return metric(d, "peercdn_overlay_blocks_sent_total", neighbour=neighbour, kind="content")


def chan(d, event):
    return metric(d, "peercdn_overlay_channel_total", event=event)


def rejected(d, neighbour, reason):
    return metric(d, "peercdn_overlay_rejected_total", neighbour=neighbour, reason=reason)


def stable(read, settle=1.0, timeout=15.0):
    """Waits until read() returns the same value over `settle` seconds."""
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


def no_gap_no_duplicate(name, seq):
    assert seq, name
    assert seq == list(range(seq[0], seq[0] + len(seq))), \
        (name, [(a, b) for a, b in zip(seq, seq[1:]) if b != a + 1][:10])


@pytest.fixture
def faulty(daemons):
    configs, ports = router_configs(free_port())
    ids = {name: fnv1a(name) for name in ROUTERS}
    del configs["acme-n1"]["health"]  # no LOAD blocks: the counters count the stream alone
    a, b = CUT
    low = a if ids[a] < ids[b] else b
    relay = Relay(ports[low])
    for me, other in (CUT, CUT[::-1]):
        for n in configs[me]["overlay"]["neighbours"]:
            if n["node"] == other:
                n["address"] = f"127.0.0.1:{relay.port}"
    configs["beta-n2"]["overlay"]["neighbours"].append(
        {"node": str(FAKE_ID), "address": "127.0.0.1:9", "key": FAKE_KEY, "cost": 10})
    configs["gamma-n1"]["overlay"]["neighbours"].append(
        {"node": str(STRANGER_ID), "address": "127.0.0.1:9", "key": STRANGER_KEY, "cost": 10})
    routers = {name: daemons(cfg, name=name, node=name) for name, cfg in configs.items()}
    yield routers, ports, ids, relay
    relay.stop()


def test_link_cut_counters_and_hostile_neighbours(faulty):
    routers, ports, ids, relay = faulty
    degree = {name: sum(name in (a, b) for a, b, _ in LINKS) for name in ROUTERS}
    for name, d in routers.items():
        wait_until(lambda: links_up(d) == degree[name], what=f"{name}'s links up")
    wait_until(lambda: routes(routers["beta-n3"]).get(ids["acme-n1"]) == ids["beta-n2"],
               what="beta-n3 reaches acme-n1 through beta-n2")
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= 30, what=f"{name} receives the stream")

    # --- the link is cut mid-stream ---
    b1, b2, b3 = routers["beta-n1"], routers["beta-n2"], routers["beta-n3"]
    before = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
    relay.cut()
    cut_at = time.monotonic()
    wait_until(lambda: routes(b3).get(ids["acme-n1"]) == ids["beta-n1"],
               what="beta-n3 re-routed through beta-n1")
    print(f"\nlink cut: beta-n3 re-routed {(time.monotonic() - cut_at) * 1000:.0f} ms after")
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= before[name] + 100,
                   what=f"{name} receives the stream after the cut")
        no_gap_no_duplicate(name, blocks(routers[name]))
    assert metric(b3, "peercdn_overlay_link_up", neighbour="beta-n2",
                  id=str(ids["beta-n2"])) == 0
    # beta-n2 has no subscriber below it any more: beta-n1 stops sending to it
    # (pruned within a few seconds) while the stream goes on.
    pruned = stable(lambda: sent(b1, "beta-n2"), settle=1.0, timeout=10)
    flowing = sent(b1, "beta-n3")
    time.sleep(0.5)
    assert sent(b1, "beta-n3") > flowing, "the stream goes on through beta-n1 — beta-n3"
    assert sent(b1, "beta-n2") == pruned, "the pruned branch carries nothing"

    # --- the link comes back: beta-n3 returns to the cheaper path ---
    relay.restore()
    wait_until(lambda: routes(b3).get(ids["acme-n1"]) == ids["beta-n2"], timeout=15,
               what="beta-n3 back through beta-n2")
    n = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= n[name] + 50,
                   what=f"{name} receives the stream after the restore")
        no_gap_no_duplicate(name, blocks(routers[name]))
    direct = stable(lambda: sent(b1, "beta-n3"), settle=1.0, timeout=10)
    assert sent(b2, "beta-n3") > 0
    # From here the routes are settled: acme-n2, on no subscriber's path,
    # carries nothing more (before the first convergence a JOIN may have
    # passed it).
    acme2 = [(x, y) for x, y in (("acme-n1", "acme-n2"), ("acme-n3", "acme-n2"),
                                 ("acme-n2", "acme-n1"), ("acme-n2", "acme-n3"))]
    acme2_before = {xy: sent(routers[xy[0]], xy[1]) for xy in acme2}

    # --- a hostile neighbour inside an established session ---
    fake = FakeRouter(ports["beta-n2"], FAKE_ID, ids["beta-n2"], FAKE_KEY, "beta")
    label = str(FAKE_ID)
    wait_until(lambda: metric(b2, "peercdn_overlay_link_up", neighbour=label, id=label) == 1,
               what="the fake's link up at beta-n2")
    ups = metric(b2, "peercdn_overlay_link_transitions_total", neighbour=label, to="up")
    count = {r: rejected(b2, label, r) for r in ("name", "seq", "mac", "type", "flood")}
    # Malformed: a JOIN whose channel is not a channel name (authenticated:
    # the sequence number is used up).
    fake.send(5, join_body(ids["acme-n1"], b"no such/ channel"))
    # Out of order: one sequence number skipped; nothing changes.
    fake.send_skipping(2, struct.pack("!QQ", 1, 0))
    # Replayed: a frame the router already took.
    replay = fake.sent[-3]
    fake.send_bad(replay)
    # Forged: the right sequence number under a wrong key.
    fake.send_forged(2, struct.pack("!QQ", 2, 0))
    # Unknown type: authenticated, skipped and counted.
    fake.send(42, b"")
    wait_until(lambda: rejected(b2, label, "name") >= count["name"] + 1, what="malformed")
    wait_until(lambda: rejected(b2, label, "seq") >= count["seq"] + 2, what="out of order")
    wait_until(lambda: rejected(b2, label, "mac") >= count["mac"] + 1, what="forged")
    wait_until(lambda: rejected(b2, label, "type") >= count["type"] + 1, what="unknown type")

    # A flood: 3000 LSAs in a burst, then a burst of heartbeats.
    flooded_at = time.monotonic()
    for seq in range(1, 3001):
        fake.send(3, lsa_body(FAKE_ID, seq, b"beta", [(ids["beta-n2"], 10)]))
    for _ in range(5000):
        fake.send(2, struct.pack("!QQ", 3, 0))
    wait_until(lambda: rejected(b2, label, "flood") >= count["flood"] + 1000,
               what="the LSA flood refused over the budget")
    refused = stable(lambda: rejected(b2, label, "flood"), settle=0.5)
    print(f"flood: {refused - count['flood']:.0f} of 3000 LSAs refused over the budget, "
          f"{(time.monotonic() - flooded_at) * 1000:.0f} ms")
    # The session survived all of it and the overlay keeps working.
    assert not fake.closed
    assert metric(b2, "peercdn_overlay_link_up", neighbour=label, id=label) == 1
    assert metric(b2, "peercdn_overlay_link_transitions_total", neighbour=label, to="up") == ups
    n = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= n[name] + 30,
                   what=f"{name}'s stream after the hostile neighbour")
    for name, d in routers.items():
        assert d.proc.poll() is None, name
        assert links_up(d) >= degree[name], name

    # A neighbour claiming a CDN with no agreement: its JOIN and DATA are refused.
    stranger = FakeRouter(ports["gamma-n1"], STRANGER_ID, ids["gamma-n1"], STRANGER_KEY,
                          "nowhere")
    slabel = str(STRANGER_ID)
    g1 = routers["gamma-n1"]
    wait_until(lambda: metric(g1, "peercdn_overlay_link_up", neighbour=slabel, id=slabel) == 1,
               what="the stranger's link up at gamma-n1")
    policy = rejected(g1, slabel, "policy")
    stranger.send(5, join_body(ids["acme-n1"], STREAM.encode()))
    stranger.send(7, data_body(STRANGER_ID, 1, b"gamma/policy", b"version 999"))
    wait_until(lambda: rejected(g1, slabel, "policy") >= policy + 2, what="policy refusals")
    # An LSA that is not the stranger's own — acme-n2's, whose interior
    # gamma must not learn — is refused at the border, and gamma-n1 holds
    # no LSA of acme-n2 after it.
    stranger.send(3, lsa_body(ids["acme-n2"], 7777, b"acme", [(STRANGER_ID, 1)]))
    wait_until(lambda: rejected(g1, slabel, "border") >= 1, what="a foreign LSA refused")
    assert f'peercdn_overlay_lsa_held{{origin="{ids["acme-n2"]}"}}' not in g1.metrics()
    assert sent(g1, slabel) == 0, "no block crossed to a CDN without an agreement"
    stranger.close()
    fake.close()

    # --- the stream stops; then the counters are exact ---
    src = routers["acme-n1"]
    del src.config["overlay"]["test"]["channel"]
    src.write_config()
    src.signal(signal.SIGHUP)
    src.wait_log("msg=reloaded", timeout=DEADLINE)
    # The subscribers' last blocks and every link's counter, settled
    # together: no block is still on its way.
    settled = stable(lambda: (tuple(blocks(routers[n])[-1] for n in SUBSCRIBERS),
                              tuple(sent(routers[x], y) for a, b, _ in LINKS
                                    for x, y in ((a, b), (b, a)))), settle=2.0, timeout=30)
    last = settled[0]
    published = last[0]
    assert all(x == published for x in last), last
    for name in SUBSCRIBERS:
        no_gap_no_duplicate(name, blocks(routers[name]))
    for name, d in routers.items():
        assert chan(d, "duplicates") == 0, name
        assert chan(d, "gaps") == 0, name
    # Every block crossed every link at most once.
    for a, b, _ in LINKS:
        for x, y in ((a, b), (b, a)):
            assert sent(routers[x], y) <= published, (x, y, sent(routers[x], y), published)
    # Links whose child never changed parent carried what it got, at most
    # once each (blocks that reached it before its log of the stream began
    # are counted on the link but not in the log).
    g2 = blocks(routers["gamma-n2"])
    assert len(g2) <= sent(routers["gamma-n1"], "gamma-n2") <= published
    assert len(g2) <= sent(routers["beta-n3"], "gamma-n1") <= published
    # beta-n3 got each block once, over one link or the other.
    b3_got = blocks(b3)
    assert sent(b1, "beta-n3") + sent(b2, "beta-n3") >= len(b3_got)
    assert sent(b1, "beta-n3") == direct
    # acme-n2 is on no subscriber's path: nothing more went to it or from it.
    for xy in acme2:
        assert sent(routers[xy[0]], xy[1]) == acme2_before[xy], xy
    print("per-link blocks: " + ", ".join(
        f"{x}>{y} {sent(routers[x], y):.0f}" for a, b, _ in LINKS for x, y in ((a, b), (b, a))
        if sent(routers[x], y)) + f" (published {published})")


PRESSED_SLOW_MS = 2500  # slow_link_ms: longer than the stop below, shorter than the deadline


@pytest.fixture
def pressed(daemons):
    configs, ports = router_configs(free_port())
    del configs["acme-n1"]["health"]
    for cfg in configs.values():
        # Longer than the stop: the stopped router's neighbours must not call it dead.
        cfg["overlay"].update({"dead_ms": 3000, "slow_link_ms": PRESSED_SLOW_MS})
    # About 13 MB/s offered: two seconds of it are more than the loopback
    # socket buffers between a stopped reader and its parent hold.
    configs["acme-n1"]["overlay"]["test"].update({"block_bytes": 16384, "burst": 16})
    configs["beta-n2"]["overlay"]["neighbours"].append(
        {"node": str(FAKE_ID), "address": "127.0.0.1:9", "key": FAKE_KEY, "cost": 10})
    routers = {name: daemons(cfg, name=name, node=name) for name, cfg in configs.items()}
    yield routers, ports
    for d in routers.values():
        if d.proc is not None and d.proc.poll() is None:
            d.signal(signal.SIGCONT)


def downs(routers):
    return {(name, a): metric(d, "peercdn_overlay_link_transitions_total", neighbour=a, to="down")
            for name, d in routers.items() for a in neighbours_of(name)}


def neighbours_of(name):
    return [b if a == name else a for a, b, _ in LINKS if name in (a, b)]


def test_flow_control_stopped_and_slow_readers(pressed):
    routers, ports = pressed
    ids = {name: fnv1a(name) for name in ROUTERS}
    degree = {name: sum(name in (a, b) for a, b, _ in LINKS) for name in ROUTERS}
    for name, d in routers.items():
        wait_until(lambda: links_up(d) == degree[name], what=f"{name}'s links up")
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= 30, what=f"{name} receives the stream")
    before_downs = downs(routers)

    # --- a subscriber stopped mid-stream: its parent's link fills and holds the tree ---
    g1, g2 = routers["gamma-n1"], routers["gamma-n2"]
    full_before = metric(g1, "peercdn_overlay_link_full_total", neighbour="gamma-n2")
    g2.signal(signal.SIGSTOP)
    try:
        time.sleep(2.0)
    finally:
        g2.signal(signal.SIGCONT)
    n = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= n[name] + 200, timeout=30,
                   what=f"{name} receives the stream after the stop")
        no_gap_no_duplicate(name, blocks(routers[name]))
    assert metric(g1, "peercdn_overlay_link_full_total", neighbour="gamma-n2") > full_before
    assert metric(g1, "peercdn_overlay_reading_held_total") >= 1
    assert downs(routers) == before_downs, "no link went down"
    for name, d in routers.items():
        for a in neighbours_of(name):
            for reason in ("slow", "overflow"):
                assert metric(d, "peercdn_overlay_link_cuts_total", neighbour=a,
                              reason=reason) == 0, (name, a, reason)
    print(f"\nstopped 2 s: gamma-n1 held its reading "
          f"{metric(g1, 'peercdn_overlay_reading_held_total'):.0f} times; "
          + ", ".join(f"{x} {len(blocks(routers[x]))} blocks" for x in SUBSCRIBERS))

    # --- a neighbour that joins and stops reading, heartbeats still going: cut as slow ---
    b2 = routers["beta-n2"]
    fake = FakeRouter(ports["beta-n2"], FAKE_ID, ids["beta-n2"], FAKE_KEY, "beta")
    try:
        wait_until(lambda: metric(b2, "peercdn_overlay_link_up", neighbour=str(FAKE_ID),
                                  id=str(FAKE_ID)) == 1, what="the fake's link up")
        fake.send(5, join_body(ids["acme-n1"], STREAM.encode()))
        wait_until(lambda: sent(b2, str(FAKE_ID)) >= 10, what="the fake receives the stream")
        fake.reading = False
        cut_at = time.monotonic()
        wait_until(lambda: metric(b2, "peercdn_overlay_link_cuts_total", neighbour=str(FAKE_ID),
                                  reason="slow") == 1,
                   timeout=PRESSED_SLOW_MS / 1000 + 20, what="beta-n2 cuts the slow reader")
        print(f"slow reader cut {(time.monotonic() - cut_at) * 1000:.0f} ms after it stopped "
              f"reading (slow_link_ms {PRESSED_SLOW_MS})")
    finally:
        fake.close()
    n = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= n[name] + 200, timeout=30,
                   what=f"{name} receives the stream after the cut")
        no_gap_no_duplicate(name, blocks(routers[name]))
    assert metric(b2, "peercdn_overlay_reading_held_total") >= 1
    assert downs(routers) == before_downs, "no real link went down"
    for name, d in routers.items():
        for a in neighbours_of(name):
            assert metric(d, "peercdn_overlay_link_cuts_total", neighbour=a, reason="slow") == 0
