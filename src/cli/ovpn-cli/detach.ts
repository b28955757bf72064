/**
 * Detaching socket holders, as the selftests' client does: its new_peer/new_multi_peer
 * (UDP) and connect/listen (TCP) set up the sockets and peers, then daemon() (the parent
 * exits 0) and pause() until a signal ends them; scripts go on once the command returned
 * and kill the holders at cleanup.
 *
 * Node cannot fork, so the command re-executes itself once, detached (new session, stdin
 * and stdout on /dev/null, stderr kept like daemon(nochdir=1, noclose=1)), with a pipe
 * on fd 3. The child does everything (argument checks, data path, socket, peers) and writes
 * "ready" on the pipe once set up; the parent, which loads nothing but this module, exits 0
 * then, or with the child's status when the child ends first (the child's one-line error is
 * already on the shared stderr). The holder is that one child process; its process name is
 * "ovpn-cli", so `killall ovpn-cli` finds it, and `--pid-file` records its pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, writeFileSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { PROG } from './usage.js';

/** Environment variable naming the child's ready fd (set by runDetached only). */
export const READY_FD_ENV = 'KOVPN_OVPN_CLI_READY_FD';

/** Commands that detach unless given --foreground. */
export const DETACHING_COMMANDS: ReadonlySet<string> = new Set(['new_peer', 'new_multi_peer', 'connect', 'listen']);

export const FOREGROUND_OPTION = '--foreground';

/** Whether `ovpn-cli <hoisted argv>` should detach: a holder command, no --foreground, no --help. */
export function wantsDetach(hoisted: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const [word, ...rest] = hoisted;
  if (word === undefined || !DETACHING_COMMANDS.has(word)) return false;
  if (env[READY_FD_ENV] !== undefined) return false; // already the detached child
  return !rest.some((a) => a === FOREGROUND_OPTION || a === '--help' || a === '-h');
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * Parent side: starts `node <this script> <argv>` detached and resolves with 0 once it
 * reported ready, else with its exit status (1 if a signal ended it). A signal received
 * while waiting is passed on to the child (which then ends and is waited for).
 */
export function runDetached(argv: readonly string[], stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  const script = process.argv[1];
  if (script === undefined) return Promise.resolve(1);
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    env: { ...process.env, [READY_FD_ENV]: '3' },
  });
  return new Promise((resolve) => {
    let done = false;
    let ready = false;
    let text = '';
    const forward = (sig: NodeJS.Signals) => (): void => {
      if (!ready) child.kill(sig);
    };
    const handlers = SIGNALS.map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const finish = (status: number): void => {
      if (done) return;
      done = true;
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(status);
    };
    const pipe = child.stdio[3] as Readable;
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      text += chunk;
      if (!ready && text.startsWith('ready\n')) {
        ready = true;
        pipe.destroy();
        child.unref();
        finish(0);
      }
    });
    pipe.on('error', () => undefined);
    child.on('error', (err) => {
      stderr.write(`${PROG}: cannot start the detached process: ${err.message}\n`);
      finish(1);
    });
    child.on('exit', (code, signal) => {
      if (ready) return;
      if (code === 0 || code === null) {
        stderr.write(`${PROG}: ${argv[0] ?? ''}: ended (${signal ?? 'status 0'}) before its setup completed\n`);
        finish(1);
        return;
      }
      finish(code);
    });
  });
}

let readyFd: number | undefined;

/**
 * Child side, first thing at start: takes the ready fd named in the environment, removes
 * the variable and names the process "ovpn-cli". Returns whether this process is a
 * detached holder. (The fd is a socket, which cannot be reopened close-on-exec through
 * /proc, so a process the setup starts, such as the userspace engine, inherits a copy;
 * harmless: the parent decides on the "ready" line or the child's exit, never on EOF.)
 */
export function takeReadyChannel(env: NodeJS.ProcessEnv = process.env): boolean {
  const text = env[READY_FD_ENV];
  if (text === undefined) return false;
  delete env[READY_FD_ENV];
  const fd = Number(text);
  readyFd = Number.isInteger(fd) && fd >= 3 ? fd : undefined;
  process.title = PROG;
  return true;
}

/** `--pid-file`: this process's pid, written once the holder is set up (either mode). */
export function writePidFile(path: string | undefined): void {
  if (path !== undefined) writeFileSync(path, `${process.pid}\n`);
}

/**
 * A holder finished its setup (and printed its "ready" line): in a detached child, tells
 * the waiting parent, which then exits 0. Does nothing in the foreground. Idempotent.
 */
export function reportReady(): void {
  const fd = readyFd;
  if (fd === undefined) return;
  readyFd = undefined;
  try {
    writeSync(fd, 'ready\n');
  } catch {
    // the parent is gone (killed): nothing to tell
  }
  try {
    closeSync(fd);
  } catch {
    // not open
  }
}
