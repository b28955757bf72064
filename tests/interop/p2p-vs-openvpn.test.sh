#!/usr/bin/env bash
# Peer-to-peer TLS mode against stock OpenVPN 2.6, both TLS roles, in namespaces dm-pa/dm-pb.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/lib/netns.sh
NS_A=$(ns_name dm-pa) NS_B=$(ns_name dm-pb)
trap ns_cleanup EXIT
ns_add $NS_A $NS_B && ns_veth $NS_A a0 10.77.7.1/24 $NS_B b0 10.77.7.2/24 ||
	{ fail "interop p2p: namespaces" "could not create $NS_A/$NS_B"; exit 1; }
DM_PEER_NS=$NS_B DM_MY_IP=10.77.7.1 DM_PEER_IP=10.77.7.2 ip netns exec $NS_A node dist/tests/interop/p2p-vs-openvpn.js
