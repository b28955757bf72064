# shellcheck shell=bash
# ============================================================================================
# G. the daemon's devices and exits on the kernel path: `dev tun` takes tun0 (an ovpn link with
#    the owner alias); a kovpn killed with SIGKILL leaves it, the next one reclaims it with a
#    warning; AUTH_FAILED (ccd-exclusive without a record) exits 1 and removes the device;
#    `comp-lzo no` under --datapath auto runs on the userspace path, saying why
# ============================================================================================
mkdir -p "$WORK/ccd-none"
ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev dvof0 --dev-type tun --proto udp4 \
	--port 1198 --server 10.215.6.0 255.255.255.0 --topology subnet --keepalive 2 20 --duplicate-cn \
	--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none --comp-lzo no --push "comp-lzo no" \
	>"$WORK/of.log" 2>&1 & PIDS+=($!); OF=$!
ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev dvog0 --dev-type tun --proto udp4 \
	--port 1199 --server 10.215.7.0 255.255.255.0 --topology subnet --ccd-exclusive --client-config-dir "$WORK/ccd-none" \
	--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none >"$WORK/og.log" 2>&1 & PIDS+=($!); OG=$!
f_conf() { # file port extra-line
	printf 'client\ndev tun\nproto udp\nremote %s.1 %s\nnobind\nremote-cert-tls server\nca %s/ca.crt\ncert %s/client.crt\nkey %s/client.key\n%s\n' \
		"$NET" "$2" "$WORK" "$WORK" "$WORK" "$3" >"$1"
}
if wait_log "$WORK/of.log" 'Initialization Sequence Completed' $W && wait_log "$WORK/og.log" 'Initialization Sequence Completed' $W; then
	f_conf "$WORK/f1.conf" 1198 ''
	# the server pushes comp-lzo no: on the kernel path that is refused with an error line (as a DCO
	# client of OpenVPN 2.6 refuses it), so the kill test runs against the session set-up alone
	ip netns exec $NS_C bin/kovpn up "$WORK/f1.conf" --datapath kernel --log-level info >"$WORK/f1.log" 2>&1 & PIDS+=($!); F1=$!
	if wait_log "$WORK/f1.log" "kovpn error: .*server pushed 'comp-lzo no': that compression framing needs the userspace data path" $W; then
		pass "$T G: a pushed comp-lzo no on the kernel path is one error line saying to use the userspace path"
	else
		fail "$T G: pushed comp-lzo no on the kernel path" "$(grep -E 'error|warn' "$WORK/f1.log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
	fi
	al=$(ip -n $NS_C -o link show tun0 2>/dev/null)
	if grep -qE "alias kovpn pid=$F1 start=[0-9]+" <<<"$al" && ip -n $NS_C -d link show tun0 | grep -qw ovpn; then
		pass "$T G: dev tun is tun0, an ovpn link with the owner alias"
	else
		fail "$T G: dev tun" "$al"
	fi
	kill -KILL $F1; wait $F1 2>/dev/null
	ip -n $NS_C link show tun0 >/dev/null 2>&1 || fail "$T G: a SIGKILLed kovpn leaves its kernel device" "tun0 is gone"
	f_conf "$WORK/f2.conf" 1198 'comp-lzo no'
	ip netns exec $NS_C bin/kovpn up "$WORK/f2.conf" --datapath auto --log-level info >"$WORK/f2.log" 2>&1 & PIDS+=($!); F2=$!
	if wait_log "$WORK/f2.log" '"type":"peer-up"' $W; then
		grep -q "kovpn warn: device tun0 was left by kovpn pid $F1, which no longer runs" "$WORK/f2.log" &&
			pass "$T G: the stale kernel tun0 is reclaimed with a warning" ||
			fail "$T G: stale tun0 reclaimed" "$(grep -E 'warn|error' "$WORK/f2.log" | head -3 | tr '\n' ' ' | cut -c1-300)"
		grep -q "compression framing needs the userspace data path, not using the kernel" "$WORK/f2.log" &&
			grep -q 'data path: userspace' "$WORK/f2.log" &&
			pass "$T G: comp-lzo no under --datapath auto runs on the userspace path and says why" ||
			fail "$T G: comp-lzo no data path" "$(grep -E 'data path|compression' "$WORK/f2.log" | tr '\n' ' ' | cut -c1-300)"
		pings "G: ping through the comp-lzo no tunnel" $NS_C 10.215.6.1 3
	else
		fail "$T G: reclaiming client connects" "$(tail -3 "$WORK/f2.log" | tr '\n' ' ' | cut -c1-300)"
	fi
	stop_wait $F2 30 || fail "$T G: client stops on SIGTERM" "still running"
	f_conf "$WORK/f3.conf" 1199 ''
	ip netns exec $NS_C bin/kovpn up "$WORK/f3.conf" --datapath kernel --log-level info >"$WORK/f3.log" 2>&1 & PIDS+=($!); F3=$!
	for ((i = 0; i < W * 10; i++)); do kill -0 $F3 2>/dev/null || break; sleep 0.1; done
	if kill -0 $F3 2>/dev/null; then
		fail "$T G: AUTH_FAILED ends the client" "still running after $W s"; stop_wait $F3 10
	else
		wait $F3; rc=$?
		[ $rc = 1 ] && grep -q 'kovpn error: .*refused us: AUTH_FAILED.*exiting' "$WORK/f3.log" &&
			pass "$T G: AUTH_FAILED is one error line and exit status 1 on the kernel path" ||
			fail "$T G: AUTH_FAILED exit" "status $rc: $(grep error "$WORK/f3.log" | tr '\n' ' ' | cut -c1-300)"
	fi
	no_ovpn_device $NS_C tun0 G
else
	fail "$T G: openvpn servers start" "$(tail -2 "$WORK/of.log" "$WORK/og.log" | tr '\n' ' ' | cut -c1-300)"
fi
stop_wait $OF 20; stop_wait $OG 20

