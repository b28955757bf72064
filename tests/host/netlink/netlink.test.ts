/**
 * Host integration tests of the addon, the netlink engine, rtnetlink and the kernel
 * data path's transport socket, in a network namespace of their own. The host kernel
 * has no ovpn driver: everything else here is real (sockets, links, packets).
 *
 *   node dist/tests/host/netlink/netlink.test.js       (root; results to $KOVPN_RESULTS)
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostSuite } from '../../lib/host-suite.js';
import { enterOwnNetns } from './netns.js';
import { expect, rejects, until } from './expect.js';
import { native, isSyscallError } from '../../../src/native.js';
import { FamilyNotFoundError, GenlSocket, genlHeader } from '../../../src/netlink/genl.js';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { buildMessage } from '../../../src/netlink/message.js';
import { NetlinkSocket } from '../../../src/netlink/socket.js';
import { GENL_ID_CTRL, NETLINK_ROUTE } from '../../../src/netlink/constants.js';
import { Rtnl } from '../../../src/link/rtnl.js';
import { RouteWatch } from '../../../src/link/route-watch.js';
import { IFF_UP, RTM_NEWLINK } from '../../../src/link/constants.js';
import { decodeLink } from '../../../src/link/rtnl.js';
import { KernelDatapath, KernelUdpSocket, ovpnFamilyResolves } from '../../../src/datapath/kernel.js';
import { decodeSockaddr, encodeSockaddr, SOCKADDR_LEN } from '../../../src/util/sockaddr.js';
import type { Endpoint } from '../../../src/datapath/types.js';

enterOwnNetns();

const addon = native();
const rtnl = new Rtnl();
const { test, run: start } = hostSuite('netlink', { after: () => rtnl.close() });

await rtnl.setUp('lo');

test('netlink genl resolves nlctrl with its multicast group', async () => {
  const genl = new GenlSocket();
  try {
    const f = await genl.family('nlctrl');
    expect(f.id === GENL_ID_CTRL, `nlctrl id ${f.id}, expected ${GENL_ID_CTRL}`);
    expect(f.groups.get('notify') !== undefined, `groups: ${[...f.groups.keys()].join(',')}`);
  } finally {
    genl.close();
  }
});

test('netlink genl unknown family gives a clear error', async () => {
  const genl = new GenlSocket();
  try {
    await rejects(
      genl.family('kovpn-nofam'),
      FamilyNotFoundError,
      (e) => e.code === 'ENOENT' && e.message.includes("'kovpn-nofam' is not registered") && !e.message.includes('\n'),
      'unknown family',
    );
    // Longer than GENL_NAMSIZ: the kernel's policy refuses the attribute itself.
    await rejects(
      genl.family('kovpn-no-such-family'),
      NetlinkError,
      (e) => e.code === 'EINVAL' && e.attr === 'FAMILY_NAME',
      'over-long family name',
    );
  } finally {
    genl.close();
  }
});

test('netlink kernel datapath probe agrees with opening it', async () => {
  const available = await ovpnFamilyResolves();
  if (available) {
    const dp = await KernelDatapath.open();
    await dp.close();
  } else {
    await rejects(KernelDatapath.open(), FamilyNotFoundError, (e) => e.message.includes("'ovpn'"), 'KernelDatapath.open');
  }
});

test('netlink pipelined requests: 50000 mixed answers and errors matched to their requests', async () => {
  const sock = new NetlinkSocket(16);
  try {
    const n = 50_000;
    const start = process.hrtime.bigint();
    const jobs: Promise<string>[] = [];
    for (let i = 0; i < n; i++) {
      const name = i % 7 === 0 ? `nope${i}` : 'nlctrl';
      const msg = buildMessage(GENL_ID_CTRL, 0, genlHeader(3, 1), (w) => w.string(2, name));
      jobs.push(
        sock.request(msg, { operation: `GET ${i}` , fixedLen: 4 }).then(
          (r) => (r.length === 1 ? 'ok' : `bad reply count ${r.length}`),
          (e: NetlinkError) => (e.operation === `GET ${i}` && e.code === 'ENOENT' ? 'err' : `bad error ${e.message}`),
        ),
      );
    }
    const results = await Promise.all(jobs);
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    results.forEach((r, i) => expect(r === (i % 7 === 0 ? 'err' : 'ok'), `request ${i}: ${r}`));
    console.log(`# ${n} pipelined genl requests in ${secs.toFixed(2)} s (${Math.round(n / secs)}/s)`);
  } finally {
    sock.close();
  }
});

test('netlink rtnl creates and deletes a veth pair', async () => {
  await rtnl.createLink({ name: 'nlva0', kind: 'veth', peerName: 'nlva1' });
  const a = await rtnl.getLink('nlva0');
  const b = await rtnl.getLink('nlva1');
  expect(a.kind === 'veth' && b.kind === 'veth', `kinds ${a.kind}/${b.kind}`);
  expect(a.index !== b.index && a.index > 1, `indexes ${a.index}/${b.index}`);
  expect((await rtnl.ifindex('nlva0')) === a.index, 'ifindex by name');
  await rejects(rtnl.createLink({ name: 'nlva0', kind: 'veth', peerName: 'nlvx' }), NetlinkError, (e) => e.code === 'EEXIST', 'duplicate');
  await rtnl.deleteLink('nlva0');
  await rejects(rtnl.getLink('nlva1'), NetlinkError, (e) => e.code === 'ENODEV' && e.message.startsWith('RTM_GETLINK nlva1:'), 'peer gone');
});

test('netlink rtnl unknown link kind names the request', async () => {
  await rejects(
    rtnl.createLink({ name: 'nlbad0', kind: 'kovpn-nonexistent-kind' }),
    NetlinkError,
    (e) => e.message.startsWith('RTM_NEWLINK nlbad0 (kind kovpn-nonexistent-kind): ') && e.errno > 0,
    'unknown kind',
  );
});

test('netlink rtnl link up/down and MTU', async () => {
  await rtnl.createLink({ name: 'nlvb0', kind: 'veth', peerName: 'nlvb1', mtu: 1450 });
  try {
    expect((await rtnl.getLink('nlvb0')).mtu === 1450, 'mtu at creation');
    await rtnl.setUp('nlvb0');
    await rtnl.setMtu('nlvb0', 1380);
    let l = await rtnl.getLink('nlvb0');
    expect((l.flags & IFF_UP) !== 0, 'not up');
    expect(l.mtu === 1380, `mtu ${l.mtu}`);
    await rtnl.setUp(l.index, false);
    l = await rtnl.getLink(l.index);
    expect((l.flags & IFF_UP) === 0, 'still up');
  } finally {
    await rtnl.deleteLink('nlvb0');
  }
});

test('netlink rtnl addresses: IPv4, point-to-point peer, IPv6; add and delete', async () => {
  await rtnl.createLink({ name: 'nlvc0', kind: 'veth', peerName: 'nlvc1' });
  try {
    const ifindex = await rtnl.ifindex('nlvc0');
    await rtnl.addAddress({ ifindex, address: '10.200.0.1', prefixLen: 24 });
    await rtnl.addAddress({ ifindex, address: '10.201.0.1', prefixLen: 32, peer: '10.201.0.2' });
    await rtnl.addAddress({ ifindex, address: 'fd00:200::1', prefixLen: 64 });
    const list = await rtnl.listAddresses(ifindex);
    const find = (a: string) => list.find((x) => x.address === a);
    expect(find('10.200.0.1')?.prefixLen === 24, `v4: ${JSON.stringify(list)}`);
    expect(find('10.201.0.1')?.peer === '10.201.0.2', `p2p: ${JSON.stringify(list)}`);
    expect(find('fd00:200::1')?.prefixLen === 64, `v6: ${JSON.stringify(list)}`);
    await rejects(rtnl.addAddress({ ifindex, address: '10.200.0.1', prefixLen: 24 }), NetlinkError, (e) => e.code === 'EEXIST', 'duplicate');
    await rtnl.delAddress({ ifindex, address: '10.200.0.1', prefixLen: 24 });
    await rtnl.delAddress({ ifindex, address: 'fd00:200::1', prefixLen: 64 });
    const after = await rtnl.listAddresses(ifindex);
    expect(!after.some((x) => x.address === '10.200.0.1' || x.address === 'fd00:200::1'), `left: ${JSON.stringify(after)}`);
  } finally {
    await rtnl.deleteLink('nlvc0');
  }
});

test('netlink rtnl routes via gateway and via device, IPv4 and IPv6', async () => {
  await rtnl.createLink({ name: 'nlvd0', kind: 'veth', peerName: 'nlvd1' });
  try {
    const ifindex = await rtnl.ifindex('nlvd0');
    await rtnl.setUp(ifindex);
    await rtnl.addAddress({ ifindex, address: '10.210.0.1', prefixLen: 24 });
    await rtnl.addAddress({ ifindex, address: 'fd00:210::1', prefixLen: 64 });
    await rtnl.addRoute({ dst: '10.211.0.0', prefixLen: 16, gateway: '10.210.0.2' });
    await rtnl.addRoute({ dst: '10.212.0.0', prefixLen: 16, ifindex, metric: 50 });
    await rtnl.addRoute({ dst: 'fd00:211::', prefixLen: 48, ifindex });
    const v4 = await rtnl.listRoutes('ipv4');
    const v6 = await rtnl.listRoutes('ipv6');
    const gw = v4.find((r) => r.dst === '10.211.0.0');
    expect(gw?.gateway === '10.210.0.2' && gw.prefixLen === 16, `via gateway: ${JSON.stringify(v4)}`);
    const dev = v4.find((r) => r.dst === '10.212.0.0');
    expect(dev?.ifindex === ifindex && dev.metric === 50, `via device: ${JSON.stringify(dev)}`);
    expect(v6.some((r) => r.dst === 'fd00:211::' && r.prefixLen === 48 && r.ifindex === ifindex), `v6: ${JSON.stringify(v6)}`);
    await rtnl.delRoute({ dst: '10.211.0.0', prefixLen: 16, gateway: '10.210.0.2' });
    await rtnl.delRoute({ dst: 'fd00:211::', prefixLen: 48, ifindex });
    await rejects(rtnl.delRoute({ dst: '10.211.0.0', prefixLen: 16, gateway: '10.210.0.2' }), NetlinkError, (e) => e.code === 'ESRCH', 'second delete');
    const left = await rtnl.listRoutes('ipv4');
    expect(!left.some((r) => r.dst === '10.211.0.0'), 'route still there');
  } finally {
    await rtnl.deleteLink('nlvd0');
  }
});

test('netlink rtnl route lookup (getRoute), route-change notifications (RouteWatch), configureLink', async () => {
  await rtnl.createLink({ name: 'nlvg0', kind: 'veth', peerName: 'nlvg1' });
  const watch = new RouteWatch();
  let changes = 0;
  watch.onChange(() => changes++);
  try {
    const ifindex = await rtnl.ifindex('nlvg0');
    await rtnl.configureLink(ifindex, { up: true, mtu: 1400, txqlen: 777 });
    await rtnl.setUp('nlvg1');
    const link = await rtnl.getLink(ifindex);
    expect((link.flags & IFF_UP) !== 0 && link.mtu === 1400, `link after configureLink: ${JSON.stringify(link)}`);
    const txq = readFileSync('/sys/class/net/nlvg0/tx_queue_len', 'utf8').trim();
    expect(txq === '777', `tx_queue_len ${txq}`);
    await rtnl.addAddress({ ifindex, address: '10.213.0.1', prefixLen: 24 });
    await rtnl.addAddress({ ifindex, address: 'fd00:213::1', prefixLen: 64 });
    const before = changes;
    await rtnl.addRoute({ dst: '10.214.0.0', prefixLen: 16, gateway: '10.213.0.2' });
    await rtnl.addRoute({ dst: 'fd00:214::', prefixLen: 48, gateway: 'fd00:213::2' });
    await until(() => (changes > before ? true : undefined), 5000, 'a route-change notification');
    const r4 = await rtnl.getRoute('10.214.5.6');
    expect(r4?.gateway === '10.213.0.2' && r4.ifindex === ifindex, `getRoute 10.214.5.6: ${JSON.stringify(r4)}`);
    const r6 = await rtnl.getRoute('fd00:214::9');
    expect(r6?.gateway === 'fd00:213::2' && r6.ifindex === ifindex, `getRoute fd00:214::9: ${JSON.stringify(r6)}`);
    const direct = await rtnl.getRoute('10.213.0.7');
    expect(direct?.ifindex === ifindex && direct.gateway === undefined, `getRoute on-link: ${JSON.stringify(direct)}`);
    // this namespace has no default route: no route at all
    expect((await rtnl.getRoute('192.0.2.1')) === undefined, 'getRoute 192.0.2.1 found a route');
    const afterAdd = changes;
    await rtnl.delRoute({ dst: '10.214.0.0', prefixLen: 16, gateway: '10.213.0.2' });
    await until(() => (changes > afterAdd ? true : undefined), 5000, 'the notification of a deleted route');
    expect((await rtnl.getRoute('10.214.5.6')) === undefined, 'deleted route still used');
  } finally {
    watch.close();
    await rtnl.deleteLink('nlvg0');
  }
});

test('netlink rtnl kernel extack text reaches the error', async () => {
  await rejects(
    rtnl.addRoute({ dst: '10.213.0.1', prefixLen: 16, ifindex: 1 }),
    NetlinkError,
    (e) => e.code === 'EINVAL' && /prefix/i.test(e.extack ?? '') && e.message === `RTM_NEWROUTE 10.213.0.1/16 dev 1: ${e.extack}: EINVAL`,
    'host bits set',
  );
});

test('netlink multi-part dumps, three at once', async () => {
  for (let i = 0; i < 40; i++) await rtnl.createLink({ name: `nldump${i}a`, kind: 'veth', peerName: `nldump${i}b` });
  try {
    const dumps = await Promise.all([rtnl.listLinks(), rtnl.listLinks(), rtnl.listLinks()]);
    for (const links of dumps) {
      const ours = links.filter((l) => l.name.startsWith('nldump'));
      expect(ours.length === 80, `dump saw ${ours.length} of 80 links`);
    }
  } finally {
    for (let i = 0; i < 40; i++) await rtnl.deleteLink(`nldump${i}a`);
  }
});

test('netlink multicast: rtnetlink link notifications on a subscribed socket', async () => {
  const sub = new NetlinkSocket(NETLINK_ROUTE);
  try {
    sub.addMembership(1 /* RTNLGRP_LINK */);
    const seen: string[] = [];
    sub.onNotification((m) => {
      if (m.type === RTM_NEWLINK) seen.push(decodeLink(m).name);
    });
    await rtnl.createLink({ name: 'nlmc0', kind: 'veth', peerName: 'nlmc1' });
    await until(() => (seen.includes('nlmc0') ? true : undefined), 3000, 'RTM_NEWLINK nlmc0');
    await rtnl.deleteLink('nlmc0');
  } finally {
    sub.close();
  }
});

