// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: peers and their lookup tables
 *
 * A P2P device has at most one peer (ovpn->peer); an MP device keeps its
 * peers in four hash tables (by id, by VPN IPv4, by VPN IPv6, by transport
 * address).  Writers hold ovpn->lock; the data path looks peers up under RCU
 * and takes a reference.  Each table membership owns one reference, dropped
 * when the peer is unhashed; the last reference frees the peer after a grace
 * period.
 */
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <net/addrconf.h>
#include <net/ip6_route.h>
#include <net/route.h>

#include "bind.h"
#include "keepalive.h"
#include "netlink.h"
#include "peer.h"
#include "socket.h"

/* peers of multi-peer servers are many: no kmalloc-512 rounding for them */
static struct kmem_cache *ovpn_peer_cache;

/**
 * ovpn_peer_cache_init - create the slab cache of peers (module load)
 *
 * Return: 0 or -ENOMEM.
 */
int __init ovpn_peer_cache_init(void)
{
	ovpn_peer_cache = KMEM_CACHE(ovpn_peer, SLAB_HWCACHE_ALIGN);
	return ovpn_peer_cache ? 0 : -ENOMEM;
}

/**
 * ovpn_peer_cache_destroy - destroy the slab cache of peers (module unload)
 *
 * The caller waited for the RCU callbacks that free peers (rcu_barrier()).
 */
void ovpn_peer_cache_destroy(void)
{
	kmem_cache_destroy(ovpn_peer_cache);
}

/**
 * ovpn_peer_new - allocate a peer (not yet visible)
 * @ovpn: the device
 * @id: the peer id
 *
 * Return: the peer with one reference owned by the caller, or ERR_PTR.
 */
struct ovpn_peer *ovpn_peer_new(struct ovpn_priv *ovpn, u32 id)
{
	struct ovpn_peer *peer;
	int ret;

	peer = kmem_cache_zalloc(ovpn_peer_cache, GFP_KERNEL);
	if (!peer)
		return ERR_PTR(-ENOMEM);

	ret = dst_cache_init(&peer->dst_cache, GFP_KERNEL);
	if (ret < 0) {
		kmem_cache_free(ovpn_peer_cache, peer);
		return ERR_PTR(ret);
	}

	peer->ovpn = ovpn;
	peer->id = id;
	peer->tx_id = id;
	INIT_HLIST_NODE(&peer->hash_entry_id);
	INIT_HLIST_NODE(&peer->hash_entry_addr4);
	INIT_HLIST_NODE(&peer->hash_entry_addr6);
	INIT_HLIST_NODE(&peer->hash_entry_transp_addr);
	ovpn_crypto_state_init(&peer->crypto);
	spin_lock_init(&peer->lock);
	peer->last_recv = jiffies;
	peer->last_sent = jiffies;
	ovpn_peer_stats_init(&peer->stats);
	kref_init(&peer->refcount);
	dev_hold(ovpn->dev);
	return peer;
}

static void ovpn_peer_free_rcu(struct rcu_head *head)
{
	struct ovpn_peer *peer = container_of(head, struct ovpn_peer, rcu);

	ovpn_crypto_state_release(&peer->crypto);
	dst_cache_destroy(&peer->dst_cache);
	kfree(rcu_dereference_protected(peer->bind, true));
	if (peer->sock)
		ovpn_socket_put(peer->sock);
	dev_put(peer->ovpn->dev);
	kmem_cache_free(ovpn_peer_cache, peer);
}

/**
 * ovpn_peer_release_kref - last reference of a peer dropped
 * @kref: the peer's refcount
 */
void ovpn_peer_release_kref(struct kref *kref)
{
	struct ovpn_peer *peer = container_of(kref, struct ovpn_peer, refcount);

	call_rcu(&peer->rcu, ovpn_peer_free_rcu);
}

static u32 ovpn_hash_addr4(__be32 addr)
{
	return jhash_1word((__force u32)addr, 0);
}

static u32 ovpn_hash_addr6(const struct in6_addr *addr)
{
	return jhash2((__force const u32 *)addr->s6_addr32, 4, 0);
}

static u32 ovpn_hash_sockaddr(const union ovpn_sockaddr *ss)
{
	if (ss->in4.sin_family == AF_INET)
		return jhash_2words((__force u32)ss->in4.sin_addr.s_addr,
				    (__force u32)ss->in4.sin_port, 0);
	return jhash2((__force const u32 *)ss->in6.sin6_addr.s6_addr32, 4,
		      (__force u32)ss->in6.sin6_port);
}

