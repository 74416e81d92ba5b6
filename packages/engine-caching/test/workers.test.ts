// Worker threads: each opens its own caching database (its own connection) on one config with a
// cmap pool, which the workers and the main thread share; all of them write at once.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { open, registerEngine } from '@pmemkv/core';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import plugin from '../src/index';
import { cachingConfig, cmapConfig, rawClient, useTempDir } from './helpers';
import { RemoteServer } from './servers';

registerEngine(plugin);

const server = new RemoteServer('redis');
beforeAll(() => server.start());
afterAll(() => server.stop());
const tmp = useTempDir('caching-workers');

function runWorker(config: Record<string, unknown>, id: number, count: number): Promise<{ wrote: number; local: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'fixtures', 'worker-writer.js'), { workerData: { config, id, count } });
    worker.once('message', (m: { wrote: number; local: number; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    worker.once('error', reject);
  });
}

test('worker threads write through their own databases into one shared local pool and one remote', async () => {
  const config = cachingConfig(server, { subengine: 'cmap', subengine_config: cmapConfig(tmp.path()), key_prefix: 'workers:' });
  using main = open('caching', config);
  const writes = Promise.all([runWorker(config, 1, 300), runWorker(config, 2, 300)]);
  await Promise.all(Array.from({ length: 300 }, (_, i) => main.promises.put(`w0-${i}`, `value 0/${i}`)));
  const results = await writes;
  expect(results.map((r) => r.wrote)).toEqual([300, 300]);
  expect(await main.promises.countAll()).toBe(900);
  const raw = rawClient(server);
  try {
    for (const id of [0, 1, 2]) {
      for (const i of [0, 150, 299]) {
        expect(await main.promises.get(`w${id}-${i}`)).toBe(`value ${id}/${i}`);
        expect((await raw.get(`workers:w${id}-${i}`))?.toString()).toBe(`value ${id}/${i}`);
      }
    }
  } finally {
    raw.close();
  }
});
