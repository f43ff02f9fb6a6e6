#!/bin/bash
# bench/dns (issue 3, deliverable 6): peercdnd's DNS role against gdnsd 3.8 on
# loopback, under dnsperf, one after the other in the same run.
#
#   bench/dns.sh            (from the repository root or anywhere inside it)
#
# Environment knobs (defaults in brackets):
#   THREADS [2]      UDP worker threads of each server (peercdnd dns.workers,
#                    gdnsd udp_threads; gdnsd also keeps its 1 TCP thread)
#   RUNS [3]         saturating and CPU runs per server and query; medians reported
#   SAT_SECS [10]    length of each saturating run (dnsperf -l)
#   LAT_SECS [3]     length of each verbose latency run
#   CPU_QPS [50000]  offered rate of the CPU-per-query run (dnsperf -Q)
#   CPU_SECS [10]    length of each CPU-per-query run
#   KEEP [0]         1: keep the temp dir (configs, logs, dnsperf outputs)
#   ALLOW_DIRTY [0]  1: run on a tree with uncommitted changes (the summary
#                    then says "dirty"); without it a dirty tree is refused
#
# Servers and queries
#   peercdnd: build-bench/src/node/peercdnd -c FILE, FILE = etc/peercdn.yaml with
#             the agreements' capacity_rps removed (bench/lib.sh
#             bench_federation: acme-beta's 1 000 PEER decisions a second
#             would send >99 % of a saturating run OUTSIDE, to acme),
#             dns.listen [127.0.0.1], dns.port <free>, dns.workers THREADS,
#             control.metrics_listen 127.0.0.1 and metrics_port <free>.
#   gdnsd:    gdnsd -c DIR start (foreground), DIR from bench/gdnsd/config.in and
#             bench/gdnsd/cdn.acme.net.zone: geoip plugin, a `nets` map over the
#             same client networks as the default federation, no GeoIP database.
#   policy:   "ad102.web.abc.cdn.acme.net A" with EDNS Client Subnet 127.2.0.0/24
#             (dnsperf -E 8:000118007f0200: family 1, source 24, scope 0,
#             address 127.2.0), i.e. a client of beta's AS 200: both servers must
#             answer 127.2.200.1 (checked with dig before the runs).
#   soa:      "cdn.acme.net SOA", no EDNS options: a static answer.
#
# Both servers are started first (an idle one costs nothing) and then measured
# one after the other, runs alternating peercdnd/gdnsd so that load from
# elsewhere on the machine hits both alike.
#
# The mix, checked in every run (the run fails otherwise): every dnsperf
# answer NOERROR; for peercdnd, the delta of peercdn_dns_decisions_total
# over the run (sampled outside the CPU bracket) all PEER and at least the
# queries completed for the policy query, no decision at all for soa; after
# every policy run of either server, dig from the beta client must get
# 127.2.200.1 (dnsperf cannot tally answer addresses; bench/redirect's
# udpperf does). The summary prints the mix beside the ratios, and
# "commit SHA clean|dirty" (bench/lib.sh).#
# Measurements, per server and query
#   qps      dnsperf -c 8 -q 500 -l SAT_SECS, RUNS times; the median of
#            "Queries per second".  One dnsperf thread tops out near 150-160 k
#            qps on a 2-core machine, so this mostly measures the generator.
#   latency  one more saturating run (-c 8 -q 500 -l LAT_SECS) with -v; every
#            answered query's latency is printed by dnsperf and p50/p99 are
#            taken (nearest rank) over all of them.  At saturation this is
#            dominated by queueing (500 outstanding); so the same is done at the
#            fixed rate CPU_QPS (-Q CPU_QPS -l LAT_SECS -v), where it is not.
#   cpu/q    dnsperf -c 8 -q 500 -Q CPU_QPS -l CPU_SECS (no -v); utime+stime of
#            the server process (all threads) from /proc/PID/stat before and
#            after, divided by dnsperf's "Queries completed", in microseconds;
#            RUNS times, the median (user and sys are printed apart).
# Every process started here (servers, dnsperf) is killed by PID on exit.
# Ratios: throughput peercdn / gdnsd (above 1.0: peercdn faster) and CPU per
# query gdnsd / peercdn (above 1.0: peercdn cheaper).  The last line of output
# is `ratio dns_cpu_per_query VALUE` for the policy query.

