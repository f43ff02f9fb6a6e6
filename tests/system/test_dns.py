"""The DNS role of peercdnd (issue 3, section 5) against running daemons on
loopback: the branches of claims 1-2 reached through EDNS Client Subnet,
the figures 12, 14, 15 and 16, the protocol corner cases (TTL, AA, NXDOMAIN
versus NODATA, REFUSED, TC and TCP fallback, ECS scope, RFC 8482, 0x20),
signed and encrypted names, SIGHUP, RRL, TCP limits and a corpus of
malformed packets. Every network wait is bounded; nothing is timed."""
import pathlib
import platform
import re
import signal
import socket
import struct
import subprocess
import sys
import time

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from conftest import PEERCDNCTL, SOURCE, default_config, free_port

sys.path.insert(0, str(SOURCE / "tests" / "fuzz"))
import gen_dns_corpus  # noqa: E402

ACME_EDGE = {"127.1.200.1", "127.1.200.2"}
ACME_ALL = ACME_EDGE | {"127.1.201.1", "127.4.200.1"}
BETA_ALL = {"127.2.200.1", "127.3.200.1", "127.5.200.1"}
GAMMA_ALL = {"127.6.200.1"}
ABC = "ad102.web.abc.cdn.acme.net"
TIMEOUT = 3


# --- helpers ---------------------------------------------------------------

def dns_config(serve_all=False, **dns_keys):
    """default_config() on free loopback ports; serve_all drops `self` so the
    daemon answers for the domains of every CDN."""
    cfg = default_config()
    port = free_port()
    metrics = free_port()
    while metrics == port:
        metrics = free_port()
    cfg["dns"].update(listen=["127.0.0.1"], port=port, workers=2)
    cfg["dns"].update(dns_keys)
    cfg["control"] = {"metrics_port": metrics, "metrics_listen": "127.0.0.1"}
    if serve_all:
        cfg.pop("self", None)
    return cfg


def cdn(cfg, name):
    return next(c for c in cfg["cdns"] if c["name"] == name)


def service(cfg, name):
    return next(s for s in cfg["services"] if s["name"] == name)


def make_query(name, rdtype="A", ecs=None, edns=True, payload=1232, rdclass="IN"):
    options = [dns.edns.ECSOption(*ecs)] if ecs else None
    q = dns.message.make_query(name, rdtype, rdclass, use_edns=0 if edns or ecs else False,
                               payload=payload, options=options)
    q.flags &= ~dns.flags.RD  # an authoritative server is asked without RD
    return q


def udp(d, name, rdtype="A", ecs=None, edns=True, payload=1232, rdclass="IN", host="127.0.0.1"):
    q = make_query(name, rdtype, ecs, edns, payload, rdclass)
    return dns.query.udp(q, host, port=d.dns_port, timeout=TIMEOUT)


def tcp(d, name, rdtype="A", ecs=None, edns=True, host="127.0.0.1"):
    q = make_query(name, rdtype, ecs, edns)
    return dns.query.tcp(q, host, port=d.dns_port, timeout=TIMEOUT)


def addresses(resp, rdtype=dns.rdatatype.A):
    return [r.address for rrset in resp.answer if rrset.rdtype == rdtype for r in rrset]


def ecs_of(resp):
    opts = [o for o in resp.options if isinstance(o, dns.edns.ECSOption)]
    assert len(opts) == 1, resp
    return opts[0]


def metric(d, name, **labels):
    key = name
    if labels:
        key += "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    return d.metrics().get(key, 0.0)


def outcome(d, what):
    return metric(d, "peercdn_dns_responses_total", outcome=what)


def branch(d, what):
    return metric(d, "peercdn_dns_decisions_total", branch=what)


def assert_soa_authority(resp, zone):
    soa = [r for r in resp.authority if r.rdtype == dns.rdatatype.SOA]
    assert len(soa) == 1, resp
    assert soa[0].name == dns.name.from_text(zone), resp
    return soa[0]


def frame(wire):
    return struct.pack("!H", len(wire)) + wire


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def recv_frame(sock):
    (n,) = struct.unpack("!H", recv_exact(sock, 2))
    return dns.message.from_wire(recv_exact(sock, n))


