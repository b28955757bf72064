/**
 * The userspace engine process: `node dist/src/datapath/userspace/engine-main.js [--socket PATH]`.
 * Serves the userspace ovpn devices of its network namespace on the control socket
 * (default: paths.ts), prints `ready <socket path>` on stdout once it listens, logs to
 * stderr. Exits on SIGTERM/SIGINT (devices and peers go with it), when it has had no device
 * and no client for a moment, or with status 3 if another engine already serves the socket.
 * KOVPN_TEST_FIRST_TX_PACKET_ID (tests only, like the module's OVPN_TEST_PKTID_START build):
 * the first packet id of every key, e.g. 4294967294 for keys that are exhausted after two packets.
 */
import { Engine } from './engine.js';
import { ControlServer } from './server.js';
import { engineSocketPath } from './paths.js';

const IDLE_GRACE_MS = 2_000;
/** A freshly started engine waits this long for its first client. */
const FIRST_CLIENT_MS = 120_000;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} kovpn-engine[${process.pid}] ${line}\n`);
}

function socketArg(argv: string[]): string | undefined {
  const i = argv.indexOf('--socket');
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (!v) throw new Error('--socket needs a path');
  return v;
}

/** The test knob KOVPN_TEST_FIRST_TX_PACKET_ID, checked (TxPacketIds refuses out-of-range ids). */
function testFirstTxPacketId(): number | undefined {
  const v = process.env.KOVPN_TEST_FIRST_TX_PACKET_ID;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`KOVPN_TEST_FIRST_TX_PACKET_ID: '${v}' is not a packet id`);
  log(`test knob: every key starts at packet id ${v}`);
  return Number(v);
}

async function main(): Promise<void> {
  const path = socketArg(process.argv.slice(2)) ?? engineSocketPath();
  const engine = new Engine(undefined, { firstTxPacketId: testFirstTxPacketId() });
  let idleTimer: NodeJS.Timeout | undefined;
  let server: ControlServer;

  const shutdown = async (why: string, status = 0): Promise<never> => {
    log(`stopping: ${why}`);
    engine.close();
    await server?.close();
    process.exit(status);
  };

  const onIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (server.connectionCount === 0 && engine.devices.size === 0) void shutdown('no device and no client');
    }, IDLE_GRACE_MS);
  };

  try {
    server = await ControlServer.listen(engine, path, { onIdle });
  } catch (err) {
    log((err as Error).message);
    engine.close();
    process.exit(3);
  }
  engine.on((ev) => log(`event ${JSON.stringify(ev)}`));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  setTimeout(() => server.maybeIdle(), FIRST_CLIENT_MS).unref();
  log(`listening on ${path}`);
  // The ready line is for the process that started us; if it is gone (its end of the pipe
  // closed), the write fails with EPIPE, and the engine serves its namespace all the same.
  process.stdout.on('error', (err) => log(`cannot tell the starting process that the engine is ready: ${err.message}`));
  process.stdout.write(`ready ${path}\n`);
}

main().catch((err: unknown) => {
  log(`fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
