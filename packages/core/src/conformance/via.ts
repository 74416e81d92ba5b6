/**
 * Data calls for groups that also run on async-only engines (`capabilities.sync` false): each
 * goes through the sync method when the engine has sync methods (so those groups test exactly
 * what they tested before) and through its `db.promises` twin otherwise.
 */
import type { Database } from '../index';
import type { Suite } from './suite';

type Bytes = string | Buffer | Uint8Array;

export async function put<K, V>(s: Suite, db: Database<K, V>, key: Bytes, value: V | Bytes): Promise<void> {
  if (s.caps.sync) db.put(key, value);
  else await db.promises.put(key, value);
}

export async function get<K, V>(s: Suite, db: Database<K, V>, key: Bytes): Promise<V | undefined> {
  return s.caps.sync ? db.get(key) : db.promises.get(key);
}

export async function exists<K, V>(s: Suite, db: Database<K, V>, key: Bytes): Promise<boolean> {
  return s.caps.sync ? db.exists(key) : db.promises.exists(key);
}

export async function countAll<K, V>(s: Suite, db: Database<K, V>): Promise<number> {
  return s.caps.sync ? db.countAll() : db.promises.countAll();
}

/** Every entry of `db` through getAll, in the walk's order. */
export async function getAll<K, V>(s: Suite, db: Database<K, V>): Promise<[K, V][]> {
  const out: [K, V][] = [];
  const cb = (k: K, v: V) => void out.push([k, v]);
  if (s.caps.sync) db.getAll(cb);
  else await db.promises.getAll(cb);
  return out;
}
