/**
 * The control-channel wrapping directives of a configuration: `tls-auth FILE [0|1]` (or an
 * inline `<tls-auth>` block, direction from `key-direction`), `auth DIGEST` (tls-auth's HMAC),
 * `tls-crypt FILE`, `tls-crypt-v2 FILE` (a server key on a server, a client key on a client).
 * As in OpenVPN, only one of the three may be given.
 */
import { tlsAuthDigest } from '../control/wrap/tls-auth.js';
import { parseStaticKey, type KeyDirection } from '../control/wrap/keyfile.js';
import { parseClientKey, parseServerKey } from '../control/wrap/tls-crypt-v2.js';
import type { TlsWrapConfig } from '../control/wrap/index.js';

export interface WrapDirectives {
  tlsAuth?: { text: string; direction?: KeyDirection; line: number };
  tlsCrypt?: { text: string; line: number };
  tlsCryptV2?: { text: string; line: number };
  keyDirection?: 0 | 1;
  /** `auth` as written (checked only when tls-auth uses it). */
  auth?: { name: string; line: number };
}

/** A problem with a line (0: the file as a whole). */
export class WrapConfigProblem extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

export function parseKeyDirection(s: string | undefined): 0 | 1 | undefined {
  if (s === undefined) return undefined;
  if (s === '0' || s === '1') return Number(s) as 0 | 1;
  throw new Error(`key direction '${s}' is not 0 or 1`);
}

export function resolveTlsWrap(w: WrapDirectives, role: 'client' | 'server'): TlsWrapConfig | undefined {
  const given = [w.tlsAuth && 'tls-auth', w.tlsCrypt && 'tls-crypt', w.tlsCryptV2 && 'tls-crypt-v2'].filter(Boolean);
  if (given.length > 1) throw new WrapConfigProblem(0, `${given.join(' and ')} are given; use only one (OpenVPN refuses that too)`);
  const guard = <T>(line: number, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw new WrapConfigProblem(line, (e as Error).message);
    }
  };
  if (w.tlsAuth) {
    const a = w.tlsAuth;
    const digest = w.auth ? tlsAuthDigest(w.auth.name) : 'SHA1';
    if (!digest) throw new WrapConfigProblem(w.auth!.line, `auth: digest '${w.auth!.name}' is not supported for tls-auth (SHA1, SHA224, SHA256, SHA384, SHA512)`);
    const key = guard(a.line, () => parseStaticKey(a.text, 'tls-auth key'));
    return { kind: 'tls-auth', key, direction: a.direction ?? w.keyDirection, digest };
  }
  if (w.tlsCrypt) {
    const c = w.tlsCrypt;
    return { kind: 'tls-crypt', key: guard(c.line, () => parseStaticKey(c.text, 'tls-crypt key')) };
  }
  if (w.tlsCryptV2) {
    const v = w.tlsCryptV2;
    return role === 'server'
      ? { kind: 'tls-crypt-v2-server', serverKey: guard(v.line, () => parseServerKey(v.text, 'tls-crypt-v2 server key (a server needs the server key)')) }
      : { kind: 'tls-crypt-v2-client', clientKey: guard(v.line, () => parseClientKey(v.text, 'tls-crypt-v2 client key (a client needs its client key)')) };
  }
  return undefined;
}
