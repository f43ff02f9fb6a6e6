#!/usr/bin/python3
"""Writes the seed corpora of fuzz_http, fuzz_rtsp and fuzz_proxy: requests
a redirector answers, the malformed ones of docs/redirect.md (smuggling
attempts, bare LF, folding, NUL, oversized parts), and PROXY v2 headers.
fuzz_http and fuzz_rtsp files start with the harness's mode byte
(tests/fuzz/stream_harness.h): bits 3-5 split the input into two reads,
bits 0-2 pick the client's network, bit 6 no capturing node, bit 7 a 307."""
import pathlib
import socket
import struct
import sys

H = b"Host: abc.cdn.acme.net\r\n"


def get(path=b"/www.abc.com/x?y=1", extra=b"", version=b"HTTP/1.1", host=H):
    return b"GET " + path + b" " + version + b"\r\n" + host + extra + b"\r\n"


HTTP = {
    "get": get(),
    "get_close": get(extra=b"Connection: close\r\n"),
    "head": b"HEAD /www.abc.com/x HTTP/1.1\r\n" + H + b"\r\n",
    "pipelined": get() + get(b"/www.abc.com/y") + get(b"/www.abc.com/z", b"Connection: close\r\n"),
    "http10": get(version=b"HTTP/1.0"),
    "http10_keepalive": get(version=b"HTTP/1.0", extra=b"Connection: keep-alive\r\n") + get(),
    "absolute": b"GET http://abc.cdn.acme.net/www.abc.com/abs HTTP/1.1\r\nHost: x\r\n\r\n",
    "absolute_https": b"GET https://abc.cdn.acme.net/www.abc.com/s HTTP/1.1\r\nHost: x\r\n\r\n",
    "options_star": b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n",
    "post_length": b"POST /www.abc.com/f HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello" + get(),
    "post_chunked": b"POST /www.abc.com/f HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + get(),
    "chunked_ext_trailer": b"POST /www.abc.com/f HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    "bad_chunk": b"POST /www.abc.com/f HTTP/1.1\r\n" + H +
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "cl_and_te": b"POST /www.abc.com/f HTTP/1.1\r\n" + H +
    b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get(),
    "two_cl": b"POST /www.abc.com/f HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
    "te_gzip": b"POST /www.abc.com/f HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n",
    "te_chunked_gzip": b"POST /www.abc.com/f HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, gzip\r\n\r\n",
    "bare_lf": b"GET /www.abc.com/x HTTP/1.1\nHost: abc.cdn.acme.net\n\n",
    "bare_cr": b"GET /www.abc.com/x HTTP/1.1\rHost: abc.cdn.acme.net\r\n\r\n",
    "obs_fold": get(extra=b"X-A: 1\r\n folded\r\n"),
    "nul_target": get(b"/www.abc.com/x\x00"),
    "nul_header": get(extra=b"X-A: a\x00b\r\n"),
    "no_host": b"GET /www.abc.com/x HTTP/1.1\r\n\r\n",
    "two_hosts": get(extra=b"Host: evil.example\r\n"),
    "long_target": get(b"/" + b"a" * 600),
    "long_header": get(extra=b"X-Big: " + b"b" * 3000 + b"\r\n"),
    "many_headers": get(extra=b"".join(b"X-%d: 1\r\n" % i for i in range(120))),
    "http2": get(version=b"HTTP/2.0"),
    "http09": b"GET /www.abc.com/x\r\n\r\n",
    "unknown_method": b"BREW /www.abc.com/x HTTP/1.1\r\n" + H + b"\r\n",
    "trace": b"TRACE /www.abc.com/x HTTP/1.1\r\n" + H + b"\r\n",
    "connect": b"CONNECT abc.cdn.acme.net:443 HTTP/1.1\r\n" + H + b"\r\n",
    "upgrade": get(extra=b"Connection: Upgrade\r\nUpgrade: h2c\r\n"),
    "expect_continue": b"POST /www.abc.com/f HTTP/1.1\r\n" + H +
    b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    "expect_other": get(extra=b"Expect: something\r\n"),
    "body_too_large": b"POST /www.abc.com/f HTTP/1.1\r\n" + H + b"Content-Length: 999999\r\n\r\n",
    "foreign_host": get(b"/www.foo.com/x", host=b"Host: foo.cdn.beta.net\r\n"),
    "no_customer": get(b"/x.com/x", host=b"Host: nobody.cdn.acme.net\r\n"),
    "signed_required": get(b"/cdn.news.example/c", host=b"Host: news.cdn.gamma.net\r\n"),
    "host_port": get(host=b"Host: abc.cdn.acme.net:8000\r\n"),
    "leading_crlf": b"\r\n\r\n" + get(),
    "tls_hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "truncated": b"GET /www.abc.com/x HTTP/1.1\r\nHo",
}


def rtsp(method, cseq=b"1", uri=b"rtsp://abc.cdn.acme.net/www.abc.com/live", extra=b"",
         version=b"RTSP/1.0"):
    line = method + b" " + uri + b" " + version + b"\r\n"
    return line + (b"CSeq: " + cseq + b"\r\n" if cseq is not None else b"") + extra + b"\r\n"


