#!/usr/bin/env bash
# kovpn control channel (client) against a stock OpenVPN 2.6 server, in two namespaces.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/lib/netns.sh
NS_S=$(ns_name dm-ovs) NS_C=$(ns_name dm-ovc)
trap ns_cleanup EXIT
ns_add $NS_S $NS_C && ns_veth $NS_S s0 10.77.1.1/24 $NS_C c0 10.77.1.2/24 ||
	{ fail "interop client->openvpn: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
DM_SERVER_NS=$NS_S DM_SERVER_IP=10.77.1.1 ip netns exec $NS_C node dist/tests/interop/client-vs-openvpn.js
