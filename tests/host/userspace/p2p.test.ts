/**
 * Host tests of the userspace data path, P2P: two namespaces, an engine in each, a tunnel
 * over a veth pair, real pings through it. Run as root:
 *   node dist/tests/host/userspace/p2p.test.js     (results: $KOVPN_RESULTS, one line per test)
 */
import { hostSuite } from '../../lib/host-suite.js';
import type { CipherAlg } from '../../../src/datapath/types.js';
import { Lab, assert, keyFor, lastPingSummary, nsExec, p2pTunnel, ping, type P2PTunnel } from './lib.js';

const lab = new Lab('p');

/** Counters and drops of both ends, for a failure message: was a packet dropped, or late? */
async function tunnelState(t: P2PTunnel): Promise<string> {
  const d = (dev: unknown) => (dev as { drops(): Promise<Record<string, number>> }).drops();
  const [a, b, da, db] = await Promise.all([t.devA.getPeer(1), t.devB.getPeer(1), d(t.devA), d(t.devB)]);
  // the kernels' side: which echo requests/replies each namespace's ICMP layer saw or sent
  const icmp = async (ns: string) => {
    const r = await nsExec(ns, ['cat', '/proc/net/snmp6', '/proc/net/snmp']);
    const six = [...r.stdout.matchAll(/^(Icmp6(?:In|Out)Echo\w*|Ip6InDiscards|Ip6InNoRoutes|Ip6OutDiscards)\s+(\d+)/gm)].map((m) => `${m[1]}=${m[2]}`);
    return six.join(' ');
  };
  return `a vpn tx/rx ${a.vpnTxPackets}/${a.vpnRxPackets}, b vpn tx/rx ${b.vpnTxPackets}/${b.vpnRxPackets}, drops a ${JSON.stringify(da)} b ${JSON.stringify(db)}; kernel a ${await icmp(lab.a.ns)}; kernel b ${await icmp(lab.b.ns)}`;
}

async function cleanTunnel(ifname: string): Promise<void> {
  for (const n of [lab.a, lab.b]) await n.dp.deleteDevice(ifname).catch(() => {});
}


const { test, run: start } = hostSuite('userspace p2p', {
  before: () => lab.create(),
  after: () => lab.destroy(),
});

const cases: { name: string; cipher: CipherAlg; v6: boolean; keyLen?: number }[] = [
  { name: 'aes-256-gcm over IPv4', cipher: 'aes-gcm', v6: false },
  { name: 'chacha20-poly1305 over IPv4', cipher: 'chacha20-poly1305', v6: false },
  { name: 'aes-128-gcm over IPv6', cipher: 'aes-gcm', v6: true, keyLen: 16 },
  { name: 'chacha20-poly1305 over IPv6', cipher: 'chacha20-poly1305', v6: true },
];
let port = 1200;
for (const c of cases) {
  test(`userspace p2p ping ${c.name}`, async () => {
    try {
      const t = await p2pTunnel(lab, { ifname: 'us-tun0', cipher: c.cipher, ipv6Transport: c.v6, port: port++, keyLen: c.keyLen });
      const got4 = await ping(lab.a.ns, '10.77.0.2', { count: 3 });
      assert(got4 === 3, `IPv4 in tunnel: ${got4}/3 replies (${lastPingSummary}; ${await tunnelState(t)})`);
      const got6 = await ping(lab.b.ns, 'fd00:77::1', { count: 3 });
      assert(got6 === 3, `IPv6 in tunnel: ${got6}/3 replies (${lastPingSummary}; ${await tunnelState(t)})`);
    } finally {
      await cleanTunnel('us-tun0');
    }
  });
}

test('userspace p2p payload larger than the tunnel MTU (fragmented inner and outer)', async () => {
  const t = await p2pTunnel(lab, { ifname: 'us-tun0', cipher: 'aes-gcm', port: 1300 });
  try {
    const got = await ping(lab.a.ns, '10.77.0.2', { count: 3, size: 4000 });
    assert(got === 3, `4000-byte pings: ${got}/3 replies`);
    const full = await ping(lab.b.ns, '10.77.0.1', { count: 2, size: 1472 });
    assert(full === 2, `1472-byte pings (1500-byte inner packets): ${full}/2 replies`);
    const info = await t.devA.getPeer(1);
    assert(info.vpnRxBytes > 4000n * 3n, `vpnRxBytes ${info.vpnRxBytes} too small for 3 big replies`);
  } finally {
    await cleanTunnel('us-tun0');
  }
});

