/**
 * Client and peer-to-peer modes: one P2P device, one UDP socket, one session with the first
 * reachable remote. After PUSH_REPLY (client) or the key exchange (p2p: addresses from
 * `ifconfig`) the device gets its address and routes, the peer and its primary key;
 * rekeys rotate keys in place; if the session ends other than by our stop, the peer is
 * removed and the client reconnects after a pause.
 */
import { lookup } from 'node:dns/promises';
import type { Datapath, Device, DeviceEvent, Endpoint, TransportSocket } from '../datapath/types.js';
import { decodeControlPacket } from '../control/packet.js';
import { ControlSession, type SessionEndReason } from '../control/session.js';
import type { PushOptions } from '../control/push.js';
import { commonName } from '../control/verify.js';
import type { KovpnConfig } from '../config/types.js';
import { tlsCredentials } from './credentials.js';
import type { EventBus } from './events.js';
import { deviceKeyOps } from './key-ops.js';
import type { DaemonLog } from './log.js';
import { addRoute, configureAddress, configurePointToPoint } from './netconf.js';
import type { PeerStatus, TunnelStatus } from './status.js';

export const RECONNECT_DELAY_MS = 5_000;

export class ClientTunnel {
  private device: Device | undefined;
  private socket: TransportSocket | undefined;
  private session: ControlSession | undefined;
  private remote: Endpoint | undefined;
  private remoteIndex = 0;
  private peerId = 0;
  private peerUp = false;
  private stopping = false;
  private reconnectNow = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private keySince = 0;
  private peerName: string | undefined;

  constructor(
    private readonly cfg: KovpnConfig,
    private readonly datapath: Datapath,
    private readonly events: EventBus,
    private readonly log: DaemonLog,
  ) {}

  async start(): Promise<void> {
    this.device = await this.datapath.createDevice(this.cfg.dev, 'p2p');
    this.unsubscribe = await this.datapath.subscribe((e) => this.onDeviceEvent(e));
    this.events.emit({ type: 'tunnel-up', reason: `client device ${this.device.name} (${this.datapath.kind} data path)` });
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const r = this.cfg.remotes[this.remoteIndex % this.cfg.remotes.length]!;
    this.remoteIndex++;
    try {
      const { address } = await lookup(r.host, { family: 4 });
      this.remote = { address, port: r.port };
      if (!this.socket) {
        this.socket = await this.datapath.openUdpSocket({ address: this.cfg.local ?? '0.0.0.0', port: this.cfg.bind ? this.cfg.port : 0 });
        // One handler for the socket's life; it feeds whichever session is current.
        this.socket.onControlPacket((buf, from) => this.onControlPacket(buf, from));
      }
    } catch (err) {
      this.log.log('warn', `cannot reach ${r.host}:${r.port}: ${(err as Error).message}; retrying in ${RECONNECT_DELAY_MS / 1000} s`);
      this.scheduleReconnect();
      return;
    }
    const socket = this.socket;
    const remote = this.remote;
    this.log.log('info', `connecting to ${remote.address}:${remote.port} from ${socket.local.address}:${socket.local.port}`);
    const device = this.device!;
    const p2p = this.cfg.p2p;
    const session: ControlSession = new ControlSession({
      role: p2p?.tlsRole ?? 'client', p2p: p2p !== undefined,
      tls: tlsCredentials(this.cfg), ciphers: this.cfg.dataCiphers, renegSeconds: this.cfg.renegSec,
      events: {
        transmit: (p) => socket.send(p, remote),
        ...deviceKeyOps(device, () => this.peerId, async () => (p2p ? this.setUpP2p(session) : this.setUp(session, session.pushed!)),
          (keyId) => this.events.emit({ type: 'rekey', peerId: this.peerId, name: this.peerName, keyId, cipher: session.cipher }),
          () => this.emitPeerUp(session)),
        onPushReply: (o) => { this.peerId = o.peerId ?? 0; },
        onEnd: (reason) => void this.onSessionEnd(session, reason),
        log: (l, m) => this.log.log(l, m),
      },
    });
    this.session = session;
    session.start();
  }

  private onControlPacket(buf: Buffer, from: Endpoint): void {
    const remote = this.remote;
    if (!this.session || !remote || from.address !== remote.address || from.port !== remote.port) return;
    try {
      this.session.receive(decodeControlPacket(buf));
    } catch (err) {
      this.log.log('debug', `from ${from.address}:${from.port}: ${(err as Error).message}`);
    }
  }

  /** First key: address, routes, peer. */
  private async setUp(session: ControlSession, o: PushOptions): Promise<void> {
    const dev = this.device!;
    if (!o.ifconfig) throw new Error('server pushed no ifconfig (only topology subnet is supported)');
    if (o.topology && o.topology !== 'subnet') throw new Error(`server pushed topology ${o.topology}; only subnet is supported`);
    await configureAddress(dev.name, o.ifconfig.local, o.ifconfig.second);
    for (const r of o.routes) await addRoute(dev.name, r.network, r.netmask, r.gateway ?? o.routeGateway, r.metric);
    await dev.newPeer({
      id: this.peerId, socket: this.socket!, remote: this.remote!,
      keepaliveInterval: o.ping ?? 0, keepaliveTimeout: o.pingRestart ?? 0,
    });
    this.peerUp = true;
    this.keySince = Date.now();
    const cert = session.current?.peerCertificate();
    this.peerName = cert ? commonName(cert) : undefined;
    if (o.ignored.length > 0) this.log.log('info', `ignored pushed options: ${o.ignored.join(', ')}`);
  }

