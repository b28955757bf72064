import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ArgumentError,
  CliError,
  EXIT_FAILURE,
  EXIT_USAGE,
  errorText,
  exitCodeOf,
  formatErrorLine,
} from '../../../src/cli/common/errors.js';

test('one line, prefixed with program and command', () => {
  const line = formatErrorLine('ovpn-cli', 'new_peer', new ArgumentError('invalid peer id "abc": expected 0..16777215'));
  assert.is(line, 'ovpn-cli: new_peer: invalid peer id "abc": expected 0..16777215');
  assert.is(formatErrorLine('kovpn', undefined, new Error('boom')), 'kovpn: boom');
});

test('multi-line messages collapse to one line, no stack', () => {
  const err = new Error('first\n  second\nthird');
  const text = errorText(err);
  assert.is(text, 'first; second; third');
  assert.not.match(text, /\n/);
  assert.not.match(text, /at /);
});

test('errno code appended when the message lacks it', () => {
  const err = Object.assign(new Error('bind failed'), { code: 'EADDRINUSE' });
  assert.is(errorText(err), 'bind failed (EADDRINUSE)');
  const err2 = Object.assign(new Error('bind: EADDRINUSE'), { code: 'EADDRINUSE' });
  assert.is(errorText(err2), 'bind: EADDRINUSE');
  assert.is(errorText('plain string'), 'plain string');
});

test('exit codes: usage 2, failures 1, foreign errors 1', () => {
  assert.is(exitCodeOf(new ArgumentError('x')), EXIT_USAGE);
  assert.is(exitCodeOf(new CliError('x')), EXIT_FAILURE);
  assert.is(exitCodeOf(new CliError('x', 5)), 5);
  assert.is(exitCodeOf(new TypeError('x')), EXIT_FAILURE);
  assert.is(EXIT_USAGE, 2);
  assert.is(EXIT_FAILURE, 1);
});

test.run();
