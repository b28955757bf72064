#!/usr/bin/env bash
# The daemon's devices (src/daemon/devices.ts), kovpn clients against a stock OpenVPN 2.6
# server, userspace path, in namespaces dm-dv*:
#   1. `dev tun` takes the first free tunN: with a foreign tun0 in the namespace, two clients
#      at once get tun1 and tun2 (marked with the kovpn owner alias); tun0 is left alone
#   2. `dev tun0` (the foreign device) is refused, non-zero exit, tun0 untouched
#   3. SIGINT and SIGTERM remove the device
#   4. a device left by a kovpn killed with SIGKILL is reclaimed, with a warning
#   5. a device whose kovpn still runs is never taken
#   6. a failed start (server port in use) removes the device it had created
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-dvs NS_C=dm-dvc NET=10.77.15
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "devices: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "devices: PKI" "openssl failed"; exit 1; }

ovpn_tls_server "$WORK/ovpn-server.log" dmdvs0 10.214.15.0 ||
	{ fail "devices: openvpn server starts" "$(tail -2 "$WORK/ovpn-server.log" | tr '\n' ' ')"; exit 1; }

client_conf() { # FILE DEV
	printf 'client\ndev %s\nproto udp\nremote %s.1 1194\nnobind\nremote-cert-tls server\nca %s/ca.crt\ncert %s/client.crt\nkey %s/client.key\n' \
		"$2" "$NET" "$WORK" "$WORK" "$WORK" >"$1"
}
# start_client NAME DEV: a kovpn client in $NS_C logging to $WORK/NAME.log; its pid in $CPID
start_client() {
	client_conf "$WORK/$1.conf" "$2"
	ip netns exec $NS_C bin/kovpn up "$WORK/$1.conf" --log-level info >"$WORK/$1.log" 2>&1 &
	CPID=$!; PIDS+=($CPID)
}
link_exists() { ip netns exec $NS_C ip link show "$1" >/dev/null 2>&1; }
link_alias() { ip netns exec $NS_C ip -o link show "$1" 2>/dev/null | sed -n 's/.*alias \(.*\)$/\1/p'; }
wait_gone() { # DEV seconds
	local i
	for ((i = 0; i < $2 * 10; i++)); do link_exists "$1" || return 0; sleep 0.1; done
	return 1
}
device_of() { sed -n 's/.*"type":"tunnel-up".*client device \([^ ]*\) .*/\1/p' "$1" | head -1; }

# --- 1. dev tun: first free tunN ----------------------------------------------------------------
ip netns exec $NS_C ip tuntap add dev tun0 mode tun || fail "devices: foreign tun0" "ip tuntap add failed"
start_client a tun; PA=$CPID
start_client b tun; PB=$CPID
if wait_log "$WORK/a.log" '"type":"peer-up"' 20 && wait_log "$WORK/b.log" '"type":"peer-up"' 20; then
	da=$(device_of "$WORK/a.log") db=$(device_of "$WORK/b.log")
	if [ "$(printf '%s\n' "$da" "$db" | sort | tr '\n' ' ')" = "tun1 tun2 " ]; then
		pass "devices 1: two 'dev tun' clients at once take tun1 and tun2 (tun0 is someone else's)"
	else
		fail "devices 1: dev tun names" "got '$da' and '$db'"
	fi
	alias_a=$(link_alias "$da")
	[[ "$alias_a" =~ ^kovpn\ pid=$PA\ start=[0-9]+$ ]] && pass "devices 1: the device carries the owner alias ($alias_a)" ||
		fail "devices 1: owner alias" "'$alias_a' on $da (pid $PA)"
	ip netns exec $NS_C bin/kovpn status --dev "$db" --json 2>&1 | grep -q '"vpnIpv4":"10.214.15.' &&
		pass "devices 1: kovpn status --dev $db answers for the second tunnel" || fail "devices 1: status of $db" "no peer"
	link_exists tun0 && [ -z "$(link_alias tun0)" ] && pass "devices 1: the foreign tun0 is untouched" ||
		fail "devices 1: foreign tun0" "gone or changed"
else
	fail "devices 1: two dev tun clients connect" "$(tail -2 "$WORK/a.log" "$WORK/b.log" | tr '\n' ' ')"
	da=tun1 db=tun2
