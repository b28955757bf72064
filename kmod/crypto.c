// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: key slots of a peer (primary / secondary)
 *
 * Readers (the data path) dereference the slots under RCU and take a
 * reference on the slot they use; writers (netlink) swap pointers under
 * @lock and drop the array's reference, the last user frees the transforms.
 */
#include <linux/errno.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

#include "crypto.h"
#include "crypto_aead.h"

static void ovpn_crypto_key_slot_free_rcu(struct rcu_head *head)
{
	struct ovpn_crypto_key_slot *ks;

	ks = container_of(head, struct ovpn_crypto_key_slot, rcu);
	ovpn_aead_crypto_key_slot_destroy(ks);
}

/**
 * ovpn_crypto_key_slot_release - kref release of a key slot
 * @kref: the slot's refcount
 */
void ovpn_crypto_key_slot_release(struct kref *kref)
{
	struct ovpn_crypto_key_slot *ks;

	ks = container_of(kref, struct ovpn_crypto_key_slot, refcount);
	call_rcu(&ks->rcu, ovpn_crypto_key_slot_free_rcu);
}

/**
 * ovpn_crypto_state_init - empty key slots
 * @cs: the state
 */
void ovpn_crypto_state_init(struct ovpn_crypto_state *cs)
{
	RCU_INIT_POINTER(cs->slots[0], NULL);
	RCU_INIT_POINTER(cs->slots[1], NULL);
	cs->primary_idx = 0;
	spin_lock_init(&cs->lock);
}

/**
 * ovpn_crypto_state_release - drop both keys (peer teardown)
 * @cs: the state
 */
void ovpn_crypto_state_release(struct ovpn_crypto_state *cs)
{
	ovpn_crypto_kill_key(cs, OVPN_KEY_SLOT_PRIMARY);
	ovpn_crypto_kill_key(cs, OVPN_KEY_SLOT_SECONDARY);
}

static u8 ovpn_slot_idx(const struct ovpn_crypto_state *cs,
			enum ovpn_key_slot slot)
{
	u8 primary = READ_ONCE(cs->primary_idx);

	return slot == OVPN_KEY_SLOT_PRIMARY ? primary : !primary;
}

/**
 * ovpn_crypto_state_reset - install a new key into a slot
 * @cs: the peer's key state
 * @slot: primary or secondary
 * @kc: the validated configuration (key material is copied into the tfms)
 *
 * Return: 0 or a negative errno (unknown cipher, bad key length, no memory).
 */
int ovpn_crypto_state_reset(struct ovpn_crypto_state *cs,
			    enum ovpn_key_slot slot,
			    const struct ovpn_key_config *kc)
{
	struct ovpn_crypto_key_slot *new, *old;

	new = ovpn_aead_crypto_key_slot_new(kc);
	if (IS_ERR(new))
		return PTR_ERR(new);

	spin_lock_bh(&cs->lock);
	old = rcu_replace_pointer(cs->slots[ovpn_slot_idx(cs, slot)], new,
				  lockdep_is_held(&cs->lock));
	spin_unlock_bh(&cs->lock);

	if (old)
		ovpn_crypto_key_slot_put(old);
	return 0;
}

/**
 * ovpn_crypto_kill_key - remove the key of a slot
 * @cs: the peer's key state
 * @slot: primary or secondary
 *
 * Return: true if the slot held a key.
 */
bool ovpn_crypto_kill_key(struct ovpn_crypto_state *cs,
			  enum ovpn_key_slot slot)
{
	struct ovpn_crypto_key_slot *old;

	spin_lock_bh(&cs->lock);
	old = rcu_replace_pointer(cs->slots[ovpn_slot_idx(cs, slot)], NULL,
				  lockdep_is_held(&cs->lock));
	spin_unlock_bh(&cs->lock);

	if (old)
		ovpn_crypto_key_slot_put(old);
	return !!old;
}

/**
 * ovpn_crypto_key_slots_swap - exchange primary and secondary
 * @cs: the peer's key state
 */
void ovpn_crypto_key_slots_swap(struct ovpn_crypto_state *cs)
{
	spin_lock_bh(&cs->lock);
	/* readers that see either index find a consistent slot pointer */
	WRITE_ONCE(cs->primary_idx, !cs->primary_idx);
	spin_unlock_bh(&cs->lock);
}

/**
 * ovpn_crypto_config_get - describe the key of a slot (never its material)
 * @cs: the peer's key state
 * @slot: primary or secondary
 * @alg: the cipher of the key
 * @key_id: the key id
 *
 * Return: 0, or -ENOENT if the slot is empty.
 */
int ovpn_crypto_config_get(struct ovpn_crypto_state *cs,
			   enum ovpn_key_slot slot,
			   enum ovpn_cipher_alg *alg, u8 *key_id)
{
	struct ovpn_crypto_key_slot *ks;
	int ret = -ENOENT;

	rcu_read_lock();
	ks = rcu_dereference(cs->slots[ovpn_slot_idx(cs, slot)]);
	if (ks) {
		*alg = ks->cipher_alg;
		*key_id = ks->key_id;
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}

static struct ovpn_crypto_key_slot *
ovpn_crypto_slot_get(struct ovpn_crypto_key_slot *ks)
{
	if (ks && kref_get_unless_zero(&ks->refcount))
		return ks;
	return NULL;
}

/**
 * ovpn_crypto_key_id_to_slot - find the key that a received packet names
 * @cs: the peer's key state
 * @key_id: key id from the packet's first byte
 *
 * Return: the slot with a reference held, or NULL.
 */
struct ovpn_crypto_key_slot *
ovpn_crypto_key_id_to_slot(const struct ovpn_crypto_state *cs, u8 key_id)
{
	struct ovpn_crypto_key_slot *ks = NULL, *tmp;
	int i;

	rcu_read_lock();
	for (i = 0; i < 2; i++) {
		tmp = rcu_dereference(cs->slots[i]);
		if (tmp && tmp->key_id == key_id) {
			ks = ovpn_crypto_slot_get(tmp);
			break;
		}
	}
	rcu_read_unlock();
	return ks;
}

/**
 * ovpn_crypto_key_slot_primary - the key used for transmission
 * @cs: the peer's key state
 *
 * Return: the primary slot with a reference held, or NULL.
 */
struct ovpn_crypto_key_slot *
ovpn_crypto_key_slot_primary(const struct ovpn_crypto_state *cs)
{
	struct ovpn_crypto_key_slot *ks;

	rcu_read_lock();
	ks = ovpn_crypto_slot_get(rcu_dereference(cs->slots[READ_ONCE(cs->primary_idx)]));
	rcu_read_unlock();
	return ks;
}
