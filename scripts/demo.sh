#!/bin/sh
# The main job: builds peercdn and walks through the embedded default
# federation (etc/peercdn.yaml), three CDNs on loopback addresses:
#
#   acme   content backbone AS 100, affiliates AS 400 and AS 500
#   beta   content backbone AS 200 + AS 300, affiliate AS 500
#   gamma  an access ISP's CDN in AS 600, peering with nobody
#   AS 700 belongs to no CDN
#
# For clients in different networks it asks the policy engine which server
# serves them and prints the engine's own explanation, and a table compares
# every answer with what the patent's claims 1 and 2 say it must be. Then it
# runs the federation live: DNS and redirector nodes, one peercdn edge per
# content server and an origin, and ends in delivery: a client redirected to
# an edge, the edge's miss then its hit, and a two-level tree where an edge
# fetches from its parent edge instead of the origin. Then content routers
# of the three CDNs joined by an overlay: an edge server dies, and the DNS
# of all three CDNs stops naming it within a second (the time printed);
# then a provider's report summary (`peercdnctl reports`). Last, a live
# stream: ffmpeg pushes it into acme's router, ffprobe plays it at beta's
# and gamma's, and a relay router dies mid-stream while the players go on.
#
#   scripts/demo.sh              install what is missing, build build/, run
#   scripts/demo.sh --built DIR  run DIR's binaries as they are: no install-deps,
#                                no build (tests/system/test_demo.py)
#
# Every check prints "ok" or "UNEXPECTED"; the demo exits 1 if any is
# UNEXPECTED. The live scene needs ffmpeg and ffprobe (install-deps installs
# them). It uses fixed ports (5300, 5301, 7400, 8000, 2554, 9153, 8080) on the
# federation's 127.x addresses, and 127.0.80.1:8081 for the origin. Every
# process it starts is stopped by PID when it exits, whatever the reason.
set -eu
cd "$(dirname "$0")/.."

if [ "${1:-}" = --built ]; then
	build=${2:?usage: demo.sh [--built BUILD-DIR]}
	for b in src/ctl/peercdnctl src/node/peercdnd src/client/peercdn-fetch; do
		[ -x "$build/$b" ] || {
			echo "demo: $build/$b not built" >&2
			exit 1
		}
	done
else
	build=build
	./scripts/install-deps.sh >/dev/null
	if [ ! -f build/build.ninja ]; then
		meson setup build >/dev/null
	fi
	ninja -C build src/ctl/peercdnctl src/node/peercdnd src/client/peercdn-fetch >/dev/null
fi
ctl=$build/src/ctl/peercdnctl
daemon=$build/src/node/peercdnd
fetcher=$build/src/client/peercdn-fetch

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
failed=0

# scenario TITLE EXPECTED-BRANCH EXPECTED-SERVER EXPLAIN-ARGS...: the
# branch the claims require, and the server (grep -E, whole name) that shows
# the scene's point: a server of the right CDN, or the one server left.
scenario() {
	title=$1
	expected=$2
	expected_server=$3
	shift 3
	printf '\n##### %s\n' "$title"
	printf '$ peercdnctl explain %s\n\n' "$*"
	out=$("$ctl" explain "$@" 2>&1) || true
	printf '%s\n' "$out"
	got=$(printf '%s\n' "$out" | sed -n 's/^answer *\([A-Z]*\).*/\1/p')
	server=$(printf '%s\n' "$out" | sed -n 's/^ *-> \([^ ]*\).*/\1/p' | head -1)
	mark=ok
	if [ "$got" != "$expected" ] || ! printf '%s\n' "$server" | grep -Eqx "$expected_server"; then
		mark=UNEXPECTED
		failed=1
	fi
	printf '%-52s %-8s %-8s %-17s %-10s %s\n' "$title" "$expected" "${got:-?}" \
		"$expected_server" "${server:--}" "$mark" >>"$summary"
}

echo "peercdn demo: three CDNs peering at the content level (etc/peercdn.yaml)"
"$ctl" check etc/peercdn.yaml

scenario "acme client asks for abc (acme's customer)" PRIMARY 'acme-s[124]' \
	--client 127.1.0.10 ad102.web.abc.cdn.acme.net
scenario "beta client asks for abc web: acme-beta peering" PEER 'beta-s[125]' \
	--client 127.2.0.10 ad102.web.abc.cdn.acme.net
scenario "beta client asks for abc tv: peering excludes tv" OUTSIDE 'acme-(s[12]|core)' \
	--client 127.3.0.10 chan4.abc.tv.cdn.acme.net
scenario "gamma client asks for foo (beta's customer)" OUTSIDE 'beta-s[125]' \
	--client 127.6.0.10 http://foo.cdn.beta.net/www.foo.com/index.html
scenario "AS 500 (affiliate of acme and beta) asks for foo" PRIMARY 'beta-s[125]' \
	--client 127.5.0.10 http://foo.cdn.beta.net/cdn.foo.com/Channel12
# acme-s1 and acme-s2 are over the high watermark; abc is gold (edge and
# regional tiers only), so acme-s4 is the one acme server left.
scenario "acme client, both acme edge servers busy" PRIMARY acme-s4 \
	--client 127.1.0.10 --load acme-s1=950 --load acme-s2=990 ad102.web.abc.cdn.acme.net
scenario "client of a CDN-less ISP asks for nbc (bronze)" OUTSIDE acme-core \
	--client 127.7.0.10 news.web.nbc.cdn.acme.net
signed=$("$ctl" name --provider news --service live --object chan7 --sign)
scenario "signed live name of news, IPv6 client in acme" OUTSIDE gamma-s1 \
	--client 2001:db8:100::10 "$signed"

printf '\n##### summary of the policy decisions\n'
printf '%-52s %-8s %-8s %-17s %-10s %s\n' "scenario" "branch" "got" "server" "got" ""
cat "$summary"

