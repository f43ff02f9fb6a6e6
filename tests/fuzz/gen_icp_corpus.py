#!/usr/bin/python3
"""Writes the seed corpus of fuzz_icp (RFC 2186, docs/icp.md): queries as
Squid and Harvest send them, the replies a responder may get, and malformed
datagrams of every fault the parser names (short, version, length,
payload), up to the largest message ICP allows."""
import pathlib
import struct
import sys

URL = b"http://foo.cdn.beta.net/www.foo.com/index.html"
OP = {"query": 1, "hit": 2, "miss": 3, "err": 4, "secho": 10, "decho": 11,
      "miss_nofetch": 21, "denied": 22, "hit_obj": 23}


def message(opcode, url=URL, version=2, reqnum=1, flags=0, pad=0, length=None,
            requester=bytes([198, 51, 100, 9]), tail=b"\0"):
    payload = (requester if opcode == OP["query"] else b"") + url + tail
    total = 20 + len(payload) if length is None else length
    return struct.pack("!BBHIII4s", opcode, version, total & 0xffff, reqnum, flags, pad,
                       bytes([192, 0, 2, 7])) + payload


def seeds():
    yield "query_v2", message(OP["query"])
    yield "query_v3", message(OP["query"], version=3)
    yield "query_flags", message(OP["query"], flags=0xc0000000, reqnum=0xffffffff)
    yield "query_no_provider", message(OP["query"], url=b"http://www.example.org/")
    yield "query_space", message(OP["query"], url=b"http://a/b c")
    for name in ("hit", "miss", "err", "secho", "decho", "miss_nofetch", "denied"):
        yield f"reply_{name}", message(OP[name])
    yield "reply_hit_obj", message(OP["hit_obj"], tail=b"\0\0\4data")
    yield "opcode_invalid", message(0)
    yield "opcode_unknown", message(99)
    yield "empty", b""
    yield "short_header", message(OP["query"])[:19]
    yield "header_only", message(OP["query"])[:20]
    yield "version_1", message(OP["query"], version=1)
    yield "version_4", message(OP["query"], version=4)
    yield "length_more", message(OP["query"], length=20 + 4 + len(URL) + 2)
    yield "length_less", message(OP["query"], length=20 + 4 + len(URL))
    yield "length_zero", message(OP["query"], length=0)
    yield "truncated", message(OP["query"])[:-5]
    yield "no_nul", message(OP["query"], tail=b"")
    yield "nul_inside", message(OP["query"], url=URL[:10] + b"\0" + URL[11:])
    yield "padded", message(OP["query"], tail=b"\0\0\0")
    yield "empty_url", message(OP["query"], url=b"")
    yield "query_no_requester", message(OP["query"], url=b"", requester=b"", tail=b"\0")
    big = b"http://a/" + b"x" * (16384 - 20 - 4 - 9 - 1)
    yield "huge_max", message(OP["query"], url=big)
    yield "huge_over", message(OP["query"], url=big + b"x")


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                       pathlib.Path(__file__).parent / "corpus" / "fuzz_icp")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
