/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: data path (transmit, receive, DATA_V2 framing)
 */
#ifndef _NET_OVPN_IO_H_
#define _NET_OVPN_IO_H_

#include <linux/netdevice.h>
#include <linux/skbuff.h>

struct ovpn_peer;

/* DATA_V2 opcode and the layout of the first header word */
#define OVPN_DATA_V2		9
#define OVPN_OPCODE_SHIFT	3
#define OVPN_KEY_ID_MASK	0x7
#define OVPN_PEER_ID_MASK	0x00FFFFFF
#define OVPN_PEER_ID_UNDEF	0x00FFFFFF

#define OVPN_KEEPALIVE_SIZE	16
extern const u8 ovpn_keepalive_message[OVPN_KEEPALIVE_SIZE];

netdev_tx_t ovpn_net_xmit(struct sk_buff *skb, struct net_device *dev);
void ovpn_recv(struct ovpn_peer *peer, struct sk_buff *skb);
void ovpn_xmit_special(struct ovpn_peer *peer, const void *data,
		       unsigned int len);
void ovpn_encrypt_post(void *data, int ret);
void ovpn_decrypt_post(void *data, int ret);

static inline u8 ovpn_opcode_from_byte(u8 b)
{
	return b >> OVPN_OPCODE_SHIFT;
}

static inline u8 ovpn_key_id_from_byte(u8 b)
{
	return b & OVPN_KEY_ID_MASK;
}

/* peer id from the first 4 bytes of a DATA_V2 packet (network order) */
static inline u32 ovpn_peer_id_from_skb(const struct sk_buff *skb, u16 offset)
{
	return ntohl(*(__be32 *)(skb->data + offset)) & OVPN_PEER_ID_MASK;
}

#endif /* _NET_OVPN_IO_H_ */
