"""The explicit redirectors of issue 4 against running daemons: the HTTP and
RTSP 302 redirectors and the CDSR responder, each fed well-formed requests,
misbehaving clients (request smuggling attempts, oversized heads, slow
clients, garbage datagrams) and, for HTTP, a layer-4 balancer speaking
PROXY v2. Every bad input must get its error or be dropped and counted,
and the daemon must keep answering. Every network wait is bounded."""
import pathlib
import socket
import struct
import sys
import time

import pytest

from conftest import SOURCE, default_config, free_port

sys.path.insert(0, str(SOURCE / "tests" / "fuzz"))
import gen_cdsr_corpus as cdsr  # noqa: E402

ANYCAST = "127.10.0.1"  # acme's HTTP, RTSP and CDSR anycast address
ACME_EDGE = {"127.1.200.1", "127.1.200.2", "127.4.200.1"}  # gold: edge tier, in band
ACME_ALL = ACME_EDGE | {"127.1.201.1"}
TIMEOUT = 5


def redirect_config(server_http_port=8080, server_rtsp_port=8554, **roles):
    """default_config() with the three redirector roles of acme-n1 on one
    free port each, on acme's anycast address (the staged deployment of
    §4.4: TCP HTTP and UDP CDSR side by side on one address)."""
    cfg = default_config()
    metrics = free_port()
    cfg["dns"].update(listen=["127.0.0.1"], port=free_port(), workers=2)
    cfg["control"] = {"metrics_port": metrics, "metrics_listen": "127.0.0.1"}
    http_port = free_port(ANYCAST)
    cfg["http"] = {"enabled": True, "port": http_port, "header_timeout_ms": 1000,
                   "idle_timeout_ms": 5000}
    cfg["rtsp"] = {"enabled": True, "port": free_port(ANYCAST), "header_timeout_ms": 1000}
    cfg["cdsr"] = {"enabled": True, "port": http_port}  # same number, other transport
    for role, keys in roles.items():
        cfg[role].update(keys)
    for server in cfg["servers"]:
        server["ports"] = {"http": server_http_port, "rtsp": server_rtsp_port}
    return cfg


def exchange(port, data, host=ANYCAST, source=None, wait_close=True):
    """Sends data on a new TCP connection; returns everything read until
    the server closes (or, without wait_close, until it stays quiet)."""
    sock = socket.create_connection((host, port), timeout=TIMEOUT,
                                    source_address=(source, 0) if source else None)
    with sock:
        sock.sendall(data)
        if not wait_close:
            sock.settimeout(0.5)
        chunks = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def statuses(raw, proto=b"HTTP/1.1"):
    """Status codes of the responses in raw, in order."""
    out = []
    for line in raw.split(b"\r\n"):
        if line.startswith(proto + b" "):
            out.append(int(line.split(b" ")[1]))
    return out


def header(raw, name):
    for line in raw.split(b"\r\n"):
        if line.lower().startswith(name.lower().encode() + b":"):
            return line.split(b":", 1)[1].strip().decode()
    return None


def get(path="/www.abc.com/x?y=1", host="abc.cdn.acme.net", extra=b""):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\n".encode() + extra + b"\r\n")


@pytest.fixture
def node(daemons):
    return daemons(redirect_config(), node="acme-n1")


# --- HTTP ------------------------------------------------------------------

def test_http_redirect_keeps_path_and_query(node):
    port = node.config["http"]["port"]
    raw = exchange(port, get(extra=b"Connection: close\r\n"), source="127.1.0.10")
    assert statuses(raw) == [302], raw
    location = header(raw, "Location")
    assert location.endswith(":8080/www.abc.com/x?y=1"), location
    assert location.split("/")[2].split(":")[0] in ACME_EDGE  # client in acme's AS 100
    assert header(raw, "Cache-Control") == "no-store"
    assert header(raw, "Content-Length") == "0"


def test_http_keepalive_and_pipelining(node):
    port = node.config["http"]["port"]
    three = get() + b"HEAD /www.abc.com/y HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n\r\n" + get(
        "/www.abc.com/z", extra=b"Connection: close\r\n")
    raw = exchange(port, three, source="127.1.0.10")
    assert statuses(raw) == [302, 302, 302], raw
    locations = [line for line in raw.split(b"\r\n") if line.startswith(b"Location:")]
    assert [loc.rsplit(b"/", 1)[1] for loc in locations] == [b"x?y=1", b"y", b"z"]


