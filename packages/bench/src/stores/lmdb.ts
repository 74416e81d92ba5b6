/**
 * lmdb (lmdb-js) as a peer. Opened with `overlappingSync: false`, so `putSync`, `removeSync`
 * and `transactionSync` return only after LMDB has committed and synced (msync/fdatasync)
 * the transaction: one durable commit per call, as a pmemkv put. (lmdb-js's Linux default,
 * overlappingSync, would return before the sync.) Reads use `getBinary`, which returns a copy.
 *
 * Threads: LMDB allows one writer and many readers per environment; worker threads open the
 * same path and lmdb-js shares the environment inside the process.
 */
import { rmSync } from 'node:fs';
import type { Store, StoreDriver } from './store';
import { packageLabel, requirePackage } from './package-info';

type Lmdb = typeof import('lmdb');
type LmdbDb = ReturnType<Lmdb['open']>;

function openDb(path: string): LmdbDb {
  const lmdb = requirePackage<Lmdb>('lmdb');
  return lmdb.open({ path, keyEncoding: 'binary', encoding: 'binary', overlappingSync: false });
}

export function openLmdb(path: string, create: boolean): Store {
  if (create) rmSync(path, { recursive: true, force: true });
  const db = openDb(path);
  return {
    put(key, value) {
      db.putSync(key, value);
    },
    async putAsync(key, value) {
      // lmdb-js commits async puts of one event turn together; with overlappingSync off the
      // promise resolves after that commit is synced.
      await db.put(key, value);
    },
    get(key) {
      return db.getBinary(key);
    },
    remove(key) {
      db.removeSync(key);
    },
    batch(keys, values) {
      db.transactionSync(() => {
        for (let i = 0; i < keys.length; i++) db.putSync(keys[i]!, values[i]!);
      });
    },
    async close() {
      await db.close();
    },
  };
}

/** @throws Error when lmdb cannot be loaded. */
export function lmdbDriver(): StoreDriver {
  requirePackage<Lmdb>('lmdb');
  return {
    name: 'lmdb',
    kind: 'peer',
    version: packageLabel('lmdb'),
    durability: 'each putSync/removeSync/transactionSync commits and syncs (msync/fdatasync) before it returns (overlappingSync: false)',
    methods: 'putSync, transactionSync (batches), awaited put (fillasync), getBinary, removeSync',
    atomicBatch: true,
    concurrent: false,
    sharedByThreads: true,
    async open(path, create) {
      return openLmdb(path, create);
    },
    destroy(path) {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
