/**
 * Helpers that turn the callback walks of the public API into arrays the checks can compare,
 * and the table of range methods (count/get variants) with their model ranges.
 */
import type { Database, EntryCallback } from '../index';
import type { ModelRange } from './model';

export interface Walked<K, V> {
  readonly entries: [K, V][];
  /** What the walk method returned: true when the callback stopped it. */
  readonly stopped: boolean;
}

/**
 * Runs `walk` with a callback that collects every entry and returns true (stopping the walk)
 * once `stopAfter` entries were seen.
 */
export function collect<K, V>(walk: (cb: EntryCallback<K, V>) => boolean, stopAfter = Infinity): Walked<K, V> {
  const entries: [K, V][] = [];
  const stopped = walk((k, v) => {
    entries.push([k, v]);
    return entries.length >= stopAfter;
  });
  return { entries, stopped };
}

/** The async twin of `collect`. */
export async function collectAsync<K, V>(walk: (cb: EntryCallback<K, V>) => Promise<boolean>, stopAfter = Infinity): Promise<Walked<K, V>> {
  const entries: [K, V][] = [];
  const stopped = await walk((k, v) => {
    entries.push([k, v]);
    return entries.length >= stopAfter;
  });
  return { entries, stopped };
}

export async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

type BinaryDb = Database<Buffer, Buffer>;

/** A range method of the public API: one bound (above/below variants) or two (between). */
export interface RangeMethod {
  readonly name: 'Above' | 'EqualAbove' | 'Below' | 'EqualBelow' | 'Between';
  /** The bound in words, for test names. */
  readonly bound: string;
  readonly arity: 1 | 2;
  range(k1: Buffer, k2?: Buffer): ModelRange;
  count(db: BinaryDb, k1: Buffer, k2?: Buffer): number;
  get(db: BinaryDb, cb: EntryCallback<Buffer, Buffer>, k1: Buffer, k2?: Buffer): boolean;
  countAsync(db: BinaryDb, k1: Buffer, k2?: Buffer): Promise<number>;
  getAsync(db: BinaryDb, cb: EntryCallback<Buffer, Buffer>, k1: Buffer, k2?: Buffer): Promise<boolean>;
}

export const RANGE_METHODS: readonly RangeMethod[] = [
  {
    name: 'Above',
    bound: 'key > k',
    arity: 1,
    range: (k) => ({ lower: k, lowerInclusive: false }),
    count: (db, k) => db.countAbove(k),
    get: (db, cb, k) => db.getAbove(k, cb),
    countAsync: (db, k) => db.promises.countAbove(k),
    getAsync: (db, cb, k) => db.promises.getAbove(k, cb),
  },
  {
    name: 'EqualAbove',
    bound: 'key >= k',
    arity: 1,
    range: (k) => ({ lower: k, lowerInclusive: true }),
    count: (db, k) => db.countEqualAbove(k),
    get: (db, cb, k) => db.getEqualAbove(k, cb),
    countAsync: (db, k) => db.promises.countEqualAbove(k),
    getAsync: (db, cb, k) => db.promises.getEqualAbove(k, cb),
  },
  {
    name: 'Below',
    bound: 'key < k',
    arity: 1,
    range: (k) => ({ upper: k, upperInclusive: false }),
    count: (db, k) => db.countBelow(k),
    get: (db, cb, k) => db.getBelow(k, cb),
    countAsync: (db, k) => db.promises.countBelow(k),
    getAsync: (db, cb, k) => db.promises.getBelow(k, cb),
  },
  {
    name: 'EqualBelow',
    bound: 'key <= k',
    arity: 1,
    range: (k) => ({ upper: k, upperInclusive: true }),
    count: (db, k) => db.countEqualBelow(k),
    get: (db, cb, k) => db.getEqualBelow(k, cb),
    countAsync: (db, k) => db.promises.countEqualBelow(k),
    getAsync: (db, cb, k) => db.promises.getEqualBelow(k, cb),
  },
  {
    name: 'Between',
    bound: 'k1 < key < k2',
    arity: 2,
    range: (k1, k2) => ({ lower: k1, lowerInclusive: false, upper: k2, upperInclusive: false }),
    count: (db, k1, k2) => db.countBetween(k1, k2!),
    get: (db, cb, k1, k2) => db.getBetween(k1, k2!, cb),
    countAsync: (db, k1, k2) => db.promises.countBetween(k1, k2!),
    getAsync: (db, cb, k1, k2) => db.promises.getBetween(k1, k2!, cb),
  },
];
