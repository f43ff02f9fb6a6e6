"""The DNS role against the EDNS compliance matrix of ISC's DNS Compliance
Testing tool (genreport, ednscomp.isc.org): every test of its EDNS, FULL and
COMM groups and of its TYPE group, each asked as genreport asks it and judged
by genreport's rules, without genreport itself (bench/dns_compliance.sh runs
the real tool). A test is named after genreport's test; its failure message
lists the tags genreport would print instead of "ok".

Where each comes from (RFC 8906, "A Common Operational Problem in DNS
Servers: Failure to Communicate"; "genreport" marks a test of the tool with
no recipe of its own in RFC 8906 section 8):

  dns        8.1.1   Is the server configured for the zone?
  aa         genreport: AA set in the query (RFC 1035 4.1.1)
  ad         8.1.3.2 Testing AD=1 queries
  cd         8.1.3.1 Testing CD=1 queries
  ra         genreport: RA set in the query
  rd         genreport: RD set in the query (RD copied, RFC 1035 4.1.1)
  tc         genreport: TC set in the query
  zflag      8.1.3.3 Testing the reserved bit
  opcode     8.1.4   Testing unknown opcodes
  opcodeflg  genreport: 8.1.4 with every header flag set
  type666    8.1.2   Testing unknown types
  tcp        8.1.5   Testing TCP
  edns       8.2.1   Testing minimal EDNS
  edns1      8.2.2   Testing EDNS version negotiation
  edns@512   8.2.7   Testing truncated responses
  ednsopt    8.2.3   Testing unknown EDNS options
  edns1opt   8.2.6   EDNS version negotiation with unknown EDNS options
  do         8.2.8   Testing DO=1 handling
  docd       genreport: 8.2.8 with CD=1
  edns1do    8.2.9   EDNS version negotiation with DO=1
  ednsflags  8.2.4   Testing unknown EDNS flags
  optlist    8.2.10  Testing with multiple defined EDNS options
  ednsnsid, ednscookie, ednsexpire, ednssubnet
             genreport: the options of 8.2.10 one at a time (a server
             without cookies ignores the option, RFC 7873 5.2.1)
  edns1nsid, edns1cookie, edns1expire, edns1subnet
             genreport: the same with EDNS version 1 (8.2.6)
  ednstcp    genreport: EDNS over TCP (RFC 8906 3.2.7)
  bind11, dig11
             genreport COMM: the queries BIND 9.11 and dig 9.11 send
  TYPE tests 8.1.2   every type genreport's -t asks (A ... TYPE1000)

Also here, beyond genreport: RFC 8906 8.2.5 (version negotiation with
unknown EDNS flags, which this genreport has no test of), RFC 3225 DO
copying and RFC 6891's OPT in NOTIMP and FORMERR answers.

Not here: genreport's dnswkk (TSIG with its all-zero "well-known key": no
RFC defines it, and the daemon implements no TSIG) and icmp (ping).

Each test asks twice: the zone apex, as genreport does, and a policy name
(a codepoint, answered by a decision) with the SOA question turned into an
A question, whose answer must then hold the A records instead of the SOA:
the zone apex's SOA and a codepoint's A are both written by the direct
writer of lib/proto/dns_answer.c, the rest by its libknot path."""
import random
import socket
import struct

import pytest

from conftest import Daemon, default_config, free_port

ZONE = "cdn.acme.net"
POLICY_NAME = "ad102.web.abc.cdn.acme.net"
TIMEOUT = 3
SOA, A, DNSKEY, OPT = 6, 1, 48, 41
NOERROR, FORMERR, NOTIMP, BADVERS, BADCOOKIE = 0, 1, 4, 16, 23
DO = 0x8000
COOKIE = b"\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08"
NSID = b"\x00\x03\x00\x00"
ECS = b"\x00\x08\x00\x04\x00\x01\x00\x00"
EXPIRE = b"\x00\x09\x00\x00"
ECHO = b"\x00\x64\x00\x00"  # option 100, unknown: must not come back


