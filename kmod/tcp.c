// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: TCP transport (issue #11)
 *
 * Receive: a strparser cuts the stream into packets framed by a 2-byte
 * big-endian length.  DATA_V2 goes to the data path (io.c); anything else
 * is queued for userspace, which reads one packet per recvmsg() with its
 * length prefix (mainline's semantics).
 * Transmit: data packets and userspace's framed packets share one bounded
 * queue drained by a work item with non-blocking sends, so a peer that
 * stops reading fills its own queue (drops counted) and blocks nobody.
 * The socket's callbacks, proto and ops are saved on attach and put back
 * on detach: userspace then reads and writes it as a plain TCP socket again
 * (bytes the parser had taken but not delivered are gone, as in mainline).
 */
#include <linux/poll.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/workqueue.h>
#include <net/strparser.h>
#include <net/tcp.h>

#include "drop.h"
#include "io.h"
#include "main.h"
#include "peer.h"
#include "socket.h"
#include "tcp.h"

/* packets waiting to be sent per socket, data and control together */
#define OVPN_TCP_TX_QUEUE_LEN	256
/* control packets waiting for userspace per socket */
#define OVPN_TCP_USER_QUEUE_LEN	256
/* the largest write userspace may make: one framed packet */
#define OVPN_TCP_MAX_SEND	(2 + 65535)

/**
 * struct ovpn_tcp - TCP state of an attached socket
 * @strp: the stream parser
 * @user_queue: control packets for userspace (framed)
 * @tx_queue: framed packets to send
 * @tx_work: drains @tx_queue
 * @tx_offset: bytes of the head of @tx_queue already sent
 * @sk_data_ready: saved callback
 * @sk_write_space: saved callback
 * @sk_state_change: saved callback
 * @prot: the socket's own proto, put back on detach
 * @ops: the socket's own proto_ops, put back on detach
 * @detached: given back to userspace (under the socket lock): send nothing more
 * @osock: the socket wrapper this state belongs to
 * @refs: the wrapper's and one per reader in recvmsg (a reader may sleep: it
 *	must hold neither the wrapper nor its device, or a blocked recv() would
 *	keep a deleted peer's socket attached and its device from going away)
 */
struct ovpn_tcp {
	struct strparser strp;
	struct sk_buff_head user_queue;
	struct sk_buff_head tx_queue;
	struct work_struct tx_work;
	unsigned int tx_offset;
	void (*sk_data_ready)(struct sock *sk);
	void (*sk_write_space)(struct sock *sk);
	void (*sk_state_change)(struct sock *sk);
	struct proto *prot;
	const struct proto_ops *ops;
	bool detached;
	struct ovpn_socket *osock;
	refcount_t refs;
};

/* copies of the TCP protos and ops with our recvmsg/sendmsg/close/poll, by family */
static struct proto ovpn_tcp_prot[2];
static struct proto_ops ovpn_tcp_ops[2];
static const struct proto *ovpn_tcp_prot_base[2];
static const struct proto_ops *ovpn_tcp_ops_base[2];
static DEFINE_MUTEX(ovpn_tcp_prot_lock);

static int ovpn_tcp_parse(struct strparser *strp, struct sk_buff *skb)
{
	struct strp_msg *rxm = strp_msg(skb);
	__be16 blen;

	if (skb->len < rxm->offset + 2)
		return 0;
	if (skb_copy_bits(skb, rxm->offset, &blen, sizeof(blen)) < 0)
		return -EINVAL;
	/* a zero-length frame is no packet: the stream is broken */
	if (!blen)
		return -EINVAL;
	return ntohs(blen) + 2;
}

/* one framed packet; BHs off, RCU read side */
static void __ovpn_tcp_rcv(struct strparser *strp, struct sk_buff *skb)
{
	struct sock *sk = strp->sk;
	struct strp_msg *rxm = strp_msg(skb);
	struct ovpn_socket *osock;
	struct ovpn_peer *peer;
	struct ovpn_tcp *tcp;
	u8 opcode;

	osock = rcu_dereference_sk_user_data(sk);
	if (unlikely(!osock))
		goto drop;
	tcp = osock->tcp;

	if (skb_copy_bits(skb, rxm->offset + 2, &opcode, 1) < 0)
		goto drop;
	if (ovpn_opcode_from_byte(opcode) != OVPN_DATA_V2) {
		/* keep the prefix: userspace reads framed packets */
		if (rxm->offset && !pskb_pull(skb, rxm->offset))
			goto drop;
		if (pskb_trim(skb, rxm->full_len))
			goto drop;
		if (skb_queue_len(&tcp->user_queue) >= OVPN_TCP_USER_QUEUE_LEN) {
			ovpn_rx_drop(osock->ovpn->dev, OVPN_DROP_RX_QUEUE);
			goto drop;
		}
		skb_queue_tail(&tcp->user_queue, skb);
		tcp->sk_data_ready(sk);
		return;
	}

	if (!pskb_pull(skb, rxm->offset + 2) ||
	    pskb_trim(skb, rxm->full_len - 2) ||
	    !pskb_may_pull(skb, OVPN_DATA_V2_HLEN)) {
		ovpn_rx_drop(osock->ovpn->dev, OVPN_DROP_MALFORMED);
		goto drop;
	}
	/* strparser skbs may be clones sharing data: io.c decrypts in place */
	if (skb_unclone(skb, GFP_ATOMIC) || skb_linearize(skb)) {
		ovpn_rx_drop(osock->ovpn->dev, OVPN_DROP_INTERNAL);
		goto drop;
	}
	peer = ovpn_peer_get_by_id(osock->ovpn, ovpn_peer_id_from_skb(skb, 0));
	if (unlikely(!peer || peer->sock != osock)) {
		if (peer)
			ovpn_peer_put(peer);
		ovpn_rx_drop(osock->ovpn->dev, OVPN_DROP_NO_PEER);
		goto drop;
	}
	ovpn_recv(peer, skb);
	return;

drop:
	kfree_skb(skb);
}

/*
 * Called from the socket's data_ready (softirq) or from the strparser's work
 * (process context, socket lock held): the data path wants BHs off either way.
 */
static void ovpn_tcp_rcv(struct strparser *strp, struct sk_buff *skb)
{
	local_bh_disable();
	rcu_read_lock();
	__ovpn_tcp_rcv(strp, skb);
	rcu_read_unlock();
	local_bh_enable();
}

/* the stream cannot be parsed any more: the peer goes */
static void ovpn_tcp_abort(struct strparser *strp, int err)
{
	struct ovpn_socket *osock;

	rcu_read_lock();
	osock = rcu_dereference_sk_user_data(strp->sk);
	if (osock) {
		ovpn_rx_drop(osock->ovpn->dev, OVPN_DROP_MALFORMED);
		ovpn_peers_free(osock->ovpn, osock,
				OVPN_DEL_PEER_REASON_TRANSPORT_ERROR);
	}
	rcu_read_unlock();
}

static void ovpn_tcp_data_ready(struct sock *sk)
{
	struct ovpn_socket *osock;

	rcu_read_lock();
	osock = rcu_dereference_sk_user_data(sk);
	if (osock)
		strp_data_ready(&osock->tcp->strp);
	rcu_read_unlock();
}

static void ovpn_tcp_write_space(struct sock *sk)
{
	struct ovpn_socket *osock;

	rcu_read_lock();
	osock = rcu_dereference_sk_user_data(sk);
	if (osock) {
		queue_work(ovpn_wq, &osock->tcp->tx_work);
		osock->tcp->sk_write_space(sk);
	}
	rcu_read_unlock();
}

/* FIN or RST: the peer goes */
static void ovpn_tcp_state_change(struct sock *sk)
{
	struct ovpn_socket *osock;

	rcu_read_lock();
	osock = rcu_dereference_sk_user_data(sk);
	if (osock) {
		if (sk->sk_state != TCP_ESTABLISHED)
			ovpn_peers_free(osock->ovpn, osock,
					OVPN_DEL_PEER_REASON_TRANSPORT_DISCONNECT);
		osock->tcp->sk_state_change(sk);
	}
	rcu_read_unlock();
}

/* a sent data packet counts on the device, as the UDP tunnel's xmit does */
static void ovpn_tcp_tx_stats(struct sk_buff *skb)
{
	if (!skb->dev)
		return;
	local_bh_disable();
	dev_sw_netstats_tx_add(skb->dev, 1, skb->len);
	local_bh_enable();
}

static void ovpn_tcp_tx_work(struct work_struct *work)
{
	struct ovpn_tcp *tcp = container_of(work, struct ovpn_tcp, tx_work);
	struct ovpn_socket *osock = tcp->osock;
	struct sock *sk = osock->sk;
	struct sk_buff *skb;
	int ret = 0;

	lock_sock(sk);
	/*
	 * given back, closed by userspace (orphaned) or no longer connected:
	 * nothing to send on
	 */
	if (tcp->detached || !sk->sk_socket ||
	    sk->sk_state != TCP_ESTABLISHED) {
		skb_queue_purge(&tcp->tx_queue);
		tcp->tx_offset = 0;
		goto out;
	}
	while ((skb = skb_peek(&tcp->tx_queue))) {
		ret = skb_send_sock_locked(sk, skb, tcp->tx_offset,
					   skb->len - tcp->tx_offset);
		if (ret <= 0)
			break; /* -EAGAIN: write_space requeues us */
		tcp->tx_offset += ret;
		if (tcp->tx_offset < skb->len)
			continue;
		tcp->tx_offset = 0;
		skb_unlink(skb, &tcp->tx_queue);
		ovpn_tcp_tx_stats(skb);
		consume_skb(skb);
	}
out:
	release_sock(sk);

	/* a half-sent frame cannot be taken back: the stream is lost */
	if (ret < 0 && ret != -EAGAIN) {
		net_dbg_ratelimited("%s: TCP send error %d, deleting its peers\n",
				    netdev_name(osock->ovpn->dev), ret);
		ovpn_peers_free(osock->ovpn, osock,
				OVPN_DEL_PEER_REASON_TRANSPORT_ERROR);
	}
}

/* Return: 0, or -ENOBUFS with @skb freed when the queue is full */
static int ovpn_tcp_queue(struct ovpn_tcp *tcp, struct sk_buff *skb)
{
	if (skb_queue_len(&tcp->tx_queue) >= OVPN_TCP_TX_QUEUE_LEN) {
		kfree_skb(skb);
		return -ENOBUFS;
	}
	skb_queue_tail(&tcp->tx_queue, skb);
	queue_work(ovpn_wq, &tcp->tx_work);
	return 0;
}

/**
 * ovpn_tcp_send_skb - send an encrypted packet to a TCP peer
 * @peer: the peer
 * @sk: its socket
 * @skb: DATA_V2 packet (consumed)
 */
void ovpn_tcp_send_skb(struct ovpn_peer *peer, struct sock *sk,
		       struct sk_buff *skb)
{
	u16 len = skb->len;

	if (unlikely(skb_cow_head(skb, 2))) {
		ovpn_tx_drop(peer->ovpn->dev, OVPN_DROP_INTERNAL);
		kfree_skb(skb);
		return;
	}
	*(__be16 *)__skb_push(skb, 2) = htons(len);
	/* marks a data packet: counted on the device once sent */
	skb->dev = peer->ovpn->dev;
	if (ovpn_tcp_queue(peer->sock->tcp, skb))
		ovpn_tx_drop(peer->ovpn->dev, OVPN_DROP_SEND);
}

/*
 * The proto the socket had before attach: its current one once detached, else
 * the saved base (a socket whose last peer went is detached soon, by the
 * release work; meanwhile it is read and written as plain TCP)
 */
static const struct proto *ovpn_tcp_base_prot(struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot);

	if (prot == &ovpn_tcp_prot[0] || prot == &ovpn_tcp_prot[1])
		prot = ovpn_tcp_prot_base[prot == &ovpn_tcp_prot[1]];
	return prot;
}

