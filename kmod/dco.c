// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: the ovpn-dco-v2 front end
 *
 * OpenVPN 2.6 offloads its data channel through the out-of-tree ovpn-dco
 * module's interface: link kind "ovpn-dco" and the generic netlink family
 * "ovpn-dco-v2" (include/uapi/linux/ovpn_dco_v2.h).  This file registers both
 * and translates each request onto the same peer, key and socket core that
 * the "ovpn" family (netlink.c) drives: there is one data path.  The only
 * notification of ovpn-dco-v2, DEL_PEER, is sent for every peer deleted from
 * a device of kind "ovpn-dco".  See docs/ovpn-dco-v2.md for the mapping.
 *
 * Every request names an "ovpn-dco" device by IFINDEX in the caller's network
 * namespace and needs CAP_NET_ADMIN.
 */
#include <linux/file.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/rtnetlink.h>
#include <net/sock.h>
#include <uapi/linux/ovpn.h>
#include <uapi/linux/ovpn_dco_v2.h>

#include "bind.h"
#include "crypto.h"
#include "dco.h"
#include "io.h"
#include "keepalive.h"
#include "main.h"
#include "netlink.h"
#include "peer.h"

static bool ovpn_dco_v2 = true;
module_param_named(dco_v2, ovpn_dco_v2, bool, 0444);
MODULE_PARM_DESC(dco_v2,
		 "also offer the ovpn-dco-v2 interface of OpenVPN 2.6 (link kind ovpn-dco); default on");

/* both registrations succeeded: requests and notifications are served */
static bool ovpn_dco_active;

/* peer ids fit the 24 bits of DATA_V2 (not const: 6.1's policy wants it so) */
static struct netlink_range_validation ovpn_dco_peer_id_range = {
	.max = OVPN_PEER_ID_UNDEF,
};

#define OVPN_DCO_PEER_ID_POLICY \
	NLA_POLICY_FULL_RANGE(NLA_U32, &ovpn_dco_peer_id_range)

static const struct nla_policy ovpn_dco_key_dir_policy[OVPN_DCO_A_KEY_DIR_MAX + 1] = {
	[OVPN_DCO_A_KEY_DIR_CIPHER_KEY] = { .type = NLA_BINARY, .len = OVPN_MAX_KEY_SIZE },
	[OVPN_DCO_A_KEY_DIR_NONCE_TAIL] = NLA_POLICY_EXACT_LEN(OVPN_NONCE_TAIL_SIZE),
};

static const struct nla_policy ovpn_dco_new_key_policy[OVPN_DCO_A_NEW_KEY_MAX + 1] = {
	[OVPN_DCO_A_NEW_KEY_PEER_ID] = OVPN_DCO_PEER_ID_POLICY,
	[OVPN_DCO_A_NEW_KEY_KEY_SLOT] = NLA_POLICY_MAX(NLA_U8, OVPN_KEY_SLOT_SECONDARY),
	/* 3 bits on the wire */
	[OVPN_DCO_A_NEW_KEY_KEY_ID] = NLA_POLICY_MAX(NLA_U8, 7),
	[OVPN_DCO_A_NEW_KEY_CIPHER_ALG] =
		NLA_POLICY_MAX(NLA_U16, OVPN_CIPHER_ALG_CHACHA20_POLY1305),
	[OVPN_DCO_A_NEW_KEY_ENCRYPT_KEY] = NLA_POLICY_NESTED(ovpn_dco_key_dir_policy),
	[OVPN_DCO_A_NEW_KEY_DECRYPT_KEY] = NLA_POLICY_NESTED(ovpn_dco_key_dir_policy),
};

static const struct nla_policy ovpn_dco_del_key_policy[OVPN_DCO_A_DEL_KEY_MAX + 1] = {
	[OVPN_DCO_A_DEL_KEY_PEER_ID] = OVPN_DCO_PEER_ID_POLICY,
	[OVPN_DCO_A_DEL_KEY_KEY_SLOT] = NLA_POLICY_MAX(NLA_U8, OVPN_KEY_SLOT_SECONDARY),
};

static const struct nla_policy ovpn_dco_swap_keys_policy[OVPN_DCO_A_SWAP_KEYS_MAX + 1] = {
	[OVPN_DCO_A_SWAP_KEYS_PEER_ID] = OVPN_DCO_PEER_ID_POLICY,
};

