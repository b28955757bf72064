/**
 * Errors of the userspace data path. Operations fail like the kernel's genl family: an
 * errno name (`code`) and a one-line message naming the offending attribute or object.
 * They cross the control socket as {code, message} and are rebuilt on the client side.
 */
import { constants } from 'node:os';

export type ErrnoName =
  | 'EINVAL'
  | 'ERANGE'
  | 'ENOENT'
  | 'EEXIST'
  | 'ENODEV'
  | 'EBUSY'
  | 'EOPNOTSUPP'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EAFNOSUPPORT'
  | 'EPERM'
  | 'ECONNREFUSED'
  | 'ETIMEDOUT'
  | 'EIO';

export class DatapathError extends Error {
  override readonly name = 'DatapathError';
  readonly errno: number;

  constructor(
    readonly code: ErrnoName,
    message: string,
  ) {
    super(message);
    this.errno = (constants.errno as Record<string, number>)[code] ?? 0;
  }
}

export const einval = (msg: string): DatapathError => new DatapathError('EINVAL', msg);

/** A system error from the addon (has `code`) as a DatapathError, keeping its code if known. */
export function fromSystemError(err: unknown, what: string): DatapathError {
  if (err instanceof DatapathError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const known: ErrnoName[] = ['EADDRINUSE', 'EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPERM', 'EBUSY', 'EEXIST', 'EINVAL', 'ENODEV', 'ECONNREFUSED', 'ETIMEDOUT'];
  const name = (known as string[]).includes(code) ? (code as ErrnoName) : 'EIO';
  return new DatapathError(name, `${what}: ${(err as Error).message ?? String(err)}`);
}
