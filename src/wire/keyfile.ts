/**
 * The classic key file of the ovpn selftests' client (pre-shared key mode): base64 of at
 * least 72 bytes `[key A 32][key B 32][nonce tail 8]`. Whitespace and line breaks inside
 * the base64 text are ignored. Key direction 0 encrypts with A and decrypts with B,
 * direction 1 the reverse; both directions share the nonce tail.
 */
import { readFile } from 'node:fs/promises';
import { NONCE_TAIL_SIZE } from './constants.js';
import { KeyFileError } from './errors.js';

export const KEYFILE_KEY_SIZE = 32;
export const KEYFILE_MIN_BYTES = 2 * KEYFILE_KEY_SIZE + NONCE_TAIL_SIZE;

export interface KeyFileMaterial {
  keyA: Buffer;
  keyB: Buffer;
  nonceTail: Buffer;
}

export type KeyDirectionIndex = 0 | 1;

export interface DirectionalKeys {
  encrypt: { cipherKey: Buffer; nonceTail: Buffer };
  decrypt: { cipherKey: Buffer; nonceTail: Buffer };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Parses the text of a key file; `file` names it in errors. */
export function parseKeyFile(text: string, file: string): KeyFileMaterial {
  const b64 = text.replace(/\s+/g, '');
  if (b64.length === 0) throw new KeyFileError(file, 'is empty (expected base64 of at least 72 bytes)');
  if (!BASE64.test(b64)) {
    const bad = b64.search(/[^A-Za-z0-9+/=]/);
    const what = bad >= 0 ? `character ${JSON.stringify(b64[bad])}` : "misplaced '=' padding";
    throw new KeyFileError(file, `is not base64: ${what}`);
  }
  if (b64.length % 4 !== 0) throw new KeyFileError(file, `is not base64: length ${b64.length} is not a multiple of 4`);
  const raw = Buffer.from(b64, 'base64');
  if (raw.length < KEYFILE_MIN_BYTES) {
    throw new KeyFileError(
      file,
      `holds ${raw.length} bytes, needs at least ${KEYFILE_MIN_BYTES} ([key A 32][key B 32][nonce tail 8])`,
    );
  }
  return {
    keyA: raw.subarray(0, KEYFILE_KEY_SIZE),
    keyB: raw.subarray(KEYFILE_KEY_SIZE, 2 * KEYFILE_KEY_SIZE),
    nonceTail: raw.subarray(2 * KEYFILE_KEY_SIZE, KEYFILE_MIN_BYTES),
  };
}

/** Reads and parses a key file. */
export async function readKeyFile(file: string): Promise<KeyFileMaterial> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KeyFileError(file, `cannot be read (${code})`);
  }
  return parseKeyFile(text, file);
}

/**
 * The encrypt/decrypt keys for key direction `dir`. `keyLen` (16, 24 or 32) takes the
 * first bytes of each 32-byte key, for the shorter AES-GCM variants.
 */
export function keysForDirection(m: KeyFileMaterial, dir: KeyDirectionIndex, keyLen = KEYFILE_KEY_SIZE): DirectionalKeys {
  if (dir !== 0 && dir !== 1) throw new RangeError(`key direction must be 0 or 1, got ${String(dir)}`);
  if (keyLen !== 16 && keyLen !== 24 && keyLen !== 32) throw new RangeError(`key length must be 16, 24 or 32, got ${keyLen}`);
  const a = m.keyA.subarray(0, keyLen);
  const b = m.keyB.subarray(0, keyLen);
  return {
    encrypt: { cipherKey: dir === 0 ? a : b, nonceTail: m.nonceTail },
    decrypt: { cipherKey: dir === 0 ? b : a, nonceTail: m.nonceTail },
  };
}
