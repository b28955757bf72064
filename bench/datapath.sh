#!/bin/bash
# Data-plane benchmark: for every path two network namespaces joined by a veth pair and a
# tunnel between them, and the same measurements through each:
#   iperf3 TCP, 1 and 4 streams, both directions (bits/s received)
#   iperf3 UDP unlimited rate, 64- and 1400-byte IP packets (packets/s received)
#   ping round-trip time (median, p99) at 100 pings/s, and the median at 5 pings/s
#   CPU time per GB moved: the whole machine's (/proc/stat; meaningful in the VM where nothing
#   else runs) and the tunnel processes' (userspace paths: engines or openvpn daemons)
# Raw tool output goes to OUTDIR/<path>/; bench/report.ts turns it into numbers.
# A path that cannot be set up gets OUTDIR/<path>/status "n/a: <reason>"; nothing fails.
#
#   bench/datapath.sh OUTDIR PATH...
# PATH: veth wireguard openvpn-aes openvpn-chacha kovpn-kernel-aes kovpn-kernel-chacha
#       openvpn-dco-kovpn (OpenVPN 2.6 with DCO on kovpn's ovpn.ko, AES-256-GCM)
#       openvpn-dco-debian (the same on Debian's ovpn-dco-v2.ko: that module loaded instead,
#       so bench/vm.sh measures it in passes alternating with openvpn-dco-kovpn)
#       kovpn-user-aes kovpn-user-chacha
#       openvpn-tcp-aes kovpn-kernel-tcp-aes kovpn-user-tcp-aes (the TCP transport: OpenVPN
#       tcp-server/tcp-client; kovpn through ovpn-cli listen/connect)
#       kovpn-user-aes-nooffload (engines without UDP GSO/GRO and TUN TCP coalescing)
#       base-user-aes base-user-chacha (the userspace path of KOVPN_BASE, another built
#       checkout, e.g. an older commit: before/after numbers from one run)
# Environment: BENCH_REPEATS (3), BENCH_SECONDS (3), BENCH_PINGS (200), KOVPN_BASE,
#   BENCH_KEEP (keep the tunnels' logs there), BENCH_PROFILE_DIR (see bench/lib.sh),
#   BENCH_APPEND=1 with BENCH_REPEAT_FIRST=N: a later pass into the same OUTDIR whose repeats
#   are numbered from N, beside the earlier ones (bench/vm.sh's alternating DCO passes).
set -uo pipefail
BDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BDIR/.." && pwd)
OUTDIR=$1; shift
REPEATS=${BENCH_REPEATS:-3}
FIRST=${BENCH_REPEAT_FIRST:-1}
LAST=$((FIRST + REPEATS - 1))
SECONDS_PER_TEST=${BENCH_SECONDS:-3}
PINGS=${BENCH_PINGS:-200}
# Every path gets its own pair of namespaces (bench/lib.sh), all set up first; then the
# measurements are interleaved, repeat by repeat and path by path, so that the noise of a
# shared machine hits every path alike.
WORK=$(mktemp -d /tmp/qb-bench.XXXXXX)
# shellcheck source=bench/lib.sh
. "$BDIR/lib.sh"

log() { echo "bench: $*" >&2; }

tag_of() { # short namespace tag per path
	case $1 in
	veth) echo v ;; wireguard) echo wg ;; openvpn-aes) echo oa ;; openvpn-chacha) echo oc ;;
	kovpn-kernel-aes) echo ka ;; kovpn-kernel-chacha) echo kc ;;
	kovpn-user-aes) echo ua ;; kovpn-user-chacha) echo uc ;; kovpn-user-aes-nooffload) echo un ;;
	base-user-aes) echo ba ;; base-user-chacha) echo bc ;;
	openvpn-dco-kovpn) echo dk ;; openvpn-dco-debian) echo dd ;;
	openvpn-tcp-aes) echo ot ;; kovpn-kernel-tcp-aes) echo kt ;; kovpn-user-tcp-aes) echo ut ;;
	*) return 1 ;;
	esac
}

