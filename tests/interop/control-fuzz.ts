/**
 * Control-channel fuzzer against a running `kovpn` server (see control-fuzz.test.sh, which
 * starts the daemon and runs this in the client namespace). For FUZZ_SECONDS it keeps
 * FUZZ_PARALLEL scenarios (fuzz/scenarios.ts) in flight from the FUZZ_SOURCES addresses,
 * choices drawn from FUZZ_SEED (printed; a seed replays the same scenarios and mutations,
 * though not byte for byte: TLS randomness and timing differ), while it asks the daemon for
 * its status every second. Then: the daemon runs, answered every status request quickly, its
 * control sessions return to none (hand-window, keepalive) and its memory stayed bounded.
 * Prints the coverage reached.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../../src/daemon/control-socket.js';
import type { TunnelStatus } from '../../src/daemon/status.js';
import { netnsInode, runDir } from '../../src/datapath/userspace/paths.js';
import { fail, pass, runTests } from '../lib/results.js';
import { Rng } from './fuzz/rng.js';
import { SCENARIOS, runScenario, type FuzzContext } from './fuzz/scenarios.js';

const env = (k: string, d?: string): string => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set (control-fuzz.test.sh sets it)`);
  return v;
};
const seconds = Number(env('FUZZ_SECONDS', '30'));
const seed = Number(env('FUZZ_SEED', String(Date.now() % 1_000_000)));
const parallel = Number(env('FUZZ_PARALLEL', '6'));
const [address, portText] = env('FUZZ_TARGET').split(':');
const sources = env('FUZZ_SOURCES').split(',');
const pki = env('FUZZ_PKI');
const daemonPid = Number(env('FUZZ_DAEMON_PID'));
/** How long leftover sessions may take to end: hand-window, keepalive expiry, slack. */
const settleSeconds = Number(env('FUZZ_SETTLE_SECONDS', '60'));
const rssLimitMb = Number(env('FUZZ_RSS_GROWTH_MB', '64'));
const statusPath = join(runDir(), `net-${netnsInode(`/run/netns/${env('FUZZ_SERVER_NS')}`)}`, `kovpn-${env('FUZZ_DEV')}.sock`);
const T = 'control fuzz';
/** Slowest status answer accepted (the host is shared: 3 s were seen at a load average of 20). */
const STATUS_LIMIT_MS = 5000;

