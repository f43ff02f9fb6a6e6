#!/bin/bash
# bench/redirect (issue 4, item 8): peercdnd's HTTP 302 redirector against
# nginx `return 302`, and its CDSR responder against gdnsd answering a geoip
# name, on loopback, one after the other in the same run.
#
#   bench/redirect.sh          (from the repository root or anywhere inside it)
#
# Environment knobs (defaults in brackets):
#   RUNS [3]          runs per server and measurement; medians reported
#   HTTP_SECS [10]    length of each wrk run (wrk -t1 -c$WRK_CONN -d...)
#   WRK_CONN [64]     wrk connections
#   HTTP_2W [1]       1: also compare with 2 workers each (nginx worker_processes 2,
#                     peercdnd dns.workers 2); the primary ratio is 1 worker each
#   UDP_THREADS [1]   UDP workers of each UDP server (peercdnd dns.workers,
#                     gdnsd udp_threads; gdnsd also keeps its 1 TCP thread)
#   SAT_SECS [10]     length of each saturating udpperf run
#   UDP_SOCKS [8]     udpperf sockets (distinct source ports)
#   UDP_DEPTH [64]    udpperf outstanding requests per socket when saturating
#   CPU_QPS [50000]   offered rate of the CPU-per-answer runs (udpperf --rate)
#   CPU_SECS [10]     length of each CPU-per-answer run
#   PIN [1]           1: with 1 worker, pin each server to CPU 0 and the load
#                     generator (wrk, udpperf) to CPU 1 (taskset), which narrows
#                     the run-to-run spread (BENCH-NOTES); 2-worker runs are not pinned
#   CDSR_OPTS ["pad=512 hints family=4"]  the CDSR request's options (udpperf syntax)
#   BUILD [build-bench]  release build dir (made with -Dtests=false if missing)
#   KEEP [0]          1: keep the temp dir (configs, logs, tool outputs)
#   ALLOW_DIRTY [0]   1: run on a tree with uncommitted changes (the summary
#                     then says "dirty"); without it a dirty tree is refused
#
# Config: etc/peercdn.yaml with the agreements' capacity_rps removed
# (bench/lib.sh bench_federation; with acme-beta's 1 000 PEER decisions a
# second, >99 % of the CDSR answers to the beta client were OUTSIDE, from
# acme), control.metrics_listen 127.0.0.1 on a free port, and one role on.
#
# Which branch each test takes, checked in every run (the run fails
# otherwise) and printed beside the ratios:
#   HTTP  wrk connects from 127.0.0.1, which is in no client network: the
#         policy locates the client at the node's own AS (acme-n1, AS 100,
#         CLIENT_UNKNOWN) and takes the PRIMARY branch, an acme server
#         (`peercdnctl explain --client 127.0.0.1
#         http://abc.cdn.acme.net/www.abc.com/x`: PRIMARY, acme-s4
#         127.4.200.1 by affinity). The expected Location is taken from
#         that explain with the bench's config; every wrk run must add only
#         PRIMARY decisions (peercdn_http_decisions_total, at least one per
#         request wrk counted), no non-3xx answer, and a curl after each
#         run must get the same Location (nginx: its constant one).
#   CDSR  from 127.2.0.10 (beta's AS 200): the PEER branch, a beta server;
#         udpperf tallies every answer's branch and server, all must be
#         PEER and the one server the check before the runs got, and the
#         node's peercdn_cdsr_decisions_total must count only PEER.
#   DNS   gdnsd's answers, tallied by udpperf: all 127.2.200.1.
#
# HTTP (wrk 4.1, one thread, keep-alive):
#   peercdnd: etc/peercdn.yaml with only the http role on (dns/rtsp/cdsr off),
#             http.listen [127.10.0.1] (acme's HTTP anycast address), a free port,
#             status 302, max_per_source 100000 (wrk's connections all come from
#             127.0.0.1), dns.workers W (the node's worker threads).
#             Request: GET http://127.10.0.1:PORT/www.abc.com/x with
#             Host: abc.cdn.acme.net, a CDN URL: the policy decides every request.
#   nginx:    nginx-light 1.22, worker_processes W, keepalive_requests 1000000,
#             access_log off, `return 302 http://127.1.200.1:8080$request_uri;`
#             on 127.0.0.1 and a free port; same request path and Host header.
#   Both are checked first with curl -sI (302 and a Location). Runs alternate
#   peercdnd/nginx; requests/s is the median of RUNS runs of `wrk -t1 -c64
#   -d10s`. The servers' CPU per request (utime+stime of the process and its
#   children from /proc) over the same runs is printed for information.
#
# CDSR (udpperf, this directory: sendmmsg/recvmmsg, one thread, every socket
# bound to 127.2.0.10, a client of beta's AS 200):
#   peercdnd: etc/peercdn.yaml with only the cdsr role on, cdsr.listen
#             [127.10.0.1] (acme's CDSR anycast address), a free port, rate 0,
#             dns.workers UDP_THREADS. Request: `cdsr
#             http://abc.cdn.acme.net/www.abc.com/x pad=512 hints family=4`,
#             what the reference client sends (padded to 512, hints wanted):
#             a full policy decision per request, an OK answer with hints.
#   gdnsd:    bench/gdnsd/ as in bench/dns.sh (udp_threads UDP_THREADS), query
#             `ad102.web.abc.cdn.acme.net A` with ECS 127.2.0.0/24: the geoip
#             plugin's per-query choice (127.2.200.1).
#   Before measuring, each must answer the client's request OK (CDSR status ok,
#   DNS 127.2.200.1). Measurements, runs alternating peercdnd/gdnsd:
#   answers/s  udpperf -s UDP_SOCKS -q UDP_DEPTH -d SAT_SECS, median of RUNS;
#              beside each run the server's CPU us per answer in it, the share
#              of a core that rate took (on a shared machine the rate follows
#              the share the neighbours leave), udpperf's lost and the host's
#              UDP RcvbufErrors (gdnsd's kernel-default receive buffer holds
#              a few hundred of its queries, drops the rest; peercdnd's 4 MB, where
#              net.core.rmem_max allows it, holds all UDP_SOCKS x UDP_DEPTH,
#              so its queue and latency are longer at the same rate:
#              bench/RESULTS.md, session 17);
#   cpu/answer udpperf --rate CPU_QPS -d CPU_SECS; utime+stime of the server
#              (all threads) from /proc/PID/stat before and after, divided by
#              the answers received; median of RUNS (user and sys apart).
#   Latency p50/p99 is udpperf's, from the median runs.
#
# Every process started here (servers, wrk, udpperf) is killed by PID on exit.
# Ratios (above 1.0: peercdn better): http_rps = peercdnd / nginx requests/s
# (1 worker each; http_rps_2w with 2), cdsr_qps = peercdnd / gdnsd answers/s,
# cdsr_cpu = gdnsd / peercdnd CPU per answer. The last line is
# `ratio cdsr_cpu VALUE`.