#define ovpn_bucket(tbl, key) (&(tbl)[hash_min(key, HASH_BITS(tbl))])

/* caller holds ovpn->lock */
static void ovpn_peer_hash_transp(struct ovpn_peer *peer)
	__must_hold(&peer->ovpn->lock)
{
	struct ovpn_peer_collection *peers = peer->ovpn->peers;
	const struct ovpn_bind *bind;
	u32 hash;

	lockdep_assert_held(&peer->ovpn->lock);
	/* the bind is peer->lock's; its address is all we need here */
	rcu_read_lock();
	bind = rcu_dereference(peer->bind);
	hash = bind ? ovpn_hash_sockaddr(&bind->remote) : 0;
	rcu_read_unlock();
	if (!bind)
		return;
	hlist_add_head_rcu(&peer->hash_entry_transp_addr,
			   ovpn_bucket(peers->by_transp_addr, hash));
}

/* caller holds ovpn->lock */
static void ovpn_peer_hash_vpn(struct ovpn_peer *peer)
	__must_hold(&peer->ovpn->lock)
{
	struct ovpn_peer_collection *peers = peer->ovpn->peers;

	lockdep_assert_held(&peer->ovpn->lock);
	if (peer->vpn_addrs.ipv4.s_addr != htonl(INADDR_ANY))
		hlist_add_head_rcu(&peer->hash_entry_addr4,
				   ovpn_bucket(peers->by_vpn_addr4,
					       ovpn_hash_addr4(peer->vpn_addrs.ipv4.s_addr)));
	if (!ipv6_addr_any(&peer->vpn_addrs.ipv6))
		hlist_add_head_rcu(&peer->hash_entry_addr6,
				   ovpn_bucket(peers->by_vpn_addr6,
					       ovpn_hash_addr6(&peer->vpn_addrs.ipv6)));
}

static void ovpn_peer_unhash_vpn(struct ovpn_peer *peer)
{
	hlist_del_init_rcu(&peer->hash_entry_addr4);
	hlist_del_init_rcu(&peer->hash_entry_addr6);
}

/* under ovpn->lock (MP) or rcu_read_lock(): the peer using a VPN address, no reference taken */
static struct ovpn_peer *ovpn_peer_vpn4_owner(struct ovpn_priv *ovpn,
					      __be32 addr)
{
	struct ovpn_peer *tmp;

	hlist_for_each_entry_rcu(tmp, ovpn_bucket(ovpn->peers->by_vpn_addr4,
						  ovpn_hash_addr4(addr)),
				 hash_entry_addr4, lockdep_is_held(&ovpn->lock))
		if (tmp->vpn_addrs.ipv4.s_addr == addr)
			return tmp;
	return NULL;
}

static struct ovpn_peer *ovpn_peer_vpn6_owner(struct ovpn_priv *ovpn,
					      const struct in6_addr *addr)
{
	struct ovpn_peer *tmp;

	hlist_for_each_entry_rcu(tmp, ovpn_bucket(ovpn->peers->by_vpn_addr6,
						  ovpn_hash_addr6(addr)),
				 hash_entry_addr6, lockdep_is_held(&ovpn->lock))
		if (ipv6_addr_equal(&tmp->vpn_addrs.ipv6, addr))
			return tmp;
	return NULL;
}

static struct ovpn_peer *ovpn_peer_id_owner(struct ovpn_priv *ovpn, u32 id)
{
	struct ovpn_peer *tmp;

	hlist_for_each_entry_rcu(tmp, ovpn_bucket(ovpn->peers->by_id, id),
				 hash_entry_id, lockdep_is_held(&ovpn->lock))
		if (tmp->id == id)
			return tmp;
	return NULL;
}

