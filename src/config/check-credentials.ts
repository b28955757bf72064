/**
 * Checks at start that the credential files hold what their directive says, and that the
 * certificate and the private key belong together: a swapped `cert`/`key` pair, a CA file that
 * holds a key, or a key that signs for another certificate fails here with the line to fix,
 * rather than as a TLS failure on the first connection.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { ConfigError } from './errors.js';
import type { KovpnConfig } from './types.js';

const CERT = /-----BEGIN CERTIFICATE-----/;
const KEY = /-----BEGIN ((EC|RSA|DSA) )?PRIVATE KEY-----/;
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;
const CRL = /-----BEGIN X509 CRL-----/;

/** What a PEM text seems to hold, for messages. */
function holds(pem: string): string {
  if (CERT.test(pem)) return 'a certificate';
  if (KEY.test(pem) || ENCRYPTED_KEY.test(pem)) return 'a private key';
  if (CRL.test(pem)) return 'a CRL';
  if (/-----BEGIN [A-Z0-9 ]+-----/.test(pem)) return `a PEM ${/-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)![1]} block`;
  return 'no PEM data';
}

export function checkCredentials(cfg: KovpnConfig): void {
  if (cfg.psk) return;
  const lines = cfg.credentialLines ?? {};
  const fail = (which: keyof NonNullable<KovpnConfig['credentialLines']>, msg: string) =>
    new ConfigError(cfg.file, lines[which] ?? 0, `${which === 'crl' ? 'crl-verify' : which}: ${msg}`);
  const expect = (which: 'ca' | 'cert' | 'crl', pem: string | undefined, re: RegExp, what: string) => {
    if (pem !== undefined && !re.test(pem)) {
      const swapped = which === 'cert' && KEY.test(pem) && cfg.key !== undefined && CERT.test(cfg.key) ? ' (are cert and key swapped?)' : '';
      throw fail(which, `expected ${what}, the file holds ${holds(pem)}${swapped}`);
    }
  };
  expect('ca', cfg.ca, CERT, 'a CA certificate');
  expect('cert', cfg.cert, CERT, 'a certificate');
  expect('crl', cfg.crl, CRL, 'a CRL (PEM)');
  if (cfg.key === undefined) return;
  if (ENCRYPTED_KEY.test(cfg.key)) throw fail('key', 'the private key is encrypted; kovpn needs an unencrypted key (openssl pkey -in KEY -out PLAIN)');
  if (!KEY.test(cfg.key)) throw fail('key', `expected a private key, the file holds ${holds(cfg.key)}`);
  let key: KeyObject;
  try {
    key = createPrivateKey(cfg.key);
  } catch (err) {
    throw fail('key', `the private key cannot be read: ${(err as Error).message}`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(cfg.cert!);
  } catch (err) {
    throw fail('cert', `the certificate cannot be read: ${(err as Error).message}`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw fail('key', `the private key does not belong to the certificate ('${cert.subject.replace(/\n/g, ', ')}')`);
  }
}