# Per-server results live in variables named by eval.
# shellcheck disable=SC2154
BENCH=redirect
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
HTTP_SECS=${HTTP_SECS:-10}
WRK_CONN=${WRK_CONN:-64}
HTTP_2W=${HTTP_2W:-1}
UDP_THREADS=${UDP_THREADS:-1}
SAT_SECS=${SAT_SECS:-10}
UDP_SOCKS=${UDP_SOCKS:-8}
UDP_DEPTH=${UDP_DEPTH:-64}
CPU_QPS=${CPU_QPS:-50000}
CPU_SECS=${CPU_SECS:-10}
PIN=${PIN:-1}
CDSR_OPTS=${CDSR_OPTS:-pad=512 hints family=4}
BUILD=${BUILD:-build-bench}
CLIENT=127.2.0.10   # udpperf's source: a client of beta's AS 200 (etc/peercdn.yaml)
ANYCAST=127.10.0.1  # acme's HTTP and CDSR anycast address
HTTP_BRANCH=PRIMARY # wrk's 127.0.0.1 is in no client network: the node's AS 100
EXPECT=127.2.200.1  # gdnsd's geoip answer for that client
HOST=abc.cdn.acme.net
URLPATH=/www.abc.com/x

# ---- dependencies and build -------------------------------------------------
bench_build "$BUILD"
for t in gdnsd nginx wrk curl dig; do
	command -v "$t" >/dev/null || die "$t not found"
done
PEERCDND=$BUILD/src/node/peercdnd
UDPPERF=$BUILD/bench/udpperf
[ -x "$PEERCDND" ] || die "$PEERCDND not built"
[ -x "$UDPPERF" ] || die "$UDPPERF not built (meson -Dbench=true)"

