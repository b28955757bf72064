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
import { peerWrapper, wrapName } from '../control/wrap/index.js';
import type { ControlWrapper } from '../control/wrap/wrapper.js';
import { LogRateLimiter } from '../util/rate-limit.js';
import { commonName } from '../control/verify.js';
import type { KovpnConfig } from '../config/types.js';
import { framingDirective } from '../config/compression.js';
import { applyPullFilter, classifyIgnoredPush } from './pushed.js';
import { tlsCredentials } from './credentials.js';
import { UserPassStore } from './user-pass.js';
import type { EventBus } from './events.js';
import { deviceKeyOps } from './key-ops.js';
import type { DaemonLog } from './log.js';
import { addRoute, configureAddress, configurePointToPoint } from './netconf.js';
import type { PeerStatus, TunnelStatus } from './status.js';

export const RECONNECT_DELAY_MS = 5_000;
/** OpenVPN's server-poll-timeout default: how long to wait for a server's first answer. */
export const CONNECT_TIMEOUT_S = 120;

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
  /** tls-auth/tls-crypt of the current connection (whether any packet passed it: `answered`). */
  private wrapper: ControlWrapper | undefined;
  private unwrapFailed = 0;
  private readonly unwrapLog = new LogRateLimiter();
  /** Failed connection attempts in a row (reset by a tunnel that came up). */
  private failures = 0;
  /** The current attempt: the server answered at all / the tunnel came up. */
  private answered = false;
  private connected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private giveUp!: (err: Error) => void;
  /** auth-user-pass: the credentials (and a pushed auth-token). */
  private readonly userPass: UserPassStore | undefined;
  /** Resolves when the client gives up (AUTH_FAILED without auth-retry, connect-retry-max): the daemon exits. */
  readonly finished = new Promise<Error>((resolve) => { this.giveUp = resolve; });

  constructor(
    private readonly cfg: KovpnConfig,
    private readonly datapath: Datapath,
    private readonly events: EventBus,
    private readonly log: DaemonLog,
  ) {
    this.userPass = cfg.authUserPass ? new UserPassStore(cfg.authUserPass) : undefined;
  }

  /** Runs on `device` (a P2P device the daemon created, see devices.ts). */
  async start(device: Device): Promise<void> {
    await this.userPass?.load();
    this.device = device;
    this.unsubscribe = await this.datapath.subscribe((e) => this.onDeviceEvent(e));
    this.events.emit({ type: 'tunnel-up', reason: `client device ${this.device.name} (${this.datapath.kind} data path)` });
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const r = this.cfg.remotes[this.remoteIndex % this.cfg.remotes.length]!;
    this.remoteIndex++;
    this.answered = false;
    this.connected = false;
    try {
      const { address } = await lookup(r.host, { family: 4 });
      this.remote = { address, port: r.port };
      if (!this.socket) {
        this.socket = await this.datapath.openUdpSocket({ address: this.cfg.local ?? '0.0.0.0', port: this.cfg.bind ? this.cfg.port : 0 });
        // One handler for the socket's life; it feeds whichever session is current.
        this.socket.onControlPacket((buf, from) => this.onControlPacket(buf, from));
      }
    } catch (err) {
      this.log.log('error', `cannot reach ${r.host}:${r.port}: ${(err as Error).message}`);
      if (!this.attemptFailed()) this.scheduleReconnect();
      return;
    }
    const socket = this.socket;
    const remote = this.remote;
    this.log.log('info', `connecting to ${remote.address}:${remote.port} from ${socket.local.address}:${socket.local.port}`);
    const device = this.device!;
    const p2p = this.cfg.p2p;
    const wrapper = this.cfg.tlsWrap ? peerWrapper(this.cfg.tlsWrap, p2p?.tlsRole ?? 'client') : undefined;
    this.wrapper = wrapper;
    const session: ControlSession = new ControlSession({
      role: p2p?.tlsRole ?? 'client', p2p: p2p !== undefined,
      tls: tlsCredentials(this.cfg), ciphers: this.cfg.dataCiphers, renegSeconds: this.cfg.renegSec,
      handshakeWindowMs: this.cfg.handWindow * 1000,
      ...(wrapper ? { wireOverhead: wrapper.overhead } : {}),
      events: {
        transmit: (p) => socket.send(wrapper ? wrapper.wrap(p) : p, remote),
        ...deviceKeyOps(device, () => this.peerId, async () => (p2p ? this.setUpP2p(session) : this.setUp(session, session.pushed!)),
          (keyId) => this.events.emit({ type: 'rekey', peerId: this.peerId, name: this.peerName, keyId, cipher: session.cipher }),
          () => this.emitPeerUp(session)),
        onPushReply: (o) => { this.peerId = o.peerId ?? 0; },
        ...(this.userPass ? {
          userPass: () => this.userPass!.next(),
          onAuthToken: (token: string, user: string | undefined) => {
            if (!this.userPass!.hasToken) this.log.log('info', 'the server pushed an auth-token: renegotiations send it instead of the password');
            this.userPass!.setToken(token, user);
          },
        } : {}),
        onEnd: (reason) => void this.onSessionEnd(session, reason),
        log: (l, m) => this.log.log(l, m),
      },
    });
    this.session = session;
    session.start();
    const timeout = this.cfg.connectTimeout ?? CONNECT_TIMEOUT_S;
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (this.session === session && !this.answered) void session.close(false);
    }, timeout * 1000);
  }

  /** Counts a failed attempt; true (and the daemon told to exit) when connect-retry-max is reached. */
  private attemptFailed(): boolean {
    this.failures++;
    const max = this.cfg.connectRetryMax;
    if (max !== undefined && this.failures >= max * this.cfg.remotes.length) {
      this.giveUp(new Error(`${this.failures} connection attempts failed (connect-retry-max ${max}` +
        `${this.cfg.remotes.length > 1 ? ` for each of ${this.cfg.remotes.length} remotes` : ''}): exiting`));
      return true;
    }
    return false;
  }

  private onControlPacket(buf: Buffer, from: Endpoint): void {
    const remote = this.remote;
    if (!this.session || !remote || from.address !== remote.address || from.port !== remote.port) return;
    const wrapper = this.wrapper;
    if (wrapper) {
      try {
        buf = wrapper.unwrap(buf);
      } catch (err) {
        this.unwrapFailed++;
        const line = this.unwrapLog.pass(Date.now(), `packet failed ${wrapper.kind} from ${from.address}:${from.port} (${(err as Error).message})`);
        if (line) this.log.log('error', line);
        return;
      }
    }
    if (!this.answered) {
      this.answered = true;
      clearTimeout(this.connectTimer);
    }
    try {
      this.session.receive(decodeControlPacket(buf));
    } catch (err) {
      this.log.log('debug', `from ${from.address}:${from.port}: ${(err as Error).message}`);
    }
  }

  /** First key: address, routes, peer. */
  private async setUp(session: ControlSession, pushed: PushOptions): Promise<void> {
    const dev = this.device!;
    const { options: o, dropped } = applyPullFilter(this.cfg.pullFilter, pushed);
    if (dropped.length > 0) this.log.log('info', `pull-filter ignored pushed options: ${dropped.join(', ')}`);
    if (!o.ifconfig) throw new Error('server pushed no ifconfig (only topology subnet is supported)');
    if (o.topology && o.topology !== 'subnet') throw new Error(`server pushed topology ${o.topology}; only subnet is supported`);
    const compFraming = o.compression ?? this.cfg.compression?.framing;
    if (compFraming && compFraming !== 'stub-v2' && this.datapath.kind === 'kernel') {
      throw new Error(`server pushed '${framingDirective(compFraming)}': that compression framing needs the userspace data path ` +
        `(the kernel has none); put '${framingDirective(compFraming)}' in ${this.cfg.file} or run with --datapath userspace`);
    }
    if (o.compression && o.compression !== this.cfg.compression?.framing) this.log.log('info', `server pushed '${framingDirective(o.compression)}': using that framing`);
    await configureAddress(dev.name, o.ifconfig.local, o.ifconfig.second);
    if (this.cfg.routeNopull && o.routes.length > 0) {
      this.log.log('info', `route-nopull: not installing ${o.routes.length} pushed route(s): ${o.routes.map((r) => `${r.network}/${r.netmask}`).join(', ')}`);
    } else {
      for (const r of o.routes) await addRoute(dev.name, r.network, r.netmask, r.gateway ?? o.routeGateway, r.metric);
    }
    for (const r of this.cfg.routes ?? []) await addRoute(dev.name, r.network, r.netmask, r.gateway ?? o.routeGateway, r.metric);
    await dev.newPeer({
      id: this.peerId, socket: this.socket!, remote: this.remote!,
      keepaliveInterval: o.ping ?? 0, keepaliveTimeout: o.pingRestart ?? 0,
      ...(compFraming ? { compFraming } : {}),
    });
    this.peerUp = true;
    this.keySince = Date.now();
    const cert = session.current?.peerCertificate();
    this.peerName = cert ? commonName(cert) : undefined;
    const { harmless, unsafe } = classifyIgnoredPush(o.ignored);
    if (unsafe.length > 0) this.log.log('warn', `pushed options kovpn does not apply (routing, DNS or security stay as they are): ${unsafe.join(', ')}`);
    if (harmless.length > 0) this.log.log('info', `ignored pushed options: ${harmless.join(', ')}`);
  }

  /** First key in peer-to-peer mode: point-to-point address, peer with the derived id. */
  private async setUpP2p(session: ControlSession): Promise<void> {
    const dev = this.device!;
    const { local, remote } = this.cfg.p2p!.ifconfig;
    this.peerId = session.p2pPeerId!;
    await configurePointToPoint(dev.name, local, remote);
    for (const r of this.cfg.routes ?? []) await addRoute(dev.name, r.network, r.netmask, r.gateway ?? remote, r.metric);
    await dev.newPeer({
      id: this.peerId, socket: this.socket!, remote: this.remote!,
      keepaliveInterval: this.cfg.keepalive?.interval ?? 0, keepaliveTimeout: this.cfg.keepalive?.timeout ?? 0,
      ...(this.cfg.compression ? { compFraming: this.cfg.compression.framing } : {}),
    });
    this.peerUp = true;
    this.keySince = Date.now();
    const cert = session.current?.peerCertificate();
    this.peerName = cert ? commonName(cert) : undefined;
  }

  /** Once the first key is in the data path (set-up done): traffic can flow. */
  private emitPeerUp(session: ControlSession): void {
    if (this.session !== session || !this.peerUp) return;
    this.connected = true;
    this.failures = 0;
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
    clearTimeout(this.connectTimer);
    if (this.stopping) return;
    const where = `${this.remote?.address}:${this.remote?.port}`;
    if (reason.kind === 'exit' && reason.message.startsWith('AUTH_FAILED') && this.userPass?.clearToken()) {
      // As OpenVPN: the token may have expired (or the server restarted); the password next, at once.
      this.log.log('warn', `${where} refused our auth-token (${reason.message}); reconnecting with the password`);
      this.reconnectNow = true;
      this.remoteIndex = Math.max(0, this.remoteIndex - 1); // the same remote again (OpenVPN: no_advance)
    } else if (reason.kind === 'error' && reason.error.code === 'auth') {
      this.giveUp(new Error(reason.error.message));
      return;
    } else if (reason.kind === 'exit' && reason.message.startsWith('AUTH_FAILED')) {
      const text = `${where} refused us: ${reason.message}`;
      if ((this.cfg.authRetry ?? 'none') === 'none') {
        this.giveUp(new Error(`${text}; exiting (auth-retry none; \`auth-retry nointeract\` retries)`));
        return;
      }
      this.log.log('error', `${text}; retrying (auth-retry ${this.cfg.authRetry})`);
    } else if (!this.answered && this.wrapper) {
      // nothing from the server passed the wrapping: a wrong key looks exactly like no server
      this.log.log('error', `no answer from the server: wrong ${this.wrapper.kind} key or server down ` +
        `(nothing from ${where} passed ${this.wrapper.kind}${this.unwrapFailed > 0 ? `; ${this.unwrapFailed} packets failed it` : ''})`);
    } else if (!this.answered) {
      this.log.log('error', `no answer from ${where} within ${this.cfg.connectTimeout ?? CONNECT_TIMEOUT_S} s (connect-timeout): ` +
        'is the server running there, the address and port right, and UDP let through?');
    } else if (reason.kind === 'error') {
      this.log.log(this.connected ? 'warn' : 'error', why);
    }
    if (this.connected) this.failures = 0;
    else if (this.attemptFailed()) return;
    this.scheduleReconnect();
  }

  /** The pause before the next attempt: connect-retry, doubled after 5 failures in a row, capped. */
  private retryDelayMs(): number {
    const base = this.cfg.connectRetry ? this.cfg.connectRetry.seconds * 1000 : RECONNECT_DELAY_MS;
    const max = (this.cfg.connectRetry?.maxSeconds ?? 300) * 1000;
    return Math.min(base * 2 ** Math.max(0, this.failures - 5), Math.max(base, max));
  }

  private scheduleReconnect(): void {
    if (this.stopping) return;
    const delay = this.reconnectNow ? 0 : this.retryDelayMs();
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
    const st: TunnelStatus = { mode: this.cfg.p2p ? 'p2p' : 'client', device: this.cfg.dev, datapath: this.datapath.kind, state: s?.phase ?? 'connecting', peers, drops };
    if (this.cfg.tlsWrap) st.tlsWrap = { kind: wrapName(this.cfg.tlsWrap), failed: this.unwrapFailed };
    return st;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    await this.session?.close(true);
    this.userPass?.clear();
    this.unsubscribe?.();
    await this.socket?.close().catch(() => undefined);
    if (this.device) await this.datapath.deleteDevice(this.device.name).catch(() => undefined);
    this.events.emit({ type: 'tunnel-down', reason: 'stopped' });
  }
}