static const struct nla_policy ovpn_dco_new_peer_policy[OVPN_DCO_A_NEW_PEER_MAX + 1] = {
	[OVPN_DCO_A_NEW_PEER_PEER_ID] = OVPN_DCO_PEER_ID_POLICY,
	/* exactly a sockaddr_in or a sockaddr_in6: checked by the handler */
	[OVPN_DCO_A_NEW_PEER_SOCKADDR_REMOTE] = {
		.type = NLA_BINARY, .len = sizeof(struct sockaddr_in6)
	},
	[OVPN_DCO_A_NEW_PEER_SOCKET] = { .type = NLA_U32 },
	[OVPN_DCO_A_NEW_PEER_IPV4] = { .type = NLA_U32 },
	[OVPN_DCO_A_NEW_PEER_IPV6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	/* 4 or 16 bytes: checked by the handler */
	[OVPN_DCO_A_NEW_PEER_LOCAL_IP] = {
		.type = NLA_BINARY, .len = sizeof(struct in6_addr)
	},
};

static const struct nla_policy ovpn_dco_set_peer_policy[OVPN_DCO_A_SET_PEER_MAX + 1] = {
	[OVPN_DCO_A_SET_PEER_PEER_ID] = OVPN_DCO_PEER_ID_POLICY,
	[OVPN_DCO_A_SET_PEER_KEEPALIVE_INTERVAL] = { .type = NLA_U32 },
	[OVPN_DCO_A_SET_PEER_KEEPALIVE_TIMEOUT] = { .type = NLA_U32 },
};

static const struct nla_policy ovpn_dco_del_peer_policy[OVPN_DCO_A_DEL_PEER_MAX + 1] = {
	/* accepted and ignored: a deletion by userspace has reason USERSPACE */
	[OVPN_DCO_A_DEL_PEER_REASON] =
		NLA_POLICY_MAX(NLA_U8, OVPN_DEL_PEER_REASON_TRANSPORT_DISCONNECT),
	[OVPN_DCO_A_DEL_PEER_PEER_ID] = OVPN_DCO_PEER_ID_POLICY,
};

static const struct nla_policy ovpn_dco_get_peer_policy[OVPN_DCO_A_GET_PEER_MAX + 1] = {
	[OVPN_DCO_A_GET_PEER_PEER_ID] = OVPN_DCO_PEER_ID_POLICY,
};

static const struct nla_policy ovpn_dco_policy[OVPN_DCO_A_MAX + 1] = {
	[OVPN_DCO_A_IFINDEX] = { .type = NLA_U32 },
	[OVPN_DCO_A_NEW_PEER] = NLA_POLICY_NESTED(ovpn_dco_new_peer_policy),
	[OVPN_DCO_A_SET_PEER] = NLA_POLICY_NESTED(ovpn_dco_set_peer_policy),
	[OVPN_DCO_A_DEL_PEER] = NLA_POLICY_NESTED(ovpn_dco_del_peer_policy),
	[OVPN_DCO_A_NEW_KEY] = NLA_POLICY_NESTED(ovpn_dco_new_key_policy),
	[OVPN_DCO_A_SWAP_KEYS] = NLA_POLICY_NESTED(ovpn_dco_swap_keys_policy),
	[OVPN_DCO_A_DEL_KEY] = NLA_POLICY_NESTED(ovpn_dco_del_key_policy),
	[OVPN_DCO_A_GET_PEER] = NLA_POLICY_NESTED(ovpn_dco_get_peer_policy),
};

static struct genl_family ovpn_dco_family;

/* the ovpn-dco device named by IFINDEX, with a reference held */
static struct ovpn_priv *ovpn_dco_get_dev(struct net *net, struct nlattr **attrs,
					  struct netlink_ext_ack *extack)
{
	struct net_device *dev;

	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, OVPN_DCO_A_IFINDEX)) {
		NL_SET_ERR_MSG_MOD(extack, "missing IFINDEX");
		return ERR_PTR(-EINVAL);
	}
	dev = dev_get_by_index(net, nla_get_u32(attrs[OVPN_DCO_A_IFINDEX]));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_DCO_A_IFINDEX],
				    "IFINDEX names no interface in this network namespace");
		return ERR_PTR(-ENODEV);
	}
	if (!ovpn_dev_is_valid(dev) || !ovpn_dev_is_dco(dev)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[OVPN_DCO_A_IFINDEX],
				    "IFINDEX is not an interface of kind ovpn-dco");
		dev_put(dev);
		return ERR_PTR(-EINVAL);
	}
	return netdev_priv(dev);
}

static int ovpn_dco_pre_doit(const struct ovpn_genl_split_ops *ops,
			     struct sk_buff *skb, struct genl_info *info)
{
	struct ovpn_priv *ovpn;

	ovpn = ovpn_dco_get_dev(genl_info_net(info), info->attrs, info->extack);
	if (IS_ERR(ovpn))
		return PTR_ERR(ovpn);
	info->user_ptr[0] = ovpn;
	return 0;
}

static void ovpn_dco_post_doit(const struct ovpn_genl_split_ops *ops,
			       struct sk_buff *skb, struct genl_info *info)
{
	struct ovpn_priv *ovpn = info->user_ptr[0];

	if (ovpn)
		dev_put(ovpn->dev);
}