RTSP = {
    "options": rtsp(b"OPTIONS"),
    "describe": rtsp(b"DESCRIBE", extra=b"Accept: application/sdp\r\n"),
    "setup": rtsp(b"SETUP", b"3", extra=b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"),
    "play": rtsp(b"PLAY", b"4", extra=b"Session: 1234\r\nRange: npt=0.000-\r\n"),
    "sequence": rtsp(b"OPTIONS") + rtsp(b"DESCRIBE", b"2") + rtsp(b"SETUP", b"3") + rtsp(b"PLAY", b"4"),
    "pause": rtsp(b"PAUSE"),
    "teardown": rtsp(b"TEARDOWN"),
    "unknown": rtsp(b"BREW"),
    "lowercase_method": rtsp(b"describe"),
    "no_cseq": rtsp(b"DESCRIBE", None),
    "bad_cseq": rtsp(b"DESCRIBE", b"x1"),
    "two_cseq": rtsp(b"DESCRIBE", extra=b"CSeq: 2\r\n"),
    "rtsp2": rtsp(b"DESCRIBE", version=b"RTSP/2.0"),
    "http_version": rtsp(b"DESCRIBE", version=b"HTTP/1.1"),
    "announce_body": rtsp(b"ANNOUNCE", extra=b"Content-Length: 10\r\n") + b"v=0\r\ns=x\r\n" + rtsp(b"DESCRIBE", b"2"),
    "chunked": rtsp(b"ANNOUNCE", extra=b"Transfer-Encoding: chunked\r\n"),
    "big_body": rtsp(b"ANNOUNCE", extra=b"Content-Length: 99999999\r\n"),
    "bare_lf": b"DESCRIBE rtsp://abc.cdn.acme.net/www.abc.com/live RTSP/1.0\nCSeq: 1\n\n",
    "fold": rtsp(b"DESCRIBE", extra=b"X: 1\r\n y\r\n"),
    "nul": rtsp(b"DESCRIBE", extra=b"X: a\x00\r\n"),
    "relative_uri": rtsp(b"DESCRIBE", uri=b"/www.abc.com/live"),
    "ip_uri": rtsp(b"DESCRIBE", uri=b"rtsp://127.10.0.1:8554/www.abc.com/live"),
    "long_uri": rtsp(b"DESCRIBE", uri=b"rtsp://abc.cdn.acme.net/" + b"a" * 600),
    "long_head": rtsp(b"DESCRIBE", extra=b"X: " + b"x" * 3000 + b"\r\n"),
    "interleaved": b"$\x00\x00\x04abcd",
    "tv_service": rtsp(b"DESCRIBE", uri=b"rtsp://tv.abc.cdn.acme.net/www.abc.com/news"),
    "truncated": b"DESCRIBE rtsp://abc.cdn.acme.net/www.abc.com/live RTSP/1.0\r\nCSe",
}

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy(command=1, family=1, transport=1, body=None):
    if body is None:
        if family == 1:
            body = socket.inet_aton("127.1.0.10") + socket.inet_aton("127.10.0.1") + struct.pack("!HH", 40000, 80)
        elif family == 2:
            body = socket.inet_pton(socket.AF_INET6, "2001:db8:100::10") + \
                socket.inet_pton(socket.AF_INET6, "2001:db8::1") + struct.pack("!HH", 40000, 80)
        else:
            body = b""
    return SIG + bytes([0x20 | command, family << 4 | transport]) + struct.pack("!H", len(body)) + body


PROXY = {
    "tcp4": proxy() + b"GET / HTTP/1.1\r\n\r\n",
    "tcp6": proxy(family=2),
    "udp4": proxy(transport=2),
    "local": proxy(command=0, family=0, transport=0),
    "unspec": proxy(family=0, transport=0),
    "unix": proxy(family=3, transport=1, body=bytes(216)),
    "tlvs": proxy(body=socket.inet_aton("127.1.0.10") * 2 + struct.pack("!HH", 1, 2) + b"\x04\x00\x01x"),
    "short_body": proxy(body=b"\x7f\x00"),
    "truncated": proxy()[:20],
    "signature_only": SIG,
    "version1": SIG + b"\x11\x11\x00\x0c" + bytes(12),
    "bad_command": SIG + b"\x2f\x11\x00\x0c" + bytes(12),
    "too_long": SIG + b"\x21\x11\x03\x00" + bytes(768),
    "v1_text": b"PROXY TCP4 127.1.0.10 127.10.0.1 40000 80\r\n",
    "empty": b"",
}


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "corpus")
    for target, seeds, modes in (("fuzz_http", HTTP, (0x00, 0x18, 0x39, 0x80)),
                                 ("fuzz_rtsp", RTSP, (0x00, 0x20, 0x41)),
                                 ("fuzz_proxy", PROXY, (None,))):
        out = root / target
        out.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            for i, mode in enumerate(modes):
                if mode is None:
                    (out / name).write_bytes(data)
                elif i == 0 or name in ("get", "pipelined", "post_chunked", "sequence",
                                         "announce_body", "cl_and_te", "describe"):
                    (out / (name if i == 0 else f"{name}_{mode:02x}")).write_bytes(bytes([mode]) + data)


if __name__ == "__main__":
    main()
