/** Process lifetime helpers for commands that must keep running to hold a resource. */

export type TerminationSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/**
 * Resolves with the first of SIGTERM, SIGINT or SIGHUP received. While waiting, those
 * signals no longer kill the process, so the caller can release what it holds and exit
 * on its own, and the process stays alive even when nothing else is pending (signal
 * handlers alone do not keep Node's event loop running: a socket held only as an fd,
 * as on the kernel data path, would otherwise be closed by an early exit).
 * The handlers are removed once the promise resolves.
 */
export function waitForTermination(
  signals: readonly TerminationSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP'],
): Promise<TerminationSignal> {
  return new Promise((resolve) => {
    const handlers = new Map<TerminationSignal, () => void>();
    // The longest timer period Node allows (~24.8 days); re-armed by setInterval.
    const keepAlive = setInterval(() => {}, 0x7fffffff);
    for (const sig of signals) {
      const handler = (): void => {
        clearInterval(keepAlive);
        for (const [s, h] of handlers) process.off(s, h);
        resolve(sig);
      };
      handlers.set(sig, handler);
      process.on(sig, handler);
    }
  });
}
