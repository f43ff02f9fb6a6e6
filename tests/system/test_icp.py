"""ICP (RFC 2186) against a running peercdnd, for legacy caches that use a
peercdn node as their parent (docs/icp.md): queries as Squid sends them get
MISS (or HIT) for a URL of a configured provider, DENIED for any other URL
or an unlisted querier, ERR for a URL that is no URL, MISS_NOFETCH over the
overload threshold; malformed datagrams get no answer and are counted by
reason. A HIT is exactly what the edge would serve from its store, for
every URL form the edge routes. Then a real Squid as the legacy child:
first against a stand-in parent HTTP server (the ICP leg alone), then
client -> Squid -> ICP + HTTP -> peercdn edge -> origin (origin_server.py).
The Squid tests are skipped, saying why, only where squid is not
installed.

Absence of an answer is never waited for: each malformed datagram is
followed on the same socket by a good query, and the first datagram back
must be that query's answer."""
import http.server
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest

from conftest import SOURCE, default_config, free_port

sys.path.insert(0, str(SOURCE / "tests" / "fuzz"))
sys.path.insert(0, str(SOURCE / "tests" / "system"))
import gen_icp_corpus as corpus  # noqa: E402
from origin_server import body_for  # noqa: E402
from test_edge import Origin, fetch  # noqa: E402

HOST = "127.0.0.1"
URL = b"http://abc.cdn.acme.net/www.abc.com/x"  # acme's provider abc, origin www.abc.com
TIMEOUT = 5
OP = corpus.OP


def icp_config(origin_address=None, **keys):
    """default_config() with the icp role on a free loopback port, open to
    loopback, the edge role it answers for (its origins www.abc.com and
    www.foo.com at origin_address: by default a free port nobody listens
    on, as the queries alone never fetch), and /metrics."""
    cfg = default_config()
    cfg["dns"].update(listen=[HOST], port=free_port(), workers=2)
    cfg["control"] = {"metrics_port": free_port(), "metrics_listen": HOST}
    origin_address = origin_address or f"{HOST}:{free_port()}"
    cfg["edge"] = {"enabled": True, "listen": [HOST], "port": free_port(),
                   "origins": [f"www.abc.com={origin_address}",
                               f"www.foo.com={origin_address}"],
                   "memory_mb": 16, "max_object_mb": 4, "disk_path": "",
                   "connect_timeout_ms": 1000, "upstream_timeout_ms": 3000}
    cfg["icp"] = {"enabled": True, "listen": [HOST], "port": free_port(),
                  "allow": ["127.0.0.0/8"]}
    cfg["icp"].update(keys)
    return cfg


def parse(reply):
    """(opcode, version, reqnum, options, url) of an answer, checking its
    framing: length field = datagram length, URL NUL-terminated."""
    opcode, version, length, reqnum, options, _pad = struct.unpack("!BBHIII", reply[:16])
    assert length == len(reply), reply
    assert reply.endswith(b"\0") and b"\0" not in reply[20:-1], reply
    return opcode, version, reqnum, options, reply[20:-1]


class Querier:
    """A UDP socket speaking ICP to one node, as a child cache would."""

    def __init__(self, port, source=HOST):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(TIMEOUT)
        self.reqnum = 1000

    def send(self, data):
        self.sock.sendto(data, (HOST, self.port))

    def query(self, url=URL, version=2):
        """Sends a query; returns its answer parsed, checked against it."""
        self.reqnum += 1
        wire = corpus.message(OP["query"], url=url, version=version, reqnum=self.reqnum)
        self.send(wire)
        reply, _ = self.sock.recvfrom(65536)
        opcode, v, reqnum, options, echoed = parse(reply)
        assert (v, reqnum, options, echoed) == (2, self.reqnum, 0, url)
        assert len(reply) == len(wire) - 4  # no requester address: never amplifies
        return opcode

    def close(self):
        self.sock.close()


@pytest.fixture
def querier():
    made = []

    def make(port, source=HOST):
        q = Querier(port, source)
        made.append(q)
        return q

    yield make
    for q in made:
        q.close()


