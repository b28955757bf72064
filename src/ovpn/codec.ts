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
import { AttrDecodeError, AttrSet, type NlWriter } from '../netlink/attrs.js';
import type { GenlMessage } from '../netlink/genl.js';
import { formatIp, parseIpv4, parseIpv6, parseIp } from '../util/sockaddr.js';
import * as C from './constants.js';

/** A PEER nest to send: PeerConfig with the transport socket as an fd. */
export type PeerAttrs = Omit<PeerConfig, 'socket'> & { socketFd?: number };

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
  w.u32(C.OVPN_A_PEER_ID, peer.id);
  if (peer.txId !== undefined) w.u32(C.OVPN_A_PEER_TX_ID, peer.txId);
  if (peer.socketFd !== undefined) w.u32(C.OVPN_A_PEER_SOCKET, peer.socketFd);
  if (peer.remote) {
    if (isIPv4(peer.remote.address)) {
      w.binary(C.OVPN_A_PEER_REMOTE_IPV4, parseIpv4(peer.remote.address));
    } else {
      w.binary(C.OVPN_A_PEER_REMOTE_IPV6, parseIpv6(peer.remote.address));
      if (peer.remote.scopeId) w.u32(C.OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID, peer.remote.scopeId);
    }
    w.be16(C.OVPN_A_PEER_REMOTE_PORT, peer.remote.port);
  }
  if (peer.local) {
    // LOCAL_PORT is reply-only in mainline's request policies: the address alone is sent.
    const local = parseIp(peer.local.address);
    w.binary(local.length === 4 ? C.OVPN_A_PEER_LOCAL_IPV4 : C.OVPN_A_PEER_LOCAL_IPV6, local);
  }
  if (peer.vpnIpv4 !== undefined) w.binary(C.OVPN_A_PEER_VPN_IPV4, parseIpv4(peer.vpnIpv4));
  if (peer.vpnIpv6 !== undefined) w.binary(C.OVPN_A_PEER_VPN_IPV6, parseIpv6(peer.vpnIpv6));
  if (peer.keepaliveInterval !== undefined) w.u32(C.OVPN_A_PEER_KEEPALIVE_INTERVAL, peer.keepaliveInterval);
  if (peer.keepaliveTimeout !== undefined) w.u32(C.OVPN_A_PEER_KEEPALIVE_TIMEOUT, peer.keepaliveTimeout);
}

function decodeAddress(attrs: AttrSet, type: number, size: 4 | 16): string | undefined {
  const v = attrs.binary(type);
  if (v === undefined) return undefined;
  if (v.length !== size) throw new AttrDecodeError(`${attrs.where} attribute ${type}: expected ${size} bytes, got ${v.length}`);
  return formatIp(v);
}

/** The remote endpoint of a PEER nest, if it has one. */
export function decodeRemote(attrs: AttrSet): Endpoint | undefined {
  const address =
    decodeAddress(attrs, C.OVPN_A_PEER_REMOTE_IPV4, 4) ?? decodeAddress(attrs, C.OVPN_A_PEER_REMOTE_IPV6, 16);
  const port = attrs.be16(C.OVPN_A_PEER_REMOTE_PORT);
  if (address === undefined || port === undefined) return undefined;
  const scopeId = attrs.u32(C.OVPN_A_PEER_REMOTE_IPV6_SCOPE_ID);
  return scopeId ? { address, port, scopeId } : { address, port };
}

/** Decodes a PEER nest of a PEER_GET reply. */
export function decodePeer(attrs: AttrSet): PeerInfo {
  const counter = (type: number): bigint => attrs.uint(type) ?? 0n;
  const info: PeerInfo = {
    id: attrs.require(attrs.u32(C.OVPN_A_PEER_ID), 'ID'),
    vpnRxBytes: counter(C.OVPN_A_PEER_VPN_RX_BYTES),
    vpnTxBytes: counter(C.OVPN_A_PEER_VPN_TX_BYTES),
    vpnRxPackets: counter(C.OVPN_A_PEER_VPN_RX_PACKETS),
    vpnTxPackets: counter(C.OVPN_A_PEER_VPN_TX_PACKETS),
    linkRxBytes: counter(C.OVPN_A_PEER_LINK_RX_BYTES),
    linkTxBytes: counter(C.OVPN_A_PEER_LINK_TX_BYTES),
    linkRxPackets: counter(C.OVPN_A_PEER_LINK_RX_PACKETS),
    linkTxPackets: counter(C.OVPN_A_PEER_LINK_TX_PACKETS),
  };
  const txId = attrs.u32(C.OVPN_A_PEER_TX_ID);
  if (txId !== undefined) info.txId = txId;
  const remote = decodeRemote(attrs);
  if (remote) info.remote = remote;
  const localAddress =
    decodeAddress(attrs, C.OVPN_A_PEER_LOCAL_IPV4, 4) ?? decodeAddress(attrs, C.OVPN_A_PEER_LOCAL_IPV6, 16);
  if (localAddress !== undefined) {
    const port = attrs.be16(C.OVPN_A_PEER_LOCAL_PORT);
    info.local = port !== undefined ? { address: localAddress, port } : { address: localAddress };
  }
  const vpnIpv4 = decodeAddress(attrs, C.OVPN_A_PEER_VPN_IPV4, 4);
  if (vpnIpv4 !== undefined) info.vpnIpv4 = vpnIpv4;
  const vpnIpv6 = decodeAddress(attrs, C.OVPN_A_PEER_VPN_IPV6, 16);
  if (vpnIpv6 !== undefined) info.vpnIpv6 = vpnIpv6;
  const interval = attrs.u32(C.OVPN_A_PEER_KEEPALIVE_INTERVAL);
  if (interval !== undefined) info.keepaliveInterval = interval;
  const timeout = attrs.u32(C.OVPN_A_PEER_KEEPALIVE_TIMEOUT);
  if (timeout !== undefined) info.keepaliveTimeout = timeout;
  const netnsId = attrs.s32(C.OVPN_A_PEER_SOCKET_NETNSID);
  if (netnsId !== undefined) info.socketNetnsId = netnsId;
  return info;
}

