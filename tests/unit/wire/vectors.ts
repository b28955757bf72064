/** Loads the shared known-answer vectors (tests/vectors/data-v2.json). */
import { readFileSync } from 'node:fs';
import type { AeadAlg } from '../../../src/wire/index.js';
import type { DataCipher } from '../../../src/wire/index.js';

export interface PacketVector {
  name: string;
  cipher: DataCipher;
  keySize: number;
  key: string;
  nonceTail: string;
  keyId: number;
  peerId: number;
  packetId: number;
  plaintext: string;
  packet: string;
}

export interface AeadVector {
  source: string;
  alg: AeadAlg;
  key: string;
  nonce: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}

export interface VectorFile {
  keepaliveMagic: string;
  vectors: PacketVector[];
  aead: AeadVector[];
}

/** dist/tests/unit/wire/ -> repository root */
const file = new URL('../../../../tests/vectors/data-v2.json', import.meta.url);

export function loadVectors(): VectorFile {
  return JSON.parse(readFileSync(file, 'utf8')) as VectorFile;
}

export const hex = (s: string): Buffer => Buffer.from(s, 'hex');