# Part 2: the same decisions over the wire. One peercdnd per CDN, each on
# its CDN's DNS anycast address (127.N0.0.53, port 5300). Clients send from
# their own loopback addresses (dig -b), so each is located by its source.
printf '\n##### live: one DNS node per CDN\n'
logs=$(mktemp -d)
pids=""
cleanup() {
	rc=$?
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	for pid in $pids; do wait "$pid" 2>/dev/null || true; done
	# A sanitizer build (tests/system/test_demo.py runs build-asan's
	# binaries too): a report in a node's log fails the demo.
	if grep -El 'runtime error|ERROR: [A-Za-z]*Sanitizer' "$logs"/*.log >/dev/null 2>&1; then
		grep -Eh -A20 'runtime error|ERROR: [A-Za-z]*Sanitizer' "$logs"/*.log | head -60 >&2
		echo "demo: sanitizer report in a node's log" >&2
		rc=1
	fi
	rm -rf "$logs" "$summary"
	exit "$rc"
}
trap cleanup EXIT
for node in acme-n1 beta-n1 gamma-n1; do
	"$daemon" -n "$node" 2>"$logs/$node.log" &
	pids="$pids $!"
done
for _ in $(seq 50); do
	started=$(cat "$logs"/*.log | grep -c 'msg=started' || true)
	[ "$started" -eq 3 ] && break
	sleep 0.1
done
if [ "$started" -ne 3 ]; then
	cat "$logs"/*.log >&2
	echo "demo: the DNS nodes did not start" >&2
	exit 1
fi
grep -h 'msg=dns-listening' "$logs"/*.log | sed 's/^/  /'

# The node behind a CDN's anycast address 127.N0.0.x: its metrics address.
node_of() {
	case $1 in
	127.10.*) echo 127.1.255.1 ;;
	127.20.*) echo 127.2.255.1 ;;
	*) echo 127.6.255.1 ;;
	esac
}
# branches NODE-ADDR ROLE: the node's decision counters "PRIMARY PEER OUTSIDE".
branches() {
	curl -s --max-time 5 "http://$1:9153/metrics" | awk -v m="peercdn_$2_decisions_total" '
		index($1, m "{branch=") == 1 { split($1, a, "\""); n[a[2]] = $2 }
		END { printf "%d %d %d\n", n["PRIMARY"], n["PEER"], n["OUTSIDE"] }' || echo "0 0 0"
}
# branch_taken BEFORE AFTER: the branch counted in between ("PEER"), or a
# list when it was not exactly one decision ("none", "PEER+2").
branch_taken() {
	# shellcheck disable=SC2086
	set -- $1 $2
	taken="" n=0
	for b in PRIMARY PEER OUTSIDE; do
		d=$(($4 - $1))
		if [ "$d" -eq 1 ]; then
			taken="$taken $b"
		elif [ "$d" -ne 0 ]; then
			taken="$taken $b+$d"
		fi
		n=$((n + d))
		shift
	done
	[ -n "$taken" ] || taken=" none"
	if [ "$n" -ne 1 ]; then taken="$taken (${n} decisions)"; fi
	echo "${taken# }"
}

# ask TITLE CLIENT DNS-ANYCAST NAME EXPECTED-BRANCH EXPECTED-ADDRESS (grep -E,
# whole address): the answer must be that server, the node must have counted
# one decision of that branch, and the answer must be the server
# `peercdnctl explain` names for the same client and name.
ask() {
	printf '  %s\n' "$1"
	shift
	node=$(node_of "$2")
	before=$(branches "$node" dns)
	answer=$(dig +norec +time=2 +tries=1 -b "$1" @"$2" -p 5300 "$3" A | grep -v '^;' | grep -w A || true)
	after=$(branches "$node" dns)
	got=$(printf '%s\n' "$answer" | awk '{print $5}' | head -1)
	ttl=$(printf '%s\n' "$answer" | awk '{print $2}' | head -1)
	branch=$(branch_taken "$before" "$after")
	explained=$("$ctl" explain --client "$1" "$3" 2>&1 | sed -n 's/^ *-> [^ ]* \([^ ]*\).*/\1/p' | head -1)
	mark=ok
	if ! printf '%s\n' "$got" | grep -Eqx "$5" || [ "$branch" != "$4" ] ||
		[ "$got" != "$explained" ]; then
		mark=UNEXPECTED
		failed=1
	fi
	printf '    $ dig -b %s @%s -p 5300 %s\n      -> %s (TTL %s), branch %s on %s;' "$1" "$2" \
		"$3" "${got:-no answer}" "${ttl:--}" "$branch" "$node"
	printf ' expected %s, %s; explain: %s  %s\n' "$4" "$5" "${explained:-?}" "$mark"
}
ask "acme client, abc content, acme's DNS: PRIMARY, an acme server" \
	127.1.0.10 127.10.0.53 ad102.web.abc.cdn.acme.net PRIMARY '127\.1\.200\.[12]'
ask "beta client, abc content, acme's DNS: PEER, a beta server" \
	127.2.0.10 127.10.0.53 ad102.web.abc.cdn.acme.net PEER '127\.2\.200\.1'
# The two foo scenes come from different client networks and ask for
# different objects, so each scene's answer is its own: the gamma client is
# sent to beta's server nearest to it (beta-s2 in AS 300, path cost 10; the
# affinity band is relative to that best score, so beta-s1 at cost 15 does
# not share the object).
ask "gamma client, foo content, beta's DNS: OUTSIDE, beta-s2 (AS 300, the nearest)" \
	127.6.0.10 127.20.0.53 index.foo.cdn.beta.net OUTSIDE '127\.3\.200\.1'
ask "AS 500 client (affiliate of both), foo content: PRIMARY, beta-s5 (AS 500)" \
	127.5.0.10 127.20.0.53 video.foo.cdn.beta.net PRIMARY '127\.5\.200\.1'
echo "  acme's node counted these decisions (http://127.1.255.1:9153/metrics):"
curl -s --max-time 5 http://127.1.255.1:9153/metrics | grep '^peercdn_dns_decisions_total' |
	sed 's/^/    /' || true

# Part 3: delivery. Every content server of the federation is a peercdnd
# running the edge role on the server's own address (port 8080): an HTTP
# cache that fetches what it does not hold once, from its parent or from
# the origin named in the URL. The origin of www.abc.com, www.nbc.com and
# www.foo.com is one small web server (tests/system/origin_server.py) that
# counts the requests it gets. acme's edge servers (acme-s1, acme-s2,
# acme-s4) fetch through acme-core, a two-level tree; the others fetch
# from the origin.
origin=127.0.80.1:8081

