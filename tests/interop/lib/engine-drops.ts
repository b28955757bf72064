/**
 * Prints the userspace engine's drop counters of one device as JSON (run inside the device's
 * namespace): `node dist/tests/interop/lib/engine-drops.js <dev>`.
 */
import { UserspaceDatapath } from '../../../src/datapath/userspace/index.js';

async function main(): Promise<void> {
  const dp = await UserspaceDatapath.open();
  try {
    const dev = await dp.openDevice(process.argv[2] ?? 'tun0');
    const drops = await dev.drops();
    process.stdout.write(`${JSON.stringify(drops)}\n`);
  } finally {
    await dp.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`engine-drops: ${(err as Error).message}\n`);
  process.exit(1);
});
