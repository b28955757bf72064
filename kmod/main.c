// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: OpenVPN data channel offload - module, rtnetlink link "ovpn"
 *
 * A drop-in backport of the userspace interface of mainline Linux's ovpn
 * driver: link kind "ovpn" (IFLA_OVPN_MODE: P2P or MP) and generic netlink
 * family "ovpn" (netlink.c).
 */
#include <linux/if_arp.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/ip.h>
#include <net/rtnetlink.h>
#include <uapi/linux/ovpn.h>
#include <uapi/linux/ovpn_dco_v2.h>

#include "dco.h"
#include "drop.h"
#include "io.h"
#include "keepalive.h"
#include "main.h"
#include "netlink.h"
#include "peer.h"

static const struct net_device_ops ovpn_netdev_ops;

/* process-context releases (sockets); drained before the module goes */
struct workqueue_struct *ovpn_wq;

/* refuse what mainline refuses, also where kovpn is more lenient */
bool ovpn_strict_mainline;
module_param_named(strict_mainline, ovpn_strict_mainline, bool, 0444);
MODULE_PARM_DESC(strict_mainline,
		 "refuse every request mainline's ovpn refuses (no kovpn extensions); default off");

/**
 * ovpn_dev_is_valid - is this an ovpn device?
 * @dev: any netdevice
 *
 * Return: true if @dev was created by this module.
 */
bool ovpn_dev_is_valid(const struct net_device *dev)
{
	return dev->netdev_ops == &ovpn_netdev_ops;
}

static int ovpn_net_init(struct net_device *dev)
{
	struct ovpn_priv *ovpn = netdev_priv(dev);
	int ret;

	dev->tstats = netdev_alloc_pcpu_stats(struct pcpu_sw_netstats);
	if (!dev->tstats)
		return -ENOMEM;

	ovpn->drops = alloc_percpu(struct ovpn_drop_stats);
	if (!ovpn->drops) {
		ret = -ENOMEM;
		goto free_stats;
	}

	ret = gro_cells_init(&ovpn->gro_cells, dev);
	if (ret)
		goto free_drops;

	if (ovpn->mode == OVPN_MODE_MP) {
		ovpn->peers = kvzalloc(sizeof(*ovpn->peers), GFP_KERNEL);
		if (!ovpn->peers) {
			ret = -ENOMEM;
			goto free_gro;
		}
		hash_init(ovpn->peers->by_id);
		hash_init(ovpn->peers->by_vpn_addr4);
		hash_init(ovpn->peers->by_vpn_addr6);
		hash_init(ovpn->peers->by_transp_addr);
	}
	return 0;

free_gro:
	gro_cells_destroy(&ovpn->gro_cells);
free_drops:
	free_percpu(ovpn->drops);
	ovpn->drops = NULL;
free_stats:
	free_percpu(dev->tstats);
	dev->tstats = NULL;
	return ret;
}

/* no peer may be added from now on; delete the existing ones */
static void ovpn_teardown(struct ovpn_priv *ovpn)
{
	spin_lock_bh(&ovpn->lock);
	ovpn->dead = true;
	spin_unlock_bh(&ovpn->lock);

	ovpn_peers_free(ovpn, NULL, OVPN_DEL_PEER_REASON_TEARDOWN);
	ovpn_keepalive_cancel(ovpn);
}

static void ovpn_net_uninit(struct net_device *dev)
{
	struct ovpn_priv *ovpn = netdev_priv(dev);

	/* normally done by dellink already; any other unregister path too */
	ovpn_teardown(ovpn);
	gro_cells_destroy(&ovpn->gro_cells);
}

static void ovpn_priv_free(struct net_device *dev)
{
	struct ovpn_priv *ovpn = netdev_priv(dev);

	kvfree(ovpn->peers);
	free_percpu(ovpn->drops);
	free_percpu(dev->tstats);
}

static int ovpn_net_open(struct net_device *dev)
{
	netif_tx_start_all_queues(dev);
	return 0;
}

static int ovpn_net_stop(struct net_device *dev)
{
	netif_tx_stop_all_queues(dev);
	return 0;
}

static const struct net_device_ops ovpn_netdev_ops = {
	.ndo_init		= ovpn_net_init,
	.ndo_uninit		= ovpn_net_uninit,
	.ndo_open		= ovpn_net_open,
	.ndo_stop		= ovpn_net_stop,
	.ndo_start_xmit		= ovpn_net_xmit,
	.ndo_get_stats64	= dev_get_tstats64,
};

static const struct device_type ovpn_type = {
	.name = "ovpn",
};

static void ovpn_setup(struct net_device *dev)
{
	dev->netdev_ops = &ovpn_netdev_ops;
	dev->ethtool_ops = &ovpn_ethtool_ops;
	dev->needs_free_netdev = true;
	dev->priv_destructor = ovpn_priv_free;

	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->mtu = OVPN_DEFAULT_MTU;
	dev->min_mtu = IPV4_MIN_MTU;
	dev->max_mtu = IP_MAX_MTU - OVPN_HEAD_ROOM;
	dev->needed_headroom = ALIGN(OVPN_HEAD_ROOM, 4);
	ovpn_dev_set_lltx(dev);
	/*
	 * Take big scattered packets with checksums to do: ovpn_net_xmit()
	 * segments and checksums them in software just before encryption,
	 * after one peer lookup for the whole burst.
	 */
	dev->features |= NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA |
			 NETIF_F_GSO_SOFTWARE;
	dev->hw_features |= dev->features;
	/* MP picks the peer from the route's next hop: keep the dst */
	netif_keep_dst(dev);

	SET_NETDEV_DEVTYPE(dev, &ovpn_type);
}

