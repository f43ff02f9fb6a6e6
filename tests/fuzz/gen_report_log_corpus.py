#!/usr/bin/python3
"""Writes the seed corpus of fuzz_report_log (the report store's segments,
docs/reports.md): whole segments of one and of several records, a torn
tail at several cuts, a flipped checksum, a wrong length, garbage between
frames, and a false magic inside a record's text."""
import pathlib
import struct
import sys


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def frame(serial, origin, line):
    body = struct.pack("<QB", serial, len(origin)) + origin + line
    length = struct.pack("<I", len(body))
    return b"PCR1" + length + struct.pack("<I", crc32c(length + body)) + body


LINE = (b"ts=2026-11-25T10:00:00.123Z provider=abc client=127.2.0.0/24 as=200 "
        b"object=ad102 service=web branch=PEER cdn=beta server=beta-s1 "
        b"agreement=acme-beta reason=PEER flags=-")
A = frame(1, b"acme-n1", LINE)
B = frame(2, b"acme-n1", LINE.replace(b"PEER", b"OUTSIDE"))


def seeds():
    yield "one", A
    yield "two", A + B
    yield "foreign_origin", A + frame(1 << 40, b"beta-n1", LINE)
    for cut in (1, 4, 11, 12, 30, len(B) - 1):
        yield f"torn_{cut}", A + B[:cut]
    bad = bytearray(B)
    bad[9] ^= 1
    yield "bad_crc", A + bytes(bad) + A
    wrong = bytearray(B)
    wrong[4] += 1
    yield "bad_length", bytes(wrong) + A
    yield "garbage_between", A + b"\0" * 64 + B
    yield "false_magic", frame(3, b"n", b"object=PCR1PCR1 x=y") + b"PCR1" + A
    yield "empty", b""


def main(out_dir):
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         pathlib.Path(__file__).parent / "corpus" / "fuzz_report_log")
