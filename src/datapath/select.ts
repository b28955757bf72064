/**
 * Choice of the data path: the kernel's ovpn driver (this project's module or
 * mainline's) when it is there, the userspace engine otherwise.
 *
 *   kernel     the generic netlink family "ovpn" must resolve (after `modprobe ovpn`)
 *   userspace  always the userspace engine
 *   auto       kernel when available, else userspace
 *
 * The choice comes from `--datapath`, else the environment variable KOVPN_DATAPATH,
 * else `auto`, and is logged once per process (`data path: kernel (ovpn module)`).
 */
import { execFile } from 'node:child_process';
import type { Datapath } from './types.js';

export type DatapathChoice = 'auto' | 'kernel' | 'userspace';

export const DATAPATH_CHOICES: readonly DatapathChoice[] = ['auto', 'kernel', 'userspace'];
export const DATAPATH_ENV = 'KOVPN_DATAPATH';

/** Thrown when the requested data path cannot be used; the message says why and what to do. */
export class DatapathUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatapathUnavailableError';
  }
}

/** A bad value of --datapath or KOVPN_DATAPATH. */
export class DatapathChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatapathChoiceError';
  }
}

export function isDatapathChoice(text: string): text is DatapathChoice {
  return (DATAPATH_CHOICES as readonly string[]).includes(text);
}

/** `--datapath` value if given, else $KOVPN_DATAPATH, else auto. Empty env = unset. */
export function resolveDatapathChoice(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): DatapathChoice {
  if (option !== undefined) {
    if (!isDatapathChoice(option)) {
      throw new DatapathChoiceError(
        `invalid --datapath "${option}": expected ${DATAPATH_CHOICES.join(', ')}`,
      );
    }
    return option;
  }
  const fromEnv = env[DATAPATH_ENV];
  if (fromEnv === undefined || fromEnv === '') return 'auto';
  if (!isDatapathChoice(fromEnv)) {
    throw new DatapathChoiceError(
      `invalid ${DATAPATH_ENV}="${fromEnv}": expected ${DATAPATH_CHOICES.join(', ')}`,
    );
  }
  return fromEnv;
}

/** How the kernel data path was found, or why not. */
export interface KernelProbe {
  available: boolean;
  /** For the log line: "ovpn module", "ovpn module, loaded by modprobe", or the failure. */
  detail: string;
}

/** Hooks so the probe can be exercised without touching the system. */
export interface ProbeHooks {
  familyResolves(): Promise<boolean>;
  modprobe(module: string): Promise<void>;
}

function runModprobe(module: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Generous timeout: under emulation modprobe alone takes seconds.
    execFile('modprobe', [module], { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (!err) {
        resolve();
        return;
      }
      const why = (stderr.toString().trim().split('\n').pop() || err.message).replace(/^modprobe: (FATAL|ERROR): /, '');
      reject(new Error(why));
    });
  });
}

async function familyResolves(): Promise<boolean> {
  const { ovpnFamilyResolves } = await import('./kernel.js');
  return ovpnFamilyResolves();
}

const systemHooks: ProbeHooks = { familyResolves, modprobe: runModprobe };

/** Resolves the "ovpn" genl family, loading the module once if it does not resolve. */
export async function probeKernel(hooks: ProbeHooks = systemHooks): Promise<KernelProbe> {
  try {
    if (await hooks.familyResolves()) return { available: true, detail: 'ovpn module' };
  } catch (err) {
    return { available: false, detail: `generic netlink unusable: ${(err as Error).message}` };
  }
  try {
    await hooks.modprobe('ovpn');
  } catch (err) {
    return { available: false, detail: `modprobe ovpn failed: ${(err as Error).message}` };
  }
  try {
    if (await hooks.familyResolves()) {
      return { available: true, detail: 'ovpn module, loaded by modprobe' };
    }
  } catch (err) {
    return { available: false, detail: `generic netlink unusable: ${(err as Error).message}` };
  }
  return {
    available: false,
    detail: 'modprobe ovpn succeeded but the "ovpn" generic netlink family does not resolve',
  };
}

/** Which path a choice lands on, with the words for the log line. Throws when forced kernel is absent. */
export async function decideDatapath(
  choice: DatapathChoice,
  hooks: ProbeHooks = systemHooks,
): Promise<{ kind: Datapath['kind']; detail: string }> {
  if (choice === 'userspace') return { kind: 'userspace', detail: 'requested' };
  const probe = await probeKernel(hooks);
  if (probe.available) return { kind: 'kernel', detail: probe.detail };
  if (choice === 'kernel') {
    throw new DatapathUnavailableError(
      `kernel data path requested but unavailable (${probe.detail}); load ovpn.ko or use --datapath userspace`,
    );
  }
  return { kind: 'userspace', detail: `no kernel ovpn: ${probe.detail}` };
}

async function instantiate(kind: Datapath['kind']): Promise<Datapath> {
  if (kind === 'kernel') {
    const { KernelDatapath } = await import('./kernel.js');
    return KernelDatapath.open();
  }
  const { UserspaceDatapath } = await import('./userspace/datapath.js');
  return UserspaceDatapath.open();
}

let logged = false;

/**
 * The data path for `choice`, opened. `log` receives `data path: <kind> (<detail>)`
 * the first time a data path is selected in this process.
 */
export async function selectDatapath(
  choice: DatapathChoice,
  log: (line: string) => void,
): Promise<Datapath> {
  const { kind, detail } = await decideDatapath(choice);
  if (!logged) {
    logged = true;
    log(`data path: ${kind} (${detail})`);
  }
  return instantiate(kind);
}
