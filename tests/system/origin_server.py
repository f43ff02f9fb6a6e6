#!/usr/bin/python3
"""The origin web server of the edge's system tests: it counts the requests
for each path and answers with a behaviour chosen by the query string, so
a test can script what the edge meets upstream. Prints
"ready http://ADDR:PORT" once it listens (--port 0: any free port) and
stops on SIGTERM or SIGINT.

    origin_server.py --address 127.0.0.1 --port 0 [--cache-control VALUE]

--cache-control gives every object without cc= that Cache-Control (the
demo's origin: "max-age=600", so that edges keep what they fetch).

Control paths (not counted):
    GET /__counts     {"/path": requests, ...} as JSON (the query is not
                      part of the key: one object, however it is asked for)
    GET /__requests   [{"method", "target", "headers": {lower name: value}}]
    GET /__reset      forgets the counts and the requests

Every other path is an object whose body is body_for(host, path, size,
variant): deterministic, different for every Host, path and variant, so a
test can tell a wrong object from a right one. Query parameters (all
optional):
    size=N          body bytes (default 1000)
    cc=VALUE        Cache-Control (URL-encoded); default: --cache-control
    expires=S       Expires S seconds from now (negative: in the past)
    etag=TAG        ETag "TAG"; If-None-Match with it gets 304
    lm=S            Last-Modified S seconds ago; If-Modified-Since gets 304
    vary=NAME       Vary: NAME, and the body's variant is that request
                    header's value (variants of one path never mix)
    status=N        the status code (default 200)
    delay=MS        waits before answering (at most MAX_DELAY_S)
    fail_after=N    requests after the Nth for this path get 500
    hdr=NAME:VALUE  one more response field (repeatable)
    chunked=1       the body in chunks, no Content-Length
    mode=M          a broken answer, then the connection closes:
        short       Content-Length: size, half the body, then close
        badchunk    chunked, one good chunk, then a chunk size of "zz"
        chunkcut    chunked, closes in the middle of a chunk
        reset       half the body, then an RST (SO_LINGER 0)
        slow        head, then the body in 10 pieces every delay ms
        clte        Content-Length and Transfer-Encoding: chunked both
        twocl       two different Content-Length fields
        badstatus   a status line that is not HTTP
Each response carries X-Origin-Count: how many requests this path had
when it was answered (a response from a cache shows an older number).
"""
import argparse
import email.utils
import json
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_DELAY_S = 30  # a test never waits on the origin longer than this


