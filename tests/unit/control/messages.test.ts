import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clientPeerInfo, optionsString } from '../../../src/control/messages.js';
import { parsePeerInfo } from '../../../src/control/keymethod2.js';

test('client peer info: the variables stock OpenVPN 2.6 sends, in its order', () => {
  const text = clientPeerInfo({ ciphers: ['AES-256-GCM', 'CHACHA20-POLY1305'] });
  const names = text.split('\n').filter(Boolean).map((l) => l.split('=', 1)[0]);
  // push_peer_info(): IV_VER, IV_PLAT, IV_TCPNL, then IV_NCP, IV_CIPHERS, IV_PROTO; kovpn adds IV_GUI_VER.
  assert.equal(names, ['IV_VER', 'IV_PLAT', 'IV_TCPNL', 'IV_NCP', 'IV_CIPHERS', 'IV_PROTO', 'IV_GUI_VER']);
  const info = parsePeerInfo(text);
  assert.is(info.get('IV_TCPNL'), '1');
  assert.is(info.get('IV_CIPHERS'), 'AES-256-GCM:CHACHA20-POLY1305');
});

test('options string names the TCP role as OpenVPN does', () => {
  assert.match(optionsString('client', 'AES-256-GCM', 'tcp'), /,proto TCPv4_CLIENT,/);
  assert.match(optionsString('server', 'AES-256-GCM', 'tcp'), /,proto TCPv4_SERVER,/);
  assert.match(optionsString('client', 'AES-128-GCM'), /,proto UDPv4,.*keysize 128/);
});

test.run();