def t(udpsize=0, flags=0, version=0, tcp=False, cookie=False, ignore=False, options=b"",
      tc=False, rd=False, ra=False, cd=False, ad=False, aa=False, z=False, opcode=0,
      qtype=SOA):
    """One genreport test: the query's EDNS payload (0: no OPT), EDNS flags
    and version, transport, header flags, opcode and type."""
    return dict(udpsize=udpsize, flags=flags, version=version, tcp=tcp, cookie=cookie,
                ignore=ignore, options=options, tc=tc, rd=rd, ra=ra, cd=cd, ad=ad, aa=aa,
                z=z, opcode=opcode, qtype=qtype)


TESTS = {
    "dns": t(),
    "aa": t(aa=True),
    "ad": t(ad=True),
    "cd": t(cd=True),
    "ra": t(ra=True),
    "rd": t(rd=True),
    "tc": t(tc=True),
    "zflag": t(z=True),
    "opcode": t(opcode=15, qtype=0),
    "opcodeflg": t(opcode=15, qtype=0, tc=True, rd=True, ra=True, cd=True, ad=True,
                   aa=True, z=True),
    "type666": t(qtype=666),
    "tcp": t(tcp=True),
    "edns": t(4096),
    "edns1": t(4096, version=1),
    "edns@512": t(512, ignore=True, qtype=DNSKEY),
    "ednsopt": t(4096, options=ECHO),
    "edns1opt": t(4096, version=1, options=ECHO),
    "do": t(4096, flags=DO),
    "docd": t(4096, flags=DO, cd=True),
    "edns1do": t(4096, flags=DO, version=1),
    "ednsflags": t(4096, flags=0x0080),
    "optlist": t(4096, cookie=True, options=NSID + ECS + EXPIRE + COOKIE),
    "ednsnsid": t(4096, options=NSID),
    "ednscookie": t(4096, cookie=True, options=COOKIE),
    "ednsexpire": t(4096, options=EXPIRE),
    "ednssubnet": t(4096, options=ECS),
    "edns1nsid": t(4096, version=1, options=NSID),
    "edns1cookie": t(4096, version=1, cookie=True, options=COOKIE),
    "edns1expire": t(4096, version=1, options=EXPIRE),
    "edns1subnet": t(4096, version=1, options=ECS),
    "ednstcp": t(512, flags=DO, tcp=True, qtype=DNSKEY),
    "bind11": t(4096, flags=DO, cookie=True, options=COOKIE),
    "dig11": t(4096, cookie=True, options=COOKIE, rd=True, ad=True),
}

# genreport -t: its type list, each asked as "dns" is with that type.
TYPES = {
    "A": 1, "NS": 2, "MD": 3, "MF": 4, "CNAME": 5, "SOA": 6, "MB": 7, "MG": 8, "MR": 9,
    "NULL": 10, "WKS": 11, "PTR": 12, "HINFO": 13, "MINFO": 14, "MX": 15, "TXT": 16,
    "RP": 17, "AFSDB": 18, "X25": 19, "ISDN": 20, "RT": 21, "NSAP": 22, "NSAP-PTR": 23,
    "SIG": 24, "KEY": 25, "PX": 26, "GPOS": 27, "AAAA": 28, "LOC": 29, "NXT": 30,
    "SRV": 33, "NAPTR": 35, "KX": 36, "CERT": 37, "A6": 38, "DNAME": 39, "APL": 42,
    "DS": 43, "SSHFP": 44, "IPSECKEY": 45, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48,
    "DHCID": 49, "NSEC3": 50, "NSEC3PARAM": 51, "TLSA": 52, "SMIMEA": 53, "HIP": 55,
    "CDS": 59, "CDNSKEY": 60, "OPENPGPKEY": 61, "SPF": 99, "NID": 104, "L32": 105,
    "L64": 106, "LP": 107, "EUI48": 108, "EUI64": 109, "URI": 256, "CAA": 257,
    "AVC": 258, "DOA": 259, "DLV": 32769, "TYPE1000": 1000,
}


