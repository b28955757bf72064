#!/usr/bin/env bash
# Username/password authentication against stock OpenVPN 2.6 (userspace path), namespaces dm-au*:
#   kovpn client -> openvpn server with auth-user-pass-verify via-file and via-env: good password
#     (file, inline block) connects and pings, bad password -> AUTH_FAILED error line, exit 1;
#     auth-retry nointeract retries; no file: asked on a terminal (a pty), without one an error
#     line; verify-client-cert none with a kovpn client without certificate; the password in no
#     log (verb 9) and not in `kovpn status --json`
#   openvpn client -> kovpn server with auth-user-pass-verify via-file and via-env: good/bad
#     password, the script's environment (username, password, common_name, untrusted_ip);
#     verify-client-cert none + username-as-common-name (common_name = username), optional (no
#     certificate fine, a foreign CA's refused); the password
#     checked again at renegotiation; a kovpn client against it
#   auth-gen-token on the openvpn server, reneg-sec 8, kovpn client with auth-nocache: the
#     password file is removed after the first connection, the renegotiation succeeds with the
#     token (the server's log says so); a token another server refuses: the password at once;
#     auth-nocache without a token and the file gone: the renegotiation fails, error line, exit 1
#   kovpn server whose data-ciphers share nothing with the stock client: the client gets
#     AUTH_FAILED, the server logs one error line
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-aus NS_C=dm-auc NET=10.77.29
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "auth-user-pass: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "auth-user-pass: PKI" "openssl failed"; exit 1; }

PASSWORD='s3cret-Pa55-xyzzy'
# The verify script: accepts alice/$PASSWORD; writes what it saw (env and via-file lines) to
# $WORK/seen-<n>.env, n counting up, so each run is kept.
cat >"$WORK/verify.sh" <<EOF
#!/bin/sh
n=\$(ls "$WORK" | grep -c '^seen-')
out="$WORK/seen-\$n.env"
env >"\$out"
if [ -n "\${1:-}" ]; then
	u=\$(sed -n 1p "\$1"); p=\$(sed -n 2p "\$1")
	echo "file_lines=\$(wc -l <"\$1")" >>"\$out"
	echo "file_mode=\$(stat -c %a "\$1")" >>"\$out"
	echo "file_user=\$u" >>"\$out"
	echo "file_path=\$1" >>"\$out"
else
	u=\$username; p=\$password