/* the command's nest, parsed into @tb (it is required) */
static int ovpn_dco_parse(struct genl_info *info, int nest, struct nlattr **tb,
			  int maxtype, const struct nla_policy *policy)
{
	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, nest)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "missing the command's nested attribute (NEW_PEER, SET_PEER, ...)");
		return -EINVAL;
	}
	return nla_parse_nested(tb, maxtype, info->attrs[nest], policy,
				info->extack);
}

/* the peer named by @tb[@id_attr] (required), with a reference held */
static struct ovpn_peer *ovpn_dco_get_peer(struct genl_info *info, int nest,
					   struct nlattr **tb, int id_attr)
{
	struct ovpn_priv *ovpn = info->user_ptr[0];
	struct ovpn_peer *peer;

	if (NL_REQ_ATTR_CHECK(info->extack, info->attrs[nest], tb, id_attr)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing PEER_ID");
		return ERR_PTR(-EINVAL);
	}
	peer = ovpn_peer_get_by_id(ovpn, nla_get_u32(tb[id_attr]));
	if (!peer) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[id_attr],
				    "no peer with this PEER_ID on the interface");
		return ERR_PTR(-ENOENT);
	}
	return peer;
}

/*
 * SOCKADDR_REMOTE: a raw struct sockaddr_in or sockaddr_in6; a v4-mapped IPv6
 * address stands for the IPv4 one (as ovpn-dco and mainline do).
 */
static int ovpn_dco_parse_remote(struct nlattr *attr, union ovpn_sockaddr *ss,
				 struct netlink_ext_ack *extack)
{
	const struct sockaddr_in6 *in6;
	const struct sockaddr_in *in4;
	int len = nla_len(attr);

	memset(ss, 0, sizeof(*ss));
	if (len == sizeof(*in4)) {
		in4 = nla_data(attr);
		if (in4->sin_family != AF_INET)
			goto bad_family;
		ss->in4.sin_family = AF_INET;
		ss->in4.sin_addr = in4->sin_addr;
		ss->in4.sin_port = in4->sin_port;
	} else if (len == sizeof(*in6)) {
		in6 = nla_data(attr);
		if (in6->sin6_family != AF_INET6)
			goto bad_family;
		if (ipv6_addr_v4mapped(&in6->sin6_addr)) {
			ss->in4.sin_family = AF_INET;
			ss->in4.sin_addr.s_addr = in6->sin6_addr.s6_addr32[3];
			ss->in4.sin_port = in6->sin6_port;
		} else {
			ss->in6.sin6_family = AF_INET6;
			ss->in6.sin6_addr = in6->sin6_addr;
			ss->in6.sin6_port = in6->sin6_port;
			ss->in6.sin6_scope_id = in6->sin6_scope_id;
		}
	} else {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "SOCKADDR_REMOTE must be a struct sockaddr_in or sockaddr_in6");
		return -EINVAL;
	}

	if (ss->in4.sin_family == AF_INET) {
		__be32 a = ss->in4.sin_addr.s_addr;

		if (ipv4_is_zeronet(a) || ipv4_is_multicast(a) || ipv4_is_lbcast(a))
			goto bad_addr;
	} else if (ipv6_addr_any(&ss->in6.sin6_addr) ||
		   ipv6_addr_is_multicast(&ss->in6.sin6_addr)) {
		goto bad_addr;
	}
	return 0;

bad_family:
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "SOCKADDR_REMOTE: the address family does not match the length");
	return -EINVAL;
bad_addr:
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "SOCKADDR_REMOTE must be a unicast address");
	return -EINVAL;
}

/* LOCAL_IP: 4 bytes with an IPv4 remote, 16 with an IPv6 (or v4-mapped) one */
static int ovpn_dco_parse_local(struct nlattr *attr, sa_family_t remote_family,
				struct in_addr *l4, struct in6_addr *l6,
				struct netlink_ext_ack *extack)
{
	int len = nla_len(attr);

	if (len == sizeof(*l4) && remote_family == AF_INET) {
		memcpy(l4, nla_data(attr), sizeof(*l4));
		return 0;
	}
	if (len == sizeof(*l6)) {
		memcpy(l6, nla_data(attr), sizeof(*l6));
		if (ipv6_addr_v4mapped(l6) && remote_family == AF_INET) {
			l4->s_addr = l6->s6_addr32[3];
			return 0;
		}
		if (!ipv6_addr_v4mapped(l6) && remote_family == AF_INET6)
			return 0;
	}
	if (len != sizeof(*l4) && len != sizeof(*l6))
		NL_SET_ERR_MSG_ATTR(extack, attr, "LOCAL_IP must be 4 or 16 bytes");
	else
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "LOCAL_IP and SOCKADDR_REMOTE are of different families");
	return -EINVAL;
}

