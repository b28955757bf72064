#!/usr/bin/env bash
# Failures a user can act on: within seconds, one line at error level saying why, and the exit
# status; kovpn (userspace path) against stock OpenVPN 2.6, in namespaces dm-fl*:
#   kovpn client -> openvpn server: server certificate refused by CA, CRL, EKU, name; no shared
#   cipher; AUTH_FAILED (exit 1; with auth-retry nointeract it retries); server unreachable
#   (connect-timeout, connect-retry, connect-retry-max: exit 1, device removed)
#   openvpn client -> kovpn server: client certificate refused by CA, CRL (error level)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-fls NS_C=dm-flc NET=10.77.17
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "failures: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki revoked || { fail "failures: PKI" "openssl failed"; exit 1; }
mkdir -p "$WORK/ccd-empty"

# ovpn_server NAME PORT EXTRA...: stock server in $NS_S, pid in $OVS
ovpn_server() {
	local n=$1 port=$2; shift 2
	ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev "dmfl$port" --dev-type tun \
		--proto udp4 --port "$port" --server 10.214.17.0 255.255.255.0 --topology subnet --keepalive 2 20 \
		--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none "$@" >"$WORK/$n.log" 2>&1 &
	OVS=$!; PIDS+=($OVS)
	wait_log "$WORK/$n.log" 'Initialization Sequence Completed' 20 ||
		{ fail "failures: openvpn server $n starts" "$(tail -2 "$WORK/$n.log" | tr '\n' ' ')"; return 1; }
}
# kovpn_client NAME PORT EXTRA-LINES: kovpn client in $NS_C logging to $WORK/NAME.log, pid in $KC
kovpn_client() {
	printf 'client\ndev dmflc0\nproto udp\nremote %s.1 %s\nnobind\nca %s/ca.crt\ncert %s/client.crt\nkey %s/client.key\n%s\n' \
		"$NET" "$2" "$WORK" "$WORK" "$WORK" "$3" >"$WORK/$1.conf"
	ip netns exec $NS_C bin/kovpn up "$WORK/$1.conf" --log-level info >"$WORK/$1.log" 2>&1 &
	KC=$!; PIDS+=($KC)
}
# expect_error NAME REGEX SECONDS: an error-level line matching REGEX in NAME's log in time
expect_error() {
	local t0=$SECONDS
	if wait_log "$WORK/$1.log" "kovpn error: .*$2" "$3"; then
		pass "failures $1: one error line within $((SECONDS - t0)) s: $(grep -E "kovpn error: .*$2" "$WORK/$1.log" | head -1 | sed 's/.*kovpn error: //' | cut -c1-110)"
	else
		fail "failures $1: error line /$2/" "$(grep -E 'error|warn' "$WORK/$1.log" | tail -2 | tr '\n' ' ')"
	fi
}
# expect_exit NAME STATUS SECONDS: the client exits by itself with STATUS in time
expect_exit() {
	local i rc
	for ((i = 0; i < $3 * 10; i++)); do kill -0 "$KC" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$KC" 2>/dev/null; then
		fail "failures $1: exits by itself" "still running after $3 s"
		stop_pid "$KC"
		return
	fi
	wait "$KC"; rc=$?
	[ $rc -eq "$2" ] && pass "failures $1: exits with status $rc" || fail "failures $1: exit status" "$rc, expected $2"
}

# --- the server's certificate, refused by the client ---------------------------------------------
ovpn_server srv 1194 --data-ciphers AES-256-GCM || exit 1
revoke server
revoke revoked
kovpn_client ca 1194 "ca $WORK/other-ca.crt"
expect_error ca 'peer certificate refused \(CA: [^)]*configured `ca`\)' 10
stop_pid $KC
kovpn_client crl 1194 "crl-verify $WORK/ca.crl"
expect_error crl 'peer certificate refused \(CRL: revoked' 10
stop_pid $KC
kovpn_client eku 1194 'remote-cert-tls client'
expect_error eku 'peer certificate refused.*(EKU|purpose)' 10
stop_pid $KC
kovpn_client name 1194 'verify-x509-name dm-elsewhere name'
expect_error name "peer certificate refused \(name\): certificate name 'dm-server' does not match verify-x509-name 'dm-elsewhere'" 10
stop_pid $KC
for n in ca crl eku name; do
	c=$(grep -c 'kovpn error:' "$WORK/$n.log")
	# one line per attempt: the refusal, nothing else at error level
	[ "$(grep -c 'kovpn error: .*refused' "$WORK/$n.log")" -eq "$c" ] && pass "failures $n: every error line is the refusal ($c)" ||
		fail "failures $n: error lines" "$(grep 'kovpn error:' "$WORK/$n.log" | tr '\n' ' ')"
