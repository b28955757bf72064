/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: OpenVPN data channel offload - device private state
 */
#ifndef _NET_OVPN_MAIN_H_
#define _NET_OVPN_MAIN_H_

#include <linux/netdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/hashtable.h>
#include <linux/workqueue.h>
#include <net/gro_cells.h>
#include <uapi/linux/ovpn.h>

#include "compat.h"

struct ovpn_drop_stats;

/* DATA_V2 header: opcode|key id (1), peer id (3), packet id (4), tag (16) */
#define OVPN_OPCODE_SIZE	4
#define OVPN_PKTID_SIZE		4
#define OVPN_AUTH_TAG_SIZE	16
#define OVPN_AAD_SIZE		(OVPN_OPCODE_SIZE + OVPN_PKTID_SIZE)
#define OVPN_DATA_V2_HLEN	(OVPN_AAD_SIZE + OVPN_AUTH_TAG_SIZE)

/*
 * Worst-case overhead in front of an inner packet: DATA_V2 header and tag,
 * the larger transport header (TCP, for the stream seam) and outer IPv6.
 * The default MTU is what is left of an Ethernet frame (mainline's value).
 */
#define OVPN_HEAD_ROOM	(OVPN_DATA_V2_HLEN +				\
			 max(sizeof(struct udphdr), sizeof(struct tcphdr)) + \
			 max(sizeof(struct ipv6hdr), sizeof(struct iphdr)))
#define OVPN_DEFAULT_MTU	(ETH_DATA_LEN - OVPN_HEAD_ROOM)

/*
 * 16384 buckets per table (4 tables, 512 KiB per multi-peer device): chains stay
 * short (about 6 entries) up to 100,000 peers for the data path's lookups and the
 * duplicate checks of PEER_NEW.
 */
#define OVPN_PEER_HASH_BITS	14

/**
 * struct ovpn_peer_collection - peer tables of a multi-peer device
 * @by_id: peers hashed by peer id
 * @by_vpn_addr4: peers hashed by VPN IPv4 address
 * @by_vpn_addr6: peers hashed by VPN IPv6 address
 * @by_transp_addr: peers hashed by transport (remote) address
 * @count: number of peers in the tables
 */
struct ovpn_peer_collection {
	DECLARE_HASHTABLE(by_id, OVPN_PEER_HASH_BITS);
	DECLARE_HASHTABLE(by_vpn_addr4, OVPN_PEER_HASH_BITS);
	DECLARE_HASHTABLE(by_vpn_addr6, OVPN_PEER_HASH_BITS);
	DECLARE_HASHTABLE(by_transp_addr, OVPN_PEER_HASH_BITS);
	unsigned int count;
};

/**
 * struct ovpn_priv - per ovpn netdevice state
 * @dev: the netdevice
 * @mode: OVPN_MODE_P2P or OVPN_MODE_MP, fixed at creation
 * @lock: protects @peer, @peers and @dead (writers only; readers use RCU)
 * @peer: the only peer of a P2P device
 * @peers: peer tables of an MP device (NULL in P2P)
 * @dead: set once the device is being deleted: no more peers may be added
 * @gro_cells: receive path into the stack
 * @keepalive_work: periodic keepalive sender / expiry checker
 * @keepalive_next: when @keepalive_work is due while pending (under @lock)
 * @drops: per-cpu drop counters by reason (drop.h)
 */
struct ovpn_priv {
	struct net_device *dev;
	enum ovpn_mode mode;
	spinlock_t lock; /* see kernel-doc */
	struct ovpn_peer __rcu *peer;
	struct ovpn_peer_collection *peers;
	bool dead;
	struct gro_cells gro_cells;
	struct delayed_work keepalive_work;
	unsigned long keepalive_next;
	struct ovpn_drop_stats __percpu *drops;
};

bool ovpn_dev_is_valid(const struct net_device *dev);

extern struct workqueue_struct *ovpn_wq;
extern bool ovpn_strict_mainline;

#endif /* _NET_OVPN_MAIN_H_ */