/* VPN addresses of an MP peer: at least one, each a usable unicast address */
static int ovpn_dco_vpn_addrs(struct ovpn_peer *peer, struct nlattr **tb,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *a4 = tb[OVPN_DCO_A_NEW_PEER_IPV4];
	struct nlattr *a6 = tb[OVPN_DCO_A_NEW_PEER_IPV6];
	struct in6_addr v6, *pv6 = NULL;
	struct in_addr v4, *pv4 = NULL;
	int ret;

	if (!a4 && !a6) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a multi-peer device needs IPV4 or IPV6 for each peer");
		return -EINVAL;
	}
	if (a4) {
		ret = ovpn_nl_check_vpn4(a4, false, extack);
		if (ret)
			return ret;
		v4.s_addr = nla_get_in_addr(a4);
		pv4 = &v4;
	}
	if (a6) {
		ret = ovpn_nl_check_vpn6(a6, false, extack);
		if (ret)
			return ret;
		v6 = nla_get_in6_addr(a6);
		pv6 = &v6;
	}
	ret = ovpn_peer_set_vpn_addrs(peer, pv4, pv6, extack);
	if (ret)
		NL_SET_BAD_ATTR(extack, a4 ?: a6);
	return ret;
}

static int ovpn_dco_new_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[OVPN_DCO_A_NEW_PEER_MAX + 1];
	struct ovpn_priv *ovpn = info->user_ptr[0];
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *nest = info->attrs[OVPN_DCO_A_NEW_PEER];
	struct nlattr *remote, *local;
	union ovpn_sockaddr ss = {};
	struct in6_addr l6 = {};
	struct in_addr l4 = {};
	struct ovpn_peer *peer;
	struct socket *sock;
	int ret;

	ret = ovpn_dco_parse(info, OVPN_DCO_A_NEW_PEER, tb, OVPN_DCO_A_NEW_PEER_MAX,
			     ovpn_dco_new_peer_policy);
	if (ret)
		return ret;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, OVPN_DCO_A_NEW_PEER_PEER_ID) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, OVPN_DCO_A_NEW_PEER_SOCKET)) {
		NL_SET_ERR_MSG_MOD(extack, "NEW_PEER needs PEER_ID and SOCKET");
		return -EINVAL;
	}
	remote = tb[OVPN_DCO_A_NEW_PEER_SOCKADDR_REMOTE];
	local = tb[OVPN_DCO_A_NEW_PEER_LOCAL_IP];

	/* held until the peer is visible: a close() then finds and deletes it */
	sock = sockfd_lookup(nla_get_u32(tb[OVPN_DCO_A_NEW_PEER_SOCKET]), &ret);
	if (!sock) {
		NL_SET_ERR_MSG_ATTR(extack, tb[OVPN_DCO_A_NEW_PEER_SOCKET],
				    "SOCKET is not an open socket of the caller");
		return ret;
	}

	ret = -EINVAL;
	if (sock->sk->sk_protocol == IPPROTO_UDP && !remote) {
		NL_SET_ERR_MSG_MOD(extack, "a UDP peer needs SOCKADDR_REMOTE");
		goto put_sock;
	}
	if (remote) {
		ret = ovpn_dco_parse_remote(remote, &ss, extack);
		if (ret)
			goto put_sock;
		if (!ovpn_nl_sock_reaches(sock->sk, ss.in4.sin_family)) {
			if (ss.in4.sin_family == AF_INET)
				NL_SET_ERR_MSG_ATTR(extack, remote,
						    "an IPv4 remote needs an IPv4 or dual-stack IPv6 SOCKET");
			else
				NL_SET_ERR_MSG_ATTR(extack, remote,
						    "an IPv6 remote needs an IPv6 SOCKET");
			ret = -EAFNOSUPPORT;
			goto put_sock;
		}
		if (local) {
			ret = ovpn_dco_parse_local(local, ss.in4.sin_family,
						   &l4, &l6, extack);
			if (ret)
				goto put_sock;
		}
	} else if (local) {
		NL_SET_ERR_MSG_ATTR(extack, local, "LOCAL_IP without SOCKADDR_REMOTE");
		goto put_sock;
	}

	peer = ovpn_nl_peer_create(ovpn, nla_get_u32(tb[OVPN_DCO_A_NEW_PEER_PEER_ID]),
				   sock, extack);
	if (IS_ERR(peer)) {
		if (PTR_ERR(peer) != -ENOMEM)
			NL_SET_BAD_ATTR(extack, tb[OVPN_DCO_A_NEW_PEER_SOCKET]);
		ret = PTR_ERR(peer);
		goto put_sock;
	}
	/* P2P: ovpn-dco stores VPN addresses but never uses them; so do we not */
	if (ovpn->mode == OVPN_MODE_MP) {
		ret = ovpn_dco_vpn_addrs(peer, tb, extack);
		if (ret)
			goto put_peer;
	}
	if (remote) {
		ret = ovpn_nl_peer_set_remote(peer, &ss, &l4, &l6);
		if (ret)
			goto put_peer;
	}
	/* P2P: replaces the current peer, which is reported deleted (TEARDOWN) */
	ret = ovpn_nl_peer_commit(peer, extack);
	if (ret)
		NL_SET_BAD_ATTR(extack, tb[OVPN_DCO_A_NEW_PEER_PEER_ID]);
