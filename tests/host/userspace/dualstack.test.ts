/**
 * Host tests of the userspace data path against mainline's rules: an IPv4 peer on a
 * dual-stack IPv6 socket (traffic both ways, float IPv6 -> IPv4, v4-mapped remotes, an
 * IPv6-only socket refusing IPv4), a P2P device refusing VPN addresses, and the P2P
 * carrier (none without a peer). Run as root:
 *   node dist/tests/host/userspace/dualstack.test.js    (results: $KOVPN_RESULTS)
 */
import { hostSuite } from '../../lib/host-suite.js';
import { Lab, assert, expectError, keyFor, must, nsExec, ping, sleep } from './lib.js';

const lab = new Lab('d');
const IF = 'us-tund';

/** The flags of `ifname` in `ns` once `want` (NO-CARRIER or LOWER_UP) shows: linkwatch lags, by seconds under load (15 s deadline). */
async function linkHas(ns: string, ifname: string, want: string): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    const r = await nsExec(ns, ['ip', 'link', 'show', ifname]);
    if (r.stdout.includes(want)) return true;
    await sleep(100);
  }
  return false;
}

const { a, b } = lab;
const { test, run: start } = hostSuite('userspace dual-stack', {
  before: () => lab.create(),
  after: () => lab.destroy(),
});

test('userspace dual-stack socket: IPv4 peer, both ways, float IPv6 -> IPv4, v4-mapped remote', async () => {
  const devA = await a.dp.createDevice(IF, 'p2p');
  const devB = await b.dp.createDevice(IF, 'p2p');
  try {
    assert(await linkHas(a.ns, IF, 'NO-CARRIER'), 'a P2P device without a peer has a carrier');
    const sockA = await a.dp.openUdpSocket({ address: '::', port: 1194, v6only: false });
    const sockB = await b.dp.openUdpSocket({ address: b.underlay4, port: 1194 });
    // a starts with b's IPv6 address; b's IPv4 packets make it float to IPv4
    await devA.newPeer({ id: 1, socket: sockA, remote: { address: b.underlay6, port: 1194 } });
    await devB.newPeer({ id: 1, socket: sockB, remote: { address: a.underlay4, port: 1194 } });
    assert(await linkHas(a.ns, IF, 'LOWER_UP'), 'no carrier with a peer');
    await devA.newKey(keyFor(0, 1, 'aes-gcm', 0, 'primary', 3));
    await devB.newKey(keyFor(1, 1, 'aes-gcm', 0, 'primary', 3));
    for (const [n, self] of [[a, '1'], [b, '2']] as const) {
      await must('ip', ['netns', 'exec', n.ns, 'sysctl', '-qw', `net.ipv6.conf.${IF}.disable_ipv6=1`]);
      await must('ip', ['-n', n.ns, 'addr', 'add', `10.76.0.${self}/24`, 'dev', IF]);
    }
    const fromB = await ping(b.ns, '10.76.0.1', { count: 3 });
    assert(fromB === 3, `IPv4 peer -> dual-stack side: ${fromB}/3 replies`);
    const pa = await devA.getPeer(1);
    assert(pa.remote?.address === b.underlay4 && pa.remote.port === 1194, `a did not float to IPv4: ${JSON.stringify(pa.remote)}`);
    const fromA = await ping(a.ns, '10.76.0.2', { count: 3 });
    assert(fromA === 3, `dual-stack side -> IPv4 peer: ${fromA}/3 replies`);
    // b still has a's port 1194: the IPv4 packets left from the dual socket's port
    const pb = await devB.getPeer(1);
    assert(pb.remote?.address === a.underlay4 && pb.remote.port === 1194, `b's remote moved: ${JSON.stringify(pb.remote)}`);
    // a v4-mapped remote is the IPv4 remote
    await devA.setPeer({ id: 1, remote: { address: `::ffff:${b.underlay4}`, port: 1194 } });
    const pm = await devA.getPeer(1);
    assert(pm.remote?.address === b.underlay4, `v4-mapped remote kept as ${JSON.stringify(pm.remote)}`);
    const again = await ping(a.ns, '10.76.0.2', { count: 2 });
    assert(again === 2, `after a v4-mapped SET_PEER: ${again}/2 replies`);
    const st = await devA.getPeer(1);
    assert(st.linkRxPackets >= 5n && st.linkTxPackets >= 7n, `counters rx ${st.linkRxPackets} tx ${st.linkTxPackets}`);
    // an IPv6-only socket cannot reach IPv4, written either way
    const only6 = await a.dp.openUdpSocket({ address: '::', port: 1195 });
    await expectError(devA.newPeer({ id: 2, socket: only6, remote: { address: b.underlay4, port: 1194 } }), 'EAFNOSUPPORT', /an IPv4 remote needs an IPv4 or dual-stack IPv6 SOCKET/);
    await expectError(devA.newPeer({ id: 2, socket: only6, remote: { address: `::ffff:${b.underlay4}`, port: 1194 } }), 'EAFNOSUPPORT', /dual-stack IPv6 SOCKET/);
    const four = await a.dp.openUdpSocket({ address: a.underlay4, port: 1196 });
    await expectError(devA.newPeer({ id: 2, socket: four, remote: { address: b.underlay6, port: 1194 } }), 'EAFNOSUPPORT', /REMOTE_IPV6 needs an IPv6 SOCKET/);
    await expectError(
      devA.setPeer({ id: 1, remote: { address: `::ffff:${b.underlay4}`, port: 1194 }, local: { address: a.underlay6 } }),
      'EINVAL',
      /different families/,
    );
    // the refused requests left the peer alone
    const last = await ping(b.ns, '10.76.0.1', { count: 2 });
    assert(last === 2, `after refused requests: ${last}/2 replies`);
    await devA.delPeer(1);
    assert(await linkHas(a.ns, IF, 'NO-CARRIER'), 'carrier stayed after the last peer went');
  } finally {
    await a.dp.deleteDevice(IF).catch(() => {});
    await b.dp.deleteDevice(IF).catch(() => {});
  }
});

test('userspace P2P device refuses VPN_IPV4/VPN_IPV6 (EINVAL, as mainline)', async () => {
  const dev = await a.dp.createDevice(IF, 'p2p');
  try {
    const sock = await a.dp.openUdpSocket({ address: a.underlay4, port: 1197 });
    const remote = { address: b.underlay4, port: 1 };
    await expectError(dev.newPeer({ id: 1, socket: sock, remote, vpnIpv4: '10.76.0.2' }), 'EINVAL', /PEER.VPN_IPV4: unexpected VPN IP in P2P mode/);
    await expectError(dev.newPeer({ id: 1, socket: sock, remote, vpnIpv6: 'fd76::2' }), 'EINVAL', /PEER.VPN_IPV6: unexpected VPN IP in P2P mode/);
    await dev.newPeer({ id: 1, socket: sock, remote });
    await expectError(dev.setPeer({ id: 1, vpnIpv4: '10.76.0.2' }), 'EINVAL', /unexpected VPN IP in P2P mode/);
    const p = await dev.getPeer(1);
    assert(p.vpnIpv4 === undefined && p.vpnIpv6 === undefined, `P2P peer has VPN addresses ${p.vpnIpv4} ${p.vpnIpv6}`);
  } finally {
    await a.dp.deleteDevice(IF).catch(() => {});
  }
});

start();
