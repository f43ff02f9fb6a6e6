#!/bin/bash
# bench/xdp (issue 9): peercdnd's DNS and CDSR roles over AF_XDP against knotd
# over AF_XDP and gdnsd over sockets, between two network namespaces joined by
# a veth pair, loaded from the client namespace. Needs root (namespaces, XDP).
#
#   bench/xdp.sh            (from the repository root or anywhere inside it)
#
# Environment knobs (defaults in brackets):
#   RUNS [3]          runs per server, query and load; medians reported
#   SECS [5]          length of each run (kxdpgun -t, cdsrgun -t)
#   QPS [100000]      the fixed offered rate (kxdpgun -Q, cdsrgun -Q)
#   SAT_QPS [2000000] the "saturating" offered rate (kxdpgun -Q; cdsrgun -Q 0
#                     sends whenever a frame is free)
#   PARTS ["dns cdsr"] dns: peercdnd's DNS, knotd and gdnsd (SOA, policy);
#                     cdsr: peercdnd's CDSR and gdnsd's policy answer
#   KEEP [0]          1: keep the temp dir (configs, logs, generator outputs)
#
# Network: namespaces pcxb-s<PID> (servers, 198.18.0.1/24 on veth xbs<PID>)
# and pcxb-c<PID> (generators, 198.18.0.2/24 on xbc<PID>), no route out; both
# removed on exit, with every process started here (killed by PID).
# Servers are pinned to CPU 0, generators to CPU 1 (taskset; kxdpgun -F 1).
#
# Servers, one at a time (the XDP program of one is taken off the interface
# before the next starts):
#   peercdnd-xdp  build-bench/src/node/peercdnd, etc/peercdn.yaml with DNS on
#                 198.18.0.1:53, dns.workers 1, dns.xdp.listen [xbs<PID>@53]
#                 (the veth has one queue), a client network 198.18.0.0/15 in
#                 AS 200 (beta's), so the policy answer is 127.2.200.1.
#   knotd-xdp     knotd 3.2 (Debian `knot`), `xdp: listen: xbs<PID>@53`, one UDP
#                 worker, a static zone: bench/gdnsd's SOA and NS, and
#                 ad102.web.abc A 127.2.200.1 (the policy answer, written down).
#   gdnsd-socket  gdnsd 3.8 on 198.18.0.1:53 (bench/gdnsd, udp_threads 1, plus a
#                 `nets` entry 198.18.0.0/15 => beta), over its UDP socket.
#   peercdnd-cdsr peercdnd with cdsr on 198.18.0.1:2554 (rate 0: no limit)
#                 and cdsr.xdp.listen [xbs<PID>@2554], DNS without XDP.
# peercdnd runs the bench federation (bench/lib.sh bench_federation: no
# agreement capacity, so every answer takes the branch stated below).
# Queries: soa "cdn.acme.net. SOA" (static everywhere); policy
# "ad102.web.abc.cdn.acme.net. A" (peercdnd: a policy decision; knotd: a
# static record; gdnsd: its geoip plugin); cdsr: a CDSR request for
# http://abc.cdn.acme.net/www.abc.com/x (padded to 512 bytes, family 4), sent
# by bench/cdsrgun over AF_XDP, whose answer must be status OK, branch PEER,
# server 127.2.200.1. Before each server's runs dig checks NOERROR and
# 127.2.200.1 (or a short cdsrgun run checks the CDSR answer); every run
# checks the answers' rcodes (kxdpgun "responded NOERROR", cdsrgun "status
# ok") and fails when there were no answers or fewer than 99 % of them were
# that answer, and every CDSR run fails unless every OK answer was PEER
# 127.2.200.1 (cdsrgun's "mix" lines; queries lost are reported, not failed).
#
# Measurements, per server and query
#   cpu/answer  utime+stime of the server process (all threads) from
#               /proc/PID/stat before and after a QPS run, divided by the
#               NOERROR (or OK) answers, in microseconds; median of RUNS.
#   replies/s   kxdpgun at SAT_QPS: its "total replies" pps; median of RUNS.
#               kxdpgun's own CPU (CPU 1) is the limit here, so this bounds
#               the servers from below more than it ranks them. CDSR:
#               cdsrgun -Q 0, its answers_per_s (answers in the window).
# CDSR is compared with gdnsd's policy answer under kxdpgun: the same client
# asks the same question of each, one over CDSR, one over DNS.
# On veth AF_XDP runs in copy mode and part of the receive work is charged to
# the sender's CPU (BENCH-NOTES.md): the figures are relative.
# The last line is `ratio xdp_policy_vs_knot_static VALUE` (PARTS=cdsr:
# `ratio cdsr_xdp_sat_vs_gdnsd_socket VALUE`); ratios are anchor
# CPU per answer / peercdnd's (above 1.0: peercdnd cheaper).