fi
[ "\$u" = alice ] && [ "\$p" = '$PASSWORD' ]
EOF
chmod 755 "$WORK/verify.sh"
printf 'alice\n%s\n' "$PASSWORD" >"$WORK/good.pass"
printf 'alice\nwrong-password\n' >"$WORK/bad.pass"
chmod 600 "$WORK"/*.pass
latest_seen() { local n; n=$(ls "$WORK" | grep -c '^seen-'); echo "$WORK/seen-$((n - 1)).env"; }

# ovpn_server NAME PORT EXTRA...: stock server in $NS_S, pid in $OVS
ovpn_server() {
	local n=$1 port=$2; shift 2
	ip netns exec $NS_S openvpn --disable-dco --verb 4 --mode server --tls-server --dev "dmau$port" --dev-type tun \
		--proto udp4 --port "$port" --server 10.214.29.0 255.255.255.0 --topology subnet --keepalive 2 20 \
		--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none --script-security 3 "$@" >"$WORK/$n.log" 2>&1 &
	OVS=$!; PIDS+=($OVS)
	wait_log "$WORK/$n.log" 'Initialization Sequence Completed' 20 ||
		{ fail "auth-user-pass: openvpn server $n starts" "$(tail -2 "$WORK/$n.log" | tr '\n' ' ')"; return 1; }
}
# kovpn_client NAME PORT CERT-LINES EXTRA-LINES: kovpn client (debug log) in $NS_C, pid in $KC
kovpn_client() {
	printf 'client\ndev dmauc0\nproto udp\nremote %s.1 %s\nnobind\nverb 9\nca %s/ca.crt\n%s\n%s\n' "$NET" "$2" "$WORK" "$3" "$4" >"$WORK/$1.conf"
	ip netns exec $NS_C bin/kovpn up "$WORK/$1.conf" >"$WORK/$1.log" 2>&1 &
	KC=$!; PIDS+=($KC)
}
CERT="cert $WORK/client.crt
key $WORK/client.key"
# expect_up NAME [ADDRESS]: the kovpn client's tunnel comes up and pings the server's tunnel address
expect_up() {
	if wait_log "$WORK/$1.log" '"type":"peer-up"' 20 && ip netns exec $NS_C ping -c 2 -i 0.3 -W 3 "${2:-10.214.29.1}" >/dev/null; then
		pass "auth-user-pass $1: connects and pings"
	else
		fail "auth-user-pass $1: connects and pings" "$(grep -E 'error|warn' "$WORK/$1.log" | tail -2 | tr '\n' ' ')"
	fi
}
# expect_refused NAME: AUTH_FAILED error line and exit status 1
expect_refused() {
	local i rc
	if wait_log "$WORK/$1.log" 'kovpn error: .*refused us: AUTH_FAILED' 20; then
		pass "auth-user-pass $1: bad password -> AUTH_FAILED error line"
	else
		fail "auth-user-pass $1: AUTH_FAILED error line" "$(grep -E 'error|warn' "$WORK/$1.log" | tail -2 | tr '\n' ' ')"
	fi
	for ((i = 0; i < 150; i++)); do kill -0 "$KC" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$KC" 2>/dev/null; then fail "auth-user-pass $1: exits" "still running"; stop_pid "$KC"; return; fi
	wait "$KC"; rc=$?
	[ $rc -eq 1 ] && pass "auth-user-pass $1: exit status 1" || fail "auth-user-pass $1: exit status" "$rc, expected 1"
}
# no_password NAME FILE...: the password appears in none of the files
no_password() {
	local n=$1; shift
	if grep -lF "$PASSWORD" "$@" >/dev/null 2>&1; then
		fail "auth-user-pass $n: password in no log or status" "found in $(grep -lF "$PASSWORD" "$@" | tr '\n' ' ')"
	else
		pass "auth-user-pass $n: password in none of $(cat "$@" | wc -l) lines of debug log and status"
	fi
}

# --- kovpn client -> openvpn server ----------------------------------------------------------------
ovpn_server vfile 1194 --auth-user-pass-verify "$WORK/verify.sh" via-file || exit 1
kovpn_client c-file 1194 "$CERT" "auth-user-pass $WORK/good.pass"
expect_up c-file
grep -q "TLS: Username/Password authentication succeeded for username 'alice'" "$WORK/vfile.log" &&
	pass "auth-user-pass c-file: the openvpn server's script accepted alice" || fail "auth-user-pass c-file: server accepted" "$(grep -i 'auth' "$WORK/vfile.log" | tail -2 | tr '\n' ' ')"
ip netns exec $NS_C bin/kovpn status --dev dmauc0 --json >"$WORK/c-file.status" 2>&1
grep -q '"vpnIpv4"' "$WORK/c-file.status" && pass "auth-user-pass c-file: status --json answers" || fail "auth-user-pass c-file: status" "$(head -c 200 "$WORK/c-file.status")"
stop_pid $KC
no_password c-file "$WORK/c-file.log" "$WORK/c-file.status"
kovpn_client c-bad 1194 "$CERT" "auth-user-pass $WORK/bad.pass"
expect_refused c-bad
kovpn_client c-retry 1194 "$CERT" "auth-user-pass $WORK/bad.pass
auth-retry nointeract
connect-retry 1"
n_retry() { grep -c 'kovpn error: .*AUTH_FAILED.*retrying (auth-retry nointeract)' "$WORK/c-retry.log"; }
for ((i = 0; i < 200; i++)); do [ "$(n_retry)" -ge 2 ] && break; sleep 0.1; done
[ "$(n_retry)" -ge 2 ] && kill -0 $KC 2>/dev/null && pass "auth-user-pass c-retry: auth-retry nointeract retries after AUTH_FAILED ($(n_retry) times)" ||
	fail "auth-user-pass c-retry: auth-retry nointeract" "$(grep -E 'error|warn' "$WORK/c-retry.log" | tail -2 | tr '\n' ' ')"
stop_pid $KC
stop_pid $OVS

ovpn_server venv 1195 --auth-user-pass-verify "$WORK/verify.sh" via-env || exit 1
kovpn_client c-inline 1195 "$CERT" "<auth-user-pass>
alice
$PASSWORD
</auth-user-pass>"
expect_up c-inline
grep -q "^username=alice$" "$(latest_seen)" && grep -qxF "password=$PASSWORD" "$(latest_seen)" &&
	pass "auth-user-pass c-inline: the inline block's username and password reached the via-env script" ||
	fail "auth-user-pass c-inline: script env" "$(grep -E '^(username|password)=' "$(latest_seen)" | sed 's/password=.*/password=.../' | tr '\n' ' ')"