# --- the wire -------------------------------------------------------------

def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def build_query(test, qname, qid):
    """The query genreport sends for test: RD clear unless asked for, an
    unknown opcode as a bare header, then the OPT record when udpsize > 0."""
    flags = test["opcode"] << 11
    flags |= (0x0400 if test["aa"] else 0) | (0x0200 if test["tc"] else 0)
    flags |= (0x0100 if test["rd"] else 0) | (0x0080 if test["ra"] else 0)
    flags |= (0x0040 if test["z"] else 0) | (0x0020 if test["ad"] else 0)
    flags |= 0x0010 if test["cd"] else 0
    if test["opcode"] != 0:
        return struct.pack(">HHHHHH", qid, flags, 0, 0, 0, 0)
    arcount = 1 if test["udpsize"] else 0
    wire = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, arcount)
    wire += wire_name(qname) + struct.pack(">HH", test["qtype"], 1)
    if test["udpsize"]:
        ttl = test["version"] << 16 | test["flags"]
        wire += b"\0" + struct.pack(">HHIH", OPT, test["udpsize"], ttl, len(test["options"]))
        wire += test["options"]
    return wire


def read_name(msg, at):
    """(name, offset after it) with compression pointers followed."""
    labels, end, hops = [], None, 0
    while True:
        n = msg[at]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = at + 2
            at = (n & 0x3F) << 8 | msg[at + 1]
            hops += 1
            assert hops < 128, "compression loop"
            continue
        at += 1
        if n == 0:
            break
        labels.append(msg[at:at + n].decode("ascii", "replace"))
        at += n
    return ".".join(labels).lower(), end if end is not None else at


def parse(msg):
    """The header bits and records of a response, what genreport looks at."""
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    r = dict(id=qid, qr=flags >> 15 & 1, opcode=flags >> 11 & 15, aa=flags >> 10 & 1,
             tc=flags >> 9 & 1, rd=flags >> 8 & 1, ra=flags >> 7 & 1, z=flags >> 6 & 1,
             ad=flags >> 5 & 1, cd=flags >> 4 & 1, rcode=flags & 15, counts=(qd, an, ns, ar),
             answer=[], opt=None, opts=[], len=len(msg))
    at = 12
    for _ in range(qd):
        _, at = read_name(msg, at)
        at += 4
    for section, count in (("answer", an), ("authority", ns), ("additional", ar)):
        for _ in range(count):
            owner, at = read_name(msg, at)
            rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", msg[at:at + 10])
            at += 10
            rdata = msg[at:at + rdlen]
            assert len(rdata) == rdlen, "record past the end"
            at += rdlen
            if section == "answer":
                r["answer"].append((owner, rtype))
            if rtype == OPT:
                assert r["opt"] is None, "two OPT records"
                r["opt"] = dict(payload=rclass, ttl=ttl)
                o = 0
                while o + 4 <= rdlen:
                    code, olen = struct.unpack(">HH", rdata[o:o + 4])
                    r["opts"].append((code, rdata[o + 4:o + 4 + olen]))
                    o += 4 + olen
                assert o == rdlen, "OPT options do not fill its rdata"
    assert at == len(msg), "trailing bytes"
    if r["opt"] is not None:
        r["rcode"] += (r["opt"]["ttl"] >> 24) << 4
    return r


