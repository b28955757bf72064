/**
 * The control plane on the host, one core (bench/run.sh runs it under `taskset -c 0`):
 *
 * 1. The netlink library natively: PEER_NEW messages encoded per second, and requests per
 *    second through the request engine with the window ctrl-plane.ts uses (nlctrl family
 *    lookups: the host kernel has no ovpn; in the emulated guest, where the module runs, V8's
 *    JIT code is slowed far more than the kernel, so the library's native rate is measured here).
 * 2. Handshakes per second: whole OpenVPN control-channel sessions — reliability layer with
 *    the server's stateless cookie, TLS, key method 2, data-key derivation,
 *    PUSH_REQUEST/PUSH_REPLY — between kovpn client sessions and one ControlServer, joined in
 *    memory (no sockets, no data path). The reference, measured in the same run with the same
 *    credentials: bare node:tls handshakes (mutual authentication, same TLS version) over an
 *    in-memory stream pair. Both ends run in this process: each figure is one client's plus
 *    one server's work.
 *
 *   node dist/bench/control-host.js OUT.json [seconds=4] [repeats=3] [in-flight=16]
 *
 * Scenarios: X.509 (P-256 certificates, TLS 1.3 as OpenVPN 2.6 negotiates it) and kovpn's
 * pre-shared-key mode (TLS 1.2 ECDHE-PSK).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { decodeControlPacket } from '../src/control/packet.js';
import { emptyPushOptions } from '../src/control/push.js';
import { ControlServer } from '../src/control/server.js';
import { ControlSession } from '../src/control/session.js';
import { PSK_CIPHERS, type TlsCredentials } from '../src/control/key-state.js';
import { checkRemoteCertTls } from '../src/control/verify.js';
import { buildMessage } from '../src/netlink/message.js';
import { GenlSocket } from '../src/netlink/genl.js';
import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY } from '../src/netlink/constants.js';
import { encodePeer } from '../src/ovpn/codec.js';
import { ATTR, CMD } from '../src/ovpn/constants.js';
import { makePki } from '../tests/interop/lib/pki.js';

interface Figure {
  label: string;
  unit: string;
  values?: number[];
  reason?: string;
}

const [outFile, secondsArg, repeatsArg, inFlightArg] = process.argv.slice(2);
if (!outFile) {
  console.error('usage: node dist/bench/control-host.js OUT.json [seconds] [repeats] [in-flight]');
  process.exit(2);
}
const SECONDS = Number(secondsArg ?? 4);
const REPEATS = Number(repeatsArg ?? 3);
const IN_FLIGHT = Math.max(1, Number(inFlightArg ?? 16));

/** Runs `one()` with IN_FLIGHT at a time for SECONDS; returns completions per second. */
async function rate(one: () => Promise<void>): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  const t0 = performance.now();
  async function worker(): Promise<void> {
    while (performance.now() < end) {
      await one();
      done++;
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return done / ((performance.now() - t0) / 1000);
}

// --- kovpn: a whole control-channel session ---------------------------------------------

function kovpnScenario(clientTls: TlsCredentials, serverTls: TlsCredentials): () => Promise<void> {
  let nextPort = 1;
  const waiting = new Map<string, () => void>();
  const clients = new Map<string, ControlSession>();
  const server = new ControlServer({
    transmit: (p, to) => setImmediate(() => clients.get(`${to.port}`)?.receive(decodeControlPacket(p))),
    createSession: (from, resumed, detach) => {
      const key = `${from.port}`;
      const s: ControlSession = new ControlSession({
        role: 'server', resumed, tls: serverTls, ciphers: ['AES-256-GCM'], renegSeconds: 0,
        events: {
          transmit: (p) => setImmediate(() => clients.get(key)?.receive(decodeControlPacket(p))),
          onDataKey: () => undefined,
          onSwapKeys: () => undefined,
          onRetireKey: () => undefined,
          pushOptions: () => ({ ...emptyPushOptions(), ifconfig: { local: '10.8.0.2', second: '255.255.255.0' }, peerId: 1, topology: 'subnet' }),
          onEnd: () => detach(),
        },
      });
      return s;
    },
  });
  return () => new Promise<void>((resolve, reject) => {
    const port = nextPort;
    nextPort = nextPort >= 60000 ? 1 : nextPort + 1;
    const key = `${port}`;
    const from = { address: '192.0.2.1', port };
    const client = new ControlSession({
      role: 'client', tls: clientTls, ciphers: ['AES-256-GCM'], renegSeconds: 0,
      events: {
        transmit: (p) => setImmediate(() => server.receive(p, from)),
        onDataKey: () => undefined,
        onSwapKeys: () => undefined,
        onRetireKey: () => undefined,
        onPushReply: () => waiting.get(key)?.(),
        onEnd: (r) => { if (r.kind !== 'closed') reject(new Error(`session ended: ${JSON.stringify(r)}`)); },
      },
    });
    clients.set(key, client);
    waiting.set(key, () => {
      waiting.delete(key);
      const serverSession = server.sessions.get(`${from.address}|${from.port}`);
      void Promise.all([client.close(false), serverSession?.close(false)]).then(() => {
        clients.delete(key);
        resolve();
      });
    });
    client.start();
  });
}

// --- reference: bare node:tls over an in-memory pair -------------------------------------

function streamPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex => new Duplex({
    read() { /* pushed by the peer's writes */ },
    write(chunk: Buffer, _enc, done) { peer().push(chunk); done(); },
    final(done) { peer().push(null); done(); },
  });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}