/* the attached socket with a reference, or NULL */
static struct ovpn_socket *ovpn_tcp_sock_get(struct sock *sk)
{
	struct ovpn_socket *osock;

	rcu_read_lock();
	osock = rcu_dereference_sk_user_data(sk);
	if (osock && !kref_get_unless_zero(&osock->refcount))
		osock = NULL;
	rcu_read_unlock();
	return osock;
}

/*
 * One control packet from @tcp's queue, waiting as the socket's timeout says.
 * Return: the packet, or NULL with *err set, or NULL with *detached true when
 * the socket was given back meanwhile (the caller reads it as plain TCP).
 */
static struct sk_buff *ovpn_tcp_recv_user(struct sock *sk, struct ovpn_tcp *tcp,
					  unsigned int flags, int *err,
					  bool *detached)
{
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	struct sk_buff *skb, *last;
	int off = 0;

	*detached = false;
	do {
		skb = __skb_try_recv_datagram(sk, &tcp->user_queue, flags, &off,
					      err, &last);
		if (skb)
			return skb;
		if (*err != -EAGAIN)
			return NULL;
		/* a reader must not sleep on a queue nobody fills any more */
		if (READ_ONCE(tcp->detached)) {
			*detached = true;
			return NULL;
		}
	} while (timeo &&
		 !__skb_wait_for_more_packets(sk, &tcp->user_queue, err, &timeo,
					      last));
	return NULL;
}

