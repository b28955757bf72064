// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: generic netlink family "ovpn" (commands, policies, notifications)
 *
 * Numbers and validation rules follow mainline's ovpn family exactly; see
 * include/uapi/linux/ovpn.h.  Every request names its device by IFINDEX in
 * the caller's network namespace and needs CAP_NET_ADMIN there.
 */
#include <linux/file.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <uapi/linux/ovpn.h>

#include "ovpn-nl-policy.h"

#include "bind.h"
#include "crypto.h"
#include "dco.h"
#include "io.h"
#include "keepalive.h"
#include "main.h"
#include "netlink.h"
#include "peer.h"
#include "socket.h"
#include "udp.h"

enum ovpn_nl_mcgrp {
	OVPN_NLGRP_PEERS,
};

static const struct genl_multicast_group ovpn_nl_mcgrps[] = {
	[OVPN_NLGRP_PEERS] = { .name = OVPN_MCGRP_PEERS, },
};

static struct genl_family ovpn_nl_family;

/* mainline's keepalive policy range, in seconds */
#define OVPN_KEEPALIVE_MAX 86400

/*
 * strict_mainline: refuse attributes outside @allowed (no-op otherwise);
 * @by_hand: with the text of mainline's own check instead of its policy's
 */
static int ovpn_nl_strict_attrs(struct genl_info *info, struct nlattr **attrs,
				int maxtype, u32 allowed, bool by_hand)
{
	int i;

	if (!ovpn_strict_mainline)
		return 0;
	for (i = 1; i <= maxtype; i++) {
		if (attrs[i] && !(allowed & BIT(i))) {
			if (by_hand)
				NL_SET_ERR_MSG_ATTR(info->extack, attrs[i],
						    "unexpected attribute");
			else
				NL_SET_ERR_MSG_ATTR(info->extack, attrs[i],
						    "Unsupported attribute");
			return -EINVAL;
		}
	}
	return 0;
}

/* the ovpn device named by IFINDEX, with a reference held */
static struct ovpn_priv *ovpn_nl_get_dev(struct net *net, struct nlattr **attrs,
					 struct netlink_ext_ack *extack)
{
	struct net_device *dev;

	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, OVPN_A_IFINDEX)) {
		NL_SET_ERR_MSG_MOD(extack, "missing IFINDEX");
		return ERR_PTR(-EINVAL);
	}

	dev = dev_get_by_index(net, nla_get_u32(attrs[OVPN_A_IFINDEX]));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_IFINDEX],
				    "IFINDEX names no interface in this network namespace");
		return ERR_PTR(-ENODEV);
	}
	if (!ovpn_dev_is_valid(dev)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_IFINDEX],
				    "IFINDEX is not an ovpn interface");
		dev_put(dev);
		return ERR_PTR(-EINVAL);
	}
	return netdev_priv(dev);
}

/*
 * Every doit names its device by IFINDEX: pre_doit looks it up and holds it in
 * info->user_ptr[0] for the handler, post_doit releases it (it is not called
 * when pre_doit fails).
 */
static int ovpn_nl_pre_doit(const struct ovpn_genl_split_ops *ops,
			    struct sk_buff *skb, struct genl_info *info)
{
	struct ovpn_priv *ovpn;
	u32 allowed;
	int ret;

	switch (ops->cmd) {
	case OVPN_CMD_PEER_NEW:
	case OVPN_CMD_PEER_SET:
	case OVPN_CMD_PEER_GET:
	case OVPN_CMD_PEER_DEL:
		allowed = BIT(OVPN_A_IFINDEX) | BIT(OVPN_A_PEER);
		break;
	default:
		allowed = BIT(OVPN_A_IFINDEX) | BIT(OVPN_A_KEYCONF);
		break;
	}
	ret = ovpn_nl_strict_attrs(info, info->attrs, OVPN_A_MAX, allowed,
				   false);
	if (ret)
		return ret;

	ovpn = ovpn_nl_get_dev(genl_info_net(info), info->attrs, info->extack);
	if (IS_ERR(ovpn))
		return PTR_ERR(ovpn);
	info->user_ptr[0] = ovpn;
	return 0;
}

static void ovpn_nl_post_doit(const struct ovpn_genl_split_ops *ops,
			      struct sk_buff *skb, struct genl_info *info)
{
	struct ovpn_priv *ovpn = info->user_ptr[0];

	if (ovpn)
		dev_put(ovpn->dev);
}

static int ovpn_nl_parse_peer(struct nlattr **tb, struct genl_info *info)
{
	if (!info->attrs[OVPN_A_PEER]) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing PEER");
		return -EINVAL;
	}
	return nla_parse_nested(tb, OVPN_A_PEER_MAX, info->attrs[OVPN_A_PEER],
				ovpn_peer_nl_policy, info->extack);
}

static int ovpn_nl_parse_keyconf(struct nlattr **tb, struct genl_info *info)
{
	if (!info->attrs[OVPN_A_KEYCONF]) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing KEYCONF");
		return -EINVAL;
	}
	return nla_parse_nested(tb, OVPN_A_KEYCONF_MAX, info->attrs[OVPN_A_KEYCONF],
				ovpn_keyconf_nl_policy, info->extack);
}

/**
 * ovpn_nl_check_vpn4 - is this an IPv4 address a peer may have in the tunnel?
 * @attr: a 4-byte address attribute (ovpn or ovpn-dco-v2 family)
 * @setting: PEER_SET: 0.0.0.0 means "remove" and is accepted
 * @extack: where to say why not
 *
 * Return: 0 or -EINVAL.
 */
int ovpn_nl_check_vpn4(struct nlattr *attr, bool setting,
		       struct netlink_ext_ack *extack)
{
	__be32 a = nla_get_in_addr(attr);

	if (a == htonl(INADDR_ANY) && setting)
		return 0;
	if (ipv4_is_zeronet(a) || ipv4_is_loopback(a) || ipv4_is_multicast(a) ||
	    ipv4_is_lbcast(a)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "VPN_IPV4 must be a unicast address (not 0.0.0.0/8, loopback, multicast or broadcast)");
		return -EINVAL;
	}
	return 0;
}

/**
 * ovpn_nl_check_vpn6 - is this an IPv6 address a peer may have in the tunnel?
 * @attr: a 16-byte address attribute (ovpn or ovpn-dco-v2 family)
 * @setting: PEER_SET: :: means "remove" and is accepted
 * @extack: where to say why not
 *
 * Return: 0 or -EINVAL.
 */