/** Server-side socket options; node's TLSSocket takes pskCallback although its types omit it. */
type ServerSocketOptions = tls.TLSSocketOptions & Pick<tls.TlsOptions, 'pskCallback'>;

function tlsScenario(client: tls.ConnectionOptions, server: ServerSocketOptions): () => Promise<void> {
  const secureContext = tls.createSecureContext(server);
  return () => new Promise<void>((resolve, reject) => {
    const [a, b] = streamPair();
    let secured = 0;
    const both = (): void => {
      if (++secured < 2) return;
      c.destroy();
      s.destroy();
      resolve();
    };
    const s = new tls.TLSSocket(b, { ...server, secureContext, isServer: true });
    s.on('secure', both).on('error', reject);
    const c = tls.connect({ ...client, socket: a }, both);
    c.on('error', reject);
  });
}

// --- the netlink library --------------------------------------------------------------------

const NETLINK_WINDOW = 16;

/** PEER_NEW messages (as ctrl-plane.ts sends them) built per second, for SECONDS. */
function encodeRate(): number {
  const genlHeader = new Uint8Array([CMD.PEER_NEW, 1, 0, 0]);
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++, n++) {
      const i = n & 0xffff;
      buildMessage(0x20, 0, genlHeader, (w) => {
        w.u32(ATTR.ovpn.IFINDEX, 5);
        w.nest(ATTR.ovpn.PEER, (p) => encodePeer(p, {
          id: n + 1, socketFd: 7, remote: { address: `10.250.${i >> 8}.${i & 255}`, port: 1024 },
          vpnIpv4: `10.64.${i >> 8}.${i & 255}`,
        }));
      });
    }
  }
  return n / ((performance.now() - t0) / 1000);
}

/** nlctrl family lookups per second through the request engine, NETLINK_WINDOW in flight. */
async function requestRate(genl: GenlSocket): Promise<number> {
  const nlctrl = await genl.family('nlctrl');
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  let n = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await genl.request(nlctrl, CTRL_CMD_GETFAMILY, { operation: 'CTRL_CMD_GETFAMILY' }, (w) => w.string(CTRL_ATTR_FAMILY_NAME, 'nlctrl'));
      n++;
    }
  };
  await Promise.all(Array.from({ length: NETLINK_WINDOW }, worker));
  return n / ((performance.now() - t0) / 1000);
}

// --- main ----------------------------------------------------------------------------------

