import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectError, tcpCloseText } from '../../../src/cli/ovpn-cli/tcp.js';
import { CliError, formatErrorLine } from '../../../src/cli/common/errors.js';

function errno(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

test('a failed connect names the address and what to check', () => {
  const v4 = { address: '10.10.1.1', port: 1 };
  const v6 = { address: 'fd00::1', port: 1194 };
  const line = (err: unknown) => formatErrorLine('ovpn-cli', 'connect', err);
  const refused = connectError(errno('ECONNREFUSED', 'TCP connect to 10.10.1.1:1: ECONNREFUSED'), v4);
  assert.instance(refused, CliError);
  assert.is(line(refused), 'ovpn-cli: connect: TCP connection to 10.10.1.1:1 refused (ECONNREFUSED): is a listen running there?');
  assert.is(
    line(connectError(errno('ETIMEDOUT', 'x'), v6)),
    'ovpn-cli: connect: TCP connection to [fd00::1]:1194 timed out (ETIMEDOUT): no answer from that address',
  );
  assert.is(
    line(connectError(errno('EHOSTUNREACH', 'x'), v4)),
    'ovpn-cli: connect: TCP connection to 10.10.1.1:1 failed: no route to that address (EHOSTUNREACH)',
  );
  // anything else keeps the data path's own message
  const other = errno('EIO', 'TCP connect to 10.10.1.1:1: connect(TCP): Network is unreachable');
  assert.is(connectError(other, v4), other);
});

test('close reasons read as text', () => {
  assert.is(tcpCloseText('eof'), 'closed by the remote (FIN)');
  assert.is(tcpCloseText('reset', 'ECONNRESET'), 'reset by the remote: ECONNRESET');
  assert.is(tcpCloseText('error', 'EPIPE'), 'failed: EPIPE');
  assert.is(tcpCloseText('local'), 'closed on this side');
});

test.run();
