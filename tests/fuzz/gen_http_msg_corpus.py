#!/usr/bin/python3
"""Writes the seed corpus of fuzz_http_msg: upstream responses (lengths,
chunked with extensions and trailers, close-delimited, 304, HEAD-like),
client requests, the smuggling attempts lib/proto/http_msg.h refuses
(CL with TE, differing lengths, bare LF and CR, folding, space before the
colon, oversized chunk sizes), and truncated messages."""
import pathlib
import sys

R = b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"

SEEDS = {
    "resp_length": R + b"Content-Length: 5\r\nCache-Control: max-age=60, no-cache=\"a, b\"\r\n\r\nhello",
    "resp_chunked": R + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "resp_chunked_ext_trailer": R + b"Transfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
    b"5;name=\"v;x\"\r\nhello\r\n0 ;last\r\nX-Sum: 1\r\nExpires: Sunday, 06-Nov-94 08:49:37 GMT\r\n\r\n",
    "resp_close": b"HTTP/1.0 200 OK\r\nLast-Modified: Sun Nov  6 08:49:37 1994\r\n\r\nuntil close",
    "resp_304": b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 10\r\n\r\n",
    "resp_100_then_200": b"HTTP/1.1 100 Continue\r\n\r\n" + R + b"Content-Length: 0\r\n\r\n",
    "resp_hop": R + b"Connection: X-Secret, keep-alive\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n"
    b"Vary: Accept-Encoding\r\nContent-Length: 0\r\n\r\n",
    "resp_no_reason": b"HTTP/1.1 204\r\n\r\n",
    "req_get": b"GET /www.foo.com/index.html HTTP/1.1\r\nHost: foo.cdn.acme.net\r\n"
    b"If-None-Match: \"a\", W/\"b\"\r\nRange: bytes=0-99\r\n\r\n",
    "req_leading_crlf": b"\r\n\r\nGET http://www.foo.com/ HTTP/1.0\r\n\r\n",
    "req_post_chunked": b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n",
    "req_connect": b"CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n",
    "req_options": b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "smuggle_cl_te": R + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "smuggle_req_te_cl": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    "smuggle_two_cl": R + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nhello",
    "smuggle_te_gzip": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    "smuggle_te_1_0": b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "smuggle_bare_lf": b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
    "smuggle_bare_cr": b"GET / HTTP/1.1\r\nX: a\rContent-Length: 5\r\n\r\n",
    "smuggle_fold": R + b"X: a\r\n Transfer-Encoding: chunked\r\n\r\n",
    "smuggle_space_colon": R + b"Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n",
    "chunk_overflow": R + b"Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\nx\r\n0\r\n\r\n",
    "chunk_bad_crlf": R + b"Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
    "chunk_bare_lf": R + b"Transfer-Encoding: chunked\r\n\r\n2\nab\n0\n\n",
    "trunc_head": R + b"Content-Le",
    "trunc_chunk": R + b"Transfer-Encoding: chunked\r\n\r\n10\r\nonly part",
    "trunc_trailer": R + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 1\r\n",
    "http2_version": b"HTTP/2.0 200 OK\r\n\r\n",
}


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "corpus")
    out = root / "fuzz_http_msg"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
