#!/usr/bin/env bash
# Control-channel wrapping against stock OpenVPN 2.6 (--disable-dco), `kovpn up` on the
# userspace data path, both roles, with key files made by stock `openvpn --genkey` in the
# configuration shapes OpenVPN documents:
#   tls-crypt; tls-auth with key-direction and `auth SHA256` (inline <tls-auth> on the kovpn
#   client); tls-crypt-v2 with user metadata (the stock server's tls-crypt-v2-verify script
#   sees kovpn's metadata; the kovpn server logs and shows the stock client's).
# Keys made by `kovpn genkey` in stock openvpn, both roles. Then mismatched keys: the kovpn server logs "packet failed tls-crypt from ADDR" (error level,
# rate-limited) and counts the drops; the kovpn client says "no answer from the server: wrong
# tls-crypt key or server down" after its hand-window.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-ws NS_C=dm-wc NET=10.77.9
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "tls-wrap: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "tls-wrap: PKI" "openssl failed"; exit 1; }

openvpn --genkey secret "$WORK/ta.key" >/dev/null 2>&1 &&
	openvpn --genkey secret "$WORK/other.key" >/dev/null 2>&1 &&
	openvpn --genkey tls-crypt-v2-server "$WORK/v2-server.key" >/dev/null 2>&1 &&
	openvpn --tls-crypt-v2 "$WORK/v2-server.key" --genkey tls-crypt-v2-client "$WORK/v2-client.key" "$(printf 'dm-client-42' | base64)" >/dev/null 2>&1 ||
	{ fail "tls-wrap: openvpn --genkey" "stock openvpn could not make the keys"; exit 1; }
META_B64=$(printf 'dm-client-42' | base64)
# The stock server's tls-crypt-v2-verify script: records what OpenVPN hands it.
cat >"$WORK/v2-verify.sh" <<-'SH'
#!/bin/sh
{ echo "metadata_type=$metadata_type"; printf 'metadata='; base64 -w0 <"$metadata_file"; echo; } >>"$(dirname "$0")/v2-verify.out"
exit 0
SH
chmod +x "$WORK/v2-verify.sh"

PORT=1200
# rekeyed NAME LOG PINGDST: a rekey (soft reset, wrapped like every control packet) is seen in
# the kovpn log and traffic flows on the new key.
rekeyed() {
	if wait_log "$2" '"type":"rekey"' 30; then
		check "tls-wrap $1: rekey under the wrapping, ping on the new key" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 2 "$3"
	else
		fail "tls-wrap $1: rekey under the wrapping" "no rekey event: $(grep -E 'warn|error' "$2" | tail -2 | tr '\n' ' ')"
	fi
}

# kovpn_client_vs_openvpn NAME "openvpn server args" "kovpn client conf lines" [rekey]
kovpn_client_vs_openvpn() {
	local name=$1 sargs=$2 clines=$3 R=$WORK/c-$1 port=$((PORT++))
	mkdir -p "$R"
	# shellcheck disable=SC2086
	ip netns exec $NS_S openvpn --disable-dco --verb 4 --mode server --tls-server --dev dmws0 --dev-type tun \
		--proto udp4 --port $port --server 10.214.9.0 255.255.255.0 --topology subnet --keepalive 2 20 \
		--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none $sargs \
		>"$R/ovpn-server.log" 2>&1 &
	local OVS=$!; PIDS+=($OVS)
	printf 'client\ndev dmwc0\nproto udp\nremote %s.1 %s\nnobind\nremote-cert-tls server\nca %s\ncert %s\nkey %s\n%s\n' \
		"$NET" $port "$WORK/ca.crt" "$WORK/client.crt" "$WORK/client.key" "$clines" >"$R/client.conf"
	if wait_log "$R/ovpn-server.log" 'Initialization Sequence Completed' 20; then
		ip netns exec $NS_C bin/kovpn up "$R/client.conf" --log-level debug >"$R/kovpn-client.log" 2>&1 &
		local KC=$!; PIDS+=($KC)
		if wait_log "$R/kovpn-client.log" '"type":"peer-up"' 30; then
			pass "tls-wrap $name: kovpn client connects to openvpn server"
			check "tls-wrap $name: ping through kovpn client -> openvpn server" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.9.1
			st=$(ip netns exec $NS_C bin/kovpn status --dev dmwc0 2>&1)
			grep -q ", ${name%% *} (0 packets failed it)" <<<"$st" && pass "tls-wrap $name: kovpn client status names the wrapping" ||
				fail "tls-wrap $name: kovpn client status" "$st"
			[ -n "${4:-}" ] && rekeyed "$name" "$R/kovpn-client.log" 10.214.9.1
		else
			fail "tls-wrap $name: kovpn client connects to openvpn server" "$(tail -3 "$R/kovpn-client.log" | tr '\n' ' ') | $(grep -E 'Error|error' "$R/ovpn-server.log" | tail -2 | tr '\n' ' ')"
		fi
		stop_pid $KC
	else
		fail "tls-wrap $name: openvpn server starts" "$(tail -2 "$R/ovpn-server.log" | tr '\n' ' ')"
	fi
	stop_pid $OVS
	LAST=$R
}

