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
