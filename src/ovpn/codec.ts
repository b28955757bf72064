/**
 * Encoders and decoders of the "ovpn" family's nests (PEER, KEYCONF, KEYDIR) and of its
 * notifications, mapped onto the data-path types of src/datapath/types.ts.
 */
import { isIPv4 } from 'node:net';
import type {
  CipherAlg,
  DelReason,
  DeviceEvent,
  Endpoint,
  KeyConfig,
  KeyDirection,
  KeyInfo,
  KeySlot,
  PeerConfig,
  PeerInfo,
} from '../datapath/types.js';
import { AttrDecodeError, type AttrSet, type NlWriter } from '../netlink/attrs.js';
import type { GenlMessage } from '../netlink/genl.js';
import { ATTR, CMD } from './constants.js';
import { get, need, put } from './fields.js';

/** A PEER nest to send: PeerConfig with the transport socket as an fd. */
export type PeerAttrs = Omit<PeerConfig, 'socket'> & { socketFd?: number };

/** The data-path names of the family's enums (src/datapath/types.ts), in value order. */
const CIPHERS: readonly CipherAlg[] = ['none', 'aes-gcm', 'chacha20-poly1305'];
const SLOTS: readonly KeySlot[] = ['primary', 'secondary'];
const REASONS: readonly DelReason[] = ['teardown', 'userspace', 'expired', 'transport-error', 'transport-disconnect'];

export function cipherNumber(cipher: CipherAlg): number {
  const n = CIPHERS.indexOf(cipher);
  if (n < 0) throw new TypeError(`unknown cipher '${String(cipher)}' (expected ${CIPHERS.join(', ')})`);
  return n;
}

export function slotNumber(slot: KeySlot): number {
  const n = SLOTS.indexOf(slot);
  if (n < 0) throw new TypeError(`unknown key slot '${String(slot)}' (expected primary or secondary)`);
  return n;
}

function enumName<T>(names: readonly T[], value: number, what: string): T {
  const name = names[value];
  if (name === undefined) throw new AttrDecodeError(`${what} ${value} is unknown`);
  return name;
}

export const cipherName = (n: number): CipherAlg => enumName(CIPHERS, n, 'cipher algorithm');
export const slotName = (n: number): KeySlot => enumName(SLOTS, n, 'key slot');
export const delReasonName = (n: number): DelReason => enumName(REASONS, n, 'peer deletion reason');

/** Writes the content of a PEER nest (the caller opens the nest). */
export function encodePeer(w: NlWriter, peer: PeerAttrs): void {
  put(w, 'peer', 'ID', peer.id);
  if (peer.txId !== undefined) put(w, 'peer', 'TX_ID', peer.txId);
  if (peer.socketFd !== undefined) put(w, 'peer', 'SOCKET', peer.socketFd);
  if (peer.remote) {
    if (isIPv4(peer.remote.address)) {
      put(w, 'peer', 'REMOTE_IPV4', peer.remote.address);
    } else {
      put(w, 'peer', 'REMOTE_IPV6', peer.remote.address);
      if (peer.remote.scopeId) put(w, 'peer', 'REMOTE_IPV6_SCOPE_ID', peer.remote.scopeId);
    }
    put(w, 'peer', 'REMOTE_PORT', peer.remote.port);
  }
  if (peer.local) {
    // LOCAL_PORT is reply-only in mainline's request policies: the address alone is sent.
    put(w, 'peer', isIPv4(peer.local.address) ? 'LOCAL_IPV4' : 'LOCAL_IPV6', peer.local.address);
  }
  if (peer.vpnIpv4 !== undefined) put(w, 'peer', 'VPN_IPV4', peer.vpnIpv4);
  if (peer.vpnIpv6 !== undefined) put(w, 'peer', 'VPN_IPV6', peer.vpnIpv6);
  if (peer.keepaliveInterval !== undefined) put(w, 'peer', 'KEEPALIVE_INTERVAL', peer.keepaliveInterval);
  if (peer.keepaliveTimeout !== undefined) put(w, 'peer', 'KEEPALIVE_TIMEOUT', peer.keepaliveTimeout);
}

/** The remote endpoint of a PEER nest, if it has one. */
export function decodeRemote(attrs: AttrSet): Endpoint | undefined {
  const address = get(attrs, 'peer', 'REMOTE_IPV4') ?? get(attrs, 'peer', 'REMOTE_IPV6');
  const port = get(attrs, 'peer', 'REMOTE_PORT');
  if (address === undefined || port === undefined) return undefined;
  const scopeId = get(attrs, 'peer', 'REMOTE_IPV6_SCOPE_ID');
  return scopeId ? { address, port, scopeId } : { address, port };
}

const COUNTERS = {
  vpnRxBytes: 'VPN_RX_BYTES',
  vpnTxBytes: 'VPN_TX_BYTES',
  vpnRxPackets: 'VPN_RX_PACKETS',
  vpnTxPackets: 'VPN_TX_PACKETS',
  linkRxBytes: 'LINK_RX_BYTES',
  linkTxBytes: 'LINK_TX_BYTES',
  linkRxPackets: 'LINK_RX_PACKETS',
  linkTxPackets: 'LINK_TX_PACKETS',
} as const;

