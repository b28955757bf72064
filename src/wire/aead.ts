/**
 * AEAD primitives of the data channel, in two interchangeable implementations:
 *  - 'node':  node:crypto (OpenSSL; AES-NI/AVX where the CPU has them)
 *  - 'noble': @noble/ciphers (pure JavaScript)
 * `bench/aead.ts` measures both; the hot path uses DEFAULT_AEAD_IMPL (see there for why).
 * The unit tests cross-check the two against each other and against published vectors.
 *
 * Both work on caller-owned buffers: `seal` writes the ciphertext and the tag into views the
 * caller chose (in a DATA_V2 packet the tag precedes the ciphertext).
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes';
import { chacha20poly1305 } from '@noble/ciphers/chacha';
import { TAG_SIZE } from './constants.js';
import { KeyConfigError } from './errors.js';

export type AeadAlg = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type AeadImpl = 'node' | 'noble';

/**
 * node:crypto runs AES-256-GCM 10-15x and ChaCha20-Poly1305 about 5x faster than
 * @noble/ciphers on 1400-byte packets on the project's host (numbers: `node dist/bench/aead.js`).
 */
export const DEFAULT_AEAD_IMPL: AeadImpl = 'node';

export interface Aead {
  readonly alg: AeadAlg;
  readonly impl: AeadImpl;
  /** Encrypts `plaintext` into `ciphertextOut` (same length) and writes the 16-byte tag to `tagOut`. */
  seal(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    ciphertextOut: Uint8Array,
    tagOut: Uint8Array,
  ): void;
  /**
   * Decrypts `ciphertext` into `plaintextOut` (same length) if `tag` authenticates it and `aad`.
   * Returns false (and leaves `plaintextOut` unspecified) when authentication fails.
   */
  open(
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
    plaintextOut: Uint8Array,
  ): boolean;
}

/** Key length in bytes each algorithm needs. */
export const AEAD_KEY_SIZE: Readonly<Record<AeadAlg, number>> = {
  'aes-128-gcm': 16,
  'aes-192-gcm': 24,
  'aes-256-gcm': 32,
  'chacha20-poly1305': 32,
};

/** The AES-GCM variant for a key of `len` bytes, or undefined if no variant takes that size. */
export function aesGcmForKeyLength(len: number): AeadAlg | undefined {
  switch (len) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      return undefined;
  }
}

function checkKey(alg: AeadAlg, key: Uint8Array): void {
  const want = AEAD_KEY_SIZE[alg];
  if (key.length !== want) {
    throw new KeyConfigError(`${alg} needs a ${want}-byte key, got ${key.length} bytes`);
  }
}

/** Shared options object: no allocation per packet. */
const TAG_OPTS = { authTagLength: TAG_SIZE } as const;

/** Largest plaintext the noble implementation stages in its scratch buffer. */
const NOBLE_MAX = 65536;

class NodeAead implements Aead {
  readonly impl = 'node' as const;
  private readonly key: KeyObject;
  private readonly gcm: boolean;

  constructor(
    readonly alg: AeadAlg,
    key: Uint8Array,
  ) {
    checkKey(alg, key);
    this.key = createSecretKey(Buffer.from(key));
    this.gcm = alg !== 'chacha20-poly1305';
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, tagOut: Uint8Array): void {
    const c = this.gcm
      ? createCipheriv(this.alg as 'aes-256-gcm', this.key, nonce, TAG_OPTS)
      : createCipheriv('chacha20-poly1305', this.key, nonce, TAG_OPTS);
    c.setAAD(aad);
    const ct = c.update(plaintext);
    ciphertextOut.set(ct);
    const rest = c.final();
    if (rest.length !== 0) ciphertextOut.set(rest, ct.length);
    tagOut.set(c.getAuthTag());
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, plaintextOut: Uint8Array): boolean {
    const d = this.gcm
      ? createDecipheriv(this.alg as 'aes-256-gcm', this.key, nonce, TAG_OPTS)
      : createDecipheriv('chacha20-poly1305', this.key, nonce, TAG_OPTS);
    d.setAuthTag(tag);
    d.setAAD(aad);
    const pt = d.update(ciphertext);
    try {
      d.final();
    } catch {
      return false;
    }
    plaintextOut.set(pt);
    return true;
  }
}

class NobleAead implements Aead {
  readonly impl = 'noble' as const;
  private readonly key: Uint8Array;
  /** ciphertext || tag, the layout noble expects on decryption. */
  private readonly scratch = new Uint8Array(NOBLE_MAX + TAG_SIZE);

  constructor(
    readonly alg: AeadAlg,
    key: Uint8Array,
  ) {
    checkKey(alg, key);
    this.key = Uint8Array.from(key);
  }

  private cipher(nonce: Uint8Array, aad: Uint8Array) {
    return this.alg === 'chacha20-poly1305' ? chacha20poly1305(this.key, nonce, aad) : gcm(this.key, nonce, aad);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, tagOut: Uint8Array): void {
    const out = this.cipher(nonce, aad).encrypt(plaintext);
    const n = plaintext.length;
    ciphertextOut.set(out.subarray(0, n));
    tagOut.set(out.subarray(n, n + TAG_SIZE));
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, plaintextOut: Uint8Array): boolean {
    const n = ciphertext.length;
    if (n > NOBLE_MAX) return false;
    this.scratch.set(ciphertext, 0);
    this.scratch.set(tag, n);
    let pt: Uint8Array;
    try {
      pt = this.cipher(nonce, aad).decrypt(this.scratch.subarray(0, n + TAG_SIZE));
    } catch {
      return false;
    }
    plaintextOut.set(pt);
    return true;
  }
}

/** An AEAD for `alg` keyed with `key` (copied). Throws KeyConfigError on a wrong key size. */
export function createAead(alg: AeadAlg, key: Uint8Array, impl: AeadImpl = DEFAULT_AEAD_IMPL): Aead {
  return impl === 'node' ? new NodeAead(alg, key) : new NobleAead(alg, key);
}
