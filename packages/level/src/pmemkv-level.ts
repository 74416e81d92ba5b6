/**
 * PmemkvLevel: an abstract-level database over one of pmemkv's sorted engines, so a
 * persistent-memory key-value store can go wherever a level database is accepted (sublevels,
 * level-read-stream, ...).
 *
 *   const db = new PmemkvLevel('/dev/shm/app.pool', { engine: 'tree3', size: 64 * 2 ** 20 });
 *   await db.put('a', '1');
 *
 * The location is the engine's `path` (a pool file; for vmap an optional directory for its
 * heap file). Every other option that is a pmemkv config key (`size`, the engine's own keys)
 * goes to the engine; the rest is abstract-level's (encodings, createIfMissing, errorIfExists,
 * userland options forwarded to hooks).
 *
 * Durability: on a persistent engine a write is durable when its promise resolves: it survives
 * a crash of the process (and, on real persistent memory or an ordinary file, a power loss).
 * `batch()` (array and chained) is atomic, also across a crash, where the engine has
 * transactions (`db.supports.atomicBatch`); elsewhere (vmap) it is applied operation by
 * operation and a failing operation leaves the earlier ones applied.
 *
 * pmemkv's calls are synchronous and take microseconds: every method here does its engine work
 * on the calling turn and returns a settled promise, so writes apply in call order and a read
 * sees every write called before it. `getSync()` is the same read without a promise.
 *
 * Thread-safety: a PmemkvLevel belongs to the JS thread that created it; worker threads open
 * their own on the same location (persistent engines share one pool).
 */
import { AbstractLevel, type AbstractDatabaseOptions } from 'abstract-level';
import { open, PmemkvError, type Capabilities, type Database, type EnginePlugin } from '@pmemkv/core';
import { invalidKey, levelError, openFailure } from './errors';
import { PmemkvIterator, PmemkvKeyIterator, PmemkvValueIterator } from './iterators';
import { splitOptions } from './options';
import { bytesOf, decoderFor, type Encoded } from './range-reader';

/** Keys removed per engine call (and per transaction, where batches are atomic) by `clear()`. */
const CLEAR_CHUNK = 1024;

type Options = Readonly<Record<string, unknown>>;
type BatchOp = { readonly type: 'put' | 'del'; readonly key: Encoded; readonly value?: Encoded };

/**
 * Volatile instances kept by closed PmemkvLevels (see `_close`), closed when their PmemkvLevel
 * is garbage-collected. The held value is the core database alone, never the PmemkvLevel.
 */
const retained = new FinalizationRegistry<Database<Buffer, Buffer>>((store) => {
  try {
    store.close();
  } catch {
    // Nothing is waiting for this close; the instance is gone either way.
  }
});

/**
 * Constructor options: abstract-level's (encodings, createIfMissing default true, errorIfExists
 * default false, passive), the engine name, and pmemkv config keys (`size`, the engine's own);
 * any other key is a userland option that abstract-level forwards to `open()` and its hooks.
 */
export interface PmemkvLevelOptions<K = string, V = string> extends AbstractDatabaseOptions<K, V> {
  /** The engine's runtime name; default `'tree3'`. It must be sorted (tree3, stree, csmap, radix, vmap). */
  engine?: string;
  /** Pool size in bytes, needed to create a pool (at least 8 MiB); ignored when it exists. */
  size?: number;
  [key: string]: unknown;
}

/** abstract-level's manifest, plus `atomicBatch`: whether `batch()` is all or nothing (engine transactions). */
export type PmemkvManifest = AbstractLevel<Encoded>['supports'] & { readonly atomicBatch: boolean };

export class PmemkvLevel<KDefault = string, VDefault = string> extends AbstractLevel<Encoded, KDefault, VDefault> {
  declare readonly supports: PmemkvManifest;
  readonly #location: string | undefined;
  readonly #plugin: EnginePlugin;
  readonly #config: Options;
  #store: Database<Buffer, Buffer> | null = null;

