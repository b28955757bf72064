import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { hoistGlobalOptions, main } from '../../../src/cli/ovpn-cli/main.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const status = await main(argv, { stdout, stderr });
  return { status, out: stdout.text, err: stderr.text };
}

function assertOneLine(err: string, expected: string): void {
  assert.is(err, `${expected}\n`);
}

test('global option before the command is moved after it', () => {
  assert.equal(hoistGlobalOptions(['--datapath', 'kernel', 'get_peer', 'tun0']), [
    'get_peer', '--datapath', 'kernel', 'tun0',
  ]);
  assert.equal(hoistGlobalOptions(['--datapath=userspace', 'del_iface', 'x']), [
    'del_iface', '--datapath=userspace', 'x',
  ]);
  assert.equal(hoistGlobalOptions(['get_peer', 'tun0', '--json']), ['get_peer', 'tun0', '--json']);
  assert.equal(hoistGlobalOptions(['--bogus', 'get_peer']), { error: 'unknown option "--bogus" before the command' });
  assert.equal(hoistGlobalOptions(['--datapath']), { error: 'option --datapath needs a value' });
});

test('invalid peer id: one line, exit 2, nothing on stdout', async () => {
  const r = await run('new_peer', 'tun0', 'abc', 'none', '1', '10.10.1.2', '1');
  assert.is(r.status, 2);
  assert.is(r.out, '');
  assertOneLine(r.err, 'ovpn-cli: new_peer: invalid peer id "abc": expected 0..16777215');
});

test('argument errors of each command name the argument', async () => {
  const cases: Array<[string[], string]> = [
    [['new_iface', 'tun0', 'XX'], 'ovpn-cli: new_iface: invalid mode "XX": expected P2P or MP'],
    [['new_iface', 'this-name-is-too-long'], 'ovpn-cli: new_iface: invalid interface name "this-name-is-too-long": expected 1..15 characters without space, "/" or ":"'],
    [['new_peer', 'tun0', '1', 'none', '70000', '10.0.0.1', '1'], 'ovpn-cli: new_peer: invalid local port "70000": expected 0..65535'],
    [['new_peer', 'tun0', '1', 'x', '1', '10.0.0.1', '1'], 'ovpn-cli: new_peer: invalid tx id "x": expected 0..16777215 or "none"'],
    [['new_peer', 'tun0', '1', 'none', '1', 'nowhere', '1'], 'ovpn-cli: new_peer: invalid remote address "nowhere": expected an IPv4 or IPv6 address'],
    [['new_peer', 'tun0', '1', 'none', '1', '10.0.0.1', '0'], 'ovpn-cli: new_peer: invalid remote port "0": expected 1..65535'],
    [['set_peer', 'tun0', '1', 'x', '10'], 'ovpn-cli: set_peer: invalid keepalive interval "x": expected 0..4294967295'],
    [['new_key', 'tun0', '1', '3', '0', 'aes', '0', '/nonexistent'], 'ovpn-cli: new_key: invalid key slot "3": expected 1 (primary) or 2 (secondary)'],
    [['new_key', 'tun0', '1', '1', '9', 'aes', '0', '/nonexistent'], 'ovpn-cli: new_key: invalid key id "9": expected 0..7'],
    [['new_key', 'tun0', '1', '1', '0', 'des', '0', '/nonexistent'], 'ovpn-cli: new_key: invalid cipher "des": expected aes, chachapoly or none'],
    [['new_key', 'tun0', '1', '1', '0', 'aes', '2', '/nonexistent'], 'ovpn-cli: new_key: invalid key direction "2": expected 0 or 1'],
    [['del_key', 'tun0', '1', '0'], 'ovpn-cli: del_key: invalid key slot "0": expected 1 (primary) or 2 (secondary)'],
    [['get_key', 'tun0', '16777216', '1'], 'ovpn-cli: get_key: invalid peer id "16777216": expected 0..16777215'],
    [['swap_keys', 'tun0', '-3'], 'ovpn-cli: swap_keys: wrong arguments: invalid option name ("-3"); usage: ovpn-cli swap_keys <iface> <peer_id>'],
    [['new_multi_peer', 'tun0', '1', 'BOTH', '/x'], 'ovpn-cli: new_multi_peer: invalid id scheme "BOTH": expected SYMM or ASYMM'],
  ];
  for (const [argv, expected] of cases) {
    const r = await run(...argv);
    assert.is(r.status, 2, argv.join(' '));
    assertOneLine(r.err, expected);
  }
});

test('wrong argument count: one line with the usage', async () => {
  const few = await run('new_peer', 'tun0', '1');
  assert.is(few.status, 2);
  assertOneLine(
    few.err,
    'ovpn-cli: new_peer: wrong arguments: not enough positional arguments; usage: ovpn-cli new_peer <iface> <peer_id> <tx_id|none> <lport> <raddr> <rport> [vpnaddr]',
  );
  const many = await run('del_peer', 'tun0', '1', '2');
  assert.is(many.status, 2);
  assert.match(many.err, /^ovpn-cli: del_peer: wrong arguments: extraneous positional argument \("2"\); usage: ovpn-cli del_peer <iface> <peer_id>\n$/);
  const opt = await run('get_peer', 'tun0', '--jsn');
  assert.match(opt.err, /^ovpn-cli: get_peer: wrong arguments: unsupported option name \("--jsn"\); usage: /);
});

