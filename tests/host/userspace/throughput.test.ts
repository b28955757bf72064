/**
 * Throughput through a userspace P2P tunnel (iperf3 TCP, 3 s, each cipher). The assertion
 * is only a floor that catches a broken or pathologically slow data path on a shared,
 * loaded host; the measured rate is printed for humans (bench/ has the real benchmark).
 *   node dist/tests/host/userspace/throughput.test.js     (root; results to $KOVPN_RESULTS)
 */
import { failureCount, test } from '../../lib/results.js';
import type { CipherAlg } from '../../../src/datapath/types.js';
import { Lab, assert, nsExec, p2pTunnel, sleep } from './lib.js';

const FLOOR_MBITS = 20;
const lab = new Lab('t');

async function iperf(cipher: CipherAlg, port: number): Promise<number> {
  await p2pTunnel(lab, { ifname: 'us-tunt', cipher, port });
  try {
    const server = nsExec(lab.b.ns, ['iperf3', '-s', '-1', '-B', '10.77.0.2', '-p', '5301'], 60_000);
    await sleep(500);
    const r = await nsExec(lab.a.ns, ['iperf3', '-c', '10.77.0.2', '-p', '5301', '-t', '3', '-J'], 60_000);
    await server;
    assert(r.code === 0, `iperf3 failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0]}`);
    const j = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } };
    return j.end.sum_received.bits_per_second / 1e6;
  } finally {
    for (const n of [lab.a, lab.b]) await n.dp.deleteDevice('us-tunt').catch(() => {});
  }
}

async function main(): Promise<void> {
  await lab.create();
  try {
    let port = 1600;
    for (const cipher of ['aes-gcm', 'chacha20-poly1305'] as const) {
      await test(`userspace throughput ${cipher} above ${FLOOR_MBITS} Mbit/s`, async () => {
        const mbits = await iperf(cipher, port++);
        console.log(`userspace ${cipher}: ${mbits.toFixed(0)} Mbit/s (iperf3 TCP, 3 s)`);
        assert(mbits >= FLOOR_MBITS, `${mbits.toFixed(1)} Mbit/s`);
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
