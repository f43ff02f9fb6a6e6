"""The edge server of issue 10 against running daemons and a scripted
origin (origin_server.py): misses, hits and request collapsing, a tree of
three edges, HTTP caching as RFC 9111 says (freshness, revalidation,
Range, Vary, no-store, private, stale-if-error), origins that break
mid-answer (which must never be cached nor served short), request
smuggling from clients and from origins, no open proxy, and the access
log. Every network wait is bounded; no assertion is about time.

The edge's config lives in edge_config() alone: adjust it there when the
role's keys change."""
import concurrent.futures
import json
import resource
import selectors
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

import conftest
from conftest import SOURCE, default_config, free_port

sys.path.insert(0, str(SOURCE / "tests" / "system"))
from origin_server import body_for  # noqa: E402

ABC = "www.abc.com"  # provider abc's origin host (etc/peercdn.yaml)
FOO = "www.foo.com"  # provider foo's
EDGE1 = "127.1.201.1"  # acme-core: the top of a tree, next to the origin
EDGE2 = "127.1.200.1"  # acme-s1
EDGE3 = "127.1.200.2"  # acme-s2
CLIENT = "127.1.0.10"  # a client in acme's AS 100
TIMEOUT = 10


# --- the origin ----------------------------------------------------------

class Origin:
    """origin_server.py as a subprocess on a free port of 127.0.0.1;
    stopped by PID, and registered with conftest's leftover check."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(SOURCE / "tests" / "system" / "origin_server.py"),
             "--address", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()  # bounded: the server prints or exits
        if not line.startswith("ready http://"):
            self.stop()
            raise AssertionError(f"origin did not start: {line!r}")
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.address = f"127.0.0.1:{self.port}"
        conftest._started.append((self.proc.pid, [self.port]))

    def _get(self, path):
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=TIMEOUT) as resp:
            return json.loads(resp.read())

    def counts(self):
        return self._get("/__counts")

    def count(self, path):
        return self.counts().get(path, 0)

    def requests(self, path=None):
        reqs = self._get("/__requests")
        return [r for r in reqs if path is None or r["target"].split("?")[0] == path]

    def reset(self):
        self._get("/__reset")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.stop()


# --- the edge's config: the one place that knows its keys ------------------

def edge_config(tmp_path, name, listen, origin, parents=(), **keys):
    """default_config() with the redirectors and DNS off and the edge role
    on listen (one address, a free port), fetching www.abc.com and
    www.foo.com from origin, through parents (edge Daemons) when given."""
    cfg = default_config()
    cfg["dns"] = {"enabled": False}
    cfg["control"] = {"metrics_port": free_port(), "metrics_listen": "127.0.0.1"}
    cfg["edge"] = {
        "enabled": True,
        "listen": [listen],
        "port": free_port(listen),
        "origins": [f"{ABC}={origin.address}", f"{FOO}={origin.address}"],
        "parents": [f"{p.config['edge']['listen'][0]}:{p.config['edge']['port']}"
                    for p in parents],
        "memory_mb": 64,
        "max_object_mb": 16,
        "disk_path": "",
        "connect_timeout_ms": 1000,
        "upstream_timeout_ms": 3000,
        "header_timeout_ms": 2000,
        "idle_timeout_ms": 5000,
        "max_clients": 4096,
        "max_per_source": 2048,
        "max_header_bytes": 8192,
        "access_log": str(tmp_path / f"{name}-access.log"),
    }
    cfg["edge"].update(keys)
    return cfg


def start_edge(daemons, tmp_path, origin, name="edge1", listen=EDGE1, parents=(), **keys):
    return daemons(edge_config(tmp_path, name, listen, origin, parents, **keys), name=name,
                   node="acme-n1")


@pytest.fixture
def edge(daemons, tmp_path, origin):
    return start_edge(daemons, tmp_path, origin)


def where(edge):
    return edge.config["edge"]["listen"][0], edge.config["edge"]["port"]


def metric(edge, name, **labels):
    """The sum of name's series whose labels include labels."""
    total = 0.0
    for key, value in edge.metrics().items():
        base, _, rest = key.partition("{")
        if base != name:
            continue
        have = dict(kv.split("=", 1) for kv in rest.rstrip("}").split(",") if kv)
        if all(have.get(k) == f'"{v}"' for k, v in labels.items()):
            total += value
    return total


# --- a raw HTTP/1.1 client: it must see exactly what the edge sends --------

class Response:
    def __init__(self, status, headers, body, complete, reset, raw):
        self.status = status
        self.headers = headers  # [(lower name, value)]
        self.body = body
        self.complete = complete  # the framing says every byte is there
        self.reset = reset  # the connection was reset
        self.raw = raw

    def get(self, name):
        values = [v for k, v in self.headers if k == name.lower()]
        return ", ".join(values) if values else None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    @property
    def cache(self):
        return (self.get("X-Cache") or "").upper()

    def __repr__(self):
        return (f"<{self.status} complete={self.complete} reset={self.reset} "
                f"{len(self.body)}B {self.raw[:400]!r}>")


def dechunk(data):
    """(body, complete, what follows) of a chunked body at the start of
    data; a framing error or a cut ends it incomplete, with nothing
    after it (the connection cannot be read further)."""
    body = b""
    while True:
        eol = data.find(b"\r\n")
        if eol < 0:
            return body, False, b""
        try:
            size = int(data[:eol].split(b";")[0], 16)
        except ValueError:
            return body, False, b""
        if size == 0:
            end = data.find(b"\r\n\r\n", eol - 2 if eol >= 2 else 0)
            if data[eol:eol + 4] == b"\r\n\r\n":
                return body, True, data[eol + 4:]
            if end < 0:
                return body, False, b""
            return body, True, data[end + 4:]  # trailer fields
        chunk = data[eol + 2:eol + 2 + size]
        body += chunk
        if len(chunk) < size or data[eol + 2 + size:eol + 4 + size] != b"\r\n":
            return body, False, b""
        data = data[eol + 4 + size:]


