/**
 * Brings a network device up (`ip link set dev <name> up`), in the caller's namespace.
 * new_iface does this on both data paths so the same scripts work on either.
 */
import { execFile } from 'node:child_process';
import { CliError } from '../common/errors.js';

export function setLinkUp(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['link', 'set', 'dev', name, 'up'], { timeout: 60_000 }, (err, _out, stderr) => {
      if (!err) {
        resolve();
        return;
      }
      const why = stderr.toString().trim().split('\n')[0] || err.message;
      reject(new CliError(`cannot bring ${name} up: ${why}`));
    });
  });
}