def closed_by_peer(sock, timeout=5.0):
    """True when the server closes the connection within timeout (bounded)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def make_name(d, *args):
    proc = subprocess.run([str(PEERCDNCTL), "name", "--config", str(d.config_path), *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


# --- claims 1 and 2: every branch, located by ECS --------------------------

BRANCHES = [
    # (ECS address, source, name, branch, allowed answers, scope)
    ("127.1.0.0", 24, ABC, "PRIMARY", ACME_EDGE, 17),
    ("127.2.0.0", 24, ABC, "PEER", {"127.2.200.1"}, 17),
    ("127.3.0.0", 24, "chan4.abc.tv.cdn.acme.net", "OUTSIDE", ACME_ALL, 17),
    ("127.6.0.0", 24, "index.foo.cdn.beta.net", "OUTSIDE", BETA_ALL, 17),
    ("2001:db8:200::", 56, ABC, "PEER", {"127.2.200.1"}, 48),
]


@pytest.mark.parametrize("address,source,name,want_branch,allowed,scope", BRANCHES,
                         ids=["primary", "peer", "outside-acme", "outside-beta", "peer-v6-ecs"])
def test_claim_branches_by_ecs(daemons, address, source, name, want_branch, allowed, scope):
    d = daemons(dns_config(serve_all=True))
    resp = udp(d, name, ecs=(address, source))
    assert resp.rcode() == dns.rcode.NOERROR, resp
    assert resp.flags & dns.flags.AA
    got = addresses(resp)
    assert len(got) == 1 and got[0] in allowed, (got, allowed)
    opt = ecs_of(resp)
    assert (opt.address, opt.srclen, opt.scopelen) == (address, source, scope)
    assert branch(d, want_branch) == 1
    others = {"PRIMARY", "PEER", "OUTSIDE"} - {want_branch}
    assert all(branch(d, b) == 0 for b in others)
    assert outcome(d, "answer") == 1


def test_ecs_scope_and_source_with_dig(daemons):
    """dig with +subnet and +norec: the scope is the matched /17, the source
    comes back unchanged, AA set, RA not set, TTL 0."""
    d = daemons(dns_config())
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(d.dns_port), "+norec", "+time=3",
                          "+tries=1", "+subnet=127.2.0.0/24", ABC, "A"],
                         capture_output=True, text=True, timeout=30).stdout
    assert "status: NOERROR" in out, out
    assert "CLIENT-SUBNET: 127.2.0.0/24/17" in out, out
    flags = re.search(r";; flags: ([a-z ]+);", out).group(1).split()
    assert "aa" in flags and "ra" not in flags and "rd" not in flags, out
    assert re.search(r"^ad102\.web\.abc\.cdn\.acme\.net\.\s+0\s+IN\s+A\s+127\.2\.200\.1$",
                     out, re.M), out
    assert branch(d, "PEER") == 1


def test_z_and_cd_bits_with_dig(daemons):
    """RFC 1035 section 4.1.1: Z is zero in every response; RFC 4035 section
    3.2.2: CD is copied only into responses to QUERY. An unknown opcode with
    Z and CD set gets NOTIMP with neither; a QUERY keeps CD, never Z."""
    d = daemons(dns_config())

    def dig(*args):
        return subprocess.run(["dig", "@127.0.0.1", "-p", str(d.dns_port), "+time=3",
                               "+tries=1", "+norec", *args],
                              capture_output=True, text=True, timeout=30).stdout

    out = dig("+noedns", "+header-only", "+opcode=15", "+zflag", "+cd")
    assert "status: NOTIMP" in out, out
    flags = re.search(r";; flags: ([a-z ]*);", out).group(1).split()
    assert "cd" not in flags and "z" not in flags, out
    assert "MBZ" not in out, out
    out = dig("+zflag", "+cd", ABC, "A")
    assert "status: NOERROR" in out, out
    flags = re.search(r";; flags: ([a-z ]*);", out).group(1).split()
    assert "cd" in flags and "z" not in flags, out
    assert "MBZ" not in out, out


def test_ecs_source_zero_has_scope_zero(daemons):
    """RFC 7871 7.1.2: source /0 means the resolver hides the client: the
    transport address locates it, and the scope is 0."""
    d = daemons(dns_config())
    resp = udp(d, ABC, ecs=("0.0.0.0", 0))
    assert resp.rcode() == dns.rcode.NOERROR
    opt = ecs_of(resp)
    assert (opt.srclen, opt.scopelen) == (0, 0)
    assert addresses(resp)


def test_ecs_on_non_decided_answers_scope_zero(daemons):
    """An answer that does not depend on the client (the apex SOA) echoes the
    option with scope 0."""
    d = daemons(dns_config())
    resp = udp(d, "cdn.acme.net", "SOA", ecs=("127.2.0.0", 24))
    opt = ecs_of(resp)
    assert (opt.address, opt.srclen, opt.scopelen) == ("127.2.0.0", 24, 0)


def test_ipv6_transport(daemons):
    """On ::1 too; without ECS an unknown client is located at the node
    (acme-n1, AS 100), so the answer is an acme PRIMARY one."""
    d = daemons(dns_config(listen=["127.0.0.1", "::1"]))
    resp = udp(d, ABC, host="::1", edns=False)
    assert addresses(resp)[0] in ACME_EDGE
    resp = udp(d, ABC, ecs=("2001:db8:200::", 48), host="::1")
    assert addresses(resp) == ["127.2.200.1"]
    resp = tcp(d, ABC, host="::1")
    assert addresses(resp)[0] in ACME_EDGE
    assert branch(d, "PRIMARY") == 2 and branch(d, "PEER") == 1


def test_answers_leave_without_df(daemons):
    """An answer is sent at the interface's MTU without DF, whatever path MTU
    an ICMP claimed (IP_PMTUDISC_OMIT on the answering sockets, as gdnsd,
    Knot and BIND): seen on the wire with a packet socket on lo."""
    d = daemons(dns_config())
    try:
        sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    except PermissionError:
        pytest.skip("a packet socket on lo needs CAP_NET_RAW")
    with sniff:
        sniff.bind(("lo", 0))
        sniff.settimeout(TIMEOUT)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.bind(("127.0.0.1", 0))
            client.settimeout(TIMEOUT)
            client.sendto(make_query(ABC).to_wire(), ("127.0.0.1", d.dns_port))
            client.recvfrom(4096)
            want = (d.dns_port, client.getsockname()[1])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # other tests' loopback traffic is passed over
            ip = sniff.recv(65536)
            ihl = (ip[0] & 0x0F) * 4
            if ip[9] == socket.IPPROTO_UDP and struct.unpack("!HH", ip[ihl:ihl + 4]) == want:
                assert struct.unpack("!H", ip[6:8])[0] & 0x4000 == 0, "the answer has DF set"
                return
        pytest.fail("the answer was not seen on lo")


# --- TTL, AA, negative answers, REFUSED, apex -------------------------------

def test_ttl_default_zero_per_cdn_and_per_service(daemons):
    cfg = dns_config()
    d0 = daemons(cfg, name="default")
    assert udp(d0, ABC).answer[0].ttl == 0
    assert udp(d0, "chan4.abc.tv.cdn.acme.net").answer[0].ttl == 0

    cfg = dns_config()
    cdn(cfg, "acme")["dns_ttl"] = 60
    service(cfg, "web")["dns_ttl"] = 30
    d = daemons(cfg, name="ttl")
    web = udp(d, ABC, ecs=("127.1.0.0", 24))
    tv = udp(d, "chan4.abc.tv.cdn.acme.net", ecs=("127.1.0.0", 24))
    assert web.answer[0].ttl == 30   # the service's TTL wins
    assert tv.answer[0].ttl == 60    # else the CDN's


def test_max_answers_names_distinct_servers(daemons):
    d = daemons(dns_config(max_answers=2))
    resp = udp(d, ABC, ecs=("127.1.0.0", 24))
    assert sorted(addresses(resp)) == sorted(ACME_EDGE)
    one = daemons(dns_config(), name="one")
    assert len(addresses(udp(one, ABC, ecs=("127.1.0.0", 24)))) == 1


def test_nxdomain_unknown_customer_with_soa(daemons):
    d = daemons(dns_config(negative_ttl=7))
    resp = udp(d, "x.web.nobody.cdn.acme.net")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert resp.flags & dns.flags.AA
    assert not resp.answer
    soa = assert_soa_authority(resp, "cdn.acme.net.")
    assert soa.ttl == 7 and soa[0].minimum == 7
    assert soa[0].rname == dns.name.from_text("hostmaster.peercdn.example.")
    assert outcome(d, "nxdomain") == 1


@pytest.mark.parametrize("rdtype", ["TXT", "AAAA", "MX"])
def test_nodata(daemons, rdtype):
    """An existing name without that type: NOERROR, empty answer, SOA. No
    server has an IPv6 address, so AAAA is NODATA too."""
    d = daemons(dns_config())
    resp = udp(d, ABC, rdtype, ecs=("127.1.0.0", 24))
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.flags & dns.flags.AA
    assert not resp.answer
    assert_soa_authority(resp, "cdn.acme.net.")
    assert outcome(d, "nodata") == 1


@pytest.mark.parametrize("name,rdclass", [("www.example.com", "IN"), ("net", "IN"),
                                          ("acme.net", "IN"), (ABC, "CH"),
                                          ("cdn.acme.net", "CH")])
def test_refused_outside_zones(daemons, name, rdclass):
    d = daemons(dns_config())
    resp = udp(d, name, "A" if rdclass == "IN" else "TXT", rdclass=rdclass)
    assert resp.rcode() == dns.rcode.REFUSED
    assert not resp.flags & dns.flags.AA
    assert not resp.answer and not resp.authority
    assert outcome(d, "refused") == 1


def test_node_refuses_zones_of_cdns_it_does_not_serve(daemons):
    """acme-n1 serves acme only (fig. 10): beta's and gamma's domains are
    not its zones; south-n1 serves acme and beta."""
    d = daemons(dns_config(), name="acme-n1")
    assert udp(d, "index.foo.cdn.beta.net").rcode() == dns.rcode.REFUSED
    assert udp(d, "cdn.gamma.net", "SOA").rcode() == dns.rcode.REFUSED
    assert udp(d, "cdn.acme.net", "SOA").rcode() == dns.rcode.NOERROR
    south = daemons(dns_config(), name="south-n1", node="south-n1")
    assert udp(south, "index.foo.cdn.beta.net").rcode() == dns.rcode.NOERROR
    assert udp(south, ABC).rcode() == dns.rcode.NOERROR
    assert udp(south, "cdn.gamma.net", "SOA").rcode() == dns.rcode.REFUSED


def test_apex_soa_and_ns_with_glue(daemons):
    d = daemons(dns_config(soa_serial=2024010101))
    soa = udp(d, "cdn.acme.net", "SOA")
    assert soa.rcode() == dns.rcode.NOERROR and soa.flags & dns.flags.AA
    assert len(soa.answer) == 1 and soa.answer[0].rdtype == dns.rdatatype.SOA
    rd = soa.answer[0][0]
    assert rd.serial == 2024010101
    assert rd.mname == dns.name.from_text("ns1.cdn.acme.net.")
    assert rd.rname == dns.name.from_text("hostmaster.peercdn.example.")

    ns = udp(d, "cdn.acme.net", "NS")
    assert ns.rcode() == dns.rcode.NOERROR and ns.flags & dns.flags.AA
    names = [r.target for rrset in ns.answer for r in rrset]
    assert names == [dns.name.from_text("ns1.cdn.acme.net.")]
    glue = {(rrset.name.to_text(), r.address) for rrset in ns.additional
            if rrset.rdtype == dns.rdatatype.A for r in rrset}
    assert glue == {("ns1.cdn.acme.net.", "127.10.0.53")}
    # The name server's own name answers with the anycast address.
    host = udp(d, "ns1.cdn.acme.net")
    assert addresses(host) == ["127.10.0.53"] and host.flags & dns.flags.AA
    # Any other type at the apex is NODATA.
    txt = udp(d, "cdn.acme.net", "TXT")
    assert txt.rcode() == dns.rcode.NOERROR and not txt.answer
    assert_soa_authority(txt, "cdn.acme.net.")
    assert outcome(d, "apex") == 3 and outcome(d, "nodata") == 1


@pytest.mark.parametrize("name", [ABC, "cdn.acme.net"])
def test_any_is_rfc8482_hinfo(daemons, name):
    d = daemons(dns_config())
    resp = udp(d, name, "ANY")
    assert resp.rcode() == dns.rcode.NOERROR and resp.flags & dns.flags.AA
    assert len(resp.answer) == 1
    rrset = resp.answer[0]
    assert rrset.rdtype == dns.rdatatype.HINFO and len(rrset) == 1
    assert rrset[0].cpu == b"RFC8482" and rrset[0].os == b""


def test_query_name_case_preserved(daemons):
    """0x20: the question and the answer owner keep the client's case."""
    d = daemons(dns_config())
    mixed = "Ad102.WeB.aBc.CDN.acme.NET."
    q = make_query(mixed, ecs=("127.1.0.0", 24))
    wire = q.to_wire()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.sendto(wire, ("127.0.0.1", d.dns_port))
        reply = s.recv(4096)
    resp = dns.message.from_wire(reply)
    assert resp.id == q.id and resp.rcode() == dns.rcode.NOERROR
    assert resp.question[0].name.to_text() == mixed
    assert resp.answer[0].name.to_text() == mixed
    assert b"\x05Ad102\x03WeB\x03aBc\x03CDN\x04acme\x03NET\x00" in reply
    # The apex keeps its case too (SOA in the authority of a NODATA).
    nodata = udp(d, "Ad102.Web.Abc.CDN.Acme.Net", "TXT")
    assert nodata.authority[0].name.to_text() == "CDN.Acme.Net."


