#!/usr/bin/env bash
# The kovpn daemon on the KERNEL data path (ovpn.ko) against stock OpenVPN 2.6 (--disable-dco),
# run inside the qemu guest in one boot:
#   tests/qemu/run.sh --timeout 1500 -- tests/interop-vm/run.sh
# Namespaces dv-s (server side) and dv-c (client side), reusing tests/interop/lib/tunnel-lib.sh
# (PKI, namespaces, log waits). Node starts cost 4-10 s each in the guest: one daemon per part,
# one `kovpn status`; the kernel's own view is read with a small python genl script.
#   A. stock openvpn client -> kovpn server (MP device in the kernel), AES-256-GCM: pings both
#      ways, `kovpn status --json` counters against the kernel's, rekeys every 8 s started by
#      kovpn with pings continuing, a client from another CA refused, the client's EXIT removes
#      its peer from the kernel, the device is gone after the daemon stops.
#      A revoked client (crl-verify) refused too; a short iperf3 upload through the kernel.
#   B. kovpn client (P2P device in the kernel) -> stock openvpn server (subnet topology),
#      CHACHA20-POLY1305: ping, a short iperf3 download, rekeys every 8 s started by openvpn,
#      EXIT seen by openvpn when kovpn stops in the middle of a rekey, the device is gone after.
#   C. peer-to-peer TLS against stock openvpn, both TLS roles (kovpn tls-server with AES-256-GCM,
#      kovpn tls-client with CHACHA20-POLY1305): pings both ways, EXIT seen by the peer.
#   D. kovpn <-> kovpn in pre-shared-key mode, both ends on the kernel path (MP server, P2P
#      client): pings both ways, a short iperf3, the client's EXIT removes its kernel peer.
#   E. early rekey on KEY_SWAP_NTF, with the module's test build whose keys start at packet id
#      2^32-2: the kernel retires an exhausted key and notifies, the daemon rekeys at once and
#      traffic flows on the new key.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dv-s NS_C=dv-c NET=10.78.1
. tests/interop/lib/tunnel-lib.sh
export KOVPN_DATAPATH=kernel
T="interop[kernel]:"
KSTATE=tests/interop-vm/kernel-state.py
# Waits for start-ups and handshakes, in seconds, generous for the emulated guest.
W=${DV_WAIT:-90}
START=$(date +%s)

