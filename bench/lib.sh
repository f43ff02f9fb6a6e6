# shellcheck shell=bash
# Shared by the bench/*.sh scripts (sourced, not run): a work directory,
# the processes a script starts and their cleanup by PID, free ports, CPU
# ticks from /proc, medians and ratios, and the release build.
#
#   BENCH=dns . "$(dirname "$0")/lib.sh"
#
# Sets ROOT (the repository, also the current directory), WORK (a temporary
# directory, removed on exit unless KEEP=1), PIDS (add every server started)
# and PY. Every process in PIDS, and the tool run_tool is waiting for, is
# killed on exit.
#
# Provenance: every figure is of a commit. COMMIT is HEAD's sha and TREE
# "clean" or "dirty" (git status --porcelain: modified, staged or
# untracked files; build dirs are ignored). A bench refuses to run on a
# dirty tree unless ALLOW_DIRTY=1, and then says "dirty" in its summary;
# bench_provenance, in the summary, prints "commit SHA clean|dirty" and
# fails if HEAD or the tree changed during the run (unless ALLOW_DIRTY=1).
#
# The federation: bench_federation writes etc/peercdn.yaml with every
# agreement's capacity_rps removed (0 = unlimited). The default's acme-beta
# agreement allows 1 000 PEER decisions a second; past that a beta client
# is answered OUTSIDE (an acme server), so a bench at 100 000 a second
# would measure the OUTSIDE branch while claiming PEER. Each bench counts
# the answers per branch and per server in every run and fails when the
# mix is not the one it states (mix_check, udp_mix_check).

set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=/usr/bin/python3 # Debian's python3 has the yaml module
# shellcheck disable=SC2034 # used by the scripts
HZ=$(getconf CLK_TCK) # /proc/PID/stat counts CPU time in these

die() {
	echo "bench/$BENCH: FAIL: $*" >&2
	exit 1
}

tree_state() {
	if [ -n "$(git status --porcelain 2>/dev/null)" ]; then echo dirty; else echo clean; fi
}
COMMIT=$(git rev-parse HEAD 2>/dev/null) || die "not a git checkout: figures need a commit"
TREE=$(tree_state)
if [ "$TREE" = dirty ] && [ "${ALLOW_DIRTY:-0}" != 1 ]; then
	git status --short >&2
	die "the tree is dirty: figures would not be of commit $COMMIT (commit first, or ALLOW_DIRTY=1)"
fi
echo "bench/$BENCH: commit $COMMIT $TREE${ALLOW_DIRTY:+ (ALLOW_DIRTY=$ALLOW_DIRTY)}"

# "commit SHA clean|dirty" for the summary; fails if the tree or HEAD
# changed since the start (the build would not be of COMMIT).
bench_provenance() {
	now=$(git rev-parse HEAD) state=$(tree_state)
	if [ "$now" != "$COMMIT" ] || [ "$state" != "$TREE" ]; then
		[ "${ALLOW_DIRTY:-0}" = 1 ] ||
			die "the tree changed during the run (start: $COMMIT $TREE, end: $now $state)"
		TREE=dirty
	fi
	echo "commit $COMMIT $TREE"
}

WORK=$(mktemp -d "/tmp/bench-$BENCH.XXXXXX")
PIDS=""
TOOL_PID=""

