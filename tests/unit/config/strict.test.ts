/** Strict reading of configurations: misspellings, credential files, bounded error lines. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/errors.js';
import { loadOpenVpnConfig, parseOpenVpnConfig, readLimited } from '../../../src/config/openvpn.js';
import { makePki } from '../../interop/lib/pki.js';

const pki = makePki();
const srv = pki.issue('server', 'server');
const other = pki.issue('other', 'server');
const inline = (name: string, body: string) => `<${name}>\n${body.trim()}\n</${name}>`;
const base = ['client', 'remote 192.0.2.1 1194'];
const withCreds = (ca = pki.ca.cert, cert = srv.cert, key = srv.key) => [...base, inline('ca', ca), inline('cert', cert), inline('key', key)];
const problem = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('no ConfigError');
};
const parse = (lines: string[]) => parseOpenVpnConfig(lines.join('\n'), '/t/c.conf');
/** The line number of the directive that follows `lines`. */
const after = (lines: string[]) => lines.join('\n').split('\n').length + 1;

test('a misspelt directive is an error naming the line and the likely directive', () => {
  for (const [typo, meant] of [['remote-cert-tsl server', 'remote-cert-tls'], ['verify-x509-nmae x name', 'verify-x509-name'], ['crl-verfy x', 'crl-verify']] as const) {
    const m = problem(() => parse([...withCreds(), typo]));
    assert.ok(m.startsWith(`/t/c.conf:${after(withCreds())}: `), m);
    assert.ok(m.includes(`did you mean '${meant}'`), m);
  }
  assert.ok(problem(() => parse([...withCreds(), 'frobnicate 1'])).startsWith(`/t/c.conf:${after(withCreds())}: frobnicate: unknown directive; OpenVPN refuses it too`));
});

test('ignore-unknown-option and setenv opt, as in OpenVPN', () => {
  const c = parse(['ignore-unknown-option frobnicate block-outside-dnz', ...withCreds(), 'frobnicate 1', 'setenv opt twiddle 2', 'block-outside-dns']);
  const why = c.ignored.map((i) => [i.directive, i.level]);
  assert.equal(why, [['frobnicate 1', 'warn'], ['twiddle 2', 'warn'], ['block-outside-dns', 'info']]);
  // Only after the line that names it.
  assert.ok(problem(() => parse([...withCreds(), 'frobnicate 1', 'ignore-unknown-option frobnicate'])).startsWith(`/t/c.conf:${after(withCreds())}: frobnicate: unknown directive`));
  assert.ok(problem(() => parse([...withCreds(), '<frobnicate>', 'x', '</frobnicate>'])).startsWith(`/t/c.conf:${after(withCreds())}: <frobnicate>: unknown inline block`));
});

test('kovpn-psk must be hex or base64 of at least 32 bytes', () => {
  const psk = (body: string) => problem(() => parse([...base, inline('kovpn-psk', body)]));
  assert.match(psk(readFileSync('/etc/passwd', 'utf8')), /neither hex nor base64/);
  assert.match(psk(pki.ca.cert), /neither hex nor base64/);
  assert.match(psk('correct horse battery staple'), /neither hex nor base64/);
  assert.match(psk('00'.repeat(31)), /has 31 bytes/);
  assert.match(psk('abc'), /neither hex nor base64/, 'odd-length hex');
  assert.is(parse([...base, inline('kovpn-psk', `# comment\n${'ab'.repeat(32)}`)]).psk!.key.length, 32);
  assert.is(parse([...base, inline('kovpn-psk', Buffer.alloc(48, 7).toString('base64'))]).psk!.key.length, 48);
});

test('credential files: size-limited reads, what each file holds, cert and key belong together', () => {
  assert.throws(() => readLimited('/dev/zero', 1 << 16), /larger than 65536 bytes/);
  const dir = mkdtempSync(join(tmpdir(), 'kovpn-strict-'));
  try {
    const conf = (lines: string[]) => {
      writeFileSync(join(dir, 'c.conf'), lines.join('\n'));
      return () => loadOpenVpnConfig(join(dir, 'c.conf'));
    };
    const files = (ca: string, cert: string, key: string) => [...base, `ca ${ca}`, `cert ${cert}`, `key ${key}`];
    assert.is(conf(files(pki.ca.certPath, srv.certPath, srv.keyPath))().mode, 'client');
    assert.match(problem(conf(files('/dev/zero', srv.certPath, srv.keyPath))), /c\.conf:3: ca: cannot read \/dev\/zero: larger than/);
    assert.match(problem(conf(files(pki.ca.certPath, srv.keyPath, srv.certPath))), /c\.conf:4: cert: expected a certificate, the file holds a private key \(are cert and key swapped\?\)/);
    assert.match(problem(conf(files(srv.keyPath, srv.certPath, srv.keyPath))), /c\.conf:3: ca: expected a CA certificate, the file holds a private key/);
    assert.match(problem(conf(files(pki.ca.certPath, srv.certPath, other.keyPath))), /c\.conf:5: key: the private key does not belong to the certificate \('CN=server'\)/);
    assert.match(problem(conf(files(pki.ca.certPath, srv.certPath, '/etc/passwd'))), /c\.conf:5: key: expected a private key, the file holds no PEM data/);
    assert.match(problem(conf([...files(pki.ca.certPath, srv.certPath, srv.keyPath), `crl-verify ${pki.ca.certPath}`])), /c\.conf:6: crl-verify: expected a CRL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('error lines are bounded and escaped', () => {
  const long = problem(() => parse([...withCreds(), `remote-cert-tls ${'x'.repeat(100_000)}`]));
  assert.ok(long.length < 700, `a ${long.length}-character error line`);
  assert.match(long, /… \(\d+ more characters\)$/);
  const bin = problem(() => parse([...withCreds(), 'remote-cert-tls \u0001\u001b[31mred\u0007']));
  assert.not.match(bin, /[\u0000-\u001f]/);
  assert.match(bin, /\\x01\\x1b\[31mred\\x07/);
});

test.run();
