/**
 * Bulk TCP through a userspace P2P tunnel (a fixed 32 MiB, each cipher): the transfer must
 * complete and the receiver must get exactly the bytes the sender sent (count and SHA-256,
 * read until the sender's end of stream). No speed is asserted (speed is the benchmark's
 * job: bench/userspace.sh); the rate is printed for humans.
 * (iperf3 -n is not used for this: its server stops counting at the control connection's
 * TEST_END, which can overtake data still queued in the tunnel, so its byte counts differ
 * on a fast or loaded path even when nothing is lost.)
 *   node dist/tests/host/userspace/throughput.test.js     (root; results to $KOVPN_RESULTS)
 */
import { failureCount, test } from '../../lib/results.js';
import type { CipherAlg } from '../../../src/datapath/types.js';
import { Lab, assert, nsExec, p2pTunnel, sleep } from './lib.js';

const TRANSFER_BYTES = 32 * 1024 * 1024;
const lab = new Lab('t');

/** Receives one connection until its end; prints {bytes, sha256, seconds}. */
const RECEIVER = `
const net = require('net'), crypto = require('crypto');
const srv = net.createServer((c) => {
  const h = crypto.createHash('sha256'); let n = 0, t0 = 0;
  c.on('data', (d) => { if (!t0) t0 = performance.now(); n += d.length; h.update(d); });
  c.on('end', () => {
    console.log(JSON.stringify({ bytes: n, sha256: h.digest('hex'), seconds: (performance.now() - t0) / 1000 }));
    c.end(); srv.close();
  });
});
srv.listen(Number(process.argv[2]), process.argv[1], () => console.error('listening'));
setTimeout(() => process.exit(3), 90000).unref();
`;

/** Sends argv[3] bytes of a seeded pattern and ends; prints {bytes, sha256}. */
const SENDER = `
const net = require('net'), crypto = require('crypto');
const total = Number(process.argv[3]);
const block = crypto.createHash('sha512').update('kovpn').digest();
const chunk = Buffer.alloc(65536);
for (let i = 0; i < chunk.length; i++) chunk[i] = block[i % 64] ^ (i >> 6);
const h = crypto.createHash('sha256'); let sent = 0;
const c = net.connect(Number(process.argv[2]), process.argv[1], () => {
  const pump = () => {
    while (sent < total) {
      const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
      h.update(part); sent += part.length;
      if (!c.write(part)) return c.once('drain', pump);
    }
    c.end();
  };
  pump();
});
c.on('close', () => console.log(JSON.stringify({ bytes: sent, sha256: h.digest('hex') })));
c.resume();
`;

interface Transfer {
  sent: { bytes: number; sha256: string };
  received: { bytes: number; sha256: string; seconds: number };
}

async function transfer(cipher: CipherAlg, port: number): Promise<Transfer> {
  await p2pTunnel(lab, { ifname: 'us-tunt', cipher, port });
  try {
    const server = nsExec(lab.b.ns, [process.execPath, '-e', RECEIVER, '10.77.0.2', '5301'], 120_000);
    await sleep(1000);
    const c = await nsExec(lab.a.ns, [process.execPath, '-e', SENDER, '10.77.0.2', '5301', String(TRANSFER_BYTES)], 120_000);
    const r = await server;
    assert(c.code === 0, `sender failed: ${(c.stderr || c.stdout).trim().split('\n').slice(-1)[0]}`);
    assert(r.code === 0, `receiver failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0]}`);
    return { sent: JSON.parse(c.stdout) as Transfer['sent'], received: JSON.parse(r.stdout) as Transfer['received'] };
  } finally {
    for (const n of [lab.a, lab.b]) await n.dp.deleteDevice('us-tunt').catch(() => {});
  }
}

async function main(): Promise<void> {
  await lab.create();
  try {
    let port = 1600;
    for (const cipher of ['aes-gcm', 'chacha20-poly1305'] as const) {
      await test(`userspace bulk TCP ${cipher}: 32 MiB arrive complete`, async () => {
        const t = await transfer(cipher, port++);
        const mbits = (t.received.bytes * 8) / t.received.seconds / 1e6;
        console.log(`userspace ${cipher}: ${mbits.toFixed(0)} Mbit/s (TCP, 32 MiB)`);
        assert(t.sent.bytes === TRANSFER_BYTES, `sender sent ${t.sent.bytes} of ${TRANSFER_BYTES} bytes`);
        assert(t.received.bytes === t.sent.bytes, `received ${t.received.bytes} of ${t.sent.bytes} bytes`);
        assert(t.received.sha256 === t.sent.sha256, 'the received bytes differ from the sent ones (SHA-256)');
      });
    }
  } finally {
    await lab.destroy();
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    if (failureCount() > 0) process.exitCode = 1;
  });