put_peer:
	ovpn_peer_put(peer);
put_sock:
	sockfd_put(sock);
	return ret;
}

static int ovpn_dco_set_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[OVPN_DCO_A_SET_PEER_MAX + 1];
	struct nlattr *ival, *tmo;
	struct ovpn_peer *peer;
	int ret;

	ret = ovpn_dco_parse(info, OVPN_DCO_A_SET_PEER, tb, OVPN_DCO_A_SET_PEER_MAX,
			     ovpn_dco_set_peer_policy);
	if (ret)
		return ret;
	ival = tb[OVPN_DCO_A_SET_PEER_KEEPALIVE_INTERVAL];
	tmo = tb[OVPN_DCO_A_SET_PEER_KEEPALIVE_TIMEOUT];
	if (!!ival != !!tmo) {
		NL_SET_ERR_MSG_ATTR(info->extack, ival ?: tmo,
				    "KEEPALIVE_INTERVAL and KEEPALIVE_TIMEOUT go together");
		return -EINVAL;
	}
	peer = ovpn_dco_get_peer(info, OVPN_DCO_A_SET_PEER, tb,
				 OVPN_DCO_A_SET_PEER_PEER_ID);
	if (IS_ERR(peer))
		return PTR_ERR(peer);
	if (ival)
		ovpn_keepalive_set(peer, nla_get_u32(ival), nla_get_u32(tmo));
	ovpn_peer_put(peer);
	return 0;
}

static int ovpn_dco_del_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[OVPN_DCO_A_DEL_PEER_MAX + 1];
	struct ovpn_peer *peer;
	int ret;

	ret = ovpn_dco_parse(info, OVPN_DCO_A_DEL_PEER, tb, OVPN_DCO_A_DEL_PEER_MAX,
			     ovpn_dco_del_peer_policy);
	if (ret)
		return ret;
	peer = ovpn_dco_get_peer(info, OVPN_DCO_A_DEL_PEER, tb,
				 OVPN_DCO_A_DEL_PEER_PEER_ID);
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

/* one ENCRYPT_KEY / DECRYPT_KEY nest into @dir */
static int ovpn_dco_key_dir(struct genl_info *info, struct nlattr *attr,
			    enum ovpn_cipher_alg alg, struct ovpn_key_direction *dir)
{
	struct nlattr *tb[OVPN_DCO_A_KEY_DIR_MAX + 1];
	int ret;

	ret = nla_parse_nested(tb, OVPN_DCO_A_KEY_DIR_MAX, attr,
			       ovpn_dco_key_dir_policy, info->extack);
	if (ret)
		return ret;
	if (NL_REQ_ATTR_CHECK(info->extack, attr, tb, OVPN_DCO_A_KEY_DIR_CIPHER_KEY) ||
	    NL_REQ_ATTR_CHECK(info->extack, attr, tb, OVPN_DCO_A_KEY_DIR_NONCE_TAIL)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "a key direction needs CIPHER_KEY and NONCE_TAIL");
		return -EINVAL;
	}
	ret = ovpn_nl_check_key_size(alg, tb[OVPN_DCO_A_KEY_DIR_CIPHER_KEY],
				     info->extack);
	if (ret)
		return ret;
	dir->cipher_key = nla_data(tb[OVPN_DCO_A_KEY_DIR_CIPHER_KEY]);
	dir->cipher_key_size = nla_len(tb[OVPN_DCO_A_KEY_DIR_CIPHER_KEY]);
	dir->nonce_tail = nla_data(tb[OVPN_DCO_A_KEY_DIR_NONCE_TAIL]);
	return 0;
}

