/**
 * The soak run's table and verdict (tests/soak/soak.sh writes the files it reads):
 *   node dist/tests/soak/summarize.js DIR --row N    one row for sample N (printed as the run goes)
 *   node dist/tests/soak/summarize.js DIR --final    the whole table, then PASS/FAIL lines
 * Loss is counted per second from the iperf3 server's report and split by whether the
 * second lies within [-2 s, +3 s] of a rekey of the steady client (its "rekey" events).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, failureCount, pass } from '../lib/results.js';

const [dir, mode, rowArg] = process.argv.slice(2) as [string, string, string?];
const REKEY_BEFORE_S = 2;
const REKEY_AFTER_S = 3;
const maxLossOutside = Number(process.env.SOAK_MAX_LOSS_OUTSIDE_REKEY ?? '0.1');
const rssGrowthMb = Number(process.env.SOAK_RSS_GROWTH_MB ?? '32');

interface Sample {
  i: number; elapsed: number; load: number; rss: { server: number; engine: number; client: number; clientEngine: number };
  udpMbps?: number; lost: number; packets: number; lostAtRekey: number; packetsAtRekey: number; lostAtChurn: number; packetsAtChurn: number;
  tcpMbps?: number;
  sessions?: number; peers?: number; rekeys: number; error?: string;
}

const readJson = (f: string): any => { try { return JSON.parse(readFileSync(f, 'utf8')); } catch { return undefined; } };
const rekeyTimes: number[] = readFileSync(join(dir, 'kc.log'), 'utf8').split('\n')
  .filter((l) => l.includes('"type":"rekey"')).map((l) => Date.parse(/"time":"([^"]+)"/.exec(l)?.[1] ?? '') / 1000).filter((t) => !Number.isNaN(t));
const churn = existsSync(join(dir, 'churn.tsv')) ? readFileSync(join(dir, 'churn.tsv'), 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ')) : [];
const nearRekey = (a: number, b: number) => rekeyTimes.some((t) => t >= a - REKEY_AFTER_S && t <= b + REKEY_BEFORE_S);
/** Churn events (a join takes a few seconds of CPU: a node or openvpn start, a TLS handshake). */
const churnTimes = churn.map((c) => Number(c[0]));
const nearChurn = (a: number, b: number) => churnTimes.some((t) => t >= a - 8 && t <= b + 2);

function sample(line: string): Sample {
  const [i, elapsed, ks, es, kc, ec, load] = line.trim().split(/\s+/).map(Number) as number[];
  const s: Sample = {
    i: i!, elapsed: elapsed!, load: load ?? NaN, rss: { server: ks! / 1024, engine: es! / 1024, client: kc! / 1024, clientEngine: ec! / 1024 },
    lost: 0, packets: 0, lostAtRekey: 0, packetsAtRekey: 0, lostAtChurn: 0, packetsAtChurn: 0, rekeys: 0,
  };
  const udp = readJson(join(dir, `udp-${i}.json`));
  const srv = udp?.server_output_json;
  if (!udp || udp.error || !srv?.intervals) {
    s.error = `udp: ${udp?.error ?? 'no iperf3 report'}`;
  } else {
    const t0 = Number(srv.start.timestamp.timesecs);
    for (const iv of srv.intervals) {
      const { start, end, lost_packets: lost, packets } = iv.sum;
      s.lost += lost; s.packets += packets;
      if (nearRekey(t0 + start, t0 + end)) { s.lostAtRekey += lost; s.packetsAtRekey += packets; }
      else if (nearChurn(t0 + start, t0 + end)) { s.lostAtChurn += lost; s.packetsAtChurn += packets; }
    }
    const endT = t0 + srv.intervals.at(-1).sum.end;
    s.udpMbps = ((s.packets - s.lost) * Number(udp.start.test_start.blksize) * 8) / 1e6 / Math.max(1e-3, srv.intervals.at(-1).sum.end);
    s.rekeys = rekeyTimes.filter((t) => t <= endT).length;
  }
  const tcp = readJson(join(dir, `tcp-${i}.json`));
  if (tcp?.end?.sum_received) s.tcpMbps = tcp.end.sum_received.bits_per_second / 1e6;
  else s.error = `${s.error ? `${s.error}; ` : ''}tcp: ${tcp?.error ?? 'no iperf3 report'}`;
  const st = readJson(join(dir, `status-${i}.json`));
  s.sessions = st?.control?.sessions;
  s.peers = st?.peers?.length;
  return s;
}

const samples = readFileSync(join(dir, 'samples.tsv'), 'utf8').trim().split('\n').filter(Boolean).map(sample);

const pct = (a: number, b: number) => (b > 0 ? (100 * a) / b : 0);
const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
const HEADER = 'sample  time   udp Mbit/s  loss %  at rekey  outside  tcp Mbit/s  RSS MB srv/eng/cli/cli-eng   sessions  rekeys  load';
const row = (s: Sample) => [
  String(s.i).padStart(6), `${Math.floor(s.elapsed / 60)}:${String(s.elapsed % 60).padStart(2, '0')}`.padStart(6),
  f(s.udpMbps).padStart(11), f(pct(s.lost, s.packets), 3).padStart(7),
  `${s.lostAtRekey}/${s.packetsAtRekey}`.padStart(9), `${s.lost - s.lostAtRekey}/${s.packets - s.packetsAtRekey}`.padStart(9),
  f(s.tcpMbps).padStart(11),
  `${f(s.rss.server)}/${f(s.rss.engine)}/${f(s.rss.client)}/${f(s.rss.clientEngine)}`.padStart(29),
  `${s.sessions ?? '-'}`.padStart(10), String(s.rekeys).padStart(7), f(s.load).padStart(5), s.error ? `  ! ${s.error}` : '',
].join(' ');

