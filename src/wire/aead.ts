/**
 * AEAD primitives of the data channel, in three interchangeable implementations:
 *  - 'native': the addon's AeadContext, one reused OpenSSL context per key and direction
 *              (the OpenSSL Node links; see src/native.ts)
 *  - 'node':   node:crypto (the same OpenSSL, but a new cipher object per packet)
 *  - 'noble':  @noble/ciphers (pure JavaScript)
 * `bench/aead.ts` measures them; the hot path uses defaultAeadImpl() (see there for why).
 * The unit tests cross-check them against each other and against published vectors.
 *
 * All work on caller-owned buffers: `seal` writes the ciphertext and the tag into views the
 * caller chose; `sealAt`/`openAt` take offsets into one packet buffer instead of views (in
 * a DATA_V2 packet the AAD is the header and the tag precedes the ciphertext), which
 * spares the hot path four subarray objects per packet.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes';
import { chacha20poly1305 } from '@noble/ciphers/chacha';
import { native, type AeadContext } from '../native.js';
import { NONCE_SIZE, TAG_SIZE } from './constants.js';
import { KeyConfigError } from './errors.js';

export type AeadAlg = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type AeadImpl = 'native' | 'node' | 'noble';

/**
 * node:crypto runs AES-256-GCM 10-15x and ChaCha20-Poly1305 about 5x faster than
 * @noble/ciphers on 1400-byte packets on the project's host, but pays a fixed cost per
 * packet (a new Cipheriv/Decipheriv: node:crypto cannot re-IV one) that is several times the
 * cipher's own work; the addon's reused context does not (numbers: `node dist/bench/aead.js`).
 * The hot path therefore uses 'native' when the addon is built, else 'node'.
 */
export const DEFAULT_AEAD_IMPL: AeadImpl = 'node';

let nativeUsable: boolean | undefined;

/** 'native' when the addon is built and has AeadContext, else DEFAULT_AEAD_IMPL. */
export function defaultAeadImpl(): AeadImpl {
  if (nativeUsable === undefined) {
    try {
      nativeUsable = typeof native().AeadContext === 'function';
    } catch {
      nativeUsable = false;
    }
  }
  return nativeUsable ? 'native' : DEFAULT_AEAD_IMPL;
}

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
   * As `seal`, with the AAD, ciphertext and tag at offsets of `io`:
   * AAD io[aadOff, +aadLen), plaintext src[srcOff, +len) -> io[ctOff, +len), tag io[tagOff, +16).
   */
  sealAt(nonce: Buffer, io: Buffer, aadOff: number, aadLen: number, src: Buffer, srcOff: number, len: number, ctOff: number, tagOff: number): void;
  /** As `open`, with AAD io[aadOff, +aadLen), ciphertext io[ctOff, +len), tag io[tagOff, +16) -> dst[dstOff, +len). */
  openAt(nonce: Buffer, io: Buffer, aadOff: number, aadLen: number, ctOff: number, len: number, tagOff: number, dst: Buffer, dstOff: number): boolean;
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

/** sealAt/openAt through views, for the implementations that take views. */
abstract class ViewAead implements Aead {
  abstract readonly alg: AeadAlg;
  abstract readonly impl: AeadImpl;
  abstract seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, tagOut: Uint8Array): void;
  abstract open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, plaintextOut: Uint8Array): boolean;

  sealAt(nonce: Buffer, io: Buffer, aadOff: number, aadLen: number, src: Buffer, srcOff: number, len: number, ctOff: number, tagOff: number): void {
    this.seal(
      nonce,
      io.subarray(aadOff, aadOff + aadLen),
      src.subarray(srcOff, srcOff + len),
      io.subarray(ctOff, ctOff + len),
      io.subarray(tagOff, tagOff + TAG_SIZE),
    );
  }

  openAt(nonce: Buffer, io: Buffer, aadOff: number, aadLen: number, ctOff: number, len: number, tagOff: number, dst: Buffer, dstOff: number): boolean {
    return this.open(
      nonce,
      io.subarray(aadOff, aadOff + aadLen),
      io.subarray(ctOff, ctOff + len),
      io.subarray(tagOff, tagOff + TAG_SIZE),
      dst.subarray(dstOff, dstOff + len),
    );
  }
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** The addon's reused OpenSSL contexts (created on first use per direction). */
class NativeAead implements Aead {
  readonly impl = 'native' as const;
  private readonly key: Buffer;
  private encCtx: AeadContext | undefined;
  private decCtx: AeadContext | undefined;

