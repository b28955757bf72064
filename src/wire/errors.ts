/** Errors of the wire layer. Every message names what is wrong and where. */

export class WireError extends Error {
  override readonly name: string = 'WireError';
}

/** A key (length, cipher, key id, nonce tail) that cannot be used. */
export class KeyConfigError extends WireError {
  override readonly name = 'KeyConfigError';
}

/** A key file that cannot be read or parsed. `file` is the path given by the caller. */
export class KeyFileError extends WireError {
  override readonly name = 'KeyFileError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`key file ${file}: ${problem}`);
  }
}
