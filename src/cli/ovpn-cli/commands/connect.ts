import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { CliError } from '../../common/errors.js';
import { parseIfname, parseIpAddress, parsePeerId, parsePort, parseTxId } from '../../common/parse.js';
import { formatEndpoint } from '../../common/output.js';
import { waitForTermination } from '../../common/signals.js';
import { reportReady, writePidFile } from '../detach.js';
import { CONNECT_TIMEOUT_MS, connectError, tcpCloseText } from '../tcp.js';
import { keysForDirection, readKeyFile } from '../../../wire/keyfile.js';
import type { Endpoint, PeerConfig, TcpCloseReason, TcpTransport } from '../../../datapath/types.js';

/**
 * connect [--foreground] [--pid-file F] <iface> <peer_id> <tx_id|none> <raddr> <rport> [key_file]
 * The selftests' TCP client: connects to raddr:rport, adds the peer on the connected socket
 * (its remote is the connection's) and, with key_file, installs that key as the selftests'
 * client does (slot 1, key id 0, AES-256-GCM, key direction 1: the server side uses 0),
 * so the client needs no new_key. Prints a "ready" line on stderr and holds the connection
 * until SIGTERM/SIGINT (closing it deletes the peer on both sides, reason
 * transport-disconnect) or until the connection ends. Detaches unless --foreground.
 */
export class ConnectCommand extends OvpnCommand {
  static override paths = [['connect']];
  static override usage = Command.Usage({
    description: 'add a TCP client peer on a new connection and hold it (detached) until SIGTERM/SIGINT',
    details:
      'Returns once connected and the peer (and with [key_file] its AES-GCM key: slot 1, key id 0, key direction 1) is set up; a background ovpn-cli process holds the connection. Without [key_file] install a key with new_key (e.g. chachapoly).',
    examples: [
      ['Peer 1 over TCP to 10.10.1.1:1, with its key', 'ovpn-cli connect tun1 1 none 10.10.1.1 1 data64.key'],
      ['ChaCha20-Poly1305 instead', 'ovpn-cli connect tun1 1 none 10.10.1.1 1 && ovpn-cli new_key tun1 1 1 0 chachapoly 1 data64.key'],
    ],
  });

  foreground = Option.Boolean('--foreground', false, {
    description: 'hold the connection in this process instead of detaching',
  });
  pidFile = Option.String('--pid-file', { description: "write the holder's pid to this file once set up" });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });
  txId = Option.String({ name: 'tx_id|none' });
  raddr = Option.String({ name: 'raddr' });
  rport = Option.String({ name: 'rport' });
  keyFile = Option.String({ name: 'key_file', required: false });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const id = parsePeerId(this.peerId);
    const txId = parseTxId(this.txId);
    const raddr = parseIpAddress(this.raddr, 'remote address');
    const remote: Endpoint = { address: raddr.address, port: parsePort(this.rport, 'remote port') };
    if (raddr.scopeId !== undefined) remote.scopeId = raddr.scopeId;
    const keys = this.keyFile === undefined ? undefined : keysForDirection(await readKeyFile(this.keyFile), 1);

    const terminated = waitForTermination();
    try {
      const dp = await this.datapath();
      const dev = await dp.openDevice(name);
      // a signal during the handshake ends the wait (the connection, if it still comes, goes
      // with the data path when the command ends)
      const attempt = dp.tcpConnect(remote, { timeoutMs: CONNECT_TIMEOUT_MS }).then(
        (c) => ({ c }),
        (err: unknown) => ({ err }),
      );
      const first = await Promise.race([attempt, terminated.signal]);
      if (typeof first === 'string') throw new CliError(`${first} while connecting to ${formatEndpoint(remote)}`);
      if ('err' in first) throw connectError(first.err, remote);
      const conn: TcpTransport = first.c;
      const ended = new Promise<{ reason: TcpCloseReason; detail: string | undefined }>((resolve) =>
        conn.onClose((reason, detail) => resolve({ reason, detail })),
      );
      try {
        const peer: PeerConfig = { id, socket: conn };
        if (txId !== undefined) peer.txId = txId;
        await dev.newPeer(peer);
        if (keys) {
          await dev.newKey({ peerId: id, slot: 'primary', keyId: 0, cipher: 'aes-gcm', encrypt: keys.encrypt, decrypt: keys.decrypt });
        }
        writePidFile(this.pidFile);
        this.info(
          `ready: peer ${id} on ${name}, tcp ${formatEndpoint(conn.local)} -> ${formatEndpoint(conn.remote)}${keys ? ', key in slot 1' : ''}`,
        );
        reportReady();
        const end = await Promise.race([terminated.signal, ended]);
        if (typeof end === 'string') this.info(`${end}: closing the connection of peer ${id}`);
        else this.info(`the connection of peer ${id} was ${tcpCloseText(end.reason, end.detail)}: nothing left to hold`);
      } finally {
        await conn.close();
      }
    } finally {
      terminated.dispose();
    }
  }
}