fi

# --- 2. a named device that belongs to something else -----------------------------------------
client_conf "$WORK/c.conf" tun0
out=$(ip netns exec $NS_C timeout 30 bin/kovpn up "$WORK/c.conf" 2>&1); rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "device tun0 already exists (kind tun, not created by kovpn)" <<<"$out" && link_exists tun0; then
	pass "devices 2: 'dev tun0' held by a foreign device is refused (exit $rc), tun0 untouched"
else
	fail "devices 2: foreign dev tun0" "exit $rc: $out"
fi

# --- 3. SIGINT and SIGTERM remove the device ------------------------------------------------------
kill -INT "$PA"
wait_gone "$da" 15 && pass "devices 3: SIGINT removes $da" || fail "devices 3: SIGINT" "$da still exists"
kill -TERM "$PB"
wait_gone "$db" 15 && pass "devices 3: SIGTERM removes $db" || fail "devices 3: SIGTERM" "$db still exists"

# --- 4. a stale device of a killed kovpn is reclaimed ---------------------------------------------
start_client k tun; PK=$CPID
if wait_log "$WORK/k.log" '"type":"peer-up"' 20; then
	dk=$(device_of "$WORK/k.log")
	kill -KILL "$PK"; wait "$PK" 2>/dev/null
	if link_exists "$dk"; then
		start_client r tun; PR=$CPID
		if wait_log "$WORK/r.log" '"type":"peer-up"' 20 && grep -q "kovpn warn: device $dk was left by kovpn pid $PK, which no longer runs" "$WORK/r.log" &&
			[ "$(device_of "$WORK/r.log")" = "$dk" ]; then
			pass "devices 4: $dk left by a SIGKILLed kovpn is reclaimed with a warning and reused"
		else
			fail "devices 4: stale device reclaimed" "$(grep -E 'warn|error|tunnel-up' "$WORK/r.log" | tr '\n' ' ')"
		fi
	else
		fail "devices 4: stale device" "$dk vanished with the killed daemon (nothing to reclaim)"
		start_client r tun; PR=$CPID
		wait_log "$WORK/r.log" '"type":"peer-up"' 20
	fi
	# --- 5. a device whose kovpn still runs is never taken ----------------------------------------
	dr=$(device_of "$WORK/r.log")
	client_conf "$WORK/t.conf" "$dr"
	out=$(ip netns exec $NS_C timeout 30 bin/kovpn up "$WORK/t.conf" 2>&1); rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "device $dr already exists (in use by kovpn pid $PR)" <<<"$out" &&
		[[ "$(link_alias "$dr")" == "kovpn pid=$PR "* ]] && kill -0 "$PR" 2>/dev/null; then
		pass "devices 5: 'dev $dr' of a running kovpn is refused (exit $rc), the running tunnel keeps it"
	else
		fail "devices 5: running owner" "exit $rc: $out"
	fi
	stop_pid "$PR"
	wait_gone "$dr" 15 || fail "devices 5: $dr removed on stop" "still exists"
else
	fail "devices 4: client connects" "$(tail -3 "$WORK/k.log" | tr '\n' ' ')"
fi

# --- 6. a failed start removes its device ----------------------------------------------------------
printf 'port 1194\nproto udp\ndev dmdvks0\nca %s/ca.crt\ncert %s/server.crt\nkey %s/server.key\nserver 10.214.16.0 255.255.255.0\n' \
	"$WORK" "$WORK" "$WORK" >"$WORK/server.conf"
out=$(ip netns exec $NS_S timeout 30 bin/kovpn up "$WORK/server.conf" --log-level info 2>&1); rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qi 'EADDRINUSE\|address already in use' <<<"$out"; then
	pass "devices 6: a kovpn server whose port is taken fails to start (exit $rc)"
else
	fail "devices 6: failed start" "exit $rc: $(tail -3 <<<"$out" | tr '\n' ' ')"
fi
ip netns exec $NS_S ip link show dmdvks0 >/dev/null 2>&1 && fail "devices 6: device removed after the failed start" "dmdvks0 still exists" ||
	pass "devices 6: device removed after the failed start"
exit 0