stop_pid $KC
kovpn_client c-inline-bad 1195 "$CERT" $'<auth-user-pass>\nalice\nnope\n</auth-user-pass>'
expect_refused c-inline-bad

# auth-user-pass without a file: asked on a terminal (a pty from script(1)), the password not echoed;
# without a terminal: one error line saying to give a file, exit 1
mkfifo "$WORK/tty.in"
printf 'client\ndev dmauc0\nproto udp\nremote %s.1 1195\nnobind\nverb 9\nca %s/ca.crt\n%s\nauth-user-pass\n' "$NET" "$WORK" "$CERT" >"$WORK/c-tty.conf"
ip netns exec $NS_C script -qfec "bin/kovpn up $WORK/c-tty.conf --pid-file $WORK/c-tty.pid" /dev/null <"$WORK/tty.in" >"$WORK/c-tty.log" 2>&1 &
PIDS+=($!)
exec 7>"$WORK/tty.in"
wait_log "$WORK/c-tty.log" 'Enter Auth Username:' 20 && printf 'alice\r' >&7
wait_log "$WORK/c-tty.log" 'Enter Auth Password:' 20 && printf '%s\r' "$PASSWORD" >&7
expect_up c-tty
[ -s "$WORK/c-tty.pid" ] && stop_pid "$(cat "$WORK/c-tty.pid")"
exec 7>&-
no_password c-tty "$WORK/c-tty.log"
ip netns exec $NS_C bin/kovpn up "$WORK/c-tty.conf" </dev/null >"$WORK/c-notty.log" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'auth-user-pass without a file asks on a terminal, and standard input is not one: give a file' "$WORK/c-notty.log" &&
	pass "auth-user-pass c-notty: without a terminal, one error line says to give a file, exit 1" ||
	fail "auth-user-pass c-notty: no terminal" "rc $rc: $(tail -1 "$WORK/c-notty.log")"
stop_pid $OVS

# verify-client-cert none: a kovpn client with no cert/key
ovpn_server nocert 1196 --auth-user-pass-verify "$WORK/verify.sh" via-file --verify-client-cert none --username-as-common-name || exit 1
kovpn_client c-nocert 1196 '' "auth-user-pass $WORK/good.pass"
expect_up c-nocert
grep -q "alice/$NET.2:[0-9]* .*\(Peer Connection Initiated\|MULTI_sva\)" "$WORK/nocert.log" &&
	pass "auth-user-pass c-nocert: the server names the certificate-less client by its username" ||
	fail "auth-user-pass c-nocert: username as common name" "$(grep 'alice' "$WORK/nocert.log" | tail -1)"
stop_pid $KC
stop_pid $OVS

# --- auth-token: reused at renegotiation, the password file gone -------------------------------------
ovpn_server token 1197 --auth-user-pass-verify "$WORK/verify.sh" via-file --auth-gen-token --reneg-sec 8 --hand-window 4 || exit 1
cp "$WORK/good.pass" "$WORK/once.pass"
kovpn_client c-token 1197 "$CERT" "auth-user-pass $WORK/once.pass
auth-nocache"
expect_up c-token
rm -f "$WORK/once.pass"
if wait_log "$WORK/c-token.log" '"type":"rekey"' 30 && wait_log "$WORK/token.log" "Username/auth-token authentication succeeded for username 'alice'" 10; then
	pass "auth-user-pass c-token: renegotiation with the pushed auth-token (password file removed, server: token auth succeeded)"
else
	fail "auth-user-pass c-token: token at renegotiation" "$(grep -E 'error|warn' "$WORK/c-token.log" | tail -2 | tr '\n' ' ') / $(grep -i 'token' "$WORK/token.log" | tail -2 | tr '\n' ' ')"
fi
ip netns exec $NS_C ping -c 2 -i 0.3 -W 3 10.214.29.1 >/dev/null && pass "auth-user-pass c-token: pings after the renegotiation" ||
	fail "auth-user-pass c-token: ping after renegotiation" "no reply"
