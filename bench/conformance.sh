#!/bin/bash
# bench/conformance (issue 10, item 2): the edge on the public conformance
# suite of HTTP caches, cache-tests.fyi (github.com/http-tests/cache-tests),
# counted the way the site counts, so the figure compares with its published
# results: Traffic Server passes 132 of the 160 required tests it runs,
# Apache httpd 131, Squid 121, nginx 99.
#
#   CACHE_TESTS=/path/to/cache-tests bench/conformance.sh
#
# The suite is not part of this repository: give a checkout of it with its
# node modules installed (git clone ...; cd cache-tests; npm install).
#
# Environment knobs (defaults in brackets):
#   CACHE_TESTS [/work/cache-tests]  the suite's checkout
#   BUILD [build-bench]  release build dir (made with -Dtests=false if missing)
#   TEST_ID []           run one test and print its exchange (the suite's --id)
#   KEEP [0], ALLOW_DIRTY [0]  as in bench/lib.sh; KEEP=1 keeps the results
#                        JSON, the config and both logs in the work dir
#
# The origin is the suite's own server (test-engine/server/server.mjs) on
# 127.0.0.1:<free>. peercdnd runs etc/peercdn.yaml as node acme-n1 with
# every role off but the edge, on 127.0.0.1:<free> and ::1 (the suite's
# client sends to http://localhost:<port>, which may resolve to either),
# and one more provider, "conformance", whose origin host is `localhost`
# (the Host the client sends), fetched from the suite's server:
# edge.origins ["localhost=127.0.0.1:<origin port>"]. The suite's tests use
# the plain form: http://localhost:<port>/test/..., Host: localhost:<port>.
#
# Counting: each test is "required" (a requirement of RFC 9111/9110),
# "optimal" (the cache could do better) or "check" (information); a test
# whose dependencies failed counts as not passed, as on the site.
# Printed: passes per kind, the required tests not passed with the
# suite's reason, and last `ratio cache_tests_required_vs_ats VALUE`
# (required passes / Traffic Server's 132).
BENCH=conformance
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

CACHE_TESTS=${CACHE_TESTS:-/work/cache-tests}
BUILD=${BUILD:-build-bench}
TEST_ID=${TEST_ID:-}
ATS_REQUIRED=132

[ -f "$CACHE_TESTS/test-engine/cli.mjs" ] || die "no cache-tests checkout at $CACHE_TESTS"
[ -d "$CACHE_TESTS/node_modules" ] || die "run npm install in $CACHE_TESTS first"
command -v node >/dev/null || die "node not found"
bench_build "$BUILD" >/dev/null
PEERCDND=$BUILD/src/node/peercdnd
[ -x "$PEERCDND" ] || die "$PEERCDND not built"

ORIGIN_PORT=$(free_port)
EDGE_PORT=$(free_port)
METRICS_PORT=$(free_port)

"$PY" - "$WORK/peercdn.yaml" "$ORIGIN_PORT" "$EDGE_PORT" "$METRICS_PORT" <<'EOF'
import sys, yaml
path, origin_port, edge_port, metrics_port = sys.argv[1:]
d = yaml.safe_load(open("etc/peercdn.yaml"))
d["self"] = "acme-n1"
for role in ("dns", "http", "rtsp", "cdsr"):
    d[role] = {"enabled": False}
d["providers"].append({"name": "conformance", "primary": ["acme"], "grade": "silver",
                       "origins": ["localhost"]})
d["control"] = {"metrics_port": int(metrics_port), "metrics_listen": "127.0.0.1"}
d["edge"] = {
    "enabled": True,
    "listen": ["127.0.0.1", "::1"],
    "port": int(edge_port),
    "origins": ["localhost=127.0.0.1:%s" % origin_port],
    "disk_path": "",
    "access_log": "",
}
yaml.safe_dump(d, open(path, "w"), sort_keys=False)
EOF

# The suite's server and CLI read their settings from npm's environment;
# run node directly so that the PID we kill is the server's.
(cd "$CACHE_TESTS" && exec env npm_config_protocol=http npm_config_port="$ORIGIN_PORT" \
	npm_config_pidfile="$WORK/origin.pid" \
	node test-engine/server/server.mjs >"$WORK/origin.log" 2>&1) &
PIDS="$PIDS $!"
"$PEERCDND" -c "$WORK/peercdn.yaml" -n acme-n1 >"$WORK/peercdnd.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do
	grep -q "^Listening" "$WORK/origin.log" 2>/dev/null && grep -q "msg=started" "$WORK/peercdnd.log" &&
		break
	sleep 0.1
done
grep -q "^Listening" "$WORK/origin.log" || die "the suite's server did not start: $(cat "$WORK/origin.log")"
grep -q "msg=started" "$WORK/peercdnd.log" || die "peercdnd did not start: $(cat "$WORK/peercdnd.log")"

run_cli() {
	(cd "$CACHE_TESTS" && env npm_config_base="http://localhost:$EDGE_PORT" \
		npm_config_id="$1" npm_package_config_id="" node --no-warnings test-engine/cli.mjs)
}
if [ -n "$TEST_ID" ]; then
	run_cli "$TEST_ID"
	exit 0
fi
run_cli "" >"$WORK/results.json" || die "the suite's client failed"
echo "bench/$BENCH: suite $(git -C "$CACHE_TESTS" rev-parse --short HEAD 2>/dev/null || echo '?')," \
	"results in $WORK/results.json${KEEP:+ (kept)}"

cat >"$WORK/count.mjs" <<'EOF'
// Counts results as cache-tests.fyi does (its determineTestResult).
import fs from 'fs'
const dir = process.argv[2]
const tests = (await import(dir + '/tests/index.mjs')).default
const { determineTestResult, resultTypes } = await import(dir + '/test-engine/lib/results.mjs')
const results = JSON.parse(fs.readFileSync(process.argv[3]))
const kinds = {}
const failing = []
for (const suite of tests) {
  for (const test of suite.tests) {
    const kind = test.kind || 'required'
    const r = determineTestResult(tests, test.id, results)
    const name = Object.keys(resultTypes).find(k => resultTypes[k] === r)
    const k = kinds[kind] || (kinds[kind] = { total: 0, tested: 0, passed: 0 })
    k.total++
    if (name !== 'untested') k.tested++
    if (name === 'pass' || name === 'yes') k.passed++
    if (kind === 'required' && name !== 'pass' && name !== 'untested') {
      const why = Array.isArray(results[test.id]) ? results[test.id][1] : ''
      failing.push(`  ${test.id}: ${name}${why ? ' (' + why + ')' : ''}`)
    }
  }
}
for (const kind of ['required', 'optimal', 'check']) {
  const k = kinds[kind]
  console.log(`${kind}: ${k.passed} of ${k.tested} tested passed (${k.total} in the suite)`)
}
console.log('required tests not passed:')
console.log(failing.join('\n'))
console.log(`required_passed ${kinds.required.passed}`)
EOF
node "$WORK/count.mjs" "$CACHE_TESTS" "$WORK/results.json" | tee "$WORK/count.txt"
PASSED=$(awk '$1 == "required_passed" { print $2 }' "$WORK/count.txt")
[ -n "$PASSED" ] || die "no count"
bench_provenance
echo "ratio cache_tests_required_vs_ats $(awk -v p="$PASSED" -v a="$ATS_REQUIRED" 'BEGIN { printf "%.3f", p / a }')"
