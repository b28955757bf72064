/** Data-channel ciphers kovpn speaks, negotiation (NCP) and the key-block layout. */
import type { CipherAlg, KeyDirection } from '../datapath/types.js';
import { ControlError } from './errors.js';

export const DATA_CIPHERS = ['AES-256-GCM', 'AES-192-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'] as const;
export type DataCipher = (typeof DATA_CIPHERS)[number];
export const DEFAULT_DATA_CIPHERS: DataCipher[] = ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'];

export function parseCipherName(name: string): DataCipher | undefined {
  const up = name.trim().toUpperCase();
  return (DATA_CIPHERS as readonly string[]).includes(up) ? (up as DataCipher) : undefined;
}

/** Parses a colon-separated list such as `data-ciphers` or IV_CIPHERS, dropping names we lack. */
export function parseCipherList(list: string): { known: DataCipher[]; unknown: string[] } {
  const known: DataCipher[] = [];
  const unknown: string[] = [];
  for (const part of list.split(':').map((s) => s.trim()).filter(Boolean)) {
    const c = parseCipherName(part);
    if (c && !known.includes(c)) known.push(c);
    else if (!c) unknown.push(part);
  }
  return { known, unknown };
}

export function cipherSpec(c: DataCipher): { alg: CipherAlg; keyLen: number } {
  switch (c) {
    case 'AES-128-GCM': return { alg: 'aes-gcm', keyLen: 16 };
    case 'AES-192-GCM': return { alg: 'aes-gcm', keyLen: 24 };
    case 'AES-256-GCM': return { alg: 'aes-gcm', keyLen: 32 };
    case 'CHACHA20-POLY1305': return { alg: 'chacha20-poly1305', keyLen: 32 };
  }
}

/**
 * Server side of NCP: the first of our ciphers (our preference order) that the client lists
 * in IV_CIPHERS; a client that sends only IV_NCP=2 supports AES-256-GCM and AES-128-GCM.
 */
export function negotiateCipher(ours: readonly DataCipher[], peerInfo: Map<string, string>): DataCipher {
  let theirs: DataCipher[];
  const ivCiphers = peerInfo.get('IV_CIPHERS');
  if (ivCiphers !== undefined) theirs = parseCipherList(ivCiphers).known;
  else if (Number(peerInfo.get('IV_NCP') ?? 0) >= 2) theirs = ['AES-256-GCM', 'AES-128-GCM'];
  else theirs = [];
  const pick = ours.find((c) => theirs.includes(c));
  if (!pick) {
    throw new ControlError('negotiation',
      `no common data cipher: ours ${ours.join(':')}, peer's ${ivCiphers ?? '(none announced)'}`);
  }
  return pick;
}

export interface DataKeys {
  encrypt: KeyDirection;
  decrypt: KeyDirection;
}

/**
 * Cuts a 256-byte key block into this side's directions. keys[0] (bytes 0..127) is
 * client -> server, keys[1] (128..255) server -> client; each is cipher 64 ‖ hmac 64, and
 * the AEAD nonce tail is the first 8 bytes of the hmac part.
 */
export function dataKeysFromBlock(block: Buffer, cipher: DataCipher, role: 'client' | 'server'): DataKeys {
  if (block.length !== 256) throw new RangeError(`key block is ${block.length} bytes, expected 256`);
  const { keyLen } = cipherSpec(cipher);
  const dir = (base: number): KeyDirection => ({
    cipherKey: Uint8Array.from(block.subarray(base, base + keyLen)),
    nonceTail: Uint8Array.from(block.subarray(base + 64, base + 72)),
  });
  const c2s = dir(0);
  const s2c = dir(128);
  return role === 'client' ? { encrypt: c2s, decrypt: s2c } : { encrypt: s2c, decrypt: c2s };
}
