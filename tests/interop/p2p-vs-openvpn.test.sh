#!/usr/bin/env bash
# Peer-to-peer TLS mode against stock OpenVPN 2.6, both TLS roles, in namespaces dm-pa/dm-pb.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_A=dm-pa NS_B=dm-pb
cleanup() {
	for p in $(ip netns pids $NS_B 2>/dev/null) $(ip netns pids $NS_A 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	ip netns del $NS_A 2>/dev/null; ip netns del $NS_B 2>/dev/null
}
trap cleanup EXIT
ip netns del $NS_A 2>/dev/null; ip netns del $NS_B 2>/dev/null
ip netns add $NS_A && ip netns add $NS_B &&
ip link add dm-pa0 netns $NS_A type veth peer name dm-pb0 netns $NS_B &&
ip -n $NS_A addr add 10.77.7.1/24 dev dm-pa0 && ip -n $NS_A link set dm-pa0 up && ip -n $NS_A link set lo up &&
ip -n $NS_B addr add 10.77.7.2/24 dev dm-pb0 && ip -n $NS_B link set dm-pb0 up && ip -n $NS_B link set lo up ||
	{ fail "interop p2p: namespaces" "could not create $NS_A/$NS_B"; exit 1; }
DM_PEER_NS=$NS_B DM_MY_IP=10.77.7.1 DM_PEER_IP=10.77.7.2 ip netns exec $NS_A node dist/tests/interop/p2p-vs-openvpn.js
