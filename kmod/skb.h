/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: per-packet state carried in skb->cb across (async) crypto
 */
#ifndef _NET_OVPN_SKB_H_
#define _NET_OVPN_SKB_H_

#include <linux/skbuff.h>

struct ovpn_peer;
struct ovpn_crypto_key_slot;

/**
 * struct ovpn_cb - control buffer of a packet in flight
 * @peer: the peer (reference held)
 * @ks: the key slot (reference held)
 * @crypto_tmp: aead request, IV and scatterlist of this packet
 * @pkt_id: packet id (receive: checked after authentication)
 */
struct ovpn_cb {
	struct ovpn_peer *peer;
	struct ovpn_crypto_key_slot *ks;
	void *crypto_tmp;
	u32 pkt_id;
};

static inline struct ovpn_cb *ovpn_skb_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct ovpn_cb) > sizeof(skb->cb));
	return (struct ovpn_cb *)skb->cb;
}

#endif /* _NET_OVPN_SKB_H_ */
