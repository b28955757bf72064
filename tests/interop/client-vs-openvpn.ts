/**
 * kovpn's control channel as a client against a stock OpenVPN 2.6 server (subnet topology),
 * on a plain UDP socket: handshake, PUSH_REPLY, keys proven in both directions (the server's
 * keepalive pings decrypt; an ICMP echo we encrypt is answered), both ciphers, the PRF
 * fallback, a rekey by soft reset, and EXIT. Run inside the client namespace by
 * client-vs-openvpn.test.sh, which passes the server namespace and address.
 */
import { randomBytes } from 'node:crypto';
import { fail, failureCount, test } from '../lib/results.js';
import { OpenVpnProcess } from './lib/openvpn.js';
import { icmpEchoRequest, parseIcmp } from './lib/packets.js';
import { makeServerClientPki } from './lib/pki.js';
import { RawTunnel } from './lib/raw-tunnel.js';
import { checkRemoteCertTls } from '../../src/control/verify.js';
import type { DataCipher } from '../../src/control/ciphers.js';

const serverNs = process.env.DM_SERVER_NS ?? 'dm-ovs';
const serverIp = process.env.DM_SERVER_IP ?? '10.77.1.1';
const port = 1194;

const { pki, server, client } = makeServerClientPki();
const tls = { context: { ca: pki.ca.cert, cert: client.cert, key: client.key }, verifyPeer: (c: import('node:crypto').X509Certificate) => checkRemoteCertTls(c, 'server') };

const ovpn = new OpenVpnProcess(serverNs, [
  '--mode', 'server', '--tls-server', '--dev', 'dmtun0', '--dev-type', 'tun', '--proto', 'udp4', '--port', String(port),
  '--server', '10.214.0.0', '255.255.255.0', '--topology', 'subnet', '--keepalive', '1', '10',
  '--data-ciphers', 'AES-256-GCM:CHACHA20-POLY1305:AES-128-GCM', '--duplicate-cn',
  '--ca', pki.ca.certPath, '--cert', server.certPath, '--key', server.keyPath, '--dh', 'none',
  '--push', 'route 192.168.77.0 255.255.255.0',
], pki.dir, 'ovpn-server');

async function connect(ciphers: DataCipher[], extra: { keyExport?: boolean; renegSeconds?: number; transitionWindowMs?: number } = {}) {
  const t = new RawTunnel({ role: 'client', remote: { address: serverIp, port }, tls, ciphers, ...extra, log: !!process.env.DM_DEBUG });
  await t.start();
  await t.until('data key after PUSH_REPLY', () => t.installed.length > 0);
  return t;
}

/** Pings the server's tunnel address through our own encryption; resolves with the reply. */
async function pingThrough(t: RawTunnel, seq: number): Promise<void> {
  const local = t.pushed!.ifconfig!.local;
  const data = randomBytes(24);
  t.sendData(icmpEchoRequest(local, '10.214.0.1', 0x4b4f, seq, data));
  await t.until(`ICMP echo reply ${seq} from 10.214.0.1`, () => t.received.some((r) => {
    const icmp = parseIcmp(r.plain);
    return icmp !== undefined && icmp.type === 0 && icmp.seq === seq && icmp.data.equals(data) && icmp.src === '10.214.0.1';
  }));
}

async function main(): Promise<void> {
  try {
    await ovpn.waitFor(/Initialization Sequence Completed/);
  } catch (err) {
    fail('interop client->openvpn: server starts', (err as Error).message);
    return;
  }

  const only = process.env.DM_ONLY;
  for (const cipher of (only ? [] : ['AES-256-GCM', 'CHACHA20-POLY1305']) as DataCipher[]) {
    let t: RawTunnel | undefined;
    await test(`interop client->openvpn ${cipher}: handshake and PUSH_REPLY`, async () => {
      t = await connect([cipher]);
      const p = t.pushed!;
      if (p.cipher !== cipher) throw new Error(`pushed cipher ${p.cipher}`);
      if (p.topology !== 'subnet' || p.ifconfig?.second !== '255.255.255.0' || !p.ifconfig.local.startsWith('10.214.0.')) {
        throw new Error(`pushed ifconfig/topology ${JSON.stringify(p.ifconfig)} ${p.topology}`);
      }
      if (p.peerId === undefined || p.ping !== 1 || p.pingRestart !== 10) throw new Error(`peer-id/ping ${p.peerId}/${p.ping}/${p.pingRestart}`);
      if (!p.routes.some((r) => r.network === '192.168.77.0')) throw new Error('pushed route missing');
      if (!p.protocolFlags.includes('tls-ekm')) throw new Error(`no tls-ekm in protocol-flags ${p.protocolFlags.join(' ')}`);
    });
    if (!t) continue;
    await test(`interop client->openvpn ${cipher}: server keepalive pings decrypt with our keys`, async () => {
      await t!.until('2 keepalive pings', () => t!.pings >= 2);
      if (t!.decryptFailures > 0) throw new Error(`${t!.decryptFailures} packets failed to decrypt`);
    });
    await test(`interop client->openvpn ${cipher}: ICMP echo we encrypt is answered`, () => pingThrough(t!, 1));
    await test(`interop client->openvpn ${cipher}: EXIT seen by the server`, async () => {
      const from = ovpn.log.length;
      await t!.close(true);
      await ovpn.waitFor(/CC-EEN exit message received by peer/, 10000, from);
    });
  }

  if (!only) await test('interop client->openvpn: OpenVPN PRF keys (no TLS key export)', async () => {
    const t = await connect(['AES-128-GCM'], { keyExport: false });
    try {
      if (t.pushed!.protocolFlags.includes('tls-ekm')) throw new Error('server still chose tls-ekm');
      if (t.installed[0]!.cipher !== 'AES-128-GCM') throw new Error(`cipher ${t.installed[0]!.cipher}`);
      await pingThrough(t, 2);
    } finally {
      await t.close(true);
    }
  });

  await test('interop client->openvpn: rekey by soft reset (key id 1), traffic on the new key, old key retired', async () => {
    const t = await connect(['AES-256-GCM'], { renegSeconds: 4, transitionWindowMs: 2000 });
    try {
      await pingThrough(t, 3);
      await t.until('swap to the second data key', () => t.swaps.length >= 1, 20000);
      const k = t.installed[1]!;
      if (k.keyId !== 1 || k.initial || t.swaps[0] !== 1) throw new Error(`second key id ${k.keyId} initial=${k.initial} swap ${t.swaps[0]}`);
      const before = t.received.length;
      await pingThrough(t, 4);
      const reply = t.received.slice(before).find((r) => parseIcmp(r.plain)?.seq === 4);
      if (reply?.keyId !== 1) throw new Error(`reply came on key id ${reply?.keyId}`);
      await t.until('key id 0 retired after the transition window', () => t.retired.includes(0), 5000);
      if (t.decryptFailures > 0) throw new Error(`${t.decryptFailures} packets failed to decrypt around the rekey`);
    } finally {
      await t.close(true);
    }
  });
}

main()
  .catch((err: unknown) => fail('interop client->openvpn', err instanceof Error ? err.message : String(err)))
  .finally(async () => {
    await ovpn.stop();
    if (process.env.DM_DEBUG) process.stderr.write(`${ovpn.log}\n`);
    process.exit(failureCount() > 0 ? 1 : 0);
  });
