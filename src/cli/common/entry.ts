/** The process entry of a command-line tool: one place for exit status and last-resort errors. */
import { EXIT_FAILURE, errorText } from './errors.js';

/**
 * Runs `main(argv)` and exits with its status. Anything that escapes (an uncaught exception,
 * an unhandled rejection) becomes one `<prog>: internal error: ...` line and status 1,
 * never a stack trace.
 */
export async function runEntry(prog: string, main: (argv: readonly string[]) => Promise<number>): Promise<never> {
  const die = (err: unknown): never => {
    process.stderr.write(`${prog}: internal error: ${errorText(err)}\n`);
    process.exit(EXIT_FAILURE);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  const status = await main(process.argv.slice(2)).catch(die);
  process.exit(status);
}
