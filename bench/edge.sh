#!/bin/bash
# bench/edge (issue 10, item 10): the peercdn edge's hit path against nginx
# serving the same objects from its proxy cache, on loopback, one after the
# other in the same run; then a flash crowd through a three-level tree of
# peercdn edges, and the memory each cached object costs.
#
#   bench/edge.sh          (from the repository root or anywhere inside it)
#
# Environment knobs (defaults in brackets):
#   RUNS [3]          runs per server and object size; medians reported
#   HTTP_SECS [10]    length of each wrk run (wrk -t1 -c$WRK_CONN -d...)
#   WRK_CONN [64]     wrk connections
#   CROWD [10000]     flash-crowd requests ...
#   OBJECTS [100]     ... over this many cold objects
#   CROWD_CONN [200]  flash-crowd connections at once
#   MEM_OBJECTS [10000]  small objects loaded to measure memory per object
#   PIN [1]           1: servers on CPU 0, wrk on CPU 1 (taskset)
#   BUILD [build-bench]  release build dir (made with -Dtests=false if missing)
#   KEEP [0], ALLOW_DIRTY [0]  as in bench/lib.sh
#
# Origin: tests/system/origin_server.py (the system tests' origin) on
# 127.0.0.1, counting requests per path. Objects: /www.abc.com/k1 (1 KiB)
# and /www.abc.com/m1 (1 MiB), Cache-Control max-age=86400.
# peercdnd: only the edge role on, one worker, listen 127.1.201.1 (acme-core),
#   memory_mb 512, origins www.abc.com=<origin>, access_log off ("").
# nginx: nginx-light, bench/edge/nginx.conf.in: proxy_cache on its
#   filesystem cache (served from the page cache), proxy_cache_lock,
#   keepalive to the origin, access_log off, sendfile on, 1 worker.
# Both are warmed (two curl GETs each, the second a HIT) before wrk runs.
#
# The mix, checked in every run (the run fails otherwise): the origin's
# count of each object does not move during the runs (every answer was a
# hit), wrk reports no non-2xx answer, and peercdnd's
# peercdn_edge_requests_total{result="hit"} grows by at least wrk's count.
#
# Flash crowd: three fresh peercdnd edges, edge3 (127.1.200.2) -> edge2
# (127.1.200.1) -> edge1 (127.1.201.1) -> origin (which waits 50 ms per
# answer), bench/edge/crowd.py sending CROWD requests for OBJECTS cold 10 KiB
# objects to edge3 over CROWD_CONN keep-alive connections. Reported: the
# origin's fetches (must be exactly OBJECTS, one per object), each level's
# peercdn_edge_upstream_fetches_total (must be OBJECTS each), p50/p99.
#
# Memory per object: a fresh edge, VmRSS before and after MEM_OBJECTS cold
# 100-byte objects are fetched through it, minus the bodies, per object.
#
# Ratios (above 1.0: peercdn better): hit_1k_rps = peercdnd / nginx
# requests/s on 1 KiB, hit_1k_cpu = nginx / peercdnd CPU per request,
# hit_1m_gbps = peercdnd / nginx Gbit/s of 1 MiB bodies. The last line is
# `ratio hit_1m_gbps VALUE`.
BENCH=edge
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
HTTP_SECS=${HTTP_SECS:-10}
WRK_CONN=${WRK_CONN:-64}
CROWD=${CROWD:-10000}
OBJECTS=${OBJECTS:-100}
CROWD_CONN=${CROWD_CONN:-200}
MEM_OBJECTS=${MEM_OBJECTS:-10000}
PIN=${PIN:-1}
BUILD=${BUILD:-build-bench}
EDGE1=127.1.201.1 EDGE2=127.1.200.1 EDGE3=127.1.200.2
HOST=abc.cdn.acme.net
CC=max-age%3D86400
K1="/www.abc.com/k1?size=1024&cc=$CC"
M1="/www.abc.com/m1?size=1048576&cc=$CC"

bench_build "$BUILD"
for t in nginx wrk curl; do
	command -v "$t" >/dev/null || die "$t not found"
