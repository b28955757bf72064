/** kovpn's configuration, whatever file format it came from. */
import type { DataCipher } from '../control/ciphers.js';
import type { TlsWrapConfig } from '../control/wrap/index.js';
import type { CompFraming } from '../wire/comp-framing.js';
import type { DhcpOption } from './dns.js';
import type { RedirectGateway } from './redirect-gateway.js';
import type { ScriptsConfig } from './scripts.js';
import type { Ipv6TunnelConfig } from './ipv6-tunnel.js';
import type { AuthUserPassConfig, AuthVerifyConfig } from './auth-user-pass.js';

export interface Remote {
  host: string;
  port: number;
  /** `remote host port udp4|udp6|tcp4|tcp6`: only that family (else the protocol's). */
  family?: 4 | 6;
  /** `remote host port udp*|tcp*`: this remote's protocol (else `proto`'s); tcp: a TCP client. */
  proto?: 'udp' | 'tcp';
}

/** Transport family rules (`proto udp|udp4|udp6`, `bind ipv6only`), see config/transport.ts. */
export interface TransportConfig {
  /** Family `proto` forces: udp4 4, udp6 6, udp 'any' (client: both, server: dual-stack `::`). */
  family: 4 | 6 | 'any';
  /** `bind ipv6only`: an IPv6 server socket with IPV6_V6ONLY on (no IPv4 clients). */
  ipv6Only?: boolean;
  /** `proto tcp*` (issue #11): the client connects, the server listens; absent: UDP. */
  tcp?: 'client' | 'server';
}

export interface Located<T> {
  value: T;
  /** Where it was set, `file:line`, for messages. */
  where: string;
}

export interface IgnoredDirective {
  line: number;
  directive: string;
  why: string;
  /** How loudly the daemon says so: info for harmless lines, warn for options it cannot honour. */
  level?: 'info' | 'warn';
}

export interface KovpnConfig {
  file: string;
  mode: 'client' | 'server' | 'p2p';
  /** Peer-to-peer TLS mode: which TLS role this side takes and the point-to-point addresses. */
  p2p?: { tlsRole: 'client' | 'server'; ifconfig: { local: string; remote: string } };
  dev: string;
  /** `dev tun`: the first free tunN (dev is then tun0 until the daemon has chosen). */
  devAuto?: boolean;
  proto: 'udp';
  /** Address families of the transport; absent: as `proto udp`. */
  transport?: TransportConfig;
  remotes: Remote[];
  /** Client: `remote-random`: the remotes are tried in a random order, drawn at load. */
  remoteRandom?: boolean;
  /** Local address to bind, IPv4 or IPv6 (server: listen address); default any. */
  local?: string;
  /** Local port (server: listen port). Client default: any port (nobind). */
  port: number;
  bind: boolean;
  /** PEM; absent only in pre-shared-key mode. */
  ca?: string;
  cert?: string;
  key?: string;
  /** kovpn-only pre-shared-key mode (`kovpn-psk`): TLS 1.2 ECDHE-PSK instead of certificates. */
  psk?: { identity: string; key: Buffer };
  crl?: string;
  /** Lines of the ca, cert, key and crl-verify directives (messages of checkCredentials). */
  credentialLines?: Partial<Record<'ca' | 'cert' | 'key' | 'crl', number>>;
  dataCiphers: DataCipher[];
  /** Ping interval and expiry (`keepalive`, or `ping`/`ping-restart` on a client); 0 = off. A server pushes them. */
  keepalive?: { interval: number; timeout: number };
  /** Server: `server <network> <netmask>`. */
  server?: { network: string; netmask: string };
  topology: 'subnet';
  /** Server: `ifconfig-pool <start> <end>`. */
  pool?: { start: string; end: string };
  /** Server: per-client records by certificate common name (`client-config-dir`). */
  clientConfigDir?: string;
  /** Server: refuse clients without a record (`ccd-exclusive`). */
  ccdExclusive?: boolean;
  /** Server: options pushed verbatim to every client (`push "..."`). */
  push: string[];
  maxClients?: number;
  renegSec: number;
  /** Seconds a key negotiation (first handshake or rekey) may take (`hand-window`, default 60). */
  handWindow: number;
  remoteCertTls?: 'server' | 'client';
  verifyX509Name?: { name: string; type: 'name' | 'name-prefix' | 'subject' };
  verb: number;
  writepid?: string;
  /** Control-channel wrapping: tls-auth, tls-crypt or tls-crypt-v2. */
  tlsWrap?: TlsWrapConfig;
  /** Compression framing without compression (`comp-lzo no`, `compress [stub|stub-v2]`) and the line that set it. */
  compression?: { framing: CompFraming; where: string };
  /** Client: `connect-retry <s> [max]`: pause between attempts, doubled after 5 failures up to max. */
  connectRetry?: { seconds: number; maxSeconds: number };
  /** Client: `connect-retry-max <n>`: attempts per remote before the daemon gives up (exits). */
  connectRetryMax?: number;
  /** Client: `connect-timeout <s>` / `server-poll-timeout <s>`: wait this long for a first answer. */
  connectTimeout?: number;
  /** Client: `auth-retry none|nointeract|interact`: what AUTH_FAILED does (none: exit). */
  authRetry?: 'none' | 'nointeract' | 'interact';
  /** Client: `route <network> [netmask] [gateway] [metric]` lines, added through the tunnel once it is up. */
  routes?: { network: string; netmask: string; gateway?: string; metric?: number; where: string }[];
  /** Client: `route-nopull`: routes the server pushes are not installed. */
  routeNopull?: boolean;
  /** Client: `pull-filter accept|ignore|reject "text"`, in order (first prefix match decides). */
  pullFilter?: { action: 'accept' | 'ignore' | 'reject'; text: string }[];
  /** IPv6 inside the tunnel: server-ipv6 / ifconfig-ipv6 / ifconfig-ipv6-pool / route-ipv6 (src/config/ipv6-tunnel.ts). */
  ipv6?: Ipv6TunnelConfig;
  /** Client/p2p: `redirect-gateway` and `dhcp-option` lines of the file; pushed ones add to them. */
  fullTunnel?: { redirectGateway?: RedirectGateway; dhcpOptions?: DhcpOption[] };
  /** Client/p2p: up/down/route-up/route-pre-down scripts, down-pre, script-security. */
  scripts?: ScriptsConfig;
  /** Client: `auth-user-pass` (where the credentials come from) and `auth-nocache`. */
  authUserPass?: AuthUserPassConfig;
  /** Server: `auth-user-pass-verify`, `verify-client-cert`, `username-as-common-name`, `script-security`. */
  authVerify?: AuthVerifyConfig;
  ignored: IgnoredDirective[];
}
