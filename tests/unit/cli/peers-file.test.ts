import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePeersFile, parseTcpPeersFile } from '../../../src/cli/ovpn-cli/peers-file.js';
import { ArgumentError } from '../../../src/cli/common/errors.js';

test('parses the selftests format, comments and blank lines ignored', () => {
  const text = '# peers\n1 10 10.10.1.1 1 10.10.1.2 1 5.5.5.2\n\n2 none fd00::1 1 fd00::2 1194 fd10::2  # v6\n';
  const peers = parsePeersFile(text, 'p.txt');
  assert.is(peers.length, 2);
  assert.equal(peers[0], {
    line: 2,
    peerId: 1,
    txId: 10,
    local: { address: '10.10.1.1', family: 4 },
    localPort: 1,
    remote: { address: '10.10.1.2', family: 4 },
    remotePort: 1,
    vpn: { address: '5.5.5.2', family: 4 },
  });
  assert.is(peers[1]?.txId, undefined);
  assert.is(peers[1]?.remote.family, 6);
  assert.is(peers[1]?.remotePort, 1194);
  assert.is(peers[1]?.vpn.address, 'fd10::2');
});

function throwsArg(text: string, message: string, parse: (text: string, file: string) => unknown = parsePeersFile): void {
  try {
    parse(text, 'p.txt');
  } catch (err) {
    assert.instance(err, ArgumentError);
    assert.is((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected "${message}"`);
}

test('errors name the file and line', () => {
  throwsArg('1 10 10.10.1.1 1 10.10.1.2 1\n', 'peers file p.txt line 1: expected 7 fields "peer_id tx_id laddr lport raddr rport vpnaddr", found 6');
  throwsArg('\nx 10 10.10.1.1 1 10.10.1.2 1 5.5.5.2\n', 'peers file p.txt line 2: invalid peer id "x": expected 0..16777215');
  throwsArg('1 10 10.10.1.1 1 10.10.1.2 0 5.5.5.2\n', 'peers file p.txt line 1: invalid remote port "0": expected 1..65535');
  throwsArg('1 10 10.10.1.1 1 fd00::2 1 5.5.5.2\n', 'peers file p.txt line 1: local address 10.10.1.1 and remote address fd00::2 are of different families');
  throwsArg('1 10 10.10.1.1 1 10.10.1.2 1 5.5.5.2\n1 11 10.10.2.1 1 10.10.2.2 1 5.5.5.3\n', 'peers file p.txt line 2: peer id 1 already used on line 1');
  throwsArg('# nothing\n\n', 'peers file p.txt: no peers in it');
});

test('TCP form: peer_id tx_id vpnaddr, in file order', () => {
  const text = '# tcp peers\n1 11 5.5.5.2\n\n2 none 5.5.5.3 # symmetric\n3 13 fd10::4\n';
  const peers = parseTcpPeersFile(text, 'tcp.txt');
  assert.equal(peers, [
    { line: 2, peerId: 1, txId: 11, vpn: { address: '5.5.5.2', family: 4 } },
    { line: 4, peerId: 2, txId: undefined, vpn: { address: '5.5.5.3', family: 4 } },
    { line: 5, peerId: 3, txId: 13, vpn: { address: 'fd10::4', family: 6 } },
  ]);
});

test('TCP form: errors name the file and line', () => {
  const tcp = parseTcpPeersFile;
  throwsArg('1 5.5.5.2\n', 'peers file p.txt line 1: expected 3 fields "peer_id tx_id vpnaddr", found 2', tcp);
  throwsArg('1 10 10.10.1.1 1 10.10.1.2 1 5.5.5.2\n', 'peers file p.txt line 1: expected 3 fields "peer_id tx_id vpnaddr", found 7', tcp);
  throwsArg('1 10 5.5.5.2\n16777216 none 5.5.5.3\n', 'peers file p.txt line 2: invalid peer id "16777216": expected 0..16777215', tcp);
  throwsArg('1 -1 5.5.5.2\n', 'peers file p.txt line 1: invalid tx id "-1": expected 0..16777215 or "none"', tcp);
  throwsArg('1 none 5.5.5\n', 'peers file p.txt line 1: invalid VPN address "5.5.5": expected an IPv4 or IPv6 address', tcp);
  throwsArg('1 none fe80::1%1\n', 'peers file p.txt line 1: VPN address fe80::1%1: a scope makes no sense here', tcp);
  throwsArg('\n4 none 5.5.5.2\n4 none 5.5.5.3\n', 'peers file p.txt line 3: peer id 4 already used on line 2', tcp);
  throwsArg('\n# only a comment\n', 'peers file p.txt: no peers in it', tcp);
});

test.run();
