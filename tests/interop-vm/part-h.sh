# shellcheck shell=bash
# ============================================================================================
# H. username/password on the kernel path: stock openvpn client with auth-user-pass -> kovpn
#    server (MP device) with auth-user-pass-verify via-file; pings; a bad password refused
#    (AUTH_FAILED to the client, one error line on the server). One daemon start.
# ============================================================================================
cat >"$WORK/h-verify.sh" <<EOS
#!/bin/sh
env >"$WORK/h-seen.env"
[ "\$(sed -n 1p "\$1")" = alice ] && [ "\$(sed -n 2p "\$1")" = 'h-good-pass' ]
EOS
chmod 755 "$WORK/h-verify.sh"
printf 'alice\nh-good-pass\n' >"$WORK/h-good.pass"
printf 'alice\nh-bad-pass\n' >"$WORK/h-bad.pass"
chmod 600 "$WORK"/h-*.pass
cat >"$WORK/h-server.conf" <<CONF
port 1202
proto udp
dev dvks8
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.215.8.0 255.255.255.0
topology subnet
keepalive 2 20
script-security 2
auth-user-pass-verify $WORK/h-verify.sh via-file
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/h-server.conf" --datapath kernel --log-level info >"$WORK/h-ks.log" 2>&1 & PIDS+=($!); HS=$!
h_client() { # pass-file log
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dvoc8 --dev-type tun --proto udp4 --remote $NET.1 1202 \
		--nobind --remote-cert-tls server --explicit-exit-notify 1 --auth-user-pass "$1" \
		--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" >"$WORK/$2" 2>&1 & PIDS+=($!)
}
if wait_log "$WORK/h-ks.log" '"type":"tunnel-up"' $W; then
	is_kernel_device $NS_S dvks8 H
	h_client "$WORK/h-good.pass" h-oc.log; HC=$!
	if wait_log "$WORK/h-oc.log" 'Initialization Sequence Completed' $W && wait_log "$WORK/h-ks.log" '"type":"peer-up"' $W; then
		pass "$T H: openvpn client with auth-user-pass connects to the kovpn server (kernel MP device)"
		pings "H: openvpn client pings the kovpn server through the kernel (password-authenticated)" $NS_C 10.215.8.1 3
		grep -qx 'script_type=user-pass-verify' "$WORK/h-seen.env" && grep -qx "untrusted_ip=$NET.2" "$WORK/h-seen.env" &&
			grep -qx 'common_name=dm-client' "$WORK/h-seen.env" && pass "$T H: the verify script saw script_type, untrusted_ip, common_name" ||
			fail "$T H: verify script env" "$(grep -E '^(script_type|untrusted_ip|common_name)=' "$WORK/h-seen.env" | tr '\n' ' ')"
	else
		fail "$T H: openvpn client connects with a password" "$(tail -2 "$WORK/h-oc.log" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/h-ks.log" | tr '\n' ' ' | cut -c1-300)"
	fi
	stop_wait $HC 20
	h_client "$WORK/h-bad.pass" h-oc-bad.log; HB=$!
	if wait_log "$WORK/h-oc-bad.log" 'AUTH_FAILED' $W && wait_log "$WORK/h-ks.log" "kovpn error: .*refused by auth-user-pass-verify" $W; then
		pass "$T H: a bad password gets AUTH_FAILED, the server logs the refusal at error level"
	else
		fail "$T H: bad password refused" "$(tail -2 "$WORK/h-oc-bad.log" | tr '\n' ' ' | cut -c1-300) / $(grep 'kovpn error' "$WORK/h-ks.log" | tail -2 | tr '\n' ' ')"
	fi
	n=$(grep -c 'kovpn error:' "$WORK/h-ks.log")
	[ "$n" -eq 1 ] && pass "$T H: one error line for the refused password" || fail "$T H: one error line" "$n: $(grep 'kovpn error:' "$WORK/h-ks.log" | tr '\n' ' ' | cut -c1-300)"
	stop_wait $HB 20
	grep -q 'h-good-pass\|h-bad-pass' "$WORK/h-ks.log" && fail "$T H: no password in the server log" "found" || pass "$T H: no password in the server log"
else
	fail "$T H: kovpn server with auth-user-pass-verify starts" "$(tail -2 "$WORK/h-ks.log" | tr '\n' ' ' | cut -c1-300)"
fi
stop_wait $HS 30 || fail "$T H: server stops on SIGTERM" "still running after 30 s"
no_ovpn_device $NS_S dvks8 H