PATHS=("$@")
cleanup() {
	local p t
	for p in "${PATHS[@]}"; do t=$(tag_of "$p") && teardown_path "$t"; done
	if [[ -n ${BENCH_KEEP:-} ]]; then mkdir -p "$BENCH_KEEP" && cp -r "$WORK"/. "$BENCH_KEEP"/; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sets up one path (tag, number); the tunnel's far end is then 10.232.<i>.2 (veth: 10.231.<i>.2).
setup_path() { # path tag i
	case $1 in
	veth) ;;
	wireguard) setup_wireguard "$2" "$3" ;;
	openvpn-aes) setup_openvpn "$2" "$3" AES-256-GCM ;;
	openvpn-chacha) setup_openvpn "$2" "$3" CHACHA20-POLY1305 ;;
	openvpn-dco-kovpn)
		grep -q '^ovpn ' /proc/modules || { echo "ovpn module not loaded"; return 1; }
		setup_openvpn "$2" "$3" AES-256-GCM dco ;;
	openvpn-dco-debian)
		grep -q '^ovpn_dco_v2 ' /proc/modules || { echo "Debian's ovpn-dco-v2 module not loaded"; return 1; }
		setup_openvpn "$2" "$3" AES-256-GCM dco ;;
	openvpn-tcp-aes) setup_openvpn "$2" "$3" AES-256-GCM - tcp ;;
	kovpn-kernel-aes) setup_kovpn "$2" "$3" kernel aes "$REPO" ;;
	kovpn-kernel-tcp-aes) setup_kovpn "$2" "$3" kernel aes "$REPO" tcp ;;
	kovpn-user-tcp-aes) setup_kovpn "$2" "$3" userspace aes "$REPO" tcp ;;
	kovpn-kernel-chacha) setup_kovpn "$2" "$3" kernel chachapoly "$REPO" ;;
	kovpn-user-aes) setup_kovpn "$2" "$3" userspace aes "$REPO" ;;
	kovpn-user-chacha) setup_kovpn "$2" "$3" userspace chachapoly "$REPO" ;;
	kovpn-user-aes-nooffload) KOVPN_UDP_OFFLOAD=0 KOVPN_TUN_OFFLOAD=0 setup_kovpn "$2" "$3" userspace aes "$REPO" ;;
	base-user-aes | base-user-chacha)
		[[ -n ${KOVPN_BASE:-} ]] || { echo "KOVPN_BASE (another built checkout) not set"; return 1; }
		setup_kovpn "$2" "$3" userspace "$([[ $1 == *aes ]] && echo aes || echo chachapoly)" "$KOVPN_BASE" ;;
	*) echo "unknown path"; return 1 ;;
	esac
}

# ---- measurements -----------------------------------------------------------------------

cpu_jiffies() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9}' /proc/stat; }

# One repeat of every measurement through one path (its iperf3 server is running).
measure() { # path tag target repeat
	local out=$OUTDIR/$1 t=$2 target=$3 r=$4 n dir sz f a
	a=$(ns_a "$t")
	for n in 1 4; do
		for dir in fwd rev; do
			f=$out/tcp-$n-$dir-$r
			cpu_jiffies >"$f.cpu"
			tunnel_ticks "$t" >"$f.ticks"
			ip netns exec "$a" iperf3 -c "$target" -t "$SECONDS_PER_TEST" -P $n \
				$([[ $dir == rev ]] && echo -R) -J >"$f.json" 2>/dev/null
			cpu_jiffies >>"$f.cpu"
			tunnel_ticks "$t" >>"$f.ticks"
		done
	done
	for sz in 64 1400; do
		ip netns exec "$a" iperf3 -c "$target" -u -b 0 -l $((sz - 28)) -t "$SECONDS_PER_TEST" \
			-J >"$out/udp-$sz-$r.json" 2>/dev/null
	done
	ip netns exec "$a" ping -n -c "$PINGS" -i 0.01 -W 2 "$target" >"$out/ping-$r.txt" 2>&1
	# The same at 5 per second: latency of an idle path, apart from queueing under 100 pings/s.
	ip netns exec "$a" ping -n -c 20 -i 0.2 -W 2 "$target" >"$out/ping-idle-$r.txt" 2>&1
}

