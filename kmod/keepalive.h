/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: keepalive pings and expiry of silent peers
 */
#ifndef _NET_OVPN_KEEPALIVE_H_
#define _NET_OVPN_KEEPALIVE_H_

#include <linux/workqueue.h>

struct ovpn_peer;
struct ovpn_priv;

void ovpn_keepalive_init(struct ovpn_priv *ovpn);
void ovpn_keepalive_set(struct ovpn_peer *peer, u32 interval, u32 timeout);
void ovpn_keepalive_kick(struct ovpn_peer *peer);
void ovpn_keepalive_cancel(struct ovpn_priv *ovpn);

#endif /* _NET_OVPN_KEEPALIVE_H_ */
