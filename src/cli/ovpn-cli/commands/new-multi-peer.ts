import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { ArgumentError, NotImplementedError } from '../../common/errors.js';
import { parseIdScheme, parseIfname, parsePort, parseUInt } from '../../common/parse.js';
import { formatEndpoint } from '../../common/output.js';
import { waitForTermination } from '../../common/signals.js';
import { anyAddress } from '../socket.js';
import { readPeersFile } from '../peers-file.js';
import type { PeerConfig, TransportSocket } from '../../../datapath/types.js';

/**
 * new_multi_peer <iface> <lport> <SYMM|ASYMM> <peers_file> [mark]
 * Opens the UDP socket(s) on lport (one per address family used in the file), adds
 * every peer of the file, prints a "ready" line on stderr and holds the sockets until
 * SIGTERM/SIGINT (closing them deletes the peers, reason transport-disconnect).
 */
export class NewMultiPeerCommand extends OvpnCommand {
  static override paths = [['new_multi_peer']];
  static override usage = Command.Usage({
    description: 'add the UDP peers of a peers file and hold their socket until SIGTERM/SIGINT',
  });

  iface = Option.String({ name: 'iface' });
  lport = Option.String({ name: 'lport' });
  scheme = Option.String({ name: 'SYMM|ASYMM' });
  peersFile = Option.String({ name: 'peers_file' });
  mark = Option.String({ name: 'mark', required: false });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const lport = parsePort(this.lport, 'local port');
    const scheme = parseIdScheme(this.scheme);
    if (this.mark !== undefined) {
      parseUInt(this.mark, 'mark', 0, 0xffffffff);
      throw new NotImplementedError('socket mark (SO_MARK) is not supported yet; omit [mark]');
    }
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
      const sockets = new Map<4 | 6, TransportSocket>();
      try {
        for (const e of entries) {
          let socket = sockets.get(e.remote.family);
          if (!socket) {
            socket = await dp.openUdpSocket({ address: anyAddress(e.remote.family), port: lport });
            sockets.set(e.remote.family, socket);
          }
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
        const bound = [...sockets.values()].map((s) => formatEndpoint(s.local)).join(', ');
        this.info(`ready: ${entries.length} peers on ${name}, udp ${bound}`);
        const signal = await terminated.signal;
        this.info(`${signal}: closing the sockets of ${entries.length} peers`);
      } finally {
        for (const socket of sockets.values()) await socket.close();
      }
    } finally {
      terminated.dispose();
    }
  }
}
