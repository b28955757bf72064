// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: transport sockets shared by the peers of a device
 */
#include <linux/slab.h>
#include <linux/udp.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "main.h"
#include "socket.h"
#include "tcp.h"
#include "udp.h"

static void ovpn_socket_free_rcu(struct rcu_head *head)
{
	struct ovpn_socket *osock = container_of(head, struct ovpn_socket, rcu);

	sock_put(osock->sk);
	dev_put(osock->ovpn->dev);
	kfree(osock);
}

/* detach @osock unless it was already (caller holds the socket lock) */
static void ovpn_socket_detach_locked(struct ovpn_socket *osock)
{
	struct sock *sk = osock->sk;
	struct ovpn_socket *cur;

	/* the socket lock keeps sk_user_data stable: only attach/detach write it */
	cur = rcu_dereference_protected(__sk_user_data(sk),
					lockdep_sock_is_held(sk));
	if (cur != osock)
		return;
	if (osock->tcp)
		ovpn_tcp_socket_detach(osock);
	else
		ovpn_udp_socket_detach(osock);
}

/**
 * ovpn_socket_detach_tcp - give a TCP socket back to userspace now
 * @osock: the socket of a peer just deleted (the caller holds the peer)
 *
 * A TCP socket serves one peer: once that peer is deleted on userspace's
 * request, userspace may use the socket as soon as the request returns, not
 * when the last packet in flight lets go of the peer.  Process context.
 */
void ovpn_socket_detach_tcp(struct ovpn_socket *osock)
{
	struct sock *sk = osock->sk;

	might_sleep();
	if (!osock->tcp)
		return;
	lock_sock(sk);
	ovpn_socket_detach_locked(osock);
	release_sock(sk);
}

/* detaching needs the socket lock, hence process context */
static void ovpn_socket_release_work(struct work_struct *work)
{
	struct ovpn_socket *osock;
	struct sock *sk;

	osock = container_of(work, struct ovpn_socket, release_work);
	sk = osock->sk;

	lock_sock(sk);
	ovpn_socket_detach_locked(osock);
	release_sock(sk);
	ovpn_tcp_socket_release(osock);

	/* the receive path may still be looking at osock */
	call_rcu(&osock->rcu, ovpn_socket_free_rcu);
}

static void ovpn_socket_release_kref(struct kref *kref)
{
	struct ovpn_socket *osock = container_of(kref, struct ovpn_socket,
						 refcount);

	queue_work(ovpn_wq, &osock->release_work);
}

/**
 * ovpn_socket_put - drop a peer's use of a socket
 * @osock: the socket
 *
 * The last user detaches the socket from the device, so that userspace
 * receives everything on it again, and lets go of the struct sock.
 */
void ovpn_socket_put(struct ovpn_socket *osock)
{
	kref_put(&osock->refcount, ovpn_socket_release_kref);
}

/* a TCP socket serves exactly one peer */
static struct ovpn_socket *ovpn_socket_new_tcp(struct socket *sock,
					       struct ovpn_priv *ovpn,
					       struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;
	struct ovpn_socket *osock;
	int ret;

	osock = kzalloc(sizeof(*osock), GFP_KERNEL);
	if (!osock)
		return ERR_PTR(-ENOMEM);
	osock->ovpn = ovpn;
	osock->sk = sk;
	kref_init(&osock->refcount);
	INIT_WORK(&osock->release_work, ovpn_socket_release_work);

	lock_sock(sk);
	if (rcu_access_pointer(__sk_user_data(sk))) {
		NL_SET_ERR_MSG_MOD(extack, "SOCKET is already used by a kernel tunnel or another peer");
		ret = -EBUSY;
	} else {
		ret = ovpn_tcp_socket_attach(osock, extack);
	}
	if (ret) {
		release_sock(sk);
		ovpn_tcp_socket_release(osock);
		kfree(osock);
		return ERR_PTR(ret);
	}
	sock_hold(sk);
	dev_hold(ovpn->dev);
	release_sock(sk);
	return osock;
}

/**
 * ovpn_socket_new - attach a userspace socket to a device, or share it
 * @sock: the socket (the caller holds the file while this runs)
 * @ovpn: the device
 * @extack: where to say why the socket cannot be used
 *
 * A UDP socket serves one device; peers of that device share it.  A TCP
 * socket (connected) serves exactly one peer.
 *
 * Return: the attached socket with a reference for the caller, or ERR_PTR.
 */
struct ovpn_socket *ovpn_socket_new(struct socket *sock, struct ovpn_priv *ovpn,
				    struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;
	struct ovpn_socket *osock, *old;
	bool waited = false;
	int ret;

	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6) {
		NL_SET_ERR_MSG_MOD(extack, "SOCKET must be an IPv4 or IPv6 UDP or TCP socket");
		return ERR_PTR(-EAFNOSUPPORT);
	}
	if (sk->sk_protocol == IPPROTO_TCP && sk->sk_type == SOCK_STREAM)
		return ovpn_socket_new_tcp(sock, ovpn, extack);
	if (sk->sk_protocol != IPPROTO_UDP || sk->sk_type != SOCK_DGRAM) {
		NL_SET_ERR_MSG_MOD(extack, "SOCKET must be an IPv4 or IPv6 UDP or TCP socket");
		return ERR_PTR(-EPROTONOSUPPORT);
	}

again:
	lock_sock(sk);
	rcu_read_lock();
	old = rcu_dereference_sk_user_data(sk);
	if (old && READ_ONCE(udp_sk(sk)->encap_type) == UDP_ENCAP_OVPNINUDP) {
		if (old->ovpn != ovpn) {
			NL_SET_ERR_MSG_MOD(extack, "SOCKET is already used by another ovpn device");
			ret = -EBUSY;
		} else if (!kref_get_unless_zero(&old->refcount)) {
			/* its last peer just went: wait for the detach, then reattach */
			rcu_read_unlock();
			release_sock(sk);
			if (!waited) {
				waited = true;
				flush_workqueue(ovpn_wq);
				goto again;
			}
			NL_SET_ERR_MSG_MOD(extack, "SOCKET is being released, retry");
			return ERR_PTR(-EAGAIN);
		} else {
			ret = 0;
		}
		rcu_read_unlock();
		release_sock(sk);
		return ret ? ERR_PTR(ret) : old;
	}
	rcu_read_unlock();
	if (old || READ_ONCE(udp_sk(sk)->encap_type)) {
		NL_SET_ERR_MSG_MOD(extack, "SOCKET is already used by another kernel tunnel");
		ret = -EBUSY;
		goto unlock;
	}

	osock = kzalloc(sizeof(*osock), GFP_KERNEL);
	if (!osock) {
		ret = -ENOMEM;
		goto unlock;
	}
	osock->ovpn = ovpn;
	osock->sk = sk;
	kref_init(&osock->refcount);
	INIT_WORK(&osock->release_work, ovpn_socket_release_work);

	ret = ovpn_udp_socket_attach(osock, extack);
	if (ret) {
		kfree(osock);
		goto unlock;
	}
	sock_hold(sk);
	dev_hold(ovpn->dev);
	release_sock(sk);
	return osock;

unlock:
	release_sock(sk);
	return ERR_PTR(ret);
}
