"""Pre-fill and replicas (issue 10, item 6): one peercdnd runs acme-n1's
HTTP redirector and an edge listening on two servers of one farm, acme-s1
(A) and acme-s2 (B). For an object the rendezvous hash sends to A,
`peercdnctl prefill --edge B` makes B fetch it; the edge reports B as a
holder to the live state, so the redirect for that object now goes to B,
and B answers it as a HIT without asking the origin again. Also: who may
pre-fill (edge.control_allow), and what a pre-fill of a URL the CDN does
not serve says. Every network wait is bounded; no assertion is about
time."""
import re
import sys

import pytest

from conftest import SOURCE, free_port

sys.path.insert(0, str(SOURCE / "tests" / "system"))
from origin_server import body_for  # noqa: E402
from test_edge import ABC, Origin, edge_config, exchange, parse_responses  # noqa: E402
from test_redirect import ANYCAST, redirect_config  # noqa: E402

A, B = "127.1.200.1", "127.1.200.2"  # acme-s1, acme-s2: one farm in AS 100
CLIENT = "127.1.0.10"  # a client in acme's AS 100: both are in its band
FRESH = "?cc=max-age%3D600"  # the origin's answer is fresh for 10 minutes


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.stop()


@pytest.fixture
def node(daemons, tmp_path, origin):
    """The redirectors of redirect_config() and the edge of edge_config()
    on A and B, with the servers' HTTP port the edge's, so a redirect
    leads to the edge."""
    edge_port = free_port(A)
    cfg = redirect_config(server_http_port=edge_port)
    cfg["edge"] = edge_config(tmp_path, "edge", A, origin)["edge"]
    cfg["edge"].update(listen=[A, B], port=edge_port, control_allow=["127.0.0.1"])
    cfg["control"] = {"metrics_port": free_port(), "metrics_listen": "127.0.0.1"}
    return daemons(cfg, node="acme-n1")


def object_for(ctl, node, server, first=0):
    """A path of www.abc.com, /prefill-<first> or after, whose redirect the
    policy, with nothing known of replicas, sends to server (peercdnctl
    explain, on the node's config)."""
    for i in range(first, first + 200):
        path = f"/prefill-{i}"
        out = ctl("explain", "--config", node.config_path, "--client", CLIENT,
                  f"http://abc.cdn.acme.net/{ABC}{path}", check=0).stdout
        if re.search(rf"->\s+\S+ {re.escape(server)} ", out):
            return path
    raise AssertionError(f"no object of 200 hashes to {server}")


def redirect(node, path):
    port = node.config["http"]["port"]
    raw = exchange(ANYCAST, port, f"GET /{ABC}{path} HTTP/1.1\r\nHost: abc.cdn.acme.net\r\n"
                   "Connection: close\r\n\r\n".encode(), source=CLIENT)[0]
    [resp] = parse_responses(raw)
    assert resp.status == 302, resp
    return resp.get("Location")


def get(url):
    host, port, path = re.match(r"http://([\d.]+):(\d+)(/.*)", url).groups()
    raw, reset = exchange(host, int(port), f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                          "Connection: close\r\n\r\n".encode(), source=CLIENT)
    [resp] = parse_responses(raw, reset)
    return resp


def test_prefill_makes_redirects_prefer_the_holder(node, origin, ctl):
    port = node.config["edge"]["port"]
    path = object_for(ctl, node, A)  # the query is no part of the object
    url = f"http://abc.cdn.acme.net/{ABC}{path}{FRESH}"
    done = ctl("prefill", "--edge", f"{B}:{port}", url, check=0)
    assert done.stdout.split() == [f"{B}:{port}", "200", "filled", url], done.stdout
    assert origin.count(path) == 1
    # The redirector prefers B, the holder, over A of the hash.
    location = redirect(node, path + FRESH)
    assert location == f"http://{B}:{port}/{ABC}{path}{FRESH}", location
    resp = get(location)
    assert resp.status == 200 and resp.complete, resp
    assert resp.cache == "HIT", resp
    assert resp.body == body_for(ABC, path, 1000)
    assert origin.count(path) == 1
    # Again: held and fresh, nothing fetched.
    again = ctl("prefill", "--edge", f"{B}:{port}", url, check=0)
    assert again.stdout.split()[1:3] == ["200", "cached"], again.stdout
    assert origin.count(path) == 1
    # Another object, not pre-filled, still goes where the hash says.
    other = object_for(ctl, node, A, first=int(path.rsplit("-", 1)[1]) + 1)
    assert redirect(node, other).startswith(f"http://{A}:{port}/")


