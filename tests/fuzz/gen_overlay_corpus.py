#!/usr/bin/python3
"""Writes the seed corpus of fuzz_overlay (docs/overlay.md): a valid frame of
every type, control-record payloads of every record type, options (padding,
unknown, critical), and broken frames of every fault the decoder names
(short, magic, version, length, type, name, count, field, option). Frames
carry the MAC of docs/overlay.md, "Authentication" (keyed BLAKE2b-128 at
seq 0, else Poly1305 under a ChaCha20 one-time key) under the docs'
example key 00..1f."""
import hashlib
import pathlib
import struct
import sys

KEY = bytes(range(32))


def mac(key, data):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    from cryptography.hazmat.primitives.poly1305 import Poly1305
    seq = struct.unpack("!Q", data[16:24])[0]
    if seq == 0:
        return hashlib.blake2b(data, digest_size=16, key=key).digest()
    nonce = bytes(8) + struct.pack("!Q", seq)  # block counter 0, then 00 00 00 00 || seq
    one_time = Cipher(algorithms.ChaCha20(key, nonce), mode=None).encryptor().update(bytes(32))
    return Poly1305.generate_tag(one_time, data)


def str8(s):
    return bytes([len(s)]) + s


def frame(ftype, body, sender=1, seq=1, flags=0, length=None, magic=b"PO", version=1,
          reserved=0):
    n = len(body) if length is None else length
    head = magic + struct.pack("!BBHHIIQ", version, ftype, flags, reserved, n, sender, seq)
    return head + body + mac(KEY, head + body)


def hello(cdn=b"acme", nonce=bytes(range(0xa0, 0xb0)), peer=bytes(16), hb=200, dead=1000):
    return str8(cdn) + nonce + peer + struct.pack("!III", 3, hb, dead)


def lsa(origin=1, seq=5, age=0, links=((2, 10), (3, 1)), cdn=b"acme", count=None):
    c = len(links) if count is None else count
    return (struct.pack("!IIHH", origin, seq, age, c) + str8(cdn) +
            b"".join(struct.pack("!II", n, cost) for n, cost in links))


def join(channel=b"abc/live", source=2, last=0, epoch=0):
    return struct.pack("!IQQ", source, epoch, last) + str8(channel)


def data(payload=b"hello", channel=b"acme/load", source=1, block=1, plen=None,
         epoch=1764000000000):
    n = len(payload) if plen is None else plen
    return (struct.pack("!IQQ", source, epoch, block) + str8(channel) + struct.pack("!I", n) +
            payload)


def record(rtype, body, length=None):
    return struct.pack("!BBH", rtype, 0, len(body) if length is None else length) + body


def load(server=b"acme-s1", health=1):
    return record(1, struct.pack("!IIQB", 40, 100, 1700000000123, health) + str8(server))


def policy(total=10, offset=4, chunk=b"abcdef"):
    return record(2, struct.pack("!Q", 3) + bytes(32) + struct.pack("!IIH", total, offset,
                                                                     len(chunk)) + chunk)


def replica(op=0):
    return record(3, struct.pack("!QQB", 0xfeedfacecafebeef, 99, op) + str8(b"beta-s2"))


def prefix(family, length, addr):
    return bytes([family, length]) + addr.ljust(16, b"\0")


def resource(services=(b"web", b"live"), prefixes=None):
    pfx = prefixes if prefixes is not None else [prefix(4, 16, b"\x0a\x01"),
                                                 prefix(6, 32, b"\x20\x01\x0d\xb8")]
    return record(4, struct.pack("!QQ", 5000, 7) + str8(b"isp200") + str8(b"acme") +
                  bytes([len(services)]) + b"".join(str8(s) for s in services) +
                  struct.pack("!H", len(pfx)) + b"".join(pfx))


def drain(server=b"acme-s1", drained=1, version=(1764000000000 << 12) | 7):
    return record(6, struct.pack("!QB", version, drained) + str8(server))


def report(line=b"ts=2026-11-25T10:00:00.123Z provider=abc branch=PEER", agreement=b"acme-beta"):
    return record(5, struct.pack("!IQ", 4, 17) + str8(b"abc") + str8(agreement) +
                  struct.pack("!H", len(line)) + line)


def option(otype, value):
    return struct.pack("!HH", otype, len(value)) + value