/** Decodes a PEER nest of a PEER_GET reply. */
export function decodePeer(attrs: AttrSet): PeerInfo {
  const info = { id: need(attrs, 'peer', 'ID') } as PeerInfo;
  for (const [field, name] of Object.entries(COUNTERS)) info[field as keyof typeof COUNTERS] = get(attrs, 'peer', name) ?? 0n;
  const txId = get(attrs, 'peer', 'TX_ID');
  if (txId !== undefined) info.txId = txId;
  const remote = decodeRemote(attrs);
  if (remote) info.remote = remote;
  const localAddress = get(attrs, 'peer', 'LOCAL_IPV4') ?? get(attrs, 'peer', 'LOCAL_IPV6');
  if (localAddress !== undefined) {
    const port = get(attrs, 'peer', 'LOCAL_PORT');
    info.local = port !== undefined ? { address: localAddress, port } : { address: localAddress };
  }
  const vpnIpv4 = get(attrs, 'peer', 'VPN_IPV4');
  if (vpnIpv4 !== undefined) info.vpnIpv4 = vpnIpv4;
  const vpnIpv6 = get(attrs, 'peer', 'VPN_IPV6');
  if (vpnIpv6 !== undefined) info.vpnIpv6 = vpnIpv6;
  const interval = get(attrs, 'peer', 'KEEPALIVE_INTERVAL');
  if (interval !== undefined) info.keepaliveInterval = interval;
  const timeout = get(attrs, 'peer', 'KEEPALIVE_TIMEOUT');
  if (timeout !== undefined) info.keepaliveTimeout = timeout;
  const netnsId = get(attrs, 'peer', 'SOCKET_NETNSID');
  if (netnsId !== undefined) info.socketNetnsId = netnsId;
  return info;
}

function encodeKeyDir(w: NlWriter, dir: KeyDirection): void {
  put(w, 'keydir', 'CIPHER_KEY', dir.cipherKey);
  put(w, 'keydir', 'NONCE_TAIL', dir.nonceTail);
}

/** Writes the content of a KEYCONF nest for KEY_NEW. */
export function encodeKeyConfig(w: NlWriter, key: KeyConfig): void {
  put(w, 'keyconf', 'PEER_ID', key.peerId);
  put(w, 'keyconf', 'SLOT', slotNumber(key.slot));
  put(w, 'keyconf', 'KEY_ID', key.keyId);
  put(w, 'keyconf', 'CIPHER_ALG', cipherNumber(key.cipher));
  put(w, 'keyconf', 'ENCRYPT_DIR', (d) => encodeKeyDir(d, key.encrypt));
  put(w, 'keyconf', 'DECRYPT_DIR', (d) => encodeKeyDir(d, key.decrypt));
}

function decodeKeyDir(attrs: AttrSet): KeyDirection {
  return { cipherKey: need(attrs, 'keydir', 'CIPHER_KEY'), nonceTail: need(attrs, 'keydir', 'NONCE_TAIL') };
}

/** Decodes a KEYCONF nest of a KEY_NEW request (the inverse of encodeKeyConfig). */
export function decodeKeyConfig(attrs: AttrSet): KeyConfig {
  return {
    ...decodeKeyInfo(attrs),
    encrypt: decodeKeyDir(need(attrs, 'keyconf', 'ENCRYPT_DIR')),
    decrypt: decodeKeyDir(need(attrs, 'keyconf', 'DECRYPT_DIR')),
  };
}

/** KEY_ID: mainline has been seen sending it as a u16, so 1, 2 or 4 bytes are accepted. */
function keyId(attrs: AttrSet): number {
  return attrs.require(attrs.anyUint(ATTR.keyconf.KEY_ID), 'KEY_ID');
}

/** Decodes a KEYCONF nest of a KEY_GET reply (no key material is ever returned). */
export function decodeKeyInfo(attrs: AttrSet): KeyInfo {
  return {
    peerId: need(attrs, 'keyconf', 'PEER_ID'),
    slot: slotName(need(attrs, 'keyconf', 'SLOT')),
    keyId: keyId(attrs),
    cipher: cipherName(need(attrs, 'keyconf', 'CIPHER_ALG')),
  };
}

/**
 * Decodes a notification of group "peers" into a DeviceEvent; undefined for commands
 * that are not notifications. Malformed notifications throw AttrDecodeError.
 */
export function decodeNotification(msg: GenlMessage): DeviceEvent | undefined {
  const ifindex = need(msg.attrs, 'ovpn', 'IFINDEX');
  switch (msg.cmd) {
    case CMD.PEER_DEL_NTF: {
      const peer = need(msg.attrs, 'ovpn', 'PEER');
      return {
        type: 'peer-deleted',
        ifindex,
        peerId: need(peer, 'peer', 'ID'),
        reason: delReasonName(need(peer, 'peer', 'DEL_REASON')),
      };
    }
    case CMD.KEY_SWAP_NTF: {
      const key = need(msg.attrs, 'ovpn', 'KEYCONF');
      return { type: 'key-swap-needed', ifindex, peerId: need(key, 'keyconf', 'PEER_ID'), keyId: keyId(key) };
    }
    case CMD.PEER_FLOAT_NTF: {
      const peer = need(msg.attrs, 'ovpn', 'PEER');
      return {
        type: 'peer-float',
        ifindex,
        peerId: need(peer, 'peer', 'ID'),
        remote: peer.require(decodeRemote(peer), 'REMOTE_IPV4/REMOTE_IPV6 + REMOTE_PORT'),
      };
    }
    default:
      return undefined;
  }
}