done
PEERCDND=$BUILD/src/node/peercdnd
[ -x "$PEERCDND" ] || die "$PEERCDND not built"
SRV_PIN="" GEN_PIN=""
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then SRV_PIN="taskset -c 0" GEN_PIN="taskset -c 1"; fi
f2() { printf '%.2f' "$1"; }
metric() { # metrics-url name [label-filter]: the sum of the series
	curl -s -m 5 "$1" | awk -v n="$2" -v f="${3:-}" \
		'$1 == n || index($1, n "{") == 1 { if (f == "" || index($1, f)) s += $2 } END { printf "%d", s }'
}

# ---- the origin --------------------------------------------------------------
start_origin() { # delay-ms-param -> ORIGIN (addr:port), ORIGIN_PID
	"$PY" tests/system/origin_server.py --address 127.0.0.1 --port 0 >"$WORK/origin.out" 2>&1 &
	ORIGIN_PID=$!
	PIDS="$PIDS $ORIGIN_PID"
	for _ in $(seq 1 100); do
		grep -q '^ready' "$WORK/origin.out" && break
		sleep 0.1
	done
	ORIGIN=$(sed -n 's|^ready http://||p' "$WORK/origin.out")
	[ -n "$ORIGIN" ] || die "origin did not start: $(cat "$WORK/origin.out")"
}
origin_count() { # path (no query) -> requests the origin had for it
	curl -s -m 5 "http://$ORIGIN/__counts" | "$PY" -c \
		"import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))" "$1"
}
origin_total() {
	curl -s -m 5 "http://$ORIGIN/__counts" | "$PY" -c \
		"import json,sys; c=json.load(sys.stdin); print(sum(c.values()), len(c), max(c.values() or [0]))"
}

# ---- servers --------------------------------------------------------------------
bench_federation "$WORK/federation.yaml"
edge_config() { # file listen port metrics-port parent("" for none)
	"$PY" - "$@" "$ORIGIN" "$WORK/federation.yaml" <<'PYEOF'
import sys, yaml
path, listen, port, metrics_port, parent, origin, base = sys.argv[1:8]
d = yaml.safe_load(open(base))
for role in ("dns", "http", "rtsp", "cdsr"):
    d[role] = {"enabled": False}
d["control"] = {"metrics_listen": "127.0.0.1", "metrics_port": int(metrics_port)}
d["edge"] = {"enabled": True, "listen": [listen], "port": int(port),
             "origins": [f"www.abc.com={origin}"], "parents": [parent] if parent else [],
             "memory_mb": 512, "max_object_mb": 64, "disk_path": "", "access_log": "",
             "max_clients": 20000, "max_per_source": 20000}
yaml.safe_dump(d, open(path, "w"), sort_keys=False)
PYEOF
}
start_edge() { # name listen parent -> SRV_PID, SRV_PORT, METRICS
	SRV_PORT=$(free_port "$2")
	mport=$(free_port 127.0.0.1)
	METRICS=http://127.0.0.1:$mport/metrics
	edge_config "$WORK/$1.yaml" "$2" "$SRV_PORT" "$mport" "$3"
	"$PEERCDND" -t -c "$WORK/$1.yaml" -n acme-n1 >/dev/null || die "peercdnd rejected $WORK/$1.yaml"
	# shellcheck disable=SC2086
	$SRV_PIN "$PEERCDND" -c "$WORK/$1.yaml" -n acme-n1 >"$WORK/$1.log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
	for _ in $(seq 1 100); do
		grep -q 'msg=started' "$WORK/$1.log" && return 0
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	die "$1 did not start: $(tail -5 "$WORK/$1.log")"
}
start_nginx() { # port -> SRV_PID
	d="$WORK/nginx"
	mkdir -p "$d/tmp"
	sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$1|g" -e "s|@WORKERS@|1|g" -e "s|@ORIGIN@|$ORIGIN|g" \
		bench/edge/nginx.conf.in >"$d/nginx.conf"
	# shellcheck disable=SC2086
	$SRV_PIN nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' >"$d/stderr.log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
}

# Two GETs; the second must be a HIT with the whole body.
warm() { # name base-url path size
	for i in 1 2; do
		for _ in $(seq 1 50); do
			curl -s -m 10 -o "$WORK/body" -D "$WORK/head" -H "Host: $HOST" "$2$3" && break
			sleep 0.1
		done
	done
	tr -d '\r' <"$WORK/head" | grep -qi '^x-cache: hit' || die "$1: no HIT for $3: $(tr -d '\r' <"$WORK/head" | tr '\n' ' ')"
	[ "$(stat -c %s "$WORK/body")" = "$4" ] || die "$1: body of $3 is not $4 bytes"
	echo "check $1: $3 -> HIT, $4 bytes"
}

