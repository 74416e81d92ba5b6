/**
 * The one small interface every measured store sits behind: a pmemkv engine or a peer.
 *
 * Methods return a value for synchronous stores and a Promise for asynchronous ones; the
 * workload loops await only what is a Promise, so a synchronous store pays no microtask per
 * operation. Every store copies the key and value buffers before a call returns (callers reuse
 * them), and every write is durable in the store's own sense (`StoreDriver.durability`) once it
 * returns or its promise resolves.
 *
 * Threads: a Store belongs to the thread that opened it. Drivers with `sharedByThreads` may be
 * opened on the same path by worker threads (src/worker.ts) while the main thread holds it open.
 */

export type MaybePromise<T> = T | Promise<T>;

export interface Store {
  put(key: Buffer, value: Buffer): MaybePromise<void>;
  /** The value, or undefined when the key is not there. The buffer belongs to the caller. */
  get(key: Buffer): MaybePromise<Buffer | undefined>;
  /** Removes the key; a missing key is not an error (no store is asked whether it was there). */
  remove(key: Buffer): MaybePromise<void>;
  /**
   * An async put whose promise resolves once the write is durable, for `fillasync` (many in
   * flight at once). Absent on stores without one.
   */
  putAsync?(key: Buffer, value: Buffer): Promise<void>;
  /** Writes every pair in one call; atomically when the driver's `atomicBatch` is true. */
  batch(keys: readonly Buffer[], values: readonly Buffer[]): MaybePromise<void>;
  /**
   * A get that runs off this thread, so several may run alongside a write of the same thread.
   * Present only on stores whose driver is not `sharedByThreads` (readwhilewriting uses it).
   */
  getConcurrent?(key: Buffer): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

export type StoreKind = 'engine' | 'peer';

/** What the bench knows about one kind of store before and after opening it. */
export interface StoreDriver {
  /** Engine name (`cmap`) or peer name (`lmdb`, `classic-level`). */
  readonly name: string;
  readonly kind: StoreKind;
  /** Package and version, e.g. `lmdb 3.5.6`. */
  readonly version: string;
  /** What a returned write guarantees, in words, and how each operation is called. */
  readonly durability: string;
  readonly methods: string;
  readonly atomicBatch: boolean;
  /** Concurrent calls from several threads run in parallel (the thread-scaling run applies). */
  readonly concurrent: boolean;
  /** Worker threads may open the same path while another thread has it open. */
  readonly sharedByThreads: boolean;
  /** Engine capabilities as reported by core (engines only). */
  readonly capabilities?: Readonly<Record<string, unknown>>;
  /**
   * Opens the store at `path`: a fresh, empty one when `create` (nothing may exist at `path`),
   * else the existing one.
   */
  open(path: string, create: boolean): Promise<Store>;
  /** Removes every file of the store at `path`; a missing store is not an error. */
  destroy(path: string): void;
}

export function isPromise<T>(x: MaybePromise<T>): x is Promise<T> {
  return x instanceof Promise;
}
