/**
 * The daemon's log: one line per message on stderr, filtered by level (from `verb`); a message
 * is one line of bounded length, anything unprintable in it escaped (printable).
 */
import { printable } from '../util/printable.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface DaemonLog {
  log(level: LogLevel, message: string): void;
}

/** OpenVPN's verb to a level: 0 errors, 1-2 warnings, 3 info (default-ish), 4+ debug. */
export function levelFromVerb(verb: number): LogLevel {
  return verb <= 0 ? 'error' : verb <= 2 ? 'warn' : verb === 3 ? 'info' : 'debug';
}

export function createDaemonLog(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): DaemonLog {
  return {
    log(l, message) {
      if (RANK[l] <= RANK[level]) write(`${new Date().toISOString()} kovpn ${l}: ${printable(message, 4096)}\n`);
    },
  };
}
