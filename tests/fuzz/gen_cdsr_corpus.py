#!/usr/bin/python3
"""Writes the seed corpus of fuzz_cdsr (docs/cdsr.md): well-formed requests
of every kind the CDSR answer handles, malformed ones, and responses. Each
file starts with the target's mode byte: bit 0 set = a response for the
client-side parser; else a request, bit 1 = IPv6 client, bit 2 = no capturing
node (all CDNs), bits 3+ pick the client's 127.N.0.10 network."""
import pathlib
import struct
import sys

MAGIC = b"CDSR"
NONCE = bytes.fromhex("0123456789abcdef")


def opt(kind, value):
    return struct.pack("!HH", kind, len(value)) + value


def request(url, opts=b"", flags=0, version=1, pad_to=0):
    url = url.encode() if isinstance(url, str) else url
    wire = MAGIC + bytes([version, flags]) + NONCE + struct.pack("!H", len(url)) + url
    wire += struct.pack("!H", len(opts)) + opts
    return wire + bytes(max(0, pad_to - len(wire)))


def response(status=0, body=b"", flags=0x80, version=1):
    return MAGIC + bytes([version, flags]) + NONCE + bytes([status, 1]) + body


def ok_body(family=4, address=bytes([127, 1, 200, 1]), opts=b"", reuse=1, scheme=1):
    return (struct.pack("!IIBBBBH", 30, 0x40, 1, reuse, scheme, family, 8080) + address +
            struct.pack("!H", len(opts)) + opts)


def client(n, ipv6=False, all_cdns=False):
    return bytes([(n - 1) << 3 | (2 if ipv6 else 0) | (4 if all_cdns else 0)])


ABC = "http://abc.cdn.acme.net/www.abc.com/x"
FOO = "http://foo.cdn.beta.net/www.foo.com/index.html"
NEWS = "http://news.cdn.gamma.net/cdn.news.example/ch1"

SEEDS = {
    "req_primary": client(1) + request(ABC, pad_to=512),
    "req_peer": client(2) + request(ABC, pad_to=512),
    "req_outside": client(6, all_cdns=True) + request(FOO, pad_to=512),
    "req_hints": client(2) + request(ABC, flags=1, pad_to=512),
    "req_hints_unpadded": client(1) + request(ABC, flags=1),
    "req_rtsp": client(1) + request("rtsp://abc.cdn.acme.net/www.abc.com/live", pad_to=128),
    "req_https_port": client(1) + request("https://abc.cdn.acme.net:8443/cdn.abc.com/a?b=c"),
    "req_ipv6_client": client(1, ipv6=True) + request(ABC, opts=opt(4, b"\x06"), pad_to=128),
    "req_prefer_avoid": client(5) + request(ABC, opts=opt(1, b"beta") + opt(2, b"acme-s1") +
                                       opt(3, bytes([127, 4, 200, 1])) + opt(4, b"\x04"),
                                       pad_to=256),
    "req_unknown_option": client(1) + request(ABC, opts=opt(0x7777, b"xyz") + opt(1, b"acme")),
    "req_unsigned_news": client(6, all_cdns=True) + request(NEWS, pad_to=128),
    "req_not_authoritative": client(6) + request(FOO, pad_to=128),
    "req_no_origin": client(1) + request("http://abc.cdn.acme.net/www.evil.com/x"),
    "req_bad_url": client(1) + request("http://abc.cdn.acme.net/www.abc.com/%00"),
    "req_version_2": client(1) + request(ABC, version=2),
    "req_version_short": client(1) + MAGIC + bytes([9, 0]) + NONCE[:8] + b"\0",
    "req_truncated_url": client(1) + request(ABC)[:30],
    "req_opts_overrun": client(1) + request(ABC, opts=opt(2, b"acme-s1"))[:-3],
    "req_duplicate_family": client(1) + request(ABC, opts=opt(4, b"\x04") + opt(4, b"\x06")),
    "req_too_many_avoid": client(1) + request(ABC, opts=opt(3, bytes(4)) * 9),
    "req_response_flag": client(1) + request(ABC, flags=0x80),
    "req_bad_magic": client(1) + b"CDSX" + request(ABC)[4:],
    "req_empty": b"\0",
    "resp_ok_hints": b"\1" + response(body=ok_body(opts=opt(2, b"cdn.acme.net") +
                                                   opt(3, b"http://abc.cdn.acme.net/www.abc.com/"))),
    "resp_ok_ipv6_prefix": b"\1" + response(body=ok_body(6, bytes(15) + b"\1", reuse=2,
                                                         opts=opt(1, b"http://abc.cdn.acme.net/"))),
    "resp_version_error": b"\1" + response(status=2, version=3),
    "resp_too_small": b"\1" + response(status=7),
    "resp_trailing": b"\1" + response(body=ok_body()) + b"\0",
}


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                       pathlib.Path(__file__).parent / "corpus" / "fuzz_cdsr")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
