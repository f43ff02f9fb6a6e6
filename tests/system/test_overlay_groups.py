"""The overlay's other control groups on the eight routers of
test_overlay.py (three CDNs, two peering links): a provider report made by
a PEER decision at a beta node ends up in the store of an acme node (abc's
primary CDN), read with `peercdnctl reports`; a config pushed with
peercdnctl to one acme node is applied by every acme node (a new server in
their lists; each keeps its own node sections) and by no beta node; each
CDN learns what its agreement peers offer it (claim 9), and a resource the
agreement does not allow (gamma's config claims tv for beta-gamma, beta's
does not) is refused and counted at beta while the overlay keeps working;
a server drained with peercdnctl on acme-n1 leaves the DNS and HTTP
answers of acme-n2 and of beta-n2 (acme's agreement peer), not gamma's
tables, and an undrain given on another acme node brings it back;
acme's redirectors use beta's offer: a beta client of abc's web is served
by beta (PEER) until beta's offer to acme withdraws web (a push to beta
that leaves web out of beta's side of acme-beta), then by acme, and by
beta again once the offer names web again.
Every process is stopped by PID; every wait is bounded."""
import copy
import json
import subprocess
import time

import dns.edns
import dns.message
import dns.query
import yaml

from conftest import PEERCDNCTL, free_port
from test_overlay import LINKS, ROUTERS, metric, named, router_configs, wait_until
from test_redirect import exchange, get, header
from test_reports import row
from test_health import Server

DEADLINE = 10.0  # s: policy versions are re-announced every 5 s
PEER_QUERY = "ad102.web.abc.cdn.beta.net"  # ECS 127.2.0.0/24: a beta client, beta serves abc


def links_up(d):
    return sum(v for k, v in d.metrics().items() if k.startswith("peercdn_overlay_link_up{"))


