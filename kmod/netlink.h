/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: generic netlink family "ovpn"
 */
#ifndef _NET_OVPN_NETLINK_H_
#define _NET_OVPN_NETLINK_H_

#include <linux/socket.h>
#include <uapi/linux/ovpn.h>

struct genl_info;
struct in_addr;
struct in6_addr;
struct netlink_callback;
struct netlink_ext_ack;
struct nlattr;
struct ovpn_peer;
struct ovpn_priv;
struct sk_buff;
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

/* writes one peer's message of a family (a GET_PEER reply or a dump entry) */
typedef int (*ovpn_nl_send_peer_t)(struct sk_buff *skb, u32 portid, u32 seq,
				   struct ovpn_peer *peer, int flags);
int ovpn_nl_reply_peer(struct genl_info *info, struct ovpn_peer *peer,
		       ovpn_nl_send_peer_t send);
int ovpn_nl_dump_peers(struct sk_buff *skb, struct netlink_callback *cb,
		       struct ovpn_priv *ovpn, ovpn_nl_send_peer_t send);

#endif /* _NET_OVPN_NETLINK_H_ */
