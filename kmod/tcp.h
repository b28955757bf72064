/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: TCP transport (see tcp.c)
 */
#ifndef _NET_OVPN_TCP_H_
#define _NET_OVPN_TCP_H_

#include <linux/skbuff.h>
#include <net/sock.h>

struct ovpn_peer;
struct ovpn_socket;
struct netlink_ext_ack;

int ovpn_tcp_socket_attach(struct ovpn_socket *osock,
			   struct netlink_ext_ack *extack);
void ovpn_tcp_socket_detach(struct ovpn_socket *osock);
void ovpn_tcp_socket_release(struct ovpn_socket *osock);
void ovpn_tcp_send_skb(struct ovpn_peer *peer, struct sock *sk,
		       struct sk_buff *skb);

#endif /* _NET_OVPN_TCP_H_ */
