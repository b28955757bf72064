import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { ArgumentError, CliError } from '../../common/errors.js';
import { parseIdScheme, parseIfname, parsePort } from '../../common/parse.js';
import { formatEndpoint } from '../../common/output.js';
import { waitForTermination } from '../../common/signals.js';
import { reportReady, writePidFile } from '../detach.js';
import { type TcpPeersFileEntry, readTcpPeersFile } from '../peers-file.js';
import { tcpCloseText } from '../tcp.js';
import { anyAddress } from '../socket.js';
import type { PeerConfig, TcpListener, TcpTransport } from '../../../datapath/types.js';

/**
 * listen [--foreground] [--pid-file F] <iface> <lport> <SYMM|ASYMM> <peers_file> [ipv6]
 * The selftests' TCP server: listens on port lport (0.0.0.0; with `ipv6` on :: dual-stack,
 * IPv4 clients too, as the selftests' client opens its IPv6 sockets with IPV6_V6ONLY off)
 * and accepts one connection per line of the TCP peers file (`peer_id tx_id vpnaddr`): the
 * n-th connection accepted becomes the peer of the n-th line, on its own socket (ASYMM: the
 * line's tx_id is put on transmitted packets; SYMM: peer_id both ways); a connection that
 * ends before every line has one gives its line to the next connection. Once every peer is
 * in, the listening socket is closed, a "ready" line goes to stderr and the connections are
 * held until SIGTERM/SIGINT (closing them deletes the peers, reason transport-disconnect) or
 * until every one of them has ended. Detaches unless --foreground: the command returns once
 * all peers have connected, and keys are installed with new_key afterwards. On a P2P device
 * the file has one line and its vpnaddr is not used (the device refuses VPN addresses).
 */
export class ListenCommand extends OvpnCommand {
  static override paths = [['listen']];
  static override usage = Command.Usage({
    description: 'accept a TCP connection per line of a peers file, each its own peer, and hold them (detached) until SIGTERM/SIGINT',
    details:
      'Returns once every peer of the file has connected (the n-th connection is the peer of the n-th line); a background ovpn-cli process holds the connections. Peers file lines: peer_id tx_id vpnaddr. [ipv6]: listen on :: (IPv6 and IPv4, dual-stack) instead of 0.0.0.0.',
    examples: [
      ['Peers of peers.txt over TCP on port 1, then their keys', 'ovpn-cli listen tun0 1 SYMM peers.txt && ovpn-cli new_key tun0 1 1 0 aes 0 data64.key'],
      ['Over IPv6, tx ids of the file', 'ovpn-cli listen tun0 1194 ASYMM peers.txt ipv6'],
    ],
  });

  foreground = Option.Boolean('--foreground', false, {
    description: 'hold the connections in this process instead of detaching',
  });
  pidFile = Option.String('--pid-file', { description: "write the holder's pid to this file once set up" });

  iface = Option.String({ name: 'iface' });
  lport = Option.String({ name: 'lport' });
  scheme = Option.String({ name: 'SYMM|ASYMM' });
  peersFile = Option.String({ name: 'peers_file' });
  ipv6 = Option.String({ name: 'ipv6', required: false });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const lport = parsePort(this.lport, 'local port');
    const scheme = parseIdScheme(this.scheme);
    if (this.ipv6 !== undefined && this.ipv6 !== 'ipv6') {
      throw new ArgumentError(`invalid [ipv6] "${this.ipv6}": expected "ipv6" or nothing`);
    }
    const family = this.ipv6 === undefined ? 4 : 6;
    const entries = await readTcpPeersFile(this.peersFile);