def exchange(port, wire, tcp):
    if tcp:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
            s.sendall(struct.pack(">H", len(wire)) + wire)
            data = b""
            while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                chunk = s.recv(65537)
                assert chunk, "TCP connection closed without an answer"
                data += chunk
            return data[2:2 + struct.unpack(">H", data[:2])[0]]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        for _ in range(3):  # loopback loses nothing, but a slow start may
            s.sendto(wire, ("127.0.0.1", port))
            try:
                while True:
                    reply, _ = s.recvfrom(65535)
                    if reply[:2] == wire[:2]:
                        return reply
            except socket.timeout:
                continue
    return None


# --- genreport's judgement -------------------------------------------------

def judge(test, r, qname, want):
    """The tags genreport would print for response r to test (empty: ok).
    want: the type whose presence in the answer the SOA check asks for (SOA
    at the apex, A at a policy name)."""
    tags = []
    if r is None:
        return ["timeout"]
    if not r["qr"]:
        tags.append("noqr")
    if r["opcode"] != test["opcode"]:
        tags.append(f"opcode{r['opcode']}")
    rcode, version = r["rcode"], test["version"]
    if version == 0:
        if test["opcode"] == 0 and rcode != NOERROR and not (
                test["cookie"] and rcode == BADCOOKIE and any(c == 10 for c, _ in r["opts"])):
            tags.append(f"rcode{rcode}")
        if test["opcode"] != 0 and rcode != NOTIMP:
            tags.append(f"rcode{rcode}")
    elif rcode != BADVERS:
        tags.append(f"rcode{rcode}")
    if test["opcode"] != 0 and r["counts"][2] != 0:
        tags.append("non-empty-authority-section")
    opt = r["opt"]
    if opt is not None:
        rversion = opt["ttl"] >> 16 & 0xFF
        if rversion != 0:
            tags.append("version-not-zero")
        if (rversion < version) != (rcode == BADVERS):
            tags.append("badversion")
    if opt is None and test["udpsize"]:
        tags.append("noopt")
    if opt is not None and not test["udpsize"]:
        tags.append("opt")
    seen = any(owner == qname and rtype == want for owner, rtype in r["answer"])
    if test["qtype"] == SOA:
        if version == 0 and not test["ignore"] and not seen and rcode == NOERROR:
            tags.append("nosoa")
        if seen and (version != 0 or rcode != NOERROR):
            tags.append("soa")
    for code, data in r["opts"]:
        if code == 100:
            tags.append("echoed")
        if code == 10 and test["cookie"] and 16 <= len(data) <= 40 and \
                data[:8] != COOKIE[4:]:
            tags.append("cookie-mismatch")
    if version == 0 and rcode == NOERROR and test["opcode"] == 0 and not r["aa"]:
        tags.append("noaa")
    if r["aa"] and test["opcode"] != 0:
        tags.append("aa")
    if r["ra"] and test["opcode"] != 0:
        tags.append("ra")
    if r["rd"] and (test["opcode"] != 0 or not test["rd"]):
        tags.append("rd")
    if not r["rd"] and test["rd"] and test["opcode"] == 0:
        tags.append("nord")
    if r["ad"] and (test["opcode"] != 0 or (not test["ad"] and not test["flags"] & DO)):
        tags.append("ad")
    if r["cd"] and (test["opcode"] != 0 or not test["cd"]):
        tags.append("cd")
    if r["z"]:
        tags.append("z")
    if opt is not None and opt["ttl"] & 0x7FFF:
        tags.append("mbz")
    if test["ignore"] and r["len"] > (test["udpsize"] or 512):
        tags.append("toobig")
    return tags


