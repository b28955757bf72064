/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: UDP transport
 */
#ifndef _NET_OVPN_UDP_H_
#define _NET_OVPN_UDP_H_

#include <linux/skbuff.h>
#include <net/sock.h>

struct ovpn_peer;
struct ovpn_socket;
struct netlink_ext_ack;

/* our UDP encapsulation type (other values in include/uapi/linux/udp.h) */
#define UDP_ENCAP_OVPNINUDP	100

int ovpn_udp_socket_attach(struct ovpn_socket *osock,
			   struct netlink_ext_ack *extack);
void ovpn_udp_socket_detach(struct ovpn_socket *osock);
void ovpn_udp_bind_from_connected(struct ovpn_peer *peer, struct sock *sk);
void ovpn_udp_send_skb(struct ovpn_peer *peer, struct sock *sk,
		       struct sk_buff *skb);

#endif /* _NET_OVPN_UDP_H_ */
