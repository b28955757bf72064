/**
 * The generic netlink family "ovpn", version 1: numbers of Linux's include/uapi/linux/ovpn.h
 * (described in docs/netlink-interface.md), number for number.
 */
import type { AttrSchema } from '../netlink/schema.js';

export const OVPN_FAMILY_NAME = 'ovpn';
export const OVPN_FAMILY_VERSION = 1;
export const OVPN_MCGRP_PEERS = 'peers';

/** Largest peer id; 0xFFFFFF on the wire means "undefined". */
export const OVPN_PEER_ID_MAX = 0xffffff;
export const OVPN_KEY_ID_MAX = 7;
export const OVPN_NONCE_TAIL_SIZE = 8;

// enum ovpn_cmd
export const OVPN_CMD_PEER_NEW = 1;
export const OVPN_CMD_PEER_SET = 2;
export const OVPN_CMD_PEER_GET = 3;
export const OVPN_CMD_PEER_DEL = 4;
export const OVPN_CMD_PEER_DEL_NTF = 5;
export const OVPN_CMD_KEY_NEW = 6;
export const OVPN_CMD_KEY_GET = 7;
export const OVPN_CMD_KEY_SWAP = 8;
export const OVPN_CMD_KEY_SWAP_NTF = 9;
export const OVPN_CMD_KEY_DEL = 10;
export const OVPN_CMD_PEER_FLOAT_NTF = 11;

// top-level attributes (enum ovpn_a)
export const OVPN_A_IFINDEX = 1;
export const OVPN_A_PEER = 2;
export const OVPN_A_KEYCONF = 3;

// enum ovpn_a_peer
export const OVPN_A_PEER_ID = 1;
export const OVPN_A_PEER_REMOTE_IPV4 = 2;
export const OVPN_A_PEER_REMOTE_IPV6 = 3;
export const OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID = 4;
export const OVPN_A_PEER_REMOTE_PORT = 5;
export const OVPN_A_PEER_SOCKET = 6;
export const OVPN_A_PEER_SOCKET_NETNSID = 7;
export const OVPN_A_PEER_VPN_IPV4 = 8;
export const OVPN_A_PEER_VPN_IPV6 = 9;
export const OVPN_A_PEER_LOCAL_IPV4 = 10;
export const OVPN_A_PEER_LOCAL_IPV6 = 11;
export const OVPN_A_PEER_LOCAL_PORT = 12;
export const OVPN_A_PEER_KEEPALIVE_INTERVAL = 13;
export const OVPN_A_PEER_KEEPALIVE_TIMEOUT = 14;
export const OVPN_A_PEER_DEL_REASON = 15;
export const OVPN_A_PEER_VPN_RX_BYTES = 16;
export const OVPN_A_PEER_VPN_TX_BYTES = 17;
export const OVPN_A_PEER_VPN_RX_PACKETS = 18;
export const OVPN_A_PEER_VPN_TX_PACKETS = 19;
export const OVPN_A_PEER_LINK_RX_BYTES = 20;
export const OVPN_A_PEER_LINK_TX_BYTES = 21;
export const OVPN_A_PEER_LINK_RX_PACKETS = 22;
export const OVPN_A_PEER_LINK_TX_PACKETS = 23;
export const OVPN_A_PEER_TX_ID = 24;

// enum ovpn_a_keyconf
export const OVPN_A_KEYCONF_PEER_ID = 1;
export const OVPN_A_KEYCONF_SLOT = 2;
export const OVPN_A_KEYCONF_KEY_ID = 3;
export const OVPN_A_KEYCONF_CIPHER_ALG = 4;
export const OVPN_A_KEYCONF_ENCRYPT_DIR = 5;
export const OVPN_A_KEYCONF_DECRYPT_DIR = 6;

// enum ovpn_a_keydir
export const OVPN_A_KEYDIR_CIPHER_KEY = 1;
export const OVPN_A_KEYDIR_NONCE_TAIL = 2;

// enum ovpn_key_slot
export const OVPN_KEY_SLOT_PRIMARY = 0;
export const OVPN_KEY_SLOT_SECONDARY = 1;

// enum ovpn_cipher_alg
export const OVPN_CIPHER_ALG_NONE = 0;
export const OVPN_CIPHER_ALG_AES_GCM = 1;
export const OVPN_CIPHER_ALG_CHACHA20_POLY1305 = 2;

// enum ovpn_del_peer_reason
export const OVPN_DEL_PEER_REASON_TEARDOWN = 0;
export const OVPN_DEL_PEER_REASON_USERSPACE = 1;
export const OVPN_DEL_PEER_REASON_EXPIRED = 2;
export const OVPN_DEL_PEER_REASON_TRANSPORT_ERROR = 3;
export const OVPN_DEL_PEER_REASON_TRANSPORT_DISCONNECT = 4;

// enum ovpn_mode (IFLA_OVPN_MODE)
export const OVPN_MODE_P2P = 0;
export const OVPN_MODE_MP = 1;

