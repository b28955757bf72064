import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { ArgumentError } from '../../common/errors.js';
import { parseIdScheme, parseIfname, parsePort, parseUInt } from '../../common/parse.js';
import { formatEndpoint } from '../../common/output.js';
import { waitForTermination } from '../../common/signals.js';
import { reportReady, writePidFile } from '../detach.js';
import { readPeersFile } from '../peers-file.js';
import { openPeersSocket } from '../socket.js';
import type { PeerConfig } from '../../../datapath/types.js';

/**
 * new_multi_peer [--foreground] [--pid-file F] <iface> <lport> <SYMM|ASYMM> <peers_file> [mark]
 * Opens one UDP socket on lport, as the selftests' client does: IPv6 and dual-stack (IPv4
 * peers on it too), or IPv4 where every peer of the file is IPv4 and IPv6 is unavailable;
 * SO_MARK `mark` when given and non-zero. Adds every peer of the file, prints a "ready" line
 * on stderr and holds the socket until SIGTERM/SIGINT (closing it deletes the peers, reason
 * transport-disconnect). Detaches unless --foreground (see new_peer).
 */
export class NewMultiPeerCommand extends OvpnCommand {
  static override paths = [['new_multi_peer']];
  static override usage = Command.Usage({
    description: 'add the UDP peers of a peers file and hold their socket (detached) until SIGTERM/SIGINT',
    details: 'Returns once the peers are set up; a background ovpn-cli process holds the socket. [mark]: SO_MARK on the socket (decimal).',
    examples: [
      ['Peers of peers.txt on port 1194, packets marked 1056', 'ovpn-cli new_multi_peer tun0 1194 SYMM peers.txt 1056 && ovpn-cli get_peer tun0'],
      ['Hold in the foreground', 'ovpn-cli new_multi_peer --foreground tun0 1194 ASYMM peers.txt &'],
    ],
  });

  foreground = Option.Boolean('--foreground', false, {
    description: 'hold the socket in this process instead of detaching',
  });
  pidFile = Option.String('--pid-file', { description: "write the holder's pid to this file once set up" });

  iface = Option.String({ name: 'iface' });
  lport = Option.String({ name: 'lport' });
  scheme = Option.String({ name: 'SYMM|ASYMM' });
  peersFile = Option.String({ name: 'peers_file' });
  mark = Option.String({ name: 'mark', required: false });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const lport = parsePort(this.lport, 'local port');
    const scheme = parseIdScheme(this.scheme);
    const mark = this.mark === undefined ? 0 : parseUInt(this.mark, 'mark', 0, 0xffffffff);
    const entries = await readPeersFile(this.peersFile);
    for (const e of entries) {
      if (e.localPort !== lport) {
        throw new ArgumentError(
          `peers file ${this.peersFile} line ${e.line}: local port ${e.localPort} differs from <lport> ${lport}`,
        );
      }
    }

    const terminated = waitForTermination();
    try {
      const dp = await this.datapath();
      const dev = await dp.openDevice(name);
      const socket = await openPeersSocket(dp, lport, { mark, ipv4Only: entries.every((e) => e.remote.family === 4) });
      try {
        for (const e of entries) {
          const peer: PeerConfig = {
            id: e.peerId,
            socket,
            local: { address: e.local.address },
            remote: { address: e.remote.address, port: e.remotePort },
          };
          if (e.remote.scopeId !== undefined && peer.remote) peer.remote.scopeId = e.remote.scopeId;
          if (scheme === 'asymm' && e.txId !== undefined) peer.txId = e.txId;
          if (e.vpn.family === 4) peer.vpnIpv4 = e.vpn.address;
          else peer.vpnIpv6 = e.vpn.address;
          await dev.newPeer(peer);
        }
        writePidFile(this.pidFile);
        this.info(`ready: ${entries.length} peers on ${name}, udp ${formatEndpoint(socket.local)}${mark ? `, mark ${mark}` : ''}`);
        reportReady();
        const signal = await terminated.signal;
        this.info(`${signal}: closing the socket of ${entries.length} peers`);
      } finally {
        await socket.close();
      }
    } finally {
      terminated.dispose();
    }
  }
}