# Per-server results live in variables named by eval (peercdnd_policy_qps ...).
# shellcheck disable=SC2154
BENCH=dns
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
SAT_SECS=${SAT_SECS:-10}
LAT_SECS=${LAT_SECS:-3}
CPU_QPS=${CPU_QPS:-50000}
CPU_SECS=${CPU_SECS:-10}
ECS_HEX=000118007f0200
EXPECT=127.2.200.1
POLICY_NAME="ad102.web.abc.cdn.acme.net A"
SOA_NAME="cdn.acme.net SOA"

# ---- dependencies and build -------------------------------------------------
bench_build build-bench
for t in gdnsd dnsperf dig; do
	command -v "$t" >/dev/null || die "$t not found"
done
PEERCDND=$BUILD/src/node/peercdnd
[ -x "$PEERCDND" ] || die "$PEERCDND not built"

# ---- helpers ------------------------------------------------------------------
# Wait (bounded, ~10 s) for a server on $1 to answer an SOA query.
wait_ready() {
	for _ in $(seq 1 100); do
		if ! kill -0 "$2" 2>/dev/null; then
			return 1
		fi
		if dig @127.0.0.1 -p "$1" +norec +time=1 +tries=1 cdn.acme.net SOA 2>/dev/null |
			grep -q 'status: NOERROR'; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# The policy name with ECS from a beta client must be answered 127.2.200.1.
check_ecs() {
	got=$(dig @127.0.0.1 -p "$1" +norec +time=2 +tries=1 +subnet=127.2.0.0/24 \
		ad102.web.abc.cdn.acme.net A +short)
	if [ "$got" != "$EXPECT" ]; then
		die "$2 answered '$got' for ad102.web.abc.cdn.acme.net A with ECS 127.2.0.0/24, expected $EXPECT"
	fi
	echo "check $2 ecs 127.2.0.0/24 -> $got ok"
	eval "${2}_digs=\$((${2}_digs + 1))"
}
peercdnd_digs=0 gdnsd_digs=0

# Before and after every run of peercdnd: its decision counters.
sample() { # server
	if [ "$1" = peercdnd ]; then decisions "$METRICS" dns; else echo "0 0 0"; fi
}
# After every run: every answer NOERROR; for peercdnd the decisions of the
# run all of the stated branch (policy: PEER, at least one per completed
# query; soa: none); for policy queries, a dig check of the server.
after_run() { # server kind dnsperf-out decisions-before
	codes=$(awk '/^ *Response codes:/ { sub(/^ *Response codes: */, ""); print }' "$3")
	case $codes in
	"NOERROR "*"(100.00%)") ;;
	*) die "$1 $2: not every answer NOERROR: '$codes' ($3)" ;;
	esac
	if [ "$1" = peercdnd ]; then
		if [ "$2" = policy ]; then want=PEER; else want=none; fi
		d1=$(sample peercdnd)
		mix_check "peercdnd $2" "$4" "$d1" "$want" "$(stat_of "$3" "Queries completed")"
		eval "peercdnd_${2}_decided=\$((peercdnd_${2}_decided + MIX_N))"
	fi
	if [ "$2" = policy ]; then
		eval "check_ecs \$${1}_port $1"
	fi
}
peercdnd_policy_decided=0 peercdnd_soa_decided=0

qfile() { # kind -> query file
	echo "$WORK/$1.q"
}
printf '%s\n' "$POLICY_NAME" >"$(qfile policy)"
printf '%s\n' "$SOA_NAME" >"$(qfile soa)"

