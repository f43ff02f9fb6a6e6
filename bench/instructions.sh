#!/bin/bash
# bench/instructions (issue 9, "past the socket limit", deliverable 3):
# user-space instructions per answer of peercdnd and gdnsd, under callgrind.
#
#   bench/instructions.sh      (from the repository root or anywhere inside it)
#
# Why: on this machine the kernel's socket path is ~80 % of every answer and
# CPU-time figures spread 5-30 % from run to run (BENCH-NOTES), so the
# user-space instruction count per answer is the deterministic figure for
# what each server itself does per query.
#
# Environment knobs (defaults in brackets):
#   N [20000]        queries (or CDSR requests) per measured run
#   RATE [2000]      offered rate of every run, per second (under callgrind a
#                    server runs ~50x slower; at this rate neither loses any)
#   WARM [2000]      queries of each kind sent before the counters are zeroed
#   BUILD [build-bench]  release build dir (meson -Dtests=false -Dbench=true if missing)
#   KEEP [0]         1: keep the temp dir (configs, logs, callgrind dumps)
#
# Servers (each under `valgrind --tool=callgrind`, 1 UDP worker thread):
#   peercdnd  build-bench/src/node/peercdnd -c FILE, FILE = etc/peercdn.yaml with
#             dns.listen [127.0.0.1], dns.workers 1, the cdsr role on 127.10.0.1
#             (rate 0), http and rtsp off, every agreement's capacity_rps 0
#             (unlimited: acme-beta's 1000/s would send part of the queries to
#             another branch), control.metrics_port on a free port (/metrics on
#             the node's address 127.1.255.1, read only outside the measured
#             windows).
#   gdnsd     gdnsd 3.8 -c DIR start, DIR from bench/gdnsd (udp_threads 1).
#
# Runs, per server (fixed counts, paced at RATE):
#   dns_policy  dnsperf -n N -Q RATE: "ad102.web.abc.cdn.acme.net A" with EDNS
#               Client Subnet 127.2.0.0/24 (-E 8:000118007f0200), as bench/dns.sh.
#               Both must answer 127.2.200.1 (dig, before). peercdnd: every
#               answer must be NOERROR and peercdn_dns_decisions_total must grow
#               by exactly the answers on branch PEER (a beta client of the
#               acme-beta agreement; claim 2), and by 0 on the others.
#   dns_soa     dnsperf -n N -Q RATE: "cdn.acme.net SOA", no EDNS: a static answer.
#   cdsr        bench/udpperf -n N --rate RATE from 127.2.0.10 (beta's AS), as
#               bench/redirect.sh: peercdnd gets the CDSR request
#               "http://abc.cdn.acme.net/www.abc.com/x pad=512 hints family=4"
#               (every answer status ok, and peercdn_cdsr_decisions_total
#               {branch="PEER"} grows by the answers), gdnsd the DNS query of
#               the same client (ad102... A, ECS 127.2.0.0/24, all NOERROR).
#
# Method: instructions (callgrind's Ir: every user-space instruction of the
# process, all threads, shared libraries included; nothing in the kernel)
# are counted around each run: `callgrind_control -z PID` zeroes the
# counters after the server started and WARM queries of each kind were
# answered (start-up, config load, first-touch paths excluded), the run
# goes, and `callgrind_control -d PID` dumps the count. What the server
# spends while idle (peercdnd's 1 s epoll timeout and tick; gdnsd nothing)
# is measured the same way over an idle window first and subtracted pro
# rata of each run's wall time. Per answer:
#   (Ir of the run - idle Ir/s x run seconds) / answers received.
# `perf stat -e instructions:u` would be the hardware-counter version; this
# KVM guest exposes no counters (perf prints "<not supported>"), which the
# script checks and reports.
#
# For peercdnd each run also prints the inclusive count of the role's answer
# function (pc_dns_answer, pc_cdsr_answer) per answer: the part of the figure
# that does not depend on how many datagrams each wake-up finds.
#
# The last lines are `ratio NAME VALUE`, gdnsd's Ir per answer / peercdnd's
# (above 1.0: peercdnd cheaper): dns_policy_insn, dns_soa_insn, cdsr_insn.
# Every process started here is killed by PID on exit.