if (mode === '--row') {
  const s = samples.find((x) => x.i === Number(rowArg));
  if (s) {
    if (s.i === 1) console.log(HEADER);
    console.log(row(s));
  }
} else {
  console.log(HEADER);
  for (const s of samples) console.log(row(s));
  const T = 'soak';
  const n = samples.length;
  const alive = existsSync(join(dir, 'alive')) && readFileSync(join(dir, 'alive'), 'utf8').trim() === 'yes';
  const lost = samples.reduce((a, s) => a + s.lost, 0), packets = samples.reduce((a, s) => a + s.packets, 0);
  const lostR = samples.reduce((a, s) => a + s.lostAtRekey, 0), packetsR = samples.reduce((a, s) => a + s.packetsAtRekey, 0);
  const lostO = lost - lostR, packetsO = packets - packetsR;
  const errors = samples.filter((s) => s.error);
  const joins = churn.filter((c) => c[2] === 'join-ok'), joinFails = churn.filter((c) => c[2] === 'join-fail');
  const leaves = churn.filter((c) => c[2]!.startsWith('leave'));
  const joinSecs = joins.map((c) => Number(c[4])).sort((a, b) => a - b);
  const duration = samples.at(-1)?.elapsed ?? 0;
  console.log(`${T}: ${n} samples over ${duration} s; ` +
    `churn ${joins.length} joins (median ${f(joinSecs[Math.floor(joinSecs.length / 2)])} s, slowest ${f(joinSecs.at(-1))} s), ` +
    `${joinFails.length} failed joins, ${leaves.length} leaves (${leaves.filter((c) => c[2] === 'leave-kill').length} by SIGKILL)`);
  console.log(`${T}: UDP loss ${lost}/${packets} (${f(pct(lost, packets), 4)} %): ${lostR}/${packetsR} within a rekey's seconds, ${lostO}/${packetsO} (${f(pct(lostO, packetsO), 4)} %) outside`);

  if (alive) pass(`${T}: the server daemon ran ${duration} s`); else fail(`${T}: the server daemon survives`, 'it is gone');
  if (n >= 2 && errors.length === 0) pass(`${T}: iperf3 UDP and TCP reported in every one of ${n} samples`);
  else fail(`${T}: iperf3 reports`, `${errors.length} of ${n} samples without one: ${errors[0]?.error ?? 'fewer than 2 samples'}`);
  if (pct(lostO, packetsO) <= maxLossOutside) pass(`${T}: UDP loss outside rekeys ${f(pct(lostO, packetsO), 4)} % (limit ${maxLossOutside} %)`);
  else fail(`${T}: UDP loss outside rekeys`, `${f(pct(lostO, packetsO), 4)} % (${lostO} of ${packetsO}), limit ${maxLossOutside} %`);
  console.log(`${T}: UDP loss at rekeys ${f(pct(lostR, packetsR), 4)} % (${lostR} of ${packetsR}; reported, not a verdict)`);
  const lostC = samples.reduce((a, s) => a + s.lostAtChurn, 0), packetsC = samples.reduce((a, s) => a + s.packetsAtChurn, 0);
  console.log(`${T}: of the loss outside rekeys, ${lostC}/${packetsC} (${f(pct(lostC, packetsC), 4)} %) in the seconds of a churn join or leave, ` +
    `${lostO - lostC}/${packetsO - packetsC} (${f(pct(lostO - lostC, packetsO - packetsC), 4)} %) in neither; host load average ${f(Math.min(...samples.map((s) => s.load)))}-${f(Math.max(...samples.map((s) => s.load)))}`);
  const rekeys = samples.at(-1)?.rekeys ?? 0;
  // reneg-sec 10 counts from the end of the previous negotiation: a little over 10 s apart.
  if (rekeys >= Math.floor(duration / 12) - 1) pass(`${T}: the steady client rekeyed ${rekeys} times in ${duration} s (every ${f(duration / Math.max(1, rekeys))} s)`);
  else fail(`${T}: rekeys`, `${rekeys} in ${duration} s, expected one every 10-12 s`);
  // Memory: from the sample after a quarter of the run (warm-up) to the last one.
  const base = samples[Math.max(1, Math.floor(n / 4))], last = samples.at(-1);
  if (base && last && base !== last) {
    for (const k of ['server', 'engine', 'client', 'clientEngine'] as const) {
      const g = last.rss[k] - base.rss[k];
      const perHour = (g / Math.max(1, last.elapsed - base.elapsed)) * 3600;
      const msg = `${k} RSS ${f(base.rss[k])} MB at ${base.elapsed} s -> ${f(last.rss[k])} MB at ${last.elapsed} s (${g >= 0 ? '+' : ''}${f(perHour)} MB/h)`;
      if (g < rssGrowthMb) pass(`${T}: ${msg}, limit +${rssGrowthMb} MB`); else fail(`${T}: memory growth`, `${msg}, limit +${rssGrowthMb} MB`);
    }
  } else fail(`${T}: memory growth`, 'too few samples to compare');
  if (joinFails.length === 0 && joins.length >= 2) pass(`${T}: every churn join succeeded (${joins.length})`);
  else fail(`${T}: churn joins`, `${joinFails.length} failed of ${joins.length + joinFails.length}: ${joinFails[0]?.slice(3).join(' ') ?? 'fewer than 2 joins'}`);
  const settled = existsSync(join(dir, 'settled')) ? readFileSync(join(dir, 'settled'), 'utf8').trim() : 'none';
  if (settled !== 'none') pass(`${T}: once churn stopped the server held the steady client's session alone (after ${settled} s)`);
  else fail(`${T}: sessions after churn`, 'the server still held more than the steady client 60 s after churn stopped');
  if (failureCount() > 0) process.exitCode = 1;
}
