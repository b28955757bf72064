#!/usr/bin/env bash
# The kovpn daemon on the KERNEL data path (ovpn.ko) against stock OpenVPN 2.6 (--disable-dco),
# run inside the qemu guest in one boot:
#   tests/qemu/run.sh --timeout 1500 -- tests/interop-vm/run.sh [PART...]
# PART is a letter with a part-<letter>.sh here (any case; default: all, in the order
# A B C D F E G H I J: E swaps in the module's test build and back); each part is its own
# file, sourced here; the helpers they share are in lib.sh.
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
#   F. tls-crypt (a key from openvpn --genkey secret) on the kernel path, both roles: a stock
#      client to a kovpn server's MP device, a kovpn client's P2P device to a stock server; pings.
#   G. devices and exits on the kernel path: dev tun, SIGKILL + reclaim, AUTH_FAILED exit 1,
#      a pushed comp-lzo no refused on the kernel path, comp-lzo no under auto on userspace.
#   I. IPv6 transport: a dual-stack kovpn server (proto udp, no local) with a stock client over
#      IPv6 and one over IPv4 (v4-mapped on the socket) at once: pings, the kernel's remotes.
#   H. username/password on the kernel path: a stock client with auth-user-pass -> kovpn server
#      with auth-user-pass-verify via-file: pings, the script's environment, a bad password gets
#      AUTH_FAILED and one error line.
#   E. early rekey on KEY_SWAP_NTF, with the module's test build whose keys start at packet id
#      2^32-2: the kernel retires an exhausted key and notifies, the daemon rekeys at once and
#      traffic flows on the new key.
#   J. IPv6 inside the tunnel: a stock client -> kovpn server (MP) with server-ipv6 and an
#      iroute-ipv6: the client's pool IPv6 address, the kernel peer's VPN_IPV6, ping6 both ways
#      and to the network behind the client.
set -u
cd "$(dirname "$0")/../.."
PARTS=()
for p in "${@:-A B C D F E G H I J}"; do
	for q in $p; do
		l=$(echo "$q" | tr a-z A-Z)
		if [[ $l == [A-Z] && -f tests/interop-vm/part-$(echo "$l" | tr A-Z a-z).sh ]]; then
			PARTS+=("$l")
		else
			echo "usage: $0 [PART ...], PART one of: $(ls tests/interop-vm | sed -n 's/^part-\(.\)\.sh$/\1/p' | tr a-z A-Z | tr '\n' ' ')(unknown part '$q')" >&2
			exit 2
		fi
	done
done
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

. tests/interop-vm/lib.sh
echo "interop-vm: parts ${PARTS[*]}"
for p in "${PARTS[@]}"; do
	. "tests/interop-vm/part-$(echo "$p" | tr A-Z a-z).sh"
done

echo "interop-vm: $(($(date +%s) - START)) s"
# The logs, next to the results of a VM run (the guest's /tmp is gone after it).
case $KOVPN_RESULTS in /dev/null) ;; *) d="$(dirname "$KOVPN_RESULTS")/interop-vm"; mkdir -p "$d" && cp "$WORK"/*.log "$WORK"/*.out "$d"/ 2>/dev/null ;; esac
if [ -n "${DV_DEBUG:-}" ] || [ "${KOVPN_FAILED:-0}" != 0 ]; then
	for f in "$WORK"/*.log; do echo "=== $f"; tail -n "${DV_TAIL:-25}" "$f"; done
fi
exit 0
