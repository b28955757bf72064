/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: generic netlink family "ovpn"
 */
#ifndef _NET_OVPN_NETLINK_H_
#define _NET_OVPN_NETLINK_H_

#include <linux/socket.h>
#include <uapi/linux/ovpn.h>

struct in_addr;
struct in6_addr;
struct netlink_ext_ack;
struct nlattr;
struct ovpn_peer;
struct ovpn_priv;
struct sock;
struct socket;
union ovpn_sockaddr;

int ovpn_nl_register(void);
void ovpn_nl_unregister(void);

void ovpn_nl_peer_del_notify(struct ovpn_peer *peer);
void ovpn_nl_key_swap_notify(struct ovpn_peer *peer, u8 key_id);
void ovpn_nl_peer_float_notify(struct ovpn_peer *peer,
			       const union ovpn_sockaddr *ss);

/* shared with the ovpn-dco-v2 front end (dco.c) */
bool ovpn_nl_sock_reaches(const struct sock *sk, sa_family_t family);
int ovpn_nl_check_vpn4(struct nlattr *attr, bool setting,
		       struct netlink_ext_ack *extack);
int ovpn_nl_check_vpn6(struct nlattr *attr, bool setting,
		       struct netlink_ext_ack *extack);
int ovpn_nl_check_key_size(enum ovpn_cipher_alg alg, const struct nlattr *key,
			   struct netlink_ext_ack *extack);
struct ovpn_peer *ovpn_nl_peer_create(struct ovpn_priv *ovpn, u32 id,
				      struct socket *sock,
				      struct netlink_ext_ack *extack);
int ovpn_nl_peer_set_remote(struct ovpn_peer *peer,
			    const union ovpn_sockaddr *ss,
			    const struct in_addr *local4,
			    const struct in6_addr *local6);
int ovpn_nl_peer_commit(struct ovpn_peer *peer, struct netlink_ext_ack *extack);

#endif /* _NET_OVPN_NETLINK_H_ */
