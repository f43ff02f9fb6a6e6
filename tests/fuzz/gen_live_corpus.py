#!/usr/bin/python3
"""Writes the seed corpora of fuzz_mpegts, fuzz_hls and fuzz_live_block
(docs/live.md). TS seeds are made by ffmpeg (Debian 12's) from lavfi's
testsrc and sine, tiny (64x48, 10 fps, a keyframe every 5 frames) so that
a few KB hold several random-access points, then cut and broken: lost
sync, a shifted byte, a dropped and a repeated packet, a bad PAT CRC, bad
adaptation field lengths, the random_access_indicator cleared (so the
H.264 / H.265 NAL scan decides). Playlists are ffmpeg's hls muxer's plus
hand-written good and bad ones. Blocks are valid ones of every flag and
broken ones of every rule.

    tests/fuzz/gen_live_corpus.py [CORPUS_DIR]"""
import pathlib
import struct
import subprocess
import sys
import tempfile

P = 188


def ffmpeg(args, out):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + args + [str(out)],
                   check=True)
    return out.read_bytes()


def packets(ts):
    return [ts[i:i + P] for i in range(0, len(ts) - len(ts) % P, P)]


def clear_rai(ts):
    out = bytearray(ts)
    for i in range(0, len(out), P):
        if out[i + 3] & 0x20 and out[i + 4] > 0:
            out[i + 5] &= ~0x40
    return bytes(out)


def write(d, name, data):
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def crc32_mpeg(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04c11db7 if crc & 0x80000000 else crc << 1) & 0xffffffff
    return crc


def ts_packet(pid, unit_start, cc, payload):
    head = bytes([0x47, (0x40 if unit_start else 0) | pid >> 8, pid & 0xff, 0x10 | cc % 16])
    return head + payload + b"\xff" * (P - 4 - len(payload))


def psi(pid, body):
    body = bytearray(body)
    body[1] = 0xb0 | (len(body) + 1) >> 8
    body[2] = (len(body) + 1) & 0xff
    return ts_packet(pid, True, 0, b"\x00" + bytes(body) + struct.pack("!I", crc32_mpeg(body)))


def full_buffer_seed(d, segment_max=24 * 1024):
    """A video PES whose random-access picture shows only in its last
    packet, after audio packets that fill the segmenter's buffer (fuzz_mpegts'
    segment_max and its 64 KiB and 16 packets of slack): opening that
    segment behind a PAT and PMT once wrote past the buffer."""
    pat = bytes([0x00, 0, 0, 0, 1, 0xc1, 0, 0, 0, 1, 0xe1, 0x00])
    pmt = bytes([0x02, 0, 0, 0, 1, 0xc1, 0, 0, 0xe1, 0x01, 0xf0, 0,
                 0x1b, 0xe1, 0x01, 0xf0, 0, 0x0f, 0xe1, 0x02, 0xf0, 0])
    pes = bytes([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, 0, 0, 0, 1, 0x09, 0xf0])
    kept = (segment_max + 64 * 1024 + 16 * P) // P
    out = [psi(0x000, pat), psi(0x100, pmt), ts_packet(0x101, True, 0, pes)]
    out += [ts_packet(0x102, False, i, b"\x12\x34") for i in range(kept - 2)]
    out.append(ts_packet(0x101, False, 1, bytes([0, 0, 0, 1, 0x65])))
    write(d, "late_rap_full_buffer", b"".join(out))


def ts_seeds(d, tmp):
    vid = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10"]
    aud = ["-f", "lavfi", "-i", "sine=sample_rate=8000"]
    av = ffmpeg(vid + aud + ["-t", "1.6", "-c:v", "libx264", "-g", "5", "-b:v", "8k",
                             "-c:a", "aac", "-b:a", "8k", "-f", "mpegts"], tmp / "av.ts")
    hevc = ffmpeg(vid + ["-t", "1.6", "-c:v", "libx265", "-g", "5", "-b:v", "8k",
                         "-x265-params", "log-level=none", "-f", "mpegts"], tmp / "hevc.ts")
    audio = ffmpeg(aud + ["-t", "1", "-c:a", "aac", "-b:a", "8k", "-f", "mpegts"],
                   tmp / "audio.ts")
    mp2 = ffmpeg(vid + ["-t", "1.6", "-c:v", "mpeg2video", "-g", "5", "-b:v", "16k",
                        "-f", "mpegts"], tmp / "mpeg2.ts")
    wrap = ffmpeg(vid + ["-t", "1.6", "-c:v", "libx264", "-g", "5", "-b:v", "8k",
                         "-output_ts_offset", "95443.5", "-f", "mpegts"], tmp / "wrap.ts")
    cut = 12 * 1024
    av, hevc, audio, mp2, wrap = (x[:cut - cut % P] for x in (av, hevc, audio, mp2, wrap))
    write(d, "av", av)
    write(d, "hevc", hevc)
    write(d, "audio", audio)
    write(d, "mpeg2", mp2)
    write(d, "wrap", wrap)
    write(d, "av_no_rai", clear_rai(av))
    write(d, "hevc_no_rai", clear_rai(hevc))
    pk = packets(av)
    write(d, "lost_sync", b"".join(pk[:10]) + b"\x00" + b"".join(pk[10:20]))
    write(d, "shifted", av[:P * 5] + av[P * 5 + 1:P * 30])
    write(d, "dropped", b"".join(pk[:15] + pk[16:]))
    write(d, "repeated", b"".join(pk[:15] + [pk[15]] * 3 + pk[16:]))
    bad = bytearray(pk[0])
    bad[20] ^= 0xff
    write(d, "bad_pat_crc", bytes(bad) + b"".join(pk[1:]))
    af = bytearray(pk[3])
    af[3] = (af[3] & 0xcf) | 0x30
    af[4] = 183
    write(d, "bad_af_len", b"".join(pk[:3]) + bytes(af) + b"".join(pk[4:]))
    tei = bytearray(pk[5])
    tei[1] |= 0x80
    write(d, "tei", b"".join(pk[:5]) + bytes(tei) + b"".join(pk[6:]))
    write(d, "partial", av[:P * 7 + 100])
    write(d, "two_streams", av[:P * 30] + wrap[:P * 30])
    write(d, "empty", b"")


