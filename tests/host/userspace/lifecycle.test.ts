/**
 * Host tests of the userspace data path: key swap under traffic, keepalive and expiry,
 * replayed packets, transport socket ownership, float, and the kernel-like validation.
 *   node dist/tests/host/userspace/lifecycle.test.js      (root; results to $KOVPN_RESULTS)
 */
import { readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostSuite } from '../../lib/host-suite.js';
import { UserspaceDatapath } from '../../../src/datapath/userspace/index.js';
import { EventLog, Lab, assert, expectError, keyFor, nsExec, p2pTunnel, ping, sleep, waitUntil } from './lib.js';

const lab = new Lab('l');
const IF = 'us-tunl';

async function clean(): Promise<void> {
  for (const n of [lab.a, lab.b]) await n.dp.deleteDevice(IF).catch(() => {});
}

async function drops(dev: unknown): Promise<Record<string, number>> {
  return (dev as { drops(): Promise<Record<string, number>> }).drops();
}

/** First UDP payload of at least `minLen` bytes to `port` seen on `ifname` in `ns`, while `traffic` runs. */
async function capture(ns: string, ifname: string, port: number, traffic: () => Promise<unknown>): Promise<Buffer> {
  const file = `/tmp/us-capture-${process.pid}.pcap`;
  rmSync(file, { force: true });
  const td = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', ifname, '-U', '-n', '-c', '1', '-w', file, `udp dst port ${port} and greater 120`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let ready = false;
  td.stderr!.on('data', (d: Buffer) => {
    if (d.toString().includes('listening')) ready = true;
  });
  for (let i = 0; i < 100 && !ready; i++) await sleep(100);
  const done = new Promise((r) => td.once('exit', r));
  await traffic();
  await Promise.race([done, sleep(5000)]);
  if (td.exitCode === null) td.kill();
  const pcap = readFileSync(file);
  rmSync(file, { force: true });
  // pcap: 24-byte file header, 16-byte record header, Ethernet 14, IPv4 (IHL), UDP 8
  const frame = pcap.subarray(24 + 16);
  const ihl = (frame[14]! & 0x0f) * 4;
  return Buffer.from(frame.subarray(14 + ihl + 8));
}

/** Sends `payload` to host:port from inside `ns` (a throwaway UDP socket). */
async function inject(ns: string, host: string, port: number, payload: Buffer, times: number): Promise<void> {
  const script = `const s=require('dgram').createSocket('udp4');const b=Buffer.from('${payload.toString('hex')}','hex');let n=${times};const go=()=>s.send(b,${port},'${host}',()=>{if(--n>0)go();else s.close();});go();`;
  const r = await nsExec(ns, [process.execPath, '-e', script]);
  assert(r.code === 0, `inject failed: ${r.stderr}`);
}

let eventsA!: EventLog;
let stopA: (() => void) | undefined;
const { test, run: start } = hostSuite('userspace lifecycle', {
  before: async () => {
    await lab.create();
    ({ log: eventsA, stop: stopA } = await EventLog.on(lab.a.dp));
  },
  after: async () => {
    stopA?.();
    await lab.destroy();
  },
});

test('userspace key swap under traffic loses nothing', async () => {
  const t = await p2pTunnel(lab, { ifname: IF, cipher: 'aes-gcm', port: 1500 });
  try {
    const flood = ping(lab.a.ns, '10.77.0.2', { count: 60, interval: 0.05 });
    await sleep(1000);
    // new key id 1 in the secondary slots, then swap: a first, b a bit later
    await t.devA.newKey(keyFor(0, 1, 'chacha20-poly1305', 1, 'secondary', 7));
    await t.devB.newKey(keyFor(1, 1, 'chacha20-poly1305', 1, 'secondary', 7));
    await t.devA.swapKeys(1);
    await sleep(200);
    await t.devB.swapKeys(1);
    const got = await flood;
    assert(got === 60, `${got}/60 replies across the swap`);
    const k = await t.devA.getKey(1, 'primary');
    assert(k.keyId === 1 && k.cipher === 'chacha20-poly1305', `primary after swap: ${JSON.stringify(k)}`);
    const old = await t.devA.getKey(1, 'secondary');
    assert(old.keyId === 0 && old.cipher === 'aes-gcm', `secondary after swap: ${JSON.stringify(old)}`);
    await t.devA.delKey(1, 'secondary');
    await expectError(t.devA.getKey(1, 'secondary'), 'ENOENT', /KEYCONF.SLOT: no key in this SLOT/);
    assert((await ping(lab.a.ns, '10.77.0.2', { count: 2 })) === 2, 'traffic after deleting the old key');
  } finally {
    await clean();
  }
});

