/** The DATA_V2 data channel, implemented once for the whole project. */
export * from './constants.js';
export * from './errors.js';
export * from './aead.js';
export * from './replay.js';
export * from './packet-id.js';
export * from './data-v2.js';
export * from './keyfile.js';