int ovpn_nl_check_vpn6(struct nlattr *attr, bool setting,
		       struct netlink_ext_ack *extack)
{
	struct in6_addr a = nla_get_in6_addr(attr);

	if (ipv6_addr_any(&a) && setting)
		return 0;
	if (ipv6_addr_any(&a) || ipv6_addr_loopback(&a) ||
	    ipv6_addr_is_multicast(&a) || ipv6_addr_v4mapped(&a)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "VPN_IPV6 must be a unicast address (not ::, ::1, multicast or v4-mapped)");
		return -EINVAL;
	}
	return 0;
}

/* the family a remote or local address attribute pair means (v4-mapped: IPv4) */
static sa_family_t ovpn_nl_addr_family(struct nlattr *addr4,
				       struct nlattr *addr6)
{
	struct in6_addr a;

	if (addr4)
		return AF_INET;
	if (!addr6)
		return AF_UNSPEC;
	a = nla_get_in6_addr(addr6);
	return ipv6_addr_v4mapped(&a) ? AF_INET : AF_INET6;
}

/**
 * ovpn_nl_sock_reaches - can @sk send to and receive from a remote of @family?
 * @sk: the peer's transport socket
 * @family: AF_INET or AF_INET6 (v4-mapped remotes count as AF_INET)
 *
 * Return: true if so (a dual-stack IPv6 socket reaches IPv4 remotes too).
 */
bool ovpn_nl_sock_reaches(const struct sock *sk, sa_family_t family)
{
	if (sk->sk_family == family)
		return true;
	/* a dual-stack IPv6 socket carries IPv4 too */
	return IS_ENABLED(CONFIG_IPV6) && family == AF_INET &&
	       sk->sk_family == AF_INET6 && !ipv6_only_sock(sk);
}

/* checks that need no peer; @sk: the peer's socket */
static int ovpn_nl_peer_precheck(struct ovpn_priv *ovpn, struct genl_info *info,
				 struct nlattr **attrs, bool new,
				 const struct sock *sk)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *remote4 = attrs[OVPN_A_PEER_REMOTE_IPV4];
	struct nlattr *remote6 = attrs[OVPN_A_PEER_REMOTE_IPV6];
	sa_family_t remote_fam, local_fam;
	u32 ka;
	int ret;

	ret = ovpn_nl_strict_attrs(info, attrs, OVPN_A_PEER_MAX,
				   new ? OVPN_PEER_NEW_ATTRS : OVPN_PEER_SET_ATTRS,
				   false);
	if (ret)
		return ret;
	if (NL_REQ_ATTR_CHECK(extack, info->attrs[OVPN_A_PEER], attrs,
			      OVPN_A_PEER_ID)) {
		NL_SET_ERR_MSG_MOD(extack, "missing PEER ID");
		return -EINVAL;
	}
	if (new && NL_REQ_ATTR_CHECK(extack, info->attrs[OVPN_A_PEER], attrs,
				     OVPN_A_PEER_SOCKET)) {
		NL_SET_ERR_MSG_MOD(extack, "missing PEER SOCKET");
		return -EINVAL;
	}
	if (!new && attrs[OVPN_A_PEER_SOCKET]) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_PEER_SOCKET],
				    "the SOCKET of an existing peer cannot be changed");
		return -EINVAL;
	}
	if (remote4 && remote6) {
		NL_SET_ERR_MSG_ATTR(extack, remote6,
				    "give either REMOTE_IPV4 or REMOTE_IPV6, not both");
		return -EINVAL;
	}
	if ((remote4 || remote6) && !attrs[OVPN_A_PEER_REMOTE_PORT]) {
		NL_SET_ERR_MSG_MOD(extack, "REMOTE_PORT is required with a remote address");
		return -EINVAL;
	}
	if (!remote4 && !remote6 && attrs[OVPN_A_PEER_REMOTE_PORT]) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_PEER_REMOTE_PORT],
				    "REMOTE_PORT without REMOTE_IPV4 or REMOTE_IPV6");
		return -EINVAL;
	}
	if (attrs[OVPN_A_PEER_LOCAL_IPV4] && !remote4) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_PEER_LOCAL_IPV4],
				    "LOCAL_IPV4 without REMOTE_IPV4");
		return -EINVAL;
	}
	if (attrs[OVPN_A_PEER_LOCAL_IPV6] && !remote6) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_PEER_LOCAL_IPV6],
				    "LOCAL_IPV6 without REMOTE_IPV6");
		return -EINVAL;
	}
	/* a v4-mapped IPv6 address (::ffff:a.b.c.d) stands for the IPv4 one */
	remote_fam = ovpn_nl_addr_family(remote4, remote6);
	local_fam = ovpn_nl_addr_family(attrs[OVPN_A_PEER_LOCAL_IPV4],
					attrs[OVPN_A_PEER_LOCAL_IPV6]);
	if (local_fam != AF_UNSPEC && local_fam != remote_fam) {
		NL_SET_ERR_MSG_MOD(extack,
				   "LOCAL and REMOTE addresses are of different families");
		return -EINVAL;
	}
	if (attrs[OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID] && remote_fam != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID],
				    "REMOTE_IPV6_SCOPE_ID without REMOTE_IPV6");
		return -EINVAL;
	}
	if (remote_fam == AF_INET) {
		struct nlattr *remote = remote4 ?: remote6;
		struct in6_addr a6;
		__be32 a;

		if (remote4) {
			a = nla_get_in_addr(remote4);
		} else {
			a6 = nla_get_in6_addr(remote6);
			a = a6.s6_addr32[3];
		}
		if (!ovpn_nl_sock_reaches(sk, AF_INET)) {
			NL_SET_ERR_MSG_ATTR(extack, remote,
					    "an IPv4 remote needs an IPv4 or dual-stack IPv6 SOCKET");
			return -EAFNOSUPPORT;
		}
		if (ipv4_is_zeronet(a) || ipv4_is_multicast(a) ||
		    ipv4_is_lbcast(a)) {
			NL_SET_ERR_MSG_ATTR(extack, remote,
					    "REMOTE_IPV4 must be a unicast address");
			return -EINVAL;
		}
	}
	if (remote_fam == AF_INET6) {
		struct in6_addr a = nla_get_in6_addr(remote6);

		if (!ovpn_nl_sock_reaches(sk, AF_INET6)) {
			NL_SET_ERR_MSG_ATTR(extack, remote6,
					    "REMOTE_IPV6 needs an IPv6 SOCKET");
			return -EAFNOSUPPORT;
		}
		if (ipv6_addr_any(&a) || ipv6_addr_is_multicast(&a)) {
			NL_SET_ERR_MSG_ATTR(extack, remote6,
					    "REMOTE_IPV6 must be a unicast address");
			return -EINVAL;
		}
	}
	/* as mainline: only an MP device selects peers by VPN address */
	if (ovpn->mode == OVPN_MODE_P2P &&
	    (attrs[OVPN_A_PEER_VPN_IPV4] || attrs[OVPN_A_PEER_VPN_IPV6])) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_PEER_VPN_IPV4] ?:
				    attrs[OVPN_A_PEER_VPN_IPV6],
				    "unexpected VPN IP in P2P mode");
		return -EINVAL;
	}
	if (attrs[OVPN_A_PEER_VPN_IPV4]) {
		ret = ovpn_nl_check_vpn4(attrs[OVPN_A_PEER_VPN_IPV4], !new, extack);
		if (ret)
			return ret;
	}
	if (attrs[OVPN_A_PEER_VPN_IPV6]) {
		ret = ovpn_nl_check_vpn6(attrs[OVPN_A_PEER_VPN_IPV6], !new, extack);
		if (ret)
			return ret;
	}
	if (new && ovpn->mode == OVPN_MODE_MP && !attrs[OVPN_A_PEER_VPN_IPV4] &&
	    !attrs[OVPN_A_PEER_VPN_IPV6]) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a multi-peer device needs VPN_IPV4 or VPN_IPV6 for each peer");
		return -EINVAL;
	}
	if (!!attrs[OVPN_A_PEER_KEEPALIVE_INTERVAL] !=
	    !!attrs[OVPN_A_PEER_KEEPALIVE_TIMEOUT]) {
		NL_SET_ERR_MSG_MOD(extack,
				   "KEEPALIVE_INTERVAL and KEEPALIVE_TIMEOUT go together");
		return -EINVAL;
	}
	if (ovpn_strict_mainline && attrs[OVPN_A_PEER_KEEPALIVE_INTERVAL]) {
		ka = nla_get_u32(attrs[OVPN_A_PEER_KEEPALIVE_INTERVAL]);
		if (ka > OVPN_KEEPALIVE_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_PEER_KEEPALIVE_INTERVAL],
					    "integer out of range");
			return -ERANGE;
		}
		ka = nla_get_u32(attrs[OVPN_A_PEER_KEEPALIVE_TIMEOUT]);
		if (ka > OVPN_KEEPALIVE_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_A_PEER_KEEPALIVE_TIMEOUT],
					    "integer out of range");
			return -ERANGE;
		}
	}
	return 0;
}

