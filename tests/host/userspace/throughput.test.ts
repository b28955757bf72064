/**
 * Bulk TCP through a userspace P2P tunnel (iperf3, a fixed 32 MiB, each cipher): the transfer
 * must complete and the receiver must get every byte the sender sent. No speed is asserted
 * (speed is the benchmark's job: bench/); the rate is printed for humans.
 *   node dist/tests/host/userspace/throughput.test.js     (root; results to $KOVPN_RESULTS)
 */
import { failureCount, test } from '../../lib/results.js';
import type { CipherAlg } from '../../../src/datapath/types.js';
import { Lab, assert, nsExec, p2pTunnel, sleep } from './lib.js';

const TRANSFER_BYTES = 32 * 1024 * 1024;
const lab = new Lab('t');

interface Transfer {
  sentBytes: number;
  receivedBytes: number;
  mbits: number;
}

async function iperf(cipher: CipherAlg, port: number): Promise<Transfer> {
  await p2pTunnel(lab, { ifname: 'us-tunt', cipher, port });
  try {
    const server = nsExec(lab.b.ns, ['iperf3', '-s', '-1', '-B', '10.77.0.2', '-p', '5301'], 60_000);
    await sleep(500);
    const r = await nsExec(lab.a.ns, ['iperf3', '-c', '10.77.0.2', '-p', '5301', '-n', String(TRANSFER_BYTES), '-J'], 60_000);
    await server;
    assert(r.code === 0, `iperf3 failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0]}`);
    const j = JSON.parse(r.stdout) as {
      end: { sum_sent: { bytes: number }; sum_received: { bytes: number; bits_per_second: number } };
    };
    return {
      sentBytes: j.end.sum_sent.bytes,
      receivedBytes: j.end.sum_received.bytes,
      mbits: j.end.sum_received.bits_per_second / 1e6,
    };
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
        const t = await iperf(cipher, port++);
        console.log(`userspace ${cipher}: ${t.mbits.toFixed(0)} Mbit/s (iperf3 TCP, 32 MiB)`);
        assert(t.sentBytes >= TRANSFER_BYTES, `sender sent ${t.sentBytes} of ${TRANSFER_BYTES} bytes`);
        assert(t.receivedBytes === t.sentBytes, `received ${t.receivedBytes} of ${t.sentBytes} bytes`);
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
