#!/bin/bash
# Builds Debian's out-of-tree ovpn-dco module (package openvpn-dco-dkms, the source DKMS puts in
# /usr/src/ovpn-dco-<version>) for the qemu guest's kernel into
# .build/ovpn-dco/<release>/ovpn-dco-v2.ko, for tests/kmod/dco-openvpn.sh --module ovpn-dco.
#   tests/kmod/build-ovpn-dco.sh [kernel release]     (default: the guest's, as tests/qemu/run.sh picks it)
# Prints the module's path. Built from a copy of the source with the package's own make line
# (dkms.conf), so neither the DKMS tree nor /usr/src is written.
# The package's DKMS hook also installs the module under /lib/modules/<release>/updates/dkms/.
# The guest shares the host's root, and the module's aliases (genl family ovpn-dco-v2, link kind
# ovpn-dco) would let the guest's kernel autoload it wherever kovpn's tests expect no holder of
# those names (ovpn.ko with dco_v2=0, or unloaded): that installed copy is taken out again
# (dkms uninstall; the built source stays registered). KOVPN_KEEP_DKMS_INSTALL=1 keeps it.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { echo "build-ovpn-dco: $*" >&2; exit 1; }

rel=${1:-}
if [[ -z $rel ]]; then # the newest /boot/vmlinuz-* with modules and headers (tests/qemu/run.sh's rule)
	while read -r r; do
		[[ -d /lib/modules/$r/kernel && -d /usr/src/linux-headers-$r ]] && rel=$r
	done < <(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V)
fi
[[ -n $rel ]] || die "no kernel with modules and headers (apt-get install linux-image-amd64 linux-headers-amd64)"
ksrc=/lib/modules/$rel/build
[[ -d $ksrc ]] || die "no $ksrc (apt-get install linux-headers-$rel)"
src=$(find /usr/src -maxdepth 1 -name 'ovpn-dco-*' -type d | sort -V | tail -1)
[[ -n $src && -f $src/dkms.conf ]] || die "no /usr/src/ovpn-dco-* (apt-get install openvpn-dco-dkms)"
ver=${src##*/ovpn-dco-}

out=$REPO/.build/ovpn-dco/$rel
ko=$out/ovpn-dco-v2.ko
stamp="$ver $rel $(stat -c %Y "$ksrc/Makefile")"
if [[ ! -f $ko || "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]]; then
	rm -rf "$out.tmp" && mkdir -p "$out.tmp"
	cp -r "$src"/. "$out.tmp/src"
	make -C "$out.tmp/src" VER="$rel" KERNEL_SRC="$ksrc" REVISION="$ver" >"$out.tmp/build.log" 2>&1 ||
		die "make failed for $rel, see $out.tmp/build.log"
	built=$out.tmp/src/drivers/net/ovpn-dco/ovpn-dco-v2.ko
	[[ -f $built ]] || die "no ovpn-dco-v2.ko after make (see $out.tmp/build.log)"
	[[ $(modinfo -F vermagic "$built" | awk '{print $1}') == "$rel" ]] || die "$built is not for $rel"
	rm -rf "$out" && mkdir -p "$out"
	cp "$built" "$ko"
	mv "$out.tmp/build.log" "$out/"
	echo "$stamp" >"$out/stamp"
	rm -rf "$out.tmp"
fi

if [[ ${KOVPN_KEEP_DKMS_INSTALL:-0} != 1 ]] && command -v dkms >/dev/null &&
	dkms status -m ovpn-dco -v "$ver" -k "$rel" 2>/dev/null | grep -q ': installed'; then
	echo "build-ovpn-dco: dkms uninstall ovpn-dco/$ver -k $rel (its aliases would autoload it in the guest)" >&2
	dkms uninstall -m ovpn-dco -v "$ver" -k "$rel" >/dev/null
fi
echo "$ko"
