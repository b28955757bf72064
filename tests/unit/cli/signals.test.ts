/**
 * waitForTermination in a real child process: it must keep an otherwise idle process
 * alive (a kernel-path new_peer holds its socket only as an fd) and return the signal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const SIGNALS = new URL('../../../src/cli/common/signals.js', import.meta.url).href;

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`an idle process stays alive until ${sig}, then returns it`, async () => {
    const script =
      `const m = await import(${JSON.stringify(SIGNALS)});` +
      `const w = m.waitForTermination(); process.stdout.write('waiting\\n');` +
      `process.stdout.write((await w.signal) + '\\n');`;
    const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 400 && !out.includes('waiting') && proc.exitCode === null; i++) await sleep(25);
    await sleep(500);
    assert.is(proc.exitCode, null, `the process exited while it should hold on (output: ${out})`);
    proc.kill(sig);
    assert.is(await exited, 0);
    assert.is(out, `waiting\n${sig}\n`);
  });
}

test('dispose lets an idle process exit on its own', async () => {
  const script =
    `const m = await import(${JSON.stringify(SIGNALS)});` +
    `const w = m.waitForTermination(); setTimeout(() => w.dispose(), 200);`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  assert.is(code, 0);
});

test.run();
