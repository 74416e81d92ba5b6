/**
 * Database: the public face of an open engine. It validates arguments, encodes keys and
 * values, checks the closed state and the engine's capabilities, and only then calls the
 * engine's handle (see contract.ts) with exact types.
 *
 * Thread-safety: a Database belongs to the JS thread that opened it. Other worker threads open
 * their own Database on the same path; persistent engines share one pool between them.
 *
 * Durability: when `put`, `remove` or `batch` returns (or its promise resolves), the change is
 * persistent on a persistent engine: it survives a crash of the process (and, on real
 * persistent memory or an ordinary file, a power loss).
 *
 * Walks and iteration are not snapshots: they fetch entries in bounded chunks (16 entries at
 * first, growing to 1024), one chunk at a time, each resuming where the last one ended (after
 * its last key on sorted engines, at the engine's resume token on unsorted ones). Entries
 * changed during a walk may or may not be seen, but none is seen twice and none that existed
 * throughout is skipped. Keys and values handed out are the caller's to keep.
 *
 * Async-only engines (`db.capabilities.sync === false`, e.g. a remote store) refuse every sync
 * data method with NOT_SUPPORTED; use their twins under `db.promises`. `close()` works on every
 * engine.
 *
 * Both classes are thin: each method is one call into the shared code under internal/ (ops.ts
 * for single engine calls, walk.ts for walks), which checks and encodes arguments once for both.
 */
import type { BatchOp, Capabilities, EngineHandle, EnginePlugin } from './contract';
import type { Codec } from './encodings';
import { toPmemkvError } from './errors';
import { Access, RANGES } from './internal/access';
import { BATCH, callAsync, callSync, COUNT, DEFRAG, EXISTS, GET, GET_MANY, getSync, PUT, REMOVE } from './internal/ops';
import { iterateAsync, iterateSync, visitAsync, visitSync } from './internal/walk';
import { ownOps, Writes } from './internal/writes';
import type { AsyncChainedBatch, ChainedBatch, Transaction } from './transaction';

/** Range options of `entries`, `keys` and `values`. `limit` < 0 or Infinity means no limit. */
export interface IterateOptions<K = string | Buffer | Uint8Array> {
  gt?: K;
  gte?: K;
  lt?: K;
  lte?: K;
  reverse?: boolean;
  limit?: number;
}

/** A walk callback. Return `true` to stop the walk after this entry. */
export type EntryCallback<K, V> = (key: K, value: V) => boolean | void;

/** One operation of `batch`. */
export type BatchOperation<V> =
  | { type: 'put'; key: string | Buffer | Uint8Array; value: V | string | Buffer | Uint8Array }
  | { type: 'del'; key: string | Buffer | Uint8Array };

/** A key as methods accept it: bytes, or a value of the key encoding's type. */
type KeyInput<K> = K | string | Buffer | Uint8Array;

const GET_ALL = { name: 'getAll' };
const GET_RANGE = {
  Above: { name: 'getAbove', shape: RANGES.Above },
  EqualAbove: { name: 'getEqualAbove', shape: RANGES.EqualAbove },
  Below: { name: 'getBelow', shape: RANGES.Below },
  EqualBelow: { name: 'getEqualBelow', shape: RANGES.EqualBelow },
  Between: { name: 'getBetween', shape: RANGES.Between },
} as const;

/**
 * An open database. Every data method validates its arguments and the engine's capabilities
 * before the engine is reached:
 * @throws PmemkvError INVALID_ARGUMENT (bad argument, closed database), NOT_SUPPORTED (the engine
 *   lacks the capability, or is async-only), or the engine's error (e.g. OUT_OF_MEMORY).
 */
export class Database<K = string, V = string> {
  readonly #acc: Access<K, V>;
  readonly #writes: Writes<K, V>;
  /** The async twin of every data method; see the module comment for durability. */
  readonly promises: DatabasePromises<K, V>;

