"""The cache-miss tree on the overlay (issue 12, item 4; docs/edge.md, "The
cache-miss tree"): the eight routers of test_overlay.py in three CDNs, each
also an edge (a server of its CDN in the federation), with acme-n1 the
injection point of provider abc (edge.injection) and every router's
neighbours' edges in edge.tree. Checks: a miss at a leaf edge in the
farthest CDN climbs the overlay's shortest-path tree toward acme-n1, one
fetch per hop and one origin fetch, and every edge on the way keeps a copy
(HIT there afterwards); edges off the path fetch nothing; a request with
more Via entries than a tree has hops is refused (508); a pre-fill down
abc's channel (peercdnctl prefill --channel at acme-n1's edge) leaves the
object at every edge of the tree (a HIT with the right bytes) while the
origin was asked once, and the replica events make the redirectors send
clients to holders; the interior router and edge beta-n2 killed, the next
miss goes through the new next hop (beta-n3 -> beta-n1). Every process is
stopped by PID; every wait is bounded."""
import copy
import re
import sys

import pytest

from conftest import SOURCE, free_port

sys.path.insert(0, str(SOURCE / "tests" / "system"))
from origin_server import body_for  # noqa: E402
from test_edge import ABC, Origin, exchange, parse_responses  # noqa: E402
from test_overlay import (ROUTERS, fnv1a, http_names, router_configs, routes,  # noqa: E402
                          wait_until)

DEADLINE = 10.0  # s: generous; convergence takes well under a second here
ROOT = "acme-n1"  # abc's injection point
STANDBY = "acme-n2"  # abc's second injection point: the root while acme-n1 is down
LEAF = "gamma-n2"
# The tree toward acme-n1 while every router lives (test_overlay's costs).
PATH = ["gamma-n2", "gamma-n1", "beta-n3", "beta-n2", "beta-n1", "acme-n3", "acme-n1"]
AFTER = ["gamma-n2", "gamma-n1", "beta-n3", "beta-n1", "acme-n3", "acme-n1"]  # beta-n2 dead
STANDBY_PATH = ["gamma-n2", "gamma-n1", "beta-n3", "beta-n1", "acme-n3", "acme-n2"]
FRESH = "cc=max-age%3D600"


def edge_address(i):
    return f"127.9.254.{i + 1}"


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.stop()


@pytest.fixture
def tree(daemons, origin):
    configs, _ = router_configs(free_port("127.1.200.1"))
    names = list(ROUTERS)
    edges = {name: (edge_address(i), free_port(edge_address(i))) for i, name in
             enumerate(names)}
    # Each router's edge is a server of its CDN, so its replicas count.
    servers = [{"name": f"{name}-e", "cdn": cdn, "as": asn, "addresses": [edges[name][0]],
                "tier": "edge", "services": ["web", "vod"], "capacity": 1000,
                "ports": {"http": edges[name][1]}}
               for name, (cdn, asn) in ROUTERS.items()]
    for name, cfg in configs.items():
        cfg.pop("health", None)
        cfg["overlay"].pop("test", None)
        cfg["servers"] = cfg["servers"] + copy.deepcopy(servers)
        neighbours = [n["node"] for n in cfg["overlay"]["neighbours"]]
        cfg["edge"] = {
            "enabled": True, "listen": [edges[name][0]], "port": edges[name][1],
            "origins": [f"{ABC}={origin.address}"],
            "injection": [f"abc={ROOT}", f"abc={STANDBY}"],
            "tree": [f"{n}={edges[n][0]}:{edges[n][1]}" for n in neighbours],
            "memory_mb": 64, "max_object_mb": 16, "disk_path": "",
            "connect_timeout_ms": 1000, "upstream_timeout_ms": 5000,
        }
    routers = {name: daemons(cfg, name=name, node=name) for name, cfg in configs.items()}
    ids = {name: fnv1a(name) for name in ROUTERS}

    def converged():  # every router routes to the root, along configured links
        return all(routes(d).get(ids[ROOT]) for n, d in routers.items() if n != ROOT)
    wait_until(converged, timeout=DEADLINE, what="routes to the injection point")
    return routers, edges, ids