test('userspace keepalive holds an idle tunnel; silence expires the peer', async () => {
  const t = await p2pTunnel(lab, { ifname: IF, cipher: 'aes-gcm', port: 1501 });
  try {
    // no IPv6 on the tunnel: the kernel's router solicitations and MLD reports would be
    // real (if rare) data in the idle window below
    for (const n of [lab.a, lab.b]) await nsExec(n.ns, ['sysctl', '-qw', `net.ipv6.conf.${IF}.disable_ipv6=1`]);
    await t.devA.setPeer({ id: 1, keepaliveInterval: 1, keepaliveTimeout: 3 });
    await t.devB.setPeer({ id: 1, keepaliveInterval: 1, keepaliveTimeout: 3 });
    await sleep(4500);
    const a = await t.devA.getPeer(1);
    assert(a.keepaliveInterval === 1 && a.keepaliveTimeout === 3, `keepalive reported ${a.keepaliveInterval}/${a.keepaliveTimeout}`);
    assert(a.linkRxPackets >= 3n, `only ${a.linkRxPackets} keepalives received in 4.5 s`);
    assert((await t.devB.getPeer(1)).linkRxPackets >= 3n, 'b received no keepalives');
    // keepalives are consumed, not delivered: nothing reached the TUN device from them
    const before = a.vpnRxPackets;
    await sleep(1500);
    assert((await t.devA.getPeer(1)).vpnRxPackets === before, 'keepalives were delivered as data');
    // b goes silent: a expires it
    await lab.b.dp.deleteDevice(IF);
    const ev = await eventsA.waitFor((e) => e.type === 'peer-deleted' && e.peerId === 1 && e.reason === 'expired', 6000, 'expiry of peer 1');
    assert(ev.type === 'peer-deleted' && ev.ifindex === t.devA.ifindex, `event ${JSON.stringify(ev)}`);
    await expectError(t.devA.getPeer(1), 'ENOENT', /PEER.ID: no peer with this ID on the interface/);
  } finally {
    await clean();
  }
});

test('userspace replayed packets are dropped', async () => {
  const t = await p2pTunnel(lab, { ifname: IF, cipher: 'aes-gcm', port: 1502 });
  try {
    // no IPv6 on the tunnel: b's router solicitations (one 1-4 s after the device is up, more
    // later) are real data that a delivers, and would count as "replays delivered" below
    for (const n of [lab.a, lab.b]) await nsExec(n.ns, ['sysctl', '-qw', `net.ipv6.conf.${IF}.disable_ipv6=1`]);
    const pkt = await capture(lab.a.ns, `us-lva`, 1502, () => ping(lab.b.ns, '10.77.0.1', { count: 3, size: 200 }));
    assert(pkt[0] === 0x48 && pkt.length > 200, `captured ${pkt.length} bytes starting ${pkt[0]}`);
    const before = await t.devA.getPeer(1);
    const d0 = await drops(t.devA);
    await inject(lab.b.ns, lab.a.underlay4, 1502, pkt, 3);
    // each copy is either dropped as a replay or delivered: once 3 replay drops are counted,
    // all three have been handled
    let d1 = d0;
    await waitUntil(async () => (d1 = await drops(t.devA)).replay! - d0.replay! >= 3, 20_000, '3 replay drops', () => `replay drops ${d0.replay} -> ${d1.replay}`);
    const after = await t.devA.getPeer(1);
    assert(after.vpnRxPackets === before.vpnRxPackets, `replay delivered: ${before.vpnRxPackets} -> ${after.vpnRxPackets}`);
    assert(d1.replay! - d0.replay! === 3, `replay drops ${d0.replay} -> ${d1.replay}`);
    assert(after.remote?.port === 1502, `replay from another port floated the peer to ${after.remote?.port}`);
  } finally {
    await clean();
  }
});

test('userspace closing a transport socket deletes its peers (transport-disconnect)', async () => {
  const t = await p2pTunnel(lab, { ifname: IF, cipher: 'aes-gcm', port: 1503 });
  try {
    await t.sockA.close();
    await eventsA.waitFor((e) => e.type === 'peer-deleted' && e.reason === 'transport-disconnect', 3000, 'transport-disconnect');
    await expectError(t.devA.getPeer(1), 'ENOENT', /PEER.ID: no peer with this ID on the interface/);
    // a second process (connection) owns its socket: its exit deletes its peers
    const other = await UserspaceDatapath.open({ socketPath: lab.a.socketPath, spawn: false });
    const dev = await other.openDevice(IF);
    const sock = await other.openUdpSocket({ address: lab.a.underlay4, port: 1504 });
    await dev.newPeer({ id: 9, socket: sock, remote: { address: lab.b.underlay4, port: 1503 } });
    assert((await t.devA.dumpPeers()).some((p) => p.id === 9), 'peer 9 visible to the first connection');
    await other.close();
    await eventsA.waitFor((e) => e.type === 'peer-deleted' && e.peerId === 9 && e.reason === 'transport-disconnect', 3000, 'peer 9 deletion');
    assert((await t.devA.dumpPeers()).length === 0, 'peers left after the owner closed');
  } finally {
    await clean();
  }
});

