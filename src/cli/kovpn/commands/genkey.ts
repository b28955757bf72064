import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'clipanion';
import { STATIC_KEY_LEN, formatStaticKey } from '../../../control/wrap/keyfile.js';
import {
  SERVER_KEY_LEN, formatClientKey, formatServerKey, generateClientKey, parseServerKey, timestampMetadata, userMetadata,
} from '../../../control/wrap/tls-crypt-v2.js';
import { ArgumentError, CliError } from '../../common/errors.js';
import { KovpnCommand } from '../command.js';

const TYPES = ['tls-crypt', 'tls-auth', 'secret', 'tls-crypt-v2-server', 'tls-crypt-v2-client'];

/**
 * kovpn genkey <type> [file]: key files for control-channel wrapping, in the formats stock
 * OpenVPN 2.6 reads and writes (`openvpn --genkey ...`).
 */
export class GenkeyCommand extends KovpnCommand {
  static override paths = [['genkey']];
  static override usage = Command.Usage({
    description: 'make a tls-crypt / tls-auth / tls-crypt-v2 key file (the formats of openvpn --genkey)',
    details: `
      tls-crypt, tls-auth and secret make the same 2048-bit static key file (\`openvpn --genkey secret\`).
      tls-crypt-v2-server makes a server key; tls-crypt-v2-client makes one client's key from the
      server key, with metadata the server sees (--metadata: base64 user data; default: the time).
      Without a file the key goes to stdout. An existing file is not overwritten unless --force.
    `,
    examples: [
      ['A tls-crypt key for both sides', 'kovpn genkey tls-crypt ta.key'],
      ['A tls-crypt-v2 server key', 'kovpn genkey tls-crypt-v2-server v2-server.key'],
      ['A client key carrying metadata', 'kovpn genkey tls-crypt-v2-client alice.key --server-key v2-server.key --metadata "$(printf alice | base64)"'],
    ],
  });

  type = Option.String({ name: 'type' });
  file = Option.String({ name: 'file', required: false });
  serverKey = Option.String('--server-key', { description: 'tls-crypt-v2-client: the server key file' });
  metadata = Option.String('--metadata', { description: 'tls-crypt-v2-client: base64 user data (default: a timestamp)' });
  force = Option.Boolean('--force', false, { description: 'overwrite an existing file' });

  protected async run(): Promise<void> {
    if (!TYPES.includes(this.type)) throw new ArgumentError(`key type '${this.type}' is not one of ${TYPES.join(', ')}`);
    if (this.type !== 'tls-crypt-v2-client' && (this.serverKey !== undefined || this.metadata !== undefined)) {
      throw new ArgumentError('--server-key and --metadata are for tls-crypt-v2-client keys');
    }
    let text: string;
    if (this.type === 'tls-crypt-v2-server') {
      text = formatServerKey(randomBytes(SERVER_KEY_LEN));
    } else if (this.type === 'tls-crypt-v2-client') {
      if (this.serverKey === undefined) throw new ArgumentError('a tls-crypt-v2-client key needs --server-key <file>');
      let serverText: string;
      try {
        serverText = readFileSync(this.serverKey, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read ${this.serverKey}: ${(e as Error).message}`);
      }
      const server = parseServerKey(serverText, this.serverKey);
      let metadata = timestampMetadata();
      if (this.metadata !== undefined) {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(this.metadata) || this.metadata.length % 4 !== 0) {
          throw new ArgumentError('--metadata must be base64 (e.g. "$(printf alice | base64)")');
        }
        metadata = userMetadata(Buffer.from(this.metadata, 'base64'));
      }
      text = formatClientKey(generateClientKey(server, metadata));
    } else {
      text = formatStaticKey(randomBytes(STATIC_KEY_LEN));
    }
    if (this.file === undefined) {
      this.context.stdout.write(text);
      return;
    }
    try {
      writeFileSync(this.file, text, { mode: 0o600, flag: this.force ? 'w' : 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CliError(code === 'EEXIST' ? `${this.file} exists; --force overwrites it` : `cannot write ${this.file}: ${(e as Error).message}`);
    }
  }
}
