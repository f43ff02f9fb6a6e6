"""DNS and CDSR over AF_XDP (issue 9, docs/xdp.md) between two network
namespaces joined by two veth pairs: peercdnd in one with DNS over XDP on
the first pair and CDSR over XDP on the second (one role per interface),
dig and a CDSR client in the other. The pair without a role's XDP program
reaches that role's ordinary sockets, so every answer over XDP is compared
with the socket path's answer to the same question, from the same client
prefix. Garbage over XDP must be dropped or answered FORMERR and counted,
with the daemon still answering. Namespaces and processes are removed (by
name and PID) whatever happens; the test skips only where the machine
refuses: not root, or no network namespaces."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import PEERCDND, SOURCE, Daemon, default_config, _started

sys.path.insert(0, str(SOURCE / "tests" / "fuzz"))
import gen_cdsr_corpus as cdsr  # noqa: E402

TIMEOUT = 10
SERVER_A, CLIENT_A = "198.18.0.1", "198.18.0.2"  # pair a: DNS over XDP
SERVER_B, CLIENT_B = "198.18.1.1", "198.18.1.2"  # pair b: CDSR over XDP
ACME_EDGE = {"127.1.200.1", "127.1.200.2", "127.4.200.1"}
CDSR_URL = "http://abc.cdn.acme.net/www.abc.com/x"


def run(*args, check=True, timeout=TIMEOUT):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, check=check)


@pytest.fixture
def net():
    """Two namespaces (server, client) and two veth pairs; removed at the end."""
    if os.geteuid() != 0:
        pytest.skip("AF_XDP and network namespaces need root")
    tag = f"{os.getpid() % 100000}"
    ns = {"server": f"pcx-s{tag}", "client": f"pcx-c{tag}"}
    made = []
    try:
        for name in ns.values():
            proc = run("ip", "netns", "add", name, check=False)
            if proc.returncode != 0:
                pytest.skip(f"ip netns add refused: {proc.stderr.strip()}")
            made.append(name)
        s, c = ns["server"], ns["client"]
        for pair, (server_ip, client_ip) in (("a", (SERVER_A, CLIENT_A)),
                                             ("b", (SERVER_B, CLIENT_B))):
            dev_s, dev_c = f"px{pair}{tag}s", f"px{pair}{tag}c"
            run("ip", "link", "add", dev_s, "netns", s, "type", "veth", "peer", "name", dev_c,
                "netns", c)
            run("ip", "-n", s, "addr", "add", f"{server_ip}/24", "dev", dev_s)
            run("ip", "-n", c, "addr", "add", f"{client_ip}/24", "dev", dev_c)
            run("ip", "-n", s, "link", "set", dev_s, "up")
            run("ip", "-n", c, "link", "set", dev_c, "up")
            ns[f"dev_{pair}"] = dev_s
        for name in (s, c):
            run("ip", "-n", name, "link", "set", "lo", "up")
        yield ns
    finally:
        for name in made:
            run("ip", "netns", "del", name, check=False)


class NsDaemon(Daemon):
    """A peercdnd started inside a namespace (ip netns exec replaces itself
    with the daemon, so the PID is the daemon's), optionally with no
    capabilities at all (root's uid, so it still reads its config)."""

    def __init__(self, workdir, config, ns, unprivileged=False):
        super().__init__(workdir, config, name="peercdnd-xdp", node="acme-n1")
        self.ns = ns
        self.unprivileged = unprivileged

    def command(self):
        args = ["ip", "netns", "exec", self.ns]
        if self.unprivileged:
            args += ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]
        return args + super().command()

    def ports(self):
        return []  # its sockets live in the namespace, not on this host's loopback

    def metrics_text(self, host=None):
        return run("ip", "netns", "exec", self.ns, "curl", "-sf", "--max-time", "5",
                   f"http://127.0.0.1:{self.metrics_port}/metrics").stdout


@pytest.fixture
def start(net, tmp_path):
    """Starts peercdnd in the server namespace; stops it (by PID) at the end,
    before the namespaces go, and fails the test on an unclean exit."""
    started = []

    def make(dns_port=53, cdsr_port=2554, unprivileged=False, xdp=True):
        cfg = default_config()
        cfg["clients"].append({"prefix": "198.18.0.0/15", "as": 100, "location": "paris"})
        cfg["dns"].update(listen=[SERVER_A, SERVER_B], port=dns_port, workers=2)
        cfg["cdsr"] = {"enabled": True, "listen": [SERVER_A, SERVER_B], "port": cdsr_port}
        if xdp:
            cfg["dns"]["xdp"] = {"listen": [f"{net['dev_a']}@{dns_port}"]}
            cfg["cdsr"]["xdp"] = {"listen": [f"{net['dev_b']}@{cdsr_port}"]}
        cfg["control"] = {"metrics_port": 9153, "metrics_listen": "127.0.0.1"}
        d = NsDaemon(tmp_path, cfg, net["server"], unprivileged)
        started.append(d)
        return d.start()

    yield make
    failures = []
    for d in started:
        try:
            code = d.stop()
        finally:
            if d.proc is not None and d.proc.poll() is None:
                os.kill(d.proc.pid, signal.SIGKILL)
                d.proc.wait(timeout=TIMEOUT)
        if code not in (0, None):
            failures.append(f"peercdnd exited {code}:\n{d.log()[-3000:]}")
    assert not failures, "\n".join(failures)


def dig(net, server, port, name, rtype="A", *extra):
    """(status, sorted answer and authority lines) of one query from the
    client namespace."""
    out = run("ip", "netns", "exec", net["client"], "dig", f"@{server}", "-p", port, "+norec",
              "+time=2", "+tries=1", *extra, name, rtype, check=False).stdout
    status = None
    records = []
    section = None
    for line in out.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
        elif line.startswith(";; ANSWER SECTION") or line.startswith(";; AUTHORITY SECTION"):
            section = line
        elif not line.strip() or line.startswith(";"):
            section = None if not line.strip() else section
        elif section:
            records.append(" ".join(line.split()))
    return status, sorted(records)


SEND = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
s.sendto(bytes.fromhex(sys.argv[4]), (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recv(4096).hex())
except socket.timeout:
    print("none")
"""


def send(net, server, port, datagram, wait=2.0):
    """One datagram from the client namespace; the answer's bytes or None."""
    out = run("ip", "netns", "exec", net["client"], "python3", "-c", SEND, server, port, wait,
              datagram.hex()).stdout.strip()
    return None if out == "none" else bytes.fromhex(out)


def xdp_or_skip(d):
    """The daemon must have XDP on both interfaces; a root daemon refused
    by the kernel skips with its own log line."""
    log = d.log()
    if "msg=xdp-unavailable" in log:
        line = next(l for l in log.splitlines() if "xdp-unavailable" in l)
        pytest.skip(f"the kernel refused AF_XDP: {line}")
    assert "msg=xdp-listening role=dns" in log and "msg=xdp-listening role=cdsr" in log, log


QUESTIONS = [
    ("ad102.web.abc.cdn.acme.net", "A"),
    ("ad102.web.abc.cdn.acme.net", "AAAA"),
    ("chan4.abc.tv.cdn.acme.net", "A"),
    ("cdn.acme.net", "SOA"),
    ("nosuchname.cdn.acme.net", "A"),
    ("example.org", "A"),
]


def test_dns_and_cdsr_over_xdp_answer_as_the_sockets_do(net, start):
    d = start()
    xdp_or_skip(d)
    for name, rtype in QUESTIONS:
        over_xdp = dig(net, SERVER_A, 53, name, rtype)
        over_socket = dig(net, SERVER_B, 53, name, rtype)
        assert over_xdp[0] is not None, (name, rtype)
        assert over_xdp == over_socket, (name, rtype)
    status, records = dig(net, SERVER_A, 53, "ad102.web.abc.cdn.acme.net", "A")
    assert status == "NOERROR" and records[0].split()[-1] in ACME_EDGE
    # TCP to the same port on the XDP interface is the kernel's.
    assert dig(net, SERVER_A, 53, "ad102.web.abc.cdn.acme.net", "A", "+tcp") == (status, records)

    request = cdsr.request(CDSR_URL, pad_to=512)
    over_xdp = send(net, SERVER_B, 2554, request)
    over_socket = send(net, SERVER_A, 2554, request)
    assert over_xdp is not None and over_xdp[:4] == b"CDSR" and over_xdp[14] == 0
    assert over_xdp == over_socket

    m = d.metrics()
    n = len(QUESTIONS) + 1
    assert m["peercdn_dns_xdp_queries_total"] == n
    assert m["peercdn_dns_xdp_answers_total"] == n
    assert m["peercdn_dns_udp_queries_total"] == len(QUESTIONS)
    assert m["peercdn_dns_tcp_queries_total"] == 1
    assert m["peercdn_cdsr_xdp_requests_total"] == 1
    assert m["peercdn_cdsr_xdp_answers_total"] == 1
    assert m["peercdn_cdsr_requests_total"] == 1  # the socket path's
    assert m['peercdn_cdsr_responses_total{status="ok"}'] == 2


def test_garbage_over_xdp_is_dropped_or_formerr_and_counted(net, start):
    d = start()
    xdp_or_skip(d)
    before = d.metrics()
    # A DNS header claiming a question that is not there: FORMERR, or nothing.
    garbage = bytes.fromhex("beef0000000100000000000003") + b"\xff" * 40
    answer = send(net, SERVER_A, 53, garbage, wait=1.0)
    assert answer is None or (answer[:2] == b"\xbe\xef" and answer[3] & 0x0F == 1)
    # Random bytes and a response (QR set): never answered.
    assert send(net, SERVER_A, 53, bytes(range(200, 255)), wait=0.5) is None
    assert send(net, SERVER_A, 53, bytes.fromhex("12348180") + bytes(20), wait=0.5) is None
    # CDSR: junk and a response are dropped.
    assert send(net, SERVER_B, 2554, b"junk-junk-junk-junk", wait=0.5) is None
    assert send(net, SERVER_B, 2554, cdsr.response(), wait=0.5) is None
    after = d.metrics()
    assert after["peercdn_dns_xdp_queries_total"] - before["peercdn_dns_xdp_queries_total"] == 3
    outcomes = sum(v for k, v in after.items() if k.startswith("peercdn_dns_responses_total"))
    outcomes -= sum(v for k, v in before.items() if k.startswith("peercdn_dns_responses_total"))
    assert outcomes == 3  # every frame counted by the one answer callback
    assert after["peercdn_cdsr_xdp_requests_total"] == 2
    assert after["peercdn_cdsr_xdp_answers_total"] == 0
    assert after['peercdn_cdsr_responses_total{status="dropped"}'] == 2
    # Still alive and answering, over XDP.
    status, records = dig(net, SERVER_A, 53, "ad102.web.abc.cdn.acme.net", "A")
    assert status == "NOERROR" and records[0].split()[-1] in ACME_EDGE
    assert d.proc.poll() is None
    assert d.metrics()["peercdn_dns_xdp_answers_total"] >= 1
    # RFC 6891 6.1.3 over XDP as over the sockets (one answer function):
    # EDNS version 1 with an unknown opcode is BADVERS, not NOTIMP.
    before = d.metrics()["peercdn_dns_xdp_answers_total"]
    status, _ = dig(net, SERVER_A, 53, "cdn.acme.net", "SOA", "+edns=1", "+noednsneg",
                    "+opcode=15")
    assert status == "BADVERS"
    assert d.metrics()["peercdn_dns_xdp_answers_total"] == before + 1


BURST = """
import socket, struct, sys, time
n = int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
question = b"".join(bytes([len(l)]) + l.encode() for l in "cdn.acme.net".split(".")) + b"\\0"
for i in range(n):  # cdn.acme.net SOA, IDs 0..n-1
    s.sendto(struct.pack(">6H", i, 0, 1, 0, 0, 0) + question + struct.pack(">2H", 6, 1),
             (sys.argv[1], int(sys.argv[2])))
print("sent", flush=True)
sys.stdin.readline()  # the test resumes the server, then says go
seen = set()
s.settimeout(0.5)
deadline = time.monotonic() + 10
while len(seen) < n and time.monotonic() < deadline:
    try:
        seen.add(struct.unpack(">H", s.recv(4096)[:2])[0])
    except socket.timeout:
        pass
print(len(seen))
"""


def stopped(pid):
    """Whether every thread of pid is stopped (bounded polling, 5 s)."""
    for _ in range(100):
        states = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])
        if all(state == "T" for state in states):
            return True
        time.sleep(0.05)
    return False