const rssMb = (): number => {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemonPid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const alive = (): boolean => {
  try { process.kill(daemonPid, 0); return true; } catch { return false; }
};

/** One status request; resolves with the status and how long the answer took. */
async function status(timeoutMs = 10_000): Promise<{ s: TunnelStatus; ms: number }> {
  const t0 = performance.now();
  let s: TunnelStatus | undefined;
  let err: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      request(statusPath, 'status', (o) => { if (o.ok === true) s = o.status as TunnelStatus; else err = String(o.error); return false; }),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  if (!s) throw new Error(err ?? 'no status');
  return { s, ms: performance.now() - t0 };
}
const sessions = (s: TunnelStatus) => ({ control: s.control?.sessions ?? -1, halfOpen: s.control?.halfOpen ?? -1, peers: s.peers.length });

async function main(): Promise<void> {
  const ctx: FuzzContext = {
    target: { address: address!, port: Number(portText) }, creds: {
      ca: readFileSync(join(pki, 'ca.crt'), 'utf8'), cert: readFileSync(join(pki, 'client.crt'), 'utf8'), key: readFileSync(join(pki, 'client.key'), 'utf8'),
    },
    stats: { scenarios: {}, mutations: {}, reached: { serverReset: 0, serverTls: 0, secure: 0, serverKm2: 0, pushReply: 0 }, sent: 0 },
  };
  const before = await status();
  const base = sessions(before.s);
  const rss0 = rssMb();
  console.log(`${T}: seed ${seed}, ${seconds} s, ${parallel} at once from ${sources.length} addresses; daemon RSS ${rss0.toFixed(1)} MB, sessions ${JSON.stringify(base)}`);

  // Status polling alongside the fuzz: latency and the largest session count seen.
  let maxStatusMs = 0, statusFailures = 0, statusCount = 0, peakRss = rss0, peakSessions = 0;
  let fuzzing = true;
  const poller = (async () => {
    while (fuzzing) {
      try {
        const { s, ms } = await status();
        statusCount++;
        maxStatusMs = Math.max(maxStatusMs, ms);
        peakSessions = Math.max(peakSessions, s.control?.sessions ?? 0);
      } catch (e) {
        statusFailures++;
        console.log(`${T}: status failed: ${(e as Error).message}`);
      }
      peakRss = Math.max(peakRss, rssMb() || 0);
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();

  const rng = new Rng(seed);
  const end = Date.now() + seconds * 1000;
  let next = 0, errors = 0;
  const running = new Set<Promise<void>>();
  while (Date.now() < end && alive()) {
    while (running.size < parallel) {
      const kind = rng.pick(SCENARIOS);
      const p: Promise<void> = runScenario(kind, rng.fork(), sources[next++ % sources.length]!, ctx)
        .catch((e: unknown) => { errors++; console.log(`${T}: scenario ${kind} threw: ${(e as Error).stack}`); })
        .finally(() => running.delete(p));
      running.add(p);
    }
    await Promise.race(running);
  }
  await Promise.all(running);
  fuzzing = false;
  await poller;
  const st = ctx.stats;
  const total = Object.values(st.scenarios).reduce((a, b) => a + b, 0);
  console.log(`${T}: ${total} scenarios ${JSON.stringify(st.scenarios)}, ${st.sent} datagrams sent`);
  console.log(`${T}: reached ${JSON.stringify(st.reached)}`);
  console.log(`${T}: mutations ${JSON.stringify(Object.fromEntries(Object.entries(st.mutations).sort()))}`);

  if (alive()) pass(`${T}: the daemon survived ${total} scenarios (seed ${seed})`);
  else { fail(`${T}: the daemon survives`, `pid ${daemonPid} is gone (seed ${seed})`); return; }
  if (errors === 0) pass(`${T}: the fuzzer itself ran without errors`); else fail(`${T}: fuzzer errors`, `${errors} scenarios threw`);
  if (statusFailures === 0 && maxStatusMs < STATUS_LIMIT_MS) pass(`${T}: status answered ${statusCount} times during the fuzz (slowest ${maxStatusMs.toFixed(0)} ms)`);
  else fail(`${T}: status during the fuzz`, `${statusFailures} of ${statusCount + statusFailures} failed, slowest ${maxStatusMs.toFixed(0)} ms (limit ${STATUS_LIMIT_MS})`);
  // The run must have gone deep: TLS completed, key-method-2 answered, clients pushed.
  const shallow = (Object.keys(st.reached) as (keyof typeof st.reached)[]).filter((k) => st.reached[k] === 0);
  const missing = SCENARIOS.filter((k) => !st.scenarios[k]);
  if (shallow.length === 0 && missing.length === 0) pass(`${T}: every scenario kind ran and every handshake depth was reached (${st.reached.pushReply} pushed)`);
  else fail(`${T}: coverage`, `never reached ${shallow.join(', ') || '-'}; kinds not run ${missing.join(', ') || '-'}`);

  // Every session the fuzz left behind ends by itself: none is leaked.
  const t0 = Date.now();
  let last = sessions(before.s);
  let counters = before.s.control;
  while (Date.now() - t0 < settleSeconds * 1000) {
    try {
      const { s } = await status();
      last = sessions(s);
      counters = s.control;
      if (last.control <= base.control && last.peers <= base.peers) break;
    } catch { /* counted above; keep polling */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  const settled = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`${T}: server counters ${JSON.stringify(counters)}; peak ${peakSessions} sessions`);
  if (last.control <= base.control && last.peers <= base.peers) pass(`${T}: sessions back to ${last.control} (baseline ${base.control}) ${settled} s after the fuzz (peak ${peakSessions})`);
  else fail(`${T}: sessions leaked`, `${JSON.stringify(last)} after ${settled} s, baseline ${JSON.stringify(base)}`);
  if (counters && counters.malformed > 0 && counters.badCookie > 0 && counters.sessionsCreated > 0) {
    pass(`${T}: the server saw the malformed packets (${counters.malformed}), bad cookies (${counters.badCookie}) and created ${counters.sessionsCreated} sessions`);
  } else fail(`${T}: server counters`, JSON.stringify(counters));
  const rss1 = rssMb();
  console.log(`${T}: daemon RSS ${rss0.toFixed(1)} -> peak ${peakRss.toFixed(1)} -> ${rss1.toFixed(1)} MB`);
  if (rss1 - rss0 < rssLimitMb) pass(`${T}: daemon memory bounded (RSS ${rss0.toFixed(0)} -> ${rss1.toFixed(0)} MB, peak ${peakRss.toFixed(0)})`);
  else fail(`${T}: daemon memory`, `RSS grew ${(rss1 - rss0).toFixed(0)} MB (${rss0.toFixed(0)} -> ${rss1.toFixed(0)}), limit ${rssLimitMb}`);
}

runTests(main);
