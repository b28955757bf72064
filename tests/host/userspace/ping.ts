/**
 * `ping` from a namespace, each reply counted by nft rather than by ping. After its last
 * request iputils' ping waits only max(2 × the slowest round trip so far, the interval) once
 * any reply has come (-W counts only while none has), so on a loaded machine a reply a few
 * milliseconds late counts as lost to ping although the tunnel delivered it. Counters in the
 * sender's namespace match this run's ICMP identifier (`ping -e`): requests on the output
 * hook, replies on the input hook (after reassembly: one per answered ping), and late
 * replies are waited for. The shell suites count the same way (tests/netns/lib.sh, ping_ok).
 */
import { nsExec, nsMust } from './lib.js';

/** How long a reply ping gave up on is still waited for (once any reply came). */
const LATE_MS = 10_000;

/** What the last `ping` that got fewer replies than it sent printed, and what nft counted. */
export let lastPingSummary = '';

let runs = 0;

/** The packet counts of table inet `table`'s counters, in their order of declaration. */
async function counters(ns: string, table: string): Promise<number[]> {
  const listing = await nsMust(ns, ['nft', 'list', 'table', 'inet', table]);
  return [...listing.matchAll(/^\s*packets (\d+) bytes/gm)].map((m) => Number(m[1]));
}

/**
 * `count` echo requests (3) from `ns` to `dst`, every `interval` s (0.2), of `size` payload
 * bytes; returns how many were answered.
 */
export async function ping(ns: string, dst: string, opts: { count?: number; size?: number; interval?: number } = {}): Promise<number> {
  const count = opts.count ?? 3;
  const id = 1 + ((process.pid * 131 + ++runs) % 65535);
  const table = `echo_${process.pid}_${runs}`;
  const [l3, l4] = dst.includes(':') ? ['ip6', 'icmpv6'] : ['ip', 'icmp'];
  await nsMust(ns, ['nft', `table inet ${table} { counter requests { }; counter replies { }; ` +
    `chain out { type filter hook output priority -300; ${l3} daddr ${dst} ${l4} type echo-request ${l4} id ${id} counter name requests; }; ` +
    `chain in { type filter hook input priority -300; ${l3} saddr ${dst} ${l4} type echo-reply ${l4} id ${id} counter name replies; }; }`]);
  try {
    const args = ['ping', '-n', '-q', '-e', String(id), '-c', String(count), '-i', String(opts.interval ?? 0.2), '-W', '10'];
    if (opts.size !== undefined) args.push('-s', String(opts.size));
    args.push(dst);
    const r = await nsExec(ns, args, 60_000 + count * 1000);
    let [requests, replies] = await counters(ns, table);
    // none at all: ping itself waited -W for one
    for (const deadline = Date.now() + LATE_MS; replies > 0 && replies < requests && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      [requests, replies] = await counters(ns, table);
    }
    const got = requests === count ? replies : Math.min(replies, requests);
    const said = `${r.stdout.trim().split('\n').slice(-2).join('; ')}${r.stderr.trim() ? ` (${r.stderr.trim()})` : ''}`;
    lastPingSummary = got !== count ? `${said}; nft: ${requests} echo requests out, ${replies} replies in` : '';
    if (got !== count) console.error(`ping ${dst} in ${ns}: ${lastPingSummary}`);
    else if (!new RegExp(` ${count} (?:packets )?received`).test(r.stdout)) {
      console.error(`ping ${dst} in ${ns}: ping counted fewer than ${count} replies; nft saw all arrive, the last after ping stopped waiting`);
    }
    return got;
  } finally {
    await nsExec(ns, ['nft', 'delete', 'table', 'inet', table]);
  }
}
