# shellcheck shell=bash
# Shared setup of the tunnel tests: two namespaces joined by a veth, a P-256 PKI made with
# openssl, helpers to wait for log lines and to stop what the test started (by pid).
# Set NS_S, NS_C, NET (e.g. 10.77.3) before sourcing; the server side is $NET.1.
# NS_EXTRA may name more namespaces this test creates (cleaned up the same way).
export KOVPN_DATAPATH=userspace
WORK=$(mktemp -d /tmp/dm-tunnel.XXXXXX)
PIDS=()

cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	# Whatever still runs in our namespaces (e.g. a userspace engine) was started by this test.
	for ns in $NS_S $NS_C ${NS_EXTRA:-}; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
	done
	sleep 0.3
	for ns in $NS_S $NS_C ${NS_EXTRA:-}; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

setup_netns() {
	ip netns del "$NS_S" 2>/dev/null; ip netns del "$NS_C" 2>/dev/null
	ip netns add "$NS_S" && ip netns add "$NS_C" &&
	ip link add "$NS_S-0" netns "$NS_S" type veth peer name "$NS_C-0" netns "$NS_C" &&
	ip -n "$NS_S" addr add "$NET.1/24" dev "$NS_S-0" && ip -n "$NS_S" link set "$NS_S-0" up && ip -n "$NS_S" link set lo up &&
	ip -n "$NS_C" addr add "$NET.2/24" dev "$NS_C-0" && ip -n "$NS_C" link set "$NS_C-0" up && ip -n "$NS_C" link set lo up
}

# setup_pki [extra client names...]: ca, server, client (+ extras) in $WORK; also a foreign
# CA with a client "stranger" (other-ca.crt, stranger.crt/key).
setup_pki() {
	(
		cd "$WORK" || exit 1
		o() { openssl "$@" >/dev/null 2>&1; }
		mkca() { # name cn
			o ecparam -name prime256v1 -genkey -noout -out "$1.key"
			o req -x509 -new -key "$1.key" -sha256 -days 30 -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
				-addext keyUsage=critical,keyCertSign,cRLSign -out "$1.crt"
		}
		issue() { # ca name usage
			printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=%s\n' "$3" >"$2.ext"
			o ecparam -name prime256v1 -genkey -noout -out "$2.key"
			o req -new -key "$2.key" -subj "/CN=dm-$2" -out "$2.csr"
			o x509 -req -in "$2.csr" -CA "$1.crt" -CAkey "$1.key" -CAcreateserial -days 30 -sha256 -extfile "$2.ext" -out "$2.crt"
		}
		mkca ca dm-ca
		mkca other-ca dm-other-ca
		issue ca server serverAuth
		for n in client "$@"; do issue ca "$n" clientAuth; done
		issue other-ca stranger clientAuth
		: >index.txt
		printf '[ca]\ndefault_ca=dm\n[dm]\ndatabase=%s/index.txt\ncertificate=%s/ca.crt\nprivate_key=%s/ca.key\ndefault_md=sha256\ndefault_crl_days=30\n' \
			"$PWD" "$PWD" "$PWD" >ca.cnf
		o ca -config ca.cnf -gencrl -out ca.crl
	)
	[ -s "$WORK/client.crt" ] && [ -s "$WORK/ca.crl" ]
}

# revoke <name>: revokes $WORK/<name>.crt and regenerates $WORK/ca.crl.
revoke() {
	(cd "$WORK" && openssl ca -config ca.cnf -revoke "$1.crt" >/dev/null 2>&1 && openssl ca -config ca.cnf -gencrl -out ca.crl >/dev/null 2>&1)
}

wait_log() { # file regex seconds
	local i
	for ((i = 0; i < $3 * 10; i++)); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# stop_pid PID: SIGTERM, up to 15 s for a clean stop (a daemon sends EXIT and waits for its
# acknowledgement, then removes its device), SIGKILL only after that: a killed daemon leaves
# its device behind, and the next test's daemon then finds the name taken.
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	local i
	for ((i = 0; i < 150; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}