# dnsperf with the options of a query kind; extra arguments appended.
perf_run() { # out-file port kind args...
	out=$1 port=$2 kind=$3
	shift 3
	if [ "$kind" = policy ]; then
		set -- -E "8:$ECS_HEX" "$@"
	fi
	run_tool "$out" dnsperf -s 127.0.0.1 -p "$port" -d "$(qfile "$kind")" "$@"
}

stat_of() { # file label -> value after "label:"
	awk -F: -v k="$2" '$1 ~ "^ *"k"$" { split($2, a, " "); print a[1]; exit }' "$1"
}

# p50 and p99 (nearest rank, microseconds) over dnsperf -v per-query lines
# "> RCODE name type seconds", answered queries only.
percentiles() {
	"$PY" - "$1" <<'EOF'
import math, sys
lat = []
with open(sys.argv[1], errors="replace") as f:
    for line in f:
        if line.startswith("> ") and not line.startswith("> T "):
            try:
                lat.append(float(line.rsplit(None, 1)[1]))
            except ValueError:
                pass
if not lat:
    sys.exit("no latencies in " + sys.argv[1])
lat.sort()
def pct(p):
    return lat[max(0, math.ceil(p / 100 * len(lat)) - 1)] * 1e6
print("%.0f %.0f %d" % (pct(50), pct(99), len(lat)))
EOF
}

# One saturating run; sets RV to its queries/s. Beside it, the server's
# CPU us per completed query in the run and the share of a core that rate
# took (qps x us): at saturation qps = share / cost, and on a shared
# machine the share is what the neighbours and dnsperf leave the server.
sat_run() { # server pid port kind run
	out="$WORK/$1.$4.sat$5"
	d0=$(sample "$1")
	t0=$(cpu_ticks "$2")
	perf_run "$out" "$3" "$4" -c 8 -q 500 -l "$SAT_SECS" ||
		die "dnsperf failed: $(tail -3 "$out")"
	t1=$(cpu_ticks "$2")
	RV=$(stat_of "$out" "Queries per second")
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" "$4" "$5" $t0 $t1
	done_n=$(stat_of "$out" "Queries completed")
	[ "${done_n:-0}" -gt 0 ] || die "$1 $4 run $5: no query completed ($(tail -3 "$out"))"
	us=$(printf '%.2f' "$(per_unit_us $(($8 - $6 + $9 - $7)) "$done_n")")
	echo "$1 $4 qps run $5: $RV (lost $(stat_of "$out" "Queries lost"); server $us us/query," \
		"$(awk -v r="$RV" -v u="$us" 'BEGIN { printf "%.0f", r * u / 1e4 }') % of a core)"
	after_run "$1" "$4" "$out" "$d0"
}

# One verbose latency run; sets RV to "p50 p99 n".
lat_run() { # server port kind label dnsperf-args...
	srv=$1 port=$2 kind=$3 label=$4
	shift 4
	out="$WORK/$srv.$kind.lat$label"
	d0=$(sample "$srv")
	perf_run "$out" "$port" "$kind" -c 8 -q 500 -l "$LAT_SECS" -v "$@" ||
		die "dnsperf -v failed: $(grep -v '^>' "$out" | tail -3)"
	pv=$(percentiles "$out") || die "$srv $kind: no latencies in $out"
	echo "$srv $kind latency $label: p50/p99/n $pv (at $(stat_of "$out" "Queries per second") qps)"
	after_run "$srv" "$kind" "$out" "$d0"
	RV=$pv
}

