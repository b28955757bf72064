// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: data path (transmit, receive, DATA_V2 framing)
 *
 * TX: ndo_start_xmit -> peer lookup -> encrypt (maybe async) ->
 *     ovpn_encrypt_post -> transport send.
 * RX: transport -> ovpn_recv -> decrypt (maybe async) -> ovpn_decrypt_post
 *     -> replay check, float, keepalive filter -> gro_cells.
 * (A replayed or stale packet id is dropped before decryption already.)
 * Each packet in flight holds a reference on its peer and its key slot
 * (in skb->cb), so a peer or key deleted meanwhile stays valid until the
 * packet is done.
 */
#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/gro_cells.h>

#include "crypto.h"
#include "crypto_aead.h"
#include "drop.h"
#include "io.h"
#include "main.h"
#include "netlink.h"
#include "peer.h"
#include "skb.h"
#include "tcp.h"
#include "udp.h"

/* plaintext of a keepalive ping: consumed, never delivered */
const u8 ovpn_keepalive_message[OVPN_KEEPALIVE_SIZE] = {
	0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb,
	0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48
};

/* the L3 protocol of an inner packet, from its version nibble (0: invalid) */
static __be16 ovpn_ip_check_protocol(struct sk_buff *skb)
{
	if (!pskb_may_pull(skb, 1))
		return 0;

	switch (skb->data[0] >> 4) {
	case 4:
		if (pskb_may_pull(skb, sizeof(struct iphdr)))
			return htons(ETH_P_IP);
		break;
	case 6:
		if (pskb_may_pull(skb, sizeof(struct ipv6hdr)))
			return htons(ETH_P_IPV6);
		break;
	}
	return 0;
}

static bool ovpn_is_keepalive(struct sk_buff *skb)
{
	if (skb->len != OVPN_KEEPALIVE_SIZE)
		return false;
	if (!pskb_may_pull(skb, OVPN_KEEPALIVE_SIZE))
		return false;
	return !memcmp(skb->data, ovpn_keepalive_message, OVPN_KEEPALIVE_SIZE);
}

/**
 * ovpn_decrypt_post - finish receiving a packet once decryption is done
 * @data: the skb
 * @ret: result of the decryption
 */
void ovpn_decrypt_post(void *data, int ret)
{
	struct sk_buff *skb = data;
	struct ovpn_cb *cb = ovpn_skb_cb(skb);
	struct ovpn_crypto_key_slot *ks = cb->ks;
	struct ovpn_peer *peer = cb->peer;
	struct net_device *dev = peer->ovpn->dev;
	enum ovpn_drop_reason reason;
	unsigned int pkt_len;

	kfree(cb->crypto_tmp);
	cb->crypto_tmp = NULL;

	if (unlikely(ret < 0)) {
		net_dbg_ratelimited("%s: cannot decrypt packet from peer %u: %d\n",
				    netdev_name(dev), peer->id, ret);
		reason = ret == -EBADMSG ? OVPN_DROP_DECRYPT : OVPN_DROP_INTERNAL;
		goto drop;
	}

	/* only an authenticated packet may advance the replay window */
	ret = ovpn_pktid_recv(&ks->pid_recv, cb->pkt_id);
	if (unlikely(ret < 0)) {
		net_dbg_ratelimited("%s: replayed or too old packet id %u from peer %u\n",
				    netdev_name(dev), cb->pkt_id, peer->id);
		reason = OVPN_DROP_REPLAY;
		goto drop;
	}

	/* authentic and fresh: count it, the peer is alive and may have moved */
	ovpn_peer_stat_add(&peer->stats.link.rx, skb->len);
	WRITE_ONCE(peer->last_recv, jiffies);
	/* a TCP peer is its connection: it cannot float */
	if (!peer->sock->tcp)
		ovpn_peer_endpoints_update(peer, skb);

	__skb_pull(skb, OVPN_DATA_V2_HLEN);

	if (ovpn_is_keepalive(skb)) {
		consume_skb(skb);
		goto out;
	}

	skb->protocol = ovpn_ip_check_protocol(skb);
	if (unlikely(!skb->protocol)) {
		net_dbg_ratelimited("%s: non-IP packet from peer %u\n",
				    netdev_name(dev), peer->id);
		reason = OVPN_DROP_MALFORMED;
		goto drop;
	}
	skb_reset_network_header(skb);

	if (unlikely(!ovpn_peer_check_by_src(peer->ovpn, skb, peer))) {
		net_dbg_ratelimited("%s: packet from peer %u with a source it does not own\n",
				    netdev_name(dev), peer->id);
		reason = OVPN_DROP_SOURCE;
		goto drop;
	}

	skb_reset_transport_header(skb);
	skb_reset_mac_header(skb);
	skb_scrub_packet(skb, true);
	skb->dev = dev;
	skb->pkt_type = PACKET_HOST;
	skb->ip_summed = CHECKSUM_NONE;

	pkt_len = skb->len;
	ovpn_peer_stat_add(&peer->stats.vpn.rx, pkt_len);
	/*
	 * gro_cells frees a refused packet and counts it in rx_dropped (except
	 * when it handed it to netif_rx(), whose drops are the backlog's own)
	 */
	if (likely(gro_cells_receive(&peer->ovpn->gro_cells, skb) == NET_RX_SUCCESS))
		dev_sw_netstats_rx_add(dev, pkt_len);
	else
		ovpn_drop_count(dev, OVPN_DROP_RX_QUEUE);
	goto out;

drop:
	ovpn_rx_drop(dev, reason);
	kfree_skb(skb);
out:
	ovpn_crypto_key_slot_put(ks);
	ovpn_peer_put(peer);
}

