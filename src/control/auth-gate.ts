/**
 * Server side of username/password authentication in a session: each key-method-2 message is
 * checked (first key and every renegotiation, as OpenVPN) and the key waits for the verdict;
 * a PUSH_REQUEST that arrives during the check of the first key is answered after it.
 */
import { ControlError } from './errors.js';

/** What a server's authenticate hook gets: the strings of the client's key-method-2 message. */
export interface AuthRequest {
  username: string;
  password: string;
  keyId: number;
  /** The session's first key (false: a renegotiation). */
  initial: boolean;
  peerInfo: Map<string, string>;
}

/** Refuses a client; `clientReason` goes after `AUTH_FAILED,` to the client (OpenVPN's client reason). */
export class AuthRefused extends ControlError {
  constructor(message: string, readonly clientReason?: string) {
    super('auth', message);
    this.name = 'AuthRefused';
  }
}

export interface AuthGateHooks<K> {
  authenticate(request: AuthRequest): Promise<void>;
  /** ks passed; `pushRequested`: its PUSH_REQUEST came during the check and waits for an answer. */
  passed(ks: K, pushRequested: boolean): void;
  failed(ks: K, error: ControlError, clientReason: string | undefined): void;
}

export class AuthGate<K> {
  private readonly pending = new Set<K>();
  private pushWaiting: K | undefined;
  private closed = false;

  constructor(private readonly hooks: AuthGateHooks<K>) {}

  /** Starts the check of ks's credentials; the verdict comes through the hooks. */
  check(ks: K, request: AuthRequest): void {
    this.pending.add(ks);
    this.hooks.authenticate(request).then(() => {
      if (!this.pending.delete(ks) || this.closed) return;
      const pushRequested = this.pushWaiting === ks;
      if (pushRequested) this.pushWaiting = undefined;
      this.hooks.passed(ks, pushRequested);
    }, (err: unknown) => {
      if (!this.pending.delete(ks) || this.closed) return;
      const e = err instanceof ControlError ? err : new AuthRefused((err as Error).message);
      this.hooks.failed(ks, e, err instanceof AuthRefused ? err.clientReason : undefined);
    });
  }

  /** A PUSH_REQUEST on ks: true if it has to wait for the check (it is answered by `passed`). */
  holdPushRequest(ks: K): boolean {
    if (!this.pending.has(ks)) return false;
    this.pushWaiting = ks;
    return true;
  }

  /** The session ended or refused the client: verdicts still to come are dropped. */
  close(): void {
    this.closed = true;
    this.pending.clear();
    this.pushWaiting = undefined;
  }
}
