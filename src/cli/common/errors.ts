/**
 * Errors of the command-line tools. Every failure a user can cause or meet is
 * reported as ONE line on stderr (`<prog>: <command>: <what went wrong>`) with a
 * non-zero exit status; stack traces are never shown.
 */

/** Exit status of a command whose arguments were wrong (nothing was attempted). */
export const EXIT_USAGE = 2;
/** Exit status of a command that was attempted and failed. */
export const EXIT_FAILURE = 1;

/** A failure with a message meant for the user and a chosen exit status. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A command-line argument that does not parse or is out of range. */
export class ArgumentError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'ArgumentError';
  }
}

/** A feature that is recognised but deliberately not available yet. */
export class NotImplementedError extends CliError {
  constructor(message: string) {
    super(message, EXIT_FAILURE);
    this.name = 'NotImplementedError';
  }
}

interface ErrnoLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
}

/** Collapses any message to a single line (error texts from lower layers may span lines). */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}

/** The user-facing text of any thrown value: its message, one line, never a stack. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    let text = err.message ? oneLine(err.message) : err.name;
    const { code } = err as ErrnoLike;
    if (typeof code === 'string' && code.length > 0 && !text.includes(code)) {
      text = `${text} (${code})`;
    }
    return text;
  }
  return oneLine(String(err));
}

/** Exit status for a thrown value. */
export function exitCodeOf(err: unknown): number {
  return err instanceof CliError ? err.exitCode : EXIT_FAILURE;
}

/** `<prog>: <command>: <message>` (the command part omitted when unknown). */
export function formatErrorLine(prog: string, command: string | undefined, err: unknown): string {
  const prefix = command ? `${prog}: ${command}: ` : `${prog}: `;
  return `${prefix}${errorText(err)}`;
}
