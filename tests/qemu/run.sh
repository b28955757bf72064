#!/bin/bash
# Boot a kernel under qemu (TCG), load kovpn's ovpn.ko, run one command in the guest as root
# (with the host's root file system shared read-only over 9p), and bring back a verdict.
#
#   tests/qemu/run.sh [--kernel IMAGE] [--kmod-dir DIR] [--no-module] [--timeout SEC]
#                     [--smp N] [--mem MB] -- <command> [args...]
#
# In the guest the command runs from the repository root with KOVPN_RESULTS=<results file
# under tests/qemu/out/> and KOVPN_IN_VM=1. Afterwards the guest unloads the module (test
# "vm: module unloads") and saves dmesg; the host scans it ("vm: kernel log clean"). The
# guest's result lines are printed and appended to the host's $KOVPN_RESULTS (if set).
# Exit status: the command's; else non-zero if the module did not load/unload, the guest
# crashed or timed out (124), or the kernel log is dirty.
# The host root is mounted with 9p cache=loose (node starts ~5x faster); files changed on the
# host during a run may be seen stale. KOVPN_QEMU_9P_CACHE=none turns the cache off.
set -uo pipefail

QDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$QDIR/../.." && pwd)
OUT=$QDIR/out
WORK=$QDIR/work

KERNEL=
KMOD_DIR=$REPO/kmod
NO_MODULE=0
TIMEOUT=1800
SMP=2
MEM=2048

usage() {
	sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}

while (($#)); do
	case $1 in
	--kernel) KERNEL=$2; shift 2 ;;
	--kmod-dir) KMOD_DIR=$2; shift 2 ;;
	--no-module) NO_MODULE=1; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--smp) SMP=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) echo "run.sh: unknown option '$1'" >&2; usage ;;
	esac
