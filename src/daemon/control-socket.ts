/**
 * The daemon's local control socket (unix, JSON lines), one per device and network
 * namespace: `{"cmd":"status"}` -> one status object; `{"cmd":"events"}` -> a stream of
 * events (after an acknowledgement `{"ok":true,"subscribed":true}`); `{"cmd":"rekey"}` -> rekey every session now. Root only (directory mode 0700).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { netnsInode, runDir } from '../datapath/userspace/paths.js';
import type { DaemonEvent, EventBus } from './events.js';
import type { TunnelStatus } from './status.js';

export function controlSocketPath(dev: string): string {
  return join(runDir(), `net-${netnsInode()}`, `kovpn-${dev}.sock`);
}

export interface ControlTarget {
  status(): Promise<TunnelStatus>;
  rekey(): void;
}

export class ControlSocketServer {
  private constructor(private readonly server: Server, readonly path: string) {}

  static async listen(path: string, target: ControlTarget, events: EventBus): Promise<ControlSocketServer> {
    const server = createServer((sock) => serve(sock, target, events));
    for (let attempt = 0; ; attempt++) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      rmSync(path, { force: true });
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(path, () => {
            server.off('error', reject);
            resolve();
          });
        });
        return new ControlSocketServer(server, path);
      } catch (err) {
        // ENOENT: a stopping userspace engine removed the (then empty) directory meanwhile
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
      }
    }
  }

  /** libuv unlinks the socket file as close() is called: removing it again afterwards could
   *  remove the socket of a daemon that has started since on the same device name. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const bigintSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

function serve(sock: Socket, target: ControlTarget, events: EventBus): void {
  let buf = '';
  let off: (() => void) | undefined;
  sock.on('close', () => off?.());
  sock.on('error', () => off?.());
  sock.on('data', (d) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let cmd: unknown;
      try {
        cmd = (JSON.parse(line) as { cmd?: unknown }).cmd;
      } catch {
        sock.write(`${JSON.stringify({ ok: false, error: 'request is not JSON' })}\n`);
        continue;
      }
      if (cmd === 'status') {
        target.status().then(
          (s) => sock.write(`${JSON.stringify({ ok: true, status: s }, bigintSafe)}\n`),
          (e: Error) => sock.write(`${JSON.stringify({ ok: false, error: e.message })}\n`));
      } else if (cmd === 'events') {
        // The acknowledgement first: every event after it reaches this subscriber.
        if (!off) sock.write(`${JSON.stringify({ ok: true, subscribed: true })}\n`);
        off ??= events.on((e: DaemonEvent) => sock.write(`${JSON.stringify(e)}\n`));
      } else if (cmd === 'rekey') {
        target.rekey();
        sock.write(`${JSON.stringify({ ok: true })}\n`);
      } else {
        sock.write(`${JSON.stringify({ ok: false, error: `unknown command ${JSON.stringify(cmd)}` })}\n`);
      }
    }
  });
}

/** Client side: sends one request and hands each response line to `onLine` until it returns false. */
export function request(path: string, cmd: string, onLine: (obj: Record<string, unknown>) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    sock.on('connect', () => sock.write(`${JSON.stringify({ cmd })}\n`));
    sock.on('error', (e: NodeJS.ErrnoException) => reject(
      e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
        ? new Error(`no kovpn daemon is running for this device (no socket ${path})`) : e));
    sock.on('close', () => resolve());
    sock.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!onLine(JSON.parse(line) as Record<string, unknown>)) {
          sock.end();
          return;
        }
      }
    });
  });
}
