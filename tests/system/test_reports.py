"""Provider reports (claim 3) on a running node: every PEER and OUTSIDE
answer of the DNS and HTTP roles becomes one record in the node's store;
the node is killed with SIGKILL, `peercdnctl reports` reads the store
offline and its sums match the answers given, record for record; a torn
tail (a record a crash cut in half) is cut off at the next start and
counted; the restarted node goes on appending. Every wait is bounded."""
import json
import signal
import socket
import struct
import subprocess
import time

import dns.edns
import dns.message
import dns.query
import pytest

from conftest import PEERCDNCTL, Daemon, default_config, free_port

ANYCAST = "127.10.0.1"  # acme's HTTP anycast address
PEER_NAME = "ad102.web.abc.cdn.acme.net"          # ECS 127.2.0.0/24: beta under acme-beta
OUTSIDE_NAME = "chan4.abc.tv.cdn.acme.net"        # ECS 127.3.0.0/24: no agreement covers tv
TIMEOUT = 5


def config(store):
    cfg = default_config()
    cfg["dns"].update(listen=["127.0.0.1"], port=free_port(), workers=2)
    cfg["control"] = {"metrics_port": free_port(), "metrics_listen": "127.0.0.1"}
    cfg["http"] = {"enabled": True, "port": free_port(ANYCAST)}
    cfg["reports"] = {"enabled": True, "path": str(store), "segment_mb": 1}
    return cfg


def dns_query(d, name, ecs):
    q = dns.message.make_query(name, "A", use_edns=0,
                               options=[dns.edns.ECSOption(ecs, 24)])
    resp = dns.query.udp(q, "127.0.0.1", port=d.dns_port, timeout=TIMEOUT)
    assert resp.answer, resp


def http_get(d, source, path="/www.abc.com/clip"):
    sock = socket.create_connection((ANYCAST, d.config["http"]["port"]), timeout=TIMEOUT,
                                    source_address=(source, 0))
    with sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 302"), data


def metric(d, name):
    return d.metrics().get(name, 0.0)


def wait_metric(d, name, want, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(d, name) >= want:
            break
        time.sleep(0.05)
    assert metric(d, name) == want, (name, metric(d, name), want)


def decisions(d, role, branch):
    return d.metrics().get(f'peercdn_{role}_decisions_total{{branch="{branch}"}}', 0.0)


def reports(store, *args):
    proc = subprocess.run([str(PEERCDNCTL), "reports", "--path", str(store), "--json", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def row(summary, provider, agreement):
    rows = [r for r in summary["rows"]
            if r["provider"] == provider and r["agreement"] == agreement]
    return rows[0] if rows else {"requests": 0, "branches": {"PEER": 0, "OUTSIDE": 0},
                                 "cdns": {}}


class Killed(Daemon):
    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT)
        self._log.close()


def make_decisions(d, peer, outside, primary, http_peer):
    for _ in range(peer):
        dns_query(d, PEER_NAME, "127.2.0.0")
    for _ in range(outside):
        dns_query(d, OUTSIDE_NAME, "127.3.0.0")
    for _ in range(primary):
        dns_query(d, PEER_NAME, "127.1.0.0")        # PRIMARY: no record
    for _ in range(http_peer):
        http_get(d, "127.2.0.10")                   # PEER over HTTP
    http_get(d, "127.1.0.10")                       # PRIMARY over HTTP: no record


def test_reports_survive_kill9_and_sum_per_agreement(tmp_path):
    store = tmp_path / "var" / "reports"             # created by the node
    d = Killed(tmp_path, config(store), name="reports-node")
    try:
        d.start()
        make_decisions(d, peer=7, outside=5, primary=3, http_peer=4)
        # The roles' own counters say what was decided: the store must hold
        # one record for each PEER and OUTSIDE answer and none for PRIMARY.
        assert decisions(d, "dns", "PEER") == 7 and decisions(d, "dns", "OUTSIDE") == 5
        assert decisions(d, "http", "PEER") == 4 and decisions(d, "http", "PRIMARY") == 1
        wait_metric(d, "peercdn_reports_written_total", 16)
        assert metric(d, "peercdn_reports_dropped_total") == 0
        d.kill9()

        summary = reports(store)
        assert summary["records"] == 16 and summary["damaged"] == 0, summary
        peer = row(summary, "abc", "acme-beta")
        assert peer["requests"] == 11 and peer["branches"] == {"PEER": 11, "OUTSIDE": 0}
        assert peer["cdns"] == {"beta": 11}
        outside = row(summary, "abc", "-")
        assert outside["requests"] == 5 and outside["branches"]["OUTSIDE"] == 5
        assert reports(store, "--provider", "nobody")["records"] == 0
        assert reports(store, "--since", "2999-01-01")["records"] == 0

        # A crash in the middle of a write leaves half a record: the next
        # start cuts it off and counts it; the reader skips it meanwhile.
        segments = sorted(store.glob("*.seg"))
        assert len(segments) == 1
        whole = segments[0].read_bytes()
        frame_len = 12 + struct.unpack_from("<I", whole, 4)[0]
        with open(segments[0], "ab") as f:
            f.write(whole[:frame_len // 2])
        torn = reports(store)
        assert torn["records"] == 16 and torn["damaged"] == 1

        d.start()
        assert metric(d, "peercdn_reports_torn_total") == 1
        assert segments[0].stat().st_size == len(whole)
        make_decisions(d, peer=2, outside=1, primary=1, http_peer=1)
        wait_metric(d, "peercdn_reports_written_total", 4)
        assert d.stop() == 0
        after = reports(store)
        assert after["records"] == 20 and after["damaged"] == 0, after
        assert row(after, "abc", "acme-beta")["requests"] == 14
        assert row(after, "abc", "-")["requests"] == 6
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(timeout=TIMEOUT)


def test_reports_table_names_providers_and_agreements(tmp_path):
    store = tmp_path / "reports"
    d = Daemon(tmp_path, config(store), name="reports-table")
    try:
        d.start()
        make_decisions(d, peer=1, outside=1, primary=0, http_peer=0)
        wait_metric(d, "peercdn_reports_written_total", 2)
    finally:
        assert d.stop() == 0
    proc = subprocess.run([str(PEERCDNCTL), "reports", "--path", str(store)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:5] == ["PROVIDER", "AGREEMENT", "REQUESTS", "PEER", "OUTSIDE"]
    assert any(l.split()[:5] == ["abc", "acme-beta", "1", "1", "0"] for l in lines), proc.stdout
    assert any(l.split()[:4] == ["total", "2", "1", "1"] for l in lines), proc.stdout


def test_reports_missing_store_is_an_error(tmp_path):
    proc = subprocess.run([str(PEERCDNCTL), "reports", "--path", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "none" in proc.stderr