kill_pid() { # pid: TERM, up to 5 s, then KILL
	if kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$1" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

# Stops a server of PIDS and forgets it, so that cleanup cannot hit a
# reused PID.
stop_server() { # pid
	kill_pid "$1"
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ' || true)
}

bench_cleanup() {
	rc=$?
	for p in $TOOL_PID $PIDS; do
		kill_pid "$p"
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench/$BENCH: kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Installs the bench tools and builds the release tree in $1 (default
# build-bench); sets BUILD to its absolute path.
bench_build() {
	BUILD=${1:-build-bench}
	./scripts/install-deps.sh --bench
	command -v gdnsd >/dev/null || PATH=$PATH:/usr/sbin
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" --buildtype=release -Dtests=false
	fi
	ninja -C "$BUILD"
	case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
}

# A port free for both UDP and TCP on address $1 [127.0.0.1] (bounded tries).
free_port() {
	"$PY" - "${1:-127.0.0.1}" <<'EOF'
import socket, sys
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind((sys.argv[1], 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind((sys.argv[1], port))
    except OSError:
        t.close(); continue
    u.close(); t.close()
    print(port); sys.exit(0)
sys.exit("no free port")
EOF
}

# Clock ticks over a count of units -> microseconds per unit, unrounded.
per_unit_us() { # ticks count
	awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.6f", t / hz * 1e6 / n }'
}

# "utime stime" (clock ticks) of a process, all threads, plus its children
# (nginx's workers) when $2 is "tree".
cpu_ticks() {
	pids=$1
	if [ "${2:-}" = tree ]; then
		pids="$pids $(cat /proc/"$1"/task/*/children 2>/dev/null || true)"
	fi
	u=0 s=0
	for p in $pids; do
		# fields after the ")" closing comm: state is 3, utime 14, stime 15
		# shellcheck disable=SC2046
		set -- $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12, $13 }')
		u=$((u + $1)) s=$((s + $2))
	done
	echo "$u $s"
}

# The benches' federation: etc/peercdn.yaml without agreement capacities
# (see above), written to $1.
bench_federation() {
	"$PY" - "$1" <<'EOF'
import sys, yaml
d = yaml.safe_load(open("etc/peercdn.yaml"))
for a in d.get("agreements") or []:
    if a.pop("capacity_rps", None) is not None:
        print("bench federation: agreement %s: capacity_rps removed (unlimited)" % a["name"])
yaml.safe_dump(d, open(sys.argv[1], "w"), sort_keys=False)
EOF
}

# A node's decision counters for a role: "PRIMARY PEER OUTSIDE" from
# peercdn_ROLE_decisions_total on its /metrics.
decisions() { # metrics-url role
	curl -sf --max-time 5 "$1" | awk -v m="peercdn_$2_decisions_total" '
		index($1, m "{branch=") == 1 { split($1, a, "\""); n[a[2]] = $2; seen++ }
		END { if (seen != 3) exit 1; printf "%d %d %d\n", n["PRIMARY"], n["PEER"], n["OUTSIDE"] }' ||
		die "no peercdn_$2_decisions_total on $1"
}

# mix_check LABEL BEFORE AFTER BRANCH MIN: the decisions counted between two
# `decisions` samples must all be of BRANCH (or none at all when BRANCH is
# "none") and, unless BRANCH is "none", at least MIN. Prints the mix and
# sets MIX_N to the decisions counted.
mix_check() {
	local label=$1 want=$4 min=$5 p e o good
	# shellcheck disable=SC2086
	set -- $2 $3
	p=$(($4 - $1)) e=$(($5 - $2)) o=$(($6 - $3))
	MIX_N=$((p + e + o))
	case $want in
	PRIMARY) good=$p ;;
	PEER) good=$e ;;
	OUTSIDE) good=$o ;;
	none) good=0 ;;
	*) die "mix_check: bad branch $want" ;;
	esac
	echo "  mix $label: $MIX_N decisions: PRIMARY $p, PEER $e, OUTSIDE $o (stated: $want)"
	if [ "$want" = none ]; then
		[ "$MIX_N" -eq 0 ] || die "$label: $MIX_N policy decisions where none were stated"
	else
		[ "$good" -eq "$MIX_N" ] || die "$label: $((MIX_N - good)) of $MIX_N decisions not $want"
		[ "$MIX_N" -ge "$min" ] || die "$label: $MIX_N decisions, fewer than the $min answers counted"
	fi
}

