/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: key slots of a peer (primary / secondary)
 */
#ifndef _NET_OVPN_CRYPTO_H_
#define _NET_OVPN_CRYPTO_H_

#include <linux/kref.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <uapi/linux/ovpn.h>

#include "pktid.h"

/* longest key any supported cipher takes (AES-256, ChaCha20) */
#define OVPN_MAX_KEY_SIZE	32

/**
 * struct ovpn_key_direction - key material of one direction, as configured
 * @cipher_key: the key
 * @cipher_key_size: its length in bytes
 * @nonce_tail: last 8 bytes of every nonce of this direction
 */
struct ovpn_key_direction {
	const u8 *cipher_key;
	size_t cipher_key_size;
	const u8 *nonce_tail;
};

/**
 * struct ovpn_key_config - a KEY_NEW request, validated by netlink
 * @cipher_alg: the AEAD
 * @key_id: 3-bit key id carried on the wire
 * @encrypt: transmit direction
 * @decrypt: receive direction
 */
struct ovpn_key_config {
	enum ovpn_cipher_alg cipher_alg;
	u8 key_id;
	struct ovpn_key_direction encrypt;
	struct ovpn_key_direction decrypt;
};

/**
 * struct ovpn_crypto_key_slot - one installed key
 * @key_id: key id carried on the wire
 * @cipher_alg: the AEAD in use
 * @encrypt: transform keyed for transmit
 * @decrypt: transform keyed for receive
 * @nonce_tail_xmit: nonce tail of transmitted packets
 * @nonce_tail_recv: nonce tail of received packets
 * @pid_recv: replay window
 * @pid_xmit: transmit packet id counter
 * @exhausted: set once the transmit ids ran out (KEY_SWAP_NTF sent)
 * @refcount: references held by the peer's slot array and in-flight packets
 * @rcu: deferred release
 */
struct ovpn_crypto_key_slot {
	u8 key_id;
	enum ovpn_cipher_alg cipher_alg;
	struct crypto_aead *encrypt;
	struct crypto_aead *decrypt;
	u8 nonce_tail_xmit[OVPN_NONCE_TAIL_SIZE];
	u8 nonce_tail_recv[OVPN_NONCE_TAIL_SIZE];
	struct ovpn_pktid_recv pid_recv;
	struct ovpn_pktid_xmit pid_xmit;
	atomic_t exhausted;
	struct kref refcount;
	struct rcu_head rcu;
};

/**
 * struct ovpn_crypto_state - the two key slots of a peer
 * @slots: the key slots, indexed by @primary_idx / !@primary_idx
 * @primary_idx: which of @slots is the primary one
 * @lock: serialises writers (readers use RCU)
 */
struct ovpn_crypto_state {
	struct ovpn_crypto_key_slot __rcu *slots[2];
	u8 primary_idx;
	spinlock_t lock; /* see kernel-doc */
};

void ovpn_crypto_state_init(struct ovpn_crypto_state *cs);
void ovpn_crypto_state_release(struct ovpn_crypto_state *cs);
int ovpn_crypto_state_reset(struct ovpn_crypto_state *cs,
			    enum ovpn_key_slot slot,
			    const struct ovpn_key_config *kc);
bool ovpn_crypto_kill_key(struct ovpn_crypto_state *cs,
			  enum ovpn_key_slot slot);
void ovpn_crypto_key_slots_swap(struct ovpn_crypto_state *cs);
int ovpn_crypto_config_get(struct ovpn_crypto_state *cs,
			   enum ovpn_key_slot slot,
			   enum ovpn_cipher_alg *alg, u8 *key_id);

struct ovpn_crypto_key_slot *
ovpn_crypto_key_id_to_slot(const struct ovpn_crypto_state *cs, u8 key_id);
struct ovpn_crypto_key_slot *
ovpn_crypto_key_slot_primary(const struct ovpn_crypto_state *cs);

void ovpn_crypto_key_slot_release(struct kref *kref);

static inline void ovpn_crypto_key_slot_put(struct ovpn_crypto_key_slot *ks)
{
	kref_put(&ks->refcount, ovpn_crypto_key_slot_release);
}

#endif /* _NET_OVPN_CRYPTO_H_ */