/* caller holds ovpn->lock; -EEXIST if another peer has one of the addresses */
static int ovpn_peer_vpn_addrs_free(struct ovpn_priv *ovpn,
				    const struct ovpn_peer *peer,
				    const struct in_addr *v4,
				    const struct in6_addr *v6,
				    struct netlink_ext_ack *extack)
	__must_hold(&ovpn->lock)
{
	struct ovpn_peer *owner;

	lockdep_assert_held(&ovpn->lock);

	if (v4 && v4->s_addr != htonl(INADDR_ANY)) {
		owner = ovpn_peer_vpn4_owner(ovpn, v4->s_addr);
		if (owner && owner != peer) {
			NL_SET_ERR_MSG_MOD(extack,
					   "VPN_IPV4 already belongs to another peer of this device");
			return -EEXIST;
		}
	}
	if (v6 && !ipv6_addr_any(v6)) {
		owner = ovpn_peer_vpn6_owner(ovpn, v6);
		if (owner && owner != peer) {
			NL_SET_ERR_MSG_MOD(extack,
					   "VPN_IPV6 already belongs to another peer of this device");
			return -EEXIST;
		}
	}
	return 0;
}

/**
 * ovpn_peer_add - make a peer visible on its device
 * @ovpn: the device
 * @peer: the peer (the tables take their own reference)
 * @extack: where to report a conflict
 *
 * P2P: replaces the current peer (deleted with reason TEARDOWN) and turns the
 * carrier on.  MP: the id and VPN addresses must be unused.
 *
 * Return: 0, -EEXIST on a conflict, -ENODEV if the device is going away.
 */
int ovpn_peer_add(struct ovpn_priv *ovpn, struct ovpn_peer *peer,
		  struct netlink_ext_ack *extack)
{
	struct ovpn_peer *old = NULL;
	int ret = 0;

	spin_lock_bh(&ovpn->lock);
	if (ovpn->dead) {
		NL_SET_ERR_MSG_MOD(extack, "device is being deleted");
		ret = -ENODEV;
		goto unlock;
	}

	if (ovpn->mode == OVPN_MODE_P2P) {
		old = rcu_dereference_protected(ovpn->peer,
						lockdep_is_held(&ovpn->lock));
		if (old) {
			old->removed = true;
			old->delete_reason = OVPN_DEL_PEER_REASON_TEARDOWN;
		}
		kref_get(&peer->refcount);
		rcu_assign_pointer(ovpn->peer, peer);
		netif_carrier_on(ovpn->dev);
		goto unlock;
	}

	if (ovpn_peer_id_owner(ovpn, peer->id)) {
		NL_SET_ERR_MSG_MOD(extack, "peer ID already exists on this device");
		ret = -EEXIST;
		goto unlock;
	}
	ret = ovpn_peer_vpn_addrs_free(ovpn, peer, &peer->vpn_addrs.ipv4,
				       &peer->vpn_addrs.ipv6, extack);
	if (ret)
		goto unlock;

	kref_get(&peer->refcount);
	hlist_add_head_rcu(&peer->hash_entry_id,
			   ovpn_bucket(ovpn->peers->by_id, peer->id));
	ovpn_peer_hash_vpn(peer);
	ovpn_peer_hash_transp(peer);
	ovpn->peers->count++;
unlock:
	spin_unlock_bh(&ovpn->lock);

	if (old) {
		ovpn_nl_peer_del_notify(old);
		ovpn_peer_put(old);
	}
	if (!ret)
		ovpn_keepalive_kick(peer);
	return ret;
}

/* caller holds ovpn->lock; the caller then notifies and drops the reference */
static void ovpn_peer_unhash(struct ovpn_peer *peer,
			     enum ovpn_del_peer_reason reason)
	__must_hold(&peer->ovpn->lock)
{
	struct ovpn_priv *ovpn = peer->ovpn;

	lockdep_assert_held(&ovpn->lock);
	peer->removed = true;
	peer->delete_reason = reason;

	if (ovpn->mode == OVPN_MODE_P2P) {
		RCU_INIT_POINTER(ovpn->peer, NULL);
		netif_carrier_off(ovpn->dev);
		return;
	}
	hlist_del_init_rcu(&peer->hash_entry_id);
	ovpn_peer_unhash_vpn(peer);
	hlist_del_init_rcu(&peer->hash_entry_transp_addr);
	ovpn->peers->count--;
}

/**
 * ovpn_peer_del - delete a peer and notify userspace
 * @peer: the peer (caller holds a reference)
 * @reason: reported in PEER_DEL_NTF
 *
 * Return: 0, or -ENOENT if somebody else deleted it first.
 */
