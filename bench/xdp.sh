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
#   PEERCDND [build-bench/src/node/peercdnd]  the peercdnd binary measured (a
#                     "before" build, run against the same anchors)
#   CDSRGUN [build-bench/bench/cdsrgun]  the CDSR generator (a "before" build)
#   COUNTS [0]        1: `perf stat -p` the server over each fixed-rate run and
#                     print its context switches and system calls per answer
#                     (counts, not times: they do not move with the
#                     neighbours' load; the tracepoints add a little CPU)
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
# by bench/cdsrgun over AF_XDP in kxdpgun's load shape (bursts of 10, one
# per 100 us at 100 k/s, a sleep whenever it is ahead of the rate: knot 3.2's
# kxdpgun loop), whose answer must be status OK, branch PEER,
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
#   sys/answer  server-side CPU: the server's utime+stime plus the softirq
#               and irq time /proc/stat counts on every CPU but the server's
#               own, per expected answer; median of RUNS. Why: on a veth pair
#               the frames a sender transmits are received (veth's NAPI poll
#               or the backlog: the XDP program and the copy into the
#               server's UMEM, or IP, UDP and the socket queue for gdnsd) in
#               the NET_RX softirq of the *sender's* CPU, which this kernel
#               (tick accounting, no CONFIG_IRQ_TIME_ACCOUNTING) charges to
#               whatever task was running there, the generator, and to that
#               CPU's softirq column in /proc/stat. The server's CPU's own
#               softirq is the generator's receive of the answers, already in
#               the server's stime, and alike for every server.
#   per run, also: /proc/stat's per-CPU user, system, softirq and idle ticks,
#               the generator's CPU time (this shell's reaped children), and
#               "busy-gen": all CPUs' busy ticks minus the generator's time,
#               per answer. With tick accounting the generator's time holds
#               the server's receive path, so busy-gen leaves it out again,
#               and it holds every neighbour's work: printed as a check, not
#               used for a ratio.
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
# CPU per answer / peercdnd's (above 1.0: peercdnd cheaper), each also as
# `..._sys` from sys/answer.

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
SRV_CPU=0 # taskset for the servers
GEN_CPU=1 # for the generators
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
PEERCDND=${PEERCDND:-$BUILD/src/node/peercdnd}
CDSRGUN=${CDSRGUN:-$BUILD/bench/cdsrgun}
COUNTS=${COUNTS:-0}
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

# A generator's AF_XDP socket is released by the kernel after the process
# exits (deferred), so the next generator's bind may find the queue busy:
# that start is retried, a bounded number of times. Returns the tool's
# status otherwise.
run_gen() { # out-file command...
	local try
	for try in 1 2 3 4 5; do
		if run_tool "$@"; then
			grep -q 'resource is busy' "$1" || return 0
		else
			grep -q 'resource is busy' "$1" || return 1
		fi
		[ "$try" -lt 5 ] || return 1
		echo "generator: the XDP queue is still busy (try $try), again in 1 s"
		sleep 1
	done
}

# kxdpgun from the client namespace on CPU 1; sets RV to "noerror replies_pps
# sent replies".
gun() { # out-file kind qps
	run_gen "$1" ip netns exec "$NS_C" kxdpgun -F $GEN_CPU -t "$SECS" -Q "$3" -i "$WORK/$2.q" "$SERVER_IP" ||
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
	run_gen "$1" ip netns exec "$NS_C" taskset -c $GEN_CPU "$CDSRGUN" -i "$DEV_C" -s "$CLIENT_IP" \
		-d "$SERVER_IP" -m "$DST_MAC" -p 2554 -P 512 -t "$3" -Q "$2" "$CDSR_URL" ||
		die "cdsrgun failed: $(tail -3 "$1")"
	xdp_off_client # its program would take dig's answers too
	udp_mix_check "cdsr $(basename "$1")" "$1" PEER "$EXPECT"
	RV="$(awk '$1 == "status" && $2 == "ok" { n = $3 } END { print n + 0 }' "$1")"
	RV="$RV $(awk '$1 == "answered" { print $2 }' "$1") $(awk '$1 == "sent" { print $2 }' "$1")"
	RV="$RV $(awk '$1 == "answers_per_s" { printf "%.0f", $2 }' "$1")"
}

