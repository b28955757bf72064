/**
 * Bulk TCP through a userspace P2P tunnel, each cipher: 32 MiB of pseudo-random bytes go from
 * one namespace to the other over a TCP connection through the tunnel, and the receiver must
 * get exactly those bytes (length and SHA-256). Nothing about speed is asserted (that is the
 * benchmark's job, bench/); the rate is printed for humans.
 *   node dist/tests/host/userspace/bulk.test.js     (root; results to $KOVPN_RESULTS)
 */
import { hostSuite } from '../../lib/host-suite.js';
import type { CipherAlg } from '../../../src/datapath/types.js';
import { Lab, assert, background, childError, nsExec, p2pTunnel } from './lib.js';

const TRANSFER_BYTES = 32 * 1024 * 1024;
// 32 MiB took 38 s at 7 Mbit/s on a machine at load 22; the receiver's deadline is a minute
// longer than the sender's, so a slow transfer fails as a sender timeout, not a reset.
const DEADLINE_MS = 300_000;
const lab = new Lab('t');

// Receiver: counts and hashes everything until the sender closes, then prints "<bytes> <sha256>".
const receiver = `
const h = require('crypto').createHash('sha256'); let n = 0;
const srv = require('net').createServer((s) => {
  s.on('data', (d) => { n += d.length; h.update(d); });
  s.on('end', () => { console.log(n + ' ' + h.digest('hex')); srv.close(); });
}).listen(Number(process.argv[2]), process.argv[1], () => console.log('listening'));`;

// Sender: writes <bytes> deterministic pseudo-random bytes, prints "<bytes> <sha256> <ms>".
const sender = `
const crypto = require('crypto'); const total = Number(process.argv[3]);
const h = crypto.createHash('sha256'); let block = crypto.createHash('sha512').update('kovpn').digest();
const t0 = Date.now(); let sent = 0;
const s = require('net').connect(Number(process.argv[2]), process.argv[1], () => {
  const chunk = Buffer.alloc(65536);
  const pump = () => {
    while (sent < total) {
      for (let o = 0; o < chunk.length; o += 64) {
        block = crypto.createHash('sha512').update(block).digest(); block.copy(chunk, o);
      }
      const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
      h.update(part); sent += part.length;
      if (!s.write(part)) return s.once('drain', pump);
    }
    s.end(() => console.log(sent + ' ' + h.digest('hex') + ' ' + (Date.now() - t0)));
  };
  pump();
});`;

async function transfer(cipher: CipherAlg, port: number): Promise<void> {
  await p2pTunnel(lab, { ifname: 'us-tunt', cipher, port });
  try {
    // the sender connects only once the receiver listens (node takes seconds to start under load)
    const rx = background('ip', ['netns', 'exec', lab.b.ns, 'node', '-e', receiver, '10.77.0.2', '5301'], DEADLINE_MS + 60_000);
    await rx.waitOutput(/^listening$/m, 60_000, 'the receiver listening');
    const tx = await nsExec(lab.a.ns, ['node', '-e', sender, '10.77.0.2', '5301', String(TRANSFER_BYTES)], DEADLINE_MS);
    const got = await rx.done;
    assert(tx.code === 0, `sender failed: ${childError(tx)}`);
    assert(got.code === 0, `receiver failed: ${childError(got)}`);
    const [sentBytes, sentHash, ms] = tx.stdout.trim().split(' ');
    const [gotBytes, gotHash] = got.stdout.replace(/^listening\n/, '').trim().split(' ');
    assert(Number(sentBytes) === TRANSFER_BYTES, `sender wrote ${sentBytes} of ${TRANSFER_BYTES} bytes`);
    assert(gotBytes === sentBytes, `receiver got ${gotBytes} of ${sentBytes} bytes`);
    assert(gotHash === sentHash, 'receiver got different bytes than were sent (SHA-256 differs)');
    console.log(`userspace ${cipher}: ${((TRANSFER_BYTES * 8) / Number(ms) / 1000).toFixed(0)} Mbit/s (32 MiB over TCP)`);
  } finally {
    for (const n of [lab.a, lab.b]) await n.dp.deleteDevice('us-tunt').catch(() => {});
  }
}

const { test, run: start } = hostSuite('userspace bulk', {
  before: () => lab.create(),
  after: () => lab.destroy(),
});

let port = 1600;
for (const cipher of ['aes-gcm', 'chacha20-poly1305'] as const) {
  test(`userspace bulk TCP ${cipher}: 32 MiB arrive intact`, () => transfer(cipher, port++));
}

start();
