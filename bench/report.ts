/**
 * Turns the raw output of one benchmark run into numbers: bench/results/latest.{json,md,svg}.
 *
 *   node dist/bench/report.js RAWDIR RESULTSDIR
 *
 * RAWDIR holds `vm/` and `host/` (bench/datapath.sh output: one folder per data path with
 * iperf3 JSON, ping output, /proc/stat samples and a status line) and `control.json`
 * (bench/ctrl-plane.ts). Every figure is reported as min / median / max over the repeats;
 * data-path figures also as a ratio to plain veth and to WireGuard measured in the same
 * environment. Missing or unusable measurements become "n/a (reason)", never a number.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Stat {
  min: number;
  median: number;
  max: number;
  values: number[];
}

interface MetricDef {
  key: string;
  label: string;
  unit: string;
  /** true when a bigger number is better (throughput), false for latency and cost. */
  higherIsBetter: boolean;
}

const METRICS: MetricDef[] = [
  { key: 'tcp_1_fwd', label: 'TCP 1 stream →', unit: 'Mbit/s', higherIsBetter: true },
  { key: 'tcp_1_rev', label: 'TCP 1 stream ←', unit: 'Mbit/s', higherIsBetter: true },
  { key: 'tcp_4_fwd', label: 'TCP 4 streams →', unit: 'Mbit/s', higherIsBetter: true },
  { key: 'tcp_4_rev', label: 'TCP 4 streams ←', unit: 'Mbit/s', higherIsBetter: true },
  { key: 'udp_64', label: 'UDP 64 B', unit: 'kpps', higherIsBetter: true },
  { key: 'udp_1400', label: 'UDP 1400 B', unit: 'kpps', higherIsBetter: true },
  { key: 'ping_median', label: 'ping median', unit: 'ms', higherIsBetter: false },
  { key: 'ping_p99', label: 'ping p99', unit: 'ms', higherIsBetter: false },
  { key: 'ping_idle_median', label: 'ping median, 5/s', unit: 'ms', higherIsBetter: false },
  { key: 'cpu_per_gb', label: 'CPU per GB', unit: 's/GB', higherIsBetter: false },
  { key: 'proc_cpu_per_gb', label: 'tunnel processes CPU per GB', unit: 's/GB', higherIsBetter: false },
];

const PATH_LABELS: Record<string, string> = {
  veth: 'plain veth (ceiling)',
  wireguard: 'WireGuard (kernel)',
  'kovpn-kernel-aes': 'kovpn kernel AES-256-GCM',
  'kovpn-kernel-chacha': 'kovpn kernel ChaCha20-Poly1305',
  'kovpn-user-aes': 'kovpn userspace AES-256-GCM',
  'kovpn-user-chacha': 'kovpn userspace ChaCha20-Poly1305',
  'openvpn-aes': 'OpenVPN 2.6 userspace AES-256-GCM',
  'openvpn-chacha': 'OpenVPN 2.6 userspace ChaCha20-Poly1305',
  'openvpn-dco-kovpn': "OpenVPN 2.6 DCO on kovpn's ovpn.ko AES-256-GCM",
  'openvpn-dco-debian': "OpenVPN 2.6 DCO on Debian's ovpn-dco AES-256-GCM",
  'kovpn-user-aes-nooffload': 'kovpn userspace AES-256-GCM, no GSO/GRO',
  'kovpn-kernel-tcp-aes': 'kovpn kernel over TCP AES-256-GCM',
  'kovpn-user-tcp-aes': 'kovpn userspace over TCP AES-256-GCM',
  'openvpn-tcp-aes': 'OpenVPN 2.6 userspace over TCP AES-256-GCM',
  'base-user-aes': 'KOVPN_BASE userspace AES-256-GCM',
  'base-user-chacha': 'KOVPN_BASE userspace ChaCha20-Poly1305',
};
/** The stock OpenVPN row every path is also compared with. */
const OPENVPN_REF = 'openvpn-aes';
const PATH_ORDER = Object.keys(PATH_LABELS);

interface PathResult {
  label: string;
  status: string;
  metrics: Record<string, Stat | null>;
  ratioToVeth: Record<string, number | null>;
  ratioToWireguard: Record<string, number | null>;
  ratioToOpenvpn: Record<string, number | null>;
}

interface EnvResult {
  meta: Record<string, string>;
  paths: Record<string, PathResult>;
}

function stat(values: number[]): Stat | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median, max: v[v.length - 1]!, values: v };
}