def parse_responses(raw, reset=False, heads=()):
    """The responses in raw, in order. heads: indexes of responses to HEAD
    requests (no body whatever their fields say)."""
    out = []
    rest = raw
    while rest:
        end = rest.find(b"\r\n\r\n")
        if end < 0:
            break
        lines = rest[:end].split(b"\r\n")
        rest = rest[end + 4:]
        parts = lines[0].split(b" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.strip().lower().decode(), value.strip().decode("latin-1")))
        fields = dict(headers)
        body, complete = b"", True
        if len(out) in heads or status in (204, 304) or 100 <= status < 200:
            pass
        elif "chunked" in fields.get("transfer-encoding", ""):
            body, complete, rest = dechunk(rest)
        elif "content-length" in fields:
            length = int(fields["content-length"])
            body, rest = rest[:length], rest[length:]
            complete = len(body) == length
        else:
            # Read to the close: never a complete-looking framing for a
            # cache that may have lost bytes, so counted as incomplete.
            body, rest, complete = rest, b"", False
        out.append(Response(status, headers, body, complete, reset, raw))
    return out


def exchange(host, port, data, source=CLIENT, timeout=TIMEOUT, heads=()):
    """Sends data on one connection, reads until the edge closes (or
    resets, or timeout); returns (raw bytes, reset)."""
    sock = socket.create_connection((host, port), timeout=timeout,
                                    source_address=(source, 0) if source else None)
    chunks, reset = [], False
    with sock:
        sock.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                reset = True
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks), reset


