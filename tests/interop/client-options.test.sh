#!/usr/bin/env bash
# Client-side routing options of a kovpn client (userspace path) against a stock OpenVPN 2.6
# server that pushes two routes, DNS and redirect-gateway, in namespaces dm-co*:
#   1. pushed routes installed; a pushed option kovpn does not apply (block-outside-dns) said at warning level
#   2. route-nopull: no pushed route installed; `route` from the file still is
#   3. pull-filter ignore drops one pushed route, the other stays
#   4. pull-filter reject: the session fails with an error line, no peer-up
#   5. inactive: accepted, said at warning level with the consequence
# (redirect-gateway, dhcp-option and up/down scripts: full-tunnel.test.sh)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-cos NS_C=dm-coc NET=10.77.19
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "client-options: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "client-options: PKI" "openssl failed"; exit 1; }

ovpn_tls_server "$WORK/ovpn-server.log" dmcos0 10.214.19.0 \
	--push "route 10.214.91.0 255.255.255.0" --push "route 10.214.92.0 255.255.255.0" \
	--push "block-outside-dns" --push "redirect-gateway def1" ||
	{ fail "client-options: openvpn server starts" "$(tail -2 "$WORK/ovpn-server.log" | tr '\n' ' ')"; exit 1; }

# run_client NAME EXTRA-LINES: kovpn client in $NS_C (device dmcoc0), pid in $KC
run_client() {
	printf 'client\ndev dmcoc0\nproto udp\nremote %s.1 1194\nnobind\nremote-cert-tls server\nca %s/ca.crt\ncert %s/client.crt\nkey %s/client.key\n%s\n' \
		"$NET" "$WORK" "$WORK" "$WORK" "$2" >"$WORK/$1.conf"
	ip netns exec $NS_C bin/kovpn up "$WORK/$1.conf" --log-level info >"$WORK/$1.log" 2>&1 &
	KC=$!; PIDS+=($KC)
}
has_route() { ip netns exec $NS_C ip -4 route show "$1" dev dmcoc0 2>/dev/null | grep -q .; }

# --- 1. pushed options -------------------------------------------------------------------------------
run_client plain ''
if wait_log "$WORK/plain.log" '"type":"peer-up"' 20; then
	has_route 10.214.91.0/24 && has_route 10.214.92.0/24 && pass "client-options 1: pushed routes installed" ||
		fail "client-options 1: pushed routes" "$(ip netns exec $NS_C ip route | tr '\n' ' ')"
	grep -q "kovpn warn: pushed options kovpn does not apply (routing, DNS or security stay as they are): .*block-outside-dns" "$WORK/plain.log" &&
		pass "client-options 1: a pushed option kovpn does not apply is said at warning level" ||
		fail "client-options 1: unapplied pushed options" "$(grep -i 'pushed' "$WORK/plain.log" | tr '\n' ' ')"
else
	fail "client-options 1: client connects" "$(tail -3 "$WORK/plain.log" | tr '\n' ' ')"
fi
stop_pid $KC

# --- 2. route-nopull + route ------------------------------------------------------------------------
run_client nopull $'route-nopull\nroute 10.214.93.0 255.255.255.0'
if wait_log "$WORK/nopull.log" '"type":"peer-up"' 20; then
	! has_route 10.214.91.0/24 && ! has_route 10.214.92.0/24 && pass "client-options 2: route-nopull: no pushed route installed" ||
		fail "client-options 2: route-nopull" "$(ip netns exec $NS_C ip route | tr '\n' ' ')"
	has_route 10.214.93.0/24 && pass "client-options 2: 'route' from the configuration installed through the tunnel" ||
		fail "client-options 2: route" "$(ip netns exec $NS_C ip route | tr '\n' ' ')"
	check "client-options 2: ping the server through the tunnel" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 2 10.214.19.1
else
	fail "client-options 2: client connects" "$(tail -3 "$WORK/nopull.log" | tr '\n' ' ')"
fi
stop_pid $KC

# --- 3. pull-filter ignore ------------------------------------------------------------------------------
run_client filter 'pull-filter ignore "route 10.214.91."'
if wait_log "$WORK/filter.log" '"type":"peer-up"' 20; then
	! has_route 10.214.91.0/24 && has_route 10.214.92.0/24 && pass "client-options 3: pull-filter ignore drops the matching route only" ||
		fail "client-options 3: pull-filter ignore" "$(ip netns exec $NS_C ip route | tr '\n' ' ')"
else
	fail "client-options 3: client connects" "$(tail -3 "$WORK/filter.log" | tr '\n' ' ')"
fi
stop_pid $KC

# --- 4. pull-filter reject ------------------------------------------------------------------------------
run_client reject 'pull-filter reject "redirect-gateway"'
if wait_log "$WORK/reject.log" "kovpn error: .*pull-filter reject \"redirect-gateway\" matches the pushed option 'redirect-gateway def1'" 15 &&
	! grep -q '"type":"peer-up"' "$WORK/reject.log"; then
	pass "client-options 4: pull-filter reject fails the session with an error line"
else
	fail "client-options 4: pull-filter reject" "$(grep -E 'error|warn|peer-up' "$WORK/reject.log" | tail -3 | tr '\n' ' ')"
fi
stop_pid $KC

# --- 5. inactive ------------------------------------------------------------------------------------------
run_client scripts $'inactive 600'
if wait_log "$WORK/scripts.log" '"type":"peer-up"' 20; then
	n=0
	for d in "inactive 600"; do grep -q "kovpn warn: .*ignoring '$d': " "$WORK/scripts.log" && n=$((n + 1)); done
	[ $n -eq 1 ] && pass "client-options 5: inactive is said at warning level with the consequence" ||
		fail "client-options 5: inactive" "$(grep ignoring "$WORK/scripts.log" | tr '\n' ' ')"
else
	fail "client-options 5: client connects" "$(tail -3 "$WORK/scripts.log" | tr '\n' ' ')"
fi
stop_pid $KC
exit 0
