#!/usr/bin/env bash
# Full tunnel and DNS against stock OpenVPN 2.6 (userspace path), in namespaces dm-ft*. The
# client namespace has a default route through its veth to a router namespace that also holds
# the server's address (10.217.41.1) and an address "behind the server" (10.218.41.1); no packet
# ever goes to an outside address (`ip route get` only looks routes up).
#   1. stock server pushes redirect-gateway def1, dhcp-option DNS + DOMAIN -> kovpn client:
#      1.1.1.1 routes through the tunnel, the server keeps the old gateway, iperf3 to the address
#      behind the server; resolvconf (openresolv, private state under `unshare -m`) gets the
#      record, or without resolvectl/resolvconf one warning line; after SIGTERM routes and
#      resolv.conf are as before
#  1b. neither resolvectl nor resolvconf (hidden in the mount namespace): one warning line
#  1c. the file's own redirect-gateway without def1, with block-local and ipv6: default route
#      replaced and put back, the local subnet and IPv6 (2000::/4 ...) through the tunnel
#   2. up/down scripts: OpenVPN's arguments and environment (dev, ifconfig_*, foreign_option_N,
#      script_type, signal); a failing up script stops the daemon
#   3. Debian's update-resolv-conf as up/down script: nameserver added, removed on exit
#   4. a script without `script-security 2`: refused at start with one error line
#   5. kovpn server pushing redirect-gateway def1 + dhcp-option DNS -> stock client: its
#      PUSH_REPLY carries both, its default route goes through the tunnel
#   6. a kovpn server with a push line it cannot honour (malformed route): refused at start
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-fts NS_C=dm-ftc NET=10.77.41
. tests/interop/lib/tunnel-lib.sh
SRV=10.217.41.1 BEHIND=10.218.41.1 TUNNET=10.214.41
setup_netns && ip -n $NS_C route add default via $NET.1 && ip -n $NS_S addr add $SRV/32 dev lo &&
	ip -n $NS_S addr add $BEHIND/32 dev lo ||
	{ fail "full-tunnel: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "full-tunnel: PKI" "openssl failed"; exit 1; }
routes() { ip -n $NS_C -4 route show table main; ip -n $NS_C -6 route show table main 2>/dev/null | grep -v '^fe80\|^multicast'; }
BEFORE=$(routes)

# A private openresolv for the client: its own resolv.conf and state directory in $WORK,
# bind-mounted over /etc/resolvconf.conf in a mount namespace of the client's own.
printf 'nameserver 192.0.2.53\n' >"$WORK/resolv.conf"
printf 'resolv_conf=%s/resolv.conf\nstate_dir=%s/rc-state\n' "$WORK" "$WORK" >"$WORK/resolvconf.conf"
# kovpn uses systemd-resolved or any resolvconf it finds; only openresolv can be kept private
# here, so with another one the DNS cases would change this host's resolver: they are refused.
HAVE_RESOLVCONF=no
if [ -e /run/systemd/resolve/io.systemd.Resolve ] && command -v resolvectl >/dev/null; then
	fail "full-tunnel: DNS" "systemd-resolved runs here: the test would change this host's DNS"; exit 1
elif [ -x /sbin/resolvconf ] && grep -q openresolv /sbin/resolvconf 2>/dev/null; then
	HAVE_RESOLVCONF=yes
elif command -v resolvconf >/dev/null || [ -x /sbin/resolvconf ]; then
	fail "full-tunnel: DNS" "a resolvconf other than openresolv is installed: the test would change this host's DNS"; exit 1
fi

ovpn_tls_server "$WORK/ovpn-server.log" dmfts0 $TUNNET.0 --local $SRV \
	--push "redirect-gateway def1" --push "dhcp-option DNS $TUNNET.1" --push "dhcp-option DOMAIN example.test" ||
	{ fail "full-tunnel: openvpn server starts" "$(tail -2 "$WORK/ovpn-server.log" | tr '\n' ' ')"; exit 1; }

# run_client NAME EXTRA-LINES: kovpn client (device dmftc0) in $NS_C under its own mount
# namespace with the private resolvconf configuration (HIDE=hide: resolvconf and resolvectl
# hidden behind a file that cannot run); pid in $KC
: >"$WORK/none"
chmod 644 "$WORK/none"
run_client() {
	printf 'client\ndev dmftc0\nproto udp\nremote %s 1194\nnobind\nremote-cert-tls server\nca %s/ca.crt\ncert %s/client.crt\nkey %s/client.key\n%s\n' \
		"$SRV" "$WORK" "$WORK" "$WORK" "$2" >"$WORK/$1.conf"
	ip netns exec $NS_C unshare -m --propagation private sh -c \
		'[ -e /etc/resolvconf.conf ] && mount --bind "$1/resolvconf.conf" /etc/resolvconf.conf
		[ "$3" = hide ] && for p in /sbin/resolvconf /usr/sbin/resolvconf /usr/bin/resolvectl; do [ -e $p ] && mount --bind "$1/none" $p; done
		exec bin/kovpn up "$1/$2.conf" --log-level info' \
		- "$WORK" "$1" "${HIDE:-}" >"$WORK/$1.log" 2>&1 &
	KC=$!; PIDS+=($KC)
}

# --- 1. redirect-gateway def1 + DNS ----------------------------------------------------------------
run_client full ''
if wait_log "$WORK/full.log" '"type":"peer-up"' 20; then
	got=$(ip -n $NS_C route get 1.1.1.1)
	grep -q "dev dmftc0" <<<"$got" && pass "full-tunnel 1: redirect-gateway def1: 1.1.1.1 routes through the tunnel" ||
		fail "full-tunnel 1: 1.1.1.1 through the tunnel" "$got"
	got=$(ip -n $NS_C route get $SRV)
	grep -q "via $NET.1 dev c0" <<<"$got" && pass "full-tunnel 1: the server is still reached through the old gateway" ||
		fail "full-tunnel 1: route to the server" "$got"
	ip -n $NS_C route show default | grep -q "via $NET.1 dev c0" && pass "full-tunnel 1: def1 leaves the default route in place" ||
		fail "full-tunnel 1: default route" "$(ip -n $NS_C route | tr '\n' ' ')"
	ip netns exec $NS_S iperf3 -s -1 -B $BEHIND -p 5241 >"$WORK/iperf-s.log" 2>&1 &
	IPS=$!; PIDS+=($IPS)
	wait_log "$WORK/iperf-s.log" 'Server listening' 10
	if ip netns exec $NS_C iperf3 -c $BEHIND -p 5241 -t 2 -J >"$WORK/iperf.json" 2>&1; then
		bps=$(jq -r '.end.sum_received.bits_per_second' "$WORK/iperf.json" 2>/dev/null)
		awk -v b="$bps" 'BEGIN { exit !(b > 0) }' && pass "full-tunnel 1: iperf3 to $BEHIND behind the server through the tunnel ($(awk -v b="$bps" 'BEGIN { printf "%.0f", b / 1e6 }') Mbit/s)" ||
			fail "full-tunnel 1: iperf3" "no throughput: $bps"
	else
		fail "full-tunnel 1: iperf3 to $BEHIND" "$(tail -3 "$WORK/iperf.json" | tr '\n' ' ')"
	fi
	stop_pid $IPS
	if [ $HAVE_RESOLVCONF = yes ]; then
		grep -qx "nameserver $TUNNET.1" "$WORK/resolv.conf" && grep -qx "search example.test" "$WORK/resolv.conf" &&
			pass "full-tunnel 1: pushed DNS and DOMAIN in resolv.conf through resolvconf" ||
			fail "full-tunnel 1: DNS through resolvconf" "$(tr '\n' ' ' <"$WORK/resolv.conf") / $(grep -i dns "$WORK/full.log" | tr '\n' ' ')"
	else
		[ "$(grep -c "kovpn warn: dhcp-option DNS $TUNNET.1, DOMAIN example.test not applied: neither resolvectl (systemd-resolved) nor resolvconf is installed" "$WORK/full.log")" = 1 ] &&
			pass "full-tunnel 1: no resolvectl/resolvconf: one warning line says DNS is not applied" ||
			fail "full-tunnel 1: DNS warning" "$(grep -i dns "$WORK/full.log" | tr '\n' ' ')"
	fi
	# SIGHUP: the session ends (routes and DNS reverted) and a new one applies them again
	kill -HUP $KC
	for ((i = 0; i < 200; i++)); do [ "$(grep -c '"type":"peer-up"' "$WORK/full.log")" -ge 2 ] && break; sleep 0.1; done
	if [ $i -lt 200 ]; then
		got=$(ip -n $NS_C route get 1.1.1.1)
		n=$(grep -c "^nameserver $TUNNET.1\$" "$WORK/resolv.conf")
		grep -q "dev dmftc0" <<<"$got" && [ $HAVE_RESOLVCONF = no -o "$n" = 1 ] && [ "$(grep -c "redirect-gateway def1: added" "$WORK/full.log")" = 2 ] &&
			pass "full-tunnel 1: after a restart of the session (SIGHUP) redirect-gateway and DNS are applied again, once" ||
			fail "full-tunnel 1: after SIGHUP" "$got; $n nameserver lines"
	else
		fail "full-tunnel 1: reconnect after SIGHUP" "$(tail -3 "$WORK/full.log" | tr '\n' ' ')"
	fi
else
	fail "full-tunnel 1: client connects" "$(tail -3 "$WORK/full.log" | tr '\n' ' ')"
fi
stop_pid $KC
[ "$(routes)" = "$BEFORE" ] && pass "full-tunnel 1: after SIGTERM the routes are as before" ||
	fail "full-tunnel 1: routes after SIGTERM" "$(diff <(echo "$BEFORE") <(routes) | tr '\n' ' ')"
if [ $HAVE_RESOLVCONF = yes ]; then
	! grep -q "$TUNNET.1\|example.test" "$WORK/resolv.conf" && grep -qx "nameserver 192.0.2.53" "$WORK/resolv.conf" &&
		pass "full-tunnel 1: after SIGTERM resolv.conf is as before" || fail "full-tunnel 1: resolv.conf after SIGTERM" "$(tr '\n' ' ' <"$WORK/resolv.conf")"
fi

# --- 1b. no resolvconf, no resolvectl: one warning line ---------------------------------------------
HIDE=hide run_client nodns ''
if wait_log "$WORK/nodns.log" '"type":"peer-up"' 20; then
	[ "$(grep -c "kovpn warn: dhcp-option DNS $TUNNET.1, DOMAIN example.test not applied: neither resolvectl (systemd-resolved) nor resolvconf is installed" "$WORK/nodns.log")" = 1 ] &&
		[ "$(grep -c "dhcp-option" "$WORK/nodns.log")" = 1 ] && pass "full-tunnel 1b: no resolvectl/resolvconf: one warning line says DNS is not applied" ||
		fail "full-tunnel 1b: DNS warning" "$(grep -i dhcp "$WORK/nodns.log" | tr '\n' ' ')"
else
	fail "full-tunnel 1b: client connects" "$(tail -3 "$WORK/nodns.log" | tr '\n' ' ')"
fi
stop_pid $KC

# --- 1c. the file's own redirect-gateway, without def1, with block-local (the pushed one ignored) ------
run_client own $'pull-filter ignore "redirect-gateway"\nredirect-gateway block-local ipv6'
if wait_log "$WORK/own.log" '"type":"peer-up"' 20; then
	ip -n $NS_C route show default | grep -q "dev dmftc0" && ! ip -n $NS_C route show default | grep -q "dev c0" &&
		pass "full-tunnel 1c: redirect-gateway without def1 replaces the default route" ||
		fail "full-tunnel 1c: default route" "$(ip -n $NS_C route show default | tr '\n' ' ')"
	got=$(ip -n $NS_C route get $NET.7)
	grep -q "dev dmftc0" <<<"$got" && pass "full-tunnel 1c: block-local: the local subnet goes through the tunnel" ||
		fail "full-tunnel 1c: block-local" "$got"
	got=$(ip -n $NS_C -6 route get 2001:db8::1 2>&1)
	grep -q "dev dmftc0" <<<"$got" && pass "full-tunnel 1c: redirect-gateway ipv6: 2001:db8::1 routes through the tunnel" ||
		fail "full-tunnel 1c: ipv6" "$got"
	got=$(ip -n $NS_C route get $SRV)
	grep -q "via $NET.1 dev c0" <<<"$got" && check "full-tunnel 1c: the server stays reached, $BEHIND through the tunnel" \
		ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 2 $BEHIND || fail "full-tunnel 1c: route to the server" "$got"
else
	fail "full-tunnel 1c: client connects" "$(tail -3 "$WORK/own.log" | tr '\n' ' ')"
fi
stop_pid $KC
[ "$(routes)" = "$BEFORE" ] && pass "full-tunnel 1c: after SIGTERM the old default route is back, the rest as before" ||
	fail "full-tunnel 1c: routes after SIGTERM" "$(diff <(echo "$BEFORE") <(routes) | tr '\n' ' ')"

# --- 2. up/down scripts: arguments and environment ---------------------------------------------------
cat >"$WORK/dump.sh" <<'EOF'
#!/bin/sh
{ echo "args=$*"; env; } >"$(dirname "$0")/script-$script_type.txt"
EOF
chmod +x "$WORK/dump.sh"
run_client scripts "script-security 2
up $WORK/dump.sh
down $WORK/dump.sh"
if wait_log "$WORK/scripts.log" '"type":"peer-up"' 20; then
	f=$WORK/script-up.txt n=0 missing=
	local_ip=$(ip -n $NS_C -4 -o addr show dev dmftc0 | awk '{ print $4 }' | cut -d/ -f1)
	mtu=$(ip -n $NS_C -o link show dev dmftc0 | sed 's/.* mtu \([0-9]*\).*/\1/')
	for want in "script_type=up" "dev=dmftc0" "ifconfig_local=$local_ip" "ifconfig_netmask=255.255.255.0" \
		"foreign_option_1=dhcp-option DNS $TUNNET.1" "foreign_option_2=dhcp-option DOMAIN example.test" "route_vpn_gateway=$TUNNET.1" \
		"route_net_gateway=$NET.1" "tun_mtu=$mtu" "args=dmftc0 $mtu 0 $local_ip 255.255.255.0 init"; do
		grep -qxF "$want" "$f" 2>/dev/null && n=$((n + 1)) || missing+="'$want' "
	done
	[ $n -eq 10 ] && pass "full-tunnel 2: up script gets OpenVPN's arguments and environment" ||
		fail "full-tunnel 2: up script environment" "missing $missing(got $(grep "^args=" "$f" 2>/dev/null))"
	# kovpn left DNS to the up script
	! grep -q "$TUNNET.1" "$WORK/resolv.conf" && grep -q "dhcp-option: left to the up script" "$WORK/scripts.log" &&
		pass "full-tunnel 2: with an up script kovpn leaves DNS to it" || fail "full-tunnel 2: DNS with an up script" "$(tr '\n' ' ' <"$WORK/resolv.conf")"
else
	fail "full-tunnel 2: client connects" "$(tail -3 "$WORK/scripts.log" | tr '\n' ' ')"
fi
stop_pid $KC
grep -qx "script_type=down" "$WORK/script-down.txt" 2>/dev/null && grep -qx "signal=sigterm" "$WORK/script-down.txt" &&
	grep -qx "dev=dmftc0" "$WORK/script-down.txt" && pass "full-tunnel 2: down script runs at SIGTERM with script_type=down signal=sigterm" ||
	fail "full-tunnel 2: down script" "$(head -c 300 "$WORK/script-down.txt" 2>/dev/null | tr '\n' ' ')"

# an up script that fails stops the daemon (OpenVPN: fatal error), leaving nothing behind
run_client upfail $'script-security 2\nup /bin/false'
for ((i = 0; i < 200; i++)); do kill -0 $KC 2>/dev/null || break; sleep 0.1; done
wait $KC 2>/dev/null
rc=$?
[ $rc -ne 0 ] && [ $i -lt 200 ] && grep -q "kovpn error: .*up script '/bin/false' exited with status 1: exiting" "$WORK/upfail.log" &&
	[ "$(routes)" = "$BEFORE" ] && ! ip -n $NS_C link show dmftc0 >/dev/null 2>&1 &&
	pass "full-tunnel 2: a failing up script stops the daemon with an error, nothing left behind" ||
	fail "full-tunnel 2: failing up script" "exit $rc after $((i / 10)) s: $(grep -E 'error|script' "$WORK/upfail.log" | tail -2 | tr '\n' ' ')"

# --- 3. Debian's update-resolv-conf -----------------------------------------------------------------------
if [ $HAVE_RESOLVCONF = yes ] && [ -x /etc/openvpn/update-resolv-conf ]; then
	run_client urc $'script-security 2\nup /etc/openvpn/update-resolv-conf\ndown /etc/openvpn/update-resolv-conf'
	if wait_log "$WORK/urc.log" '"type":"peer-up"' 20 && wait_log "$WORK/resolv.conf" "^nameserver $TUNNET.1\$" 10; then
		grep -qx "search example.test" "$WORK/resolv.conf" && pass "full-tunnel 3: update-resolv-conf as up script: nameserver and search added" ||
			fail "full-tunnel 3: update-resolv-conf search" "$(tr '\n' ' ' <"$WORK/resolv.conf")"
	else
		fail "full-tunnel 3: update-resolv-conf up" "$(tr '\n' ' ' <"$WORK/resolv.conf") / $(grep -i script "$WORK/urc.log" | tail -3 | tr '\n' ' ')"
	fi
	stop_pid $KC
	! grep -q "$TUNNET.1" "$WORK/resolv.conf" && pass "full-tunnel 3: update-resolv-conf as down script: nameserver removed" ||
		fail "full-tunnel 3: update-resolv-conf down" "$(tr '\n' ' ' <"$WORK/resolv.conf")"
else
	fail "full-tunnel 3: update-resolv-conf" "needs openresolv (/sbin/resolvconf) and /etc/openvpn/update-resolv-conf: scripts/install-deps.sh host"
fi

# --- 4. script-security ------------------------------------------------------------------------------
printf 'client\ndev dmftc0\nremote %s 1194\nca %s/ca.crt\ncert %s/client.crt\nkey %s/client.key\nup %s/dump.sh\n' "$SRV" "$WORK" "$WORK" "$WORK" "$WORK" >"$WORK/nosec.conf"
rm -f "$WORK/script-up.txt"
ip netns exec $NS_C timeout 20 bin/kovpn up "$WORK/nosec.conf" >"$WORK/nosec.log" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$(wc -l <"$WORK/nosec.log")" = 1 ] && grep -q "needs \`script-security 2\` or higher" "$WORK/nosec.log" &&
	[ ! -e "$WORK/script-up.txt" ] && pass "full-tunnel 4: an up script without script-security 2 is refused at start with one line" ||
	fail "full-tunnel 4: script-security" "exit $rc: $(tr '\n' ' ' <"$WORK/nosec.log")"
stop_pid $OVS

# --- 5. kovpn server pushes redirect-gateway and DNS -> stock client ---------------------------------
kovpn_server_conf 1195 dmfts1 10.214.42.0 "local $SRV
push \"redirect-gateway def1\"
push \"dhcp-option DNS 10.214.42.1\"" >"$WORK/kserver.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/kserver.conf" --log-level info >"$WORK/kserver.log" 2>&1 &
KS=$!; PIDS+=($KS)
if wait_log "$WORK/kserver.log" '"type":"tunnel-up"' 20; then
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dmftc1 --dev-type tun --proto udp4 \
		--remote $SRV 1195 --nobind --remote-cert-tls server \
		--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" >"$WORK/ovpn-client.log" 2>&1 &
	OVC=$!; PIDS+=($OVC)
	if wait_log "$WORK/ovpn-client.log" 'Initialization Sequence Completed' 20; then
		grep -q "PUSH_REPLY,.*redirect-gateway def1" "$WORK/ovpn-client.log" && grep -q "PUSH_REPLY,.*dhcp-option DNS 10.214.42.1" "$WORK/ovpn-client.log" &&
			pass "full-tunnel 5: stock client received redirect-gateway and dhcp-option in PUSH_REPLY" ||
			fail "full-tunnel 5: PUSH_REPLY" "$(grep PUSH_REPLY "$WORK/ovpn-client.log" | head -1)"
		got=$(ip -n $NS_C route get 1.1.1.1)
		grep -q "dev dmftc1" <<<"$got" && pass "full-tunnel 5: stock client's traffic goes through the tunnel (1.1.1.1 via dmftc1)" ||
			fail "full-tunnel 5: stock client's route" "$got"
		check "full-tunnel 5: ping $BEHIND through the kovpn server" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 2 $BEHIND
	else
		fail "full-tunnel 5: stock client connects" "$(tail -3 "$WORK/ovpn-client.log" | tr '\n' ' ')"
	fi
	stop_pid $OVC
else
	fail "full-tunnel 5: kovpn server starts" "$(tail -3 "$WORK/kserver.log" | tr '\n' ' ')"
fi
stop_pid $KS

# --- 6. a push line the server cannot honour ---------------------------------------------------------
kovpn_server_conf 1196 dmfts2 10.214.43.0 'push "route 10.214.44.0 255.255.300.0"' >"$WORK/badpush.conf"
ip netns exec $NS_S timeout 20 bin/kovpn up "$WORK/badpush.conf" >"$WORK/badpush.log" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$(wc -l <"$WORK/badpush.log")" = 1 ] &&
	grep -q "push: \"route 10.214.44.0 255.255.300.0\": route netmask: '255.255.300.0' is not an IPv4 address" "$WORK/badpush.log" &&
	pass "full-tunnel 6: a malformed push line is refused at start with one line" ||
	fail "full-tunnel 6: malformed push" "exit $rc: $(tr '\n' ' ' <"$WORK/badpush.log")"
exit 0
