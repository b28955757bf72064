/**
 * The generic netlink family "ovpn", version 1, as one table: commands, enumerations,
 * attribute sets (number, name, type, nesting) and the request policy of every attribute.
 * Numbers are those of Linux's include/uapi/linux/ovpn.h (mainline drivers/net/ovpn),
 * number for number; never renumber.
 *
 * Everything else is derived from this table:
 *  - src/ovpn/constants.ts: the numbers and names TypeScript uses;
 *  - tests/kmod/ovpn-family.json (scripts/gen-ovpn-family.ts): the same table as data, read by
 *    the Python driver tests/kmod/ovpnnl.py;
 *  - kmod/include/ovpn-nl-policy.h (same script): the module's nla_policy tables and
 *    strict_mainline's per-command attribute masks.
 * tests/unit/ovpn/family.test.ts checks that both generated files are current and that the
 * uapi header has the same numbers.
 */

/** Attribute types, named as in the netlink YAML specs (`binary` covers in_addr/in6_addr). */
export type AttrType = 'u8' | 'u16' | 'u32' | 's32' | 'uint' | 'be16' | 'be32' | 'binary' | 'nest';

/** Request policy of one attribute (mainline's nla_policy). */
export interface AttrPolicy {
  /** Integers: smallest value accepted (ERANGE below it). */
  readonly min?: number;
  /** Integers: largest value accepted (ERANGE above it). Enum-typed: the largest enum value. */
  readonly max?: number;
  /** Binary: exact length in bytes (EINVAL otherwise). */
  readonly exactLen?: number;
  /** Binary: largest length in bytes (EINVAL above it). */
  readonly maxLen?: number;
}

export interface AttrDef {
  readonly value: number;
  readonly type: AttrType;
  /** Nest: the attribute set it contains (an AttrSetName). */
  readonly nest?: string;
  /** Integer attributes whose values are an enumeration of this table (an EnumName). */
  readonly enum?: string;
  /** Addresses: the value is an IPv4 (4 bytes) or IPv6 (16 bytes) address. */
  readonly hint?: 'ipv4' | 'ipv6';
  /** Absent: reply-only, refused in requests ("Unsupported attribute", EINVAL). */
  readonly policy?: AttrPolicy;
}

export const OVPN_PEER_ID_MAX = 0xffffff;
export const OVPN_KEY_ID_MAX = 7;
export const OVPN_NONCE_TAIL_SIZE = 8;
/** Longest CIPHER_KEY the policy lets through (the cipher then decides: 16/24/32). */
const CIPHER_KEY_MAX_LEN = 256;
const IN6_ADDR_LEN = 16;

const ENUMS = {
  mode: { P2P: 0, MP: 1 },
  'cipher-alg': { NONE: 0, AES_GCM: 1, CHACHA20_POLY1305: 2 },
  'del-peer-reason': { TEARDOWN: 0, USERSPACE: 1, EXPIRED: 2, TRANSPORT_ERROR: 3, TRANSPORT_DISCONNECT: 4 },
  'key-slot': { PRIMARY: 0, SECONDARY: 1 },
} as const;
export type EnumName = keyof typeof ENUMS;

const ID = { min: 0, max: OVPN_PEER_ID_MAX } as const;
const ANY = {} as const;

