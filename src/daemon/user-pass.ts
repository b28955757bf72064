/**
 * A client's username and password (`auth-user-pass`), as OpenVPN 2.6 keeps them:
 * read from the file (first line username, second password), the inline block, or asked on the
 * terminal; sent in every key-method-2 message; replaced by the server's `auth-token` once one
 * is pushed (the username stays, or `auth-token-user` gives it); with `auth-nocache`, forgotten
 * once sent (the next key-method 2 then needs the token, or reads the file again).
 *
 * The password lives in a Buffer that is zeroed when forgotten; it never goes into a log line,
 * the status, an event or an error message.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { AuthUserPassConfig } from '../config/auth-user-pass.js';
import type { UserPass } from '../control/key-state.js';
import { ControlError } from '../control/errors.js';
import { promptLine } from './tty-prompt.js';

/** OpenVPN's USER_PASS_LEN on Linux builds with PKCS#11 (Debian's): longer lines are cut there. */
export const USER_PASS_MAX = 4095;

/** Credentials that cannot be had (unreadable file, empty username, no terminal for a prompt). */
export class UserPassError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserPassError';
  }
}

/** Reads at most 64 KiB of `path` into a Buffer (the caller zeroes it). */
function readSmall(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(65536);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0 || n + got >= buf.length) { n += got; break; }
      n += got;
    }
    const out = Buffer.from(buf.subarray(0, n));
    buf.fill(0);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Line `index` (0-based) of `text` without its \n or \r\n, cut at USER_PASS_MAX bytes; a copy. */
function line(text: Buffer, index: number): Buffer | undefined {
  let start = 0;
  for (let i = 0; i < index; i++) {
    const nl = text.indexOf(0x0a, start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  if (start >= text.length) return undefined;
  let end = text.indexOf(0x0a, start);
  if (end < 0) end = text.length;
  if (end > start && text[end - 1] === 0x0d) end--;
  return Buffer.from(text.subarray(start, Math.min(end, start + USER_PASS_MAX)));
}

export class UserPassStore {
  private username: string | undefined;
  private password: Buffer | undefined;
  private token: string | undefined;
  private tokenUser: string | undefined;

  constructor(private readonly cfg: AuthUserPassConfig, private readonly interactive = process.stdin.isTTY === true) {}

  /** Gets the credentials now (at start: a missing file or no terminal fails before any connection). */
  async load(): Promise<void> {
    if (this.password) return;
    const src = this.cfg.source;
    if (src.kind === 'prompt') {
      if (!this.interactive) {
        throw new UserPassError(`${this.cfg.where}: auth-user-pass without a file asks on a terminal, and standard input is not one: ` +
          'give a file (`auth-user-pass /path/to/file`, username on the first line, password on the second) or an inline <auth-user-pass> block');
      }
      this.username = (await promptLine('Enter Auth Username: ', true)).toString('utf8');
      if (!this.username) throw new UserPassError('the username is empty');
      this.password = await promptLine('Enter Auth Password: ', false);
      return;
    }
    this.readStored();
    if (!this.password) {
      const what = src.kind === 'file' ? `the auth-user-pass file ${src.path}` : 'the inline <auth-user-pass> block';
      if (!this.interactive) {
        throw new UserPassError(`${this.cfg.where}: ${what} has no password line and standard input is not a terminal to ask on: ` +
          'put the password on the second line');
      }
      this.password = await promptLine('Enter Auth Password: ', false);
    }
  }

  /** File or inline block, synchronously; leaves password undefined if there is no second line. */
  private readStored(): void {
    const src = this.cfg.source;
    let text: Buffer;
    if (src.kind === 'file') {
      try {
        text = readSmall(src.path);
      } catch (err) {
        throw new UserPassError(`${this.cfg.where}: cannot read the auth-user-pass file ${src.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    } else if (src.kind === 'inline') {
      text = Buffer.from(src.text, 'utf8');
    } else {
      return;
    }
    try {
      const user = line(text, 0);
      const username = user?.toString('utf8') ?? '';
      if (!username) {
        throw new UserPassError(`${this.cfg.where}: the username (first line) of ${src.kind === 'file' ? `the auth-user-pass file ${src.path}` : 'the inline <auth-user-pass> block'} is empty`);
      }
      this.username = username;
      const pass = line(text, 1);
      if (pass && pass.length > 0) {
        this.password?.fill(0);
        this.password = pass;
      } else {
        pass?.fill(0);
      }
    } finally {
      text.fill(0);
    }
  }

  /**
   * What the next key-method-2 message carries: the token if the server pushed one, else the
   * password (read again if auth-nocache forgot it: a prompt cannot be repeated without a token).
   * The returned password Buffer is a copy for the caller to zero.
   */
  next(): UserPass {
    if (this.token !== undefined) {
      return { username: this.tokenUser ?? this.username ?? '', password: Buffer.from(this.token, 'utf8') };
    }
    if (!this.password) {
      if (this.cfg.source.kind === 'prompt') {
        throw new ControlError('auth', 'auth-nocache: the password asked for at start was forgotten and the server pushed no auth-token; restart kovpn to enter it again');
      }
      try {
        this.readStored();
      } catch (err) {
        throw new ControlError('auth', `auth-nocache: ${(err as Error).message}`);
      }
      if (!this.password) throw new ControlError('auth', `${this.cfg.where}: the auth-user-pass credentials have no password line`);
    }
    const out = { username: this.username!, password: Buffer.from(this.password) };
    if (this.cfg.nocache) this.forgetPassword();
    return out;
  }

  /** The server pushed `auth-token` (and perhaps `auth-token-user`). */
  setToken(token: string, user: string | undefined): void {
    this.token = token;
    if (user) this.tokenUser = user;
  }

  /** Drops the token (AUTH_FAILED: it may have expired); true if there was one. */
  clearToken(): boolean {
    const had = this.token !== undefined;
    this.token = undefined;
    this.tokenUser = undefined;
    return had;
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  private forgetPassword(): void {
    this.password?.fill(0);
    this.password = undefined;
  }

  /** Forgets everything (the daemon stops). */
  clear(): void {
    this.forgetPassword();
    this.clearToken();
  }
}