# shellcheck disable=SC2154 # results live in variables named by eval
BENCH=instructions
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=${N:-20000}
RATE=${RATE:-2000}
WARM=${WARM:-2000}
BUILD=${BUILD:-build-bench}
ECS_HEX=000118007f0200
EXPECT=127.2.200.1
CLIENT=127.2.0.10  # udpperf's source: a client of beta's AS 200
ANYCAST=127.10.0.1 # acme's CDSR anycast address
NODE_ADDR=127.1.255.1

# ---- dependencies and build -------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
	./scripts/install-deps.sh --bench
	meson setup "$BUILD" --buildtype=release -Dtests=false -Dbench=true
fi
bench_build "$BUILD"
for t in gdnsd dnsperf dig curl valgrind callgrind_control callgrind_annotate; do
	command -v "$t" >/dev/null || die "$t not found"
done
PEERCDND=$BUILD/src/node/peercdnd
UDPPERF=$BUILD/bench/udpperf
[ -x "$PEERCDND" ] || die "$PEERCDND not built"
[ -x "$UDPPERF" ] || die "$UDPPERF not built (meson -Dbench=true)"

# ---- helpers ------------------------------------------------------------------
now_s() { date +%s.%N; }

wait_ready() { # port pid: an SOA answer (bounded, ~60 s: valgrind starts slowly)
	for _ in $(seq 1 120); do
		kill -0 "$2" 2>/dev/null || return 1
		if dig @127.0.0.1 -p "$1" +norec +time=1 +tries=1 cdn.acme.net SOA 2>/dev/null |
			grep -q 'status: NOERROR'; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}

check_ecs() { # port name
	got=$(dig @127.0.0.1 -p "$1" +norec +time=5 +tries=1 +subnet=127.2.0.0/24 \
		ad102.web.abc.cdn.acme.net A +short)
	[ "$got" = "$EXPECT" ] ||
		die "$2 answered '$got' for ad102.web.abc.cdn.acme.net A with ECS 127.2.0.0/24, expected $EXPECT"
	echo "check $2: ad102.web.abc.cdn.acme.net A, ECS 127.2.0.0/24 -> $got"
}

# The CDSR answer decoded: status OK, beta-s1's address, branch PEER.
check_cdsr() { # port
	got=$(cdsr_probe "$ANYCAST" "$1" "$CLIENT" "$("$UDPPERF" -f "$WORK/cdsr.req" --dump | head -1)") ||
		return 1
	case $got in
	"status ok, 127.2.200.1:"*", branch PEER,"*) echo "check peercdnd: CDSR -> $got" ;;
	*) echo "the CDSR answer is not PEER to beta-s1 127.2.200.1: $got" >&2; return 1 ;;
	esac
}

# peercdnd's decisions by branch for a role: "PRIMARY PEER OUTSIDE".
branches() { # role
	m=$(curl -s -m 10 "http://$NODE_ADDR:$metrics_port/metrics") || die "no /metrics"
	for b in PRIMARY PEER OUTSIDE; do
		echo "$m" | awk -v k="peercdn_$1_decisions_total{branch=\"$b\"}" '$1 == k { print $2 }'
	done | tr '\n' ' '
}

ir_of() { # callgrind dump -> total Ir
	awk '$1 == "summary:" { print $2; f = 1 } END { if (!f) exit 1 }' "$1" ||
		die "no summary in $1"
}