test('userspace float: a new source address is taken only after authentication', async () => {
  const t = await p2pTunnel(lab, { ifname: IF, cipher: 'aes-gcm', port: 1505 });
  try {
    // b re-creates its side on another port with fresh keys; a keeps the old remote
    await lab.b.dp.deleteDevice(IF);
    await t.sockB.close();
    const devB = await lab.b.dp.createDevice(IF, 'p2p');
    // no IPv6 on b's new device: its router solicitations and MLD reports, sent under the new
    // key from port 1506, are authenticated and would float the peer before the check below
    await nsExec(lab.b.ns, ['sysctl', '-qw', `net.ipv6.conf.${IF}.disable_ipv6=1`]);
    await nsExec(lab.b.ns, ['ip', 'addr', 'add', '10.77.0.2/24', 'dev', IF]);
    const sockB = await lab.b.dp.openUdpSocket({ address: lab.b.underlay4, port: 1506 });
    await devB.newPeer({ id: 1, socket: sockB, remote: { address: lab.a.underlay4, port: 1505 } });
    await devB.newKey(keyFor(1, 1, 'aes-gcm', 2, 'primary', 3));
    await t.devA.newKey(keyFor(0, 1, 'aes-gcm', 2, 'primary', 3));
    // garbage from yet another port does not move the peer
    const total = (d: Record<string, number>) => Object.values(d).reduce((x, y) => x + y, 0);
    const d0 = total(await drops(t.devA));
    await inject(lab.b.ns, lab.a.underlay4, 1505, Buffer.concat([Buffer.from([0x4a, 0, 0, 1, 0, 0, 0, 9]), Buffer.alloc(60, 7)]), 2);
    let d1 = d0;
    await waitUntil(async () => (d1 = total(await drops(t.devA))) - d0 >= 2, 20_000, 'the 2 garbage packets dropped', () => `${d1 - d0} drops`);
    const stay = (await t.devA.getPeer(1)).remote?.port;
    assert(stay === 1505, `the peer moved to port ${stay} before b's first authenticated packet (b sends from 1506)`);
    const got = await ping(lab.b.ns, '10.77.0.1', { count: 3 });
    assert(got === 3, `${got}/3 replies after the float`);
    const ev = await eventsA.waitFor((e) => e.type === 'peer-float' && e.peerId === 1, 2000, 'peer-float');
    assert(ev.type === 'peer-float' && ev.remote.port === 1506 && ev.remote.address === lab.b.underlay4, `float event ${JSON.stringify(ev)}`);
    assert((await t.devA.getPeer(1)).remote?.port === 1506, 'getPeer remote after float');
  } finally {
    await clean();
  }
});