/**
 * ovpn_nl_peer_set_remote - point a peer at its transport address
 * @peer: the peer
 * @ss: the remote (AF_INET or AF_INET6; a v4-mapped one already unwrapped)
 * @local4: our source IPv4 for it, or NULL (used with an AF_INET @ss only)
 * @local6: our source IPv6 for it, or NULL (used with an AF_INET6 @ss only)
 *
 * Shared by the ovpn and the ovpn-dco-v2 families.
 *
 * Return: 0 or a negative errno.
 */
int ovpn_nl_peer_set_remote(struct ovpn_peer *peer,
			    const union ovpn_sockaddr *ss,
			    const struct in_addr *local4,
			    const struct in6_addr *local6)
{
	struct ovpn_bind *bind;

	bind = ovpn_bind_from_sockaddr(ss);
	if (IS_ERR(bind))
		return PTR_ERR(bind);
	if (ss->in4.sin_family == AF_INET && local4)
		bind->local.ipv4 = *local4;
	if (ss->in4.sin_family == AF_INET6 && local6)
		bind->local.ipv6 = *local6;
	ovpn_bind_reset(peer, bind);
	ovpn_peer_transp_rehash(peer);
	return 0;
}

/**
 * ovpn_nl_peer_create - a new peer on a userspace socket, not yet visible
 * @ovpn: the device
 * @id: the peer id
 * @sock: the socket (the caller holds its file while this runs)
 * @extack: where to say why the socket cannot be used
 *
 * Shared by the ovpn and the ovpn-dco-v2 families: configure the result, then
 * ovpn_nl_peer_commit() it, then drop the caller's reference.
 *
 * Return: the peer with a reference for the caller, or ERR_PTR.
 */
struct ovpn_peer *ovpn_nl_peer_create(struct ovpn_priv *ovpn, u32 id,
				      struct socket *sock,
				      struct netlink_ext_ack *extack)
{
	struct ovpn_socket *osock;
	struct ovpn_peer *peer;

	peer = ovpn_peer_new(ovpn, id);
	if (IS_ERR(peer))
		return peer;
	osock = ovpn_socket_new(sock, ovpn, extack);
	if (IS_ERR(osock)) {
		ovpn_peer_put(peer);
		return ERR_CAST(osock);
	}
	peer->sock = osock;
	return peer;
}

/**
 * ovpn_nl_peer_commit - add a configured new peer to its device
 * @peer: from ovpn_nl_peer_create() (the caller keeps its reference)
 * @extack: where to report a conflict
 *
 * No remote given: a connected socket names it; otherwise the peer's first
 * authenticated packet will (see ovpn_peer_endpoints_update()).
 *
 * Return: 0 or a negative errno (see ovpn_peer_add()).
 */
int ovpn_nl_peer_commit(struct ovpn_peer *peer, struct netlink_ext_ack *extack)
{
	if (!rcu_access_pointer(peer->bind))
		ovpn_udp_bind_from_connected(peer, peer->sock->sk);
	return ovpn_peer_add(peer->ovpn, peer, extack);
}

/* apply the (prechecked) attributes of PEER_NEW / PEER_SET */
static int ovpn_nl_peer_modify(struct ovpn_peer *peer, struct genl_info *info,
			       struct nlattr **attrs)
{
	struct in6_addr v6, a6, l6 = {}, *pv6 = NULL;
	struct in_addr v4, l4 = {}, *pv4 = NULL;
	union ovpn_sockaddr ss = {};
	int ret;

	if (attrs[OVPN_A_PEER_VPN_IPV4]) {
		v4.s_addr = nla_get_in_addr(attrs[OVPN_A_PEER_VPN_IPV4]);
		pv4 = &v4;
	}
	if (attrs[OVPN_A_PEER_VPN_IPV6]) {
		v6 = nla_get_in6_addr(attrs[OVPN_A_PEER_VPN_IPV6]);
		pv6 = &v6;
	}
	if (pv4 || pv6) {
		ret = ovpn_peer_set_vpn_addrs(peer, pv4, pv6, info->extack);
		if (ret) {
			NL_SET_BAD_ATTR(info->extack, attrs[pv4 ? OVPN_A_PEER_VPN_IPV4 :
							    OVPN_A_PEER_VPN_IPV6]);
			return ret;
		}
	}

