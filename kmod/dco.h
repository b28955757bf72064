/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: the ovpn-dco-v2 front end (generic netlink family "ovpn-dco-v2" and
 * link kind "ovpn-dco", as OpenVPN 2.6 drives them)
 */
#ifndef _NET_OVPN_DCO_H_
#define _NET_OVPN_DCO_H_

#include <linux/netdevice.h>

struct ovpn_peer;

extern struct rtnl_link_ops ovpn_dco_link_ops;

/**
 * ovpn_dev_is_dco - was this ovpn device created with link kind "ovpn-dco"?
 * @dev: an ovpn device
 *
 * Return: true if the ovpn-dco-v2 family serves it.
 */
static inline bool ovpn_dev_is_dco(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &ovpn_dco_link_ops;
}

void ovpn_dco_register(void);
void ovpn_dco_unregister(void);
void ovpn_dco_peer_del_notify(struct ovpn_peer *peer);

#endif /* _NET_OVPN_DCO_H_ */