static const struct nla_policy ovpn_link_policy[IFLA_OVPN_MAX + 1] = {
	[IFLA_OVPN_MODE] = NLA_POLICY_RANGE(NLA_U8, OVPN_MODE_P2P, OVPN_MODE_MP),
};

static int ovpn_newlink(OVPN_NEWLINK_ARGS)
{
	struct nlattr **link_data = OVPN_NEWLINK_DATA;
	struct ovpn_priv *ovpn = netdev_priv(dev);
	enum ovpn_mode mode = OVPN_MODE_P2P;

	if (link_data && link_data[IFLA_OVPN_MODE])
		mode = nla_get_u8(link_data[IFLA_OVPN_MODE]);

	ovpn->dev = dev;
	ovpn->mode = mode;
	spin_lock_init(&ovpn->lock);
	ovpn_keepalive_init(ovpn);

	/* P2P: no carrier until there is a peer; MP: always */
	if (mode == OVPN_MODE_P2P)
		netif_carrier_off(dev);
	else
		netif_carrier_on(dev);

	return register_netdevice(dev);
}

static void ovpn_dellink(struct net_device *dev, struct list_head *head)
{
	ovpn_teardown(netdev_priv(dev));
	unregister_netdevice_queue(dev, head);
}

static size_t ovpn_get_size(const struct net_device *dev)
{
	return nla_total_size(sizeof(u8)); /* IFLA_OVPN_MODE */
}

static int ovpn_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	const struct ovpn_priv *ovpn = netdev_priv(dev);

	if (nla_put_u8(skb, IFLA_OVPN_MODE, ovpn->mode))
		return -EMSGSIZE;
	return 0;
}

static struct rtnl_link_ops ovpn_link_ops = {
	.kind		= "ovpn",
	.netns_refund	= false,
	.priv_size	= sizeof(struct ovpn_priv),
	.setup		= ovpn_setup,
	.policy		= ovpn_link_policy,
	.maxtype	= IFLA_OVPN_MAX,
	.newlink	= ovpn_newlink,
	.dellink	= ovpn_dellink,
	.get_size	= ovpn_get_size,
	.fill_info	= ovpn_fill_info,
};

/*
 * The same device under the link kind OpenVPN 2.6 creates; dco.c registers it
 * together with the ovpn-dco-v2 family (module parameter dco_v2).
 */
struct rtnl_link_ops ovpn_dco_link_ops = {
	.kind		= OVPN_DCO_LINK_KIND,
	.netns_refund	= false,
	.priv_size	= sizeof(struct ovpn_priv),
	.setup		= ovpn_setup,
	.policy		= ovpn_link_policy,
	.maxtype	= IFLA_OVPN_MAX,
	.newlink	= ovpn_newlink,
	.dellink	= ovpn_dellink,
	.get_size	= ovpn_get_size,
	.fill_info	= ovpn_fill_info,
};

static int __init ovpn_init(void)
{
	int ret;

	ret = ovpn_peer_cache_init();
	if (ret)
		return ret;

	ovpn_wq = alloc_workqueue("ovpn", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!ovpn_wq) {
		ret = -ENOMEM;
		goto err_cache;
	}

	ret = rtnl_link_register(&ovpn_link_ops);
	if (ret) {
		pr_err("ovpn: cannot register rtnl link ops: %d\n", ret);
		goto err_wq;
	}
	ret = ovpn_nl_register();
	if (ret) {
		pr_err("ovpn: cannot register generic netlink family: %d\n", ret);
		goto err_link;
	}
	/* never fails the load: a conflict with the real ovpn-dco is logged */
	ovpn_dco_register();
	pr_info("ovpn: OpenVPN data channel offload (kovpn)\n");
	return 0;

err_link:
	rtnl_link_unregister(&ovpn_link_ops);
err_wq:
	destroy_workqueue(ovpn_wq);
err_cache:
	ovpn_peer_cache_destroy();
	return ret;
}

static void __exit ovpn_cleanup(void)
{
	/* the ovpn-dco devices and family first (notifications still go out) */
	ovpn_dco_unregister();
	/* deletes every device (peers go, PEER_DEL_NTF still reaches userspace) */
	rtnl_link_unregister(&ovpn_link_ops);
	/* waits for requests in flight; devices are dead, they can add nothing */
	ovpn_nl_unregister();
	/* peer -> socket -> device releases chain call_rcu()s and works */
	rcu_barrier();
	destroy_workqueue(ovpn_wq);
	rcu_barrier();
	ovpn_peer_cache_destroy();
}

module_init(ovpn_init);
module_exit(ovpn_cleanup);

MODULE_DESCRIPTION("OpenVPN data channel offload (ovpn), kovpn backport");
MODULE_AUTHOR("kovpn developers");
MODULE_LICENSE("GPL");
MODULE_ALIAS_RTNL_LINK("ovpn");
MODULE_ALIAS_GENL_FAMILY("ovpn");
