/**
 * Server mode: one MP device, one UDP socket, a ControlServer that creates a session per
 * client. Each client gets an address from the pool and a peer id; on its first key the
 * device gets the peer (VPN address, keepalive) and the key. A client's failure, expiry or
 * exit removes only that client's peer and frees its address.
 */
import type { Datapath, Device, DeviceEvent, Endpoint } from '../datapath/types.js';
import { ControlServer } from '../control/server.js';
import { ControlError } from '../control/errors.js';
import type { AuthRequest } from '../control/auth-gate.js';
import { ControlSession, type SessionEndReason } from '../control/session.js';
import { emptyPushOptions, parsePushReply, type PushOptions } from '../control/push.js';
import { commonName } from '../control/verify.js';
import { loadClientRecord, type ClientRecord } from '../config/ccd.js';
import type { KovpnConfig } from '../config/types.js';
import { tlsCredentials } from './credentials.js';
import { verifyUserPass } from './user-pass-verify.js';
import type { EventBus } from './events.js';
import { deviceKeyOps } from './key-ops.js';
import type { DaemonLog } from './log.js';
import { addRoute, configureAddress, delRoute } from './netconf.js';
import { AddressPool, PeerIdPool } from './pool.js';
import { ServerIpv6, type ClientIpv6 } from './server-ipv6.js';
import type { Ipv6Prefix } from '../config/ipv6-tunnel.js';
import { LogRateLimiter } from '../util/rate-limit.js';
import { serverWrapping, wrapName } from '../control/wrap/index.js';
import { TlsCryptV2ServerWrapper, type ControlWrapper } from '../control/wrap/wrapper.js';
import { describeMetadata } from '../control/wrap/tls-crypt-v2.js';
import type { PeerStatus, TunnelStatus } from './status.js';
import { endpointText } from './transport.js';
import { openServerTransport, type ServerTransport } from './tcp-server.js';

interface Client {
  session: ControlSession;
  from: Endpoint;
  peerId: number;
  /** Known once the client is authenticated and its push options are built. */
  address?: string;
  name?: string;
  record?: ClientRecord;
  /** Routes added for the client's iroutes (removed when it goes). */
  iroutes: { network: string; netmask: string }[];
  /** IPv6 inside the tunnel: the client's address and the iroute-ipv6 routes added for it. */
  ipv6?: ClientIpv6;
  iroutes6?: Ipv6Prefix[];
  inDevice: boolean;
  since: number;
  /** tls-crypt-v2: the metadata of the client's key, as shown to the user. */
  keyMetadata?: string;
}

export class ServerTunnel {
  private device: Device | undefined;
  private socket: ServerTransport | undefined;
  private control: ControlServer | undefined;
  private readonly clients = new Map<ControlSession, Client>();
  private readonly pool: AddressPool;
  private readonly ids = new PeerIdPool();
  private readonly basePush: PushOptions;
  private readonly v6: ServerIpv6;
  private unsubscribe: (() => void) | undefined;
  /** Failures of sessions that never finished their handshake: a sender can cause many. */
  private readonly halfOpenLog = new LogRateLimiter();

  constructor(
    private readonly cfg: KovpnConfig,
    private readonly datapath: Datapath,
    private readonly events: EventBus,
    private readonly log: DaemonLog,
  ) {
    this.pool = new AddressPool(cfg.server!.network, cfg.server!.netmask, cfg.pool);
    this.v6 = new ServerIpv6(cfg.ipv6, log);
    this.basePush = cfg.push.length > 0 ? parsePushReply(`PUSH_REPLY,${cfg.push.join(',')}`).options : emptyPushOptions();
  }

