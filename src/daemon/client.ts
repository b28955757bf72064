/**
 * Client and peer-to-peer modes: one P2P device, one transport (a UDP socket, or a TCP
 * connection per attempt: transport.ts), one session with the first reachable remote.
 * After PUSH_REPLY (client) or the key exchange (p2p: addresses from `ifconfig`) the device
 * gets its address and routes, the peer and its primary key; rekeys rotate keys in place;
 * if the session ends other than by our stop, the peer is removed and the client
 * reconnects after a pause.
 */
import type { Datapath, Device, DeviceEvent, Endpoint, PeerTransport } from '../datapath/types.js';
import { decodeControlPacket } from '../control/packet.js';
import { ControlSession, type SessionEndReason } from '../control/session.js';
import { emptyPushOptions, type PushOptions } from '../control/push.js';
import { peerWrapper, wrapName } from '../control/wrap/index.js';
import type { ControlWrapper } from '../control/wrap/wrapper.js';
import { LogRateLimiter } from '../util/rate-limit.js';
import { commonName } from '../control/verify.js';
import type { KovpnConfig } from '../config/types.js';
import { framingDirective } from '../config/compression.js';
import { unmapAddress } from '../util/sockaddr.js';
import { applyPullFilter, classifyIgnoredPush } from './pushed.js';
import { tlsCredentials } from './credentials.js';
import { UserPassStore } from './user-pass.js';
import type { EventBus } from './events.js';
import { FullTunnel, splitPushed, type TunnelFacts } from './full-tunnel.js';
import { deviceKeyOps } from './key-ops.js';
import type { DaemonLog } from './log.js';
import { addRoute, configureAddress, configurePointToPoint } from './netconf.js';
import { applyClientIpv6 } from './client-ipv6.js';
import { ScriptError } from './scripts.js';
import type { PeerStatus, TunnelStatus } from './status.js';
import { CONNECT_TIMEOUT_S, RemoteCursor, clientTransport, endpointText } from './transport.js';

export const RECONNECT_DELAY_MS = 5_000;

export class ClientTunnel {
  private device: Device | undefined;
  private socket: PeerTransport | undefined;
  private session: ControlSession | undefined;
  private remote: Endpoint | undefined;
  /** Remotes and the addresses their names resolve to, tried in turn. */
  private readonly cursor: RemoteCursor;
  /** The current address is the last of its remote's: its failure is a failed attempt. */
  private lastAddress = true;
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
  private readonly full: FullTunnel;

  constructor(
    private readonly cfg: KovpnConfig,
    private readonly datapath: Datapath,
    private readonly events: EventBus,
    private readonly log: DaemonLog,
  ) {
    this.full = new FullTunnel(cfg, log);
    this.cursor = new RemoteCursor(cfg);
    this.userPass = cfg.authUserPass ? new UserPassStore(cfg.authUserPass) : undefined;
  }