static int ovpn_dco_new_key_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[OVPN_DCO_A_NEW_KEY_MAX + 1];
	struct nlattr *nest = info->attrs[OVPN_DCO_A_NEW_KEY];
	struct ovpn_key_config kc = {};
	enum ovpn_key_slot slot;
	struct ovpn_peer *peer;
	int ret, a;

	ret = ovpn_dco_parse(info, OVPN_DCO_A_NEW_KEY, tb, OVPN_DCO_A_NEW_KEY_MAX,
			     ovpn_dco_new_key_policy);
	if (ret)
		return ret;
	for (a = OVPN_DCO_A_NEW_KEY_PEER_ID; a <= OVPN_DCO_A_NEW_KEY_DECRYPT_KEY; a++) {
		if (NL_REQ_ATTR_CHECK(info->extack, nest, tb, a)) {
			NL_SET_ERR_MSG_MOD(info->extack,
					   "NEW_KEY needs PEER_ID, KEY_SLOT, KEY_ID, CIPHER_ALG, ENCRYPT_KEY and DECRYPT_KEY");
			return -EINVAL;
		}
	}
	slot = nla_get_u8(tb[OVPN_DCO_A_NEW_KEY_KEY_SLOT]);
	kc.key_id = nla_get_u8(tb[OVPN_DCO_A_NEW_KEY_KEY_ID]);
	kc.cipher_alg = nla_get_u16(tb[OVPN_DCO_A_NEW_KEY_CIPHER_ALG]);
	if (kc.cipher_alg == OVPN_CIPHER_ALG_NONE) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[OVPN_DCO_A_NEW_KEY_CIPHER_ALG],
				    "CIPHER_ALG none is not supported: use AES-GCM or ChaCha20-Poly1305");
		return -EOPNOTSUPP;
	}
	ret = ovpn_dco_key_dir(info, tb[OVPN_DCO_A_NEW_KEY_ENCRYPT_KEY],
			       kc.cipher_alg, &kc.encrypt);
	if (ret)
		return ret;
	ret = ovpn_dco_key_dir(info, tb[OVPN_DCO_A_NEW_KEY_DECRYPT_KEY],
			       kc.cipher_alg, &kc.decrypt);
	if (ret)
		return ret;

	peer = ovpn_dco_get_peer(info, OVPN_DCO_A_NEW_KEY, tb,
				 OVPN_DCO_A_NEW_KEY_PEER_ID);
	if (IS_ERR(peer))
		return PTR_ERR(peer);
	ret = ovpn_crypto_state_reset(&peer->crypto, slot, &kc);
	if (ret)
		NL_SET_ERR_MSG_MOD(info->extack,
				   "cannot set up the cipher (is the kernel crypto module available?)");
	ovpn_peer_put(peer);
	return ret;
}

static int ovpn_dco_swap_keys_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[OVPN_DCO_A_SWAP_KEYS_MAX + 1];
	struct ovpn_peer *peer;
	int ret;

	ret = ovpn_dco_parse(info, OVPN_DCO_A_SWAP_KEYS, tb, OVPN_DCO_A_SWAP_KEYS_MAX,
			     ovpn_dco_swap_keys_policy);
	if (ret)
		return ret;
	peer = ovpn_dco_get_peer(info, OVPN_DCO_A_SWAP_KEYS, tb,
				 OVPN_DCO_A_SWAP_KEYS_PEER_ID);
	if (IS_ERR(peer))
		return PTR_ERR(peer);
	ovpn_crypto_key_slots_swap(&peer->crypto);
	ovpn_peer_put(peer);
	return 0;
}

static int ovpn_dco_del_key_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[OVPN_DCO_A_DEL_KEY_MAX + 1];
	struct ovpn_peer *peer;
	int ret;

	ret = ovpn_dco_parse(info, OVPN_DCO_A_DEL_KEY, tb, OVPN_DCO_A_DEL_KEY_MAX,
			     ovpn_dco_del_key_policy);
	if (ret)
		return ret;
	if (NL_REQ_ATTR_CHECK(info->extack, info->attrs[OVPN_DCO_A_DEL_KEY], tb,
			      OVPN_DCO_A_DEL_KEY_KEY_SLOT)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing KEY_SLOT");
		return -EINVAL;
	}
	peer = ovpn_dco_get_peer(info, OVPN_DCO_A_DEL_KEY, tb,
				 OVPN_DCO_A_DEL_KEY_PEER_ID);
	if (IS_ERR(peer))
		return PTR_ERR(peer);
	/* an empty slot is not an error (as in ovpn-dco) */
	ovpn_crypto_kill_key(&peer->crypto,
			     nla_get_u8(tb[OVPN_DCO_A_DEL_KEY_KEY_SLOT]));
	ovpn_peer_put(peer);
	return 0;
}

static int ovpn_dco_put_stat(struct sk_buff *skb, int bytes_attr,
			     int packets_attr, const struct ovpn_peer_stat *stat)
{
	/* ovpn-dco's widths: bytes u64, packets u32 (wraps) */
	if (nla_put_u64_64bit(skb, bytes_attr, atomic64_read(&stat->bytes),
			      OVPN_DCO_A_PEER_UNSPEC) ||
	    nla_put_u32(skb, packets_attr, (u32)atomic64_read(&stat->packets)))
		return -EMSGSIZE;
	return 0;
}

