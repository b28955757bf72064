/** `Device` and `TransportSocket` implemented over an engine connection. */
import type { Device, DeviceMode, DropCounters, Endpoint, KeyConfig, KeyInfo, KeySlot, PeerConfig, PeerInfo, TransportSocket } from '../types.js';
import type { EngineClient } from './client.js';
import { einval } from './errors.js';
import { RemoteTcp } from './remote-tcp.js';
import { keyConfigToWire, peerInfoFromWire, type WirePeerSpec } from './protocol.js';

export class RemoteUdpSocket implements TransportSocket {
  readonly kind = 'udp' as const;
  private closed = false;

  constructor(
    readonly client: EngineClient,
    readonly sock: number,
    readonly local: Endpoint,
  ) {}

  onControlPacket(handler: (packet: Buffer, from: Endpoint) => void): void {
    this.client.onControl(this.sock, handler);
  }

  /** Fire-and-forget like a UDP send; failures (unreachable, closed) are not reported. */
  send(packet: Buffer, to: Endpoint): void {
    if (this.closed) return;
    this.client.request('sendUdp', { sock: this.sock, to, data: packet.toString('base64') }).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.dropControl(this.sock);
    await this.client.request('closeUdp', { sock: this.sock });
  }
}

export class RemoteDevice implements Device {
  constructor(
    private readonly client: EngineClient,
    readonly name: string,
    readonly ifindex: number,
    readonly mode: DeviceMode,
  ) {}

  private spec(peer: PeerConfig, isNew: boolean): WirePeerSpec {
    const { socket, ...rest } = peer;
    const out: WirePeerSpec = rest;
    if (socket !== undefined) {
      if (!(socket instanceof RemoteUdpSocket || socket instanceof RemoteTcp) || socket.client !== this.client) {
        throw einval('PEER.SOCKET: not a socket of this userspace data path (open it with its openUdpSocket, tcpConnect or tcpListen)');
      }
      if (isNew) out.socket = socket.sock;
    }
    return out;
  }

  async newPeer(peer: PeerConfig): Promise<void> {
    await this.client.request('newPeer', { dev: this.name, peer: this.spec(peer, true) });
  }

  async setPeer(peer: PeerConfig): Promise<void> {
    await this.client.request('setPeer', { dev: this.name, peer: this.spec(peer, false) });
  }

  async getPeer(id: number): Promise<PeerInfo> {
    return peerInfoFromWire(await this.client.request('getPeer', { dev: this.name, id }));
  }

  async dumpPeers(): Promise<PeerInfo[]> {
    return (await this.client.request('dumpPeers', { dev: this.name })).map(peerInfoFromWire);
  }

  async delPeer(id: number): Promise<void> {
    await this.client.request('delPeer', { dev: this.name, id });
  }

  async newKey(key: KeyConfig): Promise<void> {
    await this.client.request('newKey', { dev: this.name, key: keyConfigToWire(key) });
  }

  getKey(peerId: number, slot: KeySlot): Promise<KeyInfo> {
    return this.client.request('getKey', { dev: this.name, peerId, slot });
  }

  async swapKeys(peerId: number): Promise<void> {
    await this.client.request('swapKeys', { dev: this.name, peerId });
  }

  async delKey(peerId: number, slot: KeySlot): Promise<void> {
    await this.client.request('delKey', { dev: this.name, peerId, slot });
  }

  /** Packets the engine dropped on this device, by reason. */
  drops(): Promise<DropCounters> {
    return this.client.request('drops', { dev: this.name });
  }
}
