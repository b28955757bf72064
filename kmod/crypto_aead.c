// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: AEAD (AES-GCM, ChaCha20-Poly1305) on DATA_V2 packets
 *
 * Packets are transformed in place.  The tag travels in front of the
 * ciphertext, so the scatterlist handed to the AEAD is
 *   [AAD: bytes 0-7] [payload: bytes 24-] [tag: bytes 8-23]
 * which is exactly the AEAD's [AAD][text][tag] view of the data.
 * Transforms may complete asynchronously: every per-packet state lives in
 * one allocation referenced from skb->cb, released by the *_post functions.
 */
#include <crypto/aead.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "crypto_aead.h"
#include "io.h"
#include "main.h"
#include "peer.h"
#include "skb.h"

#define OVPN_AEAD_IV_SIZE	(OVPN_PKTID_SIZE + OVPN_NONCE_TAIL_SIZE)

OVPN_CRYPTO_CB(ovpn_aead_encrypt_done)
{
	ovpn_encrypt_post(data, err);
}

OVPN_CRYPTO_CB(ovpn_aead_decrypt_done)
{
	ovpn_decrypt_post(data, err);
}

/* one allocation: IV, aead_request (+ tfm context), scatterlist[nsg] */
static void *ovpn_aead_alloc_tmp(struct crypto_aead *tfm, unsigned int nsg,
				 u8 **iv, struct aead_request **req,
				 struct scatterlist **sg)
{
	unsigned int req_size = sizeof(struct aead_request) +
				crypto_aead_reqsize(tfm);
	unsigned long align = crypto_aead_alignmask(tfm) + 1;
	size_t len;
	void *tmp;

	len = align - 1 + OVPN_AEAD_IV_SIZE;
	len = ALIGN(len, crypto_tfm_ctx_alignment()) + req_size;
	len = ALIGN(len, __alignof__(struct scatterlist));
	len += array_size(sizeof(struct scatterlist), nsg);

	tmp = kmalloc(len, GFP_ATOMIC);
	if (unlikely(!tmp))
		return NULL;

	*iv = PTR_ALIGN((u8 *)tmp, align);
	*req = PTR_ALIGN((struct aead_request *)(*iv + OVPN_AEAD_IV_SIZE),
			 crypto_tfm_ctx_alignment());
	*sg = PTR_ALIGN((struct scatterlist *)((u8 *)*req + req_size),
			__alignof__(struct scatterlist));
	return tmp;
}

/* [AAD][payload][tag] over a DATA_V2 packet at skb->data */
static int ovpn_aead_sg(struct sk_buff *skb, struct scatterlist *sg,
			unsigned int nsg, unsigned int payload_len)
{
	int n;

	sg_init_table(sg, nsg);
	sg_set_buf(sg, skb->data, OVPN_AAD_SIZE);
	n = skb_to_sgvec_nomark(skb, sg + 1, OVPN_DATA_V2_HLEN, payload_len);
	if (unlikely(n < 0))
		return n;
	sg_set_buf(sg + n + 1, skb->data + OVPN_AAD_SIZE, OVPN_AUTH_TAG_SIZE);
	sg_mark_end(sg + n + 1);
	return 0;
}

/**
 * ovpn_aead_encrypt - turn an inner packet into a DATA_V2 packet
 * @peer: destination peer (its tx id goes on the wire)
 * @ks: the primary key
 * @skb: the inner packet; ovpn_skb_cb(skb) holds @peer and @ks
 *
 * Return: 0 when done, -EINPROGRESS when the transform completes later
 * (ovpn_encrypt_post() is then called), or a negative errno; -ERANGE when
 * the key has no packet ids left.
 */
int ovpn_aead_encrypt(struct ovpn_peer *peer, struct ovpn_crypto_key_slot *ks,
		      struct sk_buff *skb)
{
	unsigned int payload_len = skb->len;
	struct ovpn_cb *cb = ovpn_skb_cb(skb);
	struct aead_request *req;
	struct scatterlist *sg;
	struct sk_buff *trailer;
	int nfrags, ret;
	u32 pkt_id;
	u8 *iv;