# ---- helpers ------------------------------------------------------------------
# The run whose value is the median: its index (1-based) in the list.
median_index() {
	m=$(median "$@")
	i=0
	for v in "$@"; do
		i=$((i + 1))
		if [ "$v" = "$m" ]; then
			echo "$i"
			return
		fi
	done
}
f2() { printf '%.2f' "$1"; }

# taskset prefixes: servers on CPU 0, load generators on CPU 1 (with 1 worker).
SRV_PIN="" GEN_PIN=""
pin_for() { # workers
	if [ "$PIN" = 1 ] && [ "$1" = 1 ] && [ "$(nproc)" -ge 2 ]; then
		SRV_PIN="taskset -c 0" GEN_PIN="taskset -c 1"
	else
		SRV_PIN="" GEN_PIN=""
	fi
}

# The bench federation with one role on: peercdn_config FILE ROLE PORT
# WORKERS METRICS-PORT
bench_federation "$WORK/federation.yaml"
peercdn_config() {
	"$PY" - "$@" "$ANYCAST" "$WORK/federation.yaml" <<'EOF'
import sys, yaml
path, role, port, workers, metrics_port, anycast, base = sys.argv[1:8]
d = yaml.safe_load(open(base))
dns = d.get("dns") or {}
dns.update({"enabled": False, "workers": int(workers)})
dns.pop("port", None)
d["dns"] = dns
d["http"] = {"enabled": False}
d["rtsp"] = {"enabled": False}
d["cdsr"] = {"enabled": False}
if role == "http":
    d["http"] = {"enabled": True, "listen": [anycast], "port": int(port), "status": 302,
                 "max_per_source": 100000}
else:
    d["cdsr"] = {"enabled": True, "listen": [anycast], "port": int(port), "rate": 0}
d["control"] = {"metrics_listen": "127.0.0.1", "metrics_port": int(metrics_port)}
yaml.safe_dump(d, open(path, "w"), sort_keys=False)
EOF
}

start_peercdnd() { # role port workers -> SRV_PID, SRV_CONF, METRICS
	conf="$WORK/peercdn-$1-$3w.yaml"
	mport=$(free_port 127.0.0.1)
	METRICS=http://127.0.0.1:$mport/metrics
	SRV_CONF=$conf
	peercdn_config "$conf" "$1" "$2" "$3" "$mport"
	"$PEERCDND" -t -c "$conf" -n acme-n1 >/dev/null || die "peercdnd rejected $conf"
	echo "peercdnd ($1, $3 worker(s)): $PEERCDND -c $conf -n acme-n1 ($ANYCAST port $2, metrics $METRICS)"
	# shellcheck disable=SC2086
	$SRV_PIN "$PEERCDND" -c "$conf" -n acme-n1 >"$WORK/peercdnd-$1-$3w.log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
}

start_nginx() { # port workers -> SRV_PID
	d="$WORK/nginx-$2w"
	mkdir -p "$d/tmp"
	sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$1|g" -e "s|@WORKERS@|$2|g" \
		bench/redirect/nginx.conf.in >"$d/nginx.conf"
	echo "nginx ($2 worker(s)): nginx -p $d -e $d/error.log -c $d/nginx.conf -g 'daemon off;' (127.0.0.1 port $1)"
	# shellcheck disable=SC2086
	$SRV_PIN nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' >"$d/stderr.log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
}

