#!/bin/sh
# Builds and runs every test of peercdn: the unit and fuzz-corpus suites in a
# -Werror build, the same suites under ASan+UBSan, then a short libFuzzer
# run of every fuzz target. Installs what it needs first.
#   FUZZ_SECONDS  seconds per fuzz target (default 20; 0 skips fuzzing)
set -eu
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

./scripts/install-deps.sh

step() { printf '\n=== %s\n' "$*"; }

setup() { # DIR ARGS...
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

step "format check (clang-format)"
find src tests bench -name '*.[ch]' -print0 | xargs -0 clang-format --dry-run --Werror

step "build with -Werror and run the test suite"
setup build-test -Dwerror=true -Dbench=true
ninja -C build-test
meson test -C build-test --print-errorlogs

step "build with ASan+UBSan and run the test suite"
CC=clang setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbench=false
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

if [ "$FUZZ_SECONDS" -gt 0 ]; then
	step "libFuzzer smoke: ${FUZZ_SECONDS}s per target"
	# fuzzer-no-link instruments the libraries too, so libFuzzer sees
	# coverage in the code under test, not only in the harness.
	CC=clang setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbench=false -Dc_args=-fsanitize=fuzzer-no-link
	ninja -C build-fuzz
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	for corpus in tests/fuzz/corpus/*/; do
		name=$(basename "$corpus")
		bin=build-fuzz/tests/fuzz/$name
		[ -x "$bin" ] || continue
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
		grep -E '^Done|#[0-9]+ *DONE' "$work/$name.log" | tail -1
	done
fi

step "all tests passed"