# One fixed-rate run; sets RV to the server's CPU microseconds per completed
# query, unrounded (ratios are taken from unrounded medians).
cpu_run() { # server pid port kind run
	srv=$1 pid=$2 port=$3 kind=$4 run=$5
	out="$WORK/$srv.$kind.cpu$run"
	d0=$(sample "$srv")
	t0=$(cpu_ticks "$pid")
	perf_run "$out" "$port" "$kind" -c 8 -q 500 -Q "$CPU_QPS" -l "$CPU_SECS" ||
		die "dnsperf -Q failed: $(tail -3 "$out")"
	t1=$(cpu_ticks "$pid")
	done_q=$(stat_of "$out" "Queries completed")
	[ "${done_q:-0}" -gt 0 ] || die "$srv $kind: no queries completed in the CPU run"
	# shellcheck disable=SC2086
	set -- $t0 $t1
	us=$(awk -v u="$(($3 - $1))" -v s="$(($4 - $2))" -v n="$done_q" -v hz="$HZ" \
		'BEGIN { printf "%.6f", (u + s) / hz * 1e6 / n }')
	split=$(awk -v u="$(($3 - $1))" -v s="$(($4 - $2))" -v n="$done_q" -v hz="$HZ" \
		'BEGIN { printf "user %.2f + sys %.2f", u / hz * 1e6 / n, s / hz * 1e6 / n }')
	echo "$srv $kind cpu run $run: $(printf '%.2f' "$us") us/query ($split; $(($3 - $1 + $4 - $2)) ticks for $done_q queries)"
	after_run "$srv" "$kind" "$out" "$d0"
	RV=$us
}

echo "bench/dns: $(nproc) cores; $THREADS UDP worker threads per server" \
	"(peercdnd dns.workers=$THREADS; gdnsd udp_threads=$THREADS, tcp_threads=1);" \
	"dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }'), one thread, all on 127.0.0.1"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- start both servers (each idles while the other is measured) -----------------
peercdnd_port=$(free_port 127.0.0.1)
metrics_port=$(free_port 127.0.0.1)
METRICS=http://127.0.0.1:$metrics_port/metrics
bench_federation "$WORK/federation.yaml"
"$PY" - "$WORK/federation.yaml" "$WORK/peercdn.yaml" "$peercdnd_port" "$THREADS" "$metrics_port" <<'EOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
d["dns"]["listen"] = ["127.0.0.1"]
d["dns"]["port"] = int(sys.argv[3])
d["dns"]["workers"] = int(sys.argv[4])
d["control"] = {"metrics_listen": "127.0.0.1", "metrics_port": int(sys.argv[5])}
yaml.safe_dump(d, open(sys.argv[2], "w"), sort_keys=False)
EOF
echo "peercdnd: $PEERCDND -c $WORK/peercdn.yaml (dns port $peercdnd_port, metrics $METRICS)"
"$PEERCDND" -c "$WORK/peercdn.yaml" >"$WORK/peercdnd.log" 2>&1 &
peercdnd_pid=$!
PIDS="$PIDS $peercdnd_pid"
wait_ready "$peercdnd_port" "$peercdnd_pid" ||
	die "peercdnd did not answer: $(tail -5 "$WORK/peercdnd.log")"

gdnsd_port=$(free_port 127.0.0.1)
start_gdnsd "$gdnsd_port" "$THREADS"
gdnsd_pid=$GDNSD_PID
wait_ready "$gdnsd_port" "$gdnsd_pid" || die "gdnsd did not answer: $(tail -5 "$WORK/gdnsd.log")"
[ "$(cat "/proc/$gdnsd_pid/comm")" = gdnsd ] || die "pid $gdnsd_pid is not gdnsd"

d0=$(sample peercdnd)
check_ecs "$peercdnd_port" peercdnd
check_ecs "$gdnsd_port" gdnsd
d1=$(sample peercdnd)
mix_check "peercdnd dig check" "$d0" "$d1" PEER 1