# perf stat on the server over one run (COUNTS=1): the server's sleeps
# (context switches) and its waiting and sending calls, per answer.
COUNT_EVENTS=context-switches,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_pwait
COUNT_EVENTS=$COUNT_EVENTS,syscalls:sys_enter_ppoll,syscalls:sys_enter_poll
COUNT_EVENTS=$COUNT_EVENTS,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_sendmmsg
counts_start() { # pid out-file
	[ "$COUNTS" = 1 ] || return 0
	perf stat -x, -e "$COUNT_EVENTS" -p "$1" -o "$2" &
	PERF_PID=$!
	PIDS="$PIDS $PERF_PID"
}
counts_stop() { # out-file answers label
	[ "$COUNTS" = 1 ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$PERF_PID" | tr '\n' ' ' || true)
	awk -F, -v n="$2" -v label="$3" '
	$3 ~ /^(context-switches|syscalls:)/ && $1 ~ /^[0-9]+$/ {
		name = $3; sub(/^syscalls:sys_enter_/, "", name)
		line = line sprintf(" %s %d (%.4f)", name, $1, $1 / n)
	}
	END { printf "counts %s per %d answers:%s\n", label, n, line }' "$1"
}

# What is measured must be what was asked: fails unless there were answers
# and at least 99 % of them were the expected one (lost queries are
# reported, not failed: a socket server on veth drops some at QPS).
enough() { # label good answered
	awk -v g="$2" -v a="$3" 'BEGIN { exit !(a > 0 && g >= 0.99 * a) }' ||
		die "$1: only $2 of $3 answers were the expected one"
}

# The kernel's view at one instant, into variable $1: "SU SS GEN|cpuN user
# nice system idle iowait irq softirq steal|...", SU and SS the utime and
# stime ticks of process $2, GEN this shell's reaped children's (cutime+cstime:
# the generator, the one child reaped during a run). Builtins only, so the
# snapshot itself reaps nothing.
kernel_snap() { # var pid
	local line f srv gen cpus="" name rest
	read -r line </proc/"$2"/stat
	# shellcheck disable=SC2206 # word splitting wanted
	f=(${line##*) })
	srv="${f[11]} ${f[12]}" # utime, stime: fields 14, 15 (f[0] is field 3)
	read -r line </proc/$$/stat
	# shellcheck disable=SC2206
	f=(${line##*) })
	gen=$((f[13] + f[14])) # cutime, cstime: fields 16, 17
	while read -r name rest; do
		case $name in cpu[0-9]*) cpus="$cpus|$name $rest" ;; esac
	done </proc/stat
	printf -v "$1" '%s' "$srv $gen$cpus"
}

# One run's CPU per answer from two snapshots: "cpu user system sys
# busy-gen<TAB>detail", us per answer; detail lists the ticks per CPU and
# the generator's. cpu: the server process; sys: the server plus softirq and
# irq on every CPU but SRV_CPU (see the header); busy-gen: all CPUs'
# user+nice+system+irq+softirq minus the generator's time.
run_cost() { # snap-before snap-after answers
	awk -v a="$1" -v b="$2" -v n="$3" -v hz="$HZ" -v srv_cpu="cpu$SRV_CPU" '
	function split_snap(s, t, k,   parts, i, w, c) {
		k = split(s, parts, "|")
		split(parts[1], w, " ")
		t["su"] = w[1]; t["ss"] = w[2]; t["gen"] = w[3]
		for (i = 2; i <= k; i++) {
			split(parts[i], w, " ")
			c = w[1]; cpus[c] = 1
			t[c, "user"] = w[2] + w[3]; t[c, "sys"] = w[4]; t[c, "idle"] = w[5] + w[6]
			t[c, "irq"] = w[7] + w[8]
		}
	}
	BEGIN {
		split_snap(a, x); split_snap(b, y)
		su = y["su"] - x["su"]; ss = y["ss"] - x["ss"]; srv = su + ss
		gen = y["gen"] - x["gen"]
		other = 0; busy = 0; detail = ""
		for (c in cpus) {
			du = y[c, "user"] - x[c, "user"]; ds = y[c, "sys"] - x[c, "sys"]
			di = y[c, "irq"] - x[c, "irq"]; dl = y[c, "idle"] - x[c, "idle"]
			busy += du + ds + di
			if (c != srv_cpu) other += di
			detail = detail sprintf(" %s user %d sys %d softirq %d idle %d;", c, du, ds, di, dl)
		}
		us = 1e6 / hz / n
		printf "%.2f %.2f %.2f %.2f %.2f\t%s generator %d ticks", srv * us, su * us, ss * us,
			(srv + other) * us, (busy - gen) * us, detail, gen
	}'
}

# Prints one run's costs and adds them to cr (cpu) and yr (sys).
report_cost() { # label snap-before snap-after answers
	cost=$(run_cost "$2" "$3" "$4")
	# shellcheck disable=SC2086
	set -- "$1" ${cost%%$'\t'*} "${cost#*$'\t'}"
	echo "$1; us/answer: cpu $2 (user $3 sys $4), sys $5, busy-gen $6"
	echo "    ticks:$7"
	cr="$cr $2" yr="$yr $5"
}

# RUNS fixed-rate runs and RUNS saturating runs of kxdpgun; sets
# <srv>_<kind>_cpu and <srv>_<kind>_sat.
measure_gun() { # srv pid kind
	srv=$1 pid=$2 kind=$3 cr="" yr="" sr=""
	for i in $(seq 1 "$RUNS"); do
		counts_start "$pid" "$WORK/$srv.$kind.counts$i"
		kernel_snap k0 "$pid"
		gun "$WORK/$srv.$kind.cpu$i" "$kind" "$QPS"
		kernel_snap k1 "$pid"
		# shellcheck disable=SC2086
		set -- $RV
		counts_stop "$WORK/$srv.$kind.counts$i" "$1" "$srv $kind run $i"
		enough "$srv $kind" "$1" "$4"
		report_cost "$srv $kind at $QPS qps run $i: $1 NOERROR of $4 answers, $3 sent" "$k0" "$k1" "$1"
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
	eval "${srv}_${kind}_cpu=$(median $cr) ${srv}_${kind}_sys=$(median $yr)"
	# shellcheck disable=SC2086
	eval "${srv}_${kind}_sat=$(median $sr) ${srv}_${kind}_runs=\"$cr\" ${srv}_${kind}_sysruns=\"$yr\""
}

# RUNS cdsrgun runs at QPS and RUNS at saturation; sets <srv>_cdsr_cpu and
# <srv>_cdsr_sat.
measure_cdsr() { # srv pid
	srv=$1 pid=$2 cr="" yr="" sr=""
	for i in $(seq 1 "$RUNS"); do
		counts_start "$pid" "$WORK/$srv.cdsr.counts$i"
		kernel_snap k0 "$pid"
		cdsr_gun "$WORK/$srv.cdsr.cpu$i" "$QPS" "$SECS"
		kernel_snap k1 "$pid"
		# shellcheck disable=SC2086
		set -- $RV
		counts_stop "$WORK/$srv.cdsr.counts$i" "$1" "$srv cdsr run $i"
		enough "$srv cdsr" "$1" "$2"
		report_cost "$srv cdsr at $QPS qps run $i: $1 ok of $2 answers, $3 sent" "$k0" "$k1" "$1"
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
	eval "${srv}_cdsr_cpu=$(median $cr) ${srv}_cdsr_sys=$(median $yr)"
	# shellcheck disable=SC2086
	eval "${srv}_cdsr_sat=$(median $sr) ${srv}_cdsr_runs=\"$cr\" ${srv}_cdsr_sysruns=\"$yr\""
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
	ip netns exec "$NS_S" taskset -c $SRV_CPU "$@" >"$log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
}

echo "bench/xdp: $(nproc) cores; servers on CPU 0, generators on CPU 1; veth $DEV_S/$DEV_C" \
	"($SERVER_IP/$CLIENT_IP); kxdpgun $(kxdpgun -V 2>&1 | awk '{ print $NF; exit }'), knotd" \
	"$(knotd -V 2>&1 | awk '{ print $NF; exit }'), gdnsd $(gdnsd -V 2>&1 | awk '/version/ { print $NF; exit }')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); peercdnd: $PEERCDND"
# What the CPUs' softirq columns hold with no load offered: the floor under
# the sys figure's "softirq elsewhere" (timers, RCU, the neighbours' traffic).
kernel_snap k0 $$
sleep "$SECS"
kernel_snap k1 $$
echo "idle ${SECS}s, ticks:$(run_cost "$k0" "$k1" 1 | cut -f2)"

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
	# The CDSR room may open its XDP socket after the DNS role answers.
	for _ in $(seq 100); do
		grep -q 'msg=xdp-\(listening role=cdsr\|unavailable\)' "$WORK/peercdnd-cdsr.log" && break
		sleep 0.1
	done
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
echo "summary (median of $RUNS x ${SECS}s runs at $QPS qps offered, us per expected answer:"
echo "  cpu: the server process's utime+stime; sys: cpu + softirq and irq on the CPUs but"
echo "  the server's (the receive path veth runs in the sender's softirq); replies/s: median"
echo "  kxdpgun replies pps at $SAT_QPS offered, cdsrgun answers/s at saturation)"
printf '%-15s %-7s %10s %10s %12s  %s\n' server query cpu sys replies/s "runs (cpu; sys)"
row() { # srv kind
	eval "c=\${${1}_${2}_cpu:-} y=\${${1}_${2}_sys:-} s=\${${1}_${2}_sat:-}"
	eval "cr=\${${1}_${2}_runs:-} yr=\${${1}_${2}_sysruns:-}"
	if [ -n "$c" ]; then
		printf '%-15s %-7s %10s %10s %12s  %s\n' "$1" "$2" "$c" "$y" "$s" "${cr# };${yr}"
	fi
}
for srv in peercdnd_xdp knotd_xdp gdnsd_socket; do
	for kind in soa policy; do row "$srv" "$kind"; done
done
if part cdsr; then row peercdnd_cdsr cdsr; fi
echo
echo "ratios are the anchor's cpu/answer / peercdnd's (above 1.0: peercdnd cheaper), _sys"
echo "from sys/answer; *_sat ratios are peercdnd's answers/s / the anchor's replies/s"
bench_provenance
if part cdsr; then
	echo "ratio cdsr_xdp_vs_gdnsd_socket_sys $(ratio "$gdnsd_socket_policy_sys" "$peercdnd_cdsr_cdsr_sys")"
	echo "ratio cdsr_xdp_vs_gdnsd_socket $(ratio "$gdnsd_socket_policy_cpu" "$peercdnd_cdsr_cdsr_cpu")"
	echo "ratio cdsr_xdp_sat_vs_gdnsd_socket $(ratio "$peercdnd_cdsr_cdsr_sat" "$gdnsd_socket_policy_sat")"
fi
part dns || exit 0
echo "ratio xdp_soa_vs_knot_xdp_sys $(ratio "$knotd_xdp_soa_sys" "$peercdnd_xdp_soa_sys")"
echo "ratio xdp_policy_vs_gdnsd_socket_sys $(ratio "$gdnsd_socket_policy_sys" "$peercdnd_xdp_policy_sys")"
echo "ratio xdp_policy_vs_knot_static_sys $(ratio "$knotd_xdp_policy_sys" "$peercdnd_xdp_policy_sys")"
echo "ratio xdp_soa_vs_knot_xdp $(ratio "$knotd_xdp_soa_cpu" "$peercdnd_xdp_soa_cpu")"
echo "ratio xdp_policy_vs_gdnsd_socket $(ratio "$gdnsd_socket_policy_cpu" "$peercdnd_xdp_policy_cpu")"
echo "ratio xdp_policy_vs_knot_static $(ratio "$knotd_xdp_policy_cpu" "$peercdnd_xdp_policy_cpu")"