test('userspace p2p asymmetric peer ids', async () => {
  const t = await p2pTunnel(lab, { ifname: 'us-tun0', cipher: 'chacha20-poly1305', port: 1301, asymmetric: true });
  try {
    const got = await ping(lab.a.ns, '10.77.0.2', { count: 2 });
    assert(got === 2, `${got}/2 replies`);
    const info = await t.devA.getPeer(20);
    assert(info.txId === 10, `txId reported ${info.txId}, want 10`);
  } finally {
    await cleanTunnel('us-tun0');
  }
});

test('userspace p2p counters count both layers', async () => {
  const t = await p2pTunnel(lab, { ifname: 'us-tun0', cipher: 'aes-gcm', port: 1302 });
  try {
    const got = await ping(lab.a.ns, '10.77.0.2', { count: 5, size: 100 });
    assert(got === 5, `${got}/5 replies`);
    const a = await t.devA.getPeer(1);
    const b = await t.devB.getPeer(1);
    // 5 echo requests of 128 bytes (20 IP + 8 ICMP + 100) each way, maybe plus IPv6 ND/MLD noise
    assert(a.vpnTxPackets >= 5n && b.vpnRxPackets >= 5n, `packets a.tx=${a.vpnTxPackets} b.rx=${b.vpnRxPackets}`);
    assert(a.vpnTxPackets === b.vpnRxPackets, `a sent ${a.vpnTxPackets}, b received ${b.vpnRxPackets}`);
    assert(a.linkTxBytes === b.linkRxBytes, `link bytes a.tx=${a.linkTxBytes} b.rx=${b.linkRxBytes}`);
    assert(a.linkTxBytes === a.vpnTxBytes + 24n * a.linkTxPackets, `link = vpn + 24 per packet: ${a.linkTxBytes} vs ${a.vpnTxBytes}+24*${a.linkTxPackets}`);
    assert(a.vpnRxBytes >= 5n * 128n, `a.vpnRxBytes ${a.vpnRxBytes}`);
  } finally {
    await cleanTunnel('us-tun0');
  }
});

test('userspace p2p wrong key: packets dropped, counted, nothing delivered', async () => {
  const t = await p2pTunnel(lab, { ifname: 'us-tun0', cipher: 'aes-gcm', port: 1303 });
  try {
    // b reads its counters after its key changed: from then on every packet from a fails to
    // decrypt, in flight or not, so nothing needs to settle first. No IPv6 on the tunnel keeps
    // the kernel's own packets (router solicitations, MLD) out of the drop counts.
    for (const n of [lab.a, lab.b]) await nsExec(n.ns, ['sysctl', '-qw', 'net.ipv6.conf.us-tun0.disable_ipv6=1']);
    await t.devB.newKey(keyFor(1, 1, 'aes-gcm', 0, 'primary', 99));
    const before = (await t.devB.getPeer(1)).vpnRxPackets;
    const got = await ping(lab.a.ns, '10.77.0.2', { count: 3 });
    assert(got === 0, `${got} replies through mismatched keys`);
    const b = await t.devB.getPeer(1);
    assert(b.vpnRxPackets === before, `b delivered ${b.vpnRxPackets - before} packets`);
    const drops = await t.devB.drops();
    assert((drops.decrypt ?? 0) >= 3, `decrypt drops ${drops.decrypt}`);
    // as on the kernel path, the device's rx_dropped shows them
    const rxDropped = Number((await nsExec(lab.b.ns, ['cat', '/sys/class/net/us-tun0/statistics/rx_dropped'])).stdout);
    assert(rxDropped >= drops.decrypt!, `rx_dropped ${rxDropped} < ${drops.decrypt} decrypt drops`);
  } finally {
    await cleanTunnel('us-tun0');
  }
});

start();