# udp_mix_check LABEL OUT BRANCH SERVER: every answer udpperf tallied in OUT
# ("mix BRANCH SERVER COUNT" lines) must be of BRANCH ("-" for DNS) and
# SERVER. Prints the mix.
udp_mix_check() {
	local label=$1 out=$2 mix bad good
	mix=$(awk '$1 == "mix" { printf "%s%s %s %s", sep, $2, $3, $4; sep = ", " }' "$out")
	bad=$(awk -v b="$3" -v s="$4" '$1 == "mix" && ($2 != b || $3 != s) { n += $4 } END { print n + 0 }' "$out")
	good=$(awk -v b="$3" -v s="$4" '$1 == "mix" && $2 == b && $3 == s { n += $4 } END { print n + 0 }' "$out")
	echo "  mix $label: answers by branch and server: ${mix:-none} (stated: $3 $4)"
	[ "$bad" -eq 0 ] || die "$label: $bad of $((bad + good)) answers not $3 $4"
	[ "$good" -gt 0 ] || die "$label: no answer tallied"
}

# runs FORMAT VALUE...: every run's value, comma-separated ("1.00, 2.00").
runs() {
	local fmt=$1 sep=""
	shift
	for v in "$@"; do
		printf "%s$fmt" "$sep" "$v"
		sep=", "
	done
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# A tool run in the background and waited for, so that a signal reaches the
# trap at once and cleanup can kill it too. Its output goes to out-file.
run_tool() { # out-file command...
	out=$1
	shift
	"$@" >"$out" 2>&1 &
	TOOL_PID=$!
	rc=0
	wait "$TOOL_PID" || rc=$?
	TOOL_PID=""
	return "$rc"
}

# gdnsd from bench/gdnsd (geoip plugin, the default federation's client
# networks, ad102.web.abc.cdn.acme.net) on 127.0.0.1: start_gdnsd PORT
# UDP_THREADS [PREFIX...]; PREFIX is a command to run it under (taskset).
# Sets GDNSD_PID and adds it to PIDS.
start_gdnsd() {
	port=$1 threads=$2
	shift 2
	mkdir -p "$WORK/gdnsd/zones" "$WORK/run" "$WORK/state"
	sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$WORK|g" -e "s|@THREADS@|$threads|g" \
		bench/gdnsd/config.in >"$WORK/gdnsd/config"
	cp bench/gdnsd/cdn.acme.net.zone "$WORK/gdnsd/zones/cdn.acme.net"
	echo "gdnsd: gdnsd -c $WORK/gdnsd start (127.0.0.1 port $port, udp_threads $threads)"
	"$@" gdnsd -c "$WORK/gdnsd" start >"$WORK/gdnsd.log" 2>&1 &
	GDNSD_PID=$!
	PIDS="$PIDS $GDNSD_PID"
}

# One CDSR request (the first of udpperf's request file, hex) sent from
# CLIENT to ANYCAST:PORT and its answer decoded: cdsr_probe ANYCAST PORT
# CLIENT HEXREQ prints "status ok, ADDR:PORT, branch BRANCH, N bytes for a
# M-byte request"; fails unless the answer is a CDSR response with status ok.
cdsr_probe() {
	"$PY" - "$@" <<'PYEOF'
import socket, sys
anycast, port, client, hexreq = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((client, 0)); s.settimeout(10); s.connect((anycast, port))
s.send(bytes.fromhex(hexreq))
r = s.recv(2048)
assert r[:4] == b"CDSR" and r[5] & 0x80 and r[14] == 0, r[:16].hex()
branch = {1: "PRIMARY", 2: "PEER", 3: "OUTSIDE"}.get(r[24], str(r[24]))
print("status ok, %s:%d, branch %s, %d bytes for a %d-byte request"
      % (socket.inet_ntoa(r[30:34]), int.from_bytes(r[28:30], "big"), branch, len(r),
         len(bytes.fromhex(hexreq))))
PYEOF
}
