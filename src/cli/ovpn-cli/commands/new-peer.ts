import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import {
  parseIfname,
  parseIpAddress,
  parsePeerId,
  parsePort,
  parseTxId,
} from '../../common/parse.js';
import { formatEndpoint } from '../../common/output.js';
import { waitForTermination } from '../../common/signals.js';
import { openPeersSocket } from '../socket.js';
import { reportReady, writePidFile } from '../detach.js';
import type { Endpoint, PeerConfig } from '../../../datapath/types.js';

/**
 * new_peer [--foreground] [--pid-file F] <iface> <peer_id> <tx_id|none> <lport> <raddr> <rport> [vpnaddr]
 * Opens a UDP socket on lport, adds the peer on it, prints a "ready" line on stderr and
 * holds the socket: SIGTERM/SIGINT close it, which deletes the peer (reason
 * transport-disconnect). Without --foreground this runs in the detached child (detach.ts)
 * and the command returns once the peer is set up, as the selftests' client does.
 */
export class NewPeerCommand extends OvpnCommand {
  static override paths = [['new_peer']];
  static override usage = Command.Usage({
    description: 'add a UDP peer and hold its socket (detached) until SIGTERM/SIGINT',
    details: 'Returns once the peer is set up; a background ovpn-cli process holds the socket. --foreground holds it in this process.',
    examples: [
      ['Peer 1 towards 10.10.0.2:1194, then its key', 'ovpn-cli new_peer tun0 1 none 1194 10.10.0.2 1194 10.200.0.2 && ovpn-cli new_key tun0 1 1 0 aes 0 key'],
      ['Hold in the foreground, pid in a file', 'ovpn-cli new_peer --foreground --pid-file /run/p1.pid tun0 1 none 1194 10.10.0.2 1194 &'],
    ],
  });

  foreground = Option.Boolean('--foreground', false, {
    description: 'hold the socket in this process instead of detaching',
  });
  pidFile = Option.String('--pid-file', { description: "write the holder's pid to this file once set up" });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });
  txId = Option.String({ name: 'tx_id|none' });
  lport = Option.String({ name: 'lport' });
  raddr = Option.String({ name: 'raddr' });
  rport = Option.String({ name: 'rport' });
  vpnaddr = Option.String({ name: 'vpnaddr', required: false });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const id = parsePeerId(this.peerId);
    const txId = parseTxId(this.txId);
    const lport = parsePort(this.lport, 'local port', true);
    const raddr = parseIpAddress(this.raddr, 'remote address');
    const remote: Endpoint = { address: raddr.address, port: parsePort(this.rport, 'remote port') };
    if (raddr.scopeId !== undefined) remote.scopeId = raddr.scopeId;
    const vpn = this.vpnaddr === undefined ? undefined : parseIpAddress(this.vpnaddr, 'VPN address');

    const terminated = waitForTermination();
    try {
      const dp = await this.datapath();
      const dev = await dp.openDevice(name);
      const socket = await openPeersSocket(dp, lport, { ipv4Only: raddr.family === 4 });
      try {
        const peer: PeerConfig = { id, socket, remote };
        if (txId !== undefined) peer.txId = txId;
        if (vpn?.family === 4) peer.vpnIpv4 = vpn.address;
        if (vpn?.family === 6) peer.vpnIpv6 = vpn.address;
        await dev.newPeer(peer);
        writePidFile(this.pidFile);
        this.info(
          `ready: peer ${id} on ${name}, udp ${formatEndpoint(socket.local)} -> ${formatEndpoint(remote)}`,
        );
        reportReady();
        const signal = await terminated.signal;
        this.info(`${signal}: closing the socket of peer ${id}`);
      } finally {
        await socket.close();
      }
    } finally {
      terminated.dispose();
    }
  }
}