const ATTRIBUTE_SETS = {
  peer: {
    ID: { value: 1, type: 'u32', policy: ID },
    REMOTE_IPV4: { hint: 'ipv4', value: 2, type: 'be32', policy: ANY },
    REMOTE_IPV6: { hint: 'ipv6', value: 3, type: 'binary', policy: { exactLen: IN6_ADDR_LEN } },
    REMOTE_IPV6_SCOPE_ID: { value: 4, type: 'u32', policy: ANY },
    REMOTE_PORT: { value: 5, type: 'be16', policy: { min: 1 } },
    SOCKET: { value: 6, type: 'u32', policy: ANY },
    SOCKET_NETNSID: { value: 7, type: 's32' },
    VPN_IPV4: { hint: 'ipv4', value: 8, type: 'be32', policy: ANY },
    VPN_IPV6: { hint: 'ipv6', value: 9, type: 'binary', policy: { exactLen: IN6_ADDR_LEN } },
    LOCAL_IPV4: { hint: 'ipv4', value: 10, type: 'be32', policy: ANY },
    LOCAL_IPV6: { hint: 'ipv6', value: 11, type: 'binary', policy: { exactLen: IN6_ADDR_LEN } },
    LOCAL_PORT: { value: 12, type: 'be16', policy: { min: 1 } },
    KEEPALIVE_INTERVAL: { value: 13, type: 'u32', policy: ANY },
    KEEPALIVE_TIMEOUT: { value: 14, type: 'u32', policy: ANY },
    DEL_REASON: { value: 15, type: 'u32', enum: 'del-peer-reason' },
    VPN_RX_BYTES: { value: 16, type: 'uint' },
    VPN_TX_BYTES: { value: 17, type: 'uint' },
    VPN_RX_PACKETS: { value: 18, type: 'uint' },
    VPN_TX_PACKETS: { value: 19, type: 'uint' },
    LINK_RX_BYTES: { value: 20, type: 'uint' },
    LINK_TX_BYTES: { value: 21, type: 'uint' },
    LINK_RX_PACKETS: { value: 22, type: 'uint' },
    LINK_TX_PACKETS: { value: 23, type: 'uint' },
    TX_ID: { value: 24, type: 'u32', policy: ID },
  },
  keydir: {
    CIPHER_KEY: { value: 1, type: 'binary', policy: { maxLen: CIPHER_KEY_MAX_LEN } },
    NONCE_TAIL: { value: 2, type: 'binary', policy: { exactLen: OVPN_NONCE_TAIL_SIZE } },
  },
  keyconf: {
    PEER_ID: { value: 1, type: 'u32', policy: ID },
    SLOT: { value: 2, type: 'u32', enum: 'key-slot', policy: { max: ENUMS['key-slot'].SECONDARY } },
    KEY_ID: { value: 3, type: 'u32', policy: { max: OVPN_KEY_ID_MAX } },
    CIPHER_ALG: { value: 4, type: 'u32', enum: 'cipher-alg', policy: { max: ENUMS['cipher-alg'].CHACHA20_POLY1305 } },
    ENCRYPT_DIR: { value: 5, type: 'nest', nest: 'keydir', policy: ANY },
    DECRYPT_DIR: { value: 6, type: 'nest', nest: 'keydir', policy: ANY },
  },
  ovpn: {
    IFINDEX: { value: 1, type: 'u32', policy: ANY },
    PEER: { value: 2, type: 'nest', nest: 'peer', policy: ANY },
    KEYCONF: { value: 3, type: 'nest', nest: 'keyconf', policy: ANY },
  },
} as const satisfies Record<string, Record<string, AttrDef>>;
export type AttrSetName = keyof typeof ATTRIBUTE_SETS;

/**
 * `nest`/`attrs`: what mainline's per-command request policy lets into the command's nest
 * (kovpn's module enforces it under strict_mainline=1). Notifications have no request.
 */
export interface CommandDef {
  readonly value: number;
  readonly request?: { readonly nest: 'PEER' | 'KEYCONF'; readonly attrs: readonly string[] };
}

const PEER_SET_ATTRS = [
  'ID', 'REMOTE_IPV4', 'REMOTE_IPV6', 'REMOTE_IPV6_SCOPE_ID', 'REMOTE_PORT', 'VPN_IPV4', 'VPN_IPV6',
  'LOCAL_IPV4', 'LOCAL_IPV6', 'KEEPALIVE_INTERVAL', 'KEEPALIVE_TIMEOUT', 'TX_ID',
] as const;

const COMMANDS = {
  PEER_NEW: { value: 1, request: { nest: 'PEER', attrs: [...PEER_SET_ATTRS, 'SOCKET'] } },
  PEER_SET: { value: 2, request: { nest: 'PEER', attrs: PEER_SET_ATTRS } },
  PEER_GET: { value: 3, request: { nest: 'PEER', attrs: ['ID'] } },
  PEER_DEL: { value: 4, request: { nest: 'PEER', attrs: ['ID'] } },
  PEER_DEL_NTF: { value: 5 },
  KEY_NEW: {
    value: 6,
    request: { nest: 'KEYCONF', attrs: ['PEER_ID', 'SLOT', 'KEY_ID', 'CIPHER_ALG', 'ENCRYPT_DIR', 'DECRYPT_DIR'] },
  },
  KEY_GET: { value: 7, request: { nest: 'KEYCONF', attrs: ['PEER_ID', 'SLOT'] } },
  KEY_SWAP: { value: 8, request: { nest: 'KEYCONF', attrs: ['PEER_ID'] } },
  KEY_SWAP_NTF: { value: 9 },
  KEY_DEL: { value: 10, request: { nest: 'KEYCONF', attrs: ['PEER_ID', 'SLOT'] } },
  PEER_FLOAT_NTF: { value: 11 },
} as const satisfies Record<string, CommandDef>;
export type CommandName = keyof typeof COMMANDS;

/** The whole family. */
export const OVPN_FAMILY = {
  name: 'ovpn',
  version: 1,
  mcgrps: { PEERS: 'peers' },
  definitions: { PEER_ID_MAX: OVPN_PEER_ID_MAX, KEY_ID_MAX: OVPN_KEY_ID_MAX, NONCE_TAIL_SIZE: OVPN_NONCE_TAIL_SIZE },
  enums: ENUMS,
  /** The top-level set is "ovpn"; the others are nests. */
  attributeSets: ATTRIBUTE_SETS,
  commands: COMMANDS,
} as const;
