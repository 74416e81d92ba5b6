/**
 * Store names to drivers, for the main thread (drivers, with descriptions) and for worker
 * threads (just an opener, from data that crosses postMessage).
 */
import { classicLevelDriver, openClassicLevel } from './classic-level';
import { lmdbDriver, openLmdb } from './lmdb';
import { openPmemkv, pmemkvDriver } from './pmemkv';
import { openPmemkvLevel, PMEMKV_LEVEL_PREFIX, pmemkvLevelDriver } from './pmemkv-level';
import type { Store, StoreDriver, StoreKind } from './store';

export type { Store, StoreDriver, StoreKind } from './store';

/** A store as worker threads receive it. */
export interface StoreRef {
  readonly name: string;
  readonly kind: StoreKind;
  readonly poolSize: number;
}

/**
 * The driver of a peer or an engine.
 * @throws Error (with the reason in its message) when the store cannot be loaded.
 */
export function loadDriver(ref: StoreRef, pmemForced: boolean | undefined): StoreDriver {
  if (ref.kind === 'engine' && ref.name.startsWith(PMEMKV_LEVEL_PREFIX)) return pmemkvLevelDriver(ref.name, ref.poolSize);
  if (ref.kind === 'engine') return pmemkvDriver(ref.name, ref.poolSize, pmemForced);
  switch (ref.name) {
    case 'lmdb':
      return lmdbDriver();
    case 'classic-level':
      return classicLevelDriver();
    default:
      throw new Error(`unknown peer '${ref.name}'`);
  }
}

/** Opens an existing store (worker threads) or a fresh one. */
export async function openStore(ref: StoreRef, path: string, create: boolean): Promise<Store> {
  if (ref.kind === 'engine' && ref.name.startsWith(PMEMKV_LEVEL_PREFIX)) return openPmemkvLevel(ref.name, path, create, ref.poolSize);
  if (ref.kind === 'engine') return openPmemkv(ref.name, path, create, ref.poolSize);
  switch (ref.name) {
    case 'lmdb':
      return openLmdb(path, create);
    case 'classic-level':
      return openClassicLevel(path, create);
    default:
      throw new Error(`unknown peer '${ref.name}'`);
  }
}
