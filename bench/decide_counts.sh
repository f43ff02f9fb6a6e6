#!/bin/bash
# bench/decide_counts (issue 9, item 4): bench/decide's deterministic
# figures — instructions, L1 data misses and misses past a 2 MiB L2 per
# decision, cold, warm and with name parsing — under callgrind's cache
# simulation, so they do not move with the neighbours' load as the timed
# figures do.
#
#   bench/decide_counts.sh [DECISIONS]      (default 20000; from anywhere in the tree)
#
# Builds BUILD [build-counts] (release with -g: the release code, with
# symbols) and runs
#   valgrind --tool=callgrind --cache-sim=yes --D1=49152,12,64
#     --LL=2097152,16,64 --collect-atstart=no --toggle-collect='run_*'
#     bench_decide DECISIONS --no-check
# D1 is this machine's L1d (48 KiB, 12 ways); "LL" is simulated as its
# 2 MiB L2, so an LL miss is an access that goes to L3 or memory. The
# per-phase figures are the inclusive costs of bench_decide's run_cold,
# run_warm (DECISIONS decisions each) and run_parse (DECISIONS / 4),
# divided by their decisions. Callgrind models no hardware prefetch: the
# bench reads its requests in order (a prefetcher hides that in a timed
# run), and about 2.6 misses per cold decision here are those lines.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${1:-20000}
BUILD=${BUILD:-build-counts}
if [ ! -d "$BUILD" ]; then
	meson setup "$BUILD" --buildtype=release -Ddebug=true -Dtests=false -Dbench=true >/dev/null
fi
nice -n 10 ninja -C "$BUILD" bench/bench_decide >/dev/null
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
valgrind --tool=callgrind --cache-sim=yes --D1=49152,12,64 --LL=2097152,16,64 \
	--collect-atstart=no --toggle-collect='run_*' --callgrind-out-file="$OUT" \
	"$BUILD/bench/bench_decide" "$N" --no-check >/dev/null 2>&1
TREE=clean
[ -z "$(git status --porcelain --untracked-files=normal -- . ':!build*')" ] || TREE=dirty
echo "commit $(git rev-parse --short HEAD) $TREE, $N decisions a phase (parse: $((N / 4)))"
callgrind_annotate --inclusive=yes --show=Ir,D1mr,DLmr "$OUT" 2>/dev/null |
	grep -E 'decide\.c:run_(cold|warm|parse)' |
	awk -v n="$N" '{
		ir = $1; d1 = $3; ll = $5
		gsub(",", "", ir); gsub(",", "", d1); gsub(",", "", ll)
		phase = $0 ~ /run_parse/ ? "parse+decide" : $0 ~ /run_warm/ ? "warm" : "cold"
		div = phase == "parse+decide" ? n / 4 : n
		printf "%-13s instructions %6.0f  D1 misses %5.1f  past L2 %5.2f  per decision\n",
		       phase, ir / div, d1 / div, ll / div
	}'