static void ovpn_tcp_put(struct ovpn_tcp *tcp)
{
	if (!refcount_dec_and_test(&tcp->refs))
		return;
	skb_queue_purge(&tcp->user_queue);
	kfree(tcp);
}

/* the TCP state of an attached socket, with a reader's reference, or NULL */
static struct ovpn_tcp *ovpn_tcp_get(struct sock *sk)
{
	struct ovpn_socket *osock;
	struct ovpn_tcp *tcp = NULL;

	rcu_read_lock();
	osock = rcu_dereference_sk_user_data(sk);
	/* osock->tcp outlives a grace period after the detach */
	if (osock && osock->tcp && refcount_inc_not_zero(&osock->tcp->refs))
		tcp = osock->tcp;
	rcu_read_unlock();
	return tcp;
}

/* userspace reads control packets, one per call, with their length prefix */
static int ovpn_tcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			    int flags, int *addr_len)
{
	struct ovpn_tcp *tcp;
	struct sk_buff *skb;
	bool detached;
	int err = 0;
	size_t copied;

	tcp = ovpn_tcp_get(sk);
	if (!tcp)
		goto plain;

	skb = ovpn_tcp_recv_user(sk, tcp, flags, &err, &detached);
	if (detached) {
		ovpn_tcp_put(tcp);
		goto plain;
	}
	if (!skb) {
		/* nothing queued and the remote is done: end of stream */
		if (err == -EAGAIN && (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN))
			err = 0;
		goto out;
	}
	copied = min_t(size_t, len, skb->len);
	if (copied < skb->len)
		msg->msg_flags |= MSG_TRUNC;
	err = skb_copy_datagram_msg(skb, 0, msg, copied);
	if (!err)
		err = (flags & MSG_TRUNC) ? skb->len : copied;
	kfree_skb(skb);
out:
	ovpn_tcp_put(tcp);
	return err;

plain:
	/* given back, or its last peer gone: the socket's own proto reads the stream */
	return ovpn_tcp_base_prot(sk)->recvmsg(sk, msg, len, flags, addr_len);
}

