/**
 * The kernel data path against a real ovpn driver (this project's module in the qemu
 * guest, or mainline's on a 6.16+ kernel): devices, peers, keys, notifications, the
 * extack errors and bulk peer creation through one pipelined socket.
 *
 *   tests/qemu/run.sh -- node dist/tests/host/netlink/kernel.js
 *   KOVPN_NL_BULK=100000 node dist/tests/host/netlink/kernel.js   (natively, with ovpn)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { failureCount, fail, test } from '../../lib/results.js';
import { enterOwnNetns } from './netns.js';
import { expect, rejects, until } from './expect.js';
import { KernelDatapath, KernelUdpSocket } from '../../../src/datapath/kernel.js';
import { native } from '../../../src/native.js';
import { encodeSockaddr } from '../../../src/util/sockaddr.js';
import type { DeviceEvent, KeyConfig, TcpTransport } from '../../../src/datapath/types.js';
import { Rtnl } from '../../../src/link/rtnl.js';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { GenlSocket, genlHeader } from '../../../src/netlink/genl.js';
import { buildMessage } from '../../../src/netlink/message.js';
import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, GENL_ID_CTRL } from '../../../src/netlink/constants.js';

enterOwnNetns();

function key(peerId: number, slot: 'primary' | 'secondary', keyId: number, cipher: KeyConfig['cipher']): KeyConfig {
  return {
    peerId,
    slot,
    keyId,
    cipher,
    encrypt: { cipherKey: new Uint8Array(32).fill(1 + keyId), nonceTail: new Uint8Array(8).fill(2) },
    decrypt: { cipherKey: new Uint8Array(32).fill(3 + keyId), nonceTail: new Uint8Array(8).fill(4) },
  };
}

function buildLookup(): Buffer {
  return buildMessage(GENL_ID_CTRL, 0, genlHeader(CTRL_CMD_GETFAMILY, 1), (w) => w.string(CTRL_ATTR_FAMILY_NAME, 'nlctrl'));
}

let dp: KernelDatapath;
try {
  dp = await KernelDatapath.open();
} catch (err) {
  fail('netlink kernel: ovpn family resolves', (err as Error).message);
  process.exit(1);
}
const rtnl = new Rtnl();
await rtnl.setUp('lo');
const events: DeviceEvent[] = [];
const unsubscribe = await dp.subscribe((e) => events.push(e));

await test('netlink kernel: create P2P and MP devices, reopen them by name', async () => {
  const p2p = await dp.createDevice('nlovpn0', 'p2p');
  const mp = await dp.createDevice('nlovpn1', 'mp');
  expect(p2p.ifindex > 0 && mp.ifindex > 0 && p2p.ifindex !== mp.ifindex, 'ifindexes');
  const l0 = await rtnl.getLink('nlovpn0');
  const l1 = await rtnl.getLink('nlovpn1');
  expect(l0.kind === 'ovpn' && l0.ovpnMode === 0, `nlovpn0: ${JSON.stringify(l0)}`);
  expect(l1.kind === 'ovpn' && l1.ovpnMode === 1, `nlovpn1: ${JSON.stringify(l1)}`);
  const again = await dp.openDevice('nlovpn1');
  expect(again.mode === 'mp' && again.ifindex === mp.ifindex, `reopened: ${again.mode} ${again.ifindex}`);
});

const sock = (await dp.openUdpSocket({ address: '127.0.0.1', port: 0 })) as KernelUdpSocket;

await test('netlink kernel: PEER_NEW / PEER_GET / dump / PEER_SET', async () => {
  const dev = await dp.openDevice('nlovpn1');
  await dev.newPeer({
    id: 1,
    socket: sock,
    remote: { address: '127.0.0.1', port: 40001 },
    vpnIpv4: '10.8.0.2',
    vpnIpv6: 'fd00:8::2',
    keepaliveInterval: 10,
    keepaliveTimeout: 60,
  });
  const p = await dev.getPeer(1);
  expect(p.id === 1, `id ${p.id}`);
  expect(p.remote?.address === '127.0.0.1' && p.remote.port === 40001, `remote ${JSON.stringify(p.remote)}`);
  expect(p.vpnIpv4 === '10.8.0.2' && p.vpnIpv6 === 'fd00:8::2', `vpn ${p.vpnIpv4} ${p.vpnIpv6}`);
  expect(p.keepaliveInterval === 10 && p.keepaliveTimeout === 60, 'keepalive');
  expect(p.vpnRxBytes === 0n && p.linkTxPackets === 0n, 'counters');
  // Long enough that the silent peer does not expire during the test (slow under TCG).
  await dev.setPeer({ id: 1, keepaliveInterval: 30, keepaliveTimeout: 3600 });
  const q = await dev.getPeer(1);
  expect(q.keepaliveInterval === 30 && q.keepaliveTimeout === 3600, `after set: ${q.keepaliveInterval}/${q.keepaliveTimeout}`);
  const all = await dev.dumpPeers();
  expect(all.length === 1 && all[0]!.id === 1, `dump: ${all.map((x) => x.id).join(',')}`);
});

await test('netlink kernel: control packets still reach userspace from a socket the kernel uses', async () => {
  const addon = native();
  const peerFd = addon.udpOpen(encodeSockaddr({ address: '127.0.0.1', port: 0 }));
  try {
    const got: Buffer[] = [];
    sock.onControlPacket((packet) => got.push(packet));
    const control = Buffer.concat([Buffer.from([0x20]), Buffer.alloc(20, 5)]); // P_CONTROL_V1, key 0
    const data = Buffer.concat([Buffer.from([0x48, 0, 0, 1, 0, 0, 0, 1]), Buffer.alloc(40, 6)]); // DATA_V2 peer 1
    const to = encodeSockaddr(sock.local);
    addon.udpSendBatch(peerFd, [data, control, data], Uint32Array.of(data.length, control.length, data.length), Buffer.concat([to, to, to]), 3);
    await until(() => (got.length > 0 ? true : undefined), 10000, 'control packet', 20);
    await sleep(500);
    expect(got.length === 1 && got[0]!.equals(control), `userspace got ${got.length} packets: ${got.map((g) => g[0]).join(',')}`);
  } finally {
    addon.close(peerFd);
  }
});

await test('netlink kernel: extack errors name the offending attribute', async () => {
  const dev = await dp.openDevice('nlovpn1');
  const e = await rejects(dev.newPeer({ id: 0x1000000, socket: sock, vpnIpv4: '10.8.0.9' }), NetlinkError, (x) => x.code === 'ERANGE', 'peer id out of range');
  console.log(`# ${e.message}`);
  expect(e.attr === 'PEER.ID', `attr ${e.attr} in: ${e.message}`);
  const missing = await rejects(dev.newPeer({ id: 7, vpnIpv4: '10.8.0.7' }), NetlinkError, (x) => x.code === 'EINVAL', 'no socket');
  console.log(`# ${missing.message}`);
  expect(missing.message.startsWith('PEER_NEW: '), missing.message);
  const none = await rejects(dev.getPeer(4242), NetlinkError, (x) => x.code === 'ENOENT', 'unknown peer');
  console.log(`# ${none.message}`);
});

await test('netlink kernel: KEY_NEW / KEY_GET / KEY_SWAP / KEY_DEL', async () => {
  const dev = await dp.openDevice('nlovpn1');
  await dev.newKey(key(1, 'primary', 0, 'aes-gcm'));
  await dev.newKey(key(1, 'secondary', 1, 'chacha20-poly1305'));
  const k0 = await dev.getKey(1, 'primary');
  expect(k0.keyId === 0 && k0.cipher === 'aes-gcm' && k0.slot === 'primary' && k0.peerId === 1, JSON.stringify(k0));
  await dev.swapKeys(1);
  const k1 = await dev.getKey(1, 'primary');
  expect(k1.keyId === 1 && k1.cipher === 'chacha20-poly1305', `after swap: ${JSON.stringify(k1)}`);
  await dev.delKey(1, 'secondary');
  await rejects(dev.getKey(1, 'secondary'), NetlinkError, (x) => x.errno > 0, 'deleted key');
  const bad = await rejects(dev.newKey({ ...key(1, 'primary', 2, 'aes-gcm'), encrypt: { cipherKey: new Uint8Array(32), nonceTail: new Uint8Array(4) } }), NetlinkError, (x) => x.errno > 0, 'short nonce tail');
  console.log(`# ${bad.message}`);
  expect(bad.attr?.startsWith('KEYCONF.ENCRYPT_DIR'), `attr ${bad.attr}`);
});

await test('netlink kernel: PEER_DEL notifies reason userspace', async () => {
  const dev = await dp.openDevice('nlovpn1');
  await dev.delPeer(1);
  const e = await until(() => events.find((x) => x.type === 'peer-deleted' && x.peerId === 1), 5000, 'PEER_DEL_NTF', 20);
  expect(e.type === 'peer-deleted' && e.reason === 'userspace' && e.ifindex === dev.ifindex, JSON.stringify(e));
});

await test('netlink kernel: closing the transport socket deletes its peers (transport-disconnect)', async () => {
  const dev = await dp.openDevice('nlovpn0');
  const own = await dp.openUdpSocket({ address: '127.0.0.1', port: 0 });
  await dev.newPeer({ id: 5, socket: own, remote: { address: '127.0.0.1', port: 40005 } });
  await own.close();
  const e = await until(() => events.find((x) => x.type === 'peer-deleted' && x.peerId === 5), 10000, 'PEER_DEL_NTF after close', 20);
  expect(e.type === 'peer-deleted' && e.reason === 'transport-disconnect', JSON.stringify(e));
  await rejects(dev.getPeer(5), NetlinkError, (x) => x.code === 'ENOENT', 'peer after socket close');
});

const bulk = Number(process.env.KOVPN_NL_BULK ?? (process.env.KOVPN_IN_VM ? 5000 : 100000));
await test(`netlink kernel: ${bulk} peers added through one pipelined socket`, async () => {
  const dev = await dp.openDevice('nlovpn1');
  const start = process.hrtime.bigint();
  const jobs: Promise<void>[] = [];
  let halfAt = 0n;
  for (let i = 0; i < bulk; i++) {
    if (i === bulk >> 1) {
      await Promise.all(jobs);
      halfAt = process.hrtime.bigint();
    }
    const id = 100 + i;
    jobs.push(
      dev.newPeer({
        id,
        socket: sock,
        remote: { address: '127.0.0.1', port: 1024 + (i % 60000) },
        vpnIpv4: `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      }),
    );
  }
  await Promise.all(jobs);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const firstHalf = Number(halfAt - start) / 1e9;
  // Baseline: the same number of nlctrl lookups (no driver work) through one socket.
  const genl = new GenlSocket();
  const baseStart = process.hrtime.bigint();
  await Promise.all(Array.from({ length: bulk }, () => genl.socket.request(
    buildLookup(), { operation: 'CTRL_CMD_GETFAMILY', fixedLen: 4 })));
  const baseSecs = Number(process.hrtime.bigint() - baseStart) / 1e9;
  genl.close();
  console.log(`# baseline: ${bulk} nlctrl lookups in ${baseSecs.toFixed(2)} s: ${Math.round(bulk / baseSecs)}/s`);
  console.log(`# ${bulk} PEER_NEW in ${secs.toFixed(2)} s: ${Math.round(bulk / secs)}/s (first half ${firstHalf.toFixed(2)} s, second ${(secs - firstHalf).toFixed(2)} s)`);
  const peers = await dev.dumpPeers();
  expect(peers.length === bulk, `dump has ${peers.length} peers`);
  expect(new Set(peers.map((p) => p.id)).size === bulk, 'duplicate ids in dump');
  const delStart = process.hrtime.bigint();
  await Promise.all(peers.map((p) => dev.delPeer(p.id)));
  const delSecs = Number(process.hrtime.bigint() - delStart) / 1e9;
  console.log(`# ${bulk} PEER_DEL in ${delSecs.toFixed(2)} s: ${Math.round(bulk / delSecs)}/s`);
  const left = await dev.dumpPeers();
  expect(left.length === 0, `${left.length} peers left after deleting all`);
});

await test('netlink kernel: openDevice refuses a non-ovpn link', async () => {
  await rtnl.createLink({ name: 'nlnotovpn0', kind: 'veth', peerName: 'nlnotovpn1' });
  try {
    await dp.openDevice('nlnotovpn0').then(
      () => {
        throw new Error('opened a veth as an ovpn device');
      },
      (e: Error) => expect(/not an ovpn device \(kind veth\)/.test(e.message), e.message),
    );
  } finally {
    await rtnl.deleteLink('nlnotovpn0');
  }
});

await test('netlink kernel: TCP transport: control packets framed before and after PEER_NEW, FIN deletes the peer', async () => {
  const dev = await dp.createDevice('nltcp0', 'p2p');
  const listener = await dp.tcpListen({ address: '127.0.0.1', port: 0 });
  const accepted: TcpTransport[] = [];
  listener.onAccept((c) => accepted.push(c));
  const client = await dp.tcpConnect(listener.local, { timeoutMs: 10000 });
  const server = await until(() => accepted[0], 10000, 'accepted connection', 20);
  expect(server.remote.port === client.local.port, `accepted remote ${JSON.stringify(server.remote)}`);
  const got: Buffer[] = [];
  server.onControlPacket((p) => got.push(p));
  const back: Buffer[] = [];
  client.onControlPacket((p) => back.push(p));
  const closed: string[] = [];
  server.onClose((r) => closed.push(r));
  const hello = Buffer.from([0x38, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  client.send(hello);
  await until(() => (got.length === 1 ? true : undefined), 10000, 'control packet before PEER_NEW', 20);
  expect(got[0]!.equals(hello), `before PEER_NEW: ${got[0]!.toString('hex')}`);
  await dev.newPeer({ id: 9, socket: server });
  // now the kernel has the socket: it hands control packets over one per read, framed
  const second = Buffer.concat([Buffer.from([0x20]), Buffer.alloc(300, 7)]);
  client.send(second);
  client.send(hello);
  await until(() => (got.length === 3 ? true : undefined), 10000, 'control packets after PEER_NEW', 20);
  expect(got[1]!.equals(second) && got[2]!.equals(hello), `after PEER_NEW: ${got.slice(1).map((b) => b.length).join(',')}`);
  server.send(second); // through the kernel's send queue
  await until(() => (back.length === 1 ? true : undefined), 10000, 'control packet from the attached socket', 20);
  expect(back[0]!.equals(second), `kernel-sent control packet: ${back[0]!.length} bytes`);
  const p = await dev.getPeer(9);
  expect(p.remote?.port === client.local.port, `peer remote from the connection: ${JSON.stringify(p.remote)}`);
  await client.close();
  const e = await until(() => events.find((x) => x.type === 'peer-deleted' && x.peerId === 9), 10000, 'PEER_DEL_NTF after FIN', 20);
  expect(e.type === 'peer-deleted' && e.reason === 'transport-disconnect', JSON.stringify(e));
  await until(() => (closed.length > 0 ? true : undefined), 10000, 'end of stream on the server side', 20);
  expect(closed[0] === 'eof', `server side closed: ${closed.join(',')}`);
  await listener.close();
  await dp.deleteDevice('nltcp0');
});

await test('netlink kernel: deleting devices', async () => {
  await dp.deleteDevice('nlovpn0');
  await dp.deleteDevice('nlovpn1');
  await rejects(rtnl.getLink('nlovpn1'), NetlinkError, (x) => x.code === 'ENODEV', 'device gone');
});

await sock.close();
unsubscribe();
await dp.close();
rtnl.close();
process.exitCode = failureCount() > 0 ? 1 : 0;
