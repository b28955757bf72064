/**
 * AEAD throughput on DATA_V2-sized packets: the addon's reused OpenSSL context vs
 * node:crypto (the same OpenSSL, a new cipher per packet) vs @noble/ciphers.
 * Usage: node dist/bench/aead.js [packetBytes=1400] [seconds per case=1]
 * Prints one line per (cipher, implementation, direction) with ops/s, Mbit/s and us/op, then
 * the ratios per cipher. The data path's defaultAeadImpl() follows these numbers.
 */
import { randomBytes } from 'node:crypto';
import { createAead, type AeadAlg, type AeadImpl, AEAD_KEY_SIZE } from '../src/wire/aead.js';

const size = Number(process.argv[2] ?? 1400);
const seconds = Number(process.argv[3] ?? 1);

function run(alg: AeadAlg, impl: AeadImpl, dir: 'seal' | 'open'): number {
  const aead = createAead(alg, randomBytes(AEAD_KEY_SIZE[alg]), impl);
  const nonce = Buffer.alloc(12);
  // the hot path's form: one packet buffer, AAD 0..8, tag 8..24, ciphertext 24..
  const io = Buffer.alloc(24 + size);
  randomBytes(8).copy(io, 0);
  const pt = randomBytes(size);
  const out = Buffer.alloc(size);
  aead.sealAt(nonce, io, 0, 8, pt, 0, size, 24, 8);
  const deadline = performance.now() + seconds * 1000;
  let ops = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < 64; i++) {
      if (dir === 'seal') {
        nonce.writeUInt32BE(ops + i, 0);
        aead.sealAt(nonce, io, 0, 8, pt, 0, size, 24, 8);
      } else if (!aead.openAt(nonce, io, 0, 8, 24, size, 8, out, 0)) {
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
  for (const impl of ['native', 'node', 'noble'] as const) {
    for (const dir of ['seal', 'open'] as const) {
      const r = run(alg, impl, dir);
      rate[`${impl}/${dir}`] = r;
      const mbit = (r * size * 8) / 1e6;
      console.log(`${alg.padEnd(18)} ${impl.padEnd(6)} ${dir}  ${Math.round(r).toString().padStart(9)} ops/s  ${mbit.toFixed(0).padStart(6)} Mbit/s  ${(1e6 / r).toFixed(2).padStart(7)} us/op`);
    }
  }
  const ratio = (a: string, b: string) =>
    `seal ${(rate[`${a}/seal`]! / rate[`${b}/seal`]!).toFixed(2)}x  open ${(rate[`${a}/open`]! / rate[`${b}/open`]!).toFixed(2)}x`;
  console.log(`${alg.padEnd(18)} ratio native/node: ${ratio('native', 'node')}  node/noble: ${ratio('node', 'noble')}  (${size}-byte packets)`);
}