# The content server on an address, and back.
server_of() {
	case $1 in
	127.1.200.1) echo acme-s1 ;;
	127.1.200.2) echo acme-s2 ;;
	127.1.201.1) echo acme-core ;;
	127.4.200.1) echo acme-s4 ;;
	127.2.200.1) echo beta-s1 ;;
	127.3.200.1) echo beta-s2 ;;
	127.5.200.1) echo beta-s5 ;;
	127.6.200.1) echo gamma-s1 ;;
	esac
}
address_of_server() {
	for a in 127.1.200.1 127.1.200.2 127.1.201.1 127.4.200.1 127.2.200.1 127.3.200.1 \
		127.5.200.1 127.6.200.1; do
		if [ "$(server_of "$a")" = "$1" ]; then echo "$a"; fi
	done
}
# address_of URL: the host part of an http URL.
address_of() {
	printf '%s\n' "$1" | sed -n 's|^[a-z]*://\([^/:]*\).*|\1|p'
}
# get CLIENT [CURL-OPTION...] URL: one GET from CLIENT's address. Sets
# status and effective (the URL that answered); the last response's head
# goes to $logs/head, its body to $logs/body.
get() {
	get_client=$1
	shift
	rm -f "$logs/heads" "$logs/head" "$logs/body"
	effective=$(curl -s --max-time 5 --max-redirs 2 --interface "$get_client" \
		-D "$logs/heads" -o "$logs/body" -w '%{url_effective}' "$@" || true)
	awk '/^HTTP\// { head = "" } { sub(/\r$/, ""); head = head $0 "\n" }
		END { printf "%s", head }' "$logs/heads" >"$logs/head" 2>/dev/null || true
	status=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$logs/head")
}
# field NAME: the value of the last response's field NAME, its lines joined.
field() {
	sed -n "s/^$1: *//Ip" "$logs/head" | paste -sd, - | sed 's/,\([^ ]\)/, \1/g'
}
show_response() {
	printf '      -> %s, %s bytes, X-Cache: %s, Age: %s\n         Via: %s\n' "${status:-no answer}" \
		"$(wc -c <"$logs/body" 2>/dev/null || echo 0)" "$(field X-Cache)" "$(field Age)" \
		"$(field Via)"
}
# via_is ENTRY...: the Via field lists exactly these received-by entries.
via_is() {
	want=""
	for v in "$@"; do want="${want:+$want, }1.1 $v"; done
	[ "$(field Via)" = "$want" ]
}
# served SERVER FILE: what a client got, for the transcript.
served() {
	if [ -z "$1" ] || [ ! -s "$logs/$2" ]; then
		echo "no answer"
		return
	fi
	printf 'served by %s: %s bytes "%s..."' "$1" "$(wc -c <"$logs/$2")" \
		"$(head -c 24 "$logs/$2")"
}
# cdsr_server: the server peercdn-fetch -v says it fetched from.
cdsr_server() {
	server_of "$(sed -n 's|^fetch: GET [a-z]*://\([^/:]*\)[:/].* -> 200.*|\1|p' \
		"$logs/fetch.err" | tail -1)"
}
# is_object FILE HOST/PATH: FILE holds exactly the origin's object (its
# bodies are a function of Host and path, tests/system/origin_server.py).
is_object() {
	python3 -c 'import sys
sys.path.insert(0, "tests/system")
from origin_server import body_for
host, _, path = sys.argv[2].partition("/")
with open(sys.argv[1], "rb") as f:
    sys.exit(f.read() != body_for(host, "/" + path, 1000))' "$1" "$2" 2>/dev/null
}
# origin_count PATH: the requests the origin has had for PATH.
origin_count() {
	curl -s --max-time 5 "http://$origin/__counts" | python3 -c 'import json, sys
print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1" 2>/dev/null || echo '?'
}
# edge_results ADDRESS RESULT: the requests of that result (hit, miss, ...)
# the edge on ADDRESS counted, for every provider.
edge_results() {
	curl -s --max-time 5 "http://$1:9153/metrics" | awk -v r="result=\"$2\"" '
		index($1, "peercdn_edge_requests_total{") == 1 && index($1, r) { n += $2 }
		END { printf "%d\n", n }'
}
# expect YES WANTED: one check of the delivery scenes.
expect() {
	if [ "$1" = yes ]; then
		printf '      ok: %s\n' "$2"
	else
		printf '      UNEXPECTED, wanted: %s\n' "$2"
		failed=1
	fi
}
printf '\n##### live: the origin and one edge server per content server\n'
python3 tests/system/origin_server.py --address "${origin%:*}" --port "${origin#*:}" \
	--cache-control max-age=600 >"$logs/origin.out" 2>&1 &
origin_pid=$!
pids="$pids $origin_pid"
# edge NAME CDN AS ADDRESS [PARENT]: a config for the edge (the default
# federation with NAME as one more node, its redirector roles off, the
# edge role on), and the daemon started with it.
edge_pids=""
edge() {
	name=$1 cdn=$2 as=$3 addr=$4 parent=${5:-}
	conf=$logs/$name.yaml
	{
		sed -e '/^dns:/,$d' -e "s/^self: .*/self: $name/" etc/peercdn.yaml
		printf '  - {name: %s, as: %s, cdns: [%s], addresses: [%s]}\n\n' "$name" "$as" \
			"$cdn" "$addr"
		printf '%s: {enabled: false}\n' dns http rtsp cdsr
		printf 'edge:\n  enabled: true\n  listen: [%s]\n  port: 8080\n' "$addr"
		printf '  origins: [www.abc.com=%s, www.nbc.com=%s, www.foo.com=%s]\n' "$origin" \
			"$origin" "$origin"
		[ -z "$parent" ] || printf '  parents: ["%s:8080"]\n' "$parent"
		printf '  memory_mb: 16\n  max_object_mb: 4\n  access_log: %s\n' "$logs/$name.access"
		printf 'control:\n  metrics_port: 9153\n'
	} >"$conf"
	"$daemon" -c "$conf" 2>"$logs/$name.log" &
	pids="$pids $!"
	edge_pids="$edge_pids $name=$!"
}
edge acme-core acme 100 127.1.201.1
edge acme-s1 acme 100 127.1.200.1 127.1.201.1
edge acme-s2 acme 100 127.1.200.2 127.1.201.1
edge acme-s4 acme 400 127.4.200.1 127.1.201.1
edge beta-s1 beta 200 127.2.200.1
edge beta-s2 beta 300 127.3.200.1
edge beta-s5 beta 500 127.5.200.1
edge gamma-s1 gamma 600 127.6.200.1
servers="acme-core acme-s1 acme-s2 acme-s4 beta-s1 beta-s2 beta-s5 gamma-s1"
for _ in $(seq 100); do
	up=0
	for name in $servers; do
		if grep -q 'msg=started' "$logs/$name.log"; then up=$((up + 1)); fi
	done
	[ "$up" -eq 8 ] && grep -q '^ready' "$logs/origin.out" && break
	kill -0 "$origin_pid" 2>/dev/null || break
	sleep 0.1
