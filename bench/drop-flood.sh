#!/bin/bash
# What a flood of bad packets costs a tunnel: kovpn tunnels (bench/lib.sh) between namespace
# pairs; for each, ping through the tunnel at 10/s for BENCH_FLOOD_SECONDS (10) first alone,
# then while the client namespace floods the server's UDP port with DATA_V2 packets that fail
# authentication (random tag) at BENCH_FLOOD_PPS (35000) packets/s. Prints one line per path
# and phase: ping loss, average and maximum RTT, packets the flood sent, and then the server
# device's drop counters by reason (this checkout's ovpn-cli get_drops: "{}" from a module
# without them). Report only. BENCH_FLOOD_JSON=FILE also appends one JSON line per path.
#   bench/drop-flood.sh PATH...    PATH: user (this checkout's userspace path),
#                                  base-user (KOVPN_BASE's: before/after), kernel (needs the
#                                  module: in the VM, tests/qemu/run.sh [--kmod-dir DIR] -- ...)
set -uo pipefail
BDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BDIR/.." && pwd)
WORK=$(mktemp -d /tmp/qb-flood.XXXXXX)
# shellcheck source=bench/lib.sh
. "$BDIR/lib.sh"
SECS=${BENCH_FLOOD_SECONDS:-10}
PPS=${BENCH_FLOOD_PPS:-35000}
TAGS=()
cleanup() {
	local t
	for t in "${TAGS[@]}"; do teardown_path "$t"; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The flood: DATA_V2 (opcode 9, key id 0) for peer id 1, increasing packet ids, random bodies
# of 100 bytes (so the tag never verifies), paced to PPS, for SECS seconds; prints the count.
flood() { # ns dst_ip
	ip netns exec "$1" python3 - "$2" "$SECS" "$PPS" <<'PY'
import os, socket, struct, sys, time
dst, secs, pps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
body = os.urandom(100)
start = time.monotonic(); sent = 0
while True:
    now = time.monotonic() - start
    if now >= secs: break
    due = int(now * pps)
    while sent < due:
        s.sendto(b'\x48\x00\x00\x01' + struct.pack('>I', sent + 1) + body, (dst, 1194))
        sent += 1
    time.sleep(0.001)
print(sent)
PY
}

pingstat() { # ns dst -> "loss% avg max"
	ip netns exec "$1" ping -q -i 0.1 -c $((SECS * 10)) -W 2 "$2" 2>/dev/null |
		awk -F'[ /,%]+' '/packet loss/ {for (i = 1; i <= NF; i++) if ($i == "packet") loss = $(i - 1)} /^rtt/ {avg = $8; max = $9} END {print loss "% " avg " " max}'
}

i=40
for p in "$@"; do
	i=$((i + 1))
	case $p in
	user) t=fu repo=$REPO dp=userspace ;;
	base-user) [[ -n ${KOVPN_BASE:-} ]] || { echo "$p: n/a (KOVPN_BASE not set)"; continue; }; t=fb repo=$KOVPN_BASE dp=userspace ;;
	kernel) t=fk repo=$REPO dp=kernel ;;
	*) echo "$p: unknown path"; continue ;;
	esac
	TAGS+=("$t")
	if ! why=$(underlay "$t" "$i" && setup_kovpn "$t" "$i" "$dp" aes "$repo"); then
		echo "$p: n/a ($why)"; continue
	fi
	wait_for 30 ip netns exec "$(ns_a "$t")" ping -c 1 -W 1 "10.232.$i.2"
	quiet=$(pingstat "$(ns_a "$t")" "10.232.$i.2")
	echo "$p quiet:  ping loss/avg/max ms $quiet"
	flood "$(ns_a "$t")" "10.231.$i.2" >"$WORK/flood-$t" &
	fp=$!
	stat=$(pingstat "$(ns_a "$t")" "10.232.$i.2")
	wait $fp
	sent=$(cat "$WORK/flood-$t")
	echo "$p flood:  ping loss/avg/max ms $stat during $sent bad packets in ${SECS} s"
	drops=$(ip netns exec "$(ns_b "$t")" env KOVPN_DATAPATH=$dp "$REPO/bin/ovpn-cli" get_drops tun-qb --json 2>"$WORK/drops-$t.err") ||
		drops="n/a ($(tail -n1 "$WORK/drops-$t.err"))"
	echo "$p drops:  $drops"
	if [[ -n ${BENCH_FLOOD_JSON:-} ]]; then
		printf '{"path": "%s", "datapath": "%s", "seconds": %s, "pps": %s, "sent": %s, "quiet": "%s", "flood": "%s", "drops": %s}\n' \
			"$p" "$dp" "$SECS" "$PPS" "${sent:-0}" "$quiet" "$stat" "$( [[ $drops == \{* ]] && echo "$drops" || echo null)" >>"$BENCH_FLOOD_JSON"
	fi
	teardown_path "$t"
done
