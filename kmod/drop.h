/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: per-reason drop counters of a device (ethtool -S)
 */
#ifndef _NET_OVPN_DROP_H_
#define _NET_OVPN_DROP_H_

#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>

#include "main.h"

/**
 * enum ovpn_drop_reason - why the data path dropped a packet
 * @OVPN_DROP_NO_PEER: RX: no peer has the packet's peer id (or address);
 *	TX: no peer for the destination, or the peer is going away
 * @OVPN_DROP_NO_KEY: RX: no key has the packet's key id; TX: no primary key
 * @OVPN_DROP_DECRYPT: RX: authentication failed
 * @OVPN_DROP_REPLAY: RX: replayed or too old packet id (before or after
 *	decryption)
 * @OVPN_DROP_MALFORMED: RX: truncated DATA_V2 packet or an inner packet that
 *	is not IP; TX: a packet from the stack that is not IP
 * @OVPN_DROP_EXHAUSTED: TX: the key ran out of packet ids
 * @OVPN_DROP_SOURCE: RX: the inner source address is not the peer's
 * @OVPN_DROP_RX_QUEUE: RX: the stack did not take the decrypted packet
 *	(device down, backlog full)
 * @OVPN_DROP_SEND: TX: no route or binding to the peer, UDP output failed
 * @OVPN_DROP_INTERNAL: RX/TX: allocation or other crypto failure
 * @OVPN_DROP_MAX: number of reasons
 *
 * The names ethtool shows (ovpn_drop_names in drop.c) follow this order;
 * docs/drop-counters.md lists them with the userspace engine's.
 */
enum ovpn_drop_reason {
	OVPN_DROP_NO_PEER,
	OVPN_DROP_NO_KEY,
	OVPN_DROP_DECRYPT,
	OVPN_DROP_REPLAY,
	OVPN_DROP_MALFORMED,
	OVPN_DROP_EXHAUSTED,
	OVPN_DROP_SOURCE,
	OVPN_DROP_RX_QUEUE,
	OVPN_DROP_SEND,
	OVPN_DROP_INTERNAL,
	OVPN_DROP_MAX,
};

/**
 * struct ovpn_drop_stats - one CPU's drop counters
 * @count: packets dropped, by reason
 */
struct ovpn_drop_stats {
	unsigned long count[OVPN_DROP_MAX];
};

extern const struct ethtool_ops ovpn_ethtool_ops;

/**
 * ovpn_drop_count - count a drop by reason only
 * @dev: the ovpn device
 * @reason: why
 *
 * For drops the core already counts in rx_dropped (gro_cells_receive()).
 * this_cpu_inc() is safe in any context, as dev_core_stats_*_inc().
 */
static inline void ovpn_drop_count(struct net_device *dev,
				   enum ovpn_drop_reason reason)
{
	struct ovpn_priv *ovpn = netdev_priv(dev);

	this_cpu_inc(ovpn->drops->count[reason]);
}

/**
 * ovpn_rx_drop - count a received packet dropped (rx_dropped and reason)
 * @dev: the ovpn device
 * @reason: why
 */
static inline void ovpn_rx_drop(struct net_device *dev,
				enum ovpn_drop_reason reason)
{
	dev_core_stats_rx_dropped_inc(dev);
	ovpn_drop_count(dev, reason);
}

/**
 * ovpn_tx_drop - count a packet to send dropped (tx_dropped and reason)
 * @dev: the ovpn device
 * @reason: why
 */
static inline void ovpn_tx_drop(struct net_device *dev,
				enum ovpn_drop_reason reason)
{
	dev_core_stats_tx_dropped_inc(dev);
	ovpn_drop_count(dev, reason);
}

#endif /* _NET_OVPN_DROP_H_ */