# One wrk run; RV requests/s, CV cpu us/request, NV requests.
wrk_run() { # name pid url path-no-query label
	out="$WORK/wrk.$1.$(date +%s%N)"
	before=$(origin_count "$4")
	h0=0
	if [ "$1" = peercdnd ]; then h0=$(metric "$METRICS" peercdn_edge_requests_total 'result="hit"'); fi
	t0=$(cpu_ticks "$2" tree)
	# shellcheck disable=SC2086
	run_tool "$out" $GEN_PIN wrk -t1 -c"$WRK_CONN" -d"${HTTP_SECS}s" -H "Host: $HOST" "$3" ||
		die "wrk failed: $(tail -3 "$out")"
	t1=$(cpu_ticks "$2" tree)
	RV=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	NV=$(awk '/requests in/ { print $1 }' "$out")
	if [ -z "$RV" ] || [ "${NV:-0}" -eq 0 ]; then die "$1: no requests in $out"; fi
	if grep -q 'Non-2xx' "$out"; then die "$1: non-2xx answers: $(grep Non-2xx "$out")"; fi
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" "$4" "$5" $t0 $t1
	CV=$(per_unit_us $(($8 - $6 + $9 - $7)) "$NV")
	[ "$(origin_count "$4")" = "$before" ] || die "$1: the origin was asked during the run (not all hits)"
	if [ "$1" = peercdnd ]; then
		h1=$(metric "$METRICS" peercdn_edge_requests_total 'result="hit"')
		[ $((h1 - h0)) -ge "$NV" ] || die "peercdnd: $((h1 - h0)) hits counted for $NV requests"
	fi
	echo "$1 $5: $RV req/s, cpu $(f2 "$CV") us/req ($NV requests, origin count of $4 still $before)"
}

echo "bench/edge: $(nproc) cores; $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(nginx -v 2>&1 | cut -d' ' -f3)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- hit path: 1 KiB and 1 MiB ---------------------------------------------------
start_origin
start_edge edge "$EDGE1" ""
p_pid=$SRV_PID p_url=http://$EDGE1:$SRV_PORT p_metrics=$METRICS
n_port=$(free_port 127.0.0.1)
start_nginx "$n_port"
n_pid=$SRV_PID n_url=http://127.0.0.1:$n_port
for s in "$K1 1024" "$M1 1048576"; do
	# shellcheck disable=SC2086
	set -- $s
	warm peercdnd "$p_url" "$1" "$2"
	warm nginx "$n_url" "$1" "$2"
done
METRICS=$p_metrics
k_pr="" k_pc="" k_nr="" k_nc="" m_pr="" m_nr=""
for i in $(seq 1 "$RUNS"); do
	wrk_run peercdnd "$p_pid" "$p_url$K1" /k1 "1KiB run $i"
	k_pr="$k_pr $RV" k_pc="$k_pc $CV"
	wrk_run nginx "$n_pid" "$n_url$K1" /k1 "1KiB run $i"
	k_nr="$k_nr $RV" k_nc="$k_nc $CV"
	wrk_run peercdnd "$p_pid" "$p_url$M1" /m1 "1MiB run $i"
	m_pr="$m_pr $(awk -v r="$RV" 'BEGIN { printf "%.3f", r * 1048576 * 8 / 1e9 }')"
	wrk_run nginx "$n_pid" "$n_url$M1" /m1 "1MiB run $i"
	m_nr="$m_nr $(awk -v r="$RV" 'BEGIN { printf "%.3f", r * 1048576 * 8 / 1e9 }')"
done
stop_server "$p_pid"
stop_server "$n_pid"
stop_server "$ORIGIN_PID"