# Wait (bounded, ~10 s) until a curl -sI gets a 302 with a Location.
check_http() { # name pid url
	for _ in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		head=$(curl -sI -m 2 -H "Host: $HOST" "$3" 2>/dev/null | tr -d '\r' || true)
		if echo "$head" | head -1 | grep -q '^HTTP/1.1 302' &&
			loc=$(echo "$head" | grep -i '^location: ' | cut -d' ' -f2) && [ -n "$loc" ]; then
			echo "check $1: curl -sI -H 'Host: $HOST' $3 -> 302, Location: $loc"
			LOC=$loc
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# One wrk run; sets RV to requests/s and CV to CPU us/request of the server
# (unrounded). Then the mix: only 3xx answers; peercdnd's decisions of the
# run all HTTP_BRANCH, at least one per request; the Location still EXPECT_LOC.
wrk_run() { # name pid url label expected-location
	name=$1 pid=$2 url=$3 label=$4 expect_loc=$5
	out="$WORK/wrk.$name.${label%% *}.$(date +%s%N)"
	if [ "$name" = peercdnd ]; then d0=$(decisions "$METRICS" http); fi
	t0=$(cpu_ticks "$pid" tree)
	# shellcheck disable=SC2086
	run_tool "$out" $GEN_PIN wrk -t1 -c"$WRK_CONN" -d"${HTTP_SECS}s" --latency -H "Host: $HOST" "$url" ||
		die "wrk failed: $(tail -3 "$out")"
	t1=$(cpu_ticks "$pid" tree)
	RV=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	n=$(awk '/requests in/ { print $1 }' "$out")
	if [ -z "$RV" ] || [ "${n:-0}" -eq 0 ]; then die "$name: no requests in $out"; fi
	errs=$(grep -E 'Socket errors|Non-2xx' "$out" | tr -s ' ' | tr '\n' ';' || true)
	# shellcheck disable=SC2086
	set -- $t0 $t1
	CV=$(per_unit_us $(($3 - $1 + $4 - $2)) "$n")
	echo "$name http run $label: $RV req/s, cpu $(f2 "$CV") us/req," \
		"p50/p99 $(awk '$1 == "50%" { a = $2 } $1 == "99%" { b = $2 } END { print a "/" b }' "$out")" \
		"${errs:+($errs)}"
	if grep -q 'Non-2xx or 3xx' "$out"; then die "$name: answers other than 2xx/3xx: $errs"; fi
	if [ "$name" = peercdnd ]; then
		d1=$(decisions "$METRICS" http)
		mix_check "peercdnd http run $label" "$d0" "$d1" "$HTTP_BRANCH" "$n"
		HTTP_DECIDED=$((HTTP_DECIDED + MIX_N))
	fi
	check_http "$name" "$pid" "$url" || die "$name: no 302 after the run"
	[ "$LOC" = "$expect_loc" ] || die "$name: Location $LOC after the run, expected $expect_loc"
	HTTP_CURLS=$((HTTP_CURLS + 1))
}
HTTP_DECIDED=0 HTTP_CURLS=0

# HTTP comparison with W workers each; sets HTTP_P_RPS, HTTP_N_RPS, ...
http_compare() { # workers
	w=$1
	pin_for "$w"
	p_port=$(free_port "$ANYCAST")
	start_peercdnd http "$p_port" "$w"
	p_pid=$SRV_PID
	n_port=$(free_port 127.0.0.1)
	start_nginx "$n_port" "$w"
	n_pid=$SRV_PID
	p_url="http://$ANYCAST:$p_port$URLPATH"
	n_url="http://127.0.0.1:$n_port$URLPATH"
	check_http peercdnd "$p_pid" "$p_url" || die "peercdnd: no 302: $(tail -5 "$WORK/peercdnd-http-${w}w.log")"
	p_loc=$LOC
	# The branch and server the policy takes for wrk's 127.0.0.1, from the
	# policy engine itself on the same config.
	explained=$("$BUILD/src/ctl/peercdnctl" explain --config "$SRV_CONF" --client 127.0.0.1 \
		"http://$HOST$URLPATH") || die "peercdnctl explain failed"
	e_branch=$(echo "$explained" | sed -n 's/^answer *\([A-Z]*\).*/\1/p')
	e_server=$(echo "$explained" | sed -n 's/^ *-> \([^ ]*\) \([^ ]*\).*/\1 \2/p' | head -1)
	echo "explain --client 127.0.0.1 http://$HOST$URLPATH: $e_branch, $e_server" \
		"($(echo "$explained" | sed -n 's/^client *//p' | head -1))"
	[ "$e_branch" = "$HTTP_BRANCH" ] || die "explain says $e_branch for 127.0.0.1, the bench states $HTTP_BRANCH"
	case $p_loc in
	"http://${e_server#* }:"*) ;;
	*) die "peercdnd's Location $p_loc is not explain's server $e_server" ;;
	esac
	HTTP_SERVER=$e_server
	check_http nginx "$n_pid" "$n_url" || die "nginx: no 302: $(tail -5 "$WORK/nginx-${w}w/error.log")"
	n_loc=$LOC
	pr="" pc="" nr="" nc=""
	for i in $(seq 1 "$RUNS"); do
		wrk_run peercdnd "$p_pid" "$p_url" "$i (${w}w)" "$p_loc"
		pr="$pr $RV" pc="$pc $CV"
		wrk_run nginx "$n_pid" "$n_url" "$i (${w}w)" "$n_loc"
		nr="$nr $RV" nc="$nc $CV"
	done
	stop_server "$p_pid"
	stop_server "$n_pid"
	# shellcheck disable=SC2086
	HTTP_P_RPS=$(median $pr) HTTP_P_CPU=$(median $pc) HTTP_N_RPS=$(median $nr) HTTP_N_CPU=$(median $nc)
	HTTP_P_RUNS=$pr HTTP_N_RUNS=$nr HTTP_P_CRUNS=$pc HTTP_N_CRUNS=$nc
}

