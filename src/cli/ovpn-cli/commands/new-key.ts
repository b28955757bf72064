import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import {
  parseCipher,
  parseIfname,
  parseKeyDirection,
  parseKeyId,
  parsePeerId,
  parseSlot,
} from '../../common/parse.js';
import { keysForDirection, readKeyFile } from '../../../wire/keyfile.js';

/**
 * new_key <iface> <peer_id> <slot 1|2> <key_id> <aes|chachapoly|none> <key_dir 0|1> <key_file>
 * Installs a key from a classic pre-shared key file (AES-256-GCM or ChaCha20-Poly1305).
 */
export class NewKeyCommand extends OvpnCommand {
  static override paths = [['new_key']];
  static override usage = Command.Usage({
    description: 'install a key from a pre-shared key file into a slot (1 primary, 2 secondary)',
    examples: [['Primary key id 0 of peer 1, AES-GCM, key direction 0', 'ovpn-cli new_key tun0 1 1 0 aes 0 key.txt']],
  });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });
  slot = Option.String({ name: 'slot 1|2' });
  keyId = Option.String({ name: 'key_id' });
  cipher = Option.String({ name: 'aes|chachapoly|none' });
  keyDir = Option.String({ name: 'key_dir 0|1' });
  keyFile = Option.String({ name: 'key_file' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const peerId = parsePeerId(this.peerId);
    const slot = parseSlot(this.slot);
    const keyId = parseKeyId(this.keyId);
    const cipher = parseCipher(this.cipher);
    const dir = parseKeyDirection(this.keyDir);
    const keys = keysForDirection(await readKeyFile(this.keyFile), dir);
    const dev = await this.device(name);
    await dev.newKey({ peerId, slot, keyId, cipher, encrypt: keys.encrypt, decrypt: keys.decrypt });
  }
}
