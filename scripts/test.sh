#!/bin/sh
# Builds and runs every test of peercdn: the unit and fuzz-corpus suites in a
# -Werror build, the same suites under ASan+UBSan, then a short libFuzzer
# run of every fuzz target. Installs what it needs first.
#   FUZZ_SECONDS  seconds per fuzz target (default 20; 0 skips fuzzing)
#
# A suite passes only when it ran every test the tree defines
# (tools/check-tests-ran.py: meson exits 0 on "No tests defined", on a
# build dir configured with tests=false and on skipped tests), when pytest
# ran every test it collected, and when no sanitizer reported anything:
# UBSan halts on its first report in every run (halt_on_error=1) and the
# logs are scanned for reports as well.
set -eu
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

./scripts/install-deps.sh

step() { printf '\n=== %s\n' "$*"; }
fail() {
	echo "test.sh: FAIL: $*" >&2
	exit 1
}

# client_exports (src/client/meson.build) is defined only when nm is found.
command -v nm >/dev/null || fail "nm not found (Debian package binutils): the client_exports test would not be defined"

# Every build dir is configured with the tests on, also a reused one that
# was set up with -Dtests=false.
setup() { # DIR ARGS...
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" -Dtests=true "$@" >/dev/null
	else
		meson setup "$dir" -Dtests=true "$@" >/dev/null
	fi
}

# Sanitizer reports in a log: UBSan's "runtime error", ASan's and LSan's
# "ERROR: ...Sanitizer".
SAN_REPORT='runtime error|ERROR: (Address|Leak|Undefined|Memory|Thread)Sanitizer'
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# meson test, then: every test of the tree ran and passed, nothing skipped,
# no sanitizer report in the log.
run_suite() { # DIR
	meson test -C "$1" --print-errorlogs
	python3 tools/check-tests-ran.py "$1" .
	if grep -Eq "$SAN_REPORT" "$1/meson-logs/testlog.txt"; then
		grep -En "$SAN_REPORT" "$1/meson-logs/testlog.txt" | head -20 >&2
		fail "sanitizer report in $1/meson-logs/testlog.txt"
	fi
}

step "format check (clang-format)"
find src tests bench -name '*.[ch]' -print0 | xargs -0 clang-format --dry-run --Werror

step "build with -Werror and run the test suite"
setup build-test -Dwerror=true -Dbench=true
ninja -C build-test
run_suite build-test

step "build with ASan+UBSan and run the test suite"
CC=clang setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbench=false
ninja -C build-asan
run_suite build-asan

if [ "$FUZZ_SECONDS" -gt 0 ]; then
	step "libFuzzer smoke: ${FUZZ_SECONDS}s per target"
	# fuzzer-no-link instruments the libraries too, so libFuzzer sees
	# coverage in the code under test, not only in the harness.
	CC=clang setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbench=false -Dc_args=-fsanitize=fuzzer-no-link
	ninja -C build-fuzz
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	# Every harness has a corpus and every corpus a fuzz binary: none is
	# passed over.
	for src in tests/fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		[ -d "tests/fuzz/corpus/$name" ] || fail "$src has no corpus tests/fuzz/corpus/$name"
	done
	fuzzed=0
	for corpus in tests/fuzz/corpus/*/; do
		name=$(basename "$corpus")
		bin=build-fuzz/tests/fuzz/$name
		[ -x "$bin" ] || fail "corpus $corpus has no fuzz binary $bin (tests/fuzz/meson.build)"
		# Fuzz a copy: new inputs must not land in the checked-in corpus.
		mkdir -p "$work/$name"
		cp "$corpus"* "$work/$name/"
		echo "--- $name"
		"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$work/" "$work/$name" 2>"$work/$name.log" || {
			tail -40 "$work/$name.log"
			echo "fuzz target $name failed; the crashing input is in $work" >&2
			trap - EXIT
			exit 1
		}
		# Belt and braces: a report that did not stop the run still fails it.
		if grep -Eq "$SAN_REPORT" "$work/$name.log"; then
			grep -E -A12 "$SAN_REPORT" "$work/$name.log" | head -40
			echo "fuzz target $name: sanitizer report in its log ($work/$name.log)" >&2
			trap - EXIT
			exit 1
		fi
		grep -E '^Done|#[0-9]+ *DONE' "$work/$name.log" | tail -1
		fuzzed=$((fuzzed + 1))
	done
	[ "$fuzzed" -gt 0 ] || fail "no fuzz target ran"
	echo "fuzzed $fuzzed targets, ${FUZZ_SECONDS}s each, no sanitizer report"
fi

step "all tests passed"
