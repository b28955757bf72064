import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyFileError, keysForDirection, parseKeyFile, readKeyFile } from '../../../src/wire/index.js';

const raw = Buffer.alloc(72);
for (let i = 0; i < 72; i++) raw[i] = i;

test('parses base64 split over lines and maps the two key directions', () => {
  const b64 = raw.toString('base64');
  const text = `${b64.slice(0, 40)}\n${b64.slice(40)}\n`;
  const m = parseKeyFile(text, 'k.key');
  assert.is(m.keyA.toString('hex'), raw.subarray(0, 32).toString('hex'));
  assert.is(m.keyB.toString('hex'), raw.subarray(32, 64).toString('hex'));
  assert.is(m.nonceTail.toString('hex'), raw.subarray(64, 72).toString('hex'));
  const d0 = keysForDirection(m, 0);
  const d1 = keysForDirection(m, 1);
  assert.ok(d0.encrypt.cipherKey.equals(m.keyA) && d0.decrypt.cipherKey.equals(m.keyB));
  assert.ok(d1.encrypt.cipherKey.equals(m.keyB) && d1.decrypt.cipherKey.equals(m.keyA));
  assert.ok(d0.encrypt.nonceTail.equals(d1.decrypt.nonceTail));
  assert.is(keysForDirection(m, 0, 16).encrypt.cipherKey.length, 16);
});

test('longer files are accepted (extra bytes ignored)', () => {
  const m = parseKeyFile(Buffer.concat([raw, Buffer.alloc(184, 0xff)]).toString('base64'), 'big.key');
  assert.is(m.nonceTail.toString('hex'), raw.subarray(64, 72).toString('hex'));
});

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, KeyFileError);
    return (err as Error).message;
  }
  throw new Error('expected a KeyFileError');
}

test('errors name the file and what is wrong', () => {
  assert.is(errorOf(() => parseKeyFile(' \n', '/etc/a.key')), 'key file /etc/a.key: is empty (expected base64 of at least 72 bytes)');
  assert.is(errorOf(() => parseKeyFile('abc$', 'b.key')), 'key file b.key: is not base64: character "$"');
  assert.is(errorOf(() => parseKeyFile('ab=c', 'c.key')), "key file c.key: is not base64: misplaced '=' padding");
  assert.is(errorOf(() => parseKeyFile('abcde', 'd.key')), 'key file d.key: is not base64: length 5 is not a multiple of 4');
  assert.is(
    errorOf(() => parseKeyFile(raw.subarray(0, 71).toString('base64'), 'e.key')),
    'key file e.key: holds 71 bytes, needs at least 72 ([key A 32][key B 32][nonce tail 8])',
  );
});

test('readKeyFile reads from disk and reports a missing file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'us-keyfile-'));
  const path = join(dir, 'ok.key');
  writeFileSync(path, raw.toString('base64'));
  assert.ok((await readKeyFile(path)).keyA.equals(raw.subarray(0, 32)));
  try {
    await readKeyFile(join(dir, 'missing.key'));
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, KeyFileError);
    assert.is((err as Error).message, `key file ${join(dir, 'missing.key')}: cannot be read (ENOENT)`);
  }
});

test.run();