  /** @internal Use `open()`. */
  constructor(plugin: EnginePlugin, handle: EngineHandle, keys: Codec<K>, values: Codec<V>) {
    this.#acc = new Access(plugin, handle, keys, values);
    this.#writes = new Writes(this.#acc);
    this.promises = new DatabasePromises(this.#acc, this.#writes);
  }

  /** The engine's runtime name. */
  get engine(): string {
    return this.#acc.engine;
  }

  /** What the engine supports (frozen); `sync` is false for async-only engines. */
  get capabilities(): Readonly<Capabilities & { readonly sync: boolean }> {
    return this.#acc.caps;
  }

  get isOpen(): boolean {
    return this.#acc.isOpen;
  }

  /**
   * Inserts or overwrites `key`. Durable when it returns (persistent engines).
   * @throws PmemkvError OUT_OF_MEMORY when the pool is full (nothing changed), INVALID_ARGUMENT.
   */
  put(key: KeyInput<K>, value: V | string | Buffer | Uint8Array): void {
    callSync(this.#acc, PUT, key, value);
  }

  /** The value of `key`, or `undefined` when it is not there. */
  get(key: KeyInput<K>): V | undefined {
    return getSync(this.#acc, key) as V | undefined;
  }

  /**
   * The values of `keys`, in their order (`undefined` for each key that is not there), read in
   * one engine call where the engine has it (native engines). Each key is read as by `get`;
   * the keys are not read as one snapshot: a write between two keys may be seen by the later.
   */
  getMany(keys: readonly KeyInput<K>[]): (V | undefined)[] {
    return callSync(this.#acc, GET_MANY, keys) as (V | undefined)[];
  }

  /** Whether `key` is there. */
  exists(key: KeyInput<K>): boolean {
    return callSync(this.#acc, EXISTS, key);
  }

  /** Removes `key`: `true` when it was there, `false` when it was not (not an error). Durable when it returns. */
  remove(key: KeyInput<K>): boolean {
    return callSync(this.#acc, REMOVE, key);
  }

  /**
   * Applies `ops` in order: atomically (all or nothing, also across a crash) on engines with
   * `transactions`, one by one otherwise; durable when it returns. Without `ops`, returns a
   * chained batch (`put`, `del`, `clear`, `write`, `close`; see transaction.ts).
   */
  batch(ops: readonly BatchOperation<V>[]): void;
  batch(): ChainedBatch<K, V>;
  batch(ops?: readonly BatchOperation<V>[]): void | ChainedBatch<K, V> {
    if (ops === undefined) return this.#writes.chainedBatch();
    callSync(this.#acc, BATCH, ops);
  }

  /**
   * A transaction (pmemkv's tx API): `put` and `remove` are buffered, invisible to readers, and
   * applied atomically and durably by `commit()` (or `promises.commit()`), discarded by
   * `abort()`. Closing the database aborts the transactions still open on it.
   * @throws PmemkvError NOT_SUPPORTED on engines without atomic batches (`capabilities.transactions`).
   */
  transaction(): Transaction<K, V> {
    return this.#writes.transaction();
  }

  /**
   * Defragments `amountPercent` of the pool starting at `startPercent` (0..100 each, sum <= 100).
   * @throws PmemkvError NOT_SUPPORTED (engine without defrag), INVALID_ARGUMENT, DEFRAG_ERROR.
   */
  defrag(startPercent = 0, amountPercent = 100): void {
    callSync(this.#acc, DEFRAG, startPercent, amountPercent);
  }

  /** Number of entries. */
  countAll(): number {
    return callSync(this.#acc, COUNT.All);
  }
  /** Number of keys `> key` (sorted engines). */
  countAbove(key: KeyInput<K>): number {
    return callSync(this.#acc, COUNT.Above, key);
  }
  /** Number of keys `>= key` (sorted engines). */
  countEqualAbove(key: KeyInput<K>): number {
    return callSync(this.#acc, COUNT.EqualAbove, key);
  }
  /** Number of keys `< key` (sorted engines). */
  countBelow(key: KeyInput<K>): number {
    return callSync(this.#acc, COUNT.Below, key);
  }
  /** Number of keys `<= key` (sorted engines). */
  countEqualBelow(key: KeyInput<K>): number {
    return callSync(this.#acc, COUNT.EqualBelow, key);
  }
  /** Number of keys strictly between `key1` and `key2` (sorted engines); 0 when `key1 >= key2`. */
  countBetween(key1: KeyInput<K>, key2: KeyInput<K>): number {
    return callSync(this.#acc, COUNT.Between, key1, key2);
  }

  /**
   * Calls `cb(key, value)` for every entry (in key order on sorted engines). Returns `true` when
   * the callback returned `true` and so stopped the walk (pmemkv's STOPPED_BY_CB), else `false`.
   * An exception thrown by `cb` ends the walk and reaches the caller unchanged.
   */
  getAll(cb: EntryCallback<K, V>): boolean {
    return visitSync(this.#acc, GET_ALL, [], cb);
  }
  /** Walks keys `> key` in order. */
  getAbove(key: KeyInput<K>, cb: EntryCallback<K, V>): boolean {
    return visitSync(this.#acc, GET_RANGE.Above, [key], cb);
  }
  /** Walks keys `>= key` in order. */
  getEqualAbove(key: KeyInput<K>, cb: EntryCallback<K, V>): boolean {
    return visitSync(this.#acc, GET_RANGE.EqualAbove, [key], cb);
  }
  /** Walks keys `< key` in order. */
  getBelow(key: KeyInput<K>, cb: EntryCallback<K, V>): boolean {
    return visitSync(this.#acc, GET_RANGE.Below, [key], cb);
  }
  /** Walks keys `<= key` in order. */
  getEqualBelow(key: KeyInput<K>, cb: EntryCallback<K, V>): boolean {
    return visitSync(this.#acc, GET_RANGE.EqualBelow, [key], cb);
  }
  /** Walks keys strictly between `key1` and `key2` in order (nothing when `key1 >= key2`). */
  getBetween(key1: KeyInput<K>, key2: KeyInput<K>, cb: EntryCallback<K, V>): boolean {
    return visitSync(this.#acc, GET_RANGE.Between, [key1, key2], cb);
  }

  /**
   * `[key, value]` pairs of `range`, in key order on sorted engines (any order otherwise).
   * Options are checked at the first `next()`.
   */
  entries(range?: IterateOptions<KeyInput<K>>): IterableIterator<[K, V]> {
    return iterateSync(this.#acc, 'entries', range);
  }
  /** The keys of `range`, as `entries`. */
  keys(range?: IterateOptions<KeyInput<K>>): IterableIterator<K> {
    return iterateSync(this.#acc, 'keys', range);
  }
  /** The values of `range`, as `entries`. */
  values(range?: IterateOptions<KeyInput<K>>): IterableIterator<V> {
    return iterateSync(this.#acc, 'values', range);
  }
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * Closes the database. Idempotent. The engine's pool closes once every database open on it
   * (in any thread) is closed and no async work on it is in flight.
   */
  close(): void {
    if (this.#acc.isOpen) this.#writes.abortAll();
    const h = this.#acc.detach();
    if (h === null) return;
    try {
      h.close();
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The async twins of Database's data methods (`db.promises`), run off the JS thread by native
 * engines (in parallel on concurrent engines). Arguments are encoded and copied before the
 * method returns, so callers may reuse their buffers at once. Bad input rejects; no method
 * throws synchronously. On async-only engines these are the only data methods.
 */
export class DatabasePromises<K, V> {
  readonly #acc: Access<K, V>;
  readonly #writes: Writes<K, V>;

  /** @internal */
  constructor(acc: Access<K, V>, writes: Writes<K, V>) {
    this.#acc = acc;
    this.#writes = writes;
  }

  /**
   * Inserts or overwrites `key`; resolves when the write is durable. On engines with atomic
   * batches, puts and batches issued while an earlier group is persisting are committed
   * together as one transaction (group commit); each promise still resolves only once its own
   * write is durable.
   */
  put(key: KeyInput<K>, value: V | string | Buffer | Uint8Array): Promise<void> {
    if (!this.#writes.grouped) return callAsync(this.#acc, PUT, key, value);
    let ops: BatchOp[];
    try {
      this.#acc.handle();
      ops = ownOps([{ type: 'put', key: this.#acc.key(key), value: this.#acc.value(value) }]);
    } catch (err) {
      return Promise.reject(toPmemkvError(err));
    }
    return this.#writes.applyAsync(ops);
  }
  get(key: KeyInput<K>): Promise<V | undefined> {
    return callAsync(this.#acc, GET, key) as Promise<V | undefined>;
  }
  /** As `Database.getMany`; the keys are read off the JS thread, each as by `promises.get`. */
  getMany(keys: readonly KeyInput<K>[]): Promise<(V | undefined)[]> {
    return callAsync(this.#acc, GET_MANY, keys) as Promise<(V | undefined)[]>;
  }
  exists(key: KeyInput<K>): Promise<boolean> {
    return callAsync(this.#acc, EXISTS, key);
  }
  remove(key: KeyInput<K>): Promise<boolean> {
    return callAsync(this.#acc, REMOVE, key);
  }
  /** As `db.batch(ops)` (grouped with other async writes, as `put`); without `ops`, a chained batch whose `write()` returns a Promise. */
  batch(ops: readonly BatchOperation<V>[]): Promise<void>;
  batch(): AsyncChainedBatch<K, V>;
  batch(ops?: readonly BatchOperation<V>[]): Promise<void> | AsyncChainedBatch<K, V> {
    if (ops === undefined) return this.#writes.asyncChainedBatch();
    if (!this.#writes.grouped) return callAsync(this.#acc, BATCH, ops);
    let encoded: BatchOp[];
    try {
      this.#acc.handle();
      encoded = ownOps(this.#acc.batchOps(ops));
    } catch (err) {
      return Promise.reject(toPmemkvError(err));
    }
    return this.#writes.applyAsync(encoded);
  }
  defrag(startPercent = 0, amountPercent = 100): Promise<void> {
    return callAsync(this.#acc, DEFRAG, startPercent, amountPercent);
  }

  countAll(): Promise<number> {
    return callAsync(this.#acc, COUNT.All);
  }
  countAbove(key: KeyInput<K>): Promise<number> {
    return callAsync(this.#acc, COUNT.Above, key);
  }
  countEqualAbove(key: KeyInput<K>): Promise<number> {
    return callAsync(this.#acc, COUNT.EqualAbove, key);
  }
  countBelow(key: KeyInput<K>): Promise<number> {
    return callAsync(this.#acc, COUNT.Below, key);
  }
  countEqualBelow(key: KeyInput<K>): Promise<number> {
    return callAsync(this.#acc, COUNT.EqualBelow, key);
  }
  countBetween(key1: KeyInput<K>, key2: KeyInput<K>): Promise<number> {
    return callAsync(this.#acc, COUNT.Between, key1, key2);
  }

  /** Async walk in chunks; the callback runs on the JS thread between chunks. */
  getAll(cb: EntryCallback<K, V>): Promise<boolean> {
    return visitAsync(this.#acc, GET_ALL, [], cb);
  }
  getAbove(key: KeyInput<K>, cb: EntryCallback<K, V>): Promise<boolean> {
    return visitAsync(this.#acc, GET_RANGE.Above, [key], cb);
  }
  getEqualAbove(key: KeyInput<K>, cb: EntryCallback<K, V>): Promise<boolean> {
    return visitAsync(this.#acc, GET_RANGE.EqualAbove, [key], cb);
  }
  getBelow(key: KeyInput<K>, cb: EntryCallback<K, V>): Promise<boolean> {
    return visitAsync(this.#acc, GET_RANGE.Below, [key], cb);
  }
  getEqualBelow(key: KeyInput<K>, cb: EntryCallback<K, V>): Promise<boolean> {
    return visitAsync(this.#acc, GET_RANGE.EqualBelow, [key], cb);
  }
  getBetween(key1: KeyInput<K>, key2: KeyInput<K>, cb: EntryCallback<K, V>): Promise<boolean> {
    return visitAsync(this.#acc, GET_RANGE.Between, [key1, key2], cb);
  }

  /** Async iteration (`for await`), in key order on sorted engines. Options are checked at the first `next()`. */
  entries(range?: IterateOptions<KeyInput<K>>): AsyncIterableIterator<[K, V]> {
    return iterateAsync(this.#acc, 'entries', range);
  }
  keys(range?: IterateOptions<KeyInput<K>>): AsyncIterableIterator<K> {
    return iterateAsync(this.#acc, 'keys', range);
  }
  values(range?: IterateOptions<KeyInput<K>>): AsyncIterableIterator<V> {
    return iterateAsync(this.#acc, 'values', range);
  }
}