done
if [ "$up" -ne 8 ] || ! grep -q '^ready' "$logs/origin.out"; then
	cat "$logs/origin.out" "$logs"/*-s*.log "$logs"/acme-core.log >&2
	echo "demo: the origin or the edge servers did not start" >&2
	exit 1
fi
printf '  origin of www.abc.com, www.nbc.com, www.foo.com: http://%s (Cache-Control: max-age=600)\n' \
	"$origin"
for name in $servers; do
	parent=$(sed -n 's/^  parents: \["\(.*\):8080"\]/\1/p' "$logs/$name.yaml")
	from="the origin"
	[ -z "$parent" ] || from="its parent $(server_of "$parent") ($parent:8080)"
	printf '  %-9s edge on %s:8080, fetches from %s\n' "$name" \
		"$(address_of_server "$name")" "$from"
done
echo "  acme-s1's config is the default federation with acme-s1 as a node of its own,"
echo "  the redirector roles off, and this section:"
sed -n '/^edge:/,/^control:/p' "$logs/acme-s1.yaml" | sed -e '$d' -e 's/^/    /'

# Part 4: explicit redirection and CDSR (§3.1.5, §4). The DNS nodes also
# run the HTTP redirector (TCP 8000) and the CDSR responder (UDP 2554) on
# their CDN's anycast address 127.N0.0.1; the clients they send away are
# served by the edges.
printf '\n##### live: delivery through the HTTP redirector (legacy client) and CDSR\n'
grep -h 'msg=listening' "$logs"/*-n1.log | sed 's/^/  /'

# fetch TITLE CLIENT ANYCAST URL EXPECTED-BRANCH EXPECTED-SERVER-PATTERN: the
# legacy client (curl following the 302) and the CDSR client (peercdn-fetch),
# both from the client's address, must be served the same object by the
# same edge, and the node must have counted one decision of the branch for
# each.
fetch() {
	printf '  %s\n' "$1"
	client=$2 anycast=$3 url=$4 expected_branch=$5 expected=$6
	node=$(node_of "$anycast")
	http_before=$(branches "$node" http)
	cdsr_before=$(branches "$node" cdsr)
	host=$(printf '%s\n' "$url" | sed 's|^[a-z]*://\([^/:]*\).*|\1|')
	object=$(printf '%s\n' "$url" | sed 's|^[a-z]*://[^/]*/||')
	printf '    $ curl -L --interface %s --resolve %s:8000:%s %s\n' "$client" "$host" \
		"$anycast" "$url"
	rm -f "$logs/body.cdsr"
	get "$client" -L --resolve "$host:8000:$anycast" "$url"
	where=$effective
	legacy=$(server_of "$(address_of "$where")")
	printf '      -> 302 to %s\n      -> %s, X-Cache: %s\n' "${where:-?}" \
		"$(served "$legacy" body)" "$(field X-Cache)"
	printf '    $ peercdn-fetch -r %s -b %s %s\n' "$anycast" "$client" "$url"
	"$fetcher" -v --no-fallback -r "$anycast" -b "$client" -o "$logs/body.cdsr" "$url" \
		2>"$logs/fetch.err" || true
	sed -n 's/^rendezvous: [0-9.:]* -> /      -> CDSR answer: /p' "$logs/fetch.err"
	aware=$(cdsr_server)
	printf '      -> %s\n' "$(served "$aware" body.cdsr)"
	http_branch=$(branch_taken "$http_before" "$(branches "$node" http)")
	cdsr_branch=$(branch_taken "$cdsr_before" "$(branches "$node" cdsr)")
	printf '      branch on %s: HTTP %s, CDSR %s (expected %s)\n' "$node" "$http_branch" \
		"$cdsr_branch" "$expected_branch"
	mark="ok, both served by the same server"
	if ! printf '%s\n' "$legacy" | grep -Eqx "$expected" || [ "$legacy" != "$aware" ] ||
		! is_object "$logs/body" "$object" || ! cmp -s "$logs/body" "$logs/body.cdsr" ||
		[ "$http_branch" != "$expected_branch" ] || [ "$cdsr_branch" != "$expected_branch" ]; then
		mark=UNEXPECTED
		failed=1
	fi
	printf '      %s\n' "$mark"
}
fetch "acme client, abc content: PRIMARY, an acme server" \
	127.1.0.10 127.10.0.1 http://abc.cdn.acme.net:8000/www.abc.com/news.html PRIMARY 'acme-s[124]'
fetch "beta client, abc content, at acme's redirector: PEER, a beta server" \
	127.2.0.10 127.10.0.1 http://abc.cdn.acme.net:8000/www.abc.com/news.html PEER 'beta-s[125]'
fetch "gamma client, foo content, at beta's redirector: OUTSIDE, a beta server" \
	127.6.0.10 127.20.0.1 http://foo.cdn.beta.net:8000/www.foo.com/index.html OUTSIDE 'beta-s[125]'
# A server dies mid-run: the CDN does not know yet, the CDSR client does.
victim=$aware
printf '  the edge server that just served foo (%s) stops; the CDSR client asks again:\n' \
	"${victim:-?}"
for entry in $edge_pids; do
	if [ "${entry%%=*}" = "$victim" ]; then
		kill "${entry#*=}"
		wait "${entry#*=}" 2>/dev/null || true
	fi
