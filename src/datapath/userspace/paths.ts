/**
 * Where the engine of a network namespace listens: `<run dir>/net-<netns inode>/engine.sock`
 * (run dir: $KOVPN_RUN_DIR or /run/kovpn). One engine serves every userspace device of its
 * namespace; keying the path by namespace lets `tun0` exist in several namespaces at once,
 * as the ovpn selftests do. The directories are created mode 0700 (root only).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';

export function runDir(): string {
  return process.env.KOVPN_RUN_DIR || '/run/kovpn';
}

/** Inode of a network namespace: of this process, or of a file like /run/netns/<name>. */
export function netnsInode(nsFile = '/proc/self/ns/net'): number {
  return statSync(nsFile).ino;
}

/** The engine socket of this process's namespace, or of the namespace bound at `nsFile`. */
export function engineSocketPath(nsFile?: string): string {
  return join(runDir(), `net-${netnsInode(nsFile)}`, 'engine.sock');
}

/** The engine socket of a named namespace (`ip netns add <name>`). */
export function engineSocketPathForNetns(name: string): string {
  return engineSocketPath(`/run/netns/${name}`);
}