	ret = skb_cow_head(skb, OVPN_HEAD_ROOM);
	if (unlikely(ret))
		return ret;
	nfrags = skb_cow_data(skb, 0, &trailer);
	if (unlikely(nfrags < 0))
		return nfrags;

	ret = ovpn_pktid_xmit_next(&ks->pid_xmit, &pkt_id);
	if (unlikely(ret))
		return ret;

	cb->crypto_tmp = ovpn_aead_alloc_tmp(ks->encrypt, nfrags + 2, &iv,
					     &req, &sg);
	if (unlikely(!cb->crypto_tmp))
		return -ENOMEM;

	__skb_push(skb, OVPN_DATA_V2_HLEN);
	*(__be32 *)skb->data = htonl(OVPN_DATA_V2 << 27 | ks->key_id << 24 |
				     (peer->tx_id & OVPN_PEER_ID_MASK));
	*(__be32 *)(skb->data + OVPN_OPCODE_SIZE) = htonl(pkt_id);

	ret = ovpn_aead_sg(skb, sg, nfrags + 2, payload_len);
	if (unlikely(ret))
		return ret;

	/* nonce: packet id || nonce tail */
	memcpy(iv, skb->data + OVPN_OPCODE_SIZE, OVPN_PKTID_SIZE);
	memcpy(iv + OVPN_PKTID_SIZE, ks->nonce_tail_xmit, OVPN_NONCE_TAIL_SIZE);

	aead_request_set_tfm(req, ks->encrypt);
	aead_request_set_callback(req, 0, ovpn_aead_encrypt_done, skb);
	aead_request_set_crypt(req, sg, sg, payload_len, iv);
	aead_request_set_ad(req, OVPN_AAD_SIZE);

	return crypto_aead_encrypt(req);
}

/**
 * ovpn_aead_decrypt - authenticate and decrypt a DATA_V2 packet in place
 * @peer: the peer it came from
 * @ks: the key its key id names
 * @skb: the packet, at least OVPN_DATA_V2_HLEN bytes linear at skb->data
 *
 * The packet id is stored in ovpn_skb_cb(skb)->pkt_id for the replay check,
 * which runs only after authentication.
 *
 * Return: 0, -EINPROGRESS (ovpn_decrypt_post() is called later), or a
 * negative errno (-EBADMSG: authentication failed).
 */
int ovpn_aead_decrypt(struct ovpn_peer *peer, struct ovpn_crypto_key_slot *ks,
		      struct sk_buff *skb)
{
	unsigned int payload_len = skb->len - OVPN_DATA_V2_HLEN;
	struct ovpn_cb *cb = ovpn_skb_cb(skb);
	struct aead_request *req;
	struct scatterlist *sg;
	struct sk_buff *trailer;
	int nfrags, ret;
	u8 *iv;

	nfrags = skb_cow_data(skb, 0, &trailer);
	if (unlikely(nfrags < 0))
		return nfrags;

	cb->crypto_tmp = ovpn_aead_alloc_tmp(ks->decrypt, nfrags + 2, &iv,
					     &req, &sg);
	if (unlikely(!cb->crypto_tmp))
		return -ENOMEM;

	cb->pkt_id = ntohl(*(__be32 *)(skb->data + OVPN_OPCODE_SIZE));
	memcpy(iv, skb->data + OVPN_OPCODE_SIZE, OVPN_PKTID_SIZE);
	memcpy(iv + OVPN_PKTID_SIZE, ks->nonce_tail_recv, OVPN_NONCE_TAIL_SIZE);

	ret = ovpn_aead_sg(skb, sg, nfrags + 2, payload_len);
	if (unlikely(ret))
		return ret;

	aead_request_set_tfm(req, ks->decrypt);
	aead_request_set_callback(req, 0, ovpn_aead_decrypt_done, skb);
	aead_request_set_crypt(req, sg, sg, payload_len + OVPN_AUTH_TAG_SIZE, iv);
	aead_request_set_ad(req, OVPN_AAD_SIZE);

