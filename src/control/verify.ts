/** Peer-certificate checks OpenVPN performs after chain verification. */
import type { X509Certificate } from 'node:crypto';

/** A certificate rule that refused the peer: which one (for the log line) and why. */
export class CertRuleError extends Error {
  constructor(readonly rule: 'EKU' | 'name', message: string) {
    super(message);
    this.name = 'CertRuleError';
  }
}

const EKU = { server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2' } as const;

/** `remote-cert-tls server|client`: the peer certificate must carry that extended key usage. */
export function checkRemoteCertTls(cert: X509Certificate, want: 'server' | 'client'): void {
  const usages = cert.keyUsage ?? [];
  if (!usages.includes(EKU[want])) {
    throw new CertRuleError('EKU', `certificate '${commonName(cert) ?? cert.subject}' lacks extended key usage ` +
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
  if (!ok) throw new CertRuleError('name', `certificate name '${cn}' does not match verify-x509-name '${name}' (${type})`);
}

/** OpenSSL verification codes (Node's `code`/`authorizationError`) to the rule that refused. */
const VERIFY_REASONS: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'CA: not issued by the configured `ca`',
  UNABLE_TO_GET_ISSUER_CERT: 'CA: not issued by the configured `ca`',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'CA: not issued by the configured `ca`',
  SELF_SIGNED_CERT_IN_CHAIN: 'CA: chain ends in a CA other than the configured `ca`',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'CA: self-signed, not issued by the configured `ca`',
  CERT_SIGNATURE_FAILURE: 'CA: bad signature',
  CERT_REVOKED: 'CRL: revoked in the `crl-verify` list',
  UNABLE_TO_GET_CRL: 'CRL: no CRL of the issuing CA in `crl-verify`',
  CRL_HAS_EXPIRED: 'CRL: the `crl-verify` list has expired (next update passed)',
  CRL_NOT_YET_VALID: 'CRL: the `crl-verify` list is not valid yet',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not valid yet (check the clock)',
  INVALID_PURPOSE: 'EKU: not usable for this purpose',
};

/**
 * "peer certificate refused (CRL: revoked ...)" for a verification failure, "the peer refused
 * our certificate (...)" for a TLS alert naming our certificate; undefined for anything else.
 */
export function explainCertFailure(code: string | undefined, text: string): string | undefined {
  const why = code ? VERIFY_REASONS[code] : undefined;
  if (why) return `peer certificate refused (${why}): ${text}`;
  if (/alert (bad certificate|unknown ca|certificate (revoked|expired|unknown|unsupported)|unsupported certificate|access denied)/i.test(text)) {
    return `the peer refused our certificate (${text}): check that its \`ca\` issued our \`cert\` and its CRL`;
  }
  return undefined;
}