/**
 * ovpn_recv - decrypt and deliver a DATA_V2 packet
 * @peer: the peer it is for (the caller's reference passes to the packet)
 * @skb: the packet, DATA_V2 header at skb->data and linear
 */
void ovpn_recv(struct ovpn_peer *peer, struct sk_buff *skb)
{
	u8 key_id = ovpn_key_id_from_byte(skb->data[0]);
	struct ovpn_crypto_key_slot *ks;
	struct ovpn_cb *cb;
	int ret;

	ks = ovpn_crypto_key_id_to_slot(&peer->crypto, key_id);
	if (unlikely(!ks)) {
		net_dbg_ratelimited("%s: no key %u for peer %u\n",
				    netdev_name(peer->ovpn->dev), key_id, peer->id);
		ovpn_rx_drop(peer->ovpn->dev, OVPN_DROP_NO_KEY);
		kfree_skb(skb);
		ovpn_peer_put(peer);
		return;
	}

	/* a replayed or stale id never passes: drop it before the AEAD work */
	if (unlikely(!ovpn_pktid_recv_check(&ks->pid_recv,
					    ntohl(*(__be32 *)(skb->data + OVPN_OPCODE_SIZE))))) {
		net_dbg_ratelimited("%s: replayed or too old packet from peer %u (before decryption)\n",
				    netdev_name(peer->ovpn->dev), peer->id);
		ovpn_rx_drop(peer->ovpn->dev, OVPN_DROP_REPLAY);
		kfree_skb(skb);
		ovpn_crypto_key_slot_put(ks);
		ovpn_peer_put(peer);
		return;
	}

	cb = ovpn_skb_cb(skb);
	cb->peer = peer;
	cb->ks = ks;
	cb->crypto_tmp = NULL;

	ret = ovpn_aead_decrypt(peer, ks, skb);
	if (ret == -EINPROGRESS)
		return;
	ovpn_decrypt_post(skb, ret);
}

/**
 * ovpn_encrypt_post - send a packet once encryption is done
 * @data: the skb
 * @ret: result of the encryption
 */
void ovpn_encrypt_post(void *data, int ret)
{
	struct sk_buff *skb = data;
	struct ovpn_cb *cb = ovpn_skb_cb(skb);
	struct ovpn_crypto_key_slot *ks = cb->ks;
	struct ovpn_peer *peer = cb->peer;
	enum ovpn_drop_reason reason;

	kfree(cb->crypto_tmp);
	cb->crypto_tmp = NULL;

	if (unlikely(ret == -ERANGE)) {
		/* never reuse a nonce: the key is done, ask for a new one */
		if (!atomic_xchg(&ks->exhausted, 1)) {
			net_info_ratelimited("%s: key %u of peer %u ran out of packet ids\n",
					     netdev_name(peer->ovpn->dev),
					     ks->key_id, peer->id);
			ovpn_nl_key_swap_notify(peer, ks->key_id);
		}
		reason = OVPN_DROP_EXHAUSTED;
		goto drop;
	}
	if (unlikely(ret < 0)) {
		net_dbg_ratelimited("%s: cannot encrypt packet for peer %u: %d\n",
				    netdev_name(peer->ovpn->dev), peer->id, ret);
		reason = OVPN_DROP_INTERNAL;
		goto drop;
	}

	ovpn_peer_stat_add(&peer->stats.link.tx, skb->len);
	WRITE_ONCE(peer->last_sent, jiffies);
	skb->ip_summed = CHECKSUM_NONE;
	if (peer->sock->tcp)
		ovpn_tcp_send_skb(peer, peer->sock->sk, skb);
	else
		ovpn_udp_send_skb(peer, peer->sock->sk, skb);
	goto out;

drop:
	ovpn_tx_drop(peer->ovpn->dev, reason);
	kfree_skb(skb);
out:
	ovpn_crypto_key_slot_put(ks);
	ovpn_peer_put(peer);
}

