/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: transport sockets shared by the peers of a device
 *
 * The socket belongs to userspace: the module keeps a reference on the
 * struct sock only (never on the file), so when userspace closes it the
 * transport tells us (UDP: encap_destroy) and the peers on it are deleted
 * with reason TRANSPORT_DISCONNECT.  Transport specific code (udp.c, tcp.c)
 * plugs in through the functions below.
 */
#ifndef _NET_OVPN_SOCKET_H_
#define _NET_OVPN_SOCKET_H_

#include <linux/kref.h>
#include <linux/net.h>
#include <linux/workqueue.h>
#include <net/sock.h>

struct ovpn_priv;
struct ovpn_tcp;
struct netlink_ext_ack;

/**
 * struct ovpn_socket - a userspace socket attached to an ovpn device
 * @ovpn: the device whose peers use the socket (holds a device reference)
 * @sk: the socket (holds a sock reference, not the file)
 * @refcount: one per peer using the socket
 * @release_work: detaches the socket in process context
 * @rcu: deferred free after detach
 * @tcp: TCP state (tcp.c), NULL for UDP
 */
struct ovpn_socket {
	struct ovpn_priv *ovpn;
	struct sock *sk;
	struct kref refcount;
	struct work_struct release_work;
	struct rcu_head rcu;
	struct ovpn_tcp *tcp;
};

struct ovpn_socket *ovpn_socket_new(struct socket *sock, struct ovpn_priv *ovpn,
				    struct netlink_ext_ack *extack);
void ovpn_socket_put(struct ovpn_socket *osock);
void ovpn_socket_detach_tcp(struct ovpn_socket *osock);

#endif /* _NET_OVPN_SOCKET_H_ */