	if (attrs[OVPN_A_PEER_REMOTE_IPV4]) {
		ss.in4.sin_family = AF_INET;
		ss.in4.sin_addr.s_addr = nla_get_in_addr(attrs[OVPN_A_PEER_REMOTE_IPV4]);
		ss.in4.sin_port = nla_get_be16(attrs[OVPN_A_PEER_REMOTE_PORT]);
	} else if (attrs[OVPN_A_PEER_REMOTE_IPV6]) {
		a6 = nla_get_in6_addr(attrs[OVPN_A_PEER_REMOTE_IPV6]);
		if (ipv6_addr_v4mapped(&a6)) {
			/* as mainline: a v4-mapped remote is an IPv4 remote */
			ss.in4.sin_family = AF_INET;
			ss.in4.sin_addr.s_addr = a6.s6_addr32[3];
			ss.in4.sin_port = nla_get_be16(attrs[OVPN_A_PEER_REMOTE_PORT]);
		} else {
			ss.in6.sin6_family = AF_INET6;
			ss.in6.sin6_addr = a6;
			ss.in6.sin6_port = nla_get_be16(attrs[OVPN_A_PEER_REMOTE_PORT]);
			if (attrs[OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID])
				ss.in6.sin6_scope_id =
					nla_get_u32(attrs[OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID]);
		}
	}
	if (ss.in4.sin_family) {
		if (attrs[OVPN_A_PEER_LOCAL_IPV4])
			l4.s_addr = nla_get_in_addr(attrs[OVPN_A_PEER_LOCAL_IPV4]);
		if (attrs[OVPN_A_PEER_LOCAL_IPV6]) {
			a6 = nla_get_in6_addr(attrs[OVPN_A_PEER_LOCAL_IPV6]);
			/* prechecked: v4-mapped only with a v4-mapped remote */
			if (ss.in4.sin_family == AF_INET)
				l4.s_addr = a6.s6_addr32[3];
			else
				l6 = a6;
		}
		ret = ovpn_nl_peer_set_remote(peer, &ss, &l4, &l6);
		if (ret)
			return ret;
	}

	if (attrs[OVPN_A_PEER_TX_ID])
		WRITE_ONCE(peer->tx_id, nla_get_u32(attrs[OVPN_A_PEER_TX_ID]));

	if (attrs[OVPN_A_PEER_KEEPALIVE_INTERVAL])
		ovpn_keepalive_set(peer,
				   nla_get_u32(attrs[OVPN_A_PEER_KEEPALIVE_INTERVAL]),
				   nla_get_u32(attrs[OVPN_A_PEER_KEEPALIVE_TIMEOUT]));
	return 0;
}

static int ovpn_nl_peer_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ovpn_priv *ovpn = info->user_ptr[0];
	struct nlattr *attrs[OVPN_A_PEER_MAX + 1];
	struct ovpn_peer *peer;
	struct socket *sock;
	int ret;

	ret = ovpn_nl_parse_peer(attrs, info);
	if (ret)
		return ret;
	if (NL_REQ_ATTR_CHECK(info->extack, info->attrs[OVPN_A_PEER], attrs,
			      OVPN_A_PEER_SOCKET)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing PEER SOCKET");
		return -EINVAL;
	}

	/* held until the peer is visible: a close() then finds and deletes it */
	sock = sockfd_lookup(nla_get_u32(attrs[OVPN_A_PEER_SOCKET]), &ret);
	if (!sock) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[OVPN_A_PEER_SOCKET],
				    "SOCKET is not an open socket of the caller");
		return ret;
	}

	ret = ovpn_nl_peer_precheck(ovpn, info, attrs, true, sock->sk);
	if (ret)
		goto put_sock;
	if (ovpn_strict_mainline && sock->sk->sk_protocol == IPPROTO_UDP &&
	    !attrs[OVPN_A_PEER_REMOTE_IPV4] && !attrs[OVPN_A_PEER_REMOTE_IPV6]) {
		/* kovpn otherwise takes it from a connected socket or the first packet */
		NL_SET_ERR_MSG_MOD(info->extack,
				   "missing remote IP address for UDP socket");
		ret = -EINVAL;
		goto put_sock;
	}

	peer = ovpn_nl_peer_create(ovpn, nla_get_u32(attrs[OVPN_A_PEER_ID]),
				   sock, info->extack);
	if (IS_ERR(peer)) {
		if (PTR_ERR(peer) != -ENOMEM)
			NL_SET_BAD_ATTR(info->extack, attrs[OVPN_A_PEER_SOCKET]);
		ret = PTR_ERR(peer);
		goto put_sock;
	}

	ret = ovpn_nl_peer_modify(peer, info, attrs);
	if (ret)
		goto put_peer;
	ret = ovpn_nl_peer_commit(peer, info->extack);
	if (ret)
		NL_SET_BAD_ATTR(info->extack, attrs[OVPN_A_PEER_ID]);

put_peer:
	ovpn_peer_put(peer);
put_sock:
	sockfd_put(sock);
	return ret;
}

/* the peer named by PEER ID, with a reference held */
static struct ovpn_peer *ovpn_nl_get_peer(struct ovpn_priv *ovpn,
					  struct genl_info *info,
					  struct nlattr *nest, struct nlattr **attrs,
					  int id_attr)
{
	struct ovpn_peer *peer;

	if (NL_REQ_ATTR_CHECK(info->extack, nest, attrs, id_attr)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing PEER ID");
		return ERR_PTR(-EINVAL);
	}
	peer = ovpn_peer_get_by_id(ovpn, nla_get_u32(attrs[id_attr]));
	if (!peer) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[id_attr],
				    "no peer with this ID on the interface");
		return ERR_PTR(-ENOENT);
	}
	return peer;
}

/* common head of PEER_SET / PEER_GET / PEER_DEL: the peer, with a reference held */
static struct ovpn_peer *ovpn_nl_peer_of(struct genl_info *info,
					 struct nlattr **attrs, u32 strict_allowed,
					 bool by_hand)
{
	int ret;

	ret = ovpn_nl_parse_peer(attrs, info);
	if (ret)
		return ERR_PTR(ret);
	ret = ovpn_nl_strict_attrs(info, attrs, OVPN_A_PEER_MAX, strict_allowed,
				   by_hand);
	if (ret)
		return ERR_PTR(ret);
	return ovpn_nl_get_peer(info->user_ptr[0], info, info->attrs[OVPN_A_PEER],
				attrs, OVPN_A_PEER_ID);
}