def test_http_307_when_configured_but_302_for_http10(daemons):
    d = daemons(redirect_config(http={"status": 307}), node="acme-n1")
    port = d.config["http"]["port"]
    assert statuses(exchange(port, get(extra=b"Connection: close\r\n"))) == [307]
    raw = exchange(port, b"GET /www.abc.com/x HTTP/1.0\r\nHost: abc.cdn.acme.net\r\n\r\n")
    assert statuses(raw) == [302]


@pytest.mark.parametrize("request_bytes,status", [
    # RFC 9112 §6.1: Content-Length with Transfer-Encoding is how requests are smuggled.
    (b"POST /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nContent-Length: 4\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nContent-Length: 4\r\n"
     b"Content-Length: 5\r\n\r\nabcde", 400),
    (b"POST /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nTransfer-Encoding: chunked"
     b"\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),  # bad chunk size
    (b"POST /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nTransfer-Encoding: gzip"
     b"\r\n\r\n", 501),
    (b"GET /www.abc.com/x HTTP/1.1\nHost: abc.cdn.acme.net\n\n", 400),  # bare LF
    (b"GET /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nX-A: 1\r\n folded\r\n\r\n",
     400),
    (b"GET /www.abc.com/x\x00 HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n\r\n", 400),  # NUL
    (b"GET /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nX-A: a\x00b\r\n\r\n", 400),
    (b"GET /www.abc.com/x HTTP/1.1\r\nX-A: 1\r\n\r\n", 400),  # no Host
    (b"GET /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nHost: evil.example\r\n\r\n",
     400),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n\r\n", 414),
    (b"GET /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nX-Big: " + b"b" * 20000 +
     b"\r\n\r\n", 431),
    (b"GET /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n" +
     b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n", 431),
    (b"GET /www.abc.com/x HTTP/2.0\r\nHost: abc.cdn.acme.net\r\n\r\n", 505),
    (b"BREW /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n\r\n", 501),
    (b"TRACE /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n\r\n", 405),
    (b"CONNECT abc.cdn.acme.net:443 HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n\r\n", 405),
    (b"POST /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nContent-Length: 99999999"
     b"\r\n\r\n", 413),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # a TLS ClientHello
])
def test_http_bad_requests_get_their_status_and_a_close(node, request_bytes, status):
    port = node.config["http"]["port"]
    raw = exchange(port, request_bytes)
    assert statuses(raw) == [status], raw[:300]
    assert header(raw, "Connection") == "close"
    # The daemon still answers, and a well-formed request after the bad one
    # on the same connection was not read (no smuggled second response).
    assert statuses(exchange(port, get(extra=b"Connection: close\r\n"))) == [302]


def test_http_smuggled_request_is_not_answered(node):
    port = node.config["http"]["port"]
    smuggle = (b"POST /www.abc.com/x HTTP/1.1\r\nHost: abc.cdn.acme.net\r\nContent-Length: 44"
               b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get("/www.abc.com/smuggled"))
    raw = exchange(port, smuggle)
    assert statuses(raw) == [400]
    assert b"smuggled" not in raw


def test_http_chunked_body_is_consumed_exactly(node):
    port = node.config["http"]["port"]
    post = (b"POST /www.abc.com/form HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    raw = exchange(port, post + get("/www.abc.com/after", extra=b"Connection: close\r\n"))
    assert statuses(raw) == [302, 302]
    assert raw.count(b"/www.abc.com/after") == 1


def test_http_policy_outcomes(node):
    port = node.config["http"]["port"]
    close = b"Connection: close\r\n"
    # A host under a CDN this node does not serve: 421 Misdirected Request.
    assert statuses(exchange(port, get("/www.foo.com/x", "foo.cdn.beta.net", close))) == [421]
    # A customer that does not exist: 404.
    assert statuses(exchange(port, get("/x.com/x", "nobody.cdn.acme.net", close))) == [404]
    # Absolute-form target: the URL's host counts.
    raw = exchange(port, b"GET http://abc.cdn.acme.net/www.abc.com/abs HTTP/1.1\r\n"
                         b"Host: ignored.example\r\nConnection: close\r\n\r\n")
    assert statuses(raw) == [302] and header(raw, "Location").endswith("/www.abc.com/abs")


def test_http_slow_client_gets_408(node):
    port = node.config["http"]["port"]
    sock = socket.create_connection((ANYCAST, port), timeout=TIMEOUT)
    with sock:
        sock.sendall(b"GET /www.abc.com/x HTTP/1.1\r\nHost: abc")  # and nothing more
        raw = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            raw += chunk
    assert statuses(raw) == [408]
    assert node.metrics()["peercdn_http_header_timeouts_total"] >= 1


def test_http_metrics_count_statuses(node):
    port = node.config["http"]["port"]
    exchange(port, get(extra=b"Connection: close\r\n"))
    exchange(port, b"GET / HTTP/2.0\r\n\r\n")
    m = node.metrics()
    assert m['peercdn_http_responses_total{status="302"}'] >= 1
    assert m['peercdn_http_responses_total{status="505"}'] >= 1
    assert m["peercdn_http_connections_accepted_total"] >= 2


# --- PROXY protocol v2 from a layer-4 balancer (fig. 21) -------------------

def proxy_v2(client, client_port=40000, dest=ANYCAST, dest_port=80):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    body = (socket.inet_aton(client) + socket.inet_aton(dest) +
            struct.pack("!HH", client_port, dest_port))
    return sig + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def test_proxy_v2_from_a_balancer_sets_the_client(daemons):
    d = daemons(redirect_config(http={"balancers": ["127.0.0.1"]}), node="acme-n1")
    port = d.config["http"]["port"]
    close = b"Connection: close\r\n"
    # The balancer says the client is in AS 100 (acme): an acme edge server.
    raw = exchange(port, proxy_v2("127.1.0.10") + get(extra=close), source="127.0.0.1")
    assert statuses(raw) == [302]
    assert header(raw, "Location").split("/")[2].split(":")[0] in ACME_EDGE
    # A balancer that sends no PROXY header: the connection is dropped and counted.
    assert exchange(port, get(extra=close), source="127.0.0.1") == b""
    assert d.metrics()["peercdn_http_proxy_header_errors_total"] == 1
    # Anyone else sending a PROXY header is a malformed HTTP request.
    raw = exchange(port, proxy_v2("127.1.0.10") + get(extra=close), source="127.0.0.2")
    assert statuses(raw) == [400]


# --- RTSP ------------------------------------------------------------------

def rtsp(method, cseq, uri="rtsp://abc.cdn.acme.net/www.abc.com/live", extra=b""):
    return f"{method} {uri} RTSP/1.0\r\nCSeq: {cseq}\r\n".encode() + extra + b"\r\n"


def test_rtsp_methods_get_302_with_cseq(node):
    port = node.config["rtsp"]["port"]
    msgs = b"".join(rtsp(m, i + 1) for i, m in enumerate(("OPTIONS", "DESCRIBE", "SETUP",
                                                          "PLAY")))
    raw = exchange(port, msgs + rtsp("PAUSE", 9), source="127.1.0.10", wait_close=False)
    assert statuses(raw, b"RTSP/1.0") == [302, 302, 302, 302, 405]
    cseqs = [line for line in raw.split(b"\r\n") if line.startswith(b"CSeq:")]
    assert cseqs == [b"CSeq: 1", b"CSeq: 2", b"CSeq: 3", b"CSeq: 4", b"CSeq: 9"]
    assert b"RTSP/1.0 302 Moved Temporarily" in raw
    location = header(raw, "Location")
    assert location.startswith("rtsp://") and location.endswith(":8554/www.abc.com/live")


@pytest.mark.parametrize("request_bytes,status", [
    (b"DESCRIBE rtsp://abc.cdn.acme.net/www.abc.com/live RTSP/1.0\r\n\r\n", 400),  # no CSeq
    (b"DESCRIBE rtsp://abc.cdn.acme.net/www.abc.com/live RTSP/2.0\r\nCSeq: 1\r\n\r\n", 505),
    (b"DESCRIBE rtsp://abc.cdn.acme.net/www.abc.com/live RTSP/1.0\nCSeq: 1\n\n", 400),
    (b"DESCRIBE rtsp://abc.cdn.acme.net/x RTSP/1.0\r\nCSeq: 1\r\nX: a\x00\r\n\r\n", 400),
    (b"ANNOUNCE rtsp://abc.cdn.acme.net/x RTSP/1.0\r\nCSeq: 1\r\nTransfer-Encoding: "
     b"chunked\r\n\r\n", 501),
    (b"DESCRIBE rtsp://abc.cdn.acme.net/x RTSP/1.0\r\nCSeq: 1\r\nX: " + b"x" * 20000 +
     b"\r\n\r\n", 400),
    (b"\x00\x01\x02garbage\r\n\r\n", 400),
])
def test_rtsp_bad_requests(node, request_bytes, status):
    port = node.config["rtsp"]["port"]
    raw = exchange(port, request_bytes)
    assert statuses(raw, b"RTSP/1.0") == [status], raw[:300]
    assert statuses(exchange(port, rtsp("OPTIONS", 1), wait_close=False), b"RTSP/1.0") == [302]


def test_rtsp_body_is_skipped(node):
    port = node.config["rtsp"]["port"]
    announce = rtsp("ANNOUNCE", 1, extra=b"Content-Length: 10\r\n") + b"v=0\r\ns=x\r\n"
    raw = exchange(port, announce + rtsp("DESCRIBE", 2), wait_close=False)
    assert statuses(raw, b"RTSP/1.0") == [405, 302]


# --- CDSR --------------------------------------------------------------------

def cdsr_exchange(port, datagram, source="127.1.0.10", timeout=1.0):
    """Sends one datagram; returns the answer or None when none came."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(timeout)
        sock.sendto(datagram, (ANYCAST, port))
        try:
            return sock.recv(2048)
        except socket.timeout:
            return None


def test_cdsr_sockets_each_have_a_thread_and_one_count(node):
    """Each worker's CDSR socket (two workers here) is served by a thread
    of its own blocked in recvmmsg; each thread counts into its own copy of
    the role's counters, and /metrics adds them up: every answer counted
    once, whichever socket the kernel gave its request to."""
    tasks = pathlib.Path(f"/proc/{node.proc.pid}/task").iterdir()
    threads = [t for t in tasks if (t / "comm").read_text().strip() == "udp-cdsr"]
    assert len(threads) == 2, threads
    port = node.config["cdsr"]["port"]
    request = cdsr.request("http://abc.cdn.acme.net/www.abc.com/x", pad_to=512)
    before = node.metrics()
    sent = 40  # from as many source ports: SO_REUSEPORT spreads them
    for i in range(sent):
        answer = cdsr_exchange(port, request, source=f"127.1.0.{10 + i % 4}")
        assert answer is not None and answer[14] == 0, answer
    after = node.metrics()

    def delta(key):
        return after.get(key, 0) - before.get(key, 0)
    assert delta("peercdn_cdsr_requests_total") == sent
    assert delta('peercdn_cdsr_responses_total{status="ok"}') == sent
    assert sum(delta(f'peercdn_cdsr_decisions_total{{branch="{b}"}}')
               for b in ("PRIMARY", "PEER", "OUTSIDE")) == sent


def test_cdsr_answers_on_the_http_address(node):
    port = node.config["cdsr"]["port"]
    answer = cdsr_exchange(port, cdsr.request("http://abc.cdn.acme.net/www.abc.com/x",
                                              pad_to=512))
    assert answer is not None and answer[:4] == b"CDSR"
    assert answer[14] == 0  # OK
    family, = struct.unpack("!B", answer[27:28])
    port_, = struct.unpack("!H", answer[28:30])
    assert family == 4 and port_ == 8080
    assert socket.inet_ntoa(answer[30:34]) in ACME_EDGE


@pytest.mark.parametrize("datagram,status", [
    (b"", None),
    (b"CDSR", None),
    (b"XXXX" + bytes(60), None),                           # another magic: dropped
    (cdsr.response(), None),                               # a response: never answered
    (cdsr.request("http://abc.cdn.acme.net/x", version=7, pad_to=512), 2),
    (cdsr.request("not a url", pad_to=512), 1),
    (cdsr.request("http://foo.cdn.beta.net/www.foo.com/x", pad_to=512), 4),
])
def test_cdsr_malformed_are_answered_or_dropped(node, datagram, status):
    port = node.config["cdsr"]["port"]
    answer = cdsr_exchange(port, datagram, timeout=0.5 if status is None else 2)
    if status is None:
        assert answer is None
    else:
        assert answer is not None and answer[14] == status, answer
        assert len(answer) <= len(datagram)  # never an amplifier
    assert cdsr_exchange(port, cdsr.request("http://abc.cdn.acme.net/www.abc.com/x",
                                            pad_to=512))[14] == 0


def test_cdsr_unpadded_request_loses_its_hints_not_its_answer(node):
    port = node.config["cdsr"]["port"]
    request = cdsr.request("http://abc.cdn.acme.net/www.abc.com/x", flags=0x01)
    answer = cdsr_exchange(port, request)
    assert answer[14] == 0 and answer[5] & 0x40  # OK, TRUNCATED: hints left out
    assert len(answer) <= len(request)
    padded = cdsr_exchange(port, cdsr.request("http://abc.cdn.acme.net/www.abc.com/x",
                                              flags=0x01, pad_to=512))
    assert padded[14] == 0 and not padded[5] & 0x40 and len(padded) > len(answer)


def test_cdsr_oversize_and_dropped_are_counted(node):
    port = node.config["cdsr"]["port"]
    cdsr_exchange(port, b"CDSR" + bytes(5000), timeout=0.3)
    cdsr_exchange(port, b"junk", timeout=0.3)
    m = node.metrics()
    assert m["peercdn_cdsr_oversize_total"] == 1
    assert m['peercdn_cdsr_responses_total{status="dropped"}'] >= 1


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no ::1 on this machine")
def test_http_and_cdsr_over_ipv6(daemons):
    """Both roles on ::1, one port number for TCP and UDP: an IPv6 client
    outside every configured client network still gets a server, and as
    the servers have IPv4 addresses only, an IPv4 one."""
    port = free_port("::1")
    cfg = redirect_config(http={"listen": ["::1"], "port": port},
                          cdsr={"listen": ["::1"], "port": port}, rtsp={"enabled": False})
    d = daemons(cfg, node="acme-n1")
    raw = exchange(port, get(extra=b"Connection: close\r\n"), host="::1")
    assert statuses(raw) == [302], raw
    assert header(raw, "Location").split("/")[2].split(":")[0] in ACME_ALL
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(cdsr.request("http://abc.cdn.acme.net/www.abc.com/x", pad_to=512),
                    ("::1", port))
        answer = sock.recv(2048)
    assert answer[:4] == b"CDSR" and answer[14] == 0, answer[:16]
    assert answer[27] == 4 and socket.inet_ntoa(answer[30:34]) in ACME_ALL
    m = d.metrics()
    assert m['peercdn_http_responses_total{status="302"}'] == 1
    assert m['peercdn_cdsr_responses_total{status="ok"}'] == 1


def test_cdsr_rate_limit(daemons):
    d = daemons(redirect_config(cdsr={"rate": 5}), node="acme-n1")
    port = d.config["cdsr"]["port"]
    request = cdsr.request("http://abc.cdn.acme.net/www.abc.com/x", pad_to=512)
    answers = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.1.0.10", 0))
        sock.settimeout(0.5)
        for _ in range(60):
            sock.sendto(request, (ANYCAST, port))
        try:
            for _ in range(60):
                answers.append(sock.recv(2048)[14])
        except socket.timeout:
            pass
    assert 8 in answers           # RATE_LIMITED told to some
    assert len(answers) < 60      # and the rest dropped
    m = d.metrics()
    assert m["peercdn_cdsr_rate_dropped_total"] >= 1
    assert m["peercdn_cdsr_rate_limited_total"] >= 1


# --- a real RTSP client and server: ffprobe follows the 302 ----------------

def test_ffprobe_follows_the_rtsp_redirect_to_a_real_server(daemons, tmp_path):
    """ffprobe (FFmpeg's RTSP client) asks the redirector for a CDN URL, is
    sent to the server the policy chose, and reads the stream's format from
    the GStreamer RTSP server running there."""
    import os
    import shutil
    import subprocess
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed")
    if os.geteuid() != 0:
        pytest.skip("needs root: the CDN name is resolved through a private /etc/hosts")
    # What the machine may truly lack is checked here, before anything
    # starts; a media server that then fails to start fails the test.
    probe = subprocess.run(
        [sys.executable, "-c",
         "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
         "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
         "print('ok' if Gst.ElementFactory.find('x264enc') else 'no x264enc')"],
        capture_output=True, text=True, timeout=60)
    if probe.stdout.strip() != "ok":
        pytest.skip("the GStreamer RTSP server or x264enc is not installed: "
                    f"{(probe.stdout + probe.stderr).strip()[-300:]}")
    server_port = free_port()
    d = daemons(redirect_config(server_rtsp_port=server_port), node="acme-n1")
    port = d.config["rtsp"]["port"]
    url = f"rtsp://abc.cdn.acme.net:{port}/www.abc.com/news"
    # Which server will it be? ffprobe connects from 127.0.0.1 like this
    # probe, and the redirector remembers an object's server (affinity).
    raw = exchange(port, rtsp("OPTIONS", 1, uri=url), wait_close=False)
    location = header(raw, "Location")
    assert location and location.endswith(f":{server_port}/www.abc.com/news"), raw
    server_addr = location.split("/")[2].split(":")[0]
    assert server_addr in ACME_ALL

    media = subprocess.Popen(
        [sys.executable, str(SOURCE / "tests" / "system" / "media_server.py"),
         "--address", server_addr, "--port", str(server_port), "--mount", "/www.abc.com/news"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not line.startswith("ready"):
            line = media.stdout.readline()
            if not line and media.poll() is not None:
                break
        if not line.startswith("ready"):
            pytest.fail(f"the GStreamer RTSP server did not start: {line!r}")
        hosts = tmp_path / "hosts"
        hosts.write_text(f"{ANYCAST} abc.cdn.acme.net\n")
        probe = subprocess.run(
            ["unshare", "-m", "sh", "-c",
             f"mount --bind {hosts} /etc/hosts && exec ffprobe -v info -rtsp_transport tcp "
             f"-show_entries stream=codec_name -of csv=p=0 {url}"],
            capture_output=True, text=True, timeout=60)
        assert "h264" in probe.stdout, probe.stderr[-3000:]
        assert "Redirecting to" in probe.stderr or location in probe.stderr, probe.stderr
    finally:
        media.terminate()
        try:
            media.wait(timeout=10)
        except subprocess.TimeoutExpired:
            media.kill()
            media.wait(timeout=10)
    m = d.metrics()
    assert m['peercdn_rtsp_responses_total{status="302"}'] >= 2


# --- staged deployment (§4.4): legacy and CDSR-aware clients side by side ---

def fetch_tool():
    from conftest import BUILD
    path = BUILD / "src" / "client" / "peercdn-fetch"
    assert path.exists(), f"{path} not built"
    return str(path)


class ContentServers:
    """A small web server on each content server's address: every GET is
    answered with "served by NAME PATH". Stopped (threads joined, sockets
    closed) on exit."""

    def __init__(self, cfg, port, names):
        import http.server
        import threading
        self.servers = {}
        for server in cfg["servers"]:
            if server["name"] not in names:
                continue
            name = server["name"]

            class Handler(http.server.BaseHTTPRequestHandler):
                served_by = name

                def do_GET(self):
                    body = f"served by {self.served_by} {self.path}\n".encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                def log_message(self, *args):
                    pass

            httpd = http.server.ThreadingHTTPServer((server["addresses"][0], port), Handler)
            thread = threading.Thread(target=httpd.serve_forever, daemon=True)
            thread.start()
            self.servers[name] = (httpd, thread)

    def stop(self, name):
        httpd, thread = self.servers.pop(name)
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for name in list(self.servers):
            self.stop(name)


ACME_SERVERS = ("acme-s1", "acme-s2", "acme-core", "acme-s4")


def served_by(text):
    assert text.startswith("served by "), text
    return text.split()[2]


def test_legacy_and_cdsr_clients_get_the_same_server(daemons):
    """One node, one address: TCP HTTP redirects for curl -L, UDP CDSR for
    peercdn-fetch; both are served by the server the policy chose."""
    import subprocess
    content_port = free_port()
    d = daemons(redirect_config(server_http_port=content_port), node="acme-n1")
    port = d.config["http"]["port"]  # the CDSR port has the same number
    url = f"http://abc.cdn.acme.net:{port}/www.abc.com/staged.html"
    with ContentServers(d.config, content_port, ACME_SERVERS):
        legacy = subprocess.run(
            ["curl", "-s", "-L", "--max-time", "10", "--interface", "127.1.0.10", "--resolve",
             f"abc.cdn.acme.net:{port}:{ANYCAST}", url],
            capture_output=True, text=True, timeout=30)
        assert legacy.returncode == 0, legacy.stderr
        cdsr_aware = subprocess.run(
            [fetch_tool(), "-v", "--no-fallback", "-r", f"{ANYCAST}:{port}", "-b", "127.1.0.10",
             url], capture_output=True, text=True, timeout=30)
        assert cdsr_aware.returncode == 0, cdsr_aware.stderr
    assert served_by(legacy.stdout) == served_by(cdsr_aware.stdout)
    assert served_by(legacy.stdout) in ("acme-s1", "acme-s2", "acme-s4")
    assert "rendezvous:" in cdsr_aware.stderr and "(PRIMARY" in cdsr_aware.stderr
    m = d.metrics()
    assert m['peercdn_http_decisions_total{branch="PRIMARY"}'] == 1
    assert m['peercdn_cdsr_decisions_total{branch="PRIMARY"}'] == 1


def test_peercdn_fetch_moves_to_another_server_when_one_dies(daemons):
    import subprocess
    content_port = free_port()
    d = daemons(redirect_config(server_http_port=content_port), node="acme-n1")
    port = d.config["cdsr"]["port"]
    url = "http://abc.cdn.acme.net/www.abc.com/failover.html"
    args = [fetch_tool(), "-v", "--no-fallback", "-r", f"{ANYCAST}:{port}", "-b", "127.1.0.10",
            url]
    with ContentServers(d.config, content_port, ACME_SERVERS) as servers:
        first = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert first.returncode == 0, first.stderr
        dead = served_by(first.stdout)
        servers.stop(dead)  # killed mid-run: the CDN does not know yet
        second = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert second.returncode == 0, second.stderr
    assert served_by(second.stdout) != dead
    assert "reporting it" in second.stderr and "1 avoided" in second.stderr


def test_peercdn_fetch_falls_back_to_the_http_redirector(daemons):
    import subprocess
    content_port = free_port()
    d = daemons(redirect_config(server_http_port=content_port, cdsr={"enabled": False}),
                node="acme-n1")
    port = d.config["http"]["port"]
    url = f"http://abc.cdn.acme.net:{port}/www.abc.com/fallback.html"
    with ContentServers(d.config, content_port, ACME_SERVERS):
        out = subprocess.run(
            [fetch_tool(), "-v", "-t", "50", "-r", f"{ANYCAST}:{free_port(ANYCAST)}", "-b",
             "127.1.0.10", "--resolve", f"abc.cdn.acme.net:{port}:{ANYCAST}", url],
            capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert served_by(out.stdout) in ACME_SERVERS
    assert "fallback:" in out.stderr and "no answer" in out.stderr


def test_peercdn_fetch_reports_what_the_cdn_says(daemons):
    import subprocess
    d = daemons(redirect_config(), node="acme-n1")
    port = d.config["cdsr"]["port"]
    out = subprocess.run(
        [fetch_tool(), "--no-fallback", "-r", f"{ANYCAST}:{port}",
         "http://foo.cdn.beta.net/www.foo.com/x"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "does not serve the URL's host" in out.stderr
