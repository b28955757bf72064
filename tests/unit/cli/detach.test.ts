import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { READY_FD_ENV, wantsDetach } from '../../../src/cli/ovpn-cli/detach.js';

test('holders detach unless --foreground, --help, or already the detached child', () => {
  const env = {};
  assert.ok(wantsDetach(['new_peer', 'tun0', '1', 'none', '1', '10.0.0.1', '1'], env));
  assert.ok(wantsDetach(['new_multi_peer', '--datapath', 'kernel', 'tun0', '1', 'SYMM', 'peers'], env));
  assert.not.ok(wantsDetach(['new_peer', '--foreground', 'tun0'], env));
  assert.not.ok(wantsDetach(['new_multi_peer', 'tun0', '1', 'SYMM', 'peers', '--foreground'], env));
  assert.not.ok(wantsDetach(['new_peer', '--help'], env));
  assert.not.ok(wantsDetach(['new_peer', '-h'], env));
  assert.not.ok(wantsDetach(['new_peer', 'tun0'], { [READY_FD_ENV]: '3' }));
  assert.ok(wantsDetach(['connect', 'tun1', '1', 'none', '10.0.0.1', '1', 'key'], env));
  assert.ok(wantsDetach(['listen', 'tun0', '1', 'SYMM', 'peers'], env));
  assert.not.ok(wantsDetach(['listen', '--foreground', 'tun0', '1', 'SYMM', 'peers'], env));
  for (const word of ['listen_mcast', 'get_peer', 'new_iface']) {
    assert.not.ok(wantsDetach([word, 'tun0'], env), word);
  }
  assert.not.ok(wantsDetach([], env));
});

test.run();
