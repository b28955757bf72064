/**
 * `up`, `down`, `route-up`, `route-pre-down` scripts, `down-pre` and `script-security`, as in
 * OpenVPN 2.6: the command is split into words (double or single quotes keep spaces, a
 * backslash escapes the next character) and run without a shell; OpenVPN's arguments and
 * environment are added when it runs (src/daemon/scripts.ts). A user script needs
 * `script-security 2` or higher (OpenVPN's default is 1, built-in commands only): without it
 * the configuration is refused at start, where OpenVPN would fail when it first ran the script.
 */
import type { Directive } from './tokenize.js';

export type ScriptHook = 'up' | 'down' | 'route-up' | 'route-pre-down';

export const SCRIPT_HOOKS: readonly ScriptHook[] = ['up', 'down', 'route-up', 'route-pre-down'];

export interface Script {
  /** The command as written (for messages). */
  command: string;
  /** Program and its own arguments; OpenVPN's are appended. */
  argv: string[];
  /** `file:line`, for messages. */
  where: string;
  line: number;
}

export interface ScriptsConfig {
  securityLevel: number;
  hooks: Partial<Record<ScriptHook, Script>>;
  /** `down-pre`: the down script runs before the device is removed, not after. */
  downPre?: boolean;
}

/** Splits a command into words as OpenVPN's argv_parse_cmd does; a string is the problem. */
export function splitCommand(command: string): string[] | string {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) cur += command[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      cur += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return `unterminated ${quote} quote`;
  if (inWord) words.push(cur);
  if (words.length === 0) return 'empty command';
  return words;
}

/** Parses one script directive into `into`; a string is the problem. */
export function parseScriptDirective(d: Directive, where: string, into: ScriptsConfig): string | undefined {
  if (d.name === 'script-security') {
    if (d.args.length !== 1 || !/^[0-3]$/.test(d.args[0]!)) return `expects a level 0 to 3, got '${d.args.join(' ')}'`;
    into.securityLevel = Number(d.args[0]);
    return undefined;
  }
  if (d.name === 'down-pre') {
    if (d.args.length !== 0) return 'expects no argument';
    into.downPre = true;
    return undefined;
  }
  if (d.args.length !== 1) return `expects 1 argument (the command, quoted if it has spaces), got ${d.args.length}`;
  const argv = splitCommand(d.args[0]!);
  if (typeof argv === 'string') return argv;
  into.hooks[d.name as ScriptHook] = { command: d.args[0]!, argv, where, line: d.line };
  return undefined;
}

/** The refusal (and the script's line) for scripts given without `script-security 2`, or undefined when they may run. */
export function scriptSecurityProblem(s: ScriptsConfig): { line: number; message: string } | undefined {
  const first = SCRIPT_HOOKS.map((h) => [h, s.hooks[h]] as const).find(([, x]) => x !== undefined);
  if (!first || s.securityLevel >= 2) return undefined;
  return { line: first[1]!.line, message: `${first[0]} '${first[1]!.command}': running a script needs \`script-security 2\` or higher ` +
    `(the level is ${s.securityLevel}); OpenVPN refuses to run it too` };
}