  /** Runs on `dev` (an MP device the daemon created, see devices.ts). */
  async start(dev: Device): Promise<void> {
    this.device = dev;
    await configureAddress(dev.name, this.pool.serverAddress, this.pool.netmask);
    await this.v6.start(dev.name);
    this.unsubscribe = await this.datapath.subscribe((e) => this.onDeviceEvent(e));
    const socket = await openServerTransport(this.cfg, this.datapath);
    this.socket = socket;
    this.control = new ControlServer({
      maxSessions: this.cfg.maxClients,
      transmit: (p, to) => socket.send(p, to),
      createSession: (from, resumed, detach, wrapper) => this.createSession(from, resumed, detach, wrapper),
      ...(this.cfg.tlsWrap ? { wrapping: serverWrapping(this.cfg.tlsWrap) } : {}),
      log: (l, m) => this.log.log(l, m),
    });
    socket.onControlPacket((buf, from) => this.control!.receive(buf, from));
    socket.onDisconnect((from) => {
      // TCP: the client's connection ended: so does its session (its peer went with it)
      for (const [session, c] of this.clients) if (c.from.address === from.address && c.from.port === from.port) void session.close(false);
    });
    this.log.log('info', `server ${dev.name} ${this.pool.serverAddress}/${this.pool.netmask} listening on ${endpointText(socket.local)}${socket.local.address === '::' && this.cfg.transport?.ipv6Only !== true ? ' (IPv4 and IPv6)' : ''}`);
    this.events.emit({ type: 'tunnel-up', reason: `server device ${dev.name} on ${socket.kind} ${endpointText(socket.local)} (${this.datapath.kind} data path)` });
  }

  private createSession(from: Endpoint, resumed: { localSessionId: Buffer; remoteSessionId: Buffer }, detach: () => void,
    wrapper?: ControlWrapper): ControlSession {
    const device = this.device!;
    const peerId = this.ids.allocate();
    const keepalive = this.cfg.keepalive;
    const client = { from, peerId, inDevice: false, since: Date.now(), iroutes: [] } as Omit<Client, 'session'> as Client;
    if (wrapper instanceof TlsCryptV2ServerWrapper) {
      const m = describeMetadata(wrapper.metadata);
      client.keyMetadata = m.text;
      this.log.log('info', `${endpointText(from)}: tls-crypt-v2 client key metadata: type ${m.type}, ${m.text}`);
    }
    const session: ControlSession = new ControlSession({
      role: 'server', resumed, tls: tlsCredentials(this.cfg), ciphers: this.cfg.dataCiphers, renegSeconds: this.cfg.renegSec,
      handshakeWindowMs: this.cfg.handWindow * 1000,
      ...(wrapper ? { wireOverhead: wrapper.overhead } : {}),
      ...(this.socket!.kind === 'tcp' ? { proto: 'tcp' as const } : {}),
      events: {
        transmit: (p) => this.socket!.send(wrapper ? wrapper.wrap(p) : p, from),
        ...deviceKeyOps(device, () => peerId, async () => {
          // OpenVPN servers double the keepalive timeout for themselves.
          await device.newPeer({
            id: peerId, socket: this.peerSocket(from), remote: from, vpnIpv4: client.address!,
            ...(client.ipv6 ? { vpnIpv6: client.ipv6.address } : {}),
            keepaliveInterval: keepalive?.interval ?? 0, keepaliveTimeout: keepalive ? keepalive.timeout * 2 : 0,
            ...(this.cfg.compression ? { compFraming: this.cfg.compression.framing } : {}),
          });
          client.inDevice = true;
          for (const r of client.record?.iroutes ?? []) {
            await addRoute(device.name, r.network, r.netmask, client.address);
            client.iroutes.push(r);
          }
          client.iroutes6 = await this.v6.addIroutes(device.name, client.name, client.record, client.ipv6);
        }, (keyId) => this.events.emit({ type: 'rekey', peerId, name: client.name, keyId, cipher: session.cipher }),
        () => {
          if (this.clients.get(session) !== client || !client.inDevice) return; // ended meanwhile
          this.events.emit({ type: 'peer-up', peerId, name: client.name, remote: `${endpointText(from)}`, vpnIpv4: client.address, cipher: session.cipher });
        }),
        pushOptions: () => this.pushFor(session, client),
        ...(this.cfg.authVerify?.verify ? { authenticate: (req: AuthRequest) => this.authenticate(session, client, req) } : {}),
        onEnd: (reason) => {
          detach();
          void this.onSessionEnd(session, reason);
        },
        log: (l, m) => this.log.log(l, `${endpointText(from)}: ${m}`),
      },
    });
    client.session = session;
    this.clients.set(session, client);
    return session;
  }

