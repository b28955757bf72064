#!/usr/bin/env bash
# Regenerates tests/vectors/tls-wrap.json: key files made by stock `openvpn --genkey` and the
# first packet (the wrapped HARD_RESET_CLIENT) a stock OpenVPN 2.6 client sends with each
# wrapping, captured from the UDP socket it sends to, inside a throw-away namespace. The unit
# tests (tests/unit/control/wrap.test.ts) unwrap these with kovpn's code.
set -eu
cd "$(dirname "$0")/../.."
. tests/lib/netns.sh
. tests/lib/pki.sh
W=$(mktemp -d /tmp/dm-vec.XXXXXX)
NS=$(ns_name dm-vec)
trap 'ns_cleanup; rm -rf "$W"' EXIT
ns_add "$NS"
pki_standard "$W" >/dev/null
openvpn --genkey secret "$W/ta.key" >/dev/null
openvpn --genkey tls-crypt-v2-server "$W/v2s.key" >/dev/null
META=$(printf 'vector-metadata' | base64)
openvpn --tls-crypt-v2 "$W/v2s.key" --genkey tls-crypt-v2-client "$W/v2c.key" "$META" >/dev/null

# capture NAME ARGS...: the first datagram a stock client sends with ARGS, as hex in $W/NAME.hex
capture() {
	local name=$1; shift
	ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 11940)); s.settimeout(20)
print("ready", flush=True)
d, _ = s.recvfrom(4096); open(sys.argv[1], "w").write(d.hex())' "$W/$name.hex" >"$W/$name.ready" &
	local py=$!
	for _ in $(seq 100); do grep -q ready "$W/$name.ready" 2>/dev/null && break; sleep 0.1; done
	ip netns exec "$NS" openvpn --disable-dco --client --dev-type tun --dev dmvec0 --proto udp4 --remote 127.0.0.1 11940 \
		--nobind --ca "$W/ca.crt" --cert "$W/client.crt" --key "$W/client.key" --verb 0 "$@" >/dev/null 2>&1 &
	local ov=$!
	wait $py
	kill $ov; wait $ov 2>/dev/null || true
}
capture tls-crypt --tls-crypt "$W/ta.key"
capture tls-auth --tls-auth "$W/ta.key" 1 --auth SHA256
capture tls-crypt-v2 --tls-crypt-v2 "$W/v2c.key"

python3 - "$W" "$META" >tests/vectors/tls-wrap.json <<'PY'
import json, sys
w, meta = sys.argv[1], sys.argv[2]
r = lambda n: open(f"{w}/{n}").read()
print(json.dumps({
  "generator": "tests/vectors/gen-tls-wrap.sh (stock " + __import__("subprocess").run(["openvpn", "--version"], capture_output=True, text=True).stdout.split("\n")[0].split(" [")[0] + ")",
  "staticKey": r("ta.key"),
  "v2ServerKey": r("v2s.key"),
  "v2ClientKey": r("v2c.key"),
  "v2MetadataUserBase64": meta,
  "clientResetTlsCrypt": r("tls-crypt.hex"),
  "clientResetTlsAuthSha256Dir1": r("tls-auth.hex"),
  "clientResetTlsCryptV2": r("tls-crypt-v2.hex"),
}, indent=1))
PY
echo "wrote tests/vectors/tls-wrap.json"
