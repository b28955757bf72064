/**
 * The userspace data path: the client (`UserspaceDatapath`, datapath.ts) and the engine's
 * parts, for tests and the engine process. Tools that only need the client import
 * datapath.ts directly (fewer modules at start-up).
 */
export { UserspaceDatapath, type UserspaceDatapathOptions } from './datapath.js';
export { Engine } from './engine.js';
export { ControlServer } from './server.js';
export { DatapathError } from './errors.js';
export { engineSocketPath, engineSocketPathForNetns } from './paths.js';
export { RemoteDevice, RemoteUdpSocket } from './remote.js';
