/** Process lifetime helpers for commands that must keep running to hold a resource. */

export type TerminationSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/**
 * Resolves with the first of SIGTERM, SIGINT or SIGHUP received. While waiting, those
 * signals no longer kill the process, so the caller can release what it holds and exit
 * on its own. The handlers are removed once the promise resolves.
 */
export function waitForTermination(
  signals: readonly TerminationSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP'],
): Promise<TerminationSignal> {
  return new Promise((resolve) => {
    const handlers = new Map<TerminationSignal, () => void>();
    for (const sig of signals) {
      const handler = (): void => {
        for (const [s, h] of handlers) process.off(s, h);
        resolve(sig);
      };
      handlers.set(sig, handler);
      process.on(sig, handler);
    }
  });
}
