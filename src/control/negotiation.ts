/**
 * The data channel's parameters a session agrees on with its peer, by OpenVPN 2.6's rules:
 * the cipher, where the keys come from (TLS exporter or the OpenVPN PRF) and whether the peer
 * understands EXIT over the control channel. One function per way of agreeing: a server
 * reading a client's peer info, either side of peer-to-peer TLS (NCP_P2P), a client reading
 * the server's PUSH_REPLY. Pure: the session applies the result.
 */
import { negotiateCipher, parseCipherList, parseCipherName, type DataCipher } from './ciphers.js';
import { ControlError } from './errors.js';
import { IvProto } from './keymethod2.js';
import type { PushOptions } from './push.js';

export const P2P_PEER_ID_LABEL = 'EXPORTER-OpenVPN-p2p-peerid';

export interface DataChannelParams {
  cipher: DataCipher;
  /** Keys from the TLS keying-material exporter (else the OpenVPN PRF). */
  useEkm: boolean;
  /** The peer understands EXIT/RESTART on the control channel (CC_EXIT_NOTIFY). */
  peerSupportsExit: boolean;
}

function ivProto(info: Map<string, string>): number {
  return Number(info.get('IV_PROTO') ?? 0);
}

/**
 * Server: the first of our ciphers the client announces (IV_CIPHERS, or IV_NCP=2's AES-GCM);
 * ControlError 'negotiation' when there is none.
 */
export function fromClientPeerInfo(ours: readonly DataCipher[], info: Map<string, string>): DataChannelParams {
  const proto = ivProto(info);
  return {
    cipher: negotiateCipher(ours, info),
    useEkm: (proto & IvProto.TLS_KEY_EXPORT) !== 0,
    peerSupportsExit: (proto & IvProto.CC_EXIT_NOTIFY) !== 0,
  };
}

/**
 * Peer-to-peer TLS (NCP_P2P): the first of the TLS server's data-ciphers the client also
 * lists, keys from the exporter. The peer must announce NCP_P2P and TLS key export (2.6+);
 * `keyExport` false on our side refuses too. `who` starts the error lines.
 */
export function fromP2pPeerInfo(role: 'client' | 'server', ours: readonly DataCipher[], info: Map<string, string>,
  keyExport: boolean, who: string): DataChannelParams {
  const proto = ivProto(info);
  if (!(proto & IvProto.NCP_P2P) || !(proto & IvProto.TLS_KEY_EXPORT) || !keyExport) {
    throw new ControlError('negotiation', `${who}: peer (IV_PROTO=${proto}) lacks NCP_P2P or TLS key export, ` +
      'which peer-to-peer mode needs (OpenVPN 2.6 or later)');
  }
  const theirs = parseCipherList(info.get('IV_CIPHERS') ?? '').known;
  const [serverList, clientList] = role === 'server' ? [ours, theirs] : [theirs, ours];
  const cipher = serverList.find((c) => clientList.includes(c));
  if (!cipher) {
    throw new ControlError('negotiation', `${who}: no common data cipher: ours ${ours.join(':')}, peer's ${theirs.join(':') || '(none)'}`);
  }
  return { cipher, useEkm: true, peerSupportsExit: (proto & IvProto.CC_EXIT_NOTIFY) !== 0 };
}

/** Client: what a complete PUSH_REPLY set; its cipher must be one of ours (default: our first). */
export function fromPushReply(ours: readonly DataCipher[], options: PushOptions): DataChannelParams {
  const cipher = parseCipherName(options.cipher ?? ours[0]!);
  if (!cipher || !ours.includes(cipher)) {
    throw new ControlError('negotiation', `server pushed cipher '${options.cipher ?? ''}', not in our data-ciphers ${ours.join(':')}`);
  }
  return {
    cipher,
    useEkm: options.protocolFlags.includes('tls-ekm') || options.keyDerivation === 'tls-ekm',
    peerSupportsExit: options.protocolFlags.includes('cc-exit'),
  };
}
