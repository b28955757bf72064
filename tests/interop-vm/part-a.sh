# shellcheck shell=bash
# ============================================================================================
# A. stock openvpn client -> kovpn server, kernel MP device, AES-256-GCM
# ============================================================================================
cat >"$WORK/server.conf" <<CONF
port 1194
proto udp
dev dvks0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.215.1.0 255.255.255.0
topology subnet
keepalive 2 20
data-ciphers AES-256-GCM
reneg-sec 8
crl-verify $WORK/ca.crl
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --datapath kernel --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
ovpn_client() { # cert log [extra...]
	local cert=$1 log=$2; shift 2
	ip netns exec $NS_C openvpn --disable-dco --verb 4 --client --dev dvoc0 --dev-type tun --proto udp4 --remote $NET.1 1194 \
		--nobind --remote-cert-tls server --data-ciphers AES-256-GCM --reneg-sec 0 --explicit-exit-notify 1 \
		--ca "$WORK/ca.crt" --cert "$WORK/$cert.crt" --key "$WORK/$cert.key" "$@" >"$WORK/$log" 2>&1 &
	PIDS+=($!)
}
if wait_log "$WORK/ks.log" '"type":"tunnel-up"' $W; then
	grep -q 'kernel data path' "$WORK/ks.log" && pass "$T A: kovpn server up on the kernel data path" ||
		fail "$T A: kovpn server on the kernel data path" "$(grep -m1 tunnel-up "$WORK/ks.log")"
	is_kernel_device $NS_S dvks0 A
	ovpn_client client oc.log; OC=$!
	if wait_log "$WORK/oc.log" 'Initialization Sequence Completed' $W; then
		pass "$T A: openvpn client connects to the kovpn server (AES-256-GCM)"
		# openvpn is up once it has the PUSH_REPLY; kovpn's peer-up comes once the key is in the
		# kernel, which the first time loads the cipher's modules (seconds under emulation).
		wait_log "$WORK/ks.log" '"type":"peer-up"' $W && pass "$T A: kovpn server reports peer-up (peer and key in the kernel)" ||
			fail "$T A: kovpn server peer-up" "$(tail -2 "$WORK/ks.log" | tr '\n' ' ' | cut -c1-300)"
		kdiag() { [ -n "${DV_KDEBUG:-}" ] && echo "[$(date +%T.%3N)] kernel: $(ip netns exec $NS_S python3 $KSTATE peers dvks0 2>&1) $(ip -n $NS_S -s link show dvks0 | tr -s ' \n' ' ' | cut -c1-400)"; }
		kdiag
		pings "A: openvpn client pings the kovpn server through the kernel" $NS_C 10.215.1.1 5
		pings "A: kovpn server pings the openvpn client through the kernel" $NS_S 10.215.1.2 3
		kdiag
		st=$(ip netns exec $NS_S bin/kovpn status --dev dvks0 --json 2>&1)
		kp=$(ip netns exec $NS_S python3 $KSTATE peers dvks0 2>&1)
		echo "status: $st"; echo "kernel: $kp"
		if grep -q '"datapath":"kernel"' <<<"$st" && grep -q '"cipher":"AES-256-GCM"' <<<"$st" && grep -q '"vpnIpv4":"10.215.1.2"' <<<"$st" &&
			grep -q '"vpnRxPackets":"[1-9]' <<<"$st" && grep -q '"vpnTxPackets":"[1-9]' <<<"$st" && grep -q '"linkRxPackets":"[1-9]' <<<"$st"; then
			pass "$T A: kovpn status --json shows the peer (kernel data path, cipher, address, non-zero counters)"
		else
			fail "$T A: kovpn status --json" "$(cut -c1-300 <<<"$st")"
		fi
		if grep -Eq '"drops":\{"noPeer":[0-9]+,"noKey":[0-9]+,"decrypt":[0-9]+,"replay":[0-9]+,"malformed":[0-9]+,"exhausted":[0-9]+,"source":[0-9]+,"rxQueue":[0-9]+,"send":[0-9]+,"internal":[0-9]+\}' <<<"$st"; then
			pass "$T A: kovpn status --json shows the module's drop counters by reason"
		else
			fail "$T A: kovpn status --json drop counters" "$(grep -o '"drops":[^}]*}' <<<"$st" || echo none)"
		fi
		# The counters are the kernel's: status (read first) can only be at or below the kernel's now.
		sid=$(sed -n 's/.*"peerId":\([0-9]*\).*/\1/p' <<<"$st")
		srx=$(sed -n 's/.*"vpnRxPackets":"\([0-9]*\)".*/\1/p' <<<"$st")
		if python3 -c '
