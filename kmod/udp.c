// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: UDP transport
 *
 * Receive: the socket is turned into a UDP tunnel socket; DATA_V2 packets
 * are taken by ovpn_udp_encap_recv(), anything else goes on to the socket
 * for userspace.  Transmit: encrypted packets are sent with the UDP tunnel
 * helpers using the socket's source port and a cached route.
 */
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/dst_cache.h>
#include <net/ipv6_stubs.h>
#include <net/ip6_route.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "bind.h"
#include "drop.h"
#include "io.h"
#include "main.h"
#include "peer.h"
#include "socket.h"
#include "udp.h"

/* Return: 0 if consumed, > 0 to hand the packet to the socket's owner */
static int ovpn_udp_encap_recv(struct sock *sk, struct sk_buff *skb)
{
	struct ovpn_socket *osock;
	struct ovpn_peer *peer;
	struct ovpn_priv *ovpn;
	u32 peer_id;
	u8 opcode;

	osock = rcu_dereference_sk_user_data(sk);
	if (unlikely(!osock))
		return 1;
	ovpn = osock->ovpn;

	/* empty datagrams and anything but DATA_V2 belong to userspace */
	if (skb->len < sizeof(struct udphdr) + 1 ||
	    !pskb_may_pull(skb, sizeof(struct udphdr) + 1))
		return 1;
	opcode = ovpn_opcode_from_byte(skb->data[sizeof(struct udphdr)]);
	if (opcode != OVPN_DATA_V2)
		return 1;

	if (unlikely(!pskb_may_pull(skb, sizeof(struct udphdr) +
				    OVPN_DATA_V2_HLEN))) {
		net_dbg_ratelimited("%s: truncated DATA_V2 packet\n",
				    netdev_name(ovpn->dev));
		ovpn_rx_drop(ovpn->dev, OVPN_DROP_MALFORMED);
		goto drop;
	}

	peer_id = ovpn_peer_id_from_skb(skb, sizeof(struct udphdr));
	if (peer_id == OVPN_PEER_ID_UNDEF)
		peer = ovpn_peer_get_by_transp_addr(ovpn, skb);
	else
		peer = ovpn_peer_get_by_id(ovpn, peer_id);
	if (unlikely(!peer)) {
		net_dbg_ratelimited("%s: DATA_V2 packet for unknown peer %u\n",
				    netdev_name(ovpn->dev), peer_id);
		ovpn_rx_drop(ovpn->dev, OVPN_DROP_NO_PEER);
		goto drop;
	}

	__skb_pull(skb, sizeof(struct udphdr));
	ovpn_recv(peer, skb);
	return 0;

drop:
	kfree_skb(skb);
	return 0;
}

/* userspace closed the socket: its peers go with it */
static void ovpn_udp_encap_destroy(struct sock *sk)
{
	struct ovpn_socket *osock;

	rcu_read_lock();
	osock = rcu_dereference_sk_user_data(sk);
	if (osock)
		ovpn_peers_free(osock->ovpn, osock,
				OVPN_DEL_PEER_REASON_TRANSPORT_DISCONNECT);
	rcu_read_unlock();
}

/**
 * ovpn_udp_socket_attach - make a UDP socket deliver DATA_V2 to the device
 * @osock: the socket wrapper (caller holds the socket lock)
 * @extack: unused for UDP, kept for transports that can refuse
 *
 * Return: 0.
 */
int ovpn_udp_socket_attach(struct ovpn_socket *osock,
			   struct netlink_ext_ack *extack)
{
	struct udp_tunnel_sock_cfg cfg = {
		.sk_user_data = osock,
		.encap_type = UDP_ENCAP_OVPNINUDP,
		.encap_rcv = ovpn_udp_encap_recv,
		.encap_destroy = ovpn_udp_encap_destroy,
	};

	setup_udp_tunnel_sock(sock_net(osock->sk), osock->sk->sk_socket, &cfg);
	return 0;
}