  /**
   * @param location the pool file (persistent engines; required), or for vmap an existing
   *   directory for its heap file (optional: without it the data lives in DRAM).
   * @throws PmemkvError WRONG_ENGINE_NAME (the engine is not installed), NOT_SUPPORTED (the
   *   engine is not sorted, or async-only), INVALID_ARGUMENT (an option PmemkvLevel sets itself).
   * @throws TypeError a location that is not a string.
   */
  constructor(location?: string | PmemkvLevelOptions<KDefault, VDefault>, options?: PmemkvLevelOptions<KDefault, VDefault>) {
    if (typeof location === 'object' && location !== null && options === undefined) {
      options = location;
      location = undefined;
    }
    if (location !== undefined && (typeof location !== 'string' || location === '')) {
      throw new TypeError("The first argument 'location' must be a non-empty string (the pool file)");
    }
    const { plugin, config, forward } = splitOptions((options ?? {}) as Options);
    const caps: Capabilities = plugin.capabilities;
    super(
      {
        encodings: { buffer: true, view: true, utf8: true },
        has: true,
        getSync: true,
        seek: true,
        implicitSnapshots: false,
        explicitSnapshots: false,
        permanence: caps.persistent,
        createIfMissing: caps.persistent,
        errorIfExists: caps.persistent,
        // Not a level-supports flag: whether batch() is all or nothing (engine transactions).
        atomicBatch: caps.transactions,
        additionalMethods: {},
      } as never,
      forward as never,
    );
    this.#location = location;
    this.#plugin = plugin;
    this.#config = config;
  }

  /** The pool file (or vmap's heap directory) given to the constructor. */
  get location(): string | undefined {
    return this.#location;
  }

  /** The engine's runtime name (`tree3`, ...). */
  get engine(): string {
    return this.#plugin.name;
  }

  /** The engine's capabilities as core reports them. */
  get capabilities(): Readonly<Capabilities> {
    return this.#plugin.capabilities;
  }