static int ovpn_nl_peer_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ovpn_priv *ovpn = info->user_ptr[0];
	struct nlattr *attrs[OVPN_A_PEER_MAX + 1];
	struct ovpn_peer *peer;
	int ret;

	peer = ovpn_nl_peer_of(info, attrs, U32_MAX, false);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	ret = ovpn_nl_peer_precheck(ovpn, info, attrs, false, peer->sock->sk);
	if (!ret)
		ret = ovpn_nl_peer_modify(peer, info, attrs);
	/* as mainline: another peer's VPN address is "in use" on PEER_SET */
	if (ret == -EEXIST)
		ret = -EADDRINUSE;
	ovpn_peer_put(peer);
	return ret;
}

static int ovpn_nl_put_bind(struct sk_buff *skb, const struct ovpn_bind *bind)
{
	if (ovpn_bind_family(bind) == AF_INET) {
		if (nla_put_in_addr(skb, OVPN_A_PEER_REMOTE_IPV4,
				    bind->remote.in4.sin_addr.s_addr) ||
		    nla_put_net16(skb, OVPN_A_PEER_REMOTE_PORT,
				  bind->remote.in4.sin_port))
			return -EMSGSIZE;
		if (bind->local.ipv4.s_addr != htonl(INADDR_ANY) &&
		    nla_put_in_addr(skb, OVPN_A_PEER_LOCAL_IPV4,
				    bind->local.ipv4.s_addr))
			return -EMSGSIZE;
		return 0;
	}
	if (nla_put_in6_addr(skb, OVPN_A_PEER_REMOTE_IPV6,
			     &bind->remote.in6.sin6_addr) ||
	    nla_put_net16(skb, OVPN_A_PEER_REMOTE_PORT,
			  bind->remote.in6.sin6_port))
		return -EMSGSIZE;
	if (bind->remote.in6.sin6_scope_id &&
	    nla_put_u32(skb, OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID,
			bind->remote.in6.sin6_scope_id))
		return -EMSGSIZE;
	if (!ipv6_addr_any(&bind->local.ipv6) &&
	    nla_put_in6_addr(skb, OVPN_A_PEER_LOCAL_IPV6, &bind->local.ipv6))
		return -EMSGSIZE;
	return 0;
}

static int ovpn_nl_put_stat(struct sk_buff *skb, int bytes_attr,
			    int packets_attr, const struct ovpn_peer_stat *stat)
{
	if (ovpn_nla_put_uint(skb, bytes_attr, atomic64_read(&stat->bytes)) ||
	    ovpn_nla_put_uint(skb, packets_attr, atomic64_read(&stat->packets)))
		return -EMSGSIZE;
	return 0;
}

/* one PEER_GET reply (or dump entry) describing @peer */
static int ovpn_nl_send_peer(struct sk_buff *skb, u32 portid, u32 seq,
			     struct ovpn_peer *peer, int flags)
{
	struct net *dev_net_ = dev_net(peer->ovpn->dev);
	struct sock *sk = peer->sock->sk;
	const struct ovpn_bind *bind;
	struct nlattr *attr;
	void *hdr;
	int id;

	hdr = genlmsg_put(skb, portid, seq, &ovpn_nl_family, flags,
			  OVPN_CMD_PEER_GET);
	if (!hdr)
		return -EMSGSIZE;

	attr = nla_nest_start(skb, OVPN_A_PEER);
	if (!attr)
		goto err;

	if (nla_put_u32(skb, OVPN_A_PEER_ID, peer->id) ||
	    nla_put_u32(skb, OVPN_A_PEER_TX_ID, READ_ONCE(peer->tx_id)))
		goto err;

	if (!net_eq(dev_net_, sock_net(sk))) {
		id = peernet2id_alloc(dev_net_, sock_net(sk), GFP_ATOMIC);
		if (nla_put_s32(skb, OVPN_A_PEER_SOCKET_NETNSID, id))
			goto err;
	}

	if (peer->vpn_addrs.ipv4.s_addr != htonl(INADDR_ANY) &&
	    nla_put_in_addr(skb, OVPN_A_PEER_VPN_IPV4, peer->vpn_addrs.ipv4.s_addr))
		goto err;
	if (!ipv6_addr_any(&peer->vpn_addrs.ipv6) &&
	    nla_put_in6_addr(skb, OVPN_A_PEER_VPN_IPV6, &peer->vpn_addrs.ipv6))
		goto err;

	rcu_read_lock();
	bind = rcu_dereference(peer->bind);
	if (bind && ovpn_nl_put_bind(skb, bind)) {
		rcu_read_unlock();
		goto err;
	}
	rcu_read_unlock();

	if (nla_put_net16(skb, OVPN_A_PEER_LOCAL_PORT, inet_sk(sk)->inet_sport) ||
	    nla_put_u32(skb, OVPN_A_PEER_KEEPALIVE_INTERVAL,
			READ_ONCE(peer->keepalive_interval)) ||
	    nla_put_u32(skb, OVPN_A_PEER_KEEPALIVE_TIMEOUT,
			READ_ONCE(peer->keepalive_timeout)) ||
	    ovpn_nl_put_stat(skb, OVPN_A_PEER_VPN_RX_BYTES,
			     OVPN_A_PEER_VPN_RX_PACKETS, &peer->stats.vpn.rx) ||
	    ovpn_nl_put_stat(skb, OVPN_A_PEER_VPN_TX_BYTES,
			     OVPN_A_PEER_VPN_TX_PACKETS, &peer->stats.vpn.tx) ||
	    ovpn_nl_put_stat(skb, OVPN_A_PEER_LINK_RX_BYTES,
			     OVPN_A_PEER_LINK_RX_PACKETS, &peer->stats.link.rx) ||
	    ovpn_nl_put_stat(skb, OVPN_A_PEER_LINK_TX_BYTES,
			     OVPN_A_PEER_LINK_TX_PACKETS, &peer->stats.link.tx))
		goto err;

	nla_nest_end(skb, attr);
	genlmsg_end(skb, hdr);
	return 0;
err:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/**
 * ovpn_nl_reply_peer - answer a GET_PEER request with one peer, either family
 * @info: the request
 * @peer: the peer, whose reference is dropped here
 * @send: the family's peer message writer
 *
 * Return: 0 or a negative error code.
 */
int ovpn_nl_reply_peer(struct genl_info *info, struct ovpn_peer *peer,
		       ovpn_nl_send_peer_t send)
{
	struct sk_buff *msg;
	int ret;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto put_peer;
	}
	ret = send(msg, info->snd_portid, info->snd_seq, peer, 0);
	if (ret) {
		nlmsg_free(msg);
		goto put_peer;
	}
	ret = genlmsg_reply(msg, info);
put_peer:
	ovpn_peer_put(peer);
	return ret;
}