/* userspace sends framed control packets, in order with the data packets */
static int ovpn_tcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct ovpn_socket *osock;
	struct sk_buff *skb;
	int err;

	osock = ovpn_tcp_sock_get(sk);
	if (!osock)
		return ovpn_tcp_base_prot(sk)->sendmsg(sk, msg, len);

	err = 0;
	if (!len)
		goto out;
	err = -EMSGSIZE;
	if (len > OVPN_TCP_MAX_SEND)
		goto out;
	skb = alloc_skb(len, GFP_KERNEL);
	err = -ENOMEM;
	if (!skb)
		goto out;
	err = -EFAULT;
	if (!copy_from_iter_full(skb_put(skb, len), len, &msg->msg_iter)) {
		kfree_skb(skb);
		goto out;
	}
	err = ovpn_tcp_queue(osock->tcp, skb);
	if (!err)
		err = len;
out:
	ovpn_socket_put(osock);
	return err;
}

/* userspace closes the socket: give it back, delete its peers, then close */
static void ovpn_tcp_close(struct sock *sk, long timeout)
{
	struct ovpn_socket *osock;
	struct proto *prot;
	bool held = false;

	/* only attach and detach write sk_user_data, both under the socket lock */
	lock_sock(sk);
	osock = rcu_dereference_protected(__sk_user_data(sk),
					  lockdep_sock_is_held(sk));
	if (osock) {
		held = kref_get_unless_zero(&osock->refcount);
		ovpn_tcp_socket_detach(osock);
	}
	release_sock(sk);

	if (held) {
		ovpn_peers_free(osock->ovpn, osock,
				OVPN_DEL_PEER_REASON_TRANSPORT_DISCONNECT);
		ovpn_socket_put(osock);
	}
	prot = READ_ONCE(sk->sk_prot);
	if (WARN_ON_ONCE(prot->close == ovpn_tcp_close))
		return;
	prot->close(sk, timeout);
}

