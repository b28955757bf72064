/** Installs a session's data keys into a Device peer: primary first, then secondary + swap + delete. */
import type { Device } from '../datapath/types.js';
import type { NewDataKey, SessionEvents } from '../control/session.js';

export function deviceKeyOps(
  device: Device,
  peerId: () => number,
  beforeFirstKey: (key: NewDataKey) => Promise<void>,
  onSwapped: (keyId: number) => void = () => undefined,
  /** The first key is in the data path: traffic can flow (the kernel's first use of a cipher can take seconds). */
  afterFirstKey: () => void = () => undefined,
): Pick<SessionEvents, 'onDataKey' | 'onSwapKeys' | 'onRetireKey'> {
  return {
    async onDataKey(k) {
      if (k.initial) await beforeFirstKey(k);
      await device.newKey({
        peerId: peerId(), slot: k.initial ? 'primary' : 'secondary', keyId: k.keyId, cipher: k.alg,
        encrypt: k.keys.encrypt, decrypt: k.keys.decrypt,
      });
      if (k.initial) afterFirstKey();
    },
    async onSwapKeys(keyId) {
      await device.swapKeys(peerId());
      onSwapped(keyId);
    },
    async onRetireKey() {
      await device.delKey(peerId(), 'secondary');
    },
  };
}
