/**
 * Host tests of the userspace data path's TCP transport (issue #11): two namespaces, an
 * engine in each; b listens, a connects; a P2P tunnel over the connection with real pings,
 * control packets both ways (framed), the end of a connection (peer deleted with reason
 * transport-disconnect, onClose), bad input from a raw socket (the engine survives and
 * still serves a real connection), a dual-stack listener with an IPv4 and an IPv6 client.
 * Run as root:
 *   node dist/tests/host/userspace/tcp.test.js
 */
import { hostSuite } from '../../lib/host-suite.js';
import type { TcpListener, TcpTransport } from '../../../src/datapath/types.js';
import { EventLog, Lab, assert, keyFor, must, nsExec, ping } from './lib.js';

const lab = new Lab('t');
let eventsB!: EventLog;
let stopB: () => void = () => {};

const { test, run: start } = hostSuite('userspace tcp', {
  before: async () => {
    await lab.create();
    ({ log: eventsB, stop: stopB } = await EventLog.on(lab.b.dp));
  },
  after: async () => {
    stopB();
    await lab.destroy();
  },
});

/** Resolves with the next connection accepted on `l`. */
function nextAccept(l: TcpListener, ms: number): Promise<TcpTransport> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no TCP connection accepted on port ${l.local.port} within ${ms} ms`)), ms);
    l.onAccept((c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
}

/** Resolves with the next control packet on `c`. */
function nextControl(c: TcpTransport, ms: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no control packet within ${ms} ms`)), ms);
    c.onControlPacket((p) => {
      clearTimeout(t);
      resolve(p);
    });
  });
}

function closed(c: TcpTransport, ms: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: onClose did not run within ${ms} ms`)), ms);
    c.onClose((reason) => {
      clearTimeout(t);
      resolve(reason);
    });
  });
}

async function connectPair(port: number): Promise<{ listener: TcpListener; ca: TcpTransport; cb: TcpTransport }> {
  const listener = await lab.b.dp.tcpListen({ address: lab.b.underlay4, port });
  const accepted = nextAccept(listener, 10_000);
  const ca = await lab.a.dp.tcpConnect({ address: lab.b.underlay4, port }, { timeoutMs: 10_000 });
  const cb = await accepted;
  return { listener, ca, cb };
}

test('userspace tcp: connect refused names the address', async () => {
  let err: Error | undefined;
  try {
    await lab.a.dp.tcpConnect({ address: lab.b.underlay4, port: 1999 }, { timeoutMs: 5000 });
  } catch (e) {
    err = e as Error;
  }
  assert(err !== undefined, 'connect to a closed port succeeded');
  assert(/192\.168\.77\.2/.test(err.message) && /ECONNREFUSED/.test(err.message), `error: ${err.message}`);
});

test('userspace tcp: control packets framed both ways, byte-identical', async () => {
  const { listener, ca, cb } = await connectPair(2001);
  try {
    assert(cb.remote.address === lab.a.underlay4, `accepted remote ${cb.remote.address}`);
    const p1 = Buffer.from([0x38, 1, 2, 3, 4, 5]);
    const got1 = nextControl(cb, 5000, 'a -> b');
    ca.send(p1);
    assert((await got1).equals(p1), 'a -> b packet changed');
    const p2 = Buffer.alloc(1400, 0x20); // P_ACK_V1 opcode byte, 1400 bytes
    const got2 = nextControl(ca, 5000, 'b -> a');
    cb.send(p2);
    assert((await got2).equals(p2), 'b -> a packet changed');
  } finally {
    await ca.close();
    await cb.close();
    await listener.close();
  }
});

test('userspace tcp: p2p tunnel over TCP, pings both ways; close deletes the peer', async () => {
  const { listener, ca, cb } = await connectPair(2002);
  const devA = await lab.a.dp.createDevice('us-tcp0', 'p2p');
  const devB = await lab.b.dp.createDevice('us-tcp0', 'p2p');
  try {
    await devA.newPeer({ id: 1, socket: ca });
    await devB.newPeer({ id: 1, socket: cb });
    const peerB = await devB.getPeer(1);
    assert(peerB.remote?.address === lab.a.underlay4 && peerB.remote.port === ca.local.port, `b's peer remote ${JSON.stringify(peerB.remote)}, want ${lab.a.underlay4}:${ca.local.port}`);
    await devA.newKey(keyFor(0, 1, 'aes-gcm', 0, 'primary', 7));
    await devB.newKey(keyFor(1, 1, 'aes-gcm', 0, 'primary', 7));
    for (const [n, self] of [[lab.a, '1'], [lab.b, '2']] as const) {
      await must('ip', ['-n', n.ns, 'addr', 'add', `10.78.0.${self}/24`, 'dev', 'us-tcp0']);
    }
    const got = await ping(lab.a.ns, '10.78.0.2', { count: 3 });
    assert(got === 3, `a -> b: ${got}/3 replies`);
    const back = await ping(lab.b.ns, '10.78.0.1', { count: 3, size: 3000 });
    assert(back === 3, `b -> a (3000 bytes): ${back}/3 replies`);
    const info = await devB.getPeer(1);
    assert(info.vpnRxPackets >= 3n && info.linkRxPackets >= 3n, `b rx ${info.vpnRxPackets}/${info.linkRxPackets}`);
    // a control packet still reaches the owner while a peer uses the connection
    const ctl = nextControl(cb, 5000, 'control beside data');
    ca.send(Buffer.from([0x28, 9, 9]));
    assert((await ctl).equals(Buffer.from([0x28, 9, 9])), 'control packet beside data changed');
    // a closes: b sees the end, its peer goes with transport-disconnect
    const bClosed = closed(cb, 10_000, 'b after a closed');
    await ca.close();
    const reason = await bClosed;
    assert(reason === 'eof' || reason === 'reset', `b close reason ${reason}`);
    await eventsB.waitFor((e) => e.type === 'peer-deleted' && e.peerId === 1 && e.reason === 'transport-disconnect', 10_000, 'peer deleted on b');
  } finally {
    await ca.close();
    await cb.close();
    await listener.close();
    await lab.a.dp.deleteDevice('us-tcp0').catch(() => {});
    await lab.b.dp.deleteDevice('us-tcp0').catch(() => {});
  }
});

