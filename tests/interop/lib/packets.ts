/** Hand-made IPv4/ICMP packets, to push through a tunnel whose keys a test derived itself. */

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));

export function icmpEchoRequest(src: string, dst: string, id: number, seq: number, data: Buffer): Buffer {
  const icmp = Buffer.concat([Buffer.from([8, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff]), data]);
  icmp.writeUInt16BE(checksum(icmp), 2);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + icmp.length, 2);
  ip.writeUInt16BE(id, 4);
  ip[8] = 64;
  ip[9] = 1;
  ip4(src).copy(ip, 12);
  ip4(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([ip, icmp]);
}

export interface IcmpEcho {
  src: string;
  dst: string;
  type: number;
  id: number;
  seq: number;
  data: Buffer;
}

export function parseIcmp(pkt: Buffer): IcmpEcho | undefined {
  if (pkt.length < 28 || pkt[0]! >> 4 !== 4 || pkt[9] !== 1) return undefined;
  const ihl = (pkt[0]! & 15) * 4;
  const icmp = pkt.subarray(ihl);
  return {
    src: Array.from(pkt.subarray(12, 16)).join('.'), dst: Array.from(pkt.subarray(16, 20)).join('.'),
    type: icmp[0]!, id: icmp.readUInt16BE(4), seq: icmp.readUInt16BE(6), data: Buffer.from(icmp.subarray(8)),
  };
}