# --- the daemon --------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One daemon for the module, etc/peercdn.yaml as node acme-n1 with its
    DNS role on a free loopback port; stopped by PID at the end."""
    cfg = default_config()
    port, metrics = free_port(), free_port()
    while metrics == port:
        metrics = free_port()
    cfg["dns"].update(listen=["127.0.0.1"], port=port, workers=1)
    cfg["control"] = {"metrics_port": metrics, "metrics_listen": "127.0.0.1"}
    d = Daemon(tmp_path_factory.mktemp("ednscomp"), cfg).start()
    yield d
    code = d.stop()
    assert code in (0, None), f"peercdnd exited {code}:\n{d.log()[-3000:]}"
    assert "runtime error:" not in d.log() and "AddressSanitizer" not in d.log(), d.log()


def run(server, test, qname, want):
    """Asks test at qname (its SOA question as one of type want) and judges
    the answer as genreport judges its SOA test."""
    asked = dict(test, qtype=want) if test["qtype"] == SOA else test
    wire = build_query(asked, qname, random.randrange(1, 0xFFFF))
    reply = exchange(server.dns_port, wire, test["tcp"])
    r = parse(reply) if reply is not None else None
    return judge(test, r, qname, want), r


@pytest.mark.parametrize("name", list(TESTS))
def test_genreport(server, name):
    """A test of genreport's EDNS, FULL and COMM groups at the zone apex."""
    tags, r = run(server, TESTS[name], ZONE, SOA)
    assert not tags, f"{name}={','.join(tags)}: {r}"


@pytest.mark.parametrize("name", list(TESTS))
def test_genreport_policy_name(server, name):
    """The same at a policy name, asked for its A records."""
    tags, r = run(server, TESTS[name], POLICY_NAME, A)
    assert not tags, f"{name}={','.join(tags)}: {r}"


@pytest.mark.parametrize("name", list(TYPES))
def test_genreport_type(server, name):
    """genreport -t: a query of each type at the zone apex is answered
    NOERROR and authoritatively (8.1.2), whatever the type."""
    tags, r = run(server, t(qtype=TYPES[name]), ZONE, SOA)
    assert not tags, f"{name}={','.join(tags)}: {r}"


def test_judge_catches_the_failures_genreport_reports():
    """The judgement is no rubber stamp: the answers a non-compliant server
    gives get genreport's tags (each from a server ednscomp lists)."""
    ok = dict(qr=1, opcode=0, aa=1, tc=0, rd=0, ra=0, z=0, ad=0, cd=0, rcode=NOERROR,
              counts=(1, 1, 0, 1), answer=[(ZONE, SOA)], opt=dict(payload=1232, ttl=0),
              opts=[], len=100)
    edns = TESTS["edns"]
    assert judge(edns, ok, ZONE, SOA) == []
    assert judge(edns, dict(ok, opt=None), ZONE, SOA) == ["noopt"]
    assert judge(TESTS["dns"], ok, ZONE, SOA) == ["opt"]
    assert "mbz" in judge(TESTS["ednsflags"], dict(ok, opt=dict(payload=1232, ttl=0x80)),
                          ZONE, SOA)
    assert "rcode0" in judge(TESTS["edns1"], ok, ZONE, SOA)
    assert "echoed" in judge(TESTS["ednsopt"], dict(ok, opts=[(100, b"")]), ZONE, SOA)
    notimp = dict(ok, opcode=15, aa=0, rcode=NOTIMP, counts=(0, 0, 0, 0), answer=[], opt=None)
    assert judge(TESTS["opcodeflg"], notimp, ZONE, SOA) == []
    assert judge(TESTS["opcodeflg"], dict(notimp, rd=1), ZONE, SOA) == ["rd"]
    assert judge(TESTS["zflag"], dict(ok, z=1, opt=None), ZONE, SOA) == ["z"]
    assert judge(TESTS["dns"], dict(ok, answer=[], opt=None), ZONE, SOA) == ["nosoa"]
    assert judge(TESTS["dns"], None, ZONE, SOA) == ["timeout"]


# --- beyond genreport: what the RFCs it checks also say ----------------------

