/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: AEAD (AES-GCM, ChaCha20-Poly1305) on DATA_V2 packets
 */
#ifndef _NET_OVPN_CRYPTO_AEAD_H_
#define _NET_OVPN_CRYPTO_AEAD_H_

#include <linux/skbuff.h>

#include "crypto.h"

struct ovpn_peer;

struct ovpn_crypto_key_slot *
ovpn_aead_crypto_key_slot_new(const struct ovpn_key_config *kc);
void ovpn_aead_crypto_key_slot_destroy(struct ovpn_crypto_key_slot *ks);

int ovpn_aead_encrypt(struct ovpn_peer *peer, struct ovpn_crypto_key_slot *ks,
		      struct sk_buff *skb);
int ovpn_aead_decrypt(struct ovpn_peer *peer, struct ovpn_crypto_key_slot *ks,
		      struct sk_buff *skb);

#endif /* _NET_OVPN_CRYPTO_AEAD_H_ */