/* encrypt and send one (non-GSO) packet; takes its own peer reference */
static void ovpn_send_one(struct ovpn_peer *peer, struct sk_buff *skb,
			  bool count_vpn)
{
	enum ovpn_drop_reason reason;
	struct ovpn_crypto_key_slot *ks;
	struct ovpn_cb *cb;
	int ret;

	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb)) {
		reason = OVPN_DROP_INTERNAL;
		goto drop;
	}

	ks = ovpn_crypto_key_slot_primary(&peer->crypto);
	if (unlikely(!ks)) {
		net_dbg_ratelimited("%s: no key to send to peer %u\n",
				    netdev_name(peer->ovpn->dev), peer->id);
		reason = OVPN_DROP_NO_KEY;
		goto drop;
	}
	if (unlikely(!ovpn_peer_hold(peer))) {
		ovpn_crypto_key_slot_put(ks);
		reason = OVPN_DROP_NO_PEER;
		goto drop;
	}

	if (count_vpn)
		ovpn_peer_stat_add(&peer->stats.vpn.tx, skb->len);

	cb = ovpn_skb_cb(skb);
	cb->peer = peer;
	cb->ks = ks;
	cb->crypto_tmp = NULL;

	ret = ovpn_aead_encrypt(peer, ks, skb);
	if (ret == -EINPROGRESS)
		return;
	ovpn_encrypt_post(skb, ret);
	return;

drop:
	ovpn_tx_drop(peer->ovpn->dev, reason);
	kfree_skb(skb);
}

/**
 * ovpn_net_xmit - ndo_start_xmit: send an inner packet to its peer
 * @skb: the packet
 * @dev: the ovpn device
 *
 * Return: NETDEV_TX_OK (the packet is always consumed).
 */
netdev_tx_t ovpn_net_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ovpn_priv *ovpn = netdev_priv(dev);
	enum ovpn_drop_reason reason;
	struct sk_buff *segs, *next;
	struct ovpn_peer *peer;
	__be16 proto;

	proto = ovpn_ip_check_protocol(skb);
	if (unlikely(!proto || skb->protocol != proto)) {
		net_dbg_ratelimited("%s: dropping non-IP packet\n",
				    netdev_name(dev));
		reason = OVPN_DROP_MALFORMED;
		goto drop;
	}

	peer = ovpn_peer_get_by_dst(ovpn, skb);
	if (unlikely(!peer)) {
		net_dbg_ratelimited("%s: no peer to send data to\n",
				    netdev_name(dev));
		reason = OVPN_DROP_NO_PEER;
		goto drop;
	}
	skb_dst_drop(skb);

	if (skb_is_gso(skb)) {
		segs = skb_gso_segment(skb, 0);
		if (IS_ERR_OR_NULL(segs)) {
			ovpn_peer_put(peer);
			reason = OVPN_DROP_INTERNAL;
			goto drop;
		}
		consume_skb(skb);
		skb = segs;
	}

	skb_list_walk_safe(skb, skb, next) {
		skb_mark_not_on_list(skb);
		ovpn_send_one(peer, skb, true);
	}
	ovpn_peer_put(peer);
	return NETDEV_TX_OK;

drop:
	ovpn_tx_drop(dev, reason);
	kfree_skb(skb);
	return NETDEV_TX_OK;
}

/**
 * ovpn_xmit_special - send a packet made by the module (keepalive ping)
 * @peer: the destination
 * @data: the plaintext
 * @len: its length
 */
void ovpn_xmit_special(struct ovpn_peer *peer, const void *data,
		       unsigned int len)
{
	struct net_device *dev = peer->ovpn->dev;
	struct sk_buff *skb;

	skb = alloc_skb(OVPN_HEAD_ROOM + LL_MAX_HEADER + len, GFP_ATOMIC);
	if (unlikely(!skb)) {
		ovpn_tx_drop(dev, OVPN_DROP_INTERNAL);
		return;
	}
	skb_reserve(skb, OVPN_HEAD_ROOM + LL_MAX_HEADER);
	skb_put_data(skb, data, len);
	skb->dev = dev;
	skb->priority = TC_PRIO_BESTEFFORT;

	ovpn_send_one(peer, skb, false);
}