@pytest.mark.parametrize("qname,want", [(ZONE, SOA), (POLICY_NAME, A)])
@pytest.mark.parametrize("version", [0, 1])
def test_do_bit_copied(server, qname, want, version):
    """RFC 3225 section 3: the DO bit of the query is copied into the
    response (genreport's do/edns1do only look for it when RRSIGs come
    back); both writers, the answer and BADVERS."""
    for flags in (DO, 0):
        tags, r = run(server, t(4096, flags=flags, version=version), qname, want)
        assert not tags, f"{','.join(tags)}: {r}"
        assert r["opt"]["ttl"] & DO == flags, r


def test_opt_in_error_answers(server):
    """RFC 6891 sections 6.1.1 and 7: a query with an OPT record gets one
    back, an error too: NOTIMP (8.1.4 asked with EDNS) and the FORMERR of a
    query without a question (RFC 7873 5.4's cookie-only query, which a
    server without cookies does not answer NOERROR)."""
    notimp = t(4096, flags=DO, opcode=15, qtype=0)
    wire = build_query(dict(notimp, opcode=0), ZONE, 0x4242)
    # The OPT after a bare header: opcode 15, no question.
    header = struct.pack(">HHHHHH", 0x4242, 15 << 11 | 0x0100, 0, 0, 0, 1)
    opt = wire[12 + len(wire_name(ZONE)) + 4:]
    r = parse(exchange(server.dns_port, header + opt, False))
    assert r["rcode"] == NOTIMP and not r["rd"] and not r["aa"], r
    assert r["opt"] is not None and r["opt"]["ttl"] == DO, r
    header = struct.pack(">HHHHHH", 0x4243, 0, 0, 0, 0, 1)
    cookie = b"\0" + struct.pack(">HHIH", OPT, 4096, 0, len(COOKIE)) + COOKIE
    r = parse(exchange(server.dns_port, header + cookie, False))
    assert r["rcode"] == FORMERR and r["opt"] is not None and r["opt"]["ttl"] == 0, r
    assert r["opts"] == [], r  # no server cookie: we implement none


@pytest.mark.parametrize("qname,want", [(ZONE, SOA), (POLICY_NAME, A)])
def test_edns1_unknown_flags(server, qname, want):
    """RFC 8906 8.2.5, EDNS version negotiation with unknown EDNS flags,
    which this genreport has no test of: BADVERS, an OPT of version 0, the
    unknown flag not copied (MBZ), no SOA, no AA."""
    tags, r = run(server, t(4096, version=1, flags=0x0080), qname, want)
    assert not tags, f"{','.join(tags)}: {r}"
    assert r["rcode"] == BADVERS and not r["aa"] and r["opt"]["ttl"] & 0xFFFFFF == 0, r


def dig(server, *args):
    """dig's header line (status, opcode) and OPT pseudosection lines for one
    query to the server; no retries, no EDNS version negotiation."""
    import subprocess
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.dns_port), "+norec",
                          "+time=3", "+tries=1", "+noednsneg", *args],
                         capture_output=True, text=True, timeout=30).stdout
    return out


@pytest.mark.parametrize("transport", ["+notcp", "+tcp"])
def test_badvers_before_notimp_and_formerr(server, transport):
    """RFC 6891 6.1.3: a query of EDNS version 1 is answered BADVERS with
    our version, 0, also when its opcode is unknown (BIND 9 and Knot check
    the version first) and when it has no question; with version 0 the
    unknown opcode is NOTIMP and the missing question FORMERR, as before."""
    out = dig(server, transport, "+edns=1", "+opcode=15", ZONE, "SOA")
    assert "status: BADVERS" in out and "EDNS: version: 0" in out, out
    out = dig(server, transport, "+edns=1", "+header-only", ZONE)
    assert "status: BADVERS" in out and "EDNS: version: 0" in out, out
    out = dig(server, transport, "+edns=0", "+opcode=15", ZONE, "SOA")
    assert "status: NOTIMP" in out and "EDNS: version: 0" in out, out
    out = dig(server, transport, "+edns=0", "+header-only", ZONE)
    assert "status: FORMERR" in out and "EDNS: version: 0" in out, out