  /** The transport of the client at `from` (TCP: its connection; it may be gone by now). */
  private peerSocket(from: Endpoint) {
    const s = this.socket!.peerSocket(from);
    if (!s) throw new Error(`${endpointText(from)}: the client's TCP connection is gone`);
    return s;
  }

  /** auth-user-pass-verify for one key-method-2 message of the client; username-as-common-name names it. */
  private async authenticate(session: ControlSession, client: Client, req: AuthRequest): Promise<void> {
    const a = this.cfg.authVerify!;
    const ks = req.initial ? session.pending : session.pending ?? session.current;
    const cert = ks?.peerCertificate();
    const username = await verifyUserPass(a, req, {
      from: client.from, commonName: cert ? commonName(cert) : undefined, dev: this.cfg.dev, verb: this.cfg.verb,
      config: this.cfg.file, timeoutMs: this.cfg.handWindow * 1000,
    });
    if (a.usernameAsCommonName) client.name = username;
    this.log.log('info', `${client.from.address}:${client.from.port}: username/password authentication succeeded for username '${username}'` +
      `${a.usernameAsCommonName ? ' (common name set)' : ''}${req.initial ? '' : ` (renegotiation, key id ${req.keyId})`}`);
  }

  /**
   * The client is authenticated (PUSH_REQUEST): its record (client-config-dir) decides a
   * fixed address and extra options, else the pool gives an address. Throws to refuse.
   */
  private pushFor(session: ControlSession, client: Client): PushOptions {
    if (!client.address) this.admit(session, client);
    const extra = client.record?.push.length ? parsePushReply(`PUSH_REPLY,${client.record.push.join(',')}`).options : undefined;
    const keepalive = this.cfg.keepalive;
    return {
      ...this.basePush, ...(extra ? { ignored: [...this.basePush.ignored, ...extra.ignored] } : {}),
      routes: [...this.basePush.routes, ...(extra?.routes ?? [])],
      routesIpv6: [...this.basePush.routesIpv6 ?? [], ...extra?.routesIpv6 ?? []], ...this.v6.pushFields(client.ipv6), protocolFlags: [...this.basePush.protocolFlags],
      topology: 'subnet', routeGateway: this.pool.serverAddress, ifconfig: { local: client.address!, second: this.pool.netmask },
      peerId: client.peerId, ...(keepalive ? { ping: keepalive.interval, pingRestart: keepalive.timeout } : {}),
    };
  }

  /** Name, record and address of a newly authenticated client (once per session). */
  private admit(session: ControlSession, client: Client): void {
    const max = this.cfg.maxClients;
    if (max !== undefined) {
      let admitted = 0;
      for (const c of this.clients.values()) if (c.address) admitted++;
      if (admitted >= max) throw new Error(`${admitted} clients connected, max-clients ${max}`);
    }
    const cert = session.current?.peerCertificate() ?? session.pending?.peerCertificate();
    if (!this.cfg.authVerify?.usernameAsCommonName) client.name = cert ? commonName(cert) : undefined;
    if (this.cfg.clientConfigDir) {
      const name = client.name ?? '';
      client.record = loadClientRecord(this.cfg.clientConfigDir, name);
      if (!client.record && this.cfg.ccdExclusive) throw new Error(`client '${name}' has no file in ${this.cfg.clientConfigDir} (ccd-exclusive)`);
      if (client.record?.disable) throw new Error(`client '${name}' is disabled in ${client.record.file}`);
    }
    const fixed = client.record?.ifconfigPush;
    if (fixed) {
      if (fixed.netmask !== this.pool.netmask) {
        throw new Error(`${client.record!.file}: ifconfig-push netmask ${fixed.netmask} differs from the server's ${this.pool.netmask} (topology subnet)`);
      }
      this.pool.reserve(fixed.address);
      client.address = fixed.address;
    } else {
      client.address = this.pool.allocate();
    }
    client.ipv6 = this.v6.assign(client.name, client.record, fixed ? -1 : this.pool.indexOf(client.address));
  }

