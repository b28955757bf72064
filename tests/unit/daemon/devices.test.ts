import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { ownerAlias, ownerRunning, parseOwner, processStartTime, startTimeFromStat } from '../../../src/daemon/devices.js';

test('owner alias: pid and start time of this process, parsed back', () => {
  const alias = ownerAlias();
  assert.match(alias, new RegExp(`^kovpn pid=${process.pid} start=\\d+$`));
  const o = parseOwner(alias)!;
  assert.is(o.pid, process.pid);
  assert.is(o.start, processStartTime(process.pid));
  assert.ok(ownerRunning(o));
});

test('a dead owner, or a reused pid with another start time, is not running', () => {
  const child = spawnSync('true');
  assert.is(ownerRunning({ pid: child.pid!, start: '1' }), false, 'exited child');
  assert.is(ownerRunning({ pid: process.pid, start: String(Number(processStartTime(process.pid)) + 1) }), false, 'pid reused');
});

test('aliases that are not kovpn owner marks are not owners', () => {
  for (const a of [undefined, '', 'kovpn', 'kovpn pid=12', 'my vpn pid=1 start=2', 'kovpn pid=1 start=2 extra']) assert.is(parseOwner(a), undefined, String(a));
});

test('process start time: field 22 even when the command name holds spaces and parentheses', () => {
  const rest = Array.from({ length: 30 }, (_, i) => String(i + 3)).join(' ');
  assert.is(startTimeFromStat(`42 (a b) (c)) ${rest}`), '22');
  assert.ok(/^\d+$/.test(processStartTime(process.pid)!));
  assert.is(processStartTime(0x3fffffff), undefined);
});

test.run();
