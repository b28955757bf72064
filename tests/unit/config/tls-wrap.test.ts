import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../src/config/errors.js';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';
import { formatStaticKey } from '../../../src/control/wrap/keyfile.js';
import { formatClientKey, formatServerKey, generateClientKey } from '../../../src/control/wrap/tls-crypt-v2.js';

const key = formatStaticKey(Buffer.alloc(256, 3));
const v2s = Buffer.alloc(128, 4);
const files: Record<string, string> = {
  '/k/ta.key': key, '/k/v2s.key': formatServerKey(v2s), '/k/v2c.key': formatClientKey(generateClientKey(v2s)),
};
const readFile = (p: string) => {
  const f = files[p];
  if (f === undefined) throw new Error('ENOENT: no such file');
  return f;
};
const base = 'ca ca\ncert c\nkey k\n';
const parse = (text: string) => parseOpenVpnConfig(base + text, '/k/t.conf', { readFile: (p) => (p.startsWith('/k/') && p.endsWith('.key') && p !== '/k/k' ? readFile(p) : 'PEM') });
const error = (text: string): string => {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('no ConfigError');
};

test('tls-auth: file with direction, inline block with key-direction, the auth digest', () => {
  const a = parse('client\nremote h\ntls-auth ta.key 1\n').tlsWrap;
  assert.equal(a && a.kind === 'tls-auth' && [a.direction, a.digest, a.key.length], [1, 'SHA1', 256]);
  const b = parse(`client\nremote h\nauth SHA256\nkey-direction 0\n<tls-auth>\n${key}</tls-auth>\n`).tlsWrap;
  assert.equal(b && b.kind === 'tls-auth' && [b.direction, b.digest], [0, 'SHA256']);
  const c = parse('client\nremote h\ntls-auth ta.key\n').tlsWrap;
  assert.equal(c && c.kind === 'tls-auth' && c.direction, undefined);
  assert.match(error('client\nremote h\ntls-auth ta.key 2\n'), /:6: tls-auth: key direction '2' is not 0 or 1/);
  assert.match(error('client\nremote h\nauth MD5\ntls-auth ta.key 1\n'), /:6: auth: digest 'MD5' is not supported for tls-auth/);
  assert.ok(parse('client\nremote h\nauth SHA512\n').tlsWrap === undefined, 'auth alone is fine');
});

test('tls-crypt and tls-crypt-v2: the key kind follows the role; one wrapping at most; bad files located', () => {
  assert.is(parse('client\nremote h\ntls-crypt ta.key\n').tlsWrap?.kind, 'tls-crypt');
  assert.is(parse('server 10.8.0.0 255.255.255.0\ntls-crypt-v2 v2s.key\n').tlsWrap?.kind, 'tls-crypt-v2-server');
  assert.is(parse('client\nremote h\ntls-crypt-v2 v2c.key\n').tlsWrap?.kind, 'tls-crypt-v2-client');
  assert.match(error('client\nremote h\ntls-crypt-v2 v2s.key\n'), /:6: tls-crypt-v2 client key \(a client needs its client key\): no '-----BEGIN OpenVPN tls-crypt-v2 client key-----'/);
  assert.match(error('client\nremote h\ntls-crypt ta.key\ntls-auth ta.key 1\n'), /tls-auth and tls-crypt are given; use only one/);
  assert.match(error('client\nremote h\ntls-crypt v2s.key\n'), /:6: tls-crypt key: no '-----BEGIN OpenVPN Static key V1-----'/);
  assert.match(error('server 10.8.0.0 255.255.255.0\ntls-crypt-v2 v2s.key allow-noncookie\n'), /allow-noncookie is not supported/);
});

test.run();