# ---- CDSR / DNS over udpperf ---------------------------------------------------------
printf 'cdsr http://%s%s %s\n' "$HOST" "$URLPATH" "$CDSR_OPTS" >"$WORK/cdsr.req"
printf 'dns ad102.web.abc.cdn.acme.net A ecs=127.2.0.0/24\n' >"$WORK/dns.req"

val() { # file key [field] -> value
	awk -v k="$2" -v f="${3:-2}" '$1 == k { print $f; exit }' "$1"
}

# The host's UDP receive-buffer drops so far (/proc/net/snmp Udp
# RcvbufErrors: every socket of the network namespace, the neighbours' too).
rcvbuf_errors() { awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 }' /proc/net/snmp; }

# One saturating run; sets RV to answers/s, LV to "p50/p99", PV to the
# server's CPU us per answer in the run and SV to the share of one core
# (%) that answering at RV took (RV x PV). At saturation answers/s = share / cost per answer: on a
# shared machine the share is what the neighbours leave the server, so a
# rate is read beside it. A socket whose buffer is full drops (udpperf's
# lost, RcvbufErrors), and a request lost holds its udpperf slot for the
# 1 s timeout: fewer are then queued, which lowers the latency.
udp_sat() { # name pid port reqfile run
	out="$WORK/udp.$1.sat$5"
	if [ "$1" = peercdnd ]; then d0=$(decisions "$METRICS" cdsr); fi
	e0=$(rcvbuf_errors) t0=$(cpu_ticks "$2")
	# shellcheck disable=SC2086
	run_tool "$out" $GEN_PIN "$UDPPERF" -f "$4" -b "$CLIENT" -s "$UDP_SOCKS" -q "$UDP_DEPTH" \
		-d "$SAT_SECS" "$(addr_of "$1")" "$3" || die "udpperf failed: $(tail -3 "$out")"
	t1=$(cpu_ticks "$2") e1=$(rcvbuf_errors)
	RV=$(val "$out" answers_per_s)
	LV="$(val "$out" latency_us 3)/$(val "$out" latency_us 7)"
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" "$4" "$5" $t0 $t1
	ticks=$(($8 - $6 + $9 - $7))
	PV=$(per_unit_us "$ticks" "$(val "$out" answered)")
	SV=$(awk -v r="$RV" -v p="$PV" 'BEGIN { printf "%.0f", r * p / 1e4 }')
	echo "$1 qps run $5: $RV answers/s (sent $(val "$out" sent), lost $(val "$out" lost)," \
		"RcvbufErrors +$((e1 - e0)), p50/p99 $LV us, server cpu $SV % of a core, $(f2 "$PV") us/answer," \
		"$(grep -E '^(status|rcode) ' "$out" | tr '\n' ' ')udpperf cpu $(val "$out" self_cpu_s 3)+$(val "$out" self_cpu_s 5) s)"
	udp_mix "$1" "$out" "sat run $5" "${d0:-}"
}

# Every answer of a run of the stated branch and server (udpperf's tally),
# and for peercdnd every decision the node counted PEER.
udp_mix() { # name out label decisions-before
	if [ "$1" = peercdnd ]; then
		udp_mix_check "peercdnd cdsr $3" "$2" PEER "$CDSR_SERVER"
		d1=$(decisions "$METRICS" cdsr)
		mix_check "peercdnd cdsr $3" "$4" "$d1" PEER "$(val "$2" answered)"
		CDSR_DECIDED=$((CDSR_DECIDED + MIX_N))
		CDSR_TALLIED=$((CDSR_TALLIED + $(val "$2" answered)))
	else
		udp_mix_check "gdnsd $3" "$2" - "$EXPECT"
		DNS_TALLIED=$((DNS_TALLIED + $(val "$2" answered)))
	fi
}
CDSR_DECIDED=0 CDSR_TALLIED=0 DNS_TALLIED=0