def test_a_burst_is_answered_whole(net, start):
    """Frames that pile up while the worker is stopped (300: more than
    one wake-up drains, 8 batches of 32) are all answered once it runs:
    in copy mode one TX kick sends at most 32 frames, so a loop that
    kicked once per wake-up would leave answers in the ring."""
    d = start()
    xdp_or_skip(d)
    before = d.metrics()
    n = 300
    os.kill(d.proc.pid, signal.SIGSTOP)
    client = None
    try:
        assert stopped(d.proc.pid)
        client = subprocess.Popen(["ip", "netns", "exec", net["client"], "python3", "-c",
                                   BURST, SERVER_A, "53", str(n)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert client.stdout.readline().strip() == "sent"
        os.kill(d.proc.pid, signal.SIGCONT)
        out, _ = client.communicate("go\n", timeout=30)
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
    assert int(out.strip()) == n
    after = d.metrics()
    assert after["peercdn_dns_xdp_queries_total"] - before["peercdn_dns_xdp_queries_total"] == n
    assert after["peercdn_dns_xdp_answers_total"] - before["peercdn_dns_xdp_answers_total"] == n
    assert after["peercdn_dns_xdp_no_frame_total"] == before["peercdn_dns_xdp_no_frame_total"]


def test_without_privileges_the_sockets_serve(net, start):
    """With no capabilities, XDP is refused with a hint and the
    sockets answer everything; the interface keeps no program."""
    d = start(dns_port=5353, cdsr_port=25540, unprivileged=True)
    assert "msg=xdp-unavailable role=dns" in d.log() and "CAP_NET_ADMIN" in d.log()
    assert "msg=xdp-unavailable role=cdsr" in d.log()
    status, records = dig(net, SERVER_A, 5353, "ad102.web.abc.cdn.acme.net", "A")
    assert status == "NOERROR" and records[0].split()[-1] in ACME_EDGE
    answer = send(net, SERVER_B, 25540, cdsr.request(CDSR_URL, pad_to=512))
    assert answer is not None and answer[14] == 0
    m = d.metrics()
    assert m["peercdn_dns_xdp_queries_total"] == 0 and m["peercdn_dns_udp_queries_total"] == 1
    assert m["peercdn_cdsr_xdp_requests_total"] == 0 and m["peercdn_cdsr_requests_total"] == 1
    link = run("ip", "-n", net["server"], "link", "show", net["dev_a"]).stdout
    assert "prog/xdp" not in link


def test_program_is_removed_on_exit_and_check_sees_interfaces(net, start, tmp_path):
    d = start()
    xdp_or_skip(d)
    link = run("ip", "-n", net["server"], "link", "show", net["dev_a"]).stdout
    assert "prog/xdp" in link
    assert d.stop() == 0
    for dev in (net["dev_a"], net["dev_b"]):
        assert "prog/xdp" not in run("ip", "-n", net["server"], "link", "show", dev).stdout
    # -t: the interfaces exist in the server namespace, not in the client's.
    ok = run("ip", "netns", "exec", net["server"], PEERCDND, "-t", "-c", d.config_path,
             check=False)
    assert ok.returncode == 0, ok.stderr
    bad = run("ip", "netns", "exec", net["client"], PEERCDND, "-t", "-c", d.config_path,
              check=False)
    assert bad.returncode == 1
    assert f'dns.xdp.listen: "{net["dev_a"]}@53": no interface' in bad.stderr