  private async onSessionEnd(session: ControlSession, reason: SessionEndReason): Promise<void> {
    const c = this.clients.get(session);
    if (!c) return;
    this.clients.delete(session);
    for (const r of c.iroutes) await delRoute(this.device!.name, r.network, r.netmask).catch(() => undefined);
    if (c.iroutes6) await this.v6.removeIroutes(this.device!.name, c.iroutes6);
    if (c.inDevice) await this.device?.delPeer(c.peerId).catch(() => undefined);
    if (c.address) this.pool.release(c.address);
    this.v6.release(c.ipv6);
    this.ids.release(c.peerId);
    const why = reason.kind === 'error' ? reason.error.message : reason.kind === 'exit' ? `peer sent ${reason.message}` : 'closed';
    if (reason.kind === 'error') {
      const line = `${endpointText(c.from)}: ${why}`;
      const out = c.address ? line : this.halfOpenLog.pass(Date.now(), line);
      // a refused certificate or no shared cipher is for the operator to act on: error level
      const code = reason.error instanceof ControlError ? reason.error.code : undefined;
      if (out) this.log.log(code === 'peer-verify' || code === 'negotiation' || code === 'auth' ? 'error' : 'warn', out);
    }
    this.events.emit({ type: 'peer-down', peerId: c.peerId, name: c.name, remote: `${endpointText(c.from)}`, reason: why });
  }

  private onDeviceEvent(e: DeviceEvent): void {
    if (!this.device || e.ifindex !== this.device.ifindex) return;
    const c = [...this.clients.values()].find((x) => x.peerId === e.peerId && x.inDevice);
    if (!c) return;
    if (e.type === 'key-swap-needed') {
      c.session.rekey('key-swap-needed');
    } else if (e.type === 'peer-deleted') {
      c.inDevice = false;
      if (e.reason === 'expired') this.events.emit({ type: 'expired', peerId: c.peerId, name: c.name, reason: 'no packets within the keepalive timeout' });
      void c.session.close(false);
    } else if (e.type === 'peer-float') {
      this.log.log('info', `peer ${c.peerId} moved to ${endpointText(e.remote)}`);
    }
  }

  /** New credentials (SIGUSR1) apply to sessions created from now on. */
  reloadCredentials(from: Pick<KovpnConfig, 'ca' | 'cert' | 'key' | 'crl' | 'psk'>): void {
    Object.assign(this.cfg, { ca: from.ca, cert: from.cert, key: from.key, crl: from.crl, psk: from.psk });
  }

  /** SIGHUP: every client is told to reconnect (RESTART) and its session ends. */
  async restartSessions(): Promise<void> {
    await Promise.all([...this.clients.keys()].map((s) => s.close(true, 'RESTART')));
  }

  rekey(): void {
    for (const c of this.clients.values()) c.session.rekey('requested');
  }

  async status(): Promise<TunnelStatus> {
    const peers: PeerStatus[] = [];
    for (const c of this.clients.values()) {
      const s = c.session;
      const info = c.inDevice ? await this.device?.getPeer(c.peerId).catch(() => undefined) : undefined;
      peers.push({
        peerId: c.peerId, name: c.name, remote: endpointText(c.from), vpnIpv4: c.address, ...(c.ipv6 ? { vpnIpv6: c.ipv6.address } : {}), cipher: s.cipher,
        keyId: s.current?.keyId, keyAgeSeconds: s.current ? Math.round((s.clock.now() - s.current.createdAt) / 1000) : undefined,
        connectedSeconds: Math.round((Date.now() - c.since) / 1000), counters: info,
        ...(c.keyMetadata ? { keyMetadata: c.keyMetadata } : {}),
      });
    }
    const drops = await this.device?.drops().catch(() => undefined);
    const control = this.control;
    const st: TunnelStatus = {
      mode: 'server', device: this.cfg.dev, datapath: this.datapath.kind, state: 'listening', peers, drops,
      ...(control ? { control: { sessions: control.sessions.size, halfOpen: control.sessions.size - control.established, ...control.stats } } : {}),
    };
    if (this.cfg.tlsWrap && control) st.tlsWrap = { kind: wrapName(this.cfg.tlsWrap), failed: control.stats.unwrapFailed };
    return st;
  }

  async stop(): Promise<void> {
    await this.control?.close();
    this.unsubscribe?.();
    await this.socket?.close().catch(() => undefined);
    if (this.device) await this.datapath.deleteDevice(this.device.name).catch(() => undefined);
    this.events.emit({ type: 'tunnel-down', reason: 'stopped' });
  }
}
