/**
 * Rate limiting for log lines that a remote sender can cause (a flood must not become a flood
 * of log lines): at most `burst` lines per `intervalMs`; lines beyond are counted, and the
 * next line let through says how many were suppressed.
 */
export class LogRateLimiter {
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly burst = 10,
    private readonly intervalMs = 5_000,
  ) {}

  /**
   * Whether a line may be written at `now` (ms); if so, `line` with a note of the lines
   * suppressed since the last one, else undefined.
   */
  pass(now: number, line: string): string | undefined {
    if (now - this.windowStart >= this.intervalMs) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.burst) {
      this.suppressed++;
      return undefined;
    }
    this.inWindow++;
    if (this.suppressed === 0) return line;
    const n = this.suppressed;
    this.suppressed = 0;
    return `${line} (${n} similar message${n === 1 ? '' : 's'} suppressed)`;
  }
}