def seeds():
    yield "hello", frame(1, hello(), seq=0)
    yield "hello_echo", frame(1, hello(peer=bytes(range(0xb0, 0xc0))), sender=2, seq=0)
    yield "heartbeat", frame(2, struct.pack("!QQ", 12345, 678))
    yield "lsa", frame(3, lsa())
    yield "lsa_empty", frame(3, lsa(links=()))
    yield "lsa_max_age", frame(3, lsa(age=3600))
    yield "lsa_256", frame(3, lsa(links=[(10 + i, 1 + i) for i in range(256)]))
    yield "lsa_ack", frame(4, struct.pack("!H", 2) + struct.pack("!IIII", 1, 5, 2, 7))
    yield "join", frame(5, join())
    yield "join_resume", frame(5, join(last=41, epoch=1764000000000), flags=1)
    yield "join_path", frame(5, join(channel=b"abc/sports/hd%20x"))
    yield "prune", frame(6, join())
    yield "prune_last_seq", frame(6, join(last=22))  # found by libFuzzer: PRUNE keeps its bytes
    yield "data", frame(7, data())
    yield "data_end", frame(7, data(b"", block=9), flags=2)
    yield "goodbye", frame(8, struct.pack("!I", 1000), seq=2)
    yield "goodbye_options", frame(8, struct.pack("!I", 0) + option(0x42, b"later"))
    yield "data_load", frame(7, data(load() + load(b"isp200-s3", 0)))
    yield "data_policy", frame(7, data(policy(), channel=b"acme/policy"))
    yield "data_replica", frame(7, data(replica() + replica(1), channel=b"acme/replica"))
    yield "data_resource", frame(7, data(resource(), channel=b"isp200/resource"))
    yield "data_report", frame(7, data(report() + report(agreement=b""), channel=b"abc/report"))
    yield "data_drain", frame(7, data(drain() + drain(drained=0), channel=b"acme/load/00000007"))
    yield "data_unknown_record", frame(7, data(record(77, b"xyz") + load()))
    yield "data_record_trailing", frame(7, data(record(3, replica()[4:] + b"\xee")))
    yield "records_raw", load() + policy() + replica() + resource() + report()
    yield "options", frame(5, join() + option(0, b"pad") + option(0x42, b"later"))
    yield "option_critical", frame(5, join() + option(0x8001, b"must"))
    yield "option_cut", frame(5, join() + b"\0\x42\0\x09abc")
    yield "two_frames", frame(2, bytes(16)) + frame(2, bytes(16), seq=2)
    yield "unknown_type", frame(99, b"")
    yield "unknown_flags", frame(2, bytes(16), flags=0xfff0, reserved=0xffff)
    yield "empty", b""
    yield "short_header", frame(5, join())[:23]
    yield "truncated", frame(5, join())[:-1]
    yield "bad_magic", frame(5, join(), magic=b"GE")
    yield "http", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "version_2", frame(5, join(), version=2)
    yield "length_more", frame(5, join(), length=len(join()) + 1)
    yield "length_absurd", frame(5, join(), length=0xffffffff)
    yield "body_short", frame(5, join()[:-2])
    yield "goodbye_short", frame(8, b"\0\0")
    yield "sender_zero", frame(5, join(), sender=0)
    yield "bad_channel", frame(5, join(channel=b"abc//live"))
    yield "bad_channel_dots", frame(5, join(channel=b"abc/../x"))
    yield "bad_cdn", frame(1, hello(cdn=b"ac me"), seq=0)
    yield "hello_dead_short", frame(1, hello(dead=100), seq=0)
    yield "lsa_count_over", frame(3, lsa(count=257))
    yield "lsa_count_more", frame(3, lsa(count=3))
    yield "lsa_age_over", frame(3, lsa(age=3601))
    yield "lsa_cost_zero", frame(3, lsa(links=((2, 0),)))
    yield "ack_zero", frame(4, struct.pack("!H", 0))
    yield "data_plen_over", frame(7, data(plen=6))
    yield "data_block_zero", frame(7, data(block=0))
    yield "record_bad_health", frame(7, data(load(health=2)))
    yield "record_bad_prefix", frame(7, data(resource(prefixes=[prefix(4, 8, b"\x0a\x01")])))
    yield "record_services_over", frame(7, data(resource(services=[b"s"] * 33)))
    yield "record_policy_past", frame(7, data(policy(total=5, offset=3, chunk=b"abc")))
    yield "record_line_nl", frame(7, data(report(line=b"a\nb")))
    yield "record_drain_bad", frame(7, data(drain(drained=2) + drain(version=0)))
    yield "record_length_over", frame(7, data(record(1, b"\0" * 4, length=40)))


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                       pathlib.Path(__file__).parent / "corpus" / "fuzz_overlay")
    out.mkdir(parents=True, exist_ok=True)
    for name, blob in seeds():
        (out / name).write_bytes(blob)


if __name__ == "__main__":
    main()
