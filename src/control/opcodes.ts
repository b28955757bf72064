/** OpenVPN packet opcodes (high 5 bits of the first byte) and key ids (low 3 bits). */

export const Opcode = {
  SOFT_RESET_V1: 3,
  CONTROL_V1: 4,
  ACK_V1: 5,
  DATA_V1: 6,
  HARD_RESET_CLIENT_V2: 7,
  HARD_RESET_SERVER_V2: 8,
  DATA_V2: 9,
  HARD_RESET_CLIENT_V3: 10,
  CONTROL_WKC_V1: 11,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Opcodes of packets that travel on the control channel (everything but data). */
export type ControlOpcode = Exclude<Opcode, typeof Opcode.DATA_V1 | typeof Opcode.DATA_V2>;

/** Opcodes carried reliably (they have a message id); ACK_V1 is the only one without. */
export type ReliableOpcode = Exclude<ControlOpcode, typeof Opcode.ACK_V1>;

export const KEY_ID_MAX = 7;

export function opcodeName(op: number): string {
  for (const [name, value] of Object.entries(Opcode)) if (value === op) return name;
  return `opcode ${op}`;
}

export function isControlOpcode(op: number): op is ControlOpcode {
  return op === Opcode.SOFT_RESET_V1 || op === Opcode.CONTROL_V1 || op === Opcode.ACK_V1 ||
    op === Opcode.HARD_RESET_CLIENT_V2 || op === Opcode.HARD_RESET_SERVER_V2 ||
    op === Opcode.HARD_RESET_CLIENT_V3 || op === Opcode.CONTROL_WKC_V1;
}

/** The key id that follows `keyId` on a soft reset: 1..7, wrapping 7 -> 1 (0 is only the first key). */
export function nextKeyId(keyId: number): number {
  return keyId >= KEY_ID_MAX ? 1 : keyId + 1;
}