function quantile(sorted: number[], q: number): number {
  // nearest-rank
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

function readJson(file: string): any {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function readKv(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    for (const m of line.matchAll(/(\w+)=("[^"]*"|.*?)(?=\s+\w+=|$)/g)) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** Repeat numbers present for files `<prefix>-<r>.<ext>`. */
function repeats(dir: string, prefix: string, ext: string): number[] {
  const re = new RegExp(`^${prefix}-(\\d+)\\.${ext}$`);
  return readdirSync(dir)
    .map((f) => re.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Paths whose data plane runs in processes (userspace engines, openvpn daemons). */
const isProcessPath = (name: string): boolean => /^(kovpn-user|base-user|openvpn)/.test(name);

function parsePath(dir: string, clkTck: number, processPath: boolean): { metrics: Record<string, Stat | null> } {
  const metrics: Record<string, Stat | null> = {};
  for (const n of [1, 4]) {
    for (const d of ['fwd', 'rev']) {
      const prefix = `tcp-${n}-${d}`;
      const vals: number[] = [];
      const cpu: number[] = [];
      const procCpu: number[] = [];
      for (const r of repeats(dir, prefix, 'json')) {
        const j = readJson(join(dir, `${prefix}-${r}.json`));
        const recv = j?.end?.sum_received;
        if (!recv || j.error) continue;
        vals.push(recv.bits_per_second / 1e6);
        if (n === 1 && d === 'fwd') {
          const cpuFile = join(dir, `${prefix}-${r}.cpu`);
          if (existsSync(cpuFile)) {
            const [a, b] = readFileSync(cpuFile, 'utf8').trim().split('\n').map(Number);
            if (Number.isFinite(a) && Number.isFinite(b) && recv.bytes > 0) {
              cpu.push((b! - a!) / clkTck / (recv.bytes / 1e9));
            }
          }
          // Paths without tunnel processes (kernel ones, veth) count next to nothing here.
          const ticksFile = join(dir, `${prefix}-${r}.ticks`);
          if (processPath && existsSync(ticksFile)) {
            const [a, b] = readFileSync(ticksFile, 'utf8').trim().split('\n').map(Number);
            if (Number.isFinite(a) && Number.isFinite(b) && recv.bytes > 0) {
              procCpu.push((b! - a!) / clkTck / (recv.bytes / 1e9));
            }
          }
        }
      }
      metrics[`tcp_${n}_${d}`] = stat(vals);
      if (n === 1 && d === 'fwd') {
        metrics.cpu_per_gb = stat(cpu);
        metrics.proc_cpu_per_gb = stat(procCpu);
      }
    }
  }
  for (const size of [64, 1400]) {
    const vals: number[] = [];
    for (const r of repeats(dir, `udp-${size}`, 'json')) {
      const j = readJson(join(dir, `udp-${size}-${r}.json`));
      const s = j?.end?.sum_received ?? j?.end?.sum;
      if (!s || j.error || !(s.seconds > 0)) continue;
      vals.push((s.packets - s.lost_packets) / s.seconds / 1e3);
    }
    metrics[`udp_${size}`] = stat(vals);
  }
  const rttsOf = (file: string): number[] =>
    [...readFileSync(join(dir, file), 'utf8').matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  const med: number[] = [];
  const p99: number[] = [];
  for (const r of repeats(dir, 'ping', 'txt')) {
    const rtts = rttsOf(`ping-${r}.txt`);
    if (rtts.length < 10) continue;
    med.push(quantile(rtts, 0.5));
    p99.push(quantile(rtts, 0.99));
  }
  metrics.ping_median = stat(med);
  metrics.ping_p99 = stat(p99);
  const idle: number[] = [];
  for (const r of repeats(dir, 'ping-idle', 'txt')) {
    const rtts = rttsOf(`ping-idle-${r}.txt`);
    if (rtts.length >= 5) idle.push(quantile(rtts, 0.5));
  }
  metrics.ping_idle_median = stat(idle);
  return { metrics };
}

function parseEnv(dir: string): EnvResult | null {
  if (!existsSync(dir)) return null;
  const meta = readKv(join(dir, 'meta.txt'));
  const clkTck = Number(meta.clk_tck ?? 100) || 100;
  const paths: Record<string, PathResult> = {};
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => PATH_ORDER.indexOf(a) - PATH_ORDER.indexOf(b));
  for (const name of names) {
    const statusFile = join(dir, name, 'status');
    const status = existsSync(statusFile)
      ? readFileSync(statusFile, 'utf8').trim()
      : 'n/a: did not finish';
    const metrics: Record<string, Stat | null> =
      status === 'ok' ? parsePath(join(dir, name), clkTck, isProcessPath(name)).metrics : {};
    paths[name] = {
      label: PATH_LABELS[name] ?? name,
      status,
      metrics,
      ratioToVeth: {},
      ratioToWireguard: {},
      ratioToOpenvpn: {},
    };
  }
  for (const p of Object.values(paths)) {
    for (const m of METRICS) {
      const mine = p.metrics[m.key]?.median;
      const veth = paths.veth?.metrics[m.key]?.median;
      const wg = paths.wireguard?.metrics[m.key]?.median;
      p.ratioToVeth[m.key] = mine !== undefined && veth ? mine / veth : null;
      const ovpn = paths[OPENVPN_REF]?.metrics[m.key]?.median;
      p.ratioToWireguard[m.key] = mine !== undefined && wg ? mine / wg : null;
      p.ratioToOpenvpn[m.key] = mine !== undefined && ovpn ? mine / ovpn : null;
    }
  }
  return { meta, paths };
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

function cell(s: Stat | null | undefined): string {
  if (!s) return 'n/a';
  return s.min === s.max ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

function ratio(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${fmt(x)}×`;
}

function envTables(title: string, env: EnvResult): string {
  const lines: string[] = [];
  const m = env.meta;
  lines.push(`### ${title}`, '');
  lines.push(
    `kernel ${m.kernel ?? '?'} · ${m.cpus ?? '?'} × ${m.cpu ?? '?'} · iperf3 ${m.iperf3 ?? '?'} · ` +
      `OpenVPN ${m.openvpn || 'n/a'} · wireguard-tools ${m.wireguard_tools || 'n/a'} · node ${m.node ?? '?'} · ` +
      `kovpn ${m.kovpn ?? '?'} · ${m.repeats ?? '?'} repeats of ${m.seconds ?? '?'} s, ${m.pings ?? '?'} pings`,
    '',
  );
  lines.push('median (min–max) over the repeats; → client to server, ← reverse', '');
  lines.push(`| path | ${METRICS.map((d) => `${d.label} (${d.unit})`).join(' | ')} |`);
  lines.push(`|---|${METRICS.map(() => '---:').join('|')}|`);
  for (const [, p] of Object.entries(env.paths)) {
    if (p.status !== 'ok') {
      lines.push(`| ${p.label} | ${p.status.replace(/\|/g, '/').replace(/^n\/a:\s*/, 'n/a (')}) |${METRICS.slice(1).map(() => '').join(' |')} |`);
      continue;
    }
    lines.push(`| ${p.label} | ${METRICS.map((d) => cell(p.metrics[d.key])).join(' | ')} |`);
  }
  lines.push('', 'Ratios of the medians: to plain veth / to WireGuard / to OpenVPN 2.6 AES-256-GCM (– where that row is missing)', '');
  lines.push(`| path | ${METRICS.map((d) => d.label).join(' | ')} |`);
  lines.push(`|---|${METRICS.map(() => '---:').join('|')}|`);
  for (const [, p] of Object.entries(env.paths)) {
    if (p.status !== 'ok') continue;
    lines.push(
      `| ${p.label} | ${METRICS.map((d) => `${ratio(p.ratioToVeth[d.key])} / ${ratio(p.ratioToWireguard[d.key])} / ${ratio(p.ratioToOpenvpn[d.key])}`).join(' | ')} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

function controlTable(control: any, title = 'Control plane (in the VM, kernel path, one MP device)'): string {
  const lines = [`### ${title}`, ''];
  if (!control) return [...lines, 'n/a (no control-plane results)', ''].join('\n');
  if (control.status && control.status !== 'ok') return [...lines, `n/a (${control.status})`, ''].join('\n');
  lines.push('| figure | median (min–max) | unit |', '|---|---:|---|');
  for (const [key, v] of Object.entries<any>(control.figures ?? {})) {
    const s = v.values ? stat(v.values) : null;
    lines.push(`| ${v.label ?? key} | ${v.values ? cell(s) : `n/a (${v.reason ?? 'not measured'})`} | ${v.unit ?? ''} |`);
  }
  if (control.notes) lines.push('', String(control.notes));
  lines.push('');
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Horizontal bars of single-stream TCP throughput per path, one panel per environment. */
function svg(envs: Array<[string, EnvResult]>): string {
  const width = 760;
  const labelW = 270;
  const barMax = width - labelW - 110;
  const rowH = 22;
  const parts: string[] = [];
  let y = 34;
  parts.push(
    `<text x="10" y="20" font-size="15" font-weight="bold">kovpn benchmark: TCP throughput, 1 stream, client → server (median, whisker = min–max)</text>`,
  );
  for (const [title, env] of envs) {
    const rows = Object.entries(env.paths);
    const maxV = Math.max(1, ...rows.map(([, p]) => p.metrics.tcp_1_fwd?.max ?? 0));
    parts.push(`<text x="10" y="${y + 14}" font-size="13" font-weight="bold">${esc(title)} (kernel ${esc(env.meta.kernel ?? '?')})</text>`);
    y += 22;
    for (const [name, p] of rows) {
      const s = p.metrics.tcp_1_fwd;
      const ty = y + 15;
      parts.push(`<text x="${labelW - 6}" y="${ty}" font-size="12" text-anchor="end">${esc(p.label)}</text>`);
      if (!s) {
        parts.push(`<text x="${labelW + 4}" y="${ty}" font-size="11" fill="#888">${esc(p.status === 'ok' ? 'n/a' : p.status.slice(0, 70))}</text>`);
      } else {
        const w = (s.median / maxV) * barMax;
        const color = name.startsWith('kovpn-kernel')
          ? '#2b6cb0'
          : name.startsWith('kovpn')
            ? '#63b3ed'
            : name === 'veth'
              ? '#a0aec0'
              : name === 'wireguard'
                ? '#38a169'
                : '#dd6b20';
        parts.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${color}"/>`);
        const x0 = labelW + (s.min / maxV) * barMax;
        const x1 = labelW + (s.max / maxV) * barMax;
        parts.push(`<line x1="${x0.toFixed(1)}" y1="${y + rowH / 2}" x2="${x1.toFixed(1)}" y2="${y + rowH / 2}" stroke="#222" stroke-width="1.5"/>`);
        parts.push(`<text x="${(Math.max(labelW + w, x1) + 5).toFixed(1)}" y="${ty}" font-size="11">${fmt(s.median)} Mbit/s</text>`);
      }
      y += rowH;
    }
    y += 14;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`
  );
}

function main(): void {
  const [rawDir, resultsDir] = process.argv.slice(2);
  if (!rawDir || !resultsDir) {
    console.error('usage: node dist/bench/report.js RAWDIR RESULTSDIR');
    process.exit(2);
  }
  const vm = parseEnv(join(rawDir, 'vm'));
  const host = parseEnv(join(rawDir, 'host'));
  const control = readJson(join(rawDir, 'control.json'));
  const moduleControl = readJson(join(rawDir, 'control-module.json'));
  const wireguardControl = readJson(join(rawDir, 'control-wireguard.json'));
  const hostControl = readJson(join(rawDir, 'host', 'control.json'));
  const cliStart = readJson(join(rawDir, 'host', 'cli-start.json'));
  const notes = existsSync(join(rawDir, 'notes.txt')) ? readFileSync(join(rawDir, 'notes.txt'), 'utf8').trim() : '';
  const report = {
    generated: new Date().toISOString(),
    units: Object.fromEntries(METRICS.map((m) => [m.key, m.unit])),
    vm,
    host,
    control,
    moduleControl,
    wireguardControl,
    hostControl,
    cliStart,
    notes,
  };
  const envs: Array<[string, EnvResult]> = [];
  if (vm) envs.push(['Data plane in the VM (qemu TCG)', vm]);
  if (host) envs.push(['Data plane on the host (no VM)', host]);
  const md = [
    `# kovpn benchmarks (${report.generated})`,
    '',
    'Absolute numbers inside the emulated VM mean little; compare paths within one table.',
    'UDP sizes are whole inner IP packets; UDP rates are packets received per second at an',
    'unlimited send rate. CPU per GB: busy CPU seconds (all CPUs, /proc/stat) per GB received',
    'during the 1-stream TCP test; only meaningful in the VM, where nothing else runs. Tunnel',
    'processes CPU per GB: the same for the processes of a userspace path (engines, daemons) only.',
    'Paths are set up side by side and measured interleaved, repeat by repeat. Ping: 200 at',
    '100 per second (median, p99), and 20 at 5 per second (an idle path, no queueing).',
    '',
    ...envs.map(([t, e]) => envTables(t, e)),
    controlTable(control),
    controlTable(moduleControl, 'Control plane in the VM: the module alone (python genl client), same boot'),
    controlTable(wireguardControl, 'Control plane in the VM: WireGuard (reference), same boot'),
    controlTable(hostControl, 'Control plane on the host (one core): netlink library, control-channel handshakes'),
    controlTable(cliStart, 'Start-up time on the host: ovpn-cli (bench/cli-start.sh)'),
    notes ? `### Notes\n\n${notes}\n` : '',
  ].join('\n');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'latest.md'), md);
  writeFileSync(join(resultsDir, 'latest.svg'), svg(envs));
  process.stdout.write(md);
}

main();
