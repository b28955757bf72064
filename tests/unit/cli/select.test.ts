import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DatapathChoiceError,
  DatapathUnavailableError,
  decideDatapath,
  resolveDatapathChoice,
  type ProbeHooks,
} from '../../../src/datapath/select.js';

function hooks(opts: { resolvesBefore: boolean; modprobeOk: boolean; resolvesAfter: boolean }): ProbeHooks & { calls: string[] } {
  let loaded = false;
  const calls: string[] = [];
  return {
    calls,
    async familyResolves() {
      calls.push('resolve');
      return loaded ? opts.resolvesAfter : opts.resolvesBefore;
    },
    async modprobe(module: string) {
      calls.push(`modprobe ${module}`);
      if (!opts.modprobeOk) throw new Error('Module ovpn not found');
      loaded = true;
    },
  };
}

test('choice: option beats environment, empty env means auto', () => {
  assert.is(resolveDatapathChoice(undefined, {}), 'auto');
  assert.is(resolveDatapathChoice(undefined, { KOVPN_DATAPATH: '' }), 'auto');
  assert.is(resolveDatapathChoice(undefined, { KOVPN_DATAPATH: 'userspace' }), 'userspace');
  assert.is(resolveDatapathChoice('kernel', { KOVPN_DATAPATH: 'userspace' }), 'kernel');
  assert.throws(() => resolveDatapathChoice(undefined, { KOVPN_DATAPATH: 'fast' }), (e: unknown) =>
    e instanceof DatapathChoiceError && (e as Error).message === 'invalid KOVPN_DATAPATH="fast": expected auto, kernel, userspace');
  assert.throws(() => resolveDatapathChoice('both', {}), (e: unknown) => e instanceof DatapathChoiceError);
});

test('auto: kernel when the family resolves, without modprobe', async () => {
  const h = hooks({ resolvesBefore: true, modprobeOk: true, resolvesAfter: true });
  assert.equal(await decideDatapath('auto', h), { kind: 'kernel', detail: 'ovpn module' });
  assert.equal(h.calls, ['resolve']);
});

test('auto: modprobe loads the module', async () => {
  const h = hooks({ resolvesBefore: false, modprobeOk: true, resolvesAfter: true });
  assert.equal(await decideDatapath('auto', h), { kind: 'kernel', detail: 'ovpn module, loaded by modprobe' });
  assert.equal(h.calls, ['resolve', 'modprobe ovpn', 'resolve']);
});

test('auto: falls back to userspace and says why', async () => {
  const h = hooks({ resolvesBefore: false, modprobeOk: false, resolvesAfter: false });
  assert.equal(await decideDatapath('auto', h), {
    kind: 'userspace',
    detail: 'no kernel ovpn: modprobe ovpn failed: Module ovpn not found',
  });
  const h2 = hooks({ resolvesBefore: false, modprobeOk: true, resolvesAfter: false });
  assert.is((await decideDatapath('auto', h2)).kind, 'userspace');
});

test('kernel forced but absent: error that says what to do', async () => {
  const h = hooks({ resolvesBefore: false, modprobeOk: false, resolvesAfter: false });
  try {
    await decideDatapath('kernel', h);
    assert.unreachable('expected DatapathUnavailableError');
  } catch (err) {
    assert.instance(err, DatapathUnavailableError);
    assert.match((err as Error).message, /^kernel data path requested but unavailable \(modprobe ovpn failed: Module ovpn not found\); load ovpn.ko or use --datapath userspace$/);
  }
});

test('userspace forced: no probing at all', async () => {
  const h = hooks({ resolvesBefore: true, modprobeOk: true, resolvesAfter: true });
  assert.equal(await decideDatapath('userspace', h), { kind: 'userspace', detail: 'requested' });
  assert.equal(h.calls, []);
});

test.run();