/* connect(AF_UNSPEC) would reuse the socket under the peer: not while attached */
static int ovpn_tcp_disconnect(struct sock *sk, int flags)
{
	return -EBUSY;
}

/* readable when a control packet waits, not when bytes are in the stream */
static __poll_t ovpn_tcp_poll(struct file *file, struct socket *sock,
			      poll_table *wait)
{
	__poll_t mask = datagram_poll(file, sock, wait);
	struct ovpn_socket *osock;

	rcu_read_lock();
	osock = rcu_dereference_sk_user_data(sock->sk);
	if (osock && !skb_queue_empty_lockless(&osock->tcp->user_queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	rcu_read_unlock();
	return mask;
}

static struct proto *ovpn_tcp_prot_get(struct sock *sk,
				       const struct proto_ops **ops)
{
	const struct proto_ops *sock_ops = sk->sk_socket->ops;
	int i = sk->sk_family == AF_INET6;

	mutex_lock(&ovpn_tcp_prot_lock);
	if (!ovpn_tcp_prot_base[i]) {
		ovpn_tcp_prot[i] = *sk->sk_prot;
		ovpn_tcp_prot[i].recvmsg = ovpn_tcp_recvmsg;
		ovpn_tcp_prot[i].sendmsg = ovpn_tcp_sendmsg;
		ovpn_tcp_prot[i].close = ovpn_tcp_close;
		ovpn_tcp_prot[i].disconnect = ovpn_tcp_disconnect;
		ovpn_tcp_ops[i] = *sock_ops;
		ovpn_tcp_ops[i].poll = ovpn_tcp_poll;
		ovpn_tcp_prot_base[i] = sk->sk_prot;
		ovpn_tcp_ops_base[i] = sock_ops;
	}
	mutex_unlock(&ovpn_tcp_prot_lock);
	/* a socket with another proto (sockmap, TLS ...) is not ours to take */
	if (ovpn_tcp_prot_base[i] != sk->sk_prot ||
	    ovpn_tcp_ops_base[i] != sock_ops)
		return NULL;
	*ops = &ovpn_tcp_ops[i];
	return &ovpn_tcp_prot[i];
}

static const struct strp_callbacks ovpn_tcp_strp_cb = {
	.parse_msg = ovpn_tcp_parse,
	.rcv_msg = ovpn_tcp_rcv,
	.abort_parser = ovpn_tcp_abort,
};

/**
 * ovpn_tcp_socket_attach - take over the receive path of a TCP socket
 * @osock: the socket wrapper (caller holds the socket lock)
 * @extack: why the socket cannot be used
 *
 * Return: 0 or a negative errno.
 */
int ovpn_tcp_socket_attach(struct ovpn_socket *osock,
			   struct netlink_ext_ack *extack)
{
	struct sock *sk = osock->sk;
	const struct proto_ops *ops;
	struct ovpn_tcp *tcp;
	struct proto *prot;
	int ret;

	sock_owned_by_me(sk);

	if (sk->sk_state != TCP_ESTABLISHED) {
		NL_SET_ERR_MSG_MOD(extack, "TCP SOCKET must be connected (ESTABLISHED)");
		return -ENOTCONN;
	}
	prot = ovpn_tcp_prot_get(sk, &ops);
	if (!prot) {
		NL_SET_ERR_MSG_MOD(extack, "TCP SOCKET is used by another kernel layer");
		return -EBUSY;
	}
	tcp = kzalloc(sizeof(*tcp), GFP_KERNEL);
	if (!tcp)
		return -ENOMEM;
	ret = strp_init(&tcp->strp, sk, &ovpn_tcp_strp_cb);
	if (ret) {
		kfree(tcp);
		return ret;
	}
	skb_queue_head_init(&tcp->user_queue);
	skb_queue_head_init(&tcp->tx_queue);
	INIT_WORK(&tcp->tx_work, ovpn_tcp_tx_work);
	refcount_set(&tcp->refs, 1);
	tcp->osock = osock;
	osock->tcp = tcp;

	write_lock_bh(&sk->sk_callback_lock);
	tcp->sk_data_ready = sk->sk_data_ready;
	tcp->sk_write_space = sk->sk_write_space;
	tcp->sk_state_change = sk->sk_state_change;
	tcp->prot = sk->sk_prot;
	tcp->ops = sk->sk_socket->ops;
	rcu_assign_sk_user_data(sk, osock);
	WRITE_ONCE(sk->sk_prot, prot);
	WRITE_ONCE(sk->sk_socket->ops, ops);
	sk->sk_data_ready = ovpn_tcp_data_ready;
	sk->sk_write_space = ovpn_tcp_write_space;
	sk->sk_state_change = ovpn_tcp_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	/* bytes that arrived before the attach */
	strp_check_rcv(&tcp->strp);
	return 0;
}

/**
 * ovpn_tcp_socket_detach - give a TCP socket back to userspace
 * @osock: the socket wrapper (caller holds the socket lock)
 *
 * Nothing more is sent or parsed on the socket; what userspace has not read
 * of the control queue is dropped, as in mainline.
 */
void ovpn_tcp_socket_detach(struct ovpn_socket *osock)
{
	struct ovpn_tcp *tcp = osock->tcp;
	struct sock *sk = osock->sk;

	sock_owned_by_me(sk);

	strp_stop(&tcp->strp);
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = tcp->sk_data_ready;
	sk->sk_write_space = tcp->sk_write_space;
	sk->sk_state_change = tcp->sk_state_change;
	WRITE_ONCE(sk->sk_prot, tcp->prot);
	/* an orphaned socket (closed by userspace) has no ops to restore */
	if (sk->sk_socket)
		WRITE_ONCE(sk->sk_socket->ops, tcp->ops);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(tcp->detached, true);
	skb_queue_purge(&tcp->user_queue);

	/* readers waiting on the control queue look at the stream again */
	if (sk->sk_socket)
		sk->sk_data_ready(sk);
}

/**
 * ovpn_tcp_socket_release - free the TCP state after detach
 * @osock: the socket wrapper (process context, socket lock not held)
 */
void ovpn_tcp_socket_release(struct ovpn_socket *osock)
{
	struct ovpn_tcp *tcp = osock->tcp;

	might_sleep();
	if (!tcp)
		return;
	/* callbacks that saw the socket attached are done after this */
	synchronize_rcu();
	strp_done(&tcp->strp);
	cancel_work_sync(&tcp->tx_work);
	skb_queue_purge(&tcp->tx_queue);
	osock->tcp = NULL;
	/* a reader still in recvmsg saw it detached and lets go on its own */
	ovpn_tcp_put(tcp);
}
