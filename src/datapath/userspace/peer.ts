/** Engine-side state of one peer: addresses, key slots, timers and the eight counters. */
import type { CipherAlg, Endpoint, KeyInfo, KeySlot, PeerInfo } from '../types.js';
import { DataKey } from '../../wire/index.js';
import { SOCKADDR_LEN, encodeSockaddr } from '../../util/sockaddr.js';
import type { EngineTransport } from './transport.js';
import type { CompFraming } from '../../wire/comp-framing.js';

export interface KeyState {
  key: DataKey;
  cipher: CipherAlg;
  /** key-swap-needed was sent for this key (once per key). */
  exhaustNotified: boolean;
}

export class Peer {
  txId: number;
  remote: Endpoint | undefined;
  /** `remote` as a raw sockaddr record, copied into send batches. */
  readonly remoteRec = Buffer.alloc(SOCKADDR_LEN);
  /** Incremented whenever `remote` changes (a send batch groups datagrams per destination). */
  remoteVersion = 0;
  local: { address: string; port?: number } | undefined;
  /** VPN IPv4 as a number (0 = none) and IPv6 as bytes. */
  vpn4 = 0;
  vpnIpv4: string | undefined;
  vpn6: Buffer | undefined;
  vpnIpv6: string | undefined;
  keepaliveInterval = 0;
  keepaliveTimeout = 0;
  lastRxMs: number;
  lastTxMs: number;
  primary: KeyState | undefined;
  secondary: KeyState | undefined;
  deleted = false;
  /** OpenVPN compression framing on this peer's payloads (userspace path only), if any. */
  compFraming: CompFraming | undefined;

  vpnRxBytes = 0;
  vpnTxBytes = 0;
  vpnRxPackets = 0;
  vpnTxPackets = 0;
  linkRxBytes = 0;
  linkTxBytes = 0;
  linkRxPackets = 0;
  linkTxPackets = 0;

  constructor(
    readonly id: number,
    readonly socket: EngineTransport,
    nowMs: number,
  ) {
    this.txId = id;
    this.lastRxMs = nowMs;
    this.lastTxMs = nowMs;
  }

  setRemote(ep: Endpoint): void {
    encodeSockaddr(ep, this.remoteRec);
    this.remote = ep;
    this.remoteVersion++;
  }

  /** The key for a received packet's key id, if one of the slots holds it. */
  keyForRx(keyId: number): DataKey | undefined {
    const p = this.primary;
    if (p !== undefined && p.key.keyId === keyId) return p.key;
    const s = this.secondary;
    if (s !== undefined && s.key.keyId === keyId) return s.key;
    return undefined;
  }

  keyInfo(slot: KeySlot): KeyInfo | undefined {
    const k = slot === 'primary' ? this.primary : this.secondary;
    return k && { peerId: this.id, slot, keyId: k.key.keyId, cipher: k.cipher };
  }

  info(): PeerInfo {
    const info: PeerInfo = {
      id: this.id,
      vpnRxBytes: BigInt(this.vpnRxBytes),
      vpnTxBytes: BigInt(this.vpnTxBytes),
      vpnRxPackets: BigInt(this.vpnRxPackets),
      vpnTxPackets: BigInt(this.vpnTxPackets),
      linkRxBytes: BigInt(this.linkRxBytes),
      linkTxBytes: BigInt(this.linkTxBytes),
      linkRxPackets: BigInt(this.linkRxPackets),
      linkTxPackets: BigInt(this.linkTxPackets),
      keepaliveInterval: this.keepaliveInterval,
      keepaliveTimeout: this.keepaliveTimeout,
    };
    info.txId = this.txId; // always, as the module answers PEER.TX_ID
    if (this.remote) info.remote = { ...this.remote };
    const local = this.local ?? { address: this.socket.local.address, port: this.socket.local.port };
    info.local = { ...local };
    if (this.vpnIpv4 !== undefined) info.vpnIpv4 = this.vpnIpv4;
    if (this.vpnIpv6 !== undefined) info.vpnIpv6 = this.vpnIpv6;
    return info;
  }
}
