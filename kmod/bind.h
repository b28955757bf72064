/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: transport endpoint of a peer (remote address, local address)
 */
#ifndef _NET_OVPN_BIND_H_
#define _NET_OVPN_BIND_H_

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>

struct ovpn_peer;

/**
 * union ovpn_sockaddr - IPv4 or IPv6 transport address
 * @in4: IPv4 address and port
 * @in6: IPv6 address, port and scope id
 */
union ovpn_sockaddr {
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/**
 * struct ovpn_bind - where packets of a peer go and come from
 * @remote: the peer's address (family AF_INET or AF_INET6)
 * @local: our source address (unspecified: chosen by routing)
 * @local.ipv4: IPv4 source
 * @local.ipv6: IPv6 source
 * @rcu: deferred free
 */
struct ovpn_bind {
	union ovpn_sockaddr remote;
	union {
		struct in_addr ipv4;
		struct in6_addr ipv6;
	} local;
	struct rcu_head rcu;
};

static inline sa_family_t ovpn_bind_family(const struct ovpn_bind *bind)
{
	return bind->remote.in4.sin_family;
}

struct ovpn_bind *ovpn_bind_from_sockaddr(const union ovpn_sockaddr *ss);
void ovpn_bind_reset(struct ovpn_peer *peer, struct ovpn_bind *new);
bool ovpn_bind_skb_src_match(const struct ovpn_bind *bind,
			     const struct sk_buff *skb);
void ovpn_bind_skb_src(const struct sk_buff *skb, union ovpn_sockaddr *ss);
bool ovpn_sockaddr_equal(const union ovpn_sockaddr *a,
			 const union ovpn_sockaddr *b);

#endif /* _NET_OVPN_BIND_H_ */
