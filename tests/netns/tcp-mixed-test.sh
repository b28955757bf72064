#!/usr/bin/env bash
# Wire compatibility of the two data paths over TCP: tcp-test.sh (connect/listen the
# selftests' way: P2P both ciphers over IPv4 and IPv6, an MP server with 3 clients) with the
# listening side on the kernel module and the connecting side on the userspace engine.
# Needs the kernel module (VM suite).
exec env KOVPN_TCP_SERVER_DATAPATH=kernel KOVPN_TCP_CLIENT_DATAPATH=userspace KOVPN_PATH_LABEL=mixed \
	"$(dirname "$0")/tcp-test.sh"