def icp_metrics(node):
    m = node.metrics()
    return ({k.split('"')[1]: v for k, v in m.items()
             if k.startswith("peercdn_icp_queries_total{")},
            {k.split('"')[1]: v for k, v in m.items()
             if k.startswith("peercdn_icp_dropped_total{")})


def test_query_answers(daemons, querier):
    """A configured provider's URL is a MISS (nothing held yet), in either
    version; a URL of no provider or origin is DENIED; a URL with white
    space is ERR. Each answer copies the request number and URL."""
    node = daemons(icp_config())
    q = querier(node.config["icp"]["port"])
    assert q.query() == OP["miss"]
    assert q.query(version=3) == OP["miss"]
    assert q.query(url=b"http://www.example.org/index.html") == OP["denied"]
    assert q.query(url=b"http://abc.cdn.acme.net/www.evil.com/x") == OP["denied"]
    assert q.query(url=b"http://abc.cdn.acme.net/www.abc.com/a b") == OP["err"]
    answers, dropped = icp_metrics(node)
    assert answers == {"hit": 0, "miss": 2, "miss_nofetch": 0, "denied": 2, "err": 1}
    assert sum(dropped.values()) == 0


def test_querier_not_allowed(daemons, querier):
    """A querier outside `allow` gets DENIED, even for a URL served."""
    node = daemons(icp_config(allow=["127.0.0.2/32"]))
    assert querier(node.config["icp"]["port"]).query() == OP["denied"]
    assert querier(node.config["icp"]["port"], source="127.0.0.2").query() == OP["miss"]


def test_default_allow_denies_all(daemons, querier):
    """Without `allow`, nobody may query."""
    cfg = icp_config()
    del cfg["icp"]["allow"]
    node = daemons(cfg)
    assert querier(node.config["icp"]["port"]).query() == OP["denied"]


def test_no_edge_role_denies_all(daemons, querier):
    """A node without the edge role holds nothing and fetches nothing:
    every query is DENIED."""
    cfg = icp_config()
    cfg["edge"]["enabled"] = False
    node = daemons(cfg)
    assert querier(node.config["icp"]["port"]).query() == OP["denied"]


MALFORMED = {
    # corpus seed: the reason it is counted under
    "short_header": "short",
    "empty": "short",
    "version_1": "version",
    "version_4": "version",
    "length_more": "length",
    "length_less": "length",
    "length_zero": "length",
    "truncated": "length",
    "no_nul": "payload",
    "nul_inside": "payload",
    "padded": "payload",
    "empty_url": "payload",
    "header_only": "length",  # a query cut after its header
    "query_no_requester": "payload",
    "opcode_invalid": "opcode",
    "opcode_unknown": "opcode",
    "reply_hit": "opcode",
    "reply_miss": "opcode",
    "reply_err": "opcode",
    "reply_denied": "opcode",
    "reply_miss_nofetch": "opcode",
    "reply_secho": "opcode",
    "reply_decho": "opcode",
    "huge_over": "oversize",
}


def test_malformed_dropped(daemons, querier):
    """Each malformed datagram, or message that is no query, is dropped
    unanswered and counted under its reason; the node keeps answering."""
    node = daemons(icp_config())
    q = querier(node.config["icp"]["port"])
    seeds = dict(corpus.seeds())
    for name in MALFORMED:
        q.send(seeds[name])
        # The next answer on this socket must be the good query's.
        assert q.query() == OP["miss"], name
    answers, dropped = icp_metrics(node)
    expected = {}
    for reason in MALFORMED.values():
        expected[reason] = expected.get(reason, 0) + 1
    assert dropped == {r: expected.get(r, 0) for r in dropped}
    assert set(expected) <= set(dropped)
    assert answers["miss"] == len(MALFORMED)


def test_overload_nofetch(daemons, querier):
    """Over overload_qps queries in a second, a miss becomes MISS_NOFETCH
    (the child goes elsewhere); a denial stays a denial."""
    node = daemons(icp_config(overload_qps=1))
    q = querier(node.config["icp"]["port"])
    # Five queries span at most two one-second windows (each answered
    # within TIMEOUT, far under a second in practice): at most two MISS.
    answers = [q.query() for _ in range(5)]
    assert answers.count(OP["miss_nofetch"]) >= 3, answers
    assert set(answers) <= {OP["miss"], OP["miss_nofetch"]}
    assert q.query(url=b"http://www.example.org/") == OP["denied"]


