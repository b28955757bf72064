#!/usr/bin/env bash
# Start-up time of ovpn-cli on the host (node start + module loading + one cheap command),
# beside /bin/true (process start), `node -e 0` (node alone) and, when $OVPN_CLI_C names a
# build of the selftests' C client, that client on the same command. Writes the figures
# (milliseconds, every run) as JSON for bench/report.ts.
#   bench/cli-start.sh OUT.json
# Environment: BENCH_CLI_RUNS (10), OVPN_CLI_C (path of the C ovpn-cli; optional).
# The commands run in a namespace of their own: "get_peer" of a device that does not exist
# there (the userspace data path: no engine is started, the command fails at once; the C
# client fails at if_nametoindex).
set -u
out=${1:?usage: bench/cli-start.sh OUT.json}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${BENCH_CLI_RUNS:-10}
ns=kovpn-bench-cli-$$
cli=$PWD/bin/ovpn-cli
ip netns add "$ns" || { echo '{"status": "cannot create a network namespace"}' >"$out"; exit 0; }
trap 'ip netns del "$ns" 2>/dev/null' EXIT

# times_ms CMD...: milliseconds of each of $runs runs, space-separated (any exit status).
times_ms() {
	local i t0 t1 list=()
	for ((i = 0; i < runs; i++)); do
		t0=$EPOCHREALTIME
		ip netns exec "$ns" "$@" >/dev/null 2>&1
		t1=$EPOCHREALTIME
		list+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
	done
	echo "${list[*]}"
}

# figure KEY LABEL CMD...: one JSON member.
figure() {
	local key=$1 label=$2; shift 2
	local v
	v=$(times_ms "$@")
	printf '"%s": {"label": "%s", "unit": "ms", "values": [%s]}' "$key" "$label" "${v// /, }"
}

# One warm-up run each, so that every figure is measured with a warm page cache.
ip netns exec "$ns" env KOVPN_DATAPATH=userspace "$cli" get_peer nosuchdev0 >/dev/null 2>&1

figs=()
figs+=("$(figure true '/bin/true (process start)' /bin/true)")
figs+=("$(figure node 'node -e 0 (node start)' node -e 0)")
figs+=("$(figure help 'ovpn-cli --help' "$cli" --help)")
figs+=("$(figure get_peer 'ovpn-cli get_peer (userspace path, no such device)' env KOVPN_DATAPATH=userspace "$cli" get_peer nosuchdev0)")
figs+=("$(figure get_peer_auto 'ovpn-cli get_peer (auto: kernel probe and modprobe first)' env -u KOVPN_DATAPATH "$cli" get_peer nosuchdev0)")
if [ -n "${OVPN_CLI_C:-}" ] && [ -x "$OVPN_CLI_C" ]; then
	figs+=("$(figure c_get_peer 'C ovpn-cli (selftests) get_peer, no such device' "$OVPN_CLI_C" get_peer nosuchdev0)")
	cnote="C client: $OVPN_CLI_C."
else
	cnote="No C client measured (set OVPN_CLI_C to a build of tools/testing/selftests/net/ovpn/ovpn-cli)."
fi
joined=$(IFS=,; echo "${figs[*]}")
printf '{"status": "ok", "figures": {%s}, "notes": "%s runs each on the host, wall time per run. node %s. %s"}\n' \
	"$joined" "$runs" "$(node --version)" "$cnote" >"$out"
