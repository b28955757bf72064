import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';
import { encodeKeyMethod2, decodeKeyMethod2 } from '../../../src/control/keymethod2.js';
import { parsePushReply } from '../../../src/control/push.js';
import { UserPassStore } from '../../../src/daemon/user-pass.js';

const files: Record<string, string> = { '/k/ca.crt': 'CA\n', '/k/c.crt': 'CERT\n', '/k/c.key': 'KEY\n' };
const readFile = (p: string) => files[p] ?? (() => { throw new Error('ENOENT'); })();
const client = (extra: string, cert = 'cert c.crt\nkey c.key\n') => parseOpenVpnConfig(`client\nremote a\nca ca.crt\n${cert}${extra}\n`, '/k/t.conf', { readFile });
const server = (extra: string) => parseOpenVpnConfig(`server 10.8.0.0 255.255.255.0\nca ca.crt\ncert c.crt\nkey c.key\n${extra}\n`, '/k/s.conf', { readFile });

test('client: auth-user-pass file, inline, prompt; auth-nocache; no cert needed', () => {
  assert.equal(client('auth-user-pass up.txt').authUserPass, { source: { kind: 'file', path: '/k/up.txt' }, nocache: false, where: '/k/t.conf:6' });
  assert.equal(client('auth-user-pass').authUserPass!.source, { kind: 'prompt' });
  assert.equal(client('<auth-user-pass>\nu\np\n</auth-user-pass>\nauth-nocache').authUserPass, { source: { kind: 'inline', text: 'u\np\n' }, nocache: true, where: '/k/t.conf:6' });
  assert.ok(client('auth-user-pass f', '').authUserPass);
  assert.throws(() => client('', ''), /no `cert`/);
  assert.throws(() => client('auth-user-pass a b'), /auth-user-pass: expects 0 to 1 argument, got 2/);
  assert.throws(() => client('auth-user-pass-verify /bin/true via-file'), /needs server mode/);
});

test('server: auth-user-pass-verify needs script-security 2, an executable, a method; verify-client-cert', () => {
  const s = server('script-security 2\nauth-user-pass-verify "/bin/true --x" via-file\nverify-client-cert none\nusername-as-common-name');
  assert.equal(s.authVerify!.verify, { argv: ['/bin/true', '--x'], method: 'via-file', where: '/k/s.conf:6' });
  assert.is(s.authVerify!.verifyClientCert, 'none');
  assert.is(s.authVerify!.usernameAsCommonName, true);
  assert.throws(() => server('auth-user-pass-verify /bin/true via-file'), /:5: auth-user-pass-verify: external programs need `script-security 2`.*\(the default\)/);
  assert.throws(() => server('script-security 2\nauth-user-pass-verify /bin/true'), /needs a second argument, 'via-env' or 'via-file'/);
  assert.throws(() => server('script-security 2\nauth-user-pass-verify /nonexistent via-env'), /is not an executable file/);
  assert.throws(() => server('verify-client-cert none'), /must be used with an auth-user-pass-verify script/);
  assert.throws(() => server('verify-client-cert maybe'), /'maybe' is not none, optional or require/);
  const env2 = server('script-security 2\nauth-user-pass-verify /bin/true via-env');
  assert.match(env2.ignored.map((i) => i.why).join(), /no `password` variable/);
  assert.is(server('script-security 3\nauth-user-pass-verify /bin/true via-env').ignored.length, 0);
});

test('key-method 2 carries a Buffer password and zeroes its copy', () => {
  const password = Buffer.from('pw');
  const r = Buffer.alloc(32, 1);
  const m = encodeKeyMethod2({ preMaster: Buffer.alloc(48), random1: r, random2: r, options: 'o', username: 'u', password, peerInfo: 'IV_VER=2\n' }, 'client');
  const d = decodeKeyMethod2(m, 'client').message;
  assert.is(d.username, 'u');
  assert.is(d.password, 'pw');
  assert.is(d.peerInfo, 'IV_VER=2\n');
});

test('push: auth-token and auth-token-user are parsed, not listed as ignored', () => {
  const { options } = parsePushReply(`PUSH_REPLY,auth-token SESS_ID_AT_xyz,auth-token-user ${Buffer.from('bob').toString('base64')},ping 2`);
  assert.is(options.authToken, 'SESS_ID_AT_xyz');
  assert.is(options.authTokenUser, 'bob');
  assert.equal(options.ignored, []);
});

test('UserPassStore: file lines, token instead of the password, auth-nocache forgets and rereads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kovpn-up-'));
  try {
    const f = join(dir, 'up');
    writeFileSync(f, 'alice\r\nsecret\n');
    const s = new UserPassStore({ source: { kind: 'file', path: f }, nocache: true, where: 't:1' }, false);
    await s.load();
    const a = s.next();
    assert.equal([a.username, a.password.toString()], ['alice', 'secret']);
    writeFileSync(f, 'alice\nnewer\n');
    assert.is(s.next().password.toString(), 'newer'); // forgotten, read again
    s.setToken('TOKEN', undefined);
    rmSync(f);
    assert.equal([s.next().username, s.next().password.toString()], ['alice', 'TOKEN']);
    assert.is(s.clearToken(), true);
    assert.throws(() => s.next(), /auth-nocache: .*cannot read the auth-user-pass file/);
    const p = new UserPassStore({ source: { kind: 'prompt' }, nocache: false, where: 't:2' }, false);
    await p.load().then(() => assert.unreachable('no terminal'), (e: Error) => assert.match(e.message, /standard input is not one: give a file/));
    writeFileSync(f, '\nx\n');
    const e = new UserPassStore({ source: { kind: 'file', path: f }, nocache: false, where: 't:3' }, false);
    await e.load().then(() => assert.unreachable('empty username'), (err: Error) => assert.match(err.message, /username \(first line\) .* is empty/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
