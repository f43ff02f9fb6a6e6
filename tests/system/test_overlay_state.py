"""Channel state that outlives what created it, on the eight routers of
test_overlay.py with the test stream from acme-n1 to beta-n3 and gamma-n2,
JOINs repeated every 300 ms (`overlay.join_refresh_ms`) and no health role.

- JOIN as soft state: a fake router in Python (test_overlay_faults.py's)
  joins the stream at beta-n2 and repeats its JOIN for a while: it keeps
  receiving, and the real children's repetitions resend nothing. Then it
  falls silent with its link still up (heartbeats go on): within 3
  intervals beta-n2 stops sending it blocks (counted as joins_expired),
  while the real subscribers' stream goes on.
- Channel epochs: acme-n1, the publishing router, is killed with SIGKILL
  mid-stream and restarted; it numbers its blocks from 1 again under a new
  epoch, and every subscriber takes the new stream from its first block:
  its log is the old stream without gap or duplicate, then 1, 2, 3 ...

Every process is stopped by PID; every wait is bounded."""
import struct
import threading
import time

import pytest

from conftest import free_port
from test_overlay import (DEADLINE, LINKS, ROUTERS, STREAM, SUBSCRIBERS, blocks, fnv1a, links_up,
                          metric, routes, router_configs, wait_until)
from test_overlay_faults import (FAKE_ID, FAKE_KEY, FakeRouter, chan, join_body,
                                 no_gap_no_duplicate, sent, stable)

REFRESH_MS = 300


@pytest.fixture
def routers(daemons):
    configs, ports = router_configs(free_port())
    del configs["acme-n1"]["health"]
    for cfg in configs.values():
        cfg["overlay"].update({"join_refresh_ms": REFRESH_MS, "slow_link_ms": 400})
    configs["beta-n2"]["overlay"]["neighbours"].append(
        {"node": str(FAKE_ID), "address": "127.0.0.1:9", "key": FAKE_KEY, "cost": 10})
    return {name: daemons(cfg, name=name, node=name) for name, cfg in configs.items()}, ports


def split_at_restart(seq):
    """The old stream and the new one: the log's block numbers cut where
    they fall back."""
    for i in range(1, len(seq)):
        if seq[i] <= seq[i - 1]:
            return seq[:i], seq[i:]
    return seq, []


def test_soft_state_joins_and_restarted_source(routers):
    routers, ports = routers
    ids = {name: fnv1a(name) for name in ROUTERS}
    degree = {name: sum(name in (a, b) for a, b, _ in LINKS) for name in ROUTERS}
    degree["beta-n2"] += 1  # the fake, once it dials
    for name, d in routers.items():
        if name != "beta-n2":
            wait_until(lambda: links_up(d) == degree[name], what=f"{name}'s links up")
    wait_until(lambda: routes(routers["beta-n3"]).get(ids["acme-n1"]) == ids["beta-n2"],
               what="beta-n3 reaches acme-n1 through beta-n2")
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= 30, what=f"{name} receives the stream")

    # --- a child that repeats its JOIN keeps its branch ---
    b2 = routers["beta-n2"]
    fake = FakeRouter(ports["beta-n2"], FAKE_ID, ids["beta-n2"], FAKE_KEY, "beta")
    label = str(FAKE_ID)
    wait_until(lambda: metric(b2, "peercdn_overlay_link_up", neighbour=label, id=label) == 1,
               what="the fake's link up at beta-n2")
    refreshing = threading.Event()
    refreshing.set()

    def repeat():
        while refreshing.is_set():
            fake.send(5, join_body(ids["acme-n1"], STREAM.encode()))
            time.sleep(REFRESH_MS / 1000)
    threading.Thread(target=repeat, daemon=True).start()
    wait_until(lambda: sent(b2, label) > 0, what="beta-n2 sends the fake the stream")
    refreshes, resent = chan(b2, "refreshes"), chan(b2, "blocks_resent")
    got = sent(b2, label)
    time.sleep(6 * REFRESH_MS / 1000)  # twice the expiry: only the repetitions keep it
    assert sent(b2, label) > got, "a child that repeats its JOIN keeps receiving"
    assert chan(b2, "joins_expired") == 0
    assert chan(b2, "refreshes") >= refreshes + 6, "the fake's and beta-n3's repetitions"
    assert chan(b2, "blocks_resent") == resent, "a repeated JOIN resends nothing"

    # --- it falls silent, its link up: pruned within 3 intervals ---
    refreshing.clear()
    silent_at = time.monotonic()
    wait_until(lambda: chan(b2, "joins_expired") >= 1, timeout=DEADLINE,
               what="beta-n2 drops the silent child")
    print(f"\nsilent child dropped {(time.monotonic() - silent_at) * 1000:.0f} ms after its "
          f"last JOIN (refresh {REFRESH_MS} ms, expiry 3 intervals, checked every second)")
    stopped = stable(lambda: sent(b2, label), settle=1.0, timeout=10)
    n = {name: len(blocks(routers[name])) for name in SUBSCRIBERS}
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= n[name] + 50,
                   what=f"{name}'s stream goes on")
    assert sent(b2, label) == stopped, "the pruned branch carries nothing"
    assert not fake.closed
    assert metric(b2, "peercdn_overlay_link_up", neighbour=label, id=label) == 1
    fake.close()
    for name in SUBSCRIBERS:
        no_gap_no_duplicate(name, blocks(routers[name]))
    for name, d in routers.items():
        assert chan(d, "duplicates") == 0, name

    # --- the publishing router restarts: a new stream from block 1 ---
    src = routers["acme-n1"]
    for name in SUBSCRIBERS:
        wait_until(lambda: len(blocks(routers[name])) >= 200, timeout=15,
                   what=f"{name} past block 200 before the restart")
    old_last = {name: blocks(routers[name])[-1] for name in SUBSCRIBERS}
    src.proc.kill()
    src.proc.wait(timeout=10)
    src._log.close()
    src.start()
    restarted_at = time.monotonic()
    for name in SUBSCRIBERS:
        wait_until(lambda: len(split_at_restart(blocks(routers[name]))[1]) >= 50, timeout=15,
                   what=f"{name} receives the restarted source's stream")
    print(f"restarted source: subscribers at block 50 of the new stream "
          f"{(time.monotonic() - restarted_at) * 1000:.0f} ms after its restart")
    for name in SUBSCRIBERS:
        old, new = split_at_restart(blocks(routers[name]))
        assert old[-1] >= old_last[name]
        no_gap_no_duplicate(name, old)
        assert new[0] == 1, (name, new[:5])
        no_gap_no_duplicate(name, new)
        assert chan(routers[name], "new_epochs") >= 1, name
    assert metric(src, "peercdn_overlay_router_id") == ids["acme-n1"]
