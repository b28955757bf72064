/**
 * A fuzz peer: a client of the OpenVPN control channel built from src/control's pieces (a
 * KeyChannel for the reliability layer, a ControlStream carrying node:tls over it) on its
 * own UDP socket, with every outgoing packet passing through `outbound` so that a scenario
 * can drop, duplicate, reorder or mutate it, and with direct access to the TLS socket and the
 * channel so that it can inject garbage at each layer.
 */
import { createSocket, type Socket } from 'node:dgram';
import * as tls from 'node:tls';
import { KeyChannel } from '../../../src/control/channel.js';
import { systemClock } from '../../../src/control/clock.js';
import { decodeKeyMethod2 } from '../../../src/control/keymethod2.js';
import { Opcode } from '../../../src/control/opcodes.js';
import { decodeControlPacket } from '../../../src/control/packet.js';
import { ControlStream } from '../../../src/control/tls-stream.js';
import type { Rng } from './rng.js';

export interface FuzzCredentials {
  ca: string;
  cert: string;
  key: string;
}

/** How far a peer got with the server (coverage of the run). */
export interface Reached {
  serverReset: boolean;
  serverTls: boolean;
  secure: boolean;
  serverKm2: boolean;
  pushReply: boolean;
}

export class FuzzPeer {
  readonly sessionId: Buffer;
  readonly socket: Socket;
  readonly channel: KeyChannel;
  /** Channels of other key ids (soft resets the scenario starts). */
  readonly extra = new Map<number, KeyChannel>();
  readonly reached: Reached = { serverReset: false, serverTls: false, secure: false, serverKm2: false, pushReply: false };
  tls: tls.TLSSocket | undefined;
  serverSessionId: Buffer | undefined;
  /** Every outgoing packet goes here; the default sends it unchanged. */
  outbound: (packet: Buffer) => void = (p) => this.send(p);
  /** Called when the TLS handshake completes. */
  onSecure: (() => void) | undefined;
  datagramsIn = 0;
  private readonly stream: ControlStream;
  private plain = Buffer.alloc(0);
  private closed = false;

  constructor(rng: Rng, private readonly target: { address: string; port: number }, private readonly source: string,
    private readonly creds: FuzzCredentials) {
    this.sessionId = rng.bytes(8);
    this.socket = createSocket('udp4');
    this.socket.on('error', () => undefined);
    this.channel = this.newChannel(0);
    this.stream = new ControlStream(this.channel);
    this.stream.on('error', () => undefined);
  }

  newChannel(keyId: number): KeyChannel {
    return new KeyChannel({
      keyId, localSessionId: this.sessionId, clock: systemClock,
      transmit: (p) => { if (!this.closed) this.outbound(p); },
      onMessage: (m) => (keyId === 0 ? this.onMessage(m.opcode, m.payload) : undefined),
    });
  }

  async open(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.bind(0, this.source, resolve));
    this.socket.on('message', (msg) => this.onDatagram(msg));
  }

  /** Starts the handshake: HARD_RESET_CLIENT_V2 as message 0. */
  start(): void {
    this.channel.send(Opcode.HARD_RESET_CLIENT_V2);
  }

  send(packet: Buffer): void {
    if (!this.closed) this.socket.send(packet, this.target.port, this.target.address);
  }

  /** Writes plaintext into the TLS connection (after `secure`). */
  writePlain(data: Buffer): void {
    if (this.tls && !this.tls.destroyed) this.tls.write(data);
  }

  private onDatagram(msg: Buffer): void {
    this.datagramsIn++;
    let p;
    try {
      p = decodeControlPacket(msg);
    } catch {
      return; // data packets (keepalive) or something the daemon should never send
    }
    if (!this.serverSessionId && p.opcode === Opcode.HARD_RESET_SERVER_V2) {
      this.serverSessionId = p.sessionId;
      this.channel.remoteSessionId = p.sessionId;
      for (const c of this.extra.values()) c.remoteSessionId = p.sessionId;
    }
    const ch = p.keyId === 0 ? this.channel : this.extra.get(p.keyId);
    ch?.receive(p);
  }

  private onMessage(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.HARD_RESET_SERVER_V2 && !this.reached.serverReset) {
      this.reached.serverReset = true;
      this.startTls();
    } else if (opcode === Opcode.CONTROL_V1) {
      this.reached.serverTls = true;
      this.stream.deliver(payload);
    }
  }

  private startTls(): void {
    const sock = tls.connect({
      socket: this.stream, ca: this.creds.ca, cert: this.creds.cert, key: this.creds.key,
      rejectUnauthorized: false, checkServerIdentity: () => undefined,
    });
    this.tls = sock;
    sock.on('error', () => undefined);
    sock.on('secureConnect', () => {
      this.reached.secure = true;
      this.onSecure?.();
    });
    sock.on('data', (d: Buffer) => this.onPlain(d));
  }

  private onPlain(d: Buffer): void {
    this.plain = Buffer.concat([this.plain, d]);
    if (!this.reached.serverKm2) {
      try {
        this.plain = this.plain.subarray(decodeKeyMethod2(this.plain, 'server').length);
        this.reached.serverKm2 = true;
      } catch {
        return; // not complete yet
      }
    }
    if (this.plain.includes('PUSH_REPLY')) this.reached.pushReply = true;
  }

  /** Polls `pred` every 20 ms until it holds (true) or `ms` passed (false). */
  async until(pred: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() >= end || this.closed) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
    for (const c of this.extra.values()) c.close();
    this.tls?.destroy();
    this.stream.destroy();
    this.socket.close();
  }
}