function encodeKeyDir(w: NlWriter, dir: KeyDirection): void {
  w.binary(C.OVPN_A_KEYDIR_CIPHER_KEY, dir.cipherKey);
  w.binary(C.OVPN_A_KEYDIR_NONCE_TAIL, dir.nonceTail);
}

/** Writes the content of a KEYCONF nest for KEY_NEW. */
export function encodeKeyConfig(w: NlWriter, key: KeyConfig): void {
  w.u32(C.OVPN_A_KEYCONF_PEER_ID, key.peerId);
  w.u32(C.OVPN_A_KEYCONF_SLOT, slotNumber(key.slot));
  w.u32(C.OVPN_A_KEYCONF_KEY_ID, key.keyId);
  w.u32(C.OVPN_A_KEYCONF_CIPHER_ALG, cipherNumber(key.cipher));
  w.nest(C.OVPN_A_KEYCONF_ENCRYPT_DIR, (d) => encodeKeyDir(d, key.encrypt));
  w.nest(C.OVPN_A_KEYCONF_DECRYPT_DIR, (d) => encodeKeyDir(d, key.decrypt));
}

/** Decodes a KEYCONF nest of a KEY_GET reply (no key material is ever returned). */
export function decodeKeyInfo(attrs: AttrSet): KeyInfo {
  return {
    peerId: attrs.require(attrs.u32(C.OVPN_A_KEYCONF_PEER_ID), 'PEER_ID'),
    slot: slotName(attrs.require(attrs.u32(C.OVPN_A_KEYCONF_SLOT), 'SLOT')),
    keyId: attrs.require(attrs.anyUint(C.OVPN_A_KEYCONF_KEY_ID), 'KEY_ID'),
    cipher: cipherName(attrs.require(attrs.u32(C.OVPN_A_KEYCONF_CIPHER_ALG), 'CIPHER_ALG')),
  };
}

/**
 * Decodes a notification of group "peers" into a DeviceEvent; undefined for commands
 * that are not notifications. Malformed notifications throw AttrDecodeError.
 */
export function decodeNotification(msg: GenlMessage): DeviceEvent | undefined {
  const ifindex = msg.attrs.require(msg.attrs.u32(C.OVPN_A_IFINDEX), 'IFINDEX');
  switch (msg.cmd) {
    case C.OVPN_CMD_PEER_DEL_NTF: {
      const peer = msg.attrs.require(msg.attrs.nested(C.OVPN_A_PEER, 'PEER'), 'PEER');
      return {
        type: 'peer-deleted',
        ifindex,
        peerId: peer.require(peer.u32(C.OVPN_A_PEER_ID), 'ID'),
        reason: delReasonName(peer.require(peer.u32(C.OVPN_A_PEER_DEL_REASON), 'DEL_REASON')),
      };
    }
    case C.OVPN_CMD_KEY_SWAP_NTF: {
      const key = msg.attrs.require(msg.attrs.nested(C.OVPN_A_KEYCONF, 'KEYCONF'), 'KEYCONF');
      return {
        type: 'key-swap-needed',
        ifindex,
        peerId: key.require(key.u32(C.OVPN_A_KEYCONF_PEER_ID), 'PEER_ID'),
        // Mainline has been seen sending KEY_ID as a u16: accept 1, 2 or 4 bytes.
        keyId: key.require(key.anyUint(C.OVPN_A_KEYCONF_KEY_ID), 'KEY_ID'),
      };
    }
    case C.OVPN_CMD_PEER_FLOAT_NTF: {
      const peer = msg.attrs.require(msg.attrs.nested(C.OVPN_A_PEER, 'PEER'), 'PEER');
      return {
        type: 'peer-float',
        ifindex,
        peerId: peer.require(peer.u32(C.OVPN_A_PEER_ID), 'ID'),
        remote: peer.require(decodeRemote(peer), 'REMOTE_IPV4/REMOTE_IPV6 + REMOTE_PORT'),
      };
    }
    default:
      return undefined;
  }
}
