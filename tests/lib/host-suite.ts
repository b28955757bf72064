/**
 * Host test programs as uvu suites that keep the PASS/FAIL result lines (results.ts): each
 * test records its line as it ends, a failing set-up records `FAIL <suite>: set-up`, and uvu
 * counts the tests and sets the exit status. Run one file as the unit tests are run:
 *   node node_modules/uvu/bin.js dist/tests/host/userspace '^p2p.test.js$'
 * (plain `node <file>` works too; tests/run-host.sh runs each file under uvu).
 */
import { suite } from 'uvu';
import { fail, pass } from './results.js';

export interface HostSuite {
  /** Registers a test; tests run one after the other, in this order. */
  test(name: string, body: () => Promise<void> | void): void;
  /** Starts the suite (after every test is registered). */
  run(): void;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A set-up or clean-up hook that records FAIL when it throws. uvu then skips the tests but
 * counts no failure (and sets the exit status when done), so the status is set at exit.
 */
function hook(name: string, fn: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (err) {
      fail(name, message(err));
      process.once('exit', () => (process.exitCode = 1));
      throw err;
    }
  };
}

/** A suite whose `before` sets up what every test shares and `after` (always run) removes it. */
export function hostSuite(title: string, hooks: { before?: () => Promise<void> | void; after?: () => Promise<void> | void } = {}): HostSuite {
  const s = suite(title);
  const { before, after } = hooks;
  if (before) s.before(hook(`${title}: set-up`, before));
  if (after) s.after(hook(`${title}: clean-up`, after));
  return {
    test(name, body) {
      s(name, async () => {
        try {
          await body();
        } catch (err) {
          fail(name, message(err));
          throw err;
        }
        pass(name);
      });
    },
    run: () => s.run(),
  };
}
