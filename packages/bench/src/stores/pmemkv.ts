/**
 * A pmemkv engine, opened through @pmemkv/core with Buffer keys and values. On a persistent
 * engine `put`, `remove` and `batch` return after libpmemobj has persisted the change (a CPU
 * cache flush + fence on pmem or with PMEM_IS_PMEM_FORCE=1, an msync otherwise); `batch` is
 * atomic only on engines with transactions.
 *
 * Threads: worker threads open the same pool path (volatile engines: the same `name`); the
 * engine SDK shares one pool or instance between the threads of a process (and serializes
 * calls into engines that are not concurrent).
 */
import { rmSync } from 'node:fs';
import type { BatchOperation } from '@pmemkv/core';
import type { Store, StoreDriver } from './store';

type Core = typeof import('@pmemkv/core');

function core(): Core {
  return require('@pmemkv/core') as Core;
}

/**
 * The config of `path` for `engine`. A volatile engine (vmap, vcmap) keeps its data in DRAM and
 * has no pool file: its threads share one instance by `name` (the run's path) when its schema
 * has that key; nothing is created on disk.
 */
function configFor(engine: string, path: string, create: boolean, poolSize: number): Record<string, unknown> {
  const plugin = core().findEngine(engine);
  if (!plugin.capabilities.persistent) return plugin.configSchema.properties?.name !== undefined ? { name: path } : {};
  if (create) rmSync(path, { force: true });
  return create ? { path, size: poolSize, create_or_error_if_exists: 1 } : { path };
}

export function openPmemkv(engine: string, path: string, create: boolean, poolSize: number): Store {
  const config = configFor(engine, path, create, poolSize);
  const db = core().open(engine, config, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  return {
    put(key, value) {
      db.put(key, value);
    },
    putAsync(key, value) {
      return db.promises.put(key, value);
    },
    get(key) {
      return db.get(key);
    },
    remove(key) {
      db.remove(key);
    },
    batch(keys, values) {
      const ops = new Array<BatchOperation<Buffer>>(keys.length);
      for (let i = 0; i < keys.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: values[i]! };
      db.batch(ops);
    },
    async close() {
      db.close();
    },
  };
}

/**
 * @param pmemForced whether libpmemobj treats the medium as pmem (flushes are cache flushes).
 * @throws PmemkvError when core cannot find or load the engine.
 */
export function pmemkvDriver(engine: string, poolSize: number, pmemForced: boolean | undefined): StoreDriver {
  const plugin = core().findEngine(engine);
  const caps = plugin.capabilities;
  const flush =
    pmemForced === true
      ? 'CPU cache flushes + fence (libpmemobj sees pmem)'
      : pmemForced === false
        ? 'msync (libpmemobj sees no pmem)'
        : 'libpmemobj flush';
  return {
    name: engine,
    kind: 'engine',
    version: `${plugin.packageName ?? `@pmemkv/engine-${engine}`} ${plugin.version ?? ''}`.trim(),
    durability: caps.persistent
      ? `each put/remove persisted before it returns (${flush}); batch ${caps.transactions ? 'atomic (transaction)' : 'NOT atomic (no transactions): each op persisted in turn'}`
      : 'volatile: nothing is persisted',
    methods: 'db.put, db.batch, db.get, db.remove (Buffer keys and values)',
    atomicBatch: caps.transactions,
    concurrent: caps.concurrent,
    sharedByThreads: true,
    capabilities: { ...caps },
    async open(path, create) {
      return openPmemkv(engine, path, create, poolSize);
    },
    destroy(path) {
      rmSync(path, { force: true });
    },
  };
}