  /** First key in peer-to-peer mode: point-to-point address, peer with the derived id. */
  private async setUpP2p(session: ControlSession): Promise<void> {
    const dev = this.device!;
    const { local, remote } = this.cfg.p2p!.ifconfig;
    this.peerId = session.p2pPeerId!;
    await configurePointToPoint(dev.name, local, remote);
    await dev.newPeer({
      id: this.peerId, socket: this.socket!, remote: this.remote!,
      keepaliveInterval: this.cfg.keepalive?.interval ?? 0, keepaliveTimeout: this.cfg.keepalive?.timeout ?? 0,
    });
    this.peerUp = true;
    this.keySince = Date.now();
    const cert = session.current?.peerCertificate();
    this.peerName = cert ? commonName(cert) : undefined;
  }

  /** Once the first key is in the data path (set-up done): traffic can flow. */
  private emitPeerUp(session: ControlSession): void {
    if (this.session !== session || !this.peerUp) return;
    this.events.emit({
      type: 'peer-up', peerId: this.peerId, name: this.peerName, remote: `${this.remote!.address}:${this.remote!.port}`,
      vpnIpv4: session.pushed?.ifconfig?.local ?? this.cfg.p2p?.ifconfig.local, cipher: session.cipher,
    });
  }

  private onDeviceEvent(e: DeviceEvent): void {
    if (!this.device || e.ifindex !== this.device.ifindex || e.peerId !== this.peerId || !this.session) return;
    if (e.type === 'key-swap-needed') {
      this.session.rekey('key-swap-needed');
    } else if (e.type === 'peer-deleted' && this.peerUp) {
      this.peerUp = false;
      if (e.reason === 'expired') this.events.emit({ type: 'expired', peerId: e.peerId, reason: 'no packets within ping-restart' });
      void this.session.close(false);
    }
  }

  private async onSessionEnd(session: ControlSession, reason: SessionEndReason): Promise<void> {
    if (this.session !== session) return;
    this.session = undefined;
    const why = reason.kind === 'error' ? reason.error.message : reason.kind === 'exit' ? `peer sent ${reason.message}` : 'closed';
    if (this.peerUp) {
      this.peerUp = false;
      await this.device?.delPeer(this.peerId).catch(() => undefined);
    }
    this.events.emit({ type: 'peer-down', peerId: this.peerId, reason: why });
    if (reason.kind === 'error') this.log.log('warn', why);
    if (!this.stopping) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopping) return;
    const delay = this.reconnectNow ? 0 : RECONNECT_DELAY_MS;
    this.reconnectNow = false;
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  /** New credentials (SIGUSR1) apply from the next connection. */
  reloadCredentials(from: Pick<KovpnConfig, 'ca' | 'cert' | 'key' | 'crl' | 'psk'>): void {
    Object.assign(this.cfg, { ca: from.ca, cert: from.cert, key: from.key, crl: from.crl, psk: from.psk });
  }

  /** SIGHUP: ends the session (EXIT) and reconnects at once with the current credentials. */
  async restartSessions(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.reconnectNow = true;
    await s.close(true);
  }

  /** Rekeys now (operator request). */
  rekey(): void {
    this.session?.rekey('requested');
  }

  async status(): Promise<TunnelStatus> {
    const peers: PeerStatus[] = [];
    const s = this.session;
    if (s && this.peerUp && this.device) {
      const info = await this.device.getPeer(this.peerId).catch(() => undefined);
      peers.push({
        peerId: this.peerId, name: this.peerName, remote: this.remote ? `${this.remote.address}:${this.remote.port}` : undefined,
        vpnIpv4: s.pushed?.ifconfig?.local ?? this.cfg.p2p?.ifconfig.local, cipher: s.cipher, keyId: s.current?.keyId,
        keyAgeSeconds: s.current ? Math.round((s.clock.now() - s.current.createdAt) / 1000) : undefined,
        connectedSeconds: Math.round((Date.now() - this.keySince) / 1000),
        counters: info,
      });
    }
    const drops = await this.device?.drops().catch(() => undefined);
    return { mode: this.cfg.p2p ? 'p2p' : 'client', device: this.cfg.dev, datapath: this.datapath.kind, state: s?.phase ?? 'connecting', peers, drops };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    await this.session?.close(true);
    this.unsubscribe?.();
    await this.socket?.close().catch(() => undefined);
    if (this.device) await this.datapath.deleteDevice(this.device.name).catch(() => undefined);
    this.events.emit({ type: 'tunnel-down', reason: 'stopped' });
  }
}