# Zeroes a server's counters, runs a command, dumps; sets RV_IR, RV_SECS and
# RV_DUMP (the dump's path). Output of the command goes to out-file.
DUMPS=0
counted() { # name pid out-file command...
	name=$1 pid=$2 out=$3
	shift 3
	callgrind_control -z "$pid" >/dev/null || die "callgrind_control -z $pid failed"
	t0=$(now_s)
	if [ "$1" = idle ]; then
		sleep "$2"
		: >"$out"
	else
		run_tool "$out" "$@" || die "$name: $1 failed: $(tail -3 "$out")"
	fi
	t1=$(now_s)
	before=$(ls "$WORK"/cg."$name".* 2>/dev/null | wc -l)
	callgrind_control -d "$pid" >/dev/null || die "callgrind_control -d $pid failed"
	DUMPS=$((DUMPS + 1))
	# the newest dump of this server
	RV_DUMP=$(ls -t "$WORK"/cg."$name".*.* 2>/dev/null | head -1)
	[ -n "$RV_DUMP" ] && [ "$(ls "$WORK"/cg."$name".* | wc -l)" -gt "$before" ] ||
		die "$name: no new callgrind dump"
	RV_IR=$(ir_of "$RV_DUMP")
	RV_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

stat_of() { # dnsperf output, label -> first number after "label:"
	awk -F: -v k="$2" '$1 ~ "^ *"k"$" { split($2, a, " "); print a[1]; exit }' "$1"
}
val() { # udpperf output, key [field] -> value
	awk -v k="$2" -v f="${3:-2}" '$1 == k { print $f; exit }' "$1"
}

printf 'ad102.web.abc.cdn.acme.net A\n' >"$WORK/policy.q"
printf 'cdn.acme.net SOA\n' >"$WORK/soa.q"
printf 'cdsr http://abc.cdn.acme.net/www.abc.com/x pad=512 hints family=4\n' >"$WORK/cdsr.req"
printf 'dns ad102.web.abc.cdn.acme.net A ecs=127.2.0.0/24\n' >"$WORK/dns.req"

# One measured run of a kind; sets RV_ANSWERS (checked answers) and
# RV_PER (Ir per answer, idle subtracted); prints the top functions.
run_kind() { # server pid port kind
	srv=$1 pid=$2 port=$3 kind=$4
	out="$WORK/$srv.$kind.out"
	case $kind in
	dns_policy | dns_soa)
		q=$WORK/${kind#dns_}.q
		set -- dnsperf -s 127.0.0.1 -p "$port" -d "$q" -n "$N" -Q "$RATE" -c 8 -q 500 -t 10
		[ "$kind" = dns_policy ] && set -- "$@" -E "8:$ECS_HEX"
		;;
	cdsr)
		if [ "$srv" = peercdnd ]; then
			set -- "$UDPPERF" -f "$WORK/cdsr.req" -b "$CLIENT" -s 8 -q 500 -r "$RATE" -n "$N" \
				-d $((N / RATE + 60)) -t 10 "$ANYCAST" "$port"
		else
			set -- "$UDPPERF" -f "$WORK/dns.req" -b "$CLIENT" -s 8 -q 500 -r "$RATE" -n "$N" \
				-d $((N / RATE + 60)) -t 10 127.0.0.1 "$port"
		fi
		;;
	esac
	role=dns
	[ "$kind" = cdsr ] && role=cdsr
	[ "$srv" = peercdnd ] && b0=$(branches "$role")
	counted "$srv" "$pid" "$out" "$@"
	case $kind in
	dns_*)
		answers=$(stat_of "$out" "Queries completed")
		lost=$(stat_of "$out" "Queries lost")
		good=$(awk '/Response codes:/ { for (i = 3; i < NF; i++) if ($i == "NOERROR") print $(i + 1) }' "$out")
		;;
	cdsr)
		answers=$(val "$out" answered)
		lost=$(val "$out" lost)
		if [ "$srv" = peercdnd ]; then
			good=$(awk '$1 == "status" && $2 == "ok" { print $3 }' "$out")
		else
			good=$(awk '$1 == "rcode" && $2 == "NOERROR" { print $3 }' "$out")
		fi
		;;
	esac
	[ "${answers:-0}" -gt 0 ] || die "$srv $kind: no answers ($(tail -3 "$out"))"
	[ "${good:-0}" = "$answers" ] || die "$srv $kind: $answers answers, only ${good:-0} NOERROR/ok"
	# a lost query may still have been worked on: allow a trace, no more
	[ "$((lost * 200))" -le "$answers" ] || die "$srv $kind: $lost lost of $N (lower RATE)"
	check=""
	if [ "$srv" = peercdnd ] && [ "$kind" != dns_soa ]; then
		b1=$(branches "$role")
		# shellcheck disable=SC2086
		set -- $b0 $b1
		[ "$(($4 - $1))" = 0 ] && [ "$(($5 - $2))" = "$answers" ] && [ "$(($6 - $3))" = 0 ] ||
			die "$srv $kind: decisions PRIMARY/PEER/OUTSIDE +$(($4 - $1))/+$(($5 - $2))/+$(($6 - $3)), expected +0/+$answers/+0"
		check=", branch PEER +$answers"
	fi
	RV_ANSWERS=$answers
	RV_PER=$(awk -v ir="$RV_IR" -v s="$RV_SECS" -v idle="$idle_rate" -v n="$answers" \
		'BEGIN { printf "%.0f", (ir - idle * s) / n }')
	echo "$srv $kind: $answers answers ($good NOERROR/ok, $lost lost$check) in ${RV_SECS}s;" \
		"Ir $RV_IR - idle $(awk -v i="$idle_rate" -v s="$RV_SECS" 'BEGIN { printf "%.0f", i * s }')" \
		"-> $RV_PER Ir/answer"
	# self cost per function (a thread's outermost frames, caught mid-call
	# when the counters were zeroed, show as owning nearly everything:
	# skipped; gdnsd's binary is stripped, so its functions are addresses)
	callgrind_annotate --threshold=100 "$RV_DUMP" 2>/dev/null |
		awk -v n="$answers" -v tag="$srv $kind" -v total="$RV_IR" '
			/file:function/ { on = 1; next }
			on && /^-/ { next }
			on && NF == 0 { exit }
			on && $1 ~ /^[0-9,]+$/ && shown < 12 {
				ir = $1; gsub(",", "", ir); ir += 0
				if (ir > 0.5 * total) next
				fn = $0; sub(/^.*\) +/, "", fn); sub(/^[^:]*:/, "", fn)
				lib = fn; sub(/^[^[]*\[/, "", lib); sub(/\].*$/, "", lib); sub(/^.*\//, "", lib)
				sub(/ *\[.*$/, "", fn)
				printf "  %s: %6.0f Ir/answer  %s (%s)\n", tag, ir / n, fn, lib; shown++ }' |
		tee -a "$WORK/top.txt"
	# peercdnd: the answer function alone, inclusive (what one answer costs
	# whatever the batch sizes the kernel handed over; the total above also
	# holds the per-wake-up socket loop, which moves with them)
	if [ "$srv" = peercdnd ]; then
		fn=pc_dns_answer
		[ "$kind" = cdsr ] && fn=pc_cdsr_answer
		callgrind_annotate --inclusive=yes --threshold=100 "$RV_DUMP" 2>/dev/null |
			awk -v n="$answers" -v fn="$fn" -v tag="$srv $kind" '
				$0 ~ ":" fn " " { ir = $1; gsub(",", "", ir)
					printf "%s: %s inclusive %.0f Ir/answer\n", tag, fn, ir / n; exit }'
	fi
}

echo "bench/instructions: $(valgrind --version), N=$N at $RATE/s, warm-up $WARM," \
	"1 UDP worker per server, all on 127.0.0.1"
if perf stat -e instructions:u -x, true 2>&1 | grep -q 'not supported'; then
	echo "perf stat -e instructions:u: <not supported> here (no PMU in this VM); callgrind only"
else
	echo "perf stat -e instructions:u works here; this script still reports callgrind's counts"
fi

# ---- peercdnd ---------------------------------------------------------------------------
dns_port=$(free_port 127.0.0.1)
cdsr_port=$(free_port "$ANYCAST")
metrics_port=$(free_port "$NODE_ADDR")
"$PY" - "$WORK/peercdn.yaml" "$dns_port" "$cdsr_port" "$ANYCAST" "$metrics_port" <<'EOF'
import sys, yaml
path, dns_port, cdsr_port, anycast, metrics_port = sys.argv[1:6]
d = yaml.safe_load(open("etc/peercdn.yaml"))
d["dns"].update({"enabled": True, "listen": ["127.0.0.1"], "port": int(dns_port), "workers": 1})
d["http"] = {"enabled": False}
d["rtsp"] = {"enabled": False}
d["cdsr"] = {"enabled": True, "listen": [anycast], "port": int(cdsr_port), "rate": 0}
for a in d.get("agreements") or []:
    a["capacity_rps"] = 0
d["control"] = {"metrics_port": int(metrics_port)}
yaml.safe_dump(d, open(path, "w"), sort_keys=False)
EOF
"$PEERCDND" -t -c "$WORK/peercdn.yaml" >/dev/null || die "peercdnd rejected $WORK/peercdn.yaml"
echo "peercdnd: valgrind --tool=callgrind $PEERCDND -c $WORK/peercdn.yaml" \
	"(dns 127.0.0.1:$dns_port, cdsr $ANYCAST:$cdsr_port)"
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.peercdnd.%p" \
	"$PEERCDND" -c "$WORK/peercdn.yaml" >"$WORK/peercdnd.log" 2>&1 &
p_pid=$!
PIDS="$PIDS $p_pid"
wait_ready "$dns_port" "$p_pid" || die "peercdnd did not answer: $(tail -5 "$WORK/peercdnd.log")"
check_ecs "$dns_port" peercdnd
check_cdsr "$cdsr_port" || die "peercdnd: bad CDSR answer"

# ---- gdnsd ------------------------------------------------------------------------------
g_port=$(free_port 127.0.0.1)
start_gdnsd "$g_port" 1 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.gdnsd.%p"
g_pid=$GDNSD_PID
wait_ready "$g_port" "$g_pid" || die "gdnsd did not answer: $(tail -5 "$WORK/gdnsd.log")"
check_ecs "$g_port" gdnsd

# ---- warm-up, idle baseline, runs ------------------------------------------------------------
for srv in peercdnd gdnsd; do
	if [ "$srv" = peercdnd ]; then pid=$p_pid port=$dns_port; else pid=$g_pid port=$g_port; fi
	for k in policy soa; do
		e=""
		[ "$k" = policy ] && e="-E 8:$ECS_HEX"
		# shellcheck disable=SC2086
		run_tool "$WORK/$srv.warm.$k" dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/$k.q" \
			-n "$WARM" -Q "$RATE" -t 10 $e || die "$srv warm-up failed"
	done
	if [ "$srv" = peercdnd ]; then
		run_tool "$WORK/$srv.warm.cdsr" "$UDPPERF" -f "$WORK/cdsr.req" -b "$CLIENT" -s 8 -q 500 \
			-r "$RATE" -n "$WARM" -d 60 -t 10 "$ANYCAST" "$cdsr_port" || die "$srv warm-up failed"
	fi
	idle_secs=$(awk -v n="$N" -v r="$RATE" 'BEGIN { printf "%d", n / r }')
	counted "$srv" "$pid" "$WORK/$srv.idle" idle "$idle_secs"
	idle_rate=$(awk -v ir="$RV_IR" -v s="$RV_SECS" 'BEGIN { printf "%.0f", ir / s }')
	echo "$srv idle: $RV_IR Ir in ${RV_SECS}s = $idle_rate Ir/s (subtracted pro rata)"
	eval "${srv}_idle=$idle_rate"
	for kind in dns_policy dns_soa cdsr; do
		if [ "$kind" = cdsr ] && [ "$srv" = peercdnd ]; then port=$cdsr_port; fi
		run_kind "$srv" "$pid" "$port" "$kind"
		eval "${srv}_${kind}=$RV_PER"
	done
done
stop_server "$p_pid"
stop_server "$g_pid"

# ---- summary --------------------------------------------------------------------------------
echo
echo "summary: user-space instructions per answer (callgrind Ir, all threads, idle subtracted;" \
	"$N answers per run at $RATE/s)"
printf '%-11s %10s %10s %7s\n' run peercdnd gdnsd ratio
for kind in dns_policy dns_soa cdsr; do
	eval "p=\$peercdnd_$kind g=\$gdnsd_$kind"
	printf '%-11s %10s %10s %7s\n' "$kind" "$p" "$g" "$(ratio "$g" "$p")"
done
echo "(cdsr: peercdnd's CDSR answer against gdnsd's DNS answer to the same client, udpperf)"
echo
echo "ratio is gdnsd / peercdnd instructions per answer (above 1.0: peercdnd cheaper)"
echo "ratio dns_soa_insn $(ratio "$gdnsd_dns_soa" "$peercdnd_dns_soa")"
echo "ratio cdsr_insn $(ratio "$gdnsd_cdsr" "$peercdnd_cdsr")"
echo "ratio dns_policy_insn $(ratio "$gdnsd_dns_policy" "$peercdnd_dns_policy")"