ip netns exec $NS_C bin/kovpn status --dev dmauc0 --json >"$WORK/c-token.status" 2>&1
stop_pid $KC
# auth-gen-token tokens start SESS_ID_AT_ (auth_token.c)
if grep -q 'SESS_ID_AT_' "$WORK/c-token.log" "$WORK/c-token.status"; then fail "auth-user-pass c-token: token in no log" "found"; else pass "auth-user-pass c-token: the token is in no kovpn log line or status"; fi
no_password c-token "$WORK/c-token.log" "$WORK/c-token.status"
stop_pid $OVS
# auth-nocache without a token: the renegotiation reads the file again; the file gone, the daemon
# stops with an error line and status 1 (OpenVPN exits too)
ovpn_server renego 1200 --auth-user-pass-verify "$WORK/verify.sh" via-file || exit 1
cp "$WORK/good.pass" "$WORK/gone.pass"
kovpn_client c-gone 1200 "$CERT" "auth-user-pass $WORK/gone.pass
auth-nocache
reneg-sec 5"
expect_up c-gone
rm -f "$WORK/gone.pass"
for ((i = 0; i < 200; i++)); do kill -0 "$KC" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$KC" 2>/dev/null; then
	fail "auth-user-pass c-gone: exits when the file is gone at renegotiation" "still running"; stop_pid "$KC"
else
	wait "$KC"; rc=$?
	[ $rc -eq 1 ] && grep -q 'kovpn error: .*auth-nocache: .*cannot read the auth-user-pass file' "$WORK/c-gone.log" &&
		pass "auth-user-pass c-gone: auth-nocache forgot the password; at renegotiation the file is gone: one error line, exit 1" ||
		fail "auth-user-pass c-gone: error and exit" "rc $rc: $(grep 'kovpn error' "$WORK/c-gone.log" | tail -1)"
fi
stop_pid $OVS

# a token another server does not know (its own token key): AUTH_FAILED, then the password at once.
# The client's second remote is that server; the first one sends RESTART when it stops.
ovpn_server token2 1198 --auth-user-pass-verify "$WORK/verify.sh" via-file --auth-gen-token --explicit-exit-notify 1 || exit 1
OVS2=$OVS
ovpn_server token3 1199 --auth-user-pass-verify "$WORK/verify.sh" via-file --auth-gen-token --server 10.214.31.0 255.255.255.0 || exit 1
OVS3=$OVS
kovpn_client c-token2 1198 "$CERT" "remote $NET.1 1199
auth-user-pass $WORK/good.pass
connect-retry 1"
expect_up c-token2
stop_pid $OVS2
wait_log "$WORK/c-token2.log" 'refused our auth-token .*reconnecting with the password' 30
for ((i = 0; i < 200; i++)); do [ "$(grep -c '"type":"peer-up"' "$WORK/c-token2.log")" -ge 2 ] && break; sleep 0.1; done
if grep -q 'refused our auth-token .*reconnecting with the password' "$WORK/c-token2.log" && [ "$(grep -c '"type":"peer-up"' "$WORK/c-token2.log")" -ge 2 ] &&
	ip netns exec $NS_C ping -c 2 -i 0.3 -W 3 10.214.31.1 >/dev/null; then
	pass "auth-user-pass c-token2: a token the next server refuses (AUTH_FAILED) is dropped, the password connects at once (pings)"
else
	fail "auth-user-pass c-token2: token refused -> password" "$(grep -E 'error|warn|peer-up' "$WORK/c-token2.log" | tail -3 | cut -c1-160 | tr '\n' ' ')"
fi
stop_pid $KC
stop_pid $OVS3

