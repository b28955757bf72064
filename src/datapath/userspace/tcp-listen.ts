/**
 * TCP connection set-up for the engine (issue #11): a non-blocking connect with a deadline,
 * and a listening socket that accepts connections as they come. The connected fds become
 * EngineTcp transports (tcp.ts).
 */
import { constants } from 'node:os';
import type { NativeAddon, Poller } from '../../native.js';
import type { Endpoint } from '../types.js';
import { decodeSockaddr, encodeSockaddr, endpointText } from '../../util/sockaddr.js';
import { setSocketMark } from '../../util/sockopt.js';
import { DatapathError, fromSystemError } from './errors.js';

const BACKLOG = 128;

function errnoName(n: number): string {
  for (const [k, v] of Object.entries(constants.errno)) if (v === n) return k;
  return `errno ${n}`;
}

/**
 * Connects to `remote`; resolves with the connected fd. Rejects ECONNREFUSED / ETIMEDOUT /
 * EIO with a line naming the address. `local`: the source address (and port, 0: any) bound
 * before the connect; `mark`: SO_MARK, set before the SYN.
 */
export function connectTcp(addon: NativeAddon, remote: Endpoint, local: { address: string; port?: number } | undefined, mark: number, timeoutMs: number): Promise<number> {
  const where = `TCP connect to ${endpointText(remote)}${local ? ` from ${endpointText({ address: local.address, port: local.port ?? 0 })}` : ''}`;
  let fd: number;
  try {
    const from = local === undefined ? null : encodeSockaddr({ address: local.address, port: local.port ?? 0 });
    fd = addon.tcpConnect(encodeSockaddr(remote), from, mark);
  } catch (err) {
    return Promise.reject(fromSystemError(err, where));
  }
  return new Promise((resolve, reject) => {
    const poller: Poller = new addon.Poller(fd);
    const fail = (e: DatapathError) => {
      clearTimeout(timer);
      poller.close();
      addon.close(fd);
      reject(e);
    };
    const timer = setTimeout(() => fail(new DatapathError('ETIMEDOUT', `${where}: no answer within ${timeoutMs} ms`)), timeoutMs);
    poller.start((pollErr?: Error) => {
      let err: number;
      try {
        // libuv reports a failed connect as the poll's error (and SO_ERROR is then consumed)
        const code = (pollErr as NodeJS.ErrnoException | undefined)?.code;
        err = code !== undefined ? ((constants.errno as Record<string, number>)[code] ?? constants.errno.EIO) : addon.sockError(fd);
        if (err === 0) addon.peerName(fd); // connected for real (throws ENOTCONN otherwise)
      } catch (e) {
        fail(fromSystemError(e, where));
        return;
      }
      if (err !== 0) {
        const name = errnoName(err);
        fail(new DatapathError(name === 'ECONNREFUSED' ? 'ECONNREFUSED' : name === 'ETIMEDOUT' ? 'ETIMEDOUT' : 'EIO', `${where}: ${name}`));
        return;
      }
      clearTimeout(timer);
      poller.close();
      resolve(fd);
    }, 'writable');
  });
}

/** A listening TCP socket: `onConnection` gets each accepted fd. */
export class EngineTcpListener {
  readonly local: Endpoint;
  private readonly poller: Poller;
  private closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    readonly id: number,
    private readonly fd: number,
    private readonly onConnection: (fd: number) => void,
  ) {
    this.local = decodeSockaddr(addon.sockName(fd));
    this.poller = new addon.Poller(fd);
    this.poller.start(this.onReadable);
  }

  /** `v6only` false on an IPv6 address: a dual-stack listener (IPv4 clients too; their
   *  connections' addresses are unmapped to IPv4 by EngineTcp). */
  static open(addon: NativeAddon, id: number, local: Endpoint, mark: number, v6only: boolean, onConnection: (fd: number) => void): EngineTcpListener {
    let fd: number;
    try {
      fd = addon.tcpListen(encodeSockaddr(local), BACKLOG, v6only);
    } catch (err) {
      throw fromSystemError(err, `cannot listen on TCP ${endpointText(local)}`);
    }
    try {
      if (mark) setSocketMark(addon, fd, mark);
      return new EngineTcpListener(addon, id, fd, onConnection);
    } catch (err) {
      addon.close(fd);
      throw fromSystemError(err, `TCP listener on ${endpointText(local)}`);
    }
  }

  private readonly onReadable = (): void => {
    for (let i = 0; i < 64 && !this.closed; i++) {
      let c: { fd: number; peer: Buffer } | null;
      try {
        c = this.addon.tcpAccept(this.fd);
      } catch {
        return; // EMFILE and the like: try again on the next event
      }
      if (c === null) return;
      this.onConnection(c.fd);
    }
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.addon.close(this.fd);
  }
}
