"""A clean stop of an overlay router (docs/overlay.md, "GOODBYE"), on the
eight routers of test_overlay.py with its test stream from acme-n1 to
beta-n3 and gamma-n2, which runs through the relay beta-n2.

- SIGTERM to the relay beta-n2 mid-stream: it sends GOODBYE on every
  link and keeps forwarding; its neighbours take it out of their routes at
  once (link_cuts_total{reason="goodbye"}), beta-n3 re-joins through
  beta-n1 and PRUNEs beta-n2 over the link that is still up, and beta-n2
  stops as soon as no child is left (`overlay-left reason=children-moved`,
  with a grace of 10 s that it does not use). Every subscriber's block
  sequence has no gap and no duplicate, and the relay exits 0. The longest
  interval between blocks at beta-n3 around the stop is printed beside the
  stream's own (the assertions are the structure above, not times: the
  shared machine is noisy).
- A child that does not move (a fake neighbour in Python, joined to the
  stream through beta-n2, which reads the GOODBYE and ignores it, as a
  router of a version without GOODBYE would): beta-n2 forwards to it until
  its grace is over, then stops (`reason=grace children=1`); the real
  subscribers move as before, without a gap.

The SIGKILL of the same relay is test_overlay.py's (no goodbye: the
closed connections tell the neighbours). Every process is stopped by PID;
every wait is bounded."""
import re
import signal
import socket
import struct

import pytest

from conftest import free_port
from test_overlay import (LINKS, ROUTERS, STREAM, SUBSCRIBERS, blocks, fnv1a, links_up, metric,
                          router_configs, routes, wait_until)
from test_overlay_faults import (FAKE_ID, FAKE_KEY, FakeRouter, join_body, no_gap_no_duplicate,
                                 sent)

RELAY = "beta-n2"
EXIT_S = 30  # s: a bound for the stopped daemon's exit, far above any grace here
GOODBYE = 8  # the frame type


