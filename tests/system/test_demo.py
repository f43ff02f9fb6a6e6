"""The README's main command, scripts/demo.sh, run on the binaries under
test (`demo.sh --built BUILD_DIR`: no install-deps, no build): every check
it prints must be "ok", there must be as many as its scenes, and it must
leave no process behind.

The demo listens on fixed ports of the federation's 127.x addresses. As
root it runs in a network namespace of its own (`unshare -n`, loopback
up), so that it cannot collide with anything else on the machine;
otherwise it runs in the machine's namespace.
"""
import os
import re
import signal
import subprocess
import time

from conftest import BUILD, SOURCE

# Checks the demo makes: 8 policy scenes (summary table), 4 DNS answers,
# 3 fetches from the edges (HTTP redirect and CDSR), 1 server failure, the
# overlay's routers of three CDNs dropping a dead server, and
# the edges' delivery: a miss then a hit on one edge, then a two-level tree
# (acme-s1 misses and so does its parent acme-core; acme-s2 misses, its
# parent hits), each with the origin's request count; last, the live scene.
POLICY_SCENES = 8
DNS_SCENES = 4
FETCH_SCENES = 3
# The overlay scene: acme-s1 dies, and the DNS of the routers of all three
# CDNs stops naming it (one check each); then two routers' report stores.
OVERLAY_ROUTERS = ["acme-r", "beta-r", "gamma-r"]
DELIVERY = [("MISS", "acme-core"), ("HIT", "acme-core"), ("MISS", "acme-s1"),
            ("MISS", "acme-s2")]
# The live scene: ffmpeg pushes a stream into acme-r, ffprobe plays it at
# beta-r (HLS) and gamma-r (progressive TS, through the relay beta-r2); the
# relay dies, both players go on, and both edges saw every block once.
LIVE = ["both players decode frames, gamma's through the relay beta-r2",
        "both players went on decoding after the relay died, gamma's through beta-r",
        "every block once at both edges: no gap, no duplicate"]
LIVE_EDGES = ["beta-r", "gamma-r"]


def own_netns():
    if os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def run_demo():
    demo = [str(SOURCE / "scripts" / "demo.sh"), "--built", str(BUILD)]
    if own_netns():
        cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', *demo]
    else:
        cmd = demo
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        # Whatever is left in the demo's process group outlived it.
        leftover = False
        deadline = time.monotonic() + 5
        while True:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                leftover = True
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert not leftover, "the demo left processes behind"
    return proc.returncode, out


def test_demo_scenes_all_ok():
    code, out = run_demo()
    print(out)
    assert code == 0, out[-4000:]
    assert "UNEXPECTED" not in out, out
    assert not re.search(r"runtime error|ERROR: \w*Sanitizer", out), out
    assert out.rstrip().endswith("demo: every decision matches claims 1-2 of the patent, the "
                                 "edges delivered every object,\nand the live stream played "
                                 "on at both edges when its relay died"), out

    summary = out.split("##### summary of the policy decisions\n", 1)[1].split("\n\n", 1)[0]
    rows = summary.splitlines()[1:]
    assert len(rows) == POLICY_SCENES, summary
    assert all(row.rstrip().endswith(" ok") for row in rows), summary
    busy = [row for row in rows if "busy" in row]
    assert len(busy) == 1 and busy[0].split()[-2] == "acme-s4", summary

    dns = re.findall(r"^ +-> (\S+) \(TTL 0\), branch (\w+) on .*explain: (\S+)  ok$", out, re.M)
    assert len(dns) == DNS_SCENES, out
    assert all(answer == explained for answer, _, explained in dns), dns
    # each DNS scene's answer and branch is its own
    assert len(set(dns)) == DNS_SCENES, dns

    fetches = re.findall(r"^ +branch on \S+: HTTP (\w+), CDSR (\w+) \(expected (\w+)\)$", out, re.M)
    assert len(fetches) == FETCH_SCENES, out
    assert [f[2] for f in fetches] == ["PRIMARY", "PEER", "OUTSIDE"], fetches
    assert all(f[0] == f[1] == f[2] for f in fetches), fetches
    assert out.count("ok, both served by the same server") == FETCH_SCENES, out
    assert out.count("ok, another server took over") == 1, out

    gone = re.findall(r"^ +ok: ([\w-]+) stopped naming acme-s1 (\d+) ms after its death$", out,
                      re.M)
    assert [g[0] for g in gone] == OVERLAY_ROUTERS, out
    print("overlay failover: " + ", ".join(f"{r} {ms} ms" for r, ms in gone))
    reports = re.findall(r"^ +abc +- +(\d+) +0 +(\d+) +acme=(\d+)$", out, re.M)
    assert len(reports) == 2 and all(int(n) > 0 and n == o == a for n, o, a in reports), out

    delivery = re.findall(r"^ +ok: (MISS|HIT) at ([\w-]+), ", out, re.M)
    assert delivery == DELIVERY, out
    # the tree: what acme-s2's client got came through acme-core
    assert re.search(r"^ +Via: 1\.1 127\.1\.201\.1:8080 \(peercdn acme-core\), "
                     r"1\.1 127\.1\.200\.2:8080 \(peercdn acme-s2\)$", out, re.M), out

    live = out.split("##### live: a live stream pushed into acme", 1)[1]
    assert re.findall(r"^ +ok: (.*)$", live, re.M) == LIVE, live
    after = re.search(r"^  frames decoded after the kill: beta (\d+), gamma (\d+) ", live, re.M)
    assert after and int(after[1]) > 0 and int(after[2]) > 0, live
    blocks = re.findall(r"^ +([\w-]+) +blocks_received (\d+), block_gaps (\d+)$", live, re.M)
    assert [b[0] for b in blocks] == LIVE_EDGES, live
    assert all(int(got) > 0 and gaps == "0" for _, got, gaps in blocks), live
    print("live: frames after the relay died: beta %s, gamma %s" % (after[1], after[2]))
