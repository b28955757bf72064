/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: every difference between the kernel releases this module builds
 * against lives here, so that the rest of the code reads like current mainline.
 * Tested on Debian 12's 6.1; the newer branches follow the upstream API changes.
 */
#ifndef _NET_OVPN_COMPAT_H_
#define _NET_OVPN_COMPAT_H_

#include <linux/version.h>
#include <linux/if_link.h>
#include <linux/netdevice.h>
#include <linux/crypto.h>
#include <net/netlink.h>
#include <net/rtnetlink.h>
#include <net/ip6_route.h>

/* skb_gso_segment() moved out of netdevice.h in 6.5 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#include <net/gso.h>
#endif

/* rtnl_link_ops::newlink lost src_net/tb/data in favour of a params struct */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 15, 0)
#define OVPN_NEWLINK_ARGS struct net *src_net, struct net_device *dev,	\
			  struct nlattr *tb[], struct nlattr *data[],	\
			  struct netlink_ext_ack *extack
#define OVPN_NEWLINK_DATA data
#else
#define OVPN_NEWLINK_ARGS struct net_device *dev,			\
			  struct rtnl_newlink_params *params,		\
			  struct netlink_ext_ack *extack
#define OVPN_NEWLINK_DATA (params->data)
#endif

/* crypto completion callbacks take the request's data pointer since 6.3 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define OVPN_CRYPTO_CB(name)						\
	static void name##_data(void *data, int err);			\
	static void name(struct crypto_async_request *areq, int err)	\
	{								\
		name##_data(areq->data, err);				\
	}								\
	static void name##_data(void *data, int err)
#else
#define OVPN_CRYPTO_CB(name)						\
	static void name##_data(void *data, int err);			\
	static void name(void *data, int err)				\
	{								\
		name##_data(data, err);					\
	}								\
	static void name##_data(void *data, int err)
#endif

/* NLA_UINT (4 or 8 byte unsigned) appeared in 6.8; emit the same bytes */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
static inline int ovpn_nla_put_uint(struct sk_buff *skb, int attrtype, u64 value)
{
	u64 tmp64 = value;
	u32 tmp32 = value;

	if (tmp64 == tmp32)
		return nla_put_u32(skb, attrtype, tmp32);
	return nla_put(skb, attrtype, sizeof(u64), &tmp64);
}
#else
#define ovpn_nla_put_uint nla_put_uint
#endif

/* the attributes of a dump request moved into an embedded genl_info in 6.6 */
/* genl_family::pre_doit/post_doit take the split op representation since 6.2 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define ovpn_genl_split_ops genl_ops
#else
#define ovpn_genl_split_ops genl_split_ops
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define ovpn_genl_dumpit_attrs(info) ((info)->attrs)
#else
#define ovpn_genl_dumpit_attrs(info) ((info)->info.attrs)
#endif

/* lockless TX became a netdev bit in 6.12 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
static inline void ovpn_dev_set_lltx(struct net_device *dev)
{
	dev->features |= NETIF_F_LLTX;
}
#else
static inline void ovpn_dev_set_lltx(struct net_device *dev)
{
	dev->lltx = true;
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
static inline const struct rt6_info *ovpn_dst_rt6_info(const struct dst_entry *dst)
{
	return container_of_const(dst, struct rt6_info, dst);
}
#else
#define ovpn_dst_rt6_info dst_rt6_info
#endif

#endif /* _NET_OVPN_COMPAT_H_ */