static int ovpn_dco_put_bind(struct sk_buff *skb, const struct ovpn_bind *bind)
{
	if (ovpn_bind_family(bind) == AF_INET)
		return nla_put(skb, OVPN_DCO_A_PEER_SOCKADDR_REMOTE,
			       sizeof(bind->remote.in4), &bind->remote.in4) ||
		       nla_put_in_addr(skb, OVPN_DCO_A_PEER_LOCAL_IP,
				       bind->local.ipv4.s_addr);
	return nla_put(skb, OVPN_DCO_A_PEER_SOCKADDR_REMOTE,
		       sizeof(bind->remote.in6), &bind->remote.in6) ||
	       nla_put_in6_addr(skb, OVPN_DCO_A_PEER_LOCAL_IP, &bind->local.ipv6);
}

/* one GET_PEER reply (or dump entry) describing @peer */
static int ovpn_dco_send_peer(struct sk_buff *skb, u32 portid, u32 seq,
			      struct ovpn_peer *peer, int flags)
{
	const struct ovpn_bind *bind;
	struct nlattr *attr;
	void *hdr;
	int ret;

	hdr = genlmsg_put(skb, portid, seq, &ovpn_dco_family, flags,
			  OVPN_DCO_CMD_GET_PEER);
	if (!hdr)
		return -EMSGSIZE;
	attr = nla_nest_start(skb, OVPN_DCO_A_GET_PEER);
	if (!attr)
		goto err;
	if (nla_put_u32(skb, OVPN_DCO_A_PEER_PEER_ID, peer->id))
		goto err;
	if (peer->vpn_addrs.ipv4.s_addr != htonl(INADDR_ANY) &&
	    nla_put_in_addr(skb, OVPN_DCO_A_PEER_IPV4, peer->vpn_addrs.ipv4.s_addr))
		goto err;
	if (!ipv6_addr_any(&peer->vpn_addrs.ipv6) &&
	    nla_put_in6_addr(skb, OVPN_DCO_A_PEER_IPV6, &peer->vpn_addrs.ipv6))
		goto err;

	rcu_read_lock();
	bind = rcu_dereference(peer->bind);
	ret = bind ? ovpn_dco_put_bind(skb, bind) : 0;
	rcu_read_unlock();
	if (ret)
		goto err;

	if (nla_put_net16(skb, OVPN_DCO_A_PEER_LOCAL_PORT,
			  inet_sk(peer->sock->sk)->inet_sport) ||
	    nla_put_u32(skb, OVPN_DCO_A_PEER_KEEPALIVE_INTERVAL,
			READ_ONCE(peer->keepalive_interval)) ||
	    nla_put_u32(skb, OVPN_DCO_A_PEER_KEEPALIVE_TIMEOUT,
			READ_ONCE(peer->keepalive_timeout)) ||
	    ovpn_dco_put_stat(skb, OVPN_DCO_A_PEER_VPN_RX_BYTES,
			      OVPN_DCO_A_PEER_VPN_RX_PACKETS, &peer->stats.vpn.rx) ||
	    ovpn_dco_put_stat(skb, OVPN_DCO_A_PEER_VPN_TX_BYTES,
			      OVPN_DCO_A_PEER_VPN_TX_PACKETS, &peer->stats.vpn.tx) ||
	    ovpn_dco_put_stat(skb, OVPN_DCO_A_PEER_LINK_RX_BYTES,
			      OVPN_DCO_A_PEER_LINK_RX_PACKETS, &peer->stats.link.rx) ||
	    ovpn_dco_put_stat(skb, OVPN_DCO_A_PEER_LINK_TX_BYTES,
			      OVPN_DCO_A_PEER_LINK_TX_PACKETS, &peer->stats.link.tx))
		goto err;

	nla_nest_end(skb, attr);
	genlmsg_end(skb, hdr);
	return 0;
err:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int ovpn_dco_get_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[OVPN_DCO_A_GET_PEER_MAX + 1];
	struct ovpn_peer *peer;
	int ret;

	ret = ovpn_dco_parse(info, OVPN_DCO_A_GET_PEER, tb, OVPN_DCO_A_GET_PEER_MAX,
			     ovpn_dco_get_peer_policy);
	if (ret)
		return ret;
	peer = ovpn_dco_get_peer(info, OVPN_DCO_A_GET_PEER, tb,
				 OVPN_DCO_A_GET_PEER_PEER_ID);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	return ovpn_nl_reply_peer(info, peer, ovpn_dco_send_peer);
}

static int ovpn_dco_get_peer_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct ovpn_priv *ovpn;

	ovpn = ovpn_dco_get_dev(sock_net(cb->skb->sk), ovpn_genl_dumpit_attrs(info),
				cb->extack);
	if (IS_ERR(ovpn))
		return PTR_ERR(ovpn);

	return ovpn_nl_dump_peers(skb, cb, ovpn, ovpn_dco_send_peer);
}