/**
 * ovpn_nl_dump_peers - one round of a GET_PEER dump, either family
 * @skb: the dump's message
 * @cb: the dump's state (args[0]: peers already sent)
 * @ovpn: the device, whose reference is dropped here
 * @send: the family's peer message writer
 *
 * Return: the message's length (0 ends the dump).
 */
int ovpn_nl_dump_peers(struct sk_buff *skb, struct netlink_callback *cb,
		       struct ovpn_priv *ovpn, ovpn_nl_send_peer_t send)
{
	long skip = cb->args[0], idx = 0;
	struct ovpn_peer *peer;
	int bkt;

	rcu_read_lock();
	if (ovpn->mode == OVPN_MODE_P2P) {
		peer = rcu_dereference(ovpn->peer);
		if (peer && skip == 0 &&
		    !send(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  peer, NLM_F_MULTI))
			idx++;
	} else {
		hash_for_each_rcu(ovpn->peers->by_id, bkt, peer, hash_entry_id) {
			if (idx < skip) {
				idx++;
				continue;
			}
			if (send(skb, NETLINK_CB(cb->skb).portid,
				 cb->nlh->nlmsg_seq, peer, NLM_F_MULTI))
				break;
			idx++;
		}
	}
	rcu_read_unlock();
	dev_put(ovpn->dev);

	cb->args[0] = idx;
	return skb->len;
}

static int ovpn_nl_peer_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attrs[OVPN_A_PEER_MAX + 1];
	struct ovpn_peer *peer;

	peer = ovpn_nl_peer_of(info, attrs, OVPN_PEER_GET_ATTRS, true);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	return ovpn_nl_reply_peer(info, peer, ovpn_nl_send_peer);
}

static int ovpn_nl_peer_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct ovpn_priv *ovpn;

	ovpn = ovpn_nl_get_dev(sock_net(cb->skb->sk), ovpn_genl_dumpit_attrs(info),
			       cb->extack);
	if (IS_ERR(ovpn))
		return PTR_ERR(ovpn);

	return ovpn_nl_dump_peers(skb, cb, ovpn, ovpn_nl_send_peer);
}

static int ovpn_nl_peer_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attrs[OVPN_A_PEER_MAX + 1];
	struct ovpn_peer *peer;
	int ret;

	peer = ovpn_nl_peer_of(info, attrs, OVPN_PEER_DEL_ATTRS, false);
	if (IS_ERR(peer))
		return PTR_ERR(peer);
	ret = ovpn_peer_del(peer, OVPN_DEL_PEER_REASON_USERSPACE);
	if (ret)
		NL_SET_ERR_MSG_MOD(info->extack, "peer is already being deleted");
	else
		ovpn_socket_detach_tcp(peer->sock);
	ovpn_peer_put(peer);
	return ret;
}

/**
 * ovpn_nl_check_key_size - is @key as long as the keys of @alg?
 * @alg: AES-GCM or ChaCha20-Poly1305
 * @key: the CIPHER_KEY attribute (ovpn or ovpn-dco-v2 family)
 * @extack: where to say why not
 *
 * Return: 0 or -EINVAL.
 */
int ovpn_nl_check_key_size(enum ovpn_cipher_alg alg, const struct nlattr *key,
			   struct netlink_ext_ack *extack)
{
	int len = nla_len(key);

	if (alg == OVPN_CIPHER_ALG_AES_GCM && len != 16 && len != 24 && len != 32) {
		NL_SET_ERR_MSG_ATTR(extack, key,
				    "CIPHER_KEY for AES-GCM must be 16, 24 or 32 bytes");
		return -EINVAL;
	}
	if (alg == OVPN_CIPHER_ALG_CHACHA20_POLY1305 && len != 32) {
		NL_SET_ERR_MSG_ATTR(extack, key,
				    "CIPHER_KEY for ChaCha20-Poly1305 must be 32 bytes");
		return -EINVAL;
	}
	return 0;
}

static int ovpn_nl_get_keydir(struct genl_info *info, struct nlattr *keyconf,
			      struct nlattr **kattrs, int dir_attr,
			      enum ovpn_cipher_alg alg,
			      struct ovpn_key_direction *dir)
{
	struct nlattr *attrs[OVPN_A_KEYDIR_MAX + 1];
	struct nlattr *key;
	size_t len;
	int ret;

	if (NL_REQ_ATTR_CHECK(info->extack, keyconf, kattrs, dir_attr)) {
		if (dir_attr == OVPN_A_KEYCONF_ENCRYPT_DIR)
			NL_SET_ERR_MSG_MOD(info->extack, "missing KEYCONF ENCRYPT_DIR");
		else
			NL_SET_ERR_MSG_MOD(info->extack, "missing KEYCONF DECRYPT_DIR");
		return -EINVAL;
	}
	ret = nla_parse_nested(attrs, OVPN_A_KEYDIR_MAX, kattrs[dir_attr],
			       ovpn_keydir_nl_policy, info->extack);
	if (ret)
		return ret;

	if (NL_REQ_ATTR_CHECK(info->extack, kattrs[dir_attr], attrs,
			      OVPN_A_KEYDIR_CIPHER_KEY) ||
	    NL_REQ_ATTR_CHECK(info->extack, kattrs[dir_attr], attrs,
			      OVPN_A_KEYDIR_NONCE_TAIL)) {
		NL_SET_ERR_MSG_MOD(info->extack, "a key direction needs CIPHER_KEY and NONCE_TAIL");
		return -EINVAL;
	}

	key = attrs[OVPN_A_KEYDIR_CIPHER_KEY];
	len = nla_len(key);
	ret = ovpn_nl_check_key_size(alg, key, info->extack);
	if (ret)
		return ret;
	dir->cipher_key = nla_data(key);
	dir->cipher_key_size = len;
	dir->nonce_tail = nla_data(attrs[OVPN_A_KEYDIR_NONCE_TAIL]);
	return 0;
}