# Per-server results live in variables named by eval.
# shellcheck disable=SC2154
BENCH=xdp
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
SECS=${SECS:-5}
QPS=${QPS:-100000}
SAT_QPS=${SAT_QPS:-2000000}
EXPECT=127.2.200.1
SERVER_IP=198.18.0.1
CLIENT_IP=198.18.0.2
NS_S=pcxb-s$$
NS_C=pcxb-c$$
DEV_S=xbs$$
DEV_C=xbc$$

[ "$(id -u)" = 0 ] || die "needs root (network namespaces and AF_XDP)"

# Processes first (bench_cleanup would kill them too, but a namespace must
# not be deleted under its processes), then the namespaces.
xdp_cleanup() {
	rc=$?
	for p in $TOOL_PID $PIDS; do
		kill_pid "$p"
	done
	TOOL_PID="" PIDS=""
	ip netns del "$NS_S" 2>/dev/null || true
	ip netns del "$NS_C" 2>/dev/null || true
	(exit "$rc")
	bench_cleanup
}
trap xdp_cleanup EXIT

# ---- dependencies and build -------------------------------------------------
bench_build build-bench
command -v knotd >/dev/null || PATH=$PATH:/usr/sbin
for t in gdnsd knotd kxdpgun dig ip taskset; do
	command -v "$t" >/dev/null || die "$t not found"
done
PEERCDND=$BUILD/src/node/peercdnd
CDSRGUN=$BUILD/bench/cdsrgun
PARTS=${PARTS:-dns cdsr}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
[ -x "$PEERCDND" ] || die "$PEERCDND not built"
[ -x "$CDSRGUN" ] || die "$CDSRGUN not built (meson -Dbench=true)"

# ---- the network ----------------------------------------------------------------
ip netns add "$NS_S" || die "ip netns add refused"
ip netns add "$NS_C" || die "ip netns add refused"
ip link add "$DEV_S" netns "$NS_S" type veth peer name "$DEV_C" netns "$NS_C"
ip -n "$NS_S" addr add "$SERVER_IP/24" dev "$DEV_S"
ip -n "$NS_C" addr add "$CLIENT_IP/24" dev "$DEV_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$DEV_S" up
ip -n "$NS_C" link set "$DEV_C" up
in_c() { ip netns exec "$NS_C" "$@"; }

printf 'cdn.acme.net. SOA\n' >"$WORK/soa.q"
printf 'ad102.web.abc.cdn.acme.net. A\n' >"$WORK/policy.q"
CDSR_URL=http://abc.cdn.acme.net/www.abc.com/x
DST_MAC=$(ip -n "$NS_S" link show dev "$DEV_S" | awk '$1 == "link/ether" { print $2 }')
[ -n "$DST_MAC" ] || die "no MAC address on $DEV_S"
bench_federation "$WORK/federation.yaml"