setup_netns || { fail "$T namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki revoked || { fail "$T PKI" "openssl failed"; exit 1; }
revoke revoked || { fail "$T PKI" "revocation failed"; exit 1; }
[ -d /sys/module/ovpn ] || modprobe ovpn 2>/dev/null
[ -d /sys/module/ovpn ] || { fail "$T ovpn module loaded" "no /sys/module/ovpn"; exit 1; }
# DV_KDEBUG=1: the module's drop reasons (net_dbg_ratelimited) in the guest's dmesg.
if [ -n "${DV_KDEBUG:-}" ]; then
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	echo 'module ovpn +p' >/sys/kernel/debug/dynamic_debug/control
fi

# stop_wait pid seconds: SIGTERM, then wait; KILL (and return 1) after the deadline.
stop_wait() {
	kill -TERM "$1" 2>/dev/null
	local i
	for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	return 1
}

# no_ovpn_device ns name: the namespace has no ovpn link left (by kind and by name).
no_ovpn_device() {
	local left
	left=$(ip -n "$1" -d -o link show 2>/dev/null | grep -E "(^[0-9]+: $2[:@]| ovpn )" | cut -d: -f2 | tr -d ' ')
	if [ -z "$left" ]; then pass "$T $3: no ovpn device left in $1 after the daemon stopped"
	else fail "$T $3: device removed" "left in $1: $left"; fi
}

# is_kernel_device ns name: the device exists and is of kind ovpn (the module's netdev, not TUN).
is_kernel_device() {
	local d
	d=$(ip -n "$1" -d link show "$2" 2>&1)
	if grep -qw ovpn <<<"$d" && ! grep -qw tun <<<"$d"; then pass "$T $3: $2 is an ovpn kernel device"
	else fail "$T $3: $2 is an ovpn kernel device" "$(tr '\n' ' ' <<<"$d" | cut -c1-200)"; fi
}

# pings name ns dst count: a ping check whose output (timestamped, -O) is kept for the report.
pings() {
	local out="$WORK/ping-${1//[^A-Za-z0-9]/_}.out"
	echo "[$(date +%T.%3N)] $1"
	if ip netns exec "$2" ping -D -O -c "$4" -i 0.3 -W 3 "$3" >"$out" 2>&1; then pass "$T $1"
	else fail "$T $1" "$(grep -E 'no answer|transmitted' "$out" | tr '\n' ' ' | cut -c1-300)"; fi
}

# no_errors log name: nothing in a daemon's log that marks a bug rather than a peer's fault.
no_errors() {
	local bad='internal error|TypeError|RangeError|Unhandled|kovpn error'
	grep -qE "$bad" "$1" && fail "$T $2: no errors in the kovpn log" "$(grep -m1 -E "$bad" "$1" | cut -c1-300)" ||
		pass "$T $2: no errors in the kovpn log"
}

# vpn_bytes ns dev direction(RX|TX): the kernel's VPN byte counter summed over the device's peers.
vpn_bytes() {
	ip netns exec "$1" python3 $KSTATE peers "$2" 2>/dev/null |
		python3 -c 'import json, sys; print(sum(p.get("VPN_'"$3"'_BYTES", 0) for p in json.load(sys.stdin)))' 2>/dev/null || echo 0
}

# iperf name server-ns server-ip client-ns kernel-ns kernel-dev [iperf3 client options...]:
# a 3 s iperf3 TCP run through the tunnel; passes when the receiver counted data (the rate is
# printed, meaningless in absolute terms under emulation), then checks that the kernel device
# on the receiving side (kernel-ns, kernel-dev) counted at least those bytes (VPN_RX_BYTES).
iperf() {
	local name=$1 sns=$2 sip=$3 cns=$4 kns=$5 kdev=$6 out="$WORK/iperf-${1//[^A-Za-z0-9]/_}.json" sp i r rx0 rx1
	shift 6
	rx0=$(vpn_bytes "$kns" "$kdev" RX)
	ip netns exec "$sns" iperf3 -s -1 -B "$sip" -p 5299 >/dev/null 2>&1 &
	sp=$!
	for ((i = 0; i < 150; i++)); do ip netns exec "$sns" ss -Hltn "sport = :5299" | grep -q . && break; sleep 0.1; done
	ip netns exec "$cns" timeout 90 iperf3 -c "$sip" -p 5299 -t 3 -J "$@" >"$out" 2>&1
	kill $sp 2>/dev/null; wait $sp 2>/dev/null
	r=$(python3 -c 'import json, sys
e = json.load(open(sys.argv[1]))["end"]["sum_received"]
print(int(e["bytes"]), "%.1f" % (e["bits_per_second"] / 1e6))' "$out" 2>/dev/null)
	if [ -z "$r" ] || [ "${r%% *}" -le 0 ]; then
		fail "$T $name" "$(grep -m1 -E 'error' "$out" | cut -c1-200)"
		return
	fi
	pass "$T $name (${r#* } Mbit/s, ${r%% *} bytes in 3 s)"
	rx1=$(vpn_bytes "$kns" "$kdev" RX)
	[ $((rx1 - rx0)) -ge "${r%% *}" ] &&
		pass "$T $name: $kdev's kernel peer counted at least iperf3's bytes ($((rx1 - rx0)) >= ${r%% *})" ||
		fail "$T $name: $kdev's kernel peer counts the bytes" "VPN_RX_BYTES grew by $((rx1 - rx0)), iperf3 received ${r%% *}"
}

# rekey_pings name ns target log minimum-swaps: ping every 0.2 s until the daemon's log shows
# <minimum-swaps> more key swaps (at most 60 s); losses inside a transition are tolerated.
rekey_pings() {
	local name=$1 ns=$2 dst=$3 log=$4 want=$5 before n i pp out
	before=$(grep -c '"type":"rekey"' "$log")
	out="$WORK/ping-$name.out"
	ip netns exec "$ns" ping -D -O -i 0.2 -W 2 "$dst" >"$out" 2>&1 &
	pp=$!
	for ((i = 0; i < 600; i++)); do
		n=$(($(grep -c '"type":"rekey"' "$log") - before))
		[ "$n" -ge "$want" ] && break
		sleep 0.1
	done
	sleep 3 # pings on the newest key, after its transition
	kill -INT $pp 2>/dev/null; wait $pp 2>/dev/null
	if [ "$n" -lt "$want" ]; then
		fail "$T $name: rekeys" "$n key swaps within 60 s (wanted $want): $(grep -E 'rekey|warn|error' "$log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
		return 1
	fi
	pass "$T $name: $n rekeys (key ids $(grep -o '"type":"rekey".*"keyId":[0-9]*' "$log" | sed 's/.*"keyId"://' | tail -"$n" | tr '\n' ' ' | sed 's/ $//'))"
	local r total outside after windows sent
	r=$(python3 $KSTATE loss "$out" "$log")
	read -r total outside after windows <<<"$r"
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$out")
	if [ "${outside:-x}" = 0 ] && [ "${after:-0}" -ge 5 ]; then
		pass "$T $name: pings continue across rekeys ($sent sent, $total lost, none outside the $windows transitions, $after answered after the last)"
	else
		fail "$T $name: pings across rekeys" "lost $total ($outside outside $windows transitions), $after answered after the last swap; $(tail -2 "$out" | tr '\n' ' ')"
	fi
}

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
			last=$(grep -o '"type":"rekey".*"keyId":[0-9]*' "$WORK/ks.log" | tail -1 | sed 's/.*"keyId"://')
			k=$(ip netns exec $NS_S python3 $KSTATE key dvks0 "${sid:-0}" primary 2>&1)
			# A newer rekey may have swapped in between: accept the last id or the next (1..7, 1...).
			[ "$k" = "$last" ] || [ "$k" = $((last % 7 + 1)) ] &&
				pass "$T A: the kernel's primary key is the newest one (key id $k)" ||
				fail "$T A: kernel primary key after rekeys" "kernel has '$k', daemon swapped to $last"
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

# ============================================================================================
# B. kovpn client (kernel P2P device) -> stock openvpn server, CHACHA20-POLY1305
# ============================================================================================
ip netns exec $NS_S openvpn --disable-dco --verb 4 --mode server --tls-server --dev dvos0 --dev-type tun --proto udp4 \
	--port 1195 --server 10.215.2.0 255.255.255.0 --topology subnet --keepalive 2 20 --reneg-sec 8 \
	--data-ciphers CHACHA20-POLY1305 --ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none \
	>"$WORK/os.log" 2>&1 & PIDS+=($!); OS=$!
cat >"$WORK/client.conf" <<CONF
client
dev dvkc0
proto udp
remote $NET.1 1195
nobind
remote-cert-tls server
data-ciphers CHACHA20-POLY1305
reneg-sec 0
ca $WORK/ca.crt
cert $WORK/client.crt
key $WORK/client.key
CONF
if wait_log "$WORK/os.log" 'Initialization Sequence Completed' $W; then
	ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --datapath kernel --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
	if wait_log "$WORK/kc.log" '"type":"peer-up"' $W; then
		grep -q '"type":"peer-up".*"cipher":"CHACHA20-POLY1305"' "$WORK/kc.log" &&
			pass "$T B: kovpn client (kernel data path) connects to the openvpn server (CHACHA20-POLY1305)" ||
			fail "$T B: kovpn client connects with CHACHA20-POLY1305" "$(grep -m1 peer-up "$WORK/kc.log")"
		is_kernel_device $NS_C dvkc0 B
		pings "B: kovpn client pings the openvpn server through the kernel" $NS_C 10.215.2.1 5
		kp=$(ip netns exec $NS_C python3 $KSTATE peers dvkc0 2>&1)
		grep -q '"VPN_RX_PACKETS": [1-9]' <<<"$kp" && grep -q '"VPN_TX_PACKETS": [1-9]' <<<"$kp" &&
			pass "$T B: the kernel's peer counts the pings" || fail "$T B: kernel peer counters" "$kp"
		cpid=$(sed -n 's/.*"id": \([0-9]*\).*/\1/p' <<<"$kp")
		iperf "B: iperf3 openvpn server -> kovpn client through the kernel (-R)" $NS_S 10.215.2.1 $NS_C $NS_C dvkc0 -R

		if rekey_pings "B rekey (openvpn server initiates, reneg-sec 8)" $NS_C 10.215.2.1 "$WORK/kc.log" 2; then
			last=$(grep -o '"type":"rekey".*"keyId":[0-9]*' "$WORK/kc.log" | tail -1 | sed 's/.*"keyId"://')
			k=$(ip netns exec $NS_C python3 $KSTATE key dvkc0 "${cpid:-0}" primary 2>&1)
			[ "$k" = "$last" ] || [ "$k" = $((last % 7 + 1)) ] &&
				pass "$T B: the kernel's primary key is the newest one (key id $k)" ||
				fail "$T B: kernel primary key after rekeys" "kernel has '$k', daemon swapped to $last"
		fi
		# Stop just as openvpn starts its next soft reset: OpenVPN then reads control messages
		# only on the new key, so EXIT has to wait for it.
		n0=$(grep -c 'peer started rekey' "$WORK/kc.log")
		for ((i = 0; i < 150; i++)); do [ "$(grep -c 'peer started rekey' "$WORK/kc.log")" -gt "$n0" ] && break; sleep 0.1; done
		echo "[$(date +%T.%3N)] stopping the kovpn client (rekey in progress: $((i < 150)))"
		if stop_wait $KC 30; then pass "$T B: kovpn client stops on SIGTERM"; else fail "$T B: kovpn client stops on SIGTERM" "still running after 30 s"; fi
		if wait_log "$WORK/os.log" 'CC-EEN exit message received by peer' 15; then
			pass "$T B: openvpn server sees the kovpn client's EXIT (sent during a rekey)"
		else
			fail "$T B: openvpn server sees EXIT" "no CC-EEN in the server log: $(tail -2 "$WORK/os.log" | tr '\n' ' ' | cut -c1-300)"
		fi
	else
		fail "$T B: kovpn client connects to the openvpn server" "$(tail -3 "$WORK/kc.log" | tr '\n' ' ' | cut -c1-400)"
		stop_wait $KC 30
	fi
	no_ovpn_device $NS_C dvkc0 B
	no_errors "$WORK/kc.log" "B client"
else
	fail "$T B: openvpn server starts" "$(tail -2 "$WORK/os.log" | tr '\n' ' ')"
fi
stop_wait $OS 10

# ============================================================================================
# C. peer-to-peer TLS against stock openvpn, both TLS roles, kovpn on a kernel P2P device
# ============================================================================================
# p2p_ends role local-address: the TLS role of the far end and its address (10.215.3.1/.2).
p2p_far() { [ "$2" = 10.215.3.1 ] && echo 10.215.3.2 || echo 10.215.3.1; }
p2p_kovpn_conf() { # role dev local-address remote cipher cert port
	printf '%s\n' "dev $2" "proto udp" "port $7" "remote $4" "tls-$1" "ifconfig $3 $(p2p_far "$1" "$3")" \
		"remote-cert-tls $([ "$1" = client ] && echo server || echo client)" "data-ciphers $5" "keepalive 2 20" \
		"ca $WORK/ca.crt" "cert $WORK/$6.crt" "key $WORK/$6.key"
}
p2p_openvpn() { # ns role dev local-address remote cipher cert port log
	ip netns exec "$1" openvpn --disable-dco --verb 4 --dev "$3" --dev-type tun --proto udp4 --port "$8" --remote "$5" \
		--tls-"$2" --ifconfig "$4" "$(p2p_far "$2" "$4")" --remote-cert-tls "$([ "$2" = client ] && echo server || echo client)" \
		--data-ciphers "$6" --keepalive 2 20 --explicit-exit-notify 1 --dh none \
		--ca "$WORK/ca.crt" --cert "$WORK/$7.crt" --key "$WORK/$7.key" >"$WORK/$9" 2>&1 &
	PIDS+=($!)
}
# p2p_case name kovpn-ns kovpn-role kovpn-address openvpn-ns cipher port
p2p_case() {
	local name=$1 kns=$2 krole=$3 kaddr=$4 ons=$5 cipher=$6 port=$7 orole kremote oremote ko oo K O
	orole=$([ "$krole" = client ] && echo server || echo client)
	if [ "$kns" = "$NS_S" ]; then kremote=$NET.2 oremote=$NET.1; else kremote=$NET.1 oremote=$NET.2; fi
	ko=$WORK/p2p-k$krole.log oo=p2p-o$orole.log
	p2p_kovpn_conf "$krole" dvkp0 "$kaddr" "$kremote" "$cipher" "$([ "$krole" = client ] && echo client || echo server)" "$port" >"$WORK/p2p-$krole.conf"
	p2p_openvpn "$ons" "$orole" dvop0 "$(p2p_far "$krole" "$kaddr")" "$oremote" "$cipher" "$([ "$orole" = client ] && echo client || echo server)" "$port" "$oo"
	O=$!
	ip netns exec "$kns" bin/kovpn up "$WORK/p2p-$krole.conf" --datapath kernel --log-level info >"$ko" 2>&1 & PIDS+=($!); K=$!
	if wait_log "$ko" '"type":"peer-up"' $W && wait_log "$WORK/$oo" 'Initialization Sequence Completed' 30; then
		grep -q "\"type\":\"peer-up\".*\"cipher\":\"$cipher\"" "$ko" &&
			pass "$T $name: kovpn tls-$krole (kernel P2P device) <-> openvpn tls-$orole up ($cipher)" ||
			fail "$T $name: up with $cipher" "$(grep -m1 peer-up "$ko" | cut -c1-300)"
		is_kernel_device "$kns" dvkp0 "$name"
		pings "$name: kovpn pings openvpn through the kernel" "$kns" "$(p2p_far "$krole" "$kaddr")" 3
		pings "$name: openvpn pings kovpn through the kernel" "$ons" "$kaddr" 3
		if [ "$krole" = server ]; then # the openvpn end stops: kovpn sees its EXIT
			stop_wait $O 20
			wait_log "$ko" '"type":"peer-down".*EXIT' 30 && pass "$T $name: kovpn sees openvpn's EXIT" ||
				fail "$T $name: kovpn sees EXIT" "$(grep -E 'peer-down|EXIT' "$ko" | tail -2 | tr '\n' ' ' | cut -c1-300)"
			stop_wait $K 30 || fail "$T $name: kovpn stops on SIGTERM" "still running after 30 s"
		else # the kovpn end stops: openvpn sees its EXIT
			stop_wait $K 30 || fail "$T $name: kovpn stops on SIGTERM" "still running after 30 s"
			wait_log "$WORK/$oo" 'exit message received by peer' 15 && pass "$T $name: openvpn sees kovpn's EXIT" ||
				fail "$T $name: openvpn sees EXIT" "$(tail -2 "$WORK/$oo" | tr '\n' ' ' | cut -c1-300)"
			stop_wait $O 20
		fi
	else
		fail "$T $name: kovpn tls-$krole <-> openvpn tls-$orole up" "$(tail -2 "$ko" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/$oo" | tr '\n' ' ' | cut -c1-200)"
		stop_wait $K 30; stop_wait $O 20
	fi
	no_ovpn_device "$kns" dvkp0 "$name"
	no_errors "$ko" "$name"
}
p2p_case "C1 p2p" $NS_S server 10.215.3.1 $NS_C AES-256-GCM 1196
p2p_case "C2 p2p" $NS_C client 10.215.3.2 $NS_S CHACHA20-POLY1305 1197

# ============================================================================================
# D. kovpn <-> kovpn, pre-shared-key mode, both on the kernel path
# ============================================================================================
openssl rand -hex 32 >"$WORK/psk.key"
# psk_pair tag port subnet keepalive: a kovpn server and client in PSK mode on the kernel path,
# devices dv<tag>s0/dv<tag>c0, logs $WORK/<tag>-s.log and <tag>-c.log; PAIR_S, PAIR_C: their pids.
psk_pair() {
	printf '%s\n' "port $2" "dev dv$1s0" "server $3.0 255.255.255.0" "topology subnet" "keepalive $4" \
		"kovpn-psk $WORK/psk.key" >"$WORK/$1-server.conf"
	printf '%s\n' client "dev dv$1c0" "remote $NET.1 $2" "kovpn-psk $WORK/psk.key" >"$WORK/$1-client.conf"
	ip netns exec $NS_S bin/kovpn up "$WORK/$1-server.conf" --datapath kernel --log-level info >"$WORK/$1-s.log" 2>&1 & PIDS+=($!); PAIR_S=$!
	ip netns exec $NS_C bin/kovpn up "$WORK/$1-client.conf" --datapath kernel --log-level info >"$WORK/$1-c.log" 2>&1 & PIDS+=($!); PAIR_C=$!
}
psk_pair p 1198 10.215.4 "2 20"
PS=$PAIR_S PC=$PAIR_C
if wait_log "$WORK/p-c.log" '"type":"peer-up"' $W && wait_log "$WORK/p-s.log" '"type":"peer-up"' 30; then
	pass "$T D: kovpn client and server connect with a pre-shared key"
	is_kernel_device $NS_S dvps0 D
	is_kernel_device $NS_C dvpc0 D
	pings "D: psk client pings the server through the kernel" $NS_C 10.215.4.1 3
	pings "D: psk server pings the client through the kernel" $NS_S 10.215.4.2 3
	iperf "D: iperf3 psk client -> server through the kernel" $NS_S 10.215.4.1 $NS_C $NS_S dvps0
	stop_wait $PC 30 || fail "$T D: psk client stops on SIGTERM" "still running after 30 s"
	if wait_log "$WORK/p-s.log" '"type":"peer-down".*EXIT' 30; then
		sleep 0.5
		kp=$(ip netns exec $NS_S python3 $KSTATE peers dvps0 2>&1)
		[ "$kp" = "[]" ] && pass "$T D: the client's EXIT removes its peer from the server's kernel device" ||
			fail "$T D: peer removed after EXIT" "kernel still has $kp"
	else
		fail "$T D: server sees the client's EXIT" "$(grep -E 'peer-down|EXIT' "$WORK/p-s.log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
	fi
else
	fail "$T D: psk client and server connect" "$(tail -2 "$WORK/p-c.log" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/p-s.log" | tr '\n' ' ' | cut -c1-300)"
	stop_wait $PC 30
