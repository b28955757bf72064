/**
 * One ovpn device served by the engine: a TUN device plus the peers reached through the
 * engine's UDP sockets. Control operations mirror the kernel's genl family: requests are
 * checked first (check.ts), then applied; the packet path is io.ts, the peers' VPN-address
 * index vpn-index.ts and the next hops of routed destinations next-hop.ts.
 */
import type { DelReason, DropCounters, KeyConfig, KeyInfo, KeySlot, PeerInfo } from '../types.js';
import { DataKey, KEEPALIVE_MAGIC, KeyConfigError } from '../../wire/index.js';
import { checkId, checkKeyConfig, checkPeerSpec, NO_PEER, type PeerSpec } from './check.js';
import { DatapathError, einval } from './errors.js';
import { DeviceIo } from './io.js';
import { Peer } from './peer.js';
import type { EngineTransport } from './transport.js';

export type { PeerSpec } from './check.js';
export type { DeviceHost } from './io.js';
export type { DeviceRoutes } from './next-hop.js';

export class EngineDevice extends DeviceIo {
  /** Packets dropped, by cause (exposed for diagnostics and tests). */
  readonly drops = { noPeer: 0, noKey: 0, decrypt: 0, replay: 0, malformed: 0, exhausted: 0, tunFull: 0, compressed: 0, send: 0 } satisfies DropCounters;

  constructor(...args: ConstructorParameters<typeof DeviceIo>) {
    super(...args);
    // as an ovpn P2P device: no carrier until there is a peer
    if (this.mode === 'p2p') this.setCarrier(false);
  }

  /** TUNSETCARRIER where the kernel has it (5.0+); without it the TUN keeps its carrier. */
  private setCarrier(on: boolean): void {
    try {
      this.host.addon.tunSetCarrier(this.fd, on);
    } catch {
      // old kernel or addon: the carrier stays up (LOWER_UP), as before
    }
  }

  private peer(id: number, attr = 'PEER.ID'): Peer {
    const p = this.peers.get(id);
    if (!p) throw new DatapathError('ENOENT', `${attr}: ${NO_PEER}`);
    return p;
  }

  newPeer(spec: PeerSpec, socket: EngineTransport | undefined, nowMs: number): void {
    const id = checkId(spec.id, 'PEER.ID');
    if (spec.txId !== undefined) checkId(spec.txId, 'PEER.TX_ID');
    if (!socket) throw einval('PEER.SOCKET: missing PEER SOCKET');
    if (socket.closed) throw einval('PEER.SOCKET: the socket is closed');
    if (socket.device !== undefined && socket.device !== this) {
      throw new DatapathError('EBUSY', `PEER.SOCKET: the socket is already used by device ${socket.device.name}`);
    }
    if (this.mode === 'mp') {
      if (spec.vpnIpv4 === undefined && spec.vpnIpv6 === undefined) {
        throw einval('a multi-peer device needs VPN_IPV4 or VPN_IPV6 for each peer');
      }
      if (this.peers.has(id)) throw new DatapathError('EEXIST', 'PEER.ID: peer ID already exists on this device');
    }
    if (socket.kind === 'tcp') {
      // one peer per connection, and its remote is the connection's (as the module does)
      if (socket.peers.size > 0 && !socket.peers.has(id)) throw new DatapathError('EBUSY', 'PEER.SOCKET: the TCP connection already carries a peer');
      spec = { ...spec, remote: socket.remote };
    }
    const peer = new Peer(id, socket, nowMs);
    this.applySpec(peer, spec, true);
    if (this.mode === 'p2p' && this.p2p) this.delPeer(this.p2p.id, 'teardown');
    socket.device = this;
    socket.peers.add(id);
    this.peers.set(id, peer);
    if (this.mode === 'p2p') {
      this.p2p = peer;
      this.setCarrier(true);
    }
    this.indexPeer(peer);
    this.hops?.forget();
  }

  setPeer(spec: PeerSpec): void {
    const peer = this.peer(checkId(spec.id, 'PEER.ID'));
    if (spec.txId !== undefined) checkId(spec.txId, 'PEER.TX_ID');
    this.index.remove(peer);
    try {
      this.applySpec(peer, spec, false);
    } finally {
      this.indexPeer(peer);
      this.hops?.forget();
    }
  }

  private indexPeer(peer: Peer): void {
    if (this.mode === 'mp') this.index.add(peer);
  }

