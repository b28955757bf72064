/** The "ovpn" generic netlink family: one typed call per command, and its notifications. */
import type { DeviceEvent, KeyConfig, KeyInfo, KeySlot, PeerInfo } from '../datapath/types.js';
import { AttrSet, type NlWriter } from '../netlink/attrs.js';
import { GenlSocket, type GenlFamily, type GenlMessage } from '../netlink/genl.js';
import { ATTR, CMD, OVPN_CMD_NAMES, OVPN_FAMILY_NAME, OVPN_MCGRP_PEERS, OVPN_SCHEMA } from './constants.js';
import { decodeKeyInfo, decodeNotification, decodePeer, encodeKeyConfig, encodePeer, slotNumber, type PeerAttrs } from './codec.js';
import { get } from './fields.js';

export type OvpnEventHandler = (event: DeviceEvent) => void;
export type OvpnDecodeErrorHandler = (err: Error, msg: GenlMessage) => void;

/** A client of the ovpn family over one generic netlink socket. */
export class OvpnClient {
  private constructor(
    private readonly genl: GenlSocket,
    readonly family: GenlFamily,
  ) {}

  /** Resolves the family; rejects with FamilyNotFoundError when no ovpn driver is loaded. */
  static async open(genl: GenlSocket = new GenlSocket()): Promise<OvpnClient> {
    try {
      return new OvpnClient(genl, await genl.family(OVPN_FAMILY_NAME));
    } catch (err) {
      genl.close();
      throw err;
    }
  }

  private call(cmd: number, body: (w: NlWriter) => void, dump = false): Promise<GenlMessage[]> {
    return this.genl.request(
      this.family,
      cmd,
      { operation: OVPN_CMD_NAMES[cmd] ?? `ovpn cmd ${cmd}`, schema: OVPN_SCHEMA, ...(dump ? { dump: true } : {}) },
      body,
    );
  }

  private peerCall(cmd: number, ifindex: number, peer: PeerAttrs): Promise<GenlMessage[]> {
    return this.call(cmd, (w) => {
      w.u32(ATTR.ovpn.IFINDEX, ifindex);
      w.nest(ATTR.ovpn.PEER, (p) => encodePeer(p, peer));
    });
  }

  async newPeer(ifindex: number, peer: PeerAttrs): Promise<void> {
    await this.peerCall(CMD.PEER_NEW, ifindex, peer);
  }

  async setPeer(ifindex: number, peer: PeerAttrs): Promise<void> {
    await this.peerCall(CMD.PEER_SET, ifindex, peer);
  }

  async getPeer(ifindex: number, id: number): Promise<PeerInfo> {
    const replies = await this.peerCall(CMD.PEER_GET, ifindex, { id });
    const peer = replies[0] && get(replies[0].attrs, 'ovpn', 'PEER');
    if (!peer) throw new Error(`PEER_GET: the kernel sent no PEER for peer ${id} on ifindex ${ifindex}`);
    return decodePeer(peer);
  }

  async dumpPeers(ifindex: number): Promise<PeerInfo[]> {
    const replies = await this.call(CMD.PEER_GET, (w) => w.u32(ATTR.ovpn.IFINDEX, ifindex), true);
    const peers: PeerInfo[] = [];
    for (const m of replies) {
      for (const nest of m.attrs.list) {
        if (nest.type === ATTR.ovpn.PEER) peers.push(decodePeer(new AttrSet(nest.value, 'PEER')));
      }
    }
    return peers;
  }

  async delPeer(ifindex: number, id: number): Promise<void> {
    await this.peerCall(CMD.PEER_DEL, ifindex, { id });
  }

  async newKey(ifindex: number, key: KeyConfig): Promise<void> {
    await this.call(CMD.KEY_NEW, (w) => {
      w.u32(ATTR.ovpn.IFINDEX, ifindex);
      w.nest(ATTR.ovpn.KEYCONF, (k) => encodeKeyConfig(k, key));
    });
  }

  async getKey(ifindex: number, peerId: number, slot: KeySlot): Promise<KeyInfo> {
    const replies = await this.call(CMD.KEY_GET, (w) => {
      w.u32(ATTR.ovpn.IFINDEX, ifindex);
      w.nest(ATTR.ovpn.KEYCONF, (k) => {
        k.u32(ATTR.keyconf.PEER_ID, peerId);
        k.u32(ATTR.keyconf.SLOT, slotNumber(slot));
      });
    });
    const keyconf = replies[0] && get(replies[0].attrs, 'ovpn', 'KEYCONF');
    if (!keyconf) throw new Error(`KEY_GET: the kernel sent no KEYCONF for peer ${peerId} slot ${slot}`);
    return decodeKeyInfo(keyconf);
  }

  async swapKeys(ifindex: number, peerId: number): Promise<void> {
    await this.call(CMD.KEY_SWAP, (w) => {
      w.u32(ATTR.ovpn.IFINDEX, ifindex);
      w.nest(ATTR.ovpn.KEYCONF, (k) => k.u32(ATTR.keyconf.PEER_ID, peerId));
    });
  }

  async delKey(ifindex: number, peerId: number, slot: KeySlot): Promise<void> {
    await this.call(CMD.KEY_DEL, (w) => {
      w.u32(ATTR.ovpn.IFINDEX, ifindex);
      w.nest(ATTR.ovpn.KEYCONF, (k) => {
        k.u32(ATTR.keyconf.PEER_ID, peerId);
        k.u32(ATTR.keyconf.SLOT, slotNumber(slot));
      });
    });
  }

  /**
   * Joins group "peers" on this client's socket and delivers its notifications. Use a
   * client of its own for subscriptions (see NetlinkSocket). Returns the unsubscriber.
   */
  subscribe(handler: OvpnEventHandler, onDecodeError?: OvpnDecodeErrorHandler): () => void {
    return this.genl.subscribe(this.family, OVPN_MCGRP_PEERS, (msg) => {
      let event: DeviceEvent | undefined;
      try {
        event = decodeNotification(msg);
      } catch (err) {
        onDecodeError?.(err as Error, msg);
        return;
      }
      if (event) handler(event);
    });
  }

  close(): void {
    this.genl.close();
  }
}
