/** Peer-certificate checks OpenVPN performs after chain verification. */
import type { X509Certificate } from 'node:crypto';

const EKU = { server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2' } as const;

/** `remote-cert-tls server|client`: the peer certificate must carry that extended key usage. */
export function checkRemoteCertTls(cert: X509Certificate, want: 'server' | 'client'): void {
  const usages = cert.keyUsage ?? [];
  if (!usages.includes(EKU[want])) {
    throw new Error(`certificate '${commonName(cert) ?? cert.subject}' lacks extended key usage ` +
      `TLS Web ${want === 'server' ? 'Server' : 'Client'} Authentication (remote-cert-tls ${want})`);
  }
}

export function commonName(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

/** `verify-x509-name <name> name|name-prefix|subject`. */
export function checkX509Name(cert: X509Certificate, name: string, type: 'name' | 'name-prefix' | 'subject'): void {
  const cn = commonName(cert) ?? '';
  const ok = type === 'name' ? cn === name
    : type === 'name-prefix' ? cn.startsWith(name)
      : cert.subject.split('\n').join(', ') === name;
  if (!ok) throw new Error(`certificate name '${cn}' does not match verify-x509-name '${name}' (${type})`);
}