static const struct genl_ops ovpn_dco_ops[] = {
	{
		.cmd = OVPN_DCO_CMD_NEW_PEER,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_dco_new_peer_doit,
	},
	{
		.cmd = OVPN_DCO_CMD_SET_PEER,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_dco_set_peer_doit,
	},
	{
		.cmd = OVPN_DCO_CMD_DEL_PEER,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_dco_del_peer_doit,
	},
	{
		.cmd = OVPN_DCO_CMD_NEW_KEY,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_dco_new_key_doit,
	},
	{
		.cmd = OVPN_DCO_CMD_SWAP_KEYS,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_dco_swap_keys_doit,
	},
	{
		.cmd = OVPN_DCO_CMD_DEL_KEY,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_dco_del_key_doit,
	},
	{
		.cmd = OVPN_DCO_CMD_GET_PEER,
		.flags = GENL_ADMIN_PERM,
		.doit = ovpn_dco_get_peer_doit,
		.dumpit = ovpn_dco_get_peer_dumpit,
	},
};

static const struct genl_multicast_group ovpn_dco_mcgrps[] = {
	{ .name = OVPN_DCO_MCGRP_PEERS, },
};

static struct genl_family ovpn_dco_family __ro_after_init = {
	.name = OVPN_DCO_FAMILY_NAME,
	.version = OVPN_DCO_FAMILY_VERSION,
	.maxattr = OVPN_DCO_A_MAX,
	.policy = ovpn_dco_policy,
	.pre_doit = ovpn_dco_pre_doit,
	.post_doit = ovpn_dco_post_doit,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = ovpn_dco_ops,
	.n_ops = ARRAY_SIZE(ovpn_dco_ops),
	.resv_start_op = OVPN_DCO_CMD_MAX + 1,
	.mcgrps = ovpn_dco_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ovpn_dco_mcgrps),
};

/**
 * ovpn_dco_peer_del_notify - tell ovpn-dco-v2's "peers" group a peer is gone
 * @peer: the peer (delete_reason set); any context
 *
 * Sent as OVPN_CMD_DEL_PEER{IFINDEX, DEL_PEER{REASON u8, PEER_ID u32}}, for
 * devices of kind ovpn-dco only (the ovpn family's PEER_DEL_NTF goes as well).
 */
void ovpn_dco_peer_del_notify(struct ovpn_peer *peer)
{
	struct net_device *dev = peer->ovpn->dev;
	struct nlattr *attr;
	struct sk_buff *msg;
	void *hdr;

	if (!READ_ONCE(ovpn_dco_active) || !ovpn_dev_is_dco(dev))
		return;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &ovpn_dco_family, 0, OVPN_DCO_CMD_DEL_PEER);
	if (!hdr || nla_put_u32(msg, OVPN_DCO_A_IFINDEX, dev->ifindex))
		goto err;
	attr = nla_nest_start(msg, OVPN_DCO_A_DEL_PEER);
	if (!attr ||
	    nla_put_u8(msg, OVPN_DCO_A_DEL_PEER_REASON, peer->delete_reason) ||
	    nla_put_u32(msg, OVPN_DCO_A_DEL_PEER_PEER_ID, peer->id))
		goto err;
	nla_nest_end(msg, attr);
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&ovpn_dco_family, dev_net(dev), msg, 0, 0,
				GFP_ATOMIC);
	return;
err:
	nlmsg_free(msg);
}

/**
 * ovpn_dco_register - offer link kind "ovpn-dco" and family "ovpn-dco-v2"
 *
 * Never fails the module load: off by dco_v2=0, or when the real ovpn-dco
 * module holds either name (-EEXIST), in which case one line is logged and
 * the "ovpn" interface alone is served.
 */
void __init ovpn_dco_register(void)
{
	int ret;

	if (!ovpn_dco_v2) {
		pr_info("ovpn: ovpn-dco-v2 interface disabled (dco_v2=0)\n");
		return;
	}
	ret = rtnl_link_register(&ovpn_dco_link_ops);
	if (ret)
		goto fail;
	ret = genl_register_family(&ovpn_dco_family);
	if (ret) {
		rtnl_link_unregister(&ovpn_dco_link_ops);
		goto fail;
	}
	WRITE_ONCE(ovpn_dco_active, true);
	return;

fail:
	if (ret == -EEXIST)
		pr_warn("ovpn: link kind %s or family %s already registered (ovpn-dco loaded?): serving the ovpn interface only\n",
			OVPN_DCO_LINK_KIND, OVPN_DCO_FAMILY_NAME);
	else
		pr_warn("ovpn: cannot register the ovpn-dco-v2 interface (%d): serving the ovpn interface only\n",
			ret);
}

/**
 * ovpn_dco_unregister - delete the ovpn-dco devices, withdraw the family
 *
 * Devices go first, so that their peers' DEL_PEER still reaches userspace.
 */
void ovpn_dco_unregister(void)
{
	if (!ovpn_dco_active)
		return;
	rtnl_link_unregister(&ovpn_dco_link_ops);
	WRITE_ONCE(ovpn_dco_active, false);
	genl_unregister_family(&ovpn_dco_family);
}