PLAYLISTS = {
    "live": b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n"
            b"#EXTINF:2.000,\nseg41.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:1.960,\nseg42.ts\n",
    "crlf": b"#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXTINF:3.9995,t\r\na/b-1.ts\r\n",
    "tags": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
            b"#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-PLAYLIST-TYPE:EVENT\n"
            b"#EXT-X-PROGRAM-DATE-TIME:2026-11-29T20:00:00Z\n#EXT-X-KEY:METHOD=NONE\n"
            b"#EXT-X-NEW:1\n# comment\n\n#EXTINF:1,\nx.ts\n#EXT-X-ENDLIST\n",
    "master": b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nlow/index.m3u8\n",
    "key": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n"
           b"#EXTINF:2,\na.ts\n",
    "byterange": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n#EXT-X-BYTERANGE:10@0\na.ts\n",
    "map": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"i.mp4\"\n",
    "absolute": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://evil/a.ts\n",
    "dotdot": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na/../../b.ts\n",
    "query": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts?x=1\n",
    "over_target": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.5,\na.ts\n",
    "no_uri": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n",
    "no_extinf": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n",
    "no_target": b"#EXTM3U\n#EXTINF:2,\na.ts\n",
    "no_header": b"#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n",
    "bad_number": b"#EXTM3U\n#EXT-X-TARGETDURATION:99999999999999999999999\n",
    "twice": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-TARGETDURATION:2\n",
    "control": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na\x00.ts\n",
    "empty": b"",
}


def hls_seeds(d, tmp):
    for name, text in PLAYLISTS.items():
        write(d, name, text)
    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "3", "-c:v", "libx264",
            "-g", "10", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
            "-hls_segment_filename", str(tmp / "seg%03d.ts")], tmp / "index.m3u8")
    write(d, "ffmpeg", (tmp / "index.m3u8").read_bytes())
    # live: a sliding window, PROGRAM-DATE-TIME between EXTINF and URI
    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "7", "-c:v", "libx264",
            "-g", "13", "-f", "hls", "-hls_time", "1", "-hls_list_size", "3", "-hls_flags",
            "delete_segments+program_date_time+independent_segments",
            "-hls_segment_filename", str(tmp / "s%d.ts")], tmp / "live.m3u8")
    write(d, "ffmpeg_live", (tmp / "live.m3u8").read_bytes())


def block(flags, index, seq, ms, ts=b"", version=1):
    return struct.pack("!BBHQI", version, flags, index, seq, ms) + ts


def block_seeds(d):
    pat = bytes.fromhex("474000100000b00d0001c100000001f0002ab104b2").ljust(P, b"\xff")
    null = b"\x47\x1f\xff\x10" + b"\xff" * 184
    write(d, "first", block(0x11, 0, 42, 0, pat))
    write(d, "middle", block(0x00, 1, 42, 0, pat + null))
    write(d, "last", block(0x0a, 3, 42, 2000, pat))
    write(d, "whole", block(0x17, 0, 7, 1000, pat * 3))
    write(d, "eos", block(0x08, 0, 43, 0))
    write(d, "version", block(0x11, 0, 42, 0, pat, version=2))
    write(d, "flag", block(0x31, 0, 42, 0, pat))
    write(d, "start_index", block(0x01, 1, 42, 0, pat))
    write(d, "end_no_duration", block(0x03, 0, 42, 0, pat))
    write(d, "duration_no_end", block(0x01, 0, 42, 5, pat))
    write(d, "partial_packet", block(0x01, 0, 42, 0, pat[:100]))
    write(d, "no_sync", block(0x01, 0, 42, 0, b"\x46" + pat[1:]))
    write(d, "short", block(0x01, 0, 42, 0)[:9])


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                        pathlib.Path(__file__).parent / "corpus")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        ts_seeds(root / "fuzz_mpegts", tmp)
        full_buffer_seed(root / "fuzz_mpegts")
        hls_seeds(root / "fuzz_hls", tmp)
    block_seeds(root / "fuzz_live_block")


if __name__ == "__main__":
    main()
