/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: per-peer traffic counters
 */
#ifndef _NET_OVPN_STATS_H_
#define _NET_OVPN_STATS_H_

#include <linux/atomic.h>
#include <linux/types.h>

/**
 * struct ovpn_peer_stat - one direction of one layer
 * @bytes: bytes counted
 * @packets: packets counted
 */
struct ovpn_peer_stat {
	atomic64_t bytes;
	atomic64_t packets;
};

/**
 * struct ovpn_peer_stats - counters reported by PEER_GET
 * @vpn: inner (plaintext) packets
 * @link: outer (encrypted) packets
 */
struct ovpn_peer_stats {
	struct {
		struct ovpn_peer_stat rx;
		struct ovpn_peer_stat tx;
	} vpn, link;
};

void ovpn_peer_stats_init(struct ovpn_peer_stats *ps);

static inline void ovpn_peer_stat_add(struct ovpn_peer_stat *stat,
				      unsigned int len)
{
	atomic64_add(len, &stat->bytes);
	atomic64_inc(&stat->packets);
}

#endif /* _NET_OVPN_STATS_H_ */
