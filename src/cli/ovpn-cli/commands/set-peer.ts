import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname, parseIpAddress, parsePeerId, parseSeconds } from '../../common/parse.js';
import type { PeerConfig } from '../../../datapath/types.js';

/** set_peer <iface> <peer_id> <keepalive_interval> <keepalive_timeout> [vpnaddr] */
export class SetPeerCommand extends OvpnCommand {
  static override paths = [['set_peer']];
  static override usage = Command.Usage({
    description: 'change the keepalive (seconds, 0 disables) and optionally the VPN address of a peer',
    examples: [['Keepalive every 10 s, expiry after 60 s', 'ovpn-cli set_peer tun0 1 10 60']],
  });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });
  interval = Option.String({ name: 'keepalive_interval' });
  timeout = Option.String({ name: 'keepalive_timeout' });
  vpnaddr = Option.String({ name: 'vpnaddr', required: false });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const peer: PeerConfig = {
      id: parsePeerId(this.peerId),
      keepaliveInterval: parseSeconds(this.interval, 'keepalive interval'),
      keepaliveTimeout: parseSeconds(this.timeout, 'keepalive timeout'),
    };
    if (this.vpnaddr !== undefined) {
      const vpn = parseIpAddress(this.vpnaddr, 'VPN address');
      if (vpn.family === 4) peer.vpnIpv4 = vpn.address;
      else peer.vpnIpv6 = vpn.address;
    }
    await (await this.device(name)).setPeer(peer);
  }
}
