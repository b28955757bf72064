/**
 * Starting an engine process for this network namespace: detached, so that it outlives
 * the command that created a device (`ovpn-cli new_iface` returns, the engine stays).
 * Its stderr goes to <run dir>/engine.log.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatapathError } from './errors.js';
import { runDir } from './paths.js';

export const ENGINE_MAIN = fileURLToPath(new URL('./engine-main.js', import.meta.url));

/** Node starts slowly under emulation (qemu TCG): be patient. */
const START_TIMEOUT_MS = 60_000;

/**
 * Spawns `node engine-main.js --socket <path>` and resolves once it listens, or once it
 * exited because another engine already listens there (a lost race is not an error).
 */
export function spawnEngine(socketPath: string): Promise<void> {
  mkdirSync(runDir(), { recursive: true, mode: 0o700 });
  const logPath = join(runDir(), 'engine.log');
  const log = openSync(logPath, 'a');
  const child = spawn(process.execPath, [ENGINE_MAIN, '--socket', socketPath], {
    detached: true,
    cwd: '/', // hold no directory of the command that started it
    stdio: ['ignore', 'pipe', log],
  });
  closeSync(log);
  return new Promise((resolve, reject) => {
    let out = '';
    const finish = (err?: Error) => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdout?.destroy();
      child.removeAllListeners('exit');
      child.unref();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new DatapathError('EIO', `userspace engine did not start within ${START_TIMEOUT_MS / 1000} s (see ${logPath})`)),
      START_TIMEOUT_MS,
    );
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) finish();
    });
    child.once('exit', (code) => {
      // 3: another engine already serves this namespace
      if (code === 3) finish();
      else finish(new DatapathError('EIO', `userspace engine exited with status ${code} while starting (see ${logPath})`));
    });
    child.once('error', (err) => finish(new DatapathError('EIO', `cannot start the userspace engine: ${err.message}`)));
  });
}