/** A raw client in namespace a: sends `py` (a Python expression of bytes), then closes. */
async function rawSend(port: number, py: string): Promise<void> {
  const script = `import socket,time\ns=socket.create_connection(('${lab.b.underlay4}',${port}),5)\ns.sendall(${py})\ntime.sleep(0.2)\ns.close()\n`;
  const r = await nsExec(lab.a.ns, ['python3', '-c', script], 20_000);
  assert(r.code === 0, `raw client: ${r.stderr.trim()}`);
}

test('userspace tcp: bad input (zero-length, garbage, 65535-byte frame, partial frame) -> engine survives', async () => {
  const port = 2003;
  const listener = await lab.b.dp.tcpListen({ address: lab.b.underlay4, port });
  const ends: Promise<string>[] = [];
  const controls: Buffer[] = [];
  listener.onAccept((c) => {
    c.onControlPacket((p) => controls.push(p));
    ends.push(closed(c, 15_000, `bad-input connection ${ends.length + 1}`));
  });
  try {
    await rawSend(port, `b'\\x00\\x00'*100`);
    await rawSend(port, `bytes(range(256))*64`);
    await rawSend(port, `b'\\xff\\xff'+b'\\x38'+b'\\x00'*65534`);
    await rawSend(port, `b'\\x00\\x10\\x38\\x01'`);
    const deadline = Date.now() + 15_000;
    while (ends.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert(ends.length === 4, `${ends.length}/4 raw connections accepted`);
    const reasons = await Promise.all(ends);
    assert(reasons.every((r) => r === 'eof' || r === 'reset'), `close reasons ${reasons.join(',')}`);
    assert(controls.some((p) => p.length === 0xffff), `65535-byte frame not delivered (got sizes ${controls.map((p) => p.length).slice(0, 8).join(',')})`);
    assert(controls.every((p) => p.length > 0), 'a zero-length frame was delivered');
    // a real connection still works
    const accepted = nextAccept(listener, 10_000);
    const ca = await lab.a.dp.tcpConnect({ address: lab.b.underlay4, port }, { timeoutMs: 10_000 });
    const cb = await accepted;
    const got = nextControl(cb, 5000, 'after bad input');
    ca.send(Buffer.from([0x38, 0xaa]));
    assert((await got).equals(Buffer.from([0x38, 0xaa])), 'packet after bad input changed');
    await ca.close();
    await cb.close();
  } finally {
    await listener.close();
  }
});

test('userspace tcp: a peer that stops reading does not stall the engine (bounded queue)', async () => {
  const port = 2004;
  const listener = await lab.b.dp.tcpListen({ address: lab.b.underlay4, port });
  const accepted = nextAccept(listener, 10_000);
  // a raw client that connects and never reads, for 20 s
  const script = `import socket,time\ns=socket.create_connection(('${lab.b.underlay4}',${port}),5)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,4096)\ntime.sleep(20)\n`;
  const stuck = nsExec(lab.a.ns, ['python3', '-c', script], 30_000);
  const cb = await accepted;
  try {
    const big = Buffer.alloc(60_000, 0x38);
    for (let i = 0; i < 200; i++) cb.send(big); // 12 MB: far beyond the queue bound
    // the engine still answers and another connection still carries packets
    const accepted2 = nextAccept(listener, 10_000);
    const ca2 = await lab.a.dp.tcpConnect({ address: lab.b.underlay4, port }, { timeoutMs: 10_000 });
    const cb2 = await accepted2;
    const got = nextControl(ca2, 10_000, 'other connection while one is stuck');
    cb2.send(Buffer.from([0x38, 0x55]));
    assert((await got).equals(Buffer.from([0x38, 0x55])), 'packet changed');
    await ca2.close();
    await cb2.close();
  } finally {
    await cb.close();
    await listener.close();
    await stuck;
  }
});

test('userspace tcp: dual-stack listener (v6only false): an IPv4 and an IPv6 client, each its own peer, pings', async () => {
  const port = 2005;
  // the default on an IPv6 address is IPv6 only: an IPv4 client is refused
  const only6 = await lab.b.dp.tcpListen({ address: '::', port });
  let refused: Error | undefined;
  try {
    await (await lab.a.dp.tcpConnect({ address: lab.b.underlay4, port }, { timeoutMs: 5000 })).close();
  } catch (e) {
    refused = e as Error;
  }
  await only6.close();
  assert(refused !== undefined && /ECONNREFUSED/.test(refused.message), `IPv4 connect to a v6only listener: ${refused?.message ?? 'accepted'}`);

  const listener = await lab.b.dp.tcpListen({ address: '::', port, v6only: false });
  assert(listener.local.address === '::', `listener bound to ${listener.local.address}`);
  const conns: TcpTransport[] = [];
  const devB = await lab.b.dp.createDevice('us-tcpds', 'mp');
  const devs = [await lab.a.dp.createDevice('us-tcpd4', 'p2p'), await lab.a.dp.createDevice('us-tcpd6', 'p2p')];
  try {
    for (const [i, to] of [lab.b.underlay4, lab.b.underlay6].entries()) {
      const accepted = nextAccept(listener, 10_000);
      const ca = await lab.a.dp.tcpConnect({ address: to, port }, { timeoutMs: 10_000 });
      const cb = await accepted;
      conns.push(ca, cb);
      const from = i === 0 ? lab.a.underlay4 : lab.a.underlay6;
      // an IPv4 client of the dual-stack listener is IPv4 (not ::ffff:a.b.c.d), as on UDP
      assert(cb.remote.address === from && cb.remote.port === ca.local.port, `accepted remote ${JSON.stringify(cb.remote)}, want ${from}:${ca.local.port}`);
      assert(cb.local.address === to, `accepted local ${cb.local.address}, want ${to}`);
      await devs[i]!.newPeer({ id: 10 + i, socket: ca });
      await devB.newPeer({ id: 10 + i, socket: cb, vpnIpv4: `10.79.${i}.2` });
      await devs[i]!.newKey(keyFor(0, 10 + i, 'aes-gcm', 0, 'primary', 9));
      await devB.newKey(keyFor(1, 10 + i, 'aes-gcm', 0, 'primary', 9));
      const peer = await devB.getPeer(10 + i);
      assert(peer.remote?.address === from, `server peer ${10 + i} remote ${JSON.stringify(peer.remote)}`);
      await must('ip', ['-n', lab.a.ns, 'addr', 'add', `10.79.${i}.2/24`, 'dev', devs[i]!.name]);
      await must('ip', ['-n', lab.b.ns, 'addr', 'add', `10.79.${i}.1/24`, 'dev', 'us-tcpds']);
    }
    for (const i of [0, 1]) {
      const got = await ping(lab.a.ns, `10.79.${i}.1`, { count: 3 });
      assert(got === 3, `client over IPv${i === 0 ? 4 : 6} -> server: ${got}/3 replies`);
      const back = await ping(lab.b.ns, `10.79.${i}.2`, { count: 3 });
      assert(back === 3, `server -> client over IPv${i === 0 ? 4 : 6}: ${back}/3 replies`);
    }
  } finally {
    for (const c of conns) await c.close();
    await listener.close();
    await lab.b.dp.deleteDevice('us-tcpds').catch(() => {});
    for (const d of devs) await lab.a.dp.deleteDevice(d.name).catch(() => {});
  }
});

test('userspace tcp: drops by reason on a peer whose connection stops reading (send) and sends zero-length frames (malformed)', async () => {
  const port = 2006;
  const listener = await lab.b.dp.tcpListen({ address: lab.b.underlay4, port });
  const accepted = nextAccept(listener, 10_000);
  // A raw client: waits for the server's first frame (sent once its peer is set up), answers
  // with three zero-length frames, then never reads again for 30 s.
  const script = `import socket,time\ns=socket.create_connection(('${lab.b.underlay4}',${port}),5)\n` +
    `s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,4096)\ns.settimeout(20)\ngot=b''\n` +
    `while len(got)<4:\n  got+=s.recv(4-len(got))\ns.sendall(b'\\x00\\x00'*3)\ntime.sleep(30)\n`;
  const stuck = nsExec(lab.a.ns, ['python3', '-c', script], 45_000);
  const cb = await accepted;
  const dev = await lab.b.dp.createDevice('us-tcpd0', 'p2p');
  try {
    await dev.newPeer({ id: 1, socket: cb });
    await dev.newKey(keyFor(1, 1, 'aes-gcm', 0, 'primary', 9));
    await must('ip', ['-n', lab.b.ns, 'addr', 'add', '10.81.0.1/24', 'dev', 'us-tcpd0']);
    const before = await dev.drops();
    assert(before.send === 0 && before.malformed === 0, `drops before: ${JSON.stringify(before)}`);
    cb.send(Buffer.from([0x38, 0x01])); // 4 bytes framed: the client's cue
    let drops = before;
    const deadline = Date.now() + 20_000;
    while ((drops.malformed ?? 0) < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      drops = await dev.drops();
    }
    assert(drops.malformed === 3, `malformed ${drops.malformed} after 3 zero-length frames, want 3`);
    // 6 MB of tunnel packets towards a peer that reads nothing: the 1 MiB queue refuses the rest
    const flood = 'import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nb=bytes(1200)\n' +
      'for i in range(5000):\n  s.sendto(b,("10.81.0.2",9))\n';
    const r = await nsExec(lab.b.ns, ['python3', '-c', flood], 60_000);
    assert(r.code === 0, `flood: ${r.stderr.trim()}`);
    const until = Date.now() + 20_000;
    while ((drops.send ?? 0) === 0 && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 50));
      drops = await dev.drops();
    }
    assert((drops.send ?? 0) > 0, `send drops ${drops.send} after 6 MB towards a peer that stopped reading`);
    // (noKey may count IPv6 autoconfiguration packets sent before the key was installed)
    assert(drops.decrypt === 0 && drops.replay === 0, `other reasons moved: ${JSON.stringify(drops)}`);
  } finally {
    await cb.close();
    await listener.close();
    await lab.b.dp.deleteDevice('us-tcpd0').catch(() => {});
    await stuck;
  }
});

start();
