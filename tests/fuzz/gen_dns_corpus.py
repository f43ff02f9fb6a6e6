#!/usr/bin/python3
"""Writes the seed corpus of fuzz_dns: well-formed queries of every kind the
DNS role answers, and the malformed packets of issue 3, each prefixed with
the mode byte (bit 0: TCP, bit 1: IPv6 client). Also used by the system
tests as the malformed-packet corpus (tests/system/test_dns.py)."""
import pathlib
import struct
import sys

import dns.edns
import dns.message
import dns.rdatatype


def query(name, rdtype="A", ecs=None, edns=0, payload=1232, flags=0x0100):
    msg = dns.message.make_query(name, rdtype, use_edns=edns if edns is not None else False,
                                 payload=payload)
    if ecs:
        msg.use_edns(edns or 0, payload=payload, options=[dns.edns.ECSOption(*ecs)])
    msg.flags = flags
    return msg.to_wire()


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def qname(*labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


MALFORMED = {
    "truncated_header": header()[:5],
    "qdcount_0": header(qd=0),
    "qdcount_5": header(qd=5) + (qname(b"a", b"cdn", b"acme", b"net") + b"\0\1\0\1") * 5,
    "compression_loop": header() + b"\xc0\x0c" + b"\0\1\0\1",
    "compression_forward": header() + b"\xc0\x20" + b"\0\1\0\1" + b"\0" * 20,
    "label_over_63": header() + bytes([64]) + b"a" * 64 + b"\0\0\1\0\1",
    "name_over_255": header() + b"".join(bytes([63]) + b"a" * 63 for _ in range(5)) + b"\0\0\1\0\1",
    "bad_edns_version": None,  # filled below
    "garbage": bytes(range(256))[13:113],
    "response_bit": header(flags=0x8180) + qname(b"cdn", b"acme", b"net") + b"\0\1\0\1",
    "opcode_notify": header(flags=0x2000) + qname(b"cdn", b"acme", b"net") + b"\0\6\0\1",
    "question_cut": header() + qname(b"ad102", b"web", b"abc")[:6],
    "trailing_garbage": query("ad102.web.abc.cdn.acme.net", edns=None) + b"\xff" * 7,
    "answer_in_query": header(an=1) + qname(b"cdn", b"acme", b"net") + b"\0\1\0\1"
    + b"\xc0\x0c\0\1\0\1\0\0\0\0\0\4\1\2\3\4",
    "two_opt": None,
    # The question's name a pointer back to the id's first byte, 0 (the
    # root): libknot parses no compressed QNAME, and the RRL slip echoed it.
    "question_compressed": header(qid=0x0034) + b"\xc0\x00\0\1\0\1",
    "opt_owner_not_root": None,  # RFC 6891 6.1.2: the root name only
    "ecs_bad_family": None,
    "ecs_source_too_long": None,
    "ecs_nonzero_scope": None,
    # RFC 6891 6.1.3: BADVERS before NOTIMP and a question-count or
    # answer-record FORMERR (as BIND 9 and Knot); an OPT whose options
    # overrun its rdata makes the query malformed (and the RRL slip must
    # not reflect it).
    "notimp_edns1": None,
    "qdcount_0_edns1": None,
    "answer_in_query_edns1": None,
    "opt_option_cut": None,
}


def with_opt(base_wire, opt_rdata=b"", version=0, count=1):
    """A query with hand-made OPT records (dnspython refuses bad ones)."""
    h = bytearray(base_wire[:12])
    struct.pack_into("!H", h, 10, count)
    opt = b"\0" + struct.pack("!HHBBHH", 41, 1232, 0, version, 0, len(opt_rdata)) + opt_rdata
    return bytes(h) + base_wire[12:] + opt * count


def ecs_opt(family, source, scope, address):
    data = struct.pack("!HBB", family, source, scope) + address
    return struct.pack("!HH", 8, len(data)) + data


def main(out_dir):
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plain = query("ad102.web.abc.cdn.acme.net", edns=None)
    MALFORMED["bad_edns_version"] = with_opt(plain, version=1)
    MALFORMED["two_opt"] = with_opt(plain, count=2)
    opt = with_opt(plain)
    MALFORMED["opt_owner_not_root"] = opt[:len(plain)] + b"\1a" + opt[len(plain):]
    MALFORMED["ecs_bad_family"] = with_opt(plain, ecs_opt(3, 8, 0, b"\x7f"))
    MALFORMED["ecs_source_too_long"] = with_opt(plain, ecs_opt(1, 40, 0, b"\x7f\x02\0\0\0"))
    MALFORMED["ecs_nonzero_scope"] = with_opt(plain, ecs_opt(1, 24, 8, b"\x7f\x02\0"))
    notify = header(flags=0x2000) + qname(b"cdn", b"acme", b"net") + b"\0\6\0\1"
    MALFORMED["notimp_edns1"] = with_opt(notify, version=1)
    MALFORMED["qdcount_0_edns1"] = with_opt(header(qd=0), version=1)
    MALFORMED["answer_in_query_edns1"] = with_opt(MALFORMED["answer_in_query"], version=1)
    MALFORMED["opt_option_cut"] = with_opt(plain, b"\0\x08\0")
    MALFORMED["ecs_host_bits"] = with_opt(plain, ecs_opt(1, 20, 0, b"\x7f\x02\x0f"))
    good = {
        "a_abc": query("ad102.web.abc.cdn.acme.net"),
        "aaaa_abc": query("ad102.web.abc.cdn.acme.net", "AAAA"),
        "a_tv": query("chan4.abc.tv.cdn.acme.net"),
        "a_foo_beta": query("index.foo.cdn.beta.net"),
        "a_news_unsigned": query("chan7.live.news.cdn.gamma.net"),
        "soa_apex": query("cdn.acme.net", "SOA"),
        "ns_apex": query("cdn.beta.net", "NS"),
        "any": query("ad102.web.abc.cdn.acme.net", "ANY"),
        "txt_nodata": query("ad102.web.abc.cdn.acme.net", "TXT"),
        "nxdomain": query("x.web.nobody.cdn.acme.net"),
        "refused": query("www.example.com"),
        "mixed_case": query("AD102.Web.ABC.cdn.ACME.net"),
        "ecs_v4": query("ad102.web.abc.cdn.acme.net", ecs=("127.2.0.0", 24)),
        "ecs_v6": query("ad102.web.abc.cdn.acme.net", "AAAA", ecs=("2001:db8:200::", 48)),
        "ecs_zero": query("ad102.web.abc.cdn.acme.net", ecs=("0.0.0.0", 0)),
        "no_edns": plain,
        "small_payload": query("cdn.acme.net", "NS", payload=100),
        "ns_host": query("ns1.cdn.acme.net"),
        "class_ch": query("cdn.acme.net", "TXT")[:-2] + b"\0\3",
        # The direct writer's shapes (dns_answer.c), which the target
        # compares with the libknot path byte for byte.
        "soa_apex_ecs": query("cdn.acme.net", "SOA", ecs=("127.2.0.0", 24)),
        "soa_apex_mixed_noedns": query("CDN.Acme.NET", "SOA", edns=None),
        "soa_apex_payload_600": query("cdn.acme.net", "SOA", payload=600),
        "aaaa_nodata_ecs": query("Ad102.X.web.abc.CDN.acme.net", "AAAA", ecs=("127.2.0.0", 24)),
        "aaaa_nodata_noedns": query("ad102.web.abc.cdn.acme.net", "AAAA", edns=None),
        "a_all_flags": query("ad102.web.abc.cdn.acme.net", flags=0x0370),
        "a_rcode_bits": query("ad102.web.abc.cdn.acme.net", flags=0x010f),
        "a_ecs_17": query("ad102.web.abc.cdn.acme.net", ecs=("127.2.0.0", 17)),
        "a_ecs_32": query("ad102.web.abc.cdn.acme.net", ecs=("127.2.0.10", 32)),
        "aaaa_ecs_56": query("ad102.web.abc.cdn.acme.net", "AAAA", ecs=("2001:db8:200::", 56)),
        "a_ecs_v6_client": query("ad102.web.abc.cdn.acme.net", ecs=("2001:db8:200::", 48)),
        "a_no_object": query("web.abc.cdn.acme.net"),
        "a_customer_only": query("abc.cdn.acme.net"),
        "a_vod_nbc": query("movie.vod.nbc.cdn.acme.net", payload=512),
        "a_long_name": query(".".join(["x" * 60] * 3) + ".ad.web.abc.cdn.acme.net"),
        "a_tv_rtsp_ecs": query("chan4.abc.tv.cdn.acme.net", ecs=("127.5.0.0", 24)),
    }
    for name, wire in {**good, **MALFORMED}.items():
        (out / f"udp4_{name}").write_bytes(b"\0" + wire)
    (out / "tcp4_a_abc").write_bytes(b"\1" + good["a_abc"])
    (out / "udp6_a_abc").write_bytes(b"\2" + good["aaaa_abc"])
    (out / "tcp4_soa_apex_ecs").write_bytes(b"\1" + good["soa_apex_ecs"])
    (out / "tcp6_a_ecs_32").write_bytes(b"\3" + good["a_ecs_32"])
    (out / "udp6_a_no_edns").write_bytes(b"\2" + plain)
    return MALFORMED


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "corpus" / "fuzz_dns")
