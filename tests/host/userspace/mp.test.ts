/**
 * Host test of the userspace data path in MP (server) mode: one server namespace with an MP
 * device and one UDP socket, two client namespaces with a P2P device each; the server picks
 * the peer of every packet by its VPN destination address (IPv4 and IPv6).
 *   node dist/tests/host/userspace/mp.test.js     (root; results to $KOVPN_RESULTS)
 */
import { hostSuite } from '../../lib/host-suite.js';
import { Node, assert, keyFor, makeNs, must, ping, run, veth } from './lib.js';

const server = new Node('us-ms', '0.0.0.0', '::');
const clients = [new Node('us-m1', '192.168.81.2', 'fd81::2'), new Node('us-m2', '192.168.82.2', 'fd82::2')];
const SIF = 'us-mps';
const CIF = 'us-mpc';

async function setup(): Promise<void> {
  await makeNs(server.ns);
  for (const [i, c] of clients.entries()) {
    await makeNs(c.ns);
    await veth(
      { ns: server.ns, ifname: `us-m${i + 1}s`, v4: `192.168.8${i + 1}.1`, v6: `fd8${i + 1}::1` },
      { ns: c.ns, ifname: `us-m${i + 1}c`, v4: c.underlay4, v6: c.underlay6 },
    );
  }
  await Promise.all([server.startEngine(), ...clients.map((c) => c.startEngine())]);
}

async function teardown(): Promise<void> {
  await Promise.all([server, ...clients].map((n) => n.stopEngine()));
  for (const n of [server, ...clients]) await run('ip', ['netns', 'del', n.ns]);
}

const { test, run: start } = hostSuite('userspace mp', {
  before: setup,
  after: teardown,
});

test('userspace mp: several peers on one socket, routed by VPN address', async () => {
  const dev = await server.dp.createDevice(SIF, 'mp');
  assert(dev.mode === 'mp' && dev.ifindex > 0, `device ${dev.mode} ${dev.ifindex}`);
  await must('ip', ['-n', server.ns, 'addr', 'add', '10.78.0.1/24', 'dev', SIF]);
  await must('ip', ['-n', server.ns, 'addr', 'add', 'fd00:78::1/64', 'dev', SIF, 'nodad']);
  const sock = await server.dp.openUdpSocket({ address: '0.0.0.0', port: 1194 });
  for (const [i, c] of clients.entries()) {
    const id = i + 1;
    const vpn4 = `10.78.0.${id + 1}`;
    const vpn6 = `fd00:78::${id + 1}`;
    await dev.newPeer({ id, socket: sock, remote: { address: c.underlay4, port: 1194 }, vpnIpv4: vpn4, vpnIpv6: vpn6 });
    await dev.newKey(keyFor(0, id, i === 0 ? 'aes-gcm' : 'chacha20-poly1305', 0, 'primary', 10 + id));
    const cdev = await c.dp.createDevice(CIF, 'p2p');
    const csock = await c.dp.openUdpSocket({ address: c.underlay4, port: 1194 });
    await cdev.newPeer({ id, socket: csock, remote: { address: `192.168.8${id}.1`, port: 1194 } });
    await cdev.newKey(keyFor(1, id, i === 0 ? 'aes-gcm' : 'chacha20-poly1305', 0, 'primary', 10 + id));
    await must('ip', ['-n', c.ns, 'addr', 'add', `${vpn4}/24`, 'dev', CIF]);
    await must('ip', ['-n', c.ns, 'addr', 'add', `${vpn6}/64`, 'dev', CIF, 'nodad']);
  }
  // clients reach the server; the server reaches each client, IPv4 and IPv6
  for (const [i, c] of clients.entries()) {
    const got = await ping(c.ns, '10.78.0.1', { count: 3 });
    assert(got === 3, `client ${i + 1} -> server: ${got}/3`);
  }
  const before = await dev.dumpPeers();
  const to2 = await ping(server.ns, '10.78.0.3', { count: 4 });
  assert(to2 === 4, `server -> client 2: ${to2}/4`);
  const to2v6 = await ping(server.ns, 'fd00:78::3', { count: 2 });
  assert(to2v6 === 2, `server -> client 2 over IPv6: ${to2v6}/2`);
  const to1v6 = await ping(server.ns, 'fd00:78::2', { count: 2 });
  assert(to1v6 === 2, `server -> client 1 over IPv6: ${to1v6}/2`);
  const after = await dev.dumpPeers();
  const delta = (id: number) =>
    after.find((p) => p.id === id)!.vpnTxPackets - before.find((p) => p.id === id)!.vpnTxPackets;
  assert(delta(2) >= 6n, `peer 2 sent ${delta(2)} packets, expected >= 6`);
  assert(delta(1) >= 2n && delta(1) < 6n, `peer 1 sent ${delta(1)} packets: traffic for client 2 went to it?`);
  // a LAN behind client 1, routed via its VPN address: the server picks the peer by the route's next hop
  await must('ip', ['-n', clients[0]!.ns, 'addr', 'add', '10.212.0.1/32', 'dev', 'lo']);
  await must('ip', ['-n', server.ns, 'route', 'add', '10.212.0.0/24', 'via', '10.78.0.2', 'dev', SIF]);
  await must('ip', ['-n', clients[1]!.ns, 'addr', 'add', 'fd00:212::1/128', 'dev', 'lo']);
  await must('ip', ['-n', server.ns, 'route', 'add', 'fd00:212::/64', 'via', 'fd00:78::3', 'dev', SIF]);
  const lan4 = await ping(server.ns, '10.212.0.1', { count: 3 });
  assert(lan4 === 3, `LAN behind client 1 via 10.78.0.2: ${lan4}/3`);
  const lan6 = await ping(server.ns, 'fd00:212::1', { count: 3 });
  assert(lan6 === 3, `IPv6 LAN behind client 2 via fd00:78::3: ${lan6}/3`);
  // the route moves to client 2 (which lacks the address): the cached next hop must follow
  await must('ip', ['-n', server.ns, 'route', 'replace', '10.212.0.0/24', 'via', '10.78.0.3', 'dev', SIF]);
  const p2before = (await dev.getPeer(2)).vpnTxPackets;
  await ping(server.ns, '10.212.0.1', { count: 2 });
  const p2after = (await dev.getPeer(2)).vpnTxPackets;
  assert(p2after - p2before >= 2n, `after the route change peer 2 sent ${p2after - p2before} packets`);
  // a VPN address nobody has is dropped (counted), not sent to some peer
  const drops0 = await dev.drops();
  assert((await ping(server.ns, '10.78.0.99', { count: 2 })) === 0, 'reply from a peer nobody configured');
  const drops1 = await dev.drops();
  assert(drops1.noPeer! - drops0.noPeer! >= 2, `noPeer drops ${drops0.noPeer} -> ${drops1.noPeer}`);
  // both peers report their addresses
  const p2 = await dev.getPeer(2);
  assert(p2.vpnIpv4 === '10.78.0.3' && p2.vpnIpv6 === 'fd00:78::3', `peer 2 VPN ${p2.vpnIpv4} ${p2.vpnIpv6}`);
  assert(p2.remote?.address === '192.168.82.2' && p2.remote.port === 1194, `peer 2 remote ${JSON.stringify(p2.remote)}`);
  // deleting one peer leaves the other working
  await dev.delPeer(1);
  assert((await ping(server.ns, '10.78.0.3', { count: 2 })) === 2, 'client 2 after deleting peer 1');
  assert((await ping(server.ns, '10.78.0.2', { count: 1 })) === 0, 'client 1 still reachable after its deletion');
});

start();