# openvpn_client_vs_kovpn NAME "kovpn server conf lines" "openvpn client args" [rekey]
openvpn_client_vs_kovpn() {
	local name=$1 slines=$2 cargs=$3 R=$WORK/s-$1 port=$((PORT++))
	mkdir -p "$R"
	printf 'port %s\nproto udp\ndev dmws1\nca %s\ncert %s\nkey %s\nserver 10.214.10.0 255.255.255.0\ntopology subnet\nkeepalive 2 20\n%s\n' \
		$port "$WORK/ca.crt" "$WORK/server.crt" "$WORK/server.key" "$slines" >"$R/server.conf"
	ip netns exec $NS_S bin/kovpn up "$R/server.conf" --log-level debug >"$R/kovpn-server.log" 2>&1 &
	local KS=$!; PIDS+=($KS)
	if wait_log "$R/kovpn-server.log" '"type":"tunnel-up"' 20; then
		# shellcheck disable=SC2086
		ip netns exec $NS_C openvpn --disable-dco --verb 4 --client --dev dmwc1 --dev-type tun --proto udp4 \
			--remote $NET.1 $port --nobind --remote-cert-tls server \
			--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" $cargs >"$R/ovpn-client.log" 2>&1 &
		local OVC=$!; PIDS+=($OVC)
		if wait_log "$R/ovpn-client.log" 'Initialization Sequence Completed' 30; then
			pass "tls-wrap $name: openvpn client connects to kovpn server"
			check "tls-wrap $name: ping through openvpn client -> kovpn server" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.10.1
			[ -n "${4:-}" ] && rekeyed "$name" "$R/kovpn-server.log" 10.214.10.1
			ST=$(ip netns exec $NS_S bin/kovpn status --dev dmws1 2>&1)
		else
			fail "tls-wrap $name: openvpn client connects to kovpn server" "$(grep -E 'Error|error|failed' "$R/ovpn-client.log" | tail -2 | tr '\n' ' ') | $(tail -2 "$R/kovpn-server.log" | tr '\n' ' ')"
			ST=
		fi
		stop_pid $OVC
	else
		fail "tls-wrap $name: kovpn server starts" "$(tail -3 "$R/kovpn-server.log" | tr '\n' ' ')"
	fi
	stop_pid $KS
	LAST=$R
}

# --- tls-crypt ------------------------------------------------------------------------------
kovpn_client_vs_openvpn "tls-crypt" "--tls-crypt $WORK/ta.key" "tls-crypt $WORK/ta.key"
openvpn_client_vs_kovpn "tls-crypt" "tls-crypt $WORK/ta.key" "--tls-crypt $WORK/ta.key"
grep -q ', tls-crypt (0 packets failed it)' <<<"$ST" && pass "tls-wrap tls-crypt: kovpn server status names the wrapping" ||
	fail "tls-wrap tls-crypt: kovpn server status" "$ST"

# --- tls-auth, key-direction, auth SHA256 ---------------------------------------------------
# The stock server rekeys after 5 s: its soft reset comes wrapped with tls-auth.
kovpn_client_vs_openvpn "tls-auth SHA256" "--tls-auth $WORK/ta.key 0 --auth SHA256 --reneg-sec 5" \
	"$(printf 'auth SHA256\nkey-direction 1\n<tls-auth>\n%s\n</tls-auth>' "$(cat "$WORK/ta.key")")" rekey
openvpn_client_vs_kovpn "tls-auth SHA256" "$(printf 'tls-auth %s 0\nauth SHA256' "$WORK/ta.key")" "--tls-auth $WORK/ta.key 1 --auth SHA256"

