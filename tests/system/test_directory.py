"""The directory role (docs/directory.md) against a running daemon: a
config with entries of each kind, answers read by a real HTTP client
(http.client), the API's errors, and reloads — a changed entry changes the
answer, a bad file keeps the old one. Every network wait is bounded."""
import http.client
import json
import re
import signal
import socket
import time

import pytest

from conftest import default_config, free_port

HOST = "127.0.0.1"
TIMEOUT = 5
ENTRIES = [
    {"name": "cdn.foo.com/index.html", "origin": "http://www.foo.com/index.html"},
    {"name": "cdn.foo.com/Channel12", "channel": "foo/ch12", "ttl": 30},
    {"name": "cdn.abc.com/live", "cascade": "rtsp://www.abc.com/feed", "ttl": 5},
    {"name": "cdn.foo.com/videos/", "origin": "http://www.foo.com/v/", "ttl": 300},
]


def directory_config(entries=ENTRIES):
    cfg = default_config()
    cfg["dns"].update(listen=[HOST], port=free_port(), workers=1)
    cfg["control"] = {"metrics_port": free_port(), "metrics_listen": HOST}
    cfg["directory"] = {"enabled": True, "listen": [HOST], "port": free_port(),
                        "header_timeout_ms": 1000, "entries": entries}
    return cfg


@pytest.fixture
def node(daemons):
    return daemons(directory_config())


def get(d, path, method="GET"):
    conn = http.client.HTTPConnection(HOST, d.config["directory"]["port"], timeout=TIMEOUT)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def exchange(d, data):
    """Raw bytes on a new connection; everything read until the server
    closes (bounded)."""
    with socket.create_connection((HOST, d.config["directory"]["port"]),
                                  timeout=TIMEOUT) as sock:
        sock.sendall(data)
        chunks, deadline = [], time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def statuses(raw):
    """The status of each response in raw (a JSON body ends in a newline,
    so a status line may follow one directly)."""
    return [int(s) for s in re.findall(rb"(?:^|\n)HTTP/1\.1 (\d{3}) ", raw)]


def test_answers_of_each_kind(node):
    status, headers, body = get(node, "/v1/names/cdn.foo.com/index.html")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "max-age=60"
    assert "Date" in headers
    assert json.loads(body) == {"name": "cdn.foo.com/index.html", "mode": "origin",
                                "url": "http://www.foo.com/index.html", "ttl": 60}
    status, headers, body = get(node, "/v1/names/cdn.foo.com/Channel12")
    assert (status, headers["Cache-Control"]) == (200, "max-age=30")
    assert json.loads(body) == {"name": "cdn.foo.com/Channel12", "mode": "channel",
                                "channel": "foo/ch12", "ttl": 30}
    status, _, body = get(node, "/v1/names/CDN.ABC.COM/live")
    assert status == 200
    assert json.loads(body) == {"name": "CDN.ABC.COM/live", "mode": "cascade",
                                "feed": "rtsp://www.abc.com/feed", "ttl": 5}
    status, headers, body = get(node, "/v1/names/cdn.foo.com/videos/2024/a.mp4")
    assert (status, headers["Cache-Control"]) == (200, "max-age=300")
    assert json.loads(body)["url"] == "http://www.foo.com/v/2024/a.mp4"


def test_head_has_the_get_head_and_no_body(node):
    status, headers, body = get(node, "/v1/names/cdn.foo.com/Channel12", method="HEAD")
    _, get_headers, get_body = get(node, "/v1/names/cdn.foo.com/Channel12")
    assert status == 200 and body == b""
    assert headers["Content-Length"] == str(len(get_body))


def test_errors(node):
    status, headers, body = get(node, "/v1/names/cdn.foo.com/nothing")
    assert status == 404 and json.loads(body)["error"] == "no such name"
    assert headers["Cache-Control"] == "max-age=10"
    assert get(node, "/v1/names/cdn.foo.com/videos")[0] == 404  # a prefix is not a name
    assert get(node, "/elsewhere")[0] == 404
    status, headers, _ = get(node, "/v1/names/cdn.foo.com/Channel12", method="DELETE")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert get(node, "/v1/names/cdn.foo.com/../etc")[0] == 400
    assert get(node, "/v1/names/cdn.foo.com/Channel12?x=1")[0] == 400


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /v1/names/cdn.foo.com/Channel12 HTTP/1.1\r\n\r\n", 400),  # no Host
    (b"GET /v1/names/cdn.foo.com/Channel12 HTTP/1.1\nHost: x\n\n", 400),  # bare LF
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /v1/names/cdn.foo.com/Channel12 HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"GET /v1/names/cdn.foo.com/Channel12 HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 5\r\n\r\nhello", 413),
    (b"GET /v1/names/cdn.foo.com/Channel12 HTTP/1.1\r\nHost: x\r\n"
     b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"b" * 17000 + b"\r\n\r\n", 431),
])
def test_malformed_requests_get_their_status_and_a_close(node, request_bytes, status):
    raw = exchange(node, request_bytes)
    assert statuses(raw) == [status], raw[:200]
    assert b"Connection: close\r\n" in raw
    assert get(node, "/v1/names/cdn.foo.com/Channel12")[0] == 200  # still answering


def test_keepalive_and_pipelining(node):
    one = b"GET /v1/names/cdn.foo.com/Channel12 HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"HEAD /v1/names/cdn.foo.com/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    raw = exchange(node, one * 3 + last)
    assert statuses(raw) == [200, 200, 200, 404]


def test_metrics_count_by_status(node):
    get(node, "/v1/names/cdn.foo.com/Channel12")
    get(node, "/v1/names/cdn.foo.com/nope")
    get(node, "/v1/names/cdn.foo.com/nope")
    metrics = node.metrics()
    assert metrics['peercdn_directory_requests_total{status="200"}'] == 1
    assert metrics['peercdn_directory_requests_total{status="404"}'] == 2


def test_reload_changes_the_answer_and_a_bad_reload_keeps_it(node):
    path = "/v1/names/cdn.foo.com/Channel12"
    assert json.loads(get(node, path)[2])["channel"] == "foo/ch12"
    node.config["directory"]["entries"] = [
        {"name": "cdn.foo.com/Channel12", "channel": "foo/ch13", "ttl": 45}]
    node.write_config()
    node.signal(signal.SIGHUP)
    node.wait_log("msg=reloaded")
    status, headers, body = get(node, path)
    assert status == 200 and headers["Cache-Control"] == "max-age=45"
    assert json.loads(body)["channel"] == "foo/ch13"
    assert get(node, "/v1/names/cdn.foo.com/index.html")[0] == 404  # removed

    # A name under no provider's directory host: the file is refused, at
    # its line, and the answers stay.
    node.config["directory"]["entries"] = [
        {"name": "cdn.bar.com/Channel12", "channel": "foo/ch14"}]
    node.write_config()
    node.signal(signal.SIGHUP)
    node.wait_log("msg=reload-rejected")
    assert "no provider's directory host" in node.log()
    assert json.loads(get(node, path)[2])["channel"] == "foo/ch13"
