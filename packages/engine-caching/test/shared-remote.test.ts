// Two caching databases on two cmap pools in front of one redis-server: each reads what the
// other wrote, and an update through one reaches the other once the other's local copy expires.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { open, registerEngine } from '@pmemkv/core';
import plugin from '../src/index';
import { cachingConfig, cmapConfig, sleep, useTempDir } from './helpers';
import { RemoteServer } from './servers';

registerEngine(plugin);

const server = new RemoteServer('redis');
beforeAll(() => server.start());
afterAll(() => server.stop());
const tmp = useTempDir('caching-shared');

test('an update through one database is seen by the other after its local copy expires', async () => {
  const config = (pool: string) => cachingConfig(server, { subengine: 'cmap', subengine_config: cmapConfig(tmp.path(pool)), ttl: 1, key_prefix: 'shared:' });
  using one = open('caching', config('one'));
  using two = open('caching', config('two'));

  await one.promises.put('k', 'v1');
  expect(await two.promises.exists('k')).toBe(false);
  expect(await two.promises.get('k')).toBe('v1');
  expect(await two.promises.exists('k')).toBe(true);

  await one.promises.put('k', 'v2');
  expect(await one.promises.get('k')).toBe('v2');
  // two's copy is still fresh: it answers the old value (the coherence a ttl gives).
  expect(await two.promises.get('k')).toBe('v1');
  await sleep(1100);
  expect(await two.promises.get('k')).toBe('v2');

  // A remove through two reaches one the same way.
  expect(await two.promises.remove('k')).toBe(true);
  expect(await two.promises.get('k')).toBeUndefined();
  await sleep(1100);
  expect(await one.promises.get('k')).toBeUndefined();
  expect(await one.promises.countAll()).toBe(0);
});