test('userspace validation matches the kernel rules', async () => {
  const dp = lab.a.dp;
  const p2p = await dp.createDevice(IF, 'p2p');
  const mp = await dp.createDevice('us-mpl', 'mp');
  const sock = await dp.openUdpSocket({ address: '0.0.0.0', port: 1507 });
  const sock6 = await dp.openUdpSocket({ address: '::', port: 1507 });
  try {
    const remote = { address: '192.168.77.2', port: 1 };
    await expectError(dp.createDevice(IF, 'p2p'), 'EEXIST', /device us-tunl already exists/);
    await expectError(dp.createDevice('lo', 'p2p'), 'EEXIST', /already exists/);
    await expectError(dp.createDevice('a/b', 'p2p'), 'EINVAL', /not a valid interface name/);
    await expectError(dp.openDevice('us-none'), 'ENODEV', /no ovpn device us-none/);
    await expectError(p2p.newPeer({ id: 0x1000000, socket: sock, remote }), 'ERANGE', /PEER.ID: integer out of range/);
    await expectError(p2p.newPeer({ id: 1, txId: -1, socket: sock, remote }), 'ERANGE', /PEER.TX_ID/);
    await expectError(p2p.newPeer({ id: 1, remote }), 'EINVAL', /PEER.SOCKET: missing PEER SOCKET/);
    await expectError(p2p.newPeer({ id: 1, socket: sock, remote: { address: '192.168.77.2', port: 0 } }), 'ERANGE', /PEER.REMOTE_PORT: integer out of range/);
    await expectError(p2p.newPeer({ id: 1, socket: sock6, remote }), 'EAFNOSUPPORT', /an IPv4 remote needs an IPv4 or dual-stack IPv6 SOCKET/);
    await expectError(p2p.newPeer({ id: 1, socket: sock, remote, keepaliveInterval: 1 }), 'EINVAL', /KEEPALIVE_INTERVAL and KEEPALIVE_TIMEOUT go together/);
    await expectError(mp.newPeer({ id: 1, socket: sock, remote }), 'EINVAL', /a multi-peer device needs VPN_IPV4 or VPN_IPV6 for each peer/);
    for (const [field, addrs] of [
      ['vpnIpv4', ['0.0.0.0', '127.0.0.5', '224.0.0.1', '255.255.255.255']],
      ['vpnIpv6', ['::', '::1', 'ff02::1', '::ffff:10.0.0.1']],
    ] as const) {
      const attr = field === 'vpnIpv4' ? 'VPN_IPV4' : 'VPN_IPV6';
      for (const addr of addrs) {
        await expectError(mp.newPeer({ id: 1, socket: sock, remote, [field]: addr }), 'EINVAL', new RegExp(`PEER.${attr}: ${attr} must be a unicast address`));
      }
    }
    await mp.newPeer({ id: 1, socket: sock, remote, vpnIpv4: '10.9.0.2' });
    await expectError(mp.newPeer({ id: 1, socket: sock, remote, vpnIpv4: '10.9.0.3' }), 'EEXIST', /PEER.ID: peer ID already exists on this device/);
    await expectError(mp.newPeer({ id: 2, socket: sock, remote, vpnIpv4: '10.9.0.2' }), 'EEXIST', /PEER.VPN_IPV4: VPN_IPV4 already belongs to another peer of this device/);
    await mp.newPeer({ id: 6, socket: sock, remote, vpnIpv4: '10.9.0.6' });
    await expectError(mp.setPeer({ id: 6, vpnIpv4: '10.9.0.2' }), 'EADDRINUSE', /PEER.VPN_IPV4: VPN_IPV4 already belongs to another peer of this device/);
    await mp.delPeer(6);
    await expectError(p2p.newPeer({ id: 3, socket: sock, remote }), 'EBUSY', /already used by device us-mpl/);
    const k = keyFor(0, 1, 'aes-gcm', 0, 'primary', 1);
    await expectError(mp.newKey({ ...k, keyId: 8 }), 'ERANGE', /KEYCONF.KEY_ID: integer out of range/);
    await expectError(mp.newKey({ ...k, cipher: 'none' }), 'EOPNOTSUPP', /CIPHER_ALG none is not supported/);
    await expectError(mp.newKey({ ...k, encrypt: { ...k.encrypt, cipherKey: Buffer.alloc(20) } }), 'EINVAL', /KEYCONF.ENCRYPT_DIR.CIPHER_KEY: CIPHER_KEY for AES-GCM must be 16, 24 or 32 bytes/);
    await expectError(mp.newKey({ ...k, cipher: 'chacha20-poly1305', decrypt: { ...k.decrypt, cipherKey: Buffer.alloc(16) } }), 'EINVAL', /KEYCONF.DECRYPT_DIR.CIPHER_KEY: CIPHER_KEY for ChaCha20-Poly1305 must be 32 bytes/);
    await expectError(mp.newKey({ ...k, decrypt: { ...k.decrypt, nonceTail: Buffer.alloc(4) } }), 'ERANGE', /KEYCONF.DECRYPT_DIR.NONCE_TAIL: binary attribute size out of range/);
    await expectError(mp.newKey({ ...k, peerId: 5 }), 'ENOENT', /KEYCONF.PEER_ID: no peer with this ID on the interface/);
    await expectError(mp.delPeer(5), 'ENOENT', /PEER.ID: no peer with this ID on the interface/);
    // P2P: a second peer replaces the first (reason teardown)
    const s2 = await dp.openUdpSocket({ address: '0.0.0.0', port: 1508 });
    await p2p.newPeer({ id: 4, socket: s2, remote });
    await p2p.newPeer({ id: 5, socket: s2, remote });
    await eventsA.waitFor((e) => e.type === 'peer-deleted' && e.peerId === 4 && e.reason === 'teardown', 2000, 'teardown of peer 4');
    const left = await p2p.dumpPeers();
    assert(left.length === 1 && left[0]!.id === 5, `P2P peers: ${left.map((p) => p.id)}`);
    await p2p.delPeer(5);
    await eventsA.waitFor((e) => e.type === 'peer-deleted' && e.peerId === 5 && e.reason === 'userspace', 2000, 'userspace deletion');
    await s2.close();
  } finally {
    await sock.close();
    await sock6.close();
    await dp.deleteDevice('us-mpl').catch(() => {});
    await clean();
  }
});

start();
