/** Test result recording for TypeScript test programs (see tests/lib/results.sh). */
import { appendFileSync } from 'node:fs';

const resultsFile = process.env.KOVPN_RESULTS;
let failures = 0;

function record(line: string): void {
  process.stdout.write(`${line}\n`);
  if (resultsFile) appendFileSync(resultsFile, `${line}\n`);
}

export function pass(name: string): void {
  record(`PASS ${name}`);
}

export function fail(name: string, reason: string): void {
  failures++;
  record(`FAIL ${name} ${reason.replace(/\s+/g, ' ')}`);
}

/** Runs `body`; PASS if it resolves, FAIL with the error message if it throws. */
export async function test(name: string, body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
    pass(name);
  } catch (err) {
    fail(name, err instanceof Error ? err.message : String(err));
  }
}

export function failureCount(): number {
  return failures;
}

/**
 * Runs a test program's `main` and sets the exit status: 1 if it threw (the error is printed)
 * or if any test failed, so a crash is never mistaken for success.
 */
export function runTests(main: () => Promise<void>): void {
  main()
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => {
      if (failures > 0) process.exitCode = 1;
    });
}
