#!/usr/bin/env bash
# Stock OpenVPN 2.6 client against kovpn's control channel (server), in two namespaces.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/lib/netns.sh
NS_S=$(ns_name dm-osv) NS_C=$(ns_name dm-ocl)
trap ns_cleanup EXIT
ns_add $NS_S $NS_C && ns_veth $NS_S s0 10.77.2.1/24 $NS_C c0 10.77.2.2/24 ||
	{ fail "interop openvpn->server: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
DM_CLIENT_NS=$NS_C DM_SERVER_IP=10.77.2.1 ip netns exec $NS_S node dist/tests/interop/openvpn-client-vs-server.js