  /** Validates everything first, then changes `peer` (no half-applied requests). */
  private applySpec(peer: Peer, spec: PeerSpec, isNew: boolean): void {
    const c = checkPeerSpec(spec, peer, this.mode, this.index, isNew);
    if (spec.txId !== undefined) peer.txId = spec.txId;
    else if (isNew) peer.txId = peer.id;
    if (c.remote) peer.setRemote({ ...c.remote });
    if (c.local) peer.local = { ...c.local };
    if (spec.compFraming !== undefined) peer.compFraming = spec.compFraming;
    if (c.vpn4 !== undefined) {
      peer.vpn4 = c.vpn4;
      peer.vpnIpv4 = spec.vpnIpv4;
    }
    if (c.vpn6 !== undefined) {
      peer.vpn6 = c.vpn6;
      peer.vpnIpv6 = spec.vpnIpv6;
    }
    if (c.keepalive) {
      // (re)arming keepalive starts both timers afresh, as the kernel does
      const now = performance.now();
      peer.keepaliveInterval = c.keepalive.interval;
      peer.keepaliveTimeout = c.keepalive.timeout;
      peer.lastRxMs = now;
      peer.lastTxMs = now;
    }
  }

  getPeer(id: number): PeerInfo {
    return this.peer(checkId(id, 'PEER.ID')).info();
  }

  dumpPeers(): PeerInfo[] {
    return [...this.peers.values()].map((p) => p.info());
  }

  delPeer(id: number, reason: DelReason): void {
    const peer = this.peer(checkId(id, 'PEER.ID'));
    peer.deleted = true;
    this.peers.delete(peer.id);
    this.index.remove(peer);
    if (this.p2p === peer) {
      this.p2p = undefined;
      if (!this.closed) this.setCarrier(false);
    }
    peer.socket.peers.delete(peer.id);
    if (peer.socket.peers.size === 0 && peer.socket.device === this) peer.socket.device = undefined;
    peer.primary = undefined;
    peer.secondary = undefined;
    this.hops?.forget();
    this.host.emit({ type: 'peer-deleted', ifindex: this.ifindex, peerId: peer.id, reason });
  }

  newKey(cfg: KeyConfig): void {
    const peer = this.peer(checkId(cfg.peerId, 'KEYCONF.PEER_ID'), 'KEYCONF.PEER_ID');
    checkKeyConfig(cfg);
    let key: DataKey;
    try {
      key = new DataKey({
        keyId: cfg.keyId,
        cipher: cfg.cipher,
        encrypt: cfg.encrypt,
        decrypt: cfg.decrypt,
        firstTxPacketId: this.host.firstTxPacketId,
      });
    } catch (err) {
      if (err instanceof KeyConfigError) throw einval(`KEYCONF: ${err.message}`);
      throw err;
    }
    const state = { key, cipher: cfg.cipher, exhaustNotified: false };
    if (cfg.slot === 'primary') peer.primary = state;
    else peer.secondary = state;
  }

  getKey(peerId: number, slot: KeySlot): KeyInfo {
    const info = this.peer(checkId(peerId, 'KEYCONF.PEER_ID'), 'KEYCONF.PEER_ID').keyInfo(slot);
    if (!info) throw new DatapathError('ENOENT', 'KEYCONF.SLOT: no key in this SLOT');
    return info;
  }

  swapKeys(peerId: number): void {
    const peer = this.peer(checkId(peerId, 'KEYCONF.PEER_ID'), 'KEYCONF.PEER_ID');
    const p = peer.primary;
    peer.primary = peer.secondary;
    peer.secondary = p;
  }

  delKey(peerId: number, slot: KeySlot): void {
    const peer = this.peer(checkId(peerId, 'KEYCONF.PEER_ID'), 'KEYCONF.PEER_ID');
    if (slot === 'primary') peer.primary = undefined;
    else if (slot === 'secondary') peer.secondary = undefined;
    else throw einval(`KEYCONF.SLOT: '${String(slot)}' is not primary or secondary`);
  }

  /** Deletes the peers of a socket its owner closed. */
  socketClosed(socket: EngineTransport): void {
    for (const id of [...socket.peers]) {
      if (this.peers.get(id)?.socket === socket) this.delPeer(id, 'transport-disconnect');
    }
  }

  /** Keepalive and expiry, called about once a second. */
  tick(nowMs: number): void {
    for (const peer of [...this.peers.values()]) {
      if (peer.keepaliveTimeout > 0 && nowMs - peer.lastRxMs >= peer.keepaliveTimeout * 1000) {
        this.delPeer(peer.id, 'expired');
        continue;
      }
      if (peer.keepaliveInterval > 0 && nowMs - peer.lastTxMs >= peer.keepaliveInterval * 1000) {
        this.transmit(peer, KEEPALIVE_MAGIC, KEEPALIVE_MAGIC.length, nowMs, true);
      }
    }
    this.flushSockets();
    this.reportPendingRxDrops();
  }

  close(): void {
    if (this.closed) return;
    for (const id of [...this.peers.keys()]) this.delPeer(id, 'teardown');
    this.closed = true;
    this.closeIo();
  }
}
