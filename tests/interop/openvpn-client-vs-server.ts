/**
 * A stock OpenVPN 2.6 client against kovpn's control channel as a server (stateless first
 * reply, PUSH_REPLY with subnet topology), on a plain UDP socket: the client's keepalives
 * decrypt with our keys, an ICMP echo we encrypt towards the client's tunnel address is
 * answered by its kernel, both ciphers, a certificate from another CA is refused, EXIT both
 * ways. Run inside the server namespace by openvpn-client-vs-server.test.sh.
 */
import { randomBytes, type X509Certificate } from 'node:crypto';
import { fail, failureCount, test } from '../lib/results.js';
import { OpenVpnProcess } from './lib/openvpn.js';
import { icmpEchoRequest, parseIcmp } from './lib/packets.js';
import { makePki, makeServerClientPki, type Pem, type Pki } from './lib/pki.js';
import { RawTunnel } from './lib/raw-tunnel.js';
import { checkRemoteCertTls } from '../../src/control/verify.js';
import type { DataCipher } from '../../src/control/ciphers.js';
import { emptyPushOptions } from '../../src/control/push.js';

const clientNs = process.env.DM_CLIENT_NS ?? 'dm-ocl';
const serverIp = process.env.DM_SERVER_IP ?? '10.77.2.1';
const PEER_ID = 7;

const { pki, server: serverPem, client: clientPem } = makeServerClientPki();
const otherCa = makePki(pki.dir, 'other CA');
const stranger = otherCa.issue('stranger', 'client');

let port = 1194;
let debug = 0;

async function startServer(cipher: DataCipher): Promise<RawTunnel> {
  const t = new RawTunnel({
    role: 'server', bind: { address: serverIp, port: ++port }, ciphers: [cipher], log: !!process.env.DM_DEBUG,
    tls: {
      context: { ca: pki.ca.cert, cert: serverPem.cert, key: serverPem.key },
      verifyPeer: (c: X509Certificate) => checkRemoteCertTls(c, 'client'),
    },
    pushOptions: () => ({
      ...emptyPushOptions(), topology: 'subnet', routeGateway: '10.214.1.1', ping: 1, pingRestart: 10,
      ifconfig: { local: '10.214.1.2', second: '255.255.255.0' }, peerId: PEER_ID,
      routes: [{ network: '192.168.78.0', netmask: '255.255.255.0' }],
    }),
  });
  t.peerId = PEER_ID;
  await t.start();
  return t;
}

function startClient(cipher: string, cert: Pem, ca: Pki = pki): OpenVpnProcess {
  return new OpenVpnProcess(clientNs, [
    '--client', '--dev', 'dmtun1', '--dev-type', 'tun', '--proto', 'udp4', '--remote', serverIp, String(port),
    '--nobind', '--remote-cert-tls', 'server', '--data-ciphers', cipher, '--explicit-exit-notify', '1',
    '--ca', ca.ca.certPath, '--cert', cert.certPath, '--key', cert.keyPath, '--connect-retry-max', '1',
  ], pki.dir, `ovpn-client-${++debug}`);
}

async function main(): Promise<void> {
  for (const cipher of ['AES-256-GCM', 'CHACHA20-POLY1305'] as DataCipher[]) {
    const t = await startServer(cipher);
    const ovpn = startClient(cipher, clientPem);
    try {
      await test(`interop openvpn->server ${cipher}: handshake, push, client configured`, async () => {
        await ovpn.waitFor(/Initialization Sequence Completed/);
        await t.until('data key', () => t.installed.length > 0);
        if (t.installed[0]!.cipher !== cipher) throw new Error(`negotiated ${t.installed[0]!.cipher}`);
        if (t.server!.stats.statelessReplies < 1 || t.server!.stats.sessionsCreated !== 1) {
          throw new Error(`server stats ${JSON.stringify(t.server!.stats)}`);
        }
        await ovpn.waitFor(/net_addr_v4_add: 10\.214\.1\.2\/24 dev dmtun1/, 5000);
        await ovpn.waitFor(/net_route_v4_add: 192\.168\.78\.0\/24 via 10\.214\.1\.1/, 5000);
      });
      await test(`interop openvpn->server ${cipher}: client keepalives decrypt with our keys`, async () => {
        await t.until('2 keepalive pings', () => t.pings >= 2);
        if (t.decryptFailures > 0) throw new Error(`${t.decryptFailures} packets failed to decrypt`);
      });
      await test(`interop openvpn->server ${cipher}: ICMP echo we encrypt is answered by the client`, async () => {
        const data = randomBytes(32);
        t.sendData(icmpEchoRequest('10.214.1.1', '10.214.1.2', 0x1234, 1, data));
        await t.until('echo reply', () => t.received.some((r) => {
          const icmp = parseIcmp(r.plain);
          return icmp?.type === 0 && icmp.src === '10.214.1.2' && icmp.data.equals(data);
        }));
      });
      await test(`interop openvpn->server ${cipher}: EXIT from the client ends our session`, async () => {
        await ovpn.stop();
        await t.until('session end', () => t.ended !== undefined, 10000);
        if (t.ended!.kind !== 'exit') throw new Error(`session ended with ${JSON.stringify(t.ended)}`);
      });
    } finally {
      await ovpn.stop();
      await t.close(false);
    }
  }

  {
    const t = await startServer('AES-256-GCM');
    const ovpn = startClient('AES-256-GCM', clientPem);
    try {
      await test('interop openvpn->server: EXIT from the server is seen by the client', async () => {
        await ovpn.waitFor(/Initialization Sequence Completed/);
        await t.until('data key', () => t.installed.length > 0);
        const from = ovpn.log.length;
        await t.session.close(true);
        await ovpn.waitFor(/(SIGUSR1|SIGTERM)\[soft,(remote-exit|server-pushed-connection-reset|exit-with-notification)\]/, 10000, from);
      });
    } finally {
      await ovpn.stop();
      await t.close(false);
    }
  }

  {
    const t = await startServer('AES-256-GCM');
    const ovpn = startClient('AES-256-GCM', stranger, pki);
    try {
      await test('interop openvpn->server: a client certificate from another CA is refused', async () => {
        await t.until('session end', () => t.ended !== undefined, 15000);
        if (t.ended!.kind !== 'error' || t.ended!.error.code !== 'peer-verify') {
          throw new Error(`session ended with ${JSON.stringify(t.ended)}`);
        }
        if (t.installed.length > 0) throw new Error('keys were installed for a refused client');
      });
    } finally {
      await ovpn.stop();
      await t.close(false);
    }
  }
}

main()
  .catch((err: unknown) => fail('interop openvpn->server', err instanceof Error ? err.message : String(err)))
  .finally(() => process.exit(failureCount() > 0 ? 1 : 0));