# One fixed-rate run; sets RV to the server's CPU us per answer, LV to p50/p99.
udp_cpu() { # name pid port reqfile run
	name=$1 run=$5
	out="$WORK/udp.$1.cpu$5"
	if [ "$1" = peercdnd ]; then d0=$(decisions "$METRICS" cdsr); fi
	t0=$(cpu_ticks "$2")
	# shellcheck disable=SC2086
	run_tool "$out" $GEN_PIN "$UDPPERF" -f "$4" -b "$CLIENT" -s "$UDP_SOCKS" -q 500 -r "$CPU_QPS" \
		-d "$CPU_SECS" "$(addr_of "$1")" "$3" || die "udpperf failed: $(tail -3 "$out")"
	t1=$(cpu_ticks "$2")
	n=$(val "$out" answered)
	[ "${n:-0}" -gt 0 ] || die "$name: no answers in the CPU run"
	# shellcheck disable=SC2086
	set -- $t0 $t1
	RV=$(per_unit_us $(($3 - $1 + $4 - $2)) "$n")
	LV="$(val "$out" latency_us 3)/$(val "$out" latency_us 7)"
	echo "$name cpu run $run at $CPU_QPS/s: $(f2 "$RV") us/answer (user $(f2 "$(per_unit_us $(($3 - $1)) "$n")") + sys" \
		"$(f2 "$(per_unit_us $(($4 - $2)) "$n")"); $(($3 - $1 + $4 - $2)) ticks for $n answers;" \
		"lost $(val "$out" lost); p50/p99 $LV us)"
	udp_mix "$name" "$out" "cpu run $run" "${d0:-}"
}

addr_of() { if [ "$1" = peercdnd ]; then echo "$ANYCAST"; else echo 127.0.0.1; fi; }

# The server must answer the client's request as expected (bounded, ~10 s).
check_udp() { # name pid port reqfile
	out="$WORK/udp.$1.check"
	for _ in $(seq 1 50); do
		kill -0 "$2" 2>/dev/null || return 1
		if "$UDPPERF" -f "$4" -b "$CLIENT" -s 1 -q 1 -r 20 -d 0.1 -t 0.2 \
			"$(addr_of "$1")" "$3" >"$out" 2>&1; then
			break
		fi
		sleep 0.2
	done
	good=$(val "$out" answered)
	[ "${good:-0}" -gt 0 ] || return 1
	if [ "$1" = peercdnd ]; then
		[ "$(awk '$1 == "status" && $2 == "ok" { print $3 }' "$out")" = "$good" ] ||
			die "peercdnd: CDSR answers not all ok: $(grep '^status' "$out" | tr '\n' ' ')"
		# the answer itself, decoded: server address and branch
		got=$(cdsr_probe "$ANYCAST" "$3" "$CLIENT" "$("$UDPPERF" -f "$4" --dump | head -1)") ||
			die "peercdnd: bad CDSR answer"
		echo "check peercdnd: CDSR from $CLIENT for http://$HOST$URLPATH -> $got"
		# The stated mix: PEER, one beta server, every answer the same.
		case $got in
		"status ok, 127."[235]".200.1:"*", branch PEER,"*) ;;
		*) die "peercdnd: the beta client's CDSR answer is not PEER to a beta server: $got" ;;
		esac
		CDSR_SERVER=${got#status ok, }
		CDSR_SERVER=${CDSR_SERVER%%:*}
	else
		[ "$(awk '$1 == "rcode" && $2 == "NOERROR" { print $3 }' "$out")" = "$good" ] ||
			die "gdnsd: not all NOERROR: $(grep '^rcode' "$out" | tr '\n' ' ')"
		got=$(dig @127.0.0.1 -p "$3" +norec +time=2 +tries=1 +subnet=127.2.0.0/24 \
			ad102.web.abc.cdn.acme.net A +short)
		[ "$got" = "$EXPECT" ] || die "gdnsd answered '$got', expected $EXPECT"
		echo "check gdnsd: ad102.web.abc.cdn.acme.net A, ECS 127.2.0.0/24 -> $got"
	fi
}

