#!/usr/bin/env bash
# kovpn control channel (client) against a stock OpenVPN 2.6 server, in two namespaces.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-ovs NS_C=dm-ovc
cleanup() { ip netns del $NS_S 2>/dev/null; ip netns del $NS_C 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $NS_S && ip netns add $NS_C &&
ip link add dm-ovs0 netns $NS_S type veth peer name dm-ovc0 netns $NS_C &&
ip -n $NS_S addr add 10.77.1.1/24 dev dm-ovs0 && ip -n $NS_S link set dm-ovs0 up && ip -n $NS_S link set lo up &&
ip -n $NS_C addr add 10.77.1.2/24 dev dm-ovc0 && ip -n $NS_C link set dm-ovc0 up && ip -n $NS_C link set lo up ||
	{ fail "interop client->openvpn: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
DM_SERVER_NS=$NS_S DM_SERVER_IP=10.77.1.1 ip netns exec $NS_C node dist/tests/interop/client-vs-openvpn.js