# --- openvpn client -> kovpn server ---------------------------------------------------------------
# kovpn_server NAME PORT EXTRA-LINES: kovpn server in $NS_S, pid in $KS
kovpn_server() {
	kovpn_server_conf "$2" "dmauks$2" 10.214.30.0 "$3" >"$WORK/$1.conf"
	ip netns exec $NS_S bin/kovpn up "$WORK/$1.conf" --log-level debug >"$WORK/$1.log" 2>&1 &
	KS=$!; PIDS+=($KS)
	wait_log "$WORK/$1.log" '"type":"tunnel-up"' 20 || { fail "auth-user-pass: kovpn server $1 starts" "$(tail -2 "$WORK/$1.log" | tr '\n' ' ')"; return 1; }
}
# ovpn_client NAME PORT PASSFILE EXTRA...: stock client in $NS_C, pid in $OVC
ovpn_client() {
	local n=$1 port=$2 pass=$3; shift 3
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev "dmauoc$port" --dev-type tun --proto udp4 --remote $NET.1 "$port" \
		--nobind --remote-cert-tls server --ca "$WORK/ca.crt" --auth-user-pass "$pass" "$@" >"$WORK/$n.log" 2>&1 &
	OVC=$!; PIDS+=($OVC)
}
# expect_ovc_up NAME: the stock client connects and pings through the kovpn server
expect_ovc_up() {
	if wait_log "$WORK/$1.log" 'Initialization Sequence Completed' 20 && ip netns exec $NS_C ping -c 2 -i 0.3 -W 3 10.214.30.1 >/dev/null; then
		pass "auth-user-pass $1: stock client connects and pings"
	else
		fail "auth-user-pass $1: stock client connects and pings" "$(tail -3 "$WORK/$1.log" | tr '\n' ' ')"
	fi
}
# expect_ovc_refused NAME SERVERLOG: the stock client gets AUTH_FAILED and exits; one error line on the server
expect_ovc_refused() {
	local i
	if wait_log "$WORK/$1.log" 'AUTH_FAILED' 20; then pass "auth-user-pass $1: stock client gets AUTH_FAILED"; else fail "auth-user-pass $1: AUTH_FAILED" "$(tail -2 "$WORK/$1.log" | tr '\n' ' ')"; fi
	for ((i = 0; i < 150; i++)); do kill -0 "$OVC" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$OVC" 2>/dev/null && { fail "auth-user-pass $1: stock client exits" "still running"; stop_pid "$OVC"; }
	wait_log "$WORK/$2.log" "kovpn error: .*$3" 5 || true
	local n; n=$(grep -c 'kovpn error:' "$WORK/$2.log")
	[ "$n" -eq 1 ] && grep -qE "kovpn error: .*$3" "$WORK/$2.log" && pass "auth-user-pass $1: one error line on the kovpn server: $(grep 'kovpn error:' "$WORK/$2.log" | sed 's/.*kovpn error: //' | cut -c1-120)" ||
		fail "auth-user-pass $1: one error line /$3/" "$n: $(grep 'kovpn error:' "$WORK/$2.log" | tr '\n' ' ')"
}

kovpn_server s-file 1294 "script-security 2
auth-user-pass-verify $WORK/verify.sh via-file" || exit 1
ovpn_client o-file 1294 "$WORK/good.pass" --cert "$WORK/client.crt" --key "$WORK/client.key"
expect_ovc_up o-file
seen=$(latest_seen)
if grep -qx 'script_type=user-pass-verify' "$seen" && grep -qx 'username=alice' "$seen" && grep -qx 'common_name=dm-client' "$seen" &&
	grep -qx "untrusted_ip=$NET.2" "$seen" && grep -qx 'file_lines=2' "$seen" && grep -qx 'file_mode=600' "$seen" && grep -qx 'file_user=alice' "$seen" &&
	! grep -q '^password=' "$seen"; then
	pass "auth-user-pass o-file: via-file script saw script_type, username, common_name, untrusted_ip, a 2-line 0600 file, no password variable"
else
	fail "auth-user-pass o-file: via-file script env" "$(grep -E '^(script_type|username|common_name|untrusted_ip|file_.*|password)=' "$seen" | sed 's/^password=.*/password=.../' | tr '\n' ' ')"
fi
f=$(sed -n 's/^file_path=//p' "$seen")
[ -n "$f" ] && [ ! -e "$f" ] && pass "auth-user-pass o-file: the via-file file is removed after the script" || fail "auth-user-pass o-file: file removed" "${f:-no path} still there"
ip netns exec $NS_S bin/kovpn status --dev dmauks1294 --json >"$WORK/s-file.status" 2>&1
stop_pid $OVC
# kovpn client -> kovpn server with a password (both ends kovpn)
kovpn_client kk 1294 "$CERT" "auth-user-pass $WORK/good.pass"
expect_up kk 10.214.30.1
stop_pid $KC
ovpn_client o-bad 1294 "$WORK/bad.pass" --cert "$WORK/client.crt" --key "$WORK/client.key"
expect_ovc_refused o-bad s-file "refused by auth-user-pass-verify .*exit status 1"
stop_pid $OVC
stop_pid $KS
no_password s-file "$WORK/s-file.log" "$WORK/s-file.status"

kovpn_server s-env 1295 "script-security 3
reneg-sec 6
auth-user-pass-verify $WORK/verify.sh via-env" || exit 1
ovpn_client o-env 1295 "$WORK/good.pass" --cert "$WORK/client.crt" --key "$WORK/client.key"
expect_ovc_up o-env
seen=$(latest_seen)
grep -qx 'username=alice' "$seen" && grep -qxF "password=$PASSWORD" "$seen" && grep -qx 'common_name=dm-client' "$seen" && grep -qx "untrusted_ip=$NET.2" "$seen" &&
	pass "auth-user-pass o-env: via-env script saw username, password, common_name, untrusted_ip" ||
	fail "auth-user-pass o-env: via-env env" "$(grep -E '^(username|common_name|untrusted_ip)=' "$seen" | tr '\n' ' ')"