static int ovpn_nl_key_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ovpn_priv *ovpn = info->user_ptr[0];
	struct nlattr *attrs[OVPN_A_KEYCONF_MAX + 1];
	struct nlattr *nest = info->attrs[OVPN_A_KEYCONF];
	struct ovpn_key_config kc = {};
	enum ovpn_key_slot slot;
	struct ovpn_peer *peer;
	int ret, a;

	ret = ovpn_nl_parse_keyconf(attrs, info);
	if (ret)
		return ret;
	ret = ovpn_nl_strict_attrs(info, attrs, OVPN_A_KEYCONF_MAX,
				   OVPN_KEY_NEW_ATTRS, false);
	if (ret)
		return ret;

	for (a = OVPN_A_KEYCONF_SLOT; a <= OVPN_A_KEYCONF_CIPHER_ALG; a++) {
		if (NL_REQ_ATTR_CHECK(info->extack, nest, attrs, a)) {
			NL_SET_ERR_MSG_MOD(info->extack,
					   "KEY_NEW needs SLOT, KEY_ID and CIPHER_ALG");
			return -EINVAL;
		}
	}
	slot = nla_get_u32(attrs[OVPN_A_KEYCONF_SLOT]);
	kc.key_id = nla_get_u32(attrs[OVPN_A_KEYCONF_KEY_ID]);
	kc.cipher_alg = nla_get_u32(attrs[OVPN_A_KEYCONF_CIPHER_ALG]);
	if (kc.cipher_alg == OVPN_CIPHER_ALG_NONE) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[OVPN_A_KEYCONF_CIPHER_ALG],
				    "CIPHER_ALG none is not supported: use AES-GCM or ChaCha20-Poly1305");
		return -EOPNOTSUPP;
	}

	ret = ovpn_nl_get_keydir(info, nest, attrs, OVPN_A_KEYCONF_ENCRYPT_DIR,
				 kc.cipher_alg, &kc.encrypt);
	if (ret)
		return ret;
	ret = ovpn_nl_get_keydir(info, nest, attrs, OVPN_A_KEYCONF_DECRYPT_DIR,
				 kc.cipher_alg, &kc.decrypt);
	if (ret)
		return ret;

	peer = ovpn_nl_get_peer(ovpn, info, nest, attrs, OVPN_A_KEYCONF_PEER_ID);
	if (IS_ERR(peer)) {
		ret = PTR_ERR(peer);
		return ret;
	}

	ret = ovpn_crypto_state_reset(&peer->crypto, slot, &kc);
	if (ret)
		NL_SET_ERR_MSG_MOD(info->extack,
				   "cannot set up the cipher (is the kernel crypto module available?)");
	ovpn_peer_put(peer);
	return ret;
}

/* common head of KEY_GET / KEY_SWAP / KEY_DEL: the peer, with a reference held */
static struct ovpn_peer *ovpn_nl_key_peer(struct genl_info *info,
					  struct nlattr **attrs, bool need_slot,
					  u32 strict_allowed,
					  bool by_hand)
{
	int ret;

	ret = ovpn_nl_parse_keyconf(attrs, info);
	if (ret)
		return ERR_PTR(ret);
	ret = ovpn_nl_strict_attrs(info, attrs, OVPN_A_KEYCONF_MAX,
				   strict_allowed, by_hand);
	if (ret)
		return ERR_PTR(ret);
	if (need_slot && NL_REQ_ATTR_CHECK(info->extack, info->attrs[OVPN_A_KEYCONF],
					   attrs, OVPN_A_KEYCONF_SLOT)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing KEYCONF SLOT");
		return ERR_PTR(-EINVAL);
	}
	return ovpn_nl_get_peer(info->user_ptr[0], info, info->attrs[OVPN_A_KEYCONF],
				attrs, OVPN_A_KEYCONF_PEER_ID);
}

static int ovpn_nl_key_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attrs[OVPN_A_KEYCONF_MAX + 1];
	enum ovpn_cipher_alg alg;
	enum ovpn_key_slot slot;
	struct ovpn_peer *peer;
	struct nlattr *attr;
	struct sk_buff *msg;
	void *hdr;
	u8 key_id;
	int ret;

	peer = ovpn_nl_key_peer(info, attrs, true, OVPN_KEY_GET_ATTRS,
				true);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	slot = nla_get_u32(attrs[OVPN_A_KEYCONF_SLOT]);
	ret = ovpn_crypto_config_get(&peer->crypto, slot, &alg, &key_id);
	if (ret) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[OVPN_A_KEYCONF_SLOT],
				    "no key in this SLOT");
		goto put;
	}

	ret = -ENOMEM;
	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto put;
	hdr = genlmsg_put(msg, info->snd_portid, info->snd_seq, &ovpn_nl_family,
			  0, OVPN_CMD_KEY_GET);
	if (!hdr)
		goto free;
	attr = nla_nest_start(msg, OVPN_A_KEYCONF);
	if (!attr ||
	    nla_put_u32(msg, OVPN_A_KEYCONF_PEER_ID, peer->id) ||
	    nla_put_u32(msg, OVPN_A_KEYCONF_SLOT, slot) ||
	    nla_put_u32(msg, OVPN_A_KEYCONF_KEY_ID, key_id) ||
	    nla_put_u32(msg, OVPN_A_KEYCONF_CIPHER_ALG, alg))
		goto free;
	nla_nest_end(msg, attr);
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
	goto put;
free:
	nlmsg_free(msg);
put:
	ovpn_peer_put(peer);
	return ret;
}

static int ovpn_nl_key_swap_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attrs[OVPN_A_KEYCONF_MAX + 1];
	struct ovpn_peer *peer;

	peer = ovpn_nl_key_peer(info, attrs, false, OVPN_KEY_SWAP_ATTRS,
				false);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	ovpn_crypto_key_slots_swap(&peer->crypto);
	ovpn_peer_put(peer);
	return 0;
}

static int ovpn_nl_key_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attrs[OVPN_A_KEYCONF_MAX + 1];
	struct ovpn_peer *peer;

	peer = ovpn_nl_key_peer(info, attrs, true, OVPN_KEY_DEL_ATTRS,
				false);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	/* deleting an empty slot is not an error (as in mainline) */
	ovpn_crypto_kill_key(&peer->crypto,
			     nla_get_u32(attrs[OVPN_A_KEYCONF_SLOT]));
	ovpn_peer_put(peer);
	return 0;
}

static const struct genl_ops ovpn_nl_ops[] = {
	{
		.cmd = OVPN_CMD_PEER_NEW,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_nl_peer_new_doit,
	},
	{
		.cmd = OVPN_CMD_PEER_SET,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_nl_peer_set_doit,
	},
	{
		.cmd = OVPN_CMD_PEER_GET,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_nl_peer_get_doit,
		.dumpit = ovpn_nl_peer_get_dumpit,
	},
	{
		.cmd = OVPN_CMD_PEER_DEL,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_nl_peer_del_doit,
	},
	{
		.cmd = OVPN_CMD_KEY_NEW,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_nl_key_new_doit,
	},
	{
		.cmd = OVPN_CMD_KEY_GET,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_nl_key_get_doit,
	},
	{
		.cmd = OVPN_CMD_KEY_SWAP,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_nl_key_swap_doit,
	},
	{
		.cmd = OVPN_CMD_KEY_DEL,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_nl_key_del_doit,
	},
};