test('unknown command, no command, help', async () => {
  const r = await run('frobnicate', 'tun0');
  assert.is(r.status, 2);
  assertOneLine(r.err, 'ovpn-cli: unknown command "frobnicate"; see "ovpn-cli --help"');
  const none = await run();
  assert.is(none.status, 2);
  assert.match(none.err, /^usage: ovpn-cli/);
  const help = await run('--help');
  assert.is(help.status, 0);
  assert.match(help.out, /new_multi_peer <iface> <lport> <SYMM\|ASYMM> <peers_file> \[mark\]/);
  const cmdHelp = await run('new_key', '--help');
  assert.is(cmdHelp.status, 0);
  assert.ok(cmdHelp.out.startsWith('usage: ovpn-cli new_key <iface> <peer_id> <slot 1|2> <key_id> <aes|chachapoly|none> <key_dir 0|1> <key_file>\n'), cmdHelp.out);
});

test('every command has a usage from its definition, with examples', async () => {
  const help = await run('--help');
  const words = [...help.out.matchAll(/^ {2}([a-z_]+) /gm)].map((m) => m[1]!);
  assert.equal(words.length, 15, help.out);
  for (const word of words) {
    const r = await run(word, '--help');
    assert.is(r.status, 0, word);
    assert.ok(r.out.startsWith(`usage: ovpn-cli ${word}`), r.out);
    assert.match(r.out, /\nexamples:\n {2}.+:\n {4}ovpn-cli /, word);
    // the overview's line for the command is the help's usage line
    assert.ok(help.out.includes(`  ${r.out.split('\n')[0]!.slice('usage: ovpn-cli '.length)}\n`), word);
  }
});

test('TCP commands check their arguments before touching anything', async () => {
  let r = await run('connect', '--foreground', 'tun0', '1', 'none', '10.0.0.1', '0');
  assert.is(r.status, 2);
  assertOneLine(r.err, 'ovpn-cli: connect: invalid remote port "0": expected 1..65535');
  r = await run('connect', '--foreground', 'tun0', '1', 'x', '10.0.0.1', '1');
  assert.is(r.status, 2);
  assertOneLine(r.err, 'ovpn-cli: connect: invalid tx id "x": expected 0..16777215 or "none"');
  r = await run('listen', '--foreground', 'tun0', '1', 'SYMM', '/nonexistent/peers', 'ip6');
  assert.is(r.status, 2);
  assertOneLine(r.err, 'ovpn-cli: listen: invalid [ipv6] "ip6": expected "ipv6" or nothing');
  r = await run('listen', '--foreground', 'tun0', '1', 'SYMM', '/nonexistent/peers');
  assert.is(r.status, 1);
  assertOneLine(r.err, 'ovpn-cli: listen: peers file /nonexistent/peers cannot be read (ENOENT)');
});

test('bad --datapath value is a usage error', async () => {
  const r = await run('--datapath', 'fast', 'get_peer', 'tun0');
  assert.is(r.status, 2);
  assertOneLine(r.err, 'ovpn-cli: get_peer: invalid --datapath "fast": expected auto, kernel, userspace');
});

test('KOVPN_DATAPATH is read from the environment given to main()', async () => {
  const stdout = new Capture();
  const stderr = new Capture();
  const status = await main(['del_iface', 'tun0'], { stdout, stderr, env: { KOVPN_DATAPATH: 'warp' } });
  assert.is(status, 2);
  assertOneLine(stderr.text, 'ovpn-cli: del_iface: invalid KOVPN_DATAPATH="warp": expected auto, kernel, userspace');
});

test('mark on new_multi_peer: checked as a 32-bit decimal before anything is opened', async () => {
  for (const mark of ['4294967296', '0x10', 'abc']) {
    const r = await run('new_multi_peer', 'tun0', '1', 'SYMM', '/nonexistent', mark);
    assert.is(r.status, 2, mark);
    assertOneLine(r.err, `ovpn-cli: new_multi_peer: invalid mark "${mark}": expected 0..4294967295`);
  }
});

test('holder help names --foreground and --pid-file; holder options are accepted', async () => {
  const help = await run('new_peer', '--help');
  assert.is(help.status, 0);
  assert.match(help.out, /^usage: ovpn-cli new_peer <iface> <peer_id>/);
  assert.match(help.out, /--foreground/);
  assert.match(help.out, /--pid-file/);
  const r = await run('new_peer', '--foreground', '--pid-file', '/nonexistent/p', 'tun0', 'abc', 'none', '1', '10.10.1.2', '1');
  assert.is(r.status, 2);
  assertOneLine(r.err, 'ovpn-cli: new_peer: invalid peer id "abc": expected 0..16777215');
});

test.run();
