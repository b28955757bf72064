/**
 * Username/password directives (OpenVPN 2.6 semantics):
 *   client: `auth-user-pass [file]` (or an inline `<auth-user-pass>` block, or no argument: a
 *           prompt on the terminal), `auth-nocache`;
 *   server: `auth-user-pass-verify <cmd> via-file|via-env`, `verify-client-cert
 *           none|optional|require`, `username-as-common-name`, `script-security <level>`,
 *           `tmp-dir <dir>`.
 * Only where the credentials come from is parsed here: a file is read when the daemon needs it
 * (src/daemon/user-pass.ts), so that its password is in no KovpnConfig and no log.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Directive } from './tokenize.js';
import type { IgnoredDirective } from './types.js';

export type UserPassSource =
  | { kind: 'file'; path: string }
  /** The block's text: username on the first line, password on the second (may be absent). */
  | { kind: 'inline'; text: string }
  | { kind: 'prompt' };

/** Client side. */
export interface AuthUserPassConfig {
  source: UserPassSource;
  /** `auth-nocache`: forget the password once it has been sent. */
  nocache: boolean;
  where: string;
}

/** Server side. */
export interface AuthVerifyConfig {
  /** `auth-user-pass-verify`: the command split into words (OpenVPN's argv parsing, no shell). */
  verify?: { argv: string[]; method: 'via-file' | 'via-env'; where: string };
  verifyClientCert: 'none' | 'optional' | 'require';
  usernameAsCommonName: boolean;
  /** `script-security` (OpenVPN's default 1: no external programs). */
  scriptSecurity: number;
  /** `tmp-dir` (via-file's temporary files): default $TMPDIR or /tmp. */
  tmpDir: string;
}

export const AUTH_DIRECTIVES: ReadonlySet<string> = new Set([
  'auth-user-pass', 'auth-nocache', 'auth-user-pass-verify', 'verify-client-cert', 'username-as-common-name',
  'script-security', 'tmp-dir',
]);

/** A directive refused: the line's message (the caller adds file and line). */
export class AuthDirectiveError extends Error {}

/** Splits a command line as OpenVPN's argv_parse_cmd does for a script: white space, quotes done by the tokenizer. */
function commandWords(cmd: string): string[] {
  return cmd.split(/[ \t]+/).filter((w) => w.length > 0);
}

export class AuthDirectives {
  private userPass: AuthUserPassConfig | undefined;
  private nocache = false;
  private nocacheLine = 0;
  private verify: AuthVerifyConfig['verify'];
  private verifyClientCert: AuthVerifyConfig['verifyClientCert'] = 'require';
  private usernameAsCn = false;
  private scriptSecurity = 1;
  private scriptSecurityLine = 0;
  private tmpDir = process.env.TMPDIR || '/tmp';

  constructor(private readonly file: string, private readonly baseDir: string) {}

  /** Takes one of AUTH_DIRECTIVES; throws AuthDirectiveError for a bad line. */
  take(d: Directive): void {
    const where = `${this.file}:${d.line}`;
    const nargs = (min: number, max = min) => {
      if (d.args.length < min || d.args.length > max) {
        throw new AuthDirectiveError(`expects ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${d.args.length}`);
      }
    };
    switch (d.name) {
      case 'auth-user-pass':
        if (d.inline !== undefined) {
          this.userPass = { source: { kind: 'inline', text: d.inline }, nocache: false, where };
          return;
        }
        nargs(0, 1);
        this.userPass = {
          source: d.args[0] === undefined || d.args[0] === 'stdin' ? { kind: 'prompt' } : { kind: 'file', path: resolve(this.baseDir, d.args[0]) },
          nocache: false, where,
        };
        return;
      case 'auth-nocache': nargs(0); this.nocache = true; this.nocacheLine = d.line; return;
      case 'auth-user-pass-verify': {
        nargs(1, 2);
        const method = d.args[1];
        if (method === undefined) throw new AuthDirectiveError("needs a second argument, 'via-env' or 'via-file'");
        if (method !== 'via-env' && method !== 'via-file') throw new AuthDirectiveError(`'${method}' is not via-env or via-file`);
        const argv = commandWords(d.args[0]!);
        if (argv.length === 0) throw new AuthDirectiveError('the command is empty');
        this.verify = { argv, method, where };
        return;
      }
      case 'verify-client-cert': {
        nargs(0, 1);
        const v = d.args[0] ?? 'none';
        if (v !== 'none' && v !== 'optional' && v !== 'require') throw new AuthDirectiveError(`'${v}' is not none, optional or require`);
        this.verifyClientCert = v;
        return;
      }
      case 'username-as-common-name': nargs(0); this.usernameAsCn = true; return;
      case 'script-security': {
        nargs(1);
        const n = /^\d+$/.test(d.args[0]!) ? Number(d.args[0]) : NaN;
        if (!(n >= 0 && n <= 3)) throw new AuthDirectiveError(`level '${d.args[0]}' is not 0, 1, 2 or 3`);
        this.scriptSecurity = n;
        this.scriptSecurityLine = d.line;
        return;
      }
      case 'tmp-dir': nargs(1); this.tmpDir = resolve(this.baseDir, d.args[0]!); return;
      default: throw new AuthDirectiveError('not an authentication directive');
    }
  }

