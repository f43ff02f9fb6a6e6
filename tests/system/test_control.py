"""The operator's control socket: acme-n1 runs DNS and the HTTP redirector
(and CDSR and RTSP, as test_redirect's config has them) with its control
socket in the test's directory; peercdnctl talks to it. status shows the
config generation; drain takes the server the answers name out of DNS and
HTTP answers and undrain brings it back; load shows in servers; push
applies a changed TTL and a changed server, and a broken push is refused
with its errors while the old config keeps answering; the socket is 0660
and gone after the daemon exits; peercdnctl says so when no daemon
answers. Every wait is bounded; daemons are stopped by PID."""
import os
import socket
import stat

import dns.flags
import dns.message
import dns.query
import yaml

from test_health import (ACME, CLIENT, dns_names, health_config, http_names, servers,  # noqa: F401
                         wait_until)
from test_redirect import redirect_config

OBJECTS = [f"obj{i}" for i in range(16)]


def control_config(tmp_path):
    cfg = redirect_config()
    cfg["control"]["socket"] = str(tmp_path / "ctl.sock")
    return cfg


def sock(d):
    return d.config["control"]["socket"]


def answers(d, objects=OBJECTS):
    """Every address DNS and HTTP answers name for objects."""
    out = set()
    for obj in objects:
        out |= dns_names(d, obj) | http_names(d, obj)
    return out


def dns_ttl(d, obj="obj0"):
    q = dns.message.make_query(f"{obj}.web.abc.cdn.acme.net", "A", use_edns=0)
    q.flags &= ~dns.flags.RD
    resp = dns.query.udp(q, "127.0.0.1", port=d.dns_port, timeout=2, source=CLIENT)
    assert resp.answer, resp
    return resp.answer[0].ttl


def fields(line):
    """'acme-s1 cdn=acme health=up ...' -> ('acme-s1', {'cdn': 'acme', ...})"""
    name, *pairs = line.split()
    return name, dict(p.split("=", 1) for p in pairs)


def ctl_servers(ctl, d):
    out = ctl("-S", sock(d), "servers", check=0).stdout
    return dict(fields(line) for line in out.splitlines())


def status(ctl, d):
    out = ctl("status", "-S", sock(d), check=0).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_status_socket_mode_and_removal(daemons, ctl, tmp_path):
    d = daemons(control_config(tmp_path), node="acme-n1")
    st = os.stat(sock(d))
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
    s = status(ctl, d)
    assert s["generation"] == "1"
    assert s["self"] == "acme-n1"
    assert s["config"] == str(d.config_path)
    assert {"dns", "http"} <= set(s["roles"].split())
    assert int(s["workers"]) == 2
    assert int(s["pid"]) == d.proc.pid
    assert "msg=control-listening" in d.log()
    assert d.stop() == 0
    assert not os.path.exists(sock(d))
    # No daemon: a clear message and its own exit status.
    proc = ctl("-S", sock(d), "status")
    assert proc.returncode == 3, proc
    assert "is peercdnd running?" in proc.stderr


def test_stale_socket_is_replaced_and_nothing_answering_is_said(daemons, ctl, tmp_path):
    cfg = control_config(tmp_path)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(cfg["control"]["socket"])  # bound, never listening: a crashed daemon's
    proc = ctl("-S", cfg["control"]["socket"], "status")
    assert proc.returncode == 3 and "not running" in proc.stderr, proc
    stale.close()
    d = daemons(cfg, node="acme-n1")
    assert status(ctl, d)["generation"] == "1"


def test_usage_errors(ctl, tmp_path):
    for args in (["load", "acme-s1"], ["load", "acme-s1", "x"], ["drain"], ["push"],
                 ["status", "extra"]):
        proc = ctl("-S", tmp_path / "none.sock", *args)
        assert proc.returncode == 2, (args, proc)


def test_drain_and_undrain(daemons, ctl, tmp_path):
    d = daemons(control_config(tmp_path), node="acme-n1")
    first = dns_names(d, "obj0")
    assert first == http_names(d, "obj0")
    victim_addr = next(iter(first))
    victim = next(n for n, a in ACME.items() if a == victim_addr)
    assert ctl_servers(ctl, d)[victim]["drained"] == "no"

    out = ctl("-S", sock(d), "drain", victim, check=0).stdout
    assert "health=draining" in out
    row = ctl_servers(ctl, d)[victim]
    assert row["drained"] == "yes" and row["health"] == "draining"
    # At once: no DNS or HTTP answer names it, for any object.
    assert victim_addr not in answers(d)
    assert answers(d, ["obj0"])  # still answered, by another server

    proc = ctl("-S", sock(d), "drain", "no-such-server")
    assert proc.returncode == 1 and "no such server" in proc.stderr, proc

    ctl("-S", sock(d), "undrain", victim, check=0)
    assert ctl_servers(ctl, d)[victim]["drained"] == "no"
    # Named again for some of many fresh objects (rendezvous hashing).
    assert victim_addr in answers(d, [f"back{i}" for i in range(40)])