def body_for(host, path, size, variant=""):
    """The body of path (without its query) at size bytes, asked for with
    Host: host, for variant."""
    unit = f"{host}{path}|{variant}|".encode()
    reps = size // len(unit) + 1
    return (unit * reps)[:size]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.requests = []

    def count(self, method, target, path, headers):
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1
            self.requests.append({"method": method, "target": target,
                                  "headers": {k.lower(): v for k, v in headers.items()}})
            return self.counts[path]

    def reset(self):
        with self.lock:
            self.counts.clear()
            self.requests.clear()

    def snapshot(self):
        with self.lock:
            return dict(self.counts), list(self.requests)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the edge pools its upstream connections
    state = None  # set by main()
    cache_control = None  # --cache-control

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.answer(head=True)

    def do_GET(self):
        self.answer(head=False)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.answer(head=False)

    # BREW: a method no proxy knows, which a proxy must still pass on.
    do_PUT = do_DELETE = do_PATCH = do_BREW = do_POST

    # --- the answer -----------------------------------------------------

    def answer(self, head):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path in ("/__counts", "/__requests", "/__reset"):
            return self.control(path)
        multi = urllib.parse.parse_qs(url.query)
        q = {k: v[-1] for k, v in multi.items()}
        n = self.state.count(self.command, self.path, path, self.headers)

        delay = min(int(q.get("delay", 0)) / 1000, MAX_DELAY_S)
        mode = q.get("mode", "")
        if delay and mode != "slow":
            time.sleep(delay)

        size = int(q.get("size", 1000))
        status = int(q.get("status", 200))
        if "fail_after" in q and n > int(q["fail_after"]):
            status = 500
        variant = ""
        fields = []
        if "vary" in q:
            fields.append(("Vary", q["vary"]))
            variant = self.headers.get(q["vary"], "")
        if "cc" in q:
            fields.append(("Cache-Control", q["cc"]))
        elif self.cache_control:
            fields.append(("Cache-Control", self.cache_control))
        if "expires" in q:
            fields.append(("Expires", email.utils.formatdate(time.time() + int(q["expires"]),
                                                             usegmt=True)))
        etag = f'"{q["etag"]}"' if "etag" in q else None
        if etag:
            fields.append(("ETag", etag))
        modified = time.time() - int(q["lm"]) if "lm" in q else None
        if modified is not None:
            fields.append(("Last-Modified", email.utils.formatdate(modified, usegmt=True)))
        for extra in multi.get("hdr", []):
            name, value = extra.split(":", 1)
            fields.append((name.strip(), value.strip()))
        fields.append(("X-Origin-Count", str(n)))

        if status == 200 and self.not_modified(etag, modified):
            return self.send_head(304, fields, None)
        if status >= 500:
            body = f"origin error {status}\n".encode()
        else:
            body = body_for(self.headers.get("Host", ""), path, size, variant)
        if head:
            return self.send_head(status, fields, len(body))
        if mode:
            return self.broken(mode, status, fields, body, delay)
        if q.get("chunked") == "1":
            self.send_head(status, fields + [("Transfer-Encoding", "chunked")], None)
            for i in range(0, len(body), 4096):
                piece = body[i:i + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_head(status, fields, len(body))
        self.wfile.write(body)

    def not_modified(self, etag, modified):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return etag is not None and (etag in tags or "*" in tags or
                                         f"W/{etag}" in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims is not None and modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return int(modified) <= since
        return False

    def send_head(self, status, fields, length, close=False):
        """Writes the status line and fields; length None: no
        Content-Length (a 304, or a body framed otherwise)."""
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('X',))[0]}",
                 f"Date: {email.utils.formatdate(usegmt=True)}",
                 "Server: peercdn-test-origin",
                 "Content-Type: application/octet-stream"]
        lines += [f"{k}: {v}" for k, v in fields]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        if close:
            lines.append("Connection: close")
            self.close_connection = True
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.wfile.flush()

    def broken(self, mode, status, fields, body, delay):
        half = body[:len(body) // 2]
        self.close_connection = True
        if mode == "short":
            self.send_head(status, fields, len(body), close=True)
            self.wfile.write(half)
        elif mode == "badchunk":
            self.send_head(status, fields + [("Transfer-Encoding", "chunked")], None, close=True)
            self.wfile.write(b"%x\r\n%s\r\nzz\r\n%s\r\n0\r\n\r\n" % (len(half), half, half))
        elif mode == "chunkcut":
            self.send_head(status, fields + [("Transfer-Encoding", "chunked")], None, close=True)
            self.wfile.write(b"%x\r\n%s" % (len(body), half))
        elif mode == "reset":
            self.send_head(status, fields, len(body))
            self.wfile.write(half)
            self.wfile.flush()
            time.sleep(0.1)  # the head and half the body reach the edge first
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            # The file over the socket holds a reference: the socket is
            # closed (and the RST sent) only once both are.
            self.rfile.close()
            self.connection.close()
            return
        elif mode == "slow":
            self.send_head(status, fields, len(body))
            step = max(1, len(body) // 10)
            for i in range(0, len(body), step):
                time.sleep(min(delay, MAX_DELAY_S / 10))
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
        elif mode == "clte":
            self.send_head(status, fields + [("Transfer-Encoding", "chunked")], len(body),
                           close=True)
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        elif mode == "twocl":
            self.send_head(status, fields + [("Content-Length", str(len(body) + 5))],
                           len(body), close=True)
            self.wfile.write(body)
        elif mode == "badstatus":
            self.wfile.write(b"HTTX/9 2xx whatever\r\nContent-Length: 3\r\n\r\nabc")
        else:
            self.send_head(400, [], 0, close=True)
        self.wfile.flush()

    def control(self, path):
        if path == "/__reset":
            self.state.reset()
            out = b"{}"
        else:
            counts, requests = self.state.snapshot()
            out = json.dumps(counts if path == "/__counts" else requests).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a flash crowd's misses must not be refused


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cache-control", default=None,
                        help="Cache-Control of objects whose query sets no cc=")
    args = parser.parse_args()

    Handler.state = State()
    Handler.cache_control = args.cache_control
    server = Server((args.address, args.port), Handler)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"ready http://{args.address}:{server.server_address[1]}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