  /** Whether the client may go without cert/key (OpenVPN: auth-user-pass alone authenticates it). */
  get clientWithoutCert(): boolean {
    return this.userPass !== undefined;
  }

  /**
   * The checks of OpenVPN's options_postprocess for these directives; returns the config parts
   * and the lines to report as ignored for the other role. Throws AuthDirectiveError with a
   * line number (0: the file) for a refused combination.
   */
  finish(mode: 'client' | 'server' | 'p2p'): {
    client?: AuthUserPassConfig; server?: AuthVerifyConfig; ignored: IgnoredDirective[];
  } {
    const ignored: IgnoredDirective[] = [];
    const lineOf = (where: string) => Number(where.slice(where.lastIndexOf(':') + 1));
    if (mode !== 'server') {
      if (this.verify) throw new LineError(lineOf(this.verify.where), 'auth-user-pass-verify: needs server mode (`server` or `mode server`)');
      if (this.verifyClientCert !== 'require') throw new LineError(0, 'verify-client-cert: needs server mode');
      if (this.usernameAsCn) throw new LineError(0, 'username-as-common-name: needs server mode');
      if (this.userPass && mode === 'p2p') throw new LineError(lineOf(this.userPass.where), 'auth-user-pass: needs client mode (`client`, or `pull` with `tls-client`)');
      if (this.nocache && !this.userPass) {
        ignored.push({ line: this.nocacheLine, directive: 'auth-nocache', why: 'no auth-user-pass: no password to forget', level: 'info' });
      }
      return { ...(this.userPass ? { client: { ...this.userPass, nocache: this.nocache } } : {}), ignored };
    }
    if (this.userPass) ignored.push({ line: lineOf(this.userPass.where), directive: 'auth-user-pass', why: 'a client directive; a server asks for passwords with auth-user-pass-verify', level: 'warn' });
    if (this.nocache) ignored.push({ line: this.nocacheLine, directive: 'auth-nocache', why: 'a client directive', level: 'info' });
    const verify = this.verify;
    if ((this.verifyClientCert !== 'require' || this.usernameAsCn) && !verify) {
      throw new LineError(0, `${this.verifyClientCert !== 'require' ? 'verify-client-cert none|optional' : 'username-as-common-name'} ` +
        'must be used with an auth-user-pass-verify script (kovpn has no plugins or management interface)');
    }
    if (verify) {
      // OpenVPN refuses to run the script below script-security 2 (and every client then fails
      // its authentication); kovpn refuses the configuration instead, so that it never starts.
      if (this.scriptSecurity < 2) {
        throw new LineError(this.scriptSecurityLine || lineOf(verify.where), `auth-user-pass-verify: external programs need \`script-security 2\` ` +
          `(or 3), the level is ${this.scriptSecurity}${this.scriptSecurityLine ? '' : ' (the default)'}`);
      }
      checkExecutable(verify.argv[0]!, lineOf(verify.where));
      if (verify.method === 'via-env' && this.scriptSecurity < 3) {
        ignored.push({ line: lineOf(verify.where), directive: 'auth-user-pass-verify via-env', level: 'warn',
          why: 'below `script-security 3` the script gets no `password` variable (as in OpenVPN): use via-file or script-security 3' });
      }
    }
    return {
      server: { ...(verify ? { verify } : {}), verifyClientCert: this.verifyClientCert, usernameAsCommonName: this.usernameAsCn, scriptSecurity: this.scriptSecurity, tmpDir: this.tmpDir },
      ignored,
    };
  }
}

/** A refused combination at `line` (0: the file as a whole). */
export class LineError extends AuthDirectiveError {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

function checkExecutable(path: string, line: number): void {
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    accessSync(path, constants.X_OK);
  } catch (err) {
    throw new LineError(line, `auth-user-pass-verify: '${path}' is not an executable file (${(err as Error).message}); give the script's path`);
  }
}
