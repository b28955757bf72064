/**
 * Transmit packet ids of one key: 1, 2, ... MAX_PACKET_ID, then exhausted. The id is half of
 * the AEAD nonce, so it never wraps: once exhausted the key cannot send any more and its
 * owner must renegotiate (the data path signals key-swap-needed).
 */
import { MAX_PACKET_ID } from './constants.js';

export class TxPacketIds {
  private nextId: number;

  /** `first` exists for tests of the exhaustion path; real keys start at 1. */
  constructor(first = 1) {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PACKET_ID + 1) {
      throw new RangeError(`first packet id must be 1..${MAX_PACKET_ID + 1}, got ${first}`);
    }
    this.nextId = first;
  }

  /** The next id to send, or 0 if the key is exhausted (0 is never a valid id). */
  take(): number {
    const id = this.nextId;
    if (id > MAX_PACKET_ID) return 0;
    this.nextId = id + 1;
    return id;
  }

  get exhausted(): boolean {
    return this.nextId > MAX_PACKET_ID;
  }

  /** How many ids were handed out. */
  get used(): number {
    return this.nextId - 1;
  }
}
