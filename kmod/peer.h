/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: peers and their lookup tables
 */
#ifndef _NET_OVPN_PEER_H_
#define _NET_OVPN_PEER_H_

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/kref.h>
#include <linux/rcupdate.h>
#include <net/dst_cache.h>

#include "bind.h"
#include "crypto.h"
#include "main.h"
#include "socket.h"
#include "stats.h"

/**
 * struct ovpn_peer - a remote OpenVPN endpoint
 * @ovpn: the device (a device reference is held by the peer)
 * @id: peer id we receive with (and send with, unless @tx_id differs)
 * @tx_id: peer id put on transmitted packets
 * @vpn_addrs: addresses inside the tunnel (MP: used to route to the peer)
 * @vpn_addrs.ipv4: VPN IPv4 (INADDR_ANY: none)
 * @vpn_addrs.ipv6: VPN IPv6 (in6addr_any: none)
 * @hash_entry_id: entry in ovpn->peers->by_id
 * @hash_entry_addr4: entry in ovpn->peers->by_vpn_addr4
 * @hash_entry_addr6: entry in ovpn->peers->by_vpn_addr6
 * @hash_entry_transp_addr: entry in ovpn->peers->by_transp_addr
 * @sock: transport socket (reference held, immutable)
 * @crypto: key slots
 * @bind: remote/local transport addresses (RCU, replaced under @lock)
 * @dst_cache: route cache of the transport
 * @lock: protects @bind updates, keepalive settings
 * @keepalive_interval: seconds of TX silence before a ping (0: off)
 * @keepalive_timeout: seconds of RX silence before expiry (0: off)
 * @last_recv: jiffies of the last authenticated packet received
 * @last_sent: jiffies of the last packet sent
 * @stats: traffic counters
 * @removed: unhashed from the device (under ovpn->lock)
 * @delete_reason: why it was removed (reported in PEER_DEL_NTF)
 * @refcount: tables, in-flight packets, netlink handlers
 * @rcu: deferred release
 */
struct ovpn_peer {
	struct ovpn_priv *ovpn;
	u32 id;
	u32 tx_id;
	struct {
		struct in_addr ipv4;
		struct in6_addr ipv6;
	} vpn_addrs;
	struct hlist_node hash_entry_id;
	struct hlist_node hash_entry_addr4;
	struct hlist_node hash_entry_addr6;
	struct hlist_node hash_entry_transp_addr;
	struct ovpn_socket *sock;
	struct ovpn_crypto_state crypto;
	struct ovpn_bind __rcu *bind;
	struct dst_cache dst_cache;
	spinlock_t lock; /* see kernel-doc */
	u32 keepalive_interval;
	u32 keepalive_timeout;
	unsigned long last_recv;
	unsigned long last_sent;
	struct ovpn_peer_stats stats;
	bool removed;
	enum ovpn_del_peer_reason delete_reason;
	struct kref refcount;
	struct rcu_head rcu;
};

static inline bool ovpn_peer_hold(struct ovpn_peer *peer)
{
	return kref_get_unless_zero(&peer->refcount);
}

void ovpn_peer_release_kref(struct kref *kref);

static inline void ovpn_peer_put(struct ovpn_peer *peer)
{
	kref_put(&peer->refcount, ovpn_peer_release_kref);
}

int ovpn_peer_cache_init(void);
void ovpn_peer_cache_destroy(void);
struct ovpn_peer *ovpn_peer_new(struct ovpn_priv *ovpn, u32 id);
int ovpn_peer_add(struct ovpn_priv *ovpn, struct ovpn_peer *peer,
		  struct netlink_ext_ack *extack);
int ovpn_peer_del(struct ovpn_peer *peer, enum ovpn_del_peer_reason reason);
void ovpn_peers_free(struct ovpn_priv *ovpn, const struct ovpn_socket *osock,
		     enum ovpn_del_peer_reason reason);

struct ovpn_peer *ovpn_peer_get_by_id(struct ovpn_priv *ovpn, u32 peer_id);
struct ovpn_peer *ovpn_peer_get_by_transp_addr(struct ovpn_priv *ovpn,
					       struct sk_buff *skb);
struct ovpn_peer *ovpn_peer_get_by_dst(struct ovpn_priv *ovpn,
				       struct sk_buff *skb);
bool ovpn_peer_check_by_src(struct ovpn_priv *ovpn, struct sk_buff *skb,
			    struct ovpn_peer *peer);

int ovpn_peer_set_vpn_addrs(struct ovpn_peer *peer, const struct in_addr *v4,
			    const struct in6_addr *v6,
			    struct netlink_ext_ack *extack);
void ovpn_peer_transp_rehash(struct ovpn_peer *peer);
void ovpn_peer_endpoints_update(struct ovpn_peer *peer, struct sk_buff *skb);

#endif /* _NET_OVPN_PEER_H_ */
