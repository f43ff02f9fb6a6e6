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
# serves them and prints the engine's own explanation. At the end a table
# compares every answer with what the patent's claims 1 and 2 say it must be.
#
#   scripts/demo.sh              install what is missing, build build/, run
#   scripts/demo.sh --built DIR  run DIR's binaries as they are: no install-deps,
#                                no build (tests/system/test_demo.py)
#
# Every check prints "ok" or "UNEXPECTED"; the demo exits 1 if any is
# UNEXPECTED. It uses fixed ports (5300, 8000, 2554, 9153, 8080) on the
# federation's 127.x addresses.
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

# Part 3: explicit redirection and CDSR (§3.1.5, §4). The same nodes also
# run the HTTP redirector (TCP 8000) and the CDSR responder (UDP 2554) on
# their CDN's anycast address 127.N0.0.1. Every content server gets a tiny
# web server on its address, port 8080, whose files say who served them.
printf '\n##### live: delivery through the HTTP redirector (legacy client) and CDSR\n'
for entry in acme-s1=127.1.200.1 acme-s2=127.1.200.2 acme-core=127.1.201.1 \
	acme-s4=127.4.200.1 beta-s1=127.2.200.1 beta-s2=127.3.200.1 beta-s5=127.5.200.1 \
	gamma-s1=127.6.200.1; do
	name=${entry%%=*}
	addr=${entry#*=}
	for object in www.abc.com/news.html www.foo.com/index.html; do
		mkdir -p "$logs/www/$name/${object%/*}"
		echo "served by $name ($addr): /$object" >"$logs/www/$name/$object"
	done
	python3 -m http.server --bind "$addr" --directory "$logs/www/$name" 8080 \
		>"$logs/$name.http.log" 2>&1 &
	pids="$pids $!"
done
for _ in $(seq 50); do
	up=$(cat "$logs"/*.http.log | grep -c 'Serving HTTP' || true)
	[ "$up" -eq 8 ] && break
	sleep 0.1
done
grep -h 'msg=listening' "$logs"/*-n1.log | sed 's/^/  /'

# fetch TITLE CLIENT ANYCAST URL EXPECTED-BRANCH EXPECTED-SERVER-PATTERN: the
# legacy client (curl following the 302) and the CDSR client (peercdn-fetch),
# both from the client's address, must be served by the same server, and
# the node must have counted one decision of the branch for each.
fetch() {
	printf '  %s\n' "$1"
	client=$2 anycast=$3 url=$4 expected_branch=$5 expected=$6
	node=$(node_of "$anycast")
	http_before=$(branches "$node" http)
	cdsr_before=$(branches "$node" cdsr)
	host=$(printf '%s\n' "$url" | sed 's|^[a-z]*://\([^/:]*\).*|\1|')
	printf '    $ curl -L --interface %s --resolve %s:8000:%s %s\n' "$client" "$host" \
		"$anycast" "$url"
	where=$(curl -s -L --max-time 5 --max-redirs 2 --interface "$client" \
		--resolve "$host:8000:$anycast" -o "$logs/body" -w '%{url_effective}' "$url" || true)
	legacy=$(cat "$logs/body" 2>/dev/null || true)
	printf '      -> 302 to %s\n      -> %s\n' "${where:-?}" "${legacy:-no answer}"
	printf '    $ peercdn-fetch -r %s -b %s %s\n' "$anycast" "$client" "$url"
	aware=$("$fetcher" -v --no-fallback -r "$anycast" -b "$client" "$url" 2>"$logs/fetch.err" ||
		true)
	sed -n 's/^rendezvous: [0-9.:]* -> /      -> CDSR answer: /p' "$logs/fetch.err"
	printf '      -> %s\n' "${aware:-$(cat "$logs/fetch.err")}"
	http_branch=$(branch_taken "$http_before" "$(branches "$node" http)")
	cdsr_branch=$(branch_taken "$cdsr_before" "$(branches "$node" cdsr)")
	printf '      branch on %s: HTTP %s, CDSR %s (expected %s)\n' "$node" "$http_branch" \
		"$cdsr_branch" "$expected_branch"
	mark="ok, both served by the same server"
	if ! printf '%s\n' "$legacy" | grep -Eq "served by $expected " ||
		[ "$(printf '%s' "$legacy" | cut -d' ' -f3)" != "$(printf '%s' "$aware" | cut -d' ' -f3)" ] ||
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
victim=$(printf '%s' "$aware" | cut -d' ' -f3)
printf '  the server that just served foo (%s) stops; the CDSR client asks again:\n' "$victim"
for pid in $pids; do
	if ps -o args= -p "$pid" 2>/dev/null | grep -q "$logs/www/$victim 8080"; then
		kill "$pid"
		wait "$pid" 2>/dev/null || true
	fi
done
printf '    $ peercdn-fetch -v -r 127.20.0.1 -b 127.6.0.10 http://foo.cdn.beta.net/www.foo.com/index.html\n'
after=$("$fetcher" -v --no-fallback -r 127.20.0.1 -b 127.6.0.10 \
	http://foo.cdn.beta.net/www.foo.com/index.html 2>"$logs/fetch.err" || true)
sed 's/^/      /' "$logs/fetch.err"
printf '      -> %s\n' "${after:-nothing}"
if [ -z "$after" ] || printf '%s\n' "$after" | grep -q "served by $victim "; then
	echo "      UNEXPECTED: no other server took over"
	failed=1
else
	echo "      ok, another server took over"
fi
echo "  acme's node counted these redirects:"
curl -s --max-time 5 http://127.1.255.1:9153/metrics |
	grep -E '^peercdn_(http|cdsr)_(decisions|responses)_total.* [1-9]' | sed 's/^/    /' || true

if [ "$failed" -ne 0 ]; then
	echo "demo: some decisions differ from what the claims require" >&2
	exit 1
fi
echo "demo: every decision matches claims 1-2 of the patent"
