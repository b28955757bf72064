#!/usr/bin/env bash
# Wire compatibility of the two data paths: the P2P suite (netns-test.sh: both ciphers,
# IPv4 and IPv6 transport, fragmented inner packets) with the kernel ovpn driver in one
# namespace and the userspace engine in the other. Needs the kernel module (VM suite).
exec env KOVPN_DATAPATH_A=kernel KOVPN_DATAPATH_B=userspace KOVPN_PATH_LABEL=mixed \
	"$(dirname "$0")/netns-test.sh"
