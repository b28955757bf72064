// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: transport endpoint of a peer (remote address, local address)
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/slab.h>
#include <linux/udp.h>
#include <net/ipv6.h>

#include "bind.h"
#include "peer.h"

/**
 * ovpn_bind_from_sockaddr - new endpoint for a remote address
 * @ss: AF_INET or AF_INET6 address with port
 *
 * Return: the endpoint (local address unspecified) or ERR_PTR.
 */
struct ovpn_bind *ovpn_bind_from_sockaddr(const union ovpn_sockaddr *ss)
{
	struct ovpn_bind *bind;

	if (ss->in4.sin_family != AF_INET && ss->in4.sin_family != AF_INET6)
		return ERR_PTR(-EAFNOSUPPORT);

	bind = kzalloc(sizeof(*bind), GFP_ATOMIC);
	if (!bind)
		return ERR_PTR(-ENOMEM);

	if (ss->in4.sin_family == AF_INET)
		bind->remote.in4 = ss->in4;
	else
		bind->remote.in6 = ss->in6;
	return bind;
}

/**
 * ovpn_bind_reset - replace the endpoint of a peer
 * @peer: the peer
 * @new: the new endpoint (ownership passes to the peer)
 */
void ovpn_bind_reset(struct ovpn_peer *peer, struct ovpn_bind *new)
{
	struct ovpn_bind *old;

	spin_lock_bh(&peer->lock);
	old = rcu_replace_pointer(peer->bind, new, lockdep_is_held(&peer->lock));
	/* cached routes were for the old endpoint */
	dst_cache_reset(&peer->dst_cache);
	spin_unlock_bh(&peer->lock);

	if (old)
		kfree_rcu(old, rcu);
}

/**
 * ovpn_bind_skb_src - source transport address of a received packet
 * @skb: a packet with network and UDP headers set
 * @ss: where to store the address
 */
void ovpn_bind_skb_src(const struct sk_buff *skb, union ovpn_sockaddr *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip_hdr(skb)->version == 4) {
		ss->in4.sin_family = AF_INET;
		ss->in4.sin_addr.s_addr = ip_hdr(skb)->saddr;
		ss->in4.sin_port = udp_hdr(skb)->source;
	} else {
		ss->in6.sin6_family = AF_INET6;
		ss->in6.sin6_addr = ipv6_hdr(skb)->saddr;
		ss->in6.sin6_port = udp_hdr(skb)->source;
		ss->in6.sin6_scope_id = ipv6_iface_scope_id(&ss->in6.sin6_addr,
							    skb->skb_iif);
	}
}

/**
 * ovpn_sockaddr_equal - same address and port?
 * @a: one address
 * @b: the other
 *
 * Return: true if family, address and port match.
 */
bool ovpn_sockaddr_equal(const union ovpn_sockaddr *a,
			 const union ovpn_sockaddr *b)
{
	if (a->in4.sin_family != b->in4.sin_family)
		return false;
	if (a->in4.sin_family == AF_INET)
		return a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr &&
		       a->in4.sin_port == b->in4.sin_port;
	return ipv6_addr_equal(&a->in6.sin6_addr, &b->in6.sin6_addr) &&
	       a->in6.sin6_port == b->in6.sin6_port;
}

/**
 * ovpn_bind_skb_src_match - did a packet come from the peer's endpoint?
 * @bind: the endpoint
 * @skb: a received packet with network and UDP headers set
 *
 * Return: true if source address and port match the remote.
 */
bool ovpn_bind_skb_src_match(const struct ovpn_bind *bind,
			     const struct sk_buff *skb)
{
	union ovpn_sockaddr ss;

	ovpn_bind_skb_src(skb, &ss);
	return ovpn_sockaddr_equal(&bind->remote, &ss);
}
