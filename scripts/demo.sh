#!/usr/bin/env bash
# make demo: two network namespaces joined by veth, a kovpn tunnel between them set up with
# ovpn-cli and a pre-shared key, then ping and iperf3 through it. The data path is chosen as
# ovpn-cli chooses it (KOVPN_DATAPATH=auto|kernel|userspace; auto = kernel module if loadable).
set -euo pipefail
cd "$(dirname "$0")/.."

cli=$PWD/bin/ovpn-cli
. tests/lib/netns.sh
nsa=$(ns_name kovpn-demo-a) nsb=$(ns_name kovpn-demo-b)   # unique to this run
work=$(mktemp -d)
pids=()

cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns exec $nsa "$cli" del_iface tun0 >/dev/null 2>&1
	ip netns exec $nsb "$cli" del_iface tun0 >/dev/null 2>&1
	ns_cleanup
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Waits until a background ovpn-cli that holds a socket prints its "ready" line.
wait_ready() {
	local out=$1 pid=$2
	for _ in $(seq 100); do
		grep -q ": ready" "$out" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; return 1; }
		sleep 0.1
	done
	echo "demo: timed out waiting for ovpn-cli to hold its socket" >&2
	return 1
}

# Waits until something listens on a TCP port in a namespace (iperf3 -D returns before it does).
wait_listen() {
	for _ in $(seq 100); do
		ip netns exec "$1" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	echo "demo: nothing listens on port $2 in $1" >&2
	return 1
}

step "two namespaces $nsa and $nsb joined by veth (underlay 10.77.0.1 <-> 10.77.0.2)"
ns_add $nsa $nsb
ns_veth $nsa veth-demo-a 10.77.0.1/24 $nsb veth-demo-b 10.77.0.2/24

step "a pre-shared key: base64 of [key A 32][key B 32][nonce tail 8]"
head -c 72 /dev/urandom | base64 -w0 > "$work/key"; echo >> "$work/key"
cat "$work/key"

step "tunnel devices, peers and keys with ovpn-cli (AES-256-GCM)"
for ns in $nsa $nsb; do
	ip netns exec "$ns" "$cli" new_iface tun0 P2P
done
ip netns exec $nsa "$cli" new_peer --foreground tun0 1 none 1194 10.77.0.2 1194 >"$work/peer-a" 2>&1 &
pids+=($!); wait_ready "$work/peer-a" $!
ip netns exec $nsb "$cli" new_peer --foreground tun0 1 none 1194 10.77.0.1 1194 >"$work/peer-b" 2>&1 &
pids+=($!); wait_ready "$work/peer-b" $!
ip netns exec $nsa "$cli" new_key tun0 1 1 0 aes 0 "$work/key"
ip netns exec $nsb "$cli" new_key tun0 1 1 0 aes 1 "$work/key"
ip -n $nsa addr add 10.200.0.1/24 dev tun0; ip -n $nsa link set tun0 up
ip -n $nsb addr add 10.200.0.2/24 dev tun0; ip -n $nsb link set tun0 up
ip -n $nsa -d link show tun0

step "ping through the tunnel (10.200.0.1 -> 10.200.0.2)"
ip netns exec $nsa ping -c 5 -i 0.2 10.200.0.2

step "throughput: iperf3 over the tunnel, then over the bare veth for reference"
ip netns exec $nsb iperf3 -s -1 -D -B 10.200.0.2 >/dev/null; wait_listen $nsb 5201
echo "through the tunnel:"
ip netns exec $nsa iperf3 -c 10.200.0.2 -t 5 -f m | grep -E 'sender|receiver'
ip netns exec $nsb iperf3 -s -1 -D -B 10.77.0.2 >/dev/null; wait_listen $nsb 5201
echo "bare veth (the ceiling):"
ip netns exec $nsa iperf3 -c 10.77.0.2 -t 3 -f m | grep -E 'receiver'

step "peer counters (ovpn-cli get_peer)"
ip netns exec $nsa "$cli" get_peer tun0 1
