/** Diagnostics of the command-line tools: one prefixed line each, on stderr. */
import type { Writable } from 'node:stream';

export interface Logger {
  /** `<prog>: <message>` on stderr. */
  info(message: string): void;
}

export function createLogger(prog: string, stream: Writable = process.stderr): Logger {
  return {
    info(message: string): void {
      stream.write(`${prog}: ${message}\n`);
    },
  };
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = { info(): void {} };
