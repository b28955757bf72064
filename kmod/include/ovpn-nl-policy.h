/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: request policies of the genl family "ovpn".
 *
 * GENERATED from src/ovpn/family.ts by scripts/gen-ovpn-family.mjs: do not edit.
 * Included by netlink.c only.
 */
#ifndef _OVPN_NL_POLICY_H_
#define _OVPN_NL_POLICY_H_

#include <linux/bits.h>
#include <net/netlink.h>
#include <uapi/linux/ovpn.h>

static struct netlink_range_validation ovpn_range_0_ffffff = {
	.max = 0xffffff,
};

static const struct nla_policy ovpn_peer_nl_policy[OVPN_A_PEER_MAX + 1] = {
	[OVPN_A_PEER_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &ovpn_range_0_ffffff),
	[OVPN_A_PEER_REMOTE_IPV4] = { .type = NLA_BE32 },
	[OVPN_A_PEER_REMOTE_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID] = { .type = NLA_U32 },
	[OVPN_A_PEER_REMOTE_PORT] = NLA_POLICY_MIN(NLA_BE16, 1),
	[OVPN_A_PEER_SOCKET] = { .type = NLA_U32 },
	[OVPN_A_PEER_VPN_IPV4] = { .type = NLA_BE32 },
	[OVPN_A_PEER_VPN_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[OVPN_A_PEER_LOCAL_IPV4] = { .type = NLA_BE32 },
	[OVPN_A_PEER_LOCAL_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[OVPN_A_PEER_LOCAL_PORT] = NLA_POLICY_MIN(NLA_BE16, 1),
	[OVPN_A_PEER_KEEPALIVE_INTERVAL] = { .type = NLA_U32 },
	[OVPN_A_PEER_KEEPALIVE_TIMEOUT] = { .type = NLA_U32 },
	[OVPN_A_PEER_TX_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &ovpn_range_0_ffffff),
};

static const struct nla_policy ovpn_keydir_nl_policy[OVPN_A_KEYDIR_MAX + 1] = {
	[OVPN_A_KEYDIR_CIPHER_KEY] = { .type = NLA_BINARY, .len = 256 },
	[OVPN_A_KEYDIR_NONCE_TAIL] = NLA_POLICY_EXACT_LEN(8),
};

static const struct nla_policy ovpn_keyconf_nl_policy[OVPN_A_KEYCONF_MAX + 1] = {
	[OVPN_A_KEYCONF_PEER_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &ovpn_range_0_ffffff),
	[OVPN_A_KEYCONF_SLOT] = NLA_POLICY_MAX(NLA_U32, OVPN_KEY_SLOT_SECONDARY),
	[OVPN_A_KEYCONF_KEY_ID] = NLA_POLICY_MAX(NLA_U32, 7),
	[OVPN_A_KEYCONF_CIPHER_ALG] = NLA_POLICY_MAX(NLA_U32, OVPN_CIPHER_ALG_CHACHA20_POLY1305),
	[OVPN_A_KEYCONF_ENCRYPT_DIR] = NLA_POLICY_NESTED(ovpn_keydir_nl_policy),
	[OVPN_A_KEYCONF_DECRYPT_DIR] = NLA_POLICY_NESTED(ovpn_keydir_nl_policy),
};

static const struct nla_policy ovpn_nl_policy[OVPN_A_MAX + 1] = {
	[OVPN_A_IFINDEX] = { .type = NLA_U32 },
	[OVPN_A_PEER] = NLA_POLICY_NESTED(ovpn_peer_nl_policy),
	[OVPN_A_KEYCONF] = NLA_POLICY_NESTED(ovpn_keyconf_nl_policy),
};

/* strict_mainline: the attributes mainline's per-command policies let into the nest */
#define OVPN_PEER_NEW_ATTRS \
	(BIT(OVPN_A_PEER_ID) | BIT(OVPN_A_PEER_REMOTE_IPV4) | \
	 BIT(OVPN_A_PEER_REMOTE_IPV6) | BIT(OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID) | \
	 BIT(OVPN_A_PEER_REMOTE_PORT) | BIT(OVPN_A_PEER_VPN_IPV4) | \
	 BIT(OVPN_A_PEER_VPN_IPV6) | BIT(OVPN_A_PEER_LOCAL_IPV4) | \
	 BIT(OVPN_A_PEER_LOCAL_IPV6) | BIT(OVPN_A_PEER_KEEPALIVE_INTERVAL) | \
	 BIT(OVPN_A_PEER_KEEPALIVE_TIMEOUT) | BIT(OVPN_A_PEER_TX_ID) | \
	 BIT(OVPN_A_PEER_SOCKET))
#define OVPN_PEER_SET_ATTRS \
	(BIT(OVPN_A_PEER_ID) | BIT(OVPN_A_PEER_REMOTE_IPV4) | \
	 BIT(OVPN_A_PEER_REMOTE_IPV6) | BIT(OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID) | \
	 BIT(OVPN_A_PEER_REMOTE_PORT) | BIT(OVPN_A_PEER_VPN_IPV4) | \
	 BIT(OVPN_A_PEER_VPN_IPV6) | BIT(OVPN_A_PEER_LOCAL_IPV4) | \
	 BIT(OVPN_A_PEER_LOCAL_IPV6) | BIT(OVPN_A_PEER_KEEPALIVE_INTERVAL) | \
	 BIT(OVPN_A_PEER_KEEPALIVE_TIMEOUT) | BIT(OVPN_A_PEER_TX_ID))
#define OVPN_PEER_GET_ATTRS (BIT(OVPN_A_PEER_ID))
#define OVPN_PEER_DEL_ATTRS (BIT(OVPN_A_PEER_ID))
#define OVPN_KEY_NEW_ATTRS \
	(BIT(OVPN_A_KEYCONF_PEER_ID) | BIT(OVPN_A_KEYCONF_SLOT) | \
	 BIT(OVPN_A_KEYCONF_KEY_ID) | BIT(OVPN_A_KEYCONF_CIPHER_ALG) | \
	 BIT(OVPN_A_KEYCONF_ENCRYPT_DIR) | BIT(OVPN_A_KEYCONF_DECRYPT_DIR))
#define OVPN_KEY_GET_ATTRS \
	(BIT(OVPN_A_KEYCONF_PEER_ID) | BIT(OVPN_A_KEYCONF_SLOT))
#define OVPN_KEY_SWAP_ATTRS (BIT(OVPN_A_KEYCONF_PEER_ID))
#define OVPN_KEY_DEL_ATTRS \
	(BIT(OVPN_A_KEYCONF_PEER_ID) | BIT(OVPN_A_KEYCONF_SLOT))

#endif /* _OVPN_NL_POLICY_H_ */
