/**
 * A Duplex that carries one TLS connection's records over a KeyChannel: what node:tls writes
 * is cut into CONTROL_V1 payloads; CONTROL_V1 payloads received in order are pushed back.
 */
import { Duplex } from 'node:stream';
import type { KeyChannel } from './channel.js';
import { Opcode } from './opcodes.js';

export class ControlStream extends Duplex {
  constructor(private readonly channel: KeyChannel) {
    super({ allowHalfOpen: false });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const max = this.channel.maxPayload;
    for (let off = 0; off < chunk.length; off += max) {
      this.channel.send(Opcode.CONTROL_V1, chunk.subarray(off, off + max));
    }
    done();
  }

  override _read(): void {
    // Data is pushed as CONTROL_V1 messages arrive (deliver); nothing to pull.
  }

  /** Hands a TLS-record fragment received in order to the TLS layer. */
  deliver(payload: Buffer): void {
    if (!this.destroyed) this.push(payload);
  }
}
