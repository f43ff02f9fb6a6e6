"""The health role against running content servers: acme-n1 runs DNS, the
HTTP redirector, CDSR and health; acme's servers are origin_server.py
processes on their addresses from the default config. Killing the server
the answers name takes it out of every DNS, HTTP 302 and CDSR answer (the
measured delay is printed; the issue's target is under a second, asserted
here only against a generous deadline), and starting it again brings it
back. Also: a TCP-mode probe, and the verdict kept across a reload. Every
process is stopped by PID; every wait is bounded."""
import signal
import socket
import struct
import subprocess
import sys
import time

import dns.flags
import dns.message
import dns.query
import pytest

import conftest
from conftest import SOURCE, free_port
from test_redirect import ANYCAST, cdsr_exchange, exchange, get, header, redirect_config

sys.path.insert(0, str(SOURCE / "tests" / "fuzz"))
import gen_cdsr_corpus as cdsr  # noqa: E402

# acme's servers (etc/peercdn.yaml) and what a gold client of AS 100 gets.
ACME = {"acme-s1": "127.1.200.1", "acme-s2": "127.1.200.2", "acme-core": "127.1.201.1",
        "acme-s4": "127.4.200.1"}
CLIENT = "127.1.0.10"
DEADLINE = 5.0  # s: far above the target (< 1 s), so a slow machine does not flake