@pytest.mark.parametrize("rdtype", ["AXFR", "IXFR"])
def test_zone_transfer_refused(daemons, rdtype):
    """The zones are synthesized and cannot be transferred: AXFR/IXFR get
    REFUSED (RFC 5936 section 2.2.1 / what Knot and BIND answer without an
    ACL), not an empty NOERROR that looks like a zone without records."""
    d = daemons(dns_config())
    q = make_query("cdn.acme.net", rdtype, edns=False)
    with socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT) as s:
        s.sendall(frame(q.to_wire()))
        (n,) = struct.unpack("!H", recv_exact(s, 2))
        reply = recv_exact(s, n)
    assert reply[:2] == q.to_wire()[:2]
    assert reply_rcode(reply) in (dns.rcode.REFUSED, dns.rcode.NOTIMP), \
        dns.message.from_wire(reply, one_rr_per_rrset=True)


# --- TC and TCP ---------------------------------------------------------------

def long_ns_config():
    cfg = dns_config()
    ns = [f"nameserver-number-{i:02d}-of-acme.cdn.acme.net" for i in range(20)]
    cdn(cfg, "acme")["dns"] = {"ns": ns}
    return cfg, ns


def test_tc_and_tcp_fallback(daemons):
    cfg, ns = long_ns_config()
    d = daemons(cfg)
    small = udp(d, "cdn.acme.net", "NS", edns=False)
    assert small.flags & dns.flags.TC
    assert small.rcode() == dns.rcode.NOERROR
    assert len(small.to_wire()) <= 512
    full = tcp(d, "cdn.acme.net", "NS", edns=False)
    assert not full.flags & dns.flags.TC
    assert full.flags & dns.flags.AA
    targets = sorted(r.target.to_text() for rrset in full.answer for r in rrset)
    assert targets == sorted(n + "." for n in ns)
    glue = {rrset.name.to_text() for rrset in full.additional
            if rrset.rdtype == dns.rdatatype.A}
    assert glue == {n + "." for n in ns}
    # dig falls back to TCP on its own on TC; +tcp asks over TCP directly.
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(d.dns_port), "+norec", "+noedns",
                          "+tcp", "+time=3", "+tries=1", "cdn.acme.net", "NS"],
                         capture_output=True, text=True, timeout=30).stdout
    assert "ANSWER: 20," in out and "(TCP)" in out, out
    assert metric(d, "peercdn_dns_truncated_total") >= 1
    assert metric(d, "peercdn_dns_tcp_accepted_total") >= 2