meta() {
	{
		echo "kernel=$(uname -r)"
		echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
		echo "cpus=$(nproc)"
		echo "clk_tck=$(getconf CLK_TCK)"
		echo "in_vm=${KOVPN_IN_VM:-0}"
		echo "iperf3=$(iperf3 --version 2>/dev/null | awk 'NR==1 {print $2}')"
		echo "openvpn=$(openvpn --version 2>/dev/null | awk 'NR==1 {print $2}')"
		echo "wireguard_tools=$(wg --version 2>/dev/null | awk '{print $2}')"
		echo "node=$(node --version 2>/dev/null)"
		echo "kovpn=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		echo "ovpn_module=$(cat /sys/module/ovpn/srcversion 2>/dev/null || echo none)"
		echo "repeats=${BENCH_META_REPEATS:-$REPEATS} seconds=$SECONDS_PER_TEST pings=$PINGS interleaved=yes"
	} >"$OUTDIR/meta.txt"
}

mkdir -p "$OUTDIR"
# BENCH_APPEND=1: a later pass into the same OUTDIR (bench/vm.sh's module swap) keeps the first meta
APPEND=${BENCH_APPEND:-0}
[[ $APPEND == 1 && -f $OUTDIR/meta.txt ]] || meta
declare -A TARGET
i=0
for path in "${PATHS[@]}"; do
	i=$((i + 1))
	out=$OUTDIR/$path
	# a pass that continues the repeats of an earlier one keeps them; a failed setup of it is
	# then logged (status-N) and leaves the earlier repeats' status as it was
	if [[ $APPEND == 1 ]] && ((FIRST > 1)) && [[ -d $out ]]; then
		[[ -f $out/status ]] && mv "$out/status" "$out/status-before-$FIRST"
	else
		rm -rf "$out"
	fi
	mkdir -p "$out"
	t=$(tag_of "$path") || { echo "n/a: unknown path" >"$out/status"; log "$path: unknown path"; continue; }
	log "$path: setting up"
	t0=$(date +%s)
	if ! underlay "$t" "$i"; then
		echo "n/a: could not create namespaces and veth" >"$out/status"
		continue
	fi
	target=10.232.$i.2
	[[ $path == veth ]] && target=10.231.$i.2
	if ! setup_path "$path" "$t" "$i" >"$out/setup.log" 2>&1; then
		why=$(grep -m1 -E "Error|error:|failed|not |missing" "$out/setup.log" || tail -n1 "$out/setup.log")
		echo "n/a: setup failed: $(echo "$why" | tail -n1 | cut -c1-200)" >"$out/status"
		log "$path: $(<"$out/status") ($(($(date +%s) - t0)) s)"
		teardown_path "$t"
		continue
	fi
	ip netns exec "$(ns_b "$t")" iperf3 -s -B "$target" -D >/dev/null 2>&1
	if ! wait_for 60 ip netns exec "$(ns_a "$t")" iperf3 -c "$target" -t 1 -J; then
		echo "n/a: iperf3 gets no traffic through" >"$out/status"
	elif ! ip netns exec "$(ns_a "$t")" ping -c 3 -W 5 "$target" >/dev/null 2>&1; then
		echo "n/a: no ping through" >"$out/status"
	else
		TARGET[$path]=$target
		echo ok >"$out/status"
	fi
	log "$path: $(<"$out/status") ($(($(date +%s) - t0)) s)"
	[[ -n ${TARGET[$path]:-} ]] || teardown_path "$t"
done
# continuing passes: an earlier ok stands; this pass's failure is kept beside it
for path in "${PATHS[@]}"; do
	out=$OUTDIR/$path
	[[ -f $out/status-before-$FIRST ]] || continue
	if [[ $(<"$out/status-before-$FIRST") == ok && $(<"$out/status") != ok ]]; then
		mv "$out/status" "$out/status-$FIRST"
		mv "$out/status-before-$FIRST" "$out/status"
	else
		rm -f "$out/status-before-$FIRST"
	fi
done

for ((r = FIRST; r <= LAST; r++)); do
	for path in "${PATHS[@]}"; do
		[[ -n ${TARGET[$path]:-} ]] || continue
		t0=$(date +%s)
		measure "$path" "$(tag_of "$path")" "${TARGET[$path]}" "$r"
		log "$path: repeat $r/${BENCH_META_REPEATS:-$LAST} ($(($(date +%s) - t0)) s)"
	done
done