# The request forms the edge routes (src/node/edge.c, route()), each for
# its own path: (the request target, its Host). The query makes the origin
# answer fresh for long (origin_server.py's cc=).
FRESH = "?cc=max-age%3D600"
EDGE_FORMS = {
    "/cdn": ("/www.abc.com/cdn" + FRESH, "abc.cdn.acme.net"),
    "/plain": ("/plain" + FRESH, "www.abc.com"),
    "/absolute": ("http://www.abc.com/absolute" + FRESH, "abc.cdn.acme.net"),
    "/absolute-cdn": ("http://abc.cdn.acme.net/www.abc.com/absolute-cdn" + FRESH,
                      "abc.cdn.acme.net"),
    "/": ("http://abc.cdn.acme.net/www.abc.com" + FRESH, "abc.cdn.acme.net"),
}


def test_hit_agrees_with_the_edge_route(daemons, querier):
    """What ICP calls a HIT is what the edge serves from its store: an
    object fetched through the edge in any request form is a HIT for a
    query in every URL form that the edge routes to it (the CDN URL under
    any host, the origin's URL, host case, a port), and a MISS for every
    URL that is another object (path case, another query, another
    provider's origin)."""
    origin = Origin()
    try:
        node = daemons(icp_config(origin_address=origin.address))
        edge_at = f"{HOST}:{node.config['edge']['port']}"
        for path, (target, host) in EDGE_FORMS.items():
            r = fetch(node, target, host)
            assert r.status == 200 and r.complete, (path, r)
            assert r.body == body_for("www.abc.com", path, 1000), (path, r)
        assert origin.counts() == {path: 1 for path in EDGE_FORMS}
        q = querier(node.config["icp"]["port"])
        for path in EDGE_FORMS:
            tail = path.lstrip("/") + FRESH
            for url in (f"http://abc.cdn.acme.net/www.abc.com/{tail}",
                        f"http://{edge_at}/www.abc.com/{tail}",
                        f"http://www.abc.com/{tail}",
                        f"http://WWW.ABC.COM:80/{tail}",
                        f"http://abc.cdn.acme.net/WWW.abc.com/{tail}"):
                assert q.query(url=url.encode()) == OP["hit"], url
            for url in (f"http://www.abc.com/{tail.upper()}",
                        f"http://www.abc.com/{path.lstrip('/')}?cc=other",
                        f"http://www.foo.com/{tail}",
                        f"http://abc.cdn.acme.net/www.foo.com/{tail}"):
                assert q.query(url=url.encode()) == OP["miss"], url
        answers, _ = icp_metrics(node)
        assert answers["hit"] == 5 * len(EDGE_FORMS)
    finally:
        origin.stop()


# Objects the edge fetched but would not serve from its store to the next
# client without going upstream: (path with the origin's query, why).
NOT_HITS = [
    ("/no-store?cc=no-store", "never stored"),
    ("/private?cc=private", "not for a shared cache"),
    ("/no-cache?cc=no-cache", "revalidated before every use"),
    ("/stale?cc=max-age%3D0", "stale"),
    ("/expired?expires=-60", "stale"),
    ("/error?status=500", "a status not cacheable by default"),
]


@pytest.mark.parametrize("path,why", NOT_HITS, ids=[p for p, _ in NOT_HITS])
def test_no_hit_for_what_the_edge_would_fetch_again(daemons, querier, path, why):
    """ICP says HIT only for an object the edge would serve from its store
    as it is: a child that takes a HIT sends the parent the request
    expecting no upstream fetch (RFC 2186: the object is in the cache;
    Squid's own answer needs it fresh)."""
    origin = Origin()
    try:
        node = daemons(icp_config(origin_address=origin.address))
        r = fetch(node, f"/www.abc.com{path}", "abc.cdn.acme.net")
        assert r.complete, r
        q = querier(node.config["icp"]["port"])
        assert q.query(url=f"http://www.abc.com{path}".encode()) == OP["miss"], why
        fresh = "/fresh?cc=max-age%3D600"  # the same node answers HIT for a fresh one
        assert fetch(node, f"/www.abc.com{fresh}", "abc.cdn.acme.net").status == 200
        assert q.query(url=f"http://www.abc.com{fresh}".encode()) == OP["hit"]
    finally:
        origin.stop()


