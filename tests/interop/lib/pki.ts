/**
 * A throw-away PKI (tests/lib/pki.sh: the openssl command line, P-256): a CA, a server certificate
 * (EKU serverAuth), client certificates (EKU clientAuth), optionally a second CA, and a CRL.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Pem {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export interface Pki {
  dir: string;
  ca: Pem;
  issue(name: string, usage: 'server' | 'client'): Pem;
  /** Revokes a certificate this CA issued and returns the new CRL (PEM); `crlPath` holds it. */
  revoke(pem: Pem): string;
  crlPath: string;
}

/** The one test PKI implementation (shell, shared with the shell tests, bench and demo). */
const PKI_SH = fileURLToPath(new URL('../../../../tests/lib/pki.sh', import.meta.url));

function pki(args: string[]): void {
  execFileSync('bash', [PKI_SH, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Temporary directories made here are removed when the process exits. */
const made = new Set<string>();
process.once('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function makePki(dir?: string, caName = 'kovpn test CA'): Pki {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'dm-pki-'));
    made.add(dir);
  }
  const prefix = caName.replace(/\W+/g, '_');
  pki(['ca', dir, prefix, caName]);
  const load = (name: string): Pem => ({
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    certPath: join(dir, `${name}.crt`), keyPath: join(dir, `${name}.key`),
  });
  const crlPath = join(dir, `${prefix}.crl`);
  return {
    dir,
    crlPath,
    revoke(pem) {
      pki(['revoke', dir, prefix, basename(pem.certPath, '.crt')]);
      return readFileSync(crlPath, 'utf8');
    },
    ca: load(prefix),
    issue(name, usage) {
      const file = `${prefix}-${name}`;
      pki(['issue', dir, prefix, file, name, usage]);
      return load(file);
    },
  };
}

/** A fresh test PKI with the usual two certificates: `server` (serverAuth) and `client1` (clientAuth). */
export function makeServerClientPki(): { pki: Pki; server: Pem; client: Pem } {
  const pki = makePki();
  return { pki, server: pki.issue('server', 'server'), client: pki.issue('client1', 'client') };
}