int ovpn_peer_del(struct ovpn_peer *peer, enum ovpn_del_peer_reason reason)
{
	struct ovpn_priv *ovpn = peer->ovpn;

	spin_lock_bh(&ovpn->lock);
	if (peer->removed) {
		spin_unlock_bh(&ovpn->lock);
		return -ENOENT;
	}
	ovpn_peer_unhash(peer, reason);
	spin_unlock_bh(&ovpn->lock);

	ovpn_nl_peer_del_notify(peer);
	ovpn_peer_put(peer);
	return 0;
}

/**
 * ovpn_peers_free - delete every peer of a device, or those on a socket
 * @ovpn: the device
 * @osock: only peers using this socket, or NULL for all
 * @reason: reported in PEER_DEL_NTF
 */
void ovpn_peers_free(struct ovpn_priv *ovpn, const struct ovpn_socket *osock,
		     enum ovpn_del_peer_reason reason)
{
	struct ovpn_peer *peer;
	struct hlist_node *tmp;
	int bkt;

	spin_lock_bh(&ovpn->lock);
	if (ovpn->mode == OVPN_MODE_P2P) {
		peer = rcu_dereference_protected(ovpn->peer,
						 lockdep_is_held(&ovpn->lock));
		if (peer && (!osock || peer->sock == osock)) {
			ovpn_peer_unhash(peer, reason);
			ovpn_nl_peer_del_notify(peer);
			ovpn_peer_put(peer);
		}
	} else {
		hash_for_each_safe(ovpn->peers->by_id, bkt, tmp, peer,
				   hash_entry_id) {
			if (osock && peer->sock != osock)
				continue;
			ovpn_peer_unhash(peer, reason);
			ovpn_nl_peer_del_notify(peer);
			ovpn_peer_put(peer);
		}
	}
	spin_unlock_bh(&ovpn->lock);
}

/**
 * ovpn_peer_get_by_id - find a peer by the id packets carry
 * @ovpn: the device
 * @peer_id: the id
 *
 * Return: the peer with a reference held, or NULL.
 */
struct ovpn_peer *ovpn_peer_get_by_id(struct ovpn_priv *ovpn, u32 peer_id)
{
	struct ovpn_peer *peer, *found = NULL;

	rcu_read_lock();
	if (ovpn->mode == OVPN_MODE_P2P) {
		peer = rcu_dereference(ovpn->peer);
		if (peer && peer->id == peer_id && ovpn_peer_hold(peer))
			found = peer;
		goto out;
	}
	hlist_for_each_entry_rcu(peer, ovpn_bucket(ovpn->peers->by_id, peer_id),
				 hash_entry_id) {
		if (peer->id == peer_id) {
			if (ovpn_peer_hold(peer))
				found = peer;
			break;
		}
	}
out:
	rcu_read_unlock();
	return found;
}

/**
 * ovpn_peer_get_by_transp_addr - find the peer a packet came from (no peer id)
 * @ovpn: the device
 * @skb: received packet, network and transport headers set
 *
 * Return: the peer with a reference held, or NULL.
 */
struct ovpn_peer *ovpn_peer_get_by_transp_addr(struct ovpn_priv *ovpn,
					       struct sk_buff *skb)
{
	struct ovpn_peer *peer, *found = NULL;
	const struct ovpn_bind *bind;
	union ovpn_sockaddr ss;

	ovpn_bind_skb_src(skb, &ss);

	rcu_read_lock();
	if (ovpn->mode == OVPN_MODE_P2P) {
		peer = rcu_dereference(ovpn->peer);
		if (!peer)
			goto out;
		bind = rcu_dereference(peer->bind);
		if (bind && ovpn_sockaddr_equal(&bind->remote, &ss) &&
		    ovpn_peer_hold(peer))
			found = peer;
		goto out;
	}
	hlist_for_each_entry_rcu(peer, ovpn_bucket(ovpn->peers->by_transp_addr,
						   ovpn_hash_sockaddr(&ss)),
				 hash_entry_transp_addr) {
		bind = rcu_dereference(peer->bind);
		if (bind && ovpn_sockaddr_equal(&bind->remote, &ss)) {
			if (ovpn_peer_hold(peer))
				found = peer;
			break;
		}
	}
out:
	rcu_read_unlock();
	return found;
}

/* under rcu_read_lock(): the owner of a VPN address, with a reference held */
static struct ovpn_peer *ovpn_peer_get_by_vpn4(struct ovpn_priv *ovpn,
					       __be32 addr)
{
	struct ovpn_peer *peer = ovpn_peer_vpn4_owner(ovpn, addr);

	return peer && ovpn_peer_hold(peer) ? peer : NULL;
}

