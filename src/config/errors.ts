/** A configuration problem, always located: `file:line: what is wrong`. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly line: number, readonly problem: string) {
    super(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
    this.name = 'ConfigError';
  }
}
