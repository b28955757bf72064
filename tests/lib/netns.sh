# shellcheck shell=bash
# Network namespaces for tests, benchmarks and the demo: one way to make, join and remove
# them, with names unique to this run so that two checkouts (or two runs) never collide.
#
#   . tests/lib/netns.sh
#   A=$(ns_name dm-ts)            # "dm-ts-<run tag>": the name this run uses for dm-ts
#   ns_add "$A" "$B"              # new namespaces, lo up, removed by ns_cleanup
#   ns_veth "$A" a0 10.77.3.1/24 "$B" b0 10.77.3.2/24   # a veth pair between them, up
#   trap ns_cleanup EXIT          # (or call ns_cleanup from the caller's own EXIT trap)
#
# The run tag is $KOVPN_RUN_TAG if set (a runner may set it once for all its scripts), else
# derived from this shell's pid; it is short, so that device names built from a namespace
# name ("$A-0") stay within the kernel's 15 characters. Interface names live inside their
# namespace, so they need no tag themselves. Safe under `set -e`.

: "${KOVPN_RUN_TAG:=$(printf '%x' $$)}"
NS_CREATED=()

# ns_name BASE: the namespace name this run uses for BASE.
ns_name() {
	echo "$1-$KOVPN_RUN_TAG"
}

# ns_add NAME...: creates each namespace (an old one of the same name, left by a killed run
# of this very tag, is removed first) with lo up, and registers it for ns_cleanup.
ns_add() {
	local ns
	for ns in "$@"; do
		ip netns del "$ns" 2>/dev/null || true
		ip netns add "$ns" || return 1
		NS_CREATED+=("$ns")
		ip -n "$ns" link set lo up || return 1
	done
}

# ns_veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B [ADDR6_A ADDR6_B]: a veth pair, addressed and up.
ns_veth() {
	local nsa=$1 ifa=$2 a=$3 nsb=$4 ifb=$5 b=$6 a6=${7:-} b6=${8:-}
	ip link add "$ifa" netns "$nsa" type veth peer name "$ifb" netns "$nsb" || return 1
	ip -n "$nsa" addr add "$a" dev "$ifa" && ip -n "$nsb" addr add "$b" dev "$ifb" || return 1
	if [ -n "$a6" ]; then
		ip -n "$nsa" addr add "$a6" dev "$ifa" nodad && ip -n "$nsb" addr add "$b6" dev "$ifb" nodad || return 1
	fi
	ip -n "$nsa" link set "$ifa" up && ip -n "$nsb" link set "$ifb" up
}

# ns_stop_all NS...: ends every process still in these namespaces (SIGTERM, then SIGKILL
# after up to 3 s): whatever runs there was started by this run.
ns_stop_all() {
	local ns p i left
	for ns in "$@"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
	done
	for ((i = 0; i < 30; i++)); do
		left=
		for ns in "$@"; do left+=$(ip netns pids "$ns" 2>/dev/null || true); done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	for ns in "$@"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
	done
}

# ns_cleanup: stops what runs in the namespaces this run made, then deletes them.
ns_cleanup() {
	local ns
	[ ${#NS_CREATED[@]} -gt 0 ] || return 0
	ns_stop_all "${NS_CREATED[@]}"
	for ns in "${NS_CREATED[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	NS_CREATED=()
}
