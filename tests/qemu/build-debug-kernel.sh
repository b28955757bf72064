#!/bin/bash
# Build a debug kernel for the VM suite (KASAN, lockdep, kmemleak, list debugging, UBSAN)
# from Debian's linux-source-6.1 into .build/debug-kernel/, and ovpn.ko against it into
# .build/debug-kmod/. About 14 min on 2 cores. Then:
#   tests/qemu/run.sh --kernel .build/debug-kernel/arch/x86/boot/bzImage \
#                     --kmod-dir .build/debug-kmod -- <command>
#   tests/qemu/build-debug-kernel.sh [--jobs N] [--module-only | --config-only]
set -euo pipefail
QDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$QDIR/../.." && pwd)
KDIR=${KOVPN_DEBUG_KDIR:-$REPO/.build/debug-kernel}
MDIR=$REPO/.build/debug-kmod
JOBS=2
MODULE_ONLY=0
CONFIG_ONLY=0
while (($#)); do
	case $1 in
	--jobs) JOBS=$2; shift 2 ;;
	--module-only) MODULE_ONLY=1; shift ;;
	--config-only) CONFIG_ONLY=1; shift ;;
	*) echo "usage: $0 [--jobs N] [--module-only | --config-only]" >&2; exit 2 ;;
	esac
done

if ((!MODULE_ONLY)); then
	TARBALL=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -1 || true)
	if [[ -z $TARBALL ]]; then
		echo "build-debug-kernel: installing linux-source-6.1" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y linux-source-6.1 >/dev/null
		TARBALL=$(ls /usr/src/linux-source-6.1.tar.* | head -1)
	fi
	for t in flex bison bc gcc make; do
		command -v $t >/dev/null || { echo "build-debug-kernel: missing $t (apt-get install flex bison bc build-essential libelf-dev libssl-dev)" >&2; exit 1; }
	done
	if [[ ! -f $KDIR/Makefile ]]; then
		mkdir -p "$KDIR"
		echo "build-debug-kernel: unpacking $TARBALL" >&2
		tar -xaf "$TARBALL" -C "$KDIR" --strip-components=1
	fi
	cd "$KDIR"
	# Regenerate .config only when the fragment changed: rewriting it unchanged would still
	# be cheap for Kbuild, but skipping keeps an existing build's state untouched.
	if [[ ! -f .config || $QDIR/debug-kernel.config -nt .config || -n ${FORCE_CONFIG:-} ]]; then
		make -s allnoconfig
		scripts/kconfig/merge_config.sh -m .config "$QDIR/debug-kernel.config" >/dev/null
		make -s olddefconfig
	fi
	# Every option asked for must have survived olddefconfig (a missing dependency drops it).
	missing=0
	while IFS= read -r line; do
		[[ $line =~ ^(CONFIG_[A-Z0-9_]+)=(.*)$ ]] || continue
		opt=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
		if [[ $val == n ]]; then
			grep -q "^$opt=" .config && { echo "build-debug-kernel: $opt should be off" >&2; missing=1; }
		else
			grep -qx "$opt=$val" .config || { echo "build-debug-kernel: $opt=$val did not stick" >&2; missing=1; }
		fi
	done < "$QDIR/debug-kernel.config"
	((missing == 0)) || echo "build-debug-kernel: warning: some options did not stick (see above)" >&2
	((CONFIG_ONLY)) && exit "$missing"
	time make -j"$JOBS" bzImage modules
fi

# ovpn.ko for this kernel, built from a copy of kmod/ so that kmod/ keeps the Debian build.
rm -rf "$MDIR"
mkdir -p "$MDIR"
(cd "$REPO/kmod" && tar --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' \
	--exclude=modules.order --exclude=Module.symvers -cf - .) | tar -xf - -C "$MDIR"
make -C "$KDIR" M="$MDIR" -j"$JOBS" modules
echo "build-debug-kernel: kernel $KDIR/arch/x86/boot/bzImage, module $MDIR/ovpn.ko" >&2
