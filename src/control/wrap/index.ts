/**
 * Control-channel wrapping (tls-auth, tls-crypt, tls-crypt-v2) from a configuration: the
 * client's wrapper and the server's stateless wrapping.
 */
import { directionalKeys, type KeyDirection } from './keyfile.js';
import { StaticServerWrapping, TlsCryptV2ServerWrapping, type ServerWrapping } from './server-wrap.js';
import { TlsAuthCodec } from './tls-auth.js';
import { TlsCryptCodec } from './tls-crypt.js';
import type { ClientKey } from './tls-crypt-v2.js';
import { ControlWrapper, TlsCryptV2ClientWrapper } from './wrapper.js';

export type TlsWrapConfig =
  | { kind: 'tls-auth'; key: Buffer; direction: KeyDirection; digest: string }
  | { kind: 'tls-crypt'; key: Buffer }
  | { kind: 'tls-crypt-v2-server'; serverKey: Buffer }
  | { kind: 'tls-crypt-v2-client'; clientKey: ClientKey };

/** The wrapper of one connection of a client (or a p2p peer in `role`). */
export function peerWrapper(cfg: TlsWrapConfig, role: 'client' | 'server'): ControlWrapper {
  switch (cfg.kind) {
    case 'tls-auth': return new ControlWrapper(new TlsAuthCodec(directionalKeys(cfg.key, cfg.direction), cfg.digest));
    case 'tls-crypt': return new ControlWrapper(TlsCryptCodec.forRole(cfg.key, role));
    case 'tls-crypt-v2-client': return new TlsCryptV2ClientWrapper(cfg.clientKey);
    case 'tls-crypt-v2-server': throw new Error('a tls-crypt-v2 server key is for servers; a client needs its client key');
  }
}

export function serverWrapping(cfg: TlsWrapConfig): ServerWrapping {
  switch (cfg.kind) {
    case 'tls-auth': return new StaticServerWrapping(new TlsAuthCodec(directionalKeys(cfg.key, cfg.direction), cfg.digest));
    case 'tls-crypt': return new StaticServerWrapping(TlsCryptCodec.forRole(cfg.key, 'server'));
    case 'tls-crypt-v2-server': return new TlsCryptV2ServerWrapping(cfg.serverKey);
    case 'tls-crypt-v2-client': throw new Error('a tls-crypt-v2 client key is for clients; a server needs the server key');
  }
}

/** The name used in log lines ("packet failed tls-crypt from ..."). */
export function wrapName(cfg: TlsWrapConfig): 'tls-auth' | 'tls-crypt' | 'tls-crypt-v2' {
  return cfg.kind === 'tls-auth' ? 'tls-auth' : cfg.kind === 'tls-crypt' ? 'tls-crypt' : 'tls-crypt-v2';
}