def test_edns_payload_fits_without_tc(daemons):
    """The same answer fits the 1232-byte EDNS payload; the reply advertises
    1232."""
    cfg, ns = long_ns_config()
    d = daemons(cfg)
    resp = udp(d, "cdn.acme.net", "NS", payload=4096)
    assert resp.payload == 1232
    assert len(resp.to_wire()) <= 1232
    if not resp.flags & dns.flags.TC:
        assert sum(len(r) for r in resp.answer) == len(ns)


def test_tcp_pipelining(daemons):
    d = daemons(dns_config())
    queries = [make_query(ABC, ecs=("127.1.0.0", 24)),
               make_query("cdn.acme.net", "SOA"),
               make_query("x.web.nobody.cdn.acme.net")]
    with socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT) as s:
        s.sendall(b"".join(frame(q.to_wire()) for q in queries))  # one write
        answers = {}
        for _ in queries:
            r = recv_frame(s)
            answers[r.id] = r
    assert set(answers) == {q.id for q in queries}
    assert addresses(answers[queries[0].id])[0] in ACME_EDGE
    assert answers[queries[1].id].answer[0].rdtype == dns.rdatatype.SOA
    assert answers[queries[2].id].rcode() == dns.rcode.NXDOMAIN
    assert metric(d, "peercdn_dns_tcp_queries_total") == 3


def test_tcp_partial_frames(daemons):
    """A query split over several writes is answered once complete."""
    d = daemons(dns_config())
    q = make_query(ABC, ecs=("127.2.0.0", 24))
    data = frame(q.to_wire())
    with socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(data), 7):
            s.sendall(data[i:i + 7])
            time.sleep(0.01)
        r = recv_frame(s)
    assert r.id == q.id and addresses(r) == ["127.2.200.1"]


def test_tcp_half_close_still_answered(daemons):
    """A client that shuts down its sending side after the query still gets
    the answer, then the server closes."""
    d = daemons(dns_config())
    q = make_query(ABC, ecs=("127.2.0.0", 24))
    with socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT) as s:
        s.sendall(frame(q.to_wire()))
        s.shutdown(socket.SHUT_WR)
        r = recv_frame(s)
        assert r.id == q.id and addresses(r) == ["127.2.200.1"]
        assert closed_by_peer(s, timeout=5)


def test_tcp_idle_timeout(daemons):
    d = daemons(dns_config(tcp_idle_timeout_ms=500))
    with socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT) as s:
        # It works while used...
        s.sendall(frame(make_query("cdn.acme.net", "SOA").to_wire()))
        assert recv_frame(s).rcode() == dns.rcode.NOERROR
        # ...and is closed by the server once idle (bounded wait).
        assert closed_by_peer(s, timeout=10)
    assert wait_until(lambda: metric(d, "peercdn_dns_tcp_timeout_total") == 1)


