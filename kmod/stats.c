// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: per-peer traffic counters
 */
#include "stats.h"

static void ovpn_peer_stat_init(struct ovpn_peer_stat *stat)
{
	atomic64_set(&stat->bytes, 0);
	atomic64_set(&stat->packets, 0);
}

/**
 * ovpn_peer_stats_init - zero all counters of a peer
 * @ps: the counters
 */
void ovpn_peer_stats_init(struct ovpn_peer_stats *ps)
{
	ovpn_peer_stat_init(&ps->vpn.rx);
	ovpn_peer_stat_init(&ps->vpn.tx);
	ovpn_peer_stat_init(&ps->link.rx);
	ovpn_peer_stat_init(&ps->link.tx);
}