fi
stop_wait $PS 30 || fail "$T D: psk server stops on SIGTERM" "still running after 30 s"
no_ovpn_device $NS_S dvps0 D
no_ovpn_device $NS_C dvpc0 D
no_errors "$WORK/p-s.log" "D server"
no_errors "$WORK/p-c.log" "D client"

# ============================================================================================
# E. early rekey on KEY_SWAP_NTF (test build of the module: every key starts at 2^32-2)
# ============================================================================================
PKTID_KO=${KOVPN_PKTID_KO:-tests/kmod/.build-pktid/ovpn.ko}
MAIN_KO=${KOVPN_KMOD:-kmod/ovpn.ko}
if [ ! -f "$PKTID_KO" ]; then
	fail "$T E: test build of the module" "missing $PKTID_KO (tests/kmod/build-test-module.sh builds it)"
elif ! rmmod ovpn 2>"$WORK/rmmod.err" || ! insmod "$PKTID_KO" 2>"$WORK/insmod.err"; then
	fail "$T E: swap in the test build" "$(cat "$WORK/rmmod.err" "$WORK/insmod.err" | tr '\n' ' ')"
else
	# keepalive 10 60: the keepalives must not use up a key's two packets before the pings do.
	psk_pair e 1199 10.215.5 "10 60"
	XS=$PAIR_S XC=$PAIR_C
	if wait_log "$WORK/e-c.log" '"type":"peer-up"' $W && wait_log "$WORK/e-s.log" '"type":"peer-up"' 30; then
		# Two pings use the key's two packet ids in each direction; the third exhausts it.
		for i in 1 2 3; do ip netns exec $NS_C ping -c 1 -W 2 10.215.5.1 >>"$WORK/ex-ping.out" 2>&1; done
		if wait_log "$WORK/e-c.log" 'rekey to key id [1-7] \(key-swap-needed\)' 30 ||
			grep -qE 'rekey to key id [1-7] \(key-swap-needed\)' "$WORK/e-s.log"; then
			pass "$T E: the kernel's KEY_SWAP_NTF starts an early rekey ($(grep -ohE 'rekey to key id [1-7] \(key-swap-needed\)' "$WORK/e-c.log" "$WORK/e-s.log" | head -1))"
			if wait_log "$WORK/e-c.log" '"type":"rekey"' $W; then
				pass "$T E: the new key is installed and swapped in (key id $(grep -o '"type":"rekey".*"keyId":[0-9]*' "$WORK/e-c.log" | head -1 | sed 's/.*"keyId"://'))"
				# The new key has two packet ids again (and a later rekey more): one echo must pass.
				ok=0
				for ((i = 0; i < 10 && !ok; i++)); do
					ip netns exec $NS_C ping -c 1 -W 3 10.215.5.1 >>"$WORK/ex-ping.out" 2>&1 && ok=1
				done
				((ok)) && pass "$T E: traffic flows on the new key after the early rekey" ||
					fail "$T E: traffic after the early rekey" "10 pings unanswered; $(grep -cE 'rekey' "$WORK/e-c.log") rekey lines in the client log"
			else
				fail "$T E: new key swapped in" "$(grep -E 'rekey|warn|error' "$WORK/e-c.log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
			fi
		else
			fail "$T E: KEY_SWAP_NTF starts an early rekey" "no key-swap-needed rekey: $(tail -2 "$WORK/e-c.log" | tr '\n' ' ' | cut -c1-300)"
		fi
	else
		fail "$T E: psk client and server connect (test build)" "$(tail -2 "$WORK/e-c.log" | tr '\n' ' ' | cut -c1-300)"
	fi
	stop_wait $XC 30 || fail "$T E: client stops on SIGTERM" "still running after 30 s"
	stop_wait $XS 30 || fail "$T E: server stops on SIGTERM" "still running after 30 s"
	no_errors "$WORK/e-s.log" "E server"
	no_errors "$WORK/e-c.log" "E client"
	rmmod ovpn 2>/dev/null
	insmod "$MAIN_KO" 2>"$WORK/insmod.err" || fail "$T E: the module under test back in place" "$(cat "$WORK/insmod.err")"
fi

echo "interop-vm: $(($(date +%s) - START)) s"
# The logs, next to the results of a VM run (the guest's /tmp is gone after it).
case $KOVPN_RESULTS in /dev/null) ;; *) d="$(dirname "$KOVPN_RESULTS")/interop-vm"; mkdir -p "$d" && cp "$WORK"/*.log "$WORK"/*.out "$d"/ 2>/dev/null ;; esac
if [ -n "${DV_DEBUG:-}" ] || [ "${KOVPN_FAILED:-0}" != 0 ]; then
	for f in "$WORK"/*.log; do echo "=== $f"; tail -n "${DV_TAIL:-25}" "$f"; done
fi
exit 0
