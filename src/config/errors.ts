import { printable } from '../util/printable.js';

/**
 * A configuration problem, always located: `file:line: what is wrong`, on one line of bounded
 * length with anything unprintable (a binary file's bytes, a pasted control character) escaped.
 */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly line: number, readonly problem: string) {
    super(printable(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`));
    this.name = 'ConfigError';
  }
}
