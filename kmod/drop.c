// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: per-reason drop counters, read with ethtool's private statistics
 * (ETHTOOL_GSTRINGS/ETHTOOL_GSTATS, `ethtool -S <dev>`), so the generic
 * netlink family stays mainline's, number for number.  rx_dropped and
 * tx_dropped keep counting every drop as before.
 */
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/string.h>

#include "drop.h"
#include "main.h"

/* ethtool names, in enum ovpn_drop_reason order */
static const char ovpn_drop_names[OVPN_DROP_MAX][ETH_GSTRING_LEN] = {
	[OVPN_DROP_NO_PEER]	= "drop_no_peer",
	[OVPN_DROP_NO_KEY]	= "drop_no_key",
	[OVPN_DROP_DECRYPT]	= "drop_decrypt",
	[OVPN_DROP_REPLAY]	= "drop_replay",
	[OVPN_DROP_MALFORMED]	= "drop_malformed",
	[OVPN_DROP_EXHAUSTED]	= "drop_exhausted",
	[OVPN_DROP_SOURCE]	= "drop_source",
	[OVPN_DROP_RX_QUEUE]	= "drop_rx_queue",
	[OVPN_DROP_SEND]	= "drop_send",
	[OVPN_DROP_INTERNAL]	= "drop_internal",
};

static void ovpn_get_drvinfo(struct net_device *dev,
			     struct ethtool_drvinfo *info)
{
	strscpy(info->driver, "ovpn", sizeof(info->driver));
	strscpy(info->bus_info, "ovpn", sizeof(info->bus_info));
}

static int ovpn_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? OVPN_DROP_MAX : -EOPNOTSUPP;
}

static void ovpn_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	if (sset == ETH_SS_STATS)
		memcpy(data, ovpn_drop_names, sizeof(ovpn_drop_names));
}

static void ovpn_get_ethtool_stats(struct net_device *dev,
				   struct ethtool_stats *stats, u64 *data)
{
	struct ovpn_priv *ovpn = netdev_priv(dev);
	int cpu, i;

	memset(data, 0, OVPN_DROP_MAX * sizeof(*data));
	for_each_possible_cpu(cpu) {
		const struct ovpn_drop_stats *d = per_cpu_ptr(ovpn->drops, cpu);

		for (i = 0; i < OVPN_DROP_MAX; i++)
			data[i] += READ_ONCE(d->count[i]);
	}
}

const struct ethtool_ops ovpn_ethtool_ops = {
	.get_drvinfo		= ovpn_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_ts_info		= ethtool_op_get_ts_info,
	.get_sset_count		= ovpn_get_sset_count,
	.get_strings		= ovpn_get_strings,
	.get_ethtool_stats	= ovpn_get_ethtool_stats,
};