def test_tcp_max_per_source(daemons):
    d = daemons(dns_config(tcp_max_per_source=2))
    socks = []
    try:
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT)
            socks.append(s)
            s.sendall(frame(make_query("cdn.acme.net", "SOA").to_wire()))
            assert recv_frame(s).rcode() == dns.rcode.NOERROR
        third = socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT)
        socks.append(third)
        assert closed_by_peer(third, timeout=10)
        assert wait_until(lambda: metric(d, "peercdn_dns_tcp_refused_total") == 1)
        assert metric(d, "peercdn_dns_tcp_accepted_total") == 2
        # The first two still work.
        for s in socks[:2]:
            s.sendall(frame(make_query(ABC).to_wire()))
            assert recv_frame(s).rcode() == dns.rcode.NOERROR
        # Closing one frees a slot (the server notices the close).
        socks[0].close()

        def fourth_works():
            try:
                return tcp(d, "cdn.acme.net", "SOA").rcode() == dns.rcode.NOERROR
            except (EOFError, ConnectionError, socket.timeout, dns.exception.DNSException):
                return False

        assert wait_until(fourth_works, timeout=5)
    finally:
        for s in socks:
            s.close()


# --- answer modes: the server itself, a redirector (fig. 15), anycast (fig. 16)

def test_redirector_mode_fig15(daemons):
    cfg = dns_config()
    cdn(cfg, "acme")["dns"] = {"mode": "redirector",
                               "redirectors": ["127.1.255.10", "127.1.255.11"]}
    d = daemons(cfg)
    resp = udp(d, ABC, ecs=("127.1.0.0", 24))
    assert sorted(addresses(resp)) == ["127.1.255.10", "127.1.255.11"]
    assert resp.answer[0].ttl == 0
    # A PEER decision is served by beta, whose mode is still `server`.
    peer = udp(d, ABC, ecs=("127.2.0.0", 24))
    assert addresses(peer) == ["127.2.200.1"]
    assert branch(d, "PRIMARY") == 1 and branch(d, "PEER") == 1


def test_anycast_mode_fig16(daemons):
    cfg = dns_config()
    acme = cdn(cfg, "acme")
    acme["dns"] = {"mode": "anycast"}
    acme["anycast"]["rtsp"] = ["127.10.0.2"]
    d = daemons(cfg)
    # A web name gets the CDN's HTTP redirector anycast address...
    assert addresses(udp(d, ABC, ecs=("127.1.0.0", 24))) == ["127.10.0.1"]
    # ...an RTSP (tv) name its RTSP one.
    assert addresses(udp(d, "chan4.abc.tv.cdn.acme.net",
                         ecs=("127.1.0.0", 24))) == ["127.10.0.2"]


def test_per_service_answer_mode(daemons):
    """dns_mode of a service overrides the CDN's mode."""
    cfg = dns_config()
    cdn(cfg, "acme")["dns"] = {"redirectors": ["127.1.255.10"]}
    service(cfg, "tv")["dns_mode"] = "anycast"
    d = daemons(cfg)
    assert addresses(udp(d, ABC, ecs=("127.1.0.0", 24)))[0] in ACME_EDGE
    assert addresses(udp(d, "chan4.abc.tv.cdn.acme.net",
                         ecs=("127.1.0.0", 24))) == ["127.10.0.1"]


# --- figures 12 and 14 -----------------------------------------------------

def test_fig12_grades_of_two_providers_give_different_tiers(daemons):
    """Fig. 12: N1* returns near edge servers S1/S2 for ABC (gold) but the
    farther core server for NBC (bronze), for the same client."""
    d = daemons(dns_config())
    for _ in range(3):
        abc = udp(d, ABC, ecs=("127.1.0.0", 24))
        nbc = udp(d, "ad102.web.nbc.cdn.acme.net", ecs=("127.1.0.0", 24))
        assert addresses(abc)[0] in ACME_EDGE
        assert addresses(nbc) == ["127.1.201.1"]
    assert branch(d, "PRIMARY") == 6


def test_fig12_nodes_sharing_the_anycast_name(daemons):
    """N1* (acme-n1, AS 100) and N3* (south-n1, AS 500, affiliate of acme
    and beta) both answer cdn.acme.net names, each locating an unknown
    client at itself; beta-n1 does not serve cdn.acme.net."""
    n1 = daemons(dns_config(), name="n1", node="acme-n1")
    n3 = daemons(dns_config(), name="n3", node="south-n1")
    beta = daemons(dns_config(), name="beta", node="beta-n1")
    for d in (n1, n3):
        resp = udp(d, ABC, edns=False)
        assert resp.flags & dns.flags.AA
        assert addresses(resp)[0] in ACME_ALL
        assert branch(d, "PRIMARY") == 1
    assert udp(beta, ABC).rcode() == dns.rcode.REFUSED
    assert udp(beta, "index.foo.cdn.beta.net", edns=False).rcode() == dns.rcode.NOERROR


def fig14_config():
    """Fig. 14: AS 100 and AS 200 are the content backbone with S1-S4; AS 300
    is an affiliate without servers, where N3* runs."""
    port, metrics = free_port(), free_port()
    while metrics == port:
        metrics = free_port()

    def server(name, asn, address):
        return {"name": name, "cdn": "cb", "as": asn, "addresses": [address],
                "tier": "edge", "services": ["web"], "capacity": 100}
    return {
        "version": 1,
        "self": "n3",
        "tiers": ["edge"],
        "services": [{"name": "web"}],
        "grades": [{"name": "silver", "tiers": ["edge"]}],
        "ases": [{"asn": 100, "name": "as100"}, {"asn": 200, "name": "as200"},
                 {"asn": 300, "name": "as300"}],
        "links": [{"a": 100, "b": 200, "cost": 30}, {"a": 200, "b": 300, "cost": 5},
                  {"a": 100, "b": 300, "cost": 40}],
        "cdns": [{"name": "cb", "domain": "cdn.cb.net", "backbone": [100, 200],
                  "affiliates": [300], "anycast": {"dns": ["127.40.0.53"]}}],
        "clients": [{"prefix": "127.41.0.0/16", "as": 100},
                    {"prefix": "127.42.0.0/16", "as": 200},
                    {"prefix": "127.43.0.0/16", "as": 300}],
        "providers": [{"name": "abc", "primary": ["cb"], "grade": "silver"}],
        "servers": [server("S1", 100, "127.41.200.1"), server("S2", 100, "127.41.200.2"),
                    server("S3", 200, "127.42.200.1"), server("S4", 200, "127.42.200.2")],
        "nodes": [{"name": "n3", "as": 300, "cdns": ["cb"], "addresses": ["127.43.255.1"]}],
        "dns": {"listen": ["127.0.0.1"], "port": port, "workers": 2},
        "control": {"metrics_port": metrics, "metrics_listen": "127.0.0.1"},
    }