def test_load_shows_and_full_server_is_skipped(daemons, ctl, tmp_path):
    d = daemons(control_config(tmp_path), node="acme-n1")
    victim_addr = next(iter(http_names(d, "obj0")))
    victim = next(n for n, a in ACME.items() if a == victim_addr)
    capacity = ctl_servers(ctl, d)[victim]["capacity"]
    ctl("-S", sock(d), "load", victim, capacity, check=0)
    assert ctl_servers(ctl, d)[victim]["load"] == capacity
    assert victim_addr not in answers(d)
    ctl("-S", sock(d), "load", victim, 0, check=0)
    assert ctl_servers(ctl, d)[victim]["load"] == "0"
    assert victim_addr in answers(d, [f"back{i}" for i in range(40)])


def test_push_applies_a_new_config(daemons, ctl, tmp_path):
    d = daemons(control_config(tmp_path), node="acme-n1")
    assert dns_ttl(d) == 0
    before = answers(d)
    assert "127.1.200.1" in before or "127.1.200.2" in before

    # A changed TTL, and acme-s1 moved to a new address.
    cfg = yaml.safe_load(d.config_path.read_text())
    next(c for c in cfg["cdns"] if c["name"] == "acme")["dns_ttl"] = 42
    s1 = next(s for s in cfg["servers"] if s["name"] == "acme-s1")
    s1["addresses"] = ["127.1.200.99"]
    pushed = tmp_path / "pushed.yaml"
    pushed.write_text(yaml.safe_dump(cfg))
    proc = ctl("-S", sock(d), "push", pushed, check=0)
    assert "generation 2" in proc.stdout
    assert status(ctl, d)["generation"] == "2"
    assert dns_ttl(d) == 42
    after = answers(d, [f"new{i}" for i in range(40)])
    assert "127.1.200.1" not in after and "127.1.200.99" in after, after
    # Kept: the config file is what was pushed, and a reload keeps it.
    assert d.config_path.read_text() == pushed.read_text()
    ctl("-S", sock(d), "reload", check=0)
    assert status(ctl, d)["generation"] == "3"
    assert dns_ttl(d) == 42

    # A broken push: its errors, exit 1, the old config keeps answering.
    broken = tmp_path / "broken.yaml"
    cfg["servers"].append({"name": "acme-s1", "cdn": "no-such-cdn", "as": 100})
    broken.write_text(yaml.safe_dump(cfg))
    proc = ctl("-S", sock(d), "push", broken)
    assert proc.returncode == 1, proc
    assert "config rejected" in proc.stderr
    assert "push:" in proc.stderr and "no-such-cdn" in proc.stderr, proc.stderr
    assert "generation 3" in proc.stderr
    assert status(ctl, d)["generation"] == "3"
    assert status(ctl, d)["reload_failures"] == "1"
    assert dns_ttl(d) == 42
    assert d.config_path.read_text() == pushed.read_text()
    # Not YAML at all, from stdin: refused the same way.
    proc = ctl_stdin(ctl, d, "servers: [\n")
    assert proc.returncode == 1 and "YAML" in proc.stderr, proc
    assert status(ctl, d)["generation"] == "3"
    wait_until(lambda: "msg=push-rejected" in d.log())


def ctl_stdin(ctl, d, text):
    import subprocess
    from conftest import PEERCDNCTL
    return subprocess.run([str(PEERCDNCTL), "-S", sock(d), "push", "-"], input=text,
                          capture_output=True, text=True, timeout=60)


def test_undrained_dead_server_stays_out(daemons, ctl, tmp_path, servers):
    """With the health role: a drained server that died meanwhile is not
    handed out after undrain; the next probe's verdict puts it down."""
    port = servers["acme-s1"].port
    cfg = health_config(port)
    cfg["control"]["socket"] = str(tmp_path / "ctl.sock")
    d = daemons(cfg, node="acme-n1")
    ctl("-S", sock(d), "drain", "acme-s2", check=0)
    servers["acme-s2"].kill()
    wait_until(lambda: "msg=server-down server=acme-s2" in d.log())
    assert ctl_servers(ctl, d)["acme-s2"]["health"] == "draining"  # health kept the drain
    ctl("-S", sock(d), "undrain", "acme-s2", check=0)
    wait_until(lambda: ctl_servers(ctl, d)["acme-s2"]["health"] == "down")
    assert "127.1.200.2" not in answers(d)
