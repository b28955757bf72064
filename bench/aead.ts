/**
 * AEAD throughput on DATA_V2-sized packets: node:crypto (OpenSSL) vs @noble/ciphers.
 * Usage: node dist/bench/aead.js [packetBytes=1400] [seconds per case=1]
 * Prints one line per (cipher, implementation, direction) with ops/s and Mbit/s, then the
 * node/noble ratio per cipher. The data path's DEFAULT_AEAD_IMPL follows these numbers.
 */
import { randomBytes } from 'node:crypto';
import { createAead, type AeadAlg, type AeadImpl, AEAD_KEY_SIZE } from '../src/wire/aead.js';

const size = Number(process.argv[2] ?? 1400);
const seconds = Number(process.argv[3] ?? 1);

function run(alg: AeadAlg, impl: AeadImpl, dir: 'seal' | 'open'): number {
  const aead = createAead(alg, randomBytes(AEAD_KEY_SIZE[alg]), impl);
  const nonce = Buffer.alloc(12);
  const aad = randomBytes(8);
  const pt = randomBytes(size);
  const ct = Buffer.alloc(size);
  const tag = Buffer.alloc(16);
  const out = Buffer.alloc(size);
  aead.seal(nonce, aad, pt, ct, tag);
  const deadline = performance.now() + seconds * 1000;
  let ops = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < 64; i++) {
      if (dir === 'seal') {
        nonce.writeUInt32BE(ops + i, 0);
        aead.seal(nonce, aad, pt, ct, tag);
      } else if (!aead.open(nonce, aad, ct, tag, out)) {
        throw new Error(`${alg}/${impl}: authentication failed in the benchmark`);
      }
    }
    ops += 64;
  }
  return ops / ((performance.now() - start) / 1000);
}

const algs: AeadAlg[] = ['aes-256-gcm', 'chacha20-poly1305'];
for (const alg of algs) {
  const rate: Record<string, number> = {};
  for (const impl of ['node', 'noble'] as const) {
    for (const dir of ['seal', 'open'] as const) {
      const r = run(alg, impl, dir);
      rate[`${impl}/${dir}`] = r;
      const mbit = (r * size * 8) / 1e6;
      console.log(`${alg.padEnd(18)} ${impl.padEnd(6)} ${dir}  ${Math.round(r).toString().padStart(9)} ops/s  ${mbit.toFixed(0).padStart(6)} Mbit/s`);
    }
  }
  const ratioSeal = rate['node/seal']! / rate['noble/seal']!;
  const ratioOpen = rate['node/open']! / rate['noble/open']!;
  console.log(`${alg.padEnd(18)} ratio node/noble: seal ${ratioSeal.toFixed(2)}x  open ${ratioOpen.toFixed(2)}x  (${size}-byte packets)`);
}