/**
 * ovpn_udp_socket_detach - give a UDP socket back to plain userspace use
 * @osock: the socket wrapper (caller holds the socket lock)
 */
void ovpn_udp_socket_detach(struct ovpn_socket *osock)
{
	struct sock *sk = osock->sk;

	WRITE_ONCE(udp_sk(sk)->encap_type, 0);
	WRITE_ONCE(udp_sk(sk)->encap_rcv, NULL);
	WRITE_ONCE(udp_sk(sk)->encap_destroy, NULL);
	rcu_assign_sk_user_data(sk, NULL);
}

static int ovpn_udp4_output(struct ovpn_peer *peer, const struct ovpn_bind *bind,
			    struct sock *sk, struct sk_buff *skb)
{
	struct net_device *dev = peer->ovpn->dev;
	struct flowi4 fl = {
		.saddr = bind->local.ipv4.s_addr,
		.daddr = bind->remote.in4.sin_addr.s_addr,
		.fl4_sport = inet_sk(sk)->inet_sport,
		.fl4_dport = bind->remote.in4.sin_port,
		.flowi4_proto = IPPROTO_UDP,
		.flowi4_mark = READ_ONCE(sk->sk_mark),
	};
	struct rtable *rt;

	rt = dst_cache_get_ip4(&peer->dst_cache, &fl.saddr);
	if (rt)
		goto transmit;

	rt = ip_route_output_flow(sock_net(sk), &fl, sk);
	if (IS_ERR(rt) && PTR_ERR(rt) == -EINVAL && fl.saddr) {
		/* the configured local address is gone: let routing choose */
		fl.saddr = 0;
		rt = ip_route_output_flow(sock_net(sk), &fl, sk);
	}
	if (IS_ERR(rt)) {
		net_dbg_ratelimited("%s: no route to %pI4:%u\n", netdev_name(dev),
				    &fl.daddr, ntohs(fl.fl4_dport));
		return PTR_ERR(rt);
	}
	if (unlikely(rt->dst.dev == dev)) {
		net_dbg_ratelimited("%s: transport route to %pI4 loops into the tunnel\n",
				    netdev_name(dev), &fl.daddr);
		ip_rt_put(rt);
		return -ELOOP;
	}
	dst_cache_set_ip4(&peer->dst_cache, &rt->dst, fl.saddr);

transmit:
	udp_tunnel_xmit_skb(rt, sk, skb, fl.saddr, fl.daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, fl.fl4_sport,
			    fl.fl4_dport, !net_eq(sock_net(sk), dev_net(dev)),
			    sk->sk_no_check_tx);
	return 0;
}

#if IS_ENABLED(CONFIG_IPV6)
static int ovpn_udp6_output(struct ovpn_peer *peer, const struct ovpn_bind *bind,
			    struct sock *sk, struct sk_buff *skb)
{
	struct net_device *dev = peer->ovpn->dev;
	struct dst_entry *dst;
	struct flowi6 fl = {
		.saddr = bind->local.ipv6,
		.daddr = bind->remote.in6.sin6_addr,
		.fl6_sport = inet_sk(sk)->inet_sport,
		.fl6_dport = bind->remote.in6.sin6_port,
		.flowi6_proto = IPPROTO_UDP,
		.flowi6_mark = READ_ONCE(sk->sk_mark),
		.flowi6_oif = bind->remote.in6.sin6_scope_id,
	};

	dst = dst_cache_get_ip6(&peer->dst_cache, &fl.saddr);
	if (dst)
		goto transmit;