# ---- flash crowd through a three-level tree -----------------------------------------
start_origin
start_edge edge1 "$EDGE1" ""
m1=$METRICS
start_edge edge2 "$EDGE2" "$EDGE1:$SRV_PORT"
m2=$METRICS
start_edge edge3 "$EDGE3" "$EDGE2:$SRV_PORT"
m3=$METRICS e3_port=$SRV_PORT
for i in $(seq 1 "$OBJECTS"); do echo "/www.abc.com/crowd$i?size=10240&cc=$CC&delay=50"; done >"$WORK/crowd.paths"
run_tool "$WORK/crowd.out" "$PY" bench/edge/crowd.py "$EDGE3" "$e3_port" "$HOST" "$WORK/crowd.paths" \
	"$CROWD" "$CROWD_CONN" || die "flash crowd: $(cat "$WORK/crowd.out")"
crowd=$(cat "$WORK/crowd.out")
# shellcheck disable=SC2046
set -- $(origin_total)
o_total=$1 o_paths=$2 o_max=$3
f1=$(metric "$m1" peercdn_edge_upstream_fetches_total)
f2_=$(metric "$m2" peercdn_edge_upstream_fetches_total)
f3=$(metric "$m3" peercdn_edge_upstream_fetches_total)
echo "flash crowd: $crowd; origin fetches $o_total ($o_paths objects, at most $o_max each);" \
	"upstream fetches edge3 $f3, edge2 $f2_, edge1 $f1"
if [ "$o_total" != "$OBJECTS" ] || [ "$o_max" != 1 ]; then
	die "flash crowd: $o_total origin fetches for $OBJECTS objects"
fi
for f in "$f1" "$f2_" "$f3"; do [ "$f" = "$OBJECTS" ] || die "flash crowd: a level fetched $f times, not $OBJECTS"; done
for p in $PIDS; do [ "$p" = "$ORIGIN_PID" ] || stop_server "$p"; done

# ---- memory per cached object ------------------------------------------------------
start_edge memedge "$EDGE1" ""
mem_pid=$SRV_PID
for i in $(seq 1 "$MEM_OBJECTS"); do echo "/www.abc.com/mem$i?size=100&cc=$CC"; done >"$WORK/mem.paths"
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$mem_pid/status")
run_tool "$WORK/mem.out" "$PY" bench/edge/crowd.py "$EDGE1" "$SRV_PORT" "$HOST" "$WORK/mem.paths" \
	"$MEM_OBJECTS" 20 || die "memory load: $(cat "$WORK/mem.out")"
rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$mem_pid/status")
per_object=$(awk -v a="$rss0" -v b="$rss1" -v n="$MEM_OBJECTS" 'BEGIN { printf "%.0f", (b - a) * 1024 / n - 100 }')
echo "memory: VmRSS $rss0 -> $rss1 KiB for $MEM_OBJECTS objects of 100 bytes: $per_object bytes of overhead per object"
stop_server "$mem_pid"
stop_server "$ORIGIN_PID"

# ---- summary -----------------------------------------------------------------------
# shellcheck disable=SC2086
{
	kp=$(median $k_pr) kn=$(median $k_nr) kpc=$(median $k_pc) knc=$(median $k_nc)
	mp=$(median $m_pr) mn=$(median $m_nr)
}
echo
echo "summary (medians of $RUNS runs; wrk -t1 -c$WRK_CONN -d${HTTP_SECS}s, 1 worker each)"
printf '%-16s %-8s %12s %12s  %s\n' test server "per s" "cpu us/req" runs
printf '%-16s %-8s %12.0f %12.2f  %s\n' "hit 1 KiB" peercdnd "$kp" "$kpc" "$k_pr"
printf '%-16s %-8s %12.0f %12.2f  %s\n' "hit 1 KiB" nginx "$kn" "$knc" "$k_nr"
printf '%-16s %-8s %12s %12s  %s\n' "hit 1 MiB Gbit/s" peercdnd "$mp" - "$m_pr"
printf '%-16s %-8s %12s %12s  %s\n' "hit 1 MiB Gbit/s" nginx "$mn" - "$m_nr"
echo "flash crowd: $CROWD requests, $OBJECTS cold objects, edge3->edge2->edge1->origin: origin fetches $o_total," \
	"per level $f3/$f2_/$f1; $crowd"
echo "memory overhead per cached object: $per_object bytes"
bench_provenance
echo "ratio hit_1k_rps $(ratio "$kp" "$kn")"
echo "ratio hit_1k_cpu $(ratio "$knc" "$kpc")"
echo "ratio hit_1m_gbps $(ratio "$mp" "$mn")"