class Server:
    """origin_server.py on one server's address and port, stopped by PID."""

    def __init__(self, address, port):
        self.address, self.port = address, port
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(SOURCE / "tests" / "system" / "origin_server.py"),
             "--address", self.address, "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()  # bounded: the server prints or exits
        if not line.startswith("ready http://"):
            self.stop()
            raise AssertionError(f"server {self.address}:{self.port} did not start: {line!r}")
        conftest._started.append((self.proc.pid, [self.port]))

    def kill(self):
        """SIGKILL: the server dies without closing anything politely."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if not self.proc.stdout.closed:
            self.proc.stdout.close()


def common_port():
    """A port free on every acme server address (bounded tries)."""
    for _ in range(50):
        port = free_port(ACME["acme-s1"])
        try:
            for address in ACME.values():
                with socket.socket() as s:
                    s.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on every server address")


@pytest.fixture
def servers():
    port = common_port()
    running = {name: Server(address, port) for name, address in ACME.items()}
    yield running
    for s in running.values():
        s.stop()


def health_config(port, **health):
    cfg = redirect_config(server_http_port=port)
    cfg["health"] = {"enabled": True, "interval_ms": 100, "timeout_ms": 200, **health}
    return cfg


# --- what each redirector names ---------------------------------------------

def dns_names(d, obj):
    """The addresses of a DNS answer for object obj of provider abc."""
    q = dns.message.make_query(f"{obj}.web.abc.cdn.acme.net", "A", use_edns=0)
    q.flags &= ~dns.flags.RD
    resp = dns.query.udp(q, "127.0.0.1", port=d.dns_port, timeout=2, source=CLIENT)
    return {r.address for rrset in resp.answer for r in rrset if hasattr(r, "address")}


def http_names(d, obj):
    raw = exchange(d.config["http"]["port"],
                   get(f"/www.abc.com/{obj}", extra=b"Connection: close\r\n"), source=CLIENT)
    location = header(raw, "Location")
    assert location is not None, raw
    return {location.split("/")[2].rsplit(":", 1)[0]}


def cdsr_names(d, obj):
    answer = cdsr_exchange(d.config["cdsr"]["port"],
                           cdsr.request(f"http://abc.cdn.acme.net/www.abc.com/{obj}",
                                        pad_to=512), source=CLIENT)
    assert answer is not None and answer[:4] == b"CDSR" and answer[14] == 0, answer
    family, = struct.unpack("!B", answer[27:28])
    assert family == 4
    return {socket.inet_ntoa(answer[30:34])}


ASK = {"dns": dns_names, "http": http_names, "cdsr": cdsr_names}


def named(d, objects):
    """Every address any redirector names for any of objects."""
    out = set()
    for obj in objects:
        for ask in ASK.values():
            out |= ask(d, obj)
    return out


def metric(d, name, **labels):
    key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                  if labels else "")
    return d.metrics().get(key, 0.0)


def wait_until(condition, timeout=DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def wait_metric(d, name, value, timeout=DEADLINE, **labels):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(d, name, **labels) == value:
            return
        time.sleep(0.02)
    raise AssertionError(f"{name}{labels} never {value}: {metric(d, name, **labels)}\n"
                         f"{d.log()[-3000:]}")


# --- tests ------------------------------------------------------------------

def test_dead_server_leaves_every_answer_and_comes_back(daemons, servers):
    port = servers["acme-s1"].port
    d = daemons(health_config(port), node="acme-n1")
    # Every server probed a few times, none failed.
    wait_until(lambda: metric(d, "peercdn_health_probes_total", result="ok") >= 3 * len(ACME))
    assert metric(d, "peercdn_health_probes_total", result="failed") == 0, d.log()
    for name in ACME:
        assert metric(d, "peercdn_health_server_up", server=name) == 1

    # The server the three redirectors name for one object: affinity and
    # the shared memory make it the same one.
    first = {kind: ask(d, "obj0") for kind, ask in ASK.items()}
    victim_addr = next(iter(first["http"]))
    assert all(v == {victim_addr} for v in first.values()), first
    victim = next(n for n, a in ACME.items() if a == victim_addr)

    objects = [f"obj{i}" for i in range(12)]
    servers[victim].kill()
    killed_at = time.monotonic()
    # Bounded poll: until no answer names the victim, three rounds in a row.
    clean_rounds, gone_after = 0, None
    while time.monotonic() - killed_at < DEADLINE and clean_rounds < 3:
        if victim_addr in named(d, ["obj0"]):
            clean_rounds, gone_after = 0, None
        else:
            if gone_after is None:
                gone_after = time.monotonic() - killed_at
            clean_rounds += 1
    print(f"\nfailover: {victim} out of DNS, HTTP and CDSR answers {gone_after * 1000:.0f} ms "
          f"after its death (target < 1000 ms)" if gone_after is not None else "\nno failover")
    assert gone_after is not None and clean_rounds >= 3, d.log()[-3000:]
    # Many objects, every redirector: never the dead server.
    assert victim_addr not in named(d, objects)
    assert metric(d, "peercdn_health_server_up", server=victim) == 0
    assert metric(d, "peercdn_health_transitions_total", server=victim, to="down") == 1
    assert metric(d, "peercdn_health_probes_total", result="failed") >= 2
    assert "msg=server-down server=" + victim in d.log()

    servers[victim].start()
    back_at = time.monotonic()
    wait_metric(d, "peercdn_health_server_up", 1, server=victim)
    print(f"recovery: {victim} up again {(time.monotonic() - back_at) * 1000:.0f} ms after "
          f"its restart")
    assert metric(d, "peercdn_health_transitions_total", server=victim, to="up") == 1
    # Chosen again: for some of many fresh objects (rendezvous hashing
    # spreads them over the servers the policy allows).
    fresh = [f"back{i}" for i in range(40)]
    seen = set()
    for obj in fresh:
        seen |= http_names(d, obj) | dns_names(d, obj) | cdsr_names(d, obj)
    assert victim_addr in seen, seen
    # The other servers never went down.
    for name in ACME:
        if name != victim:
            assert metric(d, "peercdn_health_transitions_total", server=name, to="down") == 0


def test_http_status_500_is_down_and_tcp_mode_ignores_it(daemons, servers):
    """An HTTP probe of a path answered 500 marks every server down; a TCP
    probe of the same servers only needs the connection."""
    port = servers["acme-s1"].port
    d = daemons(health_config(port, path="/probe?status=500", servers=["acme-s2"]),
                node="acme-n1")
    wait_metric(d, "peercdn_health_server_up", 0, server="acme-s2")
    assert "peercdn_health_server_up{server=\"acme-s1\"}" not in d.metrics_text()
    assert "127.1.200.2" not in named(d, [f"o{i}" for i in range(12)])

    d.config["health"].update(mode="tcp")
    d.write_config()
    d.signal(signal.SIGHUP)
    d.wait_log("msg=reloaded")
    wait_metric(d, "peercdn_health_server_up", 1, server="acme-s2")
    assert metric(d, "peercdn_health_transitions_total", server="acme-s2", to="up") == 1


def test_verdict_survives_a_reload(daemons, servers):
    port = servers["acme-s1"].port
    d = daemons(health_config(port, interval_ms=100), node="acme-n1")
    servers["acme-s2"].kill()
    wait_metric(d, "peercdn_health_server_up", 0, server="acme-s2")
    d.signal(signal.SIGHUP)
    d.wait_log("msg=reloaded")
    # At once after the reload, and for a while: never named.
    for _ in range(5):
        assert "127.1.200.2" not in named(d, [f"r{i}" for i in range(8)])
    assert metric(d, "peercdn_health_transitions_total", server="acme-s2", to="down") == 1
    assert metric(d, "peercdn_health_transitions_total", server="acme-s2", to="up") == 0


def test_edge_clients_are_its_servers_load(daemons, servers):
    """A node running the edge as acme-s1 publishes the edge's open client
    connections as acme-s1's load: with capacity 4 and the high watermark
    at 90 %, four idle clients make the policy skip acme-s1 (LOAD), and
    closing them brings it back."""
    port = servers["acme-s1"].port
    servers["acme-s1"].stop()  # the edge is acme-s1 here
    cfg = health_config(port)
    for server in cfg["servers"]:
        if server["name"] == "acme-s1":
            server["capacity"] = 4
    cfg["edge"] = {"enabled": True, "listen": [ACME["acme-s1"]], "port": port,
                   "disk_path": "", "idle_timeout_ms": 60000}
    d = daemons(cfg, node="acme-n1")
    # Fresh objects every round: the affinity memory keeps an object where
    # it went while that server is allowed, so old ones would not move back.
    rounds = iter(range(1000))

    def s1_named():
        r = next(rounds)
        return ACME["acme-s1"] in named(d, [f"e{r}-{i}" for i in range(30)])

    wait_until(s1_named)
    clients = [socket.create_connection((ACME["acme-s1"], port), timeout=5) for _ in range(4)]
    try:
        loaded_at = time.monotonic()
        wait_until(lambda: not s1_named())
        print(f"\nload: acme-s1 skipped {(time.monotonic() - loaded_at) * 1000:.0f} ms after "
              f"its fourth client")
        assert not s1_named()
        assert metric(d, "peercdn_health_server_up", server="acme-s1") == 1  # loaded, not dead
    finally:
        for c in clients:
            c.close()
    wait_until(s1_named)
