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