static struct ovpn_peer *ovpn_peer_get_by_vpn6(struct ovpn_priv *ovpn,
					       const struct in6_addr *addr)
{
	struct ovpn_peer *peer = ovpn_peer_vpn6_owner(ovpn, addr);

	return peer && ovpn_peer_hold(peer) ? peer : NULL;
}

/**
 * ovpn_peer_get_by_dst - pick the peer an outgoing packet is for
 * @ovpn: the device
 * @skb: the inner packet, with the route that sent it here attached
 *
 * MP: the route's next hop (or the destination, on a direct route) must be
 * a peer's VPN address.
 *
 * Return: the peer with a reference held, or NULL.
 */
struct ovpn_peer *ovpn_peer_get_by_dst(struct ovpn_priv *ovpn,
				       struct sk_buff *skb)
{
	struct ovpn_peer *peer = NULL;
	const struct in6_addr *nh6;
	struct dst_entry *dst;
	__be32 nh4;

	rcu_read_lock();
	if (ovpn->mode == OVPN_MODE_P2P) {
		peer = rcu_dereference(ovpn->peer);
		if (peer && !ovpn_peer_hold(peer))
			peer = NULL;
		goto out;
	}

	switch (skb->protocol) {
	case htons(ETH_P_IP):
		nh4 = ip_hdr(skb)->daddr;
		if (skb_rtable(skb))
			nh4 = rt_nexthop(skb_rtable(skb), nh4);
		peer = ovpn_peer_get_by_vpn4(ovpn, nh4);
		break;
	case htons(ETH_P_IPV6):
		nh6 = &ipv6_hdr(skb)->daddr;
		dst = skb_dst(skb);
		if (dst)
			nh6 = rt6_nexthop(ovpn_dst_rt6_info(dst), nh6);
		peer = ovpn_peer_get_by_vpn6(ovpn, nh6);
		break;
	}
out:
	rcu_read_unlock();
	return peer;
}

/* next hop towards @src through the ovpn device, as routing sees it */
static bool ovpn_src4_via_peer(struct ovpn_priv *ovpn, __be32 src,
			       const struct ovpn_peer *peer)
{
	struct flowi4 fl4 = { .daddr = src };
	struct rtable *rt;
	bool ok;

	rt = ip_route_output_key(dev_net(ovpn->dev), &fl4);
	if (IS_ERR(rt))
		return false;
	ok = rt->dst.dev == ovpn->dev &&
	     rt_nexthop(rt, src) == peer->vpn_addrs.ipv4.s_addr;
	ip_rt_put(rt);
	return ok;
}

static bool ovpn_src6_via_peer(struct ovpn_priv *ovpn,
			       const struct in6_addr *src,
			       const struct ovpn_peer *peer)
{
	struct flowi6 fl6 = { .daddr = *src };
	struct dst_entry *dst;
	bool ok;

	dst = ip6_route_output(dev_net(ovpn->dev), NULL, &fl6);
	if (dst->error) {
		dst_release(dst);
		return false;
	}
	ok = dst->dev == ovpn->dev &&
	     ipv6_addr_equal(rt6_nexthop(ovpn_dst_rt6_info(dst), src),
			     &peer->vpn_addrs.ipv6);
	dst_release(dst);
	return ok;
}

/**
 * ovpn_peer_check_by_src - may this peer send a packet with this source?
 * @ovpn: the device
 * @skb: the decrypted inner packet (network header set)
 * @peer: the peer that sent it
 *
 * P2P: anything goes.  MP: the source must be the peer's VPN address, or
 * be routed through the device via the peer (a network behind the peer).
 *
 * Return: true if the packet may be delivered.
 */
bool ovpn_peer_check_by_src(struct ovpn_priv *ovpn, struct sk_buff *skb,
			    struct ovpn_peer *peer)
{
	if (ovpn->mode == OVPN_MODE_P2P)
		return true;

	switch (skb->protocol) {
	case htons(ETH_P_IP):
		if (ip_hdr(skb)->saddr == peer->vpn_addrs.ipv4.s_addr)
			return true;
		return ovpn_src4_via_peer(ovpn, ip_hdr(skb)->saddr, peer);
	case htons(ETH_P_IPV6):
		if (ipv6_addr_equal(&ipv6_hdr(skb)->saddr, &peer->vpn_addrs.ipv6))
			return true;
		return ovpn_src6_via_peer(ovpn, &ipv6_hdr(skb)->saddr, peer);
	}
	return false;
}

