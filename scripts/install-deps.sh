#!/usr/bin/env bash
# Installs what building and testing kovpn needs on Debian 12, and nothing that is already there.
#   scripts/install-deps.sh [host|vm|bench|debug|all]
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
pkgs=(build-essential python3 make g++ iproute2 iputils-ping kmod jq)
case $what in
host) pkgs+=(iperf3 openvpn tcpdump openssl nftables openresolv) ;;
vm|all|bench) pkgs+=(iperf3 openvpn tcpdump openssl nftables openresolv qemu-system-x86 linux-image-amd64
	linux-headers-amd64 busybox-static cpio file sparse wireguard-tools dkms openvpn-dco-dkms) ;;
debug) pkgs+=(qemu-system-x86 busybox-static cpio file linux-source-6.1 flex bison bc libelf-dev
	libssl-dev) ;;
*) echo "install-deps: unknown set '$what' (host, vm, bench, debug or all)" >&2; exit 2 ;;
esac
command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
# Headers for the addon (node-gyp must not download them: no network but the registries).
[ -f /usr/include/node/node.h ] || pkgs+=(libnode-dev)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Debian's ovpn-dco-v2.ko for the guest's kernel (tests/kmod/dco-openvpn.sh ovpn-dco, the bench's
# openvpn-dco-debian row); also takes the DKMS-installed copy out of /lib/modules (see the script).
case $what in vm|all|bench) tests/kmod/build-ovpn-dco.sh >/dev/null ;; esac

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.kovpn-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
	echo "install-deps: npm ci"
	npm ci --no-audit --no-fund --loglevel=error
	cp package-lock.json "$stamp"
fi