	dst = ipv6_stub->ipv6_dst_lookup_flow(sock_net(sk), sk, &fl, NULL);
	if (IS_ERR(dst)) {
		net_dbg_ratelimited("%s: no route to [%pI6c]:%u\n",
				    netdev_name(dev), &fl.daddr,
				    ntohs(fl.fl6_dport));
		return PTR_ERR(dst);
	}
	if (unlikely(dst->dev == dev)) {
		net_dbg_ratelimited("%s: transport route to %pI6c loops into the tunnel\n",
				    netdev_name(dev), &fl.daddr);
		dst_release(dst);
		return -ELOOP;
	}
	dst_cache_set_ip6(&peer->dst_cache, dst, &fl.saddr);

transmit:
	/* An encapsulated packet may exceed the transport MTU; it is ours, so
	 * IPv6 may fragment it (ip6_fragment() honours ignore_df). IPv4 needs no
	 * flag: it is sent with DF clear.
	 */
	skb->ignore_df = 1;
	udp_tunnel6_xmit_skb(dst, sk, skb, dev, &fl.saddr, &fl.daddr, 0,
			     ip6_dst_hoplimit(dst), 0, fl.fl6_sport,
			     fl.fl6_dport, udp_get_no_check6_tx(sk));
	return 0;
}
#endif

/**
 * ovpn_udp_bind_from_connected - take a peer's remote from a connected socket
 * @peer: a peer without remote address yet
 * @sk: its UDP socket
 */
void ovpn_udp_bind_from_connected(struct ovpn_peer *peer, struct sock *sk)
{
	union ovpn_sockaddr ss = {};
	struct ovpn_bind *bind;

	if (sk->sk_state != TCP_ESTABLISHED)
		return;

	if (sk->sk_family == AF_INET) {
		ss.in4.sin_family = AF_INET;
		ss.in4.sin_addr.s_addr = inet_sk(sk)->inet_daddr;
		ss.in4.sin_port = inet_sk(sk)->inet_dport;
#if IS_ENABLED(CONFIG_IPV6)
	} else if (ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		/* a dual-stack socket connected to an IPv4 address */
		ss.in4.sin_family = AF_INET;
		ss.in4.sin_addr.s_addr = sk->sk_v6_daddr.s6_addr32[3];
		ss.in4.sin_port = inet_sk(sk)->inet_dport;
	} else {
		ss.in6.sin6_family = AF_INET6;
		ss.in6.sin6_addr = sk->sk_v6_daddr;
		ss.in6.sin6_port = inet_sk(sk)->inet_dport;
		ss.in6.sin6_scope_id = sk->sk_bound_dev_if;
#endif
	}

	bind = ovpn_bind_from_sockaddr(&ss);
	if (!IS_ERR(bind))
		ovpn_bind_reset(peer, bind);
}

/**
 * ovpn_udp_send_skb - send an encrypted packet to a peer
 * @peer: the peer
 * @sk: the peer's UDP socket
 * @skb: DATA_V2 packet (consumed)
 */
void ovpn_udp_send_skb(struct ovpn_peer *peer, struct sock *sk,
		       struct sk_buff *skb)
{
	const struct ovpn_bind *bind;
	int ret = -EAFNOSUPPORT;

	skb->dev = peer->ovpn->dev;
	skb->mark = READ_ONCE(sk->sk_mark);

	/* dst_cache is per cpu: stay on this one */
	local_bh_disable();
	rcu_read_lock();
	bind = rcu_dereference(peer->bind);
	if (unlikely(!bind)) {
		ret = -ENOTCONN;
		goto out;
	}
	switch (ovpn_bind_family(bind)) {
	case AF_INET:
		ret = ovpn_udp4_output(peer, bind, sk, skb);
		break;
#if IS_ENABLED(CONFIG_IPV6)
	case AF_INET6:
		ret = ovpn_udp6_output(peer, bind, sk, skb);
		break;
#endif
	}
out:
	rcu_read_unlock();
	local_bh_enable();

	if (unlikely(ret < 0)) {
		ovpn_tx_drop(peer->ovpn->dev, OVPN_DROP_SEND);
		kfree_skb(skb);
	}
}