done
(($#)) || { echo "run.sh: no command given" >&2; usage; }
[[ $TIMEOUT =~ ^[0-9]+$ && $SMP =~ ^[0-9]+$ && $MEM =~ ^[0-9]+$ ]] ||
	{ echo "run.sh: --timeout, --smp and --mem take integers" >&2; exit 2; }

die() { echo "run.sh: $*" >&2; exit 2; }

for tool in qemu-system-x86_64 busybox cpio file modinfo modprobe; do
	command -v "$tool" >/dev/null || die "missing $tool (apt-get install qemu-system-x86 busybox-static cpio file kmod)"
done
file -L "$(command -v busybox)" | grep -q 'statically linked' || die "busybox is not static (apt-get install busybox-static)"

# Kernel release of a bzImage, read from its header.
image_release() {
	file -bL "$1" | sed -n 's/.*, version \([^ ]*\) .*/\1/p'
}

# The default kernel: the newest /boot/vmlinuz-* that has both modules and headers installed.
if [[ -z $KERNEL ]]; then
	KREL=
	while read -r rel; do
		if [[ -d /lib/modules/$rel/kernel && -d /usr/src/linux-headers-$rel ]]; then KREL=$rel; fi
	done < <(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V)
	[[ -n $KREL ]] || die "no /boot/vmlinuz-* with matching /lib/modules and linux-headers (apt-get install linux-image-amd64 linux-headers-amd64)"
	KERNEL=/boot/vmlinuz-$KREL
else
	[[ -r $KERNEL ]] || die "cannot read kernel image $KERNEL"
	KERNEL=$(realpath "$KERNEL")
	KREL=$(image_release "$KERNEL")
	[[ -n $KREL ]] || die "cannot read the kernel release from $KERNEL"
fi
MODDIR=/lib/modules/$KREL
[[ -d $MODDIR/kernel ]] || MODDIR=   # a kernel with everything built in needs none

KMOD_DIR=$(realpath -m "$KMOD_DIR")
if ((!NO_MODULE)); then
	[[ -f $KMOD_DIR/ovpn.ko ]] || die "no $KMOD_DIR/ovpn.ko (build it: make -C kmod), or pass --no-module"
	vermagic=$(modinfo -F vermagic "$KMOD_DIR/ovpn.ko" | awk '{print $1}')
	[[ $vermagic == "$KREL" ]] || die "$KMOD_DIR/ovpn.ko was built for $vermagic, kernel is $KREL (use --kmod-dir)"
fi

mkdir -p "$OUT" "$WORK"

# ---- initramfs (cached per kernel release and per content of this script's init) ----
# Modules needed before the 9p root is mounted, in load order, from the kernel's own tree.
initramfs_modules() {
	[[ -n $MODDIR ]] || return 0
	local m
	for m in virtio_pci 9pnet_virtio 9p; do
		modprobe -S "$KREL" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++'
}

INIT_SCRIPT=$(cat <<'EOF'
#!/bin/busybox sh
# kovpn qemu test init: mount the host root over 9p, chroot into it, run tests/qemu/guest.sh.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# Warnings and worse reach the console even with "quiet".
echo 5 > /proc/sys/kernel/printk
for m in $(cat /modules.list); do insmod "/modules/${m##*/}" || echo "init: insmod $m failed"; done
arg() { sed -n "s/.*\bkovpn_$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
# The way out: qemu runs with -no-reboot, so a reset ends it. (poweroff needs ACPI, which a
# minimal debug kernel may lack: it would halt and leave qemu running until the watchdog.)
off() { reboot -f; }
OUT=$(arg out); RUN=$(arg run); CACHE=$(arg cache); REPO=$(arg repo)
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144${CACHE:+,cache=$CACHE} hostroot /host || { echo "init: 9p root mount failed"; off; }
# A repository under /tmp or /run (a CI clone, say) would be hidden by the tmpfs mounted
# there below: hold on to it here and put it back on top of that tmpfs.
case $REPO in /tmp/*|/run/*) mkdir -p /repo && mount -o bind "/host$REPO" /repo ;; esac
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
# devtmpfs has no /dev/fd etc. (udev makes them): bash process substitution needs them.
ln -sf /proc/self/fd /host/dev/fd
ln -sf /proc/self/fd/0 /host/dev/stdin
ln -sf /proc/self/fd/1 /host/dev/stdout
ln -sf /proc/self/fd/2 /host/dev/stderr
# No udev either: the TUN node (opening it autoloads the tun module).
mkdir -p /host/dev/net; [ -e /host/dev/net/tun ] || mknod -m 666 /host/dev/net/tun c 10 200
mkdir -p /host/dev/pts /host/dev/shm 2>/dev/null
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
case $REPO in /tmp/*|/run/*) mkdir -p "/host$REPO" && mount -o bind /repo "/host$REPO" ;; esac
mount -t debugfs debugfs /host/sys/kernel/debug 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=262144 kovpnout "/host$OUT" || { echo "init: 9p out mount failed"; off; }
# The kernel's modprobe helper runs in this root, not in the chroot: forward it.
echo /modprobe-helper > /proc/sys/kernel/modprobe
chroot /host /bin/bash "$OUT/$RUN/guest.sh" "$OUT/$RUN"
echo "init: guest.sh exited $?"
sync
umount "/host$OUT" 2>/dev/null
off
EOF
)

MODLIST=$(initramfs_modules)
KEY=$({ echo "$KREL"; echo "$MODLIST"; echo "$INIT_SCRIPT"; [[ -n $MODDIR ]] && stat -c '%Y %s' "$MODDIR/modules.dep"; } | sha256sum | cut -c1-12)
INITRD=$WORK/initramfs-$KREL-$KEY.cpio.gz
if [[ ! -s $INITRD ]]; then
	stage=$(mktemp -d "$WORK/stage.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,modules}
	cp "$(command -v busybox)" "$stage/bin/busybox"
	printf '%s\n' "$INIT_SCRIPT" > "$stage/init"
	printf '#!/bin/busybox sh\nexec /bin/chroot /host /sbin/modprobe "$@"\n' > "$stage/modprobe-helper"
	chmod 755 "$stage/init" "$stage/modprobe-helper"
	: > "$stage/modules.list"
	for m in $MODLIST; do
		case $m in
		*.ko.xz) xz -dc "$m" > "$stage/modules/$(basename "${m%.xz}")" ;;
		*.ko.zst) zstd -qdc "$m" > "$stage/modules/$(basename "${m%.zst}")" ;;
		*.ko.gz) gzip -dc "$m" > "$stage/modules/$(basename "${m%.gz}")" ;;
		*) cp "$m" "$stage/modules/" ;;
		esac
		basename "${m%.ko*}.ko" >> "$stage/modules.list"
	done
	(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$INITRD.tmp.$$"
	mv -f "$INITRD.tmp.$$" "$INITRD"
	rm -rf "$stage"
fi

# ---- per-run directory (several runs may share the tree at once) ----
RUNNAME=run-$(date +%Y%m%d-%H%M%S)-$$
RUNDIR=$OUT/$RUNNAME
mkdir -p "$RUNDIR"
cp "$QDIR/guest.sh" "$RUNDIR/guest.sh"
{
	printf 'REPO=%q\n' "$REPO"
	printf 'KMOD=%q\n' "$KMOD_DIR/ovpn.ko"
	printf 'NO_MODULE=%q\n' "$NO_MODULE"
} > "$RUNDIR/env"
{
	printf '#!/bin/bash\n'
	printf '%q ' "$@"
	printf '\n'
} > "$RUNDIR/cmd.sh"
: > "$RUNDIR/results.txt"
# Keep the 20 most recent run directories.
ls -1dt "$OUT"/run-* 2>/dev/null | tail -n +21 | xargs -r rm -rf

echo "run.sh: kernel $KREL ($KERNEL), $( ((NO_MODULE)) && echo 'no module' || echo "module $KMOD_DIR/ovpn.ko"), run dir $RUNDIR" >&2

# ---- boot ----
t0=$(date +%s)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
	-accel tcg -cpu max -smp "$SMP" -m "$MEM" \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 quiet kovpn_out=$OUT kovpn_repo=$REPO kovpn_run=$RUNNAME kovpn_cache=${KOVPN_QEMU_9P_CACHE:-loose}" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$OUT,mount_tag=kovpnout,security_model=none,multidevs=remap" \
	-device virtio-rng-pci \
	</dev/null 2>&1 | tee "$RUNDIR/console.log"
qemu_rc=${PIPESTATUS[0]}
cp -f "$RUNDIR/console.log" "$OUT/console.log"
echo "run.sh: guest ran $(( $(date +%s) - t0 )) s, qemu exit $qemu_rc" >&2

# ---- verdict ----
result() { echo "$1" >> "$RUNDIR/results.txt"; }
status=0
if [[ -s $RUNDIR/rc ]]; then
	cmd_rc=$(<"$RUNDIR/rc")
	status=$cmd_rc
else
	if ((qemu_rc == 124 || qemu_rc == 137)); then
		result "FAIL vm: guest finished watchdog killed qemu after ${TIMEOUT}s"
		status=124
	else
		why=$(grep -m1 -E 'Kernel panic|BUG:|Oops|init: ' "$RUNDIR/console.log" | tr -d '\r')
		result "FAIL vm: guest finished command did not complete (qemu exit $qemu_rc) ${why}"
		status=125
	fi
fi

# The log to scan: the guest's dmesg, or the console if the guest never saved it.
LOG=$RUNDIR/dmesg.txt
[[ -s $LOG ]] || LOG=$RUNDIR/console.log
cp -f "$LOG" "$OUT/dmesg.txt"
BAD='Kernel panic|WARNING:|BUG:|Oops|refcount_t|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|KASAN|UBSAN|general protection fault|kernel BUG|RCU stall|detected stall|self-detected stall|list_add corruption|list_del corruption|suspected memory leak|blocked for more than|unregister_netdevice: waiting for'
bad_line=$(grep -m1 -E "$BAD" "$LOG" | tr -d '\r')
# kmemleak (debug kernels; guest.sh saves its report): objects allocated by the module. The
# scan runs after rmmod, so the module's frames are bare addresses by then ("] 0xffff...").
LEAK='\[ovpn\]|\] 0x[0-9a-f]{8,}$'
if [[ -z $bad_line && -s $RUNDIR/kmemleak.txt ]] && grep -qE "$LEAK" "$RUNDIR/kmemleak.txt"; then
	bad_line="kmemleak: $(grep -c '^unreferenced object' "$RUNDIR/kmemleak.txt") unreferenced objects, e.g. $(grep -m1 -E "$LEAK" "$RUNDIR/kmemleak.txt" | tr -s ' ')"
fi
if [[ -n $bad_line ]]; then
	result "FAIL vm: kernel log clean ${bad_line}"
	((status)) || status=3
else
	result "PASS vm: kernel log clean"
fi
grep -q '^FAIL vm: module' "$RUNDIR/results.txt" && ((status == 0)) && status=4

echo "---- results ($RUNDIR/results.txt) ----"
grep -E '^(PASS|FAIL) ' "$RUNDIR/results.txt"
if [[ -n ${KOVPN_RESULTS:-} ]]; then
	grep -E '^(PASS|FAIL) ' "$RUNDIR/results.txt" >> "$KOVPN_RESULTS"
fi
exit "$status"