def test_fig14_affiliate_node_without_servers(daemons):
    """N3* in AS 300 has no co-located server; it answers with the backbone
    server nearest the client (the server's own address, not a redirector)."""
    d = daemons(fig14_config())
    near_300 = {"127.42.200.1", "127.42.200.2"}  # AS 200 is 5 away, AS 100 35
    # Without ECS the capturing node stands in for the client.
    assert addresses(udp(d, "obj1.web.abc.cdn.cb.net", edns=False))[0] in near_300
    assert addresses(udp(d, "obj1.web.abc.cdn.cb.net", ecs=("127.43.7.0", 24)))[0] in near_300
    resp = udp(d, "obj2.web.abc.cdn.cb.net", ecs=("127.41.0.0", 24))
    assert addresses(resp)[0] in {"127.41.200.1", "127.41.200.2"}
    assert ecs_of(resp).scopelen == 16
    assert branch(d, "PRIMARY") == 3 and branch(d, "PEER") == 0
    ns = udp(d, "cdn.cb.net", "NS")
    assert {r.address for rrset in ns.additional for r in rrset} == {"127.40.0.53"}


# --- signed and encrypted names -----------------------------------------------

def tamper(label):
    """The same signed label with one character of the signature changed."""
    i = 5
    return label[:i] + ("a" if label[i] != "a" else "b") + label[i + 1:]


def test_signed_names_refused_when_bad(daemons):
    d = daemons(dns_config(), node="gamma-n1")
    signed = make_name(d, "--provider", "news", "--service", "live", "--object", "chan7",
                       "--sign")
    assert signed.startswith("s-") and signed.endswith(".chan7.live.news.cdn.gamma.net")
    good = udp(d, signed, ecs=("127.6.0.0", 24))
    assert good.rcode() == dns.rcode.NOERROR and addresses(good) == ["127.6.200.1"]
    sig, rest = signed.split(".", 1)
    bad = [rest,                                        # unsigned
           tamper(sig) + "." + rest,                   # tampered signature
           sig + "." + rest.replace("chan7", "chan8", 1)]  # tampered object
    for name in bad:
        resp = udp(d, name, ecs=("127.6.0.0", 24))
        assert resp.rcode() == dns.rcode.REFUSED, (name, resp)
        assert not resp.answer
    # Over TCP too.
    assert tcp(d, rest).rcode() == dns.rcode.REFUSED
    assert outcome(d, "refused") == 4 and outcome(d, "answer") == 1
    assert outcome(d, "decoy") == 0


def test_signed_names_decoy(daemons):
    d = daemons(dns_config(bad_signature="decoy", decoy=["127.0.0.9", "::9"]),
                node="gamma-n1")
    signed = make_name(d, "--provider", "news", "--service", "live", "--object", "chan7",
                       "--sign")
    assert addresses(udp(d, signed)) == ["127.6.200.1"]
    sig, rest = signed.split(".", 1)
    for name in (rest, tamper(sig) + "." + rest):
        resp = udp(d, name)
        assert resp.rcode() == dns.rcode.NOERROR and resp.flags & dns.flags.AA
        assert addresses(resp) == ["127.0.0.9"]
    six = udp(d, rest, "AAAA")
    assert addresses(six, dns.rdatatype.AAAA) == ["::9"]
    assert outcome(d, "decoy") == 3
    # The decoy is not a policy decision.
    assert branch(d, "PRIMARY") + branch(d, "PEER") + branch(d, "OUTSIDE") == 1


def test_encrypted_name_answered(daemons):
    d = daemons(dns_config())
    name = make_name(d, "--provider", "abc", "--service", "web", "--object", "ad102",
                     "--encrypt")
    assert name.endswith(".cdn.acme.net") and "ad102" not in name
    resp = udp(d, name, ecs=("127.2.0.0", 24))
    assert resp.rcode() == dns.rcode.NOERROR
    assert addresses(resp) == ["127.2.200.1"]  # decrypted: abc web, PEER via beta
    assert branch(d, "PEER") == 1
    # A corrupted ciphertext is not a name of ours.
    label, rest = name.split(".", 1)
    broken = udp(d, tamper(label) + "." + rest)
    assert broken.rcode() in (dns.rcode.NXDOMAIN, dns.rcode.REFUSED), broken
    assert not broken.answer


# --- SIGHUP -------------------------------------------------------------------

def test_sighup_good_and_broken_config(daemons):
    cfg = dns_config()
    d = daemons(cfg)
    assert udp(d, ABC).answer[0].ttl == 0
    service(cfg, "web")["dns_ttl"] = 42
    d.write_config()
    d.signal(signal.SIGHUP)
    d.wait_log("msg=reloaded")
    assert udp(d, ABC).answer[0].ttl == 42
    assert metric(d, "peercdn_reloads_total") == 1
    assert metric(d, "peercdn_config_generation") == 2

    # A broken file is rejected; the previous config keeps answering.
    d.write_config(d.config_path.read_text().replace("name: web", "name: web\n  bogus_key: 1", 1))
    d.signal(signal.SIGHUP)
    d.wait_log("msg=reload-rejected")
    assert "msg=config-error" in d.log()
    assert udp(d, ABC).answer[0].ttl == 42
    assert tcp(d, ABC).answer[0].ttl == 42
    assert metric(d, "peercdn_reload_failures_total") == 1
    assert metric(d, "peercdn_reloads_total") == 1
    assert metric(d, "peercdn_config_generation") == 2

    # Unparsable YAML too.
    d.write_config("version: 1\nservers: [unclosed\n")
    d.signal(signal.SIGHUP)
    d.wait_log("msg=reload-rejected", count=2)
    assert udp(d, ABC).answer[0].ttl == 42
    assert metric(d, "peercdn_reload_failures_total") == 2