static struct genl_family ovpn_nl_family __ro_after_init = {
	.name = OVPN_FAMILY_NAME,
	.version = OVPN_FAMILY_VERSION,
	.maxattr = OVPN_A_MAX,
	.policy = ovpn_nl_policy,
	.pre_doit = ovpn_nl_pre_doit,
	.post_doit = ovpn_nl_post_doit,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = ovpn_nl_ops,
	.n_ops = ARRAY_SIZE(ovpn_nl_ops),
	.resv_start_op = OVPN_CMD_PEER_FLOAT_NTF + 1,
	.mcgrps = ovpn_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ovpn_nl_mcgrps),
};

/**
 * ovpn_nl_notify_begin - start a notification to the "peers" group
 * @dev: the device it is about (its IFINDEX goes first)
 * @cmd: the notification command
 * @nest: the nest that holds the rest (OVPN_A_PEER or OVPN_A_KEYCONF)
 * @hdr: set to the genetlink header, for ovpn_nl_notify_end()
 * @attr: set to the opened nest
 *
 * Return: the message, or NULL (allocation or space failed; nothing to free).
 */
static struct sk_buff *ovpn_nl_notify_begin(struct net_device *dev, u8 cmd,
					    int nest, void **hdr,
					    struct nlattr **attr)
{
	struct sk_buff *msg;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!msg)
		return NULL;
	*hdr = genlmsg_put(msg, 0, 0, &ovpn_nl_family, 0, cmd);
	if (!*hdr || nla_put_u32(msg, OVPN_A_IFINDEX, dev->ifindex))
		goto err;
	*attr = nla_nest_start(msg, nest);
	if (!*attr)
		goto err;
	return msg;
err:
	nlmsg_free(msg);
	return NULL;
}

/**
 * ovpn_nl_notify_end - close and send a notification, or drop it
 * @dev: the device it is about (its network namespace gets it)
 * @msg: the message from ovpn_nl_notify_begin()
 * @hdr: its genetlink header
 * @attr: its nest
 * @err: non-zero if filling the nest failed (the message is freed)
 */
static void ovpn_nl_notify_end(struct net_device *dev, struct sk_buff *msg,
			       void *hdr, struct nlattr *attr, int err)
{
	if (err) {
		nlmsg_free(msg);
		return;
	}
	nla_nest_end(msg, attr);
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&ovpn_nl_family, dev_net(dev), msg, 0,
				OVPN_NLGRP_PEERS, GFP_ATOMIC);
}

/**
 * ovpn_nl_peer_del_notify - tell the "peers" group that a peer is gone
 * @peer: the peer (delete_reason set)
 *
 * A device of kind ovpn-dco also tells the ovpn-dco-v2 family's group.
 */
void ovpn_nl_peer_del_notify(struct ovpn_peer *peer)
{
	struct net_device *dev = peer->ovpn->dev;
	struct nlattr *attr;
	struct sk_buff *msg;
	void *hdr;

	ovpn_dco_peer_del_notify(peer);
	msg = ovpn_nl_notify_begin(dev, OVPN_CMD_PEER_DEL_NTF, OVPN_A_PEER,
				   &hdr, &attr);
	if (!msg)
		return;
	ovpn_nl_notify_end(dev, msg, hdr, attr,
			   nla_put_u32(msg, OVPN_A_PEER_DEL_REASON,
				       peer->delete_reason) ||
			   nla_put_u32(msg, OVPN_A_PEER_ID, peer->id));
}

/**
 * ovpn_nl_key_swap_notify - ask userspace for a new key (ids exhausted)
 * @peer: the peer
 * @key_id: the exhausted key
 */
void ovpn_nl_key_swap_notify(struct ovpn_peer *peer, u8 key_id)
{
	struct net_device *dev = peer->ovpn->dev;
	struct nlattr *attr;
	struct sk_buff *msg;
	void *hdr;

	msg = ovpn_nl_notify_begin(dev, OVPN_CMD_KEY_SWAP_NTF, OVPN_A_KEYCONF,
				   &hdr, &attr);
	if (!msg)
		return;
	ovpn_nl_notify_end(dev, msg, hdr, attr,
			   nla_put_u32(msg, OVPN_A_KEYCONF_PEER_ID, peer->id) ||
			   nla_put_u32(msg, OVPN_A_KEYCONF_KEY_ID, key_id));
}

/**
 * ovpn_nl_peer_float_notify - tell userspace a peer's address changed
 * @peer: the peer
 * @ss: its new address
 */
void ovpn_nl_peer_float_notify(struct ovpn_peer *peer,
			       const union ovpn_sockaddr *ss)
{
	struct net_device *dev = peer->ovpn->dev;
	struct nlattr *attr;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = ovpn_nl_notify_begin(dev, OVPN_CMD_PEER_FLOAT_NTF, OVPN_A_PEER,
				   &hdr, &attr);
	if (!msg)
		return;
	ret = nla_put_u32(msg, OVPN_A_PEER_ID, peer->id);
	if (!ret && ss->in4.sin_family == AF_INET)
		ret = nla_put_in_addr(msg, OVPN_A_PEER_REMOTE_IPV4,
				      ss->in4.sin_addr.s_addr) ||
		      nla_put_net16(msg, OVPN_A_PEER_REMOTE_PORT, ss->in4.sin_port);
	else if (!ret)
		ret = nla_put_in6_addr(msg, OVPN_A_PEER_REMOTE_IPV6,
				       &ss->in6.sin6_addr) ||
		      nla_put_net16(msg, OVPN_A_PEER_REMOTE_PORT, ss->in6.sin6_port) ||
		      (ss->in6.sin6_scope_id &&
		       nla_put_u32(msg, OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID,
				   ss->in6.sin6_scope_id));
	ovpn_nl_notify_end(dev, msg, hdr, attr, ret);
}

/**
 * ovpn_nl_register - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int __init ovpn_nl_register(void)
{
	return genl_register_family(&ovpn_nl_family);
}

/**
 * ovpn_nl_unregister - unregister the generic netlink family
 */
void ovpn_nl_unregister(void)
{
	genl_unregister_family(&ovpn_nl_family);
}
