/**
 * Peer-to-peer TLS mode (no push) between kovpn's control channel and a stock OpenVPN 2.6,
 * both TLS roles, on a plain UDP socket: NCP_P2P cipher choice, exporter keys and peer id,
 * proven by decrypting OpenVPN's keepalives and by an ICMP echo through its tun device.
 * Run inside namespace A by p2p-vs-openvpn.test.sh; OpenVPN runs in namespace B.
 */
import { randomBytes, type X509Certificate } from 'node:crypto';
import { fail, failureCount, test } from '../lib/results.js';
import { OpenVpnProcess } from './lib/openvpn.js';
import { icmpEchoRequest, parseIcmp } from './lib/packets.js';
import { makeServerClientPki } from './lib/pki.js';
import { RawTunnel } from './lib/raw-tunnel.js';
import { checkRemoteCertTls } from '../../src/control/verify.js';
import type { DataCipher } from '../../src/control/ciphers.js';

const ovpnNs = process.env.DM_PEER_NS ?? 'dm-pb';
const myIp = process.env.DM_MY_IP ?? '10.77.7.1';
const peerIp = process.env.DM_PEER_IP ?? '10.77.7.2';

const { pki, server, client } = makeServerClientPki();

async function scenario(ourRole: 'client' | 'server', ours: DataCipher[], theirs: string, expect: DataCipher, port: number): Promise<void> {
  const name = `interop p2p kovpn tls-${ourRole} vs openvpn tls-${ourRole === 'client' ? 'server' : 'client'} (${expect})`;
  const pem = ourRole === 'client' ? client : server;
  const peerPem = ourRole === 'client' ? server : client;
  const ovpn = new OpenVpnProcess(ovpnNs, [
    '--dev', 'dmp2p0', '--dev-type', 'tun', '--proto', 'udp4', '--lport', String(port), '--rport', String(port), '--remote', myIp,
    ourRole === 'client' ? '--tls-server' : '--tls-client', '--ifconfig', '10.214.7.2', '10.214.7.1',
    '--ca', pki.ca.certPath, '--cert', peerPem.certPath, '--key', peerPem.keyPath, '--dh', 'none',
    '--remote-cert-tls', ourRole, '--data-ciphers', theirs, '--keepalive', '1', '10',
  ], pki.dir, `p2p-${ourRole}`);
  const t = new RawTunnel({
    role: ourRole, p2p: true, bind: { address: myIp, port }, remote: { address: peerIp, port }, ciphers: ours,
    tls: { context: { ca: pki.ca.cert, cert: pem.cert, key: pem.key }, verifyPeer: (c: X509Certificate) => checkRemoteCertTls(c, ourRole === 'client' ? 'server' : 'client') },
    log: !!process.env.DM_DEBUG,
  });
  try {
    await t.start();
    await test(`${name}: handshake, cipher and peer id`, async () => {
      await t.until('data key', () => t.installed.length > 0, 20000);
      if (t.installed[0]!.cipher !== expect) throw new Error(`negotiated ${t.installed[0]!.cipher}`);
      await ovpn.waitFor(/Initialization Sequence Completed/, 10000);
      const m = await ovpn.waitFor(/NCP negotiation result: .*peer-id (\d+), cipher=([A-Z0-9-]+)/, 5000);
      if (Number(m[1]) !== t.peerId || m[2] !== expect) throw new Error(`openvpn chose peer-id ${m[1]} ${m[2]}, we ${t.peerId} ${expect}`);
    });
    await test(`${name}: openvpn keepalives decrypt, ICMP echo answered`, async () => {
      await t.until('2 keepalive pings', () => t.pings >= 2);
      const data = randomBytes(16);
      t.sendData(icmpEchoRequest('10.214.7.1', '10.214.7.2', 7, 1, data));
      await t.until('echo reply', () => t.received.some((r) => {
        const icmp = parseIcmp(r.plain);
        return icmp?.type === 0 && icmp.data.equals(data);
      }));
      if (t.decryptFailures > 0) throw new Error(`${t.decryptFailures} packets failed to decrypt`);
    });
  } finally {
    await t.close(true);
    if (process.env.DM_DEBUG) process.stderr.write(ovpn.log);
    await ovpn.stop();
  }
}

async function main(): Promise<void> {
  await scenario('client', ['AES-256-GCM', 'CHACHA20-POLY1305'], 'CHACHA20-POLY1305:AES-256-GCM', 'CHACHA20-POLY1305', 1301);
  await scenario('server', ['AES-256-GCM', 'CHACHA20-POLY1305'], 'CHACHA20-POLY1305:AES-256-GCM', 'AES-256-GCM', 1302);
}

main()
  .catch((err: unknown) => fail('interop p2p', err instanceof Error ? err.message : String(err)))
  .finally(() => process.exit(failureCount() > 0 ? 1 : 0));
