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
import { anyAddress } from '../socket.js';
import type { Endpoint, PeerConfig } from '../../../datapath/types.js';

/**
 * new_peer <iface> <peer_id> <tx_id|none> <lport> <raddr> <rport> [vpnaddr]
 * Opens a UDP socket on lport, adds the peer on it, prints a "ready" line on stderr and
 * keeps running to hold the socket: SIGTERM/SIGINT close it, which deletes the peer
 * (reason transport-disconnect).
 */
export class NewPeerCommand extends OvpnCommand {
  static override paths = [['new_peer']];
  static override usage = Command.Usage({
    description: 'add a UDP peer and hold its socket until SIGTERM/SIGINT',
  });

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
      const socket = await dp.openUdpSocket({ address: anyAddress(raddr.family), port: lport });
      try {
        const peer: PeerConfig = { id, socket, remote };
        if (txId !== undefined) peer.txId = txId;
        if (vpn?.family === 4) peer.vpnIpv4 = vpn.address;
        if (vpn?.family === 6) peer.vpnIpv6 = vpn.address;
        await dev.newPeer(peer);
        this.info(
          `ready: peer ${id} on ${name}, udp ${formatEndpoint(socket.local)} -> ${formatEndpoint(remote)}`,
        );
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