  async _open(options: { createIfMissing: boolean; errorIfExists: boolean }): Promise<void> {
    if (this.#store !== null) return; // a volatile instance kept across close() (see _close)
    const config: Record<string, unknown> = { ...this.#config };
    if (this.#location !== undefined) config.path = this.#location;
    const exclusive = options.errorIfExists && !options.createIfMissing;
    if (this.#plugin.capabilities.persistent) {
      if (options.errorIfExists && options.createIfMissing) config.create_or_error_if_exists = true;
      else if (options.createIfMissing) config.create_if_missing = true;
    }
    let store: Database<Buffer, Buffer>;
    try {
      store = open(this.#plugin.name, config, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    } catch (err) {
      throw openFailure(err);
    }
    if (exclusive && this.#plugin.capabilities.persistent) {
      // pmemkv has no "open only if it does not exist" mode: the pool opened, so it exists.
      store.close();
      throw new PmemkvError('INVALID_ARGUMENT', `pool file ${this.#location} already exists (errorIfExists): remove it, or open it without errorIfExists`);
    }
    if (!this.#plugin.capabilities.persistent) retained.register(this, store);
    this.#store = store;
  }

  /**
   * Closes the pool. A volatile engine's instance is kept instead, so that close() and open()
   * of the same PmemkvLevel keep its data, as memory-level does (`supports.permanence` is false:
   * nothing outlives the object); it is freed when the PmemkvLevel is garbage-collected.
   */
  async _close(): Promise<void> {
    const store = this.#store;
    if (store !== null && !this.#plugin.capabilities.persistent) return;
    this.#store = null;
    try {
      store?.close();
    } catch (err) {
      throw levelError(err, 'read');
    }
  }

  /** The open core database; abstract-level calls private methods only while open. */
  #db(): Database<Buffer, Buffer> {
    return this.#store!;
  }

  /** Refuses a key the engine cannot hold, as LEVEL_INVALID_KEY, before the engine is reached. */
  #checkKey(key: Encoded): void {
    const caps = this.#plugin.capabilities;
    if (caps.maxKeySize === undefined && caps.fixedSize === undefined) return;
    const n = typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : key.byteLength;
    if (caps.maxKeySize !== undefined && n > caps.maxKeySize) {
      throw invalidKey(`the ${this.engine} engine takes keys of at most ${caps.maxKeySize} bytes; this key has ${n}`);
    }
    if (caps.fixedSize !== undefined && n !== caps.fixedSize) {
      throw invalidKey(`the ${this.engine} engine takes keys of exactly ${caps.fixedSize} bytes; this key has ${n}`);
    }
  }

  _getSync(key: Encoded, options: Options): Encoded | undefined {
    let value: Buffer | undefined;
    try {
      value = this.#db().get(key);
    } catch (err) {
      throw levelError(err, 'read');
    }
    return value === undefined ? undefined : decoderFor(options.valueEncoding)(value);
  }

  async _get(key: Encoded, options: Options): Promise<Encoded | undefined> {
    return this._getSync(key, options);
  }

  async _getMany(keys: readonly Encoded[], options: Options): Promise<(Encoded | undefined)[]> {
    const db = this.#db();
    const decode = decoderFor(options.valueEncoding);
    try {
      return db.getMany(keys).map((value) => (value === undefined ? undefined : decode(value)));
    } catch (err) {
      throw levelError(err, 'read');
    }
  }

  async _has(key: Encoded): Promise<boolean> {
    try {
      return this.#db().exists(key);
    } catch (err) {
      throw levelError(err, 'read');
    }
  }

  async _hasMany(keys: readonly Encoded[]): Promise<boolean[]> {
    const db = this.#db();
    try {
      return keys.map((key) => db.exists(key));
    } catch (err) {
      throw levelError(err, 'read');
    }
  }

  async _put(key: Encoded, value: Encoded): Promise<void> {
    this.#checkKey(key);
    try {
      this.#db().put(key, value);
    } catch (err) {
      throw levelError(err, 'write');
    }
  }

  async _del(key: Encoded): Promise<void> {
    this.#checkKey(key);
    try {
      this.#db().remove(key);
    } catch (err) {
      throw levelError(err, 'read');
    }
  }

  /** Atomic (all or nothing, across a crash too) where `supports.atomicBatch`; see the module comment. */
  async _batch(operations: readonly BatchOp[]): Promise<void> {
    for (const op of operations) this.#checkKey(op.key);
    try {
      this.#db().batch(operations as never);
    } catch (err) {
      throw levelError(err, 'write');
    }
  }

  _iterator(options: Options): PmemkvIterator {
    return new PmemkvIterator(this, this.#db(), options);
  }

  _keys(options: Options): PmemkvKeyIterator {
    return new PmemkvKeyIterator(this, this.#db(), options);
  }

  _values(options: Options): PmemkvValueIterator {
    return new PmemkvValueIterator(this, this.#db(), options);
  }

  /**
   * Removes the keys of a range (with `reverse` and `limit`), in chunks of CLEAR_CHUNK keys,
   * all on the calling turn: writes called after `clear()` are not affected. Each chunk is one
   * atomic batch where batches are atomic; a crash midway leaves a prefix of the range removed.
   */
  async _clear(options: Options): Promise<void> {
    const db = this.#db();
    const reverse = options.reverse === true;
    const limit = typeof options.limit === 'number' && options.limit >= 0 ? options.limit : Infinity;
    const range: Record<string, unknown> = {};
    for (const name of ['gt', 'gte', 'lt', 'lte']) {
      const bound = options[name];
      if (bound !== undefined && bound !== null) range[name] = bytesOf(bound as Encoded);
    }
    // gte and lte win over gt and lt, as in iterators.
    if (range.gte !== undefined) delete range.gt;
    if (range.lte !== undefined) delete range.lt;
    const atomic = this.#plugin.capabilities.transactions;
    try {
      for (let removed = 0; removed < limit; ) {
        const keys = [...db.keys({ ...range, reverse, limit: Math.min(CLEAR_CHUNK, limit - removed) })];
        if (keys.length === 0) break;
        if (atomic) db.batch(keys.map((key) => ({ type: 'del', key })));
        else for (const key of keys) db.remove(key);
        removed += keys.length;
        // Resume after the last key removed, so keys put meanwhile by other threads cannot
        // keep the walk going.
        const last = keys[keys.length - 1];
        if (reverse) {
          delete range.lte;
          range.lt = last;
        } else {
          delete range.gte;
          range.gt = last;
        }
      }
    } catch (err) {
      throw levelError(err, 'write');
    }
  }
}