def ctl(*args):
    return subprocess.run([str(PEERCDNCTL), *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def servers_of(d):
    out = ctl("-S", d.config["control"]["socket"], "servers")
    assert out.returncode == 0, out.stderr
    return {line.split()[0] for line in out.stdout.splitlines()}


BETA_CLIENT = "127.2.0.10"  # AS 200, beta's: PEER for abc while beta offers the service
BETA_SERVERS = {"127.2.200.1", "127.3.200.1", "127.5.200.1"}


def redirected_to(d):
    """The servers acme-n2's DNS and HTTP redirectors name for a beta client
    asking for abc's web."""
    q = dns.message.make_query("ad102.web.abc.cdn.acme.net", "A", use_edns=0)
    resp = dns.query.udp(q, "127.0.0.1", port=d.config["dns"]["port"], timeout=5,
                         source=BETA_CLIENT)
    names = {r.address for rrset in resp.answer for r in rrset if hasattr(r, "address")}
    raw = exchange(d.config["http"]["port"],
                   get("/www.abc.com/ad102", host="abc.cdn.acme.net",
                       extra=b"Connection: close\r\n"), host="127.0.0.1", source=BETA_CLIENT)
    location = header(raw, "Location")
    if location:
        names.add(location.split("/")[2].rsplit(":", 1)[0])
    return names


def beta_applied(routers):
    """Every beta node serves the version just pushed to beta-n1, so none
    announces the offer of the one before."""
    version = metric(routers["beta-n1"], "peercdn_overlay_policy_version")
    for name in ("beta-n2", "beta-n3"):
        wait_until(lambda: metric(routers[name], "peercdn_overlay_policy_version") == version,
                   DEADLINE, f"{name} applies beta's push")


def health_of(d, server):
    out = ctl("-S", d.config["control"]["socket"], "servers")
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.split()[0] == server)
    return dict(f.split("=", 1) for f in line.split()[1:])["health"]


def group(d, name, result):
    return metric(d, "peercdn_overlay_group_records_total", group=name, result=result)


def test_overlay_groups(daemons, tmp_path):
    port = free_port("127.1.200.1")
    origin = {"acme-s1": Server("127.1.200.1", port), "acme-s2": Server("127.1.200.2", port)}
    configs, ports = router_configs(port)
    stores = {name: tmp_path / f"reports-{name}" for name in ("acme-n2", "beta-n2")}
    for name, store in stores.items():
        configs[name]["reports"] = {"enabled": True, "path": str(store)}
    for name in ("acme-n1", "acme-n2", "acme-n3", "beta-n1"):
        configs[name]["control"]["socket"] = str(tmp_path / f"{name}.sock")
    # gamma's side of beta-gamma claims tv too; beta's does not.
    for name in ("gamma-n1", "gamma-n2"):
        for ag in configs[name]["agreements"]:
            if ag["name"] == "beta-gamma":
                ag["services"] = ["web", "vod", "tv"]
    routers = {name: daemons(cfg, name=name, node=name) for name, cfg in configs.items()}
    try:
        degree = {name: sum(name in (a, b) for a, b, _ in LINKS) for name in ROUTERS}
        for name, d in routers.items():
            wait_until(lambda: links_up(d) == degree[name], what=f"{name}'s links up")

        # --- resources (claim 9): what each peer offers, only over agreements ---
        for name, peers in (("acme-n1", {"beta"}), ("beta-n2", {"acme"}),
                            ("gamma-n2", {"beta"})):
            d = routers[name]
            wait_until(lambda: all(metric(d, "peercdn_overlay_resource_capacity", cdn=p) > 0
                                   for p in peers), DEADLINE, f"{name} hears {peers}")
        # acme and gamma have no agreement: neither hears of the other.
        assert metric(routers["acme-n1"], "peercdn_overlay_resource_capacity", cdn="gamma") == 0
        assert metric(routers["gamma-n1"], "peercdn_overlay_resource_capacity", cdn="acme") == 0
        # Only web and vod offered across acme-beta (the agreement's services).
        assert metric(routers["acme-n1"], "peercdn_overlay_resource_services", cdn="beta") == 2
        # gamma offers beta tv too, which beta's agreement does not allow:
        # refused and counted at beta, which keeps nothing from gamma's
        # announcements while they name it.
        wait_until(lambda: group(routers["beta-n3"], "resource", "policy") > 0, DEADLINE,
                   "beta refuses gamma's tv")
        assert metric(routers["beta-n3"], "peercdn_overlay_resource_capacity",
                      cdn="gamma") == 0
        assert group(routers["gamma-n1"], "resource", "policy") == 0

        # --- provider reports (claim 3): beta's PEER decision reaches acme ---
        beta = routers["beta-n2"]
        for _ in range(3):
            q = dns.message.make_query(PEER_QUERY, "A", use_edns=0,
                                       options=[dns.edns.ECSOption("127.2.0.0", 24)])
            resp = dns.query.udp(q, "127.0.0.1", port=beta.config["dns"]["port"], timeout=5)
            assert resp.answer, resp
        assert beta.metrics().get('peercdn_dns_decisions_total{branch="PEER"}', 0) == 3
        wait_until(lambda: metric(beta, "peercdn_reports_written_total") == 3, DEADLINE,
                   "beta-n2 stores its own records")
        acme = routers["acme-n2"]
        wait_until(lambda: metric(acme, "peercdn_reports_written_total") >= 3, DEADLINE,
                   "acme-n2 stores beta's records")
        # Once each, whatever the overlay repeats.
        time.sleep(0.5)
        assert metric(acme, "peercdn_reports_written_total") == 3
        proc = subprocess.run([str(PEERCDNCTL), "reports", "--path", str(stores["acme-n2"]),
                               "--json"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout)
        peer = row(summary, "abc", "acme-beta")
        assert peer["requests"] == 3 and peer["branches"]["PEER"] == 3, summary
        assert peer["cdns"] == {"beta": 3}
        assert group(beta, "report", "published") == 3
        assert group(acme, "report", "applied") == 3

        # --- policy: a push on acme-n1 is applied by every acme node ---
        before = {name: servers_of(routers[name]) for name in ("acme-n2", "acme-n3", "beta-n1")}
        assert all("acme-s9" not in s for s in before.values())
        pushed = yaml.safe_load(routers["acme-n1"].config_path.read_text())
        extra = copy.deepcopy(next(s for s in pushed["servers"] if s["name"] == "acme-s2"))
        extra.update(name="acme-s9", addresses=["127.1.200.9"])
        pushed["servers"].append(extra)
        text = tmp_path / "pushed.yaml"
        text.write_text(yaml.safe_dump(pushed))
        out = ctl("-S", routers["acme-n1"].config["control"]["socket"], "push", text)
        assert out.returncode == 0, out.stderr
        pushed_at = time.monotonic()
        for name in ("acme-n2", "acme-n3"):
            wait_until(lambda: "acme-s9" in servers_of(routers[name]), DEADLINE,
                       f"{name} applies the push")
        print(f"\npolicy: every acme node serves the push "
              f"{(time.monotonic() - pushed_at) * 1000:.0f} ms after it")
        version = metric(routers["acme-n1"], "peercdn_overlay_policy_version")
        for name in ("acme-n2", "acme-n3"):
            d = routers[name]
            assert metric(d, "peercdn_overlay_policy_version") == version > 0
            # Kept with the node's own sections: a restart loads the same.
            kept = yaml.safe_load(d.config_path.read_text())
            assert kept["overlay"]["port"] == ports[name]
            assert "acme-s9" in {s["name"] for s in kept["servers"]}
            assert group(d, "policy", "refused") == 0
        # Re-announced, not re-applied.
        wait_until(lambda: group(routers["acme-n2"], "policy", "stale") > 0, DEADLINE,
                   "the version re-announced")
        assert group(routers["acme-n2"], "policy", "applied") == 1
        # Another CDN's policy never reaches beta.
        assert servers_of(routers["beta-n1"]) == before["beta-n1"]
        assert group(routers["beta-n1"], "policy", "applied") == 0

        # --- offers used (claim 9): beta withdraws web from its offer to acme ---
        acme = routers["acme-n2"]
        wait_until(lambda: redirected_to(acme) and redirected_to(acme) <= BETA_SERVERS,
                   DEADLINE, "acme sends beta's client to beta (PEER)")
        beta_cfg = yaml.safe_load(routers["beta-n1"].config_path.read_text())
        withdrawn = copy.deepcopy(beta_cfg)
        for ag in withdrawn["agreements"]:
            if ag["name"] == "acme-beta":
                ag["services"] = ["vod"]
        text = tmp_path / "beta-withdraws.yaml"
        text.write_text(yaml.safe_dump(withdrawn))
        out = ctl("-S", routers["beta-n1"].config["control"]["socket"], "push", text)
        assert out.returncode == 0, out.stderr
        beta_applied(routers)
        wait_until(lambda: metric(acme, "peercdn_overlay_resource_services", cdn="beta") == 1,
                   DEADLINE, "acme hears beta's offer without web")
        wait_until(lambda: redirected_to(acme) and not redirected_to(acme) & BETA_SERVERS,
                   DEADLINE, "acme stops sending web to beta")
        # Every answer from now on, not one lucky one: a few in a row.
        for _ in range(5):
            assert not redirected_to(acme) & BETA_SERVERS
        # acme's own config never changed: its agreement still covers web.
        kept = yaml.safe_load(acme.config_path.read_text())
        assert next(a for a in kept["agreements"] if a["name"] == "acme-beta")["services"] == \
            ["web", "vod"]
        # vod is still offered: beta still serves it.
        q = dns.message.make_query("ad102.vod.abc.cdn.acme.net", "A", use_edns=0)
        resp = dns.query.udp(q, "127.0.0.1", port=acme.config["dns"]["port"], timeout=5,
                             source=BETA_CLIENT)
        assert {r.address for rrset in resp.answer for r in rrset} <= BETA_SERVERS
        # Restored: back to beta.
        restored = tmp_path / "beta-restores.yaml"
        restored.write_text(yaml.safe_dump(beta_cfg))
        out = ctl("-S", routers["beta-n1"].config["control"]["socket"], "push", restored)
        assert out.returncode == 0, out.stderr
        beta_applied(routers)
        wait_until(lambda: redirected_to(acme) and redirected_to(acme) <= BETA_SERVERS,
                   DEADLINE, "acme sends web to beta again")

        # --- drains: one command, every redirector of the CDN and its peers ---
        victim, victim_addr = "acme-s1", "127.1.200.1"
        askers = [routers["acme-n2"], routers["beta-n2"]]
        named_it = {}  # per asker, the objects it answers with the victim
        for d in askers:
            wait_until(lambda: victim_addr in named(d, [f"d{i}" for i in range(20)]), DEADLINE,
                       f"{d.node} names {victim}")
            named_it[d.node] = [f"d{i}" for i in range(20) if victim_addr in named(d, [f"d{i}"])]
        out = ctl("-S", routers["acme-n1"].config["control"]["socket"], "drain", victim)
        assert out.returncode == 0 and "health=draining" in out.stdout, out
        drained_at = time.monotonic()
        gone = {}
        while time.monotonic() - drained_at < DEADLINE and len(gone) < len(askers):
            for d in askers:
                if d.node not in gone and victim_addr not in named(d, named_it[d.node]):
                    gone[d.node] = time.monotonic() - drained_at
        print("drain: out of the answers at " +
              ", ".join(f"{n} {t * 1000:.0f} ms" for n, t in sorted(gone.items())))
        assert len(gone) == len(askers), gone
        for d in askers:
            assert victim_addr not in named(d, [f"e{i}" for i in range(20)]), d.node
            assert group(d, "drain", "applied") >= 1, d.node
        for name in ("acme-n2", "acme-n3", "beta-n1"):
            assert health_of(routers[name], victim) == "draining", name
        # gamma has no agreement with acme: acme's drains never reach it.
        assert group(routers["gamma-n2"], "drain", "applied") == 0
        # The last word wins wherever it is said: an undrain on acme-n3.
        out = ctl("-S", routers["acme-n3"].config["control"]["socket"], "undrain", victim)
        assert out.returncode == 0, out
        for d in askers:
            wait_until(lambda: victim_addr in named(d, [f"u{i}" for i in range(40)]), DEADLINE,
                       f"{d.node} names {victim} again")
        for name in ("acme-n1", "acme-n2", "beta-n1"):
            wait_until(lambda: health_of(routers[name], victim) == "up", DEADLINE,
                       f"{name} undrained")
        # Re-announced every 2 s: held, not applied again.
        applied = group(routers["acme-n2"], "drain", "applied")
        wait_until(lambda: group(routers["acme-n2"], "drain", "stale") > 0, DEADLINE,
                   "the drains re-announced")
        assert group(routers["acme-n2"], "drain", "applied") == applied

        # The overlay still works everywhere.
        for name, d in routers.items():
            assert links_up(d) == degree[name], name
    finally:
        for s in origin.values():
            s.stop()
