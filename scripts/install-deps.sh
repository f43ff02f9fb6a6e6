#!/bin/sh
# Installs every build and test dependency of peercdn from Debian 12
# packages. Idempotent: when everything is present it only runs dpkg-query.
#   --bench  also the benchmark anchors and load generators
set -eu

PACKAGES="
build-essential binutils meson ninja-build pkg-config clang clang-format libclang-rt-14-dev
libyaml-dev libsodium-dev libcmocka-dev libknot-dev libbpf-dev liburcu-dev libhttp-parser-dev libcurl4-openssl-dev
libjansson-dev libavformat-dev libavcodec-dev libavutil-dev
python3 python3-pytest python3-dnspython python3-yaml python3-cryptography dnsutils knot-dnsutils iproute2 procps curl
util-linux squid ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav
"
if [ "${1:-}" = "--bench" ]; then
	PACKAGES="$PACKAGES gdnsd dnsperf nginx-light wrk knot valgrind"
fi

missing=""
for pkg in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
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
