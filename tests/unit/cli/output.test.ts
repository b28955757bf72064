import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDrops, formatEndpoint, formatEvent, formatKey, formatPeer, toJsonLine } from '../../../src/cli/common/output.js';
import { statusText } from '../../../src/daemon/status.js';
import { dropsFromEthtool } from '../../../src/datapath/kernel.js';
import type { PeerInfo } from '../../../src/datapath/types.js';

const peer: PeerInfo = {
  id: 1,
  remote: { address: '10.10.1.2', port: 1194 },
  vpnIpv4: '5.5.5.2',
  keepaliveInterval: 10,
  keepaliveTimeout: 60,
  vpnRxBytes: 840n,
  vpnTxBytes: 2n ** 60n,
  vpnRxPackets: 10n,
  vpnTxPackets: 11n,
  linkRxBytes: 1000n,
  linkTxBytes: 1100n,
  linkRxPackets: 10n,
  linkTxPackets: 11n,
};

test('JSON: safe counters as numbers, huge ones as strings', () => {
  const obj = JSON.parse(toJsonLine(peer)) as Record<string, unknown>;
  assert.is(obj.vpnRxBytes, 840);
  assert.is(obj.vpnTxBytes, '1152921504606846976');
  assert.equal(obj.remote, { address: '10.10.1.2', port: 1194 });
  assert.not.match(toJsonLine(peer), /\n/);
});

test('endpoints: IPv6 bracketed with scope', () => {
  assert.is(formatEndpoint({ address: '10.0.0.1', port: 1 }), '10.0.0.1:1');
  assert.is(formatEndpoint({ address: 'fe80::1', port: 1194, scopeId: 3 }), '[fe80::1%3]:1194');
  assert.is(formatEndpoint({ address: 'fd00::1' }), '[fd00::1]');
});

test('human output of peer, key and events', () => {
  const text = formatPeer(peer);
  assert.match(text, /^\* Peer 1\n/);
  assert.match(text, /\tRemote: 10\.10\.1\.2:1194\n/);
  assert.match(text, /\tVPN IPv4: 5\.5\.5\.2\n/);
  assert.match(text, /\tKeepalive interval: 10 s, timeout: 60 s\n/);
  assert.match(text, /\tVPN RX: 10 packets, 840 bytes\n/);
  assert.is(
    formatKey({ peerId: 3, slot: 'secondary', keyId: 2, cipher: 'chacha20-poly1305' }),
    '* Key of peer 3, secondary slot\n\tKey id: 2\n\tCipher: chacha20-poly1305',
  );
  assert.is(
    formatEvent({ type: 'peer-deleted', ifindex: 4, peerId: 9, reason: 'expired' }),
    'peer-deleted ifindex 4 peer 9 reason expired',
  );
  assert.is(
    formatEvent({ type: 'peer-float', ifindex: 4, peerId: 9, remote: { address: 'fd00::9', port: 5 } }),
    'peer-float ifindex 4 peer 9 remote [fd00::9]:5',
  );
});

test('drop counters: ethtool names to reasons, text of get_drops and kovpn status', () => {
  const drops = dropsFromEthtool(new Map([['drop_no_peer', 3n], ['drop_rx_queue', 0n], ['drop_internal', 1n], ['rx_other', 9n]]));
  assert.equal(drops, { noPeer: 3, rxQueue: 0, internal: 1 });
  assert.is(formatDrops('tun0', drops), '* Drops of tun0\n\tnoPeer: 3\n\trxQueue: 0\n\tinternal: 1');
  assert.match(formatDrops('tun0', {}), /no per-reason drop counters/);
  const text = statusText({ mode: 'client', device: 'tun0', datapath: 'kernel', state: 'connected', peers: [], drops });
  assert.match(text, /\n {2}drops: noPeer 3, rxQueue 0, internal 1\n$/);
});

test.run();
