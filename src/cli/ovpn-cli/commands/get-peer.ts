import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname, parsePeerId } from '../../common/parse.js';
import { formatPeer, toJsonLine } from '../../common/output.js';

/** get_peer <iface> [peer_id]: one peer, or all of them (dump) without an id. */
export class GetPeerCommand extends OvpnCommand {
  static override paths = [['get_peer']];
  static override usage = Command.Usage({
    description: 'show a peer and its counters; without peer_id, all peers of the device',
    examples: [
      ['Peer 1 of tun0', 'ovpn-cli get_peer tun0 1'],
      ['All peers of tun0, as a JSON array', 'ovpn-cli get_peer tun0 --json'],
    ],
  });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id', required: false });
  json = Option.Boolean('--json', false, { description: 'print JSON (one object, or an array for a dump)' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const id = this.peerId === undefined ? undefined : parsePeerId(this.peerId);
    const dev = await this.device(name);
    if (id !== undefined) {
      const peer = await dev.getPeer(id);
      this.print(this.json ? toJsonLine(peer) : formatPeer(peer));
      return;
    }
    const peers = await dev.dumpPeers();
    if (this.json) {
      this.print(toJsonLine(peers));
    } else {
      for (const peer of peers) this.print(formatPeer(peer));
    }
  }
}