# --- tls-crypt-v2 with metadata ---------------------------------------------------------------
rm -f "$WORK/v2-verify.out"
kovpn_client_vs_openvpn "tls-crypt-v2" "--tls-crypt-v2 $WORK/v2-server.key --script-security 2 --tls-crypt-v2-verify $WORK/v2-verify.sh" \
	"tls-crypt-v2 $WORK/v2-client.key"
if grep -q '^metadata_type=0$' "$WORK/v2-verify.out" 2>/dev/null && grep -q "^metadata=$META_B64\$" "$WORK/v2-verify.out"; then
	pass "tls-wrap tls-crypt-v2: openvpn server's verify script sees the kovpn client's metadata"
else
	fail "tls-wrap tls-crypt-v2: metadata at the openvpn server" "$(tr '\n' ' ' <"$WORK/v2-verify.out" 2>/dev/null)"
fi
# The kovpn server rekeys after 5 s, its soft reset wrapped with the client's own key.
openvpn_client_vs_kovpn "tls-crypt-v2" "$(printf 'tls-crypt-v2 %s\nreneg-sec 5' "$WORK/v2-server.key")" "--tls-crypt-v2 $WORK/v2-client.key" rekey
if grep -q "tls-crypt-v2 client key metadata: type 0, user $META_B64" "$LAST/kovpn-server.log" && grep -q "tls-crypt-v2 metadata: user $META_B64" <<<"$ST"; then
	pass "tls-wrap tls-crypt-v2: kovpn server logs and shows the openvpn client's metadata"
else
	fail "tls-wrap tls-crypt-v2: metadata at the kovpn server" "$(grep -c metadata "$LAST/kovpn-server.log") log lines; status: $ST"
fi

# --- keys made by `kovpn genkey`, read by stock openvpn ------------------------------------
if bin/kovpn genkey tls-crypt "$WORK/k-ta.key" && bin/kovpn genkey tls-crypt-v2-server "$WORK/k-v2s.key" &&
	bin/kovpn genkey tls-crypt-v2-client "$WORK/k-v2c.key" --server-key "$WORK/k-v2s.key" --metadata "$META_B64" &&
	bin/kovpn genkey tls-crypt-v2-client "$WORK/k-v2c-time.key" --server-key "$WORK/k-v2s.key"; then
	pass "tls-wrap genkey: kovpn genkey makes tls-crypt and tls-crypt-v2 keys"
else
	fail "tls-wrap genkey: kovpn genkey" "a key could not be made"
fi
# Stock openvpn unwraps a client key it makes as a self-test: so this reads kovpn's server key.
openvpn --tls-crypt-v2 "$WORK/k-v2s.key" --genkey tls-crypt-v2-client "$WORK/o-from-k.key" >"$WORK/o-from-k.log" 2>&1 &&
	pass "tls-wrap genkey: stock openvpn makes a client key from kovpn's server key" ||
	fail "tls-wrap genkey: stock openvpn reads kovpn's server key" "$(tail -1 "$WORK/o-from-k.log")"
# The stock server with kovpn's tls-crypt key; the stock client with kovpn's v2 client key.
kovpn_client_vs_openvpn "tls-crypt (kovpn genkey)" "--tls-crypt $WORK/k-ta.key" "tls-crypt $WORK/k-ta.key"
rm -f "$WORK/v2-verify.out"
kovpn_client_vs_openvpn "tls-crypt-v2 (kovpn genkey)" "--tls-crypt-v2 $WORK/k-v2s.key --script-security 2 --tls-crypt-v2-verify $WORK/v2-verify.sh" \
	"tls-crypt-v2 $WORK/k-v2c-time.key"
grep -q '^metadata_type=1$' "$WORK/v2-verify.out" 2>/dev/null &&
	pass "tls-wrap genkey: stock server sees the timestamp metadata (type 1) of a kovpn client key" ||
	fail "tls-wrap genkey: timestamp metadata" "$(tr '\n' ' ' <"$WORK/v2-verify.out" 2>/dev/null)"
openvpn_client_vs_kovpn "tls-crypt-v2 (kovpn genkey)" "tls-crypt-v2 $WORK/k-v2s.key" "--tls-crypt-v2 $WORK/k-v2c.key"
grep -q "tls-crypt-v2 client key metadata: type 0, user $META_B64" "$LAST/kovpn-server.log" &&
	pass "tls-wrap genkey: stock client with a kovpn client key, metadata seen by the kovpn server" ||
	fail "tls-wrap genkey: stock client with a kovpn client key" "no metadata line"