# ---- run ------------------------------------------------------------------------
echo "bench/redirect: $(nproc) cores; $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2);" \
	"$(nginx -v 2>&1 | cut -d' ' -f3); gdnsd $(gdnsd -h 2>&1 | awk '/^gdnsd version/ { print $3 }' | head -1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); pinning (1 worker): $([ "$PIN" = 1 ] && echo "servers CPU 0, wrk/udpperf CPU 1" || echo off)"
echo "cdsr request: $(cat "$WORK/cdsr.req")"

echo
echo "== HTTP: wrk -t1 -c$WRK_CONN -d${HTTP_SECS}s, 1 worker each (primary) =="
http_compare 1
h1_p=$HTTP_P_RPS h1_n=$HTTP_N_RPS h1_pc=$HTTP_P_CPU h1_nc=$HTTP_N_CPU
h1_pr=$HTTP_P_RUNS h1_nr=$HTTP_N_RUNS h1_pc_runs=$HTTP_P_CRUNS h1_nc_runs=$HTTP_N_CRUNS
if [ "$HTTP_2W" = 1 ]; then
	echo
	echo "== HTTP: 2 workers each (wrk shares the two cores: see BENCH-NOTES) =="
	http_compare 2
	h2_p=$HTTP_P_RPS h2_n=$HTTP_N_RPS h2_pc=$HTTP_P_CPU h2_nc=$HTTP_N_CPU
	h2_pr=$HTTP_P_RUNS h2_nr=$HTTP_N_RUNS h2_pc_runs=$HTTP_P_CRUNS h2_nc_runs=$HTTP_N_CRUNS
fi

echo
echo "== CDSR vs DNS: udpperf from $CLIENT, $UDP_THREADS UDP worker(s) each =="
pin_for "$UDP_THREADS"
c_port=$(free_port "$ANYCAST")
start_peercdnd cdsr "$c_port" "$UDP_THREADS"
c_pid=$SRV_PID
g_port=$(free_port 127.0.0.1)
# shellcheck disable=SC2086
start_gdnsd "$g_port" "$UDP_THREADS" $SRV_PIN
g_pid=$GDNSD_PID
check_udp peercdnd "$c_pid" "$c_port" "$WORK/cdsr.req" ||
	die "peercdnd did not answer CDSR: $(tail -5 "$WORK/peercdnd-cdsr-${UDP_THREADS}w.log")"
check_udp gdnsd "$g_pid" "$g_port" "$WORK/dns.req" ||
	die "gdnsd did not answer: $(tail -5 "$WORK/gdnsd.log")"
[ "$(cat "/proc/$g_pid/comm")" = gdnsd ] || die "pid $g_pid is not gdnsd"

pq="" gq="" pl="" gl="" ps="" gs="" pp="" gp=""
for i in $(seq 1 "$RUNS"); do
	udp_sat peercdnd "$c_pid" "$c_port" "$WORK/cdsr.req" "$i"
	pq="$pq $RV" pl="$pl $LV" ps="$ps $SV" pp="$pp $PV"
	udp_sat gdnsd "$g_pid" "$g_port" "$WORK/dns.req" "$i"
	gq="$gq $RV" gl="$gl $LV" gs="$gs $SV" gp="$gp $PV"
done
pc="" gc="" pfl="" gfl=""
for i in $(seq 1 "$RUNS"); do
	udp_cpu peercdnd "$c_pid" "$c_port" "$WORK/cdsr.req" "$i"
	pc="$pc $RV" pfl="$pfl $LV"
	udp_cpu gdnsd "$g_pid" "$g_port" "$WORK/dns.req" "$i"
	gc="$gc $RV" gfl="$gfl $LV"
done
stop_server "$c_pid"
stop_server "$g_pid"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# shellcheck disable=SC2086
{
	c_q=$(median $pq) g_q=$(median $gq) c_c=$(median $pc) g_c=$(median $gc)
	c_l=$(echo $pl | cut -d' ' -f"$(median_index $pq)")
	g_l=$(echo $gl | cut -d' ' -f"$(median_index $gq)")
	c_fl=$(echo $pfl | cut -d' ' -f"$(median_index $pc)")
	g_fl=$(echo $gfl | cut -d' ' -f"$(median_index $gc)")
}

