/** TLS credentials and peer checks of a tunnel, from its configuration. */
import type { X509Certificate } from 'node:crypto';
import type { TlsCredentials, X509Credentials } from '../control/key-state.js';
import { checkRemoteCertTls, checkX509Name } from '../control/verify.js';
import type { KovpnConfig } from '../config/types.js';

export function tlsCredentials(cfg: KovpnConfig): TlsCredentials {
  if (cfg.psk) return { psk: cfg.psk };
  const context: X509Credentials['context'] = { ca: cfg.ca, cert: cfg.cert, key: cfg.key };
  if (cfg.crl) context.crl = cfg.crl;
  // A server always requires client certificates with clientAuth, as OpenVPN servers in
  // practice do with remote-cert-tls client; a client checks what its config asks for.
  const eku = cfg.remoteCertTls ?? (cfg.mode === 'server' ? 'client' : undefined);
  const name = cfg.verifyX509Name;
  return {
    context,
    ...(cfg.mode === 'server' && cfg.authVerify ? { clientCert: cfg.authVerify.verifyClientCert } : {}),
    verifyPeer(cert: X509Certificate): void {
      if (eku) checkRemoteCertTls(cert, eku);
      if (name) checkX509Name(cert, name.name, name.type);
    },
  };
}
