#!/bin/bash
# Inside the VM (tests/qemu/run.sh): the data-plane benchmark through every path, then the
# control-plane benchmark on the kernel path. Raw results go to RAWDIR (a folder under
# tests/qemu/out, which the host reads back). Never fails: problems become "n/a" rows.
#   bench/vm.sh RAWDIR
set -u
BDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BDIR/.." && pwd)
RAW=$1
mkdir -p "$RAW"
# Settings from the host (bench/run.sh), e.g. BENCH_REPEATS.
# shellcheck source=/dev/null
[[ -f $RAW/bench.env ]] && source "$RAW/bench.env"
[[ -n ${!BENCH_*} ]] && export ${!BENCH_*}
paths=(veth wireguard kovpn-kernel-aes kovpn-kernel-chacha kovpn-user-aes openvpn-aes openvpn-chacha
	openvpn-dco-kovpn kovpn-kernel-tcp-aes openvpn-tcp-aes)
[[ -n ${BENCH_VM_PATHS:-} ]] && read -ra paths <<< "$BENCH_VM_PATHS"

# OpenVPN with DCO on Debian's ovpn-dco-v2.ko (built by tests/kmod/build-ovpn-dco.sh, which
# bench/run.sh calls) registers the same genl family and link kind as ovpn.ko, so the two cannot
# be loaded together. The DCO rows are therefore measured in alternating passes of one repeat
# each: OpenVPN on ovpn.ko (openvpn-dco-kovpn), then ovpn.ko swapped out for Debian's module
# (openvpn-dco-debian), then back; the machine's drift hits both modules alike.
# BENCH_VM_DCO_PATHS=- skips Debian's module (openvpn-dco-kovpn then runs with the other paths).
dco_paths=(openvpn-dco-debian)
[[ -n ${BENCH_VM_DCO_PATHS:-} ]] && read -ra dco_paths <<< "$BENCH_VM_DCO_PATHS"
main=() alt=()
for p in "${paths[@]}"; do
	if [[ $p == openvpn-dco-kovpn && ${dco_paths[*]} != - ]]; then alt+=("$p"); else main+=("$p"); fi
done
[[ ${paths[*]} == - ]] && main=()
# BENCH_VM_PATHS=- runs the control plane only.
((${#main[@]})) && "$BDIR/datapath.sh" "$RAW/vm" "${main[@]}"

dco_ko=$REPO/.build/ovpn-dco/$(uname -r)/ovpn-dco-v2.ko
had_ovpn=0
grep -q '^ovpn ' /proc/modules && had_ovpn=1
# ovpn.ko out, Debian's module in; prints why not
to_debian() {
	if [[ ! -f $dco_ko ]]; then
		echo "no $dco_ko (tests/kmod/build-ovpn-dco.sh)"
	elif grep -q '^ovpn ' /proc/modules && ! rmmod ovpn; then
		echo "ovpn.ko could not be unloaded"
	elif ! { modprobe -a udp_tunnel ip6_udp_tunnel && insmod "$dco_ko"; }; then
		echo "insmod $dco_ko failed"
	fi
}
to_kovpn() {
	grep -q '^ovpn_dco_v2 ' /proc/modules && { rmmod ovpn_dco_v2 || echo "bench: rmmod ovpn_dco_v2 failed" >&2; }
	if ((had_ovpn)) && ! grep -q '^ovpn ' /proc/modules; then
		insmod "${KOVPN_KMOD:-$REPO/kmod/ovpn.ko}" || echo "bench: ovpn.ko could not be loaded again" >&2
	fi
}
if [[ ${dco_paths[*]} != - ]]; then
	repeats=${BENCH_REPEATS:-3}
	pass=(env BENCH_APPEND=1 BENCH_REPEATS=1 BENCH_META_REPEATS="$repeats" "$BDIR/datapath.sh" "$RAW/vm")
	why=
	for ((r = 1; r <= repeats; r++)); do
		((${#alt[@]})) && BENCH_REPEAT_FIRST=$r "${pass[@]}" "${alt[@]}"
		# once Debian's module failed to load, only ovpn.ko's rows go on
		[[ -z $why ]] || continue
		why=$(to_debian)
		[[ -z $why ]] && BENCH_REPEAT_FIRST=$r "${pass[@]}" "${dco_paths[@]}"
		to_kovpn
	done
	if [[ -n $why ]]; then
		echo "bench: ${dco_paths[*]}: n/a: $why" >&2
		for p in "${dco_paths[@]}"; do
			[[ $(cat "$RAW/vm/$p/status" 2>/dev/null) == ok ]] && continue
			mkdir -p "$RAW/vm/$p" && echo "n/a: $why" >"$RAW/vm/$p/status"
		done
	fi
fi

# Why the control plane was not measured; an earlier complete result in the same folder
# (bench/run.sh --raw) is kept rather than replaced by a reason.
ctrl_na() {
	if grep -q '"status": "ok"' "$RAW/control.json" 2>/dev/null; then
		echo "bench: control plane not rerun ($1); keeping the earlier result" >&2
	else
		printf '{"status": "%s"}\n' "$1" > "$RAW/control.json"
	fi
}

peers=${BENCH_CTRL_PEERS:-100000}
if [[ $peers == 0 ]]; then
	ctrl_na "skipped (BENCH_CTRL_PEERS=0)"
elif ! grep -q '^ovpn ' /proc/modules; then
	ctrl_na "ovpn module not loaded in the VM"
elif [[ ! -f $REPO/dist/bench/ctrl-plane.js ]]; then
	ctrl_na "dist/bench/ctrl-plane.js not built (make ts)"
else
	# The module alone, from a client that stays cheap under emulation (python), as the
	# reference for the TypeScript library's figures below.
	echo "bench: control plane: the module alone (tests/kmod/peer_bench.py $peers)" >&2
	timeout 900 python3 "$REPO/tests/kmod/peer_bench.py" "$peers" --json "$RAW/control-module.json" >&2 ||
		[[ -s $RAW/control-module.json ]] || echo '{"status": "peer_bench.py failed (see the VM console)"}' >"$RAW/control-module.json"
	echo "bench: control plane: $peers peers x ${BENCH_CTRL_REPEATS:-3}" >&2
	timeout "${BENCH_CTRL_TIMEOUT:-1200}" node "$REPO/dist/bench/ctrl-plane.js" "$RAW/control.json" \
		"$peers" "${BENCH_CTRL_REPEATS:-3}" "${BENCH_CTRL_WINDOW:-16}" "${BENCH_CTRL_KEYS:-10000}"
	rc=$?
	if [[ ! -s $RAW/control.json ]]; then
		echo "{\"status\": \"ctrl-plane.js exited $rc without results (timeout ${BENCH_CTRL_TIMEOUT:-1200} s?)\"}" > "$RAW/control.json"
	fi
	# Last, so that nothing of it runs beside the figures above: WireGuard holds the RTNL while it
	# adds and (slowly, under emulation) deletes peers. Its add rate is flat over blocks of
	# 10,000, so BENCH_WG_PEERS (30,000) of them make the reference.
	wg_peers=${BENCH_WG_PEERS:-30000}
	((wg_peers > peers)) && wg_peers=$peers
	echo "bench: control plane: WireGuard reference (wg addconf, up to $wg_peers peers)" >&2
	rm -f "$RAW/control-wireguard.json"
	timeout 900 "$BDIR/wg-peers.sh" "$wg_peers" "$RAW/control-wireguard.json"
	[[ -s $RAW/control-wireguard.json ]] || echo '{"status": "wg-peers.sh gave no result within 900 s"}' >"$RAW/control-wireguard.json"
fi
exit 0
