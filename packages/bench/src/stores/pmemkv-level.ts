/**
 * A pmemkv engine measured through pmemkv-level, the abstract-level adapter, as the store
 * `pmemkv-level:<engine>`: the cost of the level API (argument checks, the transcoder, a
 * promise per write) over the same engine `pmemkv.ts` calls directly. Keys and values are
 * Buffers (keyEncoding and valueEncoding 'buffer'). `put`, `del` and `batch` resolve after
 * the engine has persisted the change (persistent engines); `batch` is atomic where the
 * engine has transactions. `get` is `getSync`, pmemkv reads being synchronous.
 *
 * Threads: as pmemkv.ts: worker threads open the same pool path (volatile engines: the same
 * `name`), and the engine SDK shares one pool or instance between them.
 */
import { rmSync } from 'node:fs';
import type { Store, StoreDriver } from './store';
import { packageLabel, requirePackage } from './package-info';

type LevelModule = typeof import('pmemkv-level');

/** The prefix of this store's names: `pmemkv-level:tree3`. */
export const PMEMKV_LEVEL_PREFIX = 'pmemkv-level:';

function engineOf(storeName: string): string {
  return storeName.slice(PMEMKV_LEVEL_PREFIX.length);
}

function optionsFor(engine: string, path: string, create: boolean, poolSize: number): { location?: string; options: Record<string, unknown> } {
  const core = require('@pmemkv/core') as typeof import('@pmemkv/core');
  const plugin = core.findEngine(engine);
  const options: Record<string, unknown> = { engine, keyEncoding: 'buffer', valueEncoding: 'buffer' };
  if (!plugin.capabilities.persistent) {
    if (plugin.configSchema.properties?.name !== undefined) options.name = path;
    return { options };
  }
  if (create) rmSync(path, { force: true });
  return { location: path, options: { ...options, size: poolSize, createIfMissing: create, errorIfExists: create } };
}

export async function openPmemkvLevel(storeName: string, path: string, create: boolean, poolSize: number): Promise<Store> {
  const { PmemkvLevel } = requirePackage<LevelModule>('pmemkv-level');
  const { location, options } = optionsFor(engineOf(storeName), path, create, poolSize);
  const db = location === undefined ? new PmemkvLevel<Buffer, Buffer>(options) : new PmemkvLevel<Buffer, Buffer>(location, options);
  await db.open();
  return {
    put(key, value) {
      return db.put(key, value);
    },
    putAsync(key, value) {
      return db.put(key, value);
    },
    get(key) {
      return db.getSync(key);
    },
    remove(key) {
      return db.del(key);
    },
    batch(keys, values) {
      const ops = new Array<{ type: 'put'; key: Buffer; value: Buffer }>(keys.length);
      for (let i = 0; i < keys.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: values[i]! };
      return db.batch(ops);
    },
    async close() {
      await db.close();
    },
  };
}

/** @throws Error when pmemkv-level or the engine cannot be loaded. */
export function pmemkvLevelDriver(storeName: string, poolSize: number): StoreDriver {
  const engine = engineOf(storeName);
  requirePackage<LevelModule>('pmemkv-level'); // fails here, with the reason, when it is not installed
  const core = require('@pmemkv/core') as typeof import('@pmemkv/core');
  const caps = core.findEngine(engine).capabilities;
  return {
    name: storeName,
    kind: 'engine',
    version: packageLabel('pmemkv-level'),
    durability: caps.persistent
      ? `each put/del persisted before its promise resolves; batch ${caps.transactions ? 'atomic (transaction)' : 'NOT atomic (no transactions)'}`
      : 'volatile: nothing is persisted',
    methods: 'await db.put/del/batch, db.getSync (Buffer keys and values, abstract-level API)',
    atomicBatch: caps.transactions,
    concurrent: caps.concurrent,
    sharedByThreads: true,
    capabilities: { ...caps },
    async open(path, create) {
      return openPmemkvLevel(storeName, path, create, poolSize);
    },
    destroy(path) {
      rmSync(path, { force: true });
    },
  };
}
