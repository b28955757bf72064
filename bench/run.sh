#!/bin/bash
# kovpn benchmarks (issue #5): data plane on the host and in the VM, control plane in the VM,
# control-channel handshakes on the host.
# Prints a table and writes bench/results/latest.{json,md,svg}. Benchmarks never fail tests:
# a path that cannot run is reported as "n/a (reason)".
#
#   bench/run.sh [--host-only|--vm-only] [--raw DIR] [tests/qemu/run.sh options...]
# Environment: BENCH_REPEATS (3), BENCH_SECONDS (3), BENCH_PINGS (200),
#   BENCH_HOST_PATHS, BENCH_VM_PATHS (space-separated path names, see bench/datapath.sh;
#   BENCH_VM_PATHS=- for the control plane alone),
#   BENCH_CTRL_PEERS (100000; 0 skips), BENCH_CTRL_REPEATS (3), BENCH_CTRL_KEYS (10000),
#   BENCH_CTRL_TIMEOUT (1200 s), BENCH_VM_TIMEOUT (3600 s), BENCH_HS_SECONDS (4),
#   BENCH_WG_PEERS (30000), BENCH_WG_SECONDS (180).
set -u
BDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BDIR/.." && pwd)
cd "$REPO"
do_host=1 do_vm=1
RAW=$REPO/tests/qemu/out/bench-$(date +%Y%m%d-%H%M%S)
while (($#)); do
	case $1 in
	--host-only) do_vm=0; shift ;;
	--vm-only) do_host=0; shift ;;
	# Add to (or redo parts of) an earlier run's raw folder, then report on all of it.
	--raw) RAW=$(realpath -m "$2"); shift 2 ;;
	*) break ;;
	esac
done
# The guest writes its results into the raw folder: only tests/qemu/out is shared writable.
if ((do_vm)) && [[ $RAW != "$(realpath "$REPO")/tests/qemu/out/"* ]]; then
	echo "bench: --raw $RAW: the VM can only write under $REPO/tests/qemu/out" >&2
	exit 2
fi
mkdir -p "$RAW"
# The VM sees this file (the out folder is shared); bench/vm.sh reads the settings from it.
bench_vars=$(compgen -v BENCH_)
if [[ -n $bench_vars ]]; then declare -p $bench_vars; fi > "$RAW/bench.env"
notes=$RAW/notes.txt
touch "$notes"
t0=$(date +%s)

if ((do_host)); then
	host_paths=(veth kovpn-user-aes kovpn-user-chacha openvpn-aes openvpn-chacha kovpn-user-tcp-aes openvpn-tcp-aes)
	[[ -n ${BENCH_HOST_PATHS:-} ]] && read -ra host_paths <<< "$BENCH_HOST_PATHS"
	echo "bench: host data plane: ${host_paths[*]}" >&2
	bench/datapath.sh "$RAW/host" "${host_paths[@]}"
	echo "bench: host control plane: netlink library and handshakes/s on one core" >&2
	if [[ -f dist/bench/control-host.js ]]; then
		taskset -c 0 node dist/bench/control-host.js "$RAW/host/control.json" "${BENCH_HS_SECONDS:-4}" "${BENCH_REPEATS:-3}" >&2 ||
			echo "control-host benchmark exited $?" >> "$notes"
	else
		echo '{"status": "dist/bench/control-host.js not built (make ts)"}' > "$RAW/host/control.json"
	fi
	echo "bench: host: ovpn-cli start-up time" >&2
	bench/cli-start.sh "$RAW/host/cli-start.json" || echo "cli-start benchmark exited $?" >> "$notes"
fi

if ((do_vm)); then
	vm_args=()
	if [[ ! -f kmod/ovpn.ko ]]; then
		vm_args+=(--no-module)
		echo "kmod/ovpn.ko was missing when this run started: the VM booted without the module (kovpn kernel rows and control plane n/a)." >> "$notes"
	fi
	# Debian's ovpn-dco-v2.ko for the openvpn-dco-debian row (bench/vm.sh)
	tests/kmod/build-ovpn-dco.sh >/dev/null ||
		echo "tests/kmod/build-ovpn-dco.sh failed: the openvpn-dco-debian row is n/a." >> "$notes"
	echo "bench: VM data plane and control plane (one boot)" >&2
	# The benchmark's own verdict lines must not land in anyone's test results.
	env -u KOVPN_RESULTS tests/qemu/run.sh --timeout "${BENCH_VM_TIMEOUT:-3600}" --mem 3072 \
		"${vm_args[@]}" "$@" -- bench/vm.sh "$RAW" > "$RAW/vm-console.txt" 2>&1
	rc=$?
	grep -E '^bench: |^ctrl-plane: ' "$RAW/vm-console.txt" | tr -d '\r' >&2
	if ((rc != 0)); then
		echo "VM run ended with status $rc: $(grep -E '^FAIL vm:' "$RAW/vm-console.txt" | head -3 | tr '\n' ' ')" >> "$notes"
	fi
fi

echo "bench/run.sh${*:+ $*} ($(date -u +%H:%M) UTC, ${BENCH_VM_PATHS:+VM paths: $BENCH_VM_PATHS, }took $(( $(date +%s) - t0 )) s). Raw output: ${RAW#"$REPO"/}" >> "$notes"
if [[ ! -f dist/bench/report.js ]]; then
	echo "bench: dist/bench/report.js missing: run make ts (raw results kept in $RAW)" >&2
	exit 0
fi
node dist/bench/report.js "$RAW" "$BDIR/results"
echo >&2
echo "bench: wrote bench/results/latest.{json,md,svg}" >&2
exit 0