/**
 * ovpn_peer_set_vpn_addrs - change the VPN addresses of a peer
 * @peer: the peer
 * @v4: new IPv4 (INADDR_ANY removes it) or NULL to keep the current one
 * @v6: new IPv6 (:: removes it) or NULL to keep the current one
 * @extack: where to report a conflict
 *
 * Before the peer is added, this only records the addresses.  MP: a peer
 * must keep at least one VPN address, and no two peers may share one.
 *
 * Return: 0, -EEXIST on a conflict, -EINVAL if no address would remain.
 */
int ovpn_peer_set_vpn_addrs(struct ovpn_peer *peer, const struct in_addr *v4,
			    const struct in6_addr *v6,
			    struct netlink_ext_ack *extack)
{
	struct ovpn_priv *ovpn = peer->ovpn;
	struct in6_addr new6;
	struct in_addr new4;
	bool hashed;
	int ret;

	spin_lock_bh(&ovpn->lock);
	new4 = v4 ? *v4 : peer->vpn_addrs.ipv4;
	new6 = v6 ? *v6 : peer->vpn_addrs.ipv6;

	hashed = ovpn->mode == OVPN_MODE_MP && !hlist_unhashed(&peer->hash_entry_id);
	if (ovpn->mode == OVPN_MODE_MP && new4.s_addr == htonl(INADDR_ANY) &&
	    ipv6_addr_any(&new6)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a multi-peer device needs VPN_IPV4 or VPN_IPV6 for each peer");
		ret = -EINVAL;
		goto unlock;
	}
	if (ovpn->mode == OVPN_MODE_MP) {
		ret = ovpn_peer_vpn_addrs_free(ovpn, peer, &new4, &new6, extack);
		if (ret)
			goto unlock;
	}

	if (hashed)
		ovpn_peer_unhash_vpn(peer);
	peer->vpn_addrs.ipv4 = new4;
	peer->vpn_addrs.ipv6 = new6;
	if (hashed)
		ovpn_peer_hash_vpn(peer);
	ret = 0;
unlock:
	spin_unlock_bh(&ovpn->lock);
	return ret;
}

/**
 * ovpn_peer_transp_rehash - move a peer to the bucket of its current remote
 * @peer: the peer (its bind was just replaced)
 */
void ovpn_peer_transp_rehash(struct ovpn_peer *peer)
{
	struct ovpn_priv *ovpn = peer->ovpn;

	if (ovpn->mode != OVPN_MODE_MP)
		return;

	spin_lock_bh(&ovpn->lock);
	/* a peer not added yet is hashed by ovpn_peer_add() */
	if (!peer->removed && !hlist_unhashed(&peer->hash_entry_id)) {
		hlist_del_init_rcu(&peer->hash_entry_transp_addr);
		ovpn_peer_hash_transp(peer);
	}
	spin_unlock_bh(&ovpn->lock);
}

/**
 * ovpn_peer_endpoints_update - follow a peer that changed address (float)
 * @peer: the peer
 * @skb: a packet that authenticated and passed the replay check
 */
void ovpn_peer_endpoints_update(struct ovpn_peer *peer, struct sk_buff *skb)
{
	const struct ovpn_bind *bind;
	struct ovpn_bind *new;
	union ovpn_sockaddr ss;
	bool same;

	ovpn_bind_skb_src(skb, &ss);

	rcu_read_lock();
	bind = rcu_dereference(peer->bind);
	same = bind && ovpn_sockaddr_equal(&bind->remote, &ss);
	rcu_read_unlock();
	if (likely(same))
		return;

	new = ovpn_bind_from_sockaddr(&ss);
	if (IS_ERR(new))
		return;
	/* answer from the address the peer wrote to */
	if (ss.in4.sin_family == AF_INET)
		new->local.ipv4.s_addr = ip_hdr(skb)->daddr;
	else
		new->local.ipv6 = ipv6_hdr(skb)->daddr;

	ovpn_bind_reset(peer, new);
	ovpn_peer_transp_rehash(peer);
	net_dbg_ratelimited("%s: peer %u floated\n", netdev_name(peer->ovpn->dev),
			    peer->id);
	ovpn_nl_peer_float_notify(peer, &ss);
}
