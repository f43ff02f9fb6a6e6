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
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh >/dev/null
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build src/ctl/peercdnctl >/dev/null
ctl=build/src/ctl/peercdnctl

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
failed=0

# scenario TITLE EXPECTED-BRANCH EXPLAIN-ARGS...
scenario() {
	title=$1
	expected=$2
	shift 2
	printf '\n##### %s\n' "$title"
	printf '$ peercdnctl explain %s\n\n' "$*"
	out=$("$ctl" explain "$@" 2>&1) || true
	printf '%s\n' "$out"
	got=$(printf '%s\n' "$out" | sed -n 's/^answer *\([A-Z]*\).*/\1/p')
	server=$(printf '%s\n' "$out" | sed -n 's/^ *-> \([^ ]*\).*/\1/p' | head -1)
	mark=ok
	if [ "$got" != "$expected" ]; then
		mark=UNEXPECTED
		failed=1
	fi
	printf '%-58s %-8s %-8s %-10s %s\n' "$title" "$expected" "${got:-?}" "${server:--}" \
		"$mark" >>"$summary"
}

echo "peercdn demo: three CDNs peering at the content level (etc/peercdn.yaml)"
"$ctl" check etc/peercdn.yaml

scenario "acme client asks for abc (acme's customer)" PRIMARY \
	--client 127.1.0.10 ad102.web.abc.cdn.acme.net
scenario "beta client asks for abc web: acme-beta peering" PEER \
	--client 127.2.0.10 ad102.web.abc.cdn.acme.net
scenario "beta client asks for abc tv: peering excludes tv" OUTSIDE \
	--client 127.3.0.10 chan4.abc.tv.cdn.acme.net
scenario "gamma client asks for foo (beta's customer)" OUTSIDE \
	--client 127.6.0.10 http://foo.cdn.beta.net/www.foo.com/index.html
scenario "AS 500 (affiliate of acme and beta) asks for foo" PRIMARY \
	--client 127.5.0.10 http://foo.cdn.beta.net/cdn.foo.com/Channel12
scenario "acme client, both acme edge servers busy" PRIMARY \
	--client 127.1.0.10 --load acme-s1=950 --load acme-s2=990 ad102.web.abc.cdn.acme.net
scenario "client of a CDN-less ISP asks for nbc (bronze)" OUTSIDE \
	--client 127.7.0.10 news.web.nbc.cdn.acme.net
signed=$("$ctl" name --provider news --service live --object chan7 --sign)
scenario "signed live name of news, IPv6 client in acme" OUTSIDE \
	--client 2001:db8:100::10 "$signed"

printf '\n##### summary\n'
printf '%-58s %-8s %-8s %-10s %s\n' "scenario" "expected" "got" "server" ""
cat "$summary"
if [ "$failed" -ne 0 ]; then
	echo "demo: some decisions differ from what the claims require" >&2
	exit 1
fi
echo "demo: every decision matches claims 1-2 of the patent"