# --- UDP threads ----------------------------------------------------------------

RECVMMSG = {"x86_64": 299, "aarch64": 243}  # the system call's number


def udp_threads(pid, role):
    """The /proc task directories of the daemon's UDP threads of a role."""
    found = []
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == f"udp-{role}":
                found.append(task)
        except FileNotFoundError:
            pass
    return found


def test_udp_sockets_served_by_threads_blocked_in_recvmmsg(daemons):
    """Each UDP socket of the role has a thread of its own that blocks in
    recvmmsg, as gdnsd's do (no epoll_wait before each receive): one per
    worker and listen address. While they wait, a reload's RCU grace period
    does not wait for them; the answers count in the metrics whichever
    thread gave them; SIGTERM stops them (the fixture checks the exit)."""
    cfg = dns_config(listen=["127.0.0.1", "127.0.0.2"])  # two workers
    d = daemons(cfg)
    threads = udp_threads(d.proc.pid, "dns")
    assert len(threads) == 4, [t.name for t in threads]
    nr = RECVMMSG.get(platform.machine())
    if nr is not None:  # elsewhere the count above is the check
        def all_waiting():
            return all((t / "syscall").read_text().split()[0] == str(nr) for t in threads)
        assert wait_until(all_waiting), [(t / "syscall").read_text() for t in threads]
    sent = 0
    for host in ("127.0.0.1", "127.0.0.2"):
        for _ in range(20):
            assert udp(d, ABC, host=host).answer[0].ttl == 0
            sent += 1
    assert metric(d, "peercdn_dns_udp_queries_total") == sent
    assert sum(branch(d, b) for b in ("PRIMARY", "PEER", "OUTSIDE")) == sent

    service(cfg, "web")["dns_ttl"] = 42
    d.write_config()
    d.signal(signal.SIGHUP)
    d.wait_log("msg=reloaded")
    for host in ("127.0.0.1", "127.0.0.2"):
        assert udp(d, ABC, host=host).answer[0].ttl == 42
    assert metric(d, "peercdn_dns_udp_queries_total") == sent + 2
    assert len(udp_threads(d.proc.pid, "dns")) == 4


# --- response rate limiting -----------------------------------------------------

def test_rrl_slip_and_drop(daemons):
    d = daemons(dns_config(rrl={"rate": 5, "slip": 2}))
    queries = [make_query(ABC, ecs=("127.1.0.0", 24)) for _ in range(60)]
    full = tc_only = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for q in queries:
            s.sendto(q.to_wire(), ("127.0.0.1", d.dns_port))
        s.settimeout(1.0)
        for _ in queries:  # bounded: at most one reply per query
            try:
                r = dns.message.from_wire(s.recv(4096))
            except socket.timeout:
                break
            if r.flags & dns.flags.TC:
                assert not r.answer and not r.additional
                tc_only += 1
            else:
                assert addresses(r)
                full += 1
    missing = len(queries) - full - tc_only
    assert full >= 1 and tc_only >= 1 and missing >= 1, (full, tc_only, missing)
    assert metric(d, "peercdn_dns_rrl_slip_total") == tc_only
    assert metric(d, "peercdn_dns_rrl_drop_total") == missing
    assert metric(d, "peercdn_dns_udp_queries_total") == 60
    # TCP is not rate limited: the fallback of a slipped client works.
    assert addresses(tcp(d, ABC, ecs=("127.1.0.0", 24)))[0] in ACME_EDGE



def test_rrl_before_the_decision(daemons):
    """Response rate limiting comes before the policy decision, as in the
    CDSR role: a flood that RRL drops or slips spends no peering-agreement
    capacity and no decision. Slipped answers are TC with the question, made
    from the query alone, and the OPT record of the query's (RFC 6891 §7, as
    BIND's slip: DO copied); packets dropped anyway (too short, QR set) cost
    no RRL token."""
    d = daemons(dns_config(rrl={"rate": 5, "slip": 2}))
    q = make_query(ABC, ecs=("127.2.0.0", 24))  # PEER in beta, under acme-beta
    q.want_dnssec(True)
    full = tc_only = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(60):
            s.sendto(q.to_wire(), ("127.0.0.1", d.dns_port))
        s.settimeout(1.0)
        for _ in range(60):  # bounded: at most one reply per query
            try:
                r = dns.message.from_wire(s.recv(4096))
            except socket.timeout:
                break
            if r.flags & dns.flags.TC:
                assert not r.answer and not r.authority and not r.additional, r
                assert r.question[0].name == dns.name.from_text(ABC), r
                assert r.rcode() == dns.rcode.NOERROR, r
                assert r.edns == 0 and r.ednsflags & dns.flags.DO, r
                tc_only += 1
            else:
                assert addresses(r) == ["127.2.200.1"], r
                full += 1
    assert full >= 1 and tc_only >= 1, (full, tc_only)
    m = d.metrics()
    assert m['peercdn_agreement_decisions_total{agreement="acme-beta"}'] == full
    assert m['peercdn_dns_decisions_total{branch="PEER"}'] == full
    assert m['peercdn_dns_responses_total{outcome="answer"}'] == full
    assert m["peercdn_dns_rrl_slip_total"] == tc_only
    assert m["peercdn_dns_rrl_drop_total"] == 60 - full - tc_only


# --- malformed packets ------------------------------------------------------------

