#!/usr/bin/env bash
# Signals of `kovpn up` (userspace path, namespaces dm-g*), against stock OpenVPN 2.6:
#   SIGUSR1 rereads the CRL for new sessions only: a connected client whose certificate was
#   just revoked keeps its tunnel; SIGHUP restarts sessions: that client is then refused;
#   SIGTERM ends cleanly (EXIT seen by the client, pid file removed, device gone).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-gs NS_C=dm-gc NET=10.77.9
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "signals: namespaces" "could not create"; exit 1; }
setup_pki || { fail "signals: PKI" "openssl failed"; exit 1; }

cat >"$WORK/server.conf" <<CONF
port 1194
dev dmgs0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
crl-verify $WORK/ca.crl
server 10.214.9.0 255.255.255.0
topology subnet
keepalive 2 20
writepid $WORK/kovpn.pid
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 20 || { fail "signals: server starts" "$(tail -2 "$WORK/ks.log" | tr '\n' ' ')"; exit 0; }
[ "$(cat "$WORK/kovpn.pid" 2>/dev/null)" = "$KS" ] && pass "signals: writepid holds the daemon's pid" || fail "signals: writepid" "pid file '$(cat "$WORK/kovpn.pid" 2>/dev/null)' vs $KS"

ip netns exec $NS_C openvpn --disable-dco --verb 4 --client --dev dmgc0 --dev-type tun --proto udp4 --remote $NET.1 1194 \
	--nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" \
	>"$WORK/oc.log" 2>&1 & PIDS+=($!); OC=$!
if ! wait_log "$WORK/oc.log" 'Initialization Sequence Completed' 20; then
	fail "signals: client connects" "$(tail -2 "$WORK/oc.log" | tr '\n' ' ')"; exit 0
fi

revoke client || { fail "signals: revoke" "openssl ca failed"; exit 0; }
kill -USR1 $KS
if wait_log "$WORK/ks.log" 'reloaded CA, certificate, key and CRL' 5; then
	check "signals: after SIGUSR1 the existing session keeps working" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.9.1
else
	fail "signals: SIGUSR1 reload" "no reload logged"
fi

n=$(grep -c 'CERT_REVOKED' "$WORK/ks.log")
kill -HUP $KS
for ((i = 0; i < 200; i++)); do [ "$(grep -c 'CERT_REVOKED' "$WORK/ks.log")" -gt "$n" ] && break; sleep 0.1; done
if [ "$(grep -c 'CERT_REVOKED' "$WORK/ks.log")" -gt "$n" ]; then
	pass "signals: after SIGHUP the client reconnects and is refused by the new CRL"
	ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 1 10.214.9.1 >/dev/null 2>&1 && fail "signals: revoked client cut off" "ping still works" ||
		pass "signals: the revoked client's tunnel no longer carries traffic"
else
	fail "signals: SIGHUP restart" "no CERT_REVOKED refusal: $(grep -E 'restart|RESTART' "$WORK/oc.log" | tail -1)"
fi
grep -q 'SIGUSR1\[soft,server-pushed-connection-reset\]' "$WORK/oc.log" && pass "signals: SIGHUP sent RESTART, the client restarted" || fail "signals: RESTART" "not in the client log"
stop_pid $OC

kill -TERM $KS
for ((i = 0; i < 50; i++)); do kill -0 $KS 2>/dev/null || break; sleep 0.1; done
kill -0 $KS 2>/dev/null && fail "signals: SIGTERM stops the daemon" "still running" || pass "signals: SIGTERM stops the daemon"
[ -e "$WORK/kovpn.pid" ] && fail "signals: pid file removed" "still there" || pass "signals: pid file removed on stop"
ip netns exec $NS_S ip link show dmgs0 >/dev/null 2>&1 && fail "signals: device removed" "dmgs0 still exists" || pass "signals: device removed on stop"
[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/ks.log "$WORK"/oc.log
exit 0
