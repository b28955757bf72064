/** Process lifetime helpers for commands that must keep running to hold a resource. */

export type TerminationSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

export interface TerminationWait {
  /** Resolves with the first termination signal received. */
  readonly signal: Promise<TerminationSignal>;
  /** Stops waiting: handlers removed, the process may exit again (idempotent). */
  dispose(): void;
}

/**
 * Waits for the first of SIGTERM, SIGINT or SIGHUP. While waiting, those signals no
 * longer kill the process, so the caller can release what it holds and exit on its own,
 * and the process stays alive even when nothing else is pending (signal handlers alone do
 * not keep Node's event loop running: a socket held only as an fd, as on the kernel data
 * path, would otherwise be closed by an early exit). Everything is undone when a signal
 * arrives or on dispose().
 */
export function waitForTermination(
  signals: readonly TerminationSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP'],
): TerminationWait {
  const handlers = new Map<TerminationSignal, () => void>();
  // The longest timer period Node allows (~24.8 days); re-armed by setInterval.
  const keepAlive = setInterval(() => {}, 0x7fffffff);
  const dispose = (): void => {
    clearInterval(keepAlive);
    for (const [sig, handler] of handlers) process.off(sig, handler);
    handlers.clear();
  };
  const signal = new Promise<TerminationSignal>((resolve) => {
    for (const sig of signals) {
      const handler = (): void => {
        dispose();
        resolve(sig);
      };
      handlers.set(sig, handler);
      process.on(sig, handler);
    }
  });
  return { signal, dispose };
}