/** Receives until `count` datagrams arrived on `fd`, via the Poller and recvmmsg. */
async function receive(fd: number, count: number, bufSize = 2048): Promise<{ data: Buffer[]; from: Endpoint[]; lens: number[] }> {
  const bufs = Array.from({ length: 16 }, () => Buffer.alloc(bufSize));
  const lens = new Uint32Array(16);
  const addrs = Buffer.alloc(16 * SOCKADDR_LEN);
  const out = { data: [] as Buffer[], from: [] as Endpoint[], lens: [] as number[] };
  const poller = new addon.Poller(fd);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${out.data.length} of ${count} datagrams`)), 3000);
      poller.start((err) => {
        if (err) return reject(err);
        for (;;) {
          const n = addon.udpRecvBatch(fd, bufs, lens, addrs);
          for (let i = 0; i < n; i++) {
            out.data.push(Buffer.from(bufs[i]!.subarray(0, lens[i]!)));
            out.lens.push(lens[i]!);
            out.from.push(decodeSockaddr(addrs, i * SOCKADDR_LEN));
          }
          if (n === 0) break;
        }
        if (out.data.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    poller.close();
  }
  return out;
}

for (const family of ['127.0.0.1', '::1']) {
  test(`netlink udp sendmmsg/recvmmsg batch over ${family}`, async () => {
    const a = addon.udpOpen(encodeSockaddr({ address: family, port: 0 }));
    const b = addon.udpOpen(encodeSockaddr({ address: family, port: 0 }));
    try {
      const aName = decodeSockaddr(addon.sockName(a));
      const bName = addon.sockName(b);
      expect(aName.port > 0 && aName.address === family, `bound to ${JSON.stringify(aName)}`);
      const n = 40;
      const bufs = Array.from({ length: n }, (_, i) => Buffer.alloc(1400, i));
      const lens = Uint32Array.from({ length: n }, (_, i) => 100 + i);
      const addrs = Buffer.concat(Array.from({ length: n }, () => bName));
      let sent = 0;
      while (sent < n) {
        const k = addon.udpSendBatch(a, bufs.slice(sent), lens.subarray(sent), addrs.subarray(sent * SOCKADDR_LEN), n - sent);
        expect(k > 0, 'sendmmsg would block');
        sent += k;
      }
      const got = await receive(b, n);
      expect(got.data.length === n, `got ${got.data.length}`);
      got.data.forEach((d, i) => {
        expect(d.length === 100 + i && d.every((x) => x === i), `datagram ${i}: ${d.length} bytes`);
        expect(got.from[i]!.address === family && got.from[i]!.port === aName.port, `from ${JSON.stringify(got.from[i])}`);
      });
    } finally {
      addon.close(a);
      addon.close(b);
    }
  });
}

test('netlink udp truncated datagram reports its real length', async () => {
  const a = addon.udpOpen(encodeSockaddr({ address: '127.0.0.1', port: 0 }));
  const b = addon.udpOpen(encodeSockaddr({ address: '127.0.0.1', port: 0 }));
  try {
    addon.udpSendBatch(a, [Buffer.alloc(3000, 7)], Uint32Array.of(3000), addon.sockName(b), 1);
    const got = await receive(b, 1, 1000);
    expect(got.lens[0] === 3000 && got.data[0]!.length === 1000, `lens ${got.lens[0]}, kept ${got.data[0]!.length}`);
  } finally {
    addon.close(a);
    addon.close(b);
  }
});

test('netlink udp errors carry code and errno', async () => {
  const a = addon.udpOpen(encodeSockaddr({ address: '127.0.0.1', port: 0 }));
  try {
    const port = decodeSockaddr(addon.sockName(a)).port;
    try {
      addon.udpOpen(encodeSockaddr({ address: '127.0.0.1', port }));
      throw new Error('second bind succeeded');
    } catch (err) {
      expect(isSyscallError(err) && err.code === 'EADDRINUSE' && err.errno === 98, `got ${(err as Error).message}`);
    }
  } finally {
    addon.close(a);
  }
});

function ipv4Checksum(hdr: Buffer): number {
  let sum = 0;
  for (let i = 0; i < hdr.length; i += 2) sum += hdr.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4/UDP packet (UDP checksum 0: none). */
function udpPacket(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const p = Buffer.alloc(28 + payload.length);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p[8] = 64;
  p[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(p, 12);
  Buffer.from(dst.split('.').map(Number)).copy(p, 16);
  p.writeUInt16BE(ipv4Checksum(p.subarray(0, 20)), 10);
  p.writeUInt16BE(sport, 20);
  p.writeUInt16BE(dport, 22);
  p.writeUInt16BE(8 + payload.length, 24);
  payload.copy(p, 28);
  return p;
}

test('netlink tun device: packets routed to it are read, packets written to it are delivered', async () => {
  const tun = addon.tunOpen('nltun%d');
  const udp = addon.udpOpen(encodeSockaddr({ address: '0.0.0.0', port: 0 }));
  const poller = new addon.Poller(tun.fd);
  try {
    expect(/^nltun\d+$/.test(tun.name), `name ${tun.name}`);
    const ifindex = await rtnl.ifindex(tun.name);
    await rtnl.setUp(ifindex);
    await rtnl.addAddress({ ifindex, address: '10.77.0.1', prefixLen: 24 });
    const port = decodeSockaddr(addon.sockName(udp)).port;
    // Out: a datagram to 10.77.0.2 leaves through the TUN device.
    const payload = Buffer.from('kovpn tun read');
    addon.udpSendBatch(udp, [payload], Uint32Array.of(payload.length), encodeSockaddr({ address: '10.77.0.2', port: 5000 }), 1);
    const bufs = Array.from({ length: 8 }, () => Buffer.alloc(2048));
    const lens = new Uint32Array(8);
    const packet = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no IPv4/UDP packet read from the TUN device')), 3000);
      poller.start(() => {
        const n = addon.tunReadBatch(tun.fd, bufs, lens);
        for (let i = 0; i < n; i++) {
          const p = bufs[i]!.subarray(0, lens[i]!);
          // Skip IPv6 chatter (router solicitations, MLD) the kernel sends on link up.
          if (p[0]! >> 4 === 4 && p[9] === 17 && p.readUInt16BE(22) === 5000) {
            clearTimeout(timer);
            resolve(Buffer.from(p));
          }
        }
      });
    });
    poller.stop();
    expect(packet.subarray(16, 20).equals(Buffer.from([10, 77, 0, 2])), 'destination');
    expect(packet.subarray(28).equals(payload), 'payload');
    // In: a packet written to the TUN device reaches the UDP socket.
    const reply = udpPacket('10.77.0.2', '10.77.0.1', 5000, port, Buffer.from('kovpn tun write'));
    const written = addon.tunWriteBatch(tun.fd, [reply, reply], Uint32Array.of(reply.length, reply.length), 2);
    expect(written === 2, `wrote ${written}`);
    const got = await receive(udp, 2);
    expect(got.data.every((d) => d.toString() === 'kovpn tun write'), 'payload in');
    expect(got.from[0]!.address === '10.77.0.2' && got.from[0]!.port === 5000, `from ${JSON.stringify(got.from[0])}`);
  } finally {
    poller.close();
    addon.close(udp);
    addon.close(tun.fd);
  }
});

test('netlink tun write to a device that is down fails with EIO', async () => {
  const tun = addon.tunOpen('');
  try {
    const p = udpPacket('10.78.0.2', '10.78.0.1', 1, 2, Buffer.alloc(4));
    try {
      addon.tunWriteBatch(tun.fd, [p], Uint32Array.of(p.length), 1);
      throw new Error('write succeeded');
    } catch (err) {
      expect(isSyscallError(err) && err.code === 'EIO', `got ${(err as Error).message}`);
    }
  } finally {
    addon.close(tun.fd);
  }
});

test('netlink kernel transport socket delivers control packets, not DATA_V2', async () => {
  const sock = KernelUdpSocket.open({ address: '127.0.0.1', port: 0 });
  const peer = addon.udpOpen(encodeSockaddr({ address: '127.0.0.1', port: 0 }));
  try {
    const got: { packet: Buffer; from: Endpoint }[] = [];
    sock.onControlPacket((packet, from) => got.push({ packet, from }));
    const hardReset = Buffer.concat([Buffer.from([0x38]), Buffer.alloc(13, 1)]); // P_CONTROL_HARD_RESET_CLIENT_V2
    const dataV2 = Buffer.concat([Buffer.from([0x48, 0, 0, 1]), Buffer.alloc(40, 2)]);
    const to = encodeSockaddr(sock.local);
    addon.udpSendBatch(peer, [dataV2, hardReset], Uint32Array.of(dataV2.length, hardReset.length), Buffer.concat([to, to]), 2);
    await until(() => (got.length > 0 ? true : undefined), 3000, 'control packet');
    await sleep(50);
    expect(got.length === 1 && got[0]!.packet.equals(hardReset), `got ${got.map((g) => g.packet[0]).join(',')}`);
    expect(got[0]!.from.port === decodeSockaddr(addon.sockName(peer)).port, 'sender');
    // send(): the other way round.
    const reply = Buffer.from([0x40, 9, 9]);
    sock.send(reply, decodeSockaddr(addon.sockName(peer)));
    const back = await receive(peer, 1);
    expect(back.data[0]!.equals(reply), 'reply');
  } finally {
    await sock.close();
    addon.close(peer);
  }
});

/** Resolves once `fd` is readable or writable (one shot). */
function ready(fd: number, mode: 'readable' | 'writable'): Promise<void> {
  const poller = new addon.Poller(fd);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      poller.close();
      reject(new Error(`fd ${fd} not ${mode} within 3 s`));
    }, 3000);
    poller.start((err) => {
      clearTimeout(timer);
      poller.close();
      if (err) reject(err);
      else resolve();
    }, mode);
  });
}

test('netlink tcp connect/listen/accept and a stream both ways', async () => {
  const listener = addon.tcpListen(encodeSockaddr({ address: '127.0.0.1', port: 0 }), 16);
  const fds: number[] = [listener];
  try {
    const where = addon.sockName(listener);
    const client = addon.tcpConnect(where);
    fds.push(client);
    await ready(client, 'writable');
    expect(addon.sockError(client) === 0, `connect: errno ${addon.sockError(client)}`);
    await ready(listener, 'readable');
    const conn = addon.tcpAccept(listener);
    expect(conn !== null, 'no connection to accept');
    fds.push(conn.fd);
    const clientName = decodeSockaddr(addon.sockName(client));
    expect(decodeSockaddr(conn.peer).port === clientName.port, 'accepted peer address');
    expect(decodeSockaddr(addon.peerName(client)).port === decodeSockaddr(where).port, 'peer name');
    expect(addon.tcpAccept(listener) === null, 'a second connection appeared');
    // A length-prefixed packet, as OpenVPN frames them over TCP.
    const packet = Buffer.from([0, 5, 0x38, 1, 2, 3, 4]);
    expect(addon.streamWrite(client, packet, packet.length) === packet.length, 'short write');
    await ready(conn.fd, 'readable');
    const buf = Buffer.alloc(64);
    const n = addon.streamRead(conn.fd, buf);
    expect(n === packet.length && buf.subarray(0, n).equals(packet), `read ${n}`);
    expect(addon.streamRead(conn.fd, buf) === -1, 'more data than sent');
    addon.close(client);
    fds.splice(fds.indexOf(client), 1);
    await ready(conn.fd, 'readable');
    expect(addon.streamRead(conn.fd, buf) === 0, 'end of stream not seen');
  } finally {
    for (const fd of fds) addon.close(fd);
  }
});

test('netlink tcp connect to a closed port reports ECONNREFUSED', async () => {
  const probe = addon.tcpListen(encodeSockaddr({ address: '127.0.0.1', port: 0 }), 1);
  const where = addon.sockName(probe);
  addon.close(probe);
  const client = addon.tcpConnect(where);
  try {
    // The poller reports the socket's pending error (and clears it).
    const outcome = await ready(client, 'writable').then(
      () => `writable, SO_ERROR ${addon.sockError(client)}`,
      (e: Error) => (isSyscallError(e) ? e.code : e.message),
    );
    expect(outcome === 'ECONNREFUSED', `got ${outcome}, expected ECONNREFUSED`);
  } finally {
    addon.close(client);
  }
});

test('netlink poller close is idempotent and stops callbacks', async () => {
  const a = addon.udpOpen(encodeSockaddr({ address: '127.0.0.1', port: 0 }));
  try {
    const poller = new addon.Poller(a);
    let calls = 0;
    poller.start(() => calls++);
    poller.close();
    poller.close();
    addon.udpSendBatch(a, [Buffer.from('x')], Uint32Array.of(1), addon.sockName(a), 1);
    await sleep(50);
    expect(calls === 0, `called ${calls} times after close`);
    let threw = false;
    try {
      poller.start(() => undefined);
    } catch {
      threw = true;
    }
    expect(threw, 'start after close did not throw');
  } finally {
    addon.close(a);
  }
});

void once;
start();
