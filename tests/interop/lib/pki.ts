/**
 * A throw-away PKI made with the openssl command line (P-256): a CA, a server certificate
 * (EKU serverAuth), client certificates (EKU clientAuth), optionally a second CA, and a CRL.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
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
  const caKey = `${prefix}.key`;
  const caCrt = `${prefix}.crt`;
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey], dir);
  openssl(['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '30', '-subj', `/CN=${caName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', caCrt], dir);
  const load = (certPath: string, keyPath: string): Pem => ({
    cert: readFileSync(join(dir, certPath), 'utf8'), key: readFileSync(join(dir, keyPath), 'utf8'),
    certPath: join(dir, certPath), keyPath: join(dir, keyPath),
  });
  // A minimal `openssl ca` database, used only to produce CRLs.
  const db = `${prefix}-index.txt`;
  writeFileSync(join(dir, db), '');
  const caConf = `${prefix}-ca.cnf`;
  writeFileSync(join(dir, caConf), [
    '[ca]', 'default_ca = dm', '[dm]', `database = ${join(dir, db)}`, `certificate = ${join(dir, caCrt)}`,
    `private_key = ${join(dir, caKey)}`, 'default_md = sha256', 'default_crl_days = 30', '',
  ].join('\n'));
  const crlPath = join(dir, `${prefix}.crl`);
  return {
    dir,
    crlPath,
    revoke(pem) {
      openssl(['ca', '-config', caConf, '-revoke', pem.certPath], dir);
      openssl(['ca', '-config', caConf, '-gencrl', '-out', crlPath], dir);
      return readFileSync(crlPath, 'utf8');
    },
    ca: load(caCrt, caKey),
    issue(name, usage) {
      const key = `${prefix}-${name}.key`;
      const csr = `${prefix}-${name}.csr`;
      const crt = `${prefix}-${name}.crt`;
      const ext = `${prefix}-${name}.ext`;
      writeFileSync(join(dir, ext), [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyAgreement',
        `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        '',
      ].join('\n'));
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], dir);
      openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-CAcreateserial',
        '-days', '30', '-sha256', '-extfile', ext, '-out', crt], dir);
      return load(crt, key);
    },
  };
}