# ---- measurements: runs alternate between the servers ------------------------------
for kind in policy soa; do
	for srv in peercdnd gdnsd; do eval "${srv}_${kind}_qruns='' ${srv}_${kind}_cruns=''"; done
	for i in $(seq 1 "$RUNS"); do
		for srv in peercdnd gdnsd; do
			eval "port=\$${srv}_port pid=\$${srv}_pid"
			sat_run "$srv" "$pid" "$port" "$kind" "$i"
			eval "${srv}_${kind}_qruns=\"\$${srv}_${kind}_qruns $RV\""
		done
	done
	for srv in peercdnd gdnsd; do
		eval "port=\$${srv}_port"
		lat_run "$srv" "$port" "$kind" sat
		# shellcheck disable=SC2086
		set -- $RV
		eval "${srv}_${kind}_lsat=$1/$2"
		lat_run "$srv" "$port" "$kind" "$CPU_QPS" -Q "$CPU_QPS"
		# shellcheck disable=SC2086
		set -- $RV
		eval "${srv}_${kind}_lfix=$1/$2"
	done
	for i in $(seq 1 "$RUNS"); do
		for srv in peercdnd gdnsd; do
			eval "port=\$${srv}_port pid=\$${srv}_pid"
			cpu_run "$srv" "$pid" "$port" "$kind" "$i"
			eval "${srv}_${kind}_cruns=\"\$${srv}_${kind}_cruns $RV\""
		done
	done
	for srv in peercdnd gdnsd; do
		eval "qr=\$${srv}_${kind}_qruns cr=\$${srv}_${kind}_cruns"
		# shellcheck disable=SC2086
		eval "${srv}_${kind}_qps=$(median $qr) ${srv}_${kind}_cpu=$(median $cr)"
	done
done
stop_server "$peercdnd_pid"
stop_server "$gdnsd_pid"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- summary --------------------------------------------------------------------
echo
echo "summary (qps: median of $RUNS x ${SAT_SECS}s saturating runs; lat: p50/p99 in us of" \
	"one ${LAT_SECS}s -v run at saturation and one at $CPU_QPS qps; cpu/q: median of $RUNS x" \
	"${CPU_SECS}s runs of server utime+stime per completed query at $CPU_QPS qps offered, in us)"
printf '%-9s %-7s %9s %15s %15s %8s\n' server query qps "lat@sat" "lat@$CPU_QPS" "cpu/q"
for kind in policy soa; do
	for srv in peercdnd gdnsd; do
		eval "q=\$${srv}_${kind}_qps ls=\$${srv}_${kind}_lsat lf=\$${srv}_${kind}_lfix c=\$${srv}_${kind}_cpu"
		printf '%-9s %-7s %9.0f %15s %15s %8.2f\n' "$srv" "$kind" "$q" "$ls" "$lf" "$c"
	done
done
echo "every run (qps; cpu/q in us):"
for kind in policy soa; do
	for srv in peercdnd gdnsd; do
		eval "qr=\$${srv}_${kind}_qruns cr=\$${srv}_${kind}_cruns"
		# shellcheck disable=SC2086
		printf '  %-9s %-7s qps %s; cpu/q %s\n' "$srv" "$kind" "$(runs %.0f $qr)" "$(runs %.2f $cr)"
	done
done
echo
echo "mix policy: peercdnd PEER 100 % of $peercdnd_policy_decided decisions over every run" \
	"(0 PRIMARY, 0 OUTSIDE), 127.2.200.1 in all $peercdnd_digs dig checks;" \
	"gdnsd 127.2.200.1 in all $gdnsd_digs dig checks; every answer NOERROR"
echo "mix soa: peercdnd $peercdnd_soa_decided policy decisions (static answer); every answer NOERROR"
bench_provenance
echo "throughput ratio is peercdn / gdnsd; cpu ratio is gdnsd / peercdn (above 1.0: peercdn better);" \
	"ratios from the unrounded medians"
echo "ratio dns_qps_soa $(ratio "$peercdnd_soa_qps" "$gdnsd_soa_qps")"
echo "ratio dns_cpu_per_query_soa $(ratio "$gdnsd_soa_cpu" "$peercdnd_soa_cpu")"
echo "ratio dns_qps $(ratio "$peercdnd_policy_qps" "$gdnsd_policy_qps")"
echo "ratio dns_cpu_per_query $(ratio "$gdnsd_policy_cpu" "$peercdnd_policy_cpu")"