done

# --- no shared cipher: the server answers AUTH_FAILED ----------------------------------------------
kovpn_client cipher 1194 'data-ciphers CHACHA20-POLY1305'
expect_error cipher 'refused us: AUTH_FAILED.*(cipher|Cipher)' 15
expect_exit cipher 1 15
stop_pid $OVS

# --- AUTH_FAILED (ccd-exclusive, no record for the client) ------------------------------------------
ovpn_server auth 1196 --ccd-exclusive --client-config-dir "$WORK/ccd-empty" || exit 1
kovpn_client authfail 1196 ''
expect_error authfail 'refused us: AUTH_FAILED.*exiting \(auth-retry none' 15
expect_exit authfail 1 15
ip netns exec $NS_C ip link show dmflc0 >/dev/null 2>&1 && fail "failures authfail: device removed on exit" "dmflc0 still exists" ||
	pass "failures authfail: device removed on exit"
kovpn_client authretry 1196 $'auth-retry nointeract\nconnect-retry 1'
n_auth() { grep -c 'kovpn error: .*AUTH_FAILED.*retrying (auth-retry nointeract)' "$WORK/authretry.log"; }
for ((i = 0; i < 200; i++)); do [ "$(n_auth)" -ge 2 ] && break; sleep 0.1; done
if [ "$(n_auth)" -ge 2 ] && kill -0 $KC 2>/dev/null; then
	pass "failures authretry: with auth-retry nointeract AUTH_FAILED is retried ($(n_auth) times), the daemon keeps running"
else
	fail "failures authretry: auth-retry nointeract" "$(grep -E 'error|warn' "$WORK/authretry.log" | tail -3 | tr '\n' ' ')"
fi
stop_pid $KC
stop_pid $OVS

# --- server unreachable ------------------------------------------------------------------------------
t0=$SECONDS
kovpn_client unreachable 1999 $'connect-timeout 2\nconnect-retry 1\nconnect-retry-max 2'
expect_error unreachable "no answer from $NET.1:1999 within 2 s \(connect-timeout\)" 10
expect_exit unreachable 1 20
grep -q 'kovpn error: 2 connection attempts failed (connect-retry-max 2): exiting' "$WORK/unreachable.log" &&
	pass "failures unreachable: gives up after connect-retry-max 2 attempts ($((SECONDS - t0)) s)" ||
	fail "failures unreachable: connect-retry-max" "$(grep 'kovpn error' "$WORK/unreachable.log" | tr '\n' ' ')"
ip netns exec $NS_C ip link show dmflc0 >/dev/null 2>&1 && fail "failures unreachable: device removed on exit" "dmflc0 still exists" ||
	pass "failures unreachable: device removed on exit"

# --- the client's certificate, refused by a kovpn server -----------------------------------------------
printf 'port 1197\nproto udp\ndev dmflks0\nca %s/ca.crt\ncert %s/server.crt\nkey %s/server.key\ncrl-verify %s/ca.crl\nserver 10.214.18.0 255.255.255.0\n' \
	"$WORK" "$WORK" "$WORK" "$WORK" >"$WORK/kserver.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/kserver.conf" --log-level info >"$WORK/kserver.log" 2>&1 &
KS=$!; PIDS+=($KS)
if wait_log "$WORK/kserver.log" '"type":"tunnel-up"' 20; then
	for who in stranger revoked; do
		n=$(grep -c 'kovpn error:' "$WORK/kserver.log")
		ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dmflc1 --dev-type tun --proto udp4 --remote $NET.1 1197 \
			--nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/$who.crt" --key "$WORK/$who.key" >"$WORK/ovc-$who.log" 2>&1 &
		OVC=$!; PIDS+=($OVC)
		[ $who = stranger ] && re='peer certificate refused \(CA: ' || re='peer certificate refused \(CRL: revoked'
		t0=$SECONDS
		if wait_log "$WORK/kserver.log" "kovpn error: .*$re" 10; then
			pass "failures server-$who: kovpn server logs the refusal at error level within $((SECONDS - t0)) s"
		else
			fail "failures server-$who: refusal at error level" "$(tail -2 "$WORK/kserver.log" | tr '\n' ' ')"
		fi
		stop_pid $OVC
	done
else
	fail "failures: kovpn server starts" "$(tail -3 "$WORK/kserver.log" | tr '\n' ' ')"
fi
stop_pid $KS
exit 0