# ---- a real Squid as the legacy child ----

SQUID = "/usr/sbin/squid"
SQUID_ICP_HOST = "127.0.0.3"


class CountingParent(http.server.ThreadingHTTPServer):
    """A stand-in parent's HTTP side: answers every proxied GET with a
    fixed body and counts them."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = b"from the parent\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=60")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__((HOST, 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


class Squid:
    """squid -N (foreground) from its own temporary config: a child whose
    one parent is parent_http (HTTP) and icp_port (ICP), never going
    direct; memory only, every file in workdir. Stopped by its PID."""

    def __init__(self, parent_http, icp_port):
        # Squid run as root drops to its own user, which must reach its
        # files: not under pytest's private tmp_path.
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="peercdn-squid-"))
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        self.icp_port = free_port(SQUID_ICP_HOST)
        self.conf = self.dir / "squid.conf"
        self.conf.write_text(f"""
http_port {HOST}:{self.port}
icp_port {self.icp_port}
# Not the parent's address: Squid drops ICP from its own address, port
# or not ("Ignoring UDP packet sent by myself").
udp_incoming_address {SQUID_ICP_HOST}
cache_peer {HOST} parent {parent_http} {icp_port} no-digest
# As docs/icp.md says: only the CDN's URLs go to the node.
acl cdn dstdomain abc.cdn.acme.net www.abc.com
cache_peer_access {HOST} allow cdn
cache_peer_access {HOST} deny all
never_direct allow all
# A fixed wait for the parent's answer: the dynamic one starts at 5 ms
# and Squid reads its ICP socket only every few events.
icp_query_timeout 2000
http_access allow localhost
http_access deny all
icp_access deny all
cache_mem 8 MB
pid_filename {self.dir}/squid.pid
access_log stdio:{self.dir}/access.log
# Log whole URLs: the tests find a request's line by its URL.
strip_query_terms off
cache_log {self.dir}/cache.log
# A new connection to the parent per request: Squid 5 logs a reused
# connection's hierarchy code as the one it was opened for (a
# PARENT_HIT sent on the first request's connection is logged
# FIRST_PARENT_MISS), and the tests read that code.
server_persistent_connections off
cache_store_log none
coredump_dir {self.dir}
netdb_filename none
shutdown_lifetime 0 seconds
""")
        self.proc = None

    def start(self):
        self.out = open(self.dir / "stdout.log", "w")
        self.proc = subprocess.Popen([SQUID, "-N", "-f", str(self.conf)], stdout=self.out,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"squid exited {self.proc.returncode}:\n{self.logs()}")
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"squid did not start:\n{self.logs()}")

    def get(self, url):
        """GET url through squid as a proxy: (status, body)."""
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"http": f"http://{HOST}:{self.port}"}))
        try:
            with opener.open(url, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def access_log_line(self, url, timeout=10):
        """access.log's line for url, once squid wrote it (after the
        reply; bounded)."""
        path = self.dir / "access.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in (path.read_text() if path.exists() else "").splitlines():
                if f" {url} " in line:
                    return line
            time.sleep(0.1)
        raise AssertionError(f"no line for {url} in access.log:\n{self.logs()}")

    def logs(self):
        parts = []
        for name in ("stdout.log", "cache.log", "access.log"):
            p = self.dir / name
            if p.exists():
                parts.append(f"--- {name}\n{p.read_text()[-3000:]}")
        return "\n".join(parts)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None:
            self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def squid():
    if not os.access(SQUID, os.X_OK):
        pytest.skip(f"{SQUID} is not installed (scripts/install-deps.sh installs it)")
    made = []

    def start(parent_http, icp_port):
        s = Squid(parent_http, icp_port)
        made.append(s)
        return s.start()

    yield start
    for s in made:
        s.stop()


def test_squid_child_queries_node(daemons, squid):
    """A real Squid whose parent is this node's ICP port (and a stand-in
    HTTP parent) queries it before forwarding, takes the MISS as the
    parent's answer (FIRST_PARENT_MISS in its log, not a fallback), and
    fetches through the parent."""
    node = daemons(icp_config())
    parent = CountingParent()
    try:
        child = squid(parent.server_address[1], node.config["icp"]["port"])
        status, body = child.get(URL.decode())
        assert (status, body) == (200, b"from the parent\n"), child.logs()
        assert parent.requests == [URL.decode()]
        line = child.access_log_line(URL.decode())
        assert f" FIRST_PARENT_MISS/{HOST} " in line, (line, child.logs())
    finally:
        parent.stop()
    answers, dropped = icp_metrics(node)
    assert answers["miss"] >= 1 and sum(dropped.values()) == 0, (answers, dropped)


def edge_requests(node, result):
    """peercdn_edge_requests_total of provider abc (www.abc.com's) for result."""
    return node.metrics().get(
        f'peercdn_edge_requests_total{{provider="abc",result="{result}"}}', 0)


# An object of www.abc.com (origin_server.py answers ?cc= with that
# Cache-Control) fresh for long enough that nothing here revalidates it,
# asked for in the two forms a child may send a parent: the CDN URL,
# which only the edge understands (the origin is the first segment of the
# path), and the origin's own URL. One edge object; two URLs to Squid.
SQUID_PATH = "/squid-route"
SQUID_QUERY = "?cc=max-age%3D600"
CDN_URL = f"http://abc.cdn.acme.net/www.abc.com{SQUID_PATH}{SQUID_QUERY}"
ORIGIN_URL = f"http://www.abc.com{SQUID_PATH}{SQUID_QUERY}"


def test_squid_icp_parent(daemons, squid):
    """Issue 10's legacy route: client -> Squid -> (ICP, then HTTP to its
    parent) -> peercdn edge -> origin (origin_server.py), for a CDN URL
    only the edge understands. The first request is an ICP MISS that Squid
    still sends to the parent (FIRST_PARENT_MISS), and the origin sees it
    once; once the edge holds the object, ICP answers HIT for both URL
    forms, and the origin's form (a miss in Squid's own cache) goes to the
    parent as a PARENT_HIT, served by the edge from memory."""
    origin = Origin()
    try:
        node = daemons(icp_config(origin_address=origin.address))
        child = squid(node.config["edge"]["port"], node.config["icp"]["port"])
        expected = body_for("www.abc.com", SQUID_PATH, 1000)

        status, body = child.get(CDN_URL)
        assert (status, body) == (200, expected), child.logs()
        line = child.access_log_line(CDN_URL)
        assert " TCP_MISS/200 " in line and f" FIRST_PARENT_MISS/{HOST} " in line, \
            (line, child.logs())
        assert origin.count(SQUID_PATH) == 1
        assert [r["headers"]["host"] for r in origin.requests(SQUID_PATH)] == ["www.abc.com"]
        assert edge_requests(node, "miss") == 1
        answers, dropped = icp_metrics(node)
        assert (answers["miss"], answers["hit"]) == (1, 0), answers

        # The edge holds it now: a HIT, whichever form the child asks with.
        q = Querier(node.config["icp"]["port"])
        try:
            assert q.query(url=CDN_URL.encode()) == OP["hit"]
            assert q.query(url=ORIGIN_URL.encode()) == OP["hit"]
        finally:
            q.close()

        status, body = child.get(ORIGIN_URL)
        assert (status, body) == (200, expected), child.logs()
        line = child.access_log_line(ORIGIN_URL)
        assert " TCP_MISS/200 " in line and f" PARENT_HIT/{HOST} " in line, \
            (line, child.logs())
        assert origin.count(SQUID_PATH) == 1
        assert edge_requests(node, "hit") == 1
        answers, dropped = icp_metrics(node)
        assert (answers["miss"], answers["hit"]) == (1, 3), answers
        assert sum(dropped.values()) == 0, dropped
    finally:
        origin.stop()
