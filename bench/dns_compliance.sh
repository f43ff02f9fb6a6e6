#!/bin/bash
# bench/dns_compliance: the DNS role on ISC's DNS Compliance Testing tool,
# genreport (the EDNS compliance matrix of ednscomp.isc.org,
# github.com/isc-projects/DNS-Compliance-Testing), as an outsider runs it
# against a delegated server: the zone apex of acme's CDN, cdn.acme.net, with
# its name server ns1.cdn.acme.net at 127.0.0.1:<free>.
#
#   GENREPORT=/path/to/DNS-Compliance-Testing bench/dns_compliance.sh
#
# The tool is not part of this repository: give a checkout with genreport
# built in it (autoreconf -fi && ./configure && make; or, without autotools,
# `touch config.h && cc -I. -o genreport genreport.c -lresolv -lcrypto`).
#
# Environment knobs (defaults in brackets):
#   GENREPORT [/work/DNS-Compliance-Testing]  the checkout (genreport in it)
#   BUILD [build-bench]  release build dir (made with -Dtests=false if missing)
#   PEERCDND []          a peercdnd binary to use instead of building one
#   KEEP [0], ALLOW_DIRTY [0]  as in bench/lib.sh
#
# Runs, each against the apex: genreport -f -c (its EDNS, FULL and COMM
# groups) and genreport -t (its TYPE group: one query per type). Printed:
# each run's line of test=result as genreport prints it; then, not counted,
# dnswkk (TSIG with genreport's all-zero "well-known key", which no RFC
# defines and the daemon, having no TSIG, answers without a TSIG: notsig)
# and the EDNS/FULL matrix at a policy name (ad102.web.abc.cdn.acme.net,
# where genreport's SOA tests say nosoa by design: a codepoint has no SOA of
# its own, RFC 2308 NODATA). Last line: `ratio dns_compliance_ok VALUE`, the
# counted tests whose result is ok (ok or ok,<note>) over the counted tests
# run; genreport's "signed" column repeats "do" and is not counted twice.
BENCH=dns_compliance
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

GENREPORT=${GENREPORT:-}
[ -n "$GENREPORT" ] || die "set GENREPORT to a checkout of ISC's DNS-Compliance-Testing with genreport built (docs/dependencies.md)"
BUILD=${BUILD:-build-bench}
PEERCDND=${PEERCDND:-}

[ -x "$GENREPORT/genreport" ] || die "no built genreport in $GENREPORT"
if [ -z "$PEERCDND" ]; then
	bench_build "$BUILD" >/dev/null
	PEERCDND=$BUILD/src/node/peercdnd
fi
[ -x "$PEERCDND" ] || die "$PEERCDND not built"

DNS_PORT=$(free_port)
METRICS_PORT=$(free_port)
"$PY" - "$WORK/peercdn.yaml" "$DNS_PORT" "$METRICS_PORT" <<'EOF'
import sys, yaml
path, dns_port, metrics_port = sys.argv[1:]
d = yaml.safe_load(open("etc/peercdn.yaml"))
d["self"] = "acme-n1"
for role in ("http", "rtsp", "cdsr"):
    d[role] = {"enabled": False}
d["dns"].update(listen=["127.0.0.1"], port=int(dns_port), workers=1)
d["control"] = {"metrics_port": int(metrics_port), "metrics_listen": "127.0.0.1"}
yaml.safe_dump(d, open(path, "w"), sort_keys=False)
EOF
"$PEERCDND" -c "$WORK/peercdn.yaml" -n acme-n1 >"$WORK/peercdnd.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do
	grep -q "msg=started" "$WORK/peercdnd.log" && break
	sleep 0.1
done
grep -q "msg=started" "$WORK/peercdnd.log" || die "peercdnd did not start: $(cat "$WORK/peercdnd.log")"

APEX="cdn.acme.net ns1.cdn.acme.net 127.0.0.1"
POLICY="ad102.web.abc.cdn.acme.net ns1.cdn.acme.net 127.0.0.1"
genreport() { # input, options...
	input=$1
	shift
	echo "$input" | timeout 300 "$GENREPORT/genreport" -P "$DNS_PORT" "$@" ||
		die "genreport $* failed"
}
echo "bench/$BENCH: genreport $(git -C "$GENREPORT" rev-parse --short HEAD 2>/dev/null || echo '?')," \
	"peercdnd on 127.0.0.1:$DNS_PORT"
echo "== counted: genreport -f -c, genreport -t (zone apex)"
{
	genreport "$APEX" -f -c
	genreport "$APEX" -t
} | tee "$WORK/counted.txt"
echo "== not counted: dnswkk (apex); genreport -f at a policy name"
genreport "$APEX" -i dnswkk
genreport "$POLICY" -f

# test=result tokens after the "zone. @addr (ns.):" prefix.
read -r OK RUN < <(sed 's/^[^:]*://' "$WORK/counted.txt" | tr ' ' '\n' | grep '=' |
	grep -v '^signed=' | awk -F= '{ run++; if ($2 == "ok" || $2 ~ /^ok,/) ok++ }
		END { print ok + 0, run + 0 }')
[ "$RUN" -gt 0 ] || die "genreport printed no results"
echo "counted tests: $OK ok of $RUN run"
bench_provenance
echo "ratio dns_compliance_ok $(awk -v o="$OK" -v r="$RUN" 'BEGIN { printf "%.2f", o / r }')"
