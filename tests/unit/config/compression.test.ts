import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../src/config/errors.js';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';
import { buildPushReply, parsePushReply } from '../../../src/control/push.js';

const files: Record<string, string> = { '/k/ca.crt': 'CA\n', '/k/c.crt': 'CERT\n', '/k/c.key': 'KEY\n' };
const readFile = (p: string) => files[p] ?? (() => { throw new Error('ENOENT'); })();
const parse = (extra: string) => parseOpenVpnConfig(`client\nremote a\nca ca.crt\ncert c.crt\nkey c.key\n${extra}\n`, '/k/t.conf', { readFile });
const error = (extra: string): string => {
  try {
    parse(extra);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('no ConfigError');
};

test('framing-only options select the framing, with the line', () => {
  assert.equal(parse('comp-lzo no').compression, { framing: 'lzo-stub', where: '/k/t.conf:6' });
  assert.is(parse('compress').compression!.framing, 'stub');
  assert.is(parse('compress stub').compression!.framing, 'stub');
  assert.is(parse('compress stub-v2').compression!.framing, 'stub-v2');
  assert.is(parse('').compression, undefined);
});

test('real compression is refused with what to write instead', () => {
  assert.match(error('comp-lzo'), /:6: comp-lzo: compression is not supported \(VORACLE.*use `comp-lzo no`/);
  assert.match(error('comp-lzo yes'), /comp-lzo: compression is not supported/);
  assert.match(error('comp-lzo adaptive'), /comp-lzo: compression is not supported/);
  assert.match(error('compress lz4'), /compress: compression is not supported.*`compress stub-v2`/);
  assert.match(error('compress lz4-v2'), /compress: compression is not supported/);
  assert.match(error('compress lzo'), /compress: compression is not supported/);
  assert.match(error('compress migrate'), /'migrate' is not implemented/);
  assert.match(error('compress snappy'), /'snappy' is not stub, stub-v2/);
  assert.match(error('comp-lzo maybe'), /'maybe' is not yes, no or adaptive/);
});

test('allow-compression: no is silent, asym and yes warn that nothing is decompressed', () => {
  assert.equal(parse('allow-compression no').ignored, []);
  for (const a of ['asym', 'yes']) {
    const ig = parse(`allow-compression ${a}`).ignored;
    assert.is(ig.length, 1);
    assert.is(ig[0]!.level, 'warn');
    assert.match(ig[0]!.why, /never decompresses: a compressed packet from the peer is dropped/);
  }
  assert.match(error('allow-compression always'), /'always' is not no, asym or yes/);
});

test('pushed framing is taken; pushed compression fails the push', () => {
  assert.is(parsePushReply('PUSH_REPLY,comp-lzo no,ifconfig 10.8.0.2 255.255.255.0').options.compression, 'lzo-stub');
  assert.is(parsePushReply('PUSH_REPLY,compress stub-v2').options.compression, 'stub-v2');
  assert.is(parsePushReply('PUSH_REPLY,compress').options.compression, 'stub');
  assert.is(parsePushReply('PUSH_REPLY,route 10.0.0.0 255.0.0.0').options.compression, undefined);
  assert.ok(buildPushReply(parsePushReply('PUSH_REPLY,comp-lzo no').options)[0]!.includes(',comp-lzo no'), 'a server passes it on');
  assert.throws(() => parsePushReply('PUSH_REPLY,comp-lzo yes'), /PUSH_REPLY 'comp-lzo yes': compression is not supported/);
  assert.throws(() => parsePushReply('PUSH_REPLY,compress lz4-v2'), /compression is not supported/);
});

test.run();