/** Command names as used in error messages. */
export const OVPN_CMD_NAMES: Readonly<Record<number, string>> = {
  [OVPN_CMD_PEER_NEW]: 'PEER_NEW',
  [OVPN_CMD_PEER_SET]: 'PEER_SET',
  [OVPN_CMD_PEER_GET]: 'PEER_GET',
  [OVPN_CMD_PEER_DEL]: 'PEER_DEL',
  [OVPN_CMD_PEER_DEL_NTF]: 'PEER_DEL_NTF',
  [OVPN_CMD_KEY_NEW]: 'KEY_NEW',
  [OVPN_CMD_KEY_GET]: 'KEY_GET',
  [OVPN_CMD_KEY_SWAP]: 'KEY_SWAP',
  [OVPN_CMD_KEY_SWAP_NTF]: 'KEY_SWAP_NTF',
  [OVPN_CMD_KEY_DEL]: 'KEY_DEL',
  [OVPN_CMD_PEER_FLOAT_NTF]: 'PEER_FLOAT_NTF',
};

const PEER_SCHEMA: AttrSchema = {
  [OVPN_A_PEER_ID]: { name: 'ID' },
  [OVPN_A_PEER_REMOTE_IPV4]: { name: 'REMOTE_IPV4' },
  [OVPN_A_PEER_REMOTE_IPV6]: { name: 'REMOTE_IPV6' },
  [OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID]: { name: 'REMOTE_IPV6_SCOPE_ID' },
  [OVPN_A_PEER_REMOTE_PORT]: { name: 'REMOTE_PORT' },
  [OVPN_A_PEER_SOCKET]: { name: 'SOCKET' },
  [OVPN_A_PEER_SOCKET_NETNSID]: { name: 'SOCKET_NETNSID' },
  [OVPN_A_PEER_VPN_IPV4]: { name: 'VPN_IPV4' },
  [OVPN_A_PEER_VPN_IPV6]: { name: 'VPN_IPV6' },
  [OVPN_A_PEER_LOCAL_IPV4]: { name: 'LOCAL_IPV4' },
  [OVPN_A_PEER_LOCAL_IPV6]: { name: 'LOCAL_IPV6' },
  [OVPN_A_PEER_LOCAL_PORT]: { name: 'LOCAL_PORT' },
  [OVPN_A_PEER_KEEPALIVE_INTERVAL]: { name: 'KEEPALIVE_INTERVAL' },
  [OVPN_A_PEER_KEEPALIVE_TIMEOUT]: { name: 'KEEPALIVE_TIMEOUT' },
  [OVPN_A_PEER_DEL_REASON]: { name: 'DEL_REASON' },
  [OVPN_A_PEER_VPN_RX_BYTES]: { name: 'VPN_RX_BYTES' },
  [OVPN_A_PEER_VPN_TX_BYTES]: { name: 'VPN_TX_BYTES' },
  [OVPN_A_PEER_VPN_RX_PACKETS]: { name: 'VPN_RX_PACKETS' },
  [OVPN_A_PEER_VPN_TX_PACKETS]: { name: 'VPN_TX_PACKETS' },
  [OVPN_A_PEER_LINK_RX_BYTES]: { name: 'LINK_RX_BYTES' },
  [OVPN_A_PEER_LINK_TX_BYTES]: { name: 'LINK_TX_BYTES' },
  [OVPN_A_PEER_LINK_RX_PACKETS]: { name: 'LINK_RX_PACKETS' },
  [OVPN_A_PEER_LINK_TX_PACKETS]: { name: 'LINK_TX_PACKETS' },
  [OVPN_A_PEER_TX_ID]: { name: 'TX_ID' },
};

const KEYDIR_SCHEMA: AttrSchema = {
  [OVPN_A_KEYDIR_CIPHER_KEY]: { name: 'CIPHER_KEY' },
  [OVPN_A_KEYDIR_NONCE_TAIL]: { name: 'NONCE_TAIL' },
};

const KEYCONF_SCHEMA: AttrSchema = {
  [OVPN_A_KEYCONF_PEER_ID]: { name: 'PEER_ID' },
  [OVPN_A_KEYCONF_SLOT]: { name: 'SLOT' },
  [OVPN_A_KEYCONF_KEY_ID]: { name: 'KEY_ID' },
  [OVPN_A_KEYCONF_CIPHER_ALG]: { name: 'CIPHER_ALG' },
  [OVPN_A_KEYCONF_ENCRYPT_DIR]: { name: 'ENCRYPT_DIR', nested: KEYDIR_SCHEMA },
  [OVPN_A_KEYCONF_DECRYPT_DIR]: { name: 'DECRYPT_DIR', nested: KEYDIR_SCHEMA },
};

/** Attribute names of the family, for error messages ("PEER.VPN_IPV4"). */
export const OVPN_SCHEMA: AttrSchema = {
  [OVPN_A_IFINDEX]: { name: 'IFINDEX' },
  [OVPN_A_PEER]: { name: 'PEER', nested: PEER_SCHEMA },
  [OVPN_A_KEYCONF]: { name: 'KEYCONF', nested: KEYCONF_SCHEMA },
};
