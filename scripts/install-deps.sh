#!/bin/sh
# Installs every build and test dependency of peercdn from Debian 12
# packages, and the browser test's npm packages (tests/browser). Idempotent:
# when everything is present it only runs dpkg-query and compares a lock file.
#   --bench  also the benchmark anchors and load generators
set -eu

PACKAGES="
build-essential binutils meson ninja-build pkg-config clang clang-format libclang-rt-14-dev
libyaml-dev libsodium-dev libcmocka-dev libknot-dev libbpf-dev liburcu-dev libhttp-parser-dev libcurl4-openssl-dev
libjansson-dev libavformat-dev libavcodec-dev libavutil-dev
python3 python3-pytest python3-dnspython python3-yaml python3-cryptography dnsutils knot-dnsutils iproute2 procps curl
util-linux squid ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav
chromium vlc-bin vlc-plugin-base
"
# The browser test's npm packages (hls.js, playwright-core), pinned by
# tests/browser/package-lock.json: npm ci once per change of the lock file.
# No browser is downloaded: playwright-core drives Debian's chromium.
BROWSER_DIR="$(dirname "$0")/../tests/browser"
browser_modules() {
	stamp="$BROWSER_DIR/node_modules/.peercdn-lock"
	if cmp -s "$BROWSER_DIR/package-lock.json" "$stamp" 2>/dev/null; then
		return 0
	fi
	echo "install-deps: npm ci in tests/browser"
	(cd "$BROWSER_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
	cp "$BROWSER_DIR/package-lock.json" "$stamp"
}
if [ "${1:-}" = "--bench" ]; then
	PACKAGES="$PACKAGES gdnsd dnsperf nginx-light wrk knot valgrind"
fi

# Node.js and npm: the machine's own when it has them (Debian's nodejs
# would replace them), else Debian's.
if ! command -v npm >/dev/null; then
	PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for pkg in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	browser_modules
	exit 0
fi

echo "install-deps: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
browser_modules
