/** The options string and peer info kovpn sends in its key-method-2 messages. */
import type { DataCipher } from './ciphers.js';
import { IvProto, formatPeerInfo } from './keymethod2.js';

export const KOVPN_VERSION = '0.1.0';

/** IV_PROTO kovpn announces as a client: DATA_V2, REQUEST_PUSH, TLS_KEY_EXPORT, CC_EXIT_NOTIFY. */
export const CLIENT_IV_PROTO = IvProto.DATA_V2 | IvProto.REQUEST_PUSH | IvProto.TLS_KEY_EXPORT | IvProto.CC_EXIT_NOTIFY;

/**
 * OpenVPN's "options compatibility string". 2.6 only compares it for logging; it is sent so
 * that peers' logs show a sensible description of this side.
 */
export function optionsString(role: 'client' | 'server', cipher: DataCipher, proto: 'udp' | 'tcp' = 'udp'): string {
  const bits = cipher === 'AES-128-GCM' ? 128 : cipher === 'AES-192-GCM' ? 192 : 256;
  return ['V4', 'dev-type tun', 'link-mtu 1549', 'tun-mtu 1500', `proto ${proto === 'udp' ? 'UDPv4' : role === 'client' ? 'TCPv4_CLIENT' : 'TCPv4_SERVER'}`,
    `cipher ${cipher}`, 'auth [null-digest]', `keysize ${bits}`, 'key-method 2', `tls-${role}`].join(',');
}

export interface ClientPeerInfoOptions {
  ciphers: readonly DataCipher[];
  /** Announce TLS keying-material export (default true); false forces the OpenVPN PRF. */
  keyExport?: boolean;
  /** Peer-to-peer mode: also announce NCP_P2P (cipher and peer id without push). */
  p2p?: boolean;
}

/** Peer info of a client, or of either side in peer-to-peer mode. */
export function clientPeerInfo(o: ClientPeerInfoOptions): string {
  let proto = o.keyExport === false ? CLIENT_IV_PROTO & ~IvProto.TLS_KEY_EXPORT : CLIENT_IV_PROTO;
  if (o.p2p) proto |= IvProto.NCP_P2P;
  return formatPeerInfo([
    ['IV_VER', '2.6.0'],
    ['IV_PLAT', 'linux'],
    // As stock OpenVPN (push_peer_info): the data path's replay window accepts ids out of
    // order, so strictly sequential packet ids over TCP are not required.
    ['IV_TCPNL', '1'],
    ['IV_NCP', '2'],
    ['IV_CIPHERS', o.ciphers.join(':')],
    ['IV_PROTO', String(proto)],
    ['IV_GUI_VER', `kovpn_${KOVPN_VERSION}`],
  ]);
}

/** Control messages carried as NUL-terminated strings over TLS. */
export const ControlMessage = {
  PUSH_REQUEST: 'PUSH_REQUEST',
  EXIT: 'EXIT',
  RESTART: 'RESTART',
  HALT: 'HALT',
  AUTH_FAILED: 'AUTH_FAILED',
} as const;