done
printf '    $ peercdn-fetch -v -r 127.20.0.1 -b 127.6.0.10 http://foo.cdn.beta.net/www.foo.com/index.html\n'
rm -f "$logs/body.cdsr"
"$fetcher" -v --no-fallback -r 127.20.0.1 -b 127.6.0.10 -o "$logs/body.cdsr" \
	http://foo.cdn.beta.net/www.foo.com/index.html 2>"$logs/fetch.err" || true
sed 's/^/      /' "$logs/fetch.err"
after=$(cdsr_server)
printf '      -> %s\n' "$(served "$after" body.cdsr)"
if [ -z "$victim" ] || [ -z "$after" ] || [ "$after" = "$victim" ] ||
	! is_object "$logs/body.cdsr" www.foo.com/index.html; then
	echo "      UNEXPECTED: no other server took over"
	failed=1
else
	echo "      ok, another server took over"
fi
echo "  acme's node counted these redirects:"
curl -s --max-time 5 http://127.1.255.1:9153/metrics |
	grep -E '^peercdn_(http|cdsr)_(decisions|responses)_total.* [1-9]' | sed 's/^/    /' || true

# Part 5: what an edge does with a request, seen from the client and from
# the origin's request counter.
printf '\n##### live: an edge fetches an object once, then serves it from memory\n'
# A client of the CDN-less ISP asks acme for nbc's page; nbc is bronze, so
# the one server of acme's core tier serves it.
url=http://nbc.cdn.acme.net:8000/www.nbc.com/today.html
printf '  a client of the CDN-less ISP (127.7.0.10) asks acme'"'"'s redirector for %s\n' "$url"
printf '    $ curl -i --interface 127.7.0.10 --resolve nbc.cdn.acme.net:8000:127.10.0.1 %s\n' \
	"$url"
get 127.7.0.10 --resolve nbc.cdn.acme.net:8000:127.10.0.1 "$url"
location=$(field Location)
printf '      -> %s, Location: %s\n' "$status" "${location:-none}"
count_before=$(origin_count /today.html)
printf '    the origin has been asked for /today.html %s times\n' "$count_before"
printf '    $ curl -i --interface 127.7.0.10 %s\n' "${location:-?}"
get 127.7.0.10 "${location:-http://0.0.0.0/}"
cp "$logs/body" "$logs/body.first" 2>/dev/null || : >"$logs/body.first"
show_response
count_miss=$(origin_count /today.html)
at=$(server_of "$(address_of "$location")")
expect "$([ "$status" = 200 ] && [ "$at" = acme-core ] && [ "$(field X-Cache)" = MISS ] &&
	[ "$count_before" = 0 ] && [ "$count_miss" = 1 ] &&
	is_object "$logs/body" www.nbc.com/today.html && echo yes)" \
	"MISS at acme-core, the origin's count of /today.html went 0 -> 1"
printf '  a second client there (127.7.0.11) asks for the same page: the same server,\n'
printf '  which has it now\n'
printf '    $ curl -i -L --interface 127.7.0.11 --resolve nbc.cdn.acme.net:8000:127.10.0.1 %s\n' \
	"$url"
get 127.7.0.11 -L --resolve nbc.cdn.acme.net:8000:127.10.0.1 "$url"
show_response
count_hit=$(origin_count /today.html)
at=$(server_of "$(address_of "$effective")")
expect "$([ "$status" = 200 ] && [ "$at" = acme-core ] && [ "$(field X-Cache)" = HIT ] &&
	[ -n "$(field Age)" ] && [ "$count_hit" = 1 ] &&
	cmp -s "$logs/body" "$logs/body.first" && echo yes)" \
	"HIT at acme-core, with an Age, the origin's count stayed 1"

printf '\n##### live: a two-level tree: acme'"'"'s edge servers fetch through acme-core\n'
object=www.abc.com/catalog.html
printf '  acme'"'"'s redirector sends acme clients to acme-s1 or acme-s2; each is asked here by\n'
printf '  its address. A client of acme-s1 asks for %s:\n' "$object"
tree_step() {
	client=$1 name=$2 addr=$3
	core_hits=$(edge_results 127.1.201.1 hit)
	core_misses=$(edge_results 127.1.201.1 miss)
	count_before=$(origin_count /catalog.html)
	printf '    $ curl -i --interface %s http://%s:8080/%s\n' "$client" "$addr" "$object"
	get "$client" "http://$addr:8080/$object"
	show_response
	core_hits=$(($(edge_results 127.1.201.1 hit) - core_hits))
	core_misses=$(($(edge_results 127.1.201.1 miss) - core_misses))
	count_after=$(origin_count /catalog.html)
	printf '      acme-core counted %d miss, %d hit; the origin'"'"'s count of /catalog.html: %s -> %s\n' \
		"$core_misses" "$core_hits" "$count_before" "$count_after"
}
tree_step 127.1.0.10 acme-s1 127.1.200.1
cp "$logs/body" "$logs/body.first" 2>/dev/null || : >"$logs/body.first"
expect "$([ "$status" = 200 ] && [ "$(field X-Cache)" = MISS ] &&
	via_is "127.1.201.1:8080 (peercdn acme-core)" "127.1.200.1:8080 (peercdn acme-s1)" &&
	[ "$core_misses" = 1 ] && [ "$core_hits" = 0 ] &&
	[ "$count_before" = 0 ] && [ "$count_after" = 1 ] &&
	is_object "$logs/body" "$object" && echo yes)" \
	"MISS at acme-s1, fetched through acme-core (a miss there too), the origin's count went 0 -> 1"
printf '  a client of acme-s2 asks for the same object: acme-s2 does not have it,\n'
printf '  its parent does\n'
tree_step 127.1.0.11 acme-s2 127.1.200.2
expect "$([ "$status" = 200 ] && [ "$(field X-Cache)" = MISS ] &&
	via_is "127.1.201.1:8080 (peercdn acme-core)" "127.1.200.2:8080 (peercdn acme-s2)" &&
	[ "$core_misses" = 0 ] && [ "$core_hits" = 1 ] && [ "$count_after" = 1 ] &&
	cmp -s "$logs/body" "$logs/body.first" && echo yes)" \
	"MISS at acme-s2, fetched through acme-core (a hit there), the origin's count stayed 1"