def test_prefill_reports_each_url(node, origin, ctl):
    port = node.config["edge"]["port"]
    good = f"http://abc.cdn.acme.net/{ABC}/many-1{FRESH}"
    plain = f"http://{ABC}/many-2{FRESH}"  # the plain form, Host naming the origin
    nostore = f"http://abc.cdn.acme.net/{ABC}/many-3?cc=no-store"
    broken = f"http://abc.cdn.acme.net/{ABC}/many-4?mode=short"
    foreign = "http://abc.cdn.acme.net/www.example.org/x"  # no provider's origin
    out = ctl("prefill", "--edge", f"{A}:{port}", good, plain, nostore, broken, foreign,
              check=1).stdout
    lines = [line.split()[1:] for line in out.splitlines()]
    assert lines == [["200", "filled", good], ["200", "filled", plain],
                     ["200", "uncacheable", nostore], ["502", "failed", broken],
                     ["404", "refused", foreign]], out
    assert origin.count("/many-1") == 1 and origin.count("/many-2") == 1
    assert get(f"http://{A}:{port}/{ABC}/many-2{FRESH}").cache == "HIT"
    # The short answer was never stored: a client's request goes upstream.
    assert origin.count("/many-4") == 1
    exchange(A, port, f"GET /{ABC}/many-4?mode=short HTTP/1.1\r\nHost: {A}\r\n"
             "Connection: close\r\n\r\n".encode(), source=CLIENT)
    assert origin.count("/many-4") == 2


def test_prefill_only_from_control_allow(node, origin):
    port = node.config["edge"]["port"]
    body = f"http://abc.cdn.acme.net/{ABC}/secret{FRESH}\r\n".encode()
    head = (f"POST /.peercdn/prefill HTTP/1.1\r\nHost: {B}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    raw = exchange(B, port, head + body, source=CLIENT)[0]  # not 127.0.0.1
    [resp] = parse_responses(raw)
    assert resp.status == 403, resp
    assert origin.count("/secret") == 0
    get_head = f"GET /.peercdn/prefill HTTP/1.1\r\nHost: {B}\r\nConnection: close\r\n\r\n"
    raw = exchange(B, port, get_head.encode(), source="127.0.0.1")[0]
    assert parse_responses(raw)[0].status == 405
    raw = exchange(B, port, head + body, source="127.0.0.1")[0]
    [resp] = parse_responses(raw)
    assert resp.status == 200 and resp.body.split() == [b"200", b"filled", body.strip()], resp


def test_channel_prefill_only_at_an_injection_point(node, origin, ctl):
    """--channel at an edge that is no injection point of the provider (here:
    no overlay at all) is refused per URL with 409, nothing is fetched, and
    the command fails; an unknown mode of the path is no pre-fill at all.
    The channel itself is tested over an overlay in test_tree.py."""
    port = node.config["edge"]["port"]
    url = f"http://abc.cdn.acme.net/{ABC}/chan-1{FRESH}"
    out = ctl("prefill", "--channel", "--edge", f"{A}:{port}", url, check=1).stdout
    assert out.split() == [f"{A}:{port}", "409", "refused", url], out
    assert origin.count("/chan-1") == 0
    body = f"{url}\r\n".encode()
    head = (f"POST /.peercdn/prefill?mode=other HTTP/1.1\r\nHost: {A}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    [resp] = parse_responses(exchange(A, port, head + body, source="127.0.0.1")[0])
    assert resp.status == 404, resp  # routed as a URL: no provider's origin host
    assert origin.count("/chan-1") == 0