def request(path, host=None, method="GET", headers=(), close=True):
    """One request as bytes: the CDN form /<origin host>/<path> unless host
    is given (the plain form with Host: host)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or 'abc.cdn.acme.net'}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def fetch(edge, path, host=None, method="GET", headers=(), timeout=TIMEOUT):
    """One request on its own connection; the one Response."""
    addr, port = where(edge)
    raw, reset = exchange(addr, port, request(path, host, method, headers), timeout=timeout)
    responses = parse_responses(raw, reset, heads=(0,) if method == "HEAD" else ())
    assert len(responses) <= 1, responses
    if not responses:
        return Response(0, [], b"", False, reset, raw)
    return responses[0]


def q(**params):
    return "?" + urllib.parse.urlencode(params)


def cdn(path, host=ABC):
    return f"/{host}{path}"


# --- the test origin itself ------------------------------------------------

def test_origin_server_behaves_as_documented(origin):
    """The origin the other tests rely on, tested without any edge."""
    class Direct:
        config = {"edge": {"listen": ["127.0.0.1"], "port": origin.port}}
    o = Direct()
    r = fetch(o, "/a" + q(size=5000, cc="max-age=60", etag="v1"), host=ABC)
    assert r.status == 200 and r.complete and r.body == body_for(ABC, "/a", 5000)
    assert r.get("Cache-Control") == "max-age=60" and r.get("ETag") == '"v1"'
    assert r.get("X-Origin-Count") == "1"
    r = fetch(o, "/a" + q(etag="v1"), host=ABC, headers=[("If-None-Match", '"v1"')])
    assert r.status == 304 and r.body == b""
    r = fetch(o, "/a" + q(lm=100), host=ABC,
              headers=[("If-Modified-Since", "Sun, 06 Nov 2044 08:49:37 GMT")])
    assert r.status == 304
    r = fetch(o, "/v" + q(vary="Accept-Encoding", size=50), host=ABC,
              headers=[("Accept-Encoding", "gzip")])
    assert r.get("Vary") == "Accept-Encoding" and r.body == body_for(ABC, "/v", 50, "gzip")
    r = fetch(o, "/c" + q(chunked=1, size=10000), host=ABC)
    assert r.complete and r.body == body_for(ABC, "/c", 10000)
    assert fetch(o, "/f" + q(fail_after=1), host=ABC).status == 200
    assert fetch(o, "/f" + q(fail_after=1), host=ABC).status == 500
    r = fetch(o, "/h" + q(hdr="Connection: X-Secret", size=3), host=ABC, method="HEAD")
    assert r.get("Connection") == "X-Secret" and r.get("Content-Length") == "3"
    for mode in ("short", "badchunk", "chunkcut", "reset"):
        r = fetch(o, f"/{mode}" + q(mode=mode, size=10000), host=ABC)
        assert r.status == 200 and not r.complete, (mode, r)
    assert fetch(o, "/reset" + q(mode="reset"), host=ABC).reset
    r = fetch(o, "/slow" + q(mode="slow", delay=10, size=100), host=ABC)
    assert r.complete and r.body == body_for(ABC, "/slow", 100)
    r = fetch(o, "/clte" + q(mode="clte", size=10), host=ABC)
    assert r.get("Content-Length") == "10" and r.get("Transfer-Encoding") == "chunked"
    assert len(fetch(o, "/twocl" + q(mode="twocl"), host=ABC).all("Content-Length")) == 2
    assert fetch(o, "/bad" + q(mode="badstatus"), host=ABC).status == 0
    counts = origin.counts()
    assert counts["/a"] == 3 and counts["/f"] == 2 and counts["/reset"] == 2
    assert origin.requests("/v")[0]["headers"]["accept-encoding"] == "gzip"
    origin.reset()
    assert origin.counts() == {}


# --- miss, hit, collapsing ---------------------------------------------------

def test_miss_then_hit(edge, origin):
    path = "/hit.bin" + q(size=20000, cc="max-age=600")
    first = fetch(edge, cdn(path))
    assert first.status == 200 and first.complete, first
    assert first.body == body_for(ABC, "/hit.bin", 20000)
    assert first.cache.startswith("MISS"), first
    assert first.get("Via"), first
    second = fetch(edge, cdn(path))
    assert second.status == 200 and second.body == first.body
    assert second.cache.startswith("HIT"), second
    assert second.get("X-Origin-Count") == "1"
    assert int(second.get("Age")) >= 0
    # The plain form, with the origin's name as Host, is the same object.
    plain = fetch(edge, path, host=ABC)
    assert plain.status == 200 and plain.body == first.body and plain.cache.startswith("HIT")
    assert origin.count("/hit.bin") == 1
    # Upstream the edge asked the origin for the origin-relative path.
    upstream, = origin.requests("/hit.bin")
    assert upstream["target"] == path and upstream["headers"]["host"] == ABC
    assert metric(edge, "peercdn_edge_requests_total", provider="abc", result="miss") == 1
    assert metric(edge, "peercdn_edge_requests_total", provider="abc", result="hit") == 2
    assert metric(edge, "peercdn_edge_upstream_fetches_total") == 1
    assert 20000 <= metric(edge, "peercdn_edge_upstream_bytes_total") < 40000
    assert metric(edge, "peercdn_edge_bytes_served_total") >= 60000


def test_two_providers_never_mix(edge, origin):
    path = "/index.html" + q(size=300, cc="max-age=600")
    abc = fetch(edge, cdn(path, ABC))
    foo = fetch(edge, cdn(path, FOO), host="foo.cdn.beta.net")
    assert abc.body == body_for(ABC, "/index.html", 300)
    assert foo.body == body_for(FOO, "/index.html", 300)
    assert fetch(edge, cdn(path, ABC)).body == abc.body
    assert fetch(edge, path, host=FOO).body == foo.body
    assert origin.count("/index.html") == 2
    assert sorted(r["headers"]["host"] for r in origin.requests("/index.html")) == [ABC, FOO]


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= need, "too few file descriptors"


def many_clients(edge, path, clients, sources=10, timeout=60):
    """clients connections at once, each sending one request for path (from
    sources client addresses); the Responses, read concurrently in one
    thread."""
    addr, port = where(edge)
    raise_fd_limit(clients + 100)
    data = request(path)
    sel = selectors.DefaultSelector()
    buffers = {}
    socks = []
    try:
        for i in range(clients):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind((f"127.1.0.{10 + i % sources}", 0))
            sock.settimeout(TIMEOUT)
            sock.connect((addr, port))
            sock.sendall(data)
            sock.setblocking(False)
            buffers[sock] = [bytearray(), False]
            sel.register(sock, selectors.EVENT_READ)
        open_ = clients
        deadline = time.monotonic() + timeout
        while open_ and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                sock = key.fileobj
                try:
                    chunk = sock.recv(262144)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    buffers[sock][1], chunk = True, b""
                if chunk:
                    buffers[sock][0] += chunk
                else:
                    sel.unregister(sock)
                    open_ -= 1
        assert open_ == 0, f"{open_} of {clients} clients were never answered"
    finally:
        sel.close()
        for sock in socks:
            sock.close()
    out = []
    for raw, reset in buffers.values():
        responses = parse_responses(bytes(raw), reset)
        out.append(responses[0] if responses else Response(0, [], b"", False, reset, raw))
    return out


def test_thousand_concurrent_clients_make_one_origin_fetch(edge, origin):
    """The origin waits before it answers, so the thousand requests come
    while the one fill is running: collapsed onto it, streamed from it."""
    path = "/crowd.bin" + q(size=16384, cc="max-age=600", delay=3000)
    expected = body_for(ABC, "/crowd.bin", 16384)
    responses = many_clients(edge, cdn(path), 1000)
    bad = [r for r in responses if not (r.status == 200 and r.complete and r.body == expected)]
    assert not bad, f"{len(bad)} clients got a wrong answer, first {bad[0]!r}"
    assert origin.count("/crowd.bin") == 1
    assert metric(edge, "peercdn_edge_upstream_fetches_total") == 1
    assert metric(edge, "peercdn_edge_collapsed_total") >= 1
    assert metric(edge, "peercdn_edge_requests_total", provider="abc") == 1000


# --- a tree of three edges -------------------------------------------------

def test_three_level_tree_fetches_once_per_level(daemons, tmp_path, origin):
    """edge3 -> edge2 -> edge1 -> origin: a miss goes up the tree, every
    node keeps a copy, so each node fetches an object once."""
    e1 = start_edge(daemons, tmp_path, origin, "edge1", EDGE1)
    e2 = start_edge(daemons, tmp_path, origin, "edge2", EDGE2, parents=[e1])
    e3 = start_edge(daemons, tmp_path, origin, "edge3", EDGE3, parents=[e2])
    path = "/tree.bin" + q(size=50000, cc="max-age=600")
    expected = body_for(ABC, "/tree.bin", 50000)
    first = fetch(e3, cdn(path))
    assert first.status == 200 and first.complete and first.body == expected, first
    assert first.cache.startswith("MISS")
    # Every proxy on the way appends itself to Via (RFC 9110 §7.6.3).
    assert len(first.get("Via").split(",")) >= 3, first.get("Via")
    # edge2 already holds it: a hit there, and again at edge3.
    assert fetch(e2, cdn(path)).cache.startswith("HIT")
    assert fetch(e3, cdn(path)).cache.startswith("HIT")
    assert origin.count("/tree.bin") == 1
    for e in (e1, e2, e3):
        assert metric(e, "peercdn_edge_upstream_fetches_total") == 1, e.name
    # Parents are asked with the CDN form and the edge's own Via.
    assert metric(e1, "peercdn_edge_requests_total", provider="abc", result="miss") == 1
    assert metric(e2, "peercdn_edge_requests_total", provider="abc", result="miss") == 1

    # A second object asked of two levels at once: edge1 still fetches it once.
    path = "/tree2.bin" + q(size=5000, cc="max-age=600", delay=1000)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        r3, r2 = pool.map(lambda e: fetch(e, cdn(path)), (e3, e2))
    assert r3.body == r2.body == body_for(ABC, "/tree2.bin", 5000), (r3, r2)
    assert origin.count("/tree2.bin") == 1
    assert metric(e1, "peercdn_edge_upstream_fetches_total") == 2


def test_parents_in_a_loop_end_at_the_origin(daemons, tmp_path, origin):
    """Two edges that name each other as parents (a loop a change of the
    overlay's routes can make for a moment, docs/edge.md, "The cache-miss
    tree"): the second hop finds itself in Via and answers 508, and the
    edge that asked goes on to its next upstream, the origin, so the
    client gets the object and the origin is asked once. A request with
    more Via entries than a tree has hops is refused."""
    c1 = edge_config(tmp_path, "edge1", EDGE1, origin)
    c2 = edge_config(tmp_path, "edge2", EDGE2, origin)
    c1["edge"]["parents"] = [f"{EDGE2}:{c2['edge']['port']}"]
    c2["edge"]["parents"] = [f"{EDGE1}:{c1['edge']['port']}"]
    e1 = daemons(c1, name="edge1", node="acme-n1")
    e2 = daemons(c2, name="edge2", node="acme-n1")
    path = "/loop.bin" + q(size=3000, cc="max-age=600")
    r = fetch(e1, cdn(path))
    assert r.status == 200 and r.body == body_for(ABC, "/loop.bin", 3000), r
    assert origin.count("/loop.bin") == 1
    assert metric(e2, "peercdn_edge_upstream_errors_total", reason="loop") == 1
    assert metric(e1, "peercdn_edge_requests_total", result="error") == 1  # its 508 to e2
    assert fetch(e2, cdn(path)).cache.startswith("HIT")
    vias = [("Via", ", ".join(f"1.1 proxy{i} (x, y)" for i in range(17)))]
    assert fetch(e1, cdn(path), headers=vias).status == 508
    vias = [("Via", ", ".join(f"1.1 proxy{i} (x, y)" for i in range(16)))]
    assert fetch(e1, cdn(path), headers=vias).status == 200


# --- origins that break: never cached, never served short ------------------

def assert_not_served_short(r, expected):
    """An answer to a broken fill: a 502/504, or a connection that ends
    without the framing saying the body is all there; never a complete
    200 with fewer or other bytes."""
    if r.status in (502, 504):
        return
    assert r.status in (0, 200), r
    assert not r.complete, f"a short body looked complete: {r!r}"
    assert expected.startswith(r.body), r


@pytest.mark.parametrize("mode,params", [
    ("short", {}),              # Content-Length larger than what is sent, then close
    ("badchunk", {"chunked": 1}),
    ("chunkcut", {"chunked": 1}),
    ("reset", {}),              # RST mid-body
    ("slow", {"delay": 4000}),  # pieces 4 s apart: a pause beyond upstream_timeout_ms
])
def test_broken_origin_answer_is_never_cached_nor_served_short(daemons, tmp_path, origin,
                                                               mode, params):
    e = start_edge(daemons, tmp_path, origin, upstream_timeout_ms=1500)
    path = f"/{mode}.bin" + q(mode=mode, size=200000, cc="max-age=600", **params)
    expected = body_for(ABC, f"/{mode}.bin", 200000)
    assert_not_served_short(fetch(e, cdn(path), timeout=30), expected)
    assert_not_served_short(fetch(e, cdn(path), timeout=30), expected)
    assert origin.count(f"/{mode}.bin") == 2  # refetched: nothing was kept
    assert metric(e, "peercdn_edge_upstream_errors_total") >= 2


def test_clients_streaming_a_fill_that_breaks_are_aborted(edge, origin):
    """Twenty clients collapsed onto one fill that is reset mid-body: each
    gets a cut connection (or a 502), none a complete-looking answer."""
    path = "/cut.bin" + q(mode="reset", size=500000, cc="max-age=600", delay=1500)
    expected = body_for(ABC, "/cut.bin", 500000)
    for r in many_clients(edge, cdn(path), 20):
        assert_not_served_short(r, expected)
    assert metric(edge, "peercdn_edge_collapsed_total") >= 1
    fetch(edge, cdn(path), timeout=30)
    assert origin.count("/cut.bin") >= 2  # nothing of the broken fill was kept


def test_origin_slower_than_the_timeout_gets_504(daemons, tmp_path, origin):
    e = start_edge(daemons, tmp_path, origin, upstream_timeout_ms=1000)
    r = fetch(e, cdn("/late" + q(delay=4000, cc="max-age=600")), timeout=30)
    assert r.status == 504 and r.complete, r
    assert metric(e, "peercdn_edge_upstream_errors_total") >= 1


def test_unreachable_origin_gets_502(daemons, tmp_path, origin):
    class Nowhere:
        address = f"127.0.0.1:{free_port()}"
    e = start_edge(daemons, tmp_path, Nowhere)
    r = fetch(e, cdn("/x"))
    assert r.status == 502 and r.complete, r
    assert metric(e, "peercdn_edge_upstream_errors_total") >= 1


@pytest.mark.parametrize("mode", ["clte", "twocl", "badstatus"])
def test_smuggling_origin_answer_gets_502_and_is_not_cached(edge, origin, mode):
    path = f"/{mode}" + q(mode=mode, size=100, cc="max-age=600")
    for _ in range(2):
        r = fetch(edge, cdn(path))
        assert r.status == 502 and r.complete, r
    assert origin.count(f"/{mode}") == 2
    assert metric(edge, "peercdn_edge_upstream_errors_total") >= 2


# --- HTTP caching (RFC 9111) ---------------------------------------------

def test_revalidation_with_etag_gets_304_and_serves_the_body(edge, origin):
    path = cdn("/reval" + q(size=3000, cc="max-age=1", etag="v1"))
    expected = body_for(ABC, "/reval", 3000)
    assert fetch(edge, path).body == expected
    time.sleep(2.2)  # the object goes stale (max-age=1)
    r = fetch(edge, path)
    assert r.status == 200 and r.complete and r.body == expected, r
    second = origin.requests("/reval")[1]
    assert second["headers"].get("if-none-match") == '"v1"', second
    # The 304 made it fresh again (its headers updated the stored ones).
    r = fetch(edge, path)
    assert r.cache.startswith("HIT") and r.get("X-Origin-Count") == "2", r
    assert origin.count("/reval") == 2
    # A client's own conditional request is answered by the edge.
    r = fetch(edge, path, headers=[("If-None-Match", '"v1"')])
    assert r.status == 304 and r.body == b"" and r.get("ETag") == '"v1"', r
    assert origin.count("/reval") == 2


def test_client_304_carries_only_its_fields_and_a_200_keeps_content_range(edge, origin):
    path = cdn("/f304?" + urllib.parse.urlencode(
        [("size", 100), ("cc", "max-age=600"), ("etag", "v1"), ("hdr", "X-Kept: 1"),
         ("hdr", "Content-Range: bytes 0-99/100")]))
    r = fetch(edge, path)
    assert r.status == 200 and r.get("Content-Range") == "bytes 0-99/100", r
    r = fetch(edge, path)
    assert r.cache.startswith("HIT") and r.get("X-Kept") == "1", r
    assert r.get("Content-Range") == "bytes 0-99/100", r  # stored (RFC 9111 §3.1)
    r = fetch(edge, path, headers=[("If-None-Match", '"v1"')])
    assert r.status == 304 and r.get("ETag") == '"v1"', r
    assert r.get("Cache-Control") == "max-age=600" and r.get("Age") is not None, r
    for name in ("X-Kept", "Content-Type", "Content-Range", "Content-Length"):
        assert r.get(name) is None, (name, r)  # RFC 9110 §15.4.5


def test_stale_is_served_when_the_upstream_is_unreachable(daemons, tmp_path):
    own_origin = Origin()
    try:
        e = start_edge(daemons, tmp_path, own_origin)
        free = cdn("/down" + q(size=300, cc="max-age=1"))
        strict = cdn("/downmr" + q(size=300, cc="max-age=1, must-revalidate"))
        assert fetch(e, free).status == 200 and fetch(e, strict).status == 200
        own_origin.stop()
        time.sleep(2.2)  # both stale now, and the origin refuses connections
        r = fetch(e, free)
        assert r.status == 200 and r.body == body_for(ABC, "/down", 300), r
        assert r.cache.startswith("STALE"), r
        assert fetch(e, strict).status == 502  # must-revalidate: never stale
        r = fetch(e, free, headers=[("Cache-Control", "max-age=1")])
        assert r.status == 502, r  # the client bounds the age
    finally:
        own_origin.stop()


def test_revalidation_with_last_modified(edge, origin):
    path = cdn("/lm" + q(size=100, cc="max-age=1", lm=3600))
    assert fetch(edge, path).status == 200
    time.sleep(2.2)
    assert fetch(edge, path).body == body_for(ABC, "/lm", 100)
    assert "if-modified-since" in origin.requests("/lm")[1]["headers"]


def test_range_from_a_cached_object(edge, origin):
    path = cdn("/range.bin" + q(size=10000, cc="max-age=600"))
    expected = body_for(ABC, "/range.bin", 10000)
    # Cold: a 206 or the whole object, and either way the right bytes.
    r = fetch(edge, path, headers=[("Range", "bytes=100-199")])
    assert (r.status, r.body) in ((206, expected[100:200]), (200, expected)), r
    cases = [("bytes=100-199", "bytes 100-199/10000", expected[100:200]),
             ("bytes=-50", "bytes 9950-9999/10000", expected[-50:]),
             ("bytes=9990-", "bytes 9990-9999/10000", expected[9990:]),
             ("bytes=9990-20000", "bytes 9990-9999/10000", expected[9990:])]
    for spec, content_range, body in cases:
        r = fetch(edge, path, headers=[("Range", spec)])
        assert r.status == 206 and r.complete, (spec, r)
        assert r.get("Content-Range") == content_range and r.body == body, (spec, r)
    r = fetch(edge, path, headers=[("Range", "bytes=20000-20100")])
    assert r.status == 416 and r.get("Content-Range") == "bytes */10000", r
    assert origin.count("/range.bin") == 1


def test_an_upstream_206_goes_to_the_client_whole(edge, origin):
    path = cdn("/up206?" + urllib.parse.urlencode(
        [("size", 100), ("status", 206), ("cc", "max-age=600"),
         ("hdr", "Content-Range: bytes 0-99/1000")]))
    r = fetch(edge, path, headers=[("Range", "bytes=0-99")])
    assert r.status == 206 and r.complete, r
    assert r.all("Content-Range") == ["bytes 0-99/1000"], r
    assert r.body == body_for(ABC, "/up206", 100), r


def test_vary_keeps_variants_apart(edge, origin):
    path = cdn("/vary" + q(size=500, cc="max-age=600", vary="Accept-Encoding"))

    def get(encoding):
        headers = [("Accept-Encoding", encoding)] if encoding is not None else []
        r = fetch(edge, path, headers=headers)
        assert r.status == 200 and r.body == body_for(ABC, "/vary", 500, encoding or ""), r
        return r

    get("gzip")
    get("identity")
    assert get("gzip").cache.startswith("HIT")
    assert get("identity").cache.startswith("HIT")
    get(None)
    assert origin.count("/vary") == 3


def test_no_store_is_never_cached(edge, origin):
    path = cdn("/nostore" + q(size=100, cc="no-store"))
    for _ in range(3):
        r = fetch(edge, path)
        assert r.status == 200 and not r.cache.startswith("HIT"), r
    assert origin.count("/nostore") == 3


def test_private_is_never_shared_but_s_maxage_is(edge, origin):
    path = cdn("/private" + q(size=100, cc="private, max-age=600"))
    fetch(edge, path)
    fetch(edge, path)
    assert origin.count("/private") == 2
    # s-maxage is for shared caches and overrides max-age (RFC 9111 §5.2.2.10).
    path = cdn("/shared" + q(size=100, cc="max-age=0, s-maxage=600"))
    fetch(edge, path)
    assert fetch(edge, path).cache.startswith("HIT")
    assert origin.count("/shared") == 1


def test_status_not_cacheable_by_default_and_heuristic_freshness(edge, origin):
    # 201 is not heuristically cacheable: without explicit freshness, never stored.
    for _ in range(2):
        assert fetch(edge, cdn("/created" + q(status=201, size=10))).status == 201
    assert origin.count("/created") == 2
    # A 200 with Last-Modified a day ago and nothing else: heuristic freshness.
    for _ in range(2):
        assert fetch(edge, cdn("/heur" + q(lm=86400, size=10))).status == 200
    assert origin.count("/heur") == 1


def test_stale_if_error_serves_stale_when_the_origin_fails(edge, origin):
    path = cdn("/sie" + q(size=700, cc="max-age=1, stale-if-error=600", fail_after=1))
    assert fetch(edge, path).status == 200
    time.sleep(2.2)
    r = fetch(edge, path)
    assert r.status == 200 and r.body == body_for(ABC, "/sie", 700), r
    assert origin.count("/sie") == 2  # the origin was asked, and failed
    # Without stale-if-error, the error goes to the client.
    path = cdn("/nosie" + q(size=700, cc="max-age=1", fail_after=1))
    assert fetch(edge, path).status == 200
    time.sleep(2.2)
    assert fetch(edge, path).status == 500


def test_stale_while_revalidate_answers_now_and_refreshes(edge, origin):
    path = cdn("/swr" + q(size=100, cc="max-age=1, stale-while-revalidate=600"))
    assert fetch(edge, path).status == 200
    time.sleep(2.2)
    r = fetch(edge, path)
    assert r.status == 200 and r.get("X-Origin-Count") == "1", r  # the stale copy
    deadline = time.monotonic() + TIMEOUT
    while origin.count("/swr") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert origin.count("/swr") == 2  # refreshed in the background


def test_request_cache_control(edge, origin):
    path = cdn("/reqcc" + q(size=100, cc="max-age=600"))
    fetch(edge, path)
    assert fetch(edge, path, headers=[("Cache-Control", "no-cache")]).status == 200
    assert origin.count("/reqcc") == 2
    fetch(edge, path, headers=[("Cache-Control", "max-age=0")])
    assert origin.count("/reqcc") == 3
    assert fetch(edge, path).cache.startswith("HIT")
    r = fetch(edge, cdn("/cold" + q(size=10)), headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 504 and origin.count("/cold") == 0, r


def test_unsafe_method_invalidates(edge, origin):
    path = cdn("/inval" + q(size=100, cc="max-age=600"))
    fetch(edge, path)
    assert fetch(edge, path).cache.startswith("HIT")
    addr, port = where(edge)
    raw, _ = exchange(addr, port, request(path, method="POST", headers=[
        ("Content-Length", "5")]) + b"hello")
    assert parse_responses(raw)[0].status == 200
    assert origin.count("/inval") == 2
    assert origin.requests("/inval")[1]["method"] == "POST"
    assert not fetch(edge, path).cache.startswith("HIT")
    assert origin.count("/inval") == 3


def test_hop_by_hop_fields_are_neither_stored_nor_forwarded(edge, origin):
    path = cdn("/hop?" + urllib.parse.urlencode(
        [("size", 10), ("cc", "max-age=600"), ("hdr", "Connection: X-Secret"),
         ("hdr", "X-Secret: 1"), ("hdr", "Keep-Alive: timeout=5"), ("hdr", "X-Kept: 1")]))
    for _ in range(2):
        r = fetch(edge, path, headers=[("Connection", "X-Client-Secret"),
                                       ("X-Client-Secret", "1"), ("Upgrade", "h2c")])
        assert r.get("X-Secret") is None and r.get("Keep-Alive") is None, r
        assert "x-secret" not in (r.get("Connection") or "").lower(), r
        assert r.get("X-Kept") == "1", r
    assert r.cache.startswith("HIT")
    upstream = origin.requests("/hop")[0]["headers"]
    assert "x-client-secret" not in upstream and "upgrade" not in upstream, upstream


def test_head(edge, origin):
    path = cdn("/head" + q(size=4000, cc="max-age=600"))
    addr, port = where(edge)
    data = (request(path, method="HEAD", close=False) + request(path, close=False) +
            request(path, method="HEAD"))
    raw, _ = exchange(addr, port, data)
    head, get, head2 = parse_responses(raw, heads=(0, 2))
    assert head.status == 200 and head.get("Content-Length") == "4000" and head.body == b""
    assert get.status == 200 and get.complete and get.body == body_for(ABC, "/head", 4000)
    assert head2.status == 200 and head2.get("Content-Length") == "4000"
    assert head2.cache.startswith("HIT")
    assert raw.endswith(b"\r\n\r\n")  # nothing after the last head: no body for a HEAD
    assert origin.count("/head") <= 2


# --- no open proxy ---------------------------------------------------------

@pytest.mark.parametrize("target,host", [
    ("/www.evil.example/x", "abc.cdn.acme.net"),      # an origin in no config
    ("/x", "www.evil.example"),                       # the plain form, unknown Host
    ("http://www.evil.example/x", "www.evil.example"),  # absolute form
])
def test_unconfigured_origins_are_refused(edge, origin, target, host):
    addr, port = where(edge)
    raw, _ = exchange(addr, port, request(target, host=host))
    r, = parse_responses(raw)
    assert r.status in (403, 404), r
    assert origin.counts() == {}


def test_origin_address_as_host_is_refused(edge, origin):
    r = fetch(edge, f"/{origin.address}/x", host=origin.address)
    assert r.status in (403, 404), r
    assert origin.counts() == {}


# --- request smuggling and limits (the redirectors' matrix) -----------------

GOOD = "/www.abc.com/ok?cc=max-age%3D600"
H = b"Host: abc.cdn.acme.net\r\n"


@pytest.mark.parametrize("request_bytes,status", [
    (b"POST /www.abc.com/x HTTP/1.1\r\n" + H + b"Content-Length: 4\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST /www.abc.com/x HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nContent-Length: 5\r\n"
     b"\r\nabcde", 400),
    (b"POST /www.abc.com/x HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"zz\r\nabc\r\n0\r\n\r\n", 400),
    (b"POST /www.abc.com/x HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST /www.abc.com/x HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, identity\r\n\r\n",
     501),
    (b"GET /www.abc.com/x HTTP/1.1\nHost: abc.cdn.acme.net\n\n", 400),  # bare LF
    (b"GET /www.abc.com/x HTTP/1.1\r\n" + H + b"X-A: 1\r\n folded\r\n\r\n", 400),
    (b"GET /www.abc.com/x HTTP/1.1\r\n" + H + b"X-A : 1\r\n\r\n", 400),  # space before colon
    (b"GET /www.abc.com/x\x00 HTTP/1.1\r\n" + H + b"\r\n", 400),
    (b"GET /www.abc.com/x HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    (b"GET /www.abc.com/x HTTP/1.1\r\nX-A: 1\r\n\r\n", 400),  # no Host
    (b"GET /www.abc.com/x HTTP/1.1\r\n" + H + b"Host: evil.example\r\n\r\n", 400),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    (b"GET /www.abc.com/x HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 20000 + b"\r\n\r\n", 431),
    (b"GET /www.abc.com/x HTTP/1.1\r\n" + H + b"".join(b"X-%d: 1\r\n" % i for i in range(150))
     + b"\r\n", 431),
    (b"GET /www.abc.com/x HTTP/2.0\r\n" + H + b"\r\n", 505),
    (b"A" * 40 + b" /www.abc.com/x HTTP/1.1\r\n" + H + b"\r\n", 501),  # a method too long
    (b"TRACE /www.abc.com/x HTTP/1.1\r\n" + H + b"\r\n", 405),
    (b"CONNECT www.abc.com:443 HTTP/1.1\r\nHost: www.abc.com:443\r\n\r\n", 405),
    (b"POST /www.abc.com/x HTTP/1.1\r\n" + H + b"Content-Length: 99999999999\r\n\r\n", 413),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # a TLS ClientHello
])
def test_bad_requests_get_their_status_and_a_close(edge, origin, request_bytes, status):
    addr, port = where(edge)
    raw, _ = exchange(addr, port, request_bytes + request(GOOD))
    responses = parse_responses(raw)
    assert [r.status for r in responses] == [status], raw[:300]
    assert responses[0].get("Connection") == "close"
    assert origin.counts() == {}  # nothing of it went upstream
    # The edge still serves.
    assert fetch(edge, GOOD).status == 200


def test_smuggled_request_is_not_answered(edge, origin):
    addr, port = where(edge)
    smuggle = (b"POST /www.abc.com/x HTTP/1.1\r\n" + H + b"Content-Length: 44\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + request("/www.abc.com/smuggled"))
    raw, _ = exchange(addr, port, smuggle)
    assert [r.status for r in parse_responses(raw)] == [400], raw
    assert origin.counts() == {}


def test_slow_client_gets_408(edge):
    addr, port = where(edge)
    raw, _ = exchange(addr, port, b"GET /www.abc.com/x HTTP/1.1\r\nHost: abc")
    assert [r.status for r in parse_responses(raw)] == [408], raw


# --- access log ------------------------------------------------------------

# RFC 7937 §3.4.1, record type cdni_http_request_v1: the fields every
# record carries (s-cached is a SHOULD this edge keeps).
CDNI_FIELDS = ["date", "time", "time-taken", "c-groupid", "s-hostname", "s-port",
               "cs-method", "cs-uri", "u-uri", "protocol", "sc-status", "sc-total-bytes",
               "s-cached"]


def read_access_log(edge, records):
    """The (fields, records) of edge's access log once it holds records
    lines (bounded wait: the log may be written behind)."""
    path = edge.config["edge"]["access_log"]
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            text = open(path).read()
        except FileNotFoundError:
            text = ""
        lines = text.splitlines()
        fields = [line.split(":", 1)[1].strip().split("\t") for line in lines
                  if line.startswith("#fields:")]
        rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
        if (fields and len(rows) >= records) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert fields, f"no #fields directive in {path}:\n{text[:2000]}"
    return fields[-1], [dict(zip(fields[-1], row)) for row in rows if len(row) == len(fields[-1])]


def test_access_log_has_the_cdni_fields(edge, origin):
    path = cdn("/logged" + q(size=1234, cc="max-age=600"))
    fetch(edge, path)
    fetch(edge, path)
    fields, rows = read_access_log(edge, 2)
    missing = [f for f in CDNI_FIELDS if f not in fields]
    assert not missing, f"fields missing: {missing} in {fields}"
    ours = [r for r in rows if "/logged" in r["cs-uri"]]
    assert len(ours) == 2, rows
    for row in ours:
        assert row["cs-method"] == "GET" and row["sc-status"] == "200", row
        assert row["protocol"] == "HTTP/1.1" and row["s-port"] == str(where(edge)[1]), row
        assert int(row["sc-total-bytes"]) > 1234, row
        assert len(row["date"]) == 10 and row["date"][4] == "-", row
        assert float(row["time-taken"]) >= 0, row
    assert [r["s-cached"] for r in ours] == ["0", "1"], ours


# --- directory names (docs/directory.md): the edge asks the directory ------

def test_directory_names_resolve_to_origin_urls(daemons, tmp_path, origin):
    """http://<edge>/cdn.foo.com/<name>: the edge asks the directory role,
    keeps its answer for the TTL, and serves the origin URL it names from
    the same cache as that URL's own requests."""
    dir_port = free_port(EDGE1)
    cfg = edge_config(tmp_path, "edge1", EDGE1, origin,
                      directories=[f"{EDGE1}:{dir_port}"])
    cfg["directory"] = {"enabled": True, "listen": [EDGE1], "port": dir_port, "entries": [
        {"name": "cdn.foo.com/index.html",
         "origin": "http://www.foo.com/index.html?size=300&cc=max-age%3D600", "ttl": 60},
        {"name": "cdn.foo.com/videos/", "origin": "http://www.foo.com/v/", "ttl": 60},
        {"name": "cdn.foo.com/Channel12", "channel": "foo/ch12", "ttl": 30},
    ]}
    e = daemons(cfg, name="edge1", node="acme-n1")
    first = fetch(e, "/cdn.foo.com/index.html")
    assert first.status == 200 and first.body == body_for(FOO, "/index.html", 300), first
    second = fetch(e, "/cdn.foo.com/index.html")
    assert second.status == 200 and second.cache.startswith("HIT"), second
    # The same object under its origin URL: one cache, one origin fetch.
    third = fetch(e, "/index.html" + q(size=300, cc="max-age=600"), host=FOO)
    assert third.cache.startswith("HIT"), third
    assert origin.count("/index.html") == 1
    # A prefix entry appends the rest of the name.
    r = fetch(e, "/cdn.foo.com/videos/a.mp4")
    assert r.status == 200 and r.body == body_for(FOO, "/v/a.mp4", 1000), r
    # Unknown names are 404; a provider's channel is its live stream
    # (docs/live.md), which foo's agreements do not bring into acme: 403.
    assert fetch(e, "/cdn.foo.com/nothing-here").status == 404
    assert fetch(e, "/cdn.foo.com/Channel12").status == 403
    # The answers were asked once each, whatever the number of requests.
    assert metric(e, "peercdn_directory_requests_total") == 4


def test_directory_unreachable_is_502(daemons, tmp_path, origin):
    e = start_edge(daemons, tmp_path, origin, directories=[f"{EDGE1}:{free_port(EDGE1)}"])
    r = fetch(e, "/cdn.foo.com/index.html")
    assert r.status == 502 and r.complete, r


# --- the store: its disk tier and its memory limit -------------------------

def test_disk_tier_survives_a_restart(daemons, tmp_path, origin):
    disk = tmp_path / "disk"
    first = start_edge(daemons, tmp_path, origin, "edge-a", disk_path=str(disk))
    path = cdn("/kept.bin" + q(size=70000, cc="max-age=600"))
    expected = body_for(ABC, "/kept.bin", 70000)
    r = fetch(first, path)
    assert r.status == 200 and r.body == expected and r.cache.startswith("MISS"), r
    assert metric(first, "peercdn_edge_disk_writes_total") == 1
    assert first.stop() == 0
    second = start_edge(daemons, tmp_path, origin, "edge-b", disk_path=str(disk))
    assert metric(second, "peercdn_edge_disk_objects") == 1
    r = fetch(second, path)
    assert r.status == 200 and r.body == expected and r.cache.startswith("HIT"), r
    assert origin.count("/kept.bin") == 1
    assert metric(second, "peercdn_edge_disk_reads_total") == 1


def test_memory_limit_evicts_and_counts_by_provider(edge_small, origin):
    """32 objects of 100 KB through a 1 MiB store: the memory stays under
    its limit, the evictions are counted for the provider whose objects
    went, and an evicted object is fetched again, whole."""
    for i in range(32):
        r = fetch(edge_small, cdn(f"/big{i}" + q(size=100000, cc="max-age=600")))
        assert r.status == 200 and len(r.body) == 100000, r
    assert metric(edge_small, "peercdn_edge_memory_bytes") <= 1 << 20
    assert metric(edge_small, "peercdn_edge_evictions_total", provider="abc") >= 20
    assert metric(edge_small, "peercdn_edge_evictions_total", provider="foo") == 0
    r = fetch(edge_small, cdn("/big0" + q(size=100000, cc="max-age=600")))
    assert r.body == body_for(ABC, "/big0", 100000) and origin.count("/big0") == 2, r


@pytest.fixture
def edge_small(daemons, tmp_path, origin):
    return start_edge(daemons, tmp_path, origin, memory_mb=1, max_object_mb=1)


def test_unknown_methods_are_forwarded_and_invalidate(edge, origin):
    """A proxy passes on a method it does not know, as unsafe: it reaches
    the origin once (never retried) and what the edge stored for the
    target is invalidated (RFC 9111 §4.4)."""
    path = cdn("/brew" + q(size=100, cc="max-age=600"))
    assert fetch(edge, path).status == 200
    assert fetch(edge, path).cache.startswith("HIT")
    r = fetch(edge, path, method="BREW")
    assert r.status < 500 and r.cache.startswith("PASS"), r
    assert [x["method"] for x in origin.requests("/brew")] == ["GET", "BREW"]
    assert fetch(edge, path).cache.startswith("MISS")
