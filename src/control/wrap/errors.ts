/** Errors of control-channel wrapping (tls-auth, tls-crypt, tls-crypt-v2). */
import { ControlError } from '../errors.js';

/** A key file that cannot be used: says which file and what is wrong with it. */
export class WrapKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WrapKeyError';
  }
}

/** A packet that failed unwrapping: wrong key, forged, truncated or replayed. Dropped, never answered. */
export class UnwrapError extends ControlError {
  constructor(readonly reason: 'short' | 'auth' | 'replay' | 'client-key' | 'opcode', message: string) {
    super('malformed-packet', message);
    this.name = 'UnwrapError';
  }
}