# ---- helpers ------------------------------------------------------------------
# Waits (bounded, ~10 s) for a DNS server to answer SOA NOERROR.
wait_dns() { # pid name
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 1
		if in_c dig @$SERVER_IP +norec +time=1 +tries=1 cdn.acme.net SOA 2>/dev/null |
			grep -q 'status: NOERROR'; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# The sample: SOA NOERROR, and the policy name answered NOERROR with EXPECT.
check_dns() { # name
	out=$(in_c dig @$SERVER_IP +norec +time=2 +tries=1 ad102.web.abc.cdn.acme.net A)
	echo "$out" | grep -q 'status: NOERROR' || die "$1: policy query not NOERROR: $out"
	got=$(echo "$out" | awk '$1 == "ad102.web.abc.cdn.acme.net." && $4 == "A" { print $5 }')
	[ "$got" = "$EXPECT" ] || die "$1 answered '$got' for ad102.web.abc.cdn.acme.net A, expected $EXPECT"
	echo "check $1: policy -> $got NOERROR, soa NOERROR ok"
}

# kxdpgun from the client namespace on CPU 1; sets RV to "noerror replies_pps
# sent replies".
gun() { # out-file kind qps
	run_tool "$1" ip netns exec "$NS_C" kxdpgun -F 1 -t "$SECS" -Q "$3" -i "$WORK/$2.q" "$SERVER_IP" ||
		die "kxdpgun failed: $(tail -3 "$1")"
	sent=$(awk '/^total queries:/ { print $3 }' "$1")
	replies=$(awk '/^total replies:/ { print $3 }' "$1")
	noerror=$(awk '/^responded NOERROR:/ { print $3 }' "$1")
	pps=$(awk '/^total replies:/ { gsub(/\(/, "", $4); print $4 }' "$1")
	if [ -z "$sent" ] || [ "$sent" -eq 0 ]; then
		die "kxdpgun sent nothing: $(tail -3 "$1")"
	fi
	RV="${noerror:-0} ${pps:-0} $sent ${replies:-0}"
}

# cdsrgun from the client namespace on CPU 1; sets RV to "ok answered sent
# answers_per_s" and checks the mix (every OK answer PEER 127.2.200.1).
cdsr_gun() { # out-file qps secs
	run_tool "$1" ip netns exec "$NS_C" taskset -c 1 "$CDSRGUN" -i "$DEV_C" -s "$CLIENT_IP" \
		-d "$SERVER_IP" -m "$DST_MAC" -p 2554 -P 512 -t "$3" -Q "$2" "$CDSR_URL" ||
		die "cdsrgun failed: $(tail -3 "$1")"
	xdp_off_client # its program would take dig's answers too
	udp_mix_check "cdsr $(basename "$1")" "$1" PEER "$EXPECT"
	RV="$(awk '$1 == "status" && $2 == "ok" { n = $3 } END { print n + 0 }' "$1")"
	RV="$RV $(awk '$1 == "answered" { print $2 }' "$1") $(awk '$1 == "sent" { print $2 }' "$1")"
	RV="$RV $(awk '$1 == "answers_per_s" { printf "%.0f", $2 }' "$1")"
}

# What is measured must be what was asked: fails unless there were answers
# and at least 99 % of them were the expected one (lost queries are
# reported, not failed: a socket server on veth drops some at QPS).
enough() { # label good answered
	awk -v g="$2" -v a="$3" 'BEGIN { exit !(a > 0 && g >= 0.99 * a) }' ||
		die "$1: only $2 of $3 answers were the expected one"
}

us_per() { # ticks-before ticks-after answers -> "us user sys"
	# shellcheck disable=SC2086
	set -- $1 $2 "$3"
	awk -v u="$(($3 - $1))" -v s="$(($4 - $2))" -v n="$5" -v hz="$HZ" \
		'BEGIN { printf "%.2f %.2f %.2f", (u + s) / hz * 1e6 / n, u / hz * 1e6 / n, s / hz * 1e6 / n }'
}

# RUNS fixed-rate runs and RUNS saturating runs of kxdpgun; sets
# <srv>_<kind>_cpu and <srv>_<kind>_sat.
measure_gun() { # srv pid kind
	srv=$1 pid=$2 kind=$3 cr="" sr=""
	for i in $(seq 1 "$RUNS"); do
		t0=$(cpu_ticks "$pid")
		gun "$WORK/$srv.$kind.cpu$i" "$kind" "$QPS"
		t1=$(cpu_ticks "$pid")
		# shellcheck disable=SC2086
		set -- $RV
		enough "$srv $kind" "$1" "$4"
		cost=$(us_per "$t0" "$t1" "$1")
		echo "$srv $kind at $QPS qps run $i: $1 NOERROR of $4 answers, $3 sent; cpu/answer us (total user sys): $cost"
		cr="$cr ${cost%% *}"
	done
	for i in $(seq 1 "$RUNS"); do
		gun "$WORK/$srv.$kind.sat$i" "$kind" "$SAT_QPS"
		# shellcheck disable=SC2086
		set -- $RV
		enough "$srv $kind saturating" "$1" "$4"
		echo "$srv $kind at $SAT_QPS qps offered run $i: $2 replies/s ($1 NOERROR of $4 answers, $3 sent)"
		sr="$sr $2"
	done
	# shellcheck disable=SC2086
	eval "${srv}_${kind}_cpu=$(median $cr) ${srv}_${kind}_sat=$(median $sr)"
}

# RUNS cdsrgun runs at QPS and RUNS at saturation; sets <srv>_cdsr_cpu and
# <srv>_cdsr_sat.
measure_cdsr() { # srv pid
	srv=$1 pid=$2 cr="" sr=""
	for i in $(seq 1 "$RUNS"); do
		t0=$(cpu_ticks "$pid")
		cdsr_gun "$WORK/$srv.cdsr.cpu$i" "$QPS" "$SECS"
		t1=$(cpu_ticks "$pid")
		# shellcheck disable=SC2086
		set -- $RV
		enough "$srv cdsr" "$1" "$2"
		cost=$(us_per "$t0" "$t1" "$1")
		echo "$srv cdsr at $QPS qps run $i: $1 ok of $2 answers, $3 sent; cpu/answer us (total user sys): $cost"
		cr="$cr ${cost%% *}"
	done
	for i in $(seq 1 "$RUNS"); do
		cdsr_gun "$WORK/$srv.cdsr.sat$i" 0 "$SECS"
		# shellcheck disable=SC2086
		set -- $RV
		enough "$srv cdsr saturating" "$1" "$2"
		echo "$srv cdsr saturating run $i: $4 answers/s ($1 ok of $2 answers, $3 sent)"
		sr="$sr $4"
	done
	# shellcheck disable=SC2086
	eval "${srv}_cdsr_cpu=$(median $cr) ${srv}_cdsr_sat=$(median $sr)"
}

xdp_off() { ip -n "$NS_S" link set dev "$DEV_S" xdp off 2>/dev/null || true; }
xdp_off_client() { ip -n "$NS_C" link set dev "$DEV_C" xdp off 2>/dev/null || true; }

peercdn_config() { # file dns-xdp(yes/no) cdsr-xdp(yes/no)
	"$PY" - "$1" "$2" "$3" "$DEV_S" "$SERVER_IP" "$WORK/federation.yaml" <<'EOF'
import sys, yaml
path, dns_xdp, cdsr_xdp, dev, ip, federation = sys.argv[1:]
d = yaml.safe_load(open(federation))
d["clients"].append({"prefix": "198.18.0.0/15", "as": 200, "location": "berlin"})
d["dns"].update(listen=[ip], port=53, workers=1)
if dns_xdp == "yes":
    d["dns"]["xdp"] = {"listen": [dev + "@53"]}
for role in ("http", "rtsp"):
    d[role] = {"enabled": False}
d["cdsr"] = {"enabled": cdsr_xdp == "yes", "listen": [ip], "port": 2554, "rate": 0}
if cdsr_xdp == "yes":
    d["cdsr"]["xdp"] = {"listen": [dev + "@2554"]}
d.pop("control", None)
yaml.safe_dump(d, open(path, "w"), sort_keys=False)
EOF
}

start_server() { # name log command... -> SRV_PID (in PIDS)
	name=$1 log=$2
	shift 2
	echo "$name: $*"
	# ip netns exec and taskset exec the server: $! is its PID.
	ip netns exec "$NS_S" taskset -c 0 "$@" >"$log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
}

echo "bench/xdp: $(nproc) cores; servers on CPU 0, generators on CPU 1; veth $DEV_S/$DEV_C" \
	"($SERVER_IP/$CLIENT_IP); kxdpgun $(kxdpgun -V 2>&1 | awk '{ print $NF; exit }'), knotd" \
	"$(knotd -V 2>&1 | awk '{ print $NF; exit }'), gdnsd $(gdnsd -V 2>&1 | awk '/version/ { print $NF; exit }')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

if part dns; then
# ---- peercdnd, DNS over XDP ------------------------------------------------------------
peercdn_config "$WORK/peercdn-dns.yaml" yes no
start_server peercdnd-xdp "$WORK/peercdnd-dns.log" "$PEERCDND" -c "$WORK/peercdn-dns.yaml" -n acme-n1
p=$SRV_PID
wait_dns "$p" || die "peercdnd did not answer: $(tail -5 "$WORK/peercdnd-dns.log")"
grep -q 'msg=xdp-listening role=dns' "$WORK/peercdnd-dns.log" ||
	die "peercdnd has no XDP: $(grep xdp "$WORK/peercdnd-dns.log")"
check_dns peercdnd-xdp
measure_gun peercdnd_xdp "$p" soa
measure_gun peercdnd_xdp "$p" policy
stop_server "$p"
xdp_off

# ---- knotd over XDP ------------------------------------------------------------------
mkdir -p "$WORK/knot"
sed -n '/^@/,$p' bench/gdnsd/cdn.acme.net.zone | sed '/DYNA/d' >"$WORK/knot/cdn.acme.net.zone"
echo "ad102.web.abc 0 A $EXPECT" >>"$WORK/knot/cdn.acme.net.zone"
cat >"$WORK/knot/knot.conf" <<EOF
server:
    rundir: $WORK/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
xdp:
    listen: $DEV_S@53
template:
  - id: default
    storage: $WORK/knot
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: cdn.acme.net
    file: cdn.acme.net.zone
EOF
start_server knotd-xdp "$WORK/knotd.log" knotd -c "$WORK/knot/knot.conf"
p=$SRV_PID
wait_dns "$p" || die "knotd did not answer: $(tail -5 "$WORK/knotd.log")"
check_dns knotd-xdp
measure_gun knotd_xdp "$p" soa
measure_gun knotd_xdp "$p" policy
stop_server "$p"
xdp_off # knotd leaves its program attached
fi

# ---- gdnsd over its socket ---------------------------------------------------------------
mkdir -p "$WORK/gdnsd/zones" "$WORK/run" "$WORK/state"
sed -e "s|@PORT@|53|g" -e "s|@DIR@|$WORK|g" -e "s|@THREADS@|1|g" \
	-e "s|127.0.0.1|$SERVER_IP|" -e "s|127.7.0.0/17 => \[ acme \]|&\n          198.18.0.0/15 => [ beta ]|" \
	bench/gdnsd/config.in >"$WORK/gdnsd/config"
grep -q '198.18.0.0/15' "$WORK/gdnsd/config" || die "gdnsd config: the nets entry was not added"
cp bench/gdnsd/cdn.acme.net.zone "$WORK/gdnsd/zones/cdn.acme.net"
start_server gdnsd-socket "$WORK/gdnsd.log" gdnsd -c "$WORK/gdnsd" start
p=$SRV_PID
wait_dns "$p" || die "gdnsd did not answer: $(tail -5 "$WORK/gdnsd.log")"
check_dns gdnsd-socket
if part dns; then measure_gun gdnsd_socket "$p" soa; fi
measure_gun gdnsd_socket "$p" policy
stop_server "$p"
xdp_off_client

# ---- peercdnd, CDSR over XDP ---------------------------------------------------------------
if part cdsr; then
	peercdn_config "$WORK/peercdn-cdsr.yaml" no yes
	start_server peercdnd-cdsr "$WORK/peercdnd-cdsr.log" "$PEERCDND" -c "$WORK/peercdn-cdsr.yaml" -n acme-n1
	p=$SRV_PID
	wait_dns "$p" || die "peercdnd did not answer: $(tail -5 "$WORK/peercdnd-cdsr.log")"
	grep -q 'msg=xdp-listening role=cdsr' "$WORK/peercdnd-cdsr.log" ||
		die "peercdnd has no CDSR XDP: $(grep xdp "$WORK/peercdnd-cdsr.log")"
	# The sample: a short run at 100/s, every answer OK, PEER, 127.2.200.1.
	cdsr_gun "$WORK/cdsr.check" 100 0.2
	# shellcheck disable=SC2086
	set -- $RV
	enough "peercdnd-cdsr sample" "$1" "$2"
	echo "check peercdnd-cdsr: $1 of $3 requests answered ok, PEER $EXPECT"
	measure_cdsr peercdnd_cdsr "$p"
	stop_server "$p"
	xdp_off
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- summary --------------------------------------------------------------------------
echo
echo "summary (cpu/answer: median of $RUNS x ${SECS}s runs at $QPS qps offered, server" \
	"utime+stime per expected answer, us; replies/s: median kxdpgun replies pps at $SAT_QPS offered)"
printf '%-15s %-15s %12s %12s\n' server query cpu/answer replies/s
for srv in peercdnd_xdp knotd_xdp gdnsd_socket; do
	for kind in soa policy; do
		eval "c=\${${srv}_${kind}_cpu:-} s=\${${srv}_${kind}_sat:-}"
		if [ -n "$c" ]; then printf '%-15s %-15s %12s %12s\n' "$srv" "$kind" "$c" "$s"; fi
	done
done
if part cdsr; then
	printf '%-15s %-15s %12s %12s\n' peercdnd_cdsr cdsr "$peercdnd_cdsr_cdsr_cpu" \
		"$peercdnd_cdsr_cdsr_sat"
fi
echo
echo "ratios are the anchor's cpu/answer / peercdnd's (above 1.0: peercdnd cheaper);"
echo "*_sat ratios are peercdnd's answers/s / the anchor's replies/s"
if part cdsr; then
	echo "ratio cdsr_xdp_vs_gdnsd_socket $(ratio "$gdnsd_socket_policy_cpu" "$peercdnd_cdsr_cdsr_cpu")"
	echo "ratio cdsr_xdp_sat_vs_gdnsd_socket $(ratio "$peercdnd_cdsr_cdsr_sat" "$gdnsd_socket_policy_sat")"
fi
part dns || exit 0
echo "ratio xdp_soa_vs_knot_xdp $(ratio "$knotd_xdp_soa_cpu" "$peercdnd_xdp_soa_cpu")"
echo "ratio xdp_policy_vs_gdnsd_socket $(ratio "$gdnsd_socket_policy_cpu" "$peercdnd_xdp_policy_cpu")"
echo "ratio xdp_policy_vs_knot_static $(ratio "$knotd_xdp_policy_cpu" "$peercdnd_xdp_policy_cpu")"