	return crypto_aead_decrypt(req);
}

static const char *ovpn_aead_alg_name(enum ovpn_cipher_alg alg)
{
	switch (alg) {
	case OVPN_CIPHER_ALG_AES_GCM:
		return "gcm(aes)";
	case OVPN_CIPHER_ALG_CHACHA20_POLY1305:
		return "rfc7539(chacha20,poly1305)";
	default:
		return NULL;
	}
}

static struct crypto_aead *ovpn_aead_init(const char *alg_name,
					  const struct ovpn_key_direction *kd)
{
	struct crypto_aead *aead;
	int ret;

	aead = crypto_alloc_aead(alg_name, 0, 0);
	if (IS_ERR(aead)) {
		pr_err_ratelimited("ovpn: cannot allocate %s: %ld\n", alg_name,
				   PTR_ERR(aead));
		return aead;
	}

	ret = crypto_aead_setkey(aead, kd->cipher_key, kd->cipher_key_size);
	if (ret)
		goto err;
	ret = crypto_aead_setauthsize(aead, OVPN_AUTH_TAG_SIZE);
	if (ret)
		goto err;
	if (crypto_aead_ivsize(aead) != OVPN_AEAD_IV_SIZE) {
		ret = -EINVAL;
		goto err;
	}
	return aead;
err:
	crypto_free_aead(aead);
	return ERR_PTR(ret);
}

/**
 * ovpn_aead_crypto_key_slot_new - key both directions of a new slot
 * @kc: validated key configuration
 *
 * Return: the slot (one reference) or ERR_PTR.
 */
struct ovpn_crypto_key_slot *
ovpn_aead_crypto_key_slot_new(const struct ovpn_key_config *kc)
{
	const char *alg_name = ovpn_aead_alg_name(kc->cipher_alg);
	struct ovpn_crypto_key_slot *ks;
	int ret;

	if (!alg_name)
		return ERR_PTR(-EOPNOTSUPP);

	ks = kzalloc(sizeof(*ks), GFP_KERNEL);
	if (!ks)
		return ERR_PTR(-ENOMEM);

	ks->encrypt = ovpn_aead_init(alg_name, &kc->encrypt);
	if (IS_ERR(ks->encrypt)) {
		ret = PTR_ERR(ks->encrypt);
		goto free_ks;
	}
	ks->decrypt = ovpn_aead_init(alg_name, &kc->decrypt);
	if (IS_ERR(ks->decrypt)) {
		ret = PTR_ERR(ks->decrypt);
		goto free_encrypt;
	}

	ks->key_id = kc->key_id;
	ks->cipher_alg = kc->cipher_alg;
	memcpy(ks->nonce_tail_xmit, kc->encrypt.nonce_tail, OVPN_NONCE_TAIL_SIZE);
	memcpy(ks->nonce_tail_recv, kc->decrypt.nonce_tail, OVPN_NONCE_TAIL_SIZE);
	ovpn_pktid_xmit_init(&ks->pid_xmit);
	ovpn_pktid_recv_init(&ks->pid_recv);
	atomic_set(&ks->exhausted, 0);
	kref_init(&ks->refcount);
	return ks;

free_encrypt:
	crypto_free_aead(ks->encrypt);
free_ks:
	kfree(ks);
	return ERR_PTR(ret);
}

/**
 * ovpn_aead_crypto_key_slot_destroy - free a slot and wipe its secrets
 * @ks: the slot (no user left)
 *
 * crypto_free_aead() wipes the transforms' key schedules; the nonce tails
 * live in the slot itself and are wiped with it.
 */
void ovpn_aead_crypto_key_slot_destroy(struct ovpn_crypto_key_slot *ks)
{
	crypto_free_aead(ks->encrypt);
	crypto_free_aead(ks->decrypt);
	kfree_sensitive(ks);
}