echo "  the edges counted (http://ADDRESS:9153/metrics, peercdn_edge_requests_total):"
for name in acme-core acme-s1 acme-s2 acme-s4 beta-s1 beta-s2 beta-s5 gamma-s1; do
	addr=$(address_of_server "$name")
	metrics=$(curl -s --max-time 5 "http://$addr:9153/metrics" || true)
	printf '    %-9s %s\n' "$name" "$(printf '%s\n' "$metrics" | awk '
		index($1, "peercdn_edge_requests_total{") == 1 {
			split($1, a, "result=\""); split(a[2], r, "\""); n[r[1]] += $2 }
		index($1, "peercdn_edge_upstream_fetches_total{") == 1 { f += $2; up = 1 }
		END {
			if (!up) { print "stopped"; exit }
			split("hit miss revalidated stale_error pass error", order, " ")
			for (i = 1; i <= 6; i++) if (n[order[i]]) printf "%s %d, ", order[i], n[order[i]]
			printf "upstream fetches %d\n", f
		}')"
done

# Part 6: the overlay (§3.3, claims 5 and 7-10). Content routers acme-r,
# beta-r, gamma-r and a second beta router beta-r2 (new nodes on their CDN's
# backbone) joined by virtual links: acme-r to both beta routers, both of
# them to gamma-r (peering links), beta-r to beta-r2. Each also answers DNS
# on its own address (port 5301) and keeps a store of provider reports; the
# scene watches the DNS of acme-r, beta-r and gamma-r, one per CDN. beta-r2
# is part 7's relay. acme-r runs the health role, probing acme-s1 and
# acme-s2 every 50 ms; its verdicts travel over the overlay as LOAD records
# into the live state of every router. The routers' configs add an
# agreement beta-gamma: a channel crosses a peering link only under one.
# For part 7's live stream of abc (acme's customer), acme-beta covers live
# too, and an agreement acme-gamma covers live alone: a live channel
# crosses a peering link only when both its CDNs may deliver it.
printf '\n##### live: the overlay carries a dead server to the redirectors of all three CDNs\n'
router_pids=""
# router NAME CDN AS ADDRESS NEIGHBOUR...: NEIGHBOUR is NAME@ADDRESS@KEY.
router() {
	name=$1 cdn=$2 as=$3 addr=$4
	shift 4
	conf=$logs/$name.yaml
	{
		sed -e '/^dns:/,$d' -e "s/^self: .*/self: $name/" \
			-e 's/^agreements:$/agreements:\n  - {name: beta-gamma, between: [beta, gamma], services: [web, vod], capacity_rps: 1000}\n  - {name: acme-gamma, between: [acme, gamma], services: [live], capacity_rps: 1000}/' \
			-e 's/^    services: \[web, vod\]$/    services: [web, vod, live]/' \
			etc/peercdn.yaml
		printf '  - {name: %s, as: %s, cdns: [%s], addresses: [%s]}\n' acme-r 100 acme 127.1.255.7
		printf '  - {name: %s, as: %s, cdns: [%s], addresses: [%s]}\n' beta-r 200 beta 127.2.255.7
		printf '  - {name: %s, as: %s, cdns: [%s], addresses: [%s]}\n' beta-r2 200 beta 127.2.255.8
		printf '  - {name: %s, as: %s, cdns: [%s], addresses: [%s]}\n\n' gamma-r 600 gamma 127.6.255.7
		printf 'dns: {enabled: true, listen: [%s], port: 5301}\n' "$addr"
		printf '%s: {enabled: false}\n' http rtsp cdsr
		printf 'reports: {enabled: true, path: %s}\n' "$logs/$name.reports"
		printf 'overlay:\n  enabled: true\n  listen: [%s]\n  neighbours:\n' "$addr"
		for n in "$@"; do
			printf '    - {node: %s, address: "%s:7400", key: %s, cost: %s}\n' "${n%%@*}" \
				"$(echo "$n" | cut -d@ -f2)" "$(echo "$n" | cut -d@ -f3)" "${n##*@}"
		done
		if [ "$name" = acme-r ]; then
			printf 'health: {enabled: true, mode: tcp, interval_ms: 50, timeout_ms: 100, fall: 2, rise: 2, servers: [acme-s1, acme-s2]}\n'
		fi
		# The live scene (part 7): abc's streams enter at acme-r's edge and
		# are played at beta-r's and gamma-r's; beta-r2 only relays.
		if [ "$name" != beta-r2 ]; then
			printf 'edge:\n  enabled: true\n  listen: [%s]\n  port: 8080\n' "$addr"
			printf '  live: {ingest: %s, keys: ["abc=%s"], sources: [abc=acme-r]}\n' \
				"$([ "$name" = acme-r ] && echo true || echo false)" "$live_key"
		fi
		printf 'control:\n  metrics_port: 9153\n'
	} >"$conf"
	"$daemon" -c "$conf" 2>"$logs/$name.log" &
	pids="$pids $!"
	router_pids="$router_pids $name=$!"
}
# The links' keys (32 bytes each) and abc's ingest key: the demo's, not for
# production. A link is NAME@ADDRESS@KEY@COST. beta-r2 is a second beta
# router, a relay: gamma-r's cheapest path to acme-r goes through it
# (cost 20, against 30 through beta-r then beta-r2 and 40 through beta-r alone).
ab=$(printf '%064d' 1)
bg=$(printf '%064d' 2)
ab2=$(printf '%064d' 3)
b2g=$(printf '%064d' 4)
bb=$(printf '%064d' 5)
live_key=abc-live-key-of-the-demo
router acme-r acme 100 127.1.255.7 "beta-r@127.2.255.7@$ab@10" "beta-r2@127.2.255.8@$ab2@10"
router beta-r beta 200 127.2.255.7 "acme-r@127.1.255.7@$ab@10" "gamma-r@127.6.255.7@$bg@30" \
	"beta-r2@127.2.255.8@$bb@10"
router beta-r2 beta 200 127.2.255.8 "acme-r@127.1.255.7@$ab2@10" "gamma-r@127.6.255.7@$b2g@10" \
	"beta-r@127.2.255.7@$bb@10"
