/**
 * Server: `auth-user-pass-verify <cmd> via-file|via-env`, run as OpenVPN 2.6 runs it.
 *   via-file: the username and the password, one a line, in a new file (mode 0600, created
 *             exclusively in tmp-dir) whose path is the command's last argument; the file is
 *             removed when the command has exited.
 *   via-env:  `username` and `password` in the environment (`password` only at script-security 3).
 * The environment also has script_type=user-pass-verify, common_name (the client certificate's,
 * absent without one), untrusted_ip/untrusted_port, the client's IV_ and UV_ peer info, dev,
 * verb, config, and PATH (OpenVPN's other variables are not set). Exit status 0 accepts;
 * anything else refuses (2, OpenVPN's deferred authentication, is not supported: refused).
 * The command is run without a shell, its output goes to the daemon's; it may take up to the
 * handshake window, then it is killed and the client refused.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { AuthVerifyConfig } from '../config/auth-user-pass.js';
import type { Endpoint } from '../datapath/types.js';
import { AuthRefused, type AuthRequest } from '../control/auth-gate.js';

/** OpenVPN's TLS_USERNAME_LEN: a username longer than this cannot become the common name. */
export const MAX_COMMON_NAME = 64;

export interface VerifyContext {
  from: Endpoint;
  /** The client certificate's common name, if it sent one. */
  commonName: string | undefined;
  dev: string;
  verb: number;
  config: string;
  timeoutMs: number;
}

/** OpenVPN's string_mod(CC_PRINT, CC_CRLF, '_'): every byte not printable ASCII becomes '_'. */
export function remapPrintable(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '_';
  return out;
}

const ENV_NAME = /^[A-Za-z0-9_]+$/;

export function scriptEnv(cfg: AuthVerifyConfig, req: AuthRequest, ctx: VerifyContext, username: string, password: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.env.PATH) env.PATH = process.env.PATH;
  for (const [k, v] of req.peerInfo) {
    if ((k.startsWith('IV_') || k.startsWith('UV_')) && ENV_NAME.test(k)) env[k] = remapPrintable(v);
  }
  Object.assign(env, {
    script_type: 'user-pass-verify', dev: ctx.dev, verb: String(ctx.verb), config: ctx.config,
    untrusted_ip: ctx.from.address, untrusted_port: String(ctx.from.port), username,
  });
  if (ctx.commonName !== undefined) env.common_name = ctx.commonName;
  if (cfg.verify?.method === 'via-env' && cfg.scriptSecurity >= 3) env.password = password;
  return env;
}

/** Writes the via-file temporary file: exclusive create, mode 0600, two lines. */
function writeCredentialsFile(dir: string, username: string, password: string): string {
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `kovpn_up_${randomBytes(8).toString('hex')}.tmp`);
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 5) continue;
      throw new Error(`cannot create the via-file credentials file in ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const data = Buffer.from(`${username}\n${password}\n`, 'utf8');
    try {
      writeSync(fd, data);
    } finally {
      data.fill(0);
      closeSync(fd);
    }
    return path;
  }
}

/**
 * Runs the verify command for one key-method-2 message. Resolves with the username to use
 * (remapped as OpenVPN does); rejects with AuthRefused.
 */
export async function verifyUserPass(cfg: AuthVerifyConfig, req: AuthRequest, ctx: VerifyContext): Promise<string> {
  const v = cfg.verify!;
  const username = remapPrintable(req.username);
  const password = remapPrintable(req.password);
  if (!username || !password) {
    throw new AuthRefused(`the client sent no ${username ? 'password' : 'username'} (it needs auth-user-pass) and auth-user-pass-verify is set`);
  }
  if (cfg.usernameAsCommonName && username.length > MAX_COMMON_NAME) {
    throw new AuthRefused(`username-as-common-name: the username is longer than ${MAX_COMMON_NAME} characters`);
  }
  const args = v.argv.slice(1);
  let file: string | undefined;
  try {
    if (v.method === 'via-file') {
      file = writeCredentialsFile(cfg.tmpDir, username, password);
      args.push(file);
    }
    const r = await execa(v.argv[0]!, args, {
      env: scriptEnv(cfg, req, ctx, username, password), extendEnv: false, reject: false,
      stdin: 'ignore', stdout: 'inherit', stderr: 'inherit', timeout: ctx.timeoutMs,
    });
    if (r.exitCode === 0) return username;
    const why = r.timedOut ? `did not finish within ${Math.round(ctx.timeoutMs / 1000)} s (killed)`
      : r.exitCode === 2 ? 'exit status 2 (deferred authentication, which kovpn does not support)'
        : r.exitCode !== undefined ? `exit status ${r.exitCode}` : r.signal ? `killed by ${r.signal}` : `could not run: ${r.shortMessage}`;
    throw new AuthRefused(`username/password of '${username}' refused by auth-user-pass-verify ${v.argv[0]} (${why})`);
  } finally {
    if (file) {
      try { unlinkSync(file); } catch { /* already gone */ }
    }
  }
}