# as OpenVPN, the password is checked again at each renegotiation (kovpn starts it after reneg-sec 6)
if wait_log "$WORK/s-env.log" "authentication succeeded for username 'alice' \(renegotiation, key id 1\)" 20 && wait_log "$WORK/s-env.log" '"type":"rekey"' 10 &&
	ip netns exec $NS_C ping -c 2 -i 0.3 -W 3 10.214.30.1 >/dev/null; then
	pass "auth-user-pass o-env: the script runs again at the renegotiation, the new key carries pings"
else
	fail "auth-user-pass o-env: re-authentication at renegotiation" "$(grep -E 'renegotiation|rekey|error' "$WORK/s-env.log" | tail -2 | tr '\n' ' ')"
fi
stop_pid $OVC
ovpn_client o-env-bad 1295 "$WORK/bad.pass" --cert "$WORK/client.crt" --key "$WORK/client.key"
expect_ovc_refused o-env-bad s-env "refused by auth-user-pass-verify"
stop_pid $OVC
stop_pid $KS

kovpn_server s-nocert 1296 "script-security 2
auth-user-pass-verify $WORK/verify.sh via-file
verify-client-cert none
username-as-common-name" || exit 1
ovpn_client o-nocert 1296 "$WORK/good.pass"
expect_ovc_up o-nocert
seen=$(latest_seen)
! grep -q '^common_name=' "$seen" && grep -qx 'file_user=alice' "$seen" &&
	pass "auth-user-pass o-nocert: a client without certificate authenticates by password (script: no common_name)" ||
	fail "auth-user-pass o-nocert: script env" "$(grep -E '^(common_name|file_user)=' "$seen" | tr '\n' ' ')"
ip netns exec $NS_S bin/kovpn status --dev dmauks1296 --json 2>&1 | grep -q '"name":"alice"' &&
	pass "auth-user-pass o-nocert: username-as-common-name: status names the client alice" ||
	fail "auth-user-pass o-nocert: common name = username" "$(ip netns exec $NS_S bin/kovpn status --dev dmauks1296 --json 2>&1 | head -c 300)"
stop_pid $OVC
stop_pid $KS

# verify-client-cert optional: no certificate is fine, a certificate from another CA is refused
kovpn_server s-opt 1298 "script-security 2
auth-user-pass-verify $WORK/verify.sh via-file
verify-client-cert optional" || exit 1
ovpn_client o-opt 1298 "$WORK/good.pass"
expect_ovc_up o-opt
stop_pid $OVC
ovpn_client o-opt-stranger 1298 "$WORK/good.pass" --cert "$WORK/stranger.crt" --key "$WORK/stranger.key"
wait_log "$WORK/s-opt.log" 'kovpn error: .*peer certificate refused \(CA: ' 20 &&
	pass "auth-user-pass o-opt-stranger: verify-client-cert optional still refuses a certificate the CA did not issue" ||
	fail "auth-user-pass o-opt-stranger: refused" "$(grep -E 'error|warn' "$WORK/s-opt.log" | tail -2 | tr '\n' ' ')"
stop_pid $OVC
stop_pid $KS

# --- no shared cipher on a kovpn server: AUTH_FAILED to the client ----------------------------------
kovpn_server s-cipher 1297 'data-ciphers CHACHA20-POLY1305' || exit 1
ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dmauoc1297 --dev-type tun --proto udp4 --remote $NET.1 1297 \
	--nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" --data-ciphers AES-256-GCM >"$WORK/o-cipher.log" 2>&1 &
OVC=$!; PIDS+=($OVC)
expect_ovc_refused o-cipher s-cipher 'no common data cipher'
grep -q 'AUTH_FAILED,Data channel cipher negotiation failed (no shared cipher)' "$WORK/o-cipher.log" &&
	pass "auth-user-pass o-cipher: the client is told why (OpenVPN's reason text)" || fail "auth-user-pass o-cipher: reason" "$(grep AUTH_FAILED "$WORK/o-cipher.log" | head -1)"
stop_pid $OVC
stop_pid $KS
exit 0