import json, sys
peers = json.loads(sys.argv[1]); pid = int(sys.argv[2]); rx = int(sys.argv[3])
p = [p for p in peers if p["id"] == pid]
sys.exit(0 if len(peers) == 1 and p and rx <= p[0]["VPN_RX_PACKETS"] <= rx + 20 else 1)' "$kp" "${sid:-x}" "${srx:-x}" 2>/dev/null; then
			pass "$T A: the kernel holds exactly that peer, with the counters status reported"
		else
			fail "$T A: kernel peer and counters" "status peer ${sid:-?} rx ${srx:-?}; kernel: $(cut -c1-200 <<<"$kp")"
		fi

		# --- a short iperf3 upload: the kernel's peer counts at least what iperf3 received ---
		iperf "A: iperf3 openvpn client -> kovpn server through the kernel" $NS_S 10.215.1.1 $NS_C $NS_S dvks0

		# --- rekeys started by kovpn (reneg-sec 8) while pinging ---------------------------
		if rekey_pings "A rekey (kovpn server initiates, reneg-sec 8)" $NS_C 10.215.1.1 "$WORK/ks.log" 2; then
			newest_key A $NS_S dvks0 "${sid:-0}" "$WORK/ks.log"
		fi
		grep -q 'Key \[.*\] not initialized' "$WORK/oc.log" &&
			fail "$T A: openvpn never received packets on a key it did not have" "$(grep -m1 'not initialized' "$WORK/oc.log")" ||
			pass "$T A: openvpn never received packets on a key it did not have"

		# --- a certificate from another CA, a revoked certificate -----------------------------
		for who in stranger revoked; do
			what=$([ $who = stranger ] && echo "certificate from another CA" || echo "revoked certificate (crl-verify)")
			n=$(grep -c 'peer certificate refused' "$WORK/ks.log")
			ovpn_client $who $who.log --hand-window 10; SC=$!
			for ((i = 0; i < W * 10; i++)); do [ "$(grep -c 'peer certificate refused' "$WORK/ks.log")" -gt "$n" ] && break; sleep 0.1; done
			if [ "$(grep -c 'peer certificate refused' "$WORK/ks.log")" -gt "$n" ]; then
				sleep 1
				if grep -q 'Initialization Sequence Completed' "$WORK/$who.log"; then
					fail "$T A: $what refused" "the $who client completed initialization"
				else
					pass "$T A: $what refused ($(grep 'peer certificate refused' "$WORK/ks.log" | tail -1 | sed 's/.*peer certificate refused: //; s/"}$//' | cut -c1-60))"
				fi
			else
				fail "$T A: $what refused" "no refusal in the server log: $(tail -2 "$WORK/ks.log" | tr '\n' ' ' | cut -c1-300)"
			fi
			stop_wait $SC 10
		done
		n=$(ip netns exec $NS_S python3 $KSTATE peers dvks0 | grep -o '"id"' | wc -l)
		[ "$n" = 1 ] && pass "$T A: the refused clients never got a peer in the kernel" || fail "$T A: kernel peers after the refusals" "$n peers"
		pings "A: the first client still works" $NS_C 10.215.1.1 3

		# --- the client's EXIT removes its peer --------------------------------------------
		stop_wait $OC 20
		if wait_log "$WORK/ks.log" '"type":"peer-down".*peer sent EXIT' 30; then
			pass "$T A: kovpn server sees the openvpn client's EXIT"
			sleep 0.5
			kp=$(ip netns exec $NS_S python3 $KSTATE peers dvks0 2>&1)
			[ "$kp" = "[]" ] && pass "$T A: the client's peer is removed from the kernel after its EXIT" ||
				fail "$T A: peer removed from the kernel after EXIT" "kernel still has $kp"
		else
			fail "$T A: kovpn server sees EXIT" "$(grep -E 'peer-down|EXIT' "$WORK/ks.log" | tail -2 | tr '\n' ' ')"
		fi
	else
		fail "$T A: openvpn client connects to the kovpn server" "$(tail -3 "$WORK/oc.log" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/ks.log" | tr '\n' ' ' | cut -c1-300)"
		stop_wait $OC 10
	fi
else
	fail "$T A: kovpn server starts on the kernel data path" "$(tail -3 "$WORK/ks.log" | tr '\n' ' ' | cut -c1-400)"
fi
if stop_wait $KS 30; then pass "$T A: kovpn server stops on SIGTERM"; else fail "$T A: kovpn server stops on SIGTERM" "still running after 30 s"; fi
no_ovpn_device $NS_S dvks0 A
no_errors "$WORK/ks.log" "A server"
