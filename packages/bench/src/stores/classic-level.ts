/**
 * classic-level (LevelDB) as a peer. Writes pass `{ sync: true }`: each put, del and batch
 * returns after LevelDB has appended it to its log and fsync'd the log. Reads use the fastest
 * get the installed version has: `getSync` (classic-level 3) or else `await get`.
 *
 * Threads: LevelDB locks its directory per process, so worker threads cannot open a second
 * handle; readwhilewriting instead runs the writer and the readers as concurrent async loops
 * of this thread (classic-level runs each async call on the libuv thread pool).
 */
import { rmSync } from 'node:fs';
import type { Store, StoreDriver } from './store';
import { packageLabel, requirePackage } from './package-info';

type ClassicLevelModule = typeof import('classic-level');

const SYNC = { sync: true } as const;

export async function openClassicLevel(path: string, create: boolean): Promise<Store> {
  const { ClassicLevel } = requirePackage<ClassicLevelModule>('classic-level');
  if (create) rmSync(path, { recursive: true, force: true });
  const db = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open({ createIfMissing: create, errorIfExists: create });
  const hasGetSync = (db.supports as { getSync?: boolean }).getSync === true;
  return {
    put(key, value) {
      return db.put(key, value, SYNC);
    },
    get: hasGetSync ? (key) => db.getSync(key) : (key) => db.get(key),
    remove(key) {
      return db.del(key, SYNC);
    },
    putAsync(key, value) {
      return db.put(key, value, SYNC);
    },
    batch(keys, values) {
      const ops = new Array<{ type: 'put'; key: Buffer; value: Buffer }>(keys.length);
      for (let i = 0; i < keys.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: values[i]! };
      return db.batch(ops, SYNC);
    },
    getConcurrent(key) {
      return db.get(key);
    },
    async close() {
      await db.close();
    },
  };
}

/** @throws Error when classic-level cannot be loaded. */
export function classicLevelDriver(): StoreDriver {
  const { ClassicLevel } = requirePackage<ClassicLevelModule>('classic-level');
  const getSync = typeof (ClassicLevel.prototype as { _getSync?: unknown })._getSync === 'function';
  return {
    name: 'classic-level',
    kind: 'peer',
    version: packageLabel('classic-level'),
    durability: 'each put/del/batch with { sync: true }: appended to the LevelDB log and fsync\'d before it resolves',
    methods: `put/del/batch with { sync: true }, ${getSync ? 'getSync' : 'await get'} (readwhilewriting: async get)`,
    atomicBatch: true,
    concurrent: false,
    sharedByThreads: false,
    open: openClassicLevel,
    destroy(path) {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
