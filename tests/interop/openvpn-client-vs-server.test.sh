#!/usr/bin/env bash
# Stock OpenVPN 2.6 client against kovpn's control channel (server), in two namespaces.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-osv NS_C=dm-ocl
cleanup() { ip netns del $NS_S 2>/dev/null; ip netns del $NS_C 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $NS_S && ip netns add $NS_C &&
ip link add dm-osv0 netns $NS_S type veth peer name dm-ocl0 netns $NS_C &&
ip -n $NS_S addr add 10.77.2.1/24 dev dm-osv0 && ip -n $NS_S link set dm-osv0 up && ip -n $NS_S link set lo up &&
ip -n $NS_C addr add 10.77.2.2/24 dev dm-ocl0 && ip -n $NS_C link set dm-ocl0 up && ip -n $NS_C link set lo up ||
	{ fail "interop openvpn->server: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
DM_CLIENT_NS=$NS_C DM_SERVER_IP=10.77.2.1 ip netns exec $NS_S node dist/tests/interop/openvpn-client-vs-server.js
