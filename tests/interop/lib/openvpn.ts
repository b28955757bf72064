/** Runs a stock OpenVPN 2.6 (`--disable-dco`) in a network namespace and watches its log. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class OpenVpnProcess {
  private proc: ChildProcess;
  private output = '';
  readonly logPath: string;

  constructor(readonly netns: string, args: string[], dir: string, readonly label = 'openvpn') {
    this.logPath = join(dir, `${label}.log`);
    writeFileSync(this.logPath, '');
    this.proc = spawn('ip', ['netns', 'exec', netns, 'openvpn', '--disable-dco', '--verb', '4', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (d: Buffer) => {
      this.output += d.toString();
      writeFileSync(this.logPath, this.output);
    };
    this.proc.stdout!.on('data', take);
    this.proc.stderr!.on('data', take);
  }

  get log(): string {
    return this.output;
  }

  /** Waits for a log line matching `re` (after `from` characters), returns the match. */
  async waitFor(re: RegExp, ms = 20000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.output.slice(from).match(re);
      if (m) return m;
      if (this.proc.exitCode !== null) throw new Error(`openvpn exited (${this.proc.exitCode}) before ${re}: ${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`openvpn log never matched ${re}: ${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  tail(n = 3): string {
    return this.output.trim().split('\n').slice(-n).join(' | ');
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(t);
  }
}

export function readLog(path: string): string {
  return readFileSync(path, 'utf8');
}
