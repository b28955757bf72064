/**
 * A test peer that runs a kovpn ControlSession over a plain UDP socket and handles the data
 * channel itself with src/wire: it proves the negotiated keys by decrypting the stock peer's
 * packets and by getting answers to packets it encrypts, without any data-path device.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { DataCipher } from '../../../src/control/ciphers.js';
import { decodeControlPacket, packetOpcode } from '../../../src/control/packet.js';
import { Opcode } from '../../../src/control/opcodes.js';
import type { PushOptions } from '../../../src/control/push.js';
import { ControlServer } from '../../../src/control/server.js';
import { ControlSession, type NewDataKey, type SessionEndReason } from '../../../src/control/session.js';
import type { TlsCredentials } from '../../../src/control/key-state.js';
import { DataKey, KEEPALIVE_MAGIC } from '../../../src/wire/index.js';

export interface RawTunnelOptions {
  role: 'client' | 'server';
  remote?: { address: string; port: number };
  bind?: { address: string; port: number };
  tls: TlsCredentials;
  ciphers?: DataCipher[];
  keyExport?: boolean;
  renegSeconds?: number;
  transitionWindowMs?: number;
  pushOptions?: () => PushOptions;
  /** Peer-to-peer TLS mode: no push, no cookie server; `remote` is required for both roles. */
  p2p?: boolean;
  log?: boolean;
}

export class RawTunnel {
  readonly socket: Socket;
  server: ControlServer | undefined;
  session!: ControlSession;
  readonly keys = new Map<number, DataKey>();
  readonly installed: NewDataKey[] = [];
  readonly retired: number[] = [];
  readonly swaps: number[] = [];
  txKeyId = -1;
  peerId = 0;
  pushed: PushOptions | undefined;
  ended: SessionEndReason | undefined;
  remote: { address: string; port: number } | undefined;
  readonly received: { keyId: number; plain: Buffer }[] = [];
  pings = 0;
  decryptFailures = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly o: RawTunnelOptions) {
    this.socket = createSocket('udp4');
    this.remote = o.remote;
  }

  async start(): Promise<void> {
    await new Promise<void>((res) => this.socket.bind(this.o.bind?.port ?? 0, this.o.bind?.address, res));
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, { address: rinfo.address, port: rinfo.port }));
    if (this.o.role === 'client' || this.o.p2p) {
      this.newSession();
      return;
    }
    this.server = new ControlServer({
      transmit: (p, to) => this.socket.send(p, to.port, to.address),
      createSession: (from, resumed, detach) => {
        this.remote = from;
        return this.newSession(resumed, detach);
      },
    });
  }

  private newSession(resumed?: { localSessionId: Buffer; remoteSessionId: Buffer }, detach?: () => void): ControlSession {
    this.session = new ControlSession({
      resumed,
      role: this.o.role, tls: this.o.tls, ciphers: this.o.ciphers, keyExport: this.o.keyExport, p2p: this.o.p2p,
      renegSeconds: this.o.renegSeconds ?? 0, transitionWindowMs: this.o.transitionWindowMs,
      events: {
        transmit: (p) => this.remote && this.socket.send(p, this.remote.port, this.remote.address),
        onDataKey: (k) => {
          this.installed.push(k);
          this.keys.set(k.keyId, new DataKey({ keyId: k.keyId, cipher: k.alg as 'aes-gcm', encrypt: k.keys.encrypt, decrypt: k.keys.decrypt }));
          if (k.initial) this.txKeyId = k.keyId;
          if (this.o.p2p && k.initial) this.peerId = this.session.p2pPeerId!;
          this.wake();
        },
        onSwapKeys: (id) => { this.txKeyId = id; this.swaps.push(id); this.wake(); },
        onRetireKey: (id) => { this.retired.push(id); this.keys.delete(id); this.wake(); },
        onPushReply: (p) => { this.pushed = p; this.peerId = p.peerId ?? 0; },
        pushOptions: this.o.pushOptions,
        onEnd: (r) => { this.ended = r; detach?.(); this.wake(); },
        log: this.o.log ? (l, m) => process.stderr.write(`[${l}] ${m}\n`) : undefined,
      },
    });
    if (!resumed) this.session.start();
    return this.session;
  }

  private onDatagram(msg: Buffer, from: { address: string; port: number }): void {
    if (packetOpcode(msg) === Opcode.DATA_V2) {
      const key = this.keys.get(msg[0]! & 7);
      const out = Buffer.alloc(msg.length);
      const n = key ? key.decrypt(msg, 0, msg.length, out, 0, Date.now()) : -1;
      if (n < 0) { this.decryptFailures++; return; }
      const plain = out.subarray(0, n);
      if (plain.equals(KEEPALIVE_MAGIC)) this.pings++;
      else this.received.push({ keyId: key!.keyId, plain });
      this.wake();
      return;
    }
    if (this.server) {
      this.server.receive(msg, from);
      return;
    }
    try {
      this.session.receive(decodeControlPacket(msg));
    } catch {
      // not a control packet: ignored
    }
  }

  /** Encrypts `plain` with the newest key and sends it as DATA_V2. */
  sendData(plain: Buffer): void {
    const key = this.keys.get(this.txKeyId);
    if (!key || !this.remote) throw new Error('no data key yet');
    const out = Buffer.alloc(plain.length + 24);
    const n = key.encrypt(this.peerId, plain, 0, plain.length, out, 0);
    this.socket.send(out.subarray(0, n), this.remote.port, this.remote.address);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `cond` holds (checked after every event), rejects after `ms`. */
  async until(what: string, cond: () => boolean, ms = 15000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (this.ended && this.ended.kind === 'error') throw new Error(`${what}: session ended: ${this.ended.error.message}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not within ${ms / 1000} s`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 250));
        this.waiters.push(() => { clearTimeout(t); res(); });
      });
    }
  }

  async close(exit = true): Promise<void> {
    await this.session?.close(exit);
    this.socket.close();
  }
}