# ---- summary --------------------------------------------------------------------
echo
echo "summary (medians of $RUNS runs; HTTP: wrk -t1 -c$WRK_CONN -d${HTTP_SECS}s; UDP: udpperf" \
	"-s $UDP_SOCKS -q $UDP_DEPTH -d $SAT_SECS saturating, --rate $CPU_QPS -d $CPU_SECS for CPU)"
printf '%-22s %-8s %12s %12s  %s\n' test server "per s" "cpu us/unit" "runs / latency p50/p99 us"
printf '%-22s %-8s %12.0f %12.2f  %s\n' "http 302, 1 worker" peercdnd "$h1_p" "$h1_pc" "$h1_pr"
printf '%-22s %-8s %12.0f %12.2f  %s\n' "http 302, 1 worker" nginx "$h1_n" "$h1_nc" "$h1_nr"
if [ "$HTTP_2W" = 1 ]; then
	printf '%-22s %-8s %12.0f %12.2f  %s\n' "http 302, 2 workers" peercdnd "$h2_p" "$h2_pc" "$h2_pr"
	printf '%-22s %-8s %12.0f %12.2f  %s\n' "http 302, 2 workers" nginx "$h2_n" "$h2_nc" "$h2_nr"
fi
printf '%-22s %-8s %12.0f %12.2f  %s\n' "cdsr / dns geoip" peercdnd "$c_q" "$c_c" "sat $c_l, at $CPU_QPS/s $c_fl"
printf '%-22s %-8s %12.0f %12.2f  %s\n' "cdsr / dns geoip" gdnsd "$g_q" "$g_c" "sat $g_l, at $CPU_QPS/s $g_fl"
echo "every run (per s; cpu us/unit):"
# shellcheck disable=SC2086
{
	printf '  http 1w  peercdnd %s; cpu %s\n' "$(runs %.0f $h1_pr)" "$(runs %.2f $h1_pc_runs)"
	printf '  http 1w  nginx    %s; cpu %s\n' "$(runs %.0f $h1_nr)" "$(runs %.2f $h1_nc_runs)"
	if [ "$HTTP_2W" = 1 ]; then
		printf '  http 2w  peercdnd %s; cpu %s\n' "$(runs %.0f $h2_pr)" "$(runs %.2f $h2_pc_runs)"
		printf '  http 2w  nginx    %s; cpu %s\n' "$(runs %.0f $h2_nr)" "$(runs %.2f $h2_nc_runs)"
	fi
	printf '  udp      peercdnd %s; cpu %s\n' "$(runs %.0f $pq)" "$(runs %.2f $pc)"
	printf '  udp      gdnsd    %s; cpu %s\n' "$(runs %.0f $gq)" "$(runs %.2f $gc)"
	printf '  udp sat  peercdnd server cpu %s %% of a core; %s us/answer\n' "$(runs %.0f $ps)" "$(runs %.2f $pp)"
	printf '  udp sat  gdnsd    server cpu %s %% of a core; %s us/answer\n' "$(runs %.0f $gs)" "$(runs %.2f $gp)"
}
echo
echo "mix http: peercdnd $HTTP_BRANCH 100 % of $HTTP_DECIDED decisions over every run (wrk's 127.0.0.1" \
	"is in no client network: the node's AS 100, CLIENT_UNKNOWN), Location $HTTP_SERVER after every run;" \
	"nginx its constant Location ($HTTP_CURLS curl checks in all)"
echo "mix cdsr: peercdnd PEER $CDSR_SERVER in all $CDSR_TALLIED answers tallied, PEER 100 % of" \
	"$CDSR_DECIDED decisions counted"
echo "mix dns: gdnsd $EXPECT in all $DNS_TALLIED answers tallied"
bench_provenance
echo "throughput ratios are peercdn / anchor; cpu ratio is anchor / peercdn (above 1.0: peercdn better);" \
	"ratios from the unrounded medians"
echo "primary HTTP ratio: 1 worker each"
if [ "$HTTP_2W" = 1 ]; then
	echo "ratio http_rps_2w $(ratio "$h2_p" "$h2_n")"
fi
echo "ratio http_rps $(ratio "$h1_p" "$h1_n")"
echo "ratio cdsr_qps $(ratio "$c_q" "$g_q")"
echo "ratio cdsr_cpu $(ratio "$g_c" "$c_c")"