    const terminated = waitForTermination();
    const conns: TcpTransport[] = [];
    let listener: TcpListener | undefined;
    try {
      const dp = await this.datapath();
      const dev = await dp.openDevice(name);
      if (dev.mode === 'p2p' && entries.length > 1) {
        throw new ArgumentError(`${name} is a P2P device (one peer); peers file ${this.peersFile} has ${entries.length}`);
      }
      listener = await dp.tcpListen({ address: anyAddress(family), port: lport, ...(family === 6 ? { v6only: false } : {}) });
      this.info(`listening on tcp ${formatEndpoint(listener.local)} for ${entries.length} peers`);

      let open = 0; // lines with a live connection
      // Accepted connections in order; `next` hands out the next one (or the signal).
      const queue: TcpTransport[] = [];
      const gone = new Set<TcpTransport>(); // accepted connections that have ended
      let wake: (() => void) | undefined;
      listener.onAccept((c) => {
        c.onClose(() => gone.add(c));
        queue.push(c);
        wake?.();
      });
      const next = async (): Promise<TcpTransport> => {
        while (queue.length === 0) {
          const arrived = new Promise<void>((resolve) => (wake = resolve));
          const r = await Promise.race([arrived, terminated.signal]);
          wake = undefined;
          if (typeof r === 'string') throw new CliError(`${r} before every peer connected (${open} of ${entries.length})`);
        }
        return queue.shift()!;
      };

      // Lines still without a live connection, in file order. A connection that ends before
      // every line has one (a port probe, a client that gave up) frees its line again: the
      // next connection gets the first free line.
      const pending = [...entries];
      let setupDone = false;
      let allEnded: () => void = () => {};
      const ended = new Promise<void>((resolve) => (allEnded = resolve));
      const freed = (c: TcpTransport, e: TcpPeersFileEntry): void => {
        this.info(`a connection from ${formatEndpoint(c.remote)} ended before every peer connected: line ${e.line} (peer ${e.peerId}) is free again`);
        const at = pending.findIndex((p) => p.line > e.line);
        pending.splice(at < 0 ? pending.length : at, 0, e);
      };
      while (pending.length > 0) {
        // the first free line once a connection is there (a line freed meanwhile comes first)
        const c = await next();
        const e = pending.shift()!;
        const peer: PeerConfig = { id: e.peerId };
        if (scheme === 'asymm' && e.txId !== undefined) peer.txId = e.txId;
        // a P2P device routes everything to its one peer: no VPN address (the device refuses one)
        if (dev.mode === 'mp' && e.vpn.family === 4) peer.vpnIpv4 = e.vpn.address;
        if (dev.mode === 'mp' && e.vpn.family === 6) peer.vpnIpv6 = e.vpn.address;
        conns.push(c);
        if (!gone.has(c)) {
          try {
            await dev.newPeer({ ...peer, socket: c });
          } catch (err) {
            // ENOTCONN: the kernel found the connection no longer ESTABLISHED (closed before
            // the peer was added); its end is read a moment later
            if ((err as { code?: string }).code === 'ENOTCONN') {
              gone.add(c);
              await c.close();
            }
            if (!gone.has(c)) throw err;
          }
        }
        if (gone.has(c)) {
          freed(c, e);
          continue;
        }
        open++;
        c.onClose((reason, detail) => {
          open--;
          if (!setupDone) {
            if (reason !== 'local') freed(c, e); // 'local': this command is failing and closes all
            return;
          }
          if (reason !== 'local') this.info(`the connection of peer ${e.peerId} was ${tcpCloseText(reason, detail)}`);
          if (open === 0) allEnded();
        });
        this.info(`peer ${e.peerId} (line ${e.line}): tcp ${formatEndpoint(c.remote)} -> ${formatEndpoint(c.local)}`);
      }
      setupDone = true;
      // every line has its peer: later connections are refused
      await listener.close();
      listener = undefined;
      for (const c of queue.splice(0)) await c.close();

      writePidFile(this.pidFile);
      this.info(`ready: ${entries.length} peers on ${name}, tcp port ${lport}`);
      reportReady();
      const end = await Promise.race([terminated.signal, ended]);
      if (end === undefined) this.info('every connection has ended: nothing left to hold');
      else this.info(`${end}: closing the connections of ${entries.length} peers`);
    } finally {
      terminated.dispose();
      await listener?.close();
      await Promise.all(conns.map((c) => c.close()));
    }
  }
}