const figures: Record<string, Figure> = {
  encode: { label: 'netlink library: PEER_NEW messages encoded per second', unit: 'messages/s' },
  requests: { label: `netlink library: requests per second, ${NETLINK_WINDOW} in flight (nlctrl lookups; the host has no ovpn)`, unit: 'requests/s' },
  kovpn_x509: { label: 'kovpn control-channel handshakes, X.509 P-256 (TLS 1.3)', unit: 'handshakes/s' },
  tls_x509: { label: 'reference: bare node:tls handshakes, same certificates', unit: 'handshakes/s' },
  kovpn_psk: { label: 'kovpn control-channel handshakes, pre-shared key (TLS 1.2 ECDHE-PSK)', unit: 'handshakes/s' },
  tls_psk: { label: 'reference: bare node:tls ECDHE-PSK handshakes', unit: 'handshakes/s' },
};
const result: Record<string, unknown> = {
  status: 'ok', seconds: SECONDS, repeats: REPEATS, inFlight: IN_FLIGHT, figures,
  notes: `One process pinned to one core. Handshakes: the process runs both ends; ${IN_FLIGHT} handshakes in flight, ${SECONDS} s per figure, ` +
    `${REPEATS} repeats. A kovpn handshake is a whole session up to PUSH_REPLY (cookie, reliability layer, TLS, ` +
    `key method 2, key derivation); the reference is the TLS handshake alone.`,
};
const save = (): void => writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);

async function main(): Promise<void> {
  const pki = makePki();
  const srv = pki.issue('server', 'server');
  const cli = pki.issue('client1', 'client');
  const x509Server: TlsCredentials = { context: { ca: pki.ca.cert, cert: srv.cert, key: srv.key }, verifyPeer: (c) => checkRemoteCertTls(c, 'client') };
  const x509Client: TlsCredentials = { context: { ca: pki.ca.cert, cert: cli.cert, key: cli.key }, verifyPeer: (c) => checkRemoteCertTls(c, 'server') };
  const psk: TlsCredentials = { psk: { identity: 'kovpn', key: randomBytes(32) } };
  const pskKey = (psk as { psk: { key: Buffer } }).psk.key;
  const pskTls = { ciphers: PSK_CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

  const genl = new GenlSocket();
  const scenarios: [string, () => Promise<number>][] = [
    ['encode', async () => encodeRate()],
    ['requests', () => requestRate(genl)],
    ['kovpn_x509', () => rate(kovpnScenario(x509Client, x509Server))],
    ['tls_x509', () => rate(tlsScenario(
      { ca: pki.ca.cert, cert: cli.cert, key: cli.key, checkServerIdentity: () => undefined },
      { ca: pki.ca.cert, cert: srv.cert, key: srv.key, requestCert: true, rejectUnauthorized: true }))],
    ['kovpn_psk', () => rate(kovpnScenario(psk, psk))],
    ['tls_psk', () => rate(tlsScenario(
      { ...pskTls, pskCallback: () => ({ identity: 'kovpn', psk: pskKey }), checkServerIdentity: () => undefined },
      { ...pskTls, pskCallback: (_s: tls.TLSSocket, id: string) => (id === 'kovpn' ? pskKey : null) }))],
  ];
  save();
  for (let rep = 1; rep <= REPEATS; rep++) {
    // Interleaved, so that a noisy moment hits every scenario alike.
    for (const [key, measure] of scenarios) {
      const fig = figures[key]!;
      if (fig.reason) continue;
      try {
        const r = await measure();
        (fig.values ??= []).push(r);
        console.error(`control-host: rep ${rep}: ${key} ${r.toFixed(0)}/s`);
      } catch (err) {
        fig.reason = (err as Error).message.slice(0, 200);
        console.error(`control-host: ${key}: ${fig.reason}`);
      }
      save();
    }
  }
  genl.close();
}

main()
  .catch((err: unknown) => { result.status = (err as Error).message.slice(0, 200); save(); })
  .finally(() => process.exit(0));
