#!/bin/bash
# bench/live (issue 12, item 7): live streams on the overlay. The eight
# routers of tests/system/test_live.py (three CDNs) on loopback, edges on
# six of them, one ffmpeg encoding a 320x240 H.264 300 kbit/s + AAC
# 64 kbit/s test stream once and teeing it: MPEG-TS to the driver, which
# POSTs it (chunked, as ffmpeg would) to the injection point acme-n1 and
# stamps each TS packet it sends; HLS files (1 s segments, 6 listed) to a
# directory nginx serves, the SRS-like splitter anchor. bench/live/run.py
# drives four phases and prints "result NAME VALUE" lines:
#
#   fanout  overlay bytes the injection point sends on all its links
#           (peercdn_overlay_bytes_total{direction="sent"}, heartbeats
#           included) per byte ingested, while 1, 2 and 4 edges (beta-n3,
#           gamma-n2, beta-n1, gamma-n1: all behind acme-n3) each play it.
#           Must not grow with N. Mix: every playing edge's blocks_received
#           grows in the window, and the edges not playing get no block.
#   delay   a TS packet's POST to acme-n1 to its arrival (matched by a hash
#           of the packet) at a progressive player of edges 0 (acme-n1), 1
#           (acme-n2), 4 (beta-n3) and 6 (gamma-n2) overlay hops away:
#           medians; per hop = (6-hop median - 1-hop median) / 5. Ingest's
#           early blocks (8 packets) and the player's socket are in every
#           figure; the per-hop figure is the overlay's alone.
#           Mix: every link of the assumed path carries the stream.
#   load    PLAYERS progressive players for PHASE_SECS at beta-n3, then
#           PLAYERS HLS players there (playlist every half target duration,
#           start 3 segments from the end, each segment once), then PLAYERS
#           HLS players at nginx (1 worker) on the same stream's files.
#           Server CPU-seconds (/proc/PID/stat; nginx with its workers) per
#           player per second of stream; players per core = its inverse.
#           Stalls: progressive, no byte for 1 s; HLS, the playback clock
#           (from the first segment) passing the media fetched. Mix: every
#           player started and got only 200s; beta-n3 counted PLAYERS
#           progressive players and exactly the segment GETs the players
#           made; nginx served at least a segment a player.
#   kill    progressive players at beta-n3 and gamma-n2; beta-n2, the relay
#           on their path, killed by PID (SIGKILL): the longest silence each player
#           sees after it, TS continuity errors in what it received, the
#           edge's block_gaps. Target: no continuity error, no block gap.
#           KILL_SIGNAL=TERM stops it cleanly instead (its GOODBYE,
#           docs/overlay.md), and KILL_SIGNAL=both does both: SIGTERM, then
#           beta-n2 started again and the stream back through it, then
#           SIGKILL (results term_* and kill_*, and how long the relay took
#           to go).
#
# The load generator is Python asyncio on the same 2 cores: with many
# players it, not the server, may be the limit; its figures are CPU-seconds
# of the server, not rates, for that reason.
#
#   bench/live.sh
#
# Environment knobs (defaults in brackets):
#   PLAYERS [50]       players per load run
#   PHASE_SECS [20]    length of each load run and of the delay phase
#   FANOUT_SECS [10]   the window of each fan-out measurement
#   FLUSH_MS [0]       every edge's edge.live.player_flush_ms (progressive
#                      players' writes coalesced that long; 0: per block)
#   KILL_SIGNAL [KILL] how the relay dies: KILL, TERM (a clean stop), or both
#   PHASES [fanout,delay,load,kill]  the phases to run (a comma list)
#   BUILD [build-bench], KEEP [0], ALLOW_DIRTY [0]  as in bench/lib.sh
#
# Ratio (above 1.0: peercdn better): hls_cpu = nginx / peercdnd CPU per HLS
# player-second. The last line is `ratio hls_cpu VALUE`.
BENCH=live
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

BUILD=${BUILD:-build-bench}
bench_build "$BUILD"
for t in nginx ffmpeg; do
	command -v "$t" >/dev/null || die "$t not found"
done
[ -x "$BUILD/src/node/peercdnd" ] || die "$BUILD/src/node/peercdnd not built"
echo "bench/live: $(nproc) cores; $(nginx -v 2>&1 | cut -d' ' -f3); $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "players ${PLAYERS:-50}, player_flush_ms ${FLUSH_MS:-0}, phase ${PHASE_SECS:-20} s, fan-out window ${FANOUT_SECS:-10} s, relay killed by SIG${KILL_SIGNAL:-KILL}, phases ${PHASES:-fanout,delay,load,kill}"

run_tool "$WORK/run.out" "$PY" bench/live/run.py "$ROOT" "$BUILD" "$WORK" || {
	cat "$WORK/run.out"
	die "the driver failed"
}
grep -v '^result ' "$WORK/run.out"
r() { awk -v n="$1" '$1 == "result" && $2 == n { print $3 }' "$WORK/run.out"; }

echo
echo "summary"
[ -z "$(r fanout_1)" ] ||
	echo "fan-out: injection point's overlay bytes sent per byte ingested, 1/2/4 edges:" \
		"$(r fanout_1) / $(r fanout_2) / $(r fanout_4)"
[ -z "$(r delay_per_hop_ms)" ] ||
	echo "delay after the POST to the injection point, median ms at 0/1/4/6 hops:" \
		"$(r delay_0hop_ms) / $(r delay_1hop_ms) / $(r delay_4hop_ms) / $(r delay_6hop_ms);" \
		"per overlay hop $(r delay_per_hop_ms) ms"
[ -z "$(r peercdn_ts_stalls)" ] ||
	echo "players per core (server CPU per player-second, inverted): peercdn progressive" \
		"$(r peercdn_ts_players_per_core), peercdn HLS $(r peercdn_hls_players_per_core)," \
		"nginx HLS $(r nginx_hls_players_per_core); stalls $(r peercdn_ts_stalls)/$(r peercdn_hls_stalls)/$(r nginx_hls_stalls)"
for tag in term kill; do
	[ -n "$(r "${tag}_relay_exit_ms")" ] || continue
	echo "relay beta-n2 $([ $tag = term ] && echo "stopped (SIGTERM, its GOODBYE)" || echo "killed (SIGKILL)"):" \
		"longest silence beta-n3 $(r "${tag}_beta-n3_silence_ms") ms," \
		"gamma-n2 $(r "${tag}_gamma-n2_silence_ms") ms (in the second after the signal" \
		"$(r "${tag}_beta-n3_silence_at_stop_ms") / $(r "${tag}_gamma-n2_silence_at_stop_ms") ms);" \
		"TS continuity errors" \
		"$(r "${tag}_beta-n3_cc_errors")/$(r "${tag}_gamma-n2_cc_errors"); block gaps" \
		"$(r "${tag}_beta-n3_block_gaps")/$(r "${tag}_gamma-n2_block_gaps");" \
		"the relay gone $(r "${tag}_relay_exit_ms") ms after the signal"
done
if [ -n "$(r fanout_4)" ]; then
	grow=$(awk -v a="$(r fanout_1)" -v b="$(r fanout_4)" 'BEGIN { print (b > a * 1.25) ? 1 : 0 }')
	[ "$grow" = 0 ] || die "the injection point's bytes grew with the edges: $(r fanout_1) -> $(r fanout_4)"
fi
bench_provenance
ratio=$(r players_per_core_ratio)
echo "ratio hls_cpu ${ratio:-n/a}"
