/**
 * tests/vectors/policy.json on the userspace data path: every vector the userspace path can
 * express runs on a fresh device of an engine in its own namespace, and must answer with
 * the errno, attribute and text the kernel module answers (tests/kmod/smoke.py runs the same
 * file against the module in the VM). Requests are written as netlink attributes by name:
 * they are encoded with the family table and decoded with src/ovpn/codec.ts, as the kernel
 * path's requests would be, then given to the data path's typed operations. Run as root:
 *   node dist/tests/host/userspace/policy.test.js    (results: $KOVPN_RESULTS)
 */
import { readFileSync } from 'node:fs';
import { AttrSet, NlWriter } from '../../../src/netlink/attrs.js';
import { decodeKeyConfig, decodePeer, slotName } from '../../../src/ovpn/codec.js';
import { def, get, need } from '../../../src/ovpn/fields.js';
import type { AttrSetName } from '../../../src/ovpn/family.js';
import type { Device, PeerConfig, TransportSocket } from '../../../src/datapath/types.js';
import { DatapathError } from '../../../src/datapath/userspace/errors.js';
import { parseIpv4 as parseV4, parseIpv6 as parseV6 } from '../../../src/util/sockaddr.js';
import { runTests, test } from '../../lib/results.js';
import { Node, makeNs, run } from './lib.js';

interface Request {
  cmd: string;
  PEER?: Record<string, unknown>;
  KEYCONF?: Record<string, unknown>;
}
interface Vector {
  name: string;
  mode: 'p2p' | 'mp';
  setup?: Request[];
  request: Request;
  expect: { ok: true } | { errno: string; attr: string | null; message: string };
  paths?: string[];
}

const file = new URL('../../../../tests/vectors/policy.json', import.meta.url);
const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] }).vectors;
const IF = 'us-pv';

/** Writes `values` (attribute name -> JSON value) of set `set` with the table's types. */
function encode(w: NlWriter, set: AttrSetName, values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) {
    const d = def(set, name);
    if (d.type === 'nest') w.nest(d.value, (n) => encode(n, d.nest as AttrSetName, value as Record<string, unknown>));
    else if (d.hint) w.binary(d.value, Buffer.from(String(value).includes(':') ? parseV6(String(value)) : parseV4(String(value))));
    else if (d.type === 'binary') w.binary(d.value, Buffer.from(String(value), 'hex'));
    else if (d.type === 'be16') w.be16(d.value, Number(value));
    else if (d.type === 'be32') w.be32(d.value, Number(value));
    else if (d.type === 'uint') w.uint(d.value, BigInt(Number(value)));
    else w.u32(d.value, Number(value));
  }
}

/** The nest of a request, encoded and decoded again as the kernel path would carry it. */
function nest(set: 'peer' | 'keyconf', values: Record<string, unknown>): AttrSet {
  const w = new NlWriter();
  encode(w, set, values);
  return new AttrSet(w.finish(), set.toUpperCase());
}

/** One request on `dev`: null, or [errno name, attribute path or null, text]. */
async function apply(node: Node, dev: Device, req: Request, sockets: TransportSocket[]): Promise<[string, string | null, string] | null> {
  try {
    switch (req.cmd) {
      case 'PEER_NEW':
      case 'PEER_SET': {
        const { SOCKET, ...rest } = req.PEER ?? {};
        const info = decodePeer(nest('peer', rest));
        const peer: PeerConfig = { id: info.id };
        for (const k of ['txId', 'remote', 'local', 'vpnIpv4', 'vpnIpv6', 'keepaliveInterval', 'keepaliveTimeout'] as const) {
          if (info[k] !== undefined) (peer as unknown as Record<string, unknown>)[k] = info[k];
        }
        if (SOCKET === 'udp4') {
          sockets.push(await node.dp.openUdpSocket({ address: '127.0.0.1', port: 0 }));
          peer.socket = sockets[sockets.length - 1]!;
        }
        await (req.cmd === 'PEER_NEW' ? dev.newPeer(peer) : dev.setPeer(peer));
        break;
      }
      case 'PEER_GET':
        await dev.getPeer(need(nest('peer', req.PEER ?? {}), 'peer', 'ID'));
        break;
      case 'PEER_DEL':
        await dev.delPeer(need(nest('peer', req.PEER ?? {}), 'peer', 'ID'));
        break;
      case 'KEY_NEW':
        await dev.newKey(decodeKeyConfig(nest('keyconf', req.KEYCONF ?? {})));
        break;
      case 'KEY_GET':
      case 'KEY_DEL': {
        const k = nest('keyconf', req.KEYCONF ?? {});
        const peerId = need(k, 'keyconf', 'PEER_ID');
        const slot = slotName(need(k, 'keyconf', 'SLOT'));
        await (req.cmd === 'KEY_GET' ? dev.getKey(peerId, slot) : dev.delKey(peerId, slot));
        break;
      }
      case 'KEY_SWAP':
        await dev.swapKeys(get(nest('keyconf', req.KEYCONF ?? {}), 'keyconf', 'PEER_ID')!);
        break;
      default:
        throw new Error(`policy.json: unknown cmd ${req.cmd}`);
    }
    return null;
  } catch (err) {
    if (!(err instanceof DatapathError)) throw err;
    // the userspace path's message is "<attribute path>: <text>" or just the text
    const m = /^([A-Z][A-Z0-9_]*(?:\.[A-Z][A-Z0-9_]*)*): (.*)$/s.exec(err.message);
    return m ? [err.code, m[1]!, m[2]!] : [err.code, null, err.message];
  }
}

async function main(): Promise<void> {
  const node = new Node('us-pv', '', '');
  await makeNs(node.ns);
  try {
    await node.startEngine();
    const mine = vectors.filter((v) => (v.paths ?? ['userspace']).includes('userspace'));
    for (const v of mine) {
      await test(`userspace policy: ${v.name}`, async () => {
        const dev = await node.dp.createDevice(IF, v.mode);
        const sockets: TransportSocket[] = [];
        try {
          for (const [i, req] of (v.setup ?? []).entries()) {
            const got = await apply(node, dev, req, sockets);
            if (got) throw new Error(`setup ${i}: ${JSON.stringify(got)}`);
          }
          const got = await apply(node, dev, v.request, sockets);
          const want = 'ok' in v.expect ? null : [v.expect.errno, v.expect.attr, v.expect.message];
          if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        } finally {
          await node.dp.deleteDevice(IF);
          for (const s of sockets) await s.close();
        }
      });
    }
    console.log(`${mine.length} of ${vectors.length} vectors run here; the rest are netlink-only (kernel path)`);
  } finally {
    await node.stopEngine();
    await run('ip', ['netns', 'del', node.ns]);
  }
}

runTests(main);