router gamma-r gamma 600 127.6.255.7 "beta-r@127.2.255.7@$bg@30" "beta-r2@127.2.255.8@$b2g@10"
routers="acme-r beta-r gamma-r"
# links_up ADDRESS: the links up at the router on ADDRESS.
links_up() {
	curl -s --max-time 5 "http://$1:9153/metrics" |
		awk 'index($1, "peercdn_overlay_link_up{") == 1 { n += $2 } END { printf "%d\n", n }'
}
for _ in $(seq 100); do
	[ "$(links_up 127.1.255.7)" = 2 ] && [ "$(links_up 127.2.255.7)" = 3 ] &&
		[ "$(links_up 127.2.255.8)" = 3 ] && [ "$(links_up 127.6.255.7)" = 2 ] && break
	sleep 0.1
done
grep -h 'msg=overlay-link-up' "$logs"/*-r.log | sed 's/^.*msg=/  /'
router_addr() {
	case $1 in
	acme-r) echo 127.1.255.7 ;;
	beta-r) echo 127.2.255.7 ;;
	beta-r2) echo 127.2.255.8 ;;
	*) echo 127.6.255.7 ;;
	esac
}
router_domain() {
	case $1 in acme-r) echo cdn.acme.net ;; beta-r) echo cdn.beta.net ;; *) echo cdn.gamma.net ;; esac
}
# names ROUTER OBJECT...: the addresses the router's DNS answers for those
# objects of abc, asked from AS 700 (a client of no CDN: every CDN sends it
# to acme's servers, PRIMARY at acme, OUTSIDE elsewhere).
# One dig process asks them all: a process per name would make a router
# with more names to watch look slower to stop naming a dead server.
names() {
	r=$1
	shift
	[ $# -gt 0 ] || return 0
	queries=""
	for o in "$@"; do
		queries="$queries $o.web.abc.$(router_domain "$r") A"
	done
	# shellcheck disable=SC2086
	dig +norec +time=1 +tries=1 -b 127.7.0.10 @"$(router_addr "$r")" -p 5301 $queries |
		grep -v '^;' | awk '$4 == "A" { print $5 }' | sort -u | paste -sd' ' -
}
victim_addr=127.1.200.1
objects="o1 o2 o3 o4 o5 o6 o7 o8"
# Each router is then asked for the objects it sent to acme-s1 (a
# redirector keeps an object on one server), one dig each.
watch=""
# shellcheck disable=SC2086
for r in $routers; do
	for _ in $(seq 50); do
		case " $(names "$r" $objects) " in *" $victim_addr "*) break ;; esac
		sleep 0.1
	done
	printf '  %-7s answers for abc (client 127.7.0.10): %s\n' "$r" "$(names "$r" $objects)"
	for o in $objects; do
		[ "$(names "$r" "$o")" = "$victim_addr" ] && watch="$watch $r=$o"
	done
done
printf '  acme-s1 (%s) stops; each router'"'"'s DNS is asked until it no longer names it:\n' \
	"$victim_addr"
for entry in $edge_pids; do
	if [ "${entry%%=*}" = acme-s1 ]; then
		kill "${entry#*=}"
		wait "${entry#*=}" 2>/dev/null || true
	fi
done
killed=$(date +%s%N)
gone=""
for _ in $(seq 500); do
	for r in $routers; do
		case " $gone " in *" $r="*) continue ;; esac
		# shellcheck disable=SC2086
		case " $(names "$r" $(echo "$watch" | tr ' ' '\n' | sed -n "s/^$r=//p")) " in
		*" $victim_addr "*) ;;
		*) gone="$gone $r=$((($(date +%s%N) - killed) / 1000000))" ;;
		esac
	done
	[ "$(echo "$gone" | wc -w)" -eq 3 ] && break
done
for r in $routers; do
	ms=$(echo "$gone" | tr ' ' '\n' | sed -n "s/^$r=//p")
	# shellcheck disable=SC2086
	printf '    %-7s %s\n' "$r" "$(names "$r" $objects)"
	if [ -n "$ms" ] && [ "$ms" -lt 3000 ]; then
		printf '      ok: %s stopped naming acme-s1 %s ms after its death\n' "$r" "$ms"
	else
		printf '      UNEXPECTED, wanted: %s stops naming acme-s1 within 3 s (%s)\n' "$r" \
			"${ms:+$ms ms}"
		failed=1
	fi
done
grep -h 'msg=overlay-server-down' "$logs"/*-r.log | sed 's/^.*msg=/  /'

# The answers beta-r and gamma-r gave the client of no CDN were OUTSIDE
# decisions: each is a record in that router's report store (claim 3).
printf '  the provider reports the routers stored (peercdnctl reports):\n'
for r in beta-r gamma-r; do
	printf '    $ peercdnctl reports --path %s --provider abc\n' "\$logs/$r.reports"
	"$ctl" reports --path "$logs/$r.reports" --provider abc 2>&1 | sed 's/^/      /'
done

# Part 7: a live stream on the overlay (§3.3, issue 12). An encoder (ffmpeg,
# a test pattern and a tone) pushes MPEG-TS over a chunked POST into acme-r's
# edge with abc's ingest key; the stream becomes a channel on the overlay.
# Two players (ffprobe, decoding frames) ask beta-r's edge for it over HLS
# and gamma-r's as progressive MPEG-TS: each edge's first request joins its
# router to the channel. gamma-r's blocks come through the relay beta-r2;
# it is killed mid-stream, the overlay re-joins gamma-r's subscription
# through beta-r from the last block it had, and the players go on.
printf '\n##### live: a live stream pushed into acme, played in beta and gamma, a relay dies\n'
# live_count ADDRESS EVENT: the edge's peercdn_edge_live_total{event=EVENT}.
live_count() {
	curl -s --max-time 5 "http://$1:9153/metrics" | awk -v m="peercdn_edge_live_total{event=\"$2\"}" '
		$1 == m { n = $2 } END { printf "%d\n", n }'
}
# content_sent ADDRESS NEIGHBOUR: channel blocks the router sent that neighbour.
content_sent() {
	curl -s --max-time 5 "http://$1:9153/metrics" | awk -v n="neighbour=\"$2\"" '
		index($1, "peercdn_overlay_blocks_sent_total{") == 1 && index($1, n) &&
			index($1, "kind=\"content\"") { s += $2 } END { printf "%d\n", s }'
}
# frames_of FILE: frames a player decoded so far (one line each).
frames_of() {
	n=$(grep -c . "$1" 2>/dev/null) || true
	echo "${n:-0}"
}
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
	printf '  UNEXPECTED: ffmpeg and ffprobe are needed (scripts/install-deps.sh installs them)\n'
	failed=1
else
	stream=http://127.1.255.7:8080/www.abc.com/live/news.ts
	crlf=$(printf '\r\n.')
	crlf=${crlf%.}
	printf '  the encoder pushes 20 s of a test pattern and a tone into acme-r'"'"'s edge:\n'
	printf '    $ ffmpeg -re -f lavfi -i testsrc -f lavfi -i sine ... -f mpegts \\\n'
	printf '        -method POST -headers "X-Live-Key: ..." %s\n' "$stream"
	ffmpeg -nostdin -hide_banner -loglevel error -re \
		-f lavfi -i testsrc=size=320x240:rate=25:duration=20 \
		-f lavfi -i sine=frequency=440:sample_rate=48000:duration=20 \
		-c:v libx264 -pix_fmt yuv420p -preset ultrafast -tune zerolatency -g 25 -b:v 300k -c:a aac -b:a 64k \
		-f mpegts -headers "X-Live-Key: $live_key$crlf" -method POST "$stream" \
		>"$logs/ffmpeg.out" 2>&1 &
	encoder_pid=$!
	pids="$pids $encoder_pid"
	for _ in $(seq 100); do
		[ "$(live_count 127.1.255.7 blocks_published)" -gt 0 ] && break
		sleep 0.1
	done
	# play NAME URL: a player decoding 12 s of the stream's video, one line
	# per frame, written as it goes (stdbuf), so the demo can count them;
	# its PID in player.
	play() {
		stdbuf -oL ffprobe -v error -rw_timeout 10000000 -read_intervals %+12 \
			-select_streams v -show_frames -show_entries frame=pict_type -of csv=p=0 \
			"$2" >"$logs/$1.frames" 2>"$logs/$1.err" &
		player=$!
		pids="$pids $player"
	}
	printf '  a player in beta (HLS) and one in gamma (progressive MPEG-TS):\n'
	printf '    $ ffprobe -show_frames http://127.2.255.7:8080/www.abc.com/live/news.m3u8\n'
	printf '    $ ffprobe -show_frames http://127.6.255.7:8080/www.abc.com/live/news.ts\n'
	play beta http://127.2.255.7:8080/www.abc.com/live/news.m3u8
	player_beta=$player
	play gamma http://127.6.255.7:8080/www.abc.com/live/news.ts
	player_gamma=$player
	for _ in $(seq 150); do
		[ "$(frames_of "$logs/beta.frames")" -ge 50 ] &&
			[ "$(frames_of "$logs/gamma.frames")" -ge 50 ] &&
			[ "$(content_sent 127.2.255.8 gamma-r)" -gt 0 ] && break
		sleep 0.1
	done
	beta_before=$(frames_of "$logs/beta.frames")
	gamma_before=$(frames_of "$logs/gamma.frames")
	relayed=$(content_sent 127.2.255.8 gamma-r)
	printf '  frames decoded so far: beta %d, gamma %d; beta-r2 relayed %d blocks to gamma-r\n' \
		"$beta_before" "$gamma_before" "$relayed"
	expect "$([ "$beta_before" -ge 50 ] && [ "$gamma_before" -ge 50 ] && [ "$relayed" -gt 0 ] &&
		echo yes)" "both players decode frames, gamma's through the relay beta-r2"
	[ "$failed" -eq 0 ] || cat "$logs/ffmpeg.out" "$logs/beta.err" "$logs/gamma.err" >&2
	received_before=$(live_count 127.6.255.7 blocks_received)
	around_before=$(content_sent 127.2.255.7 gamma-r)
	printf '  the relay beta-r2 (127.2.255.8) is killed mid-stream\n'
	for entry in $router_pids; do
		if [ "${entry%%=*}" = beta-r2 ]; then
			kill "${entry#*=}"
			wait "${entry#*=}" 2>/dev/null || true
		fi
	done
	# Each player has decoded 12 s of stream (300 frames) or ended.
	for _ in $(seq 200); do
		kill -0 "$player_beta" 2>/dev/null || kill -0 "$player_gamma" 2>/dev/null || break
		sleep 0.1
	done
	beta_after=$(frames_of "$logs/beta.frames")
	gamma_after=$(frames_of "$logs/gamma.frames")
	around=$(($(content_sent 127.2.255.7 gamma-r) - around_before))
	received=$(($(live_count 127.6.255.7 blocks_received) - received_before))
	printf '  frames decoded after the kill: beta %d, gamma %d (in all: beta %d, gamma %d)\n' \
		$((beta_after - beta_before)) $((gamma_after - gamma_before)) "$beta_after" "$gamma_after"
	printf '  (ffmpeg -re encodes in real time: those frames did not exist when the relay died)\n'
	printf '  gamma-r received %d more blocks, %d of them from beta-r (the new path)\n' \
		"$received" "$around"
	expect "$([ $((beta_after - beta_before)) -ge 50 ] &&
		[ $((gamma_after - gamma_before)) -ge 50 ] && [ "$around" -gt 0 ] && echo yes)" \
		"both players went on decoding after the relay died, gamma's through beta-r"
	echo "  the edges' block counters (peercdn_edge_live_total):"
	ok_blocks=yes
	for r in beta-r gamma-r; do
		addr=$(router_addr "$r")
		got=$(live_count "$addr" blocks_received)
		gaps=$(live_count "$addr" block_gaps)
		printf '    %-7s blocks_received %d, block_gaps %d\n' "$r" "$got" "$gaps"
		[ "$got" -gt 0 ] && [ "$gaps" -eq 0 ] || ok_blocks=no
	done
	# A gap or a repeat would both be a block whose number is not the last
	# plus one: block_gaps counts either.
	expect "$ok_blocks" "every block once at both edges: no gap, no duplicate"
	kill "$encoder_pid" 2>/dev/null || true
	wait "$encoder_pid" 2>/dev/null || true
	for p in "$player_beta" "$player_gamma"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
fi

if [ "$failed" -ne 0 ]; then
	echo "demo: some checks failed (UNEXPECTED above)" >&2
	exit 1
fi
echo "demo: every decision matches claims 1-2 of the patent, the edges delivered every object,"
echo "and the live stream played on at both edges when its relay died"
