/**
 * Runs the calling test program inside a network namespace of its own (prefix "nl-"):
 * the parent creates it, re-runs this script inside with `ip netns exec`, deletes it.
 */
import { spawnSync } from 'node:child_process';

const MARK = 'KOVPN_NL_NETNS';

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr?.toString().trim() || `exit ${r.status}`}`);
}

/** True inside the namespace (go on testing); in the parent it runs the child and exits. */
export function enterOwnNetns(): true {
  if (process.env[MARK]) return true;
  const ns = `nl-host-${process.pid}`;
  ip('netns', 'add', ns);
  let status = 1;
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, [MARK]: ns },
    });
    status = r.status ?? 1;
  } finally {
    ip('netns', 'del', ns);
  }
  process.exit(status);
}