NOTIMP = dns.rcode.NOTIMP
FORMERR = dns.rcode.FORMERR
MALFORMED_EXPECT = {
    "truncated_header": None,      # None: dropped silently
    "qdcount_0": FORMERR,
    "qdcount_5": FORMERR,
    "compression_loop": FORMERR,
    "compression_forward": FORMERR,
    "label_over_63": FORMERR,
    "name_over_255": FORMERR,
    "bad_edns_version": dns.rcode.BADVERS,
    "garbage": NOTIMP,             # its opcode byte says IQUERY
    "response_bit": None,          # never answer a response (reflection)
    "opcode_notify": NOTIMP,
    "question_cut": FORMERR,
    "trailing_garbage": FORMERR,
    "answer_in_query": FORMERR,
    "two_opt": FORMERR,
    "question_compressed": FORMERR,
    "opt_owner_not_root": FORMERR,
    "ecs_bad_family": FORMERR,
    "ecs_source_too_long": FORMERR,
    "ecs_nonzero_scope": FORMERR,
    "ecs_host_bits": FORMERR,
    "notimp_edns1": dns.rcode.BADVERS,
    "qdcount_0_edns1": dns.rcode.BADVERS,
    "answer_in_query_edns1": dns.rcode.BADVERS,
    "opt_option_cut": FORMERR,
}
OUTCOME_OF = {None: "dropped", FORMERR: "formerr", dns.rcode.BADVERS: "badvers",
              NOTIMP: "notimp"}


@pytest.fixture(scope="module")
def malformed(tmp_path_factory):
    return dict(gen_dns_corpus.main(tmp_path_factory.mktemp("corpus")))


def reply_rcode(wire):
    """The rcode of a reply, extended by its OPT record when it has one."""
    try:
        return dns.message.from_wire(wire).rcode()
    except dns.exception.DNSException:
        return wire[3] & 0x0F  # a header-only reply dnspython may refuse


def test_malformed_corpus_covers_the_issue(malformed):
    assert set(MALFORMED_EXPECT) == set(malformed)


def test_malformed_packets_udp(daemons, malformed):
    d = daemons(dns_config())
    got = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name, wire in sorted(malformed.items()):
            s.sendto(wire, ("127.0.0.1", d.dns_port))
            s.settimeout(1.0 if MALFORMED_EXPECT[name] is None else TIMEOUT)
            try:
                reply = s.recv(4096)
                assert len(reply) >= 12 and reply[:2] == wire[:2], name  # same id
                assert reply[2] & 0x80, name                             # QR
                got[name] = reply_rcode(reply)
            except socket.timeout:
                got[name] = None
            # Still alive after each one.
            assert udp(d, "cdn.acme.net", "SOA").rcode() == dns.rcode.NOERROR, name
    # Every packet is counted under the outcome it got.
    m = d.metrics()
    for rcode, what in OUTCOME_OF.items():
        want = sum(1 for v in got.values() if v == rcode)
        assert m[f'peercdn_dns_responses_total{{outcome="{what}"}}'] == want, what
    n = len(malformed)
    answered = sum(1 for v in got.values() if v == dns.rcode.NOERROR)
    assert m["peercdn_dns_responses_total{outcome=\"apex\"}"] == n
    assert m["peercdn_dns_responses_total{outcome=\"answer\"}"] == answered
    assert m["peercdn_dns_udp_queries_total"] == 2 * n
    assert addresses(udp(d, ABC, ecs=("127.2.0.0", 24))) == ["127.2.200.1"]
    # And each got what the RFCs ask for.
    wrong = {k: (v, MALFORMED_EXPECT[k]) for k, v in got.items() if v != MALFORMED_EXPECT[k]}
    assert not wrong, f"(got, expected): {wrong}"


def test_malformed_packets_tcp(daemons, malformed):
    """Over TCP each malformed message is answered on the same connection
    (or skipped); a frame shorter than a header closes it."""
    d = daemons(dns_config())
    wrong = {}
    with socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT) as s:
        for name, wire in sorted(malformed.items()):
            if len(wire) < 12:
                continue
            s.sendall(frame(wire))
            if MALFORMED_EXPECT[name] is None:
                continue
            (n,) = struct.unpack("!H", recv_exact(s, 2))
            reply = recv_exact(s, n)
            assert reply[:2] == wire[:2], name
            if reply_rcode(reply) != MALFORMED_EXPECT[name]:
                wrong[name] = (reply_rcode(reply), MALFORMED_EXPECT[name])
        s.sendall(frame(make_query("cdn.acme.net", "SOA").to_wire()))
        assert recv_frame(s).answer[0].rdtype == dns.rdatatype.SOA
    with socket.create_connection(("127.0.0.1", d.dns_port), timeout=TIMEOUT) as s:
        s.sendall(frame(malformed["truncated_header"]))
        assert closed_by_peer(s, timeout=5)
    assert wait_until(lambda: metric(d, "peercdn_dns_tcp_bad_frame_total") == 1)
    assert udp(d, "cdn.acme.net", "SOA").rcode() == dns.rcode.NOERROR
    assert not wrong, f"(got, expected): {wrong}"


def test_ecs_host_bits_beyond_source_is_formerr(daemons):
    """RFC 7871 section 6: address bits set beyond SOURCE PREFIX-LENGTH SHOULD
    get FORMERR (dns_answer.c's ecs_valid() means to check it)."""
    d = daemons(dns_config())
    plain = gen_dns_corpus.query(ABC, edns=None)
    wire = gen_dns_corpus.with_opt(plain, gen_dns_corpus.ecs_opt(1, 20, 0, b"\x7f\x02\x0f"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.sendto(wire, ("127.0.0.1", d.dns_port))
        reply = s.recv(4096)
    assert reply_rcode(reply) == dns.rcode.FORMERR, dns.message.from_wire(reply)
    assert outcome(d, "formerr") == 1


def test_oversized_and_random_udp(daemons):
    """Random bytes of many lengths and an oversized datagram: no crash, and
    every datagram counted."""
    import random
    rng = random.Random(3)
    d = daemons(dns_config())
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for length in list(range(0, 40)) + [100, 511, 512, 513, 1500, 4096, 8000]:
            s.sendto(bytes(rng.randrange(256) for _ in range(length)),
                     ("127.0.0.1", d.dns_port))
            sent += 1
    resp = udp(d, ABC, ecs=("127.2.0.0", 24))
    assert addresses(resp) == ["127.2.200.1"]
    assert wait_until(lambda: metric(d, "peercdn_dns_udp_queries_total") == sent + 1)
    assert metric(d, "peercdn_dns_udp_oversize_total") >= 1