# --- mismatched keys -------------------------------------------------------------------------
R=$WORK/mismatch-s; mkdir -p "$R"
printf 'port 1290\nproto udp\ndev dmws2\nca %s\ncert %s\nkey %s\nserver 10.214.11.0 255.255.255.0\ntopology subnet\ntls-crypt %s\n' \
	"$WORK/ca.crt" "$WORK/server.crt" "$WORK/server.key" "$WORK/ta.key" >"$R/server.conf"
ip netns exec $NS_S bin/kovpn up "$R/server.conf" --log-level info >"$R/kovpn-server.log" 2>&1 &
KS=$!; PIDS+=($KS)
if wait_log "$R/kovpn-server.log" '"type":"tunnel-up"' 20; then
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dmwc2 --dev-type tun --proto udp4 \
		--remote $NET.1 1290 --nobind --remote-cert-tls server --hand-window 8 --connect-retry 1 \
		--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" --tls-crypt "$WORK/other.key" >"$R/ovpn-client.log" 2>&1 &
	OVC=$!; PIDS+=($OVC)
	if wait_log "$R/kovpn-server.log" "kovpn error: packet failed tls-crypt from $NET.2:[0-9]+" 20; then
		pass "tls-wrap mismatch: kovpn server logs 'packet failed tls-crypt from ADDR' at error level"
	else
		fail "tls-wrap mismatch: kovpn server log" "$(tail -2 "$R/kovpn-server.log" | tr '\n' ' ')"
	fi
	st=$(ip netns exec $NS_S bin/kovpn status --dev dmws2 2>&1)
	if grep -qE ', tls-crypt \([1-9][0-9]* packets failed it\)' <<<"$st" && grep -q '0 peer(s)' <<<"$st"; then
		pass "tls-wrap mismatch: kovpn server counts the drops and has no session"
	else
		fail "tls-wrap mismatch: kovpn server status" "$st"
	fi
	stop_pid $OVC
else
	fail "tls-wrap mismatch: kovpn server starts" "$(tail -3 "$R/kovpn-server.log" | tr '\n' ' ')"
fi
stop_pid $KS

R=$WORK/mismatch-c; mkdir -p "$R"
ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev dmws3 --dev-type tun \
	--proto udp4 --port 1291 --server 10.214.12.0 255.255.255.0 --topology subnet \
	--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none --tls-crypt "$WORK/ta.key" \
	>"$R/ovpn-server.log" 2>&1 &
OVS=$!; PIDS+=($OVS)
printf 'client\ndev dmwc3\nproto udp\nremote %s.1 1291\nnobind\nremote-cert-tls server\nhand-window 5\nca %s\ncert %s\nkey %s\ntls-crypt %s\n' \
	"$NET" "$WORK/ca.crt" "$WORK/client.crt" "$WORK/client.key" "$WORK/other.key" >"$R/client.conf"
if wait_log "$R/ovpn-server.log" 'Initialization Sequence Completed' 20; then
	ip netns exec $NS_C bin/kovpn up "$R/client.conf" --log-level info >"$R/kovpn-client.log" 2>&1 &
	KC=$!; PIDS+=($KC)
	if wait_log "$R/kovpn-client.log" 'kovpn error: no answer from the server: wrong tls-crypt key or server down' 30; then
		pass "tls-wrap mismatch: kovpn client says 'no answer from the server: wrong tls-crypt key or server down'"
	else
		fail "tls-wrap mismatch: kovpn client message" "$(tail -3 "$R/kovpn-client.log" | tr '\n' ' ')"
	fi
	grep -q 'tls-crypt unwrapping failed' "$R/ovpn-server.log" && pass "tls-wrap mismatch: openvpn server drops the kovpn client's packets (tls-crypt unwrapping failed)" ||
		fail "tls-wrap mismatch: openvpn server log" "no 'tls-crypt unwrapping failed'"
	stop_pid $KC
else
	fail "tls-wrap mismatch: openvpn server starts" "$(tail -2 "$R/ovpn-server.log" | tr '\n' ' ')"
fi
stop_pid $OVS
[ -n "${DM_DEBUG:-}" ] && tail -n 40 "$WORK"/*/*.log
exit 0
