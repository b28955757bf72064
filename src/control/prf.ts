/**
 * OpenVPN's key-derivation PRF for peers without TLS keying-material export: the TLS 1.0
 * PRF (RFC 2246 §5), P_MD5 over the first half of the secret XOR P_SHA1 over the second.
 */
import { createHmac } from 'node:crypto';

function pHash(alg: 'md5' | 'sha1', secret: Buffer, seed: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  let a = seed;
  for (let off = 0; off < length;) {
    a = createHmac(alg, secret).update(a).digest();
    const block = createHmac(alg, secret).update(a).update(seed).digest();
    off += block.copy(out, off);
  }
  return out;
}

/** TLS 1.0 PRF(secret, label, seed) of `length` bytes; `label` is ASCII. */
export function tls1Prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const half = Math.ceil(secret.length / 2);
  const s1 = secret.subarray(0, half);
  const s2 = secret.subarray(secret.length - half);
  const ls = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const md5 = pHash('md5', s1, ls, length);
  const sha1 = pHash('sha1', s2, ls, length);
  for (let i = 0; i < length; i++) md5[i]! ^= sha1[i]!;
  return md5;
}

export const MASTER_SECRET_LABEL = 'OpenVPN master secret';
export const KEY_EXPANSION_LABEL = 'OpenVPN key expansion';
export const KEY_BLOCK_LEN = 256;

export interface PrfInputs {
  /** The client's 48-byte pre-master secret from its key-method-2 message. */
  preMaster: Buffer;
  clientRandom1: Buffer;
  serverRandom1: Buffer;
  clientRandom2: Buffer;
  serverRandom2: Buffer;
  clientSessionId: Buffer;
  serverSessionId: Buffer;
}

/** The 256-byte key block of the OpenVPN PRF derivation (used without TLS_KEY_EXPORT). */
export function openvpnPrfKeyBlock(i: PrfInputs): Buffer {
  const master = tls1Prf(i.preMaster, MASTER_SECRET_LABEL,
    Buffer.concat([i.clientRandom1, i.serverRandom1]), 48);
  return tls1Prf(master, KEY_EXPANSION_LABEL, Buffer.concat([
    i.clientRandom2, i.serverRandom2, i.clientSessionId, i.serverSessionId,
  ]), KEY_BLOCK_LEN);
}
