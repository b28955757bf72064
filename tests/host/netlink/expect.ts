/**
 * Assertions shared by the netlink host tests (netlink.test.ts) and the kernel data path
 * test (kernel.ts): a condition, an expected rejection, and polling with a deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export function expect(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}

/** Waits for `p` to reject with a `type` error that passes `check`, and returns that error. */
export async function rejects<T extends Error>(p: Promise<unknown>, type: new (...a: never[]) => T, check: (e: T) => boolean, what: string): Promise<T> {
  try {
    await p;
  } catch (err) {
    if (err instanceof type && check(err)) return err;
    throw new Error(`${what}: wrong error: ${(err as Error).message}`);
  }
  throw new Error(`${what}: did not fail`);
}

/** Waits until `poll` returns a value (polling every `stepMs`), or fails after `ms`. */
export async function until<T>(poll: () => T | undefined, ms: number, what: string, stepMs = 5): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = poll();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}