class ListeningFake(FakeRouter):
    """A fake neighbour that reads the router's frames by their headers
    (the type is in the clear) and counts each type; it never acts on a
    GOODBYE."""

    def __init__(self, *args, **kwargs):
        self.types = {}
        self.buf = b""
        super().__init__(*args, **kwargs)

    def _drain(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError:
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.buf += data
            while len(self.buf) >= 24:
                length = struct.unpack("!I", self.buf[8:12])[0]
                whole = 24 + length + 16
                if len(self.buf) < whole:
                    break
                t = self.buf[3]
                self.types[t] = self.types.get(t, 0) + 1
                self.buf = self.buf[whole:]


@pytest.fixture
def overlay(daemons):
    def start(relay_grace_ms, fake=False):
        configs, ports = router_configs(free_port())
        del configs["acme-n1"]["health"]  # the stream's blocks alone on the links
        configs[RELAY]["overlay"]["stop_grace_ms"] = relay_grace_ms
        if fake:
            configs[RELAY]["overlay"]["neighbours"].append(
                {"node": str(FAKE_ID), "address": "127.0.0.1:9", "key": FAKE_KEY, "cost": 10})
        routers = {name: daemons(cfg, name=name, node=name) for name, cfg in configs.items()}
        ids = {name: fnv1a(name) for name in ROUTERS}
        degree = {name: sum(name in (a, b) for a, b, _ in LINKS) for name in ROUTERS}
        for name, d in routers.items():
            wait_until(lambda: links_up(d) == degree[name], what=f"{name}'s links up")
        wait_until(lambda: routes(routers["beta-n3"]).get(ids["acme-n1"]) == ids[RELAY],
                   what="beta-n3's stream runs through the relay")
        for name in SUBSCRIBERS:
            wait_until(lambda: len(blocks(routers[name])) >= 30,
                       what=f"{name} receives the stream")
        return routers, ports, ids

    return start


def stop_relay(routers):
    """SIGTERM to the relay; its exit status once it is gone (bounded)."""
    relay = routers[RELAY]
    relay.signal(signal.SIGTERM)
    code = relay.proc.wait(timeout=EXIT_S)
    relay._log.close()  # the fixture's stop finds it gone
    return code


def arrivals_ns(d):
    """When each test block reached d, by the publisher's monotonic clock
    (sent_ns + age_ns: the same clock on every process of the machine)."""
    return [int(s) + int(a) for s, a in
            re.findall(rf"msg=overlay-test-block channel={STREAM} source=\d+ seq=\d+ "
                       r"payload=\S+ bytes=\d+ sent_ns=(\d+) age_ns=(\d+)", d.log())]


def longest_gap_ms(times, lo, hi):
    window = [t for t in times if lo <= t <= hi]
    return max((b - a for a, b in zip(window, window[1:])), default=0) / 1e6


def before(log, first, then):
    """Whether `first` occurs in log, before `then` (or `then` not at all)."""
    a, b = log.find(first), log.find(then)
    return a >= 0 and (b < 0 or a < b)


def test_sigterm_relay_no_gap(overlay):
    routers, _, ids = overlay(relay_grace_ms=10000)
    b3 = routers["beta-n3"]
    n = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
    code = stop_relay(routers)
    assert code == 0, routers[RELAY].log()[-3000:]
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= n[name] + 100,
                   what=f"{name} receives the stream after the stop")
        no_gap_no_duplicate(name, blocks(routers[name]))
    assert routes(b3).get(ids["acme-n1"]) == ids["beta-n1"], "beta-n3 re-routed"

    # The relay said goodbye and stopped because its child moved, not at
    # the end of its grace: beta-n3 had pruned it over the open link.
    log = routers[RELAY].log()
    assert re.search(r"msg=overlay-leaving neighbours=2 children=[1-9]", log), log[-3000:]
    left = re.search(r"msg=overlay-left reason=(\S+) ms=(\d+) children=(\d+)", log)
    assert left and left.group(1) == "children-moved" and left.group(3) == "0", log[-3000:]
    assert before(log, "msg=overlay-left", "msg=stopped")
    # Its neighbours routed around it on its GOODBYE, before its link closed.
    for name in ("beta-n1", "beta-n3"):
        d = routers[name]
        assert metric(d, "peercdn_overlay_link_cuts_total", neighbour=RELAY,
                      reason="goodbye") == 1, name
        assert before(d.log(), f"msg=overlay-link-goodbye neighbour={RELAY}",
                      f"msg=overlay-link-down neighbour={RELAY}"), name
    rerouted = re.search(rf"msg=overlay-rerouted around={RELAY} channels=(\d+)", b3.log())
    assert rerouted and int(rerouted.group(1)) >= 1, "beta-n3 re-joined on the GOODBYE"
    assert metric(routers["gamma-n1"], "peercdn_overlay_link_cuts_total", neighbour="beta-n3",
                  reason="goodbye") == 0, "only the relay's neighbours were told"

    # The silence a subscriber saw: printed, with the stream's own.
    times = arrivals_ns(b3)
    stop_at = times[n["beta-n3"]] if len(times) > n["beta-n3"] else times[-1]
    own = longest_gap_ms(times, times[max(n["beta-n3"] - 200, 0)], stop_at)
    around = longest_gap_ms(times, stop_at, stop_at + 2_000_000_000)
    print(f"\nSIGTERM of {RELAY}: left after {left.group(2)} ms (children moved); longest"
          f" interval between blocks at beta-n3: {around:.1f} ms in the 2 s after the stop,"
          f" {own:.1f} ms in the 200 blocks before (the stream: one every 10 ms)")


def test_sigterm_relay_grace_bounds_a_child_that_stays(overlay):
    routers, ports, ids = overlay(relay_grace_ms=1500, fake=True)
    b2 = routers[RELAY]
    fake = ListeningFake(ports[RELAY], FAKE_ID, ids[RELAY], FAKE_KEY, "beta")
    try:
        wait_until(lambda: metric(b2, "peercdn_overlay_link_up", neighbour=str(FAKE_ID),
                                  id=str(FAKE_ID)) == 1, what="the fake's link up")
        fake.send(5, join_body(ids["acme-n1"], STREAM.encode()))
        wait_until(lambda: sent(b2, str(FAKE_ID)) >= 10, what="the fake receives the stream")
        n = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
        code = stop_relay(routers)
        assert code == 0, b2.log()[-3000:]
        assert fake.types.get(GOODBYE) == 1, fake.types
        wait_until(lambda: fake.closed, what="the relay closed the fake's link")
    finally:
        fake.close()
    log = b2.log()
    left = re.search(r"msg=overlay-left reason=(\S+) ms=(\d+) children=(\d+)", log)
    assert left and left.group(1) == "grace" and left.group(3) == "1", log[-3000:]
    assert int(left.group(2)) >= 1500
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= n[name] + 100,
                   what=f"{name} receives the stream after the stop")
        no_gap_no_duplicate(name, blocks(routers[name]))
    assert metric(routers["beta-n3"], "peercdn_overlay_link_cuts_total", neighbour=RELAY,
                  reason="goodbye") == 1
    print(f"\nSIGTERM of {RELAY} with a child that stays: left after {left.group(2)} ms"
          " (grace 1500 ms)")

