/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR MIT */
/*
 * kovpn: numbers of the "ovpn-dco-v2" generic netlink family, the interface
 * that OpenVPN 2.6 drives (out-of-tree ovpn-dco, v2 API).
 *
 * Only the numbers matter on the wire; they are the ones OpenVPN 2.6 sends and
 * reads.  The names carry an OVPN_DCO_ prefix so that this header can be used
 * next to <uapi/linux/ovpn.h> (mainline's family) in one translation unit.
 * Cipher, key slot, delete reason and link mode values are the same numbers
 * as mainline's enum ovpn_cipher_alg, ovpn_key_slot, ovpn_del_peer_reason and
 * ovpn_mode, and IFLA_OVPN_MODE is attribute 1 in both: those are reused.
 * See docs/ovpn-dco-v2.md.
 */
#ifndef _UAPI_LINUX_OVPN_DCO_V2_H_
#define _UAPI_LINUX_OVPN_DCO_V2_H_

#define OVPN_DCO_FAMILY_NAME		"ovpn-dco-v2"
#define OVPN_DCO_FAMILY_VERSION		1
#define OVPN_DCO_MCGRP_PEERS		"peers"
#define OVPN_DCO_LINK_KIND		"ovpn-dco"

/* commands (GET_PEER: doit with a PEER_ID, dumpit without) */
enum ovpn_dco_cmd {
	OVPN_DCO_CMD_UNSPEC,
	OVPN_DCO_CMD_NEW_PEER,
	OVPN_DCO_CMD_SET_PEER,
	OVPN_DCO_CMD_DEL_PEER,		/* also the only notification */
	OVPN_DCO_CMD_NEW_KEY,
	OVPN_DCO_CMD_SWAP_KEYS,
	OVPN_DCO_CMD_DEL_KEY,
	OVPN_DCO_CMD_GET_PEER,

	__OVPN_DCO_CMD_MAX,
};
#define OVPN_DCO_CMD_MAX	(__OVPN_DCO_CMD_MAX - 1)

/* top level: IFINDEX plus the one nest of the command */
enum ovpn_dco_a {
	OVPN_DCO_A_UNSPEC,
	OVPN_DCO_A_IFINDEX,		/* u32 */
	OVPN_DCO_A_NEW_PEER,		/* nest: enum ovpn_dco_a_new_peer */
	OVPN_DCO_A_SET_PEER,		/* nest: enum ovpn_dco_a_set_peer */
	OVPN_DCO_A_DEL_PEER,		/* nest: enum ovpn_dco_a_del_peer */
	OVPN_DCO_A_NEW_KEY,		/* nest: enum ovpn_dco_a_new_key */
	OVPN_DCO_A_SWAP_KEYS,		/* nest: enum ovpn_dco_a_swap_keys */
	OVPN_DCO_A_DEL_KEY,		/* nest: enum ovpn_dco_a_del_key */
	OVPN_DCO_A_GET_PEER,		/* nest: get_peer (request) / peer (reply) */

	__OVPN_DCO_A_MAX,
};
#define OVPN_DCO_A_MAX		(__OVPN_DCO_A_MAX - 1)

/* the ENCRYPT_KEY / DECRYPT_KEY nests of NEW_KEY */
enum ovpn_dco_a_key_dir {
	OVPN_DCO_A_KEY_DIR_UNSPEC,
	OVPN_DCO_A_KEY_DIR_CIPHER_KEY,	/* binary, 16/24/32 bytes */
	OVPN_DCO_A_KEY_DIR_NONCE_TAIL,	/* binary, 8 bytes */

	__OVPN_DCO_A_KEY_DIR_MAX,
};
#define OVPN_DCO_A_KEY_DIR_MAX	(__OVPN_DCO_A_KEY_DIR_MAX - 1)

enum ovpn_dco_a_new_key {
	OVPN_DCO_A_NEW_KEY_UNSPEC,
	OVPN_DCO_A_NEW_KEY_PEER_ID,	/* u32 */
	OVPN_DCO_A_NEW_KEY_KEY_SLOT,	/* u8: enum ovpn_key_slot */
	OVPN_DCO_A_NEW_KEY_KEY_ID,	/* u8 */
	OVPN_DCO_A_NEW_KEY_CIPHER_ALG,	/* u16: enum ovpn_cipher_alg */
	OVPN_DCO_A_NEW_KEY_ENCRYPT_KEY,	/* nest: enum ovpn_dco_a_key_dir */
	OVPN_DCO_A_NEW_KEY_DECRYPT_KEY,	/* nest: enum ovpn_dco_a_key_dir */

	__OVPN_DCO_A_NEW_KEY_MAX,
};
#define OVPN_DCO_A_NEW_KEY_MAX	(__OVPN_DCO_A_NEW_KEY_MAX - 1)

enum ovpn_dco_a_del_key {
	OVPN_DCO_A_DEL_KEY_UNSPEC,
	OVPN_DCO_A_DEL_KEY_PEER_ID,	/* u32 */
	OVPN_DCO_A_DEL_KEY_KEY_SLOT,	/* u8: enum ovpn_key_slot */