def get(edges, name, path, headers=()):
    addr, port = edges[name]
    lines = [f"GET /{ABC}{path} HTTP/1.1", "Host: abc.cdn.acme.net", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    raw, reset = exchange(addr, port, ("\r\n".join(lines) + "\r\n\r\n").encode(),
                          source="127.0.0.1")
    [resp] = parse_responses(raw, reset)
    return resp


def fetches(d):
    return sum(v for k, v in d.metrics().items()
               if k.startswith("peercdn_edge_upstream_fetches_total{"))


def channel(d, event):
    return d.metrics().get(f'peercdn_edge_prefill_channel_total{{event="{event}"}}', 0.0)


def content_blocks(d):
    """Content blocks d sent, per neighbour (the pre-fill channel is the only
    content channel here)."""
    out = {}
    pattern = r'peercdn_overlay_blocks_sent_total\{neighbour="([\w-]+)",kind="content"\}'
    for k, v in d.metrics().items():
        m = re.match(pattern, k)
        if m:
            out[m.group(1)] = v
    return out


def root_bytes(d):
    return sum(v for k, v in d.metrics().items()
               if k.startswith("peercdn_overlay_bytes_total{") and 'direction="sent"' in k)


def via_nodes(resp):
    return re.findall(r"\(peercdn ([\w-]+)\)", resp.get("Via") or "")


def kill(d):
    d.proc.kill()
    d.proc.wait(timeout=10)
    d.proc = None  # killed on purpose: the fixture expects no exit status
    d._log.close()


def miss_climbs(routers, edges, origin, path, hops):
    before = {n: fetches(d) for n, d in routers.items()}
    name = path.split("?")[0]
    r = get(edges, LEAF, path)
    assert r.status == 200 and r.complete, r
    assert r.body == body_for(ABC, name, 20000)
    assert r.cache.startswith("MISS"), r.cache
    assert origin.count(name) == 1
    # One fetch per hop, none elsewhere; the response passed each hop.
    for n, d in routers.items():
        assert fetches(d) - before[n] == (1 if n in hops else 0), (n, via_nodes(r))
    assert set(hops) <= set(via_nodes(r)), via_nodes(r)
    # Every edge on the way kept a copy.
    for n in hops:
        assert get(edges, n, path).cache.startswith("HIT"), n
    assert origin.count(name) == 1


def test_cache_miss_tree_and_prefill_channel(tree, origin, ctl):
    routers, edges, ids = tree
    # The route view says what the metrics say: the leaf's next hop.
    assert routes(routers[LEAF])[ids[ROOT]] == ids["gamma-n1"]
    wait_until(lambda: routes(routers["beta-n3"]).get(ids[ROOT]) == ids["beta-n2"],
               timeout=DEADLINE, what="beta-n3 routes through beta-n2")

    # --- a miss at the leaf climbs the tree, each hop keeps a copy -------
    miss_climbs(routers, edges, origin, f"/tree1.bin?size=20000&{FRESH}", PATH)

    # --- too many Via entries: 508, nothing fetched ----------------------
    n = fetches(routers[LEAF])
    vias = [("Via", ", ".join(f"1.1 proxy{i}" for i in range(17)))]
    assert get(edges, LEAF, f"/loop.bin?{FRESH}", vias).status == 508
    assert get(edges, LEAF, f"/loop.bin?{FRESH}", [("Via", "1.1 a, 1.1 b")]).status == 200
    assert origin.count("/loop.bin") == 1 and fetches(routers[LEAF]) == n + 1

    # --- pre-fill down abc's channel -------------------------------------
    for name, d in routers.items():
        if name != ROOT:
            d.wait_log("msg=edge-prefill-channel-subscribed", timeout=DEADLINE)
    size = 600000  # three blocks
    path = f"/pf.bin?size={size}&{FRESH}"
    root = f"{edges[ROOT][0]}:{edges[ROOT][1]}"
    others = [n for n in ROUTERS if n != ROOT]

    def everyone_stored():
        return all(channel(routers[n], "objects_stored") >= 1 for n in others)
    blocks_before = {n: content_blocks(d) for n, d in routers.items()}
    bytes_before = root_bytes(routers[ROOT])
    # A join travels up hop by hop; a pre-fill sent before a subscriber's
    # join reached the tree misses it, so a bounded second send may be needed.
    for attempt in range(3):
        out = ctl("prefill", "--channel", "--edge", root,
                  f"http://abc.cdn.acme.net/{ABC}{path}")
        assert out.returncode == 0, out.stdout + out.stderr
        assert f"{root} 200 sent " in out.stdout, out.stdout
        try:
            wait_until(everyone_stored, timeout=DEADLINE, what="every edge stored it")
            break
        except AssertionError:
            continue
    print(f"\nprefill: stored everywhere after {attempt + 1} send(s)")
    assert everyone_stored()
    assert origin.count("/pf.bin") == 1
    assert channel(routers[ROOT], "objects_sent") == attempt + 1
    assert channel(routers[ROOT], "blocks_sent") == 3 * (attempt + 1)
    for n in others:
        assert channel(routers[n], "objects_dropped") == 0, n
        assert channel(routers[n], "blocks_bad") == 0, n
    # Each block crossed each link of the tree once: the injection point
    # sent the object once per tree link of its own (2), not once per edge (7).
    sent = {n: {k: v - blocks_before[n].get(k, 0) for k, v in content_blocks(d).items()}
            for n, d in routers.items()}
    assert all(v <= 3 * (attempt + 1) for links in sent.values() for v in links.values()), sent
    assert sum(sent[ROOT].values()) == 3 * 2 * (attempt + 1), sent[ROOT]
    assert sum(sum(links.values()) for links in sent.values()) == 3 * 7 * (attempt + 1), sent
    print(f"prefill: the injection point sent {root_bytes(routers[ROOT]) - bytes_before:.0f} "
          f"bytes for a {size}-byte object to 7 edges")
    for n in ROUTERS:
        r = get(edges, n, path)
        assert r.status == 200 and r.cache.startswith("HIT"), (n, r.cache)
        assert r.body == body_for(ABC, "/pf.bin", size), n
    assert origin.count("/pf.bin") == 1
    # Replicas: the redirectors of acme (the client is outside every CDN,
    # so acme's servers answer abc) now prefer holders of the object; for
    # objects no edge holds, some answers name the plain servers, so the
    # check could fail.
    holders = {edges[n][0] for n in ROUTERS}
    asker = routers["acme-n2"]
    assert all(http_names(asker, "pf.bin") <= holders for _ in range(3))
    others_named = set()
    for i in range(40):
        others_named |= http_names(asker, f"none{i}.bin")
    assert others_named - holders, others_named

    # --- the interior router beta-n2 dies: the next miss goes around -----
    kill(routers["beta-n2"])
    wait_until(lambda: routes(routers["beta-n3"]).get(ids[ROOT]) == ids["beta-n1"],
               timeout=DEADLINE, what="beta-n3 re-routed")
    alive = {n: d for n, d in routers.items() if n != "beta-n2"}
    miss_climbs(alive, edges, origin, f"/tree2.bin?size=20000&{FRESH}", AFTER)

    # --- the injection point itself dies: the standby is the root --------
    kill(routers[ROOT])
    del alive[ROOT]
    wait_until(lambda: ids[ROOT] not in routes(routers["acme-n3"]), timeout=DEADLINE,
               what="acme-n1 unreachable")
    wait_until(lambda: all(ids[ROOT] not in routes(d) for d in alive.values()),
               timeout=DEADLINE, what="every router lost its route to acme-n1")
    miss_climbs(alive, edges, origin, f"/tree3.bin?size=20000&{FRESH}", STANDBY_PATH)


def test_tree_keys_are_checked(ctl, tmp_path):
    """edge.injection names a provider and a node (or a router id), edge.tree
    a node and an address; each mistake is reported with the others."""
    import yaml
    from conftest import default_config
    cfg = default_config()
    cfg["edge"] = {"enabled": True, "listen": ["127.1.200.1"],
                   "injection": ["nobody=acme-n1", "abc", "abc=acme-n1"],
                   "tree": ["beta-n1=127.0.0.1", "gamma-n1=127.0.0.1:8080"]}
    path = tmp_path / "tree.yaml"
    path.write_text(yaml.safe_dump(cfg))
    err = ctl("check", path, check=1).stderr
    assert "not PROVIDER=NODE" in err and "not NODE=ADDRESS:PORT" in err, err
    cfg["edge"]["injection"] = ["nobody=acme-n1", "abc=acme-n9", "abc=acme-n1"]
    cfg["edge"]["tree"] = ["beta-n1=127.0.0.1:8080", "acme-n8=127.0.0.1:8080"]
    path.write_text(yaml.safe_dump(cfg))
    err = ctl("check", path, check=1).stderr
    assert "edge.injection: nobody is not a provider" in err, err
    assert "edge.injection: acme-n9 is no node and no router id" in err, err
    assert "edge.tree: acme-n8 is no node and no router id" in err, err
    assert "beta-n1" not in err, err
    cfg["edge"]["injection"] = ["abc=acme-n1", "abc=1287554398"]  # a name, or a router id
    cfg["edge"]["tree"] = ["beta-n1=127.0.0.1:8080"]
    path.write_text(yaml.safe_dump(cfg))
    ctl("check", path, check=0)