  constructor(
    readonly alg: AeadAlg,
    key: Uint8Array,
  ) {
    checkKey(alg, key);
    this.key = Buffer.from(key);
  }

  private enc(): AeadContext {
    return (this.encCtx ??= new (native().AeadContext)(this.alg, this.key, true));
  }

  private dec(): AeadContext {
    return (this.decCtx ??= new (native().AeadContext)(this.alg, this.key, false));
  }

  sealAt(nonce: Buffer, io: Buffer, aadOff: number, aadLen: number, src: Buffer, srcOff: number, len: number, ctOff: number, tagOff: number): void {
    (this.encCtx ?? this.enc()).seal(nonce, io, aadOff, aadLen, src, srcOff, len, ctOff, tagOff);
  }

  openAt(nonce: Buffer, io: Buffer, aadOff: number, aadLen: number, ctOff: number, len: number, tagOff: number, dst: Buffer, dstOff: number): boolean {
    return (this.decCtx ?? this.dec()).open(nonce, io, aadOff, aadLen, ctOff, len, tagOff, dst, dstOff);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, tagOut: Uint8Array): void {
    checkNonce(nonce);
    // io = aad || tag || ciphertext, then copied out to the caller's views
    const n = plaintext.length;
    const io = Buffer.alloc(aad.length + TAG_SIZE + n);
    io.set(aad, 0);
    this.sealAt(asBuffer(nonce), io, 0, aad.length, asBuffer(plaintext), 0, n, aad.length + TAG_SIZE, aad.length);
    ciphertextOut.set(io.subarray(aad.length + TAG_SIZE));
    tagOut.set(io.subarray(aad.length, aad.length + TAG_SIZE));
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, plaintextOut: Uint8Array): boolean {
    checkNonce(nonce);
    const n = ciphertext.length;
    const io = Buffer.alloc(aad.length + TAG_SIZE + n);
    io.set(aad, 0);
    io.set(tag.subarray(0, TAG_SIZE), aad.length);
    io.set(ciphertext, aad.length + TAG_SIZE);
    return this.openAt(asBuffer(nonce), io, 0, aad.length, aad.length + TAG_SIZE, n, aad.length, asBuffer(plaintextOut), 0);
  }
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== NONCE_SIZE) throw new RangeError(`the nonce must be ${NONCE_SIZE} bytes, got ${nonce.length}`);
}

class NodeAead extends ViewAead {
  readonly impl = 'node' as const;
  private readonly key: KeyObject;
  private readonly gcm: boolean;

  constructor(
    readonly alg: AeadAlg,
    key: Uint8Array,
  ) {
    super();
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

class NobleAead extends ViewAead {
  readonly impl = 'noble' as const;
  private readonly key: Uint8Array;
  /** ciphertext || tag, the layout noble expects on decryption. */
  private readonly scratch = new Uint8Array(NOBLE_MAX + TAG_SIZE);

  constructor(
    readonly alg: AeadAlg,
    key: Uint8Array,
  ) {
    super();
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
export function createAead(alg: AeadAlg, key: Uint8Array, impl: AeadImpl = defaultAeadImpl()): Aead {
  if (impl === 'native') return new NativeAead(alg, key);
  return impl === 'node' ? new NodeAead(alg, key) : new NobleAead(alg, key);
}