	__OVPN_DCO_A_DEL_KEY_MAX,
};
#define OVPN_DCO_A_DEL_KEY_MAX	(__OVPN_DCO_A_DEL_KEY_MAX - 1)

enum ovpn_dco_a_swap_keys {
	OVPN_DCO_A_SWAP_KEYS_UNSPEC,
	OVPN_DCO_A_SWAP_KEYS_PEER_ID,	/* u32 */

	__OVPN_DCO_A_SWAP_KEYS_MAX,
};
#define OVPN_DCO_A_SWAP_KEYS_MAX	(__OVPN_DCO_A_SWAP_KEYS_MAX - 1)

enum ovpn_dco_a_new_peer {
	OVPN_DCO_A_NEW_PEER_UNSPEC,
	OVPN_DCO_A_NEW_PEER_PEER_ID,		/* u32 */
	OVPN_DCO_A_NEW_PEER_SOCKADDR_REMOTE,	/* struct sockaddr_in or _in6 */
	OVPN_DCO_A_NEW_PEER_SOCKET,		/* u32: the caller's fd */
	OVPN_DCO_A_NEW_PEER_IPV4,		/* u32, network order */
	OVPN_DCO_A_NEW_PEER_IPV6,		/* struct in6_addr */
	OVPN_DCO_A_NEW_PEER_LOCAL_IP,		/* struct in_addr or in6_addr */

	__OVPN_DCO_A_NEW_PEER_MAX,
};
#define OVPN_DCO_A_NEW_PEER_MAX	(__OVPN_DCO_A_NEW_PEER_MAX - 1)

enum ovpn_dco_a_set_peer {
	OVPN_DCO_A_SET_PEER_UNSPEC,
	OVPN_DCO_A_SET_PEER_PEER_ID,		/* u32 */
	OVPN_DCO_A_SET_PEER_KEEPALIVE_INTERVAL,	/* u32, seconds */
	OVPN_DCO_A_SET_PEER_KEEPALIVE_TIMEOUT,	/* u32, seconds */

	__OVPN_DCO_A_SET_PEER_MAX,
};
#define OVPN_DCO_A_SET_PEER_MAX	(__OVPN_DCO_A_SET_PEER_MAX - 1)

enum ovpn_dco_a_del_peer {
	OVPN_DCO_A_DEL_PEER_UNSPEC,
	OVPN_DCO_A_DEL_PEER_REASON,		/* u8: enum ovpn_del_peer_reason */
	OVPN_DCO_A_DEL_PEER_PEER_ID,		/* u32 */

	__OVPN_DCO_A_DEL_PEER_MAX,
};
#define OVPN_DCO_A_DEL_PEER_MAX	(__OVPN_DCO_A_DEL_PEER_MAX - 1)

enum ovpn_dco_a_get_peer {
	OVPN_DCO_A_GET_PEER_UNSPEC,
	OVPN_DCO_A_GET_PEER_PEER_ID,		/* u32 */

	__OVPN_DCO_A_GET_PEER_MAX,
};
#define OVPN_DCO_A_GET_PEER_MAX	(__OVPN_DCO_A_GET_PEER_MAX - 1)

/* the GET_PEER nest of a reply */
enum ovpn_dco_a_peer {
	OVPN_DCO_A_PEER_UNSPEC,
	OVPN_DCO_A_PEER_PEER_ID,		/* u32 */
	OVPN_DCO_A_PEER_SOCKADDR_REMOTE,	/* struct sockaddr_in or _in6 */
	OVPN_DCO_A_PEER_IPV4,			/* struct in_addr */
	OVPN_DCO_A_PEER_IPV6,			/* struct in6_addr */
	OVPN_DCO_A_PEER_LOCAL_IP,		/* struct in_addr or in6_addr */
	OVPN_DCO_A_PEER_LOCAL_PORT,		/* be16 */
	OVPN_DCO_A_PEER_KEEPALIVE_INTERVAL,	/* u32 */
	OVPN_DCO_A_PEER_KEEPALIVE_TIMEOUT,	/* u32 */
	OVPN_DCO_A_PEER_VPN_RX_BYTES,		/* u64 */
	OVPN_DCO_A_PEER_VPN_TX_BYTES,		/* u64 */
	OVPN_DCO_A_PEER_VPN_RX_PACKETS,		/* u32 */
	OVPN_DCO_A_PEER_VPN_TX_PACKETS,		/* u32 */
	OVPN_DCO_A_PEER_LINK_RX_BYTES,		/* u64 */
	OVPN_DCO_A_PEER_LINK_TX_BYTES,		/* u64 */
	OVPN_DCO_A_PEER_LINK_RX_PACKETS,	/* u32 */
	OVPN_DCO_A_PEER_LINK_TX_PACKETS,	/* u32 */

	__OVPN_DCO_A_PEER_MAX,
};
#define OVPN_DCO_A_PEER_MAX	(__OVPN_DCO_A_PEER_MAX - 1)

#endif /* _UAPI_LINUX_OVPN_DCO_V2_H_ */
