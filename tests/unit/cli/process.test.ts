/**
 * bin/ovpn-cli as a real process: exit status and exactly one line on stderr, never a
 * stack trace, for argument errors and for failures reported by the data path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/tests/unit/cli/process.test.js -> <repo>/bin/ovpn-cli
const BIN = fileURLToPath(new URL('../../../../bin/ovpn-cli', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

test('argument error: exit 2, one line, no stack', () => {
  const r = run(['new_peer', 'tun0', 'abc', 'none', '1', '10.10.1.2', '1']);
  assert.is(r.status, 2);
  assert.is(r.stdout, '');
  assert.equal(lines(r.stderr), ['ovpn-cli: new_peer: invalid peer id "abc": expected 0..16777215']);
});

test('data-path failure: exit 1, the choice logged once, then one error line', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'kovpn-cli-test-'));
  try {
    const r = run(['get_peer', 'nosuchdev0'], { KOVPN_DATAPATH: 'userspace', KOVPN_RUN_DIR: runDir });
    assert.is(r.status, 1);
    assert.is(r.stdout, '');
    const err = lines(r.stderr);
    assert.is(err.length, 2, r.stderr);
    assert.is(err[0], 'ovpn-cli: data path: userspace (requested)');
    assert.match(err[1] ?? '', /^ovpn-cli: get_peer: .*nosuchdev0/);
    assert.not.match(r.stderr, /\n\s+at /);
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('detached new_peer whose setup fails: status and the one error line of the child', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'kovpn-cli-test-'));
  try {
    const pidFile = join(runDir, 'holder.pid');
    const r = run(['new_peer', '--pid-file', pidFile, 'nosuchdev0', '1', 'none', '0', '127.0.0.1', '1'], {
      KOVPN_DATAPATH: 'userspace',
      KOVPN_RUN_DIR: runDir,
    });
    assert.is(r.status, 1);
    assert.is(r.stdout, '');
    const err = lines(r.stderr);
    assert.is(err.length, 2, r.stderr);
    assert.is(err[0], 'ovpn-cli: data path: userspace (requested)');
    assert.match(err[1] ?? '', /^ovpn-cli: new_peer: .*nosuchdev0/);
    assert.not.ok(existsSync(pidFile), 'no pid file without a holder');
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('bad KOVPN_DATAPATH: usage error naming the variable', () => {
  const r = run(['del_iface', 'tun0'], { KOVPN_DATAPATH: 'turbo' });
  assert.is(r.status, 2);
  assert.equal(lines(r.stderr), ['ovpn-cli: del_iface: invalid KOVPN_DATAPATH="turbo": expected auto, kernel, userspace']);
});

test.run();