  /** The up script (a failure ends the daemon, as OpenVPN's fatal error), then `addRoutes`, then redirect-gateway/DNS/route-up. */
  private async fullTunnelUp(facts: TunnelFacts, routes: { network: string; netmask: string; gateway?: string; metric?: number }[]): Promise<void> {
    const dev = this.device!.name;
    try {
      await this.full.beforeRoutes(facts, routes.map((r) => ({ ...r, gateway: r.gateway ?? facts.vpnGateway ?? '' })));
    } catch (err) {
      if (err instanceof ScriptError) this.giveUp(new Error(`${err.message}: exiting (an up script that fails stops OpenVPN too)`));
      throw err;
    }
    for (const r of routes) await addRoute(dev, r.network, r.netmask, r.gateway, r.metric);
    await this.full.afterRoutes(facts);
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
    this.answered = false;
    this.connected = false;
    let target;
    try {
      target = await this.cursor.next();
      this.remote = target.endpoint;
      this.lastAddress = target.last;
      const current = this.socket;
      this.socket = undefined;
      this.socket = await clientTransport(this.cfg, this.datapath, target, current, {
        onControlPacket: (buf, from) => this.onControlPacket(buf, from),
        onTcpClosed: (conn, reason, detail) => this.onTcpClosed(conn, reason, detail),
      });
    } catch (err) {
      const what = target ? `${target.remote.host}:${target.remote.port}` : 'the server';
      this.log.log('error', `cannot reach ${what}: ${(err as Error).message}`);
      this.lastAddress = target?.last ?? true;
      if (!this.failedAddress()) this.scheduleReconnect();
      return;
    }
    const socket = this.socket;
    const remote = this.remote;
    const which = target.count > 1 ? ` (${target.remote.host}, address ${target.index} of ${target.count})` : '';
    this.log.log('info', `connecting to ${endpointText(remote)}${which} from ${endpointText(socket.local)}`);
    const device = this.device!;
    const p2p = this.cfg.p2p;
    const wrapper = this.cfg.tlsWrap ? peerWrapper(this.cfg.tlsWrap, p2p?.tlsRole ?? 'client') : undefined;
    this.wrapper = wrapper;
    const session: ControlSession = new ControlSession({
      role: p2p?.tlsRole ?? 'client', p2p: p2p !== undefined,
      tls: tlsCredentials(this.cfg), ciphers: this.cfg.dataCiphers, renegSeconds: this.cfg.renegSec,
      handshakeWindowMs: this.cfg.handWindow * 1000,
      ...(wrapper ? { wireOverhead: wrapper.overhead } : {}),
      ...(socket.kind === 'tcp' ? { proto: 'tcp' as const } : {}),
      events: {
        transmit: (p) => (socket.kind === 'tcp' ? socket.send(wrapper ? wrapper.wrap(p) : p) : socket.send(wrapper ? wrapper.wrap(p) : p, remote)),
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

  /**
   * An attempt at one address failed: it counts as a failed attempt at the remote once every
   * address of the remote has failed (OpenVPN counts connection entries, not addresses).
   */
  private failedAddress(): boolean {
    return this.lastAddress ? this.attemptFailed() : false;
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
    if (!this.session || !remote || unmapAddress(from.address) !== remote.address || from.port !== remote.port) return;
    const wrapper = this.wrapper;
    if (wrapper) {
      try {
        buf = wrapper.unwrap(buf);
      } catch (err) {
        this.unwrapFailed++;
        const line = this.unwrapLog.pass(Date.now(), `packet failed ${wrapper.kind} from ${endpointText(from)} (${(err as Error).message})`);
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
      this.log.log('debug', `from ${endpointText(from)}: ${(err as Error).message}`);
    }
  }

  /** The TCP connection to the server ended (FIN, RST, error): the session ends and we reconnect. */
  private onTcpClosed(conn: PeerTransport, reason: string, detail?: string): void {
    if (this.socket !== conn || this.stopping) return;
    this.log.log('warn', `TCP connection to ${endpointText(conn.kind === 'tcp' ? conn.remote : this.remote!)} ended (${reason}${detail ? `: ${detail}` : ''})`);
    if (this.session) void this.session.close(false);
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
    const pushedFull = splitPushed(o.ignored);
    await configureAddress(dev.name, o.ifconfig.local, o.ifconfig.second);
    const routes: { network: string; netmask: string; gateway?: string; metric?: number }[] = [];
    if (this.cfg.routeNopull && o.routes.length > 0) {
      this.log.log('info', `route-nopull: not installing ${o.routes.length} pushed route(s): ${o.routes.map((r) => `${r.network}/${r.netmask}`).join(', ')}`);
    } else {
      routes.push(...o.routes);
    }
    await applyClientIpv6(dev.name, o, this.cfg, this.log);
    routes.push(...(this.cfg.routes ?? []));
    const gw = o.routeGateway;
    await this.fullTunnelUp({
      dev: dev.name, ifconfigLocal: o.ifconfig.local, ifconfigSecond: o.ifconfig.second, pointToPoint: false,
      ...(gw ? { vpnGateway: gw } : {}), remote: this.remote!, pushed: pushedFull, routeNopull: this.cfg.routeNopull === true,
    }, routes.map((r) => ({ network: r.network, netmask: r.netmask, ...(r.gateway ?? gw ? { gateway: r.gateway ?? gw } : {}), ...(r.metric !== undefined ? { metric: r.metric } : {}) })));
    await dev.newPeer({
      id: this.peerId, socket: this.socket!, remote: this.remote!,
      // Pushed timers win over the file's (`keepalive`, `ping`, `ping-restart`), as in OpenVPN.
      keepaliveInterval: o.ping ?? this.cfg.keepalive?.interval ?? 0, keepaliveTimeout: o.pingRestart ?? this.cfg.keepalive?.timeout ?? 0,
      ...(compFraming ? { compFraming } : {}),
    });
    this.peerUp = true;
    this.keySince = Date.now();
    const cert = session.current?.peerCertificate();
    this.peerName = cert ? commonName(cert) : undefined;
    const { harmless, unsafe } = classifyIgnoredPush(pushedFull.rest);
    if (unsafe.length > 0) this.log.log('warn', `pushed options kovpn does not apply (routing, DNS or security stay as they are): ${unsafe.join(', ')}`);
    if (harmless.length > 0) this.log.log('info', `ignored pushed options: ${harmless.join(', ')}`);
  }

  /** First key in peer-to-peer mode: point-to-point address, peer with the derived id. */
  private async setUpP2p(session: ControlSession): Promise<void> {
    const dev = this.device!;
    const { local, remote } = this.cfg.p2p!.ifconfig;
    this.peerId = session.p2pPeerId!;
    await configurePointToPoint(dev.name, local, remote);
    await applyClientIpv6(dev.name, emptyPushOptions(), this.cfg, this.log);
    await this.fullTunnelUp({
      dev: dev.name, ifconfigLocal: local, ifconfigSecond: remote, pointToPoint: true, vpnGateway: remote, remote: this.remote!,
      pushed: { dhcpOptions: [], rest: [] }, routeNopull: false,
    }, (this.cfg.routes ?? []).map((r) => ({ network: r.network, netmask: r.netmask, gateway: r.gateway ?? remote, ...(r.metric !== undefined ? { metric: r.metric } : {}) })));
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
      type: 'peer-up', peerId: this.peerId, name: this.peerName, remote: endpointText(this.remote!),
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
    await this.full.tearDown(reason.kind === 'exit' ? 'exit' : 'connection-reset');
    const why = reason.kind === 'error' ? reason.error.message : reason.kind === 'exit' ? `peer sent ${reason.message}` : 'closed';
    if (this.peerUp) {
      this.peerUp = false;
      await this.device?.delPeer(this.peerId).catch(() => undefined);
    }
    this.events.emit({ type: 'peer-down', peerId: this.peerId, reason: why });
    clearTimeout(this.connectTimer);
    if (this.stopping) return;
    const where = this.remote ? endpointText(this.remote) : 'the server';
    if (reason.kind === 'exit' && reason.message.startsWith('AUTH_FAILED') && this.userPass?.clearToken()) {
      // As OpenVPN: the token may have expired (or the server restarted); the password next, at once.
      this.log.log('warn', `${where} refused our auth-token (${reason.message}); reconnecting with the password`);
      this.reconnectNow = true;
      this.cursor.again(); // the same address again (OpenVPN: no_advance)
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
    else if (this.failedAddress()) return;
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
        peerId: this.peerId, name: this.peerName, remote: this.remote ? endpointText(this.remote) : undefined,
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
    await this.full.tearDown('sigterm');
    this.userPass?.clear();
    this.unsubscribe?.();
    await this.socket?.close().catch(() => undefined);
    if (this.full.downPre) await this.full.down('sigterm');
    if (this.device) await this.datapath.deleteDevice(this.device.name).catch(() => undefined);
    if (!this.full.downPre) await this.full.down('sigterm');
    this.events.emit({ type: 'tunnel-down', reason: 'stopped' });
  }
}
