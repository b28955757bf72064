/**
 * Typed errors of the OpenVPN control channel. Every message is one line that says
 * what went wrong and where (which peer, which packet field), so a log line is actionable.
 */

export type ControlErrorCode =
  | 'malformed-packet'
  | 'unsupported-opcode'
  | 'session-mismatch'
  | 'protocol'
  | 'handshake-timeout'
  | 'peer-verify'
  | 'negotiation'
  | 'auth'
  | 'key-method'
  | 'push'
  | 'closed';

export class ControlError extends Error {
  readonly code: ControlErrorCode;

  constructor(code: ControlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControlError';
    this.code = code;
  }
}

/** A control packet that cannot be decoded (truncated, bad counts, unknown opcode). */
export class MalformedPacketError extends ControlError {
  constructor(message: string) {
    super('malformed-packet', `malformed control packet: ${message}`);
    this.name = 'MalformedPacketError';
  }
}
